/*
 * op_alert: the read side of the alert loop: one alert with its history, a day's alerts
 * (by status) with that day's digest when it has been made, and the replay of the alerts
 * feed. Writes to alerts only come from events (alert.acknowledged, alert.resolved), so
 * that every step is in the event log.
 */
#include "op.h"

#include <stdio.h>
#include <string.h>

static const gb_str_t no_id = {NULL, 0};

static int refuse(op_ctx_t *ctx, const wire_request_t *req, gb_code_t code, const char *what)
{
    gb_error_t err;
    gb_error_set(&err, code, "%s", what);
    return op_refuse(ctx, req->rid, no_id, &err, true);
}

int op_query_alert(op_ctx_t *ctx, const wire_request_t *req)
{
    const gb_str_t id = req->query.id;
    uint64_t seq;
    alert_t *a = ctx->alert_scratch;
    if (!ctx->alertdb || !a || alert_parse_id(id.ptr, id.len, &seq) < 0 ||
        alertdb_get(ctx->alertdb, seq, a) != 0) {
        char what[96];
        snprintf(what, sizeof what, "id: no alert '%.*s'", (int)(id.len > 30 ? 30 : id.len),
                 id.ptr);
        return refuse(ctx, req, GB_E_TASK, what);
    }
    wire_pack_result_begin(ctx->reply, req->rid, 1);
    wire_pack_cstr(ctx->reply, "alert");
    alert_pack(ctx->reply->data, a, true); /* ctx->reply writes into an sbuffer (op.h) */
    return 0;
}

typedef struct {
    msgpack_packer pk;
    int status; /* -1: all */
    uint32_t n, limit;
} list_t;

static int list_one(void *arg, const alert_t *a)
{
    list_t *l = arg;
    if (l->status >= 0 && (int)a->status != l->status)
        return 0;
    alert_pack(l->pk.data, a, false);
    return ++l->n >= l->limit;
}

static int status_of(gb_str_t s)
{
    static const char *const names[] = {"open", "acknowledged", "resolved", "all"};
    for (int i = 0; i < 4; i++)
        if (s.len == strlen(names[i]) && memcmp(s.ptr, names[i], s.len) == 0)
            return i == 3 ? -1 : i;
    return -2;
}

static int copy_record(void *arg, uint64_t seq, const void *rec, size_t len)
{
    msgpack_packer *pk = arg;
    (void)seq;
    pk->callback(pk->data, rec, len);
    return 1;
}

/* The day's digest record as it went out on the feed, or nil. */
static void pack_digest(op_ctx_t *ctx, const char *day)
{
    uint64_t seq, last;
    wire_pack_cstr(ctx->reply, "digest");
    if (alertdb_digest_get(ctx->alertdb, day, &seq) != 0 ||
        alertdb_feed_read(ctx->alertdb, seq, 1, NULL, 0, copy_record, ctx->reply, &last) < 0 ||
        last != 0)
        msgpack_pack_nil(ctx->reply);
}

int op_query_alerts(op_ctx_t *ctx, const wire_request_t *req)
{
    const wire_query_args_t *q = &req->query;
    list_t l = {.status = q->status.len ? status_of(q->status) : -1, .limit = q->limit};
    char day[ALERT_DAY_LEN + 1];
    if (l.status == -2)
        return refuse(ctx, req, GB_E_SCHEMA,
                      "status: must be one of open, acknowledged, resolved, all");
    if (!ctx->alertdb)
        return refuse(ctx, req, GB_E_STORAGE, "query: no alert store");
    snprintf(day, sizeof day, "%.*s", (int)q->day.len, q->day.ptr);
    msgpack_sbuffer_clear(ctx->scratch);
    msgpack_packer_init(&l.pk, ctx->scratch, msgpack_sbuffer_write);
    if (alertdb_scan(ctx->alertdb, day, list_one, &l) < 0)
        return refuse(ctx, req, GB_E_STORAGE, "query: store error");
    wire_pack_result_begin(ctx->reply, req->rid, 3);
    wire_pack_cstr(ctx->reply, "day"), wire_pack_cstr(ctx->reply, day);
    wire_pack_cstr(ctx->reply, "alerts");
    msgpack_pack_array(ctx->reply, l.n);
    ctx->reply->callback(ctx->reply->data, ctx->scratch->data, ctx->scratch->size);
    pack_digest(ctx, day);
    return 0;
}

typedef struct {
    uint32_t n;
    size_t max_bytes;
    msgpack_sbuffer *buf;
} replay_t;

static int pack_record(void *arg, uint64_t seq, const void *rec, size_t len)
{
    replay_t *r = arg;
    (void)seq;
    if (r->n > 0 && r->buf->size + len > r->max_bytes)
        return 1;
    msgpack_sbuffer_write(r->buf, rec, len);
    r->n++;
    return 0;
}

/* The alerts feed, exactly as the task feed: records whose topic starts with the filter,
 * `next` past the records the filter skipped. */
int op_replay_alerts(op_ctx_t *ctx, const wire_request_t *req)
{
    replay_t r = {0, ctx->max_reply, ctx->scratch};
    uint64_t from = req->from ? req->from : 1, scanned = 0;
    if (!ctx->alertdb)
        return refuse(ctx, req, GB_E_STORAGE, "replay: no alert store");
    msgpack_sbuffer_clear(ctx->scratch);
    long n = alertdb_feed_read(ctx->alertdb, from, req->limit, req->filter.ptr, req->filter.len,
                               pack_record, &r, &scanned);
    if (n < 0)
        return refuse(ctx, req, GB_E_STORAGE, "replay: store error");
    uint64_t next = scanned ? scanned + 1 : from;
    wire_pack_records_begin(ctx->reply, req->rid, next, alertdb_feed_head(ctx->alertdb), r.n);
    ctx->reply->callback(ctx->reply->data, ctx->scratch->data, ctx->scratch->size);
    return 0;
}
