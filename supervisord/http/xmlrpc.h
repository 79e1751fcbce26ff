/* xmlrpc.h — XML-RPC as supervisord 4.2.5 speaks it: reading a methodCall (with expat) into
 * a tree of values, and writing methodResponse and fault bodies that every client of
 * supervisord reads (Python's xmlrpc.client, Go's, PHP's).
 *
 * It belongs to the HTTP front-end, which runs unprivileged: the root daemon never
 * parses XML.  Requests are hostile: bounded depth and size, no DTD (so no entities
 * beyond XML's five), and every failure is an error message, never a crash.  Responses
 * are always well-formed XML whatever bytes a string holds: invalid UTF-8 and control
 * characters that XML 1.0 cannot carry become U+FFFD, CR is written as &#13; so that it
 * survives; integers are <int>, never <i8> (Go's decoder refuses it). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum xmlrpc_type {
        XMLRPC_INT,       /* <int> or <i4>: 32 bits, as XML-RPC has them */
        XMLRPC_BOOLEAN,
        XMLRPC_STRING,    /* also a <value> with no type inside, and <base64> once decoded */
        XMLRPC_DOUBLE,
        XMLRPC_DATETIME,  /* dateTime.iso8601, kept as its text */
        XMLRPC_ARRAY,
        XMLRPC_STRUCT,
};

struct xmlrpc_value {
        enum xmlrpc_type type;
        long long integer;            /* INT, BOOLEAN (0 or 1) */
        double number;                /* DOUBLE */
        char *string;                 /* STRING, DATETIME: NUL-terminated, may hold NULs
                                       * from base64: length says how long; owned */
        size_t length;
        struct xmlrpc_value **items;  /* ARRAY, STRUCT: owned */
        char **keys;                  /* STRUCT: the member names, one per item; owned */
        size_t n_items;
};

struct xmlrpc_call {
        char *method;                 /* owned */
        struct xmlrpc_value **params;  /* owned */
        size_t n_params;
};

/* Bounds on what a request may hold, beyond the body size the HTTP layer enforces. */
#define XMLRPC_MAX_DEPTH 32
#define XMLRPC_MAX_VALUES 100000

/* Parse a methodCall.  On failure returns -EINVAL (-ENOMEM) and writes why into error. */
int xmlrpc_parse_call(const char *body, size_t size, struct xmlrpc_call **ret, char *error, size_t error_size);
void xmlrpc_call_free(struct xmlrpc_call *call);
void xmlrpc_value_free(struct xmlrpc_value *value);

/* ---- writing ---- */

/* A response being written; after an allocation failure every call does nothing and
 * xmlrpc_writer_finish() returns -ENOMEM. */
struct xmlrpc_writer {
        char *data;      /* owned until finished */
        size_t length, allocated;
        int error;
        unsigned depth;  /* arrays and structs open */
        bool member_open[XMLRPC_MAX_DEPTH + 1];  /* a member at that depth awaits its value */
};

/* <?xml ...?><methodResponse><params><param>: the one value written next is the result. */
void xmlrpc_begin_response(struct xmlrpc_writer *w);
void xmlrpc_end_response(struct xmlrpc_writer *w);
/* A whole fault response. */
void xmlrpc_write_fault(struct xmlrpc_writer *w, int code, const char *string);

void xmlrpc_write_int(struct xmlrpc_writer *w, long long value);  /* clamped to 32 bits */
void xmlrpc_write_boolean(struct xmlrpc_writer *w, bool value);
void xmlrpc_write_double(struct xmlrpc_writer *w, double value);
void xmlrpc_write_string(struct xmlrpc_writer *w, const char *s, size_t length);
void xmlrpc_write_cstring(struct xmlrpc_writer *w, const char *s);
void xmlrpc_begin_array(struct xmlrpc_writer *w);
void xmlrpc_end_array(struct xmlrpc_writer *w);
void xmlrpc_begin_struct(struct xmlrpc_writer *w);
/* The next value written is this member's. */
void xmlrpc_member(struct xmlrpc_writer *w, const char *name);
void xmlrpc_end_struct(struct xmlrpc_writer *w);
/* Write VALUE (as parsed, or built) whole. */
void xmlrpc_write_value(struct xmlrpc_writer *w, const struct xmlrpc_value *value);

/* Hand over the body: *ret (owned by the caller) and *ret_length.  -ENOMEM if any write
 * failed; the writer is empty afterwards either way. */
int xmlrpc_writer_finish(struct xmlrpc_writer *w, char **ret, size_t *ret_length);
void xmlrpc_writer_reset(struct xmlrpc_writer *w);
