/* mainlog.h — supervisord's main log file (`log-file`): every message of supervisord's
 * own, in Python supervisord's line format ("2026-12-07 16:00:00,123 INFO text"), rotated
 * by size into FILE.1 … FILE.N, read by byte offset and cleared for clients.
 *
 * The target is either a regular file, opened relative to its directory's descriptor with
 * no link followed (safepath.h), or a stream: `-`, /dev/stdout, /dev/stderr, /dev/fd/N or
 * /proc/PID/fd/N, opened as a new open file description in non-blocking mode so that a
 * full pipe or a stalled terminal drops messages (counted, and said once it drains)
 * instead of stopping the loop.  A stream is never rotated, whatever the max size says.
 * A write error (a full disk) likewise drops what could not be written. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Whether PATH names a stream rather than a file ("-", "/dev/stdout", "/dev/fd/3", ...). */
bool mainlog_is_stream_path(const char *path);

/* Open PATH (absolute, or "-") as the main log, replacing the one open: MAX_SIZE 0 never
 * rotates; KEEP old files are kept.  With ECHO_STDOUT every line is also written to
 * supervisord's stdout (the foreground without an explicit log-target, as Python
 * supervisord's nodaemon), unless PATH is stdout already.  A negative errno with the
 * reason in ERROR; the one open before stays then. */
int mainlog_open(const char *path, uint64_t max_size, unsigned keep, bool echo_stdout, char *error,
                 size_t error_size);
/* SIGUSR1: reopen the file at its path (after logrotate moved it). */
void mainlog_reopen(void);
void mainlog_close(void);
bool mainlog_is_open(void);

/* One message at syslog PRIORITY, TEXT without its newline; log.c calls it for every
 * message that passes the level.  Never blocks, never logs. */
void mainlog_write(int priority, const char *text);

/* Bytes of the log file by position, as supervisord's readLog reads them: from OFFSET,
 * LENGTH bytes (0: to the end); a negative OFFSET gives the last -OFFSET bytes (LENGTH
 * must be 0, else -EINVAL).  At most 4 MiB.  *ret malloc'ed (NULL when empty), owned by
 * the caller; *ret_file_size the file's size.  -ENOENT when there is no log file (none
 * configured, or a stream: nothing to read back). */
int mainlog_read(int64_t offset, size_t length, char **ret, size_t *ret_size, uint64_t *ret_file_size);
/* Empty the log file (clearLog); its rotated files stay.  -ENOENT as for mainlog_read. */
int mainlog_clear(void);
/* The log file's path, NULL when there is none to read (no log-file, or a stream). */
const char *mainlog_path(void);

/* ---- followers (supervisorctl maintail -f, GET /mainlogtail) ---- */

/* Called with every line as it is written to the log file, DATA valid only during the
 * call.  It must not free followers; a message it logs is not written (nor fed back). */
typedef void (*mainlog_follow_fn)(const char *data, size_t size, void *userdata);
struct mainlog_follower;
/* Subscribe to what is written to the log file from now on; *ret is owned by the caller.
 * -ENOENT as for mainlog_read.  A follower outlives a change of log-file: it gets what
 * the file now open gets, nothing while there is none. */
int mainlog_follow(mainlog_follow_fn fn, void *userdata, struct mainlog_follower **ret);
void mainlog_follower_free(struct mainlog_follower *follower);
