/* notify.c — see notify.h.
 *
 * Addresses live in the abstract namespace: no file to clean up after a crash, and no
 * permissions to arrange for services running as another user.  Anyone in the network
 * namespace could send to an abstract socket, which is why every datagram is checked
 * against the kernel-supplied credentials (SO_PASSCRED) before it means anything.  The
 * names carry supervisord's pid, a counter and random bits, so a name is never reused by
 * a later process and cannot be guessed and bound first by someone else.
 *
 * One datagram is handled per wake-up (epoll is level-triggered, the next comes on the
 * next iteration): a chatty service cannot monopolise the loop, and a handler that frees
 * the socket never leaves this file touching freed memory. */
#include "notify.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

/* SCM_RIGHTS room: fds beyond it are closed by the kernel (MSG_CTRUNC). */
#define NOTIFY_MAX_FDS 16

struct notify {
        char name[80];                  /* for messages */
        notify_handler_t handler;
        void *userdata;
        sd_event_source *source;        /* owned, owns the socket */
        pid_t session;                  /* of the service process, 0 until spawned */
        pid_t main_pid;                 /* 0: the session leader is the main pid */
        char environment[sizeof "NOTIFY_SOCKET=" + sizeof(((struct sockaddr_un *)0)->sun_path)];
};

/* ---- pure parts ---- */

static bool assignment_is(const char *line, size_t len, const char *assignment) {
        size_t n = strlen(assignment);
        return len == n && memcmp(line, assignment, n) == 0;
}

static bool assignment_value(const char *line, size_t len, const char *key, const char **ret, size_t *ret_len) {
        size_t n = strlen(key);
        if (len <= n || memcmp(line, key, n) != 0 || line[n] != '=')
                return false;
        *ret = line + n + 1;
        *ret_len = len - n - 1;
        return true;
}

void notify_parse(const char *buf, size_t len, struct notify_message *ret) {
        *ret = (struct notify_message){ 0 };
        const char *end = buf + len;
        for (const char *line = buf; line < end;) {
                const char *newline = memchr(line, '\n', (size_t)(end - line));
                size_t line_len = (size_t)((newline ? newline : end) - line);
                const char *value;
                size_t value_len;

                if (assignment_is(line, line_len, "READY=1"))
                        ret->ready = true;
                else if (assignment_is(line, line_len, "STOPPING=1"))
                        ret->stopping = true;
                else if (assignment_is(line, line_len, "RELOADING=1"))
                        ret->reloading = true;
                else if (assignment_is(line, line_len, "WATCHDOG=1"))
                        ret->watchdog = true;
                else if (assignment_is(line, line_len, "BARRIER=1"))
                        ret->barrier = true;
                else if (assignment_value(line, line_len, "STATUS", &value, &value_len)) {
                        if (value_len > sizeof ret->status - 1)
                                value_len = sizeof ret->status - 1;
                        memcpy(ret->status, value, value_len);
                        ret->status[value_len] = '\0';
                        ret->has_status = true;
                } else if (assignment_value(line, line_len, "MAINPID", &value, &value_len)) {
                        char digits[16];
                        long pid;
                        ret->main_pid = 0;
                        if (value_len < sizeof digits) {
                                memcpy(digits, value, value_len);
                                digits[value_len] = '\0';
                                if (parse_long(digits, 2, INT32_MAX, &pid) == 0)
                                        ret->main_pid = (pid_t)pid;
                        }
                }
                line += line_len + 1;
        }
}

/* ---- the socket ---- */

static bool notify_sender_allowed(const struct notify *n, pid_t sender) {
        if (n->session <= 0 || sender <= 0)
                return false;
        if (sender == n->session || (n->main_pid > 0 && sender == n->main_pid))
                return true;
        /* A sender that has already exited cannot be placed: refused.  systemd-notify
         * waits on its BARRIER=1, so it is still there while its message is read. */
        return getsid(sender) == n->session;
}

static void close_passed_fds(struct msghdr *mh, struct ucred **ret_credentials) {
        *ret_credentials = NULL;
        for (struct cmsghdr *cmsg = CMSG_FIRSTHDR(mh); cmsg; cmsg = CMSG_NXTHDR(mh, cmsg)) {
                if (cmsg->cmsg_level != SOL_SOCKET)
                        continue;
                if (cmsg->cmsg_type == SCM_RIGHTS) {
                        /* Closing is the whole answer to BARRIER=1; we keep no other fds. */
                        size_t n = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                        int *fds = (int *)(void *)CMSG_DATA(cmsg);
                        for (size_t i = 0; i < n; i++)
                                close(fds[i]);
                } else if (cmsg->cmsg_type == SCM_CREDENTIALS && cmsg->cmsg_len == CMSG_LEN(sizeof(struct ucred)))
                        *ret_credentials = (struct ucred *)(void *)CMSG_DATA(cmsg);
        }
}

static int notify_on_datagram(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        struct notify *n = userdata;
        char buf[NOTIFY_MAX_MESSAGE];
        union {
                struct cmsghdr align;
                char space[CMSG_SPACE(sizeof(struct ucred)) + CMSG_SPACE(sizeof(int) * NOTIFY_MAX_FDS)];
        } control;
        struct iovec iov = { .iov_base = buf, .iov_len = sizeof buf };
        struct msghdr mh = {
                .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control, .msg_controllen = sizeof control,
        };
        (void)source;
        (void)revents;

        ssize_t len = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC | MSG_TRUNC);
        if (len < 0) {
                if (errno != EAGAIN && errno != EINTR)
                        log_warning_errno(-errno, "%s: notify socket", n->name);
                return 0;
        }
        struct ucred *credentials;
        close_passed_fds(&mh, &credentials);
        if (mh.msg_flags & MSG_CTRUNC)
                log_debug("%s: notify: too many fds passed, the rest were closed by the kernel", n->name);
        if (!credentials) {
                log_debug("%s: notify: ignoring a message without credentials", n->name);
                return 0;
        }
        if (!notify_sender_allowed(n, credentials->pid)) {
                log_debug("%s: notify: ignoring a message from pid %d, not in the service's session", n->name,
                          (int)credentials->pid);
                return 0;
        }
        if (mh.msg_flags & MSG_TRUNC || (size_t)len > sizeof buf) {
                log_debug("%s: notify: ignoring a message longer than %d bytes", n->name, NOTIFY_MAX_MESSAGE);
                return 0;
        }
        struct notify_message message;
        notify_parse(buf, (size_t)len, &message);
        n->handler(n, &message, credentials->pid, n->userdata);  /* may free n */
        return 0;
}

int notify_new(sd_event *event, const char *name, notify_handler_t handler, void *userdata, struct notify **ret) {
        static unsigned serial;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = -1, r;

        struct notify *n = calloc(1, sizeof *n);
        if (!n)
                return -ENOMEM;
        snprintf(n->name, sizeof n->name, "%s", name);
        n->handler = handler;
        n->userdata = userdata;

        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) {
                r = -errno;
                goto fail;
        }
        int one = 1;
        if (setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof one) < 0) {
                r = -errno;
                goto fail;
        }
        /* A clash (someone bound the name first) just moves on to the next name. */
        for (int attempt = 0;; attempt++) {
                unsigned long long nonce = 0;
                if (getrandom(&nonce, sizeof nonce, GRND_NONBLOCK) != sizeof nonce)
                        nonce ^= (unsigned long long)now_monotonic() * 0x9e3779b97f4a7c15ULL;
                char path[sizeof sa.sun_path];
                int len = snprintf(path, sizeof path, "@supervisord/%d/%u/%016llx", (int)getpid(), ++serial, nonce);
                memcpy(sa.sun_path, path, (size_t)len);
                sa.sun_path[0] = '\0';
                /* The exact length, as sd_notify() computes it: abstract names are not
                 * NUL-terminated, trailing bytes would be part of the name. */
                socklen_t sa_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + (size_t)len);
                if (bind(fd, (struct sockaddr *)&sa, sa_len) == 0) {
                        snprintf(n->environment, sizeof n->environment, "NOTIFY_SOCKET=%s", path);
                        break;
                }
                if (errno != EADDRINUSE || attempt == 8) {
                        r = -errno;
                        goto fail;
                }
        }
        r = sd_event_add_io(event, &n->source, fd, EPOLLIN, notify_on_datagram, n);
        if (r < 0)
                goto fail;
        sd_event_source_set_io_fd_own(n->source, true);
        *ret = n;
        return 0;

fail:
        if (fd >= 0)
                close(fd);
        free(n);
        return r;
}

const char *notify_environment(const struct notify *n) { return n->environment; }
void notify_set_session(struct notify *n, pid_t session) { n->session = session; }
void notify_set_main_pid(struct notify *n, pid_t pid) { n->main_pid = pid; }

struct notify *notify_free(struct notify *n) {
        if (!n)
                return NULL;
        sd_event_source_disable_unref(n->source);
        free(n);
        return NULL;
}
