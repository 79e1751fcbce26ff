/* spare.h — one file descriptor held back for the moments when there is no other.
 *
 * Out of descriptors (RLIMIT_NOFILE, or the system's file table), supervisord must still
 * be able to do the few things that get it out: read its config on reload, and tell a
 * client that it cannot be served rather than leave it waiting.  The spare is /dev/null,
 * opened at start-up; whoever needs a descriptor now gives the spare up just before its
 * own open(), which then gets the slot, and takes it back right after.  Safe to call
 * from any thread (the config loader's gives it up for its own opens). */
#pragma once

#include <stdbool.h>

/* Open the spare (again, if it was given up and not yet taken back); false if it cannot
 * be had now. */
bool spare_take(void);
/* Close the spare, so that the very next open() cannot fail for want of a descriptor;
 * false if there was none to give up. */
bool spare_give_up(void);
/* At exit. */
void spare_close(void);
