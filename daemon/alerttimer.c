/*
 * alerttimer: see alerttimer.h. The timer itself (arming, the pass's transaction, map
 * growth, flushing the feed) is passtimer's, shared with the deadline timer; alerts knows
 * what is due and does it.
 */
#include "alerttimer.h"

#include <stdlib.h>

#include "passtimer.h"

struct alerttimer {
    passtimer_t *timer;
};

/* There is always a next instant: the next day's cut-off at the latest. */
static int next_due(void *arg, int64_t now, int64_t *due)
{
    *due = alerts_next_due(arg, now);
    return 0;
}

static int pass(void *arg, int64_t now)
{
    return alerts_take_due(arg, now);
}

alerttimer_t *alerttimer_new(struct event_base *base, store_t *store, alerts_t *alerts,
                             feed_t *feed)
{
    alerttimer_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->timer = passtimer_new(base, store, "alert", feed, next_due, pass, alerts);
    if (!self->timer) {
        free(self);
        return NULL;
    }
    return self;
}

void alerttimer_destroy(alerttimer_t **self_p)
{
    alerttimer_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    passtimer_destroy(&self->timer);
    free(self);
    *self_p = NULL;
}

void alerttimer_arm(alerttimer_t *self)
{
    passtimer_arm(self->timer);
}
