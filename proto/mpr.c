/*
 * mpr: see mpr.h. One table of head bytes (head_shape) says how long each value is; the
 * readers take the common scalars (integers, short strings, booleans) straight from the
 * bytes and fall back on mpr_skip for anything else.
 */
#include "mpr.h"

/* Big-endian unsigned of n bytes at p. */
static uint64_t be(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

/* The size of a head byte's fixed part and what follows it: *len_bytes of length field,
 * *payload fixed payload bytes, *items_mul container items per count (maps count keys and
 * values). -1 for 0xc1, which msgpack never uses. */
static int head_shape(unsigned c, int *len_bytes, uint64_t *payload, int *items_mul)
{
    *len_bytes = 0, *payload = 0, *items_mul = 0;
    if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3)
        return 0; /* fixint, nil, false, true */
    if (c >= 0xa0 && c <= 0xbf)
        return *payload = c & 0x1f, 0;
    switch (c) {
    case 0xc4:
    case 0xd9:
        *len_bytes = 1;
        return 0; /* bin8, str8 */
    case 0xc5:
    case 0xda:
        *len_bytes = 2;
        return 0;
    case 0xc6:
    case 0xdb:
        *len_bytes = 4;
        return 0;
    case 0xc7:
        *len_bytes = 1, *payload = 1;
        return 0; /* ext: type byte + data */
    case 0xc8:
        *len_bytes = 2, *payload = 1;
        return 0;
    case 0xc9:
        *len_bytes = 4, *payload = 1;
        return 0;
    case 0xca:
    case 0xce:
    case 0xd2:
        *payload = 4;
        return 0;
    case 0xcb:
    case 0xcf:
    case 0xd3:
        *payload = 8;
        return 0;
    case 0xcc:
    case 0xd0:
        *payload = 1;
        return 0;
    case 0xcd:
    case 0xd1:
        *payload = 2;
        return 0;
    case 0xd4:
        *payload = 2;
        return 0; /* fixext: type + data */
    case 0xd5:
        *payload = 3;
        return 0;
    case 0xd6:
        *payload = 5;
        return 0;
    case 0xd7:
        *payload = 9;
        return 0;
    case 0xd8:
        *payload = 17;
        return 0;
    case 0xdc:
        *len_bytes = 2, *items_mul = 1;
        return 0;
    case 0xdd:
        *len_bytes = 4, *items_mul = 1;
        return 0;
    case 0xde:
        *len_bytes = 2, *items_mul = 2;
        return 0;
    case 0xdf:
        *len_bytes = 4, *items_mul = 2;
        return 0;
    }
    return -1;
}

static void fail(mpr_t *r)
{
    r->bad = true, r->p = r->end;
}

static size_t left(const mpr_t *r)
{
    return (size_t)(r->end - r->p);
}

void mpr_skip(mpr_t *r, int levels)
{
    int len_bytes = 0, mul = 0;
    uint64_t payload = 0, n = 0;
    if (r->bad || r->p >= r->end) {
        fail(r);
        return;
    }
    unsigned c = *r->p++;
    if (c >= 0x80 && c <= 0x9f) { /* fixmap, fixarray: the count is in the head byte */
        n = c & 0x0f, mul = c <= 0x8f ? 2 : 1;
    } else {
        if (head_shape(c, &len_bytes, &payload, &mul) < 0 || left(r) < (size_t)len_bytes) {
            fail(r);
            return;
        }
        n = be(r->p, len_bytes);
        r->p += len_bytes;
    }
    if (mul == 0) {
        if (left(r) < payload + n) {
            fail(r);
            return;
        }
        r->p += payload + n;
        return;
    }
    uint64_t items = n * (uint64_t)mul; /* each item takes a byte at least */
    if (levels <= 0 || items > left(r)) {
        fail(r);
        return;
    }
    for (uint64_t i = 0; i < items && !r->bad; i++)
        mpr_skip(r, levels - 1);
}

int mpr_scan(const void *buf, size_t len, int levels, size_t *used)
{
    mpr_t r = mpr_init(buf, len);
    mpr_skip(&r, levels);
    *used = r.bad ? 0 : (size_t)(r.p - (const unsigned char *)buf);
    return r.bad ? -1 : 0;
}

int64_t mpr_int(mpr_t *r)
{
    if (r->bad || r->p >= r->end)
        return fail(r), 0;
    unsigned c = *r->p;
    if (c <= 0x7f || c >= 0xe0)
        return r->p++, c >= 0xe0 ? (int8_t)c : (int64_t)c;
    if (c >= 0xcc && c <= 0xd3) {
        int n = 1 << ((c - 0xcc) & 3);
        if (left(r) < (size_t)n + 1)
            return fail(r), 0;
        uint64_t v = be(r->p + 1, n), sign = (uint64_t)1 << (8 * n - 1);
        r->p += 1 + n;
        if (c <= 0xcf || n == 8)
            return (int64_t)v; /* uint 8-64 (as the decoder reads a u64), or int 64 */
        return (int64_t)(v ^ sign) - (int64_t)sign;
    }
    mpr_skip(r, MPR_LEVELS);
    return 0;
}

void mpr_str(mpr_t *r, const char **s, size_t *len)
{
    *s = "", *len = 0;
    if (r->bad || r->p >= r->end) {
        fail(r);
        return;
    }
    unsigned c = *r->p;
    int len_bytes = c >= 0xa0 && c <= 0xbf ? 0 : c == 0xd9 ? 1 : c == 0xda ? 2 : c == 0xdb ? 4 : -1;
    if (len_bytes < 0) {
        mpr_skip(r, MPR_LEVELS);
        return;
    }
    if (left(r) < (size_t)len_bytes + 1) {
        fail(r);
        return;
    }
    uint64_t n = len_bytes ? be(r->p + 1, len_bytes) : (uint64_t)(c & 0x1f);
    if (left(r) - 1 - (size_t)len_bytes < n) {
        fail(r);
        return;
    }
    *s = (const char *)r->p + 1 + len_bytes, *len = (size_t)n;
    r->p += 1 + len_bytes + n;
}

bool mpr_bool(mpr_t *r)
{
    if (r->bad || r->p >= r->end)
        return fail(r), false;
    unsigned c = *r->p;
    if (c == 0xc2 || c == 0xc3)
        return r->p++, c == 0xc3;
    mpr_skip(r, MPR_LEVELS);
    return false;
}

int64_t mpr_array(mpr_t *r)
{
    if (r->bad || r->p >= r->end)
        return fail(r), -1;
    unsigned c = *r->p;
    if (c >= 0x90 && c <= 0x9f)
        return r->p++, c & 0x0f;
    if ((c == 0xdc || c == 0xdd) && left(r) >= (c == 0xdc ? 3u : 5u)) {
        int64_t n = (int64_t)be(r->p + 1, c == 0xdc ? 2 : 4);
        r->p += c == 0xdc ? 3 : 5;
        return n;
    }
    return fail(r), -1;
}
