/* test_hygiene.c — every way a service process comes to be (simple, notify, forking,
 * instances, heartbeats) hands it the same clean slate: only the documented fds, signal
 * mask and dispositions at their defaults, no variable of supervisord's own beyond the
 * documented ones, and the configured user with exactly that user's groups. */
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

static const char *status_line(pid_t pid, const char *field, char *value, size_t size) {
        char path[64], buf[8192];
        snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
        value[0] = '\0';
        if (read_text_file(path, buf, sizeof buf) <= 0)
                return value;
        size_t len = strlen(field);
        for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
                if (strncmp(line, field, len) == 0 && line[len] == ':') {
                        char *v = line + len + 1;
                        while (*v == ' ' || *v == '\t')
                                v++;
                        snprintf(value, size, "%s", v);
                        for (char *p = value; *p; p++)
                                if (*p == '\t')
                                        *p = ' ';
                        for (size_t n = strlen(value); n > 0 && value[n - 1] == ' '; n--)
                                value[n - 1] = '\0';
                        break;
                }
        return value;
}

/* Names of PID's environment variables, each followed by a space, in order. */
static void environment_names(pid_t pid, char *names, size_t size) {
        char path[64], buf[65536];
        snprintf(path, sizeof path, "/proc/%d/environ", (int)pid);
        ssize_t n = read_text_file(path, buf, sizeof buf);
        size_t len = 0;
        names[0] = '\0';
        for (ssize_t i = 0; i < n; i += (ssize_t)strlen(buf + i) + 1) {
                const char *eq = strchr(buf + i, '=');
                if (eq && len + (size_t)(eq - (buf + i)) + 2 < size)
                        len += (size_t)snprintf(names + len, size - len, "%.*s ", (int)(eq - (buf + i)), buf + i);
        }
}

/* Is every name of CHILD either one of PARENT's or in ALLOWED? */
static void assert_no_foreign_variables(const char *who, const char *child, const char *parent, const char *allowed) {
        char copy[16384];
        snprintf(copy, sizeof copy, "%s", child);
        for (char *name = strtok(copy, " "); name; name = strtok(NULL, " ")) {
                char word[256];
                snprintf(word, sizeof word, " %s ", name);
                static char padded_parent[16400];
                char padded_allowed[1024];
                snprintf(padded_parent, sizeof padded_parent, " %s", parent);
                snprintf(padded_allowed, sizeof padded_allowed, " %s ", allowed);
                ck_assert_msg(strstr(padded_parent, word) || strstr(padded_allowed, word), "%s: unexpected %s", who,
                              name);
        }
}

/* What every service gets: the native variables, then Python supervisord's (without an
 * HTTP interface, no SUPERVISOR_SERVER_URL). */
#define OURS                                                                                                     \
        "SUPERVISOR_SERVICE SUPERVISOR_INSTANCE SUPERVISOR_PIDFILE SUPERVISOR_ENABLED SUPERVISOR_PROCESS_NAME "    \
        "SUPERVISOR_GROUP_NAME "

START_TEST(test_every_spawn_path) {
        struct daemon d;
        char daemon_env[16384], env[16384], value[256], list[256], pidfile[256];
        if (geteuid() != 0) {
                fprintf(stderr, "test_every_spawn_path: needs root to switch users, skipped\n");
                return;
        }
        struct passwd *pw = getpwnam("nobody");
        struct group *gr = getgrnam("nogroup");
        ck_assert(pw && gr);
        uid_t uid = pw->pw_uid;
        gid_t gid = gr->gr_gid;

        daemon_init(&d);
        /* The forking service (user nobody) writes its pidfile in a directory of its own:
         * supervisord's socket, pidfile and log directory stay where only root writes. */
        char run_dir[200];
        snprintf(run_dir, sizeof run_dir, "%s/run", d.dir);
        ck_assert_int_eq(mkdir(run_dir, 0755), 0);
        ck_assert_int_eq(chown(run_dir, uid, gid), 0);
        snprintf(pidfile, sizeof pidfile, "%s/forker.pid", run_dir);
        daemon_write_config(&d,
                "service simple { command = \"sleep 3800\"\n user = nobody\n start-secs = 0.2\n}\n"
                "service notified { type = notify\n user = nobody\n"
                "  command = \"/bin/sh -c 'systemd-notify --ready; exec sleep 3801'\"\n}\n"
                "service forker { type = forking\n pidfile = %1$s\n user = nobody\n start-secs = 0.3\n"
                /* setsid -f rather than the shell's `&`, which would make the daemon ignore INT and QUIT */
                "  command = \"/bin/sh -c 'setsid -f /bin/sh -c \\\"echo \\\\$$ > %1$s; exec sleep 3802\\\" < /dev/null'\"\n"
                "}\n"
                "service pool { command = \"sleep 3803\"\n instances = 2\n user = nobody\n start-secs = 0.2\n}\n"
                /* the C client, not the shell idiom: a shell opens fds of its own for `<&3` */
                "service beating { user = nobody\n heartbeat-interval = 1\n start-secs = 0.2\n"
                "  command = %2$s\n}\n",
                pidfile, heartbeat_helper_path());
        /* Variables meant for supervisord itself, as systemd would set them. */
        setenv("NOTIFY_SOCKET", "/nonexistent/notify", 1);
        setenv("LISTEN_FDNAMES", "control", 1);
        setenv("WATCHDOG_USEC", "30000000", 1);
        setenv("INVOCATION_ID", "0123456789abcdef0123456789abcdef", 1);
        daemon_start(&d);
        environment_names(d.pid, daemon_env, sizeof daemon_env);

        static const struct {
                const char *name;
                const char *fds;
                const char *allowed;  /* variables a service may have that supervisord has not */
        } paths[] = {
                { "simple", "0 1 2", OURS "USER LOGNAME HOME" },
                { "notified", "0 1 2",
                  OURS "USER LOGNAME HOME NOTIFY_SOCKET" },
                { "forker", "0 1 2", OURS "USER LOGNAME HOME" },
                { "pool@0", "0 1 2", OURS "USER LOGNAME HOME" },
                { "pool@1", "0 1 2", OURS "USER LOGNAME HOME" },
                { "beating", "0 1 2 3 4",
                  OURS "USER LOGNAME HOME SUPERVISOR_PING_FD"
                  " SUPERVISOR_PONG_FD" },
        };
        for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
                const char *name = paths[i].name;
                ck_assert_msg(wait_for_state(&d, name, "RUNNING", SOON_MS), "%s not RUNNING", name);
                pid_t pid = service_pid_of(&d, name);
                ck_assert_int_gt(pid, 0);
                /* Wait for the final program: before its exec /proc shows supervisord's
                 * forked copy (or the shell of a notify service). */
                const char *program = strcmp(name, "beating") == 0 ? "helper_heartbea\n" : "sleep\n";
                char comm_path[64], comm[64];
                snprintf(comm_path, sizeof comm_path, "/proc/%d/comm", (int)pid);
                ck_assert_msg(WAIT_UNTIL(read_text_file(comm_path, comm, sizeof comm) > 0 && !strcmp(comm, program), SOON_MS),
                              "%s never ran its program", name);

                count_fds(pid, list, sizeof list);
                ck_assert_msg(strcmp(list, paths[i].fds) == 0, "%s: fds %s", name, list);
                ck_assert_msg(!strcmp(status_line(pid, "SigBlk", value, sizeof value), "0000000000000000"),
                              "%s: SigBlk %s", name, value);
                ck_assert_msg(!strcmp(status_line(pid, "SigIgn", value, sizeof value), "0000000000000000"),
                              "%s: SigIgn %s", name, value);

                char expect[128];
                snprintf(expect, sizeof expect, "%u %u %u %u", uid, uid, uid, uid);
                ck_assert_msg(!strcmp(status_line(pid, "Uid", value, sizeof value), expect), "%s: Uid %s", name, value);
                snprintf(expect, sizeof expect, "%u %u %u %u", gid, gid, gid, gid);
                ck_assert_msg(!strcmp(status_line(pid, "Gid", value, sizeof value), expect), "%s: Gid %s", name, value);
                snprintf(expect, sizeof expect, "%u", gid);
                ck_assert_msg(!strcmp(status_line(pid, "Groups", value, sizeof value), expect), "%s: Groups %s", name,
                              value);

                environment_names(pid, env, sizeof env);
                /* Under valgrind the daemon's children carry valgrind's preload until exec. */
                char allowed[512];
                snprintf(allowed, sizeof allowed, "%s%s", paths[i].allowed,
                         harness_instrumented() ? " LD_PRELOAD VALGRIND_LIB" : "");
                assert_no_foreign_variables(name, env, daemon_env, allowed);
                ck_assert_msg(!process_getenv(pid, "LISTEN_FDNAMES", value, sizeof value), "%s: LISTEN_FDNAMES", name);
                ck_assert_msg(!process_getenv(pid, "WATCHDOG_USEC", value, sizeof value), "%s: WATCHDOG_USEC", name);
                ck_assert_msg(!process_getenv(pid, "INVOCATION_ID", value, sizeof value), "%s: INVOCATION_ID", name);
                if (strcmp(name, "notified") != 0) {
                        ck_assert_msg(!process_getenv(pid, "NOTIFY_SOCKET", value, sizeof value), "%s: NOTIFY_SOCKET",
                                      name);
                } else {
                        /* its own socket, not supervisord's */
                        ck_assert(process_getenv(pid, "NOTIFY_SOCKET", value, sizeof value));
                        ck_assert_str_ne(value, "/nonexistent/notify");
                }
        }
        daemon_cleanup(&d);
}
END_TEST

static Suite *hygiene_suite(void) {
        Suite *s = suite_create("hygiene");
        TCase *tc = tcase_create("hygiene");
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_every_spawn_path);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) { return run_suite(hygiene_suite()) ? 1 : 0; }
