/* test_ini_config.c — unit tests for ini_config.c: which files are supervisord's INI form,
 * supervisord's search order for its file, and the socket a client finds in an INI file. */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "harness.h"
#include "ini_config.h"

static bool sniff(const char *text) { return ini_config_sniff(text, strlen(text)); }

START_TEST(test_sniff) {
        ck_assert(sniff("[supervisord]\nnodaemon=true\n"));
        ck_assert(sniff("; supervisor config file\n\n[unix_http_server]\n"));
        ck_assert(sniff("# a comment\n\n   [program:x]\ncommand=true\n"));
        ck_assert(sniff(";"));
        ck_assert(!sniff("socket = /run/s.sock\nservice web { command = \"true\" }\n"));
        ck_assert(!sniff("# comment\nservice web {\n}\n"));
        ck_assert(!sniff("/* c */ service a { command = \"x\" }"));
        ck_assert(!sniff("// c\n[x]\n"));
        ck_assert(!sniff(""));
        ck_assert(!sniff("\n  \n# only comments\n"));
}
END_TEST

static void write_file(const char *path, const char *text) {
        FILE *f = fopen(path, "w");
        ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
        fputs(text, f);
        fclose(f);
}

/* Runs in a fresh directory D with bin/, etc/ below it. */
static char dir[PATH_MAX];

static void in_temp_dir(void) {
        snprintf(dir, sizeof dir, "/tmp/test_ini_config.XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(dir));
        ck_assert_int_eq(chdir(dir), 0);
        ck_assert_int_eq(mkdir("bin", 0755), 0);
        ck_assert_int_eq(mkdir("etc", 0755), 0);
        ck_assert_int_eq(mkdir("cwd", 0755), 0);
        ck_assert_int_eq(mkdir("cwd/etc", 0755), 0);
}

static void out_of_temp_dir(void) {
        char command[PATH_MAX + 16];
        snprintf(command, sizeof command, "rm -rf '%s'", dir);
        ck_assert_int_eq(chdir("/"), 0);
        ck_assert_int_eq(system(command), 0);
}

static void search_finds(const char *argv0, const char *expected) {
        char *found = ini_config_search(argv0);
        ck_assert_ptr_nonnull(found);
        ck_assert_msg(strcmp(found, expected) == 0, "search(%s) = %s, expected %s", argv0, found, expected);
        free(found);
}

START_TEST(test_search_order) {
        in_temp_dir();
        char argv0[PATH_MAX + 32], expected[PATH_MAX + 64];
        snprintf(argv0, sizeof argv0, "%s/bin/supervisord", dir);
        ck_assert_int_eq(chdir("cwd"), 0);
        /* With nothing here, whatever the machine has in /etc, else the native default. */
        const char *system_one = access("/etc/supervisord.conf", F_OK) == 0                 ? "/etc/supervisord.conf"
                                 : access("/etc/supervisor/supervisord.conf", F_OK) == 0 ? "/etc/supervisor/supervisord.conf"
                                                                                        : "/etc/supervisord.conf";
        search_finds(argv0, system_one);
        write_file("etc/supervisord.conf", "[supervisord]\n");
        search_finds(argv0, "etc/supervisord.conf");
        write_file("supervisord.conf", "[supervisord]\n");
        search_finds(argv0, "supervisord.conf");
        snprintf(expected, sizeof expected, "%s/supervisord.conf", dir);
        write_file(expected, "[supervisord]\n");
        search_finds(argv0, expected);
        snprintf(expected, sizeof expected, "%s/etc/supervisord.conf", dir);
        write_file(expected, "[supervisord]\n");
        search_finds(argv0, expected);
        /* A bare program name (found on PATH) has "" as its directory's directory, as in
         * Python: etc/supervisord.conf of the working directory comes first. */
        search_finds("supervisord", "etc/supervisord.conf");
        search_finds("bin/supervisord", "etc/supervisord.conf");
        out_of_temp_dir();
}
END_TEST

static int peek(const char *text, char **ret, char *error, size_t size) {
        write_file("peek.conf", text);
        return ini_config_peek_socket("peek.conf", ret, error, size);
}

static void peek_finds(const char *text, int expected_r, const char *expected) {
        char *path = NULL, error[1024] = "";
        int r = peek(text, &path, error, sizeof error);
        ck_assert_msg(r == expected_r, "peek = %d (%s), expected %d for:\n%s", r, error, expected_r, text);
        if (expected)
                ck_assert_msg(path && strcmp(path, expected) == 0, "peek = %s, expected %s for:\n%s", path, expected,
                              text);
        else
                ck_assert_ptr_null(path);
        free(path);
}

START_TEST(test_peek_socket) {
        in_temp_dir();
        char expected[PATH_MAX + 64];
        setenv("TEST_RUN", "/run/test", 1);
        /* serverurl first, with %(here)s and %(ENV_X)s, made absolute and normal */
        snprintf(expected, sizeof expected, "%s/ctl.sock", dir);
        peek_finds("[unix_http_server]\nfile=/tmp/daemon.sock\n[supervisorctl]\nserverurl=unix://%(here)s/x/../ctl.sock\n",
                   1, expected);
        peek_finds("[supervisorctl]\nserverurl = unix://%(ENV_TEST_RUN)s//s.sock ; comment\n", 1, "/run/test/s.sock");
        snprintf(expected, sizeof expected, "%s/rel.sock", dir);
        peek_finds("[supervisorctl]\nserverurl=unix://rel.sock\n", 1, expected);
        /* no serverurl: the daemon's own socket */
        snprintf(expected, sizeof expected, "%s/supervisor.sock", dir);
        peek_finds("; Debian's\n[unix_http_server]\nfile=%(here)s/supervisor.sock   ; (the path to the socket file)\n"
                   "chmod=0700\n[supervisorctl]\n",
                   1, expected);
        /* an HTTP server URL is handed back as it is */
        peek_finds("[supervisorctl]\nserverurl=http://127.0.0.1:9001\n", 2, "http://127.0.0.1:9001");
        peek_finds("[supervisord]\nlogfile=/tmp/x\n", 0, NULL);
        /* what is wrong elsewhere does not matter ... */
        peek_finds("[supervisorctl]\nserverurl=unix:///tmp/s.sock\n[program:x]\ncommand=%(nope)s\nthis is no key\n", 1,
                   "/tmp/s.sock");
        peek_finds("[unix_http_server]\nfile=/tmp/d.sock\n[program:x]\n  bad continuation\n", 1, "/tmp/d.sock");
        /* ... but a file that breaks off before any says why */
        char *path = NULL, error[1024] = "";
        ck_assert_int_eq(peek("[supervisord]\nnot a line\n[unix_http_server]\nfile=/tmp/d.sock\n", &path, error,
                              sizeof error),
                         -EINVAL);
        ck_assert_msg(strncmp(error, "peek.conf:2: ", 13) == 0, "%s", error);
        ck_assert_int_eq(peek("[supervisorctl]\nserverurl=unix://%(ENV_NOT_SET_HERE)s/s\n", &path, error, sizeof error),
                         -EINVAL);
        ck_assert_msg(strncmp(error, "peek.conf:2: serverurl: ", 24) == 0, "%s", error);
        ck_assert_int_eq(ini_config_peek_socket("missing.conf", &path, error, sizeof error), -ENOENT);
        out_of_temp_dir();
}
END_TEST

/* config_peek_socket, which supervisorctl calls, reads either form. */
/* The logfile keys of [program:x] as supervisord means them. */
static struct config *load_ini(const char *tmp, const char *program, char *error, size_t size, int *ret) {
        char path[PATH_MAX], text[4096];
        snprintf(path, sizeof path, "%s/supervisord.conf", tmp);
        snprintf(text, sizeof text, "[supervisord]\nchildlogdir=%s\n%s", tmp, program);
        write_file(path, text);
        struct config *c = NULL;
        *ret = config_load(path, &c, error, size);
        return c;
}

START_TEST(test_stream_logfile_keys) {
        char tmp[] = "/tmp/test_ini_config.XXXXXX", error[1024], text[2048];
        ck_assert_ptr_nonnull(mkdtemp(tmp));
        int r;
        /* supervisord's defaults: stderr in a log of its own, 50MB and 10 each, no events */
        struct config *c = load_ini(tmp, "[program:a]\ncommand=x\nstdout_events_enabled=true\n", error, sizeof error, &r);
        ck_assert_msg(r == 0, "%s", error);
        const struct service_config *s = c->services[0];
        ck_assert_int_eq(s->stdout_target, OUTPUT_LOG);
        ck_assert_int_eq(s->stderr_target, OUTPUT_LOG);
        ck_assert_ptr_null(s->stdout_log);
        ck_assert_ptr_null(s->stderr_log);
        ck_assert_uint_eq(s->log_max_size, 52428800);
        ck_assert_uint_eq(s->stderr_log_max_size, 52428800);
        ck_assert_uint_eq(s->log_keep, 10);
        ck_assert_uint_eq(s->stderr_log_keep, 10);
        ck_assert(s->log_events && !s->stderr_log_events);
        config_free(c);
        /* paths, each stream's rotation and events; redirect_stderr wherever it is written */
        snprintf(text, sizeof text,
                 "[program:b]\ncommand=x\nstdout_logfile=%1$s/b.out\nstderr_logfile=%1$s/b.err\n"
                 "stdout_logfile_maxbytes=1MB\nstdout_logfile_backups=3\nstderr_logfile_maxbytes=8KB\n"
                 "stderr_logfile_backups=1\nstderr_events_enabled=true\nstderr_capture_maxbytes=1KB\n"
                 "[program:c]\ncommand=x\nstderr_logfile=%1$s/ignored\nstderr_events_enabled=true\nredirect_stderr=true\n"
                 "[program:d]\ncommand=x\nstdout_logfile=NONE\nstderr_logfile=none\n"
                 "[program:e]\ncommand=x\nstdout_syslog=true\nstderr_logfile=syslog\n"
                 "[program:f]\ncommand=x\nstderr_logfile=%1$s/f.log\nstdout_logfile=%1$s/./f.log\n",
                 tmp);
        c = load_ini(tmp, text, error, sizeof error, &r);
        ck_assert_msg(r == 0, "%s", error);
        s = c->services[0];
        snprintf(text, sizeof text, "%s/b.out", tmp);
        ck_assert_str_eq(s->stdout_log, text);
        snprintf(text, sizeof text, "%s/b.err", tmp);
        ck_assert_str_eq(s->stderr_log, text);
        ck_assert_uint_eq(s->log_max_size, 1u << 20);
        ck_assert_uint_eq(s->log_keep, 3);
        ck_assert_uint_eq(s->stderr_log_max_size, 8192);
        ck_assert_uint_eq(s->stderr_log_keep, 1);
        ck_assert(!s->log_events && s->stderr_log_events);
        ck_assert_uint_eq(s->stderr_capture_max_bytes, 1024);
        s = c->services[1];
        ck_assert_int_eq(s->stderr_target, OUTPUT_STDOUT);
        ck_assert_ptr_null(s->stderr_log);
        ck_assert(!s->stderr_log_events);
        ck_assert_ptr_nonnull(c->warnings);
        ck_assert_ptr_nonnull(strstr(c->warnings[0], "redirect_stderr=true but stderr_logfile has also been set"));
        s = c->services[2];
        ck_assert_int_eq(s->stdout_target, OUTPUT_NULL);
        ck_assert_int_eq(s->stderr_target, OUTPUT_NULL);
        s = c->services[3];
        ck_assert_int_eq(s->stdout_target, OUTPUT_JOURNAL);
        ck_assert_int_eq(s->stderr_target, OUTPUT_JOURNAL);
        /* both streams named to one file: one pipe into it */
        s = c->services[4];
        ck_assert_int_eq(s->stderr_target, OUTPUT_STDOUT);
        ck_assert_ptr_nonnull(s->stdout_log);
        ck_assert_ptr_null(s->stderr_log);
        config_free(c);
        /* as supervisord: the directory of a path must exist */
        snprintf(text, sizeof text, "[program:f]\ncommand=x\nstdout_logfile=%s/missing/f.log\n", tmp);
        c = load_ini(tmp, text, error, sizeof error, &r);
        ck_assert_int_eq(r, -EINVAL);
        ck_assert_msg(strstr(error, "supervisord.conf:5: stdout_logfile: The directory named as part of the path ")
                              && strstr(error, "/missing/f.log does not exist"),
                      "%s", error);
        c = load_ini(tmp, "[program:h]\ncommand=x\nstdout_logfile=NONE\nstdout_events_enabled=true\n", error, sizeof error,
                     &r);
        ck_assert_int_eq(r, -EINVAL);
        ck_assert_msg(strstr(error, "supervisord.conf:6: stdout_events_enabled: not with stdout_logfile=NONE here"), "%s",
                      error);
        c = load_ini(tmp, "[program:g]\ncommand=x\nstdout_logfile=/dev/tty\n", error, sizeof error, &r);
        ck_assert_int_eq(r, -EINVAL);
        ck_assert_msg(strstr(error, "supervisord.conf:5: stdout_logfile: '/dev/tty': of the special files only "
                                    "supervisord's own stdout (/dev/stdout, /dev/fd/1, /proc/self/fd/1, /proc/1/fd/1)"),
                      "%s", error);
        /* Docker's ways of naming supervisord's own streams: its stdout and stderr inherited;
         * both to its stdout, one pipe */
        c = load_ini(tmp, "[program:i]\ncommand=x\nstdout_logfile=/dev/fd/1\nstdout_logfile_maxbytes=0\n"
                          "stderr_logfile=/proc/1/fd/2\nstderr_logfile_maxbytes=0\n"
                          "[program:j]\ncommand=x\nstdout_logfile=/proc/1/fd/1\nstderr_logfile=/dev/stdout\n"
                          "[program:k]\ncommand=x\nstdout_logfile=/proc/self/fd/1\nredirect_stderr=true\n",
                     error, sizeof error, &r);
        ck_assert_msg(r == 0, "%s", error);
        ck_assert_int_eq(c->services[0]->stdout_target, OUTPUT_INHERIT);
        ck_assert_int_eq(c->services[0]->stderr_target, OUTPUT_INHERIT);
        ck_assert_int_eq(c->services[1]->stdout_target, OUTPUT_INHERIT);
        ck_assert_int_eq(c->services[1]->stderr_target, OUTPUT_STDOUT);
        ck_assert_int_eq(c->services[2]->stdout_target, OUTPUT_INHERIT);
        ck_assert_int_eq(c->services[2]->stderr_target, OUTPUT_STDOUT);
        config_free(c);
        c = load_ini(tmp, "[program:l]\ncommand=x\nstdout_logfile=/dev/fd/2\n", error, sizeof error, &r);
        ck_assert_int_eq(r, -EINVAL);
        char *rm[] = { "rm", "-rf", tmp, NULL };
        char out[256];
        ck_assert_int_eq(run_capture(rm, out, sizeof out), 0);
}
END_TEST

START_TEST(test_config_peek_socket_reads_ini) {
        in_temp_dir();
        char *path = NULL, error[1024] = "";
        write_file("a.conf", "[unix_http_server]\nfile=/tmp/ini.sock\n");
        ck_assert_int_eq(config_peek_socket("a.conf", &path, error, sizeof error), 1);
        ck_assert_str_eq(path, "/tmp/ini.sock");
        free(path);
        write_file("b.conf", "socket = /tmp/native.sock\n");
        ck_assert_int_eq(config_peek_socket("b.conf", &path, error, sizeof error), 1);
        ck_assert_str_eq(path, "/tmp/native.sock");
        free(path);
        write_file("c.conf", "[supervisorctl]\nserverurl=http://localhost:9001\n");
        ck_assert_int_eq(config_peek_socket("c.conf", &path, error, sizeof error), -EPROTONOSUPPORT);
        ck_assert_ptr_null(path);
        ck_assert_msg(strstr(error, "c.conf: serverurl http://localhost:9001") == error, "%s", error);
        out_of_temp_dir();
}
END_TEST

static Suite *ini_config_suite(void) {
        Suite *s = suite_create("ini_config");
        TCase *tc = tcase_create("ini_config");
        tcase_add_test(tc, test_sniff);
        tcase_add_test(tc, test_search_order);
        tcase_add_test(tc, test_peek_socket);
        tcase_add_test(tc, test_config_peek_socket_reads_ini);
        tcase_add_test(tc, test_stream_logfile_keys);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) { return run_suite(ini_config_suite()) ? 1 : 0; }
