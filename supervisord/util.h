/* util.h — small pure helpers shared by the daemon and supervisorctl: signal names,
 * clocks, number parsing, durations.  Nothing here allocates or keeps state. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef uint64_t usec_t;
#define USEC_PER_SEC ((usec_t)1000000)
#define USEC_PER_MSEC ((usec_t)1000)

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

/* "TERM", "SIGTERM", "term" or a number 1..64 → the signal number; -EINVAL otherwise. */
int signal_from_name(const char *name);
/* The name without "SIG" ("TERM"), or NULL for a number without a name. */
const char *signal_name(int sig);

usec_t now_monotonic(void);
/* The wall clock (CLOCK_REALTIME), for times shown to people and clients. */
usec_t now_realtime(void);

/* An octal permission string such as "0600" or "022" (no more than 07777). */
int parse_mode(const char *text, mode_t *ret);
/* A decimal integer within [min, max], the whole string. */
int parse_long(const char *text, long min, long max, long *ret);
/* Seconds given as a double → microseconds; rejects negatives, NaN and absurd values. */
int seconds_to_usec(double seconds, usec_t *ret);

/* Service names match [A-Za-z0-9_.-]{1,64}. */
bool service_name_is_valid(const char *name);
#define SERVICE_NAME_MAX 64
/* A service name, or the name of one of its instances: NAME@K with K in 0..99999. */
bool process_name_is_valid(const char *name);

/* "H:MM:SS" for a duration in seconds. */
void format_uptime(char *buf, size_t size, uint64_t seconds);

int fd_set_nonblocking(int fd);

/* syslog priorities as the config spells them: "error", "warning", "notice", "info",
 * "debug"; -EINVAL for another name, "log" for another priority. */
int log_level_from_string(const char *name);
const char *log_level_name(int priority);
