/* config.c — see config.h.
 *
 * The native reader: it maps the libconfuse syntax onto the config model (model.h), which
 * holds the defaults and judges every value.  libconfuse does the parsing, but it reports
 * the line of the token *after* a bad value and silently keeps the last of two settings of
 * one key.  So every value is declared as a string, without a default, and handed to the
 * model as written, and a small scanner (config_scan) records where each key of each
 * section was written: messages point at the exact line, and a key set twice or a section
 * left open is an error instead of a surprise.  What stays here besides: include-dir,
 * who may write the files (check_trusted), the reader's stricter rule for service names,
 * the socket read alone (config_peek_socket), comparing definitions and the descriptor
 * estimate. */
#include "config.h"
#include "ini_config.h"

#include <confuse.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
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
#include "ini.h"
#include "log.h"
#include "model.h"

/* The `after` and `environment` of a service that sets none, shared: most set neither,
 * and two empty lists of their own were 64 bytes of every service. */
char *config_no_strings[1] = { NULL };

/* A file name shared by every service read from that file (the same path in each of ten
 * thousand services was 56 bytes of each).  Counted atomically: a load runs on a thread
 * of its own (loader.h) while the loop drops the definitions of the last config. */
struct shared_file_name {
        unsigned refs;
        char text[];
};

static struct shared_file_name *shared_of(const char *text) {
        return (struct shared_file_name *)(void *)(text - offsetof(struct shared_file_name, text));
}

char *config_file_name_new(const char *path) {
        struct shared_file_name *f = malloc(sizeof *f + strlen(path) + 1);
        if (!f)
                return NULL;
        f->refs = 1;
        strcpy(f->text, path);
        return f->text;
}

char *config_file_name_ref(char *text) {
        __atomic_add_fetch(&shared_of(text)->refs, 1, __ATOMIC_RELAXED);
        return text;
}

void config_file_name_unref(char *text) {
        if (text && __atomic_sub_fetch(&shared_of(text)->refs, 1, __ATOMIC_ACQ_REL) == 0)
                free(shared_of(text));
}

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

/* libconfuse's option tables, made from the model's keys: every value a string (or a list
 * of strings), without a default, so that the model sees what was written and judges it. */
struct confuse_tables {
        cfg_opt_t *service;  /* owned */
        cfg_opt_t *global;   /* owned: the model's globals, include-dir and the sections */
        cfg_opt_t include[2];  /* a file of include-dir: more services, nothing else */
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
        struct load_file **files;  /* owned, each owned */
        size_t n_files;
        struct scan sections;      /* every service read so far, with its file */
        struct config_builder *builder;  /* owned */
        struct confuse_tables tables;    /* owned */
};

/* The native reader's own keys besides the model's: how files are put together. */
static bool reader_has_key(bool in_service, const char *name) {
        return config_model_has_key(in_service, name)
               || (!in_service && (strcmp(name, "include-dir") == 0 || strcmp(name, "service") == 0));
}

static bool config_is_option_name(const char *name) {
        return reader_has_key(true, name) || reader_has_key(false, name);
}

static void confuse_tables_free(struct confuse_tables *t) {
        free(t->service);
        free(t->global);
}

static int confuse_tables_make(struct confuse_tables *t) {
        size_t n = 0, n_service = 0;
        bool in_service, repeatable;
        for (const char *name; (name = config_model_key(n, &in_service, &repeatable)); n++)
                n_service += in_service;
        t->service = calloc(n_service + 1, sizeof *t->service);
        t->global = calloc(n - n_service + 3, sizeof *t->global);
        if (!t->service || !t->global) {
                confuse_tables_free(t);
                return -ENOMEM;
        }
        size_t s = 0, g = 0;
        for (size_t i = 0; i < n; i++) {
                const char *name = config_model_key(i, &in_service, &repeatable);
                cfg_opt_t *o = in_service ? &t->service[s++] : &t->global[g++];
                *o = repeatable ? (cfg_opt_t)CFG_STR_LIST((char *)name, NULL, CFGF_NODEFAULT)
                                : (cfg_opt_t)CFG_STR((char *)name, NULL, CFGF_NODEFAULT);
        }
        t->service[s] = (cfg_opt_t)CFG_END();
        t->global[g++] = (cfg_opt_t)CFG_STR("include-dir", NULL, CFGF_NODEFAULT);
        t->global[g++] = (cfg_opt_t)CFG_SEC("service", t->service, CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES);
        t->global[g] = (cfg_opt_t)CFG_END();
        t->include[0] = (cfg_opt_t)CFG_SEC("service", t->service, CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES);
        t->include[1] = (cfg_opt_t)CFG_END();
        return 0;
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
                { "stopasgroup", "the stop signal always goes to the whole process group here" },
                { "killasgroup", "SIGKILL always goes to the whole process group here" },
                { "childlogdir", "supervisord's childlogdir is log-dir here" },
                { "logfile", "supervisord's logfile is log-file here" },
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
        if (!name[n] && strcmp(ours, name) != 0 && reader_has_key(in_service, ours)) {
                snprintf(buf, size, "did you mean '%s'?", ours);
                return buf;
        }
        if (in_include && !in_service && reader_has_key(false, ours)) {
                snprintf(buf, size, "an included file holds only service sections");
                return buf;
        }
        if (!in_service && reader_has_key(true, ours)) {
                snprintf(buf, size, "'%s' belongs in a service section: service NAME { %s = ... }", ours, ours);
                return buf;
        }
        if (in_service && reader_has_key(false, ours)) {
                snprintf(buf, size, "'%s' is a global option: set it outside the service sections", ours);
                return buf;
        }
        return NULL;
}

/* libconfuse reports through this; its first message is kept.  Per thread: a reload
 * loads on a thread of its own (libconfuse's own lexer has state of its own too: only one
 * load at a time runs, see main.c). */
static _Thread_local struct load_context *current_load;

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
static int dup_string(const char *text, char **ret) {
        if (!text) {
                *ret = NULL;
                return 0;
        }
        *ret = strdup(text);
        return *ret ? 0 : -ENOMEM;
}

/* "auto", "stderr", "journal", "syslog"; -EINVAL otherwise. */
/* Who can write what ST describes, as a reason to refuse it, or NULL when nobody but
 * root and supervisord's own user can.  Anyone who can write the configuration runs
 * commands as supervisord (sshd's StrictModes asks the same of ~/.ssh).  A directory with
 * the sticky bit (/tmp) is safe as a parent when STICKY_OK: others can add to it but
 * cannot rename or remove what is ours. */
static const char *untrusted_reason(const struct stat *st, bool sticky_ok, char *buf, size_t size) {
        uid_t me = geteuid();
        if (st->st_uid != 0 && st->st_uid != me) {
                char name[256];
                if (config_model_user_name(st->st_uid, name, sizeof name) == 0)
                        snprintf(buf, size, "owned by %.64s (uid %u), not by root or supervisord's own user",
                                 name, (unsigned)st->st_uid);
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

int config_check_trusted(const char *path, char *error, size_t error_size) {
        struct load_context ctx = { .error = error, .error_size = error_size };
        struct stat st;
        if (stat(path, &st) < 0)
                return 0;  /* the reader that opens it says why it cannot */
        return check_trusted(&ctx, path, &st, "file");
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

const char *service_config_group(const struct service_config *s) {
        return s->service_group ? s->service_group : s->name;
}

int config_server_url(const struct config *c, char **ret) {
        int r = 0;
        *ret = NULL;
        if (c->http_socket)
                r = asprintf(ret, "unix://%s", c->http_socket);
        else if (c->socket_http)
                r = asprintf(ret, "unix://%s", c->socket);
        else if (c->http_listen_host) {
                const char *host = c->http_listen_host[0] ? c->http_listen_host : "localhost";
                bool v6 = strchr(host, ':') && host[0] != '[';
                r = asprintf(ret, "http://%s%s%s:%u", v6 ? "[" : "", host, v6 ? "]" : "", c->http_listen_port);
        }
        if (r < 0) {
                *ret = NULL;
                return -ENOMEM;
        }
        return 0;
}

ssize_t config_find_service(const struct config *c, const char *name) {
        for (size_t i = 0; i < c->n_services; i++)
                if (strcmp(c->services[i]->name, name) == 0)
                        return (ssize_t)i;
        return -1;
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
               && strings_equal(a->service_group, b->service_group) && a->priority == b->priority
               && a->group_priority == b->group_priority
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
               && strings_equal(a->stdout_log, b->stdout_log) && strings_equal(a->stderr_log, b->stderr_log)
               && a->stderr_log_max_size == b->stderr_log_max_size && a->stderr_log_keep == b->stderr_log_keep
               && a->stderr_log_events == b->stderr_log_events
               && a->stderr_capture_max_bytes == b->stderr_capture_max_bytes
               && a->heartbeat_interval == b->heartbeat_interval && a->heartbeat_timeout == b->heartbeat_timeout
               && a->heartbeat_misses == b->heartbeat_misses && a->ready_timeout == b->ready_timeout
               && a->events == b->events && a->buffer_size == b->buffer_size && a->result_timeout == b->result_timeout
               && a->fatal_action == b->fatal_action && a->fatal_exit_code == b->fatal_exit_code
               && a->log_events == b->log_events && a->capture_max_bytes == b->capture_max_bytes
               && a->stdin_pipe == b->stdin_pipe;
}

const char *service_type_to_string(enum service_type type) {
        switch (type) {
        case SERVICE_SIMPLE: return "simple";
        case SERVICE_NOTIFY: return "notify";
        case SERVICE_FORKING: return "forking";
        }
        return "?";
}

/* ---- the socket alone --------------------------------------------------------------- */

int config_peek_socket(const char *path, char **ret, char *error, size_t error_size) {
        char *text = NULL, *buffers = NULL;
        int r;

        *ret = NULL;
        error[0] = '\0';
        if (ini_config_sniff_file(path) == 1) {
                r = ini_config_peek_socket(path, ret, error, error_size);
                if (r == 2) {
                        snprintf(error, error_size, "%s: serverurl %.900s: only a unix:// socket is reached; give -s SOCKET",
                                 path, *ret);
                        free(*ret);
                        *ret = NULL;
                        r = -EPROTONOSUPPORT;
                }
                return r;
        }
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

/* The model's KEY of SECTION (NULL: global) in cfg, handed to the builder with the line it
 * was written on.  A key whose line the scan did not see (a quoted key) is reported at
 * its section. */
static int map_key(struct load_context *ctx, cfg_t *cfg, const char *section, int section_line,
                   struct config_builder_service *svc, const char *key, bool repeatable) {
        int line = scan_line_of(ctx->scan, section, key);
        if (line == 0)
                line = section_line;
        if (!svc) {
                const char *text = cfg_getstr(cfg, key);
                return text ? config_builder_global(ctx->builder, key, text, ctx->file, line, NULL) : 0;
        }
        if (!repeatable) {
                const char *text = cfg_getstr(cfg, key);
                return text ? config_builder_set(ctx->builder, svc, key, text, ctx->file, line, NULL) : 0;
        }
        unsigned count = cfg_size(cfg, key);
        /* `key = {}` says "none", which is not the default of success-exit-codes */
        if (count == 0 && scan_line_of(ctx->scan, section, key) > 0)
                return config_builder_set_empty(ctx->builder, svc, key, ctx->file, line, NULL);
        for (unsigned i = 0; i < count; i++) {
                int r = config_builder_set(ctx->builder, svc, key, cfg_getnstr(cfg, key, i), ctx->file, line, NULL);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The globals of the main file, or the services of one parsed file, to the builder. */
static int map_file(struct load_context *ctx, cfg_t *cfg, bool globals) {
        bool in_service, repeatable;
        const char *key;
        int r;
        for (size_t i = 0; globals && (key = config_model_key(i, &in_service, &repeatable)); i++)
                if (!in_service && (r = map_key(ctx, cfg, NULL, 0, NULL, key, repeatable)) < 0)
                        return r;
        unsigned count = cfg_size(cfg, "service");
        for (unsigned j = 0; j < count; j++) {
                cfg_t *section = cfg_getnsec(cfg, "service", j);
                const char *name = cfg_title(section);
                int line = scan_line_of(ctx->scan, name, "\001section");
                struct config_builder_service *svc;
                if ((r = config_builder_service(ctx->builder, name, ctx->file, line, &svc)) < 0)
                        return r;
                for (size_t i = 0; (key = config_model_key(i, &in_service, &repeatable)); i++)
                        if (in_service && (r = map_key(ctx, section, name, line, svc, key, repeatable)) < 0)
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
static int load_include_dir(struct load_context *ctx, const char *text, char **ret_dir) {
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
        if (dup_string(dir_path, ret_dir) < 0) {
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
                r = parse_file(ctx, path, ctx->tables.include, &cfg);
                free(path);
                if (r >= 0) {
                        r = map_file(ctx, cfg, false);
                        cfg_free(cfg);
                }
                /* Its services judged before the next file is read, as the main file's were. */
                if (r >= 0)
                        r = config_builder_check(ctx->builder, ctx->error, ctx->error_size);
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
        char *include_dir = NULL;
        cfg_t *cfg = NULL;
        int r;

        error[0] = '\0';
        /* supervisord's INI form, told apart by its content, has a reader of its own. */
        if (ini_config_sniff_file(path) == 1)
                return ini_config_load(path, ret, error, error_size);
        const struct ini_option *o = ini_config_first_option();
        if (o) {
                static const char *const native[][2] = {
                        { "logfile", "log-file" },   { "logfile_maxbytes", "log-file-max-size" },
                        { "logfile_backups", "log-file-keep" }, { "loglevel", "log-level" },
                        { "pidfile", "pidfile" },    { "childlogdir", "log-dir" },
                        { "umask", "each service's umask" },
                };
                const char *key = NULL;
                for (size_t i = 0; i < sizeof native / sizeof native[0]; i++)
                        if (strcmp(native[i][0], o->key) == 0)
                                key = native[i][1];
                snprintf(error, error_size, "supervisord %s: an option for supervisord's INI form ([supervisord] %s); "
                         "%s is in the native form%s%s%s", o->option, o->key, path, key ? ": set " : "",
                         key ? key : "", key ? " there" : ", which has no such setting");
                return -EINVAL;
        }
        if (confuse_tables_make(&ctx.tables) < 0 || !(ctx.builder = config_builder_new(path))) {
                r = -ENOMEM;
                goto out;
        }
        /* The native syntax keeps its own, narrower rule for names. */
        config_builder_name_rule(ctx.builder, service_name_is_valid, "1 to 64 of A-Z a-z 0-9 _ . -");
        r = parse_file(&ctx, path, ctx.tables.global, &cfg);
        if (r >= 0)
                r = map_file(&ctx, cfg, true);
        if (r >= 0)
                r = config_builder_check(ctx.builder, error, error_size);
        if (r >= 0 && cfg_getstr(cfg, "include-dir"))
                r = load_include_dir(&ctx, cfg_getstr(cfg, "include-dir"), &include_dir);
        if (r >= 0)
                r = config_builder_finish(ctx.builder, &c, error, error_size);
        if (r < 0)
                goto out;
        c->include_dir = include_dir;
        include_dir = NULL;
        *ret = c;
        r = 0;
out:
        if (r < 0 && !error[0])
                snprintf(error, error_size, "%s: %s", ctx.file ? ctx.file : path,
                         r == -ENOMEM ? "out of memory" : strerror(-r));
        free(include_dir);
        if (cfg)
                cfg_free(cfg);
        config_builder_free(ctx.builder);
        confuse_tables_free(&ctx.tables);
        /* libconfuse copies the whole option table for every section it parses: some
         * 5 KiB per service, freed here but left as holes under what is still live.  Give
         * those pages back, or a thousand services keep megabytes resident for nothing. */
        malloc_trim(0);
        for (size_t i = 0; i < ctx.n_files; i++)
                load_file_free(ctx.files[i]);
        scan_free(&ctx.sections);
        free(ctx.files);
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
        config_file_name_unref(s->file);
        free(s->command);
        strv_free(s->argv);
        free(s->directory);
        free(s->user_name);
        free(s->user_home);
        free(s->groups);
        if (s->environment != config_no_strings)
                strv_free(s->environment);
        free(s->pidfile);
        free(s->stdout_log);
        free(s->stderr_log);
        if (s->after != config_no_strings)
                strv_free(s->after);
        free(s->service_group);
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
        free(c->log_file);
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
        /* Each output pipe's read end (logfile.c holds the write end only during a spawn,
         * or for good where /proc is not mounted: not counted), and its log file:
         * stdout's (stderr's too with stderr = stdout), stderr's own with stderr = log. */
        if (s->stdout_target == OUTPUT_LOG)
                n += 2;
        if (s->stderr_target == OUTPUT_LOG)
                n += 2;
        /* Our ends of the ping and pong pipes (heartbeat.c). */
        if (s->heartbeat_interval > 0)
                n += 2;
        /* The notify socket (notify.c), and the pidfd of a MAINPID= not our child. */
        if (s->type == SERVICE_NOTIFY)
                n += 2;
        /* The pidfd of the daemon named by the pidfile (service.c). */
        if (s->type == SERVICE_FORKING)
                n += 1;
        /* An event listener's stdin and stdout pipes, our ends (listener.c). */
        if (s->events)
                n += 2;
        return n * (s->instances ? s->instances : 1);
}

unsigned long config_descriptors(const struct config *config) {
        unsigned long n = 0;
        for (size_t i = 0; i < config->n_services; i++)
                n += service_config_descriptors(config->services[i]);
        return n;
}

void config_client_done(struct config_client *client) {
        free(client->server);
        free(client->username);
        free(client->password);
        free(client->prompt);
        free(client->history_file);
        free(client->skipped);
        *client = (struct config_client){ 0 };
}

int config_peek_client(const char *path, struct config_client *ret, char *error, size_t error_size) {
        *ret = (struct config_client){ 0 };
        error[0] = '\0';
        if (ini_config_sniff_file(path) == 1)
                return ini_config_peek_client(path, ret, error, error_size);
        return config_peek_socket(path, &ret->server, error, error_size);
}
