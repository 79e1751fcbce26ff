/* test_logs.c — service logs end to end, through the real supervisord and supervisorctl:
 * output reaches log-dir/NAME.log byte for byte (50 MB as fast as a process can write it,
 * every byte counted across rotated files), a log file made only by the first output (none
 * for quiet services, in log-dir or among supervisord's fds, whatever happens to them),
 * rotation keeps log-keep files, `tail -n` and
 * `tail -f` (across rotations, and a follower too slow to keep up), SIGUSR1 after an
 * external mv, a full disk (a small tmpfs in a private mount namespace), an unwritable
 * or read-only log-dir reported at the spawn, stdout/stderr destinations, instances, the fds a logging child has, a writer
 * that floods its log without starving anything else, reload of the log options, and
 * the journal (a stand-in journald socket in a private mount namespace), one descriptor
 * per service in supervisord (200 services, at the start and after `restart all`), and a
 * leftover's output after its main process exited and after the next run started. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

/* ---- helpers ---- */

/* d.dir/logs/NAME.log, or NAME.log.INDEX */
static const char *log_path(const struct daemon *d, const char *name, unsigned index, char *buf, size_t size) {
        if (index)
                snprintf(buf, size, "%s/logs/%s.log.%u", d->dir, name, index);
        else
                snprintf(buf, size, "%s/logs/%s.log", d->dir, name);
        return buf;
}

static long long size_of(const char *path) {
        struct stat st;
        return stat(path, &st) < 0 ? -1 : (long long)st.st_size;
}

/* Bytes in NAME.log and every NAME.log.K that exists; *files counts them. */
static long long log_total(const struct daemon *d, const char *name, unsigned *files) {
        char path[512];
        long long total = 0;
        unsigned n = 0;
        for (unsigned k = 0; k <= 1000; k++) {
                long long size = size_of(log_path(d, name, k, path, sizeof path));
                if (size < 0) {
                        if (k == 0)
                                continue;
                        break;
                }
                total += size;
                n++;
        }
        if (files)
                *files = n;
        return total;
}

static ssize_t read_log(const struct daemon *d, const char *name, char *buf, size_t size) {
        char path[512];
        return read_text_file(log_path(d, name, 0, path, sizeof path), buf, size);
}

/* Start ARGV with stdout and stderr into OUT_PATH; returns its pid. */
static pid_t spawn_to_file(char *const argv[], const char *out_path) {
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                if (fd < 0)
                        _exit(127);
                dup2(fd, STDOUT_FILENO);
                dup2(fd, STDERR_FILENO);
                execvp(argv[0], argv);
                _exit(127);
        }
        return pid;
}

static int wait_exit(pid_t pid) {
        int status;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Lines "N" (the first number of each line) must run on from one to the next. Returns
 * how many there are; fails on a gap or a repeat. */
static int assert_consecutive(const char *text, const char *what) {
        long previous = -1;
        int lines = 0;
        for (const char *p = text; *p;) {
                const char *end = strchr(p, '\n');
                if (!end)
                        break;  /* a last line still being written */
                long n = strtol(p, NULL, 10);
                ck_assert_msg(previous < 0 || n == previous + 1, "%s: %ld follows %ld", what, n, previous);
                previous = n;
                lines++;
                p = end + 1;
        }
        return lines;
}

static int count_occurrences(const char *text, const char *needle) {
        int n = 0;
        for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
                n++;
        return n;
}

/* A mount namespace of our own (this test process and the daemon it starts), so that
 * mounts vanish with it.  False when not permitted (not root): the test is skipped. */
static bool private_mounts(void) {
        if (unshare(CLONE_NEWNS) < 0) {
                fprintf(stderr, "skipped: unshare(CLONE_NEWNS): %s\n", strerror(errno));
                return false;
        }
        ck_assert_int_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
        return true;
}

/* The entries of d.dir/logs, sorted and space-separated, into buf ("" when empty);
 * -1 when the directory cannot be read. */
static int list_logs(const struct daemon *d, char *buf, size_t size) {
        char path[512], names[64][256];
        int n = 0;
        snprintf(path, sizeof path, "%s/logs", d->dir);
        DIR *dir = opendir(path);
        if (!dir)
                return -1;
        for (struct dirent *e; (e = readdir(dir)) && n < 64;)
                if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, ".."))
                        snprintf(names[n++], sizeof names[0], "%s", e->d_name);
        closedir(dir);
        qsort(names, (size_t)n, sizeof names[0], (int (*)(const void *, const void *))strcmp);
        size_t len = 0;
        buf[0] = '\0';
        for (int i = 0; i < n && len < size; i++)
                len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? " " : "", names[i]);
        return n;
}

/* How many of PID's fds are open on files in d.dir/logs. */
static int fds_into_logs(const struct daemon *d, pid_t pid) {
        char path[512], prefix[512], target[1024];
        snprintf(prefix, sizeof prefix, "%s/logs/", d->dir);
        snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
        DIR *dir = opendir(path);
        ck_assert_ptr_nonnull(dir);
        int n = 0;
        for (struct dirent *e; (e = readdir(dir));) {
                if (e->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof path, "/proc/%d/fd/%s", (int)pid, e->d_name);
                ssize_t len = readlink(path, target, sizeof target - 1);
                if (len <= 0)
                        continue;
                target[len] = '\0';
                if (strncmp(target, prefix, strlen(prefix)) == 0)
                        n++;
        }
        closedir(dir);
        return n;
}

/* A service that stays quiet until the file WHEN exists, then says LINE. */
#define QUIET_UNTIL(when, line) \
        "/bin/sh -c 'while [ ! -e " when " ]; do sleep 0.02; done; echo " line "; exec sleep 60'"

/* A numbered-line writer: "N padding" every DELAY seconds, N from 1. */
#define COUNTER(delay) "/bin/sh -c 'i=0; while :; do i=$((i+1)); echo \\\"$i abcdefghijklmnopqrstuvwxyz\\\"; sleep " delay "; done'"

/* ---- tests ---- */

START_TEST(test_lines_reach_the_log) {
        struct daemon d;
        char buf[4096], fds[64], one[64], two[64], path[512];
        daemon_init(&d);
        daemon_write_config(&d, "service web {\n command = \"/bin/sh -c 'echo hello; echo world >&2; exec sleep 60'\"\n"
                                " start-secs = 0\n}\n");
        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "web", "RUNNING", SOON_MS);
        ASSERT_WITHIN(read_log(&d, "web", buf, sizeof buf) == 12, SOON_MS);
        ck_assert_str_eq(buf, "hello\nworld\n");

        /* the log-dir was made, mode 0755; the child has exactly 0, 1, 2: one pipe twice */
        struct stat st;
        snprintf(path, sizeof path, "%s/logs", d.dir);
        ck_assert_int_eq(stat(path, &st), 0);
        ck_assert_int_eq(st.st_mode & 07777, 0755);
        pid_t pid = service_pid_of(&d, "web");
        ck_assert_int_gt(pid, 0);
        ASSERT_WITHIN(count_fds(pid, fds, sizeof fds) == 3, SOON_MS);
        ck_assert_str_eq(fds, "0 1 2");
        snprintf(path, sizeof path, "/proc/%d/fd/1", (int)pid);
        ssize_t n = readlink(path, one, sizeof one - 1);
        ck_assert_int_gt(n, 0);
        one[n] = '\0';
        snprintf(path, sizeof path, "/proc/%d/fd/2", (int)pid);
        n = readlink(path, two, sizeof two - 1);
        ck_assert_int_gt(n, 0);
        two[n] = '\0';
        ck_assert_msg(strncmp(one, "pipe:[", 6) == 0, "fd 1 is %s", one);
        ck_assert_str_eq(one, two);
        /* and it blocks for the child: O_NONBLOCK would make its writes fail with EAGAIN */
        char fdinfo[512];
        snprintf(path, sizeof path, "/proc/%d/fdinfo/1", (int)pid);
        ck_assert_int_gt(read_text_file(path, fdinfo, sizeof fdinfo), 0);
        unsigned long flags = strtoul(strstr(fdinfo, "flags:") + 6, NULL, 8);
        ck_assert_int_eq(flags & O_NONBLOCK, 0);
        daemon_cleanup(&d);
}
END_TEST

/* A log file appears with its service's first byte of output, not at the spawn: quiet
 * services leave log-dir empty and cost supervisord no fd, whatever happens to them
 * (tail, tail -f, restart, SIGUSR1); the first byte creates the file, once. */
START_TEST(test_log_file_made_by_first_output) {
        struct daemon d;
        static char buf[1 << 16];
        char out[8192], go[256], follow_path[512], path[512];
        daemon_init(&d);
        snprintf(go, sizeof go, "%s/go", d.dir);
        daemon_write_config(&d,
                "service quiet {\n command = \"sleep 60\"\n start-secs = 0\n instances = 20\n}\n"
                "service late {\n command = \"" QUIET_UNTIL("%s", "first-words") "\"\n start-secs = 0\n}\n",
                go);
        daemon_start(&d);
        for (int i = 0; i < 20; i++) {
                char name[32];
                snprintf(name, sizeof name, "quiet@%d", i);
                ASSERT_STATE_WITHIN(&d, name, "RUNNING", SOON_MS);
        }
        ASSERT_STATE_WITHIN(&d, "late", "RUNNING", SOON_MS);
        sleep_ms(100);

        /* log-dir is there (made at start-up), empty; no fd of supervisord is in it */
        ck_assert_int_eq(list_logs(&d, buf, sizeof buf), 0);
        ck_assert_int_eq(fds_into_logs(&d, d.pid), 0);
        /* nothing is wrong, and tail of a log with no file yet is empty, not an error */
        ck_assert_int_eq(ctl(&d, out, sizeof out, "--json status"), 0);
        ck_assert_int_eq(count_occurrences(out, "\"message\":null"), 21);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "tail quiet@3"), 0);
        ck_assert_str_eq(out, "");
        ck_assert_int_eq(ctl(&d, out, sizeof out, "tail -n 100 late"), 0);
        ck_assert_str_eq(out, "");
        /* a quiet process's exit and its restart (the pipe is drained) make no file */
        pid_t q = service_pid_of(&d, "quiet@0");
        ck_assert_int_eq(kill(q, SIGKILL), 0);
        ASSERT_WITHIN(service_pid_of(&d, "quiet@0") > 0 && service_pid_of(&d, "quiet@0") != q, SOON_MS);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "restart quiet@1"), 0);
        /* SIGUSR1 reopens what is open, which is nothing */
        ck_assert_int_eq(kill(d.pid, SIGUSR1), 0);
        ASSERT_WITHIN(read_text_file(d.log, buf, sizeof buf) > 0 && strstr(buf, "reopened 0 log files"), SOON_MS);
        ck_assert_int_eq(list_logs(&d, buf, sizeof buf), 0);
        ck_assert_int_eq(fds_into_logs(&d, d.pid), 0);
        /* log-dir removed under the running daemon: the next spawn makes it again, with
         * no file in it and nothing wrong */
        snprintf(path, sizeof path, "%s/logs", d.dir);
        ck_assert_int_eq(rmdir(path), 0);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "restart quiet@2"), 0);
        ck_assert_int_eq(list_logs(&d, buf, sizeof buf), 0);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "--json status quiet@2"), 0);
        ck_assert_ptr_nonnull(strstr(out, "\"message\":null"));

        /* a follower from before the first byte gets it; the file appears with it */
        snprintf(follow_path, sizeof follow_path, "%s/follow.out", d.dir);
        char *argv[] = { (char *)supervisorctl_path(), "-s", d.sock, "tail", "-f", "late", NULL };
        pid_t follower = spawn_to_file(argv, follow_path);
        /* subscribed before the output, or it would come from the file: the daemon logs
         * the request before it handles it, in the same turn of its loop */
        ASSERT_WITHIN(read_text_file(d.log, buf, sizeof buf) > 0 && strstr(buf, "control: tail late from pid"), SOON_MS);
        ck_assert_int_eq(close(open(go, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)), 0);
        ASSERT_WITHIN(read_text_file(follow_path, buf, sizeof buf) > 0 && strstr(buf, "first-words\n"), SOON_MS);
        ck_assert_str_eq(buf, "first-words\n");
        kill(follower, SIGINT);
        wait_exit(follower);
        ASSERT_WITHIN(read_log(&d, "late", buf, sizeof buf) == 12, SOON_MS);
        ck_assert_str_eq(buf, "first-words\n");
        ck_assert_int_eq(list_logs(&d, buf, sizeof buf), 1);
        ck_assert_str_eq(buf, "late.log");
        ck_assert_int_eq(fds_into_logs(&d, d.pid), 1);
        struct stat st;
        ck_assert_int_eq(stat(log_path(&d, "late", 0, path, sizeof path), &st), 0);
        mode_t mask = umask(0);
        umask(mask);
        ck_assert_int_eq(st.st_mode & 0777, 0640 & ~mask);  /* the daemon has our umask */
        ck_assert_int_eq(ctl(&d, out, sizeof out, "tail late"), 0);
        ck_assert_str_eq(out, "first-words\n");

        /* SIGUSR1 now reopens that one, and still makes none for the others */
        ck_assert_int_eq(kill(d.pid, SIGUSR1), 0);
        ASSERT_WITHIN(read_text_file(d.log, buf, sizeof buf) > 0 && strstr(buf, "reopened 1 log files"), SOON_MS);
        ck_assert_int_eq(list_logs(&d, buf, sizeof buf), 1);
        ck_assert_int_eq(fds_into_logs(&d, d.pid), 1);
        daemon_cleanup(&d);
}
END_TEST

static int count_pipe_fds(pid_t pid, int *all);

/* stderr = log: stderr in a file of its own (NAME.stderr.log), through a pipe of its own,
 * rotated by its own limits; stdout's file holds stdout alone and keeps its own limits.
 * supervisord holds one pipe for a service with default logging, two for one with
 * stderr = log: stopping each drops exactly that many. */
START_TEST(test_stderr_own_log) {
        struct daemon d;
        char buf[65536], out[4096], path[512];
        daemon_init(&d);
        daemon_write_config(&d,
                "service split {\n command = \"/bin/sh -c 'echo out1; echo err1 >&2; i=0; while [ $i -lt 300 ]; do "
                "echo eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee >&2; i=$((i+1)); done; echo out2; "
                "exec sleep 600'\"\n start-secs = 0\n stderr = log\n log-max-size = 4096\n"
                " stderr-log-max-size = 4096\n stderr-log-keep = 2\n}\n"
                "service merged {\n command = \"/bin/sh -c 'echo m-out; echo m-err >&2; exec sleep 600'\"\n"
                " start-secs = 0\n}\n");
        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "split", "RUNNING", SOON_MS);
        ASSERT_STATE_WITHIN(&d, "merged", "RUNNING", SOON_MS);
        ASSERT_WITHIN(read_log(&d, "split", buf, sizeof buf) == 10, SOON_MS);
        ck_assert_str_eq(buf, "out1\nout2\n");
        ck_assert_int_eq(size_of(log_path(&d, "split", 1, path, sizeof path)), -1);
        /* 4 + 300 * 64 bytes: two full rotated files, the rest in the current one */
        ASSERT_WITHIN(size_of(log_path(&d, "split.stderr", 2, path, sizeof path)) == 4096, SOON_MS);
        ck_assert_int_eq(size_of(log_path(&d, "split.stderr", 1, path, sizeof path)), 4096);
        ck_assert_int_eq(size_of(log_path(&d, "split.stderr", 3, path, sizeof path)), -1);
        ck_assert_int_gt(size_of(log_path(&d, "split.stderr", 0, path, sizeof path)), 0);
        ck_assert_int_le(size_of(log_path(&d, "split.stderr", 0, path, sizeof path)), 4096);
        ck_assert_int_gt(read_text_file(log_path(&d, "split.stderr", 0, path, sizeof path), buf, sizeof buf), 0);
        ck_assert_ptr_null(strstr(buf, "out"));
        ck_assert_ptr_nonnull(strstr(buf, "eeee\n"));
        ASSERT_WITHIN(read_log(&d, "merged", buf, sizeof buf) == 12, SOON_MS);
        ck_assert_str_eq(buf, "m-out\nm-err\n");
        ck_assert_int_eq(size_of(log_path(&d, "merged.stderr", 0, path, sizeof path)), -1);
        /* tail shows stdout's file */
        ck_assert_int_eq(ctl(&d, out, sizeof out, "tail split"), 0);
        ck_assert_str_eq(out, "out1\nout2\n");

        int all, with_both = count_pipe_fds(d.pid, &all), n = 0;
        ck_assert_int_eq(ctl(&d, out, sizeof out, "stop split"), 0);
        ASSERT_WITHIN_MSG((n = count_pipe_fds(d.pid, &all)) == with_both - 2, SOON_MS, "%d pipes, then %d", with_both, n);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "stop merged"), 0);
        ASSERT_WITHIN_MSG((n = count_pipe_fds(d.pid, &all)) == with_both - 3, SOON_MS, "%d pipes, then %d", with_both, n);
        daemon_cleanup(&d);
}
END_TEST

/* stdout-log and stderr-log: each stream at a path of its own, rotated there, reopened on
 * SIGUSR1; never written through a symbolic link planted at the path. */
START_TEST(test_stream_log_paths) {
        struct daemon d;
        char buf[65536], out[4096], path[512], other[512];
        daemon_init(&d);
        snprintf(path, sizeof path, "%s/own", d.dir);
        ck_assert_int_eq(mkdir(path, 0755), 0);
        snprintf(path, sizeof path, "%s/victim", d.dir);
        ck_assert_int_eq(close(open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)), 0);
        snprintf(other, sizeof other, "%s/own/linked.log", d.dir);
        ck_assert_int_eq(symlink(path, other), 0);
        daemon_write_config(&d,
                "service custom {\n command = \"/bin/sh -c 'echo to-out; echo to-err >&2; exec sleep 600'\"\n"
                " start-secs = 0\n stdout-log = %1$s/own/out.log\n stderr = log\n stderr-log = %1$s/own/err.log\n}\n"
                "service big {\n command = \"/bin/sh -c 'i=0; while [ $i -lt 200 ]; do "
                "echo ooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooooo; i=$((i+1)); done; "
                "exec sleep 600'\"\n start-secs = 0\n stdout-log = %1$s/own/sub/big.log\n log-max-size = 4096\n"
                " log-keep = 1\n}\n"
                "service linked {\n command = \"/bin/sh -c 'echo must-not-land; exec sleep 600'\"\n start-secs = 0\n"
                " stdout-log = %1$s/own/linked.log\n}\n",
                d.dir);
        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "custom", "RUNNING", SOON_MS);
        snprintf(path, sizeof path, "%s/own/out.log", d.dir);
        ASSERT_WITHIN(read_text_file(path, buf, sizeof buf) == 7, SOON_MS);
        ck_assert_str_eq(buf, "to-out\n");
        snprintf(path, sizeof path, "%s/own/err.log", d.dir);
        ASSERT_WITHIN(read_text_file(path, buf, sizeof buf) == 7, SOON_MS);
        ck_assert_str_eq(buf, "to-err\n");
        ck_assert_int_eq(size_of(log_path(&d, "custom", 0, path, sizeof path)), -1);
        ck_assert_int_eq(size_of(log_path(&d, "custom.stderr", 0, path, sizeof path)), -1);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "tail custom"), 0);
        ck_assert_str_eq(out, "to-out\n");

        /* rotated where it is (its directory made as log-dir is), keeping log-keep files */
        snprintf(path, sizeof path, "%s/own/sub/big.log.1", d.dir);
        ASSERT_WITHIN(size_of(path) == 4096, SOON_MS);
        snprintf(path, sizeof path, "%s/own/sub/big.log.2", d.dir);
        ck_assert_int_eq(size_of(path), -1);

        /* the link is refused, its target untouched, and status says why */
        ASSERT_WITHIN(ctl(&d, out, sizeof out, "--json status linked") == 0 && strstr(out, "linked.log: ")
                              && !strstr(out, "\"message\":null"), SOON_MS);
        snprintf(path, sizeof path, "%s/victim", d.dir);
        ck_assert_int_eq(size_of(path), 0);

        /* moved away: still written there until SIGUSR1, then a new file at the path */
        snprintf(path, sizeof path, "%s/own/out.log", d.dir);
        snprintf(other, sizeof other, "%s/own/out.log.old", d.dir);
        ck_assert_int_eq(rename(path, other), 0);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "restart custom"), 0);
        ASSERT_WITHIN(read_text_file(other, buf, sizeof buf) == 14, SOON_MS);
        ck_assert_int_eq(size_of(path), -1);
        ck_assert_int_eq(kill(d.pid, SIGUSR1), 0);
        ASSERT_WITHIN(read_text_file(d.log, buf, sizeof buf) > 0 && strstr(buf, "reopened"), SOON_MS);
        ASSERT_WITHIN(size_of(path) == 0, SOON_MS);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "restart custom"), 0);
        ASSERT_WITHIN(read_text_file(path, buf, sizeof buf) == 7, SOON_MS);
        ck_assert_str_eq(buf, "to-out\n");
        ck_assert_int_eq(read_text_file(other, buf, sizeof buf), 14);
        daemon_cleanup(&d);
}
END_TEST

/* What opening the file at the spawn used to show at once still shows at once, without a
 * file: a log-dir on a read-only file system is each process's problem in status as soon
 * as it runs; a log-dir removed meanwhile is made again by the next spawn; once the file
 * system is writable, the first output is written and the problem leaves status. */
START_TEST(test_log_dir_problem_shows_at_spawn) {
        struct daemon d;
        static char buf[1 << 16];
        char out[8192], logs[512], go[256];
        daemon_init(&d);
        if (!private_mounts()) {
                daemon_cleanup(&d);
                return;
        }
        snprintf(logs, sizeof logs, "%s/logs", d.dir);
        snprintf(go, sizeof go, "%s/go", d.dir);
        ck_assert_int_eq(mkdir(logs, 0755), 0);
        ck_assert_int_eq(mount("tmpfs", logs, "tmpfs", MS_RDONLY, "size=1m,mode=0755"), 0);
        daemon_write_config(&d,
                "service quiet {\n command = \"sleep 60\"\n start-secs = 0\n}\n"
                "service late {\n command = \"" QUIET_UNTIL("%s", "written") "\"\n start-secs = 0\n}\n",
                go);
        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "quiet", "RUNNING", SOON_MS);
        ASSERT_STATE_WITHIN(&d, "late", "RUNNING", SOON_MS);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "--json status"), 0);
        ck_assert_int_eq(count_occurrences(out, "Read-only file system; 0 bytes dropped"), 2);
        read_text_file(d.log, buf, sizeof buf);
        ck_assert_int_eq(count_occurrences(buf, "quiet: cannot create log"), 1);

        /* writable again: the first output is written whole and ends the problem */
        ck_assert_int_eq(mount(NULL, logs, NULL, MS_REMOUNT, "size=1m,mode=0755"), 0);
        ck_assert_int_eq(close(open(go, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)), 0);
        ASSERT_WITHIN(read_log(&d, "late", buf, sizeof buf) == 8, SOON_MS);
        ck_assert_str_eq(buf, "written\n");
        ASSERT_WITHIN(ctl(&d, out, sizeof out, "--json status late") == 0 && strstr(out, "\"message\":null"), SOON_MS);
        ASSERT_WITHIN(read_text_file(d.log, buf, sizeof buf) > 0
                                     && strstr(buf, "late: writing log") && strstr(buf, "0 bytes of output were lost"), SOON_MS);
        ck_assert_int_eq(list_logs(&d, buf, sizeof buf), 1);
        ck_assert_str_eq(buf, "late.log");
        daemon_stop(&d, 10000);
        ck_assert_int_eq(umount(logs), 0);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_50mb_every_byte) {
        struct daemon d;
        char path[512];
        const long long total = 52428800, max_size = 5 << 20;
        daemon_init(&d);
        daemon_write_config(&d, "service blast {\n command = \"head -c %lld /dev/zero\"\n start-secs = 0\n"
                                " restart = never\n log-max-size = 5M\n log-keep = 20\n}\n",
                            total);
        long long t0 = now_ms();
        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "blast", "EXITED", 60000);
        long long elapsed = now_ms() - t0;
        /* EXITED comes after the pipe was drained: every byte is there already */
        unsigned files;
        ck_assert_int_eq(log_total(&d, "blast", &files), total);
        ck_assert_uint_eq(files, 10);
        for (unsigned k = 1; k < files; k++)
                ck_assert_int_eq(size_of(log_path(&d, "blast", k, path, sizeof path)), max_size);
        fprintf(stderr, "50 MB through the log in %lld ms (daemon start included)\n", elapsed);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_rotation_keeps_log_keep_files) {
        struct daemon d;
        char path[512];
        daemon_init(&d);
        daemon_write_config(&d, "service rot {\n command = \"head -c 102400 /dev/zero\"\n restart = never\n"
                                " start-secs = 0\n log-max-size = 4096\n log-keep = 3\n}\n");
        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "rot", "EXITED", SOON_MS);
        /* 100 KiB = 25 files of 4 KiB, of which the current one and 3 old ones remain */
        ck_assert_int_eq(size_of(log_path(&d, "rot", 0, path, sizeof path)), 4096);
        unsigned files;
        ck_assert_int_eq(log_total(&d, "rot", &files), 4 * 4096);
        ck_assert_uint_eq(files, 4);
        for (unsigned k = 1; k <= 3; k++)
                ck_assert_int_eq(size_of(log_path(&d, "rot", k, path, sizeof path)), 4096);
        ck_assert_int_eq(size_of(log_path(&d, "rot", 4, path, sizeof path)), -1);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_tail_lines) {
        struct daemon d;
        static char out[65536], expected[65536];
        char path[512];
        daemon_init(&d);
        daemon_write_config(&d,
                "service count {\n command = \"/bin/sh -c 'seq 1 2000; exec sleep 60'\"\n start-secs = 0\n"
                " log-max-size = 4096\n log-keep = 5\n}\n"
                "service quiet {\n command = \"sleep 60\"\n start-secs = 0\n stdout = null\n}\n"
                "service pool {\n command = \"sleep 60\"\n start-secs = 0\n instances = 2\n}\n");
        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "count", "RUNNING", SOON_MS);
        /* seq 1 2000 is 8893 bytes: two full files and 701 bytes */
        ASSERT_WITHIN(log_total(&d, "count", NULL) == 8893, SOON_MS);
        ck_assert_int_eq(size_of(log_path(&d, "count", 2, path, sizeof path)), 4096);

        ck_assert_int_eq(ctl(&d, out, sizeof out, "tail -n 10 count"), 0);
        ck_assert_str_eq(out, "1991\n1992\n1993\n1994\n1995\n1996\n1997\n1998\n1999\n2000\n");
        /* supervisorctl's form: the last 1600 bytes of the file, here all its 701 */
        size_t len = 0;
        for (int i = 1; i <= 2000; i++)
                len += (size_t)snprintf(expected + len, sizeof expected - len, "%d\n", i);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "tail count"), 0);
        ck_assert_str_eq(out, expected + 8893 - 701);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "tail -7 count"), 0);
        ck_assert_str_eq(out, "9\n2000\n");
        ck_assert_int_eq(ctl(&d, out, sizeof out, "tail -n 3 count"), 0);
        ck_assert_str_eq(out, "1998\n1999\n2000\n");
        /* reaching back across both rotations */
        ck_assert_int_eq(ctl(&d, out, sizeof out, "tail -n 1900 count"), 0);
        len = 0;
        for (int i = 101; i <= 2000; i++)
                len += (size_t)snprintf(expected + len, sizeof expected - len, "%d\n", i);
        ck_assert_str_eq(out, expected);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "tail -n 0 count"), 0);
        ck_assert_str_eq(out, "");
        ck_assert_int_eq(ctl(&d, out, sizeof out, "tail count -n2"), 0);
        ck_assert_str_eq(out, "1999\n2000\n");

        ck_assert_int_eq(ctl(&d, out, sizeof out, "tail nosuch"), 4);
        ck_assert_ptr_nonnull(strstr(out, "no such service: nosuch"));
        ck_assert_int_eq(ctl(&d, out, sizeof out, "tail quiet"), 1);
        ck_assert_ptr_nonnull(strstr(out, "no log file: quiet sends stdout to null"));
        ck_assert_int_eq(ctl(&d, out, sizeof out, "tail -n 5 quiet"), 1);
        ck_assert_ptr_nonnull(strstr(out, "quiet has no log file (stdout = null, stderr = stdout)"));
        ck_assert_int_eq(ctl(&d, out, sizeof out, "tail pool"), 2);
        ck_assert_ptr_nonnull(strstr(out, "pool has 2 processes: name one, such as pool@0"));
        ck_assert_int_eq(ctl(&d, out, sizeof out, "tail pool@1"), 0);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "tail -n x count"), 2);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "tail count quiet"), 2);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "tail"), 2);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_tail_follow_across_rotation) {
        struct daemon d;
        static char buf[1 << 20];
        char out_path[512], path[256];
        daemon_init(&d);
        daemon_write_config(&d, "service tick {\n command = \"" COUNTER("0.002") "\"\n start-secs = 0\n"
                                " log-max-size = 4096\n log-keep = 2\n}\n");
        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "tick", "RUNNING", SOON_MS);
        ASSERT_WITHIN(read_log(&d, "tick", buf, sizeof buf) > 0, SOON_MS);

        snprintf(out_path, sizeof out_path, "%s/follow.out", d.dir);
        char *argv[] = { (char *)supervisorctl_path(), "-s", d.sock, "tail", "-f", "-n", "1", "tick", NULL };
        pid_t follower = spawn_to_file(argv, out_path);
        /* Wait for lines enough for two rotations and more (a 4 KiB file holds ~120),
         * however long this machine takes to write them: the writer forks a sleep a line. */
        int seen = 0;
        ASSERT_WITHIN_MSG(read_text_file(out_path, buf, sizeof buf) > 0 && (seen = count_occurrences(buf, "\n")) > 300,
                          60000, "%d lines followed", seen);
        ck_assert_int_ge(size_of(log_path(&d, "tick", 2, path, sizeof path)), 4096);
        kill(follower, SIGINT);
        wait_exit(follower);
        read_text_file(out_path, buf, sizeof buf);
        int lines = assert_consecutive(buf, "tail -f");
        ck_assert_int_gt(lines, 300);

        /* the daemon let go of the follower and serves others as before */
        char out[4096];
        ck_assert_int_eq(ctl(&d, out, sizeof out, "status tick"), 0);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "tail -n 1 tick"), 0);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_follower_too_slow_is_dropped) {
        struct daemon d;
        static char buf[1 << 20];
        daemon_init(&d);
        daemon_write_config(&d, "service flood {\n command = \"cat /dev/zero\"\n start-secs = 0\n"
                                " log-max-size = 1M\n log-keep = 1\n}\n");
        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "flood", "RUNNING", SOON_MS);

        /* A client that asks to follow and never reads. */
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        snprintf(sa.sun_path, sizeof sa.sun_path, "%.107s", d.sock);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
        static const char request[] = "tail flood 0 follow\n";
        ck_assert_int_eq(write(fd, request, sizeof request - 1), (ssize_t)sizeof request - 1);
        ASSERT_WITHIN(read_text_file(d.log, buf, sizeof buf) > 0 && strstr(buf, "reads more slowly"), SOON_MS);

        /* The daemon's memory stayed bounded, and it answers. */
        char status[4096], out[4096];
        snprintf(status, sizeof status, "/proc/%d/status", (int)d.pid);
        read_text_file(status, out, sizeof out);
        long rss_kb = strtol(strstr(out, "VmRSS:") + 6, NULL, 10);
        ck_assert_msg(rss_kb < 64 * 1024, "supervisord RSS %ld kB", rss_kb);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "status flood"), 0);

        /* What the client finally reads ends with the reason. */
        size_t len = 0;
        for (;;) {
                ssize_t n = read(fd, buf + len, sizeof buf - 1 - len);
                if (n <= 0)
                        break;
                len += (size_t)n;
                if (len > sizeof buf / 2) {
                        memmove(buf, buf + len - 4096, 4096);  /* keep only the end */
                        len = 4096;
                }
        }
        buf[len] = '\0';
        close(fd);
        static const char reason[] = "ERROR\t1\ttail: flood writes faster than this client reads";
        ck_assert_msg(memmem(buf, len, reason, sizeof reason - 1) != NULL, "no final error line");
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_flood_does_not_starve_others) {
        struct daemon d;
        static char buf[1 << 16];
        char out[4096];
        daemon_init(&d);
        daemon_write_config(&d,
                "service flood {\n command = \"cat /dev/zero\"\n start-secs = 0\n log-max-size = 1M\n log-keep = 1\n}\n"
                "service tick {\n command = \"" COUNTER("0.01") "\"\n start-secs = 0\n}\n");
        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "flood", "RUNNING", SOON_MS);
        ASSERT_STATE_WITHIN(&d, "tick", "RUNNING", SOON_MS);
        /* While the flood runs, the control socket answers and the other log goes on
         * growing: a starved tick would block on its full pipe and log nothing more.  (How
         * fast, on this machine, is not the question.) */
        read_log(&d, "tick", buf, sizeof buf);
        int before = assert_consecutive(buf, "tick"), lines = before;
        for (int i = 0; i < 20; i++)
                ck_assert_int_eq(ctl(&d, out, sizeof out, "status flood"), 0);
        ASSERT_WITHIN_MSG((read_log(&d, "tick", buf, sizeof buf), lines = assert_consecutive(buf, "tick")) >= before + 50,
                          SOON_MS, "%d lines of tick logged, %d of them during the flood", lines, lines - before);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "status flood"), 0);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "stop flood"), 0);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_sigusr1_reopens_after_mv) {
        struct daemon d;
        static char old_text[1 << 16], new_text[1 << 16], all[1 << 17];
        char path[512], moved[600];
        daemon_init(&d);
        daemon_write_config(&d, "service tick {\n command = \"" COUNTER("0.005") "\"\n start-secs = 0\n}\n");
        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "tick", "RUNNING", SOON_MS);
        log_path(&d, "tick", 0, path, sizeof path);
        ASSERT_WITHIN(size_of(path) > 200, SOON_MS);
        snprintf(moved, sizeof moved, "%s.rotated", path);
        ck_assert_int_eq(rename(path, moved), 0);
        /* still written to the moved file meanwhile */
        long long at_move = size_of(moved);
        ASSERT_WITHIN(size_of(moved) > at_move + 60, SOON_MS);
        ck_assert_int_eq(kill(d.pid, SIGUSR1), 0);
        ASSERT_WITHIN(size_of(path) > 200, SOON_MS);
        char out[4096];
        ck_assert_int_eq(ctl(&d, out, sizeof out, "stop tick"), 0);

        /* not a line lost or doubled between the two files */
        read_text_file(moved, old_text, sizeof old_text);
        read_text_file(path, new_text, sizeof new_text);
        ck_assert_ptr_nonnull(strchr(new_text, '\n'));
        snprintf(all, sizeof all, "%s%s", old_text, new_text);
        /* a line is 30 bytes: each file has more than a few */
        int old_lines = assert_consecutive(old_text, "moved"), new_lines = assert_consecutive(new_text, "reopened");
        ck_assert_int_ge(old_lines, 6);
        ck_assert_int_ge(new_lines, 6);
        ck_assert_int_eq(assert_consecutive(all, "moved + reopened"), old_lines + new_lines);
        ck_assert_int_gt(read_text_file(d.log, all, sizeof all), 0);
        ck_assert_ptr_nonnull(strstr(all, "SIGUSR1: reopening the service logs"));
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_disk_full) {
        struct daemon d;
        static char buf[1 << 20];
        char logs[512], ballast[600], path[256], out[4096];
        daemon_init(&d);
        if (!private_mounts()) {
                daemon_cleanup(&d);
                return;
        }
        snprintf(logs, sizeof logs, "%s/logs", d.dir);
        ck_assert_int_eq(mkdir(logs, 0755), 0);
        ck_assert_int_eq(mount("tmpfs", logs, "tmpfs", 0, "size=1m,mode=0755"), 0);
        /* Most of the space goes to a ballast file; the log fills the rest. */
        snprintf(ballast, sizeof ballast, "%s/ballast", logs);
        int fd = open(ballast, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        ck_assert_int_ge(fd, 0);
        memset(buf, 'b', 768 * 1024);
        ck_assert_int_eq(write(fd, buf, 768 * 1024), 768 * 1024);
        close(fd);

        daemon_write_config(&d,
                "service filler {\n command = \"/bin/sh -c 'head -c 400000 /dev/zero; while :; do echo tick; sleep 0.02; done'\"\n"
                " start-secs = 0\n log-max-size = 0\n}\n"
                "service other {\n command = \"sleep 60\"\n start-secs = 0\n}\n");
        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "filler", "RUNNING", SOON_MS);
        pid_t filler = service_pid_of(&d, "filler");
        ASSERT_WITHIN(ctl(&d, out, sizeof out, "--json status filler") == 0
                                     && strstr(out, "No space left on device"), SOON_MS);
        ck_assert_ptr_nonnull(strstr(out, "bytes dropped"));

        /* supervision goes on: the filler keeps running, another service is restarted */
        pid_t other = service_pid_of(&d, "other");
        ck_assert_int_eq(kill(other, SIGKILL), 0);
        ASSERT_WITHIN(service_pid_of(&d, "other") > 0 && service_pid_of(&d, "other") != other, SOON_MS);
        ck_assert_int_eq(service_pid_of(&d, "filler"), filler);
        ck_assert(process_exists(d.pid));

        /* space returns: writing resumes, the problem leaves status */
        long long stuck = size_of(log_path(&d, "filler", 0, path, sizeof path));
        ck_assert_int_eq(unlink(ballast), 0);
        ASSERT_WITHIN(size_of(path) > stuck + 50, SOON_MS);
        ASSERT_WITHIN(ctl(&d, out, sizeof out, "--json status filler") == 0 && !strstr(out, "No space"), SOON_MS);
        ck_assert_int_eq(service_pid_of(&d, "filler"), filler);

        /* reported once when it began, once when it ended */
        read_text_file(d.log, buf, sizeof buf);
        ck_assert_int_eq(count_occurrences(buf, "filler: cannot write log"), 1);
        ck_assert_int_eq(count_occurrences(buf, "filler: writing log"), 1);
        daemon_stop(&d, 10000);
        ck_assert_int_eq(umount(logs), 0);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_unwritable_log_dir) {
        struct daemon d;
        char out[4096], blocker[512];
        daemon_init(&d);
        snprintf(blocker, sizeof blocker, "%s/blocker", d.dir);
        ck_assert_int_eq(close(open(blocker, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)), 0);
        /* log-dir below a regular file: it can never be made, even by root */
        FILE *f = fopen(d.conf, "w");
        ck_assert_ptr_nonnull(f);
        fprintf(f, "socket = \"%s\"\npidfile = \"%s\"\nlog-level = debug\nlog-dir = \"%s/logs\"\n"
                   "service web {\n command = \"/bin/sh -c 'while :; do echo x; sleep 0.05; done'\"\n start-secs = 0\n}\n",
                d.sock, d.pidfile, blocker);
        fclose(f);
        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "web", "RUNNING", SOON_MS);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "--json status web"), 0);
        ck_assert_ptr_nonnull(strstr(out, "Not a directory"));
        ASSERT_WITHIN_MSG(ctl(&d, out, sizeof out, "--json status web") == 0 && strstr(out, "bytes dropped"), SOON_MS,
                          "%s", out);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_destinations_and_instances) {
        struct daemon d;
        char buf[4096], path[256], value[64];
        daemon_init(&d);
        daemon_write_config(&d,
                "service both {\n command = \"/bin/sh -c 'echo out1; echo err1 >&2; echo out2; echo err2 >&2; exec sleep 60'\"\n"
                " start-secs = 0\n}\n"
                "service split {\n command = \"/bin/sh -c 'echo out; echo err >&2; exec sleep 60'\"\n"
                " start-secs = 0\n stderr = null\n}\n"
                "service errlog {\n command = \"/bin/sh -c 'echo out; echo err >&2; exec sleep 60'\"\n"
                " start-secs = 0\n stdout = null\n stderr = log\n}\n"
                "service quiet {\n command = \"/bin/sh -c 'echo nothing; exec sleep 60'\"\n start-secs = 0\n"
                " stdout = null\n}\n"
                "service loud {\n command = \"/bin/sh -c 'echo inherited-output; exec sleep 60'\"\n start-secs = 0\n"
                " stdout = inherit\n}\n"
                "service pool {\n command = \"/bin/sh -c 'echo instance $SUPERVISOR_INSTANCE; exec sleep 60'\"\n"
                " start-secs = 0\n instances = 2\n}\n");
        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "pool@1", "RUNNING", SOON_MS);
        ASSERT_STATE_WITHIN(&d, "quiet", "RUNNING", SOON_MS);
        ASSERT_WITHIN(read_log(&d, "both", buf, sizeof buf) == 20, SOON_MS);
        ck_assert_str_eq(buf, "out1\nerr1\nout2\nerr2\n");  /* one pipe: the order is kept */
        ASSERT_WITHIN(read_log(&d, "split", buf, sizeof buf) == 4, SOON_MS);
        ck_assert_str_eq(buf, "out\n");
        ASSERT_WITHIN(read_log(&d, "errlog.stderr", buf, sizeof buf) == 4, SOON_MS);
        ck_assert_str_eq(buf, "err\n");  /* stderr = log: a file of its own */
        char out[256];
        ck_assert_int_eq(ctl(&d, out, sizeof out, "tail errlog stderr"), 0);  /* the one log there is */
        ck_assert_str_eq(out, "err\n");
        /* as supervisord's: stdout, the default stream, goes to no file */
        ck_assert_int_eq(ctl(&d, out, sizeof out, "tail errlog"), 1);
        ASSERT_WITHIN(read_log(&d, "pool@0", buf, sizeof buf) == 11, SOON_MS);
        ck_assert_str_eq(buf, "instance 0\n");
        ASSERT_WITHIN(read_log(&d, "pool@1", buf, sizeof buf) == 11, SOON_MS);
        ck_assert_str_eq(buf, "instance 1\n");
        ASSERT_WITHIN(read_text_file(d.log, buf, sizeof buf) > 0 && strstr(buf, "inherited-output"), SOON_MS);
        sleep_ms(100);
        ck_assert_int_eq(size_of(log_path(&d, "quiet", 0, path, sizeof path)), -1);
        ck_assert_int_eq(size_of(log_path(&d, "loud", 0, path, sizeof path)), -1);
        ck_assert_int_eq(size_of(log_path(&d, "pool", 0, path, sizeof path)), -1);
        /* stdout = null: fd 1 is /dev/null, not a pipe */
        pid_t pid = service_pid_of(&d, "quiet");
        snprintf(path, sizeof path, "/proc/%d/fd/1", (int)pid);
        ssize_t n = readlink(path, value, sizeof value - 1);
        ck_assert_int_gt(n, 0);
        value[n] = '\0';
        ck_assert_str_eq(value, "/dev/null");
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_output_after_exit_and_restart) {
        struct daemon d;
        static char buf[1 << 16];
        char out[4096];
        daemon_init(&d);
        /* Exits at once after writing: each run's lines must all be there, in order. */
        daemon_write_config(&d, "service burst {\n command = \"/bin/sh -c 'seq 1 1000; exit 3'\"\n start-secs = 0\n"
                                " restart = always\n}\n");
        daemon_start(&d);
        /* a run is 3893 bytes */
        ASSERT_WITHIN(read_log(&d, "burst", buf, sizeof buf) >= 3 * 3893, SOON_MS);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "stop burst"), 0);
        read_log(&d, "burst", buf, sizeof buf);
        /* 1 … 1000, again and again; only the run cut by the stop may end early */
        int expected = 1, runs = 0;
        for (char *p = buf, *end; (end = strchr(p, '\n')); p = end + 1) {
                int n = atoi(p);
                ck_assert_msg(n == expected, "line %d where %d was due, after %d whole runs", n, expected, runs);
                if (++expected > 1000) {
                        expected = 1;
                        runs++;
                }
        }
        ck_assert_int_ge(runs, 3);
        daemon_cleanup(&d);
}
END_TEST

/* PID's fds that are pipes (any end), and ALL of them. */
static int count_pipe_fds(pid_t pid, int *all) {
        char path[320], link[128];
        snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
        DIR *dir = opendir(path);
        ck_assert_ptr_nonnull(dir);
        int pipes = 0, n = 0;
        for (struct dirent *e; (e = readdir(dir));) {
                if (e->d_name[0] == '.')
                        continue;
                n++;
                snprintf(path, sizeof path, "/proc/%d/fd/%s", (int)pid, e->d_name);
                ssize_t len = readlink(path, link, sizeof link - 1);
                if (len > 0 && (link[len] = '\0', strncmp(link, "pipe:", 5) == 0))
                        pipes++;
        }
        closedir(dir);
        if (all)
                *all = n;
        return pipes;
}

#define MANY_SERVICES 200
/* Room for what is not a service's: the control socket, the event loop, the spawn
 * contexts (16 of 2 sockets), the record, the daemon's own log, log-dir. */
#define DAEMON_OWN_FDS 64

/* One descriptor a service: the read end of its output pipe.  The write end is opened
 * for a spawn and closed once the child has it, at the first start and at a restart. */
START_TEST(test_one_descriptor_per_service) {
        struct daemon d;
        char out[1 << 16], name[32];
        static char config[MANY_SERVICES * 96];
        size_t len = 0;
        daemon_init(&d);
        for (int i = 0; i < MANY_SERVICES; i++)
                len += (size_t)snprintf(config + len, sizeof config - len,
                                        "service quiet%d {\n command = \"sleep 100000\"\n start-secs = 0\n}\n", i);
        daemon_write_config(&d, "%s", config);
        daemon_start(&d);
        for (int i = 0; i < MANY_SERVICES; i++) {
                snprintf(name, sizeof name, "quiet%d", i);
                ASSERT_STATE_WITHIN(&d, name, "RUNNING", SOON_MS);
        }
        for (int round = 0; round < 2; round++) {
                /* Polled: what a burst of spawns holds goes once its children have exec'd. */
                int all = 0, pipes = 0;
                ASSERT_WITHIN_MSG((pipes = count_pipe_fds(d.pid, &all)) <= MANY_SERVICES + 2
                                          && all <= MANY_SERVICES + DAEMON_OWN_FDS,
                                  SOON_MS, "%s: %d fds (%d pipes) for %d services",
                                  round ? "after restart all" : "after the start", all, pipes, MANY_SERVICES);
                if (round == 0)
                        ck_assert_int_eq(ctl(&d, out, sizeof out, "restart all"), 0);
                for (int i = 0; i < MANY_SERVICES; i++) {
                        snprintf(name, sizeof name, "quiet%d", i);
                        ASSERT_STATE_WITHIN(&d, name, "RUNNING", SOON_MS);
                }
        }
        daemon_cleanup(&d);
}
END_TEST

/* What holding the write end used to guarantee: a process left behind (its own session,
 * no environment: no stop kills it) writes after the main process exited, and again after
 * the next run started; both lines are in the log, through the one pipe the service has. */
START_TEST(test_leftover_output_after_exit_and_restart) {
        struct daemon d;
        char out[4096], path[512], buf[8192];
        daemon_init(&d);
        snprintf(path, sizeof path, "%s/writer.sh", d.dir);
        FILE *f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fprintf(f,
                ": > %s/ready\n"
                "i=0; while [ ! -e %s/one ] && [ $i -lt 3000 ]; do /bin/sleep 0.02; i=$((i+1)); done\n"
                "echo late-one\n"
                "i=0; while [ ! -e %s/two ] && [ $i -lt 3000 ]; do /bin/sleep 0.02; i=$((i+1)); done\n"
                "echo late-two\n",
                d.dir, d.dir, d.dir);
        fclose(f);
        snprintf(path, sizeof path, "%s/main.sh", d.dir);
        f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fprintf(f,
                "if [ ! -e %s/started ]; then : > %s/started; env -i /usr/bin/setsid /bin/sh %s/writer.sh &\n"
                "  while [ ! -e %s/ready ]; do sleep 0.01; done; fi\n"
                "echo run-$$\n",
                d.dir, d.dir, d.dir, d.dir);
        fclose(f);
        daemon_write_config(&d, "cgroup = off\nservice once {\n command = \"/bin/sh %s/main.sh\"\n start-secs = 0\n"
                                " restart = never\n}\n",
                            d.dir);
        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "once", "EXITED", SOON_MS);
        ASSERT_WITHIN(read_log(&d, "once", buf, sizeof buf) > 0 && count_occurrences(buf, "run-") == 1, SOON_MS);
        int pipes_before = count_pipe_fds(d.pid, NULL);

        /* After the main process exited. */
        snprintf(path, sizeof path, "%s/one", d.dir);
        close(open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
        ASSERT_WITHIN_MSG(read_log(&d, "once", buf, sizeof buf) > 0 && strstr(buf, "late-one\n"), SOON_MS, "%s", buf);

        /* After the next run started: it writes into the same pipe. */
        ck_assert_int_eq(ctl(&d, out, sizeof out, "start once"), 0);
        ASSERT_WITHIN(read_log(&d, "once", buf, sizeof buf) > 0 && count_occurrences(buf, "run-") == 2, SOON_MS);
        ASSERT_STATE_WITHIN(&d, "once", "EXITED", SOON_MS);
        ck_assert_int_eq(count_pipe_fds(d.pid, NULL), pipes_before);
        snprintf(path, sizeof path, "%s/two", d.dir);
        close(open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
        ASSERT_WITHIN_MSG(read_log(&d, "once", buf, sizeof buf) > 0 && strstr(buf, "late-two\n"), SOON_MS, "%s", buf);
        /* The writer is gone: the pipe reached end of file and is closed. */
        ASSERT_WITHIN(count_pipe_fds(d.pid, NULL) == pipes_before - 1, SOON_MS);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_reload_log_options) {
        struct daemon d;
        char out[4096], buf[4096], path[512], other_dir[256];
        daemon_init(&d);
        daemon_write_config(&d,
                "service a {\n command = \"/bin/sh -c 'echo a; exec sleep 60'\"\n start-secs = 0\n}\n"
                "service b {\n command = \"" COUNTER("0.02") "\"\n start-secs = 0\n}\n");
        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "a", "RUNNING", SOON_MS);
        ASSERT_STATE_WITHIN(&d, "b", "RUNNING", SOON_MS);
        pid_t a = service_pid_of(&d, "a"), b = service_pid_of(&d, "b");

        /* a's stdout changes: a is changed and restarted; b is untouched */
        daemon_write_config(&d,
                "service a {\n command = \"/bin/sh -c 'echo a; exec sleep 60'\"\n start-secs = 0\n stdout = null\n}\n"
                "service b {\n command = \"" COUNTER("0.02") "\"\n start-secs = 0\n}\n");
        ck_assert_int_eq(ctl(&d, out, sizeof out, "update"), 0);
        ck_assert_str_eq(out, "a: stopped\na: updated process group\n");
        ASSERT_WITHIN(service_pid_of(&d, "a") > 0 && service_pid_of(&d, "a") != a, SOON_MS);
        ck_assert_int_eq(service_pid_of(&d, "b"), b);

        /* log-max-size and log-keep count as changes too */
        daemon_write_config(&d,
                "service a {\n command = \"/bin/sh -c 'echo a; exec sleep 60'\"\n start-secs = 0\n stdout = null\n}\n"
                "service b {\n command = \"" COUNTER("0.02") "\"\n start-secs = 0\n log-keep = 2\n}\n");
        ck_assert_int_eq(ctl(&d, out, sizeof out, "update"), 0);
        ck_assert_str_eq(out, "b: stopped\nb: updated process group\n");
        ASSERT_WITHIN(service_pid_of(&d, "b") > 0 && service_pid_of(&d, "b") != b, SOON_MS);
        b = service_pid_of(&d, "b");

        /* log-dir applies live: b carries on, same pid, into the new directory */
        snprintf(other_dir, sizeof other_dir, "%s/other-logs", d.dir);
        FILE *f = fopen(d.conf, "a");
        ck_assert_ptr_nonnull(f);
        fprintf(f, "log-dir = \"%s\"\n", other_dir);
        fclose(f);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "update"), 1);  /* log-dir set twice: invalid */
        f = fopen(d.conf, "w");
        ck_assert_ptr_nonnull(f);
        fprintf(f, "socket = \"%s\"\npidfile = \"%s\"\nlog-level = debug\nlog-dir = \"%s\"\n"
                   "service a {\n command = \"/bin/sh -c 'echo a; exec sleep 60'\"\n start-secs = 0\n stdout = null\n}\n"
                   "service b {\n command = \"" COUNTER("0.02") "\"\n start-secs = 0\n log-keep = 2\n}\n",
                d.sock, d.pidfile, other_dir);
        fclose(f);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "update"), 0);
        ck_assert_str_eq(out, "");
        snprintf(path, sizeof path, "%s/b.log", other_dir);
        ASSERT_WITHIN(read_text_file(path, buf, sizeof buf) > 0 && strchr(buf, '\n'), SOON_MS);
        ck_assert_int_eq(service_pid_of(&d, "b"), b);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "tail -n 1 b"), 0);
        ck_assert_ptr_nonnull(strstr(out, "abcdefghijklmnopqrstuvwxyz"));
        daemon_cleanup(&d);
}
END_TEST

/* A stand-in for journald's stdout socket, the protocol of sd_journal_stream_fd(3):
 * a header of seven lines (identifier, unit, priority, level prefix, and three
 * forwarding flags), then the output. */
START_TEST(test_journal_stream) {
        struct daemon d;
        char buf[4096] = "", path[512], target[64];
        daemon_init(&d);
        if (!private_mounts()) {
                daemon_cleanup(&d);
                return;
        }
        ck_assert_int_eq(mount("tmpfs", "/run", "tmpfs", 0, "mode=0755"), 0);
        ck_assert_int_eq(mkdir("/run/systemd", 0755), 0);
        ck_assert_int_eq(mkdir("/run/systemd/journal", 0755), 0);
        struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = "/run/systemd/journal/stdout" };
        int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ck_assert_int_ge(listener, 0);
        ck_assert_int_eq(bind(listener, (struct sockaddr *)&sa, sizeof sa), 0);
        ck_assert_int_eq(listen(listener, 8), 0);

        daemon_write_config(&d, "service j {\n command = \"/bin/sh -c 'echo to-the-journal; exec sleep 60'\"\n"
                                " start-secs = 0\n stdout = journal\n}\n");
        daemon_start(&d);
        int stream = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
        ck_assert_int_ge(stream, 0);
        size_t len = 0;
        long long deadline = now_ms() + 5000;
        while (!strstr(buf, "to-the-journal\n") && now_ms() < deadline) {
                ssize_t n = read(stream, buf + len, sizeof buf - 1 - len);
                if (n <= 0)
                        break;
                len += (size_t)n;
                buf[len] = '\0';
        }
        ck_assert_str_eq(buf, "j\n\n6\n0\n0\n0\n0\nto-the-journal\n");
        /* the child writes to the socket itself: nothing passes through supervisord */
        pid_t pid = service_pid_of(&d, "j");
        snprintf(path, sizeof path, "/proc/%d/fd/1", (int)pid);
        ssize_t n = readlink(path, target, sizeof target - 1);
        ck_assert_int_gt(n, 0);
        target[n] = '\0';
        ck_assert_msg(strncmp(target, "socket:[", 8) == 0, "fd 1 is %s", target);
        char out[4096];
        ck_assert_int_eq(ctl(&d, out, sizeof out, "--json status j"), 0);
        ck_assert_ptr_nonnull(strstr(out, "\"message\":null"));
        ck_assert_int_eq(size_of(log_path(&d, "j", 0, path, sizeof path)), -1);
        close(stream);
        close(listener);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_journal_unavailable_falls_back) {
        struct daemon d;
        char buf[4096], out[4096];
        daemon_init(&d);
        if (!private_mounts()) {
                daemon_cleanup(&d);
                return;
        }
        /* an empty /run: no journald here */
        ck_assert_int_eq(mount("tmpfs", "/run", "tmpfs", 0, "mode=0755"), 0);
        daemon_write_config(&d, "service j {\n command = \"/bin/sh -c 'echo kept; exec sleep 60'\"\n start-secs = 0\n"
                                " stdout = journal\n}\n");
        daemon_start(&d);
        ASSERT_STATE_WITHIN(&d, "j", "RUNNING", SOON_MS);
        ASSERT_WITHIN(read_log(&d, "j", buf, sizeof buf) == 5, SOON_MS);
        ck_assert_str_eq(buf, "kept\n");
        ck_assert_int_eq(ctl(&d, out, sizeof out, "--json status j"), 0);
        ck_assert_ptr_nonnull(strstr(out, "journal unavailable"));
        daemon_cleanup(&d);
}
END_TEST

static Suite *logs_suite(void) {
        Suite *s = suite_create("logs");
        TCase *tc = tcase_create("capture");
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, test_lines_reach_the_log);
        tcase_add_test(tc, test_log_file_made_by_first_output);
        tcase_add_test(tc, test_50mb_every_byte);
        tcase_add_test(tc, test_rotation_keeps_log_keep_files);
        tcase_add_test(tc, test_destinations_and_instances);
        tcase_add_test(tc, test_stderr_own_log);
        tcase_add_test(tc, test_stream_log_paths);
        tcase_add_test(tc, test_output_after_exit_and_restart);
        tcase_add_test(tc, test_flood_does_not_starve_others);
        suite_add_tcase(s, tc);

        tc = tcase_create("tail");
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, test_tail_lines);
        tcase_add_test(tc, test_tail_follow_across_rotation);
        tcase_add_test(tc, test_follower_too_slow_is_dropped);
        suite_add_tcase(s, tc);

        tc = tcase_create("descriptors");
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, test_one_descriptor_per_service);
        tcase_add_test(tc, test_leftover_output_after_exit_and_restart);
        suite_add_tcase(s, tc);

        tc = tcase_create("trouble");
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_sigusr1_reopens_after_mv);
        tcase_add_test(tc, test_disk_full);
        tcase_add_test(tc, test_unwritable_log_dir);
        tcase_add_test(tc, test_log_dir_problem_shows_at_spawn);
        tcase_add_test(tc, test_reload_log_options);
        tcase_add_test(tc, test_journal_stream);
        tcase_add_test(tc, test_journal_unavailable_falls_back);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return run_suite(logs_suite()) ? 1 : 0;
}
