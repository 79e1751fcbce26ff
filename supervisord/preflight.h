/* preflight.h — what `supervisord -t` checks beyond the file, without starting or creating
 * anything: that each command exists and its service's user can execute it, that each
 * directory can be entered, that user and group switches can work, that log-dir can be
 * created and written, and that the socket's and pidfile's directories are there.
 * Errors are what cannot work; warnings what may not. */
#pragma once

#include <stdio.h>

#include "config.h"

/* Check CONFIG as supervisord would run it as the current user, writing one
 * "FILE:LINE: message" (or "FILE:LINE: warning: message") line per finding to OUT.
 * Returns the number of errors (warnings are not counted). */
unsigned preflight_check(const struct config *config, FILE *out);
