/* spawn.h — fork and exec one service process with its documented setup: own session,
 * clean fds, signals reset, user/group, umask, nice, limits, directory and environment. */
#pragma once

#include <sys/types.h>

#include "config.h"

/* Start CONFIG's command as instance INSTANCE.  On success *ret_pid is the child and
 * *ret_error_fd (owned by the caller, non-blocking, close-on-exec) is the read end of a
 * pipe that reaches EOF when exec succeeds, or first carries a one-line description of
 * the setup step that failed ("exec /x: No such file or directory") before the child
 * exits with status 127.  Returns a negative errno when fork itself fails. */
int spawn_service(const struct service_config *config, unsigned instance, pid_t *ret_pid, int *ret_error_fd);

/* Read what a child reported over its error pipe into buf (empty string if nothing). */
void spawn_read_error(int error_fd, char *buf, size_t size);
