/* fuzz_names.c — names.c on arbitrary names: the first line is the name a request gives,
 * each further line "GROUP NAME" a known process (at most 64).
 *
 * Beyond "no crash, no leak": names_match counts what it marks, a GROUP:NAME or GROUP:*
 * marks only processes of GROUP, every process is addressed by the name it is shown
 * with, and the suggestions fit their buffer and their number. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "names.h"

#define MAX_KNOWN 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *text = strndup((const char *)data, size);
        if (!text)
                return 0;
        struct process_name known[MAX_KNOWN];
        size_t n = 0;
        char *save = NULL, *spec = strtok_r(text, "\n", &save);
        for (char *line; n < MAX_KNOWN && (line = strtok_r(NULL, "\n", &save));) {
                char *space = strchr(line, ' ');
                if (!space || space == line || !space[1] || strchr(line, ':'))
                        continue;  /* names have no ':' */
                *space = '\0';
                known[n++] = (struct process_name){ .group = line, .name = space + 1 };
        }
        if (spec) {
                bool matched[MAX_KNOWN] = { false };
                size_t count = names_match(spec, known, n, matched), marked = 0;
                for (size_t i = 0; i < n; i++)
                        marked += matched[i];
                FUZZ_ASSERT(count == marked);
                const char *colon = strchr(spec, ':');
                for (size_t i = 0; colon && i < n; i++)
                        if (matched[i])
                                FUZZ_ASSERT(strlen(known[i].group) == (size_t)(colon - spec)
                                            && memcmp(known[i].group, spec, (size_t)(colon - spec)) == 0);
                char buf[64];
                size_t suggested = names_suggest(spec, known, n, 3, buf, sizeof buf);
                FUZZ_ASSERT(suggested <= 3 && strlen(buf) < sizeof buf);
                (void)name_spec_is_valid(spec);
        }
        for (size_t i = 0; i < n; i++) {
                char shown[NAME_SPEC_MAX + 2];
                name_format(&known[i], shown, sizeof shown);
                if (strlen(shown) >= sizeof shown - 1)
                        continue;  /* cut off: no name of ours is so long */
                bool matched[MAX_KNOWN] = { false };
                names_match(shown, known, n, matched);
                FUZZ_ASSERT(matched[i]);
        }
        free(text);
        return 0;
}
