/* xmlrpc.c — see xmlrpc.h.  The reader is a stack of frames over expat's element events:
 * a frame per open element, its text collected until the element ends, a value made
 * when its type element ends and handed to the frame below (a param, an array's data, a
 * struct's member).  The writer appends to one growable buffer and remembers, per level of
 * nesting, whether a struct member waits for its value to be closed. */
#include "xmlrpc.h"

#include <errno.h>
#include <expat.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- values ---- */

void xmlrpc_value_free(struct xmlrpc_value *v) {
        if (!v)
                return;
        for (size_t i = 0; i < v->n_items; i++) {
                xmlrpc_value_free(v->items[i]);
                if (v->keys)
                        free(v->keys[i]);
        }
        free(v->items);
        free(v->keys);
        free(v->string);
        free(v);
}

void xmlrpc_call_free(struct xmlrpc_call *call) {
        if (!call)
                return;
        for (size_t i = 0; i < call->n_params; i++)
                xmlrpc_value_free(call->params[i]);
        free(call->params);
        free(call->method);
        free(call);
}

/* Append V (and KEY, for a struct) to the list of LIST: ITEMS/KEYS/N. */
static int list_add(struct xmlrpc_value ***items, char ***keys, size_t *n, struct xmlrpc_value *v, char *key) {
        struct xmlrpc_value **grown = realloc(*items, (*n + 1) * sizeof *grown);
        if (!grown)
                return -ENOMEM;
        *items = grown;
        if (keys) {
                char **k = realloc(*keys, (*n + 1) * sizeof *k);
                if (!k)
                        return -ENOMEM;
                *keys = k;
                k[*n] = key;
        }
        grown[(*n)++] = v;
        return 0;
}

/* ---- reading ---- */

enum tag {
        TAG_METHOD_CALL,
        TAG_METHOD_NAME,
        TAG_PARAMS,
        TAG_PARAM,
        TAG_VALUE,
        TAG_INT,
        TAG_BOOLEAN,
        TAG_STRING,
        TAG_DOUBLE,
        TAG_DATETIME,
        TAG_BASE64,
        TAG_ARRAY,
        TAG_DATA,
        TAG_STRUCT,
        TAG_MEMBER,
        TAG_NAME,
};

static const struct {
        const char *name;
        enum tag tag;
} tags[] = {
        { "methodCall", TAG_METHOD_CALL }, { "methodName", TAG_METHOD_NAME },   { "params", TAG_PARAMS },
        { "param", TAG_PARAM },            { "value", TAG_VALUE },              { "int", TAG_INT },
        { "i4", TAG_INT },                 { "boolean", TAG_BOOLEAN },          { "string", TAG_STRING },
        { "double", TAG_DOUBLE },          { "dateTime.iso8601", TAG_DATETIME }, { "base64", TAG_BASE64 },
        { "array", TAG_ARRAY },            { "data", TAG_DATA },                { "struct", TAG_STRUCT },
        { "member", TAG_MEMBER },          { "name", TAG_NAME },
};

/* The parent each element must have (TAG_VALUE for the types). */
static bool tag_fits(enum tag tag, int parent) {
        switch (tag) {
        case TAG_METHOD_CALL:
                return parent < 0;
        case TAG_METHOD_NAME:
        case TAG_PARAMS:
                return parent == TAG_METHOD_CALL;
        case TAG_PARAM:
                return parent == TAG_PARAMS;
        case TAG_VALUE:
                return parent == TAG_PARAM || parent == TAG_DATA || parent == TAG_MEMBER;
        case TAG_DATA:
                return parent == TAG_ARRAY;
        case TAG_MEMBER:
                return parent == TAG_STRUCT;
        case TAG_NAME:
                return parent == TAG_MEMBER;
        default:
                return parent == TAG_VALUE;
        }
}

struct frame {
        enum tag tag;
        char *text;                  /* character data inside it; owned */
        size_t length, allocated;
        struct xmlrpc_value *value;  /* VALUE: its value once made; ARRAY/STRUCT: the one being
                                      * filled; MEMBER: the member's value; owned */
        char *name;                  /* MEMBER: its name; owned */
        bool has_name;
};

struct reader {
        XML_Parser parser;
        struct frame stack[XMLRPC_MAX_DEPTH];
        int depth;
        size_t n_values;
        struct xmlrpc_call *call;
        char *error;
        size_t error_size;
        int failure;                 /* 0, -EINVAL or -ENOMEM */
};

static void reader_fail(struct reader *r, int failure, const char *format, ...) __attribute__((format(printf, 3, 4)));
static void reader_fail(struct reader *r, int failure, const char *format, ...) {
        if (r->failure)
                return;
        r->failure = failure;
        va_list ap;
        va_start(ap, format);
        vsnprintf(r->error, r->error_size, format, ap);
        va_end(ap);
        XML_StopParser(r->parser, XML_FALSE);
}

static void frame_clear(struct frame *f) {
        free(f->text);
        free(f->name);
        xmlrpc_value_free(f->value);
        *f = (struct frame){ 0 };
}

static struct xmlrpc_value *value_new(struct reader *r, enum xmlrpc_type type) {
        if (++r->n_values > XMLRPC_MAX_VALUES) {
                reader_fail(r, -EINVAL, "more than %d values", XMLRPC_MAX_VALUES);
                return NULL;
        }
        struct xmlrpc_value *v = calloc(1, sizeof *v);
        if (!v)
                reader_fail(r, -ENOMEM, "out of memory");
        else
                v->type = type;
        return v;
}

static void XMLCALL on_start(void *userdata, const XML_Char *name, const XML_Char **attributes) {
        struct reader *r = userdata;
        (void)attributes;
        int found = -1;
        for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++)
                if (strcmp(tags[i].name, name) == 0)
                        found = (int)tags[i].tag;
        int parent = r->depth > 0 ? (int)r->stack[r->depth - 1].tag : -1;
        if (found < 0) {
                reader_fail(r, -EINVAL, "unknown element <%.64s>", name);
                return;
        }
        if (!tag_fits((enum tag)found, parent)) {
                reader_fail(r, -EINVAL, "<%.64s> where it cannot be", name);
                return;
        }
        if (r->depth == XMLRPC_MAX_DEPTH) {
                reader_fail(r, -EINVAL, "nested deeper than %d elements", XMLRPC_MAX_DEPTH);
                return;
        }
        if (parent == TAG_VALUE && r->stack[r->depth - 1].value) {
                reader_fail(r, -EINVAL, "a <value> with two values");
                return;
        }
        struct frame *f = &r->stack[r->depth++];
        *f = (struct frame){ .tag = (enum tag)found };
        if (f->tag == TAG_ARRAY)
                f->value = value_new(r, XMLRPC_ARRAY);
        else if (f->tag == TAG_STRUCT)
                f->value = value_new(r, XMLRPC_STRUCT);
}

static void XMLCALL on_text(void *userdata, const XML_Char *s, int len) {
        struct reader *r = userdata;
        if (r->depth == 0 || len <= 0)
                return;
        struct frame *f = &r->stack[r->depth - 1];
        if (f->length + (size_t)len + 1 > f->allocated) {
                size_t size = f->allocated ? f->allocated : 64;
                while (size < f->length + (size_t)len + 1)
                        size *= 2;
                char *t = realloc(f->text, size);
                if (!t) {
                        reader_fail(r, -ENOMEM, "out of memory");
                        return;
                }
                f->text = t;
                f->allocated = size;
        }
        memcpy(f->text + f->length, s, (size_t)len);
        f->length += (size_t)len;
        f->text[f->length] = '\0';
}

static bool only_blanks(const char *s, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r')
                        return false;
        return true;
}

/* Python's int(): blanks around, an optional sign, decimal digits. */
static bool parse_int(const char *s, long long *ret) {
        while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
                s++;
        bool negative = *s == '-';
        if (*s == '-' || *s == '+')
                s++;
        if (*s < '0' || *s > '9')
                return false;
        long long v = 0;
        for (; *s >= '0' && *s <= '9'; s++) {
                if (v > (LLONG_MAX - (*s - '0')) / 10)
                        return false;
                v = v * 10 + (*s - '0');
        }
        while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
                s++;
        if (*s)
                return false;
        *ret = negative ? -v : v;
        return true;
}

static int base64_digit(char c) {
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Decode base64 in place (blanks skipped); false if it is not base64. */
static bool base64_decode(char *s, size_t *length) {
        size_t out = 0, pad = 0;
        unsigned bits = 0, n_bits = 0, digits = 0;
        for (size_t i = 0; i < *length; i++) {
                char c = s[i];
                if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
                        continue;
                if (c == '=') {
                        pad++;
                        continue;
                }
                int d = base64_digit(c);
                if (d < 0 || pad > 0)
                        return false;
                digits++;
                bits = (bits << 6) | (unsigned)d;
                n_bits += 6;
                if (n_bits >= 8) {
                        n_bits -= 8;
                        s[out++] = (char)((bits >> n_bits) & 0xff);
                }
        }
        if ((digits + pad) % 4 != 0 || pad > 2)
                return false;
        s[out] = '\0';
        *length = out;
        return true;
}

/* The value of a finished type element F, or NULL (failure set). */
static struct xmlrpc_value *typed_value(struct reader *r, struct frame *f) {
        const char *text = f->text ? f->text : "";
        struct xmlrpc_value *v;
        switch (f->tag) {
        case TAG_ARRAY:
        case TAG_STRUCT:
                v = f->value;
                f->value = NULL;
                return v;
        case TAG_INT: {
                long long n;
                if (!parse_int(text, &n) || n < INT32_MIN || n > INT32_MAX) {
                        reader_fail(r, -EINVAL, "<int> '%.32s' is not a 32-bit integer", text);
                        return NULL;
                }
                if ((v = value_new(r, XMLRPC_INT)))
                        v->integer = n;
                return v;
        }
        case TAG_BOOLEAN:
                if ((v = value_new(r, XMLRPC_BOOLEAN)))
                        v->integer = strcmp(text, "1") == 0;  /* as supervisord: anything else is false */
                return v;
        case TAG_DOUBLE: {
                char *end;
                double d = strtod(text, &end);
                if (end == text || !only_blanks(end, strlen(end))) {
                        reader_fail(r, -EINVAL, "<double> '%.32s' is not a number", text);
                        return NULL;
                }
                if ((v = value_new(r, XMLRPC_DOUBLE)))
                        v->number = d;
                return v;
        }
        case TAG_BASE64:
                if (f->text && !base64_decode(f->text, &f->length)) {
                        reader_fail(r, -EINVAL, "<base64> that is not base64");
                        return NULL;
                }
                __attribute__((fallthrough));  /* a string from here on */
        case TAG_STRING:
        case TAG_DATETIME:
                if (!(v = value_new(r, f->tag == TAG_DATETIME ? XMLRPC_DATETIME : XMLRPC_STRING)))
                        return NULL;
                v->string = f->text ? f->text : strdup("");
                v->length = f->text ? f->length : 0;
                f->text = NULL;
                if (!v->string) {
                        free(v);
                        reader_fail(r, -ENOMEM, "out of memory");
                        return NULL;
                }
                return v;
        default:
                return NULL;
        }
}

static void XMLCALL on_end(void *userdata, const XML_Char *name) {
        struct reader *r = userdata;
        (void)name;
        if (r->failure || r->depth == 0)
                return;
        struct frame *f = &r->stack[--r->depth];
        struct frame *parent = r->depth > 0 ? &r->stack[r->depth - 1] : NULL;
        struct xmlrpc_value *v = NULL;
        switch (f->tag) {
        case TAG_METHOD_NAME:
                free(r->call->method);
                r->call->method = f->text ? f->text : strdup("");
                f->text = NULL;
                if (!r->call->method)
                        reader_fail(r, -ENOMEM, "out of memory");
                break;
        case TAG_NAME:
                free(parent->name);
                parent->name = f->text ? f->text : strdup("");
                parent->has_name = true;
                f->text = NULL;
                if (!parent->name)
                        reader_fail(r, -ENOMEM, "out of memory");
                break;
        case TAG_VALUE:
                v = f->value;
                f->value = NULL;
                if (!v && (v = value_new(r, XMLRPC_STRING))) {  /* no type: a string */
                        v->string = f->text ? f->text : strdup("");
                        v->length = f->text ? f->length : 0;
                        f->text = NULL;
                        if (!v->string) {
                                free(v);
                                v = NULL;
                                reader_fail(r, -ENOMEM, "out of memory");
                        }
                }
                if (!v)
                        break;
                if (parent->tag == TAG_PARAM || parent->tag == TAG_MEMBER) {
                        if (parent->value) {
                                reader_fail(r, -EINVAL, "a <%s> with two values",
                                            parent->tag == TAG_PARAM ? "param" : "member");
                                xmlrpc_value_free(v);
                                break;
                        }
                        parent->value = v;
                } else {  /* TAG_DATA: the array below it */
                        struct xmlrpc_value *array = r->stack[r->depth - 2].value;
                        if (list_add(&array->items, NULL, &array->n_items, v, NULL) < 0) {
                                xmlrpc_value_free(v);
                                reader_fail(r, -ENOMEM, "out of memory");
                        }
                }
                break;
        case TAG_PARAM:
                if (!f->value) {
                        reader_fail(r, -EINVAL, "a <param> without a <value>");
                        break;
                }
                if (list_add(&r->call->params, NULL, &r->call->n_params, f->value, NULL) < 0)
                        reader_fail(r, -ENOMEM, "out of memory");
                else
                        f->value = NULL;
                break;
        case TAG_MEMBER: {
                struct xmlrpc_value *object = parent->value;
                if (!f->has_name || !f->value) {
                        reader_fail(r, -EINVAL, "a <member> without its <name> and <value>");
                        break;
                }
                if (list_add(&object->items, &object->keys, &object->n_items, f->value, f->name) < 0) {
                        reader_fail(r, -ENOMEM, "out of memory");
                        break;
                }
                f->value = NULL;
                f->name = NULL;
                break;
        }
        case TAG_METHOD_CALL:
        case TAG_PARAMS:
        case TAG_DATA:
                break;
        default:  /* a type inside a <value> */
                if ((v = typed_value(r, f)))
                        parent->value = v;
                break;
        }
        frame_clear(f);
}

static void XMLCALL on_doctype(void *userdata, const XML_Char *name, const XML_Char *system_id,
                               const XML_Char *public_id, int has_internal_subset) {
        (void)name, (void)system_id, (void)public_id, (void)has_internal_subset;
        reader_fail(userdata, -EINVAL, "a DOCTYPE, which XML-RPC has no use for");
}

int xmlrpc_parse_call(const char *body, size_t size, struct xmlrpc_call **ret, char *error, size_t error_size) {
        struct reader r = { .error = error, .error_size = error_size };
        if (size > INT_MAX) {
                snprintf(error, error_size, "request too large");
                return -EINVAL;
        }
        r.call = calloc(1, sizeof *r.call);
        r.parser = XML_ParserCreate(NULL);
        if (!r.call || !r.parser) {
                free(r.call);
                if (r.parser)
                        XML_ParserFree(r.parser);
                snprintf(error, error_size, "out of memory");
                return -ENOMEM;
        }
        XML_SetUserData(r.parser, &r);
        XML_SetElementHandler(r.parser, on_start, on_end);
        XML_SetCharacterDataHandler(r.parser, on_text);
        XML_SetStartDoctypeDeclHandler(r.parser, on_doctype);
        if (XML_Parse(r.parser, body, (int)size, XML_TRUE) == XML_STATUS_ERROR && !r.failure)
                reader_fail(&r, -EINVAL, "not XML: %s at line %lu", XML_ErrorString(XML_GetErrorCode(r.parser)),
                            (unsigned long)XML_GetCurrentLineNumber(r.parser));
        if (!r.failure && !r.call->method)
                reader_fail(&r, -EINVAL, "no <methodName>");
        while (r.depth > 0)
                frame_clear(&r.stack[--r.depth]);
        XML_ParserFree(r.parser);
        if (r.failure) {
                xmlrpc_call_free(r.call);
                return r.failure;
        }
        *ret = r.call;
        return 0;
}

/* ---- writing ---- */

static void put(struct xmlrpc_writer *w, const char *s, size_t n) {
        if (w->error)
                return;
        if (w->length + n + 1 > w->allocated) {
                size_t size = w->allocated ? w->allocated : 1024;
                while (size < w->length + n + 1)
                        size *= 2;
                char *d = realloc(w->data, size);
                if (!d) {
                        w->error = -ENOMEM;
                        return;
                }
                w->data = d;
                w->allocated = size;
        }
        memcpy(w->data + w->length, s, n);
        w->length += n;
        w->data[w->length] = '\0';
}

static void puts_(struct xmlrpc_writer *w, const char *s) {
        put(w, s, strlen(s));
}

/* A value at the current depth is complete: close the member it was the value of. */
static void value_done(struct xmlrpc_writer *w) {
        if (w->depth <= XMLRPC_MAX_DEPTH && w->member_open[w->depth]) {
                w->member_open[w->depth] = false;
                puts_(w, "</member>\n");
        }
}

/* The length of the UTF-8 sequence at S (before END) that XML 1.0 may carry, 0 if the
 * bytes there are not one: invalid, overlong, a surrogate, beyond U+10FFFF, a control
 * character other than TAB, LF and CR, or U+FFFE/U+FFFF. */
static size_t xml_char_at(const unsigned char *s, const unsigned char *end) {
        unsigned c = s[0];
        if (c < 0x80)
                return c >= 0x20 || c == '\t' || c == '\n' || c == '\r' ? 1 : 0;
        size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0;
        if (n == 0 || (size_t)(end - s) < n || c > 0xf4)
                return 0;
        uint32_t cp = c & (0x3f >> (n - 1));
        for (size_t i = 1; i < n; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                cp = cp << 6 | (s[i] & 0x3f);
        }
        static const uint32_t least[] = { 0, 0, 0x80, 0x800, 0x10000 };
        if (cp < least[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe || cp == 0xffff)
                return 0;
        return n;
}

static void put_escaped(struct xmlrpc_writer *w, const char *text, size_t length) {
        const unsigned char *s = (const unsigned char *)text, *end = s + length;
        while (s < end) {
                const unsigned char *run = s;
                size_t n;
                while (s < end && (n = xml_char_at(s, end)) > 0 && *s != '&' && *s != '<' && *s != '>' && *s != '\r')
                        s += n;
                put(w, (const char *)run, (size_t)(s - run));
                if (s == end)
                        break;
                switch (*s) {
                case '&':
                        puts_(w, "&amp;");
                        break;
                case '<':
                        puts_(w, "&lt;");
                        break;
                case '>':
                        puts_(w, "&gt;");
                        break;
                case '\r':
                        puts_(w, "&#13;");  /* a parser would read a raw CR as LF */
                        break;
                default:
                        puts_(w, "\xef\xbf\xbd");  /* U+FFFD for a byte XML cannot carry */
                        break;
                }
                s++;
        }
}

void xmlrpc_begin_response(struct xmlrpc_writer *w) {
        puts_(w, "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n");
}

void xmlrpc_end_response(struct xmlrpc_writer *w) {
        puts_(w, "</param>\n</params>\n</methodResponse>\n");
}

void xmlrpc_write_fault(struct xmlrpc_writer *w, int code, const char *string) {
        puts_(w, "<?xml version='1.0'?>\n<methodResponse>\n<fault>\n");
        xmlrpc_begin_struct(w);
        xmlrpc_member(w, "faultCode");
        xmlrpc_write_int(w, code);
        xmlrpc_member(w, "faultString");
        xmlrpc_write_cstring(w, string);
        xmlrpc_end_struct(w);
        puts_(w, "</fault>\n</methodResponse>\n");
}

void xmlrpc_write_int(struct xmlrpc_writer *w, long long value) {
        char buf[48];
        if (value > INT32_MAX)
                value = INT32_MAX;
        if (value < INT32_MIN)
                value = INT32_MIN;
        snprintf(buf, sizeof buf, "<value><int>%lld</int></value>\n", value);
        puts_(w, buf);
        value_done(w);
}

void xmlrpc_write_boolean(struct xmlrpc_writer *w, bool value) {
        puts_(w, value ? "<value><boolean>1</boolean></value>\n" : "<value><boolean>0</boolean></value>\n");
        value_done(w);
}

void xmlrpc_write_double(struct xmlrpc_writer *w, double value) {
        char buf[64];
        snprintf(buf, sizeof buf, "<value><double>%.17g</double></value>\n", isfinite(value) ? value : 0.0);
        puts_(w, buf);
        value_done(w);
}

void xmlrpc_write_string(struct xmlrpc_writer *w, const char *s, size_t length) {
        puts_(w, "<value><string>");
        put_escaped(w, s, length);
        puts_(w, "</string></value>\n");
        value_done(w);
}

void xmlrpc_write_cstring(struct xmlrpc_writer *w, const char *s) {
        xmlrpc_write_string(w, s ? s : "", s ? strlen(s) : 0);
}

/* One level deeper; past the bound the nesting is an error of the writer's user. */
static void deeper(struct xmlrpc_writer *w) {
        if (w->depth >= XMLRPC_MAX_DEPTH)
                w->error = w->error ? w->error : -E2BIG;
        else
                w->member_open[++w->depth] = false;
}

void xmlrpc_begin_array(struct xmlrpc_writer *w) {
        puts_(w, "<value><array><data>\n");
        deeper(w);
}

void xmlrpc_end_array(struct xmlrpc_writer *w) {
        puts_(w, "</data></array></value>\n");
        if (w->depth > 0)
                w->depth--;
        value_done(w);
}

void xmlrpc_begin_struct(struct xmlrpc_writer *w) {
        puts_(w, "<value><struct>\n");
        deeper(w);
}

void xmlrpc_member(struct xmlrpc_writer *w, const char *name) {
        puts_(w, "<member>\n<name>");
        put_escaped(w, name, strlen(name));
        puts_(w, "</name>\n");
        if (w->depth <= XMLRPC_MAX_DEPTH)
                w->member_open[w->depth] = true;
}

void xmlrpc_end_struct(struct xmlrpc_writer *w) {
        puts_(w, "</struct></value>\n");
        if (w->depth > 0)
                w->depth--;
        value_done(w);
}

void xmlrpc_write_value(struct xmlrpc_writer *w, const struct xmlrpc_value *v) {
        switch (v->type) {
        case XMLRPC_INT:
                xmlrpc_write_int(w, v->integer);
                break;
        case XMLRPC_BOOLEAN:
                xmlrpc_write_boolean(w, v->integer != 0);
                break;
        case XMLRPC_DOUBLE:
                xmlrpc_write_double(w, v->number);
                break;
        case XMLRPC_STRING:
                xmlrpc_write_string(w, v->string, v->length);
                break;
        case XMLRPC_DATETIME:
                puts_(w, "<value><dateTime.iso8601>");
                put_escaped(w, v->string, v->length);
                puts_(w, "</dateTime.iso8601></value>\n");
                value_done(w);
                break;
        case XMLRPC_ARRAY:
                xmlrpc_begin_array(w);
                for (size_t i = 0; i < v->n_items; i++)
                        xmlrpc_write_value(w, v->items[i]);
                xmlrpc_end_array(w);
                break;
        case XMLRPC_STRUCT:
                xmlrpc_begin_struct(w);
                for (size_t i = 0; i < v->n_items; i++) {
                        xmlrpc_member(w, v->keys[i]);
                        xmlrpc_write_value(w, v->items[i]);
                }
                xmlrpc_end_struct(w);
                break;
        }
}

void xmlrpc_writer_reset(struct xmlrpc_writer *w) {
        free(w->data);
        *w = (struct xmlrpc_writer){ 0 };
}

int xmlrpc_writer_finish(struct xmlrpc_writer *w, char **ret, size_t *ret_length) {
        int r = w->error;
        if (r == 0 && !w->data)
                put(w, "", 0);
        r = r ? r : w->error;
        if (r < 0) {
                xmlrpc_writer_reset(w);
                return r;
        }
        *ret = w->data;
        *ret_length = w->length;
        *w = (struct xmlrpc_writer){ 0 };
        return 0;
}
