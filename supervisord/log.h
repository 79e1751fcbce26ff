/* log.h — supervisord's own messages.
 *
 * One call site API for every destination: stderr in the foreground, syslog once
 * daemonized, the journal (with PRIORITY= and, for messages about a service, SERVICE=)
 * when stderr is connected to it or the config asks for it.  Every message below the
 * configured level is dropped before formatting.  Whatever the target, every message
 * also goes to the main log file when one is open (mainlog.h).
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <syslog.h>

enum log_target {
        LOG_TARGET_STDERR,
        LOG_TARGET_SYSLOG,
        LOG_TARGET_JOURNAL,  /* sd_journal_send; stderr if the journal cannot be reached */
        LOG_TARGET_AUTO,     /* config only: resolved by log_target_auto() */
        LOG_TARGET_NONE,     /* the main log file alone (mainlog.h), which every target gets too */
};

void log_open(enum log_target target);
/* What `log-target = auto` means here: the journal when stderr is connected to it
 * (JOURNAL_STREAM names fd 2's device and inode), else stderr in the foreground and
 * syslog in daemon mode.  Call it before daemonizing: that replaces stderr. */
enum log_target log_target_auto(bool foreground);
void log_set_level(int priority);  /* a syslog priority: LOG_ERR … LOG_DEBUG */
int log_get_level(void);

void log_message(int priority, const char *format, ...) __attribute__((format(printf, 2, 3)));
void log_messagev(int priority, const char *format, va_list ap) __attribute__((format(printf, 2, 0)));

/* Log "message: strerror(-err)" and return err (negative), so that
 * `return log_error_errno(r, "...")` reads as one step. */
int log_errno(int priority, int err, const char *format, ...) __attribute__((format(printf, 3, 4)));

/* A message about service NAME ("web", "web@2"): written as "NAME: message", and in the
 * journal also with SERVICE=NAME, so that `journalctl SERVICE=web` finds them all. */
void log_service(int priority, const char *name, const char *format, ...) __attribute__((format(printf, 3, 4)));

#define log_error(...)   log_message(LOG_ERR, __VA_ARGS__)
#define log_warning(...) log_message(LOG_WARNING, __VA_ARGS__)
#define log_notice(...)  log_message(LOG_NOTICE, __VA_ARGS__)
#define log_info(...)    log_message(LOG_INFO, __VA_ARGS__)
#define log_debug(...)   log_message(LOG_DEBUG, __VA_ARGS__)
#define log_error_errno(err, ...)   log_errno(LOG_ERR, (err), __VA_ARGS__)
#define log_warning_errno(err, ...) log_errno(LOG_WARNING, (err), __VA_ARGS__)
