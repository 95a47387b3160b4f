/*
 * http: gridbusd's HTTP endpoint (libevent's evhttp, in the daemon's one event loop):
 * health (/healthz, /readyz), Prometheus metrics (/metrics) and read-only JSON views of
 * tasks, statistics and events (/v1/...). docs/HTTP.md is the reference.
 *
 * The JSON views are the query and replay ops themselves: a request is turned into the
 * same msgpack request a ZeroMQ client sends, run through op_dispatch_request outside any
 * batch (reads use their own read transactions), and the msgpack reply is converted to
 * JSON by jsonmp. So HTTP and the wire answer alike, and a nack's code picks the status.
 *
 * Loopback by default. With http.token_file set, every request must carry
 * "Authorization: Bearer <token>"; binding anywhere but loopback without a token is
 * refused at start.
 */
#ifndef GB_HTTP_H
#define GB_HTTP_H

#include <event2/event.h>
#include <stddef.h>
#include <stdint.h>

#include "cases.h"
#include "community.h"
#include "stats.h"
#include "store.h"
#include "alertdb.h"
#include "taskdb.h"

typedef struct http http_t;

typedef struct {
    const char *endpoint;   /* endpoints.http: HOST:PORT, port 0 = chosen by the kernel */
    const char *token_file; /* http.token_file: an absolute path, or "none" */
    store_t *store;
    taskdb_t *taskdb;
    alertdb_t *alertdb; /* the audit pack's flags */
    cases_t *cases;
    const community_t *community;
    const stats_t *stats; /* the ingest path's counters, for /metrics */
    void *zctx;           /* the ZeroMQ context of the feed sockets */
    void *tasks_pub;      /* feeds whose connections /metrics counts (may be NULL) */
    void *alerts_pub;
    uint32_t max_message;  /* limits.max_message, as for requests on ingest */
    uint64_t map_size_max; /* store.map_size_max, for /metrics */
} http_opts_t;

/* Binds and starts serving in base. NULL with the reason in err (bad token file, cannot
 * bind, non-loopback address without a token). */
http_t *http_new(struct event_base *base, const http_opts_t *opts, char *err, size_t errlen);

/* Stops serving and closes every connection and the feed monitors: before the feed
 * sockets are closed and before zmq_ctx_term. */
void http_destroy(http_t **self_p);

/* "127.0.0.1:7480" as bound (the kernel's port when the configured one was 0). */
const char *http_endpoint(const http_t *self);

/* The community queries see from now on (reload). */
void http_set_community(http_t *self, const community_t *community);

/* The daemon is stopping: /readyz answers 503 from now on. */
void http_stopping(http_t *self);

#endif
