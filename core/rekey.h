/*  rekey.h -- a scope's next key epoch, delivered only to chosen devices.
 *
 *  When a device loses its access (revocation), every scope it could read
 *  gets a new key (PROTOCOL.md 4.1).  The new key travels in a `rekey`
 *  entry of the rekeying device's feed in that very scope:
 *
 *    body {t:"rekey", keys: array of fixarray(2) [device bin 32, sealed bin 80]}
 *    sealed = crypto_box_seal(new key, X25519 form of device's Ed25519 pk)
 *
 *  The entry is sealed under the scope's current newest key, so every
 *  member device, the excluded one included, can read the body; the new
 *  key itself opens only for the devices listed.  From the next write on,
 *  entries of the scope are sealed under the new key, which the excluded
 *  device never learns: what is written after the rekey stays closed to it
 *  even if it obtains the bytes.
 *
 *  Applying: whenever a `rekey` entry is stored (own append or received
 *  run, in the same transaction), if its author's identity is a member of
 *  the scope and this device is listed, this device opens its sealed key
 *  and adds it to the scope (mm_scope_add_key).  A rekey that lists this
 *  device with a box that does not open is ignored, as is one from a
 *  non-member (which the verifier refuses anyway).
 */
#ifndef MM_REKEY_H
#define MM_REKEY_H

#include <stddef.h>
#include <stdint.h>
#include "crypto/error.h"
#include "crypto/sign.h"
#include "core/store.h"
#include "core/scope.h"

#define MM_REKEY_MAX          64    /* devices one rekey delivers to */
#define MM_REKEY_SEALED_BYTES 80    /* crypto_box_SEALBYTES (48) + a 32-byte key */

/* Devices that must receive a new key of scope: every device with a stored
 * certificate whose identity is a member of scope, except exclude (may be
 * NULL), in device key order, into out[0..cap).  *n gets the count.  This
 * device is among them (it has its own certificate).  MM_OK; MM_ETOOBIG
 * (more than cap); MM_ECORRUPT; MM_EIO. */
int mm_rekey_recipients(mm_txn_t *txn, const mm_scope_t *scope, const uint8_t exclude[32],
                        uint8_t (*out)[32], size_t cap, size_t *n) MM_NODISCARD;

/* Give scope_id a new random key: append a `rekey` entry to device's feed
 * in the scope carrying the key sealed to each of recipients[0..n), then
 * add the key to the scope record (writes use it from the next one on).
 * For a relationship scope, also append a `scope` entry with the new key
 * list to the self scope (core/propagate.h), for own devices paired later.
 * id_out (may be NULL) gets the rekey entry's id.  MM_OK; MM_EINVAL (n is
 * 0 or above MM_REKEY_MAX, or a recipient is not a valid Ed25519 key);
 * MM_ENOTFOUND (no such scope); MM_ETOOBIG (the scope has MM_SCOPE_KEYS_MAX
 * keys); mm_log_append's errors. */
int mm_rekey_scope(mm_txn_t *txn, const mm_keypair_t *device, const uint8_t scope_id[32],
                   const uint8_t (*recipients)[32], size_t n, uint64_t now,
                   uint8_t id_out[32]) MM_NODISCARD;

/* Rekey every scope that exclude's identity is a member of (for an own
 * device: every scope), each to mm_rekey_recipients(scope, exclude): the
 * self scope FIRST, so that the `scope` entries the others write into the
 * self scope are already sealed under a key exclude does not hold.
 * *nscopes (may be NULL) gets how many were rekeyed.  MM_OK; MM_ENOTFOUND
 * (no certificate for exclude); mm_rekey_scope's errors. */
int mm_rekey_scopes(mm_txn_t *txn, const mm_keypair_t *device, const uint8_t exclude[32],
                    uint64_t now, size_t *nscopes) MM_NODISCARD;

/* Apply a checked `rekey` body pt[0..len) of an entry in scope by a device
 * of author_identity: if that identity is a member and device (may be
 * NULL: nothing to open) is listed, open its key and add it to the scope.
 * *added (may be NULL) is set to 1 if the scope got a new key.  MM_OK
 * (also: ignored); MM_EBODY (keys not as the schema says);
 * mm_scope_add_key's errors. */
int mm_rekey_apply(mm_txn_t *txn, const mm_keypair_t *device, const mm_scope_t *scope,
                   const uint8_t author_identity[32], const uint8_t *pt, size_t len,
                   int *added) MM_NODISCARD;

/* The order in which a sender sends entries of a scope with more than one
 * key (PROTOCOL.md 8.2): entries from..last of feed (author, scope) cut
 * into segments, each ending with a `rekey` entry or at last; fn gets each
 * segment's first and last seq and its `need`: the greatest index in
 * scope->keys of a key that opens an entry of the segment or of an earlier
 * one of the feed (so needs grow along a feed).  A key's index is when
 * this device learnt it, and it could only learn a key after storing
 * everything sealed under the keys before: sending every segment in order
 * of need (and of the feed within it) lets a receiver open each entry
 * with keys its predecessors brought.  Opens every entry of the range.
 * fn returning an MM_E code stops and is returned.  MM_OK; MM_ECORRUPT (an
 * entry that does not open); MM_ENOMEM. */
typedef int (*mm_rekey_seg_fn)(uint64_t from, uint64_t to, unsigned need, void *arg);
int mm_rekey_segments(mm_txn_t *txn, const mm_scope_t *scope, const uint8_t author[32],
                      uint64_t from, uint64_t last, mm_rekey_seg_fn fn, void *arg) MM_NODISCARD;

#endif
