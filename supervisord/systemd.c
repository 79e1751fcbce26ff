/* systemd.c — see systemd.h.
 *
 * Notifications go through libsystemd's sd_notify(), which reads NOTIFY_SOCKET from the
 * environment on every call: the variable stays set in supervisord, and spawn.c removes
 * it (with LISTEN_* and WATCHDOG_*) from every service's environment, so a service never
 * speaks to the manager in supervisord's name.
 *
 * Readiness is decided after each loop iteration that changed a service, by an idle
 * priority deferred source: it runs after the service table's own deferred pass, which
 * may just have started services that waited for their `after` dependencies. */
#include "systemd.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "engine.h"
#include "events.h"
#include "log.h"
#include "spare.h"
#include "service.h"
#include "util.h"

/* STATUS= updates that only report progress are sent at most this often: a service that
 * crash-loops with restart-delay 0 must not become a stream of datagrams to PID 1. */
#define STATUS_MIN_INTERVAL USEC_PER_SEC

enum phase {
        PHASE_STARTING,  /* READY=1 not sent yet */
        PHASE_READY,
        PHASE_STOPPING,  /* STOPPING=1 sent: only STATUS= from here on */
};

static bool notify_enabled;              /* NOTIFY_SOCKET is set */
static bool waiting_for_start;           /* the first EVENT_SUPERVISOR_RUNNING came */
static bool reloading;                   /* RELOADING=1 sent, READY=1 not yet */
static bool send_failed;                 /* warned once about an unreachable manager */
static enum phase phase = PHASE_STARTING;
static sd_event *notify_event;
static sd_event_source *update_source;   /* owned: deferred readiness and status check */
static sd_event_source *status_timer;    /* owned: the rate limit's delayed STATUS= */
static sd_event_source *watchdog_timer;  /* owned */
static struct event_subscription *subscription;  /* owned by the bus */
static char *reload_path;                /* owned: the config file, for STATUS=Reloading */
static usec_t watchdog_interval;
static usec_t status_sent_at;
static char status_sent[256];            /* the last STATUS= text sent */

/* ---- socket activation ---- */

int systemd_take_listen_socket(int *ret_fd, char *path, size_t path_size, char *error, size_t error_size) {
        path[0] = '\0';
        int n = sd_listen_fds(1);
        if (n < 0) {
                snprintf(error, error_size, "socket activation: %s", strerror(-n));
                return n;
        }
        if (n == 0)
                return 0;
        if (n > 1) {
                /* A socket unit with several ListenStream= lines: guessing which one is the
                 * control socket would hide the mistake. */
                for (int fd = SD_LISTEN_FDS_START; fd < SD_LISTEN_FDS_START + n; fd++)
                        close(fd);
                snprintf(error, error_size, "socket activation: %d sockets passed, supervisord takes exactly one", n);
                return -EINVAL;
        }
        int fd = SD_LISTEN_FDS_START;
        int r = sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0);
        if (r <= 0) {
                close(fd);
                snprintf(error, error_size, "socket activation: fd %d is not a listening AF_UNIX stream socket", fd);
                return r < 0 ? r : -EINVAL;
        }
        /* sd_listen_fds() made it close-on-exec; accept() on a wake-up whose client is
         * already gone must not block the loop. */
        if ((r = fd_set_nonblocking(fd)) < 0) {
                close(fd);
                snprintf(error, error_size, "socket activation: fd %d: %s", fd, strerror(-r));
                return r;
        }
        struct sockaddr_un sa;
        socklen_t len = sizeof sa;
        if (getsockname(fd, (struct sockaddr *)&sa, &len) == 0 && len > offsetof(struct sockaddr_un, sun_path)) {
                size_t name_len = len - offsetof(struct sockaddr_un, sun_path);
                if (sa.sun_path[0] == '\0')  /* abstract: shown the way ss(8) does */
                        snprintf(path, path_size, "@%.*s", (int)name_len - 1, sa.sun_path + 1);
                else
                        snprintf(path, path_size, "%.*s", (int)strnlen(sa.sun_path, name_len), sa.sun_path);
        }
        *ret_fd = fd;
        return 1;
}

/* ---- notifications ---- */

/* "3 running, 1 backoff, 0 fatal", with the transient states only when there are some. */
static void format_summary(char *buf, size_t size) {
        size_t count[STATE_FATAL + 1] = { 0 };
        struct service *s;
        for (size_t i = 0; (s = services_get(i)); i++)
                if ((unsigned)service_state(s) < ELEMENTSOF(count))
                        count[service_state(s)]++;
        int n = snprintf(buf, size, "%s%zu running, %zu backoff, %zu fatal",
                         phase == PHASE_STOPPING ? "Stopping: " : phase == PHASE_STARTING ? "Starting: " : "",
                         count[STATE_RUNNING], count[STATE_BACKOFF], count[STATE_FATAL]);
        if (count[STATE_STARTING] && n >= 0 && (size_t)n < size)
                n += snprintf(buf + n, size - (size_t)n, ", %zu starting", count[STATE_STARTING]);
        if (count[STATE_STOPPING] && n >= 0 && (size_t)n < size)
                snprintf(buf + n, size - (size_t)n, ", %zu stopping", count[STATE_STOPPING]);
}

/* One datagram: STATE ("READY=1", ...; NULL for none) and the current summary. */
static void notify_send(const char *state) {
        char summary[sizeof status_sent];
        format_summary(summary, sizeof summary);
        int r = sd_notifyf(0, "%s%sSTATUS=%s", state ? state : "", state ? "\n" : "", summary);
        if (r < 0 && !send_failed) {
                send_failed = true;
                log_warning_errno(r, "sd_notify to %s", getenv("NOTIFY_SOCKET"));
        }
        snprintf(status_sent, sizeof status_sent, "%s", summary);
        status_sent_at = now_monotonic();
        if (status_timer)
                sd_event_source_set_enabled(status_timer, SD_EVENT_OFF);
}

static void status_update(void);

static int on_status_timer(sd_event_source *source, uint64_t usec, void *userdata) {
        (void)source;
        (void)usec;
        (void)userdata;
        status_update();
        return 0;
}

/* Send the summary if it changed, now or once STATUS_MIN_INTERVAL has passed since the
 * last one; what is sent then is the summary of that moment. */
static void status_update(void) {
        char summary[sizeof status_sent];
        format_summary(summary, sizeof summary);
        if (strcmp(summary, status_sent) == 0)
                return;
        usec_t due = status_sent_at + STATUS_MIN_INTERVAL;
        if (now_monotonic() >= due) {
                notify_send(NULL);
                return;
        }
        int r = status_timer ? sd_event_source_set_time(status_timer, due)
                             : sd_event_add_time(notify_event, &status_timer, CLOCK_MONOTONIC, due, USEC_PER_MSEC * 10,
                                                 on_status_timer, NULL);
        if (r >= 0)
                r = sd_event_source_set_enabled(status_timer, SD_EVENT_ONESHOT);
        if (r < 0)  /* a late status is better than none */
                notify_send(NULL);
}

static int on_update(sd_event_source *source, void *userdata) {
        (void)source;
        (void)userdata;
        if (phase == PHASE_STARTING && waiting_for_start && engine_autostart_settled()) {
                phase = PHASE_READY;
                log_debug("every autostart service has started or given up: READY=1");
                notify_send("READY=1");
                return 0;
        }
        status_update();
        return 0;
}

static void schedule_update(void) {
        if (update_source)
                sd_event_source_set_enabled(update_source, SD_EVENT_ONESHOT);
}

/* The autostart services have been asked to start: READY=1 follows once each has got as
 * far as it will on its own (see supervisord(8), SYSTEMD). */
static void systemd_notify_when_started(void) {
        waiting_for_start = true;
        schedule_update();
}

/* Around a reload: RELOADING=1 with MONOTONIC_USEC=, then READY=1 whatever the outcome. */
static void systemd_reloading(const char *config_path) {
        /* Before READY=1 there is no "ready" to leave: readiness is still being decided. */
        if (!notify_enabled || phase != PHASE_READY)
                return;
        reloading = true;
        /* MONOTONIC_USEC= lets the manager tell this reload from an earlier one. */
        int r = sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=Reloading %s",
                           (unsigned long long)now_monotonic(), config_path);
        if (r < 0)
                log_debug("sd_notify RELOADING=1: %s", strerror(-r));
}

static void systemd_reloaded(void) {
        if (!reloading)
                return;
        reloading = false;
        /* Even after a failed reload: the old configuration is in force, and the manager
         * must not wait for a READY=1 that never comes. */
        if (phase == PHASE_READY)
                notify_send("READY=1");
}

/* Shutdown has begun: STOPPING=1. */
static void systemd_stopping(void) {
        if (!notify_enabled || phase == PHASE_STOPPING)
                return;
        phase = PHASE_STOPPING;
        reloading = false;
        notify_send("STOPPING=1");
}

/* ---- watchdog ---- */

static int on_watchdog(sd_event_source *source, uint64_t usec, void *userdata) {
        (void)userdata;
        /* That this runs at all is what the manager wants to know: the loop is alive. */
        /* sd_notify() makes a socket for each message: out of descriptors, the spare is
         * what keeps the manager from killing a daemon that is alive. */
        bool gave_up_spare = spare_give_up();
        int r = sd_notify(0, "WATCHDOG=1");
        if (gave_up_spare)
                (void)spare_take();
        if (r < 0)
                log_debug("sd_notify WATCHDOG=1: %s", strerror(-r));
        /* From the planned time, not from now: a late wake-up does not push every later
         * keep-alive back. */
        if ((r = sd_event_source_set_time(source, usec + watchdog_interval)) < 0
            || (r = sd_event_source_set_enabled(source, SD_EVENT_ONESHOT)) < 0)
                log_error_errno(r, "cannot re-arm the watchdog timer");
        return 0;
}

/* Service events re-check the STATUS= summary (and readiness) once this loop iteration
 * is over; supervisord's own make the notifications. */
static void systemd_on_event(const struct event *e, void *userdata) {
        (void)userdata;
        switch (e->type) {
        case EVENT_SUPERVISOR_RUNNING:
                if (!waiting_for_start)  /* the first: supervisord has started */
                        systemd_notify_when_started();
                else
                        systemd_reloaded();
                break;
        case EVENT_SUPERVISOR_RELOADING:
                systemd_reloading(reload_path ? reload_path : "the configuration");
                break;
        case EVENT_SUPERVISOR_STOPPING:
                systemd_stopping();
                break;
        default:
                schedule_update();
                break;
        }
}

int systemd_start(sd_event *event, struct event_bus *bus, const char *config_path) {
        int r;
        notify_event = event;
        notify_enabled = getenv("NOTIFY_SOCKET") != NULL;
        free(reload_path);
        reload_path = strdup(config_path);  /* NULL on ENOMEM: said as "the configuration" */
        r = event_bus_subscribe(bus,
                                EVENT_MASK_SERVICE | EVENT_MASK(EVENT_SUPERVISOR_RUNNING)
                                        | EVENT_MASK(EVENT_SUPERVISOR_RELOADING) | EVENT_MASK(EVENT_SUPERVISOR_STOPPING),
                                systemd_on_event, NULL, &subscription);
        if (r < 0)
                return r;
        if (notify_enabled) {
                if ((r = sd_event_add_defer(event, &update_source, on_update, NULL)) < 0
                    || (r = sd_event_source_set_priority(update_source, SD_EVENT_PRIORITY_IDLE)) < 0
                    || (r = sd_event_source_set_enabled(update_source, SD_EVENT_OFF)) < 0)
                        return r;
        }

        uint64_t period;
        r = sd_watchdog_enabled(1, &period);
        if (r < 0)
                log_warning_errno(r, "WATCHDOG_USEC ignored");
        if (r <= 0)
                return 0;
        if (!notify_enabled) {
                log_warning("WATCHDOG_USEC is set but NOTIFY_SOCKET is not: no watchdog keep-alive");
                return 0;
        }
        /* Half the period, as systemd recommends: one late wake-up is not yet fatal. */
        watchdog_interval = period / 2;
        r = sd_event_add_time_relative(event, &watchdog_timer, CLOCK_MONOTONIC, watchdog_interval, USEC_PER_MSEC,
                                       on_watchdog, NULL);
        if (r < 0)
                return r;
        log_info("watchdog: WATCHDOG=1 every %.3gs", (double)watchdog_interval / USEC_PER_SEC);
        return 0;
}

void systemd_stop(void) {
        subscription = event_unsubscribe(subscription);
        free(reload_path);
        reload_path = NULL;
        update_source = sd_event_source_disable_unref(update_source);
        status_timer = sd_event_source_disable_unref(status_timer);
        watchdog_timer = sd_event_source_disable_unref(watchdog_timer);
        notify_event = NULL;
}
