/* test_heartbeat.c — heartbeats over pipes: the pong parser and the config keys as unit
 * tests, then the real daemon: answering services stay up, silent and SIGSTOPped ones are
 * restarted within interval × misses + timeout, broken ones (closed pipes, floods) do not
 * disturb the others, restart policies after a hang, the fds and environment a service
 * gets, and many services on the one shared timer. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "harness.h"
#include "heartbeat.h"

/* A shell service that answers every ping from its main process, as SPEC.md shows
 * (without the `&`, so that stopping the main process stops the answers). */
#define SHELL_RESPONDER "/bin/sh -c 'while read -r _ seq <&3; do echo \\\"PONG $seq\\\" >&4; done'"

/* ---- unit: pong parsing ---- */

START_TEST(test_parse_pong) {
        static const struct {
                const char *line;
                int ok;
                uint64_t seq;
        } cases[] = {
                { "PONG 1", 1, 1 },
                { "PONG 0", 1, 0 },
                { "PONG 42\r", 1, 42 },
                { "PONG 18446744073709551615", 1, UINT64_MAX },
                { "PONG 18446744073709551616", 0, 0 },  /* overflows */
                { "PONG", 0, 0 },
                { "PONG ", 0, 0 },
                { "PONG x", 0, 0 },
                { "PONG 1x", 0, 0 },
                { "PONG 1 2", 0, 0 },
                { "PONG -1", 0, 0 },
                { "PONG +1", 0, 0 },
                { " PONG 1", 0, 0 },
                { "pong 1", 0, 0 },
                { "PING 1", 0, 0 },
                { "", 0, 0 },
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                uint64_t seq = 777;
                int r = heartbeat_parse_pong(cases[i].line, strlen(cases[i].line), &seq);
                ck_assert_msg((r == 0) == cases[i].ok, "\"%s\": r=%d", cases[i].line, r);
                if (cases[i].ok)
                        ck_assert_msg(seq == cases[i].seq, "\"%s\": seq %llu", cases[i].line, (unsigned long long)seq);
                else
                        ck_assert_msg(seq == 777, "\"%s\": seq changed on error", cases[i].line);
        }
        /* The length, not a NUL, ends the line. */
        uint64_t seq;
        ck_assert_int_eq(heartbeat_parse_pong("PONG 12345", 7, &seq), 0);
        ck_assert_uint_eq(seq, 12);
}
END_TEST

START_TEST(test_format_ping) {
        char buf[32];
        ck_assert_uint_eq(heartbeat_format_ping(buf, sizeof buf, 1), 7);
        ck_assert_str_eq(buf, "PING 1\n");
        ck_assert_uint_eq(heartbeat_format_ping(buf, sizeof buf, UINT64_MAX), 26);
        ck_assert_str_eq(buf, "PING 18446744073709551615\n");
}
END_TEST

/* ---- unit: the grid and the deadlines ---- */

START_TEST(test_next_tick) {
        ck_assert_uint_eq(heartbeat_next_tick(0, 1000), 1000);
        ck_assert_uint_eq(heartbeat_next_tick(999, 1000), 1000);
        ck_assert_uint_eq(heartbeat_next_tick(1000, 1000), 2000);  /* after, never at */
        ck_assert_uint_eq(heartbeat_next_tick(1500000, 1000000), 2000000);
        ck_assert_uint_eq(heartbeat_next_tick(1234567, 300000), 1500000);
        /* Two processes spawned apart get the same moments. */
        ck_assert_uint_eq(heartbeat_next_tick(10100000, 1000000), heartbeat_next_tick(10900000, 1000000));
}
END_TEST

START_TEST(test_deadline) {
        const usec_t s = USEC_PER_SEC, ms = USEC_PER_MSEC;
        const struct heartbeat_params p = { .interval = 1 * s, .timeout = 200 * ms, .misses = 3 };
        /* Later pings: the timeout after the moment they were written. */
        ck_assert_uint_eq(heartbeat_deadline(&p, 10 * s + 300 * ms, 2, 12 * s + 4 * ms, 13 * s), 12 * s + 204 * ms);
        /* The first, 0.7 s after the spawn: until spawn + interval + timeout. */
        ck_assert_uint_eq(heartbeat_deadline(&p, 10 * s + 300 * ms, 1, 11 * s, 12 * s), 11 * s + 500 * ms);
        /* ... but not past the second ping. */
        ck_assert_uint_eq(heartbeat_deadline(&p, 10 * s + 950 * ms, 1, 11 * s, 12 * s), 12 * s);
        /* ... and never less than the timeout after it was written (a late wake-up). */
        ck_assert_uint_eq(heartbeat_deadline(&p, 10 * s, 1, 11 * s + 100 * ms, 12 * s), 11 * s + 300 * ms);
        /* timeout = interval: the first may be answered until the second ping. */
        const struct heartbeat_params q = { .interval = 1 * s, .timeout = 1 * s, .misses = 3 };
        ck_assert_uint_eq(heartbeat_deadline(&q, 10 * s + 500 * ms, 1, 11 * s, 12 * s), 12 * s);
}
END_TEST

START_TEST(test_round_end) {
        const usec_t ms = USEC_PER_MSEC;
        /* As long after the round as the round is after the latest ping... */
        ck_assert_uint_eq(heartbeat_round_end(140 * ms, 100 * ms), 180 * ms);
        ck_assert_uint_eq(heartbeat_round_end(1100 * ms, 100 * ms), 2100 * ms);
        /* ... but at least HEARTBEAT_ROUND_MIN_REST. */
        ck_assert_uint_eq(heartbeat_round_end(100 * ms + 300, 100 * ms), 101 * ms + 300);
        ck_assert_uint_eq(heartbeat_round_end(100 * ms, 100 * ms), 100 * ms + HEARTBEAT_ROUND_MIN_REST);
        /* So a pong that came RTT after its ping and just after a round waits at most
         * max(RTT, the minimum) more: the measured round trip is at most twice the real one. */
        for (usec_t rtt = 100; rtt < 500 * ms; rtt = rtt * 3 / 2) {
                usec_t ping = 7 * ms, arrived = ping + rtt, read = heartbeat_round_end(arrived, ping);
                usec_t measured = read - ping;
                ck_assert_msg(measured <= 2 * rtt || measured <= rtt + HEARTBEAT_ROUND_MIN_REST,
                              "rtt %llu measured %llu", (unsigned long long)rtt, (unsigned long long)measured);
        }
}
END_TEST

/* ---- unit: config keys ---- */

/* Load a config whose service section holds BODY; return config_load()'s result, the
 * error in error (with the temp path replaced by "F"). */
static int load_service_body(const char *body, struct config **ret, char *error, size_t size) {
        char path[] = "/tmp/supervisord-hb-config.XXXXXX";
        int fd = mkstemp(path);
        ck_assert_int_ge(fd, 0);
        FILE *f = fdopen(fd, "w");
        /* line 1: socket, 2: service ..., 3...: body */
        fprintf(f, "socket = \"/tmp/x.sock\"\nservice web {\n command = \"sleep 1\"\n%s}\n", body);
        fclose(f);
        struct config *c = NULL;
        char raw[1024];
        int r = config_load(path, &c, raw, sizeof raw);
        unlink(path);
        size_t plen = strlen(path);
        if (strncmp(raw, path, plen) == 0)
                snprintf(error, size, "F%s", raw + plen);
        else
                snprintf(error, size, "%s", raw);
        if (ret)
                *ret = c;
        else
                config_free(c);
        return r;
}

START_TEST(test_config_defaults_and_values) {
        struct config *c;
        char error[1024];
        ck_assert_int_eq(load_service_body("", &c, error, sizeof error), 0);
        ck_assert_uint_eq(c->services[0]->heartbeat_interval, 0);
        ck_assert_uint_eq(c->services[0]->heartbeat_misses, 3);
        ck_assert_uint_eq(c->services[0]->ready_timeout, 0);
        config_free(c);

        ck_assert_int_eq(load_service_body(" heartbeat-interval = 2.5\n", &c, error, sizeof error), 0);
        ck_assert_uint_eq(c->services[0]->heartbeat_interval, 2500000);
        ck_assert_uint_eq(c->services[0]->heartbeat_timeout, 2500000);  /* defaults to the interval */
        config_free(c);

        ck_assert_int_eq(load_service_body(" heartbeat-interval = 1\n heartbeat-timeout = 0.25\n heartbeat-misses = 5\n",
                                           &c, error, sizeof error),
                         0);
        ck_assert_uint_eq(c->services[0]->heartbeat_timeout, 250000);
        ck_assert_uint_eq(c->services[0]->heartbeat_misses, 5);
        config_free(c);

        ck_assert_int_eq(load_service_body(" type = notify\n", &c, error, sizeof error), 0);
        ck_assert_uint_eq(c->services[0]->ready_timeout, 90 * 1000000ULL);
        config_free(c);
        ck_assert_int_eq(load_service_body(" type = notify\n ready-timeout = 0\n", &c, error, sizeof error), 0);
        ck_assert_uint_eq(c->services[0]->ready_timeout, 0);
        config_free(c);
}
END_TEST

START_TEST(test_config_errors) {
        static const struct {
                const char *body;
                const char *error;
        } cases[] = {
                { " heartbeat-interval = soon\n", "F:4: heartbeat-interval: 'soon' is not a number of seconds" },
                { " heartbeat-interval = -1\n", "F:4: heartbeat-interval: '-1' is not a number of seconds" },
                { " heartbeat-interval = 0.001\n",
                  "F:4: heartbeat-interval: must be 0 (off) or at least 0.01 seconds" },
                { " heartbeat-interval = 1\n heartbeat-timeout = 2\n",
                  "F:5: heartbeat-timeout: must not be greater than heartbeat-interval (1s)" },
                { " heartbeat-interval = 1\n\n heartbeat-timeout = 0\n",
                  "F:6: heartbeat-timeout: '0' is not a positive number of seconds" },
                { " heartbeat-misses = 0\n", "F:4: heartbeat-misses: '0' is not an integer from 1 to 1000" },
                { " heartbeat-misses = 3.5\n", "F:4: heartbeat-misses: '3.5' is not an integer from 1 to 1000" },
                { " ready-timeout = 5\n", "F:4: ready-timeout: only for type = notify" },
                { " type = notify\n ready-timeout = never\n", "F:5: ready-timeout: 'never' is not a number of seconds" },
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                char error[1024];
                ck_assert_int_eq(load_service_body(cases[i].body, NULL, error, sizeof error), -EINVAL);
                ck_assert_str_eq(error, cases[i].error);
        }
}
END_TEST

/* ---- integration ---- */

/* The last heartbeat round trip in `--json status NAME`, in ms; -1 for null. */
static double heartbeat_rtt_of(struct daemon *d, const char *name) {
        char out[4096];
        ctl(d, out, sizeof out, "--json status %s", name);
        const char *p = strstr(out, "\"heartbeat_rtt_ms\":");
        ck_assert_msg(p != NULL, "no heartbeat_rtt_ms in %s", out);
        p += strlen("\"heartbeat_rtt_ms\":");
        return strncmp(p, "null", 4) == 0 ? -1 : atof(p);
}

static unsigned restarts_of(struct daemon *d, const char *name) {
        char out[4096];
        ctl(d, out, sizeof out, "--json status %s", name);
        const char *p = strstr(out, "\"restarts\":");
        ck_assert_ptr_nonnull(p);
        return (unsigned)atoi(p + strlen("\"restarts\":"));
}

static bool log_contains(struct daemon *d, const char *text) {
        static char buf[1 << 20];
        return read_text_file(d->log, buf, sizeof buf) > 0 && strstr(buf, text) != NULL;
}

/* Wall-clock time, in ms, of the first line of the daemon's log that contains TEXT (lines
 * begin "YYYY-MM-DD HH:MM:SS.mmm", local time); -1 if there is none.  The daemon's own
 * clock, free of the test's polling latency. */
static long long log_time_of(struct daemon *d, const char *text) {
        static char buf[1 << 20];
        if (read_text_file(d->log, buf, sizeof buf) <= 0)
                return -1;
        const char *hit = strstr(buf, text);
        if (!hit)
                return -1;
        const char *line = hit;
        while (line > buf && line[-1] != '\n')
                line--;
        struct tm tm = { .tm_isdst = -1 };
        int ms;
        const char *rest = strptime(line, "%Y-%m-%d %H:%M:%S", &tm);
        ck_assert_msg(rest && sscanf(rest, ".%3d", &ms) == 1, "log line without a timestamp: %.60s", line);
        return (long long)mktime(&tm) * 1000 + ms;
}

static long long wall_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

START_TEST(test_answering_services_stay_up) {
        struct daemon d;
        char out[4096];
        daemon_init(&d);
        daemon_write_config(&d,
                            "service shell {\n command = \"%s\"\n heartbeat-interval = 0.5\n heartbeat-misses = 2\n"
                            " start-secs = 0.1\n}\n"
                            "service c {\n command = \"%s\"\n heartbeat-interval = 0.5\n heartbeat-timeout = 0.25\n"
                            " heartbeat-misses = 2\n start-secs = 0.1\n}\n",
                            SHELL_RESPONDER, heartbeat_helper_path());
        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "shell", "RUNNING", SOON_MS);
        ASSERT_STATE_WITHIN(&d, "c", "RUNNING", SOON_MS);
        pid_t shell = service_pid_of(&d, "shell"), c = service_pid_of(&d, "c");
        ck_assert_int_gt(shell, 0);
        ck_assert_int_gt(c, 0);

        /* Six intervals: two misses in a row would have restarted them. */
        sleep_ms(3000);
        ck_assert_int_eq(service_pid_of(&d, "shell"), shell);
        ck_assert_int_eq(service_pid_of(&d, "c"), c);
        ck_assert_uint_eq(restarts_of(&d, "shell"), 0);
        ck_assert_uint_eq(restarts_of(&d, "c"), 0);
        ck_assert(!log_contains(&d, "hung"));  /* a late answer on a busy machine may be one miss */

        /* An answer counts only if it came within heartbeat-timeout (= the interval unless
         * set): what is shown as the round trip is below it. */
        double rtt = heartbeat_rtt_of(&d, "shell");
        ck_assert_msg(rtt >= 0 && rtt <= 500, "shell rtt %.3f ms, expected an answer within the 500 ms timeout", rtt);
        rtt = heartbeat_rtt_of(&d, "c");
        ck_assert_msg(rtt >= 0 && rtt <= 250, "c rtt %.3f ms, expected an answer within the 250 ms timeout", rtt);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "status shell"), 0);
        ck_assert_msg(strstr(out, ", heartbeat ") && strstr(out, "ms\n"), "status: %s", out);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_silent_service_restarted) {
        struct daemon d;
        char out[4096];
        daemon_init(&d);
        /* Bounds from the spawn: the first ping less than 1 s after it, two more intervals
         * and a timeout, so between 2 × 1 + 0.5 = 2.5 and 3 × 1 + 0.5 = 3.5 s.  A busy
         * machine may wake the daemon late, but not by a whole interval: that would be a
         * fourth ping. */
        daemon_write_config(&d, "service silent {\n command = \"sleep 1000\"\n heartbeat-interval = 1\n"
                                " heartbeat-timeout = 0.5\n start-secs = 0.1\n}\n");
        long long t0 = now_ms();  /* before the spawn, so the measured delay is an upper bound */
        daemon_start(&d);
        pid_t first = 0, second = 0;
        ASSERT_WITHIN((first = service_pid_of(&d, "silent")) > 0, SOON_MS);
        ASSERT_WITHIN((second = service_pid_of(&d, "silent")) > 0 && second != first, SOON_MS);
        long long delay = now_ms() - t0;
        /* By the daemon's clock: from the spawn to the verdict. */
        long long detected = log_time_of(&d, "silent: hung:") - log_time_of(&d, "silent: spawned pid");
        fprintf(stderr, "silent service: declared hung %lld ms after its spawn, restarted %lld ms after the start "
                        "(bounds 2 x 1000 + 500 = 2500 and 3 x 1000 + 500 = 3500 ms)\n", detected, delay);
        ck_assert_msg(detected >= 2500 - 20 && detected < 3500 + 1000,
                      "declared hung %lld ms after the spawn, expected from 2500 to 3500 ms (and less than a fourth "
                      "ping later)", detected);
        ck_assert_msg(delay >= 2500 - 50, "restarted %lld ms after the start, expected at least 2500 ms", delay);
        ASSERT_WITHIN(!process_exists(first), SOON_MS);
        ck_assert(log_contains(&d, "silent: hung: 3 heartbeats missed in a row (interval 1s, timeout 0.5s, "
                                   "never answered)"));
        ASSERT_STATE_WITHIN(&d, "silent", "RUNNING", SOON_MS);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "--json status silent"), 0);
        ck_assert_ptr_nonnull(strstr(out, "\"restarts\":1"));
        ck_assert_ptr_nonnull(strstr(out, "\"heartbeat_rtt_ms\":null"));
        ck_assert_int_eq(count_zombie_children(d.pid), 0);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_sigstopped_service_restarted) {
        struct daemon d;
        daemon_init(&d);
        /* Bound from the SIGSTOP: 3 × 1 + 0.5 = 3.5 s. */
        daemon_write_config(&d, "service worker {\n command = \"%s\"\n heartbeat-interval = 1\n"
                                " heartbeat-timeout = 0.5\n heartbeat-misses = 3\n start-secs = 0.1\n}\n",
                            SHELL_RESPONDER);
        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "worker", "RUNNING", SOON_MS);
        ASSERT_WITHIN(heartbeat_rtt_of(&d, "worker") >= 0, SOON_MS);  /* it has answered */
        pid_t first = service_pid_of(&d, "worker"), second = 0;

        long long t0 = now_ms(), stopped_at = wall_ms();
        ck_assert_int_eq(kill(first, SIGSTOP), 0);
        ASSERT_WITHIN((second = service_pid_of(&d, "worker")) > 0 && second != first, SOON_MS);
        long long delay = now_ms() - t0;
        long long detected = log_time_of(&d, "worker: hung:") - stopped_at;
        fprintf(stderr, "SIGSTOPped service: declared hung %lld ms after SIGSTOP, running again as pid %d %lld ms "
                        "after it (bound 3 x 1000 + 500 = 3500 ms)\n", detected, (int)second, delay);
        /* At the earliest the stop lands just before a ping: 2 more intervals and a timeout.
         * A late wake-up of the daemon stays short of another interval. */
        ck_assert_msg(detected >= 2500 - 50 && detected < 3500 + 1000,
                      "declared hung %lld ms after SIGSTOP, expected from 2500 to 3500 ms (and less than a fourth "
                      "ping later)", detected);
        ck_assert_msg(delay >= 2500 - 50, "restarted %lld ms after SIGSTOP, expected at least 2500 ms", delay);
        ASSERT_WITHIN(!process_exists(first), SOON_MS);
        ck_assert(log_contains(&d, "worker: hung: 3 heartbeats missed in a row (interval 1s, timeout 0.5s, last "
                                   "answer"));
        ASSERT_STATE_WITHIN(&d, "worker", "RUNNING", SOON_MS);
        ck_assert_uint_eq(restarts_of(&d, "worker"), 1);
        /* The new process answers again. */
        ASSERT_WITHIN(heartbeat_rtt_of(&d, "worker") >= 0, SOON_MS);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_broken_services_do_not_disturb_others) {
        struct daemon d;
        char out[4096];
        daemon_init(&d);
        daemon_write_config(&d,
                            "service good {\n command = \"%s\"\n heartbeat-interval = 0.2\n heartbeat-misses = 3\n"
                            " start-secs = 0.1\n}\n"
                            /* closes both heartbeat fds */
                            "service closer {\n command = \"/bin/sh -c 'exec 3<&- 4>&-; exec sleep 1000'\"\n"
                            " heartbeat-interval = 0.2\n start-secs = 0.1\n}\n"
                            /* floods the pong pipe with garbage */
                            "service flood {\n command = \"/bin/sh -c 'exec yes garbage >&4'\"\n"
                            " heartbeat-interval = 0.2\n start-secs = 0.1\n}\n"
                            /* one endless line */
                            "service longline {\n command = \"/bin/sh -c 'exec cat /dev/zero >&4'\"\n"
                            " heartbeat-interval = 0.2\n start-secs = 0.1\n}\n"
                            /* answers a ping that was never sent */
                            "service wrong {\n command = \"/bin/sh -c 'while read -r _ seq <&3; do echo \\\"PONG "
                            "$((seq + 1))\\\" >&4; done'\"\n heartbeat-interval = 0.2\n start-secs = 0.1\n}\n",
                            SHELL_RESPONDER);
        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "good", "RUNNING", SOON_MS);
        pid_t good = service_pid_of(&d, "good");

        /* Twelve intervals, while the broken ones keep being declared hung. */
        for (long long end = now_ms() + 2400; now_ms() < end;) {
                ck_assert_int_eq(ctl(&d, out, sizeof out, "status good"), 0);
                sleep_ms(50);
        }
        ck_assert_int_eq(service_pid_of(&d, "good"), good);
        ck_assert_uint_eq(restarts_of(&d, "good"), 0);
        ck_assert(heartbeat_rtt_of(&d, "good") >= 0);
        ck_assert_uint_ge(restarts_of(&d, "closer"), 1);
        ck_assert_uint_ge(restarts_of(&d, "flood"), 1);
        ck_assert_uint_ge(restarts_of(&d, "longline"), 1);
        ck_assert_uint_ge(restarts_of(&d, "wrong"), 1);
        ck_assert(log_contains(&d, "closer: hung: 3 heartbeats missed in a row (interval 0.2s, timeout 0.2s, never "
                                   "answered, its pong pipe is closed)"));
        ck_assert(process_exists(d.pid));
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_hang_under_restart_policies) {
        struct daemon d;
        char out[4096];
        daemon_init(&d);
        daemon_write_config(&d,
                            /* RUNNING, restart = never: left EXITED, with the reason */
                            "service never {\n command = \"sleep 1000\"\n restart = never\n"
                            " heartbeat-interval = 0.1\n heartbeat-misses = 2\n start-secs = 0\n}\n"
                            /* hung while STARTING: a failed start, then FATAL */
                            "service starting {\n command = \"sleep 1000\"\n start-secs = 30\n start-retries = 2\n"
                            " restart-delay = 0.1\n heartbeat-interval = 0.1\n heartbeat-misses = 2\n}\n"
                            /* ignores the stop signal: SIGKILL after stop-timeout */
                            "service stubborn {\n command = \"/bin/sh -c 'trap \\\"\\\" TERM; while :; do sleep 0.1; done'\"\n"
                            " heartbeat-interval = 0.1\n heartbeat-misses = 2\n start-secs = 0\n stop-timeout = 0.3\n}\n");
        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "never", "EXITED", SOON_MS);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "status never"), 3);
        ck_assert_msg(strstr(out, "hung: 2 heartbeats missed in a row"), "%s", out);

        ASSERT_STATE_WITHIN(&d, "starting", "FATAL", SOON_MS);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "status starting"), 3);
        ck_assert_msg(strstr(out, "gave up after 2 failed starts: hung: 2 heartbeats missed"), "%s", out);

        ASSERT_WITHIN(restarts_of(&d, "stubborn") >= 1, SOON_MS);
        ck_assert(log_contains(&d, "stubborn: still running 0.3s after SIGTERM, sending SIGKILL"));
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_stop_during_hang_stop_wins) {
        struct daemon d;
        char out[4096];
        daemon_init(&d);
        daemon_write_config(&d, "service stubborn {\n command = \"/bin/sh -c 'trap \\\"\\\" TERM; while :; do sleep 0.1; done'\"\n"
                                " heartbeat-interval = 0.1\n heartbeat-misses = 1\n start-secs = 0\n stop-timeout = 1\n}\n");
        daemon_start(&d);
        /* Declared hung at 0.2 s, then STOPPING for a second because it ignores TERM. */
        ASSERT_STATE_WITHIN(&d, "stubborn", "STOPPING", SOON_MS);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "stop stubborn"), 0);
        char state[64];
        ck_assert_str_eq(service_state_of(&d, "stubborn", state, sizeof state), "STOPPED");
        sleep_ms(300);
        ck_assert_str_eq(service_state_of(&d, "stubborn", state, sizeof state), "STOPPED");
        ck_assert_uint_eq(restarts_of(&d, "stubborn"), 0);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_fds_and_environment) {
        struct daemon d;
        char list[256], value[256], path[64], link[256], fdinfo[512];
        daemon_init(&d);
        daemon_write_config(&d, "service beating {\n command = \"sleep 1000\"\n heartbeat-interval = 30\n start-secs = 0\n}\n"
                                "service plain {\n command = \"sleep 1000\"\n start-secs = 0\n}\n");
        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "beating", "RUNNING", SOON_MS);
        ASSERT_STATE_WITHIN(&d, "plain", "RUNNING", SOON_MS);
        pid_t beating = service_pid_of(&d, "beating"), plain = service_pid_of(&d, "plain");

        ck_assert_int_eq(count_fds(beating, list, sizeof list), 5);
        ck_assert_str_eq(list, "0 1 2 3 4");
        ck_assert(process_getenv(beating, "SUPERVISOR_PING_FD", value, sizeof value));
        ck_assert_str_eq(value, "3");
        ck_assert(process_getenv(beating, "SUPERVISOR_PONG_FD", value, sizeof value));
        ck_assert_str_eq(value, "4");
        for (int fd = 3; fd <= 4; fd++) {
                snprintf(path, sizeof path, "/proc/%d/fd/%d", (int)beating, fd);
                ssize_t n = readlink(path, link, sizeof link - 1);
                ck_assert_int_gt(n, 0);
                link[n] = '\0';
                ck_assert_msg(strncmp(link, "pipe:", 5) == 0, "fd %d is %s", fd, link);
                /* 3 is the read end, 4 the write end, both blocking for the service. */
                snprintf(path, sizeof path, "/proc/%d/fdinfo/%d", (int)beating, fd);
                ck_assert_int_gt(read_text_file(path, fdinfo, sizeof fdinfo), 0);
                unsigned flags = 0;
                ck_assert_int_eq(sscanf(strstr(fdinfo, "flags:"), "flags: %o", &flags), 1);
                ck_assert_uint_eq(flags & O_ACCMODE, fd == 3 ? O_RDONLY : O_WRONLY);
                ck_assert_uint_eq(flags & O_NONBLOCK, 0);
        }
        ck_assert_int_eq(count_fds(plain, list, sizeof list), 3);
        ck_assert_str_eq(list, "0 1 2");
        ck_assert(!process_getenv(plain, "SUPERVISOR_PING_FD", value, sizeof value));
        ck_assert(!process_getenv(plain, "NOTIFY_SOCKET", value, sizeof value));
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_many_services_one_timer) {
        struct daemon d;
        char out[16384];
        daemon_init(&d);
        daemon_write_config(&d, "service many {\n command = \"%s\"\n instances = 40\n heartbeat-interval = 0.4\n"
                                " heartbeat-timeout = 0.2\n heartbeat-misses = 3\n start-secs = 0.1\n}\n",
                            heartbeat_helper_path());
        daemon_start(&d);
        ASSERT_WITHIN(ctl(&d, out, sizeof out, "status many") == 0, SOON_MS);
        sleep_ms(4000);  /* ten intervals of forty services */
        ck_assert_int_eq(ctl(&d, out, sizeof out, "status many"), 0);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "--json status many"), 0);
        int answered = 0;
        for (const char *p = out; (p = strstr(p, "\"heartbeat_rtt_ms\":")); p++)
                answered += p[strlen("\"heartbeat_rtt_ms\":")] != 'n';
        ck_assert_int_eq(answered, 40);
        /* None hung: three misses in a row.  (One late answer on a busy machine is a miss
         * logged, not a failure of the shared timer.) */
        const char *restarted = strstr(out, "\"restarts\":");
        for (; restarted; restarted = strstr(restarted + 1, "\"restarts\":"))
                ck_assert_msg(atoi(restarted + strlen("\"restarts\":")) == 0, "a restart: %.300s", restarted);
        ck_assert(!log_contains(&d, "hung"));
        daemon_cleanup(&d);
}
END_TEST

/* The pings helper_ping_clock logged for service NAME: their CLOCK_MONOTONIC times. */
static int ping_times_of(struct daemon *d, const char *name, unsigned long long *times, int max) {
        static char buf[1 << 16];
        char path[256];
        snprintf(path, sizeof path, "%s/logs/%s.log", d->dir, name);
        if (read_text_file(path, buf, sizeof buf) < 0)
                return 0;
        int n = 0;
        for (char *line = buf; line && *line && n < max; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
                unsigned long long seq, at;
                if (sscanf(line, "ping %llu %llu", &seq, &at) == 2)
                        times[n++] = at;
        }
        return n;
}

static int compare_ull(const void *a, const void *b) {
        unsigned long long x = *(const unsigned long long *)a, y = *(const unsigned long long *)b;
        return x < y ? -1 : x > y;
}

/* The median of how long after a multiple of INTERVAL_US the pings of NAME arrived. */
static unsigned long long median_phase_us(struct daemon *d, const char *name, unsigned long long interval_us,
                                          int *ret_count) {
        unsigned long long times[256];
        int n = ping_times_of(d, name, times, 256);
        *ret_count = n;
        ck_assert_msg(n > 0, "%s: no pings logged", name);
        for (int i = 0; i < n; i++)
                times[i] %= interval_us;
        qsort(times, (size_t)n, sizeof times[0], compare_ull);
        return times[n / 2];
}

START_TEST(test_pings_on_a_shared_grid) {
        struct daemon d;
        char out[4096];
        daemon_init(&d);
        /* The second is started a third of an interval after the first: before the grid, each
         * kept the phase of its own spawn. */
        daemon_write_config(&d,
                            "service early {\n command = \"%s\"\n heartbeat-interval = 0.3\n start-secs = 0.1\n}\n"
                            "service late {\n command = \"%s\"\n heartbeat-interval = 0.3\n start-secs = 0.1\n"
                            " autostart = false\n}\n",
                            ping_clock_helper_path(), ping_clock_helper_path());
        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "early", "RUNNING", SOON_MS);
        sleep_ms(100);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "start late"), 0);
        sleep_ms(2000);

        int n_early, n_late;
        unsigned long long early = median_phase_us(&d, "early", 300000, &n_early);
        unsigned long long late = median_phase_us(&d, "late", 300000, &n_late);
        fprintf(stderr, "shared grid: pings arrive a median %.1f ms (early, %d pings) and %.1f ms (late, %d pings) "
                        "after the multiples of 300 ms\n", early / 1000.0, n_early, late / 1000.0, n_late);
        /* The same moments for both: spawned a third of an interval (100 ms) apart, each on
         * a phase of its own would be that far apart.  (How close to the multiple itself is
         * the machine's wake-up latency.) */
        unsigned long long apart = early > late ? early - late : late - early;
        apart = apart > 150000 ? 300000 - apart : apart;
        ck_assert_msg(apart < 50000, "pings %llu us apart in phase (early %llu, late %llu), expected the same moments",
                      apart, early, late);
        ck_assert_int_ge(n_late, 5);
        ck_assert(!log_contains(&d, "hung"));  /* a late answer on a busy machine may be one miss */
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_first_ping_waits_for_a_slow_start) {
        struct daemon d;
        char out[4096];
        daemon_init(&d);
        /* It listens only 1.2 s after its spawn, with a 0.2 s timeout and no miss allowed:
         * the first ping (less than 2 s after the spawn, maybe right away) may be answered
         * until 2.2 s after the spawn, or until the second ping, so more than 2 s. */
        daemon_write_config(&d,
                            "service slow {\n command = \"/bin/sh -c 'sleep 1.2; exec %s'\"\n heartbeat-interval = 2\n"
                            " heartbeat-timeout = 0.2\n heartbeat-misses = 1\n start-secs = 0\n}\n",
                            ping_clock_helper_path());
        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "slow", "RUNNING", SOON_MS);
        pid_t pid = service_pid_of(&d, "slow");
        ASSERT_WITHIN(heartbeat_rtt_of(&d, "slow") >= 0, SOON_MS);  /* the first answer */
        ck_assert_int_eq(ctl(&d, out, sizeof out, "--json status slow"), 0);
        ck_assert_msg(strstr(out, "\"restarts\":0"), "%s", out);
        ck_assert_int_eq(service_pid_of(&d, "slow"), pid);
        ck_assert(!log_contains(&d, "missed"));
        ck_assert(!log_contains(&d, "hung"));
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_rtt_of_a_slow_answer) {
        struct daemon d;
        daemon_init(&d);
        /* One service answers 60 ms after each ping, twenty others at once: the rounds that
         * read the quick answers rest between them, and the slow answer must still be
         * measured to within the documented factor of two. */
        daemon_write_config(&d,
                            "service slow {\n command = \"%s 60\"\n heartbeat-interval = 0.3\n start-secs = 0.1\n}\n"
                            "service quick {\n command = \"%s\"\n instances = 20\n heartbeat-interval = 0.3\n"
                            " start-secs = 0.1\n}\n",
                            ping_clock_helper_path(), heartbeat_helper_path());
        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "slow", "RUNNING", SOON_MS);
        double worst = 0, best = 1e9;
        for (int i = 0; i < 8; i++) {
                sleep_ms(150);
                double rtt = heartbeat_rtt_of(&d, "slow");
                if (rtt < 0)
                        continue;
                worst = rtt > worst ? rtt : worst;
                best = rtt < best ? rtt : best;
        }
        fprintf(stderr, "slow answer (60 ms): measured round trips %.1f to %.1f ms\n", best, worst);
        ck_assert_msg(best >= 60, "measured %.1f ms for a 60 ms answer", best);
        /* Counted as an answer, so within the timeout (= the 300 ms interval).  That the
         * measure is at most twice the real round trip is test_round_end's; here a busy
         * machine stretches the real one. */
        ck_assert_msg(worst < 300, "measured %.1f ms for a 60 ms answer, expected less than the 300 ms timeout", worst);
        ck_assert(!log_contains(&d, "hung"));  /* a late answer on a busy machine may be one miss */
        daemon_cleanup(&d);
}
END_TEST

/* A number from /proc/PID/status or /proc/PID/io: the value after "\nKEY: ". */
static long proc_figure(pid_t pid, const char *file, const char *key) {
        char path[64], buf[4096], needle[64];
        snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
        buf[0] = '\n';
        ck_assert_int_gt(read_text_file(path, buf + 1, sizeof buf - 1), 0);
        snprintf(needle, sizeof needle, "\n%s:", key);
        const char *p = strstr(buf, needle);
        ck_assert_msg(p != NULL, "no %s in %s", key, path);
        return atol(p + strlen(needle));
}

START_TEST(test_trickling_answers_read_in_rounds) {
        struct daemon d;
        char out[1 << 16];
        daemon_init(&d);
        /* Forty services answer 0, 2, 4, ... 78 ms after each ping: one wake-up per answer
         * would be forty per interval; rounds that rest as long as it has been since the
         * ping read them in about ten.  Their output goes nowhere: at the harness's
         * log-level debug it would be copied into supervisord's own log, a read of its own
         * per line (as Python supervisord's loglevel debug does), which is not what this
         * counts. */
        daemon_write_config(&d, "service trickle {\n command = \"%s 0 2\"\n instances = 40\n"
                                " heartbeat-interval = 0.3\n start-secs = 0.1\n stdout = null\n}\n",
                            ping_clock_helper_path());
        daemon_start(&d);
        ASSERT_WITHIN(ctl(&d, out, sizeof out, "status trickle") == 0, SOON_MS);
        sleep_ms(700);  /* every one has answered */
        long wakeups = proc_figure(d.pid, "status", "voluntary_ctxt_switches");
        long reads = proc_figure(d.pid, "io", "syscr");
        sleep_ms(3000);
        wakeups = proc_figure(d.pid, "status", "voluntary_ctxt_switches") - wakeups;
        reads = proc_figure(d.pid, "io", "syscr") - reads;
        /* Ten intervals of forty pongs: 400.  Each pipe is read once per pong, not again to
         * see EAGAIN; the rest of the reads empty the loop's timerfd, one per timer wake-up. */
        fprintf(stderr, "40 answers trickling in over 78 ms, 10 intervals: supervisord woke %ld times, "
                        "made %ld read calls\n", wakeups, reads);
        if (harness_instrumented()) {
                fprintf(stderr, "test_trickling_answers_read_in_rounds: figures not checked (instrumented build)\n");
        } else {
                /* One wake-up per answer would be 400; rounds take about 100 here, and
                 * twice that on a busy machine. */
                ck_assert_msg(wakeups < 300, "%ld wake-ups in 10 intervals", wakeups);
                ck_assert_msg(reads < 600, "%ld read calls for 400 pongs", reads);
        }
        ck_assert_int_eq(ctl(&d, out, sizeof out, "--json status trickle"), 0);
        int answered = 0;
        for (const char *p = out; (p = strstr(p, "\"heartbeat_rtt_ms\":")); p++)
                answered += p[strlen("\"heartbeat_rtt_ms\":")] != 'n';
        ck_assert_int_eq(answered, 40);
        ck_assert(!log_contains(&d, "hung"));  /* a late answer on a busy machine may be a miss */
        daemon_cleanup(&d);
}
END_TEST

static Suite *heartbeat_suite(void) {
        Suite *s = suite_create("heartbeat");
        TCase *unit = tcase_create("unit");
        tcase_add_test(unit, test_parse_pong);
        tcase_add_test(unit, test_format_ping);
        tcase_add_test(unit, test_next_tick);
        tcase_add_test(unit, test_deadline);
        tcase_add_test(unit, test_round_end);
        tcase_add_test(unit, test_config_defaults_and_values);
        tcase_add_test(unit, test_config_errors);
        suite_add_tcase(s, unit);

        TCase *tc = tcase_create("daemon");
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_answering_services_stay_up);
        tcase_add_test(tc, test_silent_service_restarted);
        tcase_add_test(tc, test_sigstopped_service_restarted);
        tcase_add_test(tc, test_broken_services_do_not_disturb_others);
        tcase_add_test(tc, test_hang_under_restart_policies);
        tcase_add_test(tc, test_stop_during_hang_stop_wins);
        tcase_add_test(tc, test_fds_and_environment);
        tcase_add_test(tc, test_many_services_one_timer);
        tcase_add_test(tc, test_pings_on_a_shared_grid);
        tcase_add_test(tc, test_first_ping_waits_for_a_slow_start);
        tcase_add_test(tc, test_rtt_of_a_slow_answer);
        tcase_add_test(tc, test_trickling_answers_read_in_rounds);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) { return run_suite(heartbeat_suite()) ? 1 : 0; }
