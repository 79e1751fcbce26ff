/* test_daemon.c — integration tests for the supervisord process itself: its command line,
 * daemon mode (double fork, pidfile lock, readiness), foreground shutdown on TERM and INT,
 * stop-timeout during shutdown, the child subreaper, and signals it ignores.
 *
 * Daemons started in daemon mode are not our children: a failing test could leave one
 * behind.  Each such pid is recorded in a table shared with the test runner (MAP_SHARED),
 * whose teardown kills whatever is still alive. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

/* ---- leftovers: processes a failed test may leave running ---- */

#define MAX_TRACKED 64

struct tracked_process {
        pid_t pid;
        char comm[16];  /* what /proc/PID/comm must say, so a reused pid is left alone */
};

static struct tracked_process *tracked;  /* shared with the forked tests */

static void tracked_setup(void) {
        void *p = mmap(NULL, MAX_TRACKED * sizeof *tracked, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        tracked = p == MAP_FAILED ? NULL : p;
        if (tracked)
                memset(tracked, 0, MAX_TRACKED * sizeof *tracked);
}

static bool comm_is(pid_t pid, const char *comm) {
        char path[64], buf[32];
        snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
        if (read_text_file(path, buf, sizeof buf) <= 0)
                return false;
        buf[strcspn(buf, "\n")] = '\0';
        return strcmp(buf, comm) == 0;
}

static void track(pid_t pid, const char *comm) {
        if (!tracked || pid <= 0)
                return;
        for (int i = 0; i < MAX_TRACKED; i++)
                if (tracked[i].pid == 0) {
                        tracked[i].pid = pid;
                        snprintf(tracked[i].comm, sizeof tracked[i].comm, "%s", comm);
                        return;
                }
}

static void tracked_teardown(void) {
        if (!tracked)
                return;
        for (int i = 0; i < MAX_TRACKED; i++) {
                pid_t pid = tracked[i].pid;
                if (pid <= 0 || !process_exists(pid) || !comm_is(pid, tracked[i].comm))
                        continue;
                /* A daemon gets the chance to take its services along. */
                kill(pid, SIGTERM);
                if (!WAIT_UNTIL(!process_exists(pid), 5000))
                        kill(pid, SIGKILL);
        }
        munmap(tracked, MAX_TRACKED * sizeof *tracked);
        tracked = NULL;
}

/* ---- helpers ---- */

static bool starts_with(const char *text, const char *prefix) {
        return strncmp(text, prefix, strlen(prefix)) == 0;
}

static pid_t read_pidfile(const char *path) {
        char buf[32];
        if (read_text_file(path, buf, sizeof buf) <= 0)
                return 0;
        return (pid_t)atoi(buf);
}

/* `supervisord ARGS... -c CONF` and its exit status; stdout and stderr in OUT. */
static int run_supervisord(const char *option, const char *conf, char *out, size_t size) {
        char *argv[] = { (char *)supervisord_path(), (char *)option, "-c", (char *)conf, NULL };
        if (!option) {
                argv[1] = "-c";
                argv[2] = (char *)conf;
                argv[3] = NULL;
        }
        return run_capture(argv, out, size);
}

/* Start CONF in daemon mode; the daemon's pid (0 if no pidfile appeared), tracked. */
static pid_t launch_daemon(struct daemon *d, int *ret_status, char *out, size_t size) {
        *ret_status = run_supervisord(NULL, d->conf, out, size);
        pid_t pid = read_pidfile(d->pidfile);
        track(pid, "supervisord");
        return pid;
}

static bool socket_answers(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        ck_assert_uint_lt(strlen(path), sizeof sa.sun_path);
        memcpy(sa.sun_path, path, strlen(path) + 1);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
        if (fd >= 0)
                close(fd);
        return ok;
}

static const char *proc_link(pid_t pid, const char *what, char *buf, size_t size) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, what);
        ssize_t n = readlink(path, buf, size - 1);
        buf[n > 0 ? n : 0] = '\0';
        return buf;
}

/* The value of FIELD ("Umask") in /proc/PID/status. */
static const char *proc_status_field(pid_t pid, const char *field, char *buf, size_t size) {
        char path[64], text[4096];
        snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
        buf[0] = '\0';
        if (read_text_file(path, text, sizeof text) <= 0)
                return buf;
        size_t n = strlen(field);
        for (char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
                if (strncmp(line, field, n) == 0 && line[n] == ':') {
                        char *value = line + n + 1;
                        value += strspn(value, " \t");
                        snprintf(buf, size, "%.*s", (int)strcspn(value, "\n"), value);
                        break;
                }
        return buf;
}

/* Wait for our own child D->pid to exit by itself; its exit status, -1 on timeout. */
static int wait_daemon_exit(struct daemon *d, int timeout_ms) {
        int status = 0;
        if (!WAIT_UNTIL(waitpid(d->pid, &status, WNOHANG) == d->pid, timeout_ms))
                return -1;
        d->pid = 0;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The service's main pid once it is set up (its own session), a child of the daemon. */
static pid_t service_up(struct daemon *d, const char *name, pid_t daemon_pid) {
        pid_t pid = service_pid_of(d, name);
        ck_assert_msg(pid > 0, "%s has no pid", name);
        ck_assert_msg(WAIT_UNTIL(getsid(pid) == pid, SOON_MS), "%s (pid %d) never got its own session", name, (int)pid);
        ck_assert_int_eq(process_parent(pid), daemon_pid);
        return pid;
}

#define STUBBORN_SERVICE                                                                                     \
        "service %s {\n command = \"sh -c 'trap \\\"\\\" TERM; echo ok > %s/%s.ready; while :; do sleep 0.2; done'\"\n" \
        " start-secs = 0\n stop-timeout = %s\n}\n"

/* ---- command line ---- */

START_TEST(test_check_good_config) {
        struct daemon d;
        char out[4096], expected[512];
        daemon_init(&d);
        daemon_write_config(&d, "service web {\n command = \"sleep 60\"\n}\n");
        ck_assert_int_eq(run_supervisord("-t", d.conf, out, sizeof out), 0);
        snprintf(expected, sizeof expected, "%s: configuration OK", d.conf);
        ck_assert_msg(starts_with(out, expected) && strchr(out, '\n') == out + strlen(out) - 1, "%s", out);
        /* Checking starts nothing. */
        ck_assert(access(d.sock, F_OK) < 0);
        ck_assert(access(d.pidfile, F_OK) < 0);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_check_bad_config) {
        static const struct {
                const char *body;
                int line;
                const char *message;
        } cases[] = {
                /* The harness writes 3 lines first: the body starts on line 4. */
                { "service a {\n command = \"sleep 1\"\n restart = sometimes\n}\n", 6,
                  "restart: 'sometimes' is not one of always, on-failure, never" },
                { "\n\nservice a {\n command = \"sleep 1\"\n}\nservice a {\n command = \"sleep 2\"\n}\n", 9, NULL },
                { "service a {\n command = \"sleep 1\"\n start-secs = -1\n}\n", 6,
                  "start-secs: '-1' is not a number of seconds" },
                { "service a {\n command = \"sleep 'unterminated\"\n}\n", 5, "command: unterminated single quote" },
                { "socket-mode = 9999\n", 4, "socket-mode: '9999' is not an octal mode such as 0660" },
        };
        struct daemon d;
        char out[4096], expected[1024];
        daemon_init(&d);
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                daemon_write_config(&d, "%s", cases[i].body);
                ck_assert_int_eq(run_supervisord("-t", d.conf, out, sizeof out), 2);
                if (cases[i].message)
                        snprintf(expected, sizeof expected, "%s:%d: %s\n", d.conf, cases[i].line, cases[i].message);
                else
                        snprintf(expected, sizeof expected, "%s:%d: ", d.conf, cases[i].line);
                ck_assert_msg(cases[i].message ? strcmp(out, expected) == 0 : starts_with(out, expected),
                              "case %zu: expected '%s', got '%s'", i, expected, out);
                ck_assert_msg(strchr(out, '\n') == out + strlen(out) - 1, "case %zu: not one line: %s", i, out);
        }

        /* Without -t, in either mode, the same error and nothing is started. */
        daemon_write_config(&d, "%s", cases[0].body);
        snprintf(expected, sizeof expected, "%s:%d: %s\n", d.conf, cases[0].line, cases[0].message);
        ck_assert_int_eq(run_supervisord("-n", d.conf, out, sizeof out), 2);
        ck_assert_str_eq(out, expected);
        ck_assert_int_eq(run_supervisord(NULL, d.conf, out, sizeof out), 2);
        ck_assert_str_eq(out, expected);
        ck_assert(access(d.sock, F_OK) < 0);
        ck_assert(access(d.pidfile, F_OK) < 0);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_missing_config) {
        struct daemon d;
        char out[4096], missing[256];
        daemon_init(&d);
        snprintf(missing, sizeof missing, "%s/missing.conf", d.dir);
        ck_assert_int_eq(run_supervisord("-t", missing, out, sizeof out), 2);
        ck_assert_msg(strstr(out, missing) != NULL, "%s", out);
        ck_assert_int_eq(run_supervisord("-n", missing, out, sizeof out), 2);
        ck_assert_msg(strstr(out, missing) != NULL, "%s", out);
        ck_assert_int_eq(run_supervisord(NULL, missing, out, sizeof out), 2);
        ck_assert_msg(strstr(out, missing) != NULL, "%s", out);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_options) {
        char out[4096];
        char *version[] = { (char *)supervisord_path(), "-v", NULL };
        ck_assert_int_eq(run_capture(version, out, sizeof out), 0);
        ck_assert_str_eq(out, "supervisord 0.1.0\n");

        char *help[] = { (char *)supervisord_path(), "-h", NULL };
        ck_assert_int_eq(run_capture(help, out, sizeof out), 0);
        ck_assert_msg(starts_with(out, "usage: supervisord"), "%s", out);

        char *unknown[] = { (char *)supervisord_path(), "-x", NULL };
        ck_assert_int_eq(run_capture(unknown, out, sizeof out), 2);
        ck_assert_msg(strstr(out, "usage: supervisord") != NULL, "%s", out);

        char *extra[] = { (char *)supervisord_path(), "-n", "-c", "/nonexistent.conf", "extra", NULL };
        ck_assert_int_eq(run_capture(extra, out, sizeof out), 2);
        ck_assert_msg(strstr(out, "usage: supervisord") != NULL, "%s", out);

        char *no_file[] = { (char *)supervisord_path(), "-t", "-c", NULL };
        ck_assert_int_eq(run_capture(no_file, out, sizeof out), 2);
        ck_assert_msg(strstr(out, "usage: supervisord") != NULL, "%s", out);
}
END_TEST

/* ---- daemon mode ---- */

START_TEST(test_daemon_mode) {
        struct daemon d;
        char out[4096], buf[256], expected[64];
        int status;
        daemon_init(&d);
        /* stdout = inherit: what a service inherits from the daemon is checked below. */
        daemon_write_config(&d, "service web {\n command = \"sleep 60\"\n start-secs = 0\n stdout = inherit\n}\n");
        pid_t pid = launch_daemon(&d, &status, out, sizeof out);
        /* Ready means ready: the socket answers the moment the launcher has exited. */
        bool answered = socket_answers(d.sock);
        ck_assert_msg(status == 0, "exit %d: %s", status, out);
        ck_assert(answered);
        ck_assert_str_eq(out, "");

        /* The pidfile names the daemon: alive, detached from us, not a session leader. */
        ck_assert_int_gt(pid, 0);
        snprintf(expected, sizeof expected, "%d\n", (int)pid);
        ck_assert_int_gt(read_text_file(d.pidfile, buf, sizeof buf), 0);
        ck_assert_str_eq(buf, expected);
        ck_assert_int_ne(pid, getpid());
        ck_assert(process_exists(pid));
        ck_assert(comm_is(pid, "supervisord"));
        ck_assert_int_ne(process_parent(pid), getpid());
        ck_assert_int_ne(getsid(pid), pid);
        ck_assert_int_ne(getsid(pid), getsid(0));
        ck_assert_int_eq(getpgid(pid), getsid(pid));
        ck_assert_str_eq(proc_link(pid, "cwd", buf, sizeof buf), "/");
        ck_assert_str_eq(proc_link(pid, "fd/0", buf, sizeof buf), "/dev/null");
        ck_assert_str_eq(proc_link(pid, "fd/1", buf, sizeof buf), "/dev/null");
        ck_assert_str_eq(proc_link(pid, "fd/2", buf, sizeof buf), "/dev/null");
        ck_assert_str_eq(proc_status_field(pid, "Umask", buf, sizeof buf), "0022");
        ck_assert_int_eq(ctl(&d, out, sizeof out, "pid"), 0);
        ck_assert_int_eq(atoi(out), pid);

        /* The pidfile is locked. */
        int fd = open(d.pidfile, O_RDONLY | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(flock(fd, LOCK_EX | LOCK_NB), -1);
        ck_assert_int_eq(errno, EWOULDBLOCK);
        close(fd);

        /* Autostart services were spawned before it reported ready; they inherit / and
         * (stdout = inherit) /dev/null. */
        pid_t web = service_up(&d, "web", pid);
        ck_assert_str_eq(proc_link(web, "cwd", buf, sizeof buf), "/");
        ck_assert_str_eq(proc_link(web, "fd/1", buf, sizeof buf), "/dev/null");

        /* Shut down: the daemon and its service go away, and so do the pidfile and socket. */
        ck_assert_int_eq(ctl(&d, out, sizeof out, "shutdown"), 0);
        ck_assert_str_eq(out, "Shut down\n");
        ASSERT_WITHIN(!process_exists(pid), SOON_MS);
        ck_assert(!process_exists(web));
        ck_assert(access(d.pidfile, F_OK) < 0);
        ck_assert(access(d.sock, F_OK) < 0);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_daemon_mode_conflicts) {
        struct daemon d, other;
        char out[4096], expected[512], buf[64];
        int status;
        daemon_init(&d);
        daemon_write_config(&d, "service web {\n command = \"sleep 60\"\n start-secs = 0\n}\n");
        pid_t pid = launch_daemon(&d, &status, out, sizeof out);
        ck_assert_msg(status == 0, "exit %d: %s", status, out);
        ck_assert_int_gt(pid, 0);
        pid_t web = service_up(&d, "web", pid);
        struct stat sock_before, sock_after;
        ck_assert_int_eq(stat(d.sock, &sock_before), 0);

        /* Same pidfile, another socket: the lock keeps it out. */
        daemon_init(&other);
        snprintf(other.pidfile, sizeof other.pidfile, "%s", d.pidfile);
        daemon_write_config(&other, "service web {\n command = \"sleep 60\"\n start-secs = 0\n}\n");
        ck_assert_int_eq(launch_daemon(&other, &status, out, sizeof out), pid);
        ck_assert_msg(status == 1, "exit %d: %s", status, out);
        snprintf(expected, sizeof expected, "is running (pid %d, pidfile %s)\n", (int)pid, d.pidfile);
        ck_assert_msg(starts_with(out, "supervisord: another ") && strstr(out, expected) != NULL, "%s", out);
        ck_assert(access(other.sock, F_OK) < 0);
        /* In the foreground too. */
        ck_assert_int_eq(run_supervisord("-n", other.conf, out, sizeof out), 1);
        ck_assert_msg(strstr(out, expected) != NULL, "%s", out);
        ck_assert(access(other.sock, F_OK) < 0);
        /* The loser did not touch the winner's pidfile. */
        snprintf(expected, sizeof expected, "%d\n", (int)pid);
        ck_assert_int_gt(read_text_file(d.pidfile, buf, sizeof buf), 0);
        ck_assert_str_eq(buf, expected);
        daemon_cleanup(&other);

        /* Same socket, another pidfile: the live socket is not taken over. */
        daemon_init(&other);
        snprintf(other.sock, sizeof other.sock, "%s", d.sock);
        daemon_write_config(&other, "service web {\n command = \"sleep 60\"\n start-secs = 0\n}\n");
        launch_daemon(&other, &status, out, sizeof out);
        ck_assert_msg(status == 1, "exit %d: %s", status, out);
        snprintf(expected, sizeof expected, "supervisord: socket %s is in use by a running supervisord\n", d.sock);
        ck_assert_str_eq(out, expected);
        /* The failed daemon took its pidfile first; it removes it on the way out. */
        ASSERT_WITHIN(access(other.pidfile, F_OK) < 0, SOON_MS);
        ck_assert_int_eq(stat(d.sock, &sock_after), 0);
        ck_assert_int_eq(sock_before.st_ino, sock_after.st_ino);
        daemon_cleanup(&other);

        /* A pidfile that cannot be created. */
        daemon_init(&other);
        snprintf(other.pidfile, sizeof other.pidfile, "%s/no-such-dir/pid", other.dir);
        daemon_write_config(&other, "%s", "");
        ck_assert_int_eq(launch_daemon(&other, &status, out, sizeof out), 0);
        ck_assert_msg(status == 1, "exit %d: %s", status, out);
        ck_assert_msg(starts_with(out, "supervisord: ") && strstr(out, "No such file or directory") != NULL, "%s", out);
        ck_assert(access(other.sock, F_OK) < 0);
        daemon_cleanup(&other);

        /* The first daemon was not disturbed by any of it. */
        ck_assert_int_eq(ctl(&d, out, sizeof out, "pid"), 0);
        ck_assert_int_eq(atoi(out), pid);
        ck_assert_int_eq(service_pid_of(&d, "web"), web);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "shutdown"), 0);
        ASSERT_WITHIN(!process_exists(pid), SOON_MS);
        ck_assert(!process_exists(web));
        ck_assert(access(d.pidfile, F_OK) < 0);
        ck_assert(access(d.sock, F_OK) < 0);
        daemon_cleanup(&d);
}
END_TEST

/* ---- foreground: signals ---- */

START_TEST(test_sigterm_stops_services) {
        struct daemon d;
        daemon_init(&d);
        /* Both die of TERM: the shutdown must not wait out their 60 s stop-timeout. */
        daemon_write_config(&d,
                            "service a {\n command = \"sleep 60\"\n start-secs = 0\n stop-timeout = 60\n}\n"
                            "service b {\n command = \"sh -c 'sleep 60; sleep 60'\"\n start-secs = 0\n"
                            " stop-timeout = 60\n}\n");
        daemon_start(&d);
        pid_t a = service_up(&d, "a", d.pid), b = service_up(&d, "b", d.pid);
        ck_assert_int_eq(read_pidfile(d.pidfile), d.pid);

        ck_assert_int_eq(daemon_stop(&d, SOON_MS), 0);
        ck_assert_int_eq(process_state(a), 0);
        ck_assert_int_eq(process_state(b), 0);
        ck_assert(access(d.pidfile, F_OK) < 0);
        ck_assert(access(d.sock, F_OK) < 0);
        daemon_cleanup(&d);
}
END_TEST

/* Whether the socket at PATH takes a connection. */
static bool connects(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        snprintf(sa.sun_path, sizeof sa.sun_path, "%.107s", path);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
        if (fd >= 0)
                close(fd);
        return ok;
}

/* SIGTERM the moment the socket takes connections, as a script that waits for the socket
 * and then stops supervisord does: a clean shutdown, exit 0, never death by the signal
 * (the socket is made before the loop runs: the signals must be blocked by then). */
START_TEST(test_sigterm_as_soon_as_the_socket_answers) {
        struct daemon d;
        daemon_init(&d);
        daemon_write_config(&d, "service a {\n command = \"sleep 60\"\n start-secs = 0\n}\n");
        for (int round = 0; round < 30; round++) {
                pid_t pid = fork();
                ck_assert_int_ge(pid, 0);
                if (pid == 0) {
                        int log = open(d.log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
                        dup2(log, STDOUT_FILENO);
                        dup2(log, STDERR_FILENO);
                        execl(supervisord_path(), "supervisord", "-n", "-c", d.conf, (char *)NULL);
                        _exit(127);
                }
                d.pid = pid;
                int status = 0;
                bool exited = false;
                for (long long end = now_ms() + SOON_MS; !connects(d.sock) && now_ms() < end;)
                        if (waitpid(pid, &status, WNOHANG) == pid) {
                                exited = true;
                                break;
                        }
                ck_assert_msg(!exited, "round %d: supervisord exited before its socket answered (log %s)", round, d.log);
                ck_assert_int_eq(kill(pid, SIGTERM), 0);
                ck_assert_msg(wait_daemon_exit(&d, SOON_MS) == 0, "round %d: not a clean exit (log %s)", round, d.log);
        }
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_sigint_stops_services) {
        struct daemon d;
        daemon_init(&d);
        daemon_write_config(&d,
                            "service a {\n command = \"sleep 60\"\n start-secs = 0\n}\n"
                            "service b {\n command = \"sleep 60\"\n start-secs = 0\n}\n");
        daemon_start(&d);
        pid_t a = service_up(&d, "a", d.pid), b = service_up(&d, "b", d.pid);
        ck_assert_int_eq(kill(d.pid, SIGINT), 0);
        ck_assert_int_eq(wait_daemon_exit(&d, 5000), 0);
        ck_assert_int_eq(process_state(a), 0);
        ck_assert_int_eq(process_state(b), 0);
        ck_assert(access(d.pidfile, F_OK) < 0);
        ck_assert(access(d.sock, F_OK) < 0);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_shutdown_kills_after_stop_timeout) {
        struct daemon d;
        char path[256];
        daemon_init(&d);
        /* Two services that ignore TERM, each with stop-timeout = 3: they are stopped at the
         * same time, so shutdown takes 3 s and some, not 6. */
        daemon_write_config(&d, STUBBORN_SERVICE, "one", d.dir, "one", "3");
        FILE *f = fopen(d.conf, "a");
        ck_assert_ptr_nonnull(f);
        fprintf(f, STUBBORN_SERVICE, "two", d.dir, "two", "3");
        ck_assert_int_eq(fclose(f), 0);
        daemon_start(&d);
        snprintf(path, sizeof path, "%s/one.ready", d.dir);
        ck_assert_msg(wait_for_file(path, SOON_MS), "%s is still missing or empty", path);
        snprintf(path, sizeof path, "%s/two.ready", d.dir);
        ck_assert_msg(wait_for_file(path, SOON_MS), "%s is still missing or empty", path);
        pid_t one = service_up(&d, "one", d.pid), two = service_up(&d, "two", d.pid);

        long long t0 = now_ms();
        ck_assert_int_eq(daemon_stop(&d, SOON_MS), 0);
        long long elapsed = now_ms() - t0;
        ck_assert_msg(elapsed >= 2950 && elapsed < 6000,
                      "shutdown took %lld ms, expected one stop-timeout of 3 s (not two one after the other)", elapsed);
        ck_assert_int_eq(process_state(one), 0);
        ck_assert_int_eq(process_state(two), 0);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_second_sigterm_kills_at_once) {
        struct daemon d;
        char path[256];
        daemon_init(&d);
        daemon_write_config(&d, STUBBORN_SERVICE, "stubborn", d.dir, "stubborn", "30");
        daemon_start(&d);
        snprintf(path, sizeof path, "%s/stubborn.ready", d.dir);
        ck_assert_msg(wait_for_file(path, SOON_MS), "%s is still missing or empty", path);
        pid_t stubborn = service_up(&d, "stubborn", d.pid);

        ck_assert_int_eq(kill(d.pid, SIGTERM), 0);
        /* The first TERM starts a slow shutdown: still answering, the service STOPPING. */
        ASSERT_STATE_WITHIN(&d, "stubborn", "STOPPING", SOON_MS);
        sleep_ms(200);
        ck_assert(process_exists(d.pid));
        ck_assert(process_exists(stubborn));

        /* Well before the 30 s stop-timeout. */
        ck_assert_int_eq(kill(d.pid, SIGTERM), 0);
        ck_assert_int_eq(wait_daemon_exit(&d, SOON_MS), 0);
        ck_assert_int_eq(process_state(stubborn), 0);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_hup_and_usr1_do_not_kill) {
        struct daemon d;
        char out[4096];
        daemon_init(&d);
        daemon_write_config(&d, "service web {\n command = \"sleep 60\"\n start-secs = 0\n}\n");
        daemon_start(&d);
        pid_t web = service_up(&d, "web", d.pid);
        static const int signals[] = { SIGHUP, SIGUSR1, SIGHUP };
        for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++) {
                ck_assert_int_eq(kill(d.pid, signals[i]), 0);
                sleep_ms(150);  /* a fatal signal would have acted by now */
                ck_assert_msg(waitpid(d.pid, NULL, WNOHANG) == 0, "supervisord died of SIG%s", i == 1 ? "USR1" : "HUP");
                ck_assert_int_eq(ctl(&d, out, sizeof out, "pid"), 0);
                ck_assert_int_eq(atoi(out), d.pid);
                ck_assert_int_eq(ctl(&d, out, sizeof out, "status web"), 0);
                ck_assert_int_eq(service_pid_of(&d, "web"), web);
        }
        ck_assert_int_eq(daemon_stop(&d, 5000), 0);
        ck_assert_int_eq(process_state(web), 0);
        daemon_cleanup(&d);
}
END_TEST

/* ---- a reload's load off the loop ---- */

/* The writing end of the FIFO at PATH, once a reader has it open; -1 before. */
static int fifo_writer(const char *path) {
        return open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
}

static int count_in_file(const char *path, const char *needle) {
        static char text[1 << 16];
        int n = 0;
        if (read_text_file(path, text, sizeof text) < 0)
                return -1;
        for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
                n++;
        return n;
}

/* The config is a FIFO nobody writes yet: the reload's load waits in open(2) and then in
 * read(2), as one waits for NSS on LDAP or a slow file system.  Meanwhile supervisord goes
 * on supervising (a service that exits is restarted, supervisorctl is answered); reloads
 * asked meanwhile share one more load; a shutdown does not wait for a load. */
START_TEST(test_reload_loads_off_the_loop) {
        struct daemon d;
        char out[4096], text[8192], fifo[256];
        daemon_init(&d);
        daemon_write_config(&d, "service flap {\n command = \"/bin/sh -c 'sleep 0.2; exit 1'\"\n restart = always\n"
                                " start-secs = 0\n start-retries = 0\n restart-delay = 0.1\n restart-delay-max = 0.1\n"
                                " stdout = null\n}\n");
        ck_assert_int_ge(read_text_file(d.conf, text, sizeof text - 200), 0);
        strcat(text, "service added {\n command = \"sleep 60\"\n start-secs = 0\n}\n");
        daemon_start(&d);
        ASSERT_WITHIN(service_pid_of(&d, "flap") > 0, SOON_MS);
        snprintf(fifo, sizeof fifo, "%s/fifo", d.dir);
        ck_assert_int_eq(mkfifo(fifo, 0600), 0);
        ck_assert_int_eq(rename(fifo, d.conf), 0);

        ck_assert_int_eq(kill(d.pid, SIGHUP), 0);
        int w;
        ASSERT_WITHIN((w = fifo_writer(d.conf)) >= 0, SOON_MS);  /* the load is reading */
        /* It waits for the end of the file: supervision goes on. */
        for (int restarts = 0; restarts < 3; restarts++) {
                pid_t before = service_pid_of(&d, "flap");
                ASSERT_WITHIN(service_pid_of(&d, "flap") > 0 && service_pid_of(&d, "flap") != before, SOON_MS);
        }
        ck_assert_int_eq(ctl(&d, out, sizeof out, "pid"), 0);
        ck_assert_int_eq(atoi(out), d.pid);
        /* Two more reloads while this one waits (SIGHUP and `update`, supervisorctl's request
         * for what SIGHUP does): they share the next load. */
        ck_assert_int_eq(kill(d.pid, SIGHUP), 0);
        pid_t update = fork();
        ck_assert_int_ge(update, 0);
        if (update == 0) {
                close(w);  /* the load reads until every writer is gone */
                char answer[4096] = "";
                int r = ctl(&d, answer, sizeof answer, "update");
                if (r != 0)
                        fprintf(stderr, "update: %d: %s\n", r, answer);
                _exit(r == 0 ? 0 : 1);
        }
        /* Both asked before this load ends, so both wait for the next one. */
        ASSERT_WITHIN(count_in_file(d.log, "SIGHUP: reloading") == 2, SOON_MS);
        ASSERT_WITHIN(count_in_file(d.log, "update requested by") == 1, SOON_MS);
        ck_assert_int_eq(write(w, text, strlen(text)), (ssize_t)strlen(text));
        close(w);
        ASSERT_WITHIN(service_pid_of(&d, "added") > 0, SOON_MS);
        ASSERT_WITHIN((w = fifo_writer(d.conf)) >= 0, SOON_MS);  /* the second load */
        ck_assert_int_eq(write(w, text, strlen(text)), (ssize_t)strlen(text));
        close(w);
        int status;
        ASSERT_WITHIN(waitpid(update, &status, WNOHANG) == update, SOON_MS);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "update failed: %d", status);
        ASSERT_WITHIN(count_in_file(d.log, "reloaded ") == 2, SOON_MS);

        /* A shutdown while a load waits: supervisord stops its services and exits. */
        pid_t added = service_pid_of(&d, "added");
        ck_assert_int_eq(kill(d.pid, SIGHUP), 0);
        ASSERT_WITHIN((w = fifo_writer(d.conf)) >= 0, SOON_MS);
        ck_assert_int_eq(daemon_stop(&d, SOON_MS), 0);
        ck_assert_int_eq(process_state(added), 0);
        close(w);
        ck_assert_int_eq(count_in_file(d.log, "reloaded "), 2);  /* three loads, two reloads */
        daemon_cleanup(&d);
}
END_TEST

/* ---- child subreaper ---- */

START_TEST(test_subreaper_reaps_orphans) {
        struct daemon d;
        char script[256], detached_file[256], grouped_file[256], buf[64];
        daemon_init(&d);
        snprintf(script, sizeof script, "%s/orphans.sh", d.dir);
        snprintf(detached_file, sizeof detached_file, "%s/detached", d.dir);
        snprintf(grouped_file, sizeof grouped_file, "%s/grouped", d.dir);
        /* The service leaves two children behind and exits 0: one in its own session (out
         * of the process group's reach), one in the service's group.  Both are killed when
         * the main process exits. */
        FILE *f = fopen(script, "w");
        ck_assert_ptr_nonnull(f);
        fprintf(f,
                "setsid sh -c 'echo $$ > %s; exec sleep 30' &\n"
                "sleep 30 &\n"
                "echo $! > %s\n"
                "while [ ! -s %s ]; do sleep 0.05; done\n"
                "exit 0\n",
                detached_file, grouped_file, detached_file);
        ck_assert_int_eq(fclose(f), 0);
        daemon_write_config(&d, "service orphans {\n command = \"/bin/sh %s\"\n start-secs = 0\n restart = never\n}\n",
                            script);
        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "orphans", "EXITED", SOON_MS);
        ck_assert_int_gt(read_text_file(detached_file, buf, sizeof buf), 0);
        pid_t detached = atoi(buf);
        track(detached, "sleep");
        ck_assert_int_gt(read_text_file(grouped_file, buf, sizeof buf), 0);
        pid_t grouped = atoi(buf);
        track(grouped, "sleep");
        ck_assert_int_gt(detached, 0);
        ck_assert_int_gt(grouped, 0);

        /* The orphan in the service's group was killed and reaped: no zombie anywhere. */
        ck_assert_msg(WAIT_UNTIL(process_state(grouped) == 0, SOON_MS), "pid %d state %c parent %d", (int)grouped,
                      process_state(grouped), (int)process_parent(grouped));
        /* The detached one left the group with setsid(), but still carries the service's
         * environment: as a stray of an exited service it is killed too, and reaped by
         * supervisord (its subreaper), not left to init. */
        ck_assert_msg(WAIT_UNTIL(process_state(detached) == 0, SOON_MS), "pid %d state %c", (int)detached,
                      process_state(detached));
        ck_assert_int_eq(count_zombie_children(d.pid), 0);

        /* The service itself is accounted for normally. */
        char out[4096];
        ck_assert_int_eq(ctl(&d, out, sizeof out, "status orphans"), 3);
        ck_assert_msg(strstr(out, "EXITED") != NULL && strstr(out, "exit status 0") != NULL, "%s", out);
        ck_assert_int_eq(daemon_stop(&d, 5000), 0);
        daemon_cleanup(&d);
}
END_TEST

/* A SIGTERM as soon as the socket answers (a service manager stopping what it just
 * started) is a clean shutdown: the signals are blocked before the socket exists, not
 * only once the loop is set up, when the default action would kill supervisord and
 * leave its socket and pidfile behind.  The socket is polled without a pause here (the
 * harness looks every 10 ms, too late to see it), twenty times: the window was a few
 * starts in thirty. */
START_TEST(test_sigterm_right_after_start) {
        struct daemon d;
        struct stat st;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        daemon_init(&d);
        daemon_write_config(&d, "service s { command = \"sleep 60\"\n autostart = false\n}\n");
        ck_assert_uint_lt(strlen(d.sock), sizeof sa.sun_path);
        memcpy(sa.sun_path, d.sock, strlen(d.sock) + 1);
        for (int i = 0; i < 20; i++) {
                pid_t pid = fork();
                ck_assert_int_ge(pid, 0);
                if (pid == 0) {
                        int log = open(d.log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
                        if (log >= 0) {
                                dup2(log, STDOUT_FILENO);
                                dup2(log, STDERR_FILENO);
                        }
                        execl(supervisord_path(), "supervisord", "-n", "-c", d.conf, (char *)NULL);
                        _exit(127);
                }
                bool up = false;
                for (long long end = now_ms() + 10000; !up && now_ms() < end;) {
                        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                        ck_assert_int_ge(fd, 0);
                        up = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
                        close(fd);
                }
                ck_assert_msg(up, "run %d: supervisord did not come up (log %s)", i, d.log);
                ck_assert_int_eq(kill(pid, SIGTERM), 0);
                int status = 0;
                ck_assert(WAIT_UNTIL(waitpid(pid, &status, WNOHANG) == pid, 10000));
                ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "run %d: wait status 0x%x", i,
                              (unsigned)status);
                ck_assert_int_eq(stat(d.sock, &st), -1);
                ck_assert_int_eq(stat(d.pidfile, &st), -1);
        }
        daemon_cleanup(&d);
}
END_TEST

static Suite *daemon_suite(void) {
        Suite *s = suite_create("daemon");
        TCase *tc = tcase_create("daemon");
        tcase_set_timeout(tc, 60);
        tcase_add_unchecked_fixture(tc, tracked_setup, tracked_teardown);
        tcase_add_test(tc, test_check_good_config);
        tcase_add_test(tc, test_check_bad_config);
        tcase_add_test(tc, test_missing_config);
        tcase_add_test(tc, test_options);
        tcase_add_test(tc, test_daemon_mode);
        tcase_add_test(tc, test_daemon_mode_conflicts);
        tcase_add_test(tc, test_sigterm_stops_services);
        tcase_add_test(tc, test_sigterm_right_after_start);
        tcase_add_test(tc, test_sigint_stops_services);
        tcase_add_test(tc, test_sigterm_as_soon_as_the_socket_answers);
        tcase_add_test(tc, test_shutdown_kills_after_stop_timeout);
        tcase_add_test(tc, test_second_sigterm_kills_at_once);
        tcase_add_test(tc, test_hup_and_usr1_do_not_kill);
        tcase_add_test(tc, test_reload_loads_off_the_loop);
        tcase_add_test(tc, test_subreaper_reaps_orphans);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) { return run_suite(daemon_suite()) ? 1 : 0; }
