/*
 * alerts_int: what alerts.c (the alert loop) and alerts_rules.c (the built-in checks)
 * share. Not for other modules: they use alerts.h.
 */
#ifndef GB_ALERTS_INT_H
#define GB_ALERTS_INT_H

#include "alertcfg.h"
#include "alerts.h"

#define ALERTS_ACTOR "gridbusd"

struct alerts {
    alertdb_t *db;
    feed_t *feed;
    const community_t *community;
    alert_t *old, *cur;       /* scratch: an alert before and after a change */
    msgpack_sbuffer rec;      /* scratch: one feed record */
    msgpack_packer pk_digest; /* the digest's list while it is built */
    uint32_t ndigest;
    uint64_t raised;
};

/* What fired: the alert's subject, the evidence (an event id, may be ""), who or what
 * triggered it, and a note for the history. */
typedef struct {
    const char *subject;
    const char *evidence;
    const char *by;
    const char *note;
} alert_trigger_t;

const alertcfg_t *alerts_cfg(const alerts_t *self);
void alerts_format_day(const alerts_t *self, int64_t ms, char out[ALERT_DAY_LEN + 1]);
void alerts_topic(const alerts_t *self, const char *rule, char *out, size_t len);

/* Raises r's alert for the trigger on now's community day, or counts it on the one
 * already raised. -1 on a store failure. */
int alerts_raise(alerts_t *self, const alert_rule_t *r, const alert_trigger_t *tr, int64_t now);
int alerts_commit(alerts_t *self, const alert_t *old, const alert_t *a, const char *change,
                  const char *by, int64_t at);

/* The local midnight of the day whose cut-off is the latest at or before now, and the
 * cut-off instant of a day (given by its local midnight). */
int64_t alerts_latest_cutoff_day(const alerts_t *self, int64_t now);
int64_t alerts_cutoff_of(const alerts_t *self, int64_t day_start);
int alerts_advance(alerts_t *self, const char *cursor, int64_t end, int (*fn)(alerts_t *, int64_t));

/* alerts_rules.c: ledger due dates passed by now, and the week's visit check. */
int alerts_take_obligations(alerts_t *self, int64_t now);
int alerts_take_week(alerts_t *self, int64_t now);

#endif
