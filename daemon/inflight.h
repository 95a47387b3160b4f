/*
 * inflight: the cap on requests in flight per ingest connection (limits.inflight_max).
 *
 * A request is in flight from the moment the batch reads it until the batch's replies
 * leave, after the commit; nothing of a connection stays in flight between batches. So
 * the count is kept per batch: every request read from the ROUTER is counted against
 * its routing id, and those past the cap are answered E_BUSY without being run (not
 * stored, not dead-lettered: it is back-pressure, the client retries later). One
 * pipelining connection thus cannot take a whole batch while others wait.
 *
 * The counts live in an open-addressing table sized once for the largest batch and
 * emptied per batch by a generation stamp, so counting allocates and clears nothing.
 */
#ifndef GB_INFLIGHT_H
#define GB_INFLIGHT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "op.h"

typedef struct inflight inflight_t;

/* A table for batches of up to max_requests requests, allowing limit (>= 1) per
 * connection. NULL when out of memory or max_requests is absurdly large. */
inflight_t *inflight_new(uint32_t max_requests, uint32_t limit);
void inflight_destroy(inflight_t **self_p);

/* Forgets every count: the next batch starts. The ids given to inflight_admit since the
 * last reset may be released after this. */
void inflight_reset(inflight_t *self);

/* Counts one request from the connection whose routing id is id[0..len) (kept, not
 * copied, until the next reset). True while the connection is within the limit. */
bool inflight_admit(inflight_t *self, const void *id, size_t len);

/* Answers a request that was not admitted: an E_BUSY nack, with the request's rid when
 * its frame decodes as a map. Nothing else of the request is looked at. */
int inflight_refuse(const inflight_t *self, op_ctx_t *ctx, wire_decoder_t *dec,
                    const op_frame_t *f);

#endif
