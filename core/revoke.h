/*  revoke.h -- revocation statements: an identity disowns one of its devices.
 *
 *  revoke = fixarray(6) [ version=1, identity pk (bin 32), device pk (bin 32),
 *                         created (uint, ms), lasts, sig (bin 64) ]
 *  lasts  = array of fixarray(2) [ scope (bin 32), seq (uint) ], in strictly
 *           increasing scope order, at most MM_REVOKE_LASTS_MAX: per feed of
 *           the revoked device, the last seq that stays valid (a scope not
 *           listed: none of its entries is valid)
 *  sig    = Ed25519 by the identity key over
 *           MM_CTX_REVOKE || BLAKE2b-256(all bytes before the sig field)
 *  See PROTOCOL.md 3.2.
 *
 *  Stored in table "revokes", key device (32) || H(statement) (32), value the
 *  statement's bytes.  A device is revoked when ANY stored revocation by the
 *  identity its certificate names names it (the union: statements are never
 *  replaced or deleted); its effective last per scope is the MIN over those
 *  revocations, so every device that holds the same statements, received in
 *  any order, gives the same verdicts.
 */
#ifndef MM_REVOKE_H
#define MM_REVOKE_H

#include <stddef.h>
#include <stdint.h>
#include "crypto/error.h"
#include "crypto/sign.h"
#include "core/store.h"

#define MM_REVOKE_VERSION   1
#define MM_REVOKE_LASTS_MAX 1024
#define MM_REVOKE_PER_DEVICE 8      /* statements stored about one device (PROTOCOL.md 3.2) */
/* header, version, 2 keys, created, array32 header, lasts (1 + 34 + 9 each), sig */
#define MM_REVOKE_MAX (1 + 1 + 2 * 34 + 9 + 5 + MM_REVOKE_LASTS_MAX * 44 + 66)

typedef struct {
    uint8_t scope[32];
    uint64_t seq;
} mm_revoke_last_t;

/* A parsed statement; lasts points into the bytes it was parsed from. */
typedef struct {
    uint8_t  identity[MM_PK_BYTES];
    uint8_t  device[MM_PK_BYTES];
    uint64_t created;
    uint32_t nlasts;
    const uint8_t *lasts;           /* the first [scope, seq] pair's encoding */
    size_t   lastslen;
    uint8_t  hash[32];              /* H(statement): its key in the table */
} mm_revoke_t;

/* Build and sign a revocation of device by identity into out[0..cap).
 * lasts must be in strictly increasing scope order.  MM_OK with *outlen;
 * MM_EINVAL (lasts out of order, more than MM_REVOKE_LASTS_MAX, or identity
 * revoking itself as device); MM_ETOOBIG (cap too small; MM_REVOKE_MAX always
 * fits). */
int mm_revoke_make(const mm_keypair_t *identity, const uint8_t device[MM_PK_BYTES],
                   uint64_t created, const mm_revoke_last_t *lasts, size_t nlasts,
                   uint8_t *out, size_t cap, size_t *outlen) MM_NODISCARD;

/* Parse a statement and check its signature.  MM_OK with *out filled;
 * MM_ETOOBIG (len > MM_REVOKE_MAX or too many lasts), MM_ETRUNC,
 * MM_ETRAILING, MM_EMALFORMED (shape, or scopes not strictly increasing),
 * MM_ENONCANON, MM_EVERSION, MM_EBADSIG. */
int mm_revoke_parse(const uint8_t *buf, size_t len, mm_revoke_t *out) MM_NODISCARD;

/* The last valid seq r gives for scope: 0 if r does not list it. */
uint64_t mm_revoke_last_of(const mm_revoke_t *r, const uint8_t scope[32]);

/* As mm_revoke_parse, but the signature is not checked again when txn's
 * store holds these very bytes (it was verified when stored).  *held is 1
 * if so, else 0.  MM_OK; mm_revoke_parse's errors; MM_EIO. */
int mm_revoke_check(mm_txn_t *txn, const uint8_t *buf, size_t len, mm_revoke_t *out,
                    int *held) MM_NODISCARD;

/* Verify and store a statement (a no-op if held).  Who may hand one over is
 * the caller's rule (the session's); any verifying statement is stored.
 * MM_OK (*out filled if non-NULL, its lasts pointing into the map until
 * the txn ends); mm_revoke_parse's errors; MM_EVERSION
 * (a store without the format-3 tables); MM_ETOOMANY (MM_REVOKE_PER_DEVICE
 * other statements by that identity about that device are stored); MM_EFULL; MM_EIO. */
int mm_revoke_put(mm_txn_t *txn, const uint8_t *buf, size_t len, mm_revoke_t *out) MM_NODISCARD;

/* The verdict on device as certified by identity: *revoked 1 if any stored
 * revocation by identity names it; then, if scope is not NULL, *last the
 * MIN over those revocations of the last valid seq in scope.  An entry of
 * (device, scope) with seq > *last is refused (MM_EREVOKED, PROTOCOL 5.1).
 * last may be NULL.  MM_OK; MM_ECORRUPT. */
int mm_revoke_state(mm_txn_t *txn, const uint8_t device[32], const uint8_t identity[32],
                    const uint8_t *scope, int *revoked, uint64_t *last) MM_NODISCARD;

/* Call fn for every stored statement (parsed without re-checking the
 * signature; raw bytes point into the map until the txn ends), in
 * (device, hash) order.  Non-zero from fn stops the walk and is returned. */
typedef int (*mm_revoke_fn)(const mm_revoke_t *r, const uint8_t *raw, size_t len, void *arg);
int mm_revoke_foreach(mm_txn_t *txn, mm_revoke_fn fn, void *arg) MM_NODISCARD;

/* The identity device revokes one of its person's devices (write txn):
 * lasts are the stored heads of every feed of device, the statement is
 * signed with identity and stored.  *out (may be NULL) gets it, its lasts
 * pointing into the map until the txn ends.  A position of a feed that a
 * recorded fork disputes (core/fork.h) is not accepted: the last is the
 * seq before it.  The caller rotates the keys of the device's scopes in
 * the same transaction (mm_rekey_scopes).
 * MM_OK; MM_ENOTFOUND (no certificate of device); MM_EINVAL (device's
 * certificate names another identity, or it is the identity itself);
 * MM_ETOOBIG (more than MM_REVOKE_LASTS_MAX feeds); MM_EFULL; MM_EIO. */
int mm_revoke_device(mm_txn_t *txn, const mm_keypair_t *identity, const uint8_t device[32],
                     uint64_t now, mm_revoke_t *out) MM_NODISCARD;

/* Delete every statement about device (write txn): only for mm peer rm
 * --purge, with the device's certificate.  MM_OK; MM_EFULL; MM_EIO. */
int mm_revoke_drop(mm_txn_t *txn, const uint8_t device[32]) MM_NODISCARD;

#endif
