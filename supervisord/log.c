/* log.c — see log.h.  Messages are formatted once into a bounded buffer so that a
 * message is written with a single write(2) and never interleaves with a child's output. */
#include "log.h"
#include "mainlog.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The location would always be this file: leave CODE_FILE= and CODE_LINE= out. */
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

static enum log_target log_target = LOG_TARGET_STDERR;
static int log_level = LOG_INFO;

/* Where sd_journal_send() delivers.  It reports success when the socket is missing
 * (journald not running), so that case is checked here, once. */
#define JOURNAL_SOCKET "/run/systemd/journal/socket"

void log_open(enum log_target target) {
        log_target = target;
        if (target == LOG_TARGET_SYSLOG)
                openlog("supervisord", LOG_PID | LOG_NDELAY, LOG_DAEMON);
        if (target == LOG_TARGET_JOURNAL && access(JOURNAL_SOCKET, W_OK) < 0) {
                log_target = LOG_TARGET_STDERR;
                log_warning("no journal to log to (%s: %s): logging to stderr", JOURNAL_SOCKET, strerror(errno));
        }
}

/* systemd sets JOURNAL_STREAM=DEVICE:INODE for a service whose stdout or stderr is a
 * stream to journald.  The variable is inherited by anything started from there, so
 * only a match with fd 2 itself says our stderr still goes to the journal. */
static bool stderr_is_journal(void) {
        const char *stream = getenv("JOURNAL_STREAM");
        unsigned long long device, inode;
        struct stat st;
        if (!stream || sscanf(stream, "%llu:%llu", &device, &inode) != 2 || fstat(STDERR_FILENO, &st) < 0)
                return false;
        return (unsigned long long)st.st_dev == device && (unsigned long long)st.st_ino == inode;
}

enum log_target log_target_auto(bool foreground) {
        if (stderr_is_journal())
                return LOG_TARGET_JOURNAL;
        return foreground ? LOG_TARGET_STDERR : LOG_TARGET_SYSLOG;
}

void log_set_level(int priority) { log_level = priority; }
int log_get_level(void) { return log_level; }

static void write_stderr(int priority, const char *text) {
        char line[2048];
        struct timespec now;
        struct tm tm;
        clock_gettime(CLOCK_REALTIME, &now);
        localtime_r(&now.tv_sec, &tm);
        int n = (int)strftime(line, sizeof line, "%Y-%m-%d %H:%M:%S", &tm);
        int m = snprintf(line + n, sizeof line - (size_t)n, ".%03ld supervisord[%d] %s: %s",
                         now.tv_nsec / 1000000, (int)getpid(), log_level_name(priority), text);
        size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
        if (len > sizeof line - 2)
                len = sizeof line - 2;
        line[len++] = '\n';
        /* Best effort: a full or closed stderr must not stop supervision. */
        ssize_t unused = write(STDERR_FILENO, line, len);
        (void)unused;
}

/* One datagram to journald with the fields a reader filters on.  Like every journal
 * client this waits while journald's socket queue is full, which it keeps from
 * happening by reading at once (systemd also raises net.unix.max_dgram_qlen to 512). */
static int write_journal(int priority, const char *service, const char *text) {
        return sd_journal_send("MESSAGE=%s", text, "PRIORITY=%d", priority, "SYSLOG_IDENTIFIER=supervisord",
                               service ? "SERVICE=%s" : NULL, service, NULL);
}

/* Every message goes through here: SERVICE is the service it is about, or NULL. */
static void __attribute__((format(printf, 3, 0)))
log_write(int priority, const char *service, const char *format, va_list ap) {
        if (priority > log_level)
                return;
        int saved_errno = errno;
        char text[1900];
        int n = service ? snprintf(text, sizeof text, "%s: ", service) : 0;
        if (n < 0 || (size_t)n >= sizeof text)
                n = 0;
        vsnprintf(text + n, sizeof text - (size_t)n, format, ap);
        mainlog_write(priority, text);
        switch (log_target) {
        case LOG_TARGET_NONE:
                break;
        case LOG_TARGET_SYSLOG:
                syslog(priority, "%s", text);
                break;
        case LOG_TARGET_JOURNAL:
                /* journald gone (stopped, restarting): say it somewhere. */
                if (write_journal(priority, service, text) >= 0)
                        break;
                /* fall through */
        default:
                write_stderr(priority, text);
                break;
        }
        errno = saved_errno;
}

void log_messagev(int priority, const char *format, va_list ap) {
        log_write(priority, NULL, format, ap);
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

void log_service(int priority, const char *name, const char *format, ...) {
        va_list ap;
        va_start(ap, format);
        log_write(priority, name, format, ap);
        va_end(ap);
}
