/* test_pid1.c — supervisord as PID 1 of a pid namespace, as in a container:
 * `unshare --pid --fork --mount-proc supervisord -n`.  A service leaves 100 orphans
 * behind: they must be adopted and reaped (no zombie left, seen from inside the
 * namespace and from outside), a process that escaped into its own session is stopped
 * at shutdown, signals PID 1 has no use for change nothing, and ^C on the console (a
 * pty as its controlling terminal, like `docker run -it`) shuts down with status 0.
 *
 * Needs unshare(1) and a pid namespace: as root, or through a user namespace.  When
 * neither works the tests say why and pass as skipped. */
#include <dirent.h>
#include <errno.h>
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

/* The unshare(1) words that give a new pid namespace with its own /proc here: plain
 * (root), or inside a user namespace (unprivileged, where allowed).  NULL, with the
 * reason in why, when neither works. */
static const char *const *unshare_words(char *why, size_t size) {
        static const char *const plain[] = { "unshare", "--pid", "--fork", "--kill-child", "--mount-proc", NULL };
        static const char *const user[] = { "unshare", "--map-root-user", "--pid", "--fork", "--kill-child",
                                            "--mount-proc", NULL };
        const char *const *candidates[] = { plain, user };
        char out[512] = "";
        for (size_t i = 0; i < 2; i++) {
                char *argv[16];
                size_t n = 0;
                for (const char *const *w = candidates[i]; *w; w++)
                        argv[n++] = (char *)*w;
                argv[n++] = "true";
                argv[n] = NULL;
                if (run_capture(argv, out, sizeof out) == 0)
                        return candidates[i];
        }
        out[strcspn(out, "\n")] = '\0';
        snprintf(why, size, "cannot create a pid namespace with unshare(1): %s", out[0] ? out : "not installed");
        return NULL;
}

/* argv for `unshare ... supervisord -n -c CONF`, into argv (at least 16 entries). */
static void pid1_argv(const char *const *words, struct daemon *d, char **argv) {
        size_t n = 0;
        for (const char *const *w = words; *w; w++)
                argv[n++] = (char *)*w;
        argv[n++] = "--";
        argv[n++] = (char *)supervisord_path();
        argv[n++] = "-n";
        argv[n++] = "-c";
        argv[n++] = d->conf;
        argv[n] = NULL;
}

/* The namespace's init: the child of the unshare process, by its host pid. */
static pid_t namespace_init(pid_t unshare_pid) {
        DIR *dir = opendir("/proc");
        pid_t found = 0;
        struct dirent *e;
        while (dir && (e = readdir(dir)) && !found) {
                pid_t pid = atoi(e->d_name);
                if (pid > 0 && process_parent(pid) == unshare_pid)
                        found = pid;
        }
        if (dir)
                closedir(dir);
        return found;
}

static bool same_pid_namespace(pid_t a, pid_t b) {
        char path[64], link_a[128] = "", link_b[128] = "";
        snprintf(path, sizeof path, "/proc/%d/ns/pid", (int)a);
        if (readlink(path, link_a, sizeof link_a - 1) <= 0)
                return false;
        snprintf(path, sizeof path, "/proc/%d/ns/pid", (int)b);
        if (readlink(path, link_b, sizeof link_b - 1) <= 0)
                return false;
        return strcmp(link_a, link_b) == 0;
}

static bool has_comm(pid_t pid, const char *comm) {
        char path[64], buf[64];
        snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
        if (read_text_file(path, buf, sizeof buf) <= 0)
                return false;
        buf[strcspn(buf, "\n")] = '\0';
        return strcmp(buf, comm) == 0;
}

/* Seen from outside: zombies whose parent is INIT (its to reap: a shell's child that is
 * a zombie for a moment is the shell's), and living processes named COMM whose parent is
 * INIT (adopted orphans). */
static void census(pid_t init, const char *comm, int *zombies, int *adopted) {
        *zombies = *adopted = 0;
        DIR *dir = opendir("/proc");
        struct dirent *e;
        while (dir && (e = readdir(dir))) {
                pid_t pid = atoi(e->d_name);
                if (pid <= 0 || !same_pid_namespace(pid, init))
                        continue;
                char state = process_state(pid);
                if (state == 'Z' && process_parent(pid) == init)
                        (*zombies)++;
                else if (state && process_parent(pid) == init && has_comm(pid, comm))
                        (*adopted)++;
        }
        if (dir)
                closedir(dir);
}

/* SIGKILL to the living children of INIT whose command line is CMDLINE (NULs read as
 * spaces), seen from outside; how many. */
static int kill_adopted(pid_t init, const char *cmdline) {
        int killed = 0;
        DIR *dir = opendir("/proc");
        struct dirent *e;
        while (dir && (e = readdir(dir))) {
                pid_t pid = atoi(e->d_name);
                char path[64], buf[256];
                if (pid <= 0 || process_parent(pid) != init || !process_exists(pid))
                        continue;
                snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
                ssize_t n = read_text_file(path, buf, sizeof buf);
                for (ssize_t i = 0; i + 1 < n; i++)
                        if (buf[i] == '\0')
                                buf[i] = ' ';
                if (n > 0 && strcmp(buf, cmdline) == 0 && kill(pid, SIGKILL) == 0)
                        killed++;
        }
        if (dir)
                closedir(dir);
        return killed;
}

static int wait_exit(pid_t pid, int timeout_ms) {
        int status = 0;
        if (!WAIT_UNTIL(waitpid(pid, &status, WNOHANG) == pid, timeout_ms))
                return -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static bool log_contains(const char *path, const char *needle) {
        static char buf[1 << 20];
        return read_text_file(path, buf, sizeof buf) >= 0 && strstr(buf, needle);
}

START_TEST(test_pid1_reaps_orphans) {
        char why[600];
        const char *const *words = unshare_words(why, sizeof why);
        if (!words) {
                printf("SKIP test_pid1_reaps_orphans: %s\n", why);
                return;
        }
        struct daemon d;
        char spawned[256], zombies_file[256], out[4096], buf[64];
        daemon_init(&d);
        snprintf(spawned, sizeof spawned, "%s/spawned", d.dir);
        snprintf(zombies_file, sizeof zombies_file, "%s/zombies", d.dir);
        /* spawner: 100 background sleeps whose parent subshell exits at once, so each is
         * orphaned to PID 1, and lives until the test kills it (a life of its own, however
         * short, could end before a busy machine has made the hundredth).  escapee: a process in a session of its
         * own and with an empty environment, which no service claims at its stop (neither
         * by process group nor by SUPERVISOR_SERVICE): only PID 1's final sweep reaches it.
         * counter: the zombie count as the namespace's own /proc shows it, every 100 ms. */
        daemon_write_config(&d,
                "service spawner {\n"
                "  command = \"/bin/sh -c 'i=0; while [ $i -lt 100 ]; do (sleep 1001 &); i=$((i+1)); done;"
                " echo done > %s; exec sleep 600'\"\n"
                "  start-secs = 0\n}\n"
                "service escapee { command = \"/bin/sh -c '(setsid env -i /bin/sleep 600 &); exec sleep 600'\"\n"
                " start-secs = 0\n}\n"
                "service counter {\n"
                "  command = \"/bin/sh -c 'while :; do grep -s \\\"^State:.Z\\\" /proc/[0-9]*/status | wc -l > %s.new;"
                " mv %s.new %s; sleep 0.1; done'\"\n"
                "  start-secs = 0\n}\n",
                spawned, zombies_file, zombies_file, zombies_file);

        char *argv[24];
        pid1_argv(words, &d, argv);
        pid_t unshare_pid = fork();
        ck_assert_int_ge(unshare_pid, 0);
        if (unshare_pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);  /* --kill-child takes the namespace along */
                int log = open(d.log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
                dup2(log, STDOUT_FILENO);
                dup2(log, STDERR_FILENO);
                execvp(argv[0], argv);
                _exit(127);
        }
        ck_assert_msg(WAIT_UNTIL(ctl(&d, out, sizeof out, "pid") == 0, SOON_MS), "no answer (log %s)", d.log);
        ck_assert_msg(strcmp(out, "1\n") == 0, "supervisord is pid %s in its namespace, not 1", out);
        pid_t init = namespace_init(unshare_pid);
        ck_assert_int_gt(init, 0);

        /* The orphans are ours: adopted by PID 1 while they live... */
        ck_assert_msg(wait_for_file(spawned, SOON_MS), "%s is still missing or empty", spawned);
        int zombies, adopted;
        ck_assert_msg(WAIT_UNTIL((census(init, "sleep", &zombies, &adopted), adopted >= 100), SOON_MS),
                      "only %d orphans adopted by PID 1", adopted);
        ck_assert_int_eq(kill_adopted(init, "sleep 1001"), 100);
        /* ... and reaped when they exit: not one zombie left, from outside and inside. */
        ck_assert_msg(WAIT_UNTIL((census(init, "sleep", &zombies, &adopted), adopted <= 3 && zombies == 0), SOON_MS),
                      "%d zombies, %d sleeps left", zombies, adopted);
        sleep_ms(300);
        census(init, "sleep", &zombies, &adopted);
        ck_assert_int_eq(zombies, 0);
        /* Left: the two services' main processes (exec sleep 600) and the escapee. */
        ck_assert_int_eq(adopted, 3);
        ck_assert_msg(WAIT_UNTIL(read_text_file(zombies_file, buf, sizeof buf) > 0 && atoi(buf) == 0, SOON_MS),
                      "the namespace's /proc shows %s zombies", buf);

        /* TERM: services stopped, the escapee too (it gets TERM, well within the grace
         * period), exit status 0. */
        ck_assert_int_eq(kill(init, SIGTERM), 0);
        int status = wait_exit(unshare_pid, SOON_MS);
        ck_assert_msg(status == 0, "exit status %d (log %s)", status, d.log);
        ck_assert(log_contains(d.log, "running as PID 1"));
        ck_assert(log_contains(d.log, "stopping the processes left in the namespace"));
        ck_assert(!log_contains(d.log, "sending SIGKILL"));
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_pid1_signals_and_console) {
        char why[600];
        const char *const *words = unshare_words(why, sizeof why);
        if (!words) {
                printf("SKIP test_pid1_signals_and_console: %s\n", why);
                return;
        }
        struct daemon d;
        char sent[256], out[4096];
        daemon_init(&d);
        snprintf(sent, sizeof sent, "%s/sent", d.dir);
        /* From inside, signals whose default action would stop or kill an ordinary
         * process: PID 1 without a handler for them must just carry on. */
        daemon_write_config(&d,
                "service nagger {\n"
                "  command = \"/bin/sh -c 'for s in USR2 QUIT ALRM PIPE VTALRM PROF TSTP TTIN TTOU; do kill -$s 1; done;"
                " echo done > %s; exec sleep 600'\"\n"
                "  start-secs = 0\n}\n",
                sent);

        /* The console: a pty whose slave is supervisord's controlling terminal and stdio. */
        int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        ck_assert_int_ge(master, 0);
        ck_assert_int_eq(grantpt(master), 0);
        ck_assert_int_eq(unlockpt(master), 0);
        const char *slave_name = ptsname(master);
        ck_assert_ptr_nonnull(slave_name);
        /* Drain the console into the log, as a terminal would show it: a full pty would
         * stall supervisord's writes. */
        pid_t drain = fork();
        ck_assert_int_ge(drain, 0);
        if (drain == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                int log = open(d.log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
                char buf[4096];
                ssize_t n;
                while ((n = read(master, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
                        if (n > 0 && write(log, buf, (size_t)n) < 0)
                                break;
                _exit(0);
        }
        char *argv[24];
        pid1_argv(words, &d, argv);
        pid_t unshare_pid = fork();
        ck_assert_int_ge(unshare_pid, 0);
        if (unshare_pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                setsid();
                /* The first terminal a session leader opens becomes its controlling one. */
                int slave = open(slave_name, O_RDWR);
                if (slave < 0)
                        _exit(126);
                dup2(slave, STDIN_FILENO);
                dup2(slave, STDOUT_FILENO);
                dup2(slave, STDERR_FILENO);
                if (slave > STDERR_FILENO)
                        close(slave);
                execvp(argv[0], argv);
                _exit(127);
        }
        ck_assert_msg(WAIT_UNTIL(ctl(&d, out, sizeof out, "pid") == 0, SOON_MS), "no answer (log %s)", d.log);
        pid_t init = namespace_init(unshare_pid);
        ck_assert_int_gt(init, 0);
        ck_assert_msg(wait_for_file(sent, SOON_MS), "%s is still missing or empty", sent);
        sleep_ms(200);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "status nagger"), 0);
        char state = process_state(init);
        ck_assert_msg(state == 'S' || state == 'R', "supervisord in state %c after the signals", state);

        /* ^C on the console: SIGINT to the foreground process group, supervisord's. */
        ck_assert_int_eq(write(master, "\003", 1), 1);
        int status = wait_exit(unshare_pid, 10000);
        ck_assert_msg(status == 0, "exit status %d (log %s)", status, d.log);
        ck_assert_msg(WAIT_UNTIL(log_contains(d.log, "received SIGINT indicating exit request"), SOON_MS),
                      "nothing on the console (log %s)", d.log);
        ck_assert(log_contains(d.log, "started with 1 services"));
        close(master);
        kill(drain, SIGKILL);
        waitpid(drain, NULL, 0);
        daemon_cleanup(&d);
}
END_TEST

/* A forking daemon that leaves its process group once its pidfile was read, a child of it
 * staying in the old group: TERM to PID 1 stops it with its stop signal, well before its
 * 60 s stop-timeout, not with a SIGKILL (the namespace's last one, at that). */
START_TEST(test_pid1_stops_a_daemon_that_left_its_group) {
        char why[600];
        const char *const *words = unshare_words(why, sizeof why);
        if (!words) {
                printf("SKIP test_pid1_stops_a_daemon_that_left_its_group: %s\n", why);
                return;
        }
        struct daemon d;
        char pidfile[256], go[256], left[256], out[4096];
        daemon_init(&d);
        snprintf(pidfile, sizeof pidfile, "%s/daemon.pid", d.dir);
        snprintf(go, sizeof go, "%s/go", d.dir);
        snprintf(left, sizeof left, "%s/left", d.dir);
        daemon_write_config(&d,
                "service forker { type = forking\n pidfile = %s\n start-secs = 0.2\n stop-timeout = 60\n"
                "  command = \"/bin/sh -c '/bin/sh -c \\\"echo \\\\$\\\\$ > %s; sleep 3811 &"
                " while [ ! -e %s ]; do sleep 0.05; done;"
                " exec setsid /bin/sh -c \\\\\\\"echo left > %s; exec sleep 3812\\\\\\\"\\\" < /dev/null & exit 0'\"\n}\n",
                pidfile, pidfile, go, left);
        char *argv[24];
        pid1_argv(words, &d, argv);
        pid_t unshare_pid = fork();
        ck_assert_int_ge(unshare_pid, 0);
        if (unshare_pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                int log = open(d.log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
                dup2(log, STDOUT_FILENO);
                dup2(log, STDERR_FILENO);
                execvp(argv[0], argv);
                _exit(127);
        }
        ck_assert_msg(WAIT_UNTIL(ctl(&d, out, sizeof out, "pid") == 0, SOON_MS), "no answer (log %s)", d.log);
        pid_t init = namespace_init(unshare_pid);
        ck_assert_int_gt(init, 0);
        ASSERT_STATE_WITHIN(&d, "forker", "RUNNING", SOON_MS);
        ck_assert_int_eq(close(open(go, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)), 0);
        ck_assert_msg(wait_for_file(left, SOON_MS), "the daemon never left its group (log %s)", d.log);

        ck_assert_int_eq(kill(init, SIGTERM), 0);
        int status = wait_exit(unshare_pid, SOON_MS);
        ck_assert_msg(status == 0, "exit status %d, expected 0 well before the 60 s stop-timeout (log %s)", status,
                      d.log);
        ck_assert_msg(log_contains(d.log, "forker: sending SIGTERM to pid"), "log %s", d.log);
        ck_assert_msg(!log_contains(d.log, "SIGKILL"), "a SIGKILL was needed (log %s)", d.log);
        daemon_cleanup(&d);
}
END_TEST

static Suite *pid1_suite(void) {
        Suite *s = suite_create("pid1");
        TCase *tc = tcase_create("pid1");
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_pid1_reaps_orphans);
        tcase_add_test(tc, test_pid1_signals_and_console);
        tcase_add_test(tc, test_pid1_stops_a_daemon_that_left_its_group);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) { return run_suite(pid1_suite()) ? 1 : 0; }
