/* httpd.c — see httpd.h and supervisord(8), HTTP INTERFACE. */
#include "httpd.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "control.h"
#include "log.h"
#include "safepath.h"

static sd_event *httpd_event;
static int unix_fd = -1, inet_fd = -1;
static char *unix_path;
static int program_fd = -1;           /* supervisord-http, held open: a later swap of the file changes nothing */
static char settings[HTTPD_MAX_MESSAGE];
static size_t settings_len;
static uid_t run_uid;
static gid_t run_gid;
static pid_t front_pid;
static sd_event_source *channel_source;  /* owns our end of the channel */
static sd_event_source *restart_timer;
static usec_t started_at, delay = HTTPD_RESTART_MIN;
static bool stopping;

/* ---- the program ---- */

/* Open DIR/NAME if it is a regular file that only root or supervisord's user can change,
 * in a directory only they can change. */
static int open_trusted(const char *dir, const char *name) {
        enum dir_trust trust;
        char why[PATH_MAX + 96];
        int dir_fd = safe_directory_open(dir, false, &trust, why, sizeof why);
        if (dir_fd < 0)
                return dir_fd;
        if (trust != DIR_TRUSTED) {
                log_warning("%s/%s: %s: not run", dir, name, why);
                close(dir_fd);
                return -EPERM;
        }
        int fd = openat(dir_fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        int r = fd < 0 ? -errno : 0;
        close(dir_fd);
        if (r < 0)
                return r;
        struct stat st;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (st.st_uid != 0 && st.st_uid != geteuid())
            || (st.st_mode & 022) || !(st.st_mode & 0111)) {
                log_warning("%s/%s: not a program only root or supervisord's user can change: not run", dir, name);
                close(fd);
                return -EPERM;
        }
        return fd;
}

/* supervisord-http is looked for in ../libexec/supervisord/ beside the directory of our
 * own program (PREFIX/bin → PREFIX/libexec/supervisord), then in that directory itself
 * (the build tree).  Our program is /proc/self/exe, or argv[0] under a wrapper such as
 * valgrind. */
static int find_program(char *error, size_t error_size) {
        char self[2][PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", self[0], sizeof self[0] - 1);
        self[0][n > 0 ? n : 0] = '\0';
        if (!realpath(program_invocation_name, self[1]))
                self[1][0] = '\0';
        for (int i = 0; i < 2; i++) {
                char *slash = strrchr(self[i], '/');
                if (!slash)
                        continue;
                *slash = '\0';
                char dir[2 * PATH_MAX + 32];
                snprintf(dir, sizeof dir, "%s/../libexec/supervisord", self[i]);
                int fd = open_trusted(dir, HTTPD_PROGRAM);
                if (fd < 0)
                        fd = open_trusted(self[i], HTTPD_PROGRAM);
                if (fd >= 0)
                        return fd;
        }
        snprintf(error, error_size, "http: %s not found in ../libexec/supervisord/ or beside supervisord (%s)",
                 HTTPD_PROGRAM, self[0]);
        return -ENOENT;
}

/* ---- sockets ---- */

static int listen_inet(const char *host, unsigned port, char *error, size_t error_size) {
        struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE }, *ai;
        char service[16];
        snprintf(service, sizeof service, "%u", port);
        int r = getaddrinfo(host[0] ? host : NULL, service, &hints, &ai);
        if (r != 0) {
                snprintf(error, error_size, "http-listen %s:%u: %s", host, port, gai_strerror(r));
                return -EADDRNOTAVAIL;
        }
        int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        int one = 1;
        if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0
            || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, SOMAXCONN) < 0) {
                r = -errno;
                snprintf(error, error_size, "http-listen %s:%u: %s", host[0] ? host : "*", port, strerror(errno));
                if (fd >= 0)
                        close(fd);
                freeaddrinfo(ai);
                return r;
        }
        freeaddrinfo(ai);
        return fd;
}

/* ---- the front-end ---- */

static void schedule_restart(void);

static void front_gone(void) {
        channel_source = sd_event_source_disable_unref(channel_source);
        if (front_pid > 0) {
                /* The channel ended: whatever the front-end still does, it is done.  It
                 * is our child: the reaper collects it. */
                kill(front_pid, SIGKILL);
                front_pid = 0;
        }
        if (!stopping)
                schedule_restart();
}

/* One channel message: BYTE with descriptor FD; true if sent whole. */
static bool send_fd(int channel, char byte, int fd) {
        char control[CMSG_SPACE(sizeof(int))] = { 0 };
        struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control };
        struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &fd, sizeof(int));
        return sendmsg(channel, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) == 1;
}

/* A connection to the control server for the front-end. */
static void serve_connect(int channel) {
        int pair[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, pair) < 0) {
                log_warning_errno(errno, "http: socketpair");
                static const char refused = 'E';
                (void)send(channel, &refused, 1, MSG_DONTWAIT | MSG_NOSIGNAL);
                return;
        }
        bool sent = send_fd(channel, HTTPD_MSG_CONNECT, pair[1]);
        close(pair[1]);
        if (!sent) {
                close(pair[0]);
                return;
        }
        (void)control_adopt(pair[0]);
}

/* control_set_http_handoff's: pass FD, a client of the control socket that opened with
 * an HTTP request, to the front-end, which serves it as its own.  False when there is
 * no front-end now (it is being started again) or the channel is full: the client is
 * then answered as one of ours, and refused. */
static bool hand_off(int fd) {
        if (!channel_source || front_pid <= 0)
                return false;
        return send_fd(sd_event_source_get_io_fd(channel_source), HTTPD_MSG_ADOPT, fd);
}

static bool shutting_down;  /* httpd_shutting_down() was called */

void httpd_shutting_down(void) {
        static const char stopping_msg = HTTPD_MSG_STOPPING;
        shutting_down = true;
        if (channel_source && front_pid > 0)
                (void)send(sd_event_source_get_io_fd(channel_source), &stopping_msg, 1, MSG_DONTWAIT | MSG_NOSIGNAL);
}

static int on_channel(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        (void)source;
        (void)userdata;
        /* Bounded work per wake-up. */
        for (int i = 0; i < 64; i++) {
                char msg[64];
                ssize_t n = recv(fd, msg, sizeof msg, MSG_DONTWAIT);
                if (n < 0 && (errno == EAGAIN || errno == EINTR))
                        return 0;
                if (n <= 0) {
                        log_warning("http: the front-end (pid %d) went away; starting it again", (int)front_pid);
                        front_gone();
                        return 0;
                }
                if (msg[0] == HTTPD_MSG_CONNECT)
                        serve_connect(fd);
        }
        (void)revents;
        return 0;
}

static int front_spawn(void) {
        int channel[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, channel) < 0)
                return -errno;
        /* The settings wait in the channel for the front-end's first read. */
        if (send(channel[0], settings, settings_len, MSG_NOSIGNAL) != (ssize_t)settings_len) {
                int r = -errno;
                close(channel[0]);
                close(channel[1]);
                return r;
        }
        static const char stopping_msg = HTTPD_MSG_STOPPING;
        if (shutting_down && send(channel[0], &stopping_msg, 1, MSG_NOSIGNAL) != 1) {
                int r = -errno;
                close(channel[0]);
                close(channel[1]);
                return r;
        }
        pid_t pid = fork();
        if (pid < 0) {
                int r = -errno;
                close(channel[0]);
                close(channel[1]);
                return r;
        }
        if (pid == 0) {
                /* The child: descriptors 3 (channel), 4 (unix socket or /dev/null), 5 (inet or
                 * /dev/null) and nothing else; our own session; its user; then the program. */
                int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
                int fds[4] = { channel[1], unix_fd >= 0 ? unix_fd : devnull, inet_fd >= 0 ? inet_fd : devnull,
                               program_fd };
                int moved[4];
                for (int i = 0; i < 4; i++)
                        moved[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 10);  /* above 6: dup2 below overwrites none */
                for (int i = 0; i < 3; i++)
                        if (moved[i] < 0 || dup2(moved[i], 3 + i) < 0)
                                _exit(127);
                /* The program's descriptor, close-on-exec: gone once it runs. */
                if (moved[3] < 0 || dup3(moved[3], 6, O_CLOEXEC) < 0)
                        _exit(127);
                if (devnull >= 0)
                        dup2(devnull, 0);
                syscall(SYS_close_range, 7, ~0U, 0);
                sigset_t all;
                sigemptyset(&all);
                sigprocmask(SIG_SETMASK, &all, NULL);
                for (int sig = 1; sig < NSIG; sig++)
                        signal(sig, SIG_DFL);
                setsid();
                if (getuid() != run_uid || geteuid() != run_uid) {
                        if (setgroups(0, NULL) < 0 || setgid(run_gid) < 0 || setuid(run_uid) < 0)
                                _exit(126);
                }
                if (run_uid != 0 && (setuid(0) == 0 || geteuid() == 0))
                        _exit(126);  /* root again: refuse to go on */
                char *argv[] = { (char *)HTTPD_PROGRAM, NULL };
                char *envp[] = { (char *)"PATH=/usr/bin:/bin", NULL };
                syscall(SYS_execveat, 6, "", argv, envp, AT_EMPTY_PATH);
                _exit(127);
        }
        close(channel[1]);
        int r = sd_event_add_io(httpd_event, &channel_source, channel[0], EPOLLIN, on_channel, NULL);
        if (r < 0) {
                close(channel[0]);
                kill(pid, SIGKILL);
                return r;
        }
        sd_event_source_set_io_fd_own(channel_source, true);
        front_pid = pid;
        started_at = now_monotonic();
        log_info("http: front-end started, pid %d, user %u", (int)pid, (unsigned)run_uid);
        return 0;
}

static int on_restart(sd_event_source *source, uint64_t usec, void *userdata) {
        (void)source;
        (void)usec;
        (void)userdata;
        int r = front_spawn();
        if (r < 0) {
                log_warning_errno(r, "http: cannot start the front-end");
                schedule_restart();
        }
        return 0;
}

static void schedule_restart(void) {
        if (started_at && now_monotonic() - started_at >= HTTPD_STABLE)
                delay = HTTPD_RESTART_MIN;
        usec_t wait = delay;
        delay = delay * 2 > HTTPD_RESTART_MAX ? HTTPD_RESTART_MAX : delay * 2;
        started_at = 0;
        if (!restart_timer) {
                if (sd_event_add_time_relative(httpd_event, &restart_timer, CLOCK_MONOTONIC, wait, USEC_PER_MSEC,
                                               on_restart, NULL) < 0)
                        log_warning("http: cannot schedule the front-end's restart");
                return;
        }
        (void)sd_event_source_set_time_relative(restart_timer, wait);
        (void)sd_event_source_set_enabled(restart_timer, SD_EVENT_ONESHOT);
}

static void settings_add(const char *key, const char *value) {
        if (!value)
                return;
        int n = snprintf(settings + settings_len, sizeof settings - settings_len, "%s=%s", key, value);
        if (n > 0 && (size_t)n < sizeof settings - settings_len)
                settings_len += (size_t)n + 1;  /* and its NUL */
}

int httpd_start(sd_event *event, const struct config *config, char *error, size_t error_size) {
        int r;
        if (!config->http_socket && !config->http_listen_host && !config->socket_http)
                return 0;
        httpd_event = event;
        stopping = false;
        if ((program_fd = find_program(error, error_size)) < 0)
                return program_fd;
        if (config->http_socket) {
                if ((r = control_listen_unix(config->http_socket, config->http_socket_mode,
                                             config->has_http_socket_owner ? config->http_socket_uid : (uid_t)-1,
                                             config->has_http_socket_owner ? config->http_socket_gid : (gid_t)-1,
                                             &unix_fd, error, error_size)) < 0)
                        goto fail;
                if (!(unix_path = strdup(config->http_socket))) {
                        r = -ENOMEM;
                        goto fail;
                }
        }
        if (config->http_listen_host) {
                if ((r = inet_fd = listen_inet(config->http_listen_host, config->http_listen_port, error, error_size)) < 0)
                        goto fail;
                bool loopback = strcmp(config->http_listen_host, "127.0.0.1") == 0
                                || strcmp(config->http_listen_host, "localhost") == 0
                                || strcmp(config->http_listen_host, "::1") == 0;
                if (!loopback && !config->http_username)
                        log_warning("http-listen %s:%u reaches beyond this machine and http-username is not set: "
                                    "anyone who can connect controls supervisord",
                                    config->http_listen_host[0] ? config->http_listen_host : "*",
                                    config->http_listen_port);
        }
        run_uid = config->http_uid;
        run_gid = config->http_gid;
        settings_len = 0;
        settings[settings_len++] = HTTPD_MSG_SETTINGS;
        settings_add("username", config->http_username);
        settings_add("password", config->http_password);
        settings_add("unix", config->http_socket);
        if ((r = front_spawn()) < 0) {
                snprintf(error, error_size, "http: cannot start the front-end: %s", strerror(-r));
                goto fail;
        }
        if (config->socket_http)
                control_set_http_handoff(hand_off);
        return 0;
fail:
        httpd_stop();
        return r;
}

pid_t httpd_pid(void) {
        return front_pid;
}

void httpd_stop(void) {
        stopping = true;
        control_set_http_handoff(NULL);
        channel_source = sd_event_source_disable_unref(channel_source);
        restart_timer = sd_event_source_disable_unref(restart_timer);
        if (front_pid > 0)
                kill(front_pid, SIGTERM);
        front_pid = 0;
        if (unix_fd >= 0)
                close(unix_fd);
        if (inet_fd >= 0)
                close(inet_fd);
        unix_fd = inet_fd = -1;
        if (unix_path)
                unlink(unix_path);
        free(unix_path);
        unix_path = NULL;
        if (program_fd >= 0)
                close(program_fd);
        program_fd = -1;
        explicit_bzero(settings, sizeof settings);
        httpd_event = NULL;
}
