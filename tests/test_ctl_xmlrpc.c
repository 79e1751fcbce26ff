/* test_ctl_xmlrpc.c — our supervisorctl over XML-RPC (issue 19): against Debian's Python
 * supervisord 4.2.5, on its unix socket (which speaks only HTTP) and on TCP with Basic auth,
 * and against our daemon's HTTP interface; every action checked in /proc (a restart gives
 * a new pid, a stop leaves no process), and the failures (refused, 401) with exit 7. */
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "util.h"

#define PYTHON_SUPERVISORD "/usr/bin/supervisord"

static unsigned free_port(void) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof sa;
        ck_assert(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0
                  && getsockname(fd, (struct sockaddr *)&sa, &len) == 0);
        close(fd);
        return ntohs(sa.sin_port);
}

/* Our supervisorctl with the NULL-terminated ARGS. */
static int ours(char *out, size_t size, ...) {
        char *argv[32];
        int argc = 0;
        argv[argc++] = (char *)supervisorctl_path();
        va_list ap;
        va_start(ap, size);
        for (char *a; argc < 31 && (a = va_arg(ap, char *));)
                argv[argc++] = a;
        va_end(ap);
        argv[argc] = NULL;
        return run_capture(argv, out, size);
}

/* The pid `pid NAME` gives through URL (with -u admin -p secret when AUTH), 0 if none. */
static pid_t pid_of(const char *url, bool auth, const char *name) {
        char out[256];
        int r = auth ? ours(out, sizeof out, "-s", url, "-u", "admin", "-p", "secret", "pid", name, NULL)
                     : ours(out, sizeof out, "-s", url, "pid", name, NULL);
        return r == 0 ? (pid_t)atoi(out) : 0;
}

/* Does PID run exactly CMDLINE (its arguments read with spaces)?  A process just
 * started may not have exec'd yet: callers wait for it with a deadline. */
static bool runs(pid_t pid, const char *cmdline) {
        char path[64], text[256];
        snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
        ssize_t n = read_text_file(path, text, sizeof text);
        if (n <= 0 || !process_exists(pid))
                return false;
        for (ssize_t i = 0; i + 1 < n; i++)
                if (text[i] == '\0')
                        text[i] = ' ';
        return strcmp(text, cmdline) == 0;
}

/* Python supervisord in DIR on the INI text BODY (after its [supervisord] section). */
struct python {
        char dir[128], ini[256], sock[256];
        pid_t pid;
};

static void python_start(struct python *p, const char *format, ...) __attribute__((format(printf, 2, 3)));
static void python_start(struct python *p, const char *format, ...) {
        ck_assert(access(PYTHON_SUPERVISORD, X_OK) == 0);
        snprintf(p->dir, sizeof p->dir, "/tmp/test_ctl_xmlrpc.XXXXXX");
        ck_assert(mkdtemp(p->dir));
        snprintf(p->ini, sizeof p->ini, "%s/supervisord.conf", p->dir);
        snprintf(p->sock, sizeof p->sock, "%s/py.sock", p->dir);
        FILE *f = fopen(p->ini, "w");
        ck_assert_ptr_nonnull(f);
        fprintf(f,
                "[supervisord]\nlogfile=%%(here)s/supervisord.log\npidfile=%%(here)s/supervisord.pid\nnodaemon=true\n"
                "childlogdir=%%(here)s\n\n[rpcinterface:supervisor]\n"
                "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n");
        va_list ap;
        va_start(ap, format);
        vfprintf(f, format, ap);
        va_end(ap);
        ck_assert(fclose(f) == 0);
        p->pid = fork();
        ck_assert(p->pid >= 0);
        if (p->pid == 0) {
                /* A test that fails (or times out) before python_stop() leaves nothing
                 * running: supervisord stops its processes on SIGTERM, and in a process
                 * group of its own it is out of reach of Check's SIGKILL of the test's. */
                setpgid(0, 0);
                prctl(PR_SET_PDEATHSIG, SIGTERM);
                int null = open("/dev/null", O_RDWR);
                dup2(null, 1);
                dup2(null, 2);
                execl(PYTHON_SUPERVISORD, "supervisord", "-c", p->ini, (char *)NULL);
                _exit(127);
        }
}

static void python_stop(struct python *p) {
        if (p->pid > 0) {
                kill(p->pid, SIGTERM);
                ck_assert(WAIT_UNTIL(waitpid(p->pid, NULL, WNOHANG) == p->pid, SOON_MS));
                p->pid = 0;
        }
        char command[512];
        snprintf(command, sizeof command, "rm -rf '%s'", p->dir);
        ck_assert(system(command) == 0);
}

/* The sequence every server gets: status, stop, start, restart of a group, signal, the
 * names that address nothing, and pid and version of the daemon. */
START_TEST(test_python_supervisord_unix_socket) {
        struct python p;
        char out[8192], url[300];
        python_start(&p,
                     "[unix_http_server]\nfile=%%(here)s/py.sock\n\n[supervisorctl]\nserverurl=unix://%%(here)s/py.sock\n\n"
                     "[program:web]\ncommand=sleep 1001\nstartsecs=0\n\n"
                     "[program:w]\ncommand=sleep 1002\nnumprocs=2\nprocess_name=%%(program_name)s_%%(process_num)d\n"
                     "startsecs=0\n\n[program:off]\ncommand=sleep 1003\nautostart=false\nstartsecs=0\n\n"
                     "[program:talk]\ncommand=sh -c 'for i in 1 2 3 4 5 6 7 8 9 10 11 12; do echo line$i; done; "
                     "exec sleep 1005'\nstartsecs=0\n");
        snprintf(url, sizeof url, "unix://%s", p.sock);
        /* The socket speaks only HTTP: our supervisorctl finds it out on each command. */
        ASSERT_WITHIN_MSG(ours(out, sizeof out, "-s", url, "status", "web", NULL) == 0, SOON_MS, "%s", out);
        ck_assert_msg(strncmp(out, "web ", 4) == 0 && strstr(out, "RUNNING   pid "), "%s", out);
        pid_t web = pid_of(url, false, "web");
        ASSERT_WITHIN_MSG(runs(web, "sleep 1001"), SOON_MS, "web: pid %d", (int)web);
        ck_assert_int_eq(pid_of(url, false, NULL), p.pid);  /* `pid`: supervisord's */
        int r = ours(out, sizeof out, "-s", url, "version", NULL);
        ck_assert_msg(r == 0 && strstr(out, "supervisord 4.2.5\n"), "exit %d: %s", r, out);

        /* Every process, each line as over our protocol; off is not running: exit 3. */
        r = ours(out, sizeof out, "-c", p.ini, "status", NULL);
        ck_assert_msg(r == 3 && strstr(out, "off                              STOPPED   Not started\n") && strstr(out, "\nw:w_0 ")
                              && strstr(out, "\nw:w_1 ") && strstr(out, "\nweb "),
                      "exit %d: %s", r, out);
        r = ours(out, sizeof out, "-c", p.ini, "--json", "status", "w:*", NULL);
        ck_assert_msg(r == 0 && strstr(out, "[{\"name\":\"w:w_0\",\"state\":\"RUNNING\",\"pid\":")
                              && strstr(out, "\"group\":\"w\"}]"),
                      "exit %d: %s", r, out);

        /* tail: the last lines of its log, as many as asked. */
        ASSERT_WITHIN_MSG(ours(out, sizeof out, "-s", url, "tail", "-n", "3", "talk", NULL) == 0
                                  && strcmp(out, "line10\nline11\nline12\n") == 0,
                          SOON_MS, "%s", out);
        r = ours(out, sizeof out, "-s", url, "tail", "nothing", NULL);
        ck_assert_msg(r == 4 && strstr(out, "no such service: nothing"), "exit %d: %s", r, out);

        r = ours(out, sizeof out, "-s", url, "stop", "web", NULL);
        ck_assert_msg(r == 0 && strcmp(out, "web: stopped\n") == 0, "exit %d: %s", r, out);
        ck_assert(!process_exists(web));
        r = ours(out, sizeof out, "-s", url, "start", "web", NULL);
        ck_assert_msg(r == 0 && strcmp(out, "web: started\n") == 0, "exit %d: %s", r, out);
        pid_t again = pid_of(url, false, "web");
        ASSERT_WITHIN_MSG(again != web && runs(again, "sleep 1001"), SOON_MS, "web: pid %d, was %d", (int)again, (int)web);
        r = ours(out, sizeof out, "-s", url, "start", "web", NULL);
        ck_assert_msg(r == 0 && strcmp(out, "web: ERROR (already started)\n") == 0, "exit %d: %s", r, out);

        pid_t w0 = pid_of(url, false, "w:w_0"), w1 = pid_of(url, false, "w:w_1");
        ASSERT_WITHIN(runs(w0, "sleep 1002") && runs(w1, "sleep 1002"), SOON_MS);
        r = ours(out, sizeof out, "-s", url, "restart", "w:*", NULL);
        ck_assert_msg(r == 0 && strcmp(out, "w:w_0: stopped\nw:w_1: stopped\nw:w_0: started\nw:w_1: started\n") == 0,
                      "exit %d: %s", r, out);
        ck_assert(!process_exists(w0) && !process_exists(w1));
        pid_t n0 = pid_of(url, false, "w:w_0");
        ASSERT_WITHIN_MSG(n0 != w0 && runs(n0, "sleep 1002"), SOON_MS, "w:w_0: %d, was %d", (int)n0, (int)w0);

        /* A signal reaches the process: sleep dies of it, and supervisord starts another. */
        r = ours(out, sizeof out, "-s", url, "signal", "HUP", "web", NULL);
        ck_assert_msg(r == 0 && strcmp(out, "web: signalled\n") == 0, "exit %d: %s", r, out);
        ASSERT_WITHIN(!process_exists(again), SOON_MS);
        r = ours(out, sizeof out, "-s", url, "signal", "HUP", "off", NULL);
        /* supervisorctl 4.2.5's status for a process that is not running: 7 */
        ck_assert_msg(r == 7 && strcmp(out, "off: ERROR (not running)\n") == 0, "exit %d: %s", r, out);

        /* A name that addresses nothing: supervisorctl's line and status 1, the close names
         * offered beside it. */
        r = ours(out, sizeof out, "-s", url, "stop", "wbe", NULL);
        ck_assert_msg(r == 1 && strstr(out, "wbe: ERROR (no such process)\n") && strstr(out, "did you mean web"),
                      "exit %d: %s", r, out);
        ASSERT_WITHIN(pid_of(url, false, "web") > 0, SOON_MS);
        ASSERT_WITHIN(runs(pid_of(url, false, "web"), "sleep 1001"), SOON_MS);

        r = ours(out, sizeof out, "-s", url, "stop", "all", NULL);
        ck_assert_msg(r == 0 && strstr(out, "web: stopped\n") && strstr(out, "w:w_1: stopped\n"), "exit %d: %s", r, out);
        ck_assert_int_eq(count_processes("sleep 1001") + count_processes("sleep 1002"), 0);
        r = ours(out, sizeof out, "-s", url, "start", "all", NULL);
        ck_assert_msg(r == 0 && strstr(out, "off: started\n") && strstr(out, "w:w_0: started\n"), "exit %d: %s", r, out);
        ASSERT_WITHIN(count_processes("sleep 1002") == 2, SOON_MS);
        ASSERT_WITHIN(count_processes("sleep 1003") == 1, SOON_MS);

        /* The config changed: reread shows it, update applies it, remove and add. */
        FILE *f = fopen(p.ini, "a");
        ck_assert_ptr_nonnull(f);
        fprintf(f, "\n[program:extra]\ncommand=sleep 1004\nstartsecs=0\n");
        ck_assert(fclose(f) == 0);
        r = ours(out, sizeof out, "-s", url, "reread", NULL);
        ck_assert_msg(r == 0 && strcmp(out, "extra: available\n") == 0, "exit %d: %s", r, out);
        ck_assert_int_eq(count_processes("sleep 1004"), 0);  /* reread changes nothing */
        r = ours(out, sizeof out, "-s", url, "update", NULL);
        ck_assert_msg(r == 0 && strcmp(out, "extra: added process group\n") == 0, "exit %d: %s", r, out);
        ASSERT_WITHIN(count_processes("sleep 1004") == 1, SOON_MS);
        r = ours(out, sizeof out, "-s", url, "remove", "extra", NULL);
        ck_assert_msg(r == 1 && strcmp(out, "ERROR: process/group still running: extra\n") == 0, "exit %d: %s", r, out);
        ck_assert(ours(out, sizeof out, "-s", url, "stop", "extra", NULL) == 0);
        r = ours(out, sizeof out, "-s", url, "remove", "extra", NULL);
        ck_assert_msg(r == 0 && strcmp(out, "extra: removed process group\n") == 0, "exit %d: %s", r, out);
        r = ours(out, sizeof out, "-s", url, "add", "extra", NULL);
        ck_assert_msg(r == 0 && strcmp(out, "extra: added process group\n") == 0, "exit %d: %s", r, out);

        r = ours(out, sizeof out, "-s", url, "shutdown", NULL);
        ck_assert_msg(r == 0, "exit %d: %s", r, out);
        ck_assert(WAIT_UNTIL(waitpid(p.pid, NULL, WNOHANG) == p.pid, SOON_MS));
        p.pid = 0;
        ASSERT_WITHIN(count_processes("sleep 1002") == 0, SOON_MS);
        /* Gone: the socket refuses, exit 7. */
        r = ours(out, sizeof out, "-s", url, "status", NULL);
        ck_assert_msg(r == 7 && strstr(out, "cannot connect to supervisord at "), "exit %d: %s", r, out);
        python_stop(&p);
}
END_TEST

/* TCP with Basic auth, from -u -p and from [supervisorctl]; 401 and a refused port. */
START_TEST(test_python_supervisord_tcp_auth) {
        struct python p;
        char out[8192], url[64];
        unsigned port = free_port();
        snprintf(url, sizeof url, "http://127.0.0.1:%u", port);
        python_start(&p,
                     "[inet_http_server]\nport=127.0.0.1:%u\nusername=admin\npassword=secret\n\n"
                     "[supervisorctl]\nserverurl=http://127.0.0.1:%u\nusername=admin\npassword=secret\n\n"
                     "[program:web]\ncommand=sleep 1011\nstartsecs=0\n",
                     port, port);
        ASSERT_WITHIN_MSG(ours(out, sizeof out, "-c", p.ini, "status", NULL) == 0, SOON_MS, "%s", out);
        ck_assert_msg(strncmp(out, "web ", 4) == 0 && strstr(out, "RUNNING"), "%s", out);
        pid_t web = pid_of(url, true, "web");
        ASSERT_WITHIN(runs(web, "sleep 1011"), SOON_MS);
        int r = ours(out, sizeof out, "-s", url, "-u", "admin", "-p", "secret", "restart", "web", NULL);
        ck_assert_msg(r == 0 && strcmp(out, "web: stopped\nweb: started\n") == 0, "exit %d: %s", r, out);
        ck_assert(!process_exists(web));
        pid_t again = pid_of(url, true, "web");
        ASSERT_WITHIN_MSG(again != web && runs(again, "sleep 1011"), SOON_MS, "%d, was %d", (int)again, (int)web);

        r = ours(out, sizeof out, "-s", url, "-u", "admin", "-p", "wrong", "stop", "web", NULL);
        ck_assert_msg(r == 7 && strstr(out, "Server requires authentication (HTTP 401: wrong username or password)"),
                      "exit %d: %s", r, out);
        r = ours(out, sizeof out, "-s", url, "stop", "web", NULL);
        ck_assert_msg(r == 7 && strstr(out, "Server requires authentication (HTTP 401; give -u and -p)"), "exit %d: %s",
                      r, out);
        ASSERT_WITHIN(runs(again, "sleep 1011"), SOON_MS);  /* refused: nothing done */
        r = ours(out, sizeof out, "-c", p.ini, "stop", "web", NULL);
        ck_assert_msg(r == 0 && strcmp(out, "web: stopped\n") == 0, "exit %d: %s", r, out);
        ck_assert(!process_exists(again));
        python_stop(&p);

        /* Nobody listens there any more. */
        r = ours(out, sizeof out, "-s", url, "status", NULL);
        ck_assert_msg(r == 7 && strstr(out, "cannot connect to supervisord at http://127.0.0.1:")
                              && strstr(out, "Connection refused"),
                      "exit %d: %s", r, out);
}
END_TEST

/* Our daemon's HTTP interface through http://: the same lines as over the control
 * socket, checked against the native answers and /proc. */
START_TEST(test_our_http_interface) {
        struct daemon d;
        char out[8192], native[8192], url[64];
        unsigned port = free_port();
        snprintf(url, sizeof url, "http://127.0.0.1:%u", port);
        daemon_init(&d);
        daemon_write_config(&d,
                            "http-listen = \"127.0.0.1:%u\"\nhttp-socket = \"%s/http.sock\"\nhttp-username = \"admin\"\n"
                            "http-password = \"{SHA}e5e9fa1ba31ecd1ae84f75caaa474f3a663f05f4\"\n"
                            "service web {\n command = \"sleep 1021\"\n start-secs = 0\n}\n"
                            "service off {\n command = \"sleep 1022\"\n autostart = no\n}\n",
                            port, d.dir);
        daemon_start(&d);
        ck_assert(wait_for_state(&d, "web", "RUNNING", SOON_MS));
        ASSERT_WITHIN(pid_of(url, true, "web") == service_pid_of(&d, "web"), SOON_MS);
        pid_t web = service_pid_of(&d, "web");
        ASSERT_WITHIN(runs(web, "sleep 1021"), SOON_MS);
        int r = ours(out, sizeof out, "-s", url, "-u", "admin", "-p", "secret", "status", "web", NULL);
        ck_assert_msg(r == 0 && strncmp(out, "web                              RUNNING   pid ", 47) == 0, "exit %d: %s", r, out);
        ck_assert_int_eq(atoi(out + 47), web);
        r = ours(out, sizeof out, "-s", url, "-u", "admin", "-p", "secret", "pid", NULL);
        ck_assert_msg(r == 0 && atoi(out) == d.pid, "exit %d: %s", r, out);
        /* Its unix socket of HTTP only (http-socket): told from the control socket by its
         * answer to our protocol's request. */
        char http_url[300];
        snprintf(http_url, sizeof http_url, "unix://%s/http.sock", d.dir);
        r = ours(out, sizeof out, "-s", http_url, "-u", "admin", "-p", "secret", "status", "web", NULL);
        ck_assert_msg(r == 0 && strncmp(out, "web                              RUNNING   pid ", 47) == 0 && atoi(out + 47) == web,
                      "exit %d: %s", r, out);
        r = ours(out, sizeof out, "-s", http_url, "status", "web", NULL);
        ck_assert_msg(r == 7 && strstr(out, "Server requires authentication"), "exit %d: %s", r, out);

        r = ours(out, sizeof out, "-s", url, "-u", "admin", "-p", "secret", "restart", "web", NULL);
        ck_assert_msg(r == 0 && strcmp(out, "web: stopped\nweb: started\n") == 0, "exit %d: %s", r, out);
        ck_assert(!process_exists(web));
        pid_t again = service_pid_of(&d, "web");
        ASSERT_WITHIN_MSG(again != web && runs(again, "sleep 1021"), SOON_MS, "%d, was %d", (int)again, (int)web);

        /* Each answer as the control socket gives it. */
        const char *const commands[][3] = {
                { "stop", "web", NULL }, { "stop", "web", NULL }, { "start", "web", NULL }, { "start", "web", NULL },
                { "signal", "HUP", "off" }, { "stop", "nope", NULL }, { "version", NULL, NULL },
        };
        for (size_t i = 0; i < ELEMENTSOF(commands); i++) {
                const char *const *c = commands[i];
                /* The first time over HTTP, the second (same state) over the socket. */
                int rh = ours(out, sizeof out, "-s", url, "-u", "admin", "-p", "secret", c[0], c[1], c[2], NULL);
                if (i == 0)
                        ck_assert(!process_exists(again));
                /* Back to the state before it, to ask again natively. */
                int rn;
                if (strstr(out, "web: stopped\n"))
                        ck_assert(ours(native, sizeof native, "-s", d.sock, "start", "web", NULL) == 0);
                if (strstr(out, "web: started\n"))
                        ck_assert(ours(native, sizeof native, "-s", d.sock, "stop", "web", NULL) == 0);
                rn = ours(native, sizeof native, "-s", d.sock, c[0], c[1], c[2], NULL);
                ck_assert_msg(rh == rn && strcmp(out, native) == 0, "%s %s: over HTTP exit %d:\n%s\nnatively exit %d:\n%s",
                              c[0], c[1] ? c[1] : "", rh, out, rn, native);
        }
        ASSERT_WITHIN(runs(service_pid_of(&d, "web"), "sleep 1021"), SOON_MS);
        daemon_cleanup(&d);
}
END_TEST

static Suite *ctl_xmlrpc_suite(void) {
        Suite *s = suite_create("ctl_xmlrpc");
        TCase *tc = tcase_create("servers");
        tcase_set_timeout(tc, 180);
        tcase_add_test(tc, test_python_supervisord_unix_socket);
        tcase_add_test(tc, test_python_supervisord_tcp_auth);
        tcase_add_test(tc, test_our_http_interface);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) { return run_suite(ctl_xmlrpc_suite()) ? 1 : 0; }
