/* test_limits.c — integration tests for supervisord at the end of its resources (issue
 * 16): out of file descriptors under a lowered RLIMIT_NOFILE with a flood of clients
 * (signals, reaping, restarts and deadlines go on, the log stays short, no busy loop),
 * services that cannot get their pipes back off and start once descriptors are free, the
 * start-up warning about a limit below what the config needs, and the memory a crowd of
 * `tail -f` clients that never read may cost. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "control.h"
#include "harness.h"

/* ---- helpers ---- */

static int raw_connect(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        ck_assert_uint_lt(strlen(path), sizeof sa.sun_path);
        memcpy(sa.sun_path, path, strlen(path) + 1);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ck_assert_int_ge(fd, 0);
        ck_assert_msg(connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0, "connect %s: %s", path, strerror(errno));
        return fd;
}

/* As many descriptors for this test process as it is allowed: the floods need them. */
static rlim_t raise_own_limit(void) {
        struct rlimit rl;
        ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
        rl.rlim_cur = rl.rlim_max;
        ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
        return rl.rlim_cur;
}

/* The daemon's log, whole (it stays small here, or the test has failed anyway). */
static char *daemon_log(const struct daemon *d) {
        static char buf[16 << 20];
        if (read_text_file(d->log, buf, sizeof buf) < 0)
                buf[0] = '\0';
        return buf;
}

static int count_matches(const char *text, const char *needle) {
        int n = 0;
        for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
                n++;
        return n;
}

/* Lines of the log but the debug ones (log-level is debug in the tests). */
static int count_log_lines(const char *text) {
        int n = 0;
        for (const char *line = text; *line;) {
                const char *end = strchr(line, '\n');
                size_t len = end ? (size_t)(end - line) : strlen(line);
                if (!memmem(line, len, " debug: ", 8))
                        n++;
                line += len + (end ? 1 : 0);
        }
        return n;
}

/* Whether the server has closed FD (its answer, if any, read and thrown away). */
static bool closed_by_server(int fd) {
        char buf[256];
        for (;;) {
                ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
                if (n > 0)
                        continue;
                return n == 0 || (errno != EAGAIN && errno != EINTR);
        }
}

static int count_closed(const int *fds, int n, bool *closed) {
        int total = 0;
        for (int i = 0; i < n; i++) {
                if (!closed[i])
                        closed[i] = closed_by_server(fds[i]);
                total += closed[i];
        }
        return total;
}

/* ---- descriptors ---- */

#define LIMIT 192       /* the daemon's RLIMIT_NOFILE, soft and hard */
#define SERVICES 36     /* logged services: 3 descriptors each, ~45 more of its own */
#define FLOOD 400       /* idle connections at once */

/* A client holding hundreds of idle connections, with the services holding most of the
 * descriptors the daemon may have: before, accept failed in a busy loop at the highest
 * priority, logging each failure, and nothing else was ever dispatched — no signal, no
 * reaping, no deadline.  Now every connection is answered or dropped, the idle ones on
 * their deadline, a killed service is reaped and restarted meanwhile, SIGTERM works, and
 * the log says it once, with the counts. */
START_TEST(test_descriptor_exhaustion) {
        static int fds[FLOOD];
        static bool closed[FLOOD];
        struct daemon d;
        char out[4096];
        ck_assert_uint_ge(raise_own_limit(), FLOOD + 64);
        daemon_init(&d);
        d.nofile = LIMIT;
        char body[16384];
        size_t len = 0;
        for (int i = 0; i < SERVICES; i++)
                len += (size_t)snprintf(body + len, sizeof body - len,
                                        "service s%d {\n command = \"sh -c 'echo up; exec sleep 600'\"\n"
                                        " start-secs = 0\n}\n", i);
        daemon_write_config(&d, "%s", body);
        daemon_start(&d);
        ck_assert(WAIT_UNTIL(ctl(&d, out, sizeof out, "status") == 0, 10000));
        char logs[256];
        snprintf(logs, sizeof logs, "%s/logs/s%d.log", d.dir, SERVICES - 1);
        ck_assert(wait_for_file(logs, 5000));
        int in_use = count_fds(d.pid, NULL, 0);
        ck_assert_msg(in_use + 8 < LIMIT && in_use > LIMIT / 2, "%d descriptors in use of %d", in_use, LIMIT);
        pid_t victim = service_pid_of(&d, "s1");
        ck_assert_int_gt(victim, 0);
        int lines_before = count_log_lines(daemon_log(&d));

        for (int i = 0; i < FLOOD; i++)
                fds[i] = raw_connect(d.sock);
        /* Meanwhile a killed service is reaped and started again. */
        ck_assert_int_eq(kill(victim, SIGKILL), 0);
        ck_assert_msg(WAIT_UNTIL(process_state(victim) == 0, 10000), "pid %d not reaped", (int)victim);
        /* Under valgrind the spawn forks, and a fork needs descriptors for its error
         * pipe: there the restart comes once the flood is over. */
        bool forks = getenv("SUPERVISORD_WRAPPER") != NULL;
        ck_assert_msg(forks || WAIT_UNTIL(count_matches(daemon_log(&d), "s1: spawned pid") == 2, 10000),
                      "s1 not restarted during the flood");
        /* A client is served, or told that it cannot be: never left hanging. */
        int r = ctl(&d, out, sizeof out, "status s0");
        ck_assert_msg(r == 0 || (r == 1 && strstr(out, "out of file descriptors")), "status gave %d: %s", r, out);
        /* Every idle connection is closed by its deadline, or before to make room. */
        ck_assert_msg(WAIT_UNTIL(count_closed(fds, FLOOD, closed) == FLOOD, 40000), "%d of %d connections still open",
                      FLOOD - count_closed(fds, FLOOD, closed), FLOOD);
        for (int i = 0; i < FLOOD; i++)
                close(fds[i]);
        ck_assert(WAIT_UNTIL(ctl(&d, out, sizeof out, "status s0") == 0, 10000));
        ck_assert_msg(strstr(out, "RUNNING"), "status: %s", out);
        ck_assert_msg(WAIT_UNTIL(count_matches(daemon_log(&d), "s1: spawned pid") >= 2, 30000), "s1 not restarted");

        /* One line as the shortage began and one once it was over, with its counts; no
         * busy loop: each failed accept took a connection off the queue (closed to make
         * room, or refused), or was followed by a rest of 250 ms. */
        ck_assert_msg(WAIT_UNTIL(strstr(daemon_log(&d), "accepting connections again"), 15000),
                      "the end of the shortage was not logged");
        const char *log = daemon_log(&d);
        ck_assert_int_eq(count_matches(log, "control: accept: "), 1);
        ck_assert_int_eq(count_matches(log, "accepting connections again"), 1);
        double seconds;
        unsigned long failed, refused, displaced;
        const char *summary = strstr(log, "accepting connections again; in ");
        ck_assert_msg(sscanf(summary, "accepting connections again; in %lfs %lu accepts failed (%*[^)]), %lu clients "
                                      "were refused and %lu idle ones closed",
                             &seconds, &failed, &refused, &displaced) == 4,
                      "summary: %.200s", summary);
        ck_assert_msg(failed <= refused + displaced + (unsigned long)(seconds * 4) + 8,
                      "%lu failed accepts in %.1fs for %lu refused and %lu closed clients", failed, seconds, refused,
                      displaced);
        ck_assert_uint_le(refused + displaced, FLOOD + 2);
        /* And the log stayed short: the drops for the deadline are summed up too. */
        int lines = count_log_lines(log) - lines_before;
        ck_assert_msg(lines < 40, "%d lines logged during the flood:\n%.3000s", lines, log);

        /* SIGTERM in the middle of another flood stops everything. */
        for (int i = 0; i < FLOOD; i++)
                fds[i] = raw_connect(d.sock);
        ck_assert_int_eq(daemon_stop(&d, 20000), 0);
        for (int i = 0; i < FLOOD; i++)
                close(fds[i]);
        daemon_cleanup(&d);
}
END_TEST

/* More logged services than the limit holds descriptors for: those without back off and
 * retry as after any failed spawn, or run with their output dropped, and start (or get
 * their logs) once a reload has made room.  The start-up warning said so beforehand. */
START_TEST(test_services_wait_for_descriptors) {
        struct daemon d;
        char out[16384];
        daemon_init(&d);
        d.nofile = 100;
        char body[16384];
        size_t len = 0;
        /* Two descriptors a service (the pipe's read end, the log file): 45 need more
         * than the limit holds. */
        for (int i = 0; i < 45; i++)
                len += (size_t)snprintf(body + len, sizeof body - len,
                                        "service s%02d {\n command = \"sh -c 'echo up; exec sleep 600'\"\n"
                                        " start-secs = 0\n start-retries = 0\n restart-delay = 0.2\n"
                                        " restart-delay-max = 1\n}\n", i);
        daemon_write_config(&d, "%s", body);
        daemon_start(&d);
        /* Where the shortage bites depends on the order of the starts: a pipe, the
         * descriptors a child is given, or a log file opened at the first byte (whose
         * output is dropped, and said so, until it can be written). */
        ck_assert_msg(WAIT_UNTIL(strstr(daemon_log(&d), ": Too many open files"), 10000), "log: %.3000s",
                      daemon_log(&d));
        const char *log = daemon_log(&d);
        /* valgrind keeps descriptors of its own at the top of the limit, and shows less */
        ck_assert_msg(getenv("SUPERVISORD_WRAPPER") || strstr(log, "warning: open file limit 100 is below the "),
                      "no warning about the limit: %.2000s", log);
        /* A process that could not be given its descriptors is retried; one whose log
         * could not be opened runs, its output dropped: neither stops the others. */

        /* Half the services go: the others get their pipes and run. */
        len = 0;
        for (int i = 0; i < 12; i++)
                len += (size_t)snprintf(body + len, sizeof body - len,
                                        "service s%02d {\n command = \"sh -c 'echo up; exec sleep 600'\"\n"
                                        " start-secs = 0\n start-retries = 0\n restart-delay = 0.2\n"
                                        " restart-delay-max = 1\n}\n", i);
        daemon_write_config(&d, "%s", body);
        ck_assert_int_eq(kill(d.pid, SIGHUP), 0);
        ck_assert_msg(WAIT_UNTIL(ctl(&d, out, sizeof out, "status") == 0, 20000), "status: %s\nlog: %.3000s", out,
                      daemon_log(&d) + strlen(daemon_log(&d)) - 3000);
        for (int i = 0; i < 12; i++) {
                char name[16];
                snprintf(name, sizeof name, "s%02d\t", i);
                ck_assert_int_eq(ctl(&d, out, sizeof out, "--json status s%02d", i), 0);
                ck_assert_msg(strstr(out, "\"RUNNING\""), "s%02d: %s", i, out);
        }
        ck_assert_int_eq(daemon_stop(&d, 20000), 0);
        daemon_cleanup(&d);
}
END_TEST

/* ---- memory per client ---- */

#define TAILERS 60

static long rss_kb(pid_t pid) {
        char path[64], buf[4096];
        snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
        if (read_text_file(path, buf, sizeof buf) < 0)
                return -1;
        const char *p = strstr(buf, "VmRSS:");
        return p ? strtol(p + 6, NULL, 10) : -1;
}

/* How many of FDS the server has closed, seen without reading. */
static int count_hung_up(const int *fds, int n) {
        int closed = 0;
        for (int i = 0; i < n; i++) {
                struct pollfd p = { .fd = fds[i], .events = POLLRDHUP };
                closed += poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP));
        }
        return closed;
}

static bool all_have_queued(const int *fds, int n, int bytes) {
        for (int i = 0; i < n; i++) {
                int queued = 0;
                if (ioctl(fds[i], FIONREAD, &queued) < 0 || queued < bytes)
                        return false;
        }
        return true;
}

/* 2.4 MB of log, then QUIET ones stay silent and the others write 2 MB a second. */
#define BIG_LOG "yes 0123456789012345678901234567890123456789 | head -n 60000"

/* Clients that ask for a whole log and to follow it, and never read: each costs the
 * daemon less than the documented CONTROL_CLIENT_MEMORY_MAX, however much the log holds
 * (before, each held the whole tail, up to 4 MiB, and 5 MiB of what followed); a client
 * that falls behind a service writing fast is dropped with a message; and the daemon
 * answers all along. */
START_TEST(test_never_reading_followers) {
        static int fds[TAILERS];
        struct daemon d;
        char out[4096];
        if (harness_instrumented()) {
                fprintf(stderr, "test_never_reading_followers: memory figures of an instrumented daemon, skipped\n");
                return;
        }
        daemon_init(&d);
        daemon_write_config(&d,
                            "service quiet {\n command = \"sh -c '" BIG_LOG "; exec sleep 600'\"\n start-secs = 0\n}\n"
                            "service chatty {\n command = \"sh -c '" BIG_LOG "; sleep 1; while :; do " BIG_LOG
                            "; sleep 1; done'\"\n start-secs = 0\n log-max-size = 64M\n}\n");
        daemon_start(&d);
        char path[256];
        snprintf(path, sizeof path, "%s/logs/quiet.log", d.dir);
        struct stat st;
        ck_assert(WAIT_UNTIL(stat(path, &st) == 0 && st.st_size == 60000 * 41, 20000));
        ck_assert_int_eq(ctl(&d, out, sizeof out, "status"), 0);
        long before = rss_kb(d.pid);
        ck_assert_int_gt(before, 0);
        long bound = TAILERS * (long)(CONTROL_CLIENT_MEMORY_MAX / 1024);

        /* A quiet log: they stay, each with its kernel buffer full. */
        static const char quiet[] = "tail quiet 1000000 follow\n";
        for (int i = 0; i < TAILERS; i++) {
                fds[i] = raw_connect(d.sock);
                ck_assert_int_eq(send(fds[i], quiet, sizeof quiet - 1, MSG_NOSIGNAL), (ssize_t)sizeof quiet - 1);
        }
        ck_assert_msg(WAIT_UNTIL(all_have_queued(fds, TAILERS, 64 << 10), 20000), "the tails were not sent");
        ck_assert_int_eq(ctl(&d, out, sizeof out, "status quiet"), 0);
        long grown = rss_kb(d.pid) - before;
        ck_assert_msg(grown <= bound, "%d quiet followers cost %ld kB, more than %ld kB", TAILERS, grown, bound);
        /* As many as may be served at once: one that reads nothing makes room for status. */
        static int more[CONTROL_MAX_CLIENTS];
        for (int i = 0; i < CONTROL_MAX_CLIENTS - TAILERS; i++) {
                more[i] = raw_connect(d.sock);
                ck_assert_int_eq(send(more[i], quiet, sizeof quiet - 1, MSG_NOSIGNAL), (ssize_t)sizeof quiet - 1);
        }
        ck_assert_msg(WAIT_UNTIL(all_have_queued(more, CONTROL_MAX_CLIENTS - TAILERS, 64 << 10), 30000),
                      "the tails were not sent");
        ck_assert_int_eq(ctl(&d, out, sizeof out, "status quiet"), 0);
        for (int i = 0; i < CONTROL_MAX_CLIENTS - TAILERS; i++)
                close(more[i]);
        for (int i = 0; i < TAILERS; i++)
                close(fds[i]);

        /* A log written fast: they fall behind, and are dropped. */
        static const char chatty[] = "tail chatty 1000000 follow\n";
        for (int i = 0; i < TAILERS; i++) {
                fds[i] = raw_connect(d.sock);
                ck_assert_int_eq(send(fds[i], chatty, sizeof chatty - 1, MSG_NOSIGNAL), (ssize_t)sizeof chatty - 1);
        }
        /* Each is let go: dropped as too slow (its message waits for it to read, which
         * test_logs.c's test_follower_too_slow_is_dropped shows), then closed for not
         * reading its answer in 30 s; memory stays bounded all along. */
        long worst = 0;
        ck_assert_msg(WAIT_UNTIL((worst = rss_kb(d.pid) - before > worst ? rss_kb(d.pid) - before : worst,
                                  count_hung_up(fds, TAILERS) == TAILERS),
                                 90000),
                      "%d of %d followers let go", count_hung_up(fds, TAILERS), TAILERS);
        fprintf(stderr, "test_never_reading_followers: %d followers: %ld kB quiet, at most %ld kB fast (bound %ld kB)\n",
                TAILERS, grown, worst, bound);
        ck_assert_msg(worst <= bound, "%d fast followers cost up to %ld kB, more than %ld kB", TAILERS, worst, bound);
        ck_assert(strstr(daemon_log(&d), "tail -f chatty by pid"));
        ck_assert_int_eq(ctl(&d, out, sizeof out, "status chatty"), 0);
        for (int i = 0; i < TAILERS; i++)
                close(fds[i]);
        ck_assert_int_eq(daemon_stop(&d, 10000), 0);
        daemon_cleanup(&d);
}
END_TEST

static Suite *limits_suite(void) {
        Suite *s = suite_create("limits");
        TCase *tc = tcase_create("descriptors");
        tcase_set_timeout(tc, 180);
        tcase_add_test(tc, test_descriptor_exhaustion);
        tcase_add_test(tc, test_services_wait_for_descriptors);
        suite_add_tcase(s, tc);
        tc = tcase_create("memory");
        tcase_set_timeout(tc, 240);
        tcase_add_test(tc, test_never_reading_followers);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) { return run_suite(limits_suite()) ? 1 : 0; }
