/* eventtype.c — see eventtype.h.  The names and the payload fields are supervisord
 * 4.2.5's (events.py), which its listeners (superlance, childutils users) parse. */
#include "eventtype.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

static const char *const names[] = {
        [LEV_PROCESS_STATE_STOPPED] = "PROCESS_STATE_STOPPED",
        [LEV_PROCESS_STATE_STARTING] = "PROCESS_STATE_STARTING",
        [LEV_PROCESS_STATE_RUNNING] = "PROCESS_STATE_RUNNING",
        [LEV_PROCESS_STATE_BACKOFF] = "PROCESS_STATE_BACKOFF",
        [LEV_PROCESS_STATE_STOPPING] = "PROCESS_STATE_STOPPING",
        [LEV_PROCESS_STATE_EXITED] = "PROCESS_STATE_EXITED",
        [LEV_PROCESS_STATE_FATAL] = "PROCESS_STATE_FATAL",
        [LEV_PROCESS_STATE_UNKNOWN] = "PROCESS_STATE_UNKNOWN",
        [LEV_PROCESS_GROUP_ADDED] = "PROCESS_GROUP_ADDED",
        [LEV_PROCESS_GROUP_REMOVED] = "PROCESS_GROUP_REMOVED",
        [LEV_SUPERVISOR_STATE_CHANGE_RUNNING] = "SUPERVISOR_STATE_CHANGE_RUNNING",
        [LEV_SUPERVISOR_STATE_CHANGE_STOPPING] = "SUPERVISOR_STATE_CHANGE_STOPPING",
        [LEV_TICK_5] = "TICK_5",
        [LEV_TICK_60] = "TICK_60",
        [LEV_TICK_3600] = "TICK_3600",
        [LEV_PROCESS_LOG_STDOUT] = "PROCESS_LOG_STDOUT",
        [LEV_PROCESS_LOG_STDERR] = "PROCESS_LOG_STDERR",
        [LEV_PROCESS_COMMUNICATION_STDOUT] = "PROCESS_COMMUNICATION_STDOUT",
        [LEV_PROCESS_COMMUNICATION_STDERR] = "PROCESS_COMMUNICATION_STDERR",
        [LEV_REMOTE_COMMUNICATION] = "REMOTE_COMMUNICATION",
        [LEV_PROCESS_HEARTBEAT_MISSED] = "PROCESS_HEARTBEAT_MISSED",
        [LEV_PROCESS_READY] = "PROCESS_READY",
};

#define RANGE(first, last) (((LEV_MASK(last) << 1) - 1) & ~(LEV_MASK(first) - 1))

/* The abstract types, each the set of the concrete ones beneath it. */
static const struct {
        const char *name;
        uint32_t mask;
} abstract[] = {
        { "EVENT", (UINT32_C(1) << LEV_MAX) - 1 },
        { "PROCESS_STATE", RANGE(LEV_PROCESS_STATE_STOPPED, LEV_PROCESS_STATE_UNKNOWN) },
        { "PROCESS_GROUP", RANGE(LEV_PROCESS_GROUP_ADDED, LEV_PROCESS_GROUP_REMOVED) },
        { "SUPERVISOR_STATE_CHANGE", RANGE(LEV_SUPERVISOR_STATE_CHANGE_RUNNING, LEV_SUPERVISOR_STATE_CHANGE_STOPPING) },
        { "TICK", RANGE(LEV_TICK_5, LEV_TICK_3600) },
        { "PROCESS_LOG", RANGE(LEV_PROCESS_LOG_STDOUT, LEV_PROCESS_LOG_STDERR) },
        { "PROCESS_COMMUNICATION", RANGE(LEV_PROCESS_COMMUNICATION_STDOUT, LEV_PROCESS_COMMUNICATION_STDERR) },
};

const char *listener_event_name(enum listener_event type) {
        return (unsigned)type < ELEMENTSOF(names) ? names[type] : NULL;
}

uint32_t listener_event_parse(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(abstract); i++)
                if (strcmp(name, abstract[i].name) == 0)
                        return abstract[i].mask;
        for (unsigned i = 0; i < LEV_MAX; i++)
                if (strcmp(name, names[i]) == 0)
                        return LEV_MASK(i);
        return 0;
}

/* In the order of enum service_state (service.h). */
static const char *const state_names[] = { "STOPPED", "STARTING", "RUNNING", "BACKOFF", "STOPPING", "EXITED", "FATAL" };

const char *listener_state_name(int state) {
        return state >= 0 && (size_t)state < ELEMENTSOF(state_names) ? state_names[state] : "UNKNOWN";
}

enum listener_event listener_event_of_state(int to) {
        static const enum listener_event map[] = {
                LEV_PROCESS_STATE_STOPPED, LEV_PROCESS_STATE_STARTING, LEV_PROCESS_STATE_RUNNING,
                LEV_PROCESS_STATE_BACKOFF, LEV_PROCESS_STATE_STOPPING, LEV_PROCESS_STATE_EXITED,
                LEV_PROCESS_STATE_FATAL,
        };
        return to >= 0 && (size_t)to < ELEMENTSOF(map) ? map[to] : LEV_PROCESS_STATE_UNKNOWN;
}

int listener_format_process_state(char *buf, size_t size, enum listener_event type,
                                  const struct listener_process_info *info) {
        int n = snprintf(buf, size, "processname:%s groupname:%s from_state:%s", info->name, info->group,
                         listener_state_name(info->from_state));
        if (n < 0)
                return n;
        size_t at = (size_t)n < size ? (size_t)n : size;
        int m = 0;
        switch (type) {
        case LEV_PROCESS_STATE_STARTING:
        case LEV_PROCESS_STATE_BACKOFF:
                m = snprintf(buf + at, size - at, " tries:%u", info->tries);
                break;
        case LEV_PROCESS_STATE_EXITED:
                m = snprintf(buf + at, size - at, " expected:%d pid:%d", info->expected ? 1 : 0, info->pid);
                break;
        case LEV_PROCESS_STATE_RUNNING:
        case LEV_PROCESS_STATE_STOPPING:
        case LEV_PROCESS_STATE_STOPPED:
        case LEV_PROCESS_READY:
        case LEV_PROCESS_HEARTBEAT_MISSED:
                m = snprintf(buf + at, size - at, " pid:%d", info->pid);
                break;
        default:
                break;
        }
        return m < 0 ? m : n + m;
}

int listener_format_header(char *buf, size_t size, const char *server, uint64_t serial, const char *pool,
                           uint64_t pool_serial, enum listener_event type, size_t payload_len) {
        const char *name = listener_event_name(type);
        return snprintf(buf, size, "ver:3.0 server:%s serial:%" PRIu64 " pool:%s poolserial:%" PRIu64
                        " eventname:%s len:%zu\n", server, serial, pool, pool_serial, name ? name : "EVENT",
                        payload_len);
}

void event_capture_init(struct event_capture *c, size_t max) { *c = (struct event_capture){ .max = max }; }

void event_capture_done(struct event_capture *c) {
        free(c->text);
        c->text = NULL;
        c->len = 0;
}

/* Keep BYTE of the captured text: the last max bytes are kept, with room for as many
 * again so that trimming is rare. */
static int capture_keep(struct event_capture *c, char byte) {
        /* The slack holds the END token whole, whatever max is. */
        size_t keep = c->max + 32, capacity = keep + c->max;
        if (!c->text && !(c->text = malloc(capacity)))
                return -ENOMEM;
        if (c->len == capacity) {
                memmove(c->text, c->text + (capacity - keep), keep);
                c->len = keep;
                c->truncated = true;
        }
        c->text[c->len++] = byte;
        return 0;
}

int event_capture_feed(struct event_capture *c, const char *data, size_t size, event_capture_fn done, void *userdata) {
        int r = 0;
        for (size_t i = 0; i < size; i++) {
                const char *token = c->capturing ? EVENT_CAPTURE_END : EVENT_CAPTURE_BEGIN;
                size_t token_len = strlen(token);
                if (c->capturing && r == 0 && capture_keep(c, data[i]) < 0)
                        r = -ENOMEM;
                /* The tokens have one '<', at their start: a mismatch can only restart
                 * a match at this byte. */
                if (data[i] != token[c->matched])
                        c->matched = data[i] == token[0] ? 1 : 0;
                else
                        c->matched++;
                if (c->matched < token_len)
                        continue;
                c->matched = 0;
                if (!c->capturing) {
                        c->capturing = true;
                        c->len = 0;
                        c->truncated = false;
                        r = 0;
                        continue;
                }
                c->capturing = false;
                /* The END token went into the text too: cut it off. */
                size_t len = c->len >= token_len ? c->len - token_len : 0;
                if (len > c->max) {
                        memmove(c->text, c->text + (len - c->max), c->max);
                        len = c->max;
                }
                if (r == 0)
                        done(c->text ? c->text : "", len, userdata);
                c->len = 0;
                r = 0;
        }
        return r;
}

#define READY_TOKEN "READY\n"
#define RESULT_TOKEN "RESULT "

enum listener_parse listener_parse_ready(const char *data, size_t size, size_t *ret_used) {
        size_t len = sizeof READY_TOKEN - 1;
        /* As supervisord: undecided until there are as many bytes as the token. */
        if (size < len)
                return LISTENER_PARSE_MORE;
        if (memcmp(data, READY_TOKEN, len) != 0)
                return LISTENER_PARSE_BAD;
        *ret_used = len;
        return LISTENER_PARSE_DONE;
}

enum listener_parse listener_parse_result_line(const char *data, size_t size, size_t max_len, size_t *ret_len,
                                               size_t *ret_used) {
        const char *nl = memchr(data, '\n', size);
        if (!nl)
                /* A line longer than any "RESULT N" will never be one. */
                return size > 64 ? LISTENER_PARSE_BAD : LISTENER_PARSE_MORE;
        size_t line = (size_t)(nl - data), prefix = sizeof RESULT_TOKEN - 1;
        if (line <= prefix || memcmp(data, RESULT_TOKEN, prefix) != 0)
                return LISTENER_PARSE_BAD;
        size_t n = 0;
        for (size_t i = prefix; i < line; i++) {
                if (data[i] < '0' || data[i] > '9' || n > max_len)
                        return LISTENER_PARSE_BAD;
                n = n * 10 + (size_t)(data[i] - '0');
        }
        if (n > max_len)
                return LISTENER_PARSE_BAD;
        *ret_len = n;
        *ret_used = line + 1;
        return LISTENER_PARSE_DONE;
}
