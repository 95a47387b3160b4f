/*
 * alertdb: see alertdb.h. Key layouts:
 *   alerts  [seq 8]                              -> alert record (alert_pack, with history)
 *   afeed   [feed seq 8]                         -> feed record
 *   aidx    'k' day '\0' rule '\0' subject       -> alert seq 8: one alert per rule, subject, day
 *           'o' [seq 8]                          -> (empty): unresolved alerts, for the digest
 *           'e' [due 8][seq 8]                   -> (empty): pending escalations in time order
 *           'd' day                              -> feed seq 8 of that day's digest
 *           'm' name                             -> int 8: the timer's cursors
 *   afacts  'n' entry                            -> [event seq 8][due 8]: entry numbers seen
 *           'c' counterparty '\0' [amount 8][at 8] -> entry: for duplicate pairs
 *           'u' [due 8] entry                    -> (empty): unsettled obligations in time order
 *           'v' member '\0' [day 4]              -> (empty): a cadre's on-site days
 * Ids hold no NUL, so the separators keep prefixes apart. Integers are big-endian so that
 * LMDB's byte order is time order.
 */
#include "alertdb.h"

#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "be64.h"
#include "feedlog.h"
#include "mpw.h"
#include "wire.h"

#define KEY_MAX 256
/* Alerts kept decoded: a day's open alerts are few and each trigger counted on one re-reads
 * it, and decoding a record with its history cost more than the rest of counting. */
#define CACHE_SLOTS 32

struct alertdb {
    store_t *store;
    MDB_dbi alerts, feed, idx, facts;
    msgpack_zone zone;
    msgpack_sbuffer buf;
    alert_t *scratch;
    alert_t *cache;                  /* by seq % CACHE_SLOTS, as stored */
    uint64_t cache_seq[CACHE_SLOTS]; /* 0: empty */
    uint64_t feed_head;              /* the feed's last seq, when feed_head_known */
    bool feed_head_known;
};

/* Neither cache outlives a batch that did not commit. */
static void on_end(void *arg, bool committed)
{
    alertdb_t *self = arg;
    if (committed)
        return;
    memset(self->cache_seq, 0, sizeof self->cache_seq);
    self->feed_head_known = false;
}

alertdb_t *alertdb_new(store_t *store, char *err, size_t errlen)
{
    alertdb_t *self = calloc(1, sizeof *self);
    if (!self || !(self->scratch = malloc(sizeof *self->scratch)) ||
        !(self->cache = malloc(CACHE_SLOTS * sizeof *self->cache)) ||
        !msgpack_zone_init(&self->zone, 4096)) {
        snprintf(err, errlen, "out of memory");
        free(self ? self->cache : NULL);
        free(self ? self->scratch : NULL);
        free(self);
        return NULL;
    }
    msgpack_sbuffer_init(&self->buf);
    self->store = store;
    if (store_open_dbs(store, err, errlen, "alert databases", "alerts", &self->alerts, "afeed",
                       &self->feed, "aidx", &self->idx, "afacts", &self->facts, NULL) < 0) {
        alertdb_destroy(&self);
    } else if (store_on_txn(store, NULL, on_end, self) < 0) {
        snprintf(err, errlen, "alert databases: too many store hooks");
        alertdb_destroy(&self);
    }
    return self;
}

void alertdb_destroy(alertdb_t **self_p)
{
    alertdb_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    store_off_txn(self->store, self);
    msgpack_zone_destroy(&self->zone);
    msgpack_sbuffer_destroy(&self->buf);
    free(self->cache);
    free(self->scratch);
    free(self);
    *self_p = NULL;
}

/* ---- the record ---- */

static const char *const status_names[] = {"open", "acknowledged", "resolved"};

const char *alert_status_name(alert_status_t s)
{
    return s <= ALERT_RESOLVED ? status_names[s] : "?";
}

void alert_format_id(uint64_t seq, char out[ALERT_ID_MAX])
{
    snprintf(out, ALERT_ID_MAX, "a-%llu", (unsigned long long)seq);
}

int alert_parse_id(const char *s, size_t len, uint64_t *seq)
{
    uint64_t n = 0;
    if (len < 3 || len > 22 || s[0] != 'a' || s[1] != '-' || s[2] == '0')
        return -1;
    for (size_t i = 2; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        n = n * 10 + (uint64_t)(s[i] - '0');
    }
    *seq = n;
    return 0;
}

static void copy(char *dst, size_t cap, const char *src, size_t len)
{
    size_t n = len < cap - 1 ? len : cap - 1;
    memcpy(dst, src ? src : "", n);
    dst[n] = 0;
}

void alert_add_step(alert_t *a, int64_t at, const char *by, const char *step, const char *note,
                    size_t note_len)
{
    if (a->nhistory == ALERT_HISTORY_MAX) {
        memmove(&a->history[1], &a->history[2], (ALERT_HISTORY_MAX - 2) * sizeof a->history[0]);
        a->nhistory--;
    }
    alert_step_t *s = &a->history[a->nhistory++];
    s->at = at;
    copy(s->by, sizeof s->by, by, strlen(by));
    copy(s->step, sizeof s->step, step, strlen(step));
    copy(s->note, sizeof s->note, note, note_len);
}

/* Packed with mpw (see task.c): every trigger counted on an alert re-packs it. */
int alert_pack(msgpack_sbuffer *out, const alert_t *a, bool with_history)
{
    char id[ALERT_ID_MAX];
    mpw_t w;
    mpw_init(&w, out);
    alert_format_id(a->seq, id);
    mpw_map(&w, 15 + (with_history ? 1 : 0));
    MPW_KEY(&w, "id"), mpw_cstr(&w, id);
    MPW_KEY(&w, "seq"), mpw_int(&w, (int64_t)a->seq);
    MPW_KEY(&w, "rule"), mpw_cstr(&w, a->rule);
    MPW_KEY(&w, "severity"), mpw_cstr(&w, a->severity);
    MPW_KEY(&w, "subject"), mpw_cstr(&w, a->subject);
    MPW_KEY(&w, "day"), mpw_cstr(&w, a->day);
    MPW_KEY(&w, "status"), mpw_cstr(&w, alert_status_name(a->status));
    MPW_KEY(&w, "level"), mpw_int(&w, a->level);
    MPW_KEY(&w, "notify"), mpw_cstr(&w, a->notify);
    MPW_KEY(&w, "count"), mpw_int(&w, a->count);
    MPW_KEY(&w, "raised_at"), mpw_int(&w, a->raised_at);
    MPW_KEY(&w, "last_at"), mpw_int(&w, a->last_at);
    MPW_KEY(&w, "escalate_at"), mpw_int(&w, a->escalate_at);
    MPW_KEY(&w, "escalations"), mpw_int(&w, a->escalations);
    MPW_KEY(&w, "evidence"), mpw_array(&w, a->nevidence);
    for (uint32_t i = 0; i < a->nevidence; i++)
        mpw_cstr(&w, a->evidence[i]);
    if (with_history) {
        MPW_KEY(&w, "history"), mpw_array(&w, a->nhistory);
        for (uint32_t i = 0; i < a->nhistory; i++) {
            const alert_step_t *s = &a->history[i];
            mpw_map(&w, 4);
            MPW_KEY(&w, "at"), mpw_int(&w, s->at);
            MPW_KEY(&w, "by"), mpw_cstr(&w, s->by);
            MPW_KEY(&w, "step"), mpw_cstr(&w, s->step);
            MPW_KEY(&w, "note"), mpw_cstr(&w, s->note);
        }
    }
    return mpw_ok(&w) ? 0 : -1;
}

static void get_text(const msgpack_object *map, const char *key, char *dst, size_t cap)
{
    gb_str_t s = {"", 0};
    wire_get_str(map, key, &s);
    copy(dst, cap, s.ptr, s.len);
}

static int64_t get_int(const msgpack_object *map, const char *key)
{
    const msgpack_object *o = event_map_get(map, key);
    if (!o)
        return 0;
    return o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER ? o->via.i64 : (int64_t)o->via.u64;
}

static void unpack_history(const msgpack_object *arr, alert_t *a)
{
    for (uint32_t i = 0; arr && i < arr->via.array.size && i < ALERT_HISTORY_MAX; i++) {
        const msgpack_object *s = &arr->via.array.ptr[i];
        alert_step_t *st = &a->history[a->nhistory++];
        st->at = get_int(s, "at");
        get_text(s, "by", st->by, sizeof st->by);
        get_text(s, "step", st->step, sizeof st->step);
        get_text(s, "note", st->note, sizeof st->note);
    }
}

static int unpack(const msgpack_object *m, alert_t *a)
{
    char status[16];
    memset(a, 0, offsetof(alert_t, evidence));
    a->nevidence = a->nhistory = 0;
    a->seq = (uint64_t)get_int(m, "seq");
    get_text(m, "rule", a->rule, sizeof a->rule);
    get_text(m, "severity", a->severity, sizeof a->severity);
    get_text(m, "subject", a->subject, sizeof a->subject);
    get_text(m, "day", a->day, sizeof a->day);
    get_text(m, "status", status, sizeof status);
    a->status = !strcmp(status, "resolved")       ? ALERT_RESOLVED
                : !strcmp(status, "acknowledged") ? ALERT_ACKNOWLEDGED
                                                  : ALERT_OPEN;
    a->level = (uint32_t)get_int(m, "level");
    get_text(m, "notify", a->notify, sizeof a->notify);
    a->count = (uint32_t)get_int(m, "count");
    a->raised_at = get_int(m, "raised_at"), a->last_at = get_int(m, "last_at");
    a->escalate_at = get_int(m, "escalate_at");
    a->escalations = (uint32_t)get_int(m, "escalations");
    const msgpack_object *ev = event_map_get(m, "evidence");
    for (uint32_t i = 0;
         ev && ev->type == MSGPACK_OBJECT_ARRAY && i < ev->via.array.size && i < ALERT_EVIDENCE_MAX;
         i++) {
        const msgpack_object *o = &ev->via.array.ptr[i];
        if (o->type == MSGPACK_OBJECT_STR)
            copy(a->evidence[a->nevidence++], ALERT_TEXT_MAX, o->via.str.ptr, o->via.str.size);
    }
    const msgpack_object *h = event_map_get(m, "history");
    unpack_history(h && h->type == MSGPACK_OBJECT_ARRAY ? h : NULL, a);
    return 0;
}

static int decode(alertdb_t *self, const MDB_val *v, alert_t *a)
{
    msgpack_object obj;
    size_t off = 0;
    msgpack_zone_clear(&self->zone);
    if (msgpack_unpack(v->mv_data, v->mv_size, &off, &self->zone, &obj) != MSGPACK_UNPACK_SUCCESS ||
        obj.type != MSGPACK_OBJECT_MAP)
        return -1;
    return unpack(&obj, a);
}

/* ---- raw keys ---- */

/* A get in the batch's transaction when one is open: 0 found, 1 not, -1 error. */
static int get(alertdb_t *self, MDB_dbi dbi, const void *key, size_t len, void *val, size_t cap,
               size_t *vlen)
{
    MDB_txn *txn;
    MDB_val k = {len, (void *)key}, v;
    if (store_read_begin(self->store, &txn))
        return -1;
    int rc = mdb_get(txn, dbi, &k, &v);
    if (rc == 0) {
        size_t n = v.mv_size < cap ? v.mv_size : cap;
        if (val)
            memcpy(val, v.mv_data, n);
        if (vlen)
            *vlen = n;
    }
    store_read_end(self->store, txn);
    return rc == MDB_NOTFOUND ? 1 : rc ? -1 : 0;
}

static store_rc_t put(alertdb_t *self, MDB_dbi dbi, const void *key, size_t len, const void *val,
                      size_t vlen, const char *what)
{
    MDB_val k = {len, (void *)key}, v = {vlen, (void *)val};
    int rc = mdb_put(store_txn(self->store), dbi, &k, &v, 0);
    return rc ? store_fail(self->store, rc, what) : STORE_OK;
}

static store_rc_t del(alertdb_t *self, MDB_dbi dbi, const void *key, size_t len, const char *what)
{
    MDB_val k = {len, (void *)key};
    int rc = mdb_del(store_txn(self->store), dbi, &k, NULL);
    return rc && rc != MDB_NOTFOUND ? store_fail(self->store, rc, what) : STORE_OK;
}

/* prefix, then up to three NUL-separated texts (NULL ends), into out. */
static size_t text_key(unsigned char *out, char prefix, const char *a, const char *b, const char *c)
{
    const char *parts[] = {a, b, c};
    size_t n = 0;
    out[n++] = (unsigned char)prefix;
    for (int i = 0; i < 3 && parts[i]; i++) {
        size_t len = strnlen(parts[i], 72);
        if (i)
            out[n++] = 0;
        memcpy(out + n, parts[i], len), n += len;
    }
    return n;
}

static size_t seq_key(unsigned char *out, char prefix, int64_t t, uint64_t seq)
{
    out[0] = (unsigned char)prefix;
    be64_put(out + 1, (uint64_t)t);
    be64_put(out + 9, seq);
    return 17;
}

/* Takes (deletes) keys of prefix whose 8-byte time after it is <= now, in order. */
typedef int (*take_fn)(void *arg, const unsigned char *key, size_t len);
static long take(alertdb_t *self, MDB_dbi dbi, char prefix, int64_t now, take_fn fn, void *arg)
{
    MDB_cursor *cur;
    MDB_val k, v;
    unsigned char start[1] = {(unsigned char)prefix}, key[KEY_MAX];
    long n = 0;
    if (mdb_cursor_open(store_txn(self->store), dbi, &cur))
        return -1;
    for (;;) {
        k.mv_size = 1, k.mv_data = start;
        if (mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE) != 0 || k.mv_size < 9 ||
            k.mv_size > KEY_MAX || ((unsigned char *)k.mv_data)[0] != (unsigned char)prefix ||
            (int64_t)be64_get((unsigned char *)k.mv_data + 1) > now)
            break;
        size_t len = k.mv_size;
        memcpy(key, k.mv_data, len);
        if (mdb_cursor_del(cur, 0))
            break;
        n++;
        if (fn(arg, key, len) < 0) {
            n = -1;
            break;
        }
    }
    mdb_cursor_close(cur);
    return n;
}

/* The time of the first key of prefix: 0 and *t, 1 when none. */
static int first_time(alertdb_t *self, MDB_dbi dbi, char prefix, int64_t *t)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    unsigned char start[1] = {(unsigned char)prefix};
    MDB_val k = {1, start}, v;
    int found = 1;
    if (store_read_begin(self->store, &txn))
        return 1;
    if (mdb_cursor_open(txn, dbi, &cur) == 0) {
        if (mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE) == 0 && k.mv_size >= 9 &&
            ((unsigned char *)k.mv_data)[0] == (unsigned char)prefix) {
            *t = (int64_t)be64_get((unsigned char *)k.mv_data + 1);
            found = 0;
        }
        mdb_cursor_close(cur);
    }
    store_read_end(self->store, txn);
    return found;
}

/* ---- alerts ---- */

static void cache_put(alertdb_t *self, const alert_t *a)
{
    memcpy(&self->cache[a->seq % CACHE_SLOTS], a, sizeof *a);
    self->cache_seq[a->seq % CACHE_SLOTS] = a->seq;
}

int alertdb_get(alertdb_t *self, uint64_t seq, alert_t *a)
{
    unsigned char key[8];
    MDB_txn *txn;
    if (seq && self->cache_seq[seq % CACHE_SLOTS] == seq) {
        memcpy(a, &self->cache[seq % CACHE_SLOTS], sizeof *a);
        return 0;
    }
    be64_put(key, seq);
    MDB_val k = {8, key}, v;
    if (store_read_begin(self->store, &txn))
        return -1;
    int rc = mdb_get(txn, self->alerts, &k, &v);
    int result = rc == MDB_NOTFOUND ? 1 : rc ? -1 : decode(self, &v, a);
    store_read_end(self->store, txn);
    if (result == 0 && a->seq == seq)
        cache_put(self, a);
    return result;
}

int alertdb_find(alertdb_t *self, const char *day, const char *rule, const char *subject,
                 uint64_t *seq)
{
    unsigned char key[KEY_MAX], val[8];
    size_t n = text_key(key, 'k', day, rule, subject), len = 0;
    int rc = get(self, self->idx, key, n, val, 8, &len);
    if (rc == 0 && len == 8)
        *seq = be64_get(val);
    return rc == 0 && len == 8 ? 0 : 1;
}

uint64_t alertdb_next_seq(alertdb_t *self)
{
    /* alerts are keyed like a feed: by an 8-byte seq, in order */
    return feedlog_head(self->store, self->alerts) + 1;
}

static store_rc_t sync_keys(alertdb_t *self, const alert_t *old, const alert_t *a)
{
    unsigned char key[KEY_MAX], val[8];
    store_rc_t rc = STORE_OK;
    if (!old) {
        be64_put(val, a->seq);
        rc = put(self, self->idx, key, text_key(key, 'k', a->day, a->rule, a->subject), val, 8,
                 "alert key");
    }
    bool was_open = old && old->status != ALERT_RESOLVED, is_open = a->status != ALERT_RESOLVED;
    if (rc == STORE_OK && was_open != is_open) {
        key[0] = 'o', be64_put(key + 1, a->seq);
        rc = is_open ? put(self, self->idx, key, 9, "", 0, "open alert")
                     : del(self, self->idx, key, 9, "open alert");
    }
    int64_t was = old ? old->escalate_at : 0;
    if (rc == STORE_OK && was != a->escalate_at && was)
        rc = del(self, self->idx, key, seq_key(key, 'e', was, a->seq), "escalation");
    if (rc == STORE_OK && was != a->escalate_at && a->escalate_at)
        rc = put(self, self->idx, key, seq_key(key, 'e', a->escalate_at, a->seq), "", 0,
                 "escalation");
    return rc;
}

store_rc_t alertdb_put(alertdb_t *self, const alert_t *old, const alert_t *a)
{
    unsigned char key[8];
    msgpack_sbuffer_clear(&self->buf);
    if (alert_pack(&self->buf, a, true) < 0)
        return store_fail(self->store, ENOMEM, "alert");
    be64_put(key, a->seq);
    store_rc_t rc = put(self, self->alerts, key, 8, self->buf.data, self->buf.size, "alert");
    if (rc == STORE_OK)
        cache_put(self, a); /* the batch's view; dropped if it does not commit */
    return rc == STORE_OK ? sync_keys(self, old, a) : rc;
}

typedef struct {
    alertdb_t *self;
    alertdb_alert_fn fn;
    void *arg;
} scan_t;

/* Inside store_walk(): one thread holds one read transaction, so the record is read in the
 * walk's own (the batch's, when one is open). */
static int scan_one(void *arg, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
    scan_t *s = arg;
    unsigned char key[8];
    if (k->mv_data && ((const unsigned char *)k->mv_data)[0] == 'o')
        memcpy(key, (const unsigned char *)k->mv_data + 1, 8);
    else if (v->mv_size == 8)
        memcpy(key, v->mv_data, 8);
    else
        return 0;
    MDB_val rk = {8, key}, rv;
    int rc = mdb_get(txn, s->self->alerts, &rk, &rv);
    return rc == 0 && decode(s->self, &rv, s->self->scratch) == 0 ? s->fn(s->arg, s->self->scratch)
                                                                  : 0;
}

long alertdb_scan(alertdb_t *self, const char *day, alertdb_alert_fn fn, void *arg)
{
    unsigned char key[KEY_MAX];
    scan_t s = {self, fn, arg};
    size_t n = day ? text_key(key, 'k', day, NULL, NULL) + 1 : 1;
    if (day)
        key[n - 1] = 0;
    else
        key[0] = 'o';
    return store_walk(self->store, self->idx, key, n, n, scan_one, &s);
}

int alertdb_next_escalation(alertdb_t *self, int64_t *due)
{
    return first_time(self, self->idx, 'e', due);
}

typedef struct {
    alertdb_seq_fn fn;
    alertdb_entry_fn efn;
    void *arg;
} take_t;

static int take_escalation(void *arg, const unsigned char *key, size_t len)
{
    take_t *t = arg;
    return len == 17 ? t->fn(t->arg, be64_get(key + 9)) : 0;
}

long alertdb_take_escalations(alertdb_t *self, int64_t now, alertdb_seq_fn fn, void *arg)
{
    take_t t = {fn, NULL, arg};
    return take(self, self->idx, 'e', now, take_escalation, &t);
}

/* ---- feed, digests, cursors ---- */

/* Kept from the batch's first append on (a read that fails reads as 0, which must not be
 * kept: the next append would collide). */
uint64_t alertdb_feed_head(alertdb_t *self)
{
    return self->feed_head_known ? self->feed_head : feedlog_head(self->store, self->feed);
}

store_rc_t alertdb_feed_put(alertdb_t *self, uint64_t seq, const void *rec, size_t len)
{
    store_rc_t rc = feedlog_put(self->store, self->feed, seq, rec, len, "alerts feed");
    if (rc == STORE_OK)
        self->feed_head = seq, self->feed_head_known = true;
    return rc;
}

long alertdb_feed_read(alertdb_t *self, uint64_t from, uint32_t limit, const char *filter,
                       size_t filter_len, alertdb_record_fn fn, void *arg, uint64_t *last_seen)
{
    return feedlog_read(self->store, self->feed, from, limit, filter, filter_len, fn, arg,
                        last_seen);
}

int alertdb_digest_get(alertdb_t *self, const char *day, uint64_t *seq)
{
    unsigned char key[KEY_MAX], val[8];
    size_t len = 0;
    int rc = get(self, self->idx, key, text_key(key, 'd', day, NULL, NULL), val, 8, &len);
    if (rc == 0 && len == 8)
        *seq = be64_get(val);
    return rc == 0 && len == 8 ? 0 : 1;
}

store_rc_t alertdb_digest_put(alertdb_t *self, const char *day, uint64_t seq)
{
    unsigned char key[KEY_MAX], val[8];
    be64_put(val, seq);
    return put(self, self->idx, key, text_key(key, 'd', day, NULL, NULL), val, 8, "digest");
}

int alertdb_meta_get(alertdb_t *self, const char *name, int64_t *v)
{
    unsigned char key[KEY_MAX], val[8];
    size_t len = 0;
    int rc = get(self, self->idx, key, text_key(key, 'm', name, NULL, NULL), val, 8, &len);
    if (rc == 0 && len == 8)
        *v = (int64_t)be64_get(val);
    return rc == 0 && len == 8 ? 0 : 1;
}

store_rc_t alertdb_meta_put(alertdb_t *self, const char *name, int64_t v)
{
    unsigned char key[KEY_MAX], val[8];
    be64_put(val, (uint64_t)v);
    return put(self, self->idx, key, text_key(key, 'm', name, NULL, NULL), val, 8, "alert cursor");
}

/* ---- facts ---- */

int alertdb_entry_get(alertdb_t *self, const char *entry, uint64_t *seq, int64_t *due)
{
    unsigned char key[KEY_MAX], val[16];
    size_t len = 0;
    int rc = get(self, self->facts, key, text_key(key, 'n', entry, NULL, NULL), val, 16, &len);
    if (rc != 0 || len != 16)
        return 1;
    *seq = be64_get(val), *due = (int64_t)be64_get(val + 8);
    return 0;
}

store_rc_t alertdb_entry_put(alertdb_t *self, const char *entry, uint64_t seq, int64_t due)
{
    unsigned char key[KEY_MAX], val[16];
    be64_put(val, seq), be64_put(val + 8, (uint64_t)due);
    return put(self, self->facts, key, text_key(key, 'n', entry, NULL, NULL), val, 16,
               "ledger entry");
}

static size_t pair_key(unsigned char *key, const char *cp, int64_t amount, int64_t at)
{
    size_t n = text_key(key, 'c', cp, NULL, NULL);
    key[n++] = 0;
    be64_put(key + n, (uint64_t)amount), n += 8;
    be64_put(key + n, (uint64_t)at);
    return n + 8;
}

typedef struct {
    int64_t to;
    char *entry;
    size_t entry_len;
    bool found;
} near_t;

static int near_one(void *arg, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
    near_t *n = arg;
    (void)txn;
    if ((int64_t)be64_get((const unsigned char *)k->mv_data + k->mv_size - 8) > n->to)
        return 1;
    copy(n->entry, n->entry_len, v->mv_data, v->mv_size);
    n->found = true;
    return 1;
}

int alertdb_pair_near(alertdb_t *self, const char *cp, int64_t amount, int64_t at, int64_t window,
                      char *entry, size_t entry_len)
{
    unsigned char key[KEY_MAX];
    near_t n = {at + window, entry, entry_len, false};
    size_t len = pair_key(key, cp, amount, at - window);
    return store_walk(self->store, self->facts, key, len, len - 8, near_one, &n) < 0 || !n.found
               ? 1
               : 0;
}

store_rc_t alertdb_pair_put(alertdb_t *self, const char *cp, int64_t amount, int64_t at,
                            const char *entry)
{
    unsigned char key[KEY_MAX];
    return put(self, self->facts, key, pair_key(key, cp, amount, at), entry, strlen(entry),
               "ledger pair");
}

static size_t due_key(unsigned char *key, int64_t due, const char *entry)
{
    size_t n = strnlen(entry, 72);
    key[0] = 'u';
    be64_put(key + 1, (uint64_t)due);
    memcpy(key + 9, entry, n);
    return 9 + n;
}

store_rc_t alertdb_due_set(alertdb_t *self, int64_t due, const char *entry, bool pending)
{
    unsigned char key[KEY_MAX];
    size_t n = due_key(key, due, entry);
    return pending ? put(self, self->facts, key, n, "", 0, "obligation")
                   : del(self, self->facts, key, n, "obligation");
}

int alertdb_next_due(alertdb_t *self, int64_t *due)
{
    return first_time(self, self->facts, 'u', due);
}

static int take_obligation(void *arg, const unsigned char *key, size_t len)
{
    take_t *t = arg;
    char entry[ALERT_TEXT_MAX];
    copy(entry, sizeof entry, (const char *)key + 9, len - 9);
    return t->efn(t->arg, entry, (int64_t)be64_get(key + 1));
}

long alertdb_take_due(alertdb_t *self, int64_t now, alertdb_entry_fn fn, void *arg)
{
    take_t t = {NULL, fn, arg};
    return take(self, self->facts, 'u', now, take_obligation, &t);
}

static size_t visit_key(unsigned char *key, const char *member, uint32_t day)
{
    size_t n = text_key(key, 'v', member, NULL, NULL);
    key[n++] = 0;
    key[n++] = (unsigned char)(day >> 24), key[n++] = (unsigned char)(day >> 16);
    key[n++] = (unsigned char)(day >> 8), key[n++] = (unsigned char)day;
    return n;
}

store_rc_t alertdb_visit_put(alertdb_t *self, const char *member, uint32_t day)
{
    unsigned char key[KEY_MAX];
    return put(self, self->facts, key, visit_key(key, member, day), "", 0, "visit day");
}

typedef struct {
    uint32_t to, n;
} days_t;

static int day_one(void *arg, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
    days_t *d = arg;
    const unsigned char *p = (const unsigned char *)k->mv_data + k->mv_size - 4;
    (void)txn, (void)v;
    if (((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]) > d->to)
        return 1;
    d->n++;
    return 0;
}

uint32_t alertdb_visit_days(alertdb_t *self, const char *member, uint32_t from, uint32_t to)
{
    unsigned char key[KEY_MAX];
    days_t d = {to, 0};
    size_t n = visit_key(key, member, from);
    store_walk(self->store, self->facts, key, n, n - 4, day_one, &d);
    return d.n;
}
