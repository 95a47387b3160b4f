/*
 * match: loading a `match:` mapping into a list of conditions, and testing events against it.
 *
 * It is its own module because routes and alert rules select events the same way, and one
 * matcher means one syntax, one set of load-time checks and one set of error messages to
 * document. Loading parses every value once (its text, and its integer and boolean readings
 * when it is a plain scalar) and checks it against the schema of the event types the matcher
 * can take, so that matching is a loop of comparisons on the msgpack body in place: no parsing,
 * no allocation per event. A matcher owns all its strings.
 */
#include "match.h"

#include <libfyaml.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema.h"
#include "yamlutil.h"

#define FIELD_NAME_MAX 64
#define SUGGEST_MAX 64 /* field names offered as "did you mean" candidates */

typedef enum { COND_EQ, COND_IN, COND_EXISTS, COND_NONEMPTY, COND_GT, COND_LT } cond_op_t;

/* A value as written in a match, with the readings a msgpack value may be compared to. */
typedef struct {
    char *text;
    size_t len;
    bool has_int, has_bool; /* plain scalars only: a quoted "1" is a string */
    int64_t i;
    bool b;
} value_t;

typedef struct {
    char *field; /* body field name; NULL for the envelope's grid */
    cond_op_t op;
    value_t *values; /* eq: 1, in: at least 1 */
    size_t nvalues;
    bool flag;     /* exists, nonempty: the answer wanted */
    int64_t bound; /* gt, lt */
} cond_t;

struct match {
    const schema_type_t **types; /* the types matched (all field types if none named) */
    size_t ntypes;
    cond_t *conds;
    size_t nconds;
    bool everything; /* loaded from NULL or {} */
};

typedef struct {
    yamlutil_ctx_t cx; /* labelled "route 'fire-hazard'": the label prefixes every error */
    const directory_t *dir;
    bool allow_followups;
    match_t *self;
} loader_t;

static const struct {
    const char *name;
    cond_op_t op;
} operators[] = {{"exists", COND_EXISTS}, {"nonempty", COND_NONEMPTY},
                 {"gt", COND_GT},         {"lt", COND_LT},
                 {"in", COND_IN},         {"eq", COND_EQ}};
#define NOPERATORS (sizeof operators / sizeof operators[0])

/* Decimal integer, optional minus sign, nothing else. */
static bool parse_int(const char *text, size_t len, int64_t *out)
{
    size_t i = text[0] == '-';
    uint64_t n = 0, limit = i ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    if (len <= i)
        return false;
    for (; i < len; i++) {
        if (text[i] < '0' || text[i] > '9')
            return false;
        unsigned d = (unsigned)(text[i] - '0');
        if (n > (limit - d) / 10)
            return false;
        n = n * 10 + d;
    }
    *out = text[0] == '-' ? (int64_t)(0 - n) : (int64_t)n;
    return true;
}

/* ---- match: types ---- */

static int add_type(loader_t *ld, struct fy_node *node)
{
    match_t *m = ld->self;
    size_t len;
    const char *text = yamlutil_scalar(node, &len);
    const schema_type_t *t = text ? schema_type_find(text, len) : NULL;
    if (yamlutil_is_null(node))
        return yamlutil_error(&ld->cx, node, "match.type: missing value");
    if (!text)
        return yamlutil_error(&ld->cx, node, "match.type: expected an event type, got %s",
                              yamlutil_kind(node));
    if (!t)
        return yamlutil_unknown(&ld->cx, node, "match.type", "event type", text, len,
                                &schema_types[0].name, (size_t)schema_type_count(),
                                sizeof schema_types[0]);
    if (t->is_followup && !ld->allow_followups)
        return yamlutil_error(
            &ld->cx, node,
            "match.type: '%s' is a follow-up: it acts on an existing task and is not "
            "routed",
            t->name);
    for (size_t i = 0; i < m->ntypes; i++)
        if (m->types[i] == t)
            return yamlutil_error(&ld->cx, node, "match.type: '%s' listed twice", t->name);
    m->types[m->ntypes++] = t;
    return 0;
}

/* The types of `type:` (a name or a list of names), or every field type when absent. */
static int load_types(loader_t *ld, struct fy_node *node)
{
    match_t *m = ld->self;
    size_t n = (size_t)schema_type_count();
    if (!(m->types = calloc(n, sizeof *m->types)))
        return yamlutil_error(&ld->cx, node, "out of memory");
    if (!node) {
        for (const schema_type_t *t = schema_types; t->name; t++)
            if (!t->is_followup)
                m->types[m->ntypes++] = t;
        return 0;
    }
    if (!yamlutil_is_sequence(node))
        return add_type(ld, node);
    if (fy_node_sequence_item_count(node) == 0)
        return yamlutil_error(&ld->cx, node, "match.type: an empty list matches nothing");
    void *iter = NULL;
    struct fy_node *item;
    while ((item = fy_node_sequence_iterate(node, &iter)) != NULL)
        if (add_type(ld, item) < 0)
            return -1;
    return 0;
}

/* ---- match: values and operators ---- */

static int get_value(loader_t *ld, struct fy_node *node, const char *what, value_t *v)
{
    if (yamlutil_is_null(node))
        return yamlutil_error(&ld->cx, node, "%s: missing value", what);
    if (yamlutil_is_mapping(node) || yamlutil_is_sequence(node) || fy_node_is_alias(node))
        return yamlutil_error(&ld->cx, node, "%s: expected a single value, got %s", what,
                              yamlutil_kind(node));
    if (yamlutil_get_text(&ld->cx, node, what, &v->text) < 0)
        return -1;
    v->len = strlen(v->text);
    if (fy_node_get_style(node) != FYNS_PLAIN)
        return 0;
    v->has_int = parse_int(v->text, v->len, &v->i);
    v->has_bool = strcmp(v->text, "true") == 0 || strcmp(v->text, "false") == 0;
    v->b = v->text[0] == 't';
    return 0;
}

static int get_values(loader_t *ld, struct fy_node *seq, const char *what, cond_t *c)
{
    if (!yamlutil_is_sequence(seq))
        return yamlutil_error(&ld->cx, seq, "%s: expected a list of values, got %s", what,
                              yamlutil_kind(seq));
    size_t n = (size_t)fy_node_sequence_item_count(seq);
    if (n == 0)
        return yamlutil_error(&ld->cx, seq, "%s: an empty list matches nothing", what);
    if (!(c->values = calloc(n, sizeof *c->values)))
        return yamlutil_error(&ld->cx, seq, "out of memory");
    void *iter = NULL;
    struct fy_node *item;
    while ((item = fy_node_sequence_iterate(seq, &iter)) != NULL)
        if (get_value(ld, item, what, &c->values[c->nvalues++]) < 0)
            return -1;
    return 0;
}

static int get_one_value(loader_t *ld, struct fy_node *node, const char *what, cond_t *c)
{
    if (!(c->values = calloc(1, sizeof *c->values)))
        return yamlutil_error(&ld->cx, node, "out of memory");
    c->nvalues = 1;
    return get_value(ld, node, what, c->values);
}

/* The index in operators[] of the operator key names, or -1 after failing. */
static int find_operator(loader_t *ld, struct fy_node *key, const char *what)
{
    size_t len;
    const char *text = yamlutil_scalar(key, &len);
    char buf[96];
    if (!text)
        return yamlutil_error(
            &ld->cx, key,
            "%s: expected an operator name as key: exists, nonempty, gt, lt, in or eq", what);
    size_t i = yamlutil_index(text, len, &operators[0].name, NOPERATORS, sizeof operators[0]);
    if (i < NOPERATORS)
        return (int)i;
    return yamlutil_error(
        &ld->cx, key, "%s: unknown operator '%.*s'%s: expected exists, nonempty, gt, lt, in or eq",
        what, (int)len, text,
        yamlutil_hint(buf, sizeof buf, text, len, &operators[0].name, NOPERATORS,
                      sizeof operators[0]));
}

/* The integer of gt and lt. */
static int get_bound(loader_t *ld, struct fy_node *node, const char *what, int64_t *out)
{
    value_t v = {0};
    int rc = get_value(ld, node, what, &v);
    if (rc == 0 && !v.has_int)
        rc = yamlutil_error(&ld->cx, node, "%s: expected an integer, got '%s'", what, v.text);
    *out = v.i;
    free(v.text);
    return rc;
}

/* {exists: B}, {nonempty: B}, {gt: N}, {lt: N}, {in: [...]} or {eq: V}. */
static int get_operator(loader_t *ld, struct fy_node *map, const char *what, cond_t *c)
{
    if (fy_node_mapping_item_count(map) != 1)
        return yamlutil_error(&ld->cx, map,
                              "%s: expected exactly one of exists, nonempty, gt, lt, in, eq", what);
    void *iter = NULL;
    struct fy_node_pair *pair = fy_node_mapping_iterate(map, &iter);
    struct fy_node *val = fy_node_pair_value(pair);
    int i = find_operator(ld, fy_node_pair_key(pair), what);
    if (i < 0)
        return -1;
    char sub[128];
    snprintf(sub, sizeof sub, "%s.%s", what, operators[i].name);
    switch (c->op = operators[i].op) {
    case COND_EXISTS:
    case COND_NONEMPTY:
        return yamlutil_get_bool(&ld->cx, val, sub, &c->flag);
    case COND_IN:
        return get_values(ld, val, sub, c);
    case COND_EQ:
        return get_one_value(ld, val, sub, c);
    case COND_GT:
    case COND_LT:
        break;
    }
    return get_bound(ld, val, sub, &c->bound);
}

/* A scalar (equality), a list (one of) or an operator mapping. */
static int get_form(loader_t *ld, struct fy_node *node, const char *what, cond_t *c)
{
    if (yamlutil_is_null(node))
        return yamlutil_error(&ld->cx, node, "%s: missing value", what);
    if (yamlutil_is_sequence(node)) {
        c->op = COND_IN;
        return get_values(ld, node, what, c);
    }
    if (yamlutil_is_mapping(node))
        return get_operator(ld, node, what, c);
    c->op = COND_EQ;
    return get_one_value(ld, node, what, c);
}

/* ---- match: checks against the schema and the directory ---- */

static bool kind_is_int(schema_kind_t k)
{
    return k == SCHEMA_INT || k == SCHEMA_TIME;
}

static bool kind_is_array(schema_kind_t k)
{
    return k == SCHEMA_STR_ARRAY || k == SCHEMA_ID_ARRAY;
}

static bool kind_has_length(schema_kind_t k)
{
    return k == SCHEMA_STR || k == SCHEMA_ID || k == SCHEMA_ENUM || kind_is_array(k);
}

static void enum_list(const schema_field_t *f, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (const char *const *v = f->values; *v && used < size; v++)
        used += (size_t)snprintf(buf + used, size - used, "%s%s", v == f->values ? "" : ", ", *v);
}

/* Whether an event could carry v in field f; if not, why into buf. */
static bool value_fits(const schema_field_t *f, const value_t *v, char *buf, size_t size)
{
    char list[200];
    switch (f->kind) {
    case SCHEMA_STR:
        if ((int64_t)v->len >= f->min && (int64_t)v->len <= f->max)
            return true;
        snprintf(buf, size, "'%s' never matches: %s is %lld to %lld bytes", v->text, f->name,
                 (long long)f->min, (long long)f->max);
        return false;
    case SCHEMA_ID:
        if (event_id_valid(v->text, v->len, (size_t)f->max))
            return true;
        snprintf(buf, size, "'%s' is not an id: expected 1 to %lld of A-Z a-z 0-9 . _ : -", v->text,
                 (long long)f->max);
        return false;
    case SCHEMA_ENUM:
        for (const char *const *e = f->values; *e; e++)
            if (strcmp(*e, v->text) == 0)
                return true;
        enum_list(f, list, sizeof list);
        snprintf(buf, size, "'%s' is not one of %s", v->text, list);
        return false;
    case SCHEMA_INT:
    case SCHEMA_TIME:
        if (v->has_int && v->i >= f->min && v->i <= f->max)
            return true;
        snprintf(buf, size, "'%s': expected an integer from %lld to %lld", v->text,
                 (long long)f->min, (long long)f->max);
        return false;
    case SCHEMA_BOOL:
        if (v->has_bool)
            return true;
        snprintf(buf, size, "'%s': expected true or false", v->text);
        return false;
    case SCHEMA_STR_ARRAY:
    case SCHEMA_ID_ARRAY:
        break;
    }
    snprintf(buf, size, "%s is a list: match it with exists or nonempty", f->name);
    return false;
}

/* Each value must fit at least one of the nf fields of that name in the matched types. */
static int check_values(loader_t *ld, struct fy_node *node, const cond_t *c,
                        const schema_field_t *const *fields, size_t nf)
{
    for (size_t i = 0; i < c->nvalues; i++) {
        char why[300] = "";
        bool fits = false;
        for (size_t k = 0; k < nf && !fits; k++)
            fits = value_fits(fields[k], &c->values[i], why, k == 0 ? sizeof why : 0);
        if (!fits) {
            struct fy_node *at =
                yamlutil_is_sequence(node) ? fy_node_sequence_get_by_index(node, (int)i) : node;
            return yamlutil_error(&ld->cx, at ? at : node, "match.%s: %s", c->field, why);
        }
    }
    return 0;
}

/* The value node of an operator mapping, or node itself. */
static struct fy_node *form_value(struct fy_node *node)
{
    void *iter = NULL;
    struct fy_node_pair *pair =
        yamlutil_is_mapping(node) ? fy_node_mapping_iterate(node, &iter) : NULL;
    return pair ? fy_node_pair_value(pair) : node;
}

static int check_body_cond(loader_t *ld, struct fy_node *node, const cond_t *c,
                           const schema_field_t *const *fields, size_t nf)
{
    bool ints = false, lengths = false;
    for (size_t k = 0; k < nf; k++) {
        ints |= kind_is_int(fields[k]->kind);
        lengths |= kind_has_length(fields[k]->kind);
    }
    const char *kind = schema_kind_name(fields[0]->kind);
    switch (c->op) {
    case COND_EXISTS:
        return 0;
    case COND_NONEMPTY:
        return lengths ? 0
                       : yamlutil_error(&ld->cx, node,
                                        "match.%s: nonempty applies to strings and lists, not %s",
                                        c->field, kind);
    case COND_GT:
    case COND_LT:
        return ints ? 0
                    : yamlutil_error(&ld->cx, node, "match.%s: %s compares integers, not %s",
                                     c->field, c->op == COND_GT ? "gt" : "lt", kind);
    case COND_EQ:
    case COND_IN:
        break;
    }
    return check_values(ld, form_value(node), c, fields, nf);
}

static int check_grid_cond(loader_t *ld, struct fy_node *node, const cond_t *c)
{
    if (c->op != COND_EQ && c->op != COND_IN && c->op != COND_EXISTS)
        return yamlutil_error(&ld->cx, node,
                              "match.grid: expected a grid id, a list of them, exists, eq or in");
    struct fy_node *vals = form_value(node);
    for (size_t i = 0; ld->dir && i < c->nvalues; i++) {
        const value_t *v = &c->values[i];
        if (!directory_grid(ld->dir, v->text, v->len)) {
            struct fy_node *at =
                yamlutil_is_sequence(vals) ? fy_node_sequence_get_by_index(vals, (int)i) : vals;
            return yamlutil_error(&ld->cx, at ? at : node, "match.grid: unknown grid '%s'",
                                  v->text);
        }
    }
    return 0;
}

/* The KIND of a "KIND 'NAME'" or "KIND #N" label: "route", "alert rule". */
static int label_kind(const char *label)
{
    size_t n = 0;
    while (label[n] && !(label[n] == ' ' && (label[n + 1] == '\'' || label[n + 1] == '#')))
        n++;
    return (int)n;
}

/* The fields called name in the matched types; 0 and an error when none has it. */
static size_t find_fields(loader_t *ld, struct fy_node *key, const char *name,
                          const schema_field_t **fields)
{
    const match_t *m = ld->self;
    size_t nf = 0, nc = 0;
    const char *cands[SUGGEST_MAX];
    for (size_t i = 0; i < m->ntypes; i++) {
        const schema_field_t *f = schema_field_find(m->types[i], name, strlen(name));
        if (f)
            fields[nf++] = f;
        for (f = m->types[i]->fields; f->name && nc < SUGGEST_MAX; f++)
            cands[nc++] = f->name;
    }
    if (nf)
        return nf;
    char buf[96];
    const char *hinted =
        yamlutil_hint(buf, sizeof buf, name, strlen(name), cands, nc, sizeof cands[0]);
    if (m->ntypes == 1)
        yamlutil_error(&ld->cx, key, "match: no field '%s' in the body of %s%s", name,
                       m->types[0]->name, hinted);
    else
        yamlutil_error(&ld->cx, key,
                       "match: no field '%s' in the body of any of the %.*s's event types%s", name,
                       label_kind(ld->cx.label), ld->cx.label, hinted);
    return 0;
}

static int load_cond(loader_t *ld, struct fy_node *key, struct fy_node *val, cond_t *c)
{
    size_t len;
    const char *text = yamlutil_scalar(key, &len);
    char what[96];
    if (!text || len == 0 || len > FIELD_NAME_MAX || memchr(text, '\0', len))
        return yamlutil_error(&ld->cx, key, "match: expected a field name as key");
    snprintf(what, sizeof what, "match.%.*s", (int)len, text);
    if (yamlutil_text_is(text, len, "grid"))
        return get_form(ld, val, what, c) < 0 ? -1 : check_grid_cond(ld, val, c);
    if (!(c->field = strndup(text, len)))
        return yamlutil_error(&ld->cx, key, "out of memory");
    const schema_field_t *fields[SUGGEST_MAX];
    size_t nf = find_fields(ld, key, c->field, fields);
    if (nf == 0 || get_form(ld, val, what, c) < 0)
        return -1;
    return check_body_cond(ld, val, c, fields, nf);
}

/* A mapping: `type`, then one condition per other key. */
static int load_map(loader_t *ld, struct fy_node *map)
{
    match_t *m = ld->self;
    if (!yamlutil_is_mapping(map))
        return yamlutil_error(&ld->cx, map, "match: expected a mapping, got %s",
                              yamlutil_kind(map));
    struct fy_node_pair *type = yamlutil_pair(map, "type");
    struct fy_node *types = type ? fy_node_pair_value(type) : NULL;
    if (type && !types)
        return yamlutil_error(&ld->cx, fy_node_pair_key(type), "match.type: missing value");
    if (load_types(ld, types) < 0)
        return -1;
    size_t n = (size_t)fy_node_mapping_item_count(map) - (type != NULL);
    m->everything = fy_node_mapping_item_count(map) == 0;
    if (!(m->conds = calloc(n ? n : 1, sizeof *m->conds)))
        return yamlutil_error(&ld->cx, map, "out of memory");
    void *iter = NULL;
    struct fy_node_pair *pair;
    while ((pair = fy_node_mapping_iterate(map, &iter)) != NULL) {
        if (pair == type)
            continue;
        cond_t *c = &m->conds[m->nconds++]; /* counted first: destroy frees it */
        if (load_cond(ld, fy_node_pair_key(pair), fy_node_pair_value(pair), c) < 0)
            return -1;
    }
    return 0;
}

match_t *match_load(struct fy_node *node, const char *file, const directory_t *dir,
                    const char *label, bool allow_followups, char *err, size_t errlen)
{
    match_t *self = calloc(1, sizeof *self);
    loader_t ld = {{file, err, errlen, label, 0}, dir, allow_followups, self};
    if (!self) {
        yamlutil_error(&ld.cx, node, "out of memory");
        return NULL;
    }
    int rc = node ? load_map(&ld, node) : load_types(&ld, NULL);
    self->everything |= node == NULL;
    if (rc < 0)
        match_destroy(&self);
    return self;
}

static void free_cond(cond_t *c)
{
    for (size_t i = 0; i < c->nvalues; i++)
        free(c->values[i].text);
    free(c->values);
    free(c->field);
}

void match_destroy(match_t **self_p)
{
    match_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->nconds; i++)
        free_cond(&self->conds[i]);
    free(self->conds);
    free(self->types);
    free(self);
    *self_p = NULL;
}

bool match_is_everything(const match_t *self)
{
    return self->everything;
}

/* ---- matching: per event, allocation-free ---- */

static bool value_eq(const value_t *v, const msgpack_object *o)
{
    switch (o->type) {
    case MSGPACK_OBJECT_STR:
        return o->via.str.size == v->len &&
               (v->len == 0 || memcmp(o->via.str.ptr, v->text, v->len) == 0);
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        return v->has_int && v->i >= 0 && o->via.u64 == (uint64_t)v->i;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        return v->has_int && o->via.i64 == v->i;
    case MSGPACK_OBJECT_BOOLEAN:
        return v->has_bool && o->via.boolean == v->b;
    default:
        return false;
    }
}

static bool any_value_eq(const cond_t *c, const msgpack_object *o)
{
    for (size_t i = 0; i < c->nvalues; i++)
        if (value_eq(&c->values[i], o))
            return true;
    return false;
}

/* -1, 0 or 1 as integer o is below, at or above n; 2 when o is no integer. */
static int int_cmp(const msgpack_object *o, int64_t n)
{
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
        if (n < 0 || o->via.u64 > (uint64_t)n)
            return 1;
        return o->via.u64 < (uint64_t)n ? -1 : 0;
    }
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        return o->via.i64 < n ? -1 : o->via.i64 > n;
    return 2;
}

static bool nonempty(const msgpack_object *o)
{
    if (!o)
        return false;
    if (o->type == MSGPACK_OBJECT_STR)
        return o->via.str.size > 0;
    if (o->type == MSGPACK_OBJECT_ARRAY)
        return o->via.array.size > 0;
    return false;
}

static bool grid_holds(const cond_t *c, gb_str_t grid)
{
    if (c->op == COND_EXISTS)
        return (grid.len > 0) == c->flag;
    for (size_t i = 0; grid.len && i < c->nvalues; i++)
        if (c->values[i].len == grid.len && memcmp(c->values[i].text, grid.ptr, grid.len) == 0)
            return true;
    return false;
}

static bool cond_holds(const cond_t *c, const gb_event_t *ev)
{
    if (!c->field)
        return grid_holds(c, ev->grid);
    const msgpack_object *v = event_map_get(ev->body, c->field);
    if (v && v->type == MSGPACK_OBJECT_NIL)
        v = NULL;
    switch (c->op) {
    case COND_EXISTS:
        return (v != NULL) == c->flag;
    case COND_NONEMPTY:
        return nonempty(v) == c->flag;
    case COND_GT:
        return v && int_cmp(v, c->bound) == 1;
    case COND_LT:
        return v && int_cmp(v, c->bound) == -1;
    case COND_EQ:
    case COND_IN:
        return v && any_value_eq(c, v);
    }
    return false;
}

bool match_takes_type(const match_t *self, const schema_type_t *type)
{
    for (size_t t = 0; t < self->ntypes; t++)
        if (self->types[t] == type)
            return true;
    return false;
}

bool match_event(const match_t *self, const gb_event_t *ev)
{
    size_t t = 0;
    while (t < self->ntypes && self->types[t] != ev->type)
        t++;
    if (t == self->ntypes)
        return false;
    for (size_t i = 0; i < self->nconds; i++)
        if (!cond_holds(&self->conds[i], ev))
            return false;
    return true;
}
