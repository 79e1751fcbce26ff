/* test_mainlog.c — supervisord's main log (`log-file`) through the real daemon: the
 * state-change lines worded as Python supervisord's, in its line format, after a
 * spawn, exit, fatal and stop cycle; the copy to stdout in the foreground; rotation by
 * log-file-max-size and log-file-keep; /dev/stdout as the target with a pipe as stdout
 * (rotation off by itself, where Python supervisord dies of "Illegal seek"); a pipe nobody
 * reads, which must not stop the daemon (lost lines counted, then said); a child's output
 * copied in at log-level debug; SIGUSR1 after an external mv; a symbolic link refused;
 * the control protocol's readlog (by byte offset), clearlog, and clear of processes' logs. */
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static char file_text[1 << 20];

static const char *main_log(const struct daemon *d, unsigned index, char *buf, size_t size) {
        if (index)
                snprintf(buf, size, "%s/main.log.%u", d->dir, index);
        else
                snprintf(buf, size, "%s/main.log", d->dir);
        return buf;
}

static bool file_contains(const char *path, const char *needle) {
        return read_text_file(path, file_text, sizeof file_text) >= 0 && strstr(file_text, needle);
}

static long long size_of(const char *path) {
        struct stat st;
        return stat(path, &st) < 0 ? -1 : (long long)st.st_size;
}

/* Every line of TEXT begins as Python supervisord's file log writes it, or continues a
 * child's output copied in at debug (which follows a "... output:" line). */
static void assert_line_format(const char *text) {
        regex_t re;
        ck_assert_int_eq(regcomp(&re, "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2},[0-9]{3} "
                                      "(CRIT|ERRO|WARN|INFO|DEBG) [^ ]",
                                 REG_EXTENDED | REG_NOSUB), 0);
        bool in_output = false;
        for (const char *line = text; *line;) {
                const char *end = strchr(line, '\n');
                size_t len = end ? (size_t)(end - line) : strlen(line);
                char copy[4200];
                snprintf(copy, sizeof copy, "%.*s", (int)(len < sizeof copy - 1 ? len : sizeof copy - 1), line);
                bool ok = regexec(&re, copy, 0, NULL, 0) == 0;
                if (ok)
                        in_output = strstr(copy, " output:") != NULL;
                ck_assert_msg(ok || in_output, "line not in supervisord's format: '%s'", copy);
                line += len + (end ? 1 : 0);
        }
        regfree(&re);
}

START_TEST(state_change_lines) {
        struct daemon d;
        daemon_init(&d);
        daemon_write_config(&d,
                            "log-file = %s/main.log\n"
                            "service ok { command = \"/bin/sleep 300\" }\n"
                            "service bad { command = \"/bin/sh -c 'exit 1'\"\n start-retries = 2\n restart-delay = 0.1 }\n",
                            d.dir);
        daemon_start(&d);
        char path[256], out[4096], needle[256];
        main_log(&d, 0, path, sizeof path);
        ASSERT_STATE_WITHIN(&d, "ok", "RUNNING", SOON_MS);
        ASSERT_STATE_WITHIN(&d, "bad", "FATAL", SOON_MS);
        snprintf(needle, sizeof needle, " INFO spawned: 'ok' with pid %d\n", (int)service_pid_of(&d, "ok"));
        ASSERT_WITHIN_MSG(file_contains(path, needle), SOON_MS, "%.4000s", file_text);
        ck_assert_msg(file_contains(path, " INFO success: ok entered RUNNING state, process has stayed up for > than 1 "
                                          "seconds (startsecs)\n"), "%s", file_text);
        ck_assert_msg(file_contains(path, " WARN exited: bad (exit status 1; not expected)\n"), "%s", file_text);
        ck_assert_msg(file_contains(path, " INFO gave up: bad entered FATAL state, too many start retries too quickly\n"),
                      "%s", file_text);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "stop ok"), 0);
        ck_assert_msg(file_contains(path, " INFO waiting for ok to stop\n"), "%s", file_text);
        ASSERT_WITHIN_MSG(file_contains(path, " WARN stopped: ok (terminated by SIGTERM)\n"), SOON_MS, "%.4000s", file_text);
        ck_assert_int_eq(daemon_stop(&d, SOON_MS), 0);
        ck_assert_msg(file_contains(path, " WARN received SIGTERM indicating exit request\n"), "%s", file_text);
        /* the order of one process's story */
        const char *spawned = strstr(file_text, "spawned: 'ok'"), *success = strstr(file_text, "success: ok"),
                   *waiting = strstr(file_text, "waiting for ok"), *stopped = strstr(file_text, "stopped: ok");
        ck_assert_msg(spawned < success && success < waiting && waiting < stopped, "out of order:\n%s", file_text);
        assert_line_format(file_text);
        /* In the foreground, with no log-target chosen: stdout gets the same lines (as
         * Python supervisord's nodaemon), and the stderr format is not used. */
        char log[1 << 16];
        ck_assert_int_ge(read_text_file(d.log, log, sizeof log), 0);
        ck_assert_msg(strstr(log, " WARN stopped: ok (terminated by SIGTERM)\n"), "stdout: %s", log);
        ck_assert_msg(!strstr(log, "supervisord["), "the stderr format in: %s", log);
        daemon_cleanup(&d);
}
END_TEST

/* A service writing a line every few milliseconds: at log-level debug (the harness's)
 * each chunk is copied into the main log. */
#define CHATTY "service chatty { command = \"/bin/sh -c 'i=0; while :; do i=$((i+1)); " \
               "echo chatty line $i padding padding padding padding padding; sleep 0.005; done'\" }\n"

START_TEST(rotation_by_size) {
        struct daemon d;
        daemon_init(&d);
        daemon_write_config(&d, "log-file = %s/main.log\nlog-file-max-size = 4096\nlog-file-keep = 2\n" CHATTY, d.dir);
        daemon_start(&d);
        char path[256], one[256], two[256], three[256];
        main_log(&d, 0, path, sizeof path);
        main_log(&d, 1, one, sizeof one);
        main_log(&d, 2, two, sizeof two);
        main_log(&d, 3, three, sizeof three);
        ASSERT_WITHIN(size_of(two) > 0, SOON_MS);
        /* The next rotation after FILE.2 exists drops the oldest: still no FILE.3. */
        long long first = size_of(two);
        (void)first;
        ck_assert_msg(file_contains(one, "'chatty' stdout output:\nchatty line"), "%s", file_text);
        ASSERT_WITHIN(!file_contains(two, "chatty line 1 ") && size_of(two) > 0, SOON_MS);
        ck_assert_int_eq(size_of(three), -1);
        /* Rotated once a line takes it to max size: no file much over it. */
        ck_assert_int_ge(size_of(one), 4096);
        ck_assert_int_lt(size_of(one), 4096 + 4096);
        ck_assert_int_lt(size_of(path), 4096 + 4096);
        ck_assert_int_eq(daemon_stop(&d, SOON_MS), 0);
        ck_assert_int_eq(size_of(three), -1);
        daemon_cleanup(&d);
}
END_TEST

/* Make d.log a FIFO that this test reads: the daemon's stdout and stderr are a pipe. */
static int pipe_as_stdout(struct daemon *d) {
        ck_assert_int_eq(mkfifo(d->log, 0600), 0);
        int fd = open(d->log, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        return fd;
}

/* Append what the pipe has to BUF (NUL-terminated, at most SIZE); returns the total. */
static size_t drain(int fd, char *buf, size_t *len, size_t size) {
        for (;;) {
                char chunk[65536];
                ssize_t n = read(fd, chunk, sizeof chunk);
                if (n <= 0)
                        break;
                size_t room = size - 1 - *len;
                size_t take = (size_t)n < room ? (size_t)n : room;
                memcpy(buf + *len, chunk, take);
                *len += take;
                buf[*len] = '\0';
        }
        return *len;
}

static char piped[4 << 20];

static const char *chatty_log(const struct daemon *d) {
        static char path[256];
        snprintf(path, sizeof path, "%s/logs/chatty.log", d->dir);
        return path;
}

static const char *wchan_of(pid_t pid) {
        static char buf[128], path[64];
        snprintf(path, sizeof path, "/proc/%d/wchan", (int)pid);
        if (read_text_file(path, buf, sizeof buf) < 0)
                snprintf(buf, sizeof buf, "?");
        return buf;
}

START_TEST(stdout_pipe_never_rotated) {
        struct daemon d;
        daemon_init(&d);
        int fd = pipe_as_stdout(&d);
        /* A max size that a file would reach at once: a stream must ignore it. */
        daemon_write_config(&d, "log-file = /dev/stdout\nlog-file-max-size = 4096\nlog-file-keep = 1\n" CHATTY);
        daemon_start(&d);
        size_t len = 0;
        /* More than the max size, many times over (a reader slower than the daemon may
         * see lines dropped: the count of what arrived is no figure to test). */
        ASSERT_WITHIN_MSG(drain(fd, piped, &len, sizeof piped) > 4 * 4096 && strstr(piped, "'chatty' stdout output:"),
                          SOON_MS,
                          "%zu bytes, daemon in %s, chatty.log %lld, chatty in %s", len, wchan_of(d.pid),
                          size_of(chatty_log(&d)), wchan_of(service_pid_of(&d, "chatty")));
        ck_assert_msg(strstr(piped, "spawned: 'chatty' with pid"), "%.2000s", piped);
        ck_assert_msg(strstr(piped, "success: chatty entered RUNNING state"), "%.2000s", piped);
        ck_assert_int_eq(kill(d.pid, 0), 0);
        char out[4096];
        ck_assert_int_eq(ctl(&d, out, sizeof out, "status chatty"), 0);
        ck_assert_int_eq(daemon_stop(&d, SOON_MS), 0);
        drain(fd, piped, &len, sizeof piped);
        ck_assert_msg(strstr(piped, "received SIGTERM indicating exit request"), "%.2000s", piped + len - 2000);
        close(fd);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(full_pipe_does_not_block) {
        struct daemon d;
        daemon_init(&d);
        int fd = pipe_as_stdout(&d);
        daemon_write_config(&d, "log-file = -\n" CHATTY);
        daemon_start(&d);
        /* Nobody reads, and the test fills what room is left: the daemon's next line
         * finds the pipe full. */
        int writer = open(d.log, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        ck_assert_int_ge(writer, 0);
        static char filler[4096];
        memset(filler, '.', sizeof filler);
        while (write(writer, filler, sizeof filler) > 0 || write(writer, filler, 1) > 0)
                ;
        ck_assert_int_eq(errno, EAGAIN);
        char path[256];
        snprintf(path, sizeof path, "%s/logs/chatty.log", d.dir);
        long long before = size_of(path);
        /* The chatty service goes on being logged, and copied (or dropped) at debug. */
        ASSERT_WITHIN(size_of(path) > before + 10000, SOON_MS);
        /* The loop goes on: requests are answered, the service is supervised. */
        char out[4096];
        for (int i = 0; i < 5; i++)
                ck_assert_int_eq(ctl(&d, out, sizeof out, "status chatty"), 0);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "restart chatty"), 0);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "status chatty"), 0);
        /* Read again: what was dropped meanwhile is counted in a line of its own. */
        size_t len = 0;
        ASSERT_WITHIN(drain(fd, piped, &len, sizeof piped) > 0 && strstr(piped, " log lines lost: "), SOON_MS);
        ck_assert_int_eq(daemon_stop(&d, SOON_MS), 0);
        close(writer);
        close(fd);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(reopen_after_move) {
        struct daemon d;
        daemon_init(&d);
        daemon_write_config(&d, "log-file = %s/main.log\nservice s { command = \"/bin/sleep 300\" }\n", d.dir);
        daemon_start(&d);
        char path[256], moved[256], out[1024];
        main_log(&d, 0, path, sizeof path);
        snprintf(moved, sizeof moved, "%s/main.log.old", d.dir);
        ASSERT_STATE_WITHIN(&d, "s", "RUNNING", SOON_MS);
        ck_assert_int_eq(rename(path, moved), 0);
        ck_assert_int_eq(kill(d.pid, SIGUSR1), 0);
        ASSERT_WITHIN(size_of(path) >= 0, SOON_MS);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "stop s"), 0);
        ASSERT_WITHIN(file_contains(path, "stopped: s (terminated by SIGTERM)"), SOON_MS);
        ck_assert_msg(!file_contains(moved, "stopped: s"), "written to the moved file");
        ck_assert_msg(file_contains(moved, "success: s entered RUNNING"), "%s", file_text);
        ck_assert_int_eq(daemon_stop(&d, SOON_MS), 0);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(symlink_refused) {
        struct daemon d;
        daemon_init(&d);
        char link_path[256], target[256], cmd[1024], out[4096];
        snprintf(link_path, sizeof link_path, "%s/main.log", d.dir);
        snprintf(target, sizeof target, "%s/elsewhere", d.dir);
        ck_assert_int_eq(symlink(target, link_path), 0);
        daemon_write_config(&d, "log-file = %s\n", link_path);
        snprintf(cmd, sizeof cmd, "%s", d.conf);
        char *argv[] = { (char *)supervisord_path(), "-n", "-c", cmd, NULL };
        int status = run_capture(argv, out, sizeof out);
        ck_assert_int_eq(status, 1);
        ck_assert_msg(strstr(out, "log-file: ") && strstr(out, "symbolic link"), "%s", out);
        ck_assert_int_eq(size_of(target), -1);
        daemon_cleanup(&d);
}
END_TEST

/* One request on the control socket, the whole answer (up to EOF) in OUT; its length. */
static size_t request(const struct daemon *d, const char *line, char *out, size_t size) {
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ck_assert_int_ge(fd, 0);
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        ck_assert_uint_lt(strlen(d->sock), sizeof addr.sun_path);
        memcpy(addr.sun_path, d->sock, strlen(d->sock) + 1);
        ck_assert_int_eq(connect(fd, (struct sockaddr *)&addr, sizeof addr), 0);
        ck_assert_int_eq(write(fd, line, strlen(line)), (ssize_t)strlen(line));
        size_t len = 0;
        long long deadline = now_ms() + SOON_MS;
        while (len + 1 < size && now_ms() < deadline) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                if (poll(&p, 1, 100) <= 0)
                        continue;
                ssize_t n = read(fd, out + len, size - 1 - len);
                if (n <= 0)
                        break;
                len += (size_t)n;
        }
        out[len] = '\0';
        close(fd);
        return len;
}

static char answer[1 << 20];

/* "LOGSIZE\tN\n[DATA\tK\n<K bytes>]OK\n": the bytes into DATA (NUL-terminated), N returned. */
static long long read_answer(const struct daemon *d, const char *line, char *data, size_t size) {
        size_t len = request(d, line, answer, sizeof answer);
        long long file_size = -1;
        size_t k = 0;
        int used = 0;
        /* (no \n in the formats: it would skip the data's own leading white space) */
        ck_assert_msg(sscanf(answer, "LOGSIZE\t%lld%n", &file_size, &used) == 1 && answer[used] == '\n',
                      "answer: %.300s", answer);
        data[0] = '\0';
        const char *rest = answer + used + 1;
        if (strncmp(rest, "DATA\t", 5) == 0) {
                ck_assert_int_eq(sscanf(rest, "DATA\t%zu%n", &k, &used), 1);
                ck_assert_int_eq(rest[used], '\n');
                rest += used + 1;
                ck_assert_uint_le(k, size - 1);
                ck_assert_uint_le((size_t)(rest - answer) + k, len);
                memcpy(data, rest, k);
                data[k] = '\0';
                rest += k;
        }
        ck_assert_msg(strcmp(rest, "OK\n") == 0, "answer ends: %.300s", rest);
        return file_size;
}

static long long readlog(const struct daemon *d, const char *args, char *data, size_t size) {
        char line[128];
        snprintf(line, sizeof line, "readlog %s\n", args);
        return read_answer(d, line, data, size);
}

static char data[1 << 20];

/* A follow request on its own connection, left open; what it has sent so far is read
 * into FOLLOWED by follow_read(). */
static char followed[1 << 16];
static size_t followed_len;

static int follow_open(const struct daemon *d, const char *line) {
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ck_assert_int_ge(fd, 0);
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        memcpy(addr.sun_path, d->sock, strlen(d->sock) + 1);
        ck_assert_int_eq(connect(fd, (struct sockaddr *)&addr, sizeof addr), 0);
        ck_assert_int_eq(write(fd, line, strlen(line)), (ssize_t)strlen(line));
        followed_len = 0;
        followed[0] = '\0';
        return fd;
}

static bool follow_read(int fd, const char *needle) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        while (followed_len + 1 < sizeof followed && poll(&p, 1, 0) > 0) {
                ssize_t n = read(fd, followed + followed_len, sizeof followed - 1 - followed_len);
                if (n <= 0)
                        break;
                followed_len += (size_t)n;
                followed[followed_len] = '\0';
        }
        return strstr(followed, needle) != NULL;
}

START_TEST(readlog_and_clearlog) {
        struct daemon d;
        daemon_init(&d);
        daemon_write_config(&d, "log-file = %s/main.log\nservice s { command = \"/bin/sleep 300\" }\n", d.dir);
        daemon_start(&d);
        char path[256];
        main_log(&d, 0, path, sizeof path);
        ASSERT_WITHIN(file_contains(path, "success: s entered RUNNING"), SOON_MS);
        long long size = readlog(&d, "0", data, sizeof data);
        ck_assert_int_ge(size, (long long)strlen(data));
        ck_assert_int_eq(read_text_file(path, file_text, sizeof file_text) >= (ssize_t)strlen(data), 1);
        ck_assert_int_eq(strncmp(file_text, data, strlen(data)), 0);
        ck_assert_msg(strstr(data, "spawned: 's' with pid"), "%.2000s", data);
        readlog(&d, "10 5", data, sizeof data);
        ck_assert_uint_eq(strlen(data), 5);
        ck_assert_int_eq(strncmp(data, file_text + 10, 5), 0);
        /* the last 30 bytes, and nothing past the end */
        size = readlog(&d, "-30", data, sizeof data);
        ck_assert_uint_eq(strlen(data), 30);
        ck_assert_int_eq(readlog(&d, "100000000", data, sizeof data) >= 0, 1);
        ck_assert_str_eq(data, "");
        request(&d, "readlog -5 5\n", answer, sizeof answer);
        ck_assert_msg(strncmp(answer, "ERROR\t2\t", 8) == 0, "%s", answer);
        /* clearlog empties it; later lines begin at its start */
        request(&d, "clearlog\n", answer, sizeof answer);
        ck_assert_str_eq(answer, "OK\n");
        char out[1024];
        ck_assert_int_eq(ctl(&d, out, sizeof out, "stop s"), 0);
        ASSERT_WITHIN(file_contains(path, "stopped: s"), SOON_MS);
        ck_assert_msg(!strstr(file_text, "spawned: 's'"), "not cleared: %.2000s", file_text);
        ck_assert_int_eq(strncmp(file_text, "20", 2), 0);
        ck_assert_int_eq(daemon_stop(&d, SOON_MS), 0);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(readlog_without_file) {
        struct daemon d;
        daemon_init(&d);
        daemon_write_config(&d, "service s { command = \"/bin/sleep 300\" }\n");
        daemon_start(&d);
        request(&d, "readlog 0\n", answer, sizeof answer);
        ck_assert_msg(strncmp(answer, "ERROR\t1\tno main log file", 24) == 0, "%s", answer);
        request(&d, "clearlog\n", answer, sizeof answer);
        ck_assert_msg(strncmp(answer, "ERROR\t1\tno main log file", 24) == 0, "%s", answer);
        ck_assert_int_eq(daemon_stop(&d, SOON_MS), 0);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(clear_process_logs) {
        struct daemon d;
        daemon_init(&d);
        daemon_write_config(&d,
                            "service tick { command = \"/bin/sh -c 'i=0; while :; do i=$((i+1)); echo tick $i; "
                            "sleep 0.1; done'\" }\n"
                            "service quiet { command = \"/bin/sleep 300\"\n stdout = null }\n");
        daemon_start(&d);
        char path[256];
        snprintf(path, sizeof path, "%s/logs/tick.log", d.dir);
        ASSERT_WITHIN(file_contains(path, "tick 3\n"), SOON_MS);
        request(&d, "clear tick\n", answer, sizeof answer);
        ck_assert_str_eq(answer, "RESULT\ttick\tok\tcleared\nOK\n");
        /* emptied, and written again from its start, not at the old offset (no hole) */
        ASSERT_WITHIN(file_contains(path, "tick "), SOON_MS);
        ck_assert_msg(!strstr(file_text, "tick 1\n") && file_text[0] == 't', "%.300s", file_text);
        request(&d, "clear all\n", answer, sizeof answer);
        ck_assert_msg(strstr(answer, "RESULT\ttick\tok\tcleared\n") && strstr(answer, "RESULT\tquiet\terror\tno log file\n")
                              && strstr(answer, "ERROR\t1\t1 log could not be cleared\n"),
                      "%s", answer);
        request(&d, "clear nosuch\n", answer, sizeof answer);
        ck_assert_msg(strncmp(answer, "ERROR\t4\t", 8) == 0, "%s", answer);
        request(&d, "clear\n", answer, sizeof answer);
        ck_assert_msg(strncmp(answer, "ERROR\t2\t", 8) == 0, "%s", answer);
        ck_assert_int_eq(daemon_stop(&d, SOON_MS), 0);
        daemon_cleanup(&d);
}
END_TEST

/* readproclog: a process's log by byte offset, per stream, and followed. */
START_TEST(readproclog_by_offset_and_follow) {
        struct daemon d;
        daemon_init(&d);
        daemon_write_config(&d,
                            "service both { command = \"/bin/sh -c 'echo out; echo err >&2; exec sleep 300'\" }\n"
                            "service noerr { command = \"/bin/sh -c 'echo only; exec sleep 300'\"\n stderr = null }\n"
                            "service tick { command = \"/bin/sh -c 'i=0; while :; do i=$((i+1)); echo tick $i; "
                            "sleep 0.1; done'\" }\n");
        daemon_start(&d);
        char path[256];
        snprintf(path, sizeof path, "%s/logs/both.log", d.dir);
        ASSERT_WITHIN(file_contains(path, "err\n"), SOON_MS);
        ck_assert_int_eq(read_answer(&d, "readproclog both stdout 0\n", data, sizeof data), 8);
        ck_assert_str_eq(data, "out\nerr\n");
        /* stderr goes with stdout: the same file */
        ck_assert_int_eq(read_answer(&d, "readproclog both stderr -4\n", data, sizeof data), 8);
        ck_assert_str_eq(data, "err\n");
        read_answer(&d, "readproclog both stdout 1 2\n", data, sizeof data);
        ck_assert_str_eq(data, "ut");
        read_answer(&d, "readproclog both stdout 100\n", data, sizeof data);
        ck_assert_str_eq(data, "");
        snprintf(path, sizeof path, "%s/logs/noerr.log", d.dir);
        ASSERT_WITHIN(file_contains(path, "only\n"), SOON_MS);
        read_answer(&d, "readproclog noerr stdout -100\n", data, sizeof data);
        ck_assert_str_eq(data, "only\n");
        request(&d, "readproclog noerr stderr 0\n", answer, sizeof answer);
        ck_assert_msg(strncmp(answer, "ERROR\t1\tno log file: noerr sends stderr to null", 47) == 0, "%s", answer);
        request(&d, "readproclog nosuch stdout 0\n", answer, sizeof answer);
        ck_assert_msg(strncmp(answer, "ERROR\t4\t", 8) == 0, "%s", answer);
        request(&d, "readproclog both stdout -1 1\n", answer, sizeof answer);
        ck_assert_msg(strncmp(answer, "ERROR\t2\t", 8) == 0, "%s", answer);

        /* follow: the last bytes, then each line as it is written, the connection open */
        snprintf(path, sizeof path, "%s/logs/tick.log", d.dir);
        ASSERT_WITHIN(file_contains(path, "tick 2\n"), SOON_MS);
        int fd = follow_open(&d, "readproclog tick stdout -7 follow\n");
        ASSERT_WITHIN_MSG(follow_read(fd, "LOGSIZE\t"), SOON_MS, "%.4000s", followed);
        char *at = strstr(followed, "tick ");
        ck_assert_ptr_nonnull(at);
        int first = atoi(at + 5);
        char next[32];
        snprintf(next, sizeof next, "tick %d\n", first + 3);
        ASSERT_WITHIN_MSG(follow_read(fd, next), SOON_MS, "%.4000s", followed);
        for (int i = first; i <= first + 3; i++) {
                snprintf(next, sizeof next, "tick %d\n", i);
                ck_assert_msg(strstr(followed, next), "%d missing: %s", i, followed);
        }
        ck_assert_msg(!strstr(followed, "OK\n"), "%s", followed);
        close(fd);

        /* no main log file to follow */
        request(&d, "readlog -10 follow\n", answer, sizeof answer);
        ck_assert_msg(strncmp(answer, "ERROR\t1\tno main log file", 24) == 0, "%s", answer);
        ck_assert_int_eq(daemon_stop(&d, SOON_MS), 0);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(readlog_follow) {
        struct daemon d;
        daemon_init(&d);
        daemon_write_config(&d, "log-file = %s/main.log\nservice s { command = \"/bin/sleep 300\"\n autostart = false }\n",
                            d.dir);
        daemon_start(&d);
        int fd = follow_open(&d, "readlog -1600 follow\n");
        ASSERT_WITHIN_MSG(follow_read(fd, "LOGSIZE\t"), SOON_MS, "%.4000s", followed);
        char out[1024];
        ck_assert_int_eq(ctl(&d, out, sizeof out, "start s"), 0);
        ASSERT_WITHIN_MSG(follow_read(fd, "success: s entered RUNNING"), SOON_MS, "%.4000s", followed);
        ck_assert_msg(strstr(followed, "spawned: 's' with pid"), "%s", followed);
        ck_assert_msg(!strstr(followed, "OK\n"), "%s", followed);
        /* it ends, with OK, when supervisord stops */
        kill(d.pid, SIGTERM);
        ASSERT_WITHIN_MSG(follow_read(fd, "\nOK\n"), SOON_MS, "%.4000s", followed);
        close(fd);
        ck_assert_int_eq(daemon_stop(&d, SOON_MS), 0);
        daemon_cleanup(&d);
}
END_TEST

static Suite *mainlog_suite(void) {
        Suite *s = suite_create("mainlog");
        TCase *tc = tcase_create("mainlog");
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, state_change_lines);
        tcase_add_test(tc, rotation_by_size);
        tcase_add_test(tc, stdout_pipe_never_rotated);
        tcase_add_test(tc, full_pipe_does_not_block);
        tcase_add_test(tc, reopen_after_move);
        tcase_add_test(tc, symlink_refused);
        tcase_add_test(tc, readlog_and_clearlog);
        tcase_add_test(tc, readlog_without_file);
        tcase_add_test(tc, clear_process_logs);
        tcase_add_test(tc, readproclog_by_offset_and_follow);
        tcase_add_test(tc, readlog_follow);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) { return run_suite(mainlog_suite()) ? EXIT_FAILURE : EXIT_SUCCESS; }
