/* test_security.c — integration tests for what another user of the machine can do to a
 * root supervisord through the files it writes, and to the terminal of whoever reads a
 * service's log:
 *   - symbolic links planted in log-dir: at start-up, then after a rotation and after
 *     SIGUSR1 once the directory has been handed to the attacker; a log-dir, socket
 *     directory or pidfile directory others can write is refused at start-up;
 *   - the pidfile's record of process groups: planted by another user (process groups
 *     of their choosing killed) or redirected by a link when it is rewritten;
 *   - the socket: a symlink renamed over its path, or its directory swapped, while
 *     supervisord starts, many times over, so that chown and chmod would hit a file of
 *     root's;
 *   - terminal escapes printed by a service, through `tail` and `tail -f` on a
 *     pseudo-terminal (replaced), with --raw (kept) and through a pipe (exact bytes).
 * The attacks run as a user the test case creates and removes (useradd, userdel); the
 * daemon runs as root, as it does in production.  Each test skips when not root. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pty.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "harness.h"

/* ---- the attacker ---- */

static char attacker_name[32];
static uid_t attacker_uid;
static gid_t attacker_gid;
static bool have_attacker;

/* Unchecked fixture: runs in the runner once per test case, so the user is removed even
 * when a test fails. */
static void attacker_create(void) {
        char out[1024];
        if (geteuid() != 0)
                return;
        snprintf(attacker_name, sizeof attacker_name, "sdattack%d", (int)getpid() % 100000);
        char *del[] = { "userdel", attacker_name, NULL };
        run_capture(del, out, sizeof out);  /* left by a killed run */
        char *add[] = { "useradd", "-M", "-U", "-s", "/usr/sbin/nologin", attacker_name, NULL };
        if (run_capture(add, out, sizeof out) != 0) {
                fprintf(stderr, "test_security: useradd %s failed: %s\n", attacker_name, out);
                return;
        }
        struct passwd *pw = getpwnam(attacker_name);
        if (!pw)
                return;
        attacker_uid = pw->pw_uid;
        attacker_gid = pw->pw_gid;
        have_attacker = true;
}

static void attacker_remove(void) {
        char out[1024];
        if (!have_attacker)
                return;
        char *del[] = { "userdel", attacker_name, NULL };
        run_capture(del, out, sizeof out);
        have_attacker = false;
}

static bool need_attacker(const char *test) {
        if (have_attacker)
                return true;
        fprintf(stderr, "%s: needs root and useradd, skipped\n", test);
        return false;
}

/* Fork a process that becomes the attacker and runs FN(ARG); its pid. */
static pid_t attacker_spawn(int (*fn)(void *), void *arg) {
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                if (setgroups(0, NULL) < 0 || setgid(attacker_gid) < 0 || setuid(attacker_uid) < 0)
                        _exit(126);
                /* After setuid, which clears it: an attacker loop ends with a failed test. */
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                _exit(fn(arg));
        }
        return pid;
}

/* Run FN(ARG) as the attacker and wait: its exit status. */
static int as_attacker(int (*fn)(void *), void *arg) {
        int status;
        pid_t pid = attacker_spawn(fn, arg);
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* ---- the file the attacks aim at: root's, mode 0600 ---- */

struct victim_file {
        char path[256];
        struct stat st;
        char text[64];
};

static void victim_make(struct victim_file *v, const struct daemon *d) {
        snprintf(v->path, sizeof v->path, "%s/secret", d->dir);
        snprintf(v->text, sizeof v->text, "root:only\n");
        int fd = open(v->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, v->text, strlen(v->text)), (ssize_t)strlen(v->text));
        close(fd);
        ck_assert_int_eq(stat(v->path, &v->st), 0);
}

/* Whether the file is still exactly as made: content, mode, owner and group. */
static bool victim_intact(const struct victim_file *v) {
        struct stat st;
        char buf[4096];
        if (stat(v->path, &st) < 0 || st.st_mode != v->st.st_mode || st.st_uid != v->st.st_uid
            || st.st_gid != v->st.st_gid)
                return false;
        ssize_t n = read_text_file(v->path, buf, sizeof buf);
        return n == (ssize_t)strlen(v->text) && memcmp(buf, v->text, (size_t)n) == 0;
}

static void victim_describe(const struct victim_file *v, char *buf, size_t size) {
        struct stat st;
        char text[200] = "";
        if (stat(v->path, &st) < 0) {
                snprintf(buf, size, "%s: gone", v->path);
                return;
        }
        read_text_file(v->path, text, sizeof text);
        text[strcspn(text, "\n")] = '\0';
        snprintf(buf, size, "%s: mode %o, %u:%u, %lld bytes, begins \"%.40s\"", v->path, st.st_mode & 07777,
                 st.st_uid, st.st_gid, (long long)st.st_size, text);
}

#define ASSERT_VICTIM_INTACT(v)                                                          \
        do {                                                                             \
                char described_[512];                                                    \
                victim_describe((v), described_, sizeof described_);                    \
                ck_assert_msg(victim_intact(v), "root's file was written: %s", described_); \
        } while (0)

/* ---- helpers ---- */

struct link_plant {
        const char *target;  /* what the link points to */
        char dir[256];       /* where it goes */
        const char *name;
        const char *blocker; /* a directory made first under this name (or NULL) */
};

/* As the attacker: NAME in DIR becomes a link to TARGET, renamed over whatever is there. */
static int plant_link(void *arg) {
        struct link_plant *p = arg;
        char tmp[512], path[512];
        if (p->blocker) {
                snprintf(path, sizeof path, "%s/%s", p->dir, p->blocker);
                /* The daemon may rotate into the name meanwhile: take it again. */
                for (int i = 0; i < 1000 && mkdir(path, 0755) < 0; i++)
                        if (errno != EEXIST || unlink(path) < 0)
                                return 10;
        }
        snprintf(tmp, sizeof tmp, "%s/.plant", p->dir);
        snprintf(path, sizeof path, "%s/%s", p->dir, p->name);
        unlink(tmp);
        if (symlink(p->target, tmp) < 0 || rename(tmp, path) < 0)
                return 11;
        return 0;
}

/* NULs included: a log may hold them. */
static bool file_contains(const char *path, const char *needle) {
        static char buf[1 << 17];
        ssize_t n = read_text_file(path, buf, sizeof buf);
        return n > 0 && memmem(buf, (size_t)n, needle, strlen(needle));
}

static bool status_says(struct daemon *d, const char *name, const char *needle) {
        char out[8192];
        ctl(d, out, sizeof out, "status %s", name);
        return strstr(out, needle) != NULL;
}

/* Run supervisord on D's config until it exits (at most 10 s): its exit status. */
static int daemon_run_to_exit(struct daemon *d) {
        char out[8192];
        char *argv[] = { "timeout", "10", (char *)supervisord_path(), "-n", "-c", d->conf, NULL };
        int status = run_capture(argv, out, sizeof out);
        FILE *f = fopen(d->log, "a");
        if (f) {
                fputs(out, f);
                fclose(f);
        }
        return status;
}

#define NOISY_SERVICE(name)                                                                               \
        "service " name " { command = \"/bin/sh -c 'while :; do echo "                                     \
        "PWNED-PWNED-PWNED-PWNED-PWNED-PWNED-PWNED-PWNED-PWNED-PWNED-PWNED-PWNED-PWNED-PWNED-PWNED-PWNED; " \
        "sleep 0.01; done'\"\n start-secs = 0\n"

/* ---- log files ---- */

/* A link left in log-dir from a time it was the attacker's: at start-up, the first byte
 * of output must not follow it. */
START_TEST(test_log_link_at_start) {
        struct daemon d;
        struct victim_file v;
        struct link_plant plant = { .name = "web.log" };
        if (!need_attacker("test_log_link_at_start"))
                return;
        daemon_init(&d);
        victim_make(&v, &d);
        plant.target = v.path;
        snprintf(plant.dir, sizeof plant.dir, "%s/logs", d.dir);
        ck_assert_int_eq(mkdir(plant.dir, 0755), 0);
        ck_assert_int_eq(chown(plant.dir, attacker_uid, attacker_gid), 0);
        ck_assert_int_eq(as_attacker(plant_link, &plant), 0);
        ck_assert_int_eq(chown(plant.dir, 0, 0), 0);  /* root's again: start-up accepts it */
        daemon_write_config(&d, NOISY_SERVICE("web") "}\n");
        daemon_start(&d);
        ck_assert(WAIT_UNTIL(!victim_intact(&v) || status_says(&d, "web", "symbolic link"), 10000));
        ASSERT_VICTIM_INTACT(&v);
        ck_assert(status_says(&d, "web", "is a symbolic link, not followed"));
        daemon_cleanup(&d);
}
END_TEST

/* log-dir handed to the service's user after start-up; the user swaps NAME.log for a
 * link, and SIGUSR1 (logrotate's postrotate) reopens the logs. */
START_TEST(test_log_link_after_sigusr1) {
        struct daemon d;
        struct victim_file v;
        struct link_plant plant = { .name = "web.log" };
        char path[512];
        if (!need_attacker("test_log_link_after_sigusr1"))
                return;
        daemon_init(&d);
        victim_make(&v, &d);
        plant.target = v.path;
        snprintf(plant.dir, sizeof plant.dir, "%s/logs", d.dir);
        daemon_write_config(&d, NOISY_SERVICE("web") "}\n");
        daemon_start(&d);
        snprintf(path, sizeof path, "%s/web.log", plant.dir);
        ck_assert(WAIT_UNTIL(file_contains(path, "PWNED"), 10000));
        ck_assert_int_eq(chown(plant.dir, attacker_uid, attacker_gid), 0);
        ck_assert_int_eq(as_attacker(plant_link, &plant), 0);
        ck_assert_int_eq(kill(d.pid, SIGUSR1), 0);
        ck_assert(WAIT_UNTIL(!victim_intact(&v) || status_says(&d, "web", "symbolic link"), 10000));
        ASSERT_VICTIM_INTACT(&v);
        ck_assert(status_says(&d, "web", "is a symbolic link, not followed"));
        /* and the directory that changed hands is said to be unsafe */
        ck_assert(WAIT_UNTIL(file_contains(d.log, "other users could redirect the service logs"), 5000));
        daemon_cleanup(&d);
}
END_TEST

/* The same hand-over, with rotation: the attacker swaps NAME.log for a link and puts a
 * directory where the rotated file goes, so that the rename fails and the next file is
 * opened by name while the link is there. */
START_TEST(test_log_link_after_rotation) {
        struct daemon d;
        struct victim_file v;
        struct link_plant plant = { .name = "web.log", .blocker = "web.log.1" };
        char path[512];
        if (!need_attacker("test_log_link_after_rotation"))
                return;
        daemon_init(&d);
        victim_make(&v, &d);
        plant.target = v.path;
        snprintf(plant.dir, sizeof plant.dir, "%s/logs", d.dir);
        daemon_write_config(&d, NOISY_SERVICE("web") " log-max-size = 4096\n log-keep = 1\n}\n");
        daemon_start(&d);
        snprintf(path, sizeof path, "%s/web.log", plant.dir);
        ck_assert(WAIT_UNTIL(file_contains(path, "PWNED"), 10000));
        ck_assert_int_eq(chown(plant.dir, attacker_uid, attacker_gid), 0);
        ck_assert_int_eq(as_attacker(plant_link, &plant), 0);
        ck_assert(WAIT_UNTIL(!victim_intact(&v) || status_says(&d, "web", "symbolic link"), 10000));
        ASSERT_VICTIM_INTACT(&v);
        ck_assert(status_says(&d, "web", "is a symbolic link, not followed"));
        ck_assert(file_contains(d.log, "cannot rotate log"));
        daemon_cleanup(&d);
}
END_TEST

/* A log-dir another user owns, or everyone can write, is refused at start-up; a sticky
 * one (as /tmp) is a warning. */
START_TEST(test_unsafe_directories_refused) {
        struct daemon d;
        char dir[300], log_dir[300];
        if (!need_attacker("test_unsafe_directories_refused"))
                return;
        static const struct {
                const char *what;     /* which setting points into the directory */
                mode_t mode;
                bool attacker_owns;
                bool refused;
                const char *message;
        } cases[] = {
                { "log-dir", 0755, true, true, "other users could redirect the service logs" },
                { "log-dir", 0777, false, true, "is writable by everyone" },
                { "log-dir", 0775, false, true, "is writable by group" },
                { "log-dir", 01777, false, false, "sticky" },
                { "socket", 0755, true, true, "other users could replace the socket" },
                { "socket", 0777, false, true, "is writable by everyone" },
                { "socket", 01777, false, false, "sticky" },
                { "pidfile", 0755, true, true, "other users could redirect it" },
                { "pidfile", 01777, false, false, "sticky" },
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                daemon_init(&d);
                snprintf(dir, sizeof dir, "%s/shared", d.dir);
                ck_assert_int_eq(mkdir(dir, 0755), 0);
                ck_assert_int_eq(chmod(dir, cases[i].mode), 0);
                if (cases[i].attacker_owns)
                        ck_assert_int_eq(chown(dir, attacker_uid, attacker_gid), 0);
                else if (cases[i].mode & 020)
                        ck_assert_int_eq(chown(dir, 0, attacker_gid), 0);
                snprintf(log_dir, sizeof log_dir, "%s/logs", d.dir);
                if (strcmp(cases[i].what, "log-dir") == 0)
                        snprintf(log_dir, sizeof log_dir, "%s", dir);
                else if (strcmp(cases[i].what, "socket") == 0)
                        snprintf(d.sock, sizeof d.sock, "%.170s/sock", dir);
                else
                        snprintf(d.pidfile, sizeof d.pidfile, "%.170s/pid", dir);
                /* not daemon_write_config(): log-dir is ours to set */
                FILE *f = fopen(d.conf, "w");
                ck_assert_ptr_nonnull(f);
                fprintf(f, "socket = \"%s\"\npidfile = \"%s\"\nlog-dir = \"%s\"\nservice a { command = \"sleep 3901\"\n}\n",
                        d.sock, d.pidfile, log_dir);
                ck_assert_int_eq(fclose(f), 0);
                char log[8192];
                if (cases[i].refused) {
                        int status = daemon_run_to_exit(&d);
                        read_text_file(d.log, log, sizeof log);
                        ck_assert_msg(status == 1, "%s in a directory mode %o%s: exit %d, not refused: %s", cases[i].what,
                                      cases[i].mode, cases[i].attacker_owns ? " owned by another user" : "", status, log);
                        ck_assert_msg(strstr(log, cases[i].message), "%s mode %o: %s", cases[i].what, cases[i].mode, log);
                } else {
                        daemon_start(&d);
                        ck_assert(wait_for_state(&d, "a", "RUNNING", 5000));
                        read_text_file(d.log, log, sizeof log);
                        ck_assert_msg(strstr(log, cases[i].message), "%s mode %o: no warning: %s", cases[i].what,
                                      cases[i].mode, log);
                }
                daemon_cleanup(&d);
        }
}
END_TEST

/* ---- the pidfile's record ---- */

struct record_plant {
        char dir[256];
        pid_t group;
        const char *target;
};

/* As the attacker: PIDFILE.groups naming a process group of root's, and a link where the
 * record is rewritten (PIDFILE.groups.new). */
static int plant_record(void *arg) {
        struct record_plant *p = arg;
        char path[512];
        snprintf(path, sizeof path, "%s/pid.groups", p->dir);
        FILE *f = fopen(path, "w");
        if (!f || fprintf(f, "+ %d 0\n", (int)p->group) < 0 || fclose(f) != 0)
                return 10;
        snprintf(path, sizeof path, "%s/pid.groups.new", p->dir);
        return symlink(p->target, path) < 0 ? 11 : 0;
}

START_TEST(test_pidfile_record_planted) {
        struct daemon d;
        struct victim_file v;
        struct record_plant plant;
        char out[8192];
        if (!need_attacker("test_pidfile_record_planted"))
                return;
        daemon_init(&d);
        victim_make(&v, &d);
        /* a process group of root's that no supervisord started */
        pid_t bystander = fork();
        ck_assert_int_ge(bystander, 0);
        if (bystander == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);  /* gone with the test, even when it fails */
                setsid();
                execlp("sleep", "sleep", "3902", (char *)NULL);
                _exit(127);
        }
        ck_assert(WAIT_UNTIL(getpgid(bystander) == bystander, 5000));
        plant.group = bystander;
        plant.target = v.path;
        snprintf(plant.dir, sizeof plant.dir, "%s/run", d.dir);
        ck_assert_int_eq(mkdir(plant.dir, 0755), 0);
        ck_assert_int_eq(chown(plant.dir, attacker_uid, attacker_gid), 0);
        ck_assert_int_eq(as_attacker(plant_record, &plant), 0);
        ck_assert_int_eq(chown(plant.dir, 0, 0), 0);
        snprintf(d.pidfile, sizeof d.pidfile, "%.170s/pid", plant.dir);
        /* a hundred process groups appear and go: the record is rewritten after */
        daemon_write_config(&d, "service many { command = \"sleep 3903\"\n instances = 100\n start-secs = 0\n}\n");
        daemon_start(&d);
        ck_assert(wait_for_state(&d, "many@99", "RUNNING", 10000));
        ck_assert_msg(process_exists(bystander), "supervisord killed a process group named by another user's file");
        ck_assert_int_eq(ctl(&d, out, sizeof out, "stop all"), 0);
        /* the record was rewritten (PIDFILE.groups.new, the link, is gone), and it is a
         * regular file of root's */
        char record[512], rewritten[512];
        struct stat st;
        snprintf(record, sizeof record, "%s/pid.groups", plant.dir);
        snprintf(rewritten, sizeof rewritten, "%s/pid.groups.new", plant.dir);
        ck_assert(WAIT_UNTIL(!victim_intact(&v) || (lstat(rewritten, &st) < 0 && errno == ENOENT), 10000));
        ASSERT_VICTIM_INTACT(&v);
        ck_assert_int_eq(lstat(record, &st), 0);
        ck_assert(S_ISREG(st.st_mode) && st.st_uid == 0);
        ck_assert(file_contains(d.log, "is owned by another user: ignoring it"));
        kill(bystander, SIGKILL);
        waitpid(bystander, NULL, 0);
        daemon_cleanup(&d);
}
END_TEST

/* ---- the socket ---- */

struct socket_attack {
        char dir[256];        /* where the socket goes (or, swapped, its parent) */
        const char *target;
        bool swap_directory;  /* swap the socket's directory instead of the socket */
};

/* As the attacker, until killed: a link to the target renamed over the socket path, over
 * and over; or the socket's directory exchanged, over and over, with one of the
 * attacker's in which the socket's name is such a link. */
static int attack_socket(void *arg) {
        struct socket_attack *a = arg;
        char tmp[512], path[512], real[512], evil[512];
        if (!a->swap_directory) {
                snprintf(tmp, sizeof tmp, "%s/.link", a->dir);
                snprintf(path, sizeof path, "%s/sock", a->dir);
                for (;;) {
                        unlink(tmp);
                        if (symlink(a->target, tmp) == 0)
                                rename(tmp, path);
                }
        }
        snprintf(real, sizeof real, "%s/s", a->dir);
        snprintf(evil, sizeof evil, "%s/evil", a->dir);
        snprintf(path, sizeof path, "%s/evil/sock", a->dir);
        if (mkdir(evil, 0755) < 0)
                return 10;
        /* One atomic exchange at a time, so the path is always one of the two; the link is
         * put back whenever the attacker's directory is the one at evil/ (a start-up may
         * have removed it as a stale socket). */
        for (;;) {
                renameat2(AT_FDCWD, real, AT_FDCWD, evil, RENAME_EXCHANGE);
                symlink(a->target, path);
        }
}

/* Start supervisord again and again while the attack runs; after each start (up, or
 * refused) the target must be as it was.  Returns how many starts came up. */
static int starts_under_attack(struct daemon *d, struct socket_attack *attack, struct victim_file *v, int rounds,
                               int *ret_refused) {
        int up = 0, refused = 0;
        pid_t attacker = attacker_spawn(attack_socket, attack);
        for (int i = 0; i < rounds && victim_intact(v); i++) {
                if (truncate(d->log, 0) < 0 && errno != ENOENT)
                        ck_abort_msg("truncate %s: %s", d->log, strerror(errno));
                pid_t pid = fork();
                ck_assert_int_ge(pid, 0);
                if (pid == 0) {
                        int log = open(d->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
                        dup2(log, STDERR_FILENO);
                        execl(supervisord_path(), "supervisord", "-n", "-c", d->conf, (char *)NULL);
                        _exit(127);
                }
                int status = 0;
                bool exited = false;
                ck_assert(WAIT_UNTIL((exited = waitpid(pid, &status, WNOHANG) == pid) || file_contains(d->log, "started with"),
                                     10000));
                if (!exited) {
                        up++;
                        kill(pid, SIGTERM);
                        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
                } else if (WIFEXITED(status) && WEXITSTATUS(status) == 1)
                        refused++;
        }
        kill(attacker, SIGKILL);
        waitpid(attacker, NULL, 0);
        *ret_refused = refused;
        return up;
}

/* The socket's directory is writable by another user, who renames a link to a file of
 * root's over the socket path during start-up: the start is refused, and no chmod or
 * chown ever reaches the file. */
START_TEST(test_socket_link_race) {
        struct daemon d;
        struct victim_file v;
        struct socket_attack attack = { .swap_directory = false };
        if (!need_attacker("test_socket_link_race"))
                return;
        daemon_init(&d);
        victim_make(&v, &d);
        attack.target = v.path;
        snprintf(attack.dir, sizeof attack.dir, "%s/s", d.dir);
        ck_assert_int_eq(mkdir(attack.dir, 0755), 0);
        ck_assert_int_eq(chown(attack.dir, attacker_uid, attacker_gid), 0);
        snprintf(d.sock, sizeof d.sock, "%.170s/sock", attack.dir);
        daemon_write_config(&d, "socket-mode = 0666\nsocket-group = %s\nservice a { command = \"sleep 3904\"\n}\n",
                            attacker_name);
        int refused, up = starts_under_attack(&d, &attack, &v, 40, &refused);
        ASSERT_VICTIM_INTACT(&v);
        fprintf(stderr, "test_socket_link_race: %d starts up, %d refused\n", up, refused);
        ck_assert_int_eq(refused, 40);
        daemon_cleanup(&d);
}
END_TEST

/* The socket's directory is root's, but its parent is writable by the attacker's group,
 * a warning only: the attacker swaps the directory for one of theirs in which the
 * socket's name links to a file of root's.  supervisord works in the directory it opened,
 * whatever the path leads to afterwards: the file is never touched. */
START_TEST(test_socket_directory_swap_race) {
        struct daemon d;
        struct victim_file v;
        struct socket_attack attack = { .swap_directory = true };
        char real[300];
        if (!need_attacker("test_socket_directory_swap_race"))
                return;
        daemon_init(&d);
        victim_make(&v, &d);
        attack.target = v.path;
        snprintf(attack.dir, sizeof attack.dir, "%s/p", d.dir);
        ck_assert_int_eq(mkdir(attack.dir, 0775), 0);
        ck_assert_int_eq(chown(attack.dir, 0, attacker_gid), 0);
        ck_assert_int_eq(chmod(attack.dir, 0775), 0);
        snprintf(real, sizeof real, "%s/s", attack.dir);
        ck_assert_int_eq(mkdir(real, 0755), 0);
        snprintf(d.sock, sizeof d.sock, "%.170s/sock", real);
        daemon_write_config(&d, "socket-mode = 0666\nsocket-group = %s\nservice a { command = \"sleep 3905\"\n}\n",
                            attacker_name);
        int refused, up = starts_under_attack(&d, &attack, &v, 40, &refused);
        ASSERT_VICTIM_INTACT(&v);
        fprintf(stderr, "test_socket_directory_swap_race: %d starts up, %d refused\n", up, refused);
        daemon_cleanup(&d);
}
END_TEST

/* ---- terminal escapes ---- */

/* What the service prints: OSC title, OSC 52 clipboard write, CSI 6n (the terminal
 * answers as if typed), DCS, raw C1 CSI, C1 CSI in UTF-8, NUL, DEL, CR; then text. */
static const char escapes[] = "\x1b]0;TITLE\x07\x1b]52;c;ZXZpbA==\x07\x1b[6n\x1bP1$r\x1b\\\x9b" "31m\xc2\x9b" "32m"
                              "\0nul\x7f" "del\rcr caf\xc3\xa9 end\n";
static const char escapes_filtered[] = "?]0;TITLE??]52;c;ZXZpbA==??[6n?P1$r?\\?31m?32m?nul?del?cr caf\xc3\xa9 end\n";

/* A script printing ESCAPES (and, with TRIGGER, "ready" first, the escapes once TRIGGER
 * exists) written into D's directory as NAME; its path into BUF. */
static void write_escape_script(const struct daemon *d, const char *name, const char *trigger, char *buf, size_t size) {
        snprintf(buf, size, "%s/%s", d->dir, name);
        FILE *f = fopen(buf, "w");
        ck_assert_ptr_nonnull(f);
        if (trigger)
                fprintf(f, "echo ready\nwhile [ ! -e %s ]; do sleep 0.02; done\n", trigger);
        fputs("printf '", f);
        for (size_t i = 0; i < sizeof escapes - 1; i++) {
                unsigned char c = (unsigned char)escapes[i];
                if (c < 0x20 || c >= 0x7f || c == '\'' || c == '\\' || c == '%')
                        fprintf(f, "\\%03o", c);
                else
                        fputc(c, f);
        }
        fputs("'\nexec sleep 3906\n", f);
        ck_assert_int_eq(fclose(f), 0);
}

/* Run supervisorctl with ARGV on a new pseudo-terminal in raw mode (no CR added) and
 * collect what reaches the terminal until it exits or, with UNTIL, until UNTIL arrives
 * (then it is killed; BEFORE_UNTIL, if set, is created once "ready" has arrived). */
static size_t run_on_pty(char *const argv[], char *buf, size_t size, const char *until, const char *create_on_ready) {
        int master;
        pid_t pid = forkpty(&master, NULL, NULL, NULL);
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                struct termios t;
                if (tcgetattr(STDIN_FILENO, &t) == 0) {
                        cfmakeraw(&t);
                        tcsetattr(STDIN_FILENO, TCSANOW, &t);
                }
                execv(argv[0], argv);
                _exit(127);
        }
        size_t len = 0;
        bool created = false;
        long long deadline = now_ms() + 10000;
        while (len < size - 1 && now_ms() < deadline) {
                struct pollfd p = { .fd = master, .events = POLLIN };
                if (poll(&p, 1, 100) <= 0)
                        continue;
                ssize_t n = read(master, buf + len, size - 1 - len);
                if (n <= 0)
                        break;  /* EIO: the other side is closed */
                len += (size_t)n;
                buf[len] = '\0';
                if (create_on_ready && !created && memmem(buf, len, "ready\n", 6)) {
                        close(open(create_on_ready, O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
                        created = true;
                }
                if (until && memmem(buf, len, until, strlen(until)))
                        break;
        }
        buf[len] = '\0';
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
        close(master);
        return len;
}

/* What reaches a pipe: the bytes, NULs included. */
static size_t run_on_pipe(char *const argv[], char *buf, size_t size) {
        int fds[2];
        ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                dup2(fds[1], STDOUT_FILENO);
                execv(argv[0], argv);
                _exit(127);
        }
        close(fds[1]);
        size_t len = 0;
        ssize_t n;
        while (len < size && (n = read(fds[0], buf + len, size - len)) > 0)
                len += (size_t)n;
        close(fds[0]);
        waitpid(pid, NULL, 0);
        return len;
}

/* No byte a terminal acts on: nothing below 0x20 but newline and tab, no DEL, no C1. */
static void assert_terminal_safe(const char *buf, size_t len, const char *what) {
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)buf[i];
                ck_assert_msg((c >= 0x20 || c == '\n' || c == '\t') && c != 0x7f && !(c >= 0x80 && c <= 0x9f && (i == 0 || (unsigned char)buf[i - 1] != 0xc3)),
                              "%s: byte 0x%02x at %zu reached the terminal", what, c, i);
                ck_assert_msg(!(c == 0xc2 && i + 1 < len && (unsigned char)buf[i + 1] <= 0x9f),
                              "%s: a UTF-8 C1 control at %zu reached the terminal", what, i);
        }
}

START_TEST(test_tail_escapes_on_terminal) {
        struct daemon d;
        char script[256], out[8192], log_path[300];
        static char got[65536];
        daemon_init(&d);
        write_escape_script(&d, "esc.sh", NULL, script, sizeof script);
        daemon_write_config(&d, "service esc { command = \"/bin/sh %s\"\n start-secs = 0\n}\n", script);
        daemon_start(&d);
        snprintf(log_path, sizeof log_path, "%s/logs/esc.log", d.dir);
        ck_assert(WAIT_UNTIL(file_contains(log_path, "end"), 10000));

        /* on a terminal: replaced */
        char *tail[] = { (char *)supervisorctl_path(), "-s", d.sock, "tail", "esc", NULL };
        size_t n = run_on_pty(tail, got, sizeof got, NULL, NULL);
        assert_terminal_safe(got, n, "tail");
        ck_assert_msg(n == sizeof escapes_filtered - 1 && memcmp(got, escapes_filtered, n) == 0, "tail showed: %s", got);

        /* --raw: the bytes as they are, escapes included */
        char *raw[] = { (char *)supervisorctl_path(), "-s", d.sock, "tail", "--raw", "esc", NULL };
        n = run_on_pty(raw, got, sizeof got, NULL, NULL);
        ck_assert_msg(n == sizeof escapes - 1 && memcmp(got, escapes, n) == 0, "tail --raw showed %zu bytes", n);

        /* a pipe gets the exact bytes, as cat would give them */
        n = run_on_pipe(tail, got, sizeof got);
        ck_assert_msg(n == sizeof escapes - 1 && memcmp(got, escapes, n) == 0, "tail | showed %zu bytes", n);

        /* tail -f on a terminal: what follows is replaced as well */
        char trigger[300], script2[256];
        snprintf(trigger, sizeof trigger, "%s/go", d.dir);
        write_escape_script(&d, "later.sh", trigger, script2, sizeof script2);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "stop esc"), 0);
        daemon_write_config(&d, "service later { command = \"/bin/sh %s\"\n start-secs = 0\n}\n", script2);
        ck_assert_int_eq(ctl(&d, out, sizeof out, "update"), 0);
        char *follow[] = { (char *)supervisorctl_path(), "-s", d.sock, "tail", "-f", "later", NULL };
        n = run_on_pty(follow, got, sizeof got, "end\n", trigger);
        assert_terminal_safe(got, n, "tail -f");
        ck_assert_msg(memmem(got, n, escapes_filtered, sizeof escapes_filtered - 1), "tail -f showed: %s", got);
        daemon_cleanup(&d);
}
END_TEST

static Suite *security_suite(void) {
        Suite *s = suite_create("security");
        TCase *files = tcase_create("files");
        tcase_add_unchecked_fixture(files, attacker_create, attacker_remove);
        tcase_set_timeout(files, 120);
        tcase_add_test(files, test_log_link_at_start);
        tcase_add_test(files, test_log_link_after_sigusr1);
        tcase_add_test(files, test_log_link_after_rotation);
        tcase_add_test(files, test_unsafe_directories_refused);
        tcase_add_test(files, test_pidfile_record_planted);
        tcase_add_test(files, test_socket_link_race);
        tcase_add_test(files, test_socket_directory_swap_race);
        suite_add_tcase(s, files);
        TCase *terminal = tcase_create("terminal");
        tcase_set_timeout(terminal, 60);
        tcase_add_test(terminal, test_tail_escapes_on_terminal);
        suite_add_tcase(s, terminal);
        return s;
}

int main(void) { return run_suite(security_suite()) ? 1 : 0; }
