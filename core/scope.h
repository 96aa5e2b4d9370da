/*  scope.h -- scopes: the audience of a feed, and its encryption key.
 *
 *  A scope fixes forever who may receive the feeds written in it: its member
 *  identities.  Every member's devices share the scope's 32-byte key, under
 *  which all bodies in the scope are encrypted.  The self scope has one
 *  member (the person); a relationship scope has two.
 *
 *  Stored record (value in the "scopes" table, keyed by scope id):
 *  fixarray(5) [ version=1, kind (uint), key (bin 32),
 *                members (array of bin 32, 1..MM_SCOPE_MEMBERS_MAX),
 *                created (uint ms) ]
 */
#ifndef MM_SCOPE_H
#define MM_SCOPE_H

#include <stddef.h>
#include "crypto/error.h"
#include <stdint.h>
#include "core/store.h"

#define MM_SCOPE_SELF 1
#define MM_SCOPE_PAIR 2
#define MM_SCOPE_MEMBERS_MAX 2
#define MM_SCOPE_RECORD_MAX 160

typedef struct {
    uint8_t  id[32];
    unsigned kind;
    uint8_t  key[32];                           /* secret */
    unsigned nmembers;
    uint8_t  members[MM_SCOPE_MEMBERS_MAX][32]; /* identity public keys */
    uint64_t created;
} mm_scope_t;

/* The id of identity's self scope: BLAKE2b-256("mm self scope v1" || pk). */
void mm_scope_self_id(uint8_t id[32], const uint8_t identity_pk[32]);

/* 1 if identity_pk is a member of s. */
int mm_scope_has_member(const mm_scope_t *s, const uint8_t identity_pk[32]);

/* Encode s (without its id, which is the table key).  MM_OK; MM_ETOOBIG;
 * MM_EINVAL if s has no members or more than MM_SCOPE_MEMBERS_MAX. */
int mm_scope_encode(const mm_scope_t *s, uint8_t *out, size_t cap, size_t *outlen) MM_NODISCARD;

/* Decode a record into *s (s->id is left untouched).  MM_OK, MM_ETRUNC,
 * MM_ETRAILING, MM_EMALFORMED (also: 0 or too many members), MM_ENONCANON,
 * MM_EVERSION, MM_ETOOBIG (record longer than MM_SCOPE_RECORD_MAX). */
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

#endif
