/*
 * routes: which role owns the task an event creates, and who of that role gets it.
 *
 * The routes are the `routes:` list of the community directory (conf/daidong.yaml, format in
 * docs/CONFIG.md, "routes"). Each route matches field events on their type, their grid and
 * their body fields, and names the owning role, a fallback chain of roles and the deadlines
 * as written. The first matching route wins and the last one must be an explicit default, so
 * every field event has exactly one route. Everything that can be checked is checked at load
 * time against the event schema and the directory, with "FILE:LINE:COL: message" errors,
 * because a route that silently never matches sends tasks to the wrong person.
 *
 * Matching runs once per event on the hot path: it reads the msgpack body in place and
 * allocates nothing. Assignment (route_pick) picks, among the members holding the role on
 * the event's grid, the one with the fewest open tasks, as counted by the caller.
 */
#ifndef GB_ROUTES_H
#define GB_ROUTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "directory.h"
#include "event.h"

struct fy_node;

typedef struct {
    const char *name;
    bool creates_task;           /* false for `task: false`: matches, creates no task */
    bool is_default;             /* the last route, matching every field event */
    const char *role;            /* owning role (a directory_roles name); NULL when !creates_task */
    const char *const *fallback; /* roles tried in order when nobody holds `role` on the grid */
    size_t nfallback;
    /* Durations as written ("2h", "1d", "1h30m"), NULL if none. Only their syntax is checked
     * here; converting them to working time is the calendar's job. */
    const char *accept_within, *complete_within;
    int line; /* where the route starts in the file, for messages */
} route_t;

typedef struct routes routes_t;

/* Loads the `routes:` list (node, e.g. directory_section(dir, "routes")) of file. dir checks
 * grid ids named in matches (NULL: not checked). NULL with err = "FILE:LINE:COL: msg" for
 * unknown keys, unknown roles, unknown or follow-up event types, body fields not in the
 * schema of the matched types, values the schema rules out, bad durations, duplicate names,
 * no explicit default as the last route, and routes after the default. A NULL node (no
 * `routes:` section) is an error too: there is no default route. */
routes_t *routes_load(struct fy_node *node, const char *file, const directory_t *dir, char *err,
                      size_t errlen);
void routes_destroy(routes_t **self_p);

/* The first route matching ev; NULL for follow-up types (is_followup), which act on an
 * existing task and are not routed. Allocates nothing. */
const route_t *routes_match(const routes_t *self, const gb_event_t *ev);

size_t routes_count(const routes_t *self);
/* In file order; NULL past the count. */
const route_t *routes_at(const routes_t *self, size_t i);
/* The route called name, or NULL (e.g. to find a task's route again after a reload). */
const route_t *routes_find(const routes_t *self, const char *name);

/* Open tasks of member_id, as the caller counts them. */
typedef uint32_t (*route_load_fn)(void *arg, const char *member_id);

/* Who gets a task of route r on grid (grid_len bytes, not NUL-terminated; NULL or 0 for
 * grid-less events such as ledger entries: any member with the role). Among the members
 * holding r->role who serve the grid (directory_member_serves) and are not in exclude[]
 * (they returned the task), the one with the smallest load(arg, id) (load NULL: all 0), ties
 * going to the smaller id by strcmp so the choice is stable; if there is none, the same for
 * each fallback role in order. NULL when nobody at all (the task is parked unassigned) or
 * when r creates no task. */
const directory_member_t *route_pick(const route_t *r, const directory_t *dir, const char *grid,
                                     size_t grid_len, route_load_fn load, void *arg,
                                     const char *const *exclude, size_t nexclude);

#endif
