/*
 * event: validation of the v1 event envelope and its typed body, and the canonical
 * encoding under which events are stored and compared.
 *
 * Validation works on a decoded msgpack object and fills a gb_event_t whose strings
 * point into that object (no copies), so the daemon's hot path allocates nothing. The
 * first rule broken is reported with the field's path and the rule
 * ("body.amount_fen: must be an integer >= 1").
 */
#ifndef GB_EVENT_H
#define GB_EVENT_H

#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>

#include "gb_code.h"
#include "schema.h"

typedef struct {
    const char *ptr; /* not NUL-terminated */
    uint32_t len;
} gb_str_t;

typedef struct {
    const schema_type_t *type;
    gb_str_t id, by, grid, place; /* grid and place: len 0 when absent */
    int64_t at;
    const msgpack_object *body; /* a map, validated against type->fields */
} gb_event_t;

/* Directory look-ups the validator calls for member and grid references; each returns
 * true when the id exists. Either may be NULL to skip that check (clients, fuzzers). */
typedef struct {
    bool (*member)(void *arg, const char *id, size_t len);
    bool (*grid)(void *arg, const char *id, size_t len);
    void *arg;
} event_refs_t;

/* Checks obj against the v1 envelope and its type's body. Returns 0 and fills ev, or -1
 * with err set: E_SCHEMA, E_VERSION, E_TYPE, E_MEMBER or E_GRID. */
int event_validate(const msgpack_object *obj, const event_refs_t *refs, gb_event_t *ev,
                   gb_error_t *err);

/* Packs obj with every map's keys in byte order, recursively, so two encodings of the same
 * event compare equal byte for byte. Returns 0, or -1 when nesting is deeper than 16. */
int event_pack_canonical(msgpack_packer *pk, const msgpack_object *obj);

/* The value of key in map obj, or NULL when obj is not a map or has no such key. */
const msgpack_object *event_map_get(const msgpack_object *obj, const char *key);

/* True when s is len bytes of well-formed UTF-8 (no overlongs, no surrogates). */
bool event_utf8_valid(const char *s, size_t len);

/* True when s is 1..max bytes of [A-Za-z0-9._:-]. */
bool event_id_valid(const char *s, size_t len, size_t max);

#endif
