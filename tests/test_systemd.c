/* test_systemd.c — supervisord as a systemd service, against the real binaries:
 * socket activation (systemd-socket-activate, and LISTEN_FDS by hand for the error
 * cases), the sd_notify sequence READY=1 / STATUS= / RELOADING=1 / STOPPING=1 on a
 * NOTIFY_SOCKET the test binds, the watchdog keep-alive, log-target, and journal
 * logging into a journal socket of the test's own (in a private /run).
 *
 * Nothing here needs systemd as PID 1.  The journal tests need a mount namespace
 * (root or CAP_SYS_ADMIN); without one they say so and pass as skipped. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "harness.h"

/* ---- helpers ---- */

struct spawn_options {
        const char *const *env;  /* "NAME=VALUE" added; WATCHDOG_PID=self and
                                  * JOURNAL_STREAM=stderr are filled in by the child */
        int listen_fd;           /* >= 0: passed as fd 3 with LISTEN_FDS=1, LISTEN_PID=self */
};

/* Start ARGV with stdout and stderr to d->log; d->pid is the child (and, after exec,
 * whatever it execs: systemd-socket-activate execs supervisord in the same process). */
static void spawn_daemon(struct daemon *d, char *const argv[], const struct spawn_options *o) {
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGTERM);
                int log = open(d->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
                if (log >= 0) {
                        dup2(log, STDOUT_FILENO);
                        dup2(log, STDERR_FILENO);
                }
                char value[64];
                for (const char *const *e = o && o->env ? o->env : NULL; e && *e; e++) {
                        if (strcmp(*e, "WATCHDOG_PID=self") == 0) {
                                snprintf(value, sizeof value, "%d", (int)getpid());
                                setenv("WATCHDOG_PID", value, 1);
                        } else if (strcmp(*e, "JOURNAL_STREAM=stderr") == 0) {
                                struct stat st;
                                fstat(STDERR_FILENO, &st);
                                snprintf(value, sizeof value, "%llu:%llu", (unsigned long long)st.st_dev,
                                         (unsigned long long)st.st_ino);
                                setenv("JOURNAL_STREAM", value, 1);
                        } else
                                putenv((char *)*e);
                }
                if (o && o->listen_fd >= 0) {
                        if (o->listen_fd == 3)
                                fcntl(3, F_SETFD, 0);
                        else
                                dup2(o->listen_fd, 3);
                        snprintf(value, sizeof value, "%d", (int)getpid());
                        setenv("LISTEN_PID", value, 1);
                        setenv("LISTEN_FDS", "1", 1);
                }
                execvp(argv[0], argv);
                _exit(127);
        }
        d->pid = pid;
}

static void spawn_supervisord(struct daemon *d, const struct spawn_options *o) {
        char *argv[] = { (char *)supervisord_path(), "-n", "-c", d->conf, NULL };
        spawn_daemon(d, argv, o);
}

static bool daemon_answers(struct daemon *d) {
        char out[256];
        return ctl(d, out, sizeof out, "pid") == 0;
}

/* Wait for the daemon to exit by itself; its exit status, or -1 on timeout. */
static int wait_exit(struct daemon *d, int timeout_ms) {
        int status = 0;
        if (!WAIT_UNTIL(waitpid(d->pid, &status, WNOHANG) == d->pid, timeout_ms))
                return -1;
        d->pid = 0;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static bool program_available(const char *name) {
        char out[256];
        char *argv[] = { "sh", "-c", "command -v \"$0\"", (char *)name, NULL };
        return run_capture(argv, out, sizeof out) == 0;
}

static bool log_contains(struct daemon *d, const char *needle) {
        char buf[65536];
        return read_text_file(d->log, buf, sizeof buf) >= 0 && strstr(buf, needle);
}

/* The datagram socket a service manager would read: NOTIFY_SOCKET for supervisord, or
 * /run/systemd/journal/socket.  Everything received is kept in a transcript, in order. */
struct listener {
        int fd;
        char path[192];
        char transcript[16384];  /* every message, each followed by "\n---\n" */
        size_t transcript_len;
        long long arrived;       /* when the last one came, as now_ms() counts: by the kernel's
                                  * stamp, not by when a busy test came to read it */
};

static void listener_bind(struct listener *l, const char *path) {
        memset(l, 0, sizeof *l);
        snprintf(l->path, sizeof l->path, "%s", path);
        l->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        ck_assert_int_ge(l->fd, 0);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
        unlink(path);
        ck_assert_int_eq(bind(l->fd, (struct sockaddr *)&sa, sizeof sa), 0);
        int on = 1;
        ck_assert_int_eq(setsockopt(l->fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on), 0);
}

/* The next message (NUL-terminated, with a leading and a trailing "\n" so that
 * "\nKEY=VALUE\n" matches one whole field), or false after timeout_ms. */
static bool listener_next(struct listener *l, char *buf, size_t size, int timeout_ms) {
        struct pollfd p = { .fd = l->fd, .events = POLLIN };
        if (poll(&p, 1, timeout_ms) <= 0)
                return false;
        struct iovec iov = { .iov_base = buf + 1, .iov_len = size - 3 };
        union {
                char space[CMSG_SPACE(sizeof(struct timespec))];
                struct cmsghdr align;
        } control;
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control, .msg_controllen = sizeof control };
        ssize_t n = recvmsg(l->fd, &msg, MSG_DONTWAIT);
        if (n < 0)
                return false;
        l->arrived = now_ms();
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
                        /* a wall-clock stamp: how long ago, by that clock, on the monotonic one */
                        struct timespec stamp, now;
                        memcpy(&stamp, CMSG_DATA(c), sizeof stamp);
                        clock_gettime(CLOCK_REALTIME, &now);
                        long long ago = (now.tv_sec - stamp.tv_sec) * 1000LL + (now.tv_nsec - stamp.tv_nsec) / 1000000;
                        l->arrived -= ago > 0 ? ago : 0;
                }
        buf[0] = '\n';
        if (n > 0 && buf[n] != '\n')
                buf[++n] = '\n';
        buf[n + 1] = '\0';
        l->transcript_len += (size_t)snprintf(l->transcript + l->transcript_len,
                                              sizeof l->transcript - l->transcript_len, "%s---\n", buf + 1);
        if (l->transcript_len >= sizeof l->transcript)
                l->transcript_len = sizeof l->transcript - 1;
        return true;
}

/* Read messages until one contains NEEDLE; its arrival (as now_ms() counts), or -1 after
 * timeout_ms.  The message is left in buf. */
static long long listener_wait(struct listener *l, const char *needle, char *buf, size_t size, int timeout_ms) {
        long long deadline = now_ms() + timeout_ms;
        for (long long left; (left = deadline - now_ms()) > 0;)
                if (listener_next(l, buf, size, (int)left) && strstr(buf, needle))
                        return l->arrived;
        return -1;
}

static void listener_close(struct listener *l) {
        close(l->fd);
        unlink(l->path);
}

/* ---- socket activation ---- */

START_TEST(test_socket_activation) {
        if (!program_available("systemd-socket-activate")) {
                printf("SKIP test_socket_activation: systemd-socket-activate not installed (make deps installs systemd)\n");
                return;
        }
        struct daemon d;
        char out[4096], state[64];
        daemon_init(&d);
        daemon_write_config(&d, "service one { command = \"sleep 60\"\n start-secs = 0\n}\n");
        /* systemd-socket-activate binds the socket, waits for the first connection and
         * then execs supervisord with it as fd 3 — as systemd does with a .socket unit. */
        char *argv[] = { "systemd-socket-activate", "-l", d.sock, (char *)supervisord_path(), "-n", "-c", d.conf, NULL };
        spawn_daemon(&d, argv, NULL);
        struct stat st;
        ck_assert_msg(WAIT_UNTIL(stat(d.sock, &st) == 0 && S_ISSOCK(st.st_mode), SOON_MS), "no socket (log %s)", d.log);

        /* The first request is what activates supervisord: it waits in the backlog.  (The
         * socket file exists a moment before listen(): until then connecting is refused.) */
        ck_assert_msg(WAIT_UNTIL(ctl(&d, out, sizeof out, "pid") == 0, SOON_MS), "no answer (log %s)", d.log);
        ck_assert_int_eq(atoi(out), d.pid);
        ASSERT_STATE_WITHIN(&d, "one", "RUNNING", SOON_MS);
        ck_assert_msg(log_contains(&d, "(socket activation)"), "supervisord did not take the passed socket");

        /* Reloads keep the socket: supervisorctl reload, then SIGHUP. */
        daemon_write_config(&d, "service one { command = \"sleep 60\"\n start-secs = 0\n}\n"
                                "service two { command = \"sleep 60\"\n start-secs = 0\n}\n");
        ck_assert_int_eq(ctl(&d, out, sizeof out, "update"), 0);
        ASSERT_STATE_WITHIN(&d, "two", "RUNNING", SOON_MS);
        daemon_write_config(&d, "service one { command = \"sleep 60\"\n start-secs = 0\n}\n"
                                "service three { command = \"sleep 60\"\n start-secs = 0\n}\n");
        ck_assert_int_eq(kill(d.pid, SIGHUP), 0);
        ASSERT_STATE_WITHIN(&d, "three", "RUNNING", SOON_MS);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "status two"), 4);
        ck_assert_str_eq(service_state_of(&d, "one", state, sizeof state), "RUNNING");

        /* The socket is the manager's: still there after supervisord exits. */
        ck_assert_int_eq(daemon_stop(&d, 10000), 0);
        ck_assert_msg(stat(d.sock, &st) == 0 && S_ISSOCK(st.st_mode), "supervisord removed a socket it did not create");
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_listen_fds_checked) {
        struct daemon d;
        char out[4096];
        daemon_init(&d);
        daemon_write_config(&d, "service one { command = \"sleep 60\"\n}\n");

        /* A pipe is no control socket: refuse to start, say why. */
        int pipe_fds[2];
        ck_assert_int_eq(pipe2(pipe_fds, O_CLOEXEC), 0);
        struct spawn_options o = { .listen_fd = pipe_fds[0] };
        spawn_supervisord(&d, &o);
        ck_assert_int_eq(wait_exit(&d, 5000), 1);
        ck_assert_msg(log_contains(&d, "not a listening AF_UNIX stream socket"), "no reason given (log %s)", d.log);
        close(pipe_fds[0]);
        close(pipe_fds[1]);

        /* A listening socket under another path than `socket`: used, with a warning. */
        char path[256];
        snprintf(path, sizeof path, "%s/activated.sock", d.dir);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        snprintf(sa.sun_path, sizeof sa.sun_path, "%.100s", path);
        ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
        ck_assert_int_eq(listen(fd, 16), 0);
        o.listen_fd = fd;
        spawn_supervisord(&d, &o);
        close(fd);
        char *argv[] = { (char *)supervisorctl_path(), "-s", path, "pid", NULL };
        ASSERT_WITHIN(run_capture(argv, out, sizeof out) == 0, SOON_MS);
        ck_assert_int_eq(atoi(out), d.pid);
        ck_assert_msg(log_contains(&d, "supervisorctl -c finds supervisord only with -s"), "no warning (log %s)", d.log);
        struct stat st;
        ck_assert_int_ne(stat(d.sock, &st), 0);  /* it did not bind `socket` as well */
        ck_assert_int_eq(daemon_stop(&d, 10000), 0);
        ck_assert_int_eq(stat(path, &st), 0);

        /* LISTEN_PID naming another process: not for us; supervisord binds its own. */
        const char *const env[] = { "LISTEN_FDS=1", "LISTEN_PID=1", NULL };
        struct spawn_options other = { .env = env, .listen_fd = -1 };
        spawn_supervisord(&d, &other);
        ASSERT_WITHIN(daemon_answers(&d), SOON_MS);
        ck_assert_int_eq(daemon_stop(&d, 10000), 0);
        ck_assert_int_ne(stat(d.sock, &st), 0);  /* its own socket is removed on exit */
        daemon_cleanup(&d);
}
END_TEST

/* ---- sd_notify ---- */

static unsigned long long field_number(const char *message, const char *key) {
        const char *p = strstr(message, key);
        return p ? strtoull(p + strlen(key), NULL, 10) : 0;
}

static unsigned long long monotonic_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000;
}

START_TEST(test_notify_sequence) {
        struct daemon d;
        struct listener n;
        char path[256], env_notify[300], msg[4096], out[4096];
        daemon_init(&d);
        snprintf(path, sizeof path, "%s/notify", d.dir);
        listener_bind(&n, path);
        /* READY=1 must wait for `slow` (RUNNING after start-secs = 1) but not for `crashy`,
         * in BACKOFF for 30 s, nor for `dependent`, which waits for crashy; `manual` is no
         * autostart service. */
        daemon_write_config(&d,
                "service slow { command = \"sleep 60\"\n start-secs = 1\n}\n"
                "service crashy { command = \"/bin/sh -c 'exit 1'\"\n start-secs = 0.5\n start-retries = 0\n"
                "  restart-delay = 30\n}\n"
                "service dependent { command = \"sleep 60\"\n after = { crashy }\n}\n"
                "service manual { command = \"sleep 60\"\n autostart = false\n}\n");
        snprintf(env_notify, sizeof env_notify, "NOTIFY_SOCKET=%s", path);
        const char *const env[] = { env_notify, NULL };
        struct spawn_options o = { .env = env, .listen_fd = -1 };
        long long t0 = now_ms();
        spawn_supervisord(&d, &o);

        long long ready = listener_wait(&n, "\nREADY=1\n", msg, sizeof msg, SOON_MS);
        ck_assert_msg(ready >= 0, "no READY=1; got:\n%s", n.transcript);
        ck_assert_msg(ready - t0 >= 900 && ready - t0 < 30000,
                      "READY=1 after %lld ms, expected after slow's start-secs = 1 s, before crashy's 30 s backoff",
                      ready - t0);
        ck_assert_msg(!strstr(n.transcript, "STOPPING=1"), "STOPPING=1 before READY=1:\n%s", n.transcript);
        /* STATUS= comes with READY=1: the summary at that moment. */
        ck_assert_msg(strstr(msg, "\nSTATUS=1 running, 1 backoff, 0 fatal\n"), "READY=1 message: %s", msg);
        char state[64];
        ck_assert_str_eq(service_state_of(&d, "slow", state, sizeof state), "RUNNING");

        /* A change of state shows in STATUS=. */
        ck_assert_int_eq(ctl(&d, out, sizeof out, "start manual"), 0);
        ck_assert_msg(listener_wait(&n, "\nSTATUS=2 running, 1 backoff, 0 fatal\n", msg, sizeof msg, SOON_MS) >= 0,
                      "no new STATUS=; got:\n%s", n.transcript);

        /* SIGHUP and supervisorctl reload: RELOADING=1 with MONOTONIC_USEC=, then READY=1. */
        unsigned long long before = monotonic_usec();
        ck_assert_int_eq(kill(d.pid, SIGHUP), 0);
        ck_assert_msg(listener_wait(&n, "\nRELOADING=1\n", msg, sizeof msg, SOON_MS) >= 0, "no RELOADING=1:\n%s",
                      n.transcript);
        unsigned long long stamp = field_number(msg, "\nMONOTONIC_USEC=");
        ck_assert_msg(stamp >= before && stamp <= monotonic_usec(), "MONOTONIC_USEC=%llu not in [%llu, now]", stamp,
                      before);
        ck_assert_msg(listener_wait(&n, "\nREADY=1\n", msg, sizeof msg, SOON_MS) >= 0, "no READY=1 after SIGHUP:\n%s",
                      n.transcript);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "update"), 0);
        ck_assert_msg(listener_wait(&n, "\nRELOADING=1\n", msg, sizeof msg, SOON_MS) >= 0, "no RELOADING=1:\n%s",
                      n.transcript);
        ck_assert_uint_gt(field_number(msg, "\nMONOTONIC_USEC="), stamp);
        ck_assert_msg(listener_wait(&n, "\nREADY=1\n", msg, sizeof msg, SOON_MS) >= 0, "no READY=1 after reload:\n%s",
                      n.transcript);
        /* An invalid config changes nothing, and the manager still hears READY=1. */
        FILE *f = fopen(d.conf, "a");
        fputs("service broken {\n", f);
        fclose(f);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "update"), 1);
        ck_assert(listener_wait(&n, "\nRELOADING=1\n", msg, sizeof msg, SOON_MS) >= 0);
        ck_assert_msg(listener_wait(&n, "\nREADY=1\n", msg, sizeof msg, SOON_MS) >= 0,
                      "no READY=1 after a failed reload:\n%s", n.transcript);

        ck_assert_int_eq(kill(d.pid, SIGTERM), 0);
        ck_assert_msg(listener_wait(&n, "\nSTOPPING=1\n", msg, sizeof msg, SOON_MS) >= 0, "no STOPPING=1:\n%s",
                      n.transcript);
        ck_assert_msg(strstr(msg, "\nSTATUS=Stopping: "), "STOPPING=1 message: %s", msg);
        ck_assert_int_eq(wait_exit(&d, 10000), 0);
        listener_close(&n);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_ready_counts_given_up) {
        struct daemon d;
        struct listener n;
        char path[256], env_notify[300], msg[4096];
        daemon_init(&d);
        snprintf(path, sizeof path, "%s/notify", d.dir);
        listener_bind(&n, path);
        daemon_write_config(&d, "service fatal { command = \"/nonexistent/program\"\n start-retries = 1\n}\n");
        snprintf(env_notify, sizeof env_notify, "NOTIFY_SOCKET=%s", path);
        const char *const env[] = { env_notify, NULL };
        struct spawn_options o = { .env = env, .listen_fd = -1 };
        spawn_supervisord(&d, &o);
        /* A service that gave up (FATAL) counts as started: READY=1 reports it. */
        ck_assert_msg(listener_wait(&n, "\nREADY=1\n", msg, sizeof msg, SOON_MS) >= 0, "no READY=1:\n%s", n.transcript);
        ck_assert_msg(strstr(msg, "\nSTATUS=0 running, 0 backoff, 1 fatal\n"), "READY=1 message: %s", msg);
        ck_assert_int_eq(daemon_stop(&d, 10000), 0);
        listener_close(&n);
        daemon_cleanup(&d);
}
END_TEST

/* Arrival times of the first COUNT WATCHDOG=1 messages after T0 (ms); false on timeout. */
static bool collect_watchdog(struct listener *n, long long t0, long long *at, int count, int timeout_ms) {
        char msg[4096];
        for (int i = 0; i < count; i++) {
                long long t = listener_wait(n, "\nWATCHDOG=1\n", msg, sizeof msg, timeout_ms);
                if (t < 0)
                        return false;
                at[i] = t - t0;
        }
        return true;
}

START_TEST(test_watchdog) {
        struct daemon d;
        struct listener n;
        char path[256], env_notify[300], msg[4096], env_file[256], buf[65536];
        daemon_init(&d);
        snprintf(path, sizeof path, "%s/notify", d.dir);
        snprintf(env_file, sizeof env_file, "%s/env", d.dir);
        listener_bind(&n, path);
        /* The service also shows that none of supervisord's systemd variables leak to it. */
        daemon_write_config(&d, "service one { command = \"/bin/sh -c 'env > %s; exec sleep 60'\"\n}\n", env_file);
        snprintf(env_notify, sizeof env_notify, "NOTIFY_SOCKET=%s", path);

        /* WATCHDOG_PID = supervisord's pid: WATCHDOG=1 every 0.5 s for a 1 s period. */
        const char *const env_self[] = { env_notify, "WATCHDOG_USEC=1000000", "WATCHDOG_PID=self", NULL };
        struct spawn_options o = { .env = env_self, .listen_fd = -1 };
        long long t0 = now_ms(), at[4];
        spawn_supervisord(&d, &o);
        /* Every half period, so never later than the period (past it, systemd would kill
         * supervisord), and not much more often either.  Late by how much is the machine's. */
        ck_assert_msg(collect_watchdog(&n, t0, at, 4, 5000), "WATCHDOG=1 missing:\n%s", n.transcript);
        /* (the first: half a period after supervisord's start, whose own time is the machine's) */
        ck_assert_msg(at[0] >= 400, "first WATCHDOG=1 after %lld ms, expected half the 1 s period or more", at[0]);
        for (int i = 1; i < 4; i++)
                ck_assert_msg(at[i] - at[i - 1] >= 400 && at[i] - at[i - 1] < 1000,
                              "WATCHDOG=1 %d came %lld ms after the last, expected from 500 to the 1000 ms period", i,
                              at[i] - at[i - 1]);
        /* whole once the shell has gone on to exec sleep */
        char comm_path[64], comm[32];
        ASSERT_STATE_WITHIN(&d, "one", "RUNNING", SOON_MS);
        snprintf(comm_path, sizeof comm_path, "/proc/%d/comm", (int)service_pid_of(&d, "one"));
        ASSERT_WITHIN(read_text_file(comm_path, comm, sizeof comm) > 0 && strcmp(comm, "sleep\n") == 0, SOON_MS);
        ck_assert_int_gt(read_text_file(env_file, buf, sizeof buf), 0);
        ck_assert_msg(!strstr(buf, "WATCHDOG_USEC=") && !strstr(buf, "WATCHDOG_PID=") && !strstr(buf, path),
                      "the service inherited supervisord's variables:\n%s", buf);
        ck_assert_int_eq(daemon_stop(&d, 10000), 0);

        /* WATCHDOG_PID unset: ours as well. */
        const char *const env_unset[] = { env_notify, "WATCHDOG_USEC=1000000", NULL };
        o.env = env_unset;
        t0 = now_ms();
        spawn_supervisord(&d, &o);
        ck_assert_msg(collect_watchdog(&n, t0, at, 2, 5000), "WATCHDOG=1 missing:\n%s", n.transcript);
        ck_assert_msg(at[1] - at[0] >= 400 && at[1] - at[0] < 1000,
                      "WATCHDOG=1 came %lld ms apart, expected from 500 to the 1000 ms period", at[1] - at[0]);
        ck_assert_int_eq(daemon_stop(&d, 10000), 0);

        /* WATCHDOG_PID naming another process: not ours to keep alive. */
        const char *const env_other[] = { env_notify, "WATCHDOG_USEC=1000000", "WATCHDOG_PID=1", NULL };
        o.env = env_other;
        spawn_supervisord(&d, &o);
        ck_assert(listener_wait(&n, "\nREADY=1\n", msg, sizeof msg, SOON_MS) >= 0);
        ck_assert_msg(listener_wait(&n, "\nWATCHDOG=1\n", msg, sizeof msg, 1500) < 0, "WATCHDOG=1 for another pid");
        ck_assert_int_eq(daemon_stop(&d, 10000), 0);
        listener_close(&n);
        daemon_cleanup(&d);
}
END_TEST

/* ---- log-target and the journal ---- */

START_TEST(test_log_target_config) {
        struct daemon d;
        struct config *config;
        char error[1024], expected[512], out[4096];
        static const struct {
                const char *text;
                enum log_target target;
        } values[] = {
                { "auto", LOG_TARGET_AUTO },       { "stderr", LOG_TARGET_STDERR },
                { "journal", LOG_TARGET_JOURNAL }, { "syslog", LOG_TARGET_SYSLOG },
        };
        daemon_init(&d);
        daemon_write_config(&d, "service one { command = \"sleep 60\"\n}\n");
        ck_assert_int_eq(config_load(d.conf, &config, error, sizeof error), 0);
        ck_assert_int_eq(config->log_target, LOG_TARGET_AUTO);  /* the default */
        config_free(config);
        for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
                daemon_write_config(&d, "log-target = %s\n", values[i].text);
                ck_assert_msg(config_load(d.conf, &config, error, sizeof error) == 0, "%s", error);
                ck_assert_int_eq(config->log_target, values[i].target);
                config_free(config);
        }
        /* Line 4: after the three lines daemon_write_config() puts first. */
        daemon_write_config(&d, "log-target = console\n");
        ck_assert_int_lt(config_load(d.conf, &config, error, sizeof error), 0);
        snprintf(expected, sizeof expected, "%s:4: log-target: 'console' is not one of auto, stderr, journal, syslog, none",
                 d.conf);
        ck_assert_str_eq(error, expected);
        char *argv[] = { (char *)supervisord_path(), "-t", "-c", d.conf, NULL };
        ck_assert_int_eq(run_capture(argv, out, sizeof out), 2);
        ck_assert_ptr_nonnull(strstr(out, expected));

        /* Chosen at start-up: a reload says a change waits for a restart. */
        daemon_write_config(&d, "log-target = stderr\n");
        daemon_start(&d);
        daemon_write_config(&d, "log-target = syslog\n");
        ck_assert_int_eq(ctl(&d, out, sizeof out, "update"), 0);
        ck_assert_msg(strstr(out, "log-target"), "reload output: %s", out);
        ck_assert_int_eq(daemon_stop(&d, 10000), 0);
        daemon_cleanup(&d);
}
END_TEST

/* A private /run with a journal socket of the test's own, where libsystemd's
 * sd_journal_send() in supervisord delivers.  The mount namespace is this test
 * process's (Check runs each test in a child) and what it starts.  False, with the
 * reason in why, when mount namespaces are not available. */
static bool private_run(char *why, size_t size) {
        if (unshare(CLONE_NEWNS) < 0) {
                snprintf(why, size, "unshare(CLONE_NEWNS): %s (needs root or CAP_SYS_ADMIN)", strerror(errno));
                return false;
        }
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0
            || mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0) {
                snprintf(why, size, "mount tmpfs on /run: %s", strerror(errno));
                return false;
        }
        ck_assert_int_eq(mkdir("/run/systemd", 0755), 0);
        ck_assert_int_eq(mkdir("/run/systemd/journal", 0755), 0);
        return true;
}

/* journald's side: a process that binds the journal socket and appends every message,
 * each followed by "---", to FILE.  It reads all the time, as journald does: a sender
 * waits while the socket's queue is full (net.unix.max_dgram_qlen, 10 without systemd). */
static pid_t journal_reader_start(const char *file) {
        struct listener j;
        listener_bind(&j, "/run/systemd/journal/socket");
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                int out = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
                char buf[8192];
                for (;;) {
                        ssize_t n = recv(j.fd, buf, sizeof buf - 8, 0);
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n < 0)
                                _exit(1);
                        if (n == 0 || buf[n - 1] != '\n')
                                buf[n++] = '\n';
                        memcpy(buf + n, "---\n", 4);
                        if (write(out, buf, (size_t)n + 4) < 0)
                                _exit(1);
                }
        }
        close(j.fd);
        return pid;
}

static void journal_reader_stop(pid_t pid) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        unlink("/run/systemd/journal/socket");
}

/* A message in FILE with every "KEY=VALUE" of WANT, each a whole line (or a line's
 * start, when it ends without "\n"). */
static bool journal_has(const char *file, const char *const *want) {
        static char text[1 << 20];
        if (read_text_file(file, text + 1, sizeof text - 1) <= 0)
                return false;
        text[0] = '\n';
        for (char *record = text, *end; (end = strstr(record, "\n---\n")); record = end + 4) {
                end[1] = '\0';
                bool all = true;
                for (const char *const *w = want; *w && all; w++)
                        all = strstr(record, *w) != NULL;
                end[1] = '-';
                if (all)
                        return true;
        }
        return false;
}

START_TEST(test_journal) {
        char why[256];
        if (!private_run(why, sizeof why)) {
                printf("SKIP test_journal: %s\n", why);
                return;
        }
        struct daemon d;
        char journal[256], text[65536];
        daemon_init(&d);
        snprintf(journal, sizeof journal, "%s/journal", d.dir);
        daemon_write_config(&d, "log-target = journal\n"
                                "service flaky { command = \"/bin/sh -c 'exit 3'\"\n start-secs = 0.2\n"
                                "  start-retries = 2\n restart-delay = 0.1\n}\n");

        /* No journal to reach (an empty /run): the messages go to stderr instead. */
        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "flaky", "FATAL", SOON_MS);
        ck_assert_int_eq(daemon_stop(&d, 10000), 0);
        ck_assert_msg(log_contains(&d, "flaky: gave up after 2 failed starts"), "nothing on stderr (log %s)", d.log);
        ck_assert(log_contains(&d, "no journal to log to"));

        pid_t reader = journal_reader_start(journal);
        unlink(d.log);
        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "flaky", "FATAL", SOON_MS);
        /* About a service: PRIORITY= of the message, SERVICE= naming it. */
        const char *const about_service[] = { "\nSERVICE=flaky\n", "\nPRIORITY=3\n",
                                              "\nMESSAGE=flaky: gave up after 2 failed starts",
                                              "\nSYSLOG_IDENTIFIER=supervisord\n", NULL };
        ck_assert_msg(WAIT_UNTIL(journal_has(journal, about_service), SOON_MS), "no such message in %s", journal);
        /* About supervisord itself: a notice, and no SERVICE=. */
        const char *const own[] = { "\nMESSAGE=supervisord " SUPERVISORD_VERSION " started with 1 services",
                                    "\nPRIORITY=5\n", NULL };
        ck_assert_msg(journal_has(journal, own), "no start-up notice in %s", journal);
        ck_assert_int_gt(read_text_file(journal, text, sizeof text), 0);
        const char *p = strstr(text, "MESSAGE=supervisord " SUPERVISORD_VERSION " started");
        const char *end = strstr(p, "\n---\n");
        ck_assert_ptr_nonnull(end);
        ck_assert_msg(!memmem(p, (size_t)(end - p), "SERVICE=", 8), "SERVICE= on a message of supervisord's own");
        ck_assert_int_eq(daemon_stop(&d, 10000), 0);
        ck_assert_msg(!log_contains(&d, "gave up"), "journal messages also went to stderr");

        /* log-target = auto: the journal when stderr is the stream JOURNAL_STREAM names... */
        daemon_write_config(&d, "service flaky { command = \"/bin/sh -c 'exit 3'\"\n start-secs = 0.2\n"
                                "  start-retries = 1\n}\n");
        const char *const env_journal[] = { "JOURNAL_STREAM=stderr", NULL };
        struct spawn_options o = { .env = env_journal, .listen_fd = -1 };
        spawn_supervisord(&d, &o);
        const char *const fatal[] = { "\nSERVICE=flaky\n", "gave up after 1 failed starts", NULL };
        ck_assert_msg(WAIT_UNTIL(journal_has(journal, fatal), SOON_MS), "auto did not pick the journal");
        ck_assert_int_eq(daemon_stop(&d, 10000), 0);
        ck_assert(!log_contains(&d, "gave up"));

        /* ... and stderr when it is not (inherited from a parent whose stderr it was). */
        unlink(journal);
        const char *const env_stale[] = { "JOURNAL_STREAM=1:2", NULL };
        o.env = env_stale;
        spawn_supervisord(&d, &o);
        ASSERT_WITHIN(log_contains(&d, "gave up after 1 failed starts"), SOON_MS);
        ck_assert_int_eq(daemon_stop(&d, 10000), 0);
        ck_assert_msg(!journal_has(journal, fatal), "auto picked the journal for a stale stream");
        journal_reader_stop(reader);
        daemon_cleanup(&d);
}
END_TEST

static Suite *systemd_suite(void) {
        Suite *s = suite_create("systemd");
        TCase *tc = tcase_create("systemd");
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_socket_activation);
        tcase_add_test(tc, test_listen_fds_checked);
        tcase_add_test(tc, test_notify_sequence);
        tcase_add_test(tc, test_ready_counts_given_up);
        tcase_add_test(tc, test_watchdog);
        tcase_add_test(tc, test_log_target_config);
        tcase_add_test(tc, test_journal);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) { return run_suite(systemd_suite()) ? 1 : 0; }
