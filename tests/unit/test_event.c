/*
 * test_event: the v1 event envelope and every body field rule of every type, as
 * proto/PROTOCOL.md states them, against proto/event.c and proto/schema.c.
 *
 * The field tables below are the spec's tables written out independently of schema.c:
 * one test checks that schema.c says the same thing (so a change to one without the other
 * fails here), and the per-type tests generate the cases of every rule (missing, wrong
 * type, each limit and one past it, every enum value and one outside, array length and
 * items, UTF-8) from the spec's table and run them through event_validate.
 *
 * Events are built as jansson objects (insertion-ordered, so key order is under the test's
 * control) and packed to msgpack here; what JSON cannot say (duplicate keys, non-string
 * keys, invalid UTF-8, wide integer encodings) is packed by hand.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "gb_code.h"
#include "schema.h"

#define AT INT64_C(1795737600000) /* 2026-11-27T00:00:00Z */

/* ---- packing and validating ---- */

static void pack_json(msgpack_packer *pk, const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT: {
        const char *k;
        json_t *v;
        msgpack_pack_map(pk, json_object_size(j));
        json_object_foreach((json_t *)j, k, v)
        {
            msgpack_pack_str(pk, strlen(k));
            msgpack_pack_str_body(pk, k, strlen(k));
            pack_json(pk, v);
        }
        return;
    }
    case JSON_ARRAY:
        msgpack_pack_array(pk, json_array_size(j));
        for (size_t i = 0; i < json_array_size(j); i++)
            pack_json(pk, json_array_get(j, i));
        return;
    case JSON_STRING:
        msgpack_pack_str(pk, json_string_length(j));
        msgpack_pack_str_body(pk, json_string_value(j), json_string_length(j));
        return;
    case JSON_INTEGER:
        msgpack_pack_int64(pk, json_integer_value(j));
        return;
    case JSON_REAL:
        msgpack_pack_double(pk, json_real_value(j));
        return;
    case JSON_TRUE:
        msgpack_pack_true(pk);
        return;
    case JSON_FALSE:
        msgpack_pack_false(pk);
        return;
    case JSON_NULL:
        msgpack_pack_nil(pk);
        return;
    }
}

/* The last unpacked object; gb_event_t views point into it until the next unpack. */
static msgpack_unpacked g_up;
static gb_event_t g_ev;

static void setup(void)
{
    msgpack_unpacked_init(&g_up);
}

static void teardown(void)
{
    msgpack_unpacked_destroy(&g_up);
}

TestSuite(event, .init = setup, .fini = teardown);
TestSuite(fields, .init = setup, .fini = teardown);
TestSuite(canonical, .init = setup, .fini = teardown);

static const msgpack_object *unpack(const void *buf, size_t len)
{
    size_t off = 0;
    msgpack_unpacked_destroy(&g_up);
    msgpack_unpacked_init(&g_up);
    msgpack_unpack_return rc = msgpack_unpack_next(&g_up, buf, len, &off);
    cr_assert_eq(rc, MSGPACK_UNPACK_SUCCESS, "test bug: cannot unpack what it packed");
    cr_assert_eq(off, len);
    return &g_up.data;
}

/* Validates raw msgpack bytes; the returned error has code GB_OK when the event passed. */
static gb_error_t validate_bytes(const void *buf, size_t len, const event_refs_t *refs)
{
    gb_error_t err = {GB_OK, ""};
    const msgpack_object *o = unpack(buf, len);
    if (event_validate(o, refs, &g_ev, &err) == 0) {
        cr_assert_eq(err.code, GB_OK, "event_validate returned 0 but set an error");
        err.code = GB_OK, err.msg[0] = 0;
    } else {
        cr_assert_neq(err.code, GB_OK, "event_validate returned -1 without a code");
    }
    return err;
}

/* Validates e and releases it. */
static gb_error_t validate(json_t *e, const event_refs_t *refs)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    pack_json(&pk, e);
    json_decref(e);
    gb_error_t err = validate_bytes(sb.data, sb.size, refs);
    msgpack_sbuffer_destroy(&sb);
    return err;
}

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

#define expect_ok(e, refs, ...)                                                                    \
    do {                                                                                           \
        gb_error_t r_ = validate((e), (refs));                                                     \
        cr_expect_eq(r_.code, GB_OK, "expected a pass, got %s \"%s\"", gb_code_name(r_.code),      \
                     r_.msg);                                                                      \
    } while (0)

/* Expects code and a message that starts with prefix. */
#define expect_err(e, refs, want, prefix)                                                          \
    do {                                                                                           \
        gb_error_t r_ = validate((e), (refs));                                                     \
        cr_expect_eq(r_.code, (want), "expected %s, got %s \"%s\"", gb_code_name(want),            \
                     gb_code_name(r_.code), r_.msg);                                               \
        cr_expect(starts_with(r_.msg, (prefix)), "expected a message starting \"%s\", got \"%s\"", \
                  (prefix), r_.msg);                                                               \
    } while (0)

/* ---- the spec's tables ---- */

typedef struct {
    const char *name;
    schema_kind_t kind;
    bool required;
    int64_t min, max, item_max;
    const char *values; /* enums: "a|b|c" */
    bool member_ref;
} spec_field_t;

typedef struct {
    const char *name;
    bool grid_required, followup;
    spec_field_t fields[9];
} spec_type_t;

#define FEN_MAX INT64_C(1000000000000)
#define S(n, req, lo, hi)                                                                          \
    {                                                                                              \
        n, SCHEMA_STR, req, lo, hi, 0, NULL, false                                                 \
    }
#define I(n, req)                                                                                  \
    {                                                                                              \
        n, SCHEMA_ID, req, 1, 64, 0, NULL, false                                                   \
    }
#define N(n, req, lo, hi)                                                                          \
    {                                                                                              \
        n, SCHEMA_INT, req, lo, hi, 0, NULL, false                                                 \
    }
#define T(n, req)                                                                                  \
    {                                                                                              \
        n, SCHEMA_TIME, req, SCHEMA_TIME_MIN, SCHEMA_TIME_MAX, 0, NULL, false                      \
    }
#define B(n, req)                                                                                  \
    {                                                                                              \
        n, SCHEMA_BOOL, req, 0, 1, 0, NULL, false                                                  \
    }
#define E(n, req, vals)                                                                            \
    {                                                                                              \
        n, SCHEMA_ENUM, req, 0, 0, 0, vals, false                                                  \
    }
#define SA(n, req, items, item)                                                                    \
    {                                                                                              \
        n, SCHEMA_STR_ARRAY, req, 0, items, item, NULL, false                                      \
    }
#define MA(n, req, items)                                                                          \
    {                                                                                              \
        n, SCHEMA_ID_ARRAY, req, 0, items, 64, NULL, true                                          \
    }

static const spec_type_t spec[] = {
    {"visit.logged",
     true,
     false,
     {S("household", true, 1, 64), S("summary", true, 1, 2000), SA("concerns", false, 32, 200),
      B("needs_followup", false)}},
    {"repair.requested",
     true,
     false,
     {S("household", true, 1, 64), E("category", true, "water|electric|gas|elderly_care|other"),
      E("urgency", false, "low|normal|high"), S("description", true, 1, 4000),
      B("fee_waived", false)}},
    {"patrol.issue_found",
     true,
     false,
     {E("category", true,
        "fire_hazard|public_security|city_appearance|illegal_construction|sanitation|traffic|"
        "other"),
      E("severity", true, "low|medium|high"), S("description", true, 1, 4000),
      S("photo", false, 1, 512)}},
    {"ledger.entry_submitted",
     false,
     false,
     {I("entry", true), E("direction", true, "income|expense"), N("amount_fen", true, 1, FEN_MAX),
      S("category", true, 1, 64), S("counterparty", true, 1, 200), MA("approved_by", false, 16),
      T("due", false), S("note", false, 0, 2000)}},
    {"task.accepted", false, true, {I("task", true), S("note", false, 0, 2000)}},
    {"task.progress",
     false,
     true,
     {I("task", true), S("note", true, 1, 2000), N("percent", false, 0, 100)}},
    {"task.completed",
     false,
     true,
     {I("task", true), S("outcome", true, 1, 2000), N("fee_fen", false, 0, FEN_MAX),
      N("fee_waived_fen", false, 0, FEN_MAX), S("note", false, 0, 2000)}},
    {"task.returned", false, true, {I("task", true), S("reason", true, 1, 2000)}},
    {"task.verified", false, true, {I("task", true), B("ok", true), S("note", false, 0, 2000)}},
    {"alert.acknowledged", false, true, {I("alert", true), S("note", false, 0, 2000)}},
    {"alert.resolved", false, true, {I("alert", true), S("note", false, 0, 2000)}},
};
#define NSPEC (sizeof spec / sizeof spec[0])

static const spec_type_t *spec_type(const char *name)
{
    for (size_t i = 0; i < NSPEC; i++)
        if (!strcmp(spec[i].name, name))
            return &spec[i];
    cr_assert_fail("no spec type %s", name);
    return NULL;
}

/* ---- building events ---- */

static json_t *str_of(size_t len, char c)
{
    char *s = malloc(len + 1);
    memset(s, c, len);
    s[len] = 0;
    json_t *j = json_stringn(s, len);
    free(s);
    return j;
}

static json_t *raw_str(const char *bytes, size_t len)
{
    return json_stringn_nocheck(bytes, len);
}

static char *first_enum_value(const spec_field_t *f, char *buf, size_t len)
{
    snprintf(buf, len, "%s", f->values);
    char *bar = strchr(buf, '|');
    if (bar)
        *bar = 0;
    return buf;
}

/* A valid value for f. */
static json_t *valid_value(const spec_field_t *f)
{
    char buf[200];
    switch (f->kind) {
    case SCHEMA_STR:
        return str_of(f->min > 2 ? (size_t)f->min : 2, 'x');
    case SCHEMA_ID:
        return json_string("id-1");
    case SCHEMA_INT:
        return json_integer(f->min);
    case SCHEMA_TIME:
        return json_integer(AT);
    case SCHEMA_BOOL:
        return json_true();
    case SCHEMA_ENUM:
        return json_string(first_enum_value(f, buf, sizeof buf));
    case SCHEMA_STR_ARRAY:
        return json_pack("[s]", "a concern");
    case SCHEMA_ID_ARRAY:
        return json_pack("[s]", "li.qiang");
    }
    return json_null();
}

/* The body of type t with its required fields, or every field when full. */
static json_t *body_of(const spec_type_t *t, bool full)
{
    json_t *b = json_object();
    for (const spec_field_t *f = t->fields; f->name; f++)
        if (f->required || full)
            json_object_set_new(b, f->name, valid_value(f));
    return b;
}

static json_t *event_with(const char *type, json_t *body)
{
    return json_pack("{s:i, s:s, s:s, s:I, s:s, s:s, s:s, s:o}", "v", 1, "id", "ev-1", "type", type,
                     "at", (json_int_t)AT, "by", "li.qiang", "grid", "g1", "place",
                     "Building 3, unit 2", "body", body);
}

static json_t *event_min(const char *type)
{
    return event_with(type, body_of(spec_type(type), false));
}

static json_t *event_full(const char *type)
{
    return event_with(type, body_of(spec_type(type), true));
}

static json_t *body(json_t *e)
{
    return json_object_get(e, "body");
}

/* ---- error codes ---- */

Test(event, every_code_has_a_distinct_name_that_round_trips)
{
    for (int i = 0; i < GB_E_COUNT_; i++) {
        const char *name = gb_code_name((gb_code_t)i);
        cr_assert_not_null(name);
        cr_expect_str_neq(name, "E_UNKNOWN", "code %d has no name", i);
        cr_expect(i == GB_OK ? !strcmp(name, "OK") : starts_with(name, "E_"), "code %d is named %s",
                  i, name);
        cr_expect_eq(gb_code_from_name(name, strlen(name)), i, "%s does not round-trip", name);
        for (int j = 0; j < i; j++)
            cr_expect_str_neq(name, gb_code_name((gb_code_t)j), "codes %d and %d share a name", i,
                              j);
    }
    cr_expect_eq(GB_E_COUNT_, 15, "PROTOCOL.md lists 14 error codes and OK");
}

Test(event, wire_names_are_the_documented_ones)
{
    static const char *const names[] = {
        "E_DECODE", "E_VERSION", "E_OP",       "E_SCHEMA",    "E_TYPE",      "E_MEMBER",  "E_GRID",
        "E_TASK",   "E_STATE",   "E_CONFLICT", "E_FORBIDDEN", "E_TOO_LARGE", "E_STORAGE", "E_BUSY"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        cr_expect_geq(gb_code_from_name(names[i], strlen(names[i])), 1, "%s is not a code",
                      names[i]);
}

Test(event, unknown_names_and_codes)
{
    cr_expect_eq(gb_code_from_name("E_NOPE", 6), -1);
    cr_expect_eq(gb_code_from_name("", 0), -1);
    cr_expect_eq(gb_code_from_name("E_SCHEMAX", 9), -1);
    cr_expect_eq(gb_code_from_name("E_SCHEMA", 7), -1, "a prefix of a name is not the name");
    cr_expect_eq(gb_code_from_name("e_schema", 8), -1, "names are case-sensitive");
    cr_expect_str_eq(gb_code_name(GB_E_COUNT_), "E_UNKNOWN");
    cr_expect_str_eq(gb_code_name((gb_code_t)-1), "E_UNKNOWN");
}

Test(event, error_set_returns_minus_one_and_cuts_long_messages)
{
    gb_error_t err;
    char longer[400];
    memset(longer, 'm', sizeof longer - 1);
    longer[sizeof longer - 1] = 0;
    cr_expect_eq(gb_error_set(&err, GB_E_SCHEMA, "x: %s", longer), -1);
    cr_expect_eq(err.code, GB_E_SCHEMA);
    cr_expect_eq(strlen(err.msg), GB_ERROR_MSG_MAX - 1);
    cr_expect_eq(gb_error_set(NULL, GB_E_SCHEMA, "no error object"), -1);
}

/* ---- the schema table is the spec's table ---- */

Test(event, schema_table_matches_the_spec)
{
    cr_assert_eq(schema_type_count(), (int)NSPEC, "v1 has %zu event types", NSPEC);
    for (size_t i = 0; i < NSPEC; i++) {
        const spec_type_t *want = &spec[i];
        const schema_type_t *got = &schema_types[i];
        cr_assert_str_eq(got->name, want->name, "type %zu", i);
        cr_expect_eq(schema_type_find(want->name, strlen(want->name)), got);
        cr_expect_eq(schema_type_index(got), (int)i);
        cr_expect_eq(got->grid_required, want->grid_required, "%s: grid_required", want->name);
        cr_expect_eq(got->is_followup, want->followup, "%s: is_followup", want->name);
        size_t n = 0;
        for (const spec_field_t *wf = want->fields; wf->name; wf++, n++) {
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
    cr_expect_null(schema_types[NSPEC].name);
    cr_expect_null(schema_type_find("visit", 5), "type names match whole");
    cr_expect_null(schema_type_find("visit.logged.x", 14));
}

/* ---- a valid example of every type ---- */

static bool accept_all(void *arg, const char *id, size_t len)
{
    (void)arg, (void)id, (void)len;
    return true;
}

static const event_refs_t refs_all = {accept_all, accept_all, NULL};

Test(event, each_type_has_a_valid_minimal_and_full_example)
{
    for (size_t i = 0; i < NSPEC; i++) {
        expect_ok(event_min(spec[i].name), NULL);
        cr_expect_eq(g_ev.type, &schema_types[i], "%s", spec[i].name);
        expect_ok(event_min(spec[i].name), &refs_all);
        expect_ok(event_full(spec[i].name), NULL);
        expect_ok(event_full(spec[i].name), &refs_all);
    }
}

Test(event, validation_fills_the_event_view)
{
    json_t *e = event_full("repair.requested");
    expect_ok(e, NULL);
    cr_assert_eq(g_ev.type, schema_type_find("repair.requested", 16));
    cr_expect_eq(g_ev.id.len, 4);
    cr_expect_eq(memcmp(g_ev.id.ptr, "ev-1", 4), 0);
    cr_expect_eq(g_ev.by.len, 8);
    cr_expect_eq(memcmp(g_ev.by.ptr, "li.qiang", 8), 0);
    cr_expect_eq(g_ev.grid.len, 2);
    cr_expect_eq(memcmp(g_ev.grid.ptr, "g1", 2), 0);
    cr_expect_eq(g_ev.place.len, strlen("Building 3, unit 2"));
    cr_expect_eq(g_ev.at, AT);
    cr_assert_not_null(g_ev.body);
    cr_expect_eq(g_ev.body->type, MSGPACK_OBJECT_MAP);
    cr_expect_eq(g_ev.body->via.map.size, 5);

    e = event_min("ledger.entry_submitted");
    json_object_del(e, "grid");
    json_object_del(e, "place");
    expect_ok(e, NULL);
    cr_expect_eq(g_ev.grid.len, 0, "absent grid is a zero-length view");
    cr_expect_eq(g_ev.place.len, 0);
}

/* ---- the envelope ---- */

Test(event, event_must_be_a_map)
{
    expect_err(json_pack("[i]", 1), NULL, GB_E_SCHEMA, "event: must be a map");
    expect_err(json_string("visit.logged"), NULL, GB_E_SCHEMA, "event: must be a map");
    expect_err(json_null(), NULL, GB_E_SCHEMA, "event: must be a map");
    gb_error_t err;
    cr_expect_eq(event_validate(NULL, NULL, &g_ev, &err), -1);
    cr_expect_eq(err.code, GB_E_SCHEMA);
}

Test(event, version)
{
    json_t *e = event_min("visit.logged");
    json_object_del(e, "v");
    expect_err(e, NULL, GB_E_SCHEMA, "v: required");

    e = event_min("visit.logged");
    json_object_set_new(e, "v", json_integer(2));
    expect_err(e, NULL, GB_E_VERSION, "v: version 2 is not spoken here");

    e = event_min("visit.logged");
    json_object_set_new(e, "v", json_integer(0));
    expect_err(e, NULL, GB_E_VERSION, "v: ");

    e = event_min("visit.logged");
    json_object_set_new(e, "v", json_integer(-1));
    expect_err(e, NULL, GB_E_VERSION, "v: ");

    e = event_min("visit.logged");
    json_object_set_new(e, "v", json_string("1"));
    expect_err(e, NULL, GB_E_SCHEMA, "v: must be an integer");

    e = event_min("visit.logged");
    json_object_set_new(e, "v", json_real(1.0));
    expect_err(e, NULL, GB_E_SCHEMA, "v: must be an integer");

    e = event_min("visit.logged");
    json_object_set_new(e, "v", json_true());
    expect_err(e, NULL, GB_E_SCHEMA, "v: must be an integer");
}

Test(event, type)
{
    json_t *e = event_min("visit.logged");
    json_object_del(e, "type");
    expect_err(e, NULL, GB_E_SCHEMA, "type: required");

    e = event_min("visit.logged");
    json_object_set_new(e, "type", json_integer(1));
    expect_err(e, NULL, GB_E_SCHEMA, "type: must be a string");

    e = event_min("visit.logged");
    json_object_set_new(e, "type", json_string("visit.deleted"));
    expect_err(e, NULL, GB_E_TYPE, "type: unknown event type 'visit.deleted'");

    e = event_min("visit.logged");
    json_object_set_new(e, "type", json_string("Visit.Logged"));
    expect_err(e, NULL, GB_E_TYPE, "type: ");

    e = event_min("visit.logged");
    json_object_set_new(e, "type", json_string(""));
    expect_err(e, NULL, GB_E_TYPE, "type: ");
}

Test(event, unknown_envelope_field)
{
    json_t *e = event_min("visit.logged");
    json_object_set_new(e, "extra", json_integer(1));
    expect_err(e, NULL, GB_E_SCHEMA, "extra: unknown field");

    e = event_min("visit.logged");
    json_object_set_new(e, "household", json_string("3-2-401")); /* a body field, misplaced */
    expect_err(e, NULL, GB_E_SCHEMA, "household: unknown field");

    e = event_min("visit.logged");
    json_object_set_new(e, "V", json_integer(1)); /* names are case-sensitive */
    expect_err(e, NULL, GB_E_SCHEMA, "V: unknown field");
}

/* Packs a visit.logged event by hand with one more envelope entry: key then value. */
static gb_error_t validate_with_extra_kv(void (*extra)(msgpack_packer *), const char *body_extra)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
#define KEY(s) (msgpack_pack_str(&pk, strlen(s)), msgpack_pack_str_body(&pk, s, strlen(s)))
    msgpack_pack_map(&pk, extra ? 8 : 7);
    KEY("v"), msgpack_pack_int(&pk, 1);
    KEY("id"), KEY("ev-1");
    KEY("type"), KEY("visit.logged");
    KEY("at"), msgpack_pack_int64(&pk, AT);
    KEY("by"), KEY("li.qiang");
    KEY("grid"), KEY("g1");
    KEY("body");
    msgpack_pack_map(&pk, body_extra ? 3 : 2);
    KEY("household"), KEY("3-2-401");
    KEY("summary"), KEY("weekly visit");
    if (body_extra)
        KEY(body_extra), KEY("again");
#undef KEY
    if (extra)
        extra(&pk);
    gb_error_t err = validate_bytes(sb.data, sb.size, NULL);
    msgpack_sbuffer_destroy(&sb);
    return err;
}

static void extra_dup_id(msgpack_packer *pk)
{
    msgpack_pack_str(pk, 2), msgpack_pack_str_body(pk, "id", 2);
    msgpack_pack_str(pk, 4), msgpack_pack_str_body(pk, "ev-2", 4);
}

static void extra_int_key(msgpack_packer *pk)
{
    msgpack_pack_int(pk, 7);
    msgpack_pack_int(pk, 7);
}

static void extra_bin_key(msgpack_packer *pk)
{
    msgpack_pack_bin(pk, 2), msgpack_pack_bin_body(pk, "id", 2);
    msgpack_pack_str(pk, 4), msgpack_pack_str_body(pk, "ev-2", 4);
}

Test(event, duplicate_and_non_string_keys)
{
    gb_error_t r = validate_with_extra_kv(NULL, NULL);
    cr_assert_eq(r.code, GB_OK, "the hand-packed base event must pass: %s", r.msg);

    r = validate_with_extra_kv(extra_dup_id, NULL);
    cr_expect_eq(r.code, GB_E_SCHEMA);
    cr_expect_str_eq(r.msg, "id: duplicate field");

    r = validate_with_extra_kv(NULL, "summary");
    cr_expect_eq(r.code, GB_E_SCHEMA);
    cr_expect_str_eq(r.msg, "body.summary: duplicate field");

    r = validate_with_extra_kv(extra_int_key, NULL);
    cr_expect_eq(r.code, GB_E_SCHEMA);
    cr_expect_str_eq(r.msg, "event: keys must be strings");

    r = validate_with_extra_kv(extra_bin_key, NULL);
    cr_expect_eq(r.code, GB_E_SCHEMA, "a bin key is not a string key");
    cr_expect_str_eq(r.msg, "event: keys must be strings");
}

Test(event, non_string_body_key)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    json_t *e = event_min("visit.logged");
    json_object_del(e, "body");
    /* the envelope without body, then body by hand */
    msgpack_pack_map(&pk, json_object_size(e) + 1);
    const char *k;
    json_t *v;
    json_object_foreach(e, k, v)
    {
        msgpack_pack_str(&pk, strlen(k)), msgpack_pack_str_body(&pk, k, strlen(k));
        pack_json(&pk, v);
    }
    json_decref(e);
    msgpack_pack_str(&pk, 4), msgpack_pack_str_body(&pk, "body", 4);
    msgpack_pack_map(&pk, 3);
    msgpack_pack_str(&pk, 9), msgpack_pack_str_body(&pk, "household", 9);
    msgpack_pack_str(&pk, 1), msgpack_pack_str_body(&pk, "h", 1);
    msgpack_pack_str(&pk, 7), msgpack_pack_str_body(&pk, "summary", 7);
    msgpack_pack_str(&pk, 1), msgpack_pack_str_body(&pk, "s", 1);
    msgpack_pack_int(&pk, 1), msgpack_pack_true(&pk);
    gb_error_t r = validate_bytes(sb.data, sb.size, NULL);
    msgpack_sbuffer_destroy(&sb);
    cr_expect_eq(r.code, GB_E_SCHEMA);
    cr_expect_str_eq(r.msg, "body: keys must be strings");
}

Test(event, id)
{
    static const char *const bad[] = {"", "a b", "a/b", "a+b", "a@b", "é", "a\tb", "a,b", "a\"b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *e = event_min("visit.logged");
        json_object_set_new(e, "id", json_string(bad[i]));
        expect_err(e, NULL, GB_E_SCHEMA, "id: must be 1 to 64 characters of [A-Za-z0-9._:-]");
    }
    json_t *e = event_min("visit.logged");
    json_object_set_new(e, "id", json_string("AZaz09._:-"));
    expect_ok(e, NULL);

    e = event_min("visit.logged");
    json_object_set_new(e, "id", str_of(64, 'a'));
    expect_ok(e, NULL);
    e = event_min("visit.logged");
    json_object_set_new(e, "id", str_of(65, 'a'));
    expect_err(e, NULL, GB_E_SCHEMA, "id: must be 1 to 64");

    e = event_min("visit.logged");
    json_object_set_new(e, "id", raw_str("a\0b", 3));
    expect_err(e, NULL, GB_E_SCHEMA, "id: ");

    e = event_min("visit.logged");
    json_object_set_new(e, "id", json_integer(12));
    expect_err(e, NULL, GB_E_SCHEMA, "id: must be a string");

    e = event_min("visit.logged");
    json_object_del(e, "id");
    expect_err(e, NULL, GB_E_SCHEMA, "id: required");
}

Test(event, at)
{
    json_t *e = event_min("visit.logged");
    json_object_del(e, "at");
    expect_err(e, NULL, GB_E_SCHEMA, "at: required");

    e = event_min("visit.logged");
    json_object_set_new(e, "at", json_integer(SCHEMA_TIME_MIN));
    expect_ok(e, NULL);
    e = event_min("visit.logged");
    json_object_set_new(e, "at", json_integer(SCHEMA_TIME_MAX));
    expect_ok(e, NULL);

    e = event_min("visit.logged");
    json_object_set_new(e, "at", json_integer(SCHEMA_TIME_MIN - 1));
    expect_err(e, NULL, GB_E_SCHEMA, "at: must be an integer >= 946684800000");
    e = event_min("visit.logged");
    json_object_set_new(e, "at", json_integer(AT / 1000)); /* seconds, not ms */
    expect_err(e, NULL, GB_E_SCHEMA, "at: must be an integer >= ");
    e = event_min("visit.logged");
    json_object_set_new(e, "at", json_integer(SCHEMA_TIME_MAX + 1));
    expect_err(e, NULL, GB_E_SCHEMA, "at: must be an integer <= 4102444800000");
    e = event_min("visit.logged");
    json_object_set_new(e, "at", json_integer(AT * 1000)); /* microseconds */
    expect_err(e, NULL, GB_E_SCHEMA, "at: must be an integer <= ");
    e = event_min("visit.logged");
    json_object_set_new(e, "at", json_integer(-1));
    expect_err(e, NULL, GB_E_SCHEMA, "at: must be an integer >= ");

    e = event_min("visit.logged");
    json_object_set_new(e, "at", json_string("2026-11-27T00:00:00Z"));
    expect_err(e, NULL, GB_E_SCHEMA, "at: must be an integer");
    e = event_min("visit.logged");
    json_object_set_new(e, "at", json_real((double)AT));
    expect_err(e, NULL, GB_E_SCHEMA, "at: must be an integer");
}

Test(event, at_as_u64_above_int64_is_refused)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    json_t *e = event_min("visit.logged");
    json_object_del(e, "at");
    msgpack_pack_map(&pk, json_object_size(e) + 1);
    const char *k;
    json_t *v;
    json_object_foreach(e, k, v)
    {
        msgpack_pack_str(&pk, strlen(k)), msgpack_pack_str_body(&pk, k, strlen(k));
        pack_json(&pk, v);
    }
    json_decref(e);
    msgpack_pack_str(&pk, 2), msgpack_pack_str_body(&pk, "at", 2);
    msgpack_pack_uint64(&pk, UINT64_MAX);
    gb_error_t r = validate_bytes(sb.data, sb.size, NULL);
    msgpack_sbuffer_destroy(&sb);
    cr_expect_eq(r.code, GB_E_SCHEMA);
    cr_expect_str_eq(r.msg, "at: must be an integer");
}

Test(event, by)
{
    json_t *e = event_min("visit.logged");
    json_object_del(e, "by");
    expect_err(e, NULL, GB_E_SCHEMA, "by: required");
    e = event_min("visit.logged");
    json_object_set_new(e, "by", json_string("li qiang"));
    expect_err(e, NULL, GB_E_SCHEMA, "by: must be 1 to 64 characters of [A-Za-z0-9._:-]");
    e = event_min("visit.logged");
    json_object_set_new(e, "by", json_string("李强"));
    expect_err(e, NULL, GB_E_SCHEMA, "by: must be 1 to 64 characters");
    e = event_min("visit.logged");
    json_object_set_new(e, "by", json_string(""));
    expect_err(e, NULL, GB_E_SCHEMA, "by: ");
    e = event_min("visit.logged");
    json_object_set_new(e, "by", str_of(64, 'm'));
    expect_ok(e, NULL);
    e = event_min("visit.logged");
    json_object_set_new(e, "by", str_of(65, 'm'));
    expect_err(e, NULL, GB_E_SCHEMA, "by: must be 1 to 64");
    e = event_min("visit.logged");
    json_object_set_new(e, "by", json_null());
    expect_err(e, NULL, GB_E_SCHEMA, "by: must be a string");
}

Test(event, grid_required_for_field_work_only)
{
    static const char *const need[] = {"visit.logged", "repair.requested", "patrol.issue_found"};
    for (size_t i = 0; i < 3; i++) {
        json_t *e = event_min(need[i]);
        json_object_del(e, "grid");
        char want[80];
        snprintf(want, sizeof want, "grid: required for %s", need[i]);
        expect_err(e, NULL, GB_E_SCHEMA, want);
    }
    for (size_t i = 3; i < NSPEC; i++) {
        json_t *e = event_min(spec[i].name);
        json_object_del(e, "grid");
        expect_ok(e, &refs_all);
    }
    /* when present it is checked, whatever the type */
    json_t *e = event_min("ledger.entry_submitted");
    json_object_set_new(e, "grid", json_string("g 1"));
    expect_err(e, NULL, GB_E_SCHEMA, "grid: must be 1 to 32 characters of [A-Za-z0-9._:-]");
    e = event_min("visit.logged");
    json_object_set_new(e, "grid", str_of(32, 'g'));
    expect_ok(e, NULL);
    e = event_min("visit.logged");
    json_object_set_new(e, "grid", str_of(33, 'g'));
    expect_err(e, NULL, GB_E_SCHEMA, "grid: must be 1 to 32");
    e = event_min("visit.logged");
    json_object_set_new(e, "grid", json_string(""));
    expect_err(e, NULL, GB_E_SCHEMA, "grid: ");
    e = event_min("visit.logged");
    json_object_set_new(e, "grid", json_integer(1));
    expect_err(e, NULL, GB_E_SCHEMA, "grid: must be a string");
}

Test(event, place)
{
    json_t *e = event_min("visit.logged");
    json_object_del(e, "place");
    expect_ok(e, NULL);
    e = event_min("visit.logged");
    json_object_set_new(e, "place", json_string(""));
    expect_ok(e, NULL);
    e = event_min("visit.logged");
    json_object_set_new(e, "place", str_of(200, 'p'));
    expect_ok(e, NULL);
    e = event_min("visit.logged");
    json_object_set_new(e, "place", str_of(201, 'p'));
    expect_err(e, NULL, GB_E_SCHEMA, "place: must be 0 to 200 bytes (got 201)");
    e = event_min("visit.logged");
    json_object_set_new(e, "place", json_string("岱东社区 3号楼"));
    expect_ok(e, NULL);
    e = event_min("visit.logged");
    json_object_set_new(e, "place", raw_str("\xed\xa0\x80", 3)); /* a surrogate */
    expect_err(e, NULL, GB_E_SCHEMA, "place: must be valid UTF-8");
    e = event_min("visit.logged");
    json_object_set_new(e, "place", json_integer(3));
    expect_err(e, NULL, GB_E_SCHEMA, "place: must be a string");
}

Test(event, body_presence_and_shape)
{
    json_t *e = event_min("visit.logged");
    json_object_del(e, "body");
    expect_err(e, NULL, GB_E_SCHEMA, "body: required");
    e = event_min("visit.logged");
    json_object_set_new(e, "body", json_pack("[s]", "household"));
    expect_err(e, NULL, GB_E_SCHEMA, "body: must be a map");
    e = event_min("visit.logged");
    json_object_set_new(e, "body", json_null());
    expect_err(e, NULL, GB_E_SCHEMA, "body: must be a map");
    e = event_min("visit.logged");
    json_object_set_new(body(e), "colour", json_string("red"));
    expect_err(e, NULL, GB_E_SCHEMA, "body.colour: unknown field for visit.logged");
    /* a field of another type is unknown here */
    e = event_min("visit.logged");
    json_object_set_new(body(e), "category", json_string("water"));
    expect_err(e, NULL, GB_E_SCHEMA, "body.category: unknown field for visit.logged");
    /* an empty body is a body without its required fields */
    e = event_min("task.accepted");
    json_object_set_new(e, "body", json_object());
    expect_err(e, NULL, GB_E_SCHEMA, "body.task: required for task.accepted");
}

/* ---- every field rule of every type, generated from the spec's table ---- */

typedef struct {
    const spec_type_t *t;
    const spec_field_t *f;
    int cases;
} field_run_t;

/* Sets body.F of a full event of the type to value (NULL: removes it) and checks the result:
 * code GB_OK for a pass, else the code, a message starting "body.F" + suffix_start and
 * containing rule. */
static void field_case(field_run_t *run, const char *what, json_t *value, gb_code_t want,
                       const char *suffix_start, const char *rule)
{
    json_t *e = event_full(run->t->name);
    if (value)
        json_object_set_new(body(e), run->f->name, value);
    else
        json_object_del(body(e), run->f->name);
    gb_error_t r = validate(e, &refs_all);
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
    cr_expect(starts_with(r.msg, prefix), "%s.%s, %s: message \"%s\" should start \"%s\"",
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
    const spec_field_t *f = run->f;
    char rule[80];
    snprintf(rule, sizeof rule, "must be %lld to %lld bytes", (long long)f->min, (long long)f->max);
    field_case(run, "at the minimum length", str_of((size_t)f->min, 'x'), GB_OK, NULL, NULL);
    field_case(run, "at the maximum length", str_of((size_t)f->max, 'x'), GB_OK, NULL, NULL);
    if (f->min > 0)
        field_case(run, "below the minimum", str_of((size_t)f->min - 1, 'x'), GB_E_SCHEMA, NULL,
                   rule);
    field_case(run, "above the maximum", str_of((size_t)f->max + 1, 'x'), GB_E_SCHEMA, NULL, rule);
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
    field_case(run, "overlong UTF-8", raw_str("a\xc0\xafz", 4), GB_E_SCHEMA, NULL,
               "must be valid UTF-8");
    field_case(run, "a UTF-16 surrogate", raw_str("\xed\xb0\x80", 3), GB_E_SCHEMA, NULL,
               "must be valid UTF-8");
    field_case(run, "a stray continuation byte", raw_str("ab\x80", 3), GB_E_SCHEMA, NULL,
               "must be valid UTF-8");
    field_case(run, "an integer", json_integer(7), GB_E_SCHEMA, NULL, "must be a string");
    field_case(run, "an array", json_pack("[s]", "x"), GB_E_SCHEMA, NULL, "must be a string");
}

static void id_cases(field_run_t *run)
{
    const char *rule = "must be 1 to 64 characters of [A-Za-z0-9._:-]";
    field_case(run, "one character", json_string("t"), GB_OK, NULL, NULL);
    field_case(run, "every allowed character", json_string("AZaz09._:-"), GB_OK, NULL, NULL);
    field_case(run, "64 characters", str_of(64, 'i'), GB_OK, NULL, NULL);
    field_case(run, "65 characters", str_of(65, 'i'), GB_E_SCHEMA, NULL, rule);
    field_case(run, "empty", json_string(""), GB_E_SCHEMA, NULL, rule);
    field_case(run, "a space", json_string("t 1"), GB_E_SCHEMA, NULL, rule);
    field_case(run, "a slash", json_string("t/1"), GB_E_SCHEMA, NULL, rule);
    field_case(run, "non-ASCII", json_string("任务1"), GB_E_SCHEMA, NULL, rule);
    field_case(run, "an integer", json_integer(1), GB_E_SCHEMA, NULL, "must be a string");
}

static void int_cases(field_run_t *run)
{
    const spec_field_t *f = run->f;
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
    const spec_field_t *f = run->f;
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
    field_case(run, "an item at the byte limit", json_pack("[o]", str_of((size_t)f->item_max, 'a')),
               GB_OK, NULL, NULL);
    field_case(run, "the third item too long",
               json_pack("[s,s,o]", "a", "b", str_of((size_t)f->item_max + 1, 'a')), GB_E_SCHEMA,
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
                   json_pack("[s,o]", "ok", raw_str("\xe0\x80\xaf", 3)), GB_E_SCHEMA,
                   "[1]: ", "must be valid UTF-8");
        field_case(run, "an item in Chinese", json_pack("[s]", "楼道堆物"), GB_OK, NULL, NULL);
    }
    field_case(run, "a string", json_string("a"), GB_E_SCHEMA, NULL, "must be an array");
    field_case(run, "a map", json_pack("{s:s}", "a", "b"), GB_E_SCHEMA, NULL, "must be an array");
}

static int run_type(const char *name)
{
    field_run_t run = {spec_type(name), NULL, 0};
    for (const spec_field_t *f = run.t->fields; f->name; f++) {
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
    json_t *e = event_min("ledger.entry_submitted");
    json_object_set_new(body(e), "amount_fen", json_integer(0));
    gb_error_t r = validate(e, NULL);
    cr_expect_eq(r.code, GB_E_SCHEMA);
    cr_expect_str_eq(r.msg, "body.amount_fen: must be an integer >= 1");

    e = event_min("repair.requested");
    json_object_set_new(body(e), "category", json_string("plumbing"));
    r = validate(e, NULL);
    cr_expect_str_eq(r.msg,
                     "body.category: must be one of water, electric, gas, elderly_care, other");

    e = event_min("patrol.issue_found");
    json_object_set_new(body(e), "category", json_string("x"));
    r = validate(e, NULL);
    cr_expect_str_eq(r.msg, "body.category: must be one of fire_hazard, public_security, "
                            "city_appearance, illegal_construction, sanitation, traffic, other");

    e = event_min("visit.logged");
    json_object_del(body(e), "summary");
    r = validate(e, NULL);
    cr_expect_str_eq(r.msg, "body.summary: required for visit.logged");

    e = event_min("visit.logged");
    json_object_set_new(body(e), "household", str_of(65, 'h'));
    r = validate(e, NULL);
    cr_expect_str_eq(r.msg, "body.household: must be 1 to 64 bytes (got 65)");

    e = event_min("visit.logged");
    json_object_set_new(body(e), "concerns", json_pack("[s,i]", "ok", 3));
    r = validate(e, NULL);
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
    json_t *e = event_min("visit.logged");
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    pack_json(&pk, e);
    json_decref(e);
    const msgpack_object *o = unpack(sb.data, sb.size);
    const msgpack_object *v = event_map_get(o, "by");
    cr_assert_not_null(v);
    cr_expect_eq(v->type, MSGPACK_OBJECT_STR);
    cr_expect_null(event_map_get(o, "b"));
    cr_expect_null(event_map_get(o, "byy"));
    cr_expect_null(event_map_get(NULL, "by"));
    cr_expect_null(event_map_get(v, "by"), "a string is not a map");
    msgpack_sbuffer_destroy(&sb);
}

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
    json_t *e = event_min("visit.logged");
    json_object_set_new(e, "by", json_string("wang.wu"));
    expect_err(e, &dir, GB_E_MEMBER, "by: no member 'wang.wu' in the directory");
    e = event_min("visit.logged");
    json_object_set_new(e, "by", json_string("wang.wu"));
    expect_ok(e, NULL); /* no refs: no directory checks */
    e = event_min("visit.logged");
    expect_ok(e, &dir);
}

Test(event, grid_must_exist)
{
    json_t *e = event_min("patrol.issue_found");
    json_object_set_new(e, "grid", json_string("g9"));
    expect_err(e, &dir, GB_E_GRID, "grid: no grid 'g9' in the directory");

    e = event_min("ledger.entry_submitted");
    json_object_set_new(e, "grid", json_string("g9"));
    expect_err(e, &dir, GB_E_GRID, "grid: no grid 'g9'");

    grid_calls = 0;
    e = event_min("ledger.entry_submitted");
    json_object_del(e, "grid");
    expect_ok(e, &dir);
    cr_expect_eq(grid_calls, 0, "an absent grid is not looked up");

    event_refs_t members_only = {known_member, NULL, NULL};
    e = event_min("visit.logged");
    json_object_set_new(e, "grid", json_string("g9"));
    expect_ok(e, &members_only);
}

Test(event, approved_by_items_must_be_members)
{
    json_t *e = event_min("ledger.entry_submitted");
    json_object_set_new(body(e), "approved_by",
                        json_pack("[s,s,s]", "li.qiang", "su.yuanyuan", "x"));
    expect_err(e, &dir, GB_E_MEMBER,
               "body.approved_by[1]: no member 'su.yuanyuan' in the directory");

    e = event_min("ledger.entry_submitted");
    json_object_set_new(body(e), "approved_by", json_pack("[s,s]", "li.qiang", "zhang.teng"));
    expect_ok(e, &dir);

    e = event_min("ledger.entry_submitted");
    json_object_set_new(body(e), "approved_by", json_array());
    expect_ok(e, &dir);

    event_refs_t grids_only = {NULL, known_grid, NULL};
    e = event_min("ledger.entry_submitted");
    json_object_set_new(body(e), "approved_by", json_pack("[s]", "nobody"));
    expect_ok(e, &grids_only);
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
    json_t *e = event_min("ledger.entry_submitted");
    json_object_set_new(body(e), "approved_by",
                        json_pack("[s,s,s]", "li.qiang", "li.zhen", "zhang.teng"));
    expect_ok(e, &refs);
    cr_expect_eq(n.member_calls, 4, "by and three approvers");
    cr_expect_eq(n.grid_calls, 1);
    /* nothing is looked up when the schema already refused the event */
    n = (counts_t){0, 0};
    e = event_min("visit.logged");
    json_object_del(body(e), "summary");
    expect_err(e, &refs, GB_E_SCHEMA, "body.summary: ");
    cr_expect_eq(n.member_calls + n.grid_calls, 0);
}

/* ---- which error wins ---- */

Test(event, order_of_checks)
{
    /* 1. the version before the envelope keys: a newer client learns the version is wrong */
    json_t *e = event_min("visit.logged");
    json_object_set_new(e, "v", json_integer(2));
    json_object_set_new(e, "extra", json_true());
    expect_err(e, NULL, GB_E_VERSION, "v: version 2");
    e = event_min("visit.logged");
    json_object_set_new(e, "extra", json_true());
    expect_err(e, NULL, GB_E_SCHEMA, "extra: unknown field");
    /* 2. the version before the type */
    e = event_min("visit.logged");
    json_object_set_new(e, "v", json_integer(2));
    json_object_set_new(e, "type", json_string("nope"));
    expect_err(e, NULL, GB_E_VERSION, "v: ");
    /* 3. the type before the other envelope fields */
    e = event_min("visit.logged");
    json_object_set_new(e, "type", json_string("nope"));
    json_object_del(e, "id");
    expect_err(e, NULL, GB_E_TYPE, "type: ");
    /* 4. id, at, by, grid, place in that order */
    e = event_min("visit.logged");
    json_object_set_new(e, "id", json_string("bad id"));
    json_object_set_new(e, "at", json_integer(5));
    expect_err(e, NULL, GB_E_SCHEMA, "id: ");
    e = event_min("visit.logged");
    json_object_set_new(e, "at", json_integer(5));
    json_object_set_new(e, "by", json_string("bad by"));
    expect_err(e, NULL, GB_E_SCHEMA, "at: ");
    e = event_min("visit.logged");
    json_object_set_new(e, "by", json_string("bad by"));
    json_object_del(e, "grid");
    expect_err(e, NULL, GB_E_SCHEMA, "by: ");
    e = event_min("visit.logged");
    json_object_del(e, "grid");
    json_object_set_new(e, "place", json_integer(1));
    expect_err(e, NULL, GB_E_SCHEMA, "grid: ");
    /* 5. the envelope before the body */
    e = event_min("visit.logged");
    json_object_set_new(e, "place", json_integer(1));
    json_object_del(e, "body");
    expect_err(e, NULL, GB_E_SCHEMA, "place: ");
    /* 6. in the body: keys, then unknown fields, then fields in table order */
    e = event_min("visit.logged");
    json_object_del(body(e), "household");
    json_object_set_new(body(e), "colour", json_string("red"));
    expect_err(e, NULL, GB_E_SCHEMA, "body.colour: unknown field");
    e = event_with("visit.logged",
                   json_pack("{s:i, s:i}", "summary", 1, "household", 2)); /* map order reversed */
    expect_err(e, NULL, GB_E_SCHEMA, "body.household: must be a string");
    e = event_min("visit.logged");
    json_object_del(body(e), "household");
    json_object_set_new(body(e), "summary", json_integer(1));
    expect_err(e, NULL, GB_E_SCHEMA, "body.household: required");
    /* 7. every schema rule before the directory */
    e = event_min("visit.logged");
    json_object_set_new(e, "by", json_string("wang.wu"));
    json_object_set_new(body(e), "summary", json_string(""));
    expect_err(e, &dir, GB_E_SCHEMA, "body.summary: ");
    /* 8. by, then grid, then body member references */
    e = event_min("ledger.entry_submitted");
    json_object_set_new(e, "by", json_string("wang.wu"));
    json_object_set_new(e, "grid", json_string("g9"));
    expect_err(e, &dir, GB_E_MEMBER, "by: ");
    e = event_min("ledger.entry_submitted");
    json_object_set_new(e, "grid", json_string("g9"));
    json_object_set_new(body(e), "approved_by", json_pack("[s]", "wang.wu"));
    expect_err(e, &dir, GB_E_GRID, "grid: ");
    e = event_min("ledger.entry_submitted");
    json_object_set_new(body(e), "approved_by", json_pack("[s,s]", "wang.wu", "zhao.liu"));
    expect_err(e, &dir, GB_E_MEMBER, "body.approved_by[0]: ");
}

/* ---- canonical packing ---- */

static void canon(const msgpack_object *o, msgpack_sbuffer *out)
{
    msgpack_packer pk;
    msgpack_sbuffer_clear(out);
    msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
    cr_assert_eq(event_pack_canonical(&pk, o), 0);
}

static void canon_json(json_t *e, msgpack_sbuffer *out)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    pack_json(&pk, e);
    canon(unpack(sb.data, sb.size), out);
    msgpack_sbuffer_destroy(&sb);
}

static const char *const env_keys[8] = {"v", "id", "type", "at", "by", "grid", "place", "body"};

static json_t *event_in_order(const json_t *src, const int *order, bool body_reversed)
{
    json_t *e = json_object();
    for (int i = 0; i < 8; i++) {
        const char *k = env_keys[order[i]];
        json_t *v = json_object_get(src, k);
        if (!strcmp(k, "body") && body_reversed) {
            const char *names[16];
            size_t n = 0;
            const char *bk;
            json_t *bv;
            json_object_foreach(v, bk, bv) names[n++] = bk;
            json_t *b = json_object();
            while (n--)
                json_object_set(b, names[n], json_object_get(v, names[n]));
            json_object_set_new(e, k, b);
        } else {
            json_object_set(e, k, v);
        }
    }
    return e;
}

typedef struct {
    const json_t *src;
    msgpack_sbuffer ref, got;
    long perms;
} perm_run_t;

/* Every order of order[k..7] after order[0..k-1], recursively. */
static void permute(perm_run_t *r, int *order, int k)
{
    if (k == 8) {
        json_t *e = event_in_order(r->src, order, r->perms % 2 == 1);
        canon_json(e, &r->got);
        json_decref(e);
        r->perms++;
        cr_assert_eq(r->got.size, r->ref.size, "order %ld packs to %zu bytes, not %zu", r->perms,
                     r->got.size, r->ref.size);
        cr_assert_eq(memcmp(r->got.data, r->ref.data, r->ref.size), 0, "order %ld differs",
                     r->perms);
        return;
    }
    for (int i = k; i < 8; i++) {
        int t = order[k];
        order[k] = order[i], order[i] = t;
        permute(r, order, k + 1);
        order[i] = order[k], order[k] = t;
    }
}

Test(canonical, every_key_order_packs_to_the_same_bytes)
{
    json_t *src = event_full("ledger.entry_submitted");
    perm_run_t r = {src, {0}, {0}, 0};
    msgpack_sbuffer_init(&r.ref);
    msgpack_sbuffer_init(&r.got);
    canon_json(src, &r.ref);
    int order[8] = {7, 6, 5, 4, 3, 2, 1, 0};
    /* all 8! orders of the envelope keys; every other one with the body keys reversed */
    permute(&r, order, 0);
    cr_expect_eq(r.perms, 40320, "8! orders");
    json_decref(src);
    msgpack_sbuffer_destroy(&r.ref);
    msgpack_sbuffer_destroy(&r.got);
}

Test(canonical, keys_come_out_in_byte_order_and_it_is_idempotent)
{
    json_t *e = event_full("task.completed");
    msgpack_sbuffer a, b;
    msgpack_sbuffer_init(&a);
    msgpack_sbuffer_init(&b);
    canon_json(e, &a);
    json_decref(e);
    const msgpack_object *o = unpack(a.data, a.size);
    static const char *const want[] = {"at", "body", "by", "grid", "id", "place", "type", "v"};
    cr_assert_eq(o->via.map.size, 8);
    for (uint32_t i = 0; i < 8; i++) {
        const msgpack_object *k = &o->via.map.ptr[i].key;
        cr_expect(k->via.str.size == strlen(want[i]) &&
                      !memcmp(k->via.str.ptr, want[i], k->via.str.size),
                  "key %u is %.*s, want %s", i, (int)k->via.str.size, k->via.str.ptr, want[i]);
    }
    const msgpack_object *bd = event_map_get(o, "body");
    static const char *const bwant[] = {"fee_fen", "fee_waived_fen", "note", "outcome", "task"};
    cr_assert_eq(bd->via.map.size, 5);
    for (uint32_t i = 0; i < 5; i++) {
        const msgpack_object *k = &bd->via.map.ptr[i].key;
        cr_expect(k->via.str.size == strlen(bwant[i]) &&
                      !memcmp(k->via.str.ptr, bwant[i], k->via.str.size),
                  "body key %u is %.*s, want %s", i, (int)k->via.str.size, k->via.str.ptr,
                  bwant[i]);
    }
    gb_event_t ev;
    gb_error_t err;
    cr_expect_eq(event_validate(o, NULL, &ev, &err), 0, "the canonical form validates: %s",
                 err.msg);
    canon(o, &b);
    cr_expect_eq(a.size, b.size);
    cr_expect_eq(memcmp(a.data, b.data, a.size), 0, "canonical of canonical is the same");
    msgpack_sbuffer_destroy(&a);
    msgpack_sbuffer_destroy(&b);
}

Test(canonical, integer_and_string_widths_are_normalised)
{
    /* {"at": 1795737600000 as uint64 (0xcf), "s": "ab" as str8 (0xd9)} vs minimal forms */
    static const unsigned char wide[] = {0x82, 0xa2, 'a',  't',  0xcf, 0x00, 0x00, 0x01, 0xa2, 0x0f,
                                         0x8b, 0x98, 0x00, 0xa1, 's',  0xd9, 0x02, 'a',  'b'};
    static const unsigned char signed_form[] = {0x82, 0xa1, 's',  0xa2, 'a',  'b',
                                                0xa2, 'a',  't',  0xd3, 0x00, 0x00,
                                                0x01, 0xa2, 0x0f, 0x8b, 0x98, 0x00};
    msgpack_sbuffer a, b;
    msgpack_sbuffer_init(&a);
    msgpack_sbuffer_init(&b);
    canon(unpack(wide, sizeof wide), &a);
    canon(unpack(signed_form, sizeof signed_form), &b);
    cr_expect_eq(a.size, b.size, "%zu vs %zu bytes", a.size, b.size);
    cr_expect_eq(memcmp(a.data, b.data, a.size), 0);
    cr_expect_lt(a.size, sizeof wide, "the canonical form is the smallest encoding");
    msgpack_sbuffer_destroy(&a);
    msgpack_sbuffer_destroy(&b);
}

Test(canonical, different_content_packs_differently)
{
    msgpack_sbuffer a, b;
    msgpack_sbuffer_init(&a);
    msgpack_sbuffer_init(&b);
    json_t *e = event_min("visit.logged");
    canon_json(e, &a);
    json_object_set_new(body(e), "summary", json_string("weekly visit!"));
    canon_json(e, &b);
    json_decref(e);
    cr_expect(a.size != b.size || memcmp(a.data, b.data, a.size) != 0);
    msgpack_sbuffer_destroy(&a);
    msgpack_sbuffer_destroy(&b);
}

Test(canonical, large_maps_sort_too)
{
    /* more keys than the small on-stack sort buffer */
    json_t *m = json_object();
    char k[16];
    for (int i = 99; i >= 40; i--) {
        snprintf(k, sizeof k, "k%02d", i);
        json_object_set_new(m, k, json_integer(i));
    }
    msgpack_sbuffer a;
    msgpack_sbuffer_init(&a);
    canon_json(m, &a);
    json_decref(m);
    const msgpack_object *o = unpack(a.data, a.size);
    cr_assert_eq(o->via.map.size, 60);
    for (uint32_t i = 0; i < 60; i++) {
        snprintf(k, sizeof k, "k%02u", i + 40);
        cr_expect_eq(memcmp(o->via.map.ptr[i].key.via.str.ptr, k, 3), 0);
        cr_expect_eq(o->via.map.ptr[i].val.via.u64, i + 40);
    }
    msgpack_sbuffer_destroy(&a);
}

static json_t *nest(int levels)
{
    json_t *j = json_array();
    for (int i = 1; i < levels; i++)
        j = json_pack("[o]", j);
    return j;
}

Test(canonical, nesting_limit)
{
    msgpack_sbuffer sb, out;
    msgpack_packer pk, opk;
    for (int levels = 16; levels <= 19; levels++) {
        msgpack_sbuffer_init(&sb);
        msgpack_sbuffer_init(&out);
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        msgpack_packer_init(&opk, &out, msgpack_sbuffer_write);
        json_t *j = nest(levels);
        pack_json(&pk, j);
        json_decref(j);
        int rc = event_pack_canonical(&opk, unpack(sb.data, sb.size));
        cr_expect_eq(rc, levels <= 17 ? 0 : -1, "%d levels of nesting: rc %d", levels, rc);
        msgpack_sbuffer_destroy(&sb);
        msgpack_sbuffer_destroy(&out);
    }
}

/* ---- known bug, kept visible ---- */

/* Error messages travel as msgpack str in nacks, so they must be valid UTF-8 or strict
 * decoders (Python's msgpack by default) fail on the whole reply. event.c echoes input
 * into messages with %.*s cut at 64 bytes, which splits a multi-byte character, and echoes
 * keys and type names that were never UTF-8-checked. Enable once messages are sanitised. */
Test(event, error_messages_are_valid_utf8)
{
    char type[128] = "";
    for (int i = 0; i < 30; i++)
        strcat(type, "岱"); /* 90 bytes: cut at 64 mid-character */
    json_t *e = event_min("visit.logged");
    json_object_set_new(e, "type", json_string(type));
    gb_error_t r = validate(e, NULL);
    cr_expect_eq(r.code, GB_E_TYPE);
    cr_expect(event_utf8_valid(r.msg, strlen(r.msg)), "E_TYPE message is not UTF-8: %s", r.msg);

    e = event_min("visit.logged");
    json_object_set_new_nocheck(e, "x\xff", json_true());
    r = validate(e, NULL);
    cr_expect_eq(r.code, GB_E_SCHEMA);
    cr_expect(event_utf8_valid(r.msg, strlen(r.msg)), "unknown-field message is not UTF-8");

    e = event_min("visit.logged");
    json_object_set_new(body(e), type, json_true());
    r = validate(e, NULL);
    cr_expect_eq(r.code, GB_E_SCHEMA);
    cr_expect(event_utf8_valid(r.msg, strlen(r.msg)), "unknown body field message is not UTF-8");
}
