/* deadlines.h — many one-shot deadlines behind a single sd-event timer.
 *
 * A thousand services each waiting out start-secs would otherwise be a thousand event
 * sources (some 300 bytes each, freed and made again at every state change) and a
 * thousand entries in sd-event's timer queue on every loop iteration.  Here each owner
 * embeds a struct deadline; the set keeps them in a binary min-heap and arms one timer
 * for the earliest.  Arming, moving and disarming are O(log n); a wake-up handles at
 * most max_per_wakeup due deadlines, the rest on the next loop iteration. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <systemd/sd-event.h>

#include "util.h"

/* Embedded in its owner, zeroed (not armed) to begin with. */
struct deadline {
        usec_t due;    /* monotonic */
        size_t slot;   /* position in the heap + 1; 0 when not armed */
};

struct deadlines;

/* Called for each deadline that is due, already disarmed: it may arm it again. */
typedef void (*deadline_fn)(struct deadline *deadline, void *userdata);

/* A set on EVENT firing within ACCURACY of each deadline.  Owns one timer source. */
int deadlines_new(sd_event *event, usec_t accuracy, size_t max_per_wakeup, deadline_fn fn, void *userdata,
                  struct deadlines **ret);
/* Frees the set; the deadlines in it are left disarmed. */
void deadlines_free(struct deadlines *set);

/* Due at DUE (monotonic), armed or not before.  Returns 0 or -ENOMEM. */
int deadline_arm(struct deadlines *set, struct deadline *deadline, usec_t due);
void deadline_disarm(struct deadlines *set, struct deadline *deadline);

static inline bool deadline_is_armed(const struct deadline *deadline) { return deadline->slot != 0; }
