/*  device.c -- the statements about devices a session exchanges, and the
 *  devices of one identity. */
#include <string.h>
#include "core/fold.h"
#include "core/device.h"
#include "core/rekey.h"
#include "core/store_int.h"
#include "core/be64.h"
#include "core/peer.h"
#include "core/revoke.h"
#include "core/purge.h"
#include "crypto/idcode.h"
#include <strings.h>

static const uint32_t max_of[3] = {
    MM_DEVICE_CERTS_MAX, MM_DEVICE_REVOKES_MAX, MM_DEVICE_ENDPOINTS_MAX,
};

typedef struct {
    mm_txn_t *txn;
    const uint8_t *me, *remote;
    int pass;                       /* 0: about me; 1: about the remote's person, or, to
                                     * an own device, about every peer */
    mm_device_set_t *out;
} collect_t;

/* Is a statement about identity sent in this pass? */
static int wanted(collect_t *c, const uint8_t identity[32])
{
    mm_peer_t p;
    if (c->pass == 0)
        return memcmp(identity, c->me, 32) == 0;
    if (memcmp(c->remote, c->me, 32) != 0)      /* a peer: what we know of its own devices */
        return memcmp(identity, c->remote, 32) == 0;
    return memcmp(identity, c->me, 32) != 0 && mm_peer_get(c->txn, identity, &p) == MM_OK;
}

static void add(collect_t *c, int kind, const uint8_t *raw, size_t len)
{
    uint32_t *n = &c->out->n[kind];
    if (*n < max_of[kind]) {
        c->out->item[kind][*n].p = raw;
        c->out->item[kind][(*n)++].len = len;
    }
}

static int collect_cert(const mm_cert_t *cert, const uint8_t *raw, size_t len, void *arg)
{
    collect_t *c = arg;
    if (mm_cert_proven(cert) && wanted(c, cert->identity))
        add(c, MM_DEVICE_CERT, raw, len);
    return 0;
}

static int collect_revoke(const mm_revoke_t *r, const uint8_t *raw, size_t len, void *arg)
{
    collect_t *c = arg;
    if (wanted(c, r->identity))
        add(c, MM_DEVICE_REVOKE, raw, len);
    return 0;
}

static int collect_endpoint(const mm_endpoint_t *e, const uint8_t *raw, size_t len, void *arg)
{
    collect_t *c = arg;
    mm_cert_t cert;
    if (mm_cert_get(c->txn, e->device, &cert, NULL, NULL) == MM_OK && wanted(c, cert.identity))
        add(c, MM_DEVICE_ENDPOINT, raw, len);
    return 0;
}

int mm_device_collect(mm_txn_t *txn, const uint8_t me[32], const uint8_t remote[32],
                      mm_device_set_t *out)
{
    collect_t c = { txn, me, remote, 0, out };
    int rc = MM_OK;
    memset(out->n, 0, sizeof out->n);
    /* a peer hears about our devices, and what we heard of its own (a
     * revocation one of its devices made reaches the others through us);
     * our own device about everyone's */
    for (c.pass = 0; c.pass < 2 && rc == MM_OK; c.pass++) {
        if ((rc = mm_cert_foreach(txn, collect_cert, &c))
            || (rc = mm_revoke_foreach(txn, collect_revoke, &c)))
            break;
        rc = mm_endpoint_foreach(txn, collect_endpoint, &c);
    }
    return rc;
}

/* May the remote tell us about identity? */
static int allowed(mm_txn_t *txn, const uint8_t me[32], const uint8_t remote[32],
                   const uint8_t identity[32])
{
    mm_peer_t p;
    if (memcmp(identity, remote, 32) == 0 || memcmp(identity, me, 32) == 0
        || mm_peer_get(txn, identity, &p) == MM_OK)
        return 1;
    /* from an own device, about anyone (a peer it has told us of in its
     * self scope, not applied yet) but a person purged here */
    return memcmp(remote, me, 32) == 0 && !mm_purge_forgotten(txn, identity);
}

int mm_device_accept(mm_txn_t *txn, const uint8_t me[32], const uint8_t remote[32], int kind,
                     const uint8_t *buf, size_t len)
{
    int rc, held;
    /* statements held byte for byte were verified when stored: every
     * session repeats them, and they cost no signature check again */
    if (kind == MM_DEVICE_CERT) {
        mm_cert_t c;
        if ((rc = mm_cert_check(txn, buf, len, &c, &held)))
            return rc;
        if (!mm_cert_proven(&c))
            return MM_EBADCERT;     /* a relayed certificate proves its device (3.1) */
        if (held || !allowed(txn, me, remote, c.identity))
            return MM_OK;
        rc = mm_cert_put(txn, buf, len, NULL);
        /* past the cap (3.1): the remote's own person has too many devices,
         * which only its identity key could make; a third person's relayed
         * by the remote is not the remote's fault, and is only not stored */
        if (rc == MM_ETOOMANY && memcmp(c.identity, remote, 32) != 0)
            return MM_OK;
        return rc;
    }
    if (kind == MM_DEVICE_REVOKE) {
        mm_revoke_t r;
        mm_cert_t c;
        if ((rc = mm_revoke_check(txn, buf, len, &r, &held)))
            return rc;
        if (held || !allowed(txn, me, remote, r.identity))
            return MM_OK;
        /* only about a device whose certificate names the same identity:
         * nobody else's statement means anything (3.2), and so one
         * person's devices bound what its statements take */
        rc = mm_cert_get(txn, r.device, &c, NULL, NULL);
        if (rc == MM_ENOTFOUND || (rc == MM_OK && memcmp(c.identity, r.identity, 32) != 0))
            return MM_OK;
        if (rc == MM_OK)
            rc = mm_revoke_put(txn, buf, len, NULL);
        return rc == MM_ETOOMANY && memcmp(r.identity, remote, 32) != 0 ? MM_OK : rc;
    }
    if (kind == MM_DEVICE_ENDPOINT) {
        mm_endpoint_t e;
        mm_cert_t c;
        if ((rc = mm_endpoint_check(txn, buf, len, &e, &held)) || held)
            return rc;
        rc = mm_cert_get(txn, e.device, &c, NULL, NULL);
        if (rc == MM_ENOTFOUND)
            return MM_OK;           /* whose it is, only a certificate says */
        if (rc)
            return rc;
        return allowed(txn, me, remote, c.identity) ? mm_endpoint_put(txn, buf, len, NULL)
                                                     : MM_OK;
    }
    return MM_EINVAL;
}

/* ---- the devices of one identity ---- */

typedef struct {
    mm_txn_t *txn;
    const uint8_t *identity;
    mm_device_fn fn;
    void *arg;
} each_t;

static int each_cert(const mm_cert_t *c, const uint8_t *raw, size_t len, void *arg)
{
    each_t *e = arg;
    mm_device_t d;
    (void) raw;
    (void) len;
    if (memcmp(c->identity, e->identity, 32) != 0)
        return 0;
    memset(&d, 0, sizeof d);
    d.cert = *c;
    int rc = mm_revoke_state(e->txn, c->device, c->identity, NULL, &d.revoked, NULL);
    if (rc)
        return rc;
    rc = mm_endpoint_get(e->txn, c->device, &d.endpoints, NULL, NULL);
    if (rc && rc != MM_ENOTFOUND)
        return rc;
    d.has_endpoints = rc == MM_OK;
    if ((rc = mm_device_last_seen(e->txn, c->device, &d.last_seen)))
        return rc;
    return e->fn(&d, e->arg);
}

int mm_device_foreach(mm_txn_t *txn, const uint8_t identity[32], mm_device_fn fn, void *arg)
{
    each_t e = { txn, identity, fn, arg };
    return mm_cert_foreach(txn, each_cert, &e);
}

int mm_device_seen(mm_txn_t *txn, const uint8_t device[32], uint64_t now)
{
    uint8_t v8[8];
    if (!txn->store->has_v3)
        return MM_OK;
    mm_be64_put(v8, now);
    MDB_val k = { 32, (void *) device }, v = { 8, v8 };
    return mm_store_rc(mdb_put(txn->txn, txn->store->seen, &k, &v, 0));
}

int mm_device_last_seen(mm_txn_t *txn, const uint8_t device[32], uint64_t *when)
{
    *when = 0;
    if (!txn->store->has_v3)
        return MM_OK;
    MDB_val k = { 32, (void *) device }, v;
    int rc = mdb_get(txn->txn, txn->store->seen, &k, &v);
    if (rc == MDB_NOTFOUND)
        return MM_OK;
    if (rc)
        return mm_store_rc(rc);
    if (v.mv_size != 8)
        return MM_ECORRUPT;
    *when = mm_be64_get(v.mv_data);
    return MM_OK;
}

static int any_endpoints(const mm_device_t *d, void *arg)
{
    (void) arg;
    return !d->revoked && d->has_endpoints && d->endpoints.n > 0;
}

int mm_device_announced(mm_txn_t *txn, const uint8_t identity[32])
{
    return mm_device_foreach(txn, identity, any_endpoints, NULL) == 1;
}

/* ---- finding, revoking, renaming ---- */

typedef struct {
    const char *what;
    size_t n;
    int by_code;
    int matches;
    mm_device_t *out;
} find_t;

static int find_one(const mm_device_t *d, void *arg)
{
    find_t *f = arg;
    char code[MM_IDCODE_LEN + 1];
    int hit;
    if (f->by_code) {
        mm_idcode_encode(code, MM_IDCODE_DEVICE, d->cert.device);
        hit = strncasecmp(code, f->what, f->n) == 0;
    } else {
        hit = mm_fold_cmp(d->cert.name, f->what) == 0;
    }
    if (hit && f->matches++ == 0)
        *f->out = *d;
    return 0;
}

int mm_device_find(mm_txn_t *txn, const uint8_t identity[32], const char *what,
                   mm_device_t *out)
{
    memset(out, 0, sizeof *out);
    find_t f = { what, strlen(what), strncasecmp(what, MM_IDCODE_DEVICE, 3) == 0, 0, out };
    if (f.by_code && f.n < 6)
        return MM_EINVAL;
    int rc = mm_device_foreach(txn, identity, find_one, &f);
    if (rc == MM_OK && f.matches == 0 && f.by_code) {
        /* a device named like a code: try the name too */
        f.by_code = 0;
        rc = mm_device_foreach(txn, identity, find_one, &f);
    }
    if (rc)
        return rc;
    return f.matches == 0 ? MM_ENOTFOUND : f.matches > 1 ? MM_EAMBIG : MM_OK;
}

static int newest_identity(const mm_device_t *d, void *arg)
{
    mm_device_t *best = arg;
    if ((d->cert.flags & MM_CERT_IDENTITY) && !d->revoked
        && (!best->cert.created || d->cert.created > best->cert.created))
        *best = *d;
    return 0;
}

int mm_device_identity(mm_txn_t *txn, const uint8_t identity[32], mm_device_t *out)
{
    memset(out, 0, sizeof *out);
    int rc = mm_device_foreach(txn, identity, newest_identity, out);
    return rc ? rc : out->cert.created || out->cert.flags ? MM_OK : MM_ENOTFOUND;
}

/* The identity key of this home, or MM_ENOIDENTITY. */
static int identity_key(mm_home_t *home, mm_keypair_t **idk)
{
    int rc = mm_home_identity_key(home, idk);
    return rc == MM_ENOTFOUND ? MM_ENOIDENTITY : rc;
}

int mm_device_revoke(mm_home_t *home, const uint8_t device[32], uint64_t now, mm_revoke_t *out)
{
    mm_keypair_t *idk = NULL;
    mm_txn_t *txn = NULL;
    mm_revoke_t r;
    if (!memcmp(device, mm_keypair_pk(mm_home_device(home)), 32))
        return MM_EINVAL;           /* this very device: mm device reset */
    int rc = identity_key(home, &idk);
    if (rc)
        return rc;
    mm_cert_t c;
    if ((rc = mm_store_begin(mm_home_store(home), 1, &txn)) == MM_OK
        && (rc = mm_revoke_device(txn, idk, device, now, &r)) == MM_OK
        /* a mailbox never held a key: nothing to rotate away from it */
        && (mm_cert_get(txn, device, &c, NULL, NULL) == MM_OK && (c.flags & MM_CERT_MAILBOX)
            ? MM_OK : (rc = mm_rekey_scopes(txn, mm_home_device(home), device, now, NULL)))
               == MM_OK) {
        if (out) {
            *out = r;
            out->lasts = NULL;      /* points into the map: not past the commit */
            out->lastslen = 0;
        }
        rc = mm_txn_commit(&txn);
    }
    mm_txn_abort(&txn);
    mm_keypair_destroy(&idk);
    return rc == MM_EINVAL ? MM_ENOTFOUND : rc;
}

int mm_device_rename(mm_home_t *home, const uint8_t device[32], const char *name, uint64_t now)
{
    mm_keypair_t *idk = NULL;
    mm_txn_t *txn = NULL;
    mm_cert_t c;
    uint8_t buf[MM_CERT_MAX];
    size_t len = 0;
    const mm_keypair_t *dev = mm_home_device(home);
    int self = memcmp(device, mm_keypair_pk(dev), 32) == 0;
    int rc = identity_key(home, &idk);
    if (rc)
        return rc;
    if ((rc = mm_store_begin(mm_home_store(home), 1, &txn)) == MM_OK
        && (rc = mm_cert_get(txn, device, &c, NULL, NULL)) == MM_OK) {
        /* a rename is a newer certificate: created must grow; the device's
         * proof of the one it has (version 2) serves again */
        uint64_t created = now > c.created ? now : c.created + 1;
        if (memcmp(c.identity, mm_keypair_pk(idk), 32) != 0)
            rc = MM_ENOTFOUND;
        else if (self)
            rc = mm_cert_make(idk, dev, created, name, c.flags, buf, sizeof buf, &len);
        else if (c.version < 2)
            rc = MM_EBADCERT;       /* no proof to restate: only that device can give one */
        else
            rc = mm_cert_complete(idk, device, created, name, c.flags, c.devsig, buf, sizeof buf,
                                  &len);
        if (rc == MM_OK && (rc = mm_cert_put(txn, buf, len, NULL)) == MM_OK)
            rc = mm_txn_commit(&txn);
    }
    mm_txn_abort(&txn);
    mm_keypair_destroy(&idk);
    return rc;
}

/* mm_home_rotate_device's step inside its transaction: revoke the old key
 * (up to what nobody disputes) and rotate every scope's key away from it,
 * the new device writing the rekeys. */
typedef struct {
    uint64_t now;
    size_t   nscopes;
} reset_t;

static int on_rotate(mm_txn_t *txn, const mm_keypair_t *identity, const uint8_t old[32],
                     const mm_keypair_t *dev, void *arg)
{
    reset_t *r = arg;
    int rc = mm_revoke_device(txn, identity, old, r->now, NULL);
    return rc ? rc : mm_rekey_scopes(txn, dev, old, r->now, &r->nscopes);
}

int mm_device_reset(mm_home_t *home, uint64_t now, uint8_t old_pk[32], size_t *nscopes)
{
    reset_t r = { now, 0 };
    int rc = mm_home_rotate_device(home, now, on_rotate, &r, old_pk);
    if (rc == MM_OK && nscopes)
        *nscopes = r.nscopes;
    return rc;
}

int mm_device_forget(mm_txn_t *txn, const uint8_t device[32])
{
    int rc = mm_cert_del(txn, device);
    if (rc == MM_OK && (rc = mm_revoke_drop(txn, device)) == MM_OK
        && (rc = mm_endpoint_del(txn, device)) == MM_OK && txn->store->has_v3) {
        MDB_val k = { 32, (void *) device };
        rc = mdb_del(txn->txn, txn->store->seen, &k, NULL);
        rc = rc == MDB_NOTFOUND ? MM_OK : mm_store_rc(rc);
    }
    return rc;
}
