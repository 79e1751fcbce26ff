/* leftovers.h — what a killed supervisord leaves behind, and cleaning it up.
 *
 * Direct children die with supervisord (PR_SET_PDEATHSIG in spawn.c).  What they cannot
 * take along — grandchildren in their process group, forking daemons, children that
 * called setsid — is recorded in a file next to the pidfile (PIDFILE.groups), a line
 * appended as each process group, session or process appears or goes.  A supervisord
 * that starts and finds the file kills, before starting anything, every process still
 * alive in what it names, and every process whose environment says it is a service of
 * this supervisord (SUPERVISOR_PIDFILE, see spawn.c), so a crash never leads to a
 * service running twice.  The cgroup mode (cgroup.h) does the same with cgroups. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

/* What a record line names. */
enum leftover_kind {
        LEFTOVER_GROUP,    /* every member of the process group */
        LEFTOVER_SESSION,  /* every member of the session */
        LEFTOVER_PROCESS,  /* the process, and the group and session it leads */
};

/* Kill what a previous instance recorded in PATH and left alive, and the processes whose
 * SUPERVISOR_PIDFILE is MARKER; then start recording there (both are copied).  Returns
 * the number of processes killed, or a negative errno. */
int leftovers_open(sd_event *event, const char *path, const char *marker);
/* ID (a pgid, sid or pid), whose leader started at START_TIME (process_start_time()
 * units; 0: gone already), exists now; ... is gone.  Added twice, it is gone once removed
 * as often. */
void leftovers_add(enum leftover_kind kind, pid_t id, unsigned long long start_time);
void leftovers_remove(enum leftover_kind kind, pid_t id);
bool leftovers_has(enum leftover_kind kind, pid_t id);
/* Clean exit: nothing is left, remove the record. */
void leftovers_close(void);

/* Start time of PID in clock ticks since boot (field 22 of /proc/PID/stat), 0 if gone. */
unsigned long long process_start_time(pid_t pid);
/* The start time, in the same units, of a process forked right after this call: it
 * is this or one tick more, which is all the record's comparison asks. */
unsigned long long start_time_now(void);
