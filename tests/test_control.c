/* test_control.c — integration tests for the control socket and supervisorctl: socket
 * file permissions and ownership, stale and live sockets, the raw line protocol (limits,
 * garbage, slow and half-closed clients, too many clients), and supervisorctl's output,
 * JSON and exit statuses.  Every test runs a real supervisord in its own temp dir. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

/* ---- helpers ---- */

static int raw_connect(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        ck_assert_uint_lt(strlen(path), sizeof sa.sun_path);
        memcpy(sa.sun_path, path, strlen(path) + 1);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ck_assert_int_ge(fd, 0);
        ck_assert_msg(connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0, "connect %s: %s", path, strerror(errno));
        return fd;
}

static void raw_send(int fd, const void *data, size_t len) {
        const char *p = data;
        while (len > 0) {
                ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
                if (n < 0 && errno == EINTR)
                        continue;
                ck_assert_msg(n > 0, "send: %s", strerror(errno));
                p += n;
                len -= (size_t)n;
        }
}

/* Read what the server sends until it closes the connection (EOF, or ECONNRESET when it
 * closed with part of our request unread) or TIMEOUT_MS pass.  True if it closed. */
static bool raw_read_all(int fd, char *buf, size_t size, int timeout_ms) {
        long long deadline = now_ms() + timeout_ms;
        size_t len = 0;
        bool closed = false;
        for (;;) {
                long long left = deadline - now_ms();
                if (left <= 0)
                        break;
                struct pollfd p = { .fd = fd, .events = POLLIN };
                int r = poll(&p, 1, (int)left);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        break;
                char scratch[4096];
                char *dst = len + 1 < size ? buf + len : scratch;
                size_t room = len + 1 < size ? size - 1 - len : sizeof scratch;
                ssize_t n = recv(fd, dst, room, 0);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        closed = true;
                        break;
                }
                if (dst != scratch)
                        len += (size_t)n;
        }
        buf[len] = '\0';
        return closed;
}

/* One request on a fresh connection; the whole answer in OUT.  True if the server closed. */
static bool raw_request(const char *path, const void *request, size_t len, char *out, size_t size) {
        int fd = raw_connect(path);
        raw_send(fd, request, len);
        bool closed = raw_read_all(fd, out, size, SOON_MS);
        close(fd);
        return closed;
}

static bool raw_request_str(const char *path, const char *request, char *out, size_t size) {
        return raw_request(path, request, strlen(request), out, size);
}

static int count_lines(const char *text) {
        int n = 0;
        for (; *text; text++)
                n += *text == '\n';
        return n;
}

static bool starts_with(const char *text, const char *prefix) {
        return strncmp(text, prefix, strlen(prefix)) == 0;
}

static bool ends_with(const char *text, const char *suffix) {
        size_t t = strlen(text), s = strlen(suffix);
        return t >= s && strcmp(text + t - s, suffix) == 0;
}

/* "status n1 n2 ... nNxxx\n", exactly TOTAL bytes long: a well-formed request of
 * unknown names. */
static size_t build_long_request(char *buf, size_t total) {
        size_t len = (size_t)sprintf(buf, "status");
        while (len + 4 < total)
                len += (size_t)sprintf(buf + len, " n%zu", len % 10);
        while (len < total - 1)
                buf[len++] = 'x';
        buf[len++] = '\n';
        ck_assert_uint_eq(len, total);
        return len;
}

/* Cut every STATUS record of ANSWER down to the eight fields supervisord(8) documents
 * (STATUS name state pid uptime last_exit restarts message): fields are only ever added at
 * the end, and a client must ignore those it does not know. */
static char *status_documented_fields(char *answer) {
        char *src = answer, *dst = answer;
        while (*src) {
                size_t len = strcspn(src, "\n");
                size_t keep = len;
                if (starts_with(src, "STATUS\t")) {
                        int tabs = 0;
                        for (keep = 0; keep < len && !(src[keep] == '\t' && ++tabs == 8); keep++)
                                ;
                }
                memmove(dst, src, keep);
                dst += keep;
                src += len;
                if (*src == '\n')
                        *dst++ = *src++;
        }
        *dst = '\0';
        return answer;
}

/* The JSON object for NAME in a --json array, "{...}", into buf ("" if absent). */
static const char *json_object_of(const char *json, const char *name, char *buf, size_t size) {
        char key[128];
        snprintf(key, sizeof key, "{\"name\":\"%s\"", name);
        const char *start = strstr(json, key), *end = start ? strchr(start, '}') : NULL;
        if (!start || !end) {
                buf[0] = '\0';
                return buf;
        }
        snprintf(buf, size, "%.*s", (int)(end - start + 1), start);
        return buf;
}

/* OBJECT has the member FRAGMENT ("\"pid\":null"), whole: followed by ',' or '}'. */
static bool json_has(const char *object, const char *fragment) {
        size_t n = strlen(fragment);
        for (const char *p = strstr(object, fragment); p; p = strstr(p + 1, fragment))
                if ((p[-1] == ',' || p[-1] == '{') && (p[n] == ',' || p[n] == '}'))
                        return true;
        return false;
}

/* A unix socket file nobody listens on, as a crashed daemon leaves it. */
static void make_stale_socket(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        ck_assert_uint_lt(strlen(path), sizeof sa.sun_path);
        memcpy(sa.sun_path, path, strlen(path) + 1);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
        ck_assert_int_eq(listen(fd, 1), 0);
        close(fd);
        struct stat st;
        ck_assert_int_eq(stat(path, &st), 0);
        ck_assert(S_ISSOCK(st.st_mode));
}

/* Wait for our own child D->pid to exit on its own; its exit status, -1 on timeout. */
static int wait_daemon_exit(struct daemon *d, int timeout_ms) {
        int status = 0;
        bool done = WAIT_UNTIL(waitpid(d->pid, &status, WNOHANG) == d->pid, timeout_ms);
        if (!done)
                return -1;
        d->pid = 0;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* ctl(), but killed after SOON_MS (exit 124) so that a request the daemon never answers
 * fails the test with a message instead of hanging it into the test's timeout. */
static int __attribute__((format(printf, 4, 5)))
ctl_timed(struct daemon *d, char *out, size_t size, const char *args_format, ...) {
        char args[1024], *argv[64];
        int argc = 0;
        va_list ap;
        va_start(ap, args_format);
        vsnprintf(args, sizeof args, args_format, ap);
        va_end(ap);
        char seconds[16];
        snprintf(seconds, sizeof seconds, "%d", SOON_MS / 1000);
        argv[argc++] = "timeout";
        argv[argc++] = seconds;
        argv[argc++] = (char *)supervisorctl_path();
        argv[argc++] = "-s";
        argv[argc++] = d->sock;
        for (char *save = NULL, *w = strtok_r(args, " ", &save); w && argc < 63; w = strtok_r(NULL, " ", &save))
                argv[argc++] = w;
        argv[argc] = NULL;
        return run_capture(argv, out, size);
}

/* Run supervisorctl with an explicit argv (no -s added). */
static int ctl_argv(char *out, size_t size, char *const argv[]) {
        return run_capture(argv, out, size);
}

static const char *line_of(const char *text, const char *name, char *buf, size_t size) {
        size_t n = strlen(name);
        for (const char *p = text; *p;) {
                const char *end = strchr(p, '\n');
                size_t len = end ? (size_t)(end - p) : strlen(p);
                if (len > n && strncmp(p, name, n) == 0 && p[n] == ' ') {
                        snprintf(buf, size, "%.*s", (int)len, p);
                        return buf;
                }
                if (!end)
                        break;
                p = end + 1;
        }
        buf[0] = '\0';
        return buf;
}

/* The service's main pid once its process is set up: a child of the daemon, leading its
 * own session.  (Waiting for the setsid also keeps a stop that follows from racing the
 * child's set-up; test_stop_right_after_spawn covers that race on purpose.) */
static pid_t service_up(struct daemon *d, const char *name) {
        pid_t pid = service_pid_of(d, name);
        ck_assert_msg(pid > 0, "%s has no pid", name);
        ck_assert_msg(WAIT_UNTIL(getsid(pid) == pid, SOON_MS), "%s (pid %d) never got its own session", name, (int)pid);
        ck_assert_int_eq(process_parent(pid), d->pid);
        return pid;
}

/* ---- socket file ---- */

START_TEST(test_socket_mode_default) {
        struct daemon d;
        daemon_init(&d);
        daemon_write_config(&d, "%s", "");
        daemon_start(&d);
        struct stat st;
        ck_assert_int_eq(stat(d.sock, &st), 0);
        ck_assert(S_ISSOCK(st.st_mode));
        ck_assert_int_eq(st.st_mode & 07777, 0600);
        ck_assert_int_eq(st.st_uid, geteuid());
        ck_assert_int_eq(st.st_gid, getegid());
        ck_assert_int_eq(ctl(&d, NULL, 0, "version"), 0);
        ck_assert_int_eq(daemon_stop(&d, 5000), 0);
        ck_assert_int_eq(stat(d.sock, &st), -1);
        ck_assert_int_eq(errno, ENOENT);
        daemon_cleanup(&d);
}
END_TEST

/* A group other than ours that the socket may be given: any group when we are root (as
 * in CI), else one of our supplementary groups (or our own, if there is none). */
static gid_t other_group(void) {
        if (geteuid() == 0)
                return 100;
        gid_t groups[64];
        int n = getgroups(64, groups);
        for (int i = 0; i < n; i++)
                if (groups[i] != getegid())
                        return groups[i];
        return getegid();
}

START_TEST(test_socket_mode_and_group) {
        struct daemon d;
        struct stat st;
        gid_t gid = other_group();
        daemon_init(&d);
        daemon_write_config(&d, "socket-mode = 0660\nsocket-group = %u\n", (unsigned)gid);
        daemon_start(&d);
        ck_assert_int_eq(stat(d.sock, &st), 0);
        ck_assert(S_ISSOCK(st.st_mode));
        ck_assert_int_eq(st.st_mode & 07777, 0660);
        ck_assert_int_eq(st.st_gid, gid);
        ck_assert_int_eq(ctl(&d, NULL, 0, "version"), 0);
        ck_assert_int_eq(daemon_stop(&d, 5000), 0);

        /* A group given by name ("nogroup" when we may use any). */
        struct group *gr = geteuid() == 0 ? getgrnam("nogroup") : getgrgid(gid);
        ck_assert_ptr_nonnull(gr);
        gid = gr->gr_gid;
        daemon_write_config(&d, "socket-mode = \"0640\"\nsocket-group = %s\n", gr->gr_name);
        daemon_start(&d);
        ck_assert_int_eq(stat(d.sock, &st), 0);
        ck_assert_int_eq(st.st_mode & 07777, 0640);
        ck_assert_int_eq(st.st_gid, gid);
        ck_assert_int_eq(daemon_stop(&d, 5000), 0);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_stale_socket_is_replaced) {
        struct daemon d;
        char out[4096];
        daemon_init(&d);
        daemon_write_config(&d, "%s", "");
        make_stale_socket(d.sock);
        struct stat before, after;
        ck_assert_int_eq(stat(d.sock, &before), 0);
        daemon_start(&d);
        ck_assert_int_eq(stat(d.sock, &after), 0);
        ck_assert(S_ISSOCK(after.st_mode));
        ck_assert_int_eq(after.st_mode & 07777, 0600);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "version"), 0);
        ck_assert_str_eq(out, "supervisorctl 0.1.0\nsupervisord 0.1.0\n");
        ck_assert_int_eq(daemon_stop(&d, 5000), 0);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_socket_of_killed_daemon_is_replaced) {
        struct daemon d;
        char out[256];
        daemon_init(&d);
        daemon_write_config(&d, "%s", "");
        daemon_start(&d);
        pid_t first = d.pid;
        ck_assert_int_eq(kill(first, SIGKILL), 0);
        ck_assert_int_eq(waitpid(first, NULL, 0), first);
        d.pid = 0;
        /* What a crash leaves behind: the socket file and the (unlocked) pidfile. */
        struct stat st;
        ck_assert_int_eq(stat(d.sock, &st), 0);
        ck_assert(S_ISSOCK(st.st_mode));
        ck_assert_int_eq(ctl(&d, out, sizeof out, "version"), 7);

        daemon_start(&d);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "pid"), 0);
        ck_assert_int_eq(atoi(out), d.pid);
        char pidtext[32];
        ck_assert_int_gt(read_text_file(d.pidfile, pidtext, sizeof pidtext), 0);
        ck_assert_int_eq(atoi(pidtext), d.pid);
        ck_assert_int_eq(daemon_stop(&d, 5000), 0);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_live_socket_is_not_stolen) {
        struct daemon d, second;
        char out[4096];
        daemon_init(&d);
        daemon_write_config(&d, "%s", "");
        daemon_start(&d);
        struct stat before, after;
        ck_assert_int_eq(stat(d.sock, &before), 0);

        /* Same socket, its own pidfile. */
        daemon_init(&second);
        snprintf(second.sock, sizeof second.sock, "%s", d.sock);
        daemon_write_config(&second, "%s", "");
        char *argv[] = { (char *)supervisord_path(), "-n", "-c", second.conf, NULL };
        /* It gives up at once rather than waiting for the socket to be free: run_capture()
         * returning at all is the proof (a wait would hang the test into its timeout). */
        int rc = run_capture(argv, out, sizeof out);
        ck_assert_int_eq(rc, 1);
        ck_assert_msg(strstr(out, "in use") != NULL, "stderr: %s", out);
        ck_assert_msg(strstr(out, d.sock) != NULL, "stderr: %s", out);

        /* The first one still owns the very same socket file and answers. */
        ck_assert_int_eq(stat(d.sock, &after), 0);
        ck_assert_int_eq(before.st_ino, after.st_ino);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "pid"), 0);
        ck_assert_int_eq(atoi(out), d.pid);
        ck_assert(access(second.pidfile, F_OK) < 0);
        ck_assert_int_eq(daemon_stop(&d, 5000), 0);
        daemon_cleanup(&second);
        daemon_cleanup(&d);
}
END_TEST

/* ---- raw protocol ---- */

START_TEST(test_raw_status_version_pid) {
        struct daemon d;
        char out[8192], expected[256];
        daemon_init(&d);
        daemon_write_config(&d,
                            "service web {\n command = \"sleep 60\"\n start-secs = 0\n}\n"
                            "service idle {\n command = \"sleep 60\"\n autostart = false\n}\n");
        long long t0 = now_ms();  /* before the spawn */
        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "web", "RUNNING", SOON_MS);
        pid_t web = service_up(&d, "web");
        ck_assert_int_gt(web, 0);

        ck_assert(raw_request_str(d.sock, "status\n", out, sizeof out));
        long long since_start = (now_ms() - t0) / 1000;
        status_documented_fields(out);
        int pid = 0, fields = 0;
        unsigned long uptime = 99;
        ck_assert_msg(sscanf(out, "STATUS\tweb\tRUNNING\t%d\t%lu\t-\t0\t-\n%n", &pid, &uptime, &fields) == 2 && fields > 0,
                      "answer: %s", out);
        ck_assert_int_eq(pid, web);
        /* whole seconds since its spawn, which came after t0 */
        ck_assert_msg((long long)uptime <= since_start, "uptime %lu, expected at most the %lld s since the start",
                      uptime, since_start);
        ck_assert_str_eq(out + fields, "STATUS\tidle\tSTOPPED\t0\t0\t-\t0\t-\nOK\n");

        ck_assert(raw_request_str(d.sock, "status idle\n", out, sizeof out));
        ck_assert_str_eq(status_documented_fields(out), "STATUS\tidle\tSTOPPED\t0\t0\t-\t0\t-\nOK\n");

        ck_assert(raw_request_str(d.sock, "version\n", out, sizeof out));
        ck_assert_str_eq(out, "VERSION\t0.1.0\nOK\n");

        ck_assert(raw_request_str(d.sock, "pid\n", out, sizeof out));
        snprintf(expected, sizeof expected, "PID\t%d\nOK\n", (int)d.pid);
        ck_assert_str_eq(out, expected);
        ck_assert(raw_request_str(d.sock, "pid\tweb\n", out, sizeof out));
        snprintf(expected, sizeof expected, "PID\t%d\nOK\n", (int)web);
        ck_assert_str_eq(out, expected);

        ck_assert(raw_request_str(d.sock, "status nosuch\n", out, sizeof out));
        ck_assert_str_eq(out, "ERROR\t4\tno such service: nosuch\n");

        /* Verbs that act answer at once too when a name is unknown, and do nothing. */
        static const char *const unknown[] = { "start nosuch\n", "stop web nosuch\n", "restart nosuch web\n",
                                               "signal TERM nosuch\n", "pid nosuch\n" };
        for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
                ck_assert_msg(raw_request_str(d.sock, unknown[i], out, sizeof out), "'%s' got no complete answer: %s",
                              unknown[i], out);
                ck_assert_str_eq(out, "ERROR\t4\tno such service: nosuch\n");
        }
        ck_assert_int_eq(service_pid_of(&d, "web"), web);

        ck_assert(raw_request_str(d.sock, "frobnicate\n", out, sizeof out));
        ck_assert_msg(starts_with(out, "ERROR\t2\t") && count_lines(out) == 1, "answer: %s", out);
        ck_assert(raw_request_str(d.sock, "STATUS\n", out, sizeof out));
        ck_assert_msg(starts_with(out, "ERROR\t2\t") && count_lines(out) == 1, "answer: %s", out);
        ck_assert(raw_request_str(d.sock, "start\n", out, sizeof out));
        ck_assert_msg(starts_with(out, "ERROR\t2\t") && count_lines(out) == 1, "answer: %s", out);
        ck_assert(raw_request_str(d.sock, "\n", out, sizeof out));
        ck_assert_msg(starts_with(out, "ERROR\t2\t") && count_lines(out) == 1, "answer: %s", out);
        /* None of that disturbed the service. */
        ck_assert_int_eq(service_pid_of(&d, "web"), web);
        ck_assert_int_eq(daemon_stop(&d, 5000), 0);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_raw_request_too_long) {
        struct daemon d;
        char out[8192];
        static char request[6000];
        daemon_init(&d);
        daemon_write_config(&d, "service web {\n command = \"sleep 60\"\n start-secs = 0\n}\n");
        daemon_start(&d);
        service_up(&d, "web");

        /* Exactly 4096 bytes with the newline: served (the names are unknown: ERROR 4). */
        size_t len = build_long_request(request, 4096);
        ck_assert(raw_request(d.sock, request, len, out, sizeof out));
        ck_assert_msg(starts_with(out, "ERROR\t4\tno such service: "), "answer: %.200s", out);

        /* One byte more: too long, one ERROR line, and the connection is closed. */
        len = build_long_request(request, 4097);
        ck_assert(raw_request(d.sock, request, len, out, sizeof out));
        ck_assert_msg(starts_with(out, "ERROR\t2\trequest too long"), "answer: %.200s", out);
        ck_assert_int_eq(count_lines(out), 1);
        ck_assert(ends_with(out, "\n"));

        /* Much longer and without any newline at all. */
        memset(request, 'a', 5000);
        ck_assert(raw_request(d.sock, request, 5000, out, sizeof out));
        ck_assert_msg(starts_with(out, "ERROR\t2\trequest too long"), "answer: %.200s", out);
        ck_assert_int_eq(count_lines(out), 1);

        ck_assert(raw_request_str(d.sock, "version\n", out, sizeof out));
        ck_assert_str_eq(out, "VERSION\t0.1.0\nOK\n");
        ck_assert_int_eq(daemon_stop(&d, 5000), 0);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_raw_garbage) {
        static const struct {
                const char *data;
                size_t len;
        } garbage[] = {
                { "\x01\x02\x03\n", 4 },
                { "stat\0us\n", 8 },
                { "status\x1b[31m\n", 12 },
                { "status\x7f\n", 8 },
                { "\xff\xfe\xfd\xfc\n", 5 },
                { "status web\rweb\n", 15 },
                { "\x80\x81status\n", 9 },
        };
        struct daemon d;
        char out[4096];
        daemon_init(&d);
        daemon_write_config(&d, "service web {\n command = \"sleep 60\"\n start-secs = 0\n}\n");
        daemon_start(&d);
        service_up(&d, "web");
        for (size_t i = 0; i < sizeof garbage / sizeof garbage[0]; i++) {
                ck_assert(raw_request(d.sock, garbage[i].data, garbage[i].len, out, sizeof out));
                ck_assert_msg(starts_with(out, "ERROR\t2\t") && count_lines(out) == 1, "garbage %zu: answer %s", i,
                              out);
        }
        ck_assert(raw_request_str(d.sock, "status\x01 web\n", out, sizeof out));
        ck_assert_msg(starts_with(out, "ERROR\t2\tinvalid request"), "answer: %s", out);
        ck_assert(process_exists(d.pid));
        ck_assert_int_eq(ctl(&d, NULL, 0, "status"), 0);
        ck_assert_int_eq(daemon_stop(&d, 5000), 0);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_stalled_clients_do_not_block_others) {
        struct daemon d;
        char out[4096];
        daemon_init(&d);
        daemon_write_config(&d, "service web {\n command = \"sleep 60\"\n start-secs = 0\n}\n");
        daemon_start(&d);
        service_up(&d, "web");

        int half = raw_connect(d.sock);
        raw_send(half, "sta", 3);
        int silent = raw_connect(d.sock);
        /* Both taken in: a request after them on a connection of its own is answered. */
        ck_assert(raw_request_str(d.sock, "status web\n", out, sizeof out));

        /* A daemon that waited on a stalled client would answer the others only once that
         * client is dropped, after the request timeout (CONTROL_REQUEST_TIMEOUT, 10 s):
         * each answer must come well before it, however slow the machine. */
        for (int i = 0; i < 3; i++) {
                long long t0 = now_ms();
                int fd = raw_connect(d.sock);
                raw_send(fd, "status\n", 7);
                bool closed = raw_read_all(fd, out, sizeof out, 8000);
                long long elapsed = now_ms() - t0;
                close(fd);
                ck_assert_msg(closed, "no whole answer within 8 s while other clients stall: %s", out);
                ck_assert_msg(starts_with(out, "STATUS\tweb\tRUNNING\t") && ends_with(out, "\nOK\n"), "answer: %s",
                              out);
                ck_assert_msg(elapsed < 8000, "status took %lld ms while other clients stall (expected well under "
                                              "the 10 s request timeout)", elapsed);
        }
        ck_assert_int_eq(ctl(&d, NULL, 0, "status web"), 0);

        /* The stalled client can still finish its request. */
        raw_send(half, "tus web\n", 8);
        ck_assert(raw_read_all(half, out, sizeof out, SOON_MS));
        ck_assert_msg(starts_with(out, "STATUS\tweb\tRUNNING\t") && ends_with(out, "\nOK\n"), "answer: %s", out);
        close(half);

        /* The silent one is still connected: nothing was sent to it and it was not closed. */
        struct pollfd p = { .fd = silent, .events = POLLIN };
        ck_assert_int_eq(poll(&p, 1, 0), 0);
        close(silent);
        ck_assert_int_eq(daemon_stop(&d, 5000), 0);
        daemon_cleanup(&d);
}
END_TEST

#define FLOOD 300
#define LIMIT 256

START_TEST(test_too_many_clients) {
        static const char busy[] = "ERROR\t1\ttoo many clients\n";
        struct daemon d;
        char out[4096];
        static int fds[FLOOD];
        static struct pollfd polls[FLOOD];
        daemon_init(&d);
        daemon_write_config(&d, "service web {\n command = \"sleep 60\"\n start-secs = 0\n}\n");
        daemon_start(&d);
        service_up(&d, "web");

        for (int i = 0; i < FLOOD; i++)
                fds[i] = raw_connect(d.sock);
        /* Past the limit, each newcomer displaces the connection idle the longest: the
         * oldest FLOOD - LIMIT are answered "too many clients" and closed. */
        int ready = 0;
        long long deadline = now_ms() + SOON_MS;
        while (ready < FLOOD - LIMIT && now_ms() < deadline) {
                for (int i = 0; i < FLOOD; i++)
                        polls[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
                ready = poll(polls, FLOOD, 100);
        }
        sleep_ms(100);  /* give a wrong extra answer the chance to show up */
        for (int i = 0; i < FLOOD; i++)
                polls[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
        ready = poll(polls, FLOOD, 0);
        ck_assert_int_eq(ready, FLOOD - LIMIT);
        int rejected = 0;
        for (int i = 0; i < FLOOD; i++) {
                if (!polls[i].revents)
                        continue;
                ck_assert_msg(i < FLOOD - LIMIT, "connection %d dropped, not one of the oldest", i);
                ck_assert(raw_read_all(fds[i], out, sizeof out, SOON_MS));
                ck_assert_str_eq(out, busy);
                rejected++;
                close(fds[i]);
                fds[i] = -1;
        }
        ck_assert_int_eq(rejected, FLOOD - LIMIT);

        /* Still full of idle connections: a newcomer with a request is served all the same. */
        ck_assert(raw_request_str(d.sock, "status\n", out, sizeof out) && ends_with(out, "\nOK\n"));

        for (int i = 0; i < FLOOD; i++)
                if (fds[i] >= 0)
                        close(fds[i]);
        /* Once they are gone, the daemon serves again. */
        ASSERT_WITHIN(raw_request_str(d.sock, "status\n", out, sizeof out) && ends_with(out, "\nOK\n"), SOON_MS);
        ck_assert_msg(starts_with(out, "STATUS\tweb\tRUNNING\t"), "answer: %s", out);
        ck_assert_int_eq(ctl(&d, NULL, 0, "status"), 0);
        ck_assert_int_eq(daemon_stop(&d, 5000), 0);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_half_closed_client_gets_answer) {
        struct daemon d;
        char out[4096], expected[256];
        daemon_init(&d);
        daemon_write_config(&d, "service web {\n command = \"sleep 60\"\n start-secs = 0\n}\n");
        daemon_start(&d);
        pid_t web = service_up(&d, "web");
        ck_assert_int_gt(web, 0);

        /* As `echo status | socat - UNIX-CONNECT:sock` does it. */
        int fd = raw_connect(d.sock);
        raw_send(fd, "status\n", 7);
        ck_assert_int_eq(shutdown(fd, SHUT_WR), 0);
        ck_assert(raw_read_all(fd, out, sizeof out, SOON_MS));
        close(fd);
        snprintf(expected, sizeof expected, "STATUS\tweb\tRUNNING\t%d\t", (int)web);
        status_documented_fields(out);
        ck_assert_msg(starts_with(out, expected) && ends_with(out, "\t-\t0\t-\nOK\n") && count_lines(out) == 2,
                      "answer: %s", out);

        /* A request that waits (stop) is not dropped because our side is shut down. */
        fd = raw_connect(d.sock);
        raw_send(fd, "stop web\n", 9);
        ck_assert_int_eq(shutdown(fd, SHUT_WR), 0);
        ck_assert(raw_read_all(fd, out, sizeof out, 5000));
        close(fd);
        ck_assert_str_eq(out, "RESULT\tweb\tok\tstopped\tok\nOK\n");
        ck_assert_int_eq(process_state(web), 0);

        fd = raw_connect(d.sock);
        raw_send(fd, "start web\n", 10);
        ck_assert_int_eq(shutdown(fd, SHUT_WR), 0);
        ck_assert(raw_read_all(fd, out, sizeof out, 5000));
        close(fd);
        ck_assert_str_eq(out, "RESULT\tweb\tok\tstarted\tok\nOK\n");
        /* "started" is said once it is RUNNING, not before. */
        char state[64];
        ck_assert_str_eq(service_state_of(&d, "web", state, sizeof state), "RUNNING");
        service_up(&d, "web");
        ck_assert_int_eq(daemon_stop(&d, 5000), 0);
        daemon_cleanup(&d);
}
END_TEST

/* A line ended by CR-LF (telnet, many socket libraries) is a request like any other; a
 * request cut off by the end of the stream, or with a NUL in it, gets an error answer,
 * not a silent close (issue 15, issue 16). */
START_TEST(test_crlf_and_cut_off_requests) {
        struct daemon d;
        char out[4096];
        daemon_init(&d);
        daemon_write_config(&d, "service web {\n command = \"sleep 60\"\n start-secs = 0\n}\n");
        daemon_start(&d);
        service_up(&d, "web");

        ck_assert(raw_request_str(d.sock, "status web\r\n", out, sizeof out));
        ck_assert_msg(starts_with(out, "STATUS\tweb\tRUNNING\t") && ends_with(out, "\nOK\n"), "answer: %s", out);
        ck_assert(raw_request_str(d.sock, "version\r\n", out, sizeof out));
        ck_assert_str_eq(out, "VERSION\t0.1.0\nOK\n");
        /* The NUL is reported as such, also right before a CR-LF. */
        ck_assert(raw_request(d.sock, "status\0\r\n", 9, out, sizeof out));
        ck_assert_str_eq(out, "ERROR\t2\tinvalid request: NUL byte\n");

        /* No newline, then the writing side shut: an answer, then the close. */
        static const char *const cut[] = { "status", "status web\r", "sto" };
        for (size_t i = 0; i < sizeof cut / sizeof cut[0]; i++) {
                int fd = raw_connect(d.sock);
                raw_send(fd, cut[i], strlen(cut[i]));
                ck_assert_int_eq(shutdown(fd, SHUT_WR), 0);
                ck_assert(raw_read_all(fd, out, sizeof out, 3000));
                close(fd);
                ck_assert_msg(starts_with(out, "ERROR\t2\trequest cut off") && count_lines(out) == 1,
                              "cut-off request %zu: answer %s", i, out);
        }
        /* A connection that sends nothing and goes is no request: the daemon shrugs. */
        int fd = raw_connect(d.sock);
        ck_assert_int_eq(shutdown(fd, SHUT_WR), 0);
        ck_assert(raw_read_all(fd, out, sizeof out, 3000));
        close(fd);
        ck_assert_str_eq(out, "");
        ck_assert(process_exists(d.pid));
        ck_assert_int_eq(ctl(&d, NULL, 0, "status"), 0);
        ck_assert_int_eq(daemon_stop(&d, 5000), 0);
        daemon_cleanup(&d);
}
END_TEST

/* ---- supervisorctl exit statuses ---- */

START_TEST(test_ctl_usage_errors) {
        struct daemon d;
        char out[4096];
        daemon_init(&d);  /* no daemon: usage errors are found before connecting (no command at all opens the shell) */
        static const char *const bad[] = {
                "pid a b", "status bad/name", "start all web", "--bogus status",
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                int rc = ctl(&d, out, sizeof out, "%s", bad[i]);
                ck_assert_msg(rc == 2, "'%s' exited %d: %s", bad[i], rc, out);
                ck_assert_msg(strstr(out, "usage: supervisorctl") != NULL, "'%s': %s", bad[i], out);
        }
        /* supervisorctl 4.2.5's answers: its words, then the command's help, and its status. */
        static const struct {
                const char *args;
                int status;
                const char *first_line;
        } python_bad[] = {
                { "frobnicate", 1, "*** Unknown syntax: frobnicate\n" },
                { "start", 2, "Error: start requires a process name\nstart <name>\t" },
                { "stop", 1, "Error: stop requires a process name\nstop <name>\t" },
                { "restart", 1, "Error: restart requires a process name\nrestart <name>\t" },
                { "signal", 1, "Error: signal requires a signal name and a process name\nsignal <signal name>" },
                { "signal USR1", 1, "Error: signal requires a signal name and a process name\n" },
                { "signal BOGUS web", 1, "web: ERROR (bad signal name)\n" },
                { "signal 99 web", 1, "web: ERROR (bad signal name)\n" },
                { "version extra", 1, "Error: version accepts no arguments\nversion\t" },
        };
        for (size_t i = 0; i < sizeof python_bad / sizeof python_bad[0]; i++) {
                int rc = ctl(&d, out, sizeof out, "%s", python_bad[i].args);
                ck_assert_msg(rc == python_bad[i].status && starts_with(out, python_bad[i].first_line),
                              "'%s' exited %d: %s", python_bad[i].args, rc, out);
        }
        char *help[] = { (char *)supervisorctl_path(), "-h", NULL };
        ck_assert_int_eq(ctl_argv(out, sizeof out, help), 0);
        ck_assert_msg(starts_with(out, "usage: supervisorctl"), "%s", out);

        /* The same with a daemon running, and nothing reaches it. */
        daemon_write_config(&d, "service web {\n command = \"sleep 60\"\n start-secs = 0\n}\n");
        daemon_start(&d);
        pid_t web = service_up(&d, "web");
        ck_assert_int_eq(ctl(&d, out, sizeof out, "signal BOGUS web"), 1);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "stop"), 1);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "frobnicate web"), 1);
        ck_assert_int_eq(service_pid_of(&d, "web"), web);
        ck_assert_int_eq(daemon_stop(&d, 5000), 0);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_ctl_unreachable) {
        struct daemon d;
        char out[4096];
        daemon_init(&d);
        /* No socket file at all. */
        ck_assert_int_eq(ctl(&d, out, sizeof out, "status"), 7);
        ck_assert_msg(starts_with(out, "supervisorctl: "), "%s", out);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "start web"), 7);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "version"), 7);
        /* A socket file nobody listens on. */
        make_stale_socket(d.sock);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "status"), 7);
        ck_assert_msg(starts_with(out, "supervisorctl: "), "%s", out);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "pid"), 7);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_ctl_exit_statuses) {
        struct daemon d;
        char out[4096], line[256];
        daemon_init(&d);
        daemon_write_config(&d,
                            "service web {\n command = \"sleep 60\"\n start-secs = 0\n}\n"
                            "service idle {\n command = \"sleep 60\"\n autostart = false\n}\n"
                            "service broken {\n command = \"sh -c 'exit 1'\"\n autostart = false\n"
                            " start-retries = 1\n}\n");
        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "web", "RUNNING", SOON_MS);
        service_up(&d, "web");

        ck_assert_int_eq(ctl(&d, out, sizeof out, "status web"), 0);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "status"), 3);
        ck_assert_int_eq(count_lines(out), 3);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "status idle"), 3);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "status web idle"), 3);

        /* Unknown names, as supervisorctl 4.2.5 answers them: its line for each, the known
         * ones given with them carried out, and its exit status (status: 4; the others 1). */
        ck_assert_int_eq(ctl(&d, out, sizeof out, "status nosuch"), 4);
        ck_assert_str_eq(out, "nosuch: ERROR (no such process)\n");
        ck_assert_int_eq(ctl(&d, out, sizeof out, "status nosuch:*"), 4);
        ck_assert_str_eq(out, "nosuch: ERROR (no such group)\n");
        ck_assert_int_eq(ctl_timed(&d, out, sizeof out, "start idle nosuch"), 1);
        ck_assert_str_eq(out, "nosuch: ERROR (no such process)\nidle: started\n");
        ck_assert_str_eq(service_state_of(&d, "idle", line, sizeof line), "RUNNING");
        ck_assert_int_eq(ctl_timed(&d, out, sizeof out, "start nosuch:*"), 2);
        ck_assert_str_eq(out, "nosuch: ERROR (no such group)\n");
        ck_assert_int_eq(ctl_timed(&d, out, sizeof out, "stop idle nosuch"), 1);
        ck_assert_str_eq(out, "nosuch: ERROR (no such process)\nidle: stopped\n");
        ck_assert_str_eq(service_state_of(&d, "idle", line, sizeof line), "STOPPED");
        ck_assert_str_eq(service_state_of(&d, "web", line, sizeof line), "RUNNING");
        ck_assert_int_eq(ctl_timed(&d, out, sizeof out, "restart nosuch"), 1);
        ck_assert_str_eq(out, "nosuch: ERROR (no such process)\nnosuch: ERROR (no such process)\n");
        ck_assert_int_eq(ctl_timed(&d, out, sizeof out, "signal HUP nosuch"), 1);
        ck_assert_str_eq(out, "nosuch: ERROR (no such process)\n");
        ck_assert_int_eq(ctl(&d, out, sizeof out, "pid nosuch"), 1);
        ck_assert_str_eq(out, "No such process nosuch\n");
        ck_assert_str_eq(service_state_of(&d, "web", line, sizeof line), "RUNNING");  /* nothing else touched */

        /* A start that fails: the command exits at once, one retry allowed -> FATAL, with
         * supervisorctl's 7 for a process that is not running as it should. */
        ck_assert_int_eq(ctl_timed(&d, out, sizeof out, "start broken"), 7);
        ck_assert_msg(starts_with(out, "broken: ERROR (") && ends_with(out, ")\n") && count_lines(out) == 1,
                      "%s", out);
        ck_assert_msg(strstr(out, "failed start") != NULL, "%s", out);
        ck_assert_str_eq(service_state_of(&d, "broken", line, sizeof line), "FATAL");
        ck_assert_int_eq(ctl(&d, out, sizeof out, "status broken"), 3);

        /* One failure among several: every result is reported, exit 7. */
        ck_assert_int_eq(ctl(&d, out, sizeof out, "start idle broken"), 7);
        ck_assert_str_eq(line_of(out, "idle:", line, sizeof line), "idle: started");
        ck_assert_msg(strstr(out, "broken: ERROR (") != NULL, "%s", out);
        ck_assert_str_eq(service_state_of(&d, "idle", line, sizeof line), "RUNNING");

        /* Signalling a stopped process fails. */
        ck_assert_int_eq(ctl(&d, out, sizeof out, "stop idle"), 0);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "signal HUP idle"), 7);
        ck_assert_str_eq(out, "idle: ERROR (not running)\n");
        ck_assert_int_eq(daemon_stop(&d, 5000), 0);
        daemon_cleanup(&d);
}
END_TEST

/* ---- human and JSON output ---- */

START_TEST(test_status_format) {
        struct daemon d;
        char out[4096], line[256], expected[256];
        daemon_init(&d);
        daemon_write_config(&d,
                            "service run {\n command = \"sleep 60\"\n start-secs = 0\n}\n"
                            "service idle {\n command = \"sleep 60\"\n autostart = false\n}\n"
                            "service done {\n command = \"sh -c 'exit 3'\"\n start-secs = 0\n restart = never\n}\n"
                            "service victim {\n command = \"sleep 60\"\n start-secs = 0\n restart = never\n}\n");
        long long t0 = now_ms();  /* before the spawn */
        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "run", "RUNNING", SOON_MS);
        ASSERT_STATE_WITHIN(&d, "victim", "RUNNING", SOON_MS);
        ASSERT_STATE_WITHIN(&d, "done", "EXITED", SOON_MS);
        pid_t run = service_up(&d, "run"), victim = service_up(&d, "victim");
        ck_assert_int_gt(run, 0);
        ck_assert_int_gt(victim, 0);
        ck_assert_int_eq(kill(victim, SIGKILL), 0);
        ASSERT_STATE_WITHIN(&d, "victim", "EXITED", SOON_MS);

        ck_assert_int_eq(ctl(&d, out, sizeof out, "status"), 3);
        ck_assert_int_eq(count_lines(out), 4);

        line_of(out, "run", line, sizeof line);
        snprintf(expected, sizeof expected, "%-33s%-10spid %d, uptime ", "run", "RUNNING", (int)run);
        ck_assert_msg(strncmp(line, expected, strlen(expected)) == 0, "line '%s'", line);
        regex_t re;
        regmatch_t m[2];
        regmatch_t up[5];
        ck_assert_int_eq(regcomp(&re, "^run +RUNNING +pid ([0-9]+), uptime ([0-9]+):([0-5][0-9]):([0-5][0-9])$",
                                 REG_EXTENDED), 0);
        ck_assert_msg(regexec(&re, line, 2, m, 0) == 0, "line '%s'", line);
        ck_assert_int_eq(atoi(line + m[1].rm_so), run);
        ck_assert_int_eq(regexec(&re, line, 5, up, 0), 0);
        regfree(&re);
        /* H:MM:SS of whole seconds since its spawn, which came after t0 */
        long long shown = 3600LL * atoi(line + up[2].rm_so) + 60 * atoi(line + up[3].rm_so) + atoi(line + up[4].rm_so);
        ck_assert_msg(shown <= (now_ms() - t0) / 1000, "uptime of %lld s shown, expected at most the %lld s since the "
                                                      "start", shown, (now_ms() - t0) / 1000);

        snprintf(expected, sizeof expected, "%-33s%-10s%s", "idle", "STOPPED", "Not started");
        ck_assert_str_eq(line_of(out, "idle", line, sizeof line), expected);
        snprintf(expected, sizeof expected, "%-33s%-10s%s", "done", "EXITED", "exit status 3");
        ck_assert_str_eq(line_of(out, "done", line, sizeof line), expected);
        snprintf(expected, sizeof expected, "%-33s%-10s%s", "victim", "EXITED", "killed by SIGKILL");
        ck_assert_str_eq(line_of(out, "victim", line, sizeof line), expected);
        /* supervisord's order: by group (here each service's own), then name. */
        ck_assert(strstr(out, "done ") < strstr(out, "idle ") && strstr(out, "idle ") < strstr(out, "run ")
                  && strstr(out, "run ") < strstr(out, "victim "));

        /* Only the named ones. */
        ck_assert_int_eq(ctl(&d, out, sizeof out, "status idle"), 3);
        snprintf(expected, sizeof expected, "%-33s%-10s%s\n", "idle", "STOPPED", "Not started");
        ck_assert_str_eq(out, expected);
        ck_assert_int_eq(daemon_stop(&d, 5000), 0);
        daemon_cleanup(&d);
}
END_TEST

/* supervisord's way of saying when (rpcinterface's description of STOPPED), for T. */
static void stop_time_text(time_t t, char *buf, size_t size) {
        struct tm tm;
        ck_assert_ptr_nonnull(localtime_r(&t, &tm));
        strftime(buf, size, "%b %d %I:%M %p", &tm);
}

/* Stopped on request reads its stop time as supervisord's does, not the stop signal it died of, and the
 * name column is as wide as the longest name shown. */
START_TEST(test_status_of_a_stopped_service_and_long_names) {
        static const char long_name[] = "a-service-with-a-name-of-40-characters-x";
        struct daemon d;
        char out[4096], line[256], expected[256], before_text[64], after_text[64];
        daemon_init(&d);
        daemon_write_config(&d,
                            "service web {\n command = \"sleep 60\"\n start-secs = 0\n}\n"
                            "service %s {\n command = \"sleep 60\"\n start-secs = 0\n}\n"
                            "service idle {\n command = \"sleep 60\"\n autostart = false\n}\n",
                            long_name);
        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "web", "RUNNING", SOON_MS);
        ASSERT_STATE_WITHIN(&d, long_name, "RUNNING", SOON_MS);

        time_t before = time(NULL);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "stop web"), 0);
        time_t after = time(NULL);
        stop_time_text(before, before_text, sizeof before_text);
        stop_time_text(after, after_text, sizeof after_text);

        ck_assert_int_eq(ctl(&d, out, sizeof out, "status"), 3);
        ck_assert_int_eq(count_lines(out), 3);
        int width = (int)strlen(long_name);
        line_of(out, "web", line, sizeof line);
        snprintf(expected, sizeof expected, "%-*s%-10s%s", width + 3, "web", "STOPPED", before_text);
        if (strcmp(line, expected) != 0)  /* the minute may have turned during the stop */
                snprintf(expected, sizeof expected, "%-*s%-10s%s", width + 3, "web", "STOPPED", after_text);
        ck_assert_str_eq(line, expected);
        snprintf(expected, sizeof expected, "%-*s%-10s%s", width + 3, "idle", "STOPPED", "Not started");
        ck_assert_str_eq(line_of(out, "idle", line, sizeof line), expected);
        snprintf(expected, sizeof expected, "%s   RUNNING   pid ", long_name);
        ck_assert_msg(starts_with(line_of(out, long_name, line, sizeof line), expected), "line '%s'", line);
        /* Alone, a short name keeps supervisord's 33 columns. */
        ck_assert_int_eq(ctl(&d, out, sizeof out, "status idle"), 3);
        snprintf(expected, sizeof expected, "%-33s%-10s%s\n", "idle", "STOPPED", "Not started");
        ck_assert_str_eq(out, expected);

        /* --json keeps what it died of, and says when it stopped. */
        char object[1024], member[64];
        ck_assert_int_eq(ctl(&d, out, sizeof out, "--json status"), 3);
        json_object_of(out, "web", object, sizeof object);
        ck_assert_msg(json_has(object, "\"signal\":\"TERM\"") && json_has(object, "\"exit_status\":null"), "%s", object);
        const char *at = strstr(object, "\"stopped_at\":");
        ck_assert_msg(at != NULL, "no stopped_at: %s", object);
        long long stopped_at = atoll(at + strlen("\"stopped_at\":"));
        ck_assert_msg(stopped_at >= before && stopped_at <= after, "stopped_at %lld, expected from %lld to %lld",
                      stopped_at, (long long)before, (long long)after);
        json_object_of(out, "idle", object, sizeof object);
        ck_assert_msg(json_has(object, "\"stopped_at\":null"), "%s", object);
        json_object_of(out, long_name, object, sizeof object);
        ck_assert_msg(json_has(object, "\"stopped_at\":null"), "%s", object);
        /* Started again: no longer stopped. */
        ck_assert_int_eq(ctl(&d, out, sizeof out, "start web"), 0);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "--json status web"), 0);
        snprintf(member, sizeof member, "\"stopped_at\":null");
        ck_assert_msg(strstr(out, member), "%s", out);
        ck_assert_int_eq(daemon_stop(&d, SOON_MS), 0);
        daemon_cleanup(&d);
}
END_TEST

/* Supervisorctl's stdout alone (stderr to /dev/null) for ARGS; its exit status. */
static int ctl_stdout(struct daemon *d, char *out, size_t size, const char *args) {
        char command[1024];
        snprintf(command, sizeof command, "exec %s -s %s %s 2>/dev/null", supervisorctl_path(), d->sock, args);
        char *argv[] = { "sh", "-c", command, NULL };
        return run_capture(argv, out, size);
}

/* A request refused as a whole prints its error alone, not an empty list besides it. */
START_TEST(test_json_error_alone) {
        struct daemon d;
        char out[4096];
        daemon_init(&d);
        daemon_write_config(&d, "service web {\n command = \"sleep 60\"\n start-secs = 0\n}\n");
        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "web", "RUNNING", SOON_MS);
        static const char *const refused[] = { "--json stop nosuch", "--json start web nosuch", "--json status nosuch",
                                               "--json restart nosuch", "--json signal HUP nosuch" };
        for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
                ck_assert_int_eq(ctl_stdout(&d, out, sizeof out, refused[i]), 4);
                ck_assert_msg(out[0] == '\0', "%s printed on stdout: '%s'", refused[i], out);
                ck_assert_int_eq(ctl(&d, out, sizeof out, "%s", refused[i]), 4);
                ck_assert_str_eq(out, "supervisorctl: no such service: nosuch\n");
        }
        /* A list that is there is printed as before, also one of failures. */
        ck_assert_int_eq(ctl_stdout(&d, out, sizeof out, "--json stop web"), 0);
        ck_assert_str_eq(out, "[{\"name\":\"web\",\"ok\":true,\"message\":\"stopped\"}]\n");
        ck_assert_int_eq(ctl_stdout(&d, out, sizeof out, "--json signal HUP web"), 1);
        ck_assert_str_eq(out, "[{\"name\":\"web\",\"ok\":false,\"message\":\"not running\"}]\n");
        ck_assert_int_eq(daemon_stop(&d, SOON_MS), 0);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_json_output) {
        struct daemon d;
        char out[4096], expected[512];
        daemon_init(&d);
        daemon_write_config(&d,
                            "service run {\n command = \"sleep 60\"\n start-secs = 0\n}\n"
                            "service idle {\n command = \"sleep 60\"\n autostart = false\n start-secs = 0\n}\n"
                            "service done {\n command = \"sh -c 'exit 3'\"\n start-secs = 0\n restart = never\n}\n"
                            "service victim {\n command = \"sleep 60\"\n start-secs = 0\n restart = never\n}\n");
        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "done", "EXITED", SOON_MS);
        ASSERT_STATE_WITHIN(&d, "victim", "RUNNING", SOON_MS);
        pid_t run = service_up(&d, "run"), victim = service_up(&d, "victim");
        ck_assert_int_eq(kill(victim, SIGKILL), 0);
        ASSERT_STATE_WITHIN(&d, "victim", "EXITED", SOON_MS);

        ck_assert_int_eq(ctl(&d, out, sizeof out, "--json status"), 3);
        ck_assert_msg(starts_with(out, "[{\"name\":\"run\",") && ends_with(out, "}]\n") && count_lines(out) == 1, "%s",
                      out);
        /* Every documented member of every object, with its exact value. */
        static const struct {
                const char *name;
                const char *members[8];
        } objects[] = {
                { "run", { "\"state\":\"RUNNING\"", "\"exit_status\":null", "\"signal\":null", "\"restarts\":0",
                           "\"message\":null" } },
                { "idle", { "\"state\":\"STOPPED\"", "\"pid\":null", "\"uptime\":0", "\"exit_status\":null",
                            "\"signal\":null", "\"restarts\":0", "\"message\":null" } },
                { "done", { "\"state\":\"EXITED\"", "\"pid\":null", "\"uptime\":0", "\"exit_status\":3",
                            "\"signal\":null", "\"restarts\":0", "\"message\":null" } },
                { "victim", { "\"state\":\"EXITED\"", "\"pid\":null", "\"uptime\":0", "\"exit_status\":null",
                              "\"signal\":\"KILL\"", "\"restarts\":0", "\"message\":null" } },
        };
        char object[1024];
        for (size_t i = 0; i < sizeof objects / sizeof objects[0]; i++) {
                json_object_of(out, objects[i].name, object, sizeof object);
                ck_assert_msg(object[0], "no object for %s in %s", objects[i].name, out);
                for (size_t j = 0; j < 8 && objects[i].members[j]; j++)
                        ck_assert_msg(json_has(object, objects[i].members[j]), "%s lacks %s: %s", objects[i].name,
                                      objects[i].members[j], object);
        }
        /* In configuration order, separated by commas. */
        ck_assert(strstr(out, "},{\"name\":\"idle\"") && strstr(out, "},{\"name\":\"done\"")
                  && strstr(out, "},{\"name\":\"victim\""));
        json_object_of(out, "run", object, sizeof object);
        snprintf(expected, sizeof expected, "\"pid\":%d", (int)run);
        ck_assert_msg(json_has(object, expected), "%s", object);
        const char *uptime = strstr(object, "\"uptime\":");
        ck_assert_ptr_nonnull(uptime);
        ck_assert_int_le(atoi(uptime + 9), 5);

        ck_assert_int_eq(ctl(&d, out, sizeof out, "--json status run"), 0);
        ck_assert_msg(starts_with(out, "[{\"name\":\"run\",") && ends_with(out, "}]\n"), "%s", out);
        ck_assert_msg(json_has(out, expected), "%s", out);

        ck_assert_int_eq(ctl(&d, out, sizeof out, "--json start idle"), 0);
        service_up(&d, "idle");
        ck_assert_str_eq(out, "[{\"name\":\"idle\",\"ok\":true,\"message\":\"started\"}]\n");
        ck_assert_int_eq(ctl(&d, out, sizeof out, "--json start idle"), 0);
        ck_assert_str_eq(out, "[{\"name\":\"idle\",\"ok\":true,\"message\":\"already running\"}]\n");
        ck_assert_int_eq(ctl(&d, out, sizeof out, "--json stop idle"), 0);
        ck_assert_str_eq(out, "[{\"name\":\"idle\",\"ok\":true,\"message\":\"stopped\"}]\n");
        ck_assert_int_eq(ctl(&d, out, sizeof out, "--json signal HUP idle"), 1);
        ck_assert_str_eq(out, "[{\"name\":\"idle\",\"ok\":false,\"message\":\"not running\"}]\n");

        ck_assert_int_eq(ctl(&d, out, sizeof out, "--json pid"), 0);
        snprintf(expected, sizeof expected, "{\"pid\":%d}\n", (int)d.pid);
        ck_assert_str_eq(out, expected);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "--json pid run"), 0);
        snprintf(expected, sizeof expected, "{\"pid\":%d}\n", (int)run);
        ck_assert_str_eq(out, expected);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "--json version"), 0);
        ck_assert_str_eq(out, "{\"supervisorctl\":\"0.1.0\",\"supervisord\":\"0.1.0\"}\n");

        ck_assert_int_eq(ctl(&d, out, sizeof out, "--json shutdown"), 0);
        ck_assert_str_eq(out, "{\"ok\":true}\n");
        ck_assert_int_eq(wait_daemon_exit(&d, 5000), 0);
        daemon_cleanup(&d);
}
END_TEST

/* ---- actions wait for their outcome ---- */

START_TEST(test_start_waits_until_running) {
        struct daemon d;
        char out[4096];
        daemon_init(&d);
        daemon_write_config(&d, "service slow {\n command = \"sleep 60\"\n autostart = false\n start-secs = 2\n}\n");
        daemon_start(&d);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "status slow"), 3);

        long long t0 = now_ms();
        ck_assert_int_eq(ctl(&d, out, sizeof out, "start slow"), 0);
        long long elapsed = now_ms() - t0;
        ck_assert_str_eq(out, "slow: started\n");
        ck_assert_msg(elapsed >= 1950, "start took %lld ms, expected at least start-secs = 2 s", elapsed);
        /* RUNNING right away, not merely STARTING. */
        ck_assert(raw_request_str(d.sock, "status slow\n", out, sizeof out));
        ck_assert_msg(starts_with(out, "STATUS\tslow\tRUNNING\t"), "%s", out);
        pid_t pid = service_up(&d, "slow");
        ck_assert(process_exists(pid));
        ck_assert_int_eq(process_parent(pid), d.pid);

        /* A second start does not wait out start-secs again. */
        t0 = now_ms();
        ck_assert_int_eq(ctl(&d, out, sizeof out, "start slow"), 0);
        elapsed = now_ms() - t0;
        ck_assert_msg(elapsed < 2000, "start of a running service took %lld ms, expected under start-secs = 2 s",
                      elapsed);
        ck_assert_str_eq(out, "slow: ERROR (already started)\n");
        ck_assert_int_eq(service_pid_of(&d, "slow"), pid);
        ck_assert_int_eq(daemon_stop(&d, 5000), 0);
        ck_assert(!process_exists(pid));
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_stop_waits_until_gone) {
        struct daemon d;
        char out[4096], state[32];
        daemon_init(&d);
        daemon_write_config(&d,
                            "service web {\n command = \"sleep 60\"\n start-secs = 0\n}\n"
                            "service stubborn {\n command = \"sh -c 'trap \\\"\\\" TERM; echo ok > %s/ready;"
                            " while :; do sleep 0.1; done'\"\n start-secs = 0\n stop-timeout = 1\n}\n",
                            d.dir);
        daemon_start(&d);
        pid_t web = service_up(&d, "web");
        ck_assert_int_gt(web, 0);
        ck_assert(process_exists(web));

        ck_assert_int_eq(ctl(&d, out, sizeof out, "stop web"), 0);
        ck_assert_str_eq(out, "web: stopped\n");
        /* Gone and reaped: not even a zombie is left. */
        ck_assert_int_eq(process_state(web), 0);
        ck_assert_str_eq(service_state_of(&d, "web", state, sizeof state), "STOPPED");
        ck_assert_int_eq(service_pid_of(&d, "web"), 0);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "stop web"), 0);
        ck_assert_str_eq(out, "web: ERROR (not running)\n");

        /* A process that ignores TERM: stop waits for the SIGKILL after stop-timeout. */
        char ready[256];
        snprintf(ready, sizeof ready, "%s/ready", d.dir);
        ck_assert_msg(wait_for_file(ready, SOON_MS), "%s is still missing or empty", ready);
        pid_t stubborn = service_pid_of(&d, "stubborn");
        ck_assert_int_gt(stubborn, 0);
        long long t0 = now_ms();
        ck_assert_int_eq(ctl(&d, out, sizeof out, "stop stubborn"), 0);
        long long elapsed = now_ms() - t0;
        ck_assert_str_eq(out, "stubborn: stopped\n");
        /* Not before the stop-timeout; how long after it is the machine's business. */
        ck_assert_msg(elapsed >= 950, "stop took %lld ms, expected at least stop-timeout = 1 s", elapsed);
        ck_assert_int_eq(process_state(stubborn), 0);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "status stubborn"), 3);
        ck_assert_msg(strstr(out, "killed by SIGKILL") != NULL, "%s", out);
        ck_assert_int_eq(daemon_stop(&d, 5000), 0);
        daemon_cleanup(&d);
}
END_TEST

/* -w bounds the wait for an answer: a start whose start-secs is far off is answered
 * at the bound, and goes on in supervisord; without -w it would take the whole 60 s. */
START_TEST(test_wait_bound) {
        struct daemon d;
        char out[4096], state[64];
        daemon_init(&d);
        daemon_write_config(&d, "service slow {\n command = \"sleep 1000\"\n start-secs = 60\n autostart = false\n}\n");
        daemon_start(&d);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "-w 1 start slow"), 1);
        ck_assert_str_eq(out, "supervisorctl: no answer within 1 seconds (-w); supervisord goes on with it\n");
        ck_assert_str_eq(service_state_of(&d, "slow", state, sizeof state), "STARTING");
        pid_t slow = service_pid_of(&d, "slow");
        ck_assert(slow > 0 && process_exists(slow));
        ck_assert_int_eq(ctl(&d, out, sizeof out, "-w 0 start slow"), 2);
        ck_assert_str_eq(out, "supervisorctl: -w '0' is not a number of seconds\n");
        /* What answers at once is not held up by it. */
        ck_assert_int_eq(ctl(&d, out, sizeof out, "-w 1 stop slow"), 0);
        ck_assert_str_eq(out, "slow: stopped\n");
        ck_assert(!process_exists(slow));
        ck_assert_int_eq(daemon_stop(&d, 5000), 0);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_restart_changes_pid) {
        struct daemon d;
        char out[4096];
        daemon_init(&d);
        daemon_write_config(&d, "service web {\n command = \"sleep 60\"\n start-secs = 0\n}\n");
        daemon_start(&d);
        pid_t before = service_up(&d, "web");
        ck_assert_int_gt(before, 0);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "restart web"), 0);
        ck_assert_str_eq(out, "web: stopped\nweb: started\n");
        pid_t after = service_up(&d, "web");
        ck_assert_int_gt(after, 0);
        ck_assert_int_ne(after, before);
        ck_assert_int_eq(process_state(before), 0);
        ck_assert(process_exists(after));
        ck_assert_int_eq(process_parent(after), d.pid);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "status web"), 0);

        /* Restarting a stopped process starts it, in supervisorctl's words: its stop
         * finds nothing to stop. */
        ck_assert_int_eq(ctl(&d, out, sizeof out, "stop web"), 0);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "restart web"), 0);
        ck_assert_str_eq(out, "web: ERROR (not running)\nweb: started\n");
        pid_t third = service_up(&d, "web");
        ck_assert(process_exists(third));
        ck_assert_int_ne(third, after);
        ck_assert_int_eq(daemon_stop(&d, 5000), 0);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_stop_all_start_all) {
        static const char *const names[] = { "a", "b", "c" };
        struct daemon d;
        char out[4096], line[256];
        pid_t pids[3];
        daemon_init(&d);
        daemon_write_config(&d,
                            "service a {\n command = \"sleep 60\"\n start-secs = 0\n}\n"
                            "service b {\n command = \"sleep 60\"\n start-secs = 0\n}\n"
                            "service c {\n command = \"sleep 60\"\n start-secs = 0\n}\n");
        daemon_start(&d);
        for (int i = 0; i < 3; i++) {
                pids[i] = service_up(&d, names[i]);
                ck_assert_int_gt(pids[i], 0);
        }
        ck_assert_int_eq(ctl(&d, out, sizeof out, "stop all"), 0);
        ck_assert_str_eq(out, "a: stopped\nb: stopped\nc: stopped\n");
        for (int i = 0; i < 3; i++) {
                ck_assert_int_eq(process_state(pids[i]), 0);
                ck_assert_str_eq(service_state_of(&d, names[i], line, sizeof line), "STOPPED");
        }
        ck_assert_int_eq(ctl(&d, out, sizeof out, "status"), 3);

        ck_assert_int_eq(ctl(&d, out, sizeof out, "start all"), 0);
        ck_assert_str_eq(out, "a: started\nb: started\nc: started\n");
        for (int i = 0; i < 3; i++) {
                pid_t pid = service_up(&d, names[i]);
                ck_assert(process_exists(pid));
                ck_assert_int_eq(process_parent(pid), d.pid);
                ck_assert_int_ne(pid, pids[i]);
        }
        ck_assert_int_eq(ctl(&d, out, sizeof out, "status"), 0);

        ck_assert_int_eq(ctl(&d, out, sizeof out, "restart all"), 0);
        for (int i = 0; i < 3; i++)
                service_up(&d, names[i]);
        ck_assert_str_eq(out, "a: stopped\nb: stopped\nc: stopped\na: started\nb: started\nc: started\n");
        ck_assert_int_eq(daemon_stop(&d, 5000), 0);
        daemon_cleanup(&d);
}
END_TEST

/* When PID started, in ms since boot (field 22 of /proc/PID/stat, in clock ticks). */
static long long process_start_ms(pid_t pid) {
        char path[64], buf[1024];
        snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
        ck_assert_int_gt(read_text_file(path, buf, sizeof buf), 0);
        const char *p = strrchr(buf, ')');
        ck_assert_ptr_nonnull(p);
        for (int field = 2; field < 22 && p; field++)
                p = strchr(p + 1, ' ');
        ck_assert_ptr_nonnull(p);
        return atoll(p + 1) * 1000 / sysconf(_SC_CLK_TCK);
}

/* A restart of many starts them all at once: each waits out its own start-secs, not the
 * sum of those before it. */
START_TEST(test_restart_all_in_parallel) {
        static const char *const names[] = { "a", "b", "c", "d" };
        struct daemon d;
        char out[4096];
        pid_t before[4];
        daemon_init(&d);
        daemon_write_config(&d,
                            "service a {\n command = \"sleep 60\"\n start-secs = 2\n}\n"
                            "service b {\n command = \"sleep 60\"\n start-secs = 2\n}\n"
                            "service c {\n command = \"sleep 60\"\n start-secs = 2\n}\n"
                            "service d {\n command = \"sleep 60\"\n start-secs = 2\n}\n");
        daemon_start(&d);
        for (int i = 0; i < 4; i++)
                ASSERT_STATE_WITHIN(&d, names[i], "RUNNING", SOON_MS);
        for (int i = 0; i < 4; i++)
                before[i] = service_up(&d, names[i]);
        long long start = now_ms();
        ck_assert_int_eq(ctl(&d, out, sizeof out, "restart all"), 0);
        long long took = now_ms() - start;
        ck_assert_str_eq(out, "a: stopped\nb: stopped\nc: stopped\nd: stopped\na: started\nb: started\nc: started\nd: started\n");
        ck_assert_msg(took >= 2000, "restart took %lld ms, expected at least start-secs = 2 s", took);
        /* All spawned before the first of them could count as started: one after another,
         * each would have been spawned start-secs = 2 s after the one before. */
        long long first = 0, last = 0;
        for (int i = 0; i < 4; i++) {
                long long at = process_start_ms(service_up(&d, names[i]));
                first = i == 0 || at < first ? at : first;
                last = i == 0 || at > last ? at : last;
        }
        ck_assert_msg(last - first < 2000, "the new processes were spawned over %lld ms, expected all within "
                                           "start-secs = 2 s", last - first);
        for (int i = 0; i < 4; i++) {
                pid_t after = service_up(&d, names[i]);
                ck_assert(process_exists(after));
                ck_assert_int_eq(process_parent(after), d.pid);
                ck_assert_int_ne(after, before[i]);
                ck_assert_int_eq(process_state(before[i]), 0);
        }
        ck_assert_int_eq(daemon_stop(&d, 5000), 0);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_signal_is_delivered) {
        struct daemon d;
        char out[4096], got[256], ready[256], text[64];
        daemon_init(&d);
        snprintf(got, sizeof got, "%s/got", d.dir);
        snprintf(ready, sizeof ready, "%s/ready", d.dir);
        daemon_write_config(&d,
                            "service trap {\n command = \"sh -c 'trap \\\"echo got > %s\\\" USR1; echo ok > %s;"
                            " while :; do sleep 0.1; done'\"\n start-secs = 0\n}\n"
                            "service idle {\n command = \"sleep 60\"\n autostart = false\n}\n",
                            got, ready);
        daemon_start(&d);
        ck_assert_msg(wait_for_file(ready, SOON_MS), "%s is still missing or empty", ready);
        pid_t pid = service_up(&d, "trap");
        ck_assert_int_gt(pid, 0);
        ck_assert_int_eq(access(got, F_OK), -1);

        ck_assert_int_eq(ctl(&d, out, sizeof out, "signal USR1 trap"), 0);
        ck_assert_str_eq(out, "trap: signalled\n");
        ck_assert_msg(wait_for_file(got, SOON_MS), "%s is still missing or empty", got);
        ck_assert_int_gt(read_text_file(got, text, sizeof text), 0);
        ck_assert_str_eq(text, "got\n");
        /* Handled, not fatal: the same process still runs. */
        ck_assert_int_eq(service_pid_of(&d, "trap"), pid);
        ck_assert(process_exists(pid));

        /* Other spellings of the signal. */
        unlink(got);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "signal sigusr1 trap"), 0);
        ck_assert_msg(wait_for_file(got, SOON_MS), "%s is still missing or empty", got);
        unlink(got);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "signal %d trap", SIGUSR1), 0);
        ck_assert_msg(wait_for_file(got, SOON_MS), "%s is still missing or empty", got);

        ck_assert_int_eq(ctl(&d, out, sizeof out, "signal USR1 idle"), 7);  /* supervisorctl's "not running" */
        ck_assert_str_eq(out, "idle: ERROR (not running)\n");
        ck_assert_int_eq(daemon_stop(&d, 5000), 0);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_pid_command) {
        struct daemon d;
        char out[4096], expected[64];
        daemon_init(&d);
        daemon_write_config(&d,
                            "service web {\n command = \"sleep 60\"\n start-secs = 0\n}\n"
                            "service idle {\n command = \"sleep 60\"\n autostart = false\n}\n");
        daemon_start(&d);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "pid"), 0);
        snprintf(expected, sizeof expected, "%d\n", (int)d.pid);
        ck_assert_str_eq(out, expected);

        ck_assert_int_eq(ctl(&d, out, sizeof out, "pid web"), 0);
        pid_t web = atoi(out);
        ck_assert_int_gt(web, 0);
        snprintf(expected, sizeof expected, "%d\n", (int)web);
        ck_assert_str_eq(out, expected);
        ck_assert(process_exists(web));
        ck_assert_int_eq(process_parent(web), d.pid);
        /* Its own session and process group (setsid in the child). */
        ASSERT_WITHIN(getsid(web) == web, SOON_MS);
        ck_assert_int_eq(getpgid(web), web);
        char comm[64], path[64];
        snprintf(path, sizeof path, "/proc/%d/comm", (int)web);
        ck_assert_int_gt(read_text_file(path, comm, sizeof comm), 0);
        ck_assert_str_eq(comm, "sleep\n");

        ck_assert_int_eq(ctl(&d, out, sizeof out, "pid idle"), 7);  /* supervisorctl's "not running" */
        ck_assert_str_eq(out, "0\n");
        ck_assert_int_eq(daemon_stop(&d, 5000), 0);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_shutdown_command) {
        struct daemon d;
        char out[4096];
        daemon_init(&d);
        daemon_write_config(&d,
                            "service a {\n command = \"sleep 60\"\n start-secs = 0\n}\n"
                            "service b {\n command = \"sleep 60\"\n start-secs = 0\n}\n");
        daemon_start(&d);
        pid_t a = service_up(&d, "a"), b = service_up(&d, "b");
        ck_assert_int_gt(a, 0);
        ck_assert_int_gt(b, 0);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "shutdown"), 0);
        ck_assert_str_eq(out, "Shut down\n");
        /* OK came only once every service was stopped. */
        ck_assert(!process_exists(a));
        ck_assert(!process_exists(b));
        ck_assert_int_eq(wait_daemon_exit(&d, 5000), 0);
        ck_assert_int_eq(process_state(a), 0);
        ck_assert_int_eq(process_state(b), 0);
        ck_assert(access(d.sock, F_OK) < 0);
        ck_assert(access(d.pidfile, F_OK) < 0);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "status"), 7);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_stop_right_after_spawn) {
        /* A stop that reaches a process between its fork and its setsid() (its process
         * group does not exist yet) must still stop it at once, not after stop-timeout.
         * Both requests are queued together, so the daemon handles the stop in the same
         * loop iteration as the spawns. */
        struct daemon d;
        char config[8192], out[8192], out2[8192];
        size_t len = 0;
        for (int i = 0; i < 32; i++)
                len += (size_t)snprintf(config + len, sizeof config - len,
                                        "service s%d {\n command = \"sleep 60\"\n start-secs = 0\n"
                                        " autostart = false\n stop-timeout = 10\n}\n",
                                        i);
        daemon_init(&d);
        daemon_write_config(&d, "%s", config);
        daemon_start(&d);
        for (int round = 0; round < 50; round++) {
                int start = raw_connect(d.sock), stop = raw_connect(d.sock);
                long long t0 = now_ms();
                raw_send(start, "start all\n", 10);
                raw_send(stop, "stop all\n", 9);
                ck_assert(raw_read_all(start, out, sizeof out, 30000));
                ck_assert(raw_read_all(stop, out2, sizeof out2, 30000));
                long long elapsed = now_ms() - t0;
                close(start);
                close(stop);
                ck_assert_msg(ends_with(out, "\nOK\n") && ends_with(out2, "\nOK\n"), "start: %s\nstop: %s", out, out2);
                /* A process the stop signal missed is killed only after the stop-timeout. */
                ck_assert_msg(elapsed < 10000, "round %d: start all + stop all took %lld ms, expected less than the "
                                               "10 s stop-timeout", round, elapsed);
                /* Whichever came first, stop all now leaves nothing running. */
                ck_assert(raw_request_str(d.sock, "stop all\n", out, sizeof out));
                ck_assert(ends_with(out, "\nOK\n"));
                ck_assert_int_eq(ctl(&d, out, sizeof out, "status"), 3);
                ck_assert_msg(strstr(out, "RUNNING") == NULL && strstr(out, "STOPPING") == NULL, "%s", out);
        }
        ck_assert_int_eq(daemon_stop(&d, 5000), 0);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_start_refused_during_shutdown) {
        struct daemon d;
        char out[4096], ready[256];
        daemon_init(&d);
        snprintf(ready, sizeof ready, "%s/ready", d.dir);
        daemon_write_config(&d,
                            "service stubborn {\n command = \"sh -c 'trap \\\"\\\" TERM; echo ok > %s;"
                            " while :; do sleep 0.1; done'\"\n start-secs = 0\n stop-timeout = 30\n}\n"
                            "service idle {\n command = \"sleep 60\"\n autostart = false\n}\n",
                            ready);
        daemon_start(&d);
        ck_assert_msg(wait_for_file(ready, SOON_MS), "%s is still missing or empty", ready);
        pid_t stubborn = service_up(&d, "stubborn");

        /* shutdown is parked until stubborn is gone: it ignores TERM, and its 30 s
         * stop-timeout leaves room for the checks below on any machine. */
        int fd = raw_connect(d.sock);
        raw_send(fd, "shutdown\n", 9);
        ASSERT_STATE_WITHIN(&d, "stubborn", "STOPPING", SOON_MS);

        /* Meanwhile: status still answers, start is refused at once. */
        long long t0 = now_ms();
        ck_assert(raw_request_str(d.sock, "start idle\n", out, sizeof out));
        long long elapsed = now_ms() - t0;
        ck_assert_str_eq(out, "ERROR\t1\tsupervisord is shutting down\n");
        /* Refused at once, not parked until the shutdown is over. */
        ck_assert_msg(process_exists(stubborn), "start answered %lld ms later, after the shutdown", elapsed);
        ck_assert_int_eq(ctl_timed(&d, out, sizeof out, "restart idle"), 1);
        ck_assert_str_eq(out, "idle: ERROR (not running)\nsupervisorctl: supervisord is shutting down\n");
        ck_assert_int_eq(ctl(&d, out, sizeof out, "status idle"), 3);

        /* Once it is gone (by our hand, not waiting out the timeout), shutdown completes. */
        ck_assert_int_eq(kill(stubborn, SIGKILL), 0);
        ck_assert(raw_read_all(fd, out, sizeof out, SOON_MS));
        close(fd);
        ck_assert_str_eq(out, "OK\n");
        ck_assert_int_eq(process_state(stubborn), 0);
        ck_assert_int_eq(wait_daemon_exit(&d, SOON_MS), 0);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_socket_from_config) {
        struct daemon d;
        char out[4096];
        daemon_init(&d);
        daemon_write_config(&d, "service web {\n command = \"sleep 60\"\n start-secs = 0\n}\n");
        daemon_start(&d);
        service_up(&d, "web");
        char *status[] = { (char *)supervisorctl_path(), "-c", d.conf, "status", NULL };
        ck_assert_int_eq(ctl_argv(out, sizeof out, status), 0);
        ck_assert_msg(starts_with(out, "web ") && strstr(out, " RUNNING ") != NULL, "%s", out);
        char *pid[] = { (char *)supervisorctl_path(), "-c", d.conf, "pid", NULL };
        ck_assert_int_eq(ctl_argv(out, sizeof out, pid), 0);
        ck_assert_int_eq(atoi(out), d.pid);
        /* -s wins over the config. */
        char bogus[256];
        snprintf(bogus, sizeof bogus, "%s/nothing-here", d.dir);
        char *both[] = { (char *)supervisorctl_path(), "-c", d.conf, "-s", bogus, "pid", NULL };
        ck_assert_int_eq(ctl_argv(out, sizeof out, both), 7);
        /* An explicit -c that cannot be read is a usage error. */
        char missing[256];
        snprintf(missing, sizeof missing, "%s/missing.conf", d.dir);
        char *none[] = { (char *)supervisorctl_path(), "-c", missing, "status", NULL };
        ck_assert_int_eq(ctl_argv(out, sizeof out, none), 2);
        ck_assert_int_eq(daemon_stop(&d, 5000), 0);
        daemon_cleanup(&d);
}
END_TEST

static Suite *control_suite(void) {
        Suite *s = suite_create("control");
        TCase *tc = tcase_create("control");
        tcase_set_timeout(tc, 300);  /* a hang, not slowness: fifty rounds of 32 spawns take long under ASan and load */
        tcase_add_test(tc, test_socket_mode_default);
        tcase_add_test(tc, test_socket_mode_and_group);
        tcase_add_test(tc, test_stale_socket_is_replaced);
        tcase_add_test(tc, test_socket_of_killed_daemon_is_replaced);
        tcase_add_test(tc, test_live_socket_is_not_stolen);
        tcase_add_test(tc, test_raw_status_version_pid);
        tcase_add_test(tc, test_raw_request_too_long);
        tcase_add_test(tc, test_raw_garbage);
        tcase_add_test(tc, test_stalled_clients_do_not_block_others);
        tcase_add_test(tc, test_too_many_clients);
        tcase_add_test(tc, test_half_closed_client_gets_answer);
        tcase_add_test(tc, test_crlf_and_cut_off_requests);
        tcase_add_test(tc, test_ctl_usage_errors);
        tcase_add_test(tc, test_ctl_unreachable);
        tcase_add_test(tc, test_ctl_exit_statuses);
        tcase_add_test(tc, test_status_format);
        tcase_add_test(tc, test_status_of_a_stopped_service_and_long_names);
        tcase_add_test(tc, test_json_error_alone);
        tcase_add_test(tc, test_json_output);
        tcase_add_test(tc, test_start_waits_until_running);
        tcase_add_test(tc, test_stop_waits_until_gone);
        tcase_add_test(tc, test_restart_changes_pid);
        tcase_add_test(tc, test_wait_bound);
        tcase_add_test(tc, test_restart_all_in_parallel);
        tcase_add_test(tc, test_stop_all_start_all);
        tcase_add_test(tc, test_signal_is_delivered);
        tcase_add_test(tc, test_pid_command);
        tcase_add_test(tc, test_shutdown_command);
        tcase_add_test(tc, test_stop_right_after_spawn);
        tcase_add_test(tc, test_start_refused_during_shutdown);
        tcase_add_test(tc, test_socket_from_config);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) { return run_suite(control_suite()) ? 1 : 0; }
