/* probe.c — the timing helper of the benchmark (tests/bench/bench.py).
 *
 * Whatever needs sub-millisecond precision or must not be slowed by Python lives here:
 * spotting processes by their command line in /proc, timing a restart after SIGKILL,
 * timing a client command, the bare fork+exec loop, the raw pipe-to-file copy and the bare
 * ping loop (the three physical limits), and the log writer the services run.
 *
 * Processes are found by their argv: every benchmark service runs MARKER (a symlink to
 * sleep(1) in the run's temp dir, so unique to the run) with the arguments "100000" and
 * its index.  Scanning all of /proc costs milliseconds with a few thousand processes, so
 * only pids allocated after a snapshot of /proc/sys/kernel/ns_last_pid are looked at: the
 * kernel hands out pids in increasing order, wrapping at pid_max, so everything forked
 * since the snapshot lies in the circular interval (snapshot, ns_last_pid].
 *
 * When a new process counts is when it has exec'd.  As root the probe hears of every exec
 * from the kernel's process events connector, with the moment it happened: on two
 * cores the probe itself may wait a millisecond for a core behind the very process it
 * times, and that wait is not the supervisor's.  /proc is still scanned, for what
 * happened before the probe started listening and in case events are lost (then the
 * time a process is found is the time of the scan, as without the connector).
 *
 * Every subcommand prints one line of numbers on stdout; exit 1 on timeout, 2 on usage. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LINE_BYTES 100            /* the log writer's line length, newline included */
#define CHUNK_LINES 655           /* lines per write(): 65,500 bytes */

static double now(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void pause_us(long us) {
        struct timespec ts = { .tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000 };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static int pid_max(void) {
        static int cached;
        if (!cached) {
                FILE *f = fopen("/proc/sys/kernel/pid_max", "re");
                if (!f || fscanf(f, "%d", &cached) != 1)
                        cached = 4194304;
                if (f)
                        fclose(f);
        }
        return cached;
}

static int last_pid(void) {
        char buf[32];
        int fd = open("/proc/sys/kernel/ns_last_pid", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -1;
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n <= 0)
                return -1;
        buf[n] = '\0';
        return atoi(buf);
}

/* The command line of PID (NUL-separated, as in /proc) into buf; -1 if it is gone. */
static ssize_t read_cmdline(int pid, char *buf, size_t size) {
        char path[40];
        snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -1;
        ssize_t n = read(fd, buf, size);
        close(fd);
        return n;
}

/* "a b c" -> "a\0b\0c\0", the form of /proc/PID/cmdline; returns its length. */
static size_t words_to_cmdline(const char *words, char *out, size_t size) {
        size_t n = strlen(words);
        if (n + 1 > size)
                exit(2);
        for (size_t i = 0; i < n; i++)
                out[i] = words[i] == ' ' ? '\0' : words[i];
        out[n] = '\0';
        return n + 1;
}

/* Pid states in the scanned interval. */
/* A pid's state in a scan.  A pid at or below ns_last_pid may not be in /proc yet (the
 * kernel allocates it before the new process is visible): only after PID_MISSING_MAX
 * scans without it is it taken for gone. */
enum { PID_UNSEEN, PID_MATCHED, PID_DEAD, PID_MISSING, PID_MISSING_MAX = 250 };

/* ---- exec events ---- */

/* Subscribe to the kernel's process events; -1 where that is not possible (not root, no
 * CONFIG_PROC_EVENTS). */
static int exec_events_open(void) {
        int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_CONNECTOR);
        if (fd < 0)
                return -1;
        int size = 16 << 20;  /* a thousand starts are a few thousand events */
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size);
        struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = CN_IDX_PROC };
        struct __attribute__((packed)) {
                struct nlmsghdr nl;
                struct cn_msg cn;
                enum proc_cn_mcast_op op;
        } msg = { .nl = { .nlmsg_len = sizeof msg, .nlmsg_type = NLMSG_DONE, .nlmsg_pid = (uint32_t)getpid() },
                  .cn = { .id = { .idx = CN_IDX_PROC, .val = CN_VAL_PROC }, .len = sizeof(enum proc_cn_mcast_op) },
                  .op = PROC_CN_MCAST_LISTEN };
        if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || send(fd, &msg, sizeof msg, 0) < 0) {
                close(fd);
                return -1;
        }
        return fd;
}

/* The next exec event queued: 1 with its pid and time (CLOCK_MONOTONIC seconds), 0 when
 * there is none now, -1 when events were lost. */
static int exec_event_next(int fd, int *pid, double *when) {
        static union {
                char bytes[16384];
                struct nlmsghdr align;
        } buf;
        static size_t len, offset;
        for (;;) {
                if (offset >= len) {
                        ssize_t n = recv(fd, buf.bytes, sizeof buf.bytes, 0);
                        if (n < 0)
                                return errno == EAGAIN || errno == EINTR ? 0 : -1;
                        len = (size_t)n;
                        offset = 0;
                }
                struct nlmsghdr *nl = (struct nlmsghdr *)(buf.bytes + offset);
                if (!NLMSG_OK(nl, (unsigned)(len - offset))) {
                        offset = len;
                        continue;
                }
                offset += NLMSG_ALIGN(nl->nlmsg_len);
                const struct cn_msg *cn = NLMSG_DATA(nl);
                const struct proc_event *ev = (const struct proc_event *)cn->data;
                if (ev->what != PROC_EVENT_EXEC)
                        continue;
                *pid = ev->event_data.exec.process_tgid;
                *when = (double)ev->timestamp_ns / 1e9;
                return 1;
        }
}

/* Wait up to US microseconds for events on FD (or just sleep when there is none). */
static void wait_events(int fd, long us) {
        if (fd < 0) {
                pause_us(us);
                return;
        }
        struct pollfd p = { .fd = fd, .events = POLLIN };
        (void)poll(&p, 1, (int)(us / 1000 > 0 ? us / 1000 : 1));
}

/* Scan the pids forked since SNAPSHOT; a pid's command line matches when it starts with
 * PATTERN (PREFIX) or equals it.  Matches and dead pids are remembered in STATE so they
 * are not read again.  Returns how many pids have matched so far; *first the first
 * match. */
static int scan_new(int snapshot, const char *pattern, size_t pattern_len, bool prefix, unsigned char *state,
                    int *matched, int *first) {
        int max = pid_max(), end = last_pid();
        if (end < 0)
                return *matched;
        char buf[4096];
        /* Bounded by pid_max: never loop forever on an odd ns_last_pid. */
        for (int pid = snapshot, steps = 0; pid != end && steps < max; steps++) {
                pid = pid + 1 >= max ? 300 : pid + 1;  /* the kernel wraps to 300 */
                if (state[pid] != PID_UNSEEN && state[pid] < PID_MISSING)
                        continue;
                ssize_t n = read_cmdline(pid, buf, sizeof buf);
                if (n < 0) {
                        /* Gone for good, or not there yet. */
                        state[pid] = state[pid] == PID_UNSEEN ? PID_MISSING
                                     : state[pid] >= PID_MISSING_MAX ? PID_DEAD : state[pid] + 1;
                        continue;
                }
                bool match = prefix ? (size_t)n >= pattern_len && memcmp(buf, pattern, pattern_len) == 0
                                    : (size_t)n == pattern_len && memcmp(buf, pattern, pattern_len) == 0;
                if (match) {
                        state[pid] = PID_MATCHED;
                        if (!*first)
                                *first = pid;
                        (*matched)++;
                }
        }
        return *matched;
}

static bool cmdline_matches(int pid, const char *pattern, size_t pattern_len, bool prefix) {
        char buf[4096];
        ssize_t n = read_cmdline(pid, buf, sizeof buf);
        return n >= 0 && (prefix ? (size_t)n >= pattern_len && memcmp(buf, pattern, pattern_len) == 0
                                 : (size_t)n == pattern_len && memcmp(buf, pattern, pattern_len) == 0);
}

/* Take the exec events queued on FD: every pid that now runs PATTERN and was not counted
 * yet is counted, and *latest (and *first) follow.  Returns false if events were lost. */
static bool take_exec_events(int fd, const char *pattern, size_t pattern_len, bool prefix, unsigned char *state,
                             int *matched, int *first, double *latest) {
        int pid, r;
        double when;
        while (fd >= 0 && (r = exec_event_next(fd, &pid, &when)) != 0) {
                if (r < 0)
                        return false;
                if (pid <= 0 || pid > pid_max() || state[pid] == PID_MATCHED
                    || !cmdline_matches(pid, pattern, pattern_len, prefix))
                        continue;
                state[pid] = PID_MATCHED;
                if (!*first)
                        *first = pid;
                (*matched)++;
                if (when > *latest)
                        *latest = when;
        }
        return true;
}

/* waitcount MARKER N SNAPSHOT TIMEOUT_MS: wait until N processes forked since SNAPSHOT
 * run MARKER (argv[0]); print the CLOCK_MONOTONIC time it happened. */
static int cmd_waitcount(int argc, char **argv) {
        if (argc != 5)
                return 2;
        char pattern[4096];
        size_t len = strlen(argv[1]) + 1;  /* argv[0] and its NUL */
        if (len > sizeof pattern)
                return 2;
        memcpy(pattern, argv[1], len);
        int want = atoi(argv[2]), snapshot = atoi(argv[3]), matched = 0, first = 0;
        double deadline = now() + atoi(argv[4]) / 1000.0, latest = 0;
        unsigned char *state = calloc((size_t)pid_max() + 1, 1);
        if (!state)
                return 2;
        int events = exec_events_open();
        double last_scan = 0;
        for (;;) {
                /* Events first: a pid they count has its exact time. */
                if (!take_exec_events(events, pattern, len, true, state, &matched, &first, &latest)) {
                        close(events);
                        events = -1;
                }
                /* The scan finds what exec'd before the probe listened; with events it
                 * is only a safety net. */
                if (events < 0 || last_scan == 0 || now() - last_scan > 0.1) {
                        int before = matched;
                        scan_new(snapshot, pattern, len, true, state, &matched, &first);
                        last_scan = now();
                        if (matched > before)
                                latest = last_scan;  /* found by the scan: known only from now */
                }
                if (matched >= want)
                        break;
                if (now() > deadline) {
                        printf("timeout %d\n", matched);
                        return 1;
                }
                wait_events(events, 500);
        }
        printf("%.6f %d\n", latest, matched);
        return 0;
}

/* restart PID "CMDLINE WORDS" TIMEOUT_MS: SIGKILL PID, then time until a new process
 * runs exactly CMDLINE; print the latency in microseconds and the new pid. */
static int cmd_restart(int argc, char **argv) {
        if (argc != 4)
                return 2;
        char pattern[4096];
        size_t len = words_to_cmdline(argv[2], pattern, sizeof pattern);
        int victim = atoi(argv[1]), matched = 0, found = 0;
        unsigned char *state = calloc((size_t)pid_max() + 1, 1);
        if (!state)
                return 2;
        int events = exec_events_open();
        int snapshot = last_pid();
        double start = now(), deadline = start + atoi(argv[3]) / 1000.0, when = 0;
        if (kill(victim, SIGKILL) < 0) {
                perror("kill");
                return 2;
        }
        /* Wait for the events, or poll every 50 us without them: not busily, since on a
         * machine with few cores a busy poller would take the core the new process needs
         * for its exec, and time the scheduler. */
        for (;;) {
                if (!take_exec_events(events, pattern, len, false, state, &matched, &found, &when)) {
                        close(events);
                        events = -1;
                }
                if (matched)
                        break;
                if (events < 0 && scan_new(snapshot, pattern, len, false, state, &matched, &found) > 0) {
                        when = now();
                        break;
                }
                if (now() > deadline) {
                        printf("timeout\n");
                        return 1;
                }
                wait_events(events, 50);
        }
        printf("%.1f %d\n", (when - start) * 1e6, found);
        return 0;
}

/* time CMD ARGS...: run a client command with its output on a pipe that is read to the
 * end; print wall microseconds, exit status and the number of output lines. */
static int cmd_time(int argc, char **argv) {
        if (argc < 2)
                return 2;
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) < 0)
                return 2;
        double start = now();
        pid_t pid = fork();
        if (pid < 0)
                return 2;
        if (pid == 0) {
                dup2(fds[1], STDOUT_FILENO);
                execvp(argv[1], argv + 1);
                _exit(127);
        }
        close(fds[1]);
        long lines = 0;
        char buf[65536];
        for (;;) {
                ssize_t n = read(fds[0], buf, sizeof buf);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                for (ssize_t i = 0; i < n; i++)
                        lines += buf[i] == '\n';
        }
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        double elapsed = now() - start;
        close(fds[0]);
        printf("%.1f %d %ld\n", elapsed * 1e6, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
               lines);
        return 0;
}

/* forkloop N MARKER: the physical limits of a start and a shutdown: fork+exec N
 * "MARKER 100000 i" in a loop, wait until every one has exec'd; then SIGTERM each and
 * reap them all (a bare kill-and-reap, what any supervisor's shutdown must do at least).
 * Prints the seconds of both. */
static int cmd_forkloop(int argc, char **argv) {
        if (argc != 3)
                return 2;
        int n = atoi(argv[1]);
        const char *marker = argv[2];
        size_t marker_len = strlen(marker) + 1;
        pid_t *pids = calloc((size_t)n, sizeof *pids);
        bool *seen = calloc((size_t)n, sizeof *seen);
        if (!pids || !seen)
                return 2;
        double start = now();
        for (int i = 0; i < n; i++) {
                char index[16];
                snprintf(index, sizeof index, "%d", i);
                pids[i] = fork();
                if (pids[i] == 0) {
                        execl(marker, marker, "100000", index, (char *)NULL);
                        _exit(127);
                }
                if (pids[i] < 0) {
                        perror("fork");
                        n = i;
                        break;
                }
        }
        int remaining = n;
        double deadline = start + 60;
        char buf[4096];
        while (remaining > 0 && now() < deadline) {
                for (int i = 0; i < n; i++) {
                        if (seen[i])
                                continue;
                        ssize_t len = read_cmdline(pids[i], buf, sizeof buf);
                        if (len >= (ssize_t)marker_len && memcmp(buf, marker, marker_len) == 0) {
                                seen[i] = true;
                                remaining--;
                        }
                }
                if (remaining > 0)
                        pause_us(200);
        }
        double elapsed = now() - start;
        double kill_start = now();
        for (int i = 0; i < n; i++)
                kill(pids[i], remaining > 0 ? SIGKILL : SIGTERM);
        for (int reaped = 0; reaped < n;) {
                pid_t pid = waitpid(-1, NULL, 0);
                if (pid < 0 && errno == EINTR)
                        continue;
                if (pid < 0)
                        break;
                reaped++;
        }
        double kill_elapsed = now() - kill_start;
        if (remaining > 0) {
                printf("timeout %d\n", n - remaining);
                return 1;
        }
        printf("%.6f %.6f\n", elapsed, kill_elapsed);
        return 0;
}

static double cpu_seconds(void) {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* pingloop N WINDOW_MS: the physical limit of heartbeats: N shells answering pings with
 * the idiom of SPEC.md on fds 3 and 4, and this process doing only what the protocol
 * needs, once a second: one write of "PING seq" to each (all at once, which is the
 * cheapest), then, 50 ms later, one epoll_wait over the pong pipes and one read of each
 * that has something.  Prints its own CPU over the window (whole seconds, at least one)
 * in % of a core; then closes the pipes, which ends the shells, and reaps them. */
static int cmd_pingloop(int argc, char **argv) {
        if (argc != 3)
                return 2;
        int n = atoi(argv[1]), rounds = atoi(argv[2]) / 1000, started = 0, status = 2;
        if (n <= 0)
                return 2;
        if (rounds < 1)
                rounds = 1;
        int *ping = calloc((size_t)n, sizeof *ping), *pong = calloc((size_t)n, sizeof *pong);
        pid_t *pids = calloc((size_t)n, sizeof *pids);
        struct epoll_event *events = calloc((size_t)n, sizeof *events);
        int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        if (!ping || !pong || !pids || !events || epoll_fd < 0)
                return 2;
        signal(SIGPIPE, SIG_IGN);  /* a shell that died shows as EPIPE, and fails the run */
        for (; started < n; started++) {
                int i = started, to_child[2], from_child[2];
                if (pipe2(to_child, O_CLOEXEC) < 0)
                        goto done;
                if (pipe2(from_child, O_CLOEXEC) < 0) {
                        close(to_child[0]);
                        close(to_child[1]);
                        goto done;
                }
                pids[i] = fork();
                if (pids[i] == 0) {
                        signal(SIGPIPE, SIG_DFL);
                        dup2(to_child[0], 3);
                        dup2(from_child[1], 4);
                        execl("/bin/sh", "sh", "-c", "while read -r _ seq <&3; do echo \"PONG $seq\" >&4; done",
                              (char *)NULL);
                        _exit(127);
                }
                close(to_child[0]);
                close(from_child[1]);
                ping[i] = to_child[1];
                pong[i] = from_child[0];
                if (pids[i] < 0) {
                        close(ping[i]);
                        close(pong[i]);
                        goto done;
                }
                fcntl(ping[i], F_SETFL, O_NONBLOCK);
                fcntl(pong[i], F_SETFL, O_NONBLOCK);
                struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)i };
                if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, pong[i], &ev) < 0) {
                        started++;
                        goto done;
                }
        }
        pause_us(1500000);  /* the shells start; round 0 below warms up, unmeasured */
        double cpu_start = 0;
        for (int round = 0; round <= rounds; round++) {
                if (round == 1)
                        cpu_start = cpu_seconds();
                double begin = now();
                char line[32], buf[512];
                int len = snprintf(line, sizeof line, "PING %d\n", round + 1);
                for (int i = 0; i < n; i++)
                        if (write(ping[i], line, (size_t)len) < 0 && errno != EAGAIN)
                                goto done;
                pause_us(50000);
                int ready = epoll_wait(epoll_fd, events, n, 0);
                for (int j = 0; j < ready; j++)
                        if (read(pong[events[j].data.u32], buf, sizeof buf) < 0 && errno != EAGAIN)
                                goto done;
                double left = begin + 1 - now();
                if (left > 0)
                        pause_us((long)(left * 1e6));
        }
        printf("%.4f\n", (cpu_seconds() - cpu_start) / rounds * 100);
        status = 0;
done:
        /* A closed ping pipe ends a shell's loop, and so the shell. */
        for (int i = 0; i < started; i++) {
                close(ping[i]);
                close(pong[i]);
        }
        for (int i = 0; i < started; i++)
                waitpid(pids[i], NULL, 0);
        return status;
}

static void fill_lines(char *buf) {
        for (int i = 0; i < CHUNK_LINES; i++) {
                char *line = buf + i * LINE_BYTES;
                int n = snprintf(line, LINE_BYTES, "log line %06d ", i);
                memset(line + n, 'x', (size_t)(LINE_BYTES - 1 - n));
                line[LINE_BYTES - 1] = '\n';
        }
}

static int write_all(int fd, const char *buf, size_t len) {
        while (len > 0) {
                ssize_t n = write(fd, buf, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -1;
                }
                buf += n;
                len -= (size_t)n;
        }
        return 0;
}

/* BYTES of 100-byte lines to fd, in 65,500-byte writes. */
static int write_lines(int fd, long long bytes) {
        static char buf[CHUNK_LINES * LINE_BYTES];
        fill_lines(buf);
        while (bytes > 0) {
                size_t n = bytes < (long long)sizeof buf ? (size_t)bytes : sizeof buf;
                if (write_all(fd, buf, n) < 0)
                        return -1;
                bytes -= (long long)n;
        }
        return 0;
}

/* write BYTES STAMPFILE: the log-throughput service: put the CLOCK_MONOTONIC start time
 * in STAMPFILE, write BYTES of lines to stdout, then stay up (a supervisor would restart
 * a service that exits, and write the bytes again) until killed. */
static int cmd_write(int argc, char **argv) {
        if (argc != 3)
                return 2;
        long long bytes = atoll(argv[1]);
        FILE *stamp = fopen(argv[2], "we");
        if (!stamp)
                return 2;
        fprintf(stamp, "%.6f\n", now());
        if (fclose(stamp) != 0)
                return 2;
        if (write_lines(STDOUT_FILENO, bytes) < 0)
                return 1;
        for (;;)
                pause();
}

/* copy BYTES FILE [splice]: the physical limit of log capture: a child writes BYTES of
 * lines into a pipe, the parent copies them into FILE with read/write (or splice); print
 * the seconds from the fork to the last byte written. */
static int cmd_copy(int argc, char **argv) {
        if (argc != 3 && argc != 4)
                return 2;
        long long bytes = atoll(argv[1]);
        bool use_splice = argc == 4 && strcmp(argv[3], "splice") == 0;
        int out = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        int fds[2];
        if (out < 0 || pipe2(fds, O_CLOEXEC) < 0)
                return 2;
        double start = now();
        pid_t pid = fork();
        if (pid < 0)
                return 2;
        if (pid == 0) {
                close(fds[0]);
                _exit(write_lines(fds[1], bytes) < 0 ? 1 : 0);
        }
        close(fds[1]);
        long long copied = 0;
        static char buf[65536];
        for (;;) {
                ssize_t n;
                if (use_splice)
                        n = splice(fds[0], NULL, out, NULL, 1 << 20, SPLICE_F_MOVE);
                else if ((n = read(fds[0], buf, sizeof buf)) > 0 && write_all(out, buf, (size_t)n) < 0)
                        return 2;
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                copied += n;
        }
        double elapsed = now() - start;
        waitpid(pid, NULL, 0);
        close(out);
        if (copied != bytes) {
                fprintf(stderr, "copied %lld of %lld bytes\n", copied, bytes);
                return 1;
        }
        printf("%.6f\n", elapsed);
        return 0;
}

/* lastpid: the snapshot to pass to waitcount. */
static int cmd_lastpid(void) {
        printf("%d\n", last_pid());
        return 0;
}

int main(int argc, char **argv) {
        static const struct {
                const char *name;
                int (*run)(int, char **);
        } commands[] = {
                { "waitcount", cmd_waitcount }, { "restart", cmd_restart }, { "time", cmd_time },
                { "forkloop", cmd_forkloop },   { "write", cmd_write },     { "copy", cmd_copy },
                { "pingloop", cmd_pingloop },
        };
        if (argc >= 2 && strcmp(argv[1], "lastpid") == 0)
                return cmd_lastpid();
        for (size_t i = 0; argc >= 2 && i < sizeof commands / sizeof commands[0]; i++)
                if (strcmp(argv[1], commands[i].name) == 0) {
                        int r = commands[i].run(argc - 1, argv + 1);
                        if (r == 2)
                                fprintf(stderr, "probe %s: usage error or setup failure\n", argv[1]);
                        return r;
                }
        fprintf(stderr, "usage: probe waitcount|restart|time|forkloop|write|copy|pingloop|lastpid ...\n");
        return 2;
}
