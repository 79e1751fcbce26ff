/* mainlog.c — see mainlog.h.
 *
 * Why a stream is reopened rather than written through fd 1: O_NONBLOCK belongs to the
 * open file description, and fd 1 is shared with whoever started supervisord (a shell,
 * docker's log pipe) and with every service whose output is `inherit`.  Opening
 * /proc/self/fd/N makes a description of our own for a pipe, a FIFO or a terminal, which
 * can be non-blocking without anyone else noticing.  A socket cannot be opened that way
 * (ENXIO): then fd N is used as it is, written with send(MSG_DONTWAIT).  A stream that
 * is a regular file (stdout redirected to one) is opened O_APPEND, so that our own
 * description does not write over what the shell's wrote. */
#include "mainlog.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "safepath.h"

#define MAINLOG_FILE_MODE 0640
#define MAINLOG_READ_MAX (4u << 20)

struct sink {
        int fd;              /* owned; -1 when closed */
        bool is_socket;      /* written with send(MSG_DONTWAIT) */
        int error;           /* negative errno of the last failed write, 0 when none */
        uint64_t dropped;    /* lines lost since error was set */
};

static struct {
        char *path;          /* owned: as configured; NULL when no main log */
        bool stream;         /* a stream: never rotated, nothing to read back */
        int dir_fd;          /* owned, O_PATH: the file's directory; -1 for a stream */
        char *name;          /* owned: the file's name in dir_fd */
        uint64_t max_size;   /* 0: never rotated */
        unsigned keep;
        uint64_t size;       /* the file's size as we last knew it */
        struct sink file;
        struct sink echo;    /* stdout in the foreground; fd -1 when not echoing */
} mainlog = { .dir_fd = -1, .file = { .fd = -1 }, .echo = { .fd = -1 } };

static bool writing;  /* a write is in progress: a message from inside it is not written */

struct mainlog_follower {
        struct mainlog_follower *next, *prev;
        mainlog_follow_fn fn;
        void *userdata;
};
static struct mainlog_follower *followers;  /* each owned by its subscriber */

bool mainlog_is_stream_path(const char *path) {
        if (strcmp(path, "-") == 0 || strcmp(path, "/dev/stdout") == 0 || strcmp(path, "/dev/stderr") == 0)
                return true;
        const char *rest = NULL;
        if (strncmp(path, "/dev/fd/", 8) == 0)
                rest = path + 8;
        else if (strncmp(path, "/proc/", 6) == 0) {
                const char *p = path + 6;
                if (strncmp(p, "self/", 5) == 0)
                        p += 5;
                else {
                        if (!isdigit((unsigned char)*p))
                                return false;
                        while (isdigit((unsigned char)*p))
                                p++;
                        if (*p++ != '/')
                                return false;
                }
                if (strncmp(p, "fd/", 3) != 0)
                        return false;
                rest = p + 3;
        }
        if (!rest || !*rest)
                return false;
        for (const char *p = rest; *p; p++)
                if (!isdigit((unsigned char)*p))
                        return false;
        return true;
}

/* The fd of our own that a stream path stands for, or -1 (another process's). */
static int stream_own_fd(const char *path) {
        if (strcmp(path, "-") == 0 || strcmp(path, "/dev/stdout") == 0)
                return STDOUT_FILENO;
        if (strcmp(path, "/dev/stderr") == 0)
                return STDERR_FILENO;
        const char *last = strrchr(path, '/') + 1;
        if (strncmp(path, "/dev/fd/", 8) == 0 || strncmp(path, "/proc/self/fd/", 14) == 0
            || (strncmp(path, "/proc/", 6) == 0 && atol(path + 6) == (long)getpid()))
                return atoi(last);
        return -1;
}

static int stream_open(const char *path, struct sink *ret, char *error, size_t error_size) {
        const char *real = strcmp(path, "-") == 0 ? "/dev/stdout" : path;
        int fd = open(real, O_WRONLY | O_APPEND | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
        if (fd >= 0) {
                *ret = (struct sink){ .fd = fd };
                return 0;
        }
        int r = -errno;
        int own = stream_own_fd(path);
        if (r == -ENXIO && own >= 0) {
                /* A socket: ours to write to, as it is. */
                fd = fcntl(own, F_DUPFD_CLOEXEC, 3);
                if (fd >= 0) {
                        *ret = (struct sink){ .fd = fd, .is_socket = true };
                        return 0;
                }
                r = -errno;
        }
        snprintf(error, error_size, "log-file: %s: %s", path, strerror(-r));
        return r;
}

static int file_open(int dir_fd, const char *name, uint64_t *ret_size) {
        struct stat st;
        int fd = safe_file_open(dir_fd, name, O_WRONLY | O_CREAT | O_APPEND, MAINLOG_FILE_MODE, &st);
        if (fd >= 0)
                *ret_size = (uint64_t)st.st_size;
        return fd;
}

static void sink_close(struct sink *s) {
        if (s->fd >= 0)
                close(s->fd);
        *s = (struct sink){ .fd = -1 };
}

int mainlog_open(const char *path, uint64_t max_size, unsigned keep, bool echo_stdout, char *error,
                 size_t error_size) {
        struct sink file = { .fd = -1 }, echo = { .fd = -1 };
        int dir_fd = -1, r;
        char *path_copy = strdup(path), *name = NULL;
        uint64_t size = 0;
        bool stream = mainlog_is_stream_path(path);
        if (!path_copy)
                return -ENOMEM;
        if (stream) {
                if ((r = stream_open(path, &file, error, error_size)) < 0)
                        goto fail;
        } else {
                char dir[PATH_MAX];
                const char *base;
                enum dir_trust trust;
                char why[PATH_MAX + 64] = "";
                if ((r = safe_path_split(path, dir, sizeof dir, &base)) < 0 || !*base) {
                        r = r < 0 ? r : -EISDIR;
                        snprintf(error, error_size, "log-file: %s: %s", path, strerror(-r));
                        goto fail;
                }
                if ((dir_fd = safe_directory_open(dir, false, &trust, why, sizeof why)) < 0) {
                        r = dir_fd;
                        snprintf(error, error_size, "log-file: %s: %s", dir, strerror(-r));
                        goto fail;
                }
                if (trust == DIR_UNSAFE) {
                        r = -EDIRUNSAFE_SAFE;
                        snprintf(error, error_size, "log-file: %s: %s", path, why);
                        goto fail;
                }
                if (!(name = strdup(base))) {
                        r = -ENOMEM;
                        snprintf(error, error_size, "log-file: %s", strerror(ENOMEM));
                        goto fail;
                }
                if ((r = file_open(dir_fd, name, &size)) < 0) {
                        snprintf(error, error_size, "log-file: %s: %s", path, safe_strerror(r));
                        goto fail;
                }
                file = (struct sink){ .fd = r };
        }
        if (echo_stdout && stream_own_fd(path) != STDOUT_FILENO && stream_open("-", &echo, error, error_size) < 0)
                echo = (struct sink){ .fd = -1 };  /* no stdout to speak of: the file is enough */

        mainlog_close();
        mainlog.path = path_copy;
        mainlog.stream = stream;
        mainlog.dir_fd = dir_fd;
        mainlog.name = name;
        mainlog.max_size = stream ? 0 : max_size;
        mainlog.keep = keep;
        mainlog.size = size;
        mainlog.file = file;
        mainlog.echo = echo;
        return 0;
fail:
        sink_close(&file);
        if (dir_fd >= 0)
                close(dir_fd);
        free(path_copy);
        free(name);
        return r;
}

void mainlog_close(void) {
        sink_close(&mainlog.file);
        sink_close(&mainlog.echo);
        if (mainlog.dir_fd >= 0)
                close(mainlog.dir_fd);
        mainlog.dir_fd = -1;
        free(mainlog.path);
        free(mainlog.name);
        mainlog.path = mainlog.name = NULL;
}

bool mainlog_is_open(void) { return mainlog.path != NULL; }

const char *mainlog_path(void) { return mainlog.path && !mainlog.stream ? mainlog.path : NULL; }

/* FILE opened anew in place of the one written so far; if it cannot be, the writes go on
 * where they were: better the old file than none. */
static void open_anew(void) {
        uint64_t size;
        int fd = file_open(mainlog.dir_fd, mainlog.name, &size);
        if (fd < 0) {
                mainlog.file.error = fd;
                return;
        }
        close(mainlog.file.fd);
        mainlog.file.fd = fd;
        mainlog.size = size;
}

void mainlog_reopen(void) {
        if (mainlog.path && !mainlog.stream)
                open_anew();
}

/* FILE.1 … FILE.keep: "FILE" for 0. */
static void backup_name(char *buf, size_t size, unsigned index) {
        if (index == 0)
                snprintf(buf, size, "%s", mainlog.name);
        else
                snprintf(buf, size, "%s.%u", mainlog.name, index);
}

/* As Python supervisord's: FILE.k becomes FILE.k+1, FILE becomes FILE.1, and a new FILE is
 * begun; with keep 0 the file is emptied instead. */
static void rotate(void) {
        if (mainlog.keep == 0) {
                if (ftruncate(mainlog.file.fd, 0) == 0)
                        mainlog.size = 0;
                return;
        }
        char from[NAME_MAX + 16], to[NAME_MAX + 16];
        for (unsigned i = mainlog.keep; i > 0; i--) {
                backup_name(from, sizeof from, i - 1);
                backup_name(to, sizeof to, i);
                if (renameat(mainlog.dir_fd, from, mainlog.dir_fd, to) < 0 && errno != ENOENT && i == 1)
                        return;  /* FILE cannot be moved: keep writing it, try again next line */
        }
        open_anew();
}

static ssize_t sink_put(struct sink *s, const char *buf, size_t len) {
        if (s->is_socket)
                return send(s->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
        return write(s->fd, buf, len);
}

/* One line, all of it or none: a partial line is completed, a failure is counted and said
 * in the first line that gets through afterwards. */
static void sink_write(struct sink *s, const char *prefix, size_t prefix_len, const char *line, size_t len,
                       bool is_file) {
        if (s->fd < 0)
                return;
        if (s->error < 0 && s->dropped > 0) {
                char note[256];
                int n = snprintf(note, sizeof note, "%.*sWARN %llu log lines lost: %s\n", (int)prefix_len - 5, prefix,
                                 (unsigned long long)s->dropped, strerror(-s->error));
                ssize_t w = sink_put(s, note, (size_t)n);
                if (w != n) {
                        s->dropped++;
                        return;
                }
                if (is_file)
                        mainlog.size += (uint64_t)w;
                s->error = 0;
                s->dropped = 0;
        }
        ssize_t w = sink_put(s, line, len);
        if (w < 0) {
                s->error = -errno;
                s->dropped++;
                return;
        }
        if (is_file)
                mainlog.size += (uint64_t)w;
        /* A short write (a full disk): end the line, so that the next one begins on its own. */
        if ((size_t)w < len) {
                s->error = -ENOSPC;
                s->dropped++;
                if (sink_put(s, "\n", 1) == 1 && is_file)
                        mainlog.size++;
        }
}

/* Python supervisord's level names. */
static const char *level_name(int priority) {
        if (priority <= LOG_CRIT)
                return "CRIT";
        switch (priority) {
        case LOG_ERR: return "ERRO";
        case LOG_WARNING: return "WARN";
        case LOG_DEBUG: return "DEBG";
        default: return "INFO";
        }
}

void mainlog_write(int priority, const char *text) {
        if (!mainlog.path || writing)
                return;
        writing = true;
        char line[4096];
        struct timespec now;
        struct tm tm;
        clock_gettime(CLOCK_REALTIME, &now);
        localtime_r(&now.tv_sec, &tm);
        size_t n = strftime(line, sizeof line, "%Y-%m-%d %H:%M:%S", &tm);
        int m = snprintf(line + n, sizeof line - n, ",%03ld %s ", now.tv_nsec / 1000000, level_name(priority));
        size_t prefix_len = n + (size_t)m;
        size_t text_len = strlen(text);
        if (text_len > sizeof line - prefix_len - 1)
                text_len = sizeof line - prefix_len - 1;
        memcpy(line + prefix_len, text, text_len);
        size_t len = prefix_len + text_len;
        line[len++] = '\n';
        sink_write(&mainlog.file, line, prefix_len, line, len, !mainlog.stream);
        sink_write(&mainlog.echo, line, prefix_len, line, len, false);
        if (!mainlog.stream)
                for (struct mainlog_follower *f = followers, *next; f; f = next) {
                        next = f->next;
                        f->fn(line, len, f->userdata);
                }
        if (mainlog.max_size > 0 && mainlog.size >= mainlog.max_size)
                rotate();
        writing = false;
}

static int read_fd(int *ret_fd, uint64_t *ret_size) {
        if (!mainlog_path())
                return -ENOENT;
        int fd = safe_file_open(mainlog.dir_fd, mainlog.name, O_RDONLY, 0, NULL);
        if (fd < 0)
                return fd == -ENOENT ? -ENOENT : fd;
        struct stat st;
        if (fstat(fd, &st) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        *ret_fd = fd;
        *ret_size = (uint64_t)st.st_size;
        return 0;
}

int mainlog_read(int64_t offset, size_t length, char **ret, size_t *ret_size, uint64_t *ret_file_size) {
        if (offset < 0 && length != 0)
                return -EINVAL;
        int fd = -1;
        uint64_t size = 0;
        int r = read_fd(&fd, &size);
        if (r < 0)
                return r;
        uint64_t from, to;
        if (offset < 0) {
                uint64_t back = (uint64_t)-(offset + 1) + 1;
                if (back > MAINLOG_READ_MAX)
                        back = MAINLOG_READ_MAX;
                from = back >= size ? 0 : size - back;
                to = size;
        } else {
                from = (uint64_t)offset < size ? (uint64_t)offset : size;
                to = length == 0 || length > size - from ? size : from + length;
                if (to - from > MAINLOG_READ_MAX)
                        to = from + MAINLOG_READ_MAX;
        }
        char *buf = NULL;
        size_t got = 0;
        if (to > from) {
                if (!(buf = malloc(to - from))) {
                        close(fd);
                        return -ENOMEM;
                }
                while (got < to - from) {
                        ssize_t k = pread(fd, buf + got, (size_t)(to - from) - got, (off_t)(from + got));
                        if (k < 0 && errno == EINTR)
                                continue;
                        if (k <= 0)
                                break;
                        got += (size_t)k;
                }
                if (got == 0) {
                        free(buf);
                        buf = NULL;
                }
        }
        close(fd);
        *ret = buf;
        *ret_size = got;
        if (ret_file_size)
                *ret_file_size = size;
        return 0;
}

int mainlog_clear(void) {
        if (!mainlog_path())
                return -ENOENT;
        if (ftruncate(mainlog.file.fd, 0) < 0)
                return -errno;
        mainlog.size = 0;
        return 0;
}

int mainlog_follow(mainlog_follow_fn fn, void *userdata, struct mainlog_follower **ret) {
        if (!mainlog_path())
                return -ENOENT;
        struct mainlog_follower *f = calloc(1, sizeof *f);
        if (!f)
                return -ENOMEM;
        f->fn = fn;
        f->userdata = userdata;
        f->next = followers;
        if (followers)
                followers->prev = f;
        followers = f;
        *ret = f;
        return 0;
}

void mainlog_follower_free(struct mainlog_follower *f) {
        if (!f)
                return;
        if (f->prev)
                f->prev->next = f->next;
        else
                followers = f->next;
        if (f->next)
                f->next->prev = f->prev;
        free(f);
}
