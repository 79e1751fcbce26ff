/* test_ini.c — unit tests for ini.c: supervisord's INI syntax as Python's configparser
 * reads it, checked case by case and, for every file of the fuzz corpus
 * tests/fuzz/corpus/ini/, against Python's configparser itself (tests/ini_reference.py),
 * and %(name)s expansion as Python's `%` operator does it; `command=` split as
 * shlex.split() and `environment=` read as supervisord's dict_of_key_value_pairs(), both
 * checked against Python running them on the same texts. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "ini.h"
#include "util.h"

static struct ini_file *parse_ok(const char *text) {
        struct ini_file *ini = ini_new();
        char error[512] = "";
        ck_assert_ptr_nonnull(ini);
        int r = ini_parse(ini, "t.conf", text, strlen(text), error, sizeof error);
        ck_assert_msg(r == 0, "ini_parse = %d (%s) for:\n%s", r, error, text);
        return ini;
}

static void parse_fails(const char *text, const char *expected) {
        struct ini_file *ini = ini_new();
        char error[512] = "";
        int r = ini_parse(ini, "t.conf", text, strlen(text), error, sizeof error);
        ck_assert_msg(r == -EINVAL, "ini_parse = %d, expected -EINVAL for:\n%s", r, text);
        ck_assert_msg(strcmp(error, expected) == 0, "got      \"%s\"\nexpected \"%s\"", error, expected);
        ini_free(ini);
}

static const char *value_of(struct ini_file *ini, const char *section, const char *key) {
        const struct ini_entry *e = ini_get(ini, ini_find_section(ini, section), key);
        return e ? e->value : NULL;
}

static int line_of(struct ini_file *ini, const char *section, const char *key) {
        const struct ini_entry *e = ini_get(ini, ini_find_section(ini, section), key);
        return e ? e->line : -1;
}

START_TEST(test_comments) {
        struct ini_file *ini = parse_ok("; a comment\n# another\n[a]\nk = v ; inline\nj = x;y#z\n  ; indented comment\n"
                                        "m = #all comment\nn = ;\n");
        ck_assert_str_eq(value_of(ini, "a", "k"), "v");
        ck_assert_str_eq(value_of(ini, "a", "j"), "x;y#z");  /* only after a blank */
        ck_assert_str_eq(value_of(ini, "a", "m"), "");
        ck_assert_str_eq(value_of(ini, "a", "n"), "");
        ini_free(ini);
}
END_TEST

START_TEST(test_delimiters_and_keys) {
        struct ini_file *ini = parse_ok("[a]\nKey: v:w=x\nOther=a:b\nspaced key   =   value  \nurl=http://h:9001\n");
        ck_assert_str_eq(value_of(ini, "a", "key"), "v:w=x");
        ck_assert_str_eq(value_of(ini, "a", "other"), "a:b");
        ck_assert_str_eq(value_of(ini, "a", "spaced key"), "value");
        ck_assert_str_eq(value_of(ini, "a", "url"), "http://h:9001");
        ck_assert_ptr_null(value_of(ini, "a", "Key"));  /* keys are lower-cased, lookups exact */
        ini_free(ini);
}
END_TEST

START_TEST(test_repeats_later_wins) {
        struct ini_file *ini = parse_ok("[a]\nk = 1\n[b]\nk = 2\n[a]\nK = 3\nj = 4\n");
        ck_assert_int_eq(ini->n_sections, 2);
        ck_assert_str_eq(value_of(ini, "a", "k"), "3");
        ck_assert_int_eq(line_of(ini, "a", "k"), 6);
        ck_assert_str_eq(value_of(ini, "a", "j"), "4");
        ck_assert_str_eq(ini_find_section(ini, "a")->entries[0].key, "k");  /* keeps its place */
        ck_assert_int_eq(ini_find_section(ini, "a")->line, 1);
        ini_free(ini);
}
END_TEST

START_TEST(test_continuation) {
        struct ini_file *ini = parse_ok("[a]\nenvironment = A=1,\n    B=2,\n\n    C=3\n\n\nnext = x\n"
                                        "empty =\n  first\n");
        ck_assert_str_eq(value_of(ini, "a", "environment"), "A=1,\nB=2,\n\nC=3");
        ck_assert_str_eq(value_of(ini, "a", "next"), "x");
        ck_assert_str_eq(value_of(ini, "a", "empty"), "\nfirst");
        ini_free(ini);
        /* a line indented no deeper than its key's is a key of its own */
        ini = parse_ok("[a]\n  k = 1\n  j = 2\n    more\n");
        ck_assert_str_eq(value_of(ini, "a", "k"), "1");
        ck_assert_str_eq(value_of(ini, "a", "j"), "2\nmore");
        ini_free(ini);
        /* ... and an indented line after a section header is a key, not a value */
        ini = parse_ok("[a]\n  k = 1\n");
        ck_assert_str_eq(value_of(ini, "a", "k"), "1");
        ini_free(ini);
}
END_TEST

START_TEST(test_line_ends) {
        struct ini_file *ini = parse_ok("[a]\r\nk = 1\r\nj = 2\rm = 3");
        ck_assert_str_eq(value_of(ini, "a", "k"), "1");
        ck_assert_str_eq(value_of(ini, "a", "j"), "2");
        ck_assert_str_eq(value_of(ini, "a", "m"), "3");
        ck_assert_int_eq(line_of(ini, "a", "m"), 4);
        ini_free(ini);
}
END_TEST

START_TEST(test_headers_and_default) {
        struct ini_file *ini = parse_ok("[DEFAULT]\nuser = nobody\n[program:x]\ncommand = c\n[a]b] trailing\nk=1\n");
        ck_assert_str_eq(value_of(ini, "program:x", "user"), "nobody");  /* from [DEFAULT] */
        ck_assert_ptr_nonnull(ini_find_section(ini, "a]b"));
        ck_assert_ptr_null(ini_find_section(ini, "DEFAULT"));
        ck_assert_int_eq(ini->n_sections, 2);
        ini_free(ini);
}
END_TEST

START_TEST(test_errors) {
        parse_fails("k = v\n", "t.conf:1: 'k = v' comes before any [section] header");
        parse_fails("\n; c\n[a]\nk = 1\njunk\n", "t.conf:5: 'junk' is neither a [section] header nor KEY = VALUE");
        parse_fails("[a]\n= 1\n", "t.conf:2: '= 1' has no key before its '='");
        parse_fails("[]\n", "t.conf:1: '[]' comes before any [section] header");
        parse_fails("[a]\nk = 1\n[]\n", "t.conf:3: '[]' is neither a [section] header nor KEY = VALUE");
        char nul[] = "[a]\nk = 1\0\n";
        struct ini_file *ini = ini_new();
        char error[256];
        ck_assert_int_eq(ini_parse(ini, "t.conf", nul, sizeof nul - 1, error, sizeof error), -EINVAL);
        ck_assert_str_eq(error, "t.conf:2: NUL byte in the line");
        ini_free(ini);
}
END_TEST

START_TEST(test_two_files) {
        struct ini_file *ini = ini_new();
        char error[256];
        const char *one = "[a]\nk = 1\n", *two = "\n[a]\nj = 2\n[b]\nk = 3\n";
        ck_assert_int_eq(ini_parse(ini, "one.conf", one, strlen(one), error, sizeof error), 0);
        ck_assert_int_eq(ini_parse(ini, "conf.d/two.conf", two, strlen(two), error, sizeof error), 0);
        const struct ini_entry *j = ini_get(ini, ini_find_section(ini, "a"), "j");
        ck_assert_str_eq(j->file, "conf.d/two.conf");
        ck_assert_int_eq(j->line, 3);
        ck_assert_str_eq(ini_find_section(ini, "a")->file, "one.conf");
        ck_assert_str_eq(ini_find_section(ini, "b")->file, "conf.d/two.conf");
        ini_free(ini);
}
END_TEST

/* Our dump of PATH in ini_reference.py's form. */
static void our_dump(const char *path, char *out, size_t size) {
        struct ini_file *ini = ini_new();
        char error[512];
        size_t k = 0;
        out[0] = '\0';
        if (ini_parse_file(ini, path, error, sizeof error) < 0) {
                snprintf(out, size, "ERROR\n");
                ini_free(ini);
                return;
        }
        for (size_t i = 0; i <= ini->n_sections; i++) {
                const struct ini_section *s = i == 0 ? &ini->defaults : ini->sections[i - 1];
                if (i == 0 && s->n_entries == 0)
                        continue;
                k += (size_t)snprintf(out + k, size - k, "[%s]\n", s->name);
                for (size_t j = 0; j < s->n_entries && k < size; j++) {
                        k += (size_t)snprintf(out + k, size - k, "%s=", s->entries[j].key);
                        for (const char *v = s->entries[j].value; *v && k + 3 < size; v++) {
                                if (*v == '\\' || *v == '\n')
                                        out[k++] = '\\';
                                out[k++] = *v == '\n' ? 'n' : *v;
                        }
                        if (k + 2 < size)
                                out[k++] = '\n';
                        out[k] = '\0';
                }
        }
        ini_free(ini);
}

START_TEST(test_same_as_configparser) {
        const char *corpus = "tests/fuzz/corpus/ini";
        DIR *dir = opendir(corpus);
        ck_assert_msg(dir != NULL, "%s: cannot open (run from the top of the tree)", corpus);
        int compared = 0;
        for (struct dirent *e; (e = readdir(dir));) {
                if (e->d_name[0] == '.')
                        continue;
                char path[PATH_MAX], command[PATH_MAX + 64];
                snprintf(path, sizeof path, "%s/%s", corpus, e->d_name);
                snprintf(command, sizeof command, "python3 tests/ini_reference.py '%s'", path);
                static char theirs[1 << 16], ours[1 << 16];
                FILE *p = popen(command, "r");
                ck_assert_ptr_nonnull(p);
                size_t n = fread(theirs, 1, sizeof theirs - 1, p);
                theirs[n] = '\0';
                ck_assert_msg(pclose(p) == 0, "%s failed", command);
                our_dump(path, ours, sizeof ours);
                ck_assert_msg(strcmp(ours, theirs) == 0, "%s:\nconfigparser:\n%s\nours:\n%s", path, theirs, ours);
                compared++;
        }
        closedir(dir);
        ck_assert_int_ge(compared, 10);
}
END_TEST

static const struct ini_expansion names[] = {
        { .name = "program_name", .string = "web" }, { .name = "process_num", .number = 7 },
        { .name = "numprocs", .number = 12 },        { .name = "here", .string = "/etc/supervisor" },
        { .name = "ENV_HOME", .string = "/root" },
};

static void expands_to(const char *text, const char *expected) {
        char *out = NULL, error[512] = "";
        int r = ini_expand(text, names, ELEMENTSOF(names), &out, error, sizeof error);
        ck_assert_msg(r == 0, "ini_expand(\"%s\") = %d: %s", text, r, error);
        ck_assert_msg(strcmp(out, expected) == 0, "ini_expand(\"%s\") = \"%s\", expected \"%s\"", text, out, expected);
        free(out);
}

static void expand_fails(const char *text, const char *expected) {
        char *out = NULL, error[512] = "";
        int r = ini_expand(text, names, ELEMENTSOF(names), &out, error, sizeof error);
        ck_assert_msg(r == -EINVAL, "ini_expand(\"%s\") = %d, expected -EINVAL", text, r);
        ck_assert_msg(strcmp(error, expected) == 0, "ini_expand(\"%s\"):\ngot      \"%s\"\nexpected \"%s\"", text,
                      error, expected);
}

START_TEST(test_expand) {
        expands_to("plain", "plain");
        expands_to("", "");
        expands_to("%(program_name)s_%(process_num)02d", "web_07");
        expands_to("100%% %(here)s/x", "100% /etc/supervisor/x");
        expands_to("[%(program_name)5s|%(program_name)-5s|%(program_name).2s]", "[  web|web  |we]");
        expands_to("%(process_num)d %(process_num)03d %(process_num)-3d| %(process_num)+d %(numprocs)x %(numprocs)#X "
                   "%(numprocs)o %(process_num)s %(process_num).3d %(process_num)ld",
                   "7 007 7  | +7 c 0XC 14 7 007 7");
        expands_to("%(ENV_HOME)s", "/root");
}
END_TEST

START_TEST(test_expand_errors) {
        expand_fails("%(nope)s", "%(nope) names 'nope', which cannot be expanded; the names are: ENV_HOME, here, "
                                 "numprocs, process_num, program_name");
        expand_fails("%(program_name)d", "%(program_name)d needs a number, and program_name is a string");
        expand_fails("%(process_num)f", "%(process_num) is followed by 'f', not one of s d i u x X o");
        expand_fails("%(process_num)", "%(process_num) has no conversion (such as 's') after it");
        expand_fails("50%", "a '%' that is neither '%%' nor '%(name)s' (write %% for a %)");
        expand_fails("%s", "a '%' that is neither '%%' nor '%(name)s' (write %% for a %)");
        expand_fails("%(unclosed", "'%(' without its ')'");
        expand_fails("%(process_num)*d", "'*' as a width or precision cannot be expanded");
}
END_TEST

/* The expansions Python agrees with, checked against the `%` operator itself. */
START_TEST(test_expand_same_as_python) {
        const char *formats[] = { "%(process_num)02d", "%(process_num)-4d|", "%(process_num)+05d", "%(numprocs)#x",
                                  "%(numprocs)#o", "%(program_name)6.2s|", "%(process_num) d", "%(process_num)5.3d" };
        for (size_t i = 0; i < ELEMENTSOF(formats); i++) {
                char command[256], theirs[128] = "";
                snprintf(command, sizeof command,
                         "python3 -c 'import sys; sys.stdout.write(sys.argv[1] %% "
                         "{\"process_num\": 7, \"numprocs\": 12, \"program_name\": \"web\"})' '%s'",
                         formats[i]);
                FILE *p = popen(command, "r");
                ck_assert_ptr_nonnull(p);
                size_t n = fread(theirs, 1, sizeof theirs - 1, p);
                theirs[n] = '\0';
                ck_assert_int_eq(pclose(p), 0);
                expands_to(formats[i], theirs);
        }
}
END_TEST

/* What `python3 tests/ini_reference.py MODE TEXT...` prints, run without a shell. */
static void reference_values(const char *mode, const char *const *texts, size_t n, char *out, size_t size) {
        const char *argv[64] = { "python3", "tests/ini_reference.py", mode };
        ck_assert(n + 4 <= ELEMENTSOF(argv));
        for (size_t i = 0; i < n; i++)
                argv[3 + i] = texts[i];
        int fds[2];
        ck_assert_int_eq(pipe(fds), 0);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                dup2(fds[1], 1);
                execvp("python3", (char **)argv);
                _exit(127);
        }
        close(fds[1]);
        size_t k = 0;
        for (ssize_t r; k + 1 < size && (r = read(fds[0], out + k, size - 1 - k)) > 0;)
                k += (size_t)r;
        out[k] = '\0';
        close(fds[0]);
        int status;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "ini_reference.py %s failed", mode);
}

static void dump_values(int r, char **values, const char *error, char *out, size_t size, size_t *k) {
        if (r < 0)
                *k += (size_t)snprintf(out + *k, size - *k, "ERROR %s\n", error);
        for (char **v = r < 0 ? NULL : values; v && *v && *k + 3 < size; v++) {
                for (const char *c = *v; *c && *k + 3 < size; c++) {
                        if (*c == '\\' || *c == '\n')
                                out[(*k)++] = '\\';
                        out[(*k)++] = *c == '\n' ? 'n' : *c;
                }
                out[(*k)++] = '\n';
                out[*k] = '\0';
        }
        *k += (size_t)snprintf(out + *k, size - *k, ".\n");
        for (char **v = r < 0 ? NULL : values; v && *v; v++)
                free(*v);
        free(r < 0 ? NULL : values);
}

/* Among them the texts where a POSIX shell (cmdline.c, the native `command`) and shlex
 * disagree: "\$", "\`" and a backslash-newline. */
static const char *const commands[] = {
        "/usr/bin/php artisan queue:work --sleep=3",
        "  a   b\tc\nd  ",
        "sh -c 'echo \"$HOME\"; exit 1'",
        "a\"b c\"d 'e f'g",
        "\"\" '' x",
        "\"a\\$b\" \"a\\`b\" \"a\\\\b\" \"a\\\"b\" \"a\\nb\"",
        "a\\\nb \"c\\\nd\"",
        "a\\ b \\'c\\' \\\\",
        "'unterminated",
        "\"unterminated",
        "trailing\\",
        "\"trailing\\",
        "",
        "   ",
        "caf\xc3\xa9 \"\xe2\x82\xac\"",
        "# not a comment",
};

START_TEST(test_split_command_same_as_shlex) {
        static char theirs[1 << 14], ours[1 << 14];
        reference_values("--split", commands, ELEMENTSOF(commands), theirs, sizeof theirs);
        size_t k = 0;
        ours[0] = '\0';
        for (size_t i = 0; i < ELEMENTSOF(commands); i++) {
                char **words = NULL, error[256] = "";
                int r = ini_split_command(commands[i], &words, error, sizeof error);
                ck_assert(r == 0 || r == -EINVAL);
                dump_values(r, words, error, ours, sizeof ours, &k);
        }
        ck_assert_msg(strcmp(ours, theirs) == 0, "shlex.split:\n%s\nours:\n%s", theirs, ours);
}
END_TEST

static const char *const environments[] = {
        "K=\"v,1\",K2=v2",
        "A=1,B=2,A=3",
        "PATH=/usr/bin:/bin,HOME=/home/app",
        "A=1 B=2",
        "A=1,B",
        "A=",
        "A=''",
        "A='\"x\"'",
        "A=\"it's\"",
        "A=\"unterminated",
        "A=x#comment\n,B=2",
        "A=1;B=2",
        "A=a\"b\",C=d",
        "A=caf\xc3\xa9,B=\xe2\x82\xac",
        "A=1,,B=2",
        "",
        "KEY=v=w",
        "A=-1.5+(2):3,B=/x/y",
        " A = 1 , B = 2 ",
};

START_TEST(test_environment_same_as_supervisord) {
        static char theirs[1 << 14], ours[1 << 14];
        reference_values("--environment", environments, ELEMENTSOF(environments), theirs, sizeof theirs);
        size_t k = 0;
        ours[0] = '\0';
        for (size_t i = 0; i < ELEMENTSOF(environments); i++) {
                char **pairs = NULL, error[256] = "";
                int r = ini_parse_environment(environments[i], &pairs, error, sizeof error);
                ck_assert(r == 0 || r == -EINVAL);
                dump_values(r, pairs, error, ours, sizeof ours, &k);
        }
        ck_assert_msg(strcmp(ours, theirs) == 0, "dict_of_key_value_pairs:\n%s\nours:\n%s", theirs, ours);
}
END_TEST

static Suite *ini_suite(void) {
        Suite *s = suite_create("ini");
        TCase *tc = tcase_create("ini");
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_comments);
        tcase_add_test(tc, test_delimiters_and_keys);
        tcase_add_test(tc, test_repeats_later_wins);
        tcase_add_test(tc, test_continuation);
        tcase_add_test(tc, test_line_ends);
        tcase_add_test(tc, test_headers_and_default);
        tcase_add_test(tc, test_errors);
        tcase_add_test(tc, test_two_files);
        tcase_add_test(tc, test_same_as_configparser);
        tcase_add_test(tc, test_expand);
        tcase_add_test(tc, test_expand_errors);
        tcase_add_test(tc, test_expand_same_as_python);
        tcase_add_test(tc, test_split_command_same_as_shlex);
        tcase_add_test(tc, test_environment_same_as_supervisord);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) { return run_suite(ini_suite()) ? 1 : 0; }
