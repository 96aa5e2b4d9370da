/*  entry.h -- log entries: encoding, the one verifier, and decryption.
 *
 *  entry = fixarray(9) [
 *    0 version  uint = 1
 *    1 author   bin 32   Ed25519 public key of the writing device
 *    2 scope    bin 32   scope id: fixes who may ever receive this feed
 *    3 seq      uint     1, 2, 3 ... within the feed (author, scope)
 *    4 prev     nil when seq = 1, else bin 32: id of entry seq-1
 *    5 time     uint     ms since the Unix epoch, UTC
 *    6 nonce    bin 24   XChaCha20-Poly1305 nonce
 *    7 box      bin      AEAD ciphertext of the body || 16-byte tag,
 *                        associated data = the entry's bytes before field 6
 *    8 sig      bin 64   Ed25519 by author over
 *                        MM_CTX_ENTRY || BLAKE2b-256(bytes before field 8)
 *  ]
 *  entry id = BLAKE2b-256(all the entry's bytes).  A feed is the chain of
 *  one author's entries in one scope; single writer, so it cannot fork.
 *  See PROTOCOL.md, "Entries".
 */
#ifndef MM_ENTRY_H
#define MM_ENTRY_H

#include <stddef.h>
#include "crypto/error.h"
#include <stdint.h>
#include "crypto/sign.h"
#include "crypto/aead.h"
#include "crypto/hash.h"
#include "core/cert.h"
#include "core/scope.h"

#define MM_ENTRY_VERSION 1
#define MM_ENTRY_MAX     65536                 /* whole encoded entry */
#define MM_BODY_MAX      65000                 /* plaintext body */
#define MM_ENTRY_OVERHEAD 256                  /* >= encoding beside the body */

/* The head of a feed: its last entry.  seq 0 means the feed is empty. */
typedef struct {
    uint64_t seq;
    uint8_t  id[MM_HASH_BYTES];
} mm_head_t;

/* A parsed entry.  Pointers point into the bytes it was parsed from. */
typedef struct {
    const uint8_t *bytes;           /* the whole entry, as signed */
    size_t   len;
    uint8_t  id[MM_HASH_BYTES];     /* BLAKE2b-256(bytes) */
    uint8_t  digest[MM_HASH_BYTES]; /* BLAKE2b-256(bytes[0, signedlen)): what sig signs */
    const uint8_t *author;          /* 32 */
    const uint8_t *scope;           /* 32 */
    uint64_t seq;
    const uint8_t *prev;            /* 32, or NULL when seq = 1 */
    uint64_t time;
    const uint8_t *nonce;           /* 24 */
    const uint8_t *box;
    uint32_t boxlen;
    const uint8_t *sig;             /* 64 */
    size_t   adlen;                 /* bytes before field 6 (AEAD ad) */
    size_t   signedlen;             /* bytes before field 8 (signed) */
} mm_entry_t;

/* Called by the verifier with the plaintext of a box it has just opened and
 * found a valid body (the last step): lets the store act on a body (a
 * rekey, a propagated scope) without decrypting it twice.  pt is wiped
 * when it returns.  Its non-zero return is the verifier's answer. */
typedef int (*mm_body_fn)(const mm_entry_t *e, const uint8_t *pt, size_t len, void *arg);

/* What an entry is checked against. */
typedef struct {
    const mm_head_t  *head;         /* the feed's current head (seq 0: empty) */
    const mm_cert_t  *cert;         /* admitted certificate of the author, or NULL */
    const mm_scope_t *scope;        /* the scope named by the entry, or NULL */
    mm_body_fn        on_body;      /* may be NULL; not called under MM_VERIFY_OWN */
    void             *arg;          /* for on_body */
    int               revoked;      /* the author is revoked (core/revoke.h) ... */
    uint64_t          revoked_last; /* ... and this is its last valid seq in the scope */
} mm_verify_ctx_t;

/* Skip the opening of the box: only for an entry that the caller has just
 * sealed itself from a body it checked with mm_body_check (opening it again
 * would prove nothing new).  Its signature is still checked. */
#define MM_VERIFY_OWN 0x2u
/* Checks 1-7 only (PROTOCOL.md 5.1): a mailbox's store, which holds no
 * scope key, stores what it can verify and cannot open (PROTOCOL.md 14);
 * every reader of the entry later runs all eight. */
#define MM_VERIFY_BLIND 0x4u
/* There is no flag to skip a signature, neither of an entry received from
 * anyone nor of one we have just signed: each entry's own signature must
 * verify before it is stored, whatever later entry's chain covers it
 * (PROTOCOL.md 5.1).  A receiver keeps bulk sync fast by checking a run's
 * signatures in parallel (core/vpool.h, mm_entry_check_sig), never by
 * leaving any out. */

/* Build, encrypt and sign the entry that follows head in feed
 * (author = device, scope->id), under the scope's newest key.  nonce NULL means a fresh random one (the
 * fixed form exists for test vectors).  Writes into out[0..cap), cap at
 * least bodylen + MM_ENTRY_OVERHEAD.  MM_OK; MM_ETOOBIG if the body exceeds
 * MM_BODY_MAX or cap is too small. */
int mm_entry_seal(const mm_keypair_t *device, const mm_scope_t *scope,
                  const mm_head_t *head, uint64_t time,
                  const uint8_t nonce[MM_NONCE_BYTES],
                  const uint8_t *body, size_t bodylen,
                  uint8_t *out, size_t cap, size_t *outlen) MM_NODISCARD;

/* Parse the structure only: canonical encoding, types, sizes, version.
 * Fills *e, e->id and e->digest included (mm_entry_parse_shape, then
 * mm_entry_hash).  Errors: MM_ETOOBIG, MM_ETRUNC, MM_ETRAILING,
 * MM_EMALFORMED, MM_ENONCANON, MM_EVERSION. */
int mm_entry_parse(const uint8_t *buf, size_t len, mm_entry_t *e) MM_NODISCARD;

/* mm_entry_parse without hashing: the same checks and errors, and *e
 * filled except e->id and e->digest (zeroed), which mm_entry_hash fills
 * later, perhaps on another thread (core/vpool.h does, for a received
 * run: the caller then parses only the structure). */
int mm_entry_parse_shape(const uint8_t *buf, size_t len, mm_entry_t *e) MM_NODISCARD;

/* Fill e->digest and e->id of an entry parsed by mm_entry_parse_shape, in
 * one pass of BLAKE2b over its bytes: the signed part is hashed, a copy of
 * that state gives the digest, and the original goes on over the signature
 * field for the id.  The same values as two hashes of their own. */
void mm_entry_hash(mm_entry_t *e);

/* THE verifier.  Every path that stores an entry, local or received, goes
 * through it, every entry with its own signature checked (by mm_entry_check,
 * or by mm_entry_check_sig with mm_entry_sig's answer for it).  In order:
 * mm_entry_parse errors; MM_ESCOPE (scope is NULL or not the entry's, or the
 * author's identity is not a member); MM_ENOCERT (no cert); MM_EBADCERT
 * (cert is not for this author, or is a mailbox's: MM_CERT_MAILBOX); MM_EREVOKED (ctx->revoked and seq above
 * ctx->revoked_last); MM_ESEQDUP (seq <= head); MM_ESEQGAP (seq >
 * head + 1); MM_EPREV (prev is not the head's id, or not nil at seq 1);
 * MM_EBADSIG; MM_EDECRYPT (box opens under none of the scope's keys);
 * MM_EBODY (plaintext is not a valid body); then whatever ctx->on_body
 * returns.  The cert must already have passed
 * mm_cert_parse.  On MM_OK *out describes the entry. */
int mm_entry_verify(const uint8_t *buf, size_t len, const mm_verify_ctx_t *ctx,
                    unsigned flags, mm_entry_t *out) MM_NODISCARD;

/* The verifier's second half, for a caller that already parsed the entry
 * with mm_entry_parse (to learn its feed): everything after parsing, with
 * the same errors.  mm_entry_verify = mm_entry_parse + mm_entry_check. */
int mm_entry_check(const mm_entry_t *e, const mm_verify_ctx_t *ctx, unsigned flags) MM_NODISCARD;

/* The verifier's signature step alone (step MM_EBADSIG above): the
 * author's Ed25519 signature over MM_CTX_ENTRY || e->digest (BLAKE2b-256
 * of the bytes before field 8) of an entry parsed by mm_entry_parse (or
 * hashed by mm_entry_hash).  MM_OK or MM_EBADSIG.  Reads only e, so any
 * number of threads may run it at once (core/vpool.h does, on the
 * entries of a received run). */
int mm_entry_sig(const mm_entry_t *e) MM_NODISCARD;

/* mm_entry_hash(e), then mm_entry_sig(e): the context-free part of the
 * verifier for an entry parsed by mm_entry_parse_shape.  Writes only
 * e->digest and e->id, so threads may run it at once on distinct entries
 * (the verifier pool does, on a received run). */
int mm_entry_hash_sig(mm_entry_t *e) MM_NODISCARD;

/* mm_entry_check for a caller that has already run the signature step on
 * this very e: sig_rc is what mm_entry_sig(e) returned, and stands in that
 * step's place; every other step runs here, in the same order, so the
 * answer is mm_entry_check's.  Any sig_rc but MM_OK is MM_EBADSIG.  A
 * caller without mm_entry_sig's answer for e calls mm_entry_check. */
int mm_entry_check_sig(const mm_entry_t *e, const mm_verify_ctx_t *ctx, unsigned flags,
                       int sig_rc) MM_NODISCARD;

/* Decrypt e's body with one key into out[0..cap), cap >= e->boxlen - 16.
 * MM_OK with *outlen; MM_EDECRYPT; MM_ETOOBIG if cap is too small.  For a
 * test that checks what one key opens: readers use mm_entry_open_scope. */
int mm_entry_open(const mm_entry_t *e, const uint8_t key[MM_KEY_BYTES],
                  uint8_t *out, size_t cap, size_t *outlen) MM_NODISCARD;

/* Decrypt e's body under the keys of its scope s (newest first, through
 * mm_scope_open): how every reader opens an entry.  Errors as
 * mm_entry_open. */
int mm_entry_open_scope(const mm_entry_t *e, const mm_scope_t *s,
                        uint8_t *out, size_t cap, size_t *outlen) MM_NODISCARD;

#endif
