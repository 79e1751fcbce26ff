/* test_logfile.c — unit tests for logfile.c and the log keys of config.c: file naming,
 * which bytes the last N lines are, the stdout/stderr/log-* keys and their errors, and a
 * capture driven through a real sd-event loop in this process: bytes reach the file
 * exactly, rotation names and keeps files, tail reads across rotations, followers see
 * every byte, /dev/null and unwritable directories, release drains the pipe, the file is
 * made by the first byte (wherever log-dir is then) and that byte may find an old file
 * nearly full. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include "config.h"
#include "harness.h"
#include "logfile.h"

/* A spawn hands the child its own copies of the write ends, and supervisord then closes
 * its own (logfile.c): these tests, which write as the child would, keep such a copy at
 * the number prepare gave, open until the test is over. */
static struct {
        struct log_capture *capture;
        int fds[2];
} prepared[16];

static int prepare_as_spawn(struct log_capture *c, const struct service_config *config, int *out, int *err) {
        int r = (log_capture_prepare)(c, config, out, err);
        for (size_t i = 0; r == 0 && i < sizeof prepared / sizeof *prepared; i++)
                if (!prepared[i].capture || prepared[i].capture == c) {
                        prepared[i].capture = c;
                        prepared[i].fds[0] = *out;
                        prepared[i].fds[1] = *err;
                        break;
                }
        return r;
}

static void spawned_as_child(struct log_capture *c) {
        int keep[2] = { -1, -1 }, fds[2] = { -1, -1 };
        for (size_t i = 0; i < sizeof prepared / sizeof *prepared; i++)
                if (prepared[i].capture == c) {
                        fds[0] = prepared[i].fds[0];
                        fds[1] = prepared[i].fds[1] != fds[0] ? prepared[i].fds[1] : -1;
                        prepared[i].capture = NULL;
                }
        struct stat st;
        for (int k = 0; k < 2; k++)  /* the pipe's write end only: /dev/null and the journal stay closed */
                keep[k] = fds[k] >= 0 && fstat(fds[k], &st) == 0 && S_ISFIFO(st.st_mode)
                                  ? fcntl(fds[k], F_DUPFD_CLOEXEC, 100)
                                  : -1;
        (log_capture_spawned)(c);
        for (int k = 0; k < 2; k++)
                if (keep[k] >= 0) {
                        if (fcntl(fds[k], F_GETFD) < 0)
                                dup3(keep[k], fds[k], O_CLOEXEC);
                        close(keep[k]);
                }
}
#define log_capture_prepare prepare_as_spawn
#define log_capture_spawned spawned_as_child
#include "logfile.h"

/* ---- pure helpers ---- */

START_TEST(test_file_path) {
        char buf[64];
        ck_assert_int_eq(log_file_path(buf, sizeof buf, "/var/log/s", "web", 0), 0);
        ck_assert_str_eq(buf, "/var/log/s/web.log");
        ck_assert_int_eq(log_file_path(buf, sizeof buf, "/var/log/s", "web@2", 0), 0);
        ck_assert_str_eq(buf, "/var/log/s/web@2.log");
        ck_assert_int_eq(log_file_path(buf, sizeof buf, "/var/log/s/", "web", 3), 0);
        ck_assert_str_eq(buf, "/var/log/s/web.log.3");
        ck_assert_int_eq(log_file_path(buf, sizeof buf, "/", "a", 1000), 0);
        ck_assert_str_eq(buf, "/a.log.1000");
        /* exactly fitting, and one byte short */
        ck_assert_int_eq(log_file_path(buf, 11, "/d", "abc", 0), 0);
        ck_assert_str_eq(buf, "/d/abc.log");
        ck_assert_int_eq(log_file_path(buf, 10, "/d", "abc", 0), -ENAMETOOLONG);
        ck_assert_int_eq(log_file_path(buf, 12, "/d", "abc", 10), -ENAMETOOLONG);
}
END_TEST

/* ---- config keys ---- */

static int load(const char *body, struct config **ret, char *error, size_t size, char *path, size_t path_size) {
        snprintf(path, path_size, "/tmp/test_logfile.XXXXXX");
        int fd = mkstemp(path);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, body, strlen(body)), (ssize_t)strlen(body));
        close(fd);
        int r = config_load(path, ret, error, size);
        unlink(path);
        return r;
}

START_TEST(test_config_defaults) {
        struct config *c;
        char error[1024], path[64];
        ck_assert_int_eq(load("service web { command = \"sleep 1\" }\n", &c, error, sizeof error, path, sizeof path), 0);
        ck_assert_str_eq(c->log_dir, "/var/log/supervisord");
        const struct service_config *s = c->services[0];
        ck_assert_int_eq(s->stdout_target, OUTPUT_LOG);
        ck_assert_int_eq(s->stderr_target, OUTPUT_STDOUT);
        ck_assert_uint_eq(s->log_max_size, 10485760);
        ck_assert_uint_eq(s->log_keep, 5);
        config_free(c);
}
END_TEST

START_TEST(test_config_values) {
        struct config *c;
        char error[1024], path[64];
        static const struct {
                const char *size;
                uint64_t bytes;
        } sizes[] = {
                { "0", 0 }, { "4096", 4096 }, { "4K", 4096 }, { "5m", 5u << 20 }, { "5M", 5u << 20 },
                { "2G", 2ull << 30 }, { "123456789", 123456789 },
        };
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
                char body[512];
                snprintf(body, sizeof body,
                         "log-dir = /srv/logs\n"
                         "service web {\n command = \"sleep 1\"\n stdout = journal\n stderr = null\n"
                         " log-max-size = %s\n log-keep = 0\n}\n",
                         sizes[i].size);
                ck_assert_msg(load(body, &c, error, sizeof error, path, sizeof path) == 0, "%s: %s", sizes[i].size, error);
                ck_assert_str_eq(c->log_dir, "/srv/logs");
                ck_assert_int_eq(c->services[0]->stdout_target, OUTPUT_JOURNAL);
                ck_assert_int_eq(c->services[0]->stderr_target, OUTPUT_NULL);
                ck_assert_uint_eq(c->services[0]->log_max_size, sizes[i].bytes);
                ck_assert_uint_eq(c->services[0]->log_keep, 0);
                config_free(c);
        }
        static const char *const targets[] = { "log", "null", "inherit", "journal" };
        for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
                char body[256];
                snprintf(body, sizeof body, "service a {\n command = x\n stdout = %1$s\n stderr = %1$s\n}\n", targets[i]);
                ck_assert_msg(load(body, &c, error, sizeof error, path, sizeof path) == 0, "%s", error);
                ck_assert_str_eq(output_target_to_string(c->services[0]->stdout_target), targets[i]);
                ck_assert_str_eq(output_target_to_string(c->services[0]->stderr_target), targets[i]);
                config_free(c);
        }
}
END_TEST

START_TEST(test_config_errors) {
        static const struct {
                const char *body;
                int line;
                const char *message;
        } cases[] = {
                { "log-dir = relative/logs\n", 1, "log-dir: 'relative/logs' is not an absolute path" },
                { "service a {\n command = x\n\n stdout = stdout\n}\n", 4,
                  "stdout: 'stdout' is not one of log, null, inherit, journal" },
                { "service a {\n command = x\n stdout = file\n}\n", 3,
                  "stdout: 'file' is not one of log, null, inherit, journal" },
                { "service a {\n command = x\n stderr = stderr\n}\n", 3,
                  "stderr: 'stderr' is not one of log, null, inherit, journal, stdout" },
                { "service a {\n command = x\n log-max-size = 10X\n}\n", 3,
                  "log-max-size: '10X' is not 0 or a size of at least 4096 bytes (suffix K, M or G allowed)" },
                { "service a {\n command = x\n log-max-size = 100\n}\n", 3,
                  "log-max-size: '100' is not 0 or a size of at least 4096 bytes (suffix K, M or G allowed)" },
                { "service a {\n command = x\n log-max-size = -5\n}\n", 3,
                  "log-max-size: '-5' is not 0 or a size of at least 4096 bytes (suffix K, M or G allowed)" },
                { "service a {\n command = x\n log-max-size = 5MB\n}\n", 3,
                  "log-max-size: '5MB' is not 0 or a size of at least 4096 bytes (suffix K, M or G allowed)" },
                { "service a {\n command = x\n log-max-size = 99999999999999999999\n}\n", 3,
                  "log-max-size: '99999999999999999999' is not 0 or a size of at least 4096 bytes (suffix K, M or G allowed)" },
                { "service a {\n command = x\n log-max-size = 9999999999G\n}\n", 3,
                  "log-max-size: '9999999999G' is not 0 or a size of at least 4096 bytes (suffix K, M or G allowed)" },
                { "service a {\n command = x\n log-keep = 1001\n}\n", 3, "log-keep: '1001' is not an integer from 0 to 1000" },
                { "service a {\n command = x\n log-keep = two\n}\n", 3, "log-keep: 'two' is not an integer from 0 to 1000" },
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                struct config *c = NULL;
                char error[1024], path[64], expected[1200];
                ck_assert_int_eq(load(cases[i].body, &c, error, sizeof error, path, sizeof path), -EINVAL);
                snprintf(expected, sizeof expected, "%s:%d: %s", path, cases[i].line, cases[i].message);
                ck_assert_str_eq(error, expected);
        }
}
END_TEST

START_TEST(test_config_change_detection) {
        static const char *const changes[] = {
                "stdout = null", "stderr = log", "log-max-size = 1M", "log-keep = 2",
        };
        struct config *base, *other;
        char error[1024], path[64];
        ck_assert_int_eq(load("service a { command = x }\n", &base, error, sizeof error, path, sizeof path), 0);
        for (size_t i = 0; i < sizeof changes / sizeof changes[0]; i++) {
                char body[256];
                snprintf(body, sizeof body, "service a {\n command = x\n %s\n}\n", changes[i]);
                ck_assert_int_eq(load(body, &other, error, sizeof error, path, sizeof path), 0);
                ck_assert_msg(!service_config_equal(base->services[0], other->services[0]), "%s", changes[i]);
                ck_assert(!service_config_equal_but_instances(base->services[0], other->services[0]));
                config_free(other);
        }
        /* the defaults written out are no change */
        ck_assert_int_eq(load("service a {\n command = x\n stdout = log\n stderr = stdout\n log-max-size = 10M\n"
                              " log-keep = 5\n}\n",
                              &other, error, sizeof error, path, sizeof path),
                         0);
        ck_assert(service_config_equal(base->services[0], other->services[0]));
        config_free(other);
        config_free(base);
}
END_TEST

/* ---- a capture on a real event loop ---- */

struct fixture {
        sd_event *event;
        char dir[64];
        char logs[96];
        struct service_config config;
        char error[512];
};

static void fixture_init(struct fixture *f) {
        memset(f, 0, sizeof *f);
        snprintf(f->dir, sizeof f->dir, "/tmp/test_logfile.XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(f->dir));
        snprintf(f->logs, sizeof f->logs, "%s/a/b", f->dir);  /* made by logs_init */
        ck_assert_int_ge(sd_event_new(&f->event), 0);
        char error[512];
        ck_assert_int_eq(logs_init(f->event, f->logs, error, sizeof error), 0);
        f->config.name = "t";
        f->config.stdout_target = OUTPUT_LOG;
        f->config.stderr_target = OUTPUT_STDOUT;
        f->config.log_max_size = 0;
        f->config.log_keep = 5;
}

static void fixture_done(struct fixture *f) {
        logs_free_all();
        sd_event_unref(f->event);
        char *argv[] = { "rm", "-rf", f->dir, NULL };
        char out[256];
        run_capture(argv, out, sizeof out);
}

/* Run the loop until nothing is pending. */
static void run_loop(struct fixture *f) {
        for (int i = 0; i < 100000 && sd_event_run(f->event, 0) > 0; i++)
                ;
}

static off_t file_size(const struct fixture *f, const char *name) {
        char path[256];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", f->logs, name);
        return stat(path, &st) < 0 ? -1 : st.st_size;
}

static void write_all(int fd, const void *data, size_t size) {
        ck_assert_int_eq(write(fd, data, size), (ssize_t)size);
}

/* The whole of a tail of LINES lines, step by step as control.c sends it: *ret NULL when
 * empty.  No step reads more than LOG_TAIL_STEP. */
static int tail_all(struct log_capture *c, const struct service_config *config, unsigned lines, char **ret,
                    size_t *ret_size) {
        static char step[LOG_TAIL_SCAN_STEP];
        struct log_tail *t;
        *ret = NULL;
        *ret_size = 0;
        int r = log_tail_open(c, config, STDOUT_FILENO, lines, &t);
        if (r < 0)
                return r;
        char *text = NULL;
        size_t len = 0;
        for (bool done = false; !done;) {
                ssize_t n = log_tail_read(t, step, LOG_TAIL_STEP, &done);
                if (n < 0) {
                        free(text);
                        log_tail_free(t);
                        return (int)n;
                }
                ck_assert_int_le(n, LOG_TAIL_STEP);
                text = realloc(text, len + (size_t)n + 1);
                ck_assert_ptr_nonnull(text);
                memcpy(text + len, step, (size_t)n);
                len += (size_t)n;
        }
        log_tail_free(t);
        if (len == 0) {
                free(text);
                return 0;
        }
        text[len] = '\0';
        *ret = text;
        *ret_size = len;
        return 0;
}


START_TEST(test_capture_writes_file) {
        struct fixture f;
        struct log_capture *c;
        int out, err;
        fixture_init(&f);
        struct stat st;
        ck_assert_int_eq(stat(f.logs, &st), 0);
        ck_assert_int_eq(st.st_mode & 07777, 0755);

        ck_assert_int_eq(log_capture_new("t", &c), 0);
        ck_assert_int_eq(log_capture_prepare(c, &f.config, &out, &err), 0);
        ck_assert_int_ge(out, 0);
        ck_assert_int_eq(out, err);  /* stderr = stdout: one pipe, order kept */
        ck_assert_int_eq(fcntl(out, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
        ck_assert_int_eq(fcntl(out, F_GETFL) & O_NONBLOCK, 0);  /* the child's end blocks */
        log_capture_spawned(c);
        ck_assert_str_eq(log_capture_problem(c), "");
        /* No file until there is output: neither the spawn, nor an empty pipe drained at
         * an exit, nor a tail creates one, and tail of it is empty rather than an error. */
        run_loop(&f);
        log_capture_drain(c);
        char *text;
        size_t size;
        ck_assert_int_eq(tail_all(c, &f.config, 10, &text, &size), 0);
        ck_assert_ptr_null(text);
        ck_assert_uint_eq(size, 0);
        ck_assert_int_eq(file_size(&f, "t.log"), -1);

        write_all(out, "one\n", 4);
        write_all(err, "two\n", 4);
        run_loop(&f);
        char path[256], buf[64];
        snprintf(path, sizeof path, "%s/t.log", f.logs);
        ck_assert_int_eq(read_text_file(path, buf, sizeof buf), 8);
        ck_assert_str_eq(buf, "one\ntwo\n");

        /* drain writes what is in the pipe at once, without the loop */
        write_all(out, "three\n", 6);
        log_capture_drain(c);
        ck_assert_int_eq(read_text_file(path, buf, sizeof buf), 14);

        /* the same pipe for the next run */
        int out2, err2;
        ck_assert_int_eq(log_capture_prepare(c, &f.config, &out2, &err2), 0);
        struct stat st1, st2;  /* a write end opened anew, of the same pipe */
        ck_assert_int_eq(fstat(out, &st1), 0);
        ck_assert_int_eq(fstat(out2, &st2), 0);
        ck_assert(st1.st_ino == st2.st_ino && st1.st_dev == st2.st_dev);
        log_capture_spawned(c);
        log_capture_release(c);
        fixture_done(&f);
}
END_TEST

/* TEXT as the whole of t.log: its last LINES lines are EXPECTED. */
static void assert_tail(struct fixture *f, struct log_capture *c, const char *text, size_t len, unsigned lines,
                        const char *expected, size_t expected_len) {
        char path[256];
        snprintf(path, sizeof path, "%s/t.log", f->logs);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        ck_assert_int_ge(fd, 0);
        if (len > 0)
                write_all(fd, text, len);
        close(fd);
        char *got;
        size_t size;
        ck_assert_int_eq(tail_all(c, &f->config, lines, &got, &size), 0);
        ck_assert_msg(size == expected_len && (size == 0 || memcmp(got, expected, size) == 0),
                      "tail -n %u of \"%.*s\" gave \"%.*s\", expected \"%.*s\"", lines, (int)len, text, (int)size,
                      got ? got : "", (int)expected_len, expected);
        free(got);
}

#define ASSERT_TAIL(text, lines, expected) \
        assert_tail(&f, c, text, sizeof text - 1, lines, expected, sizeof expected - 1)

/* Which bytes the last N lines are. */
START_TEST(test_tail_lines_of_a_file) {
        struct fixture f;
        struct log_capture *c;
        fixture_init(&f);
        ck_assert_int_eq(log_capture_new("t", &c), 0);
        ASSERT_TAIL("a\nb\nc\nd\n", 2, "c\nd\n");
        ASSERT_TAIL("a\nb\nc\nd\n", 1, "d\n");
        ASSERT_TAIL("a\nb\nc\nd\n", 4, "a\nb\nc\nd\n");
        ASSERT_TAIL("a\nb\nc\nd\n", 5, "a\nb\nc\nd\n");
        ASSERT_TAIL("a\nb\nc\nd\n", 0, "");
        /* a last line without its newline is a line */
        ASSERT_TAIL("a\nb\nc", 1, "c");
        ASSERT_TAIL("a\nb\nc", 2, "b\nc");
        /* empty lines count */
        ASSERT_TAIL("a\n\n\nb\n", 2, "\nb\n");
        ASSERT_TAIL("\n\n\n", 2, "\n\n");
        ASSERT_TAIL("\n", 1, "\n");
        ASSERT_TAIL("no newline at all", 3, "no newline at all");
        ASSERT_TAIL("", 3, "");
        /* binary bytes are just bytes */
        ASSERT_TAIL("x\0\ny\0z\n", 1, "y\0z\n");
        ASSERT_TAIL("x\0\ny\0z\n", 2, "x\0\ny\0z\n");

        /* Lines longer than a step, and more of them than one step holds. */
        static char big[5 * LOG_TAIL_STEP + 10], want[3 * LOG_TAIL_STEP];
        size_t len = 0;
        for (int i = 0; len + 64 < sizeof big; i++)
                len += (size_t)snprintf(big + len, sizeof big - len, "%d %s\n", i, i % 7 ? "x" : "a longer line");
        big[len] = '\0';
        /* the last 1000 lines, found the slow way */
        const char *from = big + len - 1;
        for (int seen = 0; from > big; from--)
                if (from[-1] == '\n' && ++seen == 1000)
                        break;
        size_t want_len = (size_t)(big + len - from);
        ck_assert_uint_lt(want_len, sizeof want);
        memcpy(want, from, want_len);
        assert_tail(&f, c, big, len, 1000, want, want_len);
        /* one line of 70000 bytes */
        memset(big, 'y', sizeof big);
        big[70000] = '\n';
        assert_tail(&f, c, big, 70001, 1, big, 70001);
        assert_tail(&f, c, big, 70001, 2, big, 70001);
        log_capture_release(c);
        fixture_done(&f);
}
END_TEST

/* A rotation while a tail is read: the tail finds its files under their new names and
 * sends exactly the lines it began with. */
START_TEST(test_tail_across_a_rotation_meanwhile) {
        struct fixture f;
        struct log_capture *c;
        int out, err;
        fixture_init(&f);
        f.config.log_max_size = 4096;
        f.config.log_keep = 3;
        ck_assert_int_eq(log_capture_new("t", &c), 0);
        ck_assert_int_eq(log_capture_prepare(c, &f.config, &out, &err), 0);
        log_capture_spawned(c);
        char line[32];
        for (int i = 0; i < 400; i++) {  /* 6000 bytes: t.log.1 full, t.log 1904 */
                snprintf(line, sizeof line, "line %09d\n", i);
                write_all(out, line, 15);
        }
        run_loop(&f);
        ck_assert_int_eq(file_size(&f, "t.log.1"), 4096);

        static char step[LOG_TAIL_SCAN_STEP];
        struct log_tail *t;
        ck_assert_int_eq(log_tail_open(c, &f.config, STDOUT_FILENO, 300, &t), 0);
        bool done = false;
        /* the search, back into t.log.1 */
        for (int i = 0; i < 3 && !done; i++)
                ck_assert_int_eq(log_tail_read(t, step, LOG_TAIL_STEP, &done), 0);
        /* two rotations' worth of more lines, then the rest of the tail */
        for (int i = 400; i < 1000; i++) {
                snprintf(line, sizeof line, "line %09d\n", i);
                write_all(out, line, 15);
        }
        run_loop(&f);
        ck_assert_int_eq(file_size(&f, "t.log.3"), 4096);
        static char text[8192];
        size_t len = 0;
        while (!done) {
                ssize_t n = log_tail_read(t, step, LOG_TAIL_STEP, &done);
                ck_assert_int_ge(n, 0);
                ck_assert_uint_le(len + (size_t)n, sizeof text);
                memcpy(text + len, step, (size_t)n);
                len += (size_t)n;
        }
        log_tail_free(t);
        ck_assert_uint_eq(len, 300 * 15);
        for (int i = 0; i < 300; i++) {
                snprintf(line, sizeof line, "line %09d\n", 100 + i);
                ck_assert_int_eq(memcmp(text + i * 15, line, 15), 0);
        }
        log_capture_release(c);
        fixture_done(&f);
}
END_TEST

START_TEST(test_capture_rotation) {
        struct fixture f;
        struct log_capture *c;
        int out, err;
        fixture_init(&f);
        f.config.log_max_size = 4096;
        f.config.log_keep = 2;
        ck_assert_int_eq(log_capture_new("t", &c), 0);
        ck_assert_int_eq(log_capture_prepare(c, &f.config, &out, &err), 0);
        log_capture_spawned(c);

        /* 5 files' worth of numbered 16-byte lines: 1280 lines */
        char line[32];
        for (int i = 0; i < 1280; i++) {
                snprintf(line, sizeof line, "line %09d\n", i);
                write_all(out, line, 15);
                if (i % 100 == 0)
                        run_loop(&f);
        }
        run_loop(&f);
        /* every file is exactly log-max-size but the current one; only keep old ones */
        ck_assert_int_eq(file_size(&f, "t.log.1"), 4096);
        ck_assert_int_eq(file_size(&f, "t.log.2"), 4096);
        ck_assert_int_eq(file_size(&f, "t.log.3"), -1);
        ck_assert_int_eq(file_size(&f, "t.log"), 1280 * 15 - 4 * 4096);

        /* tail across the rotation: lines cut between files come out whole */
        char *text;
        size_t size;
        ck_assert_int_eq(tail_all(c, &f.config, 300, &text, &size), 0);
        ck_assert_uint_eq(size, 300 * 15);
        for (int i = 0; i < 300; i++) {
                snprintf(line, sizeof line, "line %09d\n", 980 + i);
                ck_assert_int_eq(memcmp(text + i * 15, line, 15), 0);
        }
        free(text);
        /* more than there is: everything kept, from the first whole line */
        ck_assert_int_eq(tail_all(c, &f.config, 100000, &text, &size), 0);
        size_t kept = 2 * 4096 + (1280 * 15 - 4 * 4096);
        ck_assert_uint_eq(size, kept);  /* all there is, the first line cut by the rotation too */
        free(text);
        ck_assert_int_eq(tail_all(c, &f.config, 0, &text, &size), 0);
        ck_assert_ptr_null(text);
        ck_assert_uint_eq(size, 0);

        /* a smaller log-keep drops the extra old files at the next rotation */
        f.config.log_keep = 1;
        ck_assert_int_eq(log_capture_prepare(c, &f.config, &out, &err), 0);
        log_capture_spawned(c);
        for (int i = 0; i < 400; i++)
                write_all(out, "0123456789abcd\n", 15);
        run_loop(&f);
        ck_assert_int_eq(file_size(&f, "t.log.1"), 4096);
        ck_assert_int_eq(file_size(&f, "t.log.2"), -1);

        /* log-keep = 0: the full file is dropped */
        f.config.log_keep = 0;
        ck_assert_int_eq(log_capture_prepare(c, &f.config, &out, &err), 0);
        log_capture_spawned(c);
        for (int i = 0; i < 400; i++)
                write_all(out, "0123456789abcd\n", 15);
        run_loop(&f);
        ck_assert_int_eq(file_size(&f, "t.log.1"), -1);
        ck_assert_int_lt(file_size(&f, "t.log"), 4096);
        log_capture_release(c);
        fixture_done(&f);
}
END_TEST

struct collected {
        char data[1 << 20];
        size_t size;
        bool ended;
};

static void collect(const char *data, size_t size, void *userdata) {
        struct collected *c = userdata;
        if (!data) {
                c->ended = true;
                return;
        }
        ck_assert_uint_le(c->size + size, sizeof c->data);
        memcpy(c->data + c->size, data, size);
        c->size += size;
}

START_TEST(test_capture_followers) {
        struct fixture f;
        struct log_capture *c;
        struct log_follower *first, *second;
        static struct collected a, b;
        int out, err;
        fixture_init(&f);
        f.config.log_max_size = 4096;
        ck_assert_int_eq(log_capture_new("t", &c), 0);
        ck_assert_int_eq(log_capture_prepare(c, &f.config, &out, &err), 0);
        log_capture_spawned(c);
        write_all(out, "before\n", 7);
        run_loop(&f);
        ck_assert_int_eq(log_capture_follow(c, &f.config, STDOUT_FILENO, collect, &a, &first), 0);
        ck_assert_int_eq(log_capture_follow(c, &f.config, STDOUT_FILENO, collect, &b, &second), 0);
        /* 100 KiB across many rotations reaches both, byte for byte */
        char chunk[1000];
        for (int i = 0; i < 100; i++) {
                memset(chunk, 'a' + i % 26, sizeof chunk);
                chunk[sizeof chunk - 1] = '\n';
                write_all(out, chunk, sizeof chunk);
                run_loop(&f);
        }
        ck_assert_uint_eq(a.size, 100000);
        ck_assert_uint_eq(b.size, 100000);
        ck_assert_int_eq(memcmp(a.data, b.data, a.size), 0);
        ck_assert_int_eq(a.data[0], 'a');
        ck_assert_int_eq(a.data[99999 - 1], 'a' + 99 % 26);
        /* one leaves, the other stays until the capture ends */
        log_follower_free(first);
        write_all(out, "x\n", 2);
        run_loop(&f);
        ck_assert_uint_eq(a.size, 100000);
        ck_assert_uint_eq(b.size, 100002);
        ck_assert(!b.ended);
        log_capture_release(c);
        ck_assert(b.ended);
        ck_assert(!a.ended);
        fixture_done(&f);
}
END_TEST

START_TEST(test_capture_null_inherit_no_file) {
        struct fixture f;
        struct log_capture *c;
        int out, err;
        fixture_init(&f);
        f.config.stdout_target = OUTPUT_NULL;
        f.config.stderr_target = OUTPUT_INHERIT;
        ck_assert_int_eq(log_capture_new("t", &c), 0);
        ck_assert_int_eq(log_capture_prepare(c, &f.config, &out, &err), 0);
        ck_assert_int_ge(out, 0);
        ck_assert_int_eq(err, -1);
        char link[64], target[64] = "";
        snprintf(link, sizeof link, "/proc/self/fd/%d", out);
        ck_assert_int_gt(readlink(link, target, sizeof target - 1), 0);
        ck_assert_str_eq(target, "/dev/null");
        log_capture_spawned(c);
        ck_assert_int_eq(fcntl(out, F_GETFD), -1);  /* closed after the spawn */
        ck_assert_int_eq(file_size(&f, "t.log"), -1);
        char *text;
        size_t size;
        ck_assert_int_eq(tail_all(c, &f.config, 10, &text, &size), -ENOENT);
        ck_assert_int_eq(log_capture_read(c, &f.config, STDOUT_FILENO, -10, 0, &text, &size, NULL), -ENOENT);
        log_capture_release(c);
        fixture_done(&f);
}
END_TEST

START_TEST(test_capture_journal_fallback) {
        struct fixture f;
        struct log_capture *c;
        int out, err;
        fixture_init(&f);
        if (access("/run/systemd/journal/stdout", F_OK) == 0) {
                /* a real journal: nothing to fall back from */
                fixture_done(&f);
                return;
        }
        f.config.stdout_target = OUTPUT_JOURNAL;
        ck_assert_int_eq(log_capture_new("t", &c), 0);
        ck_assert_int_eq(log_capture_prepare(c, &f.config, &out, &err), 0);
        ck_assert_int_ge(out, 0);
        ck_assert_int_eq(out, err);
        log_capture_spawned(c);
        ck_assert_ptr_nonnull(strstr(log_capture_problem(c), "journal unavailable"));
        write_all(out, "kept\n", 5);
        run_loop(&f);
        ck_assert_int_eq(file_size(&f, "t.log"), 5);
        log_capture_release(c);
        fixture_done(&f);
}
END_TEST

START_TEST(test_capture_unwritable_then_recovers) {
        struct fixture f;
        struct log_capture *c;
        int out, err;
        fixture_init(&f);
        /* log-dir is a file: nothing can be created in it */
        char blocker[128], path[160], buf[64];
        snprintf(blocker, sizeof blocker, "%s/blocker", f.dir);
        ck_assert_int_eq(close(open(blocker, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)), 0);
        ck_assert_int_eq(logs_set_directory(blocker, f.error, sizeof f.error), 0);
        ck_assert_int_eq(log_capture_new("t", &c), 0);
        ck_assert_int_eq(log_capture_prepare(c, &f.config, &out, &err), 0);
        log_capture_spawned(c);
        ck_assert_ptr_nonnull(strstr(log_capture_problem(c), "Not a directory"));
        write_all(out, "lost\n", 5);
        run_loop(&f);
        ck_assert_ptr_nonnull(strstr(log_capture_problem(c), "5 bytes dropped"));
        /* the pipe is drained meanwhile: the writer never blocks */
        char big[200000];
        memset(big, 'z', sizeof big);
        for (size_t done = 0; done < sizeof big; done += 10000) {
                write_all(out, big + done, 10000);
                run_loop(&f);
        }
        ck_assert_ptr_nonnull(strstr(log_capture_problem(c), "200005 bytes dropped"));

        /* space returns: the next output is written and the problem is gone */
        ck_assert_int_eq(unlink(blocker), 0);
        write_all(out, "back\n", 5);
        run_loop(&f);
        ck_assert_str_eq(log_capture_problem(c), "");
        snprintf(path, sizeof path, "%s/t.log", blocker);
        ck_assert_int_eq(read_text_file(path, buf, sizeof buf), 5);
        ck_assert_str_eq(buf, "back\n");
        log_capture_release(c);
        fixture_done(&f);
}
END_TEST

START_TEST(test_capture_reopen_and_directory) {
        struct fixture f;
        struct log_capture *c;
        int out, err;
        char path[160], moved[160], buf[64];
        fixture_init(&f);
        ck_assert_int_eq(log_capture_new("t", &c), 0);
        ck_assert_int_eq(log_capture_prepare(c, &f.config, &out, &err), 0);
        log_capture_spawned(c);
        write_all(out, "old\n", 4);
        run_loop(&f);
        snprintf(path, sizeof path, "%s/t.log", f.logs);
        snprintf(moved, sizeof moved, "%s/t.log.moved", f.logs);
        ck_assert_int_eq(rename(path, moved), 0);
        write_all(out, "still old\n", 10);  /* before the reopen: the moved file */
        run_loop(&f);
        logs_reopen_all();
        ck_assert_int_eq(file_size(&f, "t.log"), 0);
        write_all(out, "new\n", 4);
        run_loop(&f);
        ck_assert_int_eq(read_text_file(moved, buf, sizeof buf), 14);
        ck_assert_int_eq(read_text_file(path, buf, sizeof buf), 4);
        ck_assert_str_eq(buf, "new\n");

        /* a new log-dir takes effect at once */
        char other[128];
        snprintf(other, sizeof other, "%s/other", f.dir);
        ck_assert_int_eq(logs_set_directory(other, f.error, sizeof f.error), 0);
        write_all(out, "elsewhere\n", 10);
        run_loop(&f);
        snprintf(path, sizeof path, "%s/t.log", other);
        ck_assert_int_eq(read_text_file(path, buf, sizeof buf), 10);

        /* truncated behind our back (copytruncate): continued at the new end, no hole */
        ck_assert_int_eq(truncate(path, 0), 0);
        write_all(out, "after\n", 6);
        run_loop(&f);
        ck_assert_int_eq(read_text_file(path, buf, sizeof buf), 6);
        ck_assert_str_eq(buf, "after\n");
        log_capture_release(c);
        fixture_done(&f);
}
END_TEST

START_TEST(test_capture_release_drains) {
        struct fixture f;
        struct log_capture *c;
        int out, err;
        fixture_init(&f);
        ck_assert_int_eq(log_capture_new("t", &c), 0);
        ck_assert_int_eq(log_capture_prepare(c, &f.config, &out, &err), 0);
        log_capture_spawned(c);
        /* a grandchild keeps the pipe after the service is gone */
        int leftover = fcntl(out, F_DUPFD_CLOEXEC, 0);
        ck_assert_int_ge(leftover, 0);
        write_all(out, "first\n", 6);
        log_capture_release(c);  /* closes our write end, writes what is there */
        ck_assert_int_eq(file_size(&f, "t.log"), 6);
        write_all(leftover, "late\n", 5);
        run_loop(&f);
        ck_assert_int_eq(file_size(&f, "t.log"), 11);
        close(leftover);
        run_loop(&f);  /* end of file: the capture frees itself (ASan would see a leak) */
        fixture_done(&f);
}
END_TEST

/* The file is created by the first byte, wherever log-dir is by then; SIGUSR1 and a new
 * log-dir reopen the files that are open and create none for logs that are quiet. */
START_TEST(test_capture_file_made_by_first_byte) {
        struct fixture f;
        struct log_capture *quiet, *talker, *late;
        int quiet_out, talker_out, late_out, err;
        char path[160], buf[64], other[128];
        fixture_init(&f);
        ck_assert_int_eq(log_capture_new("quiet", &quiet), 0);
        ck_assert_int_eq(log_capture_new("talker", &talker), 0);
        ck_assert_int_eq(log_capture_new("late", &late), 0);
        ck_assert_int_eq(log_capture_prepare(quiet, &f.config, &quiet_out, &err), 0);
        log_capture_spawned(quiet);
        ck_assert_int_eq(log_capture_prepare(talker, &f.config, &talker_out, &err), 0);
        log_capture_spawned(talker);
        ck_assert_int_eq(log_capture_prepare(late, &f.config, &late_out, &err), 0);
        log_capture_spawned(late);
        write_all(talker_out, "hi\n", 3);
        run_loop(&f);
        ck_assert_int_eq(file_size(&f, "talker.log"), 3);

        logs_reopen_all();
        ck_assert_int_eq(file_size(&f, "quiet.log"), -1);
        ck_assert_int_eq(file_size(&f, "late.log"), -1);
        snprintf(other, sizeof other, "%s/other", f.dir);
        ck_assert_int_eq(logs_set_directory(other, f.error, sizeof f.error), 0);
        snprintf(path, sizeof path, "%s/talker.log", other);
        ck_assert_int_eq(read_text_file(path, buf, sizeof buf), 0);  /* reopened there at once */
        snprintf(path, sizeof path, "%s/quiet.log", other);
        ck_assert_int_eq(access(path, F_OK), -1);

        /* the first output after the move: in the new directory only */
        write_all(late_out, "late\n", 5);
        run_loop(&f);
        snprintf(path, sizeof path, "%s/late.log", other);
        ck_assert_int_eq(read_text_file(path, buf, sizeof buf), 5);
        ck_assert_int_eq(file_size(&f, "late.log"), -1);

        /* a quiet capture released and drained at end of file leaves no file behind */
        log_capture_release(quiet);
        run_loop(&f);
        snprintf(path, sizeof path, "%s/quiet.log", other);
        ck_assert_int_eq(access(path, F_OK), -1);
        log_capture_release(talker);
        log_capture_release(late);
        fixture_done(&f);
}
END_TEST

/* A log file left from before (supervisord restarted) is opened with the first chunk,
 * which may find it nearly full: the chunk is cut at log-max-size and the rest starts
 * the next file, through the copy path and the splice path alike. */
START_TEST(test_capture_first_chunk_fills_old_file) {
        struct fixture f;
        struct log_capture *c;
        int out, err;
        char path[160], data[8192];
        fixture_init(&f);
        f.config.log_max_size = 4096;
        f.config.log_keep = 2;
        snprintf(path, sizeof path, "%s/t.log", f.logs);
        int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0640);
        ck_assert_int_ge(fd, 0);
        memset(data, 'o', 4000);
        write_all(fd, data, 4000);
        close(fd);

        ck_assert_int_eq(log_capture_new("t", &c), 0);
        ck_assert_int_eq(log_capture_prepare(c, &f.config, &out, &err), 0);
        log_capture_spawned(c);
        memset(data, 'n', sizeof data);
        write_all(out, data, 200);
        run_loop(&f);
        ck_assert_int_eq(file_size(&f, "t.log.1"), 4096);
        ck_assert_int_eq(file_size(&f, "t.log"), 104);
        char *text;
        size_t size;
        ck_assert_int_eq(tail_all(c, &f.config, 1, &text, &size), 0);
        ck_assert_uint_eq(size, 4200);  /* one line without a newline: old bytes, then new */
        ck_assert_int_eq(text[3999], 'o');
        ck_assert_int_eq(text[4000], 'n');
        ck_assert_int_eq(text[4199], 'n');
        free(text);

        /* the file is open now: the next bytes are spliced, cut the same way */
        write_all(out, data, 8000);
        run_loop(&f);
        ck_assert_int_eq(file_size(&f, "t.log.2"), 4096);
        ck_assert_int_eq(file_size(&f, "t.log.1"), 4096);
        ck_assert_int_eq(file_size(&f, "t.log"), 104 + 8000 - 4096);
        log_capture_release(c);
        fixture_done(&f);
}
END_TEST

/* Reads by byte offset, as supervisord's readProcessStdoutLog: from an offset, for a
 * length or to the end; a negative offset counts from the end. */
START_TEST(test_capture_read_by_offset) {
        struct fixture f;
        struct log_capture *c;
        int out, err;
        char *text;
        size_t size;
        uint64_t file_size_seen;
        fixture_init(&f);
        ck_assert_int_eq(log_capture_new("t", &c), 0);
        /* Nothing written yet: empty, not an error. */
        ck_assert_int_eq(log_capture_read(c, &f.config, STDOUT_FILENO, 0, 0, &text, &size, &file_size_seen), 0);
        ck_assert_ptr_null(text);
        ck_assert_uint_eq(file_size_seen, 0);
        ck_assert_int_eq(log_capture_prepare(c, &f.config, &out, &err), 0);
        log_capture_spawned(c);
        write_all(out, "0123456789abcdef\n", 17);
        run_loop(&f);

        ck_assert_int_eq(log_capture_read(c, &f.config, STDOUT_FILENO, 0, 0, &text, &size, &file_size_seen), 0);
        ck_assert_uint_eq(size, 17);
        ck_assert_uint_eq(file_size_seen, 17);
        ck_assert_int_eq(memcmp(text, "0123456789abcdef\n", 17), 0);
        free(text);
        ck_assert_int_eq(log_capture_read(c, &f.config, STDOUT_FILENO, 3, 4, &text, &size, NULL), 0);
        ck_assert_uint_eq(size, 4);
        ck_assert_int_eq(memcmp(text, "3456", 4), 0);
        free(text);
        ck_assert_int_eq(log_capture_read(c, &f.config, STDOUT_FILENO, 14, 100, &text, &size, NULL), 0);
        ck_assert_uint_eq(size, 3);
        ck_assert_int_eq(memcmp(text, "ef\n", 3), 0);
        free(text);
        ck_assert_int_eq(log_capture_read(c, &f.config, STDOUT_FILENO, -5, 0, &text, &size, NULL), 0);
        ck_assert_uint_eq(size, 5);
        ck_assert_int_eq(memcmp(text, "cdef\n", 5), 0);
        free(text);
        /* More from the end than there is: all of it. */
        ck_assert_int_eq(log_capture_read(c, &f.config, STDOUT_FILENO, -1000, 0, &text, &size, NULL), 0);
        ck_assert_uint_eq(size, 17);
        free(text);
        /* Past the end: empty, with the size to ask from next time. */
        ck_assert_int_eq(log_capture_read(c, &f.config, STDOUT_FILENO, 17, 0, &text, &size, &file_size_seen), 0);
        ck_assert_ptr_null(text);
        ck_assert_uint_eq(size, 0);
        ck_assert_uint_eq(file_size_seen, 17);
        ck_assert_int_eq(log_capture_read(c, &f.config, STDOUT_FILENO, 500, 10, &text, &size, NULL), 0);
        ck_assert_uint_eq(size, 0);
        /* From the end with a length is not a request supervisord answers either. */
        ck_assert_int_eq(log_capture_read(c, &f.config, STDOUT_FILENO, -5, 2, &text, &size, NULL), -EINVAL);

        /* The file of each stream: one file for both when stderr goes with stdout. */
        char path[256], expected[256];
        snprintf(expected, sizeof expected, "%s/t.log", f.logs);
        ck_assert_int_eq(log_capture_file(c, &f.config, 1, path, sizeof path), 0);
        ck_assert_str_eq(path, expected);
        ck_assert_int_eq(log_capture_file(c, &f.config, 2, path, sizeof path), 0);
        ck_assert_str_eq(path, expected);
        f.config.stderr_target = OUTPUT_NULL;
        ck_assert_int_eq(log_capture_file(c, &f.config, 2, path, sizeof path), -ENOENT);
        f.config.stdout_target = OUTPUT_JOURNAL;
        f.config.stderr_target = OUTPUT_LOG;
        ck_assert_int_eq(log_capture_file(c, &f.config, 1, path, sizeof path), -ENOENT);
        ck_assert_int_eq(log_capture_file(c, &f.config, 2, path, sizeof path), 0);
        log_capture_release(c);
        fixture_done(&f);
}
END_TEST

/* Each stream's reads: stderr sent with stdout reads the shared file; a stream that goes
 * elsewhere has no file to read, tail or follow. */
START_TEST(test_capture_read_per_stream) {
        struct fixture f;
        struct log_capture *c;
        struct log_follower *follower;
        struct log_tail *t;
        static struct collected got;
        int out, err;
        char *text;
        size_t size;
        fixture_init(&f);
        ck_assert_int_eq(log_capture_new("t", &c), 0);
        ck_assert_int_eq(log_capture_prepare(c, &f.config, &out, &err), 0);
        log_capture_spawned(c);
        ck_assert_int_eq(log_capture_follow(c, &f.config, STDERR_FILENO, collect, &got, &follower), 0);
        write_all(out, "shared\n", 7);
        run_loop(&f);
        ck_assert_uint_eq(got.size, 7);
        ck_assert_int_eq(log_capture_read(c, &f.config, STDERR_FILENO, -100, 0, &text, &size, NULL), 0);
        ck_assert_uint_eq(size, 7);
        ck_assert_int_eq(memcmp(text, "shared\n", 7), 0);
        free(text);
        ck_assert_int_eq(log_capture_read(c, &f.config, 3, 0, 0, &text, &size, NULL), -EINVAL);
        log_follower_free(follower);

        f.config.stderr_target = OUTPUT_NULL;
        ck_assert_int_eq(log_capture_read(c, &f.config, STDERR_FILENO, 0, 0, &text, &size, NULL), -ENOENT);
        ck_assert_int_eq(log_tail_open(c, &f.config, STDERR_FILENO, 10, &t), -ENOENT);
        ck_assert_int_eq(log_capture_follow(c, &f.config, STDERR_FILENO, collect, &got, &follower), -ENOENT);
        ck_assert_int_eq(log_capture_read(c, &f.config, STDOUT_FILENO, 0, 0, &text, &size, NULL), 0);
        ck_assert_uint_eq(size, 7);
        free(text);

        /* Only stderr to the file: stdout has none, even though NAME.log exists. */
        f.config.stdout_target = OUTPUT_NULL;
        f.config.stderr_target = OUTPUT_LOG;
        ck_assert_int_eq(log_capture_read(c, &f.config, STDOUT_FILENO, 0, 0, &text, &size, NULL), -ENOENT);
        ck_assert_int_eq(log_capture_read(c, &f.config, STDERR_FILENO, 0, 0, &text, &size, NULL), 0);
        ck_assert_uint_eq(size, 7);
        free(text);
        log_capture_release(c);
        fixture_done(&f);
}
END_TEST

static Suite *logfile_suite(void) {
        Suite *s = suite_create("logfile");
        TCase *tc = tcase_create("pure");
        tcase_add_test(tc, test_file_path);
        suite_add_tcase(s, tc);

        tc = tcase_create("config");
        tcase_add_test(tc, test_config_defaults);
        tcase_add_test(tc, test_config_values);
        tcase_add_test(tc, test_config_errors);
        tcase_add_test(tc, test_config_change_detection);
        suite_add_tcase(s, tc);

        tc = tcase_create("capture");
        tcase_set_timeout(tc, 30);
        tcase_add_test(tc, test_capture_writes_file);
        tcase_add_test(tc, test_capture_read_by_offset);
        tcase_add_test(tc, test_capture_rotation);
        tcase_add_test(tc, test_tail_lines_of_a_file);
        tcase_add_test(tc, test_tail_across_a_rotation_meanwhile);
        tcase_add_test(tc, test_capture_followers);
        tcase_add_test(tc, test_capture_null_inherit_no_file);
        tcase_add_test(tc, test_capture_journal_fallback);
        tcase_add_test(tc, test_capture_unwritable_then_recovers);
        tcase_add_test(tc, test_capture_reopen_and_directory);
        tcase_add_test(tc, test_capture_release_drains);
        tcase_add_test(tc, test_capture_file_made_by_first_byte);
        tcase_add_test(tc, test_capture_first_chunk_fills_old_file);
        tcase_add_test(tc, test_capture_read_per_stream);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return run_suite(logfile_suite()) ? 1 : 0;
}
