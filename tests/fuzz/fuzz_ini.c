/* fuzz_ini.c — ini_parse() and ini_expand() on arbitrary text: supervisord's INI syntax.
 *
 * Beyond "no crash, no leak" it checks what every reader of the result relies on: each
 * entry has a key and a value, keys are lower-case and never empty, line numbers lie
 * within the text, an error names the file and a line; and that expanding every value
 * with a fixed set of names either succeeds or says why, and so does reading it as a
 * command= (shlex words) and as an environment= (KEY=VALUE pairs, each with its '='). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ini.h"

static int count_lines(const char *text, size_t size) {
        int lines = 0;
        for (size_t i = 0; i < size; i++)
                if (text[i] == '\n' || (text[i] == '\r' && !(i + 1 < size && text[i + 1] == '\n')))
                        lines++;
        return lines + 1;
}

static void check_section(const struct ini_section *s, int lines) {
        FUZZ_ASSERT(s->name || s->n_entries == 0);  /* [DEFAULT] has none until it is written */
        for (size_t i = 0; i < s->n_entries; i++) {
                const struct ini_entry *e = &s->entries[i];
                FUZZ_ASSERT(e->key && *e->key && e->value && e->file);
                FUZZ_ASSERT(e->line >= 1 && e->line <= lines);
                for (const char *k = e->key; *k; k++)
                        FUZZ_ASSERT(!(*k >= 'A' && *k <= 'Z'));
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const struct ini_expansion names[] = {
                { .name = "program_name", .string = "web" }, { .name = "process_num", .number = 7 },
                { .name = "numprocs", .number = 8 },         { .name = "here", .string = "/etc/supervisor" },
                { .name = "ENV_HOME", .string = "/root" },
        };
        const char *text = (const char *)data;
        struct ini_file *ini = ini_new();
        if (!ini)
                return 0;
        char error[1024] = "";
        int r = ini_parse(ini, "fuzz.conf", text, size, error, sizeof error);
        FUZZ_ASSERT(r == 0 || r == -EINVAL || r == -ENOMEM);
        if (r < 0)
                FUZZ_ASSERT(strncmp(error, "fuzz.conf:", 10) == 0);
        int lines = count_lines(text, size);
        check_section(&ini->defaults, lines);
        for (size_t i = 0; i < ini->n_sections; i++) {
                const struct ini_section *s = ini->sections[i];
                check_section(s, lines);
                FUZZ_ASSERT(ini_find_section(ini, s->name) == s);
                for (size_t j = 0; j < s->n_entries; j++) {
                        FUZZ_ASSERT(ini_get(ini, s, s->entries[j].key) == &s->entries[j]);
                        char *expanded = NULL;
                        error[0] = '\0';
                        int x = ini_expand(s->entries[j].value, names, sizeof names / sizeof names[0], &expanded,
                                           error, sizeof error);
                        FUZZ_ASSERT(x == 0 || x == -EINVAL || x == -ENOMEM);
                        FUZZ_ASSERT(x == 0 ? expanded != NULL : error[0] != '\0');
                        free(expanded);
                        char **words = NULL;
                        error[0] = '\0';
                        x = ini_split_command(s->entries[j].value, &words, error, sizeof error);
                        FUZZ_ASSERT(x == 0 || x == -EINVAL || x == -ENOMEM);
                        FUZZ_ASSERT(x == 0 ? words != NULL : error[0] != '\0');
                        for (size_t w = 0; words && words[w]; w++)
                                free(words[w]);
                        free(words);
                        char **pairs = NULL;
                        error[0] = '\0';
                        x = ini_parse_environment(s->entries[j].value, &pairs, error, sizeof error);
                        FUZZ_ASSERT(x == 0 || x == -EINVAL || x == -ENOMEM);
                        FUZZ_ASSERT(x == 0 ? pairs != NULL : error[0] != '\0');
                        for (size_t w = 0; pairs && pairs[w]; w++) {
                                FUZZ_ASSERT(strchr(pairs[w], '=') != NULL);
                                free(pairs[w]);
                        }
                        free(pairs);
                }
        }
        ini_free(ini);
        return 0;
}
