/* test_service.c — unit tests for the pure rules of service.c: the backoff delay, what
 * to do when a process exits, how a wait status is described and the state names.  No
 * process is started here; the state machine in motion is tested by the integration tests. */
#include <check.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>

#include "config.h"
#include "harness.h"
#include "service.h"

#ifndef W_EXITCODE
#define W_EXITCODE(code, sig) (((code) << 8) | (sig))
#endif
#define WAIT_EXITED(code) W_EXITCODE(code, 0)
#define WAIT_KILLED(sig) W_EXITCODE(0, sig)
#define WAIT_CORE_DUMPED 0x80

/* A service as config_load() would leave it with every option at its default. */
static struct service_config default_config(void) {
        struct service_config c;
        memset(&c, 0, sizeof c);
        c.name = "test";
        c.autostart = true;
        c.restart = RESTART_ON_FAILURE;
        c.success_exit_codes[0] = 1;  /* exit code 0 */
        c.start_secs = 1 * USEC_PER_SEC;
        c.start_retries = 5;
        c.restart_delay = 100 * USEC_PER_MSEC;
        c.restart_delay_max = 30 * USEC_PER_SEC;
        c.stop_signal = SIGTERM;
        c.stop_timeout = 10 * USEC_PER_SEC;
        return c;
}

static void add_success_code(struct service_config *c, int code) {
        c->success_exit_codes[code / 8] |= (unsigned char)(1u << (code % 8));
}

/* ---- service_backoff_delay ---- */

START_TEST(test_backoff_doubles_then_caps) {
        struct service_config c = default_config();
        c.restart_delay = 100 * USEC_PER_MSEC;
        c.restart_delay_max = 1 * USEC_PER_SEC;
        static const usec_t expected[] = { 100000, 200000, 400000, 800000, 1000000, 1000000, 1000000 };
        for (unsigned failures = 1; failures <= sizeof expected / sizeof expected[0]; failures++)
                ck_assert_msg(service_backoff_delay(&c, failures) == expected[failures - 1],
                              "failures %u: delay %llu, expected %llu", failures,
                              (unsigned long long)service_backoff_delay(&c, failures),
                              (unsigned long long)expected[failures - 1]);
}
END_TEST

START_TEST(test_backoff_defaults) {
        struct service_config c = default_config();
        ck_assert_uint_eq(service_backoff_delay(&c, 1), 100000);
        ck_assert_uint_eq(service_backoff_delay(&c, 2), 200000);
        ck_assert_uint_eq(service_backoff_delay(&c, 9), 25600000);
        /* 0.1 * 2^9 = 51.2 s > 30 s */
        ck_assert_uint_eq(service_backoff_delay(&c, 10), 30000000);
        ck_assert_uint_eq(service_backoff_delay(&c, 11), 30000000);
}
END_TEST

START_TEST(test_backoff_max_not_a_power_of_two_multiple) {
        struct service_config c = default_config();
        c.restart_delay = 300 * USEC_PER_MSEC;
        c.restart_delay_max = 1 * USEC_PER_SEC;
        ck_assert_uint_eq(service_backoff_delay(&c, 1), 300000);
        ck_assert_uint_eq(service_backoff_delay(&c, 2), 600000);
        ck_assert_uint_eq(service_backoff_delay(&c, 3), 1000000);  /* 1.2 s capped */
        ck_assert_uint_eq(service_backoff_delay(&c, 4), 1000000);
}
END_TEST

START_TEST(test_backoff_delay_equals_max) {
        struct service_config c = default_config();
        c.restart_delay = 2 * USEC_PER_SEC;
        c.restart_delay_max = 2 * USEC_PER_SEC;
        ck_assert_uint_eq(service_backoff_delay(&c, 1), 2000000);
        ck_assert_uint_eq(service_backoff_delay(&c, 2), 2000000);
        ck_assert_uint_eq(service_backoff_delay(&c, 100), 2000000);
}
END_TEST

START_TEST(test_backoff_huge_failure_count) {
        struct service_config c = default_config();
        /* The largest values the config accepts (a year): the doubling must not overflow. */
        c.restart_delay = 1;
        c.restart_delay_max = (usec_t)366 * 24 * 3600 * USEC_PER_SEC;
        ck_assert_uint_eq(service_backoff_delay(&c, 64), c.restart_delay_max);
        ck_assert_uint_eq(service_backoff_delay(&c, 65), c.restart_delay_max);
        ck_assert_uint_eq(service_backoff_delay(&c, 1000), c.restart_delay_max);
        ck_assert_uint_eq(service_backoff_delay(&c, UINT32_MAX), c.restart_delay_max);

        c = default_config();
        ck_assert_uint_eq(service_backoff_delay(&c, UINT32_MAX), 30000000);
        ck_assert_uint_eq(service_backoff_delay(&c, 1000000), 30000000);
}
END_TEST

/* ---- service_exit_action ---- */

START_TEST(test_exit_starting_backoff_then_fatal) {
        struct service_config c = default_config();
        c.start_retries = 3;
        /* Any exit during STARTING is a failed start, even a successful exit code. */
        ck_assert_int_eq(service_exit_action(&c, STATE_STARTING, WAIT_EXITED(1), 1), EXIT_ACTION_BACKOFF);
        ck_assert_int_eq(service_exit_action(&c, STATE_STARTING, WAIT_EXITED(0), 1), EXIT_ACTION_BACKOFF);
        ck_assert_int_eq(service_exit_action(&c, STATE_STARTING, WAIT_KILLED(SIGKILL), 2), EXIT_ACTION_BACKOFF);
        ck_assert_int_eq(service_exit_action(&c, STATE_STARTING, WAIT_EXITED(1), 3), EXIT_ACTION_FATAL);
        ck_assert_int_eq(service_exit_action(&c, STATE_STARTING, WAIT_EXITED(0), 3), EXIT_ACTION_FATAL);
        ck_assert_int_eq(service_exit_action(&c, STATE_STARTING, WAIT_EXITED(1), 4), EXIT_ACTION_FATAL);
}
END_TEST

START_TEST(test_exit_starting_default_retries) {
        struct service_config c = default_config();
        for (unsigned failures = 1; failures < 5; failures++)
                ck_assert_int_eq(service_exit_action(&c, STATE_STARTING, WAIT_EXITED(2), failures), EXIT_ACTION_BACKOFF);
        ck_assert_int_eq(service_exit_action(&c, STATE_STARTING, WAIT_EXITED(2), 5), EXIT_ACTION_FATAL);
}
END_TEST

START_TEST(test_exit_starting_one_retry) {
        struct service_config c = default_config();
        c.start_retries = 1;
        ck_assert_int_eq(service_exit_action(&c, STATE_STARTING, WAIT_EXITED(1), 1), EXIT_ACTION_FATAL);
}
END_TEST

START_TEST(test_exit_starting_never_gives_up) {
        struct service_config c = default_config();
        c.start_retries = 0;
        ck_assert_int_eq(service_exit_action(&c, STATE_STARTING, WAIT_EXITED(1), 1), EXIT_ACTION_BACKOFF);
        ck_assert_int_eq(service_exit_action(&c, STATE_STARTING, WAIT_EXITED(1), 5), EXIT_ACTION_BACKOFF);
        ck_assert_int_eq(service_exit_action(&c, STATE_STARTING, WAIT_KILLED(SIGSEGV), 1000000), EXIT_ACTION_BACKOFF);
        ck_assert_int_eq(service_exit_action(&c, STATE_STARTING, WAIT_EXITED(1), UINT32_MAX), EXIT_ACTION_BACKOFF);
}
END_TEST

START_TEST(test_exit_starting_ignores_restart_policy) {
        struct service_config c = default_config();
        c.start_retries = 2;
        c.restart = RESTART_NEVER;
        ck_assert_int_eq(service_exit_action(&c, STATE_STARTING, WAIT_EXITED(0), 1), EXIT_ACTION_BACKOFF);
        ck_assert_int_eq(service_exit_action(&c, STATE_STARTING, WAIT_EXITED(0), 2), EXIT_ACTION_FATAL);
        c.restart = RESTART_ALWAYS;
        ck_assert_int_eq(service_exit_action(&c, STATE_STARTING, WAIT_EXITED(0), 1), EXIT_ACTION_BACKOFF);
        ck_assert_int_eq(service_exit_action(&c, STATE_STARTING, WAIT_EXITED(0), 2), EXIT_ACTION_FATAL);
}
END_TEST

START_TEST(test_exit_running_always) {
        struct service_config c = default_config();
        c.restart = RESTART_ALWAYS;
        ck_assert_int_eq(service_exit_action(&c, STATE_RUNNING, WAIT_EXITED(0), 0), EXIT_ACTION_RESTART);
        ck_assert_int_eq(service_exit_action(&c, STATE_RUNNING, WAIT_EXITED(1), 0), EXIT_ACTION_RESTART);
        ck_assert_int_eq(service_exit_action(&c, STATE_RUNNING, WAIT_KILLED(SIGKILL), 0), EXIT_ACTION_RESTART);
        ck_assert_int_eq(service_exit_action(&c, STATE_RUNNING, WAIT_KILLED(SIGTERM), 0), EXIT_ACTION_RESTART);
}
END_TEST

START_TEST(test_exit_running_never) {
        struct service_config c = default_config();
        c.restart = RESTART_NEVER;
        ck_assert_int_eq(service_exit_action(&c, STATE_RUNNING, WAIT_EXITED(0), 0), EXIT_ACTION_EXITED);
        ck_assert_int_eq(service_exit_action(&c, STATE_RUNNING, WAIT_EXITED(1), 0), EXIT_ACTION_EXITED);
        ck_assert_int_eq(service_exit_action(&c, STATE_RUNNING, WAIT_EXITED(255), 0), EXIT_ACTION_EXITED);
        ck_assert_int_eq(service_exit_action(&c, STATE_RUNNING, WAIT_KILLED(SIGKILL), 0), EXIT_ACTION_EXITED);
        ck_assert_int_eq(service_exit_action(&c, STATE_RUNNING, WAIT_KILLED(SIGSEGV) | WAIT_CORE_DUMPED, 0),
                         EXIT_ACTION_EXITED);
}
END_TEST

START_TEST(test_exit_running_on_failure_default_codes) {
        struct service_config c = default_config();
        ck_assert_int_eq(service_exit_action(&c, STATE_RUNNING, WAIT_EXITED(0), 0), EXIT_ACTION_EXITED);
        ck_assert_int_eq(service_exit_action(&c, STATE_RUNNING, WAIT_EXITED(1), 0), EXIT_ACTION_RESTART);
        ck_assert_int_eq(service_exit_action(&c, STATE_RUNNING, WAIT_EXITED(2), 0), EXIT_ACTION_RESTART);
        ck_assert_int_eq(service_exit_action(&c, STATE_RUNNING, WAIT_EXITED(255), 0), EXIT_ACTION_RESTART);
        ck_assert_int_eq(service_exit_action(&c, STATE_RUNNING, WAIT_KILLED(SIGKILL), 0), EXIT_ACTION_RESTART);
        ck_assert_int_eq(service_exit_action(&c, STATE_RUNNING, WAIT_KILLED(SIGTERM), 0), EXIT_ACTION_RESTART);
        ck_assert_int_eq(service_exit_action(&c, STATE_RUNNING, WAIT_KILLED(SIGSEGV) | WAIT_CORE_DUMPED, 0),
                         EXIT_ACTION_RESTART);
}
END_TEST

START_TEST(test_exit_running_on_failure_custom_codes) {
        struct service_config c = default_config();
        add_success_code(&c, 2);
        add_success_code(&c, 143);
        add_success_code(&c, 255);
        ck_assert_int_eq(service_exit_action(&c, STATE_RUNNING, WAIT_EXITED(0), 0), EXIT_ACTION_EXITED);
        ck_assert_int_eq(service_exit_action(&c, STATE_RUNNING, WAIT_EXITED(2), 0), EXIT_ACTION_EXITED);
        ck_assert_int_eq(service_exit_action(&c, STATE_RUNNING, WAIT_EXITED(143), 0), EXIT_ACTION_EXITED);
        ck_assert_int_eq(service_exit_action(&c, STATE_RUNNING, WAIT_EXITED(255), 0), EXIT_ACTION_EXITED);
        ck_assert_int_eq(service_exit_action(&c, STATE_RUNNING, WAIT_EXITED(1), 0), EXIT_ACTION_RESTART);
        ck_assert_int_eq(service_exit_action(&c, STATE_RUNNING, WAIT_EXITED(3), 0), EXIT_ACTION_RESTART);
        ck_assert_int_eq(service_exit_action(&c, STATE_RUNNING, WAIT_EXITED(142), 0), EXIT_ACTION_RESTART);
        /* A signal is a failure even when its number or 128+number is a success code. */
        ck_assert_int_eq(service_exit_action(&c, STATE_RUNNING, WAIT_KILLED(2), 0), EXIT_ACTION_RESTART);
        ck_assert_int_eq(service_exit_action(&c, STATE_RUNNING, WAIT_KILLED(SIGTERM), 0), EXIT_ACTION_RESTART);
}
END_TEST

START_TEST(test_exit_running_on_failure_zero_not_success) {
        struct service_config c = default_config();
        memset(c.success_exit_codes, 0, sizeof c.success_exit_codes);
        add_success_code(&c, 3);
        ck_assert_int_eq(service_exit_action(&c, STATE_RUNNING, WAIT_EXITED(0), 0), EXIT_ACTION_RESTART);
        ck_assert_int_eq(service_exit_action(&c, STATE_RUNNING, WAIT_EXITED(3), 0), EXIT_ACTION_EXITED);
}
END_TEST

/* ---- service_describe_wait_status ---- */

static const char *describe(int wait_status, char *buf, size_t size) {
        memset(buf, 'z', size);
        service_describe_wait_status(wait_status, buf, size);
        return buf;
}

START_TEST(test_describe_exit) {
        char buf[64];
        ck_assert_str_eq(describe(WAIT_EXITED(0), buf, sizeof buf), "exit status 0");
        ck_assert_str_eq(describe(WAIT_EXITED(1), buf, sizeof buf), "exit status 1");
        ck_assert_str_eq(describe(WAIT_EXITED(3), buf, sizeof buf), "exit status 3");
        ck_assert_str_eq(describe(WAIT_EXITED(255), buf, sizeof buf), "exit status 255");
}
END_TEST

START_TEST(test_describe_signal) {
        char buf[64];
        ck_assert_str_eq(describe(WAIT_KILLED(SIGKILL), buf, sizeof buf), "killed by SIGKILL");
        ck_assert_str_eq(describe(WAIT_KILLED(SIGTERM), buf, sizeof buf), "killed by SIGTERM");
        ck_assert_str_eq(describe(WAIT_KILLED(SIGINT), buf, sizeof buf), "killed by SIGINT");
        ck_assert_str_eq(describe(WAIT_KILLED(SIGSEGV) | WAIT_CORE_DUMPED, buf, sizeof buf),
                         "killed by SIGSEGV (core dumped)");
        ck_assert_str_eq(describe(WAIT_KILLED(SIGABRT) | WAIT_CORE_DUMPED, buf, sizeof buf),
                         "killed by SIGABRT (core dumped)");
        /* A real-time signal has no name. */
        ck_assert_str_eq(describe(WAIT_KILLED(40), buf, sizeof buf), "killed by signal 40");
}
END_TEST

START_TEST(test_describe_other) {
        char buf[64];
        /* Neither exited nor signalled: a stopped child (0x137f = stopped by SIGSTOP). */
        ck_assert_str_eq(describe((SIGSTOP << 8) | 0x7f, buf, sizeof buf), "wait status 0x137f");
}
END_TEST

START_TEST(test_describe_truncates) {
        char buf[8];
        ck_assert_str_eq(describe(WAIT_KILLED(SIGKILL), buf, sizeof buf), "killed ");
}
END_TEST

/* ---- service_state_to_string ---- */

START_TEST(test_state_names) {
        ck_assert_str_eq(service_state_to_string(STATE_STOPPED), "STOPPED");
        ck_assert_str_eq(service_state_to_string(STATE_STARTING), "STARTING");
        ck_assert_str_eq(service_state_to_string(STATE_RUNNING), "RUNNING");
        ck_assert_str_eq(service_state_to_string(STATE_BACKOFF), "BACKOFF");
        ck_assert_str_eq(service_state_to_string(STATE_STOPPING), "STOPPING");
        ck_assert_str_eq(service_state_to_string(STATE_EXITED), "EXITED");
        ck_assert_str_eq(service_state_to_string(STATE_FATAL), "FATAL");
        ck_assert_str_eq(service_state_to_string((enum service_state)7), "UNKNOWN");
        ck_assert_str_eq(service_state_to_string((enum service_state)-1), "UNKNOWN");
}
END_TEST

static Suite *service_suite(void) {
        Suite *s = suite_create("service");
        TCase *tc;

        tc = tcase_create("backoff");
        tcase_add_test(tc, test_backoff_doubles_then_caps);
        tcase_add_test(tc, test_backoff_defaults);
        tcase_add_test(tc, test_backoff_max_not_a_power_of_two_multiple);
        tcase_add_test(tc, test_backoff_delay_equals_max);
        tcase_add_test(tc, test_backoff_huge_failure_count);
        suite_add_tcase(s, tc);

        tc = tcase_create("exit action");
        tcase_add_test(tc, test_exit_starting_backoff_then_fatal);
        tcase_add_test(tc, test_exit_starting_default_retries);
        tcase_add_test(tc, test_exit_starting_one_retry);
        tcase_add_test(tc, test_exit_starting_never_gives_up);
        tcase_add_test(tc, test_exit_starting_ignores_restart_policy);
        tcase_add_test(tc, test_exit_running_always);
        tcase_add_test(tc, test_exit_running_never);
        tcase_add_test(tc, test_exit_running_on_failure_default_codes);
        tcase_add_test(tc, test_exit_running_on_failure_custom_codes);
        tcase_add_test(tc, test_exit_running_on_failure_zero_not_success);
        suite_add_tcase(s, tc);

        tc = tcase_create("describe");
        tcase_add_test(tc, test_describe_exit);
        tcase_add_test(tc, test_describe_signal);
        tcase_add_test(tc, test_describe_other);
        tcase_add_test(tc, test_describe_truncates);
        tcase_add_test(tc, test_state_names);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return run_suite(service_suite()) ? 1 : 0;
}
