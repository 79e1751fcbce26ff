/* control.h — the control server: the unix socket supervisorctl talks to, a front-end of
 * the engine (engine.h).
 *
 * control.c owns the listening socket and every client connection, parses the line
 * protocol (protocol.h), hands actions to the engine and formats what it reports.  It
 * never blocks: each client has a bounded input buffer and its own output buffer, and a
 * request that waits for an outcome (start, stop, restart, shutdown) is parked, holding
 * the engine's handle, which is cancelled if the client goes away. */
#pragma once

#include <stddef.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "engine.h"
#include "service.h"

#define CONTROL_MAX_CLIENTS 256
#define CONTROL_MAX_OUTPUT (16u << 20)
#define CONTROL_REQUEST_TIMEOUT (10 * USEC_PER_SEC)
#define CONTROL_WRITE_TIMEOUT (30 * USEC_PER_SEC)
/* Out of descriptors: how long the listening socket rests before accept is tried again
 * (sooner when a client goes), and how long without a failed accept ends the shortage. */
#define CONTROL_FD_RETRY (250 * USEC_PER_MSEC)
#define CONTROL_FD_QUIET (5 * USEC_PER_SEC)
/* tail -f: a client with more than this unsent (beyond what the kernel's socket buffer
 * took) cannot keep up, and is dropped rather than buffered without end.  With the tail's
 * step (LOG_TAIL_STEP) and its bookkeeping, a client following a log costs supervisord
 * less than CONTROL_CLIENT_MEMORY_MAX, documented in supervisord(8). */
#define CONTROL_MAX_FOLLOW_BACKLOG (128u << 10)
#define CONTROL_CLIENT_MEMORY_MAX (192u << 10)

/* Bind and listen on CONFIG's socket with its mode and group.  A socket file left by a
 * dead daemon is replaced; one that still answers is not, nor a file that is no socket.
 * The socket's directory must be one no other user can change (safepath.h: DIR_UNSAFE is
 * refused, DIR_SHARED a warning); the socket is complete, mode and group, in a private
 * directory before it is renamed into place.  On failure returns a negative
 * errno and writes a message into error.  The fd is close-on-exec and owned by the caller
 * until passed to control_start(). */
int control_listen(const struct config *config, int *ret_fd, char *error, size_t error_size);
/* The same for any unix socket PATH, with MODE and owner UID:GID ((uid_t)-1 and (gid_t)-1:
 * left as made); the HTTP interface's socket is made so. */
int control_listen_unix(const char *path, mode_t mode, uid_t uid, gid_t gid, int *ret_fd, char *error,
                        size_t error_size);

/* Serve FD, a connected stream socket, as a client that may send any request, whoever
 * its peer is: the HTTP front-end's connections, made by supervisord (httpd.c) after
 * the front-end authenticated its own clients.  FD is owned by the control server. */
int control_adopt(int fd);

/* Serve HTTP on the control socket too (socket-http): a connection whose first byte is an
 * upper-case letter (an HTTP method; requests of the protocol begin in lower case) is
 * given to HANDOFF, which passes FD on, then closes here, and returns true; false: it is
 * served as ours (and refused for a bad request).  NULL: our protocol only. */
void control_set_http_handoff(bool (*handoff)(int fd));

/* What the control server asks of the rest of supervisord. */
struct control_handlers {
        /* Begin shutting down; control_shutdown_complete() is called once it is over. */
        void (*shutdown)(void);
        /* Carries out every other action (start, stop, restart, signal, reload). */
        struct engine *engine;
        /* Where avail reads the config file, off the loop. */
        struct config_loader *loader;
        /* EVENT_SUPERVISOR_STOPPED ends the clients waiting for shutdown, and tail -f. */
        struct event_bus *bus;
};

/* Serve LISTEN_FD (now owned by the control server) on EVENT. */
int control_start(sd_event *event, int listen_fd, const struct control_handlers *handlers);

/* Who besides root and supervisord's own user may send requests: members of GID. */
void control_allow_group(bool enabled, gid_t gid);

/* Close every connection and the listening socket; unlink PATH if given. */
void control_stop(const char *unlink_path);
