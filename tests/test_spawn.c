/* test_spawn.c — what a service process looks like from /proc: its session, fds, stdin,
 * environment, directory, umask, nice, limits, user and groups, signal mask. */
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

/* The value of "Field:" in /proc/PID/status, whitespace collapsed. */
static const char *status_field(pid_t pid, const char *field, char *value, size_t size) {
        char path[64], buf[8192];
        snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
        value[0] = '\0';
        if (read_text_file(path, buf, sizeof buf) <= 0)
                return value;
        size_t len = strlen(field);
        for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
                if (strncmp(line, field, len) == 0 && line[len] == ':') {
                        size_t n = 0;
                        for (char *p = line + len + 1; *p && n + 1 < size; p++) {
                                if (*p == ' ' || *p == '\t') {
                                        if (n > 0 && value[n - 1] != ' ')
                                                value[n++] = ' ';
                                } else
                                        value[n++] = *p;
                        }
                        while (n > 0 && value[n - 1] == ' ')
                                n--;
                        value[n] = '\0';
                        break;
                }
        return value;
}

/* PID has exec'd sleep and its environment is in place: the kernel names the new
 * program (comm) a moment before it lays out the environment, which /proc/PID/environ
 * reads as empty in between; SUPERVISOR_SERVICE, which every service has, is then seen. */
static bool has_exec_sleep(pid_t pid) {
        char path[64], comm[64], value[128];
        snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
        return read_text_file(path, comm, sizeof comm) > 0 && strcmp(comm, "sleep\n") == 0
               && process_getenv(pid, "SUPERVISOR_SERVICE", value, sizeof value);
}

static pid_t start_one(struct daemon *d, const char *name) {
        daemon_start(d);
        ASSERT_STATE_WITHIN(d, name, "RUNNING", SOON_MS);
        pid_t pid = service_pid_of(d, name);
        ck_assert_int_gt(pid, 0);
        /* What /proc shows before the exec is supervisord's forked copy, not the service. */
        ASSERT_WITHIN(has_exec_sleep(pid), SOON_MS);
        return pid;
}

START_TEST(test_session_fds_stdin) {
        struct daemon d;
        char list[256], link[256], path[64];
        daemon_init(&d);
        daemon_write_config(&d, "service plain { command = \"sleep 60\"\n start-secs = 0.1\n}\n");
        /* An fd supervisord inherits without close-on-exec must not reach the service. */
        int leak = open("/dev/null", O_RDONLY);
        ck_assert_int_ge(leak, 3);
        pid_t pid = start_one(&d, "plain");
        close(leak);
        char daemon_fds[256];
        ck_assert_int_ge(count_fds(d.pid, daemon_fds, sizeof daemon_fds), 4);

        ck_assert_int_eq(count_fds(pid, list, sizeof list), 3);
        ck_assert_str_eq(list, "0 1 2");
        snprintf(path, sizeof path, "/proc/%d/fd/0", (int)pid);
        ssize_t n = readlink(path, link, sizeof link - 1);
        ck_assert_int_gt(n, 0);
        link[n] = '\0';
        ck_assert_str_eq(link, "/dev/null");
        ck_assert_int_eq(getsid(pid), pid);
        ck_assert_int_eq(getpgid(pid), pid);
        ck_assert_int_eq(process_parent(pid), d.pid);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_environment) {
        struct daemon d;
        char value[256];
        daemon_init(&d);
        daemon_write_config(&d,
                "service envy {\n command = \"sleep 60\"\n start-secs = 0.1\n"
                " environment = { \"GREETING=hello world\", \"INHERITED_BY_TEST=overridden\" }\n}\n");
        setenv("INHERITED_BY_TEST", "original", 1);
        setenv("KEPT_FROM_PARENT", "yes", 1);
        setenv("NOTIFY_SOCKET", "/nonexistent/notify", 1);  /* meant for supervisord, not its services */
        /* supervisord's own SUPERVISOR_* (it may run under another supervisord) are not its
         * services': a ping fd that is not there would mislead heartbeat_client.h. */
        setenv("SUPERVISOR_PING_FD", "3", 1);
        setenv("SUPERVISOR_SERVICE", "outer", 1);
        pid_t pid = start_one(&d, "envy");
        unsetenv("SUPERVISOR_PING_FD");
        unsetenv("SUPERVISOR_SERVICE");
        ck_assert(process_getenv(pid, "SUPERVISOR_SERVICE", value, sizeof value));
        ck_assert_str_eq(value, "envy");
        ck_assert(process_getenv(pid, "SUPERVISOR_INSTANCE", value, sizeof value));
        ck_assert_str_eq(value, "0");
        ck_assert(process_getenv(pid, "GREETING", value, sizeof value));
        ck_assert_str_eq(value, "hello world");
        ck_assert(process_getenv(pid, "INHERITED_BY_TEST", value, sizeof value));
        ck_assert_str_eq(value, "overridden");
        ck_assert(process_getenv(pid, "KEPT_FROM_PARENT", value, sizeof value));
        ck_assert_str_eq(value, "yes");
        ck_assert(!process_getenv(pid, "NOTIFY_SOCKET", value, sizeof value));
        ck_assert(!process_getenv(pid, "SUPERVISOR_PING_FD", value, sizeof value));
        daemon_cleanup(&d);
}
END_TEST

/* The pid of NAME once RUNNING and past its exec of sleep. */
static pid_t exec_pid(struct daemon *d, const char *name) {
        ASSERT_STATE_WITHIN(d, name, "RUNNING", SOON_MS);
        pid_t pid = service_pid_of(d, name);
        ck_assert_msg(pid > 0, "%s has no pid", name);
        ASSERT_WITHIN(has_exec_sleep(pid), SOON_MS);
        return pid;
}

/* VAR in the environment of PID is VALUE (NULL: VAR is unset). */
static void assert_env(pid_t pid, const char *var, const char *value) {
        char got[512];
        bool set = process_getenv(pid, var, got, sizeof got);
        if (!value)
                ck_assert_msg(!set, "pid %d: %s=%s, want it unset", (int)pid, var, got);
        else
                ck_assert_msg(set && strcmp(got, value) == 0, "pid %d: %s=%s, want %s", (int)pid, var,
                              set ? got : "(unset)", value);
}

/* Python supervisord's variables for the process STATUS_NAME (as `status` shows it). */
/* SERVER_URL: NULL for none (no HTTP interface). */
static void assert_supervisor_env(struct daemon *d, const char *status_name, const char *process, const char *group,
                                  const char *server_url) {
        pid_t pid = exec_pid(d, status_name);
        assert_env(pid, "SUPERVISOR_ENABLED", "1");
        assert_env(pid, "SUPERVISOR_PROCESS_NAME", process);
        assert_env(pid, "SUPERVISOR_GROUP_NAME", group);
        assert_env(pid, "SUPERVISOR_SERVER_URL", server_url);
}

/* SUPERVISOR_ENABLED, SUPERVISOR_PROCESS_NAME and SUPERVISOR_GROUP_NAME as Python
 * supervisord sets them, for a lone service, instances and a service-group; the
 * service's own environment replaces them. */
START_TEST(test_supervisor_variables_native) {
        struct daemon d;
        daemon_init(&d);
        daemon_write_config(&d,
                "service solo {\n command = \"sleep 60\"\n start-secs = 0\n}\n"
                "service web {\n command = \"sleep 60\"\n instances = 2\n start-secs = 0\n}\n"
                "service a {\n command = \"sleep 60\"\n service-group = \"x\"\n start-secs = 0\n}\n"
                "service own {\n command = \"sleep 60\"\n start-secs = 0\n"
                " environment = { \"SUPERVISOR_PROCESS_NAME=mine\", \"SUPERVISOR_ENABLED=yes\",\n"
                "  \"SUPERVISOR_SERVER_URL=http://elsewhere:1\", \"SUPERVISOR_USERNAME=user\" }\n}\n");
        setenv("SUPERVISOR_ENABLED", "outer", 1);  /* supervisord's own is not passed on */
        setenv("SUPERVISOR_SERVER_URL", "unix:///outer.sock", 1);
        daemon_start(&d);
        unsetenv("SUPERVISOR_ENABLED");
        unsetenv("SUPERVISOR_SERVER_URL");
        assert_supervisor_env(&d, "solo", "solo", "solo", NULL);
        assert_supervisor_env(&d, "web@0", "web@0", "web", NULL);
        assert_supervisor_env(&d, "web@1", "web@1", "web", NULL);
        assert_supervisor_env(&d, "x:a", "a", "x", NULL);
        pid_t pid = exec_pid(&d, "own");
        assert_env(pid, "SUPERVISOR_ENABLED", "yes");
        assert_env(pid, "SUPERVISOR_PROCESS_NAME", "mine");
        assert_env(pid, "SUPERVISOR_GROUP_NAME", "own");
        assert_env(pid, "SUPERVISOR_SERVER_URL", "http://elsewhere:1");
        assert_env(pid, "SUPERVISOR_USERNAME", "user");
        assert_env(pid, "SUPERVISOR_SERVICE", "own");
        /* A restart builds them again, for the new process. */
        ck_assert_int_eq(ctl(&d, NULL, 0, "restart web@1"), 0);
        assert_supervisor_env(&d, "web@1", "web@1", "web", NULL);
        daemon_cleanup(&d);
}
END_TEST

/* The same from supervisord's INI form: a numprocs family, a [group:x] and a lone
 * program, named as Python supervisord names them. */
START_TEST(test_supervisor_variables_ini) {
        struct daemon d;
        char logs[256];
        daemon_init(&d);
        snprintf(logs, sizeof logs, "%s/logs", d.dir);
        ck_assert_int_eq(mkdir(logs, 0700), 0);
        FILE *f = fopen(d.conf, "w");
        ck_assert_ptr_nonnull(f);
        fprintf(f,
                "[unix_http_server]\nfile = %s\n\n"
                "[supervisord]\npidfile = %s\nchildlogdir = %s\nlogfile = %s/main.log\n\n"
                "[program:worker]\ncommand = sleep 60\nnumprocs = 2\n"
                "process_name = %%(program_name)s_%%(process_num)02d\nstartsecs = 0\n\n"
                "[program:a]\ncommand = sleep 60\nstartsecs = 0\n\n"
                "[program:b]\ncommand = sleep 60\nstartsecs = 0\nenvironment = SUPERVISOR_GROUP_NAME=\"theirs\",X=1\n\n"
                "[group:g]\nprograms = a,b\n\n"
                "[program:solo]\ncommand = sleep 60\nstartsecs = 0\n\n"
                "[program:single]\ncommand = sleep 60\nprocess_name = one\nstartsecs = 0\n",
                d.sock, d.pidfile, logs, d.dir);
        ck_assert_int_eq(fclose(f), 0);
        daemon_start(&d);
        /* [unix_http_server] serves supervisord's HTTP too (socket-http): its URL. */
        char url[256];
        snprintf(url, sizeof url, "unix://%s", d.sock);
        assert_supervisor_env(&d, "worker:worker_00", "worker_00", "worker", url);
        assert_supervisor_env(&d, "worker:worker_01", "worker_01", "worker", url);
        assert_supervisor_env(&d, "g:a", "a", "g", url);
        assert_supervisor_env(&d, "solo", "solo", "solo", url);
        assert_supervisor_env(&d, "single:one", "one", "single", url);
        pid_t pid = exec_pid(&d, "g:b");
        assert_env(pid, "SUPERVISOR_ENABLED", "1");
        assert_env(pid, "SUPERVISOR_PROCESS_NAME", "b");
        assert_env(pid, "SUPERVISOR_GROUP_NAME", "theirs");
        assert_env(pid, "X", "1");
        daemon_cleanup(&d);
}
END_TEST

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

/* A service that asks supervisord over supervisor.childutils.getRPCInterface(os.environ)
 * for its state and its own process info, writes "STATE NAME IS_SELF" into a file, then
 * becomes sleep. */
static const char caller_py[] =
        "import os, sys\n"
        "from supervisor import childutils\n"
        "rpc = childutils.getRPCInterface(os.environ)\n"
        "state = rpc.supervisor.getState()['statename']\n"
        "info = rpc.supervisor.getProcessInfo(os.environ['SUPERVISOR_PROCESS_NAME'])\n"
        "with open(sys.argv[1] + '.tmp', 'w') as f:\n"
        "    f.write('%s %s %d' % (state, info['name'], info['pid'] == os.getpid()))\n"
        "os.rename(sys.argv[1] + '.tmp', sys.argv[1])\n"
        "os.execv('/bin/sleep', ['sleep', '60'])\n";

enum http_setting {
        HTTP_UNIX_AND_TCP,  /* http-socket and http-listen 127.0.0.1:PORT */
        HTTP_TCP,           /* http-listen 127.0.0.1:PORT */
        HTTP_TCP_ANY,       /* http-listen *:PORT */
        HTTP_CONTROL,       /* socket-http: the control socket */
};

/* Run the caller under a daemon with the HTTP interface HTTP: its SUPERVISOR_SERVER_URL
 * must name it as supervisord does, and its call back must have worked. */
static void assert_calls_back(enum http_setting http) {
        struct daemon d;
        char script[256], out[256], http_line[512], url[512], text[64];
        unsigned port = free_port();
        daemon_init(&d);
        snprintf(script, sizeof script, "%s/caller.py", d.dir);
        snprintf(out, sizeof out, "%s/caller.txt", d.dir);
        FILE *f = fopen(script, "w");
        ck_assert_ptr_nonnull(f);
        fputs(caller_py, f);
        ck_assert_int_eq(fclose(f), 0);
        switch (http) {
        case HTTP_UNIX_AND_TCP:
                snprintf(http_line, sizeof http_line, "http-socket = \"%s/http.sock\"\nhttp-listen = \"127.0.0.1:%u\"",
                         d.dir, port);
                snprintf(url, sizeof url, "unix://%s/http.sock", d.dir);
                break;
        case HTTP_TCP:
                snprintf(http_line, sizeof http_line, "http-listen = \"127.0.0.1:%u\"", port);
                snprintf(url, sizeof url, "http://127.0.0.1:%u", port);
                break;
        case HTTP_TCP_ANY:
                snprintf(http_line, sizeof http_line, "http-listen = \"*:%u\"", port);
                snprintf(url, sizeof url, "http://localhost:%u", port);
                break;
        case HTTP_CONTROL:
                snprintf(http_line, sizeof http_line, "socket-http = yes");
                snprintf(url, sizeof url, "unix://%s", d.sock);
                break;
        }
        daemon_write_config(&d, "%s\nservice caller {\n command = \"/usr/bin/python3 %s %s\"\n start-secs = 0\n}\n",
                            http_line, script, out);
        daemon_start(&d);
        pid_t pid = exec_pid(&d, "caller");
        assert_env(pid, "SUPERVISOR_SERVER_URL", url);
        ck_assert(wait_for_file(out, SOON_MS));
        ck_assert(read_text_file(out, text, sizeof text) > 0);
        ck_assert_str_eq(text, "RUNNING caller 1");
        daemon_cleanup(&d);
}

/* SUPERVISOR_SERVER_URL names the HTTP interface, the unix socket over TCP as in
 * supervisord, and supervisor.childutils.getRPCInterface(os.environ) in a service
 * reaches supervisord by it. */
START_TEST(test_supervisor_server_url) {
        assert_calls_back(HTTP_UNIX_AND_TCP);
        assert_calls_back(HTTP_TCP);
        assert_calls_back(HTTP_TCP_ANY);
        assert_calls_back(HTTP_CONTROL);
}
END_TEST

static void write_script(const char *path, const char *text, mode_t mode) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
        close(fd);
}

/* A bare command name is looked up in the PATH the service gets (its `environment`, not
 * supervisord's), and a script without a #! line runs under /bin/sh, as with execvp(3). */
START_TEST(test_command_search) {
        struct daemon d;
        char bin[192], path[256], out[4096];
        daemon_init(&d);
        snprintf(bin, sizeof bin, "%s/bin", d.dir);
        ck_assert_int_eq(mkdir(bin, 0755), 0);
        snprintf(path, sizeof path, "%s/with-shebang", bin);
        write_script(path, "#!/bin/sh\nexec /bin/sleep 3911\n", 0755);
        snprintf(path, sizeof path, "%s/without-shebang", bin);
        write_script(path, "exec /bin/sleep 3912\n", 0755);
        snprintf(path, sizeof path, "%s/not-executable", bin);
        write_script(path, "#!/bin/sh\nexec /bin/sleep 3913\n", 0644);
        daemon_write_config(&d,
                "service shebang {\n command = with-shebang\n start-secs = 0.1\n"
                " environment = { \"PATH=/nonexistent::%1$s\" }\n}\n"
                "service plain {\n command = without-shebang\n start-secs = 0.1\n environment = { \"PATH=%1$s\" }\n}\n"
                "service denied {\n command = not-executable\n start-retries = 1\n environment = { \"PATH=%1$s\" }\n}\n"
                "service missing {\n command = with-shebang\n start-retries = 1\n}\n",
                bin);
        daemon_start(&d);
        ck_assert_msg(wait_for_state(&d, "shebang", "RUNNING", SOON_MS), "%d %s", ctl(&d, out, sizeof out, "status"), out);
        ASSERT_STATE_WITHIN(&d, "plain", "RUNNING", SOON_MS);
        ASSERT_WITHIN(count_processes("/bin/sleep 3911") == 1 && count_processes("/bin/sleep 3912") == 1, SOON_MS);
        ASSERT_STATE_WITHIN(&d, "denied", "FATAL", SOON_MS);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "status denied"), 3);
        ck_assert_msg(strstr(out, "exec not-executable: Permission denied"), "%s", out);
        /* Not in supervisord's own PATH. */
        ASSERT_STATE_WITHIN(&d, "missing", "FATAL", SOON_MS);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "status missing"), 3);
        ck_assert_msg(strstr(out, "exec with-shebang: No such file or directory"), "%s", out);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_directory_umask_nice_limits) {
        struct daemon d;
        char value[256], path[64], link[256], limits[8192];
        daemon_init(&d);
        daemon_write_config(&d,
                "service tuned {\n command = \"sleep 60\"\n start-secs = 0.1\n directory = %s\n umask = 027\n"
                " nice = 7\n limit-nofile = 123\n limit-core = 0\n limit-nproc = 1000\n}\n",
                d.dir);
        pid_t pid = start_one(&d, "tuned");

        snprintf(path, sizeof path, "/proc/%d/cwd", (int)pid);
        ssize_t n = readlink(path, link, sizeof link - 1);
        ck_assert_int_gt(n, 0);
        link[n] = '\0';
        ck_assert_str_eq(link, d.dir);
        ck_assert_str_eq(status_field(pid, "Umask", value, sizeof value), "0027");

        char stat[1024];
        snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
        ck_assert_int_gt(read_text_file(path, stat, sizeof stat), 0);
        /* field 19 is nice; count from after the command name */
        char *p = strrchr(stat, ')') + 2;
        int field = 3;
        while (field < 19 && (p = strchr(p, ' ')))
                p++, field++;
        ck_assert_ptr_nonnull(p);
        ck_assert_int_eq(atoi(p), 7);

        snprintf(path, sizeof path, "/proc/%d/limits", (int)pid);
        ck_assert_int_gt(read_text_file(path, limits, sizeof limits), 0);
        ck_assert_ptr_nonnull(strstr(limits, "Max open files            123                  123"));
        ck_assert_ptr_nonnull(strstr(limits, "Max core file size        0                    0"));
        ck_assert_ptr_nonnull(strstr(limits, "Max processes             1000                 1000"));
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_signals_reset) {
        struct daemon d;
        char value[64];
        daemon_init(&d);
        daemon_write_config(&d, "service sig { command = \"sleep 60\"\n start-secs = 0.1\n}\n");
        pid_t pid = start_one(&d, "sig");
        /* supervisord itself blocks TERM, INT, HUP, USR1, CHLD and ignores PIPE ... */
        ck_assert_str_ne(status_field(d.pid, "SigBlk", value, sizeof value), "0000000000000000");
        /* ... none of which its services may inherit. */
        ck_assert_str_eq(status_field(pid, "SigBlk", value, sizeof value), "0000000000000000");
        ck_assert_str_eq(status_field(pid, "SigIgn", value, sizeof value), "0000000000000000");
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_user_and_group) {
        struct daemon d;
        char value[256];
        if (geteuid() != 0) {
                fprintf(stderr, "test_user_and_group: needs root, skipped\n");
                return;
        }
        struct passwd *pw = getpwnam("nobody");
        struct group *gr = getgrnam("nogroup");
        ck_assert_ptr_nonnull(pw);
        ck_assert_ptr_nonnull(gr);
        uid_t uid = pw->pw_uid;
        gid_t gid = gr->gr_gid;
        char home[256];
        snprintf(home, sizeof home, "%s", pw->pw_dir);

        daemon_init(&d);
        daemon_write_config(&d,
                "service dropped { command = \"sleep 60\"\n start-secs = 0.1\n user = nobody\n}\n"
                "service grouped { command = \"sleep 60\"\n start-secs = 0.1\n user = nobody\n group = daemon\n}\n");
        pid_t pid = start_one(&d, "dropped");
        char expect[128];
        snprintf(expect, sizeof expect, "%u %u %u %u", uid, uid, uid, uid);
        ck_assert_str_eq(status_field(pid, "Uid", value, sizeof value), expect);
        snprintf(expect, sizeof expect, "%u %u %u %u", gid, gid, gid, gid);
        ck_assert_str_eq(status_field(pid, "Gid", value, sizeof value), expect);
        /* initgroups: exactly nobody's groups, none of root's */
        snprintf(expect, sizeof expect, "%u", gid);
        ck_assert_str_eq(status_field(pid, "Groups", value, sizeof value), expect);
        ck_assert(process_getenv(pid, "USER", value, sizeof value));
        ck_assert_str_eq(value, "nobody");
        ck_assert(process_getenv(pid, "HOME", value, sizeof value));
        ck_assert_str_eq(value, home);

        ASSERT_STATE_WITHIN(&d, "grouped", "RUNNING", SOON_MS);
        pid_t grouped = service_pid_of(&d, "grouped");
        struct group *daemon_group = getgrnam("daemon");
        ck_assert_ptr_nonnull(daemon_group);
        snprintf(expect, sizeof expect, "%u %u %u %u", daemon_group->gr_gid, daemon_group->gr_gid,
                 daemon_group->gr_gid, daemon_group->gr_gid);
        ck_assert_str_eq(status_field(grouped, "Gid", value, sizeof value), expect);
        daemon_cleanup(&d);
}
END_TEST

/* supervisord raises its own open-file limit for its pipes and log files; a service
 * without limit-nofile gets the limit supervisord was started with. */
START_TEST(test_nofile_given_back) {
        struct daemon d;
        char limits[8192], path[64], expect[128];
        struct rlimit rl;
        ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
        if (rl.rlim_max <= 1024) {
                fprintf(stderr, "test_nofile_given_back: hard limit %llu, nothing to raise, skipped\n",
                        (unsigned long long)rl.rlim_max);
                return;
        }
        rl.rlim_cur = 1000;
        ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
        daemon_init(&d);
        daemon_write_config(&d, "service plain { command = \"sleep 60\"\n start-secs = 0.1\n}\n");
        pid_t pid = start_one(&d, "plain");
        snprintf(path, sizeof path, "/proc/%d/limits", (int)d.pid);
        ck_assert_int_gt(read_text_file(path, limits, sizeof limits), 0);
        snprintf(expect, sizeof expect, "Max open files            %-20llu %-20llu", (unsigned long long)rl.rlim_max,
                 (unsigned long long)rl.rlim_max);
        ck_assert_msg(strstr(limits, expect), "supervisord: %s", limits);
        snprintf(path, sizeof path, "/proc/%d/limits", (int)pid);
        ck_assert_int_gt(read_text_file(path, limits, sizeof limits), 0);
        snprintf(expect, sizeof expect, "Max open files            %-20llu %-20llu", 1000ULL,
                 (unsigned long long)rl.rlim_max);
        ck_assert_msg(strstr(limits, expect), "service: %s", limits);
        daemon_cleanup(&d);
}
END_TEST

static Suite *spawn_suite(void) {
        Suite *s = suite_create("spawn");
        TCase *tc = tcase_create("spawn");
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_session_fds_stdin);
        tcase_add_test(tc, test_environment);
        tcase_add_test(tc, test_supervisor_variables_native);
        tcase_add_test(tc, test_supervisor_variables_ini);
        tcase_add_test(tc, test_supervisor_server_url);
        tcase_add_test(tc, test_command_search);
        tcase_add_test(tc, test_directory_umask_nice_limits);
        tcase_add_test(tc, test_signals_reset);
        tcase_add_test(tc, test_user_and_group);
        tcase_add_test(tc, test_nofile_given_back);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) { return run_suite(spawn_suite()) ? 1 : 0; }
