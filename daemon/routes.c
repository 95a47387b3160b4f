/*
 * routes: loading the `routes:` list of the directory, matching events against it, and
 * picking the assignee of a task.
 *
 * Loading turns each route's `match:` mapping into a list of conditions, every value parsed
 * once (its text, and its integer and boolean readings when it is a plain scalar) and checked
 * against the schema of the event types the route can match, so that matching is a loop of
 * comparisons on the msgpack body in place: no parsing, no allocation per event. Routes own
 * all their strings, so they do not depend on the YAML document or the directory they were
 * loaded with; role names point at directory_roles' static list.
 */
#include "routes.h"

#include <libfyaml.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema.h"
#include "yamlutil.h"

#define ROUTE_NAME_MAX 64
#define DURATION_DIGITS_MAX 6
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

typedef struct {
    route_t pub;                 /* first: the public view handed out */
    const schema_type_t **types; /* the types the route matches (all field types if none named) */
    size_t ntypes;
    cond_t *conds;
    size_t nconds;
} route_rec_t;

struct routes {
    route_rec_t *recs;
    size_t n;
};

typedef struct {
    const char *file;
    const directory_t *dir;
    char *err;
    size_t errlen;
    routes_t *self;
    char label[96]; /* "route 'fire-hazard'", or "route #3" before the name is known */
} loader_t;

typedef struct {
    const char *name;
    struct fy_node *node; /* set by get_fields; NULL when absent */
} field_t;

static const struct {
    const char *name;
    cond_op_t op;
} operators[] = {{"exists", COND_EXISTS}, {"nonempty", COND_NONEMPTY},
                 {"gt", COND_GT},         {"lt", COND_LT},
                 {"in", COND_IN},         {"eq", COND_EQ}};
#define NOPERATORS (sizeof operators / sizeof operators[0])

/* "LABEL: message" at node, then -1. */
__attribute__((format(printf, 3, 4))) static int fail(loader_t *ld, struct fy_node *node,
                                                      const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return yamlutil_fail(ld->file, node, ld->err, ld->errlen, "%s: %s", ld->label, msg);
}

/* " (did you mean 'x'?)" or "", for an unknown name of len bytes among n candidates. */
static const char *hint(char *buf, size_t size, const char *text, size_t len,
                        const char *const *first, size_t n, size_t stride)
{
    char word[64];
    snprintf(word, sizeof word, "%.*s", (int)(len < sizeof word ? len : sizeof word - 1), text);
    const char *best = yamlutil_suggest(word, first, n, stride);
    if (!best)
        return "";
    snprintf(buf, size, " (did you mean '%s'?)", best);
    return buf;
}

static bool text_is(const char *text, size_t len, const char *want)
{
    return text && strlen(want) == len && memcmp(text, want, len) == 0;
}

/* ---- YAML helpers ---- */

static bool is_mapping(struct fy_node *node)
{
    return node && !fy_node_is_alias(node) && fy_node_is_mapping(node);
}

static bool is_sequence(struct fy_node *node)
{
    return node && !fy_node_is_alias(node) && fy_node_is_sequence(node);
}

/* The pair of map whose key is the scalar key, or NULL. */
static struct fy_node_pair *map_pair(struct fy_node *map, const char *key)
{
    void *iter = NULL;
    struct fy_node_pair *pair;
    while (is_mapping(map) && (pair = fy_node_mapping_iterate(map, &iter)) != NULL) {
        size_t len;
        const char *text = yamlutil_scalar(fy_node_pair_key(pair), &len);
        if (text_is(text, len, key))
            return pair;
    }
    return NULL;
}

/* Matches the keys of map against fields; an unknown key is an error. */
static int get_fields(loader_t *ld, struct fy_node *map, field_t *fields, size_t n)
{
    if (!is_mapping(map))
        return fail(ld, map, "expected a mapping, got %s", yamlutil_kind(map));
    void *iter = NULL;
    struct fy_node_pair *pair;
    while ((pair = fy_node_mapping_iterate(map, &iter)) != NULL) {
        struct fy_node *key = fy_node_pair_key(pair);
        size_t len, i;
        const char *text = yamlutil_scalar(key, &len);
        for (i = 0; text && i < n; i++)
            if (text_is(text, len, fields[i].name))
                break;
        char buf[96];
        if (!text || i == n)
            return fail(
                ld, key, "unknown key '%.*s'%s", text ? (int)len : 0, text ? text : "",
                hint(buf, sizeof buf, text ? text : "", len, &fields[0].name, n, sizeof fields[0]));
        fields[i].node = fy_node_pair_value(pair);
    }
    return 0;
}

/* A plain true or false; what names the key in messages. */
static int get_bool(loader_t *ld, struct fy_node *node, const char *what, bool *out)
{
    size_t len;
    const char *text = yamlutil_scalar(node, &len);
    bool plain = text && fy_node_get_style(node) == FYNS_PLAIN;
    if (plain && (text_is(text, len, "true") || text_is(text, len, "false"))) {
        *out = text[0] == 't';
        return 0;
    }
    if (yamlutil_is_null(node))
        return fail(ld, node, "%s: missing value", what);
    return fail(ld, node, "%s: bad boolean '%.*s': expected true or false", what,
                text ? (int)len : 0, text ? text : "");
}

/* A malloc'ed copy of a non-empty single value. */
static int get_text(loader_t *ld, struct fy_node *node, const char *what, char **out)
{
    const char *why;
    *out = NULL;
    if (yamlutil_is_null(node))
        return fail(ld, node, "%s: missing value", what);
    if (!(*out = yamlutil_strdup(node, &why)))
        return fail(ld, node, "%s: %s, got %s", what, why, yamlutil_kind(node));
    if (**out == '\0')
        return fail(ld, node, "%s: missing value", what);
    return 0;
}

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

/* ---- roles and durations ---- */

/* The static name of the role written in node, or NULL after failing. */
static const char *get_role(loader_t *ld, struct fy_node *node, const char *what)
{
    size_t n, len;
    const char *const *roles = directory_roles(&n);
    const char *text = yamlutil_scalar(node, &len);
    if (yamlutil_is_null(node)) {
        fail(ld, node, "%s: missing value", what);
        return NULL;
    }
    for (size_t i = 0; text && i < n; i++)
        if (text_is(text, len, roles[i]))
            return roles[i];
    char buf[96];
    if (!text)
        fail(ld, node, "%s: expected a role name, got %s", what, yamlutil_kind(node));
    else
        fail(ld, node, "%s: unknown role '%.*s'%s", what, (int)len, text,
             hint(buf, sizeof buf, text, len, roles, n, sizeof roles[0]));
    return NULL;
}

/* Digits followed by d, h or m, combinable in that order ("1d", "2h", "1h30m"), not zero. */
static bool duration_valid(const char *s)
{
    static const char units[] = "dhm";
    size_t next = 0;
    bool nonzero = false;
    if (!*s)
        return false;
    while (*s) {
        size_t digits = 0;
        for (; *s >= '0' && *s <= '9'; s++, digits++)
            nonzero |= *s != '0';
        const char *unit = *s ? strchr(units + next, *s) : NULL;
        if (digits == 0 || digits > DURATION_DIGITS_MAX || !unit)
            return false;
        next = (size_t)(unit - units) + 1;
        s++;
    }
    return nonzero;
}

static int get_duration(loader_t *ld, struct fy_node *node, const char *what, const char **out)
{
    char *text;
    int rc = get_text(ld, node, what, &text);
    *out = text;
    if (rc == 0 && !duration_valid(text))
        return fail(ld, node,
                    "%s: bad duration '%s': expected digits followed by d, h or m, in that order "
                    "and not zero (e.g. 30m, 4h, 2d, 1h30m)",
                    what, text);
    return rc;
}

static int get_fallback(loader_t *ld, struct fy_node *seq, route_t *r)
{
    if (yamlutil_is_null(seq))
        return 0;
    if (!is_sequence(seq))
        return fail(ld, seq, "fallback: expected a list of roles, got %s", yamlutil_kind(seq));
    size_t n = (size_t)fy_node_sequence_item_count(seq);
    const char **out = calloc(n ? n : 1, sizeof *out);
    if (!(r->fallback = out))
        return fail(ld, seq, "out of memory");
    void *iter = NULL;
    struct fy_node *item;
    while ((item = fy_node_sequence_iterate(seq, &iter)) != NULL) {
        const char *role = get_role(ld, item, "fallback");
        if (!role)
            return -1;
        if (role == r->role)
            return fail(ld, item, "fallback: '%s' is the route's own role", role);
        for (size_t i = 0; i < r->nfallback; i++)
            if (out[i] == role)
                return fail(ld, item, "fallback: role '%s' listed twice", role);
        out[r->nfallback++] = role;
    }
    return 0;
}

/* ---- match: types ---- */

static int add_type(loader_t *ld, route_rec_t *rec, struct fy_node *node)
{
    size_t len;
    const char *text = yamlutil_scalar(node, &len);
    const schema_type_t *t = text ? schema_type_find(text, len) : NULL;
    char buf[96];
    if (yamlutil_is_null(node))
        return fail(ld, node, "match.type: missing value");
    if (!text)
        return fail(ld, node, "match.type: expected an event type, got %s", yamlutil_kind(node));
    if (!t)
        return fail(ld, node, "match.type: unknown event type '%.*s'%s", (int)len, text,
                    hint(buf, sizeof buf, text, len, &schema_types[0].name,
                         (size_t)schema_type_count(), sizeof schema_types[0]));
    if (t->is_followup)
        return fail(ld, node,
                    "match.type: '%s' is a follow-up: it acts on an existing task and is not "
                    "routed",
                    t->name);
    for (size_t i = 0; i < rec->ntypes; i++)
        if (rec->types[i] == t)
            return fail(ld, node, "match.type: '%s' listed twice", t->name);
    rec->types[rec->ntypes++] = t;
    return 0;
}

/* The types of `type:` (a name or a list of names), or every field type when absent. */
static int load_types(loader_t *ld, struct fy_node *node, route_rec_t *rec)
{
    size_t n = (size_t)schema_type_count();
    if (!(rec->types = calloc(n, sizeof *rec->types)))
        return fail(ld, node, "out of memory");
    if (!node) {
        for (const schema_type_t *t = schema_types; t->name; t++)
            if (!t->is_followup)
                rec->types[rec->ntypes++] = t;
        return 0;
    }
    if (!is_sequence(node))
        return add_type(ld, rec, node);
    if (fy_node_sequence_item_count(node) == 0)
        return fail(ld, node, "match.type: an empty list matches nothing");
    void *iter = NULL;
    struct fy_node *item;
    while ((item = fy_node_sequence_iterate(node, &iter)) != NULL)
        if (add_type(ld, rec, item) < 0)
            return -1;
    return 0;
}

/* ---- match: values and operators ---- */

static int get_value(loader_t *ld, struct fy_node *node, const char *what, value_t *v)
{
    if (yamlutil_is_null(node))
        return fail(ld, node, "%s: missing value", what);
    if (is_mapping(node) || is_sequence(node) || fy_node_is_alias(node))
        return fail(ld, node, "%s: expected a single value, got %s", what, yamlutil_kind(node));
    if (get_text(ld, node, what, &v->text) < 0)
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
    if (!is_sequence(seq))
        return fail(ld, seq, "%s: expected a list of values, got %s", what, yamlutil_kind(seq));
    size_t n = (size_t)fy_node_sequence_item_count(seq);
    if (n == 0)
        return fail(ld, seq, "%s: an empty list matches nothing", what);
    if (!(c->values = calloc(n, sizeof *c->values)))
        return fail(ld, seq, "out of memory");
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
        return fail(ld, node, "out of memory");
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
        return fail(ld, key,
                    "%s: expected an operator name as key: exists, nonempty, gt, lt, in or eq",
                    what);
    for (size_t i = 0; i < NOPERATORS; i++)
        if (text_is(text, len, operators[i].name))
            return (int)i;
    return fail(
        ld, key, "%s: unknown operator '%.*s'%s: expected exists, nonempty, gt, lt, in or eq", what,
        (int)len, text,
        hint(buf, sizeof buf, text, len, &operators[0].name, NOPERATORS, sizeof operators[0]));
}

/* The integer of gt and lt. */
static int get_bound(loader_t *ld, struct fy_node *node, const char *what, int64_t *out)
{
    value_t v = {0};
    int rc = get_value(ld, node, what, &v);
    if (rc == 0 && !v.has_int)
        rc = fail(ld, node, "%s: expected an integer, got '%s'", what, v.text);
    *out = v.i;
    free(v.text);
    return rc;
}

/* {exists: B}, {nonempty: B}, {gt: N}, {lt: N}, {in: [...]} or {eq: V}. */
static int get_operator(loader_t *ld, struct fy_node *map, const char *what, cond_t *c)
{
    if (fy_node_mapping_item_count(map) != 1)
        return fail(ld, map, "%s: expected exactly one of exists, nonempty, gt, lt, in, eq", what);
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
        return get_bool(ld, val, sub, &c->flag);
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
        return fail(ld, node, "%s: missing value", what);
    if (is_sequence(node)) {
        c->op = COND_IN;
        return get_values(ld, node, what, c);
    }
    if (is_mapping(node))
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

/* Each value must fit at least one of the nf fields of that name in the route's types. */
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
                is_sequence(node) ? fy_node_sequence_get_by_index(node, (int)i) : node;
            return fail(ld, at ? at : node, "match.%s: %s", c->field, why);
        }
    }
    return 0;
}

/* The value node of an operator mapping, or node itself. */
static struct fy_node *form_value(struct fy_node *node)
{
    void *iter = NULL;
    struct fy_node_pair *pair = is_mapping(node) ? fy_node_mapping_iterate(node, &iter) : NULL;
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
                       : fail(ld, node, "match.%s: nonempty applies to strings and lists, not %s",
                              c->field, kind);
    case COND_GT:
    case COND_LT:
        return ints ? 0
                    : fail(ld, node, "match.%s: %s compares integers, not %s", c->field,
                           c->op == COND_GT ? "gt" : "lt", kind);
    case COND_EQ:
    case COND_IN:
        break;
    }
    return check_values(ld, form_value(node), c, fields, nf);
}

static int check_grid_cond(loader_t *ld, struct fy_node *node, const cond_t *c)
{
    if (c->op != COND_EQ && c->op != COND_IN && c->op != COND_EXISTS)
        return fail(ld, node, "match.grid: expected a grid id, a list of them, exists, eq or in");
    struct fy_node *vals = form_value(node);
    for (size_t i = 0; ld->dir && i < c->nvalues; i++) {
        const value_t *v = &c->values[i];
        if (!directory_grid(ld->dir, v->text, v->len)) {
            struct fy_node *at =
                is_sequence(vals) ? fy_node_sequence_get_by_index(vals, (int)i) : vals;
            return fail(ld, at ? at : node, "match.grid: unknown grid '%s'", v->text);
        }
    }
    return 0;
}

/* The fields called name in the route's types; 0 and an error when none has it. */
static size_t find_fields(loader_t *ld, struct fy_node *key, const route_rec_t *rec,
                          const char *name, const schema_field_t **fields)
{
    size_t nf = 0, nc = 0;
    const char *cands[SUGGEST_MAX];
    for (size_t i = 0; i < rec->ntypes; i++) {
        const schema_field_t *f = schema_field_find(rec->types[i], name, strlen(name));
        if (f)
            fields[nf++] = f;
        for (f = rec->types[i]->fields; f->name && nc < SUGGEST_MAX; f++)
            cands[nc++] = f->name;
    }
    if (nf)
        return nf;
    char buf[96];
    const char *of = rec->ntypes == 1 ? rec->types[0]->name : "any of the route's event types";
    fail(ld, key, "match: no field '%s' in the body of %s%s", name, of,
         hint(buf, sizeof buf, name, strlen(name), cands, nc, sizeof cands[0]));
    return 0;
}

static int load_cond(loader_t *ld, struct fy_node *key, struct fy_node *val, route_rec_t *rec,
                     cond_t *c)
{
    size_t len;
    const char *text = yamlutil_scalar(key, &len);
    char what[96];
    if (!text || len == 0 || len > ROUTE_NAME_MAX || memchr(text, '\0', len))
        return fail(ld, key, "match: expected a field name as key");
    snprintf(what, sizeof what, "match.%.*s", (int)len, text);
    if (text_is(text, len, "grid"))
        return get_form(ld, val, what, c) < 0 ? -1 : check_grid_cond(ld, val, c);
    if (!(c->field = strndup(text, len)))
        return fail(ld, key, "out of memory");
    const schema_field_t *fields[SUGGEST_MAX];
    size_t nf = find_fields(ld, key, rec, c->field, fields);
    if (nf == 0 || get_form(ld, val, what, c) < 0)
        return -1;
    return check_body_cond(ld, val, c, fields, nf);
}

/* match: {} (or default: true) is the default; otherwise type and conditions. */
static int load_match(loader_t *ld, struct fy_node *item, struct fy_node *map, route_rec_t *rec)
{
    if (!map)
        return fail(ld, item, "missing 'match' (the default route has match: {} or default: true)");
    if (!is_mapping(map))
        return fail(ld, map, "match: expected a mapping, got %s", yamlutil_kind(map));
    struct fy_node_pair *type = map_pair(map, "type");
    struct fy_node *types = type ? fy_node_pair_value(type) : NULL;
    if (type && !types)
        return fail(ld, fy_node_pair_key(type), "match.type: missing value");
    if (load_types(ld, types, rec) < 0)
        return -1;
    size_t n = (size_t)fy_node_mapping_item_count(map) - (type != NULL);
    rec->pub.is_default = fy_node_mapping_item_count(map) == 0;
    if (!(rec->conds = calloc(n ? n : 1, sizeof *rec->conds)))
        return fail(ld, map, "out of memory");
    void *iter = NULL;
    struct fy_node_pair *pair;
    while ((pair = fy_node_mapping_iterate(map, &iter)) != NULL) {
        if (pair == type)
            continue;
        cond_t *c = &rec->conds[rec->nconds++]; /* counted first: destroy frees it */
        if (load_cond(ld, fy_node_pair_key(pair), fy_node_pair_value(pair), rec, c) < 0)
            return -1;
    }
    return 0;
}

/* ---- routes ---- */

enum { F_NAME, F_MATCH, F_DEFAULT, F_TASK, F_ROLE, F_FALLBACK, F_ACCEPT, F_COMPLETE, F_COUNT };

static void set_label(loader_t *ld, struct fy_node *item, size_t index)
{
    size_t len;
    struct fy_node_pair *name = map_pair(item, "name");
    const char *text = name ? yamlutil_scalar(fy_node_pair_value(name), &len) : NULL;
    if (text && event_id_valid(text, len, ROUTE_NAME_MAX))
        snprintf(ld->label, sizeof ld->label, "route '%.*s'", (int)len, text);
    else
        snprintf(ld->label, sizeof ld->label, "route #%zu", index + 1);
}

static int load_name(loader_t *ld, struct fy_node *item, struct fy_node *node, route_rec_t *rec)
{
    char *name;
    if (!node)
        return fail(ld, item, "missing 'name'");
    int rc = get_text(ld, node, "name", &name);
    rec->pub.name = name; /* owned even when refused, so destroy frees it */
    if (rc < 0)
        return -1;
    if (!event_id_valid(name, strlen(name), ROUTE_NAME_MAX))
        return fail(ld, node, "bad name '%s': expected 1 to %d of A-Z a-z 0-9 . _ : -", name,
                    ROUTE_NAME_MAX);
    for (const route_rec_t *r = ld->self->recs; r < rec; r++)
        if (strcmp(r->pub.name, name) == 0)
            return yamlutil_fail(ld->file, node, ld->err, ld->errlen,
                                 "duplicate route name '%s' (first defined at line %d)", name,
                                 r->pub.line);
    return 0;
}

/* role, fallback and deadlines; a `task: false` route takes none of them. */
static int load_owner(loader_t *ld, struct fy_node *item, field_t *f, route_rec_t *rec)
{
    route_t *r = &rec->pub;
    r->creates_task = true;
    if (f[F_TASK].node && get_bool(ld, f[F_TASK].node, "task", &r->creates_task) < 0)
        return -1;
    if (!r->creates_task) {
        for (int i = F_ROLE; i <= F_COMPLETE; i++)
            if (f[i].node)
                return fail(ld, f[i].node, "'%s' has no use in a route with task: false",
                            f[i].name);
        return 0;
    }
    if (!f[F_ROLE].node)
        return fail(ld, item, "missing 'role' (or task: false for a route that creates no task)");
    if (!(r->role = get_role(ld, f[F_ROLE].node, "role")) ||
        get_fallback(ld, f[F_FALLBACK].node, r) < 0)
        return -1;
    if (f[F_ACCEPT].node &&
        get_duration(ld, f[F_ACCEPT].node, "accept_within", &r->accept_within) < 0)
        return -1;
    if (f[F_COMPLETE].node &&
        get_duration(ld, f[F_COMPLETE].node, "complete_within", &r->complete_within) < 0)
        return -1;
    return 0;
}

/* `default: true` says match-everything in words (match then says nothing more); otherwise
 * `match` says what the route takes. */
static int load_matching(loader_t *ld, struct fy_node *item, field_t *f, route_rec_t *rec)
{
    bool dflt = false;
    struct fy_node *match = f[F_MATCH].node;
    if (f[F_DEFAULT].node && get_bool(ld, f[F_DEFAULT].node, "default", &dflt) < 0)
        return -1;
    if (!dflt)
        return load_match(ld, item, match, rec);
    if (match && !yamlutil_is_null(match) &&
        !(is_mapping(match) && fy_node_mapping_item_count(match) == 0))
        return fail(ld, match, "default: true matches every event: leave 'match' out or empty");
    rec->pub.is_default = true;
    return load_types(ld, NULL, rec);
}

static int load_route(loader_t *ld, struct fy_node *item, route_rec_t *rec, size_t index)
{
    field_t f[F_COUNT] = {{"name"}, {"match"},    {"default"},       {"task"},
                          {"role"}, {"fallback"}, {"accept_within"}, {"complete_within"}};
    int line, column;
    set_label(ld, item, index);
    yamlutil_mark(item, &line, &column);
    rec->pub.line = line;
    if (get_fields(ld, item, f, F_COUNT) < 0 || load_name(ld, item, f[F_NAME].node, rec) < 0 ||
        load_matching(ld, item, f, rec) < 0)
        return -1;
    return load_owner(ld, item, f, rec);
}

/* Routes after the default could never match; the last route must be the default. */
static int check_order(loader_t *ld, struct fy_node *item, const route_rec_t *rec, bool last)
{
    const route_rec_t *first = ld->self->recs;
    if (rec > first && rec[-1].pub.is_default)
        return fail(ld, item,
                    "unreachable: the default route '%s' (line %d) matches every event first; "
                    "the default must be the last route",
                    rec[-1].pub.name, rec[-1].pub.line);
    if (last && !rec->pub.is_default)
        return fail(ld, item,
                    "the last route must be the default (match: {} or default: true), so that "
                    "every event has an owner");
    return 0;
}

static int load_all(loader_t *ld, struct fy_node *seq)
{
    if (!seq)
        return yamlutil_fail(ld->file, NULL, ld->err, ld->errlen,
                             "routes: missing: at least the default route (match: {}) is needed");
    if (!is_sequence(seq))
        return yamlutil_fail(ld->file, seq, ld->err, ld->errlen,
                             "routes: expected a list of routes, got %s", yamlutil_kind(seq));
    size_t n = (size_t)fy_node_sequence_item_count(seq);
    if (n == 0)
        return yamlutil_fail(ld->file, seq, ld->err, ld->errlen,
                             "routes: empty: at least the default route (match: {}) is needed");
    if (!(ld->self->recs = calloc(n, sizeof *ld->self->recs)))
        return yamlutil_fail(ld->file, seq, ld->err, ld->errlen, "out of memory");
    void *iter = NULL;
    struct fy_node *item;
    while ((item = fy_node_sequence_iterate(seq, &iter)) != NULL) {
        size_t i = ld->self->n++; /* counted first: destroy frees what a failed route holds */
        route_rec_t *rec = &ld->self->recs[i];
        if (load_route(ld, item, rec, i) < 0 || check_order(ld, item, rec, i + 1 == n) < 0)
            return -1;
    }
    return 0;
}

routes_t *routes_load(struct fy_node *node, const char *file, const directory_t *dir, char *err,
                      size_t errlen)
{
    routes_t *self = calloc(1, sizeof *self);
    loader_t ld = {file, dir, err, errlen, self, "routes"};
    if (!self) {
        snprintf(err, errlen, "%s: out of memory", file);
        return NULL;
    }
    if (load_all(&ld, node) < 0)
        routes_destroy(&self);
    return self;
}

static void free_owned(const void *p)
{
    free((void *)(uintptr_t)p);
}

static void free_cond(cond_t *c)
{
    for (size_t i = 0; i < c->nvalues; i++)
        free(c->values[i].text);
    free(c->values);
    free(c->field);
}

void routes_destroy(routes_t **self_p)
{
    routes_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->n; i++) {
        route_rec_t *rec = &self->recs[i];
        for (size_t c = 0; c < rec->nconds; c++)
            free_cond(&rec->conds[c]);
        free(rec->conds);
        free(rec->types);
        free_owned(rec->pub.name);
        free_owned(rec->pub.fallback); /* the role names are static */
        free_owned(rec->pub.accept_within);
        free_owned(rec->pub.complete_within);
    }
    free(self->recs);
    free(self);
    *self_p = NULL;
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

static bool route_matches(const route_rec_t *rec, const gb_event_t *ev)
{
    size_t t = 0;
    while (t < rec->ntypes && rec->types[t] != ev->type)
        t++;
    if (t == rec->ntypes)
        return false;
    for (size_t i = 0; i < rec->nconds; i++)
        if (!cond_holds(&rec->conds[i], ev))
            return false;
    return true;
}

const route_t *routes_match(const routes_t *self, const gb_event_t *ev)
{
    if (!ev->type || ev->type->is_followup)
        return NULL;
    for (size_t i = 0; i < self->n; i++)
        if (route_matches(&self->recs[i], ev))
            return &self->recs[i].pub;
    return NULL;
}

size_t routes_count(const routes_t *self)
{
    return self->n;
}

const route_t *routes_at(const routes_t *self, size_t i)
{
    return i < self->n ? &self->recs[i].pub : NULL;
}

const route_t *routes_find(const routes_t *self, const char *name)
{
    for (size_t i = 0; i < self->n; i++)
        if (strcmp(self->recs[i].pub.name, name) == 0)
            return &self->recs[i].pub;
    return NULL;
}

/* ---- assignment ---- */

typedef struct {
    const char *grid;
    size_t grid_len;
    route_load_fn load;
    void *arg;
    const char *const *exclude;
    size_t nexclude;
} pick_t;

static bool eligible(const directory_member_t *m, const char *role, const pick_t *p)
{
    if (!directory_member_has_role(m, role))
        return false;
    if (p->grid && p->grid_len && !directory_member_serves(m, p->grid, p->grid_len))
        return false;
    for (size_t i = 0; i < p->nexclude; i++)
        if (strcmp(p->exclude[i], m->id) == 0)
            return false;
    return true;
}

/* The least-loaded eligible holder of role, ties to the smaller id; NULL if none. */
static const directory_member_t *pick_role(const directory_t *dir, const char *role,
                                           const pick_t *p)
{
    const directory_member_t *best = NULL;
    uint32_t best_load = 0;
    for (size_t i = 0; i < directory_member_count(dir); i++) {
        const directory_member_t *m = directory_member_at(dir, i);
        if (!eligible(m, role, p))
            continue;
        uint32_t load = p->load ? p->load(p->arg, m->id) : 0;
        if (!best || load < best_load || (load == best_load && strcmp(m->id, best->id) < 0))
            best = m, best_load = load;
    }
    return best;
}

const directory_member_t *route_pick(const route_t *r, const directory_t *dir, const char *grid,
                                     size_t grid_len, route_load_fn load, void *arg,
                                     const char *const *exclude, size_t nexclude)
{
    if (!r || !r->creates_task || !r->role)
        return NULL;
    pick_t p = {grid, grid_len, load, arg, exclude, nexclude};
    const directory_member_t *m = pick_role(dir, r->role, &p);
    for (size_t i = 0; !m && i < r->nfallback; i++)
        m = pick_role(dir, r->fallback[i], &p);
    return m;
}
