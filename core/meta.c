#include <string.h>
#include "core/meta.h"
#include "core/store_int.h"
#include "crypto/error.h"

int mm_meta_get(mm_txn_t *txn, const char *key, const uint8_t **val, size_t *len)
{
    MDB_val k = { strlen(key), (void *) key }, v;
    int rc = mdb_get(txn->txn, txn->store->meta, &k, &v);
    if (rc)
        return mm_store_rc(rc);
    *val = v.mv_data;
    *len = v.mv_size;
    return MM_OK;
}

int mm_meta_put(mm_txn_t *txn, const char *key, const void *val, size_t len)
{
    if (len > MM_META_VALUE_MAX)
        return MM_ETOOBIG;
    MDB_val k = { strlen(key), (void *) key }, v = { len, (void *) val };
    return mm_store_rc(mdb_put(txn->txn, txn->store->meta, &k, &v, 0));
}
