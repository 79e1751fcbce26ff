/* main.c — supervisord: read the config, become a daemon (unless -n), then run one
 * sd-event loop that owns signals, child reaping, timers and the control socket. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/un.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include "config.h"
#include "cmdline.h"
#include "control.h"
#include "daemon.h"
#include "leftovers.h"
#include "log.h"
#include "logfile.h"
#include "protocol.h"
#include "service.h"
#include "spawn.h"
#include "systemd.h"

static sd_event *event;
static struct config *config;
static bool shutting_down, exiting;
/* PID 1 only: the processes left in the namespace were sent SIGTERM at shutdown. */
static bool sweeping_orphans;

/* How long processes that are no service's (daemons that left their service's process
 * group) get between SIGTERM and SIGKILL when supervisord, as PID 1, shuts down. */
#define ORPHAN_GRACE_USEC (5 * USEC_PER_SEC)

static void usage(FILE *out) {
        fprintf(out, "usage: supervisord [-c FILE] [-n] [-t] [-v] [-h]\n"
                     "  -c FILE  configuration file (default %s)\n"
                     "  -n       stay in the foreground\n"
                     "  -t       check the configuration and exit\n"
                     "  -v       print the version and exit\n"
                     "  -h       print this help and exit\n",
                CONFIG_DEFAULT_PATH);
}

static int on_orphan_grace_over(sd_event_source *source, uint64_t usec, void *userdata) {
        (void)source;
        (void)usec;
        (void)userdata;
        log_warning("processes left in the namespace still alive after %llus, sending SIGKILL",
                    (unsigned long long)(ORPHAN_GRACE_USEC / USEC_PER_SEC));
        kill(-1, SIGKILL);
        return 0;
}

/* As PID 1 of a container or pid namespace supervisord is its init, and when it exits
 * the kernel SIGKILLs everything left in the namespace.  So once the services are
 * stopped, whatever else is alive gets SIGTERM and ORPHAN_GRACE_USEC to exit, as a
 * service gets its stop-timeout.  kill(-1) reaches every process of the namespace but
 * ourselves; the SIGCHLD handler asks again after each reaping.  True while waiting. */
static bool pid1_orphans_remain(void) {
        if (getpid() != 1 || (kill(-1, 0) < 0 && errno == ESRCH))
                return false;
        if (!sweeping_orphans) {
                log_info("stopping the processes left in the namespace");
                kill(-1, SIGTERM);
                kill(-1, SIGCONT);
                /* Without a timer the kernel's SIGKILL at our exit is all they get. */
                if (sd_event_add_time_relative(event, NULL, CLOCK_MONOTONIC, ORPHAN_GRACE_USEC, USEC_PER_MSEC,
                                               on_orphan_grace_over, NULL) < 0)
                        return false;
                sweeping_orphans = true;
        }
        return true;
}

static void finish_if_stopped(void) {
        if (shutting_down && !exiting && services_all_stopped()) {
                if (pid1_orphans_remain())
                        return;
                exiting = true;
                log_notice("every service is stopped, exiting");
                control_shutdown_complete();
                sd_event_exit(event, 0);
        }
}

static void begin_shutdown(void) {
        if (shutting_down)
                return;
        shutting_down = true;
        systemd_stopping();
        control_begin_shutdown();
        services_stop_ordered(NULL, 0);
        finish_if_stopped();
}

static void on_service_event(struct service *service, enum service_event what, void *userdata) {
        control_on_service_event(service, what, userdata);
        systemd_on_service_event();
        if (what == SERVICE_EVENT_STATE)
                finish_if_stopped();
}

/* Settings bound at start-up (the socket, the pidfile) cannot change under a running
 * daemon: keep the live values in the new config and say what would need a restart. */
static void keep_startup_settings(struct config *next, char *notice, size_t notice_size) {
        size_t len = 0;
        notice[0] = '\0';
#define KEEP(cond, key)                                                                             \
        do {                                                                                                \
                if (cond) {                                                                                 \
                        len += (size_t)snprintf(notice + len, len < notice_size ? notice_size - len : 0,     \
                                                "%s%s", len ? ", " : "", key);                             \
                }                                                                                           \
        } while (0)
        KEEP(strcmp(next->socket, config->socket) != 0, "socket");
        KEEP(next->socket_mode != config->socket_mode, "socket-mode");
        KEEP(next->has_socket_group != config->has_socket_group || next->socket_gid != config->socket_gid,
             "socket-group");
        KEEP(strcmp(next->pidfile, config->pidfile) != 0, "pidfile");
        KEEP(next->log_target != config->log_target, "log-target");
#undef KEEP
        if (len > 0 && len < notice_size)
                snprintf(notice + len, notice_size - len, ": changed, takes effect when supervisord restarts");
        /* swap the live values in */
        char *socket = next->socket, *pidfile = next->pidfile;
        next->socket = config->socket;
        next->pidfile = config->pidfile;
        config->socket = socket;
        config->pidfile = pidfile;
        next->socket_mode = config->socket_mode;
        next->has_socket_group = config->has_socket_group;
        next->socket_gid = config->socket_gid;
        next->log_target = config->log_target;
}

/* After a burst of allocating and freeing (the start of every service, a reload), give
 * the heap's free pages back: the temporaries of a thousand spawns and of a config load
 * leave holes between what stays, resident until trimmed (0.4 MB at a thousand). */
static void release_free_memory(void) { malloc_trim(0); }

static int reload_config(struct reload_report *report, char *notice, size_t notice_size, char *error,
                         size_t error_size) {
        struct config *next;
        int r = config_load(config->path, &next, error, error_size);
        if (r < 0) {
                log_error("reload: %s; nothing changed", error);
                return r;
        }
        keep_startup_settings(next, notice, notice_size);
        /* Before the services: those the reload starts write into the new log-dir. */
        logs_set_directory(next->log_dir);
        r = services_reload(next, report);
        if (r < 0) {
                logs_set_directory(config->log_dir);
                snprintf(error, error_size, "reload: %s", strerror(-r));
                log_error("%s", error);
                config_free(next);
                return r;
        }
        log_set_level(next->log_level);
        config_free(config);
        config = next;
        release_free_memory();
        size_t added = strv_length(report->added), changed = strv_length(report->changed),
               removed = strv_length(report->removed);
        log_notice("reloaded %s: %zu added, %zu changed, %zu removed%s%s", config->path, added, changed, removed,
                   notice[0] ? "; " : "", notice);
        return 0;
}

/* Every reload, by SIGHUP or supervisorctl: the service manager sees it begin and end. */
static int reload(struct reload_report *report, char *notice, size_t notice_size, char *error, size_t error_size) {
        systemd_reloading(config->path);
        int r = reload_config(report, notice, notice_size, error, error_size);
        systemd_reloaded();
        return r;
}

static int on_sighup(sd_event_source *source, const struct signalfd_siginfo *si, void *userdata) {
        struct reload_report report;
        char notice[512], error[1024];
        (void)source;
        (void)si;
        (void)userdata;
        if (shutting_down)
                return 0;
        log_notice("SIGHUP: reloading %s", config->path);
        if (reload(&report, notice, sizeof notice, error, sizeof error) == 0)
                reload_report_free(&report);
        return 0;
}

static int on_terminate(sd_event_source *source, const struct signalfd_siginfo *si, void *userdata) {
        (void)source;
        (void)userdata;
        if (shutting_down) {
                log_warning("SIG%s during shutdown: killing every remaining process", signal_name((int)si->ssi_signo));
                services_kill_all();
                if (sweeping_orphans)
                        kill(-1, SIGKILL);
                return 0;
        }
        log_notice("SIG%s: stopping every service", signal_name((int)si->ssi_signo));
        begin_shutdown();
        return 0;
}

static sd_event_source *reap_more_source;  /* owned: reaping goes on next iteration */
static sd_event_source *sweep_source;      /* owned: the next look at all children */
static uint64_t last_sweep_usec;

/* How long an exit whose SIGCHLD merged into another's may wait to be seen.  A look at
 * all children walks the kernel's list of them (20 us with a thousand); at most this
 * often, a storm of exits costs a fraction of a percent instead of a third of our CPU. */
#define SWEEP_INTERVAL_USEC (5 * USEC_PER_MSEC)

static void reap(pid_t hint);

static int on_reap_more(sd_event_source *source, void *userdata) {
        (void)source;
        (void)userdata;
        reap(0);
        return 0;
}

static int on_sweep(sd_event_source *source, uint64_t usec, void *userdata) {
        (void)source;
        (void)usec;
        (void)userdata;
        reap(0);
        return 0;
}

static void reap(pid_t hint) {
        uint64_t now = 0;
        (void)sd_event_now(event, CLOCK_MONOTONIC, &now);
        if (hint > 0 && services_reap_pid(hint) && now < last_sweep_usec + SWEEP_INTERVAL_USEC) {
                /* The signal's own process is dealt with; others it may stand for are
                 * looked for a little later. */
                if (!sweep_source
                    && sd_event_add_time(event, &sweep_source, CLOCK_MONOTONIC,
                                         last_sweep_usec + SWEEP_INTERVAL_USEC, USEC_PER_MSEC,
                                         on_sweep, NULL) < 0)
                        goto sweep;
                if (sweep_source) {
                        (void)sd_event_source_set_time(sweep_source, last_sweep_usec + SWEEP_INTERVAL_USEC);
                        (void)sd_event_source_set_enabled(sweep_source, SD_EVENT_ONESHOT);
                }
                finish_if_stopped();
                return;
        }
sweep:
        last_sweep_usec = now;
        if (sweep_source)
                (void)sd_event_source_set_enabled(sweep_source, SD_EVENT_OFF);
        /* A bounded amount per iteration, so that control clients get their turn in a
         * storm of exits; the rest on the next. */
        if (services_reap()) {
                if (reap_more_source || sd_event_add_defer(event, &reap_more_source, on_reap_more, NULL) >= 0)
                        (void)sd_event_source_set_enabled(reap_more_source, SD_EVENT_ONESHOT);
                else
                        while (services_reap())
                                ;
        }
        /* As PID 1 at shutdown, an orphan's exit may be the last one waited for. */
        finish_if_stopped();
}

static int on_sigchld(sd_event_source *source, const struct signalfd_siginfo *si, void *userdata) {
        (void)source;
        (void)userdata;
        reap((pid_t)si->ssi_pid);
        return 0;
}

static int on_sigusr1(sd_event_source *source, const struct signalfd_siginfo *si, void *userdata) {
        (void)source;
        (void)si;
        (void)userdata;
        log_notice("SIGUSR1: reopening the service logs");
        logs_reopen_all();
        return 0;
}

/* sd-event reads these through a signalfd, which needs them blocked.  Blocked before the
 * control socket exists: a TERM sent the moment it takes connections (a script waiting
 * for it) stays pending until the loop runs, then shuts down cleanly, instead of killing
 * supervisord by its default action. */
static int block_signals(void) {
        static const int handled[] = { SIGTERM, SIGINT, SIGCHLD, SIGHUP, SIGUSR1 };
        sigset_t mask;
        sigemptyset(&mask);
        for (size_t i = 0; i < ELEMENTSOF(handled); i++)
                sigaddset(&mask, handled[i]);
        return sigprocmask(SIG_BLOCK, &mask, NULL) < 0 ? -errno : 0;
}

static int setup_signals(void) {
        signal(SIGPIPE, SIG_IGN);

        int r;
        if ((r = sd_event_add_signal(event, NULL, SIGTERM, on_terminate, NULL)) < 0
            || (r = sd_event_add_signal(event, NULL, SIGINT, on_terminate, NULL)) < 0
            || (r = sd_event_add_signal(event, NULL, SIGCHLD, on_sigchld, NULL)) < 0
            || (r = sd_event_add_signal(event, NULL, SIGHUP, on_sighup, NULL)) < 0
            || (r = sd_event_add_signal(event, NULL, SIGUSR1, on_sigusr1, NULL)) < 0)
                return r;
        return 0;
}

/* Everything after the config is loaded (and, in daemon mode, after detaching).
 * Start-up failures are reported on ready_fd when there is one. */
static int run(int ready_fd, int activated_fd, const char *activated_path) {
        char error[1024];
        int pidfile_fd = -1, listen_fd = -1, r;

        if ((r = spawn_raise_nofile()) < 0)
                log_warning_errno(r, "cannot raise the open file limit");
        /* Orphans of our services (double-forked daemons, leftovers) become our children,
         * so we can reap and account for them. */
        if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
                log_warning_errno(errno, "cannot become a child subreaper");

        if ((r = block_signals()) < 0) {
                snprintf(error, sizeof error, "signals: %s", strerror(-r));
                goto fail;
        }
        if (pidfile_acquire(config->pidfile, &pidfile_fd, error, sizeof error) < 0)
                goto fail;
        /* A socket passed by the service manager is the manager's to create and remove. */
        if (activated_fd >= 0)
                listen_fd = activated_fd;
        else if (control_listen(config, &listen_fd, error, sizeof error) < 0)
                goto fail;
        /* spawn_init after the signals (it notes their dispositions) and before the
         * services open their descriptors (its slots sit below them). */
        if ((r = sd_event_default(&event)) < 0 || (r = setup_signals()) < 0 || (r = spawn_init(event)) < 0
            || (r = services_create(event, config)) < 0) {
                snprintf(error, sizeof error, "event loop: %s", strerror(-r));
                goto fail;
        }
        services_set_observer(on_service_event, NULL);
        logs_init(event, config->log_dir);  /* before any spawn: captures need the loop */
        if ((r = systemd_start(event)) < 0) {
                snprintf(error, sizeof error, "sd_notify: %s", strerror(-r));
                goto fail;
        }
        /* Under the pidfile lock no other supervisord runs: whatever the record names and
         * is still alive was left by one that was killed, and must go before we start
         * the same services again. */
        char record[PATH_MAX];
        snprintf(record, sizeof record, "%s.groups", config->pidfile);
        if ((r = leftovers_open(event, record)) < 0) {
                snprintf(error, sizeof error, "%.900s: %s", record, strerror(-r));
                goto fail;
        }
        control_allow_group(config->has_socket_group, config->socket_gid);
        static const struct control_handlers handlers = { .shutdown = begin_shutdown, .reload = reload };
        r = control_start(event, listen_fd, &handlers);
        listen_fd = -1;  /* owned by the control server now */
        if (r < 0) {
                snprintf(error, sizeof error, "control socket: %s", strerror(-r));
                goto fail;
        }

        log_notice("supervisord %s started with %zu services, control socket %s%s", SUPERVISORD_VERSION,
                   config->n_services, activated_fd >= 0 ? activated_path : config->socket,
                   activated_fd >= 0 ? " (socket activation)" : "");
        if (activated_fd >= 0 && strcmp(activated_path, config->socket) != 0)
                log_warning("`socket` in %s is %s: supervisorctl -c finds supervisord only with -s %s", config->path,
                            config->socket, activated_path);
        if (getpid() == 1)
                log_info("running as PID 1: adopting and reaping every orphan in the namespace");
        services_start_autostart();
        release_free_memory();
        systemd_notify_when_started();
        daemon_report(ready_fd, 0, NULL);

        r = sd_event_loop(event);
        if (r < 0)
                log_error_errno(r, "event loop failed");

        control_stop(activated_fd >= 0 ? NULL : config->socket);
        reap_more_source = sd_event_source_disable_unref(reap_more_source);
        sweep_source = sd_event_source_disable_unref(sweep_source);
        services_free();
        spawn_free();
        logs_free_all();  /* the captures the services released: drained, then freed */
        systemd_stop();
        leftovers_close();
        pidfile_release(config->pidfile, pidfile_fd);
        event = sd_event_unref(event);
        return r < 0 ? 1 : 0;

fail:
        log_error("%s", error);
        if (listen_fd >= 0) {
                close(listen_fd);
                if (activated_fd < 0)
                        unlink(config->socket);
        }
        control_stop(NULL);
        services_free();
        spawn_free();
        logs_free_all();
        systemd_stop();
        leftovers_close();
        if (pidfile_fd >= 0)
                pidfile_release(config->pidfile, pidfile_fd);
        event = sd_event_unref(event);
        /* Last: whoever waits for our verdict finds everything cleaned up already. */
        daemon_report(ready_fd, 1, error);
        return 1;
}

int main(int argc, char *argv[]) {
        const char *config_path = CONFIG_DEFAULT_PATH;
        bool foreground = false, check_only = false;
        int opt;

        while ((opt = getopt(argc, argv, "c:ntvh")) != -1) {
                switch (opt) {
                case 'c': config_path = optarg; break;
                case 'n': foreground = true; break;
                case 't': check_only = true; break;
                case 'v': printf("supervisord %s\n", SUPERVISORD_VERSION); return 0;
                case 'h': usage(stdout); return 0;
                default: usage(stderr); return EXIT_USAGE;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "supervisord: unexpected argument '%s'\n", argv[optind]);
                usage(stderr);
                return EXIT_USAGE;
        }

        char error[1024];
        if (config_load(config_path, &config, error, sizeof error) < 0) {
                fprintf(stderr, "%s\n", error);
                return EXIT_USAGE;
        }
        if (check_only) {
                printf("%s: configuration OK (%zu services)\n", config_path, config->n_services);
                config_free(config);
                return 0;
        }
        log_set_level(config->log_level);
        /* Reloads happen after chdir("/") in daemon mode: remember where the file really is. */
        char *absolute = realpath(config_path, NULL);
        if (absolute) {
                free(config->path);
                config->path = absolute;
        }

        /* Both before detaching: LISTEN_PID names this process, and daemon mode replaces
         * stderr, which log-target = auto looks at. */
        char activated_path[sizeof ((struct sockaddr_un *)0)->sun_path + 1];
        int activated_fd = -1;
        if (systemd_take_listen_socket(&activated_fd, activated_path, sizeof activated_path, error, sizeof error) < 0) {
                fprintf(stderr, "supervisord: %s\n", error);
                config_free(config);
                return 1;
        }
        enum log_target log_target = config->log_target;
        if (log_target == LOG_TARGET_AUTO)
                log_target = log_target_auto(foreground);

        int ready_fd = -1;
        if (!foreground) {
                int r = daemon_detach(&ready_fd);
                if (r < 0) {
                        fprintf(stderr, "supervisord: fork: %s\n", strerror(-r));
                        return 1;
                }
        }
        log_open(log_target);

        int status = run(ready_fd, activated_fd, activated_path);
        config_free(config);
        return status;
}
