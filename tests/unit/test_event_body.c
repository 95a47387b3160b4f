/*
 * test_event_body: every body field rule of every v1 event type, as proto/PROTOCOL.md's
 * tables state them, against proto/event.c and proto/schema.c, and the string and id
 * primitives those rules rest on (UTF-8, the id characters, map look-up).
 *
 * One test checks that schema.c's table is the spec's table (tests/lib/evtest.c writes the
 * spec's out independently, so a change to one without the other fails here); the
 * per-type tests generate the cases of every rule (missing, nil, wrong type, each limit and
 * one past it, every enum value and one outside, array length and items, UTF-8) from the
 * spec's table and run them through event_validate.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evtest.h"
#include "jsonmp.h"

TestSuite(event, .init = evt_setup, .fini = evt_teardown);
TestSuite(fields, .init = evt_setup, .fini = evt_teardown);

/* ---- the schema table is the spec's table ---- */

Test(event, schema_table_matches_the_spec)
{
    cr_assert_eq(schema_type_count(), (int)evt_spec_count, "v1 has %zu event types",
                 evt_spec_count);
    for (size_t i = 0; i < evt_spec_count; i++) {
        const evt_spec_type_t *want = &evt_spec[i];
        const schema_type_t *got = &schema_types[i];
        cr_assert_str_eq(got->name, want->name, "type %zu", i);
        cr_expect_eq(schema_type_find(want->name, strlen(want->name)), got);
        cr_expect_eq(schema_type_index(got), (int)i);
        cr_expect_eq(got->grid_required, want->grid_required, "%s: grid_required", want->name);
        cr_expect_eq(got->is_followup, want->followup, "%s: is_followup", want->name);
        size_t n = 0;
        for (const evt_spec_field_t *wf = want->fields; wf->name; wf++, n++) {
            const schema_field_t *gf = &got->fields[n];
            cr_assert_not_null(gf->name, "%s: schema.c lacks %s", want->name, wf->name);
            cr_expect_str_eq(gf->name, wf->name, "%s: field %zu (order matters)", want->name, n);
            cr_expect_eq(gf->kind, wf->kind, "%s.%s: kind", want->name, wf->name);
            cr_expect_eq(gf->required, wf->required, "%s.%s: required", want->name, wf->name);
            if (wf->kind != SCHEMA_ENUM && wf->kind != SCHEMA_BOOL) {
                cr_expect_eq(gf->min, wf->min, "%s.%s: min", want->name, wf->name);
                cr_expect_eq(gf->max, wf->max, "%s.%s: max", want->name, wf->name);
            }
            if (wf->kind == SCHEMA_STR_ARRAY || wf->kind == SCHEMA_ID_ARRAY)
                cr_expect_eq(gf->item_max, wf->item_max, "%s.%s: item_max", want->name, wf->name);
            cr_expect_eq((gf->flags & SCHEMA_MEMBER_REF) != 0, wf->member_ref,
                         "%s.%s: member reference", want->name, wf->name);
            if (wf->kind == SCHEMA_ENUM) {
                char joined[300] = "";
                for (const char *const *v = gf->values; *v; v++)
                    snprintf(joined + strlen(joined), sizeof joined - strlen(joined), "%s%s",
                             v == gf->values ? "" : "|", *v);
                cr_expect_str_eq(joined, wf->values, "%s.%s: values", want->name, wf->name);
            }
            cr_expect_eq(schema_field_find(got, wf->name, strlen(wf->name)), gf);
        }
        cr_expect_null(got->fields[n].name, "%s: schema.c has a field the spec lacks: %s",
                       want->name, got->fields[n].name);
    }
    cr_expect_null(schema_types[evt_spec_count].name);
    cr_expect_null(schema_type_find("visit", 5), "type names match whole");
    cr_expect_null(schema_type_find("visit.logged.x", 14));
}

/* ---- every field rule of every type, generated from the spec's table ---- */

typedef struct {
    const evt_spec_type_t *t;
    const evt_spec_field_t *f;
    int cases;
} field_run_t;

/* Sets body.F of a full event of the type to value (NULL: removes it) and checks the result:
 * code GB_OK for a pass, else the code, a message starting "body.F" + suffix_start and
 * containing rule. */
static void field_case(field_run_t *run, const char *what, json_t *value, gb_code_t want,
                       const char *suffix_start, const char *rule)
{
    json_t *e = evt_event_full(run->t->name);
    if (value)
        json_object_set_new(evt_body(e), run->f->name, value);
    else
        json_object_del(evt_body(e), run->f->name);
    gb_error_t r = evt_validate(e, &evt_refs_all);
    char prefix[120];
    snprintf(prefix, sizeof prefix, "body.%s%s", run->f->name, suffix_start ? suffix_start : ": ");
    run->cases++;
    if (want == GB_OK) {
        cr_expect_eq(r.code, GB_OK, "%s.%s, %s: expected a pass, got %s \"%s\"", run->t->name,
                     run->f->name, what, gb_code_name(r.code), r.msg);
        return;
    }
    cr_expect_eq(r.code, want, "%s.%s, %s: expected %s, got %s \"%s\"", run->t->name, run->f->name,
                 what, gb_code_name(want), gb_code_name(r.code), r.msg);
    cr_expect(gbt_starts_with(r.msg, prefix), "%s.%s, %s: message \"%s\" should start \"%s\"",
              run->t->name, run->f->name, what, r.msg, prefix);
    if (rule)
        cr_expect(strstr(r.msg, rule) != NULL, "%s.%s, %s: message \"%s\" should say \"%s\"",
                  run->t->name, run->f->name, what, r.msg, rule);
}

static const char *kind_wrong_rule(schema_kind_t k)
{
    switch (k) {
    case SCHEMA_STR:
    case SCHEMA_ID:
        return "must be a string";
    case SCHEMA_INT:
    case SCHEMA_TIME:
        return "must be an integer";
    case SCHEMA_BOOL:
        return "must be true or false";
    case SCHEMA_ENUM:
        return "must be one of ";
    case SCHEMA_STR_ARRAY:
    case SCHEMA_ID_ARRAY:
        return "must be an array";
    }
    return "?";
}

static void str_cases(field_run_t *run)
{
    const evt_spec_field_t *f = run->f;
    char rule[80];
    snprintf(rule, sizeof rule, "must be %lld to %lld bytes", (long long)f->min, (long long)f->max);
    field_case(run, "at the minimum length", evt_str_of((size_t)f->min, 'x'), GB_OK, NULL, NULL);
    field_case(run, "at the maximum length", evt_str_of((size_t)f->max, 'x'), GB_OK, NULL, NULL);
    if (f->min > 0)
        field_case(run, "below the minimum", evt_str_of((size_t)f->min - 1, 'x'), GB_E_SCHEMA, NULL,
                   rule);
    field_case(run, "above the maximum", evt_str_of((size_t)f->max + 1, 'x'), GB_E_SCHEMA, NULL,
               rule);
    /* limits are bytes: 3-byte characters whose total passes the maximum */
    size_t n = (size_t)f->max / 3 + 1;
    char *cjk = malloc(n * 3 + 1);
    for (size_t i = 0; i < n; i++)
        memcpy(cjk + 3 * i, "岱", 3);
    cjk[n * 3] = 0;
    field_case(run, "over the byte limit in fewer characters", json_string(cjk), GB_E_SCHEMA, NULL,
               rule);
    free(cjk);
    field_case(run, "multi-byte UTF-8", json_string("岱东 ✓ 😀"), GB_OK, NULL, NULL);
    field_case(run, "overlong UTF-8", evt_raw_str("a\xc0\xafz", 4), GB_E_SCHEMA, NULL,
               "must be valid UTF-8");
    field_case(run, "a UTF-16 surrogate", evt_raw_str("\xed\xb0\x80", 3), GB_E_SCHEMA, NULL,
               "must be valid UTF-8");
    field_case(run, "a stray continuation byte", evt_raw_str("ab\x80", 3), GB_E_SCHEMA, NULL,
               "must be valid UTF-8");
    field_case(run, "an integer", json_integer(7), GB_E_SCHEMA, NULL, "must be a string");
    field_case(run, "an array", json_pack("[s]", "x"), GB_E_SCHEMA, NULL, "must be a string");
}

static void id_cases(field_run_t *run)
{
    const char *rule = "must be 1 to 64 characters of [A-Za-z0-9._:-]";
    field_case(run, "one character", json_string("t"), GB_OK, NULL, NULL);
    field_case(run, "every allowed character", json_string("AZaz09._:-"), GB_OK, NULL, NULL);
    field_case(run, "64 characters", evt_str_of(64, 'i'), GB_OK, NULL, NULL);
    field_case(run, "65 characters", evt_str_of(65, 'i'), GB_E_SCHEMA, NULL, rule);
    field_case(run, "empty", json_string(""), GB_E_SCHEMA, NULL, rule);
    field_case(run, "a space", json_string("t 1"), GB_E_SCHEMA, NULL, rule);
    field_case(run, "a slash", json_string("t/1"), GB_E_SCHEMA, NULL, rule);
    field_case(run, "non-ASCII", json_string("任务1"), GB_E_SCHEMA, NULL, rule);
    field_case(run, "an integer", json_integer(1), GB_E_SCHEMA, NULL, "must be a string");
}

static void int_cases(field_run_t *run)
{
    const evt_spec_field_t *f = run->f;
    char lo[64], hi[64];
    snprintf(lo, sizeof lo, "must be an integer >= %lld", (long long)f->min);
    snprintf(hi, sizeof hi, "must be an integer <= %lld", (long long)f->max);
    field_case(run, "the minimum", json_integer(f->min), GB_OK, NULL, NULL);
    field_case(run, "the maximum", json_integer(f->max), GB_OK, NULL, NULL);
    field_case(run, "below the minimum", json_integer(f->min - 1), GB_E_SCHEMA, NULL, lo);
    field_case(run, "above the maximum", json_integer(f->max + 1), GB_E_SCHEMA, NULL, hi);
    field_case(run, "negative", json_integer(-5), GB_E_SCHEMA, NULL, lo);
    field_case(run, "a float", json_real((double)f->min), GB_E_SCHEMA, NULL, "must be an integer");
    field_case(run, "a numeric string", json_string("5"), GB_E_SCHEMA, NULL, "must be an integer");
    field_case(run, "a boolean", json_true(), GB_E_SCHEMA, NULL, "must be an integer");
}

static void bool_cases(field_run_t *run)
{
    field_case(run, "true", json_true(), GB_OK, NULL, NULL);
    field_case(run, "false", json_false(), GB_OK, NULL, NULL);
    field_case(run, "1", json_integer(1), GB_E_SCHEMA, NULL, "must be true or false");
    field_case(run, "0", json_integer(0), GB_E_SCHEMA, NULL, "must be true or false");
    field_case(run, "\"true\"", json_string("true"), GB_E_SCHEMA, NULL, "must be true or false");
}

static void enum_cases(field_run_t *run)
{
    char vals[300], rule[320];
    snprintf(vals, sizeof vals, "%s", run->f->values);
    /* "must be one of a, b, c" lists every value in table order */
    snprintf(rule, sizeof rule, "must be one of ");
    bool first = true;
    for (char *p = vals, *v; (v = strsep(&p, "|")); first = false) {
        snprintf(rule + strlen(rule), sizeof rule - strlen(rule), "%s%s", first ? "" : ", ", v);
        field_case(run, v, json_string(v), GB_OK, NULL, NULL);
        char upper[64];
        snprintf(upper, sizeof upper, "%s", v);
        upper[0] = (char)(upper[0] - 'a' + 'A');
        field_case(run, "upper case", json_string(upper), GB_E_SCHEMA, NULL, "must be one of ");
        char padded[70];
        snprintf(padded, sizeof padded, "%s ", v);
        field_case(run, "with a trailing space", json_string(padded), GB_E_SCHEMA, NULL,
                   "must be one of ");
    }
    field_case(run, "outside the values", json_string("bogus"), GB_E_SCHEMA, NULL, rule);
    field_case(run, "empty", json_string(""), GB_E_SCHEMA, NULL, rule);
    field_case(run, "an integer", json_integer(0), GB_E_SCHEMA, NULL, rule);
}

static void array_cases(field_run_t *run)
{
    const evt_spec_field_t *f = run->f;
    bool ids = f->kind == SCHEMA_ID_ARRAY;
    char many[64];
    snprintf(many, sizeof many, "at most %lld items (got %lld)", (long long)f->max,
             (long long)f->max + 1);
    json_t *full = json_array(), *over = json_array();
    for (int64_t i = 0; i < f->max + 1; i++) {
        char item[32];
        snprintf(item, sizeof item, "m%lld", (long long)i);
        if (i < f->max)
            json_array_append_new(full, json_string(item));
        json_array_append_new(over, json_string(item));
    }
    field_case(run, "empty", json_array(), GB_OK, NULL, NULL);
    field_case(run, "at the item limit", full, GB_OK, NULL, NULL);
    field_case(run, "one item too many", over, GB_E_SCHEMA, NULL, many);
    field_case(run, "an item at the byte limit",
               json_pack("[o]", evt_str_of((size_t)f->item_max, 'a')), GB_OK, NULL, NULL);
    field_case(run, "the third item too long",
               json_pack("[s,s,o]", "a", "b", evt_str_of((size_t)f->item_max + 1, 'a')),
               GB_E_SCHEMA,
               "[2]: ", ids ? "must be 1 to 64 characters" : "must be 1 to 200 bytes (got 201)");
    field_case(run, "an empty item", json_pack("[s]", ""), GB_E_SCHEMA,
               "[0]: ", ids ? "must be 1 to 64 characters" : "must be 1 to 200 bytes (got 0)");
    field_case(run, "an item of the wrong type", json_pack("[s,i]", "a", 1), GB_E_SCHEMA,
               "[1]: ", "must be a string");
    field_case(run, "a nested array", json_pack("[[s]]", "a"), GB_E_SCHEMA,
               "[0]: ", "must be a string");
    if (ids) {
        field_case(run, "an item with a space", json_pack("[s,s]", "li.qiang", "zhang teng"),
                   GB_E_SCHEMA, "[1]: ", "characters of [A-Za-z0-9._:-]");
    } else {
        field_case(run, "an item with an overlong sequence",
                   json_pack("[s,o]", "ok", evt_raw_str("\xe0\x80\xaf", 3)), GB_E_SCHEMA,
                   "[1]: ", "must be valid UTF-8");
        field_case(run, "an item in Chinese", json_pack("[s]", "楼道堆物"), GB_OK, NULL, NULL);
    }
    field_case(run, "a string", json_string("a"), GB_E_SCHEMA, NULL, "must be an array");
    field_case(run, "a map", json_pack("{s:s}", "a", "b"), GB_E_SCHEMA, NULL, "must be an array");
}

static int run_type(const char *name)
{
    field_run_t run = {evt_spec_type(name), NULL, 0};
    for (const evt_spec_field_t *f = run.t->fields; f->name; f++) {
        run.f = f;
        char req[120];
        snprintf(req, sizeof req, "required for %s", name);
        if (f->required)
            field_case(&run, "missing", NULL, GB_E_SCHEMA, NULL, req);
        else
            field_case(&run, "missing (optional)", NULL, GB_OK, NULL, NULL);
        field_case(&run, "nil", json_null(), GB_E_SCHEMA, NULL, kind_wrong_rule(f->kind));
        switch (f->kind) {
        case SCHEMA_STR:
            str_cases(&run);
            break;
        case SCHEMA_ID:
            id_cases(&run);
            break;
        case SCHEMA_INT:
        case SCHEMA_TIME:
            int_cases(&run);
            break;
        case SCHEMA_BOOL:
            bool_cases(&run);
            break;
        case SCHEMA_ENUM:
            enum_cases(&run);
            break;
        case SCHEMA_STR_ARRAY:
        case SCHEMA_ID_ARRAY:
            array_cases(&run);
            break;
        }
    }
    return run.cases;
}

Test(fields, visit_logged)
{
    cr_expect_gt(run_type("visit.logged"), 40);
}

Test(fields, repair_requested)
{
    cr_expect_gt(run_type("repair.requested"), 40);
}

Test(fields, patrol_issue_found)
{
    cr_expect_gt(run_type("patrol.issue_found"), 40);
}

Test(fields, ledger_entry_submitted)
{
    cr_expect_gt(run_type("ledger.entry_submitted"), 80);
}

Test(fields, task_accepted)
{
    cr_expect_gt(run_type("task.accepted"), 20);
}

Test(fields, task_progress)
{
    cr_expect_gt(run_type("task.progress"), 20);
}

Test(fields, task_completed)
{
    cr_expect_gt(run_type("task.completed"), 40);
}

Test(fields, task_returned)
{
    cr_expect_gt(run_type("task.returned"), 20);
}

Test(fields, task_verified)
{
    cr_expect_gt(run_type("task.verified"), 20);
}

Test(fields, alert_acknowledged)
{
    cr_expect_gt(run_type("alert.acknowledged"), 20);
}

Test(fields, alert_resolved)
{
    cr_expect_gt(run_type("alert.resolved"), 20);
}

/* A few rules spelled out in full, as PROTOCOL.md quotes them. */
Test(fields, messages_quoted_in_the_spec)
{
    json_t *e = evt_event_min("ledger.entry_submitted");
    json_object_set_new(evt_body(e), "amount_fen", json_integer(0));
    gb_error_t r = evt_validate(e, NULL);
    cr_expect_eq(r.code, GB_E_SCHEMA);
    cr_expect_str_eq(r.msg, "body.amount_fen: must be an integer >= 1");

    e = evt_event_min("repair.requested");
    json_object_set_new(evt_body(e), "category", json_string("plumbing"));
    r = evt_validate(e, NULL);
    cr_expect_str_eq(r.msg,
                     "body.category: must be one of water, electric, gas, elderly_care, other");

    e = evt_event_min("patrol.issue_found");
    json_object_set_new(evt_body(e), "category", json_string("x"));
    r = evt_validate(e, NULL);
    cr_expect_str_eq(r.msg, "body.category: must be one of fire_hazard, public_security, "
                            "city_appearance, illegal_construction, sanitation, traffic, other");

    e = evt_event_min("visit.logged");
    json_object_del(evt_body(e), "summary");
    r = evt_validate(e, NULL);
    cr_expect_str_eq(r.msg, "body.summary: required for visit.logged");

    e = evt_event_min("visit.logged");
    json_object_set_new(evt_body(e), "household", evt_str_of(65, 'h'));
    r = evt_validate(e, NULL);
    cr_expect_str_eq(r.msg, "body.household: must be 1 to 64 bytes (got 65)");

    e = evt_event_min("visit.logged");
    json_object_set_new(evt_body(e), "concerns", json_pack("[s,i]", "ok", 3));
    r = evt_validate(e, NULL);
    cr_expect_str_eq(r.msg, "body.concerns[1]: must be a string");
}

/* ---- UTF-8 and ids, directly ---- */

Test(event, utf8)
{
    static const struct {
        const char *s;
        size_t len;
        bool ok;
        const char *what;
    } cases[] = {
        {"", 0, true, "empty"},
        {"plain ascii", 11, true, "ASCII"},
        {"a\0b", 3, true, "NUL is a valid code point"},
        {"\xc2\x80", 2, true, "U+0080, smallest 2-byte"},
        {"\xdf\xbf", 2, true, "U+07FF"},
        {"\xe0\xa0\x80", 3, true, "U+0800, smallest 3-byte"},
        {"岱东", 6, true, "CJK"},
        {"\xed\x9f\xbf", 3, true, "U+D7FF, just below the surrogates"},
        {"\xee\x80\x80", 3, true, "U+E000, just above the surrogates"},
        {"\xef\xbf\xbf", 3, true, "U+FFFF"},
        {"\xf0\x90\x80\x80", 4, true, "U+10000, smallest 4-byte"},
        {"\xf0\x9f\x98\x80", 4, true, "an emoji"},
        {"\xf4\x8f\xbf\xbf", 4, true, "U+10FFFF, the last code point"},
        {"\xc0\x80", 2, false, "overlong NUL"},
        {"\xc0\xaf", 2, false, "overlong '/' (2 bytes)"},
        {"\xc1\xbf", 2, false, "overlong 2-byte"},
        {"\xe0\x80\xaf", 3, false, "overlong '/' (3 bytes)"},
        {"\xe0\x9f\xbf", 3, false, "overlong U+07FF in 3 bytes"},
        {"\xf0\x80\x80\xaf", 4, false, "overlong '/' (4 bytes)"},
        {"\xf0\x8f\xbf\xbf", 4, false, "overlong U+FFFF in 4 bytes"},
        {"\xed\xa0\x80", 3, false, "U+D800, high surrogate"},
        {"\xed\xaf\xbf", 3, false, "U+DBFF"},
        {"\xed\xb0\x80", 3, false, "U+DC00, low surrogate"},
        {"\xed\xbf\xbf", 3, false, "U+DFFF"},
        {"\xed\xa0\xbd\xed\xb8\x80", 6, false, "a CESU-8 surrogate pair"},
        {"\xf4\x90\x80\x80", 4, false, "U+110000, past the last code point"},
        {"\xf5\x80\x80\x80", 4, false, "0xF5 lead byte"},
        {"\xf8\x88\x80\x80\x80", 5, false, "5-byte form"},
        {"\xfe", 1, false, "0xFE"},
        {"\xff", 1, false, "0xFF"},
        {"\x80", 1, false, "lone continuation"},
        {"a\xbf", 2, false, "continuation after ASCII"},
        {"\xc3", 1, false, "truncated 2-byte"},
        {"\xe5\xb2", 2, false, "truncated 3-byte"},
        {"\xf0\x9f\x98", 3, false, "truncated 4-byte"},
        {"\xe5\x41\x41", 3, false, "ASCII where a continuation belongs"},
        {"\xc3\xc3\xa9", 3, false, "a lead byte where a continuation belongs"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        cr_expect_eq(event_utf8_valid(cases[i].s, cases[i].len), cases[i].ok, "%s: expected %s",
                     cases[i].what, cases[i].ok ? "valid" : "invalid");
}

Test(event, id_charset)
{
    cr_expect(event_id_valid("a", 1, 64));
    cr_expect(event_id_valid("Az09._:-", 8, 64));
    cr_expect(event_id_valid("abc", 3, 3));
    cr_expect_not(event_id_valid("abcd", 4, 3));
    cr_expect_not(event_id_valid("", 0, 64));
    for (int c = 0; c < 256; c++) {
        char s[1] = {(char)c};
        bool want = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == ':' || c == '-';
        cr_expect_eq(event_id_valid(s, 1, 64), want, "byte 0x%02x", c);
    }
}

Test(event, map_get)
{
    json_t *e = evt_event_min("visit.logged");
    msgpack_sbuffer sb;
    jsonmp_pack_sbuffer(e, &sb);
    json_decref(e);
    const msgpack_object *o = evt_unpack(sb.data, sb.size);
    const msgpack_object *v = event_map_get(o, "by");
    cr_assert_not_null(v);
    cr_expect_eq(v->type, MSGPACK_OBJECT_STR);
    cr_expect_null(event_map_get(o, "b"));
    cr_expect_null(event_map_get(o, "byy"));
    cr_expect_null(event_map_get(NULL, "by"));
    cr_expect_null(event_map_get(v, "by"), "a string is not a map");
    msgpack_sbuffer_destroy(&sb);
}
