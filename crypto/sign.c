#include <pthread.h>
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

/* The conversions made, by Ed25519 key: converting (and checking the
 * point, a scalar multiplication) costs some 570,000 instructions, and mm
 * serve converts the key of every device it admits at each connection
 * (the curves index is checked against the certificate it names).  The
 * result is a function of the key alone, so a key met again gets the very
 * answer libsodium gave; only keys that converted are kept.  Public keys
 * only: nothing here is secret. */
#define X25519_MEMO 64
static struct {
    uint8_t ed[MM_PK_BYTES], x[32];
    int set;
} x25519_memo[X25519_MEMO];
static pthread_mutex_t x25519_lock = PTHREAD_MUTEX_INITIALIZER;

int mm_pk_to_x25519(uint8_t x[32], const uint8_t ed[MM_PK_BYTES])
{
    unsigned slot = (unsigned) (ed[0] ^ ed[31]) % X25519_MEMO;
    int hit;
    pthread_mutex_lock(&x25519_lock);
    hit = x25519_memo[slot].set && memcmp(x25519_memo[slot].ed, ed, MM_PK_BYTES) == 0;
    if (hit)
        memcpy(x, x25519_memo[slot].x, 32);
    pthread_mutex_unlock(&x25519_lock);
    if (hit)
        return MM_OK;
    if (crypto_sign_ed25519_pk_to_curve25519(x, ed) != 0)
        return MM_EINVAL;
    pthread_mutex_lock(&x25519_lock);
    memcpy(x25519_memo[slot].ed, ed, MM_PK_BYTES);
    memcpy(x25519_memo[slot].x, x, 32);
    x25519_memo[slot].set = 1;
    pthread_mutex_unlock(&x25519_lock);
    return MM_OK;
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
