/* fuzz_printable.c — the terminal filter (printable.c) on arbitrary service output, fed in
 * two chunks cut where the input's first byte says.
 *
 * Beyond "no crash": what comes out holds no control byte but newline and tab, is
 * well-formed UTF-8 with no C1 control, is no longer than what went in, and does not
 * depend on where the input was cut. */
#include <string.h>

#include "fuzz.h"
#include "printable.h"

static size_t run(const char *text, size_t size, size_t cut, char *out) {
        struct printable p;
        printable_init(&p, true, '?');
        size_t n = printable_filter(&p, text, cut, out);
        n += printable_filter(&p, text + cut, size - cut, out + n);
        return n + printable_finish(&p, out + n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size == 0)
                return 0;
        size_t cut = data[0] % size;
        const char *text = (const char *)data + 1;
        size--;
        if (cut > size)
                cut = size;
        char *out = malloc(size + 4), *whole = malloc(size + 4);
        if (!out || !whole) {
                free(out);
                free(whole);
                return 0;
        }
        size_t n = run(text, size, cut, out), m = run(text, size, size, whole);
        FUZZ_ASSERT(n <= size);
        FUZZ_ASSERT(n == m && memcmp(out, whole, n) == 0);
        for (size_t i = 0; i < n;) {
                unsigned char c = (unsigned char)out[i];
                FUZZ_ASSERT(c != 0x7f && (c >= 0x20 || c == '\n' || c == '\t'));
                size_t len = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
                FUZZ_ASSERT(c < 0x80 || (c >= 0xc2 && c <= 0xf4));
                FUZZ_ASSERT(i + len <= n);
                for (size_t k = 1; k < len; k++)
                        FUZZ_ASSERT(((unsigned char)out[i + k] & 0xc0) == 0x80);
                FUZZ_ASSERT(!(c == 0xc2 && (unsigned char)out[i + 1] <= 0x9f));
                i += len;
        }
        free(out);
        free(whole);
        return 0;
}
