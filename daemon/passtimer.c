/*
 * passtimer: see passtimer.h.
 */
#include "passtimer.h"

#include <stdlib.h>

#include "clock.h"
#include "log.h"

/* Never sleep longer than this: the wall clock may be set forward under us. */
#define MAX_SLEEP_MS 60000
#define RETRY_MS 1000

struct passtimer {
    store_t *store;
    const char *name;
    feed_t *feeds[2]; /* the feeds the pass writes to (the task feed publishes itself) */
    size_t nfeeds;
    passtimer_due_fn due;
    passtimer_pass_fn pass;
    void *arg;
    struct event *timer;
};

static void arm_in(passtimer_t *self, int64_t ms)
{
    if (ms < 0)
        ms = 0;
    if (ms > MAX_SLEEP_MS)
        ms = MAX_SLEEP_MS;
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000)};
    evtimer_add(self->timer, &tv);
}

void passtimer_arm(passtimer_t *self)
{
    int64_t now = clock_now(), due;
    if (self->due(self->arg, now, &due) != 0) {
        evtimer_del(self->timer);
        return;
    }
    arm_in(self, due - now);
}

void passtimer_also_feed(passtimer_t *self, feed_t *feed)
{
    if (feed && self->nfeeds < sizeof self->feeds / sizeof self->feeds[0])
        self->feeds[self->nfeeds++] = feed;
}

static void discard(passtimer_t *self)
{
    for (size_t i = 0; i < self->nfeeds; i++)
        feed_discard(self->feeds[i]);
}

/* One pass: take what is due, commit. Grows the map when it is full and runs the pass
 * again: the aborted attempt's queued records are dropped, the new one queues its own. */
static store_rc_t run(passtimer_t *self)
{
    store_rc_t rc;
    for (;;) {
        if ((rc = store_begin(self->store)) != STORE_OK)
            return rc;
        if (self->pass(self->arg, clock_now()) < 0) {
            rc = store_last_failure(self->store);
            store_abort(self->store);
        } else {
            rc = store_commit(self->store);
        }
        if (rc != STORE_FULL || store_grow(self->store) < 0)
            return rc;
        discard(self);
    }
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    passtimer_t *self = arg;
    (void)fd, (void)what;
    if (run(self) != STORE_OK) {
        discard(self);
        log_error("msg=\"%s pass failed, retrying\" reason=\"%s\"", self->name,
                  store_error(self->store));
        arm_in(self, RETRY_MS);
        return;
    }
    for (size_t i = 0; i < self->nfeeds; i++)
        feed_flush(self->feeds[i]);
    passtimer_arm(self);
}

passtimer_t *passtimer_new(struct event_base *base, store_t *store, const char *name, feed_t *feed,
                           passtimer_due_fn due, passtimer_pass_fn pass, void *arg)
{
    passtimer_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->store = store, self->name = name;
    passtimer_also_feed(self, feed);
    self->due = due, self->pass = pass, self->arg = arg;
    self->timer = evtimer_new(base, on_timer, self);
    if (!self->timer) {
        free(self);
        return NULL;
    }
    passtimer_arm(self);
    return self;
}

void passtimer_destroy(passtimer_t **self_p)
{
    passtimer_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    event_free(self->timer);
    free(self);
    *self_p = NULL;
}
