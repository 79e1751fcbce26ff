/* web.h — the web page of the HTTP interface (supervisord(8), WEB PAGE): index.html,
 * tail.html and their style sheet and script (web/), embedded in the program at build
 * time (assets.S), served to GET and HEAD; and the cross-site check of POSTs (csrf.h)
 * on a request's headers. */
#pragma once

#include <microhttpd.h>
#include <stdbool.h>

/* Answer a GET or HEAD of one of the page's paths; false (nothing queued) when METHOD
 * and URL ask for none of them. */
bool web_serve(struct MHD_Connection *connection, const char *method, const char *url, enum MHD_Result *ret);

/* NULL when the POST on CONNECTION may act, else why not (csrf_refusal). */
const char *web_post_refusal(struct MHD_Connection *connection);
