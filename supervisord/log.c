/* log.c — see log.h.  Messages are formatted once into a bounded buffer so that a
 * message is written with a single write(2) and never interleaves with a child's output. */
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static enum log_target log_target = LOG_TARGET_STDERR;
static int log_level = LOG_INFO;

static const char *const level_names[] = {
        [LOG_ERR] = "error",   [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
        [LOG_INFO] = "info",   [LOG_DEBUG] = "debug",
};

void log_open(enum log_target target) {
        log_target = target;
        if (target == LOG_TARGET_SYSLOG)
                openlog("supervisord", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_set_level(int priority) { log_level = priority; }
int log_get_level(void) { return log_level; }

int log_level_from_string(const char *name) {
        for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++)
                if (level_names[i] && strcmp(level_names[i], name) == 0)
                        return (int)i;
        return -EINVAL;
}

void log_messagev(int priority, const char *format, va_list ap) {
        if (priority > log_level)
                return;
        int saved_errno = errno;
        if (log_target == LOG_TARGET_SYSLOG) {
                vsyslog(priority, format, ap);
                errno = saved_errno;
                return;
        }
        char line[2048];
        struct timespec now;
        struct tm tm;
        clock_gettime(CLOCK_REALTIME, &now);
        localtime_r(&now.tv_sec, &tm);
        int n = (int)strftime(line, sizeof line, "%Y-%m-%d %H:%M:%S", &tm);
        n += snprintf(line + n, sizeof line - (size_t)n, ".%03ld supervisord[%d] %s: ",
                      now.tv_nsec / 1000000, (int)getpid(),
                      priority < (int)(sizeof level_names / sizeof level_names[0]) && level_names[priority]
                              ? level_names[priority] : "log");
        int m = vsnprintf(line + n, sizeof line - (size_t)n, format, ap);
        size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
        if (len > sizeof line - 2)
                len = sizeof line - 2;
        line[len++] = '\n';
        /* Best effort: a full or closed stderr must not stop supervision. */
        ssize_t unused = write(STDERR_FILENO, line, len);
        (void)unused;
        errno = saved_errno;
}

void log_message(int priority, const char *format, ...) {
        va_list ap;
        va_start(ap, format);
        log_messagev(priority, format, ap);
        va_end(ap);
}

int log_errno(int priority, int err, const char *format, ...) {
        if (err > 0)
                err = -err;
        if (priority <= log_level) {
                char message[1024];
                va_list ap;
                va_start(ap, format);
                vsnprintf(message, sizeof message, format, ap);
                va_end(ap);
                log_message(priority, "%s: %s", message, strerror(-err));
        }
        return err;
}
