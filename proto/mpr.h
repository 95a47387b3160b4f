/*
 * mpr: a msgpack reader that walks encoded bytes in place, allocating nothing.
 *
 * Two users: the decoder's pre-scan (wire.c), which walks a whole frame before msgpack-c
 * builds objects from it, because msgpack-c sizes its allocations from a header's claimed
 * count (a 5-byte frame claiming four billion items could reserve gigabytes); and readers
 * that need a few fields of a known positional record (the task indexer, daemon/taskrec.c)
 * without unpacking the rest. Every count is bounded by the bytes that remain and nesting by
 * the caller's limit; a malformed value makes the reader bad, and every later read then
 * returns nothing.
 */
#ifndef GB_MPR_H
#define GB_MPR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    const unsigned char *p, *end;
    bool bad; /* sticky: something was malformed or cut */
} mpr_t;

static inline mpr_t mpr_init(const void *buf, size_t len)
{
    const unsigned char *p = buf;
    return (mpr_t){p, len ? p + len : p, false}; /* buf may be NULL when len is 0 */
}

/* How deep a value that a typed reader below skips (one of another type) may nest. */
#define MPR_LEVELS 8

/* Skips one value; containers may nest `levels` deep below it (0: none). */
void mpr_skip(mpr_t *r, int levels);

/* Whether buf starts with one well-formed value nesting at most `levels` deep: 0 and *used
 * (its bytes), or -1. */
int mpr_scan(const void *buf, size_t len, int levels, size_t *used);

/* The next value as an integer (0 for a value of another type, skipped); as a string (its
 * bytes in place and their length; "" for another type); as a boolean (false for another
 * type); an array header's count (-1, and the reader bad, for anything else). */
int64_t mpr_int(mpr_t *r);
void mpr_str(mpr_t *r, const char **s, size_t *len);
bool mpr_bool(mpr_t *r);
int64_t mpr_array(mpr_t *r);

#endif
