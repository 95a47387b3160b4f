/*
 * alertcfg: the `alerts:` block of the directory file (docs/CONFIG.md, "Alerts"): the
 * community day's cut-off, the escalation chain of supervision roles, and the rules.
 *
 * A rule is either declarative (`match:`, the routes' matcher, on field events) or names a
 * built-in check (`check:`) with its parameters. Everything is checked at load time with
 * "FILE:LINE:COL: message" errors, like the routes: a rule that silently never fires hides
 * the very clue the discipline commissioner must report the same day. Immutable once
 * loaded; it is part of the community, so a reload swaps it with the directory.
 */
#ifndef GB_ALERTCFG_H
#define GB_ALERTCFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "directory.h"
#include "event.h"

struct fy_node;

#define ALERT_LEVELS_MAX 8
#define ALERT_NAME_MAX 48

/* What fires a rule. */
typedef enum {
    ALERT_MATCH,                /* a field event the rule's matcher accepts */
    ALERT_TASK_DEADLINE,        /* a task's accept or complete deadline missed */
    ALERT_LEDGER_APPROVALS,     /* an expense over threshold_fen with too few approvals */
    ALERT_LEDGER_SELF_APPROVAL, /* an entry approved by its submitter */
    ALERT_LEDGER_DUPLICATE,     /* an entry number seen before, or counterparty + amount again */
    ALERT_LEDGER_OVERDUE,       /* an entry's due passed without a settling entry */
    ALERT_VISIT_QUOTA,          /* a cadre short of min_days on-site days in a week */
    ALERT_CHECK_COUNT
} alert_check_t;

/* What a match rule's alerts are per (one alert per rule, subject and day). */
typedef enum { ALERT_SUBJECT_GRID, ALERT_SUBJECT_BY, ALERT_SUBJECT_EVENT } alert_subject_t;

typedef struct match match_t;

typedef struct {
    char name[ALERT_NAME_MAX];
    const char *severity; /* "low", "medium", "high" */
    const char *notify;   /* the first role notified: one of the levels */
    uint32_t level;       /* notify's index in the levels */
    int64_t ack_within;   /* wall-clock ms before an unacknowledged alert escalates */
    uint32_t max_escalations;
    alert_check_t check;
    match_t *match;          /* ALERT_MATCH */
    alert_subject_t subject; /* ALERT_MATCH */
    int64_t threshold_fen;   /* ledger_approvals */
    uint32_t min_approvals;  /* ledger_approvals */
    uint32_t window_days;    /* ledger_duplicate: 0 = entry numbers only */
    uint32_t min_days;       /* visit_quota */
} alert_rule_t;

typedef struct alertcfg alertcfg_t;

/* The `alerts:` mapping of file (NULL node: no alerts, an empty configuration). NULL with
 * err = "FILE:LINE:COL: message" on any error. */
alertcfg_t *alertcfg_load(struct fy_node *node, const char *file, const directory_t *dir, char *err,
                          size_t errlen);
void alertcfg_destroy(alertcfg_t **self_p);

/* Minutes after local midnight of the day's cut-off (digest time, and Sunday's visit check). */
int alertcfg_cutoff(const alertcfg_t *self);
/* The last day of a month the joint review covers (`review_day`, 1..31), 0: the month's end. */
int alertcfg_review_day(const alertcfg_t *self);
size_t alertcfg_nlevels(const alertcfg_t *self);
const char *alertcfg_level(const alertcfg_t *self, size_t i);
size_t alertcfg_nrules(const alertcfg_t *self);
const alert_rule_t *alertcfg_rule(const alertcfg_t *self, size_t i);
const alert_rule_t *alertcfg_find(const alertcfg_t *self, const char *name);
/* Whether any rule uses check. */
bool alertcfg_uses(const alertcfg_t *self, alert_check_t check);
/* Whether member holds one of the levels' roles (may acknowledge and resolve alerts). */
bool alertcfg_supervises(const alertcfg_t *self, const directory_member_t *m);
const char *alertcfg_check_name(alert_check_t check);

/* Whether a match rule's matcher accepts ev. */
bool alertcfg_matches(const alert_rule_t *r, const gb_event_t *ev);

#endif
