/* test_notify.c — type = notify: the message parser as unit tests, then the real daemon
 * with the real systemd-notify(1): READY=1 makes a service RUNNING (not start-secs),
 * BARRIER=1 is answered, STATUS= shows in status, WATCHDOG=1 stands in for pongs,
 * MAINPID= moves the main pid (only to a process of ours), ready-timeout, messages from
 * outside the service's session are ignored (and their fds closed), and the fds a notify
 * service gets. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "harness.h"
#include "notify.h"

/* ---- unit: parsing ---- */

START_TEST(test_parse_everything) {
        static const char text[] = "READY=1\nSTATUS=Serving 3 clients\nMAINPID=4242\nWATCHDOG=1\nSTOPPING=1\n"
                                   "RELOADING=1\nBARRIER=1\nERRNO=5\nX_UNKNOWN=whatever";
        struct notify_message m;
        notify_parse(text, sizeof text - 1, &m);
        ck_assert(m.ready && m.watchdog && m.stopping && m.reloading && m.barrier && m.has_status);
        ck_assert_str_eq(m.status, "Serving 3 clients");
        ck_assert_int_eq(m.main_pid, 4242);
}
END_TEST

START_TEST(test_parse_strict_values) {
        struct notify_message m;
        static const char *const not_ready[] = {
                "READY=0", "READY=", "READY=11", "READY", "ready=1", " READY=1", "READY=1 ", "XREADY=1", "",
        };
        for (size_t i = 0; i < sizeof not_ready / sizeof not_ready[0]; i++) {
                notify_parse(not_ready[i], strlen(not_ready[i]), &m);
                ck_assert_msg(!m.ready, "\"%s\" counted as READY=1", not_ready[i]);
        }
        notify_parse("READY=1\n", 8, &m);
        ck_assert(m.ready);
        notify_parse("\n\nREADY=1\n\n", 11, &m);
        ck_assert(m.ready);
        /* The length ends the message, not a NUL, and a NUL does not end it early. */
        notify_parse("READY=1", 6, &m);
        ck_assert(!m.ready);
        notify_parse("STATUS=a\0b\nREADY=1", 18, &m);
        ck_assert(m.ready && m.has_status);
}
END_TEST

START_TEST(test_parse_status_and_mainpid) {
        struct notify_message m;
        notify_parse("STATUS=", 7, &m);
        ck_assert(m.has_status);  /* "STATUS=" clears the text */
        ck_assert_str_eq(m.status, "");
        notify_parse("STATUS=x", 8, &m);
        ck_assert(m.has_status);
        ck_assert_str_eq(m.status, "x");

        char long_status[1000];
        memset(long_status, 'y', sizeof long_status);
        memcpy(long_status, "STATUS=", 7);
        notify_parse(long_status, sizeof long_status, &m);
        ck_assert(m.has_status);
        ck_assert_uint_eq(strlen(m.status), NOTIFY_MAX_STATUS - 1);

        static const char *const bad_pids[] = {
                "MAINPID=", "MAINPID=abc", "MAINPID=0", "MAINPID=1", "MAINPID=-5", "MAINPID=12x", "MAINPID=99999999999",
        };
        for (size_t i = 0; i < sizeof bad_pids / sizeof bad_pids[0]; i++) {
                notify_parse(bad_pids[i], strlen(bad_pids[i]), &m);
                ck_assert_msg(m.main_pid == 0, "\"%s\" gave pid %d", bad_pids[i], (int)m.main_pid);
        }
        notify_parse("MAINPID=77\nMAINPID=78", 21, &m);
        ck_assert_int_eq(m.main_pid, 78);  /* the last one wins, as with systemd */
}
END_TEST

/* ---- integration ---- */

static bool log_contains(struct daemon *d, const char *text) {
        static char buf[1 << 20];
        return read_text_file(d->log, buf, sizeof buf) > 0 && strstr(buf, text) != NULL;
}

static unsigned restarts_of(struct daemon *d, const char *name) {
        char out[4096];
        ctl(d, out, sizeof out, "--json status %s", name);
        const char *p = strstr(out, "\"restarts\":");
        ck_assert_ptr_nonnull(p);
        return (unsigned)atoi(p + strlen("\"restarts\":"));
}

START_TEST(test_ready_makes_running) {
        struct daemon d;
        char state[64], out[4096];
        daemon_init(&d);
        /* start-secs is 30: only READY=1 can make it RUNNING within the test.  Three
         * systemd-notify calls, each waiting on its BARRIER=1 (5 s each if it were never
         * answered). */
        daemon_write_config(&d,
                            "service ready {\n type = notify\n start-secs = 30\n"
                            " command = \"/bin/sh -c 'sleep 0.5; systemd-notify --status=loading; "
                            "systemd-notify --status=almost; systemd-notify --ready --status=up; exec sleep 1000'\"\n}\n"
                            "service manual {\n type = notify\n autostart = false\n start-secs = 30\n"
                            " command = \"/bin/sh -c 'sleep 1; systemd-notify --ready; exec sleep 1000'\"\n}\n");
        long long t0 = now_ms();
        daemon_start(&d);
        ck_assert_str_eq(service_state_of(&d, "ready", state, sizeof state), "STARTING");
        ASSERT_STATE_WITHIN(&d, "ready", "RUNNING", SOON_MS);
        long long took = now_ms() - t0;
        /* Not before its sleep 0.5; and its barriers were answered, or the first alone
         * would have kept it waiting for systemd-notify's 5 s timeout. */
        ck_assert_msg(took >= 500 && took < 5500, "RUNNING after %lld ms, expected from 500 ms to the 5 s of an "
                                                  "unanswered barrier", took);
        ck_assert(log_contains(&d, "ready: ready (READY=1 from pid"));
        /* After its last systemd-notify returned, the shell exec'd sleep: the barrier was answered. */
        pid_t pid = service_pid_of(&d, "ready");
        char comm[64], path[64];
        snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
        ASSERT_WITHIN(read_text_file(path, comm, sizeof comm) > 0 && strcmp(comm, "sleep\n") == 0, SOON_MS);

        /* `start` waits for READY=1. */
        t0 = now_ms();
        ck_assert_int_eq(ctl(&d, out, sizeof out, "start manual"), 0);
        took = now_ms() - t0;
        ck_assert_str_eq(out, "manual: started\n");
        ck_assert_msg(took >= 900 && took < 6000, "start took %lld ms, expected from its sleep 1 to the 5 s of an "
                                                  "unanswered barrier after it", took);
        ck_assert_str_eq(service_state_of(&d, "manual", state, sizeof state), "RUNNING");
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_status_text_and_stopping) {
        struct daemon d;
        char out[4096];
        daemon_init(&d);
        daemon_write_config(&d, "service talker {\n type = notify\n"
                                /* the trap first: a stop may come right after READY=1 */
                                " command = \"/bin/sh -c 'trap \\\"systemd-notify STOPPING=1; exit 0\\\" TERM; "
                                "systemd-notify --ready --status=\\\"Serving 3 clients\\\"; while :; do sleep 0.1; done'\"\n}\n");
        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "talker", "RUNNING", SOON_MS);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "status talker"), 0);
        ck_assert_msg(strstr(out, "talker") && strstr(out, "RUNNING") && strstr(out, "; Serving 3 clients\n"), "%s",
                      out);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "--json status talker"), 0);
        ck_assert_msg(strstr(out, "\"message\":\"Serving 3 clients\""), "%s", out);

        ck_assert_int_eq(ctl(&d, out, sizeof out, "stop talker"), 0);
        ck_assert(log_contains(&d, "talker: says it is stopping (STOPPING=1)"));
        /* The status text belonged to the process: gone with it. */
        ck_assert_int_eq(ctl(&d, out, sizeof out, "status talker"), 3);
        ck_assert_msg(!strstr(out, "Serving"), "%s", out);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_watchdog_counts_as_heartbeat) {
        struct daemon d;
        daemon_init(&d);
        /* Neither reads its ping fd; only "kept" sends WATCHDOG=1 (every 0.1 s, interval 1:
         * room for a busy machine, where each systemd-notify is a fork and an exec). */
        daemon_write_config(&d,
                            "service kept {\n type = notify\n heartbeat-interval = 1\n heartbeat-misses = 2\n"
                            " command = \"/bin/sh -c 'systemd-notify --ready; "
                            "while :; do systemd-notify WATCHDOG=1; sleep 0.1; done'\"\n}\n"
                            "service dropped {\n type = notify\n heartbeat-interval = 1\n heartbeat-misses = 2\n"
                            " command = \"/bin/sh -c 'systemd-notify --ready; exec sleep 1000'\"\n}\n");
        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "kept", "RUNNING", SOON_MS);
        pid_t kept = service_pid_of(&d, "kept");
        /* Without WATCHDOG=1 the same service is hung after 2 × 1 s + 1 s ... */
        ASSERT_WITHIN(restarts_of(&d, "dropped") >= 1, SOON_MS);
        /* ... and meanwhile, and for five intervals in all, kept was not. */
        sleep_ms(2000);
        ck_assert_int_eq(service_pid_of(&d, "kept"), kept);
        ck_assert_uint_eq(restarts_of(&d, "kept"), 0);
        ck_assert(!log_contains(&d, "kept: heartbeat"));
        ck_assert(log_contains(&d, "dropped: hung: 2 heartbeats missed in a row"));
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_mainpid) {
        struct daemon d;
        char pidfile[256], buf[64];
        daemon_init(&d);
        snprintf(pidfile, sizeof pidfile, "%s/worker.pid", d.dir);
        daemon_write_config(&d,
                            /* the shell stays, the worker is its child and the main pid */
                            "service wrapped {\n type = notify\n command = \"/bin/sh -c 'sleep 1000 & echo $! > %s; "
                            "systemd-notify --ready --pid=$!; wait'\"\n}\n"
                            /* the test is not a process of supervisord's */
                            "service liar {\n type = notify\n"
                            " command = \"/bin/sh -c 'systemd-notify --ready MAINPID=%d; exec sleep 1000'\"\n}\n",
                            pidfile, (int)getpid());
        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "wrapped", "RUNNING", SOON_MS);
        ck_assert_msg(wait_for_file(pidfile, SOON_MS), "%s is still missing or empty", pidfile);
        read_text_file(pidfile, buf, sizeof buf);
        pid_t worker = (pid_t)atoi(buf);
        ck_assert_int_gt(worker, 0);
        ck_assert_int_eq(service_pid_of(&d, "wrapped"), worker);
        pid_t shell = process_parent(worker);
        ck_assert_int_eq(process_parent(shell), d.pid);

        /* The worker dies; its parent, not supervisord, collects it: seen through a pidfd
         * (or, where there is none, as under valgrind, by a look every second). */
        ck_assert_int_eq(kill(worker, SIGKILL), 0);
        pid_t next = 0;
        ASSERT_WITHIN((next = service_pid_of(&d, "wrapped")) > 0 && next != worker, SOON_MS);
        ck_assert(log_contains(&d, "its parent collected its exit status"));
        ASSERT_WITHIN(!process_exists(shell), SOON_MS);  /* the rest of the group is cleaned up */

        ASSERT_STATE_WITHIN(&d, "liar", "RUNNING", SOON_MS);
        ck_assert_int_ne(service_pid_of(&d, "liar"), getpid());
        char expected[128];
        snprintf(expected, sizeof expected, "liar: ignoring MAINPID=%d: not a process of ours", (int)getpid());
        ck_assert(log_contains(&d, expected));
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_ready_timeout) {
        struct daemon d;
        char out[4096];
        daemon_init(&d);
        daemon_write_config(&d, "service mute {\n type = notify\n command = \"sleep 1000\"\n ready-timeout = 0.5\n"
                                " start-retries = 2\n restart-delay = 0.1\n}\n");
        long long t0 = now_ms();
        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "mute", "FATAL", SOON_MS);
        long long took = now_ms() - t0;
        ck_assert_msg(took >= 1000, "FATAL after %lld ms, expected at least two ready-timeouts of 0.5 s", took);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "status mute"), 3);
        ck_assert_msg(strstr(out, "gave up after 2 failed starts: no READY=1 within ready-timeout (0.5s)"), "%s", out);
        ck_assert_int_eq(count_zombie_children(d.pid), 0);
        daemon_cleanup(&d);
}
END_TEST

/* Send TEXT to the abstract or path address ADDRESS (as in NOTIFY_SOCKET) with FD attached. */
static int send_notify(const char *address, const char *text, int fd) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        size_t len = strlen(address);
        ck_assert_uint_lt(len, sizeof sa.sun_path);
        memcpy(sa.sun_path, address, len);
        if (sa.sun_path[0] == '@')
                sa.sun_path[0] = '\0';
        int sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        ck_assert_int_ge(sock, 0);
        struct iovec iov = { .iov_base = (void *)text, .iov_len = strlen(text) };
        union {
                struct cmsghdr align;
                char space[CMSG_SPACE(sizeof(int))];
        } control;
        struct msghdr mh = {
                .msg_name = &sa,
                .msg_namelen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len),
                .msg_iov = &iov,
                .msg_iovlen = 1,
        };
        if (fd >= 0) {
                mh.msg_control = &control;
                mh.msg_controllen = sizeof control;
                struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(c), &fd, sizeof fd);
        }
        int r = sendmsg(sock, &mh, 0) < 0 ? -errno : 0;
        close(sock);
        return r;
}

START_TEST(test_foreign_sender_ignored) {
        struct daemon d;
        char address[128], out[4096], state[64];
        daemon_init(&d);
        daemon_write_config(&d, "service target {\n type = notify\n command = \"sleep 1000\"\n ready-timeout = 0\n}\n");
        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "target", "STARTING", SOON_MS);
        pid_t pid = service_pid_of(&d, "target");
        ck_assert(process_getenv(pid, "NOTIFY_SOCKET", address, sizeof address));
        ck_assert_msg(strncmp(address, "@supervisord/", 13) == 0, "NOTIFY_SOCKET=%s", address);

        /* The test is no part of the service's session: a forged READY=1 with a barrier fd. */
        int barrier[2];
        ck_assert_int_eq(pipe2(barrier, O_CLOEXEC), 0);
        ck_assert_int_eq(send_notify(address, "READY=1\nSTATUS=forged\nMAINPID=1\nBARRIER=1", barrier[1]), 0);
        close(barrier[1]);
        /* ... and still its fd is closed: the read end sees the hang-up. */
        struct pollfd p = { .fd = barrier[0], .events = POLLIN };
        ck_assert_int_eq(poll(&p, 1, SOON_MS), 1);
        ck_assert(p.revents & POLLHUP);
        close(barrier[0]);

        sleep_ms(300);
        ck_assert_str_eq(service_state_of(&d, "target", state, sizeof state), "STARTING");
        ctl(&d, out, sizeof out, "status target");
        ck_assert_msg(!strstr(out, "forged"), "%s", out);
        ck_assert_int_eq(service_pid_of(&d, "target"), pid);
        char expected[128];
        snprintf(expected, sizeof expected, "target: notify: ignoring a message from pid %d", (int)getpid());
        ck_assert(log_contains(&d, expected));

        /* A name that is not the service's own reaches nobody. */
        char other[sizeof address + 1];
        snprintf(other, sizeof other, "%sx", address);
        ck_assert_int_eq(send_notify(other, "READY=1", -1), -ECONNREFUSED);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_fds_of_notify_services) {
        struct daemon d;
        char list[256], value[128], other[128];
        daemon_init(&d);
        daemon_write_config(&d, "service plain {\n type = notify\n command = \"sleep 1000\"\n ready-timeout = 0\n}\n"
                                "service beating {\n type = notify\n command = \"sleep 1000\"\n ready-timeout = 0\n"
                                " heartbeat-interval = 30\n}\n");
        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "plain", "STARTING", SOON_MS);
        ASSERT_STATE_WITHIN(&d, "beating", "STARTING", SOON_MS);
        pid_t plain = service_pid_of(&d, "plain"), beating = service_pid_of(&d, "beating");
        ck_assert_int_eq(count_fds(plain, list, sizeof list), 3);
        ck_assert_str_eq(list, "0 1 2");
        ck_assert_int_eq(count_fds(beating, list, sizeof list), 5);
        ck_assert_str_eq(list, "0 1 2 3 4");
        /* One socket per process. */
        ck_assert(process_getenv(plain, "NOTIFY_SOCKET", value, sizeof value));
        ck_assert(process_getenv(beating, "NOTIFY_SOCKET", other, sizeof other));
        ck_assert_str_ne(value, other);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_ready_from_another_user) {
        struct daemon d;
        daemon_init(&d);
        if (geteuid() != 0) {
                fprintf(stderr, "test_ready_from_another_user: skipped (needs root)\n");
                daemon_cleanup(&d);
                return;
        }
        /* The abstract socket needs no file permissions; the credentials still check out. */
        daemon_write_config(&d, "service nobody {\n type = notify\n user = nobody\n start-secs = 30\n"
                                " command = \"/bin/sh -c 'systemd-notify --ready; exec sleep 1000'\"\n}\n");
        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "nobody", "RUNNING", SOON_MS);
        daemon_cleanup(&d);
}
END_TEST

static Suite *notify_suite(void) {
        Suite *s = suite_create("notify");
        TCase *unit = tcase_create("unit");
        tcase_add_test(unit, test_parse_everything);
        tcase_add_test(unit, test_parse_strict_values);
        tcase_add_test(unit, test_parse_status_and_mainpid);
        suite_add_tcase(s, unit);

        TCase *tc = tcase_create("daemon");
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_ready_makes_running);
        tcase_add_test(tc, test_status_text_and_stopping);
        tcase_add_test(tc, test_watchdog_counts_as_heartbeat);
        tcase_add_test(tc, test_mainpid);
        tcase_add_test(tc, test_ready_timeout);
        tcase_add_test(tc, test_foreign_sender_ignored);
        tcase_add_test(tc, test_fds_of_notify_services);
        tcase_add_test(tc, test_ready_from_another_user);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) { return run_suite(notify_suite()) ? 1 : 0; }
