/*
 * gbtest: what the end-to-end tests need to talk to a real gridbusd over ZeroMQ.
 *
 * Events are built as JSON (jansson) so a test can change one field in a line and compare
 * a replayed event with the one it sent irrespective of key order; they travel as
 * msgpack, converted by the project's own jsonmp (proto/jsonmp.h). Requests are packed and
 * replies decoded with the project's own codec (proto/wire.h), so these tests also hold the client
 * half of the codec to the daemon. Every receive has a hang guard (GBT_WAIT_MS) that fails instead
 * of blocking; nothing here sleeps. Helpers return NULL or -1 on failure and leave the reason in
 * gbt_why().
 */
#ifndef GB_TEST_GBTEST_H
#define GB_TEST_GBTEST_H

#include <jansson.h>
#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jsonmp.h"
#include "wire.h"

/* Hang guard for one reply, in milliseconds. */
#define GBT_WAIT_MS 30000
/* The field time of test events: 2026-11-27T00:00:00Z. */
#define GBT_AT INT64_C(1795737600000)
#define GBT_MAX_FRAMES 8

/* The reason the last helper failed. */
const char *gbt_why(void);

/* All v1 event types, NULL-terminated; the first four are the field types. */
extern const char *const gbt_types[];
/* A valid body for type, every optional field left out. */
json_t *gbt_body(const char *type);
/* A valid event of type with id: v 1, at GBT_AT, by li.qiang, grid g1, a place, a body. */
json_t *gbt_event(const char *type, const char *id);

/* A socket of type with linger 0 and the hang guard as its send and receive timeouts.
 * Sockets are tracked so a test's teardown can close whatever a failed test left open
 * (zmq_ctx_term would otherwise wait for them for ever). */
void *gbt_socket(void *ctx, int type);
/* gbt_socket connected to endpoint. */
void *gbt_connect(void *ctx, int type, const char *endpoint);
void gbt_close(void *sock);
/* Closes every socket still open; call before zmq_ctx_term. */
void gbt_close_all(void);

/* A received multipart message. */
typedef struct {
    size_t n;
    unsigned char *data[GBT_MAX_FRAMES];
    size_t len[GBT_MAX_FRAMES];
} gbt_msg_t;

/* Packs a publish request for event (JSON) with rid into sb, which this initialises and
 * the caller destroys with msgpack_sbuffer_destroy. */
void gbt_pack_publish(msgpack_sbuffer *sb, uint64_t rid, const json_t *event);

/* Sends n frames; 0 or -1. */
int gbt_send_frames(void *sock, size_t n, const void *const *bufs, const size_t *lens);
/* Receives one whole message (within the socket's receive timeout); 0 or -1. */
int gbt_recv_msg(void *sock, gbt_msg_t *m);
void gbt_msg_free(gbt_msg_t *m);

/* A request-reply client over a DEALER on the ingest endpoint. The last reply, its JSON
 * view and its frames stay valid until the next call. */
typedef struct {
    void *sock;
    wire_decoder_t *dec;
    uint64_t rid;     /* the last rid used by the packing helpers */
    wire_reply_t rep; /* the last reply */
    json_t *json;     /* the last reply as JSON */
    gbt_msg_t msg;    /* the last reply's frames */
} gbt_client_t;

gbt_client_t *gbt_client_new(void *ctx, const char *endpoint);
void gbt_client_free(gbt_client_t **c_p);

/* Receives one reply of exactly one frame and decodes it; NULL on timeout or bad reply. */
const wire_reply_t *gbt_recv_reply(gbt_client_t *c);
/* Sends one raw frame and waits for its reply. */
const wire_reply_t *gbt_call_raw(gbt_client_t *c, const void *buf, size_t len);
/* Sends j (a request map) packed as msgpack and waits for the reply. */
const wire_reply_t *gbt_call_json(gbt_client_t *c, const json_t *j);
/* publish with rid ++c->rid (wire_pack_publish). */
const wire_reply_t *gbt_publish(gbt_client_t *c, const json_t *event);
/* ping with rid ++c->rid. */
const wire_reply_t *gbt_ping(gbt_client_t *c);
/* heads.events of a fresh ping, or -1. */
int64_t gbt_head(gbt_client_t *c);
/* Replays the events stream from `from` to its end, page by page; a JSON array of records
 * {seq, received_at, event}, or NULL. */
json_t *gbt_replay_all(gbt_client_t *c, uint64_t from);

/* Reply checks. */
bool gbt_str_is(gb_str_t s, const char *want);
bool gbt_starts_with(const char *s, const char *prefix);
bool gbt_rid_is(const wire_reply_t *r, uint64_t rid);
/* True when r is an ack for id (any seq). */
bool gbt_is_ack(const wire_reply_t *r, const char *id);
/* True when r is a nack with code. */
bool gbt_is_nack(const wire_reply_t *r, gb_code_t code);
/* A printable summary of the client's last reply, for assertion messages. */
const char *gbt_show(const gbt_client_t *c);

/* What the daemon acked: id -> {seq, event}, a JSON object. */
json_t *gbt_acked_new(void);
/* Records an ack; -1 when id was acked before with another seq. */
int gbt_acked_add(json_t *acked, const char *id, uint64_t seq, const json_t *event);
/* Checks a replayed log: seqs strictly increasing, no id twice, every acked id present once
 * with its acked seq and (when recorded) the same event. 0, or -1 with gbt_why(). */
int gbt_check_log(const json_t *acked, const json_t *records);
/* Publishes event and records its ack in acked: 0 when it was acked (not dup) with the
 * request's rid and the event's id, -1 otherwise. */
int gbt_publish_acked(gbt_client_t *c, json_t *acked, const json_t *event);
/* Index of the record for id in records, or -1. */
int gbt_find_record(const json_t *records, const char *id);

#endif
