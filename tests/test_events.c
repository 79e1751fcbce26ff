/* test_events.c — unit tests of the event bus (events.c): delivery in subscription order
 * by mask, the times it stamps, and subscribing, unsubscribing and publishing from inside
 * a handler.  No daemon, no event loop. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "events.h"
#include "harness.h"

/* What a recording subscriber saw: a log of "TAG:TYPE" entries shared by all of them. */
static char seen[1024];

struct recorder {
        const char *tag;
        struct event_bus *bus;
        struct event_subscription *sub;
        /* What to do on the next event, once. */
        struct event_subscription **unsubscribe;  /* end this one */
        struct recorder *subscribe;               /* subscribe this one (to everything) */
        bool publish_nested;                      /* publish an EVENT_GROUP_ADDED */
        unsigned count;
        struct event last;
};

static void record(const struct event *e, void *userdata) {
        struct recorder *r = userdata;
        r->count++;
        r->last = *e;
        size_t len = strlen(seen);
        snprintf(seen + len, sizeof seen - len, "%s%s:%s", len ? " " : "", r->tag, event_type_to_string(e->type));
        if (r->unsubscribe) {
                struct event_subscription **victim = r->unsubscribe;
                r->unsubscribe = NULL;
                *victim = event_unsubscribe(*victim);
        }
        if (r->subscribe) {
                struct recorder *newcomer = r->subscribe;
                r->subscribe = NULL;
                ck_assert_int_eq(event_bus_subscribe(r->bus, EVENT_MASK_ALL, record, newcomer, &newcomer->sub), 0);
        }
        if (r->publish_nested) {
                r->publish_nested = false;
                struct event nested = { .type = EVENT_GROUP_ADDED, .group = "nested" };
                event_bus_publish(r->bus, &nested);
        }
}

static struct event_bus *bus;

static void setup(void) {
        seen[0] = '\0';
        ck_assert_int_eq(event_bus_new(&bus), 0);
}

static void teardown(void) { bus = event_bus_free(bus); }

static void publish(enum event_type type) {
        struct event e = { .type = type };
        event_bus_publish(bus, &e);
}

static void subscribe(struct recorder *r, uint32_t mask) {
        r->bus = bus;
        ck_assert_int_eq(event_bus_subscribe(bus, mask, record, r, &r->sub), 0);
}

START_TEST(test_delivery_in_order_by_mask) {
        struct recorder a = { .tag = "a" }, b = { .tag = "b" }, c = { .tag = "c" };
        subscribe(&a, EVENT_MASK_ALL);
        subscribe(&b, EVENT_MASK(EVENT_SUPERVISOR_STOPPING));
        subscribe(&c, EVENT_MASK_SERVICE);
        ck_assert_uint_eq(event_bus_subscribers(bus), 3);
        publish(EVENT_SERVICE_STATE);
        publish(EVENT_SUPERVISOR_STOPPING);
        publish(EVENT_SERVICE_REMOVED);
        publish(EVENT_GROUP_ADDED);
        ck_assert_str_eq(seen, "a:service-state c:service-state a:supervisor-stopping b:supervisor-stopping "
                               "a:service-removed c:service-removed a:group-added");
}
END_TEST

START_TEST(test_fields_and_times) {
        struct recorder a = { .tag = "a" };
        subscribe(&a, EVENT_MASK_ALL);
        struct service *fake = (struct service *)&a;  /* never dereferenced by the bus */
        struct event e = {
                .type = EVENT_SERVICE_STATE, .service = fake, .from = 1, .to = 3, .cause = EVENT_CAUSE_EXITED,
                .has_wait_status = true, .wait_status = 256,
        };
        time_t before = time(NULL);
        event_bus_publish(bus, &e);
        ck_assert_uint_eq(a.count, 1);
        ck_assert_ptr_eq(a.last.service, fake);
        ck_assert_int_eq(a.last.from, 1);
        ck_assert_int_eq(a.last.to, 3);
        ck_assert_int_eq(a.last.cause, EVENT_CAUSE_EXITED);
        ck_assert(a.last.has_wait_status);
        ck_assert_int_eq(a.last.wait_status, 256);
        /* Stamped on the way: the monotonic clock, and the wall clock of now. */
        ck_assert_uint_gt(a.last.monotonic, 0);
        ck_assert_uint_ge(a.last.realtime / USEC_PER_SEC, (usec_t)before);
        ck_assert_uint_le(a.last.realtime / USEC_PER_SEC, (usec_t)time(NULL));
        /* The publisher's own times are kept. */
        struct event stamped = { .type = EVENT_GROUP_REMOVED, .monotonic = 42, .realtime = 43 };
        event_bus_publish(bus, &stamped);
        ck_assert_uint_eq(a.last.monotonic, 42);
        ck_assert_uint_eq(a.last.realtime, 43);
}
END_TEST

START_TEST(test_unsubscribe_self_during_delivery) {
        struct recorder a = { .tag = "a" }, b = { .tag = "b" };
        subscribe(&a, EVENT_MASK_ALL);
        subscribe(&b, EVENT_MASK_ALL);
        a.unsubscribe = &a.sub;
        publish(EVENT_GROUP_ADDED);
        ck_assert_ptr_null(a.sub);
        ck_assert_uint_eq(event_bus_subscribers(bus), 1);
        publish(EVENT_GROUP_REMOVED);
        /* b still got the event a left during, and a nothing after it left. */
        ck_assert_str_eq(seen, "a:group-added b:group-added b:group-removed");
}
END_TEST

START_TEST(test_unsubscribe_later_one_during_delivery) {
        struct recorder a = { .tag = "a" }, b = { .tag = "b" }, c = { .tag = "c" };
        subscribe(&a, EVENT_MASK_ALL);
        subscribe(&b, EVENT_MASK_ALL);
        subscribe(&c, EVENT_MASK_ALL);
        a.unsubscribe = &b.sub;  /* b has not had this event yet: it never gets it */
        publish(EVENT_GROUP_ADDED);
        publish(EVENT_GROUP_REMOVED);
        ck_assert_str_eq(seen, "a:group-added c:group-added a:group-removed c:group-removed");
        ck_assert_uint_eq(b.count, 0);
        /* Ending the last one (the tail) during a delivery leaves a list that still grows. */
        a.unsubscribe = &c.sub;
        publish(EVENT_SUPERVISOR_RUNNING);
        struct recorder d = { .tag = "d" };
        subscribe(&d, EVENT_MASK_ALL);
        seen[0] = '\0';
        publish(EVENT_SUPERVISOR_STOPPING);
        ck_assert_str_eq(seen, "a:supervisor-stopping d:supervisor-stopping");
}
END_TEST

START_TEST(test_unsubscribe_earlier_one_during_delivery) {
        struct recorder a = { .tag = "a" }, b = { .tag = "b" };
        subscribe(&a, EVENT_MASK_ALL);
        subscribe(&b, EVENT_MASK_ALL);
        b.unsubscribe = &a.sub;
        publish(EVENT_GROUP_ADDED);
        publish(EVENT_GROUP_REMOVED);
        ck_assert_str_eq(seen, "a:group-added b:group-added b:group-removed");
}
END_TEST

START_TEST(test_subscribe_during_delivery_gets_only_later_events) {
        struct recorder a = { .tag = "a" }, b = { .tag = "b" }, late = { .tag = "late", .bus = NULL };
        subscribe(&a, EVENT_MASK_ALL);
        subscribe(&b, EVENT_MASK_ALL);
        late.bus = bus;
        a.subscribe = &late;  /* appended after b while this event is delivered */
        publish(EVENT_GROUP_ADDED);
        ck_assert_ptr_nonnull(late.sub);
        publish(EVENT_GROUP_REMOVED);
        ck_assert_str_eq(seen, "a:group-added b:group-added a:group-removed b:group-removed late:group-removed");
}
END_TEST

START_TEST(test_nested_publish) {
        struct recorder a = { .tag = "a" }, b = { .tag = "b" };
        subscribe(&a, EVENT_MASK_ALL);
        subscribe(&b, EVENT_MASK_ALL);
        a.publish_nested = true;
        b.unsubscribe = &b.sub;  /* ends itself inside the nested delivery */
        publish(EVENT_SUPERVISOR_RELOADING);
        /* The nested event reaches everyone before the outer one goes on; b, gone during
         * the nested one, does not get the outer one either. */
        ck_assert_str_eq(seen, "a:supervisor-reloading a:group-added b:group-added");
        ck_assert_ptr_null(b.sub);
        ck_assert_uint_eq(event_bus_subscribers(bus), 1);
}
END_TEST

START_TEST(test_no_bus_and_no_subscribers) {
        struct event e = { .type = EVENT_SERVICE_STATE };
        event_bus_publish(NULL, &e);  /* a table without a bus: times still stamped */
        ck_assert_uint_gt(e.monotonic, 0);
        publish(EVENT_SERVICE_STATE);
        ck_assert_uint_eq(event_bus_subscribers(NULL), 0);
        ck_assert_ptr_null(event_unsubscribe(NULL));
        /* A bus freed with subscriptions frees them (valgrind and ASan check). */
        struct recorder a = { .tag = "a" };
        subscribe(&a, EVENT_MASK_ALL);
}
END_TEST

START_TEST(test_names) {
        ck_assert_str_eq(event_type_to_string(EVENT_SERVICE_STATE), "service-state");
        ck_assert_str_eq(event_type_to_string(EVENT_SUPERVISOR_STOPPED), "supervisor-stopped");
        ck_assert_str_eq(event_type_to_string(EVENT_TYPE_MAX), "unknown");
        for (int t = 0; t < EVENT_TYPE_MAX; t++)
                ck_assert_str_ne(event_type_to_string((enum event_type)t), "unknown");
        ck_assert_str_eq(event_cause_to_string(EVENT_CAUSE_HEARTBEAT_MISSED), "heartbeat-missed");
        for (int c = EVENT_CAUSE_NONE; c <= EVENT_CAUSE_CONFIG_CHANGE; c++)
                ck_assert_str_ne(event_cause_to_string((enum event_cause)c), "unknown");
        ck_assert_str_eq(event_cause_to_string((enum event_cause)99), "unknown");
}
END_TEST

static Suite *events_suite(void) {
        Suite *s = suite_create("events");
        TCase *tc = tcase_create("bus");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_delivery_in_order_by_mask);
        tcase_add_test(tc, test_fields_and_times);
        tcase_add_test(tc, test_unsubscribe_self_during_delivery);
        tcase_add_test(tc, test_unsubscribe_later_one_during_delivery);
        tcase_add_test(tc, test_unsubscribe_earlier_one_during_delivery);
        tcase_add_test(tc, test_subscribe_during_delivery_gets_only_later_events);
        tcase_add_test(tc, test_nested_publish);
        tcase_add_test(tc, test_no_bus_and_no_subscribers);
        tcase_add_test(tc, test_names);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) { return run_suite(events_suite()) ? 1 : 0; }
