/*
 * test_cli_alerts: the supervision office's commands of the gridbus CLI against a real
 * gridbusd: `tail alerts` (the alerts feed as JSON lines, resumable from a cursor file),
 * `alert ack|resolve ID` (with the daemon's refusals as exit 1), `alerts --day`, and the
 * monthly joint review pack `audit --month` (JSON and --text), which HTTP's /v1/audit
 * mirrors.
 *
 * The CLI runs as a separate process ($GRIDBUS, default build/gridbus); outputs go to
 * files, never pipes, and every run has a hang guard. The daemon runs on an edited copy of
 * conf/daidong.yaml (alerts.review_day: 25) with its clock set (testing.allow_clock), so
 * alert days and months do not depend on when the tests run. Nothing sleeps.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gbcase.h"
#include "httptest.h"
#include "runcli.h"

/* One timeout for every suite and test of this file (see test_cli.c). */
#define SUITE_TIMEOUT 180

static gbc_t *t;

static void setup(void)
{
    static const gbc_edit_t review_day[] = {
        {"  cutoff: \"17:30\"", "  cutoff: \"17:30\"\n  review_day: 25"}, {NULL, NULL}};
    t = gbc_start(NULL, review_day);
    cr_assert_not_null(t, "gridbusd did not start: %s", gbt_why());
    /* Friday 2026-11-20 10:00 in Daidong: the alerts below are raised on 2026-11-20. */
    cr_assert_eq(gbc_clock(t, gbc_local(2026, 11, 20, 10, 0)), 0, "clock: %s", gbt_show(t->c));
}

static void teardown(void)
{
    if (t)
        cr_expect_eq(gbc_stop(&t), 0, "gridbusd did not exit cleanly");
}

TestSuite(cli_alerts, .init = setup, .fini = teardown, .timeout = SUITE_TIMEOUT);

/* ---- running the CLI --------------------------------------------------------------- */

/* Starts gridbus --endpoint INGEST args... with its outputs on the given files. */
static pid_t spawn_cli(FILE *out, FILE *err, const char *const *args)
{
    pid_t pid =
        runcli_spawn(NULL, out, err, runcli_bin("GRIDBUS", "build/gridbus"),
                     (const char *const[]){"--endpoint", gbd_endpoint(t->d, "ingest"), NULL}, args);
    cr_assert_geq(pid, 0, "gridbus: %s", runcli_why());
    return pid;
}

/* Waits for a spawned gridbus within the hang guard; returns its exit status. */
static int wait_cli(pid_t pid)
{
    int status = runcli_wait(pid, RUNCLI_WAIT_MS);
    cr_expect_geq(status, 0, "gridbus: %s", runcli_why());
    return status;
}

static char *slurp(FILE *f)
{
    char *s = runcli_slurp(f);
    cr_assert_not_null(s, "%s", runcli_why());
    return s;
}

static run_t run_cli_v(const char *const *args)
{
    run_t r;
    cr_assert_eq(runcli(&r, NULL, runcli_bin("GRIDBUS", "build/gridbus"),
                        (const char *const[]){"--endpoint", gbd_endpoint(t->d, "ingest"), NULL},
                        args, RUNCLI_WAIT_MS),
                 0, "gridbus: %s", runcli_why());
    return r;
}

/* Runs and expects exit 0; returns stdout (the caller frees). */
static char *gb_ok_v(const char *const *args)
{
    run_t r = run_cli_v(args);
    cr_assert_eq(r.status, 0, "gridbus %s ...: exit %d: %s", args[0], r.status, r.err);
    free(r.err);
    return r.out;
}
#define gb_ok(...) gb_ok_v((const char *const[]){__VA_ARGS__, NULL})

/* Runs and expects the exit status and, on stderr, the text. */
static void gb_fails_v(int status, const char *text, const char *const *args)
{
    run_t r = run_cli_v(args);
    cr_expect_eq(r.status, status, "gridbus %s %s: exit %d, want %d; stderr: %s", args[0],
                 args[1] ? args[1] : "", r.status, status, r.err);
    cr_expect(strstr(r.err, text), "stderr '%s' lacks '%s'", r.err, text);
    cr_expect_str_eq(r.out, "", "nothing on stdout");
    free(r.out), free(r.err);
}
#define gb_fails(status, text, ...)                                                                \
    gb_fails_v(status, text, (const char *const[]){__VA_ARGS__, NULL})

/* The lines of text as a JSON array of parsed values; frees text. */
static json_t *json_lines(char *text)
{
    json_t *arr = json_array();
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        cr_assert_not_null(nl, "the last line has no newline: %s", p);
        json_error_t e;
        json_t *j = json_loadb(p, (size_t)(nl - p), 0, &e);
        cr_assert_not_null(j, "not JSON: %.*s (%s)", (int)(nl - p), p, e.text);
        json_array_append_new(arr, j);
        p = nl + 1;
    }
    free(text);
    return arr;
}

static char path_buf[512];

static const char *state_file(const char *name)
{
    snprintf(path_buf, sizeof path_buf, "%s/%s", gbd_state_dir(t->d), name);
    return path_buf;
}

/* ---- events ------------------------------------------------------------------------ */

static void patrol(const char *grid, const char *category)
{
    char body[128];
    snprintf(body, sizeof body, "{'category':'%s','severity':'high'}", category);
    cr_assert(gbc_publish(t, gbc_field(t, "patrol.issue_found", "police.g1", grid, gbc_json(body))),
              "patrol: %s", gbt_show(t->c));
}

/* A ledger entry at a local time of November 2026. */
static void ledger(int day, const char *by, const char *body)
{
    json_t *ev = gbc_field(t, "ledger.entry_submitted", by, NULL, gbc_json(body));
    json_object_set_new(ev, "at", json_integer(gbc_local(2026, 11, day, 9, 30)));
    cr_assert(gbc_publish(t, ev), "ledger %s: %s", body, gbt_show(t->c));
}

/* The id of the only alert of the day raised by rule. */
static const char *alert_id(const char *rule, char *buf, size_t len)
{
    const json_t *res =
        gbc_query(t, json_pack("{s:s, s:s}", "what", "alerts", "day", "2026-11-20"));
    cr_assert_not_null(res, "query alerts: %s", gbt_show(t->c));
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(res, "alerts"), i, a) if (!strcmp(gbc_str(a, "rule"), rule))
    {
        snprintf(buf, len, "%s", gbc_str(a, "id"));
        return buf;
    }
    cr_assert_fail("no %s alert", rule);
    return NULL;
}

/* Checks that lines are alerts feed records with exactly the seqs first..last. */
static void expect_records(const json_t *lines, json_int_t first, json_int_t last)
{
    cr_assert_eq(json_array_size(lines), (size_t)(last - first + 1), "%zu records, want %lld..%lld",
                 json_array_size(lines), (long long)first, (long long)last);
    for (size_t i = 0; i < json_array_size(lines); i++) {
        const json_t *r = json_array_get(lines, i);
        cr_expect_eq(gbc_int(r, "seq"), first + (json_int_t)i, "record %zu", i);
        cr_expect(gbt_starts_with(gbc_str(r, "topic"), "alert/daidong/"), "topic %s",
                  gbc_str(r, "topic"));
        cr_expect(json_is_object(json_object_get(r, "alert")), "record %zu has an alert", i);
    }
}

/* ---- tail alerts ------------------------------------------------------------------- */

/* A subscriber stopped while alerts are raised picks up exactly where it stopped. */
Test(cli_alerts, tail_alerts_resumes_from_its_cursor_and_misses_nothing)
{
    char out_path[512], cursor[512];
    const char *feed = gbd_endpoint(t->d, "alerts");
    snprintf(out_path, sizeof out_path, "%s", state_file("tail.out"));
    snprintf(cursor, sizeof cursor, "%s", state_file("tail.cursor"));
    FILE *out = fopen(out_path, "w+"), *err = tmpfile();
    cr_assert(out && err);
    pid_t pid = spawn_cli(out, err,
                          (const char *const[]){"tail", "alerts", "--feed", feed, "--filter",
                                                "alert/daidong/", "--cursor", cursor, NULL});
    patrol("g1", "traffic");     /* 1: patrol-high raised */
    patrol("g2", "fire_hazard"); /* 2: patrol-high (g2), 3: fire-hazard */
    cr_assert_eq(runcli_wait_lines(out_path, 3), 0, "%s", runcli_why());
    kill(pid, SIGTERM);
    int status = wait_cli(pid);
    char *errors = slurp(err);
    cr_expect_eq(status, 0, "exit %d: %s", status, errors);
    free(errors);
    json_t *lines = json_lines(slurp(out));
    expect_records(lines, 1, 3);
    cr_expect_str_eq(gbc_str(json_array_get(lines, 0), "change"), "raised");
    json_decref(lines);
    fclose(out), fclose(err);

    /* While nobody follows: a counted trigger and a new alert. */
    patrol("g1", "traffic"); /* 4: counted */
    patrol("g3", "traffic"); /* 5: raised */
    lines = json_lines(gb_ok("tail", "alerts", "--feed", feed, "--filter", "alert/daidong/",
                             "--cursor", cursor, "--count", "2"));
    expect_records(lines, 4, 5);
    cr_expect_str_eq(gbc_str(json_array_get(lines, 0), "change"), "counted");
    json_decref(lines);

    patrol("g3", "fire_hazard"); /* 6: patrol-high (g3) counted, 7: fire-hazard raised */
    lines = json_lines(gb_ok("tail", "alerts", "--feed", feed, "--filter", "alert/daidong/",
                             "--cursor", cursor, "--count", "2"));
    expect_records(lines, 6, 7);
    json_decref(lines);
}

/* ---- alert ack|resolve, alerts --day ----------------------------------------------- */

Test(cli_alerts, ack_and_resolve_with_refusals_and_the_day_listing)
{
    char id[32];
    patrol("g1", "traffic");
    patrol("g2", "fire_hazard");
    alert_id("fire-hazard", id, sizeof id);

    gb_fails(1, "E_FORBIDDEN", "alert", "ack", id, "--by", "xu.na");
    gb_fails(1, "E_TASK", "alert", "ack", "a-99", "--by", "gao.feng");
    gb_fails(2, "--by", "alert", "ack", id);
    gb_fails(2, "unknown step", "alert", "close", id, "--by", "gao.feng");

    json_t *ack = json_lines(gb_ok("alert", "ack", id, "--by", "gao.feng", "--note", "on it"));
    cr_expect_str_eq(gbc_str(json_array_get(ack, 0), "alert"), id);
    cr_expect(gbc_int(json_array_get(ack, 0), "seq") > 0);
    json_decref(ack);
    gb_fails(1, "E_STATE", "alert", "ack", id, "--by", "gao.feng");

    json_t *day = json_lines(gb_ok("alerts", "--day", "2026-11-20"));
    cr_expect_eq(json_array_size(day), 3, "patrol-high g1, patrol-high g2, fire-hazard g2");
    json_decref(day);
    day = json_lines(gb_ok("alerts", "--day", "2026-11-20", "--status", "acknowledged"));
    cr_assert_eq(json_array_size(day), 1);
    cr_expect_str_eq(gbc_str(json_array_get(day, 0), "id"), id);
    json_decref(day);

    free(gb_ok("alert", "resolve", id, "--by", "su.yuanyuan", "--note", "hydrant fixed"));
    gb_fails(1, "E_STATE", "alert", "resolve", id, "--by", "gao.feng");
    json_t *shown = json_lines(gb_ok("alert", "show", id));
    const json_t *a = json_array_get(shown, 0);
    cr_expect_str_eq(gbc_str(a, "status"), "resolved");
    cr_expect_eq(json_array_size(json_object_get(a, "history")), 3, "raised, ack, resolved");
    json_decref(shown);

    day = json_lines(gb_ok("alerts", "--day", "2026-11-20", "--status", "open"));
    cr_expect_eq(json_array_size(day), 2);
    json_decref(day);
    day = json_lines(gb_ok("alerts", "--day", "2026-11-21"));
    cr_expect_eq(json_array_size(day), 0, "nothing raised the next day");
    json_decref(day);
    gb_fails(1, "E_SCHEMA", "alerts", "--day", "2026-11-20", "--status", "nope");
    gb_fails(2, "--day", "alerts");
}

/* ---- audit ------------------------------------------------------------------------- */

/* November 2026, reviewed up to the 25th: a subsidy, a self-approved repair, a second entry
 * under the same number (a duplicate); one entry after the review day and one of October
 * (before its own review day) stay out. */
static void a_month_of_ledger(void)
{
    ledger(3, "xu.na",
           "{'entry':'N-1','direction':'income','amount_fen':100000,'category':'subsidy',"
           "'counterparty':'subdistrict office','approved_by':['gao.feng','li.qiang']}");
    ledger(10, "xu.na",
           "{'entry':'N-2','amount_fen':12000,'category':'repairs','counterparty':'hardware shop',"
           "'approved_by':['xu.na']}");
    ledger(12, "xu.na",
           "{'entry':'N-2','amount_fen':3000,'category':'repairs','counterparty':'cleaner',"
           "'approved_by':['gao.feng']}");
    ledger(27, "xu.na",
           "{'entry':'N-9','amount_fen':4000,'category':'repairs','counterparty':'late shop'}");
    json_t *ev = gbc_field(t, "ledger.entry_submitted", "xu.na", NULL,
                           gbc_json("{'entry':'O-1','amount_fen':5000,'counterparty':'october'}"));
    json_object_set_new(ev, "at", json_integer(gbc_local(2026, 10, 20, 9, 0)));
    cr_assert(gbc_publish(t, ev), "ledger O-1: %s", gbt_show(t->c));
}

static void expect_flags(const json_t *entry, const char *want)
{
    const json_t *flags = json_object_get(entry, "flags");
    char *got = json_dumps(flags, JSON_COMPACT);
    cr_expect_str_eq(got, want, "entry %s seq %lld", gbc_str(entry, "entry"),
                     (long long)gbc_int(entry, "seq"));
    free(got);
}

Test(cli_alerts, audit_lists_the_month_to_the_review_day_with_flags_and_totals)
{
    a_month_of_ledger();
    json_t *lines = json_lines(gb_ok("audit", "--month", "2026-11"));
    cr_assert_eq(json_array_size(lines), 1);
    const json_t *a = json_array_get(lines, 0);
    cr_expect_str_eq(gbc_str(a, "month"), "2026-11");
    cr_expect_eq(gbc_int(a, "from"), gbc_local(2026, 11, 1, 0, 0));
    cr_expect_eq(gbc_int(a, "to"), gbc_local(2026, 11, 26, 0, 0), "up to the 25th, included");
    cr_expect_eq(gbc_int(a, "count"), 3);
    const json_t *entries = json_object_get(a, "entries");
    cr_assert_eq(json_array_size(entries), 3);
    const json_t *e0 = json_array_get(entries, 0), *e1 = json_array_get(entries, 1),
                 *e2 = json_array_get(entries, 2);
    cr_expect_str_eq(gbc_str(e0, "entry"), "N-1");
    cr_expect_str_eq(gbc_str(e0, "direction"), "income");
    cr_expect_str_eq(gbc_str(e0, "by"), "xu.na");
    cr_expect_eq(json_array_size(json_object_get(e0, "approved_by")), 2);
    cr_expect_eq(gbc_int(e0, "at"), gbc_local(2026, 11, 3, 9, 30));
    cr_expect(gbc_str(e0, "id")[0], "the event id");
    expect_flags(e0, "[]");
    expect_flags(e1, "[\"self-approval\"]");
    expect_flags(e2, "[\"duplicate-entry\"]");

    const json_t *totals = json_object_get(a, "totals");
    cr_expect_eq(gbc_int(totals, "income_fen"), 100000);
    cr_expect_eq(gbc_int(totals, "expense_fen"), 15000);
    const json_t *cats = json_object_get(totals, "by_category");
    cr_expect_eq(json_object_size(cats), 2);
    cr_expect_eq(gbc_int(json_object_get(cats, "subsidy"), "income_fen"), 100000);
    cr_expect_eq(gbc_int(json_object_get(cats, "repairs"), "expense_fen"), 15000);
    cr_expect_eq(gbc_int(json_object_get(cats, "repairs"), "income_fen"), 0);
    json_decref(lines);

    lines = json_lines(gb_ok("audit", "--month", "2026-10"));
    cr_expect_eq(gbc_int(json_array_get(lines, 0), "count"), 1, "O-1 only");
    json_decref(lines);
    gb_fails(1, "E_SCHEMA", "audit", "--month", "2026-13");
    gb_fails(2, "--month", "audit");
}

Test(cli_alerts, audit_text_prints_the_rows_and_the_totals)
{
    a_month_of_ledger();
    char *text = gb_ok("audit", "--month", "2026-11", "--text");
    static const char *const want[] = {
        "N-1",
        "2026-11-03",
        "1000.00",
        "subsidy",
        "subdistrict office",
        "gao.feng,li.qiang",
        "2026-11-10",
        "120.00",
        "hardware shop",
        "self-approval",
        "30.00",
        "duplicate-entry",
        "totals: income 1000.00 yuan, expense 150.00 yuan",
        "up to 2026-11-25",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        cr_expect(strstr(text, want[i]), "--text lacks '%s':\n%s", want[i], text);
    cr_expect(!strstr(text, "N-9") && !strstr(text, "O-1"), "out of range rows:\n%s", text);
    free(text);
}

/* ---- HTTP -------------------------------------------------------------------------- */

Test(cli_alerts, http_audit_is_the_query_op)
{
    a_month_of_ledger();
    const char *ep = gbd_endpoint(t->d, "http");
    cr_assert_not_null(ep, "the endpoints file has no http= line");
    ht_resp_t r;
    cr_assert_eq(ht_get(ep, "/v1/audit?month=2026-11", NULL, &r), 0);
    cr_expect_eq(r.status, 200, "%s", r.body);
    json_error_t e;
    json_t *http = json_loads(r.body, 0, &e);
    cr_assert_not_null(http, "%s: %s", e.text, r.body);
    ht_free(&r);
    const json_t *res = gbc_query(t, json_pack("{s:s, s:s}", "what", "audit", "month", "2026-11"));
    cr_assert_not_null(res, "%s", gbt_show(t->c));
    json_t *op = json_pack("{s:O}", "audit", json_object_get(res, "audit"));
    char *a = json_dumps(http, JSON_SORT_KEYS), *b = json_dumps(op, JSON_SORT_KEYS);
    cr_expect(json_equal(http, op), "GET /v1/audit:\n%s\nthe op:\n%s", a, b);
    cr_expect_eq(json_array_size(json_object_get(json_object_get(http, "audit"), "entries")), 3);
    free(a), free(b);
    json_decref(http), json_decref(op);
}
