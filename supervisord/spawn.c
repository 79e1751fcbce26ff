/* spawn.c — see spawn.h.
 *
 * Why not fork(): a fork copies supervisord's page tables and its whole descriptor table
 * — thousands of fds with a thousand services — only for exec to throw both away; the
 * child then spent most of its time before exec closing those copies.  At a thousand
 * services that made every spawn, and so every restart, cost well over a millisecond.
 *
 * Instead the child is a clone(CLONE_VM | CLONE_FILES): it runs on a small stack of its
 * own inside supervisord's memory, on the other core while supervisord goes on.  Its
 * first act is close_range(N, ~0U, CLOSE_RANGE_UNSHARE), which gives it a private
 * descriptor table holding only the fds below N, a handful: the kernel copies those few
 * and never touches the others.  What the child takes over (stdout, stderr, the
 * heartbeat fds) comes to it as SCM_RIGHTS on a socket of its spawn context, one of the
 * few fds below N: sent before the clone, received by its second system call.  So
 * supervisord never waits for a child, not even for that (waiting had the scheduler
 * move us onto the child's core, ahead of it), and a command on a hung network file
 * system hangs its own child, not the loop.
 *
 * What the child may do: it shares memory with a running supervisord, so it must not
 * allocate, lock, or write anything but its own stack and its spawn context — not even
 * errno, which lives in the memory of supervisord's thread.  So it makes only raw system
 * calls (inline assembly, x86-64 and arm64) and computes nothing that needs memory:
 * the environment array, the supplementary groups (config.c, at load) and the list of
 * signals to reset (spawn_init) are prepared by the parent.  Everything the child reads
 * lives in its context — stack, environment, a reference to the config — which is not
 * reused before the kernel says the child is done with our memory: CLONE_CHILD_CLEARTID
 * zeroes the context's state word at the exec, or at the exit of a child that failed,
 * after it wrote which step failed into the context.  spawn_collect() reads that once
 * the process is reaped.
 *
 * Elsewhere — under valgrind, which cannot run CLONE_VM children, and on architectures
 * without the inline system calls — a plain fork() runs the same child code, which then
 * reports a failure on a close-on-exec pipe left to the event loop to read. */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <systemd/sd-event.h>
#include <time.h>
#include <unistd.h>

#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#endif

/* The child's code runs on a stack sanitizers know nothing about, beside supervisord's
 * running thread: no instrumentation there. */
#define CHILD_CODE __attribute__((no_sanitize("address", "undefined")))

/* A system call that returns -errno and touches no memory of ours. */
#if defined(__x86_64__)
#define SPAWN_SHARED_MEMORY 1
static inline long CHILD_CODE child_syscall(long n, long a1, long a2, long a3, long a4, long a5) {
        register long r10 __asm__("r10") = a4;
        register long r8 __asm__("r8") = a5;
        long ret;
        __asm__ volatile("syscall"
                         : "=a"(ret)
                         : "a"(n), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8)
                         : "rcx", "r11", "memory");
        return ret;
}
#elif defined(__aarch64__)
#define SPAWN_SHARED_MEMORY 1
static inline long CHILD_CODE child_syscall(long n, long a1, long a2, long a3, long a4, long a5) {
        register long x8 __asm__("x8") = n;
        register long x0 __asm__("x0") = a1;
        register long x1 __asm__("x1") = a2;
        register long x2 __asm__("x2") = a3;
        register long x3 __asm__("x3") = a4;
        register long x4 __asm__("x4") = a5;
        __asm__ volatile("svc #0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4) : "memory", "cc");
        return x0;
}
#else
/* Only ever run in a forked child, whose errno is its own. */
#define SPAWN_SHARED_MEMORY 0
static long child_syscall(long n, long a1, long a2, long a3, long a4, long a5) {
        long ret = syscall(n, a1, a2, a3, a4, a5);
        return ret < 0 ? -errno : ret;
}
#endif

#define SYS0(n) child_syscall(n, 0, 0, 0, 0, 0)
#define SYS1(n, a) child_syscall(n, (long)(a), 0, 0, 0, 0)
#define SYS2(n, a, b) child_syscall(n, (long)(a), (long)(b), 0, 0, 0)
#define SYS3(n, a, b, c) child_syscall(n, (long)(a), (long)(b), (long)(c), 0, 0)
#define SYS4(n, a, b, c, d) child_syscall(n, (long)(a), (long)(b), (long)(c), (long)(d), 0)

/* 32-bit systems have 16-bit uid calls under the plain names. */
#ifdef SYS_setresuid32
#define SYSCALL_SETRESUID SYS_setresuid32
#define SYSCALL_SETRESGID SYS_setresgid32
#define SYSCALL_SETGROUPS SYS_setgroups32
#else
#define SYSCALL_SETRESUID SYS_setresuid
#define SYSCALL_SETRESGID SYS_setresgid
#define SYSCALL_SETGROUPS SYS_setgroups
#endif

#define CHILD_STACK_SIZE (64u << 10)  /* mapped per context; the child touches a few KiB */
#define MAX_SCRIPT_ARGS 256           /* argv of a script run through /bin/sh (ENOEXEC) */
#define MAX_CONTEXTS 1024             /* children between clone and exec at once */
#define CONTEXTS_KEPT 16              /* ... kept between bursts; more are made in one, then freed */

extern char **environ;

/* Variables that describe supervisord's own environment (from systemd) and would
 * mislead a service that inherited them; SUPERVISOR_* are supervisord's to set too. */
static const char *const private_variables[] = {
        "NOTIFY_SOCKET", "LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES",
        "WATCHDOG_PID", "WATCHDOG_USEC", "INVOCATION_ID",
};

/* The steps a child can fail at, as reported in its record. */
enum child_step {
        STEP_FILES = 1,
        STEP_SETSID,
        STEP_STDIN,
        STEP_NOFILE,
        STEP_NPROC,
        STEP_CORE,
        STEP_NICE,
        STEP_SETGROUPS,
        STEP_SETGID,
        STEP_SETUID,
        STEP_NOT_ROOT,
        STEP_CHDIR,
        STEP_PRCTL,
        STEP_ORPHANED,
        STEP_FDS,
        STEP_CGROUP,
        STEP_EXEC,
};

struct child_failure {
        int32_t step;   /* enum child_step, 0: none */
        int32_t error;  /* errno, 0 if none */
};

/* What each descriptor sent to a child becomes. */
enum fd_role {
        ROLE_STDOUT,
        ROLE_STDERR,
        ROLE_EXTRA,            /* ROLE_EXTRA + i: fd 3 + i */
        ROLE_ERROR = ROLE_EXTRA + 4,  /* fork only: the error pipe's write end */
        ROLE_CGROUP,           /* the cgroup.procs to join */
        ROLE_STDIN,            /* an event listener's: supervisord writes the events */
        N_ROLES,
};

/* The state word of a context, a futex. */
enum {
        CONTEXT_FREE = 0,      /* no child uses it: the kernel's CLONE_CHILD_CLEARTID value */
        CONTEXT_BUSY = 1,      /* set by the parent before the clone */
};

/* Everything the child needs, prepared by the parent and only read by the child. */
struct child {
        const struct service_config *config;
        int socket;                  /* the context's, where its fds wait */
        int keep_below;              /* the fds it copies: null_fd and socket are below */
        int error_fd;                /* fork only: the error pipe's write end, once received */
        int cgroup_fd;               /* the cgroup.procs to join, once received; -1: none */
        int stdin_fd;                /* received for fd 0; -1: /dev/null */
        char *const *envp;
        const char *path;            /* PATH to search the command in */
        pid_t parent;
        uid_t euid;
        gid_t egid;
        struct child_failure *failure;
        bool changes_credentials;    /* as root, to `user` or `group` */
};

/* What one child uses of our memory until it has exec'd or exited.  Allocated once,
 * never moved (the child holds its address), reused when free. */
struct spawn_context {
        int state;                   /* CONTEXT_*, a futex; written by the kernel too */
        pid_t pid;                   /* the child, 0 once collected or never used */
        struct child_failure failure;/* written by a child that fails, before it exits */
        struct service_config *config;  /* a reference while the child may read it */
        struct child child;
        int socket[2];               /* owned: the parent sends on 0, the child receives on 1 */
        char *stack;                 /* owned mapping of CHILD_STACK_SIZE, lowest page a guard */
        char **envp;                 /* owned: this child's environment */
        size_t envp_capacity;
        char *strings;               /* owned: the variables made for this child */
        size_t strings_capacity;
};

static struct {
        bool ready;
        bool use_fork;               /* valgrind, or no inline system calls here */
        int null_fd;                 /* owned: /dev/null, read-only: the children's stdin */
        uint64_t reset_signals;      /* bit sig-1: not SIG_DFL in supervisord */
        char **inherited;            /* owned array, strings borrowed from environ: what every
                                      * service inherits */
        size_t n_inherited;
        struct spawn_context **contexts;  /* owned, each owned */
        size_t n_contexts;
        pid_t self;                  /* getpid(), geteuid() and getegid() at start-up: */
        uid_t euid;                  /* none changes after it */
        gid_t egid;
        int dumpable;                /* PR_GET_DUMPABLE at start-up */
        bool dumpable_lowered;       /* a child that changes user may have cleared it */
        sd_event *event;             /* borrowed */
        char *pidfile;               /* owned: "SUPERVISOR_PIDFILE=...", every service's */
        char *server_url;            /* owned: "SUPERVISOR_SERVER_URL=...", or NULL */
        sd_event_source *dumpable_timer;  /* owned: looks again while lowered */
        sd_event_source *trim_timer;  /* owned: frees the contexts of a burst once it is over */
        struct spawn_context fork_context;  /* the one a forking spawn builds in */
} spawner = { .null_fd = -1 };

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

/* ---- the child: raw system calls only ---- */

/* The kernel's struct sigaction. */
struct kernel_sigaction {
        void (*handler)(int);
        unsigned long flags;
        void (*restorer)(void);
        uint64_t mask;
};

static void CHILD_CODE __attribute__((noreturn)) child_fail(const struct child *c, int step, long error) {
        struct child_failure failure = { .step = step, .error = (int32_t)-error };
        *c->failure = failure;  /* our context: read once the kernel has freed it */
        if (c->error_fd >= 0)
                (void)SYS3(SYS_write, c->error_fd, &failure, sizeof failure);  /* far below PIPE_BUF */
        for (;;)
                (void)SYS1(SYS_exit_group, 127);
}

static void CHILD_CODE child_reset_signals(void) {
        /* Signals supervisord handles or ignores; 32 and 33 too, whose glibc refuses to
         * touch but whose ignored disposition would survive exec. */
        struct kernel_sigaction dfl = { .handler = SIG_DFL };
        for (int sig = 1; sig <= 64; sig++)
                if (spawner.reset_signals & (UINT64_C(1) << (sig - 1)))
                        (void)SYS4(SYS_rt_sigaction, sig, &dfl, NULL, sizeof dfl.mask);
        uint64_t none = 0;
        (void)SYS4(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, sizeof none);
}

static void CHILD_CODE child_set_limit(const struct child *c, int resource, int step, const struct resource_limit *limit) {
        if (!limit->set)
                return;
        struct rlimit rl = { .rlim_cur = limit->value, .rlim_max = limit->value };
        long r = SYS4(SYS_prlimit64, 0, resource, &rl, NULL);
        if (r < 0)
                child_fail(c, step, r);
}

static void CHILD_CODE child_set_credentials(const struct child *c) {
        const struct service_config *config = c->config;
        long r;
        if (!config->has_user && !config->has_group)
                return;
        if (c->euid != 0) {
                if ((config->has_user && config->uid != c->euid) || (config->has_group && config->gid != c->egid))
                        child_fail(c, STEP_NOT_ROOT, 0);
                return;
        }
        /* Groups before the uid: once the uid is dropped they cannot change. */
        if (config->has_user)
                r = SYS2(SYSCALL_SETGROUPS, config->n_groups, config->groups);
        else
                r = SYS2(SYSCALL_SETGROUPS, 1, &config->gid);
        if (r < 0)
                child_fail(c, STEP_SETGROUPS, r);
        if ((r = SYS3(SYSCALL_SETRESGID, config->gid, config->gid, config->gid)) < 0)
                child_fail(c, STEP_SETGID, r);
        if (config->has_user && (r = SYS3(SYSCALL_SETRESUID, config->uid, config->uid, config->uid)) < 0)
                child_fail(c, STEP_SETUID, r);
}

/* dup2 in the calls every architecture has: dup3 refuses equal numbers. */
static long CHILD_CODE child_dup2(int from, int to) {
        if (from == to)
                return SYS3(SYS_fcntl, to, F_SETFD, 0);
        return SYS3(SYS_dup3, from, to, 0);
}

/* The fds the parent sent, into 1, 2, 3...  Where they arrive may be a target number, so
 * each is first copied above all of them.  Returns the first fd the service does not get. */
static int CHILD_CODE child_arrange_fds(struct child *c) {
        uint8_t roles[N_ROLES];
        union {
                struct cmsghdr header;
                char bytes[CMSG_SPACE(sizeof(int) * N_ROLES)];
        } control;
        struct iovec iov = { .iov_base = roles, .iov_len = sizeof roles };
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.bytes,
                              .msg_controllen = sizeof control.bytes };
        long r = SYS3(SYS_recvmsg, c->socket, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (r < 0)
                child_fail(c, STEP_FDS, r);
        size_t n = (size_t)r;
        struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
        if (n > 0 && (!cmsg || cmsg->cmsg_type != SCM_RIGHTS || cmsg->cmsg_len != CMSG_LEN(n * sizeof(int))))
                child_fail(c, STEP_FDS, -EBADMSG);
        int received[N_ROLES], moved[N_ROLES];
        for (int i = 0; i < N_ROLES; i++)
                moved[i] = -1;
        if (n > 0)
                for (size_t i = 0; i < n; i++)  /* no memcpy: nothing but system calls here */
                        received[i] = ((const int *)(const void *)CMSG_DATA(cmsg))[i];
        int floor = c->keep_below > 8 ? c->keep_below : 8;
        unsigned n_extra = 0;
        for (size_t i = 0; i < n; i++) {
                if (roles[i] >= N_ROLES || (r = SYS3(SYS_fcntl, received[i], F_DUPFD_CLOEXEC, floor)) < 0)
                        child_fail(c, STEP_FDS, roles[i] >= N_ROLES ? -EBADMSG : r);
                moved[roles[i]] = (int)r;
                if (roles[i] >= ROLE_EXTRA && roles[i] < ROLE_ERROR)
                        n_extra++;
        }
        if (moved[ROLE_ERROR] >= 0)
                c->error_fd = moved[ROLE_ERROR];
        c->cgroup_fd = moved[ROLE_CGROUP];
        c->stdin_fd = moved[ROLE_STDIN];
        if ((moved[ROLE_STDOUT] >= 0 && (r = child_dup2(moved[ROLE_STDOUT], STDOUT_FILENO)) < 0)
            || (moved[ROLE_STDERR] >= 0 && (r = child_dup2(moved[ROLE_STDERR], STDERR_FILENO)) < 0))
                child_fail(c, STEP_FDS, r);
        for (unsigned i = 0; i < n_extra; i++)  /* the copy is without close-on-exec */
                if (moved[ROLE_EXTRA + i] < 0 || (r = child_dup2(moved[ROLE_EXTRA + i], 3 + (int)i)) < 0)
                        child_fail(c, STEP_FDS, moved[ROLE_EXTRA + i] < 0 ? -EBADMSG : r);
        return 3 + (int)n_extra;
}

static size_t CHILD_CODE child_strlen(const char *s) {
        size_t n = 0;
        while (s[n])
                n++;
        return n;
}

/* execve FILE; a file without a #! line is run by /bin/sh, as execvp(3) does.  Returns
 * the error. */
static long CHILD_CODE child_exec_file(const struct child *c, const char *file) {
        char *const *argv = c->config->argv;
        long r = SYS3(SYS_execve, file, argv, c->envp);
        if (r != -ENOEXEC)
                return r;
        size_t argc = 0;
        while (argv[argc])
                argc++;
        if (argc > MAX_SCRIPT_ARGS)
                return r;
        const char *script[MAX_SCRIPT_ARGS + 2];
        script[0] = "/bin/sh";
        script[1] = file;
        for (size_t i = 1; i <= argc; i++)  /* the NULL at the end too */
                script[i + 1] = argv[i];
        (void)SYS3(SYS_execve, "/bin/sh", script, c->envp);
        return r;  /* what the file itself gave */
}

/* The command, searched in PATH unless it names a path; only returns, with the error, on
 * failure. */
static long CHILD_CODE child_exec(const struct child *c) {
        const char *name = c->config->argv[0];
        size_t name_len = child_strlen(name);
        for (size_t i = 0; i < name_len; i++)
                if (name[i] == '/')
                        return child_exec_file(c, name);
        char path[PATH_MAX];
        bool denied = false;
        for (const char *dir = c->path;;) {
                size_t dir_len = 0;
                while (dir[dir_len] && dir[dir_len] != ':')
                        dir_len++;
                if (dir_len + 1 + name_len + 1 <= sizeof path) {
                        /* An empty entry is the current directory. */
                        size_t n = 0;
                        for (; n < dir_len; n++)
                                path[n] = dir[n];
                        if (dir_len > 0)
                                path[n++] = '/';
                        for (size_t i = 0; i <= name_len; i++)
                                path[n + i] = name[i];
                        long r = child_exec_file(c, path);
                        switch (-r) {
                        case EACCES:
                                denied = true;
                                break;
                        case ENOENT: case ENOTDIR: case ESTALE: case ENODEV: case ETIMEDOUT:
                                break;
                        default:
                                return r;
                        }
                }
                if (dir[dir_len] == '\0')
                        break;
                dir += dir_len + 1;
        }
        return denied ? -EACCES : -ENOENT;
}

static int CHILD_CODE __attribute__((noreturn)) child_main(void *userdata) {
        struct child *c = userdata;
        const struct service_config *config = c->config;
        long r;

        /* A private descriptor table of just the fds below keep_below; where the kernel is
         * too old for that, a full copy whose extra fds the close_range below marks. */
        if ((r = SYS3(SYS_close_range, c->keep_below, ~0U, CLOSE_RANGE_UNSHARE)) < 0
            && (r = SYS1(SYS_unshare, CLONE_FILES)) < 0)
                child_fail(c, STEP_FILES, r);  /* writing the failure changes no table */
        /* Taken before anything can fail: on the error pipe a forked child reports. */
        int first_free = child_arrange_fds(c);
        /* Into the service's cgroup before anything of the service runs: whatever it
         * starts is born there.  "0" is the writer itself. */
        if (c->cgroup_fd >= 0) {
                if ((r = SYS3(SYS_write, c->cgroup_fd, "0", 1)) < 0)
                        child_fail(c, STEP_CGROUP, r);
                (void)SYS1(SYS_close, c->cgroup_fd);
        }

        child_reset_signals();
        if ((r = SYS0(SYS_setsid)) < 0)
                child_fail(c, STEP_SETSID, r);
        if ((r = child_dup2(c->stdin_fd >= 0 ? c->stdin_fd : spawner.null_fd, STDIN_FILENO)) < 0)
                child_fail(c, STEP_STDIN, r);

        if (config->limit_nofile.set)
                child_set_limit(c, RLIMIT_NOFILE, STEP_NOFILE, &config->limit_nofile);
        else if (inherited_nofile.rlim_cur != RLIM_INFINITY)
                /* Give back the limit supervisord started with (it raised its own for a
                 * thousand services' pipes).  Best effort: lowering cannot fail but under
                 * instrumentation such as valgrind. */
                (void)SYS4(SYS_prlimit64, 0, RLIMIT_NOFILE, &inherited_nofile, NULL);
        child_set_limit(c, RLIMIT_NPROC, STEP_NPROC, &config->limit_nproc);
        child_set_limit(c, RLIMIT_CORE, STEP_CORE, &config->limit_core);
        if (config->has_nice && (r = SYS3(SYS_setpriority, PRIO_PROCESS, 0, config->nice)) < 0)
                child_fail(c, STEP_NICE, r);
        if (config->has_umask)
                (void)SYS1(SYS_umask, config->umask);
        child_set_credentials(c);
        if (config->directory && (r = SYS1(SYS_chdir, config->directory)) < 0)
                child_fail(c, STEP_CHDIR, r);

        /* Die with supervisord: a killed supervisord must not leave services running
         * unmanaged.  Set after the uid change, which would clear it; the getppid() check
         * closes the race with a supervisord that died before the prctl. */
        if ((r = SYS2(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL)) < 0)
                child_fail(c, STEP_PRCTL, r);
        if (SYS0(SYS_getppid) != c->parent)
                child_fail(c, STEP_ORPHANED, 0);

        /* Every other fd — what lay below keep_below, and anything supervisord inherited
         * without close-on-exec — is closed at exec; the error pipe stays usable until
         * then. */
        if (SYS3(SYS_close_range, first_free, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
                struct rlimit rl;
                long top = SYS4(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &rl) == 0 && rl.rlim_cur < (1u << 20)
                                   ? (long)rl.rlim_cur : (1L << 20);
                for (long fd = first_free; fd < top; fd++)
                        (void)SYS3(SYS_fcntl, fd, F_SETFD, FD_CLOEXEC);
        }
        child_fail(c, STEP_EXEC, child_exec(c));
}

/* ---- the parent ---- */

static bool key_equal(const char *a, const char *b) {
        while (*a && *a != '=' && *a == *b) {
                a++;
                b++;
        }
        return (*a == '=' || *a == '\0') && (*b == '=' || *b == '\0');
}

static bool env_has_key(char *const *list, size_t n, const char *entry) {
        for (size_t i = 0; i < n; i++)
                if (key_equal(list[i], entry))
                        return true;
        return false;
}

static bool variable_is_private(const char *entry) {
        if (strncmp(entry, "SUPERVISOR_", 11) == 0)
                return true;
        for (size_t i = 0; i < ELEMENTSOF(private_variables); i++)
                if (key_equal(entry, private_variables[i]))
                        return true;
        return false;
}

static int grow(void **array, size_t *capacity, size_t need, size_t element) {
        if (need <= *capacity)
                return 0;
        size_t n = *capacity ? *capacity : 16;
        while (n < need)
                n *= 2;
        void *p = realloc(*array, n * element);
        if (!p)
                return -ENOMEM;
        *array = p;
        *capacity = n;
        return 0;
}

/* Append "KEY=VALUE" (or TEXT when VALUE is NULL) to the context's strings; returns it. */
static char *context_string(struct spawn_context *ctx, size_t *used, const char *key, const char *value) {
        char *s = ctx->strings + *used;
        int n = value ? sprintf(s, "%s=%s", key, value) : sprintf(s, "%s", key);
        *used += (size_t)n + 1;
        return s;
}

/* The environment of one process, in CTX, from the highest precedence down:
 * SUPERVISOR_SERVICE, SUPERVISOR_INSTANCE and SUPERVISOR_PIDFILE, OPTIONS' extra
 * variables, the config's `environment` (a later entry over an earlier), Python
 * supervisord's SUPERVISOR_ENABLED, SUPERVISOR_PROCESS_NAME, SUPERVISOR_GROUP_NAME and
 * SUPERVISOR_SERVER_URL (under `environment`, as supervisord has them), USER/LOGNAME/HOME
 * of `user`, and what supervisord inherited.  Each key appears once.  What is not
 * supervisord's own for good (its environ, the config, which the context holds a
 * reference to) is copied. */
static int build_environment(struct spawn_context *ctx, const struct service_config *config,
                             const struct spawn_options *options, const char **ret_path) {
        const char *process = options->process_name ? options->process_name : config->name;
        const char *group = service_config_group(config);
        size_t n_extra = 0, n_config = 0;
        size_t strings_need = 64 + strlen(config->name) + sizeof "SUPERVISOR_PROCESS_NAME=" + strlen(process)
                              + sizeof "SUPERVISOR_GROUP_NAME=" + strlen(group);
        for (; options->extra_env && options->extra_env[n_extra]; n_extra++)
                strings_need += strlen(options->extra_env[n_extra]) + 1;
        while (config->environment && config->environment[n_config])
                n_config++;
        if (config->has_user)
                strings_need += 2 * (strlen(config->user_name) + 9) + strlen(config->user_home) + 6;
        size_t n_max = 3 + n_extra + n_config + 4 + 3 + spawner.n_inherited + 1;
        if (grow((void **)&ctx->envp, &ctx->envp_capacity, n_max, sizeof(char *)) < 0
            || grow((void **)&ctx->strings, &ctx->strings_capacity, strings_need, 1) < 0)
                return -ENOMEM;

        char **envp = ctx->envp, instance[16];
        size_t n = 0, used = 0;
        snprintf(instance, sizeof instance, "%u", options->instance);
        envp[n++] = context_string(ctx, &used, "SUPERVISOR_SERVICE", config->name);
        envp[n++] = context_string(ctx, &used, "SUPERVISOR_INSTANCE", instance);
        if (spawner.pidfile)
                envp[n++] = spawner.pidfile;
        for (size_t i = 0; i < n_extra; i++)
                envp[n++] = context_string(ctx, &used, options->extra_env[i], NULL);
        /* Below here only the config's and the user's variables can clash with what
         * supervisord inherited: the rest are SUPERVISOR_* or private, never inherited. */
        size_t own = n;
        for (size_t i = n_config; i-- > 0;)
                if (!env_has_key(envp, n, config->environment[i]))
                        envp[n++] = config->environment[i];
        /* supervisord's, which `environment` may set otherwise (the model lets it set these
         * four SUPERVISOR_* only). */
        char *python[4] = {
                (char *)"SUPERVISOR_ENABLED=1",
                context_string(ctx, &used, "SUPERVISOR_PROCESS_NAME", process),
                context_string(ctx, &used, "SUPERVISOR_GROUP_NAME", group),
                spawner.server_url,
        };
        for (size_t i = 0; i < ELEMENTSOF(python); i++)
                if (python[i] && !env_has_key(envp + own, n - own, python[i]))
                        envp[n++] = python[i];
        if (config->has_user) {
                const char *vars[3][2] = { { "USER", config->user_name }, { "LOGNAME", config->user_name },
                                           { "HOME", config->user_home } };
                for (size_t i = 0; i < 3; i++)
                        if (!env_has_key(envp + own, n - own, vars[i][0]))
                                envp[n++] = context_string(ctx, &used, vars[i][0], vars[i][1]);
        }
        size_t n_own = n - own;  /* the config's and the user's: all an inherited one can clash with */
        for (size_t i = 0; i < spawner.n_inherited; i++)
                if (n_own == 0 || !env_has_key(envp + own, n_own, spawner.inherited[i]))
                        envp[n++] = spawner.inherited[i];
        envp[n] = NULL;

        *ret_path = "/bin:/usr/bin";  /* what execvp(3) searches without PATH */
        for (size_t i = 0; i < n; i++)
                if (strncmp(envp[i], "PATH=", 5) == 0) {
                        *ret_path = envp[i] + 5;
                        break;
                }
        return 0;
}

static int context_new(struct spawn_context **ret);

int spawn_set_server_url(const char *url) {
        char *text = NULL;
        if (url && asprintf(&text, "SUPERVISOR_SERVER_URL=%s", url) < 0)
                return -ENOMEM;
        free(spawner.server_url);
        spawner.server_url = text;
        return 0;
}

int spawn_init(sd_event *event, const char *pidfile) {
        if (spawner.ready)
                return 0;
        spawner.event = event;
        if (asprintf(&spawner.pidfile, "SUPERVISOR_PIDFILE=%s", pidfile) < 0) {
                spawner.pidfile = NULL;
                return -ENOMEM;
        }
        spawner.use_fork = !SPAWN_SHARED_MEMORY || RUNNING_ON_VALGRIND;
        spawner.dumpable = prctl(PR_GET_DUMPABLE);
        spawner.self = getpid();
        spawner.euid = geteuid();
        spawner.egid = getegid();

        for (int sig = 1; sig <= 64; sig++) {
                struct kernel_sigaction old;
                if (sig == SIGKILL || sig == SIGSTOP)
                        continue;
                if (syscall(SYS_rt_sigaction, sig, NULL, &old, sizeof old.mask) == 0 && old.handler != SIG_DFL)
                        spawner.reset_signals |= UINT64_C(1) << (sig - 1);
        }

        size_t n = 0;
        for (char **e = environ; e && *e; e++)
                n++;
        if (!(spawner.inherited = calloc(n + 1, sizeof(char *))))
                return -ENOMEM;
        for (char **e = environ; e && *e; e++)
                if (!variable_is_private(*e))
                        spawner.inherited[spawner.n_inherited++] = *e;

        if ((spawner.null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
                return -errno;
        /* The contexts kept are made now, while their sockets get low numbers: every child
         * copies the fds below its own socket. */
        spawner.fork_context.socket[0] = spawner.fork_context.socket[1] = -1;
        for (int i = 0; !spawner.use_fork && i < CONTEXTS_KEPT; i++) {
                struct spawn_context *ctx;
                int r = context_new(&ctx);
                if (r < 0)
                        return r;
        }
        spawner.ready = true;
        return 0;
}

/* A context whose child no longer reads it drops what it held. */
static void context_recycle(struct spawn_context *ctx) {
        service_config_unref(ctx->config);
        ctx->config = NULL;
        ctx->pid = 0;
        ctx->failure = (struct child_failure){ 0 };
}

static bool context_is_free(struct spawn_context *ctx) {
        return __atomic_load_n(&ctx->state, __ATOMIC_ACQUIRE) == CONTEXT_FREE;
}

/* A child that changes its uid makes the kernel clear the dumpable flag of its memory,
 * which is ours, so that processes of that user cannot ptrace it: right while it
 * shares our memory, and the reason not to set the flag back before every such child
 * has exec'd.  Then it is set back, or supervisord could no longer dump core. */
static bool restore_dumpable(void) {
        if (!spawner.dumpable_lowered)
                return true;
        for (size_t i = 0; i < spawner.n_contexts; i++)
                if (!context_is_free(spawner.contexts[i]) && spawner.contexts[i]->child.changes_credentials)
                        return false;
        if (prctl(PR_GET_DUMPABLE) != spawner.dumpable)
                (void)prctl(PR_SET_DUMPABLE, spawner.dumpable);
        spawner.dumpable_lowered = false;
        return true;
}

/* Nothing else may come along soon to look: a timer does, until it is set back. */
static int on_dumpable_timer(sd_event_source *source, uint64_t usec, void *userdata) {
        (void)usec;
        (void)userdata;
        if (!restore_dumpable()) {
                (void)sd_event_source_set_time_relative(source, 10 * USEC_PER_MSEC);
                (void)sd_event_source_set_enabled(source, SD_EVENT_ONESHOT);
        }
        return 0;
}

static void watch_dumpable(void) {
        if (!spawner.event)
                return;
        if (!spawner.dumpable_timer) {
                if (sd_event_add_time_relative(spawner.event, &spawner.dumpable_timer, CLOCK_MONOTONIC,
                                               10 * USEC_PER_MSEC, USEC_PER_MSEC, on_dumpable_timer, NULL) < 0)
                        return;  /* the next spawn or reaping looks again */
        } else {
                (void)sd_event_source_set_time_relative(spawner.dumpable_timer, 10 * USEC_PER_MSEC);
                (void)sd_event_source_set_enabled(spawner.dumpable_timer, SD_EVENT_ONESHOT);
        }
}

/* A context no child uses, for a new one.  A free context with a failure in it waits for
 * spawn_collect(): its process exits 127, and is reaped soon. */
static int context_new(struct spawn_context **ret) {
        struct spawn_context **contexts = realloc(spawner.contexts, (spawner.n_contexts + 1) * sizeof *contexts);
        if (!contexts)
                return -ENOMEM;
        spawner.contexts = contexts;
        struct spawn_context *ctx = calloc(1, sizeof *ctx);
        if (!ctx)
                return -ENOMEM;
        int r = 0;
        if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, ctx->socket) < 0) {
                r = -errno;
                free(ctx);
                return r;
        }
        ctx->stack = mmap(NULL, CHILD_STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
        if (ctx->stack == MAP_FAILED) {
                r = -errno;
                close(ctx->socket[0]);
                close(ctx->socket[1]);
                free(ctx);
                return r;
        }
        (void)mprotect(ctx->stack, (size_t)sysconf(_SC_PAGESIZE), PROT_NONE);  /* an overflow faults, not corrupts */
        spawner.contexts[spawner.n_contexts++] = ctx;
        *ret = ctx;
        return 0;
}

static struct spawn_context *context_find_free(void) {
        for (size_t i = 0; i < spawner.n_contexts; i++) {
                struct spawn_context *ctx = spawner.contexts[i];
                if (context_is_free(ctx) && !(ctx->pid && ctx->failure.step))
                        return ctx;
        }
        return NULL;
}

static void context_drain(struct spawn_context *ctx);
static void context_close_socket(struct spawn_context *ctx);

static void context_destroy(struct spawn_context *ctx) {
        context_recycle(ctx);
        context_drain(ctx);
        context_close_socket(ctx);
        free(ctx->envp);
        free(ctx->strings);
        munmap(ctx->stack, CHILD_STACK_SIZE);
        free(ctx);
}

/* Contexts made past CONTEXTS_KEPT in a burst are freed once their child has exec'd
 * (or its failure was collected).  The first CONTEXTS_KEPT stay, in front: their sockets
 * have the lowest numbers, and every child copies the fds below its own socket. */
static void contexts_trim(void) {
        size_t kept = CONTEXTS_KEPT;
        for (size_t i = CONTEXTS_KEPT; i < spawner.n_contexts; i++) {
                struct spawn_context *ctx = spawner.contexts[i];
                if (context_is_free(ctx) && !(ctx->pid && ctx->failure.step))
                        context_destroy(ctx);
                else
                        spawner.contexts[kept++] = ctx;
        }
        if (kept < spawner.n_contexts)
                spawner.n_contexts = kept;
}

/* After a burst the contexts it made are freed (2 sockets and a stack each) as soon as
 * their children have exec'd, not at the next spawn or exit, which may never come: a start
 * of thousands of quiet services would keep the burst's hundreds of descriptors. */
static int on_trim_timer(sd_event_source *source, uint64_t usec, void *userdata) {
        (void)usec;
        (void)userdata;
        contexts_trim();
        if (spawner.n_contexts > CONTEXTS_KEPT) {
                (void)sd_event_source_set_time_relative(source, 10 * USEC_PER_MSEC);
                (void)sd_event_source_set_enabled(source, SD_EVENT_ONESHOT);
        }
        return 0;
}

static void watch_trim(void) {
        if (!spawner.event || spawner.n_contexts <= CONTEXTS_KEPT)
                return;
        if (!spawner.trim_timer) {
                if (sd_event_add_time_relative(spawner.event, &spawner.trim_timer, CLOCK_MONOTONIC, 10 * USEC_PER_MSEC,
                                               USEC_PER_MSEC, on_trim_timer, NULL) < 0)
                        return;  /* the next spawn or reaping trims */
        } else if (sd_event_source_get_enabled(spawner.trim_timer, NULL) == 0) {
                (void)sd_event_source_set_time_relative(spawner.trim_timer, 10 * USEC_PER_MSEC);
                (void)sd_event_source_set_enabled(spawner.trim_timer, SD_EVENT_ONESHOT);
        }
}

/* A context no child uses, for a new one.  A free context with a failure in it waits for
 * spawn_collect(): its process exits 127, and is reaped soon.  When all are in use the
 * pool grows rather than the loop waits for a child to exec (issue 14): a start of a
 * thousand once had 188 children between clone and exec at its peak, 1.5 MiB of stacks,
 * given back once they have exec'd. */
static int context_get(struct spawn_context **ret) {
        contexts_trim();
        struct spawn_context *ctx = context_find_free();
        restore_dumpable();
        if (ctx) {
                context_recycle(ctx);
                *ret = ctx;
                return 0;
        }
        if (spawner.n_contexts >= MAX_CONTEXTS)
                return -EAGAIN;
        return context_new(ret);
}

/* Fds a child never took (it died first) would keep pipes open: closed here. */
static void context_drain(struct spawn_context *ctx) {
        for (;;) {
                union {
                        struct cmsghdr header;
                        char bytes[CMSG_SPACE(sizeof(int) * N_ROLES)];
                } control;
                uint8_t roles[N_ROLES];
                struct iovec iov = { .iov_base = roles, .iov_len = sizeof roles };
                struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.bytes,
                                      .msg_controllen = sizeof control.bytes };
                if (recvmsg(ctx->socket[1], &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) < 0)
                        return;
                for (struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg))
                        if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS)
                                for (size_t i = 0; i < (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++)
                                        close(((int *)(void *)CMSG_DATA(cmsg))[i]);
        }
}

static void context_close_socket(struct spawn_context *ctx) {
        for (int i = 0; i < 2; i++) {
                if (ctx->socket[i] >= 0)
                        close(ctx->socket[i]);
                ctx->socket[i] = -1;
        }
}

/* Queue FDS (their ROLES beside them) on CTX's socket for its next child. */
static int context_send(struct spawn_context *ctx, const uint8_t *roles, const int *fds, size_t n) {
        union {
                struct cmsghdr header;
                char bytes[CMSG_SPACE(sizeof(int) * N_ROLES)];
        } control = { 0 };
        struct iovec iov = { .iov_base = (void *)roles, .iov_len = n };
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
        /* An empty datagram too: the child finds it and takes nothing. */
        if (n > 0) {
                msg.msg_control = control.bytes;
                msg.msg_controllen = CMSG_SPACE(n * sizeof(int));
                struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
                cmsg->cmsg_level = SOL_SOCKET;
                cmsg->cmsg_type = SCM_RIGHTS;
                cmsg->cmsg_len = CMSG_LEN(n * sizeof(int));
                memcpy(CMSG_DATA(cmsg), fds, n * sizeof(int));
        }
        return sendmsg(ctx->socket[0], &msg, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 ? -errno : 0;
}

static void format_failure(const struct child_failure *f, const struct service_config *config, char *buf, size_t size) {
        const char *error = strerror(f->error);
        switch (f->step) {
        case 0: buf[0] = '\0'; break;
        case STEP_FILES: snprintf(buf, size, "unsharing the descriptor table: %s", error); break;
        case STEP_SETSID: snprintf(buf, size, "setsid: %s", error); break;
        case STEP_STDIN: snprintf(buf, size, "stdin: %s", error); break;
        case STEP_NOFILE: snprintf(buf, size, "setrlimit nofile: %s", error); break;
        case STEP_NPROC: snprintf(buf, size, "setrlimit nproc: %s", error); break;
        case STEP_CORE: snprintf(buf, size, "setrlimit core: %s", error); break;
        case STEP_NICE: snprintf(buf, size, "nice %d: %s", config->nice, error); break;
        case STEP_SETGROUPS:
                snprintf(buf, size, "setgroups %s: %s", config->has_user ? config->user_name : "", error);
                break;
        case STEP_SETGID: snprintf(buf, size, "setgid %u: %s", (unsigned)config->gid, error); break;
        case STEP_SETUID: snprintf(buf, size, "setuid %u: %s", (unsigned)config->uid, error); break;
        case STEP_NOT_ROOT:
                snprintf(buf, size, "cannot change user or group: supervisord is not running as root");
                break;
        case STEP_CHDIR: snprintf(buf, size, "chdir %s: %s", config->directory, error); break;
        case STEP_PRCTL: snprintf(buf, size, "prctl: %s", error); break;
        case STEP_ORPHANED: snprintf(buf, size, "supervisord exited during the start"); break;
        case STEP_FDS: snprintf(buf, size, "arranging fds: %s", error); break;
        case STEP_CGROUP: snprintf(buf, size, "joining its cgroup: %s", error); break;
        case STEP_EXEC: snprintf(buf, size, "exec %s: %s", config->argv[0], error); break;
        default: snprintf(buf, size, "setup step %d: %s", (int)f->step, error); break;
        }
}

int spawn_service(const struct service_config *config, const struct spawn_options *options, pid_t *ret_pid,
                  int *ret_error_fd) {
        struct spawn_context *ctx = NULL;
        int pipe_fds[2] = { -1, -1 }, r;

        *ret_error_fd = -1;
        if (!spawner.ready)
                return -ENXIO;
        if (spawner.use_fork) {
                /* The child gets a copy of all of it: free again once forked.  Its socket is
                 * made for each child, since forked children do not take their fds in the
                 * order they were forked. */
                ctx = &spawner.fork_context;
                if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, ctx->socket) < 0)
                        return -errno;
        } else if ((r = context_get(&ctx)) < 0)
                return r;
        else
                context_drain(ctx);
        struct child *c = &ctx->child;
        *c = (struct child){ .config = config, .socket = ctx->socket[1], .error_fd = -1, .parent = spawner.self,
                             .euid = spawner.euid, .egid = spawner.egid, .failure = &ctx->failure };
        c->keep_below = (ctx->socket[1] > spawner.null_fd ? ctx->socket[1] : spawner.null_fd) + 1;
        c->changes_credentials = c->euid == 0 && (config->has_user || config->has_group);
        if ((r = build_environment(ctx, config, options, &c->path)) < 0)
                goto fail;
        c->envp = ctx->envp;

        uint8_t roles[N_ROLES];
        int fds[N_ROLES];
        size_t n = 0;
        if (options->stdin_fd >= 0) {
                roles[n] = ROLE_STDIN;
                fds[n++] = options->stdin_fd;
        }
        if (options->stdout_fd >= 0) {
                roles[n] = ROLE_STDOUT;
                fds[n++] = options->stdout_fd;
        }
        if (options->stderr_fd >= 0) {
                roles[n] = ROLE_STDERR;
                fds[n++] = options->stderr_fd;
        }
        for (unsigned i = 0; i < options->n_extra_fds && i < 4; i++) {
                roles[n] = (uint8_t)(ROLE_EXTRA + i);
                fds[n++] = options->extra_fds[i];
        }
        if (options->cgroup_fd >= 0) {
                roles[n] = ROLE_CGROUP;
                fds[n++] = options->cgroup_fd;
        }
        if (spawner.use_fork) {
                if (pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) < 0) {
                        r = -errno;
                        goto fail;
                }
                roles[n] = ROLE_ERROR;
                fds[n++] = pipe_fds[1];
        }
        r = context_send(ctx, roles, fds, n);
        if (pipe_fds[1] >= 0)
                close(pipe_fds[1]);  /* the message holds it for the child */
        if (r < 0)
                goto fail;

        pid_t pid;
        if (spawner.use_fork) {
                pid = fork();
                if (pid == 0)
                        child_main(c);
        } else {
                ctx->state = CONTEXT_BUSY;
                pid = clone(child_main, ctx->stack + CHILD_STACK_SIZE, CLONE_VM | CLONE_FILES | CLONE_CHILD_CLEARTID | SIGCHLD,
                            c, NULL, NULL, &ctx->state);
                if (pid < 0)
                        ctx->state = CONTEXT_FREE;
        }
        if (pid < 0) {
                r = -errno;
                goto fail;
        }
        if (!spawner.use_fork) {
                if (c->changes_credentials) {
                        spawner.dumpable_lowered = true;
                        watch_dumpable();
                }
                ctx->pid = pid;
                ctx->config = service_config_ref((struct service_config *)config);
                watch_trim();
        }
        if (spawner.use_fork)
                context_close_socket(ctx);  /* the child has its own copy */
        *ret_pid = pid;
        *ret_error_fd = pipe_fds[0];  /* fork: the outcome comes later; -1 otherwise */
        return 0;
fail:
        if (spawner.use_fork)
                context_close_socket(ctx);
        else
                context_drain(ctx);
        if (pipe_fds[0] >= 0)
                close(pipe_fds[0]);
        return r;
}

/* A failure that the next attempt would meet again: the command is not there or cannot be
 * run, or the user cannot be switched to.  (A missing directory or a limit may be fixed
 * by something else meanwhile; a file being written, ETXTBSY, is finished soon.) */
static bool failure_is_permanent(const struct child_failure *f) {
        switch (f->step) {
        case STEP_NOT_ROOT:
                return true;
        case STEP_EXEC:
                switch (f->error) {
                case ENOENT: case EACCES: case ENOEXEC: case ENOTDIR: case ELOOP: case ENAMETOOLONG: case EISDIR:
                        return true;
                }
                return false;
        }
        return false;
}

bool spawn_collect(pid_t pid, char *buf, size_t size) {
        bool permanent = false;
        buf[0] = '\0';
        for (size_t i = 0; pid > 0 && i < spawner.n_contexts; i++) {
                struct spawn_context *ctx = spawner.contexts[i];
                if (ctx->pid != pid || !context_is_free(ctx))
                        continue;
                format_failure(&ctx->failure, ctx->config, buf, size);
                permanent = failure_is_permanent(&ctx->failure);
                context_recycle(ctx);
                break;
        }
        restore_dumpable();
        contexts_trim();
        return permanent;
}

bool spawn_read_error(int error_fd, const struct service_config *config, char *buf, size_t size) {
        struct child_failure f;
        buf[0] = '\0';
        if (read(error_fd, &f, sizeof f) != (ssize_t)sizeof f)
                return false;
        format_failure(&f, config, buf, size);
        return failure_is_permanent(&f);
}

void spawn_free(void) {
        if (!spawner.ready)
                return;
        spawner.dumpable_timer = sd_event_source_disable_unref(spawner.dumpable_timer);
        spawner.trim_timer = sd_event_source_disable_unref(spawner.trim_timer);
        spawner.event = NULL;
        /* A context a child still reads (a command hung in exec) stays: its memory is
         * that child's until the kernel frees it. */
        for (size_t i = 0; i < spawner.n_contexts; i++) {
                struct spawn_context *ctx = spawner.contexts[i];
                if (!context_is_free(ctx))
                        continue;
                context_recycle(ctx);
                context_drain(ctx);
                close(ctx->socket[0]);
                close(ctx->socket[1]);
                free(ctx->envp);
                free(ctx->strings);
                munmap(ctx->stack, CHILD_STACK_SIZE);
                free(ctx);
                spawner.contexts[i] = NULL;
        }
        free(spawner.contexts);
        spawner.contexts = NULL;
        spawner.n_contexts = 0;
        free(spawner.fork_context.envp);
        free(spawner.fork_context.strings);
        spawner.fork_context = (struct spawn_context){ 0 };
        free(spawner.inherited);
        spawner.inherited = NULL;
        spawner.n_inherited = 0;
        if (spawner.null_fd >= 0)
                close(spawner.null_fd);
        spawner.null_fd = -1;
        spawner.ready = false;
        spawner.reset_signals = 0;
        free(spawner.pidfile);
        spawner.pidfile = NULL;
        free(spawner.server_url);
        spawner.server_url = NULL;
}
