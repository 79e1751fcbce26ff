/* test_model.c — unit tests for model.c, the config builder alone: no file, no libconfuse,
 * no daemon.  A reader is played by the tests: each value comes with the file, line and
 * key name a reader of another syntax would give (py.conf, supervisord's key names), and
 * every message must name exactly those. */
#include <check.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "harness.h"
#include "model.h"

/* A builder with the globals every test needs (the defaults of socket, pidfile and
 * log-dir depend on who runs the tests). */
static struct config_builder *builder(void) {
        struct config_builder *b = config_builder_new("main.conf");
        ck_assert_ptr_nonnull(b);
        ck_assert_int_eq(config_builder_global(b, "socket", "/run/t.sock", "main.conf", 1, NULL), 0);
        ck_assert_int_eq(config_builder_global(b, "pidfile", "/run/t.pid", "main.conf", 2, NULL), 0);
        ck_assert_int_eq(config_builder_global(b, "log-dir", "/var/log/t", "main.conf", 3, NULL), 0);
        return b;
}

static struct config_builder_service *service(struct config_builder *b, const char *name, const char *file, int line) {
        struct config_builder_service *svc = NULL;
        ck_assert_int_eq(config_builder_service(b, name, file, line, &svc), 0);
        ck_assert_ptr_nonnull(svc);
        return svc;
}

static void set(struct config_builder *b, struct config_builder_service *svc, const char *key, const char *value,
                int line, const char *shown) {
        ck_assert_int_eq(config_builder_set(b, svc, key, value, "py.conf", line, shown), 0);
}

static struct config *finish_ok(struct config_builder *b) {
        char error[1024] = "";
        struct config *c = NULL;
        int r = config_builder_finish(b, &c, error, sizeof error);
        ck_assert_msg(r == 0, "finish = %d: %s", r, error);
        ck_assert_ptr_nonnull(c);
        return c;
}

static void finish_fails(struct config_builder *b, const char *expected) {
        char error[1024] = "";
        struct config *c = NULL;
        int r = config_builder_finish(b, &c, error, sizeof error);
        if (r == 0)
                config_free(c);
        ck_assert_msg(r == -EINVAL, "finish = %d (%s), expected \"%s\"", r, error, expected);
        ck_assert_msg(strcmp(error, expected) == 0, "got      \"%s\"\nexpected \"%s\"", error, expected);
}

/* ---- defaults ---- */

START_TEST(test_defaults) {
        struct config_builder *b = builder();
        struct config_builder_service *svc = service(b, "web", "py.conf", 10);
        set(b, svc, "command", "sleep 10", 11, "command");
        struct config *c = finish_ok(b);
        config_builder_free(b);
        ck_assert_str_eq(c->path, "main.conf");
        ck_assert_str_eq(c->socket, "/run/t.sock");
        ck_assert_int_eq(c->socket_line, 1);
        ck_assert_int_eq(c->pidfile_line, 2);
        ck_assert_int_eq(c->log_dir_line, 3);
        ck_assert_uint_eq(c->socket_mode, 0600);
        ck_assert(!c->has_socket_group);
        ck_assert_int_eq(c->log_level, LOG_INFO);
        ck_assert_int_eq(c->log_target, LOG_TARGET_AUTO);
        ck_assert_int_eq(c->cgroup_mode, CGROUP_AUTO);
        ck_assert_ptr_null(c->warnings);
        ck_assert_uint_eq(c->n_services, 1);
        const struct service_config *s = c->services[0];
        ck_assert_str_eq(s->name, "web");
        ck_assert_str_eq(s->file, "py.conf");
        ck_assert_int_eq(s->line, 10);
        ck_assert_int_eq(s->command_line, 11);
        ck_assert_int_eq(s->directory_line, 10);
        ck_assert_int_eq(s->user_line, 10);
        ck_assert_str_eq(s->argv[0], "sleep");
        ck_assert_str_eq(s->argv[1], "10");
        ck_assert_ptr_null(s->argv[2]);
        ck_assert_int_eq(s->type, SERVICE_SIMPLE);
        ck_assert_uint_eq(s->instances, 1);
        ck_assert_ptr_null(s->after[0]);
        ck_assert_ptr_null(s->environment[0]);
        ck_assert(s->autostart);
        ck_assert_int_eq(s->restart, RESTART_ON_FAILURE);
        ck_assert(service_config_is_success(s, 0));
        ck_assert(!service_config_is_success(s, 1));
        ck_assert_uint_eq(s->start_secs, 1 * USEC_PER_SEC);
        ck_assert_uint_eq(s->start_retries, 5);
        ck_assert_uint_eq(s->restart_delay, 100 * USEC_PER_MSEC);
        ck_assert_uint_eq(s->restart_delay_max, 30 * USEC_PER_SEC);
        ck_assert_int_eq(s->stop_signal, SIGTERM);
        ck_assert_uint_eq(s->stop_timeout, 10 * USEC_PER_SEC);
        ck_assert(!s->limit_nofile.set && !s->limit_nproc.set && !s->limit_core.set);
        ck_assert_int_eq(s->stdout_target, OUTPUT_LOG);
        ck_assert_int_eq(s->stderr_target, OUTPUT_STDOUT);
        ck_assert_uint_eq(s->log_max_size, 10485760);
        ck_assert_uint_eq(s->log_keep, 5);
        ck_assert_uint_eq(s->heartbeat_interval, 0);
        ck_assert_uint_eq(s->heartbeat_timeout, 0);
        ck_assert_uint_eq(s->heartbeat_misses, 3);
        ck_assert_uint_eq(s->ready_timeout, 0);
        ck_assert(!s->has_user && !s->has_group && !s->has_umask && !s->has_nice);
        config_free(c);
}
END_TEST

/* type = notify waits 90 s for READY=1 unless told; a heartbeat's timeout is its interval. */
START_TEST(test_defaults_that_follow_other_keys) {
        struct config_builder *b = builder();
        struct config_builder_service *svc = service(b, "n", "py.conf", 1);
        set(b, svc, "command", "x", 2, NULL);
        set(b, svc, "type", "notify", 3, NULL);
        set(b, svc, "heartbeat-interval", "2.5", 4, NULL);
        struct config *c = finish_ok(b);
        config_builder_free(b);
        ck_assert_uint_eq(c->services[0]->ready_timeout, 90 * USEC_PER_SEC);
        ck_assert_uint_eq(c->services[0]->heartbeat_timeout, 2500 * USEC_PER_MSEC);
        config_free(c);
}
END_TEST

START_TEST(test_repeatable_keys_append) {
        struct config_builder *b = builder();
        struct config_builder_service *svc = service(b, "a", "py.conf", 1);
        set(b, svc, "command", "x", 2, NULL);
        set(b, svc, "environment", "A=1", 3, "environment");
        set(b, svc, "environment", "B=2", 3, "environment");
        set(b, svc, "success-exit-codes", "2", 4, "exitcodes");
        set(b, svc, "success-exit-codes", "3", 4, "exitcodes");
        set(b, svc, "after", "b", 5, NULL);
        svc = service(b, "b", "py.conf", 6);
        set(b, svc, "command", "x", 7, NULL);
        ck_assert_int_eq(config_builder_set_empty(b, svc, "success-exit-codes", "py.conf", 8, "exitcodes"), 0);
        struct config *c = finish_ok(b);
        config_builder_free(b);
        const struct service_config *a = c->services[0];
        ck_assert_str_eq(a->environment[0], "A=1");
        ck_assert_str_eq(a->environment[1], "B=2");
        ck_assert_ptr_null(a->environment[2]);
        ck_assert(!service_config_is_success(a, 0));  /* given codes replace the default */
        ck_assert(service_config_is_success(a, 2) && service_config_is_success(a, 3));
        ck_assert_str_eq(a->after[0], "b");
        for (int code = 0; code < 256; code++)  /* given as none: none */
                ck_assert(!service_config_is_success(c->services[1], code));
        config_free(c);
}
END_TEST

START_TEST(test_unknown_key) {
        struct config_builder *b = builder();
        struct config_builder_service *svc = service(b, "a", "py.conf", 1);
        ck_assert_int_eq(config_builder_set(b, svc, "startsecs", "1", "py.conf", 2, NULL), -ENOENT);
        ck_assert_int_eq(config_builder_global(b, "command", "x", "py.conf", 2, NULL), -ENOENT);
        ck_assert_int_eq(config_builder_set_empty(b, svc, "command", "py.conf", 2, NULL), -ENOENT);
        ck_assert(config_model_has_key(true, "start-secs"));
        ck_assert(config_model_has_key(false, "log-dir"));
        ck_assert(!config_model_has_key(false, "start-secs"));
        config_builder_free(b);
}
END_TEST

/* ---- every validation message, at the reader's file and line, in the reader's words ---- */

struct bad_value {
        const char *key, *value, *message;  /* message: after "py.conf:12: " */
};

START_TEST(test_every_service_message) {
        static const struct bad_value cases[] = {
                { "command", "'unclosed", "cmd: unterminated single quote" },
                { "type", "oneshot", "cmd: 'oneshot' is not one of simple, notify, forking" },
                { "pidfile", "/run/x.pid", "cmd: only for type = forking" },
                { "instances", "0", "cmd: '0' is not an integer from 1 to 10000" },
                { "after", "b/c", "cmd: 'b/c' is not a service name" },
                { "directory", "tmp", "cmd: 'tmp' is not an absolute path" },
                { "group", "no-such-group-here", "cmd: unknown group 'no-such-group-here'" },
                { "user", "no-such-user-here", "cmd: unknown user 'no-such-user-here'" },
                { "umask", "0999", "cmd: '0999' is not an octal mode such as 022" },
                { "nice", "20", "cmd: '20' is not an integer from -20 to 19" },
                { "environment", "1A=b", "cmd: '1A=b' is not of the form KEY=VALUE" },
                { "environment", "SUPERVISOR_PING_FD=3", "cmd: SUPERVISOR_PING_FD is set by supervisord" },
                { "autostart", "maybe", "cmd: 'maybe' is not true or false" },
                { "restart", "unexpected", "cmd: 'unexpected' is not one of always, on-failure, never" },
                { "success-exit-codes", "256", "cmd: '256' is not an exit code from 0 to 255" },
                { "start-secs", "abc", "cmd: 'abc' is not a number of seconds" },
                { "restart-delay", "-1", "cmd: '-1' is not a number of seconds" },
                { "restart-delay", "0", "cmd: must be greater than 0" },
                { "restart-delay-max", "0.01", "cmd: must not be less than restart-delay" },
                { "stop-timeout", "soon", "cmd: 'soon' is not a number of seconds" },
                { "start-retries", "-1", "cmd: '-1' is not an integer from 0 to 1000000" },
                { "stop-signal", "SIGFOO", "cmd: unknown signal 'SIGFOO'" },
                { "limit-nofile", "lots", "cmd: 'lots' is not a non-negative integer or 'infinity'" },
                { "stdout", "stdout", "cmd: 'stdout' is not one of log, null, inherit, journal" },
                { "stderr", "file", "cmd: 'file' is not one of log, null, inherit, journal, stdout" },
                { "log-max-size", "100", "cmd: '100' is not 0 or a size of at least 4096 bytes (suffix K, M or G "
                                         "allowed)" },
                { "log-keep", "1001", "cmd: '1001' is not an integer from 0 to 1000" },
                { "heartbeat-interval", "0.001", "cmd: must be 0 (off) or at least 0.01 seconds" },
                { "heartbeat-timeout", "0", "cmd: '0' is not a positive number of seconds" },
                { "heartbeat-misses", "0", "cmd: '0' is not an integer from 1 to 1000" },
                { "ready-timeout", "5", "cmd: only for type = notify" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct config_builder *b = builder();
                struct config_builder_service *svc = service(b, "web", "py.conf", 10);
                if (strcmp(cases[i].key, "command") != 0)
                        set(b, svc, "command", "sleep 1", 11, NULL);
                /* the key is named "cmd" by this reader: the message must say so */
                set(b, svc, cases[i].key, cases[i].value, 12, "cmd");
                char expected[512];
                snprintf(expected, sizeof expected, "py.conf:12: %s", cases[i].message);
                finish_fails(b, expected);
                config_builder_free(b);
        }
}
END_TEST

START_TEST(test_every_global_message) {
        static const struct bad_value cases[] = {
                { "socket", "run/s", "socket: 'run/s' is not an absolute path" },
                { "socket-mode", "0800", "socket-mode: '0800' is not an octal mode such as 0660" },
                { "socket-group", "no-such-group-here", "socket-group: unknown group 'no-such-group-here'" },
                { "pidfile", "x.pid", "pidfile: 'x.pid' is not an absolute path" },
                { "log-level", "loud", "log-level: 'loud' is not one of error, warning, notice, info, debug" },
                { "log-dir", "logs", "log-dir: 'logs' is not an absolute path" },
                { "log-target", "file", "log-target: 'file' is not one of auto, stderr, journal, syslog, none" },
                { "cgroup", "on", "cgroup: 'on' is not auto, off or an absolute path" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct config_builder *b = config_builder_new("main.conf");
                ck_assert_int_eq(config_builder_global(b, cases[i].key, cases[i].value, "py.conf", 4, NULL), 0);
                static const char *const paths[][2] = {
                        { "socket", "/run/t.sock" }, { "pidfile", "/run/t.pid" }, { "log-dir", "/var/log/t" } };
                for (size_t j = 0; j < ELEMENTSOF(paths); j++)
                        if (strcmp(paths[j][0], cases[i].key) != 0)
                                config_builder_global(b, paths[j][0], paths[j][1], "py.conf", 1, NULL);
                char expected[512];
                snprintf(expected, sizeof expected, "py.conf:4: %s", cases[i].message);
                finish_fails(b, expected);
                config_builder_free(b);
        }
}
END_TEST

/* The example of the model's header: supervisord's startsecs at py.conf:12. */
START_TEST(test_message_in_the_readers_words) {
        struct config_builder *b = builder();
        struct config_builder_service *svc = service(b, "web", "py.conf", 10);
        set(b, svc, "command", "sleep 1", 11, "command");
        set(b, svc, "start-secs", "abc", 12, "startsecs");
        finish_fails(b, "py.conf:12: startsecs: 'abc' is not a number of seconds");
        config_builder_free(b);
}
END_TEST

/* A problem of a key left at its default, or of the service as a whole, is at the service. */
START_TEST(test_message_without_a_line_of_its_own) {
        struct config_builder *b = builder();
        struct config_builder_service *svc = service(b, "web", "py.conf", 10);
        finish_fails(b, "py.conf:10: service 'web' has no command");
        config_builder_free(b);

        b = builder();
        svc = service(b, "web", "py.conf", 10);
        set(b, svc, "command", "x", 11, NULL);
        set(b, svc, "restart-delay", "60", 12, NULL);  /* above the default restart-delay-max */
        finish_fails(b, "py.conf:10: restart-delay-max: must not be less than restart-delay");
        config_builder_free(b);
}
END_TEST

/* Whatever order a reader gives the keys in, the first problem in the model's order wins. */
START_TEST(test_first_problem_in_model_order) {
        struct config_builder *b = builder();
        struct config_builder_service *svc = service(b, "web", "py.conf", 10);
        set(b, svc, "log-keep", "many", 11, NULL);
        set(b, svc, "type", "odd", 12, NULL);
        set(b, svc, "command", "x", 13, NULL);
        finish_fails(b, "py.conf:12: type: 'odd' is not one of simple, notify, forking");
        config_builder_free(b);
}
END_TEST

START_TEST(test_key_given_twice) {
        struct config_builder *b = builder();
        struct config_builder_service *svc = service(b, "web", "py.conf", 10);
        set(b, svc, "command", "x", 11, NULL);
        set(b, svc, "command", "y", 14, NULL);
        finish_fails(b, "py.conf:14: command: set twice (first at py.conf:11)");
        config_builder_free(b);
}
END_TEST

/* ---- the names rule ---- */

START_TEST(test_names_rule) {
        static const char *const good[] = { "web", "über-dienst", "a@b", "x.y_z-1", "日本", "a!b", "%(x)s" };
        static const char *const bad[] = {
                "", "a b", "a\tb", "a:b", "a/b", "a\nb", "a\x7f", "\xff", "\xc0\xaf", "\xed\xa0\x80",
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" /* 65 */,
        };
        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                ck_assert_msg(config_model_name_is_valid(good[i]), "'%s' refused", good[i]);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                ck_assert_msg(!config_model_name_is_valid(bad[i]), "'%s' accepted", bad[i]);
        ck_assert(config_model_name_is_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));

        struct config_builder *b = builder();
        struct config_builder_service *svc = service(b, "über", "py.conf", 1);
        set(b, svc, "command", "x", 2, NULL);
        struct config *c = finish_ok(b);
        ck_assert_str_eq(c->services[0]->name, "über");
        config_free(c);
        config_builder_free(b);

        b = builder();
        svc = service(b, "a:b", "py.conf", 5);
        set(b, svc, "command", "x", 6, NULL);
        finish_fails(b, "py.conf:5: invalid service name 'a:b': use 1 to 64 bytes of UTF-8 without whitespace, "
                        "control characters, ':' or '/'");
        config_builder_free(b);

        b = builder();
        svc = service(b, "all", "py.conf", 5);
        set(b, svc, "command", "x", 6, NULL);
        finish_fails(b, "py.conf:5: the service name 'all' is reserved (it addresses every service)");
        config_builder_free(b);
}
END_TEST

static bool only_lower(const char *name) {
        for (const char *p = name; *p; p++)
                if (*p < 'a' || *p > 'z')
                        return false;
        return *name != '\0';
}

/* A reader's own rule applies to names and to the names in `after`. */
START_TEST(test_readers_name_rule) {
        struct config_builder *b = builder();
        config_builder_name_rule(b, only_lower, "a-z");
        struct config_builder_service *svc = service(b, "web", "py.conf", 1);
        set(b, svc, "command", "x", 2, NULL);
        set(b, svc, "after", "Db", 3, NULL);
        finish_fails(b, "py.conf:3: after: 'Db' is not a service name");
        config_builder_free(b);

        b = builder();
        config_builder_name_rule(b, only_lower, "a-z");
        svc = service(b, "über", "py.conf", 1);
        finish_fails(b, "py.conf:1: invalid service name 'über': use a-z");
        config_builder_free(b);
}
END_TEST

/* ---- cross-checks ---- */

START_TEST(test_cross_checks_between_keys) {
        struct config_builder *b = builder();
        struct config_builder_service *svc = service(b, "d", "py.conf", 1);
        set(b, svc, "command", "x", 2, NULL);
        set(b, svc, "type", "forking", 3, NULL);
        finish_fails(b, "py.conf:3: type = forking needs a pidfile");
        config_builder_free(b);

        b = builder();
        svc = service(b, "d", "py.conf", 1);
        set(b, svc, "command", "x", 2, NULL);
        set(b, svc, "type", "forking", 3, NULL);
        set(b, svc, "pidfile", "/run/d.pid", 4, NULL);
        set(b, svc, "instances", "2", 5, "numprocs");
        finish_fails(b, "py.conf:5: numprocs: not supported with type = forking (one pidfile)");
        config_builder_free(b);

        b = builder();
        svc = service(b, "h", "py.conf", 1);
        set(b, svc, "command", "x", 2, NULL);
        set(b, svc, "heartbeat-interval", "1", 3, NULL);
        set(b, svc, "heartbeat-timeout", "2", 4, NULL);
        finish_fails(b, "py.conf:4: heartbeat-timeout: must not be greater than heartbeat-interval (1s)");
        config_builder_free(b);

        /* a timeout without heartbeats is accepted and means nothing */
        b = builder();
        svc = service(b, "h", "py.conf", 1);
        set(b, svc, "command", "x", 2, NULL);
        set(b, svc, "heartbeat-timeout", "2", 4, NULL);
        struct config *c = finish_ok(b);
        ck_assert_uint_eq(c->services[0]->heartbeat_timeout, 0);
        config_free(c);
        config_builder_free(b);
}
END_TEST

START_TEST(test_dependencies) {
        struct config_builder *b = builder();
        struct config_builder_service *svc = service(b, "a", "one.conf", 1);
        set(b, svc, "command", "x", 2, NULL);
        svc = service(b, "b", "two.conf", 7);
        set(b, svc, "command", "x", 8, NULL);
        ck_assert_int_eq(config_builder_set(b, svc, "after", "a", "two.conf", 9, "depends"), 0);
        ck_assert_int_eq(config_builder_set(b, svc, "after", "nobody", "two.conf", 10, "depends"), 0);
        finish_fails(b, "two.conf:10: depends: no service named 'nobody'");
        config_builder_free(b);

        b = builder();
        svc = service(b, "a", "one.conf", 1);
        set(b, svc, "command", "x", 2, NULL);
        ck_assert_int_eq(config_builder_set(b, svc, "after", "c", "one.conf", 3, NULL), 0);
        svc = service(b, "b", "one.conf", 4);
        set(b, svc, "command", "x", 5, NULL);
        ck_assert_int_eq(config_builder_set(b, svc, "after", "a", "one.conf", 6, NULL), 0);
        svc = service(b, "c", "two.conf", 1);
        set(b, svc, "command", "x", 2, NULL);
        ck_assert_int_eq(config_builder_set(b, svc, "after", "b", "two.conf", 3, NULL), 0);
        finish_fails(b, "one.conf:6: after: dependency cycle a -> c -> b -> a");  /* closed at b */
        config_builder_free(b);
}
END_TEST

START_TEST(test_name_defined_twice) {
        struct config_builder *b = builder();
        struct config_builder_service *svc = service(b, "a", "one.conf", 1);
        set(b, svc, "command", "x", 2, NULL);
        svc = service(b, "a", "two.conf", 5);
        set(b, svc, "command", "x", 6, NULL);
        finish_fails(b, "two.conf:5: service 'a' is defined twice (first at one.conf:1)");
        config_builder_free(b);
}
END_TEST

/* check judges what was given so far: a reader reports a file's problem before reading on. */
START_TEST(test_check_as_files_are_read) {
        struct config_builder *b = builder();
        struct config_builder_service *svc = service(b, "a", "one.conf", 1);
        set(b, svc, "command", "x", 2, NULL);
        char error[512] = "";
        ck_assert_int_eq(config_builder_check(b, error, sizeof error), 0);
        svc = service(b, "b", "two.conf", 3);
        set(b, svc, "nice", "99", 4, NULL);
        ck_assert_int_eq(config_builder_check(b, error, sizeof error), -EINVAL);
        ck_assert_str_eq(error, "two.conf:3: service 'b' has no command");
        config_builder_free(b);
}
END_TEST

/* ---- look-ups ---- */

START_TEST(test_user_and_group_lookups) {
        struct passwd *pw = getpwuid(0);
        ck_assert_ptr_nonnull(pw);
        struct config_builder *b = builder();
        struct config_builder_service *svc = service(b, "r", "py.conf", 1);
        set(b, svc, "command", "x", 2, NULL);
        set(b, svc, "user", pw->pw_name, 3, NULL);
        svc = service(b, "g", "py.conf", 4);
        set(b, svc, "command", "x", 5, NULL);
        set(b, svc, "user", "0", 6, NULL);
        set(b, svc, "group", "12345", 7, NULL);
        struct config *c = finish_ok(b);
        config_builder_free(b);
        const struct service_config *r = c->services[0], *g = c->services[1];
        ck_assert(r->has_user && !r->has_group);
        ck_assert_uint_eq(r->uid, 0);
        ck_assert_uint_eq(r->gid, pw->pw_gid);
        ck_assert_str_eq(r->user_name, pw->pw_name);
        ck_assert_str_eq(r->user_home, pw->pw_dir);
        ck_assert_uint_ge(r->n_groups, 1);
        ck_assert_int_eq(r->user_line, 3);
        ck_assert(g->has_user && g->has_group);
        ck_assert_uint_eq(g->gid, 12345);
        bool found = false;  /* the primary group is among the groups the child gets */
        for (size_t i = 0; i < g->n_groups; i++)
                found |= g->groups[i] == 12345;
        ck_assert(found);
        config_free(c);
}
END_TEST

/* ---- warnings ---- */

START_TEST(test_warnings) {
        struct config_builder *b = builder();
        ck_assert_int_eq(config_builder_warn(b, "py.conf", 3, "ignored key '%s'", "umask"), 0);
        struct config_builder_service *svc = service(b, "a", "py.conf", 10);
        set(b, svc, "command", "x", 11, NULL);
        set(b, svc, "environment", "A=1,B=2", 12, "env");
        ck_assert_int_eq(config_builder_warn(b, "py.conf", 0, "no line"), 0);
        struct config *c = finish_ok(b);
        config_builder_free(b);
        ck_assert_ptr_nonnull(c->warnings);
        ck_assert_str_eq(c->warnings[0], "py.conf:3: warning: ignored key 'umask'");
        ck_assert_str_eq(c->warnings[1], "py.conf: warning: no line");
        ck_assert_str_eq(c->warnings[2], "py.conf:12: warning: env: \"A=1,B=2\" is one variable, A, with the value "
                                         "\"1,B=2\"; for several, write env = { \"A=1\", \"B=2\" }");
        ck_assert_ptr_null(c->warnings[3]);
        config_free(c);
}
END_TEST

/* Only the builder's own: nothing leaks when a half-built one is dropped. */
START_TEST(test_free_half_built) {
        config_builder_free(NULL);
        struct config_builder *b = builder();
        struct config_builder_service *svc = service(b, "a", "py.conf", 1);
        set(b, svc, "command", "x", 2, NULL);
        set(b, svc, "environment", "A=1", 3, NULL);
        char error[256] = "";
        ck_assert_int_eq(config_builder_check(b, error, sizeof error), 0);
        config_builder_free(b);
}
END_TEST

static Suite *model_suite(void) {
        Suite *s = suite_create("model");
        TCase *tc = tcase_create("defaults");
        tcase_add_test(tc, test_defaults);
        tcase_add_test(tc, test_defaults_that_follow_other_keys);
        tcase_add_test(tc, test_repeatable_keys_append);
        tcase_add_test(tc, test_unknown_key);
        suite_add_tcase(s, tc);

        tc = tcase_create("messages");
        tcase_add_test(tc, test_every_service_message);
        tcase_add_test(tc, test_every_global_message);
        tcase_add_test(tc, test_message_in_the_readers_words);
        tcase_add_test(tc, test_message_without_a_line_of_its_own);
        tcase_add_test(tc, test_first_problem_in_model_order);
        tcase_add_test(tc, test_key_given_twice);
        suite_add_tcase(s, tc);

        tc = tcase_create("names");
        tcase_add_test(tc, test_names_rule);
        tcase_add_test(tc, test_readers_name_rule);
        suite_add_tcase(s, tc);

        tc = tcase_create("cross-checks");
        tcase_add_test(tc, test_cross_checks_between_keys);
        tcase_add_test(tc, test_dependencies);
        tcase_add_test(tc, test_name_defined_twice);
        tcase_add_test(tc, test_check_as_files_are_read);
        tcase_add_test(tc, test_user_and_group_lookups);
        suite_add_tcase(s, tc);

        tc = tcase_create("warnings");
        tcase_add_test(tc, test_warnings);
        tcase_add_test(tc, test_free_half_built);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return run_suite(model_suite()) ? 1 : 0;
}
