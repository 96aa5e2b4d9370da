/*  accept.c -- both sides of accepting an invite (PROTOCOL.md, "Invites"). */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sodium.h>
#include <zmq.h>
#include "net/net.h"
#include "net/client.h"
#include "net/wire.h"
#include "net/zmqutil.h"
#include "core/invite.h"
#include "core/log.h"
#include "core/mp.h"
#include "crypto/error.h"

#define WIRE_BUF 2048

/* ---- server side ---- */

typedef struct {
    void *router;
    const uint8_t *rid;
    size_t ridlen;
    mm_serve_log_fn log;
    void *logarg;
} reply_t;

static void reply(reply_t *r, mm_mp_writer_t *w)
{
    if (mm_mp_writer_status(w) == MM_OK)
        mm_zmq_reply(r->router, r->rid, r->ridlen, w->buf, w->len);
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

/* A frame holding a secret (the scope key of WELCOME): wiped once sent. */
static void reply_secret(reply_t *r, mm_mp_writer_t *w)
{
    if (mm_mp_writer_status(w) == MM_OK)
        mm_zmq_reply_secret(r->router, r->rid, r->ridlen, w->buf, w->len);
}

void mm_net_serve_accept(mm_home_t *home, const uint8_t key[32], const uint8_t *buf,
                         size_t len, void *router, const uint8_t *rid, size_t ridlen,
                         mm_serve_log_fn log, void *logarg)
{
    reply_t r = { router, rid, ridlen, log, logarg };
    mm_msg_t *m = malloc(sizeof *m);
    mm_invite_grant_t g;
    uint8_t out[WIRE_BUF];
    char why[256];
    int rc;
    memset(&g, 0, sizeof g);
    if (!m)
        return;
    if ((rc = mm_wire_decode(buf, len, m)) || m->type != MM_MSG_ACCEPT) {
        refuse(&r, rc ? rc : MM_EPROTO, "expected ACCEPT");
        goto out;
    }
    mm_invite_accept_t a = { m->u.accept.cert, m->u.accept.certlen, m->u.accept.name,
                             m->u.accept.namelen, m->u.accept.sig };
    if ((rc = mm_invite_redeem(home, key, &a, mm_now_ms(), &g, why, sizeof why))) {
        refuse(&r, rc, "%s", why);
        goto out;
    }
    mm_mp_writer_t w;
    mm_mp_writer_init(&w, out, sizeof out);
    mm_wire_welcome(&w, g.cert, g.certlen, g.name, g.scope, g.key, g.role);
    reply_secret(&r, &w);
    if (log) {
        char line[200];
        snprintf(line, sizeof line, "invite accepted: new peer '%s'", g.petname);
        log(logarg, line);
    }
out:
    sodium_memzero(out, sizeof out);
    mm_invite_grant_wipe(&g);
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

int mm_net_accept(mm_home_t *home, const mm_invite_code_t *code, const char *petname,
                  int timeout_ms, mm_peer_t *out, char *errtext, size_t errcap)
{
    uint8_t pk[32], sk[32], frame[WIRE_BUF];
    mm_invite_request_t req;
    mm_msg_t *m = NULL;
    mm_mp_writer_t w;
    int rc;
    *errtext = '\0';
    memset(sk, 0, sizeof sk);
    if ((rc = mm_invite_prepare(home, code, petname, mm_now_ms(), &req, errtext, errcap)))
        goto out;
    mm_mp_writer_init(&w, frame, sizeof frame);
    mm_wire_accept(&w, req.cert, req.certlen, req.name, req.sig);
    if ((rc = mm_mp_writer_status(&w)))
        goto out;
    if (!(m = malloc(sizeof *m))) {
        rc = MM_ENOMEM;
        goto out;
    }
    mm_invite_keys(code->secret, pk, sk);
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
            if (m->type == MM_MSG_WELCOME) {
                mm_invite_welcome_t wl = { m->u.welcome.cert, m->u.welcome.certlen,
                                           m->u.welcome.name, m->u.welcome.namelen,
                                           m->u.welcome.scope, m->u.welcome.key,
                                           m->u.welcome.role };
                rc = mm_invite_join(home, code, petname, &wl, mm_now_ms(), out, errtext, errcap);
                sodium_memzero(&wl, sizeof wl);
            } else if (m->type == MM_MSG_ERROR) {
                rc = err(errtext, errcap, mm_wire_errcode(m->u.error.code, m->u.error.codelen),
                         "the inviter refused: %.*s", (int) m->u.error.textlen, m->u.error.text);
            } else {
                rc = err(errtext, errcap, MM_EPROTO, "unexpected answer from the inviter");
            }
        } else if (rc == MM_ETIMEOUT) {
            err(errtext, errcap, rc, "no answer from %s (is the inviter's mm serve running?)",
                code->endpoints[i]);
        } else if (rc == MM_EREFUSED) {
            err(errtext, errcap, rc, "the device at %s does not know this invite "
                "(withdrawn, or not issued there)", code->endpoints[i]);
        } else if (rc) {
            err(errtext, errcap, rc, "talking to %s: %s", code->endpoints[i], mm_strerror(rc));
        }
        mm_client_wipe(cl);           /* a WELCOME holds the scope key */
        mm_client_close(&cl, 0);      /* nothing of ours is left to deliver */
        if (rc != MM_ETIMEOUT && rc != MM_EIO && rc != MM_EINVAL)
            break;
    }
out:
    for (char *ch = errtext; *ch; ch++)     /* the inviter's words: no control bytes */
        if ((unsigned char) *ch < 0x20)
            *ch = '?';
    if (m)
        sodium_memzero(m, sizeof *m);
    free(m);
    sodium_memzero(sk, sizeof sk);
    return rc;
}
