/*  be64.h -- big-endian 64-bit integers in store keys and values, so that
 *  LMDB's bytewise key order is numeric order. */
#ifndef MM_BE64_H
#define MM_BE64_H

#include <stdint.h>

static inline void mm_be64_put(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t) v;
}

static inline uint64_t mm_be64_get(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

#endif
