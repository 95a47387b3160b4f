/*
 * op_stats: a month of cases in figures, for the monthly report and the joint review:
 * tasks by type and status, completed on time, overdue, repairs completed and fees
 * waived, for the community, per grid and per member. The month is the community's
 * (its calendar's time zone); a task belongs to the month it was opened in.
 */
#include "op.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint32_t tasks, open, completed, closed, on_time, overdue, repairs_completed;
    int64_t fees_fen, fees_waived_fen;
} tally_t;

typedef struct {
    const wire_query_args_t *q;
    const directory_t *dir;
    int64_t from, to;
    tally_t total;
    tally_t *grids, *members; /* by directory index */
    uint32_t by_type[STATS_TYPES_MAX];
    uint32_t by_status[TASK_STATUS_COUNT_];
} month_t;

static void count(tally_t *t, const task_t *task)
{
    bool completed = task->status == TASK_DONE || task->status == TASK_CLOSED;
    t->tasks++;
    t->open += task_is_open(task);
    t->closed += task->status == TASK_CLOSED;
    t->overdue += task->overdue_accept || task->overdue_complete;
    if (!completed)
        return;
    t->completed++;
    t->on_time += !task->complete_by || task->done_at <= task->complete_by;
    t->repairs_completed += strcmp(task->type, "repair.requested") == 0;
    t->fees_fen += task->fee_fen;
    t->fees_waived_fen += task->fee_waived_fen;
}

/* Index of a member or grid in the directory's sorted arrays, or -1. */
static long member_index(const directory_t *dir, const char *id)
{
    const directory_member_t *m = directory_member(dir, id, strlen(id));
    return m ? m - directory_member_at(dir, 0) : -1;
}

static long grid_index(const directory_t *dir, const char *id)
{
    const directory_grid_t *g = id[0] ? directory_grid(dir, id, strlen(id)) : NULL;
    return g ? g - directory_grid_at(dir, 0) : -1;
}

static bool matches(const wire_query_args_t *q, const task_t *t)
{
    return (!q->grid.len || (strlen(t->grid) == q->grid.len && !memcmp(t->grid, q->grid.ptr, q->grid.len))) &&
           (!q->assignee.len || (strlen(t->assignee) == q->assignee.len &&
                                 !memcmp(t->assignee, q->assignee.ptr, q->assignee.len)));
}

static int tally_one(void *arg, const task_t *t, const void *rec, size_t len)
{
    month_t *m = arg;
    (void)rec, (void)len;
    if (t->created_at < m->from || t->created_at >= m->to || !matches(m->q, t))
        return 0;
    count(&m->total, t);
    const schema_type_t *type = schema_type_find(t->type, strlen(t->type));
    if (type)
        m->by_type[schema_type_index(type)]++;
    if ((unsigned)t->status < TASK_STATUS_COUNT_)
        m->by_status[t->status]++;
    long g = grid_index(m->dir, t->grid), who = member_index(m->dir, t->assignee);
    if (g >= 0)
        count(&m->grids[g], t);
    if (who >= 0)
        count(&m->members[who], t);
    return 0;
}

static void pack_kv_u(msgpack_packer *pk, const char *k, uint64_t v)
{
    wire_pack_cstr(pk, k);
    msgpack_pack_uint64(pk, v);
}

static void pack_tally(msgpack_packer *pk, const tally_t *t)
{
    msgpack_pack_map(pk, 10);
    pack_kv_u(pk, "tasks", t->tasks);
    pack_kv_u(pk, "open", t->open);
    pack_kv_u(pk, "completed", t->completed);
    pack_kv_u(pk, "closed", t->closed);
    pack_kv_u(pk, "completed_on_time", t->on_time);
    wire_pack_cstr(pk, "on_time_rate");
    msgpack_pack_double(pk, t->completed ? (double)t->on_time / t->completed : 0.0);
    pack_kv_u(pk, "overdue", t->overdue);
    pack_kv_u(pk, "repairs_completed", t->repairs_completed);
    wire_pack_cstr(pk, "fees_fen"), msgpack_pack_int64(pk, t->fees_fen);
    wire_pack_cstr(pk, "fees_waived_fen"), msgpack_pack_int64(pk, t->fees_waived_fen);
}

static void pack_counts(msgpack_packer *pk, const char *key, const uint32_t *n, size_t count,
                        const char *(*name)(size_t))
{
    uint32_t nonzero = 0;
    for (size_t i = 0; i < count; i++)
        nonzero += n[i] != 0;
    wire_pack_cstr(pk, key);
    msgpack_pack_map(pk, nonzero);
    for (size_t i = 0; i < count; i++)
        if (n[i])
            pack_kv_u(pk, name(i), n[i]);
}

static const char *type_name(size_t i)
{
    return schema_types[i].name;
}

static const char *status_name(size_t i)
{
    return task_status_name((task_status_t)i);
}

/* A map of id -> tally for the entries that saw any task. */
static void pack_group(msgpack_packer *pk, const char *key, const tally_t *t, size_t n,
                       const char *(*id)(const directory_t *, size_t), const directory_t *dir)
{
    uint32_t used = 0;
    for (size_t i = 0; i < n; i++)
        used += t[i].tasks != 0;
    wire_pack_cstr(pk, key);
    msgpack_pack_map(pk, used);
    for (size_t i = 0; i < n; i++)
        if (t[i].tasks) {
            wire_pack_cstr(pk, id(dir, i));
            pack_tally(pk, &t[i]);
        }
}

static const char *grid_id(const directory_t *dir, size_t i)
{
    return directory_grid_at(dir, i)->id;
}

static const char *member_id(const directory_t *dir, size_t i)
{
    return directory_member_at(dir, i)->id;
}

static int parse_month(const gb_str_t *s, int *y, int *mo)
{
    char buf[8];
    memcpy(buf, s->ptr, 7);
    buf[7] = 0;
    return sscanf(buf, "%4d-%2d", y, mo) == 2 && *y >= 2000 && *y < 2100 && *mo >= 1 && *mo <= 12
               ? 0
               : -1;
}

static void pack_month(op_ctx_t *ctx, const wire_request_t *req, const month_t *m)
{
    msgpack_packer *pk = ctx->reply;
    size_t ng = directory_grid_count(m->dir), nm = directory_member_count(m->dir);
    wire_pack_result_begin(pk, req->rid, 1);
    wire_pack_cstr(pk, "stats");
    msgpack_pack_map(pk, 8);
    wire_pack_cstr(pk, "month"), wire_pack_str(pk, req->query.month);
    wire_pack_cstr(pk, "from"), msgpack_pack_int64(pk, m->from);
    wire_pack_cstr(pk, "to"), msgpack_pack_int64(pk, m->to);
    wire_pack_cstr(pk, "total"), pack_tally(pk, &m->total);
    pack_counts(pk, "by_type", m->by_type, (size_t)schema_type_count(), type_name);
    pack_counts(pk, "by_status", m->by_status, TASK_STATUS_COUNT_, status_name);
    pack_group(pk, "grids", m->grids, ng, grid_id, m->dir);
    pack_group(pk, "members", m->members, nm, member_id, m->dir);
}

int op_stats(op_ctx_t *ctx, const wire_request_t *req)
{
    month_t m = {.q = &req->query, .dir = community_directory(ctx->community)};
    const calendar_t *cal = community_calendar(ctx->community);
    gb_error_t err;
    int y, mo;
    if (parse_month(&req->query.month, &y, &mo) < 0) {
        gb_error_set(&err, GB_E_SCHEMA, "month: must be YYYY-MM");
        return op_refuse(ctx, req->rid, (gb_str_t){NULL, 0}, &err, true);
    }
    m.from = calendar_local_time(cal, y, mo, 1, 0, 0);
    m.to = calendar_local_time(cal, mo == 12 ? y + 1 : y, mo == 12 ? 1 : mo + 1, 1, 0, 0);
    m.grids = calloc(directory_grid_count(m.dir) + 1, sizeof *m.grids);
    m.members = calloc(directory_member_count(m.dir) + 1, sizeof *m.members);
    long rc = m.grids && m.members
                  ? taskdb_scan(ctx->taskdb, 0, NULL, 0, UINT32_MAX, tally_one, &m)
                  : -1;
    if (rc >= 0)
        pack_month(ctx, req, &m);
    free(m.grids);
    free(m.members);
    if (rc < 0) {
        gb_error_set(&err, GB_E_STORAGE, "stats: %s", store_error(ctx->store));
        return op_refuse(ctx, req->rid, (gb_str_t){NULL, 0}, &err, true);
    }
    return 0;
}
