/*
 * test_event_directory: the directory checks of a v1 event (by, grid and approved_by must
 * name what the directory holds: E_MEMBER, E_GRID) and the order of validation checks
 * (which broken rule is reported when several are), as proto/PROTOCOL.md states them,
 * against proto/event.c with stand-in directory callbacks.
 *
 * One of the test_event_*.c files (split by concern); see tests/lib/evtest.h.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evtest.h"

TestSuite(event, .init = evt_setup, .fini = evt_teardown);

/* ---- directory references ---- */

static bool known_member(void *arg, const char *id, size_t len)
{
    (void)arg;
    static const char *const members[] = {"li.qiang", "gong.xiujuan", "zhang.teng", "li.zhen"};
    for (size_t i = 0; i < sizeof members / sizeof members[0]; i++)
        if (strlen(members[i]) == len && !memcmp(members[i], id, len))
            return true;
    return false;
}

static int grid_calls;

static bool known_grid(void *arg, const char *id, size_t len)
{
    (void)arg;
    grid_calls++;
    return (len == 2 && (!memcmp(id, "g1", 2) || !memcmp(id, "g2", 2) || !memcmp(id, "g3", 2)));
}

static const event_refs_t dir = {known_member, known_grid, NULL};

Test(event, by_must_be_a_member)
{
    evt_expect_err(evt_visit_with("by", json_string("wang.wu")), &dir, GB_E_MEMBER,
                   "by: no member 'wang.wu' in the directory");
    /* no refs: no directory checks */
    evt_expect_ok(evt_visit_with("by", json_string("wang.wu")), NULL);
    evt_expect_ok(evt_event_min("visit.logged"), &dir);
}

Test(event, grid_must_exist)
{
    json_t *e = evt_event_min("patrol.issue_found");
    json_object_set_new(e, "grid", json_string("g9"));
    evt_expect_err(e, &dir, GB_E_GRID, "grid: no grid 'g9' in the directory");

    e = evt_event_min("ledger.entry_submitted");
    json_object_set_new(e, "grid", json_string("g9"));
    evt_expect_err(e, &dir, GB_E_GRID, "grid: no grid 'g9'");

    grid_calls = 0;
    e = evt_event_min("ledger.entry_submitted");
    json_object_del(e, "grid");
    evt_expect_ok(e, &dir);
    cr_expect_eq(grid_calls, 0, "an absent grid is not looked up");

    event_refs_t members_only = {known_member, NULL, NULL};
    evt_expect_ok(evt_visit_with("grid", json_string("g9")), &members_only);
}

Test(event, approved_by_items_must_be_members)
{
    json_t *e = evt_event_min("ledger.entry_submitted");
    json_object_set_new(evt_body(e), "approved_by",
                        json_pack("[s,s,s]", "li.qiang", "su.yuanyuan", "x"));
    evt_expect_err(e, &dir, GB_E_MEMBER,
                   "body.approved_by[1]: no member 'su.yuanyuan' in the directory");

    e = evt_event_min("ledger.entry_submitted");
    json_object_set_new(evt_body(e), "approved_by", json_pack("[s,s]", "li.qiang", "zhang.teng"));
    evt_expect_ok(e, &dir);

    e = evt_event_min("ledger.entry_submitted");
    json_object_set_new(evt_body(e), "approved_by", json_array());
    evt_expect_ok(e, &dir);

    event_refs_t grids_only = {NULL, known_grid, NULL};
    e = evt_event_min("ledger.entry_submitted");
    json_object_set_new(evt_body(e), "approved_by", json_pack("[s]", "nobody"));
    evt_expect_ok(e, &grids_only);
}

typedef struct {
    int member_calls, grid_calls;
} counts_t;

static bool count_member(void *arg, const char *id, size_t len)
{
    ((counts_t *)arg)->member_calls++;
    return known_member(NULL, id, len);
}

static bool count_grid(void *arg, const char *id, size_t len)
{
    ((counts_t *)arg)->grid_calls++;
    return known_grid(NULL, id, len);
}

Test(event, callbacks_get_arg_and_are_called_once_per_reference)
{
    counts_t n = {0, 0};
    event_refs_t refs = {count_member, count_grid, &n};
    json_t *e = evt_event_min("ledger.entry_submitted");
    json_object_set_new(evt_body(e), "approved_by",
                        json_pack("[s,s,s]", "li.qiang", "li.zhen", "zhang.teng"));
    evt_expect_ok(e, &refs);
    cr_expect_eq(n.member_calls, 4, "by and three approvers");
    cr_expect_eq(n.grid_calls, 1);
    /* nothing is looked up when the schema already refused the event */
    n = (counts_t){0, 0};
    e = evt_event_min("visit.logged");
    json_object_del(evt_body(e), "summary");
    evt_expect_err(e, &refs, GB_E_SCHEMA, "body.summary: ");
    cr_expect_eq(n.member_calls + n.grid_calls, 0);
}

/* ---- which error wins ---- */

Test(event, order_of_checks)
{
    /* 1. the version before the envelope keys: a newer client learns the version is wrong */
    json_t *e = evt_event_min("visit.logged");
    json_object_set_new(e, "v", json_integer(2));
    json_object_set_new(e, "extra", json_true());
    evt_expect_err(e, NULL, GB_E_VERSION, "v: version 2");
    evt_expect_err(evt_visit_with("extra", json_true()), NULL, GB_E_SCHEMA, "extra: unknown field");
    /* 2. the version before the type */
    e = evt_event_min("visit.logged");
    json_object_set_new(e, "v", json_integer(2));
    json_object_set_new(e, "type", json_string("nope"));
    evt_expect_err(e, NULL, GB_E_VERSION, "v: ");
    /* 3. the type before the other envelope fields */
    e = evt_event_min("visit.logged");
    json_object_set_new(e, "type", json_string("nope"));
    json_object_del(e, "id");
    evt_expect_err(e, NULL, GB_E_TYPE, "type: ");
    /* 4. id, at, by, grid, place in that order */
    e = evt_event_min("visit.logged");
    json_object_set_new(e, "id", json_string("bad id"));
    json_object_set_new(e, "at", json_integer(5));
    evt_expect_err(e, NULL, GB_E_SCHEMA, "id: ");
    e = evt_event_min("visit.logged");
    json_object_set_new(e, "at", json_integer(5));
    json_object_set_new(e, "by", json_string("bad by"));
    evt_expect_err(e, NULL, GB_E_SCHEMA, "at: ");
    e = evt_event_min("visit.logged");
    json_object_set_new(e, "by", json_string("bad by"));
    json_object_del(e, "grid");
    evt_expect_err(e, NULL, GB_E_SCHEMA, "by: ");
    e = evt_event_min("visit.logged");
    json_object_del(e, "grid");
    json_object_set_new(e, "place", json_integer(1));
    evt_expect_err(e, NULL, GB_E_SCHEMA, "grid: ");
    /* 5. the envelope before the body */
    e = evt_event_min("visit.logged");
    json_object_set_new(e, "place", json_integer(1));
    json_object_del(e, "body");
    evt_expect_err(e, NULL, GB_E_SCHEMA, "place: ");
    /* 6. in the body: keys, then unknown fields, then fields in table order */
    e = evt_event_min("visit.logged");
    json_object_del(evt_body(e), "household");
    json_object_set_new(evt_body(e), "colour", json_string("red"));
    evt_expect_err(e, NULL, GB_E_SCHEMA, "body.colour: unknown field");
    e = evt_event_with("visit.logged", json_pack("{s:i, s:i}", "summary", 1, "household",
                                                 2)); /* map order reversed */
    evt_expect_err(e, NULL, GB_E_SCHEMA, "body.household: must be a string");
    e = evt_event_min("visit.logged");
    json_object_del(evt_body(e), "household");
    json_object_set_new(evt_body(e), "summary", json_integer(1));
    evt_expect_err(e, NULL, GB_E_SCHEMA, "body.household: required");
    /* 7. every schema rule before the directory */
    e = evt_event_min("visit.logged");
    json_object_set_new(e, "by", json_string("wang.wu"));
    json_object_set_new(evt_body(e), "summary", json_string(""));
    evt_expect_err(e, &dir, GB_E_SCHEMA, "body.summary: ");
    /* 8. by, then grid, then body member references */
    e = evt_event_min("ledger.entry_submitted");
    json_object_set_new(e, "by", json_string("wang.wu"));
    json_object_set_new(e, "grid", json_string("g9"));
    evt_expect_err(e, &dir, GB_E_MEMBER, "by: ");
    e = evt_event_min("ledger.entry_submitted");
    json_object_set_new(e, "grid", json_string("g9"));
    json_object_set_new(evt_body(e), "approved_by", json_pack("[s]", "wang.wu"));
    evt_expect_err(e, &dir, GB_E_GRID, "grid: ");
    e = evt_event_min("ledger.entry_submitted");
    json_object_set_new(evt_body(e), "approved_by", json_pack("[s,s]", "wang.wu", "zhao.liu"));
    evt_expect_err(e, &dir, GB_E_MEMBER, "body.approved_by[0]: ");
}
