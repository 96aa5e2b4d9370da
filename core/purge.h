/*  purge.h -- mm peer rm --purge: forgetting a relationship, log and all.
 *
 *  The log is append-only everywhere else: a relationship's feeds go only
 *  when the person asks, on a device of theirs, for the peer to be purged.
 *  Then, in one transaction: the relationship scope's record and every
 *  feed of it (entries and heads, whoever wrote them), its question index
 *  rows and recorded forks; every certificate of the peer's person that
 *  no stored entry is by any more, with the revocations, endpoints
 *  statement and last session of each such device; the peer's catch-up
 *  row.  The caller deletes the peer record and tells own devices
 *  (core/propagate.h, a `peer-rm` with `purge`), which do the same when
 *  they apply it (PROTOCOL.md 5.4).
 */
#ifndef MM_PURGE_H
#define MM_PURGE_H

#include <stddef.h>
#include <stdint.h>
#include "crypto/error.h"
#include "core/store.h"

typedef struct {
    uint64_t entries;               /* entries deleted */
    unsigned devices;               /* devices forgotten (their certificates) */
    int      scope;                 /* 1 if the scope record was there and went */
} mm_purge_t;

/* Purge the relationship of identity whose scope is scope (write txn), as
 * above.  The scope must be a relationship scope (kind 2) with identity
 * among its members; one not stored is skipped (purged already) and the
 * certificates are still looked at.  The self scope is never touched.
 * *out (may be NULL) gets the counts.  MM_OK; MM_EINVAL (the scope is not
 * identity's relationship scope, or identity is this home's own);
 * MM_ECORRUPT; MM_ENOMEM; MM_EFULL; MM_EIO. */
int mm_purge_relationship(mm_txn_t *txn, const uint8_t identity[32], const uint8_t scope[32],
                          mm_purge_t *out) MM_NODISCARD;

/* 1 if this home purged identity (meta "purged-HEX", set by
 * mm_purge_relationship) and it is no peer again since: an own device that
 * has not applied the purge yet may still tell of that person's devices,
 * which are then not stored again (PROTOCOL.md 5.4).  0 otherwise, also on
 * a store error. */
int mm_purge_forgotten(mm_txn_t *txn, const uint8_t identity[32]);

/* 1 if this home purged scope (meta "purged-HEX") and holds no record of
 * it: a peer that kept the relationship, or an own device that has not
 * applied the purge yet, still offers its feeds, which are acknowledged
 * and not stored (PROTOCOL.md 8.3).  0 otherwise, also on a store error. */
int mm_purge_scope_gone(mm_txn_t *txn, const uint8_t scope[32]);

#endif
