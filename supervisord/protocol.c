/* protocol.c — see protocol.h. */
#include "protocol.h"

#include "names.h"

#include <errno.h>
#include <string.h>

#include "names.h"
#include "printable.h"
#include "util.h"

static const char *const verb_names[] = {
        [VERB_STATUS] = "status",   [VERB_START] = "start",     [VERB_STOP] = "stop",
        [VERB_RESTART] = "restart", [VERB_SIGNAL] = "signal",   [VERB_PID] = "pid",
        [VERB_VERSION] = "version", [VERB_SHUTDOWN] = "shutdown",
        [VERB_RELOAD] = "reload",   [VERB_TAIL] = "tail",       [VERB_REMOTE_EVENT] = "remote-event",
        [VERB_CLEAR] = "clear",     [VERB_READLOG] = "readlog", [VERB_CLEARLOG] = "clearlog",
        [VERB_UPDATE] = "update",   [VERB_ADD] = "add",         [VERB_REMOVE] = "remove",
        [VERB_REREAD] = "reread",   [VERB_READPROCLOG] = "readproclog", [VERB_AVAIL] = "avail",
        [VERB_STDIN] = "stdin",
};

const char *verb_to_string(enum verb verb) {
        return (unsigned)verb < ELEMENTSOF(verb_names) ? verb_names[verb] : "?";
}

int verb_from_string(const char *text, enum verb *ret) {
        for (size_t i = 0; i < ELEMENTSOF(verb_names); i++)
                if (strcmp(text, verb_names[i]) == 0) {
                        *ret = (enum verb)i;
                        return 0;
                }
        return -EINVAL;
}

static int fail(const char **ret_error, const char *message) {
        *ret_error = message;
        return -EINVAL;
}

/* tail NAME LINES [follow]: one process, so no "all". */
static int parse_tail(char **words, unsigned n, struct request *ret, const char **ret_error) {
        long lines;
        if (n < 3 || n > 4)
                return fail(ret_error, "tail: expected NAME LINES [follow]");
        if (!name_spec_is_valid(words[1]) || strcmp(words[1], "all") == 0)
                return fail(ret_error, "invalid service name");
        if (parse_long(words[2], 0, PROTOCOL_MAX_TAIL_LINES, &lines) < 0)
                return fail(ret_error, "tail: LINES is not an integer from 0 to 1000000");
        if (n == 4 && strcmp(words[3], "follow") != 0)
                return fail(ret_error, "tail: only 'follow' may come after LINES");
        ret->names[ret->n_names++] = words[1];
        ret->lines = (unsigned)lines;
        ret->follow = n == 4;
        return 0;
}

/* "OFFSET [LENGTH]" or "OFFSET follow" of readlog and readproclog, as supervisord's
 * readLog(offset, length); follow streams what is written after the bytes read. */
static int parse_offset(char **words, unsigned n, struct request *ret, const char **ret_error) {
        long offset, length = 0;
        if (n < 1 || n > 2)
                return fail(ret_error, "expected OFFSET [LENGTH] or OFFSET follow");
        if (parse_long(words[0], -PROTOCOL_MAX_LOG_OFFSET, PROTOCOL_MAX_LOG_OFFSET, &offset) < 0)
                return fail(ret_error, "OFFSET is not an integer");
        if (n == 2 && strcmp(words[1], "follow") == 0)
                ret->follow = true;
        else if (n == 2 && parse_long(words[1], 0, PROTOCOL_MAX_LOG_OFFSET, &length) < 0)
                return fail(ret_error, "LENGTH is not an integer of 0 or more");
        if (offset < 0 && length > 0)
                return fail(ret_error, "a negative OFFSET takes no LENGTH");
        ret->offset = offset;
        ret->length = (unsigned long)length;
        return 0;
}

/* "readlog OFFSET [LENGTH]", "readlog OFFSET follow". */
static int parse_readlog(char **words, unsigned n, struct request *ret, const char **ret_error) {
        return parse_offset(words + 1, n - 1, ret, ret_error);
}

/* "readproclog NAME stdout|stderr OFFSET [LENGTH]", "... OFFSET follow": one process. */
static int parse_readproclog(char **words, unsigned n, struct request *ret, const char **ret_error) {
        if (n < 4)
                return fail(ret_error, "readproclog: expected NAME stdout|stderr OFFSET [LENGTH]");
        if (!name_spec_is_valid(words[1]) || strcmp(words[1], "all") == 0)
                return fail(ret_error, "invalid service name");
        if (strcmp(words[2], "stdout") == 0)
                ret->stream = 1;
        else if (strcmp(words[2], "stderr") == 0)
                ret->stream = 2;
        else
                return fail(ret_error, "readproclog: the stream is stdout or stderr");
        ret->names[ret->n_names++] = words[1];
        return parse_offset(words + 3, n - 3, ret, ret_error);
}

#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)

int protocol_take_line(char *buf, size_t len, char **ret_line, const char **ret_error) {
        char *newline = memchr(buf, '\n', len);
        if (!newline) {
                if (len >= PROTOCOL_MAX_REQUEST)
                        return fail(ret_error, "request too long (limit " STRINGIFY(PROTOCOL_MAX_REQUEST) " bytes)");
                return 0;
        }
        /* Looked for before the end is cut off: a CR-LF line holds no NUL of its own. */
        if (memchr(buf, '\0', (size_t)(newline - buf)))
                return fail(ret_error, "invalid request: NUL byte");
        if (newline > buf && newline[-1] == '\r')
                newline--;
        *newline = '\0';
        *ret_line = buf;
        return 1;
}

static int hex_digit(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

int protocol_percent_decode(char *text, size_t *ret_len) {
        size_t out = 0;
        for (size_t i = 0; text[i]; i++) {
                if (text[i] != '%') {
                        text[out++] = text[i];
                        continue;
                }
                int hi = hex_digit(text[i + 1]), lo = hi < 0 ? -1 : hex_digit(text[i + 2]);
                if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
                        return -EINVAL;
                text[out++] = (char)(hi * 16 + lo);
                i += 2;
        }
        text[out] = '\0';
        if (ret_len)
                *ret_len = out;
        return 0;
}

static int parse_remote_event(char **words, unsigned n, struct request *ret, const char **ret_error) {
        if (n < 2 || n > 3)
                return fail(ret_error, "remote-event: TYPE and at most one DATA argument (percent-encoded)");
        if (protocol_percent_decode(words[1], NULL) < 0 || (n == 3 && protocol_percent_decode(words[2], &ret->event_data_len) < 0))
                return fail(ret_error, "remote-event: bad percent escape");
        ret->event_type = words[1];
        for (const char *p = ret->event_type; *p; p++)
                if ((unsigned char)*p <= 0x20 || *p == 0x7f)
                        return fail(ret_error, "remote-event: TYPE holds a blank or control character");
        if (!ret->event_type[0])
                return fail(ret_error, "remote-event: empty TYPE");
        ret->event_data = n == 3 ? words[2] : words[0] + strlen(words[0]);  /* "" */
        if (n < 3)
                ret->event_data_len = 0;
        return 0;
}

/* "stdin NAME [DATA]": one process, DATA percent-encoded as remote-event's. */
static int parse_stdin(char **words, unsigned n, struct request *ret, const char **ret_error) {
        if (n < 2 || n > 3)
                return fail(ret_error, "stdin: NAME and at most one DATA argument (percent-encoded)");
        if (!name_spec_is_valid(words[1]) || strcmp(words[1], "all") == 0)
                return fail(ret_error, "invalid service name");
        if (n == 3 && protocol_percent_decode(words[2], &ret->event_data_len) < 0)
                return fail(ret_error, "stdin: bad percent escape");
        ret->names[ret->n_names++] = words[1];
        ret->event_data = n == 3 ? words[2] : words[0] + strlen(words[0]);  /* "" */
        if (n < 3)
                ret->event_data_len = 0;
        return 0;
}

int protocol_parse_request(char *line, struct request *ret, const char **ret_error) {
        char *words[PROTOCOL_MAX_ARGS + 1];
        unsigned n = 0;

        for (const unsigned char *p = (const unsigned char *)line; *p; p++)
                if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
                        return fail(ret_error, "invalid request: control characters");
        for (char *save = NULL, *w = strtok_r(line, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
                if (n == ELEMENTSOF(words))
                        return fail(ret_error, "invalid request: too many arguments");
                words[n++] = w;
        }
        if (n == 0)
                return fail(ret_error, "empty request");

        *ret = (struct request){ 0 };
        if (verb_from_string(words[0], &ret->verb) < 0)
                return fail(ret_error, "unknown command");

        unsigned first = 1;
        if (ret->verb == VERB_SIGNAL) {
                if (n < 2 || (ret->signal = signal_from_name(words[1])) < 0)
                        return fail(ret_error, "signal: unknown or missing signal");
                first = 2;
        }
        if (ret->verb == VERB_TAIL)
                return parse_tail(words, n, ret, ret_error);
        if (ret->verb == VERB_REMOTE_EVENT)
                return parse_remote_event(words, n, ret, ret_error);
        if (ret->verb == VERB_READLOG)
                return parse_readlog(words, n, ret, ret_error);
        if (ret->verb == VERB_READPROCLOG)
                return parse_readproclog(words, n, ret, ret_error);
        if (ret->verb == VERB_STDIN)
                return parse_stdin(words, n, ret, ret_error);
        for (unsigned i = first; i < n; i++) {
                if (strcmp(words[i], "all") == 0 && ret->verb != VERB_PID)
                        ret->all = true;
                else if (!name_spec_is_valid(words[i]))
                        return fail(ret_error, "invalid service name");
                else
                        ret->names[ret->n_names++] = words[i];
        }
        if (ret->all && ret->n_names > 0)
                return fail(ret_error, "'all' cannot be combined with names");

        switch (ret->verb) {
        case VERB_CLEAR:
        case VERB_START:
        case VERB_STOP:
        case VERB_RESTART:
        case VERB_SIGNAL:
                if (!ret->all && ret->n_names == 0)
                        return fail(ret_error, "a service name or 'all' is required");
                break;
        case VERB_ADD:
        case VERB_REMOVE:
                if (ret->all || ret->n_names == 0)
                        return fail(ret_error, "name the groups");
                break;
        case VERB_PID:
                if (ret->n_names > 1)
                        return fail(ret_error, "pid takes at most one name");
                break;
        case VERB_VERSION:
        case VERB_SHUTDOWN:
        case VERB_RELOAD:
        case VERB_CLEARLOG:
        case VERB_REREAD:
        case VERB_AVAIL:
                if (n > 1)
                        return fail(ret_error, "this command takes no arguments");
                break;
        case VERB_UPDATE:
                /* supervisord's `update all` is `update`; its update GROUP... applies the
                 * difference of those groups only, which is not done here */
                if (ret->n_names > 0)
                        return fail(ret_error, "update takes no group names here (only all): it applies the whole "
                                               "difference");
                break;
        case VERB_STATUS:
        case VERB_TAIL:  /* parse_tail() */
        case VERB_REMOTE_EVENT:  /* parse_remote_event() */
        case VERB_READLOG:  /* parse_readlog() */
        case VERB_READPROCLOG:  /* parse_readproclog() */
        case VERB_STDIN:  /* parse_stdin() */
                break;
        }
        return 0;
}

unsigned protocol_split_fields(char *line, char **fields, unsigned max) {
        unsigned n = 0;
        if (max == 0)
                return 0;
        fields[n++] = line;
        for (char *p = line; *p && n < max; p++)
                if (*p == '\t') {
                        *p = '\0';
                        fields[n++] = p + 1;
                }
        return n;
}

void protocol_sanitize(char *dst, size_t size, const char *src) {
        struct printable filter;
        size_t used = 0;
        if (size == 0)
                return;
        /* The terminal filter, with tabs and newlines replaced too (they would split the
         * record), a character at a time so that none is cut by the end of DST. */
        printable_init(&filter, false, ' ');
        for (; *src; src++) {
                char out[4];
                size_t n = printable_filter(&filter, src, 1, out);
                if (used + n > size - 1)
                        break;
                memcpy(dst + used, out, n);
                used += n;
        }
        if (!*src && used < size - 1)
                used += printable_finish(&filter, dst + used);
        dst[used] = '\0';
}
