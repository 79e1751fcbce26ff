/* test_preflight.c — `supervisord -t` checks what it can without starting anything
 * (preflight.c): commands that are missing or not executable for their service's user,
 * directories that cannot be entered, user switches a non-root supervisord cannot make, a
 * log-dir that cannot be created; errors exit 2 and name FILE:LINE, warnings do not. */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

/* `supervisord -t -c CONF`, as the user RUNAS when not NULL. */
static int check_config(const char *conf, const char *runas, char *out, size_t size) {
        char uid[32], gid[32];
        if (runas) {
                struct passwd *pw = getpwnam(runas);
                ck_assert_ptr_nonnull(pw);
                snprintf(uid, sizeof uid, "--reuid=%u", (unsigned)pw->pw_uid);
                snprintf(gid, sizeof gid, "--regid=%u", (unsigned)pw->pw_gid);
                char *argv[] = { "setpriv", uid, gid, "--clear-groups", (char *)supervisord_path(), "-t", "-c",
                                 (char *)conf, NULL };
                return run_capture(argv, out, size);
        }
        char *argv[] = { (char *)supervisord_path(), "-t", "-c", (char *)conf, NULL };
        return run_capture(argv, out, size);
}

static void write_script(const char *path, mode_t mode) {
        FILE *f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fputs("#!/bin/sh\nexit 0\n", f);
        ck_assert_int_eq(fclose(f), 0);
        ck_assert_int_eq(chmod(path, mode), 0);
}

#define ASSERT_HAS(out, needle) ck_assert_msg(strstr((out), (needle)) != NULL, "no \"%s\" in:\n%s", (needle), (out))

START_TEST(test_check_commands_and_directories) {
        struct daemon d;
        char out[8192], line[1024], path[256], script[256];
        daemon_init(&d);
        snprintf(path, sizeof path, "%s/not-executable", d.dir);
        write_script(path, 0644);
        snprintf(script, sizeof script, "%s/bad-interpreter", d.dir);
        FILE *f = fopen(script, "w");
        ck_assert_ptr_nonnull(f);
        fputs("#!/nonexistent/interpreter\n", f);
        ck_assert_int_eq(fclose(f), 0);
        ck_assert_int_eq(chmod(script, 0755), 0);
        /* The harness writes 3 lines: the body starts on line 4. */
        daemon_write_config(&d,
                            "service ok {\n command = \"sh -c 'touch %s/started'\"\n}\n"          /* 4 */
                            "service typo {\n command = \"slep 10\"\n"                          /* 7 */
                            " environment = { \"PATH=/nonexistent-bin:/usr/bin:/bin\" }\n}\n"
                            "service missing {\n command = /nonexistent/binary\n}\n"            /* 11 */
                            "service noexec {\n command = %s\n}\n"                              /* 14 */
                            "service nodir {\n command = \"sleep 1\"\n directory = /nonexistent-dir\n}\n" /* 17 */
                            "service script {\n command = %s\n}\n",                             /* 22 */
                            d.dir, path, script);
        ck_assert_int_eq(check_config(d.conf, NULL, out, sizeof out), 2);
        snprintf(line, sizeof line, "%s:8: service typo: command: slep: not found in PATH (/nonexistent-bin:/usr/bin:/bin)\n",
                 d.conf);
        ASSERT_HAS(out, line);
        snprintf(line, sizeof line, "%s:12: service missing: command: /nonexistent/binary: No such file or directory\n",
                 d.conf);
        ASSERT_HAS(out, line);
        snprintf(line, sizeof line, "%s:15: service noexec: command: %s: not executable by uid 0\n", d.conf, path);
        if (geteuid() == 0)
                ASSERT_HAS(out, line);
        snprintf(line, sizeof line, "%s:19: service nodir: directory: /nonexistent-dir: No such file or directory\n",
                 d.conf);
        ASSERT_HAS(out, line);
        snprintf(line, sizeof line,
                 "%s:22: service script: command: %s: its interpreter /nonexistent/interpreter: No such file or "
                 "directory\n",
                 d.conf, script);
        ASSERT_HAS(out, line);
        ck_assert_msg(!strstr(out, "service ok"), "%s", out);
        ck_assert_msg(!strstr(out, "configuration OK"), "%s", out);
        /* nothing was started or created */
        snprintf(line, sizeof line, "%s/started", d.dir);
        ck_assert(access(line, F_OK) < 0);
        snprintf(line, sizeof line, "%s/logs", d.dir);
        ck_assert(access(line, F_OK) < 0);
        ck_assert(access(d.sock, F_OK) < 0);
        ck_assert(access(d.pidfile, F_OK) < 0);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_check_for_the_services_user) {
        struct daemon d;
        char out[8192], line[1024], path[256];
        if (geteuid() != 0 || !getpwnam("nobody"))
                return;  /* needs a second user */
        daemon_init(&d);
        snprintf(path, sizeof path, "%s/root-only", d.dir);
        write_script(path, 0700);
        daemon_write_config(&d,
                            "service asnobody {\n command = %s\n user = nobody\n}\n"  /* 4 */
                            "service asroot {\n command = %s\n}\n",                   /* 8 */
                            path, path);
        ck_assert_int_eq(chmod(d.dir, 0700), 0);
        ck_assert_int_eq(check_config(d.conf, NULL, out, sizeof out), 2);
        /* d.dir is 0700: nobody cannot even enter it */
        snprintf(line, sizeof line, "%s:5: service asnobody: command: %s: user nobody cannot enter %s\n", d.conf, path,
                 d.dir);
        ASSERT_HAS(out, line);
        ck_assert_msg(!strstr(out, "asroot"), "%s", out);
        ck_assert_int_eq(chmod(d.dir, 0755), 0);
        ck_assert_int_eq(check_config(d.conf, NULL, out, sizeof out), 2);
        snprintf(line, sizeof line, "%s:5: service asnobody: command: %s: not executable by user nobody\n", d.conf, path);
        ASSERT_HAS(out, line);
        daemon_cleanup(&d);
}
END_TEST

/* Run by a user who is not root: what that user's supervisord could not do. */
START_TEST(test_check_as_non_root) {
        struct daemon d;
        char out[8192], line[1024];
        if (geteuid() != 0 || !getpwnam("nobody"))
                return;  /* the check runs as nobody */
        daemon_init(&d);
        ck_assert_int_eq(chmod(d.dir, 0755), 0);  /* nobody reads the config, cannot write here */
        daemon_write_config(&d, "service asroot {\n command = \"sleep 1\"\n user = root\n}\n"  /* 4 */
                                "service fine {\n command = \"sleep 1\"\n}\n");
        ck_assert_int_eq(check_config(d.conf, "nobody", out, sizeof out), 2);
        struct passwd *nobody = getpwnam("nobody");
        snprintf(line, sizeof line,
                 "%s:6: service asroot: user: only supervisord running as root can switch to it (this runs as uid %u)\n",
                 d.conf, (unsigned)nobody->pw_uid);
        ASSERT_HAS(out, line);
        snprintf(line, sizeof line, "%s:3: log-dir: %s/logs: cannot be created: %s is not writable by uid %u\n", d.conf,
                 d.dir, d.dir, (unsigned)nobody->pw_uid);
        ASSERT_HAS(out, line);
        snprintf(line, sizeof line, "%s:2: pidfile: %s: its directory %s is not writable by uid %u\n", d.conf, d.pidfile,
                 d.dir, (unsigned)nobody->pw_uid);
        ASSERT_HAS(out, line);
        snprintf(line, sizeof line, "%s:1: warning: socket: %s: its directory %s is not writable by uid %u\n", d.conf,
                 d.sock, d.dir, (unsigned)nobody->pw_uid);
        ASSERT_HAS(out, line);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_check_warnings_only) {
        struct daemon d;
        char out[8192], line[1024];
        daemon_init(&d);
        daemon_write_config(&d, "service daemon {\n command = \"sleep 1\"\n type = forking\n"
                                " pidfile = %s/later/daemon.pid\n}\n"
                                "service env {\n command = \"sleep 1\"\n environment = \"A=1,B=2\"\n}\n",
                            d.dir);
        ck_assert_int_eq(check_config(d.conf, NULL, out, sizeof out), 0);
        snprintf(line, sizeof line, "%s:4: warning: service daemon: pidfile: its directory %s/later does not exist (yet?)\n",
                 d.conf, d.dir);
        ASSERT_HAS(out, line);
        snprintf(line, sizeof line, "%s:11: warning: environment: \"A=1,B=2\" is one variable", d.conf);
        ASSERT_HAS(out, line);
        snprintf(line, sizeof line, "%s: configuration OK (2 services)\n", d.conf);
        ASSERT_HAS(out, line);
        daemon_cleanup(&d);
}
END_TEST

static Suite *preflight_suite(void) {
        Suite *s = suite_create("preflight");
        TCase *tc = tcase_create("check");
        tcase_set_timeout(tc, 30);
        tcase_add_test(tc, test_check_commands_and_directories);
        tcase_add_test(tc, test_check_for_the_services_user);
        tcase_add_test(tc, test_check_as_non_root);
        tcase_add_test(tc, test_check_warnings_only);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) { return run_suite(preflight_suite()) ? 1 : 0; }
