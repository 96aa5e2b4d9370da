/*  mailbox.h -- a blind store-and-forward node of one person (PROTOCOL.md 14).
 *
 *  A mailbox is a home with a device key of its own and no identity key,
 *  no self scope and no scope key.  Linked, its key is certified by its
 *  owner's identity with MM_CERT_MAILBOX: for routing and the audience rule
 *  it is a device of its owner's person, but it never writes an entry, is
 *  never a rekey recipient nor the settler, and stores what it can verify
 *  without opening it (checks 1-7 of PROTOCOL.md 5.1).
 *
 *  What it knows of scopes its owner's devices tell it (SCOPES, 8.1): blind
 *  scope records (MM_SCOPE_BLIND: id and members, no key) and the identities
 *  the owner blocked.  It admits its owner's current devices and the current
 *  devices of the members of those scopes, not blocked, and charges what each
 *  person's devices make it store to that person (table usage) up to a quota.
 *
 *  Tables (store format 4): usage  identity (32) -> bytes (8, big-endian);
 *  links  link key (32) -> fixarray(3) [1, created uint, expires uint];
 *  blocked identity (32) -> empty.  Meta (a mailbox home only): "role" (1
 *  byte = 2), "quota" (8, big-endian), "listen" (endpoints, '\n'-separated).
 *
 *  Link code text: "mmm1" + base32(payload || check(4)) as core/code.h,
 *  with identity 32 zero bytes (a mailbox has none), device the mailbox's
 *  key, and the key pair sk = H("mm link key v1" || secret).
 */
#ifndef MM_MAILBOX_H
#define MM_MAILBOX_H

#include <stddef.h>
#include <stdint.h>
#include "crypto/error.h"
#include "crypto/sign.h"
#include "core/code.h"
#include "core/home.h"
#include "core/store.h"

#define MM_MAILBOX_PREFIX        "mmm1"
#define MM_MAILBOX_ROLE          2          /* meta "role" of a mailbox home */
#define MM_MAILBOX_QUOTA_DEFAULT (1ull << 30)   /* 1 GiB per person */
#define MM_MAILBOX_LINK_TTL      (10ull * 60 * 1000)
#define MM_MAILBOX_LINK_TTL_MAX  (24ull * 3600 * 1000)
#define MM_MAILBOX_LINKS_MAX     16         /* pending link codes at once */
#define MM_MAILBOX_SCOPES_MAX    16384      /* scopes in one SCOPES frame */
#define MM_MAILBOX_BLOCKED_MAX   256        /* blocked identities in one SCOPES frame */

typedef mm_code_t mm_mailbox_code_t;

/* X25519 key pair of a link secret: sk = H("mm link key v1" || secret). */
void mm_mailbox_link_keys(const uint8_t secret[32], uint8_t pk[32], uint8_t sk[32]);
/* Text form (MM_CODE_TEXT_MAX).  MM_OK or MM_EINVAL. */
int mm_mailbox_code_encode(const mm_mailbox_code_t *c, char *out, size_t cap) MM_NODISCARD;
/* Parse a link code.  MM_OK; MM_EINVAL (not a link code); MM_ECHECKSUM;
 * MM_EVERSION; MM_EMALFORMED, MM_ETRUNC, MM_ETRAILING. */
int mm_mailbox_code_decode(const char *text, mm_mailbox_code_t *c) MM_NODISCARD;

/* ---- the mailbox's side ---- */

/* A new link code valid for ttl_ms (1 ms .. MM_MAILBOX_LINK_TTL_MAX) at the
 * endpoints given (1..4), fresh secret; its key is stored in table links so
 * that a running mm serve admits it while pending.  The caller wipes *out.
 * MM_OK; MM_EROLE (not a mailbox home); MM_EEXIST (linked already: a
 * mailbox serves one person); MM_EBUSY (MM_MAILBOX_LINKS_MAX codes
 * pending); MM_EINVAL; store errors. */
int mm_mailbox_code_new(mm_home_t *home, uint64_t now, uint64_t ttl_ms,
                        char eps[][MM_ENDPOINT_MAX + 1], unsigned neps,
                        mm_mailbox_code_t *out) MM_NODISCARD;

/* 1 if link_pk (a CURVE client key) is a pending link code's: the mailbox
 * is not linked and the code has not expired at now.  0 otherwise. */
int mm_mailbox_link_pending(mm_home_t *home, const uint8_t link_pk[32], uint64_t now);

/* LINK: the holder of a pending code asks the mailbox to belong to
 * identity.  MM_OK with devsig, the mailbox key's proof for identity
 * (PROTOCOL.md 3.1); MM_EREFUSED (no such code pending, expired, or the
 * mailbox is linked already) with why. */
int mm_mailbox_consent(mm_home_t *home, const uint8_t link_pk[32], const uint8_t identity[32],
                       uint64_t now, uint8_t devsig[MM_SIG_BYTES], char *why,
                       size_t cap) MM_NODISCARD;

/* CERT of a link exchange: the certificate identity made of this mailbox.
 * In one transaction: the code still pending (else MM_EREFUSED), the
 * certificate verifies, certifies this mailbox's key for identity with
 * exactly MM_CERT_MAILBOX (MM_EBADCERT), then it is stored, meta
 * "identity", "self" and "name" (the owner's name) are set and every
 * pending code is dropped: the mailbox is linked.  The home is refreshed
 * (mm_home_refresh).  MM_OK; MM_EINVAL (bad name); store errors. */
int mm_mailbox_accept_cert(mm_home_t *home, const uint8_t link_pk[32],
                           const uint8_t identity[32], const uint8_t *cert, size_t certlen,
                           const char *name, uint64_t now, char *why, size_t cap) MM_NODISCARD;

/* What an owner's device told its mailbox (SCOPES): for each scope its id
 * and members; the identities the owner blocks. */
typedef struct {
    size_t    n;
    uint8_t (*id)[32];
    unsigned *nmembers;
    uint8_t (*members)[2][32];
    size_t    nblocked;
    uint8_t (*blocked)[32];
} mm_mailbox_told_t;

void mm_mailbox_told_free(mm_mailbox_told_t *t);

/* Store what an owner's device told (write txn): each scope as a blind
 * record, unless held already with the same members (a scope's members
 * never change: other members are MM_EEXIST), and the blocked list
 * replacing the one held.  Every scope must have the owner among its 1..2
 * members (MM_ESCOPE).  MM_OK; MM_EROLE (not a linked mailbox); store
 * errors. */
int mm_mailbox_learn(mm_txn_t *txn, const uint8_t owner[32], const mm_mailbox_told_t *t,
                     uint64_t now) MM_NODISCARD;

/* Is identity (not the owner) one this mailbox serves: a member of a scope
 * it holds?  MM_OK (then *blocked says whether the owner blocks it);
 * MM_ENOTFOUND; MM_ECORRUPT. */
int mm_mailbox_member(mm_txn_t *txn, const uint8_t identity[32], int *blocked) MM_NODISCARD;

/* The identities the owner blocks, at most max, into out; *n gets how many. */
int mm_mailbox_blocked(mm_txn_t *txn, uint8_t (*out)[32], size_t max, size_t *n) MM_NODISCARD;

/* Charge bytes of newly stored entries to identity (write txn, the one that
 * stores them).  MM_OK; MM_EQUOTA (identity's usage would pass the store's
 * quota: the caller aborts the transaction, nothing of the run stays). */
int mm_mailbox_charge(mm_txn_t *txn, const uint8_t identity[32], uint64_t bytes) MM_NODISCARD;

/* Bytes charged to identity so far (0 if none). */
int mm_mailbox_usage(mm_txn_t *txn, const uint8_t identity[32], uint64_t *bytes) MM_NODISCARD;

/* The quota (bytes per person) of a mailbox's store, meta "quota".  MM_OK;
 * MM_EROLE (not a mailbox's store); MM_ECORRUPT. */
int mm_mailbox_quota(mm_txn_t *txn, uint64_t *quota) MM_NODISCARD;

/* Set the quota (write txn); a running mm serve uses it from its next
 * stored run.  What is stored already stays, whatever the new quota.
 * MM_OK; MM_EROLE; MM_EINVAL (0); store errors. */
int mm_mailbox_set_quota(mm_txn_t *txn, uint64_t quota) MM_NODISCARD;

/* 1 if this mailbox's own certificate is revoked (its owner unlinked it). */
int mm_mailbox_unlinked(mm_home_t *home);

/* ---- the owner's side ---- */

/* The SCOPES an owner device tells its mailbox: every relationship scope
 * (id, members) and every blocked peer.  Caller frees with
 * mm_mailbox_told_free.  MM_OK; MM_ENOMEM; store errors. */
int mm_mailbox_tell(mm_txn_t *txn, mm_mailbox_told_t *out) MM_NODISCARD;

/* The mailbox certificate identity makes of the mailbox key device from its
 * proof devsig (the LINK answer), named name, into out[0..MM_CERT_MAX).
 * Not stored (mm_mailbox_link_store does, once the mailbox took it).
 * MM_OK; MM_EBADSIG (devsig is not the key's proof for identity);
 * MM_EINVAL. */
int mm_mailbox_certify(const mm_keypair_t *identity, const uint8_t device[32],
                       const uint8_t devsig[MM_SIG_BYTES], const char *name, uint64_t now,
                       uint8_t *out, size_t *outlen) MM_NODISCARD;

/* Store the certificate of a linked mailbox (one durable transaction).
 * MM_OK; mm_cert_put's errors. */
int mm_mailbox_link_store(mm_home_t *home, const uint8_t *cert, size_t certlen) MM_NODISCARD;

/* Unlink: revoke the mailbox device of this home's identity (empty lasts: it
 * never wrote; no rekey: it never held a key).  MM_OK; MM_ENOIDENTITY;
 * MM_ENOTFOUND (not a mailbox of this identity); MM_EEXIST (unlinked
 * already); store errors. */
int mm_mailbox_unlink(mm_home_t *home, const uint8_t device[32], uint64_t now) MM_NODISCARD;

#endif
