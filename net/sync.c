/*  sync.c -- mm_net_sync: one session with a peer, endpoint by endpoint. */
#include <stdio.h>
#include <string.h>
#include <sodium.h>
#include "net/net.h"
#include "net/client.h"
#include "core/catchup.h"
#include "core/engage.h"
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

/* Record when we last synced with identity (and that a restored home has
 * caught up with it, core/catchup.h). */
static int touch(mm_home_t *home, const uint8_t identity[32])
{
    mm_txn_t *txn;
    int rc = mm_store_begin(mm_home_store(home), 1, &txn);
    if (rc == MM_OK && (rc = mm_catchup_synced(txn, mm_home_identity_pk(home), identity,
                                                      mm_now_ms())) == MM_OK)
        rc = mm_txn_commit(&txn);
    mm_txn_abort(&txn);
    return rc;
}

static int one_endpoint(mm_home_t *home, const mm_peer_t *p, const char *ep, int timeout_ms,
                        const uint8_t pk[32], const uint8_t sk[32], mm_sync_stats_t *stats,
                        mm_news_runs_t *runs, int *heard, char *errtext, size_t errcap)
{
    events_t ev = { home, runs };
    mm_client_t *c = NULL;
    mm_session_t *s = NULL;
    uint8_t remote[32];
    const uint8_t *buf;
    size_t len;
    int rc = mm_pk_to_x25519(remote, p->device);
    if (rc || (rc = mm_client_open(ep, p->device, pk, sk, &c))) {
        snprintf(errtext, errcap, "cannot connect to %s", ep);
        goto out;
    }
    if ((rc = mm_session_new(home, 1, remote, p->identity, mm_client_send, c, &s))
        || (mm_session_on_event(s, on_event, &ev), rc = mm_session_start(s))) {
        snprintf(errtext, errcap, "cannot start a session: %s", mm_strerror(rc));
        goto out;
    }
    while (!mm_session_done(s)) {
        if ((rc = mm_client_recv(c, timeout_ms, &buf, &len))) {
            snprintf(errtext, errcap, rc == MM_ETIMEOUT ? "no answer from %s"
                     : rc == MM_EREFUSED ? "%s refused this device (not its peer, or blocked)"
                     : "handshake with %s failed (not an mm peer, or not the expected device)",
                     ep);
            goto out;
        }
        *heard = 1;
        if ((rc = mm_session_input(s, buf, len))) {
            snprintf(errtext, errcap, "%s", *mm_session_error_text(s)
                     ? mm_session_error_text(s) : mm_strerror(rc));
            goto out;
        }
    }
    *stats = *mm_session_stats(s);
out:
    mm_session_destroy(&s);
    mm_client_close(&c, rc == MM_OK);
    return rc;
}

int mm_net_sync(mm_home_t *home, const mm_peer_t *p, int timeout_ms,
                mm_sync_stats_t *stats, mm_news_runs_t *runs, char *errtext, size_t errcap)
{
    uint8_t pk[32], sk[32];
    int rc = MM_ENOTFOUND;
    memset(stats, 0, sizeof *stats);
    snprintf(errtext, errcap, "no endpoint known");
    mm_keypair_x25519(mm_home_device(home), pk, sk);
    for (unsigned i = 0; i < p->nendpoints; i++) {
        int heard = 0;
        rc = one_endpoint(home, p, p->endpoints[i], timeout_ms, pk, sk, stats, runs, &heard,
                          errtext, errcap);
        if (rc == MM_OK || heard || rc == MM_EREFUSED)
            break;                  /* only silence is worth another address */
    }
    sodium_memzero(sk, sizeof sk);
    if (rc == MM_OK && memcmp(p->identity, mm_home_identity_pk(home), 32) != 0) {
        (void) touch(home, p->identity);    /* bookkeeping: the sync succeeded either way */
    }
    return rc;
}
