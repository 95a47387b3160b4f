/*
 * op: the handlers of ingest requests, one file per kind (op_publish.c, op_ping.c,
 * op_replay.c), all called by the batch inside its write transaction.
 *
 * A handler packs exactly one reply into ctx->reply and returns 0. It returns -1 only when
 * the store failed (ctx->store_rc says how), which aborts the whole batch: the batch is
 * then run again after the map grew, or every publish in it is refused with E_STORAGE.
 */
#ifndef GB_OP_H
#define GB_OP_H

#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>

#include "alerts.h"
#include "cases.h"
#include "directory.h"
#include "event.h"
#include "stats.h"
#include "store.h"
#include "taskdb.h"
#include "wire.h"

typedef struct {
    store_t *store;
    const directory_t *directory;
    const community_t *community;
    taskdb_t *taskdb;
    cases_t *cases;
    alertdb_t *alertdb; /* the alert loop: NULL in tools that run ops without one */
    alerts_t *alerts;
    bool allow_clock;         /* testing.allow_clock: the clock op may set the time */
    msgpack_packer *reply;    /* where the handler packs its reply: into a msgpack_sbuffer */
    msgpack_sbuffer *scratch; /* reusable buffer for canonical events and record lists */
    int64_t now;              /* ms since the epoch, the batch's receive time */
    bool storage_down;        /* the map is at its cap: refuse writes with E_STORAGE */
    store_rc_t store_rc;      /* set when a handler returns -1 */
    const char *source;       /* "ingest 127.0.0.1:41234", for dead letters; or NULL and: */
    void (*describe)(const void *item, char *buf, size_t len); /* formats it on demand */
    const void *item;
    const char *peer_member; /* with CURVE: the member the sender's key belongs to (ZAP
                              * User-Id); NULL without security */
    const void *input;       /* the raw request frame, for dead letters */
    size_t input_len;
    uint32_t max_message; /* frames over this get E_TOO_LARGE */
    uint32_t max_reply;   /* replay stops adding records past this many bytes */
    stats_t *stats;
    task_t *task_scratch;   /* one decoded task for queries */
    alert_t *alert_scratch; /* one decoded alert for queries */
} op_ctx_t;

/* One request as read from a socket: its bytes and what framing said about it. */
typedef struct {
    const void *data;
    size_t len;
    uint32_t extra_frames; /* frames after the body, already dropped */
    gb_str_t topic;        /* fire-and-forget: the [type] frame */
    bool has_topic;        /* fire-and-forget: a body frame followed the topic */
} op_frame_t;

/* Checks framing and size, decodes the request and runs its op. The reply (always one)
 * is packed into ctx->reply. */
int op_dispatch_request(op_ctx_t *ctx, wire_decoder_t *dec, const op_frame_t *f);

/* A [type][event] message from the publish socket: stored or dead-lettered, no reply. */
int op_dispatch_fire_and_forget(op_ctx_t *ctx, wire_decoder_t *dec, const op_frame_t *f);

/* Validates, stores and acks one event; nacks and dead-letters what it refuses. Without
 * reply (fire-and-forget) nothing is packed into ctx->reply. */
int op_publish(op_ctx_t *ctx, const msgpack_object *rid, const msgpack_object *event, bool reply);

int op_ping(op_ctx_t *ctx, const wire_request_t *req);
int op_query(op_ctx_t *ctx, const wire_request_t *req);
int op_stats(op_ctx_t *ctx, const wire_request_t *req);
int op_clock(op_ctx_t *ctx, const wire_request_t *req);
int op_replay(op_ctx_t *ctx, const wire_request_t *req);
/* op_alert.c: what=alert, what=alerts, stream=alerts. */
int op_query_alert(op_ctx_t *ctx, const wire_request_t *req);
int op_query_alerts(op_ctx_t *ctx, const wire_request_t *req);
int op_replay_alerts(op_ctx_t *ctx, const wire_request_t *req);
/* op_audit.c: what=audit, a month's ledger entries with their flags and totals. */
int op_audit(op_ctx_t *ctx, const wire_request_t *req);

/* Packs a nack and keeps the refused input as a dead letter. -1 when the store failed. */
int op_refuse(op_ctx_t *ctx, const msgpack_object *rid, gb_str_t id, const gb_error_t *err,
              bool reply);

#endif
