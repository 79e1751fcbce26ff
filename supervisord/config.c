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
#include <errno.h>
#include <grp.h>
#include <malloc.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmdline.h"
#include "log.h"

/* ---- where keys were written ------------------------------------------------------ */

struct key_position {
        char *section;  /* service title, NULL for global keys */
        char *key;
        int line;
};

struct scan {
        const char *file;
        struct key_position *keys;  /* owned, with capacity entries */
        size_t n_keys, capacity;
        size_t *slots;              /* owned: open-addressing index, key index + 1 or 0 */
        size_t n_slots;             /* a power of two, at least twice n_keys */
        char *error;    /* first problem found, or NULL */
};

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
        char *text;      /* unescaped copy, room for the whole input (see config_scan) */
        int line;
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

static void lexer_next(struct lexer *lx, struct token *t) {
        char *p = lx->p;
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
                        p += 2;
                        while (*p && !(p[0] == '*' && p[1] == '/')) {
                                if (*p == '\n')
                                        lx->line++;
                                p++;
                        }
                        if (*p)
                                p += 2;
                        blank(start, p);
                } else
                        break;
        }
        t->line = lx->line;
        t->text[0] = '\0';
        size_t n = 0;
        if (!*p) {
                t->type = TOKEN_END;
        } else if (*p == '"' || *p == '\'') {
                char quote = *p++;
                t->type = TOKEN_STRING;
                while (*p && *p != quote) {
                        if (*p == '\\' && p[1])
                                p++;
                        if (*p == '\n')
                                lx->line++;
                        t->text[n++] = *p;
                        p++;
                }
                if (*p)
                        p++;
        } else if (strchr("{}=,()", *p) || (p[0] == '+' && p[1] == '=')) {
                t->type = TOKEN_PUNCT;
                t->text[n++] = *p;
                if (*p++ == '+')
                        t->text[n++] = *p++;
        } else {
                t->type = TOKEN_WORD;
                while (*p && !strchr(" \t\r\n{}=,()#\"'", *p) && !(p[0] == '+' && p[1] == '=')) {
                        t->text[n++] = *p;
                        p++;
                }
        }
        t->text[n] = '\0';
        lx->p = p;
}

static int scan_add(struct scan *scan, const char *section, const char *key, int line) {
        /* Section markers are not keys: duplicate titles are libconfuse's to report. */
        int first = key[0] == '\001' ? 0 : scan_line_of(scan, section, key);
        if (first > 0 && !scan->error) {
                if (asprintf(&scan->error, "%s:%d: '%s' is set twice (first at line %d)", scan->file,
                             line, key, first) < 0)
                        return -ENOMEM;
                return 0;
        }
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

/* Record "KEY =" positions at the top level and one level into `service TITLE { }`.
 * Syntax errors are libconfuse's to report; this only has to survive them. */
static int config_scan(char *text, struct scan *scan) {
        struct lexer lx = { .p = text, .line = 1 };
        /* A token is never longer than the input: two such buffers mean nothing is cut. */
        size_t size = strlen(text) + 1;
        char *buffers = malloc(3 * size);
        if (!buffers)
                return -ENOMEM;
        struct token previous = { .type = TOKEN_END, .text = buffers }, current = { .text = buffers + size };
        char *section = buffers + 2 * size;
        int depth = 0, section_line = 0, r = 0;

        previous.text[0] = section[0] = '\0';
        for (;;) {
                lexer_next(&lx, &current);
                if (current.type == TOKEN_END)
                        break;
                if (current.type == TOKEN_PUNCT && (!strcmp(current.text, "=") || !strcmp(current.text, "+="))
                    && previous.type == TOKEN_WORD && depth <= 1) {
                        r = scan_add(scan, depth == 1 ? section : NULL, previous.text, previous.line);
                        if (r < 0)
                                goto out;
                } else if (current.type == TOKEN_PUNCT && !strcmp(current.text, "{")) {
                        bool list = previous.type == TOKEN_PUNCT && strcmp(previous.text, "{") != 0
                                    && strcmp(previous.text, "}") != 0;
                        if (depth == 0 && !list) {
                                /* `service TITLE {`: the title was the previous token */
                                strcpy(section, previous.text);
                                section_line = previous.line;
                                r = scan_add(scan, section, "\001section", section_line);
                                if (r < 0)
                                        goto out;
                        }
                        /* Lists `{ ... }` inside a section also nest; they hold no keys. */
                        depth++;
                } else if (current.type == TOKEN_PUNCT && !strcmp(current.text, "}")) {
                        if (depth > 0)
                                depth--;
                }
                char *spare = previous.text;
                previous = current;
                current.text = spare;
        }
        if (depth > 0 && !scan->error
            && asprintf(&scan->error, "%s:%d: section '%s' is not closed with '}'", scan->file, section_line, section) < 0)
                r = -ENOMEM;
out:
        free(buffers);
        return r < 0 ? r : 0;
}

/* ---- loading ------------------------------------------------------------------------ */

struct load_context {
        const char *file;
        const struct scan *scan;
        char *error;
        size_t error_size;
        bool failed;
        /* The groups looked up last, so that a thousand services of one user cost one
         * lookup: borrowed from the service they were made for, which outlives the load. */
        const struct service_config *last_groups;
};

/* libconfuse reports through this; only the first message is kept. */
static struct load_context *current_load;

static void __attribute__((format(printf, 2, 0))) confuse_error(cfg_t *cfg, const char *format, va_list ap) {
        struct load_context *ctx = current_load;
        if (!ctx || ctx->failed)
                return;
        ctx->failed = true;
        int n;
        if (cfg && cfg->line > 0)
                n = snprintf(ctx->error, ctx->error_size, "%s:%d: ", ctx->file, cfg->line);
        else
                n = snprintf(ctx->error, ctx->error_size, "%s: ", ctx->file);
        if (n >= 0 && (size_t)n < ctx->error_size)
                vsnprintf(ctx->error + n, ctx->error_size - (size_t)n, format, ap);
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
        CFG_STR("socket", CONFIG_DEFAULT_SOCKET, CFGF_NONE),
        CFG_STR("socket-mode", "0600", CFGF_NONE),
        CFG_STR("socket-group", NULL, CFGF_NODEFAULT),
        CFG_STR("pidfile", CONFIG_DEFAULT_PIDFILE, CFGF_NONE),
        CFG_STR("log-level", "info", CFGF_NONE),
        CFG_STR("log-dir", CONFIG_DEFAULT_LOG_DIR, CFGF_NONE),
        CFG_STR("log-target", "auto", CFGF_NONE),
        CFG_STR("cgroup", "auto", CFGF_NONE),
        CFG_SEC("service", service_options, CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
        CFG_END(),
};

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

static int load_globals(struct load_context *ctx, cfg_t *cfg, struct config *c) {
        const char *text = cfg_getstr(cfg, "socket");
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

        text = cfg_getstr(cfg, "pidfile");
        if (text[0] != '/')
                return load_error(ctx, NULL, "pidfile", "pidfile: '%s' is not an absolute path", text);
        if (dup_string(text, &c->pidfile) < 0)
                return -ENOMEM;

        text = cfg_getstr(cfg, "log-level");
        if ((c->log_level = log_level_from_string(text)) < 0)
                return load_error(ctx, NULL, "log-level",
                                  "log-level: '%s' is not one of error, warning, notice, info, debug", text);

        /* Room is left for "/NAME@K.log.N" within PATH_MAX. */
        text = cfg_getstr(cfg, "log-dir");
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

static int read_file(const char *path, char **ret) {
        FILE *f = fopen(path, "re");
        if (!f)
                return -errno;
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
        int r = ferror(f) ? (errno ? -errno : -EIO) : 0;
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
                if (j < 0)
                        return load_error(ctx, s->name, "after", "after: no service named '%s'", after);
                if (colour[j] == 1)
                        return dependency_cycle_error(ctx, c, path, depth, (size_t)j);
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

int config_load(const char *path, struct config **ret, char *error, size_t error_size) {
        struct scan scan = { .file = path };
        struct load_context ctx = { .file = path, .scan = &scan, .error = error, .error_size = error_size };
        struct config *c = NULL;
        cfg_t *cfg = NULL;
        char *text = NULL;
        int r;

        error[0] = '\0';
        r = read_file(path, &text);
        if (r < 0) {
                snprintf(error, error_size, "%s: %s", path,
                         r == -EILSEQ ? "not a text file (contains a NUL byte)" : strerror(-r));
                return r;
        }
        cfg = cfg_init(global_options, CFGF_NONE);
        if (!cfg) {
                r = -ENOMEM;
                goto out;
        }
        r = config_scan(text, &scan);  /* also blanks the comments for libconfuse */
        if (r < 0)
                goto out;
        cfg_set_error_function(cfg, confuse_error);
        current_load = &ctx;
        r = cfg_parse_buf(cfg, text);
        current_load = NULL;
        if (r != CFG_SUCCESS) {
                if (!ctx.failed)
                        snprintf(error, error_size, "%s: parse error", path);
                r = -EINVAL;
                goto out;
        }
        if (scan.error) {
                snprintf(error, error_size, "%s", scan.error);
                r = -EINVAL;
                goto out;
        }

        c = calloc(1, sizeof *c);
        if (!c || !(c->path = strdup(path))) {
                r = -ENOMEM;
                goto out;
        }
        r = load_globals(&ctx, cfg, c);
        if (r < 0)
                goto out;
        unsigned count = cfg_size(cfg, "service");
        c->services = calloc(count ? count : 1, sizeof *c->services);
        if (!c->services) {
                r = -ENOMEM;
                goto out;
        }
        for (unsigned i = 0; i < count; i++) {
                struct service_config *s = calloc(1, sizeof *s);
                if (!s) {
                        r = -ENOMEM;
                        goto out;
                }
                s->refcount = 1;
                c->services[c->n_services++] = s;
                r = load_service(&ctx, cfg_getnsec(cfg, "service", i), s);
                if (r < 0)
                        goto out;
        }
        r = check_dependencies(&ctx, c);
        if (r < 0)
                goto out;
        *ret = c;
        c = NULL;
        r = 0;
out:
        if (r == -ENOMEM && !error[0])
                snprintf(error, error_size, "%s: out of memory", path);
        config_free(c);
        if (cfg)
                cfg_free(cfg);
        /* libconfuse copies the whole option table for every section it parses: some
         * 5 KiB per service, freed here but left as holes under what is still live.  Give
         * those pages back, or a thousand services keep megabytes resident for nothing. */
        malloc_trim(0);
        scan_free(&scan);
        free(text);
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
        free(c->cgroup_path);
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
