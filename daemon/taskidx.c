/*
 * taskidx: see taskidx.h. Databases of the index environment:
 *   open   ['a'|'g'][member|grid] -> seq 8 BE, sorted duplicates: open tasks by assignee, by
 *                                    grid ("a" alone: parked; "g" alone: grid-less)
 *          ['o'][grid], ['O']     -> the same for open tasks past a deadline, by grid and all
 *   due    [due: 8 BE]            -> [seq: 8 BE][kind: 1], sorted duplicates: each task's next
 *                                    pending deadline, in time order
 *   foot   [seq: 8 BE]            -> what is indexed for an open task (footprint, below)
 *   imeta  "applied"              -> [feed seq: 8 BE][length of that record: 4 BE][its
 *                                    FNV-1a hash: 8 BE]: the last record applied, and enough
 *                                    of it to notice a feed that is not the one indexed (a
 *                                    restored backup, another state dir)
 * The indexes are sorted-duplicate databases of fixed-size values: a member's or a grid's
 * open tasks are one key with a run of 8-byte seqs, so a new task (the highest seq yet) is
 * appended to its run (MDB_APPENDDUP).
 *
 * The indexer reads the feed in read transactions of the main environment (store_read_begin
 * gives another thread a read transaction, never the loop's batch) and writes its own; the
 * follower's mutex and conditions hand over the head to follow and the head applied.
 */
#include "taskidx.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "be64.h"
#include "derived.h"
#include "feedlog.h"
#include "follower.h"
#include "idxbatch.h"
#include "log.h"
#include "taskrec.h"

#define OPEN_KEY_MAX (1 + 80)
#define DUE_VAL 9
#define FOOT_MAX (3 + 16 + 2 * 81)
#define MARK_LEN (8 + 4 + 8)
#define CHUNK                                                                                      \
    1024                /* feed records per indexer transaction at most: a map growth on the       \
                         * loop waits for the chunk's read transaction to end */
#define INDEXER_NICE 10 /* added to the thread's nice value */

struct taskidx {
    store_t *store; /* the index environment */
    char dir[600];
    store_t *main;
    MDB_dbi tasks, feed; /* in main */
    MDB_dbi open, due, foot, imeta;
    uint64_t foot_max; /* no footprint has a higher seq (it may be lower) */
    /* new tasks' entries of open and due, put per key when the transaction is about to end
     * or a later record of the same task comes (idxbatch.h) */
    idxbatch_t *open_new, *due_new;
    /* the indexer thread's own (and the rebuild's, before the thread starts) */
    msgpack_zone own_zone;
    task_t *cur, *was;
    store_rc_t apply_rc;
    uint64_t last_seq;
    unsigned char last_head[MARK_LEN];
    uint64_t chunk_last;
    /* the caller's, for scans */
    msgpack_zone zone;
    bool zones_ready; /* own_zone and zone initialised */
    task_t *scratch;
    /* shared under f.lock, with f.target */
    follower_t f;
    bool failed;
    uint64_t applied;
};

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

/* Adds or removes one (key, value) of a sorted-duplicate index. A value that may be the
 * highest of its key (a task indexed for the first time) is tried as an append first. */
static store_rc_t dup_put(taskidx_t *self, MDB_dbi dbi, MDB_val k, MDB_val v, bool highest)
{
    MDB_txn *txn = store_txn(self->store);
    int rc = mdb_put(txn, dbi, &k, &v, highest ? MDB_APPENDDUP : 0);
    if (rc == MDB_KEYEXIST && highest)
        rc = mdb_put(txn, dbi, &k, &v, 0);
    return rc ? store_fail(self->store, rc, "task index") : STORE_OK;
}

static store_rc_t dup_del(taskidx_t *self, MDB_dbi dbi, MDB_val k, MDB_val v)
{
    int rc = mdb_del(store_txn(self->store), dbi, &k, &v);
    return rc && rc != MDB_NOTFOUND ? store_fail(self->store, rc, "task index") : STORE_OK;
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

/* A new task's entry, held for its key's run; the batch put first when it is full. */
static store_rc_t pend(taskidx_t *self, idxbatch_t *b, MDB_dbi dbi, MDB_val k, MDB_val v,
                       uint64_t seq)
{
    if (idxbatch_add(b, k.mv_data, k.mv_size, v.mv_data, v.mv_size, seq) == 0)
        return STORE_OK;
    int rc = idxbatch_flush(b, store_txn(self->store), dbi);
    if (rc)
        return store_fail(self->store, rc, "task index");
    if (idxbatch_add(b, k.mv_data, k.mv_size, v.mv_data, v.mv_size, seq) == 0)
        return STORE_OK;
    return dup_put(self, dbi, k, v, true); /* a key too long to hold */
}

/* Puts the held entries: before a record of a task whose entries may be among them, and as
 * the index store's flush hook, right before every commit (a failure fails the commit). */
static store_rc_t flush_new(taskidx_t *self)
{
    int rc = idxbatch_flush(self->open_new, store_txn(self->store), self->open);
    rc = rc ? rc : idxbatch_flush(self->due_new, store_txn(self->store), self->due);
    return rc ? store_fail(self->store, rc, "task index") : STORE_OK;
}

static store_rc_t on_flush(void *arg)
{
    return flush_new(arg);
}

/* The index store's end hook: what an aborted transaction held goes with it. */
static void on_end(void *arg, bool committed)
{
    taskidx_t *self = arg;
    if (!committed) {
        idxbatch_clear(self->open_new);
        idxbatch_clear(self->due_new);
    }
}

/* first: t is indexed for the first time and above every task indexed before. */
static store_rc_t sync_index(taskidx_t *self, char index, const task_t *old, const task_t *t,
                             bool first)
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
    if (rc == STORE_OK && want) {
        be64_put(sb, t->seq);
        MDB_val k = open_key(b, index, now);
        rc = first ? pend(self, self->open_new, self->open, k, (MDB_val){8, sb}, t->seq)
                   : dup_put(self, self->open, k, (MDB_val){8, sb}, !old);
    }
    return rc;
}

static store_rc_t sync_deadline(taskidx_t *self, const task_t *old, const task_t *t, bool first)
{
    unsigned char ka[8], kb[8], va[DUE_VAL], vb[DUE_VAL];
    int64_t was = 0, due = 0;
    deadline_kind_t was_kind = DEADLINE_ACCEPT, kind = DEADLINE_ACCEPT;
    bool had = task_next_deadline(old, &was, &was_kind) == 0,
         want = task_next_deadline(t, &due, &kind) == 0;
    if (had && want && was == due && was_kind == kind)
        return STORE_OK;
    store_rc_t rc = STORE_OK;
    if (had)
        rc = dup_del(self, self->due, due_key(ka, was), due_val(va, old->seq, was_kind));
    if (rc == STORE_OK && want)
        rc = first ? pend(self, self->due_new, self->due, due_key(kb, due),
                          due_val(vb, t->seq, kind), t->seq)
                   : dup_put(self, self->due, due_key(kb, due), due_val(vb, t->seq, kind), !old);
    return rc;
}

/* ---- footprints: what is indexed for a task ----
 * [status][overdue_accept][overdue_complete][accept_by 8][complete_by 8][assignee\0][grid\0] */

static size_t foot_pack(const task_t *t, unsigned char *out)
{
    size_t a = strnlen(t->assignee, 80), g = strnlen(t->grid, 80);
    out[0] = (unsigned char)t->status, out[1] = t->overdue_accept, out[2] = t->overdue_complete;
    be64_put(out + 3, (uint64_t)t->accept_by);
    be64_put(out + 11, (uint64_t)t->complete_by);
    memcpy(out + 19, t->assignee, a), out[19 + a] = 0;
    memcpy(out + 20 + a, t->grid, g), out[20 + a + g] = 0;
    return 21 + a + g;
}

static int foot_unpack(const MDB_val *v, uint64_t seq, task_t *t)
{
    const unsigned char *p = v->mv_data;
    if (v->mv_size < 21 || p[v->mv_size - 1] != 0)
        return -1;
    task_reset(t);
    t->seq = seq;
    t->status = (task_status_t)p[0], t->overdue_accept = p[1], t->overdue_complete = p[2];
    t->accept_by = (int64_t)be64_get(p + 3);
    t->complete_by = (int64_t)be64_get(p + 11);
    const char *assignee = (const char *)p + 19;
    size_t a = strnlen(assignee, v->mv_size - 19);
    if (19 + a + 1 >= v->mv_size || a >= sizeof t->assignee)
        return -1;
    memcpy(t->assignee, assignee, a + 1);
    snprintf(t->grid, sizeof t->grid, "%s", assignee + a + 1);
    return 0;
}

/* Brings t's entries from its footprint to its state t; closed tasks keep no footprint. */
static store_rc_t apply(taskidx_t *self, const task_t *t, task_t *was)
{
    unsigned char key[8], fp[FOOT_MAX];
    MDB_txn *txn = store_txn(self->store);
    MDB_val k = {8, key}, v;
    be64_put(key, t->seq);
    /* A task above every footprint is indexed for the first time: nothing to look up, and
     * its footprint is appended. */
    bool first = t->seq > self->foot_max;
    store_rc_t r = STORE_OK;
    if (!first &&
        (idxbatch_holds(self->open_new, t->seq) || idxbatch_holds(self->due_new, t->seq)) &&
        (r = flush_new(self)) != STORE_OK)
        return r;
    int rc = first ? MDB_NOTFOUND : mdb_get(txn, self->foot, &k, &v);
    if (rc && rc != MDB_NOTFOUND)
        return store_fail(self->store, rc, "task footprint");
    const task_t *old = rc == 0 && foot_unpack(&v, t->seq, was) == 0 ? was : NULL;
    for (const char *index = "agoO"; *index && r == STORE_OK; index++)
        r = sync_index(self, *index, old, t, first);
    if (r == STORE_OK)
        r = sync_deadline(self, old, t, first);
    if (r != STORE_OK)
        return r;
    if (!task_is_open(t))
        rc = old ? mdb_del(txn, self->foot, &k, NULL) : 0;
    else
        v = (MDB_val){foot_pack(t, fp), fp},
        rc = first ? store_put_append(self->store, self->foot, &k, &v, 0)
                   : mdb_put(txn, self->foot, &k, &v, 0);
    if (rc == 0 && first && task_is_open(t))
        self->foot_max = t->seq; /* too high after an aborted attempt: only costs a lookup */
    return rc ? store_fail(self->store, rc, "task footprint") : STORE_OK;
}

/* ---- the mark: the last feed record applied ---- */

static void mark_of(uint64_t seq, const void *rec, size_t len, unsigned char out[MARK_LEN])
{
    uint64_t h = 14695981039346656037u; /* FNV-1a over the record */
    for (size_t i = 0; i < len; i++)
        h = (h ^ ((const unsigned char *)rec)[i]) * 1099511628211u;
    be64_put(out, seq);
    out[8] = (unsigned char)(len >> 24), out[9] = (unsigned char)(len >> 16);
    out[10] = (unsigned char)(len >> 8), out[11] = (unsigned char)len;
    be64_put(out + 12, h);
}

static store_rc_t mark_put(taskidx_t *self, const unsigned char mark[MARK_LEN])
{
    MDB_val k = {7, "applied"}, v = {MARK_LEN, (void *)mark};
    int rc = mdb_put(store_txn(self->store), self->imeta, &k, &v, 0);
    return rc ? store_fail(self->store, rc, "index mark") : STORE_OK;
}

/* ---- the indexer ---- */

static int on_record(void *arg, uint64_t seq, const void *rec, size_t len)
{
    taskidx_t *self = arg;
    if (taskrec_decode_foot(&self->own_zone, rec, len, self->cur) == 0)
        self->apply_rc = apply(self, self->cur, self->was);
    self->last_seq = seq;
    if (seq == self->chunk_last) /* the mark is of the chunk's last record only */
        mark_of(seq, rec, len, self->last_head);
    return self->apply_rc != STORE_OK;
}

static int feed_mark(taskidx_t *self, uint64_t seq, unsigned char out[MARK_LEN]);

/* Applies feed records after `from` up to upto (at most CHUNK) in one transaction. */
static store_rc_t apply_chunk(taskidx_t *self, uint64_t from, uint64_t upto, uint64_t *done)
{
    uint64_t last = 0;
    store_rc_t rc = store_begin(self->store);
    if (rc != STORE_OK)
        return rc;
    self->apply_rc = STORE_OK, self->last_seq = from;
    uint32_t n = upto - from > CHUNK ? CHUNK : (uint32_t)(upto - from);
    self->chunk_last = from + n;
    if (feedlog_read(self->main, self->feed, from + 1, n, NULL, 0, on_record, self, &last) < 0)
        rc = store_fail(self->store, EIO, "read the task feed");
    rc = rc == STORE_OK ? self->apply_rc : rc;
    if (rc == STORE_OK && self->last_seq > from && self->last_seq != self->chunk_last &&
        feed_mark(self, self->last_seq, self->last_head) != 0) /* the feed ended early */
        rc = store_fail(self->store, EIO, "read the task feed");
    if (rc == STORE_OK && self->last_seq > from)
        rc = mark_put(self, self->last_head);
    if (rc != STORE_OK) {
        store_abort(self->store);
        return rc;
    }
    *done = self->last_seq;
    return store_commit(self->store);
}

/* Applies the feed up to upto, growing the map when it is full. */
static store_rc_t catch_up(taskidx_t *self, uint64_t from, uint64_t upto, uint64_t *applied)
{
    while (from < upto) {
        uint64_t done = from;
        store_rc_t rc;
        while ((rc = apply_chunk(self, from, upto, &done)) == STORE_FULL &&
               store_grow(self->store) == 0)
            ;
        if (rc != STORE_OK)
            return rc;
        if (done == from) /* the feed has nothing after from yet */
            break;
        from = done;
        pthread_mutex_lock(&self->f.lock);
        self->applied = done;
        pthread_cond_broadcast(&self->f.done);
        bool stop = self->f.stop; /* a stop does not wait for a backlog: the mark has it */
        pthread_mutex_unlock(&self->f.lock);
        if (stop)
            break;
    }
    *applied = from;
    return STORE_OK;
}

/* Derived data yields to the request path: on a busy machine the core goes to the ZeroMQ
 * I/O thread, the task feed and the clients first, and the indexer catches up in their
 * gaps (4 publishers flat out: +9 % acked events/s, `make bench`). A query waiting for the
 * indexes waits a little longer then. */
static void lower_priority(void)
{
    pid_t tid = gettid();
    errno = 0;
    int nice = getpriority(PRIO_PROCESS, (id_t)tid);
    if ((nice == -1 && errno) ||
        setpriority(PRIO_PROCESS, (id_t)tid, nice + INDEXER_NICE > 19 ? 19 : nice + INDEXER_NICE))
        log_warning("msg=\"task indexer runs at the loop's priority\" reason=\"%s\"",
                    strerror(errno));
}

static void *indexer(void *arg)
{
    taskidx_t *self = arg;
    pthread_setname_np(pthread_self(), "gb-indexer"); /* as `top -H` and perf show it */
    lower_priority();
    pthread_mutex_lock(&self->f.lock);
    for (;;) {
        while (!self->f.stop && self->applied >= self->f.target)
            pthread_cond_wait(&self->f.work, &self->f.lock);
        if (self->f.stop)
            break;
        uint64_t from = self->applied, upto = self->f.target, applied = from;
        pthread_mutex_unlock(&self->f.lock);
        store_rc_t rc = catch_up(self, from, upto, &applied);
        pthread_mutex_lock(&self->f.lock);
        if (rc != STORE_OK) {
            /* Readers get -1 meanwhile (their callers refuse or retry); the indexer tries
             * again a second later, from its last good commit. */
            if (!self->failed)
                log_error("msg=\"task indexer failed, retrying\" error=\"%s\"",
                          store_error(self->store));
            self->failed = true;
            pthread_cond_broadcast(&self->f.done);
            struct timespec at = follower_in(1000);
            pthread_cond_timedwait(&self->f.work, &self->f.lock, &at);
            continue;
        }
        if (self->failed)
            log_info("msg=\"task indexer recovered\"");
        self->failed = false;
        if (applied < upto && self->f.target == upto) /* asked past the feed: gone */
            self->f.target = applied;
        pthread_cond_broadcast(&self->f.done);
    }
    pthread_mutex_unlock(&self->f.lock);
    return NULL;
}

void taskidx_follow(taskidx_t *self, uint64_t head)
{
    follower_follow(&self->f, head);
}

uint64_t taskidx_applied(taskidx_t *self)
{
    pthread_mutex_lock(&self->f.lock);
    uint64_t applied = self->applied;
    pthread_mutex_unlock(&self->f.lock);
    return applied;
}

int taskidx_wait(taskidx_t *self)
{
    pthread_mutex_lock(&self->f.lock);
    while (!self->failed && self->applied < self->f.target)
        pthread_cond_wait(&self->f.done, &self->f.lock);
    int rc = self->failed ? -1 : 0;
    pthread_mutex_unlock(&self->f.lock);
    return rc;
}

/* ---- opening: the mark checked against the feed, or a rebuild from the records ---- */

typedef struct {
    taskidx_t *self;
    store_rc_t rc;
    long tasks;
} rebuild_t;

static int rebuild_one(void *arg, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
    rebuild_t *r = arg;
    (void)txn, (void)k;
    if (taskrec_decode(&r->self->own_zone, v->mv_data, v->mv_size, r->self->cur) < 0)
        return 0; /* not a task record: nothing to derive */
    r->tasks++;
    return (r->rc = apply(r->self, r->self->cur, r->self->was)) != STORE_OK;
}

/* The feed record at seq, as a mark; 1 when there is none. */
static int feed_mark(taskidx_t *self, uint64_t seq, unsigned char out[MARK_LEN])
{
    unsigned char key[8];
    MDB_txn *txn;
    MDB_val k = {8, key}, v;
    be64_put(key, seq);
    if (store_read_begin(self->main, &txn))
        return -1;
    int rc = mdb_get(txn, self->feed, &k, &v);
    if (rc == 0)
        mark_of(seq, v.mv_data, v.mv_size, out);
    store_read_end(self->main, txn);
    return rc == MDB_NOTFOUND ? 1 : rc ? -1 : 0;
}

/* The mark kept, if it names a record of this feed: *applied its seq; else -1 (rebuild). */
static int check_mark(taskidx_t *self, uint64_t *applied)
{
    unsigned char want[MARK_LEN];
    MDB_val k = {7, "applied"}, v;
    MDB_txn *txn;
    *applied = 0;
    if (store_read_begin(self->store, &txn))
        return -1;
    int rc = mdb_get(txn, self->imeta, &k, &v);
    if (rc == 0 && v.mv_size == MARK_LEN)
        memcpy(want, v.mv_data, MARK_LEN);
    store_read_end(self->store, txn);
    if (rc != 0 || v.mv_size != MARK_LEN)
        return -1;
    unsigned char have[MARK_LEN];
    uint64_t seq = be64_get(want);
    if (seq == 0 || feed_mark(self, seq, have) != 0 || memcmp(have, want, MARK_LEN) != 0)
        return -1;
    *applied = seq;
    return 0;
}

static store_rc_t rebuild_once(taskidx_t *self, uint64_t head, rebuild_t *r)
{
    unsigned char mark[MARK_LEN] = {0};
    store_rc_t rc = store_begin(self->store);
    if (rc != STORE_OK)
        return rc;
    int e = mdb_drop(store_txn(self->store), self->open, 0);
    e = e ? e : mdb_drop(store_txn(self->store), self->due, 0);
    e = e ? e : mdb_drop(store_txn(self->store), self->foot, 0);
    rc = e ? store_fail(self->store, e, "clear the task indexes") : STORE_OK;
    *r = (rebuild_t){self, STORE_OK, 0};
    self->foot_max = 0;
    if (rc == STORE_OK && store_walk(self->main, self->tasks, NULL, 0, 0, rebuild_one, r) < 0)
        rc = store_fail(self->store, EIO, "read the task records");
    rc = rc == STORE_OK ? r->rc : rc;
    if (rc == STORE_OK && head && feed_mark(self, head, mark) < 0)
        rc = store_fail(self->store, EIO, "read the task feed");
    if (rc == STORE_OK)
        rc = mark_put(self, mark);
    if (rc != STORE_OK) {
        store_abort(self->store);
        return rc;
    }
    return store_commit(self->store);
}

/* Rebuilds the indexes from the task records, as of the feed's head. */
static int rebuild(taskidx_t *self, uint64_t head, char *err, size_t errlen)
{
    rebuild_t r = {self, STORE_OK, 0};
    store_rc_t rc;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while ((rc = rebuild_once(self, head, &r)) == STORE_FULL && store_grow(self->store) == 0)
        ;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (rc != STORE_OK)
        return snprintf(err, errlen, "task indexes: %s", store_error(self->store)), -1;
    if (r.tasks)
        log_info("msg=\"task indexes rebuilt\" tasks=%ld ms=%lld", r.tasks,
                 (long long)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000));
    return 0;
}

/* The highest footprint's seq, 0 when none; UINT64_MAX when it cannot be read (every task
 * is then looked up: too high is safe, too low is not). */
static uint64_t last_foot(taskidx_t *self)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_val k, v;
    uint64_t seq = UINT64_MAX;
    if (store_read_begin(self->store, &txn))
        return seq;
    if (mdb_cursor_open(txn, self->foot, &cur) == 0) {
        int rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
        seq = rc == MDB_NOTFOUND ? 0 : rc == 0 && k.mv_size == 8 ? be64_get(k.mv_data) : seq;
        mdb_cursor_close(cur);
    }
    store_read_end(self->store, txn);
    return seq;
}

static int open_dbs(taskidx_t *self, char *err, size_t errlen)
{
    MDB_txn *txn;
    const unsigned dup = MDB_CREATE | MDB_DUPSORT | MDB_DUPFIXED;
    int rc = mdb_txn_begin(store_env(self->store), NULL, 0, &txn);
    if (rc == 0 && ((rc = mdb_dbi_open(txn, "open", dup, &self->open)) ||
                    (rc = mdb_dbi_open(txn, "due", dup, &self->due)) ||
                    (rc = mdb_dbi_open(txn, "foot", MDB_CREATE, &self->foot)) ||
                    (rc = mdb_dbi_open(txn, "imeta", MDB_CREATE, &self->imeta))))
        mdb_txn_abort(txn);
    else if (rc == 0)
        rc = mdb_txn_commit(txn);
    if (rc)
        snprintf(err, errlen, "task indexes: %s", mdb_strerror(rc));
    return rc ? -1 : 0;
}

static bool init_zones(taskidx_t *self)
{
    if (!msgpack_zone_init(&self->own_zone, 4096))
        return false;
    if (!msgpack_zone_init(&self->zone, 4096)) {
        msgpack_zone_destroy(&self->own_zone);
        return false;
    }
    return self->zones_ready = true;
}

taskidx_t *taskidx_new(const char *dir, const store_opts_t *opts, store_t *main, MDB_dbi tasks,
                       MDB_dbi feed, char *err, size_t errlen)
{
    taskidx_t *self = calloc(1, sizeof *self);
    if (self)
        follower_init(&self->f, 0);
    if (!self || !(self->cur = malloc(sizeof *self->cur)) ||
        !(self->was = malloc(sizeof *self->was)) ||
        !(self->scratch = malloc(sizeof *self->scratch)) || !init_zones(self) ||
        !(self->open_new = idxbatch_new(8)) || !(self->due_new = idxbatch_new(DUE_VAL))) {
        snprintf(err, errlen, "out of memory");
        taskidx_destroy(&self);
        return NULL;
    }
    self->main = main, self->tasks = tasks, self->feed = feed;
    uint64_t head = feedlog_head(main, feed), applied = 0;
    snprintf(self->dir, sizeof self->dir, "%s", dir);
    /* Derived data (derived.h): written in place in the map, never synced but at a stop. */
    store_opts_t o = *opts;
    o.env_flags = MDB_WRITEMAP | MDB_NOSYNC;
    bool deleted;
    if (derived_open(dir, &deleted, err, errlen) < 0 ||
        !(self->store = store_new(dir, &o, err, errlen)) || open_dbs(self, err, errlen) < 0) {
        taskidx_destroy(&self);
        return NULL;
    }
    if (store_on_txn(self->store, on_flush, on_end, self) < 0) { /* a new store has room */
        snprintf(err, errlen, "task indexes: no room for a transaction hook");
        taskidx_destroy(&self);
        return NULL;
    }
    if (deleted)
        log_warning("msg=\"task indexes not trusted after a crash of the machine, rebuilt\"");
    if (check_mark(self, &applied) < 0) {
        if (rebuild(self, head, err, errlen) < 0) {
            taskidx_destroy(&self);
            return NULL;
        }
        applied = head;
    }
    self->foot_max = last_foot(self);
    self->applied = self->f.target = applied;
    if (follower_start(&self->f, indexer, self) < 0) {
        snprintf(err, errlen, "task indexer: cannot start a thread");
        taskidx_destroy(&self);
        return NULL;
    }
    taskidx_follow(self, head);
    return self;
}

void taskidx_destroy(taskidx_t **self_p)
{
    taskidx_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    follower_destroy(&self->f);
    if (self->store && !self->failed && mdb_env_sync(store_env(self->store), 1) == 0)
        derived_close(self->dir);
    store_destroy(&self->store);
    if (self->zones_ready) {
        msgpack_zone_destroy(&self->own_zone);
        msgpack_zone_destroy(&self->zone);
    }
    free(self->cur);
    free(self->was);
    free(self->scratch);
    idxbatch_destroy(&self->open_new);
    idxbatch_destroy(&self->due_new);
    free(self);
    *self_p = NULL;
}

/* ---- reads ---- */

typedef struct {
    taskidx_t *self;
    taskidx_task_fn fn;
    void *arg;
    uint32_t limit, n;
} scan_t;

static int decode(taskidx_t *self, const MDB_val *v, task_t *t)
{
    return taskrec_decode(&self->zone, v->mv_data, v->mv_size, t);
}

/* One task of a scan, read from the main environment (the batch's view inside a batch). */
static int visit(scan_t *s, uint64_t seq)
{
    unsigned char key[8];
    MDB_val k = {8, key}, v;
    MDB_txn *txn;
    int stop = 0;
    be64_put(key, seq);
    if (store_read_begin(s->self->main, &txn))
        return -1;
    if (mdb_get(txn, s->self->tasks, &k, &v) == 0 && decode(s->self, &v, s->self->scratch) == 0) {
        s->n++;
        stop = s->fn(s->arg, s->self->scratch, v.mv_data, v.mv_size) || s->n >= s->limit;
    }
    store_read_end(s->self->main, txn);
    return stop;
}

long taskidx_scan(taskidx_t *self, char index, const char *key, uint64_t after, uint32_t limit,
                  taskidx_task_fn fn, void *arg)
{
    scan_t s = {self, fn, arg, limit, 0};
    unsigned char buf[OPEN_KEY_MAX], from[8];
    MDB_txn *txn;
    MDB_cursor *cur;
    if (limit == 0)
        return 0;
    if (store_read_begin(self->store, &txn))
        return -1;
    int rc = mdb_cursor_open(txn, self->open, &cur), stop = 0;
    if (rc == 0) {
        MDB_val k = open_key(buf, index, key), v = {8, from};
        be64_put(from, after + 1);
        rc = mdb_cursor_get(cur, &k, &v, MDB_GET_BOTH_RANGE);
        for (; rc == 0 && !stop; rc = stop ? 0 : mdb_cursor_get(cur, &k, &v, MDB_NEXT_DUP))
            if (v.mv_size == 8)
                stop = visit(&s, be64_get(v.mv_data));
        mdb_cursor_close(cur);
    }
    store_read_end(self->store, txn);
    return stop < 0 || (rc && rc != MDB_NOTFOUND) ? -1 : (long)s.n;
}

long taskidx_count(taskidx_t *self, char index, const char *key)
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

int taskidx_next_deadline(taskidx_t *self, int64_t *due)
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

long taskidx_due(taskidx_t *self, int64_t now, taskidx_due_fn fn, void *arg)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_val k, v;
    long n = 0;
    if (store_read_begin(self->store, &txn))
        return -1;
    int rc = mdb_cursor_open(txn, self->due, &cur);
    if (rc == 0) {
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
             rc == 0 && k.mv_size == 8 && (int64_t)be64_get(k.mv_data) <= now;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
            if (v.mv_size != DUE_VAL)
                continue;
            const unsigned char *p = v.mv_data;
            n++;
            if (fn(arg, be64_get(p), (deadline_kind_t)p[8], (int64_t)be64_get(k.mv_data)) < 0) {
                n = -1;
                break;
            }
        }
        mdb_cursor_close(cur);
    }
    store_read_end(self->store, txn);
    return rc && rc != MDB_NOTFOUND && n >= 0 ? -1 : n;
}
