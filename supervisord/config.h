/* config.h — the configuration: loading a libconfuse file, validating every value, and the
 * plain structs the rest of supervisord reads.  Nothing outside config.c sees libconfuse.
 * A struct config owns every string and array hanging off it; config_free() frees them. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "util.h"

#define CONFIG_DEFAULT_PATH "/etc/supervisord.conf"
#define CONFIG_DEFAULT_SOCKET "/run/supervisord.sock"
#define CONFIG_DEFAULT_PIDFILE "/run/supervisord.pid"

enum restart_policy {
        RESTART_ALWAYS,
        RESTART_ON_FAILURE,
        RESTART_NEVER,
};

struct resource_limit {
        bool set;
        rlim_t value;  /* RLIM_INFINITY for "infinity" */
};

struct service_config {
        char *name;
        char *file;             /* where the section was read, for messages */
        int line;
        char *command;          /* as written, for reporting and change detection */
        char **argv;            /* NULL-terminated */
        char *directory;        /* NULL: inherit */
        bool has_user, has_group;
        char *user_name;        /* for initgroups(); NULL without `user` */
        char *user_home;        /* HOME for the service when `user` is set */
        uid_t uid;
        gid_t gid;              /* `group`, else the user's primary group */
        bool has_umask;
        mode_t umask;
        bool has_nice;
        int nice;
        char **environment;     /* NULL-terminated "KEY=VALUE" list */
        bool autostart;
        enum restart_policy restart;
        unsigned char success_exit_codes[256 / 8];  /* bitmap */
        usec_t start_secs;
        unsigned start_retries; /* 0: never give up */
        usec_t restart_delay, restart_delay_max;
        int stop_signal;
        usec_t stop_timeout;
        struct resource_limit limit_nofile, limit_nproc, limit_core;
};

struct config {
        char *path;
        char *socket;
        mode_t socket_mode;
        bool has_socket_group;
        gid_t socket_gid;
        char *pidfile;
        int log_level;          /* syslog priority */
        struct service_config *services;
        size_t n_services;
};

/* Load and validate PATH.  On failure returns a negative errno and writes
 * "FILE:LINE: message" (or "FILE: message") into error. */
int config_load(const char *path, struct config **ret, char *error, size_t error_size);
void config_free(struct config *config);

bool service_config_is_success(const struct service_config *service, int exit_code);
const char *restart_policy_to_string(enum restart_policy policy);
