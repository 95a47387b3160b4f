/*
 * tload: each member's count of open tasks (the "tload" database), with a write-back cache.
 *
 * Assignment reads the load of every candidate for every task it opens, and each task
 * opened or closed changes one; reading and rewriting the counter in LMDB for each was a
 * fifth of the cost of opening a task. The counts are kept in a small table in memory:
 * read from the database once, changed in memory during the batch, and written back once
 * per changed member right before the batch commits (a store flush hook). An aborted
 * batch drops the table, so it never holds a count the database does not.
 */
#ifndef GB_TLOAD_H
#define GB_TLOAD_H

#include <stdint.h>

#include "store.h"

typedef struct tload tload_t;

/* Counts in dbi of store's environment; registers its flush hook with the store. */
tload_t *tload_new(store_t *store, MDB_dbi dbi);
void tload_destroy(tload_t **self_p);

/* Open tasks of member ("" counts the parked ones). 0 when unknown or on a read error. */
uint32_t tload_get(tload_t *self, const char *member);

/* Adds delta (+1 or -1, never below 0) to member's count, inside the batch. STORE_ERROR
 * when the table cannot grow (out of memory): the caller fails the batch. */
store_rc_t tload_add(tload_t *self, const char *member, int delta);

#endif
