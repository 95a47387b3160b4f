/*
 * feedlog: a feed kept in one named database of the store's LMDB environment, records
 * under their 8-byte big-endian seq. The task feed (taskdb) and the alerts feed (alertdb)
 * are both one, so that appending, the head and replay with its paging behave the same on
 * either stream.
 *
 * The writer takes the next seq (feedlog_head + 1, inside the batch, which sees its own
 * appends) before packing the record, then puts it. Appends happen inside the store's batch,
 * like every other write. A record is stored either in its wire form, a msgpack map holding
 * its own "seq" and "topic" (the alerts feed), or in a form of its own that a view turns
 * into the wire form on reading (the task feed: taskrec.h).
 */
#ifndef GB_FEEDLOG_H
#define GB_FEEDLOG_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* The last seq of the feed in dbi (0 when empty); the batch's view when one is open. */
uint64_t feedlog_head(store_t *store, MDB_dbi dbi);

/* Appends rec under seq, which must be above the head (MDB_APPEND). In the batch; what
 * names the feed in the store's error. */
store_rc_t feedlog_put(store_t *store, MDB_dbi dbi, uint64_t seq, const void *rec, size_t len,
                       const char *what);

/* Records with seq >= from whose topic starts with filter (len 0: all), in order, until
 * limit matches, fn refusing one (a full reply), or a scan budget. *last_seen is the last
 * seq handled (delivered or skipped), 0 when none: the reader continues after it. The
 * number delivered, or -1. */
typedef int (*feedlog_record_fn)(void *arg, uint64_t seq, const void *rec, size_t len);
long feedlog_read(store_t *store, MDB_dbi dbi, uint64_t from, uint32_t limit, const char *filter,
                  size_t filter_len, feedlog_record_fn fn, void *arg, uint64_t *last_seen);

/* A feed stored in a form of its own: view says whether the stored record rec matches the
 * topic filter and, when it does, where its wire form is (*wire, *wire_len: rec itself, or
 * bytes the view keeps until its next call). 1 for a match, 0 to skip the record, -1 when
 * it cannot be made (the read fails). */
typedef struct {
    int (*fn)(void *arg, uint64_t seq, const void *rec, size_t len, const char *filter,
              size_t filter_len, const void **wire, size_t *wire_len);
    void *arg;
} feedlog_view_t;

/* As feedlog_read, fn getting each record's wire form from view. */
long feedlog_read_view(store_t *store, MDB_dbi dbi, const feedlog_view_t *view, uint64_t from,
                       uint32_t limit, const char *filter, size_t filter_len, feedlog_record_fn fn,
                       void *arg, uint64_t *last_seen);

#endif
