/* fuzz_cmdline.c — cmdline_split() on arbitrary text, the `command` value of a service.
 *
 * Beyond "no crash, no leak" it checks a round trip: quoting every word of a successful
 * split in single quotes and splitting again must give back the same words, which is
 * what users rely on when they quote an argument. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cmdline.h"
#include "fuzz.h"

/* WORDS joined by spaces, each in '...' (a ' inside becomes '\''). */
static char *quote_words(char **words) {
        size_t size = 1;
        for (char **w = words; *w; w++)
                size += 3 + 4 * strlen(*w);
        char *out = malloc(size), *p = out;
        if (!out)
                return NULL;
        for (char **w = words; *w; w++) {
                if (w != words)
                        *p++ = ' ';
                *p++ = '\'';
                for (const char *c = *w; *c; c++)
                        if (*c == '\'') {
                                memcpy(p, "'\\''", 4);
                                p += 4;
                        } else
                                *p++ = *c;
                *p++ = '\'';
        }
        *p = '\0';
        return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *command = strndup((const char *)data, size);  /* stops at a NUL, as config text does */
        if (!command)
                return 0;
        char **argv = NULL;
        const char *error = NULL;
        int r = cmdline_split(command, &argv, &error);
        FUZZ_ASSERT(r == 0 || r == -EINVAL || r == -ENOMEM);
        if (r == -EINVAL)
                FUZZ_ASSERT(error && *error);
        if (r == 0) {
                FUZZ_ASSERT(argv && argv[0]);
                size_t total = 0;
                for (char **w = argv; *w; w++)
                        total += strlen(*w);
                FUZZ_ASSERT(total <= strlen(command));

                char *quoted = quote_words(argv), **again = NULL;
                FUZZ_ASSERT(quoted);
                FUZZ_ASSERT(cmdline_split(quoted, &again, &error) == 0);
                FUZZ_ASSERT(strv_length(again) == strv_length(argv));
                for (unsigned i = 0; argv[i]; i++)
                        FUZZ_ASSERT(strcmp(argv[i], again[i]) == 0);
                strv_free(again);
                free(quoted);
        }
        strv_free(argv);
        free(command);
        return 0;
}
