/*
 * wire: the one codec for gridbus requests and replies (PROTOCOL.md, "Requests").
 *
 * Both ends use it: the daemon decodes requests and packs replies, libgridbus packs
 * requests and decodes replies. Decoding fills plain structs whose strings and objects
 * point into a decoder-owned zone that lives until the next decode on the same decoder,
 * so a loop that decodes, acts and moves on allocates nothing per message.
 */
#ifndef GB_WIRE_H
#define GB_WIRE_H

#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>

#include "event.h"
#include "gb_code.h"

#define WIRE_PROTOCOL_VERSION 1
#define WIRE_REPLAY_LIMIT_MAX 1000
#define WIRE_REPLAY_LIMIT_DEFAULT 100

typedef enum {
    WIRE_OP_PUBLISH,
    WIRE_OP_PING,
    WIRE_OP_REPLAY,
    WIRE_OP_QUERY,
    WIRE_OP_CLOCK
} wire_op_t;

typedef enum {
    WIRE_REPLY_ACK,
    WIRE_REPLY_NACK,
    WIRE_REPLY_PONG,
    WIRE_REPLY_RECORDS,
    WIRE_REPLY_RESULT
} wire_reply_op_t;

#define WIRE_QUERY_LIMIT_MAX 500
#define WIRE_QUERY_LIMIT_DEFAULT 50

/* What a query asks for (PROTOCOL.md, "query"). */
typedef enum {
    WIRE_Q_TASK,
    WIRE_Q_TASKS,
    WIRE_Q_STATS,
    WIRE_Q_ALERTS,
    WIRE_Q_ALERT,
    WIRE_Q_AUDIT /* the month's ledger entries with their flags (the joint review) */
} wire_query_t;

typedef struct {
    wire_query_t what;
    gb_str_t id;                            /* task, alert */
    gb_str_t day;                           /* alerts: "YYYY-MM-DD" (status: optional) */
    gb_str_t grid, assignee, status, month; /* tasks (grid, assignee, status), stats (month, grid,
                                             * assignee), audit (month) */
    bool overdue;                           /* tasks: only overdue ones */
    uint64_t after;                         /* tasks: paging cursor, a task seq */
    uint32_t limit;
} wire_query_args_t;

typedef struct wire_decoder wire_decoder_t;

typedef struct {
    wire_op_t op;
    const msgpack_object *root; /* the whole request map */
    const msgpack_object *rid;  /* NULL when absent */
    /* publish */
    const msgpack_object *event;
    /* replay */
    gb_str_t stream, filter;
    uint64_t from;
    uint32_t limit;
    /* query */
    wire_query_args_t query;
    /* clock (test daemons only): set the clock to this ms, 0 = only read it */
    int64_t clock_set;
} wire_request_t;

typedef struct {
    const char *name; /* "events" */
    uint64_t head;
} wire_head_t;

typedef struct {
    wire_reply_op_t op;
    const msgpack_object *root;
    const msgpack_object *rid; /* NULL when absent */
    /* ack and nack */
    gb_str_t id;
    uint64_t seq;
    bool dup;
    gb_code_t code;
    gb_str_t error;
    /* pong */
    gb_str_t version;
    const msgpack_object *heads; /* map stream -> head */
    /* records */
    const msgpack_object *records; /* array */
    uint64_t next, head;
    /* result: the reply map itself (task, tasks, next, stats, now) */
} wire_reply_t;

wire_decoder_t *wire_decoder_new(void);
void wire_decoder_destroy(wire_decoder_t **self_p);

/* Unpacks one msgpack value filling all of buf (trailing bytes are E_DECODE). The object
 * lives until the next call on d. */
int wire_decode_object(wire_decoder_t *d, const void *buf, size_t len, const msgpack_object **obj,
                       gb_error_t *err);

/* Decodes a request frame. On -1, err says why (E_DECODE, E_OP, E_SCHEMA) and req->rid is
 * still set when the frame was a map carrying one, so the nack can echo it. */
int wire_decode_request(wire_decoder_t *d, const void *buf, size_t len, wire_request_t *req,
                        gb_error_t *err);

/* Decodes a reply frame (client side). */
int wire_decode_reply(wire_decoder_t *d, const void *buf, size_t len, wire_reply_t *rep,
                      gb_error_t *err);

/* Replies (daemon side). rid may be NULL; id may be {NULL, 0} when unknown. */
void wire_pack_ack(msgpack_packer *pk, const msgpack_object *rid, gb_str_t id, uint64_t seq,
                   bool dup);
void wire_pack_nack(msgpack_packer *pk, const msgpack_object *rid, gb_str_t id, gb_code_t code,
                    const char *msg);
void wire_pack_pong(msgpack_packer *pk, const msgpack_object *rid, const char *version,
                    const wire_head_t *heads, size_t nheads);
/* Opens a records reply; the caller then packs exactly n records, each a map. */
void wire_pack_records_begin(msgpack_packer *pk, const msgpack_object *rid, uint64_t next,
                             uint64_t head, uint32_t n);

/* Opens a result reply with n more fields, which the caller packs as key, value pairs. */
void wire_pack_result_begin(msgpack_packer *pk, const msgpack_object *rid, uint32_t n);

/* Requests (client side). rid is a client-chosen correlation number. */
void wire_pack_publish(msgpack_packer *pk, uint64_t rid, const void *event, size_t event_len);
void wire_pack_ping(msgpack_packer *pk, uint64_t rid);
/* A query: args fields left {NULL, 0} / 0 / false are not sent. */
void wire_pack_query(msgpack_packer *pk, uint64_t rid, const wire_query_args_t *args);
void wire_pack_clock(msgpack_packer *pk, uint64_t rid, int64_t set_ms);
void wire_pack_replay(msgpack_packer *pk, uint64_t rid, const char *stream, uint64_t from,
                      uint32_t limit, const char *filter);

/* Small packing helpers both ends use for map keys and string values. */
void wire_pack_cstr(msgpack_packer *pk, const char *s);
void wire_pack_str(msgpack_packer *pk, gb_str_t s);

/* Whether o is the string s (a map key, a field value). */
bool wire_str_is(const msgpack_object *o, const char *s);

/* Reads an unsigned integer field of a map: 0 when present and fitting, -1 otherwise. */
int wire_get_u64(const msgpack_object *map, const char *key, uint64_t *out);
/* Reads a string field of a map: 0 when present, -1 otherwise. */
int wire_get_str(const msgpack_object *map, const char *key, gb_str_t *out);

#endif
