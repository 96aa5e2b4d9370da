/*  item.c -- loading the decrypted entries of one scope. */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "core/item.h"
#include "core/log.h"
#include "crypto/error.h"

const char *const MM_ITEM_TYPES[] = {
    MM_T_NOTE, MM_T_INVITE, MM_T_AMBITION, MM_T_AMBITION_DONE, MM_T_AMBITION_DROP,
    MM_T_CAPACITY, MM_T_AWAY, MM_T_AMBITIONS, MM_T_QUESTION, MM_T_WITHDRAW, MM_T_ANSWER,
    MM_T_DECLINE, MM_T_ASKBACK, MM_T_THANKS, MM_T_REPORT, MM_T_QUEUE, MM_T_SETTLER, NULL,
};

#define TRIM_EVERY 4096             /* entries read between dropping mapped pages */

typedef struct {
    mm_txn_t   *txn;
    mm_scope_t *scope;
    mm_items_t *items;
    const char *const *types;       /* keep only these, or NULL: all */
    uint64_t    walked;
    uint8_t     dev[32];            /* last author looked up */
    uint8_t     ident[32];
    int         have_dev;
    int         rc;
} load_t;

static int wanted(const load_t *l, const char *type)
{
    if (!l->types)
        return 1;
    for (const char *const *k = l->types; *k; k++)
        if (strcmp(*k, type) == 0)
            return 1;
    return 0;
}

static int load_entry(const uint8_t *buf, size_t len, uint64_t seq, void *arg)
{
    load_t *l = arg;
    mm_items_t *it = l->items;
    mm_entry_t e;
    const char *t;
    uint32_t tlen;
    if (++l->walked % TRIM_EVERY == 0)  /* a long scope must not fill memory with its pages */
        mm_store_trim(mm_txn_store(l->txn));
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
    if (mm_entry_open_scope(&e, l->scope, x->pt, cap, &x->ptlen) != MM_OK) {
        sodium_memzero(x->pt, cap);
        free(x->pt);
        return l->rc = MM_ECORRUPT;
    }
    if (mm_body_check(x->pt, x->ptlen) != MM_OK || mm_body_type(x->pt, x->ptlen, &t, &tlen)) {
        /* Stored under an older, laxer rule (PROTOCOL.md 5.2): it counts for
         * nothing, like a body of an unknown type, rather than making the
         * whole scope unreadable.  mm verify still names it. */
        sodium_memzero(x->pt, cap);
        free(x->pt);
        return 0;
    }
    memcpy(x->type, t, tlen);
    x->type[tlen] = '\0';
    if (!wanted(l, x->type)) {      /* not wanted: drop the plaintext now */
        sodium_memzero(x->pt, x->ptlen);
        free(x->pt);
        return 0;
    }
    memcpy(x->id, e.id, 32);
    memcpy(x->author, l->ident, 32);
    memcpy(x->device, e.author, 32);
    x->seq = seq;
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

int mm_item_cmp_time(const void *a, const void *b)
{
    const mm_item_t *x = a, *y = b;
    if (x->time != y->time)
        return x->time < y->time ? -1 : 1;
    return memcmp(x->id, y->id, 32);
}

typedef struct {
    uint64_t       time;
    const uint8_t *id;
    size_t         i;               /* index in the feed-by-feed array */
} slot_t;

static int cmp_slot(const void *a, const void *b)
{
    const slot_t *x = a, *y = b;
    if (x->time != y->time)
        return x->time < y->time ? -1 : 1;
    return memcmp(x->id, y->id, 32);
}

/* Order the items by (time, id), except that each device's items keep
 * their feed order: a clock that jumped back must not make an earlier act
 * "the latest" (PROTOCOL.md 5.3).  The items arrive feed by feed, each in
 * seq order; the positions the time sort gives a feed are handed to that
 * feed's items in seq order. */
static int order(mm_items_t *items)
{
    size_t n = items->n;
    slot_t *by_time = malloc(n * sizeof *by_time);
    size_t *start = malloc(n * sizeof *start), *used = calloc(n, sizeof *used);
    mm_item_t *v = malloc(n * sizeof *v);
    int rc = MM_ENOMEM;
    if (!by_time || !start || !used || !v)
        goto out;
    for (size_t i = 0; i < n; i++) {
        by_time[i] = (slot_t) { items->v[i].time, items->v[i].id, i };
        start[i] = i && !memcmp(items->v[i].device, items->v[i - 1].device, 32)
                   ? start[i - 1] : i;
    }
    qsort(by_time, n, sizeof *by_time, cmp_slot);
    for (size_t p = 0; p < n; p++) {
        size_t f = start[by_time[p].i];
        v[p] = items->v[f + used[f]++];
    }
    memcpy(items->v, v, n * sizeof *v);
    rc = MM_OK;
out:
    free(v);
    free(used);
    free(start);
    free(by_time);
    return rc;
}

int mm_items_load_txn(mm_txn_t *txn, const uint8_t scope[32], const char *const *types,
                      mm_items_t *out)
{
    mm_scope_t sc;
    memset(out, 0, sizeof *out);
    int rc = mm_scope_get(txn, scope, &sc);
    if (rc == MM_OK) {
        load_t l = { .txn = txn, .scope = &sc, .items = out, .types = types };
        rc = mm_log_feeds(txn, load_feed, &l);
    }
    mm_scope_wipe(&sc);
    if (rc) {
        mm_items_free(out);
        return rc;
    }
    if (out->n > 1 && (rc = order(out)) != MM_OK) {
        mm_items_free(out);
        return rc;
    }
    return MM_OK;
}

int mm_items_load(mm_store_t *store, const uint8_t scope[32], const char *const *types,
                  mm_items_t *out)
{
    mm_txn_t *txn;
    memset(out, 0, sizeof *out);
    int rc = mm_store_begin(store, 0, &txn);
    if (rc)
        return rc;
    rc = mm_items_load_txn(txn, scope, types, out);
    mm_txn_abort(&txn);
    return rc;
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

int mm_item_is(const mm_item_t *it, const char *t)
{
    return strcmp(it->type, t) == 0;
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

int mm_item_append(mm_txn_t *txn, const mm_keypair_t *device, const uint8_t scope[32],
                   const char *type, const mm_field_t *fields, size_t n, uint64_t time,
                   uint8_t id_out[32])
{
    size_t cap = 1024, len;
    for (size_t i = 0; i < n; i++)
        cap += fields[i].n + strlen(fields[i].key) + 16;
    if (cap > MM_BODY_MAX + 1024)
        return MM_ETOOBIG;
    uint8_t *body = malloc(cap);
    if (!body)
        return MM_ENOMEM;
    int rc = mm_body_build(body, cap, &len, type, fields, n);
    if (rc == MM_OK)
        rc = mm_log_append(txn, device, scope, time, body, len, id_out);
    sodium_memzero(body, cap);
    free(body);
    return rc;
}
