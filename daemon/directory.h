/*
 * directory: the community's grids, compounds and members, loaded from YAML (conf/daidong.yaml).
 *
 * Every event names its reporter and usually its grid, so lookups run per event on the hot
 * path: members, grids and compounds are kept in arrays sorted by id and found by binary
 * search on an id that need not be NUL-terminated (it points into a MessagePack buffer); a
 * lookup allocates nothing. Everything is checked at load time, with "FILE:LINE:COL: message"
 * errors: ids, duplicates, references to grids, role names. The file format is in
 * docs/CONFIG.md; `calendar` and `routes` are kept as YAML nodes and interpreted elsewhere (they
 * are for routing, which reads them through directory_section).
 */
#ifndef GB_DIRECTORY_H
#define GB_DIRECTORY_H

#include <stdbool.h>
#include <stddef.h>

struct fy_node;

typedef struct {
    const char *id, *name;
    const char *const *roles; /* known role names (see directory_roles) */
    size_t nroles;
    const char *const *grids; /* grid ids, as listed; none = community-wide */
    size_t ngrids;
    const char *org; /* organisation or team, e.g. "鸿瑞物业"; NULL if not given */
} directory_member_t;

typedef struct {
    const char *id, *name;
    const char *const *compounds; /* compound ids on this grid, sorted */
    size_t ncompounds;
} directory_grid_t;

typedef struct {
    const char *id, *name, *grid;
} directory_compound_t;

typedef struct directory directory_t;

/* NULL + "FILE:LINE:COL: msg" on error: duplicate ids, unknown grid referenced by a member
 * or compound, unknown role name, ids not matching [A-Za-z0-9._:-]{1,64}, unknown keys. */
directory_t *directory_load(const char *path, char *err, size_t errlen);
void directory_destroy(directory_t **self_p);

/* id is not NUL-terminated; NULL if absent. */
const directory_member_t *directory_member(const directory_t *self, const char *id, size_t len);
const directory_grid_t *directory_grid(const directory_t *self, const char *id, size_t len);
const directory_compound_t *directory_compound(const directory_t *self, const char *id, size_t len);

bool directory_member_has_role(const directory_member_t *m, const char *role);
/* Whether m works on grid: it lists the grid, or lists none (community-wide). */
bool directory_member_serves(const directory_member_t *m, const char *grid, size_t len);

const char *directory_community_id(const directory_t *self);
const char *directory_community_name(const directory_t *self);
const char *directory_subdistrict(const directory_t *self);
/* A value of community.attributes (e.g. "entrances" -> "35"), or NULL. */
const char *directory_attribute(const directory_t *self, const char *key);

size_t directory_member_count(const directory_t *self);
size_t directory_grid_count(const directory_t *self);
size_t directory_compound_count(const directory_t *self);
/* In id order, index < the count; for scans such as "every police officer on g2". */
const directory_member_t *directory_member_at(const directory_t *self, size_t index);
const directory_grid_t *directory_grid_at(const directory_t *self, size_t index);
const directory_compound_t *directory_compound_at(const directory_t *self, size_t index);

/* The members holding role, in id order (*n of them; none for an unknown role). */
const directory_member_t *const *directory_holders(const directory_t *self, const char *role,
                                                   size_t *n);

/* The known role names, for validation and documentation; *n gets their number. */
const char *const *directory_roles(size_t *n);

/* The file the directory was loaded from. */
const char *directory_path(const directory_t *self);
/* A top-level section kept as raw YAML for a later consumer ("calendar", "routes"), NULL if
 * absent; valid until directory_destroy. Report errors in it with yamlutil_fail and
 * directory_path, which give the right file:line:column. */
struct fy_node *directory_section(const directory_t *self, const char *name);

#endif
