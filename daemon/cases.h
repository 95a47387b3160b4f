/*
 * cases: the closed loop of a case (CJ/T 214's collect, file, dispatch, handle, report
 * back, verify and close), driven by events.
 *
 * A field event that a route claims opens a task, assigned to the one responsible member
 * (the least-loaded holder of the route's role on the event's grid, then the fallback
 * roles, else parked). Follow-up events move the task along its lifecycle, each step
 * checked (who may take it, from which state) and kept in the task's history. Missed
 * deadlines mark the task overdue. Every change is written in the caller's batch with its
 * feed record, which the task feed publishes once it is committed (taskpub).
 */
#ifndef GB_CASES_H
#define GB_CASES_H

#include <stdint.h>

#include "community.h"
#include "event.h"
#include "gb_code.h"
#include "store.h"
#include "taskdb.h"

typedef struct cases cases_t;

typedef struct {
    uint64_t opened;  /* tasks created */
    uint64_t parked;  /* created or re-routed with nobody to take them */
    uint64_t steps;   /* follow-ups applied */
    uint64_t overdue; /* deadlines missed */
} cases_stats_t;

cases_t *cases_new(taskdb_t *db, const community_t *community);
void cases_destroy(cases_t **self_p);

/* Called for every task marked overdue, inside the batch (the alert loop's task_deadline
 * rules); step is "overdue_accept" or "overdue_complete". -1 aborts the batch. */
typedef int (*cases_overdue_fn)(void *arg, const task_t *t, const char *step, int64_t now);
void cases_on_overdue(cases_t *self, cases_overdue_fn fn, void *arg);

/* The community used from the next event on (reload). */
void cases_set_community(cases_t *self, const community_t *community);

/* A newly stored field event (seq): routes it and opens its task if its route says so.
 * 0, or -1 when the store failed (the batch must be aborted). */
int cases_open(cases_t *self, const gb_event_t *ev, uint64_t seq, int64_t now);

/* Checks a task follow-up before it is stored: 0 when it may be applied; -1 with err
 * (E_TASK, E_STATE, E_FORBIDDEN) when it is refused. Events that are not task follow-ups
 * pass. */
int cases_check(cases_t *self, const gb_event_t *ev, gb_error_t *err);

/* Applies a checked follow-up (after cases_check returned 0). -1 on a store failure. */
int cases_apply(cases_t *self, const gb_event_t *ev, int64_t now);

/* Marks every task whose deadline is at or before now overdue. -1 on a store failure. */
int cases_take_deadlines(cases_t *self, int64_t now);

const cases_stats_t *cases_stats(const cases_t *self);

#endif
