/*
 * community: loads directory, calendar and routes together (see community.h).
 */
#include "community.h"

#include <stdio.h>
#include <stdlib.h>

struct community {
    directory_t *directory;
    calendar_t *calendar;
    routes_t *routes;
    alertcfg_t *alerts;
    int64_t *accept_ms, *complete_ms; /* by route index */
};

static int convert(const community_t *c, const char *text, const route_t *r, int64_t *ms,
                   const char *path, char *err, size_t errlen)
{
    char why[256];
    *ms = 0;
    if (!text)
        return 0;
    if (calendar_parse_duration(c->calendar, text, ms, why, sizeof why) < 0) {
        snprintf(err, errlen, "%s:%d: route %s: %s", path, r->line, r->name, why);
        return -1;
    }
    return 0;
}

static int convert_deadlines(community_t *c, const char *path, char *err, size_t errlen)
{
    size_t n = routes_count(c->routes);
    c->accept_ms = calloc(n + 1, sizeof *c->accept_ms);
    c->complete_ms = calloc(n + 1, sizeof *c->complete_ms);
    if (!c->accept_ms || !c->complete_ms)
        return snprintf(err, errlen, "out of memory"), -1;
    for (size_t i = 0; i < n; i++) {
        const route_t *r = routes_at(c->routes, i);
        if (convert(c, r->accept_within, r, &c->accept_ms[i], path, err, errlen) < 0 ||
            convert(c, r->complete_within, r, &c->complete_ms[i], path, err, errlen) < 0)
            return -1;
    }
    return 0;
}

community_t *community_load(const char *path, char *err, size_t errlen)
{
    community_t *c = calloc(1, sizeof *c);
    if (!c)
        return snprintf(err, errlen, "out of memory"), NULL;
    c->directory = directory_load(path, err, errlen);
    if (!c->directory)
        goto fail;
    struct fy_node *cal = directory_section(c->directory, "calendar");
    c->calendar = cal ? calendar_load(cal, path, err, errlen) : calendar_new_default();
    if (!c->calendar)
        goto fail;
    struct fy_node *routes = directory_section(c->directory, "routes");
    if (!routes) {
        snprintf(err, errlen, "%s: no routes: section (every community needs at least a default route)",
                 path);
        goto fail;
    }
    c->routes = routes_load(routes, path, c->directory, err, errlen);
    if (!c->routes || convert_deadlines(c, path, err, errlen) < 0)
        goto fail;
    c->alerts =
        alertcfg_load(directory_section(c->directory, "alerts"), path, c->directory, err, errlen);
    if (!c->alerts)
        goto fail;
    return c;
fail:
    community_destroy(&c);
    return NULL;
}

void community_destroy(community_t **self_p)
{
    community_t *c = self_p ? *self_p : NULL;
    if (!c)
        return;
    routes_destroy(&c->routes);
    alertcfg_destroy(&c->alerts);
    calendar_destroy(&c->calendar);
    directory_destroy(&c->directory);
    free(c->accept_ms);
    free(c->complete_ms);
    free(c);
    *self_p = NULL;
}

const directory_t *community_directory(const community_t *self)
{
    return self->directory;
}

const calendar_t *community_calendar(const community_t *self)
{
    return self->calendar;
}

const routes_t *community_routes(const community_t *self)
{
    return self->routes;
}

const alertcfg_t *community_alerts(const community_t *self)
{
    return self->alerts;
}

static size_t route_index(const community_t *self, const route_t *r)
{
    size_t n = routes_count(self->routes);
    for (size_t i = 0; i < n; i++)
        if (routes_at(self->routes, i) == r)
            return i;
    return n; /* a zero entry */
}

int64_t community_accept_within(const community_t *self, const route_t *r)
{
    return self->accept_ms[route_index(self, r)];
}

int64_t community_complete_within(const community_t *self, const route_t *r)
{
    return self->complete_ms[route_index(self, r)];
}
