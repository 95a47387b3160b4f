/*
 * passtimer: the timer shared by the deadline pass (deadlines) and the alert pass
 * (alerttimer).
 *
 * What such a pass works on lives in LMDB in time order, so the timer is simply armed for
 * the earliest instant (never further than a minute: the wall clock may be set forward
 * under us) and nothing is rebuilt after a restart. When it fires, the pass does everything
 * due by the clock's now in one write transaction of its own: a full map is grown and the
 * pass run again from scratch, with what it queued on the feeds discarded; after the commit
 * the feeds are flushed, so subscribers never see a record that was not committed. A pass
 * that fails is retried a second later.
 */
#ifndef GB_PASSTIMER_H
#define GB_PASSTIMER_H

#include <event2/event.h>
#include <stdint.h>

#include "feed.h"
#include "store.h"

typedef struct passtimer passtimer_t;

/* When the pass next has work, seen at now: 0 and *due, 1 when nothing is pending. */
typedef int (*passtimer_due_fn)(void *arg, int64_t now, int64_t *due);
/* Does everything due by now, inside the store's batch: -1 on a store failure. */
typedef int (*passtimer_pass_fn)(void *arg, int64_t now);

/* name says which pass failed in the log ("deadline", "alert"); feed is the feed the pass
 * queues its records on (NULL: none yet, see passtimer_also_feed). Armed at once. */
passtimer_t *passtimer_new(struct event_base *base, store_t *store, const char *name, feed_t *feed,
                           passtimer_due_fn due, passtimer_pass_fn pass, void *arg);
void passtimer_destroy(passtimer_t **self_p);

/* One more feed the pass writes to (two at most), flushed and discarded after the first. */
void passtimer_also_feed(passtimer_t *self, feed_t *feed);

/* Re-arms for the earliest pending instant, or disarms when nothing is pending. */
void passtimer_arm(passtimer_t *self);

#endif
