/*
 * community: everything gridbusd knows about the community from its directory file, loaded
 * and replaced as one piece: the directory (grids, members, roles), the calendar (working
 * time), the routes (who owns which task, with deadlines in working time) and the alert
 * rules.
 *
 * A reload builds a complete new community before anything switches to it, so a bad file
 * leaves the running one untouched, and no event is ever checked against a directory from
 * one version and routed by routes from another.
 */
#ifndef GB_COMMUNITY_H
#define GB_COMMUNITY_H

#include <stddef.h>
#include <stdint.h>

#include "alertcfg.h"
#include "calendar.h"
#include "directory.h"
#include "routes.h"

typedef struct community community_t;

/* NULL with "FILE:LINE:COL: message" on any error in any part. */
community_t *community_load(const char *path, char *err, size_t errlen);
void community_destroy(community_t **self_p);

const directory_t *community_directory(const community_t *self);
const calendar_t *community_calendar(const community_t *self);
const routes_t *community_routes(const community_t *self);
/* The `alerts:` block (an empty configuration, no rules, when the file has none). */
const alertcfg_t *community_alerts(const community_t *self);

/* A route's deadlines as working time in ms (0: none), converted once at load. */
int64_t community_accept_within(const community_t *self, const route_t *r);
int64_t community_complete_within(const community_t *self, const route_t *r);

#endif
