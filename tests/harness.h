/* harness.h — helpers for tests that drive the real supervisord and supervisorctl:
 * a private temp directory per daemon, config writing, start/stop, running
 * supervisorctl and reading what the OS shows in /proc.
 *
 * Binaries come from $SUPERVISORD and $SUPERVISORCTL (set by `make check`), else
 * ./supervisord/supervisord and ./supervisord/supervisorctl.  daemon_start() runs the
 * daemon behind the words of $SUPERVISORD_WRAPPER when set (valgrind, for
 * `make check-valgrind`). */
#pragma once

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

struct daemon {
        char dir[128];      /* private temp dir, removed by daemon_cleanup() */
        char conf[192];     /* dir/supervisord.conf */
        char sock[192];     /* dir/sock */
        char pidfile[192];  /* dir/pid */
        char log[192];      /* dir/daemon.log: the daemon's stderr */
        pid_t pid;          /* the daemon, 0 when not running */
        unsigned long nofile;  /* when set: its RLIMIT_NOFILE, soft and hard, from the exec on */
};

const char *supervisord_path(void);
const char *supervisorctl_path(void);

/* Create the temp dir and fill in the paths. */
void daemon_init(struct daemon *d);
/* Write the config: socket, pidfile, log-level debug and log-dir dir/logs (three lines),
 * then BODY (printf format). */
void daemon_write_config(struct daemon *d, const char *body_format, ...) __attribute__((format(printf, 2, 3)));
/* Start `supervisord -n -c conf` (stderr to the log) and wait until its socket answers. */
void daemon_start(struct daemon *d);
/* SIGTERM, wait (up to timeout_ms); returns the exit status, or -1 on timeout (then SIGKILL). */
int daemon_stop(struct daemon *d, int timeout_ms);
/* Kill whatever is left and remove the temp dir. */
void daemon_cleanup(struct daemon *d);

/* Run supervisorctl -s SOCK with ARGS (a space-separated string); output is stdout and
 * stderr together.  Returns the exit status. */
int ctl(struct daemon *d, char *out, size_t out_size, const char *args_format, ...) __attribute__((format(printf, 4, 5)));
/* Run ARGV, capture stdout+stderr; returns the exit status (or 128+signal). */
int run_capture(char *const argv[], char *out, size_t out_size);

/* The state column of `status NAME` ("RUNNING", ...), into buf. */
const char *service_state_of(struct daemon *d, const char *name, char *buf, size_t size);
/* The service's main pid from `pid NAME`, 0 if none. */
pid_t service_pid_of(struct daemon *d, const char *name);
/* Whether service NAME is in STATE now; its status line (or supervisorctl's answer) goes
 * to LINE, for a message. */
bool harness_state_is(struct daemon *d, const char *name, const char *state, char *line, size_t size);
/* Poll until service NAME is in STATE, up to timeout_ms; true if it got there. */
bool wait_for_state(struct daemon *d, const char *name, const char *state, int timeout_ms);

/* /proc helpers */
bool process_exists(pid_t pid);        /* alive and not a zombie */
char process_state(pid_t pid);         /* 'R', 'S', 'Z', ... or 0 if gone */
pid_t process_parent(pid_t pid);
int count_fds(pid_t pid, char *list, size_t list_size);  /* open fd numbers, "0 1 2" */
int count_zombie_children(pid_t parent);
/* Read /proc/PID/environ looking for NAME; copies its value, false if absent. */
bool process_getenv(pid_t pid, const char *name, char *value, size_t size);
/* Wait until a file exists and is non-empty (up to timeout_ms). */
bool wait_for_file(const char *path, int timeout_ms);
/* Read a whole small file into buf (NUL-terminated); -1 if it cannot be read. */
ssize_t read_text_file(const char *path, char *buf, size_t size);
void sleep_ms(int ms);
long long now_ms(void);

/* Live processes whose command line (NULs read as spaces) is exactly CMDLINE and that
 * descend from this test process (the daemons it started and their services), so that
 * another test run on the machine, or a stray process, is never counted. */
int count_processes(const char *cmdline);
/* The same processes: their pids, the first MAX of them into PIDS; returns how many there are. */
int find_processes(const char *cmdline, pid_t *pids, int max);
/* Make this test process a child subreaper, so that what a killed daemon leaves behind is
 * re-parented here and still counted by count_processes(), not lost to init. */
void harness_adopt_orphans(void);
/* The heartbeat client helper program, built next to the running test program. */
const char *heartbeat_helper_path(void);
/* The helper that logs when each ping arrives (tests/helper_ping_clock.c), likewise. */
const char *ping_clock_helper_path(void);

/* The daemon runs instrumented (sanitizers, valgrind): memory and timing figures are the
 * instrumentation's, so tests skip assertions about them (and say so). */
bool harness_instrumented(void);

/* Build a suite runner: run SUITE, return the number of failures. */
int run_suite(Suite *suite);

/* A deadline for what takes milliseconds on an idle machine: generous enough for one five
 * times slower and busy (the suite runs beside builds and other test runs).  Waiting this
 * long costs only when the test fails.  Tests assert behaviour, never speed: an upper
 * bound on a duration is one that follows from the config (a stop that had to wait out a
 * stop-timeout), never a figure in milliseconds for "fast". */
#define SOON_MS 20000

/* Poll COND every 10 ms for up to TIMEOUT_MS; evaluates to whether it became true. */
#define WAIT_UNTIL(cond, timeout_ms)                                                  \
        ({                                                                            \
                long long wait_deadline_ = now_ms() + (timeout_ms);                   \
                bool wait_ok_;                                                        \
                while (!(wait_ok_ = (cond)) && now_ms() < wait_deadline_)             \
                        sleep_ms(10);                                                 \
                wait_ok_;                                                             \
        })

/* Poll COND like WAIT_UNTIL; if it does not come true within TIMEOUT_MS, fail with the
 * condition and the deadline.  ASSERT_WITHIN_MSG adds the message of the printf arguments
 * that follow, evaluated after the last try so that it can show the last value seen. */
#define ASSERT_WITHIN(cond, timeout_ms)                                                           \
        ck_assert_msg(WAIT_UNTIL(cond, timeout_ms), "expected %s within %d ms", #cond, (int)(timeout_ms))
#define ASSERT_WITHIN_MSG(cond, timeout_ms, ...)                                                  \
        do {                                                                                      \
                if (!WAIT_UNTIL(cond, timeout_ms)) {                                              \
                        char within_seen_[8192];                                                  \
                        snprintf(within_seen_, sizeof within_seen_, __VA_ARGS__);                 \
                        /* (Check refuses messages of more than a few KiB) */                    \
                        ck_abort_msg("expected %.500s within %d ms; seen: %.2500s", #cond, (int)(timeout_ms), \
                                     within_seen_);                                               \
                }                                                                                 \
        } while (0)

/* Fail unless service NAME reaches STATE within TIMEOUT_MS, showing its last status line. */
#define ASSERT_STATE_WITHIN(d, name, state, timeout_ms)                                       \
        do {                                                                                  \
                char state_line_[1024];                                                       \
                ASSERT_WITHIN_MSG(harness_state_is(d, name, state, state_line_, sizeof state_line_), \
                                  timeout_ms, "%s in state %s expected, last status: %s", name, state, \
                                  state_line_);                                               \
        } while (0)
