/* csrf.c — the cross-site request check of POSTs to /RPC2 (csrf.h). */
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "csrf.h"

/* The three media types an HTML form can send, and so a page of any site. */
static const char *const form_types[] = { "application/x-www-form-urlencoded", "multipart/form-data", "text/plain" };

static bool is_blank(char c) {
        return c == ' ' || c == '\t';
}

/* A character of a media type's name: RFC 9110's tchar, and the '/' between type and
 * subtype. */
static bool is_type_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || (c && strchr("/!#$%&'*+-.^_`|~", c));
}

/* Whether the media type of CONTENT_TYPE (its name after any blanks, to the first
 * character that cannot be of it: "text/plain; charset=x", "text/plain\t,x"; any case)
 * is one a form can send. */
static bool form_content_type(const char *content_type) {
        const char *p = content_type;
        while (is_blank(*p))
                p++;
        size_t len = 0;
        while (is_type_char(p[len]))
                len++;
        for (size_t i = 0; i < sizeof form_types / sizeof form_types[0]; i++)
                if (strlen(form_types[i]) == len && strncasecmp(p, form_types[i], len) == 0)
                        return true;
        return false;
}

/* AUTHORITY (LEN bytes) without a port that is the default of SCHEME's. */
static size_t without_default_port(const char *scheme, const char *authority, size_t len) {
        const char *port = strcasecmp(scheme, "https") == 0 ? ":443" : strcasecmp(scheme, "http") == 0 ? ":80" : NULL;
        size_t plen = port ? strlen(port) : 0;
        if (port && len > plen && memcmp(authority + len - plen, port, plen) == 0)
                return len - plen;
        return len;
}

/* Whether ORIGIN ("scheme://host[:port]", RFC 6454) names the site HOST (the Host
 * header: "host[:port]"). */
static bool same_origin(const char *origin, const char *host) {
        const char *sep = strstr(origin, "://");
        if (!sep || sep == origin)
                return false;
        char scheme[8];
        size_t slen = (size_t)(sep - origin);
        if (slen >= sizeof scheme)
                return false;
        memcpy(scheme, origin, slen);
        scheme[slen] = '\0';
        const char *authority = sep + 3;
        size_t alen = strlen(authority);
        if (alen == 0 || strpbrk(authority, "/?#@ \t"))
                return false;  /* an Origin is scheme, host and port, nothing more */
        size_t hlen = strlen(host);
        alen = without_default_port(scheme, authority, alen);
        hlen = without_default_port(scheme, host, hlen);
        return alen == hlen && strncasecmp(authority, host, alen) == 0;
}

const char *csrf_refusal(const char *host, const char *origin, const char *sec_fetch_site, const char *content_type) {
        /* Sec-Fetch-Site is the browser's own word (no page can set it): when it is there,
         * it decides, even behind a proxy that changed Host.  "none" is the user's own
         * doing; "same-site" is not enough: it takes in every other port of the host. */
        if (sec_fetch_site) {
                if (strcasecmp(sec_fetch_site, "same-origin") != 0 && strcasecmp(sec_fetch_site, "none") != 0)
                        return "a page of another site (Sec-Fetch-Site) cannot call XML-RPC";
        } else if (origin && (!host || !same_origin(origin, host)))
                return "a page of another origin (Origin) cannot call XML-RPC";
        /* What a form can send, from browsers too old for either header. */
        if (content_type && form_content_type(content_type))
                return "XML-RPC is text/xml: a form's Content-Type is refused";
        return NULL;
}
