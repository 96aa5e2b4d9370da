/*  view.c -- the index of engagement items; see view.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "core/view.h"
#include "core/be64.h"
#include "core/body.h"
#include "core/cert.h"
#include "core/item.h"
#include "core/log.h"
#include "core/store_int.h"
#include "crypto/encoding.h"
#include "crypto/error.h"

#define KEY_LEN   72                /* scope || time || id */
#define VAL_MIN   73                /* device || seq || identity || type (1..) */
#define VAL_MAX   (72 + MM_BODY_TYPE_MAX)
#define ENTRY_KEY 72                /* the entries table: author || scope || seq */
#define TRIM_EVERY 4096             /* entries read between dropping mapped pages */

int mm_view_indexed(unsigned kind, const char *type, size_t len)
{
    if (len == 4 && !memcmp(type, MM_T_NOTE, 4))
        return kind != MM_SCOPE_SELF;
    for (const char *const *t = MM_ITEM_TYPES; *t; t++)
        if (strlen(*t) == len && !memcmp(*t, type, len))
            return 1;
    return 0;
}

int mm_view_covers(mm_txn_t *txn, unsigned kind, const char *const *types)
{
    if (!txn->store->has_views || !types)
        return 0;
    for (const char *const *t = types; *t; t++)
        if (!mm_view_indexed(kind, *t, strlen(*t)))
            return 0;
    return 1;
}

/* The row of an entry as stored: key[KEY_LEN], val[VAL_MAX], *vlen. */
static void row_bytes(const uint8_t *scope, uint64_t time, const uint8_t *id,
                      const uint8_t *device, uint64_t seq, const uint8_t *identity,
                      const char *type, size_t tlen, uint8_t *key, uint8_t *val, size_t *vlen)
{
    memcpy(key, scope, 32);
    mm_be64_put(key + 32, time);
    memcpy(key + 40, id, 32);
    memcpy(val, device, 32);
    mm_be64_put(val + 32, seq);
    memcpy(val + 40, identity, 32);
    memcpy(val + 72, type, tlen);
    *vlen = 72 + tlen;
}

/* The type of a valid body, if indexed in a scope of kind: 1 with *t, *tlen. */
static int indexed_body(unsigned kind, const uint8_t *pt, size_t len, const char **t,
                        uint32_t *tlen)
{
    return mm_body_type(pt, len, t, tlen) == MM_OK && *tlen >= 1 && *tlen <= MM_BODY_TYPE_MAX
        && mm_view_indexed(kind, *t, *tlen);
}

int mm_view_put(mm_txn_t *txn, const mm_scope_t *scope, const mm_entry_t *e,
                const uint8_t identity[32], const uint8_t *pt, size_t len)
{
    uint8_t key[KEY_LEN], val[VAL_MAX];
    const char *t;
    uint32_t tlen;
    size_t vlen;
    if (!txn->store->has_views || !indexed_body(scope->kind, pt, len, &t, &tlen))
        return MM_OK;
    row_bytes(e->scope, e->time, e->id, e->author, e->seq, identity, t, tlen, key, val, &vlen);
    MDB_val k = { KEY_LEN, key }, v = { vlen, val };
    return mm_store_rc(mdb_put(txn->txn, txn->store->views, &k, &v, 0));
}

static int row_parse(const MDB_val *k, const MDB_val *v, mm_view_row_t *r)
{
    if (k->mv_size != KEY_LEN || v->mv_size < VAL_MIN || v->mv_size > VAL_MAX)
        return MM_ECORRUPT;
    const uint8_t *kb = k->mv_data, *vb = v->mv_data;
    memcpy(r->scope, kb, 32);
    r->time = mm_be64_get(kb + 32);
    memcpy(r->id, kb + 40, 32);
    memcpy(r->device, vb, 32);
    r->seq = mm_be64_get(vb + 32);
    memcpy(r->identity, vb + 40, 32);
    memcpy(r->type, vb + 72, v->mv_size - 72);
    r->type[v->mv_size - 72] = '\0';
    return MM_OK;
}

int mm_view_walk(mm_txn_t *txn, const uint8_t scope[32], int reverse, mm_view_fn fn, void *arg)
{
    uint8_t start[KEY_LEN];
    MDB_cursor *cur;
    MDB_val k, v;
    mm_view_row_t row;
    if (!txn->store->has_views)
        return MM_OK;
    int rc = mdb_cursor_open(txn->txn, txn->store->views, &cur);
    if (rc)
        return mm_store_rc(rc);
    /* forwards from scope || 0...; backwards from the first key past the
     * scope's (its last row is just before it) */
    memcpy(start, scope, 32);
    memset(start + 32, reverse ? 0xff : 0, KEY_LEN - 32);
    k = (MDB_val) { KEY_LEN, start };
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    if (reverse && rc == MDB_NOTFOUND)
        rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
    else if (reverse && rc == MDB_SUCCESS && memcmp(k.mv_data, start, KEY_LEN) != 0)
        rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);     /* (a row at start itself is the last) */
    int ret = MM_OK;
    for (; rc == MDB_SUCCESS; rc = mdb_cursor_get(cur, &k, &v, reverse ? MDB_PREV : MDB_NEXT)) {
        if (k.mv_size < 32 || memcmp(k.mv_data, scope, 32) != 0)
            break;
        if ((ret = row_parse(&k, &v, &row)) || (ret = fn(&row, arg)) != 0)
            break;
    }
    if (ret == MM_OK && rc != MDB_NOTFOUND && rc != MDB_SUCCESS)
        ret = mm_store_rc(rc);
    mdb_cursor_close(cur);
    return ret;
}

int mm_view_forget_scope(mm_txn_t *txn, const uint8_t scope[32], uint64_t *rows)
{
    uint8_t start[KEY_LEN];
    MDB_cursor *cur;
    MDB_val k, v;
    uint64_t n = 0;
    if (rows)
        *rows = 0;
    if (!txn->store->has_views)
        return MM_OK;
    int rc = mdb_cursor_open(txn->txn, txn->store->views, &cur);
    if (rc)
        return mm_store_rc(rc);
    memcpy(start, scope, 32);
    memset(start + 32, 0, KEY_LEN - 32);
    /* seek again after each delete: where a deleting cursor stands is
     * LMDB's business */
    for (;;) {
        k = (MDB_val) { KEY_LEN, start };
        rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
        if (rc || k.mv_size < 32 || memcmp(k.mv_data, scope, 32))
            break;
        if ((rc = mdb_cursor_del(cur, 0)))
            break;
        n++;
    }
    mdb_cursor_close(cur);
    if (rc == MDB_SUCCESS || rc == MDB_NOTFOUND) {
        if (rows)
            *rows = n;
        return MM_OK;
    }
    return mm_store_rc(rc);
}

/* ---- deriving the rows from the log ---- */

typedef int (*derive_fn)(const uint8_t *key, const uint8_t *val, size_t vlen, void *arg);

/* Call fn with the row of every stored entry that must have one: each
 * entry opened under its scope's key, as mm_items_load would. */
static int derive(mm_txn_t *txn, derive_fn fn, void *arg)
{
    MDB_cursor *cur;
    MDB_val k, v;
    mm_scope_t sc;
    mm_cert_t cert;
    int have_sc = 0, have_cert = 0;
    uint64_t walked = 0;
    uint8_t *pt = malloc(MM_ENTRY_MAX);
    if (!pt)
        return MM_ENOMEM;
    memset(&sc, 0, sizeof sc);
    int rc = mdb_cursor_open(txn->txn, txn->store->entries, &cur);
    if (rc) {
        free(pt);
        return mm_store_rc(rc);
    }
    int ret = MM_OK;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == MDB_SUCCESS && ret == MM_OK;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        const uint8_t *kb = k.mv_data;
        mm_entry_t e;
        const char *t;
        uint32_t tlen;
        size_t n;
        if (++walked % TRIM_EVERY == 0)
            mm_store_trim(txn->store);
        if (k.mv_size != ENTRY_KEY || mm_entry_parse(v.mv_data, v.mv_size, &e) != MM_OK)
            continue;               /* mm verify names it; it counts for nothing */
        if (!have_sc || memcmp(sc.id, kb + 32, 32)) {
            mm_scope_wipe(&sc);
            /* a scope that cannot be read (none, or a mailbox's, which has
             * no key) gives no rows: views of it read nothing either */
            have_sc = mm_scope_get(txn, kb + 32, &sc) == MM_OK;
            if (!have_sc)
                memcpy(sc.id, kb + 32, 32);   /* skip the rest of this scope's rows */
        }
        if (!have_cert || memcmp(cert.device, kb, 32)) {
            have_cert = mm_cert_get(txn, kb, &cert, NULL, NULL) == MM_OK;
            if (!have_cert)
                memcpy(cert.device, kb, 32);
        }
        if (!have_sc || !have_cert || e.boxlen < MM_TAG_BYTES
            || e.boxlen - MM_TAG_BYTES > MM_ENTRY_MAX
            || mm_entry_open_scope(&e, &sc, pt, MM_ENTRY_MAX, &n) != MM_OK)
            continue;
        if (mm_body_check(pt, n) == MM_OK && indexed_body(sc.kind, pt, n, &t, &tlen)) {
            uint8_t key[KEY_LEN], val[VAL_MAX];
            size_t vlen;
            row_bytes(e.scope, e.time, e.id, e.author, e.seq, cert.identity, t, tlen, key, val,
                      &vlen);
            ret = fn(key, val, vlen, arg);
        }
        sodium_memzero(pt, n);
    }
    if (ret == MM_OK && rc != MDB_NOTFOUND && rc != MDB_SUCCESS)
        ret = mm_store_rc(rc);
    mdb_cursor_close(cur);
    mm_scope_wipe(&sc);
    free(pt);
    return ret;
}

typedef struct {
    mm_txn_t *txn;
    uint64_t  rows;
} rebuild_t;

static int put_row(const uint8_t *key, const uint8_t *val, size_t vlen, void *arg)
{
    rebuild_t *b = arg;
    MDB_val k = { KEY_LEN, (void *) key }, v = { vlen, (void *) val };
    b->rows++;
    return mm_store_rc(mdb_put(b->txn->txn, b->txn->store->views, &k, &v, 0));
}

int mm_view_rebuild(mm_txn_t *txn, uint64_t *rows)
{
    rebuild_t b = { txn, 0 };
    if (rows)
        *rows = 0;
    if (!txn->write)
        return MM_EPERM;
    if (!txn->store->has_views)
        return MM_ENOTFOUND;
    int rc = mm_store_rc(mdb_drop(txn->txn, txn->store->views, 0));
    if (rc == MM_OK && !txn->store->blind)     /* a mailbox opens no box */
        rc = derive(txn, put_row, &b);
    if (rc == MM_OK && rows)
        *rows = b.rows;
    return rc;
}

/* ---- does the index hold every entry stored? ---- */

#define MARK_KEY "indexed"

int mm_view_mark(mm_txn_t *txn)
{
    MDB_stat st;
    uint8_t n[8];
    if (!txn->store->has_views)
        return MM_OK;
    int rc = mdb_stat(txn->txn, txn->store->entries, &st);
    if (rc)
        return mm_store_rc(rc);
    mm_be64_put(n, (uint64_t) st.ms_entries);
    MDB_val k = { sizeof MARK_KEY - 1, MARK_KEY }, v = { 8, n };
    return mm_store_rc(mdb_put(txn->txn, txn->store->meta, &k, &v, 0));
}

/* 1 if meta "indexed" says the index holds every stored entry. */
static int marked(mm_txn_t *txn, int *yes)
{
    MDB_stat st;
    MDB_val k = { sizeof MARK_KEY - 1, MARK_KEY }, v;
    int rc = mdb_stat(txn->txn, txn->store->entries, &st);
    if (rc)
        return mm_store_rc(rc);
    rc = mdb_get(txn->txn, txn->store->meta, &k, &v);
    if (rc == MDB_NOTFOUND)         /* a new store: nothing stored yet */
        *yes = st.ms_entries == 0;
    else if (rc)
        return mm_store_rc(rc);
    else
        *yes = v.mv_size == 8 && mm_be64_get(v.mv_data) == (uint64_t) st.ms_entries;
    return MM_OK;
}

int mm_view_heal(mm_store_t *store)
{
    mm_txn_t *txn;
    int yes = 1;
    if (!store->has_views)
        return MM_OK;
    int rc = mm_store_begin(store, 0, &txn);
    if (rc == MM_OK)
        rc = marked(txn, &yes);
    mm_txn_abort(&txn);
    if (rc || yes)
        return rc;
    if ((rc = mm_store_begin(store, 1, &txn)))
        return rc;
    if ((rc = marked(txn, &yes)) == MM_OK && !yes && (rc = mm_view_rebuild(txn, NULL)) == MM_OK)
        rc = mm_view_mark(txn);
    if (rc == MM_OK)
        rc = mm_txn_commit(&txn);
    mm_txn_abort(&txn);
    return rc;
}

/* ---- checking ---- */

typedef struct {
    uint8_t key[KEY_LEN];
    uint8_t val[VAL_MAX];
    size_t  vlen;
} want_t;

typedef struct {
    want_t *v;
    size_t  n, cap;
} wants_t;

static int add_want(const uint8_t *key, const uint8_t *val, size_t vlen, void *arg)
{
    wants_t *w = arg;
    if (w->n == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 64;
        want_t *nv = realloc(w->v, cap * sizeof *nv);
        if (!nv)
            return MM_ENOMEM;
        w->v = nv;
        w->cap = cap;
    }
    memcpy(w->v[w->n].key, key, KEY_LEN);
    memcpy(w->v[w->n].val, val, vlen);
    w->v[w->n++].vlen = vlen;
    return MM_OK;
}

static int cmp_want(const void *a, const void *b)
{
    return memcmp(((const want_t *) a)->key, ((const want_t *) b)->key, KEY_LEN);
}

static void check_fault(mm_view_fault_fn fn, void *arg, const uint8_t *key, const char *what)
{
    char line[160], scope[9], id[17];
    if (!fn)
        return;
    mm_encoding_hex(scope, key, 4);
    mm_encoding_hex(id, key + 40, 8);
    snprintf(line, sizeof line, "views index, scope %s entry %s: %s", scope, id, what);
    fn(MM_ECORRUPT, line, arg);
}

/* The rows the table holds, in key order, into w. */
static int held(mm_txn_t *txn, wants_t *w, mm_view_fault_fn fn, void *arg, int *bad)
{
    MDB_cursor *cur;
    MDB_val k, v;
    int rc = mdb_cursor_open(txn->txn, txn->store->views, &cur);
    if (rc)
        return mm_store_rc(rc);
    int ret = MM_OK;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == MDB_SUCCESS && ret == MM_OK;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size != KEY_LEN || v.mv_size > VAL_MAX) {
            *bad = 1;
            if (fn)
                fn(MM_ECORRUPT, "views index: a row of the wrong size", arg);
            continue;
        }
        ret = add_want(k.mv_data, v.mv_data, v.mv_size, w);
    }
    if (ret == MM_OK && rc != MDB_NOTFOUND && rc != MDB_SUCCESS)
        ret = mm_store_rc(rc);
    mdb_cursor_close(cur);
    return ret;
}

/* 1 if the log holds a damaged entry where row (key, val) points: one
 * that does not parse or open.  mm_log_check names it; its row is not a
 * fault of the index. */
static int damaged_at(mm_txn_t *txn, const uint8_t *key, const uint8_t *val)
{
    const uint8_t *buf;
    size_t len, n;
    mm_entry_t e;
    mm_scope_t sc;
    int bad = 1;
    if (mm_log_get(txn, val, key, mm_be64_get(val + 32), &buf, &len) != MM_OK)
        return 0;
    if (mm_entry_parse(buf, len, &e) != MM_OK || mm_scope_get(txn, key, &sc) != MM_OK)
        return 1;
    uint8_t *pt = malloc(MM_ENTRY_MAX);
    if (pt && e.boxlen >= MM_TAG_BYTES && e.boxlen - MM_TAG_BYTES <= MM_ENTRY_MAX
        && mm_entry_open_scope(&e, &sc, pt, MM_ENTRY_MAX, &n) == MM_OK) {
        bad = mm_body_check(pt, n) != MM_OK;
        sodium_memzero(pt, n);
    }
    free(pt);
    mm_scope_wipe(&sc);
    return bad;
}

int mm_view_check(mm_txn_t *txn, mm_view_fault_fn fn, void *arg, uint64_t *rows)
{
    wants_t want = { 0 }, have = { 0 };
    int bad = 0;
    if (rows)
        *rows = 0;
    if (!txn->store->has_views)
        return MM_OK;               /* an older store read as it is: nothing to check */
    int rc = derive(txn, add_want, &want);
    if (rc == MM_OK)
        rc = held(txn, &have, fn, arg, &bad);
    if (rc)
        goto out;
    if (want.n > 1)
        qsort(want.v, want.n, sizeof *want.v, cmp_want);
    /* both in key order: merge */
    for (size_t i = 0, j = 0; i < want.n || j < have.n;) {
        int c = i == want.n ? 1 : j == have.n ? -1 : memcmp(want.v[i].key, have.v[j].key, KEY_LEN);
        if (c < 0) {
            check_fault(fn, arg, want.v[i++].key, "the entry's row is missing");
        } else if (c > 0) {
            if (damaged_at(txn, have.v[j].key, have.v[j].val))
                c = 2;
            else
                check_fault(fn, arg, have.v[j].key, "a row for no such indexed entry");
            j++;
        } else {
            if (want.v[i].vlen != have.v[j].vlen
                || memcmp(want.v[i].val, have.v[j].val, want.v[i].vlen))
                check_fault(fn, arg, want.v[i].key, "the row does not match the entry");
            else
                c = 2;              /* a match */
            i++;
            j++;
        }
        if (c != 2)
            bad = 1;
    }
    if (rows)
        *rows = have.n;
out:
    free(want.v);
    free(have.v);
    return rc ? rc : bad ? MM_ECORRUPT : MM_OK;
}
