/* logfile.c — see logfile.h.
 *
 * One pipe per process, made at the first spawn that needs it and kept for as long as
 * anything holds its write end: a restart while the previous run's leftovers (or its
 * unread output) are still in the pipe gives the new process a write end of that same
 * pipe, so what both write lands in the same file, in order.  supervisord itself holds
 * only the read end, one descriptor per service: the write end a spawn needs is opened
 * anew from the read end (open(2) of /proc/self/fd/N, which Linux allows for a pipe) and
 * closed once the child has it.  So the pipe reaches end of file when the last process
 * writing to it is gone and everything it wrote has been read: then it is closed, and the
 * next spawn makes a new one.  No byte is lost either way.  Without /proc (a container
 * that does not mount it) the write end cannot be opened again: supervisord then keeps
 * the one pipe2(2) gave, as it did before, at two descriptors per service.  When stdout
 * and stderr both go to the log they share that pipe, so their order is kept exactly.
 *
 * The write end stays blocking: O_NONBLOCK belongs to the open file description, which
 * the child shares, and a service would see EAGAIN on its stdout.  Only our read end is
 * non-blocking.
 *
 * Moving bytes: splice(2) from the pipe into the file, so they never pass through user
 * space.  With followers, at log-level debug (the output is copied into supervisord's
 * own log, as Python supervisord's loglevel debug does), or while writing fails, a chunk is read into one static buffer
 * instead, so that followers get the bytes and a failed write drops exactly what it could
 * not write.  Each wake-up moves at most LOG_CHUNK_MAX bytes per pipe: a fast writer gets
 * its turn like every other pipe and event source, and no more.
 *
 * A log file is opened (created) when the first byte for it is read, not at the spawn: a
 * service that never writes costs neither an inode nor an fd, and starting many services
 * does not create as many files.  Once open it stays open, across restarts, until SIGUSR1,
 * a new log-dir, a rotation or the capture's end.
 *
 * Files are opened without O_APPEND (splice refuses it) and written at the size fstat(2)
 * gives before each chunk, which amounts to appending: a file truncated behind our back
 * (logrotate's copytruncate) is continued at its new end instead of getting a hole. */
#include "logfile.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <syslog.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "log.h"
#include "safepath.h"

#define LOG_DRAIN_MAX (4u << 20)          /* written at once when a process exits */
#define LOG_FINAL_DRAIN_MAX (16u << 20)   /* per pipe, when supervisord exits */
#define LOG_PIPE_SIZE (1u << 20)          /* room for a burst while the loop is busy */
#define LOG_FILE_MODE 0640                /* output can hold secrets: not world-readable */

struct log_follower {
        struct log_follower *next, *prev;
        struct log_capture *capture;
        log_follow_fn fn;
        void *userdata;
};

struct log_capture {
        struct log_capture *next, *prev;  /* every capture, released ones too */
        bool released;                    /* its service is gone: freed at end of file */
        int pipe_write;                   /* owned, blocking, close-on-exec: from prepare to
                                           * spawned only (held for good without /proc); -1 */
        int pipe_read;                    /* owned: the non-blocking read end, in pipes.epoll_fd;
                                           * -1 when none */
        int file_fd;                      /* owned; -1 when not open */
        uint64_t file_size;               /* where the next byte goes */
        uint64_t max_size;                /* log-max-size and log-keep of the last spawn */
        unsigned keep;
        bool to_file;                     /* the last spawn sent output to the file */
        bool no_splice;                   /* the file system refused splice: copy */
        bool stderr_only;                 /* the last spawn sent only stderr to the pipe */
        int child_fds[2];                 /* owned until spawned: /dev/null, journal streams */
        int write_error;                  /* negative errno while the file cannot be written */
        uint64_t dropped;                 /* bytes lost since write_error was set */
        int rotate_error;                 /* negative errno while rotation fails */
        int journal_error;                /* negative errno while the journal is unreachable */
        struct log_follower *followers;   /* each owned by its subscriber */
        struct log_tail *tails;           /* each owned by its reader: told of rotations */
        char name[];                      /* the service's, allocated with it */
};

/* A read of a log's last lines, in steps (see logfile.h).  Files are named by their
 * index at the start; a rotation since renames file k to k + shift. */
struct log_tail {
        struct log_tail *next, *prev;     /* on capture->tails */
        struct log_capture *capture;      /* NULL once the capture is gone */
        char *base;                       /* owned: "NAME.log" in log-dir */
        unsigned shift;                   /* rotations since the start */
        unsigned keep;                    /* log-keep at the start: the oldest file's index */
        uint64_t end0;                    /* NAME.log's size at the start: where the lines end */
        bool scanning;                    /* still looking for where the lines begin */
        bool done;
        unsigned newlines;                /* scanning: still to find, walking back */
        bool seen_last_byte;
        uint64_t window;                  /* scanning: bytes it may still look at */
        bool have_earliest;               /* scanning: the earliest newline seen, where a */
        unsigned earliest_index;          /* window cut short lets the lines begin */
        uint64_t earliest_pos;
        unsigned last_index;              /* where the last byte of the log is */
        uint64_t last_pos;
        int fd;                           /* owned: file `index`, or -1 */
        unsigned index;
        uint64_t pos;                     /* scanning: bytes before it still to look at;
                                           * sending: the next byte to send */
};

enum pump_result {
        PUMP_EMPTY,   /* nothing more to read for now */
        PUMP_MORE,    /* the budget ran out first */
        PUMP_EOF,     /* every write end is closed and the pipe is empty */
};

/* Every capture's pipe sits in one epoll set of our own, and only that set is on the
 * loop: an event source per pipe is ~300 bytes, a thousand services' worth 0.3 MB, for
 * pipes of which few are ever ready at once.  A wake-up pumps a chunk from each of at
 * most PIPES_PER_WAKEUP ready pipes; the set stays readable for the others. */
#define PIPES_PER_WAKEUP 16
static struct {
        int epoll_fd;                 /* owned: every open pipe, data.ptr its capture */
        sd_event_source *watch;       /* owned: epoll_fd on the loop */
} pipes = { .epoll_fd = -1 };
static char *log_directory;              /* owned: log-dir as configured, for messages */
static int log_dir_fd = -1;              /* owned: log-dir resolved (O_PATH), -1 until it can be */
static int log_dir_error;                /* the last resolution's failure, said once */
static struct log_capture *captures;
static char copy_buffer[LOG_CHUNK_MAX];  /* the chunk in flight; one loop, one chunk */
/* Whether a pipe's write end can be opened again from its read end (/proc mounted):
 * 0 not known yet, 1 yes (supervisord holds only read ends), -1 no (it keeps both). */
static int reopen_works;

/* ---- pure helpers ---- */

int log_file_path(char *buf, size_t size, const char *dir, const char *name, unsigned index) {
        size_t dir_len = strlen(dir);
        const char *slash = dir_len > 0 && dir[dir_len - 1] == '/' ? "" : "/";
        int n = index ? snprintf(buf, size, "%s%s%s.log.%u", dir, slash, name, index)
                      : snprintf(buf, size, "%s%s%s.log", dir, slash, name);
        return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* ---- files ---- */

/* Resolve log-dir into log_dir_fd, making it if missing.  An unsafe directory is refused
 * (-EDIRUNSAFE_SAFE, with the reason in ERROR); one others can add entries to is a
 * warning, each time it is resolved. */
static int directory_resolve(char *error, size_t error_size) {
        enum dir_trust trust;
        char why[PATH_MAX + 96];
        error[0] = '\0';
        if (!log_directory)
                return -ENOMEM;  /* logs_init() could not keep its name */
        int fd = safe_directory_open(log_directory, true, &trust, why, sizeof why);
        if (fd < 0) {
                snprintf(error, error_size, "cannot create log directory %s: %s", log_directory, strerror(-fd));
                return fd;
        }
        if (trust == DIR_UNSAFE) {
                close(fd);
                snprintf(error, error_size, "log-dir %s: %s: other users could redirect the service logs", log_directory,
                         why);
                return -EDIRUNSAFE_SAFE;
        }
        if (trust == DIR_SHARED)
                log_warning("log-dir %s: %s; no link in it is followed, but make it writable by root alone",
                            log_directory, why);
        if (log_dir_fd >= 0)
                close(log_dir_fd);
        log_dir_fd = fd;
        return 0;
}

/* At run time (a log-dir removed, SIGUSR1): resolve log-dir again.  One that has become
 * unsafe is said once; the directory resolved before, if any, stays in use: what is in it
 * is opened without following links, and nobody can move it under our descriptor. */
static int directory_refresh(void) {
        char error[PATH_MAX * 2];
        int r = directory_resolve(error, sizeof error);
        if (r == -EDIRUNSAFE_SAFE) {
                if (log_dir_error != r)
                        log_error("%s; %s", error,
                                  log_dir_fd >= 0 ? "going on in the directory opened before" : "no log file is written");
                log_dir_error = r;
                return log_dir_fd >= 0 ? 0 : r;
        }
        log_dir_error = r;
        return r;
}

/* Whether a log file could be created in log-dir now, short of creating one: the
 * directory exists (made if missing, as opening a file would) and is searchable and
 * writable for us.  A lookup and no inode; what only the file can tell (its own
 * permissions, a full disk) shows with the first byte written. */
static int check_directory(void) {
        struct stat st;
        /* A directory removed since it was resolved has no link left. */
        if (log_dir_fd >= 0 && fstat(log_dir_fd, &st) == 0 && st.st_nlink > 0) {
                if (faccessat(log_dir_fd, ".", W_OK | X_OK, AT_EACCESS) == 0)
                        return 0;
                if (errno != ENOENT)
                        return -errno;
        }
        int r = directory_refresh();
        if (r < 0)
                return r;
        return faccessat(log_dir_fd, ".", W_OK | X_OK, AT_EACCESS) < 0 ? -errno : 0;
}

/* "NAME.log", or "NAME.log.INDEX": the file's name in log-dir. */
static int capture_file_name(const struct log_capture *c, unsigned index, char *buf, size_t size) {
        int n = index ? snprintf(buf, size, "%s.log.%u", c->name, index) : snprintf(buf, size, "%s.log", c->name);
        return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static void capture_path(const struct log_capture *c, unsigned index, char *buf, size_t size) {
        if (log_file_path(buf, size, log_directory ? log_directory : "?", c->name, index) < 0)
                snprintf(buf, size, "(path too long)");
}

static void capture_close_file(struct log_capture *c) {
        if (c->file_fd >= 0)
                close(c->file_fd);
        c->file_fd = -1;
}

/* Open (or create) NAME.log in log-dir: no symbolic link followed, and only a regular
 * file of ours with no other link is written (safe_file_open): another user who could
 * once write log-dir cannot have it append to a file of root's. */
static int capture_open_file(struct log_capture *c) {
        char name[NAME_MAX + 1];
        struct stat st;
        int r = capture_file_name(c, 0, name, sizeof name);
        if (r < 0)
                return r;
        if (log_dir_fd < 0 && (r = directory_refresh()) < 0)
                return r;
        int fd = safe_file_open(log_dir_fd, name, O_WRONLY | O_CREAT, LOG_FILE_MODE, &st);
        if (fd == -ENOENT) {
                /* The directory is gone (removed under us): resolve it again, made anew. */
                if ((r = directory_refresh()) < 0)
                        return r;
                fd = safe_file_open(log_dir_fd, name, O_WRONLY | O_CREAT, LOG_FILE_MODE, &st);
        }
        if (fd < 0)
                return fd;
        capture_close_file(c);
        c->file_fd = fd;
        c->file_size = (uint64_t)st.st_size;
        return 0;
}

/* Writing failed: say so once, then count what is dropped until a write succeeds. */
static void capture_write_failed(struct log_capture *c, int error, const char *what) {
        if (c->write_error == 0) {
                char path[PATH_MAX];
                capture_path(c, 0, path, sizeof path);
                log_error("%s: cannot %s log %s: %s; dropping output until it can be written", c->name, what, path,
                          safe_strerror(error));
                c->dropped = 0;
        }
        c->write_error = error;
}

static void capture_write_recovered(struct log_capture *c) {
        if (c->write_error == 0)
                return;
        char path[PATH_MAX];
        capture_path(c, 0, path, sizeof path);
        log_notice("%s: writing log %s again; %" PRIu64 " bytes of output were lost", c->name, path, c->dropped);
        c->write_error = 0;
        c->dropped = 0;
}

/* NAME.log becomes NAME.log.1, NAME.log.1 becomes .2 … and the one past keep is
 * dropped; then a new NAME.log.  Files beyond keep are left from a larger log-keep (a
 * reload) and go too, so that at most keep old files remain. */
static int capture_rotate(struct log_capture *c) {
        char from[NAME_MAX + 1], to[NAME_MAX + 1];
        int r = 0;

        capture_close_file(c);
        /* Names in log-dir's descriptor: a link among them is renamed or removed itself,
         * never followed. */
        if (log_dir_fd < 0)
                r = -ENOENT;
        for (unsigned k = c->keep + 1; r == 0 && k <= c->keep + 1001; k++) {
                if (capture_file_name(c, k, to, sizeof to) < 0 || unlinkat(log_dir_fd, to, 0) < 0)
                        break;
        }
        if (r == 0 && c->keep == 0) {
                if ((r = capture_file_name(c, 0, from, sizeof from)) == 0 && unlinkat(log_dir_fd, from, 0) < 0
                    && errno != ENOENT)
                        r = -errno;
        }
        for (unsigned k = c->keep; k >= 1 && r == 0; k--) {
                if ((r = capture_file_name(c, k - 1, from, sizeof from)) < 0
                    || (r = capture_file_name(c, k, to, sizeof to)) < 0)
                        break;
                if (renameat(log_dir_fd, from, log_dir_fd, to) < 0 && errno != ENOENT)
                        r = -errno;
        }
        /* The tails being read find their files one number up. */
        for (struct log_tail *t = c->tails; t; t = t->next)
                t->shift++;
        if (r < 0 && c->rotate_error == 0) {
                char path[PATH_MAX];
                capture_path(c, 0, path, sizeof path);
                log_warning("%s: cannot rotate log %s: %s; it keeps growing", c->name, path, strerror(-r));
        }
        c->rotate_error = r;
        return capture_open_file(c);
}

/* Make the file ready for the next chunk: open, and at its current end. */
static int capture_make_writable(struct log_capture *c) {
        int r;
        if (c->file_fd < 0 && (r = capture_open_file(c)) < 0) {
                capture_write_failed(c, r, "open");
                return r;
        }
        struct stat st;
        if (fstat(c->file_fd, &st) == 0)
                c->file_size = (uint64_t)st.st_size;
        return 0;
}

/* ---- moving bytes ---- */

static void capture_feed_followers(struct log_capture *c, const char *data, size_t size) {
        for (struct log_follower *f = c->followers, *next; f; f = next) {
                next = f->next;
                f->fn(data, size, f->userdata);
        }
}

/* Write DATA at the end of the open file; what cannot be written is dropped and counted.
 * True when all of it was written. */
static bool capture_write(struct log_capture *c, const char *data, size_t size) {
        size_t done = 0;
        while (done < size) {
                ssize_t n = pwrite(c->file_fd, data + done, size - done, (off_t)c->file_size);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        capture_write_failed(c, n < 0 ? -errno : -ENOSPC, "write");
                        c->dropped += size - done;
                        return false;
                }
                c->file_size += (uint64_t)n;
                done += (size_t)n;
        }
        capture_write_recovered(c);
        return true;
}

/* Write a chunk read from the pipe: open the file if it is not open yet (this is where a
 * log file comes into being), cut it at exactly log-max-size and rotate it when more
 * comes, so a chunk may end up in two files.  A full file is rotated only once there is
 * a byte for the next: no empty file is made for nothing. */
static void capture_write_chunk(struct log_capture *c, const char *data, size_t size) {
        while (size > 0) {
                int r;
                if (capture_make_writable(c) < 0) {
                        c->dropped += size;
                        return;
                }
                if (c->max_size > 0 && c->file_size >= c->max_size && (r = capture_rotate(c)) < 0) {
                        capture_write_failed(c, r, "open");
                        c->dropped += size;
                        return;
                }
                size_t part = size;
                /* Still full after a rotation that could not rename: it keeps growing. */
                if (c->max_size > 0 && c->file_size < c->max_size && c->max_size - c->file_size < part)
                        part = (size_t)(c->max_size - c->file_size);
                if (!capture_write(c, data, part)) {
                        c->dropped += size - part;
                        return;
                }
                data += part;
                size -= part;
        }
}

/* Whether the next chunk can go from the pipe straight into the file: it is open, at its
 * current end, has room, and no follower or failed write needs the bytes in hand. */
static bool capture_can_splice(struct log_capture *c) {
        if (c->file_fd < 0 || c->followers || c->write_error || c->no_splice || log_get_level() >= LOG_DEBUG)
                return false;
        if (capture_make_writable(c) < 0)
                return false;
        return c->max_size == 0 || c->file_size < c->max_size;
}

/* Move up to BUDGET bytes from the pipe to the file and the followers. */
static enum pump_result capture_pump(struct log_capture *c, size_t budget) {
        int pipe_fd = c->pipe_read;
        while (budget > 0) {
                size_t want = budget;
                if (capture_can_splice(c)) {
                        /* A file stops exactly at log-max-size. */
                        if (c->max_size > 0 && c->max_size - c->file_size < want)
                                want = (size_t)(c->max_size - c->file_size);
                        loff_t offset = (loff_t)c->file_size;
                        ssize_t n = splice(pipe_fd, NULL, c->file_fd, &offset, want, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
                        if (n > 0) {
                                c->file_size += (uint64_t)n;
                                budget -= (size_t)n;
                                continue;
                        }
                        if (n == 0)
                                return PUMP_EOF;
                        if (errno == EAGAIN)
                                return PUMP_EMPTY;
                        if (errno == EINVAL)
                                c->no_splice = true;  /* this file system cannot: copy from now on */
                        else if (errno != EINTR)
                                capture_write_failed(c, -errno, "write");
                        continue;  /* the chunk is read (and written or dropped) below */
                }
                /* Through the buffer.  A file not open yet is opened only once the read
                 * has bytes for it: an empty pipe, as at every exit of a quiet service,
                 * creates nothing. */
                ssize_t n = read(pipe_fd, copy_buffer, want < sizeof copy_buffer ? want : sizeof copy_buffer);
                if (n == 0)
                        return PUMP_EOF;
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno != EAGAIN)
                                log_warning_errno(errno, "%s: reading output", c->name);
                        return PUMP_EMPTY;
                }
                capture_write_chunk(c, copy_buffer, (size_t)n);
                capture_feed_followers(c, copy_buffer, (size_t)n);
                /* As Python supervisord at loglevel debug: the output in its main log. */
                if (log_get_level() >= LOG_DEBUG)
                        log_debug("'%s' %s output:\n%.*s", c->name, c->stderr_only ? "stderr" : "stdout", (int)n,
                                  copy_buffer);
                budget -= (size_t)n;
        }
        return PUMP_MORE;
}

/* ---- captures ---- */

static void capture_close_child_fds(struct log_capture *c) {
        for (int i = 0; i < 2; i++) {
                if (c->child_fds[i] >= 0)
                        close(c->child_fds[i]);
                c->child_fds[i] = -1;
        }
}

static void capture_end_followers(struct log_capture *c) {
        while (c->followers) {
                struct log_follower *f = c->followers;
                log_follow_fn fn = f->fn;
                void *userdata = f->userdata;
                log_follower_free(f);
                fn(NULL, 0, userdata);
        }
}

/* Out of the set before the close: a child between clone and exec may hold a copy of the
 * fd, and epoll follows the open file, not the number. */
static void capture_close_pipe(struct log_capture *c) {
        if (c->pipe_read < 0)
                return;
        (void)epoll_ctl(pipes.epoll_fd, EPOLL_CTL_DEL, c->pipe_read, NULL);
        close(c->pipe_read);
        c->pipe_read = -1;
}

static void capture_free(struct log_capture *c) {
        if (c->prev)
                c->prev->next = c->next;
        else
                captures = c->next;
        if (c->next)
                c->next->prev = c->prev;
        capture_end_followers(c);
        for (struct log_tail *t = c->tails; t; t = t->next)
                t->capture = NULL;  /* no more rotations: its files stay as they are */
        capture_close_pipe(c);
        if (c->pipe_write >= 0)
                close(c->pipe_write);
        capture_close_child_fds(c);
        capture_close_file(c);
        free(c);
}

static int on_pipes(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        struct epoll_event events[PIPES_PER_WAKEUP];
        (void)source;
        (void)revents;
        (void)userdata;
        int n = epoll_wait(fd, events, (int)ELEMENTSOF(events), 0);
        for (int i = 0; i < n; i++) {
                struct log_capture *c = events[i].data.ptr;
                if (capture_pump(c, LOG_CHUNK_MAX) != PUMP_EOF)
                        continue;
                /* Every writer is gone and the pipe is empty: the next spawn makes a new
                 * one; a released capture is done. */
                if (c->released)
                        capture_free(c);
                else
                        capture_close_pipe(c);
        }
        return 0;
}

/* A new write end of C's pipe (blocking, close-on-exec), opened through its read end. */
static int capture_reopen_write(const struct log_capture *c) {
        char path[sizeof "/proc/self/fd/" + 3 * sizeof(int)];
        snprintf(path, sizeof path, "/proc/self/fd/%d", c->pipe_read);
        int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
        return fd < 0 ? -errno : fd;
}

/* Whether write ends can be opened again here: tried once, on the first pipe. */
static void probe_reopen(const struct log_capture *c) {
        if (reopen_works != 0)
                return;
        int fd = capture_reopen_write(c);
        if (fd >= 0) {
                close(fd);
                reopen_works = 1;
        } else if (fd == -ENOENT || fd == -ENXIO || fd == -EACCES || fd == -EPERM) {
                /* Not a shortage of descriptors, which says nothing either way. */
                log_notice("cannot open an output pipe's write end again (%s: is /proc mounted?): keeping both ends "
                           "of every service's pipe", strerror(-fd));
                reopen_works = -1;
        }
}

/* A write end of C's pipe for the spawn to come in c->pipe_write: the pipe's own when
 * there is none yet, else one opened anew, so that a new run writes to the pipe the
 * previous one's leftovers may still write to. */
static int capture_open_pipe(struct log_capture *c) {
        int fds[2], r;
        if (c->pipe_write >= 0)
                return 0;
        if (c->pipe_read >= 0) {
                if ((r = capture_reopen_write(c)) < 0)
                        return r;
                c->pipe_write = r;
                return 0;
        }
        if (pipes.epoll_fd < 0)
                return -ENXIO;
        if (pipe2(fds, O_CLOEXEC) < 0)
                return -errno;
        if ((r = fd_set_nonblocking(fds[0])) < 0)
                goto fail;
        /* Best effort: a bigger pipe lets a burst wait there while the loop is busy. */
        (void)fcntl(fds[0], F_SETPIPE_SZ, LOG_PIPE_SIZE);
        struct epoll_event watch = { .events = EPOLLIN, .data.ptr = c };
        if (epoll_ctl(pipes.epoll_fd, EPOLL_CTL_ADD, fds[0], &watch) < 0) {
                r = -errno;
                goto fail;
        }
        c->pipe_read = fds[0];
        c->pipe_write = fds[1];
        probe_reopen(c);
        return 0;
fail:
        close(fds[0]);
        close(fds[1]);
        return r;
}

static void capture_set_journal_error(struct log_capture *c, int error) {
        char path[PATH_MAX];
        capture_path(c, 0, path, sizeof path);
        if (error && !c->journal_error)
                log_warning("%s: journal unavailable (%s): its output goes to %s instead", c->name, strerror(-error), path);
        else if (!error && c->journal_error)
                log_notice("%s: journal reachable again", c->name);
        c->journal_error = error;
}

int log_capture_new(const char *name, struct log_capture **ret) {
        struct log_capture *c = calloc(1, sizeof *c + strlen(name) + 1);
        if (!c)
                return -ENOMEM;
        strcpy(c->name, name);
        c->pipe_write = c->pipe_read = c->file_fd = -1;
        c->child_fds[0] = c->child_fds[1] = -1;
        c->next = captures;
        if (captures)
                captures->prev = c;
        captures = c;
        *ret = c;
        return 0;
}

void log_capture_release(struct log_capture *c) {
        if (!c)
                return;
        capture_end_followers(c);
        capture_close_child_fds(c);
        if (c->pipe_write >= 0)
                close(c->pipe_write);
        c->pipe_write = -1;
        c->released = true;
        /* What is in the pipe now is written now; the rest as it comes, until the last
         * writer (a grandchild that kept the pipe) is gone. */
        if (c->pipe_read < 0 || capture_pump(c, LOG_DRAIN_MAX) == PUMP_EOF)
                capture_free(c);
}

int log_capture_prepare(struct log_capture *c, const struct service_config *config, int *ret_stdout,
                        int *ret_stderr) {
        const enum output_target targets[2] = { config->stdout_target, config->stderr_target };
        int fds[2] = { -1, -1 }, journal_error = 0, r;
        bool to_file = false;

        capture_close_child_fds(c);
        c->max_size = config->log_max_size;
        c->keep = config->log_keep;
        for (int i = 0; i < 2; i++) {
                switch (targets[i]) {
                case OUTPUT_STDOUT:
                        fds[i] = fds[0];
                        break;
                case OUTPUT_INHERIT:
                        fds[i] = -1;
                        break;
                case OUTPUT_NULL:
                        if ((c->child_fds[i] = open("/dev/null", O_WRONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
                                r = -errno;
                                goto fail;
                        }
                        fds[i] = c->child_fds[i];
                        break;
                case OUTPUT_JOURNAL:
                        /* The child writes to journald itself: nothing passes through us. */
                        c->child_fds[i] = sd_journal_stream_fd(c->name, LOG_INFO, 0);
                        if (c->child_fds[i] >= 0) {
                                fds[i] = c->child_fds[i];
                                break;
                        }
                        journal_error = c->child_fds[i];
                        c->child_fds[i] = -1;
                        /* Rather than lose the output or refuse to run: the log file. */
                        __attribute__((fallthrough));
                case OUTPUT_LOG:
                        if ((r = capture_open_pipe(c)) < 0)
                                goto fail;
                        fds[i] = c->pipe_write;
                        to_file = true;
                        break;
                }
        }
        capture_set_journal_error(c, journal_error);
        c->to_file = to_file;
        c->stderr_only = fds[0] != c->pipe_write;
        /* The file itself waits for the first byte (capture_make_writable): creating an
         * inode for every service at its spawn was most of the cost of starting many, and
         * a file that is never written costs an fd for ever.  A log-dir that cannot take
         * the file still shows at once. */
        if (to_file && c->file_fd < 0 && (r = check_directory()) < 0)
                capture_write_failed(c, r, "create");
        if (!to_file)
                capture_close_file(c);
        *ret_stdout = fds[0];
        *ret_stderr = fds[1];
        return 0;
fail:
        capture_close_child_fds(c);
        return r;
}

void log_capture_spawned(struct log_capture *c) {
        capture_close_child_fds(c);
        /* The child has its own (the spawn message holds it until the child takes it). */
        if (reopen_works > 0 && c->pipe_write >= 0) {
                close(c->pipe_write);
                c->pipe_write = -1;
        }
}

void log_capture_drain(struct log_capture *c) {
        /* End of file: nothing writes to the pipe any more and it is empty.  The next
         * spawn makes a new one. */
        if (c->pipe_read >= 0 && capture_pump(c, LOG_DRAIN_MAX) == PUMP_EOF && c->pipe_write < 0)
                capture_close_pipe(c);
}

const char *log_capture_problem(struct log_capture *c) {
        /* One buffer for all: formatted on demand, not kept in every capture. */
        static char problem[PATH_MAX + 160];
        char path[PATH_MAX];
        problem[0] = '\0';
        /* Asked for every service on every status: nothing to format when all is well. */
        if (!c->write_error && !c->rotate_error && !c->journal_error)
                return problem;
        capture_path(c, 0, path, sizeof path);
        if (c->write_error)
                snprintf(problem, sizeof problem, "log %s: %s; %" PRIu64 " bytes dropped", path, safe_strerror(c->write_error),
                         c->dropped);
        else if (c->rotate_error)
                snprintf(problem, sizeof problem, "log %s: cannot rotate: %s", path, strerror(-c->rotate_error));
        else if (c->journal_error)
                snprintf(problem, sizeof problem, "journal unavailable (%s): output goes to %s", strerror(-c->journal_error),
                         path);
        return problem;
}

/* ---- tail ---- */

static bool config_logs_to_file(const struct service_config *config) {
        return config->stdout_target == OUTPUT_LOG || config->stderr_target == OUTPUT_LOG;
}

/* Whether the stream FD (STDOUT_FILENO, STDERR_FILENO) of a process under CONFIG goes
 * to NAME.log: 0, or -ENOENT when it goes elsewhere; -EINVAL for another FD.  stderr
 * sent to stdout shares stdout's file.  A journal that could not be reached at the last
 * spawn fell back to the file (log_capture_prepare). */
static int capture_stream_check(const struct log_capture *c, const struct service_config *config, int fd) {
        if (fd != STDOUT_FILENO && fd != STDERR_FILENO)
                return -EINVAL;
        enum output_target target = fd == STDERR_FILENO ? config->stderr_target : config->stdout_target;
        if (target == OUTPUT_STDOUT)
                target = config->stdout_target;
        if (target == OUTPUT_LOG || (target == OUTPUT_JOURNAL && c->to_file && c->journal_error))
                return 0;
        return -ENOENT;
}

/* File INDEX of the tail (counted as at its start) in log-dir, no link followed: a link
 * planted in log-dir must not make tail show a file of root's.  What is not a log of ours
 * reads as missing. */
static int tail_open_file(struct log_tail *t, unsigned index) {
        char name[NAME_MAX + 1];
        unsigned k = index + t->shift;
        int n = k ? snprintf(name, sizeof name, "%s.%u", t->base, k) : snprintf(name, sizeof name, "%s", t->base);
        if (n < 0 || (size_t)n >= sizeof name)
                return -ENAMETOOLONG;
        if (log_dir_fd < 0) {
                int r = directory_refresh();
                if (r < 0)
                        return r == -EDIRUNSAFE_SAFE ? -ENOENT : r;
        }
        int fd = safe_file_open(log_dir_fd, name, O_RDONLY, 0, NULL);
        if (fd == -ELOOP || fd == -EFTYPE_SAFE || fd == -EPERM || fd == -EMLINK)
                return -ENOENT;  /* not a log of ours */
        return fd;
}

static void tail_close_file(struct log_tail *t) {
        if (t->fd >= 0)
                close(t->fd);
        t->fd = -1;
}

/* Where file INDEX ends for the tail: NAME.log where it ended at the start, an older
 * one where it ends. */
static int tail_file_end(struct log_tail *t, uint64_t *ret) {
        if (t->index == 0) {
                *ret = t->end0;
                return 0;
        }
        struct stat st;
        if (fstat(t->fd, &st) < 0)
                return -errno;
        *ret = (uint64_t)st.st_size;
        return 0;
}

static void tail_begin_sending(struct log_tail *t, unsigned index, uint64_t pos) {
        t->scanning = false;
        if (t->fd >= 0 && t->index != index)
                tail_close_file(t);
        t->index = index;
        t->pos = pos;
}

/* The scan reached the beginning of what there is, or the end of its window. */
static void tail_scan_exhausted(struct log_tail *t, bool cut) {
        /* Cut short with lines still missing: begin at a whole line, unless the only
         * newline seen ends the log. */
        if (cut && t->have_earliest && !(t->earliest_index == t->last_index && t->earliest_pos == t->last_pos)) {
                tail_begin_sending(t, t->earliest_index, t->earliest_pos + 1);
                return;
        }
        tail_begin_sending(t, t->index, t->pos);
}

/* Whether a file older than the current one exists, with bytes in it. */
static bool tail_older_exists(struct log_tail *t) {
        if (t->index >= t->keep)
                return false;
        int fd = tail_open_file(t, t->index + 1);
        if (fd < 0)
                return false;
        struct stat st;
        bool some = fstat(fd, &st) == 0 && st.st_size > 0;
        close(fd);
        return some;
}

/* Look at one more chunk, walking back from the end, for where the lines begin.  BUF
 * (LOG_TAIL_SCAN_STEP bytes) is scratch. */
static int tail_scan(struct log_tail *t, char *buf) {
        if (t->pos == 0) {
                /* This file is done: on to the older one, if there is one. */
                if (t->index >= t->keep) {
                        tail_scan_exhausted(t, false);
                        return 0;
                }
                int fd = tail_open_file(t, t->index + 1);
                if (fd < 0) {
                        if (fd != -ENOENT)
                                return fd;
                        tail_scan_exhausted(t, false);
                        return 0;
                }
                tail_close_file(t);
                t->fd = fd;
                t->index++;
                int r = tail_file_end(t, &t->pos);
                if (r < 0)
                        return r;
                return 0;
        }
        if (t->window == 0) {
                tail_scan_exhausted(t, true);
                return 0;
        }
        size_t n = LOG_TAIL_SCAN_STEP;
        if (n > t->pos)
                n = (size_t)t->pos;
        if (n > t->window)
                n = (size_t)t->window;
        uint64_t from = t->pos - n;
        for (size_t got = 0; got < n;) {
                ssize_t k = pread(t->fd, buf + got, n - got, (off_t)(from + got));
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return k < 0 ? -errno : -EIO;  /* shrank under us */
                got += (size_t)k;
        }
        if (!t->seen_last_byte) {
                /* The newline that ends the last line does not begin another one. */
                t->seen_last_byte = true;
                t->last_index = t->index;
                t->last_pos = t->pos - 1;
                if (buf[n - 1] == '\n')
                        t->newlines++;
        }
        for (const char *end = buf + n, *nl; (nl = memrchr(buf, '\n', (size_t)(end - buf))); end = nl) {
                uint64_t at = from + (uint64_t)(nl - buf);
                t->have_earliest = true;
                t->earliest_index = t->index;
                t->earliest_pos = at;
                if (--t->newlines == 0) {
                        tail_begin_sending(t, t->index, at + 1);
                        return 0;
                }
        }
        t->pos = from;
        t->window -= n;
        if (t->window == 0 && (t->pos > 0 || tail_older_exists(t)))
                tail_scan_exhausted(t, true);
        else if (t->window == 0)
                tail_scan_exhausted(t, false);
        return 0;
}

/* Send from the beginning found up to where NAME.log ended at the start. */
static ssize_t tail_send(struct log_tail *t, char *buf, size_t size) {
        if (t->fd < 0) {
                int fd = tail_open_file(t, t->index);
                if (fd == -ENOENT) {
                        /* Rotated away meanwhile (log-keep): what it held is gone. */
                        if (t->index == 0)
                                t->done = true;
                        else {
                                t->index--;
                                t->pos = 0;
                        }
                        return 0;
                }
                if (fd < 0)
                        return fd;
                t->fd = fd;
        }
        uint64_t end;
        int r = tail_file_end(t, &end);
        if (r < 0)
                return r;
        if (t->pos >= end) {
                tail_close_file(t);
                if (t->index == 0)
                        t->done = true;
                else {
                        t->index--;
                        t->pos = 0;
                }
                return 0;
        }
        size_t n = size < LOG_TAIL_STEP ? size : LOG_TAIL_STEP;
        if (n > end - t->pos)
                n = (size_t)(end - t->pos);
        ssize_t k;
        do
                k = pread(t->fd, buf, n, (off_t)t->pos);
        while (k < 0 && errno == EINTR);
        if (k < 0)
                return -errno;
        if (k == 0)
                t->pos = end;  /* shrank under us (truncated): nothing more of this file */
        t->pos += (uint64_t)k;
        return k;
}

int log_tail_open(struct log_capture *c, const struct service_config *config, int stream_fd, unsigned lines,
                  struct log_tail **ret) {
        char name[NAME_MAX + 1];
        int r;
        if ((r = capture_stream_check(c, config, stream_fd)) < 0)
                return r;
        if (lines > LOG_TAIL_MAX_LINES)
                lines = LOG_TAIL_MAX_LINES;
        if ((r = capture_file_name(c, 0, name, sizeof name)) < 0)
                return r;
        struct log_tail *t = calloc(1, sizeof *t);
        if (!t)
                return -ENOMEM;
        if (!(t->base = strdup(name))) {
                free(t);
                return -ENOMEM;
        }
        t->fd = -1;
        t->keep = config->log_keep;
        t->window = LOG_TAIL_MAX_BYTES;
        t->newlines = lines;
        t->scanning = lines > 0;
        t->done = lines == 0;
        int file_fd = tail_open_file(t, 0);
        if (file_fd >= 0) {
                struct stat st;
                if (fstat(file_fd, &st) < 0) {
                        r = -errno;
                        close(file_fd);
                        log_tail_free(t);
                        return r;
                }
                t->fd = file_fd;
                t->end0 = (uint64_t)st.st_size;
        } else if (file_fd != -ENOENT) {
                log_tail_free(t);
                return file_fd;
        }
        /* else moved away, not reopened yet: older ones may exist */
        t->pos = t->end0;
        t->capture = c;
        t->next = c->tails;
        if (c->tails)
                c->tails->prev = t;
        c->tails = t;
        *ret = t;
        return 0;
}

ssize_t log_tail_read(struct log_tail *t, char *buf, size_t size, bool *ret_done) {
        ssize_t r = 0;
        if (!t->done && t->scanning)
                r = tail_scan(t, buf);
        else if (!t->done)
                r = tail_send(t, buf, size);
        if (r < 0)
                return r;
        *ret_done = t->done;
        if (t->done)
                tail_close_file(t);
        return r;
}

void log_tail_free(struct log_tail *t) {
        if (!t)
                return;
        if (t->capture) {
                if (t->prev)
                        t->prev->next = t->next;
                else
                        t->capture->tails = t->next;
                if (t->next)
                        t->next->prev = t->prev;
        }
        tail_close_file(t);
        free(t->base);
        free(t);
}

int log_capture_file(const struct log_capture *c, const struct service_config *config, int fd, char *buf,
                     size_t size) {
        enum output_target target = fd == 2 ? config->stderr_target : config->stdout_target;
        if (target == OUTPUT_STDOUT)
                target = config->stdout_target;
        if (target != OUTPUT_LOG)
                return -ENOENT;
        if (!log_directory)
                return -ENOENT;
        return log_file_path(buf, size, log_directory, c->name, 0);
}

int log_capture_clear(struct log_capture *c, const struct service_config *config) {
        char name[NAME_MAX + 1];
        int r;
        if ((r = capture_file_name(c, 0, name, sizeof name)) < 0)
                return r;
        /* The open file is emptied where it is: the next byte goes at its new end. */
        if (c->file_fd >= 0) {
                if (ftruncate(c->file_fd, 0) < 0)
                        return -errno;
                c->file_size = 0;
                return 0;
        }
        int fd = log_dir_fd >= 0 || (r = directory_refresh()) >= 0 ? safe_file_open(log_dir_fd, name, O_WRONLY, 0, NULL)
                                                                   : r;
        if (fd == -ENOENT)
                return config_logs_to_file(config) || c->to_file ? 0 : -ENOENT;
        if (fd < 0)
                return fd;
        r = ftruncate(fd, 0) < 0 ? -errno : 0;
        close(fd);
        return r;
}

int log_capture_read(struct log_capture *c, const struct service_config *config, int stream_fd, int64_t offset,
                     size_t length, char **ret, size_t *ret_size, uint64_t *ret_file_size) {
        char name[NAME_MAX + 1];
        struct stat st;
        int r;

        *ret = NULL;
        *ret_size = 0;
        if (ret_file_size)
                *ret_file_size = 0;
        /* From the end: how much, not how much more. */
        if (offset < 0 && length > 0)
                return -EINVAL;
        if ((r = capture_stream_check(c, config, stream_fd)) < 0)
                return r;
        if ((r = capture_file_name(c, 0, name, sizeof name)) < 0)
                return r;
        /* In log-dir's descriptor with no link followed, as tail reads: a link planted
         * there must not make a read show a file of root's. */
        int fd = log_dir_fd >= 0 || (r = directory_refresh()) >= 0 ? safe_file_open(log_dir_fd, name, O_RDONLY, 0, NULL)
                                                                   : r;
        if (fd == -ELOOP || fd == -EFTYPE_SAFE || fd == -EPERM || fd == -EMLINK || fd == -EDIRUNSAFE_SAFE)
                fd = -ENOENT;  /* not a log of ours */
        if (fd < 0)
                return fd == -ENOENT ? 0 : fd;  /* nothing written yet (or moved away, not reopened yet) */
        if (fstat(fd, &st) < 0) {
                r = -errno;
                close(fd);
                return r;
        }
        uint64_t file_size = (uint64_t)st.st_size, from, want;
        if (offset < 0) {
                uint64_t back = offset == INT64_MIN ? UINT64_MAX : (uint64_t)-offset;
                from = back < file_size ? file_size - back : 0;
                want = file_size - from;
        } else {
                from = (uint64_t)offset < file_size ? (uint64_t)offset : file_size;
                want = length > 0 ? length : file_size - from;
                if (want > file_size - from)
                        want = file_size - from;
        }
        /* Bounded: the loop reads it, as it reads a tail. */
        if (want > LOG_TAIL_MAX_BYTES) {
                if (offset < 0)
                        from += want - LOG_TAIL_MAX_BYTES;
                want = LOG_TAIL_MAX_BYTES;
        }
        if (ret_file_size)
                *ret_file_size = file_size;
        if (want == 0) {
                close(fd);
                return 0;
        }
        char *buf = malloc((size_t)want);
        if (!buf) {
                close(fd);
                return -ENOMEM;
        }
        size_t got = 0;
        while (got < want) {
                ssize_t n = pread(fd, buf + got, (size_t)want - got, (off_t)(from + got));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        r = -errno;
                        close(fd);
                        free(buf);
                        return r;
                }
                if (n == 0)
                        break;  /* truncated meanwhile */
                got += (size_t)n;
        }
        close(fd);
        if (got == 0) {
                free(buf);
                return 0;
        }
        *ret = buf;
        *ret_size = got;
        return 0;
}

/* ---- followers ---- */

int log_capture_follow(struct log_capture *c, const struct service_config *config, int stream_fd, log_follow_fn fn,
                       void *userdata, struct log_follower **ret) {
        int r = capture_stream_check(c, config, stream_fd);
        if (r < 0)
                return r;
        struct log_follower *f = calloc(1, sizeof *f);
        if (!f)
                return -ENOMEM;
        f->capture = c;
        f->fn = fn;
        f->userdata = userdata;
        f->next = c->followers;
        if (c->followers)
                c->followers->prev = f;
        c->followers = f;
        *ret = f;
        return 0;
}

void log_follower_free(struct log_follower *f) {
        if (!f)
                return;
        if (f->prev)
                f->prev->next = f->next;
        else
                f->capture->followers = f->next;
        if (f->next)
                f->next->prev = f->prev;
        free(f);
}

/* ---- every capture ---- */

int logs_init(sd_event *event, const char *dir, char *error, size_t error_size) {
        if (pipes.epoll_fd < 0) {
                int r;
                if ((pipes.epoll_fd = epoll_create1(EPOLL_CLOEXEC)) < 0)
                        log_error_errno(errno, "cannot make the epoll set of the output pipes");
                else if ((r = sd_event_add_io(event, &pipes.watch, pipes.epoll_fd, EPOLLIN, on_pipes, NULL)) < 0) {
                        log_error_errno(r, "cannot watch the output pipes");
                        close(pipes.epoll_fd);
                        pipes.epoll_fd = -1;
                } else
                        sd_event_source_set_io_fd_own(pipes.watch, true);
        }
        free(log_directory);
        log_directory = strdup(dir);
        if (!log_directory) {
                snprintf(error, error_size, "log directory: out of memory");
                return -ENOMEM;
        }
        int r = directory_resolve(error, error_size);
        if (r == -EDIRUNSAFE_SAFE)
                return r;
        if (r < 0)
                log_warning("%s", error);  /* each log reports it, and it is tried again */
        log_dir_error = r;
        return 0;
}

void logs_reopen_all(void) {
        unsigned reopened = 0;
        /* log-dir itself again too: it may have been made anew, or changed hands. */
        (void)directory_refresh();
        for (struct log_capture *c = captures; c; c = c->next) {
                /* A log not open now is opened with its next byte, wherever it is then. */
                if (c->file_fd < 0)
                        continue;
                capture_close_file(c);
                int r = capture_open_file(c);
                if (r < 0)
                        capture_write_failed(c, r, "open");
                else
                        reopened++;
        }
        log_info("reopened %u log files in %s", reopened, log_directory ? log_directory : "?");
}

int logs_set_directory(const char *dir, char *error, size_t error_size) {
        if (log_directory && strcmp(log_directory, dir) == 0)
                return 0;
        char *copy = strdup(dir), *old = log_directory;
        int old_fd = log_dir_fd;
        if (!copy) {
                snprintf(error, error_size, "log-dir %s: out of memory", dir);
                return -ENOMEM;
        }
        log_directory = copy;
        log_dir_fd = -1;
        int r = directory_resolve(error, error_size);
        if (r == -EDIRUNSAFE_SAFE) {
                /* Refused: everything stays as it was. */
                free(copy);
                log_directory = old;
                log_dir_fd = old_fd;
                return r;
        }
        if (r < 0)
                log_warning("%s", error);
        log_dir_error = r;
        log_notice("log-dir is now %s (was %s)", dir, old ? old : "unset");
        free(old);
        if (old_fd >= 0)
                close(old_fd);
        logs_reopen_all();
        return 0;
}

void logs_free_all(void) {
        while (captures) {
                struct log_capture *c = captures;
                /* Whatever the processes left behind still belongs in their logs. */
                if (c->pipe_read >= 0) {
                        for (size_t moved = 0; moved < LOG_FINAL_DRAIN_MAX; moved += LOG_CHUNK_MAX)
                                if (capture_pump(c, LOG_CHUNK_MAX) != PUMP_MORE)
                                        break;
                }
                capture_free(c);
        }
        free(log_directory);
        log_directory = NULL;
        if (log_dir_fd >= 0)
                close(log_dir_fd);
        log_dir_fd = -1;
        log_dir_error = 0;
        pipes.watch = sd_event_source_disable_unref(pipes.watch);  /* closes epoll_fd */
        pipes.epoll_fd = -1;
}
