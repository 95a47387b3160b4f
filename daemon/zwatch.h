/*
 * zwatch: a ZeroMQ socket inside the libevent loop.
 *
 * ZMQ_FD only signals that the socket's state may have changed; it is edge-like, and
 * reading or sending on the socket can consume the signal. So the watcher never trusts
 * the fd alone: on every wake-up, and after every send (zwatch_kick), it asks
 * ZMQ_EVENTS and calls the reader while ZMQ_POLLIN is set. The reader takes at most its
 * budget and returns; a watcher that still has input waits for the next kick, which the
 * batch flush sends, so one busy socket cannot starve the others or the commit.
 */
#ifndef GB_ZWATCH_H
#define GB_ZWATCH_H

#include <event2/event.h>
#include <stdbool.h>

typedef struct zwatch zwatch_t;

/* Called when the socket has input; reads what it can take and returns. */
typedef void(zwatch_fn)(void *sock, void *arg);

zwatch_t *zwatch_new(struct event_base *base, void *sock, zwatch_fn *fn, void *arg);
void zwatch_destroy(zwatch_t **self_p);

/* Checks ZMQ_EVENTS now and schedules the reader when input is waiting. Call after sending
 * on the socket and whenever the reader can take input again. */
void zwatch_kick(zwatch_t *self);

/* A paused watcher neither polls its fd nor calls its reader: back-pressure while the
 * batch is full, and for good when the daemon stops reading at shutdown. */
void zwatch_pause(zwatch_t *self, bool paused);

/* True when ZMQ_EVENTS says the socket has input. */
bool zwatch_readable(zwatch_t *self);

#endif
