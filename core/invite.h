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
#include "crypto/error.h"
#include <stdint.h>
#include "core/store.h"
#include "core/peer.h"
#include "core/code.h"
#include "core/home.h"

#define MM_INVITE_PREFIX   "mmv1"
#define MM_INVITE_NOTE_MAX 1000
#define MM_INVITE_CODE_MAX 1600     /* text, with NUL */

/* identity: the inviter; device: the inviter's device (CURVE server key) */
typedef mm_code_t mm_invite_code_t;

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
int mm_invite_code_encode(const mm_invite_code_t *c, char *out, size_t cap) MM_NODISCARD;

/* Parse a code.  MM_OK; MM_EINVAL (not an invite code: prefix, alphabet,
 * length); MM_ECHECKSUM (damaged or altered); MM_EMALFORMED etc. */
int mm_invite_code_decode(const char *text, mm_invite_code_t *c) MM_NODISCARD;

/* Invite records.  put: MM_EEXIST if the key is taken. */
int mm_invite_put(mm_txn_t *txn, const mm_invite_t *inv) MM_NODISCARD;
int mm_invite_get(mm_txn_t *txn, const uint8_t key[32], mm_invite_t *inv) MM_NODISCARD;
/* Mark used at time now: MM_OK; MM_ENOTFOUND; MM_EEXIST if already used. */
int mm_invite_use(mm_txn_t *txn, const uint8_t key[32], uint64_t now) MM_NODISCARD;

/* ---- accepting an invite (PROTOCOL.md 9) ----
 *
 * The invitee calls mm_invite_prepare and sends the ACCEPT it gets; the
 * inviter passes the decoded ACCEPT to mm_invite_redeem and answers with
 * the WELCOME it gets; the invitee passes the decoded WELCOME to
 * mm_invite_join.  Each is one whole transaction and owns every rule of
 * its side; net/ only moves the bytes.  On failure each returns a named
 * code and writes one line saying why into why[0..whycap) (may be NULL),
 * in words fit for an ERROR frame's text. */

/* The fields of an ACCEPT as decoded from a frame (pointers into it). */
typedef struct {
    const uint8_t *cert;            /* the invitee's device certificate */
    size_t         certlen;
    const char    *name;            /* the name it gives itself; not NUL-terminated */
    size_t         namelen;
    const uint8_t *sig;             /* 64 bytes: see mm_invite_prepare */
} mm_invite_accept_t;

/* The fields of a WELCOME as decoded from a frame (pointers into it). */
typedef struct {
    const uint8_t *cert;            /* the inviter's device certificate */
    size_t         certlen;
    const char    *name;            /* the inviter's name; not NUL-terminated */
    size_t         namelen;
    const uint8_t *scope;           /* 32: the relationship scope's id */
    const uint8_t *key;             /* 32: its key, secret: wipe the frame after use */
    uint64_t       role;            /* the inviter's role, as received */
} mm_invite_welcome_t;

/* What the invitee puts in its ACCEPT. */
typedef struct {
    uint8_t cert[MM_CERT_MAX];      /* this device's certificate */
    size_t  certlen;
    char    name[MM_NAME_MAX + 1];  /* this person's name */
    uint8_t sig[64];                /* Sign(device sk, MM_CTX_ACCEPT || H(invite pk || inviter device)) */
} mm_invite_request_t;

/* What the inviter puts in its WELCOME, and whom it recorded. */
typedef struct {
    uint8_t  cert[MM_CERT_MAX];     /* the inviter's device certificate */
    size_t   certlen;
    char     name[MM_NAME_MAX + 1]; /* the inviter's name */
    uint8_t  scope[32];             /* the new relationship scope */
    uint8_t  key[32];               /* its key: secret, mm_invite_grant_wipe after use */
    unsigned role;                  /* the inviter's role: MM_ROLE_MENTOR or MM_ROLE_MENTEE */
    char     petname[MM_PETNAME_MAX + 1];   /* what the inviter now calls the invitee */
} mm_invite_grant_t;

/* Invitee, before connecting: check that code can be accepted by this home
 * under petname at time now, and sign the acceptance.  Reads only.
 * MM_OK with *out filled; MM_EINVAL (code expired, our own invite, or
 * petname not a valid peer name); MM_EEXIST (already peers with the
 * inviter, or another peer has petname); store errors. */
int mm_invite_prepare(mm_home_t *home, const mm_invite_code_t *code, const char *petname,
                      uint64_t now, mm_invite_request_t *out, char *why, size_t whycap) MM_NODISCARD;

/* Inviter: redeem the invite whose key is invite_pk (the CURVE key the
 * invitee connected with) for the ACCEPT a, at time now.  In this order it
 * refuses: no such invite, an invite already used or expired (MM_EREFUSED);
 * a certificate that does not verify (MM_EBADCERT); a signature that is not
 * the certified device's over this invite and this device (MM_EBADSIG); an
 * invitee who is this person (MM_EINVAL) or already a peer (MM_EEXIST).
 * A refused ACCEPT changes nothing: the invite stays unused.  Otherwise, in
 * one write transaction, it marks the invite used, stores the certificate,
 * makes the relationship scope (random id and key; members this person and
 * the invitee), records the peer under a free petname made from a's name,
 * appends the invite entry (note and role) as the first entry of this
 * device's feed in the scope, and commits.  MM_OK with *out filled (the
 * caller wipes it); store errors (MM_EFULL, MM_EIO...).  *out is wiped on
 * failure. */
int mm_invite_redeem(mm_home_t *home, const uint8_t invite_pk[32], const mm_invite_accept_t *a,
                     uint64_t now, mm_invite_grant_t *out, char *why, size_t whycap) MM_NODISCARD;

/* Invitee, on WELCOME w for code: check that its certificate is the
 * inviter's device named in the code (MM_EBADCERT) and its role known
 * (MM_EPROTO), then in one write transaction store the certificate, the
 * relationship scope (members the inviter and this person) and the peer
 * (named petname, reached at the code's endpoints, added at now).  MM_OK
 * with *out (may be NULL) the peer record; MM_EEXIST (petname taken
 * meanwhile); store errors. */
int mm_invite_join(mm_home_t *home, const mm_invite_code_t *code, const char *petname,
                   const mm_invite_welcome_t *w, uint64_t now, mm_peer_t *out,
                   char *why, size_t whycap) MM_NODISCARD;

/* Wipe *g (the scope key with it). */
void mm_invite_grant_wipe(mm_invite_grant_t *g);

#endif
