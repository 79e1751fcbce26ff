/* test_listener.c — event listener pools and fatal-action.  Unit tests of the event type
 * names, their hierarchy, the envelope and the payloads (eventtype.h); then the real
 * daemon with a real listener written with Debian's supervisor.childutils
 * (listener.wait / ok / fail), which records every event it gets to a file: the headers,
 * serials and poolserials, the payloads, a FAIL redelivered, the buffer's overflow, a
 * listener that hangs (it holds nothing else up; result-timeout restarts it); and
 * fatal-action, which ends supervisord with its status after stopping the rest. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "eventtype.h"
#include "harness.h"
#include "service.h"

/* ---- unit ---- */

START_TEST(test_type_hierarchy) {
        ck_assert_uint_eq(listener_event_parse("PROCESS_STATE_EXITED"), LEV_MASK(LEV_PROCESS_STATE_EXITED));
        uint32_t state = listener_event_parse("PROCESS_STATE");
        for (int t = LEV_PROCESS_STATE_STOPPED; t <= LEV_PROCESS_STATE_UNKNOWN; t++)
                ck_assert_msg(state & LEV_MASK(t), "PROCESS_STATE lacks %s", listener_event_name(t));
        ck_assert(!(state & LEV_MASK(LEV_TICK_5)));
        ck_assert(!(state & LEV_MASK(LEV_PROCESS_GROUP_ADDED)));
        ck_assert_uint_eq(listener_event_parse("TICK"),
                          LEV_MASK(LEV_TICK_5) | LEV_MASK(LEV_TICK_60) | LEV_MASK(LEV_TICK_3600));
        ck_assert_uint_eq(listener_event_parse("SUPERVISOR_STATE_CHANGE"),
                          LEV_MASK(LEV_SUPERVISOR_STATE_CHANGE_RUNNING) | LEV_MASK(LEV_SUPERVISOR_STATE_CHANGE_STOPPING));
        ck_assert_uint_eq(listener_event_parse("PROCESS_GROUP"),
                          LEV_MASK(LEV_PROCESS_GROUP_ADDED) | LEV_MASK(LEV_PROCESS_GROUP_REMOVED));
        uint32_t all = listener_event_parse("EVENT");
        for (int t = 0; t < LEV_MAX; t++) {
                ck_assert(all & LEV_MASK(t));
                ck_assert_uint_eq(listener_event_parse(listener_event_name(t)), LEV_MASK(t));
        }
        ck_assert_uint_eq(listener_event_parse("process_state"), 0);
        ck_assert_uint_eq(listener_event_parse("PROCESS_STATE_"), 0);
        ck_assert_uint_eq(listener_event_parse(""), 0);
        ck_assert_int_eq(listener_event_of_state(STATE_EXITED), LEV_PROCESS_STATE_EXITED);
        ck_assert_int_eq(listener_event_of_state(STATE_FATAL), LEV_PROCESS_STATE_FATAL);
        ck_assert_int_eq(listener_event_of_state(99), LEV_PROCESS_STATE_UNKNOWN);
}
END_TEST

START_TEST(test_format) {
        char buf[256];
        struct listener_process_info info = { .name = "web@1", .group = "web", .from_state = STATE_RUNNING,
                                              .tries = 2, .pid = 42, .expected = false };
        /* supervisord's exact fields and order, no newline at the end (events.py). */
        listener_format_process_state(buf, sizeof buf, LEV_PROCESS_STATE_EXITED, &info);
        ck_assert_str_eq(buf, "processname:web@1 groupname:web from_state:RUNNING expected:0 pid:42");
        info.from_state = STATE_STOPPED;
        listener_format_process_state(buf, sizeof buf, LEV_PROCESS_STATE_STARTING, &info);
        ck_assert_str_eq(buf, "processname:web@1 groupname:web from_state:STOPPED tries:2");
        info.from_state = STATE_STARTING;
        listener_format_process_state(buf, sizeof buf, LEV_PROCESS_STATE_BACKOFF, &info);
        ck_assert_str_eq(buf, "processname:web@1 groupname:web from_state:STARTING tries:2");
        listener_format_process_state(buf, sizeof buf, LEV_PROCESS_STATE_RUNNING, &info);
        ck_assert_str_eq(buf, "processname:web@1 groupname:web from_state:STARTING pid:42");
        info.from_state = STATE_BACKOFF;
        int n = listener_format_process_state(buf, sizeof buf, LEV_PROCESS_STATE_FATAL, &info);
        ck_assert_str_eq(buf, "processname:web@1 groupname:web from_state:BACKOFF");
        ck_assert_int_eq(n, (int)strlen(buf));
        info.expected = true;
        info.from_state = STATE_RUNNING;
        listener_format_process_state(buf, sizeof buf, LEV_PROCESS_STATE_EXITED, &info);
        ck_assert_str_eq(buf, "processname:web@1 groupname:web from_state:RUNNING expected:1 pid:42");
        /* Too small: a prefix, and the length it would have had. */
        n = listener_format_process_state(buf, 10, LEV_PROCESS_STATE_EXITED, &info);
        ck_assert_int_eq(n, (int)strlen("processname:web@1 groupname:web from_state:RUNNING expected:1 pid:42"));
        ck_assert_uint_eq(strlen(buf), 9);

        listener_format_header(buf, sizeof buf, "supervisor", 7, "lis", 3, LEV_TICK_5, 15);
        ck_assert_str_eq(buf, "ver:3.0 server:supervisor serial:7 pool:lis poolserial:3 eventname:TICK_5 len:15\n");
}
END_TEST

START_TEST(test_parse_answers) {
        size_t used, len;
        ck_assert_int_eq(listener_parse_ready("READ", 4, &used), LISTENER_PARSE_MORE);
        ck_assert_int_eq(listener_parse_ready("READY\nx", 7, &used), LISTENER_PARSE_DONE);
        ck_assert_uint_eq(used, 6);
        ck_assert_int_eq(listener_parse_ready("ready\n", 6, &used), LISTENER_PARSE_BAD);
        ck_assert_int_eq(listener_parse_ready("READY \n", 7, &used), LISTENER_PARSE_BAD);

        ck_assert_int_eq(listener_parse_result_line("RESULT 2", 8, 100, &len, &used), LISTENER_PARSE_MORE);
        ck_assert_int_eq(listener_parse_result_line("RESULT 2\nOK", 11, 100, &len, &used), LISTENER_PARSE_DONE);
        ck_assert_uint_eq(len, 2);
        ck_assert_uint_eq(used, 9);
        ck_assert_int_eq(listener_parse_result_line("RESULT 4\nFAIL", 13, 100, &len, &used), LISTENER_PARSE_DONE);
        ck_assert_uint_eq(len, 4);
        ck_assert_int_eq(listener_parse_result_line("RESULT 0\n", 9, 100, &len, &used), LISTENER_PARSE_DONE);
        ck_assert_uint_eq(len, 0);
        static const char *const bad[] = { "RESULT \n", "RESULT x\n", "RESULT -1\n", "OK\n", "RESULT 101\n",
                                           "RESULT 99999999999999999999999\n", "RESULT 2 \n" };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
                ck_assert_msg(listener_parse_result_line(bad[i], strlen(bad[i]), 100, &len, &used) == LISTENER_PARSE_BAD,
                              "'%s' taken", bad[i]);
        char endless[100];
        memset(endless, 'R', sizeof endless);
        ck_assert_int_eq(listener_parse_result_line(endless, sizeof endless, 100, &len, &used), LISTENER_PARSE_BAD);
}
END_TEST

static char captured[4][128];
static unsigned n_captured;

static void collect(const char *text, size_t len, void *userdata) {
        (void)userdata;
        if (n_captured < 4)
                snprintf(captured[n_captured], sizeof captured[0], "%.*s", (int)len, text);
        n_captured++;
}

START_TEST(test_capture_filter) {
        struct event_capture c;
        event_capture_init(&c, 100);
        n_captured = 0;
        /* Tokens split across chunks, text around them ignored, a false start. */
        static const char *const chunks[] = { "noise <!--XSUPER", "VISOR:BEGIN-->hello <b>", " world<!--XSUPERVISOR:E",
                                              "ND--> after <<!--XSUPERVISOR:BEGIN-->two<!--XSUPERVISOR:END-->" };
        for (size_t i = 0; i < 4; i++)
                ck_assert_int_eq(event_capture_feed(&c, chunks[i], strlen(chunks[i]), collect, NULL), 0);
        ck_assert_uint_eq(n_captured, 2);
        ck_assert_str_eq(captured[0], "hello <b> world");
        ck_assert_str_eq(captured[1], "two");
        event_capture_done(&c);

        /* More than max: the last max bytes. */
        event_capture_init(&c, 4);
        n_captured = 0;
        const char *big = "<!--XSUPERVISOR:BEGIN-->0123456789abcdefghijklmnopqrstuvwxyz0123456789<!--XSUPERVISOR:END-->";
        for (const char *p = big; *p; p++)  /* a byte at a time */
                ck_assert_int_eq(event_capture_feed(&c, p, 1, collect, NULL), 0);
        ck_assert_uint_eq(n_captured, 1);
        ck_assert_str_eq(captured[0], "6789");
        event_capture_done(&c);
}
END_TEST

/* ---- integration ---- */

/* Debian's python3, where `supervisor` is installed (not another python in PATH). */
#define PYTHON "/usr/bin/python3"

/* A listener with childutils that writes one line per event: its pid, the header's
 * fields, a tab, the payload with newlines as "\n".  MODE: ok; failfirst (FAIL the first
 * event it gets, then OK); hang (never answer a PROCESS_STATE_RUNNING). */
static const char listener_py[] =
        "import os, sys, time\n"
        "from supervisor import childutils\n"
        "out, mode = sys.argv[1], sys.argv[2]\n"
        "n = 0\n"
        "while True:\n"
        "    h, payload = childutils.listener.wait(sys.stdin, sys.stdout)\n"
        "    n += 1\n"
        "    with open(out, 'a') as f:\n"
        "        f.write('%d ver:%s server:%s serial:%s pool:%s poolserial:%s eventname:%s len:%s\\t%s\\n' % (\n"
        "            os.getpid(), h['ver'], h['server'], h['serial'], h['pool'], h['poolserial'],\n"
        "            h['eventname'], h['len'], payload.replace('\\n', '\\\\n')))\n"
        "    if mode == 'failfirst' and n == 1:\n"
        "        childutils.listener.fail(sys.stdout)\n"
        "    elif mode == 'hang' and h['eventname'] == 'PROCESS_STATE_RUNNING':\n"
        "        time.sleep(100000)\n"
        "    else:\n"
        "        childutils.listener.ok(sys.stdout)\n";

static void write_listener(struct daemon *d, char *path, size_t size) {
        snprintf(path, size, "%s/listener.py", d->dir);
        FILE *f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fputs(listener_py, f);
        ck_assert_int_eq(fclose(f), 0);
}

static char records[1 << 20];

static const char *read_records(struct daemon *d) {
        char path[256];
        snprintf(path, sizeof path, "%s/events.txt", d->dir);
        if (read_text_file(path, records, sizeof records) < 0)
                records[0] = '\0';
        return records;
}

static bool records_have(struct daemon *d, const char *text) { return strstr(read_records(d), text) != NULL; }

static bool log_has(struct daemon *d, const char *text) {
        static char log[1 << 20];
        return read_text_file(d->log, log, sizeof log) >= 0 && strstr(log, text) != NULL;
}

/* httpok's way: on its first TICK_5 the listener restarts `web` through
 * childutils.getRPCInterface(os.environ), which SUPERVISOR_SERVER_URL points at the HTTP
 * interface, and writes "PROCESS_NAME GROUP_NAME STATE OLD_PID" of what it saw. */
static const char restarter_py[] =
        "import os, sys\n"
        "from supervisor import childutils\n"
        "out = sys.argv[1]\n"
        "rpc = childutils.getRPCInterface(os.environ)\n"
        "done = False\n"
        "while True:\n"
        "    h, payload = childutils.listener.wait(sys.stdin, sys.stdout)\n"
        "    if h['eventname'] == 'TICK_5' and not done:\n"
        "        done = True\n"
        "        old = rpc.supervisor.getProcessInfo('web')['pid']\n"
        "        rpc.supervisor.stopProcess('web')\n"
        "        rpc.supervisor.startProcess('web')\n"
        "        with open(out + '.tmp', 'w') as f:\n"
        "            f.write('%s %s %s %d' % (os.environ['SUPERVISOR_PROCESS_NAME'], os.environ['SUPERVISOR_GROUP_NAME'],\n"
        "                                     rpc.supervisor.getState()['statename'], old))\n"
        "        os.rename(out + '.tmp', out)\n"
        "    childutils.listener.ok(sys.stdout)\n";

START_TEST(test_listener_calls_back) {
        struct daemon d;
        char script[256], out[256], text[128], expected[128];
        daemon_init(&d);
        snprintf(script, sizeof script, "%s/restarter.py", d.dir);
        snprintf(out, sizeof out, "%s/restarted.txt", d.dir);
        FILE *f = fopen(script, "w");
        ck_assert_ptr_nonnull(f);
        fputs(restarter_py, f);
        ck_assert_int_eq(fclose(f), 0);
        daemon_write_config(&d,
                            "http-socket = \"%s/http.sock\"\n"
                            "service web {\n command = \"sleep 1000\"\n start-secs = 0\n}\n"
                            "service lis {\n command = \"" PYTHON " %s %s\"\n start-secs = 0.2\n"
                            " service-group = \"watch\"\n events = {TICK_5}\n}\n",
                            d.dir, script, out);
        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "web", "RUNNING", SOON_MS);
        pid_t web = service_pid_of(&d, "web");
        /* A tick comes on the next multiple of 5 s of the wall clock. */
        ASSERT_WITHIN(read_text_file(out, text, sizeof text) > 0, SOON_MS + 5000);
        snprintf(expected, sizeof expected, "lis watch RUNNING %d", (int)web);
        ck_assert_str_eq(text, expected);
        ASSERT_STATE_WITHIN(&d, "web", "RUNNING", SOON_MS);
        ck_assert_int_gt(service_pid_of(&d, "web"), 0);
        ck_assert_int_ne(service_pid_of(&d, "web"), web);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_events_reach_listener) {
        struct daemon d;
        char script[256];
        daemon_init(&d);
        write_listener(&d, script, sizeof script);
        daemon_write_config(&d,
                            "service lis {\n command = \"" PYTHON " %s %s/events.txt ok\"\n start-secs = 0.2\n"
                            " events = {PROCESS_STATE, SUPERVISOR_STATE_CHANGE, PROCESS_GROUP, TICK_5}\n}\n"
                            "service once {\n command = \"sh -c 'sleep 0.6; exit 3'\"\n start-secs = 0.3\n"
                            " restart = never\n}\n",
                            script, d.dir);
        daemon_start(&d);
        /* A crashmail-like listener sees the unexpected exit: expected:0, the pid that ran. */
        ASSERT_WITHIN(records_have(&d, "eventname:PROCESS_STATE_EXITED"), SOON_MS);
        /* A tick comes on the next multiple of 5 s of the wall clock. */
        ASSERT_WITHIN(records_have(&d, "eventname:TICK_5"), SOON_MS);
        const char *r = read_records(&d);

        /* Serials count from 0 with no gap; with one pool the poolserial is the serial. */
        unsigned expect = 0;
        for (const char *line = r; *line; expect++) {
                unsigned serial, pool_serial, len;
                char name[64];
                const char *tab = strchr(line, '\t');
                ck_assert_ptr_nonnull(tab);
                const char *end = strchr(tab, '\n');
                ck_assert_ptr_nonnull(end);
                ck_assert_msg(sscanf(strchr(line, ' ') + 1,
                                     "ver:3.0 server:supervisor serial:%u pool:lis poolserial:%u eventname:%63s len:%u",
                                     &serial, &pool_serial, name, &len) == 4,
                              "header: %.*s", (int)(tab - line), line);
                ck_assert_uint_eq(serial, expect);
                ck_assert_uint_eq(pool_serial, expect);
                /* len counts the payload's bytes; a newline is written as two here. */
                size_t shown = (size_t)(end - tab - 1), newlines = 0;
                for (const char *p = tab + 1; p + 1 < end; p++)
                        if (p[0] == '\\' && p[1] == 'n')
                                newlines++;
                ck_assert_uint_eq(len, shown - newlines);
                line = end + 1;
        }
        ck_assert_uint_gt(expect, 6);

        ck_assert_ptr_nonnull(strstr(r, "eventname:PROCESS_GROUP_ADDED len:15\tgroupname:once\\n"));
        ck_assert_ptr_nonnull(strstr(r, "eventname:SUPERVISOR_STATE_CHANGE_RUNNING len:0\t\n"));
        ck_assert_ptr_nonnull(
                strstr(r, "eventname:PROCESS_STATE_STARTING len:58\tprocessname:once groupname:once from_state:STOPPED tries:0"));
        /* Its own transitions too, as supervisord sends them. */
        ck_assert_ptr_nonnull(strstr(r, "\tprocessname:lis groupname:lis from_state:STARTING pid:"));
        const char *running = strstr(r, "\tprocessname:once groupname:once from_state:STARTING pid:");
        ck_assert_ptr_nonnull(running);
        int pid = atoi(running + strlen("\tprocessname:once groupname:once from_state:STARTING pid:"));
        char exited[160];
        snprintf(exited, sizeof exited, "\tprocessname:once groupname:once from_state:RUNNING expected:0 pid:%d\n", pid);
        ck_assert_msg(strstr(r, exited), "no %s in\n%s", exited, r);
        const char *tick = strstr(r, "eventname:TICK_5 len:15\twhen:");
        ck_assert_ptr_nonnull(tick);
        ck_assert_int_eq(atoll(tick + strlen("eventname:TICK_5 len:15\twhen:")) % 5, 0);
        /* Its stdout is the protocol, not its log; its stderr is logged. */
        char logfile[256], log[65536];
        snprintf(logfile, sizeof logfile, "%s/logs/lis.log", d.dir);
        ck_assert(read_text_file(logfile, log, sizeof log) < 0 || !strstr(log, "RESULT"));
        ck_assert(log_has(&d, "lis: ACKNOWLEDGED -> READY"));
        ck_assert(log_has(&d, "lis: READY -> BUSY"));
        ck_assert(log_has(&d, "lis: BUSY -> ACKNOWLEDGED"));
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_log_and_communication_events) {
        struct daemon d;
        char script[256];
        daemon_init(&d);
        write_listener(&d, script, sizeof script);
        daemon_write_config(&d,
                            "service lis {\n command = \"" PYTHON " %s %s/events.txt ok\"\n start-secs = 0.2\n"
                            " events = {PROCESS_LOG, PROCESS_COMMUNICATION}\n buffer-size = 100\n}\n"
                            "service talker {\n command = \"sh -c 'sleep 1; echo plain line; "
                            "printf \\\"x<!--XSUPERVISOR:BEGIN-->the message<!--XSUPERVISOR:END-->y\\\"; "
                            "sleep 1000'\"\n log-events = true\n capture-max-bytes = 1K\n}\n"
                            "service quiet {\n command = \"sh -c 'echo not sent; sleep 1000'\"\n}\n",
                            script, d.dir);
        daemon_start(&d);
        ASSERT_WITHIN(records_have(&d, "eventname:PROCESS_COMMUNICATION_STDOUT"), SOON_MS);
        ASSERT_WITHIN(records_have(&d, "plain line"), SOON_MS);
        pid_t talker = service_pid_of(&d, "talker");
        char want[256];
        snprintf(want, sizeof want, "\tprocessname:talker groupname:talker pid:%d\\nthe message\n", (int)talker);
        ck_assert_msg(records_have(&d, want), "no %s in\n%s", want, read_records(&d));
        snprintf(want, sizeof want, "eventname:PROCESS_LOG_STDOUT len:");
        ck_assert(records_have(&d, want));
        snprintf(want, sizeof want, "\tprocessname:talker groupname:talker pid:%d channel:stdout\\n", (int)talker);
        ck_assert(records_have(&d, want));
        ck_assert(!records_have(&d, "not sent"));
        daemon_cleanup(&d);
}
END_TEST

/* stderr = log: stderr has a pipe of its own, so its output comes as
 * PROCESS_LOG_STDERR and PROCESS_COMMUNICATION_STDERR, stdout's as _STDOUT; with
 * stderr = stdout both come as stdout, as supervisord's redirect_stderr gives them. */
START_TEST(test_stderr_events) {
        struct daemon d;
        char script[256];
        daemon_init(&d);
        write_listener(&d, script, sizeof script);
        daemon_write_config(&d,
                            "service lis {\n command = \"" PYTHON " %s %s/events.txt ok\"\n start-secs = 0.2\n"
                            " events = {PROCESS_LOG, PROCESS_COMMUNICATION}\n buffer-size = 100\n}\n"
                            "service split {\n command = \"sh -c 'sleep 1; echo to-stdout; echo to-stderr >&2; "
                            "printf \\\"<!--XSUPERVISOR:BEGIN-->err message<!--XSUPERVISOR:END-->\\\" >&2; "
                            "sleep 1000'\"\n stderr = log\n log-events = true\n capture-max-bytes = 1K\n}\n"
                            "service merged {\n command = \"sh -c 'sleep 1; echo merged-err >&2; sleep 1000'\"\n"
                            " log-events = true\n}\n",
                            script, d.dir);
        daemon_start(&d);
        ASSERT_WITHIN(records_have(&d, "eventname:PROCESS_COMMUNICATION_STDERR"), SOON_MS);
        ASSERT_WITHIN(records_have(&d, "merged-err"), SOON_MS);
        ASSERT_WITHIN(records_have(&d, "to-stdout") && records_have(&d, "to-stderr"), SOON_MS);
        pid_t split = service_pid_of(&d, "split"), merged = service_pid_of(&d, "merged");
        char want[256];
        ck_assert(records_have(&d, "eventname:PROCESS_LOG_STDERR len:"));
        snprintf(want, sizeof want, "\tprocessname:split groupname:split pid:%d channel:stderr\\nto-stderr\\n", (int)split);
        ck_assert_msg(records_have(&d, want), "no %s in\n%s", want, read_records(&d));
        snprintf(want, sizeof want, "\tprocessname:split groupname:split pid:%d channel:stdout\\nto-stdout\\n", (int)split);
        ck_assert_msg(records_have(&d, want), "no %s in\n%s", want, read_records(&d));
        snprintf(want, sizeof want, "eventname:PROCESS_COMMUNICATION_STDERR len:");
        ck_assert(records_have(&d, want));
        snprintf(want, sizeof want, "\tprocessname:split groupname:split pid:%d\\nerr message\n", (int)split);
        ck_assert_msg(records_have(&d, want), "no %s in\n%s", want, read_records(&d));
        /* stderr = stdout: one pipe, stdout's events */
        snprintf(want, sizeof want, "\tprocessname:merged groupname:merged pid:%d channel:stdout\\nmerged-err\\n",
                 (int)merged);
        ck_assert_msg(records_have(&d, want), "no %s in\n%s", want, read_records(&d));
        ck_assert(!records_have(&d, "channel:stderr\\nto-stdout"));
        daemon_cleanup(&d);
}
END_TEST

/* One request on the control socket, as the XML-RPC front-end sends sendRemoteCommEvent. */
static void raw_request(struct daemon *d, const char *line, char *out, size_t size) {
        char script[512];
        snprintf(script, sizeof script, "printf '%%s\\n' '%s' | socat -t 5 - UNIX-CONNECT:%s", line, d->sock);
        char *sh[] = { "sh", "-c", script, NULL };
        ck_assert_int_eq(run_capture(sh, out, size), 0);
}

START_TEST(test_remote_communication) {
        struct daemon d;
        char script[256], out[4096];
        daemon_init(&d);
        write_listener(&d, script, sizeof script);
        daemon_write_config(&d,
                            "service lis {\n command = \"" PYTHON " %s %s/events.txt ok\"\n start-secs = 0.2\n"
                            " events = {REMOTE_COMMUNICATION}\n}\n",
                            script, d.dir);
        daemon_start(&d);
        raw_request(&d, "remote-event deploy hello%20world%0Asecond%25line", out, sizeof out);
        ck_assert_msg(strstr(out, "OK"), "%s", out);
        raw_request(&d, "remote-event bad%zz", out, sizeof out);
        ck_assert_msg(strstr(out, "ERROR\t2\tremote-event: bad percent escape"), "%s", out);
        ASSERT_WITHIN(records_have(&d, "eventname:REMOTE_COMMUNICATION len:35\ttype:deploy\\nhello world\\nsecond%line\n"),
                      SOON_MS);
        daemon_cleanup(&d);
}
END_TEST

/* The same through supervisord's XML-RPC, as childutils' users send it: Python's
 * xmlrpc.client with supervisor's own unix-socket transport, on the control socket. */
START_TEST(test_remote_communication_over_xmlrpc) {
        struct daemon d;
        char script[256], out[4096];
        daemon_init(&d);
        write_listener(&d, script, sizeof script);
        daemon_write_config(&d,
                            "socket-http = yes\n"
                            "service lis {\n command = \"" PYTHON " %s %s/events.txt ok\"\n start-secs = 0.2\n"
                            " events = {REMOTE_COMMUNICATION}\n}\n",
                            script, d.dir);
        daemon_start(&d);
        static const char client[] =
                "import sys, xmlrpc.client\n"
                "from supervisor.xmlrpc import SupervisorTransport\n"
                "s = xmlrpc.client.ServerProxy('http://127.0.0.1', transport=SupervisorTransport(None, None, 'unix://' + sys.argv[1]))\n"
                "print(s.supervisor.sendRemoteCommEvent('de%ploy', 'hello world\\nsecond%line'))\n"
                "try:\n"
                "    s.supervisor.sendRemoteCommEvent('deploy')\n"
                "except xmlrpc.client.Fault as f:\n"
                "    print(f.faultCode, f.faultString)\n";
        char *argv[] = { PYTHON, "-c", (char *)client, d.sock, NULL };
        int r = run_capture(argv, out, sizeof out);
        ck_assert_msg(r == 0 && strcmp(out, "True\n2 INCORRECT_PARAMETERS\n") == 0, "xmlrpc: %d %s", r, out);
        ASSERT_WITHIN(records_have(&d, "eventname:REMOTE_COMMUNICATION len:36\ttype:de%ploy\\nhello world\\nsecond%line\n"),
                      SOON_MS);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_fail_is_redelivered) {
        struct daemon d;
        char script[256];
        daemon_init(&d);
        write_listener(&d, script, sizeof script);
        daemon_write_config(&d,
                            "service lis {\n command = \"" PYTHON " %s %s/events.txt failfirst\"\n start-secs = 0.2\n"
                            " events = {PROCESS_GROUP}\n}\n"
                            "service other {\n command = \"sleep 1000\"\n}\n",
                            script, d.dir);
        daemon_start(&d);
        ASSERT_WITHIN(records_have(&d, "serial:1 pool:lis"), SOON_MS);
        const char *r = read_records(&d);
        /* The same event twice, FAILed then taken, then the next. */
        const char *first = strstr(r, "serial:0 pool:lis poolserial:0 eventname:PROCESS_GROUP_ADDED len:14\tgroupname:lis");
        ck_assert_msg(first, "%s", r);
        ck_assert_msg(strstr(first + 1, "serial:0 pool:lis poolserial:0 eventname:PROCESS_GROUP_ADDED len:14\tgroupname:lis"),
                      "not redelivered:\n%s", r);
        ck_assert(log_has(&d, "lis: event was rejected"));
        ck_assert(strstr(r, "serial:1 pool:lis poolserial:1 eventname:PROCESS_GROUP_ADDED len:16\tgroupname:other"));
        /* The counts in status: one rejected, both taken in the end. */
        char out[4096];
        ASSERT_WITHIN(ctl(&d, out, sizeof out, "status lis") == 0
                              && strstr(out, "listener READY, events: 0 buffered, 0 dropped, 2 taken, 1 rejected"),
                      SOON_MS);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_hung_listener_overflow) {
        struct daemon d;
        char script[256], out[4096];
        daemon_init(&d);
        write_listener(&d, script, sizeof script);
        /* It takes its first RUNNING and never answers; nothing else waits for it. */
        daemon_write_config(&d,
                            "service lis {\n command = \"" PYTHON " %s %s/events.txt hang\"\n start-secs = 0.2\n"
                            " events = {PROCESS_STATE_RUNNING, PROCESS_STATE_STOPPED}\n buffer-size = 2\n}\n"
                            "service work {\n command = \"sleep 1000\"\n start-secs = 0.1\n}\n",
                            script, d.dir);
        daemon_start(&d);
        ASSERT_WITHIN(records_have(&d, "eventname:PROCESS_STATE_RUNNING"), SOON_MS);
        ASSERT_STATE_WITHIN(&d, "work", "RUNNING", SOON_MS);
        /* Three restarts are six events for a buffer of two. */
        for (int i = 0; i < 3; i++) {
                pid_t before = service_pid_of(&d, "work");
                ck_assert_int_eq(ctl(&d, out, sizeof out, "restart work"), 0);
                ck_assert_int_ne(service_pid_of(&d, "work"), before);
        }
        ck_assert_int_eq(ctl(&d, out, sizeof out, "status"), 0);
        ASSERT_WITHIN(log_has(&d, "pool lis event buffer overflowed, discarding event"), SOON_MS);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "status lis"), 0);
        ck_assert_msg(strstr(out, "listener BUSY, events: 2 buffered, ") && strstr(out, " 0 taken, 0 rejected"), "%s", out);
        ck_assert_msg(!strstr(out, " 0 dropped"), "%s", out);
        /* Only the first RUNNING ever reached it. */
        const char *r = read_records(&d);
        ck_assert_ptr_null(strstr(strstr(r, "PROCESS_STATE_RUNNING") + 1, "\n1"));
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_result_timeout_restarts) {
        struct daemon d;
        char script[256];
        daemon_init(&d);
        write_listener(&d, script, sizeof script);
        daemon_write_config(&d,
                            "service lis {\n command = \"" PYTHON " %s %s/events.txt hang\"\n start-secs = 0.2\n"
                            " events = {PROCESS_STATE_RUNNING}\n result-timeout = 1\n stop-timeout = 1\n}\n"
                            "service work {\n command = \"sleep 1000\"\n start-secs = 0.1\n}\n",
                            script, d.dir);
        daemon_start(&d);
        ASSERT_WITHIN(records_have(&d, "eventname:PROCESS_STATE_RUNNING"), SOON_MS);
        pid_t first = atoi(read_records(&d));
        ck_assert_int_gt(first, 0);
        /* Declared hung after result-timeout, restarted; the event it held goes to the
         * next process, with its serial. */
        ASSERT_WITHIN(log_has(&d, "lis: no result for event"), SOON_MS);
        ASSERT_WITHIN(!process_exists(first), SOON_MS);
        char again[64];
        const char *r = read_records(&d);
        const char *serial = strstr(r, " serial:");
        ck_assert_ptr_nonnull(serial);
        snprintf(again, sizeof again, "%.*s", (int)(strchr(serial + 1, ' ') - serial), serial);
        ASSERT_WITHIN_MSG(strstr(strchr(read_records(&d), '\n'), again) != NULL, SOON_MS, "%s", read_records(&d));
        ck_assert_int_ne(atoi(strchr(read_records(&d), '\n') + 1), first);
        daemon_cleanup(&d);
}
END_TEST

/* ---- fatal-action ---- */

static int wait_exit(struct daemon *d, int timeout_ms) {
        int status = -1;
        if (!WAIT_UNTIL(waitpid(d->pid, &status, WNOHANG) == d->pid, timeout_ms))
                return -1;
        d->pid = 0;
        return status;
}

START_TEST(test_fatal_action_exit) {
        struct daemon d;
        daemon_init(&d);
        daemon_write_config(&d,
                            "service keeper {\n command = \"sleep 1000\"\n start-secs = 0.1\n}\n"
                            "service broken {\n command = \"sh -c 'exit 1'\"\n start-secs = 1\n start-retries = 2\n"
                            " restart-delay = 0.1\n fatal-action = \"exit 7\"\n after = {keeper}\n}\n");
        daemon_start(&d);
        /* It may all be over before a status could see keeper: its pid is in the log. */
        int status = wait_exit(&d, SOON_MS);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 7, "status %#x", status);
        static char log[1 << 16];
        ck_assert_int_ge(read_text_file(d.log, log, sizeof log), 0);
        const char *spawned = strstr(log, "keeper: spawned pid ");
        ck_assert_ptr_nonnull(spawned);
        pid_t keeper = atoi(spawned + strlen("keeper: spawned pid "));
        ck_assert_int_gt(keeper, 0);
        ck_assert(!process_exists(keeper));
        ck_assert(log_has(&d, "broken is FATAL and has fatal-action = exit 7"));
        ck_assert(log_has(&d, "keeper: RUNNING -> STOPPING"));
        daemon_cleanup(&d);
}
END_TEST

/* The same from an INI file: fatal_action, our key in [program:x] (Python supervisord
 * ignores it), ends a container's supervisord when the program gives up. */
START_TEST(test_fatal_action_exit_ini) {
        struct daemon d;
        char logs[256];
        daemon_init(&d);
        snprintf(logs, sizeof logs, "%s/logs", d.dir);
        ck_assert_int_eq(mkdir(logs, 0700), 0);
        FILE *f = fopen(d.conf, "w");
        ck_assert_ptr_nonnull(f);
        fprintf(f,
                "[unix_http_server]\nfile = %s\n\n[supervisord]\npidfile = %s\nchildlogdir = %s\nnodaemon = true\n"
                "logfile = %s/main.log\n\n"
                "[program:keeper]\ncommand = sleep 1000\nstartsecs = 0\n\n"
                "[program:broken]\ncommand = sh -c 'sleep 0.2; exit 1'\nstartsecs = 1\nstartretries = 1\n"
                "priority = 1000\nfatal_action = exit 9\n",
                d.sock, d.pidfile, logs, d.dir);
        ck_assert_int_eq(fclose(f), 0);
        daemon_start(&d);
        int status = wait_exit(&d, SOON_MS);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 9, "status %#x", status);
        static char log[1 << 16];
        ck_assert_int_ge(read_text_file(d.log, log, sizeof log), 0);
        const char *spawned = strstr(log, "keeper: spawned pid ");
        ck_assert_ptr_nonnull(spawned);
        pid_t keeper = atoi(spawned + strlen("keeper: spawned pid "));
        ck_assert_int_gt(keeper, 0);
        ck_assert(!process_exists(keeper));
        ck_assert(log_has(&d, "broken is FATAL and has fatal-action = exit 9"));
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_fatal_action_default_and_shutdown) {
        struct daemon d;
        char out[4096];
        daemon_init(&d);
        /* By default a FATAL service changes nothing else. */
        daemon_write_config(&d, "service broken {\n command = \"sh -c 'exit 1'\"\n start-secs = 1\n start-retries = 1\n}\n");
        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "broken", "FATAL", SOON_MS);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "pid"), 0);
        ck_assert_int_eq(daemon_stop(&d, SOON_MS), 0);
        daemon_cleanup(&d);

        /* The service gives up only after a while: supervisord must answer first, for
         * daemon_start (a slow machine, valgrind), before it ends. */
        daemon_init(&d);
        daemon_write_config(&d, "service keeper {\n command = \"sleep 1000\"\n start-secs = 0.1\n}\n"
                                "service broken {\n command = \"sh -c 'sleep 5; exit 1'\"\n start-secs = 10\n"
                                " start-retries = 1\n fatal-action = exit\n}\n");
        daemon_start(&d);
        int status = wait_exit(&d, SOON_MS);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 3, "status %#x", status);
        daemon_cleanup(&d);

        daemon_init(&d);
        daemon_write_config(&d, "service broken {\n command = \"sh -c 'sleep 5; exit 1'\"\n start-secs = 10\n"
                                " start-retries = 1\n fatal-action = shutdown\n}\n");
        daemon_start(&d);
        status = wait_exit(&d, SOON_MS);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x", status);
        daemon_cleanup(&d);
}
END_TEST

/* supervisord's [eventlistener:x] with numprocs: one pool of two childutils listeners,
 * named and grouped as supervisord names them, sharing one buffer (each event to one of
 * them, poolserials with no gap and no repeat), getting only what events= names. */
START_TEST(test_ini_eventlistener_pool) {
        struct daemon d;
        char script[256], logs[256], out[4096];
        daemon_init(&d);
        write_listener(&d, script, sizeof script);
        snprintf(logs, sizeof logs, "%s/logs", d.dir);
        ck_assert_int_eq(mkdir(logs, 0700), 0);
        FILE *f = fopen(d.conf, "w");
        ck_assert_ptr_nonnull(f);
        fprintf(f,
                "[unix_http_server]\nfile = %s\n\n"
                "[supervisord]\npidfile = %s\nchildlogdir = %s\nlogfile = %s/main.log\nloglevel = debug\n\n"
                "[eventlistener:pool]\ncommand = " PYTHON " %s %s/events.txt ok\nnumprocs = 2\n"
                "process_name = %%(program_name)s_%%(process_num)s\nevents = process_state_running\n"
                "buffer_size = 50\nstartsecs = 0\n\n"
                "[program:web]\ncommand = sleep 1000\nstartsecs = 0\n",
                d.sock, d.pidfile, logs, d.dir, script, d.dir);
        ck_assert_int_eq(fclose(f), 0);
        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "pool:pool_0", "RUNNING", SOON_MS);
        ASSERT_STATE_WITHIN(&d, "pool:pool_1", "RUNNING", SOON_MS);
        ASSERT_STATE_WITHIN(&d, "web", "RUNNING", SOON_MS);
        pid_t listeners[2] = { service_pid_of(&d, "pool:pool_0"), service_pid_of(&d, "pool:pool_1") };
        ck_assert(process_exists(listeners[0]) && process_exists(listeners[1]));
        pid_t webs[4];
        webs[0] = service_pid_of(&d, "web");
        for (int i = 1; i < 4; i++) {
                ck_assert_int_eq(ctl(&d, out, sizeof out, "restart web"), 0);
                webs[i] = service_pid_of(&d, "web");
                ck_assert_int_gt(webs[i], 0);
        }
        char want[160];
        snprintf(want, sizeof want, "\tprocessname:web groupname:web from_state:STARTING pid:%d\n", (int)webs[3]);
        ASSERT_WITHIN_MSG(records_have(&d, want), SOON_MS, "no %s in\n%s", want, read_records(&d));

        const char *r = read_records(&d);
        bool seen[64] = { false };
        unsigned n = 0, highest = 0, by[2] = { 0, 0 };
        for (const char *line = r; *line; n++) {
                int pid;
                unsigned serial, pool_serial;
                char name[64];
                const char *end = strchr(line, '\n');
                ck_assert_ptr_nonnull(end);
                ck_assert_msg(sscanf(line, "%d ver:3.0 server:supervisor serial:%u pool:pool poolserial:%u eventname:%63s",
                                     &pid, &serial, &pool_serial, name) == 4,
                              "record: %.*s", (int)(end - line), line);
                ck_assert_str_eq(name, "PROCESS_STATE_RUNNING");
                ck_assert_msg(pid == listeners[0] || pid == listeners[1], "from pid %d", pid);
                by[pid == listeners[1]]++;
                ck_assert_uint_lt(pool_serial, 64);
                ck_assert_msg(!seen[pool_serial], "poolserial %u twice:\n%s", pool_serial, r);
                seen[pool_serial] = true;
                if (pool_serial > highest)
                        highest = pool_serial;
                line = end + 1;
        }
        /* the listeners' own two, then web's four */
        ck_assert_uint_ge(n, 6);
        ck_assert_uint_eq(highest + 1, n);
        for (int i = 0; i < 4; i++) {
                snprintf(want, sizeof want, "\tprocessname:web groupname:web from_state:STARTING pid:%d\n", (int)webs[i]);
                ck_assert_msg(strstr(r, want), "no %s in\n%s", want, r);
        }
        ck_assert_ptr_nonnull(strstr(r, "\tprocessname:pool_1 groupname:pool from_state:STARTING pid:"));
        /* Listener state changes are logged under each process's name. */
        char mainlog[256];
        snprintf(mainlog, sizeof mainlog, "%s/main.log", d.dir);
        static char text[1 << 20];
        ck_assert_int_ge(read_text_file(mainlog, text, sizeof text), 0);
        ck_assert_msg(strstr(text, "pool_0: ACKNOWLEDGED -> READY") || strstr(text, "pool_1: ACKNOWLEDGED -> READY"),
                      "%s", text);
        daemon_cleanup(&d);
}
END_TEST

/* The event types not seen above, from a real daemon: PROCESS_READY (type = notify),
 * PROCESS_HEARTBEAT_MISSED, PROCESS_GROUP_REMOVED (an update that drops a service) and
 * SUPERVISOR_STATE_CHANGE_STOPPING (the shutdown; the listener, priority -1, stops last,
 * after `slow`'s half second). */
START_TEST(test_lifecycle_event_types) {
        struct daemon d;
        char script[256], out[4096];
        daemon_init(&d);
        write_listener(&d, script, sizeof script);
#define LIFECYCLE_COMMON                                                                                        \
                "service lis {\n command = \"" PYTHON " %s %s/events.txt ok\"\n start-secs = 0.2\n priority = -1\n" \
                " events = {PROCESS_GROUP, SUPERVISOR_STATE_CHANGE, PROCESS_READY, PROCESS_HEARTBEAT_MISSED}\n" \
                " buffer-size = 100\n}\n" \
                "service ready {\n type = notify\n start-secs = 30\n" \
                " command = \"/bin/sh -c 'sleep 0.3; systemd-notify --ready; exec sleep 1000'\"\n}\n" \
                "service silent {\n command = \"sleep 1000\"\n heartbeat-interval = 0.5\n heartbeat-timeout = 0.25\n" \
                " start-secs = 0.1\n restart = never\n}\n" \
                "service slow {\n command = \"sh -c 'trap \\\"sleep 0.5; exit 0\\\" TERM; while :; do sleep 0.1; done'\"\n" \
                " start-secs = 0\n}\n"
        daemon_write_config(&d, LIFECYCLE_COMMON "service gone {\n command = \"sleep 1000\"\n start-secs = 0\n}\n",
                            script, d.dir);
        daemon_start(&d);
        ASSERT_WITHIN(records_have(&d, "eventname:PROCESS_READY len:"), SOON_MS);
        ASSERT_WITHIN(records_have(&d, "eventname:PROCESS_HEARTBEAT_MISSED len:"), SOON_MS + 3000);
        ASSERT_STATE_WITHIN(&d, "gone", "RUNNING", SOON_MS);
        daemon_write_config(&d, LIFECYCLE_COMMON, script, d.dir);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "update"), 0);
        ASSERT_WITHIN(records_have(&d, "eventname:PROCESS_GROUP_REMOVED len:15\tgroupname:gone\\n"), SOON_MS);
        ASSERT_STATE_WITHIN(&d, "slow", "RUNNING", SOON_MS);
        ck_assert_int_eq(daemon_stop(&d, 30000), 0);
        const char *r = read_records(&d);
        ck_assert_msg(strstr(r, "eventname:PROCESS_READY len:"), "%s", r);
        const char *ready = strstr(r, "eventname:PROCESS_READY len:");
        ck_assert_msg(strstr(ready, "\tprocessname:ready groupname:ready from_state:STARTING pid:"), "%s", r);
        const char *missed = strstr(r, "eventname:PROCESS_HEARTBEAT_MISSED len:");
        ck_assert_msg(strstr(missed, "\tprocessname:silent groupname:silent from_state:RUNNING pid:"), "%s", r);
        ck_assert_msg(strstr(r, "eventname:SUPERVISOR_STATE_CHANGE_STOPPING len:0\t\n"), "%s", r);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_config_errors) {
        struct daemon d;
        char out[4096];
        static const char *const bad[][2] = {
                { "events = {PROCESS_STATE, NO_SUCH_EVENT}", "events: 'NO_SUCH_EVENT' is not an event type" },
                { "buffer-size = 0", "buffer-size: '0' is not an integer from 1 to 100000" },
                { "fatal-action = \"exit 0\"", "fatal-action: 'exit 0' is not one of none, shutdown, exit, exit CODE" },
                { "fatal-action = restart", "fatal-action: 'restart' is not one of" },
                { "events = {TICK}\n stdout = null", "events: an event listener's stdout is its answers" },
                { "result-timeout = soon", "result-timeout: 'soon' is not a number of seconds" },
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                daemon_init(&d);
                daemon_write_config(&d, "service x {\n command = \"sleep 1\"\n %s\n}\n", bad[i][0]);
                char *argv[] = { (char *)supervisord_path(), "-t", "-c", d.conf, NULL };
                int status = run_capture(argv, out, sizeof out);
                ck_assert_msg(status == 2, "%s: status %d", bad[i][0], status);
                ck_assert_msg(strstr(out, bad[i][1]) && strstr(out, "supervisord.conf:6:"), "%s: %s", bad[i][0], out);
                daemon_cleanup(&d);
        }
}
END_TEST

int main(void) {
        Suite *s = suite_create("listener");
        TCase *unit = tcase_create("unit");
        tcase_add_test(unit, test_type_hierarchy);
        tcase_add_test(unit, test_format);
        tcase_add_test(unit, test_parse_answers);
        tcase_add_test(unit, test_capture_filter);
        suite_add_tcase(s, unit);
        TCase *live = tcase_create("daemon");
        tcase_set_timeout(live, 120);
        tcase_add_test(live, test_events_reach_listener);
        tcase_add_test(live, test_listener_calls_back);
        tcase_add_test(live, test_log_and_communication_events);
        tcase_add_test(live, test_stderr_events);
        tcase_add_test(live, test_remote_communication);
        tcase_add_test(live, test_remote_communication_over_xmlrpc);
        tcase_add_test(live, test_fail_is_redelivered);
        tcase_add_test(live, test_hung_listener_overflow);
        tcase_add_test(live, test_result_timeout_restarts);
        tcase_add_test(live, test_fatal_action_exit);
        tcase_add_test(live, test_fatal_action_exit_ini);
        tcase_add_test(live, test_fatal_action_default_and_shutdown);
        tcase_add_test(live, test_config_errors);
        tcase_add_test(live, test_lifecycle_event_types);
        tcase_add_test(live, test_ini_eventlistener_pool);
        suite_add_tcase(s, live);
        return run_suite(s);
}
