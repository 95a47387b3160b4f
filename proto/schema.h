/*
 * schema: the event types of wire contract v1 and the rules for every field of their
 * bodies, as data.
 *
 * The validator (event.c), the CLI's key=value coercion and PROTOCOL.md's tables all
 * follow this one table, so adding a field is one line here and never a second parser.
 */
#ifndef GB_SCHEMA_H
#define GB_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    SCHEMA_STR,       /* UTF-8 string, len in [min, max] bytes */
    SCHEMA_ID,        /* string of [A-Za-z0-9._:-], len in [min, max] */
    SCHEMA_INT,       /* integer in [min, max] */
    SCHEMA_TIME,      /* integer ms since the epoch, in [SCHEMA_TIME_MIN, SCHEMA_TIME_MAX] */
    SCHEMA_BOOL,      /* true or false */
    SCHEMA_ENUM,      /* string, one of values[] */
    SCHEMA_STR_ARRAY, /* array of at most max strings, each 1..item_max bytes */
    SCHEMA_ID_ARRAY,  /* array of at most max ids, each 1..item_max bytes */
} schema_kind_t;

/* 2000-01-01T00:00:00Z and 2100-01-01T00:00:00Z: a time outside is a unit mistake
 * (seconds for milliseconds) rather than a real field time. */
#define SCHEMA_TIME_MIN INT64_C(946684800000)
#define SCHEMA_TIME_MAX INT64_C(4102444800000)

/* Fields whose value names a member are checked against the directory. */
#define SCHEMA_MEMBER_REF 0x1

typedef struct {
    const char *name;
    schema_kind_t kind;
    bool required;
    int64_t min, max;          /* bytes for strings and ids, value for ints, items for arrays */
    int64_t item_max;          /* arrays: the byte limit of one item */
    const char *const *values; /* enums: NULL-terminated list */
    unsigned flags;            /* SCHEMA_MEMBER_REF */
} schema_field_t;

typedef struct {
    const char *name;             /* "repair.requested" */
    bool grid_required;           /* the envelope's grid must be present */
    bool is_followup;             /* acts on an existing task or alert */
    const schema_field_t *fields; /* terminated by a field with name NULL */
} schema_type_t;

/* The envelope limits, shared by validator and clients. */
#define SCHEMA_VERSION 1
#define SCHEMA_ID_MAX 64
#define SCHEMA_MEMBER_MAX 64
#define SCHEMA_GRID_MAX 32
#define SCHEMA_PLACE_MAX 200

/* All v1 types, terminated by an entry with name NULL. */
extern const schema_type_t schema_types[];

/* The type called name (len bytes), or NULL. */
const schema_type_t *schema_type_find(const char *name, size_t len);

/* The field of t called name (len bytes), or NULL. */
const schema_field_t *schema_field_find(const schema_type_t *t, const char *name, size_t len);

/* Index of t in schema_types, for per-type counters. */
int schema_type_index(const schema_type_t *t);

/* Number of entries in schema_types. */
int schema_type_count(void);

/* "string", "integer", ... for messages and docs. */
const char *schema_kind_name(schema_kind_t kind);

#endif
