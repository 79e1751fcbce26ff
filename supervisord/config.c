/* config.c — see config.h.
 *
 * libconfuse does the parsing, but it reports the line of the token *after* a bad value
 * and silently keeps the last of two settings of one key.  So every value is declared as a
 * string and validated here, and a small scanner (config_scan) records where each key of
 * each section was written: messages point at the exact line, and a key set twice or a
 * section left open is an error instead of a surprise. */
#include "config.h"

#include <confuse.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <malloc.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmdline.h"
#include "log.h"

/* ---- where keys were written ------------------------------------------------------ */

struct key_position {
        char *section;  /* service title, NULL for global keys */
        char *key;
        int line;
        int file;       /* in load_context.sections: the index of the file */
};

struct scan {
        const char *file;
        struct key_position *keys;  /* owned, with capacity entries */
        size_t n_keys, capacity;
        size_t *slots;              /* owned: open-addressing index, key index + 1 or 0 */
        size_t n_slots;             /* a power of two, at least twice n_keys */
        char *error;                /* owned: the first problem found, or NULL */
        int error_line;             /* where it was found */
        /* The first string with a line break in it that holds what looks like
         * configuration: a lost closing quote, if the file does not parse. */
        int open_string_line, open_string_end;
        char open_string_quote;
        int last_line;              /* of the last token */
};

#define SWAP_TOKENS(a, b)                \
        do {                             \
                struct token swap_ = (a); \
                (a) = (b);               \
                (b) = swap_;             \
        } while (0)

static bool config_is_option_name(const char *name);

static void scan_free(struct scan *scan) {
        for (size_t i = 0; i < scan->n_keys; i++) {
                free(scan->keys[i].section);
                free(scan->keys[i].key);
        }
        free(scan->keys);
        free(scan->slots);
        free(scan->error);
}

/* FNV-1a over the section (or nothing, for globals) and the key: a thousand services have
 * some ten thousand keys, and looking each up by a linear search made loading quadratic. */
static uint64_t key_hash(const char *section, const char *key) {
        uint64_t h = 1469598103934665603ULL;
        for (const char *p = section ? section : ""; *p; p++)
                h = (h ^ (unsigned char)*p) * 1099511628211ULL;
        h = (h ^ (section ? 1u : 2u)) * 1099511628211ULL;
        for (const char *p = key; *p; p++)
                h = (h ^ (unsigned char)*p) * 1099511628211ULL;
        return h;
}

static bool key_matches(const struct key_position *k, const char *section, const char *key) {
        if ((!section) != (!k->section))
                return false;
        return (!section || strcmp(section, k->section) == 0) && strcmp(key, k->key) == 0;
}

/* The first recorded position of KEY in SECTION, or NULL. */
static const struct key_position *scan_find(const struct scan *scan, const char *section, const char *key) {
        if (scan->n_slots == 0)
                return NULL;
        for (size_t i = key_hash(section, key) & (scan->n_slots - 1);; i = (i + 1) & (scan->n_slots - 1)) {
                size_t slot = scan->slots[i];
                if (slot == 0)
                        return NULL;
                if (key_matches(&scan->keys[slot - 1], section, key))
                        return &scan->keys[slot - 1];
        }
}

static void scan_index_put(struct scan *scan, size_t index) {
        const struct key_position *k = &scan->keys[index];
        for (size_t i = key_hash(k->section, k->key) & (scan->n_slots - 1);; i = (i + 1) & (scan->n_slots - 1))
                if (scan->slots[i] == 0) {
                        scan->slots[i] = index + 1;
                        return;
                }
}

/* Keep the index at most half full: rebuild it twice as large. */
static int scan_index_grow(struct scan *scan) {
        if (2 * (scan->n_keys + 1) <= scan->n_slots)
                return 0;
        size_t n_slots = scan->n_slots ? scan->n_slots * 2 : 64;
        size_t *slots = calloc(n_slots, sizeof *slots);
        if (!slots)
                return -ENOMEM;
        free(scan->slots);
        scan->slots = slots;
        scan->n_slots = n_slots;
        for (size_t i = 0; i < scan->n_keys; i++)
                if (!scan_find(scan, scan->keys[i].section, scan->keys[i].key))  /* keep the first */
                        scan_index_put(scan, i);
        return 0;
}

enum token_type { TOKEN_END, TOKEN_WORD, TOKEN_STRING, TOKEN_PUNCT };

struct token {
        enum token_type type;
        char *text;         /* unescaped copy, room for the whole input (see config_scan) */
        const char *start;  /* where it begins in the text */
        int line;           /* where it begins */
        int end_line;       /* where it ends */
        bool unterminated;  /* a string or comment the file ends inside */
        bool multiline;     /* a string with a line break in it (not a `\` continuation) */
        int bad_variable_line;  /* a `${` whose `}` is on a later line: where it is */
};

static int scan_line_of(const struct scan *scan, const char *section, const char *key) {
        const struct key_position *k = scan_find(scan, section, key);
        return k ? k->line : 0;
}

struct lexer {
        char *p;
        int line;
};

/* Comments are blanked in place (newlines kept) as they are skipped: libconfuse then parses
 * the blanked text, which keeps its line count right (it miscounts after comments) and
 * allows comments inside lists. */
static void blank(char *from, char *to) {
        for (char *q = from; q < to; q++)
                if (*q != '\n')
                        *q = ' ';
}

/* `${NAME}` or `${NAME:-default}` at P, as libconfuse's lexer takes it: everything up to
 * the next `}`.  Returns the `}`, or NULL when there is none (then `$` is an ordinary
 * character).  libconfuse counts no line inside, so a reference that spans lines would
 * put every later message on the wrong line: *ret_newline says so. */
static char *variable_end(char *p, bool *ret_newline) {
        char *close = strchr(p + 2, '}');
        *ret_newline = close && memchr(p, '\n', (size_t)(close - p));
        return close;
}

/* One token as libconfuse's lexer (src/lexer.l) cuts it, so that lines agree. */
static void lexer_next(struct lexer *lx, struct token *t) {
        char *p = lx->p;
        t->unterminated = t->multiline = false;
        t->bad_variable_line = 0;
        for (;;) {
                while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') {
                        if (*p == '\n')
                                lx->line++;
                        p++;
                }
                char *start = p;
                if (*p == '#' || (p[0] == '/' && p[1] == '/')) {
                        while (*p && *p != '\n')
                                p++;
                        blank(start, p);
                } else if (p[0] == '/' && p[1] == '*') {
                        int line = lx->line;
                        p += 2;
                        while (*p && !(p[0] == '*' && p[1] == '/')) {
                                if (*p == '\n')
                                        lx->line++;
                                p++;
                        }
                        bool closed = *p != '\0';
                        if (closed)
                                p += 2;
                        blank(start, p);
                        if (!closed) {  /* the file ends in the comment */
                                t->type = TOKEN_PUNCT;
                                t->start = start;
                                t->line = t->end_line = line;
                                t->unterminated = true;
                                strcpy(t->text, "/*");
                                lx->p = p;
                                return;
                        }
                } else if (*p == '+' && p[1] != '=') {
                        p++;  /* libconfuse ignores a lone `+` or `*` */
                } else if (*p == '*') {
                        p++;
                } else
                        break;
        }
        t->line = lx->line;
        t->start = p;
        t->text[0] = '\0';
        size_t n = 0;
        bool newline;
        if (!*p) {
                t->type = TOKEN_END;
        } else if (*p == '"' || *p == '\'') {
                char quote = *p++;
                t->type = TOKEN_STRING;
                while (*p && *p != quote) {
                        if (*p == '\\' && p[1]) {
                                p++;
                                if (*p == '\n') {  /* a continuation line */
                                        lx->line++;
                                        p++;
                                        continue;
                                }
                        } else if (quote == '"' && p[0] == '$' && p[1] == '{') {
                                char *close = variable_end(p, &newline);
                                if (close) {
                                        if (newline && !t->bad_variable_line)
                                                t->bad_variable_line = lx->line;
                                        for (; p <= close; p++)
                                                if (*p == '\n')
                                                        lx->line++;
                                        continue;
                                }
                        } else if (*p == '\n') {
                                lx->line++;
                                t->multiline = true;
                        }
                        t->text[n++] = *p;
                        p++;
                }
                if (*p)
                        p++;
                else
                        t->unterminated = true;
        } else if (p[0] == '$' && p[1] == '{' && variable_end(p, &newline)) {
                /* unquoted `${NAME}`: one token */
                char *close = variable_end(p, &newline);
                t->type = TOKEN_WORD;
                if (newline)
                        t->bad_variable_line = lx->line;
                for (; p <= close; p++) {
                        if (*p == '\n')
                                lx->line++;
                        t->text[n++] = *p;
                }
        } else if (strchr("{}=,()", *p) || (p[0] == '+' && p[1] == '=')) {
                t->type = TOKEN_PUNCT;
                t->text[n++] = *p;
                if (*p++ == '+')
                        t->text[n++] = *p++;
        } else {
                t->type = TOKEN_WORD;
                while (*p && !strchr(" \t\r\n{}=,()#\"'+*", *p)) {
                        t->text[n++] = *p;
                        p++;
                }
        }
        t->text[n] = '\0';
        t->end_line = lx->line;
        lx->p = p;
}

static int scan_add(struct scan *scan, const char *section, const char *key, int line) {
        if (scan_index_grow(scan) < 0)
                return -ENOMEM;
        if (scan->n_keys == scan->capacity) {
                size_t capacity = scan->capacity ? scan->capacity * 2 : 64;
                struct key_position *grown = realloc(scan->keys, capacity * sizeof *grown);
                if (!grown)
                        return -ENOMEM;
                scan->keys = grown;
                scan->capacity = capacity;
        }
        struct key_position *keys = scan->keys;
        keys[scan->n_keys] = (struct key_position){
                .section = section ? strdup(section) : NULL,
                .key = strdup(key),
                .line = line,
        };
        if ((section && !keys[scan->n_keys].section) || !keys[scan->n_keys].key) {
                free(keys[scan->n_keys].section);
                free(keys[scan->n_keys].key);
                return -ENOMEM;
        }
        if (!scan_find(scan, section, key))  /* the first position of a key is the one to report */
                scan_index_put(scan, scan->n_keys);
        scan->n_keys++;
        return 0;
}

/* The first problem found (later ones are likely its consequences).  LINE is where it was
 * seen, which orders it against libconfuse's message; the message may name another. */
static int __attribute__((format(printf, 3, 4))) scan_fail(struct scan *scan, int line, const char *format, ...) {
        if (scan->error)
                return 0;
        va_list ap;
        va_start(ap, format);
        int n = vasprintf(&scan->error, format, ap);
        va_end(ap);
        if (n < 0) {
                scan->error = NULL;
                return -ENOMEM;
        }
        scan->error_line = line;
        return 0;
}

/* Would LINE (one line of a string's text) be configuration rather than part of a value?
 * A `}`, a `service NAME {` or `KEY =` for one of our keys: what a string that lost its
 * closing quote swallows. */
static bool looks_like_config(const char *line, size_t len) {
        while (len > 0 && (*line == ' ' || *line == '\t'))
                line++, len--;
        while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t' || line[len - 1] == '\r'))
                len--;
        if (len == 1 && line[0] == '}')
                return true;
        if (len > 9 && strncmp(line, "service ", 8) == 0 && line[len - 1] == '{')
                return true;
        size_t key = 0;
        while (key < len && (isalnum((unsigned char)line[key]) || line[key] == '-' || line[key] == '_'))
                key++;
        size_t eq = key;
        while (eq < len && (line[eq] == ' ' || line[eq] == '\t'))
                eq++;
        if (key == 0 || eq >= len || (line[eq] != '=' && !(line[eq] == '+' && eq + 1 < len && line[eq + 1] == '=')))
                return false;
        char name[32];
        if (key >= sizeof name)
                return false;
        memcpy(name, line, key);
        name[key] = '\0';
        return config_is_option_name(name);
}

static bool string_swallowed_config(const struct token *t) {
        const char *text = t->text;
        for (const char *nl = strchr(text, '\n'); nl; nl = strchr(nl + 1, '\n')) {
                const char *next = strchr(nl + 1, '\n');
                size_t len = next ? (size_t)(next - nl - 1) : strlen(nl + 1);
                if (looks_like_config(nl + 1, len))
                        return true;
        }
        return false;
}

/* `KEY = some words` on one line: the value as it should have been written. */
static int scan_unquoted_value(struct scan *scan, const char *key, const struct token *value, int line) {
        const char *end = value->start;
        while (*end && *end != '\n' && *end != '#' && !(end[0] == '/' && (end[1] == '/' || end[1] == '*')))
                end++;
        while (end > value->start && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
                end--;
        int len = (int)(end - value->start);
        bool has_double = memchr(value->start, '"', (size_t)len) != NULL;
        return scan_fail(scan, line, "%s:%d: %s: a value with spaces must be quoted: %s = %c%.*s%c", scan->file, line,
                         key, key, has_double ? '\'' : '"', len, value->start, has_double ? '\'' : '"');
}

enum scan_state {
        EXPECT_ITEM,    /* a key, a section or the `}` of the section */
        AFTER_NAME,     /* a key's `=` or `+=`, or a section's title or `{` */
        AFTER_TITLE,    /* the `{` of a section */
        EXPECT_VALUE,
        AFTER_VALUE,    /* a bare word on the value's line: the next key, or more value */
        AFTER_EXTRA,    /* ... its `=` would make it the next key */
        AFTER_EXTRA2,   /* ... or its `{`, a section on the same line */
        IN_LIST,
};

/* Record where every key and section of the file is (the top level and one level into
 * `service TITLE { }`) and find what libconfuse reports badly or not at all: a key set
 * twice, a service defined twice, a section left open, a string or comment never closed,
 * an unquoted value with spaces, a `${` reference across lines.  Other syntax errors are
 * libconfuse's to report; this only has to survive them. */
static int config_scan(char *text, struct scan *scan) {
        struct lexer lx = { .p = text, .line = 1 };
        /* A token is never longer than the input: such buffers mean nothing is cut. */
        size_t size = strlen(text) + 1;
        char *buffers = malloc(6 * size);
        if (!buffers)
                return -ENOMEM;
        struct token t = { .text = buffers };
        struct token name = { .text = buffers + size }, value = { .text = buffers + 2 * size };
        struct token extra = { .text = buffers + 3 * size }, title = { .text = buffers + 4 * size };
        char *section = buffers + 5 * size;
        enum scan_state state = EXPECT_ITEM;
        int depth = 0, list_depth = 0, section_line = 0, r = 0;

        section[0] = '\0';
        for (;;) {
                lexer_next(&lx, &t);
                if (t.bad_variable_line) {
                        r = scan_fail(scan, t.bad_variable_line, "%s:%d: '${' without its '}' on the same line",
                                      scan->file, t.bad_variable_line);
                        break;
                }
                if (t.unterminated) {
                        if (t.type == TOKEN_PUNCT)
                                r = scan_fail(scan, t.line, "%s:%d: the comment begun with '/*' on this line is never closed",
                                              scan->file, t.line);
                        else
                                r = scan_fail(scan, t.line,
                                              "%s:%d: missing the closing %c of the string begun on this line (it runs "
                                              "to the end of the file)",
                                              scan->file, t.line, *t.start);
                        break;
                }
                if (t.type == TOKEN_STRING && t.multiline && !scan->open_string_line && string_swallowed_config(&t)) {
                        scan->open_string_line = t.line;
                        scan->open_string_end = t.end_line;
                        scan->open_string_quote = *t.start;
                }
                if (t.type == TOKEN_END)
                        break;
                scan->last_line = t.end_line;
                bool word = t.type == TOKEN_WORD || t.type == TOKEN_STRING;
                bool is_assign = t.type == TOKEN_PUNCT && (!strcmp(t.text, "=") || !strcmp(t.text, "+="));
                bool is_open = t.type == TOKEN_PUNCT && !strcmp(t.text, "{");
                bool is_close = t.type == TOKEN_PUNCT && !strcmp(t.text, "}");
again:
                switch (state) {
                case EXPECT_ITEM:
                        if (word) {
                                SWAP_TOKENS(name, t);
                                state = AFTER_NAME;
                        } else if (is_close && depth > 0)
                                depth--;
                        break;
                case AFTER_NAME:
                        if (is_assign) {
                                if (name.type == TOKEN_WORD && depth <= 1) {
                                        const char *in = depth == 1 ? section : NULL;
                                        int first = scan_line_of(scan, in, name.text);
                                        if (first > 0)
                                                r = scan_fail(scan, name.line, "%s:%d: '%s' is set twice (first at line %d)",
                                                              scan->file, name.line, name.text, first);
                                        else
                                                r = scan_add(scan, in, name.text, name.line);
                                }
                                state = EXPECT_VALUE;
                        } else if (word) {
                                SWAP_TOKENS(title, t);
                                state = AFTER_TITLE;
                        } else if (is_open) {
                                /* No title: libconfuse says so, unless the file ends first. */
                                if (depth++ == 0) {
                                        strcpy(section, name.text);
                                        section_line = name.line;
                                }
                                state = EXPECT_ITEM;
                        } else
                                state = EXPECT_ITEM;
                        break;
                case AFTER_TITLE:
                        if (is_open && depth == 0) {
                                strcpy(section, title.text);
                                section_line = title.line;
                                int first = scan_line_of(scan, section, "\001section");
                                if (first > 0)
                                        r = scan_fail(scan, title.line, "%s:%d: %s '%s' is defined twice (first at line %d)",
                                                      scan->file, title.line, name.text, section, first);
                                else
                                        r = scan_add(scan, section, "\001section", section_line);
                                depth = 1;
                        } else if (is_open) {
                                /* Sections do not nest: the one open lacks its `}`. */
                                r = scan_fail(scan, title.line,
                                              "%s:%d: section '%s' is not closed with '}' before %s '%s' on line %d",
                                              scan->file, section_line, section, name.text, title.text, title.line);
                                depth++;
                        }
                        state = EXPECT_ITEM;
                        break;
                case EXPECT_VALUE:
                        if (is_open) {
                                list_depth = 1;
                                state = IN_LIST;
                        } else if (word) {
                                SWAP_TOKENS(value, t);
                                state = AFTER_VALUE;
                        } else
                                state = EXPECT_ITEM;
                        break;
                case AFTER_VALUE:
                        if (word && value.type == TOKEN_WORD && t.line == value.end_line) {
                                SWAP_TOKENS(extra, t);
                                state = AFTER_EXTRA;
                                break;
                        }
                        state = EXPECT_ITEM;
                        goto again;
                case AFTER_EXTRA:
                case AFTER_EXTRA2:
                        if (is_assign || is_open || (state == AFTER_EXTRA && word)) {
                                /* EXTRA was the next key or section after all */
                                if (state == AFTER_EXTRA && word) {
                                        SWAP_TOKENS(title, t);
                                        state = AFTER_EXTRA2;
                                        break;
                                }
                                if (state == AFTER_EXTRA2) {
                                        SWAP_TOKENS(name, extra);
                                        state = AFTER_TITLE;
                                } else {
                                        SWAP_TOKENS(name, extra);
                                        state = AFTER_NAME;
                                }
                                goto again;
                        }
                        r = scan_unquoted_value(scan, name.text, &value, value.line);
                        state = EXPECT_ITEM;
                        goto again;
                case IN_LIST:
                        if (is_open)
                                list_depth++;
                        else if (is_close && --list_depth == 0)
                                state = EXPECT_ITEM;
                        break;
                }
                if (r < 0)
                        goto out;
        }
        if (r >= 0 && (state == AFTER_EXTRA || state == AFTER_EXTRA2))
                r = scan_unquoted_value(scan, name.text, &value, value.line);
        if (r >= 0 && depth > 0)
                r = scan_fail(scan, lx.line, "%s:%d: section '%s' is not closed with '}'", scan->file, section_line,
                              section);
out:
        free(buffers);
        return r < 0 ? r : 0;
}

/* ---- loading ------------------------------------------------------------------------ */

/* One file read: the main one, or one of include-dir. */
struct load_file {
        char *path;        /* owned */
        char *text;        /* owned, comments blanked */
        struct scan scan;  /* where its keys are; scan.file is path */
};

struct load_context {
        const char *file;          /* the file being read or loaded: messages name it */
        const struct scan *scan;   /* ... and give its lines */
        bool in_include;           /* it is one of include-dir */
        bool trust_any_owner;      /* config_peek_socket: who may write the file does not matter */
        char *error;
        size_t error_size;
        bool failed;
        /* libconfuse's first message about the file, weighed against the scan's. */
        bool confuse_failed;
        int confuse_line;
        char confuse_message[512];
        /* The groups looked up last, so that a thousand services of one user cost one
         * lookup: borrowed from the service they were made for, which outlives the load. */
        const struct service_config *last_groups;
        struct load_file **files;  /* owned, each owned */
        size_t n_files;
        struct scan sections;      /* every service read so far, with its file */
        char **warnings;           /* owned, NULL-terminated once there is one */
        size_t n_warnings;
};

static cfg_opt_t service_options[] = {
        CFG_STR("command", NULL, CFGF_NODEFAULT),
        CFG_STR("type", "simple", CFGF_NONE),
        CFG_STR("pidfile", NULL, CFGF_NODEFAULT),
        CFG_STR("instances", "1", CFGF_NONE),
        CFG_STR_LIST("after", "{}", CFGF_NONE),
        CFG_STR("directory", NULL, CFGF_NODEFAULT),
        CFG_STR("user", NULL, CFGF_NODEFAULT),
        CFG_STR("group", NULL, CFGF_NODEFAULT),
        CFG_STR("umask", NULL, CFGF_NODEFAULT),
        CFG_STR("nice", NULL, CFGF_NODEFAULT),
        CFG_STR_LIST("environment", "{}", CFGF_NONE),
        CFG_STR("autostart", "true", CFGF_NONE),
        CFG_STR("restart", "on-failure", CFGF_NONE),
        CFG_STR_LIST("success-exit-codes", "{0}", CFGF_NONE),
        CFG_STR("start-secs", "1", CFGF_NONE),
        CFG_STR("start-retries", "5", CFGF_NONE),
        CFG_STR("restart-delay", "0.1", CFGF_NONE),
        CFG_STR("restart-delay-max", "30", CFGF_NONE),
        CFG_STR("stop-signal", "TERM", CFGF_NONE),
        CFG_STR("stop-timeout", "10", CFGF_NONE),
        CFG_STR("limit-nofile", NULL, CFGF_NODEFAULT),
        CFG_STR("limit-nproc", NULL, CFGF_NODEFAULT),
        CFG_STR("limit-core", NULL, CFGF_NODEFAULT),
        CFG_STR("stdout", "log", CFGF_NONE),
        CFG_STR("stderr", "stdout", CFGF_NONE),
        CFG_STR("log-max-size", "10485760", CFGF_NONE),
        CFG_STR("log-keep", "5", CFGF_NONE),
        CFG_STR("heartbeat-interval", "0", CFGF_NONE),
        CFG_STR("heartbeat-timeout", NULL, CFGF_NODEFAULT),
        CFG_STR("heartbeat-misses", "3", CFGF_NONE),
        CFG_STR("ready-timeout", NULL, CFGF_NODEFAULT),
        CFG_END(),
};

static cfg_opt_t global_options[] = {
        /* No defaults here: they depend on who runs supervisord (config_default_path). */
        CFG_STR("socket", NULL, CFGF_NODEFAULT),
        CFG_STR("socket-mode", "0600", CFGF_NONE),
        CFG_STR("socket-group", NULL, CFGF_NODEFAULT),
        CFG_STR("pidfile", NULL, CFGF_NODEFAULT),
        CFG_STR("log-level", "info", CFGF_NONE),
        CFG_STR("log-dir", NULL, CFGF_NODEFAULT),
        CFG_STR("log-target", "auto", CFGF_NONE),
        CFG_STR("include-dir", NULL, CFGF_NODEFAULT),
        CFG_STR("cgroup", "auto", CFGF_NONE),
        CFG_STR("http-socket", NULL, CFGF_NODEFAULT),
        CFG_STR("http-socket-mode", "0700", CFGF_NONE),
        CFG_STR("http-socket-owner", NULL, CFGF_NODEFAULT),
        CFG_STR("http-listen", NULL, CFGF_NODEFAULT),
        CFG_STR("http-username", NULL, CFGF_NODEFAULT),
        CFG_STR("http-password", NULL, CFGF_NODEFAULT),
        CFG_STR("http-user", NULL, CFGF_NODEFAULT),
        CFG_SEC("service", service_options, CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
        CFG_END(),
};

/* A file of include-dir: more services, nothing else. */
static cfg_opt_t include_options[] = {
        CFG_SEC("service", service_options, CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
        CFG_END(),
};


static bool option_in(const cfg_opt_t *options, const char *name) {
        for (const cfg_opt_t *o = options; o->name; o++)
                if (strcmp(o->name, name) == 0)
                        return true;
        return false;
}

static bool config_is_option_name(const char *name) {
        return option_in(service_options, name) || option_in(global_options, name);
}

/* What a user who wrote NAME most likely meant: supervisord's key names and habits, our
 * keys with `_` for `-`, a key on the wrong level.  NULL if nothing comes to mind. */
static const char *option_hint(const char *name, bool in_service, bool in_include, char *buf, size_t size) {
        static const struct {
                const char *theirs, *hint;
        } supervisord_keys[] = {
                { "autorestart", "supervisord's autorestart is restart here: always, on-failure or never" },
                { "startsecs", "supervisord's startsecs is start-secs here" },
                { "startretries", "supervisord's startretries is start-retries here" },
                { "stopwaitsecs", "supervisord's stopwaitsecs is stop-timeout here" },
                { "stopsignal", "supervisord's stopsignal is stop-signal here" },
                { "exitcodes", "supervisord's exitcodes is success-exit-codes here" },
                { "numprocs", "supervisord's numprocs is instances here" },
                { "numprocs_start", "instances are numbered from 0 here: NAME@0, NAME@1, ..." },
                { "process_name", "instances are named NAME@0, NAME@1, ... here" },
                { "redirect_stderr", "supervisord's redirect_stderr = true is stderr = stdout here" },
                { "stdout_logfile", "supervisord's stdout_logfile is stdout here: log (log-dir/NAME.log), null, "
                                    "inherit or journal" },
                { "stderr_logfile", "supervisord's stderr_logfile is stderr here: stdout, log, null, inherit or "
                                    "journal" },
                { "stdout_logfile_maxbytes", "supervisord's stdout_logfile_maxbytes is log-max-size here" },
                { "stdout_logfile_backups", "supervisord's stdout_logfile_backups is log-keep here" },
                { "priority", "the order of starts comes from after here: a list of services to start first" },
                { "stopasgroup", "the stop signal always goes to the whole process group here" },
                { "killasgroup", "SIGKILL always goes to the whole process group here" },
                { "childlogdir", "supervisord's childlogdir is log-dir here" },
                { "logfile", "supervisord's own messages go where log-target says here" },
                { "loglevel", "supervisord's loglevel is log-level here" },
                { "nodaemon", "that is the -n option here" },
                { "file", "the control socket's path is socket here" },
                { "chmod", "the control socket's mode is socket-mode here" },
                { "chown", "the control socket's group is socket-group here" },
        };
        if (name[0] == '[') {
                snprintf(buf, size, "this looks like supervisord's INI format; this file is written as "
                                    "service NAME { command = \"...\" }, see supervisord.conf(5)");
                return buf;
        }
        for (size_t i = 0; i < ELEMENTSOF(supervisord_keys); i++)
                if (strcasecmp(name, supervisord_keys[i].theirs) == 0) {
                        snprintf(buf, size, "%s", supervisord_keys[i].hint);
                        return buf;
                }
        char ours[64];
        size_t n = 0;
        for (; name[n] && n < sizeof ours - 1; n++)
                ours[n] = name[n] == '_' ? '-' : (char)tolower((unsigned char)name[n]);
        ours[n] = '\0';
        const cfg_opt_t *here = in_service ? service_options : global_options;
        if (!name[n] && strcmp(ours, name) != 0 && option_in(here, ours)) {
                snprintf(buf, size, "did you mean '%s'?", ours);
                return buf;
        }
        if (in_include && !in_service && option_in(global_options, ours)) {
                snprintf(buf, size, "an included file holds only service sections");
                return buf;
        }
        if (!in_service && option_in(service_options, ours)) {
                snprintf(buf, size, "'%s' belongs in a service section: service NAME { %s = ... }", ours, ours);
                return buf;
        }
        if (in_service && option_in(global_options, ours)) {
                snprintf(buf, size, "'%s' is a global option: set it outside the service sections", ours);
                return buf;
        }
        return NULL;
}

/* libconfuse reports through this; its first message is kept. */
static struct load_context *current_load;

static void __attribute__((format(printf, 2, 0))) confuse_error(cfg_t *cfg, const char *format, va_list ap) {
        struct load_context *ctx = current_load;
        if (!ctx || ctx->confuse_failed)
                return;
        ctx->confuse_failed = true;
        ctx->confuse_line = cfg && cfg->line > 0 ? (int)cfg->line : 0;
        if (strcmp(format, "no such option '%s'") == 0) {
                va_list copy;
                va_copy(copy, ap);
                const char *name = va_arg(copy, const char *);
                va_end(copy);
                char hint[256];
                bool in_service = cfg && cfg->name && strcmp(cfg->name, "service") == 0;
                if (name && option_hint(name, in_service, ctx->in_include, hint, sizeof hint)) {
                        snprintf(ctx->confuse_message, sizeof ctx->confuse_message, "no such option '%s' (%s)", name,
                                 hint);
                        return;
                }
        }
        vsnprintf(ctx->confuse_message, sizeof ctx->confuse_message, format, ap);
}

/* FILE did not parse (PARSED false) or its scan found a problem: the likeliest cause. */
static int syntax_error(struct load_context *ctx, const struct load_file *f, bool parsed) {
        const struct scan *scan = &f->scan;
        int at = parsed ? 0 : ctx->confuse_line;
        /* The scan's finding when it comes first: libconfuse reports many problems by the
         * confusion they cause later. */
        bool use_scan = scan->error && (parsed || at == 0 || scan->error_line <= at);
        int where = use_scan ? scan->error_line : at;
        ctx->failed = true;
        if (scan->open_string_line && (where == 0 || scan->open_string_line <= where))
                snprintf(ctx->error, ctx->error_size,
                         "%s:%d: missing the closing %c of the string begun on this line (it runs on to line %d)",
                         f->path,
                         scan->open_string_line, scan->open_string_quote, scan->open_string_end);
        else if (use_scan)
                snprintf(ctx->error, ctx->error_size, "%s", scan->error);
        else  /* libconfuse gives no line for some errors: the last one read is near */
                snprintf(ctx->error, ctx->error_size, "%s:%d: %s", f->path,
                         at > 0 ? at : scan->last_line > 0 ? scan->last_line : 1,
                         ctx->confuse_message[0] ? ctx->confuse_message : "syntax error");
        return -EINVAL;
}

/* Report a problem with KEY of SECTION (NULL: global) at the line it was written on. */
static int __attribute__((format(printf, 4, 5)))
load_error(struct load_context *ctx, const char *section, const char *key, const char *format, ...) {
        if (ctx->failed)
                return -EINVAL;
        ctx->failed = true;
        int line = key ? scan_line_of(ctx->scan, section, key) : 0;
        if (line == 0 && section)
                line = scan_line_of(ctx->scan, section, "\001section");
        int n = line > 0 ? snprintf(ctx->error, ctx->error_size, "%s:%d: ", ctx->file, line)
                         : snprintf(ctx->error, ctx->error_size, "%s: ", ctx->file);
        if (n >= 0 && (size_t)n < ctx->error_size) {
                va_list ap;
                va_start(ap, format);
                vsnprintf(ctx->error + n, ctx->error_size - (size_t)n, format, ap);
                va_end(ap);
        }
        return -EINVAL;
}

/* Something that works but is likely not what was meant, at KEY of SECTION. */
static int __attribute__((format(printf, 4, 5)))
load_warning(struct load_context *ctx, const char *section, const char *key, const char *format, ...) {
        char **grown = realloc(ctx->warnings, (ctx->n_warnings + 2) * sizeof *grown);
        if (!grown)
                return -ENOMEM;
        ctx->warnings = grown;
        char *text;
        va_list ap;
        va_start(ap, format);
        int n = vasprintf(&text, format, ap);
        va_end(ap);
        if (n < 0)
                return -ENOMEM;
        int line = scan_line_of(ctx->scan, section, key);
        char *message;
        n = line > 0 ? asprintf(&message, "%s:%d: warning: %s", ctx->file, line, text)
                     : asprintf(&message, "%s: warning: %s", ctx->file, text);
        free(text);
        if (n < 0)
                return -ENOMEM;
        ctx->warnings[ctx->n_warnings++] = message;
        ctx->warnings[ctx->n_warnings] = NULL;
        return 0;
}

/* Point messages at the file SERVICE was read from. */
static void load_enter_file_of(struct load_context *ctx, const struct service_config *s) {
        for (size_t i = 0; i < ctx->n_files; i++)
                if (strcmp(ctx->files[i]->path, s->file) == 0) {
                        ctx->file = ctx->files[i]->path;
                        ctx->scan = &ctx->files[i]->scan;
                        ctx->in_include = i > 0;
                        return;
                }
}

static int parse_bool(const char *text, bool *ret) {
        static const char *const yes[] = { "true", "yes", "on", "1" };
        static const char *const no[] = { "false", "no", "off", "0" };
        for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
                if (strcasecmp(text, yes[i]) == 0)
                        return *ret = true, 0;
                if (strcasecmp(text, no[i]) == 0)
                        return *ret = false, 0;
        }
        return -EINVAL;
}

static int parse_seconds(const char *text, usec_t *ret) {
        char *end;
        errno = 0;
        double seconds = strtod(text, &end);
        if (errno || end == text || *end || isspace((unsigned char)*text))
                return -EINVAL;
        return seconds_to_usec(seconds, ret);
}

static int parse_limit(const char *text, struct resource_limit *ret) {
        if (strcmp(text, "infinity") == 0 || strcmp(text, "unlimited") == 0) {
                *ret = (struct resource_limit){ .set = true, .value = RLIM_INFINITY };
                return 0;
        }
        if (!isdigit((unsigned char)text[0]))
                return -EINVAL;
        char *end;
        errno = 0;
        unsigned long long n = strtoull(text, &end, 10);
        if (errno || *end || n >= (unsigned long long)RLIM_INFINITY)
                return -EINVAL;
        *ret = (struct resource_limit){ .set = true, .value = (rlim_t)n };
        return 0;
}

/* A byte count: digits, then optionally K, M or G (powers of 1024, either case). */
static int parse_size(const char *text, uint64_t *ret) {
        if (!isdigit((unsigned char)text[0]))
                return -EINVAL;
        char *end;
        errno = 0;
        unsigned long long n = strtoull(text, &end, 10);
        if (errno)
                return -EINVAL;
        unsigned shift = 0;
        if (*end) {
                const char *units = "KMG", *unit = strchr(units, toupper((unsigned char)*end));
                if (!unit || end[1])
                        return -EINVAL;
                shift = 10 * (unsigned)(unit - units + 1);
        }
        if (n > (UINT64_MAX >> 14) >> shift)  /* far beyond any file, and no overflow */
                return -EINVAL;
        *ret = (uint64_t)n << shift;
        return 0;
}

static int parse_output_target(const char *text, bool is_stderr, enum output_target *ret) {
        static const struct {
                const char *name;
                enum output_target target;
        } names[] = {
                { "log", OUTPUT_LOG }, { "null", OUTPUT_NULL }, { "inherit", OUTPUT_INHERIT },
                { "journal", OUTPUT_JOURNAL }, { "stdout", OUTPUT_STDOUT },
        };
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (strcmp(text, names[i].name) == 0 && (is_stderr || names[i].target != OUTPUT_STDOUT)) {
                        *ret = names[i].target;
                        return 0;
                }
        return -EINVAL;
}

static bool environment_entry_is_valid(const char *entry) {
        const char *eq = strchr(entry, '=');
        if (!eq || eq == entry || isdigit((unsigned char)entry[0]))
                return false;
        for (const char *p = entry; p < eq; p++)
                if (!isalnum((unsigned char)*p) && *p != '_')
                        return false;
        return true;
}

/* The length of a variable name at P followed by `=`, or 0. */
static size_t environment_name_length(const char *p) {
        size_t n = 0;
        if (isdigit((unsigned char)*p))
                return 0;
        while (isalnum((unsigned char)p[n]) || p[n] == '_')
                n++;
        return n > 0 && p[n] == '=' ? n : 0;
}

/* supervisord writes environment=A="1",B="2": here that is one variable A whose value
 * runs on to the end.  Accepted, as it may be meant, but said. */
static int warn_comma_environment(struct load_context *ctx, const char *section, const char *entry) {
        const char *eq = strchr(entry, '=');
        char list[512];
        size_t len = 0;
        bool split = false;
        const char *from = entry;
        for (const char *p = eq; *p; p++) {
                if (*p != ',' || !environment_name_length(p + 1))
                        continue;
                len += (size_t)snprintf(list + len, len < sizeof list ? sizeof list - len : 0, "%s\"%.*s\"",
                                        split ? ", " : "", (int)(p - from), from);
                from = p + 1;
                split = true;
        }
        if (!split)
                return 0;
        snprintf(list + len, len < sizeof list ? sizeof list - len : 0, ", \"%s\"", from);
        return load_warning(ctx, section, "environment",
                            "environment: \"%s\" is one variable, %.*s, with the value \"%s\"; for several, write "
                            "environment = { %s }",
                            entry, (int)(eq - entry), entry, eq + 1, list);
}

static int dup_string(const char *text, char **ret) {
        if (!text) {
                *ret = NULL;
                return 0;
        }
        *ret = strdup(text);
        return *ret ? 0 : -ENOMEM;
}

/* "auto", "stderr", "journal", "syslog"; -EINVAL otherwise. */
static int log_target_from_string(const char *name) {
        static const char *const names[] = {
                [LOG_TARGET_STDERR] = "stderr", [LOG_TARGET_SYSLOG] = "syslog",
                [LOG_TARGET_JOURNAL] = "journal", [LOG_TARGET_AUTO] = "auto",
        };
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
                if (names[i] && strcmp(names[i], name) == 0)
                        return (int)i;
        return -EINVAL;
}

/* The supplementary groups of `user` with gid among them, as initgroups(3) would set
 * them.  Looked up here because the spawned child shares supervisord's memory until it
 * execs and must not call NSS; a change to the group database applies from the next
 * load (reload). */
static int load_groups(struct load_context *ctx, const char *name, struct service_config *s) {
        const struct service_config *last = ctx->last_groups;
        size_t n;
        if (last && last->gid == s->gid && strcmp(last->user_name, s->user_name) == 0) {
                n = last->n_groups;
                if (!(s->groups = malloc(n * sizeof(gid_t))))
                        return -ENOMEM;
                memcpy(s->groups, last->groups, n * sizeof(gid_t));
        } else {
                int count = 16;
                for (;;) {
                        gid_t *groups = realloc(s->groups, (size_t)count * sizeof(gid_t));
                        if (!groups)
                                return -ENOMEM;
                        s->groups = groups;
                        int have = count;
                        if (getgrouplist(s->user_name, s->gid, s->groups, &count) >= 0)
                                break;
                        if (have >= 65536)  /* NGROUPS_MAX: the kernel would not take more */
                                return load_error(ctx, name, "user", "user: '%s' is in more than 65536 groups",
                                                  s->user_name);
                        if (count <= have)  /* no bigger size asked for: give it more */
                                count = have * 2;
                }
                n = (size_t)count;
        }
        s->n_groups = n;
        ctx->last_groups = s;
        return 0;
}

static int load_user(struct load_context *ctx, const char *name, const char *text, struct service_config *s) {
        struct passwd *pw;
        long uid;
        errno = 0;
        if (parse_long(text, 0, (long)UINT32_MAX - 1, &uid) == 0)
                pw = getpwuid((uid_t)uid);
        else
                pw = getpwnam(text);
        if (!pw)
                return load_error(ctx, name, "user", "user: unknown user '%s'", text);
        s->has_user = true;
        s->uid = pw->pw_uid;
        if (!s->has_group)
                s->gid = pw->pw_gid;
        if (dup_string(pw->pw_name, &s->user_name) < 0 || dup_string(pw->pw_dir, &s->user_home) < 0)
                return -ENOMEM;
        return load_groups(ctx, name, s);
}

static int load_group(const char *text, gid_t *ret) {
        long gid;
        if (parse_long(text, 0, (long)UINT32_MAX - 1, &gid) == 0) {
                *ret = (gid_t)gid;
                return 0;
        }
        struct group *gr = getgrnam(text);
        if (!gr)
                return -ENOENT;
        *ret = gr->gr_gid;
        return 0;
}

/* heartbeat-interval, heartbeat-timeout, heartbeat-misses and ready-timeout (after type). */
static int load_liveness(struct load_context *ctx, cfg_t *section, const char *name, struct service_config *s) {
        const char *text = cfg_getstr(section, "heartbeat-interval");
        long n;
        if (parse_seconds(text, &s->heartbeat_interval) < 0)
                return load_error(ctx, name, "heartbeat-interval", "heartbeat-interval: '%s' is not a number of seconds",
                                  text);
        /* Below 10 ms a heartbeat is a busy loop, not a liveness check. */
        if (s->heartbeat_interval > 0 && s->heartbeat_interval < 10 * USEC_PER_MSEC)
                return load_error(ctx, name, "heartbeat-interval",
                                  "heartbeat-interval: must be 0 (off) or at least 0.01 seconds");
        s->heartbeat_timeout = s->heartbeat_interval;
        if ((text = cfg_getstr(section, "heartbeat-timeout"))) {
                if (parse_seconds(text, &s->heartbeat_timeout) < 0 || s->heartbeat_timeout == 0)
                        return load_error(ctx, name, "heartbeat-timeout",
                                          "heartbeat-timeout: '%s' is not a positive number of seconds", text);
                /* One ping in flight at a time: its answer is due before the next ping. */
                if (s->heartbeat_interval > 0 && s->heartbeat_timeout > s->heartbeat_interval)
                        return load_error(ctx, name, "heartbeat-timeout",
                                          "heartbeat-timeout: must not be greater than heartbeat-interval (%gs)",
                                          (double)s->heartbeat_interval / USEC_PER_SEC);
                if (s->heartbeat_interval == 0)
                        s->heartbeat_timeout = 0;
        }
        text = cfg_getstr(section, "heartbeat-misses");
        if (parse_long(text, 1, 1000, &n) < 0)
                return load_error(ctx, name, "heartbeat-misses",
                                  "heartbeat-misses: '%s' is not an integer from 1 to 1000", text);
        s->heartbeat_misses = (unsigned)n;

        s->ready_timeout = s->type == SERVICE_NOTIFY ? 90 * USEC_PER_SEC : 0;
        if ((text = cfg_getstr(section, "ready-timeout"))) {
                if (s->type != SERVICE_NOTIFY)
                        return load_error(ctx, name, "ready-timeout", "ready-timeout: only for type = notify");
                if (parse_seconds(text, &s->ready_timeout) < 0)
                        return load_error(ctx, name, "ready-timeout", "ready-timeout: '%s' is not a number of seconds",
                                          text);
        }
        return 0;
}

static int load_service(struct load_context *ctx, cfg_t *section, struct service_config *s) {
        const char *name = cfg_title(section);
        const char *text;
        unsigned count;
        long n;
        int r;

        if (!service_name_is_valid(name))
                return load_error(ctx, name, NULL,
                                  "invalid service name '%s': use 1 to 64 of A-Z a-z 0-9 _ . -", name);
        if (strcmp(name, "all") == 0)
                return load_error(ctx, name, NULL, "the service name 'all' is reserved (it addresses every service)");
        if (dup_string(name, &s->name) < 0 || dup_string(ctx->file, &s->file) < 0)
                return -ENOMEM;
        s->line = scan_line_of(ctx->scan, name, "\001section");
        s->command_line = scan_line_of(ctx->scan, name, "command");
        s->directory_line = scan_line_of(ctx->scan, name, "directory");
        s->user_line = scan_line_of(ctx->scan, name, "user");
        if (!s->user_line)
                s->user_line = scan_line_of(ctx->scan, name, "group");
        if (!s->command_line)
                s->command_line = s->line;
        if (!s->directory_line)
                s->directory_line = s->line;
        if (!s->user_line)
                s->user_line = s->line;

        text = cfg_getstr(section, "command");
        if (!text)
                return load_error(ctx, name, NULL, "service '%s' has no command", name);
        const char *split_error = "invalid command";
        r = cmdline_split(text, &s->argv, &split_error);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return load_error(ctx, name, "command", "command: %s", split_error);
        if (dup_string(text, &s->command) < 0)
                return -ENOMEM;

        text = cfg_getstr(section, "type");
        if (strcmp(text, "simple") == 0)
                s->type = SERVICE_SIMPLE;
        else if (strcmp(text, "notify") == 0)
                s->type = SERVICE_NOTIFY;
        else if (strcmp(text, "forking") == 0)
                s->type = SERVICE_FORKING;
        else
                return load_error(ctx, name, "type", "type: '%s' is not one of simple, notify, forking", text);
        if ((text = cfg_getstr(section, "pidfile"))) {
                if (s->type != SERVICE_FORKING)
                        return load_error(ctx, name, "pidfile", "pidfile: only for type = forking");
                if (text[0] != '/')
                        return load_error(ctx, name, "pidfile", "pidfile: '%s' is not an absolute path", text);
                if (dup_string(text, &s->pidfile) < 0)
                        return -ENOMEM;
        } else if (s->type == SERVICE_FORKING)
                return load_error(ctx, name, "type", "type = forking needs a pidfile");

        text = cfg_getstr(section, "instances");
        if (parse_long(text, 1, 10000, &n) < 0)
                return load_error(ctx, name, "instances", "instances: '%s' is not an integer from 1 to 10000", text);
        s->instances = (unsigned)n;
        if (s->instances > 1 && s->type == SERVICE_FORKING)
                return load_error(ctx, name, "instances", "instances: not supported with type = forking (one pidfile)");

        count = cfg_size(section, "after");
        s->after = calloc(count + 1, sizeof(char *));
        if (!s->after)
                return -ENOMEM;
        for (unsigned i = 0; i < count; i++) {
                text = cfg_getnstr(section, "after", i);
                if (!service_name_is_valid(text))
                        return load_error(ctx, name, "after", "after: '%s' is not a service name", text);
                if (dup_string(text, &s->after[i]) < 0)
                        return -ENOMEM;
        }

        if ((text = cfg_getstr(section, "directory"))) {
                if (text[0] != '/')
                        return load_error(ctx, name, "directory", "directory: '%s' is not an absolute path", text);
                if (dup_string(text, &s->directory) < 0)
                        return -ENOMEM;
        }
        /* The group first: `user` only supplies the primary group when `group` is absent. */
        if ((text = cfg_getstr(section, "group"))) {
                if (load_group(text, &s->gid) < 0)
                        return load_error(ctx, name, "group", "group: unknown group '%s'", text);
                s->has_group = true;
        }
        if ((text = cfg_getstr(section, "user")) && (r = load_user(ctx, name, text, s)) < 0)
                return r;
        if ((text = cfg_getstr(section, "umask"))) {
                if (parse_mode(text, &s->umask) < 0 || s->umask > 0777)
                        return load_error(ctx, name, "umask", "umask: '%s' is not an octal mode such as 022", text);
                s->has_umask = true;
        }
        if ((text = cfg_getstr(section, "nice"))) {
                if (parse_long(text, -20, 19, &n) < 0)
                        return load_error(ctx, name, "nice", "nice: '%s' is not an integer from -20 to 19", text);
                s->has_nice = true;
                s->nice = (int)n;
        }

        count = cfg_size(section, "environment");
        s->environment = calloc(count + 1, sizeof(char *));
        if (!s->environment)
                return -ENOMEM;
        for (unsigned i = 0; i < count; i++) {
                text = cfg_getnstr(section, "environment", i);
                if (!environment_entry_is_valid(text))
                        return load_error(ctx, name, "environment",
                                          "environment: '%s' is not of the form KEY=VALUE", text);
                if (strncmp(text, "SUPERVISOR_", 11) == 0)
                        return load_error(ctx, name, "environment",
                                          "environment: SUPERVISOR_* variables are set by supervisord");
                if (dup_string(text, &s->environment[i]) < 0)
                        return -ENOMEM;
                if ((r = warn_comma_environment(ctx, name, text)) < 0)
                        return r;
        }

        if (parse_bool(cfg_getstr(section, "autostart"), &s->autostart) < 0)
                return load_error(ctx, name, "autostart", "autostart: '%s' is not true or false",
                                  cfg_getstr(section, "autostart"));

        text = cfg_getstr(section, "restart");
        if (strcmp(text, "always") == 0)
                s->restart = RESTART_ALWAYS;
        else if (strcmp(text, "on-failure") == 0)
                s->restart = RESTART_ON_FAILURE;
        else if (strcmp(text, "never") == 0)
                s->restart = RESTART_NEVER;
        else
                return load_error(ctx, name, "restart",
                                  "restart: '%s' is not one of always, on-failure, never", text);

        count = cfg_size(section, "success-exit-codes");
        for (unsigned i = 0; i < count; i++) {
                text = cfg_getnstr(section, "success-exit-codes", i);
                if (parse_long(text, 0, 255, &n) < 0)
                        return load_error(ctx, name, "success-exit-codes",
                                          "success-exit-codes: '%s' is not an exit code from 0 to 255", text);
                s->success_exit_codes[n / 8] |= (unsigned char)(1u << (n % 8));
        }

        static const struct {
                const char *key;
                size_t offset;
        } durations[] = {
                { "start-secs", offsetof(struct service_config, start_secs) },
                { "restart-delay", offsetof(struct service_config, restart_delay) },
                { "restart-delay-max", offsetof(struct service_config, restart_delay_max) },
                { "stop-timeout", offsetof(struct service_config, stop_timeout) },
        };
        for (size_t i = 0; i < ELEMENTSOF(durations); i++) {
                text = cfg_getstr(section, durations[i].key);
                if (parse_seconds(text, (usec_t *)((char *)s + durations[i].offset)) < 0)
                        return load_error(ctx, name, durations[i].key, "%s: '%s' is not a number of seconds",
                                          durations[i].key, text);
        }
        if (s->restart_delay == 0)
                return load_error(ctx, name, "restart-delay", "restart-delay: must be greater than 0");
        if (s->restart_delay_max < s->restart_delay)
                return load_error(ctx, name, "restart-delay-max",
                                  "restart-delay-max: must not be less than restart-delay");

        text = cfg_getstr(section, "start-retries");
        if (parse_long(text, 0, 1000000, &n) < 0)
                return load_error(ctx, name, "start-retries",
                                  "start-retries: '%s' is not an integer from 0 to 1000000", text);
        s->start_retries = (unsigned)n;

        text = cfg_getstr(section, "stop-signal");
        if ((s->stop_signal = signal_from_name(text)) < 0)
                return load_error(ctx, name, "stop-signal", "stop-signal: unknown signal '%s'", text);

        static const struct {
                const char *key;
                size_t offset;
        } limits[] = {
                { "limit-nofile", offsetof(struct service_config, limit_nofile) },
                { "limit-nproc", offsetof(struct service_config, limit_nproc) },
                { "limit-core", offsetof(struct service_config, limit_core) },
        };
        for (size_t i = 0; i < ELEMENTSOF(limits); i++) {
                text = cfg_getstr(section, limits[i].key);
                if (text && parse_limit(text, (struct resource_limit *)((char *)s + limits[i].offset)) < 0)
                        return load_error(ctx, name, limits[i].key,
                                          "%s: '%s' is not a non-negative integer or 'infinity'", limits[i].key, text);
        }

        text = cfg_getstr(section, "stdout");
        if (parse_output_target(text, false, &s->stdout_target) < 0)
                return load_error(ctx, name, "stdout", "stdout: '%s' is not one of log, null, inherit, journal", text);
        text = cfg_getstr(section, "stderr");
        if (parse_output_target(text, true, &s->stderr_target) < 0)
                return load_error(ctx, name, "stderr",
                                  "stderr: '%s' is not one of log, null, inherit, journal, stdout", text);
        /* Below a few KiB rotation would run on nearly every write. */
        text = cfg_getstr(section, "log-max-size");
        if (parse_size(text, &s->log_max_size) < 0 || (s->log_max_size > 0 && s->log_max_size < 4096))
                return load_error(ctx, name, "log-max-size",
                                  "log-max-size: '%s' is not 0 or a size of at least 4096 bytes (suffix K, M or G allowed)",
                                  text);
        text = cfg_getstr(section, "log-keep");
        if (parse_long(text, 0, 1000, &n) < 0)
                return load_error(ctx, name, "log-keep", "log-keep: '%s' is not an integer from 0 to 1000", text);
        s->log_keep = (unsigned)n;
        if ((r = load_liveness(ctx, section, name, s)) < 0)
                return r;
        return 0;
}

/* The value of the global KEY, else its default into *DEFAULT_VALUE (freed by the caller). */
static int global_or_default(struct load_context *ctx, cfg_t *cfg, const char *key, enum config_default what,
                             const char **ret, char **default_value) {
        if ((*ret = cfg_getstr(cfg, key)))
                return 0;
        char message[1024];
        int r = config_default_path(what, default_value, message, sizeof message);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return load_error(ctx, NULL, NULL, "%s", message);
        *ret = *default_value;
        return 0;
}

/* The defaults computed for one load, freed after it. */
struct global_defaults {
        char *socket, *pidfile, *log_dir;
};

static int load_globals_with(struct load_context *ctx, cfg_t *cfg, struct config *c, struct global_defaults *d) {
        const char *text;
        int r;
        c->socket_line = scan_line_of(ctx->scan, NULL, "socket");
        c->pidfile_line = scan_line_of(ctx->scan, NULL, "pidfile");
        c->log_dir_line = scan_line_of(ctx->scan, NULL, "log-dir");
        if ((r = global_or_default(ctx, cfg, "socket", CONFIG_DEFAULT_OF_SOCKET, &text, &d->socket)) < 0)
                return r;
        if (text[0] != '/')
                return load_error(ctx, NULL, "socket", "socket: '%s' is not an absolute path", text);
        if (strlen(text) >= 108)
                return load_error(ctx, NULL, "socket", "socket: path longer than 107 bytes");
        if (dup_string(text, &c->socket) < 0)
                return -ENOMEM;

        text = cfg_getstr(cfg, "socket-mode");
        if (parse_mode(text, &c->socket_mode) < 0 || c->socket_mode > 0777)
                return load_error(ctx, NULL, "socket-mode", "socket-mode: '%s' is not an octal mode such as 0660", text);

        if ((text = cfg_getstr(cfg, "socket-group"))) {
                if (load_group(text, &c->socket_gid) < 0)
                        return load_error(ctx, NULL, "socket-group", "socket-group: unknown group '%s'", text);
                c->has_socket_group = true;
        }

        if ((r = global_or_default(ctx, cfg, "pidfile", CONFIG_DEFAULT_OF_PIDFILE, &text, &d->pidfile)) < 0)
                return r;
        if (text[0] != '/')
                return load_error(ctx, NULL, "pidfile", "pidfile: '%s' is not an absolute path", text);
        if (dup_string(text, &c->pidfile) < 0)
                return -ENOMEM;

        text = cfg_getstr(cfg, "log-level");
        if ((c->log_level = log_level_from_string(text)) < 0)
                return load_error(ctx, NULL, "log-level",
                                  "log-level: '%s' is not one of error, warning, notice, info, debug", text);

        /* Room is left for "/NAME@K.log.N" within PATH_MAX. */
        if ((r = global_or_default(ctx, cfg, "log-dir", CONFIG_DEFAULT_OF_LOG_DIR, &text, &d->log_dir)) < 0)
                return r;
        if (text[0] != '/')
                return load_error(ctx, NULL, "log-dir", "log-dir: '%s' is not an absolute path", text);
        if (strlen(text) > 3000)
                return load_error(ctx, NULL, "log-dir", "log-dir: path longer than 3000 bytes");
        if (dup_string(text, &c->log_dir) < 0)
                return -ENOMEM;

        text = cfg_getstr(cfg, "log-target");
        int target = log_target_from_string(text);
        if (target < 0)
                return load_error(ctx, NULL, "log-target",
                                  "log-target: '%s' is not one of auto, stderr, journal, syslog", text);
        c->log_target = (enum log_target)target;

        text = cfg_getstr(cfg, "cgroup");
        if (strcmp(text, "auto") == 0)
                c->cgroup_mode = CGROUP_AUTO;
        else if (strcmp(text, "off") == 0)
                c->cgroup_mode = CGROUP_OFF;
        else if (text[0] == '/') {
                /* Room is left for "/NAME@K.service/cgroup.procs" within PATH_MAX. */
                if (strlen(text) > 3000)
                        return load_error(ctx, NULL, "cgroup", "cgroup: path longer than 3000 bytes");
                c->cgroup_mode = CGROUP_PATH;
                if (dup_string(text, &c->cgroup_path) < 0)
                        return -ENOMEM;
        } else
                return load_error(ctx, NULL, "cgroup", "cgroup: '%s' is not auto, off or an absolute path", text);
        return 0;
}

/* http-*: the HTTP interface (supervisord.conf(5), HTTP INTERFACE). */
static int load_http(struct load_context *ctx, cfg_t *cfg, struct config *c) {
        const char *text;
        if ((text = cfg_getstr(cfg, "http-socket"))) {
                if (text[0] != '/')
                        return load_error(ctx, NULL, "http-socket", "http-socket: '%s' is not an absolute path", text);
                if (strlen(text) >= 108)
                        return load_error(ctx, NULL, "http-socket", "http-socket: path longer than 107 bytes");
                if (strcmp(text, c->socket) == 0)
                        return load_error(ctx, NULL, "http-socket", "http-socket: '%s' is the control socket", text);
                if (dup_string(text, &c->http_socket) < 0)
                        return -ENOMEM;
        }
        text = cfg_getstr(cfg, "http-socket-mode");
        if (parse_mode(text, &c->http_socket_mode) < 0 || c->http_socket_mode > 0777)
                return load_error(ctx, NULL, "http-socket-mode",
                                  "http-socket-mode: '%s' is not an octal mode such as 0700", text);
        if ((text = cfg_getstr(cfg, "http-socket-owner"))) {
                /* USER or USER:GROUP, as supervisord's chown. */
                char user[256];
                const char *colon = strchr(text, ':');
                size_t n = colon ? (size_t)(colon - text) : strlen(text);
                if (n == 0 || n >= sizeof user)
                        return load_error(ctx, NULL, "http-socket-owner",
                                          "http-socket-owner: '%s' is not USER or USER:GROUP", text);
                memcpy(user, text, n);
                user[n] = 0;
                struct passwd *pw = getpwnam(user);
                if (!pw)
                        return load_error(ctx, NULL, "http-socket-owner", "http-socket-owner: unknown user '%s'", user);
                c->http_socket_uid = pw->pw_uid;
                c->http_socket_gid = pw->pw_gid;
                if (colon && load_group(colon + 1, &c->http_socket_gid) < 0)
                        return load_error(ctx, NULL, "http-socket-owner", "http-socket-owner: unknown group '%s'",
                                          colon + 1);
                c->has_http_socket_owner = true;
        }
        if ((text = cfg_getstr(cfg, "http-listen"))) {
                const char *colon = strrchr(text, ':');
                long port;
                if (!colon || parse_long(colon + 1, 1, 65535, &port) < 0 || colon - text > 255)
                        return load_error(ctx, NULL, "http-listen",
                                          "http-listen: '%s' is not HOST:PORT (such as 127.0.0.1:9001 or *:9001)", text);
                size_t n = (size_t)(colon - text);
                if (n == 1 && text[0] == '*')
                        n = 0;
                if (!(c->http_listen_host = strndup(text, n)))
                        return -ENOMEM;
                c->http_listen_port = (unsigned)port;
        }
        if ((text = cfg_getstr(cfg, "http-username")) && dup_string(text, &c->http_username) < 0)
                return -ENOMEM;
        if ((text = cfg_getstr(cfg, "http-password")) && dup_string(text, &c->http_password) < 0)
                return -ENOMEM;
        if (c->http_password && !c->http_username)
                return load_error(ctx, NULL, "http-password", "http-password: set without http-username");
        if (c->http_username && !c->http_password)
                return load_error(ctx, NULL, "http-username", "http-username: set without http-password");
        const char *user = cfg_getstr(cfg, "http-user");
        if (!user && geteuid() == 0)
                user = "nobody";
        if (user) {
                struct passwd *pw = getpwnam(user);
                if (!pw)
                        return load_error(ctx, NULL, "http-user", "http-user: unknown user '%s'", user);
                if (pw->pw_uid == 0)
                        return load_error(ctx, NULL, "http-user",
                                          "http-user: '%s' is root: the HTTP front-end never runs as root", user);
                if (geteuid() != 0 && pw->pw_uid != geteuid())
                        return load_error(ctx, NULL, "http-user",
                                          "http-user: '%s': only root may run the HTTP front-end as another user", user);
                c->http_uid = pw->pw_uid;
                c->http_gid = pw->pw_gid;
                if (dup_string(pw->pw_name, &c->http_user) < 0)
                        return -ENOMEM;
        } else {
                c->http_uid = geteuid();
                c->http_gid = getegid();
        }
        return 0;
}

static int load_globals(struct load_context *ctx, cfg_t *cfg, struct config *c) {
        struct global_defaults defaults = { 0 };
        int r = load_globals_with(ctx, cfg, c, &defaults);
        if (r >= 0)
                r = load_http(ctx, cfg, c);
        free(defaults.socket);
        free(defaults.pidfile);
        free(defaults.log_dir);
        return r;
}

/* Who can write what ST describes, as a reason to refuse it, or NULL when nobody but
 * root and supervisord's own user can.  Anyone who can write the configuration runs
 * commands as supervisord (sshd's StrictModes asks the same of ~/.ssh).  A directory with
 * the sticky bit (/tmp) is safe as a parent when STICKY_OK: others can add to it but
 * cannot rename or remove what is ours. */
static const char *untrusted_reason(const struct stat *st, bool sticky_ok, char *buf, size_t size) {
        uid_t me = geteuid();
        if (st->st_uid != 0 && st->st_uid != me) {
                struct passwd *pw = getpwuid(st->st_uid);
                if (pw)
                        snprintf(buf, size, "owned by %s (uid %u), not by root or supervisord's own user",
                                 pw->pw_name, (unsigned)st->st_uid);
                else
                        snprintf(buf, size, "owned by uid %u, not by root or supervisord's own user",
                                 (unsigned)st->st_uid);
                return buf;
        }
        if ((st->st_mode & 022) && !(sticky_ok && S_ISDIR(st->st_mode) && (st->st_mode & S_ISVTX))) {
                snprintf(buf, size, "writable by %s (mode %04o)",
                         (st->st_mode & 002) ? "every user" : "its group", (unsigned)(st->st_mode & 07777));
                return buf;
        }
        return NULL;
}

/* PATH (open, with status ST) and the directories it is in may be written only by root and
 * supervisord's own user.  What it is: "file" or "include-dir". */
static int check_trusted(struct load_context *ctx, const char *path, const struct stat *st, const char *what) {
        char reason[160];
        if (ctx->trust_any_owner)
                return 0;
        if (untrusted_reason(st, false, reason, sizeof reason)) {
                ctx->failed = true;
                snprintf(ctx->error, ctx->error_size,
                         "%s: %s: refused, since whoever can write the %s can run commands as supervisord "
                         "(chown root and chmod go-w it)",
                         path, reason, what);
                return -EPERM;
        }
        /* The directories above: whoever can write one can put another file in its place.
         * A path that does not resolve (a memfd) has none to check. */
        char *real = realpath(path, NULL);
        if (!real)
                return 0;
        int r = 0;
        for (char *slash = strrchr(real, '/'); slash && r == 0; slash = strrchr(real, '/')) {
                if (slash == real)
                        slash[1] = '\0';  /* "/" itself, last */
                else
                        *slash = '\0';
                struct stat dir;
                if (stat(real, &dir) == 0 && untrusted_reason(&dir, true, reason, sizeof reason)) {
                        ctx->failed = true;
                        snprintf(ctx->error, ctx->error_size,
                                 "%s: its directory %s is %s: refused, since whoever can write there can replace "
                                 "the %s (chown root and chmod go-w the directory)",
                                 path, real, reason, what);
                        r = -EPERM;
                }
                if (slash == real)
                        break;
        }
        free(real);
        return r;
}

static int read_file(struct load_context *ctx, const char *path, char **ret) {
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        struct stat st;
        if (fstat(fd, &st) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        if (S_ISDIR(st.st_mode)) {
                close(fd);
                return -EISDIR;
        }
        int r = check_trusted(ctx, path, &st, "file");
        if (r < 0) {
                close(fd);
                return r;
        }
        FILE *f = fdopen(fd, "re");
        if (!f) {
                r = -errno;
                close(fd);
                return r;
        }
        char *text = NULL;
        size_t size = 0;
        FILE *mem = open_memstream(&text, &size);
        if (!mem) {
                fclose(f);
                return -ENOMEM;
        }
        char buf[8192];
        size_t n;
        errno = 0;
        while ((n = fread(buf, 1, sizeof buf, f)) > 0)
                fwrite(buf, 1, n, mem);
        r = ferror(f) ? (errno ? -errno : -EIO) : 0;
        fclose(f);
        if (fclose(mem) != 0 && r == 0)
                r = -ENOMEM;
        if (r < 0) {
                free(text);
                return r;
        }
        if (strlen(text) != size) {
                free(text);
                return -EILSEQ;  /* a NUL byte: not a text file */
        }
        *ret = text;
        return 0;
}

ssize_t config_find_service(const struct config *c, const char *name) {
        for (size_t i = 0; i < c->n_services; i++)
                if (strcmp(c->services[i]->name, name) == 0)
                        return (ssize_t)i;
        return -1;
}

/* The cycle that following `after` from path[depth] to service J closes, as an error. */
static int dependency_cycle_error(struct load_context *ctx, const struct config *c, const size_t *path, size_t depth,
                                  size_t j) {
        char cycle[1024];
        size_t len = 0, start = depth;
        while (path[start] != j)
                start--;
        for (size_t k = start; k <= depth && len < sizeof cycle; k++)
                len += (size_t)snprintf(cycle + len, sizeof cycle - len, "%s -> ", c->services[path[k]]->name);
        if (len < sizeof cycle)
                snprintf(cycle + len, sizeof cycle - len, "%s", c->services[j]->name);
        return load_error(ctx, c->services[path[depth]]->name, "after", "after: dependency cycle %s", cycle);
}

/* Depth-first walk along `after` from ROOT; colour: 0 unvisited, 1 on the current path, 2
 * done; next[i]: the entry of service i's `after` to follow next.  A loop, not recursion:
 * recursing, a chain of some 8,000 services overflowed the stack (-t and reload crashed). */
static int visit_dependencies(struct load_context *ctx, const struct config *c, size_t root, unsigned char *colour,
                              size_t *path, size_t *next) {
        size_t depth = 0;
        path[0] = root;
        colour[root] = 1;
        for (;;) {
                size_t i = path[depth];
                const struct service_config *s = c->services[i];
                const char *after = s->after[next[i]];
                if (!after) {
                        colour[i] = 2;
                        if (depth == 0)
                                return 0;
                        depth--;
                        continue;
                }
                next[i]++;
                ssize_t j = config_find_service(c, after);
                if (j < 0) {
                        load_enter_file_of(ctx, s);
                        return load_error(ctx, s->name, "after", "after: no service named '%s'", after);
                }
                if (colour[j] == 1) {
                        load_enter_file_of(ctx, s);
                        return dependency_cycle_error(ctx, c, path, depth, (size_t)j);
                }
                if (colour[j] == 0) {
                        colour[j] = 1;
                        path[++depth] = (size_t)j;  /* on the path at most once: depth < n_services */
                }
        }
}

static int check_dependencies(struct load_context *ctx, const struct config *c) {
        if (c->n_services == 0)
                return 0;
        unsigned char *colour = calloc(c->n_services, 1);
        size_t *path = calloc(c->n_services, sizeof *path);
        size_t *next = calloc(c->n_services, sizeof *next);
        int r = colour && path && next ? 0 : -ENOMEM;
        for (size_t i = 0; r == 0 && i < c->n_services; i++)
                if (colour[i] == 0)
                        r = visit_dependencies(ctx, c, i, colour, path, next);
        free(colour);
        free(path);
        free(next);
        return r;
}

static bool strings_equal(const char *a, const char *b) {
        return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static bool strv_equal(char **a, char **b) {
        for (; a && *a && b && *b; a++, b++)
                if (strcmp(*a, *b) != 0)
                        return false;
        return (!a || !*a) && (!b || !*b);
}

static bool limits_equal(const struct resource_limit *a, const struct resource_limit *b) {
        return a->set == b->set && (!a->set || a->value == b->value);
}

bool service_config_equal(const struct service_config *a, const struct service_config *b) {
        return a->instances == b->instances && service_config_equal_but_instances(a, b);
}

bool service_config_equal_but_instances(const struct service_config *a, const struct service_config *b) {
        return strings_equal(a->name, b->name) && strv_equal(a->argv, b->argv) && a->type == b->type
               && strings_equal(a->pidfile, b->pidfile) && strv_equal(a->after, b->after)
               && strings_equal(a->directory, b->directory) && a->has_user == b->has_user && a->has_group == b->has_group
               && a->uid == b->uid && a->gid == b->gid && strings_equal(a->user_name, b->user_name)
               && a->has_umask == b->has_umask && a->umask == b->umask && a->has_nice == b->has_nice
               && a->nice == b->nice && strv_equal(a->environment, b->environment) && a->autostart == b->autostart
               && a->restart == b->restart
               && memcmp(a->success_exit_codes, b->success_exit_codes, sizeof a->success_exit_codes) == 0
               && a->start_secs == b->start_secs && a->start_retries == b->start_retries
               && a->restart_delay == b->restart_delay && a->restart_delay_max == b->restart_delay_max
               && a->stop_signal == b->stop_signal && a->stop_timeout == b->stop_timeout
               && limits_equal(&a->limit_nofile, &b->limit_nofile) && limits_equal(&a->limit_nproc, &b->limit_nproc)
               && limits_equal(&a->limit_core, &b->limit_core)
               && a->stdout_target == b->stdout_target && a->stderr_target == b->stderr_target
               && a->log_max_size == b->log_max_size && a->log_keep == b->log_keep
               && a->heartbeat_interval == b->heartbeat_interval && a->heartbeat_timeout == b->heartbeat_timeout
               && a->heartbeat_misses == b->heartbeat_misses && a->ready_timeout == b->ready_timeout;
}

const char *service_type_to_string(enum service_type type) {
        switch (type) {
        case SERVICE_SIMPLE: return "simple";
        case SERVICE_NOTIFY: return "notify";
        case SERVICE_FORKING: return "forking";
        }
        return "?";
}

/* ---- defaults ----------------------------------------------------------------------- */

/* $NAME when it is an absolute path (the XDG base directory rule: a relative one is
 * ignored), else NULL. */
static const char *absolute_env(const char *name) {
        const char *value = getenv(name);
        return value && value[0] == '/' ? value : NULL;
}

int config_default_path(enum config_default what, char **ret, char *error, size_t error_size) {
        static const char *const names[] = {
                [CONFIG_DEFAULT_OF_SOCKET] = "socket",
                [CONFIG_DEFAULT_OF_PIDFILE] = "pidfile",
                [CONFIG_DEFAULT_OF_LOG_DIR] = "log-dir",
        };
        static const char *const system_paths[] = {
                [CONFIG_DEFAULT_OF_SOCKET] = CONFIG_DEFAULT_SOCKET,
                [CONFIG_DEFAULT_OF_PIDFILE] = CONFIG_DEFAULT_PIDFILE,
                [CONFIG_DEFAULT_OF_LOG_DIR] = CONFIG_DEFAULT_LOG_DIR,
        };
        int n;
        uid_t uid = geteuid();
        *ret = NULL;
        if (uid == 0)
                return dup_string(system_paths[what], ret);
        if (what == CONFIG_DEFAULT_OF_LOG_DIR) {
                /* $XDG_STATE_HOME, else ~/.local/state: logs outlive a login session. */
                const char *state = absolute_env("XDG_STATE_HOME"), *home = absolute_env("HOME");
                struct passwd *pw = NULL;
                if (!state && !home && (pw = getpwuid(uid)) && pw->pw_dir[0] == '/')
                        home = pw->pw_dir;
                if (state)
                        n = asprintf(ret, "%s/supervisord", state);
                else if (home)
                        n = asprintf(ret, "%s/.local/state/supervisord", home);
                else {
                        snprintf(error, error_size,
                                 "log-dir: not run as root, and neither $XDG_STATE_HOME nor a home directory is set: "
                                 "set log-dir");
                        return -ENOENT;
                }
                if (n < 0) {
                        *ret = NULL;  /* asprintf leaves it undefined */
                        return -ENOMEM;
                }
                return 0;
        }
        /* The socket and the pidfile belong where the session's runtime files are: on a
         * tmpfs only this user can write, cleaned when the last session ends. */
        const char *runtime = absolute_env("XDG_RUNTIME_DIR");
        char fallback[64];
        struct stat st;
        snprintf(fallback, sizeof fallback, "/run/user/%u", (unsigned)uid);
        if (!runtime && stat(fallback, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == uid)
                runtime = fallback;
        if (!runtime) {
                snprintf(error, error_size,
                         "%s: not run as root, and $XDG_RUNTIME_DIR is not set: set %s (or XDG_RUNTIME_DIR)",
                         names[what], names[what]);
                return -ENOENT;
        }
        n = asprintf(ret, "%s/%s", runtime, what == CONFIG_DEFAULT_OF_SOCKET ? "supervisord.sock" : "supervisord.pid");
        if (n < 0) {
                *ret = NULL;
                return -ENOMEM;
        }
        if (what == CONFIG_DEFAULT_OF_SOCKET && strlen(*ret) >= 108) {
                snprintf(error, error_size, "socket: %.900s is longer than 107 bytes: set socket", *ret);
                free(*ret);
                *ret = NULL;
                return -ENAMETOOLONG;
        }
        return 0;
}

/* ---- the socket alone --------------------------------------------------------------- */

int config_peek_socket(const char *path, char **ret, char *error, size_t error_size) {
        char *text = NULL, *buffers = NULL;
        int r;

        *ret = NULL;
        error[0] = '\0';
        /* Whoever owns the file: the reader runs nothing from it. */
        struct load_context ctx = { .trust_any_owner = true, .error = error, .error_size = error_size };
        if ((r = read_file(&ctx, path, &text)) < 0) {
                snprintf(error, error_size, "%s: %s", path,
                         r == -EILSEQ ? "not a text file (contains a NUL byte)" : strerror(-r));
                return r;
        }
        /* The same tokens as config_scan sees, so strings and comments hide what they
         * hold; only `socket = VALUE` outside every section counts.  Whatever else is
         * wrong in the file is the daemon's to report. */
        size_t size = strlen(text) + 1;
        if (!(buffers = malloc(3 * size))) {
                r = -ENOMEM;
                goto out;
        }
        struct lexer lx = { .p = text, .line = 1 };
        struct token before = { .type = TOKEN_END, .text = buffers }, previous = before,
                     current = { .text = buffers + size };
        previous.text = buffers + 2 * size;
        before.text[0] = previous.text[0] = '\0';
        int depth = 0;
        for (;;) {
                lexer_next(&lx, &current);
                if (current.type == TOKEN_END)
                        break;
                if (current.type == TOKEN_PUNCT && strcmp(current.text, "{") == 0)
                        depth++;
                else if (current.type == TOKEN_PUNCT && strcmp(current.text, "}") == 0 && depth > 0)
                        depth--;
                else if (depth == 0 && (current.type == TOKEN_WORD || current.type == TOKEN_STRING)
                         && previous.type == TOKEN_PUNCT && strcmp(previous.text, "=") == 0
                         && before.type == TOKEN_WORD && strcmp(before.text, "socket") == 0) {
                        if (current.text[0] != '/') {
                                snprintf(error, error_size, "%s:%d: socket: '%.900s' is not an absolute path", path,
                                         current.line, current.text);
                                r = -EINVAL;
                        } else if (strlen(current.text) >= 108) {
                                snprintf(error, error_size, "%s:%d: socket: path longer than 107 bytes", path,
                                         current.line);
                                r = -EINVAL;
                        } else if ((r = dup_string(current.text, ret)) == 0)
                                r = 1;
                        goto out;  /* the first setting: a second one is an error the daemon refuses */
                }
                char *spare = before.text;
                before = previous;
                previous = current;
                current.text = spare;
        }
        r = 0;  /* not set: the caller's default */
out:
        if (r == -ENOMEM && !error[0])
                snprintf(error, error_size, "%s: out of memory", path);
        free(buffers);
        free(text);
        return r;
}

static void load_file_free(struct load_file *f) {
        if (!f)
                return;
        scan_free(&f->scan);
        free(f->text);
        free(f->path);
        free(f);
}

/* Services of an earlier file that file F (the last read) defines again: an error at the
 * second definition.  One index of every service read so far keeps this linear. */
static int check_duplicates_across(struct load_context *ctx, struct load_file *f) {
        struct scan *scan = &f->scan;
        int index = (int)ctx->n_files - 1;
        for (size_t i = 0; i < scan->n_keys; i++) {
                const struct key_position *k = &scan->keys[i];
                if (k->key[0] != '\001')
                        continue;
                const struct key_position *first = scan_find(&ctx->sections, k->section, "\001section");
                if (first && first->file != index) {
                        if (scan->error && scan->error_line <= k->line)
                                return 0;
                        free(scan->error);
                        scan->error = NULL;
                        return scan_fail(scan, k->line, "%s:%d: service '%s' is defined twice (first at %s:%d)", f->path,
                                         k->line, k->section, ctx->files[first->file]->path, first->line);
                }
                if (!first) {
                        int r = scan_add(&ctx->sections, k->section, "\001section", k->line);
                        if (r < 0)
                                return r;
                        ctx->sections.keys[ctx->sections.n_keys - 1].file = index;
                }
        }
        return 0;
}

/* Read, scan and parse PATH with OPTIONS into *ret (the caller frees it with cfg_free). */
static int parse_file(struct load_context *ctx, const char *path, cfg_opt_t *options, cfg_t **ret) {
        struct load_file **files = realloc(ctx->files, (ctx->n_files + 1) * sizeof *files);
        if (!files)
                return -ENOMEM;
        ctx->files = files;
        struct load_file *f = calloc(1, sizeof *f);
        if (!f || !(f->path = strdup(path))) {
                free(f);
                return -ENOMEM;
        }
        f->scan.file = f->path;
        ctx->files[ctx->n_files++] = f;
        ctx->file = f->path;
        ctx->scan = &f->scan;
        ctx->in_include = ctx->n_files > 1;

        int r = read_file(ctx, path, &f->text);
        if (r < 0) {
                if (!ctx->failed)
                        snprintf(ctx->error, ctx->error_size, "%s: %s", path,
                                 r == -EILSEQ ? "not a text file (contains a NUL byte)" : strerror(-r));
                ctx->failed = true;
                return r;
        }
        r = config_scan(f->text, &f->scan);  /* also blanks the comments for libconfuse */
        if (r >= 0)
                r = check_duplicates_across(ctx, f);
        if (r < 0)
                return r;
        cfg_t *cfg = cfg_init(options, CFGF_NONE);
        if (!cfg)
                return -ENOMEM;
        cfg_set_error_function(cfg, confuse_error);
        ctx->confuse_failed = false;
        ctx->confuse_line = 0;
        ctx->confuse_message[0] = '\0';
        current_load = ctx;
        r = cfg_parse_buf(cfg, f->text);
        current_load = NULL;
        if (r != CFG_SUCCESS || f->scan.error) {
                cfg_free(cfg);
                return syntax_error(ctx, f, r == CFG_SUCCESS);
        }
        *ret = cfg;
        return 0;
}

/* The services of one parsed file, appended to c. */
static int load_services(struct load_context *ctx, cfg_t *cfg, struct config *c) {
        unsigned count = cfg_size(cfg, "service");
        if (count == 0)
                return 0;
        struct service_config **services = realloc(c->services, (c->n_services + count) * sizeof *services);
        if (!services)
                return -ENOMEM;
        c->services = services;
        for (unsigned i = 0; i < count; i++) {
                struct service_config *s = calloc(1, sizeof *s);
                if (!s)
                        return -ENOMEM;
                s->refcount = 1;
                c->services[c->n_services++] = s;
                int r = load_service(ctx, cfg_getnsec(cfg, "service", i), s);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int compare_names(const void *a, const void *b) {
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* include-dir, relative to the directory of the file that names it. */
static int include_dir_path(const char *file, const char *dir, char **ret) {
        const char *slash = strrchr(file, '/');
        if (dir[0] == '/' || !slash)
                return (*ret = strdup(dir)) ? 0 : -ENOMEM;
        return asprintf(ret, "%.*s%s", (int)(slash - file + 1), file, dir) < 0 ? -ENOMEM : 0;
}

/* Every *.conf of include-dir, in name order, read as more services. */
static int load_include_dir(struct load_context *ctx, const char *text, struct config *c) {
        char *dir_path = NULL, **names = NULL;
        size_t n_names = 0;
        DIR *dir = NULL;
        int r = include_dir_path(ctx->file, text, &dir_path);
        if (r < 0)
                return r;
        if (!(dir = opendir(dir_path))) {
                r = load_error(ctx, NULL, "include-dir", "include-dir: %s: %s", dir_path, strerror(errno));
                goto out;
        }
        struct stat st;
        if (fstat(dirfd(dir), &st) < 0) {
                r = load_error(ctx, NULL, "include-dir", "include-dir: %s: %s", dir_path, strerror(errno));
                goto out;
        }
        if ((r = check_trusted(ctx, dir_path, &st, "include-dir")) < 0)
                goto out;
        if (dup_string(dir_path, &c->include_dir) < 0) {
                r = -ENOMEM;
                goto out;
        }
        struct dirent *e;
        errno = 0;
        while ((e = readdir(dir))) {
                size_t len = strlen(e->d_name);
                struct stat entry;
                if (e->d_name[0] == '.' || len <= 5 || strcmp(e->d_name + len - 5, ".conf") != 0
                    || fstatat(dirfd(dir), e->d_name, &entry, 0) < 0 || !S_ISREG(entry.st_mode))
                        continue;
                char **grown = realloc(names, (n_names + 1) * sizeof *grown);
                if (!grown || !(grown[n_names] = strdup(e->d_name))) {
                        if (grown)
                                names = grown;
                        r = -ENOMEM;
                        goto out;
                }
                names = grown;
                n_names++;
        }
        if (errno) {
                r = load_error(ctx, NULL, "include-dir", "include-dir: %s: %s", dir_path, strerror(errno));
                goto out;
        }
        if (n_names)
                qsort(names, n_names, sizeof *names, compare_names);
        for (size_t i = 0; i < n_names; i++) {
                char *path;
                if (asprintf(&path, "%s/%s", dir_path, names[i]) < 0) {
                        r = -ENOMEM;
                        goto out;
                }
                cfg_t *cfg = NULL;
                r = parse_file(ctx, path, include_options, &cfg);
                free(path);
                if (r >= 0) {
                        r = load_services(ctx, cfg, c);
                        cfg_free(cfg);
                }
                if (r < 0)
                        goto out;
        }
        r = 0;
out:
        if (dir)
                closedir(dir);
        for (size_t i = 0; i < n_names; i++)
                free(names[i]);
        free(names);
        free(dir_path);
        return r;
}

int config_load(const char *path, struct config **ret, char *error, size_t error_size) {
        struct load_context ctx = { .error = error, .error_size = error_size };
        struct config *c = NULL;
        cfg_t *cfg = NULL;
        int r;

        error[0] = '\0';
        r = parse_file(&ctx, path, global_options, &cfg);
        if (r < 0)
                goto out;
        c = calloc(1, sizeof *c);
        if (!c || !(c->path = strdup(path))) {
                r = -ENOMEM;
                goto out;
        }
        r = load_globals(&ctx, cfg, c);
        if (r >= 0)
                r = load_services(&ctx, cfg, c);
        if (r >= 0 && cfg_getstr(cfg, "include-dir"))
                r = load_include_dir(&ctx, cfg_getstr(cfg, "include-dir"), c);
        if (r >= 0)
                r = check_dependencies(&ctx, c);
        if (r < 0)
                goto out;
        c->warnings = ctx.warnings;
        ctx.warnings = NULL;
        *ret = c;
        c = NULL;
        r = 0;
out:
        if (r < 0 && !error[0])
                snprintf(error, error_size, "%s: %s", ctx.file ? ctx.file : path,
                         r == -ENOMEM ? "out of memory" : strerror(-r));
        config_free(c);
        if (cfg)
                cfg_free(cfg);
        /* libconfuse copies the whole option table for every section it parses: some
         * 5 KiB per service, freed here but left as holes under what is still live.  Give
         * those pages back, or a thousand services keep megabytes resident for nothing. */
        malloc_trim(0);
        for (size_t i = 0; i < ctx.n_files; i++)
                load_file_free(ctx.files[i]);
        scan_free(&ctx.sections);
        free(ctx.files);
        strv_free(ctx.warnings);
        return r;
}

struct service_config *service_config_ref(struct service_config *s) {
        s->refcount++;
        return s;
}

void service_config_unref(struct service_config *s) {
        if (!s || --s->refcount > 0)
                return;
        free(s->name);
        free(s->file);
        free(s->command);
        strv_free(s->argv);
        free(s->directory);
        free(s->user_name);
        free(s->user_home);
        free(s->groups);
        strv_free(s->environment);
        free(s->pidfile);
        strv_free(s->after);
        free(s);
}

void config_free(struct config *c) {
        if (!c)
                return;
        for (size_t i = 0; i < c->n_services; i++)
                service_config_unref(c->services[i]);
        free(c->services);
        free(c->path);
        free(c->socket);
        free(c->pidfile);
        free(c->log_dir);
        free(c->include_dir);
        strv_free(c->warnings);
        free(c->cgroup_path);
        free(c->http_socket);
        free(c->http_listen_host);
        free(c->http_username);
        free(c->http_password);
        free(c->http_user);
        free(c);
}

bool service_config_is_success(const struct service_config *s, int exit_code) {
        if (exit_code < 0 || exit_code > 255)
                return false;
        return s->success_exit_codes[exit_code / 8] & (1u << (exit_code % 8));
}

const char *output_target_to_string(enum output_target target) {
        switch (target) {
        case OUTPUT_LOG: return "log";
        case OUTPUT_NULL: return "null";
        case OUTPUT_INHERIT: return "inherit";
        case OUTPUT_JOURNAL: return "journal";
        case OUTPUT_STDOUT: return "stdout";
        }
        return "?";
}

const char *restart_policy_to_string(enum restart_policy policy) {
        switch (policy) {
        case RESTART_ALWAYS: return "always";
        case RESTART_ON_FAILURE: return "on-failure";
        case RESTART_NEVER: return "never";
        }
        return "?";
}

unsigned service_config_descriptors(const struct service_config *s) {
        unsigned n = 0;
        /* The output pipe, both ends (logfile.c keeps the write end too), and the log file. */
        if (s->stdout_target == OUTPUT_LOG || s->stderr_target == OUTPUT_LOG)
                n += 3;
        /* Our ends of the ping and pong pipes (heartbeat.c). */
        if (s->heartbeat_interval > 0)
                n += 2;
        /* The notify socket (notify.c), and the pidfd of a MAINPID= not our child. */
        if (s->type == SERVICE_NOTIFY)
                n += 2;
        /* The pidfd of the daemon named by the pidfile (service.c). */
        if (s->type == SERVICE_FORKING)
                n += 1;
        return n * (s->instances ? s->instances : 1);
}

unsigned long config_descriptors(const struct config *config) {
        unsigned long n = 0;
        for (size_t i = 0; i < config->n_services; i++)
                n += service_config_descriptors(config->services[i]);
        return n;
}
