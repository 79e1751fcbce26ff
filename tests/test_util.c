/* test_util.c — unit tests for util.c: signal names, number and mode parsing, durations,
 * service names, uptime formatting and fd flags. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "util.h"

/* ---- signal_from_name / signal_name ---- */

START_TEST(test_signal_from_name_forms) {
        ck_assert_int_eq(signal_from_name("TERM"), SIGTERM);
        ck_assert_int_eq(signal_from_name("SIGTERM"), SIGTERM);
        ck_assert_int_eq(signal_from_name("term"), SIGTERM);
        ck_assert_int_eq(signal_from_name("sigterm"), SIGTERM);
        ck_assert_int_eq(signal_from_name("KILL"), SIGKILL);
        ck_assert_int_eq(signal_from_name("SIGINT"), SIGINT);
        ck_assert_int_eq(signal_from_name("HUP"), SIGHUP);
        ck_assert_int_eq(signal_from_name("QUIT"), SIGQUIT);
        ck_assert_int_eq(signal_from_name("USR1"), SIGUSR1);
        ck_assert_int_eq(signal_from_name("usr2"), SIGUSR2);
        ck_assert_int_eq(signal_from_name("SIGWINCH"), SIGWINCH);
        ck_assert_int_eq(signal_from_name("9"), 9);
        ck_assert_int_eq(signal_from_name("1"), 1);
        ck_assert_int_eq(signal_from_name("15"), 15);
        ck_assert_int_eq(signal_from_name("64"), 64);
}
END_TEST

START_TEST(test_signal_from_name_invalid) {
        ck_assert_int_eq(signal_from_name("0"), -EINVAL);
        ck_assert_int_eq(signal_from_name("65"), -EINVAL);
        ck_assert_int_eq(signal_from_name("-9"), -EINVAL);
        ck_assert_int_eq(signal_from_name("9x"), -EINVAL);
        ck_assert_int_eq(signal_from_name(""), -EINVAL);
        ck_assert_int_eq(signal_from_name(NULL), -EINVAL);
        ck_assert_int_eq(signal_from_name("FOO"), -EINVAL);
        ck_assert_int_eq(signal_from_name("SIG"), -EINVAL);
        ck_assert_int_eq(signal_from_name("SIGSIGTERM"), -EINVAL);
        ck_assert_int_eq(signal_from_name("TERM "), -EINVAL);
        ck_assert_int_eq(signal_from_name(" TERM"), -EINVAL);
}
END_TEST

START_TEST(test_signal_name) {
        ck_assert_str_eq(signal_name(SIGTERM), "TERM");
        ck_assert_str_eq(signal_name(SIGKILL), "KILL");
        ck_assert_str_eq(signal_name(SIGINT), "INT");
        ck_assert_str_eq(signal_name(SIGHUP), "HUP");
        ck_assert_str_eq(signal_name(SIGSEGV), "SEGV");
        ck_assert_str_eq(signal_name(SIGUSR1), "USR1");
        ck_assert_ptr_null(signal_name(0));
        ck_assert_ptr_null(signal_name(SIGRTMIN + 1));
        ck_assert_ptr_null(signal_name(65));
        ck_assert_ptr_null(signal_name(-1));
}
END_TEST

START_TEST(test_signal_name_round_trip) {
        /* Every named signal parses back to itself, with and without the prefix. */
        for (int sig = 1; sig <= 64; sig++) {
                const char *name = signal_name(sig);
                if (!name)
                        continue;
                char prefixed[32];
                snprintf(prefixed, sizeof prefixed, "SIG%s", name);
                ck_assert_int_eq(signal_from_name(name), sig);
                ck_assert_int_eq(signal_from_name(prefixed), sig);
        }
}
END_TEST

/* ---- parse_mode ---- */

START_TEST(test_parse_mode_valid) {
        mode_t mode = 0;
        ck_assert_int_eq(parse_mode("0600", &mode), 0);
        ck_assert_uint_eq(mode, 0600);
        ck_assert_int_eq(parse_mode("022", &mode), 0);
        ck_assert_uint_eq(mode, 022);
        ck_assert_int_eq(parse_mode("7777", &mode), 0);
        ck_assert_uint_eq(mode, 07777);
        ck_assert_int_eq(parse_mode("0", &mode), 0);
        ck_assert_uint_eq(mode, 0);
        ck_assert_int_eq(parse_mode("00644", &mode), 0);
        ck_assert_uint_eq(mode, 0644);
}
END_TEST

START_TEST(test_parse_mode_invalid) {
        mode_t mode = 0123;
        ck_assert_int_eq(parse_mode("8", &mode), -EINVAL);
        ck_assert_int_eq(parse_mode("0689", &mode), -EINVAL);
        ck_assert_int_eq(parse_mode("99999", &mode), -EINVAL);
        ck_assert_int_eq(parse_mode("17777", &mode), -EINVAL);
        ck_assert_int_eq(parse_mode("000600", &mode), -EINVAL);
        ck_assert_int_eq(parse_mode("", &mode), -EINVAL);
        ck_assert_int_eq(parse_mode(NULL, &mode), -EINVAL);
        ck_assert_int_eq(parse_mode("abc", &mode), -EINVAL);
        ck_assert_int_eq(parse_mode("-600", &mode), -EINVAL);
        ck_assert_int_eq(parse_mode(" 600", &mode), -EINVAL);
        ck_assert_int_eq(parse_mode("600 ", &mode), -EINVAL);
        /* A rejected value leaves the output alone. */
        ck_assert_uint_eq(mode, 0123);
}
END_TEST

/* ---- parse_long ---- */

START_TEST(test_parse_long_valid) {
        long n = 0;
        ck_assert_int_eq(parse_long("42", 0, 100, &n), 0);
        ck_assert_int_eq(n, 42);
        ck_assert_int_eq(parse_long("-20", -20, 19, &n), 0);
        ck_assert_int_eq(n, -20);
        ck_assert_int_eq(parse_long("19", -20, 19, &n), 0);
        ck_assert_int_eq(n, 19);
        ck_assert_int_eq(parse_long("0", 0, 0, &n), 0);
        ck_assert_int_eq(n, 0);
        ck_assert_int_eq(parse_long("9223372036854775807", 0, LONG_MAX, &n), 0);
        ck_assert(n == LONG_MAX);
}
END_TEST

START_TEST(test_parse_long_range) {
        long n = 7;
        ck_assert_int_eq(parse_long("20", -20, 19, &n), -ERANGE);
        ck_assert_int_eq(parse_long("-21", -20, 19, &n), -ERANGE);
        ck_assert_int_eq(parse_long("101", 0, 100, &n), -ERANGE);
        ck_assert_int_eq(n, 7);
}
END_TEST

START_TEST(test_parse_long_invalid) {
        long n = 7;
        ck_assert_int_eq(parse_long("", 0, 100, &n), -EINVAL);
        ck_assert_int_eq(parse_long(NULL, 0, 100, &n), -EINVAL);
        ck_assert_int_eq(parse_long("abc", 0, 100, &n), -EINVAL);
        ck_assert_int_eq(parse_long("12abc", 0, 100, &n), -EINVAL);
        ck_assert_int_eq(parse_long("1.5", 0, 100, &n), -EINVAL);
        ck_assert_int_eq(parse_long(" 12", 0, 100, &n), -EINVAL);
        ck_assert_int_eq(parse_long("\t12", 0, 100, &n), -EINVAL);
        ck_assert_int_eq(parse_long("12 ", 0, 100, &n), -EINVAL);
        ck_assert_int_eq(parse_long("-", 0, 100, &n), -EINVAL);
        /* Overflow of long itself is garbage, not a range error on a clamped value. */
        ck_assert_int_eq(parse_long("9223372036854775808", LONG_MIN, LONG_MAX, &n), -EINVAL);
        ck_assert_int_eq(parse_long("-9223372036854775809", LONG_MIN, LONG_MAX, &n), -EINVAL);
        ck_assert_int_eq(parse_long("99999999999999999999999", 0, 100, &n), -EINVAL);
        ck_assert_int_eq(n, 7);
}
END_TEST

/* ---- seconds_to_usec ---- */

START_TEST(test_seconds_to_usec_valid) {
        usec_t usec = 1;
        ck_assert_int_eq(seconds_to_usec(0.1, &usec), 0);
        ck_assert_uint_eq(usec, 100000);
        ck_assert_int_eq(seconds_to_usec(0, &usec), 0);
        ck_assert_uint_eq(usec, 0);
        ck_assert_int_eq(seconds_to_usec(1, &usec), 0);
        ck_assert_uint_eq(usec, 1000000);
        ck_assert_int_eq(seconds_to_usec(30, &usec), 0);
        ck_assert_uint_eq(usec, 30000000);
        ck_assert_int_eq(seconds_to_usec(2.5, &usec), 0);
        ck_assert_uint_eq(usec, 2500000);
        ck_assert_int_eq(seconds_to_usec(0.000001, &usec), 0);
        ck_assert_uint_eq(usec, 1);
        /* Exactly one (leap) year is still allowed. */
        ck_assert_int_eq(seconds_to_usec(366.0 * 24 * 3600, &usec), 0);
        ck_assert_uint_eq(usec, (usec_t)366 * 24 * 3600 * USEC_PER_SEC);
}
END_TEST

START_TEST(test_seconds_to_usec_invalid) {
        usec_t usec = 77;
        ck_assert_int_eq(seconds_to_usec(-0.1, &usec), -ERANGE);
        ck_assert_int_eq(seconds_to_usec(-1, &usec), -ERANGE);
        ck_assert_int_eq(seconds_to_usec(NAN, &usec), -ERANGE);
        ck_assert_int_eq(seconds_to_usec(INFINITY, &usec), -ERANGE);
        ck_assert_int_eq(seconds_to_usec(-INFINITY, &usec), -ERANGE);
        ck_assert_int_eq(seconds_to_usec(366.0 * 24 * 3600 + 1, &usec), -ERANGE);
        ck_assert_int_eq(seconds_to_usec(1e300, &usec), -ERANGE);
        ck_assert_uint_eq(usec, 77);
}
END_TEST

/* ---- service_name_is_valid ---- */

START_TEST(test_service_name_valid) {
        char name[SERVICE_NAME_MAX + 2];
        ck_assert(service_name_is_valid("web"));
        ck_assert(service_name_is_valid("a"));
        ck_assert(service_name_is_valid("Web_1.worker-2"));
        ck_assert(service_name_is_valid("..."));
        ck_assert(service_name_is_valid("-"));
        ck_assert(service_name_is_valid("all"));  /* reserved only in config and protocol */
        memset(name, 'x', SERVICE_NAME_MAX);
        name[SERVICE_NAME_MAX] = '\0';
        ck_assert_uint_eq(strlen(name), 64);
        ck_assert(service_name_is_valid(name));
}
END_TEST

START_TEST(test_service_name_invalid) {
        char name[SERVICE_NAME_MAX + 2];
        memset(name, 'x', SERVICE_NAME_MAX + 1);
        name[SERVICE_NAME_MAX + 1] = '\0';
        ck_assert_uint_eq(strlen(name), 65);
        ck_assert(!service_name_is_valid(name));
        ck_assert(!service_name_is_valid(""));
        ck_assert(!service_name_is_valid("a/b"));
        ck_assert(!service_name_is_valid("/"));
        ck_assert(!service_name_is_valid("a b"));
        ck_assert(!service_name_is_valid("a\tb"));
        ck_assert(!service_name_is_valid("web@0"));
        ck_assert(!service_name_is_valid("a:b"));
        ck_assert(!service_name_is_valid("a*"));
        ck_assert(!service_name_is_valid("caf\xc3\xa9"));
        ck_assert(!service_name_is_valid("a\n"));
}
END_TEST

/* ---- format_uptime ---- */

START_TEST(test_format_uptime) {
        char buf[32];
        format_uptime(buf, sizeof buf, 0);
        ck_assert_str_eq(buf, "0:00:00");
        format_uptime(buf, sizeof buf, 59);
        ck_assert_str_eq(buf, "0:00:59");
        format_uptime(buf, sizeof buf, 60);
        ck_assert_str_eq(buf, "0:01:00");
        format_uptime(buf, sizeof buf, 3599);
        ck_assert_str_eq(buf, "0:59:59");
        format_uptime(buf, sizeof buf, 3600);
        ck_assert_str_eq(buf, "1:00:00");
        format_uptime(buf, sizeof buf, 3725);
        ck_assert_str_eq(buf, "1:02:05");
        format_uptime(buf, sizeof buf, 100 * 3600);
        ck_assert_str_eq(buf, "100:00:00");
        format_uptime(buf, sizeof buf, 100 * 3600 + 61);
        ck_assert_str_eq(buf, "100:01:01");
}
END_TEST

START_TEST(test_format_uptime_truncates) {
        char buf[5];
        memset(buf, 'z', sizeof buf);
        format_uptime(buf, sizeof buf, 3725);
        ck_assert_str_eq(buf, "1:02");
}
END_TEST

/* ---- fd_set_nonblocking ---- */

START_TEST(test_fd_set_nonblocking) {
        int fds[2];
        ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);
        ck_assert_int_eq(fcntl(fds[0], F_GETFL) & O_NONBLOCK, 0);
        ck_assert_int_eq(fd_set_nonblocking(fds[0]), 0);
        ck_assert_int_ne(fcntl(fds[0], F_GETFL) & O_NONBLOCK, 0);
        /* Idempotent, and other flags are kept. */
        ck_assert_int_eq(fd_set_nonblocking(fds[0]), 0);
        ck_assert_int_ne(fcntl(fds[0], F_GETFL) & O_NONBLOCK, 0);
        ck_assert_int_ne(fcntl(fds[0], F_GETFD) & FD_CLOEXEC, 0);
        /* The other end is untouched. */
        ck_assert_int_eq(fcntl(fds[1], F_GETFL) & O_NONBLOCK, 0);
        /* An empty nonblocking pipe does not block a read. */
        char c;
        errno = 0;
        ck_assert_int_eq(read(fds[0], &c, 1), -1);
        ck_assert_int_eq(errno, EAGAIN);
        close(fds[0]);
        close(fds[1]);
}
END_TEST

START_TEST(test_fd_set_nonblocking_bad_fd) {
        int fds[2];
        ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);
        close(fds[0]);
        close(fds[1]);
        ck_assert_int_eq(fd_set_nonblocking(fds[0]), -EBADF);
        ck_assert_int_eq(fd_set_nonblocking(-1), -EBADF);
}
END_TEST

/* ---- now_monotonic ---- */

START_TEST(test_now_monotonic) {
        usec_t a = now_monotonic();
        usleep(2000);
        usec_t b = now_monotonic();
        ck_assert_uint_gt(a, 0);
        ck_assert_uint_ge(b - a, 2000);
        ck_assert_uint_lt(b - a, 5 * USEC_PER_SEC);
}
END_TEST

static Suite *util_suite(void) {
        Suite *s = suite_create("util");
        TCase *tc;

        tc = tcase_create("signals");
        tcase_add_test(tc, test_signal_from_name_forms);
        tcase_add_test(tc, test_signal_from_name_invalid);
        tcase_add_test(tc, test_signal_name);
        tcase_add_test(tc, test_signal_name_round_trip);
        suite_add_tcase(s, tc);

        tc = tcase_create("numbers");
        tcase_add_test(tc, test_parse_mode_valid);
        tcase_add_test(tc, test_parse_mode_invalid);
        tcase_add_test(tc, test_parse_long_valid);
        tcase_add_test(tc, test_parse_long_range);
        tcase_add_test(tc, test_parse_long_invalid);
        tcase_add_test(tc, test_seconds_to_usec_valid);
        tcase_add_test(tc, test_seconds_to_usec_invalid);
        suite_add_tcase(s, tc);

        tc = tcase_create("names");
        tcase_add_test(tc, test_service_name_valid);
        tcase_add_test(tc, test_service_name_invalid);
        suite_add_tcase(s, tc);

        tc = tcase_create("formatting");
        tcase_add_test(tc, test_format_uptime);
        tcase_add_test(tc, test_format_uptime_truncates);
        suite_add_tcase(s, tc);

        tc = tcase_create("fds and clocks");
        tcase_add_test(tc, test_fd_set_nonblocking);
        tcase_add_test(tc, test_fd_set_nonblocking_bad_fd);
        tcase_add_test(tc, test_now_monotonic);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return run_suite(util_suite()) ? 1 : 0;
}
