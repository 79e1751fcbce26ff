/* test_config.c — unit tests for config.c: defaults, the parsing of every option and every
 * validation error with its exact "FILE:LINE: message".  Each test writes its config file
 * into a private temporary directory and loads it with config_load(). */
#include <check.h>
#include <dirent.h>
#include <ftw.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "config.h"
#include "eventtype.h"
#include "harness.h"
#include "ini_config.h"

/* ---- fixture: a temporary directory per test case ---- */

static char test_dir[64];
static char conf_path[128];

static void dir_setup(void) {
        snprintf(test_dir, sizeof test_dir, "/tmp/supervisord-config-test.XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(test_dir));
        snprintf(conf_path, sizeof conf_path, "%s/supervisord.conf", test_dir);
}

/* The directory only ever holds plain files (and the one directory of test_error_is_directory). */
static void dir_teardown(void) {
        DIR *dir = opendir(test_dir);
        if (dir) {
                struct dirent *e;
                while ((e = readdir(dir))) {
                        char path[512];
                        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                                continue;
                        snprintf(path, sizeof path, "%s/%s", test_dir, e->d_name);
                        if (unlink(path) < 0)
                                rmdir(path);
                }
                closedir(dir);
        }
        rmdir(test_dir);
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        (void)st;
        (void)type;
        (void)ftw;
        return remove(path) < 0 ? 0 : 0;
}

/* For the test cases that build directories of their own in test_dir. */
static void tree_teardown(void) { nftw(test_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS); }

/* ---- helpers ---- */

static void write_file(const char *path, const char *text, size_t size) {
        FILE *f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        ck_assert_uint_eq(fwrite(text, 1, size, f), size);
        ck_assert_int_eq(fclose(f), 0);
}

/* Load TEXT; the test fails with the loader's message if it is rejected. */
static struct config *load_ok(const char *text) {
        char error[1024];
        struct config *config = NULL;
        write_file(conf_path, text, strlen(text));
        int r = config_load(conf_path, &config, error, sizeof error);
        ck_assert_msg(r == 0, "config_load failed (%d): %s", r, error);
        ck_assert_ptr_nonnull(config);
        return config;
}

/* Load TEXT, expect it rejected with exactly "FILE:LINE: MESSAGE" (LINE 0: "FILE: MESSAGE"). */
static void assert_load_error(const char *text, int line, const char *message) {
        char error[1024], expected[1024];
        struct config *config = NULL;
        write_file(conf_path, text, strlen(text));
        int r = config_load(conf_path, &config, error, sizeof error);
        if (r == 0)
                config_free(config);
        ck_assert_msg(r == -EINVAL, "config_load = %d (%s), expected -EINVAL for:\n%s", r, error, text);
        if (line > 0)
                snprintf(expected, sizeof expected, "%s:%d: %s", conf_path, line, message);
        else
                snprintf(expected, sizeof expected, "%s: %s", conf_path, message);
        ck_assert_msg(strcmp(error, expected) == 0, "got      \"%s\"\nexpected \"%s\"\nfor config:\n%s", error,
                      expected, text);
}

static bool is_success(const struct service_config *s, int code) {
        return service_config_is_success(s, code);
}

/* Three lines of noise (a comment, a blank line, another comment) so that every error below
 * proves the line number counts comments and blank lines. */
#define NOISE "# leading comment\n\n// another comment\n"

/* ---- defaults ---- */

START_TEST(test_defaults) {
        struct config *c = load_ok("service web {\n"
                                   "    command = \"sleep 10\"\n"
                                   "}\n");
        ck_assert_str_eq(c->path, conf_path);
        ck_assert_str_eq(c->socket, "/run/supervisord.sock");
        ck_assert_str_eq(c->socket, CONFIG_DEFAULT_SOCKET);
        ck_assert_uint_eq(c->socket_mode, 0600);
        ck_assert(!c->has_socket_group);
        ck_assert_str_eq(c->pidfile, "/run/supervisord.pid");
        ck_assert_str_eq(c->pidfile, CONFIG_DEFAULT_PIDFILE);
        ck_assert_int_eq(c->log_level, LOG_INFO);
        ck_assert_uint_eq(c->n_services, 1);

        const struct service_config *s = c->services[0];
        ck_assert_str_eq(s->name, "web");
        ck_assert_str_eq(s->file, conf_path);
        ck_assert_int_eq(s->line, 1);
        ck_assert_str_eq(s->command, "sleep 10");
        ck_assert_ptr_nonnull(s->argv);
        ck_assert_str_eq(s->argv[0], "sleep");
        ck_assert_str_eq(s->argv[1], "10");
        ck_assert_ptr_null(s->argv[2]);
        ck_assert_ptr_null(s->directory);
        ck_assert(!s->has_user);
        ck_assert(!s->has_group);
        ck_assert_ptr_null(s->user_name);
        ck_assert_ptr_null(s->user_home);
        ck_assert(!s->has_umask);
        ck_assert(!s->has_nice);
        ck_assert_ptr_nonnull(s->environment);
        ck_assert_ptr_null(s->environment[0]);
        ck_assert(s->autostart);
        ck_assert_int_eq(s->restart, RESTART_ON_FAILURE);
        ck_assert(is_success(s, 0));
        for (int code = 1; code <= 255; code++)
                ck_assert_msg(!is_success(s, code), "exit code %d counts as success", code);
        ck_assert_uint_eq(s->start_secs, 1000000);
        ck_assert_uint_eq(s->start_retries, 5);
        ck_assert_uint_eq(s->restart_delay, 100000);
        ck_assert_uint_eq(s->restart_delay_max, 30000000);
        ck_assert_int_eq(s->stop_signal, SIGTERM);
        ck_assert_uint_eq(s->stop_timeout, 10000000);
        ck_assert(!s->limit_nofile.set);
        ck_assert(!s->limit_nproc.set);
        ck_assert(!s->limit_core.set);
        config_free(c);
}
END_TEST

START_TEST(test_empty_file) {
        struct config *c = load_ok("");
        ck_assert_uint_eq(c->n_services, 0);
        ck_assert_str_eq(c->socket, "/run/supervisord.sock");
        ck_assert_str_eq(c->pidfile, "/run/supervisord.pid");
        config_free(c);

        c = load_ok(NOISE "/* a block\n   comment */\n");
        ck_assert_uint_eq(c->n_services, 0);
        config_free(c);
}
END_TEST

/* ---- global options ---- */

START_TEST(test_globals) {
        struct config *c = load_ok("socket = \"/tmp/x/supervisord.sock\"\n"
                                   "socket-mode = \"0660\"\n"
                                   "socket-group = \"nogroup\"\n"
                                   "pidfile = \"/tmp/x/supervisord.pid\"\n"
                                   "log-level = debug\n");
        struct group *nogroup = getgrnam("nogroup");
        ck_assert_ptr_nonnull(nogroup);
        ck_assert_str_eq(c->socket, "/tmp/x/supervisord.sock");
        ck_assert_uint_eq(c->socket_mode, 0660);
        ck_assert(c->has_socket_group);
        ck_assert_uint_eq(c->socket_gid, nogroup->gr_gid);
        ck_assert_str_eq(c->pidfile, "/tmp/x/supervisord.pid");
        ck_assert_int_eq(c->log_level, LOG_DEBUG);
        ck_assert_uint_eq(c->n_services, 0);
        config_free(c);
}
END_TEST

START_TEST(test_main_log_options) {
        struct config *c = load_ok("log-level = info\n");
        ck_assert_ptr_null(c->log_file);
        ck_assert_uint_eq(c->log_file_max_size, 52428800);
        ck_assert_uint_eq(c->log_file_keep, 10);
        config_free(c);
        c = load_ok("log-file = /var/log/supervisord.log\nlog-file-max-size = 1M\nlog-file-keep = 0\n"
                    "log-target = none\n");
        ck_assert_str_eq(c->log_file, "/var/log/supervisord.log");
        ck_assert_uint_eq(c->log_file_max_size, 1u << 20);
        ck_assert_uint_eq(c->log_file_keep, 0);
        ck_assert_int_eq(c->log_target, LOG_TARGET_NONE);
        config_free(c);
        c = load_ok("log-file = -\n");
        ck_assert_str_eq(c->log_file, "-");
        config_free(c);
        assert_load_error("log-level = info\nlog-file = main.log\n", 2,
                          "log-file: 'main.log' is not an absolute path or -");
        assert_load_error("log-file = /var/log/\n", 1, "log-file: '/var/log/' names a directory, not a file");
        assert_load_error("\nlog-file-max-size = 100\n", 2,
                          "log-file-max-size: '100' is not 0 or a size of at least 4096 bytes (suffix K, M or G allowed)");
        assert_load_error("log-file-keep = 1001\n", 1, "log-file-keep: '1001' is not an integer from 0 to 1000");
}
END_TEST

START_TEST(test_log_levels) {
        static const struct {
                const char *name;
                int level;
        } levels[] = { { "error", LOG_ERR },  { "warning", LOG_WARNING }, { "notice", LOG_NOTICE },
                       { "info", LOG_INFO }, { "debug", LOG_DEBUG } };
        for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
                char text[64];
                snprintf(text, sizeof text, "log-level = \"%s\"\n", levels[i].name);
                struct config *c = load_ok(text);
                ck_assert_int_eq(c->log_level, levels[i].level);
                config_free(c);
        }
}
END_TEST

START_TEST(test_cgroup_option) {
        struct config *c = load_ok("");
        ck_assert_int_eq(c->cgroup_mode, CGROUP_AUTO);
        ck_assert_ptr_null(c->cgroup_path);
        config_free(c);
        c = load_ok("cgroup = off\n");
        ck_assert_int_eq(c->cgroup_mode, CGROUP_OFF);
        config_free(c);
        c = load_ok("cgroup = /sys/fs/cgroup/unified/supervisord\n");
        ck_assert_int_eq(c->cgroup_mode, CGROUP_PATH);
        ck_assert_str_eq(c->cgroup_path, "/sys/fs/cgroup/unified/supervisord");
        config_free(c);
        assert_load_error(NOISE "cgroup = sometimes\n", 4, "cgroup: 'sometimes' is not auto, off or an absolute path");
        assert_load_error(NOISE "cgroup = relative/dir\n", 4,
                          "cgroup: 'relative/dir' is not auto, off or an absolute path");
}
END_TEST

START_TEST(test_socket_group_number) {
        struct config *c = load_ok("socket-group = 1234\nsocket-mode = 0666\n");
        ck_assert(c->has_socket_group);
        ck_assert_uint_eq(c->socket_gid, 1234);
        ck_assert_uint_eq(c->socket_mode, 0666);
        config_free(c);
}
END_TEST

/* ---- service options ---- */

START_TEST(test_every_service_option) {
        struct config *c = load_ok(NOISE
                                   "service \"web.1\" {\n"
                                   "    command = \"/bin/sh -c 'echo \\\"hi there\\\"' x\"\n"
                                   "    directory = \"/tmp\"\n"
                                   "    umask = \"022\"\n"
                                   "    nice = 5\n"
                                   "    environment = { \"A=1\", \"B_2=x=y\", \"EMPTY=\" }\n"
                                   "    autostart = false\n"
                                   "    restart = always\n"
                                   "    success-exit-codes = { 0, 2 }\n"
                                   "    start-secs = 0\n"
                                   "    start-retries = 0\n"
                                   "    restart-delay = 0.5\n"
                                   "    restart-delay-max = 60\n"
                                   "    stop-signal = KILL\n"
                                   "    stop-timeout = 2.5\n"
                                   "    limit-nofile = 1024\n"
                                   "    limit-nproc = infinity\n"
                                   "    limit-core = 0\n"
                                   "}\n");
        ck_assert_uint_eq(c->n_services, 1);
        const struct service_config *s = c->services[0];
        ck_assert_str_eq(s->name, "web.1");
        ck_assert_int_eq(s->line, 4);
        ck_assert_str_eq(s->command, "/bin/sh -c 'echo \"hi there\"' x");
        ck_assert_str_eq(s->argv[0], "/bin/sh");
        ck_assert_str_eq(s->argv[1], "-c");
        ck_assert_str_eq(s->argv[2], "echo \"hi there\"");
        ck_assert_str_eq(s->argv[3], "x");
        ck_assert_ptr_null(s->argv[4]);
        ck_assert_str_eq(s->directory, "/tmp");
        ck_assert(s->has_umask);
        ck_assert_uint_eq(s->umask, 022);
        ck_assert(s->has_nice);
        ck_assert_int_eq(s->nice, 5);
        ck_assert_str_eq(s->environment[0], "A=1");
        ck_assert_str_eq(s->environment[1], "B_2=x=y");
        ck_assert_str_eq(s->environment[2], "EMPTY=");
        ck_assert_ptr_null(s->environment[3]);
        ck_assert(!s->autostart);
        ck_assert_int_eq(s->restart, RESTART_ALWAYS);
        ck_assert(is_success(s, 0));
        ck_assert(!is_success(s, 1));
        ck_assert(is_success(s, 2));
        ck_assert(!is_success(s, 3));
        ck_assert_uint_eq(s->start_secs, 0);
        ck_assert_uint_eq(s->start_retries, 0);
        ck_assert_uint_eq(s->restart_delay, 500000);
        ck_assert_uint_eq(s->restart_delay_max, 60000000);
        ck_assert_int_eq(s->stop_signal, SIGKILL);
        ck_assert_uint_eq(s->stop_timeout, 2500000);
        ck_assert(s->limit_nofile.set);
        ck_assert_uint_eq(s->limit_nofile.value, 1024);
        ck_assert(s->limit_nproc.set);
        ck_assert(s->limit_nproc.value == RLIM_INFINITY);
        ck_assert(s->limit_core.set);
        ck_assert_uint_eq(s->limit_core.value, 0);
        ck_assert(!s->has_user);
        ck_assert(!s->has_group);
        config_free(c);
}
END_TEST

START_TEST(test_several_services) {
        struct config *c = load_ok("service a {\n"
                                   "    command = \"true\"\n"
                                   "    restart = never\n"
                                   "}\n"
                                   "\n"
                                   "service b { command = \"false\" }\n"
                                   "service c {\n"
                                   "    command = \"sleep 1\"\n"
                                   "    restart = \"on-failure\"\n"
                                   "}\n");
        ck_assert_uint_eq(c->n_services, 3);
        ck_assert_str_eq(c->services[0]->name, "a");
        ck_assert_int_eq(c->services[0]->line, 1);
        ck_assert_int_eq(c->services[0]->restart, RESTART_NEVER);
        ck_assert_str_eq(c->services[1]->name, "b");
        ck_assert_int_eq(c->services[1]->line, 6);
        ck_assert_str_eq(c->services[1]->argv[0], "false");
        ck_assert_int_eq(c->services[1]->restart, RESTART_ON_FAILURE);
        ck_assert_str_eq(c->services[2]->name, "c");
        ck_assert_int_eq(c->services[2]->line, 7);
        ck_assert_int_eq(c->services[2]->restart, RESTART_ON_FAILURE);
        config_free(c);
}
END_TEST

START_TEST(test_same_key_in_two_services) {
        /* Not "set twice": each section has its own keys. */
        struct config *c = load_ok("service a {\n    command = \"x\"\n    nice = 1\n}\n"
                                   "service b {\n    command = \"y\"\n    nice = 2\n}\n");
        ck_assert_int_eq(c->services[0]->nice, 1);
        ck_assert_int_eq(c->services[1]->nice, 2);
        config_free(c);
}
END_TEST

START_TEST(test_nice_range) {
        struct config *c = load_ok("service a { command = \"x\"\n nice = -20 }\n"
                                   "service b { command = \"x\"\n nice = 19 }\n"
                                   "service c { command = \"x\"\n nice = \"-5\" }\n");
        ck_assert_int_eq(c->services[0]->nice, -20);
        ck_assert_int_eq(c->services[1]->nice, 19);
        ck_assert_int_eq(c->services[2]->nice, -5);
        config_free(c);
}
END_TEST

START_TEST(test_umask_values) {
        struct config *c = load_ok("service a { command = \"x\"\n umask = \"0777\" }\n"
                                   "service b { command = \"x\"\n umask = \"0\" }\n"
                                   "service c { command = \"x\"\n umask = \"027\" }\n");
        ck_assert_uint_eq(c->services[0]->umask, 0777);
        ck_assert(c->services[1]->has_umask);
        ck_assert_uint_eq(c->services[1]->umask, 0);
        ck_assert_uint_eq(c->services[2]->umask, 027);
        config_free(c);
}
END_TEST

START_TEST(test_stop_signal_forms) {
        struct config *c = load_ok("service a { command = \"x\"\n stop-signal = KILL }\n"
                                   "service b { command = \"x\"\n stop-signal = \"SIGINT\" }\n"
                                   "service c { command = \"x\"\n stop-signal = 15 }\n"
                                   "service d { command = \"x\"\n stop-signal = \"9\" }\n"
                                   "service e { command = \"x\"\n stop-signal = usr1 }\n"
                                   "service f { command = \"x\"\n stop-signal = SIGQUIT }\n");
        ck_assert_int_eq(c->services[0]->stop_signal, SIGKILL);
        ck_assert_int_eq(c->services[1]->stop_signal, SIGINT);
        ck_assert_int_eq(c->services[2]->stop_signal, SIGTERM);
        ck_assert_int_eq(c->services[3]->stop_signal, SIGKILL);
        ck_assert_int_eq(c->services[4]->stop_signal, SIGUSR1);
        ck_assert_int_eq(c->services[5]->stop_signal, SIGQUIT);
        config_free(c);
}
END_TEST

/* What the start-up check of RLIMIT_NOFILE counts per service, from its settings. */
START_TEST(test_descriptors_needed) {
        struct config *c = load_ok("service logged {\n command = \"x\"\n}\n"
                                   "service quiet {\n command = \"x\"\n stdout = null\n}\n"
                                   "service errors {\n command = \"x\"\n stdout = null\n stderr = log\n}\n"
                                   "service journal {\n command = \"x\"\n stdout = journal\n}\n"
                                   "service beating {\n command = \"x\"\n heartbeat-interval = 5\n}\n"
                                   "service ready {\n command = \"x\"\n type = notify\n stdout = null\n}\n"
                                   "service daemon {\n command = \"x\"\n type = forking\n pidfile = \"/p\"\n"
                                   " stdout = null\n}\n"
                                   "service pool {\n command = \"x\"\n instances = 4\n}\n");
        static const unsigned expected[] = { 2, 0, 2, 0, 4, 2, 1, 8 };
        ck_assert_uint_eq(c->n_services, 8);
        unsigned long total = 0;
        for (size_t i = 0; i < c->n_services; i++) {
                ck_assert_msg(service_config_descriptors(c->services[i]) == expected[i], "%s: %u descriptors, expected %u",
                              c->services[i]->name, service_config_descriptors(c->services[i]), expected[i]);
                total += expected[i];
        }
        ck_assert_uint_eq(config_descriptors(c), total);
        config_free(c);
}
END_TEST

START_TEST(test_limits) {
        struct config *c = load_ok("service a {\n command = \"x\"\n limit-nofile = unlimited\n"
                                   " limit-nproc = 4096\n limit-core = infinity\n}\n");
        const struct service_config *s = c->services[0];
        ck_assert(s->limit_nofile.set);
        ck_assert(s->limit_nofile.value == RLIM_INFINITY);
        ck_assert(s->limit_nproc.set);
        ck_assert_uint_eq(s->limit_nproc.value, 4096);
        ck_assert(s->limit_core.set);
        ck_assert(s->limit_core.value == RLIM_INFINITY);
        config_free(c);
}
END_TEST

START_TEST(test_success_exit_codes) {
        struct config *c = load_ok("service a { command = \"x\"\n success-exit-codes = { 2, 255 } }\n"
                                   "service b { command = \"x\"\n success-exit-codes = {} }\n");
        const struct service_config *a = c->services[0], *b = c->services[1];
        /* Setting the list replaces the default {0}. */
        ck_assert(!is_success(a, 0));
        ck_assert(is_success(a, 2));
        ck_assert(is_success(a, 255));
        ck_assert(!is_success(a, 254));
        for (int code = 0; code <= 255; code++)
                ck_assert(!is_success(b, code));
        config_free(c);
}
END_TEST

START_TEST(test_comment_inside_list) {
        struct config *c = load_ok("service a {\n"
                                   "    command = \"x\"\n"
                                   "    success-exit-codes = { 0, # comment\n"
                                   "                           2 }\n"
                                   "    environment = { \"A=1\", // why\n"
                                   "                    /* block */ \"B=2\" }\n"
                                   "}\n");
        const struct service_config *s = c->services[0];
        ck_assert(is_success(s, 0));
        ck_assert(is_success(s, 2));
        ck_assert(!is_success(s, 1));
        ck_assert_str_eq(s->environment[0], "A=1");
        ck_assert_str_eq(s->environment[1], "B=2");
        ck_assert_ptr_null(s->environment[2]);
        config_free(c);
}
END_TEST

START_TEST(test_comment_characters_in_strings) {
        struct config *c = load_ok("service a {\n"
                                   "    command = \"echo '#x' //y /*z*/\"\n"
                                   "}\n");
        const struct service_config *s = c->services[0];
        ck_assert_str_eq(s->argv[0], "echo");
        ck_assert_str_eq(s->argv[1], "#x");
        ck_assert_str_eq(s->argv[2], "//y");
        ck_assert_str_eq(s->argv[3], "/*z*/");
        ck_assert_ptr_null(s->argv[4]);
        config_free(c);
}
END_TEST

START_TEST(test_autostart_values) {
        static const char *const yes[] = { "true", "yes", "on", "1", "TRUE" };
        static const char *const no[] = { "false", "no", "off", "0", "False" };
        for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
                char text[128];
                snprintf(text, sizeof text, "service a { command = \"x\"\n autostart = \"%s\" }\n", yes[i]);
                struct config *c = load_ok(text);
                ck_assert_msg(c->services[0]->autostart, "autostart = %s", yes[i]);
                config_free(c);
                snprintf(text, sizeof text, "service a { command = \"x\"\n autostart = \"%s\" }\n", no[i]);
                c = load_ok(text);
                ck_assert_msg(!c->services[0]->autostart, "autostart = %s", no[i]);
                config_free(c);
        }
}
END_TEST

/* ---- users and groups ---- */

START_TEST(test_user_nobody) {
        struct passwd *pw = getpwnam("nobody");
        ck_assert_ptr_nonnull(pw);
        uid_t uid = pw->pw_uid;
        gid_t gid = pw->pw_gid;
        char *home = strdup(pw->pw_dir);
        ck_assert_ptr_nonnull(home);

        struct config *c = load_ok("service a {\n command = \"x\"\n user = \"nobody\"\n}\n");
        const struct service_config *s = c->services[0];
        ck_assert(s->has_user);
        ck_assert(!s->has_group);
        ck_assert_uint_eq(s->uid, uid);
        ck_assert_uint_eq(s->gid, gid);  /* the user's primary group */
        ck_assert_str_eq(s->user_name, "nobody");
        ck_assert_str_eq(s->user_home, home);
        config_free(c);

        /* By number, the name is looked up too. */
        char text[128];
        snprintf(text, sizeof text, "service a {\n command = \"x\"\n user = %u\n}\n", (unsigned)uid);
        c = load_ok(text);
        ck_assert(c->services[0]->has_user);
        ck_assert_uint_eq(c->services[0]->uid, uid);
        ck_assert_str_eq(c->services[0]->user_name, "nobody");
        config_free(c);
        free(home);
}
END_TEST

START_TEST(test_group_nogroup) {
        struct group *gr = getgrnam("nogroup");
        ck_assert_ptr_nonnull(gr);
        gid_t gid = gr->gr_gid;

        struct config *c = load_ok("service a {\n command = \"x\"\n group = \"nogroup\"\n}\n");
        ck_assert(c->services[0]->has_group);
        ck_assert(!c->services[0]->has_user);
        ck_assert_uint_eq(c->services[0]->gid, gid);
        config_free(c);

        c = load_ok("service a {\n command = \"x\"\n group = 4242\n}\n");
        ck_assert(c->services[0]->has_group);
        ck_assert_uint_eq(c->services[0]->gid, 4242);
        config_free(c);
}
END_TEST

START_TEST(test_group_overrides_user_group) {
        struct passwd *pw = getpwnam("nobody");
        ck_assert_ptr_nonnull(pw);
        uid_t uid = pw->pw_uid;
        /* `group` wins over the user's primary group, in whichever order they are written. */
        struct config *c = load_ok("service a {\n command = \"x\"\n user = nobody\n group = root\n}\n"
                                   "service b {\n command = \"x\"\n group = root\n user = nobody\n}\n");
        for (size_t i = 0; i < 2; i++) {
                ck_assert(c->services[i]->has_user);
                ck_assert(c->services[i]->has_group);
                ck_assert_uint_eq(c->services[i]->uid, uid);
                ck_assert_uint_eq(c->services[i]->gid, 0);
        }
        config_free(c);
}
END_TEST

/* ---- errors: syntax and structure ---- */

START_TEST(test_error_unknown_key) {
        assert_load_error(NOISE "service a {\n    command = \"x\"\n\n    # comment\n    bogus = 1\n}\n", 8,
                          "no such option 'bogus'");
        assert_load_error(NOISE "bogus-global = 1\n", 4, "no such option 'bogus-global'");
}
END_TEST

START_TEST(test_error_key_set_twice) {
        assert_load_error(NOISE "service a {\n"
                                "    command = \"x\"\n"
                                "    # comment\n"
                                "\n"
                                "    command = \"y\"\n"
                                "}\n",
                          8, "'command' is set twice (first at line 5)");
        assert_load_error(NOISE "socket = \"/a\"\n# c\nsocket = \"/b\"\n", 6,
                          "'socket' is set twice (first at line 4)");
        assert_load_error(NOISE "service a {\n command = \"x\"\n environment = { \"A=1\" }\n"
                                " environment += { \"B=1\" }\n}\n",
                          7, "'environment' is set twice (first at line 6)");
}
END_TEST

START_TEST(test_error_section_not_closed) {
        assert_load_error(NOISE "service ok {\n command = \"x\"\n}\n\n"
                                "# the open one\n"
                                "service open {\n    command = \"x\"\n\n",
                          9, "section 'open' is not closed with '}'");
}
END_TEST

START_TEST(test_error_invalid_service_name) {
        assert_load_error(NOISE "\nservice \"a/b\" {\n    command = \"x\"\n}\n", 5,
                          "invalid service name 'a/b': use 1 to 64 of A-Z a-z 0-9 _ . -");
        assert_load_error(NOISE "service \"a b\" {\n    command = \"x\"\n}\n", 4,
                          "invalid service name 'a b': use 1 to 64 of A-Z a-z 0-9 _ . -");
        assert_load_error(NOISE "service \"\" {\n    command = \"x\"\n}\n", 4,
                          "invalid service name '': use 1 to 64 of A-Z a-z 0-9 _ . -");

        /* 64 characters are fine, 65 are not. */
        char name[66], text[256], message[256];
        memset(name, 'n', 64);
        name[64] = '\0';
        snprintf(text, sizeof text, "service %s {\n    command = \"x\"\n}\n", name);
        struct config *c = load_ok(text);
        ck_assert_str_eq(c->services[0]->name, name);
        config_free(c);
        strcat(name, "n");
        snprintf(text, sizeof text, NOISE "service %s {\n    command = \"x\"\n}\n", name);
        snprintf(message, sizeof message, "invalid service name '%s': use 1 to 64 of A-Z a-z 0-9 _ . -", name);
        assert_load_error(text, 4, message);
}
END_TEST

/* BUG (config.c, config_scan): section titles are truncated to 127 bytes by the scanner, so
 * a longer (invalid) name loses its line number, and two long names sharing their first
 * 127 bytes are reported as an internal key "\001section" set twice. */
START_TEST(test_error_invalid_long_service_name) {
        char name[200], text[1024], message[512];
        memset(name, 'a', 150);
        name[150] = '\0';
        snprintf(text, sizeof text, NOISE "service %s {\n    command = \"x\"\n}\n", name);
        snprintf(message, sizeof message, "invalid service name '%s': use 1 to 64 of A-Z a-z 0-9 _ . -", name);
        assert_load_error(text, 4, message);

        name[149] = 'X';
        snprintf(text, sizeof text, NOISE "service %s {\n    command = \"x\"\n}\n", name);
        name[149] = 'Y';
        snprintf(text + strlen(text), sizeof text - strlen(text), "service %s {\n    command = \"y\"\n}\n", name);
        name[149] = 'X';
        snprintf(message, sizeof message, "invalid service name '%s': use 1 to 64 of A-Z a-z 0-9 _ . -", name);
        assert_load_error(text, 4, message);
}
END_TEST

START_TEST(test_error_reserved_name_all) {
        assert_load_error(NOISE "service ok { command = \"x\" }\nservice all {\n    command = \"x\"\n}\n", 5,
                          "the service name 'all' is reserved (it addresses every service)");
}
END_TEST

START_TEST(test_error_duplicate_service) {
        assert_load_error(NOISE "service web {\n    command = \"x\"\n}\n\n# again\nservice web {\n    command = \"y\"\n}\n",
                          9, "service 'web' is defined twice (first at line 4)");
}
END_TEST

START_TEST(test_error_missing_command) {
        assert_load_error(NOISE "service ok { command = \"x\" }\n\nservice web {\n    restart = never\n}\n", 6,
                          "service 'web' has no command");
}
END_TEST

START_TEST(test_error_bad_command) {
        assert_load_error(NOISE "service web {\n    # the command\n    command = \"echo 'oops\"\n}\n", 6,
                          "command: unterminated single quote");
        assert_load_error(NOISE "service web {\n    command = 'echo \"oops'\n}\n", 5,
                          "command: unterminated double quote");
        assert_load_error(NOISE "service web {\n    command = \"echo oops\\\\\"\n}\n", 5,
                          "command: trailing backslash");
        assert_load_error(NOISE "service web {\n\n    command = \"  \"\n}\n", 6, "command: empty command");
}
END_TEST

/* ---- errors: values ---- */

/* A service "web" whose section starts on line 4 (after NOISE) with `command` on line 5, a
 * comment on 6 and KEY = VALUE on line 7. */
static void assert_option_error(const char *key, const char *value, const char *message) {
        char text[512];
        snprintf(text, sizeof text,
                 NOISE "service web {\n    command = \"x\"\n    # the bad one:\n    %s = %s\n}\n", key, value);
        assert_load_error(text, 7, message);
}

START_TEST(test_error_restart) {
        assert_option_error("restart", "sometimes", "restart: 'sometimes' is not one of always, on-failure, never");
        assert_option_error("restart", "\"Always\"", "restart: 'Always' is not one of always, on-failure, never");
}
END_TEST

START_TEST(test_error_autostart) {
        assert_option_error("autostart", "maybe", "autostart: 'maybe' is not true or false");
        assert_option_error("autostart", "\"\"", "autostart: '' is not true or false");
}
END_TEST

START_TEST(test_error_nice) {
        assert_option_error("nice", "20", "nice: '20' is not an integer from -20 to 19");
        assert_option_error("nice", "\"-21\"", "nice: '-21' is not an integer from -20 to 19");
        assert_option_error("nice", "high", "nice: 'high' is not an integer from -20 to 19");
}
END_TEST

START_TEST(test_error_umask) {
        assert_option_error("umask", "\"0999\"", "umask: '0999' is not an octal mode such as 022");
        assert_option_error("umask", "\"1777\"", "umask: '1777' is not an octal mode such as 022");
        assert_option_error("umask", "rw", "umask: 'rw' is not an octal mode such as 022");
}
END_TEST

START_TEST(test_error_seconds) {
        assert_option_error("start-secs", "abc", "start-secs: 'abc' is not a number of seconds");
        assert_option_error("start-secs", "\"1s\"", "start-secs: '1s' is not a number of seconds");
        assert_option_error("start-secs", "\" 1\"", "start-secs: ' 1' is not a number of seconds");
        assert_option_error("stop-timeout", "\"-1\"", "stop-timeout: '-1' is not a number of seconds");
        assert_option_error("stop-timeout", "nan", "stop-timeout: 'nan' is not a number of seconds");
        assert_option_error("stop-timeout", "1e9", "stop-timeout: '1e9' is not a number of seconds");
        assert_option_error("restart-delay", "\"-0.5\"", "restart-delay: '-0.5' is not a number of seconds");
        assert_option_error("restart-delay-max", "x", "restart-delay-max: 'x' is not a number of seconds");
}
END_TEST

START_TEST(test_error_restart_delay_zero) {
        assert_option_error("restart-delay", "0", "restart-delay: must be greater than 0");
        /* Rounds to 0 microseconds. */
        assert_option_error("restart-delay", "0.0000001", "restart-delay: must be greater than 0");
}
END_TEST

START_TEST(test_error_restart_delay_max_below_delay) {
        assert_option_error("restart-delay-max", "0.05", "restart-delay-max: must not be less than restart-delay");
        assert_load_error(NOISE "service web {\n    command = \"x\"\n    restart-delay = 5\n    restart-delay-max = 4\n}\n",
                          7, "restart-delay-max: must not be less than restart-delay");
        /* Equal is fine. */
        struct config *c = load_ok("service web {\n command = \"x\"\n restart-delay = 2\n restart-delay-max = 2\n}\n");
        ck_assert_uint_eq(c->services[0]->restart_delay, 2000000);
        ck_assert_uint_eq(c->services[0]->restart_delay_max, 2000000);
        config_free(c);
}
END_TEST

START_TEST(test_error_start_retries) {
        assert_option_error("start-retries", "\"-1\"", "start-retries: '-1' is not an integer from 0 to 1000000");
        assert_option_error("start-retries", "1000001", "start-retries: '1000001' is not an integer from 0 to 1000000");
        assert_option_error("start-retries", "many", "start-retries: 'many' is not an integer from 0 to 1000000");
        struct config *c = load_ok("service web {\n command = \"x\"\n start-retries = 1000000\n}\n");
        ck_assert_uint_eq(c->services[0]->start_retries, 1000000);
        config_free(c);
}
END_TEST

START_TEST(test_error_stop_signal) {
        assert_option_error("stop-signal", "FOO", "stop-signal: unknown signal 'FOO'");
        assert_option_error("stop-signal", "0", "stop-signal: unknown signal '0'");
        assert_option_error("stop-signal", "65", "stop-signal: unknown signal '65'");
}
END_TEST

START_TEST(test_error_limit) {
        assert_option_error("limit-nofile", "lots", "limit-nofile: 'lots' is not a non-negative integer or 'infinity'");
        assert_option_error("limit-nproc", "\"-1\"", "limit-nproc: '-1' is not a non-negative integer or 'infinity'");
        assert_option_error("limit-core", "\"12k\"", "limit-core: '12k' is not a non-negative integer or 'infinity'");
        assert_option_error("limit-core", "\"18446744073709551616\"",
                            "limit-core: '18446744073709551616' is not a non-negative integer or 'infinity'");
}
END_TEST

START_TEST(test_error_success_exit_codes) {
        assert_option_error("success-exit-codes", "{ 0, 256 }",
                            "success-exit-codes: '256' is not an exit code from 0 to 255");
        assert_option_error("success-exit-codes", "{ \"-1\" }",
                            "success-exit-codes: '-1' is not an exit code from 0 to 255");
        assert_option_error("success-exit-codes", "{ ok }", "success-exit-codes: 'ok' is not an exit code from 0 to 255");
}
END_TEST

START_TEST(test_error_unknown_user) {
        assert_option_error("user", "\"no-such-user-xyz\"", "user: unknown user 'no-such-user-xyz'");
        assert_option_error("user", "3999999999", "user: unknown user '3999999999'");
}
END_TEST

START_TEST(test_error_unknown_group) {
        assert_option_error("group", "\"no-such-group-xyz\"", "group: unknown group 'no-such-group-xyz'");
}
END_TEST

START_TEST(test_error_relative_directory) {
        assert_option_error("directory", "\"srv/app\"", "directory: 'srv/app' is not an absolute path");
        assert_option_error("directory", "\"\"", "directory: '' is not an absolute path");
}
END_TEST

START_TEST(test_error_environment) {
        assert_option_error("environment", "{ \"A=1\", \"NOEQUALS\" }",
                            "environment: 'NOEQUALS' is not of the form KEY=VALUE");
        assert_option_error("environment", "{ \"=value\" }", "environment: '=value' is not of the form KEY=VALUE");
        assert_option_error("environment", "{ \"1A=x\" }", "environment: '1A=x' is not of the form KEY=VALUE");
        assert_option_error("environment", "{ \"A-B=x\" }", "environment: 'A-B=x' is not of the form KEY=VALUE");
        assert_option_error("environment", "{ \"SUPERVISOR_SERVICE=x\" }",
                            "environment: SUPERVISOR_SERVICE is set by supervisord");
        assert_option_error("environment", "{ \"OK=1\", \"SUPERVISOR_PIDFILE=/x\" }",
                            "environment: SUPERVISOR_PIDFILE is set by supervisord");
}
END_TEST

/* ---- errors: global options ---- */

START_TEST(test_error_globals) {
        assert_load_error(NOISE "\nsocket = \"run/x.sock\"\n", 5, "socket: 'run/x.sock' is not an absolute path");
        assert_load_error(NOISE "\npidfile = \"x.pid\"\n", 5, "pidfile: 'x.pid' is not an absolute path");
        assert_load_error(NOISE "\nsocket-mode = \"0999\"\n", 5,
                          "socket-mode: '0999' is not an octal mode such as 0660");
        assert_load_error(NOISE "\nsocket-mode = \"1777\"\n", 5,
                          "socket-mode: '1777' is not an octal mode such as 0660");
        assert_load_error(NOISE "\nsocket-group = \"no-such-group-xyz\"\n", 5,
                          "socket-group: unknown group 'no-such-group-xyz'");
        assert_load_error(NOISE "\nlog-level = loud\n", 5,
                          "log-level: 'loud' is not one of error, warning, notice, info, debug");
        assert_load_error(NOISE "\nlog-level = \"INFO\"\n", 5,
                          "log-level: 'INFO' is not one of error, warning, notice, info, debug");

        /* sun_path holds 107 bytes and a NUL. */
        char path[120], text[256];
        memset(path, 'x', sizeof path);
        path[0] = '/';
        path[107] = '\0';
        snprintf(text, sizeof text, "socket = \"%s\"\n", path);
        struct config *c = load_ok(text);
        ck_assert_str_eq(c->socket, path);
        config_free(c);
        path[107] = 'x';
        path[108] = '\0';
        snprintf(text, sizeof text, NOISE "socket = \"%s\"\n", path);
        assert_load_error(text, 4, "socket: path longer than 107 bytes");
}
END_TEST

START_TEST(test_error_global_before_services) {
        /* Globals are checked first, whatever the order in the file. */
        assert_load_error("service web {\n command = \"x\"\n nice = 99\n}\npidfile = \"rel\"\n", 5,
                          "pidfile: 'rel' is not an absolute path");
}
END_TEST

START_TEST(test_error_first_of_several) {
        /* Only the first problem is reported. */
        assert_load_error(NOISE "service a {\n command = \"x\"\n nice = 99\n restart = bad\n}\n", 6,
                          "nice: '99' is not an integer from -20 to 19");
        assert_load_error(NOISE "service a {\n command = \"x\"\n}\nservice b {\n command = \"x\"\n nice = 99\n}\n", 9,
                          "nice: '99' is not an integer from -20 to 19");
}
END_TEST

START_TEST(test_error_line_after_block_comment) {
        assert_load_error("/* a\n * long\n * comment\n */\nservice web {\n command = \"x\" # trailing\n"
                          " nice = 99 // trailing\n}\n",
                          7, "nice: '99' is not an integer from -20 to 19");
}
END_TEST

/* ---- errors: the file itself ---- */

START_TEST(test_error_missing_file) {
        char path[192], error[512];
        struct config *c = NULL;
        snprintf(path, sizeof path, "%s/does-not-exist.conf", test_dir);
        ck_assert_int_eq(config_load(path, &c, error, sizeof error), -ENOENT);
        ck_assert_ptr_null(c);
        char expected[512];
        snprintf(expected, sizeof expected, "%s: No such file or directory", path);
        ck_assert_str_eq(error, expected);
}
END_TEST

START_TEST(test_error_nul_byte) {
        static const char text[] = "service web {\n command = \"x\"\0\n}\n";
        char error[512], expected[512];
        struct config *c = NULL;
        write_file(conf_path, text, sizeof text - 1);
        ck_assert_int_eq(config_load(conf_path, &c, error, sizeof error), -EILSEQ);
        ck_assert_ptr_null(c);
        snprintf(expected, sizeof expected, "%s: not a text file (contains a NUL byte)", conf_path);
        ck_assert_str_eq(error, expected);
}
END_TEST

/* BUG (config.c, read_file): a read error is reported as -EIO "Input/output error" instead
 * of the real errno, so `-c /etc` says "Input/output error" rather than "Is a directory". */
START_TEST(test_error_is_directory) {
        char path[192], error[512], expected[512];
        struct config *c = NULL;
        snprintf(path, sizeof path, "%s/dir.conf", test_dir);
        ck_assert_int_eq(mkdir(path, 0700), 0);
        int r = config_load(path, &c, error, sizeof error);
        ck_assert_ptr_null(c);
        snprintf(expected, sizeof expected, "%s: Is a directory", path);
        ck_assert_str_eq(error, expected);
        ck_assert_int_eq(r, -EISDIR);
}
END_TEST

/* ---- messages that point at the cause (issue 15) ---- */

START_TEST(test_error_missing_closing_quote) {
        /* Reported by libconfuse as "no such option 'sleep'" four lines further down. */
        assert_load_error(NOISE "service web {\n"
                                "    command = \"sleep 10\n"
                                "    restart = always\n"
                                "}\n"
                                "service db {\n"
                                "    command = \"sleep 20\"\n"
                                "}\n",
                          5, "missing the closing \" of the string begun on this line (it runs on to line 9)");
        assert_load_error(NOISE "service web {\n    command = 'sleep 10\n}\nservice db {\n    command = 'x'\n}\n", 5,
                          "missing the closing ' of the string begun on this line (it runs on to line 8)");
}
END_TEST

START_TEST(test_error_unterminated_string) {
        /* libconfuse: "premature end of file" on a line past the end */
        assert_load_error(NOISE "service web {\n    command = \"sleep 10\n}\n", 5,
                          "missing the closing \" of the string begun on this line (it runs to the end of the file)");
        assert_load_error(NOISE "socket = '/run/x.sock\n", 4,
                          "missing the closing ' of the string begun on this line (it runs to the end of the file)");
        assert_load_error(NOISE "service web {\n    command = \"x\"\n}\n/* to the end\n\n", 7,
                          "the comment begun with '/*' on this line is never closed");
}
END_TEST

START_TEST(test_multiline_string_accepted) {
        /* A string may span lines on purpose: only a file that fails blames it. */
        struct config *c = load_ok("service web {\n    command = 'sh -c \"echo a\n      echo b\"'\n}\n");
        ck_assert_str_eq(c->services[0]->argv[2], "echo a\n      echo b");
        config_free(c);
        /* ... and a multi-line string that swallowed nothing is not what an error is blamed on */
        assert_load_error("service web {\n    command = 'sh -c \"echo a\n  echo b\"'\n    bogus = 1\n}\n", 4,
                          "no such option 'bogus'");
}
END_TEST

START_TEST(test_error_section_left_open) {
        /* libconfuse: "no such option 'service'" on line 8 */
        assert_load_error(NOISE "service web {\n    command = \"sleep 10\"\n\n"
                                "service db {\n    command = \"sleep 20\"\n}\n",
                          4, "section 'web' is not closed with '}' before service 'db' on line 7");
}
END_TEST

START_TEST(test_error_unquoted_command) {
        /* libconfuse: "no such option '10'" */
        assert_load_error(NOISE "service web {\n    command = sleep 10   # a comment\n}\n", 5,
                          "command: a value with spaces must be quoted: command = \"sleep 10\"");
        assert_load_error(NOISE "service web {\n    command = echo \"a b\"\n}\n", 5,
                          "command: a value with spaces must be quoted: command = 'echo \"a b\"'");
        assert_load_error(NOISE "log-dir = /var/log/my logs\n", 4,
                          "log-dir: a value with spaces must be quoted: log-dir = \"/var/log/my logs\"");
        /* options and sections may share a line */
        struct config *c = load_ok("socket = /run/a.sock pidfile = /run/a.pid service web { command = x }\n");
        ck_assert_str_eq(c->socket, "/run/a.sock");
        ck_assert_str_eq(c->pidfile, "/run/a.pid");
        ck_assert_str_eq(c->services[0]->command, "x");
        config_free(c);
}
END_TEST

START_TEST(test_error_supervisord_key_names) {
        static const struct {
                const char *key, *hint;
        } cases[] = {
                { "autorestart", "supervisord's autorestart is restart here: always, on-failure or never" },
                { "startsecs", "supervisord's startsecs is start-secs here" },
                { "startretries", "supervisord's startretries is start-retries here" },
                { "stopwaitsecs", "supervisord's stopwaitsecs is stop-timeout here" },
                { "stopsignal", "supervisord's stopsignal is stop-signal here" },
                { "exitcodes", "supervisord's exitcodes is success-exit-codes here" },
                { "numprocs", "supervisord's numprocs is instances here" },
                { "redirect_stderr", "supervisord's redirect_stderr = true is stderr = stdout here" },
                { "start_secs", "did you mean 'start-secs'?" },
                { "Stop-Timeout", "did you mean 'stop-timeout'?" },
                { "log-dir", "'log-dir' is a global option: set it outside the service sections" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char text[256], message[256];
                snprintf(text, sizeof text, NOISE "service web {\n    command = \"x\"\n    %s = 1\n}\n", cases[i].key);
                snprintf(message, sizeof message, "no such option '%s' (%s)", cases[i].key, cases[i].hint);
                assert_load_error(text, 6, message);
        }
        assert_load_error(NOISE "command = \"x\"\n", 4,
                          "no such option 'command' ('command' belongs in a service section: service NAME { command "
                          "= ... })");
        assert_load_error(NOISE "[program:web]\ncommand=x\n", 4,
                          "no such option '[program:web]' (this looks like supervisord's INI format; this file is "
                          "written as service NAME { command = \"...\" }, see supervisord.conf(5))");
}
END_TEST

/* Issue 17: supervisord's priority and groups. */
START_TEST(test_priority_and_service_group) {
        struct config *c = load_ok("service a {\n command = \"x\"\n service-group = \"g\"\n priority = 5\n}\n"
                                   "service b {\n command = \"x\"\n service-group = \"g\"\n"
                                   " service-group-priority = -3\n}\n"
                                   "service c {\n command = \"x\"\n priority = 7\n}\n"
                                   "service d {\n command = \"x\"\n}\n");
        ck_assert_str_eq(service_config_group(c->services[0]), "g");
        ck_assert_int_eq(c->services[0]->priority, 5);
        ck_assert_int_eq(c->services[0]->group_priority, -3);  /* given by another member */
        ck_assert_int_eq(c->services[1]->priority, 999);
        ck_assert_int_eq(c->services[1]->group_priority, -3);
        ck_assert_str_eq(service_config_group(c->services[2]), "c");  /* its own group */
        ck_assert_int_eq(c->services[2]->group_priority, 7);       /* ... ordered by its priority */
        ck_assert_int_eq(c->services[3]->priority, 999);
        ck_assert_int_eq(c->services[3]->group_priority, 999);
        config_free(c);
        /* A member whose group's priority changes is a changed definition. */
        assert_load_error("service a {\n command = \"x\"\n service-group = \"g\"\n service-group-priority = 1\n}\n"
                          "service b {\n command = \"x\"\n service-group = \"g\"\n service-group-priority = 2\n}\n",
                          9, "service-group-priority: 2, but a of the same group says 1");
        assert_load_error("service a {\n command = \"x\"\n service-group = \"b\"\n}\n"
                          "service b {\n command = \"x\"\n}\n",
                          3, "service-group: 'b' is the name of a service outside the group");
        assert_load_error("service a {\n command = \"x\"\n service-group-priority = 1\n}\n", 3,
                          "service-group-priority: only with service-group (a service alone is ordered by its priority)");
        assert_load_error("service a {\n command = \"x\"\n priority = high\n}\n", 3, "priority: 'high' is not an integer");
        assert_load_error("service a {\n command = \"x\"\n service-group = \"all\"\n}\n", 3,
                          "service-group: the name 'all' is reserved (it addresses every process)");
        assert_load_error("service a {\n command = \"x\"\n service-group = \"a:b\"\n}\n", 3,
                          "service-group: invalid group name 'a:b': use 1 to 64 of A-Z a-z 0-9 _ . -");
        /* A group named as its member, as supervisord's [group:web] programs=web. */
        c = load_ok("service web {\n command = \"x\"\n service-group = \"web\"\n}\n");
        config_free(c);
}
END_TEST

START_TEST(test_warning_comma_environment) {
        struct config *c = load_ok(NOISE "service web {\n    command = \"x\"\n    environment = \"FOO=bar,BAZ=1\"\n}\n");
        ck_assert_str_eq(c->services[0]->environment[0], "FOO=bar,BAZ=1");  /* accepted as written */
        ck_assert_ptr_nonnull(c->warnings);
        char expected[512];
        snprintf(expected, sizeof expected,
                 "%s:6: warning: environment: \"FOO=bar,BAZ=1\" is one variable, FOO, with the value \"bar,BAZ=1\"; "
                 "for several, write environment = { \"FOO=bar\", \"BAZ=1\" }",
                 conf_path);
        ck_assert_str_eq(c->warnings[0], expected);
        ck_assert_ptr_null(c->warnings[1]);
        config_free(c);
        /* a comma in a value alone is no list */
        c = load_ok("service web {\n command = \"x\"\n environment = { \"PATHS=a,b\", \"X=1,2\" }\n}\n");
        ck_assert_ptr_null(c->warnings);
        config_free(c);
}
END_TEST

/* Issue 16: "FILE: parse error" without a line for some files. */
START_TEST(test_error_variable_across_lines) {
        assert_load_error(NOISE "${HOMEsocket = /run/x.sock\n}\n", 4, "'${' without its '}' on the same line");
        assert_load_error(NOISE "service web {\n    command = \"echo ${X\"\n}\n", 5,
                          "'${' without its '}' on the same line");
        /* on one line it is a variable reference, as documented */
        setenv("SUPERVISORD_TEST_DIR", "/run/test", 1);
        struct config *c = load_ok("socket = \"${SUPERVISORD_TEST_DIR}/x.sock\"\nservice web { command = \"x\" }\n");
        ck_assert_str_eq(c->socket, "/run/test/x.sock");
        config_free(c);
}
END_TEST

/* Whatever is wrong with a file, the message names a line. */
START_TEST(test_error_every_malformed_file_has_a_line) {
        static const char *const inputs[] = {
                "${HOMEsocket = /run/x.sock\n}\n",
                "socket = ${HOME\n",
                "service a { command = \"x\" } }\n",
                "service a command = \"x\" }\n",
                "service { command = \"x\" }\n",
                "= x\n",
                "socket =\n",
                "service a { environment = \"A=1\", \"B=2\"\ncommand=\"x\" }\n",
                "service a { command = { \"x\" }}\n",
                "service a { command = \"x\"\n",
                "service \"a\n",
                "socket = \"a\" \"b\"\n",
                "socket = /a,\n",
                "service a { command = \"\\777\" }\n",
                "service a { command = \"\\8\" }\n",
                "service a ( command = \"x\" )\n",
                "service a { command = \"x\" ( }\n",
                "socket = )\n",
                "+= x\n",
                "service a { after += }\n",
        };
        for (size_t i = 0; i < ELEMENTSOF(inputs); i++) {
                char error[1024];
                struct config *c = NULL;
                write_file(conf_path, inputs[i], strlen(inputs[i]));
                int r = config_load(conf_path, &c, error, sizeof error);
                ck_assert_msg(r == -EINVAL, "accepted (%d):\n%s", r, inputs[i]);
                size_t n = strlen(conf_path);
                ck_assert_msg(strncmp(error, conf_path, n) == 0 && error[n] == ':' && error[n + 1] >= '1'
                                      && error[n + 1] <= '9',
                              "no line in \"%s\" for:\n%s", error, inputs[i]);
        }
}
END_TEST

/* ---- include-dir ---- */

static void write_in_test_dir(const char *name, const char *text) {
        char path[256];
        snprintf(path, sizeof path, "%s/%s", test_dir, name);
        write_file(path, text, strlen(text));
}

static void make_test_subdir(const char *name, mode_t mode) {
        char path[256];
        snprintf(path, sizeof path, "%s/%s", test_dir, name);
        ck_assert_int_eq(mkdir(path, 0700), 0);
        ck_assert_int_eq(chmod(path, mode), 0);
}

/* Load conf_path as it is; expect exactly EXPECTED, in which every %s is test_dir. */
static void assert_error_is(int expected_r, const char *expected_format) {
        char error[1024], expected[1024];
        struct config *c = NULL;
        int r = config_load(conf_path, &c, error, sizeof error);
        if (r == 0)
                config_free(c);
        size_t n = 0;
        for (const char *p = expected_format; *p && n < sizeof expected - 1; p++) {
                if (p[0] == '%' && p[1] == 's') {
                        n += (size_t)snprintf(expected + n, sizeof expected - n, "%s", test_dir);
                        p++;
                } else
                        expected[n++] = *p;
        }
        expected[n < sizeof expected ? n : sizeof expected - 1] = '\0';
        ck_assert_msg(r == expected_r, "config_load = %d (%s), expected %d", r, error, expected_r);
        ck_assert_msg(strcmp(error, expected) == 0, "got      \"%s\"\nexpected \"%s\"", error, expected);
}

START_TEST(test_include_dir) {
        make_test_subdir("conf.d", 0755);
        write_in_test_dir("conf.d/b.conf", "# b\nservice b {\n    command = \"sleep 2\"\n}\n");
        write_in_test_dir("conf.d/a.conf", "service a {\n    command = \"sleep 1\"\n    after = b\n}\n"
                                           "service a2 {\n    command = \"x\"\n}\n");
        write_in_test_dir("conf.d/.hidden.conf", "service hidden { command = \"x\" }\n");
        write_in_test_dir("conf.d/notes.txt", "not a config\n");
        write_in_test_dir("conf.d/old.conf.bak", "service old { command = \"x\" }\n");
        make_test_subdir("conf.d/sub.conf", 0755);  /* a directory is no file to read */
        struct config *c = load_ok("include-dir = conf.d\nservice main {\n    command = \"x\"\n}\n");
        char path[256];
        snprintf(path, sizeof path, "%s/conf.d", test_dir);
        ck_assert_str_eq(c->include_dir, path);
        ck_assert_uint_eq(c->n_services, 4);
        ck_assert_str_eq(c->services[0]->name, "main");
        ck_assert_str_eq(c->services[0]->file, conf_path);
        ck_assert_str_eq(c->services[1]->name, "a");  /* files in name order */
        ck_assert_str_eq(c->services[2]->name, "a2");
        ck_assert_str_eq(c->services[3]->name, "b");
        snprintf(path, sizeof path, "%s/conf.d/b.conf", test_dir);
        ck_assert_str_eq(c->services[3]->file, path);
        ck_assert_int_eq(c->services[3]->line, 2);
        ck_assert_str_eq(c->services[1]->after[0], "b");
        config_free(c);
}
END_TEST

START_TEST(test_include_dir_absolute_and_empty) {
        make_test_subdir("empty", 0700);
        char text[256];
        snprintf(text, sizeof text, "include-dir = \"%s/empty\"\n", test_dir);
        struct config *c = load_ok(text);
        ck_assert_uint_eq(c->n_services, 0);
        config_free(c);
}
END_TEST

START_TEST(test_include_dir_errors) {
        make_test_subdir("conf.d", 0755);
        write_file(conf_path, "include-dir = conf.d\nservice web {\n    command = \"x\"\n}\n", 54);
        write_in_test_dir("conf.d/a.conf", "service a {\n    command = \"x\"\n    bogus = 1\n}\n");
        assert_error_is(-EINVAL, "%s/conf.d/a.conf:3: no such option 'bogus'");
        write_in_test_dir("conf.d/a.conf", "service a {\n    command = \"x\"\n\n    restart = sometimes\n}\n");
        assert_error_is(-EINVAL, "%s/conf.d/a.conf:4: restart: 'sometimes' is not one of always, on-failure, never");
        write_in_test_dir("conf.d/a.conf", "socket = /run/x.sock\n");
        assert_error_is(-EINVAL,
                        "%s/conf.d/a.conf:1: no such option 'socket' (an included file holds only service sections)");
        write_in_test_dir("conf.d/a.conf", "# again\n\nservice web {\n    command = \"y\"\n}\n");
        assert_error_is(-EINVAL, "%s/conf.d/a.conf:3: service 'web' is defined twice (first at %s/supervisord.conf:2)");
        write_in_test_dir("conf.d/a.conf", "service a {\n    command = \"x\"\n    after = nosuch\n}\n");
        assert_error_is(-EINVAL, "%s/conf.d/a.conf:3: after: no service named 'nosuch'");
        write_in_test_dir("conf.d/a.conf", "service a {\n    command = \"x\n}\n");
        assert_error_is(-EINVAL, "%s/conf.d/a.conf:2: missing the closing \" of the string begun on this line (it "
                                 "runs to the end of the file)");
        write_file(conf_path, "\ninclude-dir = nope\n", 20);
        assert_error_is(-EINVAL, "%s/supervisord.conf:2: include-dir: %s/nope: No such file or directory");
}
END_TEST

/* ---- who may write the configuration (issue 16) ---- */

START_TEST(test_refuse_file_others_can_write) {
        write_file(conf_path, "service web { command = \"x\" }\n", 30);
        ck_assert_int_eq(chmod(conf_path, 0666), 0);
        assert_error_is(-EPERM, "%s/supervisord.conf: writable by every user (mode 0666): refused, since whoever can "
                                "write the file can run commands as supervisord (chown root and chmod go-w it)");
        ck_assert_int_eq(chmod(conf_path, 0620), 0);
        assert_error_is(-EPERM, "%s/supervisord.conf: writable by its group (mode 0620): refused, since whoever can "
                                "write the file can run commands as supervisord (chown root and chmod go-w it)");
        /* supervisorctl, which runs nothing from it, still finds the socket in it */
        char error[1024], *socket = NULL;
        write_file(conf_path, "socket = /run/x.sock\n", 21);
        ck_assert_int_eq(config_peek_socket(conf_path, &socket, error, sizeof error), 1);
        ck_assert_str_eq(socket, "/run/x.sock");
        free(socket);
        struct config *c = NULL;
        ck_assert_int_eq(chmod(conf_path, 0600), 0);
        ck_assert_int_eq(config_load(conf_path, &c, error, sizeof error), 0);
        config_free(c);
}
END_TEST

START_TEST(test_refuse_file_of_another_user) {
        if (geteuid() != 0)
                return;  /* only root can give a file away */
        struct passwd *nobody = getpwnam("nobody");
        ck_assert_ptr_nonnull(nobody);
        write_file(conf_path, "service web { command = \"x\" }\n", 30);
        ck_assert_int_eq(chown(conf_path, nobody->pw_uid, 0), 0);
        char expected[512];
        snprintf(expected, sizeof expected,
                 "%%s/supervisord.conf: owned by nobody (uid %u), not by root or supervisord's own user: refused, "
                 "since whoever can write the file can run commands as supervisord (chown root and chmod go-w it)",
                 (unsigned)nobody->pw_uid);
        assert_error_is(-EPERM, expected);
}
END_TEST

START_TEST(test_refuse_directory_others_can_write) {
        write_file(conf_path, "service web { command = \"x\" }\n", 30);
        ck_assert_int_eq(chmod(test_dir, 0777), 0);
        assert_error_is(-EPERM, "%s/supervisord.conf: its directory %s is writable by every user (mode 0777): "
                                "refused, since whoever can write there can replace the file (chown root and chmod "
                                "go-w the directory)");
        /* with the sticky bit (as /tmp) others cannot replace what is not theirs */
        ck_assert_int_eq(chmod(test_dir, 01777), 0);
        char error[1024];
        struct config *c = NULL;
        ck_assert_msg(config_load(conf_path, &c, error, sizeof error) == 0, "%s", error);
        config_free(c);
        ck_assert_int_eq(chmod(test_dir, 0700), 0);
}
END_TEST

START_TEST(test_refuse_include_others_can_write) {
        make_test_subdir("conf.d", 01777);  /* sticky or not, anyone could add a file */
        write_file(conf_path, "include-dir = conf.d\n", 21);
        assert_error_is(-EPERM, "%s/conf.d: writable by every user (mode 1777): refused, since whoever can write the "
                                "include-dir can run commands as supervisord (chown root and chmod go-w it)");
        char path[256];
        snprintf(path, sizeof path, "%s/conf.d", test_dir);
        ck_assert_int_eq(chmod(path, 0755), 0);
        write_in_test_dir("conf.d/a.conf", "service a { command = \"x\" }\n");
        snprintf(path, sizeof path, "%s/conf.d/a.conf", test_dir);
        ck_assert_int_eq(chmod(path, 0646), 0);
        assert_error_is(-EPERM, "%s/conf.d/a.conf: writable by every user (mode 0646): refused, since whoever can "
                                "write the file can run commands as supervisord (chown root and chmod go-w it)");
}
END_TEST

/* ---- service_config_is_success ---- */

START_TEST(test_is_success) {
        struct service_config s;
        memset(&s, 0, sizeof s);
        ck_assert(!service_config_is_success(&s, 0));
        s.success_exit_codes[0] = 1;          /* 0 */
        s.success_exit_codes[1] = 1 << 1;     /* 9 */
        s.success_exit_codes[31] = 1 << 7;    /* 255 */
        ck_assert(service_config_is_success(&s, 0));
        ck_assert(!service_config_is_success(&s, 1));
        ck_assert(!service_config_is_success(&s, 8));
        ck_assert(service_config_is_success(&s, 9));
        ck_assert(!service_config_is_success(&s, 10));
        ck_assert(!service_config_is_success(&s, 254));
        ck_assert(service_config_is_success(&s, 255));
        /* Out of range: never a success, and no read outside the bitmap. */
        ck_assert(!service_config_is_success(&s, -1));
        ck_assert(!service_config_is_success(&s, 256));
        ck_assert(!service_config_is_success(&s, 9 + 256));
        ck_assert(!service_config_is_success(&s, 1 << 30));
}
END_TEST

START_TEST(test_restart_policy_to_string) {
        ck_assert_str_eq(restart_policy_to_string(RESTART_ALWAYS), "always");
        ck_assert_str_eq(restart_policy_to_string(RESTART_ON_FAILURE), "on-failure");
        ck_assert_str_eq(restart_policy_to_string(RESTART_NEVER), "never");
        ck_assert_str_eq(restart_policy_to_string((enum restart_policy)42), "?");
}
END_TEST

START_TEST(test_config_free_null) {
        config_free(NULL);
}
END_TEST

/* supervisord's [group:x] priority orders the group among groups: each member gets it,
 * over its own priority; a bad one is the group's line. */
START_TEST(test_ini_group_priority) {
        struct config *c = load_ok("[supervisord]\n[program:a]\ncommand = sleep 1\npriority = 5\n"
                                   "[program:b]\ncommand = sleep 1\n"
                                   "[group:g]\nprograms = a,b\npriority = 7\n"
                                   "[program:solo]\ncommand = sleep 1\npriority = 3\n");
        ck_assert_uint_eq(c->n_services, 3);
        for (size_t i = 0; i < c->n_services; i++) {
                const struct service_config *s = c->services[i];
                if (strcmp(s->name, "solo") == 0)
                        ck_assert_int_eq(s->group_priority, 3);
                else
                        ck_assert_msg(s->group_priority == 7, "%s: %d", s->name, s->group_priority);
        }
        ck_assert_int_eq(c->services[config_find_service(c, "a")]->priority, 5);
        config_free(c);
        /* a key [group:x] does not have: a warning at its line, as for any section */
        c = load_ok("[supervisord]\n[program:a]\ncommand = sleep 1\n[group:g]\nprograms = a\nprogram = b\n");
        ck_assert_ptr_nonnull(c->warnings);
        char want[512];
        snprintf(want, sizeof want, "%s:6: warning: program is not a key of [group:g]; supervisord ignores it, and so "
                 "does this", conf_path);
        ck_assert_str_eq(c->warnings[0], want);
        config_free(c);
        assert_load_error("[supervisord]\n[program:a]\ncommand = sleep 1\n[group:g]\nprograms = a\npriority = x7\n", 6,
                          "priority: invalid literal for int() with base 10: 'x7'");
}
END_TEST

/* [eventlistener:x] is a pool: its numprocs listeners share the section's name as their
 * group (one buffer), its events upper-cased, priority -1 unless given; each of
 * supervisord's refusals at its line. */
START_TEST(test_ini_eventlistener) {
        struct config *c = load_ok("[supervisord]\n[eventlistener:pool]\ncommand = cat\nnumprocs = 2\n"
                                   "process_name = %(program_name)s_%(process_num)s\n"
                                   "events = process_state_running, TICK_5\nbuffer_size = 7\n"
                                   "result_handler = supervisor.dispatchers:default_handler\nstderr_logfile = NONE\n"
                                   "[eventlistener:one]\ncommand = cat\nevents = EVENT\npriority = 3\n"
                                   "stdout_logfile = NONE\n"
                                   "[program:web]\ncommand = sleep 1\n");
        ck_assert_uint_eq(c->n_services, 4);
        for (int i = 0; i < 2; i++) {
                const char *name = i ? "pool_1" : "pool_0";
                ssize_t k = config_find_service(c, name);
                ck_assert_msg(k >= 0, "no %s", name);
                const struct service_config *s = c->services[k];
                ck_assert_str_eq(s->service_group, "pool");
                ck_assert_uint_eq(s->events, LEV_MASK(LEV_PROCESS_STATE_RUNNING) | LEV_MASK(LEV_TICK_5));
                ck_assert_uint_eq(s->buffer_size, 7);
                ck_assert_int_eq(s->priority, -1);
                ck_assert_int_eq(s->stdout_target, OUTPUT_LOG);
                ck_assert_int_eq(s->stderr_target, OUTPUT_NULL);
        }
        const struct service_config *one = c->services[config_find_service(c, "one")];
        ck_assert_ptr_null(one->service_group);
        ck_assert_uint_eq(one->events, listener_event_parse("EVENT"));
        ck_assert_int_eq(one->priority, 3);
        ck_assert_int_eq(one->stdout_target, OUTPUT_LOG);
        ck_assert_int_eq(c->services[config_find_service(c, "web")]->priority, 999);
        ck_assert_uint_eq(c->services[config_find_service(c, "web")]->events, 0);
        config_free(c);

        assert_load_error("[supervisord]\n[eventlistener:x]\ncommand = cat\nevents = TICK_5\nredirect_stderr = true\n", 5,
                          "redirect_stderr: [eventlistener:x] section sets redirect_stderr=true but this is not allowed "
                          "because it will interfere with the eventlistener protocol");
        assert_load_error("[supervisord]\n[eventlistener:x]\ncommand = cat\nevents = TICK_5, TICK_7\n", 4,
                          "events: Unknown event type TICK_7 in [eventlistener:x] events");
        assert_load_error("[supervisord]\n[eventlistener:x]\ncommand = cat\n", 2,
                          "[eventlistener:x]: section requires an \"events\" line");
        assert_load_error("[supervisord]\n[eventlistener:x]\ncommand = cat\nevents = ,\n", 4,
                          "events: [eventlistener:x] section requires an \"events\" line");
        assert_load_error("[supervisord]\n[eventlistener:x]\ncommand = cat\nevents = TICK_5\nbuffer_size = 0\n", 5,
                          "buffer_size: [eventlistener:x] section sets invalid buffer_size (0)");
        assert_load_error("[supervisord]\n[eventlistener:x]\ncommand = cat\nevents = TICK_5\nresult_handler = my:handler\n",
                          5, "result_handler: 'my:handler': only supervisord's default result handler, "
                             "supervisor.dispatchers:default_handler, is used here");
        assert_load_error("[supervisord]\n[eventlistener:x]\ncommand = cat\nevents = TICK_5\nstdout_logfile = /tmp/x.log\n",
                          5, "stdout_logfile: '/tmp/x.log': an event listener's stdout is its answers to supervisord "
                             "and is not logged here: only AUTO or NONE");
        assert_load_error("[supervisord]\n[eventlistener:x]\nevents = TICK_5\n", 2,
                          "[eventlistener:x]: program section eventlistener:x does not specify a command");
}
END_TEST

/* Natively too, a pool is a group: its services are all listeners and agree on it. */
START_TEST(test_listener_pool_groups) {
        struct config *c = load_ok("service a {\n command = \"cat\"\n service-group = \"p\"\n events = {TICK_5}\n}\n"
                                   "service b {\n command = \"cat\"\n service-group = \"p\"\n events = {TICK_5}\n}\n");
        ck_assert_uint_eq(c->n_services, 2);
        config_free(c);
        assert_load_error("service a {\n command = \"cat\"\n service-group = \"p\"\n events = {TICK_5}\n}\n"
                          "service b {\n command = \"cat\"\n service-group = \"p\"\n events = {TICK_60}\n}\n",
                          9, "events: the listeners of pool 'p' differ: a has other events, buffer-size or "
                             "result-timeout");
        assert_load_error("service a {\n command = \"cat\"\n service-group = \"p\"\n events = {TICK_5}\n}\n"
                          "service b {\n command = \"cat\"\n service-group = \"p\"\n}\n",
                          8, "service-group: 'p' is an event listener pool, but a of that group is a "
                             "listener and this is not");
}
END_TEST

static bool same_string(const char *a, const char *b) { return a == b || (a && b && strcmp(a, b) == 0); }

/* --print-config: an INI config written in the native form loads to the same model, every
 * service equal and the globals too, its values quoted so that ${...}, quotes, backslashes
 * and commas survive; a name the native form cannot have is refused at its line. */
START_TEST(test_ini_print_config) {
        static const char ini[] =
                "[unix_http_server]\nfile = %(here)s/s.sock\nchmod = 0770\nusername = u\npassword = p\n"
                "[supervisord]\nlogfile = %(here)s/main.log\nlogfile_maxbytes = 1MB\nlogfile_backups = 3\n"
                "loglevel = debug\npidfile = %(here)s/d.pid\nchildlogdir = %(here)s\numask = 027\n"
                "environment = GLOBAL=\"a b\"\n"
                "[program:worker]\ncommand = sh -c 'echo \"${HOME}\" \\\\ $0' %(process_num)d\nnumprocs = 3\n"
                "process_name = %(program_name)s_%(process_num)02d\nautorestart = unexpected\nexitcodes = 0,2\n"
                "stopsignal = INT\nstopwaitsecs = 7\nstartsecs = 2\nstartretries = 5\npriority = 10\n"
                "environment = A=\"x,y\",B='it''s'\ndirectory = /tmp\nredirect_stderr = true\nfatal_action = exit 4\n"
                "[program:a]\ncommand = sleep 1\nstdout_logfile = NONE\n"
                "[group:g]\nprograms = a\npriority = 5\n"
                "[eventlistener:pool]\ncommand = cat\nnumprocs = 2\nprocess_name = %(program_name)s_%(process_num)s\n"
                "events = PROCESS_STATE, TICK_60\nbuffer_size = 30\n";
        struct config *a = load_ok(ini);
        char path[256], error[1024];
        snprintf(path, sizeof path, "%s/native.conf", test_dir);
        FILE *out = fopen(path, "w");
        ck_assert_ptr_nonnull(out);
        write_file(conf_path, ini, strlen(ini));
        ck_assert_msg(ini_config_print(conf_path, out, error, sizeof error) == 0, "%s", error);
        ck_assert_int_eq(fclose(out), 0);
        struct config *b = NULL;
        int r = config_load(path, &b, error, sizeof error);
        ck_assert_msg(r == 0, "the printed config does not load: %s", error);
        ck_assert_uint_eq(a->n_services, 6);
        ck_assert_uint_eq(b->n_services, a->n_services);
        for (size_t i = 0; i < a->n_services; i++) {
                ck_assert_str_eq(a->services[i]->name, b->services[i]->name);
                ck_assert_msg(service_config_equal(a->services[i], b->services[i]), "%s differs", a->services[i]->name);
        }
        ck_assert(same_string(a->socket, b->socket) && a->socket_mode == b->socket_mode && a->socket_http == b->socket_http);
        ck_assert(same_string(a->pidfile, b->pidfile) && same_string(a->log_dir, b->log_dir));
        ck_assert(same_string(a->log_file, b->log_file) && a->log_file_max_size == b->log_file_max_size
                  && a->log_file_keep == b->log_file_keep && a->log_level == b->log_level);
        ck_assert(same_string(a->http_username, b->http_username) && same_string(a->http_password, b->http_password));
        /* what the values were meant to be, so that an agreement on nothing cannot pass */
        const struct service_config *w = a->services[config_find_service(a, "worker_02")];
        ck_assert_str_eq(w->argv[2], "echo \"${HOME}\" \\\\ $0");
        ck_assert_str_eq(w->argv[3], "2");
        ck_assert_uint_eq(a->log_file_max_size, 1u << 20);
        config_free(a);
        config_free(b);

        static const char bad[] = "[supervisord]\n[program:x]\ncommand = sleep 1\nprocess_name = x@y\n";
        write_file(conf_path, bad, strlen(bad));
        out = fopen("/dev/null", "w");
        ck_assert_int_eq(ini_config_print(conf_path, out, error, sizeof error), -EINVAL);
        fclose(out);
        ck_assert_msg(strstr(error, "supervisord.conf:2: 'x@y' cannot be a service's name in the native form"), "%s",
                      error);
}
END_TEST

static Suite *config_suite(void) {
        Suite *s = suite_create("config");
        TCase *tc;

        tc = tcase_create("load");
        tcase_add_unchecked_fixture(tc, dir_setup, dir_teardown);
        tcase_add_test(tc, test_ini_group_priority);
        tcase_add_test(tc, test_ini_eventlistener);
        tcase_add_test(tc, test_ini_print_config);
        tcase_add_test(tc, test_listener_pool_groups);
        tcase_add_test(tc, test_defaults);
        tcase_add_test(tc, test_empty_file);
        tcase_add_test(tc, test_globals);
        tcase_add_test(tc, test_main_log_options);
        tcase_add_test(tc, test_log_levels);
        tcase_add_test(tc, test_cgroup_option);
        tcase_add_test(tc, test_socket_group_number);
        tcase_add_test(tc, test_every_service_option);
        tcase_add_test(tc, test_several_services);
        tcase_add_test(tc, test_same_key_in_two_services);
        tcase_add_test(tc, test_nice_range);
        tcase_add_test(tc, test_umask_values);
        tcase_add_test(tc, test_stop_signal_forms);
        tcase_add_test(tc, test_limits);
        tcase_add_test(tc, test_descriptors_needed);
        tcase_add_test(tc, test_success_exit_codes);
        tcase_add_test(tc, test_comment_inside_list);
        tcase_add_test(tc, test_comment_characters_in_strings);
        tcase_add_test(tc, test_autostart_values);
        tcase_add_test(tc, test_user_nobody);
        tcase_add_test(tc, test_group_nogroup);
        tcase_add_test(tc, test_group_overrides_user_group);
        suite_add_tcase(s, tc);

        tc = tcase_create("errors");
        tcase_add_unchecked_fixture(tc, dir_setup, dir_teardown);
        tcase_add_test(tc, test_error_unknown_key);
        tcase_add_test(tc, test_error_key_set_twice);
        tcase_add_test(tc, test_error_section_not_closed);
        tcase_add_test(tc, test_error_invalid_service_name);
        tcase_add_test(tc, test_error_invalid_long_service_name);
        tcase_add_test(tc, test_error_reserved_name_all);
        tcase_add_test(tc, test_error_duplicate_service);
        tcase_add_test(tc, test_error_missing_command);
        tcase_add_test(tc, test_error_bad_command);
        tcase_add_test(tc, test_error_restart);
        tcase_add_test(tc, test_error_autostart);
        tcase_add_test(tc, test_error_nice);
        tcase_add_test(tc, test_error_umask);
        tcase_add_test(tc, test_error_seconds);
        tcase_add_test(tc, test_error_restart_delay_zero);
        tcase_add_test(tc, test_error_restart_delay_max_below_delay);
        tcase_add_test(tc, test_error_start_retries);
        tcase_add_test(tc, test_error_stop_signal);
        tcase_add_test(tc, test_error_limit);
        tcase_add_test(tc, test_error_success_exit_codes);
        tcase_add_test(tc, test_error_unknown_user);
        tcase_add_test(tc, test_error_unknown_group);
        tcase_add_test(tc, test_error_relative_directory);
        tcase_add_test(tc, test_error_environment);
        tcase_add_test(tc, test_error_globals);
        tcase_add_test(tc, test_error_global_before_services);
        tcase_add_test(tc, test_error_first_of_several);
        tcase_add_test(tc, test_error_line_after_block_comment);
        tcase_add_test(tc, test_error_missing_file);
        tcase_add_test(tc, test_error_nul_byte);
        tcase_add_test(tc, test_error_is_directory);
        suite_add_tcase(s, tc);

        tc = tcase_create("messages");
        tcase_add_checked_fixture(tc, dir_setup, tree_teardown);
        tcase_add_test(tc, test_error_missing_closing_quote);
        tcase_add_test(tc, test_error_unterminated_string);
        tcase_add_test(tc, test_multiline_string_accepted);
        tcase_add_test(tc, test_error_section_left_open);
        tcase_add_test(tc, test_error_unquoted_command);
        tcase_add_test(tc, test_error_supervisord_key_names);
        tcase_add_test(tc, test_priority_and_service_group);
        tcase_add_test(tc, test_warning_comma_environment);
        tcase_add_test(tc, test_error_variable_across_lines);
        tcase_add_test(tc, test_error_every_malformed_file_has_a_line);
        suite_add_tcase(s, tc);

        tc = tcase_create("include");
        tcase_add_checked_fixture(tc, dir_setup, tree_teardown);
        tcase_add_test(tc, test_include_dir);
        tcase_add_test(tc, test_include_dir_absolute_and_empty);
        tcase_add_test(tc, test_include_dir_errors);
        suite_add_tcase(s, tc);

        tc = tcase_create("trust");
        tcase_add_checked_fixture(tc, dir_setup, tree_teardown);
        tcase_add_test(tc, test_refuse_file_others_can_write);
        tcase_add_test(tc, test_refuse_file_of_another_user);
        tcase_add_test(tc, test_refuse_directory_others_can_write);
        tcase_add_test(tc, test_refuse_include_others_can_write);
        suite_add_tcase(s, tc);

        tc = tcase_create("helpers");
        tcase_add_test(tc, test_is_success);
        tcase_add_test(tc, test_restart_policy_to_string);
        tcase_add_test(tc, test_config_free_null);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return run_suite(config_suite()) ? 1 : 0;
}
