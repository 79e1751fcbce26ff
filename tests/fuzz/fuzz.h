/* fuzz.h — the libFuzzer entry point every tests/fuzz/fuzz_<target>.c defines.
 *
 * Each target is built twice: with clang -fsanitize=fuzzer,address,undefined by `make fuzz`
 * (libFuzzer supplies main), and with the normal compiler into a replay program by
 * `make check` (replay.c supplies main and feeds it tests/fuzz/corpus/<target>/). */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Run one input.  Returns 0; a bug shows as a crash, a sanitizer report or an abort(). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property that must hold whatever the input: abort() with a message so that both
 * libFuzzer and the replay program report it as a crash. */
#define FUZZ_ASSERT(cond)                                                                       \
        do {                                                                                    \
                if (!(cond))                                                                    \
                        fuzz_assert_failed(__FILE__, __LINE__, #cond);                          \
        } while (0)

static inline __attribute__((noreturn)) void fuzz_assert_failed(const char *file, int line, const char *what) {
        fprintf(stderr, "%s:%d: property violated: %s\n", file, line, what);
        abort();
}
