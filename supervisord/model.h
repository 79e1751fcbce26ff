/* model.h — the config model apart from any syntax: a builder that takes every global and
 * service setting as text in the native value syntax, with the FILE:LINE it was written
 * at, and makes a struct config (config.h) from it: the defaults, every validation rule,
 * the cross-checks (dependencies and their cycles, settings that exclude each other), the
 * user and group look-ups, and the warnings.  A config reader (config.c for the native
 * syntax) only maps its syntax onto these calls; every message it then shows reads
 * "FILE:LINE: KEY: ..." with the file, line and key name that the reader gave.
 *
 * Loading touches no global state (the look-ups use the reentrant NSS calls), so a
 * builder may run on any thread, one builder per thread.
 *
 * Adding a key: (1) give struct config or struct service_config its field (config.h);
 * (2) add one row to `keys` in model.c, at the place in the order its checks need (a row
 * sees the rows above it already parsed): name, scope, repeatable, default text, parser;
 * (3) compare it in service_config_equal (config.c) if a change must restart the service;
 * (4) document it in supervisord.conf(5).  The native reader then accepts it unchanged. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "config.h"

struct config_builder;
struct config_builder_service;  /* one service section: owned by its builder */

/* A builder for the config whose main file is MAIN_PATH (config->path, and the file of
 * messages about defaults).  NULL when out of memory. */
struct config_builder *config_builder_new(const char *main_path);
void config_builder_free(struct config_builder *b);

/* Which service names the reader allows, and how its messages describe them ("use RULE").
 * The model's own rule (without this call): 1 to 64 bytes of UTF-8 with no whitespace,
 * control character, ':' or '/', which is what supervisord takes as a program name. */
void config_builder_name_rule(struct config_builder *b, bool (*valid)(const char *name), const char *rule);

/* The global setting KEY (its native name) written as VALUE at FILE:LINE (LINE 0: no
 * line), named SHOWN_KEY in messages (NULL: KEY).  0; -ENOENT for a key the model does not
 * have; -EALREADY once config_builder_check has run (it judges the globals once: a reader
 * gives every global before its first check); -ENOMEM.  A key given twice is an error that config_builder_check reports. */
int config_builder_global(struct config_builder *b, const char *key, const char *value, const char *file, int line,
                          const char *shown_key);

/* A service named NAME, begun at FILE:LINE: its handle in *ret.  The name is judged, in
 * order with everything else, by config_builder_check. */
int config_builder_service(struct config_builder *b, const char *name, const char *file, int line,
                           struct config_builder_service **ret);

/* KEY of service SVC, as for config_builder_global.  A repeatable key (after,
 * environment, success-exit-codes) gains one entry per call. */
int config_builder_set(struct config_builder *b, struct config_builder_service *svc, const char *key,
                       const char *value, const char *file, int line, const char *shown_key);
/* A repeatable KEY written with no entry at all: it has none, rather than its default. */
int config_builder_set_empty(struct config_builder *b, struct config_builder_service *svc, const char *key,
                             const char *file, int line, const char *shown_key);

/* Everything given to B, written to OUT in the native form (supervisord.conf(5)), each
 * value with a comment naming where it came from (FILE:LINE and the key as written
 * there): what `supervisord --print-config` prints of a config in another form once it
 * has loaded.  -EINVAL with the reason in ERROR when a service's name cannot be written in
 * the native form; -errno when OUT fails. */
int config_builder_print(const struct config_builder *b, FILE *out, char *error, size_t error_size);

/* A warning of the reader's own, "FILE:LINE: warning: MESSAGE" (LINE 0: "FILE: warning:
 * ..."), kept in config->warnings in the order given. */
int config_builder_warn(struct config_builder *b, const char *file, int line, const char *format, ...)
        __attribute__((format(printf, 4, 5)));

/* Validate what was given since the last call (the globals first, then the services in
 * the order they were begun): 0, or a negative errno with the first problem, "FILE:LINE:
 * message", in ERROR.  A reader calls it after each file so that a problem is reported
 * before a later file is even read; config_builder_finish calls it too. */
int config_builder_check(struct config_builder *b, char *error, size_t error_size);

/* Check the rest, then the cross-checks between services (names defined twice, `after`
 * naming no service, dependency cycles): the config in *ret, the caller's (the builder
 * still to be freed).  On failure a negative errno with the message in ERROR. */
int config_builder_finish(struct config_builder *b, struct config **ret, char *error, size_t error_size);

/* The model's keys, for a reader's tables: the Ith key (NULL past the last) with its
 * scope and whether it repeats. */
const char *config_model_key(size_t i, bool *ret_in_service, bool *ret_repeatable);
/* Is KEY a key of the model, in services (IN_SERVICE) or among the globals? */
bool config_model_has_key(bool in_service, const char *key);
/* The name of the user UID into NAME, for messages (reentrant); -ENOENT when none. */
int config_model_user_name(uid_t uid, char *name, size_t size);
/* The model's name rule (see config_builder_name_rule). */
bool config_model_name_is_valid(const char *name);
