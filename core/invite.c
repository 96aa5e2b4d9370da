#include <string.h>
#include <sodium.h>
#include "core/invite.h"
#include "core/store_int.h"
#include "core/mp.h"
#include "crypto/hash.h"
#include "crypto/idcode.h"
#include "crypto/error.h"

#define INVITE_VERSION 1
#define PAYLOAD_MAX 1024
#define KEY_CTX "mm invite key v1"

void mm_invite_keys(const uint8_t secret[32], uint8_t pk[32], uint8_t sk[32])
{
    mm_hash2(sk, KEY_CTX, strlen(KEY_CTX), secret, 32);
    crypto_scalarmult_base(pk, sk);
}

int mm_invite_code_encode(const mm_invite_code_t *c, char *out, size_t cap)
{
    uint8_t buf[PAYLOAD_MAX + 4], h[32];
    mm_mp_writer_t w;
    if (c->nendpoints < 1 || c->nendpoints > MM_PEER_ENDPOINTS || cap < 5)
        return MM_EINVAL;
    mm_mp_writer_init(&w, buf, PAYLOAD_MAX);
    mm_mp_put_array(&w, 6);
    mm_mp_put_uint(&w, INVITE_VERSION);
    mm_mp_put_bin(&w, c->identity, 32);
    mm_mp_put_bin(&w, c->device, 32);
    mm_mp_put_bin(&w, c->secret, 32);
    mm_mp_put_uint(&w, c->expires);
    mm_mp_put_array(&w, c->nendpoints);
    for (unsigned i = 0; i < c->nendpoints; i++)
        mm_mp_put_cstr(&w, c->endpoints[i]);
    if (mm_mp_writer_status(&w))
        return MM_EINVAL;
    mm_hash2(h, MM_INVITE_PREFIX, 4, buf, w.len);
    memcpy(buf + w.len, h, 4);
    memcpy(out, MM_INVITE_PREFIX, 4);
    int rc = mm_base32_encode(out + 4, cap - 4, buf, w.len + 4) ? MM_EINVAL : MM_OK;
    sodium_memzero(buf, sizeof buf);
    return rc;
}

static int copy_endpoint(mm_mp_reader_t *r, char *out)
{
    const char *s;
    uint32_t n;
    int rc = mm_mp_str(r, &s, &n);
    if (rc)
        return rc;
    if (n > MM_ENDPOINT_MAX || memchr(s, 0, n))
        return MM_EMALFORMED;
    memcpy(out, s, n);
    out[n] = '\0';
    return mm_endpoint_valid(out) ? MM_OK : MM_EMALFORMED;
}

int mm_invite_code_decode(const char *text, mm_invite_code_t *c)
{
    uint8_t buf[PAYLOAD_MAX + 4], h[32];
    size_t len;
    uint32_t n, ne;
    uint64_t v;
    const uint8_t *b;
    mm_mp_reader_t r;
    int rc;
    if (strncmp(text, MM_INVITE_PREFIX, 4) != 0)
        return MM_EINVAL;
    if ((rc = mm_base32_decode(text + 4, buf, sizeof buf, &len)))
        return rc == MM_ETOOBIG ? MM_EINVAL : rc;
    if (len < 5)
        return MM_EINVAL;
    len -= 4;
    mm_hash2(h, MM_INVITE_PREFIX, 4, buf, len);
    if (memcmp(h, buf + len, 4) != 0)
        return MM_ECHECKSUM;
    memset(c, 0, sizeof *c);
    mm_mp_reader_init(&r, buf, len);
    if ((rc = mm_mp_array(&r, &n)) || (rc = mm_mp_uint(&r, &v)))
        goto out;
    if (n != 6 || v != INVITE_VERSION) {
        rc = v != INVITE_VERSION ? MM_EVERSION : MM_EMALFORMED;
        goto out;
    }
    if ((rc = mm_mp_bin_n(&r, &b, 32)))
        goto out;
    memcpy(c->identity, b, 32);
    if ((rc = mm_mp_bin_n(&r, &b, 32)))
        goto out;
    memcpy(c->device, b, 32);
    if ((rc = mm_mp_bin_n(&r, &b, 32)))
        goto out;
    memcpy(c->secret, b, 32);
    if ((rc = mm_mp_uint(&r, &c->expires)) || (rc = mm_mp_array(&r, &ne)))
        goto out;
    if (ne < 1 || ne > MM_PEER_ENDPOINTS) {
        rc = MM_EMALFORMED;
        goto out;
    }
    for (uint32_t i = 0; i < ne; i++)
        if ((rc = copy_endpoint(&r, c->endpoints[i])))
            goto out;
    c->nendpoints = ne;
    rc = mm_mp_left(&r) ? MM_ETRAILING : MM_OK;
out:
    sodium_memzero(buf, sizeof buf);
    if (rc)
        sodium_memzero(c, sizeof *c);
    return rc;
}

static int encode(const mm_invite_t *inv, uint8_t *out, size_t cap, size_t *len)
{
    mm_mp_writer_t w;
    mm_mp_writer_init(&w, out, cap);
    mm_mp_put_array(&w, 6);
    mm_mp_put_uint(&w, INVITE_VERSION);
    mm_mp_put_uint(&w, inv->created);
    mm_mp_put_uint(&w, inv->expires);
    mm_mp_put_uint(&w, inv->role);
    mm_mp_put_cstr(&w, inv->note);
    mm_mp_put_uint(&w, inv->used);
    *len = w.len;
    return mm_mp_writer_status(&w);
}

int mm_invite_put(mm_txn_t *txn, const mm_invite_t *inv)
{
    uint8_t buf[MM_INVITE_NOTE_MAX + 64];
    size_t len;
    if (strlen(inv->note) > MM_INVITE_NOTE_MAX)
        return MM_EINVAL;
    int rc = encode(inv, buf, sizeof buf, &len);
    if (rc)
        return rc;
    MDB_val k = { 32, (void *) inv->key }, v = { len, buf };
    return mm_store_rc(mdb_put(txn->txn, txn->store->invites, &k, &v, MDB_NOOVERWRITE));
}

int mm_invite_get(mm_txn_t *txn, const uint8_t key[32], mm_invite_t *inv)
{
    MDB_val k = { 32, (void *) key }, v;
    int rc = mdb_get(txn->txn, txn->store->invites, &k, &v);
    if (rc)
        return mm_store_rc(rc);
    mm_mp_reader_t r;
    uint32_t n, sn;
    uint64_t ver, role;
    const char *s;
    memset(inv, 0, sizeof *inv);
    memcpy(inv->key, key, 32);
    mm_mp_reader_init(&r, v.mv_data, v.mv_size);
    if (mm_mp_array(&r, &n) || n != 6 || mm_mp_uint(&r, &ver) || ver != INVITE_VERSION
        || mm_mp_uint(&r, &inv->created) || mm_mp_uint(&r, &inv->expires)
        || mm_mp_uint(&r, &role) || mm_mp_str(&r, &s, &sn) || sn > MM_INVITE_NOTE_MAX
        || mm_mp_uint(&r, &inv->used) || mm_mp_left(&r))
        return MM_ECORRUPT;
    inv->role = (unsigned) role;
    memcpy(inv->note, s, sn);
    inv->note[sn] = '\0';
    return MM_OK;
}

int mm_invite_use(mm_txn_t *txn, const uint8_t key[32], uint64_t now)
{
    mm_invite_t inv;
    int rc = mm_invite_get(txn, key, &inv);
    if (rc)
        return rc;
    if (inv.used)
        return MM_EEXIST;
    inv.used = now;
    uint8_t buf[MM_INVITE_NOTE_MAX + 64];
    size_t len;
    if ((rc = encode(&inv, buf, sizeof buf, &len)))
        return rc;
    MDB_val k = { 32, (void *) key }, v = { len, buf };
    return mm_store_rc(mdb_put(txn->txn, txn->store->invites, &k, &v, 0));
}
