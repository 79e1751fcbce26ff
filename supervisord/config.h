/* config.h — the configuration: the plain structs the rest of supervisord reads, and the
 * native reader that loads a libconfuse file by mapping it onto the config model
 * (model.h: defaults, validation, cross-checks).  Nothing outside config.c sees libconfuse.
 * A struct config owns every string and array hanging off it; config_free() frees them. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "log.h"
#include "util.h"

#define CONFIG_DEFAULT_PATH "/etc/supervisord.conf"
#define CONFIG_DEFAULT_SOCKET "/run/supervisord.sock"
#define CONFIG_DEFAULT_PIDFILE "/run/supervisord.pid"
#define CONFIG_DEFAULT_LOG_DIR "/var/log/supervisord"

enum restart_policy {
        RESTART_ALWAYS,
        RESTART_ON_FAILURE,
        RESTART_NEVER,
};

enum service_type {
        SERVICE_SIMPLE,   /* the command is the service */
        SERVICE_NOTIFY,   /* ... and says READY=1 on NOTIFY_SOCKET when it is up */
        SERVICE_FORKING,  /* the command double-forks; the daemon is found through pidfile */
};

/* Where a service's stdout or stderr goes. */
enum output_target {
        OUTPUT_LOG,       /* a pipe of its own to supervisord, which writes the stream's log
                           * file: stdout-log, else log-dir/NAME.log; stderr-log, else
                           * log-dir/NAME.stderr.log */
        OUTPUT_NULL,      /* /dev/null */
        OUTPUT_INHERIT,   /* supervisord's own stdout or stderr */
        OUTPUT_JOURNAL,   /* a journald stream with the process name as identifier */
        OUTPUT_STDOUT,    /* stderr only: the same destination as stdout (its pipe, when
                           * stdout goes to the log) */
};

/* Where the services' cgroups are (cgroup.h). */
enum cgroup_mode {
        CGROUP_AUTO,      /* supervisord's own cgroup, when it was delegated to it */
        CGROUP_OFF,       /* none: process groups only */
        CGROUP_PATH,      /* cgroup_path, a cgroup v2 directory given to supervisord */
};

/* What supervisord does when a service goes FATAL (gives up starting it). */
enum fatal_action {
        FATAL_ACTION_NONE,      /* nothing more: it stays FATAL */
        FATAL_ACTION_SHUTDOWN,  /* stop every service and exit 0 */
        FATAL_ACTION_EXIT,      /* stop every service and exit with fatal_exit_code */
};

#define FATAL_EXIT_DEFAULT 3    /* supervisord's exit status for `fatal-action = exit` */

struct resource_limit {
        bool set;
        rlim_t value;  /* RLIM_INFINITY for "infinity" */
};

/* Reference-counted: the loaded config holds one reference and every service process
 * using the definition another, so a reload can replace the config while old
 * processes are still being stopped under their old definition. */
struct service_config {
        /* Pointers and 64-bit values first, then 32-bit, then bytes: a thousand of these
         * are kept, and holes between mixed sizes were a fifth of each. */
        char *name;
        char *file;             /* where the section was read, for messages */
        char *command;          /* as written, for reporting and change detection */
        char **argv;            /* NULL-terminated */
        char *pidfile;          /* type = forking: where the daemon writes its pid */
        char **after;           /* NULL-terminated names that must be RUNNING first */
        char *service_group;    /* supervisord's group of its processes ("x" of x:NAME);
                                 * NULL: the service is its own group, NAME */
        char *directory;        /* NULL: inherit */
        char *user_name;        /* with `user`, NULL without */
        char *user_home;        /* HOME for the service when `user` is set */
        char *stdout_log;       /* stdout-log: stdout's log file, an absolute path; NULL: log-dir's */
        char *stderr_log;       /* stderr-log: stderr's own log file (stderr = log); NULL: log-dir's */
        gid_t *groups;          /* with `user`: its supplementary groups and gid, looked up
                                 * at load (the child cannot ask NSS); owned */
        size_t n_groups;
        char **environment;     /* NULL-terminated "KEY=VALUE" list */
        usec_t start_secs;
        usec_t restart_delay, restart_delay_max;
        usec_t stop_timeout;
        uint64_t log_max_size;  /* rotate NAME.log at this many bytes; 0: never */
        uint64_t stderr_log_max_size;  /* ... stderr's own log (stderr = log) */
        usec_t heartbeat_interval;  /* 0: no heartbeats */
        usec_t heartbeat_timeout;   /* <= heartbeat_interval */
        usec_t ready_timeout;       /* type = notify: wait this long for READY=1; 0: forever */
        usec_t result_timeout;      /* an event listener busy this long is restarted; 0: never */
        size_t capture_max_bytes;   /* PROCESS_COMMUNICATION_STDOUT: the most text kept; 0: off */
        size_t stderr_capture_max_bytes;  /* ..._STDERR, from stderr's own pipe */
        struct resource_limit limit_nofile, limit_nproc, limit_core;
        unsigned refcount;
        int line;
        /* Where some keys were written (the section's line when absent), for `-t`. */
        int command_line, directory_line, user_line;
        enum service_type type;
        unsigned instances;     /* processes NAME@0 … NAME@N-1 (just NAME when 1) */
        int priority;           /* lower starts first and stops last (supervisord's priority) */
        int group_priority;     /* of its group: orders before priority; = priority when the
                                 * service is its own group */
        uid_t uid;
        gid_t gid;              /* `group`, else the user's primary group */
        mode_t umask;
        int nice;
        enum restart_policy restart;
        unsigned start_retries; /* 0: never give up */
        int stop_signal;
        enum output_target stdout_target, stderr_target;
        unsigned log_keep;      /* rotated files kept: NAME.log.1 … NAME.log.N */
        unsigned stderr_log_keep;  /* ... of stderr's own log */
        unsigned heartbeat_misses;  /* consecutive misses that make the process hung */
        uint32_t events;        /* an event listener pool: the types it gets (eventtype.h
                                 * LEV_MASK bits); 0: not a listener */
        unsigned buffer_size;   /* events kept for the pool while no listener is ready */
        enum fatal_action fatal_action;
        unsigned char fatal_exit_code;  /* FATAL_ACTION_EXIT */
        unsigned char success_exit_codes[256 / 8];  /* bitmap */
        bool has_user, has_group;
        bool has_umask;
        bool has_nice;
        bool autostart;
        bool log_events;        /* PROCESS_LOG_STDOUT events of its stdout (and of its stderr
                                 * when stderr = stdout) */
        bool stderr_log_events; /* PROCESS_LOG_STDERR events, from stderr's own pipe */
        bool stdin_pipe;        /* `stdin = pipe`: fd 0 a pipe from supervisord (input.h),
                                 * else /dev/null */
};

struct config {
        char *path;
        char *socket;
        mode_t socket_mode;
        bool has_socket_group;
        gid_t socket_gid;
        char *pidfile;
        int log_level;          /* syslog priority */
        char *log_dir;          /* service logs (applied live on reload) */
        enum log_target log_target;  /* as configured: LOG_TARGET_AUTO unless set */
        char *log_file;         /* supervisord's main log (mainlog.h): an absolute path or a
                                 * stream ("-", /dev/stdout, ...); NULL without */
        uint64_t log_file_max_size;  /* rotate it at this many bytes; 0: never */
        unsigned log_file_keep;      /* rotated files kept: FILE.1 … FILE.N */
        int socket_line, pidfile_line, log_dir_line;  /* where written, 0 if not, for `-t` */
        char *include_dir;      /* as resolved (relative to the file), NULL without */
        enum cgroup_mode cgroup_mode;
        char *cgroup_path;      /* CGROUP_PATH: the directory; NULL otherwise */
        /* The HTTP interface (supervisord's XML-RPC), served by supervisord-http: absent
         * when none of http-socket, http-listen and socket-http is set. */
        char *http_socket;      /* unix socket path, NULL without */
        bool socket_http;       /* the control socket serves HTTP too (handed to the front-end) */
        mode_t http_socket_mode;
        bool has_http_socket_owner;
        uid_t http_socket_uid;
        gid_t http_socket_gid;
        char *http_listen_host; /* "host:port": NULL without; "" for every address ("*") */
        unsigned http_listen_port;
        char *http_username, *http_password;  /* NULL: no authentication */
        char *http_user;        /* whom supervisord-http runs as (NULL: nobody as root, else ourselves) */
        uid_t http_uid;
        gid_t http_gid;
        struct service_config **services;  /* one reference each */
        size_t n_services;
        bool nodaemon;          /* INI `nodaemon = true`: as -n */
        bool silent;            /* INI `silent = true` (-s): in the foreground, the main log not echoed */
        char **warnings;        /* "FILE:LINE: warning: ..." for what is accepted but likely
                                 * not meant; NULL-terminated, or NULL when none */
};

/* The defaults of `socket`, `pidfile` and `log-dir`: for root CONFIG_DEFAULT_SOCKET and
 * its kin; for any other user $XDG_RUNTIME_DIR/supervisord.sock and .pid (else
 * /run/user/UID when it is the user's) and $XDG_STATE_HOME/supervisord (else
 * ~/.local/state/supervisord), since an unprivileged daemon cannot write /run or /var/log. */
enum config_default {
        CONFIG_DEFAULT_OF_SOCKET,
        CONFIG_DEFAULT_OF_PIDFILE,
        CONFIG_DEFAULT_OF_LOG_DIR,
};
/* 0 with a malloc'd path in *ret; a negative errno with a message (naming the option to
 * set) in error when there is no default for this user. */
int config_default_path(enum config_default what, char **ret, char *error, size_t error_size);

/* The global `socket` of the config at PATH, found without parsing the rest of the file:
 * supervisorctl reaches a running daemon even after a service section has been broken.
 * 1 with a malloc'd path in *ret; 0 with *ret NULL when the file sets none; or a negative
 * errno with "FILE[:LINE]: message" in error. */
int config_peek_socket(const char *path, char **ret, char *error, size_t error_size);

/* What supervisorctl takes from a config file: the server and, from an INI file's
 * [supervisorctl], its credentials and shell settings.  Every field malloc'd or NULL. */
struct config_client {
        char *server;        /* a socket path, "unix://PATH" or "http://HOST:PORT" */
        char *username, *password;
        char *prompt;        /* the shell's prompt without "> " */
        char *history_file;
        char *skipped;       /* "FILE:LINE: message": the part of the file not read, if any */
};
/* Look the server up in the config at PATH without reading more of it than that needs:
 * in supervisord's INI format (the first line that is not blank or a comment opens a
 * section) [supervisorctl] serverurl, username, password, prompt and history_file, else
 * [unix_http_server] file, with %(here)s expanded; a line the INI reader cannot read ends
 * the lookup there, noted in ret->skipped.  In our own format, the global `socket`
 * (config_peek_socket).  1 when a server was found, 0 when the file names none, or a
 * negative errno with "FILE[:LINE]: message" in error.  Free with config_client_done(). */
int config_peek_client(const char *path, struct config_client *ret, char *error, size_t error_size);
void config_client_done(struct config_client *client);

/* Load and validate PATH (and the files of its include-dir).  On failure returns a negative
 * errno and writes "FILE:LINE: message" (or "FILE: message") into error.  A file that a
 * user other than root or supervisord's own can write, or that is in a directory such a
 * user can write, is refused (-EPERM): that user could make supervisord run anything.
 * (config_peek_socket reads any file: it runs nothing from it.) */
int config_load(const char *path, struct config **ret, char *error, size_t error_size);
void config_free(struct config *config);
/* Is the file at PATH (and every directory above it) written only by root and
 * supervisord's own user?  0 if so (or if it does not exist); -EPERM with the reason in
 * error, as config_load refuses it.  For the other readers of config files. */
int config_check_trusted(const char *path, char *error, size_t error_size);

/* The empty list that the `after` and `environment` of every service that sets none
 * point to (never freed, never written). */
extern char *config_no_strings[1];
/* A service's `file`: one string for all the services read from a file, counted (any
 * thread).  new: count 1, NULL when out of memory; ref: one more; unref: one less. */
char *config_file_name_new(const char *path);
char *config_file_name_ref(char *text);
void config_file_name_unref(char *text);

struct service_config *service_config_ref(struct service_config *service);
void service_config_unref(struct service_config *service);
/* Same definition (everything but where it was written)? Reload keeps such services running. */
bool service_config_equal(const struct service_config *a, const struct service_config *b);
/* ... apart from the number of instances: the running ones can stay. */
bool service_config_equal_but_instances(const struct service_config *a, const struct service_config *b);
/* The group of S's processes: service-group, else its own name. */
const char *service_config_group(const struct service_config *s);
/* Where CONFIG's XML-RPC interface answers, as supervisord's SUPERVISOR_SERVER_URL:
 * "unix://PATH" of http-socket, else "http://HOST:PORT" of http-listen (localhost for
 * every address); NULL without either.  Returns a negative errno only when out of memory. */
int config_server_url(const struct config *config, char **ret);
/* Index of the service named NAME in config, or -1. */
ssize_t config_find_service(const struct config *config, const char *name);
const char *service_type_to_string(enum service_type type);

/* The descriptors supervisord holds for the service while its processes run (all its
 * instances), from its settings: output pipe and log file, heartbeat pipes, notify
 * socket, pidfds.  An estimate for the start-up check against RLIMIT_NOFILE. */
unsigned service_config_descriptors(const struct service_config *service);
/* ... summed over every service of CONFIG. */
unsigned long config_descriptors(const struct config *config);

bool service_config_is_success(const struct service_config *service, int exit_code);
const char *restart_policy_to_string(enum restart_policy policy);
const char *output_target_to_string(enum output_target target);
