/*
 * test_gen: the sample-month generator (tests/gen/gridbus-gen.c) against the real daemon.
 *
 * The generator ($GRIDBUS_GEN, default build/gridbus-gen) is run as a separate process, as
 * the README shows it, against a gridbusd started with testing.allow_clock (it moves the
 * daemon's clock through the month itself, so nothing here sleeps). Then everything is
 * checked through the query op, as a supervision office would read it: the month's figures
 * (the repairs it completed and the fees it waived, over 7,000 yuan as in the seed), and
 * the same-day alerts its traffic is built to raise (a cadre's short week, the storefront
 * lease overdue since last month, a self-approved expense, a duplicate entry number, high
 * severity patrol issues). A second run with the same seed must be a pure resend.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gbcase.h"
#include "runcli.h"

/* One timeout for every suite and test of this file (see test_cli.c). */
#define SUITE_TIMEOUT 120
/* Hang guard of one generator run. */
#define GEN_WAIT_MS 100000

#define MONTH "2026-11"

static gbc_t *t;

static void teardown(void)
{
    if (t)
        cr_expect_eq(gbc_stop(&t), 0, "gridbusd did not exit cleanly");
}

TestSuite(gen, .fini = teardown, .timeout = SUITE_TIMEOUT);

/* Runs the generator for MONTH with seed and --follow-ups: its summary line (a new
 * reference), asserting it exited 0 and printed one JSON object. */
static json_t *run_gen(const char *seed)
{
    const char *bin = runcli_bin("GRIDBUS_GEN", "build/gridbus-gen");
    cr_assert_eq(access(bin, X_OK), 0,
                 "%s is missing: build it (Makefile target build/gridbus-gen, see tests/gen/"
                 "README.md) or set GRIDBUS_GEN",
                 bin);
    run_t r;
    cr_assert_eq(runcli(&r, NULL, bin, NULL,
                        (const char *const[]){"--endpoint", gbd_endpoint(t->d, "ingest"), "--month",
                                              MONTH, "--seed", seed, "--follow-ups", NULL},
                        GEN_WAIT_MS),
                 0, "gridbus-gen: %s", runcli_why());
    cr_assert_eq(r.status, 0, "gridbus-gen exited %d:\n%s%s", r.status, r.out, r.err);
    json_error_t je;
    json_t *summary = json_loads(r.out, 0, &je);
    cr_assert(json_is_object(summary), "not one JSON object (%s): %s", je.text, r.out);
    run_free(&r);
    return summary;
}

static json_int_t num(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    cr_assert(json_is_integer(v), "no integer %s in %s", key, json_dumps(obj, JSON_COMPACT));
    return json_integer_value(v);
}

/* Every alert raised on a day of MONTH, in day order: an array (a new reference). */
static json_t *month_alerts(void)
{
    json_t *all = json_array();
    for (int day = 1; day <= 30; day++) {
        char d[16];
        snprintf(d, sizeof d, MONTH "-%02d", day);
        const json_t *res =
            gbc_query(t, json_pack("{s:s, s:s, s:i}", "what", "alerts", "day", d, "limit", 500));
        cr_assert_not_null(res, "query alerts %s: %s", d, gbt_show(t->c));
        json_array_extend(all, json_object_get(res, "alerts"));
    }
    return all;
}

static size_t count_rule(const json_t *alerts, const char *rule, const char *severity)
{
    size_t n = 0, i;
    const json_t *a;
    json_array_foreach(alerts, i, a)
    {
        if (!strcmp(gbc_str(a, "rule"), rule) &&
            (!severity || !strcmp(gbc_str(a, "severity"), severity)))
            n++;
    }
    return n;
}

/* Open tasks of a grid or assignee (overdue ones only, or all open), every page: through
 * the index, or (full) from the whole table with status "all", counting the open ones. */
static size_t listed(const char *by, const char *key, int overdue, bool full)
{
    size_t n = 0;
    json_int_t after = 0;
    do {
        json_t *req = json_pack("{s:s, s:s, s:I, s:i}", "what", "tasks", by, key, "after", after,
                                "limit", 500);
        if (overdue)
            json_object_set_new(req, "overdue", json_true());
        if (full)
            json_object_set_new(req, "status", json_string("all"));
        const json_t *res = gbc_query(t, req), *task;
        cr_assert_not_null(res, "tasks by %s %s: %s", by, key, gbt_show(t->c));
        size_t i;
        json_array_foreach(json_object_get(res, "tasks"), i, task) n +=
            !full || strcmp(json_string_value(json_object_get(task, "status")), "closed") != 0;
        after = json_integer_value(json_object_get(res, "next"));
    } while (after);
    return n;
}

Test(gen, a_month_of_daidong_through_the_public_protocol)
{
    t = gbc_start(NULL, NULL);
    cr_assert_not_null(t, "gridbusd did not start: %s", gbt_why());
    json_t *s = run_gen("42");

    /* nothing refused, every follow-up found its task */
    cr_expect_eq(num(s, "nacked"), 0);
    cr_expect_eq(num(s, "acked"), num(s, "events"));
    cr_expect_eq(num(s, "dup"), 0, "a fresh daemon");
    cr_expect_eq(num(s, "skipped"), 0);
    cr_expect_gt(num(s, "events"), 500);
    cr_expect_eq(num(s, "repairs"), 106);

    /* the month's figures: the repairs it completed, over 7,000 yuan waived */
    const json_t *res = gbc_query(t, json_pack("{s:s, s:s}", "what", "stats", "month", MONTH));
    cr_assert_not_null(res, "query stats: %s", gbt_show(t->c));
    const json_t *stats = json_object_get(res, "stats");
    const json_t *total = json_object_get(stats, "total");
    cr_expect_eq(num(total, "repairs_completed"), num(s, "repairs_completed"));
    cr_expect_geq(num(total, "repairs_completed"), 100, "most of the 106 repairs are done");
    cr_expect_lt(num(total, "repairs_completed"), 106, "a few are left open on purpose");
    cr_expect_gt(num(total, "fees_waived_fen"), 700000);
    cr_expect_lt(num(total, "fees_waived_fen"), 800000);
    cr_expect_eq(num(total, "fees_waived_fen"), num(s, "fees_waived_fen"));
    cr_expect_eq(num(json_object_get(stats, "by_type"), "repair.requested"), 106);
    cr_expect_eq(num(total, "tasks"), num(s, "tasks"), "every task opened in the month");

    /* the alerts its traffic raises, each on its day */
    json_t *alerts = month_alerts();
    cr_expect_eq(count_rule(alerts, "visit-quota", NULL), 1, "one cadre, one short week");
    cr_expect_geq(count_rule(alerts, "ledger-overdue", NULL), 1, "the storefront lease");
    cr_expect_geq(count_rule(alerts, "self-approval", NULL), 1);
    cr_expect_geq(count_rule(alerts, "duplicate-entry", NULL), 1);
    cr_expect_geq(count_rule(alerts, "patrol-high", "high"), 1);
    cr_expect_eq(count_rule(alerts, "expense-approvals", NULL), 0,
                 "the subsidy has its two approvals");
    /* what the summary counted on the alerts feed is what the month holds */
    const json_t *raised = json_object_get(s, "alerts");
    const char *rule;
    const json_t *n;
    size_t total_raised = 0;
    json_object_foreach((json_t *)raised, rule, n)
    {
        cr_expect_eq((json_int_t)count_rule(alerts, rule, NULL), json_integer_value(n), "rule %s",
                     rule);
        total_raised += (size_t)json_integer_value(n);
    }
    cr_expect_eq(json_array_size(alerts), total_raised);
    json_decref(alerts);

    /* the month's review pack flags the entries the alerts were raised on, the storefront
     * lease (a due date that passed, raised by the timer) among them */
    const json_t *audit = json_object_get(
        gbc_query(t, json_pack("{s:s, s:s}", "what", "audit", "month", MONTH)), "audit");
    cr_assert_not_null(audit, "query audit: %s", gbt_show(t->c));
    const json_t *entries = json_object_get(audit, "entries"), *e, *f;
    size_t i, j, overdue = 0, self = 0;
    json_array_foreach(entries, i, e) json_array_foreach(json_object_get(e, "flags"), j, f)
    {
        overdue += strcmp(json_string_value(f), "ledger-overdue") == 0;
        self += strcmp(json_string_value(f), "self-approval") == 0;
    }
    cr_expect_geq(overdue, 1, "the lease's ledger-overdue flag");
    cr_expect_geq(self, 1, "the self-approved expense's flag");

    /* After a month of re-routes, closes and missed deadlines, the indexes (derived from
     * the task feed by the indexer) agree with the tasks themselves, read in full. */
    static const char *const keys[][2] = {{"grid", "g1"},           {"grid", "g2"},
                                          {"grid", "g3"},           {"assignee", "helper.g1.1"},
                                          {"assignee", "gao.feng"}, {"assignee", "fire.1"}};
    size_t compared[2] = {0, 0};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
        for (int od = 0; od < 2; od++) {
            size_t idx_n = listed(keys[k][0], keys[k][1], od, false);
            cr_expect_eq(idx_n, listed(keys[k][0], keys[k][1], od, true), "open%s tasks of %s %s",
                         od ? " overdue" : "", keys[k][0], keys[k][1]);
            compared[od] += idx_n;
        }
    cr_expect(compared[0] > 0 && compared[1] > 0, "open tasks compared: %zu, overdue: %zu",
              compared[0], compared[1]);

    /* the same seed again: the same events under the same ids, so a pure resend */
    json_t *again = run_gen("42");
    cr_expect_eq(num(again, "events"), num(s, "events"));
    cr_expect_eq(num(again, "dup"), num(s, "events"), "every event acked as a duplicate");
    cr_expect_eq(num(again, "nacked"), 0);
    json_decref(again);
    json_decref(s);
}
