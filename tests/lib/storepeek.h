/*
 * storepeek: read-only looks into a stopped gridbusd's LMDB store, for the tests of
 * upgrades and crashes that must see what is on disk rather than what the daemon answers.
 * Free of Criterion, like gbtest: failures come back as values.
 */
#ifndef GB_TEST_STOREPEEK_H
#define GB_TEST_STOREPEEK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The store's schema mark (its "meta" database), 0 when unreadable. */
uint64_t storepeek_schema(const char *dir);

/* Whether the store holds the named database (plain or sorted-duplicate). */
bool storepeek_has_db(const char *dir, const char *name);

/* The first byte of the record under the 8-byte big-endian key seq in the named database;
 * -1 when there is none. */
int storepeek_first_byte(const char *dir, const char *db, uint64_t seq);

#endif
