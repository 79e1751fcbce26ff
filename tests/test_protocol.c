/* test_protocol.c — unit tests for protocol.c: request parsing with every verb and every
 * error, response field splitting, message sanitizing and the verb names. */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "protocol.h"

/* Parse a copy of TEXT (the parser works in place); the request's names point into *line,
 * which the caller frees. */
static int parse(const char *text, char **line, struct request *request, const char **error) {
        *line = strdup(text);
        ck_assert_ptr_nonnull(*line);
        *error = NULL;
        memset(request, 0xa5, sizeof *request);
        return protocol_parse_request(*line, request, error);
}

static void assert_parse_error(const char *text, const char *expected_error) {
        char *line;
        struct request request;
        const char *error;
        int r = parse(text, &line, &request, &error);
        ck_assert_msg(r == -EINVAL, "parse(\"%s\") = %d, expected -EINVAL", text, r);
        ck_assert_ptr_nonnull(error);
        ck_assert_str_eq(error, expected_error);
        free(line);
}

/* ---- verbs without names ---- */

START_TEST(test_status) {
        char *line;
        struct request request;
        const char *error;
        ck_assert_int_eq(parse("status", &line, &request, &error), 0);
        ck_assert_ptr_null(error);
        ck_assert_int_eq(request.verb, VERB_STATUS);
        ck_assert(!request.all);
        ck_assert_uint_eq(request.n_names, 0);
        free(line);
}
END_TEST

START_TEST(test_status_names) {
        char *line;
        struct request request;
        const char *error;
        ck_assert_int_eq(parse("status web db.1 a-b_c", &line, &request, &error), 0);
        ck_assert_int_eq(request.verb, VERB_STATUS);
        ck_assert(!request.all);
        ck_assert_uint_eq(request.n_names, 3);
        ck_assert_str_eq(request.names[0], "web");
        ck_assert_str_eq(request.names[1], "db.1");
        ck_assert_str_eq(request.names[2], "a-b_c");
        free(line);
}
END_TEST

START_TEST(test_status_all) {
        char *line;
        struct request request;
        const char *error;
        ck_assert_int_eq(parse("status all", &line, &request, &error), 0);
        ck_assert_int_eq(request.verb, VERB_STATUS);
        ck_assert(request.all);
        ck_assert_uint_eq(request.n_names, 0);
        free(line);
}
END_TEST

START_TEST(test_version_shutdown) {
        char *line;
        struct request request;
        const char *error;
        ck_assert_int_eq(parse("version", &line, &request, &error), 0);
        ck_assert_int_eq(request.verb, VERB_VERSION);
        ck_assert_uint_eq(request.n_names, 0);
        ck_assert(!request.all);
        free(line);
        ck_assert_int_eq(parse("shutdown", &line, &request, &error), 0);
        ck_assert_int_eq(request.verb, VERB_SHUTDOWN);
        ck_assert_uint_eq(request.n_names, 0);
        ck_assert(!request.all);
        free(line);
}
END_TEST

START_TEST(test_pid) {
        char *line;
        struct request request;
        const char *error;
        ck_assert_int_eq(parse("pid", &line, &request, &error), 0);
        ck_assert_int_eq(request.verb, VERB_PID);
        ck_assert_uint_eq(request.n_names, 0);
        free(line);
        ck_assert_int_eq(parse("pid web", &line, &request, &error), 0);
        ck_assert_int_eq(request.verb, VERB_PID);
        ck_assert_uint_eq(request.n_names, 1);
        ck_assert_str_eq(request.names[0], "web");
        free(line);
        /* For pid, "all" is not special: it is looked up as a name. */
        ck_assert_int_eq(parse("pid all", &line, &request, &error), 0);
        ck_assert(!request.all);
        ck_assert_uint_eq(request.n_names, 1);
        ck_assert_str_eq(request.names[0], "all");
        free(line);
}
END_TEST

/* ---- start / stop / restart ---- */

START_TEST(test_start_stop_restart) {
        static const struct {
                const char *word;
                enum verb verb;
        } verbs[] = { { "start", VERB_START }, { "stop", VERB_STOP }, { "restart", VERB_RESTART } };
        for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
                char text[64], *line;
                struct request request;
                const char *error;

                snprintf(text, sizeof text, "%s web", verbs[i].word);
                ck_assert_int_eq(parse(text, &line, &request, &error), 0);
                ck_assert_int_eq(request.verb, verbs[i].verb);
                ck_assert(!request.all);
                ck_assert_uint_eq(request.n_names, 1);
                ck_assert_str_eq(request.names[0], "web");
                free(line);

                snprintf(text, sizeof text, "%s a b c", verbs[i].word);
                ck_assert_int_eq(parse(text, &line, &request, &error), 0);
                ck_assert_int_eq(request.verb, verbs[i].verb);
                ck_assert_uint_eq(request.n_names, 3);
                ck_assert_str_eq(request.names[0], "a");
                ck_assert_str_eq(request.names[1], "b");
                ck_assert_str_eq(request.names[2], "c");
                free(line);

                snprintf(text, sizeof text, "%s all", verbs[i].word);
                ck_assert_int_eq(parse(text, &line, &request, &error), 0);
                ck_assert_int_eq(request.verb, verbs[i].verb);
                ck_assert(request.all);
                ck_assert_uint_eq(request.n_names, 0);
                free(line);

                snprintf(text, sizeof text, "%s", verbs[i].word);
                assert_parse_error(text, "a service name or 'all' is required");
                snprintf(text, sizeof text, "%s all web", verbs[i].word);
                assert_parse_error(text, "'all' cannot be combined with names");
                snprintf(text, sizeof text, "%s web all", verbs[i].word);
                assert_parse_error(text, "'all' cannot be combined with names");
                snprintf(text, sizeof text, "%s a/b", verbs[i].word);
                assert_parse_error(text, "invalid service name");
        }
}
END_TEST

START_TEST(test_start_all_twice) {
        char *line;
        struct request request;
        const char *error;
        ck_assert_int_eq(parse("start all all", &line, &request, &error), 0);
        ck_assert(request.all);
        ck_assert_uint_eq(request.n_names, 0);
        free(line);
}
END_TEST

/* ---- signal ---- */

START_TEST(test_signal_forms) {
        static const struct {
                const char *text;
                int signal;
        } cases[] = {
                { "signal HUP web", SIGHUP },   { "signal SIGHUP web", SIGHUP }, { "signal hup web", SIGHUP },
                { "signal USR1 web", SIGUSR1 }, { "signal 9 web", SIGKILL },     { "signal 15 web", SIGTERM },
                { "signal sigterm web", SIGTERM },
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                char *line;
                struct request request;
                const char *error;
                ck_assert_msg(parse(cases[i].text, &line, &request, &error) == 0, "%s: %s", cases[i].text,
                              error ? error : "-");
                ck_assert_int_eq(request.verb, VERB_SIGNAL);
                ck_assert_int_eq(request.signal, cases[i].signal);
                ck_assert(!request.all);
                ck_assert_uint_eq(request.n_names, 1);
                ck_assert_str_eq(request.names[0], "web");
                free(line);
        }
}
END_TEST

START_TEST(test_signal_all_and_names) {
        char *line;
        struct request request;
        const char *error;
        ck_assert_int_eq(parse("signal TERM all", &line, &request, &error), 0);
        ck_assert_int_eq(request.verb, VERB_SIGNAL);
        ck_assert_int_eq(request.signal, SIGTERM);
        ck_assert(request.all);
        ck_assert_uint_eq(request.n_names, 0);
        free(line);
        ck_assert_int_eq(parse("signal INT a b", &line, &request, &error), 0);
        ck_assert_int_eq(request.signal, SIGINT);
        ck_assert_uint_eq(request.n_names, 2);
        ck_assert_str_eq(request.names[0], "a");
        ck_assert_str_eq(request.names[1], "b");
        free(line);
}
END_TEST

START_TEST(test_signal_errors) {
        assert_parse_error("signal", "signal: unknown or missing signal");
        assert_parse_error("signal FOO web", "signal: unknown or missing signal");
        assert_parse_error("signal 0 web", "signal: unknown or missing signal");
        assert_parse_error("signal 65 web", "signal: unknown or missing signal");
        assert_parse_error("signal web", "signal: unknown or missing signal");
        assert_parse_error("signal TERM", "a service name or 'all' is required");
        assert_parse_error("signal TERM all web", "'all' cannot be combined with names");
        assert_parse_error("signal TERM a/b", "invalid service name");
}
END_TEST

/* ---- errors ---- */

START_TEST(test_unknown_and_empty) {
        assert_parse_error("frobnicate", "unknown command");
        assert_parse_error("STATUS", "unknown command");
        assert_parse_error("stat", "unknown command");
        assert_parse_error("statusx web", "unknown command");
        assert_parse_error("", "empty request");
        assert_parse_error("   ", "empty request");
        assert_parse_error("\t \t", "empty request");
}
END_TEST

START_TEST(test_control_characters) {
        assert_parse_error("status\n", "invalid request: control characters");
        assert_parse_error("status\r", "invalid request: control characters");
        assert_parse_error("status \x01", "invalid request: control characters");
        assert_parse_error("status web\x1b[0m", "invalid request: control characters");
        assert_parse_error("status \x7f", "invalid request: control characters");
        /* Checked before anything else, so even an unknown verb reports it. */
        assert_parse_error("\x01", "invalid request: control characters");
}
END_TEST

/* The line a request is read up to: LF or CR-LF ends it, a NUL in it is refused, and
 * no newline in PROTOCOL_MAX_REQUEST bytes is too long. */
static int take(const char *bytes, size_t len, char *buf, char **line, const char **error) {
        memcpy(buf, bytes, len);
        *line = NULL;
        *error = NULL;
        return protocol_take_line(buf, len, line, error);
}

START_TEST(test_take_line) {
        static char buf[PROTOCOL_MAX_REQUEST];
        char *line;
        const char *error;
        ck_assert_int_eq(take("status\n", 7, buf, &line, &error), 1);
        ck_assert_str_eq(line, "status");
        /* CR-LF, as telnet and many socket libraries send it: no NUL was sent */
        ck_assert_int_eq(take("status web\r\n", 12, buf, &line, &error), 1);
        ck_assert_str_eq(line, "status web");
        ck_assert_int_eq(take("\r\n", 2, buf, &line, &error), 1);
        ck_assert_str_eq(line, "");
        /* a CR elsewhere stays in the line, for the parser to refuse */
        ck_assert_int_eq(take("status\r\r\n", 9, buf, &line, &error), 1);
        ck_assert_str_eq(line, "status\r");
        /* bytes after the newline are not the request's */
        ck_assert_int_eq(take("pid\nstatus\n", 11, buf, &line, &error), 1);
        ck_assert_str_eq(line, "pid");
        /* not complete yet */
        ck_assert_int_eq(take("stat", 4, buf, &line, &error), 0);
        ck_assert_int_eq(take("status\r", 7, buf, &line, &error), 0);
        ck_assert_int_eq(take("", 0, buf, &line, &error), 0);
        /* a NUL before the newline, also right before a CR-LF */
        ck_assert_int_eq(take("stat\0us\n", 8, buf, &line, &error), -EINVAL);
        ck_assert_str_eq(error, "invalid request: NUL byte");
        ck_assert_int_eq(take("status\0\r\n", 9, buf, &line, &error), -EINVAL);
        ck_assert_str_eq(error, "invalid request: NUL byte");
        /* after the newline it is not the request's either */
        ck_assert_int_eq(take("pid\n\0", 5, buf, &line, &error), 1);
        /* no newline in the limit */
        memset(buf, 'x', sizeof buf);
        ck_assert_int_eq(protocol_take_line(buf, sizeof buf, &line, &error), -EINVAL);
        ck_assert_str_eq(error, "request too long (limit 4096 bytes)");
        buf[sizeof buf - 1] = '\n';
        ck_assert_int_eq(protocol_take_line(buf, sizeof buf, &line, &error), 1);
        ck_assert_uint_eq(strlen(line), sizeof buf - 1);
}
END_TEST

START_TEST(test_instance_names) {
        char *line;
        struct request request;
        const char *error;
        ck_assert_int_eq(parse("stop web@0 web@12 db", &line, &request, &error), 0);
        ck_assert_uint_eq(request.n_names, 3);
        ck_assert_str_eq(request.names[0], "web@0");
        ck_assert_str_eq(request.names[1], "web@12");
        free(line);
        ck_assert_int_eq(parse("restart x:a x:* x: worker:worker_03", &line, &request, &error), 0);
        ck_assert_uint_eq(request.n_names, 4);
        ck_assert_str_eq(request.names[2], "x:");
        free(line);
}
END_TEST

START_TEST(test_invalid_names) {
        char text[256];
        assert_parse_error("status a/b", "invalid service name");
        assert_parse_error("status web ../etc", "invalid service name");
        /* supervisord's forms are GROUP:NAME, GROUP:* and GROUP: (names.h) */
        assert_parse_error("pid a:b:c", "invalid service name");
        assert_parse_error("stop :web", "invalid service name");
        assert_parse_error("stop web*", "invalid service name");
        assert_parse_error("stop web:*x", "invalid service name");
        assert_parse_error("stop *", "invalid service name");
        snprintf(text, sizeof text, "status %0145d", 0);  /* 145 characters: longer than GROUP:NAME */
        assert_parse_error(text, "invalid service name");
}
END_TEST

START_TEST(test_pid_two_names) {
        assert_parse_error("pid a b", "pid takes at most one name");
}
END_TEST

START_TEST(test_no_arguments_allowed) {
        assert_parse_error("version web", "this command takes no arguments");
        assert_parse_error("version all", "this command takes no arguments");
        assert_parse_error("shutdown now", "this command takes no arguments");
        assert_parse_error("shutdown all", "this command takes no arguments");
        /* supervisord's update all is update; update GROUP is not done */
        assert_parse_error("update web", "update takes no group names here (only all): it applies the whole difference");
        char *line;
        struct request request;
        const char *error;
        ck_assert_int_eq(parse("update all", &line, &request, &error), 0);
        ck_assert(request.verb == VERB_UPDATE && request.all && request.n_names == 0);
        free(line);
}
END_TEST

START_TEST(test_too_many_arguments) {
        /* "status" plus PROTOCOL_MAX_ARGS names is the most that fits. */
        size_t size = 8 + 2 * (PROTOCOL_MAX_ARGS + 1) + 1;
        char *text = malloc(size);
        ck_assert_ptr_nonnull(text);
        strcpy(text, "status");
        for (unsigned i = 0; i < PROTOCOL_MAX_ARGS; i++)
                strcat(text, " a");
        char *line;
        struct request request;
        const char *error;
        ck_assert_int_eq(parse(text, &line, &request, &error), 0);
        ck_assert_uint_eq(request.n_names, PROTOCOL_MAX_ARGS);
        free(line);

        strcat(text, " a");
        assert_parse_error(text, "invalid request: too many arguments");
        free(text);
}
END_TEST

START_TEST(test_separators) {
        char *line;
        struct request request;
        const char *error;
        ck_assert_int_eq(parse("start\tweb\tdb", &line, &request, &error), 0);
        ck_assert_int_eq(request.verb, VERB_START);
        ck_assert_uint_eq(request.n_names, 2);
        ck_assert_str_eq(request.names[0], "web");
        ck_assert_str_eq(request.names[1], "db");
        free(line);
        ck_assert_int_eq(parse("  signal \t KILL  \t web  ", &line, &request, &error), 0);
        ck_assert_int_eq(request.verb, VERB_SIGNAL);
        ck_assert_int_eq(request.signal, SIGKILL);
        ck_assert_uint_eq(request.n_names, 1);
        ck_assert_str_eq(request.names[0], "web");
        free(line);
}
END_TEST

/* ---- protocol_split_fields ---- */

START_TEST(test_split_fields) {
        char line[] = "STATUS\tweb\tRUNNING\t1234\t5\t-\t0\t-";
        char *fields[16];
        ck_assert_uint_eq(protocol_split_fields(line, fields, 16), 8);
        ck_assert_str_eq(fields[0], "STATUS");
        ck_assert_str_eq(fields[1], "web");
        ck_assert_str_eq(fields[2], "RUNNING");
        ck_assert_str_eq(fields[3], "1234");
        ck_assert_str_eq(fields[4], "5");
        ck_assert_str_eq(fields[5], "-");
        ck_assert_str_eq(fields[6], "0");
        ck_assert_str_eq(fields[7], "-");
}
END_TEST

START_TEST(test_split_fields_limit) {
        char line[] = "ERROR\t4\tno such service: x\ty";
        char *fields[3];
        ck_assert_uint_eq(protocol_split_fields(line, fields, 3), 3);
        ck_assert_str_eq(fields[0], "ERROR");
        ck_assert_str_eq(fields[1], "4");
        /* The last field keeps the rest of the line, tabs included. */
        ck_assert_str_eq(fields[2], "no such service: x\ty");

        char line2[] = "a\tb";
        ck_assert_uint_eq(protocol_split_fields(line2, fields, 1), 1);
        ck_assert_str_eq(fields[0], "a\tb");

        char line3[] = "a\tb";
        fields[0] = NULL;
        ck_assert_uint_eq(protocol_split_fields(line3, fields, 0), 0);
        ck_assert_ptr_null(fields[0]);
        ck_assert_str_eq(line3, "a\tb");
}
END_TEST

START_TEST(test_split_fields_empty) {
        char *fields[4];
        char line[] = "OK";
        ck_assert_uint_eq(protocol_split_fields(line, fields, 4), 1);
        ck_assert_str_eq(fields[0], "OK");

        char empty[] = "";
        ck_assert_uint_eq(protocol_split_fields(empty, fields, 4), 1);
        ck_assert_str_eq(fields[0], "");

        char tabs[] = "a\t\tb\t";
        ck_assert_uint_eq(protocol_split_fields(tabs, fields, 4), 4);
        ck_assert_str_eq(fields[0], "a");
        ck_assert_str_eq(fields[1], "");
        ck_assert_str_eq(fields[2], "b");
        ck_assert_str_eq(fields[3], "");
}
END_TEST

/* ---- protocol_sanitize ---- */

START_TEST(test_sanitize) {
        char buf[64];
        protocol_sanitize(buf, sizeof buf, "plain text: ok");
        ck_assert_str_eq(buf, "plain text: ok");
        protocol_sanitize(buf, sizeof buf, "a\tb\nc\rd\x01" "e\x7f" "f\x1b");
        ck_assert_str_eq(buf, "a b c d e f ");
        protocol_sanitize(buf, sizeof buf, "");
        ck_assert_str_eq(buf, "");
        /* Bytes above 0x7f (UTF-8) are kept. */
        protocol_sanitize(buf, sizeof buf, "caf\xc3\xa9");
        ck_assert_str_eq(buf, "caf\xc3\xa9");
}
END_TEST

START_TEST(test_sanitize_truncates) {
        char buf[8];
        memset(buf, 'z', sizeof buf);
        protocol_sanitize(buf, 4, "abcdef");
        ck_assert_str_eq(buf, "abc");
        ck_assert_int_eq(buf[4], 'z');  /* nothing written past size */

        protocol_sanitize(buf, sizeof buf, "1234567");
        ck_assert_str_eq(buf, "1234567");
        protocol_sanitize(buf, sizeof buf, "12345678");
        ck_assert_str_eq(buf, "1234567");

        protocol_sanitize(buf, 1, "abc");
        ck_assert_str_eq(buf, "");

        memset(buf, 'z', sizeof buf);
        protocol_sanitize(buf, 0, "abc");
        ck_assert_int_eq(buf[0], 'z');
}
END_TEST

/* ---- tail ---- */

START_TEST(test_tail) {
        char *line;
        struct request request;
        const char *error;
        ck_assert_int_eq(parse("tail web 10", &line, &request, &error), 0);
        ck_assert_int_eq(request.verb, VERB_TAIL);
        ck_assert_uint_eq(request.n_names, 1);
        ck_assert_str_eq(request.names[0], "web");
        ck_assert_uint_eq(request.lines, 10);
        ck_assert(!request.follow);
        ck_assert(!request.all);
        free(line);

        ck_assert_int_eq(parse("tail web@2 0 follow", &line, &request, &error), 0);
        ck_assert_str_eq(request.names[0], "web@2");
        ck_assert_uint_eq(request.lines, 0);
        ck_assert(request.follow);
        free(line);

        ck_assert_int_eq(parse("tail\tdb 1000000", &line, &request, &error), 0);
        ck_assert_uint_eq(request.lines, 1000000);
        free(line);
}
END_TEST

START_TEST(test_tail_errors) {
        assert_parse_error("tail", "tail: expected NAME LINES [follow]");
        assert_parse_error("tail web", "tail: expected NAME LINES [follow]");
        assert_parse_error("tail web 10 follow extra", "tail: expected NAME LINES [follow]");
        assert_parse_error("tail all 10", "invalid service name");
        assert_parse_error("tail bad/name 10", "invalid service name");
        assert_parse_error("tail web ten", "tail: LINES is not an integer from 0 to 1000000");
        assert_parse_error("tail web -1", "tail: LINES is not an integer from 0 to 1000000");
        assert_parse_error("tail web 1000001", "tail: LINES is not an integer from 0 to 1000000");
        assert_parse_error("tail web 10 folow", "tail: only 'follow' may come after LINES");
        assert_parse_error("tail web 10 web", "tail: only 'follow' may come after LINES");
}
END_TEST

START_TEST(test_parse_remote_event) {
        struct request request;
        const char *error;
        char line[] = "remote-event a%2Fb x%20y%0Az%25";
        ck_assert_int_eq(protocol_parse_request(line, &request, &error), 0);
        ck_assert_int_eq(request.verb, VERB_REMOTE_EVENT);
        ck_assert_str_eq(request.event_type, "a/b");
        ck_assert_str_eq(request.event_data, "x y\nz%");
        ck_assert_uint_eq(request.event_data_len, 6);
        char bare[] = "remote-event t";
        ck_assert_int_eq(protocol_parse_request(bare, &request, &error), 0);
        ck_assert_str_eq(request.event_data, "");
        ck_assert_uint_eq(request.event_data_len, 0);
        static const char *const bad[] = { "remote-event", "remote-event t d extra", "remote-event t%0", "remote-event t%g1",
                                           "remote-event t d%00", "remote-event a%20b", "remote-event %0A" };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                char copy[64];
                snprintf(copy, sizeof copy, "%s", bad[i]);
                ck_assert_msg(protocol_parse_request(copy, &request, &error) == -EINVAL, "'%s' taken", bad[i]);
        }
}
END_TEST

START_TEST(test_parse_stdin) {
        struct request request;
        const char *error;
        char line[] = "stdin web@1 a%20line%0A%25";
        ck_assert_int_eq(protocol_parse_request(line, &request, &error), 0);
        ck_assert_int_eq(request.verb, VERB_STDIN);
        ck_assert_uint_eq(request.n_names, 1);
        ck_assert_str_eq(request.names[0], "web@1");
        ck_assert_uint_eq(request.event_data_len, 8);
        ck_assert_mem_eq(request.event_data, "a line\n%", 8);
        char bare[] = "stdin g:web";
        ck_assert_int_eq(protocol_parse_request(bare, &request, &error), 0);
        ck_assert_uint_eq(request.event_data_len, 0);
        static const char *const bad[] = { "stdin", "stdin all x", "stdin web a b", "stdin web %zz",
                                           "stdin web x%00", "stdin bad/name x" };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                char copy[64];
                snprintf(copy, sizeof copy, "%s", bad[i]);
                ck_assert_msg(protocol_parse_request(copy, &request, &error) == -EINVAL, "'%s' taken", bad[i]);
        }
}
END_TEST

/* ---- verb names ---- */

START_TEST(test_verb_round_trip) {
        static const struct {
                enum verb verb;
                const char *name;
        } verbs[] = {
                { VERB_STATUS, "status" }, { VERB_START, "start" },     { VERB_STOP, "stop" },
                { VERB_RESTART, "restart" }, { VERB_SIGNAL, "signal" }, { VERB_PID, "pid" },
                { VERB_VERSION, "version" }, { VERB_SHUTDOWN, "shutdown" }, { VERB_RELOAD, "reload" },
                { VERB_TAIL, "tail" },         { VERB_REMOTE_EVENT, "remote-event" },
                { VERB_CLEAR, "clear" }, { VERB_READLOG, "readlog" }, { VERB_CLEARLOG, "clearlog" },
                { VERB_UPDATE, "update" }, { VERB_ADD, "add" }, { VERB_REMOVE, "remove" }, { VERB_REREAD, "reread" },
                { VERB_READPROCLOG, "readproclog" },
                { VERB_STDIN, "stdin" },
        };
        for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
                enum verb verb = (enum verb)-1;
                ck_assert_str_eq(verb_to_string(verbs[i].verb), verbs[i].name);
                ck_assert_int_eq(verb_from_string(verbs[i].name, &verb), 0);
                ck_assert_int_eq(verb, verbs[i].verb);
        }
}
END_TEST

START_TEST(test_parse_log_requests) {
        struct request req;
        const char *error;
        char line[64];
        snprintf(line, sizeof line, "readlog -100");
        ck_assert_int_eq(protocol_parse_request(line, &req, &error), 0);
        ck_assert_int_eq(req.verb, VERB_READLOG);
        ck_assert_int_eq(req.offset, -100);
        ck_assert_uint_eq(req.length, 0);
        snprintf(line, sizeof line, "readlog 10 5");
        ck_assert_int_eq(protocol_parse_request(line, &req, &error), 0);
        ck_assert_int_eq(req.offset, 10);
        ck_assert_uint_eq(req.length, 5);
        ck_assert(!req.follow);
        snprintf(line, sizeof line, "readlog -1600 follow");
        ck_assert_int_eq(protocol_parse_request(line, &req, &error), 0);
        ck_assert_int_eq(req.offset, -1600);
        ck_assert(req.follow);
        snprintf(line, sizeof line, "readproclog web stderr -100");
        ck_assert_int_eq(protocol_parse_request(line, &req, &error), 0);
        ck_assert_int_eq(req.verb, VERB_READPROCLOG);
        ck_assert_str_eq(req.names[0], "web");
        ck_assert_int_eq(req.stream, 2);
        ck_assert_int_eq(req.offset, -100);
        ck_assert(!req.follow);
        snprintf(line, sizeof line, "readproclog g:web stdout 7 3");
        ck_assert_int_eq(protocol_parse_request(line, &req, &error), 0);
        ck_assert_int_eq(req.stream, 1);
        ck_assert_int_eq(req.offset, 7);
        ck_assert_uint_eq(req.length, 3);
        snprintf(line, sizeof line, "readproclog web stdout -1024 follow");
        ck_assert_int_eq(protocol_parse_request(line, &req, &error), 0);
        ck_assert(req.follow);
        static const char *const bad[] = { "readlog", "readlog x", "readlog -1 5", "readlog 1 -5", "readlog 1 2 3",
                                           "readlog 1 follow 2", "readproclog web", "readproclog web stdout",
                                           "readproclog web both 0", "readproclog all stdout 0",
                                           "readproclog web stdout -1 5", "readproclog web stdout 0 5 follow",
                                           "readproclog w/x stdout 0",
                                           "clear", "clearlog now", "clear all web" };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                snprintf(line, sizeof line, "%s", bad[i]);
                ck_assert_msg(protocol_parse_request(line, &req, &error) == -EINVAL, "accepted '%s'", bad[i]);
        }
        snprintf(line, sizeof line, "clear all");
        ck_assert_int_eq(protocol_parse_request(line, &req, &error), 0);
        ck_assert(req.all);
        snprintf(line, sizeof line, "clear web worker@1");
        ck_assert_int_eq(protocol_parse_request(line, &req, &error), 0);
        ck_assert_uint_eq(req.n_names, 2);
        /* avail takes nothing. */
        snprintf(line, sizeof line, "avail");
        ck_assert_int_eq(protocol_parse_request(line, &req, &error), 0);
        ck_assert_int_eq(req.verb, VERB_AVAIL);
        snprintf(line, sizeof line, "avail web");
        ck_assert_int_eq(protocol_parse_request(line, &req, &error), -EINVAL);
}
END_TEST

START_TEST(test_verb_unknown) {
        enum verb verb = VERB_PID;
        ck_assert_str_eq(verb_to_string((enum verb)(VERB_STDIN + 1)), "?");
        ck_assert_str_eq(verb_to_string((enum verb)-1), "?");
        ck_assert_int_eq(verb_from_string("bogus", &verb), -EINVAL);
        ck_assert_int_eq(verb_from_string("", &verb), -EINVAL);
        ck_assert_int_eq(verb_from_string("Start", &verb), -EINVAL);
        ck_assert_int_eq(verb_from_string("start ", &verb), -EINVAL);
        ck_assert_int_eq(verb, VERB_PID);
}
END_TEST

static Suite *protocol_suite(void) {
        Suite *s = suite_create("protocol");
        TCase *tc;

        tc = tcase_create("parse");
        tcase_add_test(tc, test_status);
        tcase_add_test(tc, test_take_line);
        tcase_add_test(tc, test_status_names);
        tcase_add_test(tc, test_status_all);
        tcase_add_test(tc, test_version_shutdown);
        tcase_add_test(tc, test_pid);
        tcase_add_test(tc, test_start_stop_restart);
        tcase_add_test(tc, test_start_all_twice);
        tcase_add_test(tc, test_signal_forms);
        tcase_add_test(tc, test_signal_all_and_names);
        tcase_add_test(tc, test_separators);
        suite_add_tcase(s, tc);

        tc = tcase_create("parse errors");
        tcase_add_test(tc, test_signal_errors);
        tcase_add_test(tc, test_unknown_and_empty);
        tcase_add_test(tc, test_control_characters);
        tcase_add_test(tc, test_invalid_names);
        tcase_add_test(tc, test_instance_names);
        tcase_add_test(tc, test_pid_two_names);
        tcase_add_test(tc, test_no_arguments_allowed);
        tcase_add_test(tc, test_too_many_arguments);
        suite_add_tcase(s, tc);

        tc = tcase_create("fields");
        tcase_add_test(tc, test_split_fields);
        tcase_add_test(tc, test_split_fields_limit);
        tcase_add_test(tc, test_split_fields_empty);
        tcase_add_test(tc, test_sanitize);
        tcase_add_test(tc, test_sanitize_truncates);
        suite_add_tcase(s, tc);

        tc = tcase_create("tail");
        tcase_add_test(tc, test_tail);
        tcase_add_test(tc, test_tail_errors);
        suite_add_tcase(s, tc);

        tc = tcase_create("verbs");
        tcase_add_test(tc, test_verb_round_trip);
        tcase_add_test(tc, test_verb_unknown);
        tcase_add_test(tc, test_parse_remote_event);
        tcase_add_test(tc, test_parse_stdin);
        tcase_add_test(tc, test_parse_log_requests);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return run_suite(protocol_suite()) ? 1 : 0;
}
