/* spawn.h — start one service process with its documented setup: own session, clean fds,
 * signals reset, user/groups, umask, nice, limits, directory and environment.  Owns a few
 * reserved low descriptors and the child's stack (spawn_init) for as long as supervisord
 * runs. */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#include "config.h"

/* What a particular process gets beyond its config.  Fds are borrowed: the caller keeps
 * (and closes) them; the child gets copies. */
struct spawn_options {
        unsigned instance;             /* SUPERVISOR_INSTANCE */
        int stdout_fd, stderr_fd;      /* -1: supervisord's own */
        int extra_fds[4];              /* become fds 3, 4, ... in the child */
        unsigned n_extra_fds;
        char *const *extra_env;        /* NULL-terminated "KEY=VALUE" list, or NULL; these win
                                        * over the config's environment */
};

#define SPAWN_OPTIONS_INIT { .stdout_fd = -1, .stderr_fd = -1 }

/* Once, after supervisord's own signal dispositions are final and before anything opens
 * many descriptors: reserves the low descriptors a spawn passes through, maps the
 * child's stack and notes which signals a child must reset. */
int spawn_init(void);

/* Start CONFIG's command with OPTIONS.  Returns a negative errno when no process could be
 * made (clone failed, or spawn_init was not called).  Otherwise *ret_pid is the child, and
 * either it already reported the setup step that failed — then message holds it
 * ("exec /x: No such file or directory"), *ret_error_fd is -1, and the child exits with
 * status 127 — or message is empty and:
 *   *ret_error_fd is -1: the child has exec'd (the usual case);
 *   *ret_error_fd >= 0 (owned by the caller, non-blocking, close-on-exec): the outcome is
 *   not known yet (a plain fork, under valgrind); the pipe reaches end of file when exec
 *   succeeds, or first carries the failure, read with spawn_read_error(). */
int spawn_service(const struct service_config *config, const struct spawn_options *options, pid_t *ret_pid,
                  int *ret_error_fd, char *message, size_t message_size);

/* Raise supervisord's own soft RLIMIT_NOFILE to the hard limit (every service holds a
 * few of its fds: pipes, log files), remembering the original, which every service
 * without limit-nofile gets back. */
int spawn_raise_nofile(void);

/* Read what a child of CONFIG reported over its error pipe into buf as a message (empty
 * string if nothing). */
void spawn_read_error(int error_fd, const struct service_config *config, char *buf, size_t size);
