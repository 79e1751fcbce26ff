/* input.c — see input.h. */
#include "input.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct input {
        int fd;                  /* owned: our end, non-blocking; -1 once the reader is gone */
        int child_fd;            /* owned until input_spawned(): the child's end */
        sd_event_source *watch;  /* owned: EPOLLOUT while bytes wait */
        char *pending;           /* owned: INPUT_MAX_PENDING bytes, allocated on the first wait */
        size_t start, len;       /* what waits: pending[start, start + len) */
};

/* The reader is gone: nothing more can be written, and what waited is dropped. */
static void input_close(struct input *in) {
        in->watch = sd_event_source_disable_unref(in->watch);
        if (in->fd >= 0)
                close(in->fd);
        in->fd = -1;
        in->start = in->len = 0;
}

/* Write as much as the pipe takes: 0, or -EPIPE. */
static int input_flush(struct input *in) {
        while (in->len > 0) {
                ssize_t n = write(in->fd, in->pending + in->start, in->len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                break;
                        input_close(in);
                        return -EPIPE;
                }
                in->start += (size_t)n;
                in->len -= (size_t)n;
        }
        if (in->len == 0)
                in->start = 0;
        if (in->watch)
                sd_event_source_set_enabled(in->watch, in->len > 0 ? SD_EVENT_ON : SD_EVENT_OFF);
        return 0;
}

static int input_on_writable(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        (void)source;
        (void)fd;
        struct input *in = userdata;
        if (revents & EPOLLERR) {
                input_close(in);
                return 0;
        }
        (void)input_flush(in);
        return 0;
}

int input_new(sd_event *event, struct input **ret, int *ret_child_fd) {
        int fds[2];
        /* O_NONBLOCK on our end only: the child's end is another open file description. */
        if (pipe2(fds, O_CLOEXEC) < 0)
                return -errno;
        struct input *in = calloc(1, sizeof *in);
        if (!in || fcntl(fds[1], F_SETFL, O_NONBLOCK) < 0) {
                int e = in ? errno : ENOMEM;
                free(in);
                close(fds[0]);
                close(fds[1]);
                return -e;
        }
        in->fd = fds[1];
        in->child_fd = fds[0];
        int r = sd_event_add_io(event, &in->watch, in->fd, EPOLLOUT, input_on_writable, in);
        if (r < 0) {
                input_free(in);
                return r;
        }
        sd_event_source_set_enabled(in->watch, SD_EVENT_OFF);
        *ret = in;
        *ret_child_fd = in->child_fd;
        return 0;
}

void input_spawned(struct input *in) {
        if (in && in->child_fd >= 0) {
                close(in->child_fd);
                in->child_fd = -1;
        }
}

int input_write(struct input *in, const void *data, size_t len) {
        if (in->fd < 0)
                return -EPIPE;
        if (len > INPUT_MAX_PENDING - in->len)
                return -ENOBUFS;
        if (len == 0)
                return 0;
        size_t done = 0;
        if (in->len == 0) {
                /* Nothing waits: straight to the pipe, the order kept. */
                while (done < len) {
                        ssize_t n = write(in->fd, (const char *)data + done, len - done);
                        if (n < 0) {
                                if (errno == EINTR)
                                        continue;
                                if (errno == EAGAIN)
                                        break;
                                input_close(in);
                                return -EPIPE;
                        }
                        done += (size_t)n;
                }
                if (done == len)
                        return 0;
        }
        if (!in->pending && !(in->pending = malloc(INPUT_MAX_PENDING)))
                return -ENOMEM;
        if (in->start + in->len + (len - done) > INPUT_MAX_PENDING) {
                memmove(in->pending, in->pending + in->start, in->len);
                in->start = 0;
        }
        memcpy(in->pending + in->start + in->len, (const char *)data + done, len - done);
        in->len += len - done;
        sd_event_source_set_enabled(in->watch, SD_EVENT_ON);
        return 0;
}

struct input *input_free(struct input *in) {
        if (!in)
                return NULL;
        input_close(in);
        input_spawned(in);
        free(in->pending);
        free(in);
        return NULL;
}
