/*
 * match: the event matcher of the community directory, shared by routes and alert rules.
 *
 * A `match:` mapping (format in docs/CONFIG.md, "routes") selects events by their type (`type:
 * name` or a list of names), their envelope grid (`grid:`) and their body fields: a scalar is
 * equality, a list is "one of", and a one-key mapping is an operator: exists, nonempty, gt,
 * lt, in or eq. Every condition is checked at load time against the event schema of the
 * matched types and against the directory's grids, with "FILE:LINE:COL: LABEL: message"
 * errors, because a matcher that silently never matches is a rule that silently never fires.
 *
 * Matching runs once per event (and per route or rule) on the hot path: it reads the msgpack
 * body in place and allocates nothing. A loaded matcher owns all its strings, so it does not
 * depend on the YAML document or the directory it was loaded with.
 */
#ifndef GB_MATCH_H
#define GB_MATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "directory.h"
#include "event.h"

struct fy_node;

typedef struct match match_t;

/* Loads the `match:` mapping node of file. node NULL: match every field event, as `match: {}`
 * does. Without `type`, the matcher takes every field event type; follow-up types (task.*,
 * alert.*: they act on an existing task or alert) only when named, and only with
 * allow_followups (alert rules; routes keep "'T' is a follow-up: ... is not routed").
 * dir checks grid ids (NULL: not checked).
 *
 * label names the owner in every error and is "KIND 'NAME'" or "KIND #N" ("route 'fire-
 * hazard'", "alert rule 'x'"): errors read "FILE:LINE:COL: LABEL: match...: msg", and a field
 * absent from several types reads "... in the body of any of the KIND's event types". NULL with
 * err set for: not a mapping, unknown or (without allow_followups) follow-up types, types listed
 * twice or an empty type list, body fields no matched type has, values the schema rules out,
 * unknown operators or operators that do not fit the field, and unknown grids. */
match_t *match_load(struct fy_node *node, const char *file, const directory_t *dir,
                    const char *label, bool allow_followups, char *err, size_t errlen);
void match_destroy(match_t **self_p);

/* Whether ev (validated, so its type is known or NULL) satisfies the type and every
 * condition. Allocates nothing. */
bool match_event(const match_t *self, const gb_event_t *ev);

/* Whether an event of type may match: one of the types named, or of every field type when
 * none is (filled in at load). */
bool match_takes_type(const match_t *self, const schema_type_t *type);

/* True when loaded from NULL or `match: {}`: as written, it takes every field event (a
 * route's default). A matcher naming every type explicitly is not "everything". */
bool match_is_everything(const match_t *self);

#endif
