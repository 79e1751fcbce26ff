/* systemd.h — supervisord as a service of systemd (or of any manager that speaks its
 * protocols): the control socket handed over by socket activation, sd_notify readiness,
 * status and reload notifications, and the watchdog keep-alive.
 *
 * systemd.c owns its sd-event sources and nothing else.  Without NOTIFY_SOCKET,
 * LISTEN_FDS and WATCHDOG_USEC in the environment every function here does nothing, so
 * main.c calls them unconditionally. */
#pragma once

#include <stddef.h>
#include <systemd/sd-event.h>

/* Socket activation: when the service manager passed this process a socket (LISTEN_FDS
 * and LISTEN_PID, which the call removes from the environment), check that it is exactly
 * one listening AF_UNIX stream socket and return 1 with it in *ret_fd (non-blocking,
 * close-on-exec, owned by the caller from now on) and its path in path ("" when it has
 * none to show).  0 when nothing was passed.  A negative errno with a message in error
 * when what was passed cannot serve as the control socket.  Call it before daemonizing:
 * LISTEN_PID names the process the manager started. */
int systemd_take_listen_socket(int *ret_fd, char *path, size_t path_size, char *error, size_t error_size);

/* Start the watchdog keep-alive (WATCHDOG_USEC, when WATCHDOG_PID is unset or ours) and
 * the status updates on EVENT. */
int systemd_start(sd_event *event);
/* Drop every event source (at exit). */
void systemd_stop(void);

/* The autostart services have been asked to start: READY=1 follows once each has got as
 * far as it will on its own (see supervisord(8), SYSTEMD). */
void systemd_notify_when_started(void);
/* A service changed state: the STATUS= summary (and readiness) is re-checked once this
 * loop iteration is over. */
void systemd_on_service_event(void);
/* Around a reload: RELOADING=1 with MONOTONIC_USEC=, then READY=1 whatever the outcome. */
void systemd_reloading(const char *config_path);
void systemd_reloaded(void);
/* Shutdown has begun: STOPPING=1. */
void systemd_stopping(void);
