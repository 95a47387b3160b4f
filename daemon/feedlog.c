/*
 * feedlog: see feedlog.h.
 */
#include "feedlog.h"

#include <string.h>

#include "be64.h"
#include "wire.h"

/* Records one request may look at: a filter that rarely matches must not make one request
 * walk the whole feed inside the loop; `next` tells the client where to go on. */
#define FEED_SCAN_BUDGET 20000

uint64_t feedlog_head(store_t *store, MDB_dbi dbi)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_val k, v;
    uint64_t seq = 0;
    if (store_read_begin(store, &txn))
        return 0;
    if (mdb_cursor_open(txn, dbi, &cur) == 0) {
        if (mdb_cursor_get(cur, &k, &v, MDB_LAST) == 0 && k.mv_size == 8)
            seq = be64_get(k.mv_data);
        mdb_cursor_close(cur);
    }
    store_read_end(store, txn);
    return seq;
}

store_rc_t feedlog_put(store_t *store, MDB_dbi dbi, uint64_t seq, const void *rec, size_t len,
                       const char *what)
{
    unsigned char key[8];
    be64_put(key, seq);
    MDB_val k = {8, key}, v = {len, (void *)rec};
    int rc = store_put_append(store, dbi, &k, &v, 0);
    return rc ? store_fail(store, rc, what) : STORE_OK;
}

typedef struct {
    const feedlog_view_t *view; /* NULL: records are stored in their wire form */
    const char *filter;
    size_t filter_len;
    uint32_t limit, n;
    feedlog_record_fn fn;
    void *arg;
    wire_decoder_t *dec;
    bool failed;      /* a view could not make a record's wire form */
    uint64_t last;    /* the last seq handled */
    uint32_t scanned; /* records looked at */
} feed_read_t;

/* The topic of a stored record, read without decoding the rest. */
static bool topic_matches(feed_read_t *r, const MDB_val *v)
{
    gb_str_t topic;
    const msgpack_object *obj;
    if (!r->filter_len)
        return true;
    if (wire_decode_object(r->dec, v->mv_data, v->mv_size, &obj, NULL) < 0 ||
        wire_get_str(obj, "topic", &topic) < 0)
        return false;
    return topic.len >= r->filter_len && memcmp(topic.ptr, r->filter, r->filter_len) == 0;
}

static int feed_one(void *arg, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
    feed_read_t *r = arg;
    uint64_t seq = be64_get(k->mv_data);
    (void)txn;
    const void *wire = v->mv_data;
    size_t wire_len = v->mv_size;
    if (r->scanned++ == FEED_SCAN_BUDGET)
        return 1;
    int match = r->view ? r->view->fn(r->view->arg, seq, v->mv_data, v->mv_size, r->filter,
                                      r->filter_len, &wire, &wire_len)
                        : topic_matches(r, v);
    if (match < 0) {
        r->failed = true;
        return 1;
    }
    if (match) {
        if (r->fn(r->arg, seq, wire, wire_len))
            return 1; /* the reply is full: this record is not handled */
        r->n++;
    }
    r->last = seq; /* handled: delivered or skipped by the filter */
    return r->n >= r->limit;
}

long feedlog_read_view(store_t *store, MDB_dbi dbi, const feedlog_view_t *view, uint64_t from,
                       uint32_t limit, const char *filter, size_t filter_len, feedlog_record_fn fn,
                       void *arg, uint64_t *last_seen)
{
    unsigned char key[8];
    feed_read_t r = {view, filter, filter_len, limit, 0, fn, arg, NULL, false, 0, 0};
    be64_put(key, from);
    r.dec = view ? NULL : wire_decoder_new();
    long n = (r.dec || view) && limit ? store_walk(store, dbi, key, 8, 0, feed_one, &r) : 0;
    wire_decoder_destroy(&r.dec);
    *last_seen = r.last;
    return n < 0 || r.failed ? -1 : (long)r.n;
}

long feedlog_read(store_t *store, MDB_dbi dbi, uint64_t from, uint32_t limit, const char *filter,
                  size_t filter_len, feedlog_record_fn fn, void *arg, uint64_t *last_seen)
{
    return feedlog_read_view(store, dbi, NULL, from, limit, filter, filter_len, fn, arg, last_seen);
}
