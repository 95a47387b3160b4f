/*
 * directory: loading and looking up the community directory.
 *
 * Loading copies every string out of the YAML document into the directory's own sorted
 * arrays, so lookups touch only compact memory and never the parser's tree. Each section is
 * read into an array in file order, then sorted by id together with the id's node, so a
 * duplicate can be reported at the later occurrence with the line of the earlier one. Grids
 * are loaded first: compounds and members are checked against them by binary search, and
 * their grid lists point at the grid's own id string. Role names point at the static list
 * below, the one place that defines which roles exist. The YAML document itself is kept for
 * the sections handed on raw (calendar, routes, alerts), whose positions must stay reportable.
 */
#include "directory.h"

#include <libfyaml.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yamlutil.h"

#define ID_MAX 64
#define NAME_MAX_BYTES 256

static const char *const roles[] = {
    "convener",
    "cadre",
    "service_hall",
    "grid_leader",
    "grid_member",
    "city_management",
    "police",
    "firefighter",
    "home_helper",
    "property_manager",
    "finance",
    "discipline_commissioner",
    "discipline_secretary",
    "committee",
};
#define NROLES (sizeof roles / sizeof roles[0])

typedef struct {
    const char *key, *value; /* key first: searched like the id of a record */
} attr_t;

struct directory {
    char *path;
    yamlutil_t *yaml;
    const char *community_id, *community_name, *subdistrict;
    attr_t *attrs;
    size_t nattrs;
    directory_grid_t *grids;
    size_t ngrids;
    directory_compound_t *compounds;
    size_t ncompounds;
    directory_member_t *members;
    size_t nmembers;
    struct fy_node *calendar, *routes, *alerts;
    const directory_member_t **holders; /* by role: its members in id order, one run each */
    size_t holder_start[NROLES + 1];    /* role r's run: [holder_start[r], holder_start[r+1]) */
};

typedef struct {
    yamlutil_ctx_t cx; /* no label: messages name the section themselves ("member 'x'") */
    directory_t *dir;
} loader_t;

#define FAIL(ld, node, ...) yamlutil_error(&(ld)->cx, (node), __VA_ARGS__)

/* An unknown key or role is quoted up to this many bytes: the messages stay as they were. */
#define QUOTE_MAX 63

/* ---- lookups ---- */

/* Orders the counted id against a stored NUL-terminated key byte by byte, shorter first:
 * the order qsort by strcmp gives the stored keys, so binary search works on raw ids. */
static int id_cmp(const char *id, size_t len, const char *key)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char a = (unsigned char)id[i], b = (unsigned char)key[i];
        if (b == '\0')
            return 1;
        if (a != b)
            return a < b ? -1 : 1;
    }
    return key[len] == '\0' ? 0 : -1;
}

/* Binary search in n records of `size` bytes whose first field is their id. */
static const void *find(const void *base, size_t n, size_t size, const char *id, size_t len)
{
    size_t lo = 0, hi = n;
    if (!id || len == 0 || len > ID_MAX)
        return NULL;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const void *rec = (const char *)base + mid * size;
        int c = id_cmp(id, len, *(const char *const *)rec);
        if (c == 0)
            return rec;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

const directory_member_t *directory_member(const directory_t *self, const char *id, size_t len)
{
    return find(self->members, self->nmembers, sizeof *self->members, id, len);
}

const directory_grid_t *directory_grid(const directory_t *self, const char *id, size_t len)
{
    return find(self->grids, self->ngrids, sizeof *self->grids, id, len);
}

const directory_compound_t *directory_compound(const directory_t *self, const char *id, size_t len)
{
    return find(self->compounds, self->ncompounds, sizeof *self->compounds, id, len);
}

bool directory_member_has_role(const directory_member_t *m, const char *role)
{
    for (size_t i = 0; i < m->nroles; i++)
        if (strcmp(m->roles[i], role) == 0)
            return true;
    return false;
}

bool directory_member_serves(const directory_member_t *m, const char *grid, size_t len)
{
    if (m->ngrids == 0)
        return true;
    for (size_t i = 0; i < m->ngrids; i++)
        if (id_cmp(grid, len, m->grids[i]) == 0)
            return true;
    return false;
}

/* ---- checks on scalars ---- */

static bool id_valid(const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || len > ID_MAX)
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              strchr("._:-", *p)))
            return false;
    return true;
}

/* A copy of a required single value; what names it in messages ("grid id"). */
static int load_text(loader_t *ld, struct fy_node *node, const char *what, char **out)
{
    const char *why;
    if (yamlutil_is_null(node))
        return FAIL(ld, node, "%s: missing value", what);
    if (!(*out = yamlutil_strdup(node, &why)))
        return FAIL(ld, node, "%s: %s", what, why);
    size_t len = strlen(*out);
    if (len == 0)
        return FAIL(ld, node, "%s: missing value", what);
    if (len > NAME_MAX_BYTES)
        return FAIL(ld, node, "%s: longer than %d bytes", what, NAME_MAX_BYTES);
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)(*out)[i] < 0x20)
            return FAIL(ld, node, "%s: contains a control character", what);
    return 0;
}

static int load_id(loader_t *ld, struct fy_node *node, const char *what, char **out)
{
    if (load_text(ld, node, what, out) < 0)
        return -1;
    if (!id_valid(*out))
        return FAIL(ld, node, "bad %s '%s': expected 1 to %d of A-Z a-z 0-9 . _ : -", what, *out,
                    ID_MAX);
    if (strcmp(*out, "-") == 0) /* task topics and loads write "-" for none (parked, grid-less) */
        return FAIL(ld, node, "bad %s '-': reserved, it stands for none in task topics", what);
    return 0;
}

/* load_text and load_id into a const field, which owns the copy even when the value was
 * refused (so directory_destroy frees it). */
static int take_text(loader_t *ld, struct fy_node *node, const char *what, const char **field)
{
    char *s = NULL;
    int rc = load_text(ld, node, what, &s);
    *field = s;
    return rc;
}

static int take_id(loader_t *ld, struct fy_node *node, const char *what, const char **field)
{
    char *s = NULL;
    int rc = load_id(ld, node, what, &s);
    *field = s;
    return rc;
}

/* The number of items of an optional list (absent or empty: 0), -1 if node is no list. */
static int list_count(loader_t *ld, struct fy_node *node, const char *what, size_t *n)
{
    *n = 0;
    if (yamlutil_is_null(node))
        return 0;
    if (!yamlutil_is_sequence(node))
        return FAIL(ld, node, "%s: expected a list, got %s", what, yamlutil_kind(node));
    *n = (size_t)fy_node_sequence_item_count(node);
    return 0;
}

/* ---- sorting with duplicate detection ---- */

typedef struct {
    const char *id;
    size_t index; /* position in the file */
} sort_ref_t;

static int sort_ref_cmp(const void *a, const void *b)
{
    const sort_ref_t *x = a, *y = b;
    int c = strcmp(x->id, y->id);
    if (c)
        return c;
    return x->index < y->index ? -1 : x->index > y->index;
}

static int report_duplicate(loader_t *ld, struct fy_node *earlier, struct fy_node *later,
                            const char *what, const char *id)
{
    int line, column;
    yamlutil_mark(earlier, &line, &column);
    return FAIL(ld, later, "duplicate %s id '%s' (first defined at line %d)", what, id, line);
}

/* Sorts n records of `size` bytes (first field: their id) by id; at[i] is the id node of
 * record i in file order. A repeated id is reported at its later occurrence. */
static int sort_unique(loader_t *ld, void *base, size_t n, size_t size, struct fy_node **at,
                       const char *what)
{
    sort_ref_t *refs = malloc((n ? n : 1) * sizeof *refs);
    char *tmp = malloc(n ? n * size : 1);
    int rc = 0;
    if (!refs || !tmp)
        rc = FAIL(ld, NULL, "out of memory");
    for (size_t i = 0; rc == 0 && i < n; i++)
        refs[i] = (sort_ref_t){*(const char **)((char *)base + i * size), i};
    if (rc == 0)
        qsort(refs, n, sizeof *refs, sort_ref_cmp);
    for (size_t i = 1; rc == 0 && i < n; i++)
        if (strcmp(refs[i - 1].id, refs[i].id) == 0)
            rc = report_duplicate(ld, at ? at[refs[i - 1].index] : NULL,
                                  at ? at[refs[i].index] : NULL, what, refs[i].id);
    for (size_t i = 0; rc == 0 && i < n; i++)
        memcpy(tmp + i * size, (char *)base + refs[i].index * size, size);
    if (rc == 0 && n)
        memcpy(base, tmp, n * size);
    free(refs);
    free(tmp);
    return rc;
}

/* ---- sections ---- */

static int load_attributes(loader_t *ld, struct fy_node *map)
{
    directory_t *dir = ld->dir;
    if (yamlutil_is_null(map))
        return 0;
    if (!yamlutil_is_mapping(map))
        return FAIL(ld, map, "community.attributes: expected a mapping, got %s",
                    yamlutil_kind(map));
    size_t n = (size_t)fy_node_mapping_item_count(map);
    if (!(dir->attrs = calloc(n ? n : 1, sizeof *dir->attrs)))
        return FAIL(ld, map, "out of memory");
    void *iter = NULL;
    struct fy_node_pair *pair;
    while ((pair = fy_node_mapping_iterate(map, &iter)) != NULL) {
        attr_t *a = &dir->attrs[dir->nattrs++];
        char what[96];
        if (take_id(ld, fy_node_pair_key(pair), "attribute name", &a->key) < 0)
            return -1;
        snprintf(what, sizeof what, "community.attributes.%s", a->key);
        if (take_text(ld, fy_node_pair_value(pair), what, &a->value) < 0)
            return -1;
    }
    /* libfyaml already refuses duplicate keys; sorting is for directory_attribute. */
    return sort_unique(ld, dir->attrs, dir->nattrs, sizeof *dir->attrs, NULL, "attribute");
}

static int load_community(loader_t *ld, struct fy_node *map)
{
    directory_t *dir = ld->dir;
    yamlutil_field_t f[] = {
        {"id", true}, {"name", true}, {"subdistrict", true}, {"attributes", false}};
    if (yamlutil_get_fields(&ld->cx, map, "community", f, 4) < 0 ||
        take_id(ld, f[0].node, "community id", &dir->community_id) < 0 ||
        take_text(ld, f[1].node, "community name", &dir->community_name) < 0 ||
        take_text(ld, f[2].node, "community subdistrict", &dir->subdistrict) < 0)
        return -1;
    return load_attributes(ld, f[3].node);
}

static int load_grid(loader_t *ld, struct fy_node *item, directory_grid_t *g, struct fy_node **at)
{
    yamlutil_field_t f[] = {{"id", true}, {"name", true}};
    if (yamlutil_get_fields(&ld->cx, item, "grid", f, 2) < 0)
        return -1;
    *at = f[0].node;
    if (take_id(ld, f[0].node, "grid id", &g->id) < 0)
        return -1;
    char what[96];
    snprintf(what, sizeof what, "grid '%s': name", g->id);
    return take_text(ld, f[1].node, what, &g->name);
}

static int load_compound(loader_t *ld, struct fy_node *item, directory_compound_t *c,
                         struct fy_node **at)
{
    yamlutil_field_t f[] = {{"id", true}, {"name", true}, {"grid", true}};
    if (yamlutil_get_fields(&ld->cx, item, "compound", f, 3) < 0)
        return -1;
    *at = f[0].node;
    char what[96], *grid = NULL;
    if (take_id(ld, f[0].node, "compound id", &c->id) < 0)
        return -1;
    snprintf(what, sizeof what, "compound '%s': name", c->id);
    if (take_text(ld, f[1].node, what, &c->name) < 0)
        return -1;
    snprintf(what, sizeof what, "compound '%s': grid", c->id);
    int rc = load_text(ld, f[2].node, what, &grid);
    const directory_grid_t *g = rc == 0 ? directory_grid(ld->dir, grid, strlen(grid)) : NULL;
    if (rc == 0 && !g)
        rc = FAIL(ld, f[2].node, "compound '%s': unknown grid '%s'", c->id, grid);
    if (rc == 0)
        c->grid = g->id;
    free(grid);
    return rc;
}

static int load_member_roles(loader_t *ld, struct fy_node *seq, directory_member_t *m)
{
    size_t n;
    char what[96];
    snprintf(what, sizeof what, "member '%s': roles", m->id);
    if (list_count(ld, seq, what, &n) < 0)
        return -1;
    if (n == 0)
        return FAIL(ld, seq, "%s: at least one role is needed", what);
    const char **out = calloc(n, sizeof *out);
    if (!(m->roles = out))
        return FAIL(ld, seq, "out of memory");
    void *iter = NULL;
    struct fy_node *item;
    while ((item = fy_node_sequence_iterate(seq, &iter)) != NULL) {
        size_t len;
        const char *text = yamlutil_scalar(item, &len);
        size_t r = yamlutil_index(text, len, roles, NROLES, sizeof roles[0]);
        if (r == NROLES) {
            char who[80];
            snprintf(who, sizeof who, "member '%s'", m->id);
            return yamlutil_unknown(&ld->cx, item, who, "role", text, len, roles, NROLES,
                                    sizeof roles[0]);
        }
        if (directory_member_has_role(m, roles[r]))
            return FAIL(ld, item, "member '%s': role '%s' listed twice", m->id, roles[r]);
        out[m->nroles++] = roles[r];
    }
    return 0;
}

static int load_member_grids(loader_t *ld, struct fy_node *seq, directory_member_t *m)
{
    size_t n;
    char what[96];
    snprintf(what, sizeof what, "member '%s': grids", m->id);
    if (list_count(ld, seq, what, &n) < 0)
        return -1;
    const char **out = calloc(n ? n : 1, sizeof *out);
    if (!(m->grids = out))
        return FAIL(ld, seq, "out of memory");
    void *iter = NULL;
    struct fy_node *item;
    while (n && (item = fy_node_sequence_iterate(seq, &iter)) != NULL) {
        size_t len;
        const char *text = yamlutil_scalar(item, &len);
        const directory_grid_t *g = text ? directory_grid(ld->dir, text, len) : NULL;
        if (!g)
            return FAIL(ld, item, "member '%s': unknown grid '%.*s'", m->id, text ? (int)len : 0,
                        text ? text : "");
        if (m->ngrids && directory_member_serves(m, g->id, strlen(g->id)))
            return FAIL(ld, item, "member '%s': grid '%s' listed twice", m->id, g->id);
        out[m->ngrids++] = g->id;
    }
    return 0;
}

static int load_member(loader_t *ld, struct fy_node *item, directory_member_t *m,
                       struct fy_node **at)
{
    yamlutil_field_t f[] = {
        {"id", true}, {"name", true}, {"roles", true}, {"grids", false}, {"org", false}};
    if (yamlutil_get_fields(&ld->cx, item, "member", f, 5) < 0)
        return -1;
    *at = f[0].node;
    if (take_id(ld, f[0].node, "member id", &m->id) < 0)
        return -1;
    char what[96];
    snprintf(what, sizeof what, "member '%s': name", m->id);
    if (take_text(ld, f[1].node, what, &m->name) < 0)
        return -1;
    snprintf(what, sizeof what, "member '%s': org", m->id);
    if (!yamlutil_is_null(f[4].node) && take_text(ld, f[4].node, what, &m->org) < 0)
        return -1;
    if (load_member_roles(ld, f[2].node, m) < 0)
        return -1;
    return load_member_grids(ld, f[3].node, m);
}

/* A list section: each item loaded by load_item into a record of `size` bytes, then the
 * records sorted by id with duplicates refused. */
typedef int (*load_item_fn)(loader_t *, struct fy_node *, void *, struct fy_node **);

static int load_list(loader_t *ld, struct fy_node *seq, const char *what, size_t size,
                     load_item_fn load_item, void **out, size_t *count)
{
    size_t n;
    if (list_count(ld, seq, what, &n) < 0)
        return -1;
    char *recs = calloc(n ? n : 1, size);
    struct fy_node **at = calloc(n ? n : 1, sizeof *at);
    *out = recs;
    int rc = recs && at ? 0 : FAIL(ld, seq, "out of memory");
    void *iter = NULL;
    struct fy_node *item;
    while (rc == 0 && n && (item = fy_node_sequence_iterate(seq, &iter)) != NULL) {
        size_t i = (*count)++; /* counted first: destroy frees what a failed item copied */
        rc = load_item(ld, item, recs + i * size, &at[i]);
    }
    if (rc == 0)
        rc = sort_unique(ld, recs, n, size, at, what);
    free(at);
    return rc;
}

static int load_grid_item(loader_t *ld, struct fy_node *item, void *rec, struct fy_node **at)
{
    return load_grid(ld, item, rec, at);
}

static int load_compound_item(loader_t *ld, struct fy_node *item, void *rec, struct fy_node **at)
{
    return load_compound(ld, item, rec, at);
}

static int load_member_item(loader_t *ld, struct fy_node *item, void *rec, struct fy_node **at)
{
    return load_member(ld, item, rec, at);
}

/* Fills each grid's compound list from the compounds' grid references. */
static int link_compounds(loader_t *ld)
{
    directory_t *dir = ld->dir;
    for (size_t i = 0; i < dir->ngrids; i++) {
        directory_grid_t *g = &dir->grids[i];
        size_t n = 0;
        for (size_t c = 0; c < dir->ncompounds; c++)
            n += dir->compounds[c].grid == g->id;
        const char **list = calloc(n ? n : 1, sizeof *list);
        if (!(g->compounds = list))
            return FAIL(ld, NULL, "out of memory");
        for (size_t c = 0; c < dir->ncompounds; c++)
            if (dir->compounds[c].grid == g->id)
                list[g->ncompounds++] = dir->compounds[c].id;
    }
    return 0;
}

static int load_root(loader_t *ld, struct fy_node *root)
{
    directory_t *dir = ld->dir;
    yamlutil_field_t f[] = {{"community", true}, {"grids", true},     {"compounds", false},
                            {"members", true},   {"calendar", false}, {"routes", false},
                            {"alerts", false}};
    if (!root)
        return FAIL(ld, NULL, "empty file: expected community, grids and members");
    if (yamlutil_get_fields(&ld->cx, root, "directory", f, 7) < 0 ||
        load_community(ld, f[0].node) < 0)
        return -1;
    if (load_list(ld, f[1].node, "grid", sizeof *dir->grids, load_grid_item, (void **)&dir->grids,
                  &dir->ngrids) < 0)
        return -1;
    if (dir->ngrids == 0)
        return FAIL(ld, f[1].node, "grids: at least one grid is needed");
    if (load_list(ld, f[2].node, "compound", sizeof *dir->compounds, load_compound_item,
                  (void **)&dir->compounds, &dir->ncompounds) < 0 ||
        link_compounds(ld) < 0)
        return -1;
    if (load_list(ld, f[3].node, "member", sizeof *dir->members, load_member_item,
                  (void **)&dir->members, &dir->nmembers) < 0)
        return -1;
    dir->calendar = f[4].node;
    dir->routes = f[5].node;
    dir->alerts = f[6].node;
    return 0;
}

/* ---- life cycle ---- */

/* Every role's holders, for assignment: it looks at a role's few holders for each task
 * instead of at every member. Members are in id order, and so is each run. */
static int index_holders(directory_t *self)
{
    size_t total = 0, at = 0;
    for (size_t i = 0; i < self->nmembers; i++)
        total += self->members[i].nroles;
    if (!(self->holders = calloc(total ? total : 1, sizeof *self->holders)))
        return -1;
    for (size_t r = 0; r < NROLES; r++) {
        self->holder_start[r] = at;
        for (size_t i = 0; i < self->nmembers; i++)
            for (size_t j = 0; j < self->members[i].nroles; j++)
                if (self->members[i].roles[j] == roles[r])
                    self->holders[at++] = &self->members[i];
    }
    self->holder_start[NROLES] = at;
    return 0;
}

directory_t *directory_load(const char *path, char *err, size_t errlen)
{
    directory_t *self = calloc(1, sizeof *self);
    if (!self || !(self->path = strdup(path))) {
        snprintf(err, errlen, "%s: out of memory", path);
        free(self);
        return NULL;
    }
    loader_t ld = {{path, err, errlen, NULL, QUOTE_MAX}, self};
    if (!(self->yaml = yamlutil_load(path, err, errlen)) ||
        load_root(&ld, yamlutil_root(self->yaml)) < 0)
        directory_destroy(&self);
    else if (index_holders(self) < 0) {
        snprintf(err, errlen, "%s: out of memory", path);
        directory_destroy(&self);
    }
    return self;
}

/* The directory's strings and lists are const to its users but owned (malloc'ed) here. */
static void free_owned(const void *p)
{
    free((void *)(uintptr_t)p);
}

static void free_records(directory_t *self)
{
    for (size_t i = 0; i < self->nmembers; i++) {
        const directory_member_t *m = &self->members[i];
        free_owned(m->id);
        free_owned(m->name);
        free_owned(m->org);
        free_owned(m->roles); /* the role names themselves are static */
        free_owned(m->grids); /* the grid ids belong to the grids */
    }
    for (size_t i = 0; i < self->ncompounds; i++) {
        free_owned(self->compounds[i].id);
        free_owned(self->compounds[i].name);
    }
    for (size_t i = 0; i < self->ngrids; i++) {
        free_owned(self->grids[i].id);
        free_owned(self->grids[i].name);
        free_owned(self->grids[i].compounds);
    }
    for (size_t i = 0; i < self->nattrs; i++) {
        free_owned(self->attrs[i].key);
        free_owned(self->attrs[i].value);
    }
}

void directory_destroy(directory_t **self_p)
{
    directory_t *self = *self_p;
    if (!self)
        return;
    free_records(self);
    free(self->holders);
    free(self->members);
    free(self->compounds);
    free(self->grids);
    free(self->attrs);
    free_owned(self->community_id);
    free_owned(self->community_name);
    free_owned(self->subdistrict);
    yamlutil_destroy(&self->yaml);
    free(self->path);
    free(self);
    *self_p = NULL;
}

/* ---- accessors ---- */

const char *directory_community_id(const directory_t *self)
{
    return self->community_id;
}

const char *directory_community_name(const directory_t *self)
{
    return self->community_name;
}

const char *directory_subdistrict(const directory_t *self)
{
    return self->subdistrict;
}

const char *directory_attribute(const directory_t *self, const char *key)
{
    const attr_t *a = find(self->attrs, self->nattrs, sizeof *self->attrs, key, strlen(key));
    return a ? a->value : NULL;
}

size_t directory_member_count(const directory_t *self)
{
    return self->nmembers;
}

size_t directory_grid_count(const directory_t *self)
{
    return self->ngrids;
}

size_t directory_compound_count(const directory_t *self)
{
    return self->ncompounds;
}

const directory_member_t *directory_member_at(const directory_t *self, size_t index)
{
    return index < self->nmembers ? &self->members[index] : NULL;
}

const directory_grid_t *directory_grid_at(const directory_t *self, size_t index)
{
    return index < self->ngrids ? &self->grids[index] : NULL;
}

const directory_compound_t *directory_compound_at(const directory_t *self, size_t index)
{
    return index < self->ncompounds ? &self->compounds[index] : NULL;
}

const directory_member_t *const *directory_holders(const directory_t *self, const char *role,
                                                   size_t *n)
{
    size_t r = 0;
    while (r < NROLES && roles[r] != role) /* routes name roles by these very strings */
        r++;
    for (size_t i = 0; r == NROLES && i < NROLES; i++)
        if (strcmp(roles[i], role) == 0)
            r = i;
    if (r == NROLES) {
        *n = 0;
        return NULL;
    }
    *n = self->holder_start[r + 1] - self->holder_start[r];
    return self->holders + self->holder_start[r];
}

const char *const *directory_roles(size_t *n)
{
    *n = NROLES;
    return roles;
}

const char *directory_path(const directory_t *self)
{
    return self->path;
}

struct fy_node *directory_section(const directory_t *self, const char *name)
{
    if (strcmp(name, "calendar") == 0)
        return self->calendar;
    if (strcmp(name, "routes") == 0)
        return self->routes;
    if (strcmp(name, "alerts") == 0)
        return self->alerts;
    return NULL;
}
