/* ini_config.c — see ini_config.h.  What supervisord's options.py decides before any
 * section means anything: the file's form, its search order, the client's socket. */
#include "ini_config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return 0;
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

static int peek_names_make(struct peek_names *x, const char *path) {
        size_t n_env = 0;
        while (environ && environ[n_env])
                n_env++;
        x->names = calloc(n_env + 1, sizeof *x->names);
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
        for (size_t i = 0; i < n_env; i++) {
                const char *eq = strchr(environ[i], '=');
                if (!eq)
                        continue;
                char *name = NULL;
                if (asprintf(&name, "ENV_%.*s", (int)(eq - environ[i]), environ[i]) < 0)
                        return -ENOMEM;
                x->names[x->n++] = (struct ini_expansion){ .name = name, .string = eq + 1 };
        }
        return 0;
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

int ini_config_peek_socket(const char *path, char **ret, char *error, size_t error_size) {
        *ret = NULL;
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
        char *value = NULL;
        int r = peek_names_make(&names, path);
        if (r == 0)
                r = peek_value(ini, "supervisorctl", "serverurl", &names, &value, error, error_size);
        if (r == 1) {
                if (strncmp(value, "unix://", 7) == 0) {
                        *ret = normalize_path(value + 7);
                        r = *ret ? 1 : -ENOMEM;
                } else {
                        *ret = value;
                        value = NULL;
                        r = 2;
                }
        } else if (r == 0) {
                r = peek_value(ini, "unix_http_server", "file", &names, &value, error, error_size);
                if (r == 1) {
                        /* supervisord strips this one value again, after expansion */
                        char *v = value + strspn(value, " \t\r\n");
                        size_t n = strlen(v);
                        while (n > 0 && strchr(" \t\r\n", v[n - 1]))
                                v[--n] = '\0';
                        *ret = normalize_path(v);
                        r = *ret ? 1 : -ENOMEM;
                }
        }
        /* A file cut short by a bad line may have had the setting below it. */
        if (r == 0 && parsed < 0) {
                snprintf(error, error_size, "%s", parse_error);
                r = parsed;
        }
        if (r == -ENOMEM)
                snprintf(error, error_size, "%s: out of memory", path);
        free(value);
        peek_names_free(&names);
        ini_free(ini);
        return r;
}
