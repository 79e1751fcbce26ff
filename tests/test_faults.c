/* test_faults.c — fault injection against the real daemon: a service killed a thousand
 * times, a hundred crash-looping at once, processes that try to outlive a stop (TERM
 * ignored, setsid() escapes, hundreds of children), fork and exec failures, and hostile
 * or unprivileged control clients.  Each asserts what /proc shows. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static long status_number(pid_t pid, const char *field) {
        char path[64], buf[8192];
        snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
        if (read_text_file(path, buf, sizeof buf) <= 0)
                return -1;
        char *p = strstr(buf, field);
        return p ? atol(p + strlen(field)) : -1;
}

static int connect_unix(const char *path);

/* The main pid of service NAME by a request of our own ("pid NAME"), 0 if none: a thousand
 * of them without a thousand supervisorctl processes, which a busy machine makes slowly. */
static pid_t raw_pid_of(struct daemon *d, const char *name) {
        int fd = connect_unix(d->sock);
        if (fd < 0)
                return 0;
        char request[128], answer[256];
        int len = snprintf(request, sizeof request, "pid %s\n", name);
        size_t got = 0;
        if (send(fd, request, (size_t)len, MSG_NOSIGNAL) == len)
                for (ssize_t n; got < sizeof answer - 1 && (n = read(fd, answer + got, sizeof answer - 1 - got)) > 0;)
                        got += (size_t)n;
        close(fd);
        answer[got] = '\0';
        return strncmp(answer, "PID\t", 4) == 0 ? (pid_t)atoi(answer + 4) : 0;
}

/* Milliseconds for a whole "status" answer over a raw connection: the daemon's
 * responsiveness, without the noise of starting a supervisorctl process. */
static long long timed_status(struct daemon *d) {
        long long start = now_ms();
        int fd = connect_unix(d->sock);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(send(fd, "status\n", 7, MSG_NOSIGNAL), 7);
        char buf[65536];
        size_t total = 0;
        ssize_t n;
        while ((n = read(fd, buf, sizeof buf)) > 0)
                total += (size_t)n;
        close(fd);
        ck_assert_uint_gt(total, 0);
        return now_ms() - start;
}

START_TEST(test_thousand_kills) {
        struct daemon d;
        char out[4096];
        daemon_init(&d);
        daemon_write_config(&d, "service victim { command = \"sleep 3700\"\n start-secs = 0\n}\n");
        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "victim", "RUNNING", SOON_MS);
        pid_t pid = service_pid_of(&d, "victim");
        /* Warm up first: the heap pages trimmed after the config load are faulted back
         * in by the first restarts, which is not growth. */
        for (int i = 0; i < 100; i++) {
                pid_t next = 0;
                ck_assert_int_eq(kill(pid, SIGKILL), 0);
                ASSERT_WITHIN((next = raw_pid_of(&d, "victim")) > 0 && next != pid, SOON_MS);
                pid = next;
        }
        int fds_before = count_fds(d.pid, NULL, 0);
        long rss_before = status_number(d.pid, "VmRSS:");

        long long t0 = now_ms();
        for (int i = 0; i < 1000; i++) {
                ck_assert_int_gt(pid, 0);
                ck_assert_int_eq(kill(pid, SIGKILL), 0);
                pid_t next = 0;
                ck_assert_msg(WAIT_UNTIL((next = raw_pid_of(&d, "victim")) > 0 && next != pid, SOON_MS),
                              "no restart after kill %d", i + 1);
                pid = next;
        }
        long long took = now_ms() - t0;
        ck_assert_int_eq(ctl(&d, out, sizeof out, "--json status victim"), 0);
        ck_assert_ptr_nonnull(strstr(out, "\"restarts\":1100"));
        ASSERT_WITHIN(count_zombie_children(d.pid) == 0, SOON_MS);
        ASSERT_WITHIN(count_processes("sleep 3700") == 1, SOON_MS);
        ck_assert_int_eq(count_fds(d.pid, NULL, 0), fds_before);
        long rss_after = status_number(d.pid, "VmRSS:");
        /* no growth per restart: allow a page or two of allocator noise */
        fprintf(stderr, "test_thousand_kills: 1000 kills in %lld ms, fds %d -> %d, RSS %ld -> %ld kB\n", took,
                fds_before, count_fds(d.pid, NULL, 0), rss_before, rss_after);
        if (harness_instrumented())
                fprintf(stderr, "test_thousand_kills: RSS not checked (instrumented build)\n");
        else
                ck_assert_msg(rss_after <= rss_before + 64, "RSS %ld kB -> %ld kB", rss_before, rss_after);
        daemon_cleanup(&d);
}
END_TEST

/* The "restarts" of every instance in a --json status answer, into counts; how many. */
static int restarts_of_all(const char *json, unsigned *counts, int max) {
        int n = 0;
        for (const char *p = json; (p = strstr(p, "\"restarts\":")) && n < max; p += 11)
                counts[n++] = (unsigned)atoi(p + 11);
        return n;
}

/* The fewest and the most restarts among the instances in OUT (a --json status); the
 * number of instances. */
static int restarts_range(const char *out, unsigned *fewest, unsigned *most) {
        unsigned counts[128];
        int n = restarts_of_all(out, counts, 128);
        *fewest = n ? counts[0] : 0;
        *most = 0;
        for (int i = 0; i < n; i++) {
                *fewest = counts[i] < *fewest ? counts[i] : *fewest;
                *most = counts[i] > *most ? counts[i] : *most;
        }
        return n;
}

/* A hundred crash loops at once: each goes on being restarted, never sooner than its
 * backoff allows, while supervisord keeps answering.  (How fast it answers, and at what
 * cost in CPU, is measured by `make bench`.) */
START_TEST(test_crash_loop_storm) {
        struct daemon d;
        static char out[65536];
        unsigned fewest = 0, most = 0;
        int n = 0;
        daemon_init(&d);
        daemon_write_config(&d, "service crash {\n command = /bin/false\n instances = 100\n start-retries = 0\n"
                                " restart-delay = 0.1\n restart-delay-max = 1\n}\n");
        long long t0 = now_ms();  /* before the first spawn: the elapsed time is an upper bound */
        daemon_start(&d);
        /* Every instance is restarted again and again (start-retries = 0: never FATAL). */
        ASSERT_WITHIN_MSG((ctl(&d, out, sizeof out, "--json status"), n = restarts_range(out, &fewest, &most)) == 100 &&
                                  fewest >= 4,
                          SOON_MS, "%d instances, the fewest restarts %u", n, fewest);
        /* Status keeps answering meanwhile, whole (timed_status() checks it got an answer). */
        long long worst = 0;
        for (int i = 0; i < 20; i++) {
                long long took = timed_status(&d);
                worst = took > worst ? took : worst;
        }
        ck_assert_int_eq(ctl(&d, out, sizeof out, "--json status"), 3);
        long long elapsed = now_ms() - t0;
        ck_assert_int_eq(restarts_range(out, &fewest, &most), 100);
        fprintf(stderr, "test_crash_loop_storm: restarts %u to %u in %lld ms, worst status %lld ms\n", fewest, most,
                elapsed, worst);
        /* The backoff waits 0.1, 0.2, 0.4, 0.8, then 1 s before each restart: by 1.5 s at
         * most 4 restarts, then at most one a second.  A daemon that ignored it would be
         * far past this bound. */
        unsigned bound = 4 + (unsigned)((elapsed > 1500 ? elapsed - 1500 : 0) / 1000) + 1;
        ck_assert_msg(most <= bound, "an instance restarted %u times in %lld ms, expected at most %u from the backoff",
                      most, elapsed, bound);
        ck_assert_ptr_nonnull(strstr(out, "\"crash@99\""));
        /* Mid-storm an exit may always be waiting to be reaped; once the storm is over
         * none may be left. */
        ck_assert_int_eq(ctl(&d, out, sizeof out, "stop all"), 0);
        ASSERT_WITHIN(count_zombie_children(d.pid) == 0, SOON_MS);
        daemon_cleanup(&d);
}
END_TEST

/* A crash loop whose every run leaves a stray in its own session: the strays of runs
 * that died on their own are searched for together (at most every 100 ms), but none may
 * be left behind while the loop goes on, and two services' strays are told apart. */
START_TEST(test_crash_loop_strays) {
        struct daemon d;
        char out[4096];
        daemon_init(&d);
        daemon_write_config(&d,
                "service looper { command = \"/bin/sh -c 'setsid sleep 3711 & sleep 0.05; exit 1'\"\n"
                "  start-secs = 0\n restart = always\n}\n"
                "service bystander { command = \"/bin/sh -c 'setsid sleep 3712 & exec sleep 3713'\"\n"
                "  start-secs = 0.1\n}\n");
        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "bystander", "RUNNING", SOON_MS);
        /* The strays alive now, from the runs so far ... */
        pid_t early[64];
        int n_early = 0;
        ASSERT_WITHIN((n_early = find_processes("sleep 3711", early, 64)) > 0, SOON_MS);
        n_early = n_early < 64 ? n_early : 64;
        unsigned restarts = 0;
        ck_assert_int_eq(ctl(&d, out, sizeof out, "--json status looper"), 0);
        const char *p = strstr(out, "\"restarts\":");
        ck_assert_ptr_nonnull(p);
        unsigned restarts_then = (unsigned)atoi(p + 11);
        /* ... are gone while the loop goes on: each killed once its run had died, not left
         * to pile up (however many runs this machine manages in the meantime). */
        for (int i = 0; i < n_early; i++)
                ASSERT_WITHIN_MSG(!process_exists(early[i]), SOON_MS, "stray %d (of %d) still alive, looper: %.2000s",
                                  (int)early[i], n_early, out);
        ASSERT_WITHIN_MSG((ctl(&d, out, sizeof out, "--json status looper"),
                           p = strstr(out, "\"restarts\":"), restarts = p ? (unsigned)atoi(p + 11) : 0) >= restarts_then + 3,
                          SOON_MS, "restarts %u, expected the loop to go on past %u", restarts, restarts_then + 3);
        /* Another service's stray is not the looper's. */
        ck_assert_int_eq(count_processes("sleep 3712"), 1);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "stop looper"), 0);
        int left = 0;
        ASSERT_WITHIN_MSG((left = count_processes("sleep 3711")) == 0, SOON_MS, "%d strays of the looper left", left);
        ck_assert_int_eq(count_processes("sleep 3712"), 1);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "stop all"), 0);
        ck_assert_int_eq(count_processes("sleep 3712") + count_processes("sleep 3713"), 0);
        ASSERT_WITHIN(count_zombie_children(d.pid) == 0, SOON_MS);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_stop_leaves_nothing) {
        struct daemon d;
        char out[4096];
        daemon_init(&d);
        daemon_write_config(&d,
                /* ignores TERM: SIGKILL after stop-timeout */
                "service deaf { command = \"/bin/sh -c 'trap \\\"\\\" TERM; while :; do sleep 0.1; done'\"\n"
                "  start-secs = 0.2\n stop-timeout = 1\n}\n"
                /* a grandchild in its own session, out of the process group's reach */
                "service escaper { command = \"/bin/sh -c 'setsid sleep 3701 & sleep 3702'\"\n start-secs = 0.2\n}\n"
                /* and one that also ignores TERM */
                "service stubborn-escaper {\n"
                "  command = \"/bin/sh -c 'setsid /bin/sh -c \\\"trap \\\\\\\"\\\\\\\" TERM; exec sleep 3703\\\" & sleep 3704'\"\n"
                "  start-secs = 0.2\n stop-timeout = 1\n}\n"
                /* two hundred children */
                "service crowd { command = \"/bin/sh -c 'for i in $(seq 200); do sleep 3705 & done; wait'\"\n"
                "  start-secs = 0.5\n}\n");
        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "crowd", "RUNNING", SOON_MS);
        ASSERT_STATE_WITHIN(&d, "escaper", "RUNNING", SOON_MS);
        ASSERT_STATE_WITHIN(&d, "stubborn-escaper", "RUNNING", SOON_MS);
        int crowd = 0;
        ASSERT_WITHIN_MSG((crowd = count_processes("sleep 3705")) == 200, SOON_MS, "%d of the 200", crowd);
        ck_assert_int_eq(count_processes("sleep 3701"), 1);
        ck_assert_int_eq(count_processes("sleep 3703"), 1);

        ck_assert_int_eq(ctl(&d, out, sizeof out, "stop all"), 0);
        ck_assert_int_eq(count_processes("sleep 3701"), 0);
        ck_assert_int_eq(count_processes("sleep 3702"), 0);
        ck_assert_int_eq(count_processes("sleep 3703"), 0);
        ck_assert_int_eq(count_processes("sleep 3704"), 0);
        ck_assert_int_eq(count_processes("sleep 3705"), 0);
        ASSERT_WITHIN(count_zombie_children(d.pid) == 0, SOON_MS);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_exec_permission_denied) {
        struct daemon d;
        char out[4096], script[256];
        daemon_init(&d);
        snprintf(script, sizeof script, "%s/not-executable", d.dir);
        int fd = open(script, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, "#!/bin/sh\nexit 0\n", 17), 17);
        close(fd);
        daemon_write_config(&d, "service noexec { command = %s\n start-retries = 2\n restart-delay = 0.05\n}\n"
                                "service fine { command = \"sleep 60\"\n start-secs = 0.1\n}\n",
                            script);
        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "noexec", "FATAL", SOON_MS);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "status noexec"), 3);
        char expect[512];
        snprintf(expect, sizeof expect, "exec %s: Permission denied", script);
        ck_assert_ptr_nonnull(strstr(out, expect));
        ASSERT_STATE_WITHIN(&d, "fine", "RUNNING", SOON_MS);
        daemon_cleanup(&d);
}
END_TEST

/* Start supervisord as a user of its own with RLIMIT_NPROC just above what that user
 * already runs, so that its forks start failing after a few services.  The limit counts
 * every process of the user on the machine: a uid no one else uses (not nobody, whom
 * another test run may be using at the same time) keeps the count this test's own. */
START_TEST(test_fork_failure) {
        struct daemon d;
        char out[8192];
        if (geteuid() != 0) {
                fprintf(stderr, "test_fork_failure: needs root to change its user, skipped\n");
                return;
        }
        uid_t uid = (uid_t)(3000000 + getpid() % 1000000);
        char reuid[32], regid[32];
        snprintf(reuid, sizeof reuid, "--reuid=%d", (int)uid);
        snprintf(regid, sizeof regid, "--regid=%d", (int)uid);
        daemon_init(&d);
        /* supervisord's own user owns its socket, pidfile and log directory (one another
         * user could write would be refused) */
        ck_assert_int_eq(chown(d.dir, uid, 65534), 0);
        daemon_write_config(&d, "service many { command = \"sleep 3706\"\n instances = 6\n start-secs = 0.2\n"
                                " start-retries = 2\n restart-delay = 0.05\n}\n");
        /* processes the uid already has (none, unless a pid was reused from a run past) */
        int existing = 0;
        DIR *dir = opendir("/proc");
        struct dirent *e;
        while ((e = readdir(dir))) {
                pid_t pid = atoi(e->d_name);
                if (pid > 0 && process_exists(pid)) {
                        char path[64];
                        struct stat st;
                        snprintf(path, sizeof path, "/proc/%d", (int)pid);
                        if (stat(path, &st) == 0 && st.st_uid == uid)
                                existing++;
                }
        }
        closedir(dir);
        /* supervisord itself and three services fit; the other three cannot fork */
        char limit[32];
        snprintf(limit, sizeof limit, "--nproc=%d", existing + 4);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                int log = open(d.log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
                dup2(log, STDERR_FILENO);
                execlp("setpriv", "setpriv", reuid, regid, "--clear-groups", "prlimit", limit,
                       supervisord_path(), "-n", "-c", d.conf, (char *)NULL);
                _exit(127);
        }
        d.pid = pid;
        ASSERT_WITHIN(ctl(&d, out, sizeof out, "status") == 3 && strstr(out, "FATAL"), SOON_MS);
        ck_assert_ptr_nonnull(strstr(out, "fork: Resource temporarily unavailable"));
        /* the ones that got a process are supervised as usual */
        ASSERT_STATE_WITHIN(&d, "many@0", "RUNNING", SOON_MS);
        ck_assert_int_eq(count_processes("sleep 3706"), 3);
        ck_assert(process_exists(d.pid));
        ck_assert_int_eq(ctl(&d, out, sizeof out, "stop all"), 0);
        ck_assert_int_eq(count_processes("sleep 3706"), 0);
        daemon_cleanup(&d);
}
END_TEST

static int connect_unix(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (strlen(path) >= sizeof sa.sun_path)
                return -1;
        memcpy(sa.sun_path, path, strlen(path));
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
                close(fd);
                return -1;
        }
        return fd;
}

START_TEST(test_thousand_connections) {
        struct daemon d;
        char out[4096];
        daemon_init(&d);
        daemon_write_config(&d, "service a { command = \"sleep 60\"\n start-secs = 0.1\n}\n");
        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "a", "RUNNING", SOON_MS);
        long rss_before = status_number(d.pid, "VmRSS:");
        static int fds[1000];
        int opened = 0;
        for (int i = 0; i < 1000; i++) {
                fds[i] = connect_unix(d.sock);
                if (fds[i] >= 0) {
                        opened++;
                        /* half of them send half a request and stall */
                        if (i % 2)  /* refused ones (past 256) are closed: no SIGPIPE */
                                (void)send(fds[i], "sta", 3, MSG_NOSIGNAL);
                }
        }
        ck_assert_int_ge(opened, 900);
        /* Answered (timed_status() checks that), and well before the 10 s request timeout
         * would have dropped the stalled clients: a daemon that waited on them would answer
         * only after it. */
        long long worst = 0;
        for (int i = 0; i < 5; i++) {
                long long took = timed_status(&d);
                if (took > worst)
                        worst = took;
        }
        ck_assert_msg(worst < 8000, "status took %lld ms with 1000 connections open, expected well under the 10 s "
                                    "request timeout", worst);
        long rss_during = status_number(d.pid, "VmRSS:");
        fprintf(stderr, "test_thousand_connections: %d open, worst status %lld ms, RSS +%ld kB\n", opened, worst,
                rss_during - rss_before);
        if (harness_instrumented()) {
                fprintf(stderr, "test_thousand_connections: figures not checked (instrumented build)\n");
        } else {
                /* bounded: at most 256 served clients with a 4 KiB request buffer each */
                ck_assert_msg(rss_during - rss_before < 8 * 1024, "RSS grew %ld kB", rss_during - rss_before);
        }
        for (int i = 0; i < 1000; i++)
                if (fds[i] >= 0)
                        close(fds[i]);
        int rc = ctl(&d, out, sizeof out, "status");
        ck_assert_msg(rc == 0, "status after closing: %d: %s", rc, out);
        daemon_cleanup(&d);
}
END_TEST

/* Run supervisorctl as nobody. */
static int ctl_as_nobody(struct daemon *d, char *out, size_t size, const char *command) {
        char *argv[] = { "setpriv", "--reuid=nobody", "--regid=nogroup", "--init-groups", (char *)supervisorctl_path(),
                         "-s", d->sock, (char *)command, NULL };
        return run_capture(argv, out, size);
}

START_TEST(test_unprivileged_client) {
        struct daemon d;
        char out[4096], log[65536];
        if (geteuid() != 0) {
                fprintf(stderr, "test_unprivileged_client: needs root, skipped\n");
                return;
        }
        daemon_init(&d);
        /* a socket made world-connectable by mistake still refuses strangers */
        daemon_write_config(&d, "socket-mode = 0666\nservice a { command = \"sleep 60\"\n}\n");
        daemon_start(&d);
        ck_assert_int_eq(ctl_as_nobody(&d, out, sizeof out, "status"), 1);
        ck_assert_str_eq(out, "supervisorctl: permission denied: uid 65534 may not control supervisord\n");
        ck_assert_int_gt(read_text_file(d.log, log, sizeof log), 0);
        ck_assert_ptr_nonnull(strstr(log, "refused pid"));
        daemon_cleanup(&d);

        /* the default mode keeps them from even connecting */
        daemon_init(&d);
        daemon_write_config(&d, "service a { command = \"sleep 60\"\n}\n");
        daemon_start(&d);
        ck_assert_int_eq(ctl_as_nobody(&d, out, sizeof out, "status"), 7);
        ck_assert_ptr_nonnull(strstr(out, "Permission denied"));
        daemon_cleanup(&d);

        /* socket-group opens it to that group */
        daemon_init(&d);
        daemon_write_config(&d, "socket-mode = 0660\nsocket-group = nogroup\nservice a { command = \"sleep 60\"\n"
                                " start-secs = 0.1\n}\n");
        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "a", "RUNNING", SOON_MS);
        ck_assert_int_eq(ctl_as_nobody(&d, out, sizeof out, "status"), 0);
        ck_assert_ptr_nonnull(strstr(out, "RUNNING"));
        daemon_cleanup(&d);
}
END_TEST

/* A hung service whose restart cannot fork: the stop of the hang is followed by STARTING
 * (which every observer is told of) and then BACKOFF, never a silent jump from STOPPING.
 * supervisord runs under a uid of its own with RLIMIT_NPROC 3, and once the service runs,
 * two idle processes of that uid take the places that its death frees. */
static pid_t idle_process_of(uid_t uid) {
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (setresgid(65534, 65534, 65534) < 0 || setresuid(uid, uid, uid) < 0)
                        _exit(1);
                for (;;)
                        pause();
        }
        return pid;
}

START_TEST(test_hung_restart_that_cannot_fork) {
        struct daemon d;
        char out[8192];
        if (geteuid() != 0) {
                fprintf(stderr, "test_hung_restart_that_cannot_fork: needs root to change uid, skipped\n");
                return;
        }
        /* A uid no other process on the machine has, so that the count is ours alone. */
        uid_t uid = 61000 + (uid_t)(getpid() % 4000);
        daemon_init(&d);
        /* supervisord's own user owns its socket, pidfile and log directory (one another
         * user could write would be refused) */
        ck_assert_int_eq(chown(d.dir, uid, 65534), 0);
        daemon_write_config(&d,
                "service hb { command = \"/bin/sh -c 'while read -r _ seq <&3; do echo \\\"PONG $seq\\\" >&4; done'\"\n"
                " heartbeat-interval = 0.2\n heartbeat-timeout = 0.1\n heartbeat-misses = 2\n"
                " start-secs = 0.2\n stop-timeout = 0.2\n start-retries = 2\n restart-delay = 0.1\n}\n");
        char reuid[32];
        snprintf(reuid, sizeof reuid, "--reuid=%u", (unsigned)uid);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                int log = open(d.log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
                dup2(log, STDERR_FILENO);
                execlp("setpriv", "setpriv", reuid, "--regid=65534", "--clear-groups", "prlimit", "--nproc=3",
                       supervisord_path(), "-n", "-c", d.conf, (char *)NULL);
                _exit(127);
        }
        d.pid = pid;
        ck_assert_msg(WAIT_UNTIL(wait_for_state(&d, "hb", "RUNNING", 100), 10000), "hb never RUNNING: %s",
                      (ctl(&d, out, sizeof out, "status"), out));
        pid_t idle[2] = { idle_process_of(uid), idle_process_of(uid) };
        pid_t hb = service_pid_of(&d, "hb");
        ck_assert_int_gt(hb, 0);
        ck_assert_int_eq(kill(hb, SIGSTOP), 0);
        ck_assert_msg(WAIT_UNTIL(ctl(&d, out, sizeof out, "status hb") == 3 && strstr(out, "FATAL"), 20000),
                      "hb did not give up: %s", out);
        ck_assert_msg(strstr(out, "fork: Resource temporarily unavailable"), "status: %s", out);
        char log[1 << 16];
        ck_assert_int_gt(read_text_file(d.log, log, sizeof log), 0);
        const char *tail = strlen(log) > 1500 ? log + strlen(log) - 1500 : log;
        ck_assert_msg(strstr(log, "hb: STOPPING -> STARTING") && strstr(log, "hb: STARTING -> BACKOFF"),
                      "expected STOPPING -> STARTING -> BACKOFF for hb in the log, which ends:\n%s", tail);
        ck_assert_msg(!strstr(log, "hb: STOPPING -> BACKOFF"), "hb went from STOPPING to BACKOFF; the log ends:\n%s",
                      tail);
        for (int i = 0; i < 2; i++) {
                kill(idle[i], SIGKILL);
                waitpid(idle[i], NULL, 0);
        }
        daemon_cleanup(&d);
}
END_TEST

static Suite *faults_suite(void) {
        Suite *s = suite_create("faults");
        TCase *tc = tcase_create("faults");
        tcase_set_timeout(tc, 300);
        tcase_add_test(tc, test_thousand_kills);
        tcase_add_test(tc, test_crash_loop_storm);
        tcase_add_test(tc, test_stop_leaves_nothing);
        tcase_add_test(tc, test_crash_loop_strays);
        tcase_add_test(tc, test_exec_permission_denied);
        tcase_add_test(tc, test_fork_failure);
        tcase_add_test(tc, test_hung_restart_that_cannot_fork);
        tcase_add_test(tc, test_thousand_connections);
        tcase_add_test(tc, test_unprivileged_client);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) { return run_suite(faults_suite()) ? 1 : 0; }
