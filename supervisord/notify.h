/* notify.h — readiness and status from services of type = notify, over the sd_notify
 * datagram protocol, so that systemd-notify(1) and anything using libsystemd's
 * sd_notify() work unchanged.
 *
 * notify.c owns one socket per service *process* (an abstract-namespace address unique to
 * it, passed as NOTIFY_SOCKET), so the socket itself says which process a message is
 * about — no racy lookup of a sender that may already have exited.  It also decides who
 * may speak on it: only a sender in the process's session (every service runs in its own)
 * or its main pid, as the kernel reports it with SCM_CREDENTIALS.  Every fd that comes
 * with a message (BARRIER=1's, or anything else) is closed at once. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

/* Longest datagram accepted (as systemd); longer ones are dropped whole. */
#define NOTIFY_MAX_MESSAGE 4096
#define NOTIFY_MAX_STATUS 256

struct notify;

/* What one datagram said; assignments it does not know are ignored. */
struct notify_message {
        bool ready;              /* READY=1 */
        bool stopping;           /* STOPPING=1 */
        bool reloading;          /* RELOADING=1 */
        bool watchdog;           /* WATCHDOG=1 */
        bool barrier;            /* BARRIER=1 (its fd is already closed) */
        bool has_status;
        char status[NOTIFY_MAX_STATUS];  /* STATUS=..., cut to fit */
        pid_t main_pid;          /* MAINPID=, 0 when absent or not a pid */
};

/* Called for every accepted datagram, with the sender's pid.  The callee may
 * notify_free() NOTIFY. */
typedef void (*notify_handler_t)(struct notify *notify, const struct notify_message *message, pid_t sender,
                                 void *userdata);

/* Bind a fresh socket for one process.  *ret is owned by the caller (notify_free()).
 * NAME is only for messages and is copied. */
int notify_new(sd_event *event, const char *name, notify_handler_t handler, void *userdata, struct notify **ret);

/* "NOTIFY_SOCKET=@..." for the process's environment; valid while NOTIFY lives. */
const char *notify_environment(const struct notify *notify);

/* The spawned process: its pid is also its session id.  Before this, nothing is accepted. */
void notify_set_session(struct notify *notify, pid_t session);
/* The main pid changed (MAINPID=): it may speak too, even from outside the session. */
void notify_set_main_pid(struct notify *notify, pid_t pid);

/* Close the socket; NULL is fine.  Returns NULL. */
struct notify *notify_free(struct notify *notify);

/* ---- pure parts (unit-tested) ---- */

/* Parse one datagram of LEN bytes: newline-separated KEY=VALUE assignments. */
void notify_parse(const char *buf, size_t len, struct notify_message *ret);
