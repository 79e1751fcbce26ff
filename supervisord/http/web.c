/* web.c — the web page's files served, and the cross-site check of POSTs (web.h). */
#include <stdint.h>
#include <string.h>

#include "csrf.h"
#include "web.h"

extern const char web_index_html[], web_tail_html[], web_css[], web_js[];
extern const uint64_t web_index_html_size, web_tail_html_size, web_css_size, web_js_size;

struct asset {
        const char *path;
        const char *type;
        const char *data;
        const uint64_t *size;
};

/* supervisord's URLs (/, /index.html, /tail.html), so that bookmarks carry over. */
static const struct asset assets[] = {
        { "/", "text/html; charset=utf-8", web_index_html, &web_index_html_size },
        { "/index.html", "text/html; charset=utf-8", web_index_html, &web_index_html_size },
        { "/tail.html", "text/html; charset=utf-8", web_tail_html, &web_tail_html_size },
        { "/supervisord.css", "text/css; charset=utf-8", web_css, &web_css_size },
        { "/supervisord.js", "text/javascript; charset=utf-8", web_js, &web_js_size },
};

/* The page runs only its own script and style, calls only its own origin, and is never
 * framed (a frame on another site could lead a click onto a button). */
static const char content_security_policy[] =
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

bool web_serve(struct MHD_Connection *connection, const char *method, const char *url, enum MHD_Result *ret) {
        if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
                return false;
        const struct asset *a = NULL;
        for (size_t i = 0; i < sizeof assets / sizeof assets[0]; i++)
                if (strcmp(url, assets[i].path) == 0)
                        a = &assets[i];
        if (!a)
                return false;
        struct MHD_Response *r = MHD_create_response_from_buffer((size_t)*a->size, (void *)a->data, MHD_RESPMEM_PERSISTENT);
        if (!r) {
                *ret = MHD_NO;
                return true;
        }
        MHD_add_response_header(r, "Content-Type", a->type);
        MHD_add_response_header(r, "Content-Security-Policy", content_security_policy);
        MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
        MHD_add_response_header(r, "X-Frame-Options", "DENY");
        MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
        /* A new version of the program serves its own files at once. */
        MHD_add_response_header(r, "Cache-Control", "no-cache");
        *ret = MHD_queue_response(connection, MHD_HTTP_OK, r);
        MHD_destroy_response(r);
        return true;
}

const char *web_post_refusal(struct MHD_Connection *connection) {
        const enum MHD_ValueKind h = MHD_HEADER_KIND;
        return csrf_refusal(MHD_lookup_connection_value(connection, h, "Host"),
                            MHD_lookup_connection_value(connection, h, "Origin"),
                            MHD_lookup_connection_value(connection, h, "Sec-Fetch-Site"),
                            MHD_lookup_connection_value(connection, h, "Content-Type"));
}
