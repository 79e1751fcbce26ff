/* names.h — supervisord's names for processes, and what a name addresses.
 *
 * A process belongs to one group and has a name in it; supervisorctl prints it as
 * GROUP:NAME, or as NAME alone when the two are the same (a lone program).  A request
 * names processes as
 *   all          every process
 *   GROUP:NAME   the process NAME of group GROUP
 *   GROUP:*      every process of GROUP (also written GROUP:)
 *   NAME         the process named NAME (process names are unique: supervisord's lone
 *                program db, web@2, worker_03); else every process of group NAME (web
 *                for web@0 … web@N-1); else every process of the service NAME (its
 *                instances, when its group is another)
 * Pure functions over a list of (group, name) pairs, so that the daemon's front-ends and
 * the client judge names and suggest close ones alike. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

/* Longest text of a name as a request gives it: GROUP:NAME. */
#define NAME_SPEC_MAX (2 * SERVICE_NAME_MAX + 16)

struct process_name {
        const char *group;
        const char *name;
        const char *service;  /* the native service it is an instance of, NULL: NAME */
};

/* Is TEXT shaped as one of the forms above (it may still name nothing)? */
bool name_spec_is_valid(const char *text);

/* Mark in MATCHED (N entries, not cleared first) every process of LIST[0, N) that SPEC
 * addresses; returns how many it addresses.  "all" is the caller's to handle. */
size_t names_match(const char *spec, const struct process_name *list, size_t n, bool *matched);

/* Up to MAX known names closest to SPEC by edit distance (processes as GROUP:NAME or NAME,
 * groups as GROUP:*), close enough to be a typo of it: written into BUF as "a, b", ""
 * when none is.  Returns how many. */
size_t names_suggest(const char *spec, const struct process_name *list, size_t n, size_t max, char *buf,
                     size_t size);

/* The name shown for P: "NAME" when the name is its group's own (db in db, web@2 in web:
 * the native names), else supervisord's "GROUP:NAME" (x:a, worker:worker_03). */
void name_format(const struct process_name *p, char *buf, size_t size);
