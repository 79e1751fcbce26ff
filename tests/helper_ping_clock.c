/* helper_ping_clock.c — a heartbeat service for the tests that look at when pings come:
 * it reads pings on fd 3 (blocking, as a shell would) and, for each, prints
 * "ping SEQ MONOTONIC_USEC" on stdout (the service log), waits DELAY_MS (argv[1], default
 * 0, plus argv[2] ms for each step of SUPERVISOR_INSTANCE) and answers "PONG SEQ" on
 * fd 4.  CLOCK_MONOTONIC is the clock supervisord schedules
 * pings on, so the tests can compare the times with the interval's multiples.  It exits
 * when the ping pipe closes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static unsigned long long monotonic_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (unsigned long long)ts.tv_sec * 1000000 + (unsigned long long)ts.tv_nsec / 1000;
}

int main(int argc, char **argv) {
        long delay_ms = argc > 1 ? atol(argv[1]) : 0;
        const char *instance = getenv("SUPERVISOR_INSTANCE");
        if (argc > 2 && instance)
                delay_ms += atol(argv[2]) * atol(instance);
        FILE *pings = fdopen(3, "r");
        char line[64];
        if (!pings)
                return 1;
        while (fgets(line, sizeof line, pings)) {
                unsigned long long at = monotonic_usec(), seq;
                if (sscanf(line, "PING %llu", &seq) != 1)
                        continue;
                dprintf(1, "ping %llu %llu\n", seq, at);
                if (delay_ms > 0) {
                        struct timespec pause = { delay_ms / 1000, (delay_ms % 1000) * 1000000 };
                        nanosleep(&pause, NULL);
                }
                dprintf(4, "PONG %llu\n", seq);
        }
        return 0;
}
