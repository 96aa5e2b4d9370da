/*  revoke.c -- revocation statements and the verdicts drawn from them. */
#include <stdlib.h>
#include <string.h>
#include "core/revoke.h"
#include "core/fork.h"
#include "core/store_int.h"
#include "core/cert.h"
#include "core/log.h"
#include "core/mp.h"
#include "crypto/hash.h"

int mm_revoke_make(const mm_keypair_t *identity, const uint8_t device[MM_PK_BYTES],
                   uint64_t created, const mm_revoke_last_t *lasts, size_t nlasts,
                   uint8_t *out, size_t cap, size_t *outlen)
{
    uint8_t digest[MM_HASH_BYTES], sig[MM_SIG_BYTES];
    mm_mp_writer_t w;
    if (nlasts > MM_REVOKE_LASTS_MAX || !memcmp(device, mm_keypair_pk(identity), MM_PK_BYTES))
        return MM_EINVAL;
    for (size_t i = 1; i < nlasts; i++)
        if (memcmp(lasts[i - 1].scope, lasts[i].scope, 32) >= 0)
            return MM_EINVAL;       /* one encoding per set of lasts */
    mm_mp_writer_init(&w, out, cap);
    mm_mp_put_array(&w, 6);
    mm_mp_put_uint(&w, MM_REVOKE_VERSION);
    mm_mp_put_bin(&w, mm_keypair_pk(identity), MM_PK_BYTES);
    mm_mp_put_bin(&w, device, MM_PK_BYTES);
    mm_mp_put_uint(&w, created);
    mm_mp_put_array(&w, (uint32_t) nlasts);
    for (size_t i = 0; i < nlasts; i++) {
        mm_mp_put_array(&w, 2);
        mm_mp_put_bin(&w, lasts[i].scope, 32);
        mm_mp_put_uint(&w, lasts[i].seq);
    }
    int rc = mm_mp_writer_status(&w);
    if (rc)
        return rc;
    mm_hash(digest, out, w.len);
    if ((rc = mm_sign_digest(identity, MM_CTX_REVOKE, digest, sig)))
        return rc;
    mm_mp_put_bin(&w, sig, sizeof sig);
    if ((rc = mm_mp_writer_status(&w)) == MM_OK)
        *outlen = w.len;
    return rc;
}

static int parse(const uint8_t *buf, size_t len, mm_revoke_t *out, int check_sig)
{
    mm_mp_reader_t r;
    uint32_t n, nl;
    uint64_t version;
    const uint8_t *idk, *dev, *sig, *prev = NULL;
    int rc;
    if (len > MM_REVOKE_MAX)
        return MM_ETOOBIG;
    mm_mp_reader_init(&r, buf, len);
    if ((rc = mm_mp_array(&r, &n)))
        return rc;
    if (n != 6)
        return MM_EMALFORMED;
    if ((rc = mm_mp_uint(&r, &version)))
        return rc;
    if (version != MM_REVOKE_VERSION)
        return MM_EVERSION;
    if ((rc = mm_mp_bin_n(&r, &idk, MM_PK_BYTES)) || (rc = mm_mp_bin_n(&r, &dev, MM_PK_BYTES))
        || (rc = mm_mp_uint(&r, &out->created)) || (rc = mm_mp_array(&r, &nl)))
        return rc;
    if (nl > MM_REVOKE_LASTS_MAX)
        return MM_ETOOBIG;
    out->lasts = r.p;
    for (uint32_t i = 0; i < nl; i++) {
        uint32_t two;
        const uint8_t *scope;
        uint64_t seq;
        if ((rc = mm_mp_array(&r, &two)))
            return rc;
        if (two != 2)
            return MM_EMALFORMED;
        if ((rc = mm_mp_bin_n(&r, &scope, 32)) || (rc = mm_mp_uint(&r, &seq)))
            return rc;
        if (prev && memcmp(prev, scope, 32) >= 0)
            return MM_EMALFORMED;
        prev = scope;
    }
    out->lastslen = (size_t) (r.p - out->lasts);
    size_t signedlen = (size_t) (r.p - buf);
    if ((rc = mm_mp_bin_n(&r, &sig, MM_SIG_BYTES)))
        return rc;
    if (mm_mp_left(&r))
        return MM_ETRAILING;
    if (check_sig) {
        uint8_t digest[MM_HASH_BYTES];
        mm_hash(digest, buf, signedlen);
        if ((rc = mm_verify_digest(idk, MM_CTX_REVOKE, digest, sig)))
            return rc;
    }
    memcpy(out->identity, idk, MM_PK_BYTES);
    memcpy(out->device, dev, MM_PK_BYTES);
    out->nlasts = nl;
    mm_hash(out->hash, buf, len);
    return MM_OK;
}

int mm_revoke_parse(const uint8_t *buf, size_t len, mm_revoke_t *out)
{
    return parse(buf, len, out, 1);
}

uint64_t mm_revoke_last_of(const mm_revoke_t *r, const uint8_t scope[32])
{
    mm_mp_reader_t rd;
    mm_mp_reader_init(&rd, r->lasts, r->lastslen);
    for (uint32_t i = 0; i < r->nlasts; i++) {
        uint32_t two;
        const uint8_t *s;
        uint64_t seq;
        /* parsed once already: these cannot fail */
        if (mm_mp_array(&rd, &two) || mm_mp_bin_n(&rd, &s, 32) || mm_mp_uint(&rd, &seq))
            return 0;
        int c = memcmp(s, scope, 32);
        if (c == 0)
            return seq;
        if (c > 0)
            break;                  /* sorted: it is not there */
    }
    return 0;
}

static int walk_device(mm_txn_t *txn, const uint8_t device[32], mm_revoke_fn fn, void *arg);

typedef struct {
    const uint8_t *identity;
    unsigned n;
} count_t;

/* Statements by the same identity count: another's mean nothing (3.2) and
 * must not use up the room of the device's own identity. */
static int count_one(const mm_revoke_t *r, const uint8_t *raw, size_t len, void *arg)
{
    count_t *c = arg;
    (void) raw;
    (void) len;
    return memcmp(r->identity, c->identity, 32) == 0 && ++c->n >= MM_REVOKE_PER_DEVICE;
}

static int stored(mm_txn_t *txn, const uint8_t key[64], mm_revoke_t *out)
{
    MDB_val k = { 64, (void *) key }, v;
    int rc = mdb_get(txn->txn, txn->store->revokes, &k, &v);
    if (rc)
        return mm_store_rc(rc);
    return parse(v.mv_data, v.mv_size, out, 0) ? MM_ECORRUPT : MM_OK;
}

int mm_revoke_check(mm_txn_t *txn, const uint8_t *buf, size_t len, mm_revoke_t *out,
                    int *held)
{
    uint8_t key[64];
    int rc = parse(buf, len, out, 0);
    *held = 0;
    if (rc)
        return rc;
    if (txn->store->has_v3) {
        memcpy(key, out->device, 32);
        memcpy(key + 32, out->hash, 32);
        MDB_val k = { 64, key }, v;
        rc = mdb_get(txn->txn, txn->store->revokes, &k, &v);
        if (rc == MDB_SUCCESS) {    /* the same bytes (same hash), verified when stored */
            *held = 1;
            return MM_OK;
        }
        if (rc != MDB_NOTFOUND)
            return mm_store_rc(rc);
    }
    return parse(buf, len, out, 1);
}

int mm_revoke_put(mm_txn_t *txn, const uint8_t *buf, size_t len, mm_revoke_t *out)
{
    mm_revoke_t r;
    uint8_t key[64];
    int held;
    if (!txn->store->has_v3) {    /* a bad statement is still said to be bad */
        int prc = mm_revoke_parse(buf, len, &r);
        return prc ? prc : MM_EVERSION;
    }
    int rc = mm_revoke_check(txn, buf, len, &r, &held);
    if (rc)
        return rc;
    memcpy(key, r.device, 32);
    memcpy(key + 32, r.hash, 32);
    MDB_val k = { 64, key }, v;
    if (held)
        return out ? stored(txn, key, out) : MM_OK;
    count_t c = { r.identity, 0 };
    if ((rc = walk_device(txn, r.device, count_one, &c)) < 0)
        return rc;
    if (c.n >= MM_REVOKE_PER_DEVICE)
        return MM_ETOOMANY;         /* a flood of statements about one device */
    v.mv_size = len;
    v.mv_data = (void *) buf;
    if ((rc = mdb_put(txn->txn, txn->store->revokes, &k, &v, MDB_NOOVERWRITE)))
        return mm_store_rc(rc);
    return out ? stored(txn, key, out) : MM_OK;
}

/* Walk the revocations of one device (rows device || *). */
static int walk_device(mm_txn_t *txn, const uint8_t device[32], mm_revoke_fn fn, void *arg)
{
    MDB_cursor *cur;
    uint8_t key[64];
    if (!txn->store->has_v3)
        return MM_OK;
    memcpy(key, device, 32);
    memset(key + 32, 0, 32);
    int rc = mdb_cursor_open(txn->txn, txn->store->revokes, &cur);
    if (rc)
        return mm_store_rc(rc);
    MDB_val k = { 64, key }, v;
    int ret = MM_OK;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == MDB_SUCCESS;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        mm_revoke_t r;
        if (k.mv_size != 64) {
            ret = MM_ECORRUPT;
            break;
        }
        if (memcmp(k.mv_data, device, 32) != 0)
            break;
        if (parse(v.mv_data, v.mv_size, &r, 0) || memcmp(r.device, device, 32)) {
            ret = MM_ECORRUPT;
            break;
        }
        if ((ret = fn(&r, v.mv_data, v.mv_size, arg)) != 0)
            break;
    }
    if (ret == MM_OK && rc != MDB_SUCCESS && rc != MDB_NOTFOUND)
        ret = mm_store_rc(rc);
    mdb_cursor_close(cur);
    return ret;
}

typedef struct {
    const uint8_t *identity, *scope;
    int revoked;
    uint64_t last;
} state_t;

static int one_state(const mm_revoke_t *r, const uint8_t *raw, size_t len, void *arg)
{
    state_t *st = arg;
    (void) raw;
    (void) len;
    /* only the identity the device's certificate names speaks for it */
    if (memcmp(r->identity, st->identity, 32) != 0)
        return 0;
    uint64_t last = st->scope ? mm_revoke_last_of(r, st->scope) : 0;
    if (!st->revoked || last < st->last)
        st->last = last;            /* MIN over the revocations: order-free */
    st->revoked = 1;
    return 0;
}

int mm_revoke_state(mm_txn_t *txn, const uint8_t device[32], const uint8_t identity[32],
                    const uint8_t *scope, int *revoked, uint64_t *last)
{
    state_t st = { identity, scope, 0, 0 };
    int rc = walk_device(txn, device, one_state, &st);
    *revoked = rc == MM_OK && st.revoked;
    if (last)
        *last = st.revoked ? st.last : UINT64_MAX;
    return rc;
}

typedef struct {
    mm_revoke_fn fn;
    void *arg;
} walk_t;

static int walk_one(const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen, void *arg)
{
    walk_t *w = arg;
    mm_revoke_t r;
    (void) key;
    (void) klen;
    if (parse(val, vlen, &r, 0))
        return MM_ECORRUPT;
    return w->fn(&r, val, vlen, w->arg);
}

int mm_revoke_foreach(mm_txn_t *txn, mm_revoke_fn fn, void *arg)
{
    walk_t w = { fn, arg };
    if (!txn->store->has_v3)
        return MM_OK;
    return mm_store_walk(txn, txn->store->revokes, walk_one, &w);
}

typedef struct {
    const uint8_t *device;
    mm_revoke_last_t *v;
    size_t n;
    int full;
} lasts_t;

static int collect_last(const uint8_t *author, const uint8_t *scope, const mm_head_t *head,
                        void *arg)
{
    lasts_t *l = arg;
    if (memcmp(author, l->device, 32) != 0)
        return 0;
    if (l->n == MM_REVOKE_LASTS_MAX) {
        l->full = 1;
        return 1;
    }
    /* heads come in (author, scope) order: the lasts are sorted as they come */
    memcpy(l->v[l->n].scope, scope, 32);
    l->v[l->n++].seq = head->seq;
    return 0;
}

int mm_revoke_device(mm_txn_t *txn, const mm_keypair_t *identity, const uint8_t device[32],
                     uint64_t now, mm_revoke_t *out)
{
    mm_cert_t c;
    size_t len;
    int rc = mm_cert_get(txn, device, &c, NULL, NULL);
    if (rc)
        return rc;
    if (memcmp(c.identity, mm_keypair_pk(identity), 32) != 0
        || !memcmp(device, mm_keypair_pk(identity), 32))
        return MM_EINVAL;
    lasts_t l = { device, malloc(MM_REVOKE_LASTS_MAX * sizeof *l.v), 0, 0 };
    uint8_t *buf = malloc(MM_REVOKE_MAX);
    rc = MM_ENOMEM;
    if (!l.v || !buf)
        goto out;
    /* what this device holds of the revoked one's feeds stays valid; what
     * it wrote beyond (and this device never saw) is refused everywhere */
    rc = mm_log_feeds(txn, collect_last, &l);
    if (rc < 0)
        goto out;
    if (l.full) {
        rc = MM_ETOOBIG;
        goto out;
    }
    /* a position two homes wrote differently (a copied home) is nobody's
     * to keep: the revocation accepts the feed up to the seq before it */
    for (size_t i = 0; i < l.n; i++) {
        mm_fork_t fk;
        int frc = mm_fork_get(txn, device, l.v[i].scope, &fk);
        if (frc == MM_OK && fk.seq <= l.v[i].seq)
            l.v[i].seq = fk.seq - 1;
        else if (frc != MM_OK && frc != MM_ENOTFOUND) {
            rc = frc;
            goto out;
        }
    }
    if ((rc = mm_revoke_make(identity, device, now, l.v, l.n, buf, MM_REVOKE_MAX, &len))
        || (rc = mm_revoke_put(txn, buf, len, out)))
        goto out;
    /* the keys of every scope the device could read are rotated by the
     * caller in this same transaction (mm_device_revoke, mm_device_reset,
     * a restore: mm_rekey_scopes), so that the revocation and the new
     * keys commit together */
out:
    free(buf);
    free(l.v);
    return rc;
}

int mm_revoke_drop(mm_txn_t *txn, const uint8_t device[32])
{
    if (!txn->store->has_v3)
        return MM_OK;
    return mm_store_del_prefix(txn, txn->store->revokes, device, 32, NULL);
}
