/*
 * deadlines: see deadlines.h. The timer itself (arming, the pass's transaction, map
 * growth, flushing the feeds) is passtimer's, shared with the alert timer; this is what
 * the deadline pass reads and does.
 */
#include "deadlines.h"

#include <stdlib.h>

#include "passtimer.h"

struct deadlines {
    taskdb_t *db;
    cases_t *cases;
    passtimer_t *timer;
};

static int next_due(void *arg, int64_t now, int64_t *due)
{
    deadlines_t *self = arg;
    (void)now;
    return taskdb_next_deadline(self->db, due);
}

static int pass(void *arg, int64_t now)
{
    deadlines_t *self = arg;
    return cases_take_deadlines(self->cases, now);
}

deadlines_t *deadlines_new(struct event_base *base, store_t *store, taskdb_t *db, cases_t *cases)
{
    deadlines_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->db = db, self->cases = cases;
    self->timer = passtimer_new(base, store, "deadline", NULL, next_due, pass, self);
    if (!self->timer) {
        free(self);
        return NULL;
    }
    return self;
}

void deadlines_destroy(deadlines_t **self_p)
{
    deadlines_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    passtimer_destroy(&self->timer);
    free(self);
    *self_p = NULL;
}

void deadlines_also_feed(deadlines_t *self, feed_t *feed)
{
    passtimer_also_feed(self->timer, feed);
}

void deadlines_arm(deadlines_t *self)
{
    passtimer_arm(self->timer);
}
