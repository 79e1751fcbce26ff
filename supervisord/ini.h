/* ini.h — supervisord's INI syntax, read the way Python's configparser reads it for
 * supervisord 4.2.5: sections, keys and values, each with the FILE:LINE it was written at,
 * and the %(name)s expansion supervisord applies to values.  Nothing here knows what any
 * section or key means: mapping them onto the config model is the INI reader's job.
 *
 * The rules (configparser's RawConfigParser with inline_comment_prefixes ";" and "#" and
 * strict off, as supervisord sets it up):
 * - a line whose first non-blank character is ";" or "#" is a comment; elsewhere ";" and
 *   "#" start a comment only after a blank;
 * - "[NAME]" opens a section (NAME is everything between the first "[" and the last "]");
 *   a section named again continues the first; [DEFAULT] holds defaults for every section;
 * - "KEY = VALUE" or "KEY: VALUE", split at the first "=" or ":"; keys are lower-cased,
 *   keys and values stripped of blanks; a key written again replaces its value;
 * - a line indented deeper than its key's line continues the value (joined with "\n"),
 *   and so do blank lines between such lines; trailing blank lines are dropped;
 * - "\r\n" and a lone "\r" end lines as "\n" does. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct ini_entry {
        char *key;         /* lower-cased; owned */
        char *value;       /* owned */
        const char *file;  /* where the key was last written: one of the ini_file's paths */
        int line;
};

struct ini_section {
        char *name;        /* owned */
        const char *file;  /* where its first header is */
        int line;
        struct ini_entry *entries;  /* in the order first written; owned */
        size_t n_entries, allocated;
};

struct ini_file {
        char **paths;                  /* every file read, in order; owned */
        size_t n_paths;
        struct ini_section **sections; /* in the order first opened, [DEFAULT] apart; owned */
        size_t n_sections;
        struct ini_section defaults;   /* [DEFAULT] */
};

/* Largest file ini_parse_file() reads. */
#define INI_MAX_FILE_SIZE (16u << 20)

struct ini_file *ini_new(void);
void ini_free(struct ini_file *ini);

/* Add the SIZE bytes of TEXT, read from PATH, to INI: sections already there continue.
 * On failure returns -EINVAL (-ENOMEM) and writes "PATH:LINE: message" into error; what
 * was read before the bad line stays in INI. */
int ini_parse(struct ini_file *ini, const char *path, const char *text, size_t size, char *error,
              size_t error_size);
/* The same for the file at PATH; -errno with "PATH: message" when it cannot be read. */
int ini_parse_file(struct ini_file *ini, const char *path, char *error, size_t error_size);

struct ini_section *ini_find_section(const struct ini_file *ini, const char *name);
/* KEY in SECTION, else in [DEFAULT]; NULL when in neither.  SECTION may be NULL. */
const struct ini_entry *ini_get(const struct ini_file *ini, const struct ini_section *section, const char *key);

/* A name %(NAME)s may expand to: a string, or a number (process_num, numprocs). */
struct ini_expansion {
        const char *name;
        const char *string;  /* NULL: the value is NUMBER */
        long long number;
};

/* TEXT with every %(NAME)FORMAT replaced as Python's `text % mapping` does, and "%%" as
 * "%".  FORMAT is [flags #0- +][width][.precision][h|l|L] then s, d, i, u, x, X or o; a
 * number takes all of them, a string only s.  On failure returns -EINVAL and writes what
 * is wrong (an unknown name, with the names there are; a bad format) into error. */
int ini_expand(const char *text, const struct ini_expansion *expansions, size_t n_expansions, char **ret,
               char *error, size_t error_size);

/* The value syntaxes of supervisord's datatypes that are more than a string. */

/* COMMAND split into words as Python's shlex.split() splits it (POSIX mode, no comments),
 * which is how supervisord turns `command=` into argv: blanks separate words, '...' is
 * literal, in "..." a backslash escapes only '"' and '\\', outside quotes it escapes any
 * character.  *ret is NULL-terminated (no words: just the NULL); the caller frees each
 * word and the array.  -EINVAL with shlex's message ("No closing quotation", "No escaped
 * character") in error. */
int ini_split_command(const char *command, char ***ret, char *error, size_t error_size);

/* `environment=` as supervisord's dict_of_key_value_pairs() reads it: the tokens of
 * Python's shlex.shlex() in its non-POSIX mode (quoted tokens keep their quotes, '#'
 * starts a comment), taken as KEY = VALUE triples each followed by one separating token
 * (normally ','); every quote at either end of VALUE is dropped.  *ret is a
 * NULL-terminated list of "KEY=VALUE", a repeated KEY in the place of its first; the
 * caller frees it.  -EINVAL with supervisord's message in error. */
int ini_parse_environment(const char *text, char ***ret, char *error, size_t error_size);
