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
    /* each event type's candidate routes, in order: cand[first[t]] up to cand[first[t + 1]] */
    size_t *first, *cand;
};

typedef struct {
    yamlutil_ctx_t cx; /* its label is the one below */
    const directory_t *dir;
    routes_t *self;
    char label[96]; /* "route 'fire-hazard'", or "route #3" before the name is known */
} loader_t;

/* ---- roles and durations ---- */

/* The static name of the role written in node, or NULL after failing. */
static const char *get_role(loader_t *ld, struct fy_node *node, const char *what)
{
    size_t n, len;
    const char *const *roles = directory_roles(&n);
    const char *text = yamlutil_scalar(node, &len);
    if (yamlutil_is_null(node)) {
        yamlutil_error(&ld->cx, node, "%s: missing value", what);
        return NULL;
    }
    size_t i = yamlutil_index(text, len, roles, n, sizeof roles[0]);
    if (i < n)
        return roles[i];
    if (!text)
        yamlutil_error(&ld->cx, node, "%s: expected a role name, got %s", what,
                       yamlutil_kind(node));
    else
        yamlutil_unknown(&ld->cx, node, what, "role", text, len, roles, n, sizeof roles[0]);
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
    int rc = yamlutil_get_text(&ld->cx, node, what, &text);
    *out = text;
    if (rc == 0 && !duration_valid(text))
        return yamlutil_error(
            &ld->cx, node,
            "%s: bad duration '%s': expected digits followed by d, h or m, in that order "
            "and not zero (e.g. 30m, 4h, 2d, 1h30m)",
            what, text);
    return rc;
}

static int get_fallback(loader_t *ld, struct fy_node *seq, route_t *r)
{
    if (yamlutil_is_null(seq))
        return 0;
    if (!yamlutil_is_sequence(seq))
        return yamlutil_error(&ld->cx, seq, "fallback: expected a list of roles, got %s",
                              yamlutil_kind(seq));
    size_t n = (size_t)fy_node_sequence_item_count(seq);
    const char **out = calloc(n ? n : 1, sizeof *out);
    if (!(r->fallback = out))
        return yamlutil_error(&ld->cx, seq, "out of memory");
    void *iter = NULL;
    struct fy_node *item;
    while ((item = fy_node_sequence_iterate(seq, &iter)) != NULL) {
        const char *role = get_role(ld, item, "fallback");
        if (!role)
            return -1;
        if (role == r->role)
            return yamlutil_error(&ld->cx, item, "fallback: '%s' is the route's own role", role);
        for (size_t i = 0; i < r->nfallback; i++)
            if (out[i] == role)
                return yamlutil_error(&ld->cx, item, "fallback: role '%s' listed twice", role);
        out[r->nfallback++] = role;
    }
    return 0;
}

/* ---- match ---- */

/* node NULL (default: true) matches every field event. */
static int attach_match(loader_t *ld, struct fy_node *node, route_rec_t *rec)
{
    rec->match =
        match_load(node, ld->cx.path, ld->dir, ld->label, false, ld->cx.err, ld->cx.errlen);
    if (!rec->match)
        return -1;
    rec->pub.is_default = match_is_everything(rec->match);
    return 0;
}

/* match: {} (or default: true) is the default; otherwise type and conditions. */
static int load_match(loader_t *ld, struct fy_node *item, struct fy_node *map, route_rec_t *rec)
{
    if (!map)
        return yamlutil_error(&ld->cx, item,
                              "missing 'match' (the default route has match: {} or default: true)");
    return attach_match(ld, map, rec);
}

/* ---- routes ---- */

enum { F_NAME, F_MATCH, F_DEFAULT, F_TASK, F_ROLE, F_FALLBACK, F_ACCEPT, F_COMPLETE, F_COUNT };

static void set_label(loader_t *ld, struct fy_node *item, size_t index)
{
    size_t len;
    struct fy_node_pair *name = yamlutil_pair(item, "name");
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
        return yamlutil_error(&ld->cx, item, "missing 'name'");
    int rc = yamlutil_get_text(&ld->cx, node, "name", &name);
    rec->pub.name = name; /* owned even when refused, so destroy frees it */
    if (rc < 0)
        return -1;
    if (!event_id_valid(name, strlen(name), ROUTE_NAME_MAX))
        return yamlutil_error(&ld->cx, node,
                              "bad name '%s': expected 1 to %d of A-Z a-z 0-9 . _ : -", name,
                              ROUTE_NAME_MAX);
    for (const route_rec_t *r = ld->self->recs; r < rec; r++)
        if (strcmp(r->pub.name, name) == 0)
            return yamlutil_fail(ld->cx.path, node, ld->cx.err, ld->cx.errlen,
                                 "duplicate route name '%s' (first defined at line %d)", name,
                                 r->pub.line);
    return 0;
}

/* role, fallback and deadlines; a `task: false` route takes none of them. */
static int load_owner(loader_t *ld, struct fy_node *item, yamlutil_field_t *f, route_rec_t *rec)
{
    route_t *r = &rec->pub;
    r->creates_task = true;
    if (f[F_TASK].node && yamlutil_get_bool(&ld->cx, f[F_TASK].node, "task", &r->creates_task) < 0)
        return -1;
    if (!r->creates_task) {
        for (int i = F_ROLE; i <= F_COMPLETE; i++)
            if (f[i].node)
                return yamlutil_error(&ld->cx, f[i].node,
                                      "'%s' has no use in a route with task: false", f[i].name);
        return 0;
    }
    if (!f[F_ROLE].node)
        return yamlutil_error(&ld->cx, item,
                              "missing 'role' (or task: false for a route that creates no task)");
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
static int load_matching(loader_t *ld, struct fy_node *item, yamlutil_field_t *f, route_rec_t *rec)
{
    bool dflt = false;
    struct fy_node *match = f[F_MATCH].node;
    if (f[F_DEFAULT].node && yamlutil_get_bool(&ld->cx, f[F_DEFAULT].node, "default", &dflt) < 0)
        return -1;
    if (!dflt)
        return load_match(ld, item, match, rec);
    if (match && !yamlutil_is_null(match) &&
        !(yamlutil_is_mapping(match) && fy_node_mapping_item_count(match) == 0))
        return yamlutil_error(&ld->cx, match,
                              "default: true matches every event: leave 'match' out or empty");
    return attach_match(ld, NULL, rec);
}

static int load_route(loader_t *ld, struct fy_node *item, route_rec_t *rec, size_t index)
{
    yamlutil_field_t f[F_COUNT] = {{"name"}, {"match"},    {"default"},       {"task"},
                                   {"role"}, {"fallback"}, {"accept_within"}, {"complete_within"}};
    int line, column;
    set_label(ld, item, index);
    yamlutil_mark(item, &line, &column);
    rec->pub.line = line;
    if (yamlutil_get_fields(&ld->cx, item, NULL, f, F_COUNT) < 0 ||
        load_name(ld, item, f[F_NAME].node, rec) < 0 || load_matching(ld, item, f, rec) < 0)
        return -1;
    return load_owner(ld, item, f, rec);
}

/* Routes after the default could never match; the last route must be the default. */
static int check_order(loader_t *ld, struct fy_node *item, const route_rec_t *rec, bool last)
{
    const route_rec_t *first = ld->self->recs;
    if (rec > first && rec[-1].pub.is_default)
        return yamlutil_error(
            &ld->cx, item,
            "unreachable: the default route '%s' (line %d) matches every event first; "
            "the default must be the last route",
            rec[-1].pub.name, rec[-1].pub.line);
    if (last && !rec->pub.is_default)
        return yamlutil_error(
            &ld->cx, item,
            "the last route must be the default (match: {} or default: true), so that "
            "every event has an owner");
    return 0;
}

static int load_all(loader_t *ld, struct fy_node *seq)
{
    if (!seq)
        return yamlutil_fail(ld->cx.path, NULL, ld->cx.err, ld->cx.errlen,
                             "routes: missing: at least the default route (match: {}) is needed");
    if (!yamlutil_is_sequence(seq))
        return yamlutil_fail(ld->cx.path, seq, ld->cx.err, ld->cx.errlen,
                             "routes: expected a list of routes, got %s", yamlutil_kind(seq));
    size_t n = (size_t)fy_node_sequence_item_count(seq);
    if (n == 0)
        return yamlutil_fail(ld->cx.path, seq, ld->cx.err, ld->cx.errlen,
                             "routes: empty: at least the default route (match: {}) is needed");
    if (!(ld->self->recs = calloc(n, sizeof *ld->self->recs)))
        return yamlutil_fail(ld->cx.path, seq, ld->cx.err, ld->cx.errlen, "out of memory");
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

/* Matching an event tries only the routes that name its type: every event is matched, and
 * trying a dozen routes in turn cost ~40 instructions each. */
static int index_by_type(routes_t *self)
{
    size_t types = (size_t)schema_type_count(), k = 0;
    if (!(self->first = calloc(types + 1, sizeof *self->first)) ||
        !(self->cand = calloc(types * self->n + 1, sizeof *self->cand)))
        return -1;
    for (size_t t = 0; t < types; t++) {
        self->first[t] = k;
        for (size_t i = 0; i < self->n; i++)
            if (match_takes_type(self->recs[i].match, &schema_types[t]))
                self->cand[k++] = i;
    }
    self->first[types] = k;
    return 0;
}

routes_t *routes_load(struct fy_node *node, const char *file, const directory_t *dir, char *err,
                      size_t errlen)
{
    routes_t *self = calloc(1, sizeof *self);
    loader_t ld = {{file, err, errlen, NULL, 0}, dir, self, "routes"};
    ld.cx.label = ld.label;
    if (!self) {
        snprintf(err, errlen, "%s: out of memory", file);
        return NULL;
    }
    if (load_all(&ld, node) < 0)
        routes_destroy(&self);
    else if (index_by_type(self) < 0) {
        snprintf(err, errlen, "%s: out of memory", file);
        routes_destroy(&self);
    }
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
    free(self->first);
    free(self->cand);
    free(self);
    *self_p = NULL;
}

/* ---- lookup ---- */

const route_t *routes_match(const routes_t *self, const gb_event_t *ev)
{
    if (!ev->type || ev->type->is_followup)
        return NULL;
    int t = schema_type_index(ev->type);
    if (t < 0 || t >= schema_type_count())
        return NULL;
    for (size_t k = self->first[t]; k < self->first[t + 1]; k++) {
        const route_rec_t *rec = &self->recs[self->cand[k]];
        if (match_event(rec->match, ev))
            return &rec->pub;
    }
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

static bool eligible(const directory_member_t *m, const pick_t *p)
{
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
    size_t n;
    const directory_member_t *const *holders = directory_holders(dir, role, &n);
    for (size_t i = 0; i < n; i++) {
        const directory_member_t *m = holders[i];
        if (!eligible(m, p))
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
