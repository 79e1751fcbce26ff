/* test_workers.c — instances, `after` ordering and type = forking, against the real
 * daemon: names and environment of instances, start and stop order from timestamps the
 * services write, dependency failures, and a double-forking daemon followed through its
 * pidfile. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static double uptime_stamp(const char *path) {
        char buf[256];
        if (read_text_file(path, buf, sizeof buf) <= 0)
                return -1;
        return atof(buf);
}

START_TEST(test_instances) {
        struct daemon d;
        char out[8192], value[64];
        daemon_init(&d);
        daemon_write_config(&d, "service pool {\n command = \"sleep 60\"\n instances = 3\n start-secs = 0.2\n}\n"
                                "service single { command = \"sleep 60\"\n start-secs = 0.2\n}\n");
        daemon_start(&d);
        pid_t pids[3];
        for (int k = 0; k < 3; k++) {
                char name[32];
                snprintf(name, sizeof name, "pool@%d", k);
                ASSERT_STATE_WITHIN(&d, name, "RUNNING", SOON_MS);
                pids[k] = service_pid_of(&d, name);
                ck_assert_int_gt(pids[k], 0);
                ck_assert_int_eq(process_parent(pids[k]), d.pid);
                ck_assert(process_getenv(pids[k], "SUPERVISOR_INSTANCE", value, sizeof value));
                ck_assert_int_eq(atoi(value), k);
                ck_assert(process_getenv(pids[k], "SUPERVISOR_SERVICE", value, sizeof value));
                ck_assert_str_eq(value, "pool");
        }
        ck_assert_int_ne(pids[0], pids[1]);
        /* The service name addresses every instance. */
        ck_assert_int_eq(ctl(&d, out, sizeof out, "status pool"), 0);
        ck_assert_ptr_nonnull(strstr(out, "pool@0 "));
        ck_assert_ptr_nonnull(strstr(out, "pool@2 "));
        ck_assert_ptr_null(strstr(out, "single"));
        ck_assert_int_eq(ctl(&d, out, sizeof out, "stop pool@1"), 0);
        ck_assert_str_eq(out, "pool@1: stopped\n");
        ck_assert(!process_exists(pids[1]));
        ck_assert(process_exists(pids[0]));
        ck_assert_int_eq(ctl(&d, out, sizeof out, "stop pool"), 0);
        /* The one not running, not named itself, goes unmentioned, as with supervisorctl. */
        ck_assert_str_eq(out, "pool@0: stopped\npool@2: stopped\n");
        ck_assert(!process_exists(pids[0]) && !process_exists(pids[2]));
        ck_assert_int_eq(ctl(&d, out, sizeof out, "start pool"), 0);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "status pool@3"), 4);
        daemon_cleanup(&d);
}
END_TEST

/* When service NAME's process was spawned, in seconds since boot (as /proc/uptime). */
static double spawned_at(struct daemon *d, const char *name) {
        char path[64], buf[1024];
        pid_t pid = service_pid_of(d, name);
        ck_assert_int_gt(pid, 0);
        snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
        ck_assert_int_gt(read_text_file(path, buf, sizeof buf), 0);
        const char *p = strrchr(buf, ')');
        for (int field = 2; field < 22 && p; field++)
                p = strchr(p + 1, ' ');
        ck_assert_ptr_nonnull(p);
        return (double)atoll(p + 1) / (double)sysconf(_SC_CLK_TCK);
}

START_TEST(test_after_order) {
        struct daemon d;
        char dir[200], out[4096];
        daemon_init(&d);
        snprintf(dir, sizeof dir, "%s", d.dir);
        /* Each service notes when it starts and when it gets TERM (then exits). */
#define SERVICE(name, after)                                                                                     \
        "service " name " {\n command = \"/bin/sh -c 'cat /proc/uptime > %1$s/" name ".start; "                  \
        "trap \\\"cat /proc/uptime > %1$s/" name ".stop; exit 0\\\" TERM; while :; do sleep 0.05; done'\"\n"      \
        " start-secs = 0.5\n" after "}\n"
        daemon_write_config(&d, SERVICE("web", " after = { app }\n") SERVICE("db", "")
                                SERVICE("app", " after = { db, cache }\n") SERVICE("cache", ""),
                            dir);
#undef SERVICE
        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "web", "RUNNING", SOON_MS);
        char path[256];
#define STAMP(name, what) (snprintf(path, sizeof path, "%s/" name "." what, dir), uptime_stamp(path))
        ck_assert(STAMP("db", "start") > 0 && STAMP("cache", "start") > 0 && STAMP("app", "start") > 0
                  && STAMP("web", "start") > 0);
        /* app waits for both db and cache to be RUNNING (start-secs 0.5), web for app: by
         * when each was spawned (the kernel's start time, in ticks of 10 ms), not by when
         * its shell came to write a stamp, which a busy machine delays by any amount. */
        double db = spawned_at(&d, "db"), cache = spawned_at(&d, "cache"), app = spawned_at(&d, "app"),
               web = spawned_at(&d, "web");
        ck_assert_msg(app >= db + 0.48 && app >= cache + 0.48, "spawned: db %.2f cache %.2f app %.2f", db, cache, app);
        ck_assert_msg(web >= app + 0.48, "spawned: app %.2f web %.2f", app, web);

        /* stop all: reverse order, each only after what runs after it has stopped */
        ck_assert_int_eq(ctl(&d, out, sizeof out, "stop all"), 0);
        double web_stop = STAMP("web", "stop"), app_stop = STAMP("app", "stop"), db_stop = STAMP("db", "stop");
        ck_assert(web_stop > 0 && app_stop > 0 && db_stop > 0);
        ck_assert_msg(web_stop <= app_stop && app_stop <= db_stop, "web %.3f app %.3f db %.3f", web_stop, app_stop,
                      db_stop);

        /* a manual start of web waits for its chain again */
        ck_assert_int_eq(ctl(&d, out, sizeof out, "start db cache app web"), 0);
        ck_assert_str_eq(out, "db: started\ncache: started\napp: started\nweb: started\n");
#undef STAMP
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_after_dependency_fatal) {
        struct daemon d;
        char out[4096], state[64];
        daemon_init(&d);
        daemon_write_config(&d,
                "service broken { command = \"/bin/sh -c 'exit 1'\"\n start-retries = 2\n restart-delay = 0.05\n}\n"
                "service needs { command = \"sleep 60\"\n after = { broken }\n}\n");
        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "broken", "FATAL", SOON_MS);
        ASSERT_WITHIN(ctl(&d, out, sizeof out, "status needs") == 3 && strstr(out, "dependency"), SOON_MS);
        ck_assert_str_eq(service_state_of(&d, "needs", state, sizeof state), "STOPPED");
        ck_assert_ptr_nonnull(strstr(out, "not started: dependency broken is FATAL"));
        ck_assert_int_eq(service_pid_of(&d, "needs"), 0);
        /* starting it by hand fails with the same reason */
        ck_assert_int_eq(ctl(&d, out, sizeof out, "start needs"), 7);  /* supervisorctl's: not running */
        ck_assert_ptr_nonnull(strstr(out, "needs: ERROR (not started: dependency broken is FATAL)"));
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_after_config_errors) {
        struct daemon d;
        char out[4096];
        daemon_init(&d);
        daemon_write_config(&d, "service a { command = x\n}\n"
                                "service b {\n command = y\n after = { c }\n}\n"
                                "service c {\n command = z\n after = { a, b }\n}\n");
        char *argv[] = { (char *)supervisord_path(), "-t", "-c", d.conf, NULL };
        ck_assert_int_eq(run_capture(argv, out, sizeof out), 2);
        char expect[512];
        /* found while following c's `after` (line 12), starting from b, the first in a cycle */
        snprintf(expect, sizeof expect, "%s:12: after: dependency cycle b -> c -> b\n", d.conf);
        ck_assert_str_eq(out, expect);

        daemon_write_config(&d, "service a {\n command = x\n after = { nope }\n}\n");
        ck_assert_int_eq(run_capture(argv, out, sizeof out), 2);
        snprintf(expect, sizeof expect, "%s:6: after: no service named 'nope'\n", d.conf);
        ck_assert_str_eq(out, expect);
        daemon_cleanup(&d);
}
END_TEST

/* A classic daemon: the launcher starts it in a new session and exits 0. */
static void write_forking_config(struct daemon *d, const char *pidfile, const char *extra) {
        daemon_write_config(d,
                "service forker {\n"
                "  type = forking\n  pidfile = %s\n"
                "  command = \"/bin/sh -c 'setsid /bin/sh -c \\\"sleep 60 & echo \\\\$! > %s\\\" < /dev/null; exit 0'\"\n"
                "  start-secs = 0.3\n%s}\n",
                pidfile, pidfile, extra);
}

START_TEST(test_forking_followed) {
        struct daemon d;
        char pidfile[256], buf[64], out[4096];
        daemon_init(&d);
        snprintf(pidfile, sizeof pidfile, "%s/forker.pid", d.dir);
        write_forking_config(&d, pidfile, "");
        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "forker", "RUNNING", SOON_MS);
        ck_assert_int_gt(read_text_file(pidfile, buf, sizeof buf), 0);
        pid_t daemon_pid = (pid_t)atoi(buf);
        ck_assert_int_eq(service_pid_of(&d, "forker"), daemon_pid);
        /* the launcher and its intermediate are gone; the daemon was adopted */
        ck_assert_int_eq(process_parent(daemon_pid), d.pid);
        ck_assert_int_ne(getsid(daemon_pid), getsid(d.pid));

        /* killed: restarted through the launcher again, with a new pid */
        ck_assert_int_eq(kill(daemon_pid, SIGKILL), 0);
        pid_t next = 0;
        ASSERT_WITHIN((next = service_pid_of(&d, "forker")) > 0 && next != daemon_pid, SOON_MS);
        ASSERT_STATE_WITHIN(&d, "forker", "RUNNING", SOON_MS);
        next = service_pid_of(&d, "forker");
        ck_assert_int_ne(next, daemon_pid);
        ck_assert_int_gt(read_text_file(pidfile, buf, sizeof buf), 0);
        ck_assert_int_eq(atoi(buf), next);
        ck_assert_int_eq(count_zombie_children(d.pid), 0);

        ck_assert_int_eq(ctl(&d, out, sizeof out, "stop forker"), 0);
        ck_assert(!process_exists(next));
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_forking_failures) {
        struct daemon d;
        char out[4096], foreign[256];
        daemon_init(&d);
        snprintf(foreign, sizeof foreign, "%s/foreign.pid", d.dir);
        /* a pidfile naming a process that is not ours (the test itself) is refused */
        FILE *f = fopen(foreign, "w");
        ck_assert_ptr_nonnull(f);
        fprintf(f, "%d\n", (int)getpid());
        fclose(f);
        daemon_write_config(&d,
                "service launcher-fails { type = forking\n pidfile = %1$s/never.pid\n"
                "  command = \"/bin/sh -c 'exit 3'\"\n start-retries = 1\n}\n"
                "service no-pidfile { type = forking\n pidfile = %1$s/never.pid\n"
                "  command = /bin/true\n start-retries = 1\n}\n"
                "service stranger { type = forking\n pidfile = %2$s\n"
                "  command = /bin/true\n start-retries = 1\n}\n",
                d.dir, foreign);
        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "launcher-fails", "FATAL", SOON_MS);
        ASSERT_STATE_WITHIN(&d, "no-pidfile", "FATAL", SOON_MS);
        ASSERT_STATE_WITHIN(&d, "stranger", "FATAL", SOON_MS);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "status"), 3);
        ck_assert_ptr_nonnull(strstr(out, "launcher failed (exit status 3)"));
        ck_assert_ptr_nonnull(strstr(out, "never.pid did not name a running daemon"));
        ck_assert_ptr_nonnull(strstr(out, "which is not a process of ours"));
        ck_assert(process_exists(getpid()));
        daemon_cleanup(&d);
}
END_TEST

static Suite *workers_suite(void) {
        Suite *s = suite_create("workers");
        TCase *tc = tcase_create("workers");
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_instances);
        tcase_add_test(tc, test_after_order);
        tcase_add_test(tc, test_after_dependency_fatal);
        tcase_add_test(tc, test_after_config_errors);
        tcase_add_test(tc, test_forking_followed);
        tcase_add_test(tc, test_forking_failures);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) { return run_suite(workers_suite()) ? 1 : 0; }
