/* leftovers.c — see leftovers.h.
 *
 * The record is a log of lines, "+K ID STARTTIME" when something appears and "-K ID"
 * when it goes, where K is empty for a process group, "s" for a session and "p" for a
 * process, and STARTTIME is the start time of the process ID (the leader) when it was
 * recorded, 0 if it was gone by then; an ID is live in the record when its last line is a
 * "+".  (A line "PGID STARTTIME" of the oldest format counts as a "+".)  Appending one
 * line per change costs the same with ten services or ten thousand.  What is live is
 * also kept in memory, and when the log has grown to more than twice that, it is
 * written anew from memory (to a temporary file, renamed over it: a crash never leaves
 * half a record), dropping recorded processes that have gone meanwhile.  A torn last line
 * is ignored.
 *
 * A pgid or sid cannot be reused as a pid while the group or session has members, so a
 * live group whose leader is gone is still the one we recorded; a live leader with
 * another start time is a new process that happens to have the old number, and is left
 * alone.  A start time taken by the clock just before the spawn (start_time_now) can be
 * one tick early, so one tick of difference still matches: a pid cannot come round again
 * within 1/CLK_TCK seconds.
 *
 * Sessions have no kill(2) of their own, and a setsid child of a service is in neither
 * the service's group nor anything recorded: so the previous instance's leftovers are
 * found by one walk over /proc, which matches each process's pid, group and session
 * against the record, and its environment against our SUPERVISOR_PIDFILE.  The walk is
 * made only when the record exists, that is after a crash, and again until it finds
 * nothing more (a process forked while we walked).  The record's first line, "= START",
 * is the start time of the supervisord that wrote it: a process older than that is no
 * service of it, and its environment is not read (reading every process's costs about
 * 0.2 ms each on a loaded machine of 2,600). */
#include "leftovers.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "safepath.h"
#include "util.h"

/* One live thing: in the in-memory table and in the record. */
struct entry {
        pid_t id;                 /* 0: a free slot */
        enum leftover_kind kind;
        unsigned count;           /* added this many times more than removed */
        unsigned long long start;
};

static char *record_path;             /* owned: for messages */
static char *record_name;             /* owned: its name in record_dir_fd */
static int record_dir_fd = -1;        /* owned: the pidfile's directory (O_PATH) */
static int record_fd = -1;            /* owned: the record, O_APPEND */
static size_t record_lines;           /* in the record now */
static sd_event_source *compact_source;  /* owned: deferred rewrite */
static struct entry *table;           /* owned: open addressing, capacity a power of two */
static unsigned long long own_start;  /* our start time: the record's first line */
static size_t table_capacity, table_used, table_deleted;
#define DELETED ((pid_t)-1)           /* a slot whose entry went: probing goes on past it */

static const char kind_letter[] = { [LEFTOVER_GROUP] = ' ', [LEFTOVER_SESSION] = 's', [LEFTOVER_PROCESS] = 'p' };

unsigned long long process_start_time(pid_t pid) {
        char path[64], buf[1024];
        snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n <= 0)
                return 0;
        buf[n] = '\0';
        char *p = strrchr(buf, ')');
        if (!p)
                return 0;
        /* after ") " come fields 3 (state) ... 22 (starttime) */
        p += 2;
        for (int field = 3; field < 22 && p; field++) {
                p = strchr(p, ' ');
                if (p)
                        p++;
        }
        return p ? strtoull(p, NULL, 10) : 0;
}

unsigned long long start_time_now(void) {
        /* What the kernel stores as a task's start: CLOCK_BOOTTIME, shown in clock ticks. */
        struct timespec ts;
        if (clock_gettime(CLOCK_BOOTTIME, &ts) < 0)
                return 0;
        unsigned long long hz = (unsigned long long)sysconf(_SC_CLK_TCK);
        return (unsigned long long)ts.tv_sec * hz + (unsigned long long)ts.tv_nsec / (1000000000ULL / hz);
}

static bool same_start(unsigned long long recorded, unsigned long long now) {
        return now == recorded || now == recorded + 1;
}

/* ---- the table of what is live ---- */

static size_t slot_of(enum leftover_kind kind, pid_t id) {
        uint32_t h = (uint32_t)id * 2654435761u ^ (uint32_t)kind * 40503u;
        return (size_t)h & (table_capacity - 1);
}

static struct entry *table_find(enum leftover_kind kind, pid_t id) {
        if (table_capacity == 0)
                return NULL;
        for (size_t i = slot_of(kind, id), n = 0; n < table_capacity; i = (i + 1) & (table_capacity - 1), n++) {
                struct entry *e = &table[i];
                if (e->id == 0)
                        return NULL;
                if (e->id == id && e->kind == kind)
                        return e;
        }
        return NULL;
}

static int table_grow(void) {
        size_t capacity = table_capacity ? table_capacity * 2 : 64;
        if ((table_used + 1) * 2 < table_capacity)
                capacity = table_capacity;  /* full of deleted slots only: rebuilt at the same size */
        struct entry *old = table, *fresh = calloc(capacity, sizeof *fresh);
        size_t old_capacity = table_capacity;
        if (!fresh)
                return -ENOMEM;
        table = fresh;
        table_capacity = capacity;
        table_deleted = 0;
        for (size_t i = 0; i < old_capacity; i++)
                if (old[i].id > 0) {
                        size_t j = slot_of(old[i].kind, old[i].id);
                        while (table[j].id != 0)
                                j = (j + 1) & (table_capacity - 1);
                        table[j] = old[i];
                }
        free(old);
        return 0;
}

/* Returns the entry, new with count 0 when it was not there; NULL without memory. */
static struct entry *table_insert(enum leftover_kind kind, pid_t id) {
        struct entry *e = table_find(kind, id);
        if (e)
                return e;
        if ((table_used + table_deleted + 1) * 4 > table_capacity * 3 && table_grow() < 0)
                return NULL;
        size_t i = slot_of(kind, id);
        while (table[i].id > 0)
                i = (i + 1) & (table_capacity - 1);
        if (table[i].id == DELETED)
                table_deleted--;
        table[i] = (struct entry){ .id = id, .kind = kind };
        table_used++;
        return &table[i];
}

static void table_delete(struct entry *e) {
        *e = (struct entry){ .id = DELETED };
        table_used--;
        table_deleted++;
}

/* ---- reading the record of a previous instance ---- */

/* A line as read, in file order. */
struct line {
        pid_t id;
        enum leftover_kind kind;
        bool live;
        size_t order;
        unsigned long long start;
};

static int compare_lines(const void *a, const void *b) {
        const struct line *x = a, *y = b;
        if (x->kind != y->kind)
                return x->kind < y->kind ? -1 : 1;
        if (x->id != y->id)
                return x->id < y->id ? -1 : 1;
        return x->order < y->order ? -1 : x->order > y->order;
}

/* Everything the record leaves live, sorted by kind and id, into *ret (owned by the
 * caller).  *ret_found: the file exists; *ret_since: the start time of the supervisord
 * that wrote it, 0 if it did not say.  Only a regular file of ours is believed, no link
 * followed: a record someone else wrote would have us kill the processes of their
 * choosing. */
static int read_record(struct line **ret, size_t *ret_n, bool *ret_found, unsigned long long *ret_since) {
        *ret = NULL;
        *ret_n = 0;
        *ret_found = false;
        *ret_since = 0;
        int fd = safe_file_open(record_dir_fd, record_name, O_RDONLY, 0, NULL);
        if (fd == -ENOENT)
                return 0;
        if (fd == -ELOOP || fd == -EFTYPE_SAFE || fd == -EPERM || fd == -EMLINK) {
                log_warning("%s %s: ignoring it", record_path, safe_strerror(fd));
                return 0;
        }
        if (fd < 0)
                return fd;
        FILE *f = fdopen(fd, "re");
        if (!f) {
                int r = -errno;
                close(fd);
                return r;
        }
        *ret_found = true;
        struct line *lines = NULL;
        size_t n = 0, capacity = 0, order = 0;
        char text[128];
        while (fgets(text, sizeof text, f)) {
                long long id;
                unsigned long long start = 0;
                char sign = '+';
                enum leftover_kind kind = LEFTOVER_GROUP;
                const char *p = text;
                if (!strchr(text, '\n'))
                        continue;  /* torn, or too long to be ours */
                if (*p == '=') {
                        if (sscanf(p + 1, "%llu", &start) == 1)
                                *ret_since = start;
                        continue;
                }
                if (*p == '+' || *p == '-')
                        sign = *p++;
                if (*p == 's' || *p == 'p')
                        kind = *p++ == 's' ? LEFTOVER_SESSION : LEFTOVER_PROCESS;
                if (sign == '+' ? sscanf(p, "%lld %llu", &id, &start) != 2 : sscanf(p, "%lld", &id) != 1)
                        continue;
                if (id <= 1 || id > INT32_MAX)
                        continue;
                if (n == capacity) {
                        capacity = capacity ? capacity * 2 : 64;
                        struct line *grown = realloc(lines, capacity * sizeof *grown);
                        if (!grown) {
                                free(lines);
                                fclose(f);
                                return -ENOMEM;
                        }
                        lines = grown;
                }
                lines[n++] = (struct line){ .id = (pid_t)id, .kind = kind, .live = sign == '+', .order = order++,
                                            .start = start };
        }
        fclose(f);
        if (n > 0)
                qsort(lines, n, sizeof *lines, compare_lines);
        size_t kept = 0;
        for (size_t i = 0; i < n; i++) {
                bool last = i + 1 == n || lines[i + 1].id != lines[i].id || lines[i + 1].kind != lines[i].kind;
                if (last && lines[i].live) {
                        /* Whether the number still means what it did: its leader is gone
                         * (the group or session outlives it, unreused), or is the same. */
                        unsigned long long now = process_start_time(lines[i].id);
                        if (now != 0 && lines[i].start != 0 && !same_start(lines[i].start, now))
                                continue;  /* reused by an unrelated process */
                        lines[kept++] = lines[i];
                }
        }
        *ret = lines;
        *ret_n = kept;
        return 0;
}

static bool recorded(const struct line *lines, size_t n, enum leftover_kind kind, pid_t id) {
        size_t lo = 0, hi = n;
        while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                const struct line *m = &lines[mid];
                int c = m->kind != kind ? (m->kind < kind ? -1 : 1) : m->id != id ? (m->id < id ? -1 : 1) : 0;
                if (c == 0)
                        return true;
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return false;
}

/* Does the environment of PID say it is a service of ours (SUPERVISOR_PIDFILE=MARKER)? */
static bool carries_marker(pid_t pid, const char *marker) {
        static char env[64 * 1024];
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/environ", (int)pid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return false;
        ssize_t n = read(fd, env, sizeof env - 1);
        close(fd);
        if (n <= 0)
                return false;
        env[n] = '\0';
        size_t marker_len = strlen(marker);
        for (size_t i = 0; i < (size_t)n; i += strlen(env + i) + 1)
                if (strncmp(env + i, "SUPERVISOR_PIDFILE=", 19) == 0 && strncmp(env + i + 19, marker, marker_len) == 0
                    && env[i + 19 + marker_len] == '\0')
                        return true;
        return false;
}

/* One walk over /proc: SIGKILL to each process the record or the marker names.  Returns
 * how many were killed. */
static int kill_pass(const struct line *lines, size_t n, const char *marker, unsigned long long since) {
        DIR *dir = opendir("/proc");
        if (!dir)
                return 0;
        pid_t self = getpid();
        int killed = 0;
        for (struct dirent *e; (e = readdir(dir));) {
                long pid;
                if (parse_long(e->d_name, 2, INT32_MAX, &pid) < 0 || pid == self)
                        continue;
                char path[64], buf[1024];
                snprintf(path, sizeof path, "/proc/%ld/stat", pid);
                int fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        continue;
                ssize_t len = read(fd, buf, sizeof buf - 1);
                close(fd);
                if (len <= 0)
                        continue;
                buf[len] = '\0';
                const char *p = strrchr(buf, ')');
                char state;
                int ppid, group, session;
                unsigned flags;
                unsigned long long start;
                if (!p
                    || sscanf(p + 2, "%c %d %d %d %*d %*d %u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
                              &state, &ppid, &group, &session, &flags, &start) != 6
                    || state == 'Z' || state == 'X' || (flags & 0x00200000) /* PF_KTHREAD */)
                        continue;
                const char *why = NULL;
                if (recorded(lines, n, LEFTOVER_PROCESS, (pid_t)pid))
                        why = "recorded";
                else if (recorded(lines, n, LEFTOVER_GROUP, group) || recorded(lines, n, LEFTOVER_PROCESS, group))
                        why = "in a recorded process group";
                else if (recorded(lines, n, LEFTOVER_SESSION, session) || recorded(lines, n, LEFTOVER_PROCESS, session))
                        why = "in a recorded session";
                else if (marker && start + 1 >= since && carries_marker((pid_t)pid, marker))
                        why = "a service of this supervisord by its environment";
                if (!why)
                        continue;
                /* Said first: whoever sees it gone finds why in the log. */
                log_warning("killing pid %ld (%s, group %d, session %d) left running by a previous supervisord", pid, why,
                            group, session);
                if (kill((pid_t)pid, SIGKILL) == 0)
                        killed++;
        }
        closedir(dir);
        return killed;
}

static int kill_recorded(const char *marker) {
        struct line *lines;
        size_t n;
        bool found;
        unsigned long long since;
        int r = read_record(&lines, &n, &found, &since);
        if (r < 0)
                return r;
        int killed = 0;
        /* Without a record the last instance exited cleanly: nothing to look for. */
        for (int pass = 0, k; found && pass < 16 && (k = kill_pass(lines, n, marker, since)) > 0; pass++)
                killed += k;
        free(lines);
        return killed;
}

/* ---- writing the record ---- */

/* A new record of ours: whatever had the name is gone first, and O_EXCL makes sure the
 * file written is the one made here. */
static int create_record(const char *name) {
        if (unlinkat(record_dir_fd, name, 0) < 0 && errno != ENOENT)
                return -errno;
        return safe_file_open(record_dir_fd, name, O_WRONLY | O_APPEND | O_CREAT | O_EXCL, 0644, NULL);
}

static void record_append(const char *line, size_t len) {
        if (record_fd < 0)
                return;
        /* One write of a short line to a local file: appended whole, never half. */
        if (write(record_fd, line, len) != (ssize_t)len)
                log_warning_errno(errno ? errno : ENOSPC, "cannot write %s", record_path);
        record_lines++;
        if (record_lines > 2 * table_used + 128 && compact_source)
                sd_event_source_set_enabled(compact_source, SD_EVENT_ONESHOT);
}

static int format_line(char *buf, size_t size, char sign, const struct entry *e) {
        char letter = kind_letter[e->kind];
        if (sign == '+')
                return letter == ' ' ? snprintf(buf, size, "+ %d %llu\n", (int)e->id, e->start)
                                     : snprintf(buf, size, "+%c %d %llu\n", letter, (int)e->id, e->start);
        return letter == ' ' ? snprintf(buf, size, "- %d\n", (int)e->id)
                             : snprintf(buf, size, "-%c %d\n", letter, (int)e->id);
}

/* The record written anew from the live entries, once the log has grown long. */
static int compact_record(sd_event_source *source, void *userdata) {
        (void)source;
        (void)userdata;
        char tmp[NAME_MAX + 1];
        snprintf(tmp, sizeof tmp, "%.250s.new", record_name);
        /* Processes recorded as they were found (strays) go without a word when they
         * exit: those gone are dropped here. */
        for (size_t i = 0; i < table_capacity; i++) {
                struct entry *e = &table[i];
                if (e->id > 0 && e->kind == LEFTOVER_PROCESS && !same_start(e->start, process_start_time(e->id)))
                        table_delete(e);
        }
        int fd = create_record(tmp);
        if (fd < 0) {
                log_warning("cannot write %s.new: %s", record_path, safe_strerror(fd));
                return 0;
        }
        /* Kept open after the rename: it is the record from now on. */
        int keep = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        FILE *f = keep < 0 ? NULL : fdopen(fd, "we");
        if (!f) {
                log_warning_errno(errno, "cannot write %s.new", record_path);
                if (keep >= 0)
                        close(keep);
                close(fd);
                unlinkat(record_dir_fd, tmp, 0);
                return 0;
        }
        fprintf(f, "= %llu\n", own_start);
        size_t lines = 1;
        for (size_t i = 0; i < table_capacity; i++)
                if (table[i].id > 0) {
                        char line[64];
                        format_line(line, sizeof line, '+', &table[i]);
                        fputs(line, f);
                        lines++;
                }
        if (fclose(f) != 0 || renameat(record_dir_fd, tmp, record_dir_fd, record_name) < 0) {
                log_warning_errno(errno, "cannot write %s", record_path);
                close(keep);
                unlinkat(record_dir_fd, tmp, 0);
                return 0;
        }
        if (record_fd >= 0)
                close(record_fd);
        record_fd = keep;
        record_lines = lines;
        return 0;
}

int leftovers_open(sd_event *event, const char *path, const char *marker) {
        char dir[PATH_MAX];
        const char *name;
        enum dir_trust trust;
        int r = safe_path_split(path, dir, sizeof dir, &name);
        if (r < 0)
                return r;
        record_path = strdup(path);
        record_name = strdup(name);
        if (!record_path || !record_name)
                return -ENOMEM;
        /* The pidfile's directory, judged already by pidfile_acquire(). */
        record_dir_fd = safe_directory_open(dir, false, &trust, NULL, 0);
        if (record_dir_fd < 0)
                return record_dir_fd;
        if (trust == DIR_UNSAFE)
                return -EDIRUNSAFE_SAFE;
        int killed = kill_recorded(marker);
        if (killed < 0)
                log_warning_errno(killed, "cannot read %s", path);
        record_fd = create_record(record_name);
        if (record_fd < 0)
                return record_fd;
        own_start = process_start_time(getpid());
        char line[64];
        int len = snprintf(line, sizeof line, "= %llu\n", own_start);
        record_lines = 0;
        record_append(line, (size_t)len);
        r = sd_event_add_defer(event, &compact_source, compact_record, NULL);
        if (r < 0)
                return r;
        /* After the reaping and timers of a pass. */
        sd_event_source_set_priority(compact_source, SD_EVENT_PRIORITY_IDLE);
        sd_event_source_set_enabled(compact_source, SD_EVENT_OFF);
        return killed < 0 ? 0 : killed;
}

void leftovers_add(enum leftover_kind kind, pid_t id, unsigned long long start_time) {
        if (id <= 1)
                return;
        struct entry *e = table_insert(kind, id);
        if (!e) {
                log_warning("out of memory recording %c %d for a crash", kind_letter[kind], (int)id);
                return;
        }
        if (e->count++ > 0)
                return;
        e->start = start_time;
        char line[64];
        int n = format_line(line, sizeof line, '+', e);
        record_append(line, (size_t)n);
}

void leftovers_remove(enum leftover_kind kind, pid_t id) {
        struct entry *e = table_find(kind, id);
        if (!e || --e->count > 0)
                return;
        char line[64];
        int n = format_line(line, sizeof line, '-', e);
        table_delete(e);
        record_append(line, (size_t)n);
}

bool leftovers_has(enum leftover_kind kind, pid_t id) { return table_find(kind, id) != NULL; }

void leftovers_close(void) {
        compact_source = sd_event_source_disable_unref(compact_source);
        if (record_fd >= 0)
                close(record_fd);
        record_fd = -1;
        if (record_dir_fd >= 0 && record_name)
                unlinkat(record_dir_fd, record_name, 0);
        if (record_dir_fd >= 0)
                close(record_dir_fd);
        record_dir_fd = -1;
        free(record_path);
        record_path = NULL;
        free(record_name);
        record_name = NULL;
        free(table);
        table = NULL;
        table_capacity = table_used = table_deleted = 0;
}
