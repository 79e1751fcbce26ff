/* systemd.h — supervisord as a service of systemd (or of any manager that speaks its
 * protocols): the control socket handed over by socket activation, sd_notify readiness,
 * status and reload notifications, and the watchdog keep-alive.
 *
 * systemd.c owns its sd-event sources and its subscription to the event bus, nothing
 * else.  Without NOTIFY_SOCKET, LISTEN_FDS and WATCHDOG_USEC in the environment every
 * function here does nothing, so main.c calls them unconditionally. */
#pragma once

#include <stddef.h>
#include <systemd/sd-event.h>

#include "events.h"

/* Socket activation: when the service manager passed this process a socket (LISTEN_FDS
 * and LISTEN_PID, which the call removes from the environment), check that it is exactly
 * one listening AF_UNIX stream socket and return 1 with it in *ret_fd (non-blocking,
 * close-on-exec, owned by the caller from now on) and its path in path ("" when it has
 * none to show).  0 when nothing was passed.  A negative errno with a message in error
 * when what was passed cannot serve as the control socket.  Call it before daemonizing:
 * LISTEN_PID names the process the manager started. */
int systemd_take_listen_socket(int *ret_fd, char *path, size_t path_size, char *error, size_t error_size);

/* Start the watchdog keep-alive (WATCHDOG_USEC, when WATCHDOG_PID is unset or ours) and
 * the status updates on EVENT, subscribed to BUS: service events update the STATUS=
 * summary; EVENT_SUPERVISOR_RUNNING (the first: READY=1 once the autostart services have
 * got as far as they will on their own; later ones end a reload with READY=1),
 * EVENT_SUPERVISOR_RELOADING (RELOADING=1, naming CONFIG_PATH) and
 * EVENT_SUPERVISOR_STOPPING (STOPPING=1) the notifications. */
int systemd_start(sd_event *event, struct event_bus *bus, const char *config_path);
/* Drop every event source (at exit). */
void systemd_stop(void);
