/* control.c — see control.h and the CONTROL PROTOCOL section of supervisord(8). */
#include "control.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine.h"
#include "log.h"
#include "logfile.h"
#include "protocol.h"

struct client {
        struct client *next, *prev;
        int fd;                   /* owned by io */
        sd_event_source *io;      /* owned */
        sd_event_source *timer;   /* owned: request and write deadlines */
        struct ucred peer;
        char in[PROTOCOL_MAX_REQUEST];
        size_t in_len;
        bool have_request;        /* the request line was read */
        bool answered;            /* the final line is in out */
        bool waiting_shutdown;
        struct engine_op *op;     /* owned: a parked start/stop/restart, cancelled with the client */
        bool submitting;          /* inside engine_submit(): the caller flushes */
        char *out;                /* owned */
        size_t out_len, out_sent, out_size;
        bool out_overflow;
        struct log_follower *follower;        /* owned: tail -f, until the answer ends */
        char follow_name[SERVICE_NAME_MAX + 8];
};

static sd_event *control_event;
static sd_event_source *listen_source;   /* owns the listening fd */
static struct client *clients;
static unsigned n_clients;
static const struct control_handlers *handlers;
static struct event_subscription *stopped_subscription;  /* owned by the bus */
static bool allow_group;                 /* socket-group is set: its members may connect */
static gid_t allowed_gid;

/* ---- listening ---- */

int control_listen(const struct config *config, int *ret_fd, char *error, size_t error_size) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s", config->socket);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) {
                snprintf(error, error_size, "socket: %s", strerror(errno));
                return -errno;
        }
        /* Create the socket file with no access for anyone, then open it up exactly as
         * configured: no window where it has the umask's permissions. */
        mode_t old_umask = umask(0777);
        int r = bind(fd, (struct sockaddr *)&sa, sizeof sa);
        if (r < 0 && errno == EADDRINUSE) {
                /* Stale from a dead daemon, or alive?  Only a refused connection proves it dead. */
                int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                int alive = probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof sa) == 0;
                int probe_errno = errno;
                if (probe >= 0)
                        close(probe);
                if (alive || (probe_errno != ECONNREFUSED && probe_errno != ENOENT)) {
                        umask(old_umask);
                        close(fd);
                        snprintf(error, error_size, "socket %s is in use by a running supervisord", config->socket);
                        return -EADDRINUSE;
                }
                log_notice("replacing stale socket %s", config->socket);
                unlink(config->socket);
                r = bind(fd, (struct sockaddr *)&sa, sizeof sa);
        }
        int bind_errno = errno;
        umask(old_umask);
        if (r < 0) {
                close(fd);
                snprintf(error, error_size, "bind %s: %s", config->socket, strerror(bind_errno));
                return -bind_errno;
        }
        if ((config->has_socket_group && chown(config->socket, (uid_t)-1, config->socket_gid) < 0)
            || chmod(config->socket, config->socket_mode) < 0 || listen(fd, SOMAXCONN) < 0) {
                int e = errno;
                snprintf(error, error_size, "socket %s: %s", config->socket, strerror(e));
                unlink(config->socket);
                close(fd);
                return -e;
        }
        *ret_fd = fd;
        return 0;
}

/* ---- output ---- */

static void client_free(struct client *c) {
        if (c->prev)
                c->prev->next = c->next;
        else
                clients = c->next;
        if (c->next)
                c->next->prev = c->prev;
        n_clients--;
        sd_event_source_disable_unref(c->io);
        sd_event_source_disable_unref(c->timer);
        log_follower_free(c->follower);
        engine_op_cancel(c->op);
        free(c->out);
        free(c);
}

static void __attribute__((format(printf, 2, 3))) client_printf(struct client *c, const char *format, ...) {
        if (c->out_overflow)
                return;
        for (;;) {
                size_t room = c->out_size - c->out_len;
                va_list ap;
                va_start(ap, format);
                int n = vsnprintf(c->out ? c->out + c->out_len : NULL, room, format, ap);
                va_end(ap);
                if (n < 0)
                        return;
                if ((size_t)n < room) {
                        c->out_len += (size_t)n;
                        return;
                }
                size_t size = c->out_size ? c->out_size : 4096;
                while (size < c->out_len + (size_t)n + 1)
                        size *= 2;
                char *out = size <= CONTROL_MAX_OUTPUT ? realloc(c->out, size) : NULL;
                if (!out) {
                        /* The answer cannot be delivered whole: drop the client rather than
                         * send half of it. */
                        c->out_overflow = true;
                        return;
                }
                c->out = out;
                c->out_size = size;
        }
}

static void client_arm_timer(struct client *c, usec_t timeout);

/* Write what is pending; close when the answer is complete.  Returns false if c was freed. */
static bool client_flush(struct client *c) {
        if (c->out_overflow) {
                log_warning("control: answer for pid %d too large, dropping client", (int)c->peer.pid);
                client_free(c);
                return false;
        }
        while (c->out_sent < c->out_len) {
                ssize_t n = send(c->fd, c->out + c->out_sent, c->out_len - c->out_sent, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (n < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                break;
                        client_free(c);  /* the peer went away */
                        return false;
                }
                c->out_sent += (size_t)n;
                client_arm_timer(c, CONTROL_WRITE_TIMEOUT);
        }
        if (c->follower && c->out_sent == c->out_len && !c->answered) {
                /* Idle, not stuck: a follower waits for output without a deadline. */
                c->out_len = c->out_sent = 0;
                sd_event_source_set_enabled(c->timer, SD_EVENT_OFF);
        }
        if (c->out_sent == c->out_len && c->answered) {
                client_free(c);
                return false;
        }
        uint32_t events = c->out_sent < c->out_len ? EPOLLOUT : 0;
        if (!c->have_request)
                events |= EPOLLIN;
        sd_event_source_set_io_events(c->io, events);
        return true;
}

static void __attribute__((format(printf, 3, 4))) client_error(struct client *c, int code, const char *format, ...) {
        char message[512], clean[512];
        va_list ap;
        va_start(ap, format);
        vsnprintf(message, sizeof message, format, ap);
        va_end(ap);
        protocol_sanitize(clean, sizeof clean, message);
        client_printf(c, FINAL_ERROR "\t%d\t%s\n", code, clean);
        c->answered = true;
}

static void client_ok(struct client *c) {
        client_printf(c, FINAL_OK "\n");
        c->answered = true;
}

/* ---- requests ---- */

static void reply_status_record(struct client *c, struct service *s) {
        struct service_status st;
        char last_exit[32] = "-", message[256];
        service_get_status(s, &st);
        if (st.has_exited) {
                if (WIFEXITED(st.last_wait_status))
                        snprintf(last_exit, sizeof last_exit, "exit %d", WEXITSTATUS(st.last_wait_status));
                else if (WIFSIGNALED(st.last_wait_status)) {
                        const char *name = signal_name(WTERMSIG(st.last_wait_status));
                        if (name)
                                snprintf(last_exit, sizeof last_exit, "signal %s", name);
                        else
                                snprintf(last_exit, sizeof last_exit, "signal %d", WTERMSIG(st.last_wait_status));
                }
        }
        /* A log that cannot be written is worth saying while nothing else is. */
        const char *text = st.message[0] ? st.message : log_capture_problem(service_log_capture(s));
        protocol_sanitize(message, sizeof message, text[0] ? text : "-");
        /* Fields are only ever added at the end, so older clients keep working. */
        char heartbeat_rtt[32] = "-";
        if (st.has_heartbeat_rtt)
                snprintf(heartbeat_rtt, sizeof heartbeat_rtt, "%llu", (unsigned long long)st.heartbeat_rtt);
        char spawn_error[256], logs[2][PATH_MAX];
        protocol_sanitize(spawn_error, sizeof spawn_error, st.spawn_error[0] ? st.spawn_error : "-");
        for (int fd = 1; fd <= 2; fd++) {
                char path[PATH_MAX];
                protocol_sanitize(logs[fd - 1], sizeof logs[fd - 1],
                                  service_log_file(s, fd, path, sizeof path) == 0 ? path : "-");
        }
        client_printf(c, RECORD_STATUS "\t%s\t%s\t%d\t%llu\t%s\t%u\t%s\t%s\t%s\t%llu\t%llu\t%s\t%s\t%s\n", st.name,
                      service_state_to_string(st.state), (int)st.pid, (unsigned long long)(st.uptime / USEC_PER_SEC),
                      last_exit, st.restarts, message, heartbeat_rtt, st.group,
                      (unsigned long long)(st.start_realtime / USEC_PER_SEC),
                      (unsigned long long)(st.stop_realtime / USEC_PER_SEC), spawn_error, logs[0], logs[1]);
}

/* Resolve the request's names (or "all", or nothing for status) into processes; false if
 * a name is unknown (then answered).  A service name stands for all its instances. */
static bool resolve_targets(struct client *c, const struct request *req, struct service ***ret, size_t *ret_n) {
        bool everything = req->all || (req->verb == VERB_STATUS && req->n_names == 0);
        const char *bad;
        int r = engine_resolve(everything, req->names, req->n_names, ret, ret_n, &bad);
        if (r == -ENOENT)
                client_error(c, EXIT_NO_SUCH_SERVICE, "no such service: %s", bad);
        else if (r < 0)
                client_error(c, EXIT_FAILED, "out of memory");
        return r >= 0;
}

/* The line protocol's exit status for a request the engine refused as a whole. */
static int exit_status_of(enum engine_code code) {
        return code == ENGINE_NO_SUCH_NAME ? EXIT_NO_SUCH_SERVICE : EXIT_FAILED;
}

/* The outcome of a start, stop, restart or signal (an engine_done_fn): a RESULT per
 * process, then OK or how many failed. */
static void client_on_action_done(const struct engine_report *report, void *userdata) {
        struct client *c = userdata;
        c->op = NULL;  /* the engine frees it */
        if (report->code != ENGINE_OK)
                client_error(c, exit_status_of(report->code), "%s", report->reason);
        else {
                for (size_t i = 0; i < report->n_results; i++) {
                        const struct engine_result *r = &report->results[i];
                        char message[sizeof r->reason];
                        protocol_sanitize(message, sizeof message, r->reason);
                        client_printf(c, RECORD_RESULT "\t%s\t%s\t%s\n", r->name, r->ok ? "ok" : "error", message);
                }
                if (report->n_failed)
                        client_error(c, EXIT_FAILED, "%zu of %zu failed", report->n_failed, report->n_results);
                else
                        client_ok(c);
        }
        if (!c->submitting)
                client_flush(c);
}

static void request_action(struct client *c, const struct request *req) {
        static const enum engine_action actions[] = {
                [VERB_START] = ENGINE_START, [VERB_STOP] = ENGINE_STOP, [VERB_RESTART] = ENGINE_RESTART,
                [VERB_SIGNAL] = ENGINE_SIGNAL,
        };
        const struct engine_request er = {
                .action = actions[req->verb],
                .all = req->all,
                .names = req->names,
                .n_names = req->n_names,
                .signal = req->signal,
                .wait = true,
        };
        c->submitting = true;
        int r = engine_submit(handlers->engine, &er, client_on_action_done, c, &c->op);
        c->submitting = false;
        if (r < 0)
                client_error(c, EXIT_FAILED, "%s", strerror(-r));
}

static void request_status(struct client *c, const struct request *req) {
        struct service **list;
        size_t n;
        if (!resolve_targets(c, req, &list, &n))
                return;
        for (size_t i = 0; i < n; i++)
                reply_status_record(c, list[i]);
        free(list);
        client_ok(c);
}

static void request_pid(struct client *c, const struct request *req) {
        if (req->n_names == 0) {
                client_printf(c, RECORD_PID "\t%d\n", (int)getpid());
                client_ok(c);
                return;
        }
        struct service *s = services_find(req->names[0]);
        if (!s) {
                client_error(c, EXIT_NO_SUCH_SERVICE, "no such service: %s", req->names[0]);
                return;
        }
        struct service_status st;
        service_get_status(s, &st);
        /* 0 when it has no process, as scripts expect a number. */
        client_printf(c, RECORD_PID "\t%d\n", (int)st.pid);
        client_ok(c);
}

/* The outcome of an update (an engine_done_fn): what was added, changed and removed. */
static void client_on_update_done(const struct engine_report *report, void *userdata) {
        struct client *c = userdata;
        c->op = NULL;
        if (report->code != ENGINE_OK) {
                client_error(c, exit_status_of(report->code), "%s", report->reason);
                if (!c->submitting)
                        client_flush(c);
                return;
        }
        for (size_t i = 0; i < report->n_results; i++) {
                const struct engine_result *r = &report->results[i];
                const char *record = r->code == ENGINE_ADDED     ? RECORD_ADDED
                                     : r->code == ENGINE_CHANGED ? RECORD_CHANGED
                                                                 : RECORD_REMOVED;
                client_printf(c, "%s\t%s\n", record, r->name);
        }
        if (report->notice[0]) {
                char clean[512];
                protocol_sanitize(clean, sizeof clean, report->notice);
                client_printf(c, RECORD_NOTICE "\t%s\n", clean);
        }
        client_ok(c);
        if (!c->submitting)
                client_flush(c);
}

static void request_reload(struct client *c) {
        const struct engine_request er = { .action = ENGINE_UPDATE };
        log_notice("reload requested by pid %d uid %d", (int)c->peer.pid, (int)c->peer.uid);
        /* An update is over once applied: answered before engine_submit() returns. */
        c->submitting = true;
        int r = engine_submit(handlers->engine, &er, client_on_update_done, c, &c->op);
        c->submitting = false;
        if (r < 0)
                client_error(c, EXIT_FAILED, "reload: %s", strerror(-r));
}

/* The socket's mode and group are the first line of defence; this is the second, for a
 * socket made too open by hand: root, supervisord's own user, and members of socket-group. */
static bool client_is_allowed(const struct client *c) {
        if (c->peer.uid == 0 || c->peer.uid == geteuid())
                return true;
        if (!allow_group)
                return false;
        if (c->peer.gid == allowed_gid)
                return true;
        gid_t groups[256];
        socklen_t len = sizeof groups;
        if (getsockopt(c->fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
                return false;
        for (size_t i = 0; i < len / sizeof groups[0]; i++)
                if (groups[i] == allowed_gid)
                        return true;
        return false;
}

void control_allow_group(bool enabled, gid_t gid) {
        allow_group = enabled;
        allowed_gid = gid;
}

/* ---- tail ---- */

/* A DATA record: its line, then SIZE raw bytes.  What was sent is dropped from the
 * buffer first, so that a follower streaming for hours holds only what is unsent. */
static void client_send_data(struct client *c, const char *data, size_t size) {
        if (c->out_sent > 0) {
                memmove(c->out, c->out + c->out_sent, c->out_len - c->out_sent);
                c->out_len -= c->out_sent;
                c->out_sent = 0;
        }
        client_printf(c, RECORD_DATA "\t%zu\n", size);
        if (c->out_overflow)
                return;
        if (c->out_len + size > c->out_size) {
                size_t grown = c->out_size;
                while (grown < c->out_len + size)
                        grown *= 2;
                char *out = grown <= CONTROL_MAX_OUTPUT ? realloc(c->out, grown) : NULL;
                if (!out) {
                        c->out_overflow = true;
                        return;
                }
                c->out = out;
                c->out_size = grown;
        }
        memcpy(c->out + c->out_len, data, size);
        c->out_len += size;
}

/* Output of a followed process (a log_follow_fn): buffered here, sent from client_on_io. */
static void client_on_follow(const char *data, size_t size, void *userdata) {
        struct client *c = userdata;
        if (!data) {
                c->follower = NULL;  /* freed by logfile.c */
                if (!c->answered)
                        client_error(c, EXIT_FAILED, "%s was removed", c->follow_name);
        } else if (c->answered) {
                return;
        } else if (c->out_len - c->out_sent + size > CONTROL_MAX_FOLLOW_BACKLOG) {
                log_warning("control: tail -f %s by pid %d reads more slowly than the service writes: dropped",
                            c->follow_name, (int)c->peer.pid);
                client_error(c, EXIT_FAILED, "tail: %s writes faster than this client reads; stopped following",
                             c->follow_name);
        } else
                client_send_data(c, data, size);
        sd_event_source_set_io_events(c->io, EPOLLOUT);
}

static void request_tail(struct client *c, const struct request *req) {
        struct service *list[2];
        size_t n = services_match(req->names[0], list, ELEMENTSOF(list));
        if (n == 0) {
                client_error(c, EXIT_NO_SUCH_SERVICE, "no such service: %s", req->names[0]);
                return;
        }
        if (n > 1) {
                client_error(c, EXIT_USAGE, "%s has %zu instances: name one, such as %s@0", req->names[0], n,
                             req->names[0]);
                return;
        }
        struct service *s = list[0];
        const struct service_config *config = service_config(s);
        struct log_capture *capture = service_log_capture(s);
        char *text;
        size_t size;
        int r = log_capture_tail(capture, config, req->lines, &text, &size);
        if (r == -ENOENT) {
                client_error(c, EXIT_FAILED, "%s has no log file (stdout = %s, stderr = %s)", service_name(s),
                             output_target_to_string(config->stdout_target),
                             output_target_to_string(config->stderr_target));
                return;
        }
        if (r < 0) {
                client_error(c, EXIT_FAILED, "tail %s: %s", service_name(s), strerror(-r));
                return;
        }
        if (size > 0)
                client_send_data(c, text, size);
        free(text);
        if (!req->follow) {
                client_ok(c);
                return;
        }
        /* From the same point: what the file holds now was sent, the rest comes from the
         * writer as it is written, across rotations. */
        if ((r = log_capture_follow(capture, client_on_follow, c, &c->follower)) < 0) {
                client_error(c, EXIT_FAILED, "tail -f %s: %s", service_name(s), strerror(-r));
                return;
        }
        snprintf(c->follow_name, sizeof c->follow_name, "%s", service_name(s));
}

static bool client_handle_request(struct client *c, char *line) {
        struct request *req = malloc(sizeof *req);  /* large: keep it off the stack */
        const char *error;

        c->have_request = true;
        sd_event_source_set_enabled(c->timer, SD_EVENT_OFF);
        /* Read no more: one request per connection.  A half-closed socket (socat) stays
         * readable at EOF, and left in the mask would wake us in a busy loop for as long
         * as the request is parked.  Output turns EPOLLOUT on as needed; a peer that goes
         * away entirely still shows as EPOLLHUP. */
        sd_event_source_set_io_events(c->io, 0);
        if (!req) {
                client_error(c, EXIT_FAILED, "out of memory");
                return client_flush(c);
        }
        if (!client_is_allowed(c)) {
                log_warning("control: refused pid %d uid %d gid %d: not root, supervisord's user or in socket-group",
                            (int)c->peer.pid, (int)c->peer.uid, (int)c->peer.gid);
                client_error(c, EXIT_FAILED, "permission denied: uid %d may not control supervisord", (int)c->peer.uid);
                free(req);
                return client_flush(c);
        }
        if (protocol_parse_request(line, req, &error) < 0) {
                log_debug("control: bad request from pid %d: %s", (int)c->peer.pid, error);
                client_error(c, EXIT_USAGE, "%s", error);
                free(req);
                return client_flush(c);
        }
        /* Who changed what is worth keeping; who merely looked is not. */
        bool read_only = req->verb == VERB_STATUS || req->verb == VERB_PID || req->verb == VERB_VERSION
                         || req->verb == VERB_TAIL;
        log_message(read_only ? LOG_DEBUG : LOG_NOTICE, "control: %s%s%s from pid %d uid %d gid %d",
                    verb_to_string(req->verb), req->all ? " all" : req->n_names ? " " : "",
                    req->n_names ? req->names[0] : "", (int)c->peer.pid, (int)c->peer.uid, (int)c->peer.gid);
        switch (req->verb) {
        case VERB_STATUS:
                request_status(c, req);
                break;
        case VERB_PID:
                request_pid(c, req);
                break;
        case VERB_VERSION:
                client_printf(c, RECORD_VERSION "\t%s\n", SUPERVISORD_VERSION);
                client_ok(c);
                break;
        case VERB_RELOAD:
                request_reload(c);
                break;
        case VERB_TAIL:
                request_tail(c, req);
                break;
        case VERB_SHUTDOWN:
                log_notice("shutdown requested by pid %d uid %d", (int)c->peer.pid, (int)c->peer.uid);
                c->waiting_shutdown = true;
                free(req);
                /* May complete at once (nothing running) and answer this client. */
                handlers->shutdown();
                return true;
        default:
                request_action(c, req);
                free(req);
                /* Answered at once (already running, unknown name, shutting down), or
                 * parked until the engine's callback. */
                if (c->answered)
                        return client_flush(c);
                return true;
        }
        free(req);
        return client_flush(c);
}

static bool client_read(struct client *c) {
        for (;;) {
                if (c->in_len == sizeof c->in) {
                        client_error(c, EXIT_USAGE, "request too long (limit %d bytes)", PROTOCOL_MAX_REQUEST);
                        c->have_request = true;
                        return client_flush(c);
                }
                ssize_t n = recv(c->fd, c->in + c->in_len, sizeof c->in - c->in_len, MSG_DONTWAIT);
                if (n < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                return true;
                        client_free(c);
                        return false;
                }
                if (n == 0) {
                        /* Closed before a whole line: nothing to answer. */
                        client_free(c);
                        return false;
                }
                char *newline = memchr(c->in + c->in_len, '\n', (size_t)n);
                c->in_len += (size_t)n;
                if (newline) {
                        *newline = '\0';
                        if (newline > c->in && newline[-1] == '\r')
                                newline[-1] = '\0';
                        if (memchr(c->in, '\0', (size_t)(newline - c->in))) {
                                client_error(c, EXIT_USAGE, "invalid request: NUL byte");
                                c->have_request = true;
                                return client_flush(c);
                        }
                        return client_handle_request(c, c->in);
                }
        }
}

static int client_on_io(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        struct client *c = userdata;
        (void)source;
        (void)fd;
        if (revents & (EPOLLHUP | EPOLLERR) && !(revents & EPOLLIN)) {
                client_free(c);  /* gone while its request was parked or its answer unsent */
                return 0;
        }
        if ((revents & EPOLLIN) && !c->have_request) {
                if (!client_read(c))
                        return 0;
        }
        if (revents & EPOLLOUT)
                client_flush(c);
        return 0;
}

static int client_on_timeout(sd_event_source *source, uint64_t usec, void *userdata) {
        struct client *c = userdata;
        (void)source;
        (void)usec;
        log_warning("control: dropping client pid %d: %s", (int)c->peer.pid,
                    c->have_request ? "not reading its answer" : "no complete request in time");
        client_free(c);
        return 0;
}

static void client_arm_timer(struct client *c, usec_t timeout) {
        if (sd_event_source_set_time_relative(c->timer, timeout) >= 0)
                sd_event_source_set_enabled(c->timer, SD_EVENT_ONESHOT);
}

/* Accept one connection; false when there is none left to accept. */
static bool accept_one(int listen_fd) {
        int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) {
                if (errno == EAGAIN)
                        return false;
                if (errno != EINTR && errno != ECONNABORTED) {
                        /* EMFILE and the like: try again on the next wake-up */
                        log_warning_errno(errno, "control: accept");
                        return false;
                }
                return true;
        }
        if (n_clients >= CONTROL_MAX_CLIENTS) {
                /* Full: make room by dropping the client idle the longest without a
                 * complete request (the list is newest first), so a crowd of stalled
                 * connections cannot lock everyone else out. */
                struct client *oldest_idle = NULL;
                for (struct client *c = clients; c; c = c->next)
                        if (!c->have_request)
                                oldest_idle = c;
                if (oldest_idle) {
                        static const char dropped[] = FINAL_ERROR "\t1\ttoo many clients\n";
                        log_debug("control: dropping idle client pid %d to make room", (int)oldest_idle->peer.pid);
                        ssize_t unused = send(oldest_idle->fd, dropped, sizeof dropped - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
                        (void)unused;
                        client_free(oldest_idle);
                }
        }
        if (n_clients >= CONTROL_MAX_CLIENTS) {
                static const char busy[] = FINAL_ERROR "\t1\ttoo many clients\n";
                ssize_t unused = send(fd, busy, sizeof busy - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
                (void)unused;
                close(fd);
                return true;
        }
        struct client *c = calloc(1, sizeof *c);
        if (!c) {
                close(fd);
                return true;
        }
        c->fd = fd;
        socklen_t len = sizeof c->peer;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c->peer, &len) < 0)
                c->peer = (struct ucred){ .pid = 0, .uid = (uid_t)-1, .gid = (gid_t)-1 };
        if (sd_event_add_io(control_event, &c->io, fd, EPOLLIN, client_on_io, c) < 0) {
                close(fd);
                free(c);
                return true;
        }
        sd_event_source_set_io_fd_own(c->io, true);
        /* Clients before timers: a storm of restarts due at once must not keep an
         * operator waiting for `status` behind a hundred forks. */
        sd_event_source_set_priority(c->io, SD_EVENT_PRIORITY_IMPORTANT);
        if (sd_event_add_time_relative(control_event, &c->timer, CLOCK_MONOTONIC, CONTROL_REQUEST_TIMEOUT,
                                       USEC_PER_SEC / 10, client_on_timeout, c) < 0) {
                sd_event_source_disable_unref(c->io);
                free(c);
                return true;
        }
        c->next = clients;
        if (clients)
                clients->prev = c;
        clients = c;
        n_clients++;
        return true;
}

static int control_on_listen(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        (void)source;
        (void)revents;
        (void)userdata;
        /* Bounded work per wake-up: a flood of connections cannot starve the services. */
        for (int i = 0; i < 64 && accept_one(fd); i++)
                ;
        return 0;
}

static void control_on_stopped(const struct event *e, void *userdata);

int control_start(sd_event *event, int listen_fd, const struct control_handlers *h) {
        int r;
        control_event = event;
        handlers = h;
        r = sd_event_add_io(event, &listen_source, listen_fd, EPOLLIN, control_on_listen, NULL);
        if (r < 0)
                return r;
        sd_event_source_set_io_fd_own(listen_source, true);
        sd_event_source_set_priority(listen_source, SD_EVENT_PRIORITY_IMPORTANT);
        return event_bus_subscribe(h->bus, EVENT_MASK(EVENT_SUPERVISOR_STOPPED), control_on_stopped, NULL,
                                   &stopped_subscription);
}

/* Shutdown is complete (EVENT_SUPERVISOR_STOPPED): answer the clients that asked for it
 * and flush what can be. */
static void control_on_stopped(const struct event *e, void *userdata) {
        (void)e;
        (void)userdata;
        for (struct client *c = clients, *next; c; c = next) {
                next = c->next;
                if (c->follower) {
                        /* Its log ends with supervisord: the follow ends cleanly. */
                        log_follower_free(c->follower);
                        c->follower = NULL;
                        if (!c->answered)
                                client_ok(c);
                        client_flush(c);
                        continue;
                }
                if (c->waiting_shutdown && !c->answered) {
                        c->waiting_shutdown = false;
                        client_ok(c);
                        client_flush(c);
                }
        }
}

void control_stop(const char *unlink_path) {
        while (clients)
                client_free(clients);
        stopped_subscription = event_unsubscribe(stopped_subscription);
        listen_source = sd_event_source_disable_unref(listen_source);
        if (unlink_path)
                unlink(unlink_path);
}
