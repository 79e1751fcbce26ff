/* engine.c — see engine.h.
 *
 * A request becomes an operation with one target per process (or group).  The action is
 * begun at once; a target whose outcome is not known yet (a start waiting for start-secs,
 * a stop for the process group to empty, a restart's stop before its start) is looked at
 * again after service events, in one deferred pass over the operations under way that
 * runs before the next event is handled, so no state an operation waits for can pass
 * unseen.  An operation that was not asked to wait reports at once and, when it still has
 * work to do (a restart's start, a restart of everything), goes on unseen. */
#include "engine.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdline.h"
#include "log.h"
#include "names.h"
#include "util.h"

/* `after` chains are acyclic (a cycle is a config error); this only bounds the walk. */
#define DEPENDENCY_DEPTH_MAX 64

struct engine_target {
        struct service *service;  /* NULL once removed from the table */
        bool stop_phase;          /* stop, restart: still waiting for the stop to finish */
        bool done;                /* results[i] holds the outcome */
};

enum restart_all_phase {
        RESTART_ALL_NONE,
        RESTART_ALL_STOPPING,     /* waiting for every service to stop */
        RESTART_ALL_STARTING,     /* the config is applied, the autostart services start */
};

struct engine_op {
        struct engine *engine;
        struct engine_op *next, *prev;  /* in engine->ops while linked */
        enum engine_action action;
        bool wait;
        bool reported;                  /* the callback was called (no wait): finish silently */
        enum restart_all_phase phase;
        bool loading;                   /* waiting for the config (update, add, restart of everything) */
        struct config_load *load;       /* add, restart of everything: the load it waits for */
        unsigned update_load;           /* update: the number of the load it waits for */
        char **names;                   /* add: the groups, owned */
        engine_done_fn done;
        void *userdata;
        struct engine_target *targets;  /* owned */
        struct engine_result *results;  /* owned, one per target */
        size_t n_targets;
        enum engine_code code;          /* of the request as a whole */
        char reason[1024];
        char notice[512];
};

struct engine {
        sd_event *event;
        struct event_bus *bus;                /* not owned */
        struct event_subscription *listening; /* owned by the bus: service and supervisor events */
        sd_event_source *recheck;  /* owned: the deferred pass over ops */
        struct engine_hooks hooks;
        struct engine_op *ops;     /* owned: every operation under way */
        bool shutting_down;
        bool restarting_all;       /* a restart of everything is stopping the services */
        /* Updates' loads, numbered as asked (they end in that order): the last one asked
         * (NULL once it has ended), how many were asked and how many have ended. */
        struct config_load *update_load;
        unsigned update_loads_asked, update_loads_done;
};

static const char *const code_names[] = {
        [ENGINE_OK] = "ok",
        [ENGINE_ALREADY] = "already",
        [ENGINE_NO_SUCH_NAME] = "no-such-name",
        [ENGINE_NOT_RUNNING] = "not-running",
        [ENGINE_BUSY] = "busy",
        [ENGINE_SPAWN_ERROR] = "spawn-error",
        [ENGINE_ABNORMAL] = "abnormal-termination",
        [ENGINE_FAILED] = "failed",
        [ENGINE_GONE] = "gone",
        [ENGINE_SHUTTING_DOWN] = "shutting-down",
        [ENGINE_RESTARTING] = "restarting",
        [ENGINE_ADDED] = "added",
        [ENGINE_CHANGED] = "changed",
        [ENGINE_REMOVED] = "removed",
        [ENGINE_ALREADY_ADDED] = "already-added",
        [ENGINE_STILL_RUNNING] = "still-running",
        [ENGINE_CANT_REREAD] = "cant-reread",
};

const char *engine_code_to_string(enum engine_code code) {
        return (unsigned)code < ELEMENTSOF(code_names) && code_names[code] ? code_names[code] : "unknown";
}

static const char *const action_names[] = {
        [ENGINE_START] = "start",     [ENGINE_STOP] = "stop",     [ENGINE_RESTART] = "restart",
        [ENGINE_SIGNAL] = "signal",   [ENGINE_UPDATE] = "update", [ENGINE_ADD] = "add",
        [ENGINE_REMOVE] = "remove",   [ENGINE_RESTART_ALL] = "restart-all", [ENGINE_REREAD] = "reread",
};

const char *engine_action_to_string(enum engine_action action) {
        return (unsigned)action < ELEMENTSOF(action_names) && action_names[action] ? action_names[action] : "unknown";
}

static void __attribute__((format(printf, 4, 5)))
result_set(struct engine_result *r, enum engine_code code, bool ok, const char *format, ...) {
        va_list ap;
        r->code = code;
        r->ok = ok;
        va_start(ap, format);
        vsnprintf(r->reason, sizeof r->reason, format, ap);
        va_end(ap);
}

/* ---- pure parts ---- */

bool engine_judge(enum engine_action action, bool stop_phase, const struct service_status *st, bool pending,
                  unsigned start_retries, struct engine_result *ret) {
        if (pending)
                return false;  /* waiting for dependencies (start) or dependents (ordered stop) */
        if (stop_phase) {
                if (st->state == STATE_STOPPING || action != ENGINE_STOP)
                        return false;  /* a restart's stop being over is not its outcome */
                result_set(ret, ENGINE_OK, true, "stopped");
                return true;
        }
        if (action == ENGINE_STOP)
                return false;
        const char *message = st->message ? st->message : "";
        switch (st->state) {
        case STATE_RUNNING:
                result_set(ret, ENGINE_OK, true, "%s", action == ENGINE_RESTART ? "restarted" : "started");
                return true;
        case STATE_FATAL:
                result_set(ret, ENGINE_SPAWN_ERROR, false, "%s", message[0] ? message : "failed to start");
                return true;
        case STATE_STOPPED:
                result_set(ret, ENGINE_ABNORMAL, false, "%s", message[0] ? message : "stopped before it was running");
                return true;
        case STATE_EXITED: {
                char how[64];
                service_describe_wait_status(st->last_wait_status, how, sizeof how);
                result_set(ret, ENGINE_ABNORMAL, false, "exited before it was running (%s)", how);
                return true;
        }
        case STATE_BACKOFF:
                /* With unlimited retries it may never run: report the failure now. */
                if (start_retries != 0)
                        return false;
                result_set(ret, ENGINE_SPAWN_ERROR, false, "%s", message[0] ? message : "failed to start");
                return true;
        default:
                return false;
        }
}

int engine_resolve(bool all, char *const *names, size_t n_names, struct service ***ret, size_t *ret_n,
                   const char **ret_bad) {
        size_t n = services_count(), filled = 0;
        *ret_bad = NULL;
        struct service **list = calloc(n ? n : 1, sizeof *list);
        if (!list)
                return -ENOMEM;
        if (all) {
                for (size_t i = 0; i < n; i++)
                        list[i] = services_get(i);
                *ret = list;
                *ret_n = n;
                return 0;
        }
        size_t n_known;
        struct process_name *known = services_process_names(&n_known);
        bool *matched = calloc(n ? n : 1, sizeof *matched), *taken = calloc(n ? n : 1, sizeof *taken);
        if (!known || !matched || !taken) {
                free(known);
                free(matched);
                free(taken);
                free(list);
                return -ENOMEM;
        }
        /* In the order first named, each name's processes in table order; a process named
         * twice ("web web@0") is acted on once. */
        for (size_t i = 0; i < n_names && !*ret_bad; i++) {
                memset(matched, 0, n * sizeof *matched);
                if (names_match(names[i], known, n_known, matched) == 0)
                        *ret_bad = names[i];
                for (size_t j = 0; j < n && !*ret_bad; j++)
                        if (matched[j] && !taken[j]) {
                                taken[j] = true;
                                list[filled++] = services_get(j);
                        }
        }
        free(known);
        free(matched);
        free(taken);
        if (*ret_bad) {
                free(list);
                return -ENOENT;
        }
        *ret = list;
        *ret_n = filled;
        return 0;
}

void engine_describe_unknown(const char *name, char *buf, size_t size) {
        size_t n_known;
        char close[256] = "";
        struct process_name *known = services_process_names(&n_known);
        if (known)
                names_suggest(name, known, n_known, 3, close, sizeof close);
        free(known);
        if (close[0])
                snprintf(buf, size, "no such service: %s (did you mean %s?)", name, close);
        else
                snprintf(buf, size, "no such service: %s", name);
}

/* Has S got as far as it will without more time passing?  Not while STARTING.  A start
 * waiting for its `after` services has, when each of them has and one of them is not
 * RUNNING (the start waits for a retry, or for good); when they all run it is about to
 * go.  Everything else has: RUNNING, EXITED, BACKOFF (given up until its next retry, which
 * can be a long time away), FATAL, a dependency failure, stopped by request. */
static bool service_settled(struct service *s, unsigned depth) {
        enum service_state state = service_state(s);
        if (state == STATE_STARTING)
                return false;
        if (state == STATE_RUNNING || state == STATE_STOPPING || !service_is_pending(s)
            || depth >= DEPENDENCY_DEPTH_MAX)
                return true;
        bool all_running = true;
        for (char **after = service_config(s)->after; *after; after++) {
                struct service *d;
                for (size_t i = 0; (d = services_get(i)); i++) {
                        if (strcmp(service_config(d)->name, *after) != 0)
                                continue;
                        if (!service_settled(d, depth + 1))
                                return false;
                        if (service_state(d) != STATE_RUNNING)
                                all_running = false;
                }
        }
        return !all_running;
}

bool engine_autostart_settled(void) {
        struct service *s;
        for (size_t i = 0; (s = services_get(i)); i++)
                if (service_config(s)->autostart && !service_settled(s, 0))
                        return false;
        return true;
}

/* ---- operations ---- */

static void op_free(struct engine_op *op) {
        if (!op)
                return;
        config_load_cancel(op->load);
        strv_free(op->names);
        free(op->targets);
        free(op->results);
        free(op);
}

static struct engine_op *op_new(struct engine *e, const struct engine_request *req, engine_done_fn done,
                                void *userdata, size_t n_targets) {
        struct engine_op *op = calloc(1, sizeof *op);
        if (!op)
                return NULL;
        op->engine = e;
        op->action = req->action;
        op->wait = req->wait;
        op->done = done;
        op->userdata = userdata;
        if (n_targets > 0) {
                op->targets = calloc(n_targets, sizeof *op->targets);
                op->results = calloc(n_targets, sizeof *op->results);
                if (!op->targets || !op->results) {
                        op_free(op);
                        return NULL;
                }
        }
        op->n_targets = n_targets;
        return op;
}

static void op_set_target(struct engine_op *op, size_t i, struct service *s) {
        op->targets[i].service = s;
        const struct process_name name = {
                .group = service_config_group(service_config(s)), .name = service_name(s),
                .service = service_config(s)->name,
        };
        name_format(&name, op->results[i].name, sizeof op->results[i].name);
}

static void op_link(struct engine_op *op) {
        struct engine *e = op->engine;
        op->next = e->ops;
        if (e->ops)
                e->ops->prev = op;
        e->ops = op;
}

static void op_unlink(struct engine_op *op) {
        struct engine *e = op->engine;
        if (op->prev)
                op->prev->next = op->next;
        else if (e->ops == op)
                e->ops = op->next;
        if (op->next)
                op->next->prev = op->prev;
        op->next = op->prev = NULL;
}

static void op_report(struct engine_op *op) {
        size_t failed = 0;
        for (size_t i = 0; i < op->n_targets; i++)
                failed += !op->results[i].ok;
        const struct engine_report report = {
                .action = op->action,
                .results = op->results,
                .n_results = op->n_targets,
                .n_failed = failed,
                .code = op->code,
                .reason = op->reason,
                .notice = op->notice,
        };
        op->reported = true;
        if (op->done)
                op->done(&report, op->userdata);
}

/* A request that fails as a whole, before any target is acted on. */
static int __attribute__((format(printf, 6, 7)))
report_refusal(const struct engine_request *req, engine_done_fn done, void *userdata, enum engine_code code,
               struct engine_op **ret_op, const char *format, ...) {
        struct engine_report report = { .action = req->action, .code = code, .notice = "" };
        char reason[512];
        va_list ap;
        va_start(ap, format);
        vsnprintf(reason, sizeof reason, format, ap);
        va_end(ap);
        report.reason = reason;
        if (ret_op)
                *ret_op = NULL;
        if (done)
                done(&report, userdata);
        return 0;
}

/* Decide whether the action on target I is over. */
static void op_evaluate_target(struct engine_op *op, size_t i) {
        struct engine_target *t = &op->targets[i];
        struct service *s = t->service;
        struct service_status st;

        if (t->done)
                return;
        enum engine_action judged_as = op->action == ENGINE_RESTART_ALL || op->action == ENGINE_ADD ? ENGINE_START
                                                                                                     : op->action;
        service_get_status(s, &st);
        if (engine_judge(judged_as, t->stop_phase, &st, service_is_pending(s), service_config(s)->start_retries,
                         &op->results[i]))
                t->done = true;
}

static void op_begin_restart_all_start(struct engine_op *op);

/* A restart is a stop of its set, then a start of it: the starts begin once every stop of
 * the set is over, in the targets' order (priority, lowest first), so that a stop in
 * priority order does not become a start in the reverse one. */
static void op_begin_restart_starts(struct engine_op *op) {
        for (size_t i = 0; i < op->n_targets; i++) {
                struct engine_target *t = &op->targets[i];
                if (!t->done && t->stop_phase && t->service
                    && (service_is_pending(t->service) || service_state(t->service) == STATE_STOPPING))
                        return;
        }
        for (size_t i = 0; i < op->n_targets; i++) {
                struct engine_target *t = &op->targets[i];
                if (t->done || !t->stop_phase || !t->service)
                        continue;
                t->stop_phase = false;
                if (service_start(t->service) < 0) {
                        result_set(&op->results[i], ENGINE_FAILED, false, "could not start");
                        t->done = true;
                }
        }
}

/* Advance OP; true when it is over (reported and unlinked, then freed by the caller). */
static bool op_evaluate(struct engine_op *op) {
        struct engine *e = op->engine;
        if (op->loading)
                return false;
        if (op->phase == RESTART_ALL_STOPPING) {
                if (!services_all_stopped())
                        return false;
                e->restarting_all = false;
                if (e->shutting_down) {
                        op->code = ENGINE_SHUTTING_DOWN;
                        snprintf(op->reason, sizeof op->reason, "supervisord is shutting down");
                        return true;
                }
                op_begin_restart_all_start(op);
                if (op->loading)
                        return false;
        }
        if (op->action == ENGINE_RESTART)
                op_begin_restart_starts(op);
        bool finished = true;
        /* Every target, not up to the first unfinished one: one service still starting
         * must not hold back the others. */
        for (size_t i = 0; i < op->n_targets; i++) {
                op_evaluate_target(op, i);
                finished &= op->targets[i].done;
        }
        return finished;
}

static void op_finish(struct engine_op *op) {
        op_unlink(op);
        if (!op->reported)
                op_report(op);
        op_free(op);
}

static int engine_on_recheck(sd_event_source *source, void *userdata) {
        struct engine *e = userdata;
        (void)source;
        /* A callback may cancel any operation: after a completion start over from the
         * head (finished ones are gone, so this ends). */
        for (struct engine_op *op = e->ops; op;) {
                if (op_evaluate(op)) {
                        op_finish(op);
                        op = e->ops;
                } else
                        op = op->next;
        }
        return 0;
}

static void engine_schedule_recheck(struct engine *e) {
        if (e->recheck && e->ops)
                sd_event_source_set_enabled(e->recheck, SD_EVENT_ONESHOT);
}

static void engine_publish(struct engine *e, enum event_type type) {
        struct event ev = { .type = type };
        event_bus_publish(e->bus, &ev);
}

static void engine_on_event(const struct event *ev, void *userdata) {
        struct engine *e = userdata;
        if (ev->type == EVENT_SUPERVISOR_STOPPING) {
                e->shutting_down = true;
                return;
        }
        struct service *service = ev->service;
        if (ev->type == EVENT_SERVICE_REMOVED) {
                /* No operation may keep a pointer to it. */
                for (struct engine_op *op = e->ops; op; op = op->next)
                        for (size_t i = 0; i < op->n_targets; i++)
                                if (op->targets[i].service == service) {
                                        if (!op->targets[i].done)
                                                result_set(&op->results[i], ENGINE_GONE, false, "removed by a reload");
                                        op->targets[i].done = true;
                                        op->targets[i].service = NULL;
                                }
        }
        engine_schedule_recheck(e);
}

/* The first look, in the caller's iteration: answers known at once go out at once. */
static int op_start(struct engine_op *op, struct engine_op **ret_op) {
        if (ret_op)
                *ret_op = NULL;
        if (op_evaluate(op)) {
                op_report(op);
                op_free(op);
                return 0;
        }
        if (!op->wait && !op->loading)
                op_report(op);  /* asked and on its way: enough for this caller */
        op_link(op);
        if (ret_op && !op->reported)
                *ret_op = op;
        return 0;
}

/* Not waited for: what is under way counts as done for the report.  Only a restart still
 * stopping has more to do (its start), unseen. */
static void op_fill_unfinished(struct engine_op *op, const char *reason) {
        for (size_t i = 0; i < op->n_targets; i++) {
                struct engine_target *t = &op->targets[i];
                if (t->done)
                        continue;
                result_set(&op->results[i], ENGINE_OK, true, "%s", reason);
                t->done = !(op->action == ENGINE_RESTART && t->stop_phase);
        }
}

static int submit_on_processes(struct engine *e, const struct engine_request *req, engine_done_fn done,
                               void *userdata, struct engine_op **ret_op) {
        struct service **list;
        size_t n;
        const char *bad;
        int r = engine_resolve(req->all, req->names, req->n_names, &list, &n, &bad);
        if (r == -ENOENT) {
                char why[512];
                engine_describe_unknown(bad, why, sizeof why);
                return report_refusal(req, done, userdata, ENGINE_NO_SUCH_NAME, ret_op, "%s", why);
        }
        if (r < 0)
                return r;
        /* Starts go out in priority order (lowest first), as supervisord's do; a stop's
         * order is services_stop_ordered()'s to keep. */
        if (req->action == ENGINE_START || req->action == ENGINE_RESTART)
                services_sort_by_priority(list, n);
        struct engine_op *op = op_new(e, req, done, userdata, n);
        if (!op) {
                free(list);
                return -ENOMEM;
        }
        size_t n_stopping = 0;
        for (size_t i = 0; i < n; i++)
                op_set_target(op, i, list[i]);

        if (req->action == ENGINE_STOP) {
                /* In reverse dependency order within the set. */
                for (size_t i = 0; i < n; i++) {
                        enum service_state state = service_state(list[i]);
                        if (state == STATE_STARTING || state == STATE_RUNNING || state == STATE_STOPPING
                            || state == STATE_BACKOFF || service_is_pending(list[i]))
                                op->targets[i].stop_phase = true;
                        else {
                                result_set(&op->results[i], ENGINE_ALREADY, true, "not running");
                                op->targets[i].done = true;
                        }
                }
                services_stop_ordered(list, n);
        } else
                /* Reuses LIST's front for a restart's processes to stop: entry i is read
                 * before the (at most i+1) entries kept are written. */
                for (size_t i = 0; i < n; i++) {
                        struct engine_target *t = &op->targets[i];
                        struct engine_result *res = &op->results[i];
                        struct service *s = list[i];
                        enum service_state state = service_state(s);
                        switch (req->action) {
                        case ENGINE_START:
                                if (state == STATE_RUNNING) {
                                        result_set(res, ENGINE_ALREADY, true, "already running");
                                        t->done = true;
                                } else if (service_start(s) == -EBUSY) {
                                        result_set(res, ENGINE_BUSY, false, "is stopping");
                                        t->done = true;
                                }
                                break;
                        case ENGINE_RESTART:
                                /* Every target waits for the stops, which go in priority
                                 * order (services_stop_ordered, below); then
                                 * op_begin_restart_starts() starts them all. */
                                t->stop_phase = true;
                                if (state == STATE_STARTING || state == STATE_RUNNING || state == STATE_STOPPING)
                                        list[n_stopping++] = s;
                                break;
                        case ENGINE_SIGNAL:
                                r = service_signal(s, req->signal);
                                if (r == -ESRCH)
                                        result_set(res, ENGINE_NOT_RUNNING, false, "not running");
                                else if (r < 0)
                                        result_set(res, ENGINE_FAILED, false, "%s", strerror(-r));
                                else
                                        result_set(res, ENGINE_OK, true, "signalled");
                                t->done = true;
                                break;
                        default:
                                break;
                        }
                }
        if (n_stopping)
                services_stop_ordered(list, n_stopping);  /* the list is the targets' no more */
        free(list);
        if (!req->wait)
                op_fill_unfinished(op, req->action == ENGINE_STOP ? "stopping"
                                       : req->action == ENGINE_RESTART ? "restarting" : "starting");
        return op_start(op, ret_op);
}

static int op_alloc_targets(struct engine_op *op, size_t n) {
        if (n == 0)
                return 0;
        op->targets = calloc(n, sizeof *op->targets);
        op->results = calloc(n, sizeof *op->results);
        if (!op->targets || !op->results)
                return -ENOMEM;
        op->n_targets = n;
        return 0;
}

/* Update OP from REPORT (R >= 0) or the reason the config was not applied. */
static void update_fill(struct engine_op *op, int r, const struct reload_report *report, const char *notice,
                        enum engine_code code, const char *error) {
        op->loading = false;
        if (r < 0) {
                op->code = code;
                snprintf(op->reason, sizeof op->reason, "%s", error);
                return;
        }
        size_t n = strv_length(report->added) + strv_length(report->changed) + strv_length(report->removed);
        if (op_alloc_targets(op, n) < 0) {
                op->code = ENGINE_FAILED;
                snprintf(op->reason, sizeof op->reason, "out of memory");
                return;
        }
        static const struct {
                size_t offset;
                enum engine_code code;
                const char *reason;
        } lists[] = {
                { offsetof(struct reload_report, added), ENGINE_ADDED, "added" },
                { offsetof(struct reload_report, changed), ENGINE_CHANGED, "changed" },
                { offsetof(struct reload_report, removed), ENGINE_REMOVED, "removed" },
        };
        size_t k = 0;
        for (size_t l = 0; l < ELEMENTSOF(lists); l++)
                for (char **name = *(char ***)((char *)report + lists[l].offset); name && *name; name++, k++) {
                        snprintf(op->results[k].name, sizeof op->results[k].name, "%s", *name);
                        result_set(&op->results[k], lists[l].code, true, "%s", lists[l].reason);
                        op->targets[k].done = true;
                }
        snprintf(op->notice, sizeof op->notice, "%s", notice);
}

/* An update's load ended: apply it once for every update that waited for it. */
static void update_loaded(struct config *config, const char *error, void *userdata) {
        struct engine *e = userdata;
        unsigned number = ++e->update_loads_done;
        if (e->update_loads_done == e->update_loads_asked)
                e->update_load = NULL;
        struct reload_report report = { 0 };
        char notice[512] = "", apply_error[1024] = "";
        enum engine_code code = ENGINE_CANT_REREAD;
        int r = -EINVAL;
        if (!config) {
                log_error("reload: %s; nothing changed", error);
                snprintf(apply_error, sizeof apply_error, "%s", error);
        } else if (e->shutting_down) {
                config_free(config);
                code = ENGINE_SHUTTING_DOWN;
                snprintf(apply_error, sizeof apply_error, "supervisord is shutting down");
        } else
                r = e->hooks.apply_config(config, &report, notice, sizeof notice, apply_error, sizeof apply_error,
                                          e->hooks.userdata);
        for (struct engine_op *op = e->ops; op; op = op->next)
                if (op->action == ENGINE_UPDATE && op->loading && op->update_load == number)
                        update_fill(op, r, &report, notice, code, apply_error);
        if (r >= 0)
                reload_report_free(&report);
        /* Running again whatever the outcome: the old config is in force after a failure. */
        if (e->update_loads_done == e->update_loads_asked)
                engine_publish(e, EVENT_SUPERVISOR_RUNNING);
        engine_schedule_recheck(e);
}

static int submit_update(struct engine *e, const struct engine_request *req, engine_done_fn done, void *userdata,
                         struct engine_op **ret_op) {
        if (!e->hooks.apply_config || !e->hooks.loader)
                return -EOPNOTSUPP;
        struct engine_op *op = op_new(e, req, done, userdata, 0);
        if (!op)
                return -ENOMEM;
        /* A load that has not begun reads the file as it will be: this update shares it.
         * One under way may have read it before the change this update is for. */
        if (!e->update_load || config_load_started(e->update_load)) {
                int r = config_loader_load(e->hooks.loader, update_loaded, e, &e->update_load);
                if (r < 0) {
                        op_free(op);
                        return r;
                }
                if (e->update_loads_asked++ == e->update_loads_done)
                        engine_publish(e, EVENT_SUPERVISOR_RELOADING);
        }
        op->update_load = e->update_loads_asked;
        op->loading = true;
        return op_start(op, ret_op);
}

/* The names of the groups (services) the table holds, or the config CONFIG defines. */
static bool table_has_group(const char *name) {
        struct service *s;
        for (size_t i = 0; (s = services_get(i)); i++)
                if (strcmp(service_config(s)->name, name) == 0)
                        return true;
        return false;
}

static void add_loaded(struct config *config, const char *error, void *userdata) {
        struct engine_op *op = userdata;
        struct engine *e = op->engine;
        int r;
        op->load = NULL;
        op->loading = false;
        engine_schedule_recheck(e);
        if (!config || e->shutting_down) {
                op->code = config ? ENGINE_SHUTTING_DOWN : ENGINE_CANT_REREAD;
                snprintf(op->reason, sizeof op->reason, "%s", config ? "supervisord is shutting down" : error);
                config_free(config);
                return;
        }
        size_t n_names = strv_length(op->names);
        /* Targets: one per group named, then (waiting) one per process started. */
        size_t n_processes = 0;
        for (size_t i = 0; i < n_names; i++) {
                ssize_t c = config_find_service(config, op->names[i]);
                if (c >= 0 && !table_has_group(op->names[i]))
                        n_processes += config->services[c]->instances;
        }
        if (op_alloc_targets(op, n_names + n_processes) < 0) {
                op->code = ENGINE_FAILED;
                snprintf(op->reason, sizeof op->reason, "out of memory");
                op->n_targets = 0;
                config_free(config);
                return;
        }
        size_t k = n_names;
        for (size_t i = 0; i < n_names; i++) {
                struct engine_result *res = &op->results[i];
                ssize_t c = config_find_service(config, op->names[i]);
                snprintf(res->name, sizeof res->name, "%s", op->names[i]);
                op->targets[i].done = true;
                if (table_has_group(op->names[i])) {
                        result_set(res, ENGINE_ALREADY_ADDED, false, "already added");
                        continue;
                }
                if (c < 0) {
                        result_set(res, ENGINE_NO_SUCH_NAME, false, "no such service in %s", config->path);
                        continue;
                }
                size_t before = services_count();
                if ((r = services_add_group(config->services[c])) < 0) {
                        result_set(res, ENGINE_FAILED, false, "%s", strerror(-r));
                        continue;
                }
                result_set(res, ENGINE_ADDED, true, "added");
                for (size_t j = before; j < services_count(); j++) {
                        struct service *s = services_get(j);
                        if (!service_config(s)->autostart)
                                continue;
                        op_set_target(op, k, s);
                        service_start(s);
                        if (!op->wait) {
                                result_set(&op->results[k], ENGINE_OK, true, "starting");
                                op->targets[k].done = true;
                        }
                        k++;
                }
        }
        op->n_targets = k;  /* the processes of groups that could not be added have none */
        config_free(config);  /* the table holds references to what it took */
}

/* reread: the config as it is now, compared with the table, one result per group that
 * an update would add, change or remove (in that order), nothing done.  Counts them when
 * OP has no results yet, else fills them in; the number either way. */
static size_t reread_diff(struct engine_op *op, const struct config *config) {
        size_t n = 0;
#define FOUND(group, code, reason)                                                       \
        do {                                                                            \
                if (op->results) {                                                      \
                        snprintf(op->results[n].name, sizeof op->results[n].name, "%s", group); \
                        result_set(&op->results[n], code, true, reason);                \
                        op->targets[n].done = true;                                     \
                }                                                                       \
                n++;                                                                    \
        } while (0)
        for (size_t i = 0; i < config->n_services; i++) {
                const struct service_config *want = config->services[i];
                const struct service_config *have = NULL;
                struct service *s;
                for (size_t k = 0; !have && (s = services_get(k)); k++)
                        if (strcmp(service_config(s)->name, want->name) == 0)
                                have = service_config(s);
                if (!have)
                        FOUND(want->name, ENGINE_ADDED, "available");
                else if (!service_config_equal(have, want))
                        FOUND(want->name, ENGINE_CHANGED, "changed");
        }
        /* The table holds a group's instances next to each other: each group once. */
        const char *last = NULL;
        struct service *s;
        for (size_t k = 0; (s = services_get(k)); k++) {
                const char *name = service_config(s)->name;
                if (last && strcmp(last, name) == 0)
                        continue;
                last = name;
                if (config_find_service(config, name) < 0)
                        FOUND(name, ENGINE_REMOVED, "disappeared");
        }
#undef FOUND
        return n;
}

static void reread_loaded(struct config *config, const char *error, void *userdata) {
        struct engine_op *op = userdata;
        struct engine *e = op->engine;
        op->load = NULL;
        op->loading = false;
        engine_schedule_recheck(e);
        if (!config) {
                op->code = ENGINE_CANT_REREAD;
                snprintf(op->reason, sizeof op->reason, "%s", error);
                return;
        }
        if (op_alloc_targets(op, reread_diff(op, config)) < 0) {
                op->code = ENGINE_FAILED;
                snprintf(op->reason, sizeof op->reason, "out of memory");
                op->n_targets = 0;
        } else if (op->results)
                reread_diff(op, config);
        config_free(config);
}

static int submit_reread(struct engine *e, const struct engine_request *req, engine_done_fn done, void *userdata,
                         struct engine_op **ret_op) {
        if (!e->hooks.loader)
                return -EOPNOTSUPP;
        struct engine_op *op = op_new(e, req, done, userdata, 0);
        if (!op)
                return -ENOMEM;
        int r = config_loader_load(e->hooks.loader, reread_loaded, op, &op->load);
        if (r < 0) {
                op_free(op);
                return r;
        }
        op->loading = true;
        return op_start(op, ret_op);
}

static int submit_add(struct engine *e, const struct engine_request *req, engine_done_fn done, void *userdata,
                      struct engine_op **ret_op) {
        if (req->all || req->n_names == 0)
                return report_refusal(req, done, userdata, ENGINE_NO_SUCH_NAME, ret_op, "add: name the groups to add");
        if (!e->hooks.loader)
                return -EOPNOTSUPP;
        struct engine_op *op = op_new(e, req, done, userdata, 0);
        if (!op || !(op->names = calloc(req->n_names + 1, sizeof *op->names))) {
                op_free(op);
                return -ENOMEM;
        }
        for (size_t i = 0; i < req->n_names; i++)
                if (!(op->names[i] = strdup(req->names[i]))) {
                        op_free(op);
                        return -ENOMEM;
                }
        int r = config_loader_load(e->hooks.loader, add_loaded, op, &op->load);
        if (r < 0) {
                op_free(op);
                return r;
        }
        op->loading = true;
        return op_start(op, ret_op);
}

static int submit_remove(struct engine *e, const struct engine_request *req, engine_done_fn done, void *userdata,
                         struct engine_op **ret_op) {
        if (req->all || req->n_names == 0)
                return report_refusal(req, done, userdata, ENGINE_NO_SUCH_NAME, ret_op,
                                      "remove: name the groups to remove");
        struct engine_op *op = op_new(e, req, done, userdata, req->n_names);
        if (!op)
                return -ENOMEM;
        for (size_t i = 0; i < req->n_names; i++) {
                struct engine_result *res = &op->results[i];
                snprintf(res->name, sizeof res->name, "%s", req->names[i]);
                op->targets[i].done = true;
                if (!table_has_group(req->names[i])) {
                        result_set(res, ENGINE_NO_SUCH_NAME, false, "no such group");
                        continue;
                }
                /* Only a group at rest: its processes stop by request, not as a side effect. */
                bool at_rest = true;
                struct service *s;
                for (size_t j = 0; (s = services_get(j)); j++) {
                        enum service_state state = service_state(s);
                        if (strcmp(service_config(s)->name, req->names[i]) == 0
                            && (state == STATE_STARTING || state == STATE_RUNNING || state == STATE_STOPPING
                                || state == STATE_BACKOFF || service_is_pending(s)))
                                at_rest = false;
                }
                if (!at_rest) {
                        result_set(res, ENGINE_STILL_RUNNING, false, "still running: stop it first");
                        continue;
                }
                services_remove_group(req->names[i]);
                result_set(res, ENGINE_REMOVED, true, "removed");
        }
        (void)e;
        return op_start(op, ret_op);
}

/* The config of a restart of everything is loaded: apply it, then start what starts. */
static void restart_all_loaded(struct config *config, const char *error, void *userdata) {
        struct engine_op *op = userdata;
        struct engine *e = op->engine;
        struct reload_report report;
        char apply_error[1024] = "";
        op->load = NULL;
        op->loading = false;
        engine_schedule_recheck(e);
        if (e->shutting_down) {
                config_free(config);
                op->code = ENGINE_SHUTTING_DOWN;
                snprintf(op->reason, sizeof op->reason, "supervisord is shutting down");
                return;
        }
        if (!config) {
                log_error("reload: %s; nothing changed", error);
                /* The old definitions start again: a restart must not leave nothing running. */
                op->code = ENGINE_CANT_REREAD;
                snprintf(op->reason, sizeof op->reason, "%s", error);
        } else if (e->hooks.apply_config(config, &report, op->notice, sizeof op->notice, apply_error,
                                         sizeof apply_error, e->hooks.userdata) < 0) {
                op->code = ENGINE_CANT_REREAD;
                snprintf(op->reason, sizeof op->reason, "%s", apply_error);
        } else
                reload_report_free(&report);
        size_t n = 0;
        struct service *s;
        for (size_t i = 0; (s = services_get(i)); i++)
                n += service_config(s)->autostart;
        if (op_alloc_targets(op, n) < 0) {
                free(op->targets);
                free(op->results);
                op->targets = NULL;
                op->results = NULL;
                n = 0;
        }
        op->n_targets = n;
        size_t k = 0;
        for (size_t i = 0; k < n && (s = services_get(i)); i++)
                if (service_config(s)->autostart)
                        op_set_target(op, k++, s);
        services_start_autostart();
        engine_publish(e, EVENT_SUPERVISOR_RUNNING);
        if (op->reported)
                op_fill_unfinished(op, "starting");
}

/* Everything has stopped: load the config as it is now. */
static void op_begin_restart_all_start(struct engine_op *op) {
        struct engine *e = op->engine;
        op->phase = RESTART_ALL_STARTING;
        op->loading = true;
        if (config_loader_load(e->hooks.loader, restart_all_loaded, op, &op->load) < 0) {
                op->loading = false;
                restart_all_loaded(NULL, "out of memory", op);
        }
}

static int submit_restart_all(struct engine *e, const struct engine_request *req, engine_done_fn done,
                              void *userdata, struct engine_op **ret_op) {
        if (!e->hooks.apply_config || !e->hooks.loader)
                return -EOPNOTSUPP;
        struct engine_op *op = op_new(e, req, done, userdata, 0);
        if (!op)
                return -ENOMEM;
        log_notice("restarting every service");
        engine_publish(e, EVENT_SUPERVISOR_RELOADING);
        e->restarting_all = true;
        op->phase = RESTART_ALL_STOPPING;
        services_stop_ordered(NULL, 0);
        return op_start(op, ret_op);
}

int engine_submit(struct engine *e, const struct engine_request *req, engine_done_fn done, void *userdata,
                  struct engine_op **ret_op) {
        if (ret_op)
                *ret_op = NULL;
        bool starts = req->action == ENGINE_START || req->action == ENGINE_RESTART || req->action == ENGINE_UPDATE
                      || req->action == ENGINE_ADD || req->action == ENGINE_RESTART_ALL;
        if (starts && e->shutting_down)
                return report_refusal(req, done, userdata, ENGINE_SHUTTING_DOWN, ret_op, "supervisord is shutting down");
        if (starts && e->restarting_all)
                return report_refusal(req, done, userdata, ENGINE_RESTARTING, ret_op,
                                      "supervisord is restarting every service");
        switch (req->action) {
        case ENGINE_START:
        case ENGINE_STOP:
        case ENGINE_RESTART:
        case ENGINE_SIGNAL:
                return submit_on_processes(e, req, done, userdata, ret_op);
        case ENGINE_UPDATE:
                return submit_update(e, req, done, userdata, ret_op);
        case ENGINE_ADD:
                return submit_add(e, req, done, userdata, ret_op);
        case ENGINE_REMOVE:
                return submit_remove(e, req, done, userdata, ret_op);
        case ENGINE_RESTART_ALL:
                return submit_restart_all(e, req, done, userdata, ret_op);
        case ENGINE_REREAD:
                return submit_reread(e, req, done, userdata, ret_op);
        }
        return -EINVAL;
}

void engine_op_cancel(struct engine_op *op) {
        if (!op)
                return;
        if (op->phase != RESTART_ALL_NONE) {
                /* Half a restart of everything would leave nothing running: it goes on,
                 * unreported. */
                op->done = NULL;
                op->reported = true;
                return;
        }
        op_unlink(op);
        op_free(op);
}

int engine_new(sd_event *event, struct event_bus *bus, const struct engine_hooks *hooks, struct engine **ret) {
        struct engine *e = calloc(1, sizeof *e);
        if (!e)
                return -ENOMEM;
        e->event = event;
        e->bus = bus;
        if (hooks)
                e->hooks = *hooks;
        int r = sd_event_add_defer(event, &e->recheck, engine_on_recheck, e);
        if (r < 0) {
                free(e);
                return r;
        }
        r = event_bus_subscribe(bus, EVENT_MASK_SERVICE | EVENT_MASK(EVENT_SUPERVISOR_STOPPING), engine_on_event, e,
                                &e->listening);
        if (r < 0) {
                sd_event_source_disable_unref(e->recheck);
                free(e);
                return r;
        }
        /* Before the next event is handled, so no state an operation waits for can pass
         * unseen. */
        sd_event_source_set_priority(e->recheck, SD_EVENT_PRIORITY_IMPORTANT);
        sd_event_source_set_enabled(e->recheck, SD_EVENT_OFF);
        *ret = e;
        return 0;
}

struct engine *engine_free(struct engine *e) {
        if (!e)
                return NULL;
        while (e->ops) {
                struct engine_op *op = e->ops;
                op_unlink(op);
                op_free(op);
        }
        if (e->hooks.loader)
                config_loader_forget(e->hooks.loader, e);
        event_unsubscribe(e->listening);
        sd_event_source_disable_unref(e->recheck);
        free(e);
        return NULL;
}
