/* spawn.c — see spawn.h.
 *
 * Why not fork(): a fork copies supervisord's page tables and its whole descriptor table
 * — thousands of fds with a thousand services — only for exec to throw both away; the
 * child then spent most of its time before exec closing those copies.  At a thousand
 * services that made every spawn, and so every restart, cost well over a millisecond.
 *
 * Instead the child is a clone(CLONE_VM | CLONE_VFORK | CLONE_FILES), the way
 * posix_spawn() makes its children: it runs on a small stack of its own inside
 * supervisord's memory, and supervisord is suspended until the child has exec'd or died.
 * Its first act is close_range(slot_end, ~0U, CLOSE_RANGE_UNSHARE), which gives it a
 * private descriptor table holding only the fds below slot_end: the kernel copies those
 * few and never touches the others.  So everything a child needs (its stdout and stderr,
 * the heartbeat fds, the error pipe) is first put into a handful of slots, descriptors
 * reserved at low numbers by spawn_init and kept open on /dev/null between spawns so that
 * nothing else takes their numbers.
 *
 * What the child may do: it shares memory with a suspended supervisord, so it must not
 * allocate, lock, or change anything supervisord reads afterwards.  Everything that
 * needs memory is done before the clone — the environment array (here), the
 * supplementary groups (config.c, at load), the list of signals to reset (spawn_init) —
 * and the child makes only system calls.  A failing step is reported as an 8-byte
 * record on a close-on-exec pipe; supervisord turns it into the message.  A child that
 * failed has written its record before it exits, which is what resumes supervisord, so
 * the outcome is known as soon as the clone returns.
 *
 * The price: supervisord's loop waits while the child gets to exec — tens of
 * microseconds normally; a command or directory on a hung network file system holds it
 * for as long as the file system hangs, exactly as it would hold a posix_spawn().
 *
 * valgrind cannot run CLONE_VM children, so under valgrind a plain fork() runs the same
 * child code, and the error pipe is left to the event loop to read. */
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
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#endif

/* The child's code runs on a stack sanitizers know nothing about, and before exec: no
 * instrumentation there. */
#define CHILD_CODE __attribute__((no_sanitize("address", "undefined")))

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

#define CHILD_STACK_SIZE (256u << 10)  /* mapped once; the child touches a few KiB of it */
#define MAX_SCRIPT_ARGS 1024           /* argv of a script run through /bin/sh (ENOEXEC) */

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
        STEP_EXEC,
};

struct child_failure {
        int32_t step;   /* enum child_step */
        int32_t error;  /* errno, 0 if none */
};

/* Slots: where a spawn puts the descriptors its child takes over. */
enum slot {
        SLOT_STDOUT,
        SLOT_STDERR,
        SLOT_EXTRA,            /* SLOT_EXTRA + i for extra_fds[i] */
        SLOT_ERROR = SLOT_EXTRA + 4,
        N_SLOTS,
};

static struct {
        bool ready;
        bool use_fork;               /* under valgrind */
        int null_fd;                 /* owned: /dev/null, read-only: the children's stdin, and
                                      * what an idle slot holds */
        int slots[N_SLOTS];          /* owned, close-on-exec, on null_fd between spawns */
        int slot_end;                /* above every slot and null_fd */
        void *stack;                 /* owned mapping of CHILD_STACK_SIZE, lowest page a guard */
        uint64_t reset_signals;      /* bit sig-1: not SIG_DFL in supervisord */
        char **inherited;            /* owned array, strings borrowed from environ: what every
                                      * service inherits */
        size_t n_inherited;
        char **envp;                 /* owned scratch for one spawn's environment */
        size_t envp_capacity;
        char *strings;               /* owned scratch for the variables made per spawn */
        size_t strings_capacity;
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

/* ---- the child: system calls only ---- */

/* The kernel's struct sigaction, for the raw system call: glibc's wrapper refuses the
 * two signals it reserves for its threads (32, 33), whose inherited dispositions would
 * still survive exec. */
struct kernel_sigaction {
        void (*handler)(int);
        unsigned long flags;
        void (*restorer)(void);
        uint64_t mask;
};

/* Everything the child needs, prepared by the parent and only read by the child. */
struct child {
        const struct service_config *config;
        int sources[N_SLOTS];        /* slot numbers holding what becomes fd 1, 2, 3...; -1 */
        unsigned n_extra_fds;
        int error_fd;                /* the slot with the error pipe's write end */
        char *const *envp;
        const char *path;            /* PATH to search the command in */
        pid_t parent;
        bool is_root;
};

static void CHILD_CODE __attribute__((noreturn)) child_fail(const struct child *c, int step, int error) {
        struct child_failure failure = { .step = step, .error = error };
        ssize_t unused = write(c->error_fd, &failure, sizeof failure);  /* far below PIPE_BUF */
        (void)unused;
        _exit(127);
}

static void CHILD_CODE child_reset_signals(void) {
        struct kernel_sigaction dfl = { .handler = SIG_DFL };
        for (int sig = 1; sig <= 64; sig++)
                if (spawner.reset_signals & (UINT64_C(1) << (sig - 1)))
                        (void)syscall(SYS_rt_sigaction, sig, &dfl, NULL, sizeof dfl.mask);
        uint64_t none = 0;
        (void)syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, sizeof none);
}

static void CHILD_CODE child_set_limit(const struct child *c, int resource, int step, const struct resource_limit *limit) {
        if (!limit->set)
                return;
        struct rlimit rl = { .rlim_cur = limit->value, .rlim_max = limit->value };
        if (setrlimit(resource, &rl) < 0)
                child_fail(c, step, errno);
}

static void CHILD_CODE child_set_credentials(const struct child *c) {
        const struct service_config *config = c->config;
        if (!config->has_user && !config->has_group)
                return;
        if (!c->is_root) {
                if ((config->has_user && config->uid != geteuid()) || (config->has_group && config->gid != getegid()))
                        child_fail(c, STEP_NOT_ROOT, 0);
                return;
        }
        /* Groups before the uid: once the uid is dropped they cannot change. */
        if (config->has_user) {
                if (syscall(SYSCALL_SETGROUPS, config->n_groups, config->groups) < 0)
                        child_fail(c, STEP_SETGROUPS, errno);
        } else if (syscall(SYSCALL_SETGROUPS, 1, &config->gid) < 0)
                child_fail(c, STEP_SETGROUPS, errno);
        if (syscall(SYSCALL_SETRESGID, config->gid, config->gid, config->gid) < 0)
                child_fail(c, STEP_SETGID, errno);
        if (config->has_user && syscall(SYSCALL_SETRESUID, config->uid, config->uid, config->uid) < 0)
                child_fail(c, STEP_SETUID, errno);
}

/* From the slots to 1, 2, 3...  Slots may sit on the target numbers, so every source is
 * first copied above all of them.  Returns the first fd the service does not get. */
static int CHILD_CODE child_arrange_fds(struct child *c) {
        int floor = spawner.slot_end > 8 ? spawner.slot_end : 8;
        int moved[N_SLOTS];
        for (int i = 0; i < N_SLOTS; i++) {
                moved[i] = -1;
                if (c->sources[i] >= 0 && (moved[i] = fcntl(c->sources[i], F_DUPFD_CLOEXEC, floor)) < 0)
                        child_fail(c, STEP_FDS, errno);
        }
        c->error_fd = moved[SLOT_ERROR];
        if ((moved[SLOT_STDOUT] >= 0 && dup2(moved[SLOT_STDOUT], STDOUT_FILENO) < 0)
            || (moved[SLOT_STDERR] >= 0 && dup2(moved[SLOT_STDERR], STDERR_FILENO) < 0))
                child_fail(c, STEP_FDS, errno);
        for (unsigned i = 0; i < c->n_extra_fds; i++)  /* dup2 leaves the copy without close-on-exec */
                if (dup2(moved[SLOT_EXTRA + i], 3 + (int)i) < 0)
                        child_fail(c, STEP_FDS, errno);
        return 3 + (int)c->n_extra_fds;
}

/* execve FILE; a file without a #! line is run by /bin/sh, as execvp(3) does. */
static void CHILD_CODE child_exec_file(const struct child *c, const char *file) {
        char *const *argv = c->config->argv;
        execve(file, argv, c->envp);
        if (errno != ENOEXEC)
                return;
        size_t argc = 0;
        while (argv[argc])
                argc++;
        if (argc > MAX_SCRIPT_ARGS) {
                errno = ENOEXEC;
                return;
        }
        const char *script[MAX_SCRIPT_ARGS + 2];
        script[0] = "/bin/sh";
        script[1] = file;
        for (size_t i = 1; i <= argc; i++)  /* the NULL at the end too */
                script[i + 1] = argv[i];
        execve("/bin/sh", (char *const *)script, c->envp);
        errno = ENOEXEC;  /* what the file itself gave */
}

/* The command, searched in PATH unless it names a path; only returns on failure. */
static void CHILD_CODE child_exec(const struct child *c) {
        const char *name = c->config->argv[0];
        if (strchr(name, '/')) {
                child_exec_file(c, name);
                return;
        }
        size_t name_len = strlen(name);
        char path[PATH_MAX];
        bool denied = false;
        for (const char *dir = c->path;; dir++) {
                const char *end = strchrnul(dir, ':');
                size_t dir_len = (size_t)(end - dir);
                if (dir_len + 1 + name_len + 1 <= sizeof path) {
                        /* An empty entry is the current directory. */
                        size_t n = 0;
                        if (dir_len > 0) {
                                memcpy(path, dir, dir_len);
                                path[dir_len] = '/';
                                n = dir_len + 1;
                        }
                        memcpy(path + n, name, name_len + 1);
                        child_exec_file(c, path);
                        switch (errno) {
                        case EACCES:
                                denied = true;
                                break;
                        case ENOENT: case ENOTDIR: case ESTALE: case ENODEV: case ETIMEDOUT:
                                break;
                        default:
                                return;
                        }
                }
                if (*end == '\0')
                        break;
                dir = end;
        }
        errno = denied ? EACCES : ENOENT;
}

static int CHILD_CODE __attribute__((noreturn)) child_main(void *userdata) {
        struct child *c = userdata;
        const struct service_config *config = c->config;

        /* A private descriptor table of just the fds below slot_end; where the kernel is too
         * old for that, a full copy whose extra fds the close_range below marks. */
        if (syscall(SYS_close_range, (unsigned)spawner.slot_end, ~0U, CLOSE_RANGE_UNSHARE) < 0
            && unshare(CLONE_FILES) < 0)
                child_fail(c, STEP_FILES, errno);  /* writing the pipe changes no table */
        child_reset_signals();
        if (setsid() < 0)
                child_fail(c, STEP_SETSID, errno);
        if (dup2(spawner.null_fd, STDIN_FILENO) < 0)
                child_fail(c, STEP_STDIN, errno);

        if (config->limit_nofile.set)
                child_set_limit(c, RLIMIT_NOFILE, STEP_NOFILE, &config->limit_nofile);
        else if (inherited_nofile.rlim_cur != RLIM_INFINITY)
                /* Give back the limit supervisord started with (it raised its own for a
                 * thousand services' pipes).  Best effort: lowering cannot fail but under
                 * instrumentation such as valgrind. */
                (void)setrlimit(RLIMIT_NOFILE, &inherited_nofile);
        child_set_limit(c, RLIMIT_NPROC, STEP_NPROC, &config->limit_nproc);
        child_set_limit(c, RLIMIT_CORE, STEP_CORE, &config->limit_core);
        if (config->has_nice && setpriority(PRIO_PROCESS, 0, config->nice) < 0)
                child_fail(c, STEP_NICE, errno);
        if (config->has_umask)
                umask(config->umask);
        child_set_credentials(c);
        if (config->directory && chdir(config->directory) < 0)
                child_fail(c, STEP_CHDIR, errno);

        /* Die with supervisord: a killed supervisord must not leave services running
         * unmanaged.  Set after the uid change, which would clear it; the getppid() check
         * closes the race with a supervisord that died before the prctl. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
                child_fail(c, STEP_PRCTL, errno);
        if (getppid() != c->parent)
                child_fail(c, STEP_ORPHANED, 0);

        int first_free = child_arrange_fds(c);
        /* Every other fd — what lay below slot_end, and anything supervisord inherited
         * without close-on-exec — is closed at exec; the error pipe stays usable until
         * then. */
        if (syscall(SYS_close_range, (unsigned)first_free, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
                struct rlimit rl;
                rlim_t top = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (1u << 20) ? rl.rlim_cur : (1u << 20);
                for (int fd = first_free; fd < (int)top; fd++)
                        (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
        }
        child_exec(c);
        child_fail(c, STEP_EXEC, errno);
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

/* The environment of one process, in spawner.envp, from the highest precedence down:
 * SUPERVISOR_SERVICE and SUPERVISOR_INSTANCE, OPTIONS' extra variables, the config's
 * `environment` (a later entry over an earlier), USER/LOGNAME/HOME of `user`, and what
 * supervisord inherited.  Each key appears once.  Valid until the next call. */
static int build_environment(const struct service_config *config, const struct spawn_options *options,
                             const char **ret_path) {
        size_t n_extra = 0, n_config = 0;
        while (options->extra_env && options->extra_env[n_extra])
                n_extra++;
        while (config->environment && config->environment[n_config])
                n_config++;
        size_t n_max = 2 + n_extra + n_config + 3 + spawner.n_inherited + 1;
        size_t user_len = config->has_user ? strlen(config->user_name) : 0;
        size_t home_len = config->has_user ? strlen(config->user_home) : 0;
        size_t strings_need = 64 + strlen(config->name) + 2 * (user_len + 8) + home_len + 8;
        if (grow((void **)&spawner.envp, &spawner.envp_capacity, n_max, sizeof(char *)) < 0
            || grow((void **)&spawner.strings, &spawner.strings_capacity, strings_need, 1) < 0)
                return -ENOMEM;

        char **envp = spawner.envp, *s = spawner.strings;
        size_t n = 0;
        envp[n++] = s;
        s += sprintf(s, "SUPERVISOR_SERVICE=%s", config->name) + 1;
        envp[n++] = s;
        s += sprintf(s, "SUPERVISOR_INSTANCE=%u", options->instance) + 1;
        for (size_t i = 0; i < n_extra; i++)
                envp[n++] = options->extra_env[i];
        /* Below here only the config's and the user's variables can clash with what
         * supervisord inherited: the rest are SUPERVISOR_* or private, never inherited. */
        size_t own = n;
        for (size_t i = n_config; i-- > 0;)
                if (!env_has_key(envp, n, config->environment[i]))
                        envp[n++] = config->environment[i];
        if (config->has_user) {
                const char *vars[3][2] = { { "USER", config->user_name }, { "LOGNAME", config->user_name },
                                           { "HOME", config->user_home } };
                for (size_t i = 0; i < 3; i++)
                        if (!env_has_key(envp + own, n - own, vars[i][0])) {
                                envp[n++] = s;
                                s += sprintf(s, "%s=%s", vars[i][0], vars[i][1]) + 1;
                        }
        }
        for (size_t i = 0; i < spawner.n_inherited; i++)
                if (n == own || !env_has_key(envp + own, n - own, spawner.inherited[i]))
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

int spawn_init(void) {
        if (spawner.ready)
                return 0;
        spawner.use_fork = RUNNING_ON_VALGRIND;

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
        spawner.slot_end = spawner.null_fd + 1;
        for (int i = 0; i < N_SLOTS; i++) {
                if ((spawner.slots[i] = fcntl(spawner.null_fd, F_DUPFD_CLOEXEC, 0)) < 0)
                        return -errno;
                if (spawner.slots[i] >= spawner.slot_end)
                        spawner.slot_end = spawner.slots[i] + 1;
        }

        void *stack = mmap(NULL, CHILD_STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
        if (stack == MAP_FAILED)
                return -errno;
        (void)mprotect(stack, (size_t)sysconf(_SC_PAGESIZE), PROT_NONE);  /* an overflow faults, not corrupts */
        spawner.stack = stack;
        spawner.ready = true;
        return 0;
}

/* Back to /dev/null: the slot keeps its number, and no longer holds the pipe it carried
 * (a heartbeat pipe whose other end the service closed must report that). */
static void slots_clear(const struct child *c) {
        for (int i = 0; i < N_SLOTS; i++)
                if (c->sources[i] >= 0)
                        (void)dup3(spawner.null_fd, c->sources[i], O_CLOEXEC);
}

static int slot_fill(struct child *c, enum slot slot, int fd) {
        if (fd < 0)
                return 0;
        if (dup3(fd, spawner.slots[slot], O_CLOEXEC) < 0)
                return -errno;
        c->sources[slot] = spawner.slots[slot];
        return 0;
}

int spawn_service(const struct service_config *config, const struct spawn_options *options, pid_t *ret_pid,
                  int *ret_error_fd, char *message, size_t message_size) {
        struct child c = { .config = config, .n_extra_fds = options->n_extra_fds, .parent = getpid(),
                           .is_root = geteuid() == 0 };
        int pipe_fds[2] = { -1, -1 }, r;

        message[0] = '\0';
        *ret_error_fd = -1;
        if (!spawner.ready)
                return -ENXIO;
        for (int i = 0; i < N_SLOTS; i++)
                c.sources[i] = -1;
        if ((r = build_environment(config, options, &c.path)) < 0)
                return r;
        c.envp = spawner.envp;
        if (pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) < 0)
                return -errno;
        r = slot_fill(&c, SLOT_ERROR, pipe_fds[1]);
        close(pipe_fds[1]);
        c.error_fd = c.sources[SLOT_ERROR];
        if (r < 0)
                goto fail;
        if ((r = slot_fill(&c, SLOT_STDOUT, options->stdout_fd)) < 0
            || (r = slot_fill(&c, SLOT_STDERR, options->stderr_fd)) < 0)
                goto fail;
        for (unsigned i = 0; i < options->n_extra_fds && i < 4; i++)
                if ((r = slot_fill(&c, SLOT_EXTRA + i, options->extra_fds[i])) < 0)
                        goto fail;

        pid_t pid;
        if (spawner.use_fork) {
                pid = fork();
                if (pid == 0)
                        child_main(&c);
        } else
                pid = clone(child_main, (char *)spawner.stack + CHILD_STACK_SIZE,
                            CLONE_VM | CLONE_VFORK | CLONE_FILES | SIGCHLD, &c);
        if (pid < 0) {
                r = -errno;
                goto fail;
        }
        slots_clear(&c);
        *ret_pid = pid;
        if (spawner.use_fork) {
                *ret_error_fd = pipe_fds[0];  /* the child may not have got anywhere yet */
                return 0;
        }
        /* The child has exec'd, or has written its failure and exited. */
        spawn_read_error(pipe_fds[0], config, message, message_size);
        close(pipe_fds[0]);
        return 0;
fail:
        slots_clear(&c);
        close(pipe_fds[0]);
        return r;
}

void spawn_read_error(int error_fd, const struct service_config *config, char *buf, size_t size) {
        struct child_failure f;
        const char *error;
        buf[0] = '\0';
        if (read(error_fd, &f, sizeof f) != (ssize_t)sizeof f)
                return;
        error = strerror(f.error);
        switch (f.step) {
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
        case STEP_EXEC: snprintf(buf, size, "exec %s: %s", config->argv[0], error); break;
        default: snprintf(buf, size, "setup step %d: %s", (int)f.step, error); break;
        }
}
