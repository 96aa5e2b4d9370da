#include <string.h>
#include <unistd.h>
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

/* A small pool in front of the kernel's generator: one getrandom(2) per
 * 4 KiB instead of one per 24-byte nonce.  Bytes are wiped as they are
 * handed out, and the pool is dropped in a forked child so that two
 * processes never share random bytes. */
static struct {
    uint8_t buf[4096];
    size_t  used;
    pid_t   pid;
} pool = { .used = sizeof pool.buf };

void mm_random(void *buf, size_t len)
{
    uint8_t *out = buf;
    if (pool.pid != getpid()) {
        pool.pid = getpid();
        pool.used = sizeof pool.buf;
    }
    while (len > 0) {
        if (pool.used == sizeof pool.buf) {
            randombytes_buf(pool.buf, sizeof pool.buf);
            pool.used = 0;
        }
        size_t n = sizeof pool.buf - pool.used;
        if (n > len)
            n = len;
        memcpy(out, pool.buf + pool.used, n);
        sodium_memzero(pool.buf + pool.used, n);
        pool.used += n;
        out += n;
        len -= n;
    }
}
