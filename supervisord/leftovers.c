/* leftovers.c — see leftovers.h.
 *
 * The record is a log of lines, "+ PGID STARTTIME" when a group appears and "- PGID" when
 * it goes, where STARTTIME is the group leader's start time; a group is live in it when
 * its last line is a "+".  (A line "PGID STARTTIME" of the older whole-file format counts
 * as a "+".)  Appending one line per change costs the same with ten services or ten
 * thousand; rewriting the whole set at every restart cost a millisecond at a thousand.
 * When the log has grown to more than twice the live set, it is written anew (to a
 * temporary file, renamed over it: a crash never leaves half a record).  A torn last line
 * is ignored.
 *
 * A pgid cannot be reused as a pid while the group has members, so a live group whose
 * leader is gone is still the one we recorded; a live leader with another start time is a
 * new process that happens to have the old number, and is left alone.  A start time
 * taken by the clock just before the spawn (start_time_now) can be one tick early, so one
 * tick of difference still matches: a pid cannot come round again within 1/CLK_TCK
 * seconds. */
#include "leftovers.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "safepath.h"
#include "service.h"

static char *record_path;             /* owned: for messages */
static char *record_name;             /* owned: its name in record_dir_fd */
static int record_dir_fd = -1;        /* owned: the pidfile's directory (O_PATH) */
static int record_fd = -1;            /* owned: the record, O_APPEND */
static size_t record_lines;           /* in the record now */
static size_t live_groups;            /* "+" lines not undone */
static sd_event_source *compact_source;  /* owned: deferred rewrite */

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

struct entry {
        pid_t group;
        size_t order;          /* line number: the last line of a group decides */
        bool live;
        unsigned long long start;
};

static int compare_entries(const void *a, const void *b) {
        const struct entry *x = a, *y = b;
        if (x->group != y->group)
                return x->group < y->group ? -1 : 1;
        return x->order < y->order ? -1 : x->order > y->order;
}

/* Every group the record leaves live, sorted by group, into *ret (owned by the caller).
 * Only a regular file of ours is believed, no link followed: a record someone else wrote
 * would have us kill the process groups of their choosing. */
static int read_record(struct entry **ret, size_t *ret_n) {
        *ret = NULL;
        *ret_n = 0;
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
        struct entry *entries = NULL;
        size_t n = 0, capacity = 0, order = 0;
        char line[128];
        while (fgets(line, sizeof line, f)) {
                long long group;
                unsigned long long start = 0;
                char sign = '+';
                const char *p = line;
                if (*p == '+' || *p == '-')
                        sign = *p++;
                if (!strchr(line, '\n'))
                        continue;  /* torn, or too long to be ours */
                if (sign == '+' ? sscanf(p, "%lld %llu", &group, &start) != 2 : sscanf(p, "%lld", &group) != 1)
                        continue;
                if (group <= 1 || group > INT32_MAX)
                        continue;
                if (n == capacity) {
                        capacity = capacity ? capacity * 2 : 64;
                        struct entry *grown = realloc(entries, capacity * sizeof *grown);
                        if (!grown) {
                                free(entries);
                                fclose(f);
                                return -ENOMEM;
                        }
                        entries = grown;
                }
                entries[n++] = (struct entry){ .group = (pid_t)group, .order = order++, .live = sign == '+',
                                               .start = start };
        }
        fclose(f);
        if (n > 0)
                qsort(entries, n, sizeof *entries, compare_entries);
        size_t kept = 0;
        for (size_t i = 0; i < n; i++)
                if ((i + 1 == n || entries[i + 1].group != entries[i].group) && entries[i].live)
                        entries[kept++] = entries[i];
        *ret = entries;
        *ret_n = kept;
        return 0;
}

static int kill_recorded(void) {
        struct entry *entries;
        size_t n;
        int r = read_record(&entries, &n);
        if (r < 0)
                return r;
        int killed = 0;
        for (size_t i = 0; i < n; i++) {
                pid_t pgid = entries[i].group;
                if (pgid == getpid() || kill(-pgid, 0) < 0)
                        continue;  /* gone */
                unsigned long long now = process_start_time(pgid);
                if (now != 0 && entries[i].start != 0 && !same_start(entries[i].start, now))
                        continue;  /* the number was reused by an unrelated leader */
                log_warning("killing process group %d left running by a previous supervisord", (int)pgid);
                if (kill(-pgid, SIGKILL) == 0)
                        killed++;
        }
        free(entries);
        return killed;
}

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
        if (record_lines > 2 * live_groups + 128 && compact_source)
                sd_event_source_set_enabled(compact_source, SD_EVENT_ONESHOT);
}

/* The record written anew from the live groups, once the log has grown long. */
static int compact_record(sd_event_source *source, void *userdata) {
        (void)source;
        (void)userdata;
        char tmp[NAME_MAX + 1];
        snprintf(tmp, sizeof tmp, "%.250s.new", record_name);
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
        size_t lines = 0;
        for (size_t i = 0; i < services_count(); i++) {
                const struct service *service = services_get(i);
                pid_t group = service_process_group(service);
                if (group > 0) {
                        fprintf(f, "+ %d %llu\n", (int)group, service_process_group_start_time(service));
                        lines++;
                }
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
        live_groups = lines;
        return 0;
}

int leftovers_open(sd_event *event, const char *path) {
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
        int killed = kill_recorded();
        if (killed < 0)
                log_warning_errno(killed, "cannot read %s", path);
        record_fd = create_record(record_name);
        if (record_fd < 0)
                return record_fd;
        record_lines = live_groups = 0;
        r = sd_event_add_defer(event, &compact_source, compact_record, NULL);
        if (r < 0)
                return r;
        /* After the reaping and timers of a pass. */
        sd_event_source_set_priority(compact_source, SD_EVENT_PRIORITY_IDLE);
        sd_event_source_set_enabled(compact_source, SD_EVENT_OFF);
        return killed < 0 ? 0 : killed;
}

void leftovers_group_added(pid_t group, unsigned long long start_time) {
        char line[64];
        int n = snprintf(line, sizeof line, "+ %d %llu\n", (int)group, start_time);
        live_groups++;
        record_append(line, (size_t)n);
}

void leftovers_group_removed(pid_t group) {
        char line[32];
        int n = snprintf(line, sizeof line, "- %d\n", (int)group);
        if (live_groups > 0)
                live_groups--;
        record_append(line, (size_t)n);
}

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
}
