#include <string.h>
#include <sodium.h>
#include "core/scope.h"
#include "core/store_int.h"
#include "core/mp.h"
#include "crypto/hash.h"
#include "crypto/aead.h"
#include "crypto/error.h"

#define SCOPE_VERSION 2             /* written; 1 is still read */
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

void mm_scope_set_key(mm_scope_t *s, const uint8_t key[32])
{
    memcpy(s->keys[0], key, 32);
    s->nkeys = 1;
}

int mm_scope_has_key(const mm_scope_t *s, const uint8_t key[32])
{
    for (unsigned i = 0; i < s->nkeys; i++)
        if (sodium_memcmp(s->keys[i], key, 32) == 0)
            return 1;
    return 0;
}

int mm_scope_open(const mm_scope_t *s, uint8_t *out, const uint8_t *box, size_t boxlen,
                  const uint8_t *ad, size_t adlen, const uint8_t *nonce, unsigned *which)
{
    /* newest first: what is written now is of the newest epoch */
    for (unsigned i = s->nkeys; i-- > 0;)
        if (mm_aead_open(out, box, boxlen, ad, adlen, nonce, s->keys[i]) == MM_OK) {
            if (which)
                *which = i;
            return MM_OK;
        }
    return MM_EDECRYPT;
}

int mm_scope_encode(const mm_scope_t *s, uint8_t *out, size_t cap, size_t *outlen)
{
    /* a blind scope (a mailbox's) and only it has no key */
    if (s->nmembers < 1 || s->nmembers > MM_SCOPE_MEMBERS_MAX
        || (s->nkeys < 1) != (s->kind == MM_SCOPE_BLIND) || s->nkeys > MM_SCOPE_KEYS_MAX)
        return MM_EINVAL;
    mm_mp_writer_t w;
    mm_mp_writer_init(&w, out, cap);
    mm_mp_put_array(&w, 5);
    mm_mp_put_uint(&w, SCOPE_VERSION);
    mm_mp_put_uint(&w, s->kind);
    mm_mp_put_array(&w, s->nkeys);
    for (unsigned i = 0; i < s->nkeys; i++)
        mm_mp_put_bin(&w, s->keys[i], 32);
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
    uint32_t n, nm, nk = 1;
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
    if (v != 1 && v != 2)
        return MM_EVERSION;
    if ((rc = mm_mp_uint(&r, &kind)))
        return rc;
    s->nkeys = 0;
    if (v == 1) {                   /* one key */
        if ((rc = mm_mp_bin_n(&r, &key, 32)))
            return rc;
        memcpy(s->keys[0], key, 32);
        s->nkeys = 1;
    } else {
        if ((rc = mm_mp_array(&r, &nk)))
            return rc;
        if ((nk < 1) != (kind == MM_SCOPE_BLIND) || nk > MM_SCOPE_KEYS_MAX)
            return MM_EMALFORMED;
        for (uint32_t i = 0; i < nk; i++) {
            if ((rc = mm_mp_bin_n(&r, &key, 32)))
                return rc;
            memcpy(s->keys[i], key, 32);
            s->nkeys = i + 1;
        }
    }
    if ((rc = mm_mp_array(&r, &nm)))
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

int mm_scope_add_key(mm_txn_t *txn, const uint8_t id[32], const uint8_t key[32])
{
    mm_scope_t s;
    memset(&s, 0, sizeof s);        /* rare, and no field is ever read unset */
    int rc = mm_scope_get(txn, id, &s);
    if (rc == MM_OK && !mm_scope_has_key(&s, key)) {
        if (s.nkeys >= MM_SCOPE_KEYS_MAX) {
            rc = MM_ETOOBIG;
        } else {
            uint8_t buf[MM_SCOPE_RECORD_MAX];
            size_t len;
            memcpy(s.keys[s.nkeys++], key, 32);
            if ((rc = mm_scope_encode(&s, buf, sizeof buf, &len)) == MM_OK) {
                MDB_val k = { 32, (void *) id }, v = { len, buf };
                rc = mm_store_rc(mdb_put(txn->txn, txn->store->scopes, &k, &v, 0));
            }
            sodium_memzero(buf, sizeof buf);
        }
    }
    mm_scope_wipe(&s);
    return rc;
}

int mm_scope_foreach(mm_txn_t *txn, mm_scope_fn fn, void *arg)
{
    MDB_cursor *cur;
    MDB_val k, v;
    mm_scope_t s;
    int rc = mdb_cursor_open(txn->txn, txn->store->scopes, &cur);
    if (rc)
        return mm_store_rc(rc);
    int ret = MM_OK;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == MDB_SUCCESS;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size != 32 || mm_scope_decode(v.mv_data, v.mv_size, &s) != MM_OK) {
            ret = MM_ECORRUPT;
            break;
        }
        memcpy(s.id, k.mv_data, 32);
        ret = fn(&s, arg);
        if (ret)
            break;
    }
    if (ret == MM_OK && rc != MDB_NOTFOUND && rc != MDB_SUCCESS)
        ret = mm_store_rc(rc);
    mdb_cursor_close(cur);
    mm_scope_wipe(&s);
    return ret;
}

int mm_scope_del(mm_txn_t *txn, const uint8_t id[32])
{
    MDB_val k = { 32, (void *) id };
    return mm_store_rc(mdb_del(txn->txn, txn->store->scopes, &k, NULL));
}
