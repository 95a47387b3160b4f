/*
 * evtest: what the unit tests of proto/event.c share (test_event_*.c): the spec's tables
 * of event types and body fields, events built from them, and validating an event.
 *
 * The tables are proto/PROTOCOL.md's, written out independently of proto/schema.c, so a
 * test can check that schema.c says the same thing and generate the cases of every rule
 * from the spec rather than from the code under test. Events are built as jansson objects
 * (insertion-ordered, so key order is under the test's control) and packed with
 * libgridbus's jsonmp; what JSON cannot say is packed by hand in the tests. The helpers
 * assert with Criterion, so they are for Criterion tests only.
 */
#ifndef GB_TEST_EVTEST_H
#define GB_TEST_EVTEST_H

#include <criterion/criterion.h>
#include <jansson.h>
#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "gb_code.h"
#include "gbtest.h" /* GBT_AT, the tests' field time */
#include "schema.h"

/* One body field as the spec's table gives it. */
typedef struct {
    const char *name;
    schema_kind_t kind;
    bool required;
    int64_t min, max, item_max;
    const char *values; /* enums: "a|b|c" */
    bool member_ref;
} evt_spec_field_t;

/* One event type: whether the envelope needs a grid, whether it is a follow-up, and its
 * fields in table order (ended by a NULL name). */
typedef struct {
    const char *name;
    bool grid_required, followup;
    evt_spec_field_t fields[10];
} evt_spec_type_t;

/* The spec's 11 types, in the spec's order. */
extern const evt_spec_type_t evt_spec[];
extern const size_t evt_spec_count;

/* The spec's entry for type name (asserts that there is one). */
const evt_spec_type_t *evt_spec_type(const char *name);

/* .init and .fini of the suites: the unpacked object behind evt_ev. */
void evt_setup(void);
void evt_teardown(void);

/* The view filled by the last evt_validate or evt_validate_bytes; it points into the last
 * unpacked object, valid until the next unpack. */
extern gb_event_t evt_ev;

/* Unpacks exactly one msgpack value from buf (asserts); valid until the next unpack. */
const msgpack_object *evt_unpack(const void *buf, size_t len);

/* Validates raw msgpack bytes; the returned error has code GB_OK when the event passed. */
gb_error_t evt_validate_bytes(const void *buf, size_t len, const event_refs_t *refs);

/* Validates e and releases it. */
gb_error_t evt_validate(json_t *e, const event_refs_t *refs);

/* Directory callbacks that know every member and every grid. */
extern const event_refs_t evt_refs_all;

/* A string of len bytes c. */
json_t *evt_str_of(size_t len, char c);
/* A string of exactly these bytes, UTF-8 or not. */
json_t *evt_raw_str(const char *bytes, size_t len);

/* An event of type with body (stolen): v 1, id ev-1, at GBT_AT, by li.qiang, grid g1, a
 * place. */
json_t *evt_event_with(const char *type, json_t *body);
/* The same with a valid body of the type's required fields only, or of every field. */
json_t *evt_event_min(const char *type);
json_t *evt_event_full(const char *type);
/* A minimal visit.logged event with envelope key set to value (stolen), or without key
 * when value is NULL: one rule's case in one line. */
json_t *evt_visit_with(const char *key, json_t *value);
/* e's body (borrowed). */
json_t *evt_body(json_t *e);

#define evt_expect_ok(e, refs, ...)                                                                \
    do {                                                                                           \
        gb_error_t r_ = evt_validate((e), (refs));                                                 \
        cr_expect_eq(r_.code, GB_OK, "expected a pass, got %s \"%s\"", gb_code_name(r_.code),      \
                     r_.msg);                                                                      \
    } while (0)

/* Expects code and a message that starts with prefix. */
#define evt_expect_err(e, refs, want, prefix)                                                      \
    do {                                                                                           \
        gb_error_t r_ = evt_validate((e), (refs));                                                 \
        cr_expect_eq(r_.code, (want), "expected %s, got %s \"%s\"", gb_code_name(want),            \
                     gb_code_name(r_.code), r_.msg);                                               \
        cr_expect(gbt_starts_with(r_.msg, (prefix)),                                               \
                  "expected a message starting \"%s\", got \"%s\"", (prefix), r_.msg);             \
    } while (0)

#endif
