/*
 * test_deadlines: deadlines count working time on the community calendar, and a missed
 * one marks the task overdue, in its history and on the task feed.
 *
 * The expected instants are worked out by hand from the `calendar:` block of
 * conf/daidong.yaml: Beijing time (UTC+8), work hours 08:30-12:00 and 14:00-17:30 (a
 * working day is 7 h, so the routes' "2d" is 14 h), Saturday and Sunday off, the State
 * Council's 2026 holidays and make-up working days. Each case says how its instant comes
 * about. Time moves only through the daemon's clock (testing.allow_clock): the clock is
 * set before a task is opened, so created_at and the deadlines do not depend on when the
 * test runs, and moving it past a deadline runs that deadline in the same request.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "gbcase.h"
#include "jsonmp.h"
#include "storepeek.h"

/* One timeout for every suite and test of this file (see test_cli.c). */
#define SUITE_TIMEOUT 120

#define MINUTE INT64_C(60000)
#define DAY (24 * 60 * MINUTE)

static gbc_t *t;

static void teardown(void)
{
    if (t)
        cr_expect_eq(gbc_stop(&t), 0, "gridbusd did not exit cleanly");
}

TestSuite(deadlines, .fini = teardown, .timeout = SUITE_TIMEOUT);

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void start(const char *const *drop, const gbc_edit_t *edits)
{
    t = gbc_start(drop, edits);
    cr_assert_not_null(t, "gridbusd did not start: %s", gbt_why());
}

static void clock_to(int64_t at)
{
    cr_assert_eq(gbc_clock(t, at), 0, "clock: %s", gbt_show(t->c));
}

static json_t *task_of(uint64_t seq)
{
    json_t *task = gbc_task(t, seq);
    cr_assert_not_null(task, "no task t-%" PRIu64 ": %s", seq, gbt_show(t->c));
    return task;
}

/* Opens a task at the local instant at: the event's seq. */
static uint64_t open_at(int64_t at, const char *type, const char *grid, const char *body)
{
    clock_to(at);
    uint64_t seq = gbc_open(t, type, "zhou.yang", grid, body);
    cr_assert(seq, "%s %s: %s", type, body, gbt_show(t->c));
    return seq;
}

static uint64_t repair_at(int64_t at)
{
    return open_at(at, "repair.requested", "g1", "{'category':'water'}");
}

static void step_ok(const char *type, uint64_t seq, const char *by, const char *body)
{
    const wire_reply_t *r = gbc_step(t, type, seq, by, body);
    cr_assert(r && r->op == WIRE_REPLY_ACK, "%s on t-%" PRIu64 " by %s: %s", type, seq, by,
              gbt_show(t->c));
}

/* ---- where the deadlines fall ---- */

/* A local date and time in Daidong; {0} stands for "no deadline". */
typedef struct {
    int y, mo, d, h, mi;
} local_t;

static int64_t ms_of(local_t l)
{
    return l.y ? gbc_local(l.y, l.mo, l.d, l.h, l.mi) : 0;
}

/* A field event opened at `at` and the deadlines its route gives it. */
typedef struct {
    const char *why;
    local_t at;
    const char *type, *body;
    local_t accept_by, complete_by;
} due_case_t;

static void expect_due(const due_case_t *dc)
{
    uint64_t seq = open_at(ms_of(dc->at), dc->type, "g1", dc->body);
    json_t *task = task_of(seq);
    int64_t accept_by = ms_of(dc->accept_by), complete_by = ms_of(dc->complete_by);
    cr_expect_eq(gbc_int(task, "created_at"), ms_of(dc->at), "%s: created_at", dc->why);
    cr_expect_eq(gbc_int(task, "accept_by"), accept_by, "%s: accept_by %lld, want %lld", dc->why,
                 (long long)gbc_int(task, "accept_by"), (long long)accept_by);
    cr_expect_eq(gbc_int(task, "complete_by"), complete_by, "%s: complete_by %lld, want %lld",
                 dc->why, (long long)gbc_int(task, "complete_by"), (long long)complete_by);
    json_decref(task);
}

static void expect_dues(const due_case_t *cases, size_t n)
{
    start(NULL, NULL);
    for (size_t i = 0; i < n; i++)
        expect_due(&cases[i]);
}

#define REPAIR "repair.requested", "{'category':'water'}"       /* 2h, 2d = 14h */
#define FIRE "patrol.issue_found", "{'category':'fire_hazard'}" /* 30m, 4h */
#define LEDGER "ledger.entry_submitted", "{}"                   /* none, 3d = 21h */

Test(deadlines, across_a_weekend)
{
    static const due_case_t cases[] = {
        /* 17:00-17:30 Friday, then 1h30 from Monday 08:30. Complete: 0h30 + Monday's 7h +
         * Tuesday 08:30-12:00 and 14:00-17:00. */
        {"repair, Friday 17:00",
         {2026, 3, 13, 17, 0},
         REPAIR,
         {2026, 3, 16, 10, 0},
         {2026, 3, 17, 17, 0}},
        /* 30 minutes exactly fill Friday: due at 17:30, not on Monday. 4h: 0h30 + Monday's
         * morning, which it exactly fills: 12:00, not 14:00. */
        {"fire hazard, Friday 17:00",
         {2026, 3, 13, 17, 0},
         FIRE,
         {2026, 3, 13, 17, 30},
         {2026, 3, 16, 12, 0}},
        /* Opened on a day off: the count starts on Monday at 08:30. */
        {"repair, Saturday 10:00",
         {2026, 3, 14, 10, 0},
         REPAIR,
         {2026, 3, 16, 10, 30},
         {2026, 3, 17, 17, 30}},
        /* A ledger review has nothing to accept; 21h: 0h30 + Mon + Tue + Wed to 17:00. */
        {"ledger, Friday 17:00", {2026, 3, 13, 17, 0}, LEDGER, {0}, {2026, 3, 18, 17, 0}},
    };
    expect_dues(cases, N(cases));
}

Test(deadlines, across_public_holidays)
{
    static const due_case_t cases[] = {
        /* 清明 2026-04-04..06 (Saturday to Monday): from Friday 17:00 to Tuesday. */
        {"repair before Qingming",
         {2026, 4, 3, 17, 0},
         REPAIR,
         {2026, 4, 7, 10, 0},
         {2026, 4, 8, 17, 0}},
        /* 国庆 2026-10-01..07: Wednesday 16:30 + 2h is 10-08 09:30 (the example of
         * docs/CONFIG.md); 14h: 1h + Thursday's 7h + Friday to 16:30. */
        {"repair before National Day",
         {2026, 9, 30, 16, 30},
         REPAIR,
         {2026, 10, 8, 9, 30},
         {2026, 10, 9, 16, 30}},
        /* 劳动节 2026-05-01..05: Thursday 16:00 has 1h30 left, the rest from Wednesday
         * 05-06 08:30; 14h: 1h30 + Wednesday's 7h + Thursday to 16:00. */
        {"repair before Labour Day",
         {2026, 4, 30, 16, 0},
         REPAIR,
         {2026, 5, 6, 9, 0},
         {2026, 5, 7, 16, 0}},
    };
    expect_dues(cases, N(cases));
}

Test(deadlines, on_make_up_working_days)
{
    static const due_case_t cases[] = {
        /* Sunday 2026-09-20 is worked (for National Day): Friday 17:00 + 2h is Sunday
         * 10:00; 14h: 0h30 + Sunday's 7h + Monday to 17:00. */
        {"repair, Friday before a worked Sunday",
         {2026, 9, 18, 17, 0},
         REPAIR,
         {2026, 9, 20, 10, 0},
         {2026, 9, 21, 17, 0}},
        /* Saturday 2026-10-10 is worked: Friday 16:30 + 2h is Saturday 09:30 (the docs'
         * example); 14h: 1h + Saturday's 7h + Monday to 16:30. */
        {"repair, Friday before a worked Saturday",
         {2026, 10, 9, 16, 30},
         REPAIR,
         {2026, 10, 10, 9, 30},
         {2026, 10, 12, 16, 30}},
        /* Both at once: Saturday 2026-02-14 is worked, then the Spring Festival
         * (02-15..23) is off: 0h30 + Saturday's 7h, then Tuesday 02-24 to 17:00. */
        {"repair before the Spring Festival",
         {2026, 2, 13, 17, 0},
         REPAIR,
         {2026, 2, 14, 10, 0},
         {2026, 2, 24, 17, 0}},
    };
    expect_dues(cases, N(cases));
}

/* ---- missing them ---- */

/* The task feed's records of seq whose change is change. */
static size_t feed_count(uint64_t seq, const char *change)
{
    json_t *feed = gbc_feed(t, 0, NULL);
    cr_assert_not_null(feed, "%s", gbt_show(t->c));
    size_t n = 0;
    for (size_t i = 0; i < json_array_size(feed); i++) {
        const json_t *rec = json_array_get(feed, i);
        n += !strcmp(gbc_str(rec, "change"), change) &&
             gbc_int(json_object_get(rec, "task"), "seq") == (json_int_t)seq;
    }
    json_decref(feed);
    return n;
}

/* The overdue flags, history steps and feed records of a task, as they should be. */
static void expect_overdue(uint64_t seq, bool accept, bool complete)
{
    json_t *task = task_of(seq);
    cr_expect_eq(gbc_bool(task, "overdue_accept"), accept, "t-%" PRIu64 " overdue_accept", seq);
    cr_expect_eq(gbc_bool(task, "overdue_complete"), complete, "t-%" PRIu64 " overdue_complete",
                 seq);
    cr_expect_eq(gbc_steps(task, "overdue_accept"), accept, "overdue_accept steps");
    cr_expect_eq(gbc_steps(task, "overdue_complete"), complete, "overdue_complete steps");
    json_decref(task);
    cr_expect_eq(feed_count(seq, "overdue_accept"), accept, "overdue_accept feed records");
    cr_expect_eq(feed_count(seq, "overdue_complete"), complete, "overdue_complete feed records");
}

/* Overdue open tasks, all of them or of one grid (NULL: all). */
static size_t overdue_in(const char *grid)
{
    json_t *req = json_pack("{s:s, s:b}", "what", "tasks", "overdue", 1);
    if (grid)
        json_object_set_new(req, "grid", json_string(grid));
    const json_t *res = gbc_query(t, req);
    cr_assert_not_null(res, "%s", gbt_show(t->c));
    return json_array_size(json_object_get(res, "tasks"));
}

static size_t overdue_listed(void)
{
    return overdue_in(NULL);
}

Test(deadlines, a_missed_deadline_marks_the_task_overdue)
{
    start(NULL, NULL);
    uint64_t seq = repair_at(gbc_local(2026, 3, 13, 17, 0));
    int64_t accept_by = gbc_local(2026, 3, 16, 10, 0), complete_by = gbc_local(2026, 3, 17, 17, 0);

    /* The whole weekend passes: not yet. */
    clock_to(accept_by - 1);
    expect_overdue(seq, false, false);
    cr_expect_eq(overdue_listed(), 0);

    clock_to(accept_by + MINUTE);
    expect_overdue(seq, true, false);
    cr_expect_eq(overdue_listed(), 1);
    cr_expect_eq(overdue_in("g1"), 1, "the overdue task, by its grid");
    cr_expect_eq(overdue_in("g2"), 0, "no other grid's");
    json_t *task = task_of(seq);
    const json_t *h = json_array_get(json_object_get(task, "history"),
                                     (size_t)gbc_step_index(task, "overdue_accept"));
    cr_expect(gbc_int(h, "at") >= accept_by && gbc_int(h, "at") <= accept_by + MINUTE,
              "overdue_accept at %lld: between the deadline and the clock",
              (long long)gbc_int(h, "at"));
    cr_expect_str_eq(gbc_str(task, "status"), "dispatched", "overdue is a mark, not a status");
    json_decref(task);
    /* The record goes to the assignee's topic, so the helper's phone hears of it. */
    json_t *feed = gbc_feed(t, 0, "task/g1/helper.g1.1");
    cr_assert_not_null(feed);
    json_t *last = json_array_get(feed, json_array_size(feed) - 1);
    cr_expect_str_eq(gbc_str(last, "change"), "overdue_accept");
    cr_expect(gbc_bool(json_object_get(last, "task"), "overdue_accept"));
    json_decref(feed);

    /* Accepting late is still accepting; the mark stays. Then the second deadline. */
    step_ok("task.accepted", seq, "helper.g1.1", NULL);
    clock_to(complete_by - 1);
    expect_overdue(seq, true, false);
    clock_to(complete_by + DAY);
    expect_overdue(seq, true, true);
    /* Each deadline is missed once, however far the clock goes. */
    clock_to(complete_by + 30 * DAY);
    expect_overdue(seq, true, true);
    cr_expect_eq(overdue_listed(), 1);
}

Test(deadlines, steps_taken_in_time_are_not_overdue)
{
    start(NULL, NULL);
    uint64_t seq = repair_at(gbc_local(2026, 3, 13, 17, 0));
    int64_t accept_by = gbc_local(2026, 3, 16, 10, 0), complete_by = gbc_local(2026, 3, 17, 17, 0);
    /* A task closed in time has no deadline left either. */
    uint64_t quick = repair_at(gbc_local(2026, 3, 13, 17, 0));

    clock_to(accept_by - MINUTE);
    step_ok("task.accepted", seq, "helper.g1.1", NULL);
    step_ok("task.accepted", quick, "helper.g1.2", NULL);
    step_ok("task.completed", quick, "helper.g1.2", "{'outcome':'fixed'}");
    step_ok("task.verified", quick, "chen.jing", "{'ok':true}");
    clock_to(accept_by + DAY);
    expect_overdue(seq, false, false);

    clock_to(complete_by - MINUTE);
    step_ok("task.completed", seq, "helper.g1.1", "{'outcome':'fixed'}");
    clock_to(complete_by + 30 * DAY);
    expect_overdue(seq, false, false);
    expect_overdue(quick, false, false);
    cr_expect_eq(overdue_listed(), 0);
}

/* A repair and a clock move past its accept deadline sent together (most likely one batch):
 * the deadline is taken at once, though the task indexes learn of the task only after that
 * batch commits (the pass also takes the batch's own deadlines, and the timer is armed for
 * deadlines the indexer has not applied yet). */
Test(deadlines, a_deadline_passed_in_the_batch_that_opened_it)
{
    start(NULL, NULL);
    clock_to(gbc_local(2026, 3, 13, 17, 0));
    uint64_t before = gbt_head(t->c);
    cr_assert_eq(gbc_send(t, gbc_field(t, "repair.requested", "zhou.yang", "g1",
                                       gbc_json("{'category':'water'}"))),
                 0);
    msgpack_sbuffer req;
    json_t *clock = json_pack("{s:s, s:I, s:I}", "op", "clock", "rid", (json_int_t)++t->c->rid,
                              "set", (json_int_t)gbc_local(2026, 3, 16, 10, 1));
    jsonmp_pack_sbuffer(clock, &req);
    json_decref(clock);
    const void *bufs[] = {req.data};
    const size_t lens[] = {req.size};
    cr_assert_eq(gbt_send_frames(t->c->sock, 1, bufs, lens), 0);
    msgpack_sbuffer_destroy(&req);
    const wire_reply_t *r = gbt_recv_reply(t->c);
    cr_assert(r && r->op == WIRE_REPLY_ACK, "repair: %s", gbt_show(t->c));
    r = gbt_recv_reply(t->c);
    cr_assert(r && r->op == WIRE_REPLY_RESULT, "clock: %s", gbt_show(t->c));
    expect_overdue(before + 1, true, false);
}

/* ---- after a restart ---- */

/* Friday 2099-01-02 17:00: later than any system clock this test will meet, so while the
 * restarted daemon runs on the system clock (it is frozen only once the test sets it)
 * none of these deadlines falls due before the test moves the clock. */
#define FAR_FRIDAY gbc_local(2099, 1, 2, 17, 0)
#define FAR_ACCEPT_BY gbc_local(2099, 1, 5, 10, 0)   /* Monday: 0h30 + 1h30 */
#define FAR_COMPLETE_BY gbc_local(2099, 1, 6, 17, 0) /* Tuesday: 0h30 + 7h + 6h30 */

/* The far Friday's two repairs, one left dispatched and one accepted, as their deadlines
 * pass: the pending one misses both, the accepted one only the complete deadline. */
static void far_deadlines_pass(uint64_t pending, uint64_t accepted)
{
    clock_to(FAR_ACCEPT_BY + MINUTE);
    expect_overdue(pending, true, false);
    expect_overdue(accepted, false, false);
    clock_to(FAR_COMPLETE_BY + MINUTE);
    expect_overdue(pending, true, true);
    expect_overdue(accepted, false, true);
    cr_expect_eq(overdue_in("g1"), 2, "both in the overdue index");
}

static void deadlines_survive(bool crash)
{
    start(NULL, NULL);
    uint64_t pending = repair_at(FAR_FRIDAY), accepted = repair_at(FAR_FRIDAY);
    step_ok("task.accepted", accepted, "helper.g1.2", NULL);

    if (crash)
        gbd_kill9(t->d);
    cr_assert_eq(gbd_restart(t->d), 0, "gridbusd did not restart");
    cr_assert_eq(gbc_reconnect(t), 0, "%s", gbt_why());

    json_t *task = task_of(pending);
    cr_expect_eq(gbc_int(task, "accept_by"), FAR_ACCEPT_BY);
    cr_expect_eq(gbc_int(task, "complete_by"), FAR_COMPLETE_BY);
    json_decref(task);
    clock_to(FAR_ACCEPT_BY - 1);
    expect_overdue(pending, false, false);
    far_deadlines_pass(pending, accepted);
}

Test(deadlines, survive_a_restart)
{
    deadlines_survive(false);
}

Test(deadlines, survive_kill_9)
{
    deadlines_survive(true);
}

/* ---- a store of the earlier index layout ---- */

/* Turns the stopped daemon's state into that of an earlier gridbusd: schema 1, the index
 * environment gone, and the main environment holding the indexes of schemas 1 and 2 ("tidx"
 * and "deadlines" with an entry of their own format each, "open" and "due" as sorted
 * duplicates). */
static void make_earlier_layout(const char *dir)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    char rm[700];
    unsigned char old_key[17] = {0}, seq[8] = {0};
    MDB_val k = {sizeof old_key, old_key}, v = {0, NULL}, dk = {1, "a"}, dv = {8, seq};
    snprintf(rm, sizeof rm, "rm -rf '%s/index'", dir);
    cr_assert_eq(system(rm), 0);
    cr_assert_eq(mdb_env_create(&env), 0);
    cr_assert_eq(mdb_env_set_maxdbs(env, 16), 0);
    cr_assert_eq(mdb_env_set_mapsize(env, 64 << 20), 0);
    cr_assert_eq(mdb_env_open(env, dir, 0, 0600), 0, "open %s", dir);
    cr_assert_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
    unsigned char schema1[8] = {0, 0, 0, 0, 0, 0, 0, 1};
    MDB_val sk = {6, "schema"}, sv = {8, schema1};
    cr_assert_eq(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
    cr_assert_eq(mdb_put(txn, dbi, &sk, &sv, 0), 0);
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(
            mdb_dbi_open(txn, i ? "due" : "open", MDB_CREATE | MDB_DUPSORT | MDB_DUPFIXED, &dbi),
            0);
        cr_assert_eq(mdb_put(txn, dbi, &dk, &dv, 0), 0);
        cr_assert_eq(mdb_dbi_open(txn, i ? "deadlines" : "tidx", MDB_CREATE, &dbi), 0);
        cr_assert_eq(mdb_put(txn, dbi, &k, &v, 0), 0);
    }
    cr_assert_eq(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
}

static json_int_t listed(const char *by, const char *key)
{
    const json_t *res = gbc_query(t, json_pack("{s:s, s:s}", "what", "tasks", by, key));
    cr_assert_not_null(res, "tasks by %s %s: %s", by, key, gbt_show(t->c));
    return (json_int_t)json_array_size(json_object_get(res, "tasks"));
}

Test(deadlines, an_earlier_index_layout_is_rebuilt_on_open)
{
    start(NULL, NULL);
    uint64_t pending = repair_at(FAR_FRIDAY), accepted = repair_at(FAR_FRIDAY);
    step_ok("task.accepted", accepted, "helper.g1.2", NULL);
    cr_assert_eq(listed("grid", "g1"), 2);

    gbd_kill9(t->d);
    make_earlier_layout(gbd_state_dir(t->d));
    cr_assert_eq(gbd_restart(t->d), 0, "gridbusd did not restart on the earlier layout");
    cr_assert_eq(gbc_reconnect(t), 0, "%s", gbt_why());

    char cmd[900];
    snprintf(cmd, sizeof cmd, "grep -q 'task indexes rebuilt.* tasks=2 ' '%s'", gbd_log_path(t->d));
    cr_expect_eq(system(cmd), 0, "the log says the indexes were rebuilt from 2 tasks");
    cr_expect_eq(storepeek_schema(gbd_state_dir(t->d)), 4,
                 "marked as upgraded: an older gridbusd refuses it");
    static const char *const gone[] = {"tidx", "deadlines", "open", "due"};
    for (size_t i = 0; i < 4; i++)
        cr_expect_not(storepeek_has_db(gbd_state_dir(t->d), gone[i]),
                      "%s: dropped from the main store", gone[i]);
    cr_expect_eq(listed("grid", "g1"), 2, "both open tasks are indexed again");
    cr_expect_eq(listed("assignee", "helper.g1.1"), 1);
    cr_expect_eq(listed("assignee", "helper.g1.2"), 1);
    far_deadlines_pass(pending, accepted);
}

/* The task indexes are written without fsync: after a crash of the machine (the index state
 * says "dirty" for another boot) they are rebuilt, not trusted. */
Test(deadlines, indexes_left_dirty_by_another_boot_are_rebuilt)
{
    start(NULL, NULL);
    uint64_t pending = repair_at(FAR_FRIDAY), accepted = repair_at(FAR_FRIDAY);
    step_ok("task.accepted", accepted, "helper.g1.2", NULL);

    gbd_kill9(t->d);
    char path[700];
    snprintf(path, sizeof path, "%s/index/state", gbd_state_dir(t->d));
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    fputs("dirty 00000000-0000-0000-0000-000000000000\n", f);
    fclose(f);
    cr_assert_eq(gbd_restart(t->d), 0, "gridbusd did not restart");
    cr_assert_eq(gbc_reconnect(t), 0, "%s", gbt_why());

    char cmd[900];
    snprintf(cmd, sizeof cmd,
             "grep -q 'task indexes not trusted' '%s' && grep -q "
             "'task indexes rebuilt.* tasks=2 ' '%s'",
             gbd_log_path(t->d), gbd_log_path(t->d));
    cr_expect_eq(system(cmd), 0, "the log says the indexes were rebuilt from 2 tasks");
    cr_expect_eq(listed("grid", "g1"), 2, "both open tasks are indexed again");
    far_deadlines_pass(pending, accepted);
}

/* ---- the calendar on reload ---- */

Test(deadlines, a_reload_takes_a_new_calendar_and_refuses_a_bad_one)
{
    static const char *const whole[] = {NULL};
    /* Monday 2026-03-16 declared a day off, with and without a broken work_hours line. */
    static const gbc_edit_t day_off[] = {{"  holidays:", "  holidays:\n    - 2026-03-16"},
                                         {NULL, NULL}};
    static const gbc_edit_t broken[] = {
        {"  holidays:", "  holidays:\n    - 2026-03-16"},
        {"  work_hours:", "  work_hours: [\"08:30-12:00\", \"11:00-17:30\"]"},
        {NULL, NULL}};
    int64_t friday = gbc_local(2026, 3, 13, 17, 0);
    start(whole, NULL);

    cr_assert_eq(gbc_write_directory(t->directory, NULL, broken), 0);
    cr_assert_eq(gbd_reload(t->d), 0, "no READY=1 after SIGHUP");
    json_t *task = task_of(repair_at(friday));
    cr_expect_eq(gbc_int(task, "accept_by"), gbc_local(2026, 3, 16, 10, 0), "the running calendar");
    json_decref(task);

    cr_assert_eq(gbc_write_directory(t->directory, NULL, day_off), 0);
    cr_assert_eq(gbd_reload(t->d), 0, "no READY=1 after SIGHUP");
    task = task_of(repair_at(friday));
    cr_expect_eq(gbc_int(task, "accept_by"), gbc_local(2026, 3, 17, 10, 0), "Monday is off now");
    cr_expect_eq(gbc_int(task, "complete_by"), gbc_local(2026, 3, 18, 17, 0));
    json_decref(task);
}

/* ---- the clock itself ---- */

Test(deadlines, only_a_test_daemon_lets_its_clock_be_set)
{
    gbd_t *d = gbd_start(NULL, NULL);
    cr_assert_not_null(d, "gridbusd did not start");
    void *ctx = zmq_ctx_new();
    gbt_client_t *c = gbt_client_new(ctx, gbd_endpoint(d, "ingest"));
    cr_assert_not_null(c, "%s", gbt_why());
    json_t *set = json_pack("{s:s, s:I}", "op", "clock", "set", (json_int_t)FAR_FRIDAY);
    const wire_reply_t *r = gbt_call_json(c, set);
    cr_expect(gbt_is_nack(r, GB_E_FORBIDDEN), "want E_FORBIDDEN: %s", gbt_show(c));
    json_t *read = json_pack("{s:s}", "op", "clock");
    r = gbt_call_json(c, read);
    cr_expect(r && r->op == WIRE_REPLY_RESULT, "%s", gbt_show(c));
    /* Still the system clock: nowhere near 2099. */
    cr_expect_lt(gbc_int(c->json, "now"), FAR_FRIDAY);
    cr_expect_gt(gbc_int(c->json, "now"), 0);
    json_decref(set);
    json_decref(read);
    gbt_client_free(&c);
    gbt_close_all();
    zmq_ctx_term(ctx);
    cr_expect_eq(gbd_stop(&d), 0);
}
