/* ctl_xmlrpc.c — see ctl_xmlrpc.h.  Three layers: an HTTP/1.1 client (one connection per
 * call, "Connection: close", the response read until it is whole), the XML-RPC call
 * written by hand and its response read with expat (loaded on first use), and a job per
 * command that makes supervisord 4.2.5's calls for it and writes what they return as the
 * records of our protocol into a stream (fopencookie) that supervisorctl reads as it reads
 * our daemon's socket. */
#include "ctl_xmlrpc.h"

#include <dlfcn.h>
#include <errno.h>
#include <expat.h>
#include <limits.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "names.h"
#include "util.h"

/* ---- values ---- */

void ctl_value_free(struct ctl_value *v) {
        if (!v)
                return;
        for (size_t i = 0; i < v->n_items; i++) {
                ctl_value_free(v->items[i]);
                if (v->keys)
                        free(v->keys[i]);
        }
        free(v->items);
        free(v->keys);
        free(v->string);
        free(v);
}

const struct ctl_value *ctl_value_member(const struct ctl_value *v, const char *key) {
        if (!v || v->type != CTL_VALUE_STRUCT)
                return NULL;
        for (size_t i = 0; i < v->n_items; i++)
                if (strcmp(v->keys[i], key) == 0)
                        return v->items[i];
        return NULL;
}

static const char *member_string(const struct ctl_value *v, const char *key) {
        const struct ctl_value *m = ctl_value_member(v, key);
        return m && m->type == CTL_VALUE_STRING ? m->string : "";
}

static long long member_int(const struct ctl_value *v, const char *key) {
        const struct ctl_value *m = ctl_value_member(v, key);
        return m && (m->type == CTL_VALUE_INT || m->type == CTL_VALUE_BOOLEAN) ? m->integer : 0;
}

/* ---- expat, loaded when first needed ---- */

static struct {
        bool tried, ok;
        __typeof__(XML_ParserCreate) *ParserCreate;
        __typeof__(XML_ParserFree) *ParserFree;
        __typeof__(XML_SetUserData) *SetUserData;
        __typeof__(XML_SetElementHandler) *SetElementHandler;
        __typeof__(XML_SetCharacterDataHandler) *SetCharacterDataHandler;
        __typeof__(XML_SetStartDoctypeDeclHandler) *SetStartDoctypeDeclHandler;
        __typeof__(XML_StopParser) *StopParser;
        __typeof__(XML_Parse) *Parse;
        __typeof__(XML_GetErrorCode) *GetErrorCode;
        __typeof__(XML_ErrorString) *ErrorString;
} expat;

static bool expat_load(void) {
        if (expat.tried)
                return expat.ok;
        expat.tried = true;
        void *lib = dlopen("libexpat.so.1", RTLD_NOW | RTLD_LOCAL);
        if (!lib)
                return false;
#define SYM(field, name) (expat.field = (__typeof__(expat.field))dlsym(lib, name))
        expat.ok = SYM(ParserCreate, "XML_ParserCreate") && SYM(ParserFree, "XML_ParserFree")
                   && SYM(SetUserData, "XML_SetUserData") && SYM(SetElementHandler, "XML_SetElementHandler")
                   && SYM(SetCharacterDataHandler, "XML_SetCharacterDataHandler")
                   && SYM(SetStartDoctypeDeclHandler, "XML_SetStartDoctypeDeclHandler")
                   && SYM(StopParser, "XML_StopParser") && SYM(Parse, "XML_Parse")
                   && SYM(GetErrorCode, "XML_GetErrorCode") && SYM(ErrorString, "XML_ErrorString");
#undef SYM
        return expat.ok;
}

/* ---- reading a methodResponse ---- */

struct reader {
        XML_Parser parser;
        struct ctl_value *open[CTL_XMLRPC_MAX_DEPTH];  /* the <value>s open, outermost first */
        char *member_name[CTL_XMLRPC_MAX_DEPTH];       /* the name of the member open in open[i] */
        unsigned depth;
        unsigned elements;  /* XML elements open */
        size_t values;
        char *text;         /* the text of the innermost value, while collected */
        size_t text_len, text_size;
        bool collecting, typed, fault;
        struct ctl_value *result;
        int error;
        char message[160];
};

static void reader_fail(struct reader *r, int error, const char *format, ...) __attribute__((format(printf, 3, 4)));
static void reader_fail(struct reader *r, int error, const char *format, ...) {
        if (r->error)
                return;
        r->error = error;
        va_list ap;
        va_start(ap, format);
        vsnprintf(r->message, sizeof r->message, format, ap);
        va_end(ap);
        expat.StopParser(r->parser, XML_FALSE);
}

static void text_reset(struct reader *r) {
        r->text_len = 0;
        if (r->text)
                r->text[0] = '\0';
}

static int base64_value(char c) {
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Decode base64 TEXT in place (whitespace skipped, '=' ends it); its new length, or -1. */
static long base64_decode(char *text, size_t len) {
        size_t out = 0;
        unsigned bits = 0, n = 0;
        for (size_t i = 0; i < len; i++) {
                char c = text[i];
                if (c == '=')
                        break;
                if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
                        continue;
                int v = base64_value(c);
                if (v < 0)
                        return -1;
                bits = (bits << 6) | (unsigned)v;
                if (++n == 4) {
                        text[out++] = (char)(bits >> 16);
                        text[out++] = (char)(bits >> 8);
                        text[out++] = (char)bits;
                        bits = n = 0;
                }
        }
        if (n == 1)
                return -1;
        if (n >= 2)
                text[out++] = (char)(bits >> (n == 2 ? 4 : 10));
        if (n == 3)
                text[out++] = (char)(bits >> 2);
        text[out] = '\0';
        return (long)out;
}

static const char *const type_tags[] = { "string", "int", "i4", "i8", "boolean", "double", "dateTime.iso8601",
                                         "base64", "nil" };

static void XMLCALL on_start(void *data, const XML_Char *tag, const XML_Char **attributes) {
        struct reader *r = data;
        (void)attributes;
        if (r->error)
                return;
        if (++r->elements > 3 * CTL_XMLRPC_MAX_DEPTH + 8)
                return reader_fail(r, -EINVAL, "XML nested too deep");
        struct ctl_value *top = r->depth ? r->open[r->depth - 1] : NULL;
        if (strcmp(tag, "value") == 0) {
                if (r->depth == CTL_XMLRPC_MAX_DEPTH)
                        return reader_fail(r, -EINVAL, "values nested deeper than %d", CTL_XMLRPC_MAX_DEPTH);
                if (++r->values > CTL_XMLRPC_MAX_VALUES)
                        return reader_fail(r, -EINVAL, "more than %d values", CTL_XMLRPC_MAX_VALUES);
                if (top && top->type != CTL_VALUE_ARRAY && top->type != CTL_VALUE_STRUCT)
                        return reader_fail(r, -EINVAL, "<value> inside a scalar");
                struct ctl_value *v = calloc(1, sizeof *v);
                if (!v)
                        return reader_fail(r, -ENOMEM, "out of memory");
                r->open[r->depth] = v;
                r->member_name[r->depth] = NULL;
                r->depth++;
                text_reset(r);
                r->collecting = true;
                r->typed = false;
                return;
        }
        for (size_t i = 0; i < ELEMENTSOF(type_tags); i++)
                if (strcmp(tag, type_tags[i]) == 0) {
                        if (!top || r->typed || top->type != CTL_VALUE_STRING)
                                return reader_fail(r, -EINVAL, "<%s> outside a value", tag);
                        top->type = i == 1 || i == 2 || i == 3 ? CTL_VALUE_INT
                                    : i == 4                   ? CTL_VALUE_BOOLEAN
                                    : i == 5                   ? CTL_VALUE_DOUBLE
                                                               : CTL_VALUE_STRING;
                        r->typed = true;
                        text_reset(r);
                        r->collecting = true;
                        return;
                }
        if (strcmp(tag, "array") == 0 || strcmp(tag, "struct") == 0) {
                if (!top || r->typed || top->type != CTL_VALUE_STRING || r->collecting == false)
                        return reader_fail(r, -EINVAL, "<%s> outside a value", tag);
                top->type = tag[0] == 'a' ? CTL_VALUE_ARRAY : CTL_VALUE_STRUCT;
                r->typed = true;
                r->collecting = false;
                return;
        }
        if (strcmp(tag, "name") == 0) {
                if (!top || top->type != CTL_VALUE_STRUCT)
                        return reader_fail(r, -EINVAL, "<name> outside a struct");
                text_reset(r);
                r->collecting = true;
                return;
        }
        if (strcmp(tag, "fault") == 0)
                r->fault = true;
        r->collecting = false;  /* methodResponse, params, param, data, member, and the unknown */
}

static void XMLCALL on_end(void *data, const XML_Char *tag) {
        struct reader *r = data;
        if (r->error)
                return;
        r->elements--;
        struct ctl_value *top = r->depth ? r->open[r->depth - 1] : NULL;
        const char *text = r->text ? r->text : "";
        if (strcmp(tag, "name") == 0 && top && top->type == CTL_VALUE_STRUCT) {
                free(r->member_name[r->depth - 1]);
                if (!(r->member_name[r->depth - 1] = strdup(text)))
                        return reader_fail(r, -ENOMEM, "out of memory");
                r->collecting = false;
                return;
        }
        if (strcmp(tag, "value") != 0) {
                if (!r->collecting || !top)
                        return;
                /* A type's element ends: its text is the value. */
                r->collecting = false;
                if (top->type == CTL_VALUE_INT || top->type == CTL_VALUE_BOOLEAN) {
                        char *end;
                        errno = 0;
                        long long v = strtoll(text, &end, 10);
                        if (errno || end == text || *end || (top->type == CTL_VALUE_BOOLEAN && v != 0 && v != 1))
                                return reader_fail(r, -EINVAL, "<%s> holds '%.40s'", tag, text);
                        top->integer = v;
                } else if (top->type == CTL_VALUE_DOUBLE) {
                        char *end;
                        top->number = strtod(text, &end);
                        if (end == text || *end)
                                return reader_fail(r, -EINVAL, "<double> holds '%.40s'", text);
                } else if (top->type == CTL_VALUE_STRING) {
                        size_t len = r->text_len;
                        if (strcmp(tag, "base64") == 0) {
                                long n = r->text ? base64_decode(r->text, r->text_len) : 0;
                                if (n < 0)
                                        return reader_fail(r, -EINVAL, "bad base64");
                                len = (size_t)n;
                        }
                        if (!(top->string = malloc(len + 1)))
                                return reader_fail(r, -ENOMEM, "out of memory");
                        memcpy(top->string, text, len);
                        top->string[len] = '\0';
                        top->length = len;
                }
                return;
        }
        /* </value>: a value untyped is a string; then it goes to its parent. */
        struct ctl_value *v = top;
        if (!v)
                return reader_fail(r, -EINVAL, "</value> without <value>");
        if (v->type == CTL_VALUE_STRING && !v->string) {
                if (!(v->string = strdup(r->typed ? "" : text)))
                        return reader_fail(r, -ENOMEM, "out of memory");
                v->length = strlen(v->string);
        }
        r->depth--;
        free(r->member_name[r->depth]);
        r->member_name[r->depth] = NULL;
        r->collecting = false;
        r->typed = true;  /* the parent's text is done with */
        if (r->depth == 0) {
                if (r->result) {
                        ctl_value_free(v);
                        return reader_fail(r, -EINVAL, "more than one value in the response");
                }
                r->result = v;
                return;
        }
        struct ctl_value *parent = r->open[r->depth - 1];
        struct ctl_value **items = realloc(parent->items, (parent->n_items + 1) * sizeof *items);
        if (!items) {
                ctl_value_free(v);
                return reader_fail(r, -ENOMEM, "out of memory");
        }
        parent->items = items;
        if (parent->type == CTL_VALUE_STRUCT) {
                char **keys = realloc(parent->keys, (parent->n_items + 1) * sizeof *keys);
                char *key = strdup(r->member_name[r->depth - 1] ? r->member_name[r->depth - 1] : "");
                if (!keys || !key) {
                        if (keys)
                                parent->keys = keys;
                        free(key);
                        ctl_value_free(v);
                        return reader_fail(r, -ENOMEM, "out of memory");
                }
                parent->keys = keys;
                keys[parent->n_items] = key;
        }
        items[parent->n_items++] = v;
}

static void XMLCALL on_text(void *data, const XML_Char *s, int len) {
        struct reader *r = data;
        if (r->error || !r->collecting || len <= 0)
                return;
        if (r->text_len + (size_t)len + 1 > r->text_size) {
                size_t size = (r->text_len + (size_t)len + 1) * 2;
                char *grown = realloc(r->text, size);
                if (!grown)
                        return reader_fail(r, -ENOMEM, "out of memory");
                r->text = grown;
                r->text_size = size;
        }
        memcpy(r->text + r->text_len, s, (size_t)len);
        r->text_len += (size_t)len;
        r->text[r->text_len] = '\0';
}

static void XMLCALL on_doctype(void *data, const XML_Char *name, const XML_Char *sysid, const XML_Char *pubid,
                               int has_internal_subset) {
        (void)name, (void)sysid, (void)pubid, (void)has_internal_subset;
        reader_fail(data, -EINVAL, "a DTD in the response");
}

int ctl_xmlrpc_parse_response(const char *body, size_t size, struct ctl_value **ret, int *fault_code,
                              char **fault_string, char *error, size_t error_size) {
        *ret = NULL;
        *fault_string = NULL;
        *fault_code = 0;
        if (!expat_load()) {
                snprintf(error, error_size, "cannot load libexpat.so.1 to read XML-RPC: %s", dlerror());
                return -ENOSYS;
        }
        if (size > INT_MAX) {
                snprintf(error, error_size, "response too large");
                return -EINVAL;
        }
        struct reader r = { 0 };
        if (!(r.parser = expat.ParserCreate(NULL))) {
                snprintf(error, error_size, "out of memory");
                return -ENOMEM;
        }
        expat.SetUserData(r.parser, &r);
        expat.SetElementHandler(r.parser, on_start, on_end);
        expat.SetCharacterDataHandler(r.parser, on_text);
        expat.SetStartDoctypeDeclHandler(r.parser, on_doctype);
        if (expat.Parse(r.parser, body, (int)size, XML_TRUE) != XML_STATUS_OK && !r.error) {
                r.error = -EINVAL;
                snprintf(r.message, sizeof r.message, "bad XML: %s", expat.ErrorString(expat.GetErrorCode(r.parser)));
        }
        expat.ParserFree(r.parser);
        for (unsigned i = 0; i < r.depth; i++) {
                ctl_value_free(r.open[i]);
                free(r.member_name[i]);
        }
        free(r.text);
        if (!r.error && !r.result) {
                r.error = -EINVAL;
                snprintf(r.message, sizeof r.message, "no value in the response");
        }
        if (r.error) {
                ctl_value_free(r.result);
                snprintf(error, error_size, "%s", r.message);
                return r.error;
        }
        if (r.fault) {
                const struct ctl_value *code = ctl_value_member(r.result, "faultCode");
                const struct ctl_value *text = ctl_value_member(r.result, "faultString");
                *fault_code = code && code->type == CTL_VALUE_INT ? (int)code->integer : 0;
                *fault_string = strdup(text && text->type == CTL_VALUE_STRING ? text->string : "");
                ctl_value_free(r.result);
                if (!*fault_string) {
                        snprintf(error, error_size, "out of memory");
                        return -ENOMEM;
                }
                return 1;
        }
        *ret = r.result;
        return 0;
}

/* ---- HTTP ---- */

static int http_fail(char *error, size_t size, int r, const char *text) {
        snprintf(error, size, "%s", text);
        return r;
}

int ctl_http_parse_response(char *buf, size_t size, bool eof, int *ret_code, char **ret_body, size_t *ret_body_size,
                            char *error, size_t error_size) {
        char *end = memmem(buf, size, "\r\n\r\n", 4);
        if (!end) {
                if (size > CTL_HTTP_MAX_HEADER)
                        return http_fail(error, error_size, -EMSGSIZE, "HTTP header too long");
                if (size >= 5 && memcmp(buf, "HTTP/", 5) != 0)
                        return http_fail(error, error_size, -EPROTO, "not an HTTP response");
                return eof ? http_fail(error, error_size, -EPROTO, size ? "HTTP response cut short" : "no answer")
                           : 0;
        }
        size_t header_size = (size_t)(end - buf) + 4;
        if (header_size > CTL_HTTP_MAX_HEADER)
                return http_fail(error, error_size, -EMSGSIZE, "HTTP header too long");
        if (memchr(buf, '\0', header_size))
                return http_fail(error, error_size, -EPROTO, "NUL in the HTTP header");
        /* "HTTP/1.x NNN reason" */
        if (header_size < 13 || memcmp(buf, "HTTP/1.", 7) != 0 || buf[8] != ' ' || buf[9] < '1' || buf[9] > '5'
            || buf[10] < '0' || buf[10] > '9' || buf[11] < '0' || buf[11] > '9' || (buf[12] != ' ' && buf[12] != '\r'))
                return http_fail(error, error_size, -EPROTO, "not an HTTP response");
        int code = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
        long long content_length = -1;
        bool chunked = false;
        for (char *line = memchr(buf, '\n', header_size) + 1; line < end; line = memchr(line, '\n', (size_t)(end + 2 - line)) + 1) {
                size_t len = (size_t)((char *)memchr(line, '\r', (size_t)(end + 2 - line)) - line);
                if (len > 15 && strncasecmp(line, "content-length:", 15) == 0) {
                        char *p = line + 15, *q;
                        while (*p == ' ' || *p == '\t')
                                p++;
                        errno = 0;
                        long long v = strtoll(p, &q, 10);
                        if (errno || q == p || v < 0 || (*q != '\r' && *q != ' ' && *q != '\t'))
                                return http_fail(error, error_size, -EPROTO, "bad Content-Length");
                        content_length = v;
                } else if (len > 18 && strncasecmp(line, "transfer-encoding:", 18) == 0) {
                        for (size_t i = 18; i + 7 <= len; i++)
                                if (strncasecmp(line + i, "chunked", 7) == 0)
                                        chunked = true;
                }
        }
        char *body = buf + header_size;
        size_t available = size - header_size;
        if (chunked) {
                /* Walk the chunks (twice: to see that the last is in, then to move their
                 * data together, so that a response not whole yet is left as it came). */
                size_t total = 0;
                for (int pass = 0; pass < 2; pass++) {
                        size_t at = 0;
                        total = 0;
                        for (;;) {
                                char *line_end = memmem(body + at, available - at, "\r\n", 2);
                                if (!line_end)
                                        return eof ? http_fail(error, error_size, -EPROTO, "HTTP response cut short") : 0;
                                char *q;
                                errno = 0;
                                unsigned long long n = strtoull(body + at, &q, 16);
                                if (errno || q == body + at || (q != line_end && *q != ';' && *q != ' '))
                                        return http_fail(error, error_size, -EPROTO, "bad chunk size");
                                size_t data_at = (size_t)(line_end + 2 - body);
                                if (n > CTL_HTTP_MAX_BODY || total + n > CTL_HTTP_MAX_BODY)
                                        return http_fail(error, error_size, -EMSGSIZE, "HTTP body too large");
                                if (n == 0) {
                                        size_t t = data_at;  /* trailers, then an empty line */
                                        for (;;) {
                                                char *e = memmem(body + t, available - t, "\r\n", 2);
                                                if (!e)
                                                        return eof ? http_fail(error, error_size, -EPROTO,
                                                                               "HTTP response cut short")
                                                                   : 0;
                                                if (e == body + t)
                                                        break;
                                                t = (size_t)(e + 2 - body);
                                        }
                                        break;
                                }
                                if (available - data_at < n + 2)
                                        return eof ? http_fail(error, error_size, -EPROTO, "HTTP response cut short") : 0;
                                if (memcmp(body + data_at + n, "\r\n", 2) != 0)
                                        return http_fail(error, error_size, -EPROTO, "bad chunk end");
                                if (pass == 1)  /* total <= data_at: the data moves back only */
                                        memmove(body + total, body + data_at, n);
                                total += n;
                                at = data_at + n + 2;
                        }
                }
                *ret_code = code;
                *ret_body = body;
                *ret_body_size = total;
                return 1;
        }
        if (content_length > CTL_HTTP_MAX_BODY)
                return http_fail(error, error_size, -EMSGSIZE, "HTTP body too large");
        if (content_length >= 0) {
                if (available < (size_t)content_length)
                        return eof ? http_fail(error, error_size, -EPROTO, "HTTP response cut short") : 0;
                available = (size_t)content_length;
        } else if (!eof)
                return available > CTL_HTTP_MAX_BODY ? http_fail(error, error_size, -EMSGSIZE, "HTTP body too large") : 0;
        *ret_code = code;
        *ret_body = body;
        *ret_body_size = available;
        return 1;
}

/* ---- servers ---- */

static const char base64_digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *base64_encode(const char *in, size_t len) {
        char *out = malloc((len + 2) / 3 * 4 + 1), *p = out;
        if (!out)
                return NULL;
        for (size_t i = 0; i < len; i += 3) {
                unsigned v = (unsigned char)in[i] << 16;
                if (i + 1 < len)
                        v |= (unsigned char)in[i + 1] << 8;
                if (i + 2 < len)
                        v |= (unsigned char)in[i + 2];
                *p++ = base64_digits[v >> 18 & 63];
                *p++ = base64_digits[v >> 12 & 63];
                *p++ = i + 1 < len ? base64_digits[v >> 6 & 63] : '=';
                *p++ = i + 2 < len ? base64_digits[v & 63] : '=';
        }
        *p = '\0';
        return out;
}

void ctl_xmlrpc_server_done(struct ctl_xmlrpc_server *s) {
        free(s->url);
        free(s->path);
        free(s->host);
        free(s->port);
        free(s->authorization);
        *s = (struct ctl_xmlrpc_server){ 0 };
}

int ctl_xmlrpc_server_init(struct ctl_xmlrpc_server *s, const char *url, const char *username, const char *password,
                           char *error, size_t error_size) {
        *s = (struct ctl_xmlrpc_server){ 0 };
        if (!(s->url = strdup(url)))
                goto oom;
        if (strncmp(url, "unix://", 7) == 0 || url[0] == '/') {
                if (!(s->path = strdup(url[0] == '/' ? url : url + 7)))
                        goto oom;
        } else if (strncmp(url, "http://", 7) == 0) {
                /* http://HOST[:PORT][/PATH], HOST an [IPv6] in brackets; the path is
                 * supervisorctl's to ignore: the interface is at /RPC2. */
                const char *host = url + 7, *end = host + strcspn(host, "/"), *colon;
                if (*host == '[') {
                        const char *close = memchr(host, ']', (size_t)(end - host));
                        if (!close)
                                goto bad;
                        s->host = strndup(host + 1, (size_t)(close - host - 1));
                        colon = close + 1 < end && close[1] == ':' ? close + 1 : NULL;
                        if (close + 1 < end && !colon)
                                goto bad;
                } else {
                        colon = memchr(host, ':', (size_t)(end - host));
                        s->host = strndup(host, (size_t)((colon ? colon : end) - host));
                }
                s->port = colon ? strndup(colon + 1, (size_t)(end - colon - 1)) : strdup("80");
                if (!s->host || !s->port)
                        goto oom;
                long port;
                if (!s->host[0] || parse_long(s->port, 1, 65535, &port) < 0)
                        goto bad;
        } else {
                snprintf(error, error_size, "%s: not a server URL (http://HOST:PORT, unix:///PATH or /PATH)", url);
                ctl_xmlrpc_server_done(s);
                return -EINVAL;
        }
        if (username) {
                char *pair;
                if (asprintf(&pair, "%s:%s", username, password ? password : "") < 0)
                        goto oom;
                char *encoded = base64_encode(pair, strlen(pair));
                explicit_bzero(pair, strlen(pair));
                free(pair);
                if (!encoded || asprintf(&s->authorization, "Basic %s", encoded) < 0) {
                        free(encoded);
                        goto oom;
                }
                free(encoded);
        }
        return 0;
bad:
        snprintf(error, error_size, "%s: not an http://HOST:PORT URL", url);
        ctl_xmlrpc_server_done(s);
        return -EINVAL;
oom:
        snprintf(error, error_size, "out of memory");
        ctl_xmlrpc_server_done(s);
        return -ENOMEM;
}

bool ctl_xmlrpc_answered_http(int fd) {
        char head[5];
        ssize_t n;
        do
                n = recv(fd, head, sizeof head, MSG_PEEK | MSG_WAITALL);
        while (n < 0 && errno == EINTR);
        return n == 0 || (n == (ssize_t)sizeof head && memcmp(head, "HTTP/", 5) == 0);
}

static int connect_server(const struct ctl_xmlrpc_server *s, char *error, size_t error_size) {
        int fd;
        if (s->path) {
                struct sockaddr_un sa = { .sun_family = AF_UNIX };
                if (strlen(s->path) >= sizeof sa.sun_path) {
                        snprintf(error, error_size, "cannot connect to supervisord at %s: %s", s->url,
                                 strerror(ENAMETOOLONG));
                        return -ENAMETOOLONG;
                }
                strcpy(sa.sun_path, s->path);
                if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
                        int e = errno;
                        if (fd >= 0)
                                close(fd);
                        snprintf(error, error_size, "cannot connect to supervisord at %s: %s", s->url, strerror(e));
                        return -e;
                }
                return fd;
        }
        struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG }, *list;
        int r = getaddrinfo(s->host, s->port, &hints, &list);
        if (r != 0) {
                snprintf(error, error_size, "cannot connect to supervisord at %s: %s", s->url, gai_strerror(r));
                return -EHOSTUNREACH;
        }
        int e = ECONNREFUSED;
        fd = -1;
        for (struct addrinfo *a = list; a && fd < 0; a = a->ai_next) {
                fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
                if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) < 0) {
                        e = errno;
                        close(fd);
                        fd = -1;
                } else if (fd < 0)
                        e = errno;
        }
        freeaddrinfo(list);
        if (fd < 0) {
                snprintf(error, error_size, "cannot connect to supervisord at %s: %s", s->url, strerror(e));
                return -e;
        }
        return fd;
}

static int send_all(int fd, const char *buf, size_t len) {
        while (len > 0) {
                ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                buf += n;
                len -= (size_t)n;
        }
        return 0;
}

/* ---- calls ---- */

/* A methodCall being written: a growable string. */
struct text {
        char *data;
        size_t len, size;
        bool failed;
};

static void text_add(struct text *t, const char *s, size_t len) {
        if (t->failed)
                return;
        if (t->len + len + 1 > t->size) {
                size_t size = (t->len + len + 1) * 2;
                char *grown = realloc(t->data, size);
                if (!grown) {
                        t->failed = true;
                        return;
                }
                t->data = grown;
                t->size = size;
        }
        memcpy(t->data + t->len, s, len);
        t->len += len;
        t->data[t->len] = '\0';
}

static void text_adds(struct text *t, const char *s) {
        text_add(t, s, strlen(s));
}

static void text_add_escaped(struct text *t, const char *s) {
        for (; *s; s++) {
                const char *e = *s == '&' ? "&amp;" : *s == '<' ? "&lt;" : *s == '>' ? "&gt;" : NULL;
                if (e)
                        text_adds(t, e);
                else
                        text_add(t, s, 1);
        }
}

/* The outcome of one call: a value, a fault, or no answer (transport). */
struct reply {
        struct ctl_value *value;  /* owned */
        bool is_fault;
        int fault;                /* its faultCode */
        char *fault_string;       /* owned */
        bool failed;              /* no usable answer: error says why */
        char error[512];
};

static void reply_done(struct reply *r) {
        ctl_value_free(r->value);
        free(r->fault_string);
        *r = (struct reply){ 0 };
}

/* Call METHOD with parameters as SIGNATURE says: 's' a string, 'b' a boolean (int), 'i'
 * an int. */
static void call(const struct ctl_xmlrpc_server *s, struct reply *ret, const char *method, const char *signature, ...) {
        *ret = (struct reply){ 0 };
        struct text body = { 0 }, head = { 0 };
        va_list ap;
        va_start(ap, signature);
        text_adds(&body, "<?xml version=\"1.0\"?>\n<methodCall><methodName>");
        text_adds(&body, method);
        text_adds(&body, "</methodName><params>");
        for (const char *p = signature; *p; p++) {
                char number[32];
                text_adds(&body, "<param><value>");
                if (*p == 's') {
                        text_adds(&body, "<string>");
                        text_add_escaped(&body, va_arg(ap, const char *));
                        text_adds(&body, "</string>");
                } else {
                        snprintf(number, sizeof number, *p == 'b' ? "<boolean>%d</boolean>" : "<int>%d</int>",
                                 va_arg(ap, int));
                        text_adds(&body, number);
                }
                text_adds(&body, "</value></param>");
        }
        text_adds(&body, "</params></methodCall>\n");
        va_end(ap);
        char line[512];
        snprintf(line, sizeof line,
                 "POST /RPC2 HTTP/1.1\r\nHost: %s%s%s\r\nUser-Agent: supervisorctl/%s\r\nContent-Type: text/xml\r\n"
                 "Content-Length: %zu\r\nConnection: close\r\n",
                 s->host ? s->host : "localhost", s->host ? ":" : "", s->host ? s->port : "", SUPERVISORD_VERSION,
                 body.len);
        text_adds(&head, line);
        if (s->authorization) {
                text_adds(&head, "Authorization: ");
                text_adds(&head, s->authorization);
                text_adds(&head, "\r\n");
        }
        text_adds(&head, "\r\n");
        char *buf = NULL;
        int fd = -1;
        if (body.failed || head.failed) {
                snprintf(ret->error, sizeof ret->error, "out of memory");
                goto fail;
        }
        if ((fd = connect_server(s, ret->error, sizeof ret->error)) < 0)
                goto fail;
        if (send_all(fd, head.data, head.len) < 0 || send_all(fd, body.data, body.len) < 0) {
                /* An answer (a refusal) may have come before the request was read. */
                (void)shutdown(fd, SHUT_WR);
        }
        size_t len = 0, size = 0;
        int code = 0, r = 0;
        char *answer = NULL;
        size_t answer_len = 0;
        for (;;) {
                if (size - len < 65536) {
                        if (size > CTL_HTTP_MAX_HEADER + CTL_HTTP_MAX_BODY + 65536) {
                                snprintf(ret->error, sizeof ret->error, "%s: HTTP response too large", s->url);
                                goto fail;
                        }
                        char *grown = realloc(buf, size = size ? size * 2 : 65536);
                        if (!grown) {
                                snprintf(ret->error, sizeof ret->error, "out of memory");
                                goto fail;
                        }
                        buf = grown;
                }
                ssize_t n = recv(fd, buf + len, size - len - 1, 0);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && len == 0) {
                        snprintf(ret->error, sizeof ret->error, "lost the connection to supervisord at %s: %s", s->url,
                                 strerror(errno));
                        goto fail;
                }
                if (n > 0)
                        len += (size_t)n;
                char why[160];
                r = ctl_http_parse_response(buf, len, n <= 0, &code, &answer, &answer_len, why, sizeof why);
                if (r < 0) {
                        snprintf(ret->error, sizeof ret->error, "%s: %s", s->url,
                                 len == 0 ? "closed without answering (not supervisord's XML-RPC interface?)" : why);
                        goto fail;
                }
                if (r > 0)
                        break;
        }
        close(fd);
        fd = -1;
        if (code == 401) {
                snprintf(ret->error, sizeof ret->error, "%s: Server requires authentication (HTTP 401%s)", s->url,
                         s->authorization ? ": wrong username or password" : "; give -u and -p");
                goto fail;
        }
        if (code != 200) {
                char *eol = memchr(buf, '\r', len);
                snprintf(ret->error, sizeof ret->error, "%s: %.*s", s->url, (int)(eol ? eol - buf : 12), buf);
                goto fail;
        }
        char why[200];
        r = ctl_xmlrpc_parse_response(answer, answer_len, &ret->value, &ret->fault, &ret->fault_string, why, sizeof why);
        ret->is_fault = r == 1;
        if (r < 0) {
                snprintf(ret->error, sizeof ret->error, "%s: unreadable XML-RPC answer to %s: %s", s->url, method, why);
                goto fail;
        }
        free(buf);
        free(body.data);
        free(head.data);
        return;
fail:
        if (fd >= 0)
                close(fd);
        free(buf);
        free(body.data);
        free(head.data);
        ret->failed = true;
}

/* ---- commands ---- */

/* supervisord's fault codes (xmlrpc.Faults). */
enum {
        FAULT_SHUTDOWN_STATE = 6,
        FAULT_BAD_NAME = 10,
        FAULT_BAD_SIGNAL = 11,
        FAULT_NO_FILE = 20,
        FAULT_NOT_EXECUTABLE = 21,
        FAULT_ABNORMAL_TERMINATION = 40,
        FAULT_SPAWN_ERROR = 50,
        FAULT_ALREADY_STARTED = 60,
        FAULT_NOT_RUNNING = 70,
        FAULT_SUCCESS = 80,
        FAULT_ALREADY_ADDED = 90,
        FAULT_STILL_RUNNING = 91,
};

/* A command under way: the records ready to be read, and how far the calls have got. */
struct job {
        const struct ctl_xmlrpc_server *s;
        const struct request *req;
        struct text out;
        size_t out_at;
        unsigned step;
        bool done;
        unsigned records, results, failures;
        struct ctl_value *infos;  /* getAllProcessInfo, when fetched; owned */
        struct process_name *names;  /* one per process of infos; owned */
        size_t n_names;
};

/* A record: FIELDS (NULL-terminated) tab-separated, each made safe to be one field. */
static void emit(struct job *j, const char *kind, ...) {
        va_list ap;
        va_start(ap, kind);
        text_adds(&j->out, kind);
        for (const char *f; (f = va_arg(ap, const char *));) {
                char clean[4096];
                protocol_sanitize(clean, sizeof clean, f[0] ? f : "-");
                text_adds(&j->out, "\t");
                text_adds(&j->out, clean);
        }
        va_end(ap);
        text_adds(&j->out, "\n");
        if (strcmp(kind, FINAL_OK) != 0 && strcmp(kind, FINAL_ERROR) != 0)
                j->records++;
}

static void finish(struct job *j, int code, const char *format, ...) __attribute__((format(printf, 3, 4)));
static void finish(struct job *j, int code, const char *format, ...) {
        if (j->done)
                return;
        j->done = true;
        if (code == EXIT_OK) {
                emit(j, FINAL_OK, NULL);
                return;
        }
        char message[1024], number[16];
        va_list ap;
        va_start(ap, format);
        vsnprintf(message, sizeof message, format, ap);
        va_end(ap);
        /* After records, supervisorctl prints no final error: say it here. */
        if (code == EXIT_UNREACHABLE && j->records > 0)
                fprintf(stderr, "supervisorctl: %s\n", message);
        snprintf(number, sizeof number, "%d", code);
        emit(j, FINAL_ERROR, number, message, NULL);
}

/* The end of a command of results: OK, or how many failed. */
static void finish_results(struct job *j) {
        if (j->failures)
                finish(j, EXIT_FAILED, "%u of %u failed", j->failures, j->results);
        else
                finish(j, EXIT_OK, " ");
}

/* The call did not get an answer, or a fault nobody expects: the command ends. */
static bool failed(struct job *j, const struct reply *r) {
        if (r->failed) {
                finish(j, EXIT_UNREACHABLE, "%s", r->error);
                return true;
        }
        return false;
}

static bool fetch_infos(struct job *j) {
        if (j->infos)
                return true;
        struct reply r;
        call(j->s, &r, "supervisor.getAllProcessInfo", "");
        if (failed(j, &r) || (r.is_fault && (finish(j, EXIT_FAILED, "%s", r.fault_string), true))) {
                reply_done(&r);
                return false;
        }
        if (!r.value || r.value->type != CTL_VALUE_ARRAY) {
                reply_done(&r);
                finish(j, EXIT_UNREACHABLE, "%s: getAllProcessInfo did not answer a list", j->s->url);
                return false;
        }
        j->infos = r.value;
        r.value = NULL;
        reply_done(&r);
        if (!(j->names = calloc(j->infos->n_items + 1, sizeof *j->names))) {
                finish(j, EXIT_FAILED, "out of memory");
                return false;
        }
        for (size_t i = 0; i < j->infos->n_items; i++)
                j->names[i] = (struct process_name){ .group = member_string(j->infos->items[i], "group"),
                                                     .name = member_string(j->infos->items[i], "name") };
        j->n_names = j->infos->n_items;
        return true;
}

static void no_such_name(struct job *j, const char *spec) {
        char close[256] = "";
        if (fetch_infos(j))
                names_suggest(spec, j->names, j->n_names, 3, close, sizeof close);
        if (close[0])
                finish(j, EXIT_NO_SUCH_SERVICE, "no such service: %s (did you mean %s?)", spec, close);
        else
                finish(j, EXIT_NO_SUCH_SERVICE, "no such service: %s", spec);
}

/* Does every name of the request address a process?  Else the command ends, as ours does. */
static bool names_known(struct job *j) {
        if (j->req->all || j->req->n_names == 0)
                return true;
        if (!fetch_infos(j))
                return false;
        bool *matched = calloc(j->n_names + 1, sizeof *matched);
        if (!matched) {
                finish(j, EXIT_FAILED, "out of memory");
                return false;
        }
        for (unsigned i = 0; i < j->req->n_names; i++)
                if (names_match(j->req->names[i], j->names, j->n_names, matched) == 0) {
                        free(matched);
                        no_such_name(j, j->req->names[i]);
                        return false;
                }
        free(matched);
        return true;
}

static void status_record(struct job *j, const struct ctl_value *info) {
        const char *state = member_string(info, "statename");
        long long pid = member_int(info, "pid"), start = member_int(info, "start"), now = member_int(info, "now");
        bool running = strcmp(state, "RUNNING") == 0 || strcmp(state, "STOPPING") == 0 || strcmp(state, "STARTING") == 0;
        char pid_text[24], uptime[24], last_exit[32] = "-", start_text[24], stop_text[24];
        snprintf(pid_text, sizeof pid_text, "%lld", pid > 0 ? pid : 0);
        snprintf(uptime, sizeof uptime, "%lld", pid > 0 && now > start && start > 0 ? now - start : 0);
        if (strcmp(state, "EXITED") == 0)
                snprintf(last_exit, sizeof last_exit, "exit %lld", member_int(info, "exitstatus"));
        snprintf(start_text, sizeof start_text, "%lld", start);
        snprintf(stop_text, sizeof stop_text, "%lld", member_int(info, "stop"));
        /* A live process is shown from its pid and uptime, as ours; any other with the
         * server's own words ("Exited too quickly ...", "Dec 08 01:02 AM", "Not started"). */
        const char *description = running && pid > 0 ? "-" : member_string(info, "description");
        emit(j, RECORD_STATUS, member_string(info, "name"), state, pid_text, uptime, last_exit, "0", description, "-",
             "-", "-", "-", member_string(info, "group"), start_text, stop_text, member_string(info, "spawnerr"),
             member_string(info, "stdout_logfile"), member_string(info, "stderr_logfile"), NULL);
}

static void do_status(struct job *j) {
        if (!names_known(j) || !fetch_infos(j))
                return;
        bool *matched = calloc(j->n_names + 1, sizeof *matched);
        if (!matched)
                return finish(j, EXIT_FAILED, "out of memory");
        for (unsigned i = 0; i < j->req->n_names && !j->req->all; i++)
                names_match(j->req->names[i], j->names, j->n_names, matched);
        for (size_t i = 0; i < j->n_names; i++)
                if (j->req->all || j->req->n_names == 0 || matched[i])
                        status_record(j, j->infos->items[i]);
        free(matched);
        finish(j, EXIT_OK, " ");
}

/* One result, as our daemon words it, from supervisord's fault code for NAME (SUCCESS:
 * done). */
static void result(struct job *j, const char *name, int fault, const char *fault_string) {
        enum verb verb = j->req->verb;
        static const struct {
                int fault;
                const char *text, *code;
        } errors[] = {
                { FAULT_BAD_NAME, "no such process", "no-such-name" },
                { FAULT_SPAWN_ERROR, "spawn error", "spawn-error" },
                { FAULT_ABNORMAL_TERMINATION, "abnormal termination", "abnormal" },
                { FAULT_NO_FILE, "no such file", "spawn-error" },
                { FAULT_NOT_EXECUTABLE, "file is not executable", "spawn-error" },
                { FAULT_SHUTDOWN_STATE, "shutting down", "shutting-down" },
                { FAULT_BAD_SIGNAL, "bad signal", "bad-signal" },
                { FAULT_ALREADY_ADDED, "already active", "already-added" },
                { FAULT_STILL_RUNNING, "still running", "still-running" },
        };
        j->results++;
        if (fault == FAULT_SUCCESS) {
                const char *done = verb == VERB_START     ? "started"
                                   : verb == VERB_STOP    ? "stopped"
                                   : verb == VERB_RESTART ? "restarted"
                                   : verb == VERB_SIGNAL  ? "signalled"
                                   : verb == VERB_CLEAR   ? "cleared"
                                   : verb == VERB_ADD     ? "added"
                                                          : "removed";
                const char *code = verb == VERB_ADD ? "added" : verb == VERB_REMOVE ? "removed" : "ok";
                return emit(j, RECORD_RESULT, name, "ok", done, code, NULL);
        }
        if (fault == FAULT_ALREADY_STARTED && (verb == VERB_START || verb == VERB_RESTART))
                return emit(j, RECORD_RESULT, name, "ok", "already running", "already", NULL);
        if (fault == FAULT_NOT_RUNNING && verb == VERB_STOP)
                return emit(j, RECORD_RESULT, name, "ok", "not running", "already", NULL);
        j->failures++;
        if (fault == FAULT_NOT_RUNNING)
                return emit(j, RECORD_RESULT, name, "error", "not running", "not-running", NULL);
        if (fault == FAULT_BAD_NAME && (verb == VERB_ADD || verb == VERB_REMOVE))
                return emit(j, RECORD_RESULT, name, "error", "no such group", "no-such-name", NULL);
        for (size_t i = 0; i < ELEMENTSOF(errors); i++)
                if (errors[i].fault == fault)
                        return emit(j, RECORD_RESULT, name, "error", errors[i].text, errors[i].code, NULL);
        emit(j, RECORD_RESULT, name, "error", fault_string && fault_string[0] ? fault_string : "failed", "failed", NULL);
}

/* The results of a call on many (startAllProcesses, startProcessGroup, ...): a list of
 * {name, group, status, description}; SKIP_NOT_RUNNING: a stop's "not running" is no
 * result (a restart's first half). */
static void results_of_list(struct job *j, const struct ctl_value *list, bool skip_not_running) {
        for (size_t i = 0; list && list->type == CTL_VALUE_ARRAY && i < list->n_items; i++) {
                const struct ctl_value *item = list->items[i];
                int status = (int)member_int(item, "status");
                if (skip_not_running && (status == FAULT_NOT_RUNNING || status == FAULT_SUCCESS))
                        continue;
                char name[NAME_SPEC_MAX];
                const struct process_name pn = { .group = member_string(item, "group"), .name = member_string(item, "name") };
                name_format(&pn, name, sizeof name);
                result(j, name, status, member_string(item, "description"));
        }
}

/* The reply R of a call on one process NAME as its result; false if the command ended. */
static bool result_of(struct job *j, const char *name, struct reply *r) {
        if (failed(j, r)) {
                reply_done(r);
                return false;
        }
        result(j, name, r->is_fault ? r->fault : FAULT_SUCCESS, r->fault_string);
        reply_done(r);
        return true;
}

/* A call on many: "...AllProcesses" (GROUP NULL) or "...ProcessGroup". */
static bool call_many(struct job *j, const char *what, const char *group, bool skip_not_running) {
        char method[64];
        struct reply r;
        const char *signal = j->req->verb == VERB_SIGNAL ? signal_name(j->req->signal) : NULL;
        char number[16];
        if (j->req->verb == VERB_SIGNAL && !signal) {
                snprintf(number, sizeof number, "%d", j->req->signal);
                signal = number;
        }
        snprintf(method, sizeof method, "supervisor.%s%s", what, group ? "ProcessGroup" : "AllProcesses");
        if (j->req->verb == VERB_SIGNAL)
                group ? call(j->s, &r, method, "ss", group, signal) : call(j->s, &r, method, "s", signal);
        else if (strcmp(what, "clear") == 0)
                call(j->s, &r, "supervisor.clearAllProcessLogs", "");
        else
                group ? call(j->s, &r, method, "sb", group, 1) : call(j->s, &r, method, "b", 1);
        if (failed(j, &r)) {
                reply_done(&r);
                return false;
        }
        if (r.is_fault) {
                result(j, group ? group : "all", r.fault, r.fault_string);
                reply_done(&r);
                return true;
        }
        results_of_list(j, r.value, skip_not_running);
        reply_done(&r);
        return true;
}

/* One process, "GROUP:NAME" in FULL, shown as NAME. */
static bool act_on_one(struct job *j, const char *full, const char *name) {
        struct reply r;
        const char *signal = NULL;
        char number[16];
        switch (j->req->verb) {
        case VERB_START:
                call(j->s, &r, "supervisor.startProcess", "sb", full, 1);
                break;
        case VERB_STOP:
                call(j->s, &r, "supervisor.stopProcess", "sb", full, 1);
                break;
        case VERB_RESTART:
                call(j->s, &r, "supervisor.stopProcess", "sb", full, 1);
                if (failed(j, &r)) {
                        reply_done(&r);
                        return false;
                }
                if (r.is_fault && r.fault != FAULT_NOT_RUNNING)
                        return result_of(j, name, &r);
                reply_done(&r);
                call(j->s, &r, "supervisor.startProcess", "sb", full, 1);
                break;
        case VERB_SIGNAL:
                if (!(signal = signal_name(j->req->signal))) {
                        snprintf(number, sizeof number, "%d", j->req->signal);
                        signal = number;
                }
                call(j->s, &r, "supervisor.signalProcess", "ss", full, signal);
                break;
        default:  /* VERB_CLEAR */
                call(j->s, &r, "supervisor.clearProcessLogs", "s", full);
                break;
        }
        return result_of(j, name, &r);
}

static const char *many_name(enum verb verb) {
        return verb == VERB_START ? "start" : verb == VERB_STOP ? "stop" : verb == VERB_SIGNAL ? "signal" : "clear";
}

/* start, stop, restart, signal, clear: step 0 checks the names, then a step per name (or
 * one for all), so that each one's results show as they come. */
static void do_action(struct job *j) {
        const struct request *req = j->req;
        if (j->step == 0) {
                names_known(j);
                return;
        }
        if (req->all || j->step > req->n_names) {
                if (req->all && j->step == 1) {
                        if (req->verb == VERB_RESTART) {
                                j->req = &(struct request){ .verb = VERB_STOP };
                                bool ok = call_many(j, "stop", NULL, true);
                                j->req = req;
                                if (!ok || !call_many(j, "start", NULL, false))
                                        return;
                        } else if (!call_many(j, many_name(req->verb), NULL, false))
                                return;
                }
                return finish_results(j);
        }
        const char *spec = req->names[j->step - 1];
        size_t len = strlen(spec);
        /* GROUP:* and GROUP: are the group's own calls (clear has none). */
        if (req->verb != VERB_CLEAR && len > 1 && (spec[len - 1] == ':' || (len > 2 && strcmp(spec + len - 2, ":*") == 0))) {
                char group[NAME_SPEC_MAX];
                snprintf(group, sizeof group, "%.*s", (int)(len - (spec[len - 1] == ':' ? 1 : 2)), spec);
                if (req->verb == VERB_RESTART) {
                        j->req = &(struct request){ .verb = VERB_STOP };
                        bool ok = call_many(j, "stop", group, true);
                        j->req = req;
                        if (ok)
                                call_many(j, "start", group, false);
                } else
                        call_many(j, many_name(req->verb), group, false);
                return;
        }
        if (!fetch_infos(j))
                return;
        bool *matched = calloc(j->n_names + 1, sizeof *matched);
        if (!matched)
                return finish(j, EXIT_FAILED, "out of memory");
        names_match(spec, j->names, j->n_names, matched);
        for (size_t i = 0; i < j->n_names && !j->done; i++) {
                if (!matched[i])
                        continue;
                char full[NAME_SPEC_MAX], shown[NAME_SPEC_MAX];
                snprintf(full, sizeof full, "%s:%s", j->names[i].group, j->names[i].name);
                name_format(&j->names[i], shown, sizeof shown);
                if (!act_on_one(j, full, shown))
                        break;
        }
        free(matched);
}

/* add, remove: a step per group. */
static void do_groups(struct job *j) {
        if (j->step >= j->req->n_names)
                return finish_results(j);
        const char *group = j->req->names[j->step];
        struct reply r;
        call(j->s, &r, j->req->verb == VERB_ADD ? "supervisor.addProcessGroup" : "supervisor.removeProcessGroup", "s",
             group);
        result_of(j, group, &r);
}

/* The names of reloadConfig's list K ([[added, changed, removed]]). */
static const struct ctl_value *reread_list(const struct ctl_value *v, size_t k) {
        if (!v || v->type != CTL_VALUE_ARRAY || v->n_items < 1 || v->items[0]->type != CTL_VALUE_ARRAY
            || v->items[0]->n_items < 3 || v->items[0]->items[k]->type != CTL_VALUE_ARRAY)
                return NULL;
        return v->items[0]->items[k];
}

static bool update_wanted(const struct request *req, const char *group) {
        if (req->all || req->n_names == 0)
                return true;
        for (unsigned i = 0; i < req->n_names; i++)
                if (strcmp(req->names[i], group) == 0)
                        return true;
        return false;
}

/* reread, update: supervisord's reloadConfig, and for update its calls on each group
 * (removed: stopped and removed; changed: the same, then added anew; added: added). */
static void do_reread(struct job *j) {
        struct reply r;
        call(j->s, &r, "supervisor.reloadConfig", "");
        if (failed(j, &r))
                return reply_done(&r);
        if (r.is_fault) {
                finish(j, EXIT_FAILED, "%s", r.fault_string);
                return reply_done(&r);
        }
        static const char *const records[] = { RECORD_ADDED, RECORD_CHANGED, RECORD_REMOVED };
        bool update = j->req->verb == VERB_UPDATE;
        /* update acts on removed groups first, then changed, then added, as supervisord's. */
        for (size_t k = 3; k-- > 0 && !j->done;) {
                size_t kind = update ? k : 2 - k;
                const struct ctl_value *list = reread_list(r.value, kind);
                for (size_t i = 0; list && i < list->n_items && !j->done; i++) {
                        const char *group = list->items[i]->type == CTL_VALUE_STRING ? list->items[i]->string : "";
                        if (!update_wanted(j->req, group))
                                continue;
                        if (update) {
                                struct reply step;
                                if (kind != 0) {
                                        call(j->s, &step, "supervisor.stopProcessGroup", "sb", group, 1);
                                        if (failed(j, &step))
                                                return reply_done(&step), reply_done(&r);
                                        reply_done(&step);
                                        call(j->s, &step, "supervisor.removeProcessGroup", "s", group);
                                        if (failed(j, &step))
                                                return reply_done(&step), reply_done(&r);
                                        if (step.is_fault)
                                                finish(j, EXIT_FAILED, "%s: %s", group, step.fault_string);
                                        reply_done(&step);
                                }
                                if (kind != 2 && !j->done) {
                                        call(j->s, &step, "supervisor.addProcessGroup", "s", group);
                                        if (failed(j, &step))
                                                return reply_done(&step), reply_done(&r);
                                        if (step.is_fault)
                                                finish(j, EXIT_FAILED, "%s: %s", group, step.fault_string);
                                        reply_done(&step);
                                }
                        }
                        if (!j->done)
                                emit(j, records[kind], group, NULL);
                }
        }
        reply_done(&r);
        finish(j, EXIT_OK, " ");
}

static void do_simple(struct job *j) {
        struct reply r;
        const struct request *req = j->req;
        char text[32];
        switch (req->verb) {
        case VERB_PID:
                if (req->n_names == 0) {
                        call(j->s, &r, "supervisor.getPID", "");
                        if (failed(j, &r) || (r.is_fault && (finish(j, EXIT_FAILED, "%s", r.fault_string), true)))
                                break;
                        snprintf(text, sizeof text, "%lld", r.value && r.value->type == CTL_VALUE_INT ? r.value->integer : 0);
                        emit(j, RECORD_PID, text, NULL);
                        break;
                }
                call(j->s, &r, "supervisor.getProcessInfo", "s", req->names[0]);
                if (failed(j, &r))
                        break;
                if (r.is_fault && r.fault == FAULT_BAD_NAME)
                        no_such_name(j, req->names[0]);
                else if (r.is_fault)
                        finish(j, EXIT_FAILED, "%s", r.fault_string);
                else {
                        snprintf(text, sizeof text, "%lld", member_int(r.value, "pid"));
                        emit(j, RECORD_PID, text, NULL);
                }
                break;
        case VERB_VERSION:
                call(j->s, &r, "supervisor.getSupervisorVersion", "");
                if (failed(j, &r) || (r.is_fault && (finish(j, EXIT_FAILED, "%s", r.fault_string), true)))
                        break;
                emit(j, RECORD_VERSION, r.value && r.value->type == CTL_VALUE_STRING ? r.value->string : "?", NULL);
                break;
        case VERB_SHUTDOWN:
        case VERB_RELOAD:
                call(j->s, &r, req->verb == VERB_SHUTDOWN ? "supervisor.shutdown" : "supervisor.restart", "");
                if (failed(j, &r))
                        break;
                if (r.is_fault && r.fault == FAULT_SHUTDOWN_STATE)
                        finish(j, EXIT_FAILED, "supervisord is shutting down");
                else if (r.is_fault)
                        finish(j, EXIT_FAILED, "%s", r.fault_string);
                break;
        default:
                finish(j, EXIT_USAGE, "%s: not available over XML-RPC", verb_to_string(req->verb));
                return;
        }
        reply_done(&r);
        finish(j, EXIT_OK, " ");
}

/* tail NAME LINES: the end of its stdout log, as supervisord's supervisorctl reads it
 * (readProcessStdoutLog with a negative offset: the last bytes), asked for again with
 * more bytes until they hold LINES lines or the whole log. */
static void do_tail(struct job *j) {
        const struct request *req = j->req;
        if (req->follow)
                return finish(j, EXIT_USAGE, "tail -f: not available over XML-RPC");
        long want = req->lines ? (long)req->lines * 128 : 1;
        for (;;) {
                if (want < 4096)
                        want = 4096;
                if (want > 16 * 1024 * 1024)
                        want = 16 * 1024 * 1024;
                struct reply r;
                call(j->s, &r, "supervisor.readProcessStdoutLog", "sii", req->names[0], (int)-want, 0);
                if (failed(j, &r))
                        return reply_done(&r);
                if (r.is_fault) {
                        if (r.fault == FAULT_BAD_NAME)
                                no_such_name(j, req->names[0]);
                        else
                                finish(j, EXIT_FAILED, "%s", r.fault_string);
                        return reply_done(&r);
                }
                if (!r.value || r.value->type != CTL_VALUE_STRING) {
                        reply_done(&r);
                        return finish(j, EXIT_UNREACHABLE, "%s: readProcessStdoutLog did not answer a string", j->s->url);
                }
                const char *data = r.value->string;
                size_t len = r.value->length, start = 0;
                bool enough = false;
                /* The last LINES lines: back from the end past LINES newlines, the one that
                 * ends the log aside. */
                unsigned seen = 0;
                for (size_t i = len; i-- > 0;)
                        if (data[i] == '\n' && i != len - 1 && ++seen == req->lines) {
                                start = i + 1;
                                enough = true;
                                break;
                        }
                /* Not LINES lines in what came, and the log holds more before it. */
                if (!enough && len >= (size_t)want && want < 16 * 1024 * 1024) {
                        reply_done(&r);
                        want *= 4;
                        continue;
                }
                if (req->lines == 0)
                        start = len;
                char size[24];
                snprintf(size, sizeof size, "%zu", len - start);
                text_adds(&j->out, RECORD_DATA "\t");
                text_adds(&j->out, size);
                text_adds(&j->out, "\n");
                text_add(&j->out, data + start, len - start);
                j->records++;
                reply_done(&r);
                return finish(j, EXIT_OK, " ");
        }
}

/* readproclog NAME STREAM OFFSET [LENGTH] and readlog OFFSET [LENGTH] (tail -N, maintail
 * -N): supervisord's readProcessStdoutLog, readProcessStderrLog and readLog, which take
 * the same offset and length; the bytes as our protocol's DATA record. */
static void do_read_log(struct job *j) {
        const struct request *req = j->req;
        if (req->follow)
                return finish(j, EXIT_USAGE, "%s -f: not available over XML-RPC",
                              req->verb == VERB_READLOG ? "maintail" : "tail");
        /* XML-RPC's <int> is 32 bits: past that, the last 2 GiB */
        long long offset = req->offset < INT_MIN ? INT_MIN : req->offset > INT_MAX ? INT_MAX : req->offset;
        int length = req->length > INT_MAX ? INT_MAX : (int)req->length;
        struct reply r;
        if (req->verb == VERB_READLOG)
                call(j->s, &r, "supervisor.readLog", "ii", (int)offset, length);
        else
                call(j->s, &r, req->stream == STDERR_FILENO ? "supervisor.readProcessStderrLog"
                                                             : "supervisor.readProcessStdoutLog",
                     "sii", req->names[0], (int)offset, length);
        if (failed(j, &r))
                return reply_done(&r);
        if (r.is_fault) {
                if (r.fault == FAULT_BAD_NAME)
                        no_such_name(j, req->names[0]);
                else
                        finish(j, EXIT_FAILED, "%s", r.fault_string);
                return reply_done(&r);
        }
        if (!r.value || r.value->type != CTL_VALUE_STRING) {
                reply_done(&r);
                return finish(j, EXIT_UNREACHABLE, "%s: the log read did not answer a string", j->s->url);
        }
        char size[24];
        snprintf(size, sizeof size, "%zu", r.value->length);
        text_adds(&j->out, RECORD_DATA "\t");
        text_adds(&j->out, size);
        text_adds(&j->out, "\n");
        text_add(&j->out, r.value->string, r.value->length);
        j->records++;
        reply_done(&r);
        finish(j, EXIT_OK, " ");
}

static void job_step(struct job *j) {
        switch (j->req->verb) {
        case VERB_STATUS:
                do_status(j);
                break;
        case VERB_START:
        case VERB_STOP:
        case VERB_RESTART:
        case VERB_SIGNAL:
        case VERB_CLEAR:
                do_action(j);
                break;
        case VERB_ADD:
        case VERB_REMOVE:
                do_groups(j);
                break;
        case VERB_REREAD:
        case VERB_UPDATE:
                do_reread(j);
                break;
        case VERB_TAIL:
                do_tail(j);
                break;
        case VERB_READPROCLOG:
        case VERB_READLOG:
                do_read_log(j);
                break;
        default:
                do_simple(j);
                break;
        }
        j->step++;
        if (j->out.failed && !j->done) {
                j->out.failed = false;
                j->out.len = 0;
                finish(j, EXIT_FAILED, "out of memory");
        }
}

static ssize_t job_read(void *cookie, char *buf, size_t size) {
        struct job *j = cookie;
        while (j->out_at == j->out.len && !j->done) {
                j->out.len = j->out_at = 0;
                job_step(j);
        }
        size_t n = j->out.len - j->out_at;
        if (n > size)
                n = size;
        memcpy(buf, j->out.data + j->out_at, n);
        j->out_at += n;
        return (ssize_t)n;
}

static int job_close(void *cookie) {
        struct job *j = cookie;
        free(j->out.data);
        ctl_value_free(j->infos);
        free(j->names);
        free(j);
        return 0;
}

FILE *ctl_xmlrpc_open(const struct ctl_xmlrpc_server *s, const struct request *req) {
        struct job *j = calloc(1, sizeof *j);
        if (!j)
                return NULL;
        j->s = s;
        j->req = req;
        FILE *f = fopencookie(j, "r", (cookie_io_functions_t){ .read = job_read, .close = job_close });
        if (!f)
                free(j);
        return f;
}
