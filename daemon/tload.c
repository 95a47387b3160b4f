/*
 * tload: see tload.h. The table is open addressing over a power-of-two array: a community
 * has a few hundred members at most, so it stays small and a lookup is a hash and a compare.
 * Entries hold the database key ("-" for the parked tasks' empty assignee, since LMDB
 * refuses an empty key), so an empty key marks a free slot. A member id too long for a slot
 * (the directory never makes one) is read and written straight through.
 */
#include "tload.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define KEY_MAX 80
#define CAP_MIN 256

typedef struct {
    char key[KEY_MAX]; /* "" when free */
    uint32_t count;
    bool dirty; /* changed in the open batch */
} slot_t;

struct tload {
    store_t *store;
    MDB_dbi dbi;
    slot_t *slots;
    uint32_t cap, used;
};

static store_rc_t on_flush(void *arg);
static void on_end(void *arg, bool committed);

tload_t *tload_new(store_t *store, MDB_dbi dbi)
{
    tload_t *self = calloc(1, sizeof *self);
    if (!self || !(self->slots = calloc(CAP_MIN, sizeof *self->slots)) ||
        store_on_txn(store, on_flush, on_end, self) < 0) {
        free(self ? self->slots : NULL);
        free(self);
        return NULL;
    }
    self->store = store, self->dbi = dbi, self->cap = CAP_MIN;
    return self;
}

void tload_destroy(tload_t **self_p)
{
    tload_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    store_off_txn(self->store, self);
    free(self->slots);
    free(self);
    *self_p = NULL;
}

static MDB_val db_key(const char *member)
{
    MDB_val k = {member[0] ? strlen(member) : 1, (void *)(member[0] ? member : "-")};
    return k;
}

static uint32_t be32_get(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t db_read(tload_t *self, MDB_val k)
{
    MDB_txn *txn;
    MDB_val v;
    uint32_t n = 0;
    if (store_read_begin(self->store, &txn))
        return 0;
    if (mdb_get(txn, self->dbi, &k, &v) == 0 && v.mv_size == 4)
        n = be32_get(v.mv_data);
    store_read_end(self->store, txn);
    return n;
}

static store_rc_t db_write(tload_t *self, MDB_val k, uint32_t n)
{
    unsigned char b[4] = {(unsigned char)(n >> 24), (unsigned char)(n >> 16),
                          (unsigned char)(n >> 8), (unsigned char)n};
    MDB_val v = {4, b};
    int rc = mdb_put(store_txn(self->store), self->dbi, &k, &v, 0);
    return rc ? store_fail(self->store, rc, "task load") : STORE_OK;
}

static uint32_t hash(const MDB_val *k)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < k->mv_size; i++)
        h = (h ^ ((const unsigned char *)k->mv_data)[i]) * 16777619u;
    return h;
}

/* The slot of k: found, or the free one where it belongs. */
static slot_t *probe(slot_t *slots, uint32_t cap, const MDB_val *k)
{
    for (uint32_t i = hash(k) & (cap - 1);; i = (i + 1) & (cap - 1)) {
        slot_t *s = &slots[i];
        if (!s->key[0] || (strlen(s->key) == k->mv_size && !memcmp(s->key, k->mv_data, k->mv_size)))
            return s;
    }
}

static int grow(tload_t *self)
{
    uint32_t cap = self->cap * 2;
    slot_t *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return -1;
    for (uint32_t i = 0; i < self->cap; i++) {
        slot_t *s = &self->slots[i];
        if (s->key[0])
            *probe(slots, cap, &(MDB_val){strlen(s->key), s->key}) = *s;
    }
    free(self->slots);
    self->slots = slots, self->cap = cap;
    return 0;
}

/* The cached entry of k, read from the database on first use; NULL when out of memory. */
static slot_t *entry(tload_t *self, MDB_val k)
{
    slot_t *s = probe(self->slots, self->cap, &k);
    if (s->key[0])
        return s;
    if ((self->used + 1) * 2 > self->cap) {
        if (grow(self) < 0)
            return NULL;
        s = probe(self->slots, self->cap, &k);
    }
    memcpy(s->key, k.mv_data, k.mv_size);
    s->key[k.mv_size] = 0;
    s->count = db_read(self, k);
    s->dirty = false;
    self->used++;
    return s;
}

uint32_t tload_get(tload_t *self, const char *member)
{
    MDB_val k = db_key(member);
    if (k.mv_size >= KEY_MAX)
        return db_read(self, k);
    slot_t *s = entry(self, k);
    return s ? s->count : db_read(self, k);
}

static uint32_t moved(uint32_t n, int delta)
{
    return delta < 0 ? (n ? n - 1 : 0) : n + 1;
}

store_rc_t tload_add(tload_t *self, const char *member, int delta)
{
    MDB_val k = db_key(member);
    if (k.mv_size >= KEY_MAX)
        return db_write(self, k, moved(db_read(self, k), delta));
    slot_t *s = entry(self, k);
    if (!s)
        return store_fail(self->store, ENOMEM, "task load");
    s->count = moved(s->count, delta);
    s->dirty = true;
    return STORE_OK;
}

static store_rc_t on_flush(void *arg)
{
    tload_t *self = arg;
    for (uint32_t i = 0; i < self->cap; i++) {
        slot_t *s = &self->slots[i];
        store_rc_t rc;
        if (s->dirty && (rc = db_write(self, (MDB_val){strlen(s->key), s->key}, s->count)))
            return rc;
    }
    return STORE_OK;
}

static void on_end(void *arg, bool committed)
{
    tload_t *self = arg;
    if (committed) {
        for (uint32_t i = 0; i < self->cap; i++)
            self->slots[i].dirty = false;
        return;
    }
    memset(self->slots, 0, self->cap * sizeof *self->slots);
    self->used = 0;
}
