/* test_record.c — what the service record keeps for supervisord's clients (group,
 * wall-clock start and stop, the last spawn error, the log file of each stream), as the
 * real daemon reports it in the STATUS records of the control protocol. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "protocol.h"

/* One request on a fresh connection; the whole answer into out. */
static void raw_request(const struct daemon *d, const char *request, char *out, size_t size) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        ck_assert_uint_lt(strlen(d->sock), sizeof sa.sun_path);
        memcpy(sa.sun_path, d->sock, strlen(d->sock) + 1);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
        ck_assert_int_eq(send(fd, request, strlen(request), MSG_NOSIGNAL), (ssize_t)strlen(request));
        size_t len = 0;
        for (ssize_t n; len + 1 < size && (n = recv(fd, out + len, size - 1 - len, 0)) != 0;) {
                if (n < 0 && errno == EINTR)
                        continue;
                ck_assert_int_gt(n, 0);
                len += (size_t)n;
        }
        out[len] = '\0';
        close(fd);
}

/* The fields of NAME's STATUS record, split in place in buf. */
static unsigned status_fields(const struct daemon *d, const char *name, char *buf, size_t size, char **fields) {
        char request[128];
        snprintf(request, sizeof request, "status %s\n", name);
        raw_request(d, request, buf, size);
        char *end = strchr(buf, '\n');
        ck_assert_ptr_nonnull(end);
        *end = '\0';
        ck_assert_msg(strncmp(buf, "STATUS\t", 7) == 0, "answer: %s", buf);
        return protocol_split_fields(buf, fields, 32);
}

enum { F_NAME = 1, F_STATE, F_PID, F_STOPPED_AT = 9, F_MEMORY, F_CPU, F_GROUP, F_START, F_STOP, F_SPAWNERR, F_STDOUT_LOG, F_STDERR_LOG, N_FIELDS };

START_TEST(test_status_record_fields) {
        struct daemon d;
        char buf[8192], expected[512], *f[32];
        daemon_init(&d);
        daemon_write_config(&d,
                            "service pool { command = \"sleep 3790\"\n instances = 2\n start-secs = 0\n stderr = null\n}\n"
                            "service both { command = \"sleep 3791\"\n start-secs = 0\n stdout = journal\n"
                            " stderr = log\n autostart = false\n}\n"
                            "service broken { command = \"/nonexistent/program\"\n start-retries = 1\n}\n");
        long long before = (long long)time(NULL);
        daemon_start(&d);
        ck_assert(wait_for_state(&d, "pool@1", "RUNNING", 5000));
        ck_assert(wait_for_state(&d, "broken", "FATAL", 5000));

        ck_assert_uint_ge(status_fields(&d, "pool@1", buf, sizeof buf, f), N_FIELDS);
        ck_assert_str_eq(f[F_NAME], "pool@1");
        ck_assert_str_eq(f[F_GROUP], "pool");
        long long start = atoll(f[F_START]);
        ck_assert_int_ge(start, before);
        ck_assert_int_le(start, (long long)time(NULL));
        ck_assert_str_eq(f[F_STOP], "0");
        ck_assert_str_eq(f[F_SPAWNERR], "-");
        snprintf(expected, sizeof expected, "%s/logs/pool@1.log", d.dir);
        ck_assert_str_eq(f[F_STDOUT_LOG], expected);
        ck_assert_str_eq(f[F_STDERR_LOG], "-");

        /* stdout to the journal, stderr to a file of its own */
        ck_assert_uint_ge(status_fields(&d, "both", buf, sizeof buf, f), N_FIELDS);
        ck_assert_str_eq(f[F_STDOUT_LOG], "-");
        snprintf(expected, sizeof expected, "%s/logs/both.stderr.log", d.dir);
        ck_assert_str_eq(f[F_STDERR_LOG], expected);
        ck_assert_str_eq(f[F_START], "0");

        /* The spawn error stays while FATAL says it gave up. */
        ck_assert_uint_ge(status_fields(&d, "broken", buf, sizeof buf, f), N_FIELDS);
        ck_assert_str_eq(f[F_STATE], "FATAL");
        ck_assert_str_eq(f[F_SPAWNERR], "exec /nonexistent/program: No such file or directory");
        ck_assert_int_ge(atoll(f[F_STOP]), before);

        /* A stop is recorded in wall-clock time. */
        char out[4096];
        ck_assert_int_eq(ctl(&d, out, sizeof out, "stop pool@1"), 0);
        ck_assert_uint_ge(status_fields(&d, "pool@1", buf, sizeof buf, f), N_FIELDS);
        ck_assert_str_eq(f[F_STATE], "STOPPED");
        ck_assert_int_ge(atoll(f[F_STOP]), start);
        ck_assert_int_le(atoll(f[F_STOP]), (long long)time(NULL));
        daemon_cleanup(&d);
}
END_TEST

static Suite *record_suite(void) {
        Suite *s = suite_create("record");
        TCase *tc = tcase_create("status");
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_status_record_fields);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) { return run_suite(record_suite()) ? 1 : 0; }
