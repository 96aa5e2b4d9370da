/*  purge.c -- mm peer rm --purge (purge.h). */
#include <stdlib.h>
#include <string.h>
#include "core/purge.h"
#include "core/store_int.h"
#include "core/catchup.h"
#include "core/cert.h"
#include "core/device.h"
#include "core/fork.h"
#include "core/log.h"
#include "core/meta.h"
#include "core/peer.h"
#include "crypto/encoding.h"
#include "core/qindex.h"
#include "core/scope.h"

typedef struct {
    const uint8_t *identity;
    uint8_t (*devices)[32];
    size_t n, cap;
} devices_t;

static int collect_device(const mm_cert_t *c, const uint8_t *raw, size_t len, void *arg)
{
    devices_t *d = arg;
    (void) raw;
    (void) len;
    if (memcmp(c->identity, d->identity, 32) != 0)
        return 0;
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 16;
        void *p = realloc(d->devices, cap * 32);
        if (!p)
            return MM_ENOMEM;
        d->devices = p;
        d->cap = cap;
    }
    memcpy(d->devices[d->n++], c->device, 32);
    return 0;
}

/* The scope itself: feeds, index rows, forks, record. */
static int drop_scope(mm_txn_t *txn, const uint8_t identity[32], const uint8_t scope[32],
                      mm_purge_t *out)
{
    mm_scope_t sc;
    int rc = mm_scope_get(txn, scope, &sc);
    if (rc == MM_ENOTFOUND)
        return MM_OK;
    if (rc)
        return rc;
    int ok = sc.kind == MM_SCOPE_PAIR && mm_scope_has_member(&sc, identity);
    mm_scope_wipe(&sc);
    if (!ok)
        return MM_EINVAL;           /* never another scope, the self scope least of all */
    if ((rc = mm_log_drop_scope(txn, scope, &out->entries)) == MM_OK
        && (rc = mm_qindex_drop_scope(txn, scope)) == MM_OK
        && (rc = mm_fork_drop_scope(txn, scope)) == MM_OK
        && (rc = mm_scope_del(txn, scope)) == MM_OK)
        out->scope = 1;
    return rc;
}

/* meta "purged-" + an identity or a scope id in hex: this home purged
 * that person's relationship, that scope. */
#define KEY_LEN (7 + 64 + 1)

static void purged_key(char key[KEY_LEN], const uint8_t id[32])
{
    memcpy(key, "purged-", 7);
    mm_encoding_hex(key + 7, id, 32);
}

static int purged(mm_txn_t *txn, const uint8_t id[32])
{
    char key[KEY_LEN];
    const uint8_t *v;
    size_t n;
    purged_key(key, id);
    return mm_meta_get(txn, key, &v, &n) == MM_OK;
}

int mm_purge_forgotten(mm_txn_t *txn, const uint8_t identity[32])
{
    mm_peer_t p;
    return purged(txn, identity) && mm_peer_get(txn, identity, &p) != MM_OK;
}

int mm_purge_scope_gone(mm_txn_t *txn, const uint8_t scope[32])
{
    mm_scope_t sc;
    if (!purged(txn, scope))
        return 0;
    int rc = mm_scope_get(txn, scope, &sc);
    mm_scope_wipe(&sc);
    return rc == MM_ENOTFOUND;
}

int mm_purge_relationship(mm_txn_t *txn, const uint8_t identity[32], const uint8_t scope[32],
                          mm_purge_t *out)
{
    mm_purge_t st = { 0, 0, 0 };
    devices_t d = { identity, NULL, 0, 0 };
    if (!memcmp(identity, txn->store->identity, 32))
        return MM_EINVAL;
    int rc = drop_scope(txn, identity, scope, &st);
    /* then the person's devices that no remaining entry is by (another
     * relationship with them, of an earlier invite, keeps its authors) */
    if (rc == MM_OK)
        rc = mm_cert_foreach(txn, collect_device, &d);
    for (size_t i = 0; rc == MM_OK && i < d.n; i++) {
        int any;
        if ((rc = mm_log_authored(txn, d.devices[i], &any)) == MM_OK && !any
            && (rc = mm_device_forget(txn, d.devices[i])) == MM_OK)
            st.devices++;
    }
    free(d.devices);
    if (rc == MM_OK)
        rc = mm_catchup_del(txn, identity);
    char key[KEY_LEN];
    purged_key(key, identity);
    if (rc == MM_OK)
        rc = mm_meta_put(txn, key, "", 0);
    purged_key(key, scope);
    if (rc == MM_OK)
        rc = mm_meta_put(txn, key, "", 0);
    if (rc == MM_OK && out)
        *out = st;
    return rc;
}
