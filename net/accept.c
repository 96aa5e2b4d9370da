/*  accept.c -- both sides of accepting an invite (PROTOCOL.md, "Invites"). */
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sodium.h>
#include <zmq.h>
#include "net/net.h"
#include "net/client.h"
#include "net/wire.h"
#include "net/zmqutil.h"
#include "core/body.h"
#include "core/log.h"
#include "core/mp.h"
#include "crypto/aead.h"
#include "crypto/error.h"
#include "crypto/hash.h"

#define WIRE_BUF 2048

/* What the invitee signs: it holds this device key and accepts this very
 * invite from this very device. */
static void accept_digest(uint8_t d[32], const uint8_t invite_pk[32], const uint8_t device[32])
{
    mm_hash2(d, invite_pk, 32, device, 32);
}

static void copy_name(char *out, size_t cap, const char *s, size_t n)
{
    if (n >= cap)
        n = cap - 1;
    memcpy(out, s, n);
    out[n] = '\0';
}

/* ---- server side ---- */

typedef struct {
    void *router;
    const uint8_t *rid;
    size_t ridlen;
    mm_log_fn log;
    void *logarg;
} reply_t;

static void reply(reply_t *r, mm_mp_writer_t *w)
{
    if (mm_mp_writer_status(w))
        return;
    zmq_send(r->router, r->rid, r->ridlen, ZMQ_SNDMORE | ZMQ_DONTWAIT);
    zmq_send(r->router, w->buf, w->len, ZMQ_DONTWAIT);
}

static void refuse(reply_t *r, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void refuse(reply_t *r, int rc, const char *fmt, ...)
{
    uint8_t buf[WIRE_BUF];
    char text[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    mm_mp_writer_t w;
    mm_mp_writer_init(&w, buf, sizeof buf);
    mm_wire_error(&w, rc, text);
    reply(r, &w);
    if (r->log) {
        char line[300];
        snprintf(line, sizeof line, "refused an invite acceptance: %s", text);
        r->log(r->logarg, line);
    }
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

void mm_net_serve_accept(mm_home_t *home, const uint8_t key[32], const uint8_t *buf,
                         size_t len, void *router, const uint8_t *rid, size_t ridlen,
                         mm_log_fn log, void *logarg)
{
    reply_t r = { router, rid, ridlen, log, logarg };
    mm_msg_t *m = malloc(sizeof *m);
    mm_txn_t *txn = NULL;
    mm_invite_t inv;
    mm_cert_t cert;
    mm_peer_t peer, existing;
    mm_scope_t scope;
    uint8_t d[32], body[MM_INVITE_NOTE_MAX + 64], out[WIRE_BUF];
    const uint8_t *mycert;
    size_t mycertlen, bodylen;
    int rc;
    memset(&scope, 0, sizeof scope);
    if (!m)
        return;
    if ((rc = mm_wire_decode(buf, len, m)) || m->type != MM_MSG_ACCEPT) {
        refuse(&r, rc ? rc : MM_EPROTO, "expected ACCEPT");
        goto out;
    }
    if ((rc = mm_store_begin(mm_home_store(home), 1, &txn))) {
        refuse(&r, rc, "store unavailable");
        goto out;
    }
    uint64_t now = mm_now_ms();
    if ((rc = mm_invite_get(txn, key, &inv))) {
        refuse(&r, MM_EREFUSED, "no such invite");
        goto out;
    }
    if (inv.used) {
        refuse(&r, MM_EREFUSED, "this invite was already used");
        goto out;
    }
    if (now > inv.expires) {
        refuse(&r, MM_EREFUSED, "this invite has expired");
        goto out;
    }
    if ((rc = mm_cert_parse(m->u.accept.cert, m->u.accept.certlen, &cert))) {
        refuse(&r, rc, "certificate: %s", mm_strerror(rc));
        goto out;
    }
    accept_digest(d, key, mm_keypair_pk(mm_home_device(home)));
    if ((rc = mm_verify_digest(cert.device, MM_CTX_ACCEPT, d, m->u.accept.sig))) {
        refuse(&r, rc, "the acceptance is not signed by the certified device");
        goto out;
    }
    if (!memcmp(cert.identity, mm_home_identity_pk(home), 32)) {
        refuse(&r, MM_EINVAL, "an invite cannot be accepted by its own issuer");
        goto out;
    }
    if (mm_peer_get(txn, cert.identity, &existing) == MM_OK) {
        refuse(&r, MM_EEXIST, "you are already peers");
        goto out;
    }
    char theirname[MM_PETNAME_MAX + 1];
    copy_name(theirname, sizeof theirname, m->u.accept.name, m->u.accept.namelen);
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
    mm_random(scope.id, 32);
    mm_random(scope.key, 32);
    memcpy(peer.scope, scope.id, 32);
    if ((rc = mm_invite_use(txn, key, now))
        || (rc = mm_cert_put(txn, m->u.accept.cert, m->u.accept.certlen, NULL))
        || (rc = mm_scope_put(txn, &scope)) || (rc = mm_peer_put(txn, &peer))
        || (rc = invite_body(body, sizeof body, inv.note, inv.role, &bodylen))
        || (rc = mm_log_append(txn, mm_home_device(home), scope.id, now, body, bodylen, NULL))
        || (rc = mm_cert_get(txn, mm_keypair_pk(mm_home_device(home)), &cert, &mycert,
                             &mycertlen))) {
        refuse(&r, rc, "cannot record the new peer: %s", mm_strerror(rc));
        goto out;
    }
    mm_mp_writer_t w;
    mm_mp_writer_init(&w, out, sizeof out);
    mm_wire_welcome(&w, mycert, mycertlen, mm_home_name(home), scope.id, scope.key, inv.role);
    if ((rc = mm_mp_writer_status(&w)) || (rc = mm_txn_commit(&txn))) {
        refuse(&r, rc, "cannot record the new peer: %s", mm_strerror(rc));
        goto out;
    }
    reply(&r, &w);
    if (log) {
        char line[200];
        snprintf(line, sizeof line, "invite accepted: new peer '%s'", peer.petname);
        log(logarg, line);
    }
out:
    sodium_memzero(out, sizeof out);
    mm_scope_wipe(&scope);
    mm_txn_abort(&txn);
    free(m);
}

/* ---- client side ---- */

static int err(char *errtext, size_t cap, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int err(char *errtext, size_t cap, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errtext, cap, fmt, ap);
    va_end(ap);
    return rc;
}

/* Store what WELCOME brings: their certificate, our scope, the peer. */
static int welcome(mm_home_t *home, const mm_invite_code_t *code, const char *petname,
                   const mm_msg_t *m, mm_peer_t *out, char *errtext, size_t errcap)
{
    mm_cert_t cert;
    mm_scope_t scope;
    mm_txn_t *txn = NULL;
    int rc = mm_cert_parse(m->u.welcome.cert, m->u.welcome.certlen, &cert);
    if (rc || memcmp(cert.device, code->device, 32) || memcmp(cert.identity, code->identity, 32))
        return err(errtext, errcap, MM_EBADCERT,
                   "the inviter's device sent a certificate that is not its own");
    if (m->u.welcome.role != MM_ROLE_MENTOR && m->u.welcome.role != MM_ROLE_MENTEE)
        return err(errtext, errcap, MM_EPROTO, "unknown role in WELCOME");
    memset(out, 0, sizeof *out);
    memcpy(out->identity, code->identity, 32);
    snprintf(out->petname, sizeof out->petname, "%s", petname);
    copy_name(out->name, sizeof out->name, m->u.welcome.name, m->u.welcome.namelen);
    out->role = (unsigned) m->u.welcome.role;   /* the inviter's role is theirs towards us */
    memcpy(out->scope, m->u.welcome.scope, 32);
    memcpy(out->device, code->device, 32);
    out->nendpoints = code->nendpoints;
    memcpy(out->endpoints, code->endpoints, sizeof out->endpoints);
    out->added = mm_now_ms();
    memset(&scope, 0, sizeof scope);
    memcpy(scope.id, m->u.welcome.scope, 32);
    memcpy(scope.key, m->u.welcome.key, 32);
    scope.kind = MM_SCOPE_PAIR;
    scope.nmembers = 2;
    memcpy(scope.members[0], code->identity, 32);
    memcpy(scope.members[1], mm_home_identity_pk(home), 32);
    scope.created = out->added;
    if ((rc = mm_store_begin(mm_home_store(home), 1, &txn)) == MM_OK
        && (rc = mm_cert_put(txn, m->u.welcome.cert, m->u.welcome.certlen, NULL)) == MM_OK
        && (rc = mm_scope_put(txn, &scope)) == MM_OK && (rc = mm_peer_put(txn, out)) == MM_OK)
        rc = mm_txn_commit(&txn);
    mm_txn_abort(&txn);
    mm_scope_wipe(&scope);
    return rc ? err(errtext, errcap, rc, "cannot record the new peer: %s", mm_strerror(rc))
              : MM_OK;
}

int mm_net_accept(mm_home_t *home, const mm_invite_code_t *code, const char *petname,
                  int timeout_ms, mm_peer_t *out, char *errtext, size_t errcap)
{
    uint8_t pk[32], sk[32], d[32], sig[64], frame[WIRE_BUF];
    mm_txn_t *txn;
    mm_peer_t p;
    mm_cert_t c;
    const uint8_t *mycert;
    size_t mycertlen;
    mm_msg_t *m = NULL;
    int rc;
    if (code->expires < mm_now_ms())
        return err(errtext, errcap, MM_EINVAL, "this invite has expired; ask for a new one");
    if (!memcmp(code->identity, mm_home_identity_pk(home), 32))
        return err(errtext, errcap, MM_EINVAL, "this is your own invite");
    if (!mm_peer_name_valid(petname))
        return err(errtext, errcap, MM_EINVAL, "'%s' cannot be a peer name", petname);
    if ((rc = mm_store_begin(mm_home_store(home), 0, &txn)))
        return err(errtext, errcap, rc, "cannot open the store");
    if (mm_peer_get(txn, code->identity, &p) == MM_OK)
        rc = err(errtext, errcap, MM_EEXIST, "you are already peers (as '%s')", p.petname);
    else if (mm_peer_find(txn, petname, &p) != MM_ENOTFOUND)
        rc = err(errtext, errcap, MM_EEXIST, "another peer is already named '%s'", petname);
    else
        rc = mm_cert_get(txn, mm_keypair_pk(mm_home_device(home)), &c, &mycert, &mycertlen);
    mm_mp_writer_t w;
    mm_invite_keys(code->secret, pk, sk);
    accept_digest(d, pk, code->device);
    mm_sign_digest(mm_home_device(home), MM_CTX_ACCEPT, d, sig);
    if (rc == MM_OK) {
        mm_mp_writer_init(&w, frame, sizeof frame);
        mm_wire_accept(&w, mycert, mycertlen, mm_home_name(home), sig);
        rc = mm_mp_writer_status(&w);
    }
    mm_txn_abort(&txn);
    if (rc)
        goto out;
    if (!(m = malloc(sizeof *m))) {
        rc = MM_ENOMEM;
        goto out;
    }
    rc = err(errtext, errcap, MM_ENOTFOUND, "the invite names no endpoint");
    for (unsigned i = 0; i < code->nendpoints; i++) {
        mm_client_t *cl = NULL;
        const uint8_t *buf;
        size_t len;
        if ((rc = mm_client_open(code->endpoints[i], code->device, pk, sk, &cl))) {
            err(errtext, errcap, rc, "cannot connect to %s", code->endpoints[i]);
            continue;
        }
        if ((rc = mm_client_send(cl, w.buf, w.len)) == MM_OK)
            rc = mm_client_recv(cl, timeout_ms, &buf, &len);
        if (rc == MM_OK && (rc = mm_wire_decode(buf, len, m)) == MM_OK) {
            if (m->type == MM_MSG_WELCOME)
                rc = welcome(home, code, petname, m, out, errtext, errcap);
            else if (m->type == MM_MSG_ERROR)
                rc = err(errtext, errcap, mm_wire_errcode(m->u.error.code, m->u.error.codelen),
                         "the inviter refused: %.*s", (int) m->u.error.textlen, m->u.error.text);
            else
                rc = err(errtext, errcap, MM_EPROTO, "unexpected answer from the inviter");
        } else if (rc == MM_ETIMEOUT) {
            err(errtext, errcap, rc, "no answer from %s (is the inviter's mm serve running?)",
                code->endpoints[i]);
        } else if (rc == MM_EREFUSED) {
            err(errtext, errcap, rc, "the device at %s does not know this invite "
                "(withdrawn, or not issued there)", code->endpoints[i]);
        } else if (rc) {
            err(errtext, errcap, rc, "talking to %s: %s", code->endpoints[i], mm_strerror(rc));
        }
        mm_client_close(&cl, 0);      /* nothing of ours is left to deliver */
        if (rc != MM_ETIMEOUT && rc != MM_EIO && rc != MM_EINVAL)
            break;
    }
out:
    for (char *ch = errtext; *ch; ch++)     /* the inviter's words: no control bytes */
        if ((unsigned char) *ch < 0x20)
            *ch = '?';
    free(m);
    sodium_memzero(sk, sizeof sk);
    return rc;
}
