/* cmdline.h — split a `command` value into argv with shell-like quoting, without a shell:
 * '...' is literal, "..." honours \" \\ \$ \` and \newline, a backslash outside quotes
 * takes the next character literally, and unquoted blanks separate words. */
#pragma once

/* On success *ret_argv is a NULL-terminated array the caller frees with strv_free().
 * Returns -EINVAL with *ret_error naming the problem (a static string) for an
 * unterminated quote, a trailing backslash or an empty command; -ENOMEM. */
int cmdline_split(const char *command, char ***ret_argv, const char **ret_error);

void strv_free(char **strv);
unsigned strv_length(char *const *strv);
