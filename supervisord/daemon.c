/* daemon.c — see daemon.h. */
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "safepath.h"

static void redirect_stdio_to_null(void) {
        int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (fd < 0)
                return;
        dup2(fd, STDIN_FILENO);
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        if (fd > STDERR_FILENO)
                close(fd);
}

/* In the original process: wait for the verdict "<status> <message>" and exit with it. */
static void __attribute__((noreturn)) wait_for_daemon(int read_fd, pid_t intermediate) {
        char buf[1024];
        size_t len = 0;
        for (;;) {
                ssize_t n = read(read_fd, buf + len, sizeof buf - 1 - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                len += (size_t)n;
                if (len == sizeof buf - 1)
                        break;
        }
        buf[len] = '\0';
        (void)waitpid(intermediate, NULL, 0);
        if (len == 0) {
                fprintf(stderr, "supervisord: the daemon exited during start-up\n");
                exit(1);
        }
        char *message = strchr(buf, ' ');
        if (message && *++message)
                fprintf(stderr, "supervisord: %s\n", message);
        exit(atoi(buf));
}

int daemon_detach(int *ret_ready_fd) {
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) < 0)
                return -errno;
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0) {
                int r = -errno;
                close(fds[0]);
                close(fds[1]);
                return r;
        }
        if (pid > 0) {
                close(fds[1]);
                wait_for_daemon(fds[0], pid);
        }
        close(fds[0]);
        /* A new session leaves the controlling terminal behind; the second fork makes
         * sure we can never acquire one again (we are not a session leader). */
        if (setsid() < 0)
                _exit(1);
        pid = fork();
        if (pid < 0)
                _exit(1);
        if (pid > 0)
                _exit(0);
        if (chdir("/") < 0)
                _exit(1);
        umask(022);
        redirect_stdio_to_null();
        *ret_ready_fd = fds[1];
        return 0;
}

void daemon_report(int ready_fd, int exit_status, const char *message) {
        if (ready_fd < 0)
                return;
        char buf[1024];
        int n = snprintf(buf, sizeof buf, "%d %s", exit_status, message ? message : "");
        if (n > (int)sizeof buf - 1)
                n = (int)sizeof buf - 1;
        ssize_t unused = write(ready_fd, buf, (size_t)n);
        (void)unused;
        close(ready_fd);
}

/* The pidfile's directory, resolved once: the pidfile is removed by name in it at exit. */
static int pidfile_dir_fd = -1;

int pidfile_acquire(const char *path, int *ret_fd, char *error, size_t error_size) {
        char dir[PATH_MAX], why[PATH_MAX + 96];
        const char *name;
        enum dir_trust trust;
        int r = safe_path_split(path, dir, sizeof dir, &name);
        if (r < 0) {
                snprintf(error, error_size, "pidfile %s: %s", path, strerror(-r));
                return r;
        }
        int dir_fd = safe_directory_open(dir, false, &trust, why, sizeof why);
        if (dir_fd < 0) {
                snprintf(error, error_size, "pidfile %s: %s: %s", path, dir, strerror(-dir_fd));
                return dir_fd;
        }
        if (trust == DIR_UNSAFE) {
                /* Whoever can replace entries there can make us lock, truncate and write
                 * any file, and can feed us the record of process groups to kill. */
                snprintf(error, error_size, "pidfile %s: %s: other users could redirect it; refusing", path, why);
                close(dir_fd);
                return -EDIRUNSAFE_SAFE;
        }
        if (trust == DIR_SHARED)
                log_warning("pidfile %s: %s; no link in it is followed, but make it writable by root alone", path, why);
        int fd = safe_file_open(dir_fd, name, O_RDWR | O_CREAT, 0644, NULL);
        if (fd < 0) {
                snprintf(error, error_size, "pidfile %s: %s", path, safe_strerror(fd));
                close(dir_fd);
                return fd;
        }
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                r = -errno;
                char pid[32] = "";
                ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
                pid[n > 0 ? n : 0] = '\0';
                pid[strcspn(pid, "\n")] = '\0';
                if (r == -EWOULDBLOCK)
                        snprintf(error, error_size, "another supervisord is running (pid %s, pidfile %s)",
                                 pid[0] ? pid : "unknown", path);
                else
                        snprintf(error, error_size, "pidfile %s: lock: %s", path, strerror(-r));
                close(fd);
                close(dir_fd);
                return r;
        }
        char pid[32];
        int len = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
        if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)len, 0) != len) {
                r = -errno;
                snprintf(error, error_size, "pidfile %s: write: %s", path, strerror(-r));
                close(fd);
                close(dir_fd);
                return r;
        }
        if (pidfile_dir_fd >= 0)
                close(pidfile_dir_fd);
        pidfile_dir_fd = dir_fd;
        *ret_fd = fd;
        return 0;
}

void pidfile_release(const char *path, int fd) {
        if (fd < 0)
                return;
        /* Unlink while still holding the lock, so no second instance ever sees our pid
         * in a file it has locked. */
        const char *name = strrchr(path, '/');
        name = name ? name + 1 : path;
        if (pidfile_dir_fd >= 0)
                unlinkat(pidfile_dir_fd, name, 0);
        close(fd);
        if (pidfile_dir_fd >= 0)
                close(pidfile_dir_fd);
        pidfile_dir_fd = -1;
}
