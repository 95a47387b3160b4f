/*
 * idxbatch: values bound for a sorted-duplicate (MDB_DUPFIXED) database, held back and put
 * per key, each key's run in one MDB_MULTIPLE append.
 *
 * The task indexer puts a new task under a few keys (its assignee, its grid, its deadline);
 * one put each is a tree descent to the key and another into its duplicates, ~2 k
 * instructions. A chunk of the feed opens hundreds of tasks under a few dozen keys, so the
 * indexer queues a new task's values here and puts every key's run at once. Values queued
 * in ascending order per key above those stored (a new task's seq is the highest yet) take
 * the fast path; others are put one by one. The batch must be flushed before anything else
 * of the same database may touch what it holds.
 */
#ifndef GRIDBUS_IDXBATCH_H
#define GRIDBUS_IDXBATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <lmdb.h>

#define IDXBATCH_KEY_MAX 96
#define IDXBATCH_VALUE_MAX 16

typedef struct idxbatch idxbatch_t;

/* A batch of values of value_size bytes (at most IDXBATCH_VALUE_MAX); NULL without memory. */
idxbatch_t *idxbatch_new(size_t value_size);
void idxbatch_destroy(idxbatch_t **self_p);

/* Queues value under key for the task seq. -1 when the batch is full (flush it first), the
 * key is longer than IDXBATCH_KEY_MAX or the value is not of the batch's size. */
int idxbatch_add(idxbatch_t *self, const void *key, size_t key_len, const void *value,
                 size_t value_len, uint64_t seq);

/* Whether a value of the task seq may be queued (seq at or above the lowest queued). */
bool idxbatch_holds(const idxbatch_t *self, uint64_t seq);

/* Puts every queued value into dbi in txn and empties the batch: 0, or LMDB's code. A key
 * whose run cannot be appended (a value not above its last) gets the rest one by one. */
int idxbatch_flush(idxbatch_t *self, MDB_txn *txn, MDB_dbi dbi);

/* Drops what is queued (the transaction it was for is aborted). */
void idxbatch_clear(idxbatch_t *self);

#endif
