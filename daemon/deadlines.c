/*
 * deadlines: see deadlines.h.
 */
#include "deadlines.h"

#include <stdlib.h>

#include "clock.h"
#include "log.h"

/* Never sleep longer than this: the wall clock may be set forward under us. */
#define MAX_SLEEP_MS 60000
#define RETRY_MS 1000

struct deadlines {
    store_t *store;
    taskdb_t *db;
    cases_t *cases;
    feed_t *feed, *also; /* also: the alerts feed, or NULL */
    struct event *timer;
};

static void arm_in(deadlines_t *self, int64_t ms)
{
    if (ms < 0)
        ms = 0;
    if (ms > MAX_SLEEP_MS)
        ms = MAX_SLEEP_MS;
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000)};
    evtimer_add(self->timer, &tv);
}

void deadlines_arm(deadlines_t *self)
{
    int64_t due;
    if (taskdb_next_deadline(self->db, &due) != 0) {
        evtimer_del(self->timer);
        return;
    }
    arm_in(self, due - clock_now());
}

void deadlines_also_feed(deadlines_t *self, feed_t *feed)
{
    self->also = feed;
}

static void discard(deadlines_t *self)
{
    feed_discard(self->feed);
    if (self->also)
        feed_discard(self->also);
}

/* One pass: take what is due, commit, publish. Grows the map when it is full. */
static store_rc_t run(deadlines_t *self)
{
    store_rc_t rc;
    for (;;) {
        if ((rc = store_begin(self->store)) != STORE_OK)
            return rc;
        if (cases_take_deadlines(self->cases, clock_now()) < 0) {
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
    deadlines_t *self = arg;
    (void)fd, (void)what;
    if (run(self) != STORE_OK) {
        discard(self);
        log_error("msg=\"deadline pass failed, retrying\" reason=\"%s\"", store_error(self->store));
        arm_in(self, RETRY_MS);
        return;
    }
    feed_flush(self->feed);
    if (self->also)
        feed_flush(self->also);
    deadlines_arm(self);
}

deadlines_t *deadlines_new(struct event_base *base, store_t *store, taskdb_t *db, cases_t *cases,
                           feed_t *feed)
{
    deadlines_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->store = store, self->db = db, self->cases = cases, self->feed = feed;
    self->timer = evtimer_new(base, on_timer, self);
    if (!self->timer) {
        free(self);
        return NULL;
    }
    deadlines_arm(self);
    return self;
}

void deadlines_destroy(deadlines_t **self_p)
{
    deadlines_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    event_free(self->timer);
    free(self);
    *self_p = NULL;
}
