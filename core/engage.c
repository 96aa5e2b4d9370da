/*  engage.c -- the verbs of an engagement: find, check, append, in one
 *  write transaction each. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "core/engage.h"
#include "core/log.h"
#include "core/qindex.h"
#include "core/utf8.h"
#include "core/view.h"
#include "crypto/error.h"

#define PREFIX_MIN 4                /* hex digits of a question id people type */

/* Everything a question's relationship holds that bears on its state. */
static const char *const QTYPES[] = { MM_T_QUESTION, MM_T_WITHDRAW, MM_T_ANSWER, MM_T_DECLINE,
                                      MM_T_ASKBACK, MM_T_THANKS, MM_T_REPORT, MM_T_QUEUE,
                                      NULL };

int mm_engage_text_check(const char *s, size_t len, size_t max)
{
    size_t i = 0;
    if (len > max)
        return MM_ETOOBIG;
    while (i < len && isspace((unsigned char) s[i]))
        i++;
    if (i == len || memchr(s, '\0', len) || !mm_utf8_valid(s, len))
        return MM_EINVAL;
    return MM_OK;
}

/* One relationship loaded in a verb's transaction. */
typedef struct {
    mm_items_t     items;
    mm_question_t *qs;
    size_t         nq;
} rel_t;

static void rel_free(rel_t *r)
{
    free(r->qs);
    mm_items_free(&r->items);
    memset(r, 0, sizeof *r);
}

static int rel_load(mm_txn_t *txn, const uint8_t scope[32], rel_t *r)
{
    memset(r, 0, sizeof *r);
    int rc = mm_items_load_txn(txn, scope, QTYPES, &r->items);
    if (rc == MM_OK)
        rc = mm_questions(&r->items, &r->qs, &r->nq);
    return rc;
}

static void note_question(mm_engage_out_t *out, const mm_question_t *q)
{
    memcpy(out->qid, q->q->id, 32);
    out->have_q = 1;
    out->state = q->state;
    out->hold = q->hold;
    out->ahead = q->ahead;
    out->nanswers = q->nanswers;
    out->askback = q->askback != NULL;
}

/* The peer of a relationship scope: its member who is not me. */
static int scope_peer(mm_home_t *home, mm_txn_t *txn, const uint8_t scope[32], mm_peer_t *p)
{
    mm_scope_t sc;
    int rc = mm_scope_get(txn, scope, &sc);
    if (rc == MM_OK) {
        rc = MM_ENOTFOUND;
        for (unsigned i = 0; i < sc.nmembers; i++)
            if (memcmp(sc.members[i], mm_home_identity_pk(home), 32))
                rc = mm_peer_get(txn, sc.members[i], p);
    }
    mm_scope_wipe(&sc);
    return rc;
}

typedef struct {
    mm_txn_t   *txn;
    const char *prefix;
    size_t      plen;
    uint8_t     qid[32], scope[32];
    size_t      hits;
    int         rc;
} scan_t;

/* Slow path: a question this device has not indexed (written before the
 * index existed): read every relationship, and index what is found. */
static int scan_peer(const mm_peer_t *p, void *arg)
{
    static const char *const only[] = { MM_T_QUESTION, NULL };
    scan_t *s = arg;
    mm_items_t items;
    char hex[65];
    int rc = mm_items_load_txn(s->txn, p->scope, only, &items);
    if (rc == MM_ENOTFOUND)
        return 0;
    for (size_t i = 0; rc == MM_OK && i < items.n; i++) {
        rc = mm_qindex_put(s->txn, items.v[i].id, p->scope, NULL);
        sodium_bin2hex(hex, sizeof hex, items.v[i].id, 32);
        if (rc == MM_OK && !strncmp(hex, s->prefix, s->plen) && s->hits++ == 0) {
            memcpy(s->qid, items.v[i].id, 32);
            memcpy(s->scope, p->scope, 32);
        }
    }
    mm_items_free(&items);
    return rc ? (s->rc = rc) : 0;
}

/* The questions an ambiguous prefix (lower case) matched, into out->cand:
 * the slow path of find_question has indexed them all by now. */
static int candidates(mm_home_t *home, mm_txn_t *txn, const char *low, mm_engage_out_t *out)
{
    mm_qmatch_t m[MM_ENGAGE_CAND_MAX];
    size_t n;
    int rc = mm_qindex_matches(txn, low, m, MM_ENGAGE_CAND_MAX, &n);
    out->more = n > MM_ENGAGE_CAND_MAX;
    for (size_t i = 0; rc == MM_OK && i < n && i < MM_ENGAGE_CAND_MAX; i++) {
        mm_qcand_t *c = &out->cand[out->ncand++];
        const mm_question_t *q;
        mm_peer_t p;
        rel_t r;
        memcpy(c->qid, m[i].qid, 32);
        if ((rc = scope_peer(home, txn, m[i].scope, &p)) == MM_OK)
            snprintf(c->peer, sizeof c->peer, "%s", p.petname);
        else if (rc == MM_ENOTFOUND)
            rc = MM_OK;             /* a peer since removed: nameless */
        if (rc || (rc = rel_load(txn, m[i].scope, &r)))
            break;
        if ((q = mm_question_by_id(r.qs, r.nq, m[i].qid))) {
            c->mine = !memcmp(q->q->author, mm_home_identity_pk(home), 32);
            c->state = q->state;
        }
        rel_free(&r);
    }
    return rc;
}

static int find_question(mm_home_t *home, mm_txn_t *txn, const char *prefix, uint8_t qid[32],
                         uint8_t scope[32], mm_engage_out_t *out)
{
    char low[65];
    size_t n = strlen(prefix);
    if (n < PREFIX_MIN || n > 64 || strspn(prefix, "0123456789abcdefABCDEF") != n)
        return MM_EINVAL;
    for (size_t i = 0; i <= n; i++)
        low[i] = (char) tolower((unsigned char) prefix[i]);
    int rc = mm_qindex_find(txn, low, qid, scope);
    if (rc == MM_EAMBIG)
        return (rc = candidates(home, txn, low, out)) ? rc : MM_EAMBIG;
    if (rc != MM_ENOTFOUND)
        return rc;
    scan_t s = { .txn = txn, .prefix = low, .plen = n };
    rc = mm_peer_foreach(txn, scan_peer, &s);
    if (rc)
        return rc > 0 ? s.rc : rc;
    memcpy(qid, s.qid, 32);
    memcpy(scope, s.scope, 32);
    if (s.hits > 1)
        return (rc = candidates(home, txn, low, out)) ? rc : MM_EAMBIG;
    return s.hits == 0 ? MM_ENOTFOUND : MM_OK;
}

/* Find the question, check the act, append it with fields f[0..n) after
 * "ref": the body of every act. */
static int act(mm_home_t *home, mm_act_t a, const char *prefix, const mm_field_t *f, size_t n,
               const uint8_t *refer, mm_engage_out_t *out)
{
    mm_field_t all[5];
    uint8_t scope[32];
    mm_txn_t *txn;
    rel_t r;
    memset(&r, 0, sizeof r);
    int rc = mm_store_begin(mm_home_store(home), 1, &txn);
    if (rc)
        return rc;
    if ((rc = find_question(home, txn, prefix, out->qid, scope, out)))
        goto out;
    if ((rc = scope_peer(home, txn, scope, &out->peer)))
        goto out;
    out->have_peer = 1;
    if (refer && !memcmp(refer, out->peer.identity, 32)) {
        rc = MM_EINVAL;             /* a decline refers the asker to someone else */
        goto out;
    }
    if ((rc = rel_load(txn, scope, &r)))
        goto out;
    const mm_question_t *q = mm_question_by_id(r.qs, r.nq, out->qid);
    if (!q) {
        rc = MM_ECORRUPT;           /* indexed, yet not in its scope */
        goto out;
    }
    note_question(out, q);
    if ((rc = mm_question_may(q, mm_home_identity_pk(home), a)))
        goto out;
    all[0] = (mm_field_t) { "ref", MM_F_BIN, q->q->id, 32, 0 };
    if (n)
        memcpy(all + 1, f, n * sizeof *f);
    out->time = mm_now_ms();
    if ((rc = mm_item_append(txn, mm_home_device(home), scope, mm_act_type(a), all, n + 1,
                             out->time, out->id)) == MM_OK)
        rc = mm_txn_commit(&txn);
out:
    mm_txn_abort(&txn);
    rel_free(&r);
    return rc;
}

/* The verbs that take a TEXT. */
static int act_text(mm_home_t *home, mm_act_t a, const char *prefix, const char *text,
                    size_t len, const mm_field_t *extra, size_t nextra, const uint8_t *refer,
                    mm_engage_out_t *out)
{
    mm_field_t f[4];
    memset(out, 0, sizeof *out);
    int rc = mm_engage_text_check(text, len, MM_TEXT_MAX);
    if (rc)
        return rc;
    f[0] = (mm_field_t) { "text", MM_F_STR, text, len, 0 };
    if (nextra)
        memcpy(f + 1, extra, nextra * sizeof *extra);
    return act(home, a, prefix, f, 1 + nextra, refer, out);
}

int mm_engage_withdraw(mm_home_t *home, const char *qprefix, mm_engage_out_t *out)
{
    memset(out, 0, sizeof *out);
    return act(home, MM_ACT_WITHDRAW, qprefix, NULL, 0, NULL, out);
}

int mm_engage_thank(mm_home_t *home, const char *qprefix, const char *text, size_t len,
                    const char *offer, size_t olen, mm_engage_out_t *out)
{
    mm_field_t o = { "offer", MM_F_STR, offer, olen, 0 };
    int rc;
    memset(out, 0, sizeof *out);
    if (offer && (rc = mm_engage_text_check(offer, olen, MM_OFFER_MAX)))
        return rc;
    return act_text(home, MM_ACT_THANK, qprefix, text, len, &o, offer ? 1 : 0, NULL, out);
}

int mm_engage_report(mm_home_t *home, const char *qprefix, const char *text, size_t len,
                     mm_engage_out_t *out)
{
    return act_text(home, MM_ACT_REPORT, qprefix, text, len, NULL, 0, NULL, out);
}

int mm_engage_answer(mm_home_t *home, const char *qprefix, const char *text, size_t len,
                     mm_engage_out_t *out)
{
    return act_text(home, MM_ACT_ANSWER, qprefix, text, len, NULL, 0, NULL, out);
}

int mm_engage_askback(mm_home_t *home, const char *qprefix, const char *text, size_t len,
                      mm_engage_out_t *out)
{
    return act_text(home, MM_ACT_ASKBACK, qprefix, text, len, NULL, 0, NULL, out);
}

int mm_engage_decline(mm_home_t *home, const char *qprefix, const char *text, size_t len,
                      const uint8_t *refer, mm_engage_out_t *out)
{
    mm_field_t f[2];
    mm_peer_t rp;
    mm_txn_t *txn;
    memset(out, 0, sizeof *out);
    if (!refer)
        return act_text(home, MM_ACT_DECLINE, qprefix, text, len, NULL, 0, NULL, out);
    /* The referred peer is read first; act() then checks the question.
     * The name they gave themselves means more to the asker than ours. */
    int rc = mm_store_begin(mm_home_store(home), 0, &txn);
    if (rc == MM_OK)
        rc = mm_peer_get(txn, refer, &rp);
    mm_txn_abort(&txn);
    if (rc)
        return rc;
    /* rp.name came over the wire, cut at MM_PETNAME_MAX bytes (perhaps
     * inside a character): a refer_name must be UTF-8 text (schema.c). */
    const char *name = rp.name[0] && mm_utf8_valid(rp.name, strlen(rp.name)) ? rp.name
                                                                              : rp.petname;
    f[0] = (mm_field_t) { "refer", MM_F_BIN, rp.identity, 32, 0 };
    f[1] = (mm_field_t) { "refer_name", MM_F_STR, name, strlen(name), 0 };
    return act_text(home, MM_ACT_DECLINE, qprefix, text, len, f, 2, refer, out);
}

int mm_engage_ask(mm_home_t *home, const uint8_t peer[32], const char *text, size_t len,
                  const char *ambition, size_t alen, mm_engage_out_t *out)
{
    mm_txn_t *txn;
    rel_t r;
    memset(out, 0, sizeof *out);
    memset(&r, 0, sizeof r);
    int rc = mm_engage_text_check(text, len, MM_TEXT_MAX);
    if (rc || (ambition && (rc = mm_engage_text_check(ambition, alen, MM_TEXT_MAX))))
        return rc;
    if ((rc = mm_store_begin(mm_home_store(home), 1, &txn)))
        return rc;
    if ((rc = mm_peer_get(txn, peer, &out->peer)))
        goto out;
    out->have_peer = 1;
    if (out->peer.role != MM_ROLE_MENTOR) {
        rc = MM_EROLE;
        goto out;
    }
    if (out->peer.blocked) {
        rc = MM_EBLOCKED;
        goto out;
    }
    if ((rc = rel_load(txn, out->peer.scope, &r)))
        goto out;
    const mm_question_t *pending = mm_question_pending_of(r.qs, r.nq, mm_home_identity_pk(home));
    if (pending) {                  /* one power question at a time */
        note_question(out, pending);
        rc = MM_EPENDING;
        goto out;
    }
    mm_field_t f[2] = {
        { "ambition", MM_F_STR, ambition, alen, 0 },
        { "text", MM_F_STR, text, len, 0 },
    };
    out->time = mm_now_ms();
    if ((rc = mm_item_append(txn, mm_home_device(home), out->peer.scope, MM_T_QUESTION,
                             ambition ? f : f + 1, ambition ? 2 : 1, out->time, out->id)))
        goto out;
    memcpy(out->qid, out->id, 32);
    out->have_q = 1;
    out->state = MM_QS_WAITING;
    if ((rc = mm_qindex_put(txn, out->id, out->peer.scope, NULL)) == MM_OK)
        rc = mm_txn_commit(&txn);
out:
    mm_txn_abort(&txn);
    rel_free(&r);
    return rc;
}

int mm_engage_append(mm_home_t *home, const uint8_t scope[32], const char *type,
                     const mm_field_t *fields, size_t n, uint8_t id_out[32])
{
    mm_txn_t *txn;
    int rc = mm_store_begin(mm_home_store(home), 1, &txn);
    if (rc == MM_OK
        && (rc = mm_item_append(txn, mm_home_device(home), scope, type, fields, n, 0,
                                id_out)) == MM_OK)
        rc = mm_txn_commit(&txn);
    mm_txn_abort(&txn);
    return rc;
}

/* ---- what a sync brought ---- */

typedef struct {
    mm_txn_t         *txn;
    const mm_scope_t *scope;
    const uint8_t    *device;
    uint64_t          first, last;
    int               from_mentee;
    int               settle;
    struct recv_q { uint64_t seq; uint8_t id[32]; } *qs;   /* recv_row's questions */
    size_t            nq, capq;
    int               rc;
} recv_t;

static int recv_entry(const uint8_t *buf, size_t len, uint64_t seq, void *arg)
{
    recv_t *r = arg;
    uint8_t pt[MM_ENTRY_MAX];
    mm_entry_t e;
    size_t n;
    if (seq > r->last)
        return 1;                       /* stored later: reported on its own */
    if (mm_entry_parse(buf, len, &e) || e.boxlen - MM_TAG_BYTES > sizeof pt
        || mm_entry_open_scope(&e, r->scope, pt, sizeof pt, &n) || mm_body_check(pt, n))
        return r->rc = MM_ECORRUPT;     /* it was verified when stored */
    if (mm_body_is(pt, n, MM_T_QUESTION))
        r->rc = mm_qindex_put(r->txn, e.id, r->scope->id, NULL);
    if (r->from_mentee && (mm_body_is(pt, n, MM_T_QUESTION) || mm_body_is(pt, n, MM_T_WITHDRAW)
                           || mm_body_is(pt, n, MM_T_THANKS)))
        r->settle = 1;
    sodium_memzero(pt, n);
    return r->rc;
}

/* The same from a row of the views index: its type says it all. */
static int recv_row(const mm_view_row_t *row, void *arg)
{
    recv_t *r = arg;
    if (memcmp(row->device, r->device, 32) || row->seq < r->first || row->seq > r->last)
        return 0;
    int q = !strcmp(row->type, MM_T_QUESTION);
    if (q && r->nq == r->capq) {
        size_t cap = r->capq ? 2 * r->capq : 8;
        struct recv_q *nv = realloc(r->qs, cap * sizeof *nv);
        if (!nv)
            return r->rc = MM_ENOMEM;
        r->qs = nv;
        r->capq = cap;
    }
    if (q) {                        /* indexed below, in feed order */
        r->qs[r->nq].seq = row->seq;
        memcpy(r->qs[r->nq++].id, row->id, 32);
    }
    if (r->from_mentee && (q || !strcmp(row->type, MM_T_WITHDRAW)
                           || !strcmp(row->type, MM_T_THANKS)))
        r->settle = 1;
    return r->rc;
}

static int by_seq(const void *a, const void *b)
{
    const struct recv_q *x = a, *y = b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int mm_engage_received(mm_home_t *home, const uint8_t scope[32], const uint8_t device[32],
                       uint64_t first, uint64_t last, int *settle)
{
    mm_scope_t sc;
    mm_cert_t c;
    mm_peer_t p;
    mm_txn_t *txn;
    *settle = 0;
    int rc = mm_store_begin(mm_home_store(home), 1, &txn);
    if (rc)
        return rc;
    if ((rc = mm_scope_get(txn, scope, &sc)) || sc.kind != MM_SCOPE_PAIR) {
        rc = rc == MM_ENOTFOUND ? MM_OK : rc;   /* only relationships hold questions */
        goto out;
    }
    memcpy(sc.id, scope, 32);
    if ((rc = mm_cert_get(txn, device, &c, NULL, NULL)))
        goto out;
    recv_t r = { .txn = txn, .scope = &sc, .device = device, .first = first, .last = last };
    r.from_mentee = mm_peer_get(txn, c.identity, &p) == MM_OK && p.role == MM_ROLE_MENTEE
                 && !memcmp(p.scope, scope, 32);
    /* with the index, the run's engagement rows only: no bulk entry opened */
    if (mm_view_covers(txn, MM_SCOPE_PAIR, QTYPES)) {
        rc = mm_view_walk(txn, scope, 0, recv_row, &r);
        if (rc > 0 || r.rc)
            rc = r.rc;
        /* arrival numbers in the order the asker wrote them, as the log gives */
        if (r.nq > 1)
            qsort(r.qs, r.nq, sizeof *r.qs, by_seq);
        for (size_t i = 0; rc == MM_OK && i < r.nq; i++)
            rc = mm_qindex_put(txn, r.qs[i].id, scope, NULL);
        free(r.qs);
    } else
        rc = mm_log_walk(txn, device, scope, first, recv_entry, &r);
    if (rc > 0 || r.rc)
        rc = r.rc;
    if (rc == MM_OK && (rc = mm_txn_commit(&txn)) == MM_OK)
        *settle = r.settle;
out:
    mm_scope_wipe(&sc);
    mm_txn_abort(&txn);
    return rc;
}
