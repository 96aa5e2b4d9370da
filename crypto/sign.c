#include <string.h>
#include <sodium.h>
#include "crypto/sign.h"
#include "crypto/random.h"
#include "crypto/error.h"

struct mm_keypair {
    uint8_t seed[MM_SEED_BYTES];
    uint8_t sk[crypto_sign_SECRETKEYBYTES];
    uint8_t pk[MM_PK_BYTES];
};

int mm_crypto_init(void)
{
    return sodium_init() < 0 ? MM_EINVAL : MM_OK;
}

mm_keypair_t *mm_keypair_new_from_seed(const uint8_t seed[MM_SEED_BYTES])
{
    /* sodium_malloc: guard pages, and never swapped out (mlock) where allowed */
    mm_keypair_t *self = sodium_malloc(sizeof *self);
    if (!self)
        return NULL;
    memcpy(self->seed, seed, MM_SEED_BYTES);
    crypto_sign_seed_keypair(self->pk, self->sk, self->seed);
    return self;
}

mm_keypair_t *mm_keypair_new(void)
{
    uint8_t seed[MM_SEED_BYTES];
    mm_random_direct(seed, sizeof seed);
    mm_keypair_t *self = mm_keypair_new_from_seed(seed);
    sodium_memzero(seed, sizeof seed);
    return self;
}

void mm_keypair_destroy(mm_keypair_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sodium_free(*self_p);        /* wipes before freeing */
    *self_p = NULL;
}

const uint8_t *mm_keypair_pk(const mm_keypair_t *self)
{
    return self->pk;
}

const uint8_t *mm_keypair_seed(const mm_keypair_t *self)
{
    return self->seed;
}

int mm_sign_digest(const mm_keypair_t *self, const char *ctx,
                   const uint8_t digest[32], uint8_t sig[MM_SIG_BYTES])
{
    uint8_t msg[MM_CTX_BYTES + 32];
    memcpy(msg, ctx, MM_CTX_BYTES);
    memcpy(msg + MM_CTX_BYTES, digest, 32);
    crypto_sign_detached(sig, NULL, msg, sizeof msg, self->sk);
    return MM_OK;
}

int mm_verify_digest(const uint8_t pk[MM_PK_BYTES], const char *ctx,
                     const uint8_t digest[32], const uint8_t sig[MM_SIG_BYTES])
{
    uint8_t msg[MM_CTX_BYTES + 32];
    memcpy(msg, ctx, MM_CTX_BYTES);
    memcpy(msg + MM_CTX_BYTES, digest, 32);
    return crypto_sign_verify_detached(sig, msg, sizeof msg, pk) == 0 ? MM_OK : MM_EBADSIG;
}

int mm_pk_to_x25519(uint8_t x[32], const uint8_t ed[MM_PK_BYTES])
{
    return crypto_sign_ed25519_pk_to_curve25519(x, ed) == 0 ? MM_OK : MM_EINVAL;
}

void mm_keypair_x25519(const mm_keypair_t *self, uint8_t pk[32], uint8_t sk[32])
{
    /* pk = sk * base, the X25519 form of our own public key: a fixed-base
     * multiplication, a tenth of the cost of converting (and checking) the
     * Ed25519 point as mm_pk_to_x25519 must for someone else's key */
    crypto_sign_ed25519_sk_to_curve25519(sk, self->sk);
    if (crypto_scalarmult_curve25519_base(pk, sk) != 0)
        memset(pk, 0, 32);
}
