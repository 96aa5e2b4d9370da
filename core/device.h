/*  device.h -- a person's devices: which statements about devices (their
 *  certificates, revocations and endpoints statements) a session sends and
 *  accepts (PROTOCOL.md 8.2, DEVICES), and the view of one identity's
 *  devices that mm sync and mm device list use.
 */
#ifndef MM_DEVICE_H
#define MM_DEVICE_H

#include <stddef.h>
#include <stdint.h>
#include "crypto/error.h"
#include "core/store.h"
#include "core/cert.h"
#include "core/endpoint.h"
#include "core/home.h"
#include "core/revoke.h"

/* Statements in one DEVICES message, per list (PROTOCOL.md 8.1). */
#define MM_DEVICE_CERTS_MAX     512
#define MM_DEVICE_REVOKES_MAX   32
#define MM_DEVICE_ENDPOINTS_MAX 256

/* The kinds of statement, in the order a DEVICES message lists them. */
#define MM_DEVICE_CERT     0
#define MM_DEVICE_REVOKE   1
#define MM_DEVICE_ENDPOINT 2

typedef struct { const uint8_t *p; size_t len; } mm_device_blob_t;

/* What to send one remote: bytes point into the map until the txn ends. */
typedef struct {
    mm_device_blob_t item[3][MM_DEVICE_CERTS_MAX];
    uint32_t n[3];
} mm_device_set_t;

/* The statements to send to a device of identity remote: every one about
 * our own identity (me), then those about remote's own identity (a peer:
 * so that its devices hear of each other through us), or, when remote is
 * me (our own device), those about every peer's identity; ours first,
 * each list cut at its maximum.  Certificates only of version 2 (relayed ones must prove their
 * device).  MM_OK; MM_ECORRUPT; store errors. */
int mm_device_collect(mm_txn_t *txn, const uint8_t me[32], const uint8_t remote[32],
                      mm_device_set_t *out) MM_NODISCARD;

/* One statement of kind received from a device of identity remote (write
 * txn): verified, then stored if it is about the remote identity, us, or
 * one of our peers (from our own device: about anyone), else ignored (the
 * answer is still MM_OK).  An endpoints statement is about the identity
 * its device's stored certificate names (none stored: ignored), so a
 * caller hands certificates over first.  MM_OK; MM_EBADCERT (a version-1
 * certificate); the parse and signature errors of cert.h, revoke.h and
 * endpoint.h; MM_EEXIST (a certificate naming another identity for a
 * stored device); MM_ETOOMANY (a certificate of a new device of remote's
 * own identity, which has MM_CERT_PER_IDENTITY stored: one of a third
 * identity past the cap is not stored, and MM_OK); MM_EFULL; MM_EIO. */
int mm_device_accept(mm_txn_t *txn, const uint8_t me[32], const uint8_t remote[32], int kind,
                     const uint8_t *buf, size_t len) MM_NODISCARD;

/* One device of a person, as this device knows it. */
typedef struct {
    mm_cert_t cert;                 /* its latest certificate */
    int       revoked;
    int       has_endpoints;
    mm_endpoint_t endpoints;
    uint64_t  last_seen;            /* last complete session with it (0: never) */
} mm_device_t;

/* Call fn for every device certified by identity, in device key order.
 * Non-zero from fn stops the walk and is returned. */
typedef int (*mm_device_fn)(const mm_device_t *d, void *arg);
int mm_device_foreach(mm_txn_t *txn, const uint8_t identity[32], mm_device_fn fn,
                      void *arg) MM_NODISCARD;

/* Find one of identity's devices by what a person typed: the start of its
 * device code ("mmd" and at least 3 more characters) or its name (exact
 * after Unicode simple case folding, fold.h).  MM_OK with *out; MM_ENOTFOUND; MM_EAMBIG (more than one
 * matches); MM_EINVAL (a code prefix shorter than 6 characters). */
int mm_device_find(mm_txn_t *txn, const uint8_t identity[32], const char *what,
                   mm_device_t *out) MM_NODISCARD;

/* The identity device of identity as this device knows it (the certificate
 * with MM_CERT_IDENTITY; the newest if several).  MM_OK; MM_ENOTFOUND. */
int mm_device_identity(mm_txn_t *txn, const uint8_t identity[32], mm_device_t *out)
    MM_NODISCARD;

/* mm device revoke: the identity device revokes another device of its
 * person (mm_revoke_device, in one durable transaction; the keys of its
 * scopes are to be rotated there).  MM_OK (*out, may be NULL, gets the
 * statement's lasts count and created); MM_ENOIDENTITY (this home does not
 * hold the identity key); MM_EINVAL (device is this very device: reset it
 * instead); MM_ENOTFOUND (no certificate of device for this identity);
 * MM_EFULL; MM_EIO. */
int mm_device_revoke(mm_home_t *home, const uint8_t device[32], uint64_t now,
                     mm_revoke_t *out) MM_NODISCARD;

/* mm device reset: this home gets a fresh device key, certified by the
 * identity key, and the old key is revoked, accepting each of its feeds up
 * to the last position nobody disputes (a copied home: the seq before the
 * fork); every scope's key is rotated away from it (mm_rekey_scopes), all
 * in one transaction (mm_home_rotate_device).  For a copied home, on the
 * copy the person keeps; the other copy, which holds the old key, is
 * refused everywhere once the revocation reaches it.  old_pk gets the old
 * key, *nscopes (may be NULL) how many scopes were rekeyed.  MM_OK;
 * MM_ENOIDENTITY (not the identity device: pair this device again);
 * MM_EFULL; MM_EIO. */
int mm_device_reset(mm_home_t *home, uint64_t now, uint8_t old_pk[32],
                    size_t *nscopes) MM_NODISCARD;

/* mm device rename: a newer certificate of device (one of this person's)
 * with a new name, same flags, made with the identity key and the proof
 * the device gave in its certificate (PROTOCOL.md 3.1), so the device need
 * not be there.  Peers and own devices take it at their next sync (the
 * greater created wins).  MM_OK; MM_ENOIDENTITY (the identity key is not
 * here); MM_ENOTFOUND (not a device of this identity); MM_EBADCERT (another
 * device's version-1 certificate: it holds no proof to restate); MM_EINVAL
 * (name longer than MM_DEVNAME_MAX or holding NUL); MM_EFULL; MM_EIO. */
int mm_device_rename(mm_home_t *home, const uint8_t device[32], const char *name,
                     uint64_t now) MM_NODISCARD;

/* 1 if some current device of identity announced at least one endpoint
 * (an endpoints statement), else 0; 0 on a store error too. */
int mm_device_announced(mm_txn_t *txn, const uint8_t identity[32]);

/* Record that a session with device completed at now (table "seen").
 * MM_OK; MM_EFULL; MM_EIO (a store without the format-3 tables: MM_OK,
 * nothing written). */
int mm_device_seen(mm_txn_t *txn, const uint8_t device[32], uint64_t now) MM_NODISCARD;

/* When a session with device last completed (0: never).  MM_OK; MM_ECORRUPT. */
int mm_device_last_seen(mm_txn_t *txn, const uint8_t device[32], uint64_t *when) MM_NODISCARD;

/* Forget a device (write txn): its certificate (and curves row), the
 * revocations and endpoints statement about it, when a session with it
 * last completed.  Only for mm peer rm --purge, once no stored entry is by
 * the device (core/purge.h).  MM_OK; MM_ENOTFOUND (no certificate);
 * MM_EFULL; MM_EIO. */
int mm_device_forget(mm_txn_t *txn, const uint8_t device[32]) MM_NODISCARD;

#endif
