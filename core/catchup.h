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

/* How stale a peer's last_sync and a device's seen may grow before a
 * session that moved nothing records them (PROTOCOL.md 6); the variable
 * MM_CATCHUP_RECORD_ENV (ms, read at each call, at most this) lowers it
 * for tests. */
#define MM_CATCHUP_RECORD_MS  ((uint64_t) 10 * 60 * 1000)
#define MM_CATCHUP_RECORD_ENV "MM_SYNC_RECORD_MS"

/* What a completed sync session with identity (via its device, NULL if
 * unknown) records, in a transaction of its own: mm_catchup_synced and
 * mm_device_seen at now.  A session that moved nothing (moved 0: no entry
 * sent or stored) writes them only when that is news: identity is still to
 * be caught up with, or the stored last_sync or seen is missing or
 * MM_CATCHUP_RECORD_MS old; otherwise it writes nothing at all, so that a
 * no-op sync makes no durable write (one fsync less on each side).  An
 * identity that is neither a peer nor own has only its device's seen
 * recorded.  MM_OK; MM_ECORRUPT; MM_EBUSY; MM_EFULL; MM_EIO. */
int mm_catchup_record(mm_store_t *store, const uint8_t own[32], const uint8_t identity[32],
                      const uint8_t *device, uint64_t now, int moved) MM_NODISCARD;

/* Remove identity from the set, synced or not (a purged peer: there is
 * nothing left to catch up on).  MM_OK; MM_EFULL; MM_EIO. */
int mm_catchup_del(mm_txn_t *txn, const uint8_t identity[32]) MM_NODISCARD;

#endif
