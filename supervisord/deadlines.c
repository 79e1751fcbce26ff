/* deadlines.c — see deadlines.h. */
#include "deadlines.h"

#include <errno.h>
#include <stdlib.h>

struct deadlines {
        sd_event_source *timer;       /* owned; enabled while the heap is not empty */
        struct deadline **heap;       /* owned array, entries borrowed from their owners */
        size_t size, capacity;
        size_t max_per_wakeup;
        deadline_fn fn;
        void *userdata;
};

static void heap_place(struct deadlines *set, size_t index, struct deadline *d) {
        set->heap[index] = d;
        d->slot = index + 1;
}

static void heap_sift_up(struct deadlines *set, size_t index) {
        struct deadline *d = set->heap[index];
        while (index > 0) {
                size_t parent = (index - 1) / 2;
                if (set->heap[parent]->due <= d->due)
                        break;
                heap_place(set, index, set->heap[parent]);
                index = parent;
        }
        heap_place(set, index, d);
}

static void heap_sift_down(struct deadlines *set, size_t index) {
        struct deadline *d = set->heap[index];
        for (;;) {
                size_t child = 2 * index + 1;
                if (child >= set->size)
                        break;
                if (child + 1 < set->size && set->heap[child + 1]->due < set->heap[child]->due)
                        child++;
                if (set->heap[child]->due >= d->due)
                        break;
                heap_place(set, index, set->heap[child]);
                index = child;
        }
        heap_place(set, index, d);
}

/* The timer follows the earliest deadline; it is off when there is none. */
static void timer_update(struct deadlines *set) {
        if (set->size == 0) {
                (void)sd_event_source_set_enabled(set->timer, SD_EVENT_OFF);
                return;
        }
        (void)sd_event_source_set_time(set->timer, set->heap[0]->due);
        (void)sd_event_source_set_enabled(set->timer, SD_EVENT_ONESHOT);
}

static void heap_remove(struct deadlines *set, struct deadline *d) {
        size_t index = d->slot - 1;
        d->slot = 0;
        struct deadline *last = set->heap[--set->size];
        if (last == d)
                return;
        heap_place(set, index, last);
        heap_sift_up(set, index);
        heap_sift_down(set, last->slot - 1);
}

static int on_timer(sd_event_source *source, uint64_t usec, void *userdata) {
        struct deadlines *set = userdata;
        (void)source;
        (void)usec;
        usec_t now = now_monotonic();
        for (size_t done = 0; set->size > 0 && set->heap[0]->due <= now && done < set->max_per_wakeup; done++) {
                struct deadline *d = set->heap[0];
                heap_remove(set, d);
                set->fn(d, set->userdata);
        }
        timer_update(set);
        return 0;
}

int deadlines_new(sd_event *event, usec_t accuracy, size_t max_per_wakeup, deadline_fn fn, void *userdata,
                  struct deadlines **ret) {
        struct deadlines *set = calloc(1, sizeof *set);
        if (!set)
                return -ENOMEM;
        set->max_per_wakeup = max_per_wakeup ? max_per_wakeup : 1;
        set->fn = fn;
        set->userdata = userdata;
        int r = sd_event_add_time(event, &set->timer, CLOCK_MONOTONIC, 0, accuracy, on_timer, set);
        if (r < 0) {
                free(set);
                return r;
        }
        (void)sd_event_source_set_enabled(set->timer, SD_EVENT_OFF);
        *ret = set;
        return 0;
}

void deadlines_free(struct deadlines *set) {
        if (!set)
                return;
        for (size_t i = 0; i < set->size; i++)
                set->heap[i]->slot = 0;
        sd_event_source_disable_unref(set->timer);
        free(set->heap);
        free(set);
}

int deadline_arm(struct deadlines *set, struct deadline *d, usec_t due) {
        bool was_first = d->slot == 1;
        if (d->slot) {
                usec_t old = d->due;
                d->due = due;
                if (due < old)
                        heap_sift_up(set, d->slot - 1);
                else
                        heap_sift_down(set, d->slot - 1);
        } else {
                if (set->size == set->capacity) {
                        size_t capacity = set->capacity ? set->capacity * 2 : 64;
                        struct deadline **heap = realloc(set->heap, capacity * sizeof *heap);
                        if (!heap)
                                return -ENOMEM;
                        set->heap = heap;
                        set->capacity = capacity;
                }
                d->due = due;
                heap_place(set, set->size++, d);
                heap_sift_up(set, set->size - 1);
        }
        if (was_first || d->slot == 1)
                timer_update(set);
        return 0;
}

void deadline_disarm(struct deadlines *set, struct deadline *d) {
        if (!d->slot)
                return;
        bool was_first = d->slot == 1;
        heap_remove(set, d);
        if (was_first)
                timer_update(set);
}
