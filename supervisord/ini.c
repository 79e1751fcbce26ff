/* ini.c — see ini.h.  One pass over each line, as configparser's _read() does: strip the
 * comment, then the line is a continuation (indented deeper than the line of the key
 * being read), a section header or a KEY = VALUE line.  Values are collected line by line
 * and joined at the end of each file.  Whitespace is Python's str.isspace(), UTF-8 aware,
 * and indentation is counted in characters, so that a file means here what it means to
 * supervisord. */
#include "ini.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The length in bytes of the whitespace character at P (before END), 0 if none: the
 * characters Python's str.isspace() accepts, ASCII and UTF-8 encoded. */
static size_t space_at(const char *p, const char *end) {
        const unsigned char *u = (const unsigned char *)p;
        size_t left = (size_t)(end - p);
        if (left == 0)
                return 0;
        if (u[0] == ' ' || (u[0] >= '\t' && u[0] <= '\r') || (u[0] >= 0x1c && u[0] <= 0x1f))
                return 1;
        if (left >= 2 && u[0] == 0xc2 && (u[1] == 0x85 || u[1] == 0xa0))
                return 2;
        if (left >= 3) {
                unsigned c = (unsigned)u[0] << 16 | (unsigned)u[1] << 8 | u[2];
                if (c == 0xe19a80 || (c >= 0xe28080 && c <= 0xe2808a) || c == 0xe280a8 || c == 0xe280a9 ||
                    c == 0xe280af || c == 0xe2819f || c == 0xe38080)
                        return 3;
        }
        return 0;
}

/* Is P (before END) just after a whitespace character?  Looks back over the few byte
 * lengths a whitespace character can have. */
static bool space_before(const char *start, const char *p) {
        for (size_t n = 1; n <= 3 && (size_t)(p - start) >= n; n++)
                if (space_at(p - n, p) == n)
                        return true;
        return false;
}

static void strip_end(const char *begin, const char **end) {
        for (bool found = true; found && *end > begin;) {
                found = false;
                for (size_t n = 1; n <= 3 && (size_t)(*end - begin) >= n; n++)
                        if (space_at(*end - n, *end) == n) {
                                *end -= n;
                                found = true;
                                break;
                        }
        }
}

static void strip(const char **begin, const char **end) {
        size_t n;
        while (*begin < *end && (n = space_at(*begin, *end)) > 0)
                *begin += n;
        strip_end(*begin, end);
}

struct ini_file *ini_new(void) {
        return calloc(1, sizeof(struct ini_file));
}

static void section_clear(struct ini_section *s) {
        for (size_t i = 0; i < s->n_entries; i++) {
                free(s->entries[i].key);
                free(s->entries[i].value);
        }
        free(s->entries);
        free(s->name);
}

void ini_free(struct ini_file *ini) {
        if (!ini)
                return;
        for (size_t i = 0; i < ini->n_sections; i++) {
                section_clear(ini->sections[i]);
                free(ini->sections[i]);
        }
        free(ini->sections);
        section_clear(&ini->defaults);
        for (size_t i = 0; i < ini->n_paths; i++)
                free(ini->paths[i]);
        free(ini->paths);
        free(ini);
}

struct ini_section *ini_find_section(const struct ini_file *ini, const char *name) {
        for (size_t i = 0; ini && i < ini->n_sections; i++)
                if (strcmp(ini->sections[i]->name, name) == 0)
                        return ini->sections[i];
        return NULL;
}

static struct ini_entry *section_find(const struct ini_section *s, const char *key) {
        for (size_t i = 0; s && i < s->n_entries; i++)
                if (strcmp(s->entries[i].key, key) == 0)
                        return &s->entries[i];
        return NULL;
}

const struct ini_entry *ini_get(const struct ini_file *ini, const struct ini_section *section, const char *key) {
        const struct ini_entry *e = section_find(section, key);
        return e ? e : section_find(&ini->defaults, key);
}

/* A value being collected: its lines so far, joined with '\n'. */
struct pending {
        struct ini_entry *entry;  /* NULL when no key is being read */
        char *text;
        size_t length, allocated;
};

static int pending_append(struct pending *p, const char *s, size_t n, bool newline) {
        size_t need = p->length + n + 2;
        if (need > p->allocated) {
                size_t size = p->allocated ? p->allocated : 64;
                while (size < need)
                        size *= 2;
                char *t = realloc(p->text, size);
                if (!t)
                        return -ENOMEM;
                p->text = t;
                p->allocated = size;
        }
        if (newline)
                p->text[p->length++] = '\n';
        memcpy(p->text + p->length, s, n);
        p->length += n;
        p->text[p->length] = '\0';
        return 0;
}

/* The value read for the current key is complete: it replaces the entry's, less trailing
 * blanks and blank lines (configparser's rstrip() at the join; a value whose first line is
 * empty keeps its leading "\n", as there). */
static int pending_finish(struct pending *p) {
        if (!p->entry)
                return 0;
        const char *begin = p->text ? p->text : "", *end = begin + p->length;
        strip_end(begin, &end);
        char *value = strndup(begin, (size_t)(end - begin));
        if (!value)
                return -ENOMEM;
        free(p->entry->value);
        p->entry->value = value;
        p->entry = NULL;
        p->length = 0;
        return 0;
}

static struct ini_section *section_open(struct ini_file *ini, const char *name, size_t n, const char *file,
                                        int line) {
        if (n == 7 && memcmp(name, "DEFAULT", 7) == 0) {
                if (!ini->defaults.name) {
                        ini->defaults.name = strdup("DEFAULT");
                        if (!ini->defaults.name)
                                return NULL;
                        ini->defaults.file = file;
                        ini->defaults.line = line;
                }
                return &ini->defaults;
        }
        for (size_t i = 0; i < ini->n_sections; i++)
                if (strlen(ini->sections[i]->name) == n && memcmp(ini->sections[i]->name, name, n) == 0)
                        return ini->sections[i];
        struct ini_section **grown = realloc(ini->sections, (ini->n_sections + 1) * sizeof *grown);
        if (!grown)
                return NULL;
        ini->sections = grown;
        struct ini_section *s = calloc(1, sizeof *s);
        if (!s || !(s->name = strndup(name, n))) {
                free(s);
                return NULL;
        }
        s->file = file;
        s->line = line;
        ini->sections[ini->n_sections++] = s;
        return s;
}

/* The entry for KEY in S, made if new; a key written again keeps its place (a dict's). */
static struct ini_entry *section_set(struct ini_section *s, char *key, const char *file, int line) {
        struct ini_entry *e = section_find(s, key);
        if (e) {
                free(key);
        } else {
                if (s->n_entries == s->allocated) {
                        size_t size = s->allocated ? 2 * s->allocated : 8;
                        struct ini_entry *grown = realloc(s->entries, size * sizeof *grown);
                        if (!grown) {
                                free(key);
                                return NULL;
                        }
                        s->entries = grown;
                        s->allocated = size;
                }
                e = &s->entries[s->n_entries++];
                *e = (struct ini_entry){ .key = key };
        }
        e->file = file;
        e->line = line;
        return e;
}

static int fail(char *error, size_t size, const char *path, int line, const char *format, ...)
        __attribute__((format(printf, 5, 6)));
static int fail(char *error, size_t size, const char *path, int line, const char *format, ...) {
        char message[512];
        va_list ap;
        va_start(ap, format);
        vsnprintf(message, sizeof message, format, ap);
        va_end(ap);
        snprintf(error, size, "%s:%d: %s", path, line, message);
        return -EINVAL;
}

/* A line as it may be quoted in a message: at most 60 bytes, control bytes as '?'. */
static void quote_line(const char *s, size_t n, char *out, size_t size) {
        size_t k = 0;
        for (size_t i = 0; i < n && k + 4 < size && i < 60; i++)
                out[k++] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
        if (n > 60 && k + 4 < size) {
                memcpy(out + k, "...", 3);
                k += 3;
        }
        out[k] = '\0';
}

/* Where the comment on the line [S, END) starts (END if none): the first ";" or "#" at
 * the start of the line or after a blank. */
static const char *comment_start(const char *s, const char *end) {
        for (const char *p = s; p < end; p++)
                if ((*p == ';' || *p == '#') && (p == s || space_before(s, p)))
                        return p;
        return end;
}

/* Indentation of the line [S, END) in characters, as Python counts them. */
static size_t indentation(const char *s, const char *end) {
        size_t chars = 0, n;
        while (s < end && (n = space_at(s, end)) > 0) {
                s += n;
                chars++;
        }
        return chars;
}

static const char *add_path(struct ini_file *ini, const char *path) {
        char **grown = realloc(ini->paths, (ini->n_paths + 1) * sizeof *grown);
        if (!grown)
                return NULL;
        ini->paths = grown;
        if (!(ini->paths[ini->n_paths] = strdup(path)))
                return NULL;
        return ini->paths[ini->n_paths++];
}

int ini_parse(struct ini_file *ini, const char *path, const char *text, size_t size, char *error,
              size_t error_size) {
        const char *file = add_path(ini, path);
        if (!file)
                return -ENOMEM;
        struct ini_section *section = NULL;
        struct pending value = { 0 };
        size_t key_indent = 0;
        int line = 0, r = 0;
        const char *p = text, *end = text + size;
        while (p < end && r == 0) {
                line++;
                const char *eol = p;
                while (eol < end && *eol != '\n' && *eol != '\r')
                        eol++;
                const char *next = eol;
                if (next < end)
                        next += (*next == '\r' && next + 1 < end && next[1] == '\n') ? 2 : 1;
                if (memchr(p, '\0', (size_t)(eol - p))) {
                        r = fail(error, error_size, path, line, "NUL byte in the line");
                        break;
                }
                const char *comment = comment_start(p, eol);
                const char *b = p, *e = comment;
                strip(&b, &e);
                if (b == e) {
                        /* A blank line belongs to a value being read; a comment line does not. */
                        if (comment == eol && value.entry)
                                r = pending_append(&value, "", 0, true);
                        p = next;
                        continue;
                }
                size_t indent = indentation(p, eol);
                if (value.entry && indent > key_indent) {
                        r = pending_append(&value, b, (size_t)(e - b), true);
                        p = next;
                        continue;
                }
                if ((r = pending_finish(&value)) < 0)
                        break;
                key_indent = indent;
                const char *close = NULL;
                for (const char *q = e - 1; *b == '[' && q > b + 1; q--)
                        if (*q == ']') {
                                close = q;
                                break;
                        }
                if (close) {
                        section = section_open(ini, b + 1, (size_t)(close - b - 1), file, line);
                        if (!section)
                                r = -ENOMEM;
                        p = next;
                        continue;
                }
                char quoted[80];
                quote_line(b, (size_t)(e - b), quoted, sizeof quoted);
                if (!section) {
                        r = fail(error, error_size, path, line, "'%s' comes before any [section] header", quoted);
                        break;
                }
                const char *delimiter = b;
                while (delimiter < e && *delimiter != '=' && *delimiter != ':')
                        delimiter++;
                const char *key_end = delimiter;
                strip(&b, &key_end);
                if (delimiter == e || key_end == b) {
                        r = fail(error, error_size, path, line,
                                 delimiter == e ? "'%s' is neither a [section] header nor KEY = VALUE"
                                                : "'%s' has no key before its '='",
                                 quoted);
                        break;
                }
                char *key = strndup(b, (size_t)(key_end - b));
                if (!key) {
                        r = -ENOMEM;
                        break;
                }
                for (char *k = key; *k; k++)
                        if (*k >= 'A' && *k <= 'Z')
                                *k = (char)(*k - 'A' + 'a');
                if (!(value.entry = section_set(section, key, file, line))) {
                        r = -ENOMEM;
                        break;
                }
                const char *v = delimiter + 1, *v_end = e;
                strip(&v, &v_end);
                value.length = 0;
                r = pending_append(&value, v, (size_t)(v_end - v), false);
                p = next;
        }
        if (r == 0)
                r = pending_finish(&value);
        else if (value.entry && !value.entry->value)
                value.entry->value = strdup("");  /* never a NULL value, even after a failure */
        free(value.text);
        if (r == -ENOMEM)
                snprintf(error, error_size, "%s: out of memory", path);
        return r;
}

int ini_parse_file(struct ini_file *ini, const char *path, char *error, size_t error_size) {
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                int r = -errno;
                snprintf(error, error_size, "%s: %s", path, strerror(-r));
                return r;
        }
        struct stat st;
        const char *problem = fstat(fd, &st) < 0        ? strerror(errno)
                              : !S_ISREG(st.st_mode)    ? "not a regular file"
                              : st.st_size > (off_t)INI_MAX_FILE_SIZE ? "larger than 16 MiB"
                                                        : NULL;
        if (problem) {
                snprintf(error, error_size, "%s: %s", path, problem);
                close(fd);
                return -EINVAL;
        }
        size_t size = (size_t)st.st_size, got = 0;
        char *text = malloc(size + 1);
        if (!text) {
                close(fd);
                snprintf(error, error_size, "%s: out of memory", path);
                return -ENOMEM;
        }
        while (got < size) {
                ssize_t n = read(fd, text + got, size - got);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        int r = n < 0 ? -errno : 0;
                        if (r < 0) {
                                snprintf(error, error_size, "%s: %s", path, strerror(-r));
                                free(text);
                                close(fd);
                                return r;
                        }
                        break;  /* shorter than it was: read what there is */
                }
                got += (size_t)n;
        }
        close(fd);
        int r = ini_parse(ini, path, text, got, error, error_size);
        free(text);
        return r;
}

/* ---- %(name)s expansion ---- */

struct buffer {
        char *data;
        size_t length, allocated;
};

static int buffer_add(struct buffer *b, const char *s, size_t n) {
        if (b->length + n + 1 > b->allocated) {
                size_t size = b->allocated ? b->allocated : 64;
                while (size < b->length + n + 1)
                        size *= 2;
                char *d = realloc(b->data, size);
                if (!d)
                        return -ENOMEM;
                b->data = d;
                b->allocated = size;
        }
        memcpy(b->data + b->length, s, n);
        b->length += n;
        b->data[b->length] = '\0';
        return 0;
}

static int buffer_pad(struct buffer *b, char c, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (buffer_add(b, &c, 1) < 0)
                        return -ENOMEM;
        return 0;
}

static const struct ini_expansion *find_expansion(const struct ini_expansion *x, size_t n, const char *name,
                                                  size_t length) {
        for (size_t i = 0; i < n; i++)
                if (strlen(x[i].name) == length && memcmp(x[i].name, name, length) == 0)
                        return &x[i];
        return NULL;
}

/* "a, b, c": the names there are, sorted as supervisord lists them, into OUT. */
static void list_names(const struct ini_expansion *x, size_t n, char *out, size_t size) {
        const char *last = NULL;
        size_t k = 0;
        out[0] = '\0';
        /* A selection sort over the names, so that nothing is allocated. */
        for (size_t done = 0; done < n; done++) {
                const char *best = NULL;
                for (size_t i = 0; i < n; i++)
                        if ((!last || strcmp(x[i].name, last) > 0) && (!best || strcmp(x[i].name, best) < 0))
                                best = x[i].name;
                if (!best)
                        break;
                int w = snprintf(out + k, size - k, "%s%s", k ? ", " : "", best);
                if (w < 0 || (size_t)w >= size - k) {
                        if (size > 4)
                                memcpy(out + size - 4, "...", 4);
                        return;
                }
                k += (size_t)w;
                last = best;
        }
}

/* One integer conversion as printf-style %d/%x/%o with Python's flags. */
static int format_number(struct buffer *b, long long number, const char *flags, size_t n_flags, long width,
                         long precision, char conversion) {
        bool left = memchr(flags, '-', n_flags), zero = memchr(flags, '0', n_flags), plus = memchr(flags, '+', n_flags),
             space = memchr(flags, ' ', n_flags), alternate = memchr(flags, '#', n_flags);
        unsigned long long magnitude = number < 0 ? 0ull - (unsigned long long)number : (unsigned long long)number;
        char digits[80], sign[4] = "";
        const char *prefix = "";
        unsigned base = conversion == 'x' || conversion == 'X' ? 16 : conversion == 'o' ? 8 : 10;
        const char *alphabet = conversion == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
        size_t nd = 0;
        do {
                digits[nd++] = alphabet[magnitude % base];
                magnitude /= base;
        } while (magnitude);
        while (precision > 0 && (long)nd < precision && nd < sizeof digits)
                digits[nd++] = '0';
        if (number < 0)
                strcpy(sign, "-");
        else if (plus)
                strcpy(sign, "+");
        else if (space)
                strcpy(sign, " ");
        if (alternate)
                prefix = conversion == 'x' ? "0x" : conversion == 'X' ? "0X" : conversion == 'o' ? "0o" : "";
        size_t body = strlen(sign) + strlen(prefix) + nd;
        size_t pad = width > 0 && (size_t)width > body ? (size_t)width - body : 0;
        int r = 0;
        if (!left && !zero)
                r = buffer_pad(b, ' ', pad);
        if (r == 0)
                r = buffer_add(b, sign, strlen(sign));
        if (r == 0)
                r = buffer_add(b, prefix, strlen(prefix));
        if (r == 0 && !left && zero)
                r = buffer_pad(b, '0', pad);
        for (size_t i = nd; r == 0 && i > 0; i--)
                r = buffer_add(b, &digits[i - 1], 1);
        if (r == 0 && left)
                r = buffer_pad(b, ' ', pad);
        return r;
}

/* One conversion of X: FLAGS, WIDTH (-1: none), PRECISION (-1: none), CONVERSION. */
static int format_one(struct buffer *b, const struct ini_expansion *x, const char *flags, size_t n_flags, long width,
                      long precision, char conversion, char *error, size_t error_size) {
        if (conversion == 's') {
                char number[32];
                const char *s = x->string;
                if (!s) {
                        snprintf(number, sizeof number, "%lld", x->number);
                        s = number;
                }
                size_t n = strlen(s);
                if (precision >= 0 && (size_t)precision < n)
                        n = (size_t)precision;
                size_t pad = width > 0 && (size_t)width > n ? (size_t)width - n : 0;
                bool left = memchr(flags, '-', n_flags);
                int r = left ? 0 : buffer_pad(b, ' ', pad);
                if (r == 0)
                        r = buffer_add(b, s, n);
                if (r == 0 && left)
                        r = buffer_pad(b, ' ', pad);
                return r;
        }
        if (!x->string)
                return format_number(b, x->number, flags, n_flags, width, precision, conversion == 'i' || conversion == 'u' ? 'd' : conversion);
        snprintf(error, error_size, "%%(%s)%c needs a number, and %s is a string", x->name, conversion, x->name);
        return -EINVAL;
}

int ini_expand(const char *text, const struct ini_expansion *expansions, size_t n_expansions, char **ret,
               char *error, size_t error_size) {
        struct buffer out = { 0 };
        int r = buffer_add(&out, "", 0);
        for (const char *p = text; r == 0 && *p;) {
                const char *percent = strchr(p, '%');
                if (!percent) {
                        r = buffer_add(&out, p, strlen(p));
                        break;
                }
                if ((r = buffer_add(&out, p, (size_t)(percent - p))) < 0)
                        break;
                const char *q = percent + 1;
                if (*q == '%') {
                        r = buffer_add(&out, "%", 1);
                        p = q + 1;
                        continue;
                }
                if (*q != '(') {
                        snprintf(error, error_size, "a '%%' that is neither '%%%%' nor '%%(name)s' (write %%%% for a %%)");
                        r = -EINVAL;
                        break;
                }
                /* The name runs to the matching ')', as Python counts nested ones. */
                const char *name = ++q;
                int depth = 1;
                for (; *q && depth > 0; q++)
                        depth += *q == '(' ? 1 : *q == ')' ? -1 : 0;
                if (depth > 0) {
                        snprintf(error, error_size, "'%%(' without its ')'");
                        r = -EINVAL;
                        break;
                }
                size_t name_length = (size_t)(q - 1 - name);
                const char *flags = q;
                while (*q && strchr("#0- +", *q))
                        q++;
                size_t n_flags = (size_t)(q - flags);
                long width = -1, precision = -1;
                if (*q == '*') {
                        snprintf(error, error_size, "'*' as a width or precision cannot be expanded");
                        r = -EINVAL;
                        break;
                }
                for (width = *q >= '0' && *q <= '9' ? 0 : -1; *q >= '0' && *q <= '9'; q++)
                        width = width < 100000 ? width * 10 + (*q - '0') : width;
                if (*q == '.') {
                        q++;
                        for (precision = 0; *q >= '0' && *q <= '9'; q++)
                                precision = precision < 100000 ? precision * 10 + (*q - '0') : precision;
                }
                if (width > 4096 || precision > 4096) {
                        snprintf(error, error_size, "a width or precision over 4096");
                        r = -EINVAL;
                        break;
                }
                while (*q == 'h' || *q == 'l' || *q == 'L')
                        q++;
                char conversion = *q;
                const struct ini_expansion *x = find_expansion(expansions, n_expansions, name, name_length);
                if (!x) {
                        char names[512];
                        list_names(expansions, n_expansions, names, sizeof names);
                        snprintf(error, error_size, "%%(%.*s) names '%.*s', which cannot be expanded; the names are: %s",
                                 (int)(name_length > 64 ? 64 : name_length), name,
                                 (int)(name_length > 64 ? 64 : name_length), name, names);
                        r = -EINVAL;
                        break;
                }
                if (conversion == '%') {
                        r = buffer_add(&out, "%", 1);
                } else if (conversion && strchr("sdiuxXo", conversion)) {
                        r = format_one(&out, x, flags, n_flags, width, precision, conversion, error, error_size);
                } else {
                        if (conversion)
                                snprintf(error, error_size, "%%(%s) is followed by '%c', not one of s d i u x X o",
                                         x->name, conversion);
                        else
                                snprintf(error, error_size, "%%(%s) has no conversion (such as 's') after it", x->name);
                        r = -EINVAL;
                        break;
                }
                p = q + 1;
        }
        if (r < 0) {
                if (r == -ENOMEM)
                        snprintf(error, error_size, "out of memory");
                free(out.data);
                return r;
        }
        *ret = out.data;
        return 0;
}

/* ---- command= and environment= values ---- */

static int strv_push(char ***v, size_t *n, char *s) {
        if (!s)
                return -ENOMEM;
        char **w = realloc(*v, (*n + 2) * sizeof *w);
        if (!w) {
                free(s);
                return -ENOMEM;
        }
        w[(*n)++] = s;
        w[*n] = NULL;
        *v = w;
        return 0;
}

static void words_free(char **v) {
        for (char **p = v; p && *p; p++)
                free(*p);
        free(v);
}

static bool shlex_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

int ini_split_command(const char *text, char ***ret, char *error, size_t error_size) {
        char **words = calloc(1, sizeof *words);
        size_t n_words = 0;
        struct buffer word = { 0 };
        int r = words ? 0 : -ENOMEM;
        const char *p = text;
        while (r == 0) {
                while (shlex_blank(*p))
                        p++;
                if (!*p)
                        break;
                word.length = 0;
                r = buffer_add(&word, "", 0);
                while (r == 0 && *p && !shlex_blank(*p)) {
                        if (*p == '\\') {
                                /* Outside quotes: the next character, whatever it is, newline too. */
                                if (!p[1]) {
                                        snprintf(error, error_size, "No escaped character");
                                        r = -EINVAL;
                                } else
                                        r = buffer_add(&word, p + 1, 1);
                                p += 2;
                        } else if (*p == '\'' || *p == '"') {
                                char quote = *p++;
                                while (r == 0 && *p && *p != quote) {
                                        /* In "...", a backslash escapes only '"' and itself; before
                                         * anything else it stays, with what follows it. */
                                        if (quote == '"' && *p == '\\') {
                                                if (!p[1]) {
                                                        r = -EINVAL;
                                                        snprintf(error, error_size, "No escaped character");
                                                        break;
                                                }
                                                if (p[1] != '"' && p[1] != '\\')
                                                        r = buffer_add(&word, p, 1);
                                                if (r == 0)
                                                        r = buffer_add(&word, p + 1, 1);
                                                p += 2;
                                        } else
                                                r = buffer_add(&word, p++, 1);
                                }
                                if (r == 0 && *p != quote) {
                                        snprintf(error, error_size, "No closing quotation");
                                        r = -EINVAL;
                                }
                                if (r == 0)
                                        p++;
                        } else
                                r = buffer_add(&word, p++, 1);
                }
                if (r == 0)
                        r = strv_push(&words, &n_words, strdup(word.data));
        }
        free(word.data);
        if (r < 0) {
                if (r == -ENOMEM)
                        snprintf(error, error_size, "out of memory");
                words_free(words);
                return r;
        }
        *ret = words;
        return 0;
}

/* One character of TEXT at P: a whole UTF-8 sequence when P starts one, as Python sees a
 * str, else one byte. */
static size_t char_length(const char *p) {
        const unsigned char *u = (const unsigned char *)p;
        size_t n = u[0] < 0xc2 ? 1 : u[0] < 0xe0 ? 2 : u[0] < 0xf0 ? 3 : u[0] < 0xf5 ? 4 : 1;
        for (size_t i = 1; i < n; i++)
                if ((u[i] & 0xc0) != 0x80)
                        return 1;
        return n;
}

static bool shlex_wordchar(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || (c && strchr("_/.+-():", c));
}

/* The next token of shlex.shlex(TEXT) in its default (non-POSIX) mode, with supervisord's
 * extra word characters: 1 with the token in *word, 0 at the end, -EINVAL. */
static int env_token(const char **pp, struct buffer *word, char *error, size_t error_size) {
        const char *p = *pp;
        int r = 0;
        word->length = 0;
        if ((r = buffer_add(word, "", 0)) < 0)
                return r;
        for (;;) {
                if (!*p) {
                        *pp = p;
                        return 0;
                }
                if (shlex_blank(*p)) {
                        p++;
                        continue;
                }
                if (*p == '#') {
                        const char *nl = strchr(p, '\n');
                        p = nl ? nl + 1 : p + strlen(p);
                        continue;
                }
                break;
        }
        if (*p == '\'' || *p == '"') {
                /* Quoted: up to the same quote, both quotes kept, no escapes. */
                const char *end = strchr(p + 1, *p);
                if (!end) {
                        snprintf(error, error_size, "No closing quotation");
                        return -EINVAL;
                }
                r = buffer_add(word, p, (size_t)(end + 1 - p));
                *pp = end + 1;
                return r < 0 ? r : 1;
        }
        if (!shlex_wordchar(*p)) {
                size_t n = char_length(p);
                r = buffer_add(word, p, n);
                *pp = p + n;
                return r < 0 ? r : 1;
        }
        /* A word: word characters and quotes; a '#' skips the rest of its line and the
         * word goes on after it; anything else ends it and is the next token. */
        while (*p && r == 0) {
                if (shlex_wordchar(*p) || *p == '\'' || *p == '"')
                        r = buffer_add(word, p++, 1);
                else if (*p == '#') {
                        const char *nl = strchr(p, '\n');
                        p = nl ? nl + 1 : p + strlen(p);
                } else
                        break;
        }
        *pp = p;
        return r < 0 ? r : 1;
}

int ini_parse_environment(const char *text, char ***ret, char *error, size_t error_size) {
        /* As supervisord does: every token first (a bad quote anywhere is the error), then
         * KEY = VALUE triples, each followed by one token, whatever it is, that is skipped. */
        char **tokens = calloc(1, sizeof *tokens), **pairs = calloc(1, sizeof *pairs);
        size_t n_tokens = 0, n_pairs = 0;
        struct buffer token = { 0 };
        int r = tokens && pairs ? 0 : -ENOMEM;
        for (const char *p = text; r == 0;) {
                r = env_token(&p, &token, error, error_size);
                if (r > 0)
                        r = strv_push(&tokens, &n_tokens, strdup(token.data));
                else if (r == 0)
                        break;
        }
        for (size_t i = 0; r == 0 && i < n_tokens; i += 4) {
                if (i + 3 > n_tokens || strcmp(tokens[i + 1], "=") != 0) {
                        snprintf(error, error_size, "Unexpected end of key/value pairs in value '%s'", text);
                        r = -EINVAL;
                        break;
                }
                /* The value loses every quote at either end: value.strip('\'"'). */
                const char *v = tokens[i + 2], *v_end = v + strlen(v);
                while (v < v_end && (*v == '\'' || *v == '"'))
                        v++;
                while (v_end > v && (v_end[-1] == '\'' || v_end[-1] == '"'))
                        v_end--;
                char *pair = NULL;
                if (asprintf(&pair, "%s=%.*s", tokens[i], (int)(v_end - v), v) < 0) {
                        r = -ENOMEM;
                        break;
                }
                /* A key given again takes the place of the first, as in a dict. */
                size_t key_length = strlen(tokens[i]), j;
                for (j = 0; j < n_pairs; j++)
                        if (strncmp(pairs[j], tokens[i], key_length) == 0 && pairs[j][key_length] == '=')
                                break;
                if (j < n_pairs) {
                        free(pairs[j]);
                        pairs[j] = pair;
                } else
                        r = strv_push(&pairs, &n_pairs, pair);
        }
        free(token.data);
        words_free(tokens);
        if (r < 0) {
                if (r == -ENOMEM)
                        snprintf(error, error_size, "out of memory");
                words_free(pairs);
                return r;
        }
        *ret = pairs;
        return 0;
}
