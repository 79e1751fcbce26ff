/* cgroup.h — the cgroup v2 mode: each service process in a cgroup of its own, NAME.service
 * under a subtree supervisord was given (its own cgroup when delegated to it, or the
 * `cgroup` path of the config), so that whatever a service starts — setsid children,
 * forking daemons — stays countable and killable, even by the next supervisord after a
 * crash.  Without such a subtree supervisord runs in the process-group mode
 * (leftovers.h) and every call here but cgroup_setup() does nothing. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* At start, before any service runs: decide the mode from the config's, log which it is,
 * and kill what a previous supervisord left in the cgroups of its services.  Returns 0
 * (in either mode), or a negative errno with a message in error when an explicit path
 * cannot be used. */
int cgroup_setup(enum cgroup_mode mode, const char *path, char *error, size_t error_size);
/* Services run in cgroups. */
bool cgroup_enabled(void);

/* The cgroup.procs of NAME's cgroup (made when missing), open for writing: a spawned
 * child writes "0" to it to join.  Owned by the caller; a negative errno on failure. */
int cgroup_open_procs(const char *name);
/* Send SIG to every process in NAME's cgroup (SIGKILL: cgroup.kill where the kernel has
 * it).  Returns how many were signalled (for SIGKILL through cgroup.kill, how many were
 * there), 0 when none or no cgroup mode. */
int cgroup_signal(const char *name, int sig);
/* Some process is in NAME's cgroup. */
bool cgroup_populated(const char *name);
/* What NAME's cgroup has used: memory.current (bytes) and cpu.stat usage_usec; each
 * false when the kernel does not say (no memory controller in the subtree). */
bool cgroup_memory(const char *name, uint64_t *ret_bytes);
bool cgroup_cpu_usec(const char *name, uint64_t *ret_usec);
/* NAME's cgroup, empty, is not needed any more (the service was removed, or supervisord
 * exits). */
void cgroup_remove(const char *name);
/* At exit. */
void cgroup_free(void);
