/*
 * test_routes: routing: the routes of the shipped Daidong sample, every matcher form, the
 * first-match rule and the choice of assignee (the refusals are in test_routes_errors.c).
 *
 * Events are packed with msgpack-c, decoded with wire_decode_object and validated with
 * event_validate, exactly as the daemon sees them, so a route is only ever tested against an
 * event the wire would accept. Small communities are written into a mkdtemp folder, loaded
 * with directory_load and their `routes:` section handed to routes_load, as the daemon does
 * (routes_fixture.h).
 */
#include "routes_fixture.h"

TestSuite(routes, .init = setup, .fini = teardown);

/* ---- events ---- */

typedef struct {
    const char *key;
    char kind; /* 's' string, 'i' integer, 'b' boolean, 'l' list of strings ('|'-separated) */
    const char *s;
    int64_t i;
} kv_t;

#define S(k, v)                                                                                    \
    {                                                                                              \
        k, 's', v, 0                                                                               \
    }
#define I(k, v)                                                                                    \
    {                                                                                              \
        k, 'i', NULL, v                                                                            \
    }
#define B(k, v)                                                                                    \
    {                                                                                              \
        k, 'b', NULL, v                                                                            \
    }
#define L(k, v)                                                                                    \
    {                                                                                              \
        k, 'l', v, 0                                                                               \
    }

static void pack_str(msgpack_packer *pk, const char *s, size_t len)
{
    msgpack_pack_str(pk, len);
    msgpack_pack_str_body(pk, s, len);
}

static void pack_cstr(msgpack_packer *pk, const char *s)
{
    pack_str(pk, s, strlen(s));
}

static void pack_list(msgpack_packer *pk, const char *items)
{
    size_t n = *items ? 1 : 0;
    for (const char *p = items; *p; p++)
        n += *p == '|';
    msgpack_pack_array(pk, n);
    for (const char *p = items; n && *p;) {
        const char *end = strchr(p, '|');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        pack_str(pk, p, len);
        p += len + (end != NULL);
    }
}

static void pack_kv(msgpack_packer *pk, const kv_t *kv)
{
    pack_cstr(pk, kv->key);
    if (kv->kind == 's')
        pack_cstr(pk, kv->s);
    else if (kv->kind == 'i')
        msgpack_pack_int64(pk, kv->i);
    else if (kv->kind == 'b')
        kv->i ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
    else
        pack_list(pk, kv->s);
}

/* An event as the wire carries it, decoded and validated; valid until the next one. grid
 * NULL: none. */
static gb_event_t make_event(const char *type, const char *grid, const kv_t *body, size_t n)
{
    msgpack_packer pk;
    msgpack_sbuffer_clear(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, grid ? 7 : 6);
    pack_cstr(&pk, "v"), msgpack_pack_int(&pk, 1);
    pack_cstr(&pk, "id"), pack_cstr(&pk, "ev-1");
    pack_cstr(&pk, "type"), pack_cstr(&pk, type);
    pack_cstr(&pk, "at"), msgpack_pack_int64(&pk, AT);
    pack_cstr(&pk, "by"), pack_cstr(&pk, "chen.jing");
    if (grid)
        pack_cstr(&pk, "grid"), pack_cstr(&pk, grid);
    pack_cstr(&pk, "body"), msgpack_pack_map(&pk, n);
    for (size_t i = 0; i < n; i++)
        pack_kv(&pk, &body[i]);
    const msgpack_object *obj;
    gb_error_t e = {GB_OK, ""};
    cr_assert_eq(wire_decode_object(dec, sb.data, sb.size, &obj, &e), 0, "%s", e.msg);
    gb_event_t ev;
    cr_assert_eq(event_validate(obj, NULL, &ev, &e), 0, "test bug: invalid event: %s", e.msg);
    return ev;
}

#define EVENT(type, grid, ...)                                                                     \
    make_event(type, grid, (const kv_t[]){__VA_ARGS__},                                            \
               sizeof((const kv_t[]){__VA_ARGS__}) / sizeof(kv_t))

#define REPAIR(grid, category, ...)                                                                \
    EVENT("repair.requested", grid, S("household", "3-2-201"), S("category", category),            \
          S("description", "水管漏水"), ##__VA_ARGS__)
#define PATROL(grid, category, severity)                                                           \
    EVENT("patrol.issue_found", grid, S("category", category), S("severity", severity),            \
          S("description", "发现问题"))
#define VISIT(grid, ...)                                                                           \
    EVENT("visit.logged", grid, S("household", "5-1-302"), S("summary", "入户走访"), ##__VA_ARGS__)
#define LEDGER(...)                                                                                \
    EVENT("ledger.entry_submitted", NULL, S("entry", "2026-11-001"), S("direction", "expense"),    \
          S("category", "维修"), S("counterparty", "鸿瑞物业"), ##__VA_ARGS__)

/* The name of the route ev matches, "(none)" if none. */
static const char *route_of(gb_event_t ev)
{
    const route_t *r = routes_match(rt, &ev);
    return r ? r->name : "(none)";
}

/* ---- loads for route_pick ---- */

typedef struct {
    const char *id;
    uint32_t open;
} load_row_t;

static load_row_t loads[16];

static uint32_t load_of(void *arg, const char *member_id)
{
    (void)arg;
    for (size_t i = 0; i < sizeof loads / sizeof loads[0] && loads[i].id; i++)
        if (strcmp(loads[i].id, member_id) == 0)
            return loads[i].open;
    return 0;
}

/* Who gets a task of the route ev matches, "(nobody)" if nobody. */
static const char *assignee_ex(gb_event_t ev, const char *const *exclude, size_t nexclude)
{
    const route_t *r = routes_match(rt, &ev);
    cr_assert_not_null(r);
    const directory_member_t *m =
        route_pick(r, d, ev.grid.ptr, ev.grid.len, load_of, NULL, exclude, nexclude);
    return m ? m->id : "(nobody)";
}

static const char *assignee(gb_event_t ev)
{
    return assignee_ex(ev, NULL, 0);
}

/* ---- the Daidong sample ---- */

Test(routes, sample_routes_in_order)
{
    load_sample();
    static const char *const names[] = {"fire-hazard",    "public-security", "city-management",
                                        "patrol-other",   "repair-urgent",   "repair",
                                        "visit-followup", "visit-concerns",  "visit-logged",
                                        "ledger-review",  "default"};
    size_t n = sizeof names / sizeof names[0];
    cr_assert_eq(routes_count(rt), n);
    for (size_t i = 0; i < n; i++) {
        cr_assert_str_eq(routes_at(rt, i)->name, names[i]);
        cr_assert_eq(routes_find(rt, names[i]), routes_at(rt, i));
        cr_assert_eq(routes_at(rt, i)->is_default, i == n - 1);
        cr_assert_gt(routes_at(rt, i)->line, 1);
    }
    cr_assert_null(routes_at(rt, n));
    cr_assert_null(routes_find(rt, "nope"));
}

Test(routes, sample_route_contents)
{
    load_sample();
    const route_t *r = routes_find(rt, "fire-hazard");
    cr_assert(r->creates_task);
    cr_assert_str_eq(r->role, "firefighter");
    cr_assert_eq(r->nfallback, 2);
    cr_assert_str_eq(r->fallback[0], "grid_leader");
    cr_assert_str_eq(r->fallback[1], "convener");
    cr_assert_str_eq(r->accept_within, "30m");
    cr_assert_str_eq(r->complete_within, "4h");

    r = routes_find(rt, "repair");
    cr_assert_str_eq(r->role, "home_helper");
    cr_assert_str_eq(r->accept_within, "2h");
    cr_assert_str_eq(r->complete_within, "2d");

    r = routes_find(rt, "ledger-review");
    cr_assert_str_eq(r->role, "discipline_commissioner");
    cr_assert_eq(r->nfallback, 1);
    cr_assert_str_eq(r->fallback[0], "discipline_secretary");
    cr_assert_null(r->accept_within);
    cr_assert_str_eq(r->complete_within, "3d");

    r = routes_find(rt, "visit-logged");
    cr_assert_not(r->creates_task);
    cr_assert_null(r->role);
    cr_assert_eq(r->nfallback, 0);
    cr_assert_null(r->accept_within);
    cr_assert_null(r->complete_within);

    r = routes_find(rt, "default");
    cr_assert(r->is_default);
    cr_assert_str_eq(r->role, "grid_leader");
    cr_assert_str_eq(r->fallback[0], "convener");
}

Test(routes, sample_every_route_matched)
{
    load_sample();
    cr_assert_str_eq(route_of(PATROL("g1", "fire_hazard", "high")), "fire-hazard");
    cr_assert_str_eq(route_of(PATROL("g2", "public_security", "low")), "public-security");
    cr_assert_str_eq(route_of(PATROL("g3", "city_appearance", "low")), "city-management");
    cr_assert_str_eq(route_of(PATROL("g1", "illegal_construction", "medium")), "city-management");
    cr_assert_str_eq(route_of(PATROL("g2", "sanitation", "low")), "city-management");
    cr_assert_str_eq(route_of(PATROL("g3", "traffic", "high")), "city-management");
    cr_assert_str_eq(route_of(PATROL("g1", "other", "low")), "patrol-other");
    cr_assert_str_eq(route_of(REPAIR("g2", "water", S("urgency", "high"))), "repair-urgent");
    cr_assert_str_eq(route_of(REPAIR("g2", "water", S("urgency", "normal"))), "repair");
    cr_assert_str_eq(route_of(REPAIR("g1", "electric")), "repair");
    cr_assert_str_eq(route_of(REPAIR("g1", "gas")), "repair");
    cr_assert_str_eq(route_of(REPAIR("g3", "elderly_care")), "repair");
    cr_assert_str_eq(route_of(REPAIR("g3", "other", B("fee_waived", 1))), "repair");
    cr_assert_str_eq(route_of(VISIT("g1", B("needs_followup", 1))), "visit-followup");
    cr_assert_str_eq(route_of(VISIT("g1", B("needs_followup", 1), L("concerns", "屋顶漏雨"))),
                     "visit-followup");
    cr_assert_str_eq(route_of(VISIT("g2", L("concerns", "屋顶漏雨|路灯不亮"))), "visit-concerns");
    cr_assert_str_eq(route_of(VISIT("g2", B("needs_followup", 0), L("concerns", "楼道堆物"))),
                     "visit-concerns");
    cr_assert_str_eq(route_of(VISIT("g3")), "visit-logged");
    cr_assert_str_eq(route_of(VISIT("g3", B("needs_followup", 0), L("concerns", ""))),
                     "visit-logged");
    cr_assert_str_eq(route_of(LEDGER(I("amount_fen", 120000))), "ledger-review");
    cr_assert_str_eq(route_of(LEDGER(I("amount_fen", 1), L("approved_by", "xu.na"))),
                     "ledger-review");
}

Test(routes, followups_are_not_routed)
{
    load_sample();
    cr_assert_str_eq(route_of(EVENT("task.accepted", "g1", S("task", "t-1"))), "(none)");
    cr_assert_str_eq(route_of(EVENT("task.completed", NULL, S("task", "t-1"),
                                    S("outcome", "修好了"), I("fee_waived_fen", 5000))),
                     "(none)");
    cr_assert_str_eq(route_of(EVENT("alert.resolved", NULL, S("alert", "a-1"))), "(none)");
}

Test(routes, sample_assignment_by_place_and_remit)
{
    load_sample();
    /* no open tasks anywhere: the smallest id of the role on the grid */
    cr_assert_str_eq(assignee(REPAIR("g2", "water")), "helper.g2.1");
    cr_assert_str_eq(assignee(REPAIR("g3", "elderly_care")), "helper.g3.1");
    cr_assert_str_eq(assignee(PATROL("g3", "fire_hazard", "high")), "fire.1");
    cr_assert_str_eq(assignee(PATROL("g1", "public_security", "low")), "police.g1");
    cr_assert_str_eq(assignee(PATROL("g2", "sanitation", "low")), "citymgmt.g2");
    cr_assert_str_eq(assignee(PATROL("g3", "traffic", "low")), "citymgmt.g3");
    cr_assert_str_eq(assignee(PATROL("g2", "other", "low")), "zhao.lei");
    cr_assert_str_eq(assignee(VISIT("g3", B("needs_followup", 1))), "sun.fang");
    cr_assert_str_eq(assignee(VISIT("g1", L("concerns", "独居老人"))), "chen.jing");
    cr_assert_str_eq(assignee(LEDGER(I("amount_fen", 800000))), "gao.feng");
    /* a task: false route never assigns */
    cr_assert_str_eq(assignee(VISIT("g1")), "(nobody)");
}

Test(routes, sample_least_loaded_home_helper)
{
    load_sample();
    loads[0] = (load_row_t){"helper.g2.1", 3};
    loads[1] = (load_row_t){"helper.g2.2", 1};
    loads[2] = (load_row_t){"helper.g2.3", 2};
    loads[3] = (load_row_t){"helper.g1.1", 0}; /* idle, but on another grid */
    loads[4] = (load_row_t){NULL, 0};
    cr_assert_str_eq(assignee(REPAIR("g2", "electric")), "helper.g2.2");
    const char *returned[] = {"helper.g2.2"};
    cr_assert_str_eq(assignee_ex(REPAIR("g2", "electric"), returned, 1), "helper.g2.3");
    memset(loads, 0, sizeof loads);
}

Test(routes, sample_fallback_chains)
{
    load_sample();
    /* the one firefighter returned it: the grid leader of g3, then the convener */
    const char *ex1[] = {"fire.1"};
    cr_assert_str_eq(assignee_ex(PATROL("g3", "fire_hazard", "high"), ex1, 1), "sun.fang");
    const char *ex2[] = {"fire.1", "sun.fang"};
    cr_assert_str_eq(assignee_ex(PATROL("g3", "fire_hazard", "high"), ex2, 2), "li.qiang");
    const char *ex3[] = {"fire.1", "sun.fang", "li.qiang"};
    cr_assert_str_eq(assignee_ex(PATROL("g3", "fire_hazard", "high"), ex3, 3), "(nobody)");
    /* the commissioner returned a ledger entry: the discipline secretary */
    const char *ex4[] = {"gao.feng"};
    cr_assert_str_eq(assignee_ex(LEDGER(I("amount_fen", 5)), ex4, 1), "su.yuanyuan");
    /* all three g2 helpers returned it: grid leader of g2 */
    const char *ex5[] = {"helper.g2.3", "helper.g2.1", "helper.g2.2"};
    cr_assert_str_eq(assignee_ex(REPAIR("g2", "gas"), ex5, 3), "zhao.lei");
}

Test(routes, sample_default_route_gridless)
{
    load_sample();
    /* grid-less: any grid leader; the least loaded, ties by id */
    const route_t *r = routes_find(rt, "default");
    cr_assert_str_eq(route_pick(r, d, NULL, 0, NULL, NULL, NULL, 0)->id, "chen.jing");
    loads[0] = (load_row_t){"chen.jing", 4};
    loads[1] = (load_row_t){"sun.fang", 2};
    loads[2] = (load_row_t){"zhao.lei", 2};
    cr_assert_str_eq(route_pick(r, d, "", 0, load_of, NULL, NULL, 0)->id, "sun.fang");
    memset(loads, 0, sizeof loads);
}

/* ---- first match and matcher forms ---- */

Test(routes, first_match_wins)
{
    load_ok("  - {name: any-repair, match: {type: repair.requested}, role: home_helper}\n"
            "  - {name: water, match: {type: repair.requested, category: water}, role: "
            "convener}\n" DEFAULT_ROUTE);
    cr_assert_str_eq(route_of(REPAIR("g1", "water")), "any-repair");
    load_ok("  - {name: water, match: {type: repair.requested, category: water}, role: convener}\n"
            "  - {name: any-repair, match: {type: repair.requested}, role: "
            "home_helper}\n" DEFAULT_ROUTE);
    cr_assert_str_eq(route_of(REPAIR("g1", "water")), "water");
    cr_assert_str_eq(route_of(REPAIR("g1", "gas")), "any-repair");
    cr_assert_str_eq(route_of(PATROL("g1", "other", "low")), "default");
    cr_assert_str_eq(route_of(LEDGER(I("amount_fen", 1))), "default");
}

Test(routes, default_true_form)
{
    load_ok("  - {name: water, match: {category: water}, role: home_helper}\n"
            "  - {name: catch-all, default: true, role: convener}\n");
    cr_assert(routes_find(rt, "catch-all")->is_default);
    cr_assert_str_eq(route_of(REPAIR("g1", "water")), "water");
    cr_assert_str_eq(route_of(REPAIR("g1", "gas")), "catch-all");
    cr_assert_str_eq(route_of(VISIT("g1")), "catch-all");
    load_ok("  - {name: catch-all, default: true, match: {}, role: convener}\n");
    cr_assert_str_eq(route_of(VISIT("g1")), "catch-all");
    load_ok("  - {name: water, default: false, match: {category: water}, role: "
            "home_helper}\n" DEFAULT_ROUTE);
    cr_assert_str_eq(route_of(REPAIR("g1", "water")), "water");
}

Test(routes, scalar_list_and_type_forms)
{
    load_ok("  - {name: a, match: {type: [repair.requested, patrol.issue_found], category: other},"
            " role: home_helper}\n"
            "  - {name: b, match: {category: [water, fire_hazard]}, role: home_helper}\n"
            "  - {name: c, match: {type: visit.logged, needs_followup: false}, role: home_helper}\n"
            "  - {name: d, match: {urgency: low}, role: home_helper}\n" DEFAULT_ROUTE);
    cr_assert_str_eq(route_of(REPAIR("g1", "other")), "a");
    cr_assert_str_eq(route_of(PATROL("g1", "other", "low")), "a");
    cr_assert_str_eq(route_of(REPAIR("g1", "water")), "b");
    cr_assert_str_eq(route_of(PATROL("g1", "fire_hazard", "low")), "b");
    cr_assert_str_eq(route_of(PATROL("g1", "traffic", "low")), "default");
    cr_assert_str_eq(route_of(VISIT("g1", B("needs_followup", 0))), "c");
    cr_assert_str_eq(route_of(VISIT("g1", B("needs_followup", 1))), "default");
    cr_assert_str_eq(route_of(VISIT("g1")), "default"); /* absent is not false */
    cr_assert_str_eq(route_of(REPAIR("g1", "gas", S("urgency", "low"))), "d");
    cr_assert_str_eq(route_of(REPAIR("g1", "gas", S("urgency", "high"))), "default");
    /* a category string of a ledger entry is matched as text too */
    load_ok("  - {name: l, match: {type: ledger.entry_submitted, category: 维修}, role: "
            "convener}\n" DEFAULT_ROUTE);
    cr_assert_str_eq(route_of(LEDGER(I("amount_fen", 1))), "l");
}

Test(routes, grid_forms)
{
    load_ok("  - {name: on-g2, match: {grid: g2}, role: home_helper}\n"
            "  - {name: gridless, match: {grid: {exists: false}}, role: convener}\n"
            "  - {name: on-list, match: {grid: [g1, g2]}, role: home_helper}\n" DEFAULT_ROUTE);
    cr_assert_str_eq(route_of(REPAIR("g2", "water")), "on-g2");
    cr_assert_str_eq(route_of(LEDGER(I("amount_fen", 1))), "gridless");
    cr_assert_str_eq(route_of(REPAIR("g1", "water")), "on-list");
    load_ok("  - {name: with-grid, match: {grid: {exists: true}}, role: home_helper}\n"
            "  - {name: eq, match: {grid: {eq: g1}}, role: home_helper}\n" DEFAULT_ROUTE);
    cr_assert_str_eq(route_of(REPAIR("g1", "water")), "with-grid");
    cr_assert_str_eq(route_of(LEDGER(I("amount_fen", 1))), "default");
    /* a grid-less ledger entry may still name one: then it has one */
    cr_assert_str_eq(
        route_of(EVENT("ledger.entry_submitted", "g2", S("entry", "e1"), S("direction", "income"),
                       I("amount_fen", 9), S("category", "c"), S("counterparty", "p"))),
        "with-grid");
}

Test(routes, operator_forms)
{
    load_ok("  - {name: big, match: {amount_fen: {gt: 100000}}, role: convener}\n"
            "  - {name: tiny, match: {amount_fen: {lt: 100}}, role: convener}\n"
            "  - {name: exact, match: {amount_fen: {eq: 5000}}, role: convener}\n"
            "  - {name: some, match: {amount_fen: {in: [600, 700]}}, role: convener}\n"
            "  - {name: due, match: {due: {exists: true}}, role: convener}\n"
            "  - {name: plain-int, match: {amount_fen: 800}, role: convener}\n" DEFAULT_ROUTE);
    cr_assert_str_eq(route_of(LEDGER(I("amount_fen", 100001))), "big");
    cr_assert_str_eq(route_of(LEDGER(I("amount_fen", 100000))), "default");
    cr_assert_str_eq(route_of(LEDGER(I("amount_fen", 99))), "tiny");
    cr_assert_str_eq(route_of(LEDGER(I("amount_fen", 100))), "default");
    cr_assert_str_eq(route_of(LEDGER(I("amount_fen", 5000))), "exact");
    cr_assert_str_eq(route_of(LEDGER(I("amount_fen", 700))), "some");
    cr_assert_str_eq(route_of(LEDGER(I("amount_fen", 650))), "default");
    cr_assert_str_eq(route_of(LEDGER(I("amount_fen", 800))), "plain-int");
    cr_assert_str_eq(route_of(LEDGER(I("amount_fen", 650), I("due", AT))), "due");
}

Test(routes, exists_and_nonempty_forms)
{
    load_ok("  - {name: photo, match: {photo: {exists: true}}, role: convener}\n"
            "  - {name: no-urgency, match: {type: repair.requested, urgency: {exists: false}},"
            " role: home_helper}\n"
            "  - {name: concerns, match: {concerns: {nonempty: true}}, role: convener}\n"
            "  - {name: no-concerns, match: {type: visit.logged, concerns: {nonempty: false}},"
            " role: convener}\n"
            "  - {name: note, match: {note: {nonempty: true}}, role: convener}\n" DEFAULT_ROUTE);
    cr_assert_str_eq(
        route_of(EVENT("patrol.issue_found", "g1", S("category", "other"), S("severity", "low"),
                       S("description", "d"), S("photo", "p/1.jpg"))),
        "photo");
    cr_assert_str_eq(route_of(PATROL("g1", "other", "low")), "default");
    cr_assert_str_eq(route_of(REPAIR("g1", "water")), "no-urgency");
    cr_assert_str_eq(route_of(REPAIR("g1", "water", S("urgency", "low"))), "default");
    cr_assert_str_eq(route_of(VISIT("g1", L("concerns", "a"))), "concerns");
    cr_assert_str_eq(route_of(VISIT("g1", L("concerns", ""))), "no-concerns");
    cr_assert_str_eq(route_of(VISIT("g1")), "no-concerns");
    cr_assert_str_eq(route_of(LEDGER(I("amount_fen", 1), S("note", "x"))), "note");
    cr_assert_str_eq(route_of(LEDGER(I("amount_fen", 1), S("note", ""))), "default");
}

Test(routes, quoted_values_are_text)
{
    /* "true" quoted is the string true, which no boolean equals; the field is a boolean,
     * so the route is refused rather than never matching */
    expect_error("  - {name: q, match: {needs_followup: \"true\"}, role: convener}\n" DEFAULT_ROUTE,
                 "10:40: route 'q': match.needs_followup: 'true': expected true or false");
    load_ok("  - {name: q, match: {household: \"101\"}, role: convener}\n"
            "  - {name: p, match: {household: 102}, role: convener}\n" DEFAULT_ROUTE);
    cr_assert_str_eq(route_of(VISIT("g1")), "default");
    cr_assert_str_eq(
        route_of(EVENT("visit.logged", "g1", S("household", "101"), S("summary", "s"))), "q");
    cr_assert_str_eq(
        route_of(EVENT("visit.logged", "g1", S("household", "102"), S("summary", "s"))), "p");
}

/* ---- route_pick ---- */

Test(routes, pick_least_loaded_ties_by_id)
{
    load_ok("  - {name: r, match: {}, role: home_helper, fallback: [grid_leader, convener]}\n");
    const route_t *r = routes_at(rt, 0);
    /* hb is listed before ha in the file: the tie still goes to ha */
    cr_assert_str_eq(route_pick(r, d, "g1", 2, load_of, NULL, NULL, 0)->id, "ha");
    cr_assert_str_eq(route_pick(r, d, "g1", 2, NULL, NULL, NULL, 0)->id, "ha");
    loads[0] = (load_row_t){"ha", 2};
    loads[1] = (load_row_t){"hb", 1};
    loads[2] = (load_row_t){"hc", 0};
    cr_assert_str_eq(route_pick(r, d, "g1", 2, load_of, NULL, NULL, 0)->id, "hb");
    loads[1].open = 2;
    cr_assert_str_eq(route_pick(r, d, "g1", 2, load_of, NULL, NULL, 0)->id, "ha");
    cr_assert_str_eq(route_pick(r, d, "g2", 2, load_of, NULL, NULL, 0)->id, "hc");
    /* grid ids need not be NUL-terminated */
    cr_assert_str_eq(route_pick(r, d, "g2xyz", 2, load_of, NULL, NULL, 0)->id, "hc");
    memset(loads, 0, sizeof loads);
}

Test(routes, pick_exclusion_and_fallback_chain)
{
    load_ok("  - {name: r, match: {}, role: home_helper, fallback: [grid_leader, convener]}\n");
    const route_t *r = routes_at(rt, 0);
    const char *ex[] = {"ha", "hb", "lead1", "boss"};
    cr_assert_str_eq(route_pick(r, d, "g1", 2, NULL, NULL, ex, 1)->id, "hb");
    cr_assert_str_eq(route_pick(r, d, "g1", 2, NULL, NULL, ex, 2)->id, "lead1");
    cr_assert_str_eq(route_pick(r, d, "g1", 2, NULL, NULL, ex, 3)->id, "boss");
    cr_assert_null(route_pick(r, d, "g1", 2, NULL, NULL, ex, 4));
    /* g2 has no grid leader: from its helper straight to the convener */
    const char *ex2[] = {"hc"};
    cr_assert_str_eq(route_pick(r, d, "g2", 2, NULL, NULL, ex2, 1)->id, "boss");
}

Test(routes, pick_gridless_and_nobody)
{
    load_ok("  - {name: helpers, match: {type: repair.requested}, role: home_helper}\n"
            "  - {name: police, match: {type: patrol.issue_found}, role: police,"
            " fallback: [firefighter]}\n"
            "  - {name: none, match: {type: visit.logged}, task: false}\n" DEFAULT_ROUTE);
    const route_t *helpers = routes_find(rt, "helpers");
    loads[0] = (load_row_t){"ha", 5};
    loads[1] = (load_row_t){"hb", 5};
    loads[2] = (load_row_t){"hc", 4};
    /* grid-less: any holder of the role, wherever they serve */
    cr_assert_str_eq(route_pick(helpers, d, NULL, 0, load_of, NULL, NULL, 0)->id, "hc");
    cr_assert_str_eq(route_pick(helpers, d, "g1", 0, load_of, NULL, NULL, 0)->id, "hc");
    /* nobody holds the role nor the fallback: parked */
    cr_assert_null(route_pick(routes_find(rt, "police"), d, "g1", 2, load_of, NULL, NULL, 0));
    cr_assert_null(route_pick(routes_find(rt, "none"), d, "g1", 2, load_of, NULL, NULL, 0));
    /* a community-wide convener serves every grid */
    cr_assert_str_eq(route_pick(routes_find(rt, "default"), d, "g2", 2, NULL, NULL, NULL, 0)->id,
                     "boss");
    memset(loads, 0, sizeof loads);
}
