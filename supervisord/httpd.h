/* httpd.h — the root side of the HTTP interface (supervisord's XML-RPC): the privilege
 * separation of OpenBSD's daemons.
 *
 * supervisord binds the HTTP sockets itself (http-socket with its mode and owner,
 * http-listen), then runs the front-end, supervisord-http (supervisord/http/), as
 * http-user in a session of its own with those sockets and one end of a socketpair, the
 * channel, as its only descriptors.  The front-end parses HTTP and XML; supervisord never
 * does.  Over the channel the front-end asks for connections to the control server: for
 * each, supervisord makes a socketpair, serves one end as a control client
 * (control_adopt) and passes the other back, so every request is a line-protocol request
 * like supervisorctl's, with every rule in the engine.  The first message on the channel
 * is the front-end's settings (the credentials, which are not put on a command line or in
 * an environment other processes of its user could read).  supervisord supervises the
 * front-end: when the channel ends (the front-end died) it is killed if need be and
 * started again after a delay that doubles up to HTTPD_RESTART_MAX; nothing else is
 * disturbed. */
#pragma once

#include <systemd/sd-event.h>

#include "config.h"

#define HTTPD_PROGRAM "supervisord-http"
#define HTTPD_RESTART_MIN (100 * USEC_PER_MSEC)
#define HTTPD_RESTART_MAX (30 * USEC_PER_SEC)
/* A front-end that ran this long before it died starts again after HTTPD_RESTART_MIN. */
#define HTTPD_STABLE (10 * USEC_PER_SEC)

/* Channel messages, each one SOCK_SEQPACKET datagram. */
#define HTTPD_MSG_CONNECT 'C'   /* front-end: a control connection, please (answered with its fd) */
#define HTTPD_MSG_SETTINGS 'S'  /* supervisord, first: "S" then NUL-separated key=value */
#define HTTPD_MSG_ADOPT 'A'     /* supervisord: an HTTP client of the control socket (with its fd) */
#define HTTPD_MSG_STOPPING 'T'  /* supervisord: it is shutting down (no fd) */
#define HTTPD_MAX_MESSAGE 4096

/* Bind CONFIG's HTTP sockets and start the front-end, if CONFIG has an HTTP interface.
 * On failure a negative errno with a message in error. */
int httpd_start(sd_event *event, const struct config *config, char *error, size_t error_size);

/* The front-end's pid, 0 when none runs. */
pid_t httpd_pid(void);

/* supervisord has begun to shut down: the front-end answers supervisor.* calls with
 * SHUTDOWN_STATE from now on, as supervisord's (a front-end started again is told too). */
void httpd_shutting_down(void);

/* Stop the front-end, close the sockets and unlink the unix one. */
void httpd_stop(void);
