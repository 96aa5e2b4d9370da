/*  link.c -- both sides of linking a mailbox to its owner (PROTOCOL.md 14.3).
 *
 *  Over a CURVE connection made with the link code's key pair:
 *    owner -> mailbox  ["link", identity, name]
 *    mailbox -> owner  ["consent", devsig]       (or ERROR)
 *    owner -> mailbox  ["certify", cert, name]
 *    mailbox -> owner  ["done"]                  (or ERROR)
 *  The mailbox keeps no state between the two frames: the certificate
 *  carries the consent (devsig) it gave, which it verifies again.
 */
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
#include "core/cert.h"
#include "core/log.h"
#include "core/mailbox.h"
#include "crypto/error.h"
#include "crypto/idcode.h"

#define WIRE_BUF 2048

/* ---- the mailbox's side ---- */

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

static void logline(reply_t *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logline(reply_t *r, const char *fmt, ...)
{
    char line[400];
    va_list ap;
    if (!r->log)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    r->log(r->logarg, line);
}

static void refuse(reply_t *r, int rc, const char *text)
{
    uint8_t buf[WIRE_BUF];
    mm_mp_writer_t w;
    mm_mp_writer_init(&w, buf, sizeof buf);
    mm_wire_error(&w, rc, text);
    reply(r, &w);
    logline(r, "refused a link request: %s (%s)", text, mm_errname(rc));
}

static void name_of(char *out, size_t cap, const char *s, uint32_t n)
{
    snprintf(out, cap, "%.*s", (int) n, s);
    for (char *c = out; *c; c++)            /* never echo control bytes */
        if ((unsigned char) *c < 0x20)
            *c = '?';
}

int mm_net_serve_link(mm_home_t *home, const uint8_t key[32], const uint8_t *buf, size_t len,
                      void *router, const uint8_t *rid, size_t ridlen, mm_serve_log_fn log,
                      void *logarg)
{
    reply_t r = { router, rid, ridlen, log, logarg };
    mm_msg_t *m = malloc(sizeof *m);
    uint8_t out[WIRE_BUF], devsig[MM_SIG_BYTES];
    char why[256], name[MM_NAME_WIRE_MAX + 1], code[MM_IDCODE_LEN + 1];
    int rc, over = 1;
    if (!m)
        return 1;
    mm_mp_writer_t w;
    mm_mp_writer_init(&w, out, sizeof out);
    if ((rc = mm_wire_decode(buf, len, m))
        || (m->type != MM_MSG_LINK && m->type != MM_MSG_CERTIFY)) {
        refuse(&r, rc ? rc : MM_EPROTO, "expected LINK or CERTIFY");
    } else if (m->type == MM_MSG_LINK) {
        name_of(name, sizeof name, m->u.link.name, m->u.link.namelen);
        if ((rc = mm_mailbox_consent(home, key, m->u.link.identity, mm_now_ms(), devsig, why,
                                     sizeof why))) {
            refuse(&r, rc, why);
        } else {
            mm_wire_consent(&w, devsig);
            reply(&r, &w);
            mm_idcode_encode(code, MM_IDCODE_IDENTITY, m->u.link.identity);
            logline(&r, "link request from %s (%.15s): consent given", name, code);
            over = 0;               /* CERTIFY follows on this connection */
        }
    } else {
        mm_cert_t c;
        name_of(name, sizeof name, m->u.certify.name, m->u.certify.namelen);
        char cname[MM_NAME_WIRE_MAX + 1];
        snprintf(cname, sizeof cname, "%.*s", (int) m->u.certify.namelen, m->u.certify.name);
        if (mm_cert_decode(m->u.certify.cert, m->u.certify.certlen, &c) != MM_OK)
            refuse(&r, MM_EBADCERT, "CERTIFY: the certificate does not decode");
        else if ((rc = mm_mailbox_accept_cert(home, key, c.identity, m->u.certify.cert,
                                              m->u.certify.certlen, cname, mm_now_ms(), why,
                                              sizeof why)))
            refuse(&r, rc, why);
        else {
            mm_wire_done(&w);
            reply(&r, &w);
            mm_idcode_encode(code, MM_IDCODE_IDENTITY, c.identity);
            logline(&r, "linked: this mailbox now serves %s (%.15s)", name, code);
        }
    }
    sodium_memzero(devsig, sizeof devsig);
    free(m);
    return over;
}

/* ---- the owner's side ---- */

static int err(char *errtext, size_t cap, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int err(char *errtext, size_t cap, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errtext, cap, fmt, ap);
    va_end(ap);
    for (char *ch = errtext; *ch; ch++)     /* the mailbox's words: no control bytes */
        if ((unsigned char) *ch < 0x20)
            *ch = '?';
    return rc;
}

/* One answer on cl: the frame of type want, or the ERROR's code. */
static int answer(mm_client_t *cl, int timeout_ms, mm_msg_type_t want, mm_msg_t *m,
                  const char *ep, char *errtext, size_t cap)
{
    const uint8_t *buf;
    size_t len;
    int rc = mm_client_recv(cl, timeout_ms, &buf, &len);
    if (rc == MM_ETIMEOUT)
        return err(errtext, cap, rc, "no answer from %s (is the mailbox's mm serve running?)",
                   ep);
    if (rc == MM_EREFUSED)
        return err(errtext, cap, rc, "the mailbox at %s does not know this link code (used, "
                   "expired, or of another mailbox)", ep);
    if (rc)
        return err(errtext, cap, rc, "talking to %s: %s", ep, mm_strerror(rc));
    if (mm_wire_decode(buf, len, m) != MM_OK)
        return err(errtext, cap, MM_EPROTO, "unexpected answer from the mailbox");
    if (m->type == MM_MSG_ERROR)
        return err(errtext, cap, mm_wire_errcode(m->u.error.code, m->u.error.codelen),
                   "the mailbox refused: %.*s", (int) m->u.error.textlen, m->u.error.text);
    if (m->type != want)
        return err(errtext, cap, MM_EPROTO, "unexpected answer from the mailbox");
    return MM_OK;
}

int mm_net_mailbox_link(mm_home_t *home, const mm_mailbox_code_t *code, const char *name,
                        int timeout_ms, uint8_t device_out[32], char *errtext, size_t errcap)
{
    uint8_t pk[32], sk[32], frame[WIRE_BUF], cert[MM_CERT_MAX];
    size_t certlen = 0;
    mm_keypair_t *idk = NULL;
    mm_msg_t *m = NULL;
    mm_mp_writer_t w;
    *errtext = '\0';
    memset(sk, 0, sizeof sk);
    int rc = mm_home_identity_key(home, &idk);
    if (rc) {
        rc = rc == MM_ENOTFOUND ? MM_ENOIDENTITY : rc;
        return err(errtext, errcap, rc, "a mailbox is linked on the identity device, which "
                   "certifies it");
    }
    if (mm_now_ms() > code->expires) {
        rc = err(errtext, errcap, MM_EINVAL, "this link code has expired; make a new one with "
                 "'mm mailbox code' on the mailbox");
        goto out;
    }
    if (!(m = calloc(1, sizeof *m))) {
        rc = MM_ENOMEM;
        goto out;
    }
    mm_mailbox_link_keys(code->secret, pk, sk);
    rc = err(errtext, errcap, MM_ENOTFOUND, "the link code names no endpoint");
    for (unsigned i = 0; i < code->nendpoints; i++) {
        mm_client_t *cl = NULL;
        const char *ep = code->endpoints[i];
        if ((rc = mm_client_open(ep, code->device, pk, sk, &cl))) {
            err(errtext, errcap, rc, "cannot connect to %s", ep);
            continue;
        }
        mm_mp_writer_init(&w, frame, sizeof frame);
        mm_wire_link(&w, mm_home_identity_pk(home), mm_home_name(home));
        if ((rc = mm_mp_writer_status(&w)) == MM_OK && (rc = mm_client_send(cl, w.buf, w.len)))
            err(errtext, errcap, rc, "cannot send to %s", ep);
        if (rc == MM_OK
            && (rc = answer(cl, timeout_ms, MM_MSG_CONSENT, m, ep, errtext, errcap)) == MM_OK
            && (rc = mm_mailbox_certify(idk, code->device, m->u.consent.devsig, name,
                                        mm_now_ms(), cert, &certlen)))
            err(errtext, errcap, rc, "the mailbox's consent does not verify: %s",
                mm_strerror(rc));
        if (rc == MM_OK) {
            mm_mp_writer_init(&w, frame, sizeof frame);
            mm_wire_certify(&w, cert, certlen, mm_home_name(home));
            if ((rc = mm_mp_writer_status(&w)) || (rc = mm_client_send(cl, w.buf, w.len)))
                err(errtext, errcap, rc, "cannot send to %s", ep);
        }
        if (rc == MM_OK
            && (rc = answer(cl, timeout_ms, MM_MSG_DONE, m, ep, errtext, errcap)) == MM_OK
            && (rc = mm_mailbox_link_store(home, cert, certlen)))
            err(errtext, errcap, rc, "the mailbox is linked, but its certificate could not be "
                "stored here: %s", mm_strerror(rc));
        mm_client_close(&cl, 0);
        if (rc != MM_ETIMEOUT && rc != MM_EIO && rc != MM_EINVAL)
            break;
    }
    if (rc == MM_OK)
        memcpy(device_out, code->device, 32);
out:
    free(m);
    sodium_memzero(sk, sizeof sk);
    mm_keypair_destroy(&idk);
    return rc;
}
