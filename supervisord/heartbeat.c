/* heartbeat.c — see heartbeat.h.
 *
 * The schedule: every heartbeat has exactly one next moment (`due`) at which something
 * happens to it — a ping is sent, or the ping in flight reaches its deadline — so all of
 * them live in one binary min-heap ordered by `due`, and one sd-event timer is armed for
 * the earliest.  Adding, answering and removing a heartbeat are O(log n); a wake-up
 * handles what is due, at most HEARTBEAT_MAX_PER_WAKEUP of them, so that even a thousand
 * services due at once cannot keep the control socket waiting for long.  Pings go out at
 * the multiples of the interval (heartbeat_next_tick), not at the phase of each process's
 * own start: a thousand services on the same interval are pinged in one wake-up (and a
 * few more for the cap), not in a thousand.
 *
 * Nothing here blocks: pings are written to a non-blocking pipe (a full pipe just means
 * the ping cannot be answered), pongs are read from a non-blocking pipe a bounded amount
 * per wake-up.  Writing to a ping pipe the service closed raises SIGPIPE, which
 * supervisord ignores (main.c), so it comes back as EPIPE. */
#include "heartbeat.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

#define HEAP_NONE ((size_t)-1)
#define HEARTBEAT_MAX_PER_WAKEUP 256
#define HEARTBEAT_TIMER_ACCURACY (10 * USEC_PER_MSEC)
/* Reads of the pong pipe per wake-up: a service that floods it gets this much attention,
 * then waits for the next loop iteration like everyone else. */
#define PONG_READS_PER_WAKEUP 4

struct heartbeat {
        char name[80];                  /* for messages */
        struct heartbeat_params params;
        heartbeat_hung_t on_hung;
        void *userdata;
        int ping_fd;                    /* owned: write end of the ping pipe, non-blocking */
        int child_ping_fd;              /* owned until heartbeat_begin(): the child's read end, blocking */
        int child_pong_fd;              /* owned until heartbeat_begin(): the child's write end, blocking */
        sd_event_source *pong_source;   /* owned, owns the pong pipe's read end; NULL once it closed */
        size_t heap_index;              /* in schedule.heap, HEAP_NONE when not scheduled */
        usec_t due;                     /* next ping, or the deadline of the ping in flight */
        uint64_t seq;                   /* of the last ping, 0 before the first */
        usec_t ping_time;               /* when it was sent (monotonic) */
        usec_t next_ping;               /* when the next one is due: a multiple of the interval
                                         * (heartbeat_next_tick), shared by every heartbeat
                                         * with that interval */
        usec_t begin_time;              /* heartbeat_begin(), just after the spawn */
        bool awaiting;                  /* the last ping has no outcome yet */
        bool delivered;                 /* ... and reached the pipe, so a pong can answer it */
        bool watchdog_pending;          /* WATCHDOG=1 between pings: answers the next one */
        bool ping_pipe_closed;          /* the service closed its end (EPIPE seen) */
        bool ping_pipe_full;            /* the last ping did not fit */
        unsigned misses;                /* consecutive */
        usec_t last_answer;             /* monotonic, 0: never */
        bool has_rtt;
        usec_t rtt;
        char line[HEARTBEAT_MAX_LINE];  /* pong line being assembled */
        size_t line_len;
        bool discarding;                /* the line is too long: skip to its newline */
        bool complained;                /* a bad line was logged since the last ping: a
                                         * flooding service must not flood the log too */
};

/* Shared by every heartbeat. */
static struct {
        sd_event_source *timer;         /* owned; exists while any heartbeat does */
        struct heartbeat **heap;        /* owned array, entries borrowed */
        size_t size, capacity;
        size_t n_heartbeats;            /* alive, scheduled or not */
} schedule;

/* ---- pure parts ---- */

int heartbeat_parse_pong(const char *line, size_t len, uint64_t *ret_seq) {
        if (len > 0 && line[len - 1] == '\r')
                len--;
        if (len < 6 || memcmp(line, "PONG ", 5) != 0)
                return -EINVAL;
        uint64_t seq = 0;
        for (size_t i = 5; i < len; i++) {
                if (line[i] < '0' || line[i] > '9')
                        return -EINVAL;
                unsigned digit = (unsigned)(line[i] - '0');
                if (seq > (UINT64_MAX - digit) / 10)
                        return -EINVAL;
                seq = seq * 10 + digit;
        }
        *ret_seq = seq;
        return 0;
}

size_t heartbeat_format_ping(char *buf, size_t size, uint64_t seq) {
        int n = snprintf(buf, size, "PING %" PRIu64 "\n", seq);
        return n < 0 ? 0 : (size_t)n < size ? (size_t)n : size - 1;
}

usec_t heartbeat_next_tick(usec_t after, usec_t interval) {
        return (after / interval + 1) * interval;
}

usec_t heartbeat_deadline(const struct heartbeat_params *params, usec_t begin, uint64_t seq, usec_t sent,
                          usec_t next_ping) {
        usec_t deadline = sent + params->timeout;
        if (seq != 1)
                return deadline;
        /* The first tick may come just after the spawn, before the process listens: it may
         * answer until one interval and one timeout after its spawn, as it could when the
         * first ping went out one interval after it — but not past the second ping, so
         * that the bounds of HEARTBEATS in supervisord(8) hold from the spawn too. */
        usec_t generous = begin + params->interval + params->timeout;
        if (generous > next_ping)
                generous = next_ping;
        return generous > deadline ? generous : deadline;
}

/* ---- the schedule ---- */

static void heap_place(size_t index, struct heartbeat *hb) {
        schedule.heap[index] = hb;
        hb->heap_index = index;
}

static void heap_sift_up(size_t index) {
        struct heartbeat *hb = schedule.heap[index];
        while (index > 0) {
                size_t parent = (index - 1) / 2;
                if (schedule.heap[parent]->due <= hb->due)
                        break;
                heap_place(index, schedule.heap[parent]);
                index = parent;
        }
        heap_place(index, hb);
}

static void heap_sift_down(size_t index) {
        struct heartbeat *hb = schedule.heap[index];
        for (;;) {
                size_t child = 2 * index + 1;
                if (child >= schedule.size)
                        break;
                if (child + 1 < schedule.size && schedule.heap[child + 1]->due < schedule.heap[child]->due)
                        child++;
                if (schedule.heap[child]->due >= hb->due)
                        break;
                heap_place(index, schedule.heap[child]);
                index = child;
        }
        heap_place(index, hb);
}

static void heap_remove(struct heartbeat *hb) {
        size_t index = hb->heap_index;
        if (index == HEAP_NONE)
                return;
        hb->heap_index = HEAP_NONE;
        struct heartbeat *last = schedule.heap[--schedule.size];
        if (last == hb)
                return;
        heap_place(index, last);
        heap_sift_up(index);
        heap_sift_down(last->heap_index);
}

static int heap_insert(struct heartbeat *hb) {
        if (schedule.size == schedule.capacity) {
                size_t capacity = schedule.capacity ? schedule.capacity * 2 : 16;
                struct heartbeat **heap = realloc(schedule.heap, capacity * sizeof *heap);
                if (!heap)
                        return -ENOMEM;
                schedule.heap = heap;
                schedule.capacity = capacity;
        }
        heap_place(schedule.size++, hb);
        heap_sift_up(hb->heap_index);
        return 0;
}

/* hb->due changed: restore the heap order. */
static void heap_update(struct heartbeat *hb) {
        if (hb->heap_index == HEAP_NONE)
                return;
        heap_sift_up(hb->heap_index);
        heap_sift_down(hb->heap_index);
}

static void schedule_arm(void) {
        if (!schedule.timer)
                return;
        if (schedule.size == 0) {
                sd_event_source_set_enabled(schedule.timer, SD_EVENT_OFF);
                return;
        }
        int r = sd_event_source_set_time(schedule.timer, schedule.heap[0]->due);
        if (r >= 0)
                r = sd_event_source_set_enabled(schedule.timer, SD_EVENT_ONESHOT);
        /* Without the timer no heartbeat would ever be checked again. */
        if (r < 0)
                log_error_errno(r, "heartbeat: cannot arm the timer");
}

static void heartbeat_send_ping(struct heartbeat *hb, usec_t now);

/* hb's `due` has come: the ping in flight went unanswered, or the next one is to be sent.
 * May free hb (through on_hung). */
static void heartbeat_on_due(struct heartbeat *hb, usec_t now) {
        if (!hb->awaiting) {
                heartbeat_send_ping(hb, now);
                return;
        }
        hb->awaiting = false;
        hb->misses++;
        if (hb->misses >= hb->params.misses) {
                heap_remove(hb);
                const char *detail = !hb->pong_source ? "its pong pipe is closed"
                                     : hb->ping_pipe_closed ? "its ping pipe is closed"
                                     : hb->ping_pipe_full ? "its ping pipe is full"
                                     : "";
                hb->on_hung(hb, hb->misses, hb->last_answer, detail, hb->userdata);
                return;  /* hb may be gone */
        }
        log_info("%s: heartbeat %" PRIu64 " missed (%u of %u)", hb->name, hb->seq, hb->misses, hb->params.misses);
        hb->due = hb->next_ping;
        heap_update(hb);
}

static int schedule_on_timer(sd_event_source *source, uint64_t usec, void *userdata) {
        (void)source;
        (void)usec;
        (void)userdata;
        usec_t now = now_monotonic();
        for (unsigned n = 0; n < HEARTBEAT_MAX_PER_WAKEUP && schedule.size > 0; n++) {
                struct heartbeat *hb = schedule.heap[0];
                if (hb->due > now)
                        break;
                heartbeat_on_due(hb, now);
        }
        schedule_arm();
        return 0;
}

static int schedule_ref(sd_event *event) {
        if (!schedule.timer) {
                /* 10 ms accuracy: the timer may fire up to 10 ms late, and everything due by
                 * then is handled in that one wake-up: the pings of each interval fall due
                 * together anyway, and this gathers deadlines and pings of other intervals
                 * close to them.  (The default, 250 ms, would blur timeouts of a fraction of a
                 * second.) */
                int r = sd_event_add_time(event, &schedule.timer, CLOCK_MONOTONIC, 0, HEARTBEAT_TIMER_ACCURACY,
                                          schedule_on_timer, NULL);
                if (r < 0)
                        return r;
                sd_event_source_set_enabled(schedule.timer, SD_EVENT_OFF);
        }
        schedule.n_heartbeats++;
        return 0;
}

static void schedule_unref(void) {
        if (--schedule.n_heartbeats > 0)
                return;
        /* The last one is gone: leave nothing behind on the event loop. */
        schedule.timer = sd_event_source_disable_unref(schedule.timer);
        free(schedule.heap);
        schedule.heap = NULL;
        schedule.size = schedule.capacity = 0;
}

/* ---- one heartbeat ---- */

static void heartbeat_answered(struct heartbeat *hb, usec_t now) {
        hb->awaiting = false;
        hb->misses = 0;
        hb->last_answer = now;
        hb->due = hb->next_ping;
        heap_update(hb);
}

static void heartbeat_send_ping(struct heartbeat *hb, usec_t now) {
        char buf[32];
        size_t len = heartbeat_format_ping(buf, sizeof buf, ++hb->seq);
        hb->ping_time = now;
        hb->complained = false;
        hb->next_ping += hb->params.interval;
        if (hb->next_ping <= now)  /* the loop was held up for a whole interval: skip, not burst */
                hb->next_ping = heartbeat_next_tick(now, hb->params.interval);
        ssize_t n = write(hb->ping_fd, buf, len);
        /* Pipe writes this small are atomic: all or nothing. */
        hb->delivered = n == (ssize_t)len;
        hb->ping_pipe_full = n < 0 && errno == EAGAIN;
        if (n < 0 && errno == EPIPE && !hb->ping_pipe_closed) {
                hb->ping_pipe_closed = true;
                log_debug("%s: heartbeat ping pipe closed by the service", hb->name);
        } else if (hb->ping_pipe_full)
                log_debug("%s: heartbeat ping pipe full, ping %" PRIu64 " not delivered", hb->name, hb->seq);
        else if (n < 0 && errno != EPIPE)
                log_debug("%s: heartbeat ping: %s", hb->name, strerror(errno));

        if (hb->watchdog_pending) {
                hb->watchdog_pending = false;
                hb->awaiting = true;
                heartbeat_answered(hb, now);
                return;
        }
        hb->awaiting = true;
        hb->due = heartbeat_deadline(&hb->params, hb->begin_time, hb->seq, now, hb->next_ping);
        heap_update(hb);
}

static void heartbeat_complain(struct heartbeat *hb, const char *what, uint64_t seq) {
        if (hb->complained)
                return;
        hb->complained = true;
        if (seq)
                log_debug("%s: heartbeat: ignoring %s %" PRIu64 " (last ping %" PRIu64 "%s)", hb->name, what, seq,
                          hb->seq, hb->awaiting ? "" : ", already decided");
        else
                log_debug("%s: heartbeat: ignoring %s", hb->name, what);
}

static void heartbeat_on_line(struct heartbeat *hb, const char *line, size_t len) {
        uint64_t seq;
        if (heartbeat_parse_pong(line, len, &seq) < 0) {
                heartbeat_complain(hb, "a line that is not \"PONG <seq>\"", 0);
                return;
        }
        if (!hb->awaiting || !hb->delivered || seq != hb->seq) {
                /* Late (its ping already counted as missed) or for a ping never sent. */
                heartbeat_complain(hb, "PONG", seq);
                return;
        }
        usec_t now = now_monotonic();
        hb->rtt = now - hb->ping_time;
        hb->has_rtt = true;
        heartbeat_answered(hb, now);
        schedule_arm();  /* it may have been the earliest deadline */
}

static int heartbeat_on_pong(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        struct heartbeat *hb = userdata;
        char buf[512];
        (void)revents;
        for (int reads = 0; reads < PONG_READS_PER_WAKEUP; reads++) {
                ssize_t n = read(fd, buf, sizeof buf);
                if (n < 0 && (errno == EAGAIN || errno == EINTR))
                        return 0;
                if (n <= 0) {
                        /* Every writer is gone: from now on each ping is a miss.  Dropping the
                         * source also stops epoll from reporting the hang-up forever. */
                        log_debug("%s: heartbeat pong pipe closed%s%s", hb->name, n < 0 ? ": " : "",
                                  n < 0 ? strerror(errno) : "");
                        hb->pong_source = sd_event_source_disable_unref(source);
                        return 0;
                }
                for (ssize_t i = 0; i < n; i++) {
                        char c = buf[i];
                        if (c == '\n') {
                                if (!hb->discarding)
                                        heartbeat_on_line(hb, hb->line, hb->line_len);
                                hb->line_len = 0;
                                hb->discarding = false;
                        } else if (hb->discarding) {
                                continue;
                        } else if (hb->line_len == sizeof hb->line - 1) {
                                heartbeat_complain(hb, "an overlong line", 0);
                                hb->discarding = true;
                                hb->line_len = 0;
                        } else
                                hb->line[hb->line_len++] = c;
                }
        }
        return 0;
}

int heartbeat_new(sd_event *event, const char *name, const struct heartbeat_params *params,
                  heartbeat_hung_t on_hung, void *userdata, struct heartbeat **ret) {
        int ping[2] = { -1, -1 }, pong[2] = { -1, -1 }, r;

        if (params->interval == 0 || params->timeout == 0 || params->timeout > params->interval
            || params->misses == 0)
                return -EINVAL;
        struct heartbeat *hb = calloc(1, sizeof *hb);
        if (!hb)
                return -ENOMEM;
        snprintf(hb->name, sizeof hb->name, "%s", name);
        hb->params = *params;
        hb->on_hung = on_hung;
        hb->userdata = userdata;
        hb->heap_index = HEAP_NONE;
        hb->ping_fd = hb->child_ping_fd = hb->child_pong_fd = -1;

        /* O_NONBLOCK is set on our ends only: the service's ends stay blocking, as a shell's
         * `read <&3` expects. */
        if (pipe2(ping, O_CLOEXEC) < 0 || pipe2(pong, O_CLOEXEC) < 0) {
                r = -errno;
                goto fail;
        }
        if ((r = fd_set_nonblocking(ping[1])) < 0 || (r = fd_set_nonblocking(pong[0])) < 0)
                goto fail;
        if ((r = schedule_ref(event)) < 0)
                goto fail;
        r = sd_event_add_io(event, &hb->pong_source, pong[0], EPOLLIN, heartbeat_on_pong, hb);
        if (r < 0) {
                schedule_unref();
                goto fail;
        }
        sd_event_source_set_io_fd_own(hb->pong_source, true);
        hb->ping_fd = ping[1];
        hb->child_ping_fd = ping[0];
        hb->child_pong_fd = pong[1];
        *ret = hb;
        return 0;

fail:
        for (int i = 0; i < 2; i++) {
                if (ping[i] >= 0)
                        close(ping[i]);
                if (pong[i] >= 0)
                        close(pong[i]);
        }
        free(hb);
        return r;
}

void heartbeat_child_fds(const struct heartbeat *hb, int *ret_ping_fd, int *ret_pong_fd) {
        *ret_ping_fd = hb->child_ping_fd;
        *ret_pong_fd = hb->child_pong_fd;
}

static void close_fd(int *fd) {
        if (*fd >= 0)
                close(*fd);
        *fd = -1;
}

int heartbeat_begin(struct heartbeat *hb) {
        close_fd(&hb->child_ping_fd);
        close_fd(&hb->child_pong_fd);
        /* Onto the shared grid: every heartbeat with this interval is pinged at the same
         * moments, so one wake-up sends all their pings. */
        hb->begin_time = now_monotonic();
        hb->next_ping = hb->due = heartbeat_next_tick(hb->begin_time, hb->params.interval);
        int r = heap_insert(hb);
        if (r < 0)
                return r;
        schedule_arm();
        return 0;
}

void heartbeat_on_watchdog(struct heartbeat *hb) {
        if (!hb)
                return;
        if (hb->awaiting)
                heartbeat_answered(hb, now_monotonic());
        else
                hb->watchdog_pending = true;
        schedule_arm();
}

bool heartbeat_last_rtt(const struct heartbeat *hb, usec_t *ret) {
        if (!hb || !hb->has_rtt)
                return false;
        *ret = hb->rtt;
        return true;
}

struct heartbeat *heartbeat_free(struct heartbeat *hb) {
        if (!hb)
                return NULL;
        bool was_first = hb->heap_index == 0;
        heap_remove(hb);
        if (was_first)
                schedule_arm();
        hb->pong_source = sd_event_source_disable_unref(hb->pong_source);
        close_fd(&hb->ping_fd);
        close_fd(&hb->child_ping_fd);
        close_fd(&hb->child_pong_fd);
        free(hb);
        schedule_unref();
        return NULL;
}
