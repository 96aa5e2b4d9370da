/*  budget.c -- the mentor's capacity and the queue of questions. */
#include <stdlib.h>
#include <string.h>
#include "core/budget.h"
#include "core/catchup.h"
#include "core/item.h"
#include "core/peer.h"
#include "core/qindex.h"
#include "core/question.h"
#include "core/log.h"
#include "core/device.h"
#include "core/engage.h"
#include "crypto/error.h"

int mm_budget_away_of(mm_home_t *home, const uint8_t peer[32], uint64_t now, uint64_t *until)
{
    static const char *const types[] = { MM_T_AWAY, NULL };
    mm_items_t items = { 0 };
    mm_txn_t *txn;
    mm_peer_t p;
    uint64_t u = 0;
    *until = 0;
    int rc = mm_store_begin(mm_home_store(home), 0, &txn);
    if (rc)
        return rc;
    if ((rc = mm_peer_get(txn, peer, &p)) == MM_OK
        && (rc = mm_items_load_txn(txn, p.scope, types, &items)) == MM_ENOTFOUND)
        rc = MM_OK;                 /* no relationship scope yet: never away */
    for (size_t i = 0; rc == MM_OK && i < items.n; i++)   /* in time order: the latest wins */
        if (!memcmp(items.v[i].author, peer, 32)
            && mm_body_uint(items.v[i].pt, items.v[i].ptlen, "until", &u) != MM_OK)
            u = 0;
    if (rc == MM_OK)
        *until = u > now ? u : 0;
    mm_items_free(&items);
    mm_txn_abort(&txn);
    return rc;
}

int mm_budget_full_of(mm_home_t *home, const uint8_t peer[32], int *full, uint64_t *ahead)
{
    static const char *const types[] = { MM_T_QUEUE, NULL };
    mm_items_t items = { 0 };
    mm_txn_t *txn;
    mm_peer_t p;
    char state[16], reason[32];
    *full = 0;
    *ahead = 0;
    int rc = mm_store_begin(mm_home_store(home), 0, &txn);
    if (rc)
        return rc;
    if ((rc = mm_peer_get(txn, peer, &p)) == MM_OK
        && (rc = mm_items_load_txn(txn, p.scope, types, &items)) == MM_ENOTFOUND)
        rc = MM_OK;                 /* no relationship scope yet: no word */
    for (size_t i = items.n; rc == MM_OK && i-- > 0;) {     /* the latest of theirs */
        const mm_item_t *it = &items.v[i];
        if (memcmp(it->author, peer, 32))
            continue;
        mm_item_str(it, "state", state, sizeof state);
        mm_item_str(it, "reason", reason, sizeof reason);
        *full = !strcmp(state, "held") && (!reason[0] || !strcmp(reason, "budget"));
        if (*full && mm_body_uint(it->pt, it->ptlen, "ahead", ahead) != MM_OK)
            *ahead = 0;
        break;
    }
    mm_items_free(&items);
    mm_txn_abort(&txn);
    return rc;
}

int mm_budget_get_txn(mm_home_t *home, mm_txn_t *txn, mm_capacity_t *out)
{
    static const char *const types[] = { MM_T_CAPACITY, MM_T_AWAY, NULL };
    mm_items_t items;
    memset(out, 0, sizeof *out);
    int rc = mm_items_load_txn(txn, mm_home_self_scope(home), types, &items);
    if (rc)
        return rc;
    for (size_t i = 0; i < items.n; i++) {   /* in time order: the latest wins */
        const mm_item_t *it = &items.v[i];
        if (memcmp(it->author, mm_home_identity_pk(home), 32))
            continue;
        if (mm_item_is(it, MM_T_CAPACITY)) {
            if (mm_body_uint(it->pt, it->ptlen, "n", &out->n) != MM_OK)
                out->n = 0;             /* the schema requires it: never, in practice */
            mm_item_str(it, "per", out->per, sizeof out->per);
        } else {
            if (mm_body_uint(it->pt, it->ptlen, "until", &out->away_until) != MM_OK)
                out->away_until = 0;
        }
    }
    mm_items_free(&items);
    return MM_OK;
}

int mm_budget_get(mm_home_t *home, mm_capacity_t *out)
{
    mm_txn_t *txn;
    int rc = mm_store_begin(mm_home_store(home), 0, &txn);
    if (rc == MM_OK)
        rc = mm_budget_get_txn(home, txn, out);
    mm_txn_abort(&txn);
    return rc;
}

/* ---- who settles ---- */

int mm_budget_settler(mm_home_t *home, mm_txn_t *txn, uint8_t settler[32])
{
    static const char *const types[] = { MM_T_SETTLER, NULL };
    const uint8_t *me = mm_home_identity_pk(home);
    mm_device_t idd;
    mm_items_t items = { 0 };
    int rc = mm_device_identity(txn, me, &idd);
    if (rc == MM_ENOTFOUND) {
        mm_keypair_t *idk = NULL;
        if (mm_home_identity_key(home, &idk) != MM_OK)
            return MM_ENOTFOUND;
        mm_keypair_destroy(&idk);
        memcpy(settler, mm_keypair_pk(mm_home_device(home)), 32);
        return MM_OK;
    }
    if (rc)
        return rc;
    memcpy(settler, idd.cert.device, 32);
    if ((rc = mm_items_load_txn(txn, mm_home_self_scope(home), types, &items)))
        return rc == MM_ENOTFOUND ? MM_OK : rc;
    /* the identity device's word, its latest in its own feed */
    uint64_t best = 0;
    const uint8_t *dev = NULL;
    for (size_t i = 0; i < items.n; i++) {
        const mm_item_t *it = &items.v[i];
        const uint8_t *d;
        if (memcmp(it->device, idd.cert.device, 32) || it->seq <= best
            || !mm_item_ref(it, "device", &d))
            continue;
        best = it->seq;
        dev = d;
    }
    if (dev) {                      /* only a current device of ours */
        mm_cert_t c;
        int revoked = 0;
        if (mm_cert_get(txn, dev, &c, NULL, NULL) == MM_OK && !memcmp(c.identity, me, 32)
            && !(c.flags & MM_CERT_MAILBOX)     /* a mailbox reads nothing: never settles */
            && mm_revoke_state(txn, dev, me, NULL, &revoked, NULL) == MM_OK && !revoked)
            memcpy(settler, dev, 32);
    }
    mm_items_free(&items);
    return MM_OK;
}

int mm_budget_is_settler(mm_home_t *home)
{
    mm_txn_t *txn;
    uint8_t s[32];
    int yes = 0;
    if (mm_store_begin(mm_home_store(home), 0, &txn) != MM_OK)
        return 0;
    if (mm_budget_settler(home, txn, s) == MM_OK)
        yes = !memcmp(s, mm_keypair_pk(mm_home_device(home)), 32);
    mm_txn_abort(&txn);
    return yes;
}

int mm_budget_set_settler(mm_home_t *home, const uint8_t device[32])
{
    mm_keypair_t *idk = NULL;
    mm_txn_t *txn;
    int revoked = 0;
    if (mm_home_identity_key(home, &idk) != MM_OK)
        return MM_ENOIDENTITY;
    mm_keypair_destroy(&idk);
    mm_cert_t c;
    int rc = mm_store_begin(mm_home_store(home), 0, &txn);
    if (rc == MM_OK)
        rc = mm_revoke_state(txn, device, mm_home_identity_pk(home), NULL, &revoked, NULL);
    int mailbox = rc == MM_OK && mm_cert_get(txn, device, &c, NULL, NULL) == MM_OK
                  && (c.flags & MM_CERT_MAILBOX);
    mm_txn_abort(&txn);
    if (rc)
        return rc;
    if (revoked)
        return MM_EREVOKED;
    if (mailbox)
        return MM_EROLE;            /* a mailbox reads nothing: it cannot settle */
    mm_field_t f[1] = { { "device", MM_F_BIN, device, 32, 0 } };
    return mm_engage_append(home, mm_home_self_scope(home), MM_T_SETTLER, f, 1, NULL);
}

/* ---- settling ---- */

/* A pending question not yet released. */
typedef struct {
    const mm_question_t *q;         /* points into its rel_t's qs */
    size_t               asker;     /* index of its relationship (rels moves as it grows) */
    uint64_t             arrival;
} cand_t;

/* One mentee's relationship, loaded in the settling transaction. */
typedef struct {
    uint8_t        scope[32];
    mm_items_t     items;
    mm_question_t *qs;
    size_t         nq;
    int            busy;            /* a pending question is already released */
} rel_t;

typedef struct {
    mm_txn_t *txn;
    rel_t    *rels;
    size_t    nrels, caprels;
    cand_t   *c;
    size_t    nc, capc;
    size_t    used;                 /* released and still pending, all mentees */
    int       rc;
} settle_t;

static int grow(void **v, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return MM_OK;
    size_t n = *cap ? 2 * *cap : 16;
    void *p = realloc(*v, n * size);
    if (!p)
        return MM_ENOMEM;
    *v = p;
    *cap = n;
    return MM_OK;
}

static const char *const QTYPES[] = { MM_T_QUESTION, MM_T_WITHDRAW, MM_T_ANSWER, MM_T_DECLINE,
                                      MM_T_ASKBACK, MM_T_THANKS, MM_T_REPORT, MM_T_QUEUE,
                                      NULL };

/* Questions within one relationship in the order its asker wrote them:
 * feed position for one device, then (time, id). */
static int by_feed(const void *a, const void *b)
{
    const mm_question_t *x = a, *y = b;
    int d = memcmp(x->q->device, y->q->device, 32);
    if (d == 0 && x->q->seq != y->q->seq)
        return x->q->seq < y->q->seq ? -1 : 1;
    return mm_item_cmp_time(x->q, y->q);
}

static int gather(const mm_peer_t *p, void *arg)
{
    settle_t *st = arg;
    int rc;
    if (p->role != MM_ROLE_MENTEE || p->blocked)
        return 0;
    if ((rc = grow((void **) &st->rels, &st->caprels, st->nrels + 1, sizeof *st->rels)))
        return st->rc = rc;
    rel_t *r = &st->rels[st->nrels];
    memset(r, 0, sizeof *r);
    memcpy(r->scope, p->scope, 32);
    rc = mm_items_load_txn(st->txn, p->scope, QTYPES, &r->items);
    if (rc == MM_ENOTFOUND)
        return 0;                   /* no scope with them yet */
    st->nrels++;
    if (rc || (rc = mm_questions(&r->items, &r->qs, &r->nq)))
        return st->rc = rc;
    /* A question seen for the first time gets the next arrival number, in
     * the order its asker wrote it. */
    if (r->nq > 1)
        qsort(r->qs, r->nq, sizeof *r->qs, by_feed);
    for (size_t i = 0; i < r->nq; i++) {
        const mm_question_t *q = &r->qs[i];
        uint64_t arrival;
        if (memcmp(q->q->author, p->identity, 32))
            continue;
        if ((rc = mm_qindex_put(st->txn, q->q->id, p->scope, &arrival)))
            return st->rc = rc;
        if (!mm_question_pending(q))
            continue;
        if (q->state == MM_QS_OPEN || q->state == MM_QS_ANSWERED) {
            st->used++;
            r->busy = 1;
            continue;
        }
        if ((rc = grow((void **) &st->c, &st->capc, st->nc + 1, sizeof *st->c)))
            return st->rc = rc;
        st->c[st->nc++] = (cand_t) { q, st->nrels - 1, arrival };
    }
    return 0;
}

static int first_come(const void *a, const void *b)
{
    const cand_t *x = a, *y = b;
    if (x->arrival != y->arrival)
        return x->arrival < y->arrival ? -1 : 1;
    return memcmp(x->q->q->id, y->q->q->id, 32);
}

/* Write a queue entry for q unless its latest one already says the same. */
static int record(mm_home_t *home, mm_txn_t *txn, const rel_t *r, const cand_t *c, int release,
                  mm_hold_t why, uint64_t ahead, mm_settle_t *out)
{
    const mm_question_t *q = c->q;
    if (!release && q->state == MM_QS_HELD && q->hold == why
        && (why != MM_HOLD_BUDGET || q->ahead == ahead))
        return MM_OK;               /* the asker already knows */
    const char *reason = mm_hold_name(why);
    mm_field_t f[4] = {
        { "ref", MM_F_BIN, q->q->id, 32, 0 },
        { "state", MM_F_STR, release ? "released" : "held", release ? 8 : 4, 0 },
        { "ahead", MM_F_UINT, NULL, 0, ahead },
        { "reason", MM_F_STR, reason, strlen(reason), 0 },
    };
    int rc = mm_item_append(txn, mm_home_device(home), r->scope, MM_T_QUEUE, f,
                            release ? 2 : 4, 0, NULL);
    if (rc == MM_OK) {
        out->released += release;
        out->held += !release;
    }
    return rc;
}

int mm_budget_settle(mm_home_t *home, mm_settle_t *out)
{
    mm_settle_t dummy;
    mm_capacity_t cap;
    mm_txn_t *txn;
    settle_t st;
    if (!out)
        out = &dummy;
    memset(out, 0, sizeof *out);
    memset(&st, 0, sizeof st);
    int rc = mm_store_begin(mm_home_store(home), 1, &txn);
    if (rc)
        return rc;
    st.txn = txn;
    uint8_t settler[32];
    rc = mm_budget_settler(home, txn, settler);
    if (rc == MM_ENOTFOUND || (rc == MM_OK
                               && memcmp(settler, mm_keypair_pk(mm_home_device(home)), 32))) {
        out->not_settler = 1;       /* another device of ours settles */
        rc = MM_OK;
        goto out;
    }
    if (rc)
        goto out;
    if ((rc = mm_catchup_pending(txn, NULL, 0, &out->waiting)) || out->waiting)
        goto out;
    if ((rc = mm_budget_get_txn(home, txn, &cap)))
        goto out;
    rc = mm_peer_foreach(txn, gather, &st);
    if (rc > 0 || st.rc)
        rc = st.rc;
    if (rc)
        goto out;
    if (st.nc > 1)
        qsort(st.c, st.nc, sizeof *st.c, first_come);
    int away = cap.away_until > mm_now_ms();
    size_t room = away ? 0 : cap.n == 0 ? st.nc : cap.n > st.used ? cap.n - st.used : 0;
    uint64_t held = 0;              /* held for the budget so far: "ahead" of the next */
    for (size_t i = 0; i < st.nc && rc == MM_OK; i++) {
        cand_t *c = &st.c[i];
        rel_t *r = &st.rels[c->asker];
        if (r->busy) {              /* one at a time: never counts against the budget */
            rc = record(home, txn, r, c, 0, MM_HOLD_ONE, 0, out);
            continue;
        }
        r->busy = 1;
        if (room > 0) {
            room--;
            rc = record(home, txn, r, c, 1, MM_HOLD_BUDGET, 0, out);
        } else {
            rc = record(home, txn, r, c, 0, away ? MM_HOLD_AWAY : MM_HOLD_BUDGET, held, out);
            held++;
        }
    }
    if (rc == MM_OK)
        rc = mm_txn_commit(&txn);
out:
    mm_txn_abort(&txn);
    for (size_t i = 0; i < st.nrels; i++) {
        free(st.rels[i].qs);
        mm_items_free(&st.rels[i].items);
    }
    free(st.rels);
    free(st.c);
    if (rc)
        memset(out, 0, sizeof *out);
    return rc;
}
