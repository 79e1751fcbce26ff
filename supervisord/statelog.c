/* statelog.c — see statelog.h.  Levels as Python supervisord's: an exit it did not expect
 * and a stop by a signal are warnings, the rest information. */
#include "statelog.h"

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "config.h"
#include "events.h"
#include "log.h"
#include "service.h"

static struct event_subscription *subscription;  /* owned by the bus */

void statelog_describe_wait_status(int wait_status, char *buf, size_t size) {
        if (WIFEXITED(wait_status)) {
                snprintf(buf, size, "exit status %d", WEXITSTATUS(wait_status));
        } else if (WIFSIGNALED(wait_status)) {
                const char *name = signal_name(WTERMSIG(wait_status));
                char number[16];
                if (!name) {
                        snprintf(number, sizeof number, "%d", WTERMSIG(wait_status));
                        name = number;
                }
                snprintf(buf, size, "terminated by SIG%s%s", name, WCOREDUMP(wait_status) ? " (core dumped)" : "");
        } else {
                snprintf(buf, size, "unknown termination cause 0x%04x", (unsigned)wait_status);
        }
}

/* Python counts an exit as expected when its code is in exitcodes; a signal never is. */
static bool exit_expected(const struct service_config *config, int wait_status) {
        return WIFEXITED(wait_status) && service_config_is_success(config, WEXITSTATUS(wait_status));
}

static void log_exit(const struct event *e, const char *name, const struct service_config *config) {
        if (!e->has_wait_status)
                return;
        char how[96];
        statelog_describe_wait_status(e->wait_status, how, sizeof how);
        bool expected = exit_expected(config, e->wait_status);
        if (e->from == STATE_STOPPING) {
                log_message(expected ? LOG_INFO : LOG_WARNING, "stopped: %s (%s)", name, how);
                return;
        }
        /* One that did not stay up start-secs is never expected, whatever its code. */
        if (e->from == STATE_STARTING)
                expected = false;
        log_message(expected ? LOG_INFO : LOG_WARNING, "exited: %s (%s; %s)", name, how,
                    expected ? "expected" : "not expected");
}

static void log_success(const char *name, const struct service_config *config) {
        log_info("success: %s entered RUNNING state, process has stayed up for > than %g seconds (startsecs)", name,
                 (double)config->start_secs / USEC_PER_SEC);
}

static void on_event(const struct event *e, void *userdata) {
        (void)userdata;
        if (e->type != EVENT_SERVICE_STATE)
                return;
        const char *name = service_name(e->service);
        const struct service_config *config = service_config(e->service);
        struct service_status status;
        service_get_status(e->service, &status);

        if (e->cause == EVENT_CAUSE_EXITED)
                log_exit(e, name, config);
        /* A new process: a start, a retry, or a restart right after an exit. */
        bool spawned = (e->to == STATE_STARTING || e->to == STATE_RUNNING)
                       && (e->cause == EVENT_CAUSE_SPAWNED || (e->cause == EVENT_CAUSE_EXITED && status.pid > 0));
        if (spawned)
                log_info("spawned: '%s' with pid %d", name, (int)status.pid);
        if (e->to == STATE_STARTING && e->cause == EVENT_CAUSE_SPAWN_ERROR)
                log_info("spawnerr: %s", status.spawn_error[0] ? status.spawn_error : status.message);
        if (e->to == STATE_RUNNING && e->from != STATE_RUNNING
            && (e->cause == EVENT_CAUSE_STARTED || e->cause == EVENT_CAUSE_READY || spawned))
                log_success(name, config);
        if (e->to == STATE_FATAL && e->from != STATE_FATAL)
                log_info("gave up: %s entered FATAL state, too many start retries too quickly", name);
        if (e->to == STATE_STOPPING && e->from != STATE_STOPPING)
                log_info("waiting for %s to stop", name);
}

int statelog_start(struct event_bus *bus) {
        return event_bus_subscribe(bus, EVENT_MASK(EVENT_SERVICE_STATE), on_event, NULL, &subscription);
}

void statelog_stop(void) { subscription = event_unsubscribe(subscription); }
