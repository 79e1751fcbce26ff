/* test_cgroup.c — nothing a service started outlives the service, even across SIGKILLs of
 * supervisord: ten rounds of SIGKILL and restart with services whose children call setsid
 * (while their parent lives, and after it is gone) and with forking daemons, once in the
 * process-group mode (`cgroup = off`) and once with a cgroup v2 subtree the test makes
 * for its run.  After every restart there is exactly one of each process, and after a
 * clean shutdown none.
 *
 * The cgroup half needs a writable cgroup v2 file system (this machine's is at
 * /sys/fs/cgroup/unified, a hybrid layout): where there is none it says why and skips,
 * loudly.  Each subtree is made for the run and removed after it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "harness.h"

#define ROUNDS 10

/* The processes each round leaves, by command line: "sleep 38NN.TAG". */
enum {
        HOLDER_MAIN,      /* holder's main process */
        HOLDER_SESSION,   /* its child in a session of its own, its parent still alive */
        ESCAPER_MAIN,
        ESCAPER_SESSION,  /* a setsid child whose parent is gone: adopted by supervisord */
        FORKER_DAEMON,    /* a classic double-forked daemon, followed through its pidfile */
        WORKER_DAEMON,    /* a forking daemon ... */
        WORKER_SESSION,   /* ... with a worker in a session of its own */
        HIDER_MAIN,       /* cgroup mode only: */
        HIDER_SESSION,    /* a setsid child with an empty environment, its parent alive */
        N_KINDS,
};

/* Kinds the process-group mode runs: the hider only the cgroup mode can find. */
static int n_kinds = N_KINDS;

static char cmdlines[N_KINDS][64];

static void make_cmdlines(void) {
        for (int i = 0; i < n_kinds; i++)
                snprintf(cmdlines[i], sizeof cmdlines[i], "sleep 38%02d.%06d", i, (int)getpid() % 1000000);
}

static void write_config(struct daemon *d, const char *cgroup_line, bool hider) {
        char forker_pid[256], worker_pid[256];
        snprintf(forker_pid, sizeof forker_pid, "%s/forker.pid", d->dir);
        snprintf(worker_pid, sizeof worker_pid, "%s/worker.pid", d->dir);
        daemon_write_config(d,
                "%s\n"
                "service holder { command = \"/bin/sh -c 'setsid %s & exec %s'\"\n start-secs = 0.2\n}\n"
                "service escaper { command = \"/bin/sh -c '(setsid %s &); exec %s'\"\n start-secs = 0.2\n}\n"
                "service forker { type = forking\n pidfile = %s\n start-secs = 0.3\n"
                "  command = \"/bin/sh -c 'setsid /bin/sh -c \\\"%s & echo \\\\$! > %s\\\" < /dev/null; exit 0'\"\n"
                "}\n"
                "service worker { type = forking\n pidfile = %s\n start-secs = 0.3\n"
                "  command = \"/bin/sh -c 'setsid /bin/sh -c \\\"setsid %s & echo \\\\$\\\\$ > %s; exec %s\\\""
                " < /dev/null & exit 0'\"\n"
                "}\n"
                "%s%s%s%s%s",
                cgroup_line, cmdlines[HOLDER_SESSION], cmdlines[HOLDER_MAIN], cmdlines[ESCAPER_SESSION],
                cmdlines[ESCAPER_MAIN], forker_pid, cmdlines[FORKER_DAEMON], forker_pid, worker_pid,
                cmdlines[WORKER_SESSION], worker_pid, cmdlines[WORKER_DAEMON],
                hider ? "service hider { command = \"/bin/sh -c 'env -i /usr/bin/setsid " : "",
                hider ? cmdlines[HIDER_SESSION] : "", hider ? " & exec " : "", hider ? cmdlines[HIDER_MAIN] : "",
                hider ? "'\"\n start-secs = 0.2\n}\n" : "");
        n_kinds = hider ? N_KINDS : HIDER_MAIN;
}

static const char *const services[] = { "holder", "escaper", "forker", "worker", "hider" };

static bool all_running(struct daemon *d) {
        for (size_t i = 0; i < sizeof services / sizeof *services - (n_kinds < N_KINDS); i++)
                if (!wait_for_state(d, services[i], "RUNNING", 10000))
                        return false;
        return true;
}

/* How many of each kind run, into counts; returns the total beyond one of each. */
static int extra_processes(int counts[N_KINDS]) {
        int extra = 0;
        for (int i = 0; i < n_kinds; i++) {
                counts[i] = count_processes(cmdlines[i]);
                extra += counts[i] > 1 ? counts[i] - 1 : 0;
        }
        return extra;
}

static bool exactly_one_of_each(void) {
        int counts[N_KINDS];
        int extra = extra_processes(counts);
        for (int i = 0; i < n_kinds; i++)
                if (counts[i] != 1)
                        return false;
        return extra == 0;
}

static int all_processes(void) {
        int n = 0;
        for (int i = 0; i < n_kinds; i++)
                n += count_processes(cmdlines[i]);
        return n;
}

static void kill9_daemon(struct daemon *d) {
        ck_assert_int_eq(kill(d->pid, SIGKILL), 0);
        waitpid(d->pid, NULL, 0);
        d->pid = 0;
}

/* The attack: ROUNDS times a SIGKILL of supervisord and a start.  Returns the processes
 * beyond one of each kind once the last start has settled. */
static int sigkill_rounds(struct daemon *d) {
        int counts[N_KINDS];
        daemon_start(d);
        ck_assert(all_running(d));
        ck_assert_msg(WAIT_UNTIL(exactly_one_of_each(), 5000), "the first start did not make one of each");
        for (int round = 1; round <= ROUNDS; round++) {
                kill9_daemon(d);
                daemon_start(d);
                ck_assert_msg(all_running(d), "round %d: not every service came back", round);
                /* Whatever the killing of leftovers has yet to finish off gets a while. */
                bool settled = WAIT_UNTIL(exactly_one_of_each(), 5000);
                int extra = extra_processes(counts);
                if (!settled) {
                        char what[1024] = "";
                        for (int i = 0; i < n_kinds; i++)
                                snprintf(what + strlen(what), sizeof what - strlen(what), " %s: %d", cmdlines[i],
                                         counts[i]);
                        ck_abort_msg("round %d: %d processes more than one of each:%s", round, extra, what);
                }
        }
        int extra = extra_processes(counts);
        printf("cgroup test: %d rounds of SIGKILL, %d survivors\n", ROUNDS, extra);
        return extra;
}

START_TEST(test_sigkill_rounds_process_groups) {
        struct daemon d;
        harness_adopt_orphans();
        make_cmdlines();
        daemon_init(&d);
        write_config(&d, "cgroup = off", false);
        ck_assert_int_eq(sigkill_rounds(&d), 0);
        char log[1 << 16];
        ck_assert_int_gt(read_text_file(d.log, log, sizeof log), 0);
        ck_assert_ptr_nonnull(strstr(log, "process-group mode"));
        ck_assert_int_eq(daemon_stop(&d, 15000), 0);
        ck_assert_msg(WAIT_UNTIL(all_processes() == 0, 5000), "%d processes left after a clean stop", all_processes());
        daemon_cleanup(&d);
}
END_TEST

/* The pid in PIDFILE runs exactly CMDLINE. */
static bool pidfile_names(const char *pidfile, const char *cmdline) {
        char buf[64], path[64], text[256];
        if (read_text_file(pidfile, buf, sizeof buf) <= 0)
                return false;
        snprintf(path, sizeof path, "/proc/%d/cmdline", atoi(buf));
        ssize_t n = read_text_file(path, text, sizeof text);
        for (ssize_t i = 0; i + 1 < n; i++)
                if (text[i] == '\0')
                        text[i] = ' ';
        return n > 0 && strcmp(text, cmdline) == 0;
}

/* A forking daemon that writes its pidfile only after its launcher has exited is known
 * to supervisord, until start-secs, only as a stray of the service: SIGKILLed in that
 * window, ten times, supervisord still leaves none of them behind. */
START_TEST(test_sigkill_while_a_forking_daemon_starts) {
        struct daemon d;
        char pidfile[256], daemon_cmdline[64];
        harness_adopt_orphans();
        daemon_init(&d);
        snprintf(pidfile, sizeof pidfile, "%s/late.pid", d.dir);
        snprintf(daemon_cmdline, sizeof daemon_cmdline, "sleep 3890.%06d", (int)getpid() % 1000000);
        daemon_write_config(&d,
                "cgroup = off\n"
                "service late { type = forking\n pidfile = %s\n start-secs = 60\n"
                "  command = \"/bin/sh -c 'setsid /bin/sh -c \\\"sleep 0.3; echo \\\\$\\\\$ > %s; exec %s\\\""
                " < /dev/null & exit 0'\"\n"
                "}\n",
                pidfile, pidfile, daemon_cmdline);
        for (int round = 1; round <= ROUNDS; round++) {
                unlink(pidfile);
                daemon_start(&d);
                /* The new daemon has written its pidfile, and is the only one. */
                bool one = WAIT_UNTIL(pidfile_names(pidfile, daemon_cmdline) && count_processes(daemon_cmdline) == 1,
                                      10000);
                ck_assert_msg(one, "round %d: %d daemons", round, count_processes(daemon_cmdline));
                char state[32];
                ck_assert_str_eq(service_state_of(&d, "late", state, sizeof state), "STARTING");
                kill9_daemon(&d);
        }
        unlink(pidfile);
        daemon_start(&d);
        ck_assert_msg(WAIT_UNTIL(pidfile_names(pidfile, daemon_cmdline) && count_processes(daemon_cmdline) == 1, 10000),
                      "%d daemons after %d rounds", count_processes(daemon_cmdline), ROUNDS);
        printf("forking daemons SIGKILLed while starting: %d rounds, %d survivors\n", ROUNDS,
               count_processes(daemon_cmdline) - 1);
        ck_assert_int_eq(daemon_stop(&d, 15000), 0);
        ck_assert(WAIT_UNTIL(count_processes(daemon_cmdline) == 0, 5000));
        daemon_cleanup(&d);
}
END_TEST

/* ---- cgroup v2 ---- */

static pid_t runner;  /* the test program, which forks each test: names the subtrees */

/* The mount point of the cgroup v2 file system into buf, false if there is none. */
static bool cgroup2_mount(char *buf, size_t size) {
        FILE *f = fopen("/proc/self/mountinfo", "re");
        char line[4096];
        bool found = false;
        while (f && !found && fgets(line, sizeof line, f)) {
                char mount_point[1024], fstype[64];
                const char *dash = strstr(line, " - ");
                if (!dash || sscanf(dash, " - %63s", fstype) != 1 || strcmp(fstype, "cgroup2") != 0)
                        continue;
                if (sscanf(line, "%*s %*s %*s %*s %1023s", mount_point) == 1) {
                        snprintf(buf, size, "%s", mount_point);
                        found = true;
                }
        }
        if (f)
                fclose(f);
        return found;
}

static char mount_point[1024];
static char subtree[1100];  /* this run's, made by cgroup_subtree_make() */

static void subtree_name(const char *what) {
        snprintf(subtree, sizeof subtree, "%s/supervisord-test.%d.%s", mount_point, (int)runner, what);
}

/* Why the cgroup tests cannot run here, or NULL when the subtree WHAT is made. */
static const char *cgroup_subtree_make(const char *what) {
        static char why[1300];
        if (!cgroup2_mount(mount_point, sizeof mount_point))
                return "no cgroup2 file system is mounted (/proc/self/mountinfo)";
        subtree_name(what);
        if (mkdir(subtree, 0755) < 0) {
                snprintf(why, sizeof why, "cannot make %s: %s", subtree, strerror(errno));
                return why;
        }
        return NULL;
}

static bool skip_loudly(const char *test, const char *why) {
        if (!why)
                return false;
        fprintf(stderr, "\n*** SKIPPED %s: cgroup v2 is not delegable on this machine: %s ***\n\n", test, why);
        return true;
}

/* Every cgroup under DIR killed, then removed deepest first: rmdir takes empty ones only. */
static void remove_cgroups(const char *dir) {
        DIR *d = opendir(dir);
        for (struct dirent *e; d && (e = readdir(d));) {
                char path[2048];
                struct stat st;
                if (e->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
                if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
                        remove_cgroups(path);
        }
        if (d)
                closedir(d);
        char kill_path[2048];
        snprintf(kill_path, sizeof kill_path, "%s/cgroup.kill", dir);
        int fd = open(kill_path, O_WRONLY | O_CLOEXEC);
        if (fd >= 0) {
                if (write(fd, "1", 1) < 0) {
                        /* nothing to kill, or no cgroup.kill: rmdir says */
                }
                close(fd);
        }
        WAIT_UNTIL(rmdir(dir) == 0 || errno == ENOENT, 5000);
}

/* In the runner, after the tests (a failed one never gets to clean up): every subtree
 * of this run is removed. */
static void remove_subtrees(void) {
        static const char *const whats[] = { "path", "auto" };
        if (!cgroup2_mount(mount_point, sizeof mount_point))
                return;
        for (size_t i = 0; i < sizeof whats / sizeof *whats; i++) {
                subtree_name(whats[i]);
                remove_cgroups(subtree);
        }
}

/* The cgroup v2 path of PID ("/supervisord-test.1.path/holder.service"), into buf. */
static bool process_cgroup(pid_t pid, char *buf, size_t size) {
        char path[64], text[4096];
        snprintf(path, sizeof path, "/proc/%d/cgroup", (int)pid);
        if (read_text_file(path, text, sizeof text) < 0)
                return false;
        for (char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
                if (strncmp(line, "0::", 3) == 0) {
                        size_t n = strcspn(line + 3, "\n");
                        snprintf(buf, size, "%.*s", (int)n, line + 3);
                        return true;
                }
        return false;
}

/* PID is in the cgroup NAME of the subtree. */
static bool in_cgroup(pid_t pid, const char *name) {
        char cgroup[1024], want[1200];
        snprintf(want, sizeof want, "%s/%s", subtree + strlen(mount_point), name);
        return process_cgroup(pid, cgroup, sizeof cgroup) && strcmp(cgroup, want) == 0;
}

static bool has_service_cgroups(void) {
        DIR *dir = opendir(subtree);
        bool found = false;
        for (struct dirent *e; dir && !found && (e = readdir(dir));)
                found = strstr(e->d_name, ".service") != NULL;
        if (dir)
                closedir(dir);
        return found;
}

START_TEST(test_sigkill_rounds_cgroup) {
        struct daemon d;
        if (skip_loudly("test_sigkill_rounds_cgroup", cgroup_subtree_make("path")))
                return;
        harness_adopt_orphans();
        make_cmdlines();
        daemon_init(&d);
        char line[1200];
        snprintf(line, sizeof line, "cgroup = \"%s\"", subtree);
        write_config(&d, line, true);
        ck_assert_int_eq(sigkill_rounds(&d), 0);
        char log[1 << 16];
        ck_assert_int_gt(read_text_file(d.log, log, sizeof log), 0);
        ck_assert_ptr_nonnull(strstr(log, "cgroup mode"));
        ck_assert_ptr_nonnull(strstr(log, "left running in cgroup"));
        /* every service process in the cgroup of its service */
        ck_assert(in_cgroup(service_pid_of(&d, "holder"), "holder.service"));
        ck_assert(in_cgroup(service_pid_of(&d, "worker"), "worker.service"));

        /* The figures of status come from the cgroup: CPU time always, memory where the
         * subtree has the memory controller. */
        char out[8192], path[1300];
        ck_assert_int_eq(ctl(&d, out, sizeof out, "--json status holder"), 0);
        ck_assert_msg(strstr(out, "\"cpu_usec\":") && strstr(out, "\"cpu_usec\":")[11] >= '0'
                      && strstr(out, "\"cpu_usec\":")[11] <= '9', "%s", out);
        snprintf(path, sizeof path, "%s/holder.service/memory.current", subtree);
        if (access(path, F_OK) == 0)
                ck_assert_msg(!strstr(out, "\"memory_bytes\":null"), "%s", out);
        else
                fprintf(stderr, "no memory controller in %s: memory_bytes is null, as documented\n", subtree);

        /* A stop takes the whole cgroup along, the child that hid its environment too. */
        ck_assert_int_eq(ctl(&d, out, sizeof out, "stop hider"), 0);
        ck_assert_msg(WAIT_UNTIL(count_processes(cmdlines[HIDER_SESSION]) == 0, 5000), "hider's child survived its stop");
        ck_assert_int_eq(daemon_stop(&d, 15000), 0);
        ck_assert_msg(WAIT_UNTIL(all_processes() == 0, 5000), "%d processes left after a clean stop", all_processes());
        ck_assert_msg(!has_service_cgroups(), "service cgroups left in %s", subtree);
        daemon_cleanup(&d);
}
END_TEST

/* Move this process into the cgroup directory DIR. */
static void join_cgroup(const char *dir) {
        char path[1300];
        snprintf(path, sizeof path, "%s/cgroup.procs", dir);
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, "0", 1), 1);
        close(fd);
}

/* cgroup = auto: a cgroup marked delegated (trusted.delegate, as systemd marks a unit's
 * with Delegate=yes) is used, supervisord moving itself into a leaf of it; a cgroup that
 * is not is left alone. */
START_TEST(test_auto_uses_a_delegated_cgroup) {
        struct daemon d;
        char log[1 << 16], out[4096];
        harness_adopt_orphans();
        make_cmdlines();
        daemon_init(&d);
        /* Where this test runs: not delegated. */
        write_config(&d, "cgroup = auto", false);
        daemon_start(&d);
        ck_assert_int_eq(daemon_stop(&d, 15000), 0);
        ck_assert_int_gt(read_text_file(d.log, log, sizeof log), 0);
        ck_assert_msg(strstr(log, "process-group mode"), "%s", log);
        unlink(d.log);

        if (skip_loudly("test_auto_uses_a_delegated_cgroup", cgroup_subtree_make("auto")))
                return;
        ck_assert_int_eq(setxattr(subtree, "trusted.delegate", "1", 1, 0), 0);
        join_cgroup(subtree);  /* the daemon starts in it */
        write_config(&d, "cgroup = auto", true);
        daemon_start(&d);
        ck_assert(all_running(&d));
        ck_assert_int_gt(read_text_file(d.log, log, sizeof log), 0);
        ck_assert_msg(strstr(log, "cgroup mode"), "%s", log);
        ck_assert(in_cgroup(d.pid, "supervisord"));
        ck_assert(in_cgroup(service_pid_of(&d, "hider"), "hider.service"));
        ck_assert(WAIT_UNTIL(exactly_one_of_each(), 5000));
        kill9_daemon(&d);
        daemon_start(&d);
        ck_assert(all_running(&d));
        ck_assert_msg(WAIT_UNTIL(exactly_one_of_each(), 5000), "processes left by the killed supervisord");
        ck_assert_int_eq(ctl(&d, out, sizeof out, "status"), 0);
        ck_assert_int_eq(daemon_stop(&d, 15000), 0);
        ck_assert_msg(WAIT_UNTIL(all_processes() == 0, 5000), "%d processes left after a clean stop", all_processes());
        join_cgroup(mount_point);
        daemon_cleanup(&d);
}
END_TEST

static Suite *cgroup_suite(void) {
        Suite *s = suite_create("cgroup");
        TCase *tc = tcase_create("cgroup");
        tcase_set_timeout(tc, 240);
        tcase_add_unchecked_fixture(tc, NULL, remove_subtrees);
        tcase_add_test(tc, test_sigkill_rounds_process_groups);
        tcase_add_test(tc, test_sigkill_while_a_forking_daemon_starts);
        tcase_add_test(tc, test_sigkill_rounds_cgroup);
        tcase_add_test(tc, test_auto_uses_a_delegated_cgroup);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        runner = getpid();
        return run_suite(cgroup_suite()) ? 1 : 0;
}
