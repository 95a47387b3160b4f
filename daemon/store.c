/*
 * store: the LMDB environment behind gridbusd (see store.h for the contract).
 *
 * Sequence numbers are big-endian u64 keys so the log appends with MDB_APPEND and reads
 * back in order. A log record is [received_at: 8 bytes BE][canonical event msgpack]; the
 * id index holds only the seq, and a resend is compared against the logged bytes, so the
 * event is stored once. The next seq is derived from the log's last key at open, never
 * kept twice.
 */
#include "store.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <lmdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "be64.h"

#define REC_HEAD 8

struct store {
    MDB_env *env;
    MDB_txn *txn;                 /* the batch's write transaction, or NULL */
    _Atomic(unsigned long) owner; /* the thread that began it (a pthread_t) */
    /* Held shared by every read transaction of its own, exclusively by store_grow: LMDB may
     * remap the file only while no transaction of the process is open, and the task
     * indexer reads from another thread. */
    pthread_rwlock_t map_lock;
    MDB_dbi log, ids, dead, meta;
    uint64_t head;      /* last committed seq */
    uint64_t next;      /* next seq inside the open batch */
    uint64_t dead_next; /* next dead-letter key inside the open batch */
    uint64_t dead_head; /* last committed dead-letter key */
    uint64_t map_size, map_size_max;
    uint32_t dead_letter_max;
    store_rc_t last_failure;
    int stale_readers; /* cleared at open, not yet reported by store_reader_check */
    struct {
        store_flush_fn flush;
        store_end_fn end;
        void *arg;
    } hooks[STORE_HOOKS_MAX];
    /* The batch's append cursors, by dbi (LMDB closes them with the transaction). */
    MDB_cursor *appenders[STORE_APPENDERS_MAX];
    char error[256];
};

static store_rc_t fail(store_t *self, int rc, const char *what)
{
    if (rc == MDB_MAP_FULL) {
        snprintf(self->error, sizeof self->error, "%s: map full at %llu bytes", what,
                 (unsigned long long)self->map_size);
        return self->last_failure = STORE_FULL;
    }
    snprintf(self->error, sizeof self->error, "%s: %s", what, mdb_strerror(rc));
    return self->last_failure = STORE_ERROR;
}

store_rc_t store_last_failure(const store_t *self)
{
    return self->last_failure;
}

const char *store_error(const store_t *self)
{
    return self->error;
}

/* The last key of dbi as a u64, 0 when the database is empty. */
static int last_key(MDB_txn *txn, MDB_dbi dbi, uint64_t *out)
{
    MDB_cursor *cur;
    MDB_val k, v;
    int rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc)
        return rc;
    rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
    *out = rc == 0 && k.mv_size == 8 ? be64_get(k.mv_data) : 0;
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

static int check_schema(store_t *self, MDB_txn *txn)
{
    MDB_val k = {6, "schema"}, v;
    unsigned char ver[8];
    int rc = mdb_get(txn, self->meta, &k, &v);
    if (rc == MDB_NOTFOUND) {
        be64_put(ver, STORE_SCHEMA_VERSION);
        v.mv_size = 8, v.mv_data = ver;
        return mdb_put(txn, self->meta, &k, &v, 0);
    }
    if (rc)
        return rc;
    if (v.mv_size != 8 || be64_get(v.mv_data) < STORE_SCHEMA_OLDEST ||
        be64_get(v.mv_data) > STORE_SCHEMA_VERSION) {
        snprintf(self->error, sizeof self->error,
                 "state was written by an incompatible gridbusd (schema %llu, this one reads %d "
                 "to %d)",
                 v.mv_size == 8 ? (unsigned long long)be64_get(v.mv_data) : 0ULL,
                 STORE_SCHEMA_OLDEST, STORE_SCHEMA_VERSION);
        return -1;
    }
    return 0;
}

static int open_dbs(store_t *self)
{
    MDB_txn *txn;
    int rc = mdb_txn_begin(self->env, NULL, 0, &txn);
    if (rc)
        return fail(self, rc, "begin"), -1;
    if ((rc = mdb_dbi_open(txn, "log", MDB_CREATE, &self->log)) ||
        (rc = mdb_dbi_open(txn, "ids", MDB_CREATE, &self->ids)) ||
        (rc = mdb_dbi_open(txn, "dead", MDB_CREATE, &self->dead)) ||
        (rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &self->meta)) ||
        (rc = last_key(txn, self->log, &self->head)) ||
        (rc = last_key(txn, self->dead, &self->dead_head))) {
        mdb_txn_abort(txn);
        return fail(self, rc, "open databases"), -1;
    }
    if ((rc = check_schema(self, txn)) != 0) {
        mdb_txn_abort(txn);
        if (rc > 0)
            fail(self, rc, "schema");
        return -1;
    }
    if ((rc = mdb_txn_commit(txn)))
        return fail(self, rc, "commit"), -1;
    return 0;
}

static int open_env(store_t *self, const char *dir, unsigned flags)
{
    MDB_envinfo info;
    int rc;
    if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
        snprintf(self->error, sizeof self->error, "%s: %s", dir, strerror(errno));
        return -1;
    }
    if ((rc = mdb_env_create(&self->env)) || (rc = mdb_env_set_maxdbs(self->env, STORE_MAX_DBS)) ||
        (rc = mdb_env_set_mapsize(self->env, self->map_size)) ||
        (rc = mdb_env_open(self->env, dir, MDB_NORDAHEAD | flags, 0640))) {
        snprintf(self->error, sizeof self->error, "%s: %s", dir, mdb_strerror(rc));
        return -1;
    }
    /* A crashed reader's slot would pin old pages forever; clear them at start. */
    mdb_reader_check(self->env, &self->stale_readers);
    /* LMDB maps the larger of the configured size and the data the file holds. */
    mdb_env_info(self->env, &info);
    self->map_size = info.me_mapsize;
    return 0;
}

store_t *store_new(const char *dir, const store_opts_t *opts, char *err, size_t errlen)
{
    store_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_rwlock_init(&self->map_lock, NULL);
    self->map_size = opts->map_size;
    self->map_size_max = opts->map_size_max;
    self->dead_letter_max = opts->dead_letter_max;
    if (open_env(self, dir, opts->env_flags) < 0 || open_dbs(self) < 0) {
        snprintf(err, errlen, "store %s: %s", dir, self->error);
        store_destroy(&self);
        return NULL;
    }
    return self;
}

void store_destroy(store_t **self_p)
{
    store_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    if (self->txn)
        mdb_txn_abort(self->txn);
    if (self->env)
        mdb_env_close(self->env);
    pthread_rwlock_destroy(&self->map_lock);
    free(self);
    *self_p = NULL;
}

store_rc_t store_begin(store_t *self)
{
    atomic_store(&self->owner, (unsigned long)pthread_self());
    int rc = mdb_txn_begin(self->env, NULL, 0, &self->txn);
    if (rc) {
        self->txn = NULL;
        return fail(self, rc, "begin");
    }
    self->next = self->head + 1;
    self->dead_next = self->dead_head + 1;
    return STORE_OK;
}

/* Compares a resent event with the logged one. */
static store_rc_t same_as_logged(store_t *self, MDB_txn *txn, uint64_t seq, const void *event,
                                 size_t len)
{
    unsigned char key[8];
    MDB_val k = {8, key}, v;
    be64_put(key, seq);
    int rc = mdb_get(txn, self->log, &k, &v);
    if (rc)
        return fail(self, rc, "read logged event");
    if (v.mv_size == REC_HEAD + len && memcmp((char *)v.mv_data + REC_HEAD, event, len) == 0)
        return STORE_DUP;
    return STORE_CONFLICT;
}

store_rc_t store_append(store_t *self, const char *id, size_t id_len, int64_t received_at,
                        const void *event, size_t event_len, uint64_t *seq)
{
    unsigned char key[8];
    MDB_val idk = {id_len, (void *)id}, seqv = {8, key}, rec;
    be64_put(key, self->next);
    int rc = mdb_put(self->txn, self->ids, &idk, &seqv, MDB_NOOVERWRITE);
    if (rc == MDB_KEYEXIST) {
        *seq = be64_get(seqv.mv_data); /* LMDB returns the existing value */
        return same_as_logged(self, self->txn, *seq, event, event_len);
    }
    if (rc)
        return fail(self, rc, "index id");
    MDB_val k = {8, key};
    rec.mv_size = REC_HEAD + event_len;
    if ((rc = mdb_put(self->txn, self->log, &k, &rec, MDB_APPEND | MDB_RESERVE)))
        return fail(self, rc, "append event");
    be64_put(rec.mv_data, (uint64_t)received_at);
    memcpy((char *)rec.mv_data + REC_HEAD, event, event_len);
    *seq = self->next++;
    return STORE_OK;
}

/* Dead letter layout: [at 8][source len 2][code len 2][error len 2][input len 4] then the
 * four byte strings; small enough to need no codec. */
#define DEAD_HEAD 18
#define DEAD_FIELD_MAX 0xffff

static size_t clamp(size_t n, size_t max)
{
    return n > max ? max : n;
}

static store_rc_t trim_dead(store_t *self)
{
    MDB_stat st;
    MDB_cursor *cur;
    MDB_val k, v;
    int rc = mdb_stat(self->txn, self->dead, &st);
    if (rc)
        return fail(self, rc, "dead letters");
    if (st.ms_entries <= self->dead_letter_max)
        return STORE_OK;
    if ((rc = mdb_cursor_open(self->txn, self->dead, &cur)))
        return fail(self, rc, "dead letters");
    for (size_t n = st.ms_entries - self->dead_letter_max; n > 0 && rc == 0; n--)
        if ((rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST)) == 0)
            rc = mdb_cursor_del(cur, 0);
    mdb_cursor_close(cur);
    return rc ? fail(self, rc, "trim dead letters") : STORE_OK;
}

store_rc_t store_dead_letter(store_t *self, const store_dead_t *d)
{
    size_t ls = clamp(strlen(d->source), DEAD_FIELD_MAX),
           lc = clamp(strlen(d->code), DEAD_FIELD_MAX),
           le = clamp(strlen(d->error), DEAD_FIELD_MAX), li = d->input_len;
    unsigned char key[8];
    MDB_val k = {8, key}, v = {DEAD_HEAD + ls + lc + le + li, NULL};
    be64_put(key, self->dead_next);
    int rc = mdb_put(self->txn, self->dead, &k, &v, MDB_APPEND | MDB_RESERVE);
    if (rc)
        return fail(self, rc, "dead letter");
    unsigned char *p = v.mv_data;
    be64_put(p, (uint64_t)d->at);
    p[8] = (unsigned char)(ls >> 8), p[9] = (unsigned char)ls;
    p[10] = (unsigned char)(lc >> 8), p[11] = (unsigned char)lc;
    p[12] = (unsigned char)(le >> 8), p[13] = (unsigned char)le;
    p[14] = (unsigned char)(li >> 24), p[15] = (unsigned char)(li >> 16);
    p[16] = (unsigned char)(li >> 8), p[17] = (unsigned char)li;
    p += DEAD_HEAD;
    memcpy(p, d->source, ls), p += ls;
    memcpy(p, d->code, lc), p += lc;
    memcpy(p, d->error, le), p += le;
    if (li)
        memcpy(p, d->input, li);
    self->dead_next++;
    return self->dead_letter_max ? trim_dead(self) : STORE_OK;
}

store_rc_t store_mark_schema(store_t *self)
{
    unsigned char ver[8];
    MDB_val k = {6, "schema"}, v;
    /* Already so (every start but the first after an upgrade): nothing written, so the
     * start-up transaction commits without a sync. */
    if (mdb_get(self->txn, self->meta, &k, &v) == 0 && v.mv_size == 8 &&
        be64_get(v.mv_data) == STORE_SCHEMA_VERSION)
        return STORE_OK;
    be64_put(ver, STORE_SCHEMA_VERSION);
    v = (MDB_val){8, ver};
    int rc = mdb_put(self->txn, self->meta, &k, &v, 0);
    return rc ? fail(self, rc, "schema") : STORE_OK;
}

int store_on_txn(store_t *self, store_flush_fn flush, store_end_fn end, void *arg)
{
    for (int i = 0; i < STORE_HOOKS_MAX; i++)
        if (!self->hooks[i].arg) {
            self->hooks[i].flush = flush, self->hooks[i].end = end, self->hooks[i].arg = arg;
            return 0;
        }
    return -1;
}

void store_off_txn(store_t *self, void *arg)
{
    for (int i = 0; i < STORE_HOOKS_MAX; i++)
        if (self->hooks[i].arg == arg)
            memset(&self->hooks[i], 0, sizeof self->hooks[i]);
}

static void end_hooks(store_t *self, bool committed)
{
    for (int i = 0; i < STORE_HOOKS_MAX; i++)
        if (self->hooks[i].arg)
            self->hooks[i].end(self->hooks[i].arg, committed);
}

store_rc_t store_commit(store_t *self)
{
    for (int i = 0; i < STORE_HOOKS_MAX; i++) {
        store_rc_t r = self->hooks[i].arg && self->hooks[i].flush
                           ? self->hooks[i].flush(self->hooks[i].arg)
                           : STORE_OK;
        if (r != STORE_OK) {
            store_abort(self);
            return r;
        }
    }
    int rc = mdb_txn_commit(self->txn);
    self->txn = NULL;
    memset(self->appenders, 0, sizeof self->appenders); /* freed with the transaction */
    atomic_store(&self->owner, 0UL);
    end_hooks(self, rc == 0);
    if (rc)
        return fail(self, rc, "commit");
    self->head = self->next - 1;
    self->dead_head = self->dead_next - 1;
    return STORE_OK;
}

void store_abort(store_t *self)
{
    if (self->txn)
        mdb_txn_abort(self->txn);
    self->txn = NULL;
    memset(self->appenders, 0, sizeof self->appenders);
    atomic_store(&self->owner, 0UL);
    end_hooks(self, false);
}

int store_grow(store_t *self)
{
    if (self->map_size >= self->map_size_max) {
        snprintf(self->error, sizeof self->error, "map full at its cap of %llu bytes",
                 (unsigned long long)self->map_size_max);
        return -1;
    }
    uint64_t want = self->map_size * 2;
    if (want > self->map_size_max)
        want = self->map_size_max;
    pthread_rwlock_wrlock(&self->map_lock);
    int rc = mdb_env_set_mapsize(self->env, want);
    pthread_rwlock_unlock(&self->map_lock);
    if (rc) {
        fail(self, rc, "grow map");
        return -1;
    }
    self->map_size = want;
    return 0;
}

MDB_env *store_env(store_t *self)
{
    return self->env;
}

MDB_txn *store_txn(store_t *self)
{
    return self->txn;
}

store_rc_t store_fail(store_t *self, int mdb_rc, const char *what)
{
    return fail(self, mdb_rc, what);
}

/* An mdb_put with MDB_APPEND descends the tree from the root to find the last page; a cursor
 * that made the last append is already there (LMDB moves the cursors it tracks when other
 * writes of the batch split or merge pages), so with Debian's LMDB 0.9.24 a batch's run of
 * appends skips the descent and the cursor setup: ~400 instructions of ~1,300 an append.
 * (Later LMDB versions search from the root again for a tree of more than one level; the
 * kept cursor then saves the setup only.) */
int store_put_append(store_t *self, MDB_dbi dbi, MDB_val *k, MDB_val *v, unsigned flags)
{
    if (!self->txn)
        return EINVAL;
    if (dbi >= STORE_APPENDERS_MAX)
        return mdb_put(self->txn, dbi, k, v, MDB_APPEND | flags);
    int rc = 0;
    if (!self->appenders[dbi] && (rc = mdb_cursor_open(self->txn, dbi, &self->appenders[dbi])))
        return rc;
    return mdb_cursor_put(self->appenders[dbi], k, v, MDB_APPEND | flags);
}

uint64_t store_head(const store_t *self)
{
    /* Inside a batch its own appends count: replies leave only after the commit. */
    return self->txn ? self->next - 1 : self->head;
}

uint64_t store_map_size(const store_t *self)
{
    return self->map_size;
}

uint64_t store_dead_count(store_t *self)
{
    MDB_txn *txn;
    MDB_stat st = {0};
    if (mdb_txn_begin(self->env, NULL, MDB_RDONLY, &txn) == 0) {
        mdb_stat(txn, self->dead, &st);
        mdb_txn_abort(txn);
    }
    return st.ms_entries;
}

/* Reads run inside the batch's write transaction when one is open: LMDB allows one
 * transaction per thread, and the batch's own appends should be visible to it. */
/* The batch's transaction only serves the thread that began it: another thread (the task
 * indexer reads the feed while the loop writes) reads the last commit. */
_Static_assert(sizeof(pthread_t) == sizeof(unsigned long), "a pthread_t is an unsigned long");

static bool owns_txn(store_t *self)
{
    /* Only the owner reads txn: another thread never races the batch's writes to it. */
    return atomic_load(&self->owner) == (unsigned long)pthread_self() && self->txn;
}

int store_read_begin(store_t *self, MDB_txn **txn)
{
    if (owns_txn(self)) {
        *txn = self->txn;
        return 0;
    }
    pthread_rwlock_rdlock(&self->map_lock);
    int rc = mdb_txn_begin(self->env, NULL, MDB_RDONLY, txn);
    if (rc)
        pthread_rwlock_unlock(&self->map_lock);
    return rc;
}

void store_read_end(store_t *self, MDB_txn *txn)
{
    if (owns_txn(self) && txn == self->txn)
        return;
    mdb_txn_abort(txn);
    pthread_rwlock_unlock(&self->map_lock);
}

int store_open_dbs(store_t *self, char *err, size_t errlen, const char *what, ...)
{
    MDB_txn *txn;
    va_list ap;
    const char *name;
    int rc = mdb_txn_begin(self->env, NULL, 0, &txn);
    if (rc == 0) {
        va_start(ap, what);
        while (rc == 0 && (name = va_arg(ap, const char *)))
            rc = mdb_dbi_open(txn, name, MDB_CREATE, va_arg(ap, MDB_dbi *));
        va_end(ap);
        if (rc)
            mdb_txn_abort(txn);
        else
            rc = mdb_txn_commit(txn);
    }
    if (rc)
        snprintf(err, errlen, "%s: %s", what, mdb_strerror(rc));
    return rc ? -1 : 0;
}

long store_walk(store_t *self, MDB_dbi dbi, const void *start, size_t start_len, size_t prefix_len,
                store_walk_fn fn, void *arg)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_val k = {start_len, (void *)start}, v;
    long n = 0;
    if (store_read_begin(self, &txn))
        return -1;
    if (mdb_cursor_open(txn, dbi, &cur) == 0) {
        /* LMDB refuses an empty key for MDB_SET_RANGE. */
        int rc = mdb_cursor_get(cur, &k, &v, start_len ? MDB_SET_RANGE : MDB_FIRST);
        for (; rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
            if (k.mv_size < prefix_len || (prefix_len && memcmp(k.mv_data, start, prefix_len)))
                break;
            n++;
            if (fn(arg, txn, &k, &v))
                break;
        }
        mdb_cursor_close(cur);
    } else {
        n = -1;
    }
    store_read_end(self, txn);
    return n;
}

long store_read_events(store_t *self, uint64_t from, uint32_t limit, store_event_fn fn, void *arg)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    unsigned char key[8];
    MDB_val k = {8, key}, v;
    long n = 0;
    be64_put(key, from);
    if (store_read_begin(self, &txn))
        return -1;
    if (mdb_cursor_open(txn, self->log, &cur)) {
        store_read_end(self, txn);
        return -1;
    }
    int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    for (; rc == 0 && (uint32_t)n < limit; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        store_event_t ev = {be64_get(k.mv_data), (int64_t)be64_get(v.mv_data),
                            (char *)v.mv_data + REC_HEAD, v.mv_size - REC_HEAD};
        n++;
        if (fn(arg, &ev))
            break;
    }
    mdb_cursor_close(cur);
    store_read_end(self, txn);
    return n;
}

store_rc_t store_match(store_t *self, const char *id, size_t id_len, const void *event,
                       size_t event_len, uint64_t *seq)
{
    MDB_txn *txn;
    MDB_val k = {id_len, (void *)id}, v;
    int rc = store_read_begin(self, &txn);
    if (rc)
        return fail(self, rc, "begin read");
    store_rc_t result = STORE_OK;
    rc = mdb_get(txn, self->ids, &k, &v);
    if (rc == 0) {
        *seq = be64_get(v.mv_data);
        result = same_as_logged(self, txn, *seq, event, event_len);
    } else if (rc != MDB_NOTFOUND) {
        result = fail(self, rc, "look up id");
    }
    store_read_end(self, txn);
    return result;
}

int store_find_id(store_t *self, const char *id, size_t id_len, uint64_t *seq)
{
    MDB_txn *txn;
    MDB_val k = {id_len, (void *)id}, v;
    if (store_read_begin(self, &txn))
        return -1;
    int rc = mdb_get(txn, self->ids, &k, &v);
    if (rc == 0)
        *seq = be64_get(v.mv_data);
    store_read_end(self, txn);
    return rc == 0 ? 0 : -1;
}

static int decode_dead(const MDB_val *v, store_dead_t *d, char *buf, size_t buflen)
{
    const unsigned char *p = v->mv_data;
    if (v->mv_size < DEAD_HEAD)
        return -1;
    size_t ls = (size_t)p[8] << 8 | p[9], lc = (size_t)p[10] << 8 | p[11],
           le = (size_t)p[12] << 8 | p[13];
    size_t li = (size_t)p[14] << 24 | (size_t)p[15] << 16 | (size_t)p[16] << 8 | p[17];
    if (DEAD_HEAD + ls + lc + le + li != v->mv_size || ls + lc + le + 3 > buflen)
        return -1;
    const char *s = (const char *)p + DEAD_HEAD;
    d->at = (int64_t)be64_get(p);
    d->source = memcpy(buf, s, ls), buf[ls] = 0, buf += ls + 1, s += ls;
    d->code = memcpy(buf, s, lc), buf[lc] = 0, buf += lc + 1, s += lc;
    d->error = memcpy(buf, s, le), buf[le] = 0, s += le;
    d->input = s, d->input_len = li;
    return 0;
}

long store_read_dead(store_t *self, store_dead_fn fn, void *arg)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_val k, v;
    long n = 0;
    char *buf = malloc(3 * DEAD_FIELD_MAX + 3);
    if (!buf || mdb_txn_begin(self->env, NULL, MDB_RDONLY, &txn)) {
        free(buf);
        return -1;
    }
    if (mdb_cursor_open(txn, self->dead, &cur) == 0) {
        for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
            store_dead_t d;
            if (decode_dead(&v, &d, buf, 3 * DEAD_FIELD_MAX + 3) < 0)
                continue;
            n++;
            if (fn(arg, &d))
                break;
        }
        mdb_cursor_close(cur);
    }
    mdb_txn_abort(txn);
    free(buf);
    return n;
}

int store_reader_check(store_t *self)
{
    int dead = 0, rc = mdb_reader_check(self->env, &dead);
    if (rc) {
        fail(self, rc, "reader check");
        return -1;
    }
    dead += self->stale_readers;
    self->stale_readers = 0;
    return dead;
}

/* ---- backups: environments of their own, never the running store's handle ---- */

/* The compacting copy, again with the new map size when the owner grew the map since we
 * opened (MDB_MAP_RESIZED comes from the copy's own read transaction, before it writes). */
static int copy_compact(MDB_env *env, int fd)
{
    int rc = MDB_MAP_RESIZED;
    for (int tries = 0; rc == MDB_MAP_RESIZED && tries < 8; tries++) {
        if (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0)
            return errno;
        rc = mdb_env_set_mapsize(env, 0);
        if (rc == 0)
            rc = mdb_env_copyfd2(env, fd, MDB_CP_COMPACT);
    }
    return rc;
}

int store_backup(const char *state_dir, int fd, char *err, size_t errlen)
{
    MDB_env *env = NULL;
    int rc = mdb_env_create(&env);
    if (rc == 0 && (rc = mdb_env_set_maxdbs(env, STORE_MAX_DBS)) == 0 &&
        (rc = mdb_env_open(env, state_dir, MDB_RDONLY | MDB_NORDAHEAD, 0640)) == 0)
        rc = copy_compact(env, fd);
    if (env)
        mdb_env_close(env);
    if (rc)
        snprintf(err, errlen, "copy of %s: %s", state_dir, mdb_strerror(rc));
    return rc ? -1 : 0;
}

/* Counts the entries of every named database (the keys of the unnamed one are their
 * names) and reads the schema and the event head. */
static int summarise(MDB_txn *txn, store_summary_t *out)
{
    MDB_dbi main_db, dbi;
    MDB_cursor *cur;
    MDB_val k, v;
    int rc = mdb_dbi_open(txn, NULL, 0, &main_db);
    if (rc || (rc = mdb_cursor_open(txn, main_db, &cur)))
        return rc;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && out->ndbs < STORE_MAX_DBS;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        char *name = out->dbs[out->ndbs].name;
        MDB_stat st;
        if (k.mv_size >= sizeof out->dbs[0].name)
            continue;
        memcpy(name, k.mv_data, k.mv_size), name[k.mv_size] = '\0';
        if (mdb_dbi_open(txn, name, 0, &dbi) || mdb_stat(txn, dbi, &st))
            continue; /* a plain key, not a database */
        out->dbs[out->ndbs++].entries = st.ms_entries;
        if (strcmp(name, "log") == 0 && (rc = last_key(txn, dbi, &out->head)))
            break;
        MDB_val sk = {6, "schema"}, sv;
        if (strcmp(name, "meta") == 0 && mdb_get(txn, dbi, &sk, &sv) == 0 && sv.mv_size == 8)
            out->schema = be64_get(sv.mv_data);
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int store_inspect_file(const char *path, store_summary_t *out, char *err, size_t errlen)
{
    MDB_env *env = NULL;
    MDB_txn *txn = NULL;
    memset(out, 0, sizeof *out);
    int rc = mdb_env_create(&env);
    if (rc == 0 && (rc = mdb_env_set_maxdbs(env, STORE_MAX_DBS)) == 0 &&
        (rc = mdb_env_open(env, path, MDB_RDONLY | MDB_NOLOCK | MDB_NOSUBDIR, 0640)) == 0 &&
        (rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn)) == 0)
        rc = summarise(txn, out);
    if (txn)
        mdb_txn_abort(txn);
    if (env)
        mdb_env_close(env);
    if (rc)
        return snprintf(err, errlen, "%s: %s", path, mdb_strerror(rc)), -1;
    if (out->schema < STORE_SCHEMA_OLDEST || out->schema > STORE_SCHEMA_VERSION)
        return snprintf(err, errlen, "%s: schema %llu, not %d: not a store of this gridbusd", path,
                        (unsigned long long)out->schema, STORE_SCHEMA_VERSION),
               -1;
    return 0;
}
