/*
 * test_routes_errors: every refusal of a routes section, with its file:line:column. Each case
 * is the small community of routes_fixture.h with one thing wrong in its routes, and the
 * whole message is asserted.
 */
#include "routes_fixture.h"

TestSuite(routes_errors, .init = setup, .fini = teardown);

Test(routes_errors, error_no_routes)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("community: {id: t, name: t, subdistrict: s}\ngrids: [{id: g1, name: 一}]\n"
          "members: []\n",
          f);
    fclose(f);
    d = directory_load(path, err, sizeof err);
    cr_assert_not_null(d, "%s", err);
    cr_assert_null(routes_load(directory_section(d, "routes"), path, d, err, sizeof err));
    char want[PATH_MAX + 128];
    snprintf(want, sizeof want,
             "%s: routes: missing: at least the default route (match: {}) is needed", path);
    cr_assert_str_eq(err, want);
    expect_error("  []\n", "10:3: routes: empty: at least the default route (match: {}) is needed");
    expect_error("  name: x\n", "10:3: routes: expected a list of routes, got a mapping");
}

Test(routes_errors, error_default_missing_or_not_last)
{
    expect_error("  - {name: a, match: {type: repair.requested}, role: home_helper}\n",
                 "10:5: route 'a': the last route must be the default (match: {} or default: "
                 "true), so that every event has an owner");
    expect_error(DEFAULT_ROUTE "  - {name: late, match: {type: repair.requested}, role: "
                               "home_helper}\n",
                 "11:5: route 'late': unreachable: the default route 'default' (line 10) matches "
                 "every event first; the default must be the last route");
    expect_error("  - {name: a, default: true, role: convener}\n" DEFAULT_ROUTE,
                 "11:5: route 'default': unreachable: the default route 'a' (line 10) matches "
                 "every event first; the default must be the last route");
    expect_error("  - {name: a, default: true, match: {grid: g1}, role: convener}\n",
                 "10:37: route 'a': default: true matches every event: leave 'match' out or "
                 "empty");
    expect_error("  - {name: a, role: convener}\n",
                 "10:5: route 'a': missing 'match' (the default route has match: {} or default: "
                 "true)");
}

Test(routes_errors, error_route_keys)
{
    expect_error("  - {name: a, match: {}, rol: convener}\n",
                 "10:26: route 'a': unknown key 'rol' (did you mean 'role'?)");
    expect_error("  - {name: a, match: {}, role: convener, deadline: 1d}\n",
                 "10:42: route 'a': unknown key 'deadline'");
    expect_error("  - {match: {}, role: convener}\n", "10:5: route #1: missing 'name'");
    expect_error("  - {name: 'a b', match: {}, role: convener}\n",
                 "10:13: route #1: bad name 'a b': expected 1 to 64 of A-Z a-z 0-9 . _ : -");
    expect_error("  - {name: a, match: {type: repair.requested}, role: home_helper}\n"
                 "  - {name: a, match: {}, role: convener}\n",
                 "11:12: duplicate route name 'a' (first defined at line 10)");
    expect_error("  - just a string\n", "10:5: route #1: expected a mapping, got a single value");
    expect_error("  - {name: a, match: {}, role: convener, task: yes}\n",
                 "10:48: route 'a': task: bad boolean 'yes': expected true or false");
    expect_error("  - {name: a, match: [], role: convener}\n",
                 "10:22: route 'a': match: expected a mapping, got a list");
}

Test(routes_errors, error_roles)
{
    expect_error("  - {name: a, match: {}, role: firefigher}\n",
                 "10:32: route 'a': role: unknown role 'firefigher' (did you mean "
                 "'firefighter'?)");
    expect_error("  - {name: a, match: {}, role: mayor}\n",
                 "10:32: route 'a': role: unknown role 'mayor'");
    expect_error("  - {name: a, match: {}}\n",
                 "10:5: route 'a': missing 'role' (or task: false for a route that creates no "
                 "task)");
    expect_error("  - {name: a, match: {}, role: convener, fallback: [grid_leader, polise]}\n",
                 "10:66: route 'a': fallback: unknown role 'polise' (did you mean 'police'?)");
    expect_error("  - {name: a, match: {}, role: convener, fallback: [convener]}\n",
                 "10:53: route 'a': fallback: 'convener' is the route's own role");
    expect_error("  - {name: a, match: {}, role: convener, fallback: [police, police]}\n",
                 "10:61: route 'a': fallback: role 'police' listed twice");
    expect_error("  - {name: a, match: {}, role: convener, fallback: police}\n",
                 "10:52: route 'a': fallback: expected a list of roles, got a single value");
    expect_error("  - {name: a, match: {}, task: false, role: convener}\n",
                 "10:45: route 'a': 'role' has no use in a route with task: false");
    expect_error("  - {name: a, match: {}, task: false, complete_within: 1d}\n",
                 "10:56: route 'a': 'complete_within' has no use in a route with task: false");
}

Test(routes_errors, error_durations)
{
    static const char *const bad[] = {"2x", "1.5h", "30",     "h",        "1h1d", "1m30h",
                                      "0m", "0d0h", "1h 30m", "1234567m", "1hh",  "-1h"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[256], want[512];
        snprintf(text, sizeof text,
                 "  - {name: a, match: {}, role: convener, accept_within: '%s'}\n", bad[i]);
        snprintf(want, sizeof want,
                 "10:58: route 'a': accept_within: bad duration '%s': expected digits followed "
                 "by d, h or m, in that order and not zero (e.g. 30m, 4h, 2d, 1h30m)",
                 bad[i]);
        expect_error(text, want);
    }
    expect_error("  - {name: a, match: {}, role: convener, complete_within: }\n",
                 "10:42: route 'a': complete_within: missing value");
    static const char *const good[] = {"1d",   "2h",      "30m",  "1h30m",
                                       "1d4h", "2d3h15m", "0d1m", "999999m"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char text[256];
        snprintf(text, sizeof text, "  - {name: a, match: {}, role: convener, accept_within: %s}\n",
                 good[i]);
        load_ok(text);
        cr_assert_str_eq(routes_at(rt, 0)->accept_within, good[i]);
    }
}

Test(routes_errors, error_types)
{
    expect_error(
        "  - {name: a, match: {type: patrol.isue_found}, role: police}\n" DEFAULT_ROUTE,
        "10:29: route 'a': match.type: unknown event type 'patrol.isue_found' (did you mean "
        "'patrol.issue_found'?)");
    expect_error("  - {name: a, match: {type: task.returned}, role: police}\n" DEFAULT_ROUTE,
                 "10:29: route 'a': match.type: 'task.returned' is a follow-up: it acts on an "
                 "existing task and is not routed");
    expect_error(
        "  - {name: a, match: {type: [visit.logged, visit.logged]}, role: police}\n" DEFAULT_ROUTE,
        "10:44: route 'a': match.type: 'visit.logged' listed twice");
    expect_error("  - {name: a, match: {type: []}, role: police}\n" DEFAULT_ROUTE,
                 "10:29: route 'a': match.type: an empty list matches nothing");
    expect_error("  - {name: a, match: {type: {eq: visit.logged}}, role: police}\n" DEFAULT_ROUTE,
                 "10:29: route 'a': match.type: expected an event type, got a mapping");
}

Test(routes_errors, error_fields)
{
    expect_error("  - {name: a, match: {type: patrol.issue_found, categry: fire_hazard}, role: "
                 "police}\n" DEFAULT_ROUTE,
                 "10:49: route 'a': match: no field 'categry' in the body of patrol.issue_found "
                 "(did you mean 'category'?)");
    expect_error(
        "  - {name: a, match: {type: visit.logged, urgency: high}, role: police}\n" DEFAULT_ROUTE,
        "10:43: route 'a': match: no field 'urgency' in the body of visit.logged");
    expect_error("  - {name: a, match: {type: [visit.logged, ledger.entry_submitted], severity: "
                 "high}, role: police}\n" DEFAULT_ROUTE,
                 "10:69: route 'a': match: no field 'severity' in the body of any of the route's "
                 "event types");
    expect_error("  - {name: a, match: {sevrity: high}, role: police}\n" DEFAULT_ROUTE,
                 "10:23: route 'a': match: no field 'sevrity' in the body of any of the route's "
                 "event types (did you mean 'severity'?)");
}

Test(routes_errors, error_values)
{
    expect_error("  - {name: a, match: {type: patrol.issue_found, category: fire}, role: "
                 "police}\n" DEFAULT_ROUTE,
                 "10:59: route 'a': match.category: 'fire' is not one of fire_hazard, "
                 "public_security, city_appearance, illegal_construction, sanitation, traffic, "
                 "other");
    expect_error("  - {name: a, match: {type: repair.requested, category: [water, fire_hazard]},"
                 " role: police}\n" DEFAULT_ROUTE,
                 "10:65: route 'a': match.category: 'fire_hazard' is not one of water, electric, "
                 "gas, elderly_care, other");
    expect_error(
        "  - {name: a, match: {severity: {in: [low, urgent]}}, role: police}\n" DEFAULT_ROUTE,
        "10:44: route 'a': match.severity: 'urgent' is not one of low, medium, high");
    expect_error("  - {name: a, match: {amount_fen: 0}, role: police}\n" DEFAULT_ROUTE,
                 "10:35: route 'a': match.amount_fen: '0': expected an integer from 1 to "
                 "1000000000000");
    expect_error("  - {name: a, match: {amount_fen: lots}, role: police}\n" DEFAULT_ROUTE,
                 "10:35: route 'a': match.amount_fen: 'lots': expected an integer from 1 to "
                 "1000000000000");
    expect_error("  - {name: a, match: {needs_followup: yes}, role: police}\n" DEFAULT_ROUTE,
                 "10:39: route 'a': match.needs_followup: 'yes': expected true or false");
    expect_error("  - {name: a, match: {entry: 'a/b'}, role: police}\n" DEFAULT_ROUTE,
                 "10:31: route 'a': match.entry: 'a/b' is not an id: expected 1 to 64 of A-Z "
                 "a-z 0-9 . _ : -");
    expect_error("  - {name: a, match: {concerns: leak}, role: police}\n" DEFAULT_ROUTE,
                 "10:33: route 'a': match.concerns: concerns is a list: match it with exists or "
                 "nonempty");
    expect_error("  - {name: a, match: {category: }, role: police}\n" DEFAULT_ROUTE,
                 "10:23: route 'a': match.category: missing value");
    expect_error("  - {name: a, match: {category: []}, role: police}\n" DEFAULT_ROUTE,
                 "10:33: route 'a': match.category: an empty list matches nothing");
    expect_error("  - {name: a, match: {category: [[water]]}, role: police}\n" DEFAULT_ROUTE,
                 "10:34: route 'a': match.category: expected a single value, got a list");
}

Test(routes_errors, error_operators)
{
    expect_error("  - {name: a, match: {amount_fen: {gt: 1, lt: 5}}, role: police}\n" DEFAULT_ROUTE,
                 "10:35: route 'a': match.amount_fen: expected exactly one of exists, nonempty, "
                 "gt, lt, in, eq");
    expect_error("  - {name: a, match: {amount_fen: {}}, role: police}\n" DEFAULT_ROUTE,
                 "10:35: route 'a': match.amount_fen: expected exactly one of exists, nonempty, "
                 "gt, lt, in, eq");
    expect_error("  - {name: a, match: {amount_fen: {gte: 1}}, role: police}\n" DEFAULT_ROUTE,
                 "10:36: route 'a': match.amount_fen: unknown operator 'gte' (did you mean "
                 "'gt'?): expected exists, nonempty, gt, lt, in or eq");
    expect_error("  - {name: a, match: {amount_fen: {gt: big}}, role: police}\n" DEFAULT_ROUTE,
                 "10:40: route 'a': match.amount_fen.gt: expected an integer, got 'big'");
    expect_error("  - {name: a, match: {severity: {gt: 1}}, role: police}\n" DEFAULT_ROUTE,
                 "10:33: route 'a': match.severity: gt compares integers, not enum");
    expect_error(
        "  - {name: a, match: {needs_followup: {nonempty: true}}, role: police}\n" DEFAULT_ROUTE,
        "10:39: route 'a': match.needs_followup: nonempty applies to strings and lists, "
        "not boolean");
    expect_error("  - {name: a, match: {photo: {exists: maybe}}, role: police}\n" DEFAULT_ROUTE,
                 "10:39: route 'a': match.photo.exists: bad boolean 'maybe': expected true or "
                 "false");
    expect_error("  - {name: a, match: {severity: {in: high}}, role: police}\n" DEFAULT_ROUTE,
                 "10:38: route 'a': match.severity.in: expected a list of values, got a single "
                 "value");
    expect_error("  - {name: a, match: {severity: {eq: [high]}}, role: police}\n" DEFAULT_ROUTE,
                 "10:38: route 'a': match.severity.eq: expected a single value, got a list");
    expect_error("  - {name: a, match: {severity: {eq: extreme}}, role: police}\n" DEFAULT_ROUTE,
                 "10:38: route 'a': match.severity: 'extreme' is not one of low, medium, high");
}

Test(routes_errors, error_grid)
{
    expect_error("  - {name: a, match: {grid: g9}, role: police}\n" DEFAULT_ROUTE,
                 "10:29: route 'a': match.grid: unknown grid 'g9'");
    expect_error("  - {name: a, match: {grid: [g1, g7]}, role: police}\n" DEFAULT_ROUTE,
                 "10:34: route 'a': match.grid: unknown grid 'g7'");
    expect_error("  - {name: a, match: {grid: {in: [g3]}}, role: police}\n" DEFAULT_ROUTE,
                 "10:35: route 'a': match.grid: unknown grid 'g3'");
    expect_error("  - {name: a, match: {grid: {gt: 1}}, role: police}\n" DEFAULT_ROUTE,
                 "10:29: route 'a': match.grid: expected a grid id, a list of them, exists, eq "
                 "or in");
}

/* Everything the loader allocated on the way to an error is freed (ASan's leak check). */
Test(routes_errors, errors_late_in_a_route_leak_nothing)
{
    expect_error("  - {name: a, match: {type: [repair.requested], category: [water, gas], "
                 "urgency: high}, role: home_helper, fallback: [convener], accept_within: 1h, "
                 "complete_within: 1y}\n" DEFAULT_ROUTE,
                 "10:166: route 'a': complete_within: bad duration '1y': expected digits followed "
                 "by d, h or m, in that order and not zero (e.g. 30m, 4h, 2d, 1h30m)");
}

Test(routes_errors, error_odd_yaml)
{
    expect_error(
        "  - {name: a, match: {}, role: &r convener}\n  - {name: b, match: {}, role: *r}\n",
        "11:33: route 'b': role: expected a role name, got an alias");
    expect_error("  - {name: a, match: {category: *nope}, role: police}\n" DEFAULT_ROUTE,
                 "10:34: route 'a': match.category: expected a single value, got an alias");
    expect_error("  - {name: a, match: {? [x]: 1}, role: police}\n" DEFAULT_ROUTE,
                 "10:25: route 'a': match: expected a field name as key");
    expect_error("  - {name: a, match: {severity: {? [x]: 1}}, role: police}\n" DEFAULT_ROUTE,
                 "10:36: route 'a': match.severity: expected an operator name as key: exists, "
                 "nonempty, gt, lt, in or eq");
    expect_error("  - {name: a, match: {category: {exists}}, role: police}\n" DEFAULT_ROUTE,
                 "10:34: route 'a': match.category.exists: missing value");
    expect_error("  - {name: a, match: {category}, role: police}\n" DEFAULT_ROUTE,
                 "10:23: route 'a': match.category: missing value");
    expect_error("  - {name: [a], match: {}, role: police}\n",
                 "10:12: route #1: name: expected a single value, got a list");
    expect_error("  - {name: a, match: {}, role: police, accept_within: [1h]}\n",
                 "10:55: route 'a': accept_within: expected a single value, got a list");
    expect_error("  - {name: a, match: , role: police}\n",
                 "10:15: route 'a': match: expected a mapping, got an empty value");
    expect_error("  - ~\n", "10:5: route #1: expected a mapping, got an empty value");
    expect_error("  - {name: \"\", match: {}, role: police}\n",
                 "10:13: route #1: name: missing value");
    expect_error("  - {name: a, match: {amount_fen: {gt: 99999999999999999999}}, role: "
                 "police}\n" DEFAULT_ROUTE,
                 "10:40: route 'a': match.amount_fen.gt: expected an integer, got "
                 "'99999999999999999999'");
    /* default: true with an empty match is still the default */
    load_ok("  - {name: a, default: true, match: , role: police}\n");
    cr_assert(routes_at(rt, 0)->is_default);
}
