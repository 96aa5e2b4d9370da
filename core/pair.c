/*  pair.c -- the rules of pairing a device (PROTOCOL.md 9.1). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "core/pair.h"
#include "core/store_int.h"
#include "core/mp.h"
#include "core/scope.h"
#include "core/utf8.h"
#include "crypto/random.h"
#include "crypto/hash.h"
#include "crypto/encoding.h"
#include "crypto/error.h"

#define PAIR_VERSION 1
#define KEY_CTX      "mm pair key v1"
#define FP_CTX       "mm fingerprint v1"

void mm_pair_keys(const uint8_t secret[32], uint8_t pk[32], uint8_t sk[32])
{
    mm_code_keys(KEY_CTX, secret, pk, sk);
}

void mm_pair_fingerprint(const uint8_t device[32], char out[MM_PAIR_FP_LEN + 1])
{
    uint8_t h[32];
    char b[64];
    mm_hash2(h, FP_CTX, strlen(FP_CTX), device, 32);
    if (mm_encoding_base32(b, sizeof b, h, 5) != MM_OK)   /* 5 bytes = 8 characters */
        memset(b, '?', 8);
    for (int i = 0; i < 8; i++)
        b[i] = (char) (b[i] >= 'a' && b[i] <= 'z' ? b[i] - 'a' + 'A' : b[i]);
    snprintf(out, MM_PAIR_FP_LEN + 1, "%.4s-%.4s", b, b + 4);
}

int mm_pair_code_encode(const mm_pair_code_t *c, char *out, size_t cap)
{
    return mm_code_encode(MM_PAIR_PREFIX, PAIR_VERSION, c, out, cap);
}

int mm_pair_code_decode(const char *text, mm_pair_code_t *c)
{
    return mm_code_decode(MM_PAIR_PREFIX, PAIR_VERSION, text, c);
}

static int refuse(char *why, size_t cap, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int refuse(char *why, size_t cap, int rc, const char *fmt, ...)
{
    va_list ap;
    if (why && cap) {
        va_start(ap, fmt);
        vsnprintf(why, cap, fmt, ap);
        va_end(ap);
    }
    return rc;
}

int mm_pair_code_usable(const mm_pair_code_t *c, uint64_t now, char *why, size_t cap)
{
    if (now > c->expires)
        return refuse(why, cap, MM_EINVAL, "this pairing code has expired; make a new one "
                      "with 'mm device pair' on the identity device");
    return MM_OK;
}

int mm_pair_code_open(const mm_pair_code_t *c, int used, uint64_t now, char *why, size_t cap)
{
    if (used)
        return refuse(why, cap, MM_EREFUSED, "this pairing code was already used");
    if (now > c->expires)
        return refuse(why, cap, MM_EREFUSED, "this pairing code has expired");
    return MM_OK;
}

/* ---- who may pair ---- */

typedef struct {
    const uint8_t *identity;
    char *name;
    size_t cap;
} idname_t;

static int find_identity_device(const mm_cert_t *c, const uint8_t *raw, size_t len, void *arg)
{
    idname_t *f = arg;
    if (memcmp(c->identity, f->identity, 32) != 0 || !(c->flags & MM_CERT_IDENTITY))
        return 0;
    snprintf(f->name, f->cap, "%s", c->name);
    return 1;
}

int mm_pair_may(mm_home_t *home, char *idname, size_t cap)
{
    mm_keypair_t *k = NULL;
    char dummy[1];
    mm_txn_t *txn = NULL;
    if (!idname || !cap) {
        idname = dummy;
        cap = sizeof dummy;
    }
    *idname = '\0';
    int rc = mm_home_identity_key(home, &k);
    mm_keypair_destroy(&k);
    if (rc != MM_ENOTFOUND)
        return rc;
    idname_t f = { mm_home_identity_pk(home), idname, cap };
    /* the name is a courtesy: without it the refusal stands */
    if (mm_store_begin(mm_home_store(home), 0, &txn) == MM_OK
        && mm_cert_foreach(txn, find_identity_device, &f) < 0)
        *idname = '\0';
    mm_txn_abort(&txn);
    return MM_ENOIDENTITY;
}

void mm_pair_code_new(mm_home_t *home, uint64_t expires, char eps[][MM_ENDPOINT_MAX + 1],
                      unsigned neps, mm_pair_code_t *out)
{
    memset(out, 0, sizeof *out);
    memcpy(out->identity, mm_home_identity_pk(home), 32);
    memcpy(out->device, mm_keypair_pk(mm_home_device(home)), 32);
    mm_random_bytes(out->secret, 32);
    out->expires = expires;
    if (neps > MM_PEER_ENDPOINTS)
        neps = MM_PEER_ENDPOINTS;
    for (unsigned i = 0; i < neps; i++)
        snprintf(out->endpoints[i], sizeof out->endpoints[i], "%s", eps[i]);
    out->nendpoints = neps;
}

/* ---- JOIN ---- */

static int name_ok(const char *s, size_t n)
{
    if (n > MM_DEVNAME_MAX || !mm_utf8_valid(s, n))
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char) s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    return 1;
}

int mm_pair_join_build(const mm_keypair_t *device, const mm_pair_code_t *code, const char *name,
                       uint64_t created, uint8_t *buf, size_t cap, size_t *len)
{
    uint8_t devsig[64];
    mm_mp_writer_t w;
    if (!name_ok(name, strlen(name)))
        return MM_EINVAL;
    int rc = mm_cert_request(device, code->identity, devsig);
    if (rc)
        return rc;
    mm_mp_writer_init(&w, buf, cap);
    mm_mp_put_array(&w, 5);
    mm_mp_put_cstr(&w, "join");
    mm_mp_put_bin(&w, mm_keypair_pk(device), 32);
    mm_mp_put_cstr(&w, name);
    mm_mp_put_uint(&w, created);
    mm_mp_put_bin(&w, devsig, 64);
    *len = w.len;
    return mm_mp_writer_status(&w);
}

int mm_pair_join_parse(const uint8_t *buf, size_t len, mm_pair_join_t *j)
{
    mm_mp_reader_t r;
    uint32_t n, tn, nn;
    const char *t, *name;
    int rc;
    memset(j, 0, sizeof *j);
    mm_mp_reader_init(&r, buf, len);
    if ((rc = mm_mp_array(&r, &n)) || (rc = mm_mp_str(&r, &t, &tn)))
        return rc;
    if (n != 5 || tn != 4 || memcmp(t, "join", 4) != 0)
        return MM_EPROTO;
    if ((rc = mm_mp_bin_n(&r, &j->device, 32)) || (rc = mm_mp_str(&r, &name, &nn)))
        return rc;
    if (nn > MM_DEVNAME_MAX)
        return MM_ETOOBIG;
    if (memchr(name, 0, nn) || !name_ok(name, nn))
        return MM_EINVAL;
    memcpy(j->name, name, nn);
    j->name[nn] = '\0';
    if ((rc = mm_mp_uint(&r, &j->created)) || (rc = mm_mp_bin_n(&r, &j->devsig, 64)))
        return rc;
    return mm_mp_left(&r) ? MM_ETRAILING : MM_OK;
}

/* ---- PAIRED: built by the identity device ---- */

typedef struct {
    mm_mp_writer_t *w;
    uint32_t n;
} walk_t;

/* Raw walk of one table: its rows as [key bin32, value bin] (count only
 * when w is NULL). */
static int put_rows(mm_txn_t *txn, MDB_dbi dbi, mm_mp_writer_t *w, uint32_t *count)
{
    MDB_cursor *cur;
    MDB_val k, v;
    uint32_t n = 0;
    int rc = mdb_cursor_open(txn->txn, dbi, &cur);
    if (rc)
        return mm_store_rc(rc);
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size != 32)
            continue;
        if (w) {
            mm_mp_put_array(w, 2);
            mm_mp_put_bin(w, k.mv_data, 32);
            mm_mp_put_bin(w, v.mv_data, v.mv_size);
        }
        n++;
    }
    mdb_cursor_close(cur);
    if (rc != MDB_NOTFOUND)
        return mm_store_rc(rc);
    *count = n;
    return MM_OK;
}

static int count_cert(const mm_cert_t *c, const uint8_t *raw, size_t len, void *arg)
{
    walk_t *wk = arg;
    if (wk->w)
        mm_mp_put_bin(wk->w, raw, len);
    wk->n++;
    return 0;
}

int mm_pair_grant(mm_home_t *home, const mm_keypair_t *identity, const mm_pair_join_t *j,
                  uint8_t **frame, size_t *len, char *why, size_t whycap)
{
    uint8_t cert[MM_CERT_MAX];
    size_t certlen;
    mm_txn_t *txn = NULL;
    mm_cert_t held;
    uint8_t *buf = NULL;
    uint32_t nscopes = 0, npeers = 0;
    walk_t wk = { NULL, 0 };
    mm_mp_writer_t w;
    int rc;
    *frame = NULL;
    *len = 0;
    if (!memcmp(j->device, mm_keypair_pk(mm_home_device(home)), 32))
        return refuse(why, whycap, MM_EINVAL, "the joining device is this device");
    rc = mm_cert_complete(identity, j->device, j->created, j->name, 0, j->devsig, cert,
                          sizeof cert, &certlen);
    if (rc == MM_EBADSIG)
        return refuse(why, whycap, rc, "the joining device's proof does not verify");
    if (rc)
        return refuse(why, whycap, rc, "cannot certify the device: %s", mm_strerror(rc));
    if ((rc = mm_store_begin(mm_home_store(home), 1, &txn)))
        return refuse(why, whycap, rc, "store unavailable");
    if (mm_cert_get(txn, j->device, &held, NULL, NULL) == MM_OK
        && memcmp(held.identity, mm_home_identity_pk(home), 32) != 0) {
        rc = refuse(why, whycap, MM_EEXIST, "that device key belongs to another identity");
        goto out;
    }
    if ((rc = mm_cert_put(txn, cert, certlen, NULL)) || (rc = mm_txn_commit(&txn))) {
        refuse(why, whycap, rc, "cannot store the certificate: %s", mm_strerror(rc));
        goto out;
    }
    /* a read transaction for a consistent PAIRED: counts, then the rows */
    if ((rc = mm_store_begin(mm_home_store(home), 0, &txn))
        || (rc = put_rows(txn, txn->store->scopes, NULL, &nscopes))
        || (rc = put_rows(txn, txn->store->peers, NULL, &npeers))
        || (rc = mm_cert_foreach(txn, count_cert, &wk))) {
        refuse(why, whycap, rc, "cannot read the store: %s", mm_strerror(rc));
        goto out;
    }
    if (!(buf = malloc(MM_PAIR_PAIRED_MAX))) {
        rc = refuse(why, whycap, MM_ENOMEM, "out of memory");
        goto out;
    }
    mm_mp_writer_init(&w, buf, MM_PAIR_PAIRED_MAX);
    mm_mp_put_array(&w, 6);
    mm_mp_put_cstr(&w, "paired");
    mm_mp_put_bin(&w, cert, certlen);
    mm_mp_put_cstr(&w, mm_home_name(home));
    mm_mp_put_array(&w, nscopes);
    if ((rc = put_rows(txn, txn->store->scopes, &w, &nscopes)))
        goto out;
    mm_mp_put_array(&w, npeers);
    if ((rc = put_rows(txn, txn->store->peers, &w, &npeers)))
        goto out;
    mm_mp_put_array(&w, wk.n);
    wk.w = &w;
    wk.n = 0;
    if ((rc = mm_cert_foreach(txn, count_cert, &wk)))
        goto out;
    if ((rc = mm_mp_writer_status(&w))) {
        rc = refuse(why, whycap, MM_ETOOBIG, "this identity holds too much to pair in one frame");
        goto out;
    }
    *frame = buf;
    *len = w.len;
    buf = NULL;
out:
    mm_txn_abort(&txn);
    if (buf) {
        sodium_memzero(buf, MM_PAIR_PAIRED_MAX);
        free(buf);
    }
    return rc;
}

void mm_pair_paired_free(uint8_t **frame, size_t len)
{
    if (!frame || !*frame)
        return;
    sodium_memzero(*frame, len);
    free(*frame);
    *frame = NULL;
}

/* ---- PAIRED: applied by the new device ---- */

typedef struct {
    const mm_pair_code_t *code;
    mm_mp_reader_t r;               /* in the frame, at the scopes */
    mm_pair_summary_t *sum;
} apply_t;

static int fill(mm_txn_t *txn, void *arg)
{
    apply_t *a = arg;
    mm_mp_reader_t *r = &a->r;
    uint32_t n, m;
    const uint8_t *k, *v;
    uint32_t vn;
    int rc;
    if ((rc = mm_mp_array(r, &n)))
        return rc;
    for (uint32_t i = 0; i < n; i++) {
        mm_scope_t sc;
        if ((rc = mm_mp_array(r, &m)) || m != 2 || (rc = mm_mp_bin_n(r, &k, 32))
            || (rc = mm_mp_bin(r, &v, &vn)))
            return rc ? rc : MM_EMALFORMED;
        memset(&sc, 0, sizeof sc);
        if (mm_scope_decode(v, vn, &sc) != MM_OK) {
            rc = MM_EPROTO;
        } else {
            memcpy(sc.id, k, 32);       /* the record holds no id: its key is the id */
            rc = mm_scope_put(txn, &sc);
        }
        mm_scope_wipe(&sc);
        if (rc)
            return rc;
    }
    a->sum->nscopes = n;
    if ((rc = mm_mp_array(r, &n)))
        return rc;
    for (uint32_t i = 0; i < n; i++) {
        mm_peer_t p;
        if ((rc = mm_mp_array(r, &m)) || m != 2 || (rc = mm_mp_bin_n(r, &k, 32))
            || (rc = mm_mp_bin(r, &v, &vn)))
            return rc ? rc : MM_EMALFORMED;
        if (vn > MM_PEER_RECORD_MAX || !memcmp(k, a->code->identity, 32))
            return MM_EPROTO;
        /* the record as the identity device keeps it, checked by reading
         * it back: a record that does not decode is refused */
        MDB_val mk = { 32, (void *) k }, mv = { vn, (void *) v };
        if ((rc = mm_store_rc(mdb_put(txn->txn, txn->store->peers, &mk, &mv, 0))))
            return rc;
        if (mm_peer_get(txn, k, &p) != MM_OK)
            return MM_EPROTO;
    }
    a->sum->npeers = n;
    if ((rc = mm_mp_array(r, &n)))
        return rc;
    for (uint32_t i = 0; i < n; i++) {
        if ((rc = mm_mp_bin(r, &v, &vn)))
            return rc;
        /* every certificate is verified; a version-1 one is admitted here
         * because it comes from this person's own identity device, which
         * admitted it where the transport proved its key */
        rc = mm_cert_put(txn, v, vn, NULL);
        if (rc && rc != MM_EEXIST)
            return rc;
    }
    a->sum->ncerts = n;
    return mm_mp_left(r) ? MM_ETRAILING : MM_OK;
}

int mm_pair_apply(const char *path, const mm_pair_code_t *code, const mm_keypair_t *device,
                  const uint8_t *buf, size_t len, uint64_t now, mm_pair_summary_t *out)
{
    apply_t a = { code, { 0 }, out };
    uint32_t n, tn, cn, nn;
    const char *t, *name;
    const uint8_t *cert;
    mm_cert_t c;
    int rc;
    (void) now;
    memset(out, 0, sizeof *out);
    mm_mp_reader_init(&a.r, buf, len);
    if ((rc = mm_mp_array(&a.r, &n)) || (rc = mm_mp_str(&a.r, &t, &tn)))
        return rc;
    if (n != 6 || tn != 6 || memcmp(t, "paired", 6) != 0)
        return MM_EPROTO;
    if ((rc = mm_mp_bin(&a.r, &cert, &cn)) || (rc = mm_mp_str(&a.r, &name, &nn)))
        return rc;
    if (nn == 0 || nn > MM_NAME_MAX || memchr(name, 0, nn) || !mm_utf8_valid(name, nn))
        return MM_EPROTO;
    memcpy(out->name, name, nn);
    out->name[nn] = '\0';
    if (mm_cert_parse(cert, cn, &c) != MM_OK || c.version < 2
        || memcmp(c.identity, code->identity, 32) || memcmp(c.device, mm_keypair_pk(device), 32))
        return MM_EBADCERT;
    snprintf(out->devname, sizeof out->devname, "%s", c.name);
    return mm_home_init_joined(path, device, code->identity, out->name, cert, cn, fill, &a);
}
