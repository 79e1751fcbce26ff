/* protocol.h — the control protocol spoken over the unix socket, shared by supervisord
 * and supervisorctl so that both sides agree on every word.
 *
 * One request per connection: a single line "VERB [ARG ...]\n" of at most
 * PROTOCOL_MAX_REQUEST bytes.  The answer is zero or more records, one line each with
 * tab-separated fields, then one final line, "OK" or "ERROR\t<code>\t<message>", after which
 * the server closes the connection.  <code> is the exit status supervisorctl should use.
 * Only DATA records (tail, readlog, readproclog) carry raw bytes: exactly <size> of them
 * follow their line, and `tail NAME LINES follow`, `readlog OFFSET follow` and
 * `readproclog NAME STREAM OFFSET follow` keep the connection open for more DATA until it
 * ends. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define PROTOCOL_MAX_REQUEST 4096
#define PROTOCOL_MAX_ARGS (PROTOCOL_MAX_REQUEST / 2)
#define PROTOCOL_MAX_TAIL_LINES 1000000

/* supervisorctl exit statuses, also the codes of ERROR lines. */
enum {
        EXIT_OK = 0,
        EXIT_FAILED = 1,
        EXIT_USAGE = 2,
        EXIT_NOT_RUNNING = 3,
        EXIT_NO_SUCH_SERVICE = 4,
        EXIT_UNREACHABLE = 7,
};

enum verb {
        VERB_STATUS,
        VERB_START,
        VERB_STOP,
        VERB_RESTART,
        VERB_SIGNAL,
        VERB_PID,
        VERB_VERSION,
        VERB_SHUTDOWN,
        VERB_RELOAD,     /* supervisord's: stop everything, re-read the config, start anew */
        VERB_TAIL,
        VERB_REMOTE_EVENT,  /* "remote-event TYPE [DATA]": REMOTE_COMMUNICATION to event listeners */
        VERB_CLEAR,      /* empty processes' log files: NAME... | all */
        VERB_READLOG,    /* the main log by byte offset: OFFSET [LENGTH] */
        VERB_CLEARLOG,   /* empty the main log */
        VERB_UPDATE,     /* re-read the config and apply the difference */
        VERB_ADD,        /* groups of the config not running yet */
        VERB_REMOVE,     /* stopped groups, out of the table */
        VERB_REREAD,     /* what update would do, changing nothing */
        VERB_READPROCLOG,  /* a process's log by byte offset: NAME stdout|stderr OFFSET [LENGTH] */
};

struct request {
        enum verb verb;
        int signal;              /* VERB_SIGNAL */
        bool all;                /* "all" was given instead of names */
        unsigned lines;          /* VERB_TAIL: how many lines (its one name is names[0]) */
        bool follow;             /* VERB_TAIL, VERB_READLOG, VERB_READPROCLOG: then stream what is written */
        int stream;              /* VERB_READPROCLOG: STDOUT_FILENO or STDERR_FILENO */
        char *event_type;        /* VERB_REMOTE_EVENT: decoded in place, in the line */
        char *event_data;        /* ... its DATA, decoded (may hold newlines; "" when absent) */
        size_t event_data_len;
        long long offset;        /* VERB_READLOG, VERB_READPROCLOG: from here; negative: the last -OFFSET bytes */
        unsigned long length;    /* ... this many bytes; 0: to the end */
        unsigned n_names;
        char *names[PROTOCOL_MAX_ARGS];  /* point into the parsed line */
};

const char *verb_to_string(enum verb verb);
/* -EINVAL for an unknown verb. */
int verb_from_string(const char *text, enum verb *ret);

/* Where the request line in BUF[0, len) (bytes received so far, len <= PROTOCOL_MAX_REQUEST)
 * ends.  1: *ret_line is BUF with the line's end ("\n" or "\r\n") replaced by a NUL;
 * 0: no newline yet, more may come (or at EOF, the request was cut off); -EINVAL: the line
 * holds a NUL byte, or there is no newline in PROTOCOL_MAX_REQUEST bytes, with *ret_error
 * set to a static description. */
int protocol_take_line(char *buf, size_t len, char **ret_line, const char **ret_error);

/* Percent-decoding as remote-event's TYPE and DATA use it: every byte may be written
 * %XX (hex), and a space, a tab, a control byte or '%' must be; TEXT is decoded in place
 * and NUL-terminated.  -EINVAL for a bad escape or %00. */
int protocol_percent_decode(char *text, size_t *ret_len);

/* Parse LINE (without its newline) in place.  On error returns -EINVAL and sets *ret_error
 * to a static description. */
int protocol_parse_request(char *line, struct request *ret, const char **ret_error);

/* Split a response line in place at tabs; returns the number of fields (at most max). */
unsigned protocol_split_fields(char *line, char **fields, unsigned max);

/* Copy SRC into DST replacing tabs, newlines, other control bytes and malformed UTF-8
 * with spaces (printable.h, the filter `tail` uses on a terminal), so a free-text
 * message always stays one field of one line and is safe to print. */
void protocol_sanitize(char *dst, size_t size, const char *src);

/* Record names and the final lines. */
#define RECORD_STATUS  "STATUS"   /* name state pid uptime_seconds last_exit restarts message
                                   * heartbeat_rtt_usec ("-": none) stopped_at (STOPPED: when,
                                   * seconds since the epoch; "-": not STOPPED, or never started)
                                   * memory_bytes cpu_usec (from the cgroup; "-": none)
                                   * group start_epoch stop_epoch (0: never) spawn_error
                                   * stdout_log stderr_log ("-": none) */
#define RECORD_RESULT  "RESULT"   /* name ok|error message code (the engine's code name,
                                   * engine_code_to_string: "already", ...) */
#define RECORD_PID     "PID"      /* pid */
#define RECORD_VERSION "VERSION"  /* version */
#define RECORD_ADDED   "ADDED"    /* service name (update) */
#define RECORD_CHANGED "CHANGED"  /* service name (update) */
#define RECORD_REMOVED "REMOVED"  /* service name (update, reread) */
#define RECORD_DATA    "DATA"     /* size, then exactly size raw bytes (tail) */
#define RECORD_LOGSIZE "LOGSIZE"  /* the log file's size now (readlog, readproclog): where to ask again to follow it */
#define RECORD_NOTICE  "NOTICE"   /* free text worth showing (reload: settings needing a restart) */
#define FINAL_OK       "OK"
#define FINAL_ERROR    "ERROR"    /* code message */
