/*  qindex.c -- the questions table. */
#include <string.h>
#include "core/qindex.h"
#include "core/meta.h"
#include "core/store_int.h"
#include "core/be64.h"
#include "crypto/error.h"

#define VAL_LEN 40                  /* scope || arrival */

static int get(mm_txn_t *txn, const uint8_t qid[32], MDB_val *v)
{
    MDB_val k = { 32, (void *) qid };
    int rc = mdb_get(txn->txn, txn->store->questions, &k, v);
    if (rc)
        return mm_store_rc(rc);
    return v->mv_size == VAL_LEN ? MM_OK : MM_ECORRUPT;
}

int mm_qindex_get(mm_txn_t *txn, const uint8_t qid[32], uint8_t scope[32], uint64_t *arrival)
{
    MDB_val v;
    int rc = get(txn, qid, &v);
    if (rc)
        return rc;
    if (scope)
        memcpy(scope, v.mv_data, 32);
    if (arrival)
        *arrival = mm_be64_get((const uint8_t *) v.mv_data + 32);
    return MM_OK;
}

int mm_qindex_put(mm_txn_t *txn, const uint8_t qid[32], const uint8_t scope[32],
                  uint64_t *arrival)
{
    const uint8_t *cv;
    size_t cl;
    uint64_t next = 1;
    uint8_t val[VAL_LEN], cnt[8];
    int rc = mm_qindex_get(txn, qid, NULL, arrival);
    if (rc != MM_ENOTFOUND)
        return rc;
    if ((rc = mm_meta_get(txn, "arrivals", &cv, &cl)) == MM_OK) {
        if (cl != 8)
            return MM_ECORRUPT;
        next = mm_be64_get(cv) + 1;
    } else if (rc != MM_ENOTFOUND) {
        return rc;
    }
    mm_be64_put(cnt, next);
    memcpy(val, scope, 32);
    mm_be64_put(val + 32, next);
    MDB_val k = { 32, (void *) qid }, v = { VAL_LEN, val };
    if ((rc = mm_meta_put(txn, "arrivals", cnt, 8)) != MM_OK
        || (rc = mm_store_rc(mdb_put(txn->txn, txn->store->questions, &k, &v, 0))) != MM_OK)
        return rc;
    if (arrival)
        *arrival = next;
    return MM_OK;
}

static int nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int mm_qindex_matches(mm_txn_t *txn, const char *prefix, mm_qmatch_t *out, size_t max,
                      size_t *n)
{
    uint8_t lo[32] = { 0 };
    size_t len = strlen(prefix), hits = 0;
    *n = 0;
    if (len == 0 || len > 64)
        return MM_EINVAL;
    for (size_t i = 0; i < len; i++) {
        int d = nibble(prefix[i]);
        if (d < 0)
            return MM_EINVAL;
        lo[i / 2] |= (uint8_t) (i % 2 ? d : d << 4);
    }
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn->txn, txn->store->questions, &cur);
    if (rc)
        return mm_store_rc(rc);
    MDB_val k = { 32, lo }, v;
    /* keys are ids in byte order: the matches are contiguous from lo on */
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0 && hits <= max;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        const uint8_t *key = k.mv_data;
        size_t i;
        if (k.mv_size != 32 || v.mv_size != VAL_LEN) {
            mdb_cursor_close(cur);
            return MM_ECORRUPT;
        }
        for (i = 0; i < len; i++)
            if (((i % 2 ? key[i / 2] : key[i / 2] >> 4) & 0xf) != nibble(prefix[i]))
                break;
        if (i < len)
            break;
        if (hits < max) {
            memcpy(out[hits].qid, key, 32);
            memcpy(out[hits].scope, v.mv_data, 32);
        }
        hits++;
    }
    mdb_cursor_close(cur);
    if (rc && rc != MDB_NOTFOUND)
        return mm_store_rc(rc);
    *n = hits;
    return MM_OK;
}

int mm_qindex_find(mm_txn_t *txn, const char *prefix, uint8_t qid[32], uint8_t scope[32])
{
    mm_qmatch_t m;
    size_t n;
    int rc = mm_qindex_matches(txn, prefix, &m, 1, &n);
    if (rc)
        return rc;
    if (n != 1)
        return n == 0 ? MM_ENOTFOUND : MM_EAMBIG;
    memcpy(qid, m.qid, 32);
    memcpy(scope, m.scope, 32);
    return MM_OK;
}

int mm_qindex_set(mm_txn_t *txn, const uint8_t qid[32], const uint8_t scope[32],
                  uint64_t arrival)
{
    const uint8_t *cv;
    size_t cl;
    uint8_t val[VAL_LEN], cnt[8];
    int rc = mm_qindex_get(txn, qid, NULL, NULL);
    if (rc != MM_ENOTFOUND)
        return rc ? rc : MM_EEXIST;
    if ((rc = mm_meta_get(txn, "arrivals", &cv, &cl)) == MM_OK) {
        if (cl != 8)
            return MM_ECORRUPT;
    } else if (rc != MM_ENOTFOUND) {
        return rc;
    }
    if (rc == MM_ENOTFOUND || mm_be64_get(cv) < arrival) {
        mm_be64_put(cnt, arrival);
        if ((rc = mm_meta_put(txn, "arrivals", cnt, 8)))
            return rc;
    }
    memcpy(val, scope, 32);
    mm_be64_put(val + 32, arrival);
    MDB_val k = { 32, (void *) qid }, v = { VAL_LEN, val };
    return mm_store_rc(mdb_put(txn->txn, txn->store->questions, &k, &v, 0));
}

int mm_qindex_foreach_raw(mm_txn_t *txn, mm_row_fn fn, void *arg)
{
    return mm_store_walk(txn, txn->store->questions, fn, arg);
}

static int in_scope(const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen, void *arg)
{
    (void) key;
    (void) klen;
    return vlen == VAL_LEN && memcmp(val, arg, 32) == 0;
}

int mm_qindex_drop_scope(mm_txn_t *txn, const uint8_t scope[32])
{
    return mm_store_del_if(txn, txn->store->questions, in_scope, (void *) scope, NULL);
}
