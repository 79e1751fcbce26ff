/* control.c — see control.h and the CONTROL PROTOCOL section of supervisord(8). */
#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/random.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "engine.h"
#include "listener.h"
#include "log.h"
#include "logfile.h"
#include "mainlog.h"
#include "protocol.h"
#include "safepath.h"
#include "spare.h"

struct client {
        struct client *next, *prev;
        int fd;                   /* owned by io */
        sd_event_source *io;      /* owned */
        sd_event_source *timer;   /* owned: request and write deadlines */
        struct ucred peer;
        bool trusted;             /* made for the HTTP front-end (control_adopt) */
        bool sniffed;             /* its first byte was looked at (control_set_http_handoff) */
        unsigned long batch;      /* of accepts it came in: not closed to make room in it */
        char in[PROTOCOL_MAX_REQUEST];
        size_t in_len;
        bool have_request;        /* the request line was read */
        bool answered;            /* the final line is in out */
        bool waiting_shutdown;
        struct engine_op *op;     /* owned: a parked start/stop/restart, cancelled with the client */
        bool submitting;          /* inside engine_submit(): the caller flushes */
        char *out;                /* owned */
        size_t out_len, out_sent, out_size;
        bool out_overflow;
        struct log_tail *tail;                /* owned: tail, while lines are left to send */
        struct log_follower *follower;        /* owned: tail -f, until the answer ends */
        struct mainlog_follower *mainlog_follower;  /* owned: readlog OFFSET follow, likewise */
        char *pending;                        /* owned: tail -f output that came during the tail */
        size_t pending_len;
        char follow_name[SERVICE_NAME_MAX + 8];
};

static sd_event *control_event;
static sd_event_source *listen_source;   /* owns the listening fd */
static struct client *clients;
static bool (*http_handoff)(int fd);    /* NULL: the socket speaks our protocol only */
static unsigned n_clients;
static const struct control_handlers *handlers;
static struct event_subscription *stopped_subscription;  /* owned by the bus */
static bool allow_group;                 /* socket-group is set: its members may connect */
static gid_t allowed_gid;

/* Accepting without starving the rest of the loop.  The listening socket is level
 * triggered: a connection that cannot be accepted (no descriptor left) keeps it readable,
 * and at its high priority it would be dispatched on every iteration, before any signal,
 * timer or exit (supervisord once spun there, answering nothing, not even SIGTERM).  So
 * after each batch of accepts it stays off until resume_source, a normal-priority defer,
 * has had its turn behind whatever normal-priority events were pending; and when accept
 * fails for want of a descriptor it stays off until one is freed (a client goes) or
 * CONTROL_FD_RETRY has passed. */
static sd_event_source *resume_source;   /* owned: turns listen_source back on */
static sd_event_source *fd_timer;        /* owned: the retry, and the end of a shortage */
static bool listen_blocked;              /* off until a descriptor is free or fd_timer */
static unsigned long accept_batch;       /* wake-ups of listen_source */
static struct {
        bool active;                     /* logged as begun, not yet as over */
        int error;                       /* the last errno */
        usec_t since, last;
        unsigned long failures;          /* accept calls that failed */
        unsigned long refused;           /* clients told there is no descriptor for them */
        unsigned long displaced;         /* idle clients closed to make room */
} shortage;

/* ---- listening ---- */

/* Run CALL(fd, &sa) for the unix socket address NAME inside directory DIR_FD.  bind(2)
 * and connect(2) take a path, not a directory descriptor: a relative one, from DIR_FD
 * made the working directory for the call.  Returns CALL's -errno, or 0. */
static int at_directory(int dir_fd, const char *name, int fd, int (*call)(int, const struct sockaddr *, socklen_t)) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (strlen(name) >= sizeof sa.sun_path)
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, name);
        int cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (cwd < 0)
                return -errno;
        int r = 0;
        if (fchdir(dir_fd) < 0)
                r = -errno;
        else {
                if (call(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
                        r = -errno;
                if (fchdir(cwd) < 0 && r == 0)
                        r = -errno;
        }
        close(cwd);
        return r;
}

/* Whether the socket file NAME in DIR_FD is one no process listens on any more.  Only a
 * refused connection proves it: one that answers belongs to a running supervisord. */
static bool socket_is_stale(int dir_fd, const char *name) {
        int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (probe < 0)
                return false;
        int r = at_directory(dir_fd, name, probe, connect);
        close(probe);
        return r == -ECONNREFUSED || r == -ENOENT;
}

/* Bind FD as NAME in the private directory PRIVATE_FD, with MODE exactly: the umask
 * around bind(2) sets it, and no chmod follows. */
static int bind_private(int fd, int private_fd, const char *name, mode_t mode) {
        mode_t old_umask = umask(~mode & 0777);
        int r = at_directory(private_fd, name, fd, bind);
        umask(old_umask);
        return r;
}

int control_listen_unix(const char *path, mode_t mode, uid_t uid, gid_t gid, int *ret_fd, char *error,
                        size_t error_size) {
        char dir[PATH_MAX], why[PATH_MAX + 96], private_name[NAME_MAX + 1] = "";
        const char *name;
        enum dir_trust trust;
        int fd = -1, dir_fd = -1, private_fd = -1, r;

        if (strlen(path) >= sizeof ((struct sockaddr_un *)0)->sun_path) {
                snprintf(error, error_size, "socket %s: path too long", path);
                return -ENAMETOOLONG;
        }
        if ((r = safe_path_split(path, dir, sizeof dir, &name)) < 0) {
                snprintf(error, error_size, "socket %s: %s", path, strerror(-r));
                return r;
        }
        /* The directory, judged and held: every step below is relative to it, so a
         * directory renamed or swapped under the path changes nothing we do. */
        if ((dir_fd = safe_directory_open(dir, false, &trust, why, sizeof why)) < 0) {
                snprintf(error, error_size, "socket %s: %s: %s", path, dir, strerror(-dir_fd));
                return dir_fd;
        }
        if (trust == DIR_UNSAFE) {
                /* Another user could put a socket of theirs in its place and answer
                 * supervisorctl, or have our chown and chmod land on a file of root's. */
                snprintf(error, error_size, "socket %s: %s: other users could replace the socket; refusing",
                         path, why);
                r = -EDIRUNSAFE_SAFE;
                goto fail;
        }
        if (trust == DIR_SHARED)
                log_warning("socket %s: %s; make its directory writable by root alone", path, why);

        /* What is there now: nothing, a socket of a dead daemon (replaced), a live one (in
         * use), or something else (left alone: not ours to remove). */
        struct stat st;
        bool replace = false;
        if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
                if (!S_ISSOCK(st.st_mode)) {
                        snprintf(error, error_size, "socket %s exists and is not a socket; remove it", path);
                        r = -EEXIST;
                        goto fail;
                }
                if (!socket_is_stale(dir_fd, name)) {
                        snprintf(error, error_size, "socket %s is in use by a running supervisord", path);
                        r = -EADDRINUSE;
                        goto fail;
                }
                log_notice("replacing stale socket %s", path);
                replace = true;
        } else if (errno != ENOENT) {
                r = -errno;
                snprintf(error, error_size, "socket %s: %s", path, strerror(-r));
                goto fail;
        }

        /* The socket is made, given its mode and group and set listening in a directory
         * of our own (mode 0700) beside its place, then renamed into place: no other user
         * can reach the node, or swap what our chown acts on, before it is complete. */
        for (int attempt = 0;; attempt++) {
                unsigned long long nonce = 0;
                if (getrandom(&nonce, sizeof nonce, GRND_NONBLOCK) != sizeof nonce)
                        nonce = (unsigned long long)now_monotonic() * 0x9e3779b97f4a7c15ULL;
                snprintf(private_name, sizeof private_name, ".supervisord-bind.%016llx", nonce);
                if (mkdirat(dir_fd, private_name, 0700) == 0)
                        break;
                if (errno != EEXIST || attempt == 8) {
                        r = -errno;
                        private_name[0] = '\0';
                        snprintf(error, error_size, "socket %s: cannot make a directory in %s: %s", path, dir,
                                 strerror(-r));
                        goto fail;
                }
        }
        if ((private_fd = openat(dir_fd, private_name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0
            || fstat(private_fd, &st) < 0) {
                r = -errno;
                snprintf(error, error_size, "socket %s: %s", path, strerror(-r));
                goto fail;
        }
        if (st.st_uid != geteuid() || (st.st_mode & 0077)) {
                snprintf(error, error_size, "socket %s: %s/%s was replaced by another user", path, dir,
                         private_name);
                r = -EPERM;
                goto fail;
        }
        if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0) {
                r = -errno;
                snprintf(error, error_size, "socket: %s", strerror(-r));
                goto fail;
        }
        if ((r = bind_private(fd, private_fd, "s", mode & 0777)) < 0) {
                snprintf(error, error_size, "bind %s: %s", path, strerror(-r));
                goto fail;
        }
        if (((uid != (uid_t)-1 || gid != (gid_t)-1) && fchownat(private_fd, "s", uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
            || listen(fd, SOMAXCONN) < 0) {
                r = -errno;
                snprintf(error, error_size, "socket %s: %s", path, strerror(-r));
                goto fail;
        }
        /* Into place.  Over a stale socket only; where there was nothing, refuse to
         * replace what appeared meanwhile. */
        if ((replace ? renameat(private_fd, "s", dir_fd, name) : renameat2(private_fd, "s", dir_fd, name, RENAME_NOREPLACE))
            < 0) {
                r = -errno;
                snprintf(error, error_size, "socket %s: %s", path,
                         r == -EEXIST ? "appeared while supervisord was making it" : strerror(-r));
                goto fail;
        }
        unlinkat(dir_fd, private_name, AT_REMOVEDIR);
        close(private_fd);
        close(dir_fd);
        *ret_fd = fd;
        return 0;

fail:
        if (private_fd >= 0) {
                unlinkat(private_fd, "s", 0);
                close(private_fd);
        }
        if (private_name[0])
                unlinkat(dir_fd, private_name, AT_REMOVEDIR);
        if (dir_fd >= 0)
                close(dir_fd);
        if (fd >= 0)
                close(fd);
        return r;
}

int control_listen(const struct config *config, int *ret_fd, char *error, size_t error_size) {
        return control_listen_unix(config->socket, config->socket_mode, (uid_t)-1,
                                   config->has_socket_group ? config->socket_gid : (gid_t)-1, ret_fd, error, error_size);
}

/* ---- output ---- */

static void listen_unblock(void);

static void client_free(struct client *c) {
        if (c->prev)
                c->prev->next = c->next;
        else
                clients = c->next;
        if (c->next)
                c->next->prev = c->prev;
        n_clients--;
        sd_event_source_disable_unref(c->io);
        sd_event_source_disable_unref(c->timer);
        log_tail_free(c->tail);
        log_follower_free(c->follower);
        mainlog_follower_free(c->mainlog_follower);
        free(c->pending);
        engine_op_cancel(c->op);
        free(c->out);
        free(c);
        /* A descriptor is free again: what waits to be accepted may be now. */
        if (listen_blocked)
                listen_unblock();
}

static void __attribute__((format(printf, 2, 3))) client_printf(struct client *c, const char *format, ...) {
        if (c->out_overflow)
                return;
        for (;;) {
                size_t room = c->out_size - c->out_len;
                va_list ap;
                va_start(ap, format);
                int n = vsnprintf(c->out ? c->out + c->out_len : NULL, room, format, ap);
                va_end(ap);
                if (n < 0)
                        return;
                if ((size_t)n < room) {
                        c->out_len += (size_t)n;
                        return;
                }
                size_t size = c->out_size ? c->out_size : 4096;
                while (size < c->out_len + (size_t)n + 1)
                        size *= 2;
                char *out = size <= CONTROL_MAX_OUTPUT ? realloc(c->out, size) : NULL;
                if (!out) {
                        /* The answer cannot be delivered whole: drop the client rather than
                         * send half of it. */
                        c->out_overflow = true;
                        return;
                }
                c->out = out;
                c->out_size = size;
        }
}

static void client_arm_timer(struct client *c, usec_t timeout);

static void client_tail_step(struct client *c);

/* Write what is pending; close when the answer is complete.  Returns false if c was freed.
 * A tail being sent takes one more step once what it gave before is sent: at most
 * LOG_TAIL_STEP bytes in memory, and read from disk, per client and wake-up. */
static bool client_flush(struct client *c) {
        for (int pass = 0;; pass++) {
                if (c->out_overflow) {
                        log_warning("control: answer for pid %d too large, dropping client", (int)c->peer.pid);
                        client_free(c);
                        return false;
                }
                while (c->out_sent < c->out_len) {
                        ssize_t n = send(c->fd, c->out + c->out_sent, c->out_len - c->out_sent,
                                         MSG_NOSIGNAL | MSG_DONTWAIT);
                        if (n < 0) {
                                if (errno == EAGAIN || errno == EINTR)
                                        break;
                                client_free(c);  /* the peer went away */
                                return false;
                        }
                        c->out_sent += (size_t)n;
                        client_arm_timer(c, CONTROL_WRITE_TIMEOUT);
                }
                if (pass > 0 || !c->tail || c->answered || c->out_sent < c->out_len)
                        break;
                c->out_len = c->out_sent = 0;
                client_tail_step(c);
        }
        if ((c->follower || c->mainlog_follower) && !c->tail && c->out_sent == c->out_len && !c->answered) {
                /* Idle, not stuck: a follower waits for output without a deadline. */
                c->out_len = c->out_sent = 0;
                sd_event_source_set_enabled(c->timer, SD_EVENT_OFF);
        }
        if (c->out_sent == c->out_len && c->answered) {
                client_free(c);
                return false;
        }
        /* More of a tail to come: the socket is writable, so the next wake-up is at once. */
        uint32_t events = c->out_sent < c->out_len || (c->tail && !c->answered) ? EPOLLOUT : 0;
        if (!c->have_request)
                events |= EPOLLIN;
        sd_event_source_set_io_events(c->io, events);
        return true;
}

static void __attribute__((format(printf, 3, 4))) client_error(struct client *c, int code, const char *format, ...) {
        char message[512], clean[512];
        va_list ap;
        va_start(ap, format);
        vsnprintf(message, sizeof message, format, ap);
        va_end(ap);
        protocol_sanitize(clean, sizeof clean, message);
        client_printf(c, FINAL_ERROR "\t%d\t%s\n", code, clean);
        c->answered = true;
}

static void client_ok(struct client *c) {
        client_printf(c, FINAL_OK "\n");
        c->answered = true;
}

/* ---- requests ---- */

static void reply_status_record(struct client *c, struct service *s) {
        struct service_status st;
        char last_exit[32] = "-", message[256];
        service_get_status(s, &st);
        if (st.has_exited) {
                if (WIFEXITED(st.last_wait_status))
                        snprintf(last_exit, sizeof last_exit, "exit %d", WEXITSTATUS(st.last_wait_status));
                else if (WIFSIGNALED(st.last_wait_status)) {
                        const char *name = signal_name(WTERMSIG(st.last_wait_status));
                        if (name)
                                snprintf(last_exit, sizeof last_exit, "signal %s", name);
                        else
                                snprintf(last_exit, sizeof last_exit, "signal %d", WTERMSIG(st.last_wait_status));
                }
        }
        /* A log that cannot be written is worth saying while nothing else is. */
        const char *text = st.message[0] ? st.message : log_capture_problem(service_log_capture(s));
        protocol_sanitize(message, sizeof message, text[0] ? text : "-");
        /* Fields are only ever added at the end, so older clients keep working. */
        char heartbeat_rtt[32] = "-", memory[32] = "-", cpu[32] = "-";
        if (st.has_heartbeat_rtt)
                snprintf(heartbeat_rtt, sizeof heartbeat_rtt, "%llu", (unsigned long long)st.heartbeat_rtt);
        char stopped_at[32] = "-";
        if (st.stopped_at > 0)
                snprintf(stopped_at, sizeof stopped_at, "%lld", (long long)st.stopped_at);
        /* The cgroup mode's figures, of the whole service: its cgroup. */
        uint64_t value;
        if (cgroup_enabled() && cgroup_memory(st.name, &value))
                snprintf(memory, sizeof memory, "%" PRIu64, value);
        if (cgroup_enabled() && cgroup_cpu_usec(st.name, &value))
                snprintf(cpu, sizeof cpu, "%" PRIu64, value);
        char spawn_error[256], logs[2][PATH_MAX];
        protocol_sanitize(spawn_error, sizeof spawn_error, st.spawn_error[0] ? st.spawn_error : "-");
        for (int fd = 1; fd <= 2; fd++) {
                char path[PATH_MAX];
                protocol_sanitize(logs[fd - 1], sizeof logs[fd - 1],
                                  service_log_file(s, fd, path, sizeof path) == 0 ? path : "-");
        }
        client_printf(c, RECORD_STATUS "\t%s\t%s\t%d\t%llu\t%s\t%u\t%s\t%s\t%s\t%s\t%s\t%s\t%llu\t%llu\t%s\t%s\t%s\n",
                      st.name, service_state_to_string(st.state), (int)st.pid,
                      (unsigned long long)(st.uptime / USEC_PER_SEC), last_exit, st.restarts, message, heartbeat_rtt,
                      stopped_at, memory, cpu, st.group, (unsigned long long)(st.start_realtime / USEC_PER_SEC),
                      (unsigned long long)(st.stop_realtime / USEC_PER_SEC), spawn_error, logs[0], logs[1]);
}

/* Resolve the request's names (or "all", or nothing for status) into processes; false if
 * a name is unknown (then answered).  A service name stands for all its instances. */
static bool resolve_targets(struct client *c, const struct request *req, struct service ***ret, size_t *ret_n) {
        bool everything = req->all || (req->verb == VERB_STATUS && req->n_names == 0);
        const char *bad;
        int r = engine_resolve(everything, req->names, req->n_names, ret, ret_n, &bad);
        if (r == -ENOENT) {
                char why[512];
                engine_describe_unknown(bad, why, sizeof why);
                client_error(c, EXIT_NO_SUCH_SERVICE, "%s", why);
        }
        else if (r < 0)
                client_error(c, EXIT_FAILED, "out of memory");
        return r >= 0;
}

/* The line protocol's exit status for a request the engine refused as a whole. */
static int exit_status_of(enum engine_code code) {
        return code == ENGINE_NO_SUCH_NAME ? EXIT_NO_SUCH_SERVICE : EXIT_FAILED;
}

/* The outcome of a start, stop, restart or signal (an engine_done_fn): a RESULT per
 * process, then OK or how many failed. */
static void client_on_action_done(const struct engine_report *report, void *userdata) {
        struct client *c = userdata;
        c->op = NULL;  /* the engine frees it */
        if (report->code != ENGINE_OK)
                client_error(c, exit_status_of(report->code), "%s", report->reason);
        else {
                for (size_t i = 0; i < report->n_results; i++) {
                        const struct engine_result *r = &report->results[i];
                        char message[sizeof r->reason];
                        protocol_sanitize(message, sizeof message, r->reason);
                        client_printf(c, RECORD_RESULT "\t%s\t%s\t%s\t%s\n", r->name, r->ok ? "ok" : "error", message,
                                      engine_code_to_string(r->code));
                }
                if (report->n_failed)
                        client_error(c, EXIT_FAILED, "%zu of %zu failed", report->n_failed, report->n_results);
                else
                        client_ok(c);
        }
        if (!c->submitting)
                client_flush(c);
}

static void request_action(struct client *c, const struct request *req) {
        static const enum engine_action actions[] = {
                [VERB_START] = ENGINE_START, [VERB_STOP] = ENGINE_STOP, [VERB_RESTART] = ENGINE_RESTART,
                [VERB_SIGNAL] = ENGINE_SIGNAL,
        };
        const struct engine_request er = {
                .action = actions[req->verb],
                .all = req->all,
                .names = req->names,
                .n_names = req->n_names,
                .signal = req->signal,
                .wait = true,
        };
        c->submitting = true;
        int r = engine_submit(handlers->engine, &er, client_on_action_done, c, &c->op);
        c->submitting = false;
        if (r < 0)
                client_error(c, EXIT_FAILED, "%s", strerror(-r));
}

static void request_status(struct client *c, const struct request *req) {
        struct service **list;
        size_t n;
        if (!resolve_targets(c, req, &list, &n))
                return;
        for (size_t i = 0; i < n; i++)
                reply_status_record(c, list[i]);
        free(list);
        client_ok(c);
}

static void request_pid(struct client *c, const struct request *req) {
        if (req->n_names == 0) {
                client_printf(c, RECORD_PID "\t%d\n", (int)getpid());
                client_ok(c);
                return;
        }
        struct service *list[2];
        size_t n = services_match(req->names[0], list, ELEMENTSOF(list));
        if (n == 0) {
                char why[512];
                engine_describe_unknown(req->names[0], why, sizeof why);
                client_error(c, EXIT_NO_SUCH_SERVICE, "%s", why);
                return;
        }
        if (n > 1) {
                client_error(c, EXIT_USAGE, "%s has %zu processes: name one", req->names[0], n);
                return;
        }
        struct service *s = list[0];
        struct service_status st;
        service_get_status(s, &st);
        /* 0 when it has no process, as scripts expect a number. */
        client_printf(c, RECORD_PID "\t%d\n", (int)st.pid);
        client_ok(c);
}

/* The outcome of an update (an engine_done_fn): what was added, changed and removed. */
static void client_on_update_done(const struct engine_report *report, void *userdata) {
        struct client *c = userdata;
        c->op = NULL;
        if (report->code != ENGINE_OK) {
                client_error(c, exit_status_of(report->code), "%s", report->reason);
                if (!c->submitting)
                        client_flush(c);
                return;
        }
        for (size_t i = 0; i < report->n_results; i++) {
                const struct engine_result *r = &report->results[i];
                const char *record = r->code == ENGINE_ADDED     ? RECORD_ADDED
                                     : r->code == ENGINE_CHANGED ? RECORD_CHANGED
                                                                 : RECORD_REMOVED;
                client_printf(c, "%s\t%s\n", record, r->name);
        }
        if (report->notice[0]) {
                char clean[512];
                protocol_sanitize(clean, sizeof clean, report->notice);
                client_printf(c, RECORD_NOTICE "\t%s\n", clean);
        }
        client_ok(c);
        if (!c->submitting)
                client_flush(c);
}

static void request_update(struct client *c) {
        const struct engine_request er = { .action = ENGINE_UPDATE };
        log_notice("update requested by pid %d uid %d", (int)c->peer.pid, (int)c->peer.uid);
        /* An update is over once applied: answered before engine_submit() returns. */
        c->submitting = true;
        int r = engine_submit(handlers->engine, &er, client_on_update_done, c, &c->op);
        c->submitting = false;
        if (r < 0)
                client_error(c, EXIT_FAILED, "update: %s", strerror(-r));
}

/* add NAME..., remove NAME...: each group's RESULT, answered once the table has it (or
 * not): the starts that an add sets off are not waited for, as supervisord's are not. */
static void request_group_change(struct client *c, const struct request *req) {
        const struct engine_request er = {
                .action = req->verb == VERB_ADD ? ENGINE_ADD : ENGINE_REMOVE,
                .names = req->names,
                .n_names = req->n_names,
        };
        c->submitting = true;
        int r = engine_submit(handlers->engine, &er, client_on_action_done, c, &c->op);
        c->submitting = false;
        if (r < 0)
                client_error(c, EXIT_FAILED, "%s", strerror(-r));
}

/* reread: the difference an update would apply, as ADDED, CHANGED and REMOVED records,
 * read off the loop as an update reads it. */
static void client_on_reread_done(const struct engine_report *report, void *userdata) {
        struct client *c = userdata;
        c->op = NULL;
        if (report->code != ENGINE_OK) {
                char clean[1024];
                protocol_sanitize(clean, sizeof clean, report->reason);
                client_error(c, EXIT_FAILED, "%s", clean);
        } else {
                for (size_t i = 0; i < report->n_results; i++) {
                        const struct engine_result *r = &report->results[i];
                        client_printf(c, "%s\t%s\n",
                                      r->code == ENGINE_ADDED     ? RECORD_ADDED
                                      : r->code == ENGINE_CHANGED ? RECORD_CHANGED
                                                                  : RECORD_REMOVED,
                                      r->name);
                }
                client_ok(c);
        }
        if (!c->submitting)
                client_flush(c);
}

static void request_reread(struct client *c) {
        const struct engine_request er = { .action = ENGINE_REREAD };
        c->submitting = true;
        int r = engine_submit(handlers->engine, &er, client_on_reread_done, c, &c->op);
        c->submitting = false;
        if (r < 0)
                client_error(c, EXIT_FAILED, "reread: %s", strerror(-r));
}

/* The outcome of a reload (supervisord's restart): answered once it is under way. */
static void client_on_reload_done(const struct engine_report *report, void *userdata) {
        struct client *c = userdata;
        c->op = NULL;
        if (report->code != ENGINE_OK && report->code != ENGINE_CANT_REREAD)
                client_error(c, EXIT_FAILED, "%s", report->reason);
        else
                client_ok(c);
        if (!c->submitting)
                client_flush(c);
}

/* reload, as supervisord's: stop everything, re-read the config, start what starts. */
static void request_reload(struct client *c) {
        const struct engine_request er = { .action = ENGINE_RESTART_ALL };
        log_notice("reload (restart of everything) requested by pid %d uid %d", (int)c->peer.pid, (int)c->peer.uid);
        c->submitting = true;
        int r = engine_submit(handlers->engine, &er, client_on_reload_done, c, &c->op);
        c->submitting = false;
        if (r < 0)
                client_error(c, EXIT_FAILED, "reload: %s", strerror(-r));
}

/* The socket's mode and group are the first line of defence; this is the second, for a
 * socket made too open by hand: root, supervisord's own user, and members of socket-group. */
static bool client_is_allowed(const struct client *c) {
        if (c->trusted)
                return true;
        if (c->peer.uid == 0 || c->peer.uid == geteuid())
                return true;
        if (!allow_group)
                return false;
        if (c->peer.gid == allowed_gid)
                return true;
        gid_t groups[256];
        socklen_t len = sizeof groups;
        if (getsockopt(c->fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
                return false;
        for (size_t i = 0; i < len / sizeof groups[0]; i++)
                if (groups[i] == allowed_gid)
                        return true;
        return false;
}

void control_allow_group(bool enabled, gid_t gid) {
        allow_group = enabled;
        allowed_gid = gid;
}

/* ---- tail ---- */

/* A DATA record: its line, then SIZE raw bytes.  What was sent is dropped from the
 * buffer first, so that a follower streaming for hours holds only what is unsent. */
static void client_send_data(struct client *c, const char *data, size_t size) {
        if (c->out_sent > 0) {
                memmove(c->out, c->out + c->out_sent, c->out_len - c->out_sent);
                c->out_len -= c->out_sent;
                c->out_sent = 0;
        }
        client_printf(c, RECORD_DATA "\t%zu\n", size);
        if (c->out_overflow)
                return;
        if (c->out_len + size > c->out_size) {
                /* To the page, not doubled: what a follower may cost is what it holds. */
                size_t grown = (c->out_len + size + 4095) & ~(size_t)4095;
                char *out = grown <= CONTROL_MAX_OUTPUT ? realloc(c->out, grown) : NULL;
                if (!out) {
                        c->out_overflow = true;
                        return;
                }
                c->out = out;
                c->out_size = grown;
        }
        memcpy(c->out + c->out_len, data, size);
        c->out_len += size;
}

/* Output of a followed process (a log_follow_fn): buffered here, sent from client_on_io. */
static void client_on_follow(const char *data, size_t size, void *userdata) {
        struct client *c = userdata;
        if (!data) {
                c->follower = NULL;  /* freed by logfile.c */
                if (!c->answered)
                        client_error(c, EXIT_FAILED, "%s was removed", c->follow_name);
        } else if (c->answered) {
                return;
        } else if ((c->tail ? c->pending_len : c->out_len - c->out_sent) + size > CONTROL_MAX_FOLLOW_BACKLOG) {
                log_warning("control: tail -f %s by pid %d reads more slowly than the service writes: dropped",
                            c->follow_name, (int)c->peer.pid);
                client_error(c, EXIT_FAILED, "tail: %s writes faster than this client reads; stopped following",
                             c->follow_name);
        } else if (c->tail) {
                /* After the lines, which are still being sent. */
                char *pending = realloc(c->pending, (c->pending_len + size + 4095) & ~(size_t)4095);
                if (!pending) {
                        client_error(c, EXIT_FAILED, "tail -f %s: out of memory", c->follow_name);
                } else {
                        memcpy(pending + c->pending_len, data, size);
                        c->pending = pending;
                        c->pending_len += size;
                        return;
                }
        } else
                client_send_data(c, data, size);
        sd_event_source_set_io_events(c->io, EPOLLOUT);
}

/* The next step of the tail being sent, into the empty buffer; at its end the answer's
 * end, or what the service wrote meanwhile. */
static void client_tail_step(struct client *c) {
        static char step[LOG_TAIL_SCAN_STEP];  /* one loop, one step at a time */
        bool done = false;
        ssize_t n = log_tail_read(c->tail, step, LOG_TAIL_STEP, &done);
        if (n < 0) {
                client_error(c, EXIT_FAILED, "tail %s: %s", c->follow_name, strerror((int)-n));
                return;
        }
        if (n > 0)
                client_send_data(c, step, (size_t)n);
        if (!done)
                return;
        log_tail_free(c->tail);
        c->tail = NULL;
        if (!c->follower) {
                client_ok(c);
                return;
        }
        if (c->pending_len > 0)
                client_send_data(c, c->pending, c->pending_len);
        free(c->pending);
        c->pending = NULL;
        c->pending_len = 0;
}

/* ---- clearing and reading logs ---- */

/* `clear NAME...|all`: a RESULT for each process, as supervisord's clearAllProcessLogs
 * reports each. */
static void request_clear(struct client *c, const struct request *req) {
        struct service *match[64];
        size_t n_failed = 0;
        for (unsigned i = 0; i < (req->all ? 1u : req->n_names); i++) {
                size_t n = req->all ? services_count() : services_match(req->names[i], match, ELEMENTSOF(match));
                if (n == 0 && !req->all) {
                        client_error(c, EXIT_NO_SUCH_SERVICE, "no such service: %s", req->names[i]);
                        return;
                }
                for (size_t k = 0; k < n; k++) {
                        struct service *s = req->all ? services_get(k)
                                                     : k < ELEMENTSOF(match) ? match[k]
                                                     : NULL;
                        if (!s) {
                                /* more instances than fit: ask for them again by number */
                                char name[128];
                                snprintf(name, sizeof name, "%s@%zu", req->names[i], k);
                                if (!(s = services_find(name)))
                                        continue;
                        }
                        int r = log_capture_clear(service_log_capture(s), service_config(s));
                        if (r < 0)
                                n_failed++;
                        client_printf(c, RECORD_RESULT "\t%s\t%s\t%s\n", service_name(s), r < 0 ? "error" : "ok",
                                      r == -ENOENT ? "no log file" : r < 0 ? strerror(-r) : "cleared");
                }
        }
        if (n_failed)
                client_error(c, EXIT_FAILED, "%zu log%s could not be cleared", n_failed, n_failed == 1 ? "" : "s");
        else
                client_ok(c);
}

/* The answer of readlog and readproclog once the bytes are read: LOGSIZE, DATA, then OK,
 * or with follow no end: what is written from now on comes as DATA records. */
static void client_send_read(struct client *c, const struct request *req, const char *data, size_t size,
                             uint64_t file_size) {
        client_printf(c, RECORD_LOGSIZE "\t%llu\n", (unsigned long long)file_size);
        if (size > 0)
                client_send_data(c, data, size);
        if (c->out_overflow) {
                client_error(c, EXIT_FAILED, "%s: out of memory", verb_to_string(req->verb));
                return;
        }
        if (!req->follow) {
                client_ok(c);
                return;
        }
        /* A stream, not a question: at the priority of a tail (request_tail). */
        sd_event_source_set_priority(c->io, SD_EVENT_PRIORITY_NORMAL);
}

static void request_readlog(struct client *c, const struct request *req) {
        char *data = NULL;
        size_t size = 0;
        uint64_t file_size = 0;
        int r = mainlog_read(req->offset, req->length, &data, &size, &file_size);
        /* Followed from the same moment: nothing written between the two is lost. */
        if (r >= 0 && req->follow) {
                snprintf(c->follow_name, sizeof c->follow_name, "the main log");
                r = mainlog_follow(client_on_follow, c, &c->mainlog_follower);
        }
        if (r == -ENOENT) {
                free(data);
                client_error(c, EXIT_FAILED, "no main log file to read (log-file is %s)",
                             mainlog_is_open() ? "a stream" : "not set");
                return;
        }
        if (r < 0) {
                free(data);
                client_error(c, EXIT_FAILED, "readlog: %s", strerror(-r));
                return;
        }
        client_send_read(c, req, data, size, file_size);
        free(data);
}

/* The one process NAME names, else an answer given and NULL. */
static struct service *request_one_process(struct client *c, const char *name) {
        struct service *list[2];
        size_t n = services_match(name, list, ELEMENTSOF(list));
        if (n == 0) {
                char why[512];
                engine_describe_unknown(name, why, sizeof why);
                client_error(c, EXIT_NO_SUCH_SERVICE, "%s", why);
                return NULL;
        }
        if (n > 1) {
                client_error(c, EXIT_USAGE, "%s has %zu processes: name one, such as %s", name, n,
                             service_name(list[0]));
                return NULL;
        }
        return list[0];
}

/* `readproclog NAME stdout|stderr OFFSET [LENGTH]`, as supervisord's readProcessStdoutLog
 * and readProcessStderrLog; with follow, `GET /logtail/NAME` and `tail -f`. */
static void request_readproclog(struct client *c, const struct request *req) {
        struct service *s = request_one_process(c, req->names[0]);
        if (!s)
                return;
        const struct service_config *config = service_config(s);
        struct log_capture *capture = service_log_capture(s);
        const char *stream = req->stream == STDERR_FILENO ? "stderr" : "stdout";
        char *data = NULL;
        size_t size = 0;
        uint64_t file_size = 0;
        int r = log_capture_read(capture, config, req->stream, req->offset, req->length, &data, &size, &file_size);
        if (r >= 0 && req->follow) {
                snprintf(c->follow_name, sizeof c->follow_name, "%s", service_name(s));
                r = log_capture_follow(capture, config, req->stream, client_on_follow, c, &c->follower);
        }
        if (r == -ENOENT) {
                free(data);
                client_error(c, EXIT_FAILED, "no log file: %s sends %s to %s", service_name(s), stream,
                             output_target_to_string(req->stream == STDERR_FILENO ? config->stderr_target
                                                                                 : config->stdout_target));
                return;
        }
        if (r < 0) {
                free(data);
                client_error(c, EXIT_FAILED, "readproclog %s %s: %s", service_name(s), stream, strerror(-r));
                return;
        }
        client_send_read(c, req, data, size, file_size);
        free(data);
}

static void request_clearlog(struct client *c) {
        int r = mainlog_clear();
        if (r == -ENOENT)
                client_error(c, EXIT_FAILED, "no main log file to clear (log-file is %s)",
                             mainlog_is_open() ? "a stream" : "not set");
        else if (r < 0)
                client_error(c, EXIT_FAILED, "clearlog: %s", strerror(-r));
        else {
                log_info("main log cleared by pid %d uid %d", (int)c->peer.pid, (int)c->peer.uid);
                client_ok(c);
        }
}

static void request_tail(struct client *c, const struct request *req) {
        struct service *list[2];
        size_t n = services_match(req->names[0], list, ELEMENTSOF(list));
        if (n == 0) {
                char why[512];
                engine_describe_unknown(req->names[0], why, sizeof why);
                client_error(c, EXIT_NO_SUCH_SERVICE, "%s", why);
                return;
        }
        if (n > 1) {
                client_error(c, EXIT_USAGE, "%s has %zu processes: name one, such as %s", req->names[0], n,
                             service_name(list[0]));
                return;
        }
        struct service *s = list[0];
        const struct service_config *config = service_config(s);
        struct log_capture *capture = service_log_capture(s);
        /* The log: stdout's, else stderr's when only stderr goes to a file. */
        int fd = STDOUT_FILENO;
        int r = log_tail_open(capture, config, fd, req->lines, &c->tail);
        if (r == -ENOENT)
                r = log_tail_open(capture, config, fd = STDERR_FILENO, req->lines, &c->tail);
        if (r == -ENOENT) {
                client_error(c, EXIT_FAILED, "%s has no log file (stdout = %s, stderr = %s)", service_name(s),
                             output_target_to_string(config->stdout_target),
                             output_target_to_string(config->stderr_target));
                return;
        }
        if (r < 0) {
                client_error(c, EXIT_FAILED, "tail %s: %s", service_name(s), strerror(-r));
                return;
        }
        snprintf(c->follow_name, sizeof c->follow_name, "%s", service_name(s));
        /* A bulk transfer, not a question waiting for its answer: at the priority of
         * timers, signals and the output pipes, so that a hundred clients reading 4 MiB
         * each take turns with them instead of holding them up. */
        sd_event_source_set_priority(c->io, SD_EVENT_PRIORITY_NORMAL);
        /* The lines are sent from client_flush(), step by step.  The follower starts now:
         * what the file holds now is the tail's, the rest comes from the writer as it is
         * written, across rotations. */
        if (req->follow && (r = log_capture_follow(capture, config, fd, client_on_follow, c, &c->follower)) < 0) {
                client_error(c, EXIT_FAILED, "tail -f %s: %s", service_name(s), strerror(-r));
                return;
        }
}

static bool client_handle_request(struct client *c, char *line) {
        struct request *req = malloc(sizeof *req);  /* large: keep it off the stack */
        const char *error;

        c->have_request = true;
        sd_event_source_set_enabled(c->timer, SD_EVENT_OFF);
        /* Read no more: one request per connection.  A half-closed socket (socat) stays
         * readable at EOF, and left in the mask would wake us in a busy loop for as long
         * as the request is parked.  Output turns EPOLLOUT on as needed; a peer that goes
         * away entirely still shows as EPOLLHUP. */
        sd_event_source_set_io_events(c->io, 0);
        if (!req) {
                client_error(c, EXIT_FAILED, "out of memory");
                return client_flush(c);
        }
        if (!client_is_allowed(c)) {
                log_warning("control: refused pid %d uid %d gid %d: not root, supervisord's user or in socket-group",
                            (int)c->peer.pid, (int)c->peer.uid, (int)c->peer.gid);
                client_error(c, EXIT_FAILED, "permission denied: uid %d may not control supervisord", (int)c->peer.uid);
                free(req);
                return client_flush(c);
        }
        if (protocol_parse_request(line, req, &error) < 0) {
                log_debug("control: bad request from pid %d: %s", (int)c->peer.pid, error);
                client_error(c, EXIT_USAGE, "%s", error);
                free(req);
                return client_flush(c);
        }
        /* Who changed what is worth keeping; who merely looked is not. */
        bool read_only = req->verb == VERB_STATUS || req->verb == VERB_PID || req->verb == VERB_VERSION
                         || req->verb == VERB_TAIL || req->verb == VERB_READLOG || req->verb == VERB_READPROCLOG
                         || req->verb == VERB_REREAD;
        log_message(read_only ? LOG_DEBUG : LOG_NOTICE, "control: %s%s%s from pid %d uid %d gid %d",
                    verb_to_string(req->verb), req->all ? " all" : req->n_names ? " " : "",
                    req->n_names ? req->names[0] : "", (int)c->peer.pid, (int)c->peer.uid, (int)c->peer.gid);
        switch (req->verb) {
        case VERB_STATUS:
                request_status(c, req);
                break;
        case VERB_PID:
                request_pid(c, req);
                break;
        case VERB_VERSION:
                client_printf(c, RECORD_VERSION "\t%s\n", SUPERVISORD_VERSION);
                client_ok(c);
                break;
        case VERB_RELOAD:
                request_reload(c);
                break;
        case VERB_UPDATE:
                request_update(c);
                break;
        case VERB_ADD:
        case VERB_REMOVE:
                request_group_change(c, req);
                break;
        case VERB_REREAD:
                request_reread(c);
                break;
        case VERB_TAIL:
                request_tail(c, req);
                break;
        case VERB_REMOTE_EVENT:
                listeners_remote_event(req->event_type, req->event_data, req->event_data_len);
                client_ok(c);
                break;
        case VERB_CLEAR:
                request_clear(c, req);
                break;
        case VERB_READLOG:
                request_readlog(c, req);
                break;
        case VERB_READPROCLOG:
                request_readproclog(c, req);
                break;
        case VERB_CLEARLOG:
                request_clearlog(c);
                break;
        case VERB_SHUTDOWN:
                log_notice("shutdown requested by pid %d uid %d", (int)c->peer.pid, (int)c->peer.uid);
                c->waiting_shutdown = true;
                free(req);
                /* May complete at once (nothing running) and answer this client. */
                handlers->shutdown();
                return true;
        default:
                request_action(c, req);
                free(req);
                /* Answered at once (already running, unknown name, shutting down), or
                 * parked until the engine's callback. */
                if (c->answered)
                        return client_flush(c);
                return true;
        }
        free(req);
        return client_flush(c);
}

void control_set_http_handoff(bool (*handoff)(int fd)) {
        http_handoff = handoff;
}

/* Hand C over to the HTTP front-end if it opens with an HTTP request, looked at without
 * reading it: the front-end reads it whole.  Requests of the protocol begin with a
 * command in lower case, HTTP's with its method in upper case: one byte tells them
 * apart, and nothing of HTTP is parsed here.  Only a peer that may use the socket is
 * handed over: the front-end's requests are trusted.  True if C is gone. */
static bool client_hand_off(struct client *c) {
        char first;
        if (recv(c->fd, &first, 1, MSG_PEEK | MSG_DONTWAIT) != 1)
                return false;  /* nothing yet, the end or an error: read as ours */
        c->sniffed = true;
        if (first < 'A' || first > 'Z' || !client_is_allowed(c) || !http_handoff(c->fd))
                return false;
        client_free(c);
        return true;
}

static bool client_read(struct client *c) {
        if (http_handoff && !c->sniffed && !c->trusted && client_hand_off(c))
                return false;
        for (;;) {
                ssize_t n = recv(c->fd, c->in + c->in_len, sizeof c->in - c->in_len, MSG_DONTWAIT);
                if (n < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                return true;
                        client_free(c);
                        return false;
                }
                if (n == 0 && c->in_len == 0) {
                        /* Connected and closed without a byte (a probe): nothing to answer. */
                        client_free(c);
                        return false;
                }
                c->in_len += (size_t)n;
                char *line;
                const char *error;
                int r = protocol_take_line(c->in, c->in_len, &line, &error);
                if (r > 0)
                        return client_handle_request(c, line);
                if (r == 0 && n > 0)
                        continue;
                /* Invalid, or cut off by the end of the stream: the peer may still read. */
                c->have_request = true;
                if (r < 0)
                        client_error(c, EXIT_USAGE, "%s", error);
                else
                        client_error(c, EXIT_USAGE, "request cut off: the connection ended before its newline");
                return client_flush(c);
        }
}

static int client_on_io(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        struct client *c = userdata;
        (void)source;
        (void)fd;
        if (revents & (EPOLLHUP | EPOLLERR) && !(revents & EPOLLIN)) {
                client_free(c);  /* gone while its request was parked or its answer unsent */
                return 0;
        }
        if ((revents & EPOLLIN) && !c->have_request) {
                if (!client_read(c))
                        return 0;
        }
        if (revents & EPOLLOUT)
                client_flush(c);
        return 0;
}

/* At most one line a second about clients dropped for their deadline: a flood of idle
 * connections times out all at once, and would otherwise write a line for each. */
#define CONTROL_DROP_LOG_INTERVAL USEC_PER_SEC

static int client_on_timeout(sd_event_source *source, uint64_t usec, void *userdata) {
        static usec_t last_logged;
        static unsigned long unlogged;
        struct client *c = userdata;
        (void)source;
        if (last_logged && usec < last_logged + CONTROL_DROP_LOG_INTERVAL)
                unlogged++;
        else {
                char more[64] = "";
                if (unlogged)
                        snprintf(more, sizeof more, " (and %lu more since the last such message)", unlogged);
                log_warning("control: dropping client pid %d: %s%s", (int)c->peer.pid,
                            c->have_request ? "not reading its answer" : "no complete request in time", more);
                last_logged = usec;
                unlogged = 0;
        }
        client_free(c);
        return 0;
}

static void client_arm_timer(struct client *c, usec_t timeout) {
        if (sd_event_source_set_time_relative(c->timer, timeout) >= 0)
                sd_event_source_set_enabled(c->timer, SD_EVENT_ONESHOT);
}

static void listen_yield(void) {
        (void)sd_event_source_set_enabled(listen_source, SD_EVENT_OFF);
        (void)sd_event_source_set_enabled(resume_source, SD_EVENT_ONESHOT);
}

static int control_on_resume(sd_event_source *source, void *userdata) {
        (void)source;
        (void)userdata;
        if (!listen_blocked)
                (void)sd_event_source_set_enabled(listen_source, SD_EVENT_ON);
        return 0;
}

static void fd_timer_arm(usec_t when) {
        if (sd_event_source_set_time(fd_timer, when) >= 0)
                (void)sd_event_source_set_enabled(fd_timer, SD_EVENT_ONESHOT);
}

static void listen_unblock(void) {
        listen_blocked = false;
        (void)spare_take();
        (void)sd_event_source_set_enabled(resume_source, SD_EVENT_ONESHOT);
}

/* The retry while blocked, and the end of a shortage: CONTROL_FD_QUIET without a failure. */
static int control_on_fd_timer(sd_event_source *source, uint64_t usec, void *userdata) {
        (void)source;
        (void)userdata;
        if (listen_blocked)
                listen_unblock();
        if (!shortage.active)
                return 0;
        if (usec < shortage.last + CONTROL_FD_QUIET) {
                fd_timer_arm(shortage.last + CONTROL_FD_QUIET);
                return 0;
        }
        log_notice("control: accepting connections again; in %.1fs %lu accepts failed (%s), %lu clients were refused "
                   "and %lu idle ones closed",
                   (double)(shortage.last - shortage.since) / USEC_PER_SEC, shortage.failures, strerror(shortage.error),
                   shortage.refused, shortage.displaced);
        shortage.active = false;
        return 0;
}

/* One message per shortage, not one per failed accept: when it begins, and when it is
 * over (control_on_fd_timer), with the counts. */
static void shortage_note(int error) {
        usec_t now = now_monotonic();
        shortage.error = error;
        shortage.last = now;
        shortage.failures++;
        if (shortage.active)
                return;
        shortage = (typeof(shortage)){ .active = true, .error = error, .since = now, .last = now, .failures = 1 };
        log_warning("control: accept: %s; until descriptors are free, idle clients are closed to make room and "
                    "others refused", strerror(error));
        fd_timer_arm(now + CONTROL_FD_QUIET);
}

static const char busy_answer[] = FINAL_ERROR "\t1\ttoo many clients\n";

/* Close the client idle the longest without a complete request (the list is newest
 * first), telling it why; false if there is none.  Those accepted in this batch are
 * spared: their requests, sent with the connection as a rule, are read before the next
 * batch, and with room for one client only, each newcomer would close the one before. */
static bool displace_idle_client(void) {
        struct client *oldest_idle = NULL;
        for (struct client *c = clients; c; c = c->next)
                if (!c->have_request && c->batch != accept_batch)
                        oldest_idle = c;
        if (!oldest_idle)
                return false;
        log_debug("control: closing idle client pid %d to make room", (int)oldest_idle->peer.pid);
        ssize_t unused = send(oldest_idle->fd, busy_answer, sizeof busy_answer - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        (void)unused;
        client_free(oldest_idle);
        return true;
}

/* A tail client that reads nothing: its socket is full, with more to send or not. */
static bool client_is_stalled(const struct client *c) {
        if (!c->tail && !c->follower && !c->mainlog_follower)
                return false;
        if (c->out_sent < c->out_len)
                return true;
        struct pollfd p = { .fd = c->fd, .events = POLLOUT };
        return poll(&p, 1, 0) == 0;
}

/* Close the oldest tail client that reads nothing; false if there is none.  256 clients
 * that never read must not lock an operator out. */
static bool displace_stalled_tail(void) {
        struct client *oldest = NULL;
        for (struct client *c = clients; c; c = c->next)
                if (client_is_stalled(c))
                        oldest = c;
        if (!oldest)
                return false;
        log_debug("control: closing tail client pid %d, which reads nothing, to make room", (int)oldest->peer.pid);
        client_free(oldest);
        return true;
}

/* accept failed with ERROR.  Make room by closing an idle client; else take the spare
 * descriptor to accept the newcomer only to tell it that it cannot be served; else stop
 * listening until a descriptor is free.  False when this wake-up should accept no more. */
static bool accept_failed(int listen_fd, int error) {
        shortage_note(error);
        if (displace_idle_client()) {
                shortage.displaced++;
                return true;
        }
        if ((error == EMFILE || error == ENFILE) && spare_give_up()) {
                int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
                bool empty = fd < 0 && errno == EAGAIN;
                if (fd >= 0) {
                        static const char refused[] = FINAL_ERROR "\t1\tsupervisord is out of file descriptors; "
                                                      "try again later\n";
                        ssize_t unused = send(fd, refused, sizeof refused - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
                        (void)unused;
                        close(fd);
                        shortage.refused++;
                }
                bool again = spare_take();
                if (empty)
                        return false;
                if (fd >= 0 && again)
                        return true;
        }
        listen_blocked = true;
        (void)sd_event_source_set_enabled(listen_source, SD_EVENT_OFF);
        fd_timer_arm(now_monotonic() + CONTROL_FD_RETRY);
        return false;
}

static int client_add(int fd, bool trusted);

/* Accept one connection; false when there is none left to accept. */
static bool accept_one(int listen_fd) {
        int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) {
                if (errno == EAGAIN)
                        return false;
                if (errno == EINTR || errno == ECONNABORTED)
                        return true;
                /* EMFILE, ENFILE, ENOBUFS, ENOMEM: the connection stays queued. */
                return accept_failed(listen_fd, errno);
        }
        /* Full: make room by closing the client idle the longest, so that a crowd of
         * stalled connections cannot lock everyone else out. */
        if (n_clients >= CONTROL_MAX_CLIENTS && !displace_idle_client())
                displace_stalled_tail();
        if (n_clients >= CONTROL_MAX_CLIENTS) {
                ssize_t unused = send(fd, busy_answer, sizeof busy_answer - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
                (void)unused;
                close(fd);
                return true;
        }
        client_add(fd, false);
        return true;
}

/* Serve FD as a new client; -errno (FD closed) on failure. */
static int client_add(int fd, bool trusted) {
        struct client *c = calloc(1, sizeof *c);
        if (!c) {
                close(fd);
                return -ENOMEM;
        }
        c->fd = fd;
        c->trusted = trusted;
        c->batch = accept_batch;
        socklen_t len = sizeof c->peer;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c->peer, &len) < 0)
                c->peer = (struct ucred){ .pid = 0, .uid = (uid_t)-1, .gid = (gid_t)-1 };
        int r;
        if ((r = sd_event_add_io(control_event, &c->io, fd, EPOLLIN, client_on_io, c)) < 0) {
                close(fd);
                free(c);
                return r;
        }
        sd_event_source_set_io_fd_own(c->io, true);
        /* Clients before timers: a storm of restarts due at once must not keep an
         * operator waiting for `status` behind a hundred forks. */
        sd_event_source_set_priority(c->io, SD_EVENT_PRIORITY_IMPORTANT);
        if ((r = sd_event_add_time_relative(control_event, &c->timer, CLOCK_MONOTONIC, CONTROL_REQUEST_TIMEOUT,
                                            USEC_PER_SEC / 10, client_on_timeout, c)) < 0) {
                sd_event_source_disable_unref(c->io);
                free(c);
                return r;
        }
        c->next = clients;
        if (clients)
                clients->prev = c;
        clients = c;
        n_clients++;
        return 0;
}

int control_adopt(int fd) {
        if (!control_event) {
                close(fd);
                return -ENOTCONN;
        }
        return client_add(fd, true);
}

static int control_on_listen(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        (void)source;
        (void)revents;
        (void)userdata;
        /* Bounded work per wake-up: a flood of connections cannot starve the services. */
        accept_batch++;
        for (int i = 0; i < 64 && accept_one(fd); i++)
                ;
        if (!listen_blocked)
                listen_yield();
        return 0;
}

static void control_on_stopped(const struct event *e, void *userdata);

int control_start(sd_event *event, int listen_fd, const struct control_handlers *h) {
        int r;
        control_event = event;
        handlers = h;
        r = sd_event_add_io(event, &listen_source, listen_fd, EPOLLIN, control_on_listen, NULL);
        if (r < 0)
                return r;
        sd_event_source_set_io_fd_own(listen_source, true);
        sd_event_source_set_priority(listen_source, SD_EVENT_PRIORITY_IMPORTANT);
        if ((r = sd_event_add_defer(event, &resume_source, control_on_resume, NULL)) < 0
            || (r = sd_event_source_set_enabled(resume_source, SD_EVENT_OFF)) < 0)
                return r;
        if ((r = sd_event_add_time(event, &fd_timer, CLOCK_MONOTONIC, 0, USEC_PER_MSEC * 10, control_on_fd_timer,
                                   NULL)) < 0
            || (r = sd_event_source_set_enabled(fd_timer, SD_EVENT_OFF)) < 0)
                return r;
        /* Kept for the moment there is no other, to tell a client so. */
        (void)spare_take();
        return event_bus_subscribe(h->bus, EVENT_MASK(EVENT_SUPERVISOR_STOPPED), control_on_stopped, NULL,
                                   &stopped_subscription);
}

/* Shutdown is complete (EVENT_SUPERVISOR_STOPPED): answer the clients that asked for it
 * and flush what can be. */
static void control_on_stopped(const struct event *e, void *userdata) {
        (void)e;
        (void)userdata;
        for (struct client *c = clients, *next; c; c = next) {
                next = c->next;
                if (c->follower || c->mainlog_follower) {
                        /* Its log ends with supervisord: the follow ends cleanly. */
                        log_follower_free(c->follower);
                        c->follower = NULL;
                        mainlog_follower_free(c->mainlog_follower);
                        c->mainlog_follower = NULL;
                        if (!c->answered)
                                client_ok(c);
                        client_flush(c);
                        continue;
                }
                if (c->waiting_shutdown && !c->answered) {
                        c->waiting_shutdown = false;
                        client_ok(c);
                        client_flush(c);
                }
        }
}

void control_stop(const char *unlink_path) {
        while (clients)
                client_free(clients);
        stopped_subscription = event_unsubscribe(stopped_subscription);
        resume_source = sd_event_source_disable_unref(resume_source);
        fd_timer = sd_event_source_disable_unref(fd_timer);
        listen_source = sd_event_source_disable_unref(listen_source);
        listen_blocked = false;
        if (unlink_path)
                unlink(unlink_path);
}
