/*
 * query: gridbus_t's look-ups (a task, pages of tasks, a month's statistics, a day's alerts,
 * a month's review pack) and the clock.
 *
 * Each is one request through client.c's ring (client_call), so timeouts, re-sends and nacks
 * behave as for ping and replay. Requests are packed by proto (wire_pack_query,
 * wire_pack_clock); what a result carries is handed out packed, as the daemon sent it, so a
 * newer daemon's extra fields reach the application without a library change.
 */
#include <string.h>

#include "client_int.h"
#include "event.h"
#include "wire.h"

static gb_str_t str_of(const char *s)
{
    return s && *s ? (gb_str_t){s, strlen(s)} : (gb_str_t){NULL, 0};
}

static void pack_query(msgpack_packer *pk, uint64_t rid, const void *arg)
{
    wire_pack_query(pk, rid, arg);
}

/* The field key of a result reply, of the given type; -1 (E_PROTO) when it is not there. */
static int result_field(gridbus_t *self, const wire_reply_t *rep, const char *key,
                        msgpack_object_type type, const msgpack_object **out)
{
    if (rep->op != WIRE_REPLY_RESULT)
        return client_fail(self, GRIDBUS_EPROTO, NULL, "query: the reply is not a result");
    *out = event_map_get(rep->root, key);
    if (!*out || (*out)->type != type)
        return client_fail(self, GRIDBUS_EPROTO, NULL, "query: the result has no %s", key);
    return 0;
}

int gridbus_query_task(gridbus_t *self, const char *id, const void **task, size_t *len)
{
    wire_query_args_t q = {.what = WIRE_Q_TASK, .id = str_of(id)};
    wire_reply_t rep;
    const msgpack_object *t;
    if (!q.id.len)
        return client_fail(self, GRIDBUS_EINVAL, NULL, "task: no id");
    if (client_call(self, pack_query, &q, &rep) < 0 ||
        result_field(self, &rep, "task", MSGPACK_OBJECT_MAP, &t) < 0)
        return -1;
    client_keep(self, t, task, len);
    return 0;
}

int gridbus_query_tasks(gridbus_t *self, const gridbus_tasks_query_t *query,
                        gridbus_record_fn *task, void *arg, uint64_t *next)
{
    wire_query_args_t q = {.what = WIRE_Q_TASKS};
    wire_reply_t rep;
    const msgpack_object *tasks;
    uint64_t after = 0;
    if (query) {
        q.grid = str_of(query->grid), q.assignee = str_of(query->assignee);
        q.status = str_of(query->status), q.overdue = query->overdue;
        q.after = query->after, q.limit = query->limit;
    }
    if (q.limit > WIRE_QUERY_LIMIT_MAX)
        return client_fail(self, GRIDBUS_EINVAL, NULL, "limit: must be 1..%d, not %u",
                           WIRE_QUERY_LIMIT_MAX, q.limit);
    if (client_call(self, pack_query, &q, &rep) < 0 ||
        result_field(self, &rep, "tasks", MSGPACK_OBJECT_ARRAY, &tasks) < 0)
        return -1;
    /* A missing `next` reads as 0: no further page, the safe end of a loop. */
    wire_get_u64(rep.root, "next", &after);
    client_each(self, tasks, task, arg);
    if (next)
        *next = after;
    return 0;
}

int gridbus_query_stats(gridbus_t *self, const char *month, const char *grid, const char *assignee,
                        const void **stats, size_t *len)
{
    wire_query_args_t q = {.what = WIRE_Q_STATS,
                           .month = str_of(month),
                           .grid = str_of(grid),
                           .assignee = str_of(assignee)};
    wire_reply_t rep;
    const msgpack_object *st;
    if (!q.month.len)
        return client_fail(self, GRIDBUS_EINVAL, NULL, "stats: no month (YYYY-MM)");
    if (client_call(self, pack_query, &q, &rep) < 0 ||
        result_field(self, &rep, "stats", MSGPACK_OBJECT_MAP, &st) < 0)
        return -1;
    client_keep(self, st, stats, len);
    return 0;
}

int gridbus_query_alert(gridbus_t *self, const char *id, const void **alert, size_t *len)
{
    wire_query_args_t q = {.what = WIRE_Q_ALERT, .id = str_of(id)};
    wire_reply_t rep;
    const msgpack_object *a;
    if (!q.id.len)
        return client_fail(self, GRIDBUS_EINVAL, NULL, "alert: no id");
    if (client_call(self, pack_query, &q, &rep) < 0 ||
        result_field(self, &rep, "alert", MSGPACK_OBJECT_MAP, &a) < 0)
        return -1;
    client_keep(self, a, alert, len);
    return 0;
}

int gridbus_query_alerts(gridbus_t *self, const char *day, const char *status, uint32_t limit,
                         gridbus_record_fn *alert, void *arg)
{
    wire_query_args_t q = {.what = WIRE_Q_ALERTS,
                           .day = str_of(day),
                           .status = str_of(status),
                           .limit = limit ? limit : WIRE_QUERY_LIMIT_MAX};
    wire_reply_t rep;
    const msgpack_object *alerts;
    if (!q.day.len)
        return client_fail(self, GRIDBUS_EINVAL, NULL, "alerts: no day (YYYY-MM-DD)");
    if (q.limit > WIRE_QUERY_LIMIT_MAX)
        return client_fail(self, GRIDBUS_EINVAL, NULL, "limit: must be 1..%d, not %u",
                           WIRE_QUERY_LIMIT_MAX, q.limit);
    if (client_call(self, pack_query, &q, &rep) < 0 ||
        result_field(self, &rep, "alerts", MSGPACK_OBJECT_ARRAY, &alerts) < 0)
        return -1;
    client_each(self, alerts, alert, arg);
    return 0;
}

int gridbus_query_audit(gridbus_t *self, const char *month, const void **audit, size_t *len)
{
    wire_query_args_t q = {.what = WIRE_Q_AUDIT, .month = str_of(month)};
    wire_reply_t rep;
    const msgpack_object *a;
    if (!q.month.len)
        return client_fail(self, GRIDBUS_EINVAL, NULL, "audit: no month (YYYY-MM)");
    if (client_call(self, pack_query, &q, &rep) < 0 ||
        result_field(self, &rep, "audit", MSGPACK_OBJECT_MAP, &a) < 0)
        return -1;
    client_keep(self, a, audit, len);
    return 0;
}

static void pack_clock(msgpack_packer *pk, uint64_t rid, const void *arg)
{
    wire_pack_clock(pk, rid, *(const int64_t *)arg);
}

int gridbus_clock(gridbus_t *self, int64_t set_ms, int64_t *now)
{
    wire_reply_t rep;
    const msgpack_object *t;
    if (set_ms < 0)
        return client_fail(self, GRIDBUS_EINVAL, NULL, "clock: set must be ms since the epoch");
    if (client_call(self, pack_clock, &set_ms, &rep) < 0)
        return -1;
    if (rep.op != WIRE_REPLY_RESULT || !(t = event_map_get(rep.root, "now")) ||
        (t->type != MSGPACK_OBJECT_POSITIVE_INTEGER && t->type != MSGPACK_OBJECT_NEGATIVE_INTEGER))
        return client_fail(self, GRIDBUS_EPROTO, NULL, "clock: the result has no now");
    if (now)
        *now = t->via.i64;
    return 0;
}
