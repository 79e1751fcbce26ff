/* leftovers.h — what a killed supervisord leaves behind, and cleaning it up.
 *
 * Direct children die with supervisord (PR_SET_PDEATHSIG in spawn.c).  Their process
 * groups — grandchildren, double-forked daemons — are recorded in a file next to the
 * pidfile (PIDFILE.groups), a line appended as each group appears or goes; a supervisord
 * that starts and finds the file kills every group still alive from it before starting
 * anything, so a crash never leads to a service running twice. */
#pragma once

#include <sys/types.h>
#include <systemd/sd-event.h>

/* Kill what a previous instance recorded in PATH and left alive; then start recording
 * there (the path is copied).  Returns the number of groups killed, or a negative errno. */
int leftovers_open(sd_event *event, const char *path);
/* Process group GROUP, whose leader started at START_TIME (process_start_time() units),
 * exists now; ... is gone. */
void leftovers_group_added(pid_t group, unsigned long long start_time);
void leftovers_group_removed(pid_t group);
/* Clean exit: nothing is left, remove the record. */
void leftovers_close(void);

/* Start time of PID in clock ticks since boot (field 22 of /proc/PID/stat), 0 if gone. */
unsigned long long process_start_time(pid_t pid);
/* The start time, in the same units, of a process forked right after this call: it
 * is this or one tick more, which is all the record's comparison asks. */
unsigned long long start_time_now(void);
