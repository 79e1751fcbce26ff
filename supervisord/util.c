/* util.c — see util.h. */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>

static const struct {
        int number;
        const char *name;
} signal_table[] = {
        { SIGHUP, "HUP" },   { SIGINT, "INT" },   { SIGQUIT, "QUIT" }, { SIGILL, "ILL" },
        { SIGTRAP, "TRAP" }, { SIGABRT, "ABRT" }, { SIGBUS, "BUS" },   { SIGFPE, "FPE" },
        { SIGKILL, "KILL" }, { SIGUSR1, "USR1" }, { SIGSEGV, "SEGV" }, { SIGUSR2, "USR2" },
        { SIGPIPE, "PIPE" }, { SIGALRM, "ALRM" }, { SIGTERM, "TERM" }, { SIGSTKFLT, "STKFLT" },
        { SIGCHLD, "CHLD" }, { SIGCONT, "CONT" }, { SIGSTOP, "STOP" }, { SIGTSTP, "TSTP" },
        { SIGTTIN, "TTIN" }, { SIGTTOU, "TTOU" }, { SIGURG, "URG" },   { SIGXCPU, "XCPU" },
        { SIGXFSZ, "XFSZ" }, { SIGVTALRM, "VTALRM" }, { SIGPROF, "PROF" }, { SIGWINCH, "WINCH" },
        { SIGIO, "IO" },     { SIGPWR, "PWR" },   { SIGSYS, "SYS" },
};

int signal_from_name(const char *name) {
        if (!name || !*name)
                return -EINVAL;
        if (isdigit((unsigned char)name[0])) {
                long n;
                if (parse_long(name, 1, 64, &n) < 0)
                        return -EINVAL;
                return (int)n;
        }
        if (strncasecmp(name, "SIG", 3) == 0)
                name += 3;
        for (size_t i = 0; i < ELEMENTSOF(signal_table); i++)
                if (strcasecmp(signal_table[i].name, name) == 0)
                        return signal_table[i].number;
        return -EINVAL;
}

const char *signal_name(int sig) {
        for (size_t i = 0; i < ELEMENTSOF(signal_table); i++)
                if (signal_table[i].number == sig)
                        return signal_table[i].name;
        return NULL;
}

usec_t now_realtime(void) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (usec_t)ts.tv_sec * USEC_PER_SEC + (usec_t)ts.tv_nsec / 1000;
}

usec_t now_monotonic(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (usec_t)ts.tv_sec * USEC_PER_SEC + (usec_t)ts.tv_nsec / 1000;
}

int parse_mode(const char *text, mode_t *ret) {
        if (!text || !*text || strlen(text) > 5)
                return -EINVAL;
        mode_t mode = 0;
        for (const char *p = text; *p; p++) {
                if (*p < '0' || *p > '7')
                        return -EINVAL;
                mode = mode * 8 + (mode_t)(*p - '0');
        }
        if (mode > 07777)
                return -EINVAL;
        *ret = mode;
        return 0;
}

int parse_long(const char *text, long min, long max, long *ret) {
        if (!text || !*text || isspace((unsigned char)text[0]))
                return -EINVAL;
        char *end;
        errno = 0;
        long n = strtol(text, &end, 10);
        if (errno != 0 || *end != '\0')
                return -EINVAL;
        if (n < min || n > max)
                return -ERANGE;
        *ret = n;
        return 0;
}

int seconds_to_usec(double seconds, usec_t *ret) {
        /* A year is far beyond any sensible timeout and keeps the sums below from overflowing. */
        if (isnan(seconds) || seconds < 0 || seconds > 366.0 * 24 * 3600)
                return -ERANGE;
        *ret = (usec_t)(seconds * (double)USEC_PER_SEC + 0.5);
        return 0;
}

bool service_name_is_valid(const char *name) {
        size_t n = 0;
        for (const char *p = name; *p; p++, n++)
                if (!isalnum((unsigned char)*p) && *p != '_' && *p != '.' && *p != '-')
                        return false;
        return n >= 1 && n <= SERVICE_NAME_MAX;
}

bool process_name_is_valid(const char *name) {
        const char *at = strchr(name, '@');
        if (!at)
                return service_name_is_valid(name);
        size_t len = (size_t)(at - name);
        char service[SERVICE_NAME_MAX + 1];
        if (len == 0 || len > SERVICE_NAME_MAX)
                return false;
        memcpy(service, name, len);
        service[len] = '\0';
        long index;
        return service_name_is_valid(service) && isdigit((unsigned char)at[1]) && parse_long(at + 1, 0, 99999, &index) == 0;
}

void format_uptime(char *buf, size_t size, uint64_t seconds) {
        snprintf(buf, size, "%llu:%02u:%02u", (unsigned long long)(seconds / 3600),
                 (unsigned)(seconds / 60 % 60), (unsigned)(seconds % 60));
}

int fd_set_nonblocking(int fd) {
        int flags = fcntl(fd, F_GETFL);
        if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
                return -errno;
        return 0;
}

static const char *const level_names[] = {
        [LOG_ERR] = "error",   [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
        [LOG_INFO] = "info",   [LOG_DEBUG] = "debug",
};

int log_level_from_string(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(level_names); i++)
                if (level_names[i] && strcmp(level_names[i], name) == 0)
                        return (int)i;
        return -EINVAL;
}

const char *log_level_name(int priority) {
        return priority >= 0 && priority < (int)ELEMENTSOF(level_names) && level_names[priority] ? level_names[priority]
                                                                                                 : "log";
}
