/*
 * zwatch: see zwatch.h for why ZMQ_FD needs a ZMQ_EVENTS check after every wake-up.
 */
#include "zwatch.h"

#include <stdlib.h>
#include <zmq.h>

struct zwatch {
    void *sock;
    zwatch_fn *fn;
    void *arg;
    struct event *fd_ev;  /* ZMQ_FD readable */
    struct event *run_ev; /* scheduled by zwatch_kick */
    bool paused;
};

bool zwatch_readable(zwatch_t *self)
{
    int events = 0;
    size_t len = sizeof events;
    if (zmq_getsockopt(self->sock, ZMQ_EVENTS, &events, &len) < 0)
        return false;
    return (events & ZMQ_POLLIN) != 0;
}

static void on_ready(evutil_socket_t fd, short what, void *arg)
{
    zwatch_t *self = arg;
    (void)fd, (void)what;
    if (!self->paused && zwatch_readable(self))
        self->fn(self->sock, self->arg);
}

zwatch_t *zwatch_new(struct event_base *base, void *sock, zwatch_fn *fn, void *arg)
{
    zwatch_t *self = calloc(1, sizeof *self);
    int fd;
    size_t len = sizeof fd;
    if (!self || zmq_getsockopt(sock, ZMQ_FD, &fd, &len) < 0)
        goto fail;
    self->sock = sock, self->fn = fn, self->arg = arg;
    self->fd_ev = event_new(base, fd, EV_READ | EV_PERSIST, on_ready, self);
    self->run_ev = event_new(base, -1, 0, on_ready, self);
    if (!self->fd_ev || !self->run_ev || event_add(self->fd_ev, NULL) < 0)
        goto fail;
    /* Input may have queued before the fd was watched. */
    zwatch_kick(self);
    return self;
fail:
    zwatch_destroy(&self);
    return NULL;
}

void zwatch_destroy(zwatch_t **self_p)
{
    zwatch_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    if (self->fd_ev)
        event_free(self->fd_ev);
    if (self->run_ev)
        event_free(self->run_ev);
    free(self);
    *self_p = NULL;
}

void zwatch_kick(zwatch_t *self)
{
    if (!self->paused && zwatch_readable(self))
        event_active(self->run_ev, EV_READ, 0);
}

void zwatch_pause(zwatch_t *self, bool paused)
{
    if (paused == self->paused)
        return;
    self->paused = paused;
    if (paused) {
        event_del(self->fd_ev);
        event_del(self->run_ev);
    } else {
        event_add(self->fd_ev, NULL);
        zwatch_kick(self);
    }
}
