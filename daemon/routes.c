/*
 * routes: loading the `routes:` list of the directory, finding the route of an event, and
 * picking the assignee of a task.
 *
 * What a route takes is its `match:` mapping, loaded and tested by match.c (shared with alert
 * rules); this file holds what only routes have: names, the default route and its place last,
 * `task: false`, the owning role with its fallback chain, and the deadlines as written. Routes
 * own all their strings, so they do not depend on the YAML document or the directory they were
 * loaded with; role names point at directory_roles' static list.
 */
#include "routes.h"

#include <libfyaml.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "match.h"
#include "yamlutil.h"

#define ROUTE_NAME_MAX 64
#define DURATION_DIGITS_MAX 6

typedef struct {
    route_t pub;    /* first: the public view handed out */
    match_t *match; /* what the route takes */
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

/* ---- match ---- */

/* node NULL (default: true) matches every field event. */
static int attach_match(loader_t *ld, struct fy_node *node, route_rec_t *rec)
{
    rec->match = match_load(node, ld->file, ld->dir, ld->label, false, ld->err, ld->errlen);
    if (!rec->match)
        return -1;
    rec->pub.is_default = match_is_everything(rec->match);
    return 0;
}

/* match: {} (or default: true) is the default; otherwise type and conditions. */
static int load_match(loader_t *ld, struct fy_node *item, struct fy_node *map, route_rec_t *rec)
{
    if (!map)
        return fail(ld, item, "missing 'match' (the default route has match: {} or default: true)");
    return attach_match(ld, map, rec);
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
    return attach_match(ld, NULL, rec);
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

void routes_destroy(routes_t **self_p)
{
    routes_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->n; i++) {
        route_rec_t *rec = &self->recs[i];
        match_destroy(&rec->match);
        free_owned(rec->pub.name);
        free_owned(rec->pub.fallback); /* the role names are static */
        free_owned(rec->pub.accept_within);
        free_owned(rec->pub.complete_within);
    }
    free(self->recs);
    free(self);
    *self_p = NULL;
}

/* ---- lookup ---- */

const route_t *routes_match(const routes_t *self, const gb_event_t *ev)
{
    if (!ev->type || ev->type->is_followup)
        return NULL;
    for (size_t i = 0; i < self->n; i++)
        if (match_event(self->recs[i].match, ev))
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
