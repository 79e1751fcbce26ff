/* loader.h — the config loaded off the loop: a reload's load runs on a thread of its own,
 * so that supervision goes on while it waits for NSS (getpwnam, getgrouplist on LDAP), a
 * slow file system or a file that is a FIFO, and its result is handed back on the loop.
 *
 * One load at a time (libconfuse's lexer has state of its own), in the order asked.  The
 * load function must touch no state of the loop: config_load (config.c, model.c) keeps
 * everything in its own context and uses the reentrant look-ups. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <systemd/sd-event.h>

#include "config.h"

struct config_loader;
struct config_load;  /* one request: owned by the loader until done or cancelled */

typedef int (*config_load_fn)(const char *path, struct config **ret, char *error, size_t error_size);
/* On the loop: CONFIG (the callee's), or NULL with the reason in ERROR ("FILE:LINE: ..."). */
typedef void (*config_loaded_fn)(struct config *config, const char *error, void *userdata);

int config_loader_new(sd_event *event, const char *path, config_load_fn load, struct config_loader **ret);
/* A load still running is abandoned: its thread frees what it made when it returns. */
struct config_loader *config_loader_free(struct config_loader *loader);

/* Load the config at the loader's path once the loads asked before are done; DONE is
 * called on the loop, never before this returns.  *ret (may be NULL) is the request,
 * valid until DONE is called or it is cancelled. */
int config_loader_load(struct config_loader *loader, config_loaded_fn done, void *userdata, struct config_load **ret);
/* Has it begun to read the file?  A request that has not can still take in one more
 * asker: whatever the file says when it begins holds for both. */
bool config_load_started(const struct config_load *load);
/* DONE will not be called; a load under way goes on and its result is dropped. */
void config_load_cancel(struct config_load *load);
/* Cancel every request whose userdata is USERDATA. */
void config_loader_forget(struct config_loader *loader, void *userdata);
