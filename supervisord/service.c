/* service.c — see service.h.
 *
 * One struct service per configured service.  Each has at most one timer armed at a
 * time (start-secs while STARTING, the backoff delay while BACKOFF, stop-timeout while
 * STOPPING), so a single reusable sd-event time source per service is enough.
 *
 * Process groups: every service runs in its own session, so its pid is also its process
 * group id.  Signals go to the whole group.  A stop is complete only when the main process
 * has exited *and* the group is empty, and when a main process dies on its own whatever
 * is left of its group is killed, so that restarts never pile up orphans. */
#include "service.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "spawn.h"

struct service {
        const struct service_config *config;  /* borrowed from the loaded config */
        enum service_state state;
        pid_t pid;                    /* main process, 0 when none */
        pid_t group;                  /* process group to signal, 0 when none is left */
        usec_t spawn_time;            /* monotonic */
        unsigned failures;            /* consecutive failed starts */
        unsigned restarts;
        bool has_exited;
        int last_wait_status;
        bool killed;                  /* SIGKILL already sent in this stop */
        sd_event_source *timer;       /* owned; one-shot, re-armed per state */
        sd_event_source *error_watch; /* owned, with the spawn error pipe fd */
        char message[256];
};

static sd_event *service_event;
static struct service *service_table;
static size_t service_table_size;
static service_observer_t service_observer;
static void *service_observer_data;

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

static void service_set_state(struct service *s, enum service_state state) {
        if (s->state != state)
                log_info("%s: %s -> %s", s->config->name, state_names[s->state], state_names[state]);
        s->state = state;
        if (service_observer)
                service_observer(s, service_observer_data);
}

static int service_on_timer(sd_event_source *source, uint64_t usec, void *userdata);

static void service_arm_timer(struct service *s, usec_t delay) {
        int r;
        if (!s->timer) {
                r = sd_event_add_time_relative(service_event, &s->timer, CLOCK_MONOTONIC, delay, USEC_PER_MSEC,
                                               service_on_timer, s);
        } else {
                r = sd_event_source_set_time_relative(s->timer, delay);
                if (r >= 0)
                        r = sd_event_source_set_enabled(s->timer, SD_EVENT_ONESHOT);
        }
        /* Without a timer the service would hang in its state forever. */
        if (r < 0)
                log_error_errno(r, "%s: cannot arm timer", s->config->name);
}

static void service_disarm_timer(struct service *s) {
        if (s->timer)
                sd_event_source_set_enabled(s->timer, SD_EVENT_OFF);
}

static void service_close_error_watch(struct service *s) {
        s->error_watch = sd_event_source_disable_unref(s->error_watch);
}

/* Take what the child wrote before dying; called before acting on its exit. */
static void service_collect_spawn_error(struct service *s) {
        if (!s->error_watch)
                return;
        char buf[sizeof s->message];
        spawn_read_error(sd_event_source_get_io_fd(s->error_watch), buf, sizeof buf);
        if (buf[0]) {
                snprintf(s->message, sizeof s->message, "%s", buf);
                log_error("%s: %s", s->config->name, buf);
        }
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

static void service_failed_start(struct service *s, int wait_status);

static void service_spawn(struct service *s) {
        pid_t pid;
        int error_fd, r;

        s->message[0] = '\0';
        r = spawn_service(s->config, 0, &pid, &error_fd);
        if (r < 0) {
                snprintf(s->message, sizeof s->message, "fork: %s", strerror(-r));
                log_error("%s: cannot start: %s", s->config->name, s->message);
                s->state = STATE_STARTING;
                service_failed_start(s, -1);
                return;
        }
        r = sd_event_add_io(service_event, &s->error_watch, error_fd, EPOLLIN, service_on_error_pipe, s);
        if (r < 0) {
                log_error_errno(r, "%s: cannot watch spawn pipe", s->config->name);
                close(error_fd);
        } else {
                sd_event_source_set_io_fd_own(s->error_watch, true);
        }
        s->pid = pid;
        s->group = pid;
        s->killed = false;
        s->spawn_time = now_monotonic();
        log_info("%s: spawned pid %d", s->config->name, (int)pid);
        if (s->config->start_secs == 0) {
                s->failures = 0;
                service_set_state(s, STATE_RUNNING);
        } else {
                service_arm_timer(s, s->config->start_secs);
                service_set_state(s, STATE_STARTING);
        }
}

/* A start that did not last start-secs: back off, or give up.  wait_status < 0: no process. */
static void service_failed_start(struct service *s, int wait_status) {
        s->failures++;
        enum exit_action action = service_exit_action(s->config, STATE_STARTING, wait_status, s->failures);
        if (!s->message[0]) {
                char how[64];
                service_describe_wait_status(wait_status, how, sizeof how);
                snprintf(s->message, sizeof s->message, "exited too quickly (%s)", how);
        }
        if (action == EXIT_ACTION_FATAL) {
                char reason[sizeof s->message];
                snprintf(reason, sizeof reason, "%s", s->message);
                snprintf(s->message, sizeof s->message, "gave up after %u failed starts: %.200s", s->failures, reason);
                log_error("%s: %s", s->config->name, s->message);
                service_set_state(s, STATE_FATAL);
                return;
        }
        usec_t delay = service_backoff_delay(s->config, s->failures);
        log_warning("%s: %s; retrying in %.3gs", s->config->name, s->message, (double)delay / USEC_PER_SEC);
        service_arm_timer(s, delay);
        service_set_state(s, STATE_BACKOFF);
}

static bool service_group_is_alive(const struct service *s) {
        return s->group > 0 && (kill(-s->group, 0) == 0 || errno == EPERM);
}

static void service_kill_group(struct service *s, int sig) {
        if (s->group > 0 && kill(-s->group, sig) < 0 && errno != ESRCH)
                log_warning_errno(errno, "%s: kill -%s group %d", s->config->name, signal_name(sig), (int)s->group);
}

/* In STOPPING, once nothing of the service is left. */
static void service_finish_stop_if_done(struct service *s) {
        if (s->state != STATE_STOPPING || s->pid != 0)
                return;
        if (service_group_is_alive(s))
                return;
        s->group = 0;
        service_disarm_timer(s);
        service_set_state(s, STATE_STOPPED);
}

static void service_on_exit(struct service *s, int wait_status) {
        char how[64];

        service_collect_spawn_error(s);
        service_describe_wait_status(wait_status, how, sizeof how);
        log_info("%s: pid %d %s", s->config->name, (int)s->pid, how);
        s->pid = 0;
        s->has_exited = true;
        s->last_wait_status = wait_status;

        if (s->state == STATE_STOPPING) {
                /* The rest of the group may still be exiting: the stop-timeout timer, armed
                 * at the stop request, stays armed for it. */
                service_finish_stop_if_done(s);
                return;
        }
        service_disarm_timer(s);

        /* Leftovers of a process that died on its own would outlive every restart. */
        service_kill_group(s, SIGKILL);
        s->group = 0;

        enum service_state was = s->state;
        if (was == STATE_STARTING) {
                service_failed_start(s, wait_status);
                return;
        }
        if (was != STATE_RUNNING)
                return;
        switch (service_exit_action(s->config, was, wait_status, s->failures)) {
        case EXIT_ACTION_RESTART:
                log_notice("%s: %s, restarting", s->config->name, how);
                s->restarts++;
                service_spawn(s);
                break;
        default:
                s->message[0] = '\0';
                service_set_state(s, STATE_EXITED);
                break;
        }
}

static int service_on_timer(sd_event_source *source, uint64_t usec, void *userdata) {
        struct service *s = userdata;
        (void)source;
        (void)usec;
        switch (s->state) {
        case STATE_STARTING:
                s->failures = 0;
                s->message[0] = '\0';
                service_set_state(s, STATE_RUNNING);
                break;
        case STATE_BACKOFF:
                s->restarts++;
                service_spawn(s);
                break;
        case STATE_STOPPING:
                log_warning("%s: still running %.3gs after SIG%s, sending SIGKILL", s->config->name,
                            (double)s->config->stop_timeout / USEC_PER_SEC, signal_name(s->config->stop_signal));
                s->killed = true;
                service_kill_group(s, SIGKILL);
                break;
        default:
                break;
        }
        return 0;
}

/* ---- the table ---- */

int services_create(sd_event *event, const struct config *config) {
        service_event = event;
        service_table = calloc(config->n_services ? config->n_services : 1, sizeof *service_table);
        if (!service_table)
                return -ENOMEM;
        service_table_size = config->n_services;
        for (size_t i = 0; i < config->n_services; i++)
                service_table[i] = (struct service){ .config = &config->services[i], .state = STATE_STOPPED };
        return 0;
}

void services_free(void) {
        for (size_t i = 0; i < service_table_size; i++) {
                sd_event_source_disable_unref(service_table[i].timer);
                service_close_error_watch(&service_table[i]);
        }
        free(service_table);
        service_table = NULL;
        service_table_size = 0;
}

size_t services_count(void) { return service_table_size; }
struct service *services_get(size_t index) { return index < service_table_size ? &service_table[index] : NULL; }

struct service *services_find(const char *name) {
        for (size_t i = 0; i < service_table_size; i++)
                if (strcmp(service_table[i].config->name, name) == 0)
                        return &service_table[i];
        return NULL;
}

void services_set_observer(service_observer_t observer, void *userdata) {
        service_observer = observer;
        service_observer_data = userdata;
}

static struct service *services_find_by_pid(pid_t pid) {
        for (size_t i = 0; i < service_table_size; i++)
                if (service_table[i].pid == pid)
                        return &service_table[i];
        return NULL;
}

void services_reap(void) {
        for (;;) {
                int status;
                pid_t pid = waitpid(-1, &status, WNOHANG);
                if (pid <= 0)
                        break;
                struct service *s = services_find_by_pid(pid);
                if (s)
                        service_on_exit(s, status);
                else
                        log_debug("reaped pid %d (not a service's main process)", (int)pid);
        }
        /* Reaping may have emptied the process group of a service being stopped. */
        for (size_t i = 0; i < service_table_size; i++)
                service_finish_stop_if_done(&service_table[i]);
}

void services_start_autostart(void) {
        for (size_t i = 0; i < service_table_size; i++)
                if (service_table[i].config->autostart)
                        service_start(&service_table[i]);
}

void services_stop_all(void) {
        for (size_t i = 0; i < service_table_size; i++)
                service_stop(&service_table[i]);
}

bool services_all_stopped(void) {
        for (size_t i = 0; i < service_table_size; i++) {
                enum service_state st = service_table[i].state;
                if (st == STATE_STARTING || st == STATE_RUNNING || st == STATE_STOPPING)
                        return false;
        }
        return true;
}

void services_kill_all(void) {
        for (size_t i = 0; i < service_table_size; i++) {
                service_table[i].killed = true;
                service_kill_group(&service_table[i], SIGKILL);
        }
}

/* ---- one service ---- */

const char *service_name(const struct service *s) { return s->config->name; }
enum service_state service_state(const struct service *s) { return s->state; }
const struct service_config *service_config(const struct service *s) { return s->config; }

void service_get_status(const struct service *s, struct service_status *ret) {
        *ret = (struct service_status){
                .name = s->config->name,
                .state = s->state,
                .pid = s->pid,
                .uptime = s->pid ? now_monotonic() - s->spawn_time : 0,
                .has_exited = s->has_exited,
                .last_wait_status = s->last_wait_status,
                .restarts = s->restarts,
                .message = s->message,
        };
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
        service_disarm_timer(s);
        s->failures = 0;
        service_spawn(s);
        return 0;
}

int service_stop(struct service *s) {
        switch (s->state) {
        case STATE_STARTING:
        case STATE_RUNNING:
                break;
        case STATE_BACKOFF:
                service_disarm_timer(s);
                s->message[0] = '\0';
                service_set_state(s, STATE_STOPPED);
                return 0;
        default:
                return 0;
        }
        log_info("%s: stopping pid %d with SIG%s", s->config->name, (int)s->pid, signal_name(s->config->stop_signal));
        s->killed = false;
        service_kill_group(s, s->config->stop_signal);
        /* A stopped (SIGSTOP) process only sees the stop signal once continued. */
        if (s->config->stop_signal != SIGKILL)
                service_kill_group(s, SIGCONT);
        service_arm_timer(s, s->config->stop_timeout);
        s->message[0] = '\0';
        service_set_state(s, STATE_STOPPING);
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
