/*
 * alerttimer: the timer of the alert loop: escalations, ledger due dates, the day's
 * cut-off (digest) and the week's visit check.
 *
 * Like deadlines: what is pending lives in LMDB in time order (and the cut-offs follow from
 * the calendar and two cursors), so after a restart the timer is armed for the earliest
 * instant and nothing is missed. When it fires, everything due by the clock's now is done
 * in one write transaction, committed, and published on the alerts feed.
 */
#ifndef GB_ALERTTIMER_H
#define GB_ALERTTIMER_H

#include <event2/event.h>

#include "alerts.h"
#include "feed.h"
#include "store.h"

typedef struct alerttimer alerttimer_t;

alerttimer_t *alerttimer_new(struct event_base *base, store_t *store, alerts_t *alerts,
                             feed_t *feed);
void alerttimer_destroy(alerttimer_t **self_p);

/* Re-arms for the earliest pending instant (after every commit: a batch may have added an
 * earlier escalation, and the test clock may have moved). */
void alerttimer_arm(alerttimer_t *self);

#endif
