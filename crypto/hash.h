/*  hash.h -- BLAKE2b-256, the one hash of mm (entry ids, links, digests). */
#ifndef MM_HASH_H
#define MM_HASH_H

#include <stddef.h>
#include <stdint.h>

#define MM_HASH_BYTES 32

/* out = BLAKE2b-256(buf[0..len)), unkeyed. */
void mm_hash(uint8_t out[MM_HASH_BYTES], const void *buf, size_t len);

/* out = BLAKE2b-256(a || b): hashes two pieces without copying them together. */
void mm_hash2(uint8_t out[MM_HASH_BYTES], const void *a, size_t alen,
              const void *b, size_t blen);

#endif
