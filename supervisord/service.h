/* service.h — the service table and each process's state machine.
 *
 * service.c owns every struct service: its timer, its error-pipe watch and its process
 * group.  Other modules act on a service only through the functions below (front-ends
 * through the engine, engine.h) and learn of every state change from the event bus. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "events.h"

enum service_state {
        STATE_STOPPED,
        STATE_STARTING,
        STATE_RUNNING,
        STATE_BACKOFF,
        STATE_STOPPING,
        STATE_EXITED,
        STATE_FATAL,
};

struct service;
struct process_name;

/* A snapshot for reporting; strings point into the service and stay valid until the
 * next event-loop iteration. */
struct service_status {
        const char *name;
        enum service_state state;
        pid_t pid;               /* 0 when no process */
        usec_t uptime;           /* since the current process was spawned, 0 if none */
        bool has_exited;         /* last_wait_status is meaningful */
        int last_wait_status;    /* as from waitpid() */
        time_t stopped_at;       /* STOPPED: when it got there (wall clock), 0 if never */
        unsigned restarts;       /* automatic respawns since supervisord started */
        const char *message;     /* why the state is what it is (or the service's own STATUS=
                                  * text, type = notify), "" if nothing to say */
        bool has_heartbeat_rtt;  /* a pong has been answered by the current process */
        usec_t heartbeat_rtt;    /* round-trip time of the last one */
        const char *group;       /* the group it belongs to (names.h): service-group, else its
                                  * service's name ("web" for web@2) */
        usec_t start_realtime;   /* wall clock of the last spawn, 0 if none yet */
        usec_t stop_realtime;    /* wall clock of the last exit (or failed spawn), 0 if none yet */
        unsigned failures;       /* consecutive failed starts (supervisord's `tries`) */
        const char *spawn_error; /* why the last spawn made no process that ran its command
                                  * ("fork: ...", "exec /x: No such file ..."), "" if it did */
};

const char *service_state_to_string(enum service_state state);

/* ---- pure rules (unit-tested) ---- */

/* Delay before the next start after FAILURES consecutive failed starts (FAILURES >= 1):
 * min(restart-delay * 2^(FAILURES-1), restart-delay-max). */
usec_t service_backoff_delay(const struct service_config *config, unsigned failures);

enum exit_action {
        EXIT_ACTION_RESTART,   /* start again now */
        EXIT_ACTION_EXITED,    /* leave it exited */
        EXIT_ACTION_BACKOFF,   /* a failed start: retry after the backoff delay */
        EXIT_ACTION_FATAL,     /* a failed start, and the last one allowed */
};

/* What to do when a process exits (or fails to spawn) in state STARTING or RUNNING;
 * FAILURES counts consecutive failed starts *including* this one when STARTING. */
enum exit_action service_exit_action(const struct service_config *config, enum service_state state,
                                     int wait_status, unsigned failures);

/* "exit status 1", "killed by SIGKILL", ... */
void service_describe_wait_status(int wait_status, char *buf, size_t size);

/* ---- the table ---- */

/* Create the processes of every CONFIG service (all STOPPED); each takes a reference to
 * its service_config. */
int services_create(sd_event *event, const struct config *config);
void services_free(void);
size_t services_count(void);
/* In config order, instances in index order; NULL past the end. */
struct service *services_get(size_t index);
/* Every process's group, name and service (names.h), in table order, in a new array
 * (owned by the caller; the strings are the table's, valid until it changes); NULL when
 * out of memory. */
struct process_name *services_process_names(size_t *ret_n);
/* Start order: by group priority, then priority (lower first); 0 for equals. */
int services_compare_priority(const struct service *a, const struct service *b);
/* LIST in start order, stable: table order among equal priorities. */
void services_sort_by_priority(struct service **list, size_t n);
/* The process named exactly NAME ("web", "web@2"). */
struct service *services_find(const char *name);
/* Every process NAME addresses (names.h: NAME, GROUP:NAME, GROUP:*, GROUP:), in table
 * order.  Fills up to max entries of out; returns how many match (0: no such process). */
size_t services_match(const char *name, struct service **out, size_t max);
/* Where the table publishes (events.h): every transition with its cause, every pending
 * start or stop, every process removed, every group added or removed.  Set it before
 * services_create() to hear of the first groups. */
void services_set_bus(struct event_bus *bus);

/* Reap PID (the one SIGCHLD named) if it has exited, and act on it: true if it had. */
bool services_reap_pid(pid_t pid);
/* Reap exited children (services and adopted orphans alike) and act on each.  Returns
 * true when it stopped at its bound of work with more perhaps left: call again soon
 * (their SIGCHLD has come and gone). */
bool services_reap(void);
/* Start every autostart process, in start order (services_sort_by_priority). */
void services_start_autostart(void);
/* Stop the LIST (all when list is NULL) in reverse dependency and priority order: a
 * process is only stopped once everything in the set that runs `after` it, and
 * everything in the set of a higher priority, has stopped. */
void services_stop_ordered(struct service **list, size_t n);
/* Nothing is left running or about to run. */
bool services_all_stopped(void);
/* Send SIGKILL to every process group still alive (a second TERM during shutdown). */
void services_kill_all(void);

/* What a reload changed, by service name; each list is NULL-terminated and owned. */
struct reload_report {
        char **added, **changed, **removed;
};
/* Apply CONFIG (the table takes references; the caller keeps its own): new services are
 * created (and started if autostart), removed ones stopped then dropped, changed ones
 * stopped and started again with the new definition, unchanged ones left alone. */
int services_reload(const struct config *config, struct reload_report *report);
void reload_report_free(struct reload_report *report);
/* Add every process of the service CONFIG (all STOPPED; the table takes a reference):
 * -EEXIST when the table holds that service already. */
int services_add_group(struct service_config *config);
/* Drop every process of service NAME: at once when it has none, else once stopped. */
void services_remove_group(const char *name);

/* ---- one service ---- */

const char *service_name(const struct service *service);       /* "web" or "web@2" */
enum service_state service_state(const struct service *service);
const struct service_config *service_config(const struct service *service);
void service_get_status(const struct service *service, struct service_status *ret);
/* The process group signals go to, 0 when none is alive. */
pid_t service_process_group(const struct service *service);
/* Start time of that group's leader when it was recorded (see leftovers.h), 0 if unknown. */
unsigned long long service_process_group_start_time(const struct service *service);
/* A start or stop is still on its way (waiting for dependencies, or dependents). */
bool service_is_pending(const struct service *service);
/* The capture of its stdout and stderr (logfile.h): owned by the service. */
struct log_capture;
struct log_capture *service_log_capture(const struct service *service);
/* The file its stdout (FD 1) or stderr (FD 2) is written to, in buf: -ENOENT when that
 * stream goes elsewhere (null, inherit, journal). */
int service_log_file(const struct service *service, int fd, char *buf, size_t size);

/* Write LEN bytes of DATA to the stdin pipe of its process (input.h): 0 when written or
 * kept to be written; -ESRCH when no process runs or it is being stopped; -EPIPE when it
 * has no stdin pipe (stdin = null, or it closed its end); -ENOBUFS when the bytes still
 * waiting for it leave no room. */
int service_send_input(struct service *service, const void *data, size_t len);

/* 0 when started, already starting/running, or waiting for its `after` services;
 * -EBUSY while stopping. */
int service_start(struct service *service);
/* 0 when stopping or already stopped. */
int service_stop(struct service *service);
/* The process failed without exiting (an event listener that never answered): REASON is
 * logged, it is stopped and restarted as a failure, as a hung heartbeat is. */
void service_fail_hung(struct service *service, const char *reason);
/* Signal the main process; -ESRCH when there is none. */
int service_signal(struct service *service, int sig);
