/* eventtype.h — supervisord's event listener types: their names, their hierarchy and the
 * text a listener reads (the 3.0 envelope and each type's payload).
 *
 * Pure functions, shared by the config reader (the `events` key) and the listener pools
 * (listener.c).  A concrete type is one bit of a mask; an abstract name (EVENT,
 * PROCESS_STATE, TICK, ...) stands for the bits of every type beneath it, as a Python
 * class stands for its subclasses in supervisord's events.py. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum listener_event {
        LEV_PROCESS_STATE_STOPPED,
        LEV_PROCESS_STATE_STARTING,
        LEV_PROCESS_STATE_RUNNING,
        LEV_PROCESS_STATE_BACKOFF,
        LEV_PROCESS_STATE_STOPPING,
        LEV_PROCESS_STATE_EXITED,
        LEV_PROCESS_STATE_FATAL,
        LEV_PROCESS_STATE_UNKNOWN,
        LEV_PROCESS_GROUP_ADDED,
        LEV_PROCESS_GROUP_REMOVED,
        LEV_SUPERVISOR_STATE_CHANGE_RUNNING,
        LEV_SUPERVISOR_STATE_CHANGE_STOPPING,
        LEV_TICK_5,
        LEV_TICK_60,
        LEV_TICK_3600,
        LEV_PROCESS_LOG_STDOUT,
        LEV_PROCESS_LOG_STDERR,
        LEV_PROCESS_COMMUNICATION_STDOUT,
        LEV_PROCESS_COMMUNICATION_STDERR,
        LEV_REMOTE_COMMUNICATION,
        LEV_PROCESS_HEARTBEAT_MISSED,  /* ours: a service declared hung */
        LEV_PROCESS_READY,             /* ours: type = notify sent READY=1 */
        LEV_MAX,
};

#define LEV_MASK(type) (UINT32_C(1) << (type))

/* "PROCESS_STATE_RUNNING", ...; NULL out of range. */
const char *listener_event_name(enum listener_event type);
/* The mask NAME stands for: a concrete type's bit, or an abstract type's every bit below
 * it ("EVENT": all).  0 for an unknown name. */
uint32_t listener_event_parse(const char *name);

/* The supervisord process state of ours (enum service_state), as events name it:
 * "STOPPED", "STARTING", ...; "UNKNOWN" out of range. */
const char *listener_state_name(int service_state);
/* The PROCESS_STATE_* type of a transition into service state TO. */
enum listener_event listener_event_of_state(int to);

/* ---- the text ---- */

struct listener_process_info {
        const char *name, *group;
        int from_state;          /* enum service_state */
        unsigned tries;          /* consecutive failed starts so far */
        int pid;
        bool expected;           /* EXITED: the exit code is a success exit code */
};

/* The payload of a PROCESS_STATE_* event (TYPE) into buf; returns its length, as
 * snprintf (buf holds a prefix when it is too small). */
int listener_format_process_state(char *buf, size_t size, enum listener_event type,
                                  const struct listener_process_info *info);
/* The envelope's header line, "ver:3.0 server:ID serial:N pool:NAME poolserial:N
 * eventname:X len:N\n"; as snprintf. */
int listener_format_header(char *buf, size_t size, const char *server, uint64_t serial, const char *pool,
                           uint64_t pool_serial, enum listener_event type, size_t payload_len);

/* ---- PROCESS_COMMUNICATION: the text a process writes between the tokens ---- */

#define EVENT_CAPTURE_BEGIN "<!--XSUPERVISOR:BEGIN-->"
#define EVENT_CAPTURE_END "<!--XSUPERVISOR:END-->"

/* A filter on a process's output: fed every chunk, it calls DONE with the text between
 * each BEGIN and END token (the last MAX bytes of it, when there was more). */
typedef void (*event_capture_fn)(const char *text, size_t len, void *userdata);

struct event_capture {
        size_t max;            /* capture-max-bytes */
        bool capturing;        /* a BEGIN was seen, its END not yet */
        size_t matched;        /* bytes of the token being looked for matched so far */
        char *text;            /* owned: the text so far, at most 2 * max + 32 (then trimmed) */
        size_t len;
        bool truncated;
};

void event_capture_init(struct event_capture *c, size_t max);
void event_capture_done(struct event_capture *c);
/* -ENOMEM when the text cannot be kept (the message is then dropped). */
int event_capture_feed(struct event_capture *c, const char *data, size_t size, event_capture_fn done, void *userdata);

/* ---- what a listener writes ---- */

enum listener_parse {
        LISTENER_PARSE_MORE,    /* not enough bytes yet */
        LISTENER_PARSE_DONE,    /* a whole token: *ret_used bytes */
        LISTENER_PARSE_BAD,     /* a protocol violation */
};

/* In state ACKNOWLEDGED: is DATA "READY\n"? */
enum listener_parse listener_parse_ready(const char *data, size_t size, size_t *ret_used);
/* In state BUSY: the line "RESULT N\n"; *ret_len is N (at most max_len). */
enum listener_parse listener_parse_result_line(const char *data, size_t size, size_t max_len, size_t *ret_len,
                                               size_t *ret_used);
