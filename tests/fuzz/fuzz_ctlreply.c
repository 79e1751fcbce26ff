/* fuzz_ctlreply.c — what supervisorctl reads from an XML-RPC server (ctl_xmlrpc.h): the
 * bytes as an HTTP response, its body (when whole) as a methodResponse, and the bytes
 * themselves as a methodResponse, so that the fuzzer reaches the XML without a header.
 *
 * Beyond "no crash, no leak": a whole response's body lies inside what was read, a
 * response cut short is never taken for whole, and every value tree is well-formed
 * (a struct has a key per item, a string ends at its length). */
#include <errno.h>
#include <string.h>

#include "ctl_xmlrpc.h"
#include "fuzz.h"

static void check_value(const struct ctl_value *v, unsigned depth) {
        FUZZ_ASSERT(v && depth <= CTL_XMLRPC_MAX_DEPTH);
        if (v->type == CTL_VALUE_STRING)
                FUZZ_ASSERT(v->string && v->string[v->length] == '\0');
        if (v->type == CTL_VALUE_BOOLEAN)
                FUZZ_ASSERT(v->integer == 0 || v->integer == 1);
        FUZZ_ASSERT(v->n_items == 0 || v->type == CTL_VALUE_ARRAY || v->type == CTL_VALUE_STRUCT);
        for (size_t i = 0; i < v->n_items; i++) {
                if (v->type == CTL_VALUE_STRUCT)
                        FUZZ_ASSERT(v->keys && v->keys[i]);
                check_value(v->items[i], depth + 1);
        }
}

static void parse_xml(const char *body, size_t size) {
        struct ctl_value *v;
        int code;
        char *fault, error[256];
        int r = ctl_xmlrpc_parse_response(body, size, &v, &code, &fault, error, sizeof error);
        FUZZ_ASSERT(r == 0 || r == 1 || r == -EINVAL || r == -ENOMEM);
        if (r == 0)
                check_value(v, 1);
        else
                FUZZ_ASSERT(!v);
        FUZZ_ASSERT(r == 1 ? fault != NULL : fault == NULL);
        ctl_value_free(v);
        free(fault);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *buf = malloc(size + 1);
        FUZZ_ASSERT(buf);
        memcpy(buf, data, size);
        buf[size] = '\0';
        int code;
        char *body, error[256];
        size_t body_size;
        /* A prefix that is not the whole is at most "more to come". */
        if (size > 0) {
                char *prefix = malloc(size);
                FUZZ_ASSERT(prefix);
                memcpy(prefix, data, size - 1);
                int r = ctl_http_parse_response(prefix, size - 1, false, &code, &body, &body_size, error, sizeof error);
                FUZZ_ASSERT(r == 0 || r == 1 || r == -EPROTO || r == -EMSGSIZE);
                if (r == 1)
                        FUZZ_ASSERT(body >= prefix && body + body_size <= prefix + size - 1);
                free(prefix);
        }
        for (int eof = 0; eof < 2; eof++) {
                memcpy(buf, data, size);
                int r = ctl_http_parse_response(buf, size, eof, &code, &body, &body_size, error, sizeof error);
                FUZZ_ASSERT(r == 0 || r == 1 || r == -EPROTO || r == -EMSGSIZE);
                FUZZ_ASSERT(!(eof && r == 0));  /* at the end: whole or not one */
                if (r == 1) {
                        FUZZ_ASSERT(code >= 100 && code <= 599);
                        FUZZ_ASSERT(body >= buf && body + body_size <= buf + size);
                        if (eof)
                                parse_xml(body, body_size);
                }
        }
        free(buf);
        parse_xml((const char *)data, size);
        return 0;
}
