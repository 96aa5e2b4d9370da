/*  invite.h -- one-time invites: the code a person hands to a future peer.
 *
 *  An invite carries a fresh 32-byte secret.  From it both sides derive an
 *  X25519 key pair (mm_invite_keys); the invitee connects with it as its
 *  CURVE client key, so only a holder of the code gets past the inviter's
 *  authentication, and the inviter stores only the public half.
 *
 *  Code text: "mmv1" + base32(payload || check(4)), check = H("mmv1" ||
 *  payload)[0..4), payload = fixarray(6) [ 1, inviter identity bin32,
 *  inviter device bin32, secret bin32, expires uint ms, endpoints array of
 *  str (1..4) ].  See PROTOCOL.md, "Invites".
 *
 *  Stored in table "invites", key = invite public key (32), value
 *  fixarray(6) [ version=1, created uint, expires uint, inviter role uint,
 *                note str, used uint ms (0: not used) ].
 */
#ifndef MM_INVITE_H
#define MM_INVITE_H

#include <stddef.h>
#include <stdint.h>
#include "core/store.h"
#include "core/peer.h"

#define MM_INVITE_PREFIX   "mmv1"
#define MM_INVITE_NOTE_MAX 1000
#define MM_INVITE_CODE_MAX 1600     /* text, with NUL */

typedef struct {
    uint8_t  identity[32];          /* inviter */
    uint8_t  device[32];            /* inviter's device (CURVE server key) */
    uint8_t  secret[32];
    uint64_t expires;
    unsigned nendpoints;
    char     endpoints[MM_PEER_ENDPOINTS][MM_ENDPOINT_MAX + 1];
} mm_invite_code_t;

typedef struct {
    uint8_t  key[32];               /* X25519 public key derived from the secret */
    uint64_t created;
    uint64_t expires;
    unsigned role;                  /* the inviter's role: MM_ROLE_MENTOR = inviter mentors */
    char     note[MM_INVITE_NOTE_MAX + 1];
    uint64_t used;
} mm_invite_t;

/* X25519 key pair of an invite secret:
 * sk = H("mm invite key v1" || secret), pk = X25519(sk, base point). */
void mm_invite_keys(const uint8_t secret[32], uint8_t pk[32], uint8_t sk[32]);

/* Text form of c into out (MM_INVITE_CODE_MAX).  MM_OK or MM_EINVAL. */
int mm_invite_code_encode(const mm_invite_code_t *c, char *out, size_t cap);

/* Parse a code.  MM_OK; MM_EINVAL (not an invite code: prefix, alphabet,
 * length); MM_ECHECKSUM (damaged or altered); MM_EMALFORMED etc. */
int mm_invite_code_decode(const char *text, mm_invite_code_t *c);

/* Invite records.  put: MM_EEXIST if the key is taken. */
int mm_invite_put(mm_txn_t *txn, const mm_invite_t *inv);
int mm_invite_get(mm_txn_t *txn, const uint8_t key[32], mm_invite_t *inv);
/* Mark used at time now: MM_OK; MM_ENOTFOUND; MM_EEXIST if already used. */
int mm_invite_use(mm_txn_t *txn, const uint8_t key[32], uint64_t now);

#endif
