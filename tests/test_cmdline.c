/* test_cmdline.c — unit tests for cmdline.c: shell-like splitting of `command` values
 * into argv, without a shell. */
#include <check.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include "cmdline.h"
#include "harness.h"

/* Split COMMAND and check the result is exactly the NULL-terminated list of expected words. */
static void assert_split(const char *command, ...) {
        char **argv = NULL;
        const char *error = NULL;
        int r = cmdline_split(command, &argv, &error);
        ck_assert_msg(r == 0, "cmdline_split(\"%s\") = %d (%s)", command, r, error ? error : "-");
        ck_assert_ptr_null(error);
        ck_assert_ptr_nonnull(argv);

        va_list ap;
        va_start(ap, command);
        unsigned i = 0;
        for (const char *expected; (expected = va_arg(ap, const char *)); i++) {
                ck_assert_msg(argv[i] != NULL, "cmdline_split(\"%s\"): word %u missing, expected \"%s\"",
                              command, i, expected);
                ck_assert_msg(strcmp(argv[i], expected) == 0, "cmdline_split(\"%s\"): word %u is \"%s\", expected \"%s\"",
                              command, i, argv[i], expected);
        }
        va_end(ap);
        ck_assert_msg(argv[i] == NULL, "cmdline_split(\"%s\"): unexpected extra word %u \"%s\"", command, i,
                      argv[i] ? argv[i] : "");
        ck_assert_uint_eq(strv_length(argv), i);
        strv_free(argv);
}

static void assert_split_error(const char *command, const char *expected_error) {
        char **argv = NULL;
        const char *error = NULL;
        int r = cmdline_split(command, &argv, &error);
        ck_assert_msg(r == -EINVAL, "cmdline_split(\"%s\") = %d, expected -EINVAL", command, r);
        ck_assert_ptr_nonnull(error);
        ck_assert_str_eq(error, expected_error);
        ck_assert_ptr_null(argv);  /* untouched on failure */
}

START_TEST(test_plain_words) {
        assert_split("sleep", "sleep", NULL);
        assert_split("sleep 10", "sleep", "10", NULL);
        assert_split("/bin/echo a b c", "/bin/echo", "a", "b", "c", NULL);
        assert_split("x", "x", NULL);
}
END_TEST

START_TEST(test_blanks) {
        assert_split("a  b", "a", "b", NULL);
        assert_split("  a \t\t b  ", "a", "b", NULL);
        assert_split("\ta\tb\t", "a", "b", NULL);
        assert_split("a\nb\r\nc", "a", "b", "c", NULL);
        assert_split("   lonely   ", "lonely", NULL);
}
END_TEST

START_TEST(test_single_quotes) {
        assert_split("echo 'a b'", "echo", "a b", NULL);
        assert_split("'a  \t b'", "a  \t b", NULL);
        /* Nothing is special inside single quotes, backslashes included. */
        assert_split("'a\\b'", "a\\b", NULL);
        assert_split("'a\\'", "a\\", NULL);
        assert_split("'\"$x`'", "\"$x`", NULL);
        assert_split("'#not a comment'", "#not a comment", NULL);
}
END_TEST

START_TEST(test_double_quotes) {
        assert_split("echo \"a b\"", "echo", "a b", NULL);
        assert_split("\"a'b\"", "a'b", NULL);
        /* \" \\ \$ \` are escapes ... */
        assert_split("\"a\\\"b\"", "a\"b", NULL);
        assert_split("\"a\\\\b\"", "a\\b", NULL);
        assert_split("\"\\$HOME\"", "$HOME", NULL);
        assert_split("\"\\`x\\`\"", "`x`", NULL);
        assert_split("\"\\\\\"", "\\", NULL);
        /* ... every other backslash is kept with the character after it. */
        assert_split("\"a\\nb\"", "a\\nb", NULL);
        assert_split("\"\\a\\'\"", "\\a\\'", NULL);
        assert_split("\"C:\\dir\"", "C:\\dir", NULL);
        /* Backslash-newline inside double quotes is a line continuation. */
        assert_split("\"a\\\nb\"", "ab", NULL);
        /* No expansion of any kind. */
        assert_split("\"$HOME\" $PATH *", "$HOME", "$PATH", "*", NULL);
}
END_TEST

START_TEST(test_backslash_outside_quotes) {
        assert_split("a\\ b", "a b", NULL);
        assert_split("\\'x\\'", "'x'", NULL);
        assert_split("\\\"", "\"", NULL);
        assert_split("\\\\", "\\", NULL);
        assert_split("\\n", "n", NULL);
        assert_split("a\\\tb", "a\tb", NULL);
        /* Backslash-newline outside quotes joins the lines. */
        assert_split("a\\\nb c", "ab", "c", NULL);
}
END_TEST

START_TEST(test_adjacent_parts_join) {
        assert_split("'a'\"b\"c", "abc", NULL);
        assert_split("x'a b'\"c d\"y z", "xa bc dy", "z", NULL);
        assert_split("--opt='a b'", "--opt=a b", NULL);
        assert_split("a\\ 'b c'\\ d", "a b c d", NULL);
}
END_TEST

START_TEST(test_empty_quoted_words) {
        assert_split("''", "", NULL);
        assert_split("\"\"", "", NULL);
        assert_split("a '' b", "a", "", "b", NULL);
        assert_split("a \"\" ''", "a", "", "", NULL);
        assert_split("'''' \"\"\"\"", "", "", NULL);
        /* An empty part next to text adds nothing. */
        assert_split("a''b", "ab", NULL);
}
END_TEST

START_TEST(test_many_words) {
        /* Worst case for the argv allocation: single-character words. */
        assert_split("a b c d e f g h", "a", "b", "c", "d", "e", "f", "g", "h", NULL);
        assert_split("'' '' ''", "", "", "", NULL);
}
END_TEST

START_TEST(test_errors) {
        assert_split_error("echo 'abc", "unterminated single quote");
        assert_split_error("'", "unterminated single quote");
        assert_split_error("echo \"abc", "unterminated double quote");
        assert_split_error("\"", "unterminated double quote");
        assert_split_error("\"abc\\\"", "unterminated double quote");
        assert_split_error("\"a'b", "unterminated double quote");
        assert_split_error("'a\"b", "unterminated single quote");
        assert_split_error("echo abc\\", "trailing backslash");
        assert_split_error("\\", "trailing backslash");
        assert_split_error("", "empty command");
        assert_split_error("   ", "empty command");
        assert_split_error(" \t\n ", "empty command");
}
END_TEST

START_TEST(test_error_without_ret_error) {
        char **argv = NULL;
        ck_assert_int_eq(cmdline_split("'", &argv, NULL), -EINVAL);
        ck_assert_int_eq(cmdline_split("", &argv, NULL), -EINVAL);
        ck_assert_ptr_null(argv);
}
END_TEST

START_TEST(test_strv_length) {
        char *empty[] = { NULL };
        char *three[] = { "a", "", "c", NULL };
        ck_assert_uint_eq(strv_length(NULL), 0);
        ck_assert_uint_eq(strv_length(empty), 0);
        ck_assert_uint_eq(strv_length(three), 3);
        strv_free(NULL);  /* must not crash */
}
END_TEST

static Suite *cmdline_suite(void) {
        Suite *s = suite_create("cmdline");
        TCase *tc;

        tc = tcase_create("split");
        tcase_add_test(tc, test_plain_words);
        tcase_add_test(tc, test_blanks);
        tcase_add_test(tc, test_single_quotes);
        tcase_add_test(tc, test_double_quotes);
        tcase_add_test(tc, test_backslash_outside_quotes);
        tcase_add_test(tc, test_adjacent_parts_join);
        tcase_add_test(tc, test_empty_quoted_words);
        tcase_add_test(tc, test_many_words);
        suite_add_tcase(s, tc);

        tc = tcase_create("errors");
        tcase_add_test(tc, test_errors);
        tcase_add_test(tc, test_error_without_ret_error);
        suite_add_tcase(s, tc);

        tc = tcase_create("strv");
        tcase_add_test(tc, test_strv_length);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return run_suite(cmdline_suite()) ? 1 : 0;
}
