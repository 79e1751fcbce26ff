/* logfile.h — log capture: the pipes that carry each service process's stdout and stderr
 * to supervisord, and the log files they are written to (log-dir/NAME.log, rotated by
 * size into NAME.log.1 … NAME.log.N), with followers for `supervisorctl tail -f`.
 *
 * logfile.c owns every struct log_capture — its pipe (the read end; the write end only
 * while a spawn needs it), its open log file and its followers — and the log directory.  A capture can outlive its
 * service: once released it keeps draining its pipe until the last writer (a grandchild
 * that kept the pipe, say) is gone, so no byte a process wrote is lost. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "config.h"

#define LOG_CHUNK_MAX (64u << 10)       /* bytes moved per pipe per wake-up */
#define LOG_TAIL_MAX_BYTES (4u << 20)   /* the most one `tail` answer holds */
#define LOG_TAIL_MAX_LINES 1000000u
#define LOG_TAIL_STEP (16u << 10)       /* bytes a tail gives per step */
#define LOG_TAIL_SCAN_STEP (64u << 10)  /* bytes it looks at per step to find where to begin */

/* ---- pure helpers (unit-tested) ---- */

/* "DIR/NAME.log" for index 0, "DIR/NAME.log.INDEX" otherwise; -ENAMETOOLONG if it does
 * not fit in size. */
int log_file_path(char *buf, size_t size, const char *dir, const char *name, unsigned index);

/* ---- the directory and every capture ---- */

/* At start-up: captures register their pipes on EVENT and write into DIR (created with
 * its parents, mode 0755, if missing).  Failing to create DIR is logged, not fatal: each
 * log reports it as its own problem and retries when it next has output.  A DIR another
 * user could change (safepath.h, DIR_UNSAFE) is refused: -EDIRUNSAFE_SAFE, with the
 * reason in ERROR; one others can add entries to is a warning. */
int logs_init(sd_event *event, const char *dir, char *error, size_t error_size);
/* Reload: write into DIR from now on; files that are open are reopened there at once.
 * Files already written, rotated ones included, stay where they are.  A DIR that
 * logs_init() would refuse is refused here too, and nothing changes. */
int logs_set_directory(const char *dir, char *error, size_t error_size);
/* SIGUSR1: close and reopen every open log file, for external rotation (logrotate).  A log
 * with no file open is left alone: its next byte opens one.  log-dir is resolved again
 * first; if it has become unsafe that is logged and the directory opened before stays in
 * use.  No log file is ever opened through a symbolic link, or written unless it is a
 * regular file of ours with no other link. */
void logs_reopen_all(void);
/* At exit, after every service is freed: write what is left in the pipes (bounded),
 * close and free every capture. */
void logs_free_all(void);

/* ---- one process's capture ---- */

struct log_capture;

/* A capture for the process NAME ("web", "web@2"), owned by the caller until released.
 * Nothing is opened until a spawn needs it. */
int log_capture_new(const char *name, struct log_capture **ret);
/* The process's service is going away: its followers are ended, and the capture frees
 * itself once the pipe reaches end of file
 * (or in logs_free_all()).  The caller must not use it afterwards.  NULL is a no-op. */
void log_capture_release(struct log_capture *capture);

/* Before a spawn under CONFIG: the fds the child gets as stdout and stderr (-1: the
 * child inherits supervisord's).  They are borrowed: valid until log_capture_spawned().
 * A journal that cannot be reached falls back to the log file (reported in status).
 * The log file is not opened here but when the first byte of output arrives; only
 * log-dir is checked (and made if missing), so that a log-dir where no file can be
 * created is reported in status at once.
 * Returns a negative errno only when the pipe or /dev/null cannot be opened. */
int log_capture_prepare(struct log_capture *capture, const struct service_config *config, int *ret_stdout,
                        int *ret_stderr);
/* After the spawn, whether or not it worked: close the fds only the child needed. */
void log_capture_spawned(struct log_capture *capture);
/* The main process has exited: write what it left in the pipe now (bounded), so that its
 * log is complete before its exit is acted on. */
void log_capture_drain(struct log_capture *capture);
/* What is wrong with this log right now (unwritable file, unreachable journal), for
 * `status`; "" when nothing.  A static buffer: valid until the next call for any capture. */
const char *log_capture_problem(struct log_capture *capture);

/* ---- tail ---- */

/* A read of the last lines of a log, in steps, so that neither memory nor the loop has
 * to hold 4 MiB at once: the lines are found walking back from the end of NAME.log
 * through the rotated files as far as needed, at most LOG_TAIL_MAX_BYTES back (then
 * beginning at a whole line), and sent from there up to where NAME.log ended when the
 * tail began.  It holds one file open at a time; a rotation meanwhile is followed. */
struct log_tail;

/* Begin a tail of the last LINES lines of the file stream FD (STDOUT_FILENO or
 * STDERR_FILENO) is written to.  *ret is owned by the caller.  -ENOENT when CONFIG sends
 * that stream to no log file (stderr sent to stdout shares stdout's file); -EINVAL for
 * another FD. */
int log_tail_open(struct log_capture *capture, const struct service_config *config, int fd, unsigned lines,
                  struct log_tail **ret);
/* One step: at most LOG_TAIL_SCAN_STEP bytes read from disk while it searches, at most
 * SIZE (and LOG_TAIL_STEP) once it gives the lines.  Returns how many bytes of the lines
 * it put in BUF, which must hold LOG_TAIL_SCAN_STEP (scratch for the search); 0 while it
 * searches; *ret_done once every byte was given.  A negative errno on failure. */
ssize_t log_tail_read(struct log_tail *tail, char *buf, size_t size, bool *ret_done);
/* NULL is a no-op; the capture may be gone already. */
void log_tail_free(struct log_tail *tail);

/* The file stream FD (1: stdout, 2: stderr) of a process under CONFIG is written to,
 * "DIR/NAME.log" in buf (both streams share it when both go to the log); -ENOENT when that
 * stream goes elsewhere (null, inherit, journal). */
int log_capture_file(const struct log_capture *capture, const struct service_config *config, int fd, char *buf,
                     size_t size);

/* Bytes of the file stream FD (STDOUT_FILENO or STDERR_FILENO) is written to, by
 * position, as supervisord's readProcessStdoutLog and readProcessStderrLog read them:
 * from OFFSET, LENGTH bytes (0: to the end); with a negative OFFSET the last -OFFSET
 * bytes (and LENGTH must be 0, else -EINVAL).  Past the end is empty, and so is a file
 * not written yet.  At most LOG_TAIL_MAX_BYTES (the last ones, from the end; the first
 * ones otherwise: ask again from where it stopped).  *ret is malloc'ed, owned by the
 * caller, NULL when empty; *ret_file_size (if not NULL) is the file's size.  -ENOENT
 * when CONFIG sends that stream to no log file, as log_tail_open(). */
int log_capture_read(struct log_capture *capture, const struct service_config *config, int fd, int64_t offset,
                     size_t length, char **ret, size_t *ret_size, uint64_t *ret_file_size);

/* Empty NAME.log, as supervisord's clearProcessLogs does (its rotated files stay); output
 * goes on at its new end.  0 when there is no file yet; -ENOENT when CONFIG sends nothing
 * to the log file and there is none. */
int log_capture_clear(struct log_capture *capture, const struct service_config *config);

/* ---- followers (tail -f) ---- */

/* Called with every chunk read from the pipe, as it is written; DATA is valid only
 * during the call.  DATA NULL means the capture is ending (its service was removed): the
 * follower has been freed already and must be forgotten.  It must not free followers or
 * release captures; buffering (and asking its own event source to flush) is all it may do. */
typedef void (*log_follow_fn)(const char *data, size_t size, void *userdata);

struct log_follower;

/* Subscribe to the output of stream FD (STDOUT_FILENO or STDERR_FILENO) from now on, as
 * it goes to its log file: while stderr shares stdout's file (and pipe), either follower
 * gets both.  *ret is owned by the caller.  -ENOENT when CONFIG sends that stream to no
 * log file, as log_tail_open(). */
int log_capture_follow(struct log_capture *capture, const struct service_config *config, int fd, log_follow_fn fn,
                       void *userdata, struct log_follower **ret);
void log_follower_free(struct log_follower *follower);
