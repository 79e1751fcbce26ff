/* test_supervision.c — the state machine against real processes: restarts after kill -9,
 * restart policies, backoff timing, FATAL after start-retries, stop-timeout and SIGKILL,
 * and the process group on stop and on crash. */
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

/* The pid written into FILE by a service. */
static pid_t pid_from_file(const char *path) {
        char buf[64];
        /* the whole line: the writer may not have finished it */
        if (!WAIT_UNTIL(read_text_file(path, buf, sizeof buf) > 0 && strchr(buf, '\n'), SOON_MS))
                return 0;
        return (pid_t)atoi(buf);
}

/* How many lines the service NAME appended to MARKS.NAME: its runs. */
static int runs_of(const char *marks, const char *name) {
        char path[300], buf[256];
        snprintf(path, sizeof path, "%s.%s", marks, name);
        if (read_text_file(path, buf, sizeof buf) < 0)
                return 0;
        int runs = 0;
        for (char *p = buf; (p = strchr(p, '\n')); p++)
                runs++;
        return runs;
}

/* The times, in ms by the daemon's clock, of the lines of its log that contain both A and
 * B (lines begin "YYYY-MM-DD HH:MM:SS.mmm"), the first MAX into TIMES; how many. */
static int log_times(struct daemon *d, const char *a, const char *b, long long *times, int max) {
        static char buf[1 << 20];
        if (read_text_file(d->log, buf, sizeof buf) <= 0)
                return 0;
        int n = 0;
        for (char *line = buf, *end; *line && n < max; line = end + 1) {
                end = strchr(line, '\n');
                if (!end)
                        break;
                *end = '\0';
                if (!strstr(line, a) || !strstr(line, b))
                        continue;
                struct tm tm = { .tm_isdst = -1 };
                int ms;
                const char *rest = strptime(line, "%Y-%m-%d %H:%M:%S", &tm);
                ck_assert_msg(rest && sscanf(rest, ".%3d", &ms) == 1, "log line without a timestamp: %.60s", line);
                times[n++] = (long long)mktime(&tm) * 1000 + ms;
        }
        return n;
}

START_TEST(test_kill9_restarts_immediately) {
        struct daemon d;
        char out[4096];
        daemon_init(&d);
        /* restart-delay = 60: a restart that waited for it would not come within the test. */
        daemon_write_config(&d, "service sleeper {\n command = \"sleep 60\"\n start-secs = 0.2\n"
                                " restart-delay = 60\n restart-delay-max = 60\n}\n");
        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "sleeper", "RUNNING", SOON_MS);
        pid_t first = service_pid_of(&d, "sleeper");
        ck_assert_int_gt(first, 0);
        ck_assert_int_eq(process_parent(first), d.pid);

        /* The first restart after a good run has no delay: well within restart-delay. */
        ck_assert_int_eq(kill(first, SIGKILL), 0);
        pid_t second = 0;
        ASSERT_WITHIN((second = service_pid_of(&d, "sleeper")) > 0 && second != first, SOON_MS);
        ck_assert(process_exists(second));
        ck_assert(!process_exists(first));
        ck_assert_int_eq(count_zombie_children(d.pid), 0);

        ASSERT_STATE_WITHIN(&d, "sleeper", "RUNNING", SOON_MS);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "--json status sleeper"), 0);
        ck_assert_ptr_nonnull(strstr(out, "\"restarts\":1"));
        ck_assert_ptr_nonnull(strstr(out, "\"signal\":\"KILL\""));
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_restart_policies) {
        struct daemon d;
        char marks[256];
        daemon_init(&d);
        snprintf(marks, sizeof marks, "%s/marks", d.dir);
        /* Each service records every start as a line in its own file, then exits. */
        daemon_write_config(&d,
                "service never { command = \"/bin/sh -c 'echo x >> %1$s.never; sleep 0.3; exit 1'\"\n"
                "  restart = never\n start-secs = 0.1\n}\n"
                "service clean { command = \"/bin/sh -c 'echo x >> %1$s.clean; sleep 0.3; exit 0'\"\n"
                "  start-secs = 0.1\n}\n"
                "service success2 { command = \"/bin/sh -c 'echo x >> %1$s.success2; sleep 0.3; exit 2'\"\n"
                "  start-secs = 0.1\n success-exit-codes = { 0, 2 }\n}\n"
                "service failing { command = \"/bin/sh -c 'echo x >> %1$s.failing; sleep 0.3; exit 3'\"\n"
                "  start-secs = 0.1\n success-exit-codes = { 0, 2 }\n}\n"
                "service always { command = \"/bin/sh -c 'echo x >> %1$s.always; sleep 0.3; exit 0'\"\n"
                "  start-secs = 0.1\n restart = always\n}\n",
                marks);
        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "never", "EXITED", SOON_MS);
        ASSERT_STATE_WITHIN(&d, "clean", "EXITED", SOON_MS);
        ASSERT_STATE_WITHIN(&d, "success2", "EXITED", SOON_MS);
        /* The restarting ones run again and again (three runs, however long that takes
         * here); meanwhile the others stay at their one run. */
        int failing = 0, always = 0;
        ASSERT_WITHIN_MSG((failing = runs_of(marks, "failing")) >= 3 && (always = runs_of(marks, "always")) >= 3,
                          SOON_MS, "failing ran %d times, always %d", failing, always);

        char state[64];
        static const char *const once[] = { "never", "clean", "success2" };
        for (size_t i = 0; i < sizeof once / sizeof once[0]; i++)
                ck_assert_msg(runs_of(marks, once[i]) == 1, "%s ran %d times, expected once", once[i],
                              runs_of(marks, once[i]));
        ck_assert_str_eq(service_state_of(&d, "never", state, sizeof state), "EXITED");
        char out[4096];
        ck_assert_int_eq(ctl(&d, out, sizeof out, "status never"), 3);
        ck_assert_ptr_nonnull(strstr(out, "exit status 1"));
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_backoff_timing_and_fatal) {
        struct daemon d;
        char stamps[256], out[4096];
        daemon_init(&d);
        snprintf(stamps, sizeof stamps, "%s/stamps", d.dir);
        daemon_write_config(&d,
                "service crash {\n"
                "  command = \"/bin/sh -c 'cat /proc/uptime >> %s; exit 1'\"\n"
                "  start-secs = 1\n start-retries = 4\n restart-delay = 0.5\n restart-delay-max = 1.2\n}\n",
                stamps);
        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "crash", "FATAL", SOON_MS);

        char buf[1024];
        ck_assert_int_gt(read_text_file(stamps, buf, sizeof buf), 0);
        int n = 0;
        for (char *p = buf; (p = strchr(p, '\n')); p++)
                n++;
        /* Exactly start-retries attempts ... */
        ck_assert_int_eq(n, 4);
        /* ... each spawned 0.5, 1, then (capped) 1.2 s after the exit before it, by the
         * daemon's own clock (its log), which leaves out how long a busy machine takes to
         * run the shell: at least the delay, and short of what the next doubling (or no
         * cap: 2 s) would give. */
        long long exits[8], spawns[8];
        int n_exits = log_times(&d, "crash: pid ", " exit status ", exits, 8);
        int n_spawns = log_times(&d, "crash: spawned pid ", "", spawns, 8);
        ck_assert_int_eq(n_exits, 4);
        ck_assert_int_eq(n_spawns, 4);
        const long long expected[] = { 500, 1000, 1200 }, next[] = { 1000, 2000, 2000 };
        for (int i = 0; i < 3; i++) {
                long long gap = spawns[i + 1] - exits[i];
                ck_assert_msg(gap >= expected[i] - 2 && gap < next[i],
                              "spawn %d came %lld ms after the exit before it, expected %lld (and less than %lld)",
                              i + 2, gap, expected[i], next[i]);
        }
        ck_assert_int_eq(ctl(&d, out, sizeof out, "status crash"), 3);
        ck_assert_ptr_nonnull(strstr(out, "gave up after 4 failed starts"));
        ck_assert_ptr_nonnull(strstr(out, "exit status 1"));
        /* FATAL stays FATAL: no more attempts. */
        sleep_ms(700);
        ck_assert_int_gt(read_text_file(stamps, buf, sizeof buf), 0);
        n = 0;
        for (char *p = buf; (p = strchr(p, '\n')); p++)
                n++;
        ck_assert_int_eq(n, 4);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_start_secs) {
        struct daemon d;
        char state[64];
        daemon_init(&d);
        daemon_write_config(&d, "service slow { command = \"sleep 60\"\n start-secs = 1.5\n}\n");
        long long t0 = now_ms();  /* before the spawn */
        daemon_start(&d);
        ck_assert_str_eq(service_state_of(&d, "slow", state, sizeof state), "STARTING");
        /* STARTING until start-secs have passed since the spawn, then RUNNING. */
        ASSERT_STATE_WITHIN(&d, "slow", "RUNNING", SOON_MS);
        long long running_at = now_ms() - t0;
        ck_assert_msg(running_at >= 1500, "RUNNING %lld ms after the start, expected at least start-secs = 1.5 s",
                      running_at);
        daemon_cleanup(&d);
}
END_TEST

/* A forking daemon that leaves the process group after its pidfile was read, while a child
 * of it stays in the old group: the stop signal goes to the daemon as well, not only to
 * the group supervisord knew of (which would leave it running until the stop-timeout's
 * SIGKILL, or, as that went to the same group, for good). */
START_TEST(test_stop_reaches_a_main_process_outside_its_group) {
        struct daemon d;
        char out[4096], pidfile[256], go[256];
        daemon_init(&d);
        snprintf(pidfile, sizeof pidfile, "%s/daemon.pid", d.dir);
        snprintf(go, sizeof go, "%s/go", d.dir);
        daemon_write_config(&d,
                "service forker { type = forking\n pidfile = %s\n start-secs = 0.2\n stop-timeout = 60\n"
                "  command = \"/bin/sh -c '/bin/sh -c \\\"echo \\\\$\\\\$ > %s; sleep 3801 &"
                " while [ ! -e %s ]; do sleep 0.05; done; exec setsid sleep 3802\\\" < /dev/null & exit 0'\"\n}\n",
                pidfile, pidfile, go);
        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "forker", "RUNNING", SOON_MS);
        pid_t daemon_pid = service_pid_of(&d, "forker");
        ck_assert_int_gt(daemon_pid, 0);
        pid_t group = getpgid(daemon_pid);
        ck_assert_int_ne(group, daemon_pid);
        /* Now it leaves the group; its child sleep 3801 stays there. */
        ck_assert_int_eq(close(open(go, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)), 0);
        ASSERT_WITHIN(getpgid(daemon_pid) == daemon_pid, SOON_MS);
        ck_assert_int_eq(count_processes("sleep 3801"), 1);

        /* Well before the 60 s stop-timeout (the supervisorctl is killed after SOON_MS). */
        char seconds[16];
        snprintf(seconds, sizeof seconds, "%d", SOON_MS / 1000);
        char *argv[] = { "timeout", seconds, (char *)supervisorctl_path(), "-s", d.sock, "stop", "forker", NULL };
        ck_assert_int_eq(run_capture(argv, out, sizeof out), 0);
        ck_assert_str_eq(out, "forker: stopped\n");
        ck_assert(!process_exists(daemon_pid));
        ck_assert_int_eq(count_processes("sleep 3801") + count_processes("sleep 3802"), 0);
        /* By the stop signal, not a SIGKILL. */
        ck_assert_int_eq(ctl(&d, out, sizeof out, "--json status forker"), 3);
        ck_assert_msg(strstr(out, "\"signal\":\"TERM\""), "%s", out);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_stop_timeout_sigkill) {
        struct daemon d;
        char out[4096], pidfile[256];
        daemon_init(&d);
        snprintf(pidfile, sizeof pidfile, "%s/stubborn.pid", d.dir);
        daemon_write_config(&d,
                "service stubborn {\n"
                "  command = \"/bin/sh -c 'trap \\\"\\\" TERM; echo $$ > %s; while :; do sleep 0.1; done'\"\n"
                "  start-secs = 0.2\n stop-timeout = 1\n}\n",
                pidfile);
        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "stubborn", "RUNNING", SOON_MS);
        pid_t pid = pid_from_file(pidfile);
        ck_assert_int_gt(pid, 0);
        long long t0 = now_ms();
        ck_assert_int_eq(ctl(&d, out, sizeof out, "stop stubborn"), 0);
        long long took = now_ms() - t0;
        ck_assert_msg(took >= 900, "stop took %lld ms, expected at least stop-timeout = 1 s", took);
        ck_assert_str_eq(out, "stubborn: stopped\n");
        ck_assert(!process_exists(pid));
        ck_assert_int_eq(ctl(&d, out, sizeof out, "status stubborn"), 3);
        ck_assert_ptr_nonnull(strstr(out, "STOPPED"));
        ck_assert_ptr_nonnull(strstr(out, "killed by SIGKILL"));
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_stop_kills_group) {
        struct daemon d;
        char out[4096], child_file[256];
        daemon_init(&d);
        snprintf(child_file, sizeof child_file, "%s/child.pid", d.dir);
        /* The grandchild ignores TERM: the stop must still end with it dead (SIGKILL to
         * the group after stop-timeout), and only then report the service stopped. */
        daemon_write_config(&d,
                "service parent {\n"
                "  command = \"/bin/sh -c '(trap \\\"\\\" TERM; while :; do sleep 0.1; done) & echo $! > %s; wait'\"\n"
                "  start-secs = 0.2\n stop-timeout = 1\n}\n",
                child_file);
        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "parent", "RUNNING", SOON_MS);
        pid_t main_pid = service_pid_of(&d, "parent");
        pid_t grandchild = pid_from_file(child_file);
        ck_assert_int_gt(grandchild, 0);
        ck_assert_int_eq(getpgid(grandchild), main_pid);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "stop parent"), 0);
        ck_assert(!process_exists(main_pid));
        ck_assert(!process_exists(grandchild));
        ck_assert_int_eq(count_zombie_children(d.pid), 0);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_crash_kills_leftovers) {
        struct daemon d;
        char child_file[256];
        daemon_init(&d);
        snprintf(child_file, sizeof child_file, "%s/child.pid", d.dir);
        daemon_write_config(&d,
                "service crasher {\n"
                "  command = \"/bin/sh -c 'sleep 60 & echo $! > %s; sleep 0.5; exit 1'\"\n"
                "  start-secs = 0.2\n restart = never\n}\n",
                child_file);
        daemon_start(&d);
        pid_t grandchild = pid_from_file(child_file);
        ck_assert_int_gt(grandchild, 0);
        ASSERT_STATE_WITHIN(&d, "crasher", "EXITED", SOON_MS);
        ASSERT_WITHIN(!process_exists(grandchild), SOON_MS);
        ASSERT_WITHIN(count_zombie_children(d.pid) == 0, SOON_MS);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_exec_failure_reported) {
        struct daemon d;
        char out[4096], log[65536];
        daemon_init(&d);
        daemon_write_config(&d,
                "service missing { command = /nonexistent/binary\n start-retries = 2\n restart-delay = 0.05\n}\n"
                "service nodir { command = \"sleep 60\"\n directory = /nonexistent-dir\n start-retries = 1\n}\n");
        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "missing", "FATAL", SOON_MS);
        ASSERT_STATE_WITHIN(&d, "nodir", "FATAL", SOON_MS);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "status"), 3);
        ck_assert_ptr_nonnull(strstr(out, "exec /nonexistent/binary: No such file or directory"));
        ck_assert_ptr_nonnull(strstr(out, "chdir /nonexistent-dir: No such file or directory"));
        ck_assert_int_gt(read_text_file(d.log, log, sizeof log), 0);
        ck_assert_ptr_nonnull(strstr(log, "missing: exec /nonexistent/binary: No such file or directory"));
        /* start reports the failure and exits 1 */
        ck_assert_int_eq(ctl(&d, out, sizeof out, "start missing"), 7);  /* supervisorctl's for a spawn error */
        ck_assert_ptr_nonnull(strstr(out, "missing: ERROR ("));
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_stop_during_backoff_and_autostart_false) {
        struct daemon d;
        char out[4096], state[64];
        daemon_init(&d);
        daemon_write_config(&d,
                "service crash { command = \"/bin/sh -c 'exit 1'\"\n restart-delay = 5\n}\n"
                "service manual { command = \"sleep 60\"\n autostart = false\n}\n");
        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "crash", "BACKOFF", SOON_MS);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "stop crash"), 0);
        ck_assert_str_eq(service_state_of(&d, "crash", state, sizeof state), "STOPPED");
        ck_assert_int_eq(ctl(&d, out, sizeof out, "status manual"), 3);
        ck_assert_ptr_nonnull(strstr(out, "STOPPED"));
        ck_assert_ptr_nonnull(strstr(out, "Not started"));
        ck_assert_int_eq(ctl(&d, out, sizeof out, "start manual"), 0);
        ck_assert_str_eq(out, "manual: started\n");
        ck_assert_str_eq(service_state_of(&d, "manual", state, sizeof state), "RUNNING");
        daemon_cleanup(&d);
}
END_TEST


/* How many times the daemon's log says it spawned NAME. */
static int count_spawns(struct daemon *d, const char *name) {
        static char log[1 << 18];
        char needle[128];
        int n = 0;
        snprintf(needle, sizeof needle, "%s: spawned pid", name);
        if (read_text_file(d->log, log, sizeof log) < 0)
                return -1;
        for (const char *p = strstr(log, needle); p; p = strstr(p + 1, needle))
                n++;
        return n;
}

/* A spawn failure that no retry can pass goes to FATAL at once, with its reason, however
 * many start-retries are allowed; with start-secs = 0 (RUNNING before exec) too. */
START_TEST(test_exec_failure_fatal_at_once) {
        struct daemon d;
        char out[4096], path[256];
        daemon_init(&d);
        snprintf(path, sizeof path, "%s/not-executable", d.dir);
        FILE *f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fputs("#!/bin/sh\nsleep 60\n", f);
        ck_assert_int_eq(fclose(f), 0);
        ck_assert_int_eq(chmod(path, 0644), 0);
        daemon_write_config(&d,
                "service missing { command = /nonexistent/binary\n start-retries = 1000\n restart-delay = 0.05\n}\n"
                "service noexec { command = %s\n start-retries = 1000\n restart-delay = 0.05\n}\n"
                "service quick { command = /nonexistent/quick\n start-secs = 0\n restart = always\n"
                " restart-delay = 0.05\n}\n",
                path);
        daemon_start(&d);
        ck_assert(wait_for_state(&d, "missing", "FATAL", 10000));
        ck_assert(wait_for_state(&d, "noexec", "FATAL", 10000));
        ck_assert(wait_for_state(&d, "quick", "FATAL", 10000));
        ck_assert_int_eq(ctl(&d, out, sizeof out, "status"), 3);
        ck_assert_msg(strstr(out, "exec /nonexistent/binary: No such file or directory; not retried, since a retry "
                                  "cannot change it"),
                      "%s", out);
        ck_assert_msg(strstr(out, "Permission denied; not retried"), "%s", out);
        ck_assert_msg(strstr(out, "exec /nonexistent/quick: No such file or directory; not retried"), "%s", out);
        ck_assert_int_eq(count_spawns(&d, "missing"), 1);
        ck_assert_int_eq(count_spawns(&d, "noexec"), 1);
        ck_assert_int_eq(count_spawns(&d, "quick"), 1);
        /* an explicit start tries once more, and says why it failed */
        ck_assert_int_eq(ctl(&d, out, sizeof out, "start missing"), 7);  /* supervisorctl's for a spawn error */
        ck_assert_msg(strstr(out, "missing: ERROR (") && strstr(out, "No such file or directory"), "%s", out);
        ck_assert_int_eq(count_spawns(&d, "missing"), 2);
        daemon_cleanup(&d);
}
END_TEST

/* Under a daemon that is not root, a service of another user (root included) cannot be
 * started by any retry. */
START_TEST(test_user_switch_refused_fatal_at_once) {
        struct daemon d;
        char out[4096];
        struct passwd *nobody = getpwnam("nobody");
        if (geteuid() != 0 || !nobody)
                return;  /* the test runs the daemon as nobody */
        const char *outer = getenv("SUPERVISORD_WRAPPER");
        if (outer) {
                /* valgrind, as nobody, could not write its log where make check-valgrind reads it */
                fprintf(stderr, "test_user_switch_refused_fatal_at_once: not run behind %s\n", outer);
                return;
        }
        daemon_init(&d);
        ck_assert_int_eq(chown(d.dir, nobody->pw_uid, nobody->pw_gid), 0);
        daemon_write_config(&d,
                "service asroot { command = \"sleep 60\"\n user = root\n start-retries = 1000\n"
                " restart-delay = 0.05\n}\n"
                "service mine { command = \"sleep 60\"\n start-secs = 0.1\n}\n");
        char wrapper[512];
        snprintf(wrapper, sizeof wrapper, "setpriv --reuid=%u --regid=%u --clear-groups", (unsigned)nobody->pw_uid,
                 (unsigned)nobody->pw_gid);
        setenv("SUPERVISORD_WRAPPER", wrapper, 1);
        daemon_start(&d);
        unsetenv("SUPERVISORD_WRAPPER");
        ck_assert(wait_for_state(&d, "asroot", "FATAL", 10000));
        ck_assert(wait_for_state(&d, "mine", "RUNNING", 10000));
        ck_assert_int_eq(ctl(&d, out, sizeof out, "status asroot"), 3);
        ck_assert_msg(strstr(out, "cannot change user or group: supervisord is not running as root; not retried"), "%s",
                      out);
        ck_assert_int_eq(count_spawns(&d, "asroot"), 1);
        daemon_cleanup(&d);
}
END_TEST

static Suite *supervision_suite(void) {
        Suite *s = suite_create("supervision");
        TCase *tc = tcase_create("supervision");
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_kill9_restarts_immediately);
        tcase_add_test(tc, test_restart_policies);
        tcase_add_test(tc, test_backoff_timing_and_fatal);
        tcase_add_test(tc, test_start_secs);
        tcase_add_test(tc, test_stop_timeout_sigkill);
        tcase_add_test(tc, test_stop_kills_group);
        tcase_add_test(tc, test_crash_kills_leftovers);
        tcase_add_test(tc, test_exec_failure_reported);
        tcase_add_test(tc, test_exec_failure_fatal_at_once);
        tcase_add_test(tc, test_user_switch_refused_fatal_at_once);
        tcase_add_test(tc, test_stop_during_backoff_and_autostart_false);
        tcase_add_test(tc, test_stop_reaches_a_main_process_outside_its_group);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) { return run_suite(supervision_suite()) ? 1 : 0; }
