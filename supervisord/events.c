/* events.c — see events.h.
 *
 * Subscriptions are a list in subscription order.  Delivery walks it while a depth count
 * says a walk is under way: a subscription ended then is only marked dead (skipped from
 * then on) and freed once the outermost walk is over, so no walk ever follows a freed
 * link; one added then is appended, and skips the events numbered before it. */
#include "events.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

struct event_subscription {
        struct event_bus *bus;
        struct event_subscription *next;  /* owned by the bus's list */
        uint32_t mask;
        event_handler_t handler;
        void *userdata;
        uint64_t since;                   /* the number of the last event before it */
        bool dead;                        /* ended during a delivery: freed after it */
};

struct event_bus {
        struct event_subscription *head, *tail;  /* owned */
        unsigned depth;                          /* deliveries under way (nested publishes) */
        bool has_dead;
        uint64_t published;                      /* events numbered so far */
        size_t live;
};

static const char *const type_names[] = {
        [EVENT_SERVICE_STATE] = "service-state",
        [EVENT_SERVICE_PENDING] = "service-pending",
        [EVENT_SERVICE_REMOVED] = "service-removed",
        [EVENT_GROUP_ADDED] = "group-added",
        [EVENT_GROUP_REMOVED] = "group-removed",
        [EVENT_SUPERVISOR_RUNNING] = "supervisor-running",
        [EVENT_SUPERVISOR_RELOADING] = "supervisor-reloading",
        [EVENT_SUPERVISOR_STOPPING] = "supervisor-stopping",
        [EVENT_SUPERVISOR_STOPPED] = "supervisor-stopped",
};

static const char *const cause_names[] = {
        [EVENT_CAUSE_NONE] = "none",
        [EVENT_CAUSE_SPAWNED] = "spawned",
        [EVENT_CAUSE_STARTED] = "started",
        [EVENT_CAUSE_READY] = "ready",
        [EVENT_CAUSE_EXITED] = "exited",
        [EVENT_CAUSE_STOP_REQUESTED] = "stop-requested",
        [EVENT_CAUSE_HEARTBEAT_MISSED] = "heartbeat-missed",
        [EVENT_CAUSE_TIMEOUT] = "timeout",
        [EVENT_CAUSE_SPAWN_ERROR] = "spawn-error",
        [EVENT_CAUSE_CONFIG_CHANGE] = "config-change",
};

const char *event_type_to_string(enum event_type type) {
        return (unsigned)type < ELEMENTSOF(type_names) && type_names[type] ? type_names[type] : "unknown";
}

const char *event_cause_to_string(enum event_cause cause) {
        return (unsigned)cause < ELEMENTSOF(cause_names) && cause_names[cause] ? cause_names[cause] : "unknown";
}

int event_bus_new(struct event_bus **ret) {
        struct event_bus *bus = calloc(1, sizeof *bus);
        if (!bus)
                return -ENOMEM;
        *ret = bus;
        return 0;
}

struct event_bus *event_bus_free(struct event_bus *bus) {
        if (!bus)
                return NULL;
        for (struct event_subscription *s = bus->head, *next; s; s = next) {
                next = s->next;
                free(s);
        }
        free(bus);
        return NULL;
}

int event_bus_subscribe(struct event_bus *bus, uint32_t mask, event_handler_t handler, void *userdata,
                        struct event_subscription **ret) {
        struct event_subscription *s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        *s = (struct event_subscription){
                .bus = bus, .mask = mask, .handler = handler, .userdata = userdata, .since = bus->published,
        };
        if (bus->tail)
                bus->tail->next = s;
        else
                bus->head = s;
        bus->tail = s;
        bus->live++;
        if (ret)
                *ret = s;
        return 0;
}

static void bus_unlink(struct event_bus *bus, struct event_subscription *s) {
        struct event_subscription *prev = NULL;
        for (struct event_subscription *p = bus->head; p; prev = p, p = p->next)
                if (p == s) {
                        if (prev)
                                prev->next = s->next;
                        else
                                bus->head = s->next;
                        if (bus->tail == s)
                                bus->tail = prev;
                        break;
                }
}

struct event_subscription *event_unsubscribe(struct event_subscription *s) {
        if (!s || s->dead)
                return NULL;
        struct event_bus *bus = s->bus;
        bus->live--;
        if (bus->depth > 0) {
                s->dead = true;
                bus->has_dead = true;
                return NULL;
        }
        bus_unlink(bus, s);
        free(s);
        return NULL;
}

static void bus_sweep(struct event_bus *bus) {
        struct event_subscription *prev = NULL;
        for (struct event_subscription *s = bus->head, *next; s; s = next) {
                next = s->next;
                if (!s->dead) {
                        prev = s;
                        continue;
                }
                if (prev)
                        prev->next = next;
                else
                        bus->head = next;
                if (bus->tail == s)
                        bus->tail = prev;
                free(s);
        }
        bus->has_dead = false;
}

static usec_t clock_usec(clockid_t clock) {
        struct timespec ts;
        clock_gettime(clock, &ts);
        return (usec_t)ts.tv_sec * USEC_PER_SEC + (usec_t)ts.tv_nsec / 1000;
}

void event_bus_publish(struct event_bus *bus, struct event *event) {
        if (event->monotonic == 0)
                event->monotonic = clock_usec(CLOCK_MONOTONIC);
        if (event->realtime == 0)
                event->realtime = clock_usec(CLOCK_REALTIME);
        if (!bus)
                return;
        uint64_t number = ++bus->published;
        uint32_t bit = EVENT_MASK(event->type);
        bus->depth++;
        /* The tail may grow meanwhile; what is added skips this event by its number. */
        for (struct event_subscription *s = bus->head; s; s = s->next)
                if (!s->dead && (s->mask & bit) && s->since < number)
                        s->handler(event, s->userdata);
        if (--bus->depth == 0 && bus->has_dead)
                bus_sweep(bus);
}

size_t event_bus_subscribers(const struct event_bus *bus) { return bus ? bus->live : 0; }
