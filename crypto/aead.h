/*  aead.h -- XChaCha20-Poly1305-IETF authenticated encryption.
 *
 *  24-byte nonces are random: with XChaCha there is no practical risk of a
 *  nonce repeating under one key, so no counter state has to survive crashes.
 *  They come from mm_random_bytes (random.h).
 */
#ifndef MM_AEAD_H
#define MM_AEAD_H

#include <stddef.h>
#include "crypto/error.h"
#include <stdint.h>

#define MM_KEY_BYTES   32
#define MM_NONCE_BYTES 24
#define MM_TAG_BYTES   16

/* c = seal(m) with associated data ad; c must hold mlen + MM_TAG_BYTES bytes.
 * c and m must not overlap.  Always MM_OK. */
int mm_aead_seal(uint8_t *c, const uint8_t *m, size_t mlen,
                 const uint8_t *ad, size_t adlen,
                 const uint8_t nonce[MM_NONCE_BYTES], const uint8_t key[MM_KEY_BYTES]) MM_NODISCARD;

/* m = open(c); m must hold clen - MM_TAG_BYTES bytes.
 * MM_OK, or MM_EDECRYPT if clen is too short or the tag does not verify
 * (m is then zeroed). */
int mm_aead_open(uint8_t *m, const uint8_t *c, size_t clen,
                 const uint8_t *ad, size_t adlen,
                 const uint8_t nonce[MM_NONCE_BYTES], const uint8_t key[MM_KEY_BYTES]) MM_NODISCARD;

#endif
