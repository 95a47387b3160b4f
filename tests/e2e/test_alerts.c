/*
 * test_alerts: the same-day alert loop against the real daemon and the shipped sample's
 * `alerts:` block (conf/daidong.yaml): each rule fires on its trigger and stays silent just
 * below it; one alert per rule, subject and community day; escalation on the clock, stopped
 * by an acknowledgement and bounded; the digest at the cut-off; a restart mid-day; the
 * alerts feed and its replay. Time moves only through the daemon's clock (testing.
 * allow_clock), so nothing here sleeps.
 *
 * The week used is Monday 2026-03-16 to Sunday 2026-03-22, no holidays; the cut-off is
 * 17:30 Beijing time; the levels are discipline_commissioner (gao.feng), then
 * discipline_secretary (su.yuanyuan).
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "gbcase.h"

/* One timeout for every suite and test of this file (see test_cli.c). */
#define SUITE_TIMEOUT 120

#define MINUTE INT64_C(60000)
#define HOUR (60 * MINUTE)

static gbc_t *t;

static void teardown(void)
{
    if (t)
        cr_expect_eq(gbc_stop(&t), 0, "gridbusd did not exit cleanly");
}

TestSuite(alerts, .fini = teardown, .timeout = SUITE_TIMEOUT);

static int64_t mar(int day, int hour, int minute)
{
    return gbc_local(2026, 3, day, hour, minute);
}

static void clock_to(int64_t at)
{
    cr_assert_eq(gbc_clock(t, at), 0, "clock: %s", gbt_show(t->c));
}

static void start_at(int64_t at)
{
    t = gbc_start(NULL, NULL);
    cr_assert_not_null(t, "gridbusd did not start: %s", gbt_why());
    clock_to(at);
}

static uint64_t publish(const char *type, const char *by, const char *grid, const char *extra)
{
    json_t *x = extra ? gbc_json(extra) : NULL;
    cr_assert(!extra || x, "bad json %s", extra);
    uint64_t seq = gbc_publish(t, gbc_field(t, type, by, grid, x));
    cr_assert(seq, "%s %s: %s", type, extra ? extra : "", gbt_show(t->c));
    return seq;
}

static void patrol(const char *grid, const char *category, const char *severity)
{
    char body[128];
    snprintf(body, sizeof body, "{'category':'%s','severity':'%s'}", category, severity);
    publish("patrol.issue_found", "police.g1", grid, body);
}

static void ledger(const char *by, const char *body)
{
    publish("ledger.entry_submitted", by, NULL, body);
}

/* The alerts of day raised by rule (a new reference: an array). */
static json_t *alerts_of(const char *day, const char *rule)
{
    const json_t *res = gbc_query(t, json_pack("{s:s, s:s}", "what", "alerts", "day", day));
    cr_assert_not_null(res, "query alerts %s: %s", day, gbt_show(t->c));
    json_t *out = json_array();
    const json_t *list = json_object_get(res, "alerts");
    for (size_t i = 0; i < json_array_size(list); i++)
        if (!rule || !strcmp(gbc_str(json_array_get(list, i), "rule"), rule))
            json_array_append(out, json_array_get(list, i));
    return out;
}

/* The one alert of rule on day (with history), asserting there is exactly one. */
static json_t *the_alert(const char *day, const char *rule)
{
    json_t *list = alerts_of(day, rule);
    cr_assert_eq(json_array_size(list), 1, "%s on %s: %zu alerts", rule, day,
                 json_array_size(list));
    const char *id = gbc_str(json_array_get(list, 0), "id");
    const json_t *res = gbc_query(t, json_pack("{s:s, s:s}", "what", "alert", "id", id));
    cr_assert_not_null(res, "query alert %s: %s", id, gbt_show(t->c));
    json_t *a = json_incref(json_object_get(res, "alert"));
    json_decref(list);
    return a;
}

static size_t count_of(const char *day, const char *rule)
{
    json_t *list = alerts_of(day, rule);
    size_t n = json_array_size(list);
    json_decref(list);
    return n;
}

static const wire_reply_t *alert_step(const char *type, const char *id, const char *by)
{
    char body[96];
    snprintf(body, sizeof body, "{'alert':'%s'}", id);
    json_t *ev = gbc_field(t, type, by, NULL, gbc_json(body));
    const wire_reply_t *r = gbt_publish(t->c, ev);
    json_decref(ev);
    return r;
}

/* ---- rules fire, and stay silent just below ---- */

Test(alerts, patrol_rules_fire_on_high_and_fire_hazard_only)
{
    start_at(mar(16, 10, 0));
    patrol("g1", "traffic", "medium");
    cr_expect_eq(count_of("2026-03-16", NULL), 0, "a medium traffic issue raises nothing");
    patrol("g1", "traffic", "high");
    cr_expect_eq(count_of("2026-03-16", "patrol-high"), 1);
    cr_expect_eq(count_of("2026-03-16", "fire-hazard"), 0);
    patrol("g2", "fire_hazard", "low");
    json_t *a = the_alert("2026-03-16", "fire-hazard");
    cr_expect_str_eq(gbc_str(a, "subject"), "g2");
    cr_expect_str_eq(gbc_str(a, "severity"), "high");
    cr_expect_str_eq(gbc_str(a, "notify"), "discipline_commissioner");
    cr_expect_str_eq(gbc_str(a, "status"), "open");
    cr_expect_eq(gbc_int(a, "raised_at"), mar(16, 10, 0));
    cr_expect_eq(gbc_int(a, "escalate_at"), mar(16, 11, 0), "fire-hazard: ack_within 1h");
    json_decref(a);
}

Test(alerts, ledger_rules_fire_just_above_their_thresholds)
{
    start_at(mar(16, 9, 0));
    ledger("xu.na", "{'amount_fen':500000,'approved_by':['gao.feng']}");
    ledger("xu.na", "{'amount_fen':600000,'approved_by':['gao.feng','li.qiang']}");
    ledger("xu.na", "{'amount_fen':900000,'direction':'income','counterparty':'rent'}");
    cr_expect_eq(count_of("2026-03-16", "expense-approvals"), 0, "at the threshold, or approved");
    ledger("xu.na", "{'entry':'E-big','amount_fen':500001,'approved_by':['gao.feng']}");
    json_t *a = the_alert("2026-03-16", "expense-approvals");
    cr_expect_str_eq(gbc_str(a, "subject"), "E-big");
    json_decref(a);

    cr_expect_eq(count_of("2026-03-16", "self-approval"), 0);
    ledger("xu.na", "{'entry':'E-self','counterparty':'x','approved_by':['xu.na']}");
    a = the_alert("2026-03-16", "self-approval");
    cr_expect_str_eq(gbc_str(a, "subject"), "E-self");
    json_decref(a);
}

Test(alerts, ledger_duplicates_by_number_and_by_pair_within_the_window)
{
    start_at(mar(16, 9, 0));
    int64_t d0 = mar(10, 9, 0);
    char body[256];
    snprintf(body, sizeof body,
             "{'entry':'P-1','counterparty':'shop A','amount_fen':777,'due':%lld}",
             (long long)(d0 + 400 * 24 * HOUR));
    ledger("xu.na", body);
    ledger("xu.na", "{'entry':'P-1','counterparty':'shop B','amount_fen':1}");
    json_t *a = the_alert("2026-03-16", "duplicate-entry");
    cr_expect_str_eq(gbc_str(a, "subject"), "P-1");
    json_decref(a);
    /* Same counterparty and amount: GBT_AT for both, within 7 days. */
    ledger("xu.na", "{'entry':'Q-1','counterparty':'shop C','amount_fen':555}");
    cr_expect_eq(count_of("2026-03-16", "duplicate-entry"), 1, "a first pair is no duplicate");
    ledger("xu.na", "{'entry':'Q-2','counterparty':'shop C','amount_fen':555}");
    cr_expect_eq(count_of("2026-03-16", "duplicate-entry"), 2);
    ledger("xu.na", "{'entry':'Q-3','counterparty':'shop C','amount_fen':556}");
    cr_expect_eq(count_of("2026-03-16", "duplicate-entry"), 2, "another amount is no duplicate");
}

Test(alerts, ledger_overdue_without_a_settling_entry)
{
    start_at(mar(16, 9, 0));
    char body[256];
    snprintf(body, sizeof body, "{'entry':'LEASE-1','counterparty':'storefront','due':%lld}",
             (long long)mar(18, 12, 0));
    ledger("xu.na", body);
    snprintf(body, sizeof body, "{'entry':'LEASE-2','counterparty':'storefront 2','due':%lld}",
             (long long)mar(18, 12, 0));
    ledger("xu.na", body);
    clock_to(mar(17, 10, 0));
    ledger("xu.na", "{'entry':'LEASE-2-back','counterparty':'storefront 2','settles':'LEASE-2'}");
    clock_to(mar(18, 11, 59));
    cr_expect_eq(count_of("2026-03-18", "ledger-overdue"), 0, "not yet due");
    clock_to(mar(18, 12, 0));
    json_t *a = the_alert("2026-03-18", "ledger-overdue");
    cr_expect_str_eq(gbc_str(a, "subject"), "LEASE-1", "LEASE-2 was settled");
    json_decref(a);
}

Test(alerts, task_deadline_missed)
{
    start_at(mar(16, 10, 0));
    uint64_t seq = gbc_open(t, "repair.requested", "zhou.yang", "g1", "{'category':'water'}");
    cr_assert(seq);
    clock_to(mar(16, 11, 59));
    cr_expect_eq(count_of("2026-03-16", "task-overdue"), 0);
    clock_to(mar(16, 12, 0)); /* accept within 2h of working time */
    json_t *a = the_alert("2026-03-16", "task-overdue");
    char id[32];
    snprintf(id, sizeof id, "t-%" PRIu64, seq);
    cr_expect_str_eq(gbc_str(a, "subject"), id);
    json_decref(a);
}

/* ---- same day, next day ---- */

Test(alerts, one_alert_per_rule_subject_and_day)
{
    start_at(mar(16, 9, 0));
    patrol("g1", "traffic", "high");
    clock_to(mar(16, 15, 0));
    patrol("g1", "public_security", "high");
    patrol("g2", "traffic", "high");
    json_t *list = alerts_of("2026-03-16", "patrol-high");
    cr_assert_eq(json_array_size(list), 2, "g1 and g2");
    json_decref(list);
    const json_t *res =
        gbc_query(t, json_pack("{s:s, s:s}", "what", "alerts", "day", "2026-03-16"));
    const json_t *g1 = NULL;
    for (size_t i = 0; i < json_array_size(json_object_get(res, "alerts")); i++) {
        const json_t *x = json_array_get(json_object_get(res, "alerts"), i);
        if (!strcmp(gbc_str(x, "subject"), "g1") && !strcmp(gbc_str(x, "rule"), "patrol-high"))
            g1 = x;
    }
    cr_assert_not_null(g1);
    cr_expect_eq(gbc_int(g1, "count"), 2);
    cr_expect_eq(json_array_size(json_object_get(g1, "evidence")), 2);
    cr_expect_eq(gbc_int(g1, "last_at"), mar(16, 15, 0));
    clock_to(mar(17, 9, 0));
    patrol("g1", "traffic", "high");
    json_t *a = the_alert("2026-03-17", "patrol-high");
    cr_expect_eq(gbc_int(a, "count"), 1, "the next day raises a new alert");
    json_decref(a);
}

/* ---- escalation and acknowledgement ---- */

Test(alerts, escalation_timeline_bound_and_acknowledgement)
{
    start_at(mar(16, 10, 0));
    patrol("g1", "traffic", "high"); /* patrol-high: 2h, at most 1 escalation (2 levels) */
    json_t *a = the_alert("2026-03-16", "patrol-high");
    char id[32];
    snprintf(id, sizeof id, "%s", gbc_str(a, "id"));
    json_decref(a);
    clock_to(mar(16, 11, 59));
    a = the_alert("2026-03-16", "patrol-high");
    cr_expect_eq(gbc_int(a, "escalations"), 0);
    json_decref(a);
    clock_to(mar(16, 12, 0));
    a = the_alert("2026-03-16", "patrol-high");
    cr_expect_eq(gbc_int(a, "escalations"), 1);
    cr_expect_eq(gbc_int(a, "level"), 1);
    cr_expect_str_eq(gbc_str(a, "notify"), "discipline_secretary");
    cr_expect_eq(gbc_int(a, "escalate_at"), 0, "bounded: no further escalation pending");
    cr_expect_eq(gbc_steps(a, "escalated"), 1);
    json_decref(a);
    clock_to(mar(16, 17, 0));
    a = the_alert("2026-03-16", "patrol-high");
    cr_expect_eq(gbc_int(a, "escalations"), 1, "never past max_escalations");
    json_decref(a);

    const wire_reply_t *r = alert_step("alert.acknowledged", id, "zhou.yang");
    cr_expect(r && r->op == WIRE_REPLY_NACK && r->code == GB_E_FORBIDDEN, "%s", gbt_show(t->c));
    r = alert_step("alert.acknowledged", "a-999", "su.yuanyuan");
    cr_expect(r && r->op == WIRE_REPLY_NACK && r->code == GB_E_TASK, "%s", gbt_show(t->c));
    r = alert_step("alert.acknowledged", id, "su.yuanyuan");
    cr_expect(r && r->op == WIRE_REPLY_ACK, "%s", gbt_show(t->c));
    r = alert_step("alert.resolved", id, "gao.feng");
    cr_expect(r && r->op == WIRE_REPLY_ACK, "%s", gbt_show(t->c));
    r = alert_step("alert.acknowledged", id, "gao.feng");
    cr_expect(r && r->op == WIRE_REPLY_NACK && r->code == GB_E_STATE, "%s", gbt_show(t->c));
    a = the_alert("2026-03-16", "patrol-high");
    cr_expect_str_eq(gbc_str(a, "status"), "resolved");
    cr_expect_eq(gbc_steps(a, "acknowledged"), 1);
    cr_expect_eq(gbc_steps(a, "resolved"), 1);
    json_decref(a);
}

Test(alerts, acknowledgement_stops_escalation)
{
    start_at(mar(16, 10, 0));
    patrol("g1", "traffic", "high");
    json_t *a = the_alert("2026-03-16", "patrol-high");
    char id[32];
    snprintf(id, sizeof id, "%s", gbc_str(a, "id"));
    json_decref(a);
    clock_to(mar(16, 11, 0));
    const wire_reply_t *r = alert_step("alert.acknowledged", id, "gao.feng");
    cr_assert(r && r->op == WIRE_REPLY_ACK, "%s", gbt_show(t->c));
    clock_to(mar(16, 15, 0));
    a = the_alert("2026-03-16", "patrol-high");
    cr_expect_str_eq(gbc_str(a, "status"), "acknowledged");
    cr_expect_eq(gbc_int(a, "escalations"), 0);
    cr_expect_str_eq(gbc_str(a, "notify"), "discipline_commissioner");
    json_decref(a);
}

/* ---- the digest ---- */

static const json_t *digest_of(const char *day)
{
    const json_t *res = gbc_query(t, json_pack("{s:s, s:s}", "what", "alerts", "day", day));
    cr_assert_not_null(res, "%s", gbt_show(t->c));
    return json_object_get(res, "digest");
}

Test(alerts, digest_at_the_cutoff_lists_what_is_still_open)
{
    start_at(mar(16, 9, 0));
    patrol("g1", "traffic", "high");
    patrol("g2", "traffic", "high");
    json_t *list = alerts_of("2026-03-16", "patrol-high");
    const char *id = gbc_str(json_array_get(list, 1), "id");
    const wire_reply_t *r = alert_step("alert.resolved", id, "gao.feng");
    cr_assert(r && r->op == WIRE_REPLY_ACK, "%s", gbt_show(t->c));
    json_decref(list);
    clock_to(mar(16, 17, 29));
    cr_expect(json_is_null(digest_of("2026-03-16")), "no digest before the cut-off");
    clock_to(mar(16, 17, 30));
    const json_t *d = digest_of("2026-03-16");
    cr_assert(json_is_object(d), "a digest at 17:30: %s", gbt_show(t->c));
    cr_expect_str_eq(gbc_str(d, "change"), "digest");
    cr_expect_eq(gbc_int(d, "at"), mar(16, 17, 30));
    /* The patrol tasks' missed deadlines are in it too: look at patrol-high only. */
    const json_t *all = json_object_get(d, "alerts");
    size_t n = 0;
    for (size_t i = 0; i < json_array_size(all); i++) {
        const json_t *x = json_array_get(all, i);
        if (!strcmp(gbc_str(x, "rule"), "patrol-high")) {
            n++;
            cr_expect_str_eq(gbc_str(x, "subject"), "g1", "the resolved one is left out");
        }
        cr_expect_str_neq(gbc_str(x, "status"), "resolved");
    }
    cr_expect_eq(n, 1, "the open patrol-high alert");
    json_t *req = json_pack("{s:s, s:s, s:i, s:s}", "op", "replay", "stream", "alerts", "from", 1,
                            "filter", "alert/daidong/digest");
    r = gbt_call_json(t->c, req);
    json_decref(req);
    cr_assert(r && r->op == WIRE_REPLY_RECORDS, "%s", gbt_show(t->c));
    cr_expect_eq(r->records->via.array.size, 1, "one digest on the feed");
}

/* ---- the week's visit check ---- */

static void visit(const char *cadre, int day, int hour)
{
    json_t *ev = gbc_field(t, "visit.logged", cadre, "g1", NULL);
    json_object_set_new(ev, "at", json_integer(mar(day, hour, 0)));
    cr_assert(gbc_publish(t, ev), "%s", gbt_show(t->c));
}

Test(alerts, visit_quota_at_the_week_cutoff)
{
    start_at(mar(16, 9, 0));
    visit("gong.xiujuan", 16, 9), visit("gong.xiujuan", 17, 9), visit("gong.xiujuan", 20, 9);
    visit("zhang.teng", 16, 9), visit("zhang.teng", 16, 15), visit("zhang.teng", 18, 9);
    visit("zhang.teng", 23, 9); /* next week */
    clock_to(mar(22, 17, 29));
    cr_expect_eq(count_of("2026-03-22", "visit-quota"), 0, "not before Sunday's cut-off");
    clock_to(mar(22, 17, 30));
    json_t *list = alerts_of("2026-03-22", "visit-quota");
    cr_assert_eq(json_array_size(list), 2, "zhang.teng (2 days) and li.zhen (0)");
    for (size_t i = 0; i < 2; i++)
        cr_expect_str_neq(gbc_str(json_array_get(list, i), "subject"), "gong.xiujuan");
    json_decref(list);
}

/* ---- restart ---- */

Test(alerts, alerts_and_pending_escalations_survive_a_restart)
{
    start_at(mar(16, 10, 0));
    patrol("g1", "traffic", "high");
    clock_to(mar(16, 11, 0));
    cr_assert_eq(gbd_restart(t->d), 0, "restart");
    cr_assert_eq(gbc_reconnect(t), 0, "reconnect");
    clock_to(mar(16, 11, 30));
    patrol("g1", "traffic", "high"); /* counted on the same alert */
    clock_to(mar(16, 12, 0));
    json_t *a = the_alert("2026-03-16", "patrol-high");
    cr_expect_eq(gbc_int(a, "count"), 2);
    cr_expect_eq(gbc_int(a, "escalations"), 1);
    cr_expect_str_eq(gbc_str(a, "notify"), "discipline_secretary");
    int i = gbc_step_index(a, "escalated");
    cr_assert(i >= 0);
    cr_expect_eq(gbc_int(json_array_get(json_object_get(a, "history"), (size_t)i), "at"),
                 mar(16, 12, 0));
    json_decref(a);
    /* The feed holds raised, counted and escalated, in order. */
    json_t *req = json_pack("{s:s, s:s, s:i, s:s}", "op", "replay", "stream", "alerts", "from", 1,
                            "filter", "alert/daidong/patrol-high");
    const wire_reply_t *r = gbt_call_json(t->c, req);
    json_decref(req);
    cr_assert(r && r->op == WIRE_REPLY_RECORDS, "%s", gbt_show(t->c));
    cr_expect_eq(r->records->via.array.size, 3, "raised, counted, escalated");
}
