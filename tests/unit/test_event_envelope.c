/*
 * test_event_envelope: the v1 event envelope as proto/PROTOCOL.md states it, against
 * proto/event.c: the error codes and their wire names, a valid example of every type, and
 * each envelope field's rules (v, id, type, at, by, grid, place, body, unknown, duplicate
 * and non-string keys), plus the UTF-8 of error messages.
 *
 * One of the test_event_*.c files (split by concern); the spec's tables, the event
 * builders and validation they share are in tests/lib/evtest.h. What JSON cannot say
 * (duplicate keys, non-string keys, wide integers) is packed by hand here.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evtest.h"
#include "jsonmp.h"

TestSuite(event, .init = evt_setup, .fini = evt_teardown);

/* ---- error codes ---- */

Test(event, every_code_has_a_distinct_name_that_round_trips)
{
    for (int i = 0; i < GB_E_COUNT_; i++) {
        const char *name = gb_code_name((gb_code_t)i);
        cr_assert_not_null(name);
        cr_expect_str_neq(name, "E_UNKNOWN", "code %d has no name", i);
        cr_expect(i == GB_OK ? !strcmp(name, "OK") : gbt_starts_with(name, "E_"),
                  "code %d is named %s", i, name);
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

/* ---- a valid example of every type ---- */

Test(event, each_type_has_a_valid_minimal_and_full_example)
{
    for (size_t i = 0; i < evt_spec_count; i++) {
        evt_expect_ok(evt_event_min(evt_spec[i].name), NULL);
        cr_expect_eq(evt_ev.type, &schema_types[i], "%s", evt_spec[i].name);
        evt_expect_ok(evt_event_min(evt_spec[i].name), &evt_refs_all);
        evt_expect_ok(evt_event_full(evt_spec[i].name), NULL);
        evt_expect_ok(evt_event_full(evt_spec[i].name), &evt_refs_all);
    }
}

Test(event, validation_fills_the_event_view)
{
    json_t *e = evt_event_full("repair.requested");
    evt_expect_ok(e, NULL);
    cr_assert_eq(evt_ev.type, schema_type_find("repair.requested", 16));
    cr_expect_eq(evt_ev.id.len, 4);
    cr_expect_eq(memcmp(evt_ev.id.ptr, "ev-1", 4), 0);
    cr_expect_eq(evt_ev.by.len, 8);
    cr_expect_eq(memcmp(evt_ev.by.ptr, "li.qiang", 8), 0);
    cr_expect_eq(evt_ev.grid.len, 2);
    cr_expect_eq(memcmp(evt_ev.grid.ptr, "g1", 2), 0);
    cr_expect_eq(evt_ev.place.len, strlen("Building 3, unit 2"));
    cr_expect_eq(evt_ev.at, GBT_AT);
    cr_assert_not_null(evt_ev.body);
    cr_expect_eq(evt_ev.body->type, MSGPACK_OBJECT_MAP);
    cr_expect_eq(evt_ev.body->via.map.size, 5);

    e = evt_event_min("ledger.entry_submitted");
    json_object_del(e, "grid");
    json_object_del(e, "place");
    evt_expect_ok(e, NULL);
    cr_expect_eq(evt_ev.grid.len, 0, "absent grid is a zero-length view");
    cr_expect_eq(evt_ev.place.len, 0);
}

/* ---- the envelope ---- */

Test(event, event_must_be_a_map)
{
    evt_expect_err(json_pack("[i]", 1), NULL, GB_E_SCHEMA, "event: must be a map");
    evt_expect_err(json_string("visit.logged"), NULL, GB_E_SCHEMA, "event: must be a map");
    evt_expect_err(json_null(), NULL, GB_E_SCHEMA, "event: must be a map");
    gb_error_t err;
    cr_expect_eq(event_validate(NULL, NULL, &evt_ev, &err), -1);
    cr_expect_eq(err.code, GB_E_SCHEMA);
}

Test(event, version)
{
    evt_expect_err(evt_visit_with("v", NULL), NULL, GB_E_SCHEMA, "v: required");

    evt_expect_err(evt_visit_with("v", json_integer(2)), NULL, GB_E_VERSION,
                   "v: version 2 is not spoken here");

    evt_expect_err(evt_visit_with("v", json_integer(0)), NULL, GB_E_VERSION, "v: ");

    evt_expect_err(evt_visit_with("v", json_integer(-1)), NULL, GB_E_VERSION, "v: ");

    evt_expect_err(evt_visit_with("v", json_string("1")), NULL, GB_E_SCHEMA,
                   "v: must be an integer");

    evt_expect_err(evt_visit_with("v", json_real(1.0)), NULL, GB_E_SCHEMA, "v: must be an integer");

    evt_expect_err(evt_visit_with("v", json_true()), NULL, GB_E_SCHEMA, "v: must be an integer");
}

Test(event, type)
{
    evt_expect_err(evt_visit_with("type", NULL), NULL, GB_E_SCHEMA, "type: required");

    evt_expect_err(evt_visit_with("type", json_integer(1)), NULL, GB_E_SCHEMA,
                   "type: must be a string");

    evt_expect_err(evt_visit_with("type", json_string("visit.deleted")), NULL, GB_E_TYPE,
                   "type: unknown event type 'visit.deleted'");

    evt_expect_err(evt_visit_with("type", json_string("Visit.Logged")), NULL, GB_E_TYPE, "type: ");

    evt_expect_err(evt_visit_with("type", json_string("")), NULL, GB_E_TYPE, "type: ");
}

Test(event, unknown_envelope_field)
{
    evt_expect_err(evt_visit_with("extra", json_integer(1)), NULL, GB_E_SCHEMA,
                   "extra: unknown field");

    /* a body field, misplaced */
    evt_expect_err(evt_visit_with("household", json_string("3-2-401")), NULL, GB_E_SCHEMA,
                   "household: unknown field");

    /* names are case-sensitive */
    evt_expect_err(evt_visit_with("V", json_integer(1)), NULL, GB_E_SCHEMA, "V: unknown field");
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
    KEY("at"), msgpack_pack_int64(&pk, GBT_AT);
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
    gb_error_t err = evt_validate_bytes(sb.data, sb.size, NULL);
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

/* Starts a minimal visit.logged event by hand in sb: a map header for its entries, then
 * every entry but `without`, whose key and value the caller packs last. */
static void pack_event_without(msgpack_sbuffer *sb, msgpack_packer *pk, const char *without)
{
    json_t *e = evt_event_min("visit.logged");
    json_object_del(e, without);
    msgpack_sbuffer_init(sb);
    msgpack_packer_init(pk, sb, msgpack_sbuffer_write);
    msgpack_pack_map(pk, json_object_size(e) + 1);
    const char *k;
    json_t *v;
    json_object_foreach(e, k, v)
    {
        msgpack_pack_str_with_body(pk, k, strlen(k));
        jsonmp_pack(pk, v);
    }
    json_decref(e);
}

Test(event, non_string_body_key)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    /* the envelope without body, then body by hand */
    pack_event_without(&sb, &pk, "body");
    msgpack_pack_str(&pk, 4), msgpack_pack_str_body(&pk, "body", 4);
    msgpack_pack_map(&pk, 3);
    msgpack_pack_str(&pk, 9), msgpack_pack_str_body(&pk, "household", 9);
    msgpack_pack_str(&pk, 1), msgpack_pack_str_body(&pk, "h", 1);
    msgpack_pack_str(&pk, 7), msgpack_pack_str_body(&pk, "summary", 7);
    msgpack_pack_str(&pk, 1), msgpack_pack_str_body(&pk, "s", 1);
    msgpack_pack_int(&pk, 1), msgpack_pack_true(&pk);
    gb_error_t r = evt_validate_bytes(sb.data, sb.size, NULL);
    msgpack_sbuffer_destroy(&sb);
    cr_expect_eq(r.code, GB_E_SCHEMA);
    cr_expect_str_eq(r.msg, "body: keys must be strings");
}

Test(event, id)
{
    static const char *const bad[] = {"", "a b", "a/b", "a+b", "a@b", "é", "a\tb", "a,b", "a\"b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        evt_expect_err(evt_visit_with("id", json_string(bad[i])), NULL, GB_E_SCHEMA,
                       "id: must be 1 to 64 characters of [A-Za-z0-9._:-]");
    }
    evt_expect_ok(evt_visit_with("id", json_string("AZaz09._:-")), NULL);

    evt_expect_ok(evt_visit_with("id", evt_str_of(64, 'a')), NULL);
    evt_expect_err(evt_visit_with("id", evt_str_of(65, 'a')), NULL, GB_E_SCHEMA,
                   "id: must be 1 to 64");

    evt_expect_err(evt_visit_with("id", evt_raw_str("a\0b", 3)), NULL, GB_E_SCHEMA, "id: ");

    evt_expect_err(evt_visit_with("id", json_integer(12)), NULL, GB_E_SCHEMA,
                   "id: must be a string");

    evt_expect_err(evt_visit_with("id", NULL), NULL, GB_E_SCHEMA, "id: required");
}

Test(event, at)
{
    evt_expect_err(evt_visit_with("at", NULL), NULL, GB_E_SCHEMA, "at: required");

    evt_expect_ok(evt_visit_with("at", json_integer(SCHEMA_TIME_MIN)), NULL);
    evt_expect_ok(evt_visit_with("at", json_integer(SCHEMA_TIME_MAX)), NULL);

    evt_expect_err(evt_visit_with("at", json_integer(SCHEMA_TIME_MIN - 1)), NULL, GB_E_SCHEMA,
                   "at: must be an integer >= 946684800000");
    /* seconds, not ms */
    evt_expect_err(evt_visit_with("at", json_integer(GBT_AT / 1000)), NULL, GB_E_SCHEMA,
                   "at: must be an integer >= ");
    evt_expect_err(evt_visit_with("at", json_integer(SCHEMA_TIME_MAX + 1)), NULL, GB_E_SCHEMA,
                   "at: must be an integer <= 4102444800000");
    /* microseconds */
    evt_expect_err(evt_visit_with("at", json_integer(GBT_AT * 1000)), NULL, GB_E_SCHEMA,
                   "at: must be an integer <= ");
    evt_expect_err(evt_visit_with("at", json_integer(-1)), NULL, GB_E_SCHEMA,
                   "at: must be an integer >= ");

    evt_expect_err(evt_visit_with("at", json_string("2026-11-27T00:00:00Z")), NULL, GB_E_SCHEMA,
                   "at: must be an integer");
    evt_expect_err(evt_visit_with("at", json_real((double)GBT_AT)), NULL, GB_E_SCHEMA,
                   "at: must be an integer");
}

Test(event, at_as_u64_above_int64_is_refused)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    pack_event_without(&sb, &pk, "at");
    msgpack_pack_str(&pk, 2), msgpack_pack_str_body(&pk, "at", 2);
    msgpack_pack_uint64(&pk, UINT64_MAX);
    gb_error_t r = evt_validate_bytes(sb.data, sb.size, NULL);
    msgpack_sbuffer_destroy(&sb);
    cr_expect_eq(r.code, GB_E_SCHEMA);
    cr_expect_str_eq(r.msg, "at: must be an integer");
}

Test(event, by)
{
    evt_expect_err(evt_visit_with("by", NULL), NULL, GB_E_SCHEMA, "by: required");
    evt_expect_err(evt_visit_with("by", json_string("li qiang")), NULL, GB_E_SCHEMA,
                   "by: must be 1 to 64 characters of [A-Za-z0-9._:-]");
    evt_expect_err(evt_visit_with("by", json_string("李强")), NULL, GB_E_SCHEMA,
                   "by: must be 1 to 64 characters");
    evt_expect_err(evt_visit_with("by", json_string("")), NULL, GB_E_SCHEMA, "by: ");
    evt_expect_ok(evt_visit_with("by", evt_str_of(64, 'm')), NULL);
    evt_expect_err(evt_visit_with("by", evt_str_of(65, 'm')), NULL, GB_E_SCHEMA,
                   "by: must be 1 to 64");
    evt_expect_err(evt_visit_with("by", json_null()), NULL, GB_E_SCHEMA, "by: must be a string");
}

Test(event, grid_required_for_field_work_only)
{
    static const char *const need[] = {"visit.logged", "repair.requested", "patrol.issue_found"};
    for (size_t i = 0; i < 3; i++) {
        json_t *e = evt_event_min(need[i]);
        json_object_del(e, "grid");
        char want[80];
        snprintf(want, sizeof want, "grid: required for %s", need[i]);
        evt_expect_err(e, NULL, GB_E_SCHEMA, want);
    }
    for (size_t i = 3; i < evt_spec_count; i++) {
        json_t *e = evt_event_min(evt_spec[i].name);
        json_object_del(e, "grid");
        evt_expect_ok(e, &evt_refs_all);
    }
    /* when present it is checked, whatever the type */
    json_t *e = evt_event_min("ledger.entry_submitted");
    json_object_set_new(e, "grid", json_string("g 1"));
    evt_expect_err(e, NULL, GB_E_SCHEMA, "grid: must be 1 to 32 characters of [A-Za-z0-9._:-]");
    evt_expect_ok(evt_visit_with("grid", evt_str_of(32, 'g')), NULL);
    evt_expect_err(evt_visit_with("grid", evt_str_of(33, 'g')), NULL, GB_E_SCHEMA,
                   "grid: must be 1 to 32");
    evt_expect_err(evt_visit_with("grid", json_string("")), NULL, GB_E_SCHEMA, "grid: ");
    evt_expect_err(evt_visit_with("grid", json_integer(1)), NULL, GB_E_SCHEMA,
                   "grid: must be a string");
}

Test(event, place)
{
    evt_expect_ok(evt_visit_with("place", NULL), NULL);
    evt_expect_ok(evt_visit_with("place", json_string("")), NULL);
    evt_expect_ok(evt_visit_with("place", evt_str_of(200, 'p')), NULL);
    evt_expect_err(evt_visit_with("place", evt_str_of(201, 'p')), NULL, GB_E_SCHEMA,
                   "place: must be 0 to 200 bytes (got 201)");
    evt_expect_ok(evt_visit_with("place", json_string("岱东社区 3号楼")), NULL);
    /* a surrogate */
    evt_expect_err(evt_visit_with("place", evt_raw_str("\xed\xa0\x80", 3)), NULL, GB_E_SCHEMA,
                   "place: must be valid UTF-8");
    evt_expect_err(evt_visit_with("place", json_integer(3)), NULL, GB_E_SCHEMA,
                   "place: must be a string");
}

Test(event, body_presence_and_shape)
{
    evt_expect_err(evt_visit_with("body", NULL), NULL, GB_E_SCHEMA, "body: required");
    evt_expect_err(evt_visit_with("body", json_pack("[s]", "household")), NULL, GB_E_SCHEMA,
                   "body: must be a map");
    evt_expect_err(evt_visit_with("body", json_null()), NULL, GB_E_SCHEMA, "body: must be a map");
    json_t *e = evt_event_min("visit.logged");
    json_object_set_new(evt_body(e), "colour", json_string("red"));
    evt_expect_err(e, NULL, GB_E_SCHEMA, "body.colour: unknown field for visit.logged");
    /* a field of another type is unknown here */
    e = evt_event_min("visit.logged");
    json_object_set_new(evt_body(e), "category", json_string("water"));
    evt_expect_err(e, NULL, GB_E_SCHEMA, "body.category: unknown field for visit.logged");
    /* an empty body is a body without its required fields */
    e = evt_event_min("task.accepted");
    json_object_set_new(e, "body", json_object());
    evt_expect_err(e, NULL, GB_E_SCHEMA, "body.task: required for task.accepted");
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
    json_t *e = evt_event_min("visit.logged");
    json_object_set_new(e, "type", json_string(type));
    gb_error_t r = evt_validate(e, NULL);
    cr_expect_eq(r.code, GB_E_TYPE);
    cr_expect(event_utf8_valid(r.msg, strlen(r.msg)), "E_TYPE message is not UTF-8: %s", r.msg);

    e = evt_event_min("visit.logged");
    json_object_set_new_nocheck(e, "x\xff", json_true());
    r = evt_validate(e, NULL);
    cr_expect_eq(r.code, GB_E_SCHEMA);
    cr_expect(event_utf8_valid(r.msg, strlen(r.msg)), "unknown-field message is not UTF-8");

    e = evt_event_min("visit.logged");
    json_object_set_new(evt_body(e), type, json_true());
    r = evt_validate(e, NULL);
    cr_expect_eq(r.code, GB_E_SCHEMA);
    cr_expect(event_utf8_valid(r.msg, strlen(r.msg)), "unknown body field message is not UTF-8");
}
