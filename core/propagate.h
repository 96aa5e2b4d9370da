/*  propagate.h -- own devices learn of each other's scopes and peers.
 *
 *  A person's devices share the self scope.  Whatever a device creates or
 *  changes that is not itself in the log -- a relationship scope and its
 *  keys, a peer record -- it also writes as an entry into the self scope,
 *  and every own device that stores the entry applies it, in the same
 *  transaction (PROTOCOL.md 5.4):
 *
 *    {t:"scope", created uint, id bin32, keys array of bin32, kind uint,
 *     members array of bin32}     create the scope if unknown, else add the
 *                                 keys it lacks (kind and members of a known
 *                                 scope never change)
 *    {t:"peer", added uint, blocked bool, identity bin32, name text,
 *     petname text, role "mentor"|"mentee", scope bin32}
 *                                 insert or update the peer record (petname
 *                                 made unique if another peer has it; this
 *                                 device's last_sync, device and endpoints
 *                                 are kept)
 *    {t:"peer-rm", identity bin32, purge bin32 (optional)}
 *                                 delete the peer record; with purge (the
 *                                 relationship scope's id), also purge the
 *                                 relationship (core/purge.h)
 *
 *  Applied only when the entry is in this home's self scope and its
 *  author's certified identity is this home's identity; anything else is
 *  stored like any entry and otherwise ignored.
 */
#ifndef MM_PROPAGATE_H
#define MM_PROPAGATE_H

#include <stddef.h>
#include <stdint.h>
#include "crypto/error.h"
#include "crypto/sign.h"
#include "core/store.h"
#include "core/scope.h"
#include "core/peer.h"
#include "core/purge.h"

/* Append a `scope` body describing the stored scope scope_id (its current
 * keys) to device's feed in its self scope.  MM_OK; MM_ENOTFOUND (no such
 * scope, or no self scope); mm_log_append's errors. */
int mm_propagate_scope(mm_txn_t *txn, const mm_keypair_t *device, const uint8_t scope_id[32],
                       uint64_t now) MM_NODISCARD;

/* Append a `peer` body of the stored record of identity to device's feed
 * in its self scope.  MM_OK; MM_ENOTFOUND; mm_log_append's errors. */
int mm_propagate_peer(mm_txn_t *txn, const mm_keypair_t *device, const uint8_t identity[32],
                      uint64_t now) MM_NODISCARD;

/* Append a `peer-rm` body for identity to device's feed in its self scope.
 * MM_OK; mm_log_append's errors. */
int mm_propagate_peer_rm(mm_txn_t *txn, const mm_keypair_t *device,
                         const uint8_t identity[32], uint64_t now) MM_NODISCARD;

/* Store peer record p (mm_peer_put) and tell own devices (a `peer` entry
 * by device), in txn: what a rename, block or unblock does.  Errors as
 * mm_peer_put, then mm_propagate_peer's. */
int mm_propagate_peer_save(mm_txn_t *txn, const mm_keypair_t *device, const mm_peer_t *p,
                           uint64_t now) MM_NODISCARD;

/* Delete the peer record of identity (mm_peer_del) and tell own devices
 * (a `peer-rm` entry by device).  MM_OK; MM_ENOTFOUND; mm_log_append's
 * errors. */
int mm_propagate_peer_remove(mm_txn_t *txn, const mm_keypair_t *device,
                             const uint8_t identity[32], uint64_t now) MM_NODISCARD;

/* mm peer rm --purge, in txn: delete the peer record of identity, purge
 * its relationship (core/purge.h: the scope named in the record, its
 * feeds, the person's certificates no entry needs) and tell own devices
 * (a `peer-rm` entry with `purge` by device), which do the same.  *out
 * (may be NULL) gets the counts.  MM_OK; MM_ENOTFOUND (no such peer);
 * mm_purge_relationship's and mm_log_append's errors. */
int mm_propagate_peer_purge(mm_txn_t *txn, const mm_keypair_t *device,
                            const uint8_t identity[32], uint64_t now,
                            mm_purge_t *out) MM_NODISCARD;

/* 1 if a body of type t[0..n) is one mm_propagate_apply acts on. */
int mm_propagate_is(const uint8_t *pt, size_t len);

/* Apply a checked body pt[0..len) of an entry in scope by a device of
 * author_identity, for the home of identity home: only if scope is home's
 * self scope and author_identity is home (else MM_OK, nothing done).
 * *changed (may be NULL) is set to 1 if scope's own record changed (keys
 * were added to it).  MM_OK (also: a body that cannot apply, such as a
 * petname no name can be made of, is skipped); MM_ECORRUPT; MM_EFULL;
 * MM_EIO. */
int mm_propagate_apply(mm_txn_t *txn, const uint8_t home[32], const mm_scope_t *scope,
                       const uint8_t author_identity[32], const uint8_t *pt, size_t len,
                       int *changed) MM_NODISCARD;

#endif
