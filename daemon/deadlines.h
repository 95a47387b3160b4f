/*
 * deadlines: the timer that marks tasks overdue.
 *
 * The pending deadlines live in LMDB (taskdb), ordered by time, so after a restart the
 * timer is simply armed for the earliest one: nothing is rebuilt, nothing is missed. When
 * it fires, every deadline due by the clock's now is taken in one write transaction,
 * committed; the task feed publishes the changes from the store (taskidx), the alerts they
 * raise are published by the alerts feed after the commit.
 */
#ifndef GB_DEADLINES_H
#define GB_DEADLINES_H

#include <event2/event.h>

#include "cases.h"
#include "feed.h"
#include "store.h"
#include "taskdb.h"

typedef struct deadlines deadlines_t;

deadlines_t *deadlines_new(struct event_base *base, store_t *store, taskdb_t *db, cases_t *cases);
void deadlines_destroy(deadlines_t **self_p);

/* The feed the pass queues on (the alerts feed: a missed deadline raises its alert in the
 * same transaction), flushed after the commit and discarded with an aborted pass. */
void deadlines_also_feed(deadlines_t *self, feed_t *feed);

/* Re-arms the timer for the earliest pending deadline (after every commit: a batch may
 * have added an earlier one, and the test clock may have moved). */
void deadlines_arm(deadlines_t *self);

#endif
