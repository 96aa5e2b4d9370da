/*  beacon.c -- LAN discovery beacons: format, keys, and what a receiver
 *  believes (PROTOCOL.md 7.1). */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "core/beacon.h"
#include "core/cert.h"
#include "core/mp.h"
#include "core/peer.h"
#include "core/revoke.h"
#include "core/scope.h"
#include "crypto/random.h"

/* the associated data of every beacon: its kind and version */
static const uint8_t AD[16] = "mm beacon v1\0\0\0";

void mm_beacon_derive(uint8_t bk[32], const uint8_t scope_key[32])
{
    /* a subkey, so that a scope key never seals two kinds of thing */
    crypto_kdf_derive_from_key(bk, 32, 1, "mmbeacon", scope_key);
}

int mm_beacon_seal(const uint8_t bk[32], const uint8_t nonce[MM_NONCE_BYTES], uint64_t time,
                   const uint8_t *stmt, size_t len, uint8_t out[MM_BEACON_SIZE])
{
    uint8_t plain[MM_BEACON_PLAIN];
    mm_mp_writer_t w;
    if (len > MM_ENDPOINT_STMT_MAX)
        return MM_ETOOBIG;
    memset(plain, 0, sizeof plain);         /* the padding: zeros */
    mm_mp_writer_init(&w, plain, sizeof plain);
    mm_mp_put_array(&w, 3);
    mm_mp_put_uint(&w, MM_BEACON_VERSION);
    mm_mp_put_uint(&w, time);
    mm_mp_put_bin(&w, stmt, len);
    int rc = mm_mp_writer_status(&w);
    if (rc)
        return rc;
    memcpy(out, nonce, MM_NONCE_BYTES);
    rc = mm_aead_seal(out + MM_NONCE_BYTES, plain, sizeof plain, AD, sizeof AD, nonce, bk);
    sodium_memzero(plain, sizeof plain);
    return rc;
}

int mm_beacon_open(const uint8_t bk[32], const uint8_t *buf, size_t len,
                   uint8_t plain[MM_BEACON_PLAIN], uint64_t *time, const uint8_t **stmt,
                   size_t *stmtlen)
{
    mm_mp_reader_t r;
    uint32_t n, sl;
    uint64_t version;
    const uint8_t *s;
    int rc;
    if (len != MM_BEACON_SIZE)
        return MM_EINVAL;
    if ((rc = mm_aead_open(plain, buf + MM_NONCE_BYTES, len - MM_NONCE_BYTES, AD, sizeof AD,
                           buf, bk)))
        return rc;
    mm_mp_reader_init(&r, plain, MM_BEACON_PLAIN);
    if ((rc = mm_mp_array(&r, &n)))
        return rc;
    if (n != 3)
        return MM_EMALFORMED;
    if ((rc = mm_mp_uint(&r, &version)))
        return rc;
    if (version != MM_BEACON_VERSION)
        return MM_EVERSION;
    if ((rc = mm_mp_uint(&r, time)) || (rc = mm_mp_bin(&r, &s, &sl)))
        return rc;
    /* one encoding per payload: what follows the value is zeros only */
    for (size_t i = (size_t) (r.p - plain); i < MM_BEACON_PLAIN; i++)
        if (plain[i])
            return MM_EMALFORMED;
    *stmt = s;
    *stmtlen = sl;
    return MM_OK;
}

/* ---- keys ---- */

typedef struct {
    mm_txn_t *txn;
    const uint8_t *me;
    mm_beacon_keys_t *out;
} keys_walk_t;

static int add_peer(const mm_peer_t *p, void *arg)
{
    keys_walk_t *kw = arg;
    mm_scope_t s;
    if (kw->out->n >= MM_BEACON_KEYS_MAX)
        return 1;                   /* capped: the rest are not announced to */
    if (p->blocked)
        return 0;
    int rc = mm_scope_get(kw->txn, p->scope, &s);
    if (rc == MM_ENOTFOUND)
        return 0;
    if (rc)
        return rc;
    if (s.kind == MM_SCOPE_PAIR && mm_scope_has_member(&s, p->identity)
        && mm_scope_has_member(&s, kw->me)) {
        mm_beacon_key_t *k = &kw->out->keys[kw->out->n++];
        mm_beacon_derive(k->key, mm_scope_key(&s));
        memcpy(k->scope, s.id, 32);
        memcpy(k->identity, p->identity, 32);
    }
    mm_scope_wipe(&s);
    return 0;
}

int mm_beacon_keys(mm_txn_t *txn, const mm_home_t *home, mm_beacon_keys_t *out)
{
    mm_scope_t s;
    const uint8_t *me = mm_home_identity_pk(home);
    out->n = 0;
    int rc = mm_scope_get(txn, mm_home_self_scope(home), &s);
    if (rc)
        return rc;
    mm_beacon_derive(out->keys[0].key, mm_scope_key(&s));
    memcpy(out->keys[0].scope, s.id, 32);
    memcpy(out->keys[0].identity, me, 32);
    out->n = 1;
    mm_scope_wipe(&s);
    keys_walk_t kw = { txn, me, out };
    rc = mm_peer_foreach(txn, add_peer, &kw);
    if (rc < 0) {
        mm_beacon_keys_wipe(out);
        return rc;
    }
    return MM_OK;
}

void mm_beacon_keys_wipe(mm_beacon_keys_t *k)
{
    sodium_memzero(k, sizeof *k);
}

unsigned mm_beacon_round_size(unsigned n)
{
    unsigned p = 1;
    if (n == 0)
        return 0;
    while (p < n)
        p <<= 1;
    return p;
}

int mm_beacon_round(mm_txn_t *txn, const mm_home_t *home, const mm_beacon_keys_t *keys,
                    uint64_t now, uint8_t (*out)[MM_BEACON_SIZE], unsigned cap, unsigned *n)
{
    mm_endpoint_t e;
    const uint8_t *raw;
    size_t len;
    unsigned total = mm_beacon_round_size(keys->n);
    *n = 0;
    if (total > cap)
        return MM_ETOOBIG;
    int rc = mm_endpoint_get(txn, mm_keypair_pk(mm_home_device(home)), &e, &raw, &len);
    if (rc)
        return rc;
    for (unsigned i = 0; i < keys->n; i++) {
        uint8_t nonce[MM_NONCE_BYTES];
        mm_random_bytes(nonce, sizeof nonce);
        if ((rc = mm_beacon_seal(keys->keys[i].key, nonce, now, raw, len, out[i])))
            return rc;
    }
    /* the padding beacons: as random as sealed ones, to anyone without a key */
    for (unsigned i = keys->n; i < total; i++)
        mm_random_bytes(out[i], MM_BEACON_SIZE);
    *n = total;
    return MM_OK;
}

/* ---- the receiver ---- */

typedef struct {
    uint8_t  device[32];
    uint64_t time;                  /* of the last beacon accepted from it */
    uint64_t heard;                 /* when (our clock) */
} heard_t;

#define SENT_MAX (2 * MM_BEACON_KEYS_MAX)

struct mm_beacon_rx {
    mm_beacon_keys_t keys;
    uint64_t interval_ms;
    uint64_t tokens;                /* the budget, in thousandths of a beacon */
    uint64_t tokens_ms;             /* when it was last filled */
    unsigned nheard;
    heard_t  heard[MM_BEACON_HEARD_MAX];
    unsigned nsent;                 /* nonces of the last two rounds, a ring */
    uint8_t  sent[SENT_MAX][MM_NONCE_BYTES];
};

int mm_beacon_rx_new(mm_beacon_rx_t **out)
{
    mm_beacon_rx_t *rx = calloc(1, sizeof *rx);
    if (!rx)
        return MM_ENOMEM;
    rx->tokens = (uint64_t) MM_BEACON_BURST * 1000;
    rx->interval_ms = MM_BEACON_INTERVAL_MS;
    *out = rx;
    return MM_OK;
}

void mm_beacon_rx_destroy(mm_beacon_rx_t **rx)
{
    if (!*rx)
        return;
    sodium_memzero(*rx, sizeof **rx);
    free(*rx);
    *rx = NULL;
}

int mm_beacon_rx_load(mm_beacon_rx_t *rx, mm_home_t *home, uint64_t interval_ms)
{
    mm_txn_t *txn;
    rx->interval_ms = interval_ms;
    int rc = mm_store_begin(mm_home_store(home), 0, &txn);
    if (rc)
        return rc;
    rc = mm_beacon_keys(txn, home, &rx->keys);
    mm_txn_abort(&txn);
    return rc;
}

int mm_beacon_rx_round(mm_beacon_rx_t *rx, mm_home_t *home, uint64_t now,
                       uint8_t (*out)[MM_BEACON_SIZE], unsigned cap, unsigned *n)
{
    mm_txn_t *txn;
    int rc = mm_store_begin(mm_home_store(home), 0, &txn);
    if (rc)
        return rc;
    rc = mm_beacon_round(txn, home, &rx->keys, now, out, cap, n);
    mm_txn_abort(&txn);
    for (unsigned i = 0; rc == MM_OK && i < *n; i++)
        memcpy(rx->sent[rx->nsent++ % SENT_MAX], out[i], MM_NONCE_BYTES);
    return rc;
}

static int sent_by_us(const mm_beacon_rx_t *rx, const uint8_t *nonce)
{
    unsigned n = rx->nsent < SENT_MAX ? rx->nsent : SENT_MAX;
    /* cppcheck-suppress knownConditionTrueFalse ; mm_beacon_rx_round raises nsent */
    for (unsigned i = 0; i < n; i++)
        if (!memcmp(rx->sent[i], nonce, MM_NONCE_BYTES))
            return 1;
    return 0;
}

/* 1 if one more beacon may be tried now (a token bucket). */
static int budget_take(mm_beacon_rx_t *rx, uint64_t now)
{
    const uint64_t cap = (uint64_t) MM_BEACON_BURST * 1000;
    if (now > rx->tokens_ms) {
        uint64_t add = (now - rx->tokens_ms) * MM_BEACON_RATE;   /* per ms: RATE/1000 */
        rx->tokens = add >= cap - rx->tokens ? cap : rx->tokens + add;
    }
    rx->tokens_ms = now;
    if (rx->tokens < 1000)
        return 0;
    rx->tokens -= 1000;
    return 1;
}

static heard_t *heard_find(mm_beacon_rx_t *rx, const uint8_t device[32])
{
    for (unsigned i = 0; i < rx->nheard; i++)
        if (!memcmp(rx->heard[i].device, device, 32))
            return &rx->heard[i];
    return NULL;
}

/* A slot for device: a free one, or that of the device heard least recently. */
static heard_t *heard_slot(mm_beacon_rx_t *rx, const uint8_t device[32])
{
    heard_t *h;
    if (rx->nheard < MM_BEACON_HEARD_MAX) {
        h = &rx->heard[rx->nheard++];
    } else {
        h = &rx->heard[0];
        for (unsigned i = 1; i < rx->nheard; i++)
            if (rx->heard[i].heard < h->heard)
                h = &rx->heard[i];
    }
    memcpy(h->device, device, 32);
    h->time = 0;
    h->heard = 0;
    return h;
}

/* The statement's device must be one this home holds a current
 * certificate of, by the identity the key stands for; then it is stored
 * if newer.  Fills out. */
static int believe(mm_txn_t *txn, const mm_beacon_key_t *k, const uint8_t *stmt, size_t len,
                   mm_beacon_heard_t *out)
{
    mm_cert_t c;
    int revoked, rc = mm_cert_get(txn, out->device, &c, NULL, NULL);
    if (rc == MM_ENOTFOUND)
        return MM_ENOCERT;
    if (rc)
        return rc;
    memcpy(out->identity, c.identity, 32);
    if (memcmp(c.identity, k->identity, 32))
        return MM_ESCOPE;
    if ((rc = mm_revoke_state(txn, out->device, c.identity, NULL, &revoked, NULL)))
        return rc;
    if (revoked)
        return MM_EREVOKED;
    return mm_endpoint_put(txn, stmt, len, &out->stored);
}

int mm_beacon_rx_input(mm_beacon_rx_t *rx, mm_home_t *home, const uint8_t *buf, size_t len,
                       uint64_t now, mm_beacon_heard_t *out)
{
    uint8_t plain[MM_BEACON_PLAIN];
    const uint8_t *stmt = NULL;
    size_t stmtlen = 0;
    unsigned which;
    mm_txn_t *txn;
    int rc = MM_EDECRYPT;
    memset(out, 0, sizeof *out);
    if (len != MM_BEACON_SIZE)
        return MM_ENOTFOUND;
    if (sent_by_us(rx, buf))
        return MM_EEXIST;
    if (!budget_take(rx, now))
        return MM_EBUSY;
    /* one trial per key: no hint in the beacon says which (it would link) */
    for (which = 0; which < rx->keys.n; which++) {
        rc = mm_beacon_open(rx->keys.keys[which].key, buf, len, plain, &out->time, &stmt,
                            &stmtlen);
        if (rc != MM_EDECRYPT)
            break;
    }
    if (rc == MM_EDECRYPT) {
        rc = MM_ENOTFOUND;
        goto out;
    }
    if (rc)
        goto out;
    if ((rc = mm_endpoint_parse(stmt, stmtlen, &out->endpoints)))
        goto out;
    memcpy(out->device, out->endpoints.device, 32);
    if (!memcmp(out->device, mm_keypair_pk(mm_home_device(home)), 32)) {
        rc = MM_EEXIST;             /* our own statement, relayed back */
        goto out;
    }
    if (out->time + MM_BEACON_FRESH_MS < now || out->time > now + MM_BEACON_FRESH_MS) {
        rc = MM_ETIMEOUT;
        goto out;
    }
    heard_t *h = heard_find(rx, out->device);
    if (h && out->time <= h->time) {
        rc = MM_ESEQDUP;
        goto out;
    }
    if ((rc = mm_store_begin(mm_home_store(home), 1, &txn)))
        goto out;
    rc = believe(txn, &rx->keys.keys[which], stmt, stmtlen, out);
    if (rc == MM_OK && out->stored)
        rc = mm_txn_commit(&txn);
    mm_txn_abort(&txn);
    if (rc) {
        out->stored = 0;
        goto out;
    }
    out->appeared = !h || now - h->heard > MM_BEACON_ABSENT * rx->interval_ms;
    if (!h)
        h = heard_slot(rx, out->device);
    h->time = out->time;
    h->heard = now;
out:
    sodium_memzero(plain, sizeof plain);
    return rc;
}
