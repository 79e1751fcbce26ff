/* test_http_shutdown.c — the XML-RPC interface while supervisord shuts down (issue 18):
 * as supervisord's, every supervisor.* call is then the SHUTDOWN_STATE fault (getState
 * and a second shutdown among them) while system.* calls are still served, and Python's
 * supervisorctl says "ERROR: already shutting down". */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define PYTHON_CTL "/usr/bin/supervisorctl"

START_TEST(test_state_while_shutting_down) {
        struct daemon d;
        char url[300], out[8192];
        daemon_init(&d);
        /* stubborn ignores SIGTERM: the shutdown waits out its stop-timeout, time enough
         * to ask while supervisord is stopping. */
        FILE *f = fopen(d.conf, "w");
        ck_assert_ptr_nonnull(f);
        fprintf(f, "[unix_http_server]\nfile = %%(here)s/sock\n\n[supervisord]\npidfile = %%(here)s/pid\n"
                   "logfile = %%(here)s/supervisord.log\nchildlogdir = %%(here)s\n\n"
                   "[program:stubborn]\ncommand = sh -c 'trap \"\" TERM; while :; do sleep 1; done'\nstartsecs = 0\n"
                   "stopwaitsecs = 600\n");
        ck_assert_int_eq(fclose(f), 0);
        daemon_start(&d);
        ck_assert(wait_for_state(&d, "stubborn", "RUNNING", SOON_MS));
        snprintf(url, sizeof url, "unix://%s", d.sock);
        static const char script[] =
                "import sys, time, xmlrpc.client\n"
                "from supervisor.xmlrpc import SupervisorTransport\n"
                "s = xmlrpc.client.ServerProxy('http://127.0.0.1', transport=SupervisorTransport(None, None, sys.argv[1]))\n"
                "def call(f, *a):\n"
                "    try:\n"
                "        return f(*a)\n"
                "    except xmlrpc.client.Fault as e:\n"
                "        return (e.faultCode, e.faultString)\n"
                "print(call(s.supervisor.getState))\n"
                "print(call(s.supervisor.shutdown))\n"
                "deadline = time.time() + 20\n"
                "while call(s.supervisor.getState) != (6, 'SHUTDOWN_STATE') and time.time() < deadline:\n"
                "    time.sleep(0.05)\n"
                "print(call(s.supervisor.getState))\n"
                "print(call(s.supervisor.shutdown))\n"
                "print(call(s.supervisor.getProcessInfo, 'stubborn'))\n"
                "print(call(s.supervisor.nosuch))\n"
                "print('supervisor.getState' in call(s.system.listMethods))\n";
        char *argv[] = { "/usr/bin/python3", "-c", (char *)script, url, NULL };
        int r = run_capture(argv, out, sizeof out);
        ck_assert_msg(r == 0 && strcmp(out, "{'statecode': 1, 'statename': 'RUNNING'}\nTrue\n(6, 'SHUTDOWN_STATE')\n"
                                            "(6, 'SHUTDOWN_STATE')\n(6, 'SHUTDOWN_STATE')\n(1, 'UNKNOWN_METHOD')\nTrue\n") == 0,
                      "%d\n%s", r, out);
        char *ctl_argv[] = { PYTHON_CTL, "-s", url, "shutdown", NULL };
        r = run_capture(ctl_argv, out, sizeof out);
        ck_assert_msg(strcmp(out, "ERROR: already shutting down\n") == 0, "supervisorctl shutdown: %d %s", r, out);
        /* Still stopping: the process is there until its stop-timeout, or until killed. */
        pid_t stubborn = service_pid_of(&d, "stubborn");
        ck_assert(process_exists(stubborn) && process_exists(d.pid));
        ck_assert_int_eq(kill(stubborn, SIGKILL), 0);
        int status;
        ck_assert(WAIT_UNTIL(waitpid(d.pid, &status, WNOHANG) == d.pid, SOON_MS));
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        d.pid = 0;
        daemon_cleanup(&d);
}
END_TEST

static Suite *http_shutdown_suite(void) {
        Suite *s = suite_create("http_shutdown");
        TCase *tc = tcase_create("http_shutdown");
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, test_state_while_shutting_down);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) { return run_suite(http_shutdown_suite()) ? 1 : 0; }
