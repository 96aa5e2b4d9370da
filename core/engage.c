#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "core/engage.h"
#include "core/log.h"
#include "crypto/error.h"

/* ---- loading a scope ---- */

const char *const MM_ENGAGE_TYPES[] = {
    MM_T_NOTE, MM_T_INVITE, MM_T_AMBITION, MM_T_AMBITION_DONE, MM_T_AMBITION_DROP,
    MM_T_CAPACITY, MM_T_AWAY, MM_T_AMBITIONS, MM_T_QUESTION, MM_T_WITHDRAW, MM_T_ANSWER,
    MM_T_DECLINE, MM_T_ASKBACK, MM_T_THANKS, MM_T_REPORT, MM_T_QUEUE, NULL,
};

typedef struct {
    mm_txn_t   *txn;
    mm_scope_t *scope;
    mm_items_t *items;
    const char *const *types;       /* keep only these, or NULL: all */
    mm_store_t *store;
    uint64_t    walked;
    uint8_t     dev[32];            /* last author looked up */
    uint8_t     ident[32];
    int         have_dev;
    int         rc;
} load_t;

static int load_entry(const uint8_t *buf, size_t len, uint64_t seq, void *arg)
{
    load_t *l = arg;
    mm_entry_t e;
    mm_items_t *it = l->items;
    if (++l->walked % 4096 == 0)    /* a long scope must not fill memory with its pages */
        mm_store_trim(l->store);
    if (mm_entry_parse(buf, len, &e) != MM_OK)
        return l->rc = MM_ECORRUPT;
    if (!l->have_dev || memcmp(l->dev, e.author, 32) != 0) {
        mm_cert_t c;
        if (mm_cert_get(l->txn, e.author, &c, NULL, NULL) != MM_OK)
            return l->rc = MM_ECORRUPT;
        memcpy(l->dev, e.author, 32);
        memcpy(l->ident, c.identity, 32);
        l->have_dev = 1;
    }
    if (it->n == it->cap) {
        size_t ncap = it->cap ? 2 * it->cap : 32;
        mm_item_t *v = realloc(it->v, ncap * sizeof *v);
        if (!v)
            return l->rc = MM_ENOMEM;
        it->v = v;
        it->cap = ncap;
    }
    mm_item_t *x = &it->v[it->n];
    size_t cap = e.boxlen - MM_TAG_BYTES;
    if (!(x->pt = malloc(cap ? cap : 1)))
        return l->rc = MM_ENOMEM;
    const char *t;
    uint32_t tlen;
    if (mm_entry_open(&e, l->scope->key, x->pt, cap, &x->ptlen) != MM_OK
        || mm_body_check(x->pt, x->ptlen) != MM_OK || mm_body_type(x->pt, x->ptlen, &t, &tlen)) {
        free(x->pt);
        return l->rc = MM_ECORRUPT;
    }
    memcpy(x->type, t, tlen);
    x->type[tlen] = '\0';
    if (l->types) {
        const char *const *k = l->types;
        while (*k && strcmp(*k, x->type) != 0)
            k++;
        if (!*k) {                  /* not wanted: drop the plaintext now */
            sodium_memzero(x->pt, x->ptlen);
            free(x->pt);
            return 0;
        }
    }
    memcpy(x->id, e.id, 32);
    memcpy(x->author, l->ident, 32);
    x->time = e.time;
    it->n++;
    return 0;
}

static int load_feed(const uint8_t *author, const uint8_t *scope, const mm_head_t *h, void *arg)
{
    load_t *l = arg;
    if (memcmp(scope, l->scope->id, 32) != 0)
        return 0;
    int rc = mm_log_walk(l->txn, author, scope, 1, load_entry, l);
    return rc ? rc : l->rc;
}

static int by_time(const void *a, const void *b)
{
    const mm_item_t *x = a, *y = b;
    if (x->time != y->time)
        return x->time < y->time ? -1 : 1;
    return memcmp(x->id, y->id, 32);
}

int mm_items_load(mm_home_t *home, const uint8_t scope[32], mm_items_t *out)
{
    return mm_items_load_types(home, scope, NULL, out);
}

int mm_items_load_types(mm_home_t *home, const uint8_t scope[32], const char *const *types,
                        mm_items_t *out)
{
    mm_scope_t sc;
    mm_txn_t *txn;
    memset(out, 0, sizeof *out);
    int rc = mm_store_begin(mm_home_store(home), 0, &txn);
    if (rc)
        return rc;
    if ((rc = mm_scope_get(txn, scope, &sc)) == MM_OK) {
        load_t l = { .txn = txn, .scope = &sc, .items = out, .types = types,
                     .store = mm_home_store(home) };
        rc = mm_log_feeds(txn, load_feed, &l);
    }
    mm_scope_wipe(&sc);
    mm_txn_abort(&txn);
    if (rc) {
        mm_items_free(out);
        return rc;
    }
    if (out->n > 1)
        qsort(out->v, out->n, sizeof *out->v, by_time);
    return MM_OK;
}

void mm_items_free(mm_items_t *items)
{
    for (size_t i = 0; i < items->n; i++) {
        sodium_memzero(items->v[i].pt, items->v[i].ptlen);
        free(items->v[i].pt);
    }
    free(items->v);
    memset(items, 0, sizeof *items);
}

const char *mm_item_str(const mm_item_t *it, const char *key, char *out, size_t cap)
{
    const char *s;
    uint32_t n;
    if (mm_body_str(it->pt, it->ptlen, key, &s, &n) != MM_OK)
        n = 0;
    if (n >= cap)
        n = (uint32_t) cap - 1;
    memcpy(out, n ? s : "", n);
    out[n] = '\0';
    return out;
}

int mm_item_ref(const mm_item_t *it, const char *key, const uint8_t **ref)
{
    uint32_t n;
    return mm_body_bin(it->pt, it->ptlen, key, ref, &n) == MM_OK && n == 32;
}

static int is(const mm_item_t *it, const char *type)
{
    return strcmp(it->type, type) == 0;
}

/* ---- questions ---- */

const char *mm_qstate_name(mm_qstate_t s)
{
    static const char *names[] = { "waiting", "held", "open", "answered", "thanked",
                                   "withdrawn", "declined" };
    return (unsigned) s < sizeof names / sizeof names[0] ? names[s] : "?";
}

int mm_question_pending(const mm_question_t *q)
{
    return q->state != MM_QS_THANKED && q->state != MM_QS_WITHDRAWN
        && q->state != MM_QS_DECLINED;
}

static void settle_state(mm_question_t *q)
{
    char st[16];
    uint64_t ahead = 0;
    if (q->decline)
        q->state = MM_QS_DECLINED;
    else if (q->withdraw && !q->nanswers)
        q->state = MM_QS_WITHDRAWN;
    else if (q->thanks && q->nanswers)
        q->state = MM_QS_THANKED;
    else if (q->nanswers)
        q->state = MM_QS_ANSWERED;
    else if (q->queue && !strcmp(mm_item_str(q->queue, "state", st, sizeof st), "released"))
        q->state = MM_QS_OPEN;
    else if (q->queue) {
        q->state = MM_QS_HELD;
        mm_body_uint(q->queue->pt, q->queue->ptlen, "ahead", &ahead);
        q->ahead = ahead;
    } else
        q->state = MM_QS_WAITING;
}

static int by_qid(const void *a, const void *b)
{
    return memcmp(((const mm_question_t *) a)->q->id, ((const mm_question_t *) b)->q->id, 32);
}

static int qid_key(const void *key, const void *q)
{
    return memcmp(key, ((const mm_question_t *) q)->q->id, 32);
}

static int by_qtime(const void *a, const void *b)
{
    return by_time(((const mm_question_t *) a)->q, ((const mm_question_t *) b)->q);
}

int mm_questions(const mm_items_t *items, mm_question_t **out, size_t *n)
{
    size_t nq = 0;
    *out = NULL;
    *n = 0;
    for (size_t i = 0; i < items->n; i++)
        nq += is(&items->v[i], MM_T_QUESTION);
    if (!nq)
        return MM_OK;
    mm_question_t *qs = calloc(nq, sizeof *qs);
    if (!qs)
        return MM_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < items->n; i++)
        if (is(&items->v[i], MM_T_QUESTION))
            qs[k++].q = &items->v[i];
    /* found by id in O(log n); items are in time order, so "latest" below
     * means the last seen */
    qsort(qs, nq, sizeof *qs, by_qid);
    for (size_t i = 0; i < items->n; i++) {
        const mm_item_t *it = &items->v[i];
        const uint8_t *ref;
        if (!mm_item_ref(it, "ref", &ref))
            continue;
        mm_question_t *q = bsearch(ref, qs, nq, sizeof *qs, qid_key);
        if (!q)
            continue;               /* refers to something not (yet) here */
        int by_asker = !memcmp(it->author, q->q->author, 32);
        if (by_asker) {
            if (is(it, MM_T_WITHDRAW) && !q->withdraw)
                q->withdraw = it;
            else if (is(it, MM_T_THANKS) && !q->thanks)
                q->thanks = it;
            else if (is(it, MM_T_REPORT)) {
                q->report = it;
                q->nreports++;
            }
        } else {
            if (is(it, MM_T_ANSWER) && q->nanswers < MM_ANSWERS_MAX)
                q->answers[q->nanswers++] = it;
            else if (is(it, MM_T_DECLINE) && !q->decline)
                q->decline = it;
            else if (is(it, MM_T_ASKBACK) && !q->askback)
                q->askback = it;
            else if (is(it, MM_T_QUEUE))
                q->queue = it;
        }
    }
    for (size_t j = 0; j < nq; j++)
        settle_state(&qs[j]);
    qsort(qs, nq, sizeof *qs, by_qtime);
    *out = qs;
    *n = nq;
    return MM_OK;
}

/* ---- ambitions ---- */

int mm_ambitions(const mm_items_t *items, const uint8_t me[32], mm_ambition_t **out, size_t *n)
{
    size_t na = 0, k = 0;
    *out = NULL;
    *n = 0;
    for (size_t i = 0; i < items->n; i++)
        na += is(&items->v[i], MM_T_AMBITION) && !memcmp(items->v[i].author, me, 32);
    if (!na)
        return MM_OK;
    mm_ambition_t *a = calloc(na, sizeof *a);
    if (!a)
        return MM_ENOMEM;
    for (size_t i = 0; i < items->n; i++)
        if (is(&items->v[i], MM_T_AMBITION) && !memcmp(items->v[i].author, me, 32))
            a[k++].it = &items->v[i];
    for (size_t i = 0; i < items->n; i++) {
        const mm_item_t *it = &items->v[i];
        const uint8_t *ref;
        if ((!is(it, MM_T_AMBITION_DONE) && !is(it, MM_T_AMBITION_DROP))
            || !mm_item_ref(it, "ref", &ref))
            continue;
        for (size_t j = 0; j < na; j++)
            if (!a[j].closed && !memcmp(a[j].it->id, ref, 32))
                a[j].closed = it;
    }
    *out = a;
    *n = na;
    return MM_OK;
}

/* ---- writing ---- */

int mm_engage_append(mm_home_t *home, const uint8_t scope[32], const char *type,
                     const mm_field_t *fields, size_t n, uint8_t id_out[32])
{
    size_t cap = 1024, len;
    for (size_t i = 0; i < n; i++)
        cap += fields[i].n + strlen(fields[i].key) + 16;
    if (cap > MM_BODY_MAX)
        return MM_ETOOBIG;
    uint8_t *body = malloc(cap);
    mm_txn_t *txn = NULL;
    if (!body)
        return MM_ENOMEM;
    int rc = mm_body_build(body, cap, &len, type, fields, n);
    if (rc == MM_OK && (rc = mm_store_begin(mm_home_store(home), 1, &txn)) == MM_OK
        && (rc = mm_log_append(txn, mm_home_device(home), scope, 0, body, len, id_out)) == MM_OK)
        rc = mm_txn_commit(&txn);
    mm_txn_abort(&txn);
    sodium_memzero(body, cap);
    free(body);
    return rc;
}

int mm_capacity_get(mm_home_t *home, mm_capacity_t *out)
{
    mm_items_t items;
    memset(out, 0, sizeof *out);
    static const char *const types[] = { MM_T_CAPACITY, MM_T_AWAY, NULL };
    int rc = mm_items_load_types(home, mm_home_self_scope(home), types, &items);
    if (rc)
        return rc;
    for (size_t i = 0; i < items.n; i++) {
        const mm_item_t *it = &items.v[i];
        if (memcmp(it->author, mm_home_identity_pk(home), 32))
            continue;
        if (is(it, MM_T_CAPACITY)) {
            mm_body_uint(it->pt, it->ptlen, "n", &out->n);
            mm_item_str(it, "per", out->per, sizeof out->per);
        } else if (is(it, MM_T_AWAY)) {
            out->away_until = 0;
            mm_body_uint(it->pt, it->ptlen, "until", &out->away_until);
        }
    }
    mm_items_free(&items);
    return MM_OK;
}

/* ---- the mentor's queue ---- */

typedef struct {
    uint8_t  scope[32];
    uint8_t  id[32];
    uint64_t time;
    int      released;              /* already released (or answered) */
    int      held;                  /* latest queue entry says held */
    uint64_t ahead;                 /* ... with this many ahead */
} cand_t;

typedef struct {
    mm_home_t *home;
    cand_t    *v;
    size_t     n, cap;
    size_t     used;                /* released and still pending */
    int        rc;
} queue_t;

static int gather_peer(const mm_peer_t *p, void *arg)
{
    queue_t *qu = arg;
    mm_items_t items;
    mm_question_t *qs;
    size_t nq;
    if (p->role != MM_ROLE_MENTEE || p->blocked)
        return 0;
    static const char *const types[] = { MM_T_QUESTION, MM_T_WITHDRAW, MM_T_ANSWER,
                                         MM_T_DECLINE, MM_T_ASKBACK, MM_T_THANKS, MM_T_REPORT,
                                         MM_T_QUEUE, NULL };
    int rc = mm_items_load_types(qu->home, p->scope, types, &items);
    if (rc == MM_ENOTFOUND)
        return 0;
    if (rc || (rc = mm_questions(&items, &qs, &nq))) {
        mm_items_free(&items);
        return qu->rc = rc;
    }
    for (size_t i = 0; i < nq; i++) {
        mm_question_t *q = &qs[i];
        if (memcmp(q->q->author, p->identity, 32) || !mm_question_pending(q))
            continue;
        int released = q->state == MM_QS_OPEN || q->state == MM_QS_ANSWERED;
        if (released) {
            qu->used++;
            continue;
        }
        if (qu->n == qu->cap) {
            size_t ncap = qu->cap ? 2 * qu->cap : 16;
            cand_t *v = realloc(qu->v, ncap * sizeof *v);
            if (!v) {
                rc = qu->rc = MM_ENOMEM;
                break;
            }
            qu->v = v;
            qu->cap = ncap;
        }
        cand_t *c = &qu->v[qu->n++];
        memcpy(c->scope, p->scope, 32);
        memcpy(c->id, q->q->id, 32);
        c->time = q->q->time;
        c->released = 0;
        c->held = q->state == MM_QS_HELD;
        c->ahead = q->ahead;
    }
    free(qs);
    mm_items_free(&items);
    return rc;
}

static int first_come(const void *a, const void *b)
{
    const cand_t *x = a, *y = b;
    if (x->time != y->time)
        return x->time < y->time ? -1 : 1;
    return memcmp(x->id, y->id, 32);
}

int mm_engage_settle(mm_home_t *home, size_t *released)
{
    mm_capacity_t cap;
    mm_txn_t *txn;
    queue_t qu = { .home = home };
    size_t nrel = 0;
    int rc = mm_capacity_get(home, &cap);
    if (rc)
        return rc;
    if ((rc = mm_store_begin(mm_home_store(home), 0, &txn)))
        return rc;
    rc = mm_peer_foreach(txn, gather_peer, &qu);
    mm_txn_abort(&txn);
    if (rc > 0)
        rc = qu.rc;
    if (rc)
        goto out;
    if (qu.n > 1)
        qsort(qu.v, qu.n, sizeof *qu.v, first_come);
    size_t free_slots = cap.n == 0 ? qu.n : cap.n > qu.used ? cap.n - qu.used : 0;
    if (cap.away_until > mm_now_ms())
        free_slots = 0;             /* away: hold everything, answer nothing new */
    for (size_t i = 0; i < qu.n && rc == MM_OK; i++) {
        cand_t *c = &qu.v[i];
        mm_field_t f[3] = {
            { "ref", MM_F_BIN, c->id, 32, 0 },
            { "state", MM_F_STR, "released", 8, 0 },
            { "ahead", MM_F_UINT, NULL, 0, 0 },
        };
        if (i < free_slots) {
            rc = mm_engage_append(home, c->scope, MM_T_QUEUE, f, 2, NULL);
            nrel += rc == MM_OK;
            continue;
        }
        uint64_t ahead = i - free_slots;
        if (c->held && c->ahead == ahead)
            continue;               /* the asker already knows */
        f[1].p = "held";
        f[1].n = 4;
        f[2].u = ahead;
        rc = mm_engage_append(home, c->scope, MM_T_QUEUE, f, 3, NULL);
    }
out:
    free(qu.v);
    if (released)
        *released = nrel;
    return rc;
}
