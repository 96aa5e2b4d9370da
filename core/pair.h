/*  pair.h -- pairing a new device with one's identity (PROTOCOL.md 9.1).
 *
 *  The identity device (the one holding identity.key) makes a one-time
 *  pairing code; the new device connects with the X25519 key pair derived
 *  from the code's secret, sends JOIN (its device key, name and its half of
 *  a version-2 certificate), and, once the person confirmed on the
 *  identity device, gets PAIRED: its certificate and everything it needs
 *  to read what its person reads (every scope key, the peers, the
 *  certificates).  It then builds its home from that and syncs normally.
 *
 *  Code text: "mmp1" + base32(payload || check(4)), check = H("mmp1" ||
 *  payload)[0..4), payload = fixarray(6) [ 1, identity bin32, pairing
 *  device bin32, secret bin32, expires uint ms, endpoints array of str
 *  (1..4) ].
 *
 *  Frames (both single msgpack arrays, inside CURVE only):
 *    JOIN   = ["join", device bin32, name str, created uint, devsig bin64]
 *    PAIRED = ["paired", cert bin, identity name str,
 *              scopes array of [id bin32, record bin],
 *              peers array of [identity bin32, record bin],
 *              certs array of bin]
 *  PAIRED holds every scope key: it exists only in buffers that are wiped
 *  (mm_pair_paired_free) and in the CURVE session.
 */
#ifndef MM_PAIR_H
#define MM_PAIR_H

#include <stddef.h>
#include <stdint.h>
#include "crypto/error.h"
#include "crypto/sign.h"
#include "core/cert.h"
#include "core/home.h"
#include "core/peer.h"
#include "core/code.h"

#define MM_PAIR_PREFIX      "mmp1"
#define MM_PAIR_CODE_MAX    1600        /* text, with NUL */
#define MM_PAIR_FP_LEN      9           /* "ABCD-EFGH" */
#define MM_PAIR_PAIRED_MAX  (4u << 20)  /* a PAIRED frame: the transport's frame limit */
#define MM_PAIR_JOIN_MAX    256
#define MM_PAIR_TTL_MAX     (24ull * 3600 * 1000)   /* a code lasts at most a day */

/* identity: whose device joins; device: the pairing (identity) device, CURVE server key */
typedef mm_code_t mm_pair_code_t;

/* X25519 key pair of a pairing secret:
 * sk = H("mm pair key v1" || secret), pk = X25519(sk, base point). */
void mm_pair_keys(const uint8_t secret[32], uint8_t pk[32], uint8_t sk[32]);

/* Text form of c into out (MM_PAIR_CODE_MAX).  MM_OK or MM_EINVAL. */
int mm_pair_code_encode(const mm_pair_code_t *c, char *out, size_t cap) MM_NODISCARD;

/* Parse a code.  MM_OK; MM_EINVAL (not a pairing code: prefix, alphabet,
 * length); MM_ECHECKSUM (damaged or altered); MM_EVERSION; MM_EMALFORMED,
 * MM_ETRUNC, MM_ETRAILING (a payload that checks but does not parse). */
int mm_pair_code_decode(const char *text, mm_pair_code_t *c) MM_NODISCARD;

/* Joining device, before it connects: MM_OK if c may be used at now;
 * MM_EINVAL (expired: why says so and what to do).  why may be NULL. */
int mm_pair_code_usable(const mm_pair_code_t *c, uint64_t now, char *why, size_t cap)
    MM_NODISCARD;

/* Identity device, for each JOIN: may its code c, used or not (a code
 * works once), still be answered at now?  MM_OK; MM_EREFUSED (used, or
 * expired) with why.  why may be NULL. */
int mm_pair_code_open(const mm_pair_code_t *c, int used, uint64_t now, char *why, size_t cap)
    MM_NODISCARD;

/* The short fingerprint people compare: the first 8 base32 characters,
 * upper case, of H("mm fingerprint v1" || device pk), as "ABCD-EFGH". */
void mm_pair_fingerprint(const uint8_t device[32], char out[MM_PAIR_FP_LEN + 1]);

/* Who may pair: MM_OK if this home holds the identity key; otherwise
 * MM_ENOIDENTITY, and idname (cap bytes, may be NULL) gets the name of
 * the device whose certificate has MM_CERT_IDENTITY ("" if none known).
 * Other errors as mm_home_identity_key. */
int mm_pair_may(mm_home_t *home, char *idname, size_t cap) MM_NODISCARD;

/* A new pairing code for this home at endpoints, expiring at expires:
 * fresh secret.  The caller wipes *out (it holds the secret). */
void mm_pair_code_new(mm_home_t *home, uint64_t expires, char eps[][MM_ENDPOINT_MAX + 1],
                      unsigned neps, mm_pair_code_t *out);

/* ---- the joining device ---- */

/* The JOIN frame of device (named name, certificate created at created)
 * for code into buf[0..cap).  MM_OK with *len; MM_EINVAL (bad name). */
int mm_pair_join_build(const mm_keypair_t *device, const mm_pair_code_t *code, const char *name,
                       uint64_t created, uint8_t *buf, size_t cap, size_t *len) MM_NODISCARD;

/* What a PAIRED frame gave the new home. */
typedef struct {
    char     name[MM_NAME_MAX + 1];     /* the person's name */
    char     devname[MM_DEVNAME_MAX + 1];
    size_t   nscopes, npeers, ncerts;
} mm_pair_summary_t;

/* Build the joined home at path from the PAIRED frame buf[0..len), for the
 * device key pair device (not taken over) that sent JOIN for code:
 * certificate of this device by code's identity (version 2, not the
 * identity-device flag), the self scope among the scopes, then scopes,
 * peers and certificates stored, all in the one new store, built beside
 * path and renamed into place (mm_home_init_joined).  Verifies everything
 * it stores.  MM_OK with *out; MM_EBADCERT (the certificate is not this
 * device's by this identity); MM_EPROTO (no self scope, or a record that
 * does not decode); the frame's parse errors; mm_home_init_joined's.
 * Wipes every scope key it copied. */
int mm_pair_apply(const char *path, const mm_pair_code_t *code, const mm_keypair_t *device,
                  const uint8_t *buf, size_t len, uint64_t now, mm_pair_summary_t *out)
    MM_NODISCARD;

/* ---- the identity device ---- */

/* A JOIN as decoded (pointers into the frame). */
typedef struct {
    const uint8_t *device;          /* 32 */
    char           name[MM_DEVNAME_MAX + 1];
    uint64_t       created;
    const uint8_t *devsig;          /* 64 */
} mm_pair_join_t;

/* Decode a JOIN.  MM_OK; MM_EPROTO (not JOIN); MM_ETOOBIG (name over
 * MM_DEVNAME_MAX); MM_EINVAL (a name with NUL or control bytes or not
 * UTF-8); MM_EMALFORMED, MM_ETRUNC, MM_ETRAILING, MM_ENONCANON. */
int mm_pair_join_parse(const uint8_t *buf, size_t len, mm_pair_join_t *j) MM_NODISCARD;

/* The identity device certifies the joiner j (the person said yes) with
 * identity (this home's identity key): the device's proof must verify
 * (MM_EBADSIG), the key must not be this device (MM_EINVAL) nor certified
 * already for another identity (MM_EEXIST).  In one write transaction it
 * stores the certificate; then it builds the PAIRED frame in a buffer of
 * its own, *frame (MM_PAIR_PAIRED_MAX at most: MM_ETOOBIG past it), which
 * the caller gives to mm_pair_paired_free.  why (may be NULL) gets one
 * line on failure.  Store errors. */
int mm_pair_grant(mm_home_t *home, const mm_keypair_t *identity, const mm_pair_join_t *j,
                  uint8_t **frame, size_t *len, char *why, size_t whycap) MM_NODISCARD;

/* Wipe and free a PAIRED frame (NULL is fine); *frame becomes NULL. */
void mm_pair_paired_free(uint8_t **frame, size_t len);

#endif
