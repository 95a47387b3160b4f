/*
 * test_cases: the closed loop of a case, step by step, against a real gridbusd.
 *
 * Every follow-up type is tried from every status: the legal ones move the task as the
 * lifecycle says, the illegal ones are E_STATE; only the assignee moves a task and only
 * the grid's leader, its cadre, the convener or the discipline secretary closes it
 * (E_FORBIDDEN); an unknown or ill-formed task id is E_TASK. A refused follow-up changes
 * nothing and is not stored. Returning re-routes to the next candidate until nobody is
 * left. The history keeps every step in order; fees and the month's statistics follow.
 * Every instant is set on the daemon's clock, never waited for.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "gbcase.h"

/* One timeout for every suite and test of this file (see test_cli.c). */
#define SUITE_TIMEOUT 120

/* Monday 2026-03-16 09:00 in Daidong: an ordinary working morning. */
#define MONDAY_MORNING gbc_local(2026, 3, 16, 9, 0)
#define MINUTE INT64_C(60000)

static gbc_t *t;

static void setup(void)
{
    t = gbc_start(NULL, NULL);
    cr_assert_not_null(t, "gridbusd did not start: %s", gbt_why());
    cr_assert_eq(gbc_clock(t, MONDAY_MORNING), 0, "clock: %s", gbt_show(t->c));
}

static void teardown(void)
{
    if (t)
        cr_expect_eq(gbc_stop(&t), 0, "gridbusd did not exit cleanly");
}

TestSuite(cases, .init = setup, .fini = teardown, .timeout = SUITE_TIMEOUT);

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- helpers ---- */

static json_t *task_of(uint64_t seq)
{
    json_t *task = gbc_task(t, seq);
    cr_assert_not_null(task, "no task t-%" PRIu64 ": %s", seq, gbt_show(t->c));
    return task;
}

/* The task's status and assignee, copied out (the JSON is freed). */
typedef struct {
    char status[32], assignee[80];
} state_t;

static state_t state_of(uint64_t seq)
{
    state_t s;
    json_t *task = task_of(seq);
    snprintf(s.status, sizeof s.status, "%s", gbc_str(task, "status"));
    snprintf(s.assignee, sizeof s.assignee, "%s", gbc_str(task, "assignee"));
    json_decref(task);
    return s;
}

/* A water repair on grid; its task's number. */
static uint64_t open_repair(const char *grid)
{
    uint64_t seq = gbc_open(t, "repair.requested", "chen.jing", grid, "{'category':'water'}");
    cr_assert(seq, "repair on %s not acked: %s", grid, gbt_show(t->c));
    return seq;
}

static void expect_ok(const char *type, uint64_t seq, const char *by, const char *body)
{
    const wire_reply_t *r = gbc_step(t, type, seq, by, body);
    cr_assert(r && r->op == WIRE_REPLY_ACK && !r->dup, "%s %s on t-%" PRIu64 " by %s: %s", type,
              body ? body : "", seq, by, gbt_show(t->c));
}

/* The step is refused with code, and neither the task nor the event log changes. */
static void expect_refused(gb_code_t code, const char *type, uint64_t seq, const char *by,
                           const char *body)
{
    json_t *before = task_of(seq);
    int64_t head = gbt_head(t->c);
    const wire_reply_t *r = gbc_step(t, type, seq, by, body);
    cr_expect(gbt_is_nack(r, code), "%s %s on t-%" PRIu64 " (%s) by %s: want %s, got %s", type,
              body ? body : "", seq, gbc_str(before, "status"), by, gb_code_name(code),
              gbt_show(t->c));
    cr_expect_eq(gbt_head(t->c), head, "refused %s by %s was stored", type, by);
    json_t *after = task_of(seq);
    cr_expect(json_equal(before, after), "refused %s by %s changed t-%" PRIu64, type, by, seq);
    json_decref(before);
    json_decref(after);
}

/* ---- every step from every status ---- */

typedef struct {
    const char *type, *body;
    bool by_verifier; /* taken by the grid leader rather than the assignee */
} step_t;

static const step_t steps[] = {
    {"task.accepted", NULL, false},
    {"task.progress", "{'note':'parts ordered'}", false},
    {"task.completed", "{'outcome':'pipe replaced'}", false},
    {"task.returned", "{'reason':'not ours'}", false},
    {"task.verified", "{'ok':true}", true},
    {"task.verified", "{'ok':false, 'note':'still drips'}", true},
};

/* From each status, where each step of steps[] leads (NULL: E_STATE). A return leads to
 * "dispatched" to someone else. */
static const struct {
    const char *status;
    const char *to[N(steps)];
} lifecycle[] = {
    {"dispatched", {"accepted", NULL, NULL, "dispatched", NULL, NULL}},
    {"accepted", {NULL, "in_progress", "done", "dispatched", NULL, NULL}},
    {"in_progress", {NULL, "in_progress", "done", "dispatched", NULL, NULL}},
    {"done", {NULL, NULL, NULL, NULL, "closed", "in_progress"}},
    {"closed", {NULL, NULL, NULL, NULL, NULL, NULL}},
};

/* A fresh g1 repair brought to status along the shortest legal path. */
static uint64_t task_in(const char *status)
{
    uint64_t seq = open_repair("g1");
    const char *who = state_of(seq).assignee;
    char assignee[80];
    snprintf(assignee, sizeof assignee, "%s", who);
    if (strcmp(status, "dispatched") != 0)
        expect_ok("task.accepted", seq, assignee, NULL);
    if (!strcmp(status, "in_progress"))
        expect_ok("task.progress", seq, assignee, "{'note':'on site'}");
    if (!strcmp(status, "done") || !strcmp(status, "closed"))
        expect_ok("task.completed", seq, assignee, "{'outcome':'fixed'}");
    if (!strcmp(status, "closed"))
        expect_ok("task.verified", seq, "chen.jing", "{'ok':true}");
    cr_assert_str_eq(state_of(seq).status, status);
    return seq;
}

static void try_step(const char *from, const step_t *s, const char *to)
{
    uint64_t seq = task_in(from);
    state_t was = state_of(seq);
    const char *by = s->by_verifier ? "chen.jing" : was.assignee;
    if (!to) {
        expect_refused(GB_E_STATE, s->type, seq, by, s->body);
        return;
    }
    expect_ok(s->type, seq, by, s->body);
    state_t now = state_of(seq);
    cr_expect_str_eq(now.status, to, "%s %s from %s", s->type, s->body ? s->body : "", from);
    if (!strcmp(s->type, "task.returned"))
        cr_expect_str_neq(now.assignee, was.assignee, "a returned task goes to someone else");
    else
        cr_expect_str_eq(now.assignee, was.assignee, "%s keeps the assignee", s->type);
}

Test(cases, every_step_from_every_status_is_taken_or_refused_with_E_STATE)
{
    for (size_t i = 0; i < N(lifecycle); i++)
        for (size_t j = 0; j < N(steps); j++)
            try_step(lifecycle[i].status, &steps[j], lifecycle[i].to[j]);
}

/* ---- who may take a step ---- */

Test(cases, only_the_assignee_moves_a_task)
{
    uint64_t seq = open_repair("g1");
    cr_assert_str_eq(state_of(seq).assignee, "helper.g1.1");
    /* Not a fellow helper, not the grid leader, not the convener. */
    static const char *const others[] = {"helper.g1.2", "chen.jing", "li.qiang"};
    for (size_t i = 0; i < N(others); i++) {
        expect_refused(GB_E_FORBIDDEN, "task.accepted", seq, others[i], NULL);
        expect_refused(GB_E_FORBIDDEN, "task.returned", seq, others[i], "{'reason':'x'}");
    }
    expect_ok("task.accepted", seq, "helper.g1.1", NULL);
    expect_refused(GB_E_FORBIDDEN, "task.progress", seq, "helper.g1.2", "{'note':'x'}");
    expect_refused(GB_E_FORBIDDEN, "task.completed", seq, "chen.jing", "{'outcome':'x'}");
    expect_refused(GB_E_FORBIDDEN, "task.returned", seq, "li.qiang", "{'reason':'x'}");
    expect_ok("task.progress", seq, "helper.g1.1", "{'note':'on site'}");
    expect_refused(GB_E_FORBIDDEN, "task.completed", seq, "helper.g1.3", "{'outcome':'x'}");
    cr_expect_str_eq(state_of(seq).status, "in_progress");
}

Test(cases, only_the_grids_leaders_and_the_secretary_verify)
{
    uint64_t seq = open_repair("g1");
    expect_ok("task.accepted", seq, "helper.g1.1", NULL);
    expect_ok("task.completed", seq, "helper.g1.1", "{'outcome':'fixed'}");
    /* Not the helper who did it, nor another, nor a grid member, nor the leaders of
     * another grid, nor the commissioner (who supervises, not verifies). */
    static const char *const refused[] = {"helper.g1.1", "helper.g1.2", "zhou.yang",
                                          "zhao.lei",    "zhang.teng",  "gao.feng"};
    for (size_t i = 0; i < N(refused); i++)
        expect_refused(GB_E_FORBIDDEN, "task.verified", seq, refused[i], "{'ok':true}");

    /* Each of these may: the first three send it back, the secretary closes it. */
    static const char *const verifiers[] = {"chen.jing", "gong.xiujuan", "li.qiang"};
    for (size_t i = 0; i < N(verifiers); i++) {
        expect_ok("task.verified", seq, verifiers[i], "{'ok':false, 'note':'not yet'}");
        cr_expect_str_eq(state_of(seq).status, "in_progress", "reopened by %s", verifiers[i]);
        expect_ok("task.completed", seq, "helper.g1.1", "{'outcome':'fixed again'}");
    }
    expect_ok("task.verified", seq, "su.yuanyuan", "{'ok':true}");
    cr_expect_str_eq(state_of(seq).status, "closed");
}

Test(cases, the_discipline_secretary_verifies_on_any_grid)
{
    /* The rule names her besides those serving the task's grid: she verifies wherever the
     * directory places her, here on g2 only, a g1 task. */
    static const gbc_edit_t secretary_on_g2[] = {
        {"roles: [discipline_secretary]", "    roles: [discipline_secretary]\n    grids: [g2]"},
        {NULL, NULL}};
    cr_assert_eq(gbc_stop(&t), 0);
    t = gbc_start(NULL, secretary_on_g2);
    cr_assert_not_null(t, "gridbusd did not start: %s", gbt_why());
    cr_assert_eq(gbc_clock(t, MONDAY_MORNING), 0);
    uint64_t seq = task_in("done");
    expect_ok("task.verified", seq, "su.yuanyuan", "{'ok':true}");
    cr_expect_str_eq(state_of(seq).status, "closed");
}

/* ---- unknown tasks ---- */

Test(cases, an_unknown_or_ill_formed_task_is_E_TASK)
{
    uint64_t task = open_repair("g1");
    /* Events that are not tasks: a visit with nothing to follow up, and a follow-up. */
    uint64_t visit = gbc_open(t, "visit.logged", "gong.xiujuan", "g1", NULL);
    cr_assert(visit, "%s", gbt_show(t->c));
    expect_ok("task.accepted", task, "helper.g1.1", NULL);
    uint64_t follow_up = (uint64_t)gbt_head(t->c);
    char not_tasks[3][32];
    snprintf(not_tasks[0], 32, "t-%" PRIu64, visit);
    snprintf(not_tasks[1], 32, "t-%" PRIu64, follow_up);
    snprintf(not_tasks[2], 32, "t-%" PRIu64, follow_up + 1000);
    const char *const ids[] = {not_tasks[0], not_tasks[1], not_tasks[2], "t-0", "t-",
                               "x-1",        "T-1",        "t-1x",       "t1",  "t-unknown-1"};
    int64_t head = gbt_head(t->c);
    for (size_t i = 0; i < N(ids); i++)
        for (size_t j = 0; j < N(steps); j++) {
            const step_t *s = &steps[j];
            const wire_reply_t *r = gbc_step_on(t, s->type, ids[i], "chen.jing", s->body);
            cr_expect(gbt_is_nack(r, GB_E_TASK), "%s on '%s': want E_TASK, got %s", s->type, ids[i],
                      gbt_show(t->c));
        }
    cr_expect_eq(gbt_head(t->c), head, "refused follow-ups were stored");
    /* The query op says the same. */
    const json_t *res = gbc_query(t, json_pack("{s:s, s:s}", "what", "task", "id", ids[0]));
    cr_expect_null(res);
    cr_expect(gbt_is_nack(&t->c->rep, GB_E_TASK), "%s", gbt_show(t->c));
}

Test(cases, a_task_id_names_one_task_exactly)
{
    uint64_t seq = open_repair("g1");
    cr_assert_eq(seq, 1, "the first event of a fresh daemon");
    /* Other spellings of 1, and 2^64 + 1, which wraps to 1 in 64 bits: none is "t-1". */
    static const char *const ids[] = {"t-01", "t-0001", "t-18446744073709551617"};
    for (size_t i = 0; i < N(ids); i++) {
        const wire_reply_t *r = gbc_step_on(t, "task.accepted", ids[i], "helper.g1.1", NULL);
        cr_expect(gbt_is_nack(r, GB_E_TASK), "accept '%s': want E_TASK, got %s", ids[i],
                  gbt_show(t->c));
        const json_t *res = gbc_query(t, json_pack("{s:s, s:s}", "what", "task", "id", ids[i]));
        cr_expect(!res && gbt_is_nack(&t->c->rep, GB_E_TASK), "query '%s': want E_TASK, got %s",
                  ids[i], gbt_show(t->c));
    }
    cr_expect_str_eq(state_of(seq).status, "dispatched", "t-1 was accepted under another id");
}

/* ---- returning ---- */

/* Returns the task as its assignee and checks who has it next ("" when parked). */
static void return_to(uint64_t seq, const char *next, json_t *returned_by)
{
    state_t was = state_of(seq);
    expect_ok("task.returned", seq, was.assignee, "{'reason':'not my remit'}");
    json_array_append_new(returned_by, json_string(was.assignee));
    json_t *task = task_of(seq);
    cr_expect_str_eq(gbc_str(task, "assignee"), next, "returned by %s", was.assignee);
    cr_expect_str_eq(gbc_str(task, "status"), next[0] ? "dispatched" : "parked");
    cr_expect(json_equal(json_object_get(task, "returned_by"), returned_by),
              "returned_by lists every one who returned it, in order: %s", gbt_show(t->c));
    json_decref(task);
}

Test(cases, a_returned_task_goes_down_the_route_until_nobody_is_left)
{
    uint64_t seq = open_repair("g1");
    json_t *returned_by = json_array();
    cr_assert_str_eq(state_of(seq).assignee, "helper.g1.1");
    /* The other helpers of g1, then the fallback roles: grid leader, convener. */
    return_to(seq, "helper.g1.2", returned_by);
    expect_ok("task.accepted", seq, "helper.g1.2", NULL); /* accepted, then returned */
    return_to(seq, "helper.g1.3", returned_by);
    expect_ok("task.accepted", seq, "helper.g1.3", NULL);
    expect_ok("task.progress", seq, "helper.g1.3", "{'note':'looked at it'}");
    return_to(seq, "chen.jing", returned_by);
    return_to(seq, "li.qiang", returned_by);
    return_to(seq, "", returned_by);
    json_decref(returned_by);

    /* Those who returned it may not touch it any more; a parked task awaits no step. */
    expect_refused(GB_E_FORBIDDEN, "task.accepted", seq, "li.qiang", NULL);
    expect_refused(GB_E_FORBIDDEN, "task.accepted", seq, "helper.g1.1", NULL);
    expect_refused(GB_E_STATE, "task.verified", seq, "chen.jing", "{'ok':true}");

    json_t *task = task_of(seq);
    cr_expect_eq(gbc_steps(task, "returned"), 5);
    json_decref(task);
    /* The feed follows the task from hand to hand: created, 4 re-routes, parked, plus
     * the two accepts and the progress in between. */
    json_t *feed = gbc_feed(t, 0, NULL);
    cr_assert_not_null(feed, "%s", gbt_show(t->c));
    cr_expect_eq(json_array_size(feed), 9);
    json_t *last = json_object_get(json_array_get(feed, json_array_size(feed) - 1), "task");
    cr_expect_str_eq(gbc_str(last, "status"), "parked");
    json_decref(feed);
}

/* ---- history and fees ---- */

static void expect_history(const json_t *task, size_t i, int64_t at, const char *by,
                           const char *step, const char *note)
{
    const json_t *h = json_array_get(json_object_get(task, "history"), i);
    cr_assert_not_null(h, "history has no entry %zu", i);
    cr_expect_eq(gbc_int(h, "at"), at, "history[%zu].at", i);
    if (by)
        cr_expect_str_eq(gbc_str(h, "by"), by, "history[%zu].by", i);
    cr_expect_str_eq(gbc_str(h, "step"), step, "history[%zu].step", i);
    if (note)
        cr_expect_str_eq(gbc_str(h, "note"), note, "history[%zu].note", i);
}

Test(cases, the_history_keeps_every_step_in_order_with_its_time_author_and_note)
{
    int64_t t0 = MONDAY_MORNING;
    uint64_t seq = open_repair("g1");
    /* Reopened once; the second completion restates the fees, which are the case's. */
    static const struct {
        int minutes;
        const char *type, *by, *body, *note, *status;
    } story[] = {
        {5, "task.accepted", "helper.g1.1", "{'note':'on my way'}", "on my way", "accepted"},
        {20, "task.progress", "helper.g1.1", "{'note':'parts ordered'}", "parts ordered",
         "in_progress"},
        {60, "task.completed", "helper.g1.1",
         "{'outcome':'pipe replaced', 'fee_fen':1500, 'fee_waived_fen':1500}", "pipe replaced",
         "done"},
        {90, "task.verified", "chen.jing", "{'ok':false, 'note':'still drips'}", "still drips",
         "in_progress"},
        {120, "task.completed", "helper.g1.1",
         "{'outcome':'washer replaced', 'fee_fen':1500, 'fee_waived_fen':1500}", "washer replaced",
         "done"},
        {150, "task.verified", "chen.jing", "{'ok':true, 'note':'dry'}", "dry", "closed"},
    };
    for (size_t i = 0; i < N(story); i++) {
        cr_assert_eq(gbc_clock(t, t0 + story[i].minutes * MINUTE), 0);
        expect_ok(story[i].type, seq, story[i].by, story[i].body);
        cr_expect_str_eq(state_of(seq).status, story[i].status, "after %s", story[i].type);
    }
    json_t *task = task_of(seq);
    expect_history(task, 0, t0, "chen.jing", "created", NULL);
    expect_history(task, 1, t0, NULL, "dispatched", NULL);
    for (size_t i = 0; i < N(story); i++)
        expect_history(task, 2 + i, t0 + story[i].minutes * MINUTE, story[i].by,
                       story[i].type + strlen("task."), story[i].note);
    cr_expect_eq(json_array_size(json_object_get(task, "history")), 2 + N(story));
    cr_expect_str_eq(gbc_str(task, "assignee"), "helper.g1.1");
    cr_expect_eq(gbc_int(task, "created_at"), t0);
    cr_expect_eq(gbc_int(task, "accepted_at"), t0 + 5 * MINUTE);
    cr_expect_eq(gbc_int(task, "done_at"), t0 + 120 * MINUTE, "the last completion counts");
    cr_expect_eq(gbc_int(task, "closed_at"), t0 + 150 * MINUTE);
    cr_expect_eq(gbc_int(task, "fee_fen"), 1500);
    cr_expect_eq(gbc_int(task, "fee_waived_fen"), 1500);
    json_decref(task);
}

Test(cases, fees_of_the_completion_are_recorded)
{
    uint64_t a = open_repair("g1"), b = open_repair("g1");
    expect_ok("task.accepted", a, "helper.g1.1", NULL);
    expect_ok("task.completed", a, "helper.g1.1",
              "{'outcome':'socket replaced', 'fee_fen':2500, 'fee_waived_fen':800}");
    expect_ok("task.accepted", b, "helper.g1.2", NULL);
    expect_ok("task.completed", b, "helper.g1.2", "{'outcome':'free help'}");
    json_t *ta = task_of(a), *tb = task_of(b);
    cr_expect_eq(gbc_int(ta, "fee_fen"), 2500);
    cr_expect_eq(gbc_int(ta, "fee_waived_fen"), 800);
    cr_expect_eq(gbc_int(tb, "fee_fen"), 0, "no fee given: none charged");
    cr_expect_eq(gbc_int(tb, "fee_waived_fen"), 0);
    json_decref(ta);
    json_decref(tb);
}

Test(cases, steps_in_flight_together_are_checked_in_order)
{
    /* Sent without waiting (likely one write transaction), each step is checked against
     * the task as the steps before it left it. */
    uint64_t seq = open_repair("g1");
    char id[32];
    snprintf(id, sizeof id, "t-%" PRIu64, seq);
    static const struct {
        const char *type, *by, *body;
        gb_code_t want; /* GB_OK: acked */
    } burst[] = {
        {"task.accepted", "helper.g1.1", NULL, GB_OK},
        {"task.progress", "helper.g1.1", "{'note':'on site'}", GB_OK},
        {"task.accepted", "helper.g1.1", NULL, GB_E_STATE},
        {"task.completed", "helper.g1.2", "{'outcome':'x'}", GB_E_FORBIDDEN},
        {"task.completed", "helper.g1.1", "{'outcome':'fixed'}", GB_OK},
        {"task.verified", "chen.jing", "{'ok':true}", GB_OK},
        {"task.returned", "helper.g1.1", "{'reason':'late'}", GB_E_STATE},
    };
    for (size_t i = 0; i < N(burst); i++)
        cr_assert_eq(gbc_send(t, gbc_follow_up(t, burst[i].type, id, burst[i].by, burst[i].body)),
                     0, "%s", gbt_why());
    for (size_t i = 0; i < N(burst); i++) {
        const wire_reply_t *r = gbt_recv_reply(t->c);
        cr_assert_not_null(r, "reply %zu: %s", i, gbt_why());
        if (burst[i].want == GB_OK)
            cr_expect_eq(r->op, WIRE_REPLY_ACK, "%s by %s: %s", burst[i].type, burst[i].by,
                         gbt_show(t->c));
        else
            cr_expect(gbt_is_nack(r, burst[i].want), "%s by %s: want %s, got %s", burst[i].type,
                      burst[i].by, gb_code_name(burst[i].want), gbt_show(t->c));
    }
    json_t *task = task_of(seq);
    cr_expect_str_eq(gbc_str(task, "status"), "closed");
    static const char *const steps_taken[] = {"created",  "dispatched", "accepted",
                                              "progress", "completed",  "verified"};
    const json_t *history = json_object_get(task, "history");
    cr_expect_eq(json_array_size(history), N(steps_taken));
    for (size_t i = 0; i < N(steps_taken) && i < json_array_size(history); i++)
        cr_expect_str_eq(gbc_str(json_array_get(history, i), "step"), steps_taken[i]);
    json_decref(task);
}

/* ---- the event log ---- */

Test(cases, a_refused_follow_up_is_not_in_the_event_log)
{
    uint64_t seq = open_repair("g1");
    json_t *refused = json_array(), *taken = json_array();
    struct {
        const char *type, *by, *body;
        bool ok;
    } tries[] = {
        {"task.completed", "helper.g1.1", "{'outcome':'x'}", false}, /* E_STATE */
        {"task.accepted", "helper.g1.2", NULL, false},               /* E_FORBIDDEN */
        {"task.accepted", "helper.g1.1", NULL, true},
        {"task.accepted", "helper.g1.1", NULL, false}, /* E_STATE: again */
        {"task.verified", "helper.g1.1", "{'ok':true}", false},
        {"task.completed", "helper.g1.1", "{'outcome':'done'}", true},
    };
    for (size_t i = 0; i < N(tries); i++) {
        const wire_reply_t *r = gbc_step(t, tries[i].type, seq, tries[i].by, tries[i].body);
        cr_assert_not_null(r, "%s", gbt_why());
        cr_expect_eq(r->op == WIRE_REPLY_ACK, tries[i].ok, "try %zu: %s", i, gbt_show(t->c));
        char id[32];
        snprintf(id, sizeof id, "ev-%u", t->ids);
        json_array_append_new(tries[i].ok ? taken : refused, json_string(id));
    }
    json_t *log = gbt_replay_all(t->c, 0);
    cr_assert_not_null(log, "%s", gbt_why());
    cr_expect_eq(json_array_size(log), 1 + json_array_size(taken));
    for (size_t i = 0; i < json_array_size(refused); i++)
        cr_expect_eq(gbt_find_record(log, json_string_value(json_array_get(refused, i))), -1,
                     "refused %s is in the log", json_string_value(json_array_get(refused, i)));
    for (size_t i = 0; i < json_array_size(taken); i++)
        cr_expect_geq(gbt_find_record(log, json_string_value(json_array_get(taken, i))), 0);
    json_decref(log);
    json_decref(refused);
    json_decref(taken);
}

/* ---- the month in figures ---- */

/* Opens a task at the local instant given, on the daemon's clock. */
static uint64_t open_at(int64_t at, const char *type, const char *grid, const char *body)
{
    cr_assert_eq(gbc_clock(t, at), 0);
    uint64_t seq = gbc_open(t, type, "zhou.yang", grid, body);
    cr_assert(seq, "%s on %s: %s", type, grid, gbt_show(t->c));
    return seq;
}

/* Takes a step as the task's assignee. */
static void by_assignee(const char *type, uint64_t seq, const char *body)
{
    char who[80];
    snprintf(who, sizeof who, "%s", state_of(seq).assignee);
    expect_ok(type, seq, who, body);
}

/* The month's figures (a new reference: the next reply frees the client's). */
static json_t *month_stats(const char *grid)
{
    json_t *req = json_pack("{s:s, s:s}", "what", "stats", "month", "2026-03");
    if (grid)
        json_object_set_new(req, "grid", json_string(grid));
    const json_t *res = gbc_query(t, req);
    cr_assert_not_null(res, "%s", gbt_show(t->c));
    return json_incref(json_object_get(res, "stats"));
}

static void expect_tally(const json_t *tally, const char *what, const json_int_t want[9])
{
    static const char *const keys[] = {"tasks",
                                       "open",
                                       "completed",
                                       "closed",
                                       "completed_on_time",
                                       "overdue",
                                       "repairs_completed",
                                       "fees_fen",
                                       "fees_waived_fen"};
    cr_assert_not_null(tally, "%s: no tally", what);
    for (size_t i = 0; i < N(keys); i++)
        cr_expect_eq(gbc_int(tally, keys[i]), want[i], "%s.%s: %lld, want %lld", what, keys[i],
                     (long long)gbc_int(tally, keys[i]), (long long)want[i]);
}

Test(cases, the_months_statistics_count_tasks_fees_and_the_on_time_rate)
{
    const char *water = "{'category':'water'}";
    /* Month edges are Daidong's midnight (UTC+8), not UTC's: of these four g3 repairs,
     * the middle two (the second is still February in UTC) are March's. */
    open_at(gbc_local(2026, 2, 28, 23, 30), "repair.requested", "g3", water);
    uint64_t i = open_at(gbc_local(2026, 3, 1, 0, 30), "repair.requested", "g3", water);

    /* Monday 2 March: three repairs and two patrol issues. */
    int64_t t0 = gbc_local(2026, 3, 2, 9, 0);
    uint64_t a = open_at(t0, "repair.requested", "g1", water);
    uint64_t b = open_at(t0, "repair.requested", "g1", water);
    uint64_t c = open_at(t0, "repair.requested", "g2", water);
    uint64_t d = open_at(t0, "patrol.issue_found", "g2", "{'category':'public_security'}");
    uint64_t e = open_at(t0, "patrol.issue_found", "g1", "{'category':'fire_hazard'}");
    uint64_t accepted[] = {a, b, c, e}; /* at once; d is never even accepted */
    for (size_t k = 0; k < N(accepted); k++)
        by_assignee("task.accepted", accepted[k], NULL);
    cr_assert_eq(gbc_clock(t, t0 + 60 * MINUTE), 0);
    by_assignee("task.completed", a, "{'outcome':'ok', 'fee_waived_fen':2000}");
    expect_ok("task.verified", a, "chen.jing", "{'ok':true}");
    by_assignee("task.completed", b, "{'outcome':'ok', 'fee_fen':1500}");
    by_assignee("task.completed", e, "{'outcome':'bikes moved'}");
    /* c is completed a day after its deadline. */
    json_t *tc = task_of(c);
    cr_assert_eq(gbc_clock(t, gbc_int(tc, "complete_by") + 24 * 60 * MINUTE), 0);
    json_decref(tc);
    by_assignee("task.completed", c, "{'outcome':'ok', 'fee_fen':500, 'fee_waived_fen':1500}");

    open_at(gbc_local(2026, 3, 31, 23, 30), "repair.requested", "g3", water);
    open_at(gbc_local(2026, 4, 1, 0, 30), "repair.requested", "g3", water);

    json_t *s = month_stats(NULL);
    /* tasks, open (not closed), completed, closed, on time, overdue, repairs completed,
     * fees, fees waived: a closed; b, e done on time; c done late; d, i overdue. */
    const json_int_t total[9] = {7, 6, 4, 1, 3, 3, 3, 2000, 3500};
    expect_tally(json_object_get(s, "total"), "total", total);
    cr_expect_eq(json_real_value(json_object_get(json_object_get(s, "total"), "on_time_rate")),
                 0.75);
    const json_t *by_type = json_object_get(s, "by_type");
    cr_expect_eq(gbc_int(by_type, "repair.requested"), 5);
    cr_expect_eq(gbc_int(by_type, "patrol.issue_found"), 2);
    const json_t *by_status = json_object_get(s, "by_status");
    cr_expect_eq(gbc_int(by_status, "closed"), 1);
    cr_expect_eq(gbc_int(by_status, "done"), 3);
    cr_expect_eq(gbc_int(by_status, "dispatched"), 3);

    const json_t *grids = json_object_get(s, "grids");
    const json_int_t g1[9] = {3, 2, 3, 1, 3, 0, 2, 1500, 2000};
    const json_int_t g2[9] = {2, 2, 1, 0, 0, 2, 1, 500, 1500};
    const json_int_t g3[9] = {2, 2, 0, 0, 0, 1, 0, 0, 0};
    expect_tally(json_object_get(grids, "g1"), "g1", g1);
    expect_tally(json_object_get(grids, "g2"), "g2", g2);
    expect_tally(json_object_get(grids, "g3"), "g3", g3);

    /* Per member: the helper who was late, and the officer who never accepted. */
    const json_t *members = json_object_get(s, "members");
    const json_t *late_one = json_object_get(members, state_of(c).assignee);
    const json_int_t late_helper[9] = {1, 1, 1, 0, 0, 1, 1, 500, 1500};
    expect_tally(late_one, "the late helper", late_helper);
    cr_expect_eq(json_real_value(json_object_get(late_one, "on_time_rate")), 0.0);
    const json_int_t officer[9] = {1, 1, 0, 0, 0, 1, 0, 0, 0};
    expect_tally(json_object_get(members, "police.g2"), "police.g2", officer);
    cr_expect_str_eq(state_of(d).status, "dispatched");
    cr_expect_str_eq(state_of(i).status, "dispatched");

    json_decref(s);

    /* The same figures for one grid. */
    s = month_stats("g2");
    expect_tally(json_object_get(s, "total"), "total of g2", g2);
    json_decref(s);
}
