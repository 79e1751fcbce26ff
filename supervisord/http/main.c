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
#include "metrics.h"
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
static int channel_fd = CHANNEL_FD;  /* another for the fuzz target (tests/fuzz/fuzz_http.c) */
static char *auth_username, *auth_password;

/* ---- control connections ---- */

typedef bool (*native_feed_fn)(const char *data, size_t len, void *userdata);

/* What an epoll entry's data.ptr points to, when not one of the tags below: each struct
 * begins with its kind. */
enum epoll_kind { KIND_NATIVE = 1, KIND_STREAM };

struct native {
        enum epoll_kind kind;      /* KIND_NATIVE */
        struct native *next;       /* waiting for its connection */
        int fd;
        char *request;
        size_t request_len, sent;
        char *reply;
        size_t reply_len, reply_size;
        native_done_fn done;       /* NULL once cancelled: its fd is closed as it comes */
        void *userdata;
        bool unanswered;           /* done once the line is sent; the answer is not read */
        native_feed_fn feed;       /* a stream: each chunk of the answer as it comes */
        bool paused;               /* a stream whose reader is full: off epoll meanwhile */
};

static struct native *waiting_head, *waiting_tail;

static void native_finish(struct native *n, bool ok) {
        if (n->fd >= 0) {
                if (!n->paused)
                        epoll_ctl(epoll_fd, EPOLL_CTL_DEL, n->fd, NULL);
                close(n->fd);
        }
        if (n->reply)
                n->reply[n->reply_len] = '\0';
        const char *reply = !ok ? NULL : n->unanswered || n->feed ? "" : n->reply;
        if (n->done)
                n->done(reply, reply ? n->reply_len : 0, n->userdata);
        free(n->request);
        free(n->reply);
        free(n);
}

static int native_queue(const char *line, native_done_fn done, void *userdata, bool unanswered) {
        struct native *n = calloc(1, sizeof *n);
        if (!n)
                return -ENOMEM;
        n->kind = KIND_NATIVE;
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
        if (send(channel_fd, &byte, 1, MSG_NOSIGNAL) != 1) {
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

/* LINE's answer as a stream: FEED with each chunk as it comes, DONE at its end (NULL
 * when the connection failed); never called from within.  *RET until DONE, for
 * native_resume() and native_cancel(). */
static int native_stream(const char *line, native_feed_fn feed, native_done_fn done, void *userdata,
                         struct native **ret) {
        int r = native_queue(line, done, userdata, false);
        if (r < 0)
                return r;
        waiting_tail->feed = feed;
        *ret = waiting_tail;
        return 0;
}

/* A paused stream's reader has room again. */
static void native_resume(struct native *n) {
        if (!n->paused)
                return;
        n->paused = false;
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = n };
        if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, n->fd, &ev) < 0)
                native_finish(n, false);
}

/* The stream's reader is gone: no callback any more; the connection is closed now, or
 * as soon as supervisord hands it over. */
static void native_cancel(struct native *n) {
        n->done = NULL;
        n->feed = NULL;
        if (n->fd >= 0)
                native_finish(n, false);
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
        while (n->feed) {
                /* A stream: handed on as it comes, never collected. */
                static char chunk[16384];
                ssize_t r = recv(n->fd, chunk, sizeof chunk, MSG_DONTWAIT);
                if (r < 0 && (errno == EAGAIN || errno == EINTR))
                        return;
                if (r <= 0) {
                        native_finish(n, r == 0);
                        return;
                }
                if (!n->feed(chunk, (size_t)r, n->userdata)) {
                        n->paused = true;
                        epoll_ctl(epoll_fd, EPOLL_CTL_DEL, n->fd, NULL);
                        return;
                }
        }
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
                ssize_t r = recvmsg(channel_fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
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
                if (byte == HTTPD_MSG_STOPPING) {
                        if (fd >= 0)
                                close(fd);
                        rpc_set_shutting_down(true);
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
                if (fd < 0 || !n->done) {
                        if (fd >= 0)
                                close(fd);
                        native_finish(n, false);
                        continue;
                }
                n->fd = fd;
                struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = n };
                if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0)
                        native_finish(n, false);
        }
}

static enum MHD_Result queue_text(struct MHD_Connection *connection, unsigned status, const char *text);

/* ---- log streams: GET /logtail/NAME[/stdout|/stderr] and /mainlogtail ---- */

#define STREAM_HEAD 1024            /* bytes of the log sent first, as supervisord */
#define STREAM_HIGH_WATER (256u << 10)  /* unsent bytes at which reading supervisord pauses */

enum stream_state {
        STREAM_WAITING,     /* no answer from supervisord yet */
        STREAM_OPEN,        /* its LOGSIZE came: 200, and the bytes as they come */
        STREAM_NOT_FOUND,   /* an ERROR first (no such process, no file): 404 */
        STREAM_FAILED,      /* supervisord did not answer: 500 */
        STREAM_ENDED,       /* the follow ended after it opened: the body ends */
};

/* One follow: the line protocol's `readproclog NAME STREAM -1024 follow` (or `readlog`)
 * read record by record, its DATA bytes handed to libmicrohttpd's content reader.  The
 * HTTP connection is suspended while there is nothing to send, and its socket is then
 * watched for the client's hang-up, so that a client gone while its log is quiet does
 * not hold a connection for ever.  One that reads nothing fills the buffer to
 * STREAM_HIGH_WATER: reading from supervisord pauses, and supervisord ends the follow
 * once its own backlog is full (supervisord(8), Limits). */
struct log_stream {
        enum epoll_kind kind;           /* KIND_STREAM: its client's socket on epoll */
        struct MHD_Connection *connection;
        struct native *native;          /* owned: NULL once its answer ended */
        enum stream_state state;
        bool suspended;                 /* by us, for want of bytes or of the answer */
        bool responding;                /* the response owns the stream (stream_response_free) */
        bool client_gone;               /* its socket hung up while suspended */
        int client_fd;                  /* watched while suspended; -1 otherwise */
        char line[128];                 /* a record line being read */
        size_t line_len;
        size_t data_left;               /* bytes of the current DATA record still to come */
        char *buf;                      /* owned: bytes not sent to the client yet */
        size_t buf_len, buf_sent, buf_size;
};

static void stream_suspend(struct log_stream *st) {
        if (st->suspended)
                return;
        st->suspended = true;
        MHD_suspend_connection(st->connection);
        if (!st->responding)
                return;
        /* A client that hangs up meanwhile: MHD does not look at a suspended socket. */
        const union MHD_ConnectionInfo *info =
                MHD_get_connection_info(st->connection, MHD_CONNECTION_INFO_CONNECTION_FD);
        struct epoll_event ev = { .events = EPOLLRDHUP, .data.ptr = st };
        if (info && epoll_ctl(epoll_fd, EPOLL_CTL_ADD, info->connect_fd, &ev) == 0)
                st->client_fd = info->connect_fd;
}

/* A stream was resumed since the last MHD_run(): libmicrohttpd takes a resumed
 * connection up in the run after the one that notices the resumption, so the loop
 * runs it again at once rather than when other traffic comes. */
static bool streams_resumed;

static void stream_wake(struct log_stream *st) {
        if (!st->suspended)
                return;
        streams_resumed = true;
        if (st->client_fd >= 0)
                epoll_ctl(epoll_fd, EPOLL_CTL_DEL, st->client_fd, NULL);
        st->client_fd = -1;
        st->suspended = false;
        MHD_resume_connection(st->connection);
}

static void stream_free(struct log_stream *st) {
        if (!st)
                return;
        if (st->native)
                native_cancel(st->native);
        if (st->client_fd >= 0)
                epoll_ctl(epoll_fd, EPOLL_CTL_DEL, st->client_fd, NULL);
        free(st->buf);
        free(st);
}

static bool stream_put(struct log_stream *st, const char *data, size_t len) {
        if (st->buf_sent > 0 && st->buf_sent == st->buf_len)
                st->buf_len = st->buf_sent = 0;
        if (st->buf_len + len > st->buf_size) {
                if (st->buf_sent > 0) {
                        memmove(st->buf, st->buf + st->buf_sent, st->buf_len - st->buf_sent);
                        st->buf_len -= st->buf_sent;
                        st->buf_sent = 0;
                }
                if (st->buf_len + len > st->buf_size) {
                        size_t size = st->buf_len + len + 16384;
                        char *p = realloc(st->buf, size);
                        if (!p)
                                return false;
                        st->buf = p;
                        st->buf_size = size;
                }
        }
        memcpy(st->buf + st->buf_len, data, len);
        st->buf_len += len;
        return true;
}

/* One record line of the answer: LOGSIZE opens the stream, OK and ERROR end it. */
static void stream_record(struct log_stream *st, char *line) {
        char *fields[3];
        unsigned n = protocol_split_fields(line, fields, 3);
        long long size;
        if (strcmp(fields[0], RECORD_LOGSIZE) == 0) {
                if (st->state == STREAM_WAITING)
                        st->state = STREAM_OPEN;
        } else if (n >= 2 && strcmp(fields[0], RECORD_DATA) == 0 && (size = strtoll(fields[1], NULL, 10)) >= 0)
                st->data_left = (size_t)size;
        else if (strcmp(fields[0], FINAL_ERROR) == 0)
                st->state = st->state == STREAM_WAITING ? STREAM_NOT_FOUND : STREAM_ENDED;
        else
                st->state = st->state == STREAM_WAITING ? STREAM_FAILED : STREAM_ENDED;
}

static bool stream_feed(const char *data, size_t len, void *userdata) {
        struct log_stream *st = userdata;
        while (len > 0 && st->state <= STREAM_OPEN) {
                if (st->data_left > 0) {
                        size_t take = len < st->data_left ? len : st->data_left;
                        if (!stream_put(st, data, take)) {
                                st->state = STREAM_ENDED;
                                break;
                        }
                        st->data_left -= take;
                        data += take;
                        len -= take;
                        continue;
                }
                const char *nl = memchr(data, '\n', len);
                size_t take = nl ? (size_t)(nl - data) : len;
                if (st->line_len + take >= sizeof st->line) {
                        st->state = st->state == STREAM_WAITING ? STREAM_FAILED : STREAM_ENDED;
                        break;
                }
                memcpy(st->line + st->line_len, data, take);
                st->line_len += take;
                data += take;
                len -= take;
                if (nl) {
                        st->line[st->line_len] = '\0';
                        st->line_len = 0;
                        data++;
                        len--;
                        stream_record(st, st->line);
                }
        }
        stream_wake(st);
        return st->buf_len - st->buf_sent < STREAM_HIGH_WATER;
}

static void stream_done(const char *reply, size_t len, void *userdata) {
        struct log_stream *st = userdata;
        (void)reply;
        (void)len;
        st->native = NULL;  /* freed by its caller */
        if (st->state == STREAM_WAITING)
                st->state = STREAM_FAILED;
        else if (st->state == STREAM_OPEN)
                st->state = STREAM_ENDED;
        stream_wake(st);
}

/* libmicrohttpd's content reader: what has come, else the connection suspended until
 * more does (returning 0 without would make it call again at once, for ever). */
static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max) {
        struct log_stream *st = cls;
        (void)pos;
        if (st->client_gone)
                return MHD_CONTENT_READER_END_WITH_ERROR;
        size_t have = st->buf_len - st->buf_sent;
        if (have > 0) {
                size_t n = have < max ? have : max;
                memcpy(out, st->buf + st->buf_sent, n);
                st->buf_sent += n;
                if (st->native && st->native->paused && st->buf_len - st->buf_sent < STREAM_HIGH_WATER / 2)
                        native_resume(st->native);
                return (ssize_t)n;
        }
        if (st->state != STREAM_OPEN)
                return MHD_CONTENT_READER_END_OF_STREAM;
        stream_suspend(st);
        return 0;
}

static void stream_response_free(void *cls) {
        stream_free(cls);
}

/* The hang-up of a suspended stream's client. */
static void stream_on_client_io(struct log_stream *st) {
        st->client_gone = true;
        stream_wake(st);
}

/* ---- HTTP ---- */

struct http_request {
        struct MHD_Connection *connection;
        char *body;
        size_t body_len;
        bool too_large;
        bool started, suspended, finished;
        struct rpc_job *job;          /* while started and not finished */
        struct metrics_scrape *scrape;  /* GET /metrics: while started and not finished */
        const char *content_type;     /* of the reply; NULL: text/xml */
        int status;
        char *reply;
        size_t reply_len;
        struct log_stream *stream;    /* owned until its response takes it */
};

/* The line-protocol request of a GET: /logtail/NAME[/stdout|/stderr], /mainlogtail
 * (supervisord's paths, NAME as supervisord's GROUP:NAME); false for anything else. */
static bool stream_request_line(const char *url, char *line, size_t size) {
        if (strcmp(url, "/mainlogtail") == 0) {
                snprintf(line, size, "readlog -%d follow", STREAM_HEAD);
                return true;
        }
        if (strncmp(url, "/logtail/", 9) != 0)
                return false;
        char spec[256];
        const char *p = url + 9, *slash = strchr(p, '/');
        const char *stream = slash ? slash + 1 : "stdout";
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (len == 0 || len >= sizeof spec || (strcmp(stream, "stdout") != 0 && strcmp(stream, "stderr") != 0))
                return false;
        memcpy(spec, p, len);
        spec[len] = '\0';
        /* GROUP:NAME is NAME here; a group, or a word that is not a name, finds nothing. */
        const char *colon = strchr(spec, ':');
        const char *name = colon ? colon + 1 : spec;
        if (!name[0] || strcmp(name, "*") == 0)
                return false;
        for (const char *c = name; *c; c++)
                if ((unsigned char)*c <= ' ' || *c == 0x7f)
                        return false;
        snprintf(line, size, "readproclog %s %s -%d follow", name, stream, STREAM_HEAD);
        return true;
}

/* A GET of a log stream, called again each time it is resumed until it is answered. */
static enum MHD_Result on_stream_request(struct http_request *hr, const char *url) {
        struct log_stream *st = hr->stream;
        if (!st) {
                char line[PROTOCOL_MAX_REQUEST];
                if (!stream_request_line(url, line, sizeof line))
                        return queue_text(hr->connection, MHD_HTTP_NOT_FOUND, "Not Found\n");
                if (!(st = calloc(1, sizeof *st)))
                        return MHD_NO;
                st->kind = KIND_STREAM;
                st->connection = hr->connection;
                st->client_fd = -1;
                if (native_stream(line, stream_feed, stream_done, st, &st->native) < 0) {
                        free(st);
                        return MHD_NO;
                }
                hr->stream = st;
                stream_suspend(st);
                return MHD_YES;
        }
        if (st->state == STREAM_WAITING) {
                stream_suspend(st);
                return MHD_YES;
        }
        if (st->state == STREAM_NOT_FOUND)
                return queue_text(hr->connection, MHD_HTTP_NOT_FOUND, "Not Found\n");
        if (st->state == STREAM_FAILED)
                return queue_text(hr->connection, MHD_HTTP_INTERNAL_SERVER_ERROR, "supervisord did not answer\n");
        struct MHD_Response *r =
                MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, stream_read, st, stream_response_free);
        if (!r)
                return MHD_NO;
        st->responding = true;
        hr->stream = NULL;
        MHD_add_response_header(r, "Content-Type", "text/plain;charset=utf-8");
        MHD_add_response_header(r, "X-Accel-Buffering", "no");
        enum MHD_Result ret = MHD_queue_response(hr->connection, MHD_HTTP_OK, r);
        MHD_destroy_response(r);
        return ret;
}

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

/* GET /metrics: its `status` request, which may outlive the HTTP request. */
struct metrics_scrape {
        struct http_request *hr;  /* NULL once the HTTP request has gone */
};

static void on_metrics_status(const char *reply, size_t len, void *userdata) {
        struct metrics_scrape *m = userdata;
        struct http_request *hr = m->hr;
        (void)len;
        free(m);
        if (!hr)
                return;
        hr->scrape = NULL;
        char *copy = reply ? strdup(reply) : NULL, *text = NULL;
        size_t text_len = 0;
        if (!copy || metrics_format(copy, &text, &text_len) < 0) {
                static const char failed[] = "# supervisord did not answer\n";
                text = strdup(failed);
                text_len = text ? sizeof failed - 1 : 0;
                hr->status = MHD_HTTP_SERVICE_UNAVAILABLE;
        }
        free(copy);
        http_reply_ready(NULL, text, text_len, hr);
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
                MHD_add_response_header(r, "Content-Type", hr->content_type ? hr->content_type : "text/xml");
                enum MHD_Result ret = MHD_queue_response(connection, hr->status ? (unsigned)hr->status : MHD_HTTP_OK, r);
                MHD_destroy_response(r);
                return ret;
        }
        if (hr->started)
                return MHD_YES;  /* resumed before its answer: wait on */
        if (hr->stream)
                return on_stream_request(hr, url);
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
        if (strcmp(method, "GET") == 0 && (strncmp(url, "/logtail/", 9) == 0 || strcmp(url, "/mainlogtail") == 0))
                return on_stream_request(hr, url);
        /* Beyond supervisord: its processes for Prometheus. */
        if (strcmp(method, "GET") == 0 && strcmp(url, "/metrics") == 0) {
                struct metrics_scrape *m = malloc(sizeof *m);
                if (!m)
                        return MHD_NO;
                m->hr = hr;
                if (native_request("status", on_metrics_status, m) < 0) {
                        free(m);
                        return queue_text(connection, MHD_HTTP_SERVICE_UNAVAILABLE, "supervisord did not answer\n");
                }
                hr->started = true;
                hr->scrape = m;
                hr->content_type = "text/plain; version=0.0.4; charset=utf-8";
                hr->suspended = true;
                MHD_suspend_connection(connection);
                return MHD_YES;
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
        if (hr->started && !hr->finished && hr->scrape)
                hr->scrape->hr = NULL;
        else if (hr->started && !hr->finished)
                rpc_job_forget(hr->job);
        stream_free(hr->stream);  /* none once its response has it */
        free(hr->body);
        free(hr->reply);
        free(hr);
        *con_cls = NULL;
}

/* libmicrohttpd's messages, to standard error (supervisord's log), but for those about
 * TCP options it tries on a connection it was handed (it cannot tell that one is a
 * unix socket): they say nothing of use there. */
static void __attribute__((format(printf, 2, 0))) log_mhd(void *cls, const char *format, va_list ap) {
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
                n = recv(channel_fd, buf, sizeof buf - 1, 0);
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

/* The three servers: the unix socket's, the TCP socket's (NULL when none) and the one
 * for the clients supervisord hands over. */
static struct MHD_Daemon *daemons[3];

/* The channel and the servers on the epoll loop. */
static int serve_setup(void) {
        int fl = fcntl(channel_fd, F_GETFL);
        fcntl(channel_fd, F_SETFL, fl | O_NONBLOCK);
        if ((epoll_fd = epoll_create1(EPOLL_CLOEXEC)) < 0)
                return -errno;
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &tag_channel };
        epoll_ctl(epoll_fd, EPOLL_CTL_ADD, channel_fd, &ev);
        for (int i = 0; i < 3; i++) {
                if (!daemons[i])
                        continue;
                const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemons[i], MHD_DAEMON_INFO_EPOLL_FD);
                ev = (struct epoll_event){ .events = EPOLLIN, .data.ptr = &tag_mhd[i] };
                epoll_ctl(epoll_fd, EPOLL_CTL_ADD, info->epoll_fd, &ev);
        }
        return 0;
}

/* One round of the loop: wait for at most MAX_WAIT_MS (-1: as long as the servers' timers
 * allow), then serve what is ready.  Negative errno if waiting failed. */
static int serve_step(int max_wait_ms) {
        int timeout = max_wait_ms;
        for (int i = 0; i < 3; i++) {
                MHD_UNSIGNED_LONG_LONG t;
                if (daemons[i] && MHD_get_timeout(daemons[i], &t) == MHD_YES) {
                        int ms = t > 60000 ? 60000 : (int)t;
                        if (timeout < 0 || ms < timeout)
                                timeout = ms;
                }
        }
        /* A stream resumed: MHD serves it at once, not at its next unrelated event. */
        if (streams_resumed)
                timeout = 0;
        streams_resumed = false;
        struct epoll_event events[64];
        int n = epoll_wait(epoll_fd, events, 64, timeout);
        if (n < 0 && errno != EINTR)
                return -errno;
        for (int i = 0; i < n; i++) {
                void *p = events[i].data.ptr;
                if (p == &tag_channel)
                        channel_on_io();
                else if (p == &tag_mhd[0] || p == &tag_mhd[1] || p == &tag_mhd[2])
                        continue;
                else if (*(enum epoll_kind *)p == KIND_STREAM)
                        stream_on_client_io(p);
                else
                        native_on_io(p, events[i].events);
        }
        /* MHD after the control answers: a connection resumed above is served now. */
        for (int i = 0; i < 3; i++)
                if (daemons[i])
                        MHD_run(daemons[i]);
        return 0;
}

int main(void) {
        if (getuid() == 0 || geteuid() == 0) {
                fprintf(stderr, "supervisord-http: refusing to run as root\n");
                return 2;
        }
        signal(SIGPIPE, SIG_IGN);
        read_settings();
        adopting = start_daemon(-1);
        daemons[0] = start_daemon(UNIX_FD);
        daemons[1] = start_daemon(INET_FD);
        daemons[2] = adopting;
        if (serve_setup() < 0)
                return 1;
        for (;;)
                if (serve_step(-1) < 0)
                        return 1;
}
