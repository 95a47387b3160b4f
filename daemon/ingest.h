/*
 * ingest: the group-commit batch between the two input sockets and the store.
 *
 * The ingest ROUTER (requests with replies) and the publish SUB (fire-and-forget) are read
 * into one batch; a lower-priority event then runs the whole batch in a single LMDB write
 * transaction, commits it (fsync), and only then sends the replies. While the batch is
 * full the sockets are not read, so back-pressure reaches the senders through ZeroMQ's
 * high-water marks instead of growing memory here.
 */
#ifndef GB_INGEST_H
#define GB_INGEST_H

#include <event2/event.h>
#include <stdint.h>

#include "alerts.h"
#include "cases.h"
#include "community.h"
#include "feed.h"
#include "stats.h"
#include "store.h"
#include "taskdb.h"

/* The libevent priority of the flush; the base needs INGEST_PRIORITIES levels. The flush
 * runs last, after every socket read of the loop turn. */
#define INGEST_PRIORITIES 3

typedef struct ingest ingest_t;

typedef struct {
    store_t *store;
    const community_t *community;
    taskdb_t *taskdb;
    cases_t *cases;
    alertdb_t *alertdb; /* the alert loop (NULL: none) */
    alerts_t *alerts;
    feed_t *alerts_feed; /* the alerts feed: published after each commit, dropped on abort */
    void (*committed)(void *arg); /* after each commit and publish (re-arm deadlines) */
    void *committed_arg;
    bool allow_clock;
    stats_t *stats;
    uint32_t batch_max;   /* requests per write transaction */
    uint32_t read_budget; /* requests read from one socket per wake-up */
    uint32_t max_message; /* frames over this get E_TOO_LARGE */
    /* requests of one connection in one batch (limits.inflight_max); more get E_BUSY */
    uint32_t inflight_max;
} ingest_opts_t;

/* router: the bound ingest ROUTER; sub: the bound publish SUB (may be NULL). */
ingest_t *ingest_new(struct event_base *base, void *router, void *sub, const ingest_opts_t *opts);
void ingest_destroy(ingest_t **self_p);

/* The community that new events are checked against and routed by (reload). */
void ingest_set_community(ingest_t *self, const community_t *community);

/* Stops reading both sockets and commits and answers the batch in hand, now. */
void ingest_shutdown(ingest_t *self);

#endif
