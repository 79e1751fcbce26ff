/* ini_config.h — supervisord 4.2.5's INI configuration as a front-end of the config model:
 * which files are INI, where supervisord looks for its file when given none, and the
 * socket a client finds in one.  ini.c reads the syntax; this module gives it meaning. */
#pragma once

#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>

/* Is TEXT (SIZE bytes) in supervisord's INI form rather than the native one?  Yes when
 * its first line that is neither blank nor a '#' comment begins with '[' or ';': a native
 * file cannot (libconfuse has no sections in brackets and no ';' comments), and every
 * INI file that holds anything has a section header before its first key. */
bool ini_config_sniff(const char *text, size_t size);
/* ... of the file at PATH: 1 INI, 0 native (or unreadable: config_load says why; or not
 * a regular file, such as a FIFO, which is not read here so that its reader gets it all). */
int ini_config_sniff_file(const char *path);

/* The config file to read when none is given, in supervisord's order, the first that
 * exists: ../etc/supervisord.conf and ../supervisord.conf beside the program ARGV0 (as
 * Python takes the directory of the directory of sys.argv[0]), ./supervisord.conf,
 * ./etc/supervisord.conf, /etc/supervisord.conf, /etc/supervisor/supervisord.conf; when
 * none exists, /etc/supervisord.conf, the native default, so that the message names it.
 * A malloc'd path, NULL when out of memory. */
char *ini_config_search(const char *argv0);

/* The control socket a client of the INI config at PATH uses, read as Python's
 * supervisorctl reads it and without judging the rest of the file: `serverurl` of
 * [supervisorctl] (with %(here)s and %(ENV_X)s expanded), its path when it is unix://PATH;
 * without a serverurl, `file` of [unix_http_server], the socket the daemon makes.  1 with
 * a malloc'd absolute path in *ret; 2 with the URL itself in *ret when the serverurl is not
 * unix:// (http://HOST:PORT); 0 with *ret NULL when the file names none; a negative errno
 * with "FILE[:LINE]: message" in error when it cannot be read (a syntax error after the
 * sections that matter does not count). */
int ini_config_peek_socket(const char *path, char **ret, char *error, size_t error_size);
struct config_client;
/* Everything supervisorctl takes from the INI config at PATH, read the same way (see
 * config_peek_client in config.h): [supervisorctl] serverurl (unix:// paths made
 * absolute), username, password, prompt, history_file, else unix://FILE of
 * [unix_http_server]; a line the reader cannot read ends the file there, said in
 * ret->skipped.  1 with a server, 0 without, or a negative errno with the message. */
int ini_config_peek_client(const char *path, struct config_client *ret, char *error, size_t error_size);

/* supervisord's command-line options that set a [supervisord] key (-l logfile, -e
 * loglevel, ...): KEY, its VALUE, and OPTION as the user wrote it ("-l").  They win over
 * the file's, at every load of the process's life (reloads too), as supervisord's do. */
struct ini_option {
        const char *key, *value, *option;
        bool native_too;  /* means something to a native config as well (-n) */
};
/* The options of this process, kept (not copied) until the next call; N 0 for none. */
void ini_config_set_options(const struct ini_option *options, size_t n);
/* The first of them that means nothing to a config in the native form, or NULL. */
const struct ini_option *ini_config_first_option(void);

struct config;
/* Load the INI config at PATH (and its [include] files) onto the config model, with
 * supervisord's meaning and defaults: 0 with the config in *ret; a negative errno with
 * "FILE:LINE: message" in error.  A key supervisord ignores is a warning in
 * config->warnings; a key or section that cannot be honoured here is an error. */
int ini_config_load(const char *path, struct config **ret, char *error, size_t error_size);

/* What ini_config_load() makes of PATH, written to OUT in the native form with where each
 * value came from (`supervisord --print-config`): 0, or a negative errno with the
 * message in ERROR (an INI file that does not load, a name the native form cannot have). */
int ini_config_print(const char *path, FILE *out, char *error, size_t error_size);
