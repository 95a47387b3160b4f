/*
 * evtest: the shared half of the test_event_*.c unit tests (see evtest.h): the spec's
 * tables, building events from them, and validating with proto's event_validate.
 */
#include "evtest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonmp.h"

/* ---- unpacking and validating ---- */

/* The last unpacked object; gb_event_t views point into it until the next unpack. */
static msgpack_unpacked g_up;
gb_event_t evt_ev;

void evt_setup(void)
{
    msgpack_unpacked_init(&g_up);
}

void evt_teardown(void)
{
    msgpack_unpacked_destroy(&g_up);
}

const msgpack_object *evt_unpack(const void *buf, size_t len)
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
gb_error_t evt_validate_bytes(const void *buf, size_t len, const event_refs_t *refs)
{
    gb_error_t err = {GB_OK, ""};
    const msgpack_object *o = evt_unpack(buf, len);
    if (event_validate(o, refs, &evt_ev, &err) == 0) {
        cr_assert_eq(err.code, GB_OK, "event_validate returned 0 but set an error");
        err.code = GB_OK, err.msg[0] = 0;
    } else {
        cr_assert_neq(err.code, GB_OK, "event_validate returned -1 without a code");
    }
    return err;
}

/* Validates e and releases it. */
gb_error_t evt_validate(json_t *e, const event_refs_t *refs)
{
    /* evt_ev's strings point into these bytes (msgpack unpacks strings in place), so they
     * are kept until the next call: tests read evt_ev after validating. */
    static msgpack_sbuffer sb;
    static bool held;
    if (held)
        msgpack_sbuffer_destroy(&sb);
    jsonmp_pack_sbuffer(e, &sb);
    held = true;
    json_decref(e);
    return evt_validate_bytes(sb.data, sb.size, refs);
}

/* ---- the spec's tables ---- */

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

const evt_spec_type_t evt_spec[] = {
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
      T("due", false), S("note", false, 0, 2000), I("settles", false)}},
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
const size_t evt_spec_count = sizeof evt_spec / sizeof evt_spec[0];

const evt_spec_type_t *evt_spec_type(const char *name)
{
    for (size_t i = 0; i < evt_spec_count; i++)
        if (!strcmp(evt_spec[i].name, name))
            return &evt_spec[i];
    cr_assert_fail("no spec type %s", name);
    return NULL;
}

/* ---- building events ---- */

json_t *evt_str_of(size_t len, char c)
{
    char *s = malloc(len + 1);
    memset(s, c, len);
    s[len] = 0;
    json_t *j = json_stringn(s, len);
    free(s);
    return j;
}

json_t *evt_raw_str(const char *bytes, size_t len)
{
    return json_stringn_nocheck(bytes, len);
}

static char *first_enum_value(const evt_spec_field_t *f, char *buf, size_t len)
{
    snprintf(buf, len, "%s", f->values);
    char *bar = strchr(buf, '|');
    if (bar)
        *bar = 0;
    return buf;
}

/* A valid value for f. */
static json_t *valid_value(const evt_spec_field_t *f)
{
    char buf[200];
    switch (f->kind) {
    case SCHEMA_STR:
        return evt_str_of(f->min > 2 ? (size_t)f->min : 2, 'x');
    case SCHEMA_ID:
        return json_string("id-1");
    case SCHEMA_INT:
        return json_integer(f->min);
    case SCHEMA_TIME:
        return json_integer(GBT_AT);
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
static json_t *body_of(const evt_spec_type_t *t, bool full)
{
    json_t *b = json_object();
    for (const evt_spec_field_t *f = t->fields; f->name; f++)
        if (f->required || full)
            json_object_set_new(b, f->name, valid_value(f));
    return b;
}

json_t *evt_event_with(const char *type, json_t *body)
{
    return json_pack("{s:i, s:s, s:s, s:I, s:s, s:s, s:s, s:o}", "v", 1, "id", "ev-1", "type", type,
                     "at", (json_int_t)GBT_AT, "by", "li.qiang", "grid", "g1", "place",
                     "Building 3, unit 2", "body", body);
}

json_t *evt_event_min(const char *type)
{
    return evt_event_with(type, body_of(evt_spec_type(type), false));
}

json_t *evt_event_full(const char *type)
{
    return evt_event_with(type, body_of(evt_spec_type(type), true));
}

json_t *evt_visit_with(const char *key, json_t *value)
{
    json_t *e = evt_event_min("visit.logged");
    if (value)
        json_object_set_new(e, key, value);
    else
        json_object_del(e, key);
    return e;
}

json_t *evt_body(json_t *e)
{
    return json_object_get(e, "body");
}

/* ---- directory callbacks ---- */

static bool accept_all(void *arg, const char *id, size_t len)
{
    (void)arg, (void)id, (void)len;
    return true;
}

const event_refs_t evt_refs_all = {accept_all, accept_all, NULL};
