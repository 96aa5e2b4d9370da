#include <string.h>
#include <sodium.h>
#include "crypto/aead.h"
#include "crypto/error.h"

int mm_aead_seal(uint8_t *c, const uint8_t *m, size_t mlen,
                 const uint8_t *ad, size_t adlen,
                 const uint8_t nonce[MM_NONCE_BYTES], const uint8_t key[MM_KEY_BYTES])
{
    crypto_aead_xchacha20poly1305_ietf_encrypt(c, NULL, m, mlen, ad, adlen, NULL, nonce, key);
    return MM_OK;
}

int mm_aead_open(uint8_t *m, const uint8_t *c, size_t clen,
                 const uint8_t *ad, size_t adlen,
                 const uint8_t nonce[MM_NONCE_BYTES], const uint8_t key[MM_KEY_BYTES])
{
    if (clen < MM_TAG_BYTES)
        return MM_EDECRYPT;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(m, NULL, NULL, c, clen, ad, adlen,
                                                   nonce, key) != 0) {
        sodium_memzero(m, clen - MM_TAG_BYTES);
        return MM_EDECRYPT;
    }
    return MM_OK;
}
