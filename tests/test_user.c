/* test_user.c — supervisord run by an ordinary user, as a newcomer tries it first: with
 * no socket, pidfile or log-dir in the config it keeps them under $XDG_RUNTIME_DIR and
 * $XDG_STATE_HOME, supervisorctl finds the same socket, and without a runtime directory
 * it says which option to set (issue 15).  The user is nobody, through setpriv. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define NOBODY "65534"

struct home {
        char dir[128];
        char conf[192], runtime[192], state[192], home_env[256], runtime_env[256], state_env[256];
};

/* A private directory that belongs to nobody, holding the config. */
static void home_init(struct home *h, bool with_runtime_dir) {
        snprintf(h->dir, sizeof h->dir, "/tmp/supervisord-user.XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(h->dir));
        snprintf(h->conf, sizeof h->conf, "%s/user.conf", h->dir);
        snprintf(h->runtime, sizeof h->runtime, "%s/run", h->dir);
        snprintf(h->state, sizeof h->state, "%s/state", h->dir);
        snprintf(h->home_env, sizeof h->home_env, "HOME=%s", h->dir);
        snprintf(h->runtime_env, sizeof h->runtime_env, "XDG_RUNTIME_DIR=%s", with_runtime_dir ? h->runtime : "");
        snprintf(h->state_env, sizeof h->state_env, "XDG_STATE_HOME=%s", h->state);
        FILE *f = fopen(h->conf, "w");
        ck_assert_ptr_nonnull(f);
        fprintf(f, "# no socket, pidfile or log-dir: the defaults of whoever runs it\n"
                   "service talker {\n command = \"sh -c 'echo hello from $SUPERVISOR_SERVICE; exec sleep 1000'\"\n"
                   " start-secs = 0.1\n}\n");
        ck_assert_int_eq(fclose(f), 0);
        ck_assert_int_eq(mkdir(h->runtime, 0700), 0);
        ck_assert_int_eq(chown(h->runtime, 65534, 65534), 0);
        ck_assert_int_eq(chown(h->conf, 65534, 65534), 0);
        ck_assert_int_eq(chown(h->dir, 65534, 65534), 0);
        ck_assert_int_eq(chmod(h->dir, 0700), 0);
}

static void home_cleanup(struct home *h) {
        char out[256];
        run_capture((char *[]){ "rm", "-rf", h->dir, NULL }, out, sizeof out);
}

/* ARGV as nobody (setpriv), with nothing in its environment but PATH, HOME and the two
 * XDG variables (XDG_RUNTIME_DIR empty, that is unset, without a runtime dir). */
static void nobody_argv(struct home *h, char *const argv[], char **full) {
        int n = 0;
        static char *prefix[] = { "setpriv", "--reuid=" NOBODY, "--regid=" NOBODY, "--clear-groups", "env", "-i",
                                  "PATH=/usr/bin:/bin", NULL };
        for (char **p = prefix; *p; p++)
                full[n++] = *p;
        full[n++] = h->home_env;
        full[n++] = h->state_env;
        if (strcmp(h->runtime_env, "XDG_RUNTIME_DIR=") != 0)
                full[n++] = h->runtime_env;
        for (int i = 0; argv[i] && n < 31; i++)
                full[n++] = argv[i];
        full[n] = NULL;
}

static int run_as_nobody(struct home *h, char *const argv[], char *out, size_t size) {
        char *full[32];
        nobody_argv(h, argv, full);
        return run_capture(full, out, size);
}

START_TEST(test_defaults_for_an_ordinary_user) {
        struct home h;
        char out[4096], path[512], log[256];
        home_init(&h, true);
        snprintf(log, sizeof log, "%s/daemon.log", h.dir);
        char *full[32];
        nobody_argv(&h, (char *[]){ (char *)supervisord_path(), "-n", "-c", h.conf, NULL }, full);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGTERM);
                int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
                if (fd >= 0) {
                        dup2(fd, STDOUT_FILENO);
                        dup2(fd, STDERR_FILENO);
                }
                execvp(full[0], full);
                _exit(127);
        }

        /* supervisorctl, as the same user with the same config, finds the same socket. */
        char *status[] = { (char *)supervisorctl_path(), "-c", h.conf, "status", "talker", NULL };
        int r = -1;
        bool running = WAIT_UNTIL((r = run_as_nobody(&h, status, out, sizeof out)) == 0 || waitpid(pid, NULL, WNOHANG) == pid,
                                  15000);
        read_text_file(log, path, sizeof path);
        ck_assert_msg(running && r == 0 && strstr(out, "RUNNING"), "status as nobody: exit %d, %s; daemon's log: %s", r,
                      out, path);

        struct stat st;
        snprintf(path, sizeof path, "%s/supervisord.sock", h.runtime);
        ck_assert_msg(stat(path, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_uid == 65534, "no socket %s", path);
        snprintf(path, sizeof path, "%s/supervisord.pid", h.runtime);
        ck_assert_msg(stat(path, &st) == 0 && st.st_uid == 65534, "no pidfile %s", path);
        char pidtext[32];
        ck_assert(read_text_file(path, pidtext, sizeof pidtext) > 0);
        snprintf(path, sizeof path, "%s/supervisord/talker.log", h.state);
        ck_assert_msg(WAIT_UNTIL(read_text_file(path, out, sizeof out) > 0 && strstr(out, "hello from talker"), 10000),
                      "no service log in %s: %s", path, out);

        /* Without -c or -s: no /etc/supervisord.conf, so the per-user default. */
        if (access("/etc/supervisord.conf", F_OK) != 0) {
                r = run_as_nobody(&h, (char *[]){ (char *)supervisorctl_path(), "pid", NULL }, out, sizeof out);
                ck_assert_msg(r == 0 && atoi(out) == atoi(pidtext), "pid: exit %d, %s (pidfile says %s)", r, out, pidtext);
        }

        kill(pid, SIGTERM);
        int wstatus;
        ck_assert(WAIT_UNTIL(waitpid(pid, &wstatus, WNOHANG) == pid, 15000));
        ck_assert_msg(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0, "daemon exit status %d", wstatus);
        home_cleanup(&h);
}
END_TEST

/* No runtime directory at all: no guess in a shared place; the message says what to set. */
START_TEST(test_no_runtime_dir_says_what_to_set) {
        struct home h;
        char out[4096];
        home_init(&h, false);
        struct stat st;
        if (stat("/run/user/" NOBODY, &st) == 0) {
                printf("skipped: /run/user/" NOBODY " exists on this machine\n");
                home_cleanup(&h);
                return;
        }
        int r = run_as_nobody(&h, (char *[]){ (char *)supervisord_path(), "-t", "-c", h.conf, NULL }, out, sizeof out);
        char expected[512];
        snprintf(expected, sizeof expected,
                 "%s: socket: not run as root, and $XDG_RUNTIME_DIR is not set: set socket (or XDG_RUNTIME_DIR)\n", h.conf);
        ck_assert_msg(r == 2 && strcmp(out, expected) == 0, "exit %d, output: %s", r, out);
        /* The client has no daemon of this user to find, but may reach the system's. */
        r = run_as_nobody(&h, (char *[]){ (char *)supervisorctl_path(), "-c", h.conf, "version", NULL }, out, sizeof out);
        ck_assert_msg(r == 7 && strstr(out, "cannot connect to supervisord at /run/supervisord.sock: "),
                      "exit %d, output: %s", r, out);

        /* Given the socket, the pidfile is the next thing asked for, by name. */
        FILE *f = fopen(h.conf, "a");
        ck_assert_ptr_nonnull(f);
        fprintf(f, "socket = \"%s/sock\"\n", h.dir);
        ck_assert_int_eq(fclose(f), 0);
        r = run_as_nobody(&h, (char *[]){ (char *)supervisord_path(), "-t", "-c", h.conf, NULL }, out, sizeof out);
        ck_assert_msg(r == 2 && strstr(out, "pidfile: not run as root, and $XDG_RUNTIME_DIR is not set: set pidfile"),
                      "exit %d, output: %s", r, out);
        home_cleanup(&h);
}
END_TEST

static Suite *user_suite(void) {
        Suite *s = suite_create("user");
        TCase *tc = tcase_create("user");
        tcase_set_timeout(tc, 90);
        tcase_add_test(tc, test_defaults_for_an_ordinary_user);
        tcase_add_test(tc, test_no_runtime_dir_says_what_to_set);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        if (geteuid() != 0) {
                printf("test_user: needs root to become another user; skipped\n");
                return 0;
        }
        return run_suite(user_suite()) ? 1 : 0;
}
