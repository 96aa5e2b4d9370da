#include <sodium.h>
#include "crypto/hash.h"

void mm_hash(uint8_t out[MM_HASH_BYTES], const void *buf, size_t len)
{
    crypto_generichash(out, MM_HASH_BYTES, buf, len, NULL, 0);
}

void mm_hash2(uint8_t out[MM_HASH_BYTES], const void *a, size_t alen,
              const void *b, size_t blen)
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, MM_HASH_BYTES);
    crypto_generichash_update(&st, a, alen);
    crypto_generichash_update(&st, b, blen);
    crypto_generichash_final(&st, out, MM_HASH_BYTES);
}
