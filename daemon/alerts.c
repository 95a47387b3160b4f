/*
 * alerts: raising, counting, escalating, closing and digesting alerts (alerts.h). The
 * built-in checks that look at events and time are in alerts_rules.c.
 */
#include "alerts_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

alerts_t *alerts_new(alertdb_t *db, feed_t *feed, const community_t *community)
{
    alerts_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->db = db, self->feed = feed, self->community = community;
    self->old = malloc(sizeof *self->old);
    self->cur = malloc(sizeof *self->cur);
    msgpack_sbuffer_init(&self->rec);
    if (!self->old || !self->cur)
        alerts_destroy(&self);
    return self;
}

void alerts_destroy(alerts_t **self_p)
{
    alerts_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    free(self->old);
    free(self->cur);
    msgpack_sbuffer_destroy(&self->rec);
    free(self);
    *self_p = NULL;
}

void alerts_set_community(alerts_t *self, const community_t *community)
{
    self->community = community;
}

const alertcfg_t *alerts_cfg(const alerts_t *self)
{
    return community_alerts(self->community);
}

void alerts_format_day(const alerts_t *self, int64_t ms, char out[ALERT_DAY_LEN + 1])
{
    int y, m, d;
    char buf[32];
    calendar_local_date(community_calendar(self->community), ms, &y, &m, &d, NULL);
    snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, m, d);
    memcpy(out, buf, ALERT_DAY_LEN);
    out[ALERT_DAY_LEN] = 0;
}

void alerts_topic(const alerts_t *self, const char *rule, char *out, size_t len)
{
    snprintf(out, len, "alert/%s/%s", directory_community_id(community_directory(self->community)),
             rule);
}

/* Packs the feed record's envelope (5 keys) with room for n more. */
static void pack_envelope(msgpack_packer *pk, uint64_t seq, const char *topic, int64_t at,
                          const char *change, const char *by, uint32_t more)
{
    msgpack_pack_map(pk, 5 + more);
    wire_pack_cstr(pk, "seq"), msgpack_pack_uint64(pk, seq);
    wire_pack_cstr(pk, "topic"), wire_pack_cstr(pk, topic);
    wire_pack_cstr(pk, "at"), msgpack_pack_int64(pk, at);
    wire_pack_cstr(pk, "change"), wire_pack_cstr(pk, change);
    wire_pack_cstr(pk, "by"), wire_pack_cstr(pk, by);
}

/* Appends the record in self->rec under topic and queues it for after the commit. */
static int append_record(alerts_t *self, uint64_t seq, const char *topic)
{
    if (alertdb_feed_put(self->db, seq, self->rec.data, self->rec.size) != STORE_OK)
        return -1;
    if (self->feed)
        feed_queue(self->feed, topic, self->rec.data, self->rec.size);
    return 0;
}

/* Stores the alert and its feed record. -1 on a store failure. */
int alerts_commit(alerts_t *self, const alert_t *old, const alert_t *a, const char *change,
                  const char *by, int64_t at)
{
    char topic[160];
    msgpack_packer pk;
    if (alertdb_put(self->db, old, a) != STORE_OK)
        return -1;
    uint64_t seq = alertdb_feed_head(self->db) + 1;
    alerts_topic(self, a->rule, topic, sizeof topic);
    msgpack_sbuffer_clear(&self->rec);
    msgpack_packer_init(&pk, &self->rec, msgpack_sbuffer_write);
    pack_envelope(&pk, seq, topic, at, change, by, 1);
    wire_pack_cstr(&pk, "alert");
    if (alert_pack(&self->rec, a, false) < 0)
        return -1;
    return append_record(self, seq, topic);
}

static void add_evidence(alert_t *a, const char *evidence)
{
    if (!evidence || !*evidence || a->nevidence == ALERT_EVIDENCE_MAX)
        return;
    for (uint32_t i = 0; i < a->nevidence; i++)
        if (strcmp(a->evidence[i], evidence) == 0)
            return;
    snprintf(a->evidence[a->nevidence++], ALERT_TEXT_MAX, "%s", evidence);
}

/* A later trigger of the same rule, subject and day: counted, not repeated. */
static int count_on(alerts_t *self, uint64_t seq, const alert_trigger_t *tr, int64_t now)
{
    if (alertdb_get(self->db, seq, self->old) != 0)
        return -1;
    alert_t *a = self->cur;
    memcpy(a, self->old, sizeof *a);
    a->count++, a->last_at = now;
    add_evidence(a, tr->evidence);
    alert_add_step(a, now, tr->by, "counted", tr->note, strlen(tr->note));
    return alerts_commit(self, self->old, a, "counted", tr->by, now);
}

int alerts_raise(alerts_t *self, const alert_rule_t *r, const alert_trigger_t *tr, int64_t now)
{
    char day[ALERT_DAY_LEN + 1];
    uint64_t seq;
    alerts_format_day(self, now, day);
    if (alertdb_find(self->db, day, r->name, tr->subject, &seq) == 0)
        return count_on(self, seq, tr, now);
    alert_t *a = self->cur;
    memset(a, 0, offsetof(alert_t, evidence));
    a->nevidence = a->nhistory = 0;
    a->seq = alertdb_next_seq(self->db);
    snprintf(a->rule, sizeof a->rule, "%s", r->name);
    snprintf(a->severity, sizeof a->severity, "%s", r->severity);
    snprintf(a->subject, sizeof a->subject, "%s", tr->subject);
    memcpy(a->day, day, sizeof a->day);
    a->status = ALERT_OPEN, a->level = r->level, a->count = 1;
    snprintf(a->notify, sizeof a->notify, "%s", r->notify);
    a->raised_at = a->last_at = now;
    a->escalate_at = r->max_escalations ? now + r->ack_within : 0;
    add_evidence(a, tr->evidence);
    alert_add_step(a, now, tr->by, "raised", tr->note, strlen(tr->note));
    self->raised++;
    return alerts_commit(self, NULL, a, "raised", tr->by, now);
}

/* ---- escalation ---- */

/* One escalation key due: the next level is notified, counting towards the rule's bound.
 * Its time is the key's (the instant it fell due), so the timeline does not depend on when
 * the timer ran. A rule removed by a reload stops escalating. */
static int escalate(void *arg, uint64_t seq)
{
    alerts_t *self = arg;
    const alertcfg_t *cfg = alerts_cfg(self);
    if (alertdb_get(self->db, seq, self->old) != 0 || self->old->status != ALERT_OPEN)
        return 0;
    alert_t *a = self->cur;
    memcpy(a, self->old, sizeof *a);
    const alert_rule_t *r = alertcfg_find(cfg, a->rule);
    int64_t at = a->escalate_at;
    a->escalate_at = 0;
    if (!r || alertcfg_nlevels(cfg) == 0)
        return alertdb_put(self->db, self->old, a) == STORE_OK ? 0 : -1;
    a->escalations++;
    if (a->level + 1 < alertcfg_nlevels(cfg))
        a->level++;
    snprintf(a->notify, sizeof a->notify, "%s", alertcfg_level(cfg, a->level));
    if (a->escalations < r->max_escalations)
        a->escalate_at = at + r->ack_within;
    alert_add_step(a, at, ALERTS_ACTOR, "escalated", a->notify, strlen(a->notify));
    return alerts_commit(self, self->old, a, "escalated", ALERTS_ACTOR, at);
}

/* ---- acknowledgement and resolution ---- */

static bool type_is(const gb_event_t *ev, const char *name)
{
    return strcmp(ev->type->name, name) == 0;
}

int alerts_check(alerts_t *self, const gb_event_t *ev, gb_error_t *err)
{
    bool ack = type_is(ev, "alert.acknowledged");
    if (!self || (!ack && !type_is(ev, "alert.resolved")))
        return 0;
    gb_str_t id = {"", 0};
    uint64_t seq;
    wire_get_str(ev->body, "alert", &id);
    if (alert_parse_id(id.ptr, id.len, &seq) < 0 || alertdb_get(self->db, seq, self->old) != 0)
        return gb_error_set(err, GB_E_TASK, "body.alert: no alert '%.*s'", (int)id.len, id.ptr);
    const directory_member_t *m =
        directory_member(community_directory(self->community), ev->by.ptr, ev->by.len);
    if (!alertcfg_supervises(alerts_cfg(self), m))
        return gb_error_set(err, GB_E_FORBIDDEN,
                            "by: '%.*s' may not %s a-%llu (a member holding one of the alert "
                            "levels' roles may)",
                            (int)ev->by.len, ev->by.ptr, ack ? "acknowledge" : "resolve",
                            (unsigned long long)seq);
    alert_status_t s = self->old->status;
    if (s == ALERT_RESOLVED || (ack && s == ALERT_ACKNOWLEDGED))
        return gb_error_set(err, GB_E_STATE, "type: %s is not a step from %s (alert a-%llu)",
                            ev->type->name, alert_status_name(s), (unsigned long long)seq);
    return 0;
}

int alerts_apply(alerts_t *self, const gb_event_t *ev, int64_t now)
{
    bool ack = type_is(ev, "alert.acknowledged");
    if (!self || (!ack && !type_is(ev, "alert.resolved")))
        return 0;
    alert_t *a = self->cur;
    char by[ALERT_TEXT_MAX];
    gb_str_t note = {"", 0};
    memcpy(a, self->old, sizeof *a);
    snprintf(by, sizeof by, "%.*s", (int)ev->by.len, ev->by.ptr);
    wire_get_str(ev->body, "note", &note);
    a->status = ack ? ALERT_ACKNOWLEDGED : ALERT_RESOLVED;
    a->escalate_at = 0;
    const char *change = ack ? "acknowledged" : "resolved";
    alert_add_step(a, now, by, change, note.ptr, note.len);
    return alerts_commit(self, self->old, a, change, by, now);
}

/* ---- the day's cut-off ---- */

int64_t alerts_latest_cutoff_day(const alerts_t *self, int64_t now)
{
    const calendar_t *cal = community_calendar(self->community);
    int64_t day = calendar_day_start(cal, now);
    if (now < day + (int64_t)alertcfg_cutoff(alerts_cfg(self)) * 60000)
        day = calendar_day_start(cal, day - 1);
    return day;
}

int64_t alerts_cutoff_of(const alerts_t *self, int64_t day_start)
{
    return day_start + (int64_t)alertcfg_cutoff(alerts_cfg(self)) * 60000;
}

static int pack_open(void *arg, const alert_t *a)
{
    alerts_t *self = arg;
    alert_pack(self->pk_digest.data, a, false);
    self->ndigest++;
    return 0;
}

/* Every alert not resolved at the cut-off of day (its local midnight), on the feed and kept
 * by day. The list is packed first: the array header needs its count. */
static int digest(alerts_t *self, int64_t day)
{
    char topic[160], name[ALERT_DAY_LEN + 1];
    msgpack_sbuffer list;
    msgpack_packer pk;
    int64_t at = alerts_cutoff_of(self, day);
    alerts_format_day(self, day, name);
    msgpack_sbuffer_init(&list);
    msgpack_packer_init(&self->pk_digest, &list, msgpack_sbuffer_write);
    self->ndigest = 0;
    if (alertdb_scan(self->db, NULL, pack_open, self) < 0)
        return msgpack_sbuffer_destroy(&list), -1;
    uint64_t seq = alertdb_feed_head(self->db) + 1;
    alerts_topic(self, "digest", topic, sizeof topic);
    msgpack_sbuffer_clear(&self->rec);
    msgpack_packer_init(&pk, &self->rec, msgpack_sbuffer_write);
    pack_envelope(&pk, seq, topic, at, "digest", ALERTS_ACTOR, 2);
    wire_pack_cstr(&pk, "day"), wire_pack_cstr(&pk, name);
    wire_pack_cstr(&pk, "alerts"), msgpack_pack_array(&pk, self->ndigest);
    msgpack_sbuffer_write(&self->rec, list.data, list.size);
    msgpack_sbuffer_destroy(&list);
    if (alertdb_digest_put(self->db, name, seq) != STORE_OK)
        return -1;
    return append_record(self, seq, topic);
}

/* Runs fn for the latest period end (a day's or a week's cut-off) at or before now that is
 * past the cursor. An unset cursor, or one ahead of the clock (only a test's clock moves
 * back), is set to that end without running: a fresh daemon has nothing to report yet. */
int alerts_advance(alerts_t *self, const char *cursor, int64_t end, int (*fn)(alerts_t *, int64_t))
{
    int64_t last;
    if (alertdb_meta_get(self->db, cursor, &last) != 0 || last > end)
        return alertdb_meta_put(self->db, cursor, end) == STORE_OK ? 0 : -1;
    if (last == end)
        return 0;
    if (fn(self, end) < 0)
        return -1;
    return alertdb_meta_put(self->db, cursor, end) == STORE_OK ? 0 : -1;
}

int alerts_take_due(alerts_t *self, int64_t now)
{
    if (!self)
        return 0;
    if (alertdb_take_escalations(self->db, now, escalate, self) < 0 ||
        alerts_take_obligations(self, now) < 0)
        return -1;
    if (alerts_advance(self, "digest", alerts_latest_cutoff_day(self, now), digest) < 0)
        return -1;
    return alerts_take_week(self, now);
}

int64_t alerts_next_due(alerts_t *self, int64_t now)
{
    int64_t t, last;
    /* The next day's cut-off: noon of the next day is safely inside it. */
    int64_t due = alerts_cutoff_of(
        self, calendar_day_start(community_calendar(self->community),
                                 alerts_latest_cutoff_day(self, now) + 36 * 3600000LL));
    if (!self || alertdb_meta_get(self->db, "digest", &last) != 0 ||
        alertdb_meta_get(self->db, "week", &last) != 0)
        return now;
    if (alertdb_next_escalation(self->db, &t) == 0 && t < due)
        due = t;
    if (alertdb_next_due(self->db, &t) == 0 && t < due)
        due = t;
    return due;
}
