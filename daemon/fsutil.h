/*
 * fsutil: the two steps that make a small file durable, shared by the writers of the
 * daemon's own files (the CURVE key pair, the backup's folder, the task indexes' state).
 *
 * A file is replaced by writing PATH.tmp, fsyncing it, renaming it over PATH and fsyncing
 * the folder, so a crash leaves either the old file or the new one, never a torn one.
 */
#ifndef GB_FSUTIL_H
#define GB_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

/* fsyncs the folder dir, so that renames and creations in it are on disk. 0, or -1 with
 * the reason in err. */
int fsutil_sync_dir(const char *dir, char *err, size_t errlen);

/* Replaces path with the len bytes of text, created with mode, durably (above). 0, or -1
 * with the reason in err (PATH.tmp is then removed). */
int fsutil_replace(const char *path, const void *text, size_t len, mode_t mode, char *err,
                   size_t errlen);

#endif
