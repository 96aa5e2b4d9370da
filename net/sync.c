/*  sync.c -- mm_net_sync: one session with a peer, endpoint by endpoint. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>
#include "net/net.h"
#include "net/client.h"
#include "net/syncctl.h"
#include "core/log.h"
#include "core/catchup.h"
#include "core/engage.h"
#include "core/device.h"
#include "core/endpoint.h"
#include "net/wire.h"
#include "core/news.h"
#include "crypto/error.h"

typedef struct {
    mm_home_t      *home;
    mm_news_runs_t *runs;           /* NULL: not wanted */
} events_t;

/* Questions among what arrived are recorded by core (qindex.h); the
 * caller settles the budget after the session, and may ask core what the
 * runs stored mean (news.h): net only notes where they are. */
static void on_event(void *arg, mm_session_event_t ev, const void *what)
{
    const mm_session_stored_t *st = what;
    events_t *e = arg;
    int settle;
    if (ev != MM_SESSION_STORED)
        return;
    if (e->runs)
        mm_news_runs_add(e->runs, st->scope, st->device, st->first, st->last);
    /* A failure only delays the index: the next settle records what it misses. */
    if (mm_engage_received(e->home, st->scope, st->device, st->first, st->last, &settle)
        != MM_OK)
        return;
}

/* Record when we last synced with identity, and with which device (and that
 * a restored home has caught up with it, core/catchup.h): core decides
 * whether a sync that moved nothing has anything to write. */
static int touch(mm_home_t *home, const uint8_t identity[32], const uint8_t device[32],
                 const mm_sync_stats_t *st)
{
    return mm_catchup_record(mm_home_store(home), mm_home_identity_pk(home), identity, device,
                             mm_now_ms(), st->entries_sent + st->entries_recv > 0);
}

/* ---- which devices to call, in which order ---- */

#define TARGETS_MAX 16              /* devices of one person tried per sync */
#define CONNECT_MS  3000            /* to complete a handshake, unless it is the last try */
#define RETRY_CAP_MS 5000           /* the longest wait between tries at a full server */
#define RETRY_MAX   32              /* tries at one full server, at most */
#define RETRY_LOST_MS 500           /* before a new session after a lost connection */
#define TARGET_EPS  (2 * MM_PEER_ENDPOINTS)

typedef struct {
    uint8_t  device[32];
    uint8_t  expect[32];            /* the identity its certificate names */
    unsigned via;                   /* MM_VIA_*: a device, the peer's mailbox, ours */
    unsigned n;
    char     eps[TARGET_EPS][MM_ENDPOINT_MAX + 1];
} target_t;

typedef struct {
    const mm_peer_t *p;
    target_t *t;
    unsigned n;
    int first_revoked;              /* the peer record's device is revoked */
    int own;                        /* p is one of our own devices: that one only */
    unsigned via;                   /* which mailboxes the walk adds (add_mailbox) */
} targets_t;

static void add_ep(target_t *t, const char *ep)
{
    for (unsigned i = 0; i < t->n; i++)
        if (strcmp(t->eps[i], ep) == 0)
            return;
    if (t->n < TARGET_EPS)
        snprintf(t->eps[t->n++], sizeof t->eps[0], "%s", ep);
}

static int add_device(const mm_device_t *d, void *arg)
{
    targets_t *ts = arg;
    int first = memcmp(d->cert.device, ts->p->device, 32) == 0;
    if (ts->own && !first)
        return 0;                   /* one's own devices are each a sync of their own */
    if (!ts->own && (d->cert.flags & MM_CERT_MAILBOX))
        return 0;                   /* a peer's mailbox comes after its devices */
    if (d->revoked) {
        ts->first_revoked |= first;
        return 0;
    }
    if (first) {                    /* target 0, set up by the caller */
        for (unsigned i = 0; d->has_endpoints && i < d->endpoints.n; i++)
            add_ep(&ts->t[0], d->endpoints.endpoints[i]);
        return 0;
    }
    if (!d->has_endpoints || d->endpoints.n == 0 || ts->n >= TARGETS_MAX)
        return 0;
    target_t *t = &ts->t[ts->n++];
    memcpy(t->device, d->cert.device, 32);
    memcpy(t->expect, d->cert.identity, 32);
    t->via = MM_VIA_DEVICE;
    t->n = 0;
    for (unsigned i = 0; i < d->endpoints.n; i++)
        add_ep(t, d->endpoints.endpoints[i]);
    return 0;
}

/* A current mailbox (PROTOCOL.md 14.5) that announced where it listens:
 * tried when none of the person's devices answered. */
static int add_mailbox(const mm_device_t *d, void *arg)
{
    targets_t *ts = arg;
    if (!(d->cert.flags & MM_CERT_MAILBOX) || d->revoked || !d->has_endpoints
        || d->endpoints.n == 0 || ts->n >= TARGETS_MAX)
        return 0;
    target_t *t = &ts->t[ts->n++];
    memcpy(t->device, d->cert.device, 32);
    memcpy(t->expect, d->cert.identity, 32);
    t->via = ts->via;
    t->n = 0;
    for (unsigned i = 0; i < d->endpoints.n; i++)
        add_ep(t, d->endpoints.endpoints[i]);
    return 0;
}

/* The devices of p's person to try: the one of the peer record first (the
 * endpoints it announced in its signed statement, then those of the record,
 * which may be stale; for one's own device given --endpoint, those first),
 * then every other current device that announced where it listens.
 * Revoked devices are never called. */
static int targets_of(mm_home_t *home, const mm_peer_t *p, targets_t *ts)
{
    mm_txn_t *txn;
    target_t *t0 = &ts->t[0];
    memcpy(t0->device, p->device, 32);
    t0->n = 0;
    ts->n = 1;
    ts->own = memcmp(p->identity, mm_home_identity_pk(home), 32) == 0;
    for (unsigned i = 0; ts->own && i < p->nendpoints; i++)
        add_ep(t0, p->endpoints[i]);
    int rc = mm_store_begin(mm_home_store(home), 0, &txn);
    if (rc)
        return rc;
    memcpy(t0->expect, p->identity, 32);
    t0->via = MM_VIA_DEVICE;
    rc = mm_device_foreach(txn, p->identity, add_device, ts);
    for (unsigned i = 0; i < p->nendpoints; i++)
        add_ep(t0, p->endpoints[i]);
    /* then, for a peer, its mailboxes and ours: store and forward (14.5) */
    if (rc == MM_OK && !ts->own) {
        ts->via = MM_VIA_THEIR_MAILBOX;
        rc = mm_device_foreach(txn, p->identity, add_mailbox, ts);
    }
    if (rc == MM_OK && !ts->own) {
        ts->via = MM_VIA_OWN_MAILBOX;
        rc = mm_device_foreach(txn, mm_home_identity_pk(home), add_mailbox, ts);
    }
    mm_txn_abort(&txn);
    if (ts->first_revoked) {        /* drop target 0 */
        memmove(&ts->t[0], &ts->t[1], (ts->n - 1) * sizeof ts->t[0]);
        ts->n--;
    }
    return rc;
}

/* ---- one sync alone, or one of several at once (many.c) ---- */

static void lock(const mm_net_ctl_t *ctl)
{
    if (ctl && ctl->lock)
        pthread_mutex_lock(ctl->lock);
}

static void unlock(const mm_net_ctl_t *ctl)
{
    if (ctl && ctl->lock)
        pthread_mutex_unlock(ctl->lock);
}

/* The wait an MM_EBUSY ERROR's text asks for ("... retry after N ms",
 * PROTOCOL.md 8.6), or 0 when it names none (an older server, or this
 * store's own MM_EBUSY). */
static unsigned retry_after(const char *text)
{
    const char *k = "retry after ", *at = NULL;
    for (const char *q = strstr(text, k); q; q = strstr(q + 1, k))
        at = q;
    if (!at)
        return 0;
    char *end;
    unsigned long ms = strtoul(at + strlen(k), &end, 10);
    if (end == at + strlen(k) || strncmp(end, " ms", 3) != 0)
        return 0;
    return ms < 1 ? 1 : ms > RETRY_CAP_MS ? RETRY_CAP_MS : (unsigned) ms;
}

/* One session at ep.  The CURVE handshake must complete within connect_ms
 * (a silent address costs no more before the next is tried), then each
 * frame within timeout_ms.  Every touch of the store is under ctl's lock. */
static int one_endpoint(mm_home_t *home, const uint8_t expect[32], const uint8_t device[32],
                        const char *ep, int connect_ms, int timeout_ms,
                        const uint8_t pk[32], const uint8_t sk[32], mm_sync_stats_t *stats,
                        mm_news_runs_t *runs, int *heard, int *lost,
                        const mm_net_ctl_t *ctl, char *errtext, size_t errcap)
{
    events_t ev = { home, runs };
    mm_client_t *c = NULL;
    mm_session_t *s = NULL;
    uint8_t remote[32];
    const uint8_t *buf;
    size_t len;
    int rc = mm_pk_to_x25519(remote, device);
    if (rc || (rc = mm_client_open_x(ep, remote, pk, sk, &c))) {
        snprintf(errtext, errcap, "cannot connect to %s", ep);
        goto out;
    }
    mm_client_fail_fast(c);
    /* HELLO, DEVICES and HAVE are made while libzmq connects and does the
     * CURVE handshake on its I/O thread, and wait in the socket's queue:
     * libzmq sends no application frame before that handshake succeeds,
     * so they go out as soon as it does, and only to the expected key.  A
     * failed handshake drops them (linger 0 on close). */
    lock(ctl);
    if ((rc = mm_session_new(home, 1, remote, expect, mm_client_send, c, &s))
        || (mm_session_on_event(s, on_event, &ev), mm_session_on_take(s, mm_client_take),
            rc = mm_session_start(s))) {
        unlock(ctl);
        snprintf(errtext, errcap, "cannot start a session: %s", mm_strerror(rc));
        goto out;
    }
    unlock(ctl);
    if ((rc = mm_client_handshake(c, connect_ms)))
        goto failed;
    *lost = 1;                      /* from here on, an MM_EIO of the client is a loss */
    while (!mm_session_done(s)) {
        if ((rc = mm_client_recv(c, timeout_ms, &buf, &len)))
            goto failed;
        *lost = 0;                  /* a frame: an MM_EIO now would be ours */
        *heard = 1;
        lock(ctl);
        /* one frame of lookahead: a run queued behind this one is checked
         * on the pool while this one commits (mm_session_next) */
        const uint8_t *nbuf;
        size_t nlen;
        if (mm_client_peek(c, &nbuf, &nlen) == MM_OK)
            mm_session_next(s, nbuf, nlen);
        rc = mm_session_input(s, buf, len);
        *lost = rc == MM_OK;
        if (ctl && ctl->live)
            *ctl->live = *mm_session_stats(s);
        unlock(ctl);
        if (rc) {
            snprintf(errtext, errcap, "%s", *mm_session_error_text(s)
                     ? mm_session_error_text(s) : mm_strerror(rc));
            goto out;
        }
    }
    *stats = *mm_session_stats(s);
    goto out;
failed:
    snprintf(errtext, errcap, rc == MM_ETIMEOUT ? "no answer from %s"
             : rc == MM_ENOLISTEN ? "nothing listens at %s (connection refused)"
             : rc == MM_EIO ? "the connection to %s was lost"
             : rc == MM_EREFUSED ? "%s refused this device (not its peer, blocked, or this device is revoked)"
             : "handshake with %s failed (not an mm peer, or not the expected device)",
             ep);
out:
    lock(ctl);
    mm_session_destroy(&s);
    unlock(ctl);
    mm_client_close(&c, rc == MM_OK);
    return rc;
}

/* One endpoint, and again while its server is full and says when to come
 * back (MM_EBUSY, PROTOCOL.md 8.6): after its wait doubled at each try
 * (up to RETRY_CAP_MS), times a random factor from 1/2 to 3/2, so that the
 * refused clients do not return together; never past deadline. */
static int endpoint_retrying(mm_home_t *home, const target_t *t, const char *ep,
                             int connect_ms, int timeout_ms, uint64_t deadline,
                             const uint8_t pk[32], const uint8_t sk[32],
                             mm_sync_stats_t *stats, mm_news_runs_t *runs, int *heard,
                             const mm_net_ctl_t *ctl, char *errtext, size_t errcap)
{
    for (unsigned attempt = 0;; attempt++) {
        int lost = 0;
        int rc = one_endpoint(home, t->expect, t->device, ep, connect_ms, timeout_ms, pk, sk,
                              stats, runs, heard, &lost, ctl, errtext, errcap);
        /* a full server says when; a lost connection is tried again too
         * (a new session: what was committed stays, the rest comes again) */
        unsigned wait = rc == MM_EBUSY ? retry_after(errtext)
                        : rc == MM_EIO && lost ? RETRY_LOST_MS : 0;
        if (wait == 0 || attempt >= RETRY_MAX)
            return rc;
        uint64_t w = (uint64_t) wait << (attempt < 4 ? attempt : 4);
        if (w > RETRY_CAP_MS)
            w = RETRY_CAP_MS;
        w = w / 2 + randombytes_uniform((uint32_t) w + 1);
        if (mm_mono_ms() + w >= deadline)
            return rc;
        if (ctl && ctl->tried) {
            lock(ctl);
            ctl->tried(ctl->arg, t->device, t->via, ep, rc, errtext, (unsigned) w);
            unlock(ctl);
        }
        struct timespec ts = { (time_t) (w / 1000), (long) (w % 1000) * 1000000L };
        while (nanosleep(&ts, &ts) != 0)
            ;
        *heard = 0;
    }
}

int mm_net_sync(mm_home_t *home, const mm_peer_t *p, int timeout_ms,
                mm_sync_stats_t *stats, mm_news_runs_t *runs, char *errtext, size_t errcap)
{
    return mm_net_sync_ctl(home, p, timeout_ms, stats, runs, NULL, errtext, errcap);
}

int mm_net_sync_ctl(mm_home_t *home, const mm_peer_t *p, int timeout_ms,
                    mm_sync_stats_t *stats, mm_news_runs_t *runs, const mm_net_ctl_t *ctl,
                    char *errtext, size_t errcap)
{
    uint8_t pk[32], sk[32];
    int rc = MM_ENOTFOUND, heard;
    unsigned d = 0;
    uint64_t deadline = mm_mono_ms() + (uint64_t) timeout_ms;
    targets_t ts = { p, malloc(TARGETS_MAX * sizeof *ts.t), 0, 0, 0, 0 };
    memset(stats, 0, sizeof *stats);
    snprintf(errtext, errcap, "no address known");
    if (!ts.t)
        return MM_ENOMEM;
    lock(ctl);
    rc = targets_of(home, p, &ts);
    unlock(ctl);
    if (rc) {
        snprintf(errtext, errcap, "cannot read the peer's devices: %s", mm_strerror(rc));
        free(ts.t);
        return rc;
    }
    rc = MM_ENOTFOUND;
    mm_keypair_x25519(mm_home_device(home), pk, sk);
    /* device by device, address by address, until one answers: only
     * silence is worth another address or another device; then mailbox
     * by mailbox (14.5): a device of the
     * person that answered has the last word; a mailbox that answered but
     * failed (unlinked, full) is no reason not to try the next one.  Each
     * try but the last has CONNECT_MS to complete its handshake: a silent
     * address must not cost the whole timeout before the next is tried. */
    char devices_said[256] = "";    /* why the person's devices did not serve */
    for (d = 0; d < ts.n; d++) {
        heard = 0;
        for (unsigned i = 0; i < ts.t[d].n; i++) {
            int last = d + 1 == ts.n && i + 1 == ts.t[d].n;
            int connect_ms = last || timeout_ms < CONNECT_MS ? timeout_ms : CONNECT_MS;
            rc = endpoint_retrying(home, &ts.t[d], ts.t[d].eps[i], connect_ms, timeout_ms,
                                   deadline, pk, sk, stats, runs, &heard, ctl, errtext,
                                   errcap);
            if (ctl && ctl->tried) {
                lock(ctl);
                ctl->tried(ctl->arg, ts.t[d].device, ts.t[d].via, ts.t[d].eps[i], rc,
                           errtext, 0);
                unlock(ctl);
            }
            if (rc == MM_OK || heard || rc == MM_EREFUSED)
                break;
        }
        if (rc == MM_OK || (ts.t[d].via == MM_VIA_DEVICE && (heard || rc == MM_EREFUSED)))
            break;
        if (ts.t[d].via == MM_VIA_DEVICE && !*devices_said)
            snprintf(devices_said, sizeof devices_said, "%s", errtext);
    }
    /* all failed, the last try a mailbox: say both, not just the mailbox's address */
    if (rc != MM_OK && d == ts.n && d > 0 && ts.t[d - 1].via != MM_VIA_DEVICE) {
        char said[512];
        const char *whose = ts.t[d - 1].via == MM_VIA_OWN_MAILBOX ? "your" : "their";
        if (rc == MM_ETIMEOUT || rc == MM_ENOTFOUND || rc == MM_EIO || rc == MM_ENOLISTEN)
            snprintf(said, sizeof said, "%s; nor did %s mailbox answer", *devices_said
                     ? devices_said : "none of their devices answered", whose);
        else
            snprintf(said, sizeof said, "through %s mailbox: %s", whose, errtext);
        snprintf(errtext, errcap, "%s", said);
    }
    sodium_memzero(sk, sizeof sk);
    if (rc == MM_OK) {              /* bookkeeping: the sync succeeded either way */
        stats->via = ts.t[d].via;
        lock(ctl);
        (void) touch(home, ts.t[d].expect, ts.t[d].device, stats);
        unlock(ctl);
    }
    free(ts.t);
    return rc;
}

/* One try at telling the mailbox at ep: a session whose DEVICES carries
 * the revocation.  Our side ends it at the mailbox's HELLO (a revoked
 * device); the mailbox, once it stored our DEVICES, ends it too, with
 * MM_EREVOKED: that ERROR is the proof it heard.  The connection is
 * flushed on close, so that what we sent reaches it either way. */
static int tell_one(mm_home_t *home, const uint8_t device[32], const char *ep, int timeout_ms,
                    const uint8_t pk[32], const uint8_t sk[32], char *errtext, size_t errcap)
{
    mm_client_t *c = NULL;
    mm_session_t *s = NULL;
    mm_msg_t *m = malloc(sizeof *m);
    uint8_t remote[32];
    const uint8_t *buf;
    size_t len;
    int rc = m ? mm_pk_to_x25519(remote, device) : MM_ENOMEM;
    if (rc || (rc = mm_client_open(ep, device, pk, sk, &c))) {
        snprintf(errtext, errcap, "cannot connect to %s", ep);
        goto out;
    }
    if ((rc = mm_session_new(home, 1, remote, mm_home_identity_pk(home), mm_client_send, c, &s))
        || (rc = mm_session_start(s)))
        goto out;
    for (;;) {
        if ((rc = mm_client_recv(c, timeout_ms, &buf, &len))) {
            snprintf(errtext, errcap, "no answer from the mailbox at %s", ep);
            break;
        }
        if (mm_wire_decode(buf, len, m) == MM_OK && m->type == MM_MSG_ERROR) {
            rc = mm_wire_errcode(m->u.error.code, m->u.error.codelen);
            snprintf(errtext, errcap, "%.*s", (int) m->u.error.textlen, m->u.error.text);
            break;
        }
        if (mm_session_input(s, buf, len) != MM_OK)
            continue;               /* ours ended (a revoked device): wait for its word */
    }
out:
    mm_session_destroy(&s);
    mm_client_close(&c, 1);
    free(m);
    return rc;
}

int mm_net_mailbox_tell(mm_home_t *home, const uint8_t device[32], int timeout_ms,
                        char *errtext, size_t errcap)
{
    mm_txn_t *txn;
    mm_endpoint_t e;
    uint8_t pk[32], sk[32];
    snprintf(errtext, errcap, "no address of the mailbox known");
    int rc = mm_store_begin(mm_home_store(home), 0, &txn);
    if (rc)
        return rc;
    rc = mm_endpoint_get(txn, device, &e, NULL, NULL);
    mm_txn_abort(&txn);
    if (rc)
        return rc;
    mm_keypair_x25519(mm_home_device(home), pk, sk);
    rc = MM_ENOTFOUND;
    for (unsigned i = 0; i < e.n && rc != MM_EREVOKED; i++)
        rc = tell_one(home, device, e.endpoints[i], timeout_ms, pk, sk, errtext, errcap);
    sodium_memzero(sk, sizeof sk);
    return rc == MM_EREVOKED ? MM_OK : rc == MM_OK ? MM_EPROTO : rc;
}
