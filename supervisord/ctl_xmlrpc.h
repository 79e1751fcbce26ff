/* ctl_xmlrpc.h — supervisorctl's XML-RPC transport: a command sent to any supervisord's
 * XML-RPC interface (Python supervisord 4.2.5's, or ours, supervisord-http) over HTTP/1.1
 * on TCP or on a unix socket, with Basic auth, and the answers turned into the control
 * protocol's records (protocol.h), so that supervisorctl prints them exactly as it prints
 * our daemon's own.
 *
 * The answers are hostile input: the HTTP response and the XML are bounded (size, depth,
 * number of values), no DTD is accepted (so no entity but XML's five), and every failure
 * is a message.  expat, which reads the XML, is loaded with dlopen() on the first call, so
 * that a command over the native protocol never loads it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "protocol.h"

/* An XML-RPC server: a unix socket or a TCP host and port, and the credentials. */
struct ctl_xmlrpc_server {
        char *url;            /* as given, for messages; owned */
        char *path;           /* unix socket, or NULL; owned */
        char *host, *port;    /* TCP, when path is NULL; owned */
        char *authorization;  /* "Basic BASE64" or NULL; owned */
};

/* URL is "http://HOST[:PORT][/...]" (PORT 80 when absent), "unix://PATH" or "/PATH".
 * -EINVAL with the reason in ERROR for another. */
int ctl_xmlrpc_server_init(struct ctl_xmlrpc_server *s, const char *url, const char *username, const char *password,
                           char *error, size_t error_size);
void ctl_xmlrpc_server_done(struct ctl_xmlrpc_server *s);

/* Did the unix socket FD, sent a request of the control protocol, answer as an HTTP server
 * does (closed without a byte, as Python's medusa does, or "HTTP/")?  Looks without
 * reading: when false, the answer is there to read from FD. */
bool ctl_xmlrpc_answered_http(int fd);

/* The answer to REQ (its names must stay valid until the stream is closed) as a stream
 * of records ending in OK or "ERROR CODE MESSAGE", as our daemon would send them.  The
 * calls are made as the stream is read, so that a result shows when its call returns.
 * A failure to reach the server or to read it is ERROR 7; when records came before, its
 * message also goes to stderr.  NULL when out of memory. */
FILE *ctl_xmlrpc_open(const struct ctl_xmlrpc_server *s, const struct request *req);

/* ---- the parsers of the answers, also for the fuzz target ---- */

enum ctl_value_type {
        CTL_VALUE_STRING,  /* also a <value> with no type, <base64> decoded, dateTime, nil */
        CTL_VALUE_INT,     /* <int>, <i4>, <i8> */
        CTL_VALUE_BOOLEAN,
        CTL_VALUE_DOUBLE,
        CTL_VALUE_ARRAY,
        CTL_VALUE_STRUCT,
};

struct ctl_value {
        enum ctl_value_type type;
        long long integer;          /* INT, BOOLEAN */
        double number;              /* DOUBLE */
        char *string;               /* STRING: NUL-terminated (base64 may hold NULs: length); owned */
        size_t length;
        struct ctl_value **items;   /* ARRAY, STRUCT; owned */
        char **keys;                /* STRUCT: one name per item; owned */
        size_t n_items;
};

#define CTL_XMLRPC_MAX_DEPTH 32
#define CTL_XMLRPC_MAX_VALUES 1000000
#define CTL_HTTP_MAX_HEADER (64 * 1024)
#define CTL_HTTP_MAX_BODY (64 * 1024 * 1024)

void ctl_value_free(struct ctl_value *v);
/* STRUCT V's member KEY, or NULL. */
const struct ctl_value *ctl_value_member(const struct ctl_value *v, const char *key);

/* An HTTP/1.x response in BUF[0, size) (all received so far; EOF: the peer closed):
 * 1 when whole, with its status code, and its body in place in BUF (a chunked body is
 * decoded where it lies); 0 when more must come; -EPROTO (-EMSGSIZE) with the reason in
 * ERROR when it is not one. */
int ctl_http_parse_response(char *buf, size_t size, bool eof, int *ret_code, char **ret_body, size_t *ret_body_size,
                            char *error, size_t error_size);

/* A methodResponse: 0 with its value in *RET, 1 for a fault with *FAULT_CODE and
 * *FAULT_STRING (owned), or -EINVAL (-ENOMEM, -ENOSYS: no expat) with the reason in ERROR. */
int ctl_xmlrpc_parse_response(const char *body, size_t size, struct ctl_value **ret, int *fault_code,
                              char **fault_string, char *error, size_t error_size);
