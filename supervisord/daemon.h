/* daemon.h — becoming a daemon the classic way, and the pidfile that keeps a second
 * instance out.  The original process waits until the daemon says it is ready, so its
 * exit status tells the caller whether supervisord actually came up. */
#pragma once

#include <stddef.h>

/* Double fork, setsid, chdir /, umask 022, stdio to /dev/null.  Returns only in the
 * daemon, with *ret_ready_fd to pass to daemon_report().  The original process exits
 * with the status the daemon reports (1 if it dies before reporting); the intermediate
 * one exits at once.  A negative errno if the first fork fails (still in the foreground). */
int daemon_detach(int *ret_ready_fd);

/* Tell the waiting original process the outcome (EXIT status 0 = ready) and close the fd.
 * MESSAGE, if not NULL, is printed by it on stderr. */
void daemon_report(int ready_fd, int exit_status, const char *message);

/* Create or open PATH, take an exclusive flock without waiting and write our pid.  If
 * another process holds it: -EWOULDBLOCK and a message naming its pid.  The fd stays
 * open (close-on-exec) for as long as we run: the lock dies with the process.  PATH's
 * directory must be one no other user can change (safepath.h: DIR_UNSAFE is refused,
 * DIR_SHARED a warning), and PATH itself a regular file of ours, no link followed. */
int pidfile_acquire(const char *path, int *ret_fd, char *error, size_t error_size);
void pidfile_release(const char *path, int fd);
