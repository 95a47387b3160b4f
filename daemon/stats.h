/*
 * stats: the daemon's counters, kept in one plain struct that the ingest path bumps and
 * the status surfaces (log line on exit, STATUS=, later /metrics) read. Single-threaded,
 * so no atomics.
 */
#ifndef GB_STATS_H
#define GB_STATS_H

#include <stdint.h>

#include "gb_code.h"

#define STATS_TYPES_MAX 16
/* Histogram buckets, whose upper bounds are in metrics.c: batch sizes 1, 2, 4 ... 4096
 * requests and commit times 0.5 ms ... 1 s, each with one more slot for +Inf. Counts are
 * per bucket, not cumulative; metrics_observe_* (metrics.h) fill them. */
#define STATS_BATCH_BUCKETS 14
#define STATS_COMMIT_BUCKETS 12

typedef struct {
    uint64_t requests;                 /* ingest frames read */
    uint64_t published;                /* events newly stored */
    uint64_t duplicates;               /* resends acked with dup */
    uint64_t fire_and_forget;          /* events read on the publish socket */
    uint64_t by_type[STATS_TYPES_MAX]; /* stored events, by schema type index */
    uint64_t nacks[GB_E_COUNT_];       /* refusals by code */
    uint64_t batches;                  /* committed write transactions */
    uint64_t batch_items;              /* requests in those batches */
    uint64_t map_grows;
    uint64_t reply_drops;                     /* replies ZeroMQ would not take (peer gone) */
    uint64_t dup_by_type[STATS_TYPES_MAX];    /* duplicates acked, by schema type index */
    uint64_t batch_size[STATS_BATCH_BUCKETS]; /* committed batches by requests in them */
    uint64_t commit_ns[STATS_COMMIT_BUCKETS]; /* store_commit (with its fsync) by time */
    uint64_t commit_ns_sum;
} stats_t;

#endif
