/*
 * idxbatch: see idxbatch.h. Keys are found by an open-addressing hash (a chunk has a few
 * dozen distinct keys, not worth a sort); the values stay in queue order until the flush,
 * which lays each key's run out contiguously with one counting pass (order within a run
 * kept, so ascending) and puts it with MDB_MULTIPLE | MDB_APPENDDUP through one cursor.
 */
#include "idxbatch.h"

#include <stdlib.h>
#include <string.h>

#define GROUPS_MAX 512   /* distinct keys in a batch */
#define SLOTS 1024       /* hash slots: twice the keys, so probes stay short */
#define ENTRIES_MAX 4096 /* values in a batch */

typedef struct {
    unsigned char key[IDXBATCH_KEY_MAX];
    size_t len;
    uint32_t count, start, filled;
} group_t;

struct idxbatch {
    size_t vsize;
    uint32_t ngroups, n;
    uint64_t lo;              /* the lowest seq queued */
    uint16_t slot[SLOTS];     /* a group's index + 1; 0 free */
    uint16_t of[ENTRIES_MAX]; /* each queued value's group, in queue order */
    group_t groups[GROUPS_MAX];
    unsigned char *values; /* queue order */
    unsigned char *runs;   /* each key's run together */
};

idxbatch_t *idxbatch_new(size_t value_size)
{
    if (value_size == 0 || value_size > IDXBATCH_VALUE_MAX)
        return NULL;
    idxbatch_t *self = calloc(1, sizeof *self);
    if (!self || !(self->values = malloc(ENTRIES_MAX * value_size)) ||
        !(self->runs = malloc(ENTRIES_MAX * value_size))) {
        idxbatch_destroy(&self);
        return NULL;
    }
    self->vsize = value_size;
    return self;
}

void idxbatch_destroy(idxbatch_t **self_p)
{
    idxbatch_t *self = *self_p;
    if (!self)
        return;
    free(self->values);
    free(self->runs);
    free(self);
    *self_p = NULL;
}

static uint32_t hash(const unsigned char *p, size_t n)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

/* The group of key, created when new; -1 when there is no room for another. */
static int group_of(idxbatch_t *self, const unsigned char *key, size_t len)
{
    uint32_t i = hash(key, len) & (SLOTS - 1);
    for (; self->slot[i]; i = (i + 1) & (SLOTS - 1)) {
        const group_t *g = &self->groups[self->slot[i] - 1];
        if (g->len == len && memcmp(g->key, key, len) == 0)
            return self->slot[i] - 1;
    }
    if (self->ngroups == GROUPS_MAX)
        return -1;
    group_t *g = &self->groups[self->ngroups];
    memcpy(g->key, key, len);
    g->len = len, g->count = 0;
    self->slot[i] = (uint16_t)++self->ngroups;
    return self->ngroups - 1;
}

int idxbatch_add(idxbatch_t *self, const void *key, size_t key_len, const void *value,
                 size_t value_len, uint64_t seq)
{
    if (self->n == ENTRIES_MAX || key_len > IDXBATCH_KEY_MAX || value_len != self->vsize)
        return -1;
    int g = group_of(self, key, key_len);
    if (g < 0)
        return -1;
    memcpy(self->values + self->n * self->vsize, value, self->vsize);
    self->of[self->n] = (uint16_t)g;
    self->groups[g].count++;
    if (self->n++ == 0 || seq < self->lo)
        self->lo = seq;
    return 0;
}

bool idxbatch_holds(const idxbatch_t *self, uint64_t seq)
{
    return self->n && seq >= self->lo;
}

void idxbatch_clear(idxbatch_t *self)
{
    memset(self->slot, 0, sizeof self->slot);
    self->ngroups = self->n = 0;
}

/* Puts one key's run; when it cannot be appended (a value not above the key's last), the
 * values after those written go one by one, in place. */
static int put_run(MDB_cursor *cur, const group_t *g, const unsigned char *run, size_t vsize)
{
    MDB_val k = {g->len, (void *)g->key};
    MDB_val data[2] = {{vsize, (void *)run}, {g->count, NULL}};
    int rc = mdb_cursor_put(cur, &k, data, MDB_MULTIPLE | MDB_APPENDDUP);
    if (rc != MDB_KEYEXIST)
        return rc;
    rc = 0;
    for (size_t i = data[1].mv_size; i < g->count && rc == 0; i++) {
        MDB_val one = {vsize, (void *)(run + i * vsize)};
        rc = mdb_cursor_put(cur, &k, &one, 0);
    }
    return rc;
}

int idxbatch_flush(idxbatch_t *self, MDB_txn *txn, MDB_dbi dbi)
{
    if (!self->n)
        return 0;
    uint32_t start = 0;
    for (uint32_t g = 0; g < self->ngroups; g++) {
        self->groups[g].start = start, self->groups[g].filled = 0;
        start += self->groups[g].count;
    }
    for (uint32_t i = 0; i < self->n; i++) {
        group_t *g = &self->groups[self->of[i]];
        memcpy(self->runs + (g->start + g->filled++) * self->vsize, self->values + i * self->vsize,
               self->vsize);
    }
    MDB_cursor *cur = NULL;
    int rc = mdb_cursor_open(txn, dbi, &cur);
    for (uint32_t g = 0; rc == 0 && g < self->ngroups; g++)
        rc = put_run(cur, &self->groups[g], self->runs + self->groups[g].start * self->vsize,
                     self->vsize);
    if (cur)
        mdb_cursor_close(cur);
    idxbatch_clear(self);
    return rc;
}
