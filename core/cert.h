/*  cert.h -- device certificates: an identity vouching for a device key.
 *
 *  cert = fixarray(6) [ version=1, identity pk (bin 32), device pk (bin 32),
 *                       created (uint, ms since the Unix epoch, UTC),
 *                       device name (str, 0..MM_DEVNAME_MAX bytes),
 *                       sig (bin 64) ]
 *  sig = Ed25519 by the identity key over
 *        MM_CTX_CERT || BLAKE2b-256(all bytes before the sig field).
 *  See PROTOCOL.md, "Device certificate".
 *
 *  Admitted certificates are stored in table "certs", key device pk (32),
 *  value the certificate's bytes, and indexed in "curves" by the X25519
 *  form of the device key (sorted duplicates: X25519 key -> device pk).
 */
#ifndef MM_CERT_H
#define MM_CERT_H

#include <stddef.h>
#include "crypto/error.h"
#include <stdint.h>
#include "crypto/sign.h"
#include "core/store.h"

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
                 uint8_t *out, size_t cap, size_t *outlen) MM_NODISCARD;

/* Parse a certificate and check its signature.  On MM_OK *out is filled.
 * Errors: MM_ETOOBIG (len > MM_CERT_MAX), MM_ETRUNC, MM_ETRAILING,
 * MM_EMALFORMED, MM_ENONCANON, MM_EVERSION, MM_EBADSIG. */
int mm_cert_parse(const uint8_t *buf, size_t len, mm_cert_t *out) MM_NODISCARD;

/* As mm_cert_parse without the signature check: only for certificates read
 * back from the store, which were checked when they were admitted. */
int mm_cert_decode(const uint8_t *buf, size_t len, mm_cert_t *out) MM_NODISCARD;

/* Admit a certificate: parse and verify it, then store it under its device
 * with its row in the curves index (see mm_cert_by_curve).
 * MM_OK (also when the same cert is already there); mm_cert_parse's errors;
 * MM_EEXIST if a different cert is stored for that device. */
int mm_cert_put(mm_txn_t *txn, const uint8_t *buf, size_t len, mm_cert_t *out) MM_NODISCARD;
/* The admitted certificate of device.  MM_OK, MM_ENOTFOUND, MM_ECORRUPT.
 * raw/rawlen (may be NULL) point into the map until the txn ends. */
int mm_cert_get(mm_txn_t *txn, const uint8_t device[32], mm_cert_t *out,
                const uint8_t **raw, size_t *rawlen) MM_NODISCARD;

/* Call fn for each admitted certificate (decoded; raw bytes point into the
 * map).  Non-zero from fn stops the walk and is returned. */
typedef int (*mm_cert_fn)(const mm_cert_t *c, const uint8_t *raw, size_t len, void *arg);
int mm_cert_foreach(mm_txn_t *txn, mm_cert_fn fn, void *arg) MM_NODISCARD;

/* Call fn for each admitted certificate whose device key has X25519 form
 * x25519 (the key a CURVE client proved), in device key order: one lookup
 * in the curves index, whatever the number of certificates.  Usually there
 * is one; an Ed25519 key and its negation share an X25519 form, so anyone
 * who may store a certificate can add a second device for a key they saw,
 * and a caller deciding on the key must consider each.  Non-zero from fn
 * stops the walk and is returned.  MM_OK; MM_ENOTFOUND (none); MM_ECORRUPT.
 * In a format-1 store opened read-only (no index) this walks every
 * certificate instead, with the same result. */
int mm_cert_by_curve(mm_txn_t *txn, const uint8_t x25519[32], mm_cert_fn fn, void *arg) MM_NODISCARD;

/* Add to the curves index every stored certificate it lacks (write txn);
 * *added (may be NULL) gets how many.  Opening a format-1 store for writing
 * does this as its migration; it is needed again only if a format-1 writer
 * that had the store open before the migration stored certificates after
 * it (an mm serve left running across an upgrade), so mm serve does it as
 * it starts.  Reads every certificate; writes only what is missing.
 * MM_OK; MM_ECORRUPT; MM_EFULL; MM_EIO. */
int mm_cert_reindex(mm_txn_t *txn, size_t *added) MM_NODISCARD;

#endif
