/* ini_config.c — see ini_config.h.  What supervisord's options.py decides before any
 * section means anything: the file's form, its search order, the client's socket. */
#include "ini_config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "ini.h"

extern char **environ;

bool ini_config_sniff(const char *text, size_t size) {
        const char *p = text, *end = text + size;
        while (p < end) {
                while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n' || *p == '\f' || *p == '\v'))
                        p++;
                if (p == end)
                        return false;
                if (*p == '[' || *p == ';')
                        return true;
                if (*p != '#')
                        return false;
                while (p < end && *p != '\n')
                        p++;
        }
        return false;
}

int ini_config_sniff_file(const char *path) {
        /* Only a regular file is looked at: a FIFO (or a device) read here would have its
         * content consumed before the reader reads it, and opening one waits for a writer
         * (O_NONBLOCK: not here; the reader that follows waits instead). */
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return 0;
        struct stat st;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                close(fd);
                return 0;
        }
        /* Comments can be long: read up to the first line that is not one. */
        char buffer[65536];
        size_t got = 0;
        for (ssize_t n; got < sizeof buffer && (n = read(fd, buffer + got, sizeof buffer - got)) != 0;) {
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                got += (size_t)n;
        }
        close(fd);
        return ini_config_sniff(buffer, got);
}

char *ini_config_search(const char *argv0) {
        /* os.path.dirname(os.path.dirname(argv0)): "" for a bare name, so that the first two
         * become etc/supervisord.conf and supervisord.conf, as they do for Python. */
        char here[PATH_MAX] = "";
        snprintf(here, sizeof here, "%s", argv0 ? argv0 : "");
        for (int i = 0; i < 2; i++) {
                char *slash = strrchr(here, '/');
                if (!slash)
                        here[0] = '\0';
                else if (slash == here)
                        here[1] = '\0';
                else {
                        /* dirname drops trailing slashes of what is left, as Python's does */
                        *slash = '\0';
                        while (slash > here + 1 && slash[-1] == '/')
                                *--slash = '\0';
                }
        }
        char beside_etc[PATH_MAX + 32], beside[PATH_MAX + 32];
        const char *sep = here[0] && here[strlen(here) - 1] != '/' ? "/" : "";
        snprintf(beside_etc, sizeof beside_etc, "%s%setc/supervisord.conf", here, sep);
        snprintf(beside, sizeof beside, "%s%ssupervisord.conf", here, sep);
        const char *order[] = { beside_etc, beside, "supervisord.conf", "etc/supervisord.conf", "/etc/supervisord.conf",
                                "/etc/supervisor/supervisord.conf" };
        for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
                if (access(order[i], F_OK) == 0)
                        return strdup(order[i]);
        return strdup("/etc/supervisord.conf");
}

/* Python's normalize_path(): ~ expanded, made absolute against the working directory,
 * "." and ".." and repeated slashes resolved by text (no link followed). */
static char *normalize_path(const char *path) {
        char joined[PATH_MAX * 2];
        const char *home = getenv("HOME");
        if (path[0] == '~' && (path[1] == '/' || !path[1]) && home)
                snprintf(joined, sizeof joined, "%s%s", home, path + 1);
        else if (path[0] != '/') {
                char cwd[PATH_MAX];
                if (!getcwd(cwd, sizeof cwd))
                        return NULL;
                snprintf(joined, sizeof joined, "%s/%s", cwd, path);
        } else
                snprintf(joined, sizeof joined, "%s", path);
        char *out = malloc(strlen(joined) + 2);
        if (!out)
                return NULL;
        size_t n = 0;
        for (const char *p = joined; *p;) {
                while (*p == '/')
                        p++;
                const char *q = strchrnul(p, '/');
                size_t len = (size_t)(q - p);
                if (len == 0 || (len == 1 && p[0] == '.')) {
                } else if (len == 2 && p[0] == '.' && p[1] == '.') {
                        while (n > 0 && out[n - 1] != '/')
                                n--;
                        if (n > 0)
                                n--;
                } else {
                        out[n++] = '/';
                        memcpy(out + n, p, len);
                        n += len;
                }
                p = q;
        }
        if (n == 0)
                out[n++] = '/';
        out[n] = '\0';
        return out;
}

/* %(here)s and %(ENV_X)s, the names a client's values may use. */
struct peek_names {
        struct ini_expansion *names;
        size_t n;
        char here[PATH_MAX];
};

static void peek_names_free(struct peek_names *x) {
        for (size_t i = 1; i < x->n; i++)
                free((char *)x->names[i].name);
        free(x->names);
}

static size_t environ_count(void) {
        size_t n = 0;
        while (environ && environ[n])
                n++;
        return n;
}

/* %(ENV_X)s for every X of supervisord's environment, appended to NAMES (room for
 * environ_count() more) at *N; the names are malloc'd. */
static int add_environ_names(struct ini_expansion *names, size_t *n) {
        for (size_t i = 0; environ && environ[i]; i++) {
                const char *eq = strchr(environ[i], '=');
                if (!eq)
                        continue;
                char *name = NULL;
                if (asprintf(&name, "ENV_%.*s", (int)(eq - environ[i]), environ[i]) < 0)
                        return -ENOMEM;
                names[(*n)++] = (struct ini_expansion){ .name = name, .string = eq + 1 };
        }
        return 0;
}

static int peek_names_make(struct peek_names *x, const char *path) {
        x->names = calloc(environ_count() + 1, sizeof *x->names);
        if (!x->names)
                return -ENOMEM;
        char *absolute = normalize_path(path);
        if (!absolute)
                return -ENOMEM;
        char *slash = strrchr(absolute, '/');
        snprintf(x->here, sizeof x->here, "%.*s", slash == absolute ? 1 : (int)(slash - absolute), absolute);
        free(absolute);
        x->names[0] = (struct ini_expansion){ .name = "here", .string = x->here };
        x->n = 1;
        return add_environ_names(x->names, &x->n);
}

static int peek_value(const struct ini_file *ini, const char *section, const char *key, const struct peek_names *x,
                      char **ret, char *error, size_t error_size) {
        *ret = NULL;
        const struct ini_section *s = ini_find_section(ini, section);
        const struct ini_entry *e = s ? ini_get(ini, s, key) : NULL;
        if (!e)
                return 0;
        char message[512];
        if (ini_expand(e->value, x->names, x->n, ret, message, sizeof message) < 0) {
                snprintf(error, error_size, "%s:%d: %s: %s", e->file, e->line, key, message);
                return -EINVAL;
        }
        return 1;
}

/* supervisord strips [unix_http_server] file once more, after its expansion. */
static char *strip(char *v) {
        v += strspn(v, " \t\r\n");
        size_t n = strlen(v);
        while (n > 0 && strchr(" \t\r\n", v[n - 1]))
                v[--n] = '\0';
        return v;
}

int ini_config_peek_client(const char *path, struct config_client *ret, char *error, size_t error_size) {
        *ret = (struct config_client){ 0 };
        struct ini_file *ini = ini_new();
        if (!ini)
                return -ENOMEM;
        char parse_error[1024] = "";
        int parsed = ini_parse_file(ini, path, parse_error, sizeof parse_error);
        if (parsed < 0 && parsed != -EINVAL) {
                snprintf(error, error_size, "%s", parse_error);
                ini_free(ini);
                return parsed;
        }
        struct peek_names names = { 0 };
        char *file = NULL;
        int r = peek_names_make(&names, path);
        /* What comes before a line it cannot read is still the file's: a mistake in a
         * program section must not lock the client out of the daemon. */
        if (r == 0 && parsed < 0 && !(ret->skipped = strdup(parse_error)))
                r = -ENOMEM;
        static const char *const keys[] = { "serverurl", "username", "password", "prompt", "history_file" };
        char **fields[] = { &ret->server, &ret->username, &ret->password, &ret->prompt, &ret->history_file };
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(keys); i++)
                r = peek_value(ini, "supervisorctl", keys[i], &names, fields[i], error, error_size);
        if (r >= 0 && ret->server && strncmp(ret->server, "unix://", 7) == 0) {
                char *absolute = normalize_path(ret->server + 7);
                free(ret->server);
                ret->server = NULL;
                if (!absolute || asprintf(&ret->server, "unix://%s", absolute) < 0)
                        r = -ENOMEM;
                free(absolute);
        }
        if (r >= 0 && !ret->server && (r = peek_value(ini, "unix_http_server", "file", &names, &file, error,
                                                      error_size)) == 1) {
                char *absolute = normalize_path(strip(file));
                if (!absolute || asprintf(&ret->server, "unix://%s", absolute) < 0)
                        r = -ENOMEM;
                free(absolute);
        }
        if (r >= 0)
                r = ret->server ? 1 : 0;
        if (r == -ENOMEM)
                snprintf(error, error_size, "%s: out of memory", path);
        if (r < 0)
                config_client_done(ret);
        free(file);
        peek_names_free(&names);
        ini_free(ini);
        return r;
}

int ini_config_peek_socket(const char *path, char **ret, char *error, size_t error_size) {
        struct config_client client;
        *ret = NULL;
        int r = ini_config_peek_client(path, &client, error, error_size);
        if (r == 1 && strncmp(client.server, "unix://", 7) == 0) {
                r = (*ret = strdup(client.server + 7)) ? 1 : -ENOMEM;
        } else if (r == 1) {
                *ret = client.server;  /* http://HOST:PORT */
                client.server = NULL;
                r = 2;
        } else if (r == 0 && client.skipped) {
                /* A file cut short by a bad line may have had the setting below it. */
                snprintf(error, error_size, "%s", client.skipped);
                r = -EINVAL;
        }
        if (r == -ENOMEM)
                snprintf(error, error_size, "%s: out of memory", path);
        config_client_done(&client);
        return r;
}

/* ---- the configuration: INI sections and keys onto the config model ----------------- */

#include <ctype.h>
#include <glob.h>
#include <signal.h>
#include <sys/utsname.h>

#include "config.h"
#include "eventtype.h"
#include "model.h"

struct reader {
        struct config_builder *b;
        struct ini_file *ini;
        struct ini_expansion *env;   /* ENV_X of supervisord's environment: names owned */
        size_t n_env;
        const char *umask;           /* [supervisord] umask: what each program inherits */
        const struct ini_entry *umask_entry;
        char **environment;          /* [supervisord] environment=, "K=V"; owned */
        const struct ini_entry *environment_entry;
        char node[128];
        char *error;
        size_t error_size;
        /* supervisord's command-line options as [supervisord] entries (ini_config_set_options) */
        struct ini_entry options[16];
        char options_shown[16][64];
};

/* What [supervisord] says of supervisord itself rather than of the config. */
struct config_flags {
        bool nodaemon, silent;
};

static int reader_fail(struct reader *rd, const struct ini_entry *e, const char *format, ...)
        __attribute__((format(printf, 3, 4)));
static int reader_fail(struct reader *rd, const struct ini_entry *e, const char *format, ...) {
        /* line 0: a command-line option, whose "file" names it */
        int n = e->line > 0 ? snprintf(rd->error, rd->error_size, "%s:%d: %s: ", e->file, e->line, e->key)
                            : snprintf(rd->error, rd->error_size, "%s: ", e->file);
        va_list ap;
        va_start(ap, format);
        if (n >= 0 && (size_t)n < rd->error_size)
                vsnprintf(rd->error + n, rd->error_size - (size_t)n, format, ap);
        va_end(ap);
        return -EINVAL;
}

/* The directory of FILE, as %(here)s means it for the values written there. */
static void here_of(const char *file, char *out, size_t size) {
        char *absolute = normalize_path(file);
        const char *slash = absolute ? strrchr(absolute, '/') : NULL;
        if (!slash)
                snprintf(out, size, ".");
        else
                snprintf(out, size, "%.*s", slash == absolute ? 1 : (int)(slash - absolute), absolute);
        free(absolute);
}

/* Entry E expanded with the names of X (N of them) plus here and ENV_*. */
static int expand_entry(struct reader *rd, const struct ini_entry *e, const struct ini_expansion *x, size_t n,
                        char **ret) {
        char here[PATH_MAX];
        here_of(e->file, here, sizeof here);
        size_t total = n + 1 + rd->n_env;
        struct ini_expansion *all = calloc(total, sizeof *all);
        if (!all)
                return -ENOMEM;
        size_t k = 0;
        /* Later names win in Python's dict updates: the program's own over ENV_ of the
         * environment, so they go first here, where the first match wins. */
        for (size_t i = 0; i < n; i++)
                all[k++] = x[i];
        all[k++] = (struct ini_expansion){ .name = "here", .string = here };
        for (size_t i = 0; i < rd->n_env; i++)
                all[k++] = rd->env[i];
        char message[1024];
        int r = ini_expand(e->value, all, k, ret, message, sizeof message);
        free(all);
        if (r == -EINVAL)
                return reader_fail(rd, e, "%s", message);
        return r;
}

static int env_names_make(struct reader *rd) {
        rd->env = calloc(environ_count() + 1, sizeof *rd->env);
        return rd->env ? add_environ_names(rd->env, &rd->n_env) : -ENOMEM;
}

/* ---- supervisord's datatypes, converted to the native value syntax ---- */

static int to_boolean(struct reader *rd, const struct ini_entry *e, const char *v, const char **ret) {
        static const char *const yes[] = { "true", "yes", "on", "1" }, *const no[] = { "false", "no", "off", "0" };
        for (size_t i = 0; i < 4; i++) {
                if (strcasecmp(v, yes[i]) == 0)
                        return *ret = "true", 0;
                if (strcasecmp(v, no[i]) == 0)
                        return *ret = "false", 0;
        }
        return reader_fail(rd, e, "not a valid boolean value: '%s'", v);
}

static int to_integer(struct reader *rd, const struct ini_entry *e, const char *v, long long *ret) {
        char *end;
        errno = 0;
        long long n = strtoll(v, &end, 10);
        while (*end == ' ' || *end == '\t')
                end++;
        if (errno || end == v || *end)
                return reader_fail(rd, e, "invalid literal for int() with base 10: '%s'", v);
        *ret = n;
        return 0;
}

/* byte_size(): a number, or one with KB, MB or GB (powers of 1024) after it. */
static int to_byte_size(struct reader *rd, const struct ini_entry *e, const char *v, char *out, size_t size) {
        static const char *const suffixes[] = { "KB", "MB", "GB" };
        size_t n = strlen(v);
        long long factor = 1;
        char number[64];
        for (size_t i = 0; i < 3; i++)
                if (n >= 2 && strcasecmp(v + n - 2, suffixes[i]) == 0) {
                        factor = 1LL << (10 * (i + 1));
                        n -= 2;
                }
        snprintf(number, sizeof number, "%.*s", (int)(n < 63 ? n : 63), v);
        long long x;
        if (to_integer(rd, e, number, &x) < 0 || x < 0 || x > (1LL << 62) / factor)
                return reader_fail(rd, e, "value '%s' is not a valid byte size", v);
        snprintf(out, size, "%lld", x * factor);
        return 0;
}

static int to_octal(struct reader *rd, const struct ini_entry *e, const char *v, char *out, size_t size) {
        char *end;
        errno = 0;
        long m = strtol(v, &end, 8);
        if (errno || end == v || *end || m < 0 || m > 07777)
                return reader_fail(rd, e, "%s can not be converted to an octal type", v);
        snprintf(out, size, "0%lo", m);
        return 0;
}

/* signal_number(): a number or a name, with or without SIG, in any case. */
static int to_signal(struct reader *rd, const struct ini_entry *e, const char *v, char *out, size_t size) {
        char *end;
        long n = strtol(v, &end, 10);
        if (end != v && !*end) {
                const char *name = n > 0 && n < NSIG ? sigabbrev_np((int)n) : NULL;
                if (!name)
                        return reader_fail(rd, e, "value '%s' is not a valid signal number", v);
                snprintf(out, size, "%s", name);
                return 0;
        }
        const char *name = strncasecmp(v, "SIG", 3) == 0 ? v + 3 : v;
        for (int s = 1; s < NSIG; s++) {
                const char *abbrev = sigabbrev_np(s);
                if (abbrev && strcasecmp(abbrev, name) == 0) {
                        snprintf(out, size, "%s", abbrev);
                        return 0;
                }
        }
        return reader_fail(rd, e, "value '%s' is not a valid signal name", v);
}

/* ---- the builder calls ---- */

static int set_global(struct reader *rd, const char *key, const char *value, const struct ini_entry *e) {
        if (!config_model_has_key(false, key))
                return reader_fail(rd, e, "supervisord's %s is not supported here yet", e->key);
        return config_builder_global(rd->b, key, value, e->file, e->line, e->key);
}

static int set_service(struct reader *rd, struct config_builder_service *svc, const char *key, const char *value,
                       const struct ini_entry *e) {
        if (!config_model_has_key(true, key))
                return reader_fail(rd, e, "supervisord's %s is not supported here yet", e->key);
        return config_builder_set(rd->b, svc, key, value, e->file, e->line, e->key);
}

/* The native `command` that splits into exactly WORDS: each word in '...'. */
static char *native_command(char **words) {
        size_t n = 1;
        for (char **w = words; *w; w++)
                n += strlen(*w) * 4 + 3;
        char *out = malloc(n), *p = out;
        if (!out)
                return NULL;
        for (char **w = words; *w; w++) {
                if (w != words)
                        *p++ = ' ';
                *p++ = '\'';
                for (const char *c = *w; *c; c++) {
                        if (*c == '\'') {
                                memcpy(p, "'\\''", 4);
                                p += 4;
                        } else
                                *p++ = *c;
                }
                *p++ = '\'';
        }
        *p = '\0';
        return out;
}

static int section_fail(struct reader *rd, const struct ini_section *s, const char *format, ...)
        __attribute__((format(printf, 3, 4)));
static int section_fail(struct reader *rd, const struct ini_section *s, const char *format, ...) {
        int n = snprintf(rd->error, rd->error_size, "%s:%d: [%s]: ", s->file, s->line, s->name);
        va_list ap;
        va_start(ap, format);
        if (n >= 0 && (size_t)n < rd->error_size)
                vsnprintf(rd->error + n, rd->error_size - (size_t)n, format, ap);
        va_end(ap);
        return -EINVAL;
}

static int warn_unknown(struct reader *rd, const struct ini_section *s, const struct ini_entry *e) {
        return config_builder_warn(rd->b, e->file, e->line, "%s is not a key of [%s]; supervisord ignores it, and so does this",
                                   e->key, s->name);
}

/* A setting we do not have accepted only when it asks for supervisord's default, which
 * is what we do: VALUE is one of the DEFAULTS (case-insensitive). */
static int only_default(struct reader *rd, const struct ini_entry *e, const char *value, const char *const *defaults,
                        const char *doing) {
        for (const char *const *d = defaults; *d; d++)
                if (strcasecmp(value, *d) == 0)
                        return 0;
        return reader_fail(rd, e, "'%s' is not supported here yet: only %s", value, doing);
}

static bool in_list(const char *key, const char *const *list) {
        for (const char *const *k = list; *k; k++)
                if (strcmp(key, *k) == 0)
                        return true;
        return false;
}

static const struct ini_option *command_line;
static size_t n_command_line;

void ini_config_set_options(const struct ini_option *options, size_t n) {
        command_line = options;
        n_command_line = n;
}

const struct ini_option *ini_config_first_option(void) {
        for (size_t i = 0; i < n_command_line; i++)
                if (!command_line[i].native_too)
                        return &command_line[i];
        return NULL;
}

static const struct ini_option *option_for(const char *key) {
        for (size_t i = 0; i < n_command_line; i++)
                if (strcmp(command_line[i].key, key) == 0)
                        return &command_line[i];
        return NULL;
}

static int read_supervisord(struct reader *rd, const struct ini_section *s, struct config_flags *ret_flags) {
        static const char *const no[] = { "false", "no", "off", "0", NULL };
        int r = 0;
        /* The file's entries, then the command line's, which take the place of the file's
         * and are taken as written (supervisord expands no %(name)s in them). */
        struct ini_entry *options = rd->options;
        size_t n_options = 0;
        for (size_t i = 0; i < n_command_line && n_options < 16; i++, n_options++) {
                snprintf(rd->options_shown[n_options], sizeof rd->options_shown[0], "supervisord %s",
                         command_line[i].option);
                options[n_options] = (struct ini_entry){ .key = (char *)command_line[i].key,
                                                         .value = (char *)command_line[i].value,
                                                         .file = rd->options_shown[n_options], .line = 0 };
        }
        for (size_t i = 0; r == 0 && i < s->n_entries + n_options; i++) {
                bool from_file = i < s->n_entries;
                const struct ini_entry *e = from_file ? &s->entries[i] : &options[i - s->n_entries];
                const char *k = e->key, *b = NULL;
                char *v = NULL, number[64];
                long long n;
                if (from_file && option_for(k))
                        continue;
                if (!from_file)
                        r = (v = strdup(e->value)) ? 0 : -ENOMEM;
                else
                        r = expand_entry(rd, e, NULL, 0, &v);
                if (r < 0)
                        break;
                if (strcmp(k, "logfile") == 0) {
                        char *path = strcmp(v, "-") == 0 || strncmp(v, "/dev/", 5) == 0 ? strdup(v) : normalize_path(v);
                        r = path ? set_global(rd, "log-file", path, e) : -ENOMEM;
                        free(path);
                } else if (strcmp(k, "logfile_maxbytes") == 0) {
                        if ((r = to_byte_size(rd, e, v, number, sizeof number)) == 0)
                                r = set_global(rd, "log-file-max-size", number, e);
                } else if (strcmp(k, "logfile_backups") == 0) {
                        if ((r = to_integer(rd, e, v, &n)) == 0)
                                r = set_global(rd, "log-file-keep", v, e);
                } else if (strcmp(k, "loglevel") == 0) {
                        static const char *const map[][2] = { { "critical", "error" }, { "error", "error" },
                                                              { "warn", "warning" },   { "info", "info" },
                                                              { "debug", "debug" },    { "trace", "debug" },
                                                              { "blather", "debug" } };
                        const char *level = NULL;
                        for (size_t j = 0; j < sizeof map / sizeof map[0]; j++)
                                if (strcasecmp(v, map[j][0]) == 0)
                                        level = map[j][1];
                        r = level ? set_global(rd, "log-level", level, e) : reader_fail(rd, e, "bad logging level name '%s'", v);
                } else if (strcmp(k, "pidfile") == 0) {
                        char *path = normalize_path(v);
                        r = path ? set_global(rd, "pidfile", path, e) : -ENOMEM;
                        free(path);
                } else if (strcmp(k, "umask") == 0) {
                        if ((r = to_octal(rd, e, v, number, sizeof number)) == 0) {
                                rd->umask_entry = e;
                                rd->umask = strdup(number);
                                r = rd->umask ? 0 : -ENOMEM;
                        }
                } else if (strcmp(k, "nodaemon") == 0) {
                        if ((r = to_boolean(rd, e, v, &b)) == 0)
                                ret_flags->nodaemon = strcmp(b, "true") == 0;
                } else if (strcmp(k, "silent") == 0) {
                        if ((r = to_boolean(rd, e, v, &b)) == 0)
                                ret_flags->silent = strcmp(b, "true") == 0;
                } else if (strcmp(k, "strip_ansi") == 0) {
                        r = only_default(rd, e, v, no, "false");
                } else if (strcmp(k, "minfds") == 0 || strcmp(k, "minprocs") == 0) {
                        static const char *const fds[] = { "1024", NULL }, *const procs[] = { "200", NULL };
                        if ((r = to_integer(rd, e, v, &n)) == 0)
                                r = only_default(rd, e, v, k[3] == 'f' ? fds : procs, "supervisord's default");
                } else if (strcmp(k, "nocleanup") == 0) {
                        /* AUTO logs here are NAME.log, kept and rotated, never left-over
                         * temporary files: there is nothing to clean up either way. */
                        r = to_boolean(rd, e, v, &b);
                } else if (strcmp(k, "childlogdir") == 0) {
                        char *path = normalize_path(v);
                        r = path ? set_global(rd, "log-dir", path, e) : -ENOMEM;
                        free(path);
                } else if (strcmp(k, "user") == 0) {
                        /* Dropping privileges is not done yet; naming who runs it already is fine. */
                        char self[256];
                        if (config_model_user_name(geteuid(), self, sizeof self) < 0 || strcmp(self, v) != 0) {
                                char *end;
                                long uid = strtol(v, &end, 10);
                                if (end == v || *end || (uid_t)uid != geteuid())
                                        r = reader_fail(rd, e, "switching to user '%s' is not supported here yet: start "
                                                               "supervisord as that user", v);
                        }
                } else if (strcmp(k, "directory") == 0) {
                        r = reader_fail(rd, e, "is not supported here yet (supervisord runs in /): give each program its directory");
                } else if (strcmp(k, "environment") == 0) {
                        char message[1024];
                        r = ini_parse_environment(v, &rd->environment, message, sizeof message);
                        if (r == -EINVAL)
                                r = reader_fail(rd, e, "%s", message);
                        rd->environment_entry = e;
                } else if (strcmp(k, "identifier") == 0) {
                        static const char *const id[] = { "supervisor", NULL };
                        r = only_default(rd, e, v, id, "'supervisor'");
                } else
                        r = warn_unknown(rd, s, e);
                free(v);
        }
        /* supervisord's default main log, in the directory it was started in (the pidfile
         * keeps the native default: see supervisord.conf(5), INI FORM). */
        static const char *const files[][3] = { { "logfile", "log-file", "supervisord.log" } };
        for (size_t i = 0; r == 0 && i < sizeof files / sizeof files[0]; i++) {
                if (ini_get(rd->ini, s, files[i][0]) || option_for(files[i][0]))
                        continue;
                char *path = normalize_path(files[i][2]);
                r = path ? config_builder_global(rd->b, files[i][1], path, s->file, s->line, files[i][0]) : -ENOMEM;
                free(path);
        }
        return r;
}

static int read_unix_http_server(struct reader *rd, const struct ini_section *s) {
        int r = 0;
        bool chmod_given = false;
        for (size_t i = 0; r == 0 && i < s->n_entries; i++) {
                const struct ini_entry *e = &s->entries[i];
                char *v = NULL, mode[32];
                if ((r = expand_entry(rd, e, NULL, 0, &v)) < 0)
                        break;
                if (strcmp(e->key, "file") == 0) {
                        char *t = v + strspn(v, " \t"), *path;
                        t[strcspn(t, " \t")] = '\0';
                        path = normalize_path(t);
                        r = path ? set_global(rd, "socket", path, e) : -ENOMEM;
                        free(path);
                } else if (strcmp(e->key, "chmod") == 0) {
                        chmod_given = true;
                        if ((r = to_octal(rd, e, v, mode, sizeof mode)) == 0)
                                r = set_global(rd, "socket-mode", mode, e);
                } else if (strcmp(e->key, "chown") == 0) {
                        /* USER[:GROUP]: the socket's owner is supervisord's user here. */
                        char *colon = strchr(v, ':'), self[256];
                        if (colon)
                                *colon = '\0';
                        if (config_model_user_name(geteuid(), self, sizeof self) < 0 || strcmp(self, v) != 0)
                                r = reader_fail(rd, e, "a socket owned by '%s' is not supported here yet: only by the "
                                                       "user supervisord runs as, with any group", v);
                        else if (colon)
                                r = set_global(rd, "socket-group", colon + 1, e);
                } else if (strcmp(e->key, "username") == 0)
                        r = set_global(rd, "http-username", v, e);
                else if (strcmp(e->key, "password") == 0)
                        r = set_global(rd, "http-password", v, e);
                else
                        r = warn_unknown(rd, s, e);
                free(v);
        }
        if (r == 0 && !ini_get(rd->ini, s, "file"))
                return section_fail(rd, s, "section [unix_http_server] has no file value");
        /* supervisord's default mode is 0700, not the native 0600. */
        if (r == 0 && !chmod_given)
                r = config_builder_global(rd->b, "socket-mode", "0700", s->file, s->line, "chmod");
        /* The socket speaks supervisord's HTTP for its clients, and our protocol for ours. */
        if (r == 0)
                r = config_builder_global(rd->b, "socket-http", "true", s->file, s->line, "[unix_http_server]");
        return r;
}

/* [inet_http_server]: port as supervisord's inet_address takes it (HOST:PORT, *:PORT,
 * :PORT or PORT; no host or * for every address) onto http-listen; username and
 * password onto http-username and http-password, which the HTTP servers share here. */
static int read_inet_http_server(struct reader *rd, const struct ini_section *s) {
        const struct ini_entry *user = ini_get(rd->ini, s, "username"), *password = ini_get(rd->ini, s, "password");
        if ((user != NULL) != (password != NULL))
                return section_fail(rd, s, "Section [inet_http_server] contains incomplete authentication: If a username "
                                           "or a password is specified, both the username and password must be specified");
        const struct ini_section *unix_server = ini_find_section(rd->ini, "unix_http_server");
        const struct ini_entry *unix_user = unix_server ? ini_get(rd->ini, unix_server, "username") : NULL;
        int r = 0;
        for (size_t i = 0; r == 0 && i < s->n_entries; i++) {
                const struct ini_entry *e = &s->entries[i];
                char *v = NULL;
                if ((r = expand_entry(rd, e, NULL, 0, &v)) < 0)
                        break;
                if (strcmp(e->key, "port") == 0) {
                        char *colon = strrchr(v, ':'), *listen = NULL;
                        const char *port = colon ? colon + 1 : v;
                        long number;
                        if (colon && !*port)
                                r = reader_fail(rd, e, "no port number specified in '%s'", v);
                        else if (parse_long(port, 1, 65535, &number) < 0)
                                r = reader_fail(rd, e, "not a valid port number: '%s'", port);
                        else {
                                if (colon)
                                        *colon = '\0';
                                const char *host = colon ? v : "";
                                for (char *c = v; colon && *c; c++)
                                        *c = (char)tolower((unsigned char)*c);
                                if (asprintf(&listen, "%s:%ld", host[0] ? host : "*", number) < 0)
                                        r = -ENOMEM;
                                else
                                        r = set_global(rd, "http-listen", listen, e);
                                free(listen);
                        }
                } else if (strcmp(e->key, "username") == 0 || strcmp(e->key, "password") == 0) {
                        /* One pair of credentials for both servers: a second, different one
                         * cannot be honoured. */
                        const struct ini_entry *other = unix_user ? ini_get(rd->ini, unix_server, e->key) : NULL;
                        char *other_value = NULL;
                        if (other && (r = expand_entry(rd, other, NULL, 0, &other_value)) == 0 && strcmp(other_value, v) != 0)
                                r = reader_fail(rd, e, "a %s other than [unix_http_server]'s: both servers ask for the same "
                                                       "credentials here", e->key);
                        free(other_value);
                        if (r == 0 && !other)
                                r = set_global(rd, strcmp(e->key, "username") == 0 ? "http-username" : "http-password", v, e);
                } else
                        r = warn_unknown(rd, s, e);
                free(v);
        }
        if (r == 0 && !ini_get(rd->ini, s, "port"))
                return section_fail(rd, s, "section [inet_http_server] has no port value");
        if (r == 0 && unix_server && (user != NULL) != (unix_user != NULL))
                r = config_builder_warn(rd->b, user ? user->file : unix_user->file, user ? user->line : unix_user->line,
                                        "[%s] sets credentials and [%s] none: both servers ask for them here",
                                        user ? "inet_http_server" : "unix_http_server",
                                        user ? "unix_http_server" : "inet_http_server");
        return r;
}

static const char *const program_keys[] = {
        "command", "process_name", "numprocs", "numprocs_start", "priority", "autostart", "startsecs", "startretries",
        "autorestart", "exitcodes", "stopsignal", "stopwaitsecs", "stopasgroup", "killasgroup", "user", "redirect_stderr",
        "stdout_logfile", "stdout_logfile_maxbytes", "stdout_logfile_backups", "stdout_capture_maxbytes",
        "stdout_events_enabled", "stdout_syslog", "stderr_logfile", "stderr_logfile_maxbytes", "stderr_logfile_backups",
        "stderr_capture_maxbytes", "stderr_events_enabled", "stderr_syslog", "environment", "directory", "umask",
        "serverurl",
        /* ours, which Python supervisord ignores: what its going FATAL does to supervisord */
        "fatal_action", NULL,
};

/* What an [eventlistener:x] has beyond a [program:x]'s keys. */
static const char *const listener_keys[] = { "events", "buffer_size", "result_handler", NULL };

/* The [group:x] that lists PROGRAM, or NULL. */
static const struct ini_section *group_of(const struct reader *rd, const char *program, const struct ini_entry **ret) {
        for (size_t i = 0; i < rd->ini->n_sections; i++) {
                const struct ini_section *g = rd->ini->sections[i];
                if (strncmp(g->name, "group:", 6) != 0)
                        continue;
                const struct ini_entry *e = ini_get(rd->ini, g, "programs");
                if (!e)
                        continue;
                /* list_of_strings(): comma-separated, each stripped */
                for (const char *p = e->value; *p;) {
                        p += strspn(p, " \t\n");
                        size_t n = strcspn(p, ",");
                        size_t m = n;
                        while (m > 0 && strchr(" \t\n", p[m - 1]))
                                m--;
                        if (m == strlen(program) && strncmp(p, program, m) == 0) {
                                *ret = e;
                                return g;
                        }
                        p += n + (p[n] == ',');
                }
        }
        return NULL;
}

/* [group:GROUP] priority onto SVC, one of its members, if the section has one. */
static int read_group_priority(struct reader *rd, struct config_builder_service *svc, const char *group) {
        char section[512];
        snprintf(section, sizeof section, "group:%s", group);
        const struct ini_section *g = ini_find_section(rd->ini, section);
        const struct ini_entry *e = g ? ini_get(rd->ini, g, "priority") : NULL;
        if (!e)
                return 0;
        char *v = NULL;
        long long priority;
        int r = expand_entry(rd, e, NULL, 0, &v);
        if (r == 0 && (r = to_integer(rd, e, v, &priority)) == 0)
                r = set_service(rd, svc, "service-group-priority", v, e);
        free(v);
        return r;
}

/* An [eventlistener:x]'s pool onto SVC, one of its listeners: events=, buffer_size= and
 * result_handler=, read once for the section (FIRST) and set on each listener. */
static int read_pool(struct reader *rd, const struct ini_section *s, struct config_builder_service *svc) {
        const struct ini_entry *e = ini_get(rd->ini, s, "events");
        char *v = NULL;
        int r = 0;
        if (e && (r = expand_entry(rd, e, NULL, 0, &v)) < 0)
                return r;
        size_t given = 0;
        for (char *p = v; r == 0 && p && *p;) {
                p += strspn(p, " \t\n");
                size_t n = strcspn(p, ","), m = n;
                while (m > 0 && strchr(" \t\n", p[m - 1]))
                        m--;
                char type[64];
                if (m == 0) {
                        p += n + (p[n] == ',');
                        continue;
                }
                snprintf(type, sizeof type, "%.*s", (int)(m < sizeof type - 1 ? m : sizeof type - 1), p);
                for (char *c = type; *c; c++)
                        *c = (char)toupper((unsigned char)*c);
                if (m >= sizeof type || !listener_event_parse(type))
                        r = reader_fail(rd, e, "Unknown event type %.*s in [%s] events", (int)(m < 200 ? m : 200), p,
                                        s->name);
                else {
                        r = config_builder_set(rd->b, svc, "events", type, e->file, e->line, "events");
                        given++;
                }
                p += n + (p[n] == ',');
        }
        free(v);
        if (r == 0 && given == 0)
                r = e ? reader_fail(rd, e, "[%s] section requires an \"events\" line", s->name)
                      : section_fail(rd, s, "section requires an \"events\" line");
        if (r == 0 && (e = ini_get(rd->ini, s, "buffer_size"))) {
                long long size;
                if ((r = expand_entry(rd, e, NULL, 0, &v)) < 0)
                        return r;
                if ((r = to_integer(rd, e, v, &size)) == 0 && size < 1)
                        r = reader_fail(rd, e, "[%s] section sets invalid buffer_size (%lld)", s->name, size);
                if (r == 0)
                        r = set_service(rd, svc, "buffer-size", v, e);
                free(v);
        }
        if (r == 0 && (e = ini_get(rd->ini, s, "result_handler"))) {
                if ((r = expand_entry(rd, e, NULL, 0, &v)) < 0)
                        return r;
                if (strcmp(v, "supervisor.dispatchers:default_handler") != 0)
                        r = reader_fail(rd, e, "'%s': only supervisord's default result handler, "
                                               "supervisor.dispatchers:default_handler, is used here", v);
                free(v);
        }
        return r;
}

/* Which of supervisord's own streams a log path names: 1 for its stdout (/dev/stdout,
 * /dev/fd/1, /proc/self/fd/1, and /proc/1/fd/1: the container's, supervisord's own when
 * it is process 1 or was started by it), 2 likewise for stderr, 0 for another path.
 * A program's stream sent there is the native `inherit`. */
static int supervisord_stream(const char *path) {
        static const char *const names[][4] = {
                { "/dev/stdout", "/dev/fd/1", "/proc/self/fd/1", "/proc/1/fd/1" },
                { "/dev/stderr", "/dev/fd/2", "/proc/self/fd/2", "/proc/1/fd/2" },
        };
        for (int i = 0; i < 2; i++)
                for (int j = 0; j < 4; j++)
                        if (strcmp(path, names[i][j]) == 0)
                                return i + 1;
        return 0;
}

/* An INI stdout_logfile or stderr_logfile value that names a file, as supervisord takes
 * it (datatypes.existing_dirpath): "~" expanded, a relative path from the current
 * directory, and its directory must exist.  The absolute path in BUF, normalized. */
static int logfile_path(struct reader *rd, const struct ini_entry *e, const char *v, char *buf, size_t size) {
        char *absolute = normalize_path(v);
        if (!absolute)
                return reader_fail(rd, e, "'%s': cannot tell the current directory: %s", v, strerror(errno));
        int n = snprintf(buf, size, "%s", absolute);
        free(absolute);
        if (n < 0 || (size_t)n >= size)
                return reader_fail(rd, e, "'%s': path too long", v);
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s", buf);
        char *slash = strrchr(dir, '/');
        if (slash == dir)
                slash[1] = '\0';
        else
                *slash = '\0';
        struct stat st;
        if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
                return reader_fail(rd, e, "The directory named as part of the path %s does not exist", v);
        return 0;
}

/* One process of [program:NAME] or of [eventlistener:NAME] (LISTENER): its service, every
 * key expanded with its process_num. */
static int read_process(struct reader *rd, const struct ini_section *s, const char *program, const char *group,
                        long long num, long long numprocs, bool in_family, bool first,
                        const struct ini_entry *group_entry, bool listener) {
        char num_text[32];
        snprintf(num_text, sizeof num_text, "%lld", num);
        struct ini_expansion x[8 + 256];
        size_t n = 0;
        x[n++] = (struct ini_expansion){ .name = "program_name", .string = program };
        x[n++] = (struct ini_expansion){ .name = "group_name", .string = group };
        x[n++] = (struct ini_expansion){ .name = "host_node_name", .string = rd->node };
        x[n++] = (struct ini_expansion){ .name = "process_num", .number = num };
        x[n++] = (struct ini_expansion){ .name = "numprocs", .number = numprocs };
        char **env = NULL, *name = NULL;
        char *env_names[256] = { 0 };
        int r = 0;
        const struct ini_entry *e;

        /* environment= first: its values are ENV_X for every other key, over the daemon's. */
        if ((e = ini_get(rd->ini, s, "environment"))) {
                char *v = NULL, message[1024];
                if ((r = expand_entry(rd, e, x, n, &v)) < 0)
                        return r;
                r = ini_parse_environment(v, &env, message, sizeof message);
                free(v);
                if (r == -EINVAL)
                        return reader_fail(rd, e, "%s", message);
                if (r < 0)
                        return r;
                for (size_t i = 0; env[i] && i < 256; i++) {
                        char *eq = strchr(env[i], '=');
                        if (asprintf(&env_names[i], "ENV_%.*s", (int)(eq - env[i]), env[i]) < 0) {
                                r = -ENOMEM;
                                goto out;
                        }
                        x[n++] = (struct ini_expansion){ .name = env_names[i], .string = eq + 1 };
                }
        }
        const struct ini_entry *pn = ini_get(rd->ini, s, "process_name");
        struct ini_entry default_name = { .key = "process_name", .value = "%(program_name)s", .file = s->file, .line = s->line };
        if ((r = expand_entry(rd, pn ? pn : &default_name, x, n, &name)) < 0)
                goto out;
        struct config_builder_service *svc;
        if ((r = config_builder_service(rd->b, name, s->file, s->line, &svc)) < 0)
                goto out;
        /* A process named apart from its program is in the program's group, as x:y. */
        if (in_family || group_entry || strcmp(name, group) != 0) {
                const struct ini_entry *ge = group_entry ? group_entry : pn;
                if (config_model_has_key(true, "service-group"))
                        r = config_builder_set(rd->b, svc, "service-group", group, ge->file, ge->line,
                                               group_entry ? "programs" : "process_name");
                else if (group_entry)
                        r = reader_fail(rd, group_entry, "[group:x] sections are not supported here yet");
                if (r < 0)
                        goto out;
        }
        /* [group:x] priority: the group's order among groups, given to each member. */
        if (group_entry && (r = read_group_priority(rd, svc, group)) < 0)
                goto out;

        /* supervisord's defaults where the native ones differ, for the keys not given. */
        static const char *const defaults[][3] = { { "startretries", "start-retries", "4" },
                                                   { "stdout_logfile_maxbytes", "log-max-size", "52428800" },
                                                   { "stdout_logfile_backups", "log-keep", "10" },
                                                   { "stderr_logfile_maxbytes", "stderr-log-max-size", "52428800" },
                                                   { "stderr_logfile_backups", "stderr-log-keep", "10" } };
        for (size_t i = 0; r == 0 && i < sizeof defaults / sizeof defaults[0]; i++)
                if (!ini_get(rd->ini, s, defaults[i][0]))
                        r = config_builder_set(rd->b, svc, defaults[i][1], defaults[i][2], s->file, s->line,
                                               "supervisord's default");
        /* supervisord's pools start before, and stop after, its programs */
        if (r == 0 && listener && !ini_get(rd->ini, s, "priority"))
                r = config_builder_set(rd->b, svc, "priority", "-1", s->file, s->line, "supervisord's default");
        /* Every program of supervisord's has a pipe on its stdin (sendProcessStdin, fg); an
         * event listener's stdin is its events. */
        if (r == 0 && !listener)
                r = config_builder_set(rd->b, svc, "stdin", "pipe", s->file, s->line, "supervisord's default");
        if (r == 0 && rd->umask && !ini_get(rd->ini, s, "umask"))
                r = config_builder_set(rd->b, svc, "umask", rd->umask, rd->umask_entry ? rd->umask_entry->file : s->file,
                                       rd->umask_entry ? rd->umask_entry->line : s->line, "umask");
        /* The daemon's environment= under the program's own. */
        for (char **p = rd->environment; r == 0 && p && *p; p++) {
                const char *eq = strchr(*p, '=');
                bool overridden = false;
                for (char **q = env; q && *q; q++)
                        overridden |= strncmp(*q, *p, (size_t)(eq - *p + 1)) == 0;
                if (!overridden)
                        r = config_builder_set(rd->b, svc, "environment", *p, rd->environment_entry->file,
                                               rd->environment_entry->line, "environment");
        }
        for (char **p = env; r == 0 && p && *p; p++)
                r = config_builder_set(rd->b, svc, "environment", *p, e->file, e->line, "environment");
        if (r < 0)
                goto out;
        if (!ini_get(rd->ini, s, "command")) {
                r = section_fail(rd, s, "program section %s does not specify a command", s->name);
                goto out;
        }
        if (listener && (r = read_pool(rd, s, svc)) < 0)
                goto out;

        static const char *const autos[] = { "auto", NULL };
        /* redirect_stderr and *_syslog decide what the logfile keys mean, wherever they are
         * written in the section. */
        bool redirect = false, syslog[2] = { false, false }, kept_nowhere[2] = { false, false };
        const struct ini_entry *events[2] = { NULL, NULL };  /* turned on, for a stream with no pipe */
        static const char *const deciders[3] = { "redirect_stderr", "stdout_syslog", "stderr_syslog" };
        for (size_t i = 0; r == 0 && i < 3; i++) {
                const char *b = NULL;
                char *v = NULL;
                if (!(e = ini_get(rd->ini, s, deciders[i])))
                        continue;
                if ((r = expand_entry(rd, e, x, n, &v)) == 0 && (r = to_boolean(rd, e, v, &b)) == 0) {
                        bool on = strcmp(b, "true") == 0;
                        if (i == 0)
                                redirect = on;
                        else
                                syslog[i - 1] = on;
                }
                free(v);
        }
        if (r == 0 && listener && redirect)
                r = reader_fail(rd, ini_get(rd->ini, s, "redirect_stderr"),
                                "[%s] section sets redirect_stderr=true but this is not allowed because it will "
                                "interfere with the eventlistener protocol", s->name);
        if (r < 0)
                goto out;
        /* stderr_logfile naming stdout's own file: supervisord opens it twice and both
         * append; here stderr shares stdout's pipe into it, which keeps their order and
         * rotates the file once. */
        bool same_file = false;
        const struct ini_entry *out_entry = ini_get(rd->ini, s, "stdout_logfile"),
                               *err_entry = ini_get(rd->ini, s, "stderr_logfile");
        if (!redirect && !syslog[0] && !syslog[1] && out_entry && err_entry) {
                char *a = NULL, *b = NULL;
                if ((r = expand_entry(rd, out_entry, x, n, &a)) == 0 && (r = expand_entry(rd, err_entry, x, n, &b)) == 0) {
                        static const char *const specials[] = { "auto", "none", "off", "syslog", NULL };
                        bool special = false;
                        for (const char *const *p = specials; *p; p++)
                                special |= strcasecmp(a, *p) == 0;
                        char pa[PATH_MAX], pb[PATH_MAX];
                        if (!special && strncmp(a, "/dev/", 5) != 0 && strncmp(a, "/proc/", 6) != 0
                            && logfile_path(rd, out_entry, a, pa, sizeof pa) == 0
                            && logfile_path(rd, err_entry, b, pb, sizeof pb) == 0)
                                same_file = strcmp(pa, pb) == 0;
                        else if (supervisord_stream(a) == 1)
                                same_file = supervisord_stream(b) == 1;
                }
                free(a);
                free(b);
                if (r < 0)
                        goto out;
                /* logfile_path() failing here fails again below, at its own entry */
                rd->error[0] = '\0';
        }
        /* Where stderr goes when no stderr_logfile says: into stdout's log with
         * redirect_stderr, else a log of its own (supervisord's AUTO). */
        if (redirect) {
                e = ini_get(rd->ini, s, "redirect_stderr");
                r = set_service(rd, svc, "stderr", "stdout", e);
        } else if (same_file)
                r = set_service(rd, svc, "stderr", "stdout", err_entry);
        else if (syslog[1])
                r = config_builder_set(rd->b, svc, "stderr", "journal", s->file, s->line, NULL);
        else if (!ini_get(rd->ini, s, "stderr_logfile"))
                r = config_builder_set(rd->b, svc, "stderr", "log", s->file, s->line, NULL);
        if (r == 0 && syslog[0])
                r = config_builder_set(rd->b, svc, "stdout", "journal", s->file, s->line, NULL);
        /* stderr's events are its own (the native ones follow stdout's unless set). */
        if (r == 0 && !redirect && !ini_get(rd->ini, s, "stderr_events_enabled"))
                r = config_builder_set(rd->b, svc, "stderr-log-events", "false", s->file, s->line, NULL);
        if (r == 0 && !redirect && !ini_get(rd->ini, s, "stderr_capture_maxbytes"))
                r = config_builder_set(rd->b, svc, "stderr-capture-max-bytes", "0", s->file, s->line, NULL);
        if (r < 0)
                goto out;
        for (size_t i = 0; r == 0 && i < s->n_entries; i++) {
                e = &s->entries[i];
                const char *k = e->key, *b = NULL;
                char *v = NULL, text[64];
                long long count;
                if (listener && in_list(k, listener_keys))
                        continue;  /* read_pool() */
                if (!in_list(k, program_keys)) {
                        if (first)
                                r = warn_unknown(rd, s, e);
                        continue;
                }
                if (strcmp(k, "environment") == 0 || strcmp(k, "process_name") == 0 || strncmp(k, "numprocs", 8) == 0)
                        continue;
                if ((r = expand_entry(rd, e, x, n, &v)) < 0)
                        break;
                if (strcmp(k, "command") == 0) {
                        char **words = NULL, message[256];
                        r = ini_split_command(v, &words, message, sizeof message);
                        if (r == -EINVAL)
                                r = reader_fail(rd, e, "can't parse command '%s': %s", v, message);
                        else if (r == 0 && !words[0])
                                r = reader_fail(rd, e, "command is empty");
                        else if (r == 0) {
                                char *native = native_command(words);
                                r = native ? set_service(rd, svc, "command", native, e) : -ENOMEM;
                                free(native);
                        }
                        for (char **w = words; w && *w; w++)
                                free(*w);
                        free(words);
                } else if (strcmp(k, "priority") == 0) {
                        if ((r = to_integer(rd, e, v, &count)) == 0)
                                r = set_service(rd, svc, "priority", v, e);
                } else if (strcmp(k, "autostart") == 0) {
                        if ((r = to_boolean(rd, e, v, &b)) == 0)
                                r = set_service(rd, svc, "autostart", b, e);
                } else if (strcmp(k, "startsecs") == 0) {
                        if ((r = to_integer(rd, e, v, &count)) == 0)
                                r = set_service(rd, svc, "start-secs", v, e);
                } else if (strcmp(k, "startretries") == 0) {
                        /* supervisord's count is of retries, the native one of attempts */
                        if ((r = to_integer(rd, e, v, &count)) == 0 && count < 0)
                                r = reader_fail(rd, e, "'%s' is negative", v);
                        if (r == 0) {
                                snprintf(text, sizeof text, "%lld", count + 1);
                                r = set_service(rd, svc, "start-retries", text, e);
                        }
                } else if (strcmp(k, "autorestart") == 0) {
                        static const char *const map[][2] = { { "false", "never" }, { "0", "never" },     { "off", "never" },
                                                              { "no", "never" },    { "unexpected", "on-failure" },
                                                              { "true", "always" }, { "1", "always" },    { "on", "always" },
                                                              { "yes", "always" } };
                        const char *policy = NULL;
                        for (size_t j = 0; j < sizeof map / sizeof map[0]; j++)
                                if (strcasecmp(v, map[j][0]) == 0)
                                        policy = map[j][1];
                        r = policy ? set_service(rd, svc, "restart", policy, e)
                                   : reader_fail(rd, e, "invalid 'autorestart' value '%s'", v);
                } else if (strcmp(k, "exitcodes") == 0) {
                        if (!config_model_has_key(true, "success-exit-codes"))
                                r = reader_fail(rd, e, "not supported here");
                        for (char *p = v, *next; r == 0 && p; p = next) {
                                next = strchr(p, ',');
                                if (next)
                                        *next++ = '\0';
                                while (*p == ' ' || *p == '\t')
                                        p++;
                                if ((r = to_integer(rd, e, p, &count)) == 0)
                                        r = config_builder_set(rd->b, svc, "success-exit-codes", p, e->file, e->line, k);
                        }
                } else if (strcmp(k, "stopsignal") == 0) {
                        if ((r = to_signal(rd, e, v, text, sizeof text)) == 0)
                                r = set_service(rd, svc, "stop-signal", text, e);
                } else if (strcmp(k, "stopwaitsecs") == 0) {
                        if ((r = to_integer(rd, e, v, &count)) == 0)
                                r = set_service(rd, svc, "stop-timeout", v, e);
                } else if (strcmp(k, "stopasgroup") == 0 || strcmp(k, "killasgroup") == 0) {
                        /* The whole process group is always signalled here (a service runs in
                         * its own), which is what both say when true. */
                        r = to_boolean(rd, e, v, &b);
                } else if (strcmp(k, "user") == 0) {
                        r = set_service(rd, svc, "user", v, e);
                } else if (strcmp(k, "directory") == 0) {
                        r = set_service(rd, svc, "directory", v, e);
                } else if (strcmp(k, "umask") == 0) {
                        if ((r = to_octal(rd, e, v, text, sizeof text)) == 0)
                                r = set_service(rd, svc, "umask", text, e);
                } else if (strcmp(k, "redirect_stderr") == 0 || strstr(k, "_syslog")) {
                        /* read above */
                } else if (listener && strcmp(k, "stdout_logfile") == 0) {
                        /* A listener's stdout is its answers to supervisord, never logged here. */
                        if (strcasecmp(v, "auto") != 0 && strcasecmp(v, "none") != 0 && strcasecmp(v, "off") != 0)
                                r = reader_fail(rd, e, "'%s': an event listener's stdout is its answers to supervisord "
                                                       "and is not logged here: only AUTO or NONE", v);
                } else if (strcmp(k, "stdout_logfile") == 0 || strcmp(k, "stderr_logfile") == 0) {
                        bool out = k[3] == 'o';
                        const char *target = NULL;
                        char file[PATH_MAX];
                        bool none = strcasecmp(v, "none") == 0 || strcasecmp(v, "off") == 0;
                        if (!out && same_file) {
                                /* into stdout's pipe, above */
                        } else if (!out && redirect) {
                                if (strcasecmp(v, "auto") != 0 && !none)
                                        r = config_builder_warn(rd->b, e->file, e->line,
                                                                "For [%s], redirect_stderr=true but stderr_logfile has "
                                                                "also been set to a filename, the filename has been ignored",
                                                                s->name);
                        } else if (syslog[out ? 0 : 1]) {
                                /* supervisord keeps the file and syslog both; here the journal
                                 * takes the output instead of the file. */
                                if (!none)
                                        r = config_builder_warn(rd->b, e->file, e->line,
                                                                "%s_syslog=true: the output goes to the journal (or "
                                                                "syslog) instead of this log file, not to both",
                                                                out ? "stdout" : "stderr");
                        } else if (strcasecmp(v, "auto") == 0)
                                target = "log";
                        else if (none) {
                                target = "null";
                                kept_nowhere[out ? 0 : 1] = true;
                        }
                        else if (strcasecmp(v, "syslog") == 0)
                                target = "journal";  /* supervisord's deprecated spelling of *_syslog=true */
                        else if (supervisord_stream(v) == (out ? 1 : 2))
                                target = "inherit";
                        else if (strncmp(v, "/dev/", 5) == 0 || strncmp(v, "/proc/", 6) == 0)
                                r = reader_fail(rd, e, "'%s': of the special files only supervisord's own %s (%s) "
                                                "is supported here", v, out ? "stdout" : "stderr",
                                                out ? "/dev/stdout, /dev/fd/1, /proc/self/fd/1, /proc/1/fd/1"
                                                    : "/dev/stderr, /dev/fd/2, /proc/self/fd/2, /proc/1/fd/2");
                        else if ((r = logfile_path(rd, e, v, file, sizeof file)) == 0) {
                                target = "log";
                                r = set_service(rd, svc, out ? "stdout-log" : "stderr-log", file, e);
                        }
                        if (r == 0 && target)
                                r = set_service(rd, svc, out ? "stdout" : "stderr", target, e);
                } else if (strcmp(k, "stdout_logfile_maxbytes") == 0 || strcmp(k, "stderr_logfile_maxbytes") == 0) {
                        if ((r = to_byte_size(rd, e, v, text, sizeof text)) == 0)
                                r = set_service(rd, svc, k[3] == 'o' ? "log-max-size" : "stderr-log-max-size", text, e);
                } else if (strcmp(k, "stdout_logfile_backups") == 0 || strcmp(k, "stderr_logfile_backups") == 0) {
                        if ((r = to_integer(rd, e, v, &count)) == 0)
                                r = set_service(rd, svc, k[3] == 'o' ? "log-keep" : "stderr-log-keep", v, e);
                } else if (strstr(k, "_capture_maxbytes")) {
                        /* stderr's events come from stderr's own pipe, which redirect_stderr has not */
                        if ((r = to_byte_size(rd, e, v, text, sizeof text)) == 0 && (k[3] == 'o' || !redirect)) {
                                if (strcmp(text, "0") != 0)
                                        events[k[3] == 'o' ? 0 : 1] = e;
                                r = set_service(rd, svc, k[3] == 'o' ? "capture-max-bytes" : "stderr-capture-max-bytes",
                                                text, e);
                        }
                } else if (strstr(k, "_events_enabled")) {
                        if ((r = to_boolean(rd, e, v, &b)) == 0 && (k[3] == 'o' || !redirect)) {
                                if (strcmp(b, "true") == 0)
                                        events[k[3] == 'o' ? 0 : 1] = e;
                                r = set_service(rd, svc, k[3] == 'o' ? "log-events" : "stderr-log-events", b, e);
                        }
                } else if (strcmp(k, "fatal_action") == 0) {
                        r = set_service(rd, svc, "fatal-action", v, e);
                } else if (strcmp(k, "serverurl") == 0) {
                        r = only_default(rd, e, v, autos, "AUTO");
                }
                free(v);
        }
        /* Events come from the pipe, which a stream kept nowhere has not here. */
        for (int i = 0; r == 0 && i < 2; i++)
                if (events[i] && kept_nowhere[i])
                        r = reader_fail(rd, events[i], "not with %s_logfile=NONE here: the events are made from the log pipe",
                                        i ? "stderr" : "stdout");
out:
        free(name);
        for (char **p = env; p && *p; p++)
                free(*p);
        free(env);
        for (size_t i = 0; i < 256; i++)
                free(env_names[i]);
        return r;
}

/* [program:NAME], or [eventlistener:NAME] (LISTENER): a pool of listeners, its own group. */
static int read_program(struct reader *rd, const struct ini_section *s, bool listener) {
        const char *program = strchr(s->name, ':') + 1;
        const struct ini_entry *group_entry = NULL;
        const struct ini_section *g = listener ? NULL : group_of(rd, program, &group_entry);
        const char *group = g ? g->name + strlen("group:") : program;
        long long numprocs = 1, start = 0;
        const struct ini_entry *e;
        int r;
        if ((e = ini_get(rd->ini, s, "numprocs"))) {
                char *v = NULL;
                if ((r = expand_entry(rd, e, NULL, 0, &v)) == 0)
                        r = to_integer(rd, e, v, &numprocs);
                free(v);
                if (r < 0)
                        return r;
                if (numprocs < 1 || numprocs > 10000)
                        return reader_fail(rd, e, "'%lld' is not from 1 to 10000", numprocs);
        }
        if ((e = ini_get(rd->ini, s, "numprocs_start"))) {
                char *v = NULL;
                if ((r = expand_entry(rd, e, NULL, 0, &v)) == 0)
                        r = to_integer(rd, e, v, &start);
                free(v);
                if (r < 0)
                        return r;
        }
        const struct ini_entry *pn = ini_get(rd->ini, s, "process_name");
        if (numprocs > 1 && !strstr(pn ? pn->value : "%(program_name)s", "%(process_num)")) {
                if (pn)
                        return reader_fail(rd, pn, "%%(process_num) must be present within process_name when numprocs > 1");
                return section_fail(rd, s, "%%(process_num) must be present within process_name when numprocs > 1");
        }
        const struct ini_entry *sg = ini_get(rd->ini, s, "stopasgroup"), *kg = ini_get(rd->ini, s, "killasgroup");
        if (sg && kg) {
                const char *sb = NULL, *kb = NULL;
                if ((r = to_boolean(rd, sg, sg->value, &sb)) < 0 || (r = to_boolean(rd, kg, kg->value, &kb)) < 0)
                        return r;
                if (strcmp(sb, "true") == 0 && strcmp(kb, "false") == 0)
                        return reader_fail(rd, kg, "Cannot set stopasgroup=true and killasgroup=false");
        }
        for (long long num = start; num < start + numprocs; num++)
                if ((r = read_process(rd, s, program, group, num, numprocs, numprocs > 1, num == start, group_entry, listener)) < 0)
                        return r;
        return 0;
}

/* [include] files=: whitespace-separated globs, relative to the including file's
 * directory, each match read in sorted order; a glob that matches nothing is a warning. */
static int read_includes(struct reader *rd, const char *main_path) {
        const struct ini_section *s = ini_find_section(rd->ini, "include");
        if (!s)
                return 0;
        const struct ini_entry *e = ini_get(rd->ini, s, "files");
        if (!e)
                return section_fail(rd, s, ".ini file has [include] section, but no files setting");
        char *v = NULL, base[PATH_MAX];
        int r = expand_entry(rd, e, NULL, 0, &v);
        if (r < 0)
                return r;
        here_of(main_path, base, sizeof base);
        for (char *save = NULL, *pattern = strtok_r(v, " \t\n", &save); r == 0 && pattern;
             pattern = strtok_r(NULL, " \t\n", &save)) {
                char joined[PATH_MAX * 2];
                snprintf(joined, sizeof joined, "%s%s%s", pattern[0] == '/' ? "" : base, pattern[0] == '/' ? "" : "/",
                         pattern);
                glob_t g = { 0 };
                int gr = glob(joined, 0, NULL, &g);
                if (gr == GLOB_NOMATCH)
                        r = config_builder_warn(rd->b, e->file, e->line, "No file matches via include \"%s\"", joined);
                else if (gr != 0)
                        r = reader_fail(rd, e, "cannot read the files of \"%s\"", joined);
                for (size_t i = 0; gr == 0 && r == 0 && i < g.gl_pathc; i++)
                        if ((r = config_check_trusted(g.gl_pathv[i], rd->error, rd->error_size)) == 0)
                                r = ini_parse_file(rd->ini, g.gl_pathv[i], rd->error, rd->error_size);
                globfree(&g);
        }
        free(v);
        return r;
}

/* ini_config_load(), and with PRINT the native form of what it loaded written there. */
static int load(const char *path, struct config **ret, FILE *print, char *error, size_t error_size) {
        struct reader rd = { .error = error, .error_size = error_size };
        struct config_flags flags = { false, false };
        int r = -ENOMEM;
        struct utsname u;
        snprintf(rd.node, sizeof rd.node, "%s", uname(&u) == 0 ? u.nodename : "");
        error[0] = '\0';
        if (!(rd.ini = ini_new()) || !(rd.b = config_builder_new(path)) || env_names_make(&rd) < 0)
                goto out;
        /* Whoever can write a config file can make supervisord run anything: as for the
         * native form, only root and supervisord's own user may. */
        if ((r = config_check_trusted(path, error, error_size)) < 0 ||
            (r = ini_parse_file(rd.ini, path, error, error_size)) < 0 || (r = read_includes(&rd, path)) < 0)
                goto out;
        const struct ini_section *sd = ini_find_section(rd.ini, "supervisord");
        if (!sd) {
                snprintf(error, error_size, "%s:1: .ini file does not include supervisord section", path);
                r = -EINVAL;
                goto out;
        }
        if ((r = read_supervisord(&rd, sd, &flags)) < 0)
                goto out;
        /* supervisord sets its umask only as it daemonizes: with nodaemon its programs
         * inherit the umask it was started with. */
        if (flags.nodaemon) {
                free((char *)rd.umask);
                rd.umask = NULL;
        } else if (!rd.umask && !(rd.umask = strdup("022"))) {
                r = -ENOMEM;
                goto out;
        }
        /* Every global before the first check, which judges the globals once. */
        for (size_t i = 0; r == 0 && i < rd.ini->n_sections; i++)
                if (strcmp(rd.ini->sections[i]->name, "unix_http_server") == 0)
                        r = read_unix_http_server(&rd, rd.ini->sections[i]);
                else if (strcmp(rd.ini->sections[i]->name, "inet_http_server") == 0)
                        r = read_inet_http_server(&rd, rd.ini->sections[i]);
        for (size_t i = 0; r == 0 && i < rd.ini->n_sections; i++) {
                const struct ini_section *s = rd.ini->sections[i];
                const char *name = s->name;
                if (strcmp(name, "unix_http_server") == 0 || strcmp(name, "inet_http_server") == 0)
                        ;  /* read above, with the other globals */
                else if (strncmp(name, "program:", 8) == 0 || strncmp(name, "eventlistener:", 14) == 0)
                        r = read_program(&rd, s, name[0] == 'e');
                else if (strcmp(name, "supervisord") == 0 || strcmp(name, "supervisorctl") == 0 ||
                         strcmp(name, "include") == 0 || strncmp(name, "group:", 6) == 0)
                        ;  /* read above, by the client, or with the programs */
                else if (strncmp(name, "rpcinterface:", 13) == 0) {
                        const struct ini_entry *f = ini_get(rd.ini, s, "supervisor.rpcinterface_factory");
                        if (!f)
                                r = section_fail(&rd, s, "section [%s] does not specify a supervisor.rpcinterface_factory", name);
                        else if (strcmp(f->value, "supervisor.rpcinterface:make_main_rpcinterface") != 0)
                                r = reader_fail(&rd, f, "'%s': only supervisord's own interface, "
                                                        "supervisor.rpcinterface:make_main_rpcinterface, is served here", f->value);
                } else if (strncmp(name, "fcgi-program:", 13) == 0)
                        r = section_fail(&rd, s, "this section is not supported here yet");
                else
                        r = config_builder_warn(rd.b, s->file, s->line,
                                                "[%s] is not a section supervisord reads; it ignores it, and so does this", name);
                if (r == 0)
                        r = config_builder_check(rd.b, error, error_size);
        }
        /* a [group:x] naming a program that is not there, or with a key it does not have */
        for (size_t i = 0; r == 0 && i < rd.ini->n_sections; i++) {
                const struct ini_section *g = rd.ini->sections[i];
                if (strncmp(g->name, "group:", 6) != 0)
                        continue;
                for (size_t k = 0; r == 0 && k < g->n_entries; k++)
                        if (strcmp(g->entries[k].key, "programs") != 0 && strcmp(g->entries[k].key, "priority") != 0)
                                r = warn_unknown(&rd, g, &g->entries[k]);
                if (r < 0)
                        break;
                const struct ini_entry *e = ini_get(rd.ini, g, "programs");
                if (!e) {
                        r = section_fail(&rd, g, "section [%s] has no programs value", g->name);
                        break;
                }
                for (const char *p = e->value; r == 0 && *p;) {
                        p += strspn(p, " \t\n");
                        size_t n = strcspn(p, ","), m = n;
                        while (m > 0 && strchr(" \t\n", p[m - 1]))
                                m--;
                        char section[512];
                        snprintf(section, sizeof section, "program:%.*s", (int)(m < 400 ? m : 400), p);
                        if (m > 0 && !ini_find_section(rd.ini, section))
                                r = reader_fail(&rd, e, "no section 'program:%.*s' (file: '%s')", (int)(m < 400 ? m : 400), p, path);
                        p += n + (p[n] == ',');
                }
        }
        if (r == 0 && (r = config_builder_finish(rd.b, ret, error, error_size)) == 0) {
                (*ret)->nodaemon = flags.nodaemon;
                (*ret)->silent = flags.silent;
        }
        if (r == 0 && print) {
                if ((r = config_builder_print(rd.b, print, error, error_size)) == 0 && (flags.nodaemon || flags.silent))
                        fprintf(print, "\n# [supervisord]%s%s: not settings of the file here; run supervisord%s%s.\n",
                                flags.nodaemon ? " nodaemon = true" : "", flags.silent ? " silent = true" : "",
                                flags.nodaemon ? " -n" : "", flags.silent ? " (its main log goes to log-file only)" : "");
                if (r < 0) {
                        config_free(*ret);
                        *ret = NULL;
                }
        }
out:
        if (r == -ENOMEM && !error[0])
                snprintf(error, error_size, "%s: out of memory", path);
        for (size_t i = 0; i < rd.n_env; i++)
                free((char *)rd.env[i].name);
        free(rd.env);
        free((char *)rd.umask);
        for (char **p = rd.environment; p && *p; p++)
                free(*p);
        free(rd.environment);
        config_builder_free(rd.b);
        ini_free(rd.ini);
        return r;
}

int ini_config_load(const char *path, struct config **ret, char *error, size_t error_size) {
        return load(path, ret, NULL, error, error_size);
}

int ini_config_print(const char *path, FILE *out, char *error, size_t error_size) {
        struct config *c = NULL;
        int r = load(path, &c, out, error, error_size);
        config_free(c);
        return r;
}
