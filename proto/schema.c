/*
 * schema: the v1 event types and their body fields. PROTOCOL.md's "Event types" section
 * is this table in prose; keep the two in step.
 */
#include "schema.h"

#include <string.h>

#define END {NULL, 0, false, 0, 0, 0, NULL, 0}
#define STR(n, req, lo, hi) {n, SCHEMA_STR, req, lo, hi, 0, NULL, 0}
#define ID(n, req) {n, SCHEMA_ID, req, 1, SCHEMA_ID_MAX, 0, NULL, 0}
#define INT(n, req, lo, hi) {n, SCHEMA_INT, req, lo, hi, 0, NULL, 0}
#define TIME(n, req) {n, SCHEMA_TIME, req, SCHEMA_TIME_MIN, SCHEMA_TIME_MAX, 0, NULL, 0}
#define BOOL(n, req) {n, SCHEMA_BOOL, req, 0, 1, 0, NULL, 0}
#define ENUM(n, req, vals) {n, SCHEMA_ENUM, req, 0, 0, 0, vals, 0}
#define STRS(n, req, items, item) {n, SCHEMA_STR_ARRAY, req, 0, items, item, NULL, 0}
#define MEMBERS(n, req, items)                                                                     \
    {n, SCHEMA_ID_ARRAY, req, 0, items, SCHEMA_MEMBER_MAX, NULL, SCHEMA_MEMBER_REF}

/* The largest amount a ledger entry may carry: 10 billion yuan in fen. */
#define FEN_MAX INT64_C(1000000000000)

static const char *const repair_categories[] = {"water", "electric", "gas", "elderly_care",
                                                "other", NULL};
static const char *const urgencies[] = {"low", "normal", "high", NULL};
static const char *const patrol_categories[] = {
    "fire_hazard", "public_security", "city_appearance", "illegal_construction",
    "sanitation",  "traffic",         "other",           NULL};
static const char *const severities[] = {"low", "medium", "high", NULL};
static const char *const directions[] = {"income", "expense", NULL};

static const schema_field_t visit_logged[] = {
    STR("household", true, 1, 64),
    STR("summary", true, 1, 2000),
    STRS("concerns", false, 32, 200),
    BOOL("needs_followup", false),
    END,
};

static const schema_field_t repair_requested[] = {
    STR("household", true, 1, 64),
    ENUM("category", true, repair_categories),
    ENUM("urgency", false, urgencies),
    STR("description", true, 1, 4000),
    BOOL("fee_waived", false),
    END,
};

static const schema_field_t patrol_issue_found[] = {
    ENUM("category", true, patrol_categories),
    ENUM("severity", true, severities),
    STR("description", true, 1, 4000),
    STR("photo", false, 1, 512),
    END,
};

static const schema_field_t ledger_entry_submitted[] = {
    ID("entry", true),
    ENUM("direction", true, directions),
    INT("amount_fen", true, 1, FEN_MAX),
    STR("category", true, 1, 64),
    STR("counterparty", true, 1, 200),
    MEMBERS("approved_by", false, 16),
    TIME("due", false),
    STR("note", false, 0, 2000),
    ID("settles", false), /* the entry whose due obligation this one settles */
    END,
};

static const schema_field_t task_accepted[] = {
    ID("task", true),
    STR("note", false, 0, 2000),
    END,
};

static const schema_field_t task_progress[] = {
    ID("task", true),
    STR("note", true, 1, 2000),
    INT("percent", false, 0, 100),
    END,
};

static const schema_field_t task_completed[] = {
    ID("task", true),
    STR("outcome", true, 1, 2000),
    INT("fee_fen", false, 0, FEN_MAX),
    INT("fee_waived_fen", false, 0, FEN_MAX),
    STR("note", false, 0, 2000),
    END,
};

static const schema_field_t task_returned[] = {
    ID("task", true),
    STR("reason", true, 1, 2000),
    END,
};

static const schema_field_t task_verified[] = {
    ID("task", true),
    BOOL("ok", true),
    STR("note", false, 0, 2000),
    END,
};

static const schema_field_t alert_acknowledged[] = {
    ID("alert", true),
    STR("note", false, 0, 2000),
    END,
};

static const schema_field_t alert_resolved[] = {
    ID("alert", true),
    STR("note", false, 0, 2000),
    END,
};

const schema_type_t schema_types[] = {
    {"visit.logged", true, false, visit_logged},
    {"repair.requested", true, false, repair_requested},
    {"patrol.issue_found", true, false, patrol_issue_found},
    {"ledger.entry_submitted", false, false, ledger_entry_submitted},
    {"task.accepted", false, true, task_accepted},
    {"task.progress", false, true, task_progress},
    {"task.completed", false, true, task_completed},
    {"task.returned", false, true, task_returned},
    {"task.verified", false, true, task_verified},
    {"alert.acknowledged", false, true, alert_acknowledged},
    {"alert.resolved", false, true, alert_resolved},
    {NULL, false, false, NULL},
};

static int name_is(const char *want, const char *name, size_t len)
{
    return strlen(want) == len && memcmp(want, name, len) == 0;
}

const schema_type_t *schema_type_find(const char *name, size_t len)
{
    for (const schema_type_t *t = schema_types; t->name; t++)
        if (name_is(t->name, name, len))
            return t;
    return NULL;
}

const schema_field_t *schema_field_find(const schema_type_t *t, const char *name, size_t len)
{
    for (const schema_field_t *f = t->fields; f->name; f++)
        if (name_is(f->name, name, len))
            return f;
    return NULL;
}

int schema_type_index(const schema_type_t *t)
{
    return (int)(t - schema_types);
}

int schema_type_count(void)
{
    return (int)(sizeof schema_types / sizeof schema_types[0]) - 1;
}

const char *schema_kind_name(schema_kind_t kind)
{
    switch (kind) {
    case SCHEMA_STR:
        return "string";
    case SCHEMA_ID:
        return "id";
    case SCHEMA_INT:
        return "integer";
    case SCHEMA_TIME:
        return "time";
    case SCHEMA_BOOL:
        return "boolean";
    case SCHEMA_ENUM:
        return "enum";
    case SCHEMA_STR_ARRAY:
        return "array of strings";
    case SCHEMA_ID_ARRAY:
        return "array of ids";
    }
    return "?";
}
