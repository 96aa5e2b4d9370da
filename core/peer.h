/*  peer.h -- the people this person syncs with: local, mutable records.
 *
 *  A peer record is this device's own bookkeeping (petname, endpoints,
 *  blocked, last sync), not part of the signed log, so it can change in
 *  place.  What the two people share lives in their relationship scope.
 *
 *  Stored in table "peers", key identity pk (32), value
 *  fixarray(10) [ version=1, petname str, role uint, scope bin32,
 *                 device bin32, endpoints array of str, blocked bool,
 *                 added uint ms, last_sync uint ms (0: never), their name str ]
 */
#ifndef MM_PEER_H
#define MM_PEER_H

#include <stddef.h>
#include "crypto/error.h"
#include <stdint.h>
#include "core/store.h"

#define MM_PETNAME_MAX      64
#define MM_ENDPOINT_MAX     255
#define MM_PEER_ENDPOINTS   4
#define MM_PEER_RECORD_MAX  2048

/* The peer's role towards me. */
#define MM_ROLE_MENTOR 1            /* they mentor me */
#define MM_ROLE_MENTEE 2            /* I mentor them */

typedef struct {
    uint8_t  identity[32];
    char     petname[MM_PETNAME_MAX + 1];
    unsigned role;
    uint8_t  scope[32];             /* our relationship scope */
    uint8_t  device[32];            /* their device I connect to (its key is the CURVE server key) */
    unsigned nendpoints;
    char     endpoints[MM_PEER_ENDPOINTS][MM_ENDPOINT_MAX + 1];
    int      blocked;
    uint64_t added;
    uint64_t last_sync;
    char     name[MM_PETNAME_MAX + 1];  /* the name they gave themselves */
} mm_peer_t;

/* Insert or replace the record of p->identity.  MM_OK; MM_EINVAL (bad
 * petname, endpoint or count); MM_EEXIST (another peer has that petname);
 * MM_EFULL; MM_EIO. */
int mm_peer_put(mm_txn_t *txn, const mm_peer_t *p) MM_NODISCARD;

/* The record of identity.  MM_OK, MM_ENOTFOUND, MM_ECORRUPT. */
int mm_peer_get(mm_txn_t *txn, const uint8_t identity[32], mm_peer_t *p) MM_NODISCARD;

/* Record that a session with identity completed at now: sets last_sync,
 * nothing else.  The one place that writes it.  MM_OK; MM_ENOTFOUND (not a
 * peer, e.g. one's own device); MM_ECORRUPT; MM_EFULL; MM_EIO. */
int mm_peer_touch(mm_txn_t *txn, const uint8_t identity[32], uint64_t now) MM_NODISCARD;

/* Delete the record (the log keeps everything).  MM_OK or MM_ENOTFOUND. */
int mm_peer_del(mm_txn_t *txn, const uint8_t identity[32]) MM_NODISCARD;

/* Find a peer by petname (exact after Unicode simple case folding, fold.h;
 * two peers never share a folded petname) or by a prefix of its
 * identity code ("mmi..." of at least 6 characters).  MM_OK; MM_ENOTFOUND;
 * MM_EAMBIG. */
int mm_peer_find(mm_txn_t *txn, const char *what, mm_peer_t *p) MM_NODISCARD;

/* Call fn for every peer in identity order; non-zero from fn stops. */
typedef int (*mm_peer_fn)(const mm_peer_t *p, void *arg);
int mm_peer_foreach(mm_txn_t *txn, mm_peer_fn fn, void *arg) MM_NODISCARD;

/* Store a record as it was stored elsewhere (a restore, core/backup.h), its
 * bytes unchanged: it must decode (MM_ECORRUPT otherwise).  Replaces
 * nothing: MM_EEXIST if identity has a record.  MM_EFULL; MM_EIO. */
int mm_peer_put_raw(mm_txn_t *txn, const uint8_t identity[32], const uint8_t *rec,
                    size_t len) MM_NODISCARD;
/* Call fn for every peer record as stored, keyed by identity.  Non-zero
 * from fn stops the walk and is returned. */
int mm_peer_foreach_raw(mm_txn_t *txn, mm_row_fn fn, void *arg) MM_NODISCARD;

/* 1 if s is a valid petname: 1..64 bytes of UTF-8, no control characters,
 * not starting with "mmi" (that prefix names identity codes) */
int mm_peer_name_valid(const char *s);

/* 1 if s looks like a ZeroMQ TCP endpoint "tcp://HOST:PORT" we can use. */
int mm_endpoint_valid(const char *s);

#endif
