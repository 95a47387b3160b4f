/*
 * mpw: a msgpack writer for hot paths, appending straight into a msgpack_sbuffer.
 *
 * msgpack-c's packer hands every header and value to a write callback through a function
 * pointer: about 85 indirect calls to pack one task record. Here every write is inline: one
 * capacity test, then the bytes are stored in place; only growth leaves the fast path
 * (mpw_grow, out of line). The bytes are exactly those msgpack-c packs (smallest encoding,
 * the same choices for signed values), and the sbuffer stays the only state, so mpw and a
 * msgpack_packer may write to the same sbuffer in turn and tests compare them byte for byte.
 *
 * Errors are sticky: a write that cannot grow the buffer sets failed and is dropped, as is
 * every later write, so the buffer holds a clean prefix and a caller packs a whole record
 * and checks mpw_ok() once. A string longer than msgpack's 2^32 - 1 limit fails the same
 * way (msgpack-c would write a truncated length before the whole body).
 */
#ifndef GB_MPW_H
#define GB_MPW_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct {
    msgpack_sbuffer *buf; /* appended to; grown with realloc, as msgpack_sbuffer_write does */
    bool failed;          /* sticky: set when growth failed; later writes are dropped */
} mpw_t;

void mpw_init(mpw_t *w, msgpack_sbuffer *buf);

/* Grows buf so that n more bytes fit (doubling, like msgpack_sbuffer_write). 0, or -1 and
 * failed set when memory runs out or the writer had already failed. The slow path of
 * mpw_reserve and of every write below. */
int mpw_grow(mpw_t *w, size_t n);

static inline bool mpw_ok(const mpw_t *w)
{
    return !w->failed;
}

/* At least n more bytes of capacity, so writes totalling up to n bytes will not grow the
 * buffer. 0, or -1 (and failed set) on out of memory. */
static inline int mpw_reserve(mpw_t *w, size_t n)
{
    if (!w->failed && w->buf->alloc - w->buf->size >= n)
        return 0;
    return mpw_grow(w, n);
}

/* ---- building blocks of the writers below: a tag byte and a big-endian argument ---- */

/* Room for n more bytes (growing if needed); false when the write must be dropped. */
static inline bool mpw_room(mpw_t *w, size_t n)
{
    return (!w->failed && w->buf->alloc - w->buf->size >= n) || mpw_grow(w, n) == 0;
}

static inline unsigned char *mpw_end(mpw_t *w)
{
    return (unsigned char *)w->buf->data + w->buf->size;
}

static inline void mpw_put1(mpw_t *w, unsigned char c)
{
    if (!mpw_room(w, 1))
        return;
    *mpw_end(w) = c;
    w->buf->size += 1;
}

static inline void mpw_put8(mpw_t *w, unsigned char tag, uint8_t v)
{
    if (!mpw_room(w, 2))
        return;
    unsigned char *p = mpw_end(w);
    p[0] = tag;
    p[1] = v;
    w->buf->size += 2;
}

static inline void mpw_put16(mpw_t *w, unsigned char tag, uint16_t v)
{
    if (!mpw_room(w, 3))
        return;
    unsigned char *p = mpw_end(w);
    p[0] = tag;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)v;
    w->buf->size += 3;
}

static inline void mpw_put32(mpw_t *w, unsigned char tag, uint32_t v)
{
    if (!mpw_room(w, 5))
        return;
    unsigned char *p = mpw_end(w);
    p[0] = tag;
    p[1] = (unsigned char)(v >> 24);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 8);
    p[4] = (unsigned char)v;
    w->buf->size += 5;
}

static inline void mpw_put64(mpw_t *w, unsigned char tag, uint64_t v)
{
    if (!mpw_room(w, 9))
        return;
    unsigned char *p = mpw_end(w);
    p[0] = tag;
    for (int i = 8; i >= 1; i--, v >>= 8)
        p[i] = (unsigned char)v;
    w->buf->size += 9;
}

/* ---- the writers ---- */

static inline void mpw_nil(mpw_t *w)
{
    mpw_put1(w, 0xc0);
}

static inline void mpw_bool(mpw_t *w, bool b)
{
    mpw_put1(w, b ? 0xc3 : 0xc2);
}

/* As msgpack_pack_uint64: positive fixint, then uint 8, 16, 32, 64. */
static inline void mpw_uint(mpw_t *w, uint64_t v)
{
    if (v < 0x80)
        mpw_put1(w, (unsigned char)v);
    else if (v < 0x100)
        mpw_put8(w, 0xcc, (uint8_t)v);
    else if (v < 0x10000)
        mpw_put16(w, 0xcd, (uint16_t)v);
    else if (v <= UINT32_MAX)
        mpw_put32(w, 0xce, (uint32_t)v);
    else
        mpw_put64(w, 0xcf, v);
}

/* As msgpack_pack_int64: the unsigned forms for v >= 0; negative fixint down to -32, then
 * int 8, 16, 32, 64. */
static inline void mpw_int(mpw_t *w, int64_t v)
{
    if (v >= 0)
        mpw_uint(w, (uint64_t)v);
    else if (v >= -32)
        mpw_put1(w, (unsigned char)(uint8_t)v);
    else if (v >= INT8_MIN)
        mpw_put8(w, 0xd0, (uint8_t)v);
    else if (v >= INT16_MIN)
        mpw_put16(w, 0xd1, (uint16_t)v);
    else if (v >= INT32_MIN)
        mpw_put32(w, 0xd2, (uint32_t)v);
    else
        mpw_put64(w, 0xd3, (uint64_t)v);
}

/* As msgpack_pack_map: fixmap below 16, then map 16, map 32. */
static inline void mpw_map(mpw_t *w, uint32_t n)
{
    if (n < 16)
        mpw_put1(w, (unsigned char)(0x80 | n));
    else if (n < 0x10000)
        mpw_put16(w, 0xde, (uint16_t)n);
    else
        mpw_put32(w, 0xdf, n);
}

/* As msgpack_pack_array: fixarray below 16, then array 16, array 32. */
static inline void mpw_array(mpw_t *w, uint32_t n)
{
    if (n < 16)
        mpw_put1(w, (unsigned char)(0x90 | n));
    else if (n < 0x10000)
        mpw_put16(w, 0xdc, (uint16_t)n);
    else
        mpw_put32(w, 0xdd, n);
}

/* As msgpack_pack_str then msgpack_pack_str_body: fixstr below 32 bytes, then str 8, 16,
 * 32; header and body under one capacity test. s may be NULL when n is 0. */
static inline void mpw_str(mpw_t *w, const char *s, size_t n)
{
    size_t h = n < 32 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5;
    if ((uint64_t)n > UINT32_MAX || n > SIZE_MAX - h) {
        w->failed = true;
        return;
    }
    if (!mpw_room(w, h + n))
        return;
    unsigned char *p = mpw_end(w);
    if (h == 1) {
        p[0] = (unsigned char)(0xa0 | n);
    } else if (h == 2) {
        p[0] = 0xd9;
        p[1] = (unsigned char)n;
    } else if (h == 3) {
        p[0] = 0xda;
        p[1] = (unsigned char)(n >> 8);
        p[2] = (unsigned char)n;
    } else {
        p[0] = 0xdb;
        p[1] = (unsigned char)(n >> 24);
        p[2] = (unsigned char)(n >> 16);
        p[3] = (unsigned char)(n >> 8);
        p[4] = (unsigned char)n;
    }
    if (n)
        memcpy(p + h, s, n);
    w->buf->size += h + n;
}

static inline void mpw_cstr(mpw_t *w, const char *s)
{
    mpw_str(w, s, strlen(s));
}

/* A constant key: a string literal, its length known at compile time. */
#define MPW_KEY(w, lit) mpw_str((w), "" lit "", sizeof(lit) - 1)

/* Already-encoded msgpack (or any bytes), appended as they are. p may be NULL when n is 0. */
static inline void mpw_raw(mpw_t *w, const void *p, size_t n)
{
    if (n == 0 || !mpw_room(w, n))
        return;
    memcpy(mpw_end(w), p, n);
    w->buf->size += n;
}

#endif
