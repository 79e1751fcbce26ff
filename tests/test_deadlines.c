/* test_deadlines.c — unit tests for deadlines.c on a real sd-event loop: order, moving
 * and disarming, re-arming from the callback, the per-wake-up bound, and one event source
 * for any number of deadlines. */
#include <check.h>
#include <stdlib.h>
#include <systemd/sd-event.h>

#include "deadlines.h"
#include "harness.h"

#define MAX_FIRED 64

struct record {
        struct deadline *fired[MAX_FIRED];
        usec_t at[MAX_FIRED];
        size_t n;
        struct deadline *rearm;   /* armed again once, 1 ms later ... */
        usec_t rearmed_for;       /* ... for then */
        struct deadlines *set;
        size_t expect;            /* exit the loop after this many */
        sd_event *event;
};

static void on_due(struct deadline *d, void *userdata) {
        struct record *r = userdata;
        ck_assert(!deadline_is_armed(d));
        ck_assert_uint_lt(r->n, MAX_FIRED);
        r->at[r->n] = now_monotonic();
        r->fired[r->n++] = d;
        if (d == r->rearm) {
                r->rearm = NULL;
                r->rearmed_for = now_monotonic() + USEC_PER_MSEC;
                ck_assert_int_eq(deadline_arm(r->set, d, r->rearmed_for), 0);
        }
        if (r->n == r->expect)
                sd_event_exit(r->event, 0);
}

static void run(struct record *r) {
        ck_assert_int_ge(sd_event_loop(r->event), 0);
}

static void setup(struct record *r, size_t max_per_wakeup) {
        *r = (struct record){ 0 };
        ck_assert_int_ge(sd_event_new(&r->event), 0);
        ck_assert_int_eq(deadlines_new(r->event, 1, max_per_wakeup, on_due, r, &r->set), 0);
}

static void teardown(struct record *r) {
        deadlines_free(r->set);
        sd_event_unref(r->event);
}

START_TEST(test_order_move_disarm) {
        struct record r;
        struct deadline d[6] = { { 0 } };
        setup(&r, 100);
        usec_t now = now_monotonic();
        /* Armed out of order: 5, 1, 4, 2 (ms from now); 3 and 6 are armed, then 6 is
         * disarmed and 3 moved to 1.5. */
        ck_assert_int_eq(deadline_arm(r.set, &d[4], now + 5000), 0);
        ck_assert_int_eq(deadline_arm(r.set, &d[0], now + 1000), 0);
        ck_assert_int_eq(deadline_arm(r.set, &d[3], now + 4000), 0);
        ck_assert_int_eq(deadline_arm(r.set, &d[1], now + 2000), 0);
        ck_assert_int_eq(deadline_arm(r.set, &d[2], now + 3000), 0);
        ck_assert_int_eq(deadline_arm(r.set, &d[5], now + 500), 0);
        deadline_disarm(r.set, &d[5]);
        deadline_disarm(r.set, &d[5]);  /* twice is harmless */
        ck_assert(!deadline_is_armed(&d[5]));
        ck_assert_int_eq(deadline_arm(r.set, &d[2], now + 1500), 0);
        r.expect = 5;
        run(&r);
        struct deadline *want[] = { &d[0], &d[2], &d[1], &d[3], &d[4] };
        usec_t due[] = { 1000, 1500, 2000, 4000, 5000 };
        for (size_t i = 0; i < 5; i++) {
                ck_assert_ptr_eq(r.fired[i], want[i]);
                ck_assert_uint_ge(r.at[i], now + due[i]);  /* never early */
        }
        teardown(&r);
}
END_TEST

START_TEST(test_rearm_from_callback) {
        struct record r;
        struct deadline a = { 0 }, b = { 0 };
        setup(&r, 100);
        usec_t now = now_monotonic();
        ck_assert_int_eq(deadline_arm(r.set, &a, now + 1000), 0);
        ck_assert_int_eq(deadline_arm(r.set, &b, now + USEC_PER_SEC), 0);
        r.rearm = &a;
        r.expect = 3;
        run(&r);
        ck_assert_ptr_eq(r.fired[0], &a);
        /* Again 1 ms after its first call, so before b, unless a busy machine ran that
         * call so late that b was due first: in order of their times either way. */
        bool a_first = r.rearmed_for < now + USEC_PER_SEC;
        ck_assert_msg(r.fired[1] == (a_first ? &a : &b) && r.fired[2] == (a_first ? &b : &a),
                      "re-armed for %llu us after the start, b due at %llu: fired %s then %s",
                      (unsigned long long)(r.rearmed_for - now), (unsigned long long)USEC_PER_SEC,
                      r.fired[1] == &a ? "a" : "b", r.fired[2] == &a ? "a" : "b");
        teardown(&r);
}
END_TEST

/* A thousand due at once: all fire, in order of their time, at most max_per_wakeup per
 * dispatch of the one timer source. */
START_TEST(test_many_bounded) {
        enum { N = 1000 };
        struct deadline *d = calloc(N, sizeof *d);
        struct record r;
        setup(&r, 7);
        usec_t now = now_monotonic();
        for (size_t i = 0; i < N; i++)
                ck_assert_int_eq(deadline_arm(r.set, &d[i], now + (usec_t)((i * 7919) % N)), 0);
        size_t fired = 0, dispatches = 0;
        usec_t last = 0;
        while (fired < N) {
                r.n = 0;
                ck_assert_int_ge(sd_event_run(r.event, UINT64_MAX), 0);
                dispatches++;
                ck_assert_uint_le(r.n, 7);
                for (size_t i = 0; i < r.n; i++) {
                        ck_assert_uint_ge(r.fired[i]->due, last);
                        last = r.fired[i]->due;
                }
                fired += r.n;
        }
        ck_assert_uint_ge(dispatches, N / 7);
        for (size_t i = 0; i < N; i++)
                ck_assert(!deadline_is_armed(&d[i]));
        teardown(&r);
        free(d);
}
END_TEST

START_TEST(test_free_disarms) {
        struct record r;
        struct deadline a = { 0 };
        setup(&r, 1);
        ck_assert_int_eq(deadline_arm(r.set, &a, now_monotonic() + USEC_PER_SEC), 0);
        ck_assert(deadline_is_armed(&a));
        teardown(&r);
        ck_assert(!deadline_is_armed(&a));
}
END_TEST

static Suite *deadlines_suite(void) {
        Suite *s = suite_create("deadlines");
        TCase *tc = tcase_create("deadlines");
        tcase_set_timeout(tc, 30);
        tcase_add_test(tc, test_order_move_disarm);
        tcase_add_test(tc, test_rearm_from_callback);
        tcase_add_test(tc, test_many_bounded);
        tcase_add_test(tc, test_free_disarms);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) { return run_suite(deadlines_suite()) ? 1 : 0; }
