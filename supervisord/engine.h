/* engine.h — the action engine: what a front-end may ask of supervisord, in one place.
 *
 * engine.c turns a request (start, stop, restart, signal, update, add, remove, or a
 * restart of everything) on a set of targets (a process, a group, all) into calls on the
 * service table (service.h), follows each target until its outcome is known, and reports
 * per target a result code and a reason through a completion callback.  It holds every
 * rule about which state allows which request and when a request is over; front-ends
 * (the line protocol in control.c, later others) only parse, call the engine and format.
 * It knows no transport and no config syntax: configs come through engine_hooks.
 *
 * Names are supervisord's (names.h): a process belongs to one group, its service's own
 * (web for web@0 … web@N-1, db for db) unless its service-group says another, and is
 * addressed as NAME, GROUP:NAME, GROUP:*, GROUP: or with `all`. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <systemd/sd-event.h>

#include "events.h"
#include "loader.h"
#include "names.h"
#include "service.h"

struct engine;
/* A request under way: a handle for its front-end, which may cancel it (its client went
 * away).  Owned by the engine; valid until its completion callback or its cancel. */
struct engine_op;

enum engine_action {
        ENGINE_START,
        ENGINE_STOP,
        ENGINE_RESTART,
        ENGINE_SIGNAL,
        ENGINE_UPDATE,       /* re-read the config, apply the difference (names: unused) */
        ENGINE_ADD,          /* a group of the config that the table does not hold yet */
        ENGINE_REMOVE,       /* a stopped group, out of the table */
        ENGINE_RESTART_ALL,  /* stop everything, re-read the config, start autostart anew */
        ENGINE_REREAD,       /* re-read the config and report what an update would do, doing
                              * nothing: a result per group added, changed or removed (in that
                              * order; reasons "available", "changed", "disappeared") */
};

/* A result per target; the names of supervisord's fault codes are in comments where a
 * front-end speaking its XML-RPC would map one onto the other. */
enum engine_code {
        ENGINE_OK,                /* SUCCESS: done as asked */
        ENGINE_ALREADY,           /* ALREADY_STARTED (start), NOT_RUNNING (stop): nothing to do */
        ENGINE_NO_SUCH_NAME,      /* BAD_NAME */
        ENGINE_NOT_RUNNING,       /* NOT_RUNNING: signal without a process */
        ENGINE_BUSY,              /* start while it is stopping, or being removed */
        ENGINE_SPAWN_ERROR,       /* SPAWN_ERROR: could not start, gave up (FATAL, BACKOFF) */
        ENGINE_ABNORMAL,          /* ABNORMAL_TERMINATION: exited or stopped before it ran */
        ENGINE_FAILED,            /* FAILED: anything else (the reason says) */
        ENGINE_GONE,              /* removed by a reload while the request waited */
        ENGINE_SHUTTING_DOWN,     /* SHUTDOWN_STATE */
        ENGINE_RESTARTING,        /* a restart of everything is under way */
        ENGINE_ADDED,             /* update, add: the group was added */
        ENGINE_CHANGED,           /* update: its definition changed, its processes restart */
        ENGINE_REMOVED,           /* update, remove: the group is gone (or going) */
        ENGINE_ALREADY_ADDED,     /* ALREADY_ADDED (add) */
        ENGINE_STILL_RUNNING,     /* STILL_RUNNING (remove) */
        ENGINE_CANT_REREAD,       /* CANT_REREAD: the config could not be read (update, add) */
};

const char *engine_code_to_string(enum engine_code code);
const char *engine_action_to_string(enum engine_action action);

struct engine_result {
        char name[NAME_SPEC_MAX];  /* the process as shown (names.h: "web@2", "x:a"), or the group
                                    * (update, add, remove) */
        enum engine_code code;
        bool ok;                          /* counts as success */
        char reason[200];                 /* for people: "started", "exited before it was running (exit status 1)" */
};

struct engine_report {
        enum engine_action action;
        const struct engine_result *results;  /* one per target, in the order of the table */
        size_t n_results, n_failed;
        /* The request as a whole failed (no such name, shutting down, config unreadable):
         * code is not ENGINE_OK, reason says why, and results may be empty. */
        enum engine_code code;
        const char *reason;
        const char *notice;  /* update: settings that need a restart, "" if none */
};

/* Called once per request, when it is over; REPORT is valid during the call only.  It may
 * run before engine_submit() returns (an answer known at once). */
typedef void (*engine_done_fn)(const struct engine_report *report, void *userdata);

struct engine_request {
        enum engine_action action;
        bool all;                  /* every process (or group), instead of names */
        char *const *names;        /* process or group names; a name given twice counts once */
        size_t n_names;
        int signal;                /* ENGINE_SIGNAL */
        bool wait;                 /* report when the outcome is known, not once asked */
};

/* What the engine needs from whoever owns the config. */
struct engine_hooks {
        /* Where update, add and a restart of everything read the config, off the loop
         * (loader.h): supervision goes on while a load waits.  Updates asked while one
         * load is waiting to begin share it. */
        struct config_loader *loader;
        /* Apply CONFIG (taken over, freed on failure) to the table with services_reload(),
         * returning its report and a notice (settings that need a restart, "" if none); on
         * failure a negative errno, the reason in error, and nothing changed. */
        int (*apply_config)(struct config *config, struct reload_report *report, char *notice, size_t notice_size,
                            char *error, size_t error_size, void *userdata);
        void *userdata;
};

/* An engine acting on the service table, on EVENT.  It subscribes to BUS: service events
 * decide its waiting operations, EVENT_SUPERVISOR_STOPPING makes it refuse what would
 * start anything; and it publishes there EVENT_SUPERVISOR_RELOADING, then RUNNING, around
 * an update or a restart of everything. */
int engine_new(sd_event *event, struct event_bus *bus, const struct engine_hooks *hooks, struct engine **ret);
/* Cancels every request under way (their callbacks are not called). */
struct engine *engine_free(struct engine *engine);

int engine_submit(struct engine *engine, const struct engine_request *request, engine_done_fn done, void *userdata,
                  struct engine_op **ret_op);
/* Forget OP: its callback will not be called, and what it still waited for is not done
 * (a restart's start), except for a restart of everything, which goes on.  NULL is fine. */
void engine_op_cancel(struct engine_op *op);

/* ---- parts front-ends share, pure or read-only ---- */

/* The processes NAMES (names.h; or every one, with ALL) address, each once, in the
 * order first named (a group's in table order), in a new array (*ret, owned by the caller).  -ENOENT with *ret_bad pointing at
 * the first unknown name; -ENOMEM. */
int engine_resolve(bool all, char *const *names, size_t n_names, struct service ***ret, size_t *ret_n,
                   const char **ret_bad);

/* What to tell whoever gave the unknown NAME: "no such service: NAME", then the known
 * names closest to it, " (did you mean web:*, web@1?)", when some are close. */
void engine_describe_unknown(const char *name, char *buf, size_t size);

/* Has ACTION on a process with status ST (and PENDING, and START_RETRIES) come to its
 * outcome?  True with *ret filled when it has (code, ok, reason; the name is left alone).
 * STOP_PHASE: a stop (of a stop or restart) is still being waited for. */
bool engine_judge(enum engine_action action, bool stop_phase, const struct service_status *st, bool pending,
                  unsigned start_retries, struct engine_result *ret);

/* Has every autostart service got as far as it will without more time passing (see
 * supervisord(8), SYSTEMD: what READY=1 waits for)? */
bool engine_autostart_settled(void);
