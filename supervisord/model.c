/* model.c — see model.h.
 *
 * The builder keeps what a reader gave as text, unjudged; config_builder_check then runs
 * the rows of `keys` in their order over the globals and over each service, so that the
 * first problem reported is the same whatever order a reader gives the keys in. */
#include "model.h"

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmdline.h"
#include "eventtype.h"
#include "util.h"

/* ---- what a reader gave ------------------------------------------------------------- */

/* One value of one key, or one entry of a repeatable key; EMPTY marks a repeatable key
 * given with no entry. */
struct given {
        char *text;         /* owned; NULL when EMPTY */
        const char *file;   /* interned in the builder */
        char *shown;        /* owned: the key's name in messages */
        int line;
        bool empty;
        struct given *next; /* the key's next entry; owned */
};

enum scope {
        SCOPE_GLOBAL,
        SCOPE_SERVICE,
        SCOPE_CHECK,  /* not a key: a check between the keys above it */
};

struct check;

struct model_key {
        const char *name;
        enum scope scope;
        bool repeatable;
        const char *default_text;  /* NULL: none */
        int (*parse)(struct check *ck, const struct model_key *k);
        size_t offset;             /* for the shared parsers: the field */
        long min, max;             /* ... and the range of an integer */
};

struct config_builder_service {
        char *name;                 /* owned */
        const char *file;           /* interned */
        int line;
        bool checked;
        char *problem;              /* owned: a key given twice, reported by the check */
        struct given **by_key;      /* owned: N_KEYS lists, each owned */
};

struct config_builder {
        char *main_path;                       /* owned */
        char **files;                          /* owned: the interned file names */
        size_t n_files;
        struct given **globals;                /* owned: N_KEYS lists */
        char *globals_problem;                 /* owned */
        bool globals_checked;
        struct config_builder_service **services;  /* owned, each owned */
        size_t n_services, services_capacity;
        bool (*name_valid)(const char *name);
        const char *name_rule;
        char **warnings;                       /* owned, NULL-terminated once there is one */
        size_t n_warnings;
        struct config *config;                 /* owned until finished */
        bool failed;
        /* The groups looked up last, so that a thousand services of one user cost one
         * look-up: borrowed from the service they were made for, owned by config. */
        const struct service_config *last_groups;
};

/* The state of one check: the service (or the globals, SVC NULL) being judged. */
struct check {
        struct config_builder *b;
        struct config_builder_service *svc;
        struct given **by_key;
        struct service_config *s;
        struct config *c;
        char *error;
        size_t error_size;
};

static const struct model_key keys[];
static const size_t n_keys;

static size_t key_index(const struct model_key *k) { return (size_t)(k - keys); }

/* ---- messages ------------------------------------------------------------------------ */

static const struct model_key *find_key(enum scope scope, const char *name) {
        for (size_t i = 0; i < n_keys; i++)
                if (keys[i].scope == scope && strcmp(keys[i].name, name) == 0)
                        return &keys[i];
        return NULL;
}

static const struct given *given_of(const struct check *ck, const char *name) {
        const struct model_key *k = find_key(ck->svc ? SCOPE_SERVICE : SCOPE_GLOBAL, name);
        return k ? ck->by_key[key_index(k)] : NULL;
}

/* How the reader names KEY: as it was given, else the model's name. */
static const char *shown(const struct check *ck, const char *name) {
        const struct given *g = given_of(ck, name);
        return g && g->shown ? g->shown : name;
}

static int __attribute__((format(printf, 4, 0)))
fail_at_v(struct check *ck, const char *file, int line, const char *format, va_list ap) {
        if (ck->b->failed)
                return -EINVAL;
        ck->b->failed = true;
        int n = line > 0 ? snprintf(ck->error, ck->error_size, "%s:%d: ", file, line)
                         : snprintf(ck->error, ck->error_size, "%s: ", file);
        if (n >= 0 && (size_t)n < ck->error_size)
                vsnprintf(ck->error + n, ck->error_size - (size_t)n, format, ap);
        return -EINVAL;
}

/* A problem at the entry G, else where the service begins (or, for a global, in the
 * main file). */
static int __attribute__((format(printf, 3, 4))) fail_given(struct check *ck, const struct given *g, const char *format, ...) {
        const char *file = g ? g->file : ck->svc ? ck->svc->file : ck->b->main_path;
        int line = g ? g->line : ck->svc ? ck->svc->line : 0;
        va_list ap;
        va_start(ap, format);
        int r = fail_at_v(ck, file, line, format, ap);
        va_end(ap);
        return r;
}

/* A problem with KEY (its model name; NULL: the service or the file as a whole). */
#define fail(ck, key, ...) fail_given((ck), (key) ? given_of((ck), (key)) : NULL, __VA_ARGS__)

static int add_warning(struct config_builder *b, char *message) {
        char **grown = realloc(b->warnings, (b->n_warnings + 2) * sizeof *grown);
        if (!grown) {
                free(message);
                return -ENOMEM;
        }
        b->warnings = grown;
        b->warnings[b->n_warnings++] = message;
        b->warnings[b->n_warnings] = NULL;
        return 0;
}

static int __attribute__((format(printf, 4, 0)))
warn_v(struct config_builder *b, const char *file, int line, const char *format, va_list ap) {
        char *text, *message;
        if (vasprintf(&text, format, ap) < 0)
                return -ENOMEM;
        int n = line > 0 ? asprintf(&message, "%s:%d: warning: %s", file, line, text)
                         : asprintf(&message, "%s: warning: %s", file, text);
        free(text);
        if (n < 0)
                return -ENOMEM;
        return add_warning(b, message);
}

int config_builder_warn(struct config_builder *b, const char *file, int line, const char *format, ...) {
        va_list ap;
        va_start(ap, format);
        int r = warn_v(b, file, line, format, ap);
        va_end(ap);
        return r;
}

static int __attribute__((format(printf, 3, 4))) warn_given(struct check *ck, const struct given *g, const char *format, ...) {
        va_list ap;
        va_start(ap, format);
        int r = warn_v(ck->b, g->file, g->line, format, ap);
        va_end(ap);
        return r;
}

/* ---- value syntax -------------------------------------------------------------------- */

static int dup_string(const char *text, char **ret) {
        if (!text) {
                *ret = NULL;
                return 0;
        }
        *ret = strdup(text);
        return *ret ? 0 : -ENOMEM;
}

/* The text of the (single) KEY: as given, else its default, else NULL. */
static const char *text_of(const struct check *ck, const struct model_key *k) {
        const struct given *g = ck->by_key[key_index(k)];
        return g ? g->text : k->default_text;
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

/* "auto", "stderr", "journal", "syslog", "none"; -EINVAL otherwise. */
static int log_target_from_string(const char *name) {
        static const char *const names[] = {
                [LOG_TARGET_STDERR] = "stderr", [LOG_TARGET_SYSLOG] = "syslog",
                [LOG_TARGET_JOURNAL] = "journal", [LOG_TARGET_AUTO] = "auto",
                [LOG_TARGET_NONE] = "none",
        };
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (names[i] && strcmp(names[i], name) == 0)
                        return (int)i;
        return -EINVAL;
}

/* One byte sequence of UTF-8 at P (of at most N bytes): its length, or 0 when it is not
 * one (overlong forms, surrogates and code points past U+10FFFF included). */
static size_t utf8_length(const unsigned char *p, size_t n) {
        if (p[0] < 0x80)
                return 1;
        size_t len = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 ? 2 : 0;
        if (len == 0 || len > n || p[0] > 0xf4)
                return 0;
        for (size_t i = 1; i < len; i++)
                if ((p[i] & 0xc0) != 0x80)
                        return 0;
        if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0) || (p[0] == 0xf0 && p[1] < 0x90)
            || (p[0] == 0xf4 && p[1] >= 0x90))
                return 0;
        return len;
}

bool config_model_name_is_valid(const char *name) {
        size_t n = strlen(name);
        if (n < 1 || n > SERVICE_NAME_MAX)
                return false;
        for (const unsigned char *p = (const unsigned char *)name; *p;) {
                /* supervisord refuses a space, ':' and '/'; control characters and other
                 * whitespace would break logs and the line protocol just as well. */
                if (*p < 0x20 || *p == 0x7f || *p == ' ' || *p == ':' || *p == '/')
                        return false;
                size_t len = utf8_length(p, n - (size_t)(p - (const unsigned char *)name));
                if (len == 0)
                        return false;
                p += len;
        }
        return true;
}

/* ---- user and group look-ups (reentrant: a load may run off the main thread) ------- */

/* getpwnam_r and its kin want a buffer of a size they do not tell: grow it until it fits. */
#define LOOKUP(call, result)                                                   \
        ({                                                                     \
                int r_ = 0;                                                    \
                for (size_t size_ = 1024;; size_ *= 2) {                       \
                        char *grown_ = realloc(*buf, size_);                   \
                        if (!grown_) {                                         \
                                r_ = -ENOMEM;                                  \
                                break;                                         \
                        }                                                      \
                        *buf = grown_;                                         \
                        r_ = (call);                                           \
                        if (r_ != ERANGE || size_ >= (1u << 20))               \
                                break;                                         \
                }                                                              \
                r_ > 0 ? -r_ : (r_ == 0 && !(result)) ? -ENOENT : r_;          \
        })

static int lookup_user(const char *text, struct passwd *pw, char **buf) {
        struct passwd *result = NULL;
        long uid;
        if (parse_long(text, 0, (long)UINT32_MAX - 1, &uid) == 0)
                return LOOKUP(getpwuid_r((uid_t)uid, pw, *buf, size_, &result), result);
        return LOOKUP(getpwnam_r(text, pw, *buf, size_, &result), result);
}

static int lookup_group(const char *text, gid_t *ret) {
        long gid;
        if (parse_long(text, 0, (long)UINT32_MAX - 1, &gid) == 0) {
                *ret = (gid_t)gid;
                return 0;
        }
        struct group gr, *result = NULL;
        char *storage = NULL, **buf = &storage;
        int r = LOOKUP(getgrnam_r(text, &gr, *buf, size_, &result), result);
        if (r == 0)
                *ret = gr.gr_gid;
        free(storage);
        return r;
}

/* The look-up of NAME, a KIND ("user", "group"), for KEY failed with R: NAME is unknown,
 * or the system's databases could not be read.  Out of descriptors, R goes back to the
 * loader, which tries again (loader.c): that is no unknown user. */
static int lookup_failed(struct check *ck, const char *key, const char *kind, const char *name, int r) {
        if (r == -ENOMEM)
                return r;
        if (r == -ENOENT)
                return fail(ck, key, "%s: unknown %s '%s'", shown(ck, key), kind, name);
        (void)fail(ck, key, "%s: cannot look up %s '%s': %s", shown(ck, key), kind, name, strerror(-r));
        return r;
}

int config_model_user_name(uid_t uid, char *name, size_t size) {
        struct passwd pw, *result = NULL;
        char *storage = NULL, **buf = &storage;
        int r = LOOKUP(getpwuid_r(uid, &pw, *buf, size_, &result), result);
        if (r == 0)
                snprintf(name, size, "%s", pw.pw_name);
        free(storage);
        return r;
}

/* ---- the rows' parsers ---------------------------------------------------------------- */

static int parse_command(struct check *ck, const struct model_key *k) {
        struct service_config *s = ck->s;
        const char *text = text_of(ck, k);
        if (!text)
                return fail(ck, NULL, "service '%s' has no command", s->name);
        const char *split_error = "invalid command";
        int r = cmdline_split(text, &s->argv, &split_error);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return fail(ck, "command", "%s: %s", shown(ck, "command"), split_error);
        return dup_string(text, &s->command);
}

static int parse_type(struct check *ck, const struct model_key *k) {
        const char *text = text_of(ck, k);
        if (strcmp(text, "simple") == 0)
                ck->s->type = SERVICE_SIMPLE;
        else if (strcmp(text, "notify") == 0)
                ck->s->type = SERVICE_NOTIFY;
        else if (strcmp(text, "forking") == 0)
                ck->s->type = SERVICE_FORKING;
        else
                return fail(ck, "type", "%s: '%s' is not one of simple, notify, forking", shown(ck, "type"), text);
        return 0;
}

static int parse_service_pidfile(struct check *ck, const struct model_key *k) {
        const char *text = text_of(ck, k);
        if (!text) {
                if (ck->s->type == SERVICE_FORKING)
                        return fail(ck, "type", "%s = forking needs a %s", shown(ck, "type"), shown(ck, "pidfile"));
                return 0;
        }
        if (ck->s->type != SERVICE_FORKING)
                return fail(ck, "pidfile", "%s: only for %s = forking", shown(ck, "pidfile"), shown(ck, "type"));
        if (text[0] != '/')
                return fail(ck, "pidfile", "%s: '%s' is not an absolute path", shown(ck, "pidfile"), text);
        return dup_string(text, &ck->s->pidfile);
}

/* An integer within the row's range into the unsigned at its offset. */
static int parse_count(struct check *ck, const struct model_key *k) {
        const char *text = text_of(ck, k);
        long n;
        if (parse_long(text, k->min, k->max, &n) < 0)
                return fail(ck, k->name, "%s: '%s' is not an integer from %ld to %ld", shown(ck, k->name), text, k->min,
                            k->max);
        *(unsigned *)((char *)ck->s + k->offset) = (unsigned)n;
        return 0;
}

static int parse_instances(struct check *ck, const struct model_key *k) {
        int r = parse_count(ck, k);
        if (r < 0)
                return r;
        if (ck->s->instances > 1 && ck->s->type == SERVICE_FORKING)
                return fail(ck, "instances", "%s: not supported with %s = forking (one pidfile)", shown(ck, "instances"),
                            shown(ck, "type"));
        return 0;
}

static size_t count_of(const struct check *ck, const struct model_key *k) {
        size_t n = 0;
        for (const struct given *g = ck->by_key[key_index(k)]; g; g = g->next)
                n += !g->empty;
        return n;
}

static int parse_after(struct check *ck, const struct model_key *k) {
        struct service_config *s = ck->s;
        size_t n = count_of(ck, k);
        if (!(s->after = n ? calloc(n + 1, sizeof(char *)) : config_no_strings))
                return -ENOMEM;
        size_t i = 0;
        for (const struct given *g = ck->by_key[key_index(k)]; g; g = g->next) {
                if (g->empty)
                        continue;
                if (!ck->b->name_valid(g->text))
                        return fail_given(ck, g, "%s: '%s' is not a service name", shown(ck, "after"), g->text);
                if (dup_string(g->text, &s->after[i++]) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* supervisord's priority: any integer, lower starts first and stops last. */
static int parse_priority(struct check *ck, const struct model_key *k) {
        const char *text = text_of(ck, k);
        long n;
        if (parse_long(text, INT_MIN, INT_MAX, &n) < 0)
                return fail(ck, k->name, "%s: '%s' is not an integer", shown(ck, k->name), text);
        ck->s->priority = ck->s->group_priority = (int)n;
        return 0;
}

static int parse_service_group(struct check *ck, const struct model_key *k) {
        const char *text = text_of(ck, k);
        if (!text)
                return 0;
        if (!ck->b->name_valid(text))
                return fail(ck, k->name, "%s: invalid group name '%s': use %s", shown(ck, k->name), text,
                            ck->b->name_rule);
        if (strcmp(text, "all") == 0)
                return fail(ck, k->name, "%s: the name 'all' is reserved (it addresses every process)",
                            shown(ck, k->name));
        ck->s->group_priority = 999;  /* supervisord's default for a [group:x] */
        return dup_string(text, &ck->s->service_group);
}

static int parse_service_group_priority(struct check *ck, const struct model_key *k) {
        const char *text = text_of(ck, k);
        long n;
        if (!text)
                return 0;
        if (!ck->s->service_group)
                return fail(ck, k->name, "%s: only with %s (a service alone is ordered by its %s)", shown(ck, k->name),
                            shown(ck, "service-group"), shown(ck, "priority"));
        if (parse_long(text, INT_MIN, INT_MAX, &n) < 0)
                return fail(ck, k->name, "%s: '%s' is not an integer", shown(ck, k->name), text);
        ck->s->group_priority = (int)n;
        return 0;
}

static int parse_directory(struct check *ck, const struct model_key *k) {
        const char *text = text_of(ck, k);
        if (!text)
                return 0;
        if (text[0] != '/')
                return fail(ck, "directory", "%s: '%s' is not an absolute path", shown(ck, "directory"), text);
        return dup_string(text, &ck->s->directory);
}

static int parse_group(struct check *ck, const struct model_key *k) {
        const char *text = text_of(ck, k);
        if (!text)
                return 0;
        int r = lookup_group(text, &ck->s->gid);
        if (r < 0)
                return lookup_failed(ck, "group", "group", text, r);
        ck->s->has_group = true;
        return 0;
}

/* The supplementary groups of `user` with gid among them, as initgroups(3) would set
 * them.  Looked up here because the spawned child shares supervisord's memory until it
 * execs and must not call NSS; a change to the group database applies from the next
 * load (reload). */
static int load_groups(struct check *ck) {
        struct service_config *s = ck->s;
        const struct service_config *last = ck->b->last_groups;
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
                                return fail(ck, "user", "%s: '%s' is in more than 65536 groups", shown(ck, "user"),
                                            s->user_name);
                        if (count <= have)  /* no bigger size asked for: give it more */
                                count = have * 2;
                }
                n = (size_t)count;
        }
        s->n_groups = n;
        ck->b->last_groups = s;
        return 0;
}

static int parse_user(struct check *ck, const struct model_key *k) {
        struct service_config *s = ck->s;
        const char *text = text_of(ck, k);
        if (!text)
                return 0;
        struct passwd pw;
        char *storage = NULL, **buf = &storage;
        int r = lookup_user(text, &pw, buf);
        if (r < 0) {
                free(storage);
                return lookup_failed(ck, "user", "user", text, r);
        }
        s->has_user = true;
        s->uid = pw.pw_uid;
        if (!s->has_group)
                s->gid = pw.pw_gid;
        r = dup_string(pw.pw_name, &s->user_name) < 0 || dup_string(pw.pw_dir, &s->user_home) < 0 ? -ENOMEM : 0;
        free(storage);
        return r < 0 ? r : load_groups(ck);
}

static int parse_umask(struct check *ck, const struct model_key *k) {
        const char *text = text_of(ck, k);
        if (!text)
                return 0;
        if (parse_mode(text, &ck->s->umask) < 0 || ck->s->umask > 0777)
                return fail(ck, "umask", "%s: '%s' is not an octal mode such as 022", shown(ck, "umask"), text);
        ck->s->has_umask = true;
        return 0;
}

static int parse_nice(struct check *ck, const struct model_key *k) {
        const char *text = text_of(ck, k);
        long n;
        if (!text)
                return 0;
        if (parse_long(text, -20, 19, &n) < 0)
                return fail(ck, "nice", "%s: '%s' is not an integer from -20 to 19", shown(ck, "nice"), text);
        ck->s->has_nice = true;
        ck->s->nice = (int)n;
        return 0;
}

/* supervisord writes environment=A="1",B="2": here that is one variable A whose value
 * runs on to the end.  Accepted, as it may be meant, but said. */
static int warn_comma_environment(struct check *ck, const struct given *g) {
        const char *entry = g->text, *eq = strchr(entry, '=');
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
        const char *key = shown(ck, "environment");
        return warn_given(ck, g,
                          "%s: \"%s\" is one variable, %.*s, with the value \"%s\"; for several, write "
                          "%s = { %s }",
                          key, entry, (int)(eq - entry), entry, eq + 1, key, list);
}

/* The SUPERVISOR_* variables that are ours alone: what a killed supervisord's leftovers
 * are known by (SUPERVISOR_PIDFILE, SUPERVISOR_SERVICE, SUPERVISOR_INSTANCE) and the
 * heartbeat fds.  The rest, such as Python supervisord's SUPERVISOR_PROCESS_NAME or the
 * SUPERVISOR_USERNAME its childutils reads, `environment` may set, as there. */
static const char *environment_reserved(const char *entry) {
        static const char *const names[] = { "SUPERVISOR_SERVICE", "SUPERVISOR_INSTANCE", "SUPERVISOR_PIDFILE",
                                             "SUPERVISOR_PING_FD", "SUPERVISOR_PONG_FD" };
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                size_t n = strlen(names[i]);
                if (strncmp(entry, names[i], n) == 0 && entry[n] == '=')
                        return names[i];
        }
        return NULL;
}

static int parse_environment(struct check *ck, const struct model_key *k) {
        struct service_config *s = ck->s;
        size_t n = count_of(ck, k);
        if (!(s->environment = n ? calloc(n + 1, sizeof(char *)) : config_no_strings))
                return -ENOMEM;
        size_t i = 0;
        int r;
        for (const struct given *g = ck->by_key[key_index(k)]; g; g = g->next) {
                if (g->empty)
                        continue;
                if (!environment_entry_is_valid(g->text))
                        return fail_given(ck, g, "%s: '%s' is not of the form KEY=VALUE", shown(ck, "environment"),
                                          g->text);
                if (environment_reserved(g->text))
                        return fail_given(ck, g, "%s: %s is set by supervisord", shown(ck, "environment"),
                                          environment_reserved(g->text));
                if (dup_string(g->text, &s->environment[i++]) < 0)
                        return -ENOMEM;
                if ((r = warn_comma_environment(ck, g)) < 0)
                        return r;
        }
        return 0;
}

static int parse_autostart(struct check *ck, const struct model_key *k) {
        const char *text = text_of(ck, k);
        if (parse_bool(text, &ck->s->autostart) < 0)
                return fail(ck, "autostart", "%s: '%s' is not true or false", shown(ck, "autostart"), text);
        return 0;
}

static int parse_restart(struct check *ck, const struct model_key *k) {
        const char *text = text_of(ck, k);
        if (strcmp(text, "always") == 0)
                ck->s->restart = RESTART_ALWAYS;
        else if (strcmp(text, "on-failure") == 0)
                ck->s->restart = RESTART_ON_FAILURE;
        else if (strcmp(text, "never") == 0)
                ck->s->restart = RESTART_NEVER;
        else
                return fail(ck, "restart", "%s: '%s' is not one of always, on-failure, never", shown(ck, "restart"),
                            text);
        return 0;
}

static int parse_exit_code(struct check *ck, const struct given *g, const char *text) {
        long n;
        if (parse_long(text, 0, 255, &n) < 0)
                return fail_given(ck, g, "%s: '%s' is not an exit code from 0 to 255", shown(ck, "success-exit-codes"),
                                  text);
        ck->s->success_exit_codes[n / 8] |= (unsigned char)(1u << (n % 8));
        return 0;
}

static int parse_success_exit_codes(struct check *ck, const struct model_key *k) {
        const struct given *first = ck->by_key[key_index(k)];
        if (!first)
                return parse_exit_code(ck, NULL, k->default_text);
        for (const struct given *g = first; g; g = g->next)
                if (!g->empty) {
                        int r = parse_exit_code(ck, g, g->text);
                        if (r < 0)
                                return r;
                }
        return 0;
}

/* A number of seconds into the usec_t at the row's offset. */
static int parse_duration(struct check *ck, const struct model_key *k) {
        const char *text = text_of(ck, k);
        if (parse_seconds(text, (usec_t *)((char *)ck->s + k->offset)) < 0)
                return fail(ck, k->name, "%s: '%s' is not a number of seconds", shown(ck, k->name), text);
        return 0;
}

static int check_restart_delays(struct check *ck, const struct model_key *k) {
        (void)k;
        if (ck->s->restart_delay == 0)
                return fail(ck, "restart-delay", "%s: must be greater than 0", shown(ck, "restart-delay"));
        if (ck->s->restart_delay_max < ck->s->restart_delay)
                return fail(ck, "restart-delay-max", "%s: must not be less than %s", shown(ck, "restart-delay-max"),
                            shown(ck, "restart-delay"));
        return 0;
}

static int parse_stop_signal(struct check *ck, const struct model_key *k) {
        const char *text = text_of(ck, k);
        if ((ck->s->stop_signal = signal_from_name(text)) < 0)
                return fail(ck, "stop-signal", "%s: unknown signal '%s'", shown(ck, "stop-signal"), text);
        return 0;
}

static int parse_resource_limit(struct check *ck, const struct model_key *k) {
        const char *text = text_of(ck, k);
        if (text && parse_limit(text, (struct resource_limit *)((char *)ck->s + k->offset)) < 0)
                return fail(ck, k->name, "%s: '%s' is not a non-negative integer or 'infinity'", shown(ck, k->name),
                            text);
        return 0;
}

static int parse_stdout(struct check *ck, const struct model_key *k) {
        const char *text = text_of(ck, k);
        if (parse_output_target(text, false, &ck->s->stdout_target) < 0)
                return fail(ck, "stdout", "%s: '%s' is not one of log, null, inherit, journal", shown(ck, "stdout"),
                            text);
        return 0;
}

static int parse_stderr(struct check *ck, const struct model_key *k) {
        const char *text = text_of(ck, k);
        if (parse_output_target(text, true, &ck->s->stderr_target) < 0)
                return fail(ck, "stderr", "%s: '%s' is not one of log, null, inherit, journal, stdout",
                            shown(ck, "stderr"), text);
        return 0;
}

static int parse_log_max_size(struct check *ck, const struct model_key *k) {
        const char *text = text_of(ck, k);
        /* Below a few KiB rotation would run on nearly every write. */
        if (parse_size(text, &ck->s->log_max_size) < 0 || (ck->s->log_max_size > 0 && ck->s->log_max_size < 4096))
                return fail(ck, "log-max-size",
                            "%s: '%s' is not 0 or a size of at least 4096 bytes (suffix K, M or G allowed)",
                            shown(ck, "log-max-size"), text);
        return 0;
}

/* stdout-log and stderr-log: the stream's log file at a path of its own, instead of
 * log-dir's.  A path and not a directory: every instance would write the one file. */
static int parse_stream_log(struct check *ck, const struct model_key *k) {
        struct service_config *s = ck->s;
        const char *text = text_of(ck, k);
        bool err = k->name[3] == 'e';
        if (!text)
                return 0;
        if ((err ? s->stderr_target : s->stdout_target) != OUTPUT_LOG)
                return fail(ck, k->name, "%s: only with %s = log", shown(ck, k->name), shown(ck, err ? "stderr" : "stdout"));
        size_t len = strlen(text);
        if (text[0] != '/' || text[len - 1] == '/' || len >= PATH_MAX)
                return fail(ck, k->name, "%s: '%s' is not an absolute path of a file", shown(ck, k->name), text);
        const char *last = strrchr(text, '/') + 1;
        if (strcmp(last, ".") == 0 || strcmp(last, "..") == 0 || strlen(last) > NAME_MAX - 6)
                return fail(ck, k->name, "%s: '%s' is not an absolute path of a file", shown(ck, k->name), text);
        if (s->instances > 1)
                return fail(ck, k->name, "%s: one file cannot take the output of %u instances; leave it to log-dir",
                            shown(ck, k->name), s->instances);
        return dup_string(text, err ? &s->stderr_log : &s->stdout_log);
}

static int parse_stderr_log_max_size(struct check *ck, const struct model_key *k) {
        const char *text = text_of(ck, k);
        struct service_config *s = ck->s;
        if (!text) {
                s->stderr_log_max_size = s->log_max_size;
                return 0;
        }
        if (parse_size(text, &s->stderr_log_max_size) < 0 || (s->stderr_log_max_size > 0 && s->stderr_log_max_size < 4096))
                return fail(ck, "stderr-log-max-size",
                            "%s: '%s' is not 0 or a size of at least 4096 bytes (suffix K, M or G allowed)",
                            shown(ck, "stderr-log-max-size"), text);
        return 0;
}

static int parse_stderr_log_keep(struct check *ck, const struct model_key *k) {
        if (!text_of(ck, k)) {
                ck->s->stderr_log_keep = ck->s->log_keep;
                return 0;
        }
        return parse_count(ck, k);
}

static int parse_heartbeat_interval(struct check *ck, const struct model_key *k) {
        struct service_config *s = ck->s;
        const char *text = text_of(ck, k);
        if (parse_seconds(text, &s->heartbeat_interval) < 0)
                return fail(ck, "heartbeat-interval", "%s: '%s' is not a number of seconds",
                            shown(ck, "heartbeat-interval"), text);
        /* Below 10 ms a heartbeat is a busy loop, not a liveness check. */
        if (s->heartbeat_interval > 0 && s->heartbeat_interval < 10 * USEC_PER_MSEC)
                return fail(ck, "heartbeat-interval", "%s: must be 0 (off) or at least 0.01 seconds",
                            shown(ck, "heartbeat-interval"));
        return 0;
}

static int parse_heartbeat_timeout(struct check *ck, const struct model_key *k) {
        struct service_config *s = ck->s;
        const char *text = text_of(ck, k);
        s->heartbeat_timeout = s->heartbeat_interval;
        if (!text)
                return 0;
        if (parse_seconds(text, &s->heartbeat_timeout) < 0 || s->heartbeat_timeout == 0)
                return fail(ck, "heartbeat-timeout", "%s: '%s' is not a positive number of seconds",
                            shown(ck, "heartbeat-timeout"), text);
        /* One ping in flight at a time: its answer is due before the next ping. */
        if (s->heartbeat_interval > 0 && s->heartbeat_timeout > s->heartbeat_interval)
                return fail(ck, "heartbeat-timeout", "%s: must not be greater than %s (%gs)",
                            shown(ck, "heartbeat-timeout"), shown(ck, "heartbeat-interval"),
                            (double)s->heartbeat_interval / USEC_PER_SEC);
        if (s->heartbeat_interval == 0)
                s->heartbeat_timeout = 0;
        return 0;
}

static int parse_ready_timeout(struct check *ck, const struct model_key *k) {
        struct service_config *s = ck->s;
        const char *text = text_of(ck, k);
        s->ready_timeout = s->type == SERVICE_NOTIFY ? 90 * USEC_PER_SEC : 0;
        if (!text)
                return 0;
        if (s->type != SERVICE_NOTIFY)
                return fail(ck, "ready-timeout", "%s: only for %s = notify", shown(ck, "ready-timeout"),
                            shown(ck, "type"));
        if (parse_seconds(text, &s->ready_timeout) < 0)
                return fail(ck, "ready-timeout", "%s: '%s' is not a number of seconds", shown(ck, "ready-timeout"),
                            text);
        return 0;
}

/* events, buffer-size (as a parse_count row) and result-timeout (parse_duration) make an
 * event listener pool; a listener is of type simple, and its stdout is its answers. */
static int parse_events(struct check *ck, const struct model_key *k) {
        struct service_config *s = ck->s;
        for (const struct given *g = ck->by_key[key_index(k)]; g; g = g->next) {
                if (g->empty)
                        continue;
                uint32_t mask = listener_event_parse(g->text);
                if (mask == 0)
                        return fail_given(ck, g, "%s: '%s' is not an event type", shown(ck, "events"), g->text);
                s->events |= mask;
        }
        if (s->events && s->type != SERVICE_SIMPLE)
                return fail(ck, "events", "%s: an event listener is of %s = simple", shown(ck, "events"), shown(ck, "type"));
        if (s->events && s->stdout_target != OUTPUT_LOG)
                return fail(ck, "events", "%s: an event listener's stdout is its answers to supervisord: leave %s = log",
                            shown(ck, "events"), shown(ck, "stdout"));
        return 0;
}

static int parse_stdin(struct check *ck, const struct model_key *k) {
        struct service_config *s = ck->s;
        const char *text = text_of(ck, k);
        if (strcmp(text, "pipe") == 0)
                s->stdin_pipe = true;
        else if (strcmp(text, "null") == 0)
                s->stdin_pipe = false;
        else
                return fail(ck, "stdin", "%s: '%s' is not pipe or null", shown(ck, "stdin"), text);
        if (s->stdin_pipe && s->events)
                return fail(ck, "stdin", "%s: an event listener's stdin is its events from supervisord: leave %s = null",
                            shown(ck, "stdin"), shown(ck, "stdin"));
        return 0;
}

static int parse_log_events(struct check *ck, const struct model_key *k) {
        const char *text = text_of(ck, k);
        if (parse_bool(text, &ck->s->log_events) < 0)
                return fail(ck, "log-events", "%s: '%s' is not true or false", shown(ck, "log-events"), text);
        return 0;
}

static int parse_capture_max_bytes(struct check *ck, const struct model_key *k) {
        struct service_config *s = ck->s;
        const char *text = text_of(ck, k);
        uint64_t bytes;
        if (parse_size(text, &bytes) < 0 || bytes > (64u << 20))
                return fail(ck, "capture-max-bytes", "%s: '%s' is not a size up to 64M (suffix K, M or G allowed)",
                            shown(ck, "capture-max-bytes"), text);
        s->capture_max_bytes = (size_t)bytes;
        if ((s->log_events || s->capture_max_bytes) && s->stdout_target != OUTPUT_LOG && s->stderr_target != OUTPUT_LOG) {
                const char *key = s->log_events ? "log-events" : "capture-max-bytes";
                return fail(ck, key, "%s: needs %s or %s = log (the events are made from the log pipe)", shown(ck, key),
                            shown(ck, "stdout"), shown(ck, "stderr"));
        }
        return 0;
}

/* stderr-log-events and stderr-capture-max-bytes: the events of stderr's own pipe; as
 * log-events and capture-max-bytes unless set. */
static int parse_stderr_log_events(struct check *ck, const struct model_key *k) {
        struct service_config *s = ck->s;
        const char *text = text_of(ck, k);
        if (!text) {
                s->stderr_log_events = s->log_events;
                return 0;
        }
        if (parse_bool(text, &s->stderr_log_events) < 0)
                return fail(ck, "stderr-log-events", "%s: '%s' is not true or false", shown(ck, "stderr-log-events"), text);
        return 0;
}

static int parse_stderr_capture_max_bytes(struct check *ck, const struct model_key *k) {
        struct service_config *s = ck->s;
        const char *text = text_of(ck, k);
        uint64_t bytes;
        if (!text)
                s->stderr_capture_max_bytes = s->capture_max_bytes;
        else if (parse_size(text, &bytes) < 0 || bytes > (64u << 20))
                return fail(ck, "stderr-capture-max-bytes", "%s: '%s' is not a size up to 64M (suffix K, M or G allowed)",
                            shown(ck, "stderr-capture-max-bytes"), text);
        else
                s->stderr_capture_max_bytes = (size_t)bytes;
        /* Set here for stderr's own pipe, which only stderr = log has. */
        const char *set = given_of(ck, "stderr-log-events") && s->stderr_log_events ? "stderr-log-events"
                          : text && s->stderr_capture_max_bytes                     ? "stderr-capture-max-bytes"
                                                                                    : NULL;
        if (set && s->stderr_target != OUTPUT_LOG)
                return fail(ck, set, "%s: needs %s = log (the events are made from stderr's own pipe)", shown(ck, set),
                            shown(ck, "stderr"));
        return 0;
}

static int parse_fatal_action(struct check *ck, const struct model_key *k) {
        struct service_config *s = ck->s;
        const char *text = text_of(ck, k);
        long n;
        if (strcmp(text, "none") == 0)
                s->fatal_action = FATAL_ACTION_NONE;
        else if (strcmp(text, "shutdown") == 0)
                s->fatal_action = FATAL_ACTION_SHUTDOWN;
        else if (strcmp(text, "exit") == 0) {
                s->fatal_action = FATAL_ACTION_EXIT;
                s->fatal_exit_code = FATAL_EXIT_DEFAULT;
        } else if (strncmp(text, "exit ", 5) == 0 && parse_long(text + 5, 1, 255, &n) == 0) {
                s->fatal_action = FATAL_ACTION_EXIT;
                s->fatal_exit_code = (unsigned char)n;
        } else
                return fail(ck, "fatal-action", "%s: '%s' is not one of none, shutdown, exit, exit CODE (1 to 255)",
                            shown(ck, "fatal-action"), text);
        return 0;
}

/* ---- the globals' parsers -------------------------------------------------------------- */

/* The value of the path KEY, else its default into *DEFAULT_VALUE (freed by the caller). */
static int path_or_default(struct check *ck, const struct model_key *k, enum config_default what, const char **ret,
                           char **default_value) {
        if ((*ret = text_of(ck, k)))
                return 0;
        char message[1024];
        int r = config_default_path(what, default_value, message, sizeof message);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return fail(ck, NULL, "%s", message);
        *ret = *default_value;
        return 0;
}

static int parse_socket(struct check *ck, const struct model_key *k) {
        char *fallback = NULL;
        const char *text;
        int r = path_or_default(ck, k, CONFIG_DEFAULT_OF_SOCKET, &text, &fallback);
        if (r >= 0 && text[0] != '/')
                r = fail(ck, "socket", "%s: '%s' is not an absolute path", shown(ck, "socket"), text);
        if (r >= 0 && strlen(text) >= 108)
                r = fail(ck, "socket", "%s: path longer than 107 bytes", shown(ck, "socket"));
        if (r >= 0)
                r = dup_string(text, &ck->c->socket);
        free(fallback);
        return r;
}

static int parse_socket_mode(struct check *ck, const struct model_key *k) {
        const char *text = text_of(ck, k);
        if (parse_mode(text, &ck->c->socket_mode) < 0 || ck->c->socket_mode > 0777)
                return fail(ck, "socket-mode", "%s: '%s' is not an octal mode such as 0660", shown(ck, "socket-mode"),
                            text);
        return 0;
}

static int parse_socket_group(struct check *ck, const struct model_key *k) {
        const char *text = text_of(ck, k);
        if (!text)
                return 0;
        int r = lookup_group(text, &ck->c->socket_gid);
        if (r < 0)
                return lookup_failed(ck, "socket-group", "group", text, r);
        ck->c->has_socket_group = true;
        return 0;
}

static int parse_global_pidfile(struct check *ck, const struct model_key *k) {
        char *fallback = NULL;
        const char *text;
        int r = path_or_default(ck, k, CONFIG_DEFAULT_OF_PIDFILE, &text, &fallback);
        if (r >= 0 && text[0] != '/')
                r = fail(ck, "pidfile", "%s: '%s' is not an absolute path", shown(ck, "pidfile"), text);
        if (r >= 0)
                r = dup_string(text, &ck->c->pidfile);
        free(fallback);
        return r;
}

static int parse_log_level(struct check *ck, const struct model_key *k) {
        const char *text = text_of(ck, k);
        if ((ck->c->log_level = log_level_from_string(text)) < 0)
                return fail(ck, "log-level", "%s: '%s' is not one of error, warning, notice, info, debug",
                            shown(ck, "log-level"), text);
        return 0;
}

static int parse_log_dir(struct check *ck, const struct model_key *k) {
        char *fallback = NULL;
        const char *text;
        int r = path_or_default(ck, k, CONFIG_DEFAULT_OF_LOG_DIR, &text, &fallback);
        if (r >= 0 && text[0] != '/')
                r = fail(ck, "log-dir", "%s: '%s' is not an absolute path", shown(ck, "log-dir"), text);
        /* Room is left for "/NAME@K.log.N" within PATH_MAX. */
        if (r >= 0 && strlen(text) > 3000)
                r = fail(ck, "log-dir", "%s: path longer than 3000 bytes", shown(ck, "log-dir"));
        if (r >= 0)
                r = dup_string(text, &ck->c->log_dir);
        free(fallback);
        return r;
}

static int parse_log_target(struct check *ck, const struct model_key *k) {
        const char *text = text_of(ck, k);
        int target = log_target_from_string(text);
        if (target < 0)
                return fail(ck, "log-target", "%s: '%s' is not one of auto, stderr, journal, syslog, none",
                            shown(ck, "log-target"), text);
        ck->c->log_target = (enum log_target)target;
        return 0;
}

/* supervisord's own log file (mainlog.h): an absolute path or a stream such as "-". */
static int parse_log_file(struct check *ck, const struct model_key *k) {
        const char *text = text_of(ck, k);
        if (!text)
                return 0;
        if (text[0] != '/' && strcmp(text, "-") != 0)
                return fail(ck, k->name, "%s: '%s' is not an absolute path or -", shown(ck, k->name), text);
        if (strlen(text) > 3000)
                return fail(ck, k->name, "%s: path longer than 3000 bytes", shown(ck, k->name));
        if (text[strlen(text) - 1] == '/')
                return fail(ck, k->name, "%s: '%s' names a directory, not a file", shown(ck, k->name), text);
        return dup_string(text, &ck->c->log_file);
}

static int parse_log_file_max_size(struct check *ck, const struct model_key *k) {
        const char *text = text_of(ck, k);
        if (parse_size(text, &ck->c->log_file_max_size) < 0
            || (ck->c->log_file_max_size > 0 && ck->c->log_file_max_size < 4096))
                return fail(ck, k->name,
                            "%s: '%s' is not 0 or a size of at least 4096 bytes (suffix K, M or G allowed)",
                            shown(ck, k->name), text);
        return 0;
}

static int parse_log_file_keep(struct check *ck, const struct model_key *k) {
        const char *text = text_of(ck, k);
        long keep;
        if (parse_long(text, 0, 1000, &keep) < 0)
                return fail(ck, k->name, "%s: '%s' is not an integer from 0 to 1000", shown(ck, k->name), text);
        ck->c->log_file_keep = (unsigned)keep;
        return 0;
}

/* ---- http-*: the HTTP interface (supervisord.conf(5), HTTP INTERFACE) ---- */

static int parse_http_socket(struct check *ck, const struct model_key *k) {
        const char *text = text_of(ck, k);
        if (!text)
                return 0;
        if (text[0] != '/')
                return fail(ck, k->name, "%s: '%s' is not an absolute path", shown(ck, k->name), text);
        if (strlen(text) >= 108)
                return fail(ck, k->name, "%s: path longer than 107 bytes", shown(ck, k->name));
        if (ck->c->socket && strcmp(text, ck->c->socket) == 0)
                return fail(ck, k->name, "%s: '%s' is the control socket", shown(ck, k->name), text);
        return dup_string(text, &ck->c->http_socket);
}

static int parse_socket_http(struct check *ck, const struct model_key *k) {
        const char *text = text_of(ck, k);
        if (parse_bool(text, &ck->c->socket_http) < 0)
                return fail(ck, k->name, "%s: '%s' is not true or false", shown(ck, k->name), text);
        return 0;
}

static int parse_http_socket_mode(struct check *ck, const struct model_key *k) {
        const char *text = text_of(ck, k);
        if (parse_mode(text, &ck->c->http_socket_mode) < 0 || ck->c->http_socket_mode > 0777)
                return fail(ck, k->name, "%s: '%s' is not an octal mode such as 0700", shown(ck, k->name), text);
        return 0;
}

/* USER or USER:GROUP, as supervisord's chown. */
static int parse_http_socket_owner(struct check *ck, const struct model_key *k) {
        struct config *c = ck->c;
        const char *text = text_of(ck, k);
        if (!text)
                return 0;
        char user[256];
        const char *colon = strchr(text, ':');
        size_t n = colon ? (size_t)(colon - text) : strlen(text);
        if (n == 0 || n >= sizeof user)
                return fail(ck, k->name, "%s: '%s' is not USER or USER:GROUP", shown(ck, k->name), text);
        memcpy(user, text, n);
        user[n] = 0;
        struct passwd pw;
        char *storage = NULL, **buf = &storage;
        int r = lookup_user(user, &pw, buf);
        if (r == 0) {
                c->http_socket_uid = pw.pw_uid;
                c->http_socket_gid = pw.pw_gid;
        }
        free(storage);
        if (r < 0)
                return lookup_failed(ck, k->name, "user", user, r);
        if (colon && (r = lookup_group(colon + 1, &c->http_socket_gid)) < 0)
                return lookup_failed(ck, k->name, "group", colon + 1, r);
        c->has_http_socket_owner = true;
        return 0;
}

static int parse_http_listen(struct check *ck, const struct model_key *k) {
        const char *text = text_of(ck, k);
        if (!text)
                return 0;
        const char *colon = strrchr(text, ':');
        long port;
        if (!colon || parse_long(colon + 1, 1, 65535, &port) < 0 || colon - text > 255)
                return fail(ck, k->name, "%s: '%s' is not HOST:PORT (such as 127.0.0.1:9001 or *:9001)",
                            shown(ck, k->name), text);
        size_t n = (size_t)(colon - text);
        if (n == 1 && text[0] == '*')
                n = 0;
        if (!(ck->c->http_listen_host = strndup(text, n)))
                return -ENOMEM;
        ck->c->http_listen_port = (unsigned)port;
        return 0;
}

static int parse_http_username(struct check *ck, const struct model_key *k) {
        return dup_string(text_of(ck, k), &ck->c->http_username);
}

static int parse_http_password(struct check *ck, const struct model_key *k) {
        struct config *c = ck->c;
        if (dup_string(text_of(ck, k), &c->http_password) < 0)
                return -ENOMEM;
        if (c->http_password && !c->http_username)
                return fail(ck, "http-password", "%s: set without %s", shown(ck, "http-password"),
                            shown(ck, "http-username"));
        if (c->http_username && !c->http_password)
                return fail(ck, "http-username", "%s: set without %s", shown(ck, "http-username"),
                            shown(ck, "http-password"));
        return 0;
}

/* Whom supervisord-http runs as: never root; nobody when supervisord is root. */
static int parse_http_user(struct check *ck, const struct model_key *k) {
        struct config *c = ck->c;
        const char *user = text_of(ck, k);
        if (!user && geteuid() == 0)
                user = "nobody";
        if (!user) {
                c->http_uid = geteuid();
                c->http_gid = getegid();
                return 0;
        }
        struct passwd pw;
        char *storage = NULL, **buf = &storage;
        int r = lookup_user(user, &pw, buf);
        if (r == 0) {
                if (pw.pw_uid == 0)
                        r = fail(ck, k->name, "%s: '%s' is root: the HTTP front-end never runs as root",
                                 shown(ck, k->name), user);
                else if (geteuid() != 0 && pw.pw_uid != geteuid())
                        r = fail(ck, k->name, "%s: '%s': only root may run the HTTP front-end as another user",
                                 shown(ck, k->name), user);
                else {
                        c->http_uid = pw.pw_uid;
                        c->http_gid = pw.pw_gid;
                        r = dup_string(pw.pw_name, &c->http_user);
                }
        } else
                r = lookup_failed(ck, k->name, "user", user, r);
        free(storage);
        return r;
}

static int parse_cgroup(struct check *ck, const struct model_key *k) {
        const char *text = text_of(ck, k);
        if (strcmp(text, "auto") == 0)
                ck->c->cgroup_mode = CGROUP_AUTO;
        else if (strcmp(text, "off") == 0)
                ck->c->cgroup_mode = CGROUP_OFF;
        else if (text[0] == '/') {
                /* Room is left for "/NAME@K.service/cgroup.procs" within PATH_MAX. */
                if (strlen(text) > 3000)
                        return fail(ck, "cgroup", "%s: path longer than 3000 bytes", shown(ck, "cgroup"));
                ck->c->cgroup_mode = CGROUP_PATH;
                return dup_string(text, &ck->c->cgroup_path);
        } else
                return fail(ck, "cgroup", "%s: '%s' is not auto, off or an absolute path", shown(ck, "cgroup"), text);
        return 0;
}

/* ---- the keys ------------------------------------------------------------------------- */

#define SERVICE_FIELD(field) offsetof(struct service_config, field)

/* Every key, in the order its checks run: a row may read the fields of the rows above it
 * (pidfile reads type; user reads group). */
static const struct model_key keys[] = {
        { "socket", SCOPE_GLOBAL, false, NULL, parse_socket, 0, 0, 0 },
        { "socket-mode", SCOPE_GLOBAL, false, "0600", parse_socket_mode, 0, 0, 0 },
        { "socket-group", SCOPE_GLOBAL, false, NULL, parse_socket_group, 0, 0, 0 },
        { "pidfile", SCOPE_GLOBAL, false, NULL, parse_global_pidfile, 0, 0, 0 },
        { "log-level", SCOPE_GLOBAL, false, "info", parse_log_level, 0, 0, 0 },
        { "log-dir", SCOPE_GLOBAL, false, NULL, parse_log_dir, 0, 0, 0 },
        { "log-target", SCOPE_GLOBAL, false, "auto", parse_log_target, 0, 0, 0 },
        { "log-file", SCOPE_GLOBAL, false, NULL, parse_log_file, 0, 0, 0 },
        { "log-file-max-size", SCOPE_GLOBAL, false, "52428800", parse_log_file_max_size, 0, 0, 0 },
        { "log-file-keep", SCOPE_GLOBAL, false, "10", parse_log_file_keep, 0, 0, 0 },
        { "cgroup", SCOPE_GLOBAL, false, "auto", parse_cgroup, 0, 0, 0 },
        { "socket-http", SCOPE_GLOBAL, false, "false", parse_socket_http, 0, 0, 0 },
        { "http-socket", SCOPE_GLOBAL, false, NULL, parse_http_socket, 0, 0, 0 },
        { "http-socket-mode", SCOPE_GLOBAL, false, "0700", parse_http_socket_mode, 0, 0, 0 },
        { "http-socket-owner", SCOPE_GLOBAL, false, NULL, parse_http_socket_owner, 0, 0, 0 },
        { "http-listen", SCOPE_GLOBAL, false, NULL, parse_http_listen, 0, 0, 0 },
        { "http-username", SCOPE_GLOBAL, false, NULL, parse_http_username, 0, 0, 0 },
        { "http-password", SCOPE_GLOBAL, false, NULL, parse_http_password, 0, 0, 0 },
        { "http-user", SCOPE_GLOBAL, false, NULL, parse_http_user, 0, 0, 0 },

        { "command", SCOPE_SERVICE, false, NULL, parse_command, 0, 0, 0 },
        { "type", SCOPE_SERVICE, false, "simple", parse_type, 0, 0, 0 },
        { "pidfile", SCOPE_SERVICE, false, NULL, parse_service_pidfile, 0, 0, 0 },
        { "instances", SCOPE_SERVICE, false, "1", parse_instances, SERVICE_FIELD(instances), 1, 10000 },
        { "after", SCOPE_SERVICE, true, NULL, parse_after, 0, 0, 0 },
        { "priority", SCOPE_SERVICE, false, "999", parse_priority, 0, 0, 0 },
        { "service-group", SCOPE_SERVICE, false, NULL, parse_service_group, 0, 0, 0 },
        { "service-group-priority", SCOPE_SERVICE, false, NULL, parse_service_group_priority, 0, 0, 0 },
        { "directory", SCOPE_SERVICE, false, NULL, parse_directory, 0, 0, 0 },
        { "group", SCOPE_SERVICE, false, NULL, parse_group, 0, 0, 0 },
        { "user", SCOPE_SERVICE, false, NULL, parse_user, 0, 0, 0 },
        { "umask", SCOPE_SERVICE, false, NULL, parse_umask, 0, 0, 0 },
        { "nice", SCOPE_SERVICE, false, NULL, parse_nice, 0, 0, 0 },
        { "environment", SCOPE_SERVICE, true, NULL, parse_environment, 0, 0, 0 },
        { "autostart", SCOPE_SERVICE, false, "true", parse_autostart, 0, 0, 0 },
        { "restart", SCOPE_SERVICE, false, "on-failure", parse_restart, 0, 0, 0 },
        { "success-exit-codes", SCOPE_SERVICE, true, "0", parse_success_exit_codes, 0, 0, 0 },
        { "start-secs", SCOPE_SERVICE, false, "1", parse_duration, SERVICE_FIELD(start_secs), 0, 0 },
        { "restart-delay", SCOPE_SERVICE, false, "0.1", parse_duration, SERVICE_FIELD(restart_delay), 0, 0 },
        { "restart-delay-max", SCOPE_SERVICE, false, "30", parse_duration, SERVICE_FIELD(restart_delay_max), 0, 0 },
        { "stop-timeout", SCOPE_SERVICE, false, "10", parse_duration, SERVICE_FIELD(stop_timeout), 0, 0 },
        { "", SCOPE_CHECK, false, NULL, check_restart_delays, 0, 0, 0 },
        { "start-retries", SCOPE_SERVICE, false, "5", parse_count, SERVICE_FIELD(start_retries), 0, 1000000 },
        { "stop-signal", SCOPE_SERVICE, false, "TERM", parse_stop_signal, 0, 0, 0 },
        { "limit-nofile", SCOPE_SERVICE, false, NULL, parse_resource_limit, SERVICE_FIELD(limit_nofile), 0, 0 },
        { "limit-nproc", SCOPE_SERVICE, false, NULL, parse_resource_limit, SERVICE_FIELD(limit_nproc), 0, 0 },
        { "limit-core", SCOPE_SERVICE, false, NULL, parse_resource_limit, SERVICE_FIELD(limit_core), 0, 0 },
        { "stdout", SCOPE_SERVICE, false, "log", parse_stdout, 0, 0, 0 },
        { "stderr", SCOPE_SERVICE, false, "stdout", parse_stderr, 0, 0, 0 },
        { "log-max-size", SCOPE_SERVICE, false, "10485760", parse_log_max_size, 0, 0, 0 },
        { "log-keep", SCOPE_SERVICE, false, "5", parse_count, SERVICE_FIELD(log_keep), 0, 1000 },
        { "stdout-log", SCOPE_SERVICE, false, NULL, parse_stream_log, 0, 0, 0 },
        { "stderr-log", SCOPE_SERVICE, false, NULL, parse_stream_log, 0, 0, 0 },
        { "stderr-log-max-size", SCOPE_SERVICE, false, NULL, parse_stderr_log_max_size, 0, 0, 0 },
        { "stderr-log-keep", SCOPE_SERVICE, false, NULL, parse_stderr_log_keep, SERVICE_FIELD(stderr_log_keep), 0, 1000 },
        { "heartbeat-interval", SCOPE_SERVICE, false, "0", parse_heartbeat_interval, 0, 0, 0 },
        { "heartbeat-timeout", SCOPE_SERVICE, false, NULL, parse_heartbeat_timeout, 0, 0, 0 },
        { "heartbeat-misses", SCOPE_SERVICE, false, "3", parse_count, SERVICE_FIELD(heartbeat_misses), 1, 1000 },
        { "ready-timeout", SCOPE_SERVICE, false, NULL, parse_ready_timeout, 0, 0, 0 },
        { "events", SCOPE_SERVICE, true, NULL, parse_events, 0, 0, 0 },
        { "buffer-size", SCOPE_SERVICE, false, "10", parse_count, SERVICE_FIELD(buffer_size), 1, 100000 },
        { "result-timeout", SCOPE_SERVICE, false, "0", parse_duration, SERVICE_FIELD(result_timeout), 0, 0 },
        { "stdin", SCOPE_SERVICE, false, "null", parse_stdin, 0, 0, 0 },
        { "log-events", SCOPE_SERVICE, false, "false", parse_log_events, 0, 0, 0 },
        { "capture-max-bytes", SCOPE_SERVICE, false, "0", parse_capture_max_bytes, 0, 0, 0 },
        { "stderr-log-events", SCOPE_SERVICE, false, NULL, parse_stderr_log_events, 0, 0, 0 },
        { "stderr-capture-max-bytes", SCOPE_SERVICE, false, NULL, parse_stderr_capture_max_bytes, 0, 0, 0 },
        { "fatal-action", SCOPE_SERVICE, false, "none", parse_fatal_action, 0, 0, 0 },
};
static const size_t n_keys = ELEMENTSOF(keys);

const char *config_model_key(size_t i, bool *ret_in_service, bool *ret_repeatable) {
        for (size_t j = 0; j < n_keys; j++) {
                if (keys[j].scope == SCOPE_CHECK)
                        continue;
                if (i-- == 0) {
                        *ret_in_service = keys[j].scope == SCOPE_SERVICE;
                        *ret_repeatable = keys[j].repeatable;
                        return keys[j].name;
                }
        }
        return NULL;
}

bool config_model_has_key(bool in_service, const char *key) {
        return find_key(in_service ? SCOPE_SERVICE : SCOPE_GLOBAL, key) != NULL;
}

/* ---- the builder ---------------------------------------------------------------------- */

static void given_free(struct given *g) {
        while (g) {
                struct given *next = g->next;
                free(g->text);
                free(g->shown);
                free(g);
                g = next;
        }
}

static void given_lists_free(struct given **lists) {
        if (!lists)
                return;
        for (size_t i = 0; i < n_keys; i++)
                given_free(lists[i]);
        free(lists);
}

static void builder_service_free(struct config_builder_service *svc) {
        if (!svc)
                return;
        given_lists_free(svc->by_key);
        free(svc->problem);
        free(svc->name);
        free(svc);
}

struct config_builder *config_builder_new(const char *main_path) {
        struct config_builder *b = calloc(1, sizeof *b);
        if (!b)
                return NULL;
        b->name_valid = config_model_name_is_valid;
        b->name_rule = "1 to 64 bytes of UTF-8 without whitespace, control characters, ':' or '/'";
        if (!(b->main_path = strdup(main_path)) || !(b->globals = calloc(n_keys, sizeof *b->globals))
            || !(b->config = calloc(1, sizeof *b->config)) || !(b->config->path = strdup(main_path))) {
                config_builder_free(b);
                return NULL;
        }
        return b;
}

void config_builder_free(struct config_builder *b) {
        if (!b)
                return;
        for (size_t i = 0; i < b->n_files; i++)
                config_file_name_unref(b->files[i]);
        free(b->files);
        given_lists_free(b->globals);
        free(b->globals_problem);
        for (size_t i = 0; i < b->n_services; i++)
                builder_service_free(b->services[i]);
        free(b->services);
        strv_free(b->warnings);
        config_free(b->config);
        free(b->main_path);
        free(b);
}

void config_builder_name_rule(struct config_builder *b, bool (*valid)(const char *name), const char *rule) {
        b->name_valid = valid;
        b->name_rule = rule;
}

/* FILE as a string the builder owns; the last one is tried first (readers give one file's
 * keys together). */
static const char *intern_file(struct config_builder *b, const char *file) {
        for (size_t i = b->n_files; i-- > 0;)
                if (strcmp(b->files[i], file) == 0)
                        return b->files[i];
        char **grown = realloc(b->files, (b->n_files + 1) * sizeof *grown);
        if (!grown)
                return NULL;
        b->files = grown;
        if (!(b->files[b->n_files] = config_file_name_new(file)))
                return NULL;
        return b->files[b->n_files++];
}

/* Append one entry to LISTS[KEY]: a second one of a single key is a problem for later. */
static int add_given(struct config_builder *b, struct given **lists, char **problem, const struct model_key *k,
                     const char *value, bool empty, const char *file, int line, const char *shown_key) {
        const char *interned = intern_file(b, file);
        if (!interned)
                return -ENOMEM;
        struct given **tail = &lists[key_index(k)];
        if (*tail && !k->repeatable) {
                if (!*problem) {
                        const struct given *first = *tail;
                        const char *name = shown_key ? shown_key : k->name;
                        int n = line > 0 ? asprintf(problem, "%s:%d: %s: set twice (first at %s:%d)", interned, line, name,
                                                    first->file, first->line)
                                         : asprintf(problem, "%s: %s: set twice", interned, name);
                        if (n < 0) {
                                *problem = NULL;
                                return -ENOMEM;
                        }
                }
                return 0;
        }
        while (*tail)
                tail = &(*tail)->next;
        struct given *g = calloc(1, sizeof *g);
        if (!g)
                return -ENOMEM;
        g->file = interned;
        g->line = line;
        g->empty = empty;
        if ((!empty && !(g->text = strdup(value))) || (shown_key && strcmp(shown_key, k->name) != 0 && !(g->shown = strdup(shown_key)))) {
                given_free(g);
                return -ENOMEM;
        }
        *tail = g;
        return 0;
}

int config_builder_global(struct config_builder *b, const char *key, const char *value, const char *file, int line,
                          const char *shown_key) {
        const struct model_key *k = find_key(SCOPE_GLOBAL, key);
        if (!k)
                return -ENOENT;
        if (b->globals_checked)  /* a reader's mistake: the globals were judged already */
                return -EALREADY;
        return add_given(b, b->globals, &b->globals_problem, k, value, false, file, line, shown_key);
}

/* VALUE in double quotes, as the native reader takes it back: \\ \" \$ (no ${VAR}
 * expansion), control bytes as \xHH. */
static void print_quoted(FILE *out, const char *value) {
        fputc('"', out);
        for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
                if (*p == '"' || *p == '\\' || *p == '$')
                        fprintf(out, "\\%c", *p);
                else if (*p < 0x20 || *p == 0x7f)
                        fprintf(out, "\\x%02x", *p);
                else
                        fputc(*p, out);
        }
        fputc('"', out);
}

/* "# FILE:LINE KEY" for the entries of one key. */
static void print_origin(FILE *out, const struct given *g, const struct model_key *k) {
        fprintf(out, "  # %s", g->file);
        if (g->line > 0)
                fprintf(out, ":%d", g->line);
        if (g->shown)
                fprintf(out, " %s", g->shown);
        (void)k;
}

static void print_keys(FILE *out, struct given *const *by_key, enum scope scope, const char *indent) {
        for (size_t i = 0; i < n_keys; i++) {
                const struct model_key *k = &keys[i];
                const struct given *g = by_key[i];
                if (k->scope != scope || !g)
                        continue;
                fprintf(out, "%s%s = ", indent, k->name);
                if (k->repeatable) {
                        fputc('{', out);
                        bool first = true;
                        for (const struct given *e = g; e; e = e->next) {
                                if (e->empty)
                                        continue;
                                fputs(first ? "" : ", ", out);
                                print_quoted(out, e->text);
                                first = false;
                        }
                        fputc('}', out);
                } else
                        print_quoted(out, g->empty ? "" : g->text);
                print_origin(out, g, k);
                fputc('\n', out);
        }
}

int config_builder_print(const struct config_builder *b, FILE *out, char *error, size_t error_size) {
        for (size_t i = 0; i < b->n_services; i++)
                if (strlen(b->services[i]->name) > 64
                    || strspn(b->services[i]->name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")
                               != strlen(b->services[i]->name)) {
                        snprintf(error, error_size, "%s:%d: '%s' cannot be a service's name in the native form "
                                 "(1 to 64 of A-Z a-z 0-9 _ . -): rename it first", b->services[i]->file,
                                 b->services[i]->line, b->services[i]->name);
                        return -EINVAL;
                }
        fprintf(out, "# supervisord's native configuration (supervisord.conf(5)), written by\n"
                     "# `supervisord --print-config` from %s.\n"
                     "# After each value: where it came from.\n\n", b->main_path);
        print_keys(out, b->globals, SCOPE_GLOBAL, "");
        for (size_t i = 0; i < b->n_services; i++) {
                const struct config_builder_service *svc = b->services[i];
                fprintf(out, "\nservice %s {  # %s:%d\n", svc->name, svc->file, svc->line);
                print_keys(out, svc->by_key, SCOPE_SERVICE, "        ");
                fputs("}\n", out);
        }
        if (fflush(out) != 0 || ferror(out)) {
                int r = errno ? -errno : -EIO;
                snprintf(error, error_size, "cannot write the configuration: %s", strerror(-r));
                return r;
        }
        return 0;
}

int config_builder_service(struct config_builder *b, const char *name, const char *file, int line,
                           struct config_builder_service **ret) {
        if (b->n_services == b->services_capacity) {
                size_t capacity = b->services_capacity ? 2 * b->services_capacity : 16;
                struct config_builder_service **grown = realloc(b->services, capacity * sizeof *grown);
                if (!grown)
                        return -ENOMEM;
                b->services = grown;
                b->services_capacity = capacity;
        }
        struct config_builder_service *svc = calloc(1, sizeof *svc);
        if (!svc || !(svc->name = strdup(name)) || !(svc->by_key = calloc(n_keys, sizeof *svc->by_key))
            || !(svc->file = intern_file(b, file))) {
                builder_service_free(svc);
                return -ENOMEM;
        }
        svc->line = line;
        b->services[b->n_services++] = svc;
        *ret = svc;
        return 0;
}

int config_builder_set(struct config_builder *b, struct config_builder_service *svc, const char *key,
                       const char *value, const char *file, int line, const char *shown_key) {
        const struct model_key *k = find_key(SCOPE_SERVICE, key);
        if (!k)
                return -ENOENT;
        return add_given(b, svc->by_key, &svc->problem, k, value, false, file, line, shown_key);
}

int config_builder_set_empty(struct config_builder *b, struct config_builder_service *svc, const char *key,
                             const char *file, int line, const char *shown_key) {
        const struct model_key *k = find_key(SCOPE_SERVICE, key);
        if (!k || !k->repeatable)
                return -ENOENT;
        return add_given(b, svc->by_key, &svc->problem, k, NULL, true, file, line, shown_key);
}

/* ---- checking -------------------------------------------------------------------------- */

static int report_problem(struct check *ck, const char *problem) {
        if (!ck->b->failed) {
                ck->b->failed = true;
                snprintf(ck->error, ck->error_size, "%s", problem);
        }
        return -EINVAL;
}

static int run_rows(struct check *ck, enum scope scope) {
        bool in_scope = false;
        for (size_t i = 0; i < n_keys; i++) {
                /* A check row belongs to the scope of the rows above it. */
                if (keys[i].scope != SCOPE_CHECK)
                        in_scope = keys[i].scope == scope;
                if (!in_scope)
                        continue;
                int r = keys[i].parse(ck, &keys[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int check_globals(struct check *ck) {
        struct config *c = ck->c;
        ck->svc = NULL;
        ck->by_key = ck->b->globals;
        if (ck->b->globals_problem)
                return report_problem(ck, ck->b->globals_problem);
        const struct given *g;
        c->socket_line = (g = given_of(ck, "socket")) ? g->line : 0;
        c->pidfile_line = (g = given_of(ck, "pidfile")) ? g->line : 0;
        c->log_dir_line = (g = given_of(ck, "log-dir")) ? g->line : 0;
        return run_rows(ck, SCOPE_GLOBAL);
}

static int line_of(const struct check *ck, const char *key) {
        const struct given *g = given_of(ck, key);
        return g ? g->line : 0;
}

static int check_service(struct check *ck, struct config_builder_service *svc) {
        struct config *c = ck->c;
        struct service_config **services = realloc(c->services, (c->n_services + 1) * sizeof *services);
        if (!services)
                return -ENOMEM;
        c->services = services;
        struct service_config *s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        s->refcount = 1;
        c->services[c->n_services++] = s;
        ck->svc = svc;
        ck->by_key = svc->by_key;
        ck->s = s;

        if (!ck->b->name_valid(svc->name))
                return fail(ck, NULL, "invalid service name '%s': use %s", svc->name, ck->b->name_rule);
        if (strcmp(svc->name, "all") == 0)
                return fail(ck, NULL, "the service name 'all' is reserved (it addresses every service)");
        if (dup_string(svc->name, &s->name) < 0 || !(s->file = config_file_name_ref((char *)svc->file)))
                return -ENOMEM;
        if (svc->problem)
                return report_problem(ck, svc->problem);
        s->line = svc->line;
        s->command_line = line_of(ck, "command");
        s->directory_line = line_of(ck, "directory");
        s->user_line = line_of(ck, "user");
        if (!s->user_line)
                s->user_line = line_of(ck, "group");
        if (!s->command_line)
                s->command_line = s->line;
        if (!s->directory_line)
                s->directory_line = s->line;
        if (!s->user_line)
                s->user_line = s->line;
        return run_rows(ck, SCOPE_SERVICE);
}

int config_builder_check(struct config_builder *b, char *error, size_t error_size) {
        struct check ck = { .b = b, .c = b->config, .error = error, .error_size = error_size };
        int r = 0;
        if (b->failed)
                return -EINVAL;
        if (!b->globals_checked) {
                b->globals_checked = true;
                r = check_globals(&ck);
        }
        for (size_t i = 0; r >= 0 && i < b->n_services; i++)
                if (!b->services[i]->checked) {
                        b->services[i]->checked = true;
                        r = check_service(&ck, b->services[i]);
                }
        if (r < 0) {
                b->failed = true;
                if (!error[0])
                        snprintf(error, error_size, "%s: %s", b->main_path, r == -ENOMEM ? "out of memory" : strerror(-r));
        }
        return r;
}

/* ---- cross-checks ---------------------------------------------------------------------- */

/* The entry of service I's `after` at index N (counting entries, not empty markers). */
static const struct given *after_entry(const struct config_builder *b, size_t i, size_t n) {
        const struct model_key *k = find_key(SCOPE_SERVICE, "after");
        for (const struct given *g = b->services[i]->by_key[key_index(k)]; g; g = g->next)
                if (!g->empty && n-- == 0)
                        return g;
        return NULL;
}

static void enter_service(struct check *ck, size_t i) {
        ck->svc = ck->b->services[i];
        ck->by_key = ck->svc->by_key;
        ck->s = ck->c->services[i];
}

/* The cycle that following `after` from path[depth] to service J closes, as an error. */
static int dependency_cycle_error(struct check *ck, const size_t *path, size_t depth, size_t j, const struct given *g) {
        const struct config *c = ck->c;
        char cycle[1024];
        size_t len = 0, start = depth;
        while (path[start] != j)
                start--;
        for (size_t k = start; k <= depth && len < sizeof cycle; k++)
                len += (size_t)snprintf(cycle + len, sizeof cycle - len, "%s -> ", c->services[path[k]]->name);
        if (len < sizeof cycle)
                snprintf(cycle + len, sizeof cycle - len, "%s", c->services[j]->name);
        return fail_given(ck, g, "%s: dependency cycle %s", shown(ck, "after"), cycle);
}

/* Depth-first walk along `after` from ROOT; colour: 0 unvisited, 1 on the current path, 2
 * done; next[i]: the entry of service i's `after` to follow next.  A loop, not recursion:
 * recursing, a chain of some 8,000 services overflowed the stack (-t and reload crashed). */
static int visit_dependencies(struct check *ck, const ssize_t *target, size_t root, unsigned char *colour,
                              size_t *path, size_t *next, size_t *first_after) {
        const struct config *c = ck->c;
        size_t depth = 0;
        path[0] = root;
        colour[root] = 1;
        for (;;) {
                size_t i = path[depth];
                const struct service_config *s = c->services[i];
                if (!s->after[next[i]]) {
                        colour[i] = 2;
                        if (depth == 0)
                                return 0;
                        depth--;
                        continue;
                }
                size_t entry = next[i]++;
                ssize_t j = target[first_after[i] + entry];
                if (j < 0) {
                        enter_service(ck, i);
                        return fail_given(ck, after_entry(ck->b, i, entry), "%s: no service named '%s'",
                                          shown(ck, "after"), s->after[entry]);
                }
                if (colour[j] == 1) {
                        enter_service(ck, i);
                        return dependency_cycle_error(ck, path, depth, (size_t)j, after_entry(ck->b, i, entry));
                }
                if (colour[j] == 0) {
                        colour[j] = 1;
                        path[++depth] = (size_t)j;  /* on the path at most once: depth < n_services */
                }
        }
}

static int compare_by_name(const void *a, const void *b, void *userdata) {
        struct service_config *const *services = userdata;
        const size_t *x = a, *y = b;
        int r = strcmp(services[*x]->name, services[*y]->name);
        return r ? r : (*x > *y) - (*x < *y);
}

/* Which service each `after` entry names (-1: none), and a name defined twice, found
 * through one sort of the names: linear look-ups made a thousand services quadratic. */
static int resolve_names(struct check *ck, size_t *order, ssize_t *target, size_t *first_after) {
        const struct config *c = ck->c;
        size_t n = c->n_services;
        for (size_t i = 0; i < n; i++)
                order[i] = i;
        qsort_r(order, n, sizeof *order, compare_by_name, c->services);
        for (size_t i = 1; i < n; i++)
                if (strcmp(c->services[order[i]]->name, c->services[order[i - 1]]->name) == 0) {
                        enter_service(ck, order[i]);
                        const struct config_builder_service *first = ck->b->services[order[i - 1]];
                        return fail(ck, NULL, "service '%s' is defined twice (first at %s:%d)", ck->svc->name,
                                    first->file, first->line);
                }
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
                first_after[i] = k;
                for (char **a = c->services[i]->after; *a; a++, k++) {
                        size_t lo = 0, hi = n;
                        target[k] = -1;
                        while (lo < hi) {
                                size_t mid = lo + (hi - lo) / 2;
                                int cmp = strcmp(*a, c->services[order[mid]]->name);
                                if (cmp == 0) {
                                        target[k] = (ssize_t)order[mid];
                                        break;
                                }
                                if (cmp < 0)
                                        hi = mid;
                                else
                                        lo = mid + 1;
                        }
                }
        }
        return 0;
}

static int check_dependencies(struct check *ck) {
        const struct config *c = ck->c;
        size_t n = c->n_services, n_after = 0;
        if (n == 0)
                return 0;
        for (size_t i = 0; i < n; i++)
                n_after += strv_length(c->services[i]->after);
        unsigned char *colour = calloc(n, 1);
        size_t *path = calloc(n, sizeof *path), *next = calloc(n, sizeof *next);
        size_t *order = calloc(n, sizeof *order), *first_after = calloc(n, sizeof *first_after);
        ssize_t *target = calloc(n_after + 1, sizeof *target);
        int r = colour && path && next && order && first_after && target ? 0 : -ENOMEM;
        if (r == 0)
                r = resolve_names(ck, order, target, first_after);
        for (size_t i = 0; r == 0 && i < n; i++)
                if (colour[i] == 0)
                        r = visit_dependencies(ck, target, i, colour, path, next, first_after);
        free(colour);
        free(path);
        free(next);
        free(order);
        free(first_after);
        free(target);
        return r;
}

static bool strings_equal(const char *a, const char *b) {
        return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Judge the Ith service from here on: its messages point into its section. */
static void check_enter(struct check *ck, size_t i) {
        ck->svc = ck->b->services[i];
        ck->by_key = ck->svc->by_key;
        ck->s = ck->c->services[i];
}

/* Groups across services: a group's name is no other service's (a bare name would mean
 * two things), and where its members give its priority they agree, which then holds for
 * all of them.  Quadratic in the members of explicit groups only. */
static int check_service_groups(struct check *ck) {
        const struct config *c = ck->c;
        const struct model_key *given_key = find_key(SCOPE_SERVICE, "service-group-priority");
        for (size_t i = 0; i < c->n_services; i++) {
                struct service_config *s = c->services[i];
                if (!s->service_group)
                        continue;
                ssize_t j = config_find_service(c, s->service_group);
                if (j >= 0 && !strings_equal(c->services[j]->service_group, s->service_group)) {
                        check_enter(ck, i);
                        return fail(ck, "service-group", "%s: '%s' is the name of a service outside the group",
                                    shown(ck, "service-group"), s->service_group);
                }
        }
        for (size_t i = 0; i < c->n_services; i++) {
                struct service_config *s = c->services[i];
                if (!s->service_group)
                        continue;
                bool s_gives = ck->b->services[i]->by_key[key_index(given_key)] != NULL;
                /* The first member that gives the priority sets it for the group. */
                for (size_t k = 0; k < i; k++) {
                        struct service_config *t = c->services[k];
                        if (!strings_equal(t->service_group, s->service_group))
                                continue;
                        bool t_gives = ck->b->services[k]->by_key[key_index(given_key)] != NULL;
                        if (s_gives && t_gives && s->group_priority != t->group_priority) {
                                check_enter(ck, i);
                                return fail(ck, "service-group-priority", "%s: %d, but %s of the same group says %d",
                                            shown(ck, "service-group-priority"), s->group_priority, t->name,
                                            t->group_priority);
                        }
                        if (t_gives && !s_gives)
                                s->group_priority = t->group_priority;
                        else if (s_gives && !t_gives)
                                t->group_priority = s->group_priority;
                }
        }
        return 0;
}

/* An event listener pool is a group (a service's own, or a service-group): its listeners
 * share one buffer, so every member is a listener and they agree on what the pool is. */
static int check_listener_pools(struct check *ck) {
        const struct config *c = ck->c;
        for (size_t i = 0; i < c->n_services; i++) {
                const struct service_config *s = c->services[i];
                if (!s->service_group)
                        continue;
                for (size_t k = 0; k < i; k++) {
                        const struct service_config *t = c->services[k];
                        if (!strings_equal(t->service_group, s->service_group) || (!s->events && !t->events))
                                continue;
                        check_enter(ck, i);
                        if (!s->events || !t->events)
                                return fail(ck, s->events ? "events" : "service-group",
                                            "%s: '%s' is an event listener pool, but %s of that group is %s",
                                            shown(ck, "service-group"), s->service_group, t->name,
                                            t->events ? "a listener and this is not" : "not a listener");
                        if (s->events != t->events || s->buffer_size != t->buffer_size
                            || s->result_timeout != t->result_timeout)
                                return fail(ck, "events",
                                            "%s: the listeners of pool '%s' differ: %s has other %s, %s or %s",
                                            shown(ck, "events"), s->service_group, t->name, shown(ck, "events"),
                                            shown(ck, "buffer-size"), shown(ck, "result-timeout"));
                        break;
                }
        }
        return 0;
}

int config_builder_finish(struct config_builder *b, struct config **ret, char *error, size_t error_size) {
        int r = config_builder_check(b, error, error_size);
        if (r < 0)
                return r;
        struct check ck = { .b = b, .c = b->config, .error = error, .error_size = error_size };
        r = check_dependencies(&ck);
        if (r >= 0)
                r = check_service_groups(&ck);
        if (r >= 0)
                r = check_listener_pools(&ck);
        if (r < 0) {
                b->failed = true;
                if (!error[0])
                        snprintf(error, error_size, "%s: %s", b->main_path, r == -ENOMEM ? "out of memory" : strerror(-r));
                return r;
        }
        b->config->warnings = b->warnings;
        b->warnings = NULL;
        b->n_warnings = 0;
        *ret = b->config;
        b->config = NULL;
        b->last_groups = NULL;
        return 0;
}

/* ---- defaults -------------------------------------------------------------------------- */

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
                struct passwd pw, *result = NULL;
                char *storage = NULL, **buf = &storage;
                if (!state && !home && LOOKUP(getpwuid_r(uid, &pw, *buf, size_, &result), result) == 0
                    && pw.pw_dir[0] == '/')
                        home = pw.pw_dir;
                if (state)
                        n = asprintf(ret, "%s/supervisord", state);
                else if (home)
                        n = asprintf(ret, "%s/.local/state/supervisord", home);
                else {
                        free(storage);
                        snprintf(error, error_size,
                                 "log-dir: not run as root, and neither $XDG_STATE_HOME nor a home directory is set: "
                                 "set log-dir");
                        return -ENOENT;
                }
                free(storage);
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
