/* fuzz_xmlrpc.c — xmlrpc_parse_call() on arbitrary bytes, the body of an XML-RPC POST, and
 * the writer on whatever it produced.
 *
 * Beyond "no crash, no leak" it checks the promise every client relies on: a response is
 * well-formed XML whatever the strings in it hold.  Each parsed call's parameters are
 * written back as a response, and the input itself as a string, and expat must accept
 * both. */
#include <errno.h>
#include <expat.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "xmlrpc.h"

static void assert_well_formed(const char *body, size_t length) {
        XML_Parser p = XML_ParserCreate(NULL);
        FUZZ_ASSERT(p);
        FUZZ_ASSERT(XML_Parse(p, body, (int)length, XML_TRUE) == XML_STATUS_OK);
        XML_ParserFree(p);
}

static void check_response(struct xmlrpc_writer *w) {
        char *body = NULL;
        size_t length = 0;
        int r = xmlrpc_writer_finish(w, &body, &length);
        FUZZ_ASSERT(r == 0 || r == -ENOMEM);
        if (r == 0) {
                FUZZ_ASSERT(strlen(body) == length);
                assert_well_formed(body, length);
        }
        free(body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct xmlrpc_call *call = NULL;
        char error[512] = "";
        int r = xmlrpc_parse_call((const char *)data, size, &call, error, sizeof error);
        FUZZ_ASSERT(r == 0 || r == -EINVAL || r == -ENOMEM);
        struct xmlrpc_writer w = { 0 };
        if (r == 0) {
                FUZZ_ASSERT(call->method);
                xmlrpc_begin_response(&w);
                xmlrpc_begin_array(&w);
                for (size_t i = 0; i < call->n_params; i++)
                        xmlrpc_write_value(&w, call->params[i]);
                xmlrpc_end_array(&w);
                xmlrpc_end_response(&w);
                check_response(&w);
                xmlrpc_call_free(call);
        } else
                FUZZ_ASSERT(error[0]);
        char *text = strndup((const char *)data, size);  /* a C string: a NUL ends it */
        if (text) {
                xmlrpc_write_fault(&w, 10, text);
                check_response(&w);
                free(text);
        }
        xmlrpc_begin_response(&w);
        xmlrpc_write_string(&w, (const char *)data, size);
        xmlrpc_end_response(&w);
        check_response(&w);
        return 0;
}
