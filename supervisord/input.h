/* input.h — a service process's stdin pipe, as supervisord gives one (`stdin = pipe`):
 * what sendProcessStdin and the protocol's `stdin` verb write to it.
 *
 * supervisord holds the write end, non-blocking.  A write goes to the pipe at once as
 * far as the pipe takes it; the rest waits in a buffer of at most INPUT_MAX_PENDING bytes,
 * written as the pipe drains (EPOLLOUT), so that a process that does not read never holds
 * the loop and never makes supervisord's memory grow without bound.  Once the process
 * closes its end (or exits), the pipe is closed and a write says so (-EPIPE). */
#pragma once

#include <stddef.h>
#include <systemd/sd-event.h>

#define INPUT_MAX_PENDING (64u * 1024)

struct input;

/* Before a spawn: the pipe, the child's end (for its fd 0) in *ret_child_fd, borrowed
 * until input_spawned(). */
int input_new(sd_event *event, struct input **ret, int *ret_child_fd);
/* After the spawn, whether or not it worked: the child's end is closed.  NULL is fine. */
void input_spawned(struct input *input);
/* Write LEN bytes of DATA: 0 when all were written or kept to be written; -EPIPE when
 * the reader is gone; -ENOBUFS when they do not fit beside what is still waiting
 * (nothing is taken then). */
int input_write(struct input *input, const void *data, size_t len);
/* Everything, the pipe closed (the process sees end of file).  Returns NULL. */
struct input *input_free(struct input *input);
