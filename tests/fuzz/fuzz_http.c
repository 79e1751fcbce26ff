/* fuzz_http.c — the HTTP front-end's whole request path on arbitrary bytes: what a client
 * sends, as supervisord-http serves it (supervisord/http/main.c, included here whole:
 * libmicrohttpd, Basic auth, the dispatch, rpc.c's methods, the control connections on
 * its channel), with supervisord faked on the channel's other end.
 *
 * The input is the bytes of one client connection, then optionally a line "#REPLIES"
 * and the text every control request gets as its answer (else a plausible answer of the
 * verb's).  The client sends the bytes, closes its side and reads.  Beyond "no crash, no
 * leak" it checks what every client relies on: what comes back is HTTP, an XML-RPC
 * answer's body is well-formed XML, and once the client has gone nothing is left of it
 * (no connection, no control request). */
#include <errno.h>
#include <expat.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz.h"

int supervisord_http_main(void);
#define main supervisord_http_main
#include "http/main.c"
#undef main

#define MAX_ROUNDS 5000   /* loop rounds an input may take: far beyond what one needs */
#define MAX_CONTROL 64    /* control connections open at once */

static int supervisord_end = -1;  /* the channel, supervisord's side */

/* A control connection that supervisord would serve: the request line read, the
 * answer written. */
struct control {
        int fd;
        char request[PROTOCOL_MAX_REQUEST + 1];
        size_t len;
        bool answered;
};
static struct control controls[MAX_CONTROL];
static size_t n_controls;
static const char *reply_text;  /* from the input, or NULL */
static size_t reply_len;

static void setup(void) {
        int pair[2];
        signal(SIGPIPE, SIG_IGN);
        FUZZ_ASSERT(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, pair) == 0);
        channel_fd = pair[0];
        supervisord_end = pair[1];
        adopting = start_daemon(-1);
        daemons[2] = adopting;
        FUZZ_ASSERT(serve_setup() == 0);
}

/* The answer of a line-protocol request, as supervisord words it for the verb. */
static const char *canned_answer(const char *request) {
        static const struct {
                const char *verb, *answer;
        } answers[] = {
                { "status", "STATUS\tweb\tRUNNING\t4242\t61\t-\t0\t-\t-\t-\t-\t-\tweb\t1700000000\t0\t-\t/tmp/web.log\t-\n"
                            "STATUS\tidle\tFATAL\t0\t0\texit 1\t3\tgave up\t-\t-\t-\t-\tidle\t1700000000\t1700000005\t"
                            "exec: No such file\t-\t-\n"
                            "STATUS\tw@1\tSTOPPED\t0\t0\tsignal 9\t0\t-\t-\t1700000009\t-\t-\tw\t0\t0\t-\t-\t-\nOK\n" },
                { "pid", "PID\t4242\nOK\n" },
                { "version", "VERSION\t0.1.0\nOK\n" },
                { "start", "RESULT\tweb\tok\tstarted\tok\nRESULT\tidle\terror\tspawn failed\tspawn-error\nOK\n" },
                { "stop", "RESULT\tweb\terror\tnot running\talready\nERROR\t1\tsome failed\n" },
                { "signal", "RESULT\tweb\tok\tsignalled\tok\nOK\n" },
                { "readlog", "LOGSIZE\t6\nDATA\t6\nhello\n\nOK\n" },
                { "reread", "ADDED\tnew\nCHANGED\tweb\nREMOVED\told\nOK\n" },
                { "stdin", "RESULT\tweb\terror\tnot running\tnot-running\nERROR\t3\tweb: not running\n" },
                { "tail", "DATA\t3\nabcOK\n" },
                { "clear", "RESULT\tweb\tok\tcleared\nOK\n" },
                { "shutdown", "ERROR\t1\tshutting down\n" },
        };
        for (size_t i = 0; i < ELEMENTSOF(answers); i++) {
                size_t n = strlen(answers[i].verb);
                if (strncmp(request, answers[i].verb, n) == 0 && (request[n] == ' ' || request[n] == '\n'))
                        return answers[i].answer;
        }
        return "OK\n";
}

/* What supervisord does on its side: a connection for each request of one, and an
 * answer on each connection once its line is in. */
static void supervisord_step(void) {
        char byte;
        while (recv(supervisord_end, &byte, 1, MSG_DONTWAIT) == 1) {
                FUZZ_ASSERT(byte == HTTPD_MSG_CONNECT);
                int pair[2] = { -1, -1 };
                bool ok = n_controls < MAX_CONTROL && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, pair) == 0;
                char control[CMSG_SPACE(sizeof(int))] = { 0 };
                struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
                struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
                if (ok) {
                        msg.msg_control = control;
                        msg.msg_controllen = sizeof control;
                        struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
                        cm->cmsg_level = SOL_SOCKET;
                        cm->cmsg_type = SCM_RIGHTS;
                        cm->cmsg_len = CMSG_LEN(sizeof(int));
                        memcpy(CMSG_DATA(cm), &pair[1], sizeof(int));
                }
                /* No descriptor: supervisord could not make one, which the front-end takes. */
                FUZZ_ASSERT(sendmsg(supervisord_end, &msg, MSG_NOSIGNAL) == 1);
                if (ok) {
                        close(pair[1]);
                        controls[n_controls++] = (struct control){ .fd = pair[0] };
                }
        }
        for (size_t i = 0; i < n_controls;) {
                struct control *c = &controls[i];
                ssize_t n = read(c->fd, c->request + c->len, sizeof c->request - 1 - c->len);
                if (n > 0)
                        c->len += (size_t)n;
                c->request[c->len] = '\0';
                bool line = memchr(c->request, '\n', c->len) != NULL;
                if (line || n == 0 || c->len == sizeof c->request - 1) {
                        /* A request is one line the front-end made: never more than the limit. */
                        FUZZ_ASSERT(line);
                        const char *answer = reply_text ? reply_text : canned_answer(c->request);
                        size_t len = reply_text ? reply_len : strlen(answer);
                        if (len > 0)
                                (void)!write(c->fd, answer, len);
                        close(c->fd);
                        controls[i] = controls[--n_controls];
                        continue;
                }
                i++;
        }
}

static void assert_well_formed(const char *body, size_t length) {
        XML_Parser p = XML_ParserCreate(NULL);
        FUZZ_ASSERT(p);
        FUZZ_ASSERT(XML_Parse(p, body, (int)length, XML_TRUE) == XML_STATUS_OK);
        XML_ParserFree(p);
}

/* The first response of OUT: HTTP, and XML-RPC's well-formed. */
static void check_response(const char *out, size_t len) {
        if (len == 0)
                return;  /* closed without an answer: a request it could not read */
        FUZZ_ASSERT(len >= 12 && memcmp(out, "HTTP/1.", 7) == 0);
        const char *end = memmem(out, len, "\r\n\r\n", 4);
        if (!end || memcmp(out + 9, "200", 3) != 0)
                return;
        size_t head = (size_t)(end - out) + 4;
        char *headers = strndup(out, head);
        FUZZ_ASSERT(headers);
        const char *cl = strcasestr(headers, "\r\nContent-Length: ");
        bool xml = strcasestr(headers, "\r\nContent-Type: text/xml") != NULL;
        if (xml && cl) {
                size_t body = strtoul(cl + 18, NULL, 10);
                /* A HEAD request gets the headers alone. */
                if (head + body <= len)
                        assert_well_formed(out + head, body);
        }
        free(headers);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (supervisord_end < 0)
                setup();
        static const char marker[] = "\n#REPLIES\n";
        const char *split = memmem(data, size, marker, sizeof marker - 1);
        size_t request_len = split ? (size_t)(split - (const char *)data) : size;
        reply_text = split ? split + sizeof marker - 1 : NULL;
        reply_len = split ? size - request_len - (sizeof marker - 1) : 0;
        /* Basic auth asked for, or not, by the input's first byte. */
        static char user[] = "admin", password[] = "{SHA}e5e9fa1ba31ecd1ae84f75caaa474f3a663f05f4";
        auth_username = size > 0 && (data[0] & 1) ? user : NULL;
        auth_password = password;
        /* supervisord shutting down, or not, by its second bit. */
        rpc_set_shutting_down(size > 0 && (data[0] & 2));

        int pair[2];
        FUZZ_ASSERT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, pair) == 0);
        int client = pair[0];
        adopt(pair[1]);
        size_t sent = 0, got = 0, out_size = 1 << 16;
        char *out = malloc(out_size);
        FUZZ_ASSERT(out);
        bool ended = false;
        for (int round = 0; round < MAX_ROUNDS && !ended; round++) {
                if (sent < request_len) {
                        ssize_t n = send(client, data + sent, request_len - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
                        if (n > 0)
                                sent += (size_t)n;
                        else if (n < 0 && errno != EAGAIN)
                                sent = request_len;  /* the server closed: it read enough */
                        if (sent == request_len)
                                shutdown(client, SHUT_WR);
                } else if (request_len == 0 && round == 0)
                        shutdown(client, SHUT_WR);
                FUZZ_ASSERT(serve_step(0) == 0);
                supervisord_step();
                for (;;) {
                        /* What the first 64 KiB are checked for; the rest is drained. */
                        char drain[4096];
                        ssize_t n = got < out_size ? recv(client, out + got, out_size - got, MSG_DONTWAIT)
                                                   : recv(client, drain, sizeof drain, MSG_DONTWAIT);
                        if (n > 0) {
                                if (got < out_size)
                                        got += (size_t)n;
                                continue;
                        }
                        if (n == 0 || (errno != EAGAIN && errno != EINTR))
                                ended = true;
                        break;
                }
        }
        if (getenv("FUZZ_HTTP_DEBUG"))
                fprintf(stderr, "ended %d, %zu bytes: %.*s\n", ended, got, (int)got, out);
        /* A request cut short waits for the rest (until the server's timeout): the
         * client's leaving must end it. */
        check_response(out, got);
        free(out);
        close(client);
        const union MHD_DaemonInfo *info = NULL;
        for (int round = 0; round < MAX_ROUNDS; round++) {
                FUZZ_ASSERT(serve_step(0) == 0);
                supervisord_step();
                info = MHD_get_daemon_info(adopting, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);
                if (n_controls == 0 && info && info->num_connections == 0)
                        break;
        }
        /* Nothing is left of a client gone: no connection, no control request. */
        FUZZ_ASSERT(n_controls == 0);
        FUZZ_ASSERT(info && info->num_connections == 0);
        return 0;
}
