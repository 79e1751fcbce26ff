/* heartbeat.h — liveness checks over pipes for services with heartbeat-interval > 0.
 *
 * heartbeat.c owns, per service process, the write end of its ping pipe and the read end
 * of its pong pipe, and for all of them one timer (a min-heap of deadlines on the sd-event
 * loop) and one epoll set of pong pipes read in rounds, so a thousand services cost a few
 * wake-ups per interval, not a thousand: pings of one interval go out together, at its
 * multiples.  It decides when a process is hung and says so through a callback; what to
 * do about it is the service table's business.
 *
 * Protocol (supervisord(8), HEARTBEATS): every interval supervisord writes "PING <seq>\n"
 * on the service's fd 3; the service answers "PONG <seq>\n" on fd 4 within the timeout.
 * Each ping has exactly one outcome, decided at its deadline: answered (the matching pong,
 * or a WATCHDOG=1 from notify, arrived in time) or missed.  A full or closed ping pipe, a
 * closed pong pipe, garbage or a stale sequence number never answer a ping.  `misses`
 * consecutive misses make the process hung. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "util.h"

/* The fds a service gets, and the variables that name them. */
#define HEARTBEAT_PING_FD 3
#define HEARTBEAT_PONG_FD 4
#define HEARTBEAT_ENV_PING "SUPERVISOR_PING_FD=3"
#define HEARTBEAT_ENV_PONG "SUPERVISOR_PONG_FD=4"

/* Longest pong line accepted, newline included; longer lines are discarded. */
#define HEARTBEAT_MAX_LINE 64

struct heartbeat;

struct heartbeat_params {
        usec_t interval;    /* between pings, > 0 */
        usec_t timeout;     /* for each answer, 0 < timeout <= interval */
        unsigned misses;    /* consecutive misses that make the process hung, >= 1 */
};

/* Called once, from the shared timer, when the process is declared hung: MISSES in a row
 * since LAST_ANSWER (monotonic, 0: never answered); DETAIL is "" or what supervisord saw
 * of the pipes ("its pong pipe is closed").  Heartbeats are over by then; the callee may
 * (and normally does) heartbeat_free() the heartbeat. */
typedef void (*heartbeat_hung_t)(struct heartbeat *heartbeat, unsigned misses, usec_t last_answer,
                                 const char *detail, void *userdata);

/* Create the two pipes for one process.  *ret is owned by the caller (heartbeat_free()).
 * NAME is only for messages and is copied. */
int heartbeat_new(sd_event *event, const char *name, const struct heartbeat_params *params,
                  heartbeat_hung_t on_hung, void *userdata, struct heartbeat **ret);

/* The child's ends: the read end of the ping pipe and the write end of the pong pipe, to
 * be placed at fds 3 and 4 by spawn (borrowed: still owned by the heartbeat). */
void heartbeat_child_fds(const struct heartbeat *heartbeat, int *ret_ping_fd, int *ret_pong_fd);

/* The process is spawned: close our copies of the child's ends (so that a closed pipe is
 * seen as one) and schedule the first ping at the next multiple of its interval, less
 * than one interval from now. */
int heartbeat_begin(struct heartbeat *heartbeat);

/* WATCHDOG=1 arrived (type = notify): it answers the ping in flight, or, between pings,
 * the next one. */
void heartbeat_on_watchdog(struct heartbeat *heartbeat);

/* Round-trip time of the last pipe pong: from writing the ping to the round that read the
 * pong, so within heartbeat_round_end()'s bound of the real one; false when there has
 * been none. */
bool heartbeat_last_rtt(const struct heartbeat *heartbeat, usec_t *ret);

/* Close the pipes and drop the heartbeat from the schedule; NULL is fine.  Returns NULL. */
struct heartbeat *heartbeat_free(struct heartbeat *heartbeat);

/* ---- pure parts (unit-tested) ---- */

/* LINE (LEN bytes, without the newline) is "PONG <seq>" with seq a decimal number that
 * fits 64 bits; a trailing '\r' is tolerated.  0 and *ret_seq, or -EINVAL. */
int heartbeat_parse_pong(const char *line, size_t len, uint64_t *ret_seq);

/* "PING <seq>\n" into buf (at least 32 bytes); returns its length. */
size_t heartbeat_format_ping(char *buf, size_t size, uint64_t seq);

/* Pongs are read in rounds (heartbeat.c): after a round at NOW that read some, the next
 * comes at this time, given the LATEST_PING written — as long after NOW as NOW is after
 * that ping, and at least HEARTBEAT_ROUND_MIN_REST.  A ping written during a rest cuts it
 * to HEARTBEAT_ROUND_MIN_REST after that ping.  So a pong that arrived RTT after its ping
 * is read at most max(RTT, HEARTBEAT_ROUND_MIN_REST) after it arrived: a measured round
 * trip R means a real one between min(R / 2, R - HEARTBEAT_ROUND_MIN_REST) and R. */
#define HEARTBEAT_ROUND_MIN_REST USEC_PER_MSEC
usec_t heartbeat_round_end(usec_t now, usec_t latest_ping);

/* The first multiple of INTERVAL after AFTER (monotonic): the moments at which every
 * heartbeat with that interval is pinged. */
usec_t heartbeat_next_tick(usec_t after, usec_t interval);

/* The deadline of ping SEQ, SENT at that moment, of a heartbeat that began at BEGIN and
 * pings next at NEXT_PING: SENT + timeout, except that the first ping may be answered
 * until BEGIN + interval + timeout, or until NEXT_PING if that is sooner. */
usec_t heartbeat_deadline(const struct heartbeat_params *params, usec_t begin, uint64_t seq, usec_t sent,
                          usec_t next_ping);
