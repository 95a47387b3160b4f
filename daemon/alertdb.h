/*
 * alertdb: alerts, their indexes, pending escalations, the alerts feed, the digests and
 * the ledger and visit facts the built-in checks need, as named databases in the store's
 * LMDB environment, written inside the store's batch (like taskdb).
 *
 * As in taskdb, the indexes and the escalation keys are derived from the alert record:
 * alertdb_put compares the old record with the new one and adds or removes exactly the
 * keys that changed, so a restart rebuilds nothing and the timer is simply armed for the
 * earliest key.
 */
#ifndef GB_ALERTDB_H
#define GB_ALERTDB_H

#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>

#include "feedlog.h"
#include "store.h"

#define ALERT_ID_MAX 24
#define ALERT_TEXT_MAX 72 /* rule, subject, member, role, event id */
#define ALERT_NOTE_MAX 200
#define ALERT_EVIDENCE_MAX 16
#define ALERT_HISTORY_MAX 24
#define ALERT_DAY_LEN 10 /* "YYYY-MM-DD" */

typedef enum { ALERT_OPEN, ALERT_ACKNOWLEDGED, ALERT_RESOLVED } alert_status_t;

typedef struct {
    int64_t at;
    char by[ALERT_TEXT_MAX];
    char step[16]; /* raised, counted, escalated, acknowledged, resolved */
    char note[ALERT_NOTE_MAX];
} alert_step_t;

typedef struct {
    uint64_t seq; /* the alert's id is "a-<seq>" */
    char rule[ALERT_TEXT_MAX], severity[8], subject[ALERT_TEXT_MAX];
    char day[ALERT_DAY_LEN + 1]; /* the community day (local date) it was raised on */
    alert_status_t status;
    uint32_t level; /* index of notify in the configured levels */
    char notify[ALERT_TEXT_MAX];
    uint32_t count; /* triggers counted on it (1 when raised) */
    int64_t raised_at, last_at;
    int64_t escalate_at; /* 0: no escalation pending */
    uint32_t escalations;
    char evidence[ALERT_EVIDENCE_MAX][ALERT_TEXT_MAX]; /* event ids, the first ones kept */
    uint32_t nevidence;
    alert_step_t history[ALERT_HISTORY_MAX];
    uint32_t nhistory;
} alert_t;

typedef struct alertdb alertdb_t;

alertdb_t *alertdb_new(store_t *store, char *err, size_t errlen);
void alertdb_destroy(alertdb_t **self_p);

const char *alert_status_name(alert_status_t s);
void alert_format_id(uint64_t seq, char out[ALERT_ID_MAX]);
/* "a-12" -> 12; -1 when not an alert id. */
int alert_parse_id(const char *s, size_t len, uint64_t *seq);
/* Appends a history step; the oldest after the first are dropped when full. */
void alert_add_step(alert_t *a, int64_t at, const char *by, const char *step, const char *note,
                    size_t note_len);
/* The record (with history) or the feed's copy (without), appended to out; 0, or -1 when
 * out could not grow. */
int alert_pack(msgpack_sbuffer *out, const alert_t *a, bool with_history);

/* 0 and *a, 1 when there is no such alert, -1 on a store error. */
int alertdb_get(alertdb_t *self, uint64_t seq, alert_t *a);
/* The alert of rule and subject on day: 0 and *seq, 1 when none. */
int alertdb_find(alertdb_t *self, const char *day, const char *rule, const char *subject,
                 uint64_t *seq);
/* The seq a new alert gets (inside the batch). */
uint64_t alertdb_next_seq(alertdb_t *self);
/* Writes a (old: its previous state, NULL when new) with its index and escalation keys. */
store_rc_t alertdb_put(alertdb_t *self, const alert_t *old, const alert_t *a);

/* Alerts of one day (in seq order), or every unresolved alert (day NULL). fn returns
 * non-zero to stop. The number visited or -1. */
typedef int (*alertdb_alert_fn)(void *arg, const alert_t *a);
long alertdb_scan(alertdb_t *self, const char *day, alertdb_alert_fn fn, void *arg);

/* The earliest pending escalation: 0 and *due, 1 when none. */
int alertdb_next_escalation(alertdb_t *self, int64_t *due);
/* Takes (deletes) every escalation key at or before now, calling fn for each alert seq. */
typedef int (*alertdb_seq_fn)(void *arg, uint64_t seq);
long alertdb_take_escalations(alertdb_t *self, int64_t now, alertdb_seq_fn fn, void *arg);

/* ---- the alerts feed and the digests ---- */
uint64_t alertdb_feed_head(alertdb_t *self);
store_rc_t alertdb_feed_put(alertdb_t *self, uint64_t seq, const void *rec, size_t len);
typedef feedlog_record_fn alertdb_record_fn;
/* As feedlog_read (and taskdb_feed_read). */
long alertdb_feed_read(alertdb_t *self, uint64_t from, uint32_t limit, const char *filter,
                       size_t filter_len, alertdb_record_fn fn, void *arg, uint64_t *last_seen);
/* The feed seq of day's digest: 0 and *seq, 1 when none. */
int alertdb_digest_get(alertdb_t *self, const char *day, uint64_t *seq);
store_rc_t alertdb_digest_put(alertdb_t *self, const char *day, uint64_t seq);
/* Named cursors of the timer ("digest", "week"): 0 and *v, 1 when never set. */
int alertdb_meta_get(alertdb_t *self, const char *name, int64_t *v);
store_rc_t alertdb_meta_put(alertdb_t *self, const char *name, int64_t v);

/* ---- facts of the built-in checks ---- */
/* Ledger entry numbers seen: 0 and the first one's event seq, 1 when new. */
int alertdb_entry_get(alertdb_t *self, const char *entry, uint64_t *seq, int64_t *due);
store_rc_t alertdb_entry_put(alertdb_t *self, const char *entry, uint64_t seq, int64_t due);
/* An entry of counterparty and amount with `at` within window ms of at: 0 and its number. */
int alertdb_pair_near(alertdb_t *self, const char *cp, int64_t amount, int64_t at, int64_t window,
                      char *entry, size_t entry_len);
store_rc_t alertdb_pair_put(alertdb_t *self, const char *cp, int64_t amount, int64_t at,
                            const char *entry);
/* Obligations: an entry due at `due` and not yet settled. */
store_rc_t alertdb_due_set(alertdb_t *self, int64_t due, const char *entry, bool pending);
int alertdb_next_due(alertdb_t *self, int64_t *due);
typedef int (*alertdb_entry_fn)(void *arg, const char *entry, int64_t due);
long alertdb_take_due(alertdb_t *self, int64_t now, alertdb_entry_fn fn, void *arg);
/* On-site days: member visited on local day number day (days since 1970-01-01). */
store_rc_t alertdb_visit_put(alertdb_t *self, const char *member, uint32_t day);
/* Distinct days of member in [from, to]. */
uint32_t alertdb_visit_days(alertdb_t *self, const char *member, uint32_t from, uint32_t to);

#endif
