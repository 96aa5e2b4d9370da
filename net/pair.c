/*  pair.c -- both sides of pairing a device (PROTOCOL.md 9.1): the
 *  identity device's listener (mm serve's machinery with a hook for the
 *  pairing key) and the joining device's two connections. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <zmq.h>
#include "net/net.h"
#include "net/client.h"
#include "net/serve_hook.h"
#include "net/wire.h"
#include "net/zmqutil.h"
#include "core/pair.h"
#include "core/log.h"
#include "crypto/error.h"

#define JOIN_TIMEOUT_MS 10000       /* to reach the pairing device at one endpoint */

/* ---- sending a frame that holds a secret ---- */

static void wipe_free(void *data, void *hint)
{
    sodium_memzero(data, (size_t) (uintptr_t) hint);
    free(data);
}

void mm_serve_reply_secret(void *router, const uint8_t *rid, size_t ridlen, const uint8_t *buf,
                           size_t len)
{
    zmq_msg_t msg;
    uint8_t *copy = malloc(len);
    if (!copy)
        return;
    memcpy(copy, buf, len);
    /* NOLINTBEGIN(performance-no-int-to-ptr) */
    if (zmq_msg_init_data(&msg, copy, len, wipe_free, (void *) (uintptr_t) len)) {
        wipe_free(copy, (void *) (uintptr_t) len);
        /* NOLINTEND(performance-no-int-to-ptr) */
        return;
    }
    if (zmq_send(router, rid, ridlen, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0
        || zmq_msg_send(&msg, router, ZMQ_DONTWAIT) < 0)
        zmq_msg_close(&msg);        /* not sent: still ours, wiped here */
}

/* ---- the identity device ---- */

typedef struct {
    mm_home_t *home;
    mm_keypair_t *identity;
    mm_pair_code_t code;
    uint8_t pk[32];                 /* the pairing key: CURVE client key of joiners */
    char text[MM_PAIR_CODE_MAX];
    const char *want_name;
    const mm_pair_events_t *ev;
    const volatile sig_atomic_t *stop;
    mm_serve_log_fn log;
    void *logarg;
    /* The code is used once a device is certified.  Kept in memory only:
     * this process is the only holder of the secret's use, and it stops
     * listening for the key when it exits (the code dies with it). */
    int used;
    uint64_t used_at;
    uint8_t joined_x[32];           /* X25519 form of the certified device */
    mm_pair_outcome_t *out;
} pairer_t;

static void plog(pairer_t *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void plog(pairer_t *p, const char *fmt, ...)
{
    char line[400];
    va_list ap;
    if (!p->log)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    p->log(p->logarg, line);
}

static int owns(void *arg, const uint8_t key[32])
{
    pairer_t *p = arg;
    return memcmp(key, p->pk, 32) == 0;
}

static void answer_error(pairer_t *p, void *router, const uint8_t *rid, size_t ridlen, int rc,
                         const char *text)
{
    uint8_t buf[1200];
    mm_mp_writer_t w;
    mm_mp_writer_init(&w, buf, sizeof buf);
    mm_wire_error(&w, rc, text);
    if (mm_mp_writer_status(&w) == MM_OK) {
        zmq_send(router, rid, ridlen, ZMQ_SNDMORE | ZMQ_DONTWAIT);
        zmq_send(router, w.buf, w.len, ZMQ_DONTWAIT);
    }
    p->out->refused++;
    plog(p, "refused a joining device: %s", text);
}

static void on_join(void *arg, const uint8_t key[32], const uint8_t *buf, size_t len,
                    void *router, const uint8_t *rid, size_t ridlen)
{
    pairer_t *p = arg;
    mm_pair_join_t j;
    uint8_t cert[MM_CERT_MAX], *frame = NULL;
    size_t certlen, flen = 0;
    char fp[MM_PAIR_FP_LEN + 1], why[256], text[400];
    int rc;
    if ((rc = mm_pair_code_open(&p->code, p->used, mm_now_ms(), why, sizeof why))) {
        answer_error(p, router, rid, ridlen, rc, why);
        return;
    }
    if ((rc = mm_pair_join_parse(buf, len, &j))) {
        answer_error(p, router, rid, ridlen, rc == MM_EPROTO ? MM_EPROTO : rc, "expected JOIN");
        return;
    }
    /* the proof first: the person is asked only about a device that
     * holds its key and asked to be this identity's */
    if ((rc = mm_cert_complete(p->identity, j.device, j.created, j.name, 0, j.devsig, cert,
                               sizeof cert, &certlen))) {
        answer_error(p, router, rid, ridlen, rc, "the device's proof does not verify");
        return;
    }
    mm_pair_fingerprint(j.device, fp);
    if (p->want_name && strcmp(p->want_name, j.name) != 0) {
        snprintf(text, sizeof text, "this code is for a device named '%s', not '%s'",
                 p->want_name, j.name);
        answer_error(p, router, rid, ridlen, MM_EREFUSED, text);
        return;
    }
    if (!p->ev->confirm(p->ev->arg, j.name, fp)) {
        snprintf(text, sizeof text, "the person on the identity device did not confirm "
                 "device '%s' (%s); the code stays valid until it expires", j.name, fp);
        answer_error(p, router, rid, ridlen, MM_EREFUSED, text);
        return;
    }
    /* the question may have waited past the expiry */
    if ((rc = mm_pair_code_open(&p->code, p->used, mm_now_ms(), why, sizeof why))) {
        answer_error(p, router, rid, ridlen, rc, why);
        return;
    }
    if ((rc = mm_pair_grant(p->home, p->identity, &j, &frame, &flen, why, sizeof why))) {
        answer_error(p, router, rid, ridlen, rc, why);
        return;
    }
    p->used = 1;
    p->used_at = mm_mono_ms();
    if (mm_pk_to_x25519(p->joined_x, j.device))
        memset(p->joined_x, 0, 32);
    p->out->certified = 1;
    snprintf(p->out->name, sizeof p->out->name, "%s", j.name);
    snprintf(p->out->fingerprint, sizeof p->out->fingerprint, "%s", fp);
    mm_serve_reply_secret(router, rid, ridlen, frame, flen);
    mm_pair_paired_free(&frame, flen);
    plog(p, "certified device '%s' (%s); waiting for its first sync", j.name, fp);
    if (p->ev->certified)
        p->ev->certified(p->ev->arg, j.name, fp);
    (void) key;
}

static void on_ready(void *arg, char eps[][MM_ENDPOINT_MAX + 1], unsigned n)
{
    pairer_t *p = arg;
    mm_pair_code_new(p->home, mm_now_ms() + p->code.expires, eps, n, &p->code);
    uint8_t sk[32];
    mm_pair_keys(p->code.secret, p->pk, sk);
    sodium_memzero(sk, sizeof sk);
    if (mm_pair_code_encode(&p->code, p->text, sizeof p->text) == MM_OK && p->ev->ready)
        p->ev->ready(p->ev->arg, p->text, &p->code);
}

static void on_synced(void *arg, const uint8_t key[32])
{
    pairer_t *p = arg;
    if (p->used && memcmp(key, p->joined_x, 32) == 0)
        p->out->synced = 1;
}

static int on_tick(void *arg)
{
    pairer_t *p = arg;
    uint64_t now = mm_now_ms();
    if (p->out->synced || *p->stop)
        return 1;
    if (!p->used)
        return now > p->code.expires;   /* the issuer's wall clock decides expiry */
    return mm_mono_ms() - p->used_at > MM_SESSION_MAX_MS;
}

int mm_net_pair_serve(mm_home_t *home, char *const *listen, size_t nlisten, uint64_t ttl_ms,
                      const char *want_name, const mm_pair_events_t *ev,
                      const volatile sig_atomic_t *stop, mm_serve_log_fn log, void *logarg,
                      mm_pair_outcome_t *out, char *errtext, size_t errcap)
{
    static const volatile sig_atomic_t never = 0;
    pairer_t *p = sodium_malloc(sizeof *p);
    int rc;
    memset(out, 0, sizeof *out);
    *errtext = '\0';
    if (!p)
        return MM_ENOMEM;
    memset(p, 0, sizeof *p);
    if ((rc = mm_home_identity_key(home, &p->identity))) {
        snprintf(errtext, errcap, "cannot load the identity key: %s", mm_strerror(rc));
        if (rc == MM_ENOTFOUND)
            rc = MM_ENOIDENTITY;
        goto out;
    }
    p->home = home;
    p->code.expires = ttl_ms;       /* relative until on_ready makes the code */
    p->want_name = want_name;
    p->ev = ev;
    p->stop = stop ? stop : &never;
    p->log = log;
    p->logarg = logarg;
    p->out = out;
    mm_serve_hook_t hook = { owns, on_join, on_ready, on_synced, on_tick, p };
    rc = mm_serve_run_hook(home, listen, nlisten, &never, log, logarg, &hook, errtext, errcap);
    if (rc == MM_OK && !out->synced && !*p->stop) {
        rc = MM_ETIMEOUT;
        snprintf(errtext, errcap, out->certified
                 ? "device '%s' was certified but did not sync in time" : "the code expired "
                 "unused", out->name);
    }
out:
    mm_keypair_destroy(&p->identity);
    sodium_free(p);                 /* wipes the secret with it */
    return rc;
}

/* ---- the joining device ---- */

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

/* One endpoint: JOIN, then PAIRED or ERROR.  *answered: the pairing
 * device was there. */
static int join_one(const char *path, const mm_pair_code_t *code, const mm_keypair_t *device,
                    const char *ep, const uint8_t *join, size_t joinlen, int timeout_ms,
                    mm_pair_summary_t *sum, int *answered, char *errtext, size_t errcap)
{
    uint8_t pk[32], sk[32];
    mm_client_t *cl = NULL;
    const uint8_t *buf;
    size_t len;
    mm_msg_t *m = NULL;
    int rc;
    mm_pair_keys(code->secret, pk, sk);
    rc = mm_client_open(ep, code->device, pk, sk, &cl);
    sodium_memzero(sk, sizeof sk);
    if (rc)
        return err(errtext, errcap, rc, "cannot connect to %s", ep);
    if ((rc = mm_client_send(cl, join, joinlen)) == MM_OK)
        rc = mm_client_handshake(cl, timeout_ms);
    if (rc == MM_ETIMEOUT || rc == MM_EPROTO) {
        err(errtext, errcap, MM_ETIMEOUT, "nothing answers this code at %s: the pairing "
            "device stops listening once its code is used or expires, and a code of "
            "another device cannot reach this one", ep);
        rc = MM_ETIMEOUT;
        goto out;
    }
    if (rc) {
        err(errtext, errcap, rc, "the device at %s refused this code", ep);
        goto out;
    }
    *answered = 1;
    /* the person on the identity device has until the code expires; by
     * this device's clock, which may be days behind the issuer's: never
     * longer than a code can last */
    uint64_t now = mm_now_ms();
    uint64_t left = code->expires > now ? code->expires - now : 0;
    if (left > MM_PAIR_TTL_MAX)
        left = MM_PAIR_TTL_MAX;
    int wait = left ? (int) (left + 5000) : timeout_ms;
    if (wait < timeout_ms)
        wait = timeout_ms;
    if ((rc = mm_client_recv(cl, wait, &buf, &len))) {
        err(errtext, errcap, rc, rc == MM_ETIMEOUT ? "no answer from the identity device"
            : "the connection to the identity device failed");
        goto out;
    }
    /* ERROR, or else it must be PAIRED (not a session message) */
    if (!(m = malloc(sizeof *m))) {
        rc = MM_ENOMEM;
        goto out;
    }
    if (mm_wire_decode(buf, len, m) == MM_OK && m->type == MM_MSG_ERROR) {
        rc = err(errtext, errcap, mm_wire_errcode(m->u.error.code, m->u.error.codelen),
                 "the identity device refused: %.*s", (int) m->u.error.textlen,
                 m->u.error.text);
        for (char *ch = errtext; *ch; ch++)     /* its words: no control bytes */
            if ((unsigned char) *ch < 0x20)
                *ch = '?';
        goto out;
    }
    if ((rc = mm_pair_apply(path, code, device, buf, len, mm_now_ms(), sum)))
        err(errtext, errcap, rc, rc == MM_EEXIST ? "%s is not empty any more" :
            "cannot build the home from what the identity device sent: %s", rc == MM_EEXIST
            ? path : mm_strerror(rc));
out:
    mm_client_wipe(cl);             /* PAIRED held every scope key */
    mm_client_close(&cl, 0);
    if (m)
        sodium_memzero(m, sizeof *m);
    free(m);
    return rc;
}

int mm_net_pair_join(const char *path, const mm_pair_code_t *code, const char *devname,
                     int timeout_ms, void (*waiting)(void *arg, const char *fingerprint),
                     void *arg, mm_pair_summary_t *sum, mm_sync_stats_t *stats,
                     int *home_made, char *errtext, size_t errcap)
{
    uint8_t join[MM_PAIR_JOIN_MAX];
    size_t joinlen;
    char fp[MM_PAIR_FP_LEN + 1];
    mm_keypair_t *device = NULL;
    mm_home_t *home = NULL;
    unsigned first = 0;
    int rc;
    *errtext = '\0';
    *home_made = 0;
    memset(sum, 0, sizeof *sum);
    memset(stats, 0, sizeof *stats);
    if ((rc = mm_pair_code_usable(code, mm_now_ms(), errtext, errcap)))
        return rc;
    if (!(device = mm_keypair_new()))
        return MM_ENOMEM;
    if ((rc = mm_pair_join_build(device, code, devname, mm_now_ms(), join, sizeof join,
                                 &joinlen))) {
        err(errtext, errcap, rc, "'%s' cannot be a device name", devname);
        goto out;
    }
    mm_pair_fingerprint(mm_keypair_pk(device), fp);
    if (waiting)
        waiting(arg, fp);
    rc = err(errtext, errcap, MM_ENOTFOUND, "the code names no endpoint");
    for (unsigned i = 0; i < code->nendpoints; i++) {
        int answered = 0;
        rc = join_one(path, code, device, code->endpoints[i], join, joinlen, timeout_ms, sum,
                      &answered, errtext, errcap);
        first = i;
        if (rc == MM_OK || answered)
            break;
    }
    if (rc)
        goto out;
    *home_made = 1;
    /* Test knob: MM_TEST_PAIR_NOSYNC set, the new home is left without its
     * first sync, so that a test sees the pairer hold a used code. */
    if (getenv("MM_TEST_PAIR_NOSYNC"))
        goto out;
    /* a normal session as this person's own device: every scope */
    if ((rc = mm_home_open(path, &home))) {
        err(errtext, errcap, rc, "cannot open the new home: %s", mm_strerror(rc));
        goto out;
    }
    mm_peer_t self;
    memset(&self, 0, sizeof self);
    memcpy(self.identity, code->identity, 32);
    memcpy(self.device, code->device, 32);
    snprintf(self.petname, sizeof self.petname, "identity device");
    for (unsigned i = 0; i < code->nendpoints; i++)     /* the one that answered first */
        snprintf(self.endpoints[self.nendpoints++], MM_ENDPOINT_MAX + 1, "%s",
                 code->endpoints[(first + i) % code->nendpoints]);
    rc = mm_net_sync(home, &self, timeout_ms, stats, NULL, errtext, errcap);
out:
    mm_home_close(&home);
    mm_keypair_destroy(&device);
    return rc;
}
