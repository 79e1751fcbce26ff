/* cmdline.c — see cmdline.h.  The rules are those of POSIX sh word splitting for quotes
 * and backslashes only: no expansion of any kind, so what the config says is what runs. */
#include "cmdline.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

void strv_free(char **strv) {
        if (!strv)
                return;
        for (char **p = strv; *p; p++)
                free(*p);
        free(strv);
}

unsigned strv_length(char *const *strv) {
        unsigned n = 0;
        while (strv && strv[n])
                n++;
        return n;
}

static bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

int cmdline_split(const char *command, char ***ret_argv, const char **ret_error) {
        size_t len = strlen(command);
        /* No word is longer than the input, and there are at most len/2+1 words. */
        char **argv = calloc(len / 2 + 2, sizeof *argv);
        char *word = malloc(len + 1);
        unsigned argc = 0;
        const char *error = NULL;
        if (!argv || !word) {
                free(argv);
                free(word);
                return -ENOMEM;
        }

        const char *p = command;
        for (;;) {
                while (is_blank(*p))
                        p++;
                if (!*p)
                        break;
                size_t n = 0;
                while (*p && !is_blank(*p)) {
                        if (*p == '\'') {
                                const char *end = strchr(p + 1, '\'');
                                if (!end) {
                                        error = "unterminated single quote";
                                        goto fail;
                                }
                                memcpy(word + n, p + 1, (size_t)(end - p - 1));
                                n += (size_t)(end - p - 1);
                                p = end + 1;
                        } else if (*p == '"') {
                                p++;
                                while (*p && *p != '"') {
                                        if (*p == '\\' && p[1] && strchr("\"\\$`\n", p[1])) {
                                                if (p[1] != '\n')
                                                        word[n++] = p[1];
                                                p += 2;
                                        } else
                                                word[n++] = *p++;
                                }
                                if (*p != '"') {
                                        error = "unterminated double quote";
                                        goto fail;
                                }
                                p++;
                        } else if (*p == '\\') {
                                if (!p[1]) {
                                        error = "trailing backslash";
                                        goto fail;
                                }
                                if (p[1] != '\n')
                                        word[n++] = p[1];
                                p += 2;
                        } else
                                word[n++] = *p++;
                }
                argv[argc] = strndup(word, n);
                if (!argv[argc]) {
                        strv_free(argv);
                        free(word);
                        return -ENOMEM;
                }
                argc++;
        }
        if (argc == 0) {
                error = "empty command";
                goto fail;
        }
        free(word);
        /* Room was made for the most words the text could hold: kept for every service. */
        char **fit = realloc(argv, (argc + 1) * sizeof *argv);
        *ret_argv = fit ? fit : argv;
        return 0;

fail:
        strv_free(argv);
        free(word);
        if (ret_error)
                *ret_error = error;
        return -EINVAL;
}
