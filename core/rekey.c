/*  rekey.c -- new key epochs for a scope (PROTOCOL.md 4.1).
 *
 *  The new key is sealed to each recipient device with libsodium's sealed
 *  boxes (an ephemeral X25519 key, so the rekeying device needs no key
 *  agreement with anyone), to the X25519 form of the device's Ed25519 key. */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "core/rekey.h"
#include "core/body.h"
#include "core/cert.h"
#include "core/log.h"
#include "core/mp.h"
#include "core/propagate.h"
#include "core/revoke.h"
#include "crypto/random.h"

_Static_assert(MM_REKEY_SEALED_BYTES == crypto_box_SEALBYTES + 32, "a sealed 32-byte key");

/* Room for the body: "t", "rekey", "keys", and per device 1 + 34 + 82. */
#define REKEY_BODY_MAX (64 + MM_REKEY_MAX * (1 + 34 + 2 + MM_REKEY_SEALED_BYTES))

typedef struct {
    mm_txn_t *txn;
    const mm_scope_t *scope;
    const uint8_t *exclude;
    uint8_t (*out)[32];
    size_t cap, n;
} recip_t;

static int add_recipient(const mm_cert_t *c, const uint8_t *raw, size_t len, void *arg)
{
    recip_t *r = arg;
    (void) raw;
    (void) len;
    if (!mm_scope_has_member(r->scope, c->identity))
        return 0;
    if (r->exclude && memcmp(c->device, r->exclude, 32) == 0)
        return 0;
    if (c->flags & MM_CERT_MAILBOX)
        return 0;                   /* a mailbox holds no key (PROTOCOL.md 14) */
    /* a revoked device never receives a new key */
    int revoked = 0;
    int rc = mm_revoke_state(r->txn, c->device, c->identity, NULL, &revoked, NULL);
    if (rc)
        return rc;
    if (revoked)
        return 0;
    if (r->n >= r->cap)
        return MM_ETOOBIG;
    memcpy(r->out[r->n++], c->device, 32);
    return 0;
}

int mm_rekey_recipients(mm_txn_t *txn, const mm_scope_t *scope, const uint8_t exclude[32],
                        uint8_t (*out)[32], size_t cap, size_t *n)
{
    recip_t r = { txn, scope, exclude, out, cap, 0 };
    int rc = mm_cert_foreach(txn, add_recipient, &r);
    *n = r.n;
    return rc;
}

/* The body {t:"rekey", keys: [[device, sealed]...]} of key for recipients. */
static int build_body(const uint8_t key[32], const uint8_t (*recipients)[32], size_t n,
                      uint8_t *body, size_t cap, size_t *bodylen)
{
    uint8_t raw[REKEY_BODY_MAX], x[32], sealed[MM_REKEY_SEALED_BYTES];
    mm_mp_writer_t w;
    int rc = MM_OK;
    mm_mp_writer_init(&w, raw, sizeof raw);
    mm_mp_put_array(&w, (uint32_t) n);
    for (size_t i = 0; i < n && rc == MM_OK; i++) {
        if ((rc = mm_pk_to_x25519(x, recipients[i])))
            break;
        if (crypto_box_seal(sealed, key, 32, x) != 0) {
            rc = MM_EINVAL;
            break;
        }
        mm_mp_put_array(&w, 2);
        mm_mp_put_bin(&w, recipients[i], 32);
        mm_mp_put_bin(&w, sealed, sizeof sealed);
    }
    if (rc == MM_OK && (rc = mm_mp_writer_status(&w)) == MM_OK) {
        mm_field_t f = { "keys", MM_F_RAW, raw, w.len, 0 };
        rc = mm_body_build(body, cap, bodylen, MM_T_REKEY, &f, 1);
    }
    return rc;
}

int mm_rekey_scope(mm_txn_t *txn, const mm_keypair_t *device, const uint8_t scope_id[32],
                   const uint8_t (*recipients)[32], size_t n, uint64_t now, uint8_t id_out[32])
{
    uint8_t key[32], body[REKEY_BODY_MAX + 64];
    size_t bodylen;
    mm_scope_t s;
    if (n == 0 || n > MM_REKEY_MAX)
        return MM_EINVAL;
    int rc = mm_scope_get(txn, scope_id, &s);
    if (rc == MM_OK && s.nkeys >= MM_SCOPE_KEYS_MAX)
        rc = MM_ETOOBIG;
    unsigned kind = s.kind;
    mm_scope_wipe(&s);
    if (rc)
        return rc;
    mm_random_bytes(key, sizeof key);
    /* sealed under the current newest key: every member device reads the
     * rekey, only the recipients open the key inside; then the key joins
     * the scope, so the next write is of the new epoch */
    if ((rc = build_body(key, recipients, n, body, sizeof body, &bodylen)) == MM_OK
        && (rc = mm_log_append(txn, device, scope_id, now, body, bodylen, id_out)) == MM_OK
        && (rc = mm_scope_add_key(txn, scope_id, key)) == MM_OK && kind == MM_SCOPE_PAIR)
        rc = mm_propagate_scope(txn, device, scope_id, now);
    sodium_memzero(key, sizeof key);
    return rc;
}

typedef struct {
    const uint8_t *identity;
    const uint8_t *self;            /* the self scope of the rekeying device */
    uint8_t (*ids)[32];
    size_t n, cap;
    int has_self;
} which_t;

static int pick_scope(const mm_scope_t *s, void *arg)
{
    which_t *w = arg;
    if (!mm_scope_has_member(s, w->identity))
        return 0;
    if (memcmp(s->id, w->self, 32) == 0) {
        w->has_self = 1;
        return 0;
    }
    if (w->n == w->cap) {
        size_t cap = w->cap ? 2 * w->cap : 16;
        uint8_t (*v)[32] = realloc(w->ids, cap * sizeof *v);
        if (!v)
            return MM_ENOMEM;
        w->ids = v;
        w->cap = cap;
    }
    memcpy(w->ids[w->n++], s->id, 32);
    return 0;
}

static int rekey_one(mm_txn_t *txn, const mm_keypair_t *device, const uint8_t id[32],
                     const uint8_t exclude[32], uint64_t now)
{
    uint8_t r[MM_REKEY_MAX][32];
    size_t n;
    mm_scope_t s;
    int rc = mm_scope_get(txn, id, &s);
    if (rc == MM_OK)
        rc = mm_rekey_recipients(txn, &s, exclude, r, MM_REKEY_MAX, &n);
    mm_scope_wipe(&s);
    if (rc == MM_OK)
        rc = mm_rekey_scope(txn, device, id, (const uint8_t (*)[32]) r, n, now, NULL);
    return rc;
}

int mm_rekey_scopes(mm_txn_t *txn, const mm_keypair_t *device, const uint8_t exclude[32],
                    uint64_t now, size_t *nscopes)
{
    mm_cert_t gone, mine;
    uint8_t self[32];
    size_t done = 0;
    if (nscopes)
        *nscopes = 0;
    int rc = mm_cert_get(txn, exclude, &gone, NULL, NULL);
    if (rc == MM_OK)
        rc = mm_cert_get(txn, mm_keypair_pk(device), &mine, NULL, NULL);
    if (rc)
        return rc;
    mm_scope_self_id(self, mine.identity);
    which_t w = { gone.identity, self, NULL, 0, 0, 0 };
    /* ids first, then the writes: no cursor stays open on a table being written */
    rc = mm_scope_foreach(txn, pick_scope, &w);
    if (rc == MM_OK && w.has_self && (rc = rekey_one(txn, device, self, exclude, now)) == MM_OK)
        done++;
    for (size_t i = 0; i < w.n && rc == MM_OK; i++)
        if ((rc = rekey_one(txn, device, w.ids[i], exclude, now)) == MM_OK)
            done++;
    free(w.ids);
    if (rc == MM_OK && nscopes)
        *nscopes = done;
    return rc;
}

int mm_rekey_apply(mm_txn_t *txn, const mm_keypair_t *device, const mm_scope_t *scope,
                   const uint8_t author_identity[32], const uint8_t *pt, size_t len, int *added)
{
    mm_mp_reader_t r;
    uint32_t n, klen, count, pair;
    const char *k;
    const uint8_t *dev, *sealed, *found = NULL;
    int rc = MM_OK;
    if (added)
        *added = 0;
    if (!mm_scope_has_member(scope, author_identity) || !device)
        return MM_OK;
    /* find "keys" (mm_body_check has held the body to the schema) */
    mm_mp_reader_init(&r, pt, len);
    if (mm_mp_map(&r, &n))
        return MM_EBODY;
    for (uint32_t i = 0; i < n && !found; i++) {
        if (mm_mp_str(&r, &k, &klen))
            return MM_EBODY;
        if (klen != 4 || memcmp(k, "keys", 4) != 0) {
            if (mm_mp_skip(&r))
                return MM_EBODY;
            continue;
        }
        if (mm_mp_array(&r, &count) || count < 1 || count > MM_REKEY_MAX)
            return MM_EBODY;
        for (uint32_t j = 0; j < count; j++) {
            if (mm_mp_array(&r, &pair) || pair != 2 || mm_mp_bin_n(&r, &dev, 32)
                || mm_mp_bin_n(&r, &sealed, MM_REKEY_SEALED_BYTES))
                return MM_EBODY;
            if (!found && memcmp(dev, mm_keypair_pk(device), 32) == 0)
                found = sealed;
        }
        if (!found)
            return MM_OK;           /* not for this device */
    }
    if (!found)
        return MM_OK;
    uint8_t xpk[32], xsk[32], key[32];
    mm_keypair_x25519(device, xpk, xsk);
    if (crypto_box_seal_open(key, found, MM_REKEY_SEALED_BYTES, xpk, xsk) == 0) {
        int had = mm_scope_has_key(scope, key);
        rc = mm_scope_add_key(txn, scope->id, key);
        if (rc == MM_OK && added)
            *added = !had;
    }
    /* a box that does not open for us is ignored: only its writer knows
     * what it holds, and refusing it would stop the feed for everyone */
    sodium_memzero(xsk, sizeof xsk);
    sodium_memzero(key, sizeof key);
    return rc;
}

typedef struct {
    const mm_scope_t *scope;
    uint64_t last, from;            /* the range; the open segment's first seq */
    unsigned need;
    mm_rekey_seg_fn fn;
    void *arg;
} seg_t;

static int segment_entry(const uint8_t *buf, size_t len, uint64_t seq, void *arg)
{
    seg_t *g = arg;
    uint8_t pt[64];                 /* a body's type is in its first bytes */
    uint8_t *full = NULL;
    mm_entry_t e;
    unsigned which;
    if (seq > g->last)
        return 1;
    if (mm_entry_parse(buf, len, &e))
        return MM_ECORRUPT;
    size_t n = e.boxlen - MM_TAG_BYTES;
    uint8_t *out = n <= sizeof pt ? pt : (full = malloc(n));
    if (!out)
        return MM_ENOMEM;
    int rc = mm_scope_open(g->scope, out, e.box, e.boxlen, e.bytes, e.adlen, e.nonce, &which);
    int rekey = rc == MM_OK && mm_body_is(out, n, MM_T_REKEY);
    sodium_memzero(out, n);
    free(full);
    if (rc)
        return MM_ECORRUPT;         /* it was verified when stored */
    if (which > g->need)
        g->need = which;
    if (rekey || seq == g->last) {
        if ((rc = g->fn(g->from, seq, g->need, g->arg)))
            return rc;
        g->from = seq + 1;
    }
    return seq == g->last;
}

int mm_rekey_segments(mm_txn_t *txn, const mm_scope_t *scope, const uint8_t author[32],
                      uint64_t from, uint64_t last, mm_rekey_seg_fn fn, void *arg)
{
    seg_t g = { scope, last, from, 0, fn, arg };
    int rc = mm_log_walk(txn, author, scope->id, from, segment_entry, &g);
    return rc == 1 ? MM_OK : rc;
}
