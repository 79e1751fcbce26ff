/* main.c — supervisord-http, the HTTP front-end (supervisord(8), HTTP INTERFACE).
 *
 * Started by supervisord (httpd.c) as an unprivileged user with descriptor 3, the
 * channel to supervisord, and 4 and 5, the listening unix and TCP sockets (or
 * /dev/null).  It serves supervisord 4.2.5's XML-RPC interface with libmicrohttpd in
 * its own epoll loop: each method is one or more requests of the line protocol
 * (protocol.h), on connections to the control server that supervisord hands over the
 * channel.  Replies that wait (start, stop) suspend their HTTP connection and never hold
 * the loop or other clients.  It never runs as root: it refuses to start as root. */
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "httpd.h"
#include "protocol.h"
#include "rpc.h"
#include "util.h"
#include "web.h"
#include "xmlrpc.h"

#define CHANNEL_FD 3
#define UNIX_FD 4
#define INET_FD 5
#define MAX_BODY (1u << 20)       /* a request body beyond this is refused (413) */
#define MAX_REPLY (16u << 20)     /* a control answer beyond this is cut off */
#define MAX_CONNECTIONS 1024

static int epoll_fd = -1;
static char *auth_username, *auth_password;

/* ---- control connections ---- */

struct native {
        struct native *next;       /* waiting for its connection */
        int fd;
        char *request;
        size_t request_len, sent;
        char *reply;
        size_t reply_len, reply_size;
        native_done_fn done;
        void *userdata;
        bool unanswered;           /* done once the line is sent; the answer is not read */
};

static struct native *waiting_head, *waiting_tail;

static void native_finish(struct native *n, bool ok) {
        if (n->fd >= 0) {
                epoll_ctl(epoll_fd, EPOLL_CTL_DEL, n->fd, NULL);
                close(n->fd);
        }
        if (n->reply)
                n->reply[n->reply_len] = '\0';
        const char *reply = !ok ? NULL : n->unanswered ? "" : n->reply;
        n->done(reply, reply ? n->reply_len : 0, n->userdata);
        free(n->request);
        free(n->reply);
        free(n);
}

static int native_queue(const char *line, native_done_fn done, void *userdata, bool unanswered) {
        struct native *n = calloc(1, sizeof *n);
        if (!n)
                return -ENOMEM;
        n->fd = -1;
        n->request_len = strlen(line) + 1;
        if (!(n->request = malloc(n->request_len + 1))) {
                free(n);
                return -ENOMEM;
        }
        memcpy(n->request, line, n->request_len - 1);
        n->request[n->request_len - 1] = '\n';
        n->done = done;
        n->userdata = userdata;
        n->unanswered = unanswered;
        char byte = HTTPD_MSG_CONNECT;
        if (send(CHANNEL_FD, &byte, 1, MSG_NOSIGNAL) != 1) {
                /* supervisord is gone: nothing more to serve. */
                fprintf(stderr, "supervisord-http: channel: %s\n", strerror(errno));
                exit(1);
        }
        if (waiting_tail)
                waiting_tail->next = n;
        else
                waiting_head = n;
        waiting_tail = n;
        return 0;
}

int native_request(const char *line, native_done_fn done, void *userdata) {
        return native_queue(line, done, userdata, false);
}

int native_send(const char *line, native_done_fn done, void *userdata) {
        return native_queue(line, done, userdata, true);
}

/* Tags for epoll: what a ready descriptor is. */
enum { TAG_CHANNEL = 1, TAG_MHD = 2 };
static char tag_channel, tag_mhd[3];

static void native_on_io(struct native *n, uint32_t events) {
        if (n->sent < n->request_len) {
                ssize_t w = send(n->fd, n->request + n->sent, n->request_len - n->sent, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (w < 0 && errno != EAGAIN) {
                        native_finish(n, false);
                        return;
                }
                if (w > 0)
                        n->sent += (size_t)w;
                if (n->sent == n->request_len && n->unanswered) {
                        /* Whole lines are read before the end is: closing loses nothing. */
                        native_finish(n, true);
                        return;
                }
                if (n->sent == n->request_len) {
                        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = n };
                        epoll_ctl(epoll_fd, EPOLL_CTL_MOD, n->fd, &ev);
                }
                return;
        }
        (void)events;
        for (;;) {
                if (n->reply_size - n->reply_len < 4097) {
                        size_t size = n->reply_size ? n->reply_size * 2 : 8192;
                        if (size > MAX_REPLY + 1) {
                                native_finish(n, false);
                                return;
                        }
                        char *p = realloc(n->reply, size);
                        if (!p) {
                                native_finish(n, false);
                                return;
                        }
                        n->reply = p;
                        n->reply_size = size;
                }
                ssize_t r = recv(n->fd, n->reply + n->reply_len, n->reply_size - n->reply_len - 1, MSG_DONTWAIT);
                if (r < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                return;
                        native_finish(n, false);
                        return;
                }
                if (r == 0) {
                        native_finish(n, true);
                        return;
                }
                n->reply_len += (size_t)r;
        }
}

static void adopt(int fd);

/* supervisord's answer on the channel: a connection for the oldest waiting request; or
 * a client of its control socket to serve (HTTPD_MSG_ADOPT). */
static void channel_on_io(void) {
        for (;;) {
                char byte;
                char control[CMSG_SPACE(sizeof(int))];
                struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
                struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
                                      .msg_controllen = sizeof control };
                ssize_t r = recvmsg(CHANNEL_FD, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
                if (r < 0 && (errno == EAGAIN || errno == EINTR))
                        return;
                if (r <= 0) {
                        /* supervisord closed the channel: it is going or gone. */
                        exit(0);
                }
                int fd = -1;
                struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
                if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
                        memcpy(&fd, CMSG_DATA(cm), sizeof fd);
                if (byte == HTTPD_MSG_ADOPT) {
                        if (fd >= 0)
                                adopt(fd);
                        continue;
                }
                struct native *n = waiting_head;
                if (!n) {
                        if (fd >= 0)
                                close(fd);
                        continue;
                }
                waiting_head = n->next;
                if (!waiting_head)
                        waiting_tail = NULL;
                n->next = NULL;
                if (fd < 0) {
                        native_finish(n, false);
                        continue;
                }
                n->fd = fd;
                struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = n };
                if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0)
                        native_finish(n, false);
        }
}

/* ---- HTTP ---- */

struct http_request {
        struct MHD_Connection *connection;
        char *body;
        size_t body_len;
        bool too_large;
        bool started, suspended, finished;
        struct rpc_job *job;          /* while started and not finished */
        int status;
        char *reply;
        size_t reply_len;
};

static void http_reply_ready(struct rpc_job *job, char *body, size_t len, void *userdata) {
        struct http_request *hr = userdata;
        (void)job;
        hr->reply = body;
        hr->reply_len = len;
        hr->finished = true;
        if (hr->suspended) {
                hr->suspended = false;
                MHD_resume_connection(hr->connection);
        }
}

static enum MHD_Result queue_text(struct MHD_Connection *connection, unsigned status, const char *text) {
        struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
        if (!r)
                return MHD_NO;
        MHD_add_response_header(r, "Content-Type", "text/plain");
        enum MHD_Result ret = MHD_queue_response(connection, status, r);
        MHD_destroy_response(r);
        return ret;
}

static bool authorized(struct MHD_Connection *connection) {
        if (!auth_username)
                return true;
        char *password = NULL;
        char *user = MHD_basic_auth_get_username_password(connection, &password);
        bool ok = user && password && rpc_credentials_match(user, password, auth_username, auth_password);
        MHD_free(user);
        MHD_free(password);
        return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *connection, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls) {
        (void)cls;
        (void)version;
        struct http_request *hr = *con_cls;
        if (!hr) {
                if (!(hr = calloc(1, sizeof *hr)))
                        return MHD_NO;
                hr->connection = connection;
                *con_cls = hr;
                return MHD_YES;
        }
        if (*upload_data_size) {
                if (!hr->too_large && hr->body_len + *upload_data_size <= MAX_BODY) {
                        char *p = realloc(hr->body, hr->body_len + *upload_data_size + 1);
                        if (p) {
                                memcpy(p + hr->body_len, upload_data, *upload_data_size);
                                hr->body = p;
                                hr->body_len += *upload_data_size;
                        } else
                                hr->too_large = true;
                } else
                        hr->too_large = true;
                *upload_data_size = 0;
                return MHD_YES;
        }
        if (hr->finished) {
                struct MHD_Response *r =
                        MHD_create_response_from_buffer(hr->reply_len, hr->reply, MHD_RESPMEM_MUST_FREE);
                hr->reply = NULL;
                if (!r)
                        return MHD_NO;
                MHD_add_response_header(r, "Content-Type", "text/xml");
                enum MHD_Result ret = MHD_queue_response(connection, MHD_HTTP_OK, r);
                MHD_destroy_response(r);
                return ret;
        }
        if (hr->started)
                return MHD_YES;  /* resumed before its answer: wait on */
        if (!authorized(connection)) {
                static const char text[] = "Unauthorized\n";
                struct MHD_Response *r =
                        MHD_create_response_from_buffer(sizeof text - 1, (void *)text, MHD_RESPMEM_PERSISTENT);
                if (!r)
                        return MHD_NO;
                enum MHD_Result ret = MHD_queue_basic_auth_fail_response(connection, "default", r);
                MHD_destroy_response(r);
                return ret;
        }
        enum MHD_Result served;
        if (web_serve(connection, method, url, &served))
                return served;
        /* supervisord: any POST to a path that begins with /RPC2 is XML-RPC. */
        if (strcmp(method, "POST") != 0 || strncmp(url, "/RPC2", 5) != 0)
                return queue_text(connection, MHD_HTTP_NOT_FOUND, "Not Found\n");
        const char *refusal = web_post_refusal(connection);
        if (refusal)
                return queue_text(connection, MHD_HTTP_FORBIDDEN, refusal);
        if (hr->too_large)
                return queue_text(connection, MHD_HTTP_CONTENT_TOO_LARGE, "Request body too large\n");
        hr->started = true;
        hr->job = rpc_handle(hr->body ? hr->body : "", hr->body_len, http_reply_ready, hr);
        if (hr->finished)
                return on_request(cls, connection, url, method, version, upload_data, upload_data_size, con_cls);
        hr->suspended = true;
        MHD_suspend_connection(connection);
        return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *connection, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
        (void)cls;
        (void)connection;
        (void)toe;
        struct http_request *hr = *con_cls;
        if (!hr)
                return;
        /* A job still running keeps hr as its userdata: it is told to forget it. */
        if (hr->started && !hr->finished)
                rpc_job_forget(hr->job);
        free(hr->body);
        free(hr->reply);
        free(hr);
        *con_cls = NULL;
}

/* libmicrohttpd's messages, to standard error (supervisord's log), but for those about
 * TCP options it tries on a connection it was handed (it cannot tell that one is a
 * unix socket): they say nothing of use there. */
static void log_mhd(void *cls, const char *format, va_list ap) {
        (void)cls;
        char message[512];
        vsnprintf(message, sizeof message, format, ap);
        if (strstr(message, "TCP_") || strstr(message, "push the data"))
                return;
        fputs(message, stderr);
}

/* An HTTP server on the listening socket FD, NULL if FD is none (/dev/null); with FD
 * negative, one without a socket, for the connections supervisord hands over (adopt). */
static struct MHD_Daemon *start_daemon(int fd) {
        const unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
        const struct MHD_OptionItem options[] = {
                { MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, NULL },
                { MHD_OPTION_CONNECTION_LIMIT, MAX_CONNECTIONS, NULL },
                { MHD_OPTION_CONNECTION_TIMEOUT, 60, NULL },
                { MHD_OPTION_CONNECTION_MEMORY_LIMIT, 64 * 1024, NULL },
                { MHD_OPTION_END, 0, NULL },
        };
        struct MHD_Daemon *d;
        if (fd < 0)
                d = MHD_start_daemon(flags | MHD_USE_NO_LISTEN_SOCKET, 0, NULL, NULL, on_request, NULL,
                                     MHD_OPTION_EXTERNAL_LOGGER, log_mhd, NULL, MHD_OPTION_ARRAY, options,
                                     MHD_OPTION_END);
        else {
                int accepting = 0;
                socklen_t len = sizeof accepting;
                if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) < 0 || !accepting)
                        return NULL;
                d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, NULL, MHD_OPTION_LISTEN_SOCKET, fd,
                                     MHD_OPTION_ARRAY, options, MHD_OPTION_END);
        }
        if (!d) {
                fprintf(stderr, "supervisord-http: cannot serve descriptor %d\n", fd);
                exit(1);
        }
        return d;
}

static struct MHD_Daemon *adopting;  /* serves the clients of supervisord's control socket */

/* FD: a client of supervisord's control socket that opened with an HTTP request. */
static void adopt(int fd) {
        struct sockaddr_un peer = { .sun_family = AF_UNIX };
        socklen_t len = sizeof peer;
        if (getpeername(fd, (struct sockaddr *)&peer, &len) < 0 || len < sizeof peer.sun_family)
                len = sizeof peer.sun_family;
        /* MHD closes FD when it cannot take it. */
        if (MHD_add_connection(adopting, fd, (const struct sockaddr *)&peer, len) != MHD_YES)
                fprintf(stderr, "supervisord-http: cannot serve a client handed over: %s\n", strerror(errno));
}

static void read_settings(void) {
        char buf[HTTPD_MAX_MESSAGE + 1];
        ssize_t n;
        do
                n = recv(CHANNEL_FD, buf, sizeof buf - 1, 0);
        while (n < 0 && errno == EINTR);
        if (n <= 0 || buf[0] != HTTPD_MSG_SETTINGS) {
                fprintf(stderr, "supervisord-http: no settings on the channel (run by supervisord only)\n");
                exit(2);
        }
        buf[n] = '\0';
        for (char *p = buf + 1; p < buf + n; p += strlen(p) + 1) {
                char *eq = strchr(p, '=');
                if (!eq)
                        continue;
                *eq = '\0';
                if (strcmp(p, "username") == 0)
                        auth_username = strdup(eq + 1);
                else if (strcmp(p, "password") == 0)
                        auth_password = strdup(eq + 1);
        }
        explicit_bzero(buf, sizeof buf);
}

int main(void) {
        if (getuid() == 0 || geteuid() == 0) {
                fprintf(stderr, "supervisord-http: refusing to run as root\n");
                return 2;
        }
        signal(SIGPIPE, SIG_IGN);
        read_settings();
        int fl = fcntl(CHANNEL_FD, F_GETFL);
        fcntl(CHANNEL_FD, F_SETFL, fl | O_NONBLOCK);
        if ((epoll_fd = epoll_create1(EPOLL_CLOEXEC)) < 0)
                return 1;
        adopting = start_daemon(-1);
        struct MHD_Daemon *daemons[3] = { start_daemon(UNIX_FD), start_daemon(INET_FD), adopting };
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &tag_channel };
        epoll_ctl(epoll_fd, EPOLL_CTL_ADD, CHANNEL_FD, &ev);
        for (int i = 0; i < 3; i++) {
                if (!daemons[i])
                        continue;
                const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemons[i], MHD_DAEMON_INFO_EPOLL_FD);
                ev = (struct epoll_event){ .events = EPOLLIN, .data.ptr = &tag_mhd[i] };
                epoll_ctl(epoll_fd, EPOLL_CTL_ADD, info->epoll_fd, &ev);
        }
        for (;;) {
                int timeout = -1;
                for (int i = 0; i < 3; i++) {
                        MHD_UNSIGNED_LONG_LONG t;
                        if (daemons[i] && MHD_get_timeout(daemons[i], &t) == MHD_YES) {
                                int ms = t > 60000 ? 60000 : (int)t;
                                if (timeout < 0 || ms < timeout)
                                        timeout = ms;
                        }
                }
                struct epoll_event events[64];
                int n = epoll_wait(epoll_fd, events, 64, timeout);
                if (n < 0 && errno != EINTR)
                        return 1;
                for (int i = 0; i < n; i++) {
                        void *p = events[i].data.ptr;
                        if (p == &tag_channel)
                                channel_on_io();
                        else if (p != &tag_mhd[0] && p != &tag_mhd[1] && p != &tag_mhd[2])
                                native_on_io(p, events[i].events);
                }
                /* MHD after the control answers: a connection resumed above is served now. */
                for (int i = 0; i < 3; i++)
                        if (daemons[i])
                                MHD_run(daemons[i]);
        }
}
