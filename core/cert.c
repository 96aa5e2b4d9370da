#include <string.h>
#include "core/cert.h"
#include "core/store_int.h"
#include "core/mp.h"
#include "crypto/hash.h"
#include "crypto/error.h"

/* The fields before the proofs: header, version, keys, created, name and,
 * in version 2, flags.  Returns the writer's status. */
static int put_fields(mm_mp_writer_t *w, unsigned version, const uint8_t identity[32],
                      const uint8_t device[32], uint64_t created, const char *name,
                      size_t nlen, unsigned flags)
{
    mm_mp_put_array(w, version == 1 ? 6 : 8);
    mm_mp_put_uint(w, version);
    mm_mp_put_bin(w, identity, MM_PK_BYTES);
    mm_mp_put_bin(w, device, MM_PK_BYTES);
    mm_mp_put_uint(w, created);
    mm_mp_put_str(w, name, nlen);
    if (version >= 2)
        mm_mp_put_uint(w, flags);
    return mm_mp_writer_status(w);
}

static int check_fields(const char *name, unsigned flags, size_t *nlen)
{
    *nlen = strlen(name);
    return *nlen > MM_DEVNAME_MAX || flags > MM_CERT_FLAGS_MAX
           || (flags & MM_CERT_ROLES) == MM_CERT_ROLES ? MM_EINVAL : MM_OK;
}

/* What the device signs: the header, the version and the two keys: that
 * this device key belongs to this identity, nothing the identity may
 * later restate (name, time, flags). */
static void devsig_digest(uint8_t digest[MM_HASH_BYTES], const uint8_t identity[32],
                          const uint8_t device[32])
{
    uint8_t buf[2 + 2 * 34];
    mm_mp_writer_t w;
    mm_mp_writer_init(&w, buf, sizeof buf);
    mm_mp_put_array(&w, 8);
    mm_mp_put_uint(&w, 2);
    mm_mp_put_bin(&w, identity, MM_PK_BYTES);
    mm_mp_put_bin(&w, device, MM_PK_BYTES);
    mm_hash(digest, buf, w.len);
}

int mm_cert_request(const mm_keypair_t *device, const uint8_t identity_pk[MM_PK_BYTES],
                    uint8_t devsig[MM_SIG_BYTES])
{
    uint8_t digest[MM_HASH_BYTES];
    devsig_digest(digest, identity_pk, mm_keypair_pk(device));
    return mm_sign_digest(device, MM_CTX_DEVICE, digest, devsig);
}

int mm_cert_complete(const mm_keypair_t *identity, const uint8_t device_pk[MM_PK_BYTES],
                     uint64_t created, const char *name, unsigned flags,
                     const uint8_t devsig[MM_SIG_BYTES],
                     uint8_t *out, size_t cap, size_t *outlen)
{
    uint8_t digest[MM_HASH_BYTES], sig[MM_SIG_BYTES];
    size_t nlen;
    mm_mp_writer_t w;
    int rc = check_fields(name, flags, &nlen);
    if (rc)
        return rc;
    devsig_digest(digest, mm_keypair_pk(identity), device_pk);
    if (mm_verify_digest(device_pk, MM_CTX_DEVICE, digest, devsig) != MM_OK)
        return MM_EBADSIG;          /* never vouch for a key whose holder did not ask */
    mm_mp_writer_init(&w, out, cap);
    if ((rc = put_fields(&w, 2, mm_keypair_pk(identity), device_pk, created, name, nlen, flags)))
        return rc;
    mm_mp_put_bin(&w, devsig, MM_SIG_BYTES);
    mm_hash(digest, out, w.len);
    if ((rc = mm_sign_digest(identity, MM_CTX_CERT, digest, sig)))
        return rc;
    mm_mp_put_bin(&w, sig, sizeof sig);
    rc = mm_mp_writer_status(&w);
    if (rc == MM_OK)
        *outlen = w.len;
    return rc;
}

int mm_cert_make(const mm_keypair_t *identity, const mm_keypair_t *device,
                 uint64_t created, const char *name, unsigned flags,
                 uint8_t *out, size_t cap, size_t *outlen)
{
    uint8_t devsig[MM_SIG_BYTES];
    int rc = mm_cert_request(device, mm_keypair_pk(identity), devsig);
    if (rc)
        return rc;
    return mm_cert_complete(identity, mm_keypair_pk(device), created, name, flags, devsig,
                            out, cap, outlen);
}

int mm_cert_make_v1(const mm_keypair_t *identity, const uint8_t device_pk[MM_PK_BYTES],
                    uint64_t created, const char *name,
                    uint8_t *out, size_t cap, size_t *outlen)
{
    uint8_t digest[MM_HASH_BYTES], sig[MM_SIG_BYTES];
    size_t nlen;
    mm_mp_writer_t w;
    int rc = check_fields(name, 0, &nlen);
    if (rc)
        return rc;
    mm_mp_writer_init(&w, out, cap);
    if ((rc = put_fields(&w, 1, mm_keypair_pk(identity), device_pk, created, name, nlen, 0)))
        return rc;
    mm_hash(digest, out, w.len);
    if ((rc = mm_sign_digest(identity, MM_CTX_CERT, digest, sig)))
        return rc;
    mm_mp_put_bin(&w, sig, sizeof sig);
    rc = mm_mp_writer_status(&w);
    if (rc == MM_OK)
        *outlen = w.len;
    return rc;
}

static int parse(const uint8_t *buf, size_t len, mm_cert_t *out, int check_sig)
{
    if (len > MM_CERT_MAX)
        return MM_ETOOBIG;
    mm_mp_reader_t r;
    mm_mp_reader_init(&r, buf, len);
    uint32_t n, nlen;
    uint64_t version, flags = 0;
    const uint8_t *idk, *dev, *sig, *devsig = NULL;
    const char *name;
    int rc;
    if ((rc = mm_mp_array(&r, &n)))
        return rc;
    if (n != 6 && n != 8)
        return MM_EMALFORMED;
    if ((rc = mm_mp_uint(&r, &version)))
        return rc;
    if (version != 1 && version != 2)
        return MM_EVERSION;
    if (n != (version == 1 ? 6u : 8u))
        return MM_EMALFORMED;
    if ((rc = mm_mp_bin_n(&r, &idk, MM_PK_BYTES))
        || (rc = mm_mp_bin_n(&r, &dev, MM_PK_BYTES))
        || (rc = mm_mp_uint(&r, &out->created))
        || (rc = mm_mp_str(&r, &name, &nlen)))
        return rc;
    if (nlen > MM_DEVNAME_MAX || memchr(name, 0, nlen))
        return MM_EMALFORMED;
    if (version == 2) {
        if ((rc = mm_mp_uint(&r, &flags)))
            return rc;
        if (flags > MM_CERT_FLAGS_MAX)
            return MM_EMALFORMED;
        /* a mailbox holds no key of its person: never both roles */
        if ((flags & MM_CERT_ROLES) == MM_CERT_ROLES)
            return MM_EBADCERT;
        if ((rc = mm_mp_bin_n(&r, &devsig, MM_SIG_BYTES)))
            return rc;
    }
    size_t signedlen = (size_t) (r.p - buf);
    if ((rc = mm_mp_bin_n(&r, &sig, MM_SIG_BYTES)))
        return rc;
    if (mm_mp_left(&r))
        return MM_ETRAILING;
    uint8_t digest[MM_HASH_BYTES];
    if (check_sig && devsig) {
        devsig_digest(digest, idk, dev);
        if ((rc = mm_verify_digest(dev, MM_CTX_DEVICE, digest, devsig)))
            return rc;
    }
    if (check_sig) {
        mm_hash(digest, buf, signedlen);
        if ((rc = mm_verify_digest(idk, MM_CTX_CERT, digest, sig)))
            return rc;
    }
    out->version = (unsigned) version;
    out->flags = (unsigned) flags;
    memcpy(out->identity, idk, MM_PK_BYTES);
    memcpy(out->device, dev, MM_PK_BYTES);
    memcpy(out->name, name, nlen);
    out->name[nlen] = '\0';
    if (devsig)
        memcpy(out->devsig, devsig, MM_SIG_BYTES);
    else
        memset(out->devsig, 0, MM_SIG_BYTES);
    memcpy(out->sig, sig, MM_SIG_BYTES);
    return MM_OK;
}

int mm_cert_parse(const uint8_t *buf, size_t len, mm_cert_t *out)
{
    return parse(buf, len, out, 1);
}

int mm_cert_decode(const uint8_t *buf, size_t len, mm_cert_t *out)
{
    return parse(buf, len, out, 0);
}

int mm_cert_proven(const mm_cert_t *c)
{
    return c->version >= 2;
}

/* ---- the certs table: admitted certificates by device key ---- */

static int cert_index(mm_txn_t *txn, const uint8_t device[32]);     /* below */

/* Both versions start with the array header, the version (a fixint) and
 * the identity's bin8 header: the identity is at this offset. */
#define IDENTITY_AT 4

int mm_cert_count(mm_txn_t *txn, const uint8_t identity[32], unsigned *n)
{
    MDB_cursor *cur;
    MDB_val k, v;
    *n = 0;
    int rc = mdb_cursor_open(txn->txn, txn->store->certs, &cur);
    if (rc)
        return mm_store_rc(rc);
    /* the stored bytes, not decoded: this walk is as cheap as a walk can be */
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
         rc == MDB_SUCCESS && *n < MM_CERT_PER_IDENTITY;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        const uint8_t *b = v.mv_data;
        if (v.mv_size < IDENTITY_AT + MM_PK_BYTES || b[2] != 0xc4 || b[3] != MM_PK_BYTES) {
            rc = MDB_CORRUPTED;
            break;
        }
        if (memcmp(b + IDENTITY_AT, identity, MM_PK_BYTES) == 0)
            ++*n;
    }
    mdb_cursor_close(cur);
    return rc == MDB_SUCCESS || rc == MDB_NOTFOUND ? MM_OK : mm_store_rc(rc);
}

int mm_cert_check(mm_txn_t *txn, const uint8_t *buf, size_t len, mm_cert_t *out, int *held)
{
    int rc = mm_cert_decode(buf, len, out);
    *held = 0;
    if (rc)
        return rc;
    MDB_val k = { MM_PK_BYTES, out->device }, v;
    rc = mdb_get(txn->txn, txn->store->certs, &k, &v);
    if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND)
        return mm_store_rc(rc);
    /* the very bytes we stored were verified when stored (3.1) */
    if (rc == MDB_SUCCESS && v.mv_size == len && memcmp(v.mv_data, buf, len) == 0) {
        *held = 1;
        return MM_OK;
    }
    return mm_cert_parse(buf, len, out);
}

int mm_cert_put(mm_txn_t *txn, const uint8_t *buf, size_t len, mm_cert_t *out)
{
    mm_cert_t c, old;
    int held;
    int rc = mm_cert_check(txn, buf, len, &c, &held);
    if (rc)
        return rc;
    if (held)
        goto done;
    MDB_val k = { MM_PK_BYTES, c.device }, v;
    rc = mdb_get(txn->txn, txn->store->certs, &k, &v);
    if (rc == MDB_SUCCESS) {
        if (mm_cert_decode(v.mv_data, v.mv_size, &old) != MM_OK)
            return MM_ECORRUPT;
        if (memcmp(old.identity, c.identity, MM_PK_BYTES) != 0)
            return MM_EEXIST;
        /* the same identity's newer word on its device (a rename, or the
         * version-2 certificate of an upgraded home) replaces the older;
         * the device key, and so its curves row, stay the same */
        if (old.version > c.version || (old.version == c.version && old.created >= c.created)) {
            c = old;
            goto done;
        }
        v.mv_size = len;
        v.mv_data = (void *) buf;
        if ((rc = mdb_put(txn->txn, txn->store->certs, &k, &v, 0)))
            return mm_store_rc(rc);
    } else if (rc == MDB_NOTFOUND) {
        /* a new device: one person's devices are capped, so that nobody
         * who holds an identity key can fill the store with "devices" */
        unsigned n;
        if ((rc = mm_cert_count(txn, c.identity, &n)))
            return rc;
        if (n >= MM_CERT_PER_IDENTITY)
            return MM_ETOOMANY;
        v.mv_size = len;
        v.mv_data = (void *) buf;
        if ((rc = mdb_put(txn->txn, txn->store->certs, &k, &v, 0)))
            return mm_store_rc(rc);
        if ((rc = cert_index(txn, c.device)))
            return rc;
    } else {
        return mm_store_rc(rc);
    }
done:
    if (out)
        *out = c;
    return MM_OK;
}

int mm_cert_get(mm_txn_t *txn, const uint8_t device[32], mm_cert_t *out,
                const uint8_t **raw, size_t *rawlen)
{
    MDB_val k = { MM_PK_BYTES, (void *) device }, v;
    int rc = mdb_get(txn->txn, txn->store->certs, &k, &v);
    if (rc)
        return mm_store_rc(rc);
    if (mm_cert_decode(v.mv_data, v.mv_size, out) != MM_OK
        || memcmp(out->device, device, MM_PK_BYTES) != 0)
        return MM_ECORRUPT;
    if (raw) {
        *raw = v.mv_data;
        *rawlen = v.mv_size;
    }
    return MM_OK;
}

int mm_cert_foreach(mm_txn_t *txn, mm_cert_fn fn, void *arg)
{
    MDB_cursor *cur;
    MDB_val k, v;
    int rc = mdb_cursor_open(txn->txn, txn->store->certs, &cur);
    if (rc)
        return mm_store_rc(rc);
    int ret = MM_OK;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == MDB_SUCCESS;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        mm_cert_t c;
        if (mm_cert_decode(v.mv_data, v.mv_size, &c) != MM_OK) {
            ret = MM_ECORRUPT;
            break;
        }
        if ((ret = fn(&c, v.mv_data, v.mv_size, arg)) != 0)
            break;
    }
    mdb_cursor_close(cur);
    return ret;
}

/* ---- the curves index: certificates by the X25519 form of their device ----
 *
 * A CURVE client proves an X25519 key; admission needs the certificate
 * behind it.  Converting every stored certificate's key per connection
 * costs as many conversions as certificates, and a peer can send us any
 * number of certificates, so the store keeps X25519 key -> device key
 * (sorted duplicates) in "curves", written with the certificate. */

static int cert_index(mm_txn_t *txn, const uint8_t device[32])
{
    uint8_t x[32];
    if (!txn->store->has_curves)
        return MM_OK;                   /* a read-only format-1 store: nothing is written */
    /* a key that is not a valid point has no X25519 form: no CURVE client
     * can ever prove it, so it needs no entry */
    if (mm_pk_to_x25519(x, device) != MM_OK)
        return MM_OK;
    MDB_val k = { 32, x }, v = { 32, (void *) device };
    int rc = mdb_put(txn->txn, txn->store->curves, &k, &v, 0);
    return rc == MDB_KEYEXIST ? MM_OK : mm_store_rc(rc);
}

int mm_cert_reindex(mm_txn_t *txn, size_t *added)
{
    MDB_cursor *cur, *idx = NULL;
    MDB_val k, v;
    size_t n = 0;
    if (added)
        *added = 0;
    if (!txn->store->has_curves)
        return MM_OK;
    /* rows are added only for stored certificates, which are never deleted:
     * as many rows as certificates means every one is there */
    MDB_stat certs, curves;
    int rc = mdb_stat(txn->txn, txn->store->certs, &certs);
    if (rc || (rc = mdb_stat(txn->txn, txn->store->curves, &curves)))
        return mm_store_rc(rc);
    if (curves.ms_entries == certs.ms_entries)
        return MM_OK;
    if ((rc = mdb_cursor_open(txn->txn, txn->store->certs, &cur)))
        return mm_store_rc(rc);
    if ((rc = mdb_cursor_open(txn->txn, txn->store->curves, &idx))) {
        mdb_cursor_close(cur);
        return mm_store_rc(rc);
    }
    int ret = MM_OK;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == MDB_SUCCESS;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        uint8_t x[32];
        if (k.mv_size != 32) {
            ret = MM_ECORRUPT;
            break;
        }
        if (mm_pk_to_x25519(x, k.mv_data) != MM_OK)
            continue;
        /* look before writing: a complete index costs no write at all */
        MDB_val ik = { 32, x }, iv = { 32, k.mv_data };
        int got = mdb_cursor_get(idx, &ik, &iv, MDB_GET_BOTH);
        if (got == MDB_NOTFOUND) {
            if ((ret = cert_index(txn, k.mv_data)))
                break;
            n++;
        } else if (got) {
            ret = mm_store_rc(got);
            break;
        }
    }
    if (ret == MM_OK && rc != MDB_NOTFOUND)
        ret = mm_store_rc(rc);
    mdb_cursor_close(idx);
    mdb_cursor_close(cur);
    if (added && ret == MM_OK)
        *added = n;
    return ret;
}

static int stop_at_one(const mm_cert_t *c, const uint8_t *raw, size_t len, void *arg)
{
    (void) c;
    (void) raw;
    (void) len;
    (void) arg;
    return 1;
}

typedef struct {
    const uint8_t *x;
    mm_cert_fn fn;
    void *arg;
    int found;
} curve_scan_t;

static int scan_one(const mm_cert_t *c, const uint8_t *raw, size_t len, void *arg)
{
    curve_scan_t *f = arg;
    uint8_t x[32];
    if (mm_pk_to_x25519(x, c->device) != MM_OK || memcmp(x, f->x, 32) != 0)
        return 0;
    f->found = 1;
    return f->fn(c, raw, len, f->arg);
}

int mm_cert_curve_held(mm_txn_t *txn, const uint8_t x25519[32])
{
    if (!txn->store->has_curves)
        return mm_cert_by_curve(txn, x25519, stop_at_one, NULL) == 1;
    MDB_val k = { 32, (void *) x25519 }, v;
    return mdb_get(txn->txn, txn->store->curves, &k, &v) == MDB_SUCCESS;
}

int mm_cert_curve_is(mm_txn_t *txn, const uint8_t x25519[32], const uint8_t device[32])
{
    uint8_t x[32];
    if (txn->store->has_curves) {
        MDB_cursor *cur;
        MDB_val k = { 32, (void *) x25519 }, v = { 32, (void *) device };
        if (mdb_cursor_open(txn->txn, txn->store->curves, &cur) == MDB_SUCCESS) {
            int rc = mdb_cursor_get(cur, &k, &v, MDB_GET_BOTH);
            mdb_cursor_close(cur);
            if (rc == MDB_SUCCESS)
                return 1;       /* computed from the device key when it was stored */
        }
    }
    return mm_pk_to_x25519(x, device) == MM_OK && memcmp(x, x25519, 32) == 0;
}

int mm_cert_by_curve(mm_txn_t *txn, const uint8_t x25519[32], mm_cert_fn fn, void *arg)
{
    if (!txn->store->has_curves) {      /* format 1, read-only: no index to use */
        curve_scan_t f = { x25519, fn, arg, 0 };
        int rc = mm_cert_foreach(txn, scan_one, &f);
        return rc ? rc : f.found ? MM_OK : MM_ENOTFOUND;
    }
    MDB_cursor *cur;
    MDB_val k = { 32, (void *) x25519 }, v;
    int rc = mdb_cursor_open(txn->txn, txn->store->curves, &cur);
    if (rc)
        return mm_store_rc(rc);
    int ret = MM_ENOTFOUND;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY); rc == MDB_SUCCESS;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_DUP)) {
        mm_cert_t c;
        /* set by mm_cert_get; initialised for gcc -O3, which inlines it but
         * cannot see that mm_store_rc never turns a failure into MM_OK */
        const uint8_t *raw = NULL;
        size_t len = 0;
        uint8_t x[32];
        /* the index must agree with the certificate it names */
        if (v.mv_size != 32 || mm_cert_get(txn, v.mv_data, &c, &raw, &len) != MM_OK
            || mm_pk_to_x25519(x, c.device) != MM_OK || memcmp(x, x25519, 32) != 0) {
            ret = MM_ECORRUPT;
            break;
        }
        if ((ret = fn(&c, raw, len, arg)) != 0)
            break;
    }
    if (ret == MM_ENOTFOUND || ret == MM_OK)
        ret = rc == MDB_SUCCESS || rc == MDB_NOTFOUND ? ret : mm_store_rc(rc);
    mdb_cursor_close(cur);
    return ret;
}

int mm_cert_del(mm_txn_t *txn, const uint8_t device[32])
{
    MDB_val k = { MM_PK_BYTES, (void *) device };
    int rc = mdb_del(txn->txn, txn->store->certs, &k, NULL);
    if (rc)
        return mm_store_rc(rc);
    uint8_t x[32];
    if (!txn->store->has_curves || mm_pk_to_x25519(x, device) != MM_OK)
        return MM_OK;               /* no row was written (cert_index) */
    MDB_val ik = { 32, x }, iv = { 32, (void *) device };
    rc = mdb_del(txn->txn, txn->store->curves, &ik, &iv);
    return rc == MDB_NOTFOUND ? MM_OK : mm_store_rc(rc);
}
