/*
 * alerts: the same-day alert loop for the supervision leads (the discipline commissioner,
 * the subdistrict's discipline secretary): rules raise alerts, alerts escalate, are
 * acknowledged and resolved, and every community day ends with a digest.
 *
 * An alert is raised in the write transaction of its trigger (a stored event, a missed
 * task deadline, a ledger due date passing, the week's visit check), keyed by rule, subject
 * and community day (the calendar's local date): a later trigger the same day is counted on
 * it with its evidence, the next day raises a new one. An alert not acknowledged within its
 * rule's ack_within escalates to the next level's role, at most max_escalations times. At
 * the day's cut-off every alert not yet resolved is published as that day's digest. Every
 * change is written in the caller's batch and queued on the alerts feed, which publishes it
 * after the commit. Rules come with the community, so a reload swaps them.
 */
#ifndef GB_ALERTS_H
#define GB_ALERTS_H

#include <stdint.h>

#include "alertdb.h"
#include "community.h"
#include "event.h"
#include "feed.h"
#include "gb_code.h"
#include "task.h"

typedef struct alerts alerts_t;

alerts_t *alerts_new(alertdb_t *db, feed_t *feed, const community_t *community);
void alerts_destroy(alerts_t **self_p);
void alerts_set_community(alerts_t *self, const community_t *community);

/* A newly stored field event (seq): the rules it triggers, and the facts the built-in
 * checks keep (ledger entries, visit days). 0, or -1 when the store failed. */
int alerts_on_event(alerts_t *self, const gb_event_t *ev, uint64_t seq, int64_t now);

/* alert.acknowledged and alert.resolved, checked before they are stored (E_TASK, E_FORBIDDEN,
 * E_STATE) and applied after; other types pass both. */
int alerts_check(alerts_t *self, const gb_event_t *ev, gb_error_t *err);
int alerts_apply(alerts_t *self, const gb_event_t *ev, int64_t now);

/* A task marked overdue (step "overdue_accept" or "overdue_complete") at now: the
 * task_deadline rules. Has the shape of cases' overdue hook. */
int alerts_task_overdue(void *self, const task_t *t, const char *step, int64_t now);

/* Everything due by now: escalations, ledger due dates, the day's digest, the week's visit
 * check. Inside a batch; -1 on a store failure. */
int alerts_take_due(alerts_t *self, int64_t now);

/* When alerts_take_due next has work (now itself when a cursor is still unset). */
int64_t alerts_next_due(alerts_t *self, int64_t now);

#endif
