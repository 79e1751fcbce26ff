/* test_xmlrpc.c — unit tests for http/xmlrpc.c, against Python's own xmlrpc.client (what
 * supervisorctl, superlance and most dashboards use): the calls it writes are read here,
 * and the responses written here, with the bytes services really print (invalid UTF-8,
 * terminal escapes, CR), are read back by it; hostile requests are refused with a reason. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "xmlrpc.h"

/* Run python3 -c PROGRAM with INPUT on its stdin; its stdout into OUT.  Returns its status. */
static int python(const char *program, const char *input, size_t input_length, char *out, size_t size) {
        char in_path[] = "/tmp/test_xmlrpc.XXXXXX";
        int fd = mkstemp(in_path);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, input, input_length), (ssize_t)input_length);
        close(fd);
        char command[8192];
        snprintf(command, sizeof command, "python3 -c '%s' < %s", program, in_path);
        FILE *p = popen(command, "r");
        ck_assert_ptr_nonnull(p);
        size_t n = fread(out, 1, size - 1, p);
        out[n] = '\0';
        int status = pclose(p);
        unlink(in_path);
        return status;
}

static struct xmlrpc_call *parse_ok(const char *body) {
        struct xmlrpc_call *call = NULL;
        char error[512] = "";
        int r = xmlrpc_parse_call(body, strlen(body), &call, error, sizeof error);
        ck_assert_msg(r == 0, "xmlrpc_parse_call = %d (%s) for:\n%s", r, error, body);
        return call;
}

static void parse_fails(const char *body, const char *expected) {
        struct xmlrpc_call *call = NULL;
        char error[512] = "";
        int r = xmlrpc_parse_call(body, strlen(body), &call, error, sizeof error);
        ck_assert_msg(r == -EINVAL, "xmlrpc_parse_call = %d, expected -EINVAL for:\n%s", r, body);
        ck_assert_msg(strstr(error, expected) != NULL, "error \"%s\", expected it to say \"%s\"", error, expected);
}

START_TEST(test_python_calls) {
        char body[8192];
        const char *dump = "import sys, xmlrpc.client as x; sys.stdout.write(x.dumps(("
                           "\"web:web_00\", True, -42, 1.5, x.Binary(b\"a\\0b\"), [1, \"two\"], "
                           "{\"methodName\": \"supervisor.getVersion\", \"params\": []}, \"caf\\u00e9 <&> \\r\\n\"), "
                           "\"supervisor.startProcess\"))";
        ck_assert_int_eq(python(dump, "", 0, body, sizeof body), 0);
        struct xmlrpc_call *call = parse_ok(body);
        ck_assert_str_eq(call->method, "supervisor.startProcess");
        ck_assert_int_eq(call->n_params, 8);
        ck_assert_int_eq(call->params[0]->type, XMLRPC_STRING);
        ck_assert_str_eq(call->params[0]->string, "web:web_00");
        ck_assert_int_eq(call->params[1]->type, XMLRPC_BOOLEAN);
        ck_assert_int_eq(call->params[1]->integer, 1);
        ck_assert_int_eq(call->params[2]->type, XMLRPC_INT);
        ck_assert_int_eq(call->params[2]->integer, -42);
        ck_assert_int_eq(call->params[3]->type, XMLRPC_DOUBLE);
        ck_assert(call->params[3]->number == 1.5);
        ck_assert_int_eq(call->params[4]->type, XMLRPC_STRING);  /* base64, decoded */
        ck_assert_int_eq(call->params[4]->length, 3);
        ck_assert_int_eq(memcmp(call->params[4]->string, "a\0b", 3), 0);
        ck_assert_int_eq(call->params[5]->type, XMLRPC_ARRAY);
        ck_assert_int_eq(call->params[5]->n_items, 2);
        ck_assert_str_eq(call->params[5]->items[1]->string, "two");
        ck_assert_int_eq(call->params[6]->type, XMLRPC_STRUCT);
        ck_assert_str_eq(call->params[6]->keys[0], "methodName");
        ck_assert_str_eq(call->params[6]->items[0]->string, "supervisor.getVersion");
        ck_assert_int_eq(call->params[6]->items[1]->type, XMLRPC_ARRAY);
        ck_assert_int_eq(call->params[6]->items[1]->n_items, 0);
        /* Python writes the CR raw, so XML's line-end rule makes it LF, at supervisord too */
        ck_assert_str_eq(call->params[7]->string, "caf\xc3\xa9 <&> \n");
        xmlrpc_call_free(call);
}
END_TEST

START_TEST(test_lenient_forms) {
        /* no <params> at all, as supervisord allows; an untyped value is a string */
        struct xmlrpc_call *call = parse_ok("<methodCall><methodName>supervisor.getState</methodName></methodCall>");
        ck_assert_int_eq(call->n_params, 0);
        xmlrpc_call_free(call);
        call = parse_ok("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><methodCall><methodName>m</methodName><params>"
                        "<param><value>caf\xe9</value></param><param><value><i4> +7 </i4></value></param>"
                        "<param><value><boolean>true</boolean></value></param></params></methodCall>");
        ck_assert_str_eq(call->params[0]->string, "caf\xc3\xa9");  /* expat gives UTF-8 */
        ck_assert_int_eq(call->params[1]->integer, 7);
        ck_assert_int_eq(call->params[2]->integer, 0);  /* supervisord: only "1" is true */
        xmlrpc_call_free(call);
}
END_TEST

START_TEST(test_hostile_calls) {
        parse_fails("<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]>"
                    "<methodCall><methodName>&b;</methodName></methodCall>",
                    "DOCTYPE");
        parse_fails("<methodCall><methodName>m</methodName><params><param><value><int>99999999999</int></value>"
                    "</param></params></methodCall>",
                    "not a 32-bit integer");
        parse_fails("<methodCall><params/></methodCall>", "no <methodName>");
        parse_fails("<methodCall><methodName>m</methodName><script/></methodCall>", "unknown element <script>");
        parse_fails("<methodCall><methodName>m</methodName><params><value/></params></methodCall>",
                    "<value> where it cannot be");
        parse_fails("<methodCall><methodName>m</methodName><params><param><value><int>1</int><int>2</int></value>"
                    "</param></params></methodCall>",
                    "two values");
        parse_fails("<methodCall><methodName>m", "not XML");
        parse_fails("", "not XML");
        parse_fails("<methodCall><methodName>m</methodName><params><param><value><base64>!!</base64></value>"
                    "</param></params></methodCall>",
                    "not base64");
        /* nesting past the bound */
        char deep[4096] = "<methodCall><methodName>m</methodName><params><param>";
        for (int i = 0; i < 20; i++)
                strcat(deep, "<value><array><data>");
        strcat(deep, "</data></array></value></param></params></methodCall>");
        parse_fails(deep, "nested deeper than");
}
END_TEST

static char *finish(struct xmlrpc_writer *w, size_t *length) {
        char *body = NULL;
        ck_assert_int_eq(xmlrpc_writer_finish(w, &body, length), 0);
        return body;
}

/* Python reads a response with every kind of value and bytes XML cannot carry. */
START_TEST(test_python_reads_responses) {
        struct xmlrpc_writer w = { 0 };
        size_t length;
        const char hostile[] = "ok \x1b]52;c;AAAA\x07 \x1b[6n \xff\xfe bad \xc3\x28 nul\0 cr\r\n &<>\"' caf\xc3\xa9";
        xmlrpc_begin_response(&w);
        xmlrpc_begin_array(&w);
        xmlrpc_begin_struct(&w);
        xmlrpc_member(&w, "name");
        xmlrpc_write_cstring(&w, "web");
        xmlrpc_member(&w, "pid");
        xmlrpc_write_int(&w, 1234);
        xmlrpc_member(&w, "big");
        xmlrpc_write_int(&w, 1LL << 40);  /* clamped: 32 bits is all XML-RPC has */
        xmlrpc_member(&w, "nested");
        xmlrpc_begin_struct(&w);
        xmlrpc_member(&w, "ok");
        xmlrpc_write_boolean(&w, true);
        xmlrpc_end_struct(&w);
        xmlrpc_member(&w, "log");
        xmlrpc_write_string(&w, hostile, sizeof hostile - 1);
        xmlrpc_end_struct(&w);
        xmlrpc_write_double(&w, 0.25);
        xmlrpc_end_array(&w);
        xmlrpc_end_response(&w);
        char *body = finish(&w, &length);
        ck_assert_msg(strstr(body, "<i8>") == NULL && strstr(body, "<int>1234</int>"), "%s", body);
        char out[8192];
        int status = python("import sys, json, xmlrpc.client as x; "
                            "print(json.dumps(x.loads(sys.stdin.buffer.read())[0][0]))",
                            body, length, out, sizeof out);
        ck_assert_msg(status == 0, "Python could not read:\n%s", body);
        /* escapes, invalid UTF-8 and NUL as U+FFFD, the CR kept, the rest as it was */
        ck_assert_str_eq(out, "[{\"name\": \"web\", \"pid\": 1234, \"big\": 2147483647, \"nested\": {\"ok\": true}, "
                              "\"log\": \"ok \\ufffd]52;c;AAAA\\ufffd \\ufffd[6n \\ufffd\\ufffd bad \\ufffd( nul\\ufffd "
                              "cr\\r\\n &<>\\\"' caf\\u00e9\"}, 0.25]\n");
        free(body);
}
END_TEST

START_TEST(test_python_reads_faults) {
        struct xmlrpc_writer w = { 0 };
        size_t length;
        xmlrpc_write_fault(&w, 10, "BAD_NAME: <no such> & more");
        char *body = finish(&w, &length);
        char out[1024];
        ck_assert_int_eq(python("import sys, xmlrpc.client as x\n"
                                "try:\n x.loads(sys.stdin.buffer.read())\n"
                                "except x.Fault as f:\n print(f.faultCode, f.faultString)",
                                body, length, out, sizeof out),
                         0);
        ck_assert_str_eq(out, "10 BAD_NAME: <no such> & more\n");
        free(body);
}
END_TEST

/* A parsed call written back value by value reads the same in Python as the original. */
START_TEST(test_round_trip) {
        char body[8192], out[8192], again[8192];
        const char *dump = "import sys, xmlrpc.client as x; sys.stdout.write(x.dumps(([{\"a\": [1, 2, {\"b\": \"c\"}]}, "
                           "False, \"s\"],), \"m\"))";
        ck_assert_int_eq(python(dump, "", 0, body, sizeof body), 0);
        struct xmlrpc_call *call = parse_ok(body);
        struct xmlrpc_writer w = { 0 };
        size_t length;
        xmlrpc_begin_response(&w);
        xmlrpc_write_value(&w, call->params[0]);
        xmlrpc_end_response(&w);
        char *response = finish(&w, &length);
        ck_assert_int_eq(python("import sys, xmlrpc.client as x; print(x.loads(sys.stdin.buffer.read())[0][0])",
                                response, length, out, sizeof out),
                         0);
        ck_assert_int_eq(python("import sys, xmlrpc.client as x; print(x.loads(sys.stdin.buffer.read())[0][0])", body,
                                strlen(body), again, sizeof again),
                         0);
        ck_assert_str_eq(out, again);
        free(response);
        xmlrpc_call_free(call);
}
END_TEST

static Suite *xmlrpc_suite(void) {
        Suite *s = suite_create("xmlrpc");
        TCase *tc = tcase_create("xmlrpc");
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_python_calls);
        tcase_add_test(tc, test_lenient_forms);
        tcase_add_test(tc, test_hostile_calls);
        tcase_add_test(tc, test_python_reads_responses);
        tcase_add_test(tc, test_python_reads_faults);
        tcase_add_test(tc, test_round_trip);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) { return run_suite(xmlrpc_suite()) ? 1 : 0; }
