/*
 * alerttimer: see alerttimer.h.
 */
#include "alerttimer.h"

#include <stdlib.h>

#include "clock.h"
#include "log.h"

/* Never sleep longer than this: the wall clock may be set forward under us. */
#define MAX_SLEEP_MS 60000
#define RETRY_MS 1000

struct alerttimer {
    store_t *store;
    alerts_t *alerts;
    feed_t *feed;
    struct event *timer;
};

static void arm_in(alerttimer_t *self, int64_t ms)
{
    if (ms < 0)
        ms = 0;
    if (ms > MAX_SLEEP_MS)
        ms = MAX_SLEEP_MS;
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000)};
    evtimer_add(self->timer, &tv);
}

void alerttimer_arm(alerttimer_t *self)
{
    int64_t now = clock_now();
    arm_in(self, alerts_next_due(self->alerts, now) - now);
}

/* One pass: take what is due, commit, publish. Grows the map when it is full. */
static store_rc_t run(alerttimer_t *self)
{
    store_rc_t rc;
    for (;;) {
        if ((rc = store_begin(self->store)) != STORE_OK)
            return rc;
        if (alerts_take_due(self->alerts, clock_now()) < 0) {
            rc = store_last_failure(self->store);
            store_abort(self->store);
        } else {
            rc = store_commit(self->store);
        }
        if (rc != STORE_FULL || store_grow(self->store) < 0)
            return rc;
        feed_discard(self->feed);
    }
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    alerttimer_t *self = arg;
    (void)fd, (void)what;
    if (run(self) != STORE_OK) {
        feed_discard(self->feed);
        log_error("msg=\"alert pass failed, retrying\" reason=\"%s\"", store_error(self->store));
        arm_in(self, RETRY_MS);
        return;
    }
    feed_flush(self->feed);
    alerttimer_arm(self);
}

alerttimer_t *alerttimer_new(struct event_base *base, store_t *store, alerts_t *alerts,
                             feed_t *feed)
{
    alerttimer_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->store = store, self->alerts = alerts, self->feed = feed;
    self->timer = evtimer_new(base, on_timer, self);
    if (!self->timer) {
        free(self);
        return NULL;
    }
    alerttimer_arm(self);
    return self;
}

void alerttimer_destroy(alerttimer_t **self_p)
{
    alerttimer_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    event_free(self->timer);
    free(self);
    *self_p = NULL;
}
