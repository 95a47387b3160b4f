/*
 * taskdb: see taskdb.h. Databases of the main environment:
 *   tasks      [seq: 8 BE]  -> task record, with history (stored form: taskrec.h)
 *   feed       [feed seq: 8 BE] -> feed record: the task's change and its state after it
 *                                  (stored form; a replay reads it in its wire form)
 *   tload      [member]     -> open tasks assigned: u32 BE ("-" for the parked ones)
 * The indexes derived from them live in taskidx's environment. tload stays here, in the
 * event's transaction, because assignment reads it for every task it opens; tload.c caches
 * it for the batch.
 */
#include "taskdb.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "be64.h"
#include "feedlog.h"
#include "log.h"
#include "taskidx.h"
#include "taskpub.h"
#include "taskrec.h"
#include "tload.h"
#include "wire.h"

struct taskdb {
    store_t *store;
    MDB_dbi tasks, feed, tload_dbi;
    tload_t *loads;
    taskidx_t *idx;
    taskpub_t *live;    /* the task feed's live side */
    uint64_t feed_head; /* the feed's last seq, when feed_head_known */
    bool feed_head_known;
    int64_t pending_due;  /* the earliest deadline put that the indexes may not hold yet, */
    uint64_t pending_seq; /* and the feed seq they hold it by */
    struct {
        uint64_t seq;
        int64_t due;
        deadline_kind_t kind;
    } * batch_due; /* the deadlines put in the open batch, not indexed before it commits */
    size_t nbatch_due, batch_due_cap;
    msgpack_zone zone;
    msgpack_sbuffer buf;             /* one task record */
    size_t summary_off, summary_len; /* its summary, which the feed record repeats */
    msgpack_sbuffer feed_rec;        /* one stored feed record */
    msgpack_sbuffer wire;            /* one feed record in its wire form, for a replay */
    task_t *scratch;                 /* a decoded task, for scans and replays */
};

/* The feed head is read once per batch, then counted up as records are appended; a commit
 * hands it to the indexer. */
static void on_end(void *arg, bool committed)
{
    taskdb_t *self = arg;
    self->feed_head_known = self->feed_head_known && committed;
    if (self->feed_head_known) {
        taskidx_follow(self->idx, self->feed_head);
        taskpub_follow(self->live, self->feed_head);
    }
    self->nbatch_due = 0;
}

/* The databases of earlier schemas that now live in the index environment, if any. */
static store_rc_t drop_old(taskdb_t *self)
{
    static const char *const names[] = {"tidx", "deadlines", "open", "due"};
    store_rc_t rc = store_begin(self->store);
    for (size_t i = 0; rc == STORE_OK && i < sizeof names / sizeof names[0]; i++) {
        MDB_dbi old;
        int e = mdb_dbi_open(store_txn(self->store), names[i], 0, &old);
        if (e == MDB_INCOMPATIBLE) /* "open" and "due" were sorted-duplicate databases */
            e = mdb_dbi_open(store_txn(self->store), names[i], MDB_DUPSORT | MDB_DUPFIXED, &old);
        e = e == 0 ? mdb_drop(store_txn(self->store), old, 1) : e == MDB_NOTFOUND ? 0 : e;
        rc = e ? store_fail(self->store, e, names[i]) : STORE_OK;
    }
    if (rc == STORE_OK)
        rc = store_mark_schema(self->store);
    if (rc != STORE_OK) {
        store_abort(self->store);
        return rc;
    }
    return store_commit(self->store);
}

taskdb_t *taskdb_new(store_t *store, const char *index_dir, const store_opts_t *opts, char *err,
                     size_t errlen)
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
    msgpack_sbuffer_init(&self->feed_rec);
    msgpack_sbuffer_init(&self->wire);
    self->store = store;
    self->pending_due = INT64_MAX;
    store_rc_t rc;
    if (store_open_dbs(store, err, errlen, "task databases", "tasks", &self->tasks, "feed",
                       &self->feed, "tload", &self->tload_dbi, NULL) < 0) {
        taskdb_destroy(&self);
        return NULL;
    }
    while ((rc = drop_old(self)) == STORE_FULL && store_grow(store) == 0)
        ;
    if (rc != STORE_OK) {
        snprintf(err, errlen, "task databases: %s", store_error(store));
        taskdb_destroy(&self);
        return NULL;
    }
    if (!(self->idx = taskidx_new(index_dir, opts, store, self->tasks, self->feed, err, errlen))) {
        taskdb_destroy(&self);
        return NULL;
    }
    if (!(self->loads = tload_new(store, self->tload_dbi)) ||
        !(self->live = taskpub_new(store, self->feed, feedlog_head(store, self->feed))) ||
        store_on_txn(store, NULL, on_end, self) < 0) {
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
    taskpub_destroy(&self->live);
    taskidx_destroy(&self->idx);
    tload_destroy(&self->loads);
    msgpack_zone_destroy(&self->zone);
    msgpack_sbuffer_destroy(&self->buf);
    msgpack_sbuffer_destroy(&self->feed_rec);
    msgpack_sbuffer_destroy(&self->wire);
    free(self->batch_due);
    free(self->scratch);
    free(self);
    *self_p = NULL;
}

static int decode(taskdb_t *self, const MDB_val *v, task_t *t)
{
    return taskrec_decode(&self->zone, v->mv_data, v->mv_size, t);
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

/* One open task more or less for its assignee (parked ones count under ""). */
static store_rc_t sync_load(taskdb_t *self, const task_t *old, const task_t *t)
{
    bool had = old && task_is_open(old), want = task_is_open(t);
    if (had && want && strcmp(old->assignee, t->assignee) == 0)
        return STORE_OK;
    store_rc_t rc = had ? tload_add(self->loads, old->assignee, -1) : STORE_OK;
    return rc == STORE_OK && want ? tload_add(self->loads, t->assignee, +1) : rc;
}

/* The record: the summary (the feed record repeats its bytes) and the history. A new task's
 * seq is its event's, the highest yet, so it is appended without a tree search; a store
 * whose tasks somehow run ahead still gets it by the ordinary put. */
static store_rc_t put_record(taskdb_t *self, const task_t *t, bool is_new)
{
    unsigned char key[8];
    if (taskrec_pack(&self->buf, t, &self->summary_off, &self->summary_len) < 0)
        return store_fail(self->store, ENOMEM, "task");
    be64_put(key, t->seq);
    MDB_val k = {8, key}, v = {self->buf.size, self->buf.data};
    int rc = is_new ? store_put_append(self->store, self->tasks, &k, &v, 0)
                    : mdb_put(store_txn(self->store), self->tasks, &k, &v, 0);
    if (rc == MDB_KEYEXIST && is_new)
        rc = mdb_put(store_txn(self->store), self->tasks, &k, &v, 0);
    return rc ? store_fail(self->store, rc, "task") : STORE_OK;
}

static store_rc_t feed_append(taskdb_t *self, const char *change, const char *by, int64_t at);

/* A deadline just put, before the indexer has it: the timer is armed for it (pending_due)
 * and a pass in this same batch takes it (batch_due). */
static store_rc_t note_deadline(taskdb_t *self, uint64_t seq, int64_t due, deadline_kind_t kind)
{
    if (due < self->pending_due)
        self->pending_due = due;
    self->pending_seq = self->feed_head;
    if (self->nbatch_due == self->batch_due_cap) {
        size_t cap = self->batch_due_cap ? 2 * self->batch_due_cap : 256;
        void *p = realloc(self->batch_due, cap * sizeof *self->batch_due);
        if (!p)
            return store_fail(self->store, ENOMEM, "task deadlines");
        self->batch_due = p, self->batch_due_cap = cap;
    }
    self->batch_due[self->nbatch_due].seq = seq;
    self->batch_due[self->nbatch_due].due = due;
    self->batch_due[self->nbatch_due++].kind = kind;
    return STORE_OK;
}

store_rc_t taskdb_put(taskdb_t *self, const task_t *old, const task_t *t, const char *change,
                      const char *by, int64_t at)
{
    store_rc_t r;
    int64_t due;
    deadline_kind_t kind;
    if ((r = put_record(self, t, old == NULL)) != STORE_OK ||
        (r = sync_load(self, old, t)) != STORE_OK)
        return r;
    if ((r = feed_append(self, change, by, at)) != STORE_OK)
        return r;
    return task_next_deadline(t, &due, &kind) == 0 ? note_deadline(self, t->seq, due, kind)
                                                   : STORE_OK;
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

/* The feed record of the task record just packed into self->buf. */
static store_rc_t feed_append(taskdb_t *self, const char *change, const char *by, int64_t at)
{
    uint64_t seq = taskdb_feed_head(self) + 1; /* the batch's own view */
    if (taskrec_pack_feed(&self->feed_rec, at, change, by, self->buf.data + self->summary_off,
                          self->summary_len) < 0)
        return store_fail(self->store, ENOMEM, "task feed");
    store_rc_t rc = feedlog_put(self->store, self->feed, seq, self->feed_rec.data,
                                self->feed_rec.size, "task feed");
    if (rc != STORE_OK)
        return rc;
    self->feed_head = seq, self->feed_head_known = true;
    return STORE_OK;
}

void taskdb_publish(taskdb_t *self, void *pub)
{
    taskpub_attach(self->live, pub);
}

/* A stored feed record as a replay sends it: records of the wire form as they are, the
 * others packed from their decoded change and task. */
static int feed_view(void *arg, uint64_t seq, const void *rec, size_t len, const char *filter,
                     size_t filter_len, const void **wire, size_t *wire_len)
{
    taskdb_t *self = arg;
    taskrec_change_t c;
    char topic[160];
    if (taskrec_decode_feed(&self->zone, rec, len, &c, self->scratch) < 0) {
        log_error("msg=\"task feed record unreadable, skipped by replay\" seq=%llu",
                  (unsigned long long)seq);
        return 0;
    }
    taskrec_topic(self->scratch, topic, sizeof topic);
    if (filter_len && (strlen(topic) < filter_len || memcmp(topic, filter, filter_len) != 0))
        return 0;
    if (taskrec_feed_is_wire(rec, len))
        return 1; /* *wire is rec already */
    if (taskrec_feed_wire(&self->wire, seq, topic, c.at, c.change, c.by, self->scratch) < 0)
        return store_fail(self->store, ENOMEM, "task feed replay"), -1;
    *wire = self->wire.data, *wire_len = self->wire.size;
    return 1;
}

long taskdb_feed_read(taskdb_t *self, uint64_t from, uint32_t limit, const char *filter,
                      size_t filter_len, taskdb_record_fn fn, void *arg, uint64_t *last_seen)
{
    feedlog_view_t view = {feed_view, self};
    return feedlog_read_view(self->store, self->feed, &view, from, limit, filter, filter_len, fn,
                             arg, last_seen);
}

/* The indexes as of the last commit (the batch's own changes are not in them yet). */
static int indexed(taskdb_t *self)
{
    if (taskidx_wait(self->idx) == 0)
        return 0;
    store_fail(self->store, EAGAIN, "the task indexer is failing");
    return -1;
}

int taskdb_next_deadline(taskdb_t *self, int64_t *due)
{
    int found = taskidx_next_deadline(self->idx, due);
    if (self->pending_due != INT64_MAX && taskidx_applied(self->idx) >= self->pending_seq)
        self->pending_due = INT64_MAX; /* the indexes hold it now */
    if (self->pending_due != INT64_MAX && (found != 0 || self->pending_due < *due))
        *due = self->pending_due, found = 0;
    return found;
}

long taskdb_take_due(taskdb_t *self, int64_t now, taskdb_deadline_fn fn, void *arg)
{
    if (indexed(self) < 0)
        return -1;
    long n = taskidx_due(self->idx, now, fn, arg);
    /* This batch's own deadlines (a clock moved in the batch that opened the task); fn lets
     * go of one met meanwhile or taken above, and may put more while this runs. */
    for (size_t i = 0, end = self->nbatch_due; n >= 0 && i < end; i++) {
        uint64_t seq = self->batch_due[i].seq;
        int64_t due = self->batch_due[i].due;
        deadline_kind_t kind = self->batch_due[i].kind;
        if (due <= now && (n++, fn(arg, seq, kind, due) < 0))
            n = -1;
    }
    return n;
}

typedef struct {
    taskdb_t *self;
    taskdb_task_fn fn;
    void *arg;
    uint32_t limit, n;
} scan_t;

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
    return indexed(self) < 0 ? -1 : taskidx_count(self->idx, index, key);
}

long taskdb_scan(taskdb_t *self, char index, const char *key, uint64_t after, uint32_t limit,
                 taskdb_task_fn fn, void *arg)
{
    scan_t s = {self, fn, arg, limit, 0};
    unsigned char start[8];
    if (limit == 0)
        return 0;
    if (index != 0)
        return indexed(self) < 0 ? -1 : taskidx_scan(self->idx, index, key, after, limit, fn, arg);
    be64_put(start, after + 1);
    return store_walk(self->store, self->tasks, start, 8, 0, scan_tasks, &s) < 0 ? -1 : (long)s.n;
}
