/*  news.c -- what a sync brought: the entries of the stored runs, opened
 *  and read as engagement events for this person. */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "core/news.h"
#include "core/body.h"
#include "core/cert.h"
#include "core/entry.h"
#include "core/log.h"
#include "core/qindex.h"
#include "core/scope.h"
#include "core/utf8.h"

void mm_news_runs_add(mm_news_runs_t *runs, const uint8_t scope[32], const uint8_t device[32],
                      uint64_t first, uint64_t last)
{
    mm_news_run_t *r = runs->n ? &runs->v[runs->n - 1] : NULL;
    /* A feed's runs come one after another, frame by frame: one run a feed. */
    if (r && !memcmp(r->scope, scope, 32) && !memcmp(r->device, device, 32)
        && first <= r->last + 1 && last >= r->first) {
        r->first = first < r->first ? first : r->first;
        r->last = last > r->last ? last : r->last;
        return;
    }
    if (runs->n == runs->cap) {
        size_t cap = runs->cap ? 2 * runs->cap : 16;
        mm_news_run_t *v = runs->n < MM_NEWS_RUNS_MAX ? realloc(runs->v, cap * sizeof *v) : NULL;
        if (!v) {
            runs->dropped++;
            return;
        }
        runs->v = v;
        runs->cap = cap;
    }
    if (!runs->v)
        return;                     /* cap was set without storage: never */
    r = &runs->v[runs->n++];
    memcpy(r->scope, scope, 32);
    memcpy(r->device, device, 32);
    r->first = first;
    r->last = last;
}

void mm_news_runs_free(mm_news_runs_t *runs)
{
    free(runs->v);
    memset(runs, 0, sizeof *runs);
}

void mm_news_free(mm_news_list_t *news)
{
    free(news->v);
    memset(news, 0, sizeof *news);
}

const char *mm_news_kind_name(mm_news_kind_t k)
{
    static const char *const names[] = {
        [MM_NEWS_ANSWERED] = "answered", [MM_NEWS_CLARIFIED] = "clarified",
        [MM_NEWS_ASKED_BACK] = "asked-back", [MM_NEWS_DECLINED] = "declined",
        [MM_NEWS_RELEASED] = "released", [MM_NEWS_HELD] = "held",
        [MM_NEWS_AWAY] = "away", [MM_NEWS_BACK] = "back",
        [MM_NEWS_THANKED] = "thanked", [MM_NEWS_REPORTED] = "reported",
        [MM_NEWS_ASKED] = "asked", [MM_NEWS_WITHDREW] = "withdrew",
    };
    return (unsigned) k < sizeof names / sizeof names[0] && names[k] ? names[k] : "?";
}

/* ---- reading one run ---- */

#define TRIM_EVERY       4096       /* entries read between dropping mapped pages */
#define TRIM_EVERY_BYTES (8u << 20) /* ... or bytes of them, whichever comes first */

typedef struct {
    mm_txn_t         *txn;
    const mm_scope_t *scope;
    const mm_peer_t  *peer;             /* the author, my peer in this scope */
    uint64_t          last;
    uint64_t          walked, walked_bytes;
    mm_news_list_t   *out;
    int               rc;
} walk_t;

static mm_news_t *push(mm_news_list_t *l)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        mm_news_t *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return NULL;
        l->v = v;
        l->cap = cap;
    }
    mm_news_t *n = &l->v[l->n++];
    memset(n, 0, sizeof *n);
    return n;
}

/* The question body pt refers to, if this device holds it in scope. */
static int ref_of(walk_t *w, const uint8_t *pt, size_t n, uint8_t qid[32])
{
    const uint8_t *ref;
    uint8_t where[32];
    uint32_t len;
    if (mm_body_bin(pt, n, "ref", &ref, &len) != MM_OK || len != 32)
        return 0;
    memcpy(qid, ref, 32);
    /* "ignored until the question arrives" (PROTOCOL.md 5.3) */
    return mm_qindex_get(w->txn, qid, where, NULL) == MM_OK
        && !memcmp(where, w->scope->id, 32);
}

/* What one body by the peer means, given their role towards me. */
static int classify(walk_t *w, const uint8_t *pt, size_t n, mm_news_t *ev)
{
    const char *s;
    uint32_t slen;
    uint64_t u;
    if (w->peer->role == MM_ROLE_MENTOR) {
        if (mm_body_is(pt, n, MM_T_AWAY)) {
            if (mm_body_uint(pt, n, "until", &u) != MM_OK)
                return 0;
            ev->kind = u ? MM_NEWS_AWAY : MM_NEWS_BACK;
            ev->until = u;
            return 1;
        }
        if (mm_body_is(pt, n, MM_T_ANSWER))
            ev->kind = MM_NEWS_ANSWERED;
        else if (mm_body_is(pt, n, MM_T_ASKBACK))
            ev->kind = MM_NEWS_ASKED_BACK;
        else if (mm_body_is(pt, n, MM_T_DECLINE))
            ev->kind = MM_NEWS_DECLINED;
        else if (mm_body_is(pt, n, MM_T_QUEUE)) {
            if (mm_body_str(pt, n, "state", &s, &slen) != MM_OK)
                return 0;
            if (slen == 8 && !memcmp(s, "released", 8))
                ev->kind = MM_NEWS_RELEASED;
            else if (slen == 4 && !memcmp(s, "held", 4))
                ev->kind = MM_NEWS_HELD;
            else
                return 0;
        } else
            return 0;
        if (!(ev->have_q = ref_of(w, pt, n, ev->qid)))
            return 0;
        if (ev->kind == MM_NEWS_HELD) {
            if (mm_body_uint(pt, n, "ahead", &u) == MM_OK)
                ev->ahead = u;
            ev->hold = MM_HOLD_BUDGET;      /* absent: "budget" */
            if (mm_body_str(pt, n, "reason", &s, &slen) == MM_OK) {
                if (slen == 13 && !memcmp(s, "one-at-a-time", 13))
                    ev->hold = MM_HOLD_ONE;
                else if (slen == 4 && !memcmp(s, "away", 4))
                    ev->hold = MM_HOLD_AWAY;
            }
        }
        if (ev->kind == MM_NEWS_DECLINED) {
            const uint8_t *r;
            if (mm_body_bin(pt, n, "refer", &r, &slen) == MM_OK && slen == 32) {
                memcpy(ev->refer, r, 32);
                ev->have_refer = 1;
            }
            /* text by the schema; cut at a character boundary */
            if (ev->have_refer && mm_body_str(pt, n, "refer_name", &s, &slen) == MM_OK) {
                size_t k = slen < MM_PETNAME_MAX ? slen : MM_PETNAME_MAX;
                while (k && !mm_utf8_valid(s, k))
                    k--;
                memcpy(ev->refer_name, s, k);
                ev->refer_name[k] = '\0';
            }
        }
        return 1;
    }
    if (w->peer->role != MM_ROLE_MENTEE)
        return 0;
    if (mm_body_is(pt, n, MM_T_QUESTION)) {
        ev->kind = MM_NEWS_ASKED;
        memcpy(ev->qid, ev->entry, 32);
        return ev->have_q = 1;
    }
    if (mm_body_is(pt, n, MM_T_WITHDRAW))
        ev->kind = MM_NEWS_WITHDREW;
    else if (mm_body_is(pt, n, MM_T_THANKS))
        ev->kind = MM_NEWS_THANKED;
    else if (mm_body_is(pt, n, MM_T_REPORT))
        ev->kind = MM_NEWS_REPORTED;
    else
        return 0;
    return ev->have_q = ref_of(w, pt, n, ev->qid);
}

static int walk_entry(const uint8_t *buf, size_t len, uint64_t seq, void *arg)
{
    walk_t *w = arg;
    uint8_t pt[MM_ENTRY_MAX];
    mm_news_t ev;
    mm_entry_t e;
    size_t n;
    if (seq > w->last)
        return 1;
    /* a bulk sync's runs are long: their pages must not fill memory (core/item.c) */
    w->walked_bytes += len;
    if (++w->walked % TRIM_EVERY == 0 || w->walked_bytes >= TRIM_EVERY_BYTES) {
        mm_store_trim(mm_txn_store(w->txn));
        w->walked_bytes = 0;
    }
    if (mm_entry_parse(buf, len, &e) || e.boxlen - MM_TAG_BYTES > sizeof pt
        || mm_entry_open_scope(&e, w->scope, pt, sizeof pt, &n) || mm_body_check(pt, n))
        return w->rc = MM_ECORRUPT;         /* it was verified when stored */
    memset(&ev, 0, sizeof ev);
    memcpy(ev.entry, e.id, 32);
    memcpy(ev.peer, w->peer->identity, 32);
    ev.time = e.time;
    memcpy(ev.device, e.author, 32);
    ev.seq = seq;
    if (classify(w, pt, n, &ev)) {
        mm_news_t *slot = push(w->out);
        if (!slot)
            w->rc = MM_ENOMEM;
        else
            *slot = ev;
    }
    sodium_memzero(pt, n);
    return w->rc;
}

static int read_run(mm_home_t *home, mm_txn_t *txn, const mm_news_run_t *run,
                    mm_news_list_t *out)
{
    mm_scope_t sc;
    mm_cert_t c;
    mm_peer_t p;
    memset(&sc, 0, sizeof sc);
    int rc = mm_scope_get(txn, run->scope, &sc);
    if (rc == MM_ENOTFOUND || (rc == MM_OK && sc.kind != MM_SCOPE_PAIR)) {
        rc = MM_OK;                     /* only relationships hold engagements */
        goto out;
    }
    if (rc)
        goto out;
    memcpy(sc.id, run->scope, 32);
    /* The author: a peer whose relationship this is, never one of my devices. */
    if ((rc = mm_cert_get(txn, run->device, &c, NULL, NULL)) == MM_ENOTFOUND
        || (rc == MM_OK && !memcmp(c.identity, mm_home_identity_pk(home), 32))) {
        rc = MM_OK;
        goto out;
    }
    if (rc)
        goto out;
    if ((rc = mm_peer_get(txn, c.identity, &p)) != MM_OK || memcmp(p.scope, run->scope, 32)) {
        rc = rc == MM_OK || rc == MM_ENOTFOUND ? MM_OK : rc;
        goto out;
    }
    walk_t w = { .txn = txn, .scope = &sc, .peer = &p, .last = run->last, .out = out };
    rc = mm_log_walk(txn, run->device, run->scope, run->first, walk_entry, &w);
    if (rc > 0 || w.rc)
        rc = w.rc;
out:
    mm_scope_wipe(&sc);
    return rc;
}

/* ---- what stands after all of them ---- */

/* Events that say the same thing about the same subject: of each group only
 * the latest counts (queue, away), the first two in order (answers), or
 * the first (an ask-back or a decline: later ones are ignored, 5.3). */
enum { G_NONE = 0, G_ANSWER, G_QUEUE, G_AWAY, G_ASKBACK, G_DECLINE };

static int group_of(const mm_news_t *e)
{
    switch (e->kind) {
    case MM_NEWS_ANSWERED: case MM_NEWS_CLARIFIED: return G_ANSWER;
    case MM_NEWS_RELEASED: case MM_NEWS_HELD:      return G_QUEUE;
    case MM_NEWS_AWAY: case MM_NEWS_BACK:          return G_AWAY;
    case MM_NEWS_ASKED_BACK:                       return G_ASKBACK;
    case MM_NEWS_DECLINED:                         return G_DECLINE;
    default:                                       return G_NONE;
    }
}

static int cmp_time(const void *a, const void *b)
{
    const mm_news_t *x = a, *y = b;
    int c;
    if (x->time != y->time)
        return x->time < y->time ? -1 : 1;
    if ((c = memcmp(x->device, y->device, 32)))
        return c;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* (group, subject, time, device, seq): each group's events side by side, in order. */
static int cmp_group(const void *a, const void *b)
{
    const mm_news_t *x = a, *y = b;
    int gx = group_of(x), gy = group_of(y), c;
    if (gx != gy)
        return gx < gy ? -1 : 1;
    if (gx != G_NONE && (c = memcmp(gx == G_AWAY ? x->peer : x->qid,
                                    gy == G_AWAY ? y->peer : y->qid, 32)))
        return c;
    return cmp_time(a, b);
}

static int same_subject(const mm_news_t *x, const mm_news_t *y)
{
    int g = group_of(x);
    return g != G_NONE && g == group_of(y)
        && !memcmp(g == G_AWAY ? x->peer : x->qid, g == G_AWAY ? y->peer : y->qid, 32);
}

static void settle_groups(mm_news_list_t *l)
{
    size_t keep = 0;
    if (l->n == 0)
        return;
    qsort(l->v, l->n, sizeof *l->v, cmp_group);
    for (size_t i = 0, rank = 0; i < l->n; i++) {
        mm_news_t *e = &l->v[i];
        rank = i > 0 && same_subject(&l->v[i - 1], e) ? rank + 1 : 0;
        int later = i + 1 < l->n && same_subject(e, &l->v[i + 1]);
        int g = group_of(e);
        if (g == G_ANSWER) {
            if (rank >= MM_ANSWERS_MAX)
                continue;               /* later answers are ignored */
            e->kind = rank ? MM_NEWS_CLARIFIED : MM_NEWS_ANSWERED;
        /* NOLINTNEXTLINE(bugprone-branch-clone): each branch a rule of its own */
        } else if ((g == G_QUEUE || g == G_AWAY) && later) {
            continue;                   /* a later one says where it stands */
        } else if ((g == G_ASKBACK || g == G_DECLINE) && rank) {
            continue;                   /* the first one counts */
        }
        l->v[keep++] = *e;
    }
    l->n = keep;
    qsort(l->v, l->n, sizeof *l->v, cmp_time);
    if (l->n > MM_NEWS_MAX) {
        l->more = l->n - MM_NEWS_MAX;
        l->n = MM_NEWS_MAX;
    }
}

int mm_news_of(mm_home_t *home, const mm_news_run_t *runs, size_t n, mm_news_list_t *out)
{
    mm_txn_t *txn;
    memset(out, 0, sizeof *out);
    int rc = mm_store_begin(mm_home_store(home), 0, &txn);
    for (size_t i = 0; rc == MM_OK && i < n; i++)
        rc = read_run(home, txn, &runs[i], out);
    mm_txn_abort(&txn);
    if (rc == MM_OK)
        settle_groups(out);
    return rc;
}
