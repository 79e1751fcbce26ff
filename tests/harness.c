/* harness.c — see harness.h. */
#include "harness.h"

#include <dirent.h>
#include <limits.h>
#include <libgen.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const char *supervisord_path(void) {
        const char *p = getenv("SUPERVISORD");
        return p ? p : "./supervisord/supervisord";
}

const char *supervisorctl_path(void) {
        const char *p = getenv("SUPERVISORCTL");
        return p ? p : "./supervisord/supervisorctl";
}

void sleep_ms(int ms) {
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

long long now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void daemon_init(struct daemon *d) {
        memset(d, 0, sizeof *d);
        snprintf(d->dir, sizeof d->dir, "/tmp/supervisord-test.XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(d->dir));
        chmod(d->dir, 0755);  /* services running as other users must reach their files */
        snprintf(d->conf, sizeof d->conf, "%s/supervisord.conf", d->dir);
        snprintf(d->sock, sizeof d->sock, "%s/sock", d->dir);
        snprintf(d->pidfile, sizeof d->pidfile, "%s/pid", d->dir);
        snprintf(d->log, sizeof d->log, "%s/daemon.log", d->dir);
}

void daemon_write_config(struct daemon *d, const char *body_format, ...) {
        FILE *f = fopen(d->conf, "w");
        ck_assert_ptr_nonnull(f);
        /* Service logs stay in the test's own directory, never in /var/log.  Still three
         * lines: tests count on the line numbers of what follows. */
        fprintf(f, "socket = \"%s\"\npidfile = \"%s\"\nlog-level = debug  log-dir = \"%s/logs\"\n", d->sock,
                d->pidfile, d->dir);
        va_list ap;
        va_start(ap, body_format);
        vfprintf(f, body_format, ap);
        va_end(ap);
        ck_assert_int_eq(fclose(f), 0);
}

static bool socket_answers(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
        if (fd >= 0)
                close(fd);
        return ok;
}

/* Exec the daemon, behind the words of $SUPERVISORD_WRAPPER when it is set (split at
 * blanks; `make check-valgrind` puts valgrind there).  Only returns if exec failed. */
static void exec_daemon(const char *conf) {
        char *argv[64], *path = (char *)supervisord_path();
        int argc = 0;
        const char *wrapper = getenv("SUPERVISORD_WRAPPER");
        char *words = wrapper ? strdup(wrapper) : NULL;
        for (char *save = NULL, *w = words ? strtok_r(words, " \t", &save) : NULL; w && argc < 59;
             w = strtok_r(NULL, " \t", &save))
                argv[argc++] = w;
        if (argc > 0) {
                argv[argc++] = path;  /* the wrapper runs the daemon */
                path = argv[0];
        } else
                argv[argc++] = "supervisord";
        argv[argc++] = "-n";
        argv[argc++] = "-c";
        argv[argc++] = (char *)conf;
        argv[argc] = NULL;
        execvp(path, argv);
}

void daemon_start(struct daemon *d) {
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                /* If the test dies, the daemon shuts down and takes its services along. */
                prctl(PR_SET_PDEATHSIG, SIGTERM);
                int log = open(d->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
                if (log >= 0) {
                        dup2(log, STDOUT_FILENO);
                        dup2(log, STDERR_FILENO);
                }
                exec_daemon(d->conf);
                _exit(127);
        }
        d->pid = pid;
        bool up = WAIT_UNTIL(socket_answers(d->sock) || waitpid(pid, NULL, WNOHANG) == pid, SOON_MS);
        if (!up || !socket_answers(d->sock)) {
                char log[2048] = "";
                read_text_file(d->log, log, sizeof log);
                ck_abort_msg("supervisord did not answer on %s within %d ms; its log %s: %s", d->sock, SOON_MS, d->log,
                             log);
        }
}

int daemon_stop(struct daemon *d, int timeout_ms) {
        if (d->pid <= 0)
                return -1;
        kill(d->pid, SIGTERM);
        int status = 0;
        pid_t got = 0;
        bool done = WAIT_UNTIL((got = waitpid(d->pid, &status, WNOHANG)) == d->pid, timeout_ms);
        if (!done) {
                kill(d->pid, SIGKILL);
                waitpid(d->pid, &status, 0);
                d->pid = 0;
                return -1;
        }
        d->pid = 0;
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        return 128 + WTERMSIG(status);
}

void daemon_cleanup(struct daemon *d) {
        if (d->pid > 0)
                daemon_stop(d, 15000);
        if (d->dir[0]) {
                char *argv[] = { "rm", "-rf", d->dir, NULL };
                char out[256];
                run_capture(argv, out, sizeof out);
                d->dir[0] = '\0';
        }
}

int run_capture(char *const argv[], char *out, size_t out_size) {
        int fds[2];
        ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                dup2(fds[1], STDOUT_FILENO);
                dup2(fds[1], STDERR_FILENO);
                execvp(argv[0], argv);
                _exit(127);
        }
        close(fds[1]);
        size_t len = 0;
        for (;;) {
                char scratch[4096];
                char *dst = len + 1 < out_size ? out + len : scratch;
                size_t room = len + 1 < out_size ? out_size - 1 - len : sizeof scratch;
                ssize_t n = read(fds[0], dst, room);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                if (dst != scratch)
                        len += (size_t)n;
        }
        out[len] = '\0';
        close(fds[0]);
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int ctl(struct daemon *d, char *out, size_t out_size, const char *args_format, ...) {
        char args[1024], *argv[64];
        int argc = 0;
        va_list ap;
        va_start(ap, args_format);
        vsnprintf(args, sizeof args, args_format, ap);
        va_end(ap);
        argv[argc++] = (char *)supervisorctl_path();
        argv[argc++] = "-s";
        argv[argc++] = d->sock;
        for (char *save = NULL, *w = strtok_r(args, " ", &save); w && argc < 63; w = strtok_r(NULL, " ", &save))
                argv[argc++] = w;
        argv[argc] = NULL;
        char scratch[256];
        if (!out) {
                out = scratch;
                out_size = sizeof scratch;
        }
        return run_capture(argv, out, out_size);
}

const char *service_state_of(struct daemon *d, const char *name, char *buf, size_t size) {
        char out[4096], first[128] = "", state[64] = "";
        ctl(d, out, sizeof out, "status %s", name);
        if (sscanf(out, "%127s %63s", first, state) != 2 || strcmp(first, name) != 0)
                state[0] = '\0';
        snprintf(buf, size, "%s", state);
        return buf;
}

pid_t service_pid_of(struct daemon *d, const char *name) {
        char out[256];
        if (ctl(d, out, sizeof out, "pid %s", name) != 0)
                return 0;
        return (pid_t)atoi(out);
}

bool harness_state_is(struct daemon *d, const char *name, const char *state, char *line, size_t size) {
        char out[4096], first[128] = "", seen[64] = "";
        ctl(d, out, sizeof out, "status %s", name);
        out[strcspn(out, "\n")] = '\0';
        snprintf(line, size, "%s", out);
        return sscanf(out, "%127s %63s", first, seen) == 2 && strcmp(first, name) == 0 && strcmp(seen, state) == 0;
}

bool wait_for_state(struct daemon *d, const char *name, const char *state, int timeout_ms) {
        char buf[64];
        return WAIT_UNTIL(strcmp(service_state_of(d, name, buf, sizeof buf), state) == 0, timeout_ms);
}

ssize_t read_text_file(const char *path, char *buf, size_t size) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -1;
        size_t len = 0;
        ssize_t n;
        while (len + 1 < size && (n = read(fd, buf + len, size - 1 - len)) > 0)
                len += (size_t)n;
        close(fd);
        buf[len] = '\0';
        return (ssize_t)len;
}

static bool read_stat(pid_t pid, char *state, pid_t *ppid) {
        char path[64], buf[1024];
        snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
        if (read_text_file(path, buf, sizeof buf) <= 0)
                return false;
        char *close_paren = strrchr(buf, ')');
        if (!close_paren)
                return false;
        int parent = 0;
        if (sscanf(close_paren + 2, "%c %d", state, &parent) != 2)
                return false;
        *ppid = parent;
        return true;
}

char process_state(pid_t pid) {
        char state;
        pid_t ppid;
        return read_stat(pid, &state, &ppid) ? state : 0;
}

bool process_exists(pid_t pid) {
        char state = process_state(pid);
        return state != 0 && state != 'Z' && state != 'X';
}

pid_t process_parent(pid_t pid) {
        char state;
        pid_t ppid;
        return read_stat(pid, &state, &ppid) ? ppid : 0;
}

int count_fds(pid_t pid, char *list, size_t list_size) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
        DIR *dir = opendir(path);
        if (!dir)
                return -1;
        int fds[1024], n = 0;
        struct dirent *e;
        while ((e = readdir(dir)) && n < 1024)
                if (e->d_name[0] != '.')
                        fds[n++] = atoi(e->d_name);
        closedir(dir);
        /* sorted, for a stable message */
        for (int i = 1; i < n; i++)
                for (int j = i; j > 0 && fds[j - 1] > fds[j]; j--) {
                        int t = fds[j];
                        fds[j] = fds[j - 1];
                        fds[j - 1] = t;
                }
        if (list && list_size) {
                size_t len = 0;
                list[0] = '\0';
                for (int i = 0; i < n && len < list_size; i++)
                        len += (size_t)snprintf(list + len, list_size - len, "%s%d", i ? " " : "", fds[i]);
        }
        return n;
}

int count_zombie_children(pid_t parent) {
        DIR *dir = opendir("/proc");
        int zombies = 0;
        struct dirent *e;
        if (!dir)
                return -1;
        while ((e = readdir(dir))) {
                pid_t pid = atoi(e->d_name);
                char state;
                pid_t ppid;
                if (pid > 0 && read_stat(pid, &state, &ppid) && ppid == parent && state == 'Z')
                        zombies++;
        }
        closedir(dir);
        return zombies;
}

bool process_getenv(pid_t pid, const char *name, char *value, size_t size) {
        char path[64], buf[65536];
        snprintf(path, sizeof path, "/proc/%d/environ", (int)pid);
        ssize_t n = read_text_file(path, buf, sizeof buf);
        size_t name_len = strlen(name);
        for (ssize_t i = 0; i < n; i += (ssize_t)strlen(buf + i) + 1)
                if (strncmp(buf + i, name, name_len) == 0 && buf[i + (ssize_t)name_len] == '=') {
                        snprintf(value, size, "%s", buf + i + name_len + 1);
                        return true;
                }
        return false;
}

bool wait_for_file(const char *path, int timeout_ms) {
        char buf[16];
        return WAIT_UNTIL(read_text_file(path, buf, sizeof buf) > 0, timeout_ms);
}

/* The parent of PID from /proc/PID/stat, 0 if it cannot be read. */
static pid_t stat_parent(pid_t pid) {
        char path[64], buf[512];
        snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
        if (read_text_file(path, buf, sizeof buf) <= 0)
                return 0;
        const char *close = strrchr(buf, ')');  /* the command name may hold anything */
        int ppid = 0;
        char state;
        if (!close || sscanf(close + 1, " %c %d", &state, &ppid) != 2)
                return 0;
        return ppid;
}

/* Whether PID descends from ANCESTOR: a walk up the parent links, bounded in case the
 * links change under us. */
static bool descends_from(pid_t pid, pid_t ancestor) {
        for (int depth = 0; pid > 1 && depth < 64; depth++) {
                pid = stat_parent(pid);
                if (pid == ancestor)
                        return true;
        }
        return false;
}

int find_processes(const char *cmdline, pid_t *pids, int max) {
        DIR *dir = opendir("/proc");
        struct dirent *e;
        int n = 0;
        pid_t self = getpid();
        ck_assert_ptr_nonnull(dir);
        while ((e = readdir(dir))) {
                pid_t pid = atoi(e->d_name);
                char path[64], buf[256];
                if (pid <= 0 || !process_exists(pid))
                        continue;
                snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
                ssize_t len = read_text_file(path, buf, sizeof buf);
                for (ssize_t i = 0; i + 1 < len; i++)
                        if (buf[i] == '\0')
                                buf[i] = ' ';
                if (len > 0 && strcmp(buf, cmdline) == 0 && descends_from(pid, self)) {
                        if (n < max)
                                pids[n] = pid;
                        n++;
                }
        }
        closedir(dir);
        return n;
}

int count_processes(const char *cmdline) {
        return find_processes(cmdline, NULL, 0);
}

void harness_adopt_orphans(void) {
        ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
}

/* tests/helper_NAME.c, built next to the running test program, into PATH. */
static const char *helper_path(const char *name, char *path, size_t size) {
        char self[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        ck_assert_int_gt(n, 0);
        self[n] = '\0';
        snprintf(path, size, "%s/helper_%s", dirname(self), name);
        ck_assert_msg(access(path, X_OK) == 0, "%s is missing: build it with the tests", path);
        return path;
}

const char *heartbeat_helper_path(void) {
        static char path[PATH_MAX];
        return helper_path("heartbeat", path, sizeof path);
}

const char *ping_clock_helper_path(void) {
        static char path[PATH_MAX];
        return helper_path("ping_clock", path, sizeof path);
}

bool harness_instrumented(void) {
        const char *sanitized = getenv("SUPERVISORD_SANITIZED"), *wrapper = getenv("SUPERVISORD_WRAPPER");
        return (sanitized && *sanitized) || (wrapper && *wrapper);
}

int run_suite(Suite *suite) {
        SRunner *runner = srunner_create(suite);
        srunner_run_all(runner, CK_NORMAL);
        int failed = srunner_ntests_failed(runner);
        srunner_free(runner);
        return failed;
}
