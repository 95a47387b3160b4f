/*
 * backup: store upkeep outside the write path: hot backups (`gridbusd --backup DIR`) and
 * the periodic sweep of stale LMDB reader slots.
 *
 * A backup is a separate gridbusd process that opens the configured state dir's LMDB
 * environment read-only, next to the daemon that owns it (LMDB allows readers in other
 * processes), and writes a compacted copy of one read transaction's snapshot: every batch
 * committed before it began, none after, events and tasks together. The copy goes to
 * DIR/data.mdb.partial, is synced, opened and checked, and only then renamed to
 * DIR/data.mdb, so a data.mdb in DIR is always a whole, readable store. Restoring is
 * copying that file over a stopped daemon's STATE/data.mdb (docs/OPERATIONS.md).
 *
 * A process that dies inside a read transaction (a backup killed half-way, say) leaves its
 * reader slot behind, pinning the pages it read so the file can only grow. The store
 * clears such slots when it opens; the sweep clears them again every reader_check_ms.
 */
#ifndef GB_BACKUP_H
#define GB_BACKUP_H

#include <event2/event.h>
#include <stdint.h>

#include "config.h"
#include "store.h"

/* Writes the backup of cfg->state_dir into dir, which must be absent (it is created) or
 * an empty directory, and prints one summary line on stdout. The exit status: 0, or 1
 * after logging why (nothing is left in dir then). */
int backup_run(const config_t *cfg, const char *dir);

typedef struct reader_sweep reader_sweep_t;

/* Reports the slots store_new cleared (a warning per sweep that clears any), then sweeps
 * every interval_ms (0: never again). NULL when out of memory. */
reader_sweep_t *reader_sweep_new(struct event_base *base, store_t *store, uint32_t interval_ms);
void reader_sweep_destroy(reader_sweep_t **self_p);

#endif
