#include <string.h>
#include <sodium.h>
#include "core/scope.h"
#include "core/store_int.h"
#include "core/mp.h"
#include "crypto/hash.h"
#include "crypto/error.h"

#define SCOPE_VERSION 1
#define SELF_CTX "mm self scope v1"

void mm_scope_self_id(uint8_t id[32], const uint8_t identity_pk[32])
{
    mm_hash2(id, SELF_CTX, strlen(SELF_CTX), identity_pk, 32);
}

int mm_scope_has_member(const mm_scope_t *s, const uint8_t identity_pk[32])
{
    for (unsigned i = 0; i < s->nmembers; i++)
        if (memcmp(s->members[i], identity_pk, 32) == 0)
            return 1;
    return 0;
}

int mm_scope_encode(const mm_scope_t *s, uint8_t *out, size_t cap, size_t *outlen)
{
    if (s->nmembers < 1 || s->nmembers > MM_SCOPE_MEMBERS_MAX)
        return MM_EINVAL;
    mm_mp_writer_t w;
    mm_mp_writer_init(&w, out, cap);
    mm_mp_put_array(&w, 5);
    mm_mp_put_uint(&w, SCOPE_VERSION);
    mm_mp_put_uint(&w, s->kind);
    mm_mp_put_bin(&w, s->key, 32);
    mm_mp_put_array(&w, s->nmembers);
    for (unsigned i = 0; i < s->nmembers; i++)
        mm_mp_put_bin(&w, s->members[i], 32);
    mm_mp_put_uint(&w, s->created);
    int rc = mm_mp_writer_status(&w);
    if (rc == MM_OK)
        *outlen = w.len;
    return rc;
}

int mm_scope_decode(const uint8_t *buf, size_t len, mm_scope_t *s)
{
    mm_mp_reader_t r;
    uint32_t n, nm;
    uint64_t v, kind;
    const uint8_t *key, *m;
    int rc;
    if (len > MM_SCOPE_RECORD_MAX)
        return MM_ETOOBIG;
    mm_mp_reader_init(&r, buf, len);
    if ((rc = mm_mp_array(&r, &n)))
        return rc;
    if (n != 5)
        return MM_EMALFORMED;
    if ((rc = mm_mp_uint(&r, &v)))
        return rc;
    if (v != SCOPE_VERSION)
        return MM_EVERSION;
    if ((rc = mm_mp_uint(&r, &kind)) || (rc = mm_mp_bin_n(&r, &key, 32))
        || (rc = mm_mp_array(&r, &nm)))
        return rc;
    if (nm < 1 || nm > MM_SCOPE_MEMBERS_MAX || kind > 0xffff)
        return MM_EMALFORMED;
    for (uint32_t i = 0; i < nm; i++) {
        if ((rc = mm_mp_bin_n(&r, &m, 32)))
            return rc;
        memcpy(s->members[i], m, 32);
    }
    if ((rc = mm_mp_uint(&r, &s->created)))
        return rc;
    if (mm_mp_left(&r))
        return MM_ETRAILING;
    s->kind = (unsigned) kind;
    s->nmembers = nm;
    memcpy(s->key, key, 32);
    return MM_OK;
}

void mm_scope_wipe(mm_scope_t *s)
{
    sodium_memzero(s, sizeof *s);
}

int mm_scope_put(mm_txn_t *txn, const mm_scope_t *s)
{
    uint8_t buf[MM_SCOPE_RECORD_MAX];
    size_t len;
    int rc = mm_scope_encode(s, buf, sizeof buf, &len);
    if (rc == MM_OK) {
        MDB_val k = { 32, (void *) s->id }, v = { len, buf };
        rc = mm_store_rc(mdb_put(txn->txn, txn->store->scopes, &k, &v, MDB_NOOVERWRITE));
    }
    sodium_memzero(buf, sizeof buf);
    return rc;
}

int mm_scope_get(mm_txn_t *txn, const uint8_t id[32], mm_scope_t *s)
{
    MDB_val k = { 32, (void *) id }, v;
    int rc = mdb_get(txn->txn, txn->store->scopes, &k, &v);
    if (rc)
        return mm_store_rc(rc);
    if (mm_scope_decode(v.mv_data, v.mv_size, s) != MM_OK)
        return MM_ECORRUPT;
    memcpy(s->id, id, 32);
    return MM_OK;
}

int mm_scope_put_raw(mm_txn_t *txn, const uint8_t id[32], const uint8_t *rec, size_t len)
{
    mm_scope_t s;
    int rc = mm_scope_decode(rec, len, &s);
    mm_scope_wipe(&s);
    if (rc)
        return rc;
    MDB_val k = { 32, (void *) id }, v = { len, (void *) rec };
    return mm_store_rc(mdb_put(txn->txn, txn->store->scopes, &k, &v, MDB_NOOVERWRITE));
}

int mm_scope_foreach_raw(mm_txn_t *txn, mm_row_fn fn, void *arg)
{
    return mm_store_walk(txn, txn->store->scopes, fn, arg);
}
