/*
 * wire: decode requests and replies, pack requests and replies (PROTOCOL.md, "Requests").
 *
 * Before msgpack-c builds objects, a frame is walked once without allocating (mpr_scan):
 * every container's item count must fit in the bytes that remain and nesting stays under
 * WIRE_DEPTH_MAX. msgpack-c would otherwise size its allocation from a header's claimed
 * count, so a 5-byte frame claiming four billion items could reserve gigabytes.
 */
#include "wire.h"

#include <stdlib.h>
#include <string.h>

#include "mpr.h"

#define WIRE_DEPTH_MAX 32
#define WIRE_ZONE_CHUNK 8192

struct wire_decoder {
    msgpack_zone zone;
};

wire_decoder_t *wire_decoder_new(void)
{
    wire_decoder_t *d = calloc(1, sizeof *d);
    if (d && !msgpack_zone_init(&d->zone, WIRE_ZONE_CHUNK)) {
        free(d);
        return NULL;
    }
    return d;
}

void wire_decoder_destroy(wire_decoder_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    msgpack_zone_destroy(&(*self_p)->zone);
    free(*self_p);
    *self_p = NULL;
}

int wire_decode_object(wire_decoder_t *d, const void *buf, size_t len, const msgpack_object **obj,
                       gb_error_t *err)
{
    static msgpack_object none;
    size_t pos = 0, off = 0;
    *obj = &none;
    if (len == 0)
        return gb_error_set(err, GB_E_DECODE, "empty frame");
    if (mpr_scan(buf, len, WIRE_DEPTH_MAX, &pos) < 0)
        return gb_error_set(err, GB_E_DECODE, "not valid msgpack");
    if (pos != len)
        return gb_error_set(err, GB_E_DECODE, "%zu trailing bytes after the msgpack value",
                            len - pos);
    msgpack_zone_clear(&d->zone);
    msgpack_object *o = msgpack_zone_malloc(&d->zone, sizeof *o);
    if (!o)
        return gb_error_set(err, GB_E_DECODE, "out of memory decoding");
    msgpack_unpack_return rc = msgpack_unpack(buf, len, &off, &d->zone, o);
    if (rc != MSGPACK_UNPACK_SUCCESS)
        return gb_error_set(err, GB_E_DECODE, "not valid msgpack (code %d)", (int)rc);
    *obj = o;
    return 0;
}

bool wire_str_is(const msgpack_object *o, const char *s)
{
    size_t n = strlen(s);
    return o->type == MSGPACK_OBJECT_STR && o->via.str.size == n &&
           memcmp(o->via.str.ptr, s, n) == 0;
}

int wire_get_u64(const msgpack_object *map, const char *key, uint64_t *out)
{
    const msgpack_object *v = event_map_get(map, key);
    if (!v || v->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return -1;
    *out = v->via.u64;
    return 0;
}

int wire_get_str(const msgpack_object *map, const char *key, gb_str_t *out)
{
    const msgpack_object *v = event_map_get(map, key);
    if (!v || v->type != MSGPACK_OBJECT_STR)
        return -1;
    out->ptr = v->via.str.ptr, out->len = v->via.str.size;
    return 0;
}

static int decode_replay(const msgpack_object *root, wire_request_t *req, gb_error_t *err)
{
    const msgpack_object *from = event_map_get(root, "from"), *limit = event_map_get(root, "limit"),
                         *filter = event_map_get(root, "filter");
    if (wire_get_str(root, "stream", &req->stream) < 0)
        return gb_error_set(err, GB_E_SCHEMA, "stream: required, a string");
    req->from = 0, req->limit = WIRE_REPLAY_LIMIT_DEFAULT;
    if (from && wire_get_u64(root, "from", &req->from) < 0)
        return gb_error_set(err, GB_E_SCHEMA, "from: must be an integer >= 0");
    if (limit) {
        uint64_t n;
        if (wire_get_u64(root, "limit", &n) < 0 || n < 1 || n > WIRE_REPLAY_LIMIT_MAX)
            return gb_error_set(err, GB_E_SCHEMA, "limit: must be an integer from 1 to %d",
                                WIRE_REPLAY_LIMIT_MAX);
        req->limit = (uint32_t)n;
    }
    if (filter && wire_get_str(root, "filter", &req->filter) < 0)
        return gb_error_set(err, GB_E_SCHEMA, "filter: must be a string");
    return 0;
}

/* An optional string field: absent is fine, another type is E_SCHEMA. */
static int opt_str(const msgpack_object *root, const char *key, gb_str_t *out, gb_error_t *err)
{
    const msgpack_object *v = event_map_get(root, key);
    if (v && wire_get_str(root, key, out) < 0)
        return gb_error_set(err, GB_E_SCHEMA, "%s: must be a string", key);
    return 0;
}

static const char *const query_names[] = {"task", "tasks", "stats", "alerts", "alert", "audit"};
#define NQUERIES (sizeof query_names / sizeof query_names[0])

/* YYYY-MM-DD, digits where digits go (the calendar decides whether the day exists). */
static bool day_valid(gb_str_t d)
{
    if (d.len != 10 || d.ptr[4] != '-' || d.ptr[7] != '-')
        return false;
    for (size_t i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (d.ptr[i] < '0' || d.ptr[i] > '9'))
            return false;
    return true;
}

static int decode_query(const msgpack_object *root, wire_query_args_t *q, gb_error_t *err)
{
    gb_str_t what = {NULL, 0};
    const msgpack_object *overdue = event_map_get(root, "overdue");
    q->limit = WIRE_QUERY_LIMIT_DEFAULT;
    if (wire_get_str(root, "what", &what) < 0)
        return gb_error_set(err, GB_E_SCHEMA,
                            "what: required, one of task, tasks, stats, alerts, alert, audit");
    size_t i = 0;
    while (i < NQUERIES &&
           !(strlen(query_names[i]) == what.len && !memcmp(query_names[i], what.ptr, what.len)))
        i++;
    if (i == NQUERIES)
        return gb_error_set(err, GB_E_SCHEMA,
                            "what: must be one of task, tasks, stats, alerts, alert, audit");
    q->what = (wire_query_t)i;
    if (opt_str(root, "id", &q->id, err) < 0 || opt_str(root, "grid", &q->grid, err) < 0 ||
        opt_str(root, "assignee", &q->assignee, err) < 0 ||
        opt_str(root, "status", &q->status, err) < 0 ||
        opt_str(root, "month", &q->month, err) < 0 || opt_str(root, "day", &q->day, err) < 0)
        return -1;
    if (overdue && overdue->type != MSGPACK_OBJECT_BOOLEAN)
        return gb_error_set(err, GB_E_SCHEMA, "overdue: must be true or false");
    q->overdue = overdue && overdue->via.boolean;
    if (event_map_get(root, "after") && wire_get_u64(root, "after", &q->after) < 0)
        return gb_error_set(err, GB_E_SCHEMA, "after: must be an integer >= 0");
    if (event_map_get(root, "limit")) {
        uint64_t n;
        if (wire_get_u64(root, "limit", &n) < 0 || n < 1 || n > WIRE_QUERY_LIMIT_MAX)
            return gb_error_set(err, GB_E_SCHEMA, "limit: must be an integer from 1 to %d",
                                WIRE_QUERY_LIMIT_MAX);
        q->limit = (uint32_t)n;
    }
    if (q->what == WIRE_Q_TASK && !q->id.len)
        return gb_error_set(err, GB_E_SCHEMA, "id: required for what=task");
    if (q->what == WIRE_Q_ALERT && !q->id.len)
        return gb_error_set(err, GB_E_SCHEMA, "id: required for what=alert");
    if (q->what == WIRE_Q_ALERTS && !day_valid(q->day))
        return gb_error_set(err, GB_E_SCHEMA, "day: required for what=alerts, as YYYY-MM-DD");
    if (q->what == WIRE_Q_STATS && q->month.len != 7)
        return gb_error_set(err, GB_E_SCHEMA, "month: required for what=stats, as YYYY-MM");
    if (q->what == WIRE_Q_AUDIT && q->month.len != 7)
        return gb_error_set(err, GB_E_SCHEMA, "month: required for what=audit, as YYYY-MM");
    return 0;
}

static int decode_clock(const msgpack_object *root, wire_request_t *req, gb_error_t *err)
{
    uint64_t set = 0;
    if (event_map_get(root, "set") &&
        (wire_get_u64(root, "set", &set) < 0 || set < (uint64_t)SCHEMA_TIME_MIN ||
         set > (uint64_t)SCHEMA_TIME_MAX))
        return gb_error_set(err, GB_E_SCHEMA, "set: must be a time in ms since the epoch");
    req->clock_set = (int64_t)set;
    return 0;
}

static const struct {
    const char *name;
    wire_op_t op;
} ops[] = {
    {"publish", WIRE_OP_PUBLISH}, {"ping", WIRE_OP_PING},   {"replay", WIRE_OP_REPLAY},
    {"query", WIRE_OP_QUERY},     {"clock", WIRE_OP_CLOCK},
};

static int decode_op(const msgpack_object *root, wire_request_t *req, gb_error_t *err)
{
    const msgpack_object *op = event_map_get(root, "op");
    if (!op)
        return gb_error_set(err, GB_E_OP, "op: required");
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (wire_str_is(op, ops[i].name)) {
            req->op = ops[i].op;
            return 0;
        }
    if (op->type != MSGPACK_OBJECT_STR)
        return gb_error_set(err, GB_E_OP, "op: must be a string");
    return gb_error_set(err, GB_E_OP, "op: unknown operation '%.*s'",
                        (int)(op->via.str.size > 32 ? 32 : op->via.str.size), op->via.str.ptr);
}

int wire_decode_request(wire_decoder_t *d, const void *buf, size_t len, wire_request_t *req,
                        gb_error_t *err)
{
    memset(req, 0, sizeof *req);
    if (wire_decode_object(d, buf, len, &req->root, err) < 0)
        return -1;
    if (req->root->type != MSGPACK_OBJECT_MAP)
        return gb_error_set(err, GB_E_DECODE, "request: must be a map");
    req->rid = event_map_get(req->root, "rid");
    if (decode_op(req->root, req, err) < 0)
        return -1;
    switch (req->op) {
    case WIRE_OP_PUBLISH:
        req->event = event_map_get(req->root, "event");
        if (!req->event)
            return gb_error_set(err, GB_E_SCHEMA, "event: required for publish");
        return 0;
    case WIRE_OP_REPLAY:
        return decode_replay(req->root, req, err);
    case WIRE_OP_QUERY:
        return decode_query(req->root, &req->query, err);
    case WIRE_OP_CLOCK:
        return decode_clock(req->root, req, err);
    case WIRE_OP_PING:
        return 0;
    }
    return 0;
}

static const struct {
    const char *name;
    wire_reply_op_t op;
} reply_ops[] = {
    {"ack", WIRE_REPLY_ACK},         {"nack", WIRE_REPLY_NACK},     {"pong", WIRE_REPLY_PONG},
    {"records", WIRE_REPLY_RECORDS}, {"result", WIRE_REPLY_RESULT},
};

static int decode_reply_fields(const msgpack_object *root, wire_reply_t *rep, gb_error_t *err)
{
    gb_str_t code = {NULL, 0};
    const msgpack_object *dup = event_map_get(root, "dup");
    wire_get_str(root, "id", &rep->id);
    switch (rep->op) {
    case WIRE_REPLY_ACK:
        if (wire_get_u64(root, "seq", &rep->seq) < 0)
            return gb_error_set(err, GB_E_DECODE, "ack: seq missing");
        rep->dup = dup && dup->type == MSGPACK_OBJECT_BOOLEAN && dup->via.boolean;
        return 0;
    case WIRE_REPLY_NACK: {
        if (wire_get_str(root, "code", &code) < 0)
            return gb_error_set(err, GB_E_DECODE, "nack: code missing");
        int c = gb_code_from_name(code.ptr, code.len);
        rep->code = c < 0 ? GB_E_COUNT_ : (gb_code_t)c;
        wire_get_str(root, "error", &rep->error);
        return 0;
    }
    case WIRE_REPLY_PONG:
        wire_get_str(root, "version", &rep->version);
        rep->heads = event_map_get(root, "heads");
        return 0;
    case WIRE_REPLY_RESULT:
        return 0;
    case WIRE_REPLY_RECORDS:
        rep->records = event_map_get(root, "records");
        if (!rep->records || rep->records->type != MSGPACK_OBJECT_ARRAY)
            return gb_error_set(err, GB_E_DECODE, "records: array missing");
        wire_get_u64(root, "next", &rep->next);
        wire_get_u64(root, "head", &rep->head);
        return 0;
    }
    return 0;
}

int wire_decode_reply(wire_decoder_t *d, const void *buf, size_t len, wire_reply_t *rep,
                      gb_error_t *err)
{
    memset(rep, 0, sizeof *rep);
    if (wire_decode_object(d, buf, len, &rep->root, err) < 0)
        return -1;
    if (rep->root->type != MSGPACK_OBJECT_MAP)
        return gb_error_set(err, GB_E_DECODE, "reply: must be a map");
    rep->rid = event_map_get(rep->root, "rid");
    const msgpack_object *op = event_map_get(rep->root, "op");
    for (size_t i = 0; op && i < sizeof reply_ops / sizeof reply_ops[0]; i++)
        if (wire_str_is(op, reply_ops[i].name)) {
            rep->op = reply_ops[i].op;
            return decode_reply_fields(rep->root, rep, err);
        }
    return gb_error_set(err, GB_E_DECODE, "reply: unknown op");
}

void wire_pack_cstr(msgpack_packer *pk, const char *s)
{
    size_t n = strlen(s);
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, s, n);
}

void wire_pack_str(msgpack_packer *pk, gb_str_t s)
{
    msgpack_pack_str(pk, s.len);
    msgpack_pack_str_body(pk, s.ptr, s.len);
}

/* Opens a reply map of n fields plus rid when there is one, and packs op. */
static void pack_reply_head(msgpack_packer *pk, const msgpack_object *rid, const char *op,
                            uint32_t n)
{
    msgpack_pack_map(pk, n + 1 + (rid != NULL));
    wire_pack_cstr(pk, "op");
    wire_pack_cstr(pk, op);
    if (rid) {
        wire_pack_cstr(pk, "rid");
        msgpack_pack_object(pk, *rid);
    }
}

void wire_pack_ack(msgpack_packer *pk, const msgpack_object *rid, gb_str_t id, uint64_t seq,
                   bool dup)
{
    pack_reply_head(pk, rid, "ack", 3);
    wire_pack_cstr(pk, "id");
    wire_pack_str(pk, id);
    wire_pack_cstr(pk, "seq");
    msgpack_pack_uint64(pk, seq);
    wire_pack_cstr(pk, "dup");
    dup ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
}

void wire_pack_nack(msgpack_packer *pk, const msgpack_object *rid, gb_str_t id, gb_code_t code,
                    const char *msg)
{
    pack_reply_head(pk, rid, "nack", id.len ? 3 : 2);
    if (id.len) {
        wire_pack_cstr(pk, "id");
        wire_pack_str(pk, id);
    }
    wire_pack_cstr(pk, "code");
    wire_pack_cstr(pk, gb_code_name(code));
    wire_pack_cstr(pk, "error");
    wire_pack_cstr(pk, msg);
}

void wire_pack_pong(msgpack_packer *pk, const msgpack_object *rid, const char *version,
                    const wire_head_t *heads, size_t nheads)
{
    pack_reply_head(pk, rid, "pong", 3);
    wire_pack_cstr(pk, "version");
    wire_pack_cstr(pk, version);
    wire_pack_cstr(pk, "protocol");
    msgpack_pack_int(pk, WIRE_PROTOCOL_VERSION);
    wire_pack_cstr(pk, "heads");
    msgpack_pack_map(pk, nheads);
    for (size_t i = 0; i < nheads; i++) {
        wire_pack_cstr(pk, heads[i].name);
        msgpack_pack_uint64(pk, heads[i].head);
    }
}

void wire_pack_records_begin(msgpack_packer *pk, const msgpack_object *rid, uint64_t next,
                             uint64_t head, uint32_t n)
{
    pack_reply_head(pk, rid, "records", 3);
    wire_pack_cstr(pk, "next");
    msgpack_pack_uint64(pk, next);
    wire_pack_cstr(pk, "head");
    msgpack_pack_uint64(pk, head);
    wire_pack_cstr(pk, "records");
    msgpack_pack_array(pk, n);
}

void wire_pack_result_begin(msgpack_packer *pk, const msgpack_object *rid, uint32_t n)
{
    pack_reply_head(pk, rid, "result", n);
}

static void pack_opt(msgpack_packer *pk, const char *key, gb_str_t v)
{
    if (!v.len)
        return;
    wire_pack_cstr(pk, key);
    wire_pack_str(pk, v);
}

void wire_pack_query(msgpack_packer *pk, uint64_t rid, const wire_query_args_t *q)
{
    uint32_t n = 3 + !!q->id.len + !!q->grid.len + !!q->assignee.len + !!q->status.len +
                 !!q->month.len + !!q->day.len + q->overdue + !!q->after + !!q->limit;
    msgpack_pack_map(pk, n);
    wire_pack_cstr(pk, "op"), wire_pack_cstr(pk, "query");
    wire_pack_cstr(pk, "rid"), msgpack_pack_uint64(pk, rid);
    wire_pack_cstr(pk, "what"), wire_pack_cstr(pk, query_names[q->what]);
    pack_opt(pk, "id", q->id), pack_opt(pk, "grid", q->grid);
    pack_opt(pk, "assignee", q->assignee), pack_opt(pk, "status", q->status);
    pack_opt(pk, "month", q->month), pack_opt(pk, "day", q->day);
    if (q->overdue)
        wire_pack_cstr(pk, "overdue"), msgpack_pack_true(pk);
    if (q->after)
        wire_pack_cstr(pk, "after"), msgpack_pack_uint64(pk, q->after);
    if (q->limit)
        wire_pack_cstr(pk, "limit"), msgpack_pack_uint32(pk, q->limit);
}

void wire_pack_clock(msgpack_packer *pk, uint64_t rid, int64_t set_ms)
{
    msgpack_pack_map(pk, set_ms ? 3 : 2);
    wire_pack_cstr(pk, "op"), wire_pack_cstr(pk, "clock");
    wire_pack_cstr(pk, "rid"), msgpack_pack_uint64(pk, rid);
    if (set_ms)
        wire_pack_cstr(pk, "set"), msgpack_pack_int64(pk, set_ms);
}

void wire_pack_publish(msgpack_packer *pk, uint64_t rid, const void *event, size_t event_len)
{
    msgpack_pack_map(pk, 3);
    wire_pack_cstr(pk, "op");
    wire_pack_cstr(pk, "publish");
    wire_pack_cstr(pk, "rid");
    msgpack_pack_uint64(pk, rid);
    wire_pack_cstr(pk, "event");
    /* The event is already msgpack: append its bytes as the value. */
    pk->callback(pk->data, event, event_len);
}

void wire_pack_ping(msgpack_packer *pk, uint64_t rid)
{
    msgpack_pack_map(pk, 2);
    wire_pack_cstr(pk, "op");
    wire_pack_cstr(pk, "ping");
    wire_pack_cstr(pk, "rid");
    msgpack_pack_uint64(pk, rid);
}

void wire_pack_replay(msgpack_packer *pk, uint64_t rid, const char *stream, uint64_t from,
                      uint32_t limit, const char *filter)
{
    msgpack_pack_map(pk, filter ? 6 : 5);
    wire_pack_cstr(pk, "op");
    wire_pack_cstr(pk, "replay");
    wire_pack_cstr(pk, "rid");
    msgpack_pack_uint64(pk, rid);
    wire_pack_cstr(pk, "stream");
    wire_pack_cstr(pk, stream);
    wire_pack_cstr(pk, "from");
    msgpack_pack_uint64(pk, from);
    wire_pack_cstr(pk, "limit");
    msgpack_pack_uint32(pk, limit);
    if (filter) {
        wire_pack_cstr(pk, "filter");
        wire_pack_cstr(pk, filter);
    }
}
