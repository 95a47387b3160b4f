/*
 * test_cli_tasks: the task commands of the gridbus CLI against a real gridbusd: `tail`
 * (the task feed as JSON lines, resumable from a cursor file), `task STEP ID` (follow-ups,
 * with the daemon's refusals as exit 1), `tasks`, `stats` and `clock`.
 *
 * The CLI runs as a separate process ($GRIDBUS, default build/gridbus) as a user would run
 * it; stdout, stderr and the exit status are checked. Outputs go to files, never pipes, so
 * a test cannot deadlock; every run has a hang guard. The daemon is started with a settable
 * clock (testing.allow_clock), and the clock is set before tasks are opened, so months and
 * deadlines do not depend on when the tests run. Each repair request opens one task and
 * one feed record, so the k-th repair of a test is task t-k and feed seq k.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gbtest.h"
#include "gridbus.h"
#include "harness.h"
#include "runcli.h"

/* One timeout for every suite and test of this file (see test_cli.c). */
#define SUITE_TIMEOUT 180

/* Thursday 2026-11-26 09:00 in Daidong (01:00Z): a working morning. */
#define THU_0900 INT64_C(1795654800000)
#define DAY_MS INT64_C(86400000)

static gbd_t *d;

static void start_daemon(bool allow_clock)
{
    const char *extra[] = {"--set", "testing.allow_clock=true", NULL};
    d = gbd_start(NULL, allow_clock ? extra : NULL);
    cr_assert_not_null(d, "gridbusd did not start (see its log above)");
}

static void setup(void)
{
    start_daemon(true);
}

static void teardown(void)
{
    if (d)
        cr_expect_eq(gbd_stop(&d), 0, "gridbusd did not exit cleanly on SIGTERM");
}

TestSuite(cli_tasks, .init = setup, .fini = teardown, .timeout = SUITE_TIMEOUT);
TestSuite(cli_clock, .fini = teardown, .timeout = SUITE_TIMEOUT);
TestSuite(cli_secure, .fini = teardown, .timeout = SUITE_TIMEOUT);

/* ---- running the CLI --------------------------------------------------------------- */

/* Starts gridbus --endpoint INGEST args... with stdin and outputs on the given files. */
static pid_t spawn_cli(FILE *in, FILE *out, FILE *err, const char *const *args)
{
    pid_t pid =
        runcli_spawn(in, out, err, runcli_bin("GRIDBUS", "build/gridbus"),
                     (const char *const[]){"--endpoint", gbd_endpoint(d, "ingest"), NULL}, args);
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

static run_t run_cli_v(const char *stdin_text, const char *const *args)
{
    run_t r;
    cr_assert_eq(runcli(&r, stdin_text, runcli_bin("GRIDBUS", "build/gridbus"),
                        (const char *const[]){"--endpoint", gbd_endpoint(d, "ingest"), NULL}, args,
                        RUNCLI_WAIT_MS),
                 0, "gridbus: %s", runcli_why());
    return r;
}

/* `gridbus --endpoint INGEST ARGS...` */
#define gb(...) run_cli_v(NULL, (const char *const[]){__VA_ARGS__, NULL})

/* Runs and expects exit 0; returns stdout (the caller frees). */
static char *gb_ok_v(const char *const *args)
{
    run_t r = run_cli_v(NULL, args);
    cr_assert_eq(r.status, 0, "gridbus %s ...: exit %d: %s", args[0], r.status, r.err);
    free(r.err);
    return r.out;
}
#define gb_ok(...) gb_ok_v((const char *const[]){__VA_ARGS__, NULL})

/* Runs and expects the exit status and, on stderr, the text. */
static void gb_fails_v(int status, const char *text, const char *const *args)
{
    run_t r = run_cli_v(NULL, args);
    cr_expect_eq(r.status, status, "gridbus %s %s: exit %d, want %d; stderr: %s", args[0],
                 args[1] ? args[1] : "", r.status, status, r.err);
    cr_expect(strstr(r.err, text), "stderr '%s' lacks '%s'", r.err, text);
    cr_expect_str_eq(r.out, "", "nothing on stdout");
    run_free(&r);
}
#define gb_fails(status, text, ...)                                                                \
    gb_fails_v(status, text, (const char *const[]){__VA_ARGS__, NULL})

/* ---- JSON output ------------------------------------------------------------------- */

static json_t *json_line(const char *s, size_t len)
{
    json_error_t e;
    json_t *j = json_loadb(s, len, 0, &e);
    cr_assert_not_null(j, "not JSON: %.*s (%s)", (int)len, s, e.text);
    return j;
}

/* The lines of text as a JSON array of parsed values; frees text. */
static json_t *json_lines(char *text)
{
    json_t *arr = json_array();
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        cr_assert_not_null(nl, "the last line has no newline: %s", p);
        json_array_append_new(arr, json_line(p, (size_t)(nl - p)));
        p = nl + 1;
    }
    free(text);
    return arr;
}

static json_int_t int_at(const json_t *j, const char *key)
{
    json_t *v = json_object_get(j, key);
    cr_assert(json_is_integer(v), "no integer %s in %s", key, json_dumps(j, JSON_COMPACT));
    return json_integer_value(v);
}

static const char *str_at(const json_t *j, const char *key)
{
    const char *s = json_string_value(json_object_get(j, key));
    cr_assert_not_null(s, "no string %s in %s", key, json_dumps(j, JSON_COMPACT));
    return s;
}

/* ---- making tasks ------------------------------------------------------------------ */

static void set_clock(int64_t at)
{
    char ms[24];
    snprintf(ms, sizeof ms, "%lld", (long long)at);
    json_t *j = json_lines(gb_ok("clock", "--set", ms));
    cr_expect_eq(int_at(json_array_get(j, 0), "now"), at);
    json_decref(j);
}

/* Publishes n repair requests with `gridbus publish --json`, grids in turn. */
static void repairs(size_t n, const char *const *grids)
{
    size_t ngrids = 0, cap = n * 200 + 1;
    while (grids[ngrids])
        ngrids++;
    char *in = malloc(cap), *p = in;
    cr_assert_not_null(in);
    for (size_t i = 0; i < n; i++)
        p += snprintf(p, cap - (size_t)(p - in),
                      "{\"type\":\"repair.requested\",\"by\":\"chen.jing\",\"grid\":\"%s\","
                      "\"body\":{\"household\":\"c1-3-201\",\"category\":\"water\","
                      "\"description\":\"leak\"}}\n",
                      grids[i % ngrids]);
    run_t r = run_cli_v(in, (const char *const[]){"publish", "--json", NULL});
    free(in);
    cr_assert_eq(r.status, 0, "publish --json: exit %d: %s", r.status, r.err);
    json_t *acks = json_lines(r.out);
    cr_assert_eq(json_array_size(acks), n);
    json_decref(acks);
    free(r.err);
}

#define G1 ((const char *const[]){"g1", NULL})

/* The task as `gridbus task show` prints it. */
static json_t *show(const char *id)
{
    json_t *lines = json_lines(gb_ok("task", "show", id));
    cr_assert_eq(json_array_size(lines), 1);
    json_t *t = json_incref(json_array_get(lines, 0));
    json_decref(lines);
    return t;
}

/* ---- tail -------------------------------------------------------------------------- */

static char path_buf[512];

static const char *state_file(const char *name)
{
    snprintf(path_buf, sizeof path_buf, "%s/%s", gbd_state_dir(d), name);
    return path_buf;
}

/* Checks that lines are feed records with exactly the seqs first..last and topics under
 * prefix. */
static void expect_records(const json_t *lines, json_int_t first, json_int_t last, json_int_t step,
                           const char *prefix)
{
    cr_assert_eq((json_int_t)json_array_size(lines), (last - first) / step + 1, "%s",
                 json_dumps(lines, JSON_COMPACT));
    for (size_t i = 0; i < json_array_size(lines); i++) {
        const json_t *rec = json_array_get(lines, i);
        json_int_t seq = first + (json_int_t)i * step;
        char id[24];
        snprintf(id, sizeof id, "t-%lld", (long long)seq);
        cr_expect_eq(int_at(rec, "seq"), seq);
        cr_expect(gbt_starts_with(str_at(rec, "topic"), prefix), "%s", str_at(rec, "topic"));
        cr_expect_str_eq(str_at(rec, "change"), "dispatched");
        cr_expect_str_eq(str_at(json_object_get(rec, "task"), "id"), id);
    }
}

Test(cli_tasks, tail_prints_json_lines_and_resumes_from_its_cursor)
{
    const char *feed = gbd_endpoint(d, "tasks");
    char cursor[512];
    snprintf(cursor, sizeof cursor, "%s", state_file("tail.cursor"));
    repairs(3, G1);
    json_t *lines =
        json_lines(gb_ok("tail", "tasks", "--feed", feed, "--cursor", cursor, "--count", "3"));
    expect_records(lines, 1, 3, 1, "task/g1/");
    json_decref(lines);

    repairs(2, G1);
    lines = json_lines(gb_ok("tail", "tasks", "--feed", feed, "--cursor", cursor, "--count", "2"));
    expect_records(lines, 4, 5, 1, "task/g1/");
    json_decref(lines);
    FILE *f = fopen(cursor, "r");
    char text[80] = "";
    cr_assert_not_null(f);
    cr_expect_not_null(fgets(text, sizeof text, f));
    fclose(f);
    cr_expect_str_eq(text, "gridbus-cursor tasks 5 task/\n");

    /* The cursor belongs to the whole feed: another filter with it is refused. */
    gb_fails(2, "filter 'task/'", "tail", "tasks", "--feed", feed, "--cursor", cursor, "--filter",
             "task/g2/", "--count", "1");
}

Test(cli_tasks, tail_filters_by_grid_and_starts_where_told)
{
    const char *feed = gbd_endpoint(d, "tasks");
    repairs(6, (const char *const[]){"g1", "g2", "g3", NULL});
    json_t *lines =
        json_lines(gb_ok("tail", "tasks", "--feed", feed, "--filter", "task/g2/", "--count", "2"));
    expect_records(lines, 2, 5, 3, "task/g2/");
    json_decref(lines);
    lines = json_lines(gb_ok("tail", "tasks", "--feed", feed, "--from", "4", "--count", "3"));
    expect_records(lines, 4, 6, 1, "task/");
    json_decref(lines);
    gb_fails(2, "choose one", "tail", "tasks", "--from", "2", "--new");
    gb_fails(2, "STREAM", "tail");
    gb_fails(1, "E_SCHEMA", "tail", "nosuch", "--feed", feed, "--count", "1");
}

/* tail follows records as they are committed and, on SIGTERM, saves what it printed. */
Test(cli_tasks, tail_follows_live_and_saves_its_cursor_on_sigterm)
{
    char out_path[512], cursor[512];
    snprintf(out_path, sizeof out_path, "%s", state_file("tail.out"));
    snprintf(cursor, sizeof cursor, "%s", state_file("tail.cursor"));
    FILE *in = tmpfile(), *out = fopen(out_path, "w+"), *err = tmpfile();
    cr_assert(in && out && err);
    pid_t pid = spawn_cli(in, out, err,
                          (const char *const[]){"tail", "tasks", "--feed", gbd_endpoint(d, "tasks"),
                                                "--cursor", cursor, NULL});
    repairs(2, G1);
    cr_assert_eq(runcli_wait_lines(out_path, 2), 0, "%s", runcli_why());
    repairs(1, G1);
    cr_assert_eq(runcli_wait_lines(out_path, 3), 0, "%s", runcli_why());
    kill(pid, SIGTERM);
    int status = wait_cli(pid);
    char *text = slurp(out), *errors = slurp(err);
    cr_expect_eq(status, 0, "exit %d: %s", status, errors);
    json_t *lines = json_lines(text);
    expect_records(lines, 1, 3, 1, "task/g1/");
    json_decref(lines);
    free(errors);
    fclose(in), fclose(out), fclose(err);

    repairs(1, G1);
    lines = json_lines(gb_ok("tail", "tasks", "--feed", gbd_endpoint(d, "tasks"), "--cursor",
                             cursor, "--count", "1"));
    expect_records(lines, 4, 4, 1, "task/g1/");
    json_decref(lines);
}

/* ---- task steps -------------------------------------------------------------------- */

static const char *history_step(const json_t *task, size_t i)
{
    return str_at(json_array_get(json_object_get(task, "history"), i), "step");
}

Test(cli_tasks, task_lifecycle_and_refusals)
{
    set_clock(THU_0900);
    repairs(1, G1);
    json_t *t = show("t-1");
    char who[64];
    snprintf(who, sizeof who, "%s", str_at(t, "assignee"));
    cr_assert(gbt_starts_with(who, "helper.g1."), "assigned to %s", who);
    const char *other = strcmp(who, "helper.g1.1") ? "helper.g1.1" : "helper.g1.2";
    json_decref(t);

    gb_fails(1, "E_FORBIDDEN", "task", "accept", "t-1", "--by", other);
    gb_fails(1, "E_TASK", "task", "accept", "t-99", "--by", who);
    gb_fails(1, "E_STATE", "task", "verify", "t-1", "--by", "chen.jing", "--ok");

    json_t *ack = json_lines(gb_ok("task", "accept", "t-1", "--by", who, "--note", "on my way"));
    cr_expect_str_eq(str_at(json_array_get(ack, 0), "task"), "t-1");
    cr_expect_eq(int_at(json_array_get(ack, 0), "seq"), 2);
    json_decref(ack);
    gb_fails(1, "E_STATE", "task", "accept", "t-1", "--by", who);
    free(gb_ok("task", "progress", "t-1", "--by", who, "--note", "parts ordered", "--percent",
               "50"));
    free(gb_ok("task", "complete", "t-1", "--by", who, "--outcome", "pipe replaced", "--fee-fen",
               "500", "--fee-waived-fen", "1500"));
    gb_fails(1, "E_FORBIDDEN", "task", "verify", "t-1", "--by", who, "--ok");
    gb_fails(1, "E_FORBIDDEN", "task", "verify", "t-1", "--by", "zhao.lei", "--ok"); /* g2 */
    free(gb_ok("task", "verify", "t-1", "--by", "chen.jing", "--reopen", "--note", "still drips"));
    t = show("t-1");
    cr_expect_str_eq(str_at(t, "status"), "in_progress");
    json_decref(t);
    free(gb_ok("task", "complete", "t-1", "--by", who, "--outcome", "washer replaced"));
    free(gb_ok("task", "verify", "t-1", "--by", "li.qiang", "--ok"));

    t = show("t-1");
    cr_expect_str_eq(str_at(t, "status"), "closed");
    cr_expect_eq(int_at(t, "fee_waived_fen"), 0, "the second completion set the fees anew");
    const char *want[] = {"created",   "dispatched", "accepted",  "progress",
                          "completed", "verified",   "completed", "verified"};
    cr_assert_eq(json_array_size(json_object_get(t, "history")), 8, "%s",
                 json_dumps(t, JSON_COMPACT));
    for (size_t i = 0; i < 8; i++)
        cr_expect_str_eq(history_step(t, i), want[i]);
    json_decref(t);
    gb_fails(1, "E_TASK", "task", "show", "t-42");
}

/* Returned by its assignee, a task goes to another helper of the grid. */
Test(cli_tasks, returned_task_is_rerouted)
{
    repairs(1, G1);
    json_t *t = show("t-1");
    char first[64];
    snprintf(first, sizeof first, "%s", str_at(t, "assignee"));
    json_decref(t);
    free(gb_ok("task", "return", "t-1", "--by", first, "--reason", "not my street"));
    t = show("t-1");
    cr_expect_str_neq(str_at(t, "assignee"), first);
    cr_expect(gbt_starts_with(str_at(t, "assignee"), "helper.g1."), "%s", str_at(t, "assignee"));
    cr_expect_str_eq(str_at(t, "status"), "dispatched");
    cr_expect_str_eq(json_string_value(json_array_get(json_object_get(t, "returned_by"), 0)),
                     first);
    json_decref(t);
}

Test(cli_tasks, task_usage_errors)
{
    gb_fails(2, "--by", "task", "accept", "t-1");
    gb_fails(2, "needs --outcome", "task", "complete", "t-1", "--by", "chen.jing");
    gb_fails(2, "needs --note", "task", "progress", "t-1", "--by", "chen.jing");
    gb_fails(2, "needs --reason", "task", "return", "t-1", "--by", "chen.jing");
    gb_fails(2, "needs --ok or --reopen", "task", "verify", "t-1", "--by", "chen.jing");
    gb_fails(2, "choose one", "task", "verify", "t-1", "--by", "chen.jing", "--ok", "--reopen");
    gb_fails(2, "--outcome does not go with 'accept'", "task", "accept", "t-1", "--by", "chen.jing",
             "--outcome", "x");
    gb_fails(2, "unknown step", "task", "finish", "t-1", "--by", "chen.jing");
    gb_fails(2, "STEP and a task ID", "task", "accept");
    gb_fails(2, "takes no options", "task", "show", "t-1", "--by", "chen.jing");
    /* The builder's schema check, before anything is sent: exit 1 like a nack. */
    gb_fails(1, "body.percent", "task", "progress", "t-1", "--by", "chen.jing", "--note", "x",
             "--percent", "150");
    gb_fails(1, "body.fee_fen", "task", "complete", "t-1", "--by", "chen.jing", "--outcome", "x",
             "--fee-fen", "ten");
    run_t r = gb("task", "--help");
    cr_expect_eq(r.status, 0);
    cr_expect(strstr(r.out, "gridbus task verify"), "%s", r.out);
    run_free(&r);
}

/* ---- tasks, stats, clock ----------------------------------------------------------- */

static size_t count_lines(char *text)
{
    json_t *lines = json_lines(text);
    size_t n = json_array_size(lines);
    json_decref(lines);
    return n;
}

/* More tasks than one page (500): `tasks` pages through all of them, in order. */
Test(cli_tasks, tasks_lists_pages_and_filters)
{
    repairs(620, (const char *const[]){"g1", "g2", NULL});
    json_t *all = json_lines(gb_ok("tasks"));
    cr_assert_eq(json_array_size(all), 620);
    for (size_t i = 0; i < 620; i++)
        cr_expect_eq(int_at(json_array_get(all, i), "seq"), (json_int_t)i + 1);
    json_decref(all);
    cr_expect_eq(count_lines(gb_ok("tasks", "--limit", "7")), 7);
    json_t *g2 = json_lines(gb_ok("tasks", "--grid", "g2"));
    cr_expect_eq(json_array_size(g2), 310);
    for (size_t i = 0; i < json_array_size(g2); i++)
        cr_expect_str_eq(str_at(json_array_get(g2, i), "grid"), "g2");
    json_decref(g2);
    json_t *mine =
        json_lines(gb_ok("tasks", "--assignee", "helper.g1.1", "--status", "dispatched"));
    cr_expect_gt(json_array_size(mine), 0);
    for (size_t i = 0; i < json_array_size(mine); i++)
        cr_expect_str_eq(str_at(json_array_get(mine, i), "assignee"), "helper.g1.1");
    json_decref(mine);
    cr_expect_eq(count_lines(gb_ok("tasks", "--status", "closed")), 0);
    cr_expect_eq(count_lines(gb_ok("tasks", "--overdue")), 0);
    gb_fails(1, "E_SCHEMA", "tasks", "--status", "bogus");
    gb_fails(2, "--month does not go with 'tasks'", "tasks", "--month", "2026-11");
    gb_fails(2, "--limit", "tasks", "--limit", "0");
}

/* Past its deadline to accept, a task is listed by --overdue. */
Test(cli_tasks, tasks_overdue_after_the_clock_moves)
{
    set_clock(THU_0900);
    repairs(2, G1);
    cr_expect_eq(count_lines(gb_ok("tasks", "--overdue")), 0);
    json_t *t2 = show("t-2");
    free(gb_ok("task", "accept", "t-2", "--by", str_at(t2, "assignee")));
    json_decref(t2);
    set_clock(THU_0900 + DAY_MS); /* Friday 09:00: t-1 was to be accepted by 11:00 Thursday */
    json_t *late = json_lines(gb_ok("tasks", "--overdue"));
    cr_assert_eq(json_array_size(late), 1, "%s", json_dumps(late, JSON_COMPACT));
    cr_expect_str_eq(str_at(json_array_get(late, 0), "id"), "t-1");
    cr_expect(json_is_true(json_object_get(json_array_get(late, 0), "overdue_accept")));
    json_decref(late);
}

static const json_t *tally(const json_t *stats, const char *group, const char *key)
{
    const json_t *t =
        group ? json_object_get(json_object_get(stats, group), key) : json_object_get(stats, key);
    cr_assert(json_is_object(t), "no %s/%s in %s", group ? group : "", key,
              json_dumps(stats, JSON_COMPACT));
    return t;
}

Test(cli_tasks, stats_of_a_month)
{
    set_clock(THU_0900);
    repairs(3, (const char *const[]){"g1", "g1", "g2", NULL});
    json_t *t = show("t-1");
    char who[64];
    snprintf(who, sizeof who, "%s", str_at(t, "assignee"));
    json_decref(t);
    free(gb_ok("task", "accept", "t-1", "--by", who));
    free(gb_ok("task", "complete", "t-1", "--by", who, "--outcome", "fixed", "--fee-waived-fen",
               "800"));

    json_t *lines = json_lines(gb_ok("stats", "--month", "2026-11"));
    cr_assert_eq(json_array_size(lines), 1);
    const json_t *st = json_array_get(lines, 0);
    cr_expect_str_eq(str_at(st, "month"), "2026-11");
    cr_expect_eq(int_at(tally(st, NULL, "total"), "tasks"), 3);
    cr_expect_eq(int_at(tally(st, NULL, "total"), "completed"), 1);
    cr_expect_eq(int_at(tally(st, NULL, "total"), "repairs_completed"), 1);
    cr_expect_eq(int_at(tally(st, NULL, "total"), "fees_waived_fen"), 800);
    cr_expect_eq(int_at(tally(st, "grids", "g1"), "tasks"), 2);
    cr_expect_eq(int_at(tally(st, "grids", "g2"), "tasks"), 1);
    cr_expect_eq(int_at(tally(st, "members", who), "completed"), 1);
    json_decref(lines);

    lines = json_lines(gb_ok("stats", "--month", "2026-11", "--grid", "g2"));
    cr_expect_eq(int_at(tally(json_array_get(lines, 0), NULL, "total"), "tasks"), 1);
    json_decref(lines);
    lines = json_lines(gb_ok("stats", "--month", "2026-10"));
    cr_expect_eq(int_at(tally(json_array_get(lines, 0), NULL, "total"), "tasks"), 0);
    json_decref(lines);
    gb_fails(2, "--month", "stats");
    gb_fails(1, "E_SCHEMA", "stats", "--month", "2026-13");
}

Test(cli_clock, clock_is_settable_only_on_a_test_daemon)
{
    start_daemon(false);
    json_t *now = json_lines(gb_ok("clock"));
    cr_expect_gt(int_at(json_array_get(now, 0), "now"), THU_0900 - 3650 * DAY_MS);
    json_decref(now);
    gb_fails(1, "E_FORBIDDEN", "clock", "--set", "1795654800000");
    gb_fails(2, "--set", "clock", "--set", "soon");
    cr_expect_eq(gbd_stop(&d), 0);

    start_daemon(true);
    set_clock(THU_0900);
    now = json_lines(gb_ok("clock"));
    cr_expect_eq(int_at(json_array_get(now, 0), "now"), THU_0900, "the set clock stays put");
    json_decref(now);
}

/* With security on, every endpoint speaks CURVE, the feed too: tail takes the global --key
 * and --server-key like every other command. */
Test(cli_secure, tail_with_curve_keys)
{
    char dir[] = "/tmp/gridbus-tail-XXXXXX", keys[600], key_file[600], set[700], err[300];
    gridbus_keypair_t kp;
    cr_assert_not_null(mkdtemp(dir));
    snprintf(keys, sizeof keys, "%s/clients.keys", dir);
    snprintf(key_file, sizeof key_file, "%s/chen.jing.key", dir);
    cr_assert_eq(gridbus_keypair_new(&kp), 0);
    cr_assert_eq(gridbus_keypair_save(&kp, key_file, "chen.jing", err, sizeof err), 0, "%s", err);
    FILE *f = fopen(keys, "w");
    cr_assert_not_null(f);
    fprintf(f, "%s chen.jing\n", kp.public_key);
    fclose(f);
    snprintf(set, sizeof set, "security.keys=%s", keys);
    d = gbd_start(NULL,
                  (const char *const[]){"--set", "security.enabled=true", "--set", set, NULL});
    cr_assert_not_null(d);
    char server_pub[700];
    snprintf(server_pub, sizeof server_pub, "%s/server.pub", gbd_state_dir(d));

    const char *pub = "{\"type\":\"repair.requested\",\"by\":\"chen.jing\",\"grid\":\"g1\","
                      "\"body\":{\"household\":\"c1\",\"category\":\"water\","
                      "\"description\":\"leak\"}}\n";
    run_t r = run_cli_v(pub, (const char *const[]){"--key", key_file, "--server-key", server_pub,
                                                   "publish", "--json", NULL});
    cr_assert_eq(r.status, 0, "publish: %s", r.err);
    run_free(&r);
    json_t *lines = json_lines(gb_ok("--key", key_file, "--server-key", server_pub, "tail", "tasks",
                                     "--feed", gbd_endpoint(d, "tasks"), "--count", "1"));
    expect_records(lines, 1, 1, 1, "task/g1/");
    json_decref(lines);
    gb_fails(2, "CURVE", "--key", key_file, "tail", "tasks", "--count", "1");
    unlink(keys), unlink(key_file), rmdir(dir);
}
