/* spawn.h — fork and exec one service process with its documented setup: own session,
 * clean fds, signals reset, user/group, umask, nice, limits, directory and environment. */
#pragma once

#include <sys/types.h>

#include "config.h"

/* What a particular process gets beyond its config.  Fds are borrowed: the caller keeps
 * (and closes) them; the child gets copies. */
struct spawn_options {
        unsigned instance;             /* SUPERVISOR_INSTANCE */
        int stdout_fd, stderr_fd;      /* -1: supervisord's own */
        int extra_fds[4];              /* become fds 3, 4, ... in the child */
        unsigned n_extra_fds;
        char *const *extra_env;        /* NULL-terminated "KEY=VALUE" list, or NULL */
};

#define SPAWN_OPTIONS_INIT { .stdout_fd = -1, .stderr_fd = -1 }

/* Start CONFIG's command with OPTIONS.  On success *ret_pid is the child and
 * *ret_error_fd (owned by the caller, non-blocking, close-on-exec) is the read end of a
 * pipe that reaches EOF when exec succeeds, or first carries a one-line description of
 * the setup step that failed ("exec /x: No such file or directory") before the child
 * exits with status 127.  Returns a negative errno when fork itself fails. */
int spawn_service(const struct service_config *config, const struct spawn_options *options, pid_t *ret_pid,
                  int *ret_error_fd);

/* Raise supervisord's own soft RLIMIT_NOFILE to the hard limit (every service holds a
 * few of its fds: pipes, log files), remembering the original, which every service
 * without limit-nofile gets back. */
int spawn_raise_nofile(void);

/* Read what a child reported over its error pipe into buf (empty string if nothing). */
void spawn_read_error(int error_fd, char *buf, size_t size);
