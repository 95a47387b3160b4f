/*
 * op_replay: reads a stream back from a sequence number. Records are packed into scratch
 * first because the reply's array header needs their count, and a reply stops growing at
 * max_reply bytes so one request cannot make the daemon build a huge message; `next`
 * tells the client where to continue.
 */
#include "op.h"

#include <string.h>

typedef struct {
    msgpack_packer pk;
    uint32_t n;
    uint64_t last;
    size_t max_bytes;
    msgpack_sbuffer *buf;
} replay_t;

static int pack_event_record(void *arg, const store_event_t *ev)
{
    replay_t *r = arg;
    if (r->n > 0 && r->buf->size + ev->event_len > r->max_bytes)
        return 1;
    msgpack_pack_map(&r->pk, 3);
    wire_pack_cstr(&r->pk, "seq");
    msgpack_pack_uint64(&r->pk, ev->seq);
    wire_pack_cstr(&r->pk, "received_at");
    msgpack_pack_int64(&r->pk, ev->received_at);
    wire_pack_cstr(&r->pk, "event");
    msgpack_sbuffer_write(r->buf, ev->event, ev->event_len);
    r->n++;
    r->last = ev->seq;
    return 0;
}

static bool stream_is(gb_str_t s, const char *name)
{
    return s.len == strlen(name) && memcmp(s.ptr, name, s.len) == 0;
}

static int pack_feed_record(void *arg, uint64_t seq, const void *rec, size_t len)
{
    replay_t *r = arg;
    if (r->n > 0 && r->buf->size + len > r->max_bytes)
        return 1;
    msgpack_sbuffer_write(r->buf, rec, len);
    r->n++;
    r->last = seq;
    return 0;
}

/* The task feed: records whose topic starts with the filter. `next` moves past records
 * the filter skipped, so a selective subscriber does not rescan them. */
static int replay_tasks(op_ctx_t *ctx, const wire_request_t *req)
{
    replay_t r = {.max_bytes = ctx->max_reply, .buf = ctx->scratch};
    uint64_t from = req->from ? req->from : 1, scanned = 0;
    msgpack_sbuffer_clear(ctx->scratch);
    long n = taskdb_feed_read(ctx->taskdb, from, req->limit, req->filter.ptr, req->filter.len,
                              pack_feed_record, &r, &scanned);
    if (n < 0) {
        gb_error_t err;
        gb_error_set(&err, GB_E_STORAGE, "replay: %s", store_error(ctx->store));
        return op_refuse(ctx, req->rid, (gb_str_t){NULL, 0}, &err, true);
    }
    uint64_t next = scanned ? scanned + 1 : from;
    wire_pack_records_begin(ctx->reply, req->rid, next, taskdb_feed_head(ctx->taskdb), r.n);
    ctx->reply->callback(ctx->reply->data, ctx->scratch->data, ctx->scratch->size);
    return 0;
}

int op_replay(op_ctx_t *ctx, const wire_request_t *req)
{
    gb_error_t err;
    if (stream_is(req->stream, "tasks"))
        return replay_tasks(ctx, req);
    if (stream_is(req->stream, "alerts"))
        return op_replay_alerts(ctx, req);
    if (!stream_is(req->stream, "events")) {
        gb_error_set(&err, GB_E_SCHEMA, "stream: unknown stream '%.*s' (known: events, tasks, alerts)",
                     (int)(req->stream.len > 32 ? 32 : req->stream.len), req->stream.ptr);
        return op_refuse(ctx, req->rid, (gb_str_t){NULL, 0}, &err, true);
    }
    replay_t r = {.max_bytes = ctx->max_reply, .buf = ctx->scratch, .last = 0};
    msgpack_sbuffer_clear(ctx->scratch);
    msgpack_packer_init(&r.pk, ctx->scratch, msgpack_sbuffer_write);
    uint64_t from = req->from ? req->from : 1;
    if (store_read_events(ctx->store, from, req->limit, pack_event_record, &r) < 0) {
        gb_error_set(&err, GB_E_STORAGE, "replay: %s", store_error(ctx->store));
        return op_refuse(ctx, req->rid, (gb_str_t){NULL, 0}, &err, true);
    }
    uint64_t next = r.n ? r.last + 1 : from;
    wire_pack_records_begin(ctx->reply, req->rid, next, store_head(ctx->store), r.n);
    ctx->reply->callback(ctx->reply->data, ctx->scratch->data, ctx->scratch->size);
    return 0;
}
