/*  scope.h -- scopes: the audience of a feed, and its encryption key.
 *
 *  A scope fixes forever who may receive the feeds written in it: its member
 *  identities.  Every member's devices share the scope's 32-byte keys, under
 *  which all bodies in the scope are encrypted.  The self scope has one
 *  member (the person); a relationship scope has two.
 *
 *  A scope has one key per epoch (PROTOCOL.md 4.1): the first made with the
 *  scope, then one more each time it is rekeyed (core/rekey.h), when a
 *  device loses its access.  Writers seal with the newest key; readers try
 *  the keys newest first (mm_scope_open).  Old keys are kept so that what
 *  was written before a rekey stays readable.
 *
 *  Stored record (value in the "scopes" table, keyed by scope id):
 *  version 2 (written): fixarray(5) [ 2, kind (uint),
 *                keys (array of bin 32, 1..MM_SCOPE_KEYS_MAX, oldest first),
 *                members (array of bin 32, 1..MM_SCOPE_MEMBERS_MAX),
 *                created (uint ms) ]
 *  version 1 (still read): fixarray(5) [ 1, kind, key (bin 32), members,
 *                created ]: one key.
 */
#ifndef MM_SCOPE_H
#define MM_SCOPE_H

#include <stddef.h>
#include "crypto/error.h"
#include <stdint.h>
#include "core/store.h"

#define MM_SCOPE_SELF 1
#define MM_SCOPE_PAIR 2
/* A scope a mailbox holds as its owner told it (PROTOCOL.md 14): id and
 * members, no key (the keys array is empty; no other kind has an empty
 * one).  Entries of it are stored after checks 1-7 of the verifier. */
#define MM_SCOPE_BLIND 3
#define MM_SCOPE_MEMBERS_MAX 2
#define MM_SCOPE_KEYS_MAX 64
/* a v2 record with MM_SCOPE_KEYS_MAX keys and two members: 2262 bytes */
#define MM_SCOPE_RECORD_MAX 2304

typedef struct {
    uint8_t  id[32];
    unsigned kind;
    unsigned nkeys;                             /* 1..MM_SCOPE_KEYS_MAX; 0: MM_SCOPE_BLIND */
    uint8_t  keys[MM_SCOPE_KEYS_MAX][32];       /* secret; oldest first, newest last */
    unsigned nmembers;
    uint8_t  members[MM_SCOPE_MEMBERS_MAX][32]; /* identity public keys */
    uint64_t created;
} mm_scope_t;

/* The id of identity's self scope: BLAKE2b-256("mm self scope v1" || pk). */
void mm_scope_self_id(uint8_t id[32], const uint8_t identity_pk[32]);

/* 1 if identity_pk is a member of s. */
int mm_scope_has_member(const mm_scope_t *s, const uint8_t identity_pk[32]);

/* The key writers seal with: the newest, keys[nkeys - 1]. */
static inline const uint8_t *mm_scope_key(const mm_scope_t *s)
{
    return s->keys[s->nkeys - 1];
}

/* Make key the scope's one key (nkeys = 1): for a scope being created. */
void mm_scope_set_key(mm_scope_t *s, const uint8_t key[32]);

/* 1 if key is one of s's keys. */
int mm_scope_has_key(const mm_scope_t *s, const uint8_t key[32]);

/* Open an AEAD box of this scope: try its keys newest first, so that the
 * common case (one key, or an entry of the current epoch) costs one try.
 * The one place where a box is opened with a scope key (entries, and any
 * other box sealed to a scope).  out[0..boxlen - 16) gets the plaintext;
 * *which (may be NULL) the index in s->keys of the key that opened it.
 * MM_OK; MM_EDECRYPT (no key of s opens it). */
int mm_scope_open(const mm_scope_t *s, uint8_t *out, const uint8_t *box, size_t boxlen,
                  const uint8_t *ad, size_t adlen, const uint8_t *nonce,
                  unsigned *which) MM_NODISCARD;

/* Encode s (without its id, which is the table key).  MM_OK; MM_ETOOBIG;
 * MM_EINVAL if s has no members or more than MM_SCOPE_MEMBERS_MAX, or no
 * keys or more than MM_SCOPE_KEYS_MAX.  Always writes version 2. */
int mm_scope_encode(const mm_scope_t *s, uint8_t *out, size_t cap, size_t *outlen) MM_NODISCARD;

/* Decode a record into *s (s->id is left untouched).  MM_OK, MM_ETRUNC,
 * MM_ETRAILING, MM_EMALFORMED (also: 0 or too many members or keys),
 * MM_ENONCANON, MM_EVERSION (neither 1 nor 2), MM_ETOOBIG (record longer
 * than MM_SCOPE_RECORD_MAX). */
int mm_scope_decode(const uint8_t *buf, size_t len, mm_scope_t *s) MM_NODISCARD;

/* Wipe the key and everything else in s. */
void mm_scope_wipe(mm_scope_t *s);

/* Store a scope record in table "scopes".  Replaces nothing: MM_EEXIST if
 * the id is taken. */
int mm_scope_put(mm_txn_t *txn, const mm_scope_t *s) MM_NODISCARD;
/* MM_OK, MM_ENOTFOUND, MM_ECORRUPT.  Wipe *s with mm_scope_wipe after use. */
int mm_scope_get(mm_txn_t *txn, const uint8_t id[32], mm_scope_t *s) MM_NODISCARD;

/* Store a record as it was stored elsewhere (a restore, core/backup.h), its
 * bytes unchanged: it must decode (mm_scope_decode's errors).  Replaces
 * nothing: MM_EEXIST if the id is taken.  MM_EFULL; MM_EIO. */
int mm_scope_put_raw(mm_txn_t *txn, const uint8_t id[32], const uint8_t *rec,
                     size_t len) MM_NODISCARD;
/* Call fn for every scope record as stored, keyed by id (secret: the record
 * holds the key).  Non-zero from fn stops the walk and is returned. */
int mm_scope_foreach_raw(mm_txn_t *txn, mm_row_fn fn, void *arg) MM_NODISCARD;

/* Call fn for every stored scope, in id order (wiped after each call).
 * Non-zero from fn stops the walk and is returned.  MM_OK; MM_ECORRUPT. */
typedef int (*mm_scope_fn)(const mm_scope_t *s, void *arg);
int mm_scope_foreach(mm_txn_t *txn, mm_scope_fn fn, void *arg) MM_NODISCARD;

/* Add key as the newest key of scope id (the next epoch).  Idempotent: a
 * key the scope holds already changes nothing (MM_OK).  MM_OK;
 * MM_ENOTFOUND; MM_ETOOBIG (the scope has MM_SCOPE_KEYS_MAX keys already);
 * MM_ECORRUPT; MM_EFULL; MM_EIO. */
int mm_scope_add_key(mm_txn_t *txn, const uint8_t id[32], const uint8_t key[32]) MM_NODISCARD;

/* Delete the record of scope id (mm peer rm --purge, after its feeds).
 * MM_OK; MM_ENOTFOUND; MM_EFULL; MM_EIO. */
int mm_scope_del(mm_txn_t *txn, const uint8_t id[32]) MM_NODISCARD;

#endif
