/* test_inet_http.c — supervisord's [inet_http_server] in an INI config (issue 18): its
 * port forms, its credentials, the warning for a server open beyond this machine, and
 * the clients that use it: Python's supervisorctl -s http://..., and through its
 * [supervisorctl] serverurl, and prometheus-node-exporter's supervisord collector. */
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define PYTHON_CTL "/usr/bin/supervisorctl"
#define NODE_EXPORTER "/usr/bin/prometheus-node-exporter"

/* A TCP port free on 127.0.0.1 right now. */
static unsigned free_port(void) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof sa;
        ck_assert(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0
                  && getsockname(fd, (struct sockaddr *)&sa, &len) == 0);
        close(fd);
        return ntohs(sa.sin_port);
}

/* The INI config: [inet_http_server] with the lines of INET (printf), a running web and
 * a stopped idle. */
static void __attribute__((format(printf, 2, 3))) write_ini(struct daemon *d, const char *inet, ...) {
        FILE *f = fopen(d->conf, "w");
        ck_assert_ptr_nonnull(f);
        fprintf(f, "[unix_http_server]\nfile = %%(here)s/sock\n\n[inet_http_server]\n");
        va_list ap;
        va_start(ap, inet);
        vfprintf(f, inet, ap);
        va_end(ap);
        fprintf(f, "\n[supervisord]\npidfile = %%(here)s/pid\nlogfile = %%(here)s/supervisord.log\n"
                   "childlogdir = %%(here)s\n\n"
                   "[program:web]\ncommand = sleep 1000\nstartsecs = 0\n\n"
                   "[program:idle]\ncommand = sleep 1000\nautostart = false\n");
        ck_assert_int_eq(fclose(f), 0);
}

static int pyctl(char *out, size_t size, ...) {
        char *argv[24];
        int argc = 0;
        argv[argc++] = PYTHON_CTL;
        va_list ap;
        va_start(ap, size);
        for (char *a; argc < 23 && (a = va_arg(ap, char *));)
                argv[argc++] = a;
        va_end(ap);
        argv[argc] = NULL;
        return run_capture(argv, out, size);
}

static bool main_log_has(struct daemon *d, const char *text) {
        char path[256];
        static char log[65536];
        snprintf(path, sizeof path, "%s/supervisord.log", d->dir);
        return read_text_file(path, log, sizeof log) > 0 && strstr(log, text);
}

/* HOST:PORT with a {SHA} password: Python's supervisorctl with -u -p, and with the
 * [supervisorctl] section naming the server and the credentials. */
START_TEST(test_inet_with_credentials) {
        struct daemon d;
        char url[64], out[8192], state[64];
        daemon_init(&d);
        unsigned port = free_port();
        write_ini(&d, "port = 127.0.0.1:%u\nusername = admin\npassword = {SHA}e5e9fa1ba31ecd1ae84f75caaa474f3a663f05f4\n",
                  port);
        daemon_start(&d);
        ck_assert(wait_for_state(&d, "web", "RUNNING", SOON_MS));
        snprintf(url, sizeof url, "http://127.0.0.1:%u", port);
        int r = pyctl(out, sizeof out, "-s", url, "-u", "admin", "-p", "secret", "start", "idle", NULL);
        ck_assert_msg(r == 0 && strcmp(out, "idle: started\n") == 0, "start: %d %s", r, out);
        ck_assert_str_eq(service_state_of(&d, "idle", state, sizeof state), "RUNNING");
        ck_assert(process_exists(service_pid_of(&d, "idle")));
        r = pyctl(out, sizeof out, "-s", url, "-u", "admin", "-p", "wrong", "status", NULL);
        ck_assert_msg(r != 0 && strstr(out, "Server requires authentication"), "wrong password: %d %s", r, out);
        r = pyctl(out, sizeof out, "-s", url, "status", NULL);
        ck_assert_msg(r != 0 && strstr(out, "Server requires authentication"), "no password: %d %s", r, out);
        /* Not beyond loopback: no warning. */
        ck_assert(!main_log_has(&d, "reaches beyond this machine"));

        /* supervisorctl -c: the server and the credentials from the file. */
        FILE *f = fopen(d.conf, "a");
        ck_assert_ptr_nonnull(f);
        fprintf(f, "\n[supervisorctl]\nserverurl = %s\nusername = admin\npassword = secret\n", url);
        ck_assert_int_eq(fclose(f), 0);
        r = pyctl(out, sizeof out, "-c", d.conf, "stop", "idle", NULL);
        ck_assert_msg(r == 0 && strcmp(out, "idle: stopped\n") == 0, "stop: %d %s", r, out);
        ck_assert_str_eq(service_state_of(&d, "idle", state, sizeof state), "STOPPED");
        daemon_cleanup(&d);
}
END_TEST

/* *:PORT without credentials: the warning, and node_exporter's collector on it. */
START_TEST(test_inet_open_warns_and_serves_node_exporter) {
        struct daemon d;
        char url[64], out[65536], arg[128], listen[64];
        daemon_init(&d);
        unsigned port = free_port();
        write_ini(&d, "port = *:%u\n", port);
        daemon_start(&d);
        ck_assert(wait_for_state(&d, "web", "RUNNING", SOON_MS));
        char warning[128];
        snprintf(warning, sizeof warning, "*:%u reaches beyond this machine and http-username is not set", port);
        ASSERT_WITHIN(main_log_has(&d, warning), SOON_MS);
        snprintf(url, sizeof url, "http://127.0.0.1:%u", port);
        int r = pyctl(out, sizeof out, "-s", url, "status", "web", NULL);
        ck_assert_msg(r == 0 && strncmp(out, "web ", 4) == 0 && strstr(out, "RUNNING"), "status: %d %s", r, out);

        unsigned metrics_port = free_port();
        snprintf(arg, sizeof arg, "--collector.supervisord.url=http://127.0.0.1:%u/RPC2", port);
        snprintf(listen, sizeof listen, "--web.listen-address=127.0.0.1:%u", metrics_port);
        pid_t exporter = fork();
        ck_assert_int_ge(exporter, 0);
        if (exporter == 0) {
                freopen("/dev/null", "w", stderr);
                execl(NODE_EXPORTER, NODE_EXPORTER, "--collector.disable-defaults", "--collector.supervisord", arg, listen,
                      (char *)NULL);
                _exit(127);
        }
        char metrics[64];
        snprintf(metrics, sizeof metrics, "http://127.0.0.1:%u/metrics", metrics_port);
        char *get[] = { "python3", "-c",
                        "import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1]).read().decode())",
                        metrics, NULL };
        bool ok = WAIT_UNTIL(run_capture(get, out, sizeof out) == 0
                                     && strstr(out, "node_scrape_collector_success{collector=\"supervisord\"} 1"),
                             SOON_MS);
        kill(exporter, SIGTERM);
        waitpid(exporter, NULL, 0);
        ck_assert_msg(ok, "metrics:\n%.3000s", out);
        ck_assert(strstr(out, "node_supervisord_state{group=\"web\",name=\"web\"} 20"));
        ck_assert(strstr(out, "node_supervisord_state{group=\"idle\",name=\"idle\"} 0"));
        daemon_cleanup(&d);
}
END_TEST

/* GET /metrics on the same server (an extension of ours): Prometheus' text format, each
 * process's figures as supervisord knows them, behind the same Basic auth. */
START_TEST(test_metrics) {
        struct daemon d;
        char url[96], out[65536], line[160];
        daemon_init(&d);
        unsigned port = free_port();
        write_ini(&d, "port = 127.0.0.1:%u\nusername = admin\npassword = secret\n\n"
                      "[program:quits]\ncommand = sh -c 'exit 3'\nstartsecs = 0\nautorestart = false\n", port);
        daemon_start(&d);
        ck_assert(wait_for_state(&d, "web", "RUNNING", SOON_MS));
        ck_assert(wait_for_state(&d, "quits", "EXITED", SOON_MS));
        snprintf(url, sizeof url, "http://127.0.0.1:%u/metrics", port);
        /* Every sample line is NAME{LABELS} VALUE; the result, then the headers' type. */
        static const char script[] =
                "import re, sys, urllib.request, base64\n"
                "req = urllib.request.Request(sys.argv[1])\n"
                "if len(sys.argv) > 2:\n"
                "    req.add_header('Authorization', 'Basic ' + base64.b64encode(sys.argv[2].encode()).decode())\n"
                "try:\n"
                "    r = urllib.request.urlopen(req)\n"
                "except urllib.error.HTTPError as e:\n"
                "    print('HTTP', e.code)\n"
                "    sys.exit(0)\n"
                "text = r.read().decode()\n"
                "for l in text.splitlines():\n"
                "    if not l.startswith('#') and not re.fullmatch(r'[a-z_]+(\\{[a-z]+=\"[^\"]*\"(,[a-z]+=\"[^\"]*\")*\\})? -?[0-9.e+]+', l):\n"
                "        print('BAD', l)\n"
                "print(r.headers['Content-Type'])\n"
                "sys.stdout.write(text)\n";
        char *get[] = { "/usr/bin/python3", "-c", (char *)script, url, "admin:secret", NULL };
        int r = run_capture(get, out, sizeof out);
        ck_assert_msg(r == 0 && !strstr(out, "BAD") && strncmp(out, "text/plain; version=0.0.4", 25) == 0, "%d %.3000s", r,
                      out);
        snprintf(line, sizeof line, "supervisord_process_pid{group=\"web\",name=\"web\"} %d\n", (int)service_pid_of(&d, "web"));
        ck_assert_msg(strstr(out, line), "%s in %.3000s", line, out);
        ck_assert(strstr(out, "supervisord_process_state{group=\"web\",name=\"web\"} 20\n"));
        ck_assert(strstr(out, "supervisord_process_up{group=\"web\",name=\"web\"} 1\n"));
        ck_assert(strstr(out, "supervisord_process_state{group=\"idle\",name=\"idle\"} 0\n"));
        ck_assert(strstr(out, "supervisord_process_state{group=\"quits\",name=\"quits\"} 100\n"));
        ck_assert(strstr(out, "supervisord_process_exit_status{group=\"quits\",name=\"quits\"} 3\n"));
        ck_assert(strstr(out, "# TYPE supervisord_process_restarts_total counter\n"));
        ck_assert(strstr(out, "supervisord_processes{state=\"RUNNING\"} 1\n"));
        ck_assert(strstr(out, "supervisord_processes{state=\"EXITED\"} 1\n"));
        ck_assert(strstr(out, "supervisord_processes{state=\"STOPPED\"} 1\n"));
        ck_assert(strstr(out, "\nsupervisord_up 1\n"));
        /* A restart counts. */
        ck_assert_int_eq(ctl(&d, line, sizeof line, "signal KILL web"), 0);
        ck_assert(WAIT_UNTIL(run_capture(get, out, sizeof out) == 0
                                     && strstr(out, "supervisord_process_restarts_total{group=\"web\",name=\"web\"} 1\n"),
                             SOON_MS));
        char *anonymous[] = { "/usr/bin/python3", "-c", (char *)script, url, NULL };
        r = run_capture(anonymous, out, sizeof out);
        ck_assert_msg(r == 0 && strcmp(out, "HTTP 401\n") == 0, "%d %s", r, out);
        daemon_cleanup(&d);
}
END_TEST

/* What supervisord refuses, at its line. */
START_TEST(test_inet_config_errors) {
        static const struct {
                const char *lines, *message;
        } cases[] = {
                { "port = 127.0.0.1:\n", "supervisord.conf:5: port: no port number specified in '127.0.0.1:'" },
                { "port = *:99999\n", "supervisord.conf:5: port: not a valid port number: '99999'" },
                { "port = web\n", "supervisord.conf:5: port: not a valid port number: 'web'" },
                { "", "supervisord.conf:4: [inet_http_server]: section [inet_http_server] has no port value" },
                { "port = 9001\nusername = admin\n", "contains incomplete authentication" },
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                struct daemon d;
                char out[4096];
                daemon_init(&d);
                write_ini(&d, "%s", cases[i].lines);
                char *argv[] = { (char *)supervisord_path(), "-t", "-c", d.conf, NULL };
                int r = run_capture(argv, out, sizeof out);
                ck_assert_msg(r == 2 && strstr(out, cases[i].message), "%s: %d %s", cases[i].lines, r, out);
                daemon_cleanup(&d);
        }
        /* One pair of credentials for both servers: a different second one is refused,
         * the same one taken. */
        struct daemon d;
        char out[4096];
        daemon_init(&d);
        FILE *f = fopen(d.conf, "w");
        ck_assert_ptr_nonnull(f);
        fprintf(f, "[unix_http_server]\nfile = %%(here)s/sock\nusername = a\npassword = x\n[inet_http_server]\n"
                   "port = 9001\nusername = b\npassword = x\n[supervisord]\npidfile = %%(here)s/pid\n");
        ck_assert_int_eq(fclose(f), 0);
        char *argv[] = { (char *)supervisord_path(), "-t", "-c", d.conf, NULL };
        int r = run_capture(argv, out, sizeof out);
        ck_assert_msg(r == 2 && strstr(out, "supervisord.conf:7: username: a username other than [unix_http_server]'s"),
                      "%d %s", r, out);
        f = fopen(d.conf, "w");
        ck_assert_ptr_nonnull(f);
        fprintf(f, "[unix_http_server]\nfile = %%(here)s/sock\nusername = a\npassword = x\n[inet_http_server]\n"
                   "port = 9001\nusername = a\npassword = x\n[supervisord]\npidfile = %%(here)s/pid\n");
        ck_assert_int_eq(fclose(f), 0);
        r = run_capture(argv, out, sizeof out);
        ck_assert_msg(r == 0, "%d %s", r, out);
        daemon_cleanup(&d);
}
END_TEST

static Suite *inet_http_suite(void) {
        Suite *s = suite_create("inet_http");
        TCase *tc = tcase_create("inet_http");
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, test_inet_with_credentials);
        tcase_add_test(tc, test_inet_open_warns_and_serves_node_exporter);
        tcase_add_test(tc, test_inet_config_errors);
        tcase_add_test(tc, test_metrics);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) { return run_suite(inet_http_suite()) ? 1 : 0; }
