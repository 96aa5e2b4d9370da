/*  code.h -- one-time codes people hand over: invites and pairing codes.
 *
 *  Both are the same text with their own prefix (PROTOCOL.md 9, 9.1):
 *    prefix (4 ASCII) || base32(payload || check(4)),
 *    check   = H(prefix || payload)[0..4),
 *    payload = fixarray(6) [ version, identity bin32, device bin32 (the
 *              CURVE server key to call), secret bin32, expires uint ms,
 *              endpoints array of str (1..MM_PEER_ENDPOINTS) ]
 *  and the same key pair from the secret, under a context of their own:
 *    sk = H(ctx || secret), pk = X25519(sk, base point).
 *  invite.h and pair.h give each its prefix, version and context.
 */
#ifndef MM_CODE_H
#define MM_CODE_H

#include <stddef.h>
#include <stdint.h>
#include "crypto/error.h"
#include "core/peer.h"

#define MM_CODE_TEXT_MAX 1600           /* text, with NUL */

typedef struct {
    uint8_t  identity[32];              /* whose code it is */
    uint8_t  device[32];                /* the device to call (CURVE server key) */
    uint8_t  secret[32];
    uint64_t expires;
    unsigned nendpoints;
    char     endpoints[MM_PEER_ENDPOINTS][MM_ENDPOINT_MAX + 1];
} mm_code_t;

/* The X25519 key pair of secret under ctx (a NUL-terminated string). */
void mm_code_keys(const char *ctx, const uint8_t secret[32], uint8_t pk[32], uint8_t sk[32]);

/* Text form of c with prefix (4 characters) and version into out[0..cap).
 * MM_OK; MM_EINVAL (no or too many endpoints, or cap too small). */
int mm_code_encode(const char *prefix, unsigned version, const mm_code_t *c, char *out,
                   size_t cap) MM_NODISCARD;

/* Parse a code of this prefix and version.  MM_OK; MM_EINVAL (another
 * prefix, not base32, too short or long); MM_ECHECKSUM (damaged or
 * altered); MM_EVERSION; MM_EMALFORMED, MM_ETRUNC, MM_ETRAILING (a payload
 * that checks but does not parse).  *c is wiped on failure. */
int mm_code_decode(const char *prefix, unsigned version, const char *text,
                   mm_code_t *c) MM_NODISCARD;

#endif
