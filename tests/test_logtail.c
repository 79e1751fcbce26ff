/* test_logtail.c — processes' logs and the main log read through supervisord's own
 * clients (issues 18, 19): Python's xmlrpc.client for readProcess*Log and
 * tailProcess*Log (each result compared with what Python supervisor's own readFile and
 * tailFile give on the same file), and the faults. */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

#define PYTHON "/usr/bin/python3"

static unsigned free_port(void) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof sa;
        ck_assert(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0
                  && getsockname(fd, (struct sockaddr *)&sa, &len) == 0);
        close(fd);
        return ntohs(sa.sin_port);
}

static unsigned port;
static char out[1 << 16];

/* both: stdout and stderr in one file; quiet: stderr to null; nolog: neither logged. */
static void start_daemon(struct daemon *d) {
        daemon_init(d);
        port = free_port();
        daemon_write_config(d,
                            "log-file = %s/main.log\n"
                            "http-listen = \"127.0.0.1:%u\"\n"
                            "http-username = \"admin\"\n"
                            "http-password = \"secret\"\n"
                            "service both {\n command = \"/bin/sh -c 'echo out1; echo err1 >&2; exec sleep 1000'\"\n"
                            " start-secs = 0.2\n}\n"
                            "service quiet {\n command = \"/bin/sh -c 'echo hello; exec sleep 1000'\"\n"
                            " stderr = null\n start-secs = 0.2\n}\n"
                            "service nolog {\n command = \"sleep 1000\"\n stdout = null\n stderr = null\n"
                            " start-secs = 0.2\n}\n",
                            d->dir, port);
        daemon_start(d);
        ck_assert(wait_for_state(d, "both", "RUNNING", SOON_MS));
        ck_assert(wait_for_state(d, "quiet", "RUNNING", SOON_MS));
        char path[256];
        snprintf(path, sizeof path, "%s/logs/both.log", d->dir);
        ck_assert(WAIT_UNTIL(read_text_file(path, out, sizeof out) == 10, SOON_MS));
        snprintf(path, sizeof path, "%s/logs/quiet.log", d->dir);
        ck_assert(WAIT_UNTIL(read_text_file(path, out, sizeof out) == 6, SOON_MS));
}

/* Every read and tail of both's log, ours against supervisor.options' readFile and
 * tailFile on the same file, then the faults. */
START_TEST(test_read_and_tail_methods) {
        struct daemon d;
        char url[64], log[256];
        start_daemon(&d);
        snprintf(url, sizeof url, "http://admin:secret@127.0.0.1:%u/RPC2", port);
        snprintf(log, sizeof log, "%s/logs/both.log", d.dir);
        static const char script[] =
                "import sys, xmlrpc.client\n"
                "from supervisor.options import readFile, tailFile\n"
                "s = xmlrpc.client.ServerProxy(sys.argv[1]).supervisor\n"
                "log = sys.argv[2]\n"
                "bad = 0\n"
                "reads = [(0, 0), (3, 4), (8, 100), (10, 0), (500, 10), (-5, 0), (-1000, 0)]\n"
                "for m in ('readProcessStdoutLog', 'readProcessLog', 'readProcessStderrLog'):\n"
                "    for o, l in reads:\n"
                "        ours, theirs = getattr(s, m)('both', o, l), readFile(log, o, l).decode()\n"
                "        if ours != theirs:\n"
                "            bad += 1; print('MISMATCH', m, o, l, repr(ours), repr(theirs))\n"
                "tails = [(0, 4), (0, 100), (10, 100), (9, 1), (12, 5), (0, 0), (5, 100), (-3, 2), (3, -2),\n"
                "         (20, -30), (0, 10), (2, 3)]\n"
                "for m in ('tailProcessStdoutLog', 'tailProcessLog', 'tailProcessStderrLog'):\n"
                "    for o, l in tails:\n"
                "        ours, theirs = getattr(s, m)('both', o, l), tailFile(log, o, l)\n"
                "        if ours != theirs:\n"
                "            bad += 1; print('MISMATCH', m, o, l, ours, theirs)\n"
                "print('compared', bad)\n"
                "print(s.readProcessStdoutLog('quiet', 0, 0), end='')\n"
                "print(s.tailProcessStderrLog('quiet', 0, 100))\n"
                "print(s.tailProcessStdoutLog('nolog', 0, 100))\n"
                "print(s.tailProcessLog('both', 0, 4))\n"
                "calls = [('readProcessStderrLog', 'quiet', 0, 0), ('readProcessStdoutLog', 'nolog', 0, 0),\n"
                "         ('readProcessStdoutLog', 'nosuch', 0, 0), ('readProcessStderrLog', 'both:*', 0, 0),\n"
                "         ('readProcessStdoutLog', 'both', -1, 5), ('readProcessStdoutLog', 'both', 0, -1),\n"
                "         ('readProcessStdoutLog', 'nosuch', -1, 5), ('readProcessStdoutLog', 'both', 'x', 0),\n"
                "         ('readProcessStdoutLog', 'both', 0), ('tailProcessStdoutLog', 'nosuch', 0, 10),\n"
                "         ('tailProcessStderrLog', 'both:', 0, 10)]\n"
                "for c in calls:\n"
                "    try:\n"
                "        print(c, 'returned', repr(getattr(s, c[0])(*c[1:])))\n"
                "    except xmlrpc.client.Fault as f:\n"
                "        print(c, f.faultCode, f.faultString)\n";
        char *argv[] = { PYTHON, "-c", (char *)script, url, log, NULL };
        int r = run_capture(argv, out, sizeof out);
        ck_assert_msg(r == 0, "xmlrpc.client: %d\n%s", r, out);
        ck_assert_msg(strstr(out, "compared 0\n"), "%s", out);
        static const char *const expected[] = {
                "hello\n['', 0, False]\n['', 0, False]\n['rr1\\n', 10, True]\n",
                "('readProcessStderrLog', 'quiet', 0, 0) 20 NO_FILE: None\n",
                "('readProcessStdoutLog', 'nolog', 0, 0) 20 NO_FILE: None\n",
                "('readProcessStdoutLog', 'nosuch', 0, 0) 10 BAD_NAME: nosuch\n",
                "('readProcessStderrLog', 'both:*', 0, 0) 10 BAD_NAME: both:*\n",
                "('readProcessStdoutLog', 'both', -1, 5) 3 BAD_ARGUMENTS\n",
                "('readProcessStdoutLog', 'both', 0, -1) 3 BAD_ARGUMENTS\n",
                "('readProcessStdoutLog', 'nosuch', -1, 5) 10 BAD_NAME: nosuch\n",
                "('readProcessStdoutLog', 'both', 'x', 0) 2 INCORRECT_PARAMETERS\n",
                "('readProcessStdoutLog', 'both', 0) 2 INCORRECT_PARAMETERS\n",
                "('tailProcessStdoutLog', 'nosuch', 0, 10) 10 BAD_NAME: nosuch\n",
                "('tailProcessStderrLog', 'both:', 0, 10) 10 BAD_NAME: both:\n",
        };
        for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++)
                ck_assert_msg(strstr(out, expected[i]), "want %s in:\n%s", expected[i], out);
        char *list[] = { PYTHON, "-c",
                         "import sys, xmlrpc.client\n"
                         "s = xmlrpc.client.ServerProxy(sys.argv[1]).system\n"
                         "for m in ('readProcessStdoutLog', 'readProcessLog', 'readProcessStderrLog',\n"
                         "          'tailProcessStdoutLog', 'tailProcessLog', 'tailProcessStderrLog'):\n"
                         "    print(m, 'supervisor.' + m in s.listMethods(), s.methodSignature('supervisor.' + m))\n",
                         url, NULL };
        r = run_capture(list, out, sizeof out);
        ck_assert_msg(r == 0 && strstr(out, "readProcessStderrLog True ['string', 'string', 'int', 'int']\n")
                              && strstr(out, "tailProcessLog True ['array', 'string', 'int', 'int']\n"),
                      "%d %s", r, out);
        daemon_cleanup(&d);
}
END_TEST

static Suite *logtail_suite(void) {
        Suite *s = suite_create("logtail");
        TCase *tc = tcase_create("logtail");
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, test_read_and_tail_methods);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) { return run_suite(logtail_suite()) ? EXIT_FAILURE : EXIT_SUCCESS; }
