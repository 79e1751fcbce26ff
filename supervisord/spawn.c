/* spawn.c — see spawn.h.
 *
 * Everything that can fail is done in the child, between fork and exec, and reported over
 * a close-on-exec pipe so supervisord can show *why* a service did not start instead of a
 * bare exit status 127.  The parent never waits for the child here: the pipe is read by
 * the event loop, so a slow exec (a binary on a hung network mount) cannot stall it. */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Variables that describe supervisord's own environment (from systemd) and would
 * mislead a service that inherited them. */
static const char *const private_variables[] = {
        "NOTIFY_SOCKET", "LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES",
        "WATCHDOG_PID", "WATCHDOG_USEC", "INVOCATION_ID",
};

static void __attribute__((noreturn, format(printf, 2, 3)))
child_fail(int error_fd, const char *format, ...) {
        char message[512];
        va_list ap;
        va_start(ap, format);
        int n = vsnprintf(message, sizeof message, format, ap);
        va_end(ap);
        if (n > (int)sizeof message - 1)
                n = (int)sizeof message - 1;
        if (n > 0) {
                ssize_t unused = write(error_fd, message, (size_t)n);
                (void)unused;
        }
        _exit(127);
}

/* The kernel's struct sigaction, for the raw system call below. */
struct kernel_sigaction {
        void (*handler)(int);
        unsigned long flags;
        void (*restorer)(void);
        unsigned long mask;
};

static void child_reset_signals(void) {
        struct sigaction sa = { .sa_handler = SIG_DFL };
        for (int sig = 1; sig < NSIG; sig++) {
                if (sig == SIGKILL || sig == SIGSTOP)
                        continue;
                if (sigaction(sig, &sa, NULL) == 0)
                        continue;
                /* glibc refuses the two signals it reserves for its threads (32, 33), yet an
                 * ignored disposition of theirs would still be inherited across exec: reset
                 * them with the system call itself. */
                struct kernel_sigaction ksa = { .handler = SIG_DFL };
                (void)syscall(SYS_rt_sigaction, sig, &ksa, NULL, sizeof ksa.mask);
        }
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
}

/* The RLIMIT_NOFILE supervisord was started with; services get it back. */
static struct rlimit inherited_nofile = { RLIM_INFINITY, RLIM_INFINITY };

int spawn_raise_nofile(void) {
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
                return -errno;
        inherited_nofile = rl;
        if (rl.rlim_cur >= rl.rlim_max)
                return 0;
        rl.rlim_cur = rl.rlim_max;
        return setrlimit(RLIMIT_NOFILE, &rl) < 0 ? -errno : 0;
}

static void child_set_limit(int error_fd, int resource, const char *name, const struct resource_limit *limit) {
        if (!limit->set)
                return;
        struct rlimit rl = { .rlim_cur = limit->value, .rlim_max = limit->value };
        if (setrlimit(resource, &rl) < 0)
                child_fail(error_fd, "setrlimit %s: %s", name, strerror(errno));
}

/* Put the extra fds at 3, 4, ... and stdout/stderr in place.  Sources may themselves sit
 * on the target numbers, so everything is first moved above all targets. */
static int child_arrange_fds(const struct spawn_options *o, int *error_fd) {
        int floor = 3 + (int)o->n_extra_fds + 8;
        int moved[4];
        int fd = fcntl(*error_fd, F_DUPFD_CLOEXEC, floor);
        if (fd < 0)
                return -1;
        *error_fd = fd;
        for (unsigned i = 0; i < o->n_extra_fds; i++)
                if ((moved[i] = fcntl(o->extra_fds[i], F_DUPFD_CLOEXEC, floor)) < 0)
                        return -1;
        int out = o->stdout_fd >= 0 ? fcntl(o->stdout_fd, F_DUPFD_CLOEXEC, floor) : -1;
        int err = o->stderr_fd >= 0 ? fcntl(o->stderr_fd, F_DUPFD_CLOEXEC, floor) : -1;
        if ((o->stdout_fd >= 0 && out < 0) || (o->stderr_fd >= 0 && err < 0))
                return -1;
        for (unsigned i = 0; i < o->n_extra_fds; i++)
                if (dup2(moved[i], 3 + (int)i) < 0)  /* dup2 leaves the copy without close-on-exec */
                        return -1;
        if ((out >= 0 && dup2(out, STDOUT_FILENO) < 0) || (err >= 0 && dup2(err, STDERR_FILENO) < 0))
                return -1;
        return 3 + (int)o->n_extra_fds;
}

static void __attribute__((noreturn))
child_exec(const struct service_config *c, const struct spawn_options *o, int error_fd, pid_t supervisord_pid) {
        child_reset_signals();
        if (setsid() < 0)
                child_fail(error_fd, "setsid: %s", strerror(errno));

        int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (null < 0)
                child_fail(error_fd, "open /dev/null: %s", strerror(errno));
        if (dup2(null, STDIN_FILENO) < 0)
                child_fail(error_fd, "dup2: %s", strerror(errno));

        if (c->limit_nofile.set)
                child_set_limit(error_fd, RLIMIT_NOFILE, "nofile", &c->limit_nofile);
        else if (inherited_nofile.rlim_cur != RLIM_INFINITY)
                /* Give back the limit supervisord started with (it raised its own for a
                 * thousand services' pipes).  Best effort: lowering cannot fail but under
                 * instrumentation such as valgrind. */
                (void)setrlimit(RLIMIT_NOFILE, &inherited_nofile);
        child_set_limit(error_fd, RLIMIT_NPROC, "nproc", &c->limit_nproc);
        child_set_limit(error_fd, RLIMIT_CORE, "core", &c->limit_core);
        if (c->has_nice && setpriority(PRIO_PROCESS, 0, c->nice) < 0)
                child_fail(error_fd, "nice %d: %s", c->nice, strerror(errno));
        if (c->has_umask)
                umask(c->umask);

        if (c->has_user || c->has_group) {
                if (geteuid() == 0) {
                        /* Groups before the uid: once the uid is dropped they cannot change. */
                        if (c->has_user && initgroups(c->user_name, c->gid) < 0)
                                child_fail(error_fd, "initgroups %s: %s", c->user_name, strerror(errno));
                        if (!c->has_user && setgroups(1, &c->gid) < 0)
                                child_fail(error_fd, "setgroups: %s", strerror(errno));
                        if (setresgid(c->gid, c->gid, c->gid) < 0)
                                child_fail(error_fd, "setgid %u: %s", (unsigned)c->gid, strerror(errno));
                        if (c->has_user && setresuid(c->uid, c->uid, c->uid) < 0)
                                child_fail(error_fd, "setuid %u: %s", (unsigned)c->uid, strerror(errno));
                } else if ((c->has_user && c->uid != geteuid()) || (c->has_group && c->gid != getegid())) {
                        child_fail(error_fd, "cannot change user or group: supervisord is not running as root");
                }
                if (c->has_user && (setenv("USER", c->user_name, 1) < 0 || setenv("LOGNAME", c->user_name, 1) < 0
                                    || setenv("HOME", c->user_home, 1) < 0))
                        child_fail(error_fd, "setenv: %s", strerror(errno));
        }

        if (c->directory && chdir(c->directory) < 0)
                child_fail(error_fd, "chdir %s: %s", c->directory, strerror(errno));

        for (size_t i = 0; i < sizeof private_variables / sizeof private_variables[0]; i++)
                unsetenv(private_variables[i]);
        for (char **e = c->environment; e && *e; e++)
                if (putenv(*e) < 0)  /* the string lives in the config, valid until exec */
                        child_fail(error_fd, "putenv: %s", strerror(errno));
        for (char *const *e = o->extra_env; e && *e; e++)
                if (putenv(*e) < 0)
                        child_fail(error_fd, "putenv: %s", strerror(errno));
        char index[16];
        snprintf(index, sizeof index, "%u", o->instance);
        if (setenv("SUPERVISOR_SERVICE", c->name, 1) < 0 || setenv("SUPERVISOR_INSTANCE", index, 1) < 0)
                child_fail(error_fd, "setenv: %s", strerror(errno));

        /* Die with supervisord: a killed supervisord must not leave services running
         * unmanaged.  Set after the uid change, which would clear it; the getppid() check
         * closes the race with a supervisord that died before the prctl. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
                child_fail(error_fd, "prctl: %s", strerror(errno));
        if (getppid() != supervisord_pid)
                child_fail(error_fd, "supervisord exited during the start");

        int first_free = child_arrange_fds(o, &error_fd);
        if (first_free < 0)
                child_fail(error_fd, "arranging fds: %s", strerror(errno));
        /* Every other fd supervisord had — including any inherited without close-on-exec
         * from whoever started it — is closed at exec; only 0, 1, 2 and the documented
         * extra fds survive.  The error pipe stays usable until then. */
        if (syscall(SYS_close_range, (unsigned)first_free, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
                for (int fd = first_free; fd < 65536; fd++)
                        (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
        }

        execvp(c->argv[0], c->argv);
        child_fail(error_fd, "exec %s: %s", c->argv[0], strerror(errno));
}

int spawn_service(const struct service_config *config, const struct spawn_options *options, pid_t *ret_pid,
                  int *ret_error_fd) {
        int pipe_fds[2];
        if (pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) < 0)
                return -errno;

        pid_t parent = getpid();
        pid_t pid = fork();
        if (pid < 0) {
                int r = -errno;
                close(pipe_fds[0]);
                close(pipe_fds[1]);
                return r;
        }
        if (pid == 0) {
                close(pipe_fds[0]);
                /* The write end is non-blocking too; a message is far below PIPE_BUF. */
                child_exec(config, options, pipe_fds[1], parent);
        }
        close(pipe_fds[1]);
        *ret_pid = pid;
        *ret_error_fd = pipe_fds[0];
        return 0;
}

void spawn_read_error(int error_fd, char *buf, size_t size) {
        ssize_t n = read(error_fd, buf, size - 1);
        buf[n > 0 ? n : 0] = '\0';
}
