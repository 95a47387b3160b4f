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
    uint64_t reply_drops; /* replies ZeroMQ would not take (peer gone) */
} stats_t;

#endif
