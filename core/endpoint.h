/*  endpoint.h -- endpoints statements: where a device says it listens.
 *
 *  endpoints = fixarray(5) [ version=1, device pk (bin 32), seq (uint),
 *                            endpoints (array of str "tcp://HOST:PORT",
 *                            0..MM_PEER_ENDPOINTS, each <= MM_ENDPOINT_MAX),
 *                            sig (bin 64) ]
 *  sig = Ed25519 by the DEVICE key over
 *        MM_CTX_ENDPOINTS || BLAKE2b-256(all bytes before the sig field)
 *  See PROTOCOL.md 3.3.  Whose device it is, is said by the device's
 *  certificate; a statement proves only that the device key signed it.
 *
 *  Stored in table "endpoints", key device (32), value the statement;
 *  replaced only by one of a greater seq.
 */
#ifndef MM_ENDPOINT_H
#define MM_ENDPOINT_H

#include <stddef.h>
#include <stdint.h>
#include "crypto/error.h"
#include "crypto/sign.h"
#include "core/store.h"
#include "core/peer.h"

#define MM_ENDPOINT_VERSION 1
/* header, version, key, seq, array header, 4 str8 of 255, sig */
#define MM_ENDPOINT_STMT_MAX (1 + 1 + 34 + 9 + 1 + MM_PEER_ENDPOINTS * (2 + MM_ENDPOINT_MAX) + 66)

typedef struct {
    uint8_t  device[MM_PK_BYTES];
    uint64_t seq;
    unsigned n;
    char     endpoints[MM_PEER_ENDPOINTS][MM_ENDPOINT_MAX + 1];
} mm_endpoint_t;

/* Build and sign device's statement of its n endpoints into out[0..cap).
 * MM_OK with *outlen; MM_EINVAL (n > MM_PEER_ENDPOINTS, or an endpoint
 * mm_endpoint_valid refuses); MM_ETOOBIG (cap too small). */
int mm_endpoint_make(const mm_keypair_t *device, uint64_t seq,
                     const char (*eps)[MM_ENDPOINT_MAX + 1], unsigned n,
                     uint8_t *out, size_t cap, size_t *outlen) MM_NODISCARD;

/* Parse a statement and check its signature by the device it names.
 * MM_OK; MM_ETOOBIG; MM_ETRUNC; MM_ETRAILING; MM_EMALFORMED (shape, or an
 * endpoint that is not "tcp://HOST:PORT"); MM_ENONCANON; MM_EVERSION;
 * MM_EBADSIG. */
int mm_endpoint_parse(const uint8_t *buf, size_t len, mm_endpoint_t *out) MM_NODISCARD;

/* As mm_endpoint_parse, but the signature is not checked again when txn's
 * store holds these very bytes as the statement of the device they name
 * (it was verified when stored).  *held is 1 if so, else 0.  MM_OK;
 * mm_endpoint_parse's errors; MM_EIO. */
int mm_endpoint_check(mm_txn_t *txn, const uint8_t *buf, size_t len, mm_endpoint_t *out,
                      int *held) MM_NODISCARD;

/* Verify and store a statement unless the one stored for its device has
 * a seq at least as great.  *replaced (may be NULL) is 1 if it was
 * stored.  MM_OK; mm_endpoint_parse's errors; MM_EVERSION (a store without
 * the format-3 tables); MM_ECORRUPT; MM_EFULL; MM_EIO. */
int mm_endpoint_put(mm_txn_t *txn, const uint8_t *buf, size_t len, int *replaced) MM_NODISCARD;

/* The stored statement of device.  raw/rawlen (may be NULL) point into the
 * map until the txn ends.  MM_OK; MM_ENOTFOUND; MM_ECORRUPT. */
int mm_endpoint_get(mm_txn_t *txn, const uint8_t device[32], mm_endpoint_t *out,
                    const uint8_t **raw, size_t *rawlen) MM_NODISCARD;

/* Call fn for every stored statement, in device order.  Non-zero from fn
 * stops the walk and is returned. */
typedef int (*mm_endpoint_fn)(const mm_endpoint_t *e, const uint8_t *raw, size_t len,
                              void *arg);
int mm_endpoint_foreach(mm_txn_t *txn, mm_endpoint_fn fn, void *arg) MM_NODISCARD;

/* This device says where it listens now (write txn): loopback endpoints
 * are left out unless they are all there is (PROTOCOL.md 3.3); a new
 * statement is signed and stored only if the stored one lists other
 * endpoints; its seq
 * is the greater of now and the stored seq + 1, so it replaces every older
 * one everywhere.  *changed (may be NULL) is 1 if one was written.
 * MM_OK; mm_endpoint_make's errors; MM_EFULL; MM_EIO. */
int mm_endpoint_announce(mm_txn_t *txn, const mm_keypair_t *device, uint64_t now,
                         const char (*eps)[MM_ENDPOINT_MAX + 1], unsigned n,
                         int *changed) MM_NODISCARD;

/* Delete the statement of device, if any (write txn): only for mm peer rm
 * --purge, with the device's certificate.  MM_OK; MM_EFULL; MM_EIO. */
int mm_endpoint_del(mm_txn_t *txn, const uint8_t device[32]) MM_NODISCARD;

#endif
