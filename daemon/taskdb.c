/*
 * taskdb: see taskdb.h. Key layouts:
 *   tasks      [seq: 8 BE]                        -> task record (task_pack, with history)
 *   tidx       ['a'|'g'][member|grid]['\0'][seq 8] -> (empty): open tasks by assignee, by grid
 *   deadlines  [due: 8 BE][seq: 8 BE][kind: 1]     -> (empty): pending deadlines in time order
 *   feed       [feed seq: 8 BE]                    -> feed record
 *   tload      [member]                            -> open tasks assigned: u32 BE
 * tload is kept in step with the 'a' index (same diff), so an assignee's load is one get
 * instead of a walk over its open tasks.
 * Ids cannot hold a NUL, so the separator keeps "li" from matching "li.qiang".
 */
#include "taskdb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "be64.h"
#include "feedlog.h"
#include "wire.h"

#define IDX_KEY_MAX (1 + 80 + 1 + 8)
#define DL_KEY 17

struct taskdb {
    store_t *store;
    MDB_dbi tasks, tidx, deadlines, feed, tload;
    msgpack_zone zone;
    msgpack_sbuffer buf;    /* one task record */
    msgpack_sbuffer fields; /* the task's summary fields, shared by record and feed */
    task_t *scratch;        /* decoded record for scans */
};

taskdb_t *taskdb_new(store_t *store, char *err, size_t errlen)
{
    taskdb_t *self = calloc(1, sizeof *self);
    if (!self || !(self->scratch = malloc(sizeof *self->scratch)) ||
        !msgpack_zone_init(&self->zone, 4096)) {
        snprintf(err, errlen, "out of memory");
        free(self ? self->scratch : NULL);
        free(self);
        return NULL;
    }
    msgpack_sbuffer_init(&self->buf);
    msgpack_sbuffer_init(&self->fields);
    self->store = store;
    if (store_open_dbs(store, err, errlen, "task databases", "tasks", &self->tasks, "tidx",
                       &self->tidx, "deadlines", &self->deadlines, "feed", &self->feed, "tload",
                       &self->tload, NULL) < 0)
        taskdb_destroy(&self);
    return self;
}

void taskdb_destroy(taskdb_t **self_p)
{
    taskdb_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    msgpack_zone_destroy(&self->zone);
    msgpack_sbuffer_destroy(&self->buf);
    msgpack_sbuffer_destroy(&self->fields);
    free(self->scratch);
    free(self);
    *self_p = NULL;
}

static int decode(taskdb_t *self, const MDB_val *v, task_t *t)
{
    msgpack_object obj;
    size_t off = 0;
    msgpack_zone_clear(&self->zone);
    if (msgpack_unpack(v->mv_data, v->mv_size, &off, &self->zone, &obj) != MSGPACK_UNPACK_SUCCESS)
        return -1;
    return task_unpack(&obj, t);
}

int taskdb_get(taskdb_t *self, uint64_t seq, task_t *t)
{
    unsigned char key[8];
    MDB_val k = {8, key}, v;
    MDB_txn *txn;
    be64_put(key, seq);
    if (store_read_begin(self->store, &txn))
        return -1;
    int rc = mdb_get(txn, self->tasks, &k, &v);
    int result = rc == MDB_NOTFOUND ? 1 : rc ? -1 : decode(self, &v, t);
    store_read_end(self->store, txn);
    return result;
}

/* ---- derived keys ---- */

static size_t idx_key(unsigned char *out, char index, const char *id, uint64_t seq)
{
    size_t n = strlen(id);
    if (n > 80)
        n = 80;
    out[0] = (unsigned char)index;
    memcpy(out + 1, id, n);
    out[1 + n] = 0;
    be64_put(out + 2 + n, seq);
    return 2 + n + 8;
}

static void dl_key(unsigned char *out, int64_t due, uint64_t seq, deadline_kind_t kind)
{
    be64_put(out, (uint64_t)due);
    be64_put(out + 8, seq);
    out[16] = (unsigned char)kind;
}

static bool accept_pending(const task_t *t)
{
    return t && t->status == TASK_DISPATCHED && t->accept_by && !t->overdue_accept;
}

static bool complete_pending(const task_t *t)
{
    return t && t->complete_by && !t->overdue_complete &&
           (t->status == TASK_DISPATCHED || t->status == TASK_ACCEPTED ||
            t->status == TASK_IN_PROGRESS);
}

/* Puts or deletes one key so that its presence matches want. */
static store_rc_t sync_key(taskdb_t *self, MDB_dbi dbi, const unsigned char *key, size_t len,
                           bool had, bool want)
{
    MDB_val k = {len, (void *)key}, v = {0, NULL};
    int rc = 0;
    if (had && !want)
        rc = mdb_del(store_txn(self->store), dbi, &k, NULL);
    else if (want && !had)
        rc = mdb_put(store_txn(self->store), dbi, &k, &v, 0);
    return rc && rc != MDB_NOTFOUND ? store_fail(self->store, rc, "task index") : STORE_OK;
}

/* LMDB refuses empty keys: the parked tasks' "" assignee is counted under "-". */
static MDB_val load_key(const char *member)
{
    MDB_val k = {member[0] ? strlen(member) : 1, (void *)(member[0] ? member : "-")};
    return k;
}

static uint32_t load_get(MDB_txn *txn, MDB_dbi dbi, const char *member)
{
    MDB_val k = load_key(member), v;
    if (mdb_get(txn, dbi, &k, &v) != 0 || v.mv_size != 4)
        return 0;
    const unsigned char *p = v.mv_data;
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Adds delta (+1 or -1) to member's open-task count. */
static store_rc_t load_add(taskdb_t *self, const char *member, int delta)
{
    MDB_txn *txn = store_txn(self->store);
    uint32_t n = load_get(txn, self->tload, member);
    n = delta < 0 ? (n ? n - 1 : 0) : n + 1;
    unsigned char b[4] = {(unsigned char)(n >> 24), (unsigned char)(n >> 16),
                          (unsigned char)(n >> 8), (unsigned char)n};
    MDB_val k = load_key(member), v = {4, b};
    int rc = mdb_put(txn, self->tload, &k, &v, 0);
    return rc ? store_fail(self->store, rc, "task load") : STORE_OK;
}

static store_rc_t sync_index(taskdb_t *self, char index, const task_t *old, const task_t *t)
{
    unsigned char a[IDX_KEY_MAX], b[IDX_KEY_MAX];
    const char *was = old ? (index == 'a' ? old->assignee : old->grid) : NULL;
    const char *now = index == 'a' ? t->assignee : t->grid;
    bool had = old && task_is_open(old), want = task_is_open(t);
    if (had && want && strcmp(was, now) == 0)
        return STORE_OK;
    store_rc_t rc = STORE_OK;
    if (had)
        rc = sync_key(self, self->tidx, a, idx_key(a, index, was, old->seq), true, false);
    if (rc == STORE_OK && had && index == 'a')
        rc = load_add(self, was, -1);
    if (rc == STORE_OK && want)
        rc = sync_key(self, self->tidx, b, idx_key(b, index, now, t->seq), false, true);
    if (rc == STORE_OK && want && index == 'a')
        rc = load_add(self, now, +1);
    return rc;
}

static store_rc_t sync_deadline(taskdb_t *self, deadline_kind_t kind, const task_t *old,
                                const task_t *t)
{
    unsigned char a[DL_KEY], b[DL_KEY];
    bool (*pending)(const task_t *) = kind == DEADLINE_ACCEPT ? accept_pending : complete_pending;
    int64_t was = old ? (kind == DEADLINE_ACCEPT ? old->accept_by : old->complete_by) : 0;
    int64_t due = kind == DEADLINE_ACCEPT ? t->accept_by : t->complete_by;
    bool had = pending(old), want = pending(t);
    if (had == want && was == due)
        return STORE_OK;
    store_rc_t rc = STORE_OK;
    if (had)
        dl_key(a, was, old->seq, kind), rc = sync_key(self, self->deadlines, a, DL_KEY, true, false);
    if (rc == STORE_OK && want)
        dl_key(b, due, t->seq, kind), rc = sync_key(self, self->deadlines, b, DL_KEY, false, true);
    return rc;
}

/* The record: the summary fields (packed once, in self->fields) and the history. */
static store_rc_t put_record(taskdb_t *self, const task_t *t)
{
    unsigned char key[8];
    msgpack_packer pk;
    msgpack_sbuffer_clear(&self->buf);
    msgpack_packer_init(&pk, &self->buf, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, TASK_SUMMARY_FIELDS + 1);
    msgpack_sbuffer_write(&self->buf, self->fields.data, self->fields.size);
    task_pack_history(&pk, t);
    be64_put(key, t->seq);
    MDB_val k = {8, key}, v = {self->buf.size, self->buf.data};
    int rc = mdb_put(store_txn(self->store), self->tasks, &k, &v, 0);
    return rc ? store_fail(self->store, rc, "task") : STORE_OK;
}

static store_rc_t feed_append(taskdb_t *self, const task_t *t, const char *change, const char *by,
                              int64_t at, msgpack_sbuffer *out, char *topic, size_t topic_len);

store_rc_t taskdb_put(taskdb_t *self, const task_t *old, const task_t *t, const char *change,
                      const char *by, int64_t at, msgpack_sbuffer *out, char *topic,
                      size_t topic_len)
{
    msgpack_packer pk;
    msgpack_sbuffer_clear(&self->fields);
    msgpack_packer_init(&pk, &self->fields, msgpack_sbuffer_write);
    task_pack_fields(&pk, t);
    store_rc_t r;
    if ((r = put_record(self, t)) != STORE_OK || (r = sync_index(self, 'a', old, t)) != STORE_OK ||
        (r = sync_index(self, 'g', old, t)) != STORE_OK ||
        (r = sync_deadline(self, DEADLINE_ACCEPT, old, t)) != STORE_OK ||
        (r = sync_deadline(self, DEADLINE_COMPLETE, old, t)) != STORE_OK)
        return r;
    return feed_append(self, t, change, by, at, out, topic, topic_len);
}

uint32_t taskdb_load(taskdb_t *self, const char *member)
{
    MDB_txn *txn;
    if (store_read_begin(self->store, &txn))
        return 0;
    uint32_t n = load_get(txn, self->tload, member);
    store_read_end(self->store, txn);
    return n;
}

uint64_t taskdb_feed_head(taskdb_t *self)
{
    return feedlog_head(self->store, self->feed);
}

/* "task/<grid>/<assignee>", "-" for an empty part. */
static void format_topic(const task_t *t, char *topic, size_t len)
{
    const char *grid = t->grid[0] ? t->grid : "-", *who = t->assignee[0] ? t->assignee : "-";
    size_t g = strlen(grid), w = strlen(who);
    if (5 + g + 1 + w + 1 > len) {
        topic[0] = 0;
        return;
    }
    memcpy(topic, "task/", 5);
    memcpy(topic + 5, grid, g);
    topic[5 + g] = '/';
    memcpy(topic + 6 + g, who, w + 1);
}

static store_rc_t feed_append(taskdb_t *self, const task_t *t, const char *change, const char *by,
                              int64_t at, msgpack_sbuffer *out, char *topic, size_t topic_len)
{
    uint64_t seq = feedlog_head(self->store, self->feed) + 1; /* the batch's own view */
    msgpack_packer pk;
    format_topic(t, topic, topic_len);
    msgpack_sbuffer_clear(out);
    msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 6);
    wire_pack_cstr(&pk, "seq"), msgpack_pack_uint64(&pk, seq);
    wire_pack_cstr(&pk, "topic"), wire_pack_cstr(&pk, topic);
    wire_pack_cstr(&pk, "at"), msgpack_pack_int64(&pk, at);
    wire_pack_cstr(&pk, "change"), wire_pack_cstr(&pk, change);
    wire_pack_cstr(&pk, "by"), wire_pack_cstr(&pk, by);
    wire_pack_cstr(&pk, "task"), msgpack_pack_map(&pk, TASK_SUMMARY_FIELDS);
    msgpack_sbuffer_write(out, self->fields.data, self->fields.size);
    return feedlog_put(self->store, self->feed, seq, out->data, out->size, "task feed");
}

long taskdb_feed_read(taskdb_t *self, uint64_t from, uint32_t limit, const char *filter,
                      size_t filter_len, taskdb_record_fn fn, void *arg, uint64_t *last_seen)
{
    return feedlog_read(self->store, self->feed, from, limit, filter, filter_len, fn, arg,
                        last_seen);
}

int taskdb_next_deadline(taskdb_t *self, int64_t *due)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_val k, v;
    int found = 1;
    if (store_read_begin(self->store, &txn))
        return 1;
    if (mdb_cursor_open(txn, self->deadlines, &cur) == 0) {
        if (mdb_cursor_get(cur, &k, &v, MDB_FIRST) == 0 && k.mv_size == DL_KEY) {
            *due = (int64_t)be64_get(k.mv_data);
            found = 0;
        }
        mdb_cursor_close(cur);
    }
    store_read_end(self->store, txn);
    return found;
}

long taskdb_take_due(taskdb_t *self, int64_t now, taskdb_deadline_fn fn, void *arg)
{
    MDB_cursor *cur;
    MDB_val k, v;
    long n = 0;
    if (mdb_cursor_open(store_txn(self->store), self->deadlines, &cur))
        return -1;
    while (mdb_cursor_get(cur, &k, &v, MDB_FIRST) == 0 && k.mv_size == DL_KEY &&
           (int64_t)be64_get(k.mv_data) <= now) {
        unsigned char key[DL_KEY];
        memcpy(key, k.mv_data, DL_KEY);
        if (mdb_cursor_del(cur, 0))
            break;
        n++;
        if (fn(arg, be64_get(key + 8), (deadline_kind_t)key[16]) < 0) {
            n = -1;
            break;
        }
    }
    mdb_cursor_close(cur);
    return n;
}

typedef struct {
    taskdb_t *self;
    taskdb_task_fn fn;
    void *arg;
    uint32_t limit, n;
} scan_t;

static int visit_record(scan_t *s, MDB_txn *txn, uint64_t seq)
{
    unsigned char key[8];
    MDB_val k = {8, key}, v;
    be64_put(key, seq);
    /* Inside store_walk(): one thread may hold one read transaction, so reuse the walk's. */
    int rc = mdb_get(txn, s->self->tasks, &k, &v);
    int stop = 0;
    if (rc == 0 && decode(s->self, &v, s->self->scratch) == 0) {
        s->n++;
        stop = s->fn(s->arg, s->self->scratch, v.mv_data, v.mv_size) || s->n >= s->limit;
    }
    return stop;
}

static int scan_index(void *arg, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
    (void)v;
    return visit_record(arg, txn, be64_get((const unsigned char *)k->mv_data + k->mv_size - 8));
}

static int scan_tasks(void *arg, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
    scan_t *s = arg;
    (void)txn, (void)k;
    if (decode(s->self, v, s->self->scratch) < 0)
        return 0;
    s->n++;
    return s->fn(s->arg, s->self->scratch, v->mv_data, v->mv_size) || s->n >= s->limit;
}

long taskdb_scan(taskdb_t *self, char index, const char *key, uint64_t after, uint32_t limit,
                 taskdb_task_fn fn, void *arg)
{
    scan_t s = {self, fn, arg, limit, 0};
    unsigned char start[IDX_KEY_MAX];
    if (limit == 0)
        return 0;
    if (index == 0) {
        be64_put(start, after + 1);
        return store_walk(self->store, self->tasks, start, 8, 0, scan_tasks, &s) < 0 ? -1
                                                                                     : (long)s.n;
    }
    size_t n = idx_key(start, index, key, after + 1);
    return store_walk(self->store, self->tidx, start, n, n - 8, scan_index, &s) < 0 ? -1
                                                                                    : (long)s.n;
}
