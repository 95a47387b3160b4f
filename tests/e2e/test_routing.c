/*
 * test_routing: who gets the task a field event opens (属地管理、责任主体唯一).
 *
 * Every sample route of conf/daidong.yaml is exercised against the shipped directory, then
 * the assignment rules: the least-loaded holder of the route's role on the event's grid
 * (ties by member id), the fallback roles in order when nobody holds it there, and parking
 * when nobody at all does; the last two on edited copies of the directory. A reload keeps
 * the assignee of open tasks, and a bad file keeps the running routes. The daemon's clock
 * is set before anything is published, so nothing depends on when the test runs.
 *
 * The sample's `default` route is not exercised: every field type has a catch-all route of
 * its own before it (patrol-other, repair's full category list, visit-logged,
 * ledger-review), so no sample event reaches it.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gbcase.h"

/* One timeout for every suite and test of this file (Criterion 2.4.1 leaks when suites
 * of one binary differ, see test_cli.c). */
#define SUITE_TIMEOUT 120

/* Monday 2026-03-16 09:00 in Daidong: an ordinary working morning. */
#define MONDAY_MORNING gbc_local(2026, 3, 16, 9, 0)

static gbc_t *t;

static void teardown(void)
{
    if (t)
        cr_expect_eq(gbc_stop(&t), 0, "gridbusd did not exit cleanly");
}

TestSuite(routing, .fini = teardown, .timeout = SUITE_TIMEOUT);

static void start(const char *const *drop, const gbc_edit_t *edits)
{
    t = gbc_start(drop, edits);
    cr_assert_not_null(t, "gridbusd did not start: %s", gbt_why());
    cr_assert_eq(gbc_clock(t, MONDAY_MORNING), 0, "clock: %s", gbt_show(t->c));
}

/* A field event and who should own the task it opens (route NULL: no task). */
typedef struct {
    const char *type, *by, *grid, *body;
    const char *route, *role, *assignee;
} route_case_t;

static uint64_t expect_route(const route_case_t *rc)
{
    const char *grid = rc->grid ? rc->grid : "no grid";
    uint64_t seq = gbc_open(t, rc->type, rc->by, rc->grid, rc->body);
    cr_assert(seq, "%s %s on %s was not acked: %s", rc->type, rc->body, grid, gbt_show(t->c));
    json_t *task = gbc_task(t, seq);
    if (!rc->route) {
        cr_expect_null(task, "%s %s opened a task", rc->type, rc->body);
        cr_expect(gbt_is_nack(&t->c->rep, GB_E_TASK), "want E_TASK: %s", gbt_show(t->c));
        json_decref(task);
        return seq;
    }
    cr_assert_not_null(task, "%s %s on %s: no task t-%llu: %s", rc->type, rc->body, grid,
                       (unsigned long long)seq, gbt_show(t->c));
    const char *what = rc->body;
    cr_expect_str_eq(gbc_str(task, "route"), rc->route, "%s: route", what);
    cr_expect_str_eq(gbc_str(task, "role"), rc->role, "%s: role", what);
    cr_expect_str_eq(gbc_str(task, "assignee"), rc->assignee, "%s on %s: assignee", what, grid);
    cr_expect_str_eq(gbc_str(task, "status"), rc->assignee[0] ? "dispatched" : "parked", "%s",
                     what);
    cr_expect_str_eq(gbc_str(task, "type"), rc->type);
    cr_expect_str_eq(gbc_str(task, "grid"), rc->grid ? rc->grid : "");
    cr_expect_eq(gbc_int(task, "seq"), (json_int_t)seq);
    json_decref(task);
    return seq;
}

static void expect_routes(const route_case_t *cases, size_t n)
{
    for (size_t i = 0; i < n; i++)
        expect_route(&cases[i]);
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

Test(routing, patrol_issues_go_to_the_remit_of_their_category)
{
    static const route_case_t cases[] = {
        /* The one firefighter serves all three grids. */
        {"patrol.issue_found", "zhou.yang", "g1", "{'category':'fire_hazard'}", "fire-hazard",
         "firefighter", "fire.1"},
        {"patrol.issue_found", "zhou.yang", "g2", "{'category':'fire_hazard'}", "fire-hazard",
         "firefighter", "fire.1"},
        {"patrol.issue_found", "wu.ting", "g3", "{'category':'fire_hazard'}", "fire-hazard",
         "firefighter", "fire.1"},
        /* The area police officer of the grid, never another grid's. */
        {"patrol.issue_found", "zhou.yang", "g1", "{'category':'public_security'}",
         "public-security", "police", "police.g1"},
        {"patrol.issue_found", "zhou.yang", "g2", "{'category':'public_security'}",
         "public-security", "police", "police.g2"},
        {"patrol.issue_found", "wu.ting", "g3", "{'category':'public_security'}", "public-security",
         "police", "police.g3"},
        /* City management takes four categories. */
        {"patrol.issue_found", "wu.ting", "g3", "{'category':'sanitation'}", "city-management",
         "city_management", "citymgmt.g3"},
        {"patrol.issue_found", "zhou.yang", "g1", "{'category':'city_appearance'}",
         "city-management", "city_management", "citymgmt.g1"},
        {"patrol.issue_found", "zhou.yang", "g2", "{'category':'illegal_construction'}",
         "city-management", "city_management", "citymgmt.g2"},
        {"patrol.issue_found", "zhou.yang", "g1", "{'category':'traffic'}", "city-management",
         "city_management", "citymgmt.g1"},
        /* Anything else found on patrol: the grid leader. */
        {"patrol.issue_found", "citymgmt.g2", "g2", "{'category':'other'}", "patrol-other",
         "grid_leader", "zhao.lei"},
    };
    start(NULL, NULL);
    expect_routes(cases, N(cases));

    /* The task feed announces each one on the assignee's topic. */
    json_t *feed = gbc_feed(t, 0, "task/g2/police.g2");
    cr_assert_not_null(feed, "%s", gbt_show(t->c));
    cr_expect_eq(json_array_size(feed), 1, "one record for police.g2 on g2");
    json_t *rec = json_array_get(feed, 0);
    cr_expect_str_eq(gbc_str(rec, "topic"), "task/g2/police.g2");
    cr_expect_str_eq(gbc_str(json_object_get(rec, "task"), "assignee"), "police.g2");
    json_decref(feed);
}

Test(routing, repairs_go_to_the_home_helpers_of_the_grid)
{
    /* Per grid, the helpers take turns by load (all start at 0, ties by id). */
    static const route_case_t cases[] = {
        {"repair.requested", "chen.jing", "g1", "{'category':'water'}", "repair", "home_helper",
         "helper.g1.1"},
        {"repair.requested", "zhao.lei", "g2", "{'category':'electric'}", "repair", "home_helper",
         "helper.g2.1"},
        {"repair.requested", "sun.fang", "g3", "{'category':'gas'}", "repair", "home_helper",
         "helper.g3.1"},
        {"repair.requested", "chen.jing", "g1", "{'category':'elderly_care'}", "repair",
         "home_helper", "helper.g1.2"},
        {"repair.requested", "zhao.lei", "g2", "{'category':'other', 'urgency':'low'}", "repair",
         "home_helper", "helper.g2.2"},
        /* Urgent ones have their own route (shorter deadlines), same team. */
        {"repair.requested", "sun.fang", "g3", "{'category':'water', 'urgency':'high'}",
         "repair-urgent", "home_helper", "helper.g3.2"},
        {"repair.requested", "chen.jing", "g1", "{'category':'electric', 'urgency':'normal'}",
         "repair", "home_helper", "helper.g1.3"},
    };
    start(NULL, NULL);
    expect_routes(cases, N(cases));
}

Test(routing, visits_open_a_task_only_when_something_is_left_to_do)
{
    static const route_case_t cases[] = {
        {"visit.logged", "gong.xiujuan", "g1", "{'needs_followup':true}", "visit-followup",
         "grid_leader", "chen.jing"},
        {"visit.logged", "li.zhen", "g3", "{'concerns':['楼道灯不亮']}", "visit-concerns",
         "grid_leader", "sun.fang"},
        /* Both: the first matching route (follow-up) wins. */
        {"visit.logged", "zhang.teng", "g2", "{'needs_followup':true, 'concerns':['独居老人']}",
         "visit-followup", "grid_leader", "zhao.lei"},
        /* Nothing left to do: the visit is kept, no task. */
        {"visit.logged", "gong.xiujuan", "g1", "{}", NULL, NULL, NULL},
        {"visit.logged", "gong.xiujuan", "g1", "{'needs_followup':false, 'concerns':[]}", NULL,
         NULL, NULL},
    };
    start(NULL, NULL);
    expect_routes(cases, N(cases));

    /* And the kept visits are in the log all the same. */
    json_t *log = gbt_replay_all(t->c, 0);
    cr_assert_not_null(log, "%s", gbt_why());
    cr_expect_eq(json_array_size(log), N(cases));
    json_decref(log);
}

Test(routing, ledger_entries_go_to_the_discipline_commissioner)
{
    static const route_case_t cases[] = {
        /* A ledger entry belongs to no grid; the commissioner works community-wide. */
        {"ledger.entry_submitted", "xu.na", NULL, "{}", "ledger-review", "discipline_commissioner",
         "gao.feng"},
        {"ledger.entry_submitted", "xu.na", "g2", "{'direction':'income'}", "ledger-review",
         "discipline_commissioner", "gao.feng"},
    };
    start(NULL, NULL);
    expect_routes(cases, N(cases));
}

/* A text the task keeps shorter than the event's field is cut on a character: the ledger's
 * category may be 64 bytes, the task's 31. 21 three-byte characters (63 bytes) leave 10 whole
 * ones and one byte of the 11th, which becomes '?', in the query and in the feed alike. */
Test(routing, a_category_cut_to_the_task_field_stays_valid_utf8)
{
    char body[128] = "{'category':'", want[64] = "";
    for (int i = 0; i < 21; i++)
        strcat(body, "网");
    strcat(body, "'}");
    for (int i = 0; i < 10; i++)
        strcat(want, "网");
    strcat(want, "?");
    start(NULL, NULL);
    uint64_t seq = gbc_open(t, "ledger.entry_submitted", "xu.na", NULL, body);
    cr_assert(seq, "not acked: %s", gbt_show(t->c));
    json_t *task = gbc_task(t, seq);
    cr_assert_not_null(task, "t-%llu: %s", (unsigned long long)seq, gbt_show(t->c));
    cr_expect_str_eq(gbc_str(task, "category"), want);
    json_decref(task);
    json_t *feed = gbc_feed(t, 1, NULL);
    cr_assert_not_null(feed, "%s", gbt_show(t->c));
    cr_assert_eq(json_array_size(feed), 1);
    cr_expect_str_eq(gbc_str(json_object_get(json_array_get(feed, 0), "task"), "category"), want);
    json_decref(feed);
}

static const char *assignee_of(uint64_t seq)
{
    static char who[80];
    json_t *task = gbc_task(t, seq);
    cr_assert_not_null(task, "t-%llu: %s", (unsigned long long)seq, gbt_show(t->c));
    snprintf(who, sizeof who, "%s", gbc_str(task, "assignee"));
    json_decref(task);
    return who;
}

static uint64_t repair(const char *grid)
{
    uint64_t seq = gbc_open(t, "repair.requested", "chen.jing", grid, "{'category':'water'}");
    cr_assert(seq, "repair on %s not acked: %s", grid, gbt_show(t->c));
    return seq;
}

static void step_ok(const char *type, uint64_t seq, const char *by, const char *body)
{
    const wire_reply_t *r = gbc_step(t, type, seq, by, body);
    cr_assert(r && r->op == WIRE_REPLY_ACK, "%s on t-%llu by %s: %s", type, (unsigned long long)seq,
              by, gbt_show(t->c));
}

/* Takes the task through to closed (accepted, completed, verified by the grid leader). */
static void close_task(uint64_t seq, const char *assignee)
{
    step_ok("task.accepted", seq, assignee, NULL);
    step_ok("task.completed", seq, assignee, "{'outcome':'fixed'}");
    step_ok("task.verified", seq, "chen.jing", "{'ok':true}");
}

Test(routing, the_least_loaded_helper_gets_the_next_repair)
{
    start(NULL, NULL);
    uint64_t a = repair("g1"), b = repair("g1"), c = repair("g1");
    cr_expect_str_eq(assignee_of(a), "helper.g1.1");
    cr_expect_str_eq(assignee_of(b), "helper.g1.2");
    cr_expect_str_eq(assignee_of(c), "helper.g1.3");
    /* Another grid's tasks do not count for g1. */
    cr_expect_str_eq(assignee_of(repair("g2")), "helper.g2.1");

    /* helper.g1.2 closes hers: she alone has none open, so she gets the fourth. */
    close_task(b, "helper.g1.2");
    cr_expect_str_eq(assignee_of(repair("g1")), "helper.g1.2");

    /* A done task awaiting verification is still open (it may be reopened), so it still
     * counts: all three have one, and the tie goes to the smallest id. */
    step_ok("task.accepted", c, "helper.g1.3", NULL);
    step_ok("task.completed", c, "helper.g1.3", "{'outcome':'fixed'}");
    cr_expect_str_eq(assignee_of(repair("g1")), "helper.g1.1");
    /* Now helper.g1.1 has two, the others one each: helper.g1.2 by id. */
    cr_expect_str_eq(assignee_of(repair("g1")), "helper.g1.2");
    cr_expect_str_eq(assignee_of(repair("g1")), "helper.g1.3");
}

Test(routing, the_least_loaded_choice_holds_for_requests_in_flight_together)
{
    /* Sent without waiting, these likely share one write transaction: each must still see
     * the tasks opened before it. */
    start(NULL, NULL);
    static const char *const grids[] = {"g1", "g1", "g2", "g1", "g1"};
    static const char *const want[] = {"helper.g1.1", "helper.g1.2", "helper.g2.1", "helper.g1.3",
                                       "helper.g1.1"};
    for (size_t i = 0; i < N(grids); i++)
        cr_assert_eq(gbc_send(t, gbc_field(t, "repair.requested", "chen.jing", grids[i],
                                           gbc_json("{'category':'water'}"))),
                     0, "%s", gbt_why());
    uint64_t seqs[N(grids)];
    for (size_t i = 0; i < N(grids); i++) {
        const wire_reply_t *r = gbt_recv_reply(t->c);
        cr_assert(r && r->op == WIRE_REPLY_ACK, "reply %zu: %s", i, gbt_show(t->c));
        seqs[i] = r->seq;
    }
    for (size_t i = 0; i < N(grids); i++)
        cr_expect_str_eq(assignee_of(seqs[i]), want[i], "repair %zu on %s", i, grids[i]);
}

/* The enforcement officers, grid leader and helpers missing on some grids. */
static const char *const thin_directory[] = {"police.g2",   "zhao.lei",    "fire.1",
                                             "helper.g3.1", "helper.g3.2", "helper.g3.3",
                                             "gao.feng",    NULL};

Test(routing, fallback_roles_take_over_in_order_when_nobody_holds_the_role)
{
    /* The task's role stays the route's owning role; the assignee holds a fallback one. */
    static const route_case_t cases[] = {
        /* No police officer and no grid leader on g2: the convener. */
        {"patrol.issue_found", "zhou.yang", "g2", "{'category':'public_security'}",
         "public-security", "police", "li.qiang"},
        /* g1 still has its officer. */
        {"patrol.issue_found", "zhou.yang", "g1", "{'category':'public_security'}",
         "public-security", "police", "police.g1"},
        /* No firefighter anywhere: each grid's leader, the first fallback. */
        {"patrol.issue_found", "wu.ting", "g3", "{'category':'fire_hazard'}", "fire-hazard",
         "firefighter", "sun.fang"},
        {"patrol.issue_found", "zhou.yang", "g1", "{'category':'fire_hazard'}", "fire-hazard",
         "firefighter", "chen.jing"},
        /* No helper on g3: its grid leader; g1's helpers are still there. */
        {"repair.requested", "wu.ting", "g3", "{'category':'water'}", "repair", "home_helper",
         "sun.fang"},
        {"repair.requested", "zhou.yang", "g1", "{'category':'water'}", "repair", "home_helper",
         "helper.g1.1"},
        /* patrol-other's role is the grid leader, missing on g2: the convener. */
        {"patrol.issue_found", "zhou.yang", "g2", "{'category':'other'}", "patrol-other",
         "grid_leader", "li.qiang"},
        /* No commissioner: the discipline secretary stands in. */
        {"ledger.entry_submitted", "xu.na", NULL, "{}", "ledger-review", "discipline_commissioner",
         "su.yuanyuan"},
    };
    start(thin_directory, NULL);
    expect_routes(cases, N(cases));
}

Test(routing, a_task_nobody_can_take_is_parked_and_visible)
{
    static const char *const nobody[] = {"police.g2", "zhao.lei",    "li.qiang",
                                         "gao.feng",  "su.yuanyuan", NULL};
    static const route_case_t cases[] = {
        {"patrol.issue_found", "zhou.yang", "g2", "{'category':'public_security'}",
         "public-security", "police", ""},
        {"ledger.entry_submitted", "xu.na", NULL, "{}", "ledger-review", "discipline_commissioner",
         ""},
        {"patrol.issue_found", "zhou.yang", "g2", "{'category':'other'}", "patrol-other",
         "grid_leader", ""},
        /* Routing goes on as usual where someone is there. */
        {"patrol.issue_found", "zhou.yang", "g1", "{'category':'public_security'}",
         "public-security", "police", "police.g1"},
    };
    start(nobody, NULL);
    uint64_t first = expect_route(&cases[0]);
    expect_routes(cases + 1, N(cases) - 1);

    const json_t *res = gbc_query(t, json_pack("{s:s, s:s}", "what", "tasks", "status", "parked"));
    cr_assert_not_null(res, "%s", gbt_show(t->c));
    json_t *tasks = json_object_get(res, "tasks");
    cr_assert_eq(json_array_size(tasks), 3, "three parked: %s", gbt_show(t->c));
    for (size_t i = 0; i < 3; i++) {
        cr_expect_str_eq(gbc_str(json_array_get(tasks, i), "status"), "parked");
        cr_expect_str_eq(gbc_str(json_array_get(tasks, i), "assignee"), "");
    }
    cr_expect_eq(gbc_int(json_array_get(tasks, 0), "seq"), (json_int_t)first);

    /* Parked tasks are open: the default listing of g2 shows both of its own. */
    res = gbc_query(t, json_pack("{s:s, s:s}", "what", "tasks", "grid", "g2"));
    cr_assert_not_null(res, "%s", gbt_show(t->c));
    cr_expect_eq(json_array_size(json_object_get(res, "tasks")), 2, "%s", gbt_show(t->c));

    /* The feed tells the supervisors a task is parked. */
    json_t *feed = gbc_feed(t, 0, NULL);
    cr_assert_not_null(feed, "%s", gbt_show(t->c));
    cr_expect_eq(json_array_size(feed), N(cases));
    json_t *rec = json_array_get(feed, 0);
    cr_expect_str_eq(gbc_str(rec, "change"), "parked");
    cr_expect_str_eq(gbc_str(json_object_get(rec, "task"), "status"), "parked");
    json_decref(feed);
}

/* ---- reload ---- */

static const char *const whole_directory[] = {NULL}; /* an unedited copy we may rewrite */

static void rewrite_and_reload(const char *const *drop, const gbc_edit_t *edits)
{
    cr_assert_eq(gbc_write_directory(t->directory, drop, edits), 0);
    cr_assert_eq(gbd_reload(t->d), 0, "no READY=1 after SIGHUP");
}

Test(routing, reload_keeps_open_tasks_and_routes_new_ones_by_the_new_directory)
{
    static const char *const without_helper[] = {"helper.g1.1", NULL};
    start(whole_directory, NULL);
    uint64_t a = repair("g1"), b = repair("g1"), c = repair("g1");
    step_ok("task.accepted", b, "helper.g1.2", NULL);

    rewrite_and_reload(without_helper, NULL);

    /* Open tasks keep their assignee and status, even the removed member's. */
    json_t *task = gbc_task(t, a);
    cr_assert_not_null(task, "%s", gbt_show(t->c));
    cr_expect_str_eq(gbc_str(task, "assignee"), "helper.g1.1");
    cr_expect_str_eq(gbc_str(task, "status"), "dispatched");
    json_decref(task);
    cr_expect_str_eq(assignee_of(b), "helper.g1.2");
    cr_expect_str_eq(assignee_of(c), "helper.g1.3");

    /* All three have one open task; with helper.g1.1 still listed, the tie would be hers. */
    uint64_t d = repair("g1");
    cr_expect_str_eq(assignee_of(d), "helper.g1.2");
    /* A returned task is re-routed by the new directory too: helper.g1.3 (one open task)
     * and not helper.g1.1 (one as well, and first by id). */
    step_ok("task.returned", d, "helper.g1.2", "{'reason':'busy'}");
    cr_expect_str_eq(assignee_of(d), "helper.g1.3");
}

Test(routing, reload_with_a_bad_file_keeps_the_running_routes)
{
    static const char *const without_helper[] = {"helper.g1.1", NULL};
    /* Each breaks a different part of the file: routes, calendar, directory. */
    static const gbc_edit_t bad_route[] = {{"role: home_helper", "    role: home_helpr"},
                                           {NULL, NULL}};
    static const gbc_edit_t bad_calendar[] = {
        {"2026-10-01..2026-10-07", "    - 2026-10-07..2026-10-01"}, {NULL, NULL}};
    static const gbc_edit_t bad_member[] = {{"{id: helper.g1.2,", "  - {id: helper.g1.2}"},
                                            {NULL, NULL}};
    const gbc_edit_t *const bad[] = {bad_route, bad_calendar, bad_member};
    start(whole_directory, NULL);

    for (size_t i = 0; i < N(bad); i++) {
        /* The bad file also drops helper.g1.1: if it were taken, she would get nothing. */
        rewrite_and_reload(without_helper, bad[i]);
        uint64_t seq = repair("g1");
        cr_expect_str_eq(assignee_of(seq), "helper.g1.1", "bad file %zu was taken", i);
        close_task(seq, "helper.g1.1");
    }
    char cmd[900];
    snprintf(cmd, sizeof cmd,
             "test $(grep -c 'reload failed.*directory.yaml:[0-9]*:[0-9]*' '%s') = 3",
             gbd_log_path(t->d));
    cr_expect_eq(system(cmd), 0, "each failed reload should be logged with file:line:col");

    /* Fixed, the same change is taken. */
    rewrite_and_reload(without_helper, NULL);
    cr_expect_str_eq(assignee_of(repair("g1")), "helper.g1.2");
}
