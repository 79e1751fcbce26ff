/* test_stdin.c — a service's stdin (issue 18): `stdin = pipe` and the /dev/null default,
 * the protocol's `stdin` verb and its faults, supervisord's sendProcessStdin through
 * Python's xmlrpc.client on an INI config (where every program has the pipe), a process
 * that never reads holding up nothing, and `fg` — ours and Python's supervisorctl's —
 * driven through a pseudo-terminal, Ctrl-C leaving the process running. */
#include <errno.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define PYTHON_CTL "/usr/bin/supervisorctl"

/* A reader that answers each line it gets on its log, one that closes its stdin at once,
 * and one that never reads. */
#define ECHO_COMMAND "sh -c 'while read -r l; do echo \"got: $l\"; done'"

static void write_ini(struct daemon *d) {
        FILE *f = fopen(d->conf, "w");
        ck_assert_ptr_nonnull(f);
        fprintf(f, "[unix_http_server]\nfile = %%(here)s/sock\n\n[supervisord]\npidfile = %%(here)s/pid\n"
                   "logfile = %%(here)s/supervisord.log\nchildlogdir = %%(here)s\n\n"
                   "[program:echo]\ncommand = %s\nstartsecs = 0\n\n"
                   "[program:closer]\ncommand = sh -c 'exec 0<&-; exec sleep 1000'\nstartsecs = 0\n\n"
                   "[program:idle]\ncommand = sleep 1000\nautostart = false\n",
                ECHO_COMMAND);
        ck_assert_int_eq(fclose(f), 0);
}

static void start_ini(struct daemon *d) {
        daemon_init(d);
        write_ini(d);
        daemon_start(d);
        ck_assert(wait_for_state(d, "echo", "RUNNING", SOON_MS));
        ck_assert(wait_for_state(d, "closer", "RUNNING", SOON_MS));
}

/* What /proc shows as fd 0 of PID: "/dev/null", "pipe:[N]", ... */
static const char *stdin_of(pid_t pid, char *buf, size_t size) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/fd/0", (int)pid);
        ssize_t n = readlink(path, buf, size - 1);
        buf[n < 0 ? 0 : n] = '\0';
        return buf;
}

static bool file_has(const char *path, const char *text) {
        static char content[65536];
        return read_text_file(path, content, sizeof content) >= 0 && strstr(content, text);
}

/* One request of the line protocol, as `socat` sends it; the answer into OUT. */
static int raw_request(struct daemon *d, const char *request, char *out, size_t size) {
        char *argv[] = { "sh", "-c", "printf '%s\\n' \"$1\" | socat -t 5 - UNIX-CONNECT:\"$0\"", d->sock,
                         (char *)request, NULL };
        return run_capture(argv, out, size);
}

START_TEST(test_stdin_pipe_and_the_verb) {
        struct daemon d;
        char out[4096], fd0[128], log[256];
        daemon_init(&d);
        daemon_write_config(&d,
                            "service plain {\n command = \"sleep 1000\"\n start-secs = 0\n}\n"
                            "service reader {\n command = \"%s\"\n stdin = pipe\n start-secs = 0\n}\n"
                            "service stopped {\n command = \"sleep 1000\"\n stdin = pipe\n autostart = false\n}\n",
                            "sh -c 'while read -r l; do echo \\\"got: $l\\\"; done'");
        daemon_start(&d);
        ck_assert(wait_for_state(&d, "plain", "RUNNING", SOON_MS) && wait_for_state(&d, "reader", "RUNNING", SOON_MS));
        /* The default keeps one descriptor per service: no pipe, /dev/null. */
        ck_assert_str_eq(stdin_of(service_pid_of(&d, "plain"), fd0, sizeof fd0), "/dev/null");
        ck_assert_msg(strncmp(stdin_of(service_pid_of(&d, "reader"), fd0, sizeof fd0), "pipe:[", 6) == 0, "%s", fd0);

        raw_request(&d, "stdin reader two%20words%0Aand%25more%0A", out, sizeof out);
        ck_assert_msg(strstr(out, "RESULT\treader\tok\tsent\tok\nOK\n"), "%s", out);
        snprintf(log, sizeof log, "%s/logs/reader.log", d.dir);
        ASSERT_WITHIN(file_has(log, "got: two words\ngot: and%more\n"), SOON_MS);
        /* The faults sendProcessStdin reports. */
        raw_request(&d, "stdin plain x", out, sizeof out);
        ck_assert_msg(strstr(out, "\tno-file\n") && strstr(out, "ERROR\t1\t"), "%s", out);
        raw_request(&d, "stdin stopped x", out, sizeof out);
        ck_assert_msg(strstr(out, "\tnot-running\n") && strstr(out, "ERROR\t3\t"), "%s", out);
        raw_request(&d, "stdin nosuch x", out, sizeof out);
        ck_assert_msg(strncmp(out, "ERROR\t4\t", 8) == 0, "%s", out);
        raw_request(&d, "stdin reader bad%escape", out, sizeof out);
        ck_assert_msg(strncmp(out, "ERROR\t2\t", 8) == 0, "%s", out);
        /* The process goes: its pipe with it; the next one gets a new one. */
        pid_t old = service_pid_of(&d, "reader");
        ck_assert_int_eq(ctl(&d, out, sizeof out, "restart reader"), 0);
        pid_t now = service_pid_of(&d, "reader");
        ck_assert_int_ne(old, now);
        raw_request(&d, "stdin reader again%0A", out, sizeof out);
        ck_assert_msg(strstr(out, "\nOK\n"), "%s", out);
        ASSERT_WITHIN(file_has(log, "got: again\n"), SOON_MS);
        daemon_cleanup(&d);
}
END_TEST

/* An event listener's stdin carries its events: a pipe of its own is a config error. */
START_TEST(test_stdin_pipe_refused_for_listener) {
        struct daemon d;
        char out[4096];
        daemon_init(&d);
        daemon_write_config(&d, "service l {\n command = \"cat\"\n events = { TICK_5 }\n stdin = pipe\n}\n");
        char *argv[] = { (char *)supervisord_path(), "-t", "-c", d.conf, NULL };
        int r = run_capture(argv, out, sizeof out);
        ck_assert_msg(r == 2 && strstr(out, "supervisord.conf:") && strstr(out, "event listener"), "%d %s", r, out);
        daemon_cleanup(&d);
}
END_TEST

static int python(char *out, size_t size, const char *script, const char *sock) {
        char url[300];
        snprintf(url, sizeof url, "unix://%s", sock);
        char *argv[] = { "/usr/bin/python3", "-c", (char *)script, url, NULL };
        return run_capture(argv, out, size);
}

#define PY_PROXY                                                                                                 \
        "import sys, xmlrpc.client\n"                                                                            \
        "from supervisor.xmlrpc import SupervisorTransport\n"                                                    \
        "s = xmlrpc.client.ServerProxy('http://127.0.0.1', transport=SupervisorTransport(None, None, sys.argv[1]))\n" \
        "def call(*a):\n"                                                                                        \
        "    try:\n"                                                                                             \
        "        print(s.supervisor.sendProcessStdin(*a))\n"                                                     \
        "    except xmlrpc.client.Fault as f:\n"                                                                 \
        "        print(f.faultCode, f.faultString)\n"

START_TEST(test_send_process_stdin) {
        struct daemon d;
        char out[8192], log[256];
        start_ini(&d);
        /* Longer than one request of the line protocol, with bytes it encodes. */
        static const char script[] = PY_PROXY
                "call('echo', 'first line\\n')\n"
                "call('echo', ''.join('%d%% é\\t' % i for i in range(3000)) + '\\n')\n"
                "call('echo', '')\n"
                "call('nosuch', 'x')\n"
                "call('echo:*', 'x')\n"
                "call('closer', 'x')\n"
                "call('idle', 'x')\n"
                "call('echo', 5)\n";
        int r = python(out, sizeof out, script, d.sock);
        ck_assert_msg(r == 0 && strcmp(out, "True\nTrue\nTrue\n10 BAD_NAME: nosuch\n10 BAD_NAME: echo:*\n"
                                            "20 NO_FILE: closer\n70 NOT_RUNNING: idle\n2 INCORRECT_PARAMETERS\n") == 0,
                      "%d\n%s", r, out);
        snprintf(log, sizeof log, "%s/echo.log", d.dir);
        ASSERT_WITHIN(file_has(log, "got: first line\n"), SOON_MS);
        /* read -r keeps the tabs inside (not the last); the line arrives whole and in order. */
        ASSERT_WITHIN(file_has(log, "\t2999% é\n"), SOON_MS);
        ck_assert(file_has(log, "got: 0% é\t1% é\t2% é\t"));
        daemon_cleanup(&d);
}
END_TEST

/* A process that never reads its stdin: the pipe fills, then supervisord's bounded buffer,
 * then the call fails; supervisord answers everything else all along. */
START_TEST(test_stdin_never_blocks) {
        struct daemon d;
        char out[8192];
        start_ini(&d);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "start idle"), 0);
        static const char script[] = PY_PROXY
                "for i in range(64):\n"
                "    try:\n"
                "        s.supervisor.sendProcessStdin('idle', 'x' * 16384)\n"
                "    except xmlrpc.client.Fault as f:\n"
                "        print(i > 4, f.faultCode, f.faultString)\n"
                "        break\n"
                "print(s.supervisor.getProcessInfo('idle')['statename'])\n";
        int r = python(out, sizeof out, script, d.sock);
        ck_assert_msg(r == 0 && strstr(out, "True 30 FAILED: ") && strstr(out, "not reading") && strstr(out, "\nRUNNING\n"),
                      "%d\n%s", r, out);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "status echo"), 0);
        /* Stopped, the bytes that waited are dropped with its pipe. */
        ck_assert_int_eq(ctl(&d, out, sizeof out, "stop idle"), 0);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "start idle"), 0);
        r = python(out, sizeof out, PY_PROXY "call('idle', 'y')\n", d.sock);
        ck_assert_msg(r == 0 && strcmp(out, "True\n") == 0, "%d %s", r, out);
        daemon_cleanup(&d);
}
END_TEST

/* ---- a pseudo-terminal ---- */

struct term {
        pid_t pid;
        int fd;  /* the master */
        char seen[32768];
        size_t len;
};

static void term_start(struct term *t, char *const argv[]) {
        t->len = 0;
        t->seen[0] = '\0';
        t->pid = forkpty(&t->fd, NULL, NULL, NULL);
        ck_assert_int_ge(t->pid, 0);
        if (t->pid == 0) {
                execv(argv[0], argv);
                _exit(127);
        }
}

static bool term_shows(struct term *t, const char *text) {
        struct pollfd p = { .fd = t->fd, .events = POLLIN };
        while (poll(&p, 1, 10) > 0 && t->len < sizeof t->seen - 1) {
                ssize_t n = read(t->fd, t->seen + t->len, sizeof t->seen - 1 - t->len);
                if (n <= 0)
                        break;
                t->len += (size_t)n;
                t->seen[t->len] = '\0';
        }
        return strstr(t->seen, text) != NULL;
}

static void term_type(struct term *t, const char *text) {
        ck_assert_int_eq(write(t->fd, text, strlen(text)), (ssize_t)strlen(text));
}

/* Its exit status once it has ended (within SOON_MS), or -1. */
static int term_wait(struct term *t) {
        int status = 0;
        pid_t r = 0;
        if (!WAIT_UNTIL((term_shows(t, "\001"), (r = waitpid(t->pid, &status, WNOHANG)) == t->pid), SOON_MS)) {
                kill(t->pid, SIGKILL);
                waitpid(t->pid, &status, 0);
                r = -1;
        }
        close(t->fd);
        return r == t->pid && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* fg on a terminal: the prompt, a line typed reaching the process and its answer shown,
 * Ctrl-C ending fg and not the process. */
static void check_fg(struct daemon *d, char *const argv[], bool shows_output) {
        struct term t;
        char log[256], state[64];
        snprintf(log, sizeof log, "%s/echo.log", d->dir);
        pid_t echo = service_pid_of(d, "echo");
        term_start(&t, argv);
        ASSERT_WITHIN_MSG(term_shows(&t, "==> Press Ctrl-C to exit <==\r\n"), SOON_MS, "%.4000s", t.seen);
        term_type(&t, "typed at 4242\n");
        ASSERT_WITHIN_MSG(file_has(log, "got: typed at 4242\n"), SOON_MS, "terminal: %.4000s", t.seen);
        if (shows_output)
                ASSERT_WITHIN_MSG(term_shows(&t, "got: typed at 4242\r\n"), SOON_MS, "%.4000s", t.seen);
        term_type(&t, "\003");
        ASSERT_WITHIN_MSG(term_shows(&t, "Exiting foreground"), SOON_MS, "%.4000s", t.seen);
        /* Python's fg ends once its /logtail reader thread, blocked in a read, wakes: more
         * output does that (and is nothing to ours). */
        char answer[512];
        raw_request(d, "stdin echo after%20fg%0A", answer, sizeof answer);
        int r = term_wait(&t);
        ck_assert_msg(r == 0, "fg exited %d: %s", r, t.seen);
        ck_assert_str_eq(service_state_of(d, "echo", state, sizeof state), "RUNNING");
        ck_assert_int_eq(service_pid_of(d, "echo"), echo);
        ck_assert(process_exists(echo));
}

START_TEST(test_fg_ours) {
        struct daemon d;
        char out[4096];
        start_ini(&d);
        char *argv[] = { (char *)supervisorctl_path(), "-s", d.sock, "fg", "echo", NULL };
        check_fg(&d, argv, true);
        int r = ctl(&d, out, sizeof out, "fg nosuch");
        ck_assert_msg(r == 4 && strcmp(out, "ERROR: bad process name supplied\n") == 0, "%d %s", r, out);
        r = ctl(&d, out, sizeof out, "fg idle");
        ck_assert_msg(r == 3 && strcmp(out, "ERROR: process not running\n") == 0, "%d %s", r, out);
        /* The end of its input ends fg too; a process gone ends it at the next line. */
        char *piped[] = { "sh", "-c", "printf 'from a pipe\\n' | \"$0\" -s \"$1\" fg echo", (char *)supervisorctl_path(),
                          d.sock, NULL };
        r = run_capture(piped, out, sizeof out);
        ck_assert_msg(r == 0 && strstr(out, "Exiting foreground\n"), "%d %s", r, out);
        char log[256];
        snprintf(log, sizeof log, "%s/echo.log", d.dir);
        ASSERT_WITHIN(file_has(log, "got: from a pipe\n"), SOON_MS);
        daemon_cleanup(&d);
}
END_TEST

/* Python's supervisorctl: getProcessInfo, then sendProcessStdin per line. */
START_TEST(test_fg_python) {
        struct daemon d;
        char url[300];
        start_ini(&d);
        snprintf(url, sizeof url, "unix://%s", d.sock);
        char *argv[] = { PYTHON_CTL, "-s", url, "fg", "echo", NULL };
        /* Its output comes through GET /logtail/NAME, followed as it is written. */
        check_fg(&d, argv, true);
        daemon_cleanup(&d);
}
END_TEST

static Suite *stdin_suite(void) {
        Suite *s = suite_create("stdin");
        TCase *tc = tcase_create("stdin");
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, test_stdin_pipe_and_the_verb);
        tcase_add_test(tc, test_stdin_pipe_refused_for_listener);
        tcase_add_test(tc, test_send_process_stdin);
        tcase_add_test(tc, test_stdin_never_blocks);
        tcase_add_test(tc, test_fg_ours);
        tcase_add_test(tc, test_fg_python);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) { return run_suite(stdin_suite()) ? 1 : 0; }
