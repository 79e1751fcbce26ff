/* listener.c — see listener.h.
 *
 * Behaviour follows supervisord 4.2.5 (process.py's EventListenerPool, dispatchers.py's
 * PEventListenerDispatcher): an event takes its serial when the first pool accepts it and
 * a poolserial from each pool, both counting from 0; a listener starts ACKNOWLEDGED, is
 * READY after "READY\n", BUSY while it holds an event, ACKNOWLEDGED again after its
 * result, and UNKNOWN (no more events, for good) after anything else; the default result
 * handler takes "OK" and rejects the rest.  Our transitions map onto supervisord's: a
 * running process that exits and is restarted at once is EXITED then STARTING, a start
 * that gives up is BACKOFF then FATAL. */
#include "listener.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "eventtype.h"
#include "log.h"
#include "logfile.h"
#include "service.h"
#include "util.h"

#define SERVER_ID "supervisor"           /* supervisord's default `identifier` */
#define READ_BUFFER 4096                 /* answers waiting to be read, at most */
#define RESULT_MAX 65536                 /* the longest result body taken */
#define RESULT_KEPT 16                   /* ... of which this much is looked at */
#define PAYLOAD_MAX 4096

enum listener_state {
        LISTENER_ACKNOWLEDGED,  /* spawned or answered: waiting for READY */
        LISTENER_READY,         /* may be sent an event */
        LISTENER_BUSY,          /* holds an event, waiting for its result */
        LISTENER_UNKNOWN,       /* broke the protocol: gets nothing more */
};

static const char *const listener_state_names[] = { "ACKNOWLEDGED", "READY", "BUSY", "UNKNOWN" };

struct queued {
        struct queued *next;           /* in the pool's buffer */
        uint64_t serial, pool_serial;
        enum listener_event type;
        size_t len;
        char payload[];                /* len bytes, NUL after them */
};

struct pool {
        struct pool *next;
        char *name;                    /* owned: the service's name */
        uint32_t events;               /* LEV_MASK bits */
        unsigned buffer_size;
        usec_t result_timeout;
        uint64_t serial;               /* the last poolserial given, UINT64_MAX before the first */
        struct queued *head, *tail;    /* owned: the buffer, oldest first */
        unsigned count;
        uint64_t dropped;
        struct listener *listeners;    /* not owned: each is its service's */
        bool dispatching;
};

struct listener {
        struct listener *next;         /* in its pool */
        struct pool *pool;
        struct service *service;       /* borrowed: it owns us */
        enum listener_state state;
        int stdin_fd, stdout_fd;       /* owned: our ends */
        int child_stdin, child_stdout; /* owned until listener_spawned() */
        sd_event_source *write_source; /* owned: stdin, while an envelope is partly written */
        sd_event_source *read_source;  /* owned: stdout */
        sd_event_source *timeout;      /* owned: result-timeout while BUSY */
        struct queued *event;          /* owned: the one it holds (BUSY) */
        char *out;                     /* owned: the envelope being written */
        size_t out_len, out_done;
        char in[READ_BUFFER];
        size_t in_len;
        bool has_result_len;
        size_t result_len, result_got;
        char result[RESULT_KEPT];
        uint64_t taken, rejected;      /* events it processed, events it rejected */
        char description[128];         /* listener_describe()'s */
};

static sd_event *loop;                 /* borrowed */
static struct event_subscription *subscription;  /* owned by the bus */
static struct pool *pools;             /* owned list */
static uint64_t global_serial = UINT64_MAX;
static bool seen_running;
static sd_event_source *tick_source;   /* owned: the one TICK timer */
static usec_t last_tick[3];            /* per period, the last slice announced (wall clock, s) */
static const unsigned tick_periods[3] = { 5, 60, 3600 };

static void pool_dispatch(struct pool *pool);
static void listener_set_state(struct listener *l, enum listener_state state);

static struct pool *pool_find(const char *name) {
        for (struct pool *p = pools; p; p = p->next)
                if (strcmp(p->name, name) == 0)
                        return p;
        return NULL;
}

static void pool_update(struct pool *p, const struct service_config *c) {
        p->events = c->events;
        p->buffer_size = c->buffer_size ? c->buffer_size : 10;
        p->result_timeout = c->result_timeout;
}

static void ticks_update(void);

static struct pool *pool_get(const struct service_config *c) {
        struct pool *p = pool_find(c->name);
        if (p) {
                pool_update(p, c);
                ticks_update();
                return p;
        }
        p = calloc(1, sizeof *p);
        if (!p || !(p->name = strdup(c->name))) {
                free(p);
                return NULL;
        }
        p->serial = UINT64_MAX;
        pool_update(p, c);
        p->next = pools;
        pools = p;
        ticks_update();
        return p;
}

static void pool_free(struct pool *p) {
        for (struct queued *q = p->head, *next; q; q = next) {
                next = q->next;
                free(q);
        }
        for (struct listener *l = p->listeners; l; l = l->next)
                l->pool = NULL;
        free(p->name);
        free(p);
}

/* Into the buffer (at its head for an event given back), the oldest dropped when full. */
static void pool_buffer(struct pool *p, struct queued *q, bool at_head) {
        if (at_head)
                log_debug("rebuffering event %llu for pool %s (buf size=%u, max=%u)", (unsigned long long)q->serial,
                          p->name, p->count, p->buffer_size);
        while (p->count >= p->buffer_size && p->head) {
                struct queued *old = p->head;
                p->head = old->next;
                if (!p->head)
                        p->tail = NULL;
                p->count--;
                p->dropped++;
                log_error("pool %s event buffer overflowed, discarding event %llu", p->name,
                          (unsigned long long)old->serial);
                free(old);
        }
        if (at_head) {
                q->next = p->head;
                p->head = q;
                if (!p->tail)
                        p->tail = q;
        } else {
                q->next = NULL;
                if (p->tail)
                        p->tail->next = q;
                else
                        p->head = q;
                p->tail = q;
        }
        p->count++;
}

/* Give EVENT of TYPE to every pool that wants it. */
static void listeners_publish(enum listener_event type, const char *payload, size_t len) {
        bool numbered = false;
        uint64_t serial = 0;
        for (struct pool *p = pools; p; p = p->next) {
                if (!(p->events & LEV_MASK(type)))
                        continue;
                struct queued *q = malloc(sizeof *q + len + 1);
                if (!q) {
                        log_error("pool %s: out of memory, event %s lost", p->name, listener_event_name(type));
                        continue;
                }
                if (!numbered) {
                        serial = ++global_serial;
                        numbered = true;
                }
                *q = (struct queued){ .serial = serial, .pool_serial = ++p->serial, .type = type, .len = len };
                memcpy(q->payload, payload, len);
                q->payload[len] = '\0';
                pool_buffer(p, q, false);
                pool_dispatch(p);
        }
}

/* ---- one listener process ---- */

static void listener_stop_writing(struct listener *l) {
        l->write_source = sd_event_source_disable_unref(l->write_source);
        free(l->out);
        l->out = NULL;
        l->out_len = l->out_done = 0;
}

/* Give back the event L holds (rejected, or never answered). */
static void listener_give_back(struct listener *l) {
        struct queued *q = l->event;
        l->event = NULL;
        l->timeout = sd_event_source_disable_unref(l->timeout);
        if (!q)
                return;
        if (l->pool)
                pool_buffer(l->pool, q, true);
        else
                free(q);
}

static void listener_set_state(struct listener *l, enum listener_state state) {
        log_debug("%s: %s -> %s", service_name(l->service), listener_state_names[l->state], listener_state_names[state]);
        l->state = state;
        if (state == LISTENER_UNKNOWN)
                log_warning("%s: has entered the UNKNOWN state and will no longer receive events, this usually "
                            "indicates the process violated the eventlistener protocol",
                            service_name(l->service));
}

static int on_listener_writable(sd_event_source *source, int fd, uint32_t revents, void *userdata);

/* Write what is left of the envelope; 0 when all is out or waiting for room, <0 on error. */
static int listener_flush(struct listener *l) {
        while (l->out_done < l->out_len) {
                ssize_t n = write(l->stdin_fd, l->out + l->out_done, l->out_len - l->out_done);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                break;
                        return -errno;
                }
                l->out_done += (size_t)n;
        }
        if (l->out_done >= l->out_len) {
                listener_stop_writing(l);
                return 0;
        }
        if (!l->write_source)
                return sd_event_add_io(loop, &l->write_source, l->stdin_fd, EPOLLOUT, on_listener_writable, l) < 0 ? -ENOMEM : 0;
        return 0;
}

static int on_listener_writable(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        struct listener *l = userdata;
        (void)source;
        (void)fd;
        (void)revents;
        int r = listener_flush(l);
        if (r < 0) {
                log_debug("%s: cannot write its event: %s", service_name(l->service), strerror(-r));
                listener_stop_writing(l);
        }
        return 0;
}

static int on_result_timeout(sd_event_source *source, uint64_t usec, void *userdata) {
        struct listener *l = userdata;
        (void)source;
        (void)usec;
        char reason[160];
        snprintf(reason, sizeof reason, "no result for event %llu in %gs (result-timeout)",
                 l->event ? (unsigned long long)l->event->serial : 0ULL,
                 l->pool ? (double)l->pool->result_timeout / USEC_PER_SEC : 0.0);
        l->timeout = sd_event_source_disable_unref(l->timeout);
        listener_give_back(l);
        listener_set_state(l, LISTENER_UNKNOWN);
        service_fail_hung(l->service, reason);  /* frees nothing now: its exit frees L */
        return 0;
}

/* Hand Q to L: BUSY once the envelope is on its way.  False when L cannot take it. */
static bool listener_send(struct listener *l, struct queued *q) {
        char header[512];
        int n = listener_format_header(header, sizeof header, SERVER_ID, q->serial, l->pool->name, q->pool_serial, q->type,
                                       q->len);
        if (n < 0 || (size_t)n >= sizeof header)
                return false;
        char *out = malloc((size_t)n + q->len);
        if (!out)
                return false;
        memcpy(out, header, (size_t)n);
        memcpy(out + n, q->payload, q->len);
        l->out = out;
        l->out_len = (size_t)n + q->len;
        l->out_done = 0;
        int r = listener_flush(l);
        if (r < 0) {
                /* supervisord: an EPIPE leaves the listener's state as it was. */
                log_debug("epipe occurred while sending event %llu to listener %s, listener state unchanged",
                          (unsigned long long)q->serial, service_name(l->service));
                listener_stop_writing(l);
                return false;
        }
        l->event = q;
        listener_set_state(l, LISTENER_BUSY);
        log_debug("event %llu sent to listener %s", (unsigned long long)q->serial, service_name(l->service));
        if (l->pool->result_timeout > 0
            && sd_event_add_time_relative(loop, &l->timeout, CLOCK_MONOTONIC, l->pool->result_timeout, 0,
                                          on_result_timeout, l) < 0)
                log_warning("%s: cannot arm result-timeout, ignoring", service_name(l->service));
        return true;
}

static void pool_dispatch(struct pool *p) {
        if (!p || p->dispatching)
                return;
        p->dispatching = true;
        while (p->head) {
                struct listener *taker = NULL;
                for (struct listener *l = p->listeners; l && !taker; l = l->next)
                        if (l->state == LISTENER_READY && service_state(l->service) == STATE_RUNNING
                            && listener_send(l, p->head))
                                taker = l;
                if (!taker)
                        break;
                /* The head is now the taker's. */
                p->head = p->head->next;
                if (!p->head)
                        p->tail = NULL;
                p->count--;
                taker->event->next = NULL;
        }
        p->dispatching = false;
}

/* The listener's result (the default handler: "OK" is done, anything else rejected). */
static void listener_on_result(struct listener *l) {
        const char *name = service_name(l->service);
        bool ok = l->result_len == 2 && memcmp(l->result, "OK", 2) == 0;
        l->timeout = sd_event_source_disable_unref(l->timeout);
        l->has_result_len = false;
        if (ok) {
                l->taken++;
                log_debug("%s: event was processed", name);
                free(l->event);
                l->event = NULL;
        } else {
                l->rejected++;
                log_warning("%s: event was rejected", name);
                listener_give_back(l);
        }
        listener_set_state(l, LISTENER_ACKNOWLEDGED);
}

/* Act on what is in l->in, as far as it goes; returns bytes used. */
static size_t listener_parse(struct listener *l) {
        size_t used = 0, n;
        while (used < l->in_len) {
                const char *data = l->in + used;
                size_t size = l->in_len - used;
                switch (l->state) {
                case LISTENER_UNKNOWN:
                        return l->in_len;
                case LISTENER_ACKNOWLEDGED:
                        switch (listener_parse_ready(data, size, &n)) {
                        case LISTENER_PARSE_MORE:
                                return used;
                        case LISTENER_PARSE_DONE:
                                used += n;
                                listener_set_state(l, LISTENER_READY);
                                break;
                        case LISTENER_PARSE_BAD:
                                listener_set_state(l, LISTENER_UNKNOWN);
                                return l->in_len;
                        }
                        break;
                case LISTENER_READY:
                        /* Spurious output: supervisord is strict about it. */
                        listener_set_state(l, LISTENER_UNKNOWN);
                        return l->in_len;
                case LISTENER_BUSY:
                        if (!l->has_result_len) {
                                enum listener_parse r =
                                        listener_parse_result_line(data, size, RESULT_MAX, &l->result_len, &n);
                                if (r == LISTENER_PARSE_MORE)
                                        return used;
                                if (r == LISTENER_PARSE_BAD) {
                                        const char *nl = memchr(data, '\n', size);
                                        int len = nl ? (int)(nl - data) : (int)(size < 64 ? size : 64);
                                        log_warning("%s: bad result line: '%.*s'", service_name(l->service), len, data);
                                        listener_give_back(l);
                                        listener_set_state(l, LISTENER_UNKNOWN);
                                        return l->in_len;
                                }
                                used += n;
                                l->has_result_len = true;
                                l->result_got = 0;
                        }
                        size_t need = l->result_len - l->result_got;
                        size_t take = l->in_len - used < need ? l->in_len - used : need;
                        for (size_t i = 0; i < take; i++)
                                if (l->result_got + i < RESULT_KEPT)
                                        l->result[l->result_got + i] = l->in[used + i];
                        l->result_got += take;
                        used += take;
                        if (l->result_got < l->result_len)
                                return used;
                        listener_on_result(l);
                        break;
                }
        }
        return used;
}

static int on_listener_readable(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        struct listener *l = userdata;
        (void)revents;
        for (;;) {
                if (l->in_len == sizeof l->in) {
                        /* A full buffer no token fits in: nothing it says can be taken. */
                        listener_set_state(l, LISTENER_UNKNOWN);
                        l->in_len = 0;
                }
                ssize_t n = read(fd, l->in + l->in_len, sizeof l->in - l->in_len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        break;
                if (n <= 0) {
                        /* End of file: its process is ending; its exit frees us. */
                        l->read_source = sd_event_source_disable_unref(source);
                        break;
                }
                log_debug("'%s' stdout output:\n%.*s", service_name(l->service), (int)n, l->in + l->in_len);
                l->in_len += (size_t)n;
                size_t used = listener_parse(l);
                memmove(l->in, l->in + used, l->in_len - used);
                l->in_len -= used;
        }
        if (l->pool && l->state == LISTENER_READY)
                pool_dispatch(l->pool);
        return 0;
}

int listener_new(struct service *service, struct listener **ret, int *ret_stdin, int *ret_stdout) {
        const struct service_config *c = service_config(service);
        int in[2] = { -1, -1 }, out[2] = { -1, -1 }, r;
        struct pool *p = pool_get(c);
        if (!p)
                return -ENOMEM;
        struct listener *l = calloc(1, sizeof *l);
        if (!l)
                return -ENOMEM;
        if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0) {
                r = -errno;
                goto fail;
        }
        /* Ours non-blocking; the child's ends as a program expects them. */
        if (fcntl(in[1], F_SETFL, O_NONBLOCK) < 0 || fcntl(out[0], F_SETFL, O_NONBLOCK) < 0) {
                r = -errno;
                goto fail;
        }
        *l = (struct listener){ .pool = p, .service = service, .state = LISTENER_ACKNOWLEDGED, .stdin_fd = in[1],
                                .stdout_fd = out[0], .child_stdin = in[0], .child_stdout = out[1] };
        if ((r = sd_event_add_io(loop, &l->read_source, l->stdout_fd, EPOLLIN, on_listener_readable, l)) < 0)
                goto fail_listener;
        l->next = p->listeners;
        p->listeners = l;
        *ret_stdin = l->child_stdin;
        *ret_stdout = l->child_stdout;
        *ret = l;
        return 0;
fail:
        for (int i = 0; i < 2; i++) {
                if (in[i] >= 0)
                        close(in[i]);
                if (out[i] >= 0)
                        close(out[i]);
        }
        free(l);
        return r;
fail_listener:
        close(in[0]);
        close(in[1]);
        close(out[0]);
        close(out[1]);
        free(l);
        return r;
}

const char *listener_describe(struct listener *l) {
        if (!l)
                return NULL;
        snprintf(l->description, sizeof l->description,
                 "listener %s, events: %u buffered, %llu dropped, %llu taken, %llu rejected",
                 listener_state_names[l->state], l->pool ? l->pool->count : 0,
                 l->pool ? (unsigned long long)l->pool->dropped : 0ULL, (unsigned long long)l->taken,
                 (unsigned long long)l->rejected);
        return l->description;
}

void listener_spawned(struct listener *l) {
        if (!l)
                return;
        if (l->child_stdin >= 0)
                close(l->child_stdin);
        if (l->child_stdout >= 0)
                close(l->child_stdout);
        l->child_stdin = l->child_stdout = -1;
}

struct listener *listener_free(struct listener *l) {
        if (!l)
                return NULL;
        listener_spawned(l);
        struct pool *p = l->pool;
        if (p) {
                struct listener **link = &p->listeners;
                while (*link && *link != l)
                        link = &(*link)->next;
                if (*link)
                        *link = l->next;
        }
        listener_give_back(l);
        listener_stop_writing(l);
        l->read_source = sd_event_source_disable_unref(l->read_source);
        close(l->stdin_fd);
        close(l->stdout_fd);
        free(l);
        pool_dispatch(p);
        return NULL;
}

/* ---- REMOTE_COMMUNICATION ---- */

void listeners_remote_event(const char *type, const char *data, size_t len) {
        size_t type_len = strlen(type), size = type_len + len + 7;
        char *payload = malloc(size);
        if (!payload) {
                log_error("REMOTE_COMMUNICATION: out of memory, event lost");
                return;
        }
        memcpy(payload, "type:", 5);
        memcpy(payload + 5, type, type_len);
        payload[5 + type_len] = '\n';
        memcpy(payload + 6 + type_len, data, len);
        listeners_publish(LEV_REMOTE_COMMUNICATION, payload, 6 + type_len + len);
        free(payload);
}

/* ---- PROCESS_LOG_* and PROCESS_COMMUNICATION_*: a tap on a process's log pipe ---- */

/* One per process with log-events or capture-max-bytes, following its capture. */
struct log_tap {
        struct log_tap *next;
        struct service *service;        /* borrowed; the tap goes before it does */
        struct log_follower *follower;  /* owned, NULL once its capture ended */
        struct event_capture capture;   /* owned text */
        bool stderr_only;               /* the pipe carries stderr alone (stdout is not `log`) */
        bool log_events;
};

static struct log_tap *taps;            /* owned list */

static void tap_publish(struct log_tap *t, enum listener_event type, const char *data, size_t size, bool channel) {
        struct service_status st;
        service_get_status(t->service, &st);
        char head[512];
        int n = channel ? snprintf(head, sizeof head, "processname:%s groupname:%s pid:%d channel:%s\n", st.name,
                                   st.group, (int)st.pid, t->stderr_only ? "stderr" : "stdout")
                        : snprintf(head, sizeof head, "processname:%s groupname:%s pid:%d\n", st.name, st.group,
                                   (int)st.pid);
        if (n < 0 || (size_t)n >= sizeof head)
                return;
        char *payload = malloc((size_t)n + size);
        if (!payload) {
                log_error("%s: out of memory, %s event lost", st.name, listener_event_name(type));
                return;
        }
        memcpy(payload, head, (size_t)n);
        memcpy(payload + n, data, size);
        listeners_publish(type, payload, (size_t)n + size);
        free(payload);
}

static void on_captured(const char *text, size_t len, void *userdata) {
        struct log_tap *t = userdata;
        tap_publish(t, t->stderr_only ? LEV_PROCESS_COMMUNICATION_STDERR : LEV_PROCESS_COMMUNICATION_STDOUT, text, len,
                    false);
}

static void tap_free(struct log_tap *t) {
        log_follower_free(t->follower);
        event_capture_done(&t->capture);
        free(t);
}

static void tap_unlink(struct log_tap *t) {
        for (struct log_tap **link = &taps; *link; link = &(*link)->next)
                if (*link == t) {
                        *link = t->next;
                        return;
                }
}

/* A chunk of the pipe, as logfile.c reads it; NULL: the capture ended (the follower is
 * freed already). */
static void on_log_data(const char *data, size_t size, void *userdata) {
        struct log_tap *t = userdata;
        if (!data) {
                t->follower = NULL;
                return;
        }
        if (t->log_events && pools)
                tap_publish(t, t->stderr_only ? LEV_PROCESS_LOG_STDERR : LEV_PROCESS_LOG_STDOUT, data, size, true);
        if (t->capture.max > 0 && event_capture_feed(&t->capture, data, size, on_captured, t) < 0)
                log_warning("%s: out of memory for its PROCESS_COMMUNICATION text, ignoring it",
                            service_name(t->service));
}

static struct log_tap *tap_find(const struct service *s) {
        for (struct log_tap *t = taps; t; t = t->next)
                if (t->service == s)
                        return t;
        return NULL;
}

/* At each spawn: a tap as its (perhaps reloaded) config asks for one. */
static void tap_update(struct service *s) {
        const struct service_config *c = service_config(s);
        struct log_tap *t = tap_find(s);
        bool wanted = c->log_events || c->capture_max_bytes > 0;
        if (t && (!wanted || !t->follower || t->capture.max != c->capture_max_bytes)) {
                tap_unlink(t);
                tap_free(t);
                t = NULL;
        }
        if (!wanted)
                return;
        if (!t) {
                t = calloc(1, sizeof *t);
                /* Whatever goes through the capture's pipe: stdout's, else stderr's. */
                int fd = c->stdout_target == OUTPUT_LOG ? STDOUT_FILENO : STDERR_FILENO;
                int r = t ? log_capture_follow(service_log_capture(s), c, fd, on_log_data, t, &t->follower) : -ENOMEM;
                if (r < 0) {
                        /* Nothing goes through supervisord to follow (null, journal). */
                        if (r != -ENOENT)
                                log_warning("%s: cannot follow its output for events, ignoring", service_name(s));
                        free(t);
                        return;
                }
                t->service = s;
                event_capture_init(&t->capture, c->capture_max_bytes);
                t->next = taps;
                taps = t;
        }
        t->log_events = c->log_events;
        t->stderr_only = c->stdout_target != OUTPUT_LOG;
}

static void tap_remove(const struct service *s) {
        struct log_tap *t = tap_find(s);
        if (t) {
                tap_unlink(t);
                tap_free(t);
        }
}

/* ---- what the bus says, as supervisord's events ---- */

static void publish_state(enum listener_event type, const struct service_status *st, int from, int pid,
                          bool expected) {
        char payload[PAYLOAD_MAX];
        const struct listener_process_info info = {
                .name = st->name, .group = st->group, .from_state = from, .tries = st->failures, .pid = pid,
                .expected = expected,
        };
        int n = listener_format_process_state(payload, sizeof payload, type, &info);
        if (n < 0)
                return;
        listeners_publish(type, payload, (size_t)n < sizeof payload ? (size_t)n : sizeof payload - 1);
}

static void on_service_state(const struct event *e) {
        if (e->cause == EVENT_CAUSE_SPAWNED || (e->cause == EVENT_CAUSE_EXITED && e->to == STATE_STARTING)
            || (e->to == STATE_RUNNING && e->from != STATE_STARTING))
                tap_update(e->service);
        struct service_status st;
        service_get_status(e->service, &st);
        int from = e->from, to = e->to;
        if (from == to)
                return;
        int exited_pid = e->has_wait_status ? e->exited_pid : e->pid;
        if (from == STATE_RUNNING && e->cause == EVENT_CAUSE_EXITED && to != STATE_EXITED) {
                /* Restarted at once: supervisord says EXITED first. */
                bool expected = e->has_wait_status && WIFEXITED(e->wait_status)
                                && service_config_is_success(service_config(e->service), WEXITSTATUS(e->wait_status));
                publish_state(LEV_PROCESS_STATE_EXITED, &st, from, exited_pid, expected);
                from = STATE_EXITED;
        }
        if (to == STATE_FATAL && from == STATE_STARTING) {
                /* We give up at the failed start; supervisord backs off, then gives up. */
                publish_state(LEV_PROCESS_STATE_BACKOFF, &st, from, 0, false);
                from = STATE_BACKOFF;
        }
        enum listener_event type = listener_event_of_state(to);
        int pid = e->pid;
        bool expected = false;
        if (to == STATE_EXITED) {
                pid = exited_pid;
                expected = e->has_wait_status && WIFEXITED(e->wait_status)
                           && service_config_is_success(service_config(e->service), WEXITSTATUS(e->wait_status));
        } else if (to == STATE_STOPPED)
                pid = exited_pid;
        publish_state(type, &st, from, pid, expected);
        if (to == STATE_RUNNING && e->cause == EVENT_CAUSE_READY)
                publish_state(LEV_PROCESS_READY, &st, from, pid, false);
        if (e->cause == EVENT_CAUSE_HEARTBEAT_MISSED && to == STATE_STOPPING)
                publish_state(LEV_PROCESS_HEARTBEAT_MISSED, &st, from, pid, false);
        /* A listener of its own pool that became RUNNING may take what waits. */
        if (to == STATE_RUNNING && service_config(e->service)->events)
                pool_dispatch(pool_find(st.group));
}

static void on_group(const struct event *e) {
        char payload[256];
        int n = snprintf(payload, sizeof payload, "groupname:%s\n", e->group);
        if (e->type == EVENT_GROUP_ADDED) {
                struct service *s;
                if (services_match(e->group, &s, 1) > 0 && service_config(s)->events)
                        (void)pool_get(service_config(s));
        }
        listeners_publish(e->type == EVENT_GROUP_ADDED ? LEV_PROCESS_GROUP_ADDED : LEV_PROCESS_GROUP_REMOVED, payload,
                          (size_t)n < sizeof payload ? (size_t)n : sizeof payload - 1);
        if (e->type == EVENT_GROUP_REMOVED) {
                struct pool **link = &pools;
                while (*link && strcmp((*link)->name, e->group) != 0)
                        link = &(*link)->next;
                if (*link) {
                        struct pool *p = *link;
                        *link = p->next;
                        pool_free(p);
                        ticks_update();
                }
        }
}

static void on_bus_event(const struct event *e, void *userdata) {
        (void)userdata;
        switch (e->type) {
        case EVENT_SERVICE_STATE:
                on_service_state(e);
                break;
        case EVENT_SERVICE_REMOVED:
                tap_remove(e->service);
                break;
        case EVENT_GROUP_ADDED:
        case EVENT_GROUP_REMOVED:
                on_group(e);
                break;
        case EVENT_SUPERVISOR_RUNNING:
                /* Once: a reload (update) is not a restart of supervisord. */
                if (!seen_running) {
                        seen_running = true;
                        listeners_publish(LEV_SUPERVISOR_STATE_CHANGE_RUNNING, "", 0);
                }
                break;
        case EVENT_SUPERVISOR_STOPPING:
                listeners_publish(LEV_SUPERVISOR_STATE_CHANGE_STOPPING, "", 0);
                break;
        default:
                break;
        }
}

/* ---- ticks: one timer, on the wall clock's multiples of 5 s ---- */

static int on_tick(sd_event_source *source, uint64_t usec, void *userdata);

static void tick_arm(void) {
        usec_t now = now_realtime();
        usec_t next = (now / (5 * USEC_PER_SEC) + 1) * 5 * USEC_PER_SEC;
        if (!tick_source) {
                if (sd_event_add_time(loop, &tick_source, CLOCK_REALTIME, next, USEC_PER_SEC / 10, on_tick, NULL) < 0)
                        log_warning("cannot arm the TICK timer, ignoring");
                return;
        }
        (void)sd_event_source_set_time(tick_source, next);
        (void)sd_event_source_set_enabled(tick_source, SD_EVENT_ONESHOT);
}

static int on_tick(sd_event_source *source, uint64_t usec, void *userdata) {
        (void)source;
        (void)userdata;
        (void)usec;
        usec_t now = now_realtime() / USEC_PER_SEC;
        for (size_t i = 0; i < ELEMENTSOF(tick_periods); i++) {
                usec_t slice = now - now % tick_periods[i];
                if (last_tick[i] == 0)
                        last_tick[i] = slice;
                if (slice != last_tick[i]) {
                        last_tick[i] = slice;
                        char payload[64];
                        int n = snprintf(payload, sizeof payload, "when:%llu", (unsigned long long)slice);
                        listeners_publish(LEV_TICK_5 + (enum listener_event)i, payload, (size_t)n);
                }
        }
        tick_arm();
        return 0;
}

static void ticks_update(void) {
        bool wanted = false;
        for (struct pool *p = pools; p; p = p->next)
                if (p->events & (LEV_MASK(LEV_TICK_5) | LEV_MASK(LEV_TICK_60) | LEV_MASK(LEV_TICK_3600)))
                        wanted = true;
        if (wanted && !tick_source) {
                /* As supervisord: the period under way when ticks begin is not announced. */
                usec_t now = now_realtime() / USEC_PER_SEC;
                for (size_t i = 0; i < ELEMENTSOF(tick_periods); i++)
                        last_tick[i] = now - now % tick_periods[i];
                tick_arm();
        } else if (!wanted && tick_source)
                tick_source = sd_event_source_disable_unref(tick_source);
}

int listeners_init(sd_event *event, struct event_bus *bus) {
        loop = event;
        return event_bus_subscribe(bus,
                                   EVENT_MASK(EVENT_SERVICE_STATE) | EVENT_MASK(EVENT_SERVICE_REMOVED)
                                           | EVENT_MASK(EVENT_GROUP_ADDED)
                                           | EVENT_MASK(EVENT_GROUP_REMOVED) | EVENT_MASK(EVENT_SUPERVISOR_RUNNING)
                                           | EVENT_MASK(EVENT_SUPERVISOR_STOPPING),
                                   on_bus_event, NULL, &subscription);
}

void listeners_free(void) {
        subscription = event_unsubscribe(subscription);
        while (taps) {
                struct log_tap *t = taps;
                taps = t->next;
                tap_free(t);
        }
        tick_source = sd_event_source_disable_unref(tick_source);
        while (pools) {
                struct pool *p = pools;
                pools = p->next;
                pool_free(p);
        }
        global_serial = UINT64_MAX;
        seen_running = false;
}
