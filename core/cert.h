/*  cert.h -- device certificates: an identity vouching for a device key.
 *
 *  cert = fixarray(6) [ version=1, identity pk (bin 32), device pk (bin 32),
 *                       created (uint, ms since the Unix epoch, UTC),
 *                       device name (str, 0..MM_DEVNAME_MAX bytes),
 *                       sig (bin 64) ]
 *  sig = Ed25519 by the identity key over
 *        MM_CTX_CERT || BLAKE2b-256(all bytes before the sig field).
 *  See PROTOCOL.md, "Device certificate".
 */
#ifndef MM_CERT_H
#define MM_CERT_H

#include <stddef.h>
#include <stdint.h>
#include "crypto/sign.h"

#define MM_CERT_VERSION 1
#define MM_DEVNAME_MAX  64
#define MM_CERT_MAX     (1 + 1 + 2*34 + 9 + 2 + MM_DEVNAME_MAX + 66)

typedef struct {
    uint8_t  identity[MM_PK_BYTES];
    uint8_t  device[MM_PK_BYTES];
    uint64_t created;
    char     name[MM_DEVNAME_MAX + 1];
    uint8_t  sig[MM_SIG_BYTES];
} mm_cert_t;

/* Encode and sign a certificate for device_pk into out[0..cap).
 * MM_OK with *outlen set; MM_EINVAL if name is longer than MM_DEVNAME_MAX;
 * MM_ETOOBIG if cap is too small. */
int mm_cert_make(const mm_keypair_t *identity, const uint8_t device_pk[MM_PK_BYTES],
                 uint64_t created, const char *name,
                 uint8_t *out, size_t cap, size_t *outlen);

/* Parse a certificate and check its signature.  On MM_OK *out is filled.
 * Errors: MM_ETOOBIG (len > MM_CERT_MAX), MM_ETRUNC, MM_ETRAILING,
 * MM_EMALFORMED, MM_ENONCANON, MM_EVERSION, MM_EBADSIG. */
int mm_cert_parse(const uint8_t *buf, size_t len, mm_cert_t *out);

/* As mm_cert_parse without the signature check: only for certificates read
 * back from the store, which were checked when they were admitted. */
int mm_cert_decode(const uint8_t *buf, size_t len, mm_cert_t *out);

#endif
