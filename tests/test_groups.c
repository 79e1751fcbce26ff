/* test_groups.c — integration tests for supervisord's names and priority order: the real
 * daemon driven through supervisorctl, with the order read from what the OS shows (the
 * processes' start in /proc/PID/stat) and from what the services themselves saw (the
 * moment each got its SIGTERM, appended to a file). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

/* When PID started, in clock ticks after boot (field 22 of /proc/PID/stat), then its pid
 * for processes spawned within one tick: supervisord forks them in the order it starts
 * them.  0 when it is gone. */
static unsigned long long start_key(pid_t pid) {
        char path[64], buf[1024];
        snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
        if (read_text_file(path, buf, sizeof buf) <= 0)
                return 0;
        const char *p = strrchr(buf, ')');
        if (!p)
                return 0;
        unsigned long long start = 0;
        /* after ") ": field 3 is the state; 22 the start time */
        for (int field = 3; p && field < 22; field++)
                p = strchr(p + 1, ' ');
        if (!p || sscanf(p + 1, "%llu", &start) != 1)
                return 0;
        return start * 4194304ULL + (unsigned long long)pid;  /* pids are below 2^22 */
}

/* Services that log the SIGTERM they get into DIR/stopped, the first (a) only after
 * 300 ms: were every stop sent at once, the others would be in the file before it. */
#define PRIORITY_CONFIG                                                                                          \
        "service a {\n command = \"/bin/sh -c 'trap \\\"sleep 0.3; echo a >> %s/stopped; exit 0\\\" TERM; "      \
        "while :; do sleep 0.05; done'\"\n priority = 30\n start-secs = 0\n stop-timeout = 20\n}\n"           \
        "service b {\n command = \"/bin/sh -c 'trap \\\"echo b >> %s/stopped; exit 0\\\" TERM; "                 \
        "while :; do sleep 0.05; done'\"\n priority = 20\n start-secs = 0\n stop-timeout = 20\n}\n"           \
        "service c {\n command = \"/bin/sh -c 'trap \\\"echo c >> %s/stopped; exit 0\\\" TERM; "                 \
        "while :; do sleep 0.05; done'\"\n priority = 10\n start-secs = 0\n stop-timeout = 20\n}\n"

static void assert_started_in_priority_order(struct daemon *d) {
        pid_t a, b, c;
        ck_assert(wait_for_state(d, "a", "RUNNING", 10000));
        ck_assert(wait_for_state(d, "b", "RUNNING", 10000));
        ck_assert(wait_for_state(d, "c", "RUNNING", 10000));
        ck_assert_int_gt(a = service_pid_of(d, "a"), 0);
        ck_assert_int_gt(b = service_pid_of(d, "b"), 0);
        ck_assert_int_gt(c = service_pid_of(d, "c"), 0);
        unsigned long long ka = start_key(a), kb = start_key(b), kc = start_key(c);
        /* Written a, b, c; priority 10 (c) starts first. */
        ck_assert_msg(kc < kb && kb < ka, "start order: a %llu b %llu c %llu", ka, kb, kc);
}

static void assert_stopped_in_order(struct daemon *d) {
        char path[256], text[64];
        snprintf(path, sizeof path, "%s/stopped", d->dir);
        ck_assert(WAIT_UNTIL(read_text_file(path, text, sizeof text) == 6, 20000));
        ck_assert_str_eq(text, "a\nb\nc\n");  /* the highest priority first, each once the one before is gone */
        unlink(path);
}

START_TEST(test_priority_orders_start_and_stop) {
        struct daemon d;
        daemon_init(&d);
        daemon_write_config(&d, PRIORITY_CONFIG, d.dir, d.dir, d.dir);
        daemon_start(&d);
        assert_started_in_priority_order(&d);  /* autostart */

        ck_assert_int_eq(ctl(&d, NULL, 0, "stop all"), 0);
        assert_stopped_in_order(&d);

        ck_assert_int_eq(ctl(&d, NULL, 0, "start all"), 0);
        assert_started_in_priority_order(&d);

        /* A restart stops in one order, then starts in the other. */
        ck_assert_int_eq(ctl(&d, NULL, 0, "restart a b c"), 0);
        assert_stopped_in_order(&d);
        assert_started_in_priority_order(&d);

        /* Shutdown too. */
        ck_assert_int_eq(daemon_stop(&d, 30000), 0);
        assert_stopped_in_order(&d);
        daemon_cleanup(&d);
}
END_TEST

#define GROUP_CONFIG                                                                                             \
        "service a {\n command = \"sleep 1000\"\n service-group = \"x\"\n start-secs = 0\n}\n"                  \
        "service b {\n command = \"sleep 1000\"\n service-group = \"x\"\n start-secs = 0\n}\n"                  \
        "service web {\n command = \"sleep 1000\"\n instances = 2\n start-secs = 0\n}\n"                        \
        "service db {\n command = \"sleep 1000\"\n start-secs = 0\n}\n"

START_TEST(test_group_names) {
        struct daemon d;
        char out[4096];
        daemon_init(&d);
        daemon_write_config(&d, "%s", GROUP_CONFIG);
        daemon_start(&d);
        ck_assert(wait_for_state(&d, "x:a", "RUNNING", 10000));
        ck_assert(wait_for_state(&d, "x:b", "RUNNING", 10000));
        ck_assert(wait_for_state(&d, "web@1", "RUNNING", 10000));
        ck_assert(wait_for_state(&d, "db", "RUNNING", 10000));
        pid_t a = service_pid_of(&d, "x:a"), b = service_pid_of(&d, "b"), web0 = service_pid_of(&d, "web:web@0");
        ck_assert_int_gt(a, 0);
        ck_assert_int_gt(b, 0);
        ck_assert_int_gt(web0, 0);

        /* GROUP:* stops the group, and only it. */
        ck_assert_int_eq(ctl(&d, out, sizeof out, "stop x:*"), 0);
        ck_assert_str_eq(out, "x:a: stopped\nx:b: stopped\n");
        ck_assert(!process_exists(a) && !process_exists(b));
        ck_assert(process_exists(web0));
        /* GROUP: starts it again; GROUP:NAME one of it. */
        ck_assert_int_eq(ctl(&d, out, sizeof out, "start x:"), 0);
        ck_assert_str_eq(out, "x:a: started\nx:b: started\n");
        ck_assert_int_eq(ctl(&d, out, sizeof out, "stop x:b"), 0);
        ck_assert_str_eq(out, "x:b: stopped\n");
        ck_assert(wait_for_state(&d, "x:a", "RUNNING", 1000));
        /* The native names: a service for its instances, NAME@i, and web:* alike. */
        ck_assert_int_eq(ctl(&d, out, sizeof out, "stop web:*"), 0);
        ck_assert_str_eq(out, "web@0: stopped\nweb@1: stopped\n");
        ck_assert(!process_exists(web0));
        ck_assert_int_eq(ctl(&d, out, sizeof out, "start web"), 0);
        ck_assert_str_eq(out, "web@0: started\nweb@1: started\n");

        /* Status shows supervisord's GROUP:NAME where the group is not the process's own. */
        ck_assert_int_eq(ctl(&d, out, sizeof out, "status x"), 3);  /* x:b is stopped */
        ck_assert(strncmp(out, "x:a ", 4) == 0);
        ck_assert_ptr_nonnull(strstr(out, "\nx:b "));

        /* An unknown name says which in supervisorctl's words, with the close ones. */
        ck_assert_int_eq(ctl(&d, out, sizeof out, "stop wbe"), 1);
        ck_assert_str_eq(out, "wbe: ERROR (no such process)\nsupervisorctl: wbe: did you mean web:*?\n");
        ck_assert_int_eq(ctl(&d, out, sizeof out, "status x:q"), 4);
        ck_assert_str_eq(out, "x:q: ERROR (no such process)\nsupervisorctl: x:q: did you mean x:*, x:a, x:b?\n");
        ck_assert_int_eq(ctl(&d, out, sizeof out, "start zzzzzz:*"), 2);
        ck_assert_str_eq(out, "zzzzzz: ERROR (no such group)\n");
        ck_assert_int_eq(ctl(&d, out, sizeof out, "--json start zzzzzz:*"), 4);  /* --json: the native answer */
        ck_assert_str_eq(out, "supervisorctl: no such service: zzzzzz:*\n");
        ck_assert(process_exists(service_pid_of(&d, "db")));  /* nothing else touched */

        ck_assert_int_eq(daemon_stop(&d, 10000), 0);
        daemon_cleanup(&d);
}
END_TEST

static Suite *groups_suite(void) {
        Suite *s = suite_create("groups");
        TCase *tc = tcase_create("groups");
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, test_priority_orders_start_and_stop);
        tcase_add_test(tc, test_group_names);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return run_suite(groups_suite()) ? 1 : 0;
}
