/* csrf.h — whether a POST to /RPC2 may act: the defence against cross-site requests.
 *
 * A page of another site can make the browser of someone logged in to this one send a
 * POST, with the credentials the browser holds: a form (whose body can be made to read as
 * a methodCall with enctype text/plain), or fetch() in no-cors mode.  What it cannot do is
 * choose the headers that betray it: every browser of the last years names the page's
 * site in Origin and Sec-Fetch-Site, and a request with a Content-Type other than a form's
 * three needs the server's consent first (CORS), which this server never gives.
 * XML-RPC clients (Python's xmlrpc.client, supervisorctl, Go's and PHP's) send text/xml and
 * neither Origin nor Sec-Fetch-*: they are never refused.  Pure: no socket, no state. */
#pragma once

/* The headers of a request (NULL: absent).  NULL when it may act, else why not, as a
 * constant string. */
const char *csrf_refusal(const char *host, const char *origin, const char *sec_fetch_site, const char *content_type);
