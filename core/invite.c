#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sodium.h>
#include "core/invite.h"
#include "core/store_int.h"
#include "core/body.h"
#include "core/log.h"
#include "core/mp.h"
#include "core/propagate.h"
#include "crypto/random.h"
#include "crypto/hash.h"
#include "crypto/encoding.h"
#include "crypto/error.h"

#define INVITE_VERSION 1
#define KEY_CTX "mm invite key v1"

void mm_invite_keys(const uint8_t secret[32], uint8_t pk[32], uint8_t sk[32])
{
    mm_code_keys(KEY_CTX, secret, pk, sk);
}

int mm_invite_code_encode(const mm_invite_code_t *c, char *out, size_t cap)
{
    return mm_code_encode(MM_INVITE_PREFIX, INVITE_VERSION, c, out, cap);
}

int mm_invite_code_decode(const char *text, mm_invite_code_t *c)
{
    return mm_code_decode(MM_INVITE_PREFIX, INVITE_VERSION, text, c);
}

static int encode(const mm_invite_t *inv, uint8_t *out, size_t cap, size_t *len)
{
    mm_mp_writer_t w;
    mm_mp_writer_init(&w, out, cap);
    mm_mp_put_array(&w, 6);
    mm_mp_put_uint(&w, INVITE_VERSION);
    mm_mp_put_uint(&w, inv->created);
    mm_mp_put_uint(&w, inv->expires);
    mm_mp_put_uint(&w, inv->role);
    mm_mp_put_cstr(&w, inv->note);
    mm_mp_put_uint(&w, inv->used);
    *len = w.len;
    return mm_mp_writer_status(&w);
}

int mm_invite_put(mm_txn_t *txn, const mm_invite_t *inv)
{
    uint8_t buf[MM_INVITE_NOTE_MAX + 64];
    size_t len;
    if (strlen(inv->note) > MM_INVITE_NOTE_MAX)
        return MM_EINVAL;
    int rc = encode(inv, buf, sizeof buf, &len);
    if (rc)
        return rc;
    MDB_val k = { 32, (void *) inv->key }, v = { len, buf };
    return mm_store_rc(mdb_put(txn->txn, txn->store->invites, &k, &v, MDB_NOOVERWRITE));
}

int mm_invite_get(mm_txn_t *txn, const uint8_t key[32], mm_invite_t *inv)
{
    MDB_val k = { 32, (void *) key }, v;
    memset(inv, 0, sizeof *inv);
    int rc = mdb_get(txn->txn, txn->store->invites, &k, &v);
    if (rc)
        return mm_store_rc(rc);
    mm_mp_reader_t r;
    uint32_t n, sn;
    uint64_t ver, role;
    const char *s;
    memcpy(inv->key, key, 32);
    mm_mp_reader_init(&r, v.mv_data, v.mv_size);
    if (mm_mp_array(&r, &n) || n != 6 || mm_mp_uint(&r, &ver) || ver != INVITE_VERSION
        || mm_mp_uint(&r, &inv->created) || mm_mp_uint(&r, &inv->expires)
        || mm_mp_uint(&r, &role) || mm_mp_str(&r, &s, &sn) || sn > MM_INVITE_NOTE_MAX
        || mm_mp_uint(&r, &inv->used) || mm_mp_left(&r))
        return MM_ECORRUPT;
    inv->role = (unsigned) role;
    memcpy(inv->note, s, sn);
    inv->note[sn] = '\0';
    return MM_OK;
}

int mm_invite_use(mm_txn_t *txn, const uint8_t key[32], uint64_t now)
{
    mm_invite_t inv;
    int rc = mm_invite_get(txn, key, &inv);
    if (rc)
        return rc;
    if (inv.used)
        return MM_EEXIST;
    inv.used = now;
    uint8_t buf[MM_INVITE_NOTE_MAX + 64];
    size_t len;
    if ((rc = encode(&inv, buf, sizeof buf, &len)))
        return rc;
    MDB_val k = { 32, (void *) key }, v = { len, buf };
    return mm_store_rc(mdb_put(txn->txn, txn->store->invites, &k, &v, 0));
}

/* ---- accepting an invite ---- */

static int refuse(char *why, size_t cap, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int refuse(char *why, size_t cap, int rc, const char *fmt, ...)
{
    va_list ap;
    if (why && cap) {
        va_start(ap, fmt);
        vsnprintf(why, cap, fmt, ap);
        va_end(ap);
    }
    return rc;
}

/* What the invitee signs: it holds this device key and accepts this very
 * invite from this very device. */
static void accept_digest(uint8_t d[32], const uint8_t invite_pk[32], const uint8_t device[32])
{
    mm_hash2(d, invite_pk, 32, device, 32);
}

/* A name received from the other side, as text: at most cap - 1 bytes. */
static void copy_name(char *out, size_t cap, const char *s, size_t n)
{
    if (n >= cap)
        n = cap - 1;
    memcpy(out, s, n);
    out[n] = '\0';
}

/* A petname for a new peer from the name it gave itself: valid and unused. */
static void unique_petname(mm_txn_t *txn, const char *name, char out[MM_PETNAME_MAX + 1])
{
    char base[MM_PETNAME_MAX - 3];
    mm_peer_t p;
    const char *from = mm_peer_name_valid(name) ? name : "peer";
    size_t n = strlen(from);
    if (n >= sizeof base)             /* room for a "-NNN" suffix */
        n = sizeof base - 1;
    while (n > 0 && ((unsigned char) from[n] & 0xc0) == 0x80)
        n--;                            /* and never half a character */
    memcpy(base, from, n);
    base[n] = '\0';
    snprintf(out, MM_PETNAME_MAX + 1, "%s", base);
    for (int i = 2; i < 1000 && mm_peer_find(txn, out, &p) != MM_ENOTFOUND; i++)
        snprintf(out, MM_PETNAME_MAX + 1, "%s-%d", base, i);
}

static int invite_body(uint8_t *buf, size_t cap, const char *note, unsigned role, size_t *len)
{
    const char *r = role == MM_ROLE_MENTOR ? "mentor" : "mentee";
    mm_field_t f[] = {
        { "note", MM_F_STR, note, strlen(note), 0 },
        { "role", MM_F_STR, r, strlen(r), 0 },
    };
    return mm_body_build(buf, cap, len, MM_T_INVITE, f, 2);
}

int mm_invite_prepare(mm_home_t *home, const mm_invite_code_t *code, const char *petname,
                      uint64_t now, mm_invite_request_t *out, char *why, size_t whycap)
{
    uint8_t pk[32], sk[32], d[32];
    const uint8_t *mycert;
    size_t mycertlen;
    mm_txn_t *txn = NULL;
    mm_peer_t p;
    mm_cert_t c;
    int rc;
    memset(out, 0, sizeof *out);
    if (code->expires < now)
        return refuse(why, whycap, MM_EINVAL, "this invite has expired; ask for a new one");
    if (!memcmp(code->identity, mm_home_identity_pk(home), 32))
        return refuse(why, whycap, MM_EINVAL, "this is your own invite");
    if (!mm_peer_name_valid(petname))
        return refuse(why, whycap, MM_EINVAL, "'%s' cannot be a peer name", petname);
    if ((rc = mm_store_begin(mm_home_store(home), 0, &txn)))
        return refuse(why, whycap, rc, "cannot open the store");
    if (mm_peer_get(txn, code->identity, &p) == MM_OK)
        rc = refuse(why, whycap, MM_EEXIST, "you are already peers (as '%s')", p.petname);
    else if (mm_peer_find(txn, petname, &p) != MM_ENOTFOUND)
        rc = refuse(why, whycap, MM_EEXIST, "another peer is already named '%s'", petname);
    else if ((rc = mm_cert_get(txn, mm_keypair_pk(mm_home_device(home)), &c, &mycert,
                               &mycertlen)) != MM_OK)
        refuse(why, whycap, rc, "cannot read this device's certificate: %s", mm_strerror(rc));
    else if (mycertlen > sizeof out->cert)
        rc = refuse(why, whycap, MM_ECORRUPT, "this device's certificate is too long");
    if (rc == MM_OK) {
        /* rc is MM_OK only past mm_cert_get, which set mycert (the analyzer
         * does not follow what refuse returns) */
        /* NOLINTNEXTLINE(clang-analyzer-core.CallAndMessage) */
        memcpy(out->cert, mycert, mycertlen);
        out->certlen = mycertlen;
        snprintf(out->name, sizeof out->name, "%s", mm_home_name(home));
        mm_invite_keys(code->secret, pk, sk);
        accept_digest(d, pk, code->device);
        rc = mm_sign_digest(mm_home_device(home), MM_CTX_ACCEPT, d, out->sig);
    }
    mm_txn_abort(&txn);
    sodium_memzero(sk, sizeof sk);
    return rc;
}

int mm_invite_redeem(mm_home_t *home, const uint8_t invite_pk[32], const mm_invite_accept_t *a,
                     uint64_t now, mm_invite_grant_t *out, char *why, size_t whycap)
{
    mm_txn_t *txn = NULL;
    mm_invite_t inv;
    mm_cert_t cert, mine;
    mm_peer_t peer, existing;
    mm_scope_t scope;
    uint8_t d[32], body[MM_INVITE_NOTE_MAX + 64];
    char theirname[MM_PETNAME_MAX + 1];
    const uint8_t *mycert;
    size_t mycertlen, bodylen;
    int rc;
    memset(out, 0, sizeof *out);
    memset(&scope, 0, sizeof scope);
    if ((rc = mm_store_begin(mm_home_store(home), 1, &txn))) {
        refuse(why, whycap, rc, "store unavailable");
        goto out;
    }
    if (mm_invite_get(txn, invite_pk, &inv) != MM_OK) {
        rc = refuse(why, whycap, MM_EREFUSED, "no such invite");
        goto out;
    }
    if (inv.used) {
        rc = refuse(why, whycap, MM_EREFUSED, "this invite was already used");
        goto out;
    }
    if (now > inv.expires) {
        rc = refuse(why, whycap, MM_EREFUSED, "this invite has expired");
        goto out;
    }
    if ((rc = mm_cert_parse(a->cert, a->certlen, &cert))) {
        rc = refuse(why, whycap, MM_EBADCERT, "certificate: %s", mm_strerror(rc));
        goto out;
    }
    accept_digest(d, invite_pk, mm_keypair_pk(mm_home_device(home)));
    if ((rc = mm_verify_digest(cert.device, MM_CTX_ACCEPT, d, a->sig))) {
        refuse(why, whycap, rc, "the acceptance is not signed by the certified device");
        goto out;
    }
    if (!memcmp(cert.identity, mm_home_identity_pk(home), 32)) {
        rc = refuse(why, whycap, MM_EINVAL, "an invite cannot be accepted by its own issuer");
        goto out;
    }
    if (mm_peer_get(txn, cert.identity, &existing) == MM_OK) {
        rc = refuse(why, whycap, MM_EEXIST, "you are already peers");
        goto out;
    }
    copy_name(theirname, sizeof theirname, a->name, a->namelen);
    memset(&peer, 0, sizeof peer);
    memcpy(peer.identity, cert.identity, 32);
    unique_petname(txn, theirname, peer.petname);
    snprintf(peer.name, sizeof peer.name, "%s", theirname);
    peer.role = inv.role == MM_ROLE_MENTOR ? MM_ROLE_MENTEE : MM_ROLE_MENTOR;
    memcpy(peer.device, cert.device, 32);
    peer.added = now;
    scope.kind = MM_SCOPE_PAIR;
    scope.nmembers = 2;
    memcpy(scope.members[0], mm_home_identity_pk(home), 32);
    memcpy(scope.members[1], cert.identity, 32);
    scope.created = now;
    mm_random_bytes(scope.id, 32);
    mm_random_bytes(scope.keys[0], 32);
    scope.nkeys = 1;
    memcpy(peer.scope, scope.id, 32);
    if ((rc = mm_invite_use(txn, invite_pk, now))
        || (rc = mm_cert_put(txn, a->cert, a->certlen, NULL))
        || (rc = mm_scope_put(txn, &scope)) || (rc = mm_peer_put(txn, &peer))
        || (rc = invite_body(body, sizeof body, inv.note, inv.role, &bodylen))
        || (rc = mm_log_append(txn, mm_home_device(home), scope.id, now, body, bodylen, NULL))
        /* and to own devices, in the same transaction (PROTOCOL.md 5.4) */
        || (rc = mm_propagate_scope(txn, mm_home_device(home), scope.id, now))
        || (rc = mm_propagate_peer(txn, mm_home_device(home), cert.identity, now))
        || (rc = mm_cert_get(txn, mm_keypair_pk(mm_home_device(home)), &mine, &mycert,
                             &mycertlen))
        || (rc = mycertlen > sizeof out->cert ? MM_ECORRUPT : MM_OK)) {
        refuse(why, whycap, rc, "cannot record the new peer: %s", mm_strerror(rc));
        goto out;
    }
    memcpy(out->cert, mycert, mycertlen);
    out->certlen = mycertlen;
    snprintf(out->name, sizeof out->name, "%s", mm_home_name(home));
    memcpy(out->scope, scope.id, 32);
    memcpy(out->key, mm_scope_key(&scope), 32);
    out->role = inv.role;
    snprintf(out->petname, sizeof out->petname, "%s", peer.petname);
    if ((rc = mm_txn_commit(&txn)))
        refuse(why, whycap, rc, "cannot record the new peer: %s", mm_strerror(rc));
out:
    if (rc)
        mm_invite_grant_wipe(out);
    mm_scope_wipe(&scope);
    mm_txn_abort(&txn);
    return rc;
}

int mm_invite_join(mm_home_t *home, const mm_invite_code_t *code, const char *petname,
                   const mm_invite_welcome_t *w, uint64_t now, mm_peer_t *out,
                   char *why, size_t whycap)
{
    mm_cert_t cert;
    mm_scope_t scope;
    mm_peer_t peer;
    mm_txn_t *txn = NULL;
    int rc = mm_cert_parse(w->cert, w->certlen, &cert);
    if (rc || memcmp(cert.device, code->device, 32) || memcmp(cert.identity, code->identity, 32))
        return refuse(why, whycap, MM_EBADCERT,
                      "the inviter's device sent a certificate that is not its own");
    if (w->role != MM_ROLE_MENTOR && w->role != MM_ROLE_MENTEE)
        return refuse(why, whycap, MM_EPROTO, "unknown role in WELCOME");
    memset(&peer, 0, sizeof peer);
    memcpy(peer.identity, code->identity, 32);
    snprintf(peer.petname, sizeof peer.petname, "%s", petname);
    copy_name(peer.name, sizeof peer.name, w->name, w->namelen);
    peer.role = (unsigned) w->role;     /* the inviter's role is theirs towards us */
    memcpy(peer.scope, w->scope, 32);
    memcpy(peer.device, code->device, 32);
    peer.nendpoints = code->nendpoints;
    memcpy(peer.endpoints, code->endpoints, sizeof peer.endpoints);
    peer.added = now;
    memset(&scope, 0, sizeof scope);
    memcpy(scope.id, w->scope, 32);
    mm_scope_set_key(&scope, w->key);
    scope.kind = MM_SCOPE_PAIR;
    scope.nmembers = 2;
    memcpy(scope.members[0], code->identity, 32);
    memcpy(scope.members[1], mm_home_identity_pk(home), 32);
    scope.created = now;
    if ((rc = mm_store_begin(mm_home_store(home), 1, &txn)) == MM_OK
        && (rc = mm_cert_put(txn, w->cert, w->certlen, NULL)) == MM_OK
        && (rc = mm_scope_put(txn, &scope)) == MM_OK && (rc = mm_peer_put(txn, &peer)) == MM_OK
        /* and to own devices, in the same transaction (PROTOCOL.md 5.4) */
        && (rc = mm_propagate_scope(txn, mm_home_device(home), scope.id, now)) == MM_OK
        && (rc = mm_propagate_peer(txn, mm_home_device(home), peer.identity, now)) == MM_OK)
        rc = mm_txn_commit(&txn);
    mm_txn_abort(&txn);
    mm_scope_wipe(&scope);
    if (rc)
        return refuse(why, whycap, rc, "cannot record the new peer: %s", mm_strerror(rc));
    if (out)
        *out = peer;
    return MM_OK;
}

void mm_invite_grant_wipe(mm_invite_grant_t *g)
{
    sodium_memzero(g, sizeof *g);
}
