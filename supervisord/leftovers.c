/* leftovers.c — see leftovers.h.
 *
 * The record is one line per group, "PGID STARTTIME", where STARTTIME is the group
 * leader's start time when it was recorded.  A pgid cannot be reused as a pid while the
 * group has members, so a live group whose leader is gone is still the one we recorded;
 * a live leader with another start time is a new process that happens to have the old
 * number, and is left alone.  A start time taken by the clock just before the spawn
 * (start_time_now) can be one tick early, so one tick of difference still matches: a
 * pid cannot come round again within 1/CLK_TCK seconds. */
#include "leftovers.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "service.h"

static char *record_path;             /* owned */
static sd_event_source *write_source; /* owned: deferred rewrite */

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

static int kill_recorded(const char *path) {
        FILE *f = fopen(path, "re");
        if (!f)
                return errno == ENOENT ? 0 : -errno;
        int killed = 0;
        long long group;
        unsigned long long start;
        while (fscanf(f, "%lld %llu", &group, &start) == 2) {
                if (group <= 1 || group > INT32_MAX || (pid_t)group == getpid())
                        continue;
                pid_t pgid = (pid_t)group;
                if (kill(-pgid, 0) < 0)
                        continue;  /* gone */
                unsigned long long now = process_start_time(pgid);
                if (now != 0 && start != 0 && !same_start(start, now))
                        continue;  /* the number was reused by an unrelated leader */
                log_warning("killing process group %d left running by a previous supervisord", (int)pgid);
                if (kill(-pgid, SIGKILL) == 0)
                        killed++;
        }
        fclose(f);
        return killed;
}

static int write_record(sd_event_source *source, void *userdata) {
        (void)source;
        (void)userdata;
        char tmp[4096];
        snprintf(tmp, sizeof tmp, "%s.new", record_path);
        FILE *f = fopen(tmp, "we");
        if (!f) {
                log_warning_errno(errno, "cannot write %s", tmp);
                return 0;
        }
        for (size_t i = 0; i < services_count(); i++) {
                const struct service *service = services_get(i);
                pid_t group = service_process_group(service);
                if (group > 0)
                        fprintf(f, "%d %llu\n", (int)group, service_process_group_start_time(service));
        }
        /* rename() makes the switch atomic: a crash never leaves half a record. */
        if (fclose(f) != 0 || rename(tmp, record_path) < 0) {
                log_warning_errno(errno, "cannot write %s", record_path);
                unlink(tmp);
        }
        return 0;
}

int leftovers_open(sd_event *event, const char *path) {
        record_path = strdup(path);
        if (!record_path)
                return -ENOMEM;
        int killed = kill_recorded(path);
        if (killed < 0)
                log_warning_errno(killed, "cannot read %s", path);
        unlink(path);
        int r = sd_event_add_defer(event, &write_source, write_record, NULL);
        if (r < 0)
                return r;
        /* After the reaping and timers of a pass, so one rewrite covers all its changes. */
        sd_event_source_set_priority(write_source, SD_EVENT_PRIORITY_IDLE);
        sd_event_source_set_enabled(write_source, SD_EVENT_OFF);
        return killed < 0 ? 0 : killed;
}

void leftovers_changed(void) {
        if (write_source)
                sd_event_source_set_enabled(write_source, SD_EVENT_ONESHOT);
}

void leftovers_close(void) {
        write_source = sd_event_source_disable_unref(write_source);
        if (record_path)
                unlink(record_path);
        free(record_path);
        record_path = NULL;
}
