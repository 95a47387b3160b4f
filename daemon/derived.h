/*
 * derived: the trust in an LMDB environment of derived data (the task indexes) that is
 * written without fsync.
 *
 * A commit that only reached the page cache survives a crash of the process, not a crash of
 * the machine, and such data can always be rebuilt from the store it derives from. So the
 * folder holds a state file: "dirty <boot id>" while a daemon has it open (made durable
 * before its first write) and "clean <boot id>" after a clean stop (after a sync). An
 * environment left dirty by another boot, or whose boot cannot be told, or without a state
 * file, is deleted before it is opened, and its owner rebuilds it.
 */
#ifndef GB_DERIVED_H
#define GB_DERIVED_H

#include <stdbool.h>
#include <stddef.h>

/* Creates dir if needed, deletes an environment there that is not to be trusted (true in
 * *deleted), and marks the folder dirty for this boot. 0, or -1 with the reason in err. */
int derived_open(const char *dir, bool *deleted, char *err, size_t errlen);

/* Marks the folder clean: call once the environment is synced and closed for writing. */
int derived_close(const char *dir);

#endif
