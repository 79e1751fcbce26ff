/* test_reload.c — reload through supervisorctl and SIGHUP: only the difference is
 * applied (added, changed, removed), untouched services keep their pid, an invalid
 * config changes nothing, settings bound at start-up are reported, not applied, the files
 * of include-dir are read again, and a reload during shutdown is refused. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static const char *base_config =
        "service keep { command = \"sleep 60\"\n start-secs = 0.1\n}\n"
        "service change { command = \"sleep 61\"\n start-secs = 0.1\n}\n"
        "service drop { command = \"sleep 62\"\n start-secs = 0.1\n}\n"
        "service pool { command = \"sleep 63\"\n instances = 2\n start-secs = 0.1\n}\n";

static const char *next_config =
        "service keep { command = \"sleep 60\"\n start-secs = 0.1\n}\n"
        "service change { command = \"sleep 64\"\n start-secs = 0.1\n}\n"
        "service add { command = \"sleep 65\"\n start-secs = 0.1\n}\n"
        "service pool { command = \"sleep 63\"\n instances = 3\n start-secs = 0.1\n}\n";

/* The command line of PID, spaces for NULs. */
static const char *cmdline_of(pid_t pid, char *buf, size_t size) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
        ssize_t n = read_text_file(path, buf, size);
        for (ssize_t i = 0; i + 1 < n; i++)
                if (buf[i] == '\0')
                        buf[i] = ' ';
        return buf;
}

static void check_reload(bool by_signal) {
        struct daemon d;
        char out[8192], cmd[256];
        daemon_init(&d);
        daemon_write_config(&d, "%s", base_config);
        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "pool@1", "RUNNING", SOON_MS);
        ASSERT_STATE_WITHIN(&d, "drop", "RUNNING", SOON_MS);
        pid_t keep = service_pid_of(&d, "keep"), change = service_pid_of(&d, "change"),
              drop = service_pid_of(&d, "drop"), pool0 = service_pid_of(&d, "pool@0"),
              pool1 = service_pid_of(&d, "pool@1");
        ck_assert(keep > 0 && change > 0 && drop > 0 && pool0 > 0 && pool1 > 0);

        daemon_write_config(&d, "%s", next_config);
        if (by_signal) {
                ck_assert_int_eq(kill(d.pid, SIGHUP), 0);
        } else {
                ck_assert_int_eq(ctl(&d, out, sizeof out, "update"), 0);
                ck_assert_str_eq(out, "drop: stopped\ndrop: removed process group\nchange: stopped\n"
                                       "change: updated process group\npool: stopped\npool: updated process group\n"
                                       "add: added process group\n");
        }
        ASSERT_STATE_WITHIN(&d, "add", "RUNNING", SOON_MS);
        ASSERT_STATE_WITHIN(&d, "pool@2", "RUNNING", SOON_MS);
        ASSERT_STATE_WITHIN(&d, "change", "RUNNING", SOON_MS);
        ASSERT_WITHIN(!process_exists(drop), SOON_MS);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "status drop"), 4);

        /* untouched: same process */
        ck_assert_int_eq(service_pid_of(&d, "keep"), keep);
        ck_assert_int_eq(service_pid_of(&d, "pool@0"), pool0);
        ck_assert_int_eq(service_pid_of(&d, "pool@1"), pool1);
        /* changed: a new process with the new command */
        pid_t changed = service_pid_of(&d, "change");
        ck_assert_int_ne(changed, change);
        ck_assert(!process_exists(change));
        ck_assert_str_eq(cmdline_of(changed, cmd, sizeof cmd), "sleep 64");
        daemon_cleanup(&d);
}

START_TEST(test_reload_by_ctl) { check_reload(false); }
END_TEST

START_TEST(test_reload_by_sighup) { check_reload(true); }
END_TEST

START_TEST(test_reload_invalid_changes_nothing) {
        struct daemon d;
        char out[8192], log[65536], expect[512], *first = NULL;
        daemon_init(&d);
        daemon_write_config(&d, "%s", base_config);
        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "drop", "RUNNING", SOON_MS);
        pid_t drop = service_pid_of(&d, "drop"), change = service_pid_of(&d, "change");

        daemon_write_config(&d, "%s\nservice broken {\n command = \"sleep 1\"\n restart = sometimes\n}\n", next_config);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "update"), 1);
        snprintf(expect, sizeof expect, "supervisorctl: %s:20: restart: 'sometimes' is not one of always, on-failure, never\n",
                 d.conf);
        ck_assert_str_eq(out, expect);
        ck_assert_int_eq(kill(d.pid, SIGHUP), 0);
        /* logged twice: once for the request, once for SIGHUP */
        ASSERT_WITHIN(read_text_file(d.log, log, sizeof log) > 0 &&
                              (first = strstr(log, "restart: 'sometimes' is not one of always, on-failure, never; "
                                                   "nothing changed")) &&
                              strstr(first + 1, "restart: 'sometimes' is not one of always, on-failure, never; "
                                                "nothing changed"),
                      SOON_MS);
        ck_assert_int_eq(service_pid_of(&d, "drop"), drop);
        ck_assert_int_eq(service_pid_of(&d, "change"), change);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "status add"), 4);

        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_reload_startup_settings_and_json) {
        struct daemon d;
        char out[8192];
        daemon_init(&d);
        daemon_write_config(&d, "%s", base_config);
        daemon_start(&d);
        /* same services, another socket path: reported, and the old socket keeps working */
        FILE *f = fopen(d.conf, "w");
        ck_assert_ptr_nonnull(f);
        fprintf(f, "socket = \"%s/other.sock\"\npidfile = \"%s\"\nlog-level = debug\n%s", d.dir, d.pidfile, base_config);
        fclose(f);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "--json update"), 0);
        ck_assert_str_eq(out, "{\"added\":[],\"changed\":[],\"removed\":[],\"notice\":"
                              "\"socket: changed, takes effect when supervisord restarts\"}\n");
        ck_assert_int_eq(ctl(&d, out, sizeof out, "update"), 0);
        ck_assert_str_eq(out, "notice: socket: changed, takes effect when supervisord restarts\n");
        /* the cgroup mode is bound at start-up too */
        daemon_write_config(&d, "cgroup = off\n%s", base_config);
        /* supervisord's `update all` is update; update GROUP is refused, changing nothing */
        ck_assert_int_eq(ctl(&d, out, sizeof out, "update web"), 2);
        ck_assert_ptr_nonnull(strstr(out, "update takes no group names here (only all)"));
        ck_assert_int_eq(ctl(&d, out, sizeof out, "update all"), 0);
        ck_assert_str_eq(out, "notice: cgroup: changed, takes effect when supervisord restarts\n");
        daemon_write_config(&d, "%s", base_config);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "update"), 0);
        ck_assert_str_eq(out, "");
        daemon_cleanup(&d);
}
END_TEST


/* Write TEXT into the daemon's directory as NAME. */
static void write_in_dir(struct daemon *d, const char *name, const char *text) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", d->dir, name);
        FILE *f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fputs(text, f);
        ck_assert_int_eq(fclose(f), 0);
}

/* include-dir (relative to the file, not to the daemon's working directory): a reload sees
 * files added, changed and removed, and names an included file in its message. */
static void check_include_dir_reload(bool by_signal) {
        struct daemon d;
        char out[8192], cmd[256], path[512], expect[1024];
        daemon_init(&d);
        snprintf(path, sizeof path, "%s/conf.d", d.dir);
        ck_assert_int_eq(mkdir(path, 0755), 0);
        write_in_dir(&d, "conf.d/a.conf", "service a { command = \"sleep 71\"\n start-secs = 0.1\n}\n");
        write_in_dir(&d, "conf.d/b.conf", "service b { command = \"sleep 72\"\n start-secs = 0.1\n}\n");
        write_in_dir(&d, "conf.d/b.conf.disabled", "service off { command = \"sleep 79\" }\n");
        daemon_write_config(&d, "include-dir = conf.d\nservice main { command = \"sleep 70\"\n start-secs = 0.1\n}\n");
        ck_assert_int_ne(strcmp(getcwd(cmd, sizeof cmd), d.dir), 0);
        daemon_start(&d);
        ck_assert(wait_for_state(&d, "a", "RUNNING", 5000));
        ck_assert(wait_for_state(&d, "b", "RUNNING", 5000));
        ck_assert_int_eq(ctl(&d, out, sizeof out, "status off"), 4);
        pid_t main_pid = service_pid_of(&d, "main"), a = service_pid_of(&d, "a"), b = service_pid_of(&d, "b");

        write_in_dir(&d, "conf.d/a.conf", "service a { command = \"sleep 73\"\n start-secs = 0.1\n}\n");
        write_in_dir(&d, "conf.d/c.conf", "service c { command = \"sleep 74\"\n start-secs = 0.1\n}\n");
        snprintf(path, sizeof path, "%s/conf.d/b.conf", d.dir);
        ck_assert_int_eq(unlink(path), 0);
        if (by_signal) {
                ck_assert_int_eq(kill(d.pid, SIGHUP), 0);
        } else {
                ck_assert_int_eq(ctl(&d, out, sizeof out, "update"), 0);
                ck_assert_str_eq(out, "b: stopped\nb: removed process group\na: stopped\na: updated process group\n"
                                       "c: added process group\n");
        }
        ck_assert(wait_for_state(&d, "c", "RUNNING", 5000));
        ck_assert(WAIT_UNTIL(!process_exists(b), 5000));
        ck_assert(WAIT_UNTIL(service_pid_of(&d, "a") != a && service_pid_of(&d, "a") > 0, 5000));
        ck_assert(wait_for_state(&d, "a", "RUNNING", 5000));
        ck_assert_str_eq(cmdline_of(service_pid_of(&d, "a"), cmd, sizeof cmd), "sleep 73");
        ck_assert_int_eq(ctl(&d, out, sizeof out, "status b"), 4);
        ck_assert_int_eq(service_pid_of(&d, "main"), main_pid);

        /* a mistake in an included file: that file and its line, and nothing changes */
        write_in_dir(&d, "conf.d/d.conf", "service d {\n command = \"sleep 75\"\n autorestart = true\n}\n");
        ck_assert_int_eq(ctl(&d, out, sizeof out, "update"), 1);
        snprintf(expect, sizeof expect,
                 "supervisorctl: %s/conf.d/d.conf:3: no such option 'autorestart' (supervisord's autorestart is "
                 "restart here: always, on-failure or never)\n",
                 d.dir);
        ck_assert_str_eq(out, expect);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "status d"), 4);
        daemon_cleanup(&d);
}

START_TEST(test_include_dir_reload_by_ctl) { check_include_dir_reload(false); }
END_TEST

START_TEST(test_include_dir_reload_by_sighup) { check_include_dir_reload(true); }
/* A reload asked for once shutdown has begun changes nothing: it would start the added
 * services while everything else is being stopped. */
START_TEST(test_reload_refused_during_shutdown) {
        struct daemon d;
        char out[4096], ready[256];
        daemon_init(&d);
        snprintf(ready, sizeof ready, "%s/ready", d.dir);
        daemon_write_config(&d,
                            "service stubborn {\n command = \"sh -c 'trap \\\"\\\" TERM; echo ok > %s;"
                            " while :; do sleep 0.1; done'\"\n start-secs = 0\n stop-timeout = 3\n}\n",
                            ready);
        daemon_start(&d);
        ck_assert(wait_for_file(ready, 5000));
        ck_assert(wait_for_state(&d, "stubborn", "RUNNING", 5000));
        daemon_write_config(&d,
                            "service stubborn {\n command = \"sh -c 'trap \\\"\\\" TERM; echo ok > %s;"
                            " while :; do sleep 0.1; done'\"\n start-secs = 0\n stop-timeout = 3\n}\n"
                            "service late { command = \"sleep 3799\"\n start-secs = 0\n}\n",
                            ready);
        /* Shutdown waits for stubborn's stop-timeout. */
        ck_assert_int_eq(kill(d.pid, SIGTERM), 0);
        ck_assert(wait_for_state(&d, "stubborn", "STOPPING", 2000));
        ck_assert_int_eq(ctl(&d, out, sizeof out, "update"), 1);
        ck_assert_str_eq(out, "supervisorctl: supervisord is shutting down\n");
        ck_assert_int_eq(kill(d.pid, SIGHUP), 0);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "status late"), 4);
        ck_assert_int_eq(count_processes("sleep 3799"), 0);
        int status = 0;
        ck_assert(WAIT_UNTIL(waitpid(d.pid, &status, WNOHANG) == d.pid, 10000));
        d.pid = 0;
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        ck_assert_int_eq(count_processes("sleep 3799"), 0);
        daemon_cleanup(&d);
}
END_TEST

static Suite *reload_suite(void) {
        Suite *s = suite_create("reload");
        TCase *tc = tcase_create("reload");
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_reload_by_ctl);
        tcase_add_test(tc, test_reload_by_sighup);
        tcase_add_test(tc, test_reload_invalid_changes_nothing);
        tcase_add_test(tc, test_reload_startup_settings_and_json);
        tcase_add_test(tc, test_include_dir_reload_by_ctl);
        tcase_add_test(tc, test_include_dir_reload_by_sighup);
        tcase_add_test(tc, test_reload_refused_during_shutdown);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) { return run_suite(reload_suite()) ? 1 : 0; }
