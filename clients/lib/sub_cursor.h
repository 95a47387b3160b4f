/*
 * sub_cursor: the subscriber's cursor file (internal to libgridbus).
 *
 * One line, "gridbus-cursor STREAM SEQ FILTER\n": the stream and the filter are kept with the
 * seq so that a cursor is never reused for another feed, where its seq would mean nothing,
 * or for a wider filter, which would silently skip the records the old filter left out.
 * Saving writes FILE.tmp and renames it over FILE, so a reader (or a crash) sees the old
 * cursor or the new one, never half of one.
 */
#ifndef GB_SUB_CURSOR_H
#define GB_SUB_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gridbus.h"

/* Reads path: GRIDBUS_OK with *seq and *found (false, *seq 0 when there is no file yet);
 * GRIDBUS_EIO when it cannot be read; GRIDBUS_EINVAL when it is not a cursor or is one for
 * another stream or filter. why gets the message. */
gridbus_status_t sub_cursor_load(const char *path, const char *stream, const char *filter,
                                 uint64_t *seq, bool *found, char *why, size_t whylen);

/* Writes seq to path atomically; with sync, fsyncs the file and its folder too.
 * GRIDBUS_OK, or GRIDBUS_EIO with why. */
gridbus_status_t sub_cursor_save(const char *path, const char *stream, const char *filter,
                                 uint64_t seq, bool sync, char *why, size_t whylen);

#endif
