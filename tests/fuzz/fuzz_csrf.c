/* fuzz_csrf.c — the cross-site check (http/csrf.c) on arbitrary headers: the input's
 * lines are Host, Origin, Sec-Fetch-Site and Content-Type, a line "-" (or a missing one)
 * an absent header.
 *
 * Beyond "no crash": a request the check lets through never has a form's Content-Type,
 * nor a Sec-Fetch-Site other than same-origin or none, nor (without Sec-Fetch-Site) an
 * Origin of another authority than Host; the answer does not change with the case of
 * the headers' values. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "csrf.h"
#include "fuzz.h"

static char *upper(const char *s) {
        if (!s)
                return NULL;
        char *u = strdup(s);
        for (char *p = u; p && *p; p++)
                *p = (char)toupper((unsigned char)*p);
        return u;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *text = strndup((const char *)data, size);
        if (!text)
                return 0;
        const char *field[4] = { NULL, NULL, NULL, NULL };
        char *p = text;
        for (int i = 0; i < 4 && p; i++) {
                char *nl = strchr(p, '\n');
                if (nl)
                        *nl = '\0';
                field[i] = strcmp(p, "-") == 0 ? NULL : p;
                p = nl ? nl + 1 : NULL;
        }
        const char *host = field[0], *origin = field[1], *site = field[2], *type = field[3];
        const char *refusal = csrf_refusal(host, origin, site, type);
        if (!refusal) {
                if (site)
                        FUZZ_ASSERT(strcasecmp(site, "same-origin") == 0 || strcasecmp(site, "none") == 0);
                else if (origin) {
                        FUZZ_ASSERT(host && strcasecmp(origin, "null") != 0);
                        const char *authority = strstr(origin, "://");
                        FUZZ_ASSERT(authority && strncasecmp(authority + 3, host, strcspn(host, ":")) == 0);
                }
                if (type) {
                        /* Let through, "text/plain" can only be the start of a longer name. */
                        const char *t = type + strspn(type, " \t");
                        FUZZ_ASSERT(strncasecmp(t, "text/plain", 10) != 0 || isalnum((unsigned char)t[10])
                                    || (t[10] && strchr("/!#$%&'*+-.^_`|~", t[10])));
                }
        }
        char *uh = upper(host), *uo = upper(origin), *us = upper(site), *ut = upper(type);
        FUZZ_ASSERT(!csrf_refusal(uh, uo, us, ut) == !refusal);
        free(uh);
        free(uo);
        free(us);
        free(ut);
        free(text);
        return 0;
}
