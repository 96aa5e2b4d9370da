/*  catchup.c -- the catchup table. */
#include <string.h>
#include "core/catchup.h"
#include "core/peer.h"
#include "core/store_int.h"
#include "crypto/error.h"

int mm_catchup_add(mm_txn_t *txn, const uint8_t identity[32])
{
    if (!txn->store->has_v3)
        return MM_ECORRUPT;
    MDB_val k = { 32, (void *) identity }, v = { 0, (void *) "" };
    return mm_store_rc(mdb_put(txn->txn, txn->store->catchup, &k, &v, 0));
}

typedef struct {
    uint8_t (*out)[32];
    size_t max, n;
} pending_t;

static int one(const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen, void *arg)
{
    pending_t *p = arg;
    (void) val;
    (void) vlen;
    if (klen != 32)
        return MM_ECORRUPT;
    if (p->n < p->max)
        memcpy(p->out[p->n], key, 32);
    p->n++;
    return MM_OK;
}

int mm_catchup_pending(mm_txn_t *txn, uint8_t (*out)[32], size_t max, size_t *n)
{
    pending_t p = { out, out ? max : 0, 0 };
    *n = 0;
    if (!txn->store->has_v3)
        return MM_OK;
    int rc = mm_store_walk(txn, txn->store->catchup, one, &p);
    if (rc == MM_OK)
        *n = p.n;
    return rc;
}

int mm_catchup_synced(mm_txn_t *txn, const uint8_t own[32], const uint8_t identity[32],
                      uint64_t now)
{
    int rc = mm_peer_touch(txn, identity, now);
    if (rc == MM_ENOTFOUND && memcmp(own, identity, 32) == 0)
        rc = MM_OK;
    if (rc || !txn->store->has_v3)
        return rc;
    MDB_val k = { 32, (void *) identity };
    rc = mdb_del(txn->txn, txn->store->catchup, &k, NULL);
    return rc == MDB_NOTFOUND ? MM_OK : mm_store_rc(rc);
}

int mm_catchup_del(mm_txn_t *txn, const uint8_t identity[32])
{
    if (!txn->store->has_v3)
        return MM_OK;
    MDB_val k = { 32, (void *) identity };
    int rc = mdb_del(txn->txn, txn->store->catchup, &k, NULL);
    return rc == MDB_NOTFOUND ? MM_OK : mm_store_rc(rc);
}
