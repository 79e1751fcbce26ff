/* test_client.c — the command line of both programs as a newcomer meets it: supervisorctl
 * finds the daemon's socket in a config whose services are broken, `--help` and
 * `--version` on both programs, `version` without a daemon, and a missing default config
 * that names the installed example (issue 15). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

/* supervisorctl -c CONF ARGS... (NULL-terminated), output into out. */
static int ctl_with_config(const char *conf, char *out, size_t size, ...) {
        char *argv[16];
        int argc = 0;
        argv[argc++] = (char *)supervisorctl_path();
        argv[argc++] = "-c";
        argv[argc++] = (char *)conf;
        va_list ap;
        va_start(ap, size);
        for (char *a; argc < 15 && (a = va_arg(ap, char *));)
                argv[argc++] = a;
        va_end(ap);
        argv[argc] = NULL;
        return run_capture(argv, out, size);
}

/* A service key misspelt after the daemon started: the client only needs `socket`. */
START_TEST(test_broken_service_does_not_lock_the_client_out) {
        struct daemon d;
        char out[4096];
        daemon_init(&d);
        daemon_write_config(&d, "service app {\n command = \"sleep 1000\"\n start-secs = 0.1\n}\n");
        daemon_start(&d);
        ck_assert(wait_for_state(&d, "app", "RUNNING", 10000));

        daemon_write_config(&d, "service app {\n comand = \"sleep 1000\"\n start-secs = 0.1\n}\n");
        int r = ctl_with_config(d.conf, out, sizeof out, "status", NULL);
        ck_assert_msg(r == 0 && strstr(out, "app") && strstr(out, "RUNNING"), "status: exit %d, output: %s", r, out);
        r = ctl_with_config(d.conf, out, sizeof out, "stop", "app", NULL);
        ck_assert_msg(r == 0 && strcmp(out, "app: stopped\n") == 0, "stop: exit %d, output: %s", r, out);
        ck_assert_str_eq(service_state_of(&d, "app", out, sizeof out), "STOPPED");

        /* The daemon is the one to judge the whole file: a reload refuses it, changing nothing. */
        r = ctl_with_config(d.conf, out, sizeof out, "update", NULL);
        char expected[512];
        snprintf(expected, sizeof expected, "%s:5: no such option 'comand'", d.conf);
        ck_assert_msg(r == 1 && strstr(out, expected), "update: exit %d, output: %s (expected exit 1 and %s)", r, out,
                      expected);
        daemon_cleanup(&d);
}
END_TEST

/* Comments, strings and sections hide what looks like `socket`; the global one counts,
 * and a bad one is reported at its line. */
START_TEST(test_socket_setting_is_read_alone) {
        struct daemon d;
        char out[4096];
        daemon_init(&d);
        daemon_write_config(&d, "service app {\n command = \"sleep 1000\"\n}\n");
        daemon_start(&d);
        FILE *f = fopen(d.conf, "w");
        ck_assert_ptr_nonnull(f);
        fprintf(f, "# socket = /nowhere/a\n"
                   "/* socket = \"/nowhere/b\" */\n"
                   "service app { command = \"socket = /nowhere/c\"\n"
                   "  socket = /nowhere/d }\n"
                   "service broken { comand = 'x' } }\n"
                   "socket = \"%s\"\n"
                   "junk junk junk\n",
                d.sock);
        ck_assert_int_eq(fclose(f), 0);
        int r = ctl_with_config(d.conf, out, sizeof out, "pid", NULL);
        ck_assert_msg(r == 0 && atoi(out) == (int)d.pid, "pid: exit %d, output: %s (daemon %d)", r, out, (int)d.pid);

        f = fopen(d.conf, "w");
        ck_assert_ptr_nonnull(f);
        fprintf(f, "log-level = info\n\nsocket = run/sock\nservice x { comand = 1 }\n");
        ck_assert_int_eq(fclose(f), 0);
        r = ctl_with_config(d.conf, out, sizeof out, "status", NULL);
        char expected[512];
        snprintf(expected, sizeof expected, "supervisorctl: %s:3: socket: 'run/sock' is not an absolute path\n", d.conf);
        ck_assert_msg(r == 2 && strcmp(out, expected) == 0, "exit %d, output: %s", r, out);
        daemon_cleanup(&d);
}
END_TEST

static void check_prints(char *const argv[], const char *expected_start) {
        char out[4096];
        int r = run_capture(argv, out, sizeof out);
        ck_assert_msg(r == 0 && strncmp(out, expected_start, strlen(expected_start)) == 0,
                      "%s %s: exit %d, output: %s (expected exit 0 and '%s...')", argv[0], argv[1], r, out,
                      expected_start);
}

START_TEST(test_help_and_version) {
        const char *d = supervisord_path(), *c = supervisorctl_path();
        check_prints((char *[]){ (char *)d, "--help", NULL }, "usage: supervisord");
        check_prints((char *[]){ (char *)d, "-h", NULL }, "usage: supervisord");
        check_prints((char *[]){ (char *)d, "--version", NULL }, "supervisord " SUPERVISORD_VERSION "\n");
        check_prints((char *[]){ (char *)d, "-v", NULL }, "supervisord " SUPERVISORD_VERSION "\n");
        check_prints((char *[]){ (char *)c, "--help", NULL }, "usage: supervisorctl");
        check_prints((char *[]){ (char *)c, "-h", NULL }, "usage: supervisorctl");
        check_prints((char *[]){ (char *)c, "--version", NULL }, "supervisorctl " SUPERVISORD_VERSION "\n");
        check_prints((char *[]){ (char *)c, "-v", NULL }, "supervisorctl " SUPERVISORD_VERSION "\n");
}
END_TEST

START_TEST(test_version_without_daemon) {
        char out[4096];
        int r = run_capture((char *[]){ (char *)supervisorctl_path(), "-s", "/nonexistent/sock", "version", NULL }, out,
                            sizeof out);
        ck_assert_msg(r == 7, "exit %d (expected 7, unreachable): %s", r, out);
        ck_assert_str_eq(out, "supervisorctl " SUPERVISORD_VERSION "\n"
                              "supervisorctl: cannot connect to supervisord at /nonexistent/sock: No such file or directory\n");
        r = run_capture((char *[]){ (char *)supervisorctl_path(), "-s", "/nonexistent/sock", "--json", "version", NULL },
                        out, sizeof out);
        ck_assert_int_eq(r, 7);
        ck_assert_msg(strncmp(out, "{\"supervisorctl\":\"" SUPERVISORD_VERSION "\",\"supervisord\":null}\n", 45) == 0,
                      "output: %s", out);
}
END_TEST

START_TEST(test_missing_default_config_names_the_example) {
        /* Without -c the search (supervisord's order) ends at these two. */
        if (access("/etc/supervisord.conf", F_OK) == 0 || access("/etc/supervisor/supervisord.conf", F_OK) == 0) {
                printf("skipped: /etc/supervisord.conf or /etc/supervisor/supervisord.conf exists on this machine\n");
                return;
        }
        char out[4096];
        int r = run_capture((char *[]){ (char *)supervisord_path(), "-t", NULL }, out, sizeof out);
        ck_assert_msg(r == 2 && strstr(out, "/etc/supervisord.conf: No such file or directory\n")
                              && strstr(out, "share/doc/supervisord/supervisord.conf"),
                      "exit %d, output: %s", r, out);
}
END_TEST

static Suite *client_suite(void) {
        Suite *s = suite_create("client");
        TCase *tc = tcase_create("client");
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_broken_service_does_not_lock_the_client_out);
        tcase_add_test(tc, test_socket_setting_is_read_alone);
        tcase_add_test(tc, test_help_and_version);
        tcase_add_test(tc, test_version_without_daemon);
        tcase_add_test(tc, test_missing_default_config_names_the_example);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) { return run_suite(client_suite()) ? 1 : 0; }
