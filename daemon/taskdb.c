/*
 * taskdb: see taskdb.h. Key layouts:
 *   tasks      [seq: 8 BE]                        -> task record (task_pack, with history)
 *   open       ['a'|'g'][member|grid]  -> seq 8 BE, sorted duplicates: open tasks by assignee,
 *                                         by grid ("a" alone: parked; "g" alone: grid-less)
 *              ['o'][grid], ['O']       -> the same for open tasks past a deadline, by grid
 *                                         and all of them (few: a query or a gauge of them
 *                                         reads only them)
 *              ['v']                    -> the layout's version (TASKDB_LAYOUT)
 *   due        [due: 8 BE]              -> [seq: 8 BE][kind: 1], sorted duplicates: each
 *                                         task's next pending deadline, in time order
 *   feed       [feed seq: 8 BE]                    -> feed record
 *   tload      [member]                            -> open tasks assigned: u32 BE
 * tload is kept in step with the 'a' index (same diff), so an assignee's load is one
 * lookup instead of a walk over its open tasks; tload.c caches it for the batch.
 * The two indexes are LMDB sorted-duplicate databases of fixed-size values: a member's or a
 * grid's open tasks are one key with a run of 8-byte seqs, so a new task (the highest seq
 * yet) is appended to its run without searching it (MDB_APPENDDUP), and an entry costs 8
 * bytes instead of a whole key: a quarter of the pages dirtied per task opened. A store
 * written with an earlier layout (every entry its own key, in "tidx" and "deadlines"; or no
 * overdue entries) has its indexes rebuilt from the task records when it is opened.
 */
#include "taskdb.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "be64.h"
#include "feedlog.h"
#include "log.h"
#include "tload.h"
#include "wire.h"

#define OPEN_KEY_MAX (1 + 80)
#define TASKDB_LAYOUT 2
#define DUE_VAL 9

struct taskdb {
    store_t *store;
    MDB_dbi tasks, open, due, feed, tload_dbi;
    tload_t *loads;
    uint64_t feed_head; /* the feed's last seq, when feed_head_known */
    bool feed_head_known;
    msgpack_zone zone;
    msgpack_sbuffer buf;           /* one task record */
    size_t fields_off, fields_len; /* its summary fields, which the feed record repeats */
    task_t *scratch;               /* decoded record for scans */
};

static int migrate(taskdb_t *self, char *err, size_t errlen);

/* The feed head is read once per batch, then counted up as records are appended. */
static store_rc_t on_flush(void *arg)
{
    (void)arg;
    return STORE_OK;
}

static void on_end(void *arg, bool committed)
{
    taskdb_t *self = arg;
    self->feed_head_known = self->feed_head_known && committed;
}

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
    self->store = store;
    if (store_open_dbs(store, err, errlen, "task databases", "tasks", &self->tasks, "feed",
                       &self->feed, "tload", &self->tload_dbi, NULL) < 0 ||
        migrate(self, err, errlen) < 0) {
        taskdb_destroy(&self);
        return NULL;
    }
    if (!(self->loads = tload_new(store, self->tload_dbi)) ||
        store_on_txn(store, on_flush, on_end, self) < 0) {
        snprintf(err, errlen, "out of memory");
        taskdb_destroy(&self);
    }
    return self;
}

void taskdb_destroy(taskdb_t **self_p)
{
    taskdb_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    store_off_txn(self->store, self);
    tload_destroy(&self->loads);
    msgpack_zone_destroy(&self->zone);
    msgpack_sbuffer_destroy(&self->buf);
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

static MDB_val open_key(unsigned char *out, char index, const char *id)
{
    size_t n = strnlen(id, OPEN_KEY_MAX - 1);
    out[0] = (unsigned char)index;
    memcpy(out + 1, id, n);
    return (MDB_val){1 + n, out};
}

static MDB_val due_key(unsigned char *out, int64_t due)
{
    be64_put(out, (uint64_t)due);
    return (MDB_val){8, out};
}

static MDB_val due_val(unsigned char *out, uint64_t seq, deadline_kind_t kind)
{
    be64_put(out, seq);
    out[8] = (unsigned char)kind;
    return (MDB_val){DUE_VAL, out};
}

/* A task waits on one deadline at a time: the earlier of its pending accept and complete
 * deadlines. When that one is met or missed the task changes and the next is put, so opening
 * a task writes one deadline entry, not two. 0 and *due, *kind; -1 when none is pending. */
static int next_deadline(const task_t *t, int64_t *due, deadline_kind_t *kind)
{
    bool accept = t && task_deadline_pending(t, DEADLINE_ACCEPT);
    bool complete = t && task_deadline_pending(t, DEADLINE_COMPLETE);
    if (accept && (!complete || t->accept_by <= t->complete_by))
        *due = t->accept_by, *kind = DEADLINE_ACCEPT;
    else if (complete)
        *due = t->complete_by, *kind = DEADLINE_COMPLETE;
    return accept || complete ? 0 : -1;
}

/* Adds or removes one (key, value) of a sorted-duplicate index. A value known to be the
 * highest of its key (a new task's) is appended; anything else is put in its place. */
static store_rc_t dup_put(taskdb_t *self, MDB_dbi dbi, MDB_val k, MDB_val v, bool highest)
{
    MDB_txn *txn = store_txn(self->store);
    int rc = mdb_put(txn, dbi, &k, &v, highest ? MDB_APPENDDUP : 0);
    if (rc == MDB_KEYEXIST && highest)
        rc = mdb_put(txn, dbi, &k, &v, 0);
    return rc ? store_fail(self->store, rc, "task index") : STORE_OK;
}

static store_rc_t dup_del(taskdb_t *self, MDB_dbi dbi, MDB_val k, MDB_val v)
{
    int rc = mdb_del(store_txn(self->store), dbi, &k, &v);
    return rc && rc != MDB_NOTFOUND ? store_fail(self->store, rc, "task index") : STORE_OK;
}

/* One open task more or less for its assignee (parked ones count under ""). */
static store_rc_t sync_load(taskdb_t *self, const task_t *old, const task_t *t)
{
    bool had = old && task_is_open(old), want = task_is_open(t);
    if (had && want && strcmp(old->assignee, t->assignee) == 0)
        return STORE_OK;
    store_rc_t rc = had ? tload_add(self->loads, old->assignee, -1) : STORE_OK;
    return rc == STORE_OK && want ? tload_add(self->loads, t->assignee, +1) : rc;
}

/* Whether t belongs in index, and under which key text. */
static bool in_index(char index, const task_t *t, const char **key)
{
    bool open = t && task_is_open(t);
    bool overdue = open && (t->overdue_accept || t->overdue_complete);
    *key = "";
    if (index == 'a')
        *key = open ? t->assignee : "";
    else if (index == 'g' || index == 'o')
        *key = open ? t->grid : "";
    return index == 'a' || index == 'g' ? open : overdue;
}

static store_rc_t sync_index(taskdb_t *self, char index, const task_t *old, const task_t *t)
{
    unsigned char a[OPEN_KEY_MAX], b[OPEN_KEY_MAX], sa[8], sb[8];
    const char *was, *now;
    bool had = in_index(index, old, &was), want = in_index(index, t, &now);
    if (had && want && strcmp(was, now) == 0)
        return STORE_OK;
    store_rc_t rc = STORE_OK;
    if (had)
        be64_put(sa, old->seq),
            rc = dup_del(self, self->open, open_key(a, index, was), (MDB_val){8, sa});
    if (rc == STORE_OK && want)
        be64_put(sb, t->seq),
            rc = dup_put(self, self->open, open_key(b, index, now), (MDB_val){8, sb}, !old);
    return rc;
}

static store_rc_t sync_deadline(taskdb_t *self, const task_t *old, const task_t *t)
{
    unsigned char ka[8], kb[8], va[DUE_VAL], vb[DUE_VAL];
    int64_t was = 0, due = 0;
    deadline_kind_t was_kind = DEADLINE_ACCEPT, kind = DEADLINE_ACCEPT;
    bool had = next_deadline(old, &was, &was_kind) == 0, want = next_deadline(t, &due, &kind) == 0;
    if (had && want && was == due && was_kind == kind)
        return STORE_OK;
    store_rc_t rc = STORE_OK;
    if (had)
        rc = dup_del(self, self->due, due_key(ka, was), due_val(va, old->seq, was_kind));
    if (rc == STORE_OK && want)
        rc = dup_put(self, self->due, due_key(kb, due), due_val(vb, t->seq, kind), !old);
    return rc;
}

/* The keys derived from the record: the indexes and the next deadline. */
static store_rc_t sync_derived(taskdb_t *self, const task_t *old, const task_t *t)
{
    store_rc_t r = STORE_OK;
    for (const char *index = "agoO"; *index && r == STORE_OK; index++)
        r = sync_index(self, *index, old, t);
    return r == STORE_OK ? sync_deadline(self, old, t) : r;
}

/* The record: the summary fields (the feed record repeats their bytes) and the history. A new
 * task's seq is its event's, the highest yet, so it is appended without a tree search; a
 * store whose tasks somehow run ahead still gets it by the ordinary put. */
static store_rc_t put_record(taskdb_t *self, const task_t *t, bool is_new)
{
    unsigned char key[8];
    mpw_t w;
    msgpack_sbuffer_clear(&self->buf);
    mpw_init(&w, &self->buf);
    mpw_map(&w, TASK_SUMMARY_FIELDS + 1);
    self->fields_off = self->buf.size;
    task_write_fields(&w, t);
    self->fields_len = self->buf.size - self->fields_off;
    task_write_history(&w, t);
    if (!mpw_ok(&w))
        return store_fail(self->store, ENOMEM, "task");
    be64_put(key, t->seq);
    MDB_val k = {8, key}, v = {self->buf.size, self->buf.data};
    int rc = mdb_put(store_txn(self->store), self->tasks, &k, &v, is_new ? MDB_APPEND : 0);
    if (rc == MDB_KEYEXIST && is_new)
        rc = mdb_put(store_txn(self->store), self->tasks, &k, &v, 0);
    return rc ? store_fail(self->store, rc, "task") : STORE_OK;
}

static store_rc_t feed_append(taskdb_t *self, const task_t *t, const char *change, const char *by,
                              int64_t at, msgpack_sbuffer *out, char *topic, size_t topic_len);

store_rc_t taskdb_put(taskdb_t *self, const task_t *old, const task_t *t, const char *change,
                      const char *by, int64_t at, msgpack_sbuffer *out, char *topic,
                      size_t topic_len)
{
    store_rc_t r;
    if ((r = put_record(self, t, old == NULL)) != STORE_OK ||
        (r = sync_derived(self, old, t)) != STORE_OK || (r = sync_load(self, old, t)) != STORE_OK)
        return r;
    return feed_append(self, t, change, by, at, out, topic, topic_len);
}

uint32_t taskdb_load(taskdb_t *self, const char *member)
{
    return tload_get(self->loads, member);
}

uint64_t taskdb_feed_head(taskdb_t *self)
{
    if (self->feed_head_known)
        return self->feed_head;
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
    uint64_t seq = taskdb_feed_head(self) + 1; /* the batch's own view */
    mpw_t w;
    format_topic(t, topic, topic_len);
    msgpack_sbuffer_clear(out);
    mpw_init(&w, out);
    mpw_map(&w, 6);
    MPW_KEY(&w, "seq"), mpw_uint(&w, seq);
    MPW_KEY(&w, "topic"), mpw_cstr(&w, topic);
    MPW_KEY(&w, "at"), mpw_int(&w, at);
    MPW_KEY(&w, "change"), mpw_cstr(&w, change);
    MPW_KEY(&w, "by"), mpw_cstr(&w, by);
    MPW_KEY(&w, "task"), mpw_map(&w, TASK_SUMMARY_FIELDS);
    mpw_raw(&w, self->buf.data + self->fields_off, self->fields_len); /* as in the record */
    if (!mpw_ok(&w))
        return store_fail(self->store, ENOMEM, "task feed");
    store_rc_t rc = feedlog_put(self->store, self->feed, seq, out->data, out->size, "task feed");
    if (rc == STORE_OK)
        self->feed_head = seq, self->feed_head_known = true;
    return rc;
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
    if (mdb_cursor_open(txn, self->due, &cur) == 0) {
        if (mdb_cursor_get(cur, &k, &v, MDB_FIRST) == 0 && k.mv_size == 8) {
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
    int rc = mdb_cursor_open(store_txn(self->store), self->due, &cur);
    if (rc)
        return store_fail(self->store, rc, "deadlines"), -1;
    while (mdb_cursor_get(cur, &k, &v, MDB_FIRST) == 0 && k.mv_size == 8 && v.mv_size == DUE_VAL &&
           (int64_t)be64_get(k.mv_data) <= now) {
        unsigned char val[DUE_VAL];
        int64_t due = (int64_t)be64_get(k.mv_data);
        memcpy(val, v.mv_data, DUE_VAL);
        /* This deadline only, not the others due then. A failed delete (a full map) fails
         * the pass, so that its caller grows the map and runs it again. */
        if ((rc = mdb_cursor_del(cur, 0)) != 0) {
            store_fail(self->store, rc, "take a deadline");
            n = -1;
            break;
        }
        n++;
        if (fn(arg, be64_get(val), (deadline_kind_t)val[8], due) < 0) {
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

static int scan_tasks(void *arg, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
    scan_t *s = arg;
    (void)txn, (void)k;
    if (decode(s->self, v, s->self->scratch) < 0)
        return 0;
    s->n++;
    return s->fn(s->arg, s->self->scratch, v->mv_data, v->mv_size) || s->n >= s->limit;
}

long taskdb_count(taskdb_t *self, char index, const char *key)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    unsigned char buf[OPEN_KEY_MAX];
    size_t n = 0;
    if (store_read_begin(self->store, &txn))
        return -1;
    int rc = mdb_cursor_open(txn, self->open, &cur);
    if (rc == 0) {
        MDB_val k = open_key(buf, index, key), v;
        rc = mdb_cursor_get(cur, &k, &v, MDB_SET);
        rc = rc ? rc : mdb_cursor_count(cur, &n);
        mdb_cursor_close(cur);
    }
    store_read_end(self->store, txn);
    return rc == 0 ? (long)n : rc == MDB_NOTFOUND ? 0 : -1;
}

/* The open tasks under one index key, seq above after, in seq order. */
static long scan_open(scan_t *s, const MDB_val *key, uint64_t after)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    unsigned char from[8];
    if (store_read_begin(s->self->store, &txn))
        return -1;
    int rc = mdb_cursor_open(txn, s->self->open, &cur);
    if (rc == 0) {
        MDB_val k = *key, v = {8, from};
        be64_put(from, after + 1);
        rc = mdb_cursor_get(cur, &k, &v, MDB_GET_BOTH_RANGE);
        for (; rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_DUP))
            if (v.mv_size == 8 && visit_record(s, txn, be64_get(v.mv_data)))
                break;
        mdb_cursor_close(cur);
    }
    store_read_end(s->self->store, txn);
    return rc == 0 || rc == MDB_NOTFOUND ? (long)s->n : -1;
}

long taskdb_scan(taskdb_t *self, char index, const char *key, uint64_t after, uint32_t limit,
                 taskdb_task_fn fn, void *arg)
{
    scan_t s = {self, fn, arg, limit, 0};
    unsigned char start[OPEN_KEY_MAX];
    if (limit == 0)
        return 0;
    if (index == 0) {
        be64_put(start, after + 1);
        return store_walk(self->store, self->tasks, start, 8, 0, scan_tasks, &s) < 0 ? -1
                                                                                     : (long)s.n;
    }
    MDB_val k = open_key(start, index, key);
    return scan_open(&s, &k, after);
}

/* ---- opening, and the earlier layout ---- */

typedef struct {
    taskdb_t *self;
    store_rc_t rc;
    long tasks;
} rebuild_t;

/* Derives one task's index and deadline entries, in the open batch; stops at a failure. */
static int rebuild_one(void *arg, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
    rebuild_t *r = arg;
    (void)txn, (void)k;
    if (decode(r->self, v, r->self->scratch) < 0)
        return 0; /* not a task record: nothing to derive */
    r->tasks++;
    return (r->rc = sync_derived(r->self, NULL, r->self->scratch)) != STORE_OK;
}

/* The layout version the indexes were built with: 0 when unmarked (earlier layouts). */
static uint64_t layout_of(taskdb_t *self)
{
    MDB_val k = {1, "v"}, v;
    return mdb_get(store_txn(self->store), self->open, &k, &v) == 0 && v.mv_size == 8
               ? be64_get(v.mv_data)
               : 0;
}

/* Drops the first layout's "tidx" and "deadlines" and empties "open" and "due". */
static store_rc_t clear_indexes(taskdb_t *self)
{
    const char *names[2] = {"tidx", "deadlines"};
    MDB_txn *txn = store_txn(self->store);
    for (int i = 0; i < 2; i++) {
        MDB_dbi old;
        int rc = mdb_dbi_open(txn, names[i], 0, &old);
        rc = rc == 0 ? mdb_drop(txn, old, 1) : rc == MDB_NOTFOUND ? 0 : rc;
        if (rc)
            return store_fail(self->store, rc, names[i]);
    }
    int rc = mdb_drop(txn, self->open, 0);
    rc = rc ? rc : mdb_drop(txn, self->due, 0);
    return rc ? store_fail(self->store, rc, "clear the task indexes") : STORE_OK;
}

/* Opens (creating) "open" and "due" in the open batch. */
static store_rc_t open_dbs(taskdb_t *self)
{
    const unsigned flags = MDB_CREATE | MDB_DUPSORT | MDB_DUPFIXED;
    int rc = mdb_dbi_open(store_txn(self->store), "open", flags, &self->open);
    rc = rc ? rc : mdb_dbi_open(store_txn(self->store), "due", flags, &self->due);
    return rc ? store_fail(self->store, rc, "open the task indexes") : STORE_OK;
}

/* One attempt at opening the indexes and bringing them to this layout, in one transaction
 * with the store's schema mark, so that an older gridbusd refuses the store rather than
 * writing tasks without the indexes it does not know. */
static store_rc_t migrate_once(taskdb_t *self, rebuild_t *r)
{
    unsigned char mark[8];
    store_rc_t rc = store_begin(self->store);
    if (rc != STORE_OK)
        return rc;
    if ((rc = open_dbs(self)) == STORE_OK && layout_of(self) != TASKDB_LAYOUT) {
        be64_put(mark, TASKDB_LAYOUT);
        *r = (rebuild_t){self, STORE_OK, 0};
        if ((rc = clear_indexes(self)) == STORE_OK &&
            store_walk(self->store, self->tasks, NULL, 0, 0, rebuild_one, r) < 0)
            rc = store_fail(self->store, EIO, "read the task records");
        rc = rc == STORE_OK ? r->rc : rc;
        if (rc == STORE_OK)
            rc = dup_put(self, self->open, (MDB_val){1, "v"}, (MDB_val){8, mark}, false);
    }
    if (rc == STORE_OK)
        rc = store_mark_schema(self->store);
    if (rc != STORE_OK) {
        store_abort(self->store);
        return rc;
    }
    return store_commit(self->store);
}

/* Rebuilds the indexes and the deadline queue from the task records when an earlier layout
 * built them (a fresh store is simply marked), growing the map as a batch would. */
static int migrate(taskdb_t *self, char *err, size_t errlen)
{
    rebuild_t r = {self, STORE_OK, 0};
    store_rc_t rc;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while ((rc = migrate_once(self, &r)) == STORE_FULL && store_grow(self->store) == 0)
        ;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (rc != STORE_OK) {
        snprintf(err, errlen, "task indexes: %s", store_error(self->store));
        return -1;
    }
    if (r.tasks > 0)
        log_info("msg=\"task indexes rebuilt\" tasks=%ld layout=%d ms=%lld", r.tasks, TASKDB_LAYOUT,
                 (long long)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000));
    return 0;
}
