/* test_http.c — supervisord's XML-RPC interface as its own clients use it (issue 18):
 * Debian's Python supervisorctl 4.2.5 on the unix socket and on TCP with Basic auth (a
 * {SHA} password), prometheus-node-exporter's supervisord collector, and the front-end's
 * privilege separation: it runs as nobody in its own session, and killed, it comes back
 * while the services keep their pids. */
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
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

/* Python's supervisorctl with ARGS (NULL-terminated) after -s URL [-u -p]. */
static int pyctl(const char *url, const char *user, char *out, size_t size, ...) {
        char *argv[24];
        int argc = 0;
        argv[argc++] = PYTHON_CTL;
        argv[argc++] = "-s";
        argv[argc++] = (char *)url;
        if (user) {
                argv[argc++] = "-u";
                argv[argc++] = (char *)user;
                argv[argc++] = "-p";
                argv[argc++] = "secret";
        }
        va_list ap;
        va_start(ap, size);
        for (char *a; argc < 23 && (a = va_arg(ap, char *));)
                argv[argc++] = a;
        va_end(ap);
        argv[argc] = NULL;
        return run_capture(argv, out, size);
}

static char http_sock[256];
static unsigned port;

/* Two services, a running and one not started; sha1("secret") as the password. */
static void start_daemon(struct daemon *d) {
        daemon_init(d);
        snprintf(http_sock, sizeof http_sock, "%s/http.sock", d->dir);
        port = free_port();
        daemon_write_config(d,
                            "http-socket = \"%s\"\n"
                            "http-listen = \"127.0.0.1:%u\"\n"
                            "http-username = \"admin\"\n"
                            "http-password = \"{SHA}e5e9fa1ba31ecd1ae84f75caaa474f3a663f05f4\"\n"
                            "service web {\n command = \"sleep 1000\"\n start-secs = 0.2\n}\n"
                            "service idle {\n command = \"sleep 1000\"\n start-secs = 0.2\n autostart = false\n}\n",
                            http_sock, port);
        daemon_start(d);
        ck_assert(wait_for_state(d, "web", "RUNNING", 10000));
}

static pid_t front_end_pid(void) {
        pid_t pids[4];
        return find_processes("supervisord-http", pids, 4) == 1 ? pids[0] : 0;
}

/* Every line of Python's supervisorctl as it prints them against Python's supervisord. */
START_TEST(test_python_supervisorctl_on_the_unix_socket) {
        struct daemon d;
        char url[300], out[8192], expected[512];
        start_daemon(&d);
        snprintf(url, sizeof url, "unix://%s", http_sock);
        /* The unix socket asks for Basic auth too, as supervisord's does with a username. */
        int r = pyctl(url, "admin", out, sizeof out, "status", NULL);
        pid_t web = service_pid_of(&d, "web");
        char web_line[128];
        snprintf(web_line, sizeof web_line, "RUNNING   pid %d, uptime 0:00:", (int)web);
        ck_assert_msg(r == 3 && strstr(out, "idle                             STOPPED   Not started\n")
                              && strstr(out, "web                              ") && strstr(out, web_line)
                              && strstr(out, "idle") < strstr(out, "web"),
                      "status: exit %d:\n%s", r, out);
        r = pyctl(url, "admin", out, sizeof out, "start", "idle", NULL);
        ck_assert_msg(r == 0 && strcmp(out, "idle: started\n") == 0, "start: %d %s", r, out);
        ck_assert_str_eq(service_state_of(&d, "idle", expected, sizeof expected), "RUNNING");
        r = pyctl(url, "admin", out, sizeof out, "start", "idle", NULL);
        ck_assert_msg(strcmp(out, "idle: ERROR (already started)\n") == 0, "start again: %d %s", r, out);
        r = pyctl(url, "admin", out, sizeof out, "stop", "idle", NULL);
        ck_assert_msg(r == 0 && strcmp(out, "idle: stopped\n") == 0, "stop: %d %s", r, out);
        r = pyctl(url, "admin", out, sizeof out, "stop", "idle", NULL);
        ck_assert_msg(strcmp(out, "idle: ERROR (not running)\n") == 0, "stop again: %d %s", r, out);
        r = pyctl(url, "admin", out, sizeof out, "start", "nosuch", NULL);
        ck_assert_msg(strcmp(out, "nosuch: ERROR (no such process)\n") == 0, "start nosuch: %d %s", r, out);
        r = pyctl(url, "admin", out, sizeof out, "restart", "web", NULL);
        ck_assert_msg(r == 0 && strcmp(out, "web: stopped\nweb: started\n") == 0, "restart: %d %s", r, out);
        pid_t restarted = service_pid_of(&d, "web");
        ck_assert_int_ne(restarted, web);
        r = pyctl(url, "admin", out, sizeof out, "signal", "HUP", "web", NULL);
        ck_assert_msg(r == 0 && strcmp(out, "web: signalled\n") == 0, "signal: %d %s", r, out);
        ck_assert(wait_for_state(&d, "web", "EXITED", 10000) || wait_for_state(&d, "web", "RUNNING", 10000));
        r = pyctl(url, "admin", out, sizeof out, "signal", "BOGUS", "web", NULL);
        ck_assert_msg(strcmp(out, "web: ERROR (bad signal name)\n") == 0, "bad signal: %d %s", r, out);
        r = pyctl(url, "admin", out, sizeof out, "pid", NULL);
        snprintf(expected, sizeof expected, "%d\n", (int)d.pid);
        ck_assert_msg(r == 0 && strcmp(out, expected) == 0, "pid: %d %s (want %s)", r, out, expected);
        /* avail: getAllConfigInfo, sorted by name, a group not in use shown as such. */
        daemon_write_config(&d,
                            "http-socket = \"%s\"\n"
                            "http-listen = \"127.0.0.1:%u\"\n"
                            "http-username = \"admin\"\n"
                            "http-password = \"{SHA}e5e9fa1ba31ecd1ae84f75caaa474f3a663f05f4\"\n"
                            "service web {\n command = \"sleep 1000\"\n start-secs = 0.2\n}\n"
                            "service idle {\n command = \"sleep 1000\"\n start-secs = 0.2\n autostart = false\n"
                            " priority = 5\n}\n"
                            "service more {\n command = \"sleep 1000\"\n}\n",
                            http_sock, port);
        r = pyctl(url, "admin", out, sizeof out, "avail", NULL);
        ck_assert_msg(r == 0 && strcmp(out, "idle                             in use    manual    5:5\n"
                                            "more                             avail     auto      999:999\n"
                                            "web                              in use    auto      999:999\n") == 0,
                      "avail: %d\n%s", r, out);
        r = pyctl(url, "admin", out, sizeof out, "start", "all", NULL);
        ck_assert_msg(r == 0 && strcmp(out, "idle: started\n") == 0, "start all: %d %s", r, out);
        r = pyctl(url, "admin", out, sizeof out, "stop", "all", NULL);
        ck_assert_msg(r == 0 && strstr(out, "idle: stopped\n") && strstr(out, "web: stopped\n"), "stop all: %d %s", r,
                      out);
        r = pyctl(url, "admin", out, sizeof out, "version", NULL);
        ck_assert_msg(r == 0 && strcmp(out, SUPERVISORD_VERSION "\n") == 0, "version: %d %s", r, out);
        /* A wrong password: supervisorctl's own message for a 401. */
        char *argv[] = { PYTHON_CTL, "-s", url, "-u", "admin", "-p", "wrong", "status", NULL };
        r = run_capture(argv, out, sizeof out);
        ck_assert_msg(r != 0 && strstr(out, "Server requires authentication"), "wrong password: %d %s", r, out);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_python_supervisorctl_on_tcp) {
        struct daemon d;
        char url[64], out[8192];
        start_daemon(&d);
        snprintf(url, sizeof url, "http://127.0.0.1:%u", port);
        int r = pyctl(url, "admin", out, sizeof out, "start", "idle", NULL);
        ck_assert_msg(r == 0 && strcmp(out, "idle: started\n") == 0, "start: %d %s", r, out);
        r = pyctl(url, "admin", out, sizeof out, "pid", "idle", NULL);
        char expected[32];
        snprintf(expected, sizeof expected, "%d\n", (int)service_pid_of(&d, "idle"));
        ck_assert_msg(r == 0 && strcmp(out, expected) == 0, "pid idle: %d %s (want %s)", r, out, expected);
        daemon_cleanup(&d);
}
END_TEST

/* Python's xmlrpc.client: records, faults, multicall's shape, the method list. */
START_TEST(test_xmlrpc_client) {
        struct daemon d;
        char url[64], out[8192];
        start_daemon(&d);
        snprintf(url, sizeof url, "http://admin:secret@127.0.0.1:%u/RPC2", port);
        static const char script[] =
                "import sys, xmlrpc.client\n"
                "s = xmlrpc.client.ServerProxy(sys.argv[1])\n"
                "print(s.system.multicall([{'methodName': 'supervisor.getAPIVersion', 'params': []},\n"
                "    {'methodName': 'supervisor.getProcessInfo', 'params': ['nosuch']},\n"
                "    {'methodName': 'supervisor.nosuch', 'params': []}]))\n"
                "i = s.supervisor.getProcessInfo('web')\n"
                "print(list(i.keys()), i['statename'], i['state'], i['group'])\n"
                "print([p['name'] for p in s.supervisor.getAllProcessInfo()])\n"
                "try:\n"
                "    s.supervisor.stopProcess('idle')\n"
                "except xmlrpc.client.Fault as f:\n"
                "    print(f.faultCode, f.faultString)\n"
                "print(s.supervisor.startProcessGroup('idle'))\n"
                "m = s.system.listMethods()\n"
                "print('supervisor.getAllProcessInfo' in m, m == sorted(m))\n"
                /* getAllConfigInfo: the members of supervisord's record, read from its source, in
                 * its order. */
                "import re\n"
                "src = open('/usr/lib/python3/dist-packages/supervisor/rpcinterface.py').read()\n"
                "body = src[src.index('def getAllConfigInfo'):src.index('def _interpretProcessInfo')]\n"
                "c = s.supervisor.getAllConfigInfo()\n"
                "print('keys', list(c[0].keys()) == re.findall(r\"'(\\w+)':\", body))\n"
                "print([(x['name'], x['group'], x['inuse'], x['autostart'], x['command'], x['exitcodes'],\n"
                "        x['stopsignal'], x['stopwaitsecs'], x['uid'], x['directory'], x['redirect_stderr'],\n"
                "        x['stdout_logfile'].endswith('/idle.log' if x['name'] == 'idle' else '/web.log')) for x in c])\n";
        char *argv[] = { "python3", "-c", (char *)script, url, NULL };
        int r = run_capture(argv, out, sizeof out);
        ck_assert_msg(r == 0, "xmlrpc.client: %d\n%s", r, out);
        ck_assert_msg(strstr(out, "['3.0', {'faultCode': 10, 'faultString': 'BAD_NAME: nosuch'}, "
                                  "{'faultCode': 1, 'faultString': 'UNKNOWN_METHOD'}]\n"),
                      "%s", out);
        ck_assert_msg(strstr(out, "['name', 'group', 'start', 'stop', 'now', 'state', 'statename', 'spawnerr', "
                                  "'exitstatus', 'logfile', 'stdout_logfile', 'stderr_logfile', 'pid', "
                                  "'description'] RUNNING 20 web\n"),
                      "%s", out);
        ck_assert_msg(strstr(out, "['idle', 'web']\n"), "%s", out);
        ck_assert_msg(strstr(out, "70 NOT_RUNNING: idle\n"), "%s", out);
        ck_assert_msg(strstr(out, "[{'name': 'idle', 'group': 'idle', 'status': 80, 'description': 'OK'}]\n"), "%s", out);
        ck_assert_msg(strstr(out, "True True\n"), "%s", out);
        ck_assert_msg(strstr(out, "keys True\n"), "%s", out);
        ck_assert_msg(strstr(out, "[('idle', 'idle', True, False, 'sleep 1000', [0], 15, 10, 'none', 'none', True, True), "
                                  "('web', 'web', True, True, 'sleep 1000', [0], 15, 10, 'none', 'none', True, True)]\n"),
                      "%s", out);
        char state[64];
        ck_assert_str_eq(service_state_of(&d, "idle", state, sizeof state), "RUNNING");
        daemon_cleanup(&d);
}
END_TEST

/* The front-end: nobody, its own session, a crash that disturbs nothing. */
START_TEST(test_front_end_privsep_and_restart) {
        struct daemon d;
        char url[300], out[8192], path[64], status[4096];
        start_daemon(&d);
        snprintf(url, sizeof url, "unix://%s", http_sock);
        pid_t front;
        ck_assert(WAIT_UNTIL((front = front_end_pid()) > 0, 10000));
        snprintf(path, sizeof path, "/proc/%d/status", (int)front);
        ck_assert(read_text_file(path, status, sizeof status) > 0);
        if (geteuid() == 0)
                ck_assert_msg(strstr(status, "\nUid:\t65534\t65534\t65534\t65534\n"), "front-end not nobody:\n%s",
                              status);
        ck_assert_int_eq(getsid(front), front);
        pid_t web = service_pid_of(&d, "web");
        ck_assert_int_eq(kill(front, SIGKILL), 0);
        pid_t again;
        ck_assert(WAIT_UNTIL((again = front_end_pid()) > 0 && again != front, 10000));
        ck_assert(WAIT_UNTIL(pyctl(url, "admin", out, sizeof out, "status", NULL) == 0, 10000) || strstr(out, "web"));
        ck_assert_int_eq(service_pid_of(&d, "web"), web);
        ck_assert_str_eq(service_state_of(&d, "web", status, sizeof status), "RUNNING");
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_node_exporter) {
        struct daemon d;
        char arg[300], listen[64], out[65536];
        start_daemon(&d);
        unsigned metrics_port = free_port();
        snprintf(arg, sizeof arg, "--collector.supervisord.url=unix://%s", http_sock);
        snprintf(listen, sizeof listen, "--web.listen-address=127.0.0.1:%u", metrics_port);
        /* node_exporter has no Basic auth for the collector: a daemon without a username. */
        daemon_stop(&d, 10000);
        daemon_write_config(&d,
                            "http-socket = \"%s\"\n"
                            "service web {\n command = \"sleep 1000\"\n start-secs = 0.2\n}\n"
                            "service idle {\n command = \"sleep 1000\"\n start-secs = 0.2\n autostart = false\n}\n",
                            http_sock);
        daemon_start(&d);
        ck_assert(wait_for_state(&d, "web", "RUNNING", 10000));
        pid_t exporter = fork();
        ck_assert_int_ge(exporter, 0);
        if (exporter == 0) {
                freopen("/dev/null", "w", stderr);
                execl(NODE_EXPORTER, NODE_EXPORTER, "--collector.disable-defaults", "--collector.supervisord", arg,
                      listen, (char *)NULL);
                _exit(127);
        }
        char url[64];
        snprintf(url, sizeof url, "http://127.0.0.1:%u/metrics", metrics_port);
        char *curl[] = { "python3", "-c",
                         "import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1]).read().decode())",
                         url, NULL };
        bool ok = WAIT_UNTIL(run_capture(curl, out, sizeof out) == 0
                                     && strstr(out, "node_scrape_collector_success{collector=\"supervisord\"} 1"),
                             20000);
        kill(exporter, SIGTERM);
        waitpid(exporter, NULL, 0);
        ck_assert_msg(ok, "metrics:\n%s", out);
        ck_assert(strstr(out, "node_supervisord_up{group=\"web\",name=\"web\"} 1"));
        ck_assert(strstr(out, "node_supervisord_state{group=\"web\",name=\"web\"} 20"));
        ck_assert(strstr(out, "node_supervisord_up{group=\"idle\",name=\"idle\"} 0"));
        ck_assert(strstr(out, "node_supervisord_state{group=\"idle\",name=\"idle\"} 0"));
        daemon_cleanup(&d);
}
END_TEST

/* One socket, both protocols (socket-http): Python's supervisorctl, Ansible's or
 * node_exporter's, pointed at supervisord's [unix_http_server] file, and ours on the same
 * path.  Natively with socket-http, and from an INI config, where it is the default. */
static void check_both_on_one_socket(struct daemon *d) {
        char url[300], out[8192], line[128];
        snprintf(url, sizeof url, "unix://%s", d->sock);
        pid_t web = service_pid_of(d, "web");
        ck_assert_int_gt(web, 0);
        int r = pyctl(url, NULL, out, sizeof out, "status", "web", NULL);
        snprintf(line, sizeof line, "RUNNING   pid %d, uptime 0:00:", (int)web);
        ck_assert_msg(r == 0 && strncmp(out, "web                              ", 33) == 0 && strstr(out, line),
                      "Python's status: exit %d: %s", r, out);
        r = pyctl(url, NULL, out, sizeof out, "restart", "web", NULL);
        ck_assert_msg(r == 0 && strcmp(out, "web: stopped\nweb: started\n") == 0, "restart: %d %s", r, out);
        pid_t restarted = service_pid_of(d, "web");
        ck_assert_msg(restarted > 0 && restarted != web && process_exists(restarted) && !process_exists(web),
                      "web %d -> %d", (int)web, (int)restarted);
        /* Ours on the same socket; what begins in upper case is HTTP's, answered as such. */
        ck_assert_int_eq(ctl(d, out, sizeof out, "pid web"), 0);
        ck_assert_int_eq(atoi(out), (int)restarted);
        char *raw[] = { "sh", "-c", "printf 'GET /nowhere HTTP/1.0\\r\\n\\r\\n' | socat -t 5 - UNIX-CONNECT:\"$0\"",
                        d->sock, NULL };
        r = run_capture(raw, out, sizeof out);
        ck_assert_msg(strncmp(out, "HTTP/1.", 7) == 0 && !strstr(out, "unknown command"), "GET: %d %s", r, out);
        /* The front-end went: the socket still serves ours, and HTTP again once it is back. */
        pid_t front = front_end_pid();
        ck_assert_int_gt(front, 0);
        ck_assert_int_eq(kill(front, SIGKILL), 0);
        ck_assert_int_eq(ctl(d, out, sizeof out, "pid"), 0);
        ck_assert_msg(WAIT_UNTIL(pyctl(url, NULL, out, sizeof out, "pid", NULL) == 0 && atoi(out) == (int)d->pid, 20000),
                      "Python's pid after the front-end's restart: %s", out);
}

START_TEST(test_one_socket_for_both_protocols) {
        struct daemon d;
        daemon_init(&d);
        daemon_write_config(&d, "socket-http = yes\nservice web {\n command = \"sleep 1000\"\n start-secs = 0.2\n}\n");
        daemon_start(&d);
        ck_assert(wait_for_state(&d, "web", "RUNNING", 10000));
        check_both_on_one_socket(&d);
        daemon_stop(&d, 10000);

        /* supervisord's INI form: [unix_http_server] is that one socket. */
        FILE *f = fopen(d.conf, "w");
        ck_assert_ptr_nonnull(f);
        fprintf(f, "[unix_http_server]\nfile = %%(here)s/sock\n\n[supervisord]\npidfile = %%(here)s/pid\n"
                   "logfile = %%(here)s/supervisord.log\nchildlogdir = %%(here)s\n\n[program:web]\ncommand = sleep 1000\n"
                   "startsecs = 0\n");
        ck_assert_int_eq(fclose(f), 0);
        daemon_start(&d);
        ck_assert(wait_for_state(&d, "web", "RUNNING", 10000));
        check_both_on_one_socket(&d);
        daemon_cleanup(&d);
}
END_TEST

/* An INI config for the admin commands: web writes a line to its log file, old is the
 * group that the rewritten config drops, new and extra the ones it adds. */
static void write_admin_ini(struct daemon *d, bool rewritten) {
        FILE *f = fopen(d->conf, "w");
        ck_assert_ptr_nonnull(f);
        fprintf(f, "[unix_http_server]\nfile = %%(here)s/sock\n\n[supervisord]\npidfile = %%(here)s/pid\n"
                   "logfile = %%(here)s/supervisord.log\nchildlogdir = %%(here)s\n\n"
                   "[program:web]\ncommand = sh -c 'echo hello from web; exec sleep 1000'\nstartsecs = 0\n"
                   "\n");
        if (rewritten)
                fprintf(f, "[program:new]\ncommand = sleep 1001\nstartsecs = 0\n\n"
                           "[program:extra]\ncommand = sleep 1002\nstartsecs = 0\n");
        else
                fprintf(f, "[program:old]\ncommand = sleep 1003\nstartsecs = 0\n");
        ck_assert_int_eq(fclose(f), 0);
}

/* reread, update, add, remove, maintail, clear, reload and shutdown: each line as
 * Python's supervisorctl prints it against Python's supervisord (supervisorctl.py). */
START_TEST(test_python_supervisorctl_admin_commands) {
        struct daemon d;
        char url[300], out[8192], path[300], text[65536];
        daemon_init(&d);
        write_admin_ini(&d, false);
        daemon_start(&d);
        ck_assert(wait_for_state(&d, "web", "RUNNING", 10000) && wait_for_state(&d, "old", "RUNNING", 10000));
        snprintf(url, sizeof url, "unix://%s", d.sock);

        int r = pyctl(url, NULL, out, sizeof out, "reread", NULL);
        ck_assert_msg(r == 0 && strcmp(out, "No config updates to processes\n") == 0, "reread: %d %s", r, out);
        write_admin_ini(&d, true);
        r = pyctl(url, NULL, out, sizeof out, "reread", NULL);
        ck_assert_msg(r == 0 && strcmp(out, "extra: available\nnew: available\nold: disappeared\n") == 0,
                      "reread: %d %s", r, out);
        r = pyctl(url, NULL, out, sizeof out, "add", "extra", NULL);
        ck_assert_msg(r == 0 && strcmp(out, "extra: added process group\n") == 0, "add: %d %s", r, out);
        ck_assert(wait_for_state(&d, "extra", "RUNNING", 10000));
        pid_t extra = service_pid_of(&d, "extra");
        ck_assert(process_exists(extra));
        r = pyctl(url, NULL, out, sizeof out, "add", "extra", NULL);
        ck_assert_msg(strcmp(out, "ERROR: process group already active\n") == 0, "add again: %d %s", r, out);
        /* BAD_NAME, STILL_RUNNING */
        r = pyctl(url, NULL, out, sizeof out, "add", "nosuch", NULL);
        ck_assert_msg(r == 1 && strcmp(out, "ERROR: no such process/group: nosuch\n") == 0, "add nosuch: %d %s", r, out);
        r = pyctl(url, NULL, out, sizeof out, "remove", "web", NULL);
        ck_assert_msg(r == 1 && strcmp(out, "ERROR: process/group still running: web\n") == 0, "remove web: %d %s", r,
                      out);
        pid_t old = service_pid_of(&d, "old");
        ck_assert(process_exists(old));
        r = pyctl(url, NULL, out, sizeof out, "update", NULL);
        ck_assert_msg(r == 0 && strcmp(out, "old: stopped\nold: removed process group\nnew: added process group\n") == 0,
                      "update: %d %s", r, out);
        ck_assert(WAIT_UNTIL(!process_exists(old), 10000));
        ck_assert(wait_for_state(&d, "new", "RUNNING", 10000));
        ck_assert(process_exists(service_pid_of(&d, "new")));
        r = pyctl(url, NULL, out, sizeof out, "status", NULL);
        ck_assert_msg(!strstr(out, "old") && strstr(out, "new"), "status after update: %s", out);
        r = pyctl(url, NULL, out, sizeof out, "stop", "extra", NULL);
        ck_assert_msg(r == 0 && strcmp(out, "extra: stopped\n") == 0, "stop extra: %d %s", r, out);
        ck_assert(!process_exists(extra));
        r = pyctl(url, NULL, out, sizeof out, "remove", "extra", NULL);
        ck_assert_msg(r == 0 && strcmp(out, "extra: removed process group\n") == 0, "remove: %d %s", r, out);
        r = pyctl(url, NULL, out, sizeof out, "status", NULL);
        ck_assert_msg(!strstr(out, "extra"), "status after remove: %s", out);

        /* maintail: the main log's last 1600 bytes, as the file holds them. */
        r = pyctl(url, NULL, out, sizeof out, "maintail", NULL);
        snprintf(path, sizeof path, "%s/supervisord.log", d.dir);
        ck_assert(read_text_file(path, text, sizeof text) > 0);
        size_t len = strlen(out);
        ck_assert_msg(r == 0 && len > 100 && len <= 1601 && out[len - 1] == '\n', "maintail: %d %s", r, out);
        out[len - 1] = '\0';
        ck_assert_msg(strstr(text, out), "maintail: not in the log file:\n%s", out);
        ck_assert_msg(strstr(text, " started with "), "%s", text);

        /* readLog's and clearLog's results and faults, with Python's xmlrpc.client. */
        static const char script[] =
                "import sys, xmlrpc.client\n"
                "from supervisor.xmlrpc import SupervisorTransport\n"
                "s = xmlrpc.client.ServerProxy('http://127.0.0.1', transport=SupervisorTransport(None, None, sys.argv[1]))\n"
                "for args in ((-10, 5), (0, -1)):\n"
                "    try:\n"
                "        s.supervisor.readLog(*args)\n"
                "    except xmlrpc.client.Fault as f:\n"
                "        print(f.faultCode, f.faultString)\n"
                "print(s.supervisor.readMainLog(0, 0) == open(sys.argv[2]).read())\n"
                "print(s.supervisor.clearLog())\n";
        char *python[] = { "/usr/bin/python3", "-c", (char *)script, url, path, NULL };
        r = run_capture(python, out, sizeof out);
        ck_assert_msg(r == 0 && strcmp(out, "3 BAD_ARGUMENTS\n3 BAD_ARGUMENTS\nTrue\nTrue\n") == 0, "readLog: %d %s", r, out);
        ck_assert_msg(read_text_file(path, text, sizeof text) >= 0 && !strstr(text, " started with "),
                      "main log not cleared:\n%s", text);

        /* clear: the log file is empty after. */
        snprintf(path, sizeof path, "%s/web.log", d.dir);
        ck_assert(WAIT_UNTIL(read_text_file(path, text, sizeof text) > 0, 10000));
        ck_assert_str_eq(text, "hello from web\n");
        r = pyctl(url, NULL, out, sizeof out, "clear", "web", NULL);
        ck_assert_msg(r == 0 && strcmp(out, "web: cleared\n") == 0, "clear: %d %s", r, out);
        struct stat st;
        ck_assert(stat(path, &st) == 0 && st.st_size == 0);
        r = pyctl(url, NULL, out, sizeof out, "clear", "nosuch", NULL);
        ck_assert_msg(strcmp(out, "nosuch: ERROR (no such process)\n") == 0, "clear nosuch: %d %s", r, out);
        r = pyctl(url, NULL, out, sizeof out, "clear", "all", NULL);
        ck_assert_msg(r == 0 && strstr(out, "web: cleared\n") && strstr(out, "new: cleared\n"), "clear all: %d %s", r,
                      out);

        /* reload: supervisord keeps its pid, the services get new ones. */
        pid_t web = service_pid_of(&d, "web");
        r = pyctl(url, NULL, out, sizeof out, "reload", NULL);
        ck_assert_msg(r == 0 && strcmp(out, "Restarted supervisord\n") == 0, "reload: %d %s", r, out);
        ck_assert(WAIT_UNTIL(service_pid_of(&d, "web") > 0 && service_pid_of(&d, "web") != web
                                     && harness_state_is(&d, "web", "RUNNING", text, sizeof text),
                             20000));
        ck_assert(!process_exists(web) && process_exists(d.pid));
        ck_assert_msg(WAIT_UNTIL(pyctl(url, NULL, out, sizeof out, "pid", NULL) == 0 && atoi(out) == (int)d.pid, 20000),
                      "pid after reload: %s", out);

        /* shutdown: the daemon exits. */
        r = pyctl(url, NULL, out, sizeof out, "shutdown", NULL);
        ck_assert_msg(r == 0 && strcmp(out, "Shut down\n") == 0, "shutdown: %d %s", r, out);
        int status;
        ck_assert(WAIT_UNTIL(waitpid(d.pid, &status, WNOHANG) == d.pid, 20000));
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        d.pid = 0;
        daemon_cleanup(&d);
}
END_TEST

static Suite *http_suite(void) {
        Suite *s = suite_create("http");
        TCase *tc = tcase_create("clients");
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, test_python_supervisorctl_on_the_unix_socket);
        tcase_add_test(tc, test_python_supervisorctl_on_tcp);
        tcase_add_test(tc, test_xmlrpc_client);
        tcase_add_test(tc, test_front_end_privsep_and_restart);
        tcase_add_test(tc, test_node_exporter);
        tcase_add_test(tc, test_one_socket_for_both_protocols);
        suite_add_tcase(s, tc);
        TCase *admin = tcase_create("admin");
        tcase_set_timeout(admin, 120);
        tcase_add_test(admin, test_python_supervisorctl_admin_commands);
        suite_add_tcase(s, admin);
        return s;
}

int main(void) { return run_suite(http_suite()) ? 1 : 0; }
