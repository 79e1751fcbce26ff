/* test_crash.c — a supervisord that is SIGKILLed leaves nothing running unmanaged: its
 * direct children die with it (parent-death signal), and the next supervisord kills the
 * process groups the dead one recorded before starting anything, so a service never runs
 * twice.  A recorded number now used by an unrelated process is left alone. */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static void kill9_daemon(struct daemon *d) {
        ck_assert_int_eq(kill(d->pid, SIGKILL), 0);
        waitpid(d->pid, NULL, 0);
        d->pid = 0;
}

START_TEST(test_sigkill_leaves_no_duplicates) {
        struct daemon d;
        char pidfile[256], buf[64];
        harness_adopt_orphans();  /* what the SIGKILL leaves behind stays countable */
        daemon_init(&d);
        snprintf(pidfile, sizeof pidfile, "%s/daemon.pid", d.dir);
        /* "direct": a plain service.  "family": its grandchild shares its group.
         * "forker": a daemon in its own session, reachable only through the record. */
        daemon_write_config(&d,
                "service direct { command = \"sleep 3601\"\n start-secs = 0.2\n}\n"
                "service family { command = \"/bin/sh -c 'sleep 3602 & wait'\"\n start-secs = 0.2\n}\n"
                "service forker { type = forking\n pidfile = %1$s\n start-secs = 0.3\n"
                "  command = \"/bin/sh -c 'setsid /bin/sh -c \\\"sleep 3603 & echo \\\\$! > %1$s\\\" < /dev/null; exit 0'\"\n"
                "}\n",
                pidfile);
        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "direct", "RUNNING", SOON_MS);
        ASSERT_STATE_WITHIN(&d, "family", "RUNNING", SOON_MS);
        ASSERT_STATE_WITHIN(&d, "forker", "RUNNING", SOON_MS);
        ck_assert_int_eq(count_processes("sleep 3601"), 1);
        ck_assert_int_eq(count_processes("sleep 3602"), 1);
        ck_assert_int_eq(count_processes("sleep 3603"), 1);
        pid_t direct = service_pid_of(&d, "direct");

        kill9_daemon(&d);
        /* the direct child follows its parent at once */
        ASSERT_WITHIN(!process_exists(direct), SOON_MS);
        ck_assert_int_eq(count_processes("sleep 3601"), 0);
        /* what it could not take along is recorded */
        char record[300];
        snprintf(record, sizeof record, "%s.groups", d.pidfile);
        ck_assert_int_gt(read_text_file(record, buf, sizeof buf), 0);

        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "direct", "RUNNING", SOON_MS);
        ASSERT_STATE_WITHIN(&d, "family", "RUNNING", SOON_MS);
        ASSERT_STATE_WITHIN(&d, "forker", "RUNNING", SOON_MS);
        /* exactly one of each, and all of them ours */
        ASSERT_WITHIN(count_processes("sleep 3602") == 1 && count_processes("sleep 3603") == 1, SOON_MS);
        ck_assert_int_eq(count_processes("sleep 3601"), 1);
        ck_assert_int_eq(process_parent(service_pid_of(&d, "forker")), d.pid);
        char log[65536];
        ck_assert_int_gt(read_text_file(d.log, log, sizeof log), 0);
        ck_assert_ptr_nonnull(strstr(log, "left running by a previous supervisord"));

        /* a clean exit removes the record */
        ck_assert_int_eq(daemon_stop(&d, 15000), 0);
        ck_assert_int_lt(read_text_file(record, buf, sizeof buf), 0);
        ck_assert_int_eq(count_processes("sleep 3602") + count_processes("sleep 3603"), 0);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_record_ignores_reused_number) {
        struct daemon d;
        daemon_init(&d);
        /* An unrelated process group, recorded with another start time: as if its number
         * had been reused since the record was written. */
        pid_t stranger = fork();
        ck_assert_int_ge(stranger, 0);
        if (stranger == 0) {
                setsid();
                execlp("sleep", "sleep", "30", (char *)NULL);
                _exit(127);
        }
        ASSERT_WITHIN(getpgid(stranger) == stranger, SOON_MS);  /* its setsid() done */
        char record[300];
        snprintf(record, sizeof record, "%s.groups", d.pidfile);
        FILE *f = fopen(record, "w");
        ck_assert_ptr_nonnull(f);
        fprintf(f, "%d 1\n", (int)stranger);
        fclose(f);
        daemon_write_config(&d, "service a { command = \"sleep 60\"\n}\n");
        daemon_start(&d);
        /* The record is dealt with before anything is started: once a is RUNNING, the
         * stranger would have been killed already. */
        ASSERT_STATE_WITHIN(&d, "a", "RUNNING", SOON_MS);
        ck_assert(process_exists(stranger));
        kill(stranger, SIGKILL);
        waitpid(stranger, NULL, 0);
        daemon_cleanup(&d);
}
END_TEST

/* A live process running exactly CMDLINE (NULs read as spaces), or 0. */
static pid_t find_process(const char *cmdline) {
        DIR *dir = opendir("/proc");
        pid_t found = 0;
        for (struct dirent *e; dir && !found && (e = readdir(dir));) {
                pid_t pid = atoi(e->d_name);
                char path[64], buf[256];
                if (pid <= 0)
                        continue;
                snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
                ssize_t n = read_text_file(path, buf, sizeof buf);
                for (ssize_t i = 0; i + 1 < n; i++)
                        if (buf[i] == '\0')
                                buf[i] = ' ';
                if (n > 0 && strcmp(buf, cmdline) == 0 && process_exists(pid))
                        found = pid;
        }
        if (dir)
                closedir(dir);
        return found;
}

/* A crash loop appends two lines to the record at every restart: the record is compacted
 * as it goes (past twice the live groups and 128 lines), stays small, and still names the
 * group alive at the SIGKILL. */
START_TEST(test_record_of_a_crash_loop) {
        struct daemon d;
        struct stat st;
        char record[300], stray_cmdline[64];
        harness_adopt_orphans();
        daemon_init(&d);
        snprintf(record, sizeof record, "%s.groups", d.pidfile);
        /* This run's own stray: another run's (a parallel make check) is not ours to find. */
        snprintf(stray_cmdline, sizeof stray_cmdline, "sleep 3721.%06d", (int)getpid() % 1000000);
        daemon_write_config(&d, "service flapper { command = \"/bin/sh -c '%s & sleep 0.02'\"\n"
                                " start-secs = 0\n restart = always\n}\n", stray_cmdline);
        daemon_start(&d);
        /* Enough restarts that the record has been compacted a few times over, however
         * long this machine takes for them: the test is about the record, not the speed. */
        const int wanted = harness_instrumented() ? 10 : 100;
        int seen = 0;
        char out[4096];
        for (long long end = now_ms() + 40000; seen < wanted && now_ms() < end; sleep_ms(250)) {
                ctl(&d, out, sizeof out, "--json status flapper");
                const char *restarts = strstr(out, "\"restarts\":");
                seen = restarts ? atoi(restarts + 11) : -1;
        }
        ck_assert_msg(seen >= wanted, "expected at least %d restarts within 40 s, saw %d: %s", wanted, seen, out);
        /* Two lines a restart, 12 bytes each: without compaction it would be past 2 KiB. */
        ck_assert_int_eq(stat(record, &st), 0);
        ck_assert_msg(st.st_size < 2048, "record of %lld bytes for one service", (long long)st.st_size);
        /* A stray of a run whose group is in the record: looked for with the daemon frozen,
         * since a run lasts 20 ms and its group is killed once it ends.  Between two runs
         * there may be none: then thaw and look again. */
        pid_t stray = 0;
        for (long long end = now_ms() + SOON_MS; !stray && now_ms() < end;) {
                ck_assert_int_eq(kill(d.pid, SIGSTOP), 0);
                ASSERT_WITHIN(process_state(d.pid) == 'T', SOON_MS);
                if (!(stray = find_process(stray_cmdline))) {
                        ck_assert_int_eq(kill(d.pid, SIGCONT), 0);
                        sleep_ms(10);
                }
        }
        ck_assert_msg(stray > 0, "no stray of the crash loop (%s) seen within %d ms", stray_cmdline, SOON_MS);
        kill9_daemon(&d);
        ck_assert(process_exists(stray));  /* out of reach of the parent-death signal */
        daemon_write_config(&d, "service quiet { command = \"sleep 60\"\n}\n");
        daemon_start(&d);
        ck_assert_msg(WAIT_UNTIL(!process_exists(stray), SOON_MS), "pid %d of the crash loop left running", (int)stray);
        char log[65536];
        ck_assert_int_gt(read_text_file(d.log, log, sizeof log), 0);
        ck_assert_ptr_nonnull(strstr(log, "left running by a previous supervisord"));
        daemon_cleanup(&d);
}
END_TEST

static Suite *crash_suite(void) {
        Suite *s = suite_create("crash");
        TCase *tc = tcase_create("crash");
        tcase_set_timeout(tc, 90);
        tcase_add_test(tc, test_sigkill_leaves_no_duplicates);
        tcase_add_test(tc, test_record_ignores_reused_number);
        tcase_add_test(tc, test_record_of_a_crash_loop);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) { return run_suite(crash_suite()) ? 1 : 0; }
