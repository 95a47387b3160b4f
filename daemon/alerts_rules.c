/*
 * alerts_rules: which triggers fire which rules (alerts.h): declarative matchers and the
 * built-in checks, with the facts the checks keep (ledger entry numbers, counterparty
 * pairs, unsettled due dates, cadres' on-site days).
 *
 * Subjects, one alert per rule, subject and community day:
 *   match rules         the event's grid (or its `by` when it has none), by, or event id,
 *                       as the rule's `subject:` says
 *   task_deadline       the task id ("t-12")
 *   ledger_*            the entry number
 *   visit_quota         the cadre's member id
 */
#include "alerts_int.h"

#include <stdio.h>
#include <string.h>

#include "wire.h"

#define DAY_MS 86400000LL

typedef struct {
    char subject[ALERT_TEXT_MAX], evidence[ALERT_TEXT_MAX], by[ALERT_TEXT_MAX];
    char note[ALERT_NOTE_MAX];
} trigger_buf_t;

/* s, cut to fit and at a NUL, as snprintf("%.*s") would, without formatting per event. */
static void text(char *dst, size_t cap, gb_str_t s)
{
    size_t n = s.ptr ? (s.len < cap - 1 ? s.len : cap - 1) : 0;
    const char *nul = n ? memchr(s.ptr, 0, n) : NULL;
    n = nul ? (size_t)(nul - s.ptr) : n;
    memcpy(dst, s.ptr ? s.ptr : "", n);
    dst[n] = 0;
}

static gb_str_t body_str(const gb_event_t *ev, const char *key)
{
    gb_str_t s = {"", 0};
    wire_get_str(ev->body, key, &s);
    return s;
}

static int64_t body_int(const gb_event_t *ev, const char *key)
{
    uint64_t v = 0;
    wire_get_u64(ev->body, key, &v);
    return (int64_t)v;
}

static alert_trigger_t trigger_of(trigger_buf_t *b)
{
    return (alert_trigger_t){b->subject, b->evidence, b->by, b->note};
}

/* Raises every rule of check with the trigger. */
static int raise_all(alerts_t *self, alert_check_t check, trigger_buf_t *b, int64_t now)
{
    const alertcfg_t *cfg = alerts_cfg(self);
    alert_trigger_t tr = trigger_of(b);
    for (size_t i = 0; i < alertcfg_nrules(cfg); i++) {
        const alert_rule_t *r = alertcfg_rule(cfg, i);
        if (r->check == check && alerts_raise(self, r, &tr, now) < 0)
            return -1;
    }
    return 0;
}

/* ---- match rules ---- */

static void match_subject(const alert_rule_t *r, const gb_event_t *ev, trigger_buf_t *b)
{
    if (r->subject == ALERT_SUBJECT_EVENT)
        text(b->subject, sizeof b->subject, ev->id);
    else if (r->subject == ALERT_SUBJECT_GRID && ev->grid.len)
        text(b->subject, sizeof b->subject, ev->grid);
    else
        text(b->subject, sizeof b->subject, ev->by);
}

static int match_rules(alerts_t *self, const gb_event_t *ev, trigger_buf_t *b, int64_t now)
{
    const alertcfg_t *cfg = alerts_cfg(self);
    for (size_t i = 0; i < alertcfg_nrules(cfg); i++) {
        const alert_rule_t *r = alertcfg_rule(cfg, i);
        if (!alertcfg_matches(r, ev))
            continue;
        match_subject(r, ev, b);
        text(b->note, sizeof b->note, (gb_str_t){ev->type->name, (uint32_t)strlen(ev->type->name)});
        alert_trigger_t tr = trigger_of(b);
        if (alerts_raise(self, r, &tr, now) < 0)
            return -1;
    }
    return 0;
}

/* ---- ledger checks ---- */

typedef struct {
    char entry[ALERT_TEXT_MAX], cp[256], settles[ALERT_TEXT_MAX];
    bool expense;
    int64_t amount, due;
    uint32_t napproved;
    bool self_approved;
} ledger_t;

static void read_ledger(const gb_event_t *ev, ledger_t *l)
{
    text(l->entry, sizeof l->entry, body_str(ev, "entry"));
    text(l->cp, sizeof l->cp, body_str(ev, "counterparty"));
    text(l->settles, sizeof l->settles, body_str(ev, "settles"));
    gb_str_t dir = body_str(ev, "direction");
    l->expense = dir.len == 7 && memcmp(dir.ptr, "expense", 7) == 0;
    l->amount = body_int(ev, "amount_fen"), l->due = body_int(ev, "due");
    const msgpack_object *ap = event_map_get(ev->body, "approved_by");
    l->napproved = ap && ap->type == MSGPACK_OBJECT_ARRAY ? ap->via.array.size : 0;
    l->self_approved = false;
    for (uint32_t i = 0; i < l->napproved; i++) {
        const msgpack_object *o = &ap->via.array.ptr[i];
        if (o->type == MSGPACK_OBJECT_STR && o->via.str.size == ev->by.len &&
            memcmp(o->via.str.ptr, ev->by.ptr, ev->by.len) == 0)
            l->self_approved = true;
    }
}

static int check_approvals(alerts_t *self, const ledger_t *l, trigger_buf_t *b, int64_t now)
{
    const alertcfg_t *cfg = alerts_cfg(self);
    for (size_t i = 0; i < alertcfg_nrules(cfg); i++) {
        const alert_rule_t *r = alertcfg_rule(cfg, i);
        if (r->check != ALERT_LEDGER_APPROVALS || !l->expense || l->amount <= r->threshold_fen ||
            l->napproved >= r->min_approvals)
            continue;
        snprintf(b->note, sizeof b->note, "expense of %lld fen with %u of %u approvals",
                 (long long)l->amount, l->napproved, r->min_approvals);
        alert_trigger_t tr = trigger_of(b);
        if (alerts_raise(self, r, &tr, now) < 0)
            return -1;
    }
    return 0;
}

/* Duplicates: the same entry number again (any window), or with window_days the same
 * counterparty and amount within that many days of the entry's `at`. */
static int check_duplicates(alerts_t *self, const gb_event_t *ev, const ledger_t *l,
                            trigger_buf_t *b, int64_t now, bool seen)
{
    const alertcfg_t *cfg = alerts_cfg(self);
    char other[ALERT_TEXT_MAX];
    for (size_t i = 0; i < alertcfg_nrules(cfg); i++) {
        const alert_rule_t *r = alertcfg_rule(cfg, i);
        if (r->check != ALERT_LEDGER_DUPLICATE)
            continue;
        if (seen)
            snprintf(b->note, sizeof b->note, "entry number %s submitted before", l->entry);
        else if (r->window_days &&
                 alertdb_pair_near(self->db, l->cp, l->amount, ev->at,
                                   (int64_t)r->window_days * DAY_MS, other, sizeof other) == 0)
            snprintf(b->note, sizeof b->note, "same counterparty and amount as entry %s", other);
        else
            continue;
        alert_trigger_t tr = trigger_of(b);
        if (alerts_raise(self, r, &tr, now) < 0)
            return -1;
    }
    return 0;
}

/* The facts later checks need: the entry number (first one kept), the pair, the due date
 * until a settling entry names it. */
static int keep_ledger(alerts_t *self, const gb_event_t *ev, const ledger_t *l, uint64_t seq,
                       bool seen)
{
    uint64_t first;
    int64_t due;
    if (!seen && alertdb_entry_put(self->db, l->entry, seq, l->due) != STORE_OK)
        return -1;
    if (alertdb_pair_put(self->db, l->cp, l->amount, ev->at, l->entry) != STORE_OK)
        return -1;
    if (!seen && l->due && alertdb_due_set(self->db, l->due, l->entry, true) != STORE_OK)
        return -1;
    if (l->settles[0] && alertdb_entry_get(self->db, l->settles, &first, &due) == 0 && due &&
        alertdb_due_set(self->db, due, l->settles, false) != STORE_OK)
        return -1;
    return 0;
}

static int ledger_rules(alerts_t *self, const gb_event_t *ev, uint64_t seq, trigger_buf_t *b,
                        int64_t now)
{
    ledger_t l;
    uint64_t first;
    int64_t due;
    read_ledger(ev, &l);
    bool seen = alertdb_entry_get(self->db, l.entry, &first, &due) == 0;
    snprintf(b->subject, sizeof b->subject, "%s", l.entry);
    if (check_approvals(self, &l, b, now) < 0)
        return -1;
    if (l.self_approved) {
        snprintf(b->note, sizeof b->note, "approved by its submitter %s", b->by);
        if (raise_all(self, ALERT_LEDGER_SELF_APPROVAL, b, now) < 0)
            return -1;
    }
    if (check_duplicates(self, ev, &l, b, now, seen) < 0)
        return -1;
    return keep_ledger(self, ev, &l, seq, seen);
}

typedef struct {
    alerts_t *self;
    int64_t now;
} due_arg_t;

static int obligation_due(void *arg, const char *entry, int64_t due)
{
    due_arg_t *d = arg;
    trigger_buf_t b = {.by = ALERTS_ACTOR};
    snprintf(b.subject, sizeof b.subject, "%s", entry);
    char day[ALERT_DAY_LEN + 1];
    alerts_format_day(d->self, due, day);
    snprintf(b.note, sizeof b.note, "due %s passed without a settling entry", day);
    return raise_all(d->self, ALERT_LEDGER_OVERDUE, &b, d->now);
}

int alerts_take_obligations(alerts_t *self, int64_t now)
{
    due_arg_t d = {self, now};
    return alertdb_take_due(self->db, now, obligation_due, &d) < 0 ? -1 : 0;
}

/* ---- visits ---- */

static uint32_t local_day(const alerts_t *self, int64_t ms)
{
    const calendar_t *cal = community_calendar(self->community);
    int64_t off = (int64_t)calendar_utc_offset_minutes(cal) * 60000;
    return (uint32_t)((calendar_day_start(cal, ms) + off) / DAY_MS);
}

static int keep_visit(alerts_t *self, const gb_event_t *ev)
{
    const directory_member_t *m =
        directory_member(community_directory(self->community), ev->by.ptr, ev->by.len);
    if (!m || !directory_member_has_role(m, "cadre"))
        return 0;
    return alertdb_visit_put(self->db, m->id, local_day(self, ev->at)) == STORE_OK ? 0 : -1;
}

/* The week ending on Sunday `sunday` (its local midnight): every cadre short of a rule's
 * min_days distinct on-site days. */
static int week_check(alerts_t *self, int64_t sunday)
{
    const alertcfg_t *cfg = alerts_cfg(self);
    const directory_t *dir = community_directory(self->community);
    uint32_t to = local_day(self, sunday), from = to - 6;
    int64_t now = alerts_cutoff_of(self, sunday);
    for (size_t i = 0; i < alertcfg_nrules(cfg); i++) {
        const alert_rule_t *r = alertcfg_rule(cfg, i);
        for (size_t k = 0; r->check == ALERT_VISIT_QUOTA && k < directory_member_count(dir); k++) {
            const directory_member_t *m = directory_member_at(dir, k);
            if (!directory_member_has_role(m, "cadre"))
                continue;
            uint32_t days = alertdb_visit_days(self->db, m->id, from, to);
            if (days >= r->min_days)
                continue;
            trigger_buf_t b = {.by = ALERTS_ACTOR};
            char first[ALERT_DAY_LEN + 1], last[ALERT_DAY_LEN + 1];
            alerts_format_day(self, sunday - 6 * DAY_MS, first);
            alerts_format_day(self, sunday, last);
            snprintf(b.subject, sizeof b.subject, "%s", m->id);
            snprintf(b.note, sizeof b.note, "%u of %u on-site days in the week %s..%s", days,
                     r->min_days, first, last);
            alert_trigger_t tr = trigger_of(&b);
            if (alerts_raise(self, r, &tr, now) < 0)
                return -1;
        }
    }
    return 0;
}

int alerts_take_week(alerts_t *self, int64_t now)
{
    int wd;
    int64_t day = alerts_latest_cutoff_day(self, now);
    calendar_local_date(community_calendar(self->community), day, NULL, NULL, NULL, &wd);
    int64_t sunday = calendar_day_start(community_calendar(self->community),
                                        day - (int64_t)((wd + 1) % 7) * DAY_MS + DAY_MS / 2);
    return alerts_advance(self, "week", sunday, week_check);
}

/* ---- the hooks ---- */

int alerts_on_event(alerts_t *self, const gb_event_t *ev, uint64_t seq, int64_t now)
{
    if (!self)
        return 0;
    trigger_buf_t b;
    text(b.evidence, sizeof b.evidence, ev->id);
    text(b.by, sizeof b.by, ev->by);
    if (match_rules(self, ev, &b, now) < 0)
        return -1;
    if (!strcmp(ev->type->name, "ledger.entry_submitted"))
        return ledger_rules(self, ev, seq, &b, now);
    if (!strcmp(ev->type->name, "visit.logged"))
        return keep_visit(self, ev);
    return 0;
}

int alerts_task_overdue(void *arg, const task_t *t, const char *step, int64_t now)
{
    alerts_t *self = arg;
    trigger_buf_t b = {.by = ALERTS_ACTOR};
    if (!self)
        return 0;
    task_format_id(t->seq, b.subject);
    snprintf(b.evidence, sizeof b.evidence, "%s", t->event_id);
    snprintf(b.note, sizeof b.note, "%s (assignee %s)", step,
             t->assignee[0] ? t->assignee : "none");
    return raise_all(self, ALERT_TASK_DEADLINE, &b, now);
}
