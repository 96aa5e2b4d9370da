/*  beacon.h -- LAN discovery beacons (PROTOCOL.md 7.1): how a device running
 *  `mm serve --discover` tells its own devices and its peers on the local
 *  network where it listens, without telling anyone else anything.
 *
 *  beacon    = nonce (24) || Seal(bk, nonce, "mm beacon v1\0\0\0\0", plain)
 *              exactly MM_BEACON_SIZE bytes
 *  plain     = fixarray(3) [ version = 1, time (uint ms), statement (bin) ]
 *              || zero bytes up to MM_BEACON_PLAIN
 *  statement = the announcing device's endpoints statement (3.3), as signed
 *  bk        = crypto_kdf_derive_from_key(32, id 1, "mmbeacon", scope key)
 *
 *  One beacon per key, one key per scope this device announces to: its
 *  self scope (its own devices) and each unblocked peer's relationship
 *  scope, always from the scope's newest key.  A round is padded with
 *  random beacons to a power of two.  Without a key a beacon is random
 *  bytes of one size.
 *
 *  Receiving: each beacon is tried once with each key (the same list), and
 *  one that opens is believed only as far as its statement's signature,
 *  the certificate this device holds of the statement's device, and the
 *  scope's members say; a newer statement is stored as DEVICES would
 *  store it (core/endpoint.h).  Core owns every rule here (sizes, keys,
 *  freshness, the budget of trials); net/discover.c moves the bytes.
 */
#ifndef MM_BEACON_H
#define MM_BEACON_H

#include <stddef.h>
#include <stdint.h>
#include "crypto/aead.h"
#include "crypto/error.h"
#include "core/endpoint.h"
#include "core/home.h"

#define MM_BEACON_VERSION     1
#define MM_BEACON_SIZE        1200  /* every beacon, on the wire: one UDP payload */
#define MM_BEACON_PLAIN       (MM_BEACON_SIZE - MM_NONCE_BYTES - MM_TAG_BYTES)   /* 1160 */
#define MM_BEACON_PORT        7462  /* UDP, IPv4 broadcast */
#define MM_BEACON_INTERVAL_MS 30000 /* a device sends a round at most this often */
#define MM_BEACON_FRESH_MS    600000 /* a beacon's time is within this of the receiver's clock */
#define MM_BEACON_KEYS_MAX    256   /* keys per device: self + 255 relationships */
#define MM_BEACON_HEARD_MAX   1024  /* devices whose last beacon time is remembered */
#define MM_BEACON_RATE        64    /* beacons tried per second, on average ... */
#define MM_BEACON_BURST       512   /* ... and at most this many at once */
#define MM_BEACON_ABSENT      3     /* rounds without a beacon: heard again, it reappears */

/* One beacon key, and whose devices it announces and recognises. */
typedef struct {
    uint8_t key[32];                /* secret: bk */
    uint8_t scope[32];
    uint8_t identity[32];           /* the person recognised: oneself (self scope) or the peer */
} mm_beacon_key_t;

typedef struct {
    unsigned        n;              /* keys[0] is the self scope's */
    mm_beacon_key_t keys[MM_BEACON_KEYS_MAX];
} mm_beacon_keys_t;

/* bk from a scope key (libsodium crypto_kdf_derive_from_key: BLAKE2b-256
 * keyed with scope_key, salt = LE64(1) || 8 zero bytes, personal =
 * "mmbeacon" || 8 zero bytes, empty message).  Cannot fail. */
void mm_beacon_derive(uint8_t bk[32], const uint8_t scope_key[32]);

/* The beacon of statement (stmt[0..len)) at time under bk with nonce.
 * MM_OK; MM_ETOOBIG (a statement that does not fit: longer than
 * MM_ENDPOINT_STMT_MAX). */
int mm_beacon_seal(const uint8_t bk[32], const uint8_t nonce[MM_NONCE_BYTES], uint64_t time,
                   const uint8_t *stmt, size_t len, uint8_t out[MM_BEACON_SIZE]) MM_NODISCARD;

/* Open a beacon with bk: plain gets the padded payload, *time and
 * *stmt and *stmtlen (pointing into plain) what it says.  The statement is not
 * parsed.  MM_OK; MM_EINVAL (len != MM_BEACON_SIZE); MM_EDECRYPT (not
 * sealed under bk); MM_EVERSION; MM_EMALFORMED, MM_ENONCANON, MM_ETRUNC
 * (a payload that is not the shape above, or nonzero padding). */
int mm_beacon_open(const uint8_t bk[32], const uint8_t *buf, size_t len,
                   uint8_t plain[MM_BEACON_PLAIN], uint64_t *time, const uint8_t **stmt,
                   size_t *stmtlen) MM_NODISCARD;

/* The keys of this home: the self scope's first, then the relationship
 * scope of every unblocked peer in identity order (a peer without its
 * scope is skipped), each from the scope's newest key; at most
 * MM_BEACON_KEYS_MAX.  Wipe with mm_beacon_keys_wipe.  MM_OK; MM_ENOTFOUND
 * (no self scope); MM_ECORRUPT. */
int mm_beacon_keys(mm_txn_t *txn, const mm_home_t *home, mm_beacon_keys_t *out) MM_NODISCARD;
void mm_beacon_keys_wipe(mm_beacon_keys_t *k);

/* The number of beacons in a round for n keys: the next power of two (0
 * for 0). */
unsigned mm_beacon_round_size(unsigned n);

/* One round: this device's own stored statement sealed under every key
 * of keys at now, each with a fresh random nonce, then random beacons up
 * to mm_beacon_round_size(keys->n), into out[0..cap).  *n gets how many.
 * MM_OK; MM_ENOTFOUND (this device has no statement: nothing to announce);
 * MM_ETOOBIG (cap too small); mm_endpoint_get's errors. */
int mm_beacon_round(mm_txn_t *txn, const mm_home_t *home, const mm_beacon_keys_t *keys,
                    uint64_t now, uint8_t (*out)[MM_BEACON_SIZE], unsigned cap,
                    unsigned *n) MM_NODISCARD;

/* ---- the receiver ---- */

typedef struct mm_beacon_rx mm_beacon_rx_t;

/* What a recognised beacon said. */
typedef struct {
    uint8_t  identity[32];          /* whose device */
    uint8_t  device[32];
    uint64_t time;                  /* the beacon's */
    int      stored;                /* its statement was newer and is stored now */
    int      appeared;              /* first heard since start, or after MM_BEACON_ABSENT rounds */
    mm_endpoint_t endpoints;        /* the statement it carried */
} mm_beacon_heard_t;

/* A receiver with no keys; MM_OK or MM_ENOMEM. */
int mm_beacon_rx_new(mm_beacon_rx_t **out) MM_NODISCARD;
/* Wipes the keys and frees; *rx becomes NULL.  NULL is fine. */
void mm_beacon_rx_destroy(mm_beacon_rx_t **rx);

/* Load the home's keys (mm_beacon_keys) into rx, replacing the old ones
 * (a peer added or blocked, a rekey); interval_ms is the round length,
 * for MM_BEACON_ABSENT.  MM_OK; mm_beacon_keys's errors. */
int mm_beacon_rx_load(mm_beacon_rx_t *rx, mm_home_t *home, uint64_t interval_ms) MM_NODISCARD;

/* mm_beacon_round with rx's keys, in a read txn of its own; the nonces of
 * this round and the last are remembered, so that this device's own
 * beacons coming back cost no trial.  Errors as mm_beacon_round. */
int mm_beacon_rx_round(mm_beacon_rx_t *rx, mm_home_t *home, uint64_t now,
                       uint8_t (*out)[MM_BEACON_SIZE], unsigned cap, unsigned *n) MM_NODISCARD;

/* One datagram received at now.  A beacon is tried with each key at most
 * once, within the budget (MM_BEACON_RATE per second, MM_BEACON_BURST at
 * once); one that opens must be fresh (its time within MM_BEACON_FRESH_MS
 * of now and after the last one accepted from its device), carry a
 * statement that verifies by a device not this one, which this home holds
 * a current (unrevoked) certificate of, by the identity the key stands for;
 * then the statement is stored in a write txn if newer than the one held.
 * MM_OK with *out; MM_ENOTFOUND (not a beacon for this device: nothing
 * to say); MM_EEXIST (this device's own beacon or statement, come back);
 * MM_EBUSY (over the budget: not tried);
 * MM_ETIMEOUT (its time is outside the window); MM_ESEQDUP (not after the
 * last one from that device: a replay); MM_ENOCERT (a device this home
 * holds no certificate of); MM_ESCOPE (a device of another identity than
 * the key's); MM_EREVOKED; mm_endpoint_parse's errors; a store error.
 * On every error but MM_ENOTFOUND and MM_EBUSY, *out says as much as was
 * learnt (identity and device zero if unknown). */
int mm_beacon_rx_input(mm_beacon_rx_t *rx, mm_home_t *home, const uint8_t *buf, size_t len,
                       uint64_t now, mm_beacon_heard_t *out) MM_NODISCARD;

#endif
