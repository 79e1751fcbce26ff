/* statelog.h — the lines Python supervisord writes about its processes' state changes,
 * worded as it words them ("spawned: 'web' with pid 42", "success: web entered RUNNING
 * state, ...", "exited: web (exit status 1; not expected)", "gave up: ...", "stopped:
 * web (terminated by SIGTERM)", "waiting for web to stop"), since people's log alerts
 * grep for them.  A subscriber of the event bus: the state machine has no call for them. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct event_bus;

int statelog_start(struct event_bus *bus);
void statelog_stop(void);

/* How Python supervisord says a wait status: "exit status 1", "terminated by SIGTERM",
 * "terminated by SIGSEGV (core dumped)". */
void statelog_describe_wait_status(int wait_status, char *buf, size_t size);
