/*
 * cases: opening tasks, moving them through their lifecycle, and deadlines (cases.h).
 *
 * The legal steps are one table: which follow-up, from which states, by whom, to which
 * state. A step outside it is E_STATE; a member who may not take it is E_FORBIDDEN.
 */
#include "cases.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

#define BIT(s) (1u << (s))
#define DAEMON_ACTOR "gridbusd"

struct cases {
    taskdb_t *db;
    const community_t *community;
    task_t *old, *cur; /* scratch: a task before and after a change */
    cases_stats_t stats;
    cases_overdue_fn on_overdue; /* the alert loop, or NULL */
    void *on_overdue_arg;
    struct {
        int64_t start, work, due;
    } sums[8]; /* recent calendar sums: see due_after */
    unsigned next_sum;
};

typedef enum { WHO_ASSIGNEE, WHO_VERIFIER } who_t;

typedef struct {
    const char *type;
    unsigned from; /* bit set of task_status_t */
    who_t who;
} step_rule_t;

static const step_rule_t rules[] = {
    {"task.accepted", BIT(TASK_DISPATCHED), WHO_ASSIGNEE},
    {"task.progress", BIT(TASK_ACCEPTED) | BIT(TASK_IN_PROGRESS), WHO_ASSIGNEE},
    {"task.completed", BIT(TASK_ACCEPTED) | BIT(TASK_IN_PROGRESS), WHO_ASSIGNEE},
    {"task.returned", BIT(TASK_DISPATCHED) | BIT(TASK_ACCEPTED) | BIT(TASK_IN_PROGRESS),
     WHO_ASSIGNEE},
    {"task.verified", BIT(TASK_DONE), WHO_VERIFIER},
};

/* Who may verify and close a case: the grid's leader or cadre, for tasks on their grid;
 * the convener and the discipline secretary, for any task, including grid-less ones. */
static const char *const grid_verifiers[] = {"grid_leader", "cadre", NULL};
static const char *const community_verifiers[] = {"convener", "discipline_secretary", NULL};

cases_t *cases_new(taskdb_t *db, const community_t *community)
{
    cases_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->db = db, self->community = community;
    self->old = malloc(sizeof *self->old);
    self->cur = malloc(sizeof *self->cur);
    if (!self->old || !self->cur)
        cases_destroy(&self);
    return self;
}

void cases_destroy(cases_t **self_p)
{
    cases_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    free(self->old);
    free(self->cur);
    free(self);
    *self_p = NULL;
}

void cases_on_overdue(cases_t *self, cases_overdue_fn fn, void *arg)
{
    self->on_overdue = fn, self->on_overdue_arg = arg;
}

void cases_set_community(cases_t *self, const community_t *community)
{
    self->community = community;
    memset(self->sums, 0, sizeof self->sums); /* the calendar may have changed */
}

/* start + work in working time, 0 for no deadline. A batch runs at one instant and routes
 * name a handful of durations, so the few latest sums are kept: walking the calendar for
 * each task opened was a tenth of the cost of opening it. */
static int64_t due_after(cases_t *self, int64_t start, int64_t work)
{
    if (!work)
        return 0;
    for (size_t i = 0; i < sizeof self->sums / sizeof self->sums[0]; i++)
        if (self->sums[i].work == work && self->sums[i].start == start)
            return self->sums[i].due;
    int64_t due = calendar_add_work(community_calendar(self->community), start, work);
    unsigned i = self->next_sum++ % (sizeof self->sums / sizeof self->sums[0]);
    self->sums[i].start = start, self->sums[i].work = work, self->sums[i].due = due;
    return due;
}

const cases_stats_t *cases_stats(const cases_t *self)
{
    return &self->stats;
}

/* The event's texts are valid UTF-8 (checked on the wire); a task field shorter than the
 * event's may cut one inside a character, which is then replaced, so every text a task record
 * stores is valid UTF-8 (taskrec reads them back as they are). */
static void set_text(char *dst, size_t cap, gb_str_t s)
{
    gb_text_copy(dst, cap, s.ptr, s.len);
}

static void copy_name(char *dst, size_t cap, const char *src)
{
    gb_text_copy(dst, cap, src, strlen(src));
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

/* Stores the task and its feed record. -1 on a store failure. */
static int commit_change(cases_t *self, const task_t *old, const task_t *t, const char *change,
                         const char *by, int64_t now)
{
    return taskdb_put(self->db, old, t, change, by, now) == STORE_OK ? 0 : -1;
}

static uint32_t load_of(void *arg, const char *member)
{
    return taskdb_load(arg, member);
}

/* Assigns t by its route, skipping those who returned it; parks it when nobody is left. */
static void assign(cases_t *self, task_t *t, const route_t *r, int64_t now)
{
    const directory_t *dir = community_directory(self->community);
    const char *exclude[TASK_RETURNED_MAX];
    for (uint32_t i = 0; i < t->nreturned; i++)
        exclude[i] = t->returned_by[i];
    const directory_member_t *m =
        r ? route_pick(r, dir, t->grid, strlen(t->grid), load_of, self->db, exclude, t->nreturned)
          : NULL;
    t->accept_by = r ? due_after(self, now, community_accept_within(self->community, r)) : 0;
    t->overdue_accept = false;
    if (m) {
        copy_name(t->assignee, sizeof t->assignee, m->id);
        t->status = TASK_DISPATCHED;
        task_add_step(t, now, DAEMON_ACTOR, "dispatched", m->id, strlen(m->id));
    } else {
        t->assignee[0] = 0;
        t->status = TASK_PARKED;
        t->accept_by = 0;
        task_add_step(t, now, DAEMON_ACTOR, "parked", "nobody holds the route's roles", 30);
        self->stats.parked++;
    }
}

int cases_open(cases_t *self, const gb_event_t *ev, uint64_t seq, int64_t now)
{
    const route_t *r = routes_match(community_routes(self->community), ev);
    if (!r || !r->creates_task)
        return 0;
    task_t *t = self->cur;
    task_reset(t);
    t->seq = seq;
    set_text(t->event_id, sizeof t->event_id, ev->id);
    copy_name(t->type, sizeof t->type, ev->type->name);
    copy_name(t->route, sizeof t->route, r->name);
    copy_name(t->role, sizeof t->role, r->role ? r->role : "");
    set_text(t->grid, sizeof t->grid, ev->grid);
    set_text(t->category, sizeof t->category, body_str(ev, "category"));
    t->created_at = now;
    t->complete_by = due_after(self, now, community_complete_within(self->community, r));
    char by[TASK_MEMBER_MAX];
    set_text(by, sizeof by, ev->by);
    task_add_step(t, now, by, "created", r->name, strlen(r->name));
    assign(self, t, r, now);
    self->stats.opened++;
    return commit_change(self, NULL, t, task_status_name(t->status), by, now);
}

static const step_rule_t *rule_for(const gb_event_t *ev)
{
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (strcmp(rules[i].type, ev->type->name) == 0)
            return &rules[i];
    return NULL;
}

static bool may_verify(const directory_t *dir, gb_str_t by, const task_t *t)
{
    const directory_member_t *m = directory_member(dir, by.ptr, by.len);
    if (!m)
        return false;
    for (const char *const *role = community_verifiers; *role; role++)
        if (directory_member_has_role(m, *role))
            return true;
    for (const char *const *role = grid_verifiers; *role && t->grid[0]; role++)
        if (directory_member_has_role(m, *role) &&
            directory_member_serves(m, t->grid, strlen(t->grid)))
            return true;
    return false;
}

/* Loads the task a follow-up names into self->old; E_TASK when there is none. */
static int load_task(cases_t *self, const gb_event_t *ev, gb_error_t *err)
{
    gb_str_t id = body_str(ev, "task");
    uint64_t seq;
    if (task_parse_id(id.ptr, id.len, &seq) < 0 || taskdb_get(self->db, seq, self->old) != 0)
        return gb_error_set(err, GB_E_TASK, "body.task: no task '%.*s'", (int)id.len, id.ptr);
    return 0;
}

static int check_step(cases_t *self, const step_rule_t *rule, const gb_event_t *ev, gb_error_t *err)
{
    const task_t *t = self->old;
    char id[TASK_ID_MAX];
    task_format_id(t->seq, id);
    if (rule->who == WHO_ASSIGNEE &&
        (strlen(t->assignee) != ev->by.len || memcmp(t->assignee, ev->by.ptr, ev->by.len) != 0))
        return gb_error_set(err, GB_E_FORBIDDEN, "by: '%.*s' is not the assignee of %s (%s)",
                            (int)ev->by.len, ev->by.ptr, id, t->assignee[0] ? t->assignee : "none");
    if (rule->who == WHO_VERIFIER && !may_verify(community_directory(self->community), ev->by, t))
        return gb_error_set(
            err, GB_E_FORBIDDEN,
            "by: '%.*s' may not verify %s (the grid leader or cadre of its grid, the "
            "convener or the discipline secretary may)",
            (int)ev->by.len, ev->by.ptr, id);
    if (!(rule->from & BIT(t->status)))
        return gb_error_set(err, GB_E_STATE, "type: %s is not a step from %s (task %s)",
                            ev->type->name, task_status_name(t->status), id);
    return 0;
}

int cases_check(cases_t *self, const gb_event_t *ev, gb_error_t *err)
{
    const step_rule_t *rule = rule_for(ev);
    if (!rule)
        return 0;
    if (load_task(self, ev, err) < 0)
        return -1;
    return check_step(self, rule, ev, err);
}

/* The new state for each step; returns the feed's change name. */
static const char *advance(cases_t *self, task_t *t, const gb_event_t *ev, int64_t now)
{
    const char *type = ev->type->name;
    if (!strcmp(type, "task.accepted")) {
        t->status = TASK_ACCEPTED, t->accepted_at = now;
        return "accepted";
    }
    if (!strcmp(type, "task.progress")) {
        t->status = TASK_IN_PROGRESS;
        return "progress";
    }
    if (!strcmp(type, "task.completed")) {
        t->status = TASK_DONE, t->done_at = now;
        t->fee_fen = body_int(ev, "fee_fen"), t->fee_waived_fen = body_int(ev, "fee_waived_fen");
        return "done";
    }
    if (!strcmp(type, "task.returned")) {
        if (t->nreturned < TASK_RETURNED_MAX)
            snprintf(t->returned_by[t->nreturned++], TASK_MEMBER_MAX, "%s", t->assignee);
        assign(self, t, routes_find(community_routes(self->community), t->route), now);
        return t->status == TASK_PARKED ? "parked" : "rerouted";
    }
    const msgpack_object *ok = event_map_get(ev->body, "ok");
    if (ok && ok->via.boolean) {
        t->status = TASK_CLOSED, t->closed_at = now;
        return "closed";
    }
    t->status = TASK_IN_PROGRESS, t->done_at = 0;
    return "reopened";
}

static gb_str_t step_note(const gb_event_t *ev)
{
    static const char *const keys[] = {"reason", "outcome", "note", NULL};
    gb_str_t s = {"", 0};
    for (const char *const *k = keys; *k && !s.len; k++)
        wire_get_str(ev->body, *k, &s);
    return s;
}

int cases_apply(cases_t *self, const gb_event_t *ev, int64_t now)
{
    if (!rule_for(ev))
        return 0;
    task_t *t = self->cur;
    memcpy(t, self->old, sizeof *t);
    char by[TASK_MEMBER_MAX];
    set_text(by, sizeof by, ev->by);
    gb_str_t note = step_note(ev);
    task_add_step(t, now, by, ev->type->name + 5, note.ptr, note.len);
    const char *change = advance(self, t, ev, now);
    self->stats.steps++;
    return commit_change(self, self->old, t, change, by, now);
}

/* 1 when the task was marked (self->cur holds it), 0 when the entry was let go, -1. */
static int mark_overdue(cases_t *self, uint64_t seq, deadline_kind_t kind, int64_t due)
{
    int rc = taskdb_get(self->db, seq, self->old);
    if (rc < 0)
        return -1;
    /* An entry the task no longer waits on (met meanwhile, or moved by a re-route) is let go:
     * only the task's own pending deadline marks it. */
    if (rc > 0 || !task_deadline_pending(self->old, kind) ||
        due != (kind == DEADLINE_ACCEPT ? self->old->accept_by : self->old->complete_by))
        return 0;
    task_t *t = self->cur;
    memcpy(t, self->old, sizeof *t);
    int64_t now = kind == DEADLINE_ACCEPT ? t->accept_by : t->complete_by;
    if (kind == DEADLINE_ACCEPT)
        t->overdue_accept = true;
    else
        t->overdue_complete = true;
    const char *step = kind == DEADLINE_ACCEPT ? "overdue_accept" : "overdue_complete";
    task_add_step(t, now, DAEMON_ACTOR, step, t->assignee, strlen(t->assignee));
    self->stats.overdue++;
    if (commit_change(self, self->old, t, step, DAEMON_ACTOR, now) < 0)
        return -1;
    /* Same transaction: the missed deadline and its alert commit together. */
    if (self->on_overdue && self->on_overdue(self->on_overdue_arg, t, step, now) < 0)
        return -1;
    return 1;
}

typedef struct {
    cases_t *self;
    int64_t now;
} pass_t;

/* A missed deadline, and the task's next one when it is past too (the clock jumped): the
 * indexes do not hold that one yet, so it is taken here rather than by the next pass. */
static int on_due(void *arg, uint64_t seq, deadline_kind_t kind, int64_t due)
{
    pass_t *p = arg;
    int rc = mark_overdue(p->self, seq, kind, due);
    while (rc == 1 && task_next_deadline(p->self->cur, &due, &kind) == 0 && due <= p->now)
        rc = mark_overdue(p->self, seq, kind, due);
    return rc < 0 ? -1 : 0;
}

int cases_take_deadlines(cases_t *self, int64_t now)
{
    pass_t p = {self, now};
    return taskdb_take_due(self->db, now, on_due, &p) < 0 ? -1 : 0;
}
