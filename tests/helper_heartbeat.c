/* helper_heartbeat.c — the example C service of supervisord/heartbeat_client.h, run by
 * the heartbeat tests (and conf/heartbeat.conf): it waits on its ping fd and answers every
 * ping, as a real service would from its main loop.  Without heartbeats it just waits.
 * It exits 0 on SIGTERM, 1 if supervisord goes away. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "heartbeat_client.h"

static volatile sig_atomic_t terminated;

static void on_term(int sig) {
        (void)sig;
        terminated = 1;
}

int main(void) {
        struct heartbeat_client hb;
        struct sigaction sa = { .sa_handler = on_term };
        sigaction(SIGTERM, &sa, NULL);

        int r = heartbeat_client_init(&hb);
        if (r < 0 && r != -ENOENT) {
                fprintf(stderr, "heartbeat: %d\n", r);
                return 1;
        }
        struct pollfd p = { .fd = heartbeat_client_fd(&hb), .events = POLLIN };
        while (!terminated) {
                /* A real service would watch its own fds here as well. */
                if (poll(&p, 1, 1000) < 0 && errno != EINTR)
                        return 1;
                if (p.revents && heartbeat_client_answer(&hb) == -EPIPE)
                        return 1;
        }
        return 0;
}
