/*  fork.h -- forks: two validly signed, different entries at one position
 *  of one feed (a device key used on two homes, PROTOCOL.md 8.7).
 *
 *  A feed has one writer, so two entries at one (author, scope, seq) can
 *  only mean that the author's secret key is on two homes (a copied home).
 *  The proof is the pair itself: both verify under the author's certified
 *  key and differ.  Nothing short of that pair marks a key forked, so a
 *  peer that only claims a different head cannot stop anyone writing.
 *
 *  Table "forks": key author (32) || scope (32), value the canonical record
 *  fixarray(4) [1, seq uint, entry a bin, entry b bin], a and b ordered by
 *  id (the smaller first).  One record per feed: the lowest seq seen.
 *  When the author is this home's own device key, meta "forked" is set to
 *  author (32) || scope (32) || seq (8, big-endian) and mm_log_append then
 *  refuses every write of that key (MM_EFORKED), in every scope.
 */
#ifndef MM_FORK_H
#define MM_FORK_H

#include <stddef.h>
#include <stdint.h>
#include "crypto/error.h"
#include "core/store.h"
#include "core/entry.h"

#define MM_FORK_VERSION 1
#define MM_FORK_META    "forked"

/* Check buf as an entry that may be half of a fork proof: it parses
 * (mm_entry_parse's errors), the receiver holds a certificate for its
 * author (MM_ENOCERT; MM_EBADCERT if it is not for that key), and its
 * signature verifies (MM_EBADSIG).  Its seq and prev are not checked
 * against the store: such an entry is by definition not the stored one.
 * On MM_OK *e describes it (pointing into buf). */
int mm_fork_check_entry(mm_txn_t *txn, const uint8_t *buf, size_t len,
                        mm_entry_t *e) MM_NODISCARD;

/* Verify a and b as a fork proof and record it (write txn): each passes
 * mm_fork_check_entry, they are of one author, scope and seq (MM_EPROTO)
 * and differ (MM_EPROTO).  A record already held for that feed at a seq
 * not above is kept.  If the author is this home's device key, meta
 * "forked" is set (kept if set already at a lower seq).  *self (may be
 * NULL) gets 1 when the author is this home's device key, and *out (may
 * be NULL) the parsed a.  MM_OK; the errors above; MM_EFULL, MM_EIO. */
int mm_fork_record(mm_txn_t *txn, const uint8_t *a, size_t alen, const uint8_t *b,
                   size_t blen, int *self, mm_entry_t *out) MM_NODISCARD;

/* The recorded fork of feed (author, scope): its seq and both entries,
 * pointing into the map until the txn ends.  MM_OK, MM_ENOTFOUND,
 * MM_ECORRUPT. */
typedef struct {
    uint64_t       seq;
    const uint8_t *a, *b;
    size_t         alen, blen;
} mm_fork_t;
int mm_fork_get(mm_txn_t *txn, const uint8_t author[32], const uint8_t scope[32],
                mm_fork_t *out) MM_NODISCARD;

/* Is device key `device` marked forked on this home?  MM_OK with *forked
 * 0/1; when 1, *scope (may be NULL, 32 bytes) and *seq (may be NULL) say
 * where: the entries before seq stay undisputed.  Store errors. */
int mm_fork_self(mm_txn_t *txn, const uint8_t device[32], int *forked, uint8_t *scope,
                 uint64_t *seq) MM_NODISCARD;

/* Number of recorded forks (any author).  Store errors. */
int mm_fork_count(mm_txn_t *txn, uint64_t *n) MM_NODISCARD;

/* Call fn for every recorded fork, in (author, scope) order (a backup
 * copies them: core/backup.h); the entries point into the map until the
 * txn ends.  Non-zero from fn stops the walk and is returned.  MM_OK (no
 * forks table: nothing); MM_ECORRUPT; store errors. */
typedef int (*mm_fork_fn)(const uint8_t author[32], const uint8_t scope[32],
                          const mm_fork_t *fork, void *arg);
int mm_fork_foreach(mm_txn_t *txn, mm_fork_fn fn, void *arg) MM_NODISCARD;

/* Delete the recorded forks of every feed of scope (write txn; mm peer rm
 * --purge drops the feeds too).  MM_OK; MM_ENOMEM; MM_EFULL; MM_EIO. */
int mm_fork_drop_scope(mm_txn_t *txn, const uint8_t scope[32]) MM_NODISCARD;

#endif
