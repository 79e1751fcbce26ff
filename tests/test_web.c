/* test_web.c — the web page's server side (issue 21): supervisord's URLs serving the
 * page's files with their headers, under the HTTP interface's auth; the cross-site check
 * of POSTs to /RPC2 (http/csrf.c), first alone, then on the real daemon, where a refused
 * stopProcess leaves the service running while Python's supervisorctl goes on working;
 * and the heartbeat round trip in the process info.  The page itself, in a browser, is
 * tests/browser/test_web.py's. */
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "csrf.h"
#include "harness.h"

/* ---- csrf_refusal alone ---- */

START_TEST(test_csrf_rules) {
        /* XML-RPC clients: text/xml (or nothing), neither Origin nor Sec-Fetch-*. */
        ck_assert_ptr_null(csrf_refusal("127.0.0.1:9001", NULL, NULL, "text/xml"));
        ck_assert_ptr_null(csrf_refusal(NULL, NULL, NULL, NULL));
        ck_assert_ptr_null(csrf_refusal("h", NULL, NULL, "application/xml"));
        /* The page's own calls. */
        ck_assert_ptr_null(csrf_refusal("127.0.0.1:9001", "http://127.0.0.1:9001", "same-origin", "text/xml"));
        ck_assert_ptr_null(csrf_refusal("Host.Example:9001", "http://host.example:9001", NULL, "text/xml"));
        ck_assert_ptr_null(csrf_refusal("host.example", "http://host.example:80", NULL, "text/xml"));
        ck_assert_ptr_null(csrf_refusal("host.example:443", "https://host.example", NULL, "text/xml"));
        /* A TLS proxy that keeps Host: the page is https, this server plain HTTP. */
        ck_assert_ptr_null(csrf_refusal("host.example:9001", "https://host.example:9001", NULL, "text/xml"));
        /* Behind a proxy that changed Host, the browser's Sec-Fetch-Site decides. */
        ck_assert_ptr_null(csrf_refusal("127.0.0.1:9001", "https://ops.example", "same-origin", "text/xml"));
        /* Pages of other sites, other ports, other schemes, sandboxed frames. */
        ck_assert_ptr_nonnull(csrf_refusal("127.0.0.1:9001", "http://evil.example", NULL, "text/xml"));
        ck_assert_ptr_nonnull(csrf_refusal("127.0.0.1:9001", "http://127.0.0.1:9002", NULL, "text/xml"));
        ck_assert_ptr_nonnull(csrf_refusal("127.0.0.1:9001", "null", NULL, "text/xml"));
        ck_assert_ptr_nonnull(csrf_refusal(NULL, "http://127.0.0.1:9001", NULL, "text/xml"));
        ck_assert_ptr_nonnull(csrf_refusal("127.0.0.1:9001", "http://127.0.0.1:9001/x", NULL, "text/xml"));
        ck_assert_ptr_nonnull(csrf_refusal("127.0.0.1:9001", "http://127.0.0.1:9001", "cross-site", "text/xml"));
        ck_assert_ptr_nonnull(csrf_refusal("127.0.0.1:9001", "http://127.0.0.1:9001", "same-site", "text/xml"));
        /* What a form can send, whatever else. */
        ck_assert_ptr_nonnull(csrf_refusal("h", NULL, NULL, "text/plain"));
        ck_assert_ptr_nonnull(csrf_refusal("h", NULL, NULL, " Text/Plain ; charset=UTF-8"));
        ck_assert_ptr_nonnull(csrf_refusal("h", NULL, NULL, "application/x-www-form-urlencoded"));
        ck_assert_ptr_nonnull(csrf_refusal("h", NULL, NULL, "multipart/form-data; boundary=x"));
        ck_assert_ptr_nonnull(csrf_refusal("h", "http://h", "same-origin", "text/plain"));
        ck_assert_ptr_nonnull(csrf_refusal("h", NULL, NULL, "text/plain\t,x"));
        ck_assert_ptr_null(csrf_refusal("h", NULL, NULL, "text/plainer"));
}
END_TEST

/* ---- on the daemon ---- */

static unsigned free_port(void) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof sa;
        ck_assert(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0
                  && getsockname(fd, (struct sockaddr *)&sa, &len) == 0);
        close(fd);
        return ntohs(sa.sin_port);
}

static unsigned port;

/* REQUEST (printf format) on a new connection to the HTTP port; the whole answer (the
 * request says Connection: close) into OUT.  Returns the status code. */
__attribute__((format(printf, 3, 4))) static int http(char *out, size_t size, const char *format, ...) {
        char request[8192];
        va_list ap;
        va_start(ap, format);
        int n = vsnprintf(request, sizeof request, format, ap);
        va_end(ap);
        ck_assert(n > 0 && (size_t)n < sizeof request);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        ck_assert(fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
        ck_assert_int_eq(write(fd, request, (size_t)n), n);
        size_t len = 0;
        for (ssize_t r; len < size - 1 && (r = read(fd, out + len, size - 1 - len)) > 0;)
                len += (size_t)r;
        out[len] = '\0';
        close(fd);
        int status = 0;
        ck_assert_msg(sscanf(out, "HTTP/1.%*d %d", &status) == 1, "no status line: %s", out);
        return status;
}

static const char *body_of(const char *answer) {
        const char *p = strstr(answer, "\r\n\r\n");
        return p ? p + 4 : "";
}

/* A POST of BODY to /RPC2 with the extra header lines HEADERS. */
static int post(char *out, size_t size, const char *headers, const char *body) {
        return http(out, size,
                    "POST /RPC2 HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nConnection: close\r\n%s"
                    "Content-Length: %zu\r\n\r\n%s",
                    port, headers, strlen(body), body);
}

static const char stop_web[] = "<?xml version=\"1.0\"?><methodCall><methodName>supervisor.stopProcess</methodName>"
                               "<params><param><value><string>web</string></value></param></params></methodCall>";

static void start_daemon(struct daemon *d, bool auth) {
        daemon_init(d);
        port = free_port();
        daemon_write_config(d,
                            "http-listen = \"127.0.0.1:%u\"\n%s"
                            "service web {\n command = \"sleep 1000\"\n start-secs = 0.2\n}\n"
                            "service hb {\n command = \"%s\"\n heartbeat-interval = 0.2\n start-secs = 0.2\n}\n",
                            port,
                            auth ? "http-username = \"admin\"\nhttp-password = \"secret\"\n" : "",
                            heartbeat_helper_path());
        daemon_start(d);
        ck_assert(wait_for_state(d, "web", "RUNNING", SOON_MS));
}

/* supervisord's URLs and the page's files, with the headers that keep it to itself. */
START_TEST(test_page_served) {
        struct daemon d;
        start_daemon(&d, false);
        static char out[1 << 17], file[1 << 17];
        static const struct {
                const char *url, *file, *type;
        } pages[] = {
                { "/", "index.html", "text/html" },
                { "/index.html", "index.html", "text/html" },
                { "/tail.html", "tail.html", "text/html" },
                { "/supervisord.css", "supervisord.css", "text/css" },
                { "/supervisord.js", "supervisord.js", "text/javascript" },
        };
        for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++) {
                /* The query of supervisord's links is the script's: the same page. */
                int status = http(out, sizeof out, "GET %s%s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                                  pages[i].url, i == 1 ? "?processname=web&action=stop" : "");
                ck_assert_msg(status == 200, "%s: %d %.2000s", pages[i].url, status, out);
                char header[128];
                snprintf(header, sizeof header, "Content-Type: %s; charset=utf-8\r\n", pages[i].type);
                ck_assert_msg(strstr(out, header), "%s: %.2000s", pages[i].url, out);
                ck_assert(strstr(out, "frame-ancestors 'none'") && strstr(out, "script-src 'self'"));
                ck_assert(strstr(out, "X-Content-Type-Options: nosniff\r\n"));
                /* The bytes of the source tree's file, embedded at build time. */
                char path[256];
                snprintf(path, sizeof path, "supervisord/http/web/%s", pages[i].file);
                ck_assert_msg(read_text_file(path, file, sizeof file) > 0, "%s (run from the source tree)", path);
                ck_assert_msg(strcmp(body_of(out), file) == 0, "%s is not %s as in the tree", pages[i].url, path);
        }
        /* The page acted on nothing. */
        ck_assert_str_eq(service_state_of(&d, "web", file, sizeof file), "RUNNING");
        ck_assert_int_eq(http(out, sizeof out, "HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), 200);
        ck_assert_str_eq(body_of(out), "");
        ck_assert_int_eq(http(out, sizeof out, "GET /nothing.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), 404);
        ck_assert_int_eq(http(out, sizeof out, "POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"), 404);
        daemon_stop(&d, SOON_MS);
        daemon_cleanup(&d);
}
END_TEST

START_TEST(test_page_under_auth) {
        struct daemon d;
        start_daemon(&d, true);
        static char out[1 << 17];
        ck_assert_int_eq(http(out, sizeof out, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), 401);
        ck_assert_ptr_null(strstr(out, "<html"));
        ck_assert_int_eq(http(out, sizeof out, "GET /supervisord.js HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), 401);
        /* admin:secret */
        ck_assert_int_eq(http(out, sizeof out,
                              "GET / HTTP/1.1\r\nHost: x\r\nAuthorization: Basic YWRtaW46c2VjcmV0\r\nConnection: close\r\n\r\n"),
                         200);
        ck_assert_ptr_nonnull(strstr(out, "<script src=\"supervisord.js\">"));
        daemon_stop(&d, SOON_MS);
        daemon_cleanup(&d);
}
END_TEST

/* What a page of another site can make a browser send is refused; the service runs on;
 * Python's supervisorctl and a plain XML-RPC POST act as before. */
START_TEST(test_cross_site_posts_refused) {
        struct daemon d;
        start_daemon(&d, false);
        pid_t web = service_pid_of(&d, "web");
        ck_assert(web > 0);
        static char out[1 << 16];
        static const char *const refused[] = {
                "Content-Type: text/xml\r\nOrigin: http://evil.example\r\n",
                "Content-Type: text/xml\r\nOrigin: null\r\n",
                "Content-Type: text/xml\r\nSec-Fetch-Site: cross-site\r\nOrigin: http://evil.example\r\n",
                "Content-Type: text/xml\r\nSec-Fetch-Site: same-site\r\n",
                "Content-Type: text/plain\r\n",
                "Content-Type: application/x-www-form-urlencoded\r\n",
                "Content-Type: multipart/form-data; boundary=b\r\n",
        };
        for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
                int status = post(out, sizeof out, refused[i], stop_web);
                ck_assert_msg(status == 403
                                      && (strstr(body_of(out), "cannot call XML-RPC")
                                          || strstr(body_of(out), "form's Content-Type")),
                              "%s-> %d %s", refused[i], status, out);
                ck_assert_msg(process_exists(web), "%s stopped web", refused[i]);
        }
        char state[64];
        ck_assert_str_eq(service_state_of(&d, "web", state, sizeof state), "RUNNING");
        ck_assert_int_eq(service_pid_of(&d, "web"), web);
        /* Python's supervisorctl, unchanged. */
        char url[64], ctl_out[4096];
        snprintf(url, sizeof url, "http://127.0.0.1:%u", port);
        char *argv[] = { "/usr/bin/supervisorctl", "-s", url, "status", "web", NULL };
        int r = run_capture(argv, ctl_out, sizeof ctl_out);
        ck_assert_msg(r == 0 && strstr(ctl_out, "RUNNING"), "supervisorctl: %d %s", r, ctl_out);
        /* The page's own call: same origin, text/xml. */
        char headers[256];
        snprintf(headers, sizeof headers, "Content-Type: text/xml\r\nOrigin: http://127.0.0.1:%u\r\nSec-Fetch-Site: same-origin\r\n", port);
        ck_assert_int_eq(post(out, sizeof out, headers, stop_web), 200);
        ck_assert_msg(strstr(body_of(out), "<boolean>1</boolean>"), "%s", out);
        ASSERT_WITHIN(!process_exists(web), SOON_MS);
        daemon_stop(&d, SOON_MS);
        daemon_cleanup(&d);
}
END_TEST

/* The round trip of the last heartbeat, for the page: only where there is one. */
START_TEST(test_heartbeat_rtt_in_process_info) {
        struct daemon d;
        start_daemon(&d, false);
        ck_assert(wait_for_state(&d, "hb", "RUNNING", SOON_MS));
        static char out[1 << 16];
#define INFO_OF(name)                                                                                       \
        "<?xml version=\"1.0\"?><methodCall><methodName>supervisor.getProcessInfo</methodName><params><param>" \
        "<value><string>" name "</string></value></param></params></methodCall>"
        const char *body = INFO_OF("hb");
        /* The first pong comes one interval (0.2 s) after the start. */
        ASSERT_WITHIN_MSG(post(out, sizeof out, "Content-Type: text/xml\r\n", body) == 200
                                  && strstr(out, "<name>heartbeat_rtt_usec</name>\n<value><int>"),
                          SOON_MS, "%.4000s", out);
        body = INFO_OF("web");
        ck_assert_int_eq(post(out, sizeof out, "Content-Type: text/xml\r\n", body), 200);
        ck_assert_ptr_nonnull(strstr(out, "<name>description</name>"));
        ck_assert_ptr_null(strstr(out, "heartbeat_rtt_usec"));
        daemon_stop(&d, SOON_MS);
        daemon_cleanup(&d);
}
END_TEST

static Suite *web_suite(void) {
        Suite *s = suite_create("web");
        TCase *unit = tcase_create("csrf");
        tcase_add_test(unit, test_csrf_rules);
        suite_add_tcase(s, unit);
        TCase *tc = tcase_create("daemon");
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, test_page_served);
        tcase_add_test(tc, test_page_under_auth);
        tcase_add_test(tc, test_cross_site_posts_refused);
        tcase_add_test(tc, test_heartbeat_rtt_in_process_info);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) { return run_suite(web_suite()) ? 1 : 0; }
