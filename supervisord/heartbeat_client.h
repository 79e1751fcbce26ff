/* heartbeat_client.h — answer supervisord's heartbeats from a C service.  One header, no
 * library, no allocation, never blocks; copy it into your project (public domain).
 *
 * With heartbeat-interval set, supervisord writes "PING <seq>\n" on the fd named by
 * SUPERVISOR_PING_FD (3) and expects "PONG <seq>\n" on SUPERVISOR_PONG_FD (4) within
 * heartbeat-timeout; see supervisord(8), HEARTBEATS.  Answer from the loop that does the
 * service's real work, so that a hung loop stops answering:
 *
 *     struct heartbeat_client hb;
 *     heartbeat_client_init(&hb);                 // -ENOENT: no heartbeats configured
 *     struct pollfd p = { .fd = heartbeat_client_fd(&hb), .events = POLLIN };
 *     for (;;) {
 *             poll(&p, 1, ...);                    // plus your own fds (fd -1 is ignored)
 *             if (p.revents && heartbeat_client_answer(&hb) == -EPIPE)
 *                     break;                       // supervisord is gone
 *             ... your work ...
 *     }
 *
 * heartbeat_client_init() makes both fds non-blocking (their file descriptions are shared
 * with any child that inherited them). */
#ifndef SUPERVISORD_HEARTBEAT_CLIENT_H
#define SUPERVISORD_HEARTBEAT_CLIENT_H

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct heartbeat_client {
        int ping_fd;    /* read pings here; -1 without heartbeats (not owned: inherited) */
        int pong_fd;    /* write pongs here; -1 without heartbeats */
        char line[64];  /* a ping line read in part */
        size_t len;
        int discarding; /* the line grew too long: skip to its newline */
};

static inline int heartbeat_client_env_fd_(const char *name) {
        const char *text = getenv(name);
        char *end;
        if (!text || !*text)
                return -1;
        long fd = strtol(text, &end, 10);
        return *end || fd < 0 || fd > 65535 ? -1 : (int)fd;
}

/* Take the fds from SUPERVISOR_PING_FD and SUPERVISOR_PONG_FD.  0, or -ENOENT when they
 * are not set (no heartbeats: the client does nothing), or a negative errno. */
static inline int heartbeat_client_init(struct heartbeat_client *c) {
        memset(c, 0, sizeof *c);
        c->ping_fd = heartbeat_client_env_fd_("SUPERVISOR_PING_FD");
        c->pong_fd = heartbeat_client_env_fd_("SUPERVISOR_PONG_FD");
        if (c->ping_fd < 0 || c->pong_fd < 0) {
                c->ping_fd = c->pong_fd = -1;
                return -ENOENT;
        }
        for (int i = 0; i < 2; i++) {
                int fd = i ? c->pong_fd : c->ping_fd;
                int flags = fcntl(fd, F_GETFL);
                if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
                        return -errno;
        }
        return 0;
}

/* The fd to watch for POLLIN/EPOLLIN; -1 without heartbeats. */
static inline int heartbeat_client_fd(const struct heartbeat_client *c) { return c->ping_fd; }

/* Read the pings that are there and answer each.  Returns how many were answered (0 if
 * none were waiting), -EPIPE once supervisord has closed its end, or another negative
 * errno.  A pong that does not fit in the pipe is dropped: supervisord counts a miss. */
static inline int heartbeat_client_answer(struct heartbeat_client *c) {
        int answered = 0;
        if (c->ping_fd < 0)
                return 0;
        for (;;) {
                char buf[256];
                ssize_t n = read(c->ping_fd, buf, sizeof buf);
                if (n < 0)
                        return errno == EAGAIN || errno == EINTR ? answered : -errno;
                if (n == 0)
                        return -EPIPE;
                for (ssize_t i = 0; i < n; i++) {
                        if (buf[i] != '\n') {
                                if (c->len == sizeof c->line)
                                        c->discarding = 1;
                                else if (!c->discarding)
                                        c->line[c->len++] = buf[i];
                                continue;
                        }
                        /* "PING <seq>" becomes "PONG <seq>\n": same sequence number. */
                        if (!c->discarding && c->len > 5 && c->len < sizeof c->line
                            && memcmp(c->line, "PING ", 5) == 0) {
                                c->line[1] = 'O';
                                c->line[c->len] = '\n';
                                ssize_t w = write(c->pong_fd, c->line, c->len + 1);
                                if (w < 0 && errno == EPIPE)
                                        return -EPIPE;
                                if (w == (ssize_t)c->len + 1)
                                        answered++;
                        }
                        c->len = 0;
                        c->discarding = 0;
                }
        }
}

#endif
