/*
 * metrics: gridbusd's figures in the Prometheus text exposition format (version 0.0.4),
 * for GET /metrics (docs/HTTP.md lists every family).
 *
 * Counters come from the ingest path's stats_t and the case loop's cases_stats; the batch
 * size and commit time histograms are filled by ingest.c through metrics_observe_*;
 * gauges (open and overdue tasks per grid, stream heads, dead letters, map size and use)
 * are read from the store at scrape time, so they can never drift from what is stored.
 *
 * Feed peers: a PUB socket does not tell how many subscribers it has. What can be known
 * honestly is how many connections it holds, so each feed's PUB socket is watched with
 * zmq_socket_monitor (accepted minus disconnected connections, matched by fd so that a
 * connection made before the watch began is never subtracted). A connected peer may
 * subscribe to nothing; the metric is named and documented as connections for that reason.
 */
#ifndef GB_METRICS_H
#define GB_METRICS_H

#include <event2/buffer.h>
#include <event2/event.h>
#include <stdint.h>

#include "alertdb.h"
#include "cases.h"
#include "community.h"
#include "stats.h"
#include "store.h"
#include "taskdb.h"

/* A monotonic clock in nanoseconds, for timing the commit. */
uint64_t metrics_clock_ns(void);

/* One committed batch of `requests` requests, and one store_commit that took ns. */
void metrics_observe_batch(stats_t *s, uint32_t requests);
void metrics_observe_commit(stats_t *s, uint64_t ns);

typedef struct metrics metrics_t;

typedef struct {
    store_t *store;
    taskdb_t *taskdb;
    alertdb_t *alertdb; /* the alert gauge; NULL: none */
    const cases_t *cases;
    const community_t *community; /* its grids label the task gauges */
    const stats_t *stats;         /* the ingest path's counters */
    uint64_t map_size_max;        /* store.map_size_max */
} metrics_opts_t;

/* zctx: the context of the feed sockets (the monitors' PAIR sockets live in it). */
metrics_t *metrics_new(struct event_base *base, void *zctx, const metrics_opts_t *opts);

/* Stops the feed monitors and closes their sockets: before the feeds' sockets are closed
 * and before zmq_ctx_term. */
void metrics_destroy(metrics_t **self_p);

/* Counts the connections of the PUB socket pub under feed="name" from now on. 0 or -1. */
int metrics_watch_feed(metrics_t *self, void *pub, const char *name);

/* The community whose grids label the task gauges (reload). */
void metrics_set_community(metrics_t *self, const community_t *community);

/* One HTTP response sent with status code (gridbus_http_responses_total). */
void metrics_count_http(metrics_t *self, int status);

/* Appends the whole exposition to out. 0, or -1 when the store could not be read (out
 * then holds a partial text that must not be served). */
int metrics_render(metrics_t *self, struct evbuffer *out);

#endif
