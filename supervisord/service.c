/* service.c — see service.h.
 *
 * One struct service per configured service.  Each has at most one timer armed at a
 * time (start-secs while STARTING, the backoff delay while BACKOFF, stop-timeout while
 * STOPPING): a deadline in one set for all of them (deadlines.c), behind one sd-event
 * timer.
 *
 * Process groups: every service runs in its own session, so its pid is also its process
 * group id.  Signals go to the whole group.  A stop is complete only when the main process
 * has exited *and* the group is empty, and when a main process dies on its own whatever
 * is left of its group is killed, so that restarts never pile up orphans. */
#include "service.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "cmdline.h"
#include "deadlines.h"
#include "heartbeat.h"
#include "input.h"
#include "leftovers.h"
#include "listener.h"
#include "log.h"
#include "logfile.h"
#include "names.h"
#include "notify.h"
#include "spawn.h"

struct service {
        /* Pointers and 64-bit values first, then 32-bit, then bytes: ten thousand of these
         * are kept, and the holes between mixed sizes were 40 bytes of each. */
        struct service_config *config;  /* one reference */
        struct service_config *next_config;  /* reload: the definition to switch to once stopped (a reference) */
        struct service *next_by_pid;  /* chain in pid_index */
        unsigned long long group_start_time;  /* of the group's leader, for the crash record */
        usec_t spawn_time;            /* monotonic */
        time_t stopped_at;            /* wall clock of the last change to STOPPED, 0 if none */
        pid_t *stop_signalled;        /* owned: the strays the stop signal went to in this stop ... */
        size_t n_stop_signalled, stop_signalled_size;  /* ... so that none gets it twice */
        struct deadline deadline;     /* in service_deadlines: one at a time, re-armed per state */
        sd_event_source *error_watch; /* owned, with the spawn error pipe fd */
        char *message;                /* owned: why it is in its state, NULL when nothing to say */
        char *spawn_error;            /* owned: why the last spawn failed, NULL when it did not */
        usec_t start_realtime;        /* wall clock of the last spawn */
        usec_t stop_realtime;         /* wall clock of the last exit or failed spawn */
        struct log_capture *log;      /* owned: output pipe and log file; released, never freed, here */
        struct heartbeat *heartbeat;  /* owned: the current process's ping/pong pipes, NULL without */
        struct notify *notify;        /* owned: the current process's NOTIFY_SOCKET (type = notify) */
        struct listener *listener;    /* owned: an event listener's protocol pipes (listener.h) */
        struct input *input;          /* owned: the current process's stdin pipe (stdin = pipe) */
        char *notify_status;          /* owned: its last STATUS=, NULL once it is gone */
        char *failure_reason;         /* owned: why (hung, never ready), NULL if nothing */
        sd_event_source *main_pid_watch;  /* owned: a MAINPID= that is not our child (pidfd, or a poll) */
        unsigned instance;
        enum service_state state;
        pid_t pid;                    /* main process, 0 when none; set with service_set_pid() */
        pid_t last_pid;               /* the main process before, for the subscribers of an exit */
        pid_t group;                  /* process group to signal, 0 when none is left */
        pid_t daemon_session;         /* type = forking: the daemon's session, recorded when not its group */
        pid_t daemon_recorded;        /* ... and the daemon itself, when it leads no group */
        pid_t launcher;               /* type = forking: the command, until it exits */
        unsigned failures;            /* consecutive failed starts */
        unsigned restarts;
        int last_wait_status;
        int stop_group_priority, stop_priority;  /* its place in an ordered stop: its own
                                      * priorities, or those of a dependency stopping later */
        enum event_cause failure_cause;  /* why a stop_is_failure stop fails: hung, never ready */
        bool has_exited;
        bool killed;                  /* SIGKILL already sent in this stop */
        bool strays_signalled;        /* stop-signal already sent to strays in this stop */
        bool start_pending;           /* start asked, waiting for `after` services */
        bool stop_pending;            /* ordered stop asked, waiting for dependents */
        bool start_after_stop;        /* reload changed it: start again once stopped */
        bool removing;                /* reload removed it: free once stopped */
        bool has_dependents;          /* some service names it in `after` */
        bool strays_due;              /* its process died on its own: the batched search kills its strays */
        bool strays_check_due;        /* its stop waits for the batched check of strays (strays_check) */
        bool strays_check_signal;     /* ... which sends them the stop signal (or SIGKILL) */
        bool strays_found;            /* ... and found some */
        bool spawn_failed_for_good;   /* the current process failed a setup step that no retry can pass */
        bool stop_is_failure;         /* the stop under way ends in a restart as a failure */
        bool failed_while_starting;   /* ... and counts as a failed start */
        char name[];                  /* NAME, or NAME@K with instances: allocated with it */
};

static void *mfree(void *p) {
        free(p);
        return NULL;
}

#define SERVICE_MESSAGE_MAX 256

/* The message says why a service is in its state ("exited too quickly (exit status 1)",
 * "waiting for db"), at most SERVICE_MESSAGE_MAX - 1 bytes, and is on the heap only while
 * there is one: most services have none, most of the time. */
static void __attribute__((format(printf, 2, 3))) service_set_message(struct service *s, const char *format, ...) {
        char buf[SERVICE_MESSAGE_MAX];
        va_list ap;
        va_start(ap, format);
        vsnprintf(buf, sizeof buf, format, ap);
        va_end(ap);
        if (s->message && strcmp(s->message, buf) == 0)
                return;  /* said again, as "waiting for" is at every pass */
        char *copy = strdup(buf);
        if (!copy)
                return;  /* the old one, rather than none */
        free(s->message);
        s->message = copy;
}

static void service_clear_message(struct service *s) { s->message = mfree(s->message); }

static const char *service_message(const struct service *s) { return s->message ? s->message : ""; }

static sd_event *service_event;
static struct service **service_table;   /* owned, each entry owned */
static size_t service_table_size, service_table_capacity;
static struct event_bus *service_bus;  /* where transitions are published; not owned */
static sd_event_source *pending_source;  /* deferred pass over pending starts/stops */
/* Some service may have start_pending or stop_pending set: without one, a state change
 * has no pass over the table to schedule (it is O(N), and a crash loop changes states
 * all the time). */
static bool any_pending;
static struct deadlines *service_deadlines;  /* owned: every service's timer */
/* Work per wake-up, each step of which may be a spawn (~50 us): enough for a thousand
 * services to go quickly, few enough that control clients, served first between
 * wake-ups, never wait behind a crash loop for long. */
#define DEADLINES_PER_WAKEUP 16
#define REAPS_PER_WAKEUP 32
/* Main pids to services: every reaped child is looked up here, so a restart storm over
 * thousands of services costs no scan of the table per exit. */
#define PID_INDEX_SIZE 4096
static struct service *pid_index[PID_INDEX_SIZE];
/* Services in STOPPING: when none is, reaping has no stop to finish. */
static size_t n_stopping;

static const char *const state_names[] = {
        [STATE_STOPPED] = "STOPPED",   [STATE_STARTING] = "STARTING", [STATE_RUNNING] = "RUNNING",
        [STATE_BACKOFF] = "BACKOFF",   [STATE_STOPPING] = "STOPPING", [STATE_EXITED] = "EXITED",
        [STATE_FATAL] = "FATAL",
};

const char *service_state_to_string(enum service_state state) {
        return (unsigned)state < ELEMENTSOF(state_names) ? state_names[state] : "UNKNOWN";
}

/* ---- pure rules ---- */

usec_t service_backoff_delay(const struct service_config *config, unsigned failures) {
        usec_t delay = config->restart_delay;
        for (unsigned i = 1; i < failures && delay < config->restart_delay_max; i++)
                delay *= 2;
        return delay < config->restart_delay_max ? delay : config->restart_delay_max;
}

enum exit_action service_exit_action(const struct service_config *config, enum service_state state,
                                     int wait_status, unsigned failures) {
        if (state == STATE_STARTING) {
                if (config->start_retries > 0 && failures >= config->start_retries)
                        return EXIT_ACTION_FATAL;
                return EXIT_ACTION_BACKOFF;
        }
        switch (config->restart) {
        case RESTART_ALWAYS:
                return EXIT_ACTION_RESTART;
        case RESTART_NEVER:
                return EXIT_ACTION_EXITED;
        case RESTART_ON_FAILURE:
                if (WIFEXITED(wait_status) && service_config_is_success(config, WEXITSTATUS(wait_status)))
                        return EXIT_ACTION_EXITED;
                return EXIT_ACTION_RESTART;
        }
        return EXIT_ACTION_EXITED;
}

void service_describe_wait_status(int wait_status, char *buf, size_t size) {
        if (WIFEXITED(wait_status)) {
                snprintf(buf, size, "exit status %d", WEXITSTATUS(wait_status));
        } else if (WIFSIGNALED(wait_status)) {
                const char *name = signal_name(WTERMSIG(wait_status));
                if (name)
                        snprintf(buf, size, "killed by SIG%s%s", name, WCOREDUMP(wait_status) ? " (core dumped)" : "");
                else
                        snprintf(buf, size, "killed by signal %d", WTERMSIG(wait_status));
        } else {
                snprintf(buf, size, "wait status 0x%x", (unsigned)wait_status);
        }
}

/* ---- state changes ---- */

/* Something about S changed without a transition (EVENT_SERVICE_PENDING), or it is about
 * to be freed (EVENT_SERVICE_REMOVED). */
static void service_notify(struct service *s, enum event_type type) {
        struct event e = { .type = type, .service = s };
        event_bus_publish(service_bus, &e);
}

static void services_publish_group(enum event_type type, const char *name) {
        struct event e = { .type = type, .group = name };
        event_bus_publish(service_bus, &e);
}

static void services_schedule_pending(void);

static void pid_index_remove(struct service *s) {
        if (s->pid <= 0)
                return;
        struct service **link = &pid_index[(unsigned)s->pid % PID_INDEX_SIZE];
        while (*link && *link != s)
                link = &(*link)->next_by_pid;
        if (*link)
                *link = s->next_by_pid;
        s->next_by_pid = NULL;
}

static void service_set_pid(struct service *s, pid_t pid) {
        pid_index_remove(s);
        if (s->pid > 0)
                s->last_pid = s->pid;
        s->pid = pid;
        if (pid > 0) {
                struct service **head = &pid_index[(unsigned)pid % PID_INDEX_SIZE];
                s->next_by_pid = *head;
                *head = s;
        }
}

/* The one writer of a service's state.  CAUSE says why, for the subscribers of the bus;
 * with EVENT_CAUSE_EXITED the last wait status says how. */
static void service_set_state(struct service *s, enum service_state state, enum event_cause cause) {
        enum service_state from = s->state;
        if (from != state)
                log_service(LOG_INFO, s->name, "%s -> %s", state_names[from], state_names[state]);
        n_stopping += (state == STATE_STOPPING) - (from == STATE_STOPPING);
        if (state == STATE_STOPPED && from != STATE_STOPPED)
                s->stopped_at = time(NULL);
        s->state = state;
        services_schedule_pending();
        struct event e = {
                .type = EVENT_SERVICE_STATE, .service = s, .from = (int)from, .to = (int)state, .cause = cause,
                .has_wait_status = cause == EVENT_CAUSE_EXITED && s->has_exited, .wait_status = s->last_wait_status,
                .pid = s->pid, .exited_pid = s->last_pid,
        };
        event_bus_publish(service_bus, &e);
}

static bool state_is_active(enum service_state state) {
        return state == STATE_STARTING || state == STATE_RUNNING || state == STATE_STOPPING;
}

/* Every change of the live process groups goes to the crash record (leftovers.c), with
 * the leader's START_TIME, taken once here, not at every rewrite of the record: that
 * would be a /proc read per service for each restart of any one of them. */
static void service_set_group_started(struct service *s, pid_t group, unsigned long long start_time) {
        if (s->group != group) {
                if (s->group > 0)
                        leftovers_remove(LEFTOVER_GROUP, s->group);
                if (group > 0)
                        leftovers_add(LEFTOVER_GROUP, group, start_time);
                s->group_start_time = group > 0 ? start_time : 0;
                /* What was recorded beside the old group goes with it. */
                if (s->daemon_session > 0)
                        leftovers_remove(LEFTOVER_SESSION, s->daemon_session);
                if (s->daemon_recorded > 0)
                        leftovers_remove(LEFTOVER_PROCESS, s->daemon_recorded);
                s->daemon_session = s->daemon_recorded = 0;
        }
        s->group = group;
}

static void service_set_group(struct service *s, pid_t group) {
        service_set_group_started(s, group, s->group != group && group > 0 ? process_start_time(group) : 0);
}

/* The main pid was found (a forking daemon's pidfile, MAINPID=) and its group recorded:
 * its session and itself are recorded too when they are not that group, which they are
 * not for a daemon whose launcher's child called setsid and forked again.  A crash of
 * ours then takes them along all the same. */
static void service_record_main(struct service *s) {
        pid_t session = getsid(s->pid);
        if (session > 0 && session != s->group && !s->daemon_session) {
                s->daemon_session = session;
                leftovers_add(LEFTOVER_SESSION, session, process_start_time(session));
        }
        if (s->pid != s->group && !s->daemon_recorded) {
                s->daemon_recorded = s->pid;
                leftovers_add(LEFTOVER_PROCESS, s->pid, process_start_time(s->pid));
        }
}

static void service_on_timer(struct service *s);

static void service_arm_timer(struct service *s, usec_t delay) {
        /* Without a timer the service would hang in its state forever. */
        int r = deadline_arm(service_deadlines, &s->deadline, now_monotonic() + delay);
        if (r < 0)
                log_service(LOG_ERR, s->name, "cannot arm timer: %s", strerror(-r));
}

static void service_disarm_timer(struct service *s) { deadline_disarm(service_deadlines, &s->deadline); }

static void service_on_deadline(struct deadline *deadline, void *userdata) {
        (void)userdata;
        service_on_timer((struct service *)((char *)deadline - offsetof(struct service, deadline)));
}

static void service_close_error_watch(struct service *s) {
        s->error_watch = sd_event_source_disable_unref(s->error_watch);
}

/* Kept apart from the message, which the next state may replace: clients ask for it. */
static void service_keep_spawn_error(struct service *s, const char *message) {
        free(s->spawn_error);
        s->spawn_error = message ? strdup(message) : NULL;  /* NULL on ENOMEM: only it is lost */
}

/* The setup step a child failed at, to show as the reason of its exit (127). */
static void service_record_spawn_error(struct service *s, const char *message) {
        if (!message[0])
                return;
        service_keep_spawn_error(s, message);
        service_set_message(s, "%s", message);
        log_service(LOG_ERR, s->name, "%s", message);
}

/* Take what the child said before dying; called before acting on its exit. */
static void service_collect_spawn_error(struct service *s) {
        char buf[SERVICE_MESSAGE_MAX];
        bool permanent;
        if (s->error_watch)
                permanent = spawn_read_error(sd_event_source_get_io_fd(s->error_watch), s->config, buf, sizeof buf);
        else
                permanent = spawn_collect(s->pid, buf, sizeof buf);
        if (permanent)
                s->spawn_failed_for_good = true;
        service_record_spawn_error(s, buf);
        service_close_error_watch(s);
}

static int service_on_error_pipe(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        struct service *s = userdata;
        (void)source;
        (void)fd;
        (void)revents;
        /* Either the child exec'd (EOF) or it reported a failure and is exiting. */
        service_collect_spawn_error(s);
        return 0;
}

static void service_failed_start(struct service *s, int wait_status, enum event_cause cause);
static int service_stop_because(struct service *s, enum event_cause cause);

/* ---- liveness: heartbeats (heartbeat.c) and readiness (notify.c) ---- */

static void service_spawn(struct service *s);
static void strays_record_start(void);
static bool pid_is_ours(pid_t pid);
static void service_on_exit(struct service *s, int wait_status);

/* The process failed without exiting (hung, never ready): stop it as service_stop does
 * (stop-signal, SIGKILL after stop-timeout) and, once it is gone, restart it as a failure
 * (service_finish_failure_stop). */
static void service_stop_as_failure(struct service *s, const char *reason, enum event_cause cause) {
        log_service(LOG_WARNING, s->name, "%s; stopping pid %d", reason, (int)s->pid);
        s->failed_while_starting = s->state == STATE_STARTING;
        free(s->failure_reason);
        s->failure_reason = strdup(reason);  /* NULL on ENOMEM: only the message is lost */
        s->stop_is_failure = true;
        s->failure_cause = cause;
        service_stop_because(s, cause);
        if (s->state == STATE_STOPPING)
                service_set_message(s, "%s", reason);  /* service_stop cleared it */
}

/* A stop begun by service_stop_as_failure() is over: a failed start while STARTING
 * (BACKOFF or FATAL), else the restart policy — never leaves it EXITED, on-failure and
 * always restart it, since a hang is a failure whatever the exit status it was killed
 * with.  False when it was an ordinary stop, or when a stop, reload or removal was asked
 * for meanwhile: that request wins. */
static bool service_finish_failure_stop(struct service *s) {
        if (!s->stop_is_failure)
                return false;
        s->stop_is_failure = false;
        if (s->stop_pending || s->removing || s->start_after_stop || s->next_config)
                return false;
        service_set_message(s, "%s", s->failure_reason ? s->failure_reason : "failed");
        if (s->failed_while_starting) {
                service_failed_start(s, s->last_wait_status, s->failure_cause);
                return true;
        }
        if (s->config->restart == RESTART_NEVER) {
                log_service(LOG_NOTICE, s->name, "not restarted (restart = never)");
                service_set_state(s, STATE_EXITED, s->failure_cause);
                return true;
        }
        log_service(LOG_NOTICE, s->name, "restarting after: %s", s->failure_reason ? s->failure_reason : "a failure");
        s->restarts++;
        service_spawn(s);
        return true;
}

static void service_on_hung(struct heartbeat *heartbeat, unsigned misses, usec_t last_answer, const char *detail,
                            void *userdata) {
        struct service *s = userdata;
        const struct service_config *c = s->config;
        char reason[160], answered[48] = "never answered";
        (void)heartbeat;
        if (last_answer > 0)
                snprintf(answered, sizeof answered, "last answer %.1fs ago",
                         (double)(now_monotonic() - last_answer) / USEC_PER_SEC);
        snprintf(reason, sizeof reason, "hung: %u heartbeats missed in a row (interval %gs, timeout %gs, %s%s%s)",
                 misses, (double)c->heartbeat_interval / USEC_PER_SEC, (double)c->heartbeat_timeout / USEC_PER_SEC,
                 answered, detail[0] ? ", " : "", detail);
        s->heartbeat = heartbeat_free(s->heartbeat);
        service_stop_as_failure(s, reason, EVENT_CAUSE_HEARTBEAT_MISSED);
}

/* The exit status of a main pid that was not our child is lost with its parent's wait():
 * counted as a failure, shown as exit status 255. */
#define WAIT_STATUS_UNKNOWN W_EXITCODE(255, 0)

/* Without pidfd_open() (Linux before 5.3, or under valgrind) the main pid is looked at
 * this often instead. */
#define MAIN_PID_POLL_INTERVAL USEC_PER_SEC

/* The main pid that MAINPID= named has exited. */
static void service_on_main_pid_gone(struct service *s) {
        s->main_pid_watch = sd_event_source_disable_unref(s->main_pid_watch);
        int status;
        pid_t reaped = waitpid(s->pid, &status, WNOHANG);
        if (reaped == s->pid) {
                service_on_exit(s, status);  /* it was adopted by us after all */
                return;
        }
        if (reaped == 0)
                return;  /* our child now: SIGCHLD brings its status */
        log_service(LOG_NOTICE, s->name, "main pid %d is gone; its parent collected its exit status", (int)s->pid);
        service_on_exit(s, WAIT_STATUS_UNKNOWN);
}

static int service_on_main_pid_exit(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        (void)source;
        (void)fd;
        (void)revents;
        service_on_main_pid_gone(userdata);
        return 0;
}

static int service_on_main_pid_poll(sd_event_source *source, uint64_t usec, void *userdata) {
        struct service *s = userdata;
        (void)usec;
        /* A zombie still answers kill(): its parent, or we, will collect it shortly. */
        if (kill(s->pid, 0) < 0 && errno == ESRCH) {
                service_on_main_pid_gone(s);
                return 0;
        }
        if (sd_event_source_set_time_relative(source, MAIN_PID_POLL_INTERVAL) < 0
            || sd_event_source_set_enabled(source, SD_EVENT_ONESHOT) < 0)
                log_service(LOG_WARNING, s->name, "cannot watch main pid %d any more", (int)s->pid);
        return 0;
}

/* MAINPID= moved the main pid to PID.  A process that is not our child reaches us on exit
 * only if it outlives its parent (we are the subreaper); a pidfd tells us in every case. */
static void service_watch_main_pid(struct service *s, pid_t pid) {
        s->main_pid_watch = sd_event_source_disable_unref(s->main_pid_watch);
        siginfo_t info;
        if (waitid(P_PID, pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0)
                return;  /* our child: services_reap() sees its exit */
        int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);  /* close-on-exec by definition */
        if (pidfd < 0) {
                log_service(LOG_INFO, s->name, "no pidfd for main pid %d (%s): checking it every %gs", (int)pid,
                            strerror(errno), (double)MAIN_PID_POLL_INTERVAL / USEC_PER_SEC);
                int r = sd_event_add_time_relative(service_event, &s->main_pid_watch, CLOCK_MONOTONIC,
                                                   MAIN_PID_POLL_INTERVAL, USEC_PER_MSEC, service_on_main_pid_poll, s);
                if (r < 0)
                        log_service(LOG_WARNING, s->name, "cannot watch main pid %d, its exit may go unnoticed: %s",
                                    (int)pid, strerror(-r));
                return;
        }
        int r = sd_event_add_io(service_event, &s->main_pid_watch, pidfd, EPOLLIN, service_on_main_pid_exit, s);
        if (r < 0) {
                close(pidfd);
                log_service(LOG_WARNING, s->name, "cannot watch main pid %d, its exit may go unnoticed: %s", (int)pid,
                            strerror(-r));
                return;
        }
        sd_event_source_set_io_fd_own(s->main_pid_watch, true);
}

static void service_on_notify(struct notify *notify, const struct notify_message *m, pid_t sender, void *userdata) {
        struct service *s = userdata;
        if (m->has_status) {
                free(s->notify_status);
                s->notify_status = strdup(m->status);  /* NULL on ENOMEM: shown as no status */
                log_service(LOG_DEBUG, s->name, "STATUS=%s", m->status);
        }
        if (m->main_pid > 0 && m->main_pid != s->pid) {
                /* Only a process in our tree: its exit must reach us, and a stale or
                 * foreign pid must not become something we signal. */
                if (pid_is_ours(m->main_pid)) {
                        log_service(LOG_INFO, s->name, "main pid %d (MAINPID= from pid %d)", (int)m->main_pid,
                                    (int)sender);
                        service_set_pid(s, m->main_pid);
                        pid_t group = getpgid(s->pid);
                        service_set_group(s, group > 0 ? group : s->pid);
                        service_record_main(s);
                        notify_set_main_pid(notify, s->pid);
                        service_watch_main_pid(s, s->pid);
                } else
                        log_service(LOG_WARNING, s->name, "ignoring MAINPID=%d: not a process of ours", (int)m->main_pid);
        }
        if (m->watchdog)
                heartbeat_on_watchdog(s->heartbeat);  /* NULL without heartbeat-interval: nothing to do */
        if (m->stopping)
                log_service(LOG_INFO, s->name, "says it is stopping (STOPPING=1)");
        if (m->ready) {
                if (s->state == STATE_STARTING) {
                        log_service(LOG_INFO, s->name, "ready (READY=1 from pid %d)", (int)sender);
                        service_disarm_timer(s);
                        s->failures = 0;
                        service_clear_message(s);
                        service_set_state(s, STATE_RUNNING, EVENT_CAUSE_READY);
                } else
                        log_service(LOG_DEBUG, s->name, "READY=1 in state %s: nothing to do", state_names[s->state]);
        }
}

/* Before the spawn: the heartbeat pipes and the notify socket of the new process, put in
 * OPTIONS (at fds 3, 4 and in ENV, room for 4 entries, which options->extra_env uses). */
static int service_prepare_liveness(struct service *s, struct spawn_options *options, char **env) {
        const struct service_config *c = s->config;
        size_t n = 0;
        int r;

        s->notify_status = mfree(s->notify_status);
        if (c->heartbeat_interval > 0) {
                const struct heartbeat_params params = {
                        .interval = c->heartbeat_interval, .timeout = c->heartbeat_timeout, .misses = c->heartbeat_misses,
                };
                r = heartbeat_new(service_event, s->name, &params, service_on_hung, s, &s->heartbeat);
                if (r < 0)
                        return r;
                heartbeat_child_fds(s->heartbeat, &options->extra_fds[0], &options->extra_fds[1]);
                options->n_extra_fds = 2;
                env[n++] = (char *)HEARTBEAT_ENV_PING;
                env[n++] = (char *)HEARTBEAT_ENV_PONG;
        }
        if (c->type == SERVICE_NOTIFY) {
                r = notify_new(service_event, s->name, service_on_notify, s, &s->notify);
                if (r < 0) {
                        s->heartbeat = heartbeat_free(s->heartbeat);
                        return r;
                }
                env[n++] = (char *)notify_environment(s->notify);
        }
        env[n] = NULL;
        options->extra_env = n > 0 ? env : NULL;
        return 0;
}

/* The process is gone (or never was): no more pings, no more notify messages for it. */
static void service_end_liveness(struct service *s) {
        s->listener = listener_free(s->listener);
        s->input = input_free(s->input);
        s->heartbeat = heartbeat_free(s->heartbeat);
        s->notify = notify_free(s->notify);
        s->notify_status = mfree(s->notify_status);
        s->main_pid_watch = sd_event_source_disable_unref(s->main_pid_watch);
}

/* After the spawn of PID (0: it failed). */
static void service_begin_liveness(struct service *s, pid_t pid) {
        int r;
        if (pid <= 0) {
                service_end_liveness(s);
                return;
        }
        if (s->heartbeat && (r = heartbeat_begin(s->heartbeat)) < 0) {
                log_service(LOG_ERR, s->name, "cannot schedule heartbeats, running without: %s", strerror(-r));
                s->heartbeat = heartbeat_free(s->heartbeat);
        }
        if (s->notify)
                notify_set_session(s->notify, pid);  /* setsid() made it a session leader */
}

/* No process came of a spawn: say why, and count it as a failed start. */
static void service_spawn_failed(struct service *s, const char *step, int error) {
        service_set_message(s, "%s: %s", step, strerror(-error));
        service_keep_spawn_error(s, service_message(s));
        s->stop_realtime = now_realtime();
        log_service(LOG_ERR, s->name, "cannot start: %s", service_message(s));
        /* Through the one writer of the state: a spawn after the stop of a hang comes
         * from STOPPING, whose count must drop, and observers are owed the STARTING. */
        service_set_state(s, STATE_STARTING, EVENT_CAUSE_SPAWN_ERROR);
        service_failed_start(s, -1, EVENT_CAUSE_SPAWN_ERROR);
}

/* A spawn in two halves, so that a restart can put off everything that needs not come
 * before the clone: service_fork() makes the process, service_spawned() takes it on. */
struct spawned {
        pid_t pid;                       /* 0: none was made */
        int error_fd;                    /* spawn_service()'s */
        unsigned long long start_time;   /* for the crash record */
        const char *failed_step;         /* when pid is 0 */
        int error;
        enum event_cause cause;          /* of the transition service_spawned() makes */
};

static void service_fork(struct service *s, struct spawned *out) {
        struct spawn_options options = SPAWN_OPTIONS_INIT;
        int r;

        *out = (struct spawned){ .error_fd = -1, .cause = EVENT_CAUSE_SPAWNED };
        service_clear_message(s);
        service_keep_spawn_error(s, NULL);
        s->start_pending = false;
        s->spawn_failed_for_good = false;
        options.instance = s->instance;
        options.process_name = s->name;
        /* The child gets them as 1 and 2; borrowed until log_capture_spawned(). */
        r = log_capture_prepare(s->log, s->config, &options.stdout_fd, &options.stderr_fd);
        if (r < 0) {
                *out = (struct spawned){ .error_fd = -1, .failed_step = "output pipe", .error = r };
                return;
        }
        if (s->config->events) {
                /* Its stdout is the protocol channel; stderr stays in the log. */
                s->listener = listener_free(s->listener);
                r = listener_new(s, &s->listener, &options.stdin_fd, &options.stdout_fd);
                if (r < 0) {
                        log_capture_spawned(s->log);
                        *out = (struct spawned){ .error_fd = -1, .failed_step = "event listener pipes", .error = r };
                        return;
                }
        }
        if (s->config->stdin_pipe) {
                s->input = input_free(s->input);
                r = input_new(service_event, &s->input, &options.stdin_fd);
                if (r < 0) {
                        log_capture_spawned(s->log);
                        *out = (struct spawned){ .error_fd = -1, .failed_step = "stdin pipe", .error = r };
                        return;
                }
        }
        char *liveness_env[4];
        r = service_prepare_liveness(s, &options, liveness_env);
        if (r < 0) {
                log_capture_spawned(s->log);
                s->listener = listener_free(s->listener);
                s->input = input_free(s->input);
                *out = (struct spawned){ .error_fd = -1, .failed_step = "heartbeat pipes or notify socket", .error = r };
                return;
        }
        if (cgroup_enabled() && (options.cgroup_fd = cgroup_open_procs(s->name)) < 0) {
                log_capture_spawned(s->log);
                service_end_liveness(s);
                *out = (struct spawned){ .error_fd = -1, .failed_step = "its cgroup", .error = options.cgroup_fd };
                return;
        }
        /* Not read from /proc/PID/stat: that waits while the child is in exec. */
        out->start_time = start_time_now();
        r = spawn_service(s->config, &options, &out->pid, &out->error_fd);
        if (options.cgroup_fd >= 0)
                close(options.cgroup_fd);  /* the child was sent its own */
        log_capture_spawned(s->log);
        listener_spawned(s->listener);
        input_spawned(s->input);
        if (r < 0) {
                s->listener = listener_free(s->listener);
                s->input = input_free(s->input);
        }
        service_begin_liveness(s, r < 0 ? 0 : out->pid);
        if (r < 0)
                *out = (struct spawned){ .error_fd = -1, .failed_step = "fork", .error = r };
}

static void service_spawned(struct service *s, const struct spawned *sp) {
        if (!sp->pid) {
                service_spawn_failed(s, sp->failed_step, sp->error);
                return;
        }
        pid_t pid = sp->pid;
        if (sp->error_fd >= 0) {
                /* The outcome comes later (a plain fork): the loop reads it. */
                int r = sd_event_add_io(service_event, &s->error_watch, sp->error_fd, EPOLLIN, service_on_error_pipe, s);
                if (r < 0) {
                        log_service(LOG_ERR, s->name, "cannot watch spawn pipe: %s", strerror(-r));
                        close(sp->error_fd);
                } else
                        sd_event_source_set_io_fd_own(s->error_watch, true);
        }
        service_set_pid(s, pid);
        service_set_group_started(s, pid, sp->start_time);
        strays_record_start();
        s->launcher = s->config->type == SERVICE_FORKING ? pid : 0;
        s->killed = false;
        s->spawn_time = now_monotonic();
        s->start_realtime = now_realtime();
        log_service(LOG_INFO, s->name, "spawned pid %d", (int)pid);
        usec_t start_secs = s->config->start_secs;
        /* A forking service needs time for its pidfile even when start-secs is 0. */
        if (s->config->type == SERVICE_FORKING && start_secs < USEC_PER_SEC)
                start_secs = USEC_PER_SEC;
        /* type = notify: READY=1 makes it RUNNING, not time; ready-timeout bounds the wait. */
        if (s->config->type == SERVICE_NOTIFY) {
                if (s->config->ready_timeout > 0)
                        service_arm_timer(s, s->config->ready_timeout);
                service_set_state(s, STATE_STARTING, sp->cause);
                return;
        }
        if (start_secs == 0) {
                s->failures = 0;
                service_set_state(s, STATE_RUNNING, sp->cause);
        } else {
                service_arm_timer(s, start_secs);
                service_set_state(s, STATE_STARTING, sp->cause);
        }
}

static void service_spawn(struct service *s) {
        struct spawned sp;
        service_fork(s, &sp);
        service_spawned(s, &sp);
}

/* A start that did not last start-secs: back off, or give up.  wait_status < 0: no process.
 * A setup step that no retry can pass (the command is missing or not executable, the user
 * cannot be switched to) gives up at once: retrying start-retries times only delays the
 * news and fills the log. */
static void service_failed_start(struct service *s, int wait_status, enum event_cause cause) {
        s->failures++;
        enum exit_action action = service_exit_action(s->config, STATE_STARTING, wait_status, s->failures);
        if (!s->message) {
                char how[64];
                service_describe_wait_status(wait_status, how, sizeof how);
                service_set_message(s, "exited too quickly (%s)", how);
        }
        if (s->spawn_failed_for_good) {
                char reason[SERVICE_MESSAGE_MAX];
                snprintf(reason, sizeof reason, "%s", service_message(s));
                service_set_message(s, "%.200s; not retried, since a retry cannot change it", reason);
                log_service(LOG_ERR, s->name, "%s", service_message(s));
                service_set_state(s, STATE_FATAL, cause);
                return;
        }
        if (action == EXIT_ACTION_FATAL) {
                char reason[SERVICE_MESSAGE_MAX];
                snprintf(reason, sizeof reason, "%s", service_message(s));
                service_set_message(s, "gave up after %u failed starts: %.200s", s->failures, reason);
                log_service(LOG_ERR, s->name, "%s", service_message(s));
                service_set_state(s, STATE_FATAL, cause);
                return;
        }
        usec_t delay = service_backoff_delay(s->config, s->failures);
        log_service(LOG_WARNING, s->name, "%s; retrying in %.3gs", service_message(s), (double)delay / USEC_PER_SEC);
        service_arm_timer(s, delay);
        service_set_state(s, STATE_BACKOFF, cause);
}

static bool service_group_is_alive(const struct service *s) {
        return s->group > 0 && (kill(-s->group, 0) == 0 || errno == EPERM);
}

static void service_kill_group(struct service *s, int sig) {
        if (s->group <= 0 || kill(-s->group, sig) == 0)
                return;
        /* Between fork() and the child's setsid() the group does not exist yet: signal the
         * main process.  It still blocks our signals then, so the signal stays pending until
         * the child has reset its dispositions, and then takes its default action. */
        if (errno == ESRCH && s->pid > 0 && kill(s->pid, sig) == 0)
                return;
        if (errno != ESRCH)
                log_service(LOG_WARNING, s->name, "kill -%s group %d: %s", signal_name(sig), (int)s->group,
                            strerror(errno));
}

/* What is left of a process that died on its own — its group, and in the cgroup mode
 * everything in its cgroup — is killed, so that restarts never pile up orphans. */
static void service_kill_leftovers(struct service *s) {
        service_kill_group(s, SIGKILL);
        cgroup_signal(s->name, SIGKILL);
}

static void services_remove(struct service *s);

/* Once a stop is over: a reload may want the service back with a new definition, or gone. */
static void service_after_stop(struct service *s) {
        if (s->removing) {
                services_remove(s);
                return;
        }
        if (s->next_config) {
                service_config_unref(s->config);
                s->config = s->next_config;
                s->next_config = NULL;
        }
        if (s->start_after_stop) {
                s->start_after_stop = false;
                service_start(s);
        }
}

/* In STOPPING, once nothing of the service is left. */
static struct service *services_find_by_pid(pid_t pid);

/* Strays: processes that left the service's process group (a setsid() daemon of a daemon)
 * and were adopted by us as child subreaper once their parent died.  They are the
 * service's if they still carry its SUPERVISOR_SERVICE and SUPERVISOR_INSTANCE.
 *
 * Finding them means reading the list of all our children, which the kernel makes at
 * ~0.35 us a child: 0.35 ms with a thousand services.  A stop needs the answer at once
 * (it is not over while strays live), but a process that died on its own only needs its
 * strays gone soon: those searches are done together, at most every STRAYS_INTERVAL, so
 * that a crash loop does not pay one per exit. */
#define STRAYS_INTERVAL (100 * USEC_PER_MSEC)
static sd_event_source *strays_timer;  /* owned: the batched search, while one is due */
static usec_t strays_last;             /* when the last batched search ran */

/* The service whose SUPERVISOR_SERVICE/INSTANCE the environment ENV (LEN bytes, NUL
 * separated) names, or NULL. */
static struct service *stray_owner(const char *env, size_t len) {
        const char *name = NULL, *instance = NULL;
        for (size_t i = 0; i < len; i += strlen(env + i) + 1) {
                if (strncmp(env + i, "SUPERVISOR_SERVICE=", 19) == 0)
                        name = env + i + 19;
                else if (strncmp(env + i, "SUPERVISOR_INSTANCE=", 20) == 0)
                        instance = env + i + 20;
        }
        long k;
        if (!name || !instance || parse_long(instance, 0, INT32_MAX, &k) < 0)
                return NULL;
        for (size_t i = 0; i < service_table_size; i++)
                if (service_table[i]->instance == (unsigned)k && strcmp(service_table[i]->config->name, name) == 0)
                        return service_table[i];
        return NULL;
}

/* Calls FN for each stray (a child that is no service's main process, but carries a
 * service's name) with the service it belongs to; those recorded already (leftovers.h)
 * are passed over when SKIP_RECORDED, and every other is recorded: a crash of ours now
 * leaves it to init, out of reach of everything but the record. */
static void strays_for_each_of(void (*fn)(struct service *owner, pid_t pid, void *userdata), void *userdata,
                               bool skip_recorded, bool may_reuse) {
        /* Bounded looks, not reentrant, nor need they be: 12 bytes a child is room for
         * ten thousand, read in as few passes of the kernel's list as it allows. */
        static char children[128 * 1024], env[128 * 1024];
        /* The children that were no main process at the last read, and the loop iteration
         * of that read: the stops a `stop all` or a shutdown sends in one iteration share
         * one read of the list (10 ms with ten thousand children), since a stray that
         * turns up later gets the signal when its service's group is gone. */
        static pid_t others[sizeof children / 2];
        static size_t n_others;
        static uint64_t others_iteration = UINT64_MAX;
        uint64_t iteration = UINT64_MAX;
        if (service_event)
                (void)sd_event_now(service_event, CLOCK_MONOTONIC, &iteration);
        if (!may_reuse || iteration == UINT64_MAX || iteration != others_iteration) {
                char path[64];
                snprintf(path, sizeof path, "/proc/self/task/%d/children", (int)getpid());
                int fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        return;
                size_t len = 0;
                for (ssize_t n; len < sizeof children - 1 && (n = read(fd, children + len, sizeof children - 1 - len)) > 0;)
                        len += (size_t)n;
                close(fd);
                children[len] = '\0';
                n_others = 0;
                for (char *p = children, *end; *p && n_others < ELEMENTSOF(others); p = end) {
                        long child = strtol(p, &end, 10);
                        if (end == p)
                                break;
                        if (child > 0 && !services_find_by_pid((pid_t)child))
                                others[n_others++] = (pid_t)child;
                }
                others_iteration = iteration;
        }
        for (size_t i = 0; i < n_others; i++) {
                long child = others[i];
                if (services_find_by_pid((pid_t)child))
                        continue;  /* a main process, ours or another service's */
                bool known = leftovers_has(LEFTOVER_PROCESS, (pid_t)child);
                if (known && skip_recorded)
                        continue;
                char environ_path[64];
                snprintf(environ_path, sizeof environ_path, "/proc/%ld/environ", child);
                int env_fd = open(environ_path, O_RDONLY | O_CLOEXEC);
                if (env_fd < 0)
                        continue;
                ssize_t n = read(env_fd, env, sizeof env - 1);
                close(env_fd);
                if (n <= 0)
                        continue;
                env[n] = '\0';
                struct service *owner = stray_owner(env, (size_t)n);
                if (!owner)
                        continue;
                if (!known)
                        leftovers_add(LEFTOVER_PROCESS, (pid_t)child, process_start_time((pid_t)child));
                if (fn)
                        fn(owner, (pid_t)child, userdata);
        }
}

static void strays_for_each(void (*fn)(struct service *owner, pid_t pid, void *userdata), void *userdata) {
        strays_for_each_of(fn, userdata, false, false);
}

/* In the process-group mode, strays are looked for this often just to record them:
 * nothing tells us when one is re-parented to us. */
#define STRAYS_RECORD_INTERVAL USEC_PER_SEC
static sd_event_source *strays_record_timer;  /* owned */

static void service_record_strays(struct service *s) {
        (void)s;  /* every service's: it is one look at our children */
        strays_for_each_of(NULL, NULL, true, false);
}

static int on_strays_record_timer(sd_event_source *source, uint64_t usec, void *userdata) {
        (void)usec;
        (void)userdata;
        strays_for_each_of(NULL, NULL, true, false);
        if (sd_event_source_set_time_relative(source, STRAYS_RECORD_INTERVAL) < 0
            || sd_event_source_set_enabled(source, SD_EVENT_ONESHOT) < 0)
                log_warning("cannot look for strays to record any more");
        return 0;
}

/* From the first spawn on (the mode is known by then). */
static void strays_record_start(void) {
        if (strays_record_timer || cgroup_enabled())
                return;
        int r = sd_event_add_time_relative(service_event, &strays_record_timer, CLOCK_MONOTONIC, STRAYS_RECORD_INTERVAL,
                                           100 * USEC_PER_MSEC, on_strays_record_timer, NULL);
        if (r < 0)
                log_warning("cannot schedule the look for strays to record, a crash may leave some: %s", strerror(-r));
}

static void stray_signal(struct service *s, pid_t pid, int sig) {
        log_service(LOG_INFO, s->name, "sending SIG%s to pid %d, which left the process group", signal_name(sig),
                    (int)pid);
        kill(pid, sig);
        if (sig != SIGKILL)
                kill(pid, SIGCONT);
}

struct strays_of {
        struct service *service;
        int sig;
        size_t found;
};

/* The stop signal has gone to stray PID of S in this stop (found then, or later, once its
 * parent had died), so that it is not sent twice: to some programs (supervisord among
 * them) a second TERM means "at once".  SIGKILL after the stop-timeout goes to all. */
static bool stray_stop_signalled(struct service *s, pid_t pid) {
        for (size_t i = 0; i < s->n_stop_signalled; i++)
                if (s->stop_signalled[i] == pid)
                        return true;
        if (s->n_stop_signalled == s->stop_signalled_size) {
                size_t size = s->stop_signalled_size ? 2 * s->stop_signalled_size : 8;
                pid_t *more = realloc(s->stop_signalled, size * sizeof *more);
                if (!more)
                        return false;  /* sent again, rather than not at all */
                s->stop_signalled = more;
                s->stop_signalled_size = size;
        }
        s->stop_signalled[s->n_stop_signalled++] = pid;
        return false;
}

static void strays_of_one(struct service *owner, pid_t pid, void *userdata) {
        struct strays_of *want = userdata;
        if (owner != want->service)
                return;
        want->found++;
        if (want->sig == 0)  /* only counting */
                return;
        if (want->sig == owner->config->stop_signal && want->sig != SIGKILL && stray_stop_signalled(owner, pid))
                return;
        stray_signal(owner, pid, want->sig);
}

/* Sends SIG to each stray of S now and returns how many there are. */
static size_t service_signal_strays(struct service *s, int sig) {
        struct strays_of want = { .service = s, .sig = sig };
        strays_for_each(strays_of_one, &want);
        return want.found;
}

/* The same for the start of a stop, from a read of our children made earlier in this loop
 * iteration if there was one. */
static void service_signal_strays_at_stop(struct service *s, int sig) {
        struct strays_of want = { .service = s, .sig = sig };
        strays_for_each_of(strays_of_one, &want, false, true);
}

/* SIG (the stop signal, or SIGKILL) to everything of S that supervisord knows: its process
 * group, its main process if that has left the group (a daemon that calls setsid() after
 * writing its pidfile, while a child of it stays in the old group), and the strays it
 * recognises now.  Strays that turn up later, once their parent has died, get it when
 * the group is gone (service_finish_stop_if_done). */
static void service_signal_everything(struct service *s, int sig) {
        service_kill_group(s, sig);
        pid_t group = s->pid > 0 ? getpgid(s->pid) : -1;
        if (group > 0 && group != s->group) {
                log_service(LOG_INFO, s->name, "sending SIG%s to pid %d, which left the process group %d",
                            signal_name(sig), (int)s->pid, (int)s->group);
                kill(s->pid, sig);
                if (sig != SIGKILL)
                        kill(s->pid, SIGCONT);
        }
        service_signal_strays_at_stop(s, sig);
}

static void strays_of_the_dead(struct service *owner, pid_t pid, void *userdata) {
        (void)userdata;
        if (owner->strays_due)
                stray_signal(owner, pid, SIGKILL);
}

static int on_strays_timer(sd_event_source *source, uint64_t usec, void *userdata) {
        (void)source;
        (void)usec;
        (void)userdata;
        strays_last = now_monotonic();
        strays_for_each(strays_of_the_dead, NULL);
        for (size_t i = 0; i < service_table_size; i++)
                service_table[i]->strays_due = false;
        return 0;
}

/* S's process died on its own: its strays get SIGKILL at the next batched search. */
static void service_kill_strays_soon(struct service *s) {
        s->strays_due = true;
        if (strays_timer && sd_event_source_get_enabled(strays_timer, NULL) > 0)
                return;  /* one is due already */
        usec_t now = now_monotonic(), at = strays_last + STRAYS_INTERVAL;
        usec_t delay = at > now ? at - now : 0;
        int r;
        if (!strays_timer)
                r = sd_event_add_time_relative(service_event, &strays_timer, CLOCK_MONOTONIC, delay, USEC_PER_MSEC,
                                               on_strays_timer, NULL);
        else if ((r = sd_event_source_set_time_relative(strays_timer, delay)) >= 0)
                r = sd_event_source_set_enabled(strays_timer, SD_EVENT_ONESHOT);
        if (r < 0) {
                log_service(LOG_WARNING, s->name, "cannot schedule the search for strays, searching now: %s",
                            strerror(-r));
                service_signal_strays(s, SIGKILL);
                s->strays_due = false;
        }
}

static void service_complete_stop(struct service *s);
static void service_check_strays_soon(struct service *s);

static void service_finish_stop_if_done(struct service *s) {
        if (s->state != STATE_STOPPING || s->pid != 0 || s->strays_check_due)
                return;
        if (service_group_is_alive(s))
                return;
        /* Only then look for strays: the group's last members may have been their parents.
         * In the cgroup mode they are whatever is left in the cgroup, strays or not (a
         * setsid child of a process that is still alive). */
        if (cgroup_enabled()) {
                if (cgroup_populated(s->name)) {
                        if (!s->strays_signalled || s->killed) {
                                s->strays_signalled = true;
                                cgroup_signal(s->name, s->killed ? SIGKILL : s->config->stop_signal);
                        }
                        return;
                }
        } else {
                service_check_strays_soon(s);
                return;
        }
        service_complete_stop(s);
}

/* Stops whose process group is gone wait for one read of our children for all of them
 * (strays_check): a shutdown of ten thousand services once read the list, 10 ms long
 * then, for each.  The read comes at once when the last one is long enough ago, else
 * after a pause of a few times what the last read cost, so that reading takes a small
 * share of the time however many stops finish together. */
static struct service **strays_check;      /* owned array; NULL where a service was freed */
static size_t n_strays_check, strays_check_size;
static sd_event_source *strays_check_timer;  /* owned */
static usec_t strays_check_last, strays_check_cost;

static void strays_check_one(struct service *owner, pid_t pid, void *userdata) {
        (void)userdata;
        if (!owner->strays_check_due)
                return;
        owner->strays_found = true;
        if (!owner->strays_check_signal)
                return;
        int sig = owner->killed ? SIGKILL : owner->config->stop_signal;
        if (sig == owner->config->stop_signal && sig != SIGKILL && stray_stop_signalled(owner, pid))
                return;
        stray_signal(owner, pid, sig);
}

static int on_strays_check(sd_event_source *source, uint64_t usec, void *userdata) {
        (void)source;
        (void)usec;
        (void)userdata;
        usec_t start = now_monotonic();
        size_t n = n_strays_check;
        for (size_t i = 0; i < n; i++) {
                struct service *s = strays_check[i];
                if (!s)
                        continue;
                s->strays_found = false;
                s->strays_check_signal = !s->strays_signalled || s->killed;
                s->strays_signalled = true;
        }
        strays_for_each(strays_check_one, NULL);
        strays_check_last = now_monotonic();
        strays_check_cost = strays_check_last - start;
        /* Finishing a stop may start, stop or free others: what it adds waits for the
         * next read; what it frees is NULL here by then (service_free). */
        for (size_t i = 0; i < n; i++) {
                struct service *s = strays_check[i];
                if (!s)
                        continue;
                strays_check[i] = NULL;
                s->strays_check_due = false;
                if (s->state != STATE_STOPPING || s->pid != 0 || s->strays_found)
                        continue;  /* its strays' exits bring it back here */
                service_complete_stop(s);
        }
        memmove(strays_check, strays_check + n, (n_strays_check - n) * sizeof *strays_check);
        n_strays_check -= n;
        if (n_strays_check > 0)
                service_check_strays_soon(NULL);
        return 0;
}

/* S (NULL: none new) waits for the next check of strays, which is scheduled. */
static void service_check_strays_soon(struct service *s) {
        if (s) {
                if (s->strays_check_due)
                        return;
                if (n_strays_check == strays_check_size) {
                        size_t size = strays_check_size ? 2 * strays_check_size : 64;
                        struct service **more = realloc(strays_check, size * sizeof *more);
                        if (!more) {
                                log_service(LOG_WARNING, s->name, "out of memory for the check of strays, checking now");
                                if (service_signal_strays(s, s->killed ? SIGKILL : s->config->stop_signal) == 0)
                                        service_complete_stop(s);
                                return;
                        }
                        strays_check = more;
                        strays_check_size = size;
                }
                strays_check[n_strays_check++] = s;
                s->strays_check_due = true;
        }
        if (strays_check_timer && sd_event_source_get_enabled(strays_check_timer, NULL) > 0)
                return;  /* one is due already */
        usec_t now = now_monotonic(), at = strays_check_last + 4 * strays_check_cost;
        usec_t delay = at > now ? at - now : 0;
        int r;
        if (!strays_check_timer)
                r = sd_event_add_time_relative(service_event, &strays_check_timer, CLOCK_MONOTONIC, delay, 0,
                                               on_strays_check, NULL);
        else if ((r = sd_event_source_set_time_relative(strays_check_timer, delay)) >= 0)
                r = sd_event_source_set_enabled(strays_check_timer, SD_EVENT_ONESHOT);
        if (r < 0) {
                log_warning("cannot schedule the check of strays, checking now: %s", strerror(-r));
                on_strays_check(NULL, 0, NULL);
        }
}

static void service_complete_stop(struct service *s) {
        service_set_group(s, 0);
        service_disarm_timer(s);
        if (service_finish_failure_stop(s))  /* hung or never ready: restart instead */
                return;
        service_set_state(s, STATE_STOPPED, EVENT_CAUSE_EXITED);
        service_after_stop(s);
}

/* Is PID a descendant of supervisord?  A pidfile could name any process, and a stale one
 * a recycled pid: only a process in our own tree can be the daemon we launched. */
static bool pid_is_ours(pid_t pid) {
        pid_t self = getpid();
        for (int depth = 0; pid > 1 && depth < 64; depth++) {
                char path[64], buf[512];
                snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
                FILE *f = fopen(path, "re");
                if (!f)
                        return false;
                size_t n = fread(buf, 1, sizeof buf - 1, f);
                fclose(f);
                buf[n] = '\0';
                char *close_paren = strrchr(buf, ')');
                char state;
                int parent;
                if (!close_paren || sscanf(close_paren + 2, "%c %d", &state, &parent) != 2 || state == 'Z')
                        return false;
                if (parent == self)
                        return true;
                pid = parent;
        }
        return false;
}

/* type = forking: once the launcher is gone, the daemon's pid comes from the pidfile.
 * Returns true when the main pid is known. */
static bool service_adopt_from_pidfile(struct service *s) {
        char buf[32];
        FILE *f = fopen(s->config->pidfile, "re");
        if (!f)
                return false;
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = '\0';
        buf[strcspn(buf, " \t\r\n")] = '\0';
        long pid;
        if (parse_long(buf, 2, INT32_MAX, &pid) < 0)
                return false;
        if (!pid_is_ours((pid_t)pid)) {
                service_set_message(s, "pidfile %s names pid %ld, which is not a process of ours",
                         s->config->pidfile, pid);
                return false;
        }
        service_set_pid(s, (pid_t)pid);
        pid_t group = getpgid(s->pid);
        service_set_group(s, group > 0 ? group : s->pid);
        service_record_main(s);
        log_service(LOG_INFO, s->name, "daemon pid %d from %s", (int)s->pid, s->config->pidfile);
        return true;
}

/* A process that ran (RUNNING) died and is to be restarted at once: the replacement is
 * made first, and only then is the old one's output drained, its exit logged and what is
 * left of its group killed.  None of that needs to come before the clone (the output of
 * both goes through one pipe, in order), and a restart should not wait for it. */
static void service_restart_now(struct service *s, pid_t old_pid, const char *how) {
        struct spawned sp;
        service_disarm_timer(s);
        s->restarts++;
        /* The replacement is made in the same cgroup: what is left there goes first. */
        cgroup_signal(s->name, SIGKILL);
        service_fork(s, &sp);
        log_capture_drain(s->log);
        log_service(LOG_INFO, s->name, "pid %d %s", (int)old_pid, how);
        log_service(LOG_NOTICE, s->name, "%s, restarting", how);
        /* Leftovers of a process that died on its own would outlive every restart. */
        service_kill_group(s, SIGKILL);
        service_set_group(s, 0);
        sp.cause = EVENT_CAUSE_EXITED;  /* subscribers learn of the exit with the restart */
        service_spawned(s, &sp);
        /* The new process is a main pid, never taken for a stray. */
        service_kill_strays_soon(s);
}

static void service_record_exit(struct service *s, int wait_status) {
        s->has_exited = true;
        s->last_wait_status = wait_status;
        s->stop_realtime = now_realtime();
}

static void service_on_exit(struct service *s, int wait_status) {
        char how[64];

        service_collect_spawn_error(s);
        service_describe_wait_status(wait_status, how, sizeof how);
        if (s->state == STATE_RUNNING && !s->launcher && !s->spawn_failed_for_good
            && service_exit_action(s->config, STATE_RUNNING, wait_status, s->failures) == EXIT_ACTION_RESTART) {
                pid_t old_pid = s->pid;
                service_set_pid(s, 0);
                service_end_liveness(s);
                service_record_exit(s, wait_status);
                service_restart_now(s, old_pid, how);
                return;
        }

        /* What it wrote last is in its log before anything acts on its exit. */
        log_capture_drain(s->log);
        if (s->launcher && s->launcher == s->pid && s->state == STATE_STARTING) {
                /* type = forking: the launcher is done; its daemon carries on. */
                s->launcher = 0;
                service_set_pid(s, 0);
                if (!WIFEXITED(wait_status) || WEXITSTATUS(wait_status) != 0) {
                        log_service(LOG_INFO, s->name, "launcher %s", how);
                        service_record_exit(s, wait_status);
                        service_disarm_timer(s);
                        service_kill_leftovers(s);
                        service_set_group(s, 0);
                        service_set_message(s, "launcher failed (%s)", how);
                        service_failed_start(s, wait_status, EVENT_CAUSE_EXITED);
                        return;
                }
                log_service(LOG_INFO, s->name, "launcher exited, reading %s", s->config->pidfile);
                /* The daemon is ours (a stray) by now, its pidfile perhaps not yet
                 * written: recorded as found until then. */
                service_record_strays(s);
                service_set_group(s, 0);
                (void)service_adopt_from_pidfile(s);
                return;  /* the start-secs timer decides */
        }

        log_service(LOG_INFO, s->name, "pid %d %s", (int)s->pid, how);
        service_set_pid(s, 0);
        service_end_liveness(s);
        service_record_exit(s, wait_status);

        if (s->state == STATE_STOPPING) {
                /* The rest of the group may still be exiting: the stop-timeout timer, armed
                 * at the stop request, stays armed for it. */
                service_finish_stop_if_done(s);
                return;
        }
        service_disarm_timer(s);

        /* Leftovers of a process that died on its own would outlive every restart. */
        service_kill_leftovers(s);
        service_set_group(s, 0);

        enum service_state was = s->state;
        service_kill_strays_soon(s);
        /* RUNNING too: with start-secs = 0 a process is RUNNING before it has exec'd. */
        if (was == STATE_STARTING || (was == STATE_RUNNING && s->spawn_failed_for_good)) {
                service_failed_start(s, wait_status, EVENT_CAUSE_EXITED);
                return;
        }
        if (was != STATE_RUNNING)
                return;
        service_clear_message(s);
        service_set_state(s, STATE_EXITED, EVENT_CAUSE_EXITED);
}

static void service_on_timer(struct service *s) {
        switch (s->state) {
        case STATE_STARTING:
                if (s->config->type == SERVICE_NOTIFY) {
                        char reason[160];
                        snprintf(reason, sizeof reason, "no READY=1 within ready-timeout (%gs)",
                                 (double)s->config->ready_timeout / USEC_PER_SEC);
                        service_stop_as_failure(s, reason, EVENT_CAUSE_TIMEOUT);
                        break;
                }
                if (s->config->type == SERVICE_FORKING && (s->launcher || (s->pid == 0 && !service_adopt_from_pidfile(s)))) {
                        if (s->launcher)
                                service_set_message(s, "launcher still running after start-secs");
                        else if (!s->message)
                                service_set_message(s, "pidfile %s did not name a running daemon",
                                         s->config->pidfile);
                        service_kill_leftovers(s);
                        /* Forget the pids: their exits are reaped as strangers, not as this
                         * service's, which is in BACKOFF by then. */
                        s->launcher = 0;
                        service_set_pid(s, 0);
                        service_set_group(s, 0);
                        service_failed_start(s, -1, EVENT_CAUSE_TIMEOUT);
                        break;
                }
                s->failures = 0;
                service_clear_message(s);
                service_set_state(s, STATE_RUNNING, EVENT_CAUSE_STARTED);
                break;
        case STATE_BACKOFF:
                s->restarts++;
                service_spawn(s);
                break;
        case STATE_STOPPING:
                log_service(LOG_WARNING, s->name, "still running %.3gs after SIG%s, sending SIGKILL",
                            (double)s->config->stop_timeout / USEC_PER_SEC, signal_name(s->config->stop_signal));
                s->killed = true;
                service_signal_everything(s, SIGKILL);
                cgroup_signal(s->name, SIGKILL);
                break;
        default:
                break;
        }

}

/* ---- dependencies ---- */

/* Every process of service NAME is RUNNING (1), one can no longer get there (-1:
 * *ret_why says which), or it is on its way (0). */
static int dependency_status(const char *name, const char **ret_why) {
        int result = 1;
        for (size_t i = 0; i < service_table_size; i++) {
                struct service *d = service_table[i];
                if (strcmp(d->config->name, name) != 0 || d->removing)
                        continue;
                switch (d->state) {
                case STATE_RUNNING:
                        break;
                case STATE_FATAL:
                        *ret_why = "FATAL";
                        return -1;
                case STATE_STOPPED:
                case STATE_EXITED:
                        if (!d->start_pending) {
                                *ret_why = "not running";
                                return -1;
                        }
                        result = 0;
                        break;
                default:
                        result = 0;
                        break;
                }
        }
        return result;
}

/* A start waiting for its `after` services: go, keep waiting, or give up. */
static void service_check_start_pending(struct service *s) {
        const char *why = NULL;
        for (char **a = s->config->after; *a; a++) {
                int r = dependency_status(*a, &why);
                if (r < 0) {
                        s->start_pending = false;
                        service_set_message(s, "not started: dependency %s is %s", *a, why);
                        log_service(LOG_WARNING, s->name, "%s", service_message(s));
                        service_notify(s, EVENT_SERVICE_PENDING);
                        return;
                }
                if (r == 0) {
                        service_set_message(s, "waiting for %s", *a);
                        return;
                }
        }
        service_disarm_timer(s);
        s->failures = 0;
        service_spawn(s);
}

/* Does an active service in the ordered stop still run `after` S? */
static bool service_has_pending_dependent(const struct service *s) {
        if (!s->has_dependents)
                return false;
        for (size_t i = 0; i < service_table_size; i++) {
                const struct service *t = service_table[i];
                if (!t->stop_pending || !state_is_active(t->state))
                        continue;
                for (char **a = t->config->after; *a; a++)
                        if (strcmp(*a, s->config->name) == 0)
                                return true;
        }
        return false;
}

/* Where A and B stand in an ordered stop, as services_compare_priority.  `after` wins
 * where it and priority disagree: a process that runs after another (d after c) ranks at
 * least as high as it, so it stops first whatever its own priority (compared by its own,
 * c would wait for d by dependency and d for c by priority). */
static int stop_rank_compare(const struct service *a, const struct service *b) {
        if (a->stop_group_priority != b->stop_group_priority)
                return a->stop_group_priority < b->stop_group_priority ? -1 : 1;
        if (a->stop_priority != b->stop_priority)
                return a->stop_priority < b->stop_priority ? -1 : 1;
        return 0;
}

static int services_on_pending(sd_event_source *source, void *userdata) {
        (void)source;
        (void)userdata;
        /* An ordered stop goes from the highest priority down: a process stops once no
         * process of the stop with a higher rank (stop_rank_compare) is still alive. */
        const struct service *highest = NULL;
        for (size_t i = 0; i < service_table_size; i++) {
                const struct service *t = service_table[i];
                if (t->stop_pending && state_is_active(t->state) && (!highest || stop_rank_compare(t, highest) > 0))
                        highest = t;
        }
        for (size_t i = 0; i < service_table_size; i++) {
                struct service *s = service_table[i];
                if (s->stop_pending) {
                        if (!state_is_active(s->state) && s->state != STATE_BACKOFF) {
                                s->stop_pending = false;
                                service_notify(s, EVENT_SERVICE_PENDING);
                        } else if (s->state != STATE_STOPPING && !service_has_pending_dependent(s)
                                   && (s->state == STATE_BACKOFF || !highest
                                       || stop_rank_compare(s, highest) >= 0))
                                service_stop(s);  /* may remove s (reload) */
                }
                if (i >= service_table_size || service_table[i] != s) {
                        i--;  /* removed: the next one now sits at i */
                        continue;
                }
                if (s->start_pending)
                        service_check_start_pending(s);
        }
        any_pending = false;
        for (size_t i = 0; i < service_table_size && !any_pending; i++)
                any_pending = service_table[i]->start_pending || service_table[i]->stop_pending;
        return 0;
}

static void services_schedule_pending(void) {
        if (pending_source && any_pending)
                sd_event_source_set_enabled(pending_source, SD_EVENT_ONESHOT);
}

static void services_update_dependents(void) {
        bool any_after = false;
        for (size_t i = 0; i < service_table_size; i++) {
                struct service *s = service_table[i];
                s->has_dependents = false;
                s->stop_group_priority = s->config->group_priority;
                s->stop_priority = s->config->priority;
                any_after |= s->config->after[0] != NULL;
        }
        if (!any_after)
                return;
        for (size_t i = 0; i < service_table_size; i++)
                for (char **a = service_table[i]->config->after; *a; a++)
                        for (size_t j = 0; j < service_table_size; j++)
                                if (strcmp(service_table[j]->config->name, *a) == 0)
                                        service_table[j]->has_dependents = true;
        /* Each process ranks as high as the highest of its dependencies (stop_rank_compare):
         * raised pass by pass along the chains, which are acyclic and at most as long as the
         * table; quadratic in the services that use `after`, nothing for the others. */
        for (bool changed = true; changed;) {
                changed = false;
                for (size_t i = 0; i < service_table_size; i++) {
                        struct service *s = service_table[i];
                        for (char **a = s->config->after; *a; a++)
                                for (size_t j = 0; j < service_table_size; j++) {
                                        const struct service *d = service_table[j];
                                        if (strcmp(d->config->name, *a) != 0 || stop_rank_compare(d, s) <= 0)
                                                continue;
                                        s->stop_group_priority = d->stop_group_priority;
                                        s->stop_priority = d->stop_priority;
                                        changed = true;
                                }
                }
        }
}

/* ---- the table ---- */

static int services_add(struct service_config *config, unsigned instance) {
        if (service_table_size == service_table_capacity) {
                size_t capacity = service_table_capacity ? service_table_capacity * 2 : 16;
                struct service **table = realloc(service_table, capacity * sizeof *table);
                if (!table)
                        return -ENOMEM;
                service_table = table;
                service_table_capacity = capacity;
        }
        char name[SERVICE_NAME_MAX + 8];
        if (config->instances > 1)
                snprintf(name, sizeof name, "%s@%u", config->name, instance);
        else
                snprintf(name, sizeof name, "%s", config->name);
        struct service *s = calloc(1, sizeof *s + strlen(name) + 1);
        if (!s)
                return -ENOMEM;
        strcpy(s->name, name);
        s->config = service_config_ref(config);
        s->instance = instance;
        s->state = STATE_STOPPED;
        if (log_capture_new(s->name, &s->log) < 0) {
                service_config_unref(s->config);
                free(s);
                return -ENOMEM;
        }
        service_table[service_table_size++] = s;
        return 0;
}

static void service_free(struct service *s) {
        pid_index_remove(s);
        for (size_t i = 0; s->strays_check_due && i < n_strays_check; i++)
                if (strays_check[i] == s)
                        strays_check[i] = NULL;
        free(s->stop_signalled);
        free(s->notify_status);
        free(s->failure_reason);
        if (s->state == STATE_STOPPING)
                n_stopping--;
        service_end_liveness(s);
        service_disarm_timer(s);
        service_close_error_watch(s);
        log_capture_release(s->log);  /* drains until the pipe's last writer is gone */
        service_config_unref(s->config);
        service_config_unref(s->next_config);
        free(s->message);
        free(s->spawn_error);
        free(s);
}

static void services_remove(struct service *s) {
        if (s->strays_due)  /* the batched search would no longer know whose they are */
                service_signal_strays(s, SIGKILL);
        service_notify(s, EVENT_SERVICE_REMOVED);
        for (size_t i = 0; i < service_table_size; i++)
                if (service_table[i] == s) {
                        memmove(&service_table[i], &service_table[i + 1],
                                (service_table_size - i - 1) * sizeof *service_table);
                        service_table_size--;
                        break;
                }
        log_service(LOG_INFO, s->name, "removed");
        cgroup_remove(s->name);
        bool last = true;
        for (size_t i = 0; i < service_table_size && last; i++)
                last = strcmp(service_table[i]->config->name, s->config->name) != 0;
        if (last)
                services_publish_group(EVENT_GROUP_REMOVED, s->config->name);
        service_free(s);
        services_update_dependents();
}

int services_create(sd_event *event, const struct config *config) {
        int r;
        service_event = event;
        if (!service_deadlines && (r = deadlines_new(event, USEC_PER_MSEC, DEADLINES_PER_WAKEUP, service_on_deadline, NULL,
                                                     &service_deadlines)) < 0)
                return r;
        if (!pending_source) {
                r = sd_event_add_defer(event, &pending_source, services_on_pending, NULL);
                if (r < 0)
                        return r;
                sd_event_source_set_enabled(pending_source, SD_EVENT_OFF);
        }
        for (size_t i = 0; i < config->n_services; i++) {
                for (unsigned k = 0; k < config->services[i]->instances; k++)
                        if ((r = services_add(config->services[i], k)) < 0)
                                return r;
                services_publish_group(EVENT_GROUP_ADDED, config->services[i]->name);
        }
        services_update_dependents();
        return 0;
}

void services_free(void) {
        if (strays_timer && sd_event_source_get_enabled(strays_timer, NULL) > 0)
                on_strays_timer(strays_timer, 0, NULL);  /* not left behind for want of a wait */
        strays_timer = sd_event_source_disable_unref(strays_timer);
        strays_record_timer = sd_event_source_disable_unref(strays_record_timer);
        strays_check_timer = sd_event_source_disable_unref(strays_check_timer);
        for (size_t i = 0; i < service_table_size; i++)
                service_free(service_table[i]);
        free(service_table);
        service_table = NULL;
        service_table_size = service_table_capacity = 0;
        free(strays_check);
        strays_check = NULL;
        n_strays_check = strays_check_size = 0;
        pending_source = sd_event_source_disable_unref(pending_source);
        deadlines_free(service_deadlines);
        service_deadlines = NULL;
}

size_t services_count(void) { return service_table_size; }
struct service *services_get(size_t index) { return index < service_table_size ? service_table[index] : NULL; }

struct service *services_find(const char *name) {
        for (size_t i = 0; i < service_table_size; i++)
                if (strcmp(service_table[i]->name, name) == 0)
                        return service_table[i];
        return NULL;
}

struct process_name *services_process_names(size_t *ret_n) {
        struct process_name *list = calloc(service_table_size ? service_table_size : 1, sizeof *list);
        if (!list)
                return NULL;
        for (size_t i = 0; i < service_table_size; i++) {
                const struct service *t = service_table[i];
                list[i] = (struct process_name){
                        .group = service_config_group(t->config), .name = t->name, .service = t->config->name
                };
        }
        *ret_n = service_table_size;
        return list;
}

size_t services_match(const char *name, struct service **out, size_t max) {
        size_t n_names, n = 0;
        struct process_name *names = services_process_names(&n_names);
        bool *matched = calloc(service_table_size ? service_table_size : 1, sizeof *matched);
        if (names && matched && names_match(name, names, n_names, matched) > 0)
                for (size_t i = 0; i < n_names; i++)
                        if (matched[i]) {
                                if (n < max)
                                        out[n] = service_table[i];
                                n++;
                        }
        free(names);
        free(matched);
        return n;
}

void services_set_bus(struct event_bus *bus) { service_bus = bus; }

static struct service *services_find_by_pid(pid_t pid) {
        if (pid <= 0)
                return NULL;
        for (struct service *s = pid_index[(unsigned)pid % PID_INDEX_SIZE]; s; s = s->next_by_pid)
                if (s->pid == pid)
                        return s;
        return NULL;
}

static void services_on_reaped(pid_t pid, int status);
/* A child that was no service's main process was reaped since the last pass. */
static bool reaped_other;

static void services_after_reap(void) {
        /* Reaping a child that was no main process (a stray, a member of some group that
         * was re-parented to us) may have emptied the process group of a service being
         * stopped.  A main process's exit is its own service's business, seen to in
         * service_on_exit(): a shutdown reaping ten thousand of them looked at every
         * stopping service after each.  The loop re-reads the size: finishing a stop can
         * remove a service (reload). */
        if (!reaped_other)
                return;
        reaped_other = false;
        for (size_t i = 0; n_stopping > 0 && i < service_table_size; i++) {
                struct service *s = service_table[i];
                service_finish_stop_if_done(s);
                if (i < service_table_size && service_table[i] != s)
                        i--;
        }
}

bool services_reap_pid(pid_t pid) {
        /* A look at this process alone: waitpid(-1) walks the list of all our children,
         * 20 us with a thousand, which a restart should not wait for. */
        int status;
        if (pid <= 0 || waitpid(pid, &status, WNOHANG) != pid)
                return false;
        services_on_reaped(pid, status);
        services_after_reap();
        return true;
}

bool services_reap(void) {
        /* Every child that has exited: exits that came together share one signal. */
        int status;
        size_t reaped = 0;
        bool more = false;
        for (;;) {
                if (reaped == REAPS_PER_WAKEUP) {
                        more = true;
                        break;
                }
                pid_t pid = waitpid(-1, &status, WNOHANG);
                if (pid <= 0)
                        break;
                services_on_reaped(pid, status);
                reaped++;
        }
        services_after_reap();
        return more;
}

static void services_on_reaped(pid_t pid, int status) {
        struct service *s = services_find_by_pid(pid);
        if (s) {
                service_on_exit(s, status);
                return;
        }
        reaped_other = true;
        char unused[8];
        spawn_collect(pid, unused, sizeof unused);  /* a removed service's failed spawn */
        if (leftovers_has(LEFTOVER_PROCESS, pid))
                leftovers_remove(LEFTOVER_PROCESS, pid);  /* a stray, recorded when found */
        log_debug("reaped pid %d (not a service's main process)", (int)pid);
}

int services_compare_priority(const struct service *a, const struct service *b) {
        if (a->config->group_priority != b->config->group_priority)
                return a->config->group_priority < b->config->group_priority ? -1 : 1;
        if (a->config->priority != b->config->priority)
                return a->config->priority < b->config->priority ? -1 : 1;
        return 0;
}

void services_sort_by_priority(struct service **list, size_t n) {
        /* Insertion sort, stable (table order among equals), and linear on the common
         * case of a table already in order (every priority the default). */
        for (size_t i = 1; i < n; i++) {
                struct service *s = list[i];
                size_t j = i;
                for (; j > 0 && services_compare_priority(list[j - 1], s) > 0; j--)
                        list[j] = list[j - 1];
                list[j] = s;
        }
}

void services_start_autostart(void) {
        struct service **order = malloc((service_table_size ? service_table_size : 1) * sizeof *order);
        size_t n = 0;
        for (size_t i = 0; i < service_table_size; i++)
                if (service_table[i]->config->autostart) {
                        if (order)
                                order[n++] = service_table[i];
                        else
                                service_start(service_table[i]);  /* out of memory: in table order */
                }
        if (!order)
                return;
        services_sort_by_priority(order, n);
        for (size_t i = 0; i < n; i++)
                service_start(order[i]);
        free(order);
}

void services_stop_ordered(struct service **list, size_t n) {
        if (!list)
                n = service_table_size;
        for (size_t i = 0; i < n; i++) {
                struct service *s = list ? list[i] : service_table[i];
                s->start_pending = false;
                s->start_after_stop = false;
                if (state_is_active(s->state) || s->state == STATE_BACKOFF)
                        s->stop_pending = any_pending = true;
        }
        services_on_pending(NULL, NULL);
}

bool services_all_stopped(void) {
        /* Asked after every event while a shutdown or `restart all` waits: the look
         * begins where the last one found a service still going, so that waiting for N
         * stops costs O(N) in all rather than O(N) each. */
        static size_t cursor;
        for (size_t k = 0; k < service_table_size; k++) {
                size_t i = (cursor + k) % service_table_size;
                const struct service *s = service_table[i];
                if (state_is_active(s->state) || s->start_pending || s->stop_pending) {
                        cursor = i;
                        return false;
                }
        }
        return true;
}

void services_kill_all(void) {
        for (size_t i = 0; i < service_table_size; i++) {
                struct service *s = service_table[i];
                s->killed = true;
                /* Dependents first is no longer the point: everything goes now. */
                if (s->stop_pending && s->state != STATE_STOPPING)
                        service_stop(s);
                if (s->state == STATE_STOPPING)
                        service_signal_everything(s, SIGKILL);
                else
                        service_kill_group(s, SIGKILL);
                cgroup_signal(s->name, SIGKILL);
        }
}

/* ---- reload ---- */

static int strv_push(char ***list, size_t *n, const char *text) {
        char **grown = realloc(*list, (*n + 2) * sizeof *grown);
        if (!grown)
                return -ENOMEM;
        *list = grown;
        if (!(grown[*n] = strdup(text)))
                return -ENOMEM;
        grown[++*n] = NULL;
        return 0;
}

void reload_report_free(struct reload_report *report) {
        strv_free(report->added);
        strv_free(report->changed);
        strv_free(report->removed);
        *report = (struct reload_report){ 0 };
}

/* Give S the definition CONFIG: at once when it has no process, else after a stop. */
static void service_replace_config(struct service *s, struct service_config *config) {
        bool was_active = state_is_active(s->state) || s->state == STATE_BACKOFF || s->start_pending;
        bool start = config->autostart || was_active;
        s->start_pending = false;
        s->failures = 0;
        if (state_is_active(s->state)) {
                service_config_unref(s->next_config);
                s->next_config = service_config_ref(config);
                s->start_after_stop = start;
                if (s->state != STATE_STOPPING)
                        service_stop_because(s, EVENT_CAUSE_CONFIG_CHANGE);
                return;
        }
        service_disarm_timer(s);
        service_config_unref(s->config);
        s->config = service_config_ref(config);
        if (s->state == STATE_BACKOFF)
                service_set_state(s, STATE_STOPPED, EVENT_CAUSE_CONFIG_CHANGE);
        if (start)
                service_start(s);
}

/* S keeps its process under the same definition in a new object, CONFIG. */
static void service_adopt_config(struct service *s, struct service_config *config) {
        struct service_config **slot = s->next_config ? &s->next_config : &s->config;
        service_config_unref(*slot);
        *slot = service_config_ref(config);
}

static void service_retire(struct service *s) {
        s->removing = true;
        s->start_pending = false;
        s->start_after_stop = false;
        if (state_is_active(s->state)) {
                if (s->state != STATE_STOPPING)
                        service_stop_because(s, EVENT_CAUSE_CONFIG_CHANGE);
        } else
                services_remove(s);
}

int services_reload(const struct config *config, struct reload_report *report) {
        size_t n_added = 0, n_changed = 0, n_removed = 0;
        int r = 0;

        *report = (struct reload_report){ 0 };
        /* Removed services first, so their names are free for nothing else to clash. */
        for (size_t i = 0; i < service_table_size; i++) {
                struct service *s = service_table[i];
                if (s->removing || config_find_service(config, s->config->name) >= 0)
                        continue;
                if (s->instance == 0 && (r = strv_push(&report->removed, &n_removed, s->config->name)) < 0)
                        return r;
                service_retire(s);
                if (i < service_table_size && service_table[i] != s)
                        i--;
        }
        for (size_t c = 0; c < config->n_services; c++) {
                struct service_config *sc = config->services[c];
                struct service *first = NULL;
                unsigned old_instances = 0;
                for (size_t i = 0; i < service_table_size; i++)
                        if (!service_table[i]->removing && strcmp(service_table[i]->config->name, sc->name) == 0) {
                                if (!first)
                                        first = service_table[i];
                                old_instances++;
                        }
                if (!first) {
                        if ((r = strv_push(&report->added, &n_added, sc->name)) < 0)
                                return r;
                        size_t before = service_table_size;
                        for (unsigned k = 0; k < sc->instances; k++)
                                if ((r = services_add(sc, k)) < 0)
                                        return r;
                        services_publish_group(EVENT_GROUP_ADDED, sc->name);
                        services_update_dependents();
                        if (sc->autostart)
                                for (size_t i = before; i < service_table_size; i++)
                                        service_start(service_table[i]);
                        continue;
                }
                const struct service_config *current = first->next_config ? first->next_config : first->config;
                if (service_config_equal(current, sc)) {
                        /* Unchanged: the processes stay, and take the new object, whose
                         * supplementary groups were looked up just now. */
                        for (size_t i = 0; i < service_table_size; i++)
                                if (!service_table[i]->removing && strcmp(service_table[i]->config->name, sc->name) == 0)
                                        service_adopt_config(service_table[i], sc);
                        continue;
                }
                if ((r = strv_push(&report->changed, &n_changed, sc->name)) < 0)
                        return r;
                /* Instance names depend on the count only between one ("web") and many
                 * ("web@0"...): crossing that line replaces every process. */
                bool renamed = (old_instances > 1) != (sc->instances > 1);
                bool only_count = service_config_equal_but_instances(current, sc);
                for (size_t i = 0; i < service_table_size; i++) {
                        struct service *s = service_table[i];
                        if (s->removing || strcmp(s->config->name, sc->name) != 0)
                                continue;
                        if (renamed || s->instance >= sc->instances)
                                service_retire(s);
                        else if (only_count)
                                service_adopt_config(s, sc);  /* same definition: keep the process */
                        else
                                service_replace_config(s, sc);
                        if (i >= service_table_size || service_table[i] != s)
                                i--;
                }
                size_t before = service_table_size;
                for (unsigned k = renamed ? 0 : old_instances; k < sc->instances; k++)
                        if ((r = services_add(sc, k)) < 0)
                                return r;
                if (sc->autostart)
                        for (size_t i = before; i < service_table_size; i++)
                                service_start(service_table[i]);
        }
        services_update_dependents();
        return 0;
}

int services_add_group(struct service_config *config) {
        for (size_t i = 0; i < service_table_size; i++)
                if (!service_table[i]->removing && strcmp(service_table[i]->config->name, config->name) == 0)
                        return -EEXIST;
        int r;
        for (unsigned k = 0; k < config->instances; k++)
                if ((r = services_add(config, k)) < 0)
                        return r;
        services_publish_group(EVENT_GROUP_ADDED, config->name);
        services_update_dependents();
        return 0;
}

void services_remove_group(const char *name) {
        for (size_t i = 0; i < service_table_size; i++) {
                struct service *s = service_table[i];
                if (s->removing || strcmp(s->config->name, name) != 0)
                        continue;
                service_retire(s);
                if (i >= service_table_size || service_table[i] != s)
                        i--;
        }
}

/* ---- one service ---- */

const char *service_name(const struct service *s) { return s->name; }
enum service_state service_state(const struct service *s) { return s->state; }
const struct service_config *service_config(const struct service *s) { return s->config; }
int service_send_input(struct service *s, const void *data, size_t len) {
        /* As supervisord's: no process, or one being stopped, takes no input. */
        if (s->pid <= 0 || s->state == STATE_STOPPING)
                return -ESRCH;
        if (!s->input)
                return -EPIPE;
        return input_write(s->input, data, len);
}

bool service_is_pending(const struct service *s) { return s->start_pending || s->stop_pending; }
struct log_capture *service_log_capture(const struct service *s) { return s->log; }
int service_log_file(const struct service *s, int fd, char *buf, size_t size) {
        return log_capture_file(s->log, s->config, fd, buf, size);
}
pid_t service_process_group(const struct service *s) { return s->group; }
unsigned long long service_process_group_start_time(const struct service *s) { return s->group_start_time; }

void service_get_status(const struct service *s, struct service_status *ret) {
        *ret = (struct service_status){
                .name = s->name,
                .state = s->state,
                .pid = s->pid,
                .uptime = s->pid ? now_monotonic() - s->spawn_time : 0,
                .has_exited = s->has_exited,
                .last_wait_status = s->last_wait_status,
                .stopped_at = s->state == STATE_STOPPED ? s->stopped_at : 0,
                .restarts = s->restarts,
                .message = s->message         ? s->message
                           : s->notify_status ? s->notify_status
                           : s->listener && s->state == STATE_RUNNING ? listener_describe(s->listener)
                                                                      : "",
                .group = service_config_group(s->config),
                .start_realtime = s->start_realtime,
                .stop_realtime = s->stop_realtime,
                .spawn_error = s->spawn_error ? s->spawn_error : "",
                .failures = s->failures,
        };
        ret->has_heartbeat_rtt = heartbeat_last_rtt(s->heartbeat, &ret->heartbeat_rtt);
}

int service_start(struct service *s) {
        switch (s->state) {
        case STATE_STARTING:
        case STATE_RUNNING:
                return 0;
        case STATE_STOPPING:
                return -EBUSY;
        default:
                break;
        }
        if (s->removing)
                return -EBUSY;
        s->stop_pending = false;
        if (s->config->after[0]) {
                /* Decided in the next pass, once every start of this round has been asked. */
                s->start_pending = any_pending = true;
                service_clear_message(s);
                services_schedule_pending();
                service_notify(s, EVENT_SERVICE_PENDING);
                return 0;
        }
        service_disarm_timer(s);
        s->failures = 0;
        service_spawn(s);
        return 0;
}

int service_stop(struct service *s) { return service_stop_because(s, EVENT_CAUSE_STOP_REQUESTED); }

void service_fail_hung(struct service *s, const char *reason) {
        if (s->pid > 0 && (s->state == STATE_STARTING || s->state == STATE_RUNNING))
                service_stop_as_failure(s, reason, EVENT_CAUSE_TIMEOUT);
}

static int service_stop_because(struct service *s, enum event_cause cause) {
        s->start_pending = false;
        switch (s->state) {
        case STATE_STARTING:
        case STATE_RUNNING:
                break;
        case STATE_BACKOFF:
                service_disarm_timer(s);
                service_clear_message(s);
                service_set_state(s, STATE_STOPPED, cause);
                service_after_stop(s);
                return 0;
        case STATE_STOPPING:
                s->stop_is_failure = false;  /* asked to stop: no restart after a hang */
                return 0;
        default:
                return 0;
        }
        log_service(LOG_INFO, s->name, "stopping pid %d with SIG%s", (int)s->pid, signal_name(s->config->stop_signal));
        s->killed = false;
        s->strays_signalled = false;
        s->n_stop_signalled = 0;
        if (s->group == 0 && s->pid > 0)
                service_set_group(s, s->pid);
        /* A process being stopped is not expected to answer pings any more. */
        s->heartbeat = heartbeat_free(s->heartbeat);
        service_signal_everything(s, s->config->stop_signal);
        /* A stopped (SIGSTOP) process only sees the stop signal once continued. */
        if (s->config->stop_signal != SIGKILL)
                service_kill_group(s, SIGCONT);
        service_arm_timer(s, s->config->stop_timeout);
        service_clear_message(s);
        service_set_state(s, STATE_STOPPING, cause);
        /* A forking service between launcher and pidfile has nothing to wait for. */
        service_finish_stop_if_done(s);
        return 0;
}

int service_signal(struct service *s, int sig) {
        if (s->pid == 0)
                return -ESRCH;
        /* The main process only: a daemon that forwards e.g. HUP to its workers does so
         * itself, and would not expect them to get it twice. */
        if (kill(s->pid, sig) < 0)
                return -errno;
        return 0;
}
