/* test_engine.c — unit tests of the action engine (engine.c) without a daemon: the pure
 * verdicts on a target's outcome, the resolution of names into processes, the report and
 * its aggregation, the refusals, and each action on a real service table in this test
 * process, driven by its own event loop (the services it starts are `sleep` processes,
 * its children, reaped by a SIGCHLD source as main.c does); and the facts the service
 * record keeps for clients. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "config.h"
#include "engine.h"
#include "events.h"
#include "harness.h"
#include "log.h"
#include "logfile.h"
#include "service.h"
#include "spawn.h"

#ifndef W_EXITCODE
#define W_EXITCODE(code, sig) (((code) << 8) | (sig))
#endif

/* ---- engine_judge: pure ---- */

static struct service_status status_in(enum service_state state, const char *message) {
        return (struct service_status){ .name = "x", .state = state, .message = message };
}

START_TEST(test_judge_start) {
        struct engine_result r = { 0 };
        struct service_status st = status_in(STATE_RUNNING, "");
        ck_assert(engine_judge(ENGINE_START, false, &st, false, 5, &r));
        ck_assert_int_eq(r.code, ENGINE_OK);
        ck_assert(r.ok);
        ck_assert_str_eq(r.reason, "started");
        ck_assert(engine_judge(ENGINE_RESTART, false, &st, false, 5, &r));
        ck_assert_str_eq(r.reason, "restarted");
        /* On its way: STARTING, or waiting for its `after` services. */
        st = status_in(STATE_STARTING, "");
        ck_assert(!engine_judge(ENGINE_START, false, &st, false, 5, &r));
        st = status_in(STATE_RUNNING, "");
        ck_assert(!engine_judge(ENGINE_START, false, &st, true, 5, &r));
}
END_TEST

START_TEST(test_judge_start_failures) {
        struct engine_result r = { 0 };
        struct service_status st = status_in(STATE_FATAL, "gave up after 5 failed starts: x");
        ck_assert(engine_judge(ENGINE_START, false, &st, false, 5, &r));
        ck_assert_int_eq(r.code, ENGINE_SPAWN_ERROR);
        ck_assert(!r.ok);
        ck_assert_str_eq(r.reason, "gave up after 5 failed starts: x");
        st = status_in(STATE_FATAL, "");
        ck_assert(engine_judge(ENGINE_START, false, &st, false, 5, &r));
        ck_assert_str_eq(r.reason, "failed to start");
        st = status_in(STATE_STOPPED, "");
        ck_assert(engine_judge(ENGINE_START, false, &st, false, 5, &r));
        ck_assert_int_eq(r.code, ENGINE_ABNORMAL);
        ck_assert_str_eq(r.reason, "stopped before it was running");
        st = status_in(STATE_STOPPED, "not started: dependency db is FATAL");
        ck_assert(engine_judge(ENGINE_START, false, &st, false, 5, &r));
        ck_assert_str_eq(r.reason, "not started: dependency db is FATAL");
        st = status_in(STATE_EXITED, "");
        st.last_wait_status = W_EXITCODE(3, 0);
        ck_assert(engine_judge(ENGINE_START, false, &st, false, 5, &r));
        ck_assert_int_eq(r.code, ENGINE_ABNORMAL);
        ck_assert_str_eq(r.reason, "exited before it was running (exit status 3)");
        /* BACKOFF: a retry is coming, unless retries are unlimited (it may never run). */
        st = status_in(STATE_BACKOFF, "exited too quickly (exit status 1)");
        ck_assert(!engine_judge(ENGINE_START, false, &st, false, 5, &r));
        ck_assert(engine_judge(ENGINE_START, false, &st, false, 0, &r));
        ck_assert_int_eq(r.code, ENGINE_SPAWN_ERROR);
        ck_assert_str_eq(r.reason, "exited too quickly (exit status 1)");
}
END_TEST

START_TEST(test_judge_stop) {
        struct engine_result r = { 0 };
        struct service_status st = status_in(STATE_STOPPING, "");
        ck_assert(!engine_judge(ENGINE_STOP, true, &st, false, 5, &r));
        st = status_in(STATE_STOPPED, "");
        ck_assert(!engine_judge(ENGINE_STOP, true, &st, true, 5, &r));  /* its dependents first */
        ck_assert(engine_judge(ENGINE_STOP, true, &st, false, 5, &r));
        ck_assert_int_eq(r.code, ENGINE_OK);
        ck_assert_str_eq(r.reason, "stopped");
        /* A restart's stop being over is no outcome: its start comes next. */
        ck_assert(!engine_judge(ENGINE_RESTART, true, &st, false, 5, &r));
}
END_TEST

START_TEST(test_code_and_action_names) {
        ck_assert_str_eq(engine_code_to_string(ENGINE_OK), "ok");
        ck_assert_str_eq(engine_code_to_string(ENGINE_CANT_REREAD), "cant-reread");
        for (int c = ENGINE_OK; c <= ENGINE_CANT_REREAD; c++)
                ck_assert_str_ne(engine_code_to_string((enum engine_code)c), "unknown");
        ck_assert_str_eq(engine_code_to_string((enum engine_code)1000), "unknown");
        for (int a = ENGINE_START; a <= ENGINE_RESTART_ALL; a++)
                ck_assert_str_ne(engine_action_to_string((enum engine_action)a), "unknown");
        ck_assert_str_eq(engine_action_to_string(ENGINE_RESTART_ALL), "restart-all");
}
END_TEST

/* ---- a service table in this process ---- */

static char test_dir[64], conf_path[128];
static sd_event *event;
static struct event_bus *bus;
static struct engine *engine;
static struct config *config;  /* the one in force */
static struct event_subscription *watch;
static char events_seen[4096];  /* "TYPE[:NAME]" of the group and supervisor events */

static void write_config(const char *body) {
        FILE *f = fopen(conf_path, "w");
        ck_assert_ptr_nonnull(f);
        fprintf(f, "socket = %s/sock\npidfile = %s/pid\nlog-dir = %s\n%s", test_dir, test_dir, test_dir, body);
        ck_assert_int_eq(fclose(f), 0);
}

/* The config loads through a real loader, on its thread, as in main.c. */
static struct config_loader *loader;
static _Atomic unsigned loads;  /* how many loads ran */

static int counted_load(const char *path, struct config **ret, char *error, size_t error_size) {
        loads++;
        return config_load(path, ret, error, error_size);
}

static int apply_config(struct config *next, struct reload_report *report, char *notice, size_t notice_size,
                        char *error, size_t error_size, void *userdata) {
        (void)userdata;
        (void)error;
        (void)error_size;
        notice[0] = '\0';
        (void)notice_size;
        int r;
        if ((r = services_reload(next, report)) < 0) {
                config_free(next);
                return r;
        }
        config_free(config);
        config = next;
        return 0;
}

static int on_sigchld(sd_event_source *source, const struct signalfd_siginfo *si, void *userdata) {
        (void)source;
        (void)si;
        (void)userdata;
        while (services_reap())
                ;
        return 0;
}

static void on_event(const struct event *e, void *userdata) {
        (void)userdata;
        size_t len = strlen(events_seen);
        snprintf(events_seen + len, sizeof events_seen - len, "%s%s%s%s", len ? " " : "", event_type_to_string(e->type),
                 e->group ? ":" : "", e->group ? e->group : "");
}

/* Load BODY and build the table, the bus and the engine on a fresh loop. */
static void table_start(const char *body) {
        char error[1024];
        write_config(body);
        ck_assert_msg(config_load(conf_path, &config, error, sizeof error) == 0, "%s", error);
        /* Blocked as main.c blocks them: a child between its clone and its exec relies on
         * it (spawn.c), and SIGCHLD is read through the loop. */
        sigset_t mask;
        sigemptyset(&mask);
        static const int blocked[] = { SIGTERM, SIGINT, SIGCHLD, SIGHUP, SIGUSR1 };
        for (size_t i = 0; i < ELEMENTSOF(blocked); i++)
                sigaddset(&mask, blocked[i]);
        ck_assert_int_eq(sigprocmask(SIG_BLOCK, &mask, NULL), 0);
        ck_assert_int_ge(sd_event_default(&event), 0);
        ck_assert_int_ge(sd_event_add_signal(event, NULL, SIGCHLD, on_sigchld, NULL), 0);
        char pidfile[300];
        snprintf(pidfile, sizeof pidfile, "%s/pid", test_dir);
        ck_assert_int_eq(spawn_init(event, pidfile), 0);
        ck_assert_int_eq(event_bus_new(&bus), 0);
        ck_assert_int_eq(event_bus_subscribe(bus, EVENT_MASK(EVENT_GROUP_ADDED) | EVENT_MASK(EVENT_GROUP_REMOVED)
                                                          | EVENT_MASK(EVENT_SUPERVISOR_RELOADING)
                                                          | EVENT_MASK(EVENT_SUPERVISOR_RUNNING),
                                             on_event, NULL, &watch),
                         0);
        services_set_bus(bus);
        ck_assert_msg(logs_init(event, test_dir, error, sizeof error) == 0, "logs_init: %s", error);
        ck_assert_int_eq(services_create(event, config), 0);
        ck_assert_int_eq(config_loader_new(event, conf_path, counted_load, &loader), 0);
        const struct engine_hooks hooks = { .loader = loader, .apply_config = apply_config };
        ck_assert_int_eq(engine_new(event, bus, &hooks, &engine), 0);
}

static void setup(void) {
        snprintf(test_dir, sizeof test_dir, "/tmp/supervisord-engine-test.XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(test_dir));
        snprintf(conf_path, sizeof conf_path, "%s/supervisord.conf", test_dir);
        events_seen[0] = '\0';
        log_set_level(LOG_WARNING);  /* each transition at info would drown the failures */
}

static void teardown(void) {
        if (engine) {
                struct service *s;
                for (size_t i = 0; (s = services_get(i)); i++) {
                        struct service_status st;
                        service_get_status(s, &st);
                        if (service_process_group(s) > 0)
                                kill(-service_process_group(s), SIGKILL);
                        if (st.pid > 0)  /* one not yet in its own group */
                                kill(st.pid, SIGKILL);
                }
                /* Every child gone before spawn_free(): one still between its clone and its
                 * exec keeps its context (and the test would leak it). */
                while (waitpid(-1, NULL, 0) > 0)
                        ;
                engine = engine_free(engine);
                loader = config_loader_free(loader);
                services_free();
                spawn_free();
                logs_free_all();
                watch = event_unsubscribe(watch);
                bus = event_bus_free(bus);
                event = sd_event_unref(event);
                config_free(config);
                config = NULL;
        }
        DIR *dir = opendir(test_dir);
        if (dir) {
                struct dirent *e;
                while ((e = readdir(dir))) {
                        char path[512];
                        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
                                snprintf(path, sizeof path, "%s/%s", test_dir, e->d_name);
                                unlink(path);
                        }
                }
                closedir(dir);
        }
        rmdir(test_dir);
}

/* What the completion callback saw. */
struct outcome {
        unsigned calls;
        enum engine_code code;
        char reason[1024];
        char notice[512];
        size_t n_results, n_failed;
        struct engine_result results[16];
};

static void on_done(const struct engine_report *report, void *userdata) {
        struct outcome *o = userdata;
        o->calls++;
        o->code = report->code;
        snprintf(o->reason, sizeof o->reason, "%s", report->reason ? report->reason : "");
        snprintf(o->notice, sizeof o->notice, "%s", report->notice ? report->notice : "");
        o->n_results = report->n_results;
        o->n_failed = report->n_failed;
        for (size_t i = 0; i < report->n_results && i < ELEMENTSOF(o->results); i++)
                o->results[i] = report->results[i];
}

/* Submit ACTION on NAMES ("all" for all); returns the handle (NULL: already reported). */
static struct engine_op *submit(enum engine_action action, bool wait, const char *names, struct outcome *o) {
        static char buf[256];
        static char *list[8];
        struct engine_request req = { .action = action, .wait = wait, .signal = SIGTERM };
        snprintf(buf, sizeof buf, "%s", names);
        size_t n = 0;
        for (char *save, *t = strtok_r(buf, " ", &save); t && n < ELEMENTSOF(list); t = strtok_r(NULL, " ", &save))
                list[n++] = t;
        if (n == 1 && strcmp(list[0], "all") == 0)
                req.all = true;
        else {
                req.names = list;
                req.n_names = n;
        }
        struct engine_op *op = (struct engine_op *)1;
        *o = (struct outcome){ 0 };
        ck_assert_int_eq(engine_submit(engine, &req, on_done, o, &op), 0);
        if (o->calls)
                ck_assert_ptr_null(op);
        else
                ck_assert_ptr_nonnull(op);
        return op;
}

/* Run the loop until O is reported (or TIMEOUT_MS passes). */
static bool run_until_done(struct outcome *o, int timeout_ms) {
        long long deadline = now_ms() + timeout_ms;
        while (!o->calls && now_ms() < deadline)
                ck_assert_int_ge(sd_event_run(event, 10 * USEC_PER_MSEC), 0);
        return o->calls > 0;
}

static void run_for(int ms) {
        long long deadline = now_ms() + ms;
        while (now_ms() < deadline)
                ck_assert_int_ge(sd_event_run(event, 10 * USEC_PER_MSEC), 0);
}

static enum service_state state_of(const char *name) {
        struct service *s = services_find(name);
        ck_assert_msg(s != NULL, "no process %s", name);
        return service_state(s);
}

static pid_t pid_of(const char *name) {
        struct service_status st;
        service_get_status(services_find(name), &st);
        return st.pid;
}

static const char *const THREE_GROUPS =
        "service web { command = \"sleep 1000\"\n instances = 3\n autostart = false\n stdout = null\n }\n"
        "service db { command = \"sleep 1000\"\n autostart = false\n stdout = null\n }\n"
        "service cache { command = \"sleep 1000\"\n autostart = false\n stdout = null\n }\n";

START_TEST(test_resolve) {
        table_start(THREE_GROUPS);
        struct service **list;
        size_t n;
        const char *bad;
        char *group[] = { "web" }, *one[] = { "web@1" }, *twice[] = { "web@2", "web", "db", "web@0" },
             *unknown[] = { "db", "nope" };
        ck_assert_int_eq(engine_resolve(false, group, 1, &list, &n, &bad), 0);
        ck_assert_uint_eq(n, 3);
        ck_assert_str_eq(service_name(list[0]), "web@0");
        ck_assert_str_eq(service_name(list[2]), "web@2");
        free(list);
        ck_assert_int_eq(engine_resolve(false, one, 1, &list, &n, &bad), 0);
        ck_assert_uint_eq(n, 1);
        ck_assert_str_eq(service_name(list[0]), "web@1");
        free(list);
        /* Each process once, in the order first named. */
        ck_assert_int_eq(engine_resolve(false, twice, 4, &list, &n, &bad), 0);
        ck_assert_uint_eq(n, 4);
        ck_assert_str_eq(service_name(list[0]), "web@2");
        ck_assert_str_eq(service_name(list[1]), "web@0");
        ck_assert_str_eq(service_name(list[2]), "web@1");
        ck_assert_str_eq(service_name(list[3]), "db");
        free(list);
        ck_assert_int_eq(engine_resolve(true, NULL, 0, &list, &n, &bad), 0);
        ck_assert_uint_eq(n, 5);
        ck_assert_str_eq(service_name(list[4]), "cache");
        free(list);
        ck_assert_int_eq(engine_resolve(false, unknown, 2, &list, &n, &bad), -ENOENT);
        ck_assert_str_eq(bad, "nope");
        /* The groups the table was built with were published. */
        ck_assert_str_eq(events_seen, "group-added:web group-added:db group-added:cache");
}
END_TEST

static const char *const NAMED_GROUPS =
        "service a { command = \"sleep 1000\"\n service-group = \"x\"\n autostart = false\n stdout = null\n }\n"
        "service b { command = \"sleep 1000\"\n service-group = \"x\"\n autostart = false\n stdout = null\n }\n"
        "service web { command = \"sleep 1000\"\n instances = 3\n autostart = false\n stdout = null\n }\n"
        "service db { command = \"sleep 1000\"\n autostart = false\n stdout = null\n }\n";

/* The processes NAMES address, as "p q r". */
static const char *resolved(char *spec) {
        static char buf[256];
        struct service **list;
        size_t n, used = 0;
        const char *bad;
        char *names[] = { spec };
        buf[0] = '\0';
        if (engine_resolve(false, names, 1, &list, &n, &bad) < 0)
                return "-";
        for (size_t i = 0; i < n; i++)
                used += (size_t)snprintf(buf + used, sizeof buf - used, "%s%s", i ? " " : "", service_name(list[i]));
        free(list);
        return buf;
}

START_TEST(test_resolve_supervisord_names) {
        table_start(NAMED_GROUPS);
        ck_assert_str_eq(resolved("x:*"), "a b");
        ck_assert_str_eq(resolved("x:"), "a b");
        ck_assert_str_eq(resolved("x"), "a b");
        ck_assert_str_eq(resolved("x:b"), "b");
        ck_assert_str_eq(resolved("b"), "b");
        ck_assert_str_eq(resolved("web:web@1"), "web@1");
        ck_assert_str_eq(resolved("web:"), "web@0 web@1 web@2");
        ck_assert_str_eq(resolved("db:db"), "db");
        ck_assert_str_eq(resolved("web:a"), "-");
        ck_assert_str_eq(resolved("x:db"), "-");
        char why[256];
        engine_describe_unknown("x:c", why, sizeof why);
        ck_assert_str_eq(why, "no such service: x:c (did you mean x:*, x:a, x:b?)");
        engine_describe_unknown("nothing-like-it", why, sizeof why);
        ck_assert_str_eq(why, "no such service: nothing-like-it");
        /* Results name the processes as supervisord's clients do. */
        struct outcome o;
        submit(ENGINE_START, false, "x:* db", &o);
        ck_assert_uint_eq(o.n_results, 3);
        ck_assert_str_eq(o.results[0].name, "x:a");
        ck_assert_str_eq(o.results[1].name, "x:b");
        ck_assert_str_eq(o.results[2].name, "db");
        submit(ENGINE_STOP, false, "nothing:*", &o);
        ck_assert_int_eq(o.code, ENGINE_NO_SUCH_NAME);
        ck_assert_str_eq(o.reason, "no such service: nothing:*");
}
END_TEST

static char transitions[1024];  /* "NAME:STATE" of every service transition watched */

static void on_start_or_stop(const struct event *e, void *userdata) {
        (void)userdata;
        if (e->type != EVENT_SERVICE_STATE || (e->to != STATE_STARTING && e->to != STATE_STOPPING))
                return;
        size_t len = strlen(transitions);
        snprintf(transitions + len, sizeof transitions - len, "%s%s:%s", len ? " " : "", service_name(e->service),
                 e->to == STATE_STARTING ? "start" : "stop");
}

/* Priority orders starts (lowest first) and stops (highest first, each once the higher
 * ones are gone); `after` wins where they disagree: d runs after c, so c starts before it
 * and stops after it whatever their priorities. */
START_TEST(test_priority_with_after) {
        table_start("service p30 { command = \"sleep 1000\"\n priority = 30\n autostart = false\n stdout = null\n }\n"
                    "service p20 { command = \"sleep 1000\"\n priority = 20\n autostart = false\n stdout = null\n }\n"
                    "service d { command = \"sleep 1000\"\n priority = 1\n after = { c }\n start-secs = 0.2\n"
                    " autostart = false\n stdout = null\n }\n"
                    "service c { command = \"sleep 1000\"\n priority = 10\n start-secs = 0.2\n autostart = false\n"
                    " stdout = null\n }\n"
                    "service g1 { command = \"sleep 1000\"\n service-group = \"g\"\n priority = 99\n"
                    " service-group-priority = 5\n autostart = false\n stdout = null\n }\n");
        struct event_subscription *sub;
        transitions[0] = '\0';
        ck_assert_int_eq(event_bus_subscribe(bus, EVENT_MASK_SERVICE, on_start_or_stop, NULL, &sub), 0);
        struct outcome o;
        submit(ENGINE_START, true, "all", &o);
        ck_assert(run_until_done(&o, 10000));
        ck_assert_uint_eq(o.n_failed, 0);
        /* g1's group has priority 5: before c (10) whatever its own 99; d waits for c. */
        ck_assert_str_eq(transitions, "g1:start c:start p20:start p30:start d:start");
        transitions[0] = '\0';
        submit(ENGINE_STOP, true, "all", &o);
        ck_assert(run_until_done(&o, 10000));
        ck_assert_uint_eq(o.n_failed, 0);
        /* From the highest priority down; d ranks as c, its dependency (10), and goes
         * before it. */
        ck_assert_str_eq(transitions, "p30:stop p20:stop d:stop c:stop g1:stop");
        event_unsubscribe(sub);
}
END_TEST

START_TEST(test_report_aggregates_per_target) {
        table_start(THREE_GROUPS);
        struct outcome o;
        /* Nothing runs: a stop of all is over at once, each target a success. */
        submit(ENGINE_STOP, true, "all", &o);
        ck_assert_uint_eq(o.calls, 1);
        ck_assert_int_eq(o.code, ENGINE_OK);
        ck_assert_uint_eq(o.n_results, 5);
        ck_assert_uint_eq(o.n_failed, 0);
        for (size_t i = 0; i < o.n_results; i++) {
                ck_assert_int_eq(o.results[i].code, ENGINE_ALREADY);
                ck_assert(o.results[i].ok);
                ck_assert_str_eq(o.results[i].reason, "not running");
        }
        ck_assert_str_eq(o.results[0].name, "web@0");
        /* A signal to processes that have none fails for each. */
        submit(ENGINE_SIGNAL, true, "web db", &o);
        ck_assert_uint_eq(o.n_results, 4);
        ck_assert_uint_eq(o.n_failed, 4);
        ck_assert_int_eq(o.results[3].code, ENGINE_NOT_RUNNING);
        ck_assert_str_eq(o.results[3].name, "db");
        ck_assert_str_eq(o.results[3].reason, "not running");
}
END_TEST

START_TEST(test_unknown_name_changes_nothing) {
        table_start(THREE_GROUPS);
        struct outcome o;
        submit(ENGINE_START, true, "db nope", &o);
        ck_assert_int_eq(o.code, ENGINE_NO_SUCH_NAME);
        ck_assert_str_eq(o.reason, "no such service: nope");
        ck_assert_uint_eq(o.n_results, 0);
        ck_assert_int_eq(state_of("db"), STATE_STOPPED);
        ck_assert_int_eq(pid_of("db"), 0);
}
END_TEST

START_TEST(test_start_and_stop_wait_for_the_outcome) {
        table_start("service quick { command = \"sleep 1000\"\n start-secs = 0\n autostart = false\n stdout = null\n }\n"
                    "service slow { command = \"sleep 1000\"\n start-secs = 0.3\n autostart = false\n stdout = null\n }\n");
        struct outcome o;
        /* start-secs = 0: RUNNING as soon as spawned, answered before submit returns. */
        submit(ENGINE_START, true, "quick", &o);
        ck_assert_uint_eq(o.calls, 1);
        ck_assert_int_eq(o.results[0].code, ENGINE_OK);
        ck_assert_str_eq(o.results[0].reason, "started");
        pid_t quick = pid_of("quick");
        ck_assert(process_exists(quick));
        submit(ENGINE_START, true, "quick", &o);
        ck_assert_int_eq(o.results[0].code, ENGINE_ALREADY);
        ck_assert_str_eq(o.results[0].reason, "already running");
        /* start-secs = 0.3: reported from the loop once RUNNING. */
        ck_assert_ptr_nonnull(submit(ENGINE_START, true, "slow", &o));
        ck_assert_int_eq(state_of("slow"), STATE_STARTING);
        ck_assert(run_until_done(&o, 10000));
        ck_assert_int_eq(o.results[0].code, ENGINE_OK);
        ck_assert_int_eq(state_of("slow"), STATE_RUNNING);
        /* A stop waits until the process is gone. */
        pid_t slow = pid_of("slow");
        ck_assert_ptr_nonnull(submit(ENGINE_STOP, true, "all", &o));
        ck_assert(run_until_done(&o, 10000));
        ck_assert_uint_eq(o.n_results, 2);
        ck_assert_uint_eq(o.n_failed, 0);
        ck_assert_str_eq(o.results[0].reason, "stopped");
        ck_assert_str_eq(o.results[1].reason, "stopped");
        ck_assert(!process_exists(quick));
        ck_assert(!process_exists(slow));
}
END_TEST

START_TEST(test_restart_without_waiting_goes_on) {
        table_start("service w { command = \"sleep 1000\"\n start-secs = 0\n autostart = false\n stdout = null\n }\n");
        struct outcome o;
        submit(ENGINE_START, true, "w", &o);
        pid_t before = pid_of("w");
        /* Reported at once; its start comes after the stop, unseen. */
        submit(ENGINE_RESTART, false, "w", &o);
        ck_assert_uint_eq(o.calls, 1);
        ck_assert_int_eq(o.results[0].code, ENGINE_OK);
        ck_assert_str_eq(o.results[0].reason, "restarting");
        ck_assert_int_eq(state_of("w"), STATE_STOPPING);
        long long deadline = now_ms() + 10000;
        while (!(state_of("w") == STATE_RUNNING && pid_of("w") != before) && now_ms() < deadline)
                run_for(10);
        ck_assert_int_eq(state_of("w"), STATE_RUNNING);
        ck_assert_int_ne(pid_of("w"), before);
        ck_assert(!process_exists(before));
        ck_assert_uint_eq(o.calls, 1);
}
END_TEST

START_TEST(test_cancelled_operation_is_never_reported) {
        table_start("service slow { command = \"sleep 1000\"\n start-secs = 0.2\n autostart = false\n stdout = null\n }\n");
        struct outcome o;
        struct engine_op *op = submit(ENGINE_START, true, "slow", &o);
        engine_op_cancel(op);  /* as a client that went away */
        long long deadline = now_ms() + 10000;
        while (state_of("slow") != STATE_RUNNING && now_ms() < deadline)
                run_for(10);
        ck_assert_int_eq(state_of("slow"), STATE_RUNNING);
        run_for(50);
        ck_assert_uint_eq(o.calls, 0);
}
END_TEST

START_TEST(test_refused_once_stopping) {
        table_start(THREE_GROUPS);
        struct event stopping = { .type = EVENT_SUPERVISOR_STOPPING };
        event_bus_publish(bus, &stopping);
        struct outcome o;
        static const enum engine_action refused[] = { ENGINE_START, ENGINE_RESTART, ENGINE_UPDATE, ENGINE_ADD,
                                                      ENGINE_RESTART_ALL };
        for (size_t i = 0; i < ELEMENTSOF(refused); i++) {
                submit(refused[i], true, "db", &o);
                ck_assert_int_eq(o.code, ENGINE_SHUTTING_DOWN);
                ck_assert_str_eq(o.reason, "supervisord is shutting down");
        }
        ck_assert_int_eq(pid_of("db"), 0);
        submit(ENGINE_STOP, true, "db", &o);  /* stopping is always allowed */
        ck_assert_int_eq(o.code, ENGINE_OK);
}
END_TEST

START_TEST(test_remove_and_add) {
        table_start(THREE_GROUPS);
        struct outcome o;
        events_seen[0] = '\0';
        submit(ENGINE_REMOVE, true, "web nope", &o);
        ck_assert_uint_eq(o.n_results, 2);
        ck_assert_int_eq(o.results[0].code, ENGINE_REMOVED);
        ck_assert_str_eq(o.results[0].name, "web");
        ck_assert_int_eq(o.results[1].code, ENGINE_NO_SUCH_NAME);
        ck_assert_uint_eq(o.n_failed, 1);
        ck_assert_uint_eq(services_count(), 2);
        ck_assert_ptr_null(services_find("web@0"));
        ck_assert_str_eq(events_seen, "group-removed:web");
        /* Back from the config, started since it has autostart now. */
        write_config("service web { command = \"sleep 1000\"\n instances = 2\n start-secs = 0\n stdout = null\n }\n"
                     "service db { command = \"sleep 1000\"\n autostart = false\n stdout = null\n }\n");
        submit(ENGINE_ADD, true, "web db", &o);
        ck_assert(run_until_done(&o, 10000));  /* the config loads off the loop */
        ck_assert_uint_eq(o.calls, 1);
        ck_assert_uint_eq(o.n_results, 4);  /* two groups, then the two processes started */
        ck_assert_int_eq(o.results[0].code, ENGINE_ADDED);
        ck_assert_int_eq(o.results[1].code, ENGINE_ALREADY_ADDED);
        ck_assert_str_eq(o.results[2].name, "web@0");
        ck_assert_str_eq(o.results[2].reason, "started");
        ck_assert_uint_eq(o.n_failed, 1);
        ck_assert_int_eq(state_of("web@1"), STATE_RUNNING);
        ck_assert_uint_eq(services_count(), 4);
        ck_assert_str_eq(events_seen, "group-removed:web group-added:web");
        /* A running group is not removed. */
        submit(ENGINE_REMOVE, true, "web", &o);
        ck_assert_int_eq(o.results[0].code, ENGINE_STILL_RUNNING);
        ck_assert_uint_eq(services_count(), 4);
        submit(ENGINE_ADD, true, "all", &o);
        ck_assert_int_eq(o.code, ENGINE_NO_SUCH_NAME);
}
END_TEST

START_TEST(test_update_reports_the_difference) {
        table_start(THREE_GROUPS);
        struct outcome o;
        events_seen[0] = '\0';
        write_config("service web { command = \"sleep 1000\"\n instances = 3\n autostart = false\n stdout = null\n }\n"
                     "service db { command = \"sleep 2000\"\n autostart = false\n stdout = null\n }\n"
                     "service queue { command = \"sleep 1000\"\n autostart = false\n stdout = null\n }\n");
        submit(ENGINE_UPDATE, false, "", &o);
        ck_assert(run_until_done(&o, 10000));  /* the config loads off the loop */
        ck_assert_uint_eq(o.calls, 1);
        ck_assert_int_eq(o.code, ENGINE_OK);
        ck_assert_uint_eq(o.n_results, 3);
        ck_assert_int_eq(o.results[0].code, ENGINE_ADDED);
        ck_assert_str_eq(o.results[0].name, "queue");
        ck_assert_int_eq(o.results[1].code, ENGINE_CHANGED);
        ck_assert_str_eq(o.results[1].name, "db");
        ck_assert_int_eq(o.results[2].code, ENGINE_REMOVED);
        ck_assert_str_eq(o.results[2].name, "cache");
        ck_assert_str_eq(events_seen,
                         "supervisor-reloading group-removed:cache group-added:queue supervisor-running");
        /* A config that does not load changes nothing, and the reload still ends. */
        events_seen[0] = '\0';
        write_config("service web { command = \"sleep 1000\"\n bogus = 1\n }\n");
        submit(ENGINE_UPDATE, false, "", &o);
        ck_assert(run_until_done(&o, 10000));  /* the config loads off the loop */
        ck_assert_int_eq(o.code, ENGINE_CANT_REREAD);
        ck_assert_msg(strstr(o.reason, conf_path) != NULL, "reason: %s", o.reason);
        ck_assert_uint_eq(services_count(), 5);
        ck_assert_str_eq(events_seen, "supervisor-reloading supervisor-running");
}
END_TEST

/* Updates asked while a load is under way share the next one: three updates, two loads,
 * each update told the difference of the load it waited for. */
START_TEST(test_updates_coalesce) {
        table_start(THREE_GROUPS);
        struct outcome first, second, third;
        write_config("service web { command = \"sleep 1000\"\n instances = 3\n autostart = false\n stdout = null\n }\n"
                     "service db { command = \"sleep 1000\"\n autostart = false\n stdout = null\n }\n");
        events_seen[0] = '\0';
        loads = 0;
        submit(ENGINE_UPDATE, false, "", &first);
        submit(ENGINE_UPDATE, false, "", &second);
        submit(ENGINE_UPDATE, false, "", &third);
        ck_assert_uint_eq(first.calls + second.calls + third.calls, 0);  /* none answered before its load */
        ck_assert(run_until_done(&first, 10000));
        ck_assert(run_until_done(&second, 10000));
        ck_assert(run_until_done(&third, 10000));
        ck_assert_uint_eq(loads, 2);
        ck_assert_int_eq(first.code, ENGINE_OK);
        ck_assert_uint_eq(first.n_results, 1);  /* cache removed */
        ck_assert_int_eq(first.results[0].code, ENGINE_REMOVED);
        ck_assert_int_eq(second.code, ENGINE_OK);
        ck_assert_uint_eq(second.n_results, 0);  /* the same file again: nothing left to change */
        ck_assert_int_eq(third.code, ENGINE_OK);
        ck_assert_uint_eq(third.n_results, 0);
        /* One reload as the service manager sees it. */
        ck_assert_str_eq(events_seen, "supervisor-reloading group-removed:cache supervisor-running");
}
END_TEST

START_TEST(test_restart_all) {
        table_start("service a { command = \"sleep 1000\"\n start-secs = 0\n stdout = null\n }\n"
                    "service manual { command = \"sleep 1000\"\n start-secs = 0\n autostart = false\n stdout = null\n }\n");
        struct outcome o;
        services_start_autostart();
        submit(ENGINE_START, true, "manual", &o);
        pid_t a = pid_of("a"), manual = pid_of("manual");
        ck_assert(a > 0 && manual > 0);
        events_seen[0] = '\0';
        /* As supervisord's reload: everything stops, the config is read again, autostart starts. */
        write_config("service a { command = \"sleep 1000\"\n start-secs = 0\n stdout = null\n }\n"
                     "service manual { command = \"sleep 1000\"\n start-secs = 0\n autostart = false\n stdout = null\n }\n"
                     "service b { command = \"sleep 1000\"\n start-secs = 0.2\n stdout = null\n }\n");
        ck_assert_ptr_nonnull(submit(ENGINE_RESTART_ALL, true, "", &o));
        /* Meanwhile starts are refused. */
        struct outcome refused;
        submit(ENGINE_START, true, "manual", &refused);
        ck_assert_int_eq(refused.code, ENGINE_RESTARTING);
        ck_assert(run_until_done(&o, 10000));
        ck_assert_int_eq(o.code, ENGINE_OK);
        ck_assert_uint_eq(o.n_results, 2);
        ck_assert_str_eq(o.results[0].name, "a");
        ck_assert_str_eq(o.results[1].name, "b");
        ck_assert_uint_eq(o.n_failed, 0);
        ck_assert_int_eq(state_of("a"), STATE_RUNNING);
        ck_assert_int_eq(state_of("b"), STATE_RUNNING);
        ck_assert_int_ne(pid_of("a"), a);
        ck_assert(!process_exists(a));
        ck_assert(!process_exists(manual));
        ck_assert_int_eq(state_of("manual"), STATE_STOPPED);
        ck_assert_str_eq(events_seen, "supervisor-reloading group-added:b supervisor-running");
}
END_TEST

START_TEST(test_cancelled_restart_all_goes_on) {
        table_start("service a { command = \"sleep 1000\"\n start-secs = 0\n stdout = null\n }\n");
        struct outcome o;
        services_start_autostart();
        pid_t a = pid_of("a");
        ck_assert_int_gt(a, 0);
        struct engine_op *op = submit(ENGINE_RESTART_ALL, true, "", &o);
        engine_op_cancel(op);  /* its client went away: half a restart would leave a stopped */
        long long deadline = now_ms() + 10000;
        while (!(state_of("a") == STATE_RUNNING && pid_of("a") != a) && now_ms() < deadline)
                run_for(10);
        ck_assert_int_eq(state_of("a"), STATE_RUNNING);
        ck_assert_int_ne(pid_of("a"), a);
        run_for(20);
        ck_assert_uint_eq(o.calls, 0);
        /* And it is over: starts are taken again. */
        submit(ENGINE_START, true, "a", &o);
        ck_assert_int_eq(o.code, ENGINE_OK);
        ck_assert_int_eq(o.results[0].code, ENGINE_ALREADY);
}
END_TEST

/* A transition's cause and time reach every subscriber. */
static char causes_seen[1024];
static usec_t last_realtime;

static void on_transition(const struct event *e, void *userdata) {
        (void)userdata;
        size_t len = strlen(causes_seen);
        snprintf(causes_seen + len, sizeof causes_seen - len, "%s%s>%s:%s", len ? " " : "",
                 service_state_to_string(e->from), service_state_to_string(e->to), event_cause_to_string(e->cause));
        last_realtime = e->realtime;
}

START_TEST(test_transitions_carry_their_cause) {
        table_start("service w { command = \"sleep 1000\"\n start-secs = 0.1\n autostart = false\n stdout = null\n }\n");
        struct event_subscription *sub;
        ck_assert_int_eq(event_bus_subscribe(bus, EVENT_MASK(EVENT_SERVICE_STATE), on_transition, NULL, &sub), 0);
        struct outcome o;
        submit(ENGINE_START, true, "w", &o);
        ck_assert(run_until_done(&o, 10000));
        pid_t pid = pid_of("w");
        kill(pid, SIGKILL);  /* RUNNING: restarted at once, the exit in the transition */
        long long deadline = now_ms() + 10000;
        while (!(pid_of("w") != pid && state_of("w") == STATE_RUNNING) && now_ms() < deadline)
                run_for(10);
        submit(ENGINE_STOP, true, "w", &o);
        ck_assert(run_until_done(&o, 10000));
        ck_assert_str_eq(causes_seen, "STOPPED>STARTING:spawned STARTING>RUNNING:started RUNNING>STARTING:exited "
                                      "STARTING>RUNNING:started RUNNING>STOPPING:stop-requested "
                                      "STOPPING>STOPPED:exited");
        ck_assert_uint_ge(last_realtime / USEC_PER_SEC, (usec_t)time(NULL) - 60);
        event_unsubscribe(sub);
}
END_TEST

/* What supervisord's clients ask for is kept in the service record: group, wall-clock
 * start and stop, the last spawn error, the file of each stream. */
START_TEST(test_record_keeps_what_clients_ask_for) {
        table_start("service pool { command = \"sleep 1000\"\n instances = 2\n start-secs = 0\n autostart = false\n"
                    " stderr = null\n }\n"
                    "service broken { command = \"/nonexistent/program\"\n start-retries = 1\n autostart = false\n }\n");
        struct outcome o;
        struct service_status st;
        service_get_status(services_find("pool@1"), &st);
        ck_assert_str_eq(st.group, "pool");
        ck_assert_uint_eq(st.start_realtime, 0);
        ck_assert_uint_eq(st.stop_realtime, 0);
        ck_assert_str_eq(st.spawn_error, "");
        usec_t before = now_realtime();
        submit(ENGINE_START, true, "pool@1", &o);
        service_get_status(services_find("pool@1"), &st);
        ck_assert_uint_ge(st.start_realtime, before);
        ck_assert_uint_le(st.start_realtime, now_realtime());
        ck_assert_uint_eq(st.stop_realtime, 0);
        submit(ENGINE_STOP, true, "pool@1", &o);
        ck_assert(run_until_done(&o, 10000));
        service_get_status(services_find("pool@1"), &st);
        ck_assert_uint_ge(st.stop_realtime, st.start_realtime);
        char path[256], expected[256];
        snprintf(expected, sizeof expected, "%s/pool@1.log", test_dir);
        ck_assert_int_eq(service_log_file(services_find("pool@1"), 1, path, sizeof path), 0);
        ck_assert_str_eq(path, expected);
        ck_assert_int_eq(service_log_file(services_find("pool@1"), 2, path, sizeof path), -ENOENT);

        /* A spawn error outlives the message of the state it led to. */
        submit(ENGINE_START, true, "broken", &o);
        ck_assert(run_until_done(&o, 10000));
        ck_assert_int_eq(o.results[0].code, ENGINE_SPAWN_ERROR);
        service_get_status(services_find("broken"), &st);
        ck_assert_int_eq(st.state, STATE_FATAL);
        ck_assert_msg(strstr(st.spawn_error, "/nonexistent/program") && strstr(st.spawn_error, "No such file"),
                      "spawn error: %s", st.spawn_error);
        /* a missing program is not retried (FATAL at once), and says so */
        ck_assert_msg(strstr(st.message, "not retried") != NULL, "message: %s", st.message);
        ck_assert_uint_gt(st.stop_realtime, 0);
        ck_assert_str_eq(st.group, "broken");
}
END_TEST

static Suite *engine_suite(void) {
        Suite *s = suite_create("engine");
        TCase *tc = tcase_create("judge");
        tcase_add_test(tc, test_judge_start);
        tcase_add_test(tc, test_judge_start_failures);
        tcase_add_test(tc, test_judge_stop);
        tcase_add_test(tc, test_code_and_action_names);
        suite_add_tcase(s, tc);

        tc = tcase_create("table");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_resolve);
        tcase_add_test(tc, test_resolve_supervisord_names);
        tcase_add_test(tc, test_priority_with_after);
        tcase_add_test(tc, test_report_aggregates_per_target);
        tcase_add_test(tc, test_unknown_name_changes_nothing);
        tcase_add_test(tc, test_start_and_stop_wait_for_the_outcome);
        tcase_add_test(tc, test_restart_without_waiting_goes_on);
        tcase_add_test(tc, test_cancelled_operation_is_never_reported);
        tcase_add_test(tc, test_refused_once_stopping);
        tcase_add_test(tc, test_remove_and_add);
        tcase_add_test(tc, test_update_reports_the_difference);
        tcase_add_test(tc, test_updates_coalesce);
        tcase_add_test(tc, test_restart_all);
        tcase_add_test(tc, test_cancelled_restart_all_goes_on);
        tcase_add_test(tc, test_transitions_carry_their_cause);
        tcase_add_test(tc, test_record_keeps_what_clients_ask_for);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) { return run_suite(engine_suite()) ? 1 : 0; }
