#include <stdlib.h>
#include <string.h>
#include "core/fork.h"
#include "core/store_int.h"
#include "core/cert.h"
#include "core/meta.h"
#include "core/mp.h"
#include "core/be64.h"
#include "crypto/error.h"

#define FEED_KEY   64               /* author || scope */
#define SELF_VAL   72               /* author || scope || seq */

int mm_fork_check_entry(mm_txn_t *txn, const uint8_t *buf, size_t len, mm_entry_t *e)
{
    mm_cert_t c;
    int rc = mm_entry_parse(buf, len, e);
    if (rc)
        return rc;
    rc = mm_cert_get(txn, e->author, &c, NULL, NULL);
    if (rc)
        return rc == MM_ENOTFOUND ? MM_ENOCERT : rc;
    if (memcmp(c.device, e->author, 32) != 0)
        return MM_EBADCERT;
    return mm_entry_sig(e);
}

static void feed_key(uint8_t k[FEED_KEY], const uint8_t *author, const uint8_t *scope)
{
    memcpy(k, author, 32);
    memcpy(k + 32, scope, 32);
}

int mm_fork_get(mm_txn_t *txn, const uint8_t author[32], const uint8_t scope[32],
                mm_fork_t *out)
{
    uint8_t fk[FEED_KEY];
    uint32_t n, alen, blen;
    uint64_t version;
    if (!txn->store->has_v3)
        return MM_ENOTFOUND;
    feed_key(fk, author, scope);
    MDB_val k = { FEED_KEY, fk }, v;
    int rc = mdb_get(txn->txn, txn->store->forks, &k, &v);
    if (rc)
        return mm_store_rc(rc);
    mm_mp_reader_t r;
    mm_mp_reader_init(&r, v.mv_data, v.mv_size);
    if (mm_mp_array(&r, &n) || n != 4 || mm_mp_uint(&r, &version) || version != MM_FORK_VERSION
        || mm_mp_uint(&r, &out->seq) || mm_mp_bin(&r, &out->a, &alen)
        || mm_mp_bin(&r, &out->b, &blen) || mm_mp_left(&r))
        return MM_ECORRUPT;
    out->alen = alen;
    out->blen = blen;
    return MM_OK;
}

/* This home's device key, from meta (home.c writes it at init). */
static int own_device(mm_txn_t *txn, const uint8_t **dev)
{
    size_t len;
    int rc = mm_meta_get(txn, "device", dev, &len);
    return rc ? rc : len == 32 ? MM_OK : MM_ECORRUPT;
}

static int mark_self(mm_txn_t *txn, const mm_entry_t *e)
{
    const uint8_t *v;
    size_t len;
    uint8_t val[SELF_VAL];
    int rc = mm_meta_get(txn, MM_FORK_META, &v, &len);
    if (rc == MM_OK && len == SELF_VAL && memcmp(v, e->author, 32) == 0
        && mm_be64_get(v + 64) <= e->seq)
        return MM_OK;               /* already marked, at a seq not above */
    if (rc && rc != MM_ENOTFOUND)
        return rc;
    memcpy(val, e->author, 32);
    memcpy(val + 32, e->scope, 32);
    mm_be64_put(val + 64, e->seq);
    return mm_meta_put(txn, MM_FORK_META, val, sizeof val);
}

int mm_fork_record(mm_txn_t *txn, const uint8_t *a, size_t alen, const uint8_t *b,
                   size_t blen, int *self, mm_entry_t *out)
{
    mm_entry_t ea, eb;
    mm_fork_t old = { 0 };
    const uint8_t *dev;
    uint8_t fk[FEED_KEY];
    int rc;
    if (self)
        *self = 0;
    if ((rc = mm_fork_check_entry(txn, a, alen, &ea))
        || (rc = mm_fork_check_entry(txn, b, blen, &eb)))
        return rc;
    if (memcmp(ea.author, eb.author, 32) || memcmp(ea.scope, eb.scope, 32) || ea.seq != eb.seq
        || memcmp(ea.id, eb.id, MM_HASH_BYTES) == 0)
        return MM_EPROTO;
    if (!txn->store->has_v3)
        return MM_EPERM;            /* a read-only store before format 3 */
    rc = mm_fork_get(txn, ea.author, ea.scope, &old);
    if (rc && rc != MM_ENOTFOUND)
        return rc;
    if (rc == MM_ENOTFOUND || old.seq > ea.seq) {
        /* canonical: the entry with the smaller id first */
        const mm_entry_t *lo = memcmp(ea.id, eb.id, MM_HASH_BYTES) < 0 ? &ea : &eb;
        const mm_entry_t *hi = lo == &ea ? &eb : &ea;
        size_t cap = alen + blen + 32;
        uint8_t *buf = malloc(cap);
        if (!buf)
            return MM_ENOMEM;
        mm_mp_writer_t w;
        mm_mp_writer_init(&w, buf, cap);
        mm_mp_put_array(&w, 4);
        mm_mp_put_uint(&w, MM_FORK_VERSION);
        mm_mp_put_uint(&w, ea.seq);
        mm_mp_put_bin(&w, lo->bytes, lo->len);
        mm_mp_put_bin(&w, hi->bytes, hi->len);
        feed_key(fk, ea.author, ea.scope);
        MDB_val k = { FEED_KEY, fk }, v = { w.len, buf };
        if ((rc = mm_mp_writer_status(&w)) == MM_OK)
            rc = mm_store_rc(mdb_put(txn->txn, txn->store->forks, &k, &v, 0));
        free(buf);
        if (rc)
            return rc;
    }
    if ((rc = own_device(txn, &dev)))
        return rc;
    if (memcmp(dev, ea.author, 32) == 0) {
        if ((rc = mark_self(txn, &ea)))
            return rc;
        if (self)
            *self = 1;
    }
    if (out)
        *out = ea;
    return MM_OK;
}

int mm_fork_self(mm_txn_t *txn, const uint8_t device[32], int *forked, uint8_t *scope,
                 uint64_t *seq)
{
    const uint8_t *v;
    size_t len;
    *forked = 0;
    int rc = mm_meta_get(txn, MM_FORK_META, &v, &len);
    if (rc == MM_ENOTFOUND)
        return MM_OK;
    if (rc)
        return rc;
    if (len != SELF_VAL)
        return MM_ECORRUPT;
    if (memcmp(v, device, 32) != 0)
        return MM_OK;               /* an earlier device key of this home */
    *forked = 1;
    if (scope)
        memcpy(scope, v + 32, 32);
    if (seq)
        *seq = mm_be64_get(v + 64);
    return MM_OK;
}

int mm_fork_count(mm_txn_t *txn, uint64_t *n)
{
    MDB_stat st;
    *n = 0;
    if (!txn->store->has_v3)
        return MM_OK;
    int rc = mdb_stat(txn->txn, txn->store->forks, &st);
    if (rc)
        return mm_store_rc(rc);
    *n = st.ms_entries;
    return MM_OK;
}

typedef struct {
    mm_txn_t *txn;
    mm_fork_fn fn;
    void *arg;
} walk_t;

static int walk_one(const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen, void *arg)
{
    walk_t *w = arg;
    mm_fork_t fk;
    (void) val;
    (void) vlen;
    if (klen != FEED_KEY)
        return MM_ECORRUPT;
    int rc = mm_fork_get(w->txn, key, key + 32, &fk);
    return rc ? rc : w->fn(key, key + 32, &fk, w->arg);
}

int mm_fork_foreach(mm_txn_t *txn, mm_fork_fn fn, void *arg)
{
    walk_t w = { txn, fn, arg };
    if (!txn->store->has_v3)
        return MM_OK;
    return mm_store_walk(txn, txn->store->forks, walk_one, &w);
}

static int fork_in_scope(const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
                         void *arg)
{
    (void) val;
    (void) vlen;
    return klen == FEED_KEY && memcmp(key + 32, arg, 32) == 0;
}

int mm_fork_drop_scope(mm_txn_t *txn, const uint8_t scope[32])
{
    if (!txn->store->has_v3)
        return MM_OK;
    return mm_store_del_if(txn, txn->store->forks, fork_in_scope, (void *) scope, NULL);
}
