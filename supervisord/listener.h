/* listener.h — event listener pools: supervisord's eventlistener protocol, version 3.0.
 *
 * A service with `events` is a pool (its instances are the pool's processes).  listener.c
 * subscribes to the event bus, turns what it publishes into supervisord's event types
 * (eventtype.h), keeps each pool's buffer of events not yet taken (at most buffer-size,
 * the oldest dropped and logged), and hands the oldest to a RUNNING process of the pool
 * whose state is READY: the header and payload on its stdin, its answer ("READY\n",
 * "RESULT N\nOK" or FAIL) read from its stdout.  A rejected event, or one whose listener
 * died before answering, goes back to the head of the buffer.  Pipes are non-blocking
 * and every buffer is bounded: no listener can hold the loop.  It also keeps the one
 * TICK_* timer, armed only while some pool wants ticks. */
#pragma once

#include <stdint.h>
#include <systemd/sd-event.h>

#include "events.h"

struct service;
struct listener;  /* one process of a pool, owned by its service */

/* Before the services are created: pools are made as the bus announces their groups. */
int listeners_init(sd_event *event, struct event_bus *bus);
/* After every service is freed. */
void listeners_free(void);

/* REMOTE_COMMUNICATION (the control protocol's remote-event, XML-RPC's
 * sendRemoteCommEvent): "type:TYPE\nDATA" to every pool that subscribes. */
void listeners_remote_event(const char *type, const char *data, size_t len);

/* Before a spawn of SERVICE (a process of a pool): the pipes its stdin and stdout are, the
 * child's ends in *ret_stdin and *ret_stdout (borrowed until listener_spawned()). */
int listener_new(struct service *service, struct listener **ret, int *ret_stdin, int *ret_stdout);
/* After the spawn, whether or not it worked: the child's ends are closed.  NULL is fine. */
void listener_spawned(struct listener *listener);
/* For `status`: "listener READY, events: 0 buffered, 0 dropped, 12 taken, 1 rejected"
 * (the buffer and the drops are the pool's, the rest this process's).  Kept in
 * LISTENER, valid until the next call for it.  NULL for NULL. */
const char *listener_describe(struct listener *listener);
/* Its process is gone: an event it had not answered goes back to its pool.  Returns NULL. */
struct listener *listener_free(struct listener *listener);
