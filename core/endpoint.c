/*  endpoint.c -- endpoints statements and their table. */
#include <string.h>
#include "core/endpoint.h"
#include "core/store_int.h"
#include "core/mp.h"
#include "crypto/hash.h"

int mm_endpoint_make(const mm_keypair_t *device, uint64_t seq,
                     const char (*eps)[MM_ENDPOINT_MAX + 1], unsigned n,
                     uint8_t *out, size_t cap, size_t *outlen)
{
    uint8_t digest[MM_HASH_BYTES], sig[MM_SIG_BYTES];
    mm_mp_writer_t w;
    if (n > MM_PEER_ENDPOINTS)
        return MM_EINVAL;
    for (unsigned i = 0; i < n; i++)
        if (!mm_endpoint_valid(eps[i]))
            return MM_EINVAL;
    mm_mp_writer_init(&w, out, cap);
    mm_mp_put_array(&w, 5);
    mm_mp_put_uint(&w, MM_ENDPOINT_VERSION);
    mm_mp_put_bin(&w, mm_keypair_pk(device), MM_PK_BYTES);
    mm_mp_put_uint(&w, seq);
    mm_mp_put_array(&w, n);
    for (unsigned i = 0; i < n; i++)
        mm_mp_put_cstr(&w, eps[i]);
    int rc = mm_mp_writer_status(&w);
    if (rc)
        return rc;
    mm_hash(digest, out, w.len);
    if ((rc = mm_sign_digest(device, MM_CTX_ENDPOINTS, digest, sig)))
        return rc;
    mm_mp_put_bin(&w, sig, sizeof sig);
    if ((rc = mm_mp_writer_status(&w)) == MM_OK)
        *outlen = w.len;
    return rc;
}

static int parse(const uint8_t *buf, size_t len, mm_endpoint_t *out, int check_sig)
{
    mm_mp_reader_t r;
    uint32_t n, ne;
    uint64_t version;
    const uint8_t *dev, *sig;
    int rc;
    if (len > MM_ENDPOINT_STMT_MAX)
        return MM_ETOOBIG;
    mm_mp_reader_init(&r, buf, len);
    if ((rc = mm_mp_array(&r, &n)))
        return rc;
    if (n != 5)
        return MM_EMALFORMED;
    if ((rc = mm_mp_uint(&r, &version)))
        return rc;
    if (version != MM_ENDPOINT_VERSION)
        return MM_EVERSION;
    if ((rc = mm_mp_bin_n(&r, &dev, MM_PK_BYTES)) || (rc = mm_mp_uint(&r, &out->seq))
        || (rc = mm_mp_array(&r, &ne)))
        return rc;
    if (ne > MM_PEER_ENDPOINTS)
        return MM_ETOOBIG;
    for (uint32_t i = 0; i < ne; i++) {
        const char *s;
        uint32_t sl;
        if ((rc = mm_mp_str(&r, &s, &sl)))
            return rc;
        if (sl > MM_ENDPOINT_MAX)
            return MM_ETOOBIG;
        memcpy(out->endpoints[i], s, sl);
        out->endpoints[i][sl] = '\0';
        if (memchr(s, 0, sl) || !mm_endpoint_valid(out->endpoints[i]))
            return MM_EMALFORMED;
    }
    size_t signedlen = (size_t) (r.p - buf);
    if ((rc = mm_mp_bin_n(&r, &sig, MM_SIG_BYTES)))
        return rc;
    if (mm_mp_left(&r))
        return MM_ETRAILING;
    if (check_sig) {
        uint8_t digest[MM_HASH_BYTES];
        mm_hash(digest, buf, signedlen);
        if ((rc = mm_verify_digest(dev, MM_CTX_ENDPOINTS, digest, sig)))
            return rc;
    }
    memcpy(out->device, dev, MM_PK_BYTES);
    out->n = ne;
    return MM_OK;
}

int mm_endpoint_parse(const uint8_t *buf, size_t len, mm_endpoint_t *out)
{
    return parse(buf, len, out, 1);
}

int mm_endpoint_get(mm_txn_t *txn, const uint8_t device[32], mm_endpoint_t *out,
                    const uint8_t **raw, size_t *rawlen)
{
    if (!txn->store->has_v3)
        return MM_ENOTFOUND;
    MDB_val k = { 32, (void *) device }, v;
    int rc = mdb_get(txn->txn, txn->store->endpoints, &k, &v);
    if (rc)
        return mm_store_rc(rc);
    if (parse(v.mv_data, v.mv_size, out, 0) || memcmp(out->device, device, 32))
        return MM_ECORRUPT;
    if (raw) {
        *raw = v.mv_data;
        *rawlen = v.mv_size;
    }
    return MM_OK;
}

int mm_endpoint_check(mm_txn_t *txn, const uint8_t *buf, size_t len, mm_endpoint_t *out,
                      int *held)
{
    MDB_val k = { 32, NULL }, v;
    int rc = parse(buf, len, out, 0);
    *held = 0;
    if (rc)
        return rc;
    if (txn->store->has_v3) {
        k.mv_data = out->device;
        rc = mdb_get(txn->txn, txn->store->endpoints, &k, &v);
        if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND)
            return mm_store_rc(rc);
        /* the very bytes we stored were verified when stored */
        if (rc == MDB_SUCCESS && v.mv_size == len && memcmp(v.mv_data, buf, len) == 0) {
            *held = 1;
            return MM_OK;
        }
    }
    return parse(buf, len, out, 1);
}

int mm_endpoint_put(mm_txn_t *txn, const uint8_t *buf, size_t len, int *replaced)
{
    mm_endpoint_t e, old;
    int held;
    memset(&old, 0, sizeof old);
    if (replaced)
        *replaced = 0;
    if (!txn->store->has_v3) {    /* a bad statement is still said to be bad */
        int prc = mm_endpoint_parse(buf, len, &e);
        return prc ? prc : MM_EVERSION;
    }
    int rc = mm_endpoint_check(txn, buf, len, &e, &held);
    if (rc || held)
        return rc;
    rc = mm_endpoint_get(txn, e.device, &old, NULL, NULL);
    if (rc == MM_OK && old.seq >= e.seq)
        return MM_OK;               /* only a greater seq replaces: order-free */
    if (rc && rc != MM_ENOTFOUND)
        return rc;
    MDB_val k = { 32, e.device }, v = { len, (void *) buf };
    if ((rc = mdb_put(txn->txn, txn->store->endpoints, &k, &v, 0)))
        return mm_store_rc(rc);
    if (replaced)
        *replaced = 1;
    return MM_OK;
}

typedef struct {
    mm_endpoint_fn fn;
    void *arg;
} walk_t;

static int walk_one(const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen, void *arg)
{
    walk_t *w = arg;
    mm_endpoint_t e;
    (void) key;
    (void) klen;
    if (parse(val, vlen, &e, 0))
        return MM_ECORRUPT;
    return w->fn(&e, val, vlen, w->arg);
}

int mm_endpoint_foreach(mm_txn_t *txn, mm_endpoint_fn fn, void *arg)
{
    walk_t w = { fn, arg };
    if (!txn->store->has_v3)
        return MM_OK;
    return mm_store_walk(txn, txn->store->endpoints, walk_one, &w);
}

/* 1 if ep's host is a loopback address (127.0.0.0/8, ::1, localhost). */
static int loopback(const char *ep)
{
    const char *host = strncmp(ep, "tcp://", 6) == 0 ? ep + 6 : ep;
    return strncmp(host, "127.", 4) == 0 || strncmp(host, "[::1]", 5) == 0
           || strncmp(host, "localhost:", 10) == 0;
}

int mm_endpoint_announce(mm_txn_t *txn, const mm_keypair_t *device, uint64_t now,
                         const char (*all)[MM_ENDPOINT_MAX + 1], unsigned nall, int *changed)
{
    /* a loopback address reaches only this machine: announced only when
     * there is nothing else, lest a peer elsewhere dial its own port */
    char eps[MM_PEER_ENDPOINTS][MM_ENDPOINT_MAX + 1];
    unsigned n = 0, others = 0;
    for (unsigned i = 0; i < nall; i++)
        others += !loopback(all[i]);
    for (unsigned i = 0; i < nall && n < MM_PEER_ENDPOINTS; i++)
        if (!others || !loopback(all[i]))
            memcpy(eps[n++], all[i], MM_ENDPOINT_MAX + 1);
    mm_endpoint_t old;
    uint8_t buf[MM_ENDPOINT_STMT_MAX];
    size_t len;
    uint64_t seq = now;
    memset(&old, 0, sizeof old);
    if (changed)
        *changed = 0;
    int rc = mm_endpoint_get(txn, mm_keypair_pk(device), &old, NULL, NULL);
    if (rc == MM_OK) {
        int same = old.n == n;
        for (unsigned i = 0; same && i < n; i++)
            same = strcmp(old.endpoints[i], eps[i]) == 0;
        if (same)
            return MM_OK;
        if (seq <= old.seq)
            seq = old.seq + 1;
    } else if (rc != MM_ENOTFOUND) {
        return rc;
    }
    if ((rc = mm_endpoint_make(device, seq, (const char (*)[MM_ENDPOINT_MAX + 1]) eps, n, buf,
                               sizeof buf, &len))
        || (rc = mm_endpoint_put(txn, buf, len, changed)))
        return rc;
    return MM_OK;
}

int mm_endpoint_del(mm_txn_t *txn, const uint8_t device[32])
{
    if (!txn->store->has_v3)
        return MM_OK;
    MDB_val k = { 32, (void *) device };
    int rc = mdb_del(txn->txn, txn->store->endpoints, &k, NULL);
    return rc == MDB_NOTFOUND ? MM_OK : mm_store_rc(rc);
}
