/* fuzz_protocol.c — the control protocol as a hostile client or a confused server sends it:
 * protocol_take_line() on the bytes as received and protocol_parse_request() on the line
 * it finds (what supervisord parses from any client that can reach the socket), and protocol_split_fields() / protocol_sanitize() on the
 * same bytes taken as an answer line (what supervisorctl parses).
 *
 * Besides memory errors it checks what the callers rely on: an accepted request has a
 * known verb, valid names that point into the line, and "all" never mixed with names; a
 * rejected one has a message; split fields and sanitized text stay inside their buffers
 * and free of control bytes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "names.h"
#include "protocol.h"
#include "util.h"

static void fuzz_request(const uint8_t *data, size_t size) {
        char *line = strndup((const char *)data, size);
        if (!line)
                return;
        size_t length = strlen(line);
        struct request *request = malloc(sizeof *request);  /* big: PROTOCOL_MAX_ARGS pointers */
        const char *error = NULL;
        if (!request) {
                free(line);
                return;
        }
        int r = protocol_parse_request(line, request, &error);
        FUZZ_ASSERT(r == 0 || r == -EINVAL);
        if (r < 0)
                FUZZ_ASSERT(error && *error);
        else {
                FUZZ_ASSERT(strcmp(verb_to_string(request->verb), "?") != 0);
                FUZZ_ASSERT(request->n_names <= PROTOCOL_MAX_ARGS);
                FUZZ_ASSERT(!(request->all && request->n_names > 0));
                for (unsigned i = 0; i < request->n_names; i++) {
                        FUZZ_ASSERT(request->names[i] >= line && request->names[i] < line + length);
                        FUZZ_ASSERT(name_spec_is_valid(request->names[i]));
                }
                if (request->verb == VERB_SIGNAL)
                        FUZZ_ASSERT(request->signal > 0);
                if (request->verb == VERB_TAIL)
                        FUZZ_ASSERT(request->n_names == 1 && request->lines <= PROTOCOL_MAX_TAIL_LINES);
                if (request->verb == VERB_REMOTE_EVENT)
                        FUZZ_ASSERT(request->event_type && request->event_type[0] && request->event_data
                                    && strlen(request->event_data) == request->event_data_len
                                    && request->event_data_len <= length);
        }
        free(request);
        free(line);
}

/* The bytes as a client sends them, up to the limit: the line found ends at the first
 * newline, holds no NUL and no line end. */
static void fuzz_received(const uint8_t *data, size_t size) {
        static char buf[PROTOCOL_MAX_REQUEST];
        if (size > sizeof buf)
                size = sizeof buf;
        memcpy(buf, data, size);
        char *line = NULL;
        const char *error = NULL;
        int r = protocol_take_line(buf, size, &line, &error);
        FUZZ_ASSERT(r == 1 || r == 0 || r == -EINVAL);
        if (r == -EINVAL)
                FUZZ_ASSERT(error && *error);
        if (r == 0)
                FUZZ_ASSERT(size < sizeof buf && !memchr(data, '\n', size));
        if (r != 1)
                return;
        const char *newline = memchr(data, '\n', size);
        FUZZ_ASSERT(line == buf && newline);
        size_t length = strlen(line);
        FUZZ_ASSERT(length == (size_t)(newline - (const char *)data)
                    || (length + 1 == (size_t)(newline - (const char *)data) && data[length] == '\r'));
        FUZZ_ASSERT(!strchr(line, '\n'));
        struct request *request = malloc(sizeof *request);
        if (!request)
                return;
        r = protocol_parse_request(line, request, &error);
        FUZZ_ASSERT(r == 0 || r == -EINVAL);
        free(request);
}

static void fuzz_answer(const uint8_t *data, size_t size) {
        char *line = strndup((const char *)data, size);
        if (!line)
                return;
        size_t length = strlen(line);
        /* A field count from the input's length, to vary the limit, and a few fixed ones. */
        unsigned limits[] = { 0, 1, 2, 8, (unsigned)(size % 17) };
        char *copy = malloc(length + 1);
        char *fields[16];
        FUZZ_ASSERT(copy);
        for (size_t k = 0; k < ELEMENTSOF(limits); k++) {
                memcpy(copy, line, length + 1);
                unsigned n = protocol_split_fields(copy, fields, limits[k]);
                FUZZ_ASSERT(n <= limits[k]);
                FUZZ_ASSERT(limits[k] == 0 || n >= 1);
                for (unsigned i = 0; i < n; i++)
                        FUZZ_ASSERT(fields[i] >= copy && fields[i] <= copy + length);
                /* Fields before the last hold no tab; the last keeps the rest of the line. */
                for (unsigned i = 0; i + 1 < n; i++)
                        FUZZ_ASSERT(!strchr(fields[i], '\t'));
        }
        free(copy);

        size_t sizes[] = { 0, 1, 2, 64, length + 1, length + 8 };
        for (size_t k = 0; k < ELEMENTSOF(sizes); k++) {
                /* An exact-size heap buffer, so that ASan sees a write past its end. */
                char *out = malloc(sizes[k] ? sizes[k] : 1);
                FUZZ_ASSERT(out);
                protocol_sanitize(out, sizes[k], line);
                if (sizes[k] > 0) {
                        size_t n = strlen(out);
                        FUZZ_ASSERT(n < sizes[k] && n <= length);
                        for (size_t i = 0; i < n; i++)
                                FUZZ_ASSERT((unsigned char)out[i] >= 0x20 && out[i] != 0x7f);
                }
                free(out);
        }
        free(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        fuzz_request(data, size);
        fuzz_received(data, size);
        fuzz_answer(data, size);
        return 0;
}
