/*  cert.h -- device certificates: an identity vouching for a device key.
 *
 *  Version 2 (written by this version):
 *  cert = fixarray(8) [ version=2, identity pk (bin 32), device pk (bin 32),
 *                       created (uint, ms since the Unix epoch, UTC),
 *                       device name (str, 0..MM_DEVNAME_MAX bytes),
 *                       flags (uint 0..127; MM_CERT_IDENTITY, MM_CERT_MAILBOX),
 *                       devsig (bin 64), sig (bin 64) ]
 *  devsig = Ed25519 by the DEVICE key over MM_CTX_DEVICE || BLAKE2b-256(the
 *           array header, the version and the two keys): the device's proof
 *           that it holds its key and agrees to belong to this identity
 *           (what the identity then says of it, name and flags, is the
 *           identity's to restate: a rename needs only the identity key);
 *  sig    = Ed25519 by the identity key over MM_CTX_CERT || BLAKE2b-256(all
 *           bytes before the sig field).
 *  Version 1 (read only): fixarray(6) [1, identity, device, created, name,
 *  sig], no proof; accepted only where the transport proves the key.
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

#define MM_CERT_VERSION 2
#define MM_DEVNAME_MAX  64
#define MM_CERT_IDENTITY 1u         /* flags: the device holds the identity key */
/* flags: the key is a mailbox's (PROTOCOL.md 14): a node of this person
 * that stores and forwards its relationships' feeds blind, never writes an
 * entry, holds no scope key and is never a rekey recipient */
#define MM_CERT_MAILBOX  2u
#define MM_CERT_ROLES    (MM_CERT_IDENTITY | MM_CERT_MAILBOX)   /* both at once: MM_EBADCERT */
#define MM_CERT_FLAGS_MAX 127u
/* Certificates stored for one identity (revoked devices included: their
 * certificates verify what they wrote), PROTOCOL.md 3.1. */
#define MM_CERT_PER_IDENTITY 64u
/* version 1: header, version, 2 keys, created (uint64), name (str8), sig */
#define MM_CERT_V1_MAX  (1 + 1 + 2*34 + 9 + 2 + MM_DEVNAME_MAX + 66)
/* version 2: and flags (fixint), devsig */
#define MM_CERT_MAX     (MM_CERT_V1_MAX + 1 + 66)

typedef struct {
    unsigned version;               /* 1 or 2 */
    uint8_t  identity[MM_PK_BYTES];
    uint8_t  device[MM_PK_BYTES];
    uint64_t created;
    char     name[MM_DEVNAME_MAX + 1];
    unsigned flags;                 /* 0 in version 1 */
    uint8_t  devsig[MM_SIG_BYTES];  /* zero in version 1 */
    uint8_t  sig[MM_SIG_BYTES];
} mm_cert_t;

/* Device side: the proof (devsig) a device gives to be certified by
 * identity_pk, in every certificate of it that identity makes.  MM_OK. */
int mm_cert_request(const mm_keypair_t *device, const uint8_t identity_pk[MM_PK_BYTES],
                    uint8_t devsig[MM_SIG_BYTES]) MM_NODISCARD;
/* Identity side: a version-2 certificate of device_pk from the device's
 * proof, into out[0..cap).  MM_OK with *outlen set; MM_EINVAL (name longer
 * than MM_DEVNAME_MAX, flags above MM_CERT_FLAGS_MAX or with both role
 * bits); MM_EBADSIG if devsig
 * is not device_pk's proof for this identity; MM_ETOOBIG
 * if cap is too small (MM_CERT_MAX always fits). */
int mm_cert_complete(const mm_keypair_t *identity, const uint8_t device_pk[MM_PK_BYTES],
                     uint64_t created, const char *name, unsigned flags,
                     const uint8_t devsig[MM_SIG_BYTES],
                     uint8_t *out, size_t cap, size_t *outlen) MM_NODISCARD;
/* Both at once, where one process holds both keys (a new home, a restore,
 * tests). */
int mm_cert_make(const mm_keypair_t *identity, const mm_keypair_t *device,
                 uint64_t created, const char *name, unsigned flags,
                 uint8_t *out, size_t cap, size_t *outlen) MM_NODISCARD;
/* A version-1 certificate (no proof): only for the test vectors and the
 * fixtures of older homes. */
int mm_cert_make_v1(const mm_keypair_t *identity, const uint8_t device_pk[MM_PK_BYTES],
                    uint64_t created, const char *name,
                    uint8_t *out, size_t cap, size_t *outlen) MM_NODISCARD;

/* Parse a certificate (version 1 or 2) and check its signatures (both, in
 * version 2: the device's first).  On MM_OK *out is filled.
 * Errors: MM_ETOOBIG (len > MM_CERT_MAX), MM_ETRUNC, MM_ETRAILING,
 * MM_EMALFORMED, MM_ENONCANON, MM_EVERSION, MM_EBADCERT (flags with both
 * MM_CERT_IDENTITY and MM_CERT_MAILBOX), MM_EBADSIG. */
int mm_cert_parse(const uint8_t *buf, size_t len, mm_cert_t *out) MM_NODISCARD;
/* As mm_cert_parse without the signature checks: only for certificates
 * read back from the store, which were checked when they were admitted. */
int mm_cert_decode(const uint8_t *buf, size_t len, mm_cert_t *out) MM_NODISCARD;

/* As mm_cert_parse, but the signatures are not checked again when txn's
 * store holds these very bytes as the certificate of the device they name:
 * they were verified when they were stored (PROTOCOL.md 3.1), so a peer's
 * certificate that comes in every HELLO and DEVICES costs no signature
 * check after the first.  *held is 1 if so, else 0.  MM_OK; mm_cert_parse's
 * errors; MM_EIO. */
int mm_cert_check(mm_txn_t *txn, const uint8_t *buf, size_t len, mm_cert_t *out,
                  int *held) MM_NODISCARD;

/* 1 if the certificate itself proves that the device holds its key
 * (version 2): only such a certificate may be relayed for another device
 * (CERT frames, device statements).  A version-1 one is admitted only
 * where the transport proved the key (HELLO, ACCEPT). */
int mm_cert_proven(const mm_cert_t *c);

/* Admit a certificate: parse and verify it, then store it under its device
 * with its row in the curves index (see mm_cert_by_curve).  For a device
 * already certified by the same identity, the certificate with the greater
 * (version, created) is kept (a rename is a newer certificate; an older one
 * arriving late changes nothing, and *out then gets the one kept).
 * MM_OK; mm_cert_parse's errors; MM_EEXIST if the stored certificate of
 * that device names another identity; MM_ETOOMANY if the device is new and
 * its identity has MM_CERT_PER_IDENTITY certificates stored already. */
int mm_cert_put(mm_txn_t *txn, const uint8_t *buf, size_t len, mm_cert_t *out) MM_NODISCARD;
/* Delete the certificate of device and its row in the curves index (write
 * txn): only for mm peer rm --purge, for a device no stored entry needs
 * (core/purge.h).  MM_OK; MM_ENOTFOUND; MM_EFULL; MM_EIO. */
int mm_cert_del(mm_txn_t *txn, const uint8_t device[32]) MM_NODISCARD;

/* The admitted certificate of device.  MM_OK, MM_ENOTFOUND, MM_ECORRUPT.
 * raw/rawlen (may be NULL) point into the map until the txn ends. */
int mm_cert_get(mm_txn_t *txn, const uint8_t device[32], mm_cert_t *out,
                const uint8_t **raw, size_t *rawlen) MM_NODISCARD;

/* How many certificates of identity are stored, counted up to
 * MM_CERT_PER_IDENTITY (*n stops there).  Walks the certs table: called
 * only when a new device is stored.  MM_OK; MM_ECORRUPT. */
int mm_cert_count(mm_txn_t *txn, const uint8_t identity[32], unsigned *n) MM_NODISCARD;

/* Call fn for each admitted certificate (decoded; raw bytes point into the
 * map).  Non-zero from fn stops the walk and is returned. */
typedef int (*mm_cert_fn)(const mm_cert_t *c, const uint8_t *raw, size_t len, void *arg);
int mm_cert_foreach(mm_txn_t *txn, mm_cert_fn fn, void *arg) MM_NODISCARD;

/* 1 if a certificate is stored whose device key has X25519 form x25519:
 * one lookup in the curves index, which mm_cert_by_curve reads with the
 * check that each row agrees with its certificate (a point conversion per
 * row); this only asks whether there is one.  0 otherwise. */
int mm_cert_curve_held(mm_txn_t *txn, const uint8_t x25519[32]);

/* 1 if x25519 is the X25519 form of the Ed25519 key device: looked up in
 * the curves index when device is stored (the index row was computed when
 * its certificate was), else computed (mm_pk_to_x25519, which costs about
 * as much as a signature check).  0 otherwise. */
int mm_cert_curve_is(mm_txn_t *txn, const uint8_t x25519[32], const uint8_t device[32]);

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
