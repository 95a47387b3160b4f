/*
 * test_match: the event matcher on its own, as alert rules will use it: a NULL or empty
 * matcher, follow-up types with and without allow_followups, conditions on follow-up bodies,
 * the label in errors, and grids left unchecked without a directory.
 *
 * Every form and every refusal is covered through routes in test_routes.c; these tests are
 * about what routes cannot show. Each `match:` mapping is the whole of a small YAML file, so
 * errors are on line 1; events are built as JSON, packed to msgpack and validated with
 * event_validate, as the daemon sees them.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <limits.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "evtest.h"
#include "jsonmp.h"
#include "match.h"
#include "yamlutil.h"

#define ALERT "alert rule 'x'"

static char path[PATH_MAX];
static char err[1024];
static yamlutil_t *doc;
static match_t *m;
static msgpack_sbuffer sb; /* the last event's bytes: its strings point into them */

static void setup(void)
{
    char tmpl[] = "/tmp/gb_match.XXXXXX";
    int fd = mkstemp(tmpl);
    cr_assert_geq(fd, 0);
    close(fd);
    snprintf(path, sizeof path, "%s", tmpl);
    err[0] = '\0';
    evt_setup();
    msgpack_sbuffer_init(&sb);
}

static void teardown(void)
{
    match_destroy(&m);
    yamlutil_destroy(&doc);
    msgpack_sbuffer_destroy(&sb);
    evt_teardown();
    remove(path);
}

TestSuite(match, .init = setup, .fini = teardown);

/* Loads the mapping text with label; NULL with err set. */
static match_t *load(const char *text, const char *label, bool allow_followups)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
    match_destroy(&m);
    yamlutil_destroy(&doc);
    doc = yamlutil_load(path, err, sizeof err);
    cr_assert_not_null(doc, "test bug: bad YAML: %s", err);
    m = match_load(yamlutil_root(doc), path, NULL, label, allow_followups, err, sizeof err);
    return m;
}

static void load_ok(const char *text, bool allow_followups)
{
    cr_assert_not_null(load(text, ALERT, allow_followups), "refused: %s\n%s", err, text);
}

/* text must be refused with "PATH:" + expected. */
static void expect_error(const char *text, const char *label, bool allow_followups,
                         const char *expected)
{
    char want[PATH_MAX + 512];
    snprintf(want, sizeof want, "%s:%s", path, expected);
    cr_assert_null(load(text, label, allow_followups), "accepted: %s", text);
    cr_expect_str_eq(err, want);
}

/* Event type with body (JSON, e.g. "{\"task\": \"t-1\"}") on grid (NULL: none), validated;
 * valid until the next one. */
static const gb_event_t *event(const char *type, const char *grid, const char *body)
{
    json_error_t jerr;
    json_t *b = json_loads(body, 0, &jerr);
    cr_assert_not_null(b, "test bug: %s", jerr.text);
    json_t *e = evt_event_with(type, b);
    if (grid)
        json_object_set_new(e, "grid", json_string(grid));
    else
        json_object_del(e, "grid");
    msgpack_sbuffer_destroy(&sb);
    jsonmp_pack_sbuffer(e, &sb);
    json_decref(e);
    gb_error_t r = evt_validate_bytes(sb.data, sb.size, NULL);
    cr_assert_eq(r.code, GB_OK, "test bug: invalid event: %s", r.msg);
    return &evt_ev;
}

#define VISIT(grid) event("visit.logged", grid, "{\"household\": \"1-1\", \"summary\": \"s\"}")
#define ACCEPTED(grid) event("task.accepted", grid, "{\"task\": \"t-1\"}")
#define LEDGER(grid)                                                                               \
    event("ledger.entry_submitted", grid,                                                          \
          "{\"entry\": \"e-1\", \"direction\": \"income\", \"amount_fen\": 1, \"category\": "      \
          "\"c\", \"counterparty\": \"p\"}")

Test(match, null_node_matches_every_field_event)
{
    m = match_load(NULL, path, NULL, ALERT, true, err, sizeof err);
    cr_assert_not_null(m, "%s", err);
    cr_assert(match_is_everything(m));
    cr_assert(match_event(m, VISIT("g1")));
    cr_assert(match_event(m, LEDGER(NULL)));
    /* follow-ups only when named, even with allow_followups */
    cr_assert_not(match_event(m, ACCEPTED("g1")));
}

Test(match, everything_is_as_written)
{
    load_ok("{}\n", false);
    cr_assert(match_is_everything(m));
    cr_assert(match_event(m, VISIT("g1")));
    cr_assert_not(match_event(m, ACCEPTED("g1")));
    load_ok("{type: visit.logged}\n", false);
    cr_assert_not(match_is_everything(m));
    cr_assert(match_event(m, VISIT("g1")));
    cr_assert_not(match_event(m, event("repair.requested", "g1",
                                       "{\"household\": \"1\", \"category\": \"gas\", "
                                       "\"description\": \"d\"}")));
}

Test(match, followups_need_allow_followups)
{
    expect_error("{type: [visit.logged, task.accepted]}\n", ALERT, false,
                 "1:23: " ALERT ": match.type: 'task.accepted' is a follow-up: it acts on an "
                 "existing task and is not routed");
    load_ok("{type: [visit.logged, task.accepted]}\n", true);
    cr_assert(match_event(m, ACCEPTED("g1")));
    cr_assert(match_event(m, VISIT("g1")));
    cr_assert_not(match_event(m, event("task.returned", "g1",
                                       "{\"task\": \"t\", \"reason\": "
                                       "\"r\"}")));
    /* without a type, a condition takes field events only */
    load_ok("{grid: g1}\n", true);
    cr_assert(match_event(m, VISIT("g1")));
    cr_assert_not(match_event(m, VISIT("g2")));
    cr_assert_not(match_event(m, ACCEPTED("g1")));
}

Test(match, conditions_on_followup_bodies)
{
    load_ok("{type: task.completed, fee_waived_fen: {gt: 10000}, note: {nonempty: false}}\n", true);
    cr_assert(match_event(m, event("task.completed", "g1",
                                   "{\"task\": \"t\", \"outcome\": \"o\", \"fee_waived_fen\": "
                                   "10001}")));
    cr_assert_not(match_event(m, event("task.completed", "g1",
                                       "{\"task\": \"t\", \"outcome\": \"o\", \"fee_waived_fen\": "
                                       "10000}")));
    cr_assert_not(match_event(m, event("task.completed", "g1",
                                       "{\"task\": \"t\", \"outcome\": \"o\", \"fee_waived_fen\": "
                                       "20000, \"note\": \"n\"}")));
    load_ok("{type: [alert.acknowledged, alert.resolved], alert: [a-1, a-2]}\n", true);
    cr_assert(match_event(m, event("alert.resolved", NULL, "{\"alert\": \"a-2\"}")));
    cr_assert_not(match_event(m, event("alert.resolved", NULL, "{\"alert\": \"a-3\"}")));
    expect_error("{type: task.verified, ok: maybe}\n", ALERT, true,
                 "1:27: " ALERT ": match.ok: 'maybe': expected true or false");
}

Test(match, label_prefixes_errors)
{
    expect_error("[severity]\n", ALERT, true,
                 "1:1: " ALERT ": match: expected a mapping, got a list");
    expect_error("{sevrity: high}\n", ALERT, true,
                 "1:2: " ALERT ": match: no field 'sevrity' in the body of any of the alert "
                 "rule's event types (did you mean 'severity'?)");
    expect_error("{type: [task.accepted, task.progress], percnt: 5}\n", "rule #2", true,
                 "1:40: rule #2: match: no field 'percnt' in the body of any of the rule's event "
                 "types (did you mean 'percent'?)");
    expect_error("{type: task.progress, percent: {gt: x}}\n", "rule", true,
                 "1:37: rule: match.percent.gt: expected an integer, got 'x'");
}

Test(match, grids_unchecked_without_directory)
{
    load_ok("{grid: [g9, g1]}\n", false);
    cr_assert(match_event(m, VISIT("g9")));
    cr_assert_not(match_event(m, VISIT("g2")));
    cr_assert_not(match_event(m, LEDGER(NULL)));
}
