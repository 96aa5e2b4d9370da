/*  catchup.h -- a restored home catching up with its peers and own devices.
 *
 *  A home restored from a backup (core/backup.h) may lack what was written
 *  after the backup was made: a mentee's question, a queue entry another
 *  own device wrote.  Until it has synced once with every peer (and with
 *  its own identity's other devices, if it had any) it must not settle the
 *  budget, which would decide on a partial view (PROTOCOL.md 12.4).
 *
 *  Table "catchup" (store format 3): identity pk (32) -> empty value, one
 *  row per identity still to sync with.  Restore fills it; each complete
 *  sync session with an identity removes that identity; empty (or absent,
 *  in an older store) means caught up.  Local bookkeeping, never sent.
 */
#ifndef MM_CATCHUP_H
#define MM_CATCHUP_H

#include <stddef.h>
#include <stdint.h>
#include "crypto/error.h"
#include "core/store.h"

/* Add identity to the set (write txn).  MM_OK (also if it is there);
 * MM_ECORRUPT (no catchup table); MM_EFULL; MM_EIO. */
int mm_catchup_add(mm_txn_t *txn, const uint8_t identity[32]) MM_NODISCARD;

/* How many identities are still to catch up with; out[0..min(*n, max))
 * gets the first max of them in identity order (out may be NULL with max
 * 0).  MM_OK; store errors. */
int mm_catchup_pending(mm_txn_t *txn, uint8_t (*out)[32], size_t max, size_t *n) MM_NODISCARD;

/* A sync session with identity completed at now (the one call of net/ at
 * the end of a complete session): records it in the peer record
 * (mm_peer_touch) and removes identity from the set.  own is this home's
 * identity: a session with one's own other device has no peer record to
 * touch and is still an MM_OK.  MM_OK; MM_ENOTFOUND (neither a peer nor
 * own); MM_ECORRUPT; MM_EFULL; MM_EIO. */
int mm_catchup_synced(mm_txn_t *txn, const uint8_t own[32], const uint8_t identity[32],
                      uint64_t now) MM_NODISCARD;

/* Remove identity from the set, synced or not (a purged peer: there is
 * nothing left to catch up on).  MM_OK; MM_EFULL; MM_EIO. */
int mm_catchup_del(mm_txn_t *txn, const uint8_t identity[32]) MM_NODISCARD;

#endif
