/*  target.h -- whom a sync with "everyone" talks to.
 *
 *  `mm sync` without a PEER and `mm serve --sync-every` take the same list:
 *  every peer that is not blocked and has an address (in its record, or
 *  one a device of theirs announced), then every other current device of
 *  ours that announced where its mm serve listens (own devices are
 *  replicas: each is a sync of its own).  Which targets exist is a rule
 *  of core; connecting to one is net's (mm_net_sync takes target.p).
 */
#ifndef MM_TARGET_H
#define MM_TARGET_H

#include <stddef.h>
#include <stdint.h>
#include "crypto/error.h"
#include "core/store.h"
#include "core/peer.h"

/* The kinds of target. */
#define MM_TARGET_PEER 1            /* a peer: mm_net_sync tries its devices */
#define MM_TARGET_OWN  2            /* another device of ours: that device only */

typedef struct {
    int       kind;                 /* MM_TARGET_... */
    uint8_t   id[32];               /* names it across listings: the peer's identity,
                                       our device's key */
    /* What mm_net_sync takes.  For an own device: our identity, its device
     * key, its certificate's name as petname, no endpoints of its own (those
     * it announced are used). */
    mm_peer_t p;
} mm_target_t;

typedef struct {
    mm_target_t *v;
    size_t       n, cap;
    size_t       blocked;           /* blocked peers with an address (not in v) */
} mm_targets_t;

/* Append every target (see above) to t, in that order: peers in identity
 * order, then own devices in device key order.  me is our identity,
 * device this device's key (never a target).  Counts t->blocked.  MM_OK;
 * MM_ENOMEM; store errors (t keeps what was added; free it either way). */
int mm_targets_all(mm_txn_t *txn, const uint8_t me[32], const uint8_t device[32],
                   mm_targets_t *t) MM_NODISCARD;

/* Append one target of kind for record p, unless t already holds it (the
 * same kind and id: a peer named twice is synced once).  MM_OK (also when
 * already there); MM_ENOMEM; MM_EINVAL (an unknown kind). */
int mm_targets_add(mm_targets_t *t, int kind, const mm_peer_t *p) MM_NODISCARD;

/* Free t's list and zero it.  NULL-safe. */
void mm_targets_free(mm_targets_t *t);

#endif
