/*
 * op_query: read-only look-ups of tasks: one task with its history, lists of tasks by
 * grid, assignee, status or overdue with paging, and a month's statistics per grid and
 * per member (tasks by type and status, on-time rate, repairs completed, fees waived):
 * the figures a monthly report needs, from one request.
 *
 * Open tasks are listed from their indexes; closed ones (status "closed" or "all") and the
 * monthly statistics walk the task table in seq order.
 */
#include "op.h"

#include <stdio.h>
#include <string.h>

static const gb_str_t no_id = {NULL, 0};

static bool str_is(gb_str_t s, const char *c)
{
    return s.len == strlen(c) && memcmp(s.ptr, c, s.len) == 0;
}

static bool text_is(gb_str_t s, const char *c)
{
    return !s.len || str_is(s, c);
}

static int query_task(op_ctx_t *ctx, const wire_request_t *req)
{
    const wire_query_args_t *q = &req->query;
    gb_error_t err;
    uint64_t seq;
    task_t *t = ctx->task_scratch;
    if (task_parse_id(q->id.ptr, q->id.len, &seq) < 0 || taskdb_get(ctx->taskdb, seq, t) != 0) {
        gb_error_set(&err, GB_E_TASK, "id: no task '%.*s'", (int)(q->id.len > 30 ? 30 : q->id.len),
                     q->id.ptr);
        return op_refuse(ctx, req->rid, no_id, &err, true);
    }
    wire_pack_result_begin(ctx->reply, req->rid, 1);
    wire_pack_cstr(ctx->reply, "task");
    task_pack(ctx->reply->data, t, true); /* ctx->reply writes into an sbuffer (op.h) */
    return 0;
}

typedef struct {
    const wire_query_args_t *q;
    int status; /* -1: any open status, -2: all */
    msgpack_packer pk;
    uint32_t n;
    uint64_t last;
} list_t;

static bool wanted(const list_t *l, const task_t *t)
{
    if (l->status == -1 && !task_is_open(t))
        return false;
    if (l->status >= 0 && (int)t->status != l->status)
        return false;
    if (l->q->overdue && !(task_is_open(t) && (t->overdue_accept || t->overdue_complete)))
        return false;
    return text_is(l->q->grid, t->grid) && text_is(l->q->assignee, t->assignee);
}

static int list_one(void *arg, const task_t *t, const void *rec, size_t len)
{
    list_t *l = arg;
    (void)rec, (void)len;
    l->last = t->seq;
    if (!wanted(l, t))
        return 0;
    task_pack(l->pk.data, t, false);
    return ++l->n >= l->q->limit;
}

/* Which index serves the query: open tasks by assignee, by grid, the overdue ones (by grid
 * or all), else the whole table. */
static long list_scan(op_ctx_t *ctx, list_t *l)
{
    const wire_query_args_t *q = l->q;
    char key[80];
    bool open_only = l->status == -1 || (l->status >= 0 && l->status != TASK_CLOSED);
    /* Scans stop at limit matches; skipped rows are bounded by the index or table. */
    uint32_t budget = UINT32_MAX;
    if (open_only && q->assignee.len) {
        snprintf(key, sizeof key, "%.*s", (int)q->assignee.len, q->assignee.ptr);
        return taskdb_scan(ctx->taskdb, 'a', key, q->after, budget, list_one, l);
    }
    if (open_only && q->grid.len) {
        snprintf(key, sizeof key, "%.*s", (int)q->grid.len, q->grid.ptr);
        return taskdb_scan(ctx->taskdb, q->overdue ? 'o' : 'g', key, q->after, budget, list_one, l);
    }
    if (q->overdue) /* overdue means open: only the overdue index */
        return taskdb_scan(ctx->taskdb, 'O', "", q->after, budget, list_one, l);
    return taskdb_scan(ctx->taskdb, 0, NULL, q->after, budget, list_one, l);
}

static int query_tasks(op_ctx_t *ctx, const wire_request_t *req)
{
    list_t l = {.q = &req->query, .status = -1};
    gb_error_t err;
    if (req->query.status.len) {
        l.status = str_is(req->query.status, "all")
                       ? -2
                       : task_status_from_name(req->query.status.ptr, req->query.status.len);
        if (l.status == -1) {
            gb_error_set(&err, GB_E_SCHEMA,
                         "status: must be one of dispatched, accepted, "
                         "in_progress, done, closed, parked, all");
            return op_refuse(ctx, req->rid, no_id, &err, true);
        }
    }
    msgpack_sbuffer_clear(ctx->scratch);
    msgpack_packer_init(&l.pk, ctx->scratch, msgpack_sbuffer_write);
    if (list_scan(ctx, &l) < 0) {
        gb_error_set(&err, GB_E_STORAGE, "query: %s", store_error(ctx->store));
        return op_refuse(ctx, req->rid, no_id, &err, true);
    }
    wire_pack_result_begin(ctx->reply, req->rid, 2);
    wire_pack_cstr(ctx->reply, "next");
    msgpack_pack_uint64(ctx->reply, l.n >= req->query.limit ? l.last : 0);
    wire_pack_cstr(ctx->reply, "tasks");
    msgpack_pack_array(ctx->reply, l.n);
    ctx->reply->callback(ctx->reply->data, ctx->scratch->data, ctx->scratch->size);
    return 0;
}

int op_query(op_ctx_t *ctx, const wire_request_t *req)
{
    switch (req->query.what) {
    case WIRE_Q_TASK:
        return query_task(ctx, req);
    case WIRE_Q_TASKS:
        return query_tasks(ctx, req);
    case WIRE_Q_STATS:
        return op_stats(ctx, req);
    case WIRE_Q_ALERTS:
        return op_query_alerts(ctx, req);
    case WIRE_Q_ALERT:
        return op_query_alert(ctx, req);
    case WIRE_Q_AUDIT:
        return op_audit(ctx, req);
    }
    return 0;
}
