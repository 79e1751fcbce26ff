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
 * The pongs: watching each pong pipe on the loop would mean a wake-up, an epoll_wait and
 * a loop iteration per pong, since sd-event dispatches one source per iteration.  Instead
 * every pong pipe sits in one epoll set of our own (`collector`), and the pongs are read
 * in rounds: one epoll_wait on that set says which pipes have something, and each of them
 * is read once (level-triggered, so whatever a read leaves is reported again next round;
 * no read to EAGAIN).  Between rounds the collector either watches the set on the loop,
 * so that the first pong after a quiet spell is read at once, or rests: after a round
 * that found pongs it waits as long as has passed since the latest ping (at least
 * HEARTBEAT_ROUND_MIN_REST) — answers to a burst of pings trickle in over milliseconds,
 * and waiting in doubling steps reads them in a few rounds, while keeping every round trip
 * measured to within a factor of two (heartbeat_round_end).  Nothing depends on the rounds for
 * correctness: a heartbeat whose deadline comes reads its own pipe before it is judged.
 *
 * Nothing here blocks: pings are written to a non-blocking pipe (a full pipe just means
 * the ping cannot be answered), pongs are read from a non-blocking pipe a bounded amount
 * per round.  Writing to a ping pipe the service closed raises SIGPIPE, which supervisord
 * ignores (main.c), so it comes back as EPIPE. */
#include "heartbeat.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "log.h"

#define HEAP_NONE ((size_t)-1)
#define HEARTBEAT_MAX_PER_WAKEUP 256
#define HEARTBEAT_TIMER_ACCURACY (10 * USEC_PER_MSEC)
/* The end of a rest is when a round trip is measured: the round timer fires at most this
 * late (µs). */
#define ROUND_TIMER_ACCURACY 50
/* One read per pong pipe per round: a pong is a few bytes, and a service that floods its
 * pipe gets this much attention, then waits for the next round like everyone else. */
#define PONG_READ_SIZE 512

struct heartbeat {
        char name[80];                  /* for messages */
        struct heartbeat_params params;
        heartbeat_hung_t on_hung;
        void *userdata;
        int ping_fd;                    /* owned: write end of the ping pipe, non-blocking */
        int child_ping_fd;              /* owned until heartbeat_begin(): the child's read end, blocking */
        int child_pong_fd;              /* owned until heartbeat_begin(): the child's write end, blocking */
        int pong_fd;                    /* owned: read end of the pong pipe, non-blocking, in
                                         * collector.epoll_fd; -1 once the service closed it */
        size_t heap_index;              /* in schedule.heap, HEAP_NONE when not scheduled */
        usec_t due;                     /* next ping, or the deadline of the ping in flight */
        uint64_t seq;                   /* of the last ping, 0 before the first */
        usec_t ping_time;               /* when it was sent (monotonic) */
        usec_t next_ping;               /* when the next one is due: a multiple of the interval
                                         * (heartbeat_next_tick), shared by every heartbeat
                                         * with that interval */
        usec_t begin_time;              /* heartbeat_begin(), just after the spawn */
        bool awaiting;                  /* the last ping has no outcome yet */
        bool delivered;                 /* ... and reached the pipe, so a pong can answer it
                                         * (counted in collector.n_awaiting while both hold) */
        bool watchdog_pending;          /* WATCHDOG=1 between pings: answers the next one */
        bool ping_pipe_closed;          /* the service closed its end (EPIPE seen) */
        bool ping_pipe_full;            /* the last ping did not fit */
        unsigned misses;                /* consecutive */
        usec_t last_answer;             /* monotonic, 0: never */
        bool has_rtt;
        usec_t rtt;                     /* from the ping until the round that read its pong */
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

enum collector_mode {
        COLLECTOR_IDLE,      /* no ping awaits a pong: nothing watched, nothing armed */
        COLLECTOR_WATCHING,  /* the epoll set is on the loop: the next pong wakes us */
        COLLECTOR_RESTING,   /* off the loop until rest_until, then a round */
};

/* The pong rounds, shared by every heartbeat; exists while schedule.timer does. */
static struct {
        int epoll_fd;                   /* every open pong pipe, data.ptr its heartbeat
                                         * (borrowed); owned by `watch` once that exists */
        sd_event_source *watch;         /* owned: epoll_fd on the loop, EPOLLIN while WATCHING */
        sd_event_source *round_timer;   /* owned: the end of the rest, enabled while RESTING */
        enum collector_mode mode;
        usec_t rest_until;              /* while RESTING */
        usec_t latest_ping;             /* when the latest delivered ping was written */
        size_t n_awaiting;              /* heartbeats whose delivered ping has no outcome yet */
} collector = { .epoll_fd = -1 };

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

usec_t heartbeat_round_end(usec_t now, usec_t latest_ping) {
        usec_t rest = now > latest_ping ? now - latest_ping : 0;
        return now + (rest > HEARTBEAT_ROUND_MIN_REST ? rest : HEARTBEAT_ROUND_MIN_REST);
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

/* ---- the pong rounds ---- */

static void collector_set_mode(enum collector_mode mode, usec_t rest_until) {
        if (!collector.watch)
                return;
        /* The watch stays enabled, with no events while not WATCHING: disabling it would take
         * epoll_fd off the loop's epoll and enabling put it back, and adding an epoll fd to
         * another makes the kernel check for loops through all of its thousand pipes. */
        int r = sd_event_source_set_io_events(collector.watch, mode == COLLECTOR_WATCHING ? EPOLLIN : 0);
        if (r >= 0 && mode == COLLECTOR_RESTING) {
                r = sd_event_source_set_time(collector.round_timer, rest_until);
                if (r >= 0)
                        r = sd_event_source_set_enabled(collector.round_timer, SD_EVENT_ONESHOT);
        } else if (r >= 0)
                r = sd_event_source_set_enabled(collector.round_timer, SD_EVENT_OFF);
        /* Not fatal: every heartbeat still reads its own pipe at its deadline, so pongs still
         * answer pings; only their round trips and the moments they are read suffer. */
        if (r < 0 && mode != COLLECTOR_IDLE)
                log_error_errno(r, "heartbeat: cannot watch the pong pipes");
        collector.mode = mode;
        collector.rest_until = rest_until;
}

/* A ping was delivered at SENT: its pong must be read within heartbeat_round_end()'s
 * bound, however long the rest the collector is in. */
static void collector_on_ping(usec_t sent) {
        collector.n_awaiting++;
        collector.latest_ping = sent;
        if (collector.mode == COLLECTOR_IDLE)
                collector_set_mode(COLLECTOR_WATCHING, 0);
        else if (collector.mode == COLLECTOR_RESTING && collector.rest_until > sent + HEARTBEAT_ROUND_MIN_REST)
                collector_set_mode(COLLECTOR_RESTING, sent + HEARTBEAT_ROUND_MIN_REST);
}

/* The ping in flight has its outcome (answered, missed, or the heartbeat is going). */
static void heartbeat_settle(struct heartbeat *hb) {
        if (hb->awaiting && hb->delivered && --collector.n_awaiting == 0)
                collector_set_mode(COLLECTOR_IDLE, 0);
        hb->awaiting = false;
}

static void heartbeat_read_pongs(struct heartbeat *hb, usec_t now);

/* One round: read every pong pipe the epoll set says has something, once.  Returns how
 * many there were (HEARTBEAT_MAX_PER_WAKEUP: maybe more), or a negative errno. */
static int collector_read_ready(usec_t *ret_now) {
        struct epoll_event events[HEARTBEAT_MAX_PER_WAKEUP];
        int n = epoll_wait(collector.epoll_fd, events, (int)ELEMENTSOF(events), 0);
        /* The moment every pong read below had arrived by: it ends the round trips they
         * answer. */
        *ret_now = now_monotonic();
        if (n < 0)
                return errno == EINTR ? 0 : -errno;
        /* Reading never frees a heartbeat (only deadlines do), so the pointers hold. */
        for (int i = 0; i < n; i++)
                heartbeat_read_pongs(events[i].data.ptr, *ret_now);
        schedule_arm();  /* answered heartbeats moved from their deadline to their next ping */
        return n;
}

/* A round, from the watch or at the end of a rest.  Then: watch again when it found
 * nothing, so that the next pong is read as it comes; rest when it found some, since more
 * answers to the same burst of pings are on their way; read again at the next loop
 * iteration when the round was cut short (others get their turn in between). */
static void collector_round(void) {
        usec_t now;
        int n = collector_read_ready(&now);
        if (n < 0)  /* not expected of a valid epoll fd; resting keeps it from spinning */
                log_error_errno(n, "heartbeat: cannot read which pong pipes are ready");
        if (collector.n_awaiting == 0)
                collector_set_mode(COLLECTOR_IDLE, 0);
        else if (n == HEARTBEAT_MAX_PER_WAKEUP || n == 0)
                collector_set_mode(COLLECTOR_WATCHING, 0);
        else
                collector_set_mode(COLLECTOR_RESTING, heartbeat_round_end(now, collector.latest_ping));
}

static int collector_on_watch(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        (void)source;
        (void)fd;
        (void)revents;
        (void)userdata;
        collector_round();
        return 0;
}

static int collector_on_rest_end(sd_event_source *source, uint64_t usec, void *userdata) {
        (void)source;
        (void)usec;
        (void)userdata;
        collector_round();
        return 0;
}

/* ---- the deadlines and pings ---- */

static void heartbeat_send_ping(struct heartbeat *hb, usec_t now);

/* hb's `due` has come: the ping in flight went unanswered, or the next one is to be sent.
 * May free hb (through on_hung). */
static void heartbeat_on_due(struct heartbeat *hb, usec_t now) {
        if (!hb->awaiting) {
                heartbeat_send_ping(hb, now);
                return;
        }
        if (hb->delivered && hb->pong_fd >= 0) {
                /* Its pong may be in the pipe while the collector rests: look before judging. */
                heartbeat_read_pongs(hb, now);
                if (!hb->awaiting)
                        return;  /* answered: due is its next ping now */
        }
        heartbeat_settle(hb);
        hb->misses++;
        if (hb->misses >= hb->params.misses) {
                heap_remove(hb);
                const char *detail = hb->pong_fd < 0 ? "its pong pipe is closed"
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
        for (unsigned n = 0; n < HEARTBEAT_MAX_PER_WAKEUP && schedule.size > 0; n++) {
                struct heartbeat *hb = schedule.heap[0];
                /* Read the clock for each: a ping's round trip starts when it is written, and
                 * a few hundred writes take a while. */
                usec_t now = now_monotonic();
                if (hb->due > now)
                        break;
                heartbeat_on_due(hb, now);
        }
        schedule_arm();
        return 0;
}

static void schedule_destroy(void) {
        schedule.timer = sd_event_source_disable_unref(schedule.timer);
        free(schedule.heap);
        schedule.heap = NULL;
        schedule.size = schedule.capacity = 0;
        collector.round_timer = sd_event_source_disable_unref(collector.round_timer);
        if (collector.watch)
                collector.watch = sd_event_source_disable_unref(collector.watch);  /* closes epoll_fd */
        else if (collector.epoll_fd >= 0)
                close(collector.epoll_fd);
        collector.epoll_fd = -1;
        collector.mode = COLLECTOR_IDLE;
        collector.n_awaiting = 0;
}

static int schedule_create(sd_event *event) {
        /* 10 ms accuracy: the timer may fire up to 10 ms late, and everything due by then is
         * handled in that one wake-up: the pings of each interval fall due together anyway,
         * and this gathers deadlines and pings of other intervals close to them.  (The
         * default, 250 ms, would blur timeouts of a fraction of a second.) */
        int r = sd_event_add_time(event, &schedule.timer, CLOCK_MONOTONIC, 0, HEARTBEAT_TIMER_ACCURACY,
                                  schedule_on_timer, NULL);
        if (r < 0)
                return r;
        sd_event_source_set_enabled(schedule.timer, SD_EVENT_OFF);

        collector.epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        if (collector.epoll_fd < 0) {
                r = -errno;
                goto fail;
        }
        r = sd_event_add_io(event, &collector.watch, collector.epoll_fd, 0, collector_on_watch, NULL);
        if (r < 0)
                goto fail;
        sd_event_source_set_io_fd_own(collector.watch, true);
        r = sd_event_add_time(event, &collector.round_timer, CLOCK_MONOTONIC, 0, ROUND_TIMER_ACCURACY,
                              collector_on_rest_end, NULL);
        if (r < 0)
                goto fail;
        sd_event_source_set_enabled(collector.round_timer, SD_EVENT_OFF);
        collector.mode = COLLECTOR_IDLE;
        return 0;

fail:
        schedule_destroy();
        return r;
}

static int schedule_ref(sd_event *event) {
        if (!schedule.timer) {
                int r = schedule_create(event);
                if (r < 0)
                        return r;
        }
        schedule.n_heartbeats++;
        return 0;
}

static void schedule_unref(void) {
        /* The last one is gone: leave nothing behind on the event loop. */
        if (--schedule.n_heartbeats == 0)
                schedule_destroy();
}

/* ---- one heartbeat ---- */

static void heartbeat_answered(struct heartbeat *hb, usec_t now) {
        heartbeat_settle(hb);
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
                /* WATCHDOG=1 came before the ping: it is answered already. */
                hb->watchdog_pending = false;
                heartbeat_answered(hb, now);
                return;
        }
        hb->awaiting = true;
        if (hb->delivered)
                collector_on_ping(now);
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

/* A pong line read at NOW (the round's clock). */
static void heartbeat_on_line(struct heartbeat *hb, const char *line, size_t len, usec_t now) {
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
        hb->rtt = now > hb->ping_time ? now - hb->ping_time : 0;
        hb->has_rtt = true;
        heartbeat_answered(hb, now);
}

static void heartbeat_close_pong(struct heartbeat *hb) {
        if (hb->pong_fd < 0)
                return;
        /* Before the close: a child between fork and exec may hold a copy of the fd, and epoll
         * forgets a file only when its last fd goes, so it would report a freed heartbeat. */
        (void)epoll_ctl(collector.epoll_fd, EPOLL_CTL_DEL, hb->pong_fd, NULL);  /* it was added: cannot fail */
        close(hb->pong_fd);
        hb->pong_fd = -1;
}

/* One read of the pong pipe: whatever it leaves, the next round reads (the epoll set is
 * level-triggered), so a read that does not fill the buffer needs no second one to see
 * EAGAIN. */
static void heartbeat_read_pongs(struct heartbeat *hb, usec_t now) {
        char buf[PONG_READ_SIZE];
        ssize_t n = read(hb->pong_fd, buf, sizeof buf);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return;
        if (n <= 0) {
                /* Every writer is gone: from now on each ping is a miss.  Leaving the epoll set
                 * also stops it from reporting the hang-up forever. */
                log_debug("%s: heartbeat pong pipe closed%s%s", hb->name, n < 0 ? ": " : "",
                          n < 0 ? strerror(errno) : "");
                heartbeat_close_pong(hb);
                return;
        }
        for (ssize_t i = 0; i < n; i++) {
                char c = buf[i];
                if (c == '\n') {
                        if (!hb->discarding)
                                heartbeat_on_line(hb, hb->line, hb->line_len, now);
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
        hb->ping_fd = hb->child_ping_fd = hb->child_pong_fd = hb->pong_fd = -1;

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
        struct epoll_event watch = { .events = EPOLLIN, .data.ptr = hb };
        if (epoll_ctl(collector.epoll_fd, EPOLL_CTL_ADD, pong[0], &watch) < 0) {
                r = -errno;
                schedule_unref();
                goto fail;
        }
        hb->pong_fd = pong[0];
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
         * moments, so one wake-up sends all their pings (and their answers come together). */
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
        heartbeat_settle(hb);
        bool was_first = hb->heap_index == 0;
        heap_remove(hb);
        if (was_first)
                schedule_arm();
        heartbeat_close_pong(hb);
        close_fd(&hb->ping_fd);
        close_fd(&hb->child_ping_fd);
        close_fd(&hb->child_pong_fd);
        free(hb);
        schedule_unref();
        return NULL;
}
