/* spawn.h — start one service process with its documented setup: own session, clean fds,
 * signals reset, user/groups, umask, nice, limits, directory and environment.  Owns a few
 * reserved low descriptors (spawn_init) and, for each child until it has exec'd, the
 * memory it runs in. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "config.h"

/* What a particular process gets beyond its config.  Fds are borrowed: the caller keeps
 * (and closes) them; the child gets copies. */
struct spawn_options {
        unsigned instance;             /* SUPERVISOR_INSTANCE */
        const char *process_name;      /* SUPERVISOR_PROCESS_NAME, as `status` shows it without
                                        * its group (web@2, worker_03); NULL: the config's name */
        int stdin_fd;                  /* -1: /dev/null */
        int stdout_fd, stderr_fd;      /* -1: supervisord's own */
        int extra_fds[4];              /* become fds 3, 4, ... in the child */
        unsigned n_extra_fds;
        char *const *extra_env;        /* NULL-terminated "KEY=VALUE" list, or NULL; these win
                                        * over the config's environment */
        int cgroup_fd;                 /* -1, or a cgroup.procs the child joins first (cgroup.h) */
};

#define SPAWN_OPTIONS_INIT { .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1, .cgroup_fd = -1 }

/* Once, after supervisord's own signal dispositions are final and before anything opens
 * many descriptors: reserves the low descriptors a spawn passes through and notes which
 * signals a child must reset.  EVENT (borrowed) runs a timer now and then.  Every service
 * gets SUPERVISOR_PIDFILE=PIDFILE (copied), by which the next supervisord knows what this
 * one left behind (leftovers.h). */
int spawn_init(sd_event *event, const char *pidfile);
/* Every service spawned from now on gets SUPERVISOR_SERVER_URL=URL (copied), where
 * supervisord's XML-RPC interface answers (config_server_url); NULL: none gets it. */
int spawn_set_server_url(const char *url);
/* At exit: what spawn_init and the spawns kept. */
void spawn_free(void);

/* Start CONFIG's command with OPTIONS.  Returns a negative errno when no process could be
 * made (clone failed, too many children still on their way to exec, or spawn_init was not
 * called).  Otherwise *ret_pid is the child, which goes on to exec on its own; if a setup
 * step fails, it exits with status 127, and the message saying which
 * ("exec /x: No such file or directory") is had once it is reaped:
 *   *ret_error_fd is -1: from spawn_collect();
 *   *ret_error_fd >= 0 (a plain fork, under valgrind; owned by the caller, non-blocking,
 *   close-on-exec): from spawn_read_error() on that pipe, which reaches end of file when
 *   exec succeeds. */
int spawn_service(const struct service_config *config, const struct spawn_options *options, pid_t *ret_pid,
                  int *ret_error_fd);

/* PID, spawned by spawn_service(), has been reaped: the message of the step it failed at
 * into buf (empty if it exec'd), and what the spawn kept for it is freed.  Any pid may be
 * passed; one not spawned here gives an empty message.  True when the failure is one a
 * retry would meet again (the command is missing or not executable, the user cannot be
 * switched to): what to do about it is the caller's to decide. */
bool spawn_collect(pid_t pid, char *buf, size_t size);

/* Raise supervisord's own soft RLIMIT_NOFILE to the hard limit (every service holds a
 * few of its fds: pipes, log files), remembering the original, which every service
 * without limit-nofile gets back. */
int spawn_raise_nofile(void);

/* Read what a forked child of CONFIG reported over its error pipe into buf as a message
 * (empty string if nothing); true as for spawn_collect(). */
bool spawn_read_error(int error_fd, const struct service_config *config, char *buf, size_t size);
