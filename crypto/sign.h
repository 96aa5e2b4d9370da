/*  sign.h -- Ed25519 key pairs and domain-separated signatures.
 *
 *  Every mm signature is Ed25519 over  CONTEXT(16 bytes) || DIGEST(32 bytes)
 *  where DIGEST is BLAKE2b-256 of the signed object's bytes and CONTEXT names
 *  the kind of object, so a signature on one kind can never pass for another.
 *  Secret keys live in sodium_malloc'd memory and are wiped on destroy.
 */
#ifndef MM_SIGN_H
#define MM_SIGN_H

#include <stddef.h>
#include "crypto/error.h"
#include <stdint.h>

#define MM_PK_BYTES   32
#define MM_SEED_BYTES 32
#define MM_SIG_BYTES  64
#define MM_CTX_BYTES  16

/* Signature contexts (exactly 16 bytes each, NUL-padded). */
#define MM_CTX_ENTRY  "mm entry sig v1\0"
#define MM_CTX_CERT   "mm cert sig v1\0\0"
#define MM_CTX_ACCEPT "mm accept v1\0\0\0\0"
#define MM_CTX_DEVICE "mm device sig v1"   /* a device's proof in its certificate (v2) */
#define MM_CTX_REVOKE "mm revoke v1\0\0\0\0"   /* an identity revokes one of its devices */
#define MM_CTX_ENDPOINTS "mm endpoints v1\0"  /* a device announces where it listens */

typedef struct mm_keypair mm_keypair_t;

/* Initialise libsodium.  Call once before anything else; MM_OK or MM_EINVAL. */
int mm_crypto_init(void) MM_NODISCARD;

/* A key pair from a fresh random seed.  NULL on out of memory. */
mm_keypair_t *mm_keypair_new(void);

/* The key pair deterministically derived from seed.  NULL on out of memory. */
mm_keypair_t *mm_keypair_new_from_seed(const uint8_t seed[MM_SEED_BYTES]);

/* Wipe and free *self_p; sets it to NULL.  Accepts NULL and *self_p == NULL. */
void mm_keypair_destroy(mm_keypair_t **self_p);

/* Public key (32 bytes), valid while the key pair lives. */
const uint8_t *mm_keypair_pk(const mm_keypair_t *self);

/* The 32-byte seed (secret).  For writing key files only. */
const uint8_t *mm_keypair_seed(const mm_keypair_t *self);

/* Sign ctx || digest.  ctx is MM_CTX_BYTES long.  Always MM_OK. */
int mm_sign_digest(const mm_keypair_t *self, const char *ctx,
                   const uint8_t digest[32], uint8_t sig[MM_SIG_BYTES]) MM_NODISCARD;

/* Verify a signature made by mm_sign_digest: MM_OK or MM_EBADSIG. */
int mm_verify_digest(const uint8_t pk[MM_PK_BYTES], const char *ctx,
                     const uint8_t digest[32], const uint8_t sig[MM_SIG_BYTES]) MM_NODISCARD;

/* X25519 public key of an Ed25519 public key (for ZeroMQ CURVE).
 * MM_OK, or MM_EINVAL if ed is not a valid point. */
int mm_pk_to_x25519(uint8_t x[32], const uint8_t ed[MM_PK_BYTES]) MM_NODISCARD;

/* X25519 key pair of an Ed25519 key pair; wipe sk after use. */
void mm_keypair_x25519(const mm_keypair_t *self, uint8_t pk[32], uint8_t sk[32]);

#endif
