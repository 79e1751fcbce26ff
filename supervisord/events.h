/* events.h — the event bus: typed events, any number of subscribers.
 *
 * events.c holds the subscriptions and delivers each published event to every one whose
 * mask has its type, synchronously, in the order they subscribed.  The service table
 * (service.c) publishes every transition of a service with its cause and time, the
 * processes and groups it adds and removes; main.c and the engine (engine.c) publish the
 * state of supervisord itself.  Subscribers: the engine (its waiting operations), the
 * systemd status (systemd.c), the control server (its clients waiting for shutdown),
 * main.c (the end of a shutdown).  A new listener is a subscription, not a new call site.
 *
 * A handler may publish, subscribe and unsubscribe (itself or any other) while an event
 * is being delivered: a subscription removed then gets nothing more, one added then gets
 * only the events published after it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct service;

enum event_type {
        EVENT_SERVICE_STATE,         /* a service's transition: from, to, cause */
        EVENT_SERVICE_PENDING,       /* a start or stop was put off, or the wait given up, without a transition */
        EVENT_SERVICE_REMOVED,       /* a process is about to be freed: drop every pointer to it */
        EVENT_GROUP_ADDED,           /* a service (all its instances) is in the table */
        EVENT_GROUP_REMOVED,         /* its last process is gone from the table */
        EVENT_SUPERVISOR_RUNNING,    /* started, or done reloading */
        EVENT_SUPERVISOR_RELOADING,  /* a reload (update, restart of everything) begins */
        EVENT_SUPERVISOR_STOPPING,   /* shutdown has begun */
        EVENT_SUPERVISOR_STOPPED,    /* every service is stopped: supervisord exits next */
        EVENT_TYPE_MAX,
};

#define EVENT_MASK(type) (UINT32_C(1) << (type))
#define EVENT_MASK_SERVICE (EVENT_MASK(EVENT_SERVICE_STATE) | EVENT_MASK(EVENT_SERVICE_PENDING) \
                            | EVENT_MASK(EVENT_SERVICE_REMOVED))
#define EVENT_MASK_ALL ((UINT32_C(1) << EVENT_TYPE_MAX) - 1)

/* Why a service changed state. */
enum event_cause {
        EVENT_CAUSE_NONE,
        EVENT_CAUSE_SPAWNED,           /* a process was made (start, retry, restart after a hang) */
        EVENT_CAUSE_STARTED,           /* it stayed up start-secs */
        EVENT_CAUSE_READY,             /* type = notify: READY=1 */
        EVENT_CAUSE_EXITED,            /* its process exited: wait_status says how (a restart at once too) */
        EVENT_CAUSE_STOP_REQUESTED,    /* by a request, an ordered stop or shutdown */
        EVENT_CAUSE_HEARTBEAT_MISSED,  /* declared hung */
        EVENT_CAUSE_TIMEOUT,           /* no READY=1 in ready-timeout, no daemon after start-secs (forking) */
        EVENT_CAUSE_SPAWN_ERROR,       /* no process could be made */
        EVENT_CAUSE_CONFIG_CHANGE,     /* a reload changed or removed its definition */
};

const char *event_type_to_string(enum event_type type);
const char *event_cause_to_string(enum event_cause cause);

struct event {
        enum event_type type;
        usec_t monotonic;             /* CLOCK_MONOTONIC; filled by event_bus_publish() when 0 */
        usec_t realtime;              /* CLOCK_REALTIME, likewise */
        struct service *service;      /* EVENT_SERVICE_* */
        const char *group;            /* EVENT_GROUP_*: the service's name */
        int from, to;                 /* EVENT_SERVICE_STATE: enum service_state */
        enum event_cause cause;       /* EVENT_SERVICE_STATE */
        bool has_wait_status;         /* EVENT_CAUSE_EXITED: wait_status is meaningful */
        int wait_status;              /* as from waitpid() */
        int pid;                      /* EVENT_SERVICE_STATE: the main process after it, 0 if none */
        int exited_pid;               /* ... with has_wait_status: the process that exited */
};

struct event_bus;
struct event_subscription;

typedef void (*event_handler_t)(const struct event *event, void *userdata);

int event_bus_new(struct event_bus **ret);
/* Frees every subscription still there (their handles are invalid from then on). */
struct event_bus *event_bus_free(struct event_bus *bus);

/* HANDLER gets every event whose type is in MASK (EVENT_MASK(...) | ...).  *ret is the
 * handle for event_unsubscribe(), owned by the bus. */
int event_bus_subscribe(struct event_bus *bus, uint32_t mask, event_handler_t handler, void *userdata,
                        struct event_subscription **ret);
/* Ends SUBSCRIPTION (NULL is fine); returns NULL. */
struct event_subscription *event_unsubscribe(struct event_subscription *subscription);

/* Deliver EVENT to every subscriber (BUS may be NULL: then to none). */
void event_bus_publish(struct event_bus *bus, struct event *event);
/* How many subscriptions are live. */
size_t event_bus_subscribers(const struct event_bus *bus);
