/*
 * be64: big-endian u64 keys. LMDB orders keys by their bytes, so sequence numbers and
 * times stored big-endian sort numerically and append in order.
 */
#ifndef GB_BE64_H
#define GB_BE64_H

#include <stdint.h>

static inline void be64_put(unsigned char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)v;
}

static inline uint64_t be64_get(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

#endif
