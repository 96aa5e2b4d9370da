/*  catchup.c -- the catchup table. */
#include <stdlib.h>
#include <string.h>
#include "core/catchup.h"
#include "core/device.h"
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

/* The interval, or the test knob's (MM_CATCHUP_RECORD_ENV, ms). */
static uint64_t record_ms(void)
{
    const char *v = getenv(MM_CATCHUP_RECORD_ENV);
    char *end;
    if (v && *v) {
        unsigned long long ms = strtoull(v, &end, 10);
        if (*end == '\0' && ms <= MM_CATCHUP_RECORD_MS)
            return ms;
    }
    return MM_CATCHUP_RECORD_MS;
}

static int stale(uint64_t when, uint64_t now, uint64_t every)
{
    return when == 0 || now < when || now - when >= every;
}

/* Whether a session that moved nothing has anything to record. */
static int worth_writing(mm_txn_t *txn, const uint8_t identity[32], const uint8_t *device,
                         uint64_t now, int *worth)
{
    uint64_t every = record_ms(), seen;
    mm_peer_t p;
    *worth = 1;
    if (txn->store->has_v3) {
        MDB_val k = { 32, (void *) identity }, v;
        int rc = mdb_get(txn->txn, txn->store->catchup, &k, &v);
        if (rc == MDB_SUCCESS)
            return MM_OK;           /* caught up now: that is news */
        if (rc != MDB_NOTFOUND)
            return mm_store_rc(rc);
    }
    int rc = mm_peer_get(txn, identity, &p);
    if (rc == MM_OK && stale(p.last_sync, now, every))
        return MM_OK;
    if (rc && rc != MM_ENOTFOUND)
        return rc;
    if (device && txn->store->has_v3) {
        if ((rc = mm_device_last_seen(txn, device, &seen)))
            return rc;
        if (stale(seen, now, every))
            return MM_OK;
    }
    *worth = 0;
    return MM_OK;
}

int mm_catchup_record(mm_store_t *store, const uint8_t own[32], const uint8_t identity[32],
                      const uint8_t *device, uint64_t now, int moved)
{
    mm_txn_t *txn;
    int worth = 1, rc;
    if (!moved) {
        if ((rc = mm_store_begin(store, 0, &txn)))
            return rc;
        rc = worth_writing(txn, identity, device, now, &worth);
        mm_txn_abort(&txn);
        if (rc || !worth)
            return rc;
    }
    if ((rc = mm_store_begin(store, 1, &txn)))
        return rc;
    rc = mm_catchup_synced(txn, own, identity, now);
    if (rc == MM_ENOTFOUND)
        rc = MM_OK;                 /* neither a peer nor ours: no record to touch */
    if (rc == MM_OK && device)
        rc = mm_device_seen(txn, device, now);
    if (rc == MM_OK)
        rc = mm_txn_commit(&txn);
    mm_txn_abort(&txn);
    return rc;
}
