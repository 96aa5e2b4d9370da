/*  test_rekey.c -- key epochs (core/rekey.h, PROTOCOL.md 4.3) between real
 *  homes: Ada on three devices (laptop, phone, and an old one, X, that
 *  loses its access) and Grace, her mentor.  Entries travel between the
 *  stores as a sync carries them (mm_log_put_run).  After a rekey that
 *  leaves X out, what is written cannot be opened with any key X holds,
 *  checked on the raw bytes with the AEAD itself; everyone else reads the
 *  new entries and still the old ones. */
#include <sodium.h>
#include "fixture.h"
#include "fxhome.h"
#include "core/body.h"
#include "core/cert.h"
#include "core/home.h"
#include "core/log.h"
#include "core/note.h"
#include "core/rekey.h"
#include "crypto/random.h"

#define T1 1767300000000ull

typedef struct {
    char dir[FX_PATH_MAX];
    mm_keypair_t *ida, *d1, *d2, *dx;
    mm_home_t *a1, *a2, *x, *grace;
    mm_scope_t r;                   /* Ada and Grace's relationship scope */
    uint8_t self[32];               /* Ada's self scope */
} world_t;

/* h's self scope takes from's key as its newest: two homes of one identity
 * made apart, as pairing would leave them (one self scope, one key). */
static void share_self(mm_home_t *h, mm_home_t *from)
{
    mm_txn_t *ta, *tb;
    mm_scope_t s;
    assert_rc(mm_store_begin(mm_home_store(from), 0, &ta), MM_OK);
    assert_rc(mm_scope_get(ta, mm_home_self_scope(from), &s), MM_OK);
    mm_txn_abort(&ta);
    assert_rc(mm_store_begin(mm_home_store(h), 1, &tb), MM_OK);
    assert_rc(mm_scope_add_key(tb, s.id, mm_scope_key(&s)), MM_OK);
    assert_rc(mm_txn_commit(&tb), MM_OK);
    mm_scope_wipe(&s);
}

static int setup(void **state)
{
    world_t *w = calloc(1, sizeof *w);
    assert_non_null(w);
    fx_mkdtemp(w->dir);
    w->ida = fx_keypair(0x11);
    w->d1 = fx_keypair(0x21);
    w->d2 = fx_keypair(0x22);
    w->dx = fx_keypair(0x23);
    w->a1 = fx_home(w->dir, "a1", "Ada", w->ida, w->d1);
    w->a2 = fx_home(w->dir, "a2", "Ada", w->ida, w->d2);
    w->x = fx_home(w->dir, "x", "Ada", w->ida, w->dx);
    w->grace = fx_home(w->dir, "grace", "Grace", NULL, NULL);
    mm_home_t *own[] = { w->a1, w->a2, w->x };
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            if (i != j)
                fx_give_cert(own[i], own[j]);
    share_self(w->a2, w->a1);
    share_self(w->x, w->a1);
    memcpy(w->self, mm_home_self_scope(w->a1), 32);
    fx_pair(w->grace, w->a1, "grace", "ada", &w->r);
    fx_befriend(w->a2, w->grace, "grace", MM_ROLE_MENTOR, &w->r);
    fx_befriend(w->x, w->grace, "grace", MM_ROLE_MENTOR, &w->r);
    fx_give_cert(w->grace, w->a2);
    fx_give_cert(w->grace, w->x);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world_t *w = *state;
    mm_home_close(&w->a1);
    mm_home_close(&w->a2);
    mm_home_close(&w->x);
    mm_home_close(&w->grace);
    mm_keypair_destroy(&w->ida);
    mm_keypair_destroy(&w->d1);
    mm_keypair_destroy(&w->d2);
    mm_keypair_destroy(&w->dx);
    mm_scope_wipe(&w->r);
    fx_rmrf(w->dir);
    free(w);
    return 0;
}

/* ---- helpers ---- */

static void note_in(mm_home_t *h, const uint8_t scope[32], const char *text, uint8_t id[32])
{
    uint8_t body[256];
    size_t n = fx_note_body(body, sizeof body, text);
    mm_txn_t *txn;
    assert_rc(mm_store_begin(mm_home_store(h), 1, &txn), MM_OK);
    assert_rc(mm_log_append(txn, mm_home_device(h), scope, 0, body, n, id), MM_OK);
    assert_rc(mm_txn_commit(&txn), MM_OK);
}

static void scope_of(mm_home_t *h, const uint8_t id[32], mm_scope_t *s)
{
    mm_txn_t *txn;
    assert_rc(mm_store_begin(mm_home_store(h), 0, &txn), MM_OK);
    assert_rc(mm_scope_get(txn, id, s), MM_OK);
    mm_txn_abort(&txn);
}

/* The raw bytes of h's entry seq in feed (author, scope), into out. */
static size_t raw_entry(mm_home_t *h, const uint8_t author[32], const uint8_t scope[32],
                        uint64_t seq, uint8_t *out, size_t cap)
{
    mm_txn_t *txn;
    const uint8_t *buf;
    size_t len;
    assert_rc(mm_store_begin(mm_home_store(h), 0, &txn), MM_OK);
    assert_rc(mm_log_get(txn, author, scope, seq, &buf, &len), MM_OK);
    assert_true(len <= cap);
    memcpy(out, buf, len);
    mm_txn_abort(&txn);
    return len;
}

static uint64_t head_of(mm_home_t *h, const uint8_t author[32], const uint8_t scope[32])
{
    mm_txn_t *txn;
    mm_head_t head;
    assert_rc(mm_store_begin(mm_home_store(h), 0, &txn), MM_OK);
    assert_rc(mm_log_head(txn, author, scope, &head), MM_OK);
    mm_txn_abort(&txn);
    return head.seq;
}

/* 1 if the entry opens under one of the keys of h's copy of scope (the
 * raw AEAD, not mm code: what anyone with those keys and the bytes could
 * do), else 0. */
static int opens_with_keys_of(mm_home_t *h, const uint8_t *raw, size_t len)
{
    mm_entry_t e;
    mm_scope_t s;
    uint8_t pt[MM_ENTRY_MAX];
    unsigned long long ptlen;
    int opened = 0;
    assert_rc(mm_entry_parse(raw, len, &e), MM_OK);
    scope_of(h, e.scope, &s);
    for (unsigned i = 0; i < s.nkeys; i++)
        if (crypto_aead_xchacha20poly1305_ietf_decrypt(pt, &ptlen, NULL, e.box, e.boxlen,
                                                       e.bytes, e.adlen, e.nonce,
                                                       s.keys[i]) == 0)
            opened = 1;
    mm_scope_wipe(&s);
    return opened;
}

/* ---- tests ---- */

static void test_recipients(void **state)
{
    world_t *w = *state;
    uint8_t r[MM_REKEY_MAX][32];
    size_t n;
    mm_txn_t *txn;
    assert_rc(mm_store_begin(mm_home_store(w->a1), 0, &txn), MM_OK);
    assert_rc(mm_rekey_recipients(txn, &w->r, mm_keypair_pk(w->dx), r, MM_REKEY_MAX, &n), MM_OK);
    assert_int_equal(n, 3);         /* laptop, phone, Grace's device */
    int seen = 0;
    for (size_t i = 0; i < n; i++) {
        assert_memory_not_equal(r[i], mm_keypair_pk(w->dx), 32);
        seen |= !memcmp(r[i], mm_keypair_pk(w->d1), 32) << 0;
        seen |= !memcmp(r[i], mm_keypair_pk(w->d2), 32) << 1;
        seen |= !memcmp(r[i], mm_keypair_pk(mm_home_device(w->grace)), 32) << 2;
    }
    assert_int_equal(seen, 7);
    assert_rc(mm_rekey_recipients(txn, &w->r, NULL, r, MM_REKEY_MAX, &n), MM_OK);
    assert_int_equal(n, 4);
    assert_rc(mm_rekey_recipients(txn, &w->r, NULL, r, 3, &n), MM_ETOOBIG);
    /* the self scope: Ada's devices only */
    mm_scope_t s;
    assert_rc(mm_scope_get(txn, w->self, &s), MM_OK);
    assert_rc(mm_rekey_recipients(txn, &s, mm_keypair_pk(w->dx), r, MM_REKEY_MAX, &n), MM_OK);
    assert_int_equal(n, 2);
    mm_scope_wipe(&s);
    mm_txn_abort(&txn);
}

static void test_rekey_leaves_x_out(void **state)
{
    world_t *w = *state;
    uint8_t old_id[32], new_id[32], raw[MM_ENTRY_MAX];
    const uint8_t *d1 = mm_keypair_pk(w->d1);
    mm_scope_t s;
    mm_txn_t *txn;
    size_t nscopes, len;

    /* before: a note everyone of the scope holds */
    note_in(w->a1, w->r.id, "before the revocation", old_id);
    assert_rc(fx_carry(w->a1, w->grace, w->r.id), MM_OK);
    assert_rc(fx_carry(w->a1, w->a2, w->r.id), MM_OK);
    assert_rc(fx_carry(w->a1, w->x, w->r.id), MM_OK);
    uint64_t old_seq = head_of(w->a1, d1, w->r.id);

    /* the laptop rekeys every scope X could read: self first, then R */
    assert_rc(mm_store_begin(mm_home_store(w->a1), 1, &txn), MM_OK);
    assert_rc(mm_rekey_scopes(txn, w->d1, mm_keypair_pk(w->dx), T1, &nscopes), MM_OK);
    assert_rc(mm_txn_commit(&txn), MM_OK);
    assert_int_equal(nscopes, 2);
    scope_of(w->a1, w->r.id, &s);
    assert_int_equal(s.nkeys, 2);
    uint8_t k2[32];
    memcpy(k2, mm_scope_key(&s), 32);
    assert_memory_equal(s.keys[0], mm_scope_key(&w->r), 32);  /* the old key is kept */
    mm_scope_wipe(&s);
    scope_of(w->a1, w->self, &s);
    assert_int_equal(s.nkeys, 2);
    mm_scope_wipe(&s);
    /* the self feed: the self rekey, then the `scope` entry of R */
    assert_true(head_of(w->a1, d1, w->self) == 2);

    /* after: a note under the new key */
    note_in(w->a1, w->r.id, "after the revocation", new_id);

    /* the phone and Grace receive everything and learn the new key */
    assert_rc(fx_carry(w->a1, w->a2, w->self), MM_OK);
    assert_rc(fx_carry(w->a1, w->a2, w->r.id), MM_OK);
    assert_rc(fx_carry(w->a1, w->grace, w->r.id), MM_OK);
    mm_home_t *others[] = { w->a2, w->grace };
    for (int i = 0; i < 2; i++) {
        scope_of(others[i], w->r.id, &s);
        assert_int_equal(s.nkeys, 2);
        assert_memory_equal(mm_scope_key(&s), k2, 32);
        mm_scope_wipe(&s);
    }
    uint8_t self2[32];
    scope_of(w->a1, w->self, &s);
    memcpy(self2, mm_scope_key(&s), 32);
    mm_scope_wipe(&s);
    scope_of(w->a2, w->self, &s);
    assert_int_equal(s.nkeys, 3);   /* its first, the laptop's (share_self), the new */
    assert_memory_equal(mm_scope_key(&s), self2, 32);
    mm_scope_wipe(&s);

    /* X stores what was sealed under the key it has (the rekeys), learns
     * no new key, and is refused the first entry of the new epoch */
    assert_rc(fx_carry(w->a1, w->x, w->r.id), MM_EDECRYPT);
    assert_true(head_of(w->x, d1, w->r.id) == old_seq + 1);   /* the rekey */
    assert_rc(fx_carry(w->a1, w->x, w->self), MM_EDECRYPT);
    assert_true(head_of(w->x, d1, w->self) == 1);             /* the self rekey */
    scope_of(w->x, w->r.id, &s);
    assert_int_equal(s.nkeys, 1);
    mm_scope_wipe(&s);
    scope_of(w->x, w->self, &s);
    assert_int_equal(s.nkeys, 2);   /* its first and the laptop's: not the new one */
    assert_false(mm_scope_has_key(&s, self2));
    mm_scope_wipe(&s);

    /* the raw bytes: the new note and the `scope` entry carrying R's new
     * keys open under no key X holds; the old note and the rekeys do */
    len = raw_entry(w->a1, d1, w->r.id, old_seq + 2, raw, sizeof raw);
    assert_false(opens_with_keys_of(w->x, raw, len));
    assert_true(opens_with_keys_of(w->grace, raw, len));
    assert_true(opens_with_keys_of(w->a2, raw, len));
    len = raw_entry(w->a1, d1, w->self, 2, raw, sizeof raw);
    assert_false(opens_with_keys_of(w->x, raw, len));
    len = raw_entry(w->a1, d1, w->r.id, old_seq + 1, raw, sizeof raw);
    assert_true(opens_with_keys_of(w->x, raw, len));

    /* X reads the rekey, but no sealed key in it opens with X's keys */
    {
        mm_entry_t e;
        uint8_t pt[MM_ENTRY_MAX], xpk[32], xsk[32], key[32];
        size_t n;
        assert_rc(mm_entry_parse(raw, len, &e), MM_OK);
        scope_of(w->x, w->r.id, &s);
        assert_rc(mm_entry_open_scope(&e, &s, pt, sizeof pt, &n), MM_OK);
        mm_scope_wipe(&s);
        assert_true(mm_body_is(pt, n, MM_T_REKEY));
        mm_keypair_x25519(w->dx, xpk, xsk);
        mm_mp_reader_t r;
        uint32_t m, klen, count, pair;
        const char *k;
        const uint8_t *dev, *sealed;
        mm_mp_reader_init(&r, pt, n);
        assert_rc(mm_mp_map(&r, &m), MM_OK);
        assert_int_equal(m, 2);
        assert_rc(mm_mp_str(&r, &k, &klen), MM_OK);
        assert_rc(mm_mp_skip(&r), MM_OK);
        assert_rc(mm_mp_str(&r, &k, &klen), MM_OK);
        assert_true(klen == 4 && !memcmp(k, "keys", 4));
        assert_rc(mm_mp_array(&r, &count), MM_OK);
        assert_int_equal(count, 3);
        for (uint32_t i = 0; i < count; i++) {
            assert_rc(mm_mp_array(&r, &pair), MM_OK);
            assert_rc(mm_mp_bin_n(&r, &dev, 32), MM_OK);
            assert_rc(mm_mp_bin_n(&r, &sealed, MM_REKEY_SEALED_BYTES), MM_OK);
            assert_memory_not_equal(dev, mm_keypair_pk(w->dx), 32);
            assert_int_not_equal(crypto_box_seal_open(key, sealed, MM_REKEY_SEALED_BYTES, xpk,
                                                      xsk), 0);
        }
        sodium_memzero(xsk, sizeof xsk);
    }

    /* Grace answers under the new key, and the phone reads it; both still
     * read the note from before */
    uint8_t g_id[32];
    note_in(w->grace, w->r.id, "Grace, after", g_id);
    const uint8_t *gdev = mm_keypair_pk(mm_home_device(w->grace));
    len = raw_entry(w->grace, gdev, w->r.id, head_of(w->grace, gdev, w->r.id), raw, sizeof raw);
    assert_false(opens_with_keys_of(w->x, raw, len));
    assert_rc(fx_carry(w->grace, w->a2, w->r.id), MM_OK);
    for (int i = 0; i < 2; i++) {
        mm_entry_t e;
        uint8_t pt[MM_ENTRY_MAX];
        size_t n;
        len = raw_entry(w->a1, d1, w->r.id, old_seq, raw, sizeof raw);
        assert_rc(mm_entry_parse(raw, len, &e), MM_OK);
        scope_of(others[i], w->r.id, &s);
        assert_rc(mm_entry_open_scope(&e, &s, pt, sizeof pt, &n), MM_OK);
        assert_true(mm_body_is(pt, n, MM_T_NOTE));
        mm_scope_wipe(&s);
    }
    /* and a whole re-check of each store passes */
    mm_home_t *all[] = { w->a1, w->a2, w->grace, w->x };
    for (int i = 0; i < 4; i++) {
        uint64_t ne;
        assert_rc(mm_store_begin(mm_home_store(all[i]), 0, &txn), MM_OK);
        assert_rc(mm_log_check(txn, NULL, NULL, &ne), MM_OK);
        mm_txn_abort(&txn);
    }
    sodium_memzero(k2, sizeof k2);
}

/* A rekey by an author who is not a member changes nothing; one that
 * lists this device with a box that does not open changes nothing. */
static void test_rekey_ignored(void **state)
{
    world_t *w = *state;
    uint8_t body[512], stranger[32], sealed[MM_REKEY_SEALED_BYTES];
    mm_txn_t *txn;
    mm_scope_t s;
    int added = 1;
    /* a well-formed rekey for Grace's device, made by hand */
    uint8_t key[32], x[32], raw[256];
    mm_random_bytes(key, 32);
    assert_rc(mm_pk_to_x25519(x, mm_keypair_pk(mm_home_device(w->grace))), MM_OK);
    assert_int_equal(crypto_box_seal(sealed, key, 32, x), 0);
    mm_mp_writer_t wr;
    mm_mp_writer_init(&wr, raw, sizeof raw);
    mm_mp_put_array(&wr, 1);
    mm_mp_put_array(&wr, 2);
    mm_mp_put_bin(&wr, mm_keypair_pk(mm_home_device(w->grace)), 32);
    mm_mp_put_bin(&wr, sealed, sizeof sealed);
    assert_rc(mm_mp_writer_status(&wr), MM_OK);
    mm_field_t f = { "keys", MM_F_RAW, raw, wr.len, 0 };
    size_t n;
    assert_rc(mm_body_build(body, sizeof body, &n, MM_T_REKEY, &f, 1), MM_OK);
    assert_rc(mm_body_check(body, n), MM_OK);

    mm_random_bytes(stranger, 32);
    assert_rc(mm_store_begin(mm_home_store(w->grace), 1, &txn), MM_OK);
    assert_rc(mm_scope_get(txn, w->r.id, &s), MM_OK);
    assert_rc(mm_rekey_apply(txn, mm_home_device(w->grace), &s, stranger, body, n, &added),
              MM_OK);
    assert_int_equal(added, 0);
    mm_scope_wipe(&s);
    assert_rc(mm_scope_get(txn, w->r.id, &s), MM_OK);
    assert_int_equal(s.nkeys, 1);
    /* the same from a member is applied */
    assert_rc(mm_rekey_apply(txn, mm_home_device(w->grace), &s, mm_keypair_pk(w->ida), body, n,
                             &added), MM_OK);
    assert_int_equal(added, 1);
    mm_scope_wipe(&s);
    assert_rc(mm_scope_get(txn, w->r.id, &s), MM_OK);
    assert_int_equal(s.nkeys, 2);
    assert_memory_equal(mm_scope_key(&s), key, 32);
    /* again: idempotent */
    assert_rc(mm_rekey_apply(txn, mm_home_device(w->grace), &s, mm_keypair_pk(w->ida), body, n,
                             &added), MM_OK);
    assert_int_equal(added, 0);
    mm_scope_wipe(&s);
    /* a box that does not open for Grace: ignored */
    assert_memory_equal(body + n - sizeof sealed, sealed, sizeof sealed);  /* the last field */
    body[n - 40] ^= 1;
    assert_rc(mm_scope_get(txn, w->r.id, &s), MM_OK);
    assert_rc(mm_rekey_apply(txn, mm_home_device(w->grace), &s, mm_keypair_pk(w->ida), body, n,
                             &added), MM_OK);
    assert_int_equal(added, 0);
    mm_scope_wipe(&s);
    mm_txn_abort(&txn);
    sodium_memzero(key, sizeof key);
}

/* A rekey body not of the schema is MM_EBODY, written or received. */
static void test_rekey_malformed(void **state)
{
    world_t *w = *state;
    uint8_t body[512], raw[256], zeros[MM_REKEY_SEALED_BYTES + 1] = { 0 };
    size_t n;
    mm_txn_t *txn;
    const struct { uint32_t pair; size_t sealed; uint32_t count; } bad[] = {
        { 2, MM_REKEY_SEALED_BYTES - 1, 1 },    /* a short box */
        { 2, MM_REKEY_SEALED_BYTES + 1, 1 },    /* a long one */
        { 1, 0, 1 },                            /* no box */
        { 2, MM_REKEY_SEALED_BYTES, 0 },        /* nobody */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mm_mp_writer_t wr;
        mm_mp_writer_init(&wr, raw, sizeof raw);
        mm_mp_put_array(&wr, bad[i].count);
        for (uint32_t k = 0; k < bad[i].count; k++) {
            mm_mp_put_array(&wr, bad[i].pair);
            mm_mp_put_bin(&wr, mm_keypair_pk(w->d2), 32);
            if (bad[i].pair == 2)
                mm_mp_put_bin(&wr, zeros, bad[i].sealed);
        }
        assert_rc(mm_mp_writer_status(&wr), MM_OK);
        mm_field_t f = { "keys", MM_F_RAW, raw, wr.len, 0 };
        assert_rc(mm_body_build(body, sizeof body, &n, MM_T_REKEY, &f, 1), MM_OK);
        assert_rc(mm_body_check(body, n), MM_EBODY);
        /* written here: refused before it is sealed */
        assert_rc(mm_store_begin(mm_home_store(w->a1), 1, &txn), MM_OK);
        assert_rc(mm_log_append(txn, w->d1, w->r.id, T1, body, n, NULL), MM_EBODY);
        mm_txn_abort(&txn);
        /* received: sealed by hand, refused by the verifier */
        mm_head_t head;
        uint8_t ent[1024];
        size_t elen;
        assert_rc(mm_store_begin(mm_home_store(w->grace), 1, &txn), MM_OK);
        assert_rc(mm_log_head(txn, mm_keypair_pk(w->d1), w->r.id, &head), MM_OK);
        assert_rc(mm_entry_seal(w->d1, &w->r, &head, T1, NULL, body, n, ent, sizeof ent, &elen),
                  MM_OK);
        assert_rc(mm_log_put(txn, ent, elen, NULL), MM_EBODY);
        mm_txn_abort(&txn);
    }
    /* and the API: nobody to give the key to, or not a key */
    uint8_t notakey[1][32];
    memset(notakey, 0xff, sizeof notakey);
    assert_rc(mm_store_begin(mm_home_store(w->a1), 1, &txn), MM_OK);
    assert_rc(mm_rekey_scope(txn, w->d1, w->r.id, notakey, 0, T1, NULL), MM_EINVAL);
    assert_rc(mm_rekey_scope(txn, w->d1, w->r.id, notakey, 1, T1, NULL), MM_EINVAL);
    uint8_t nosuch[32] = { 1 };
    const uint8_t (*me)[32] = (const uint8_t (*)[32]) mm_keypair_pk(w->d1);
    assert_rc(mm_rekey_scope(txn, w->d1, nosuch, me, 1, T1, NULL), MM_ENOTFOUND);
    mm_txn_abort(&txn);
}

/* A scope holds at most MM_SCOPE_KEYS_MAX keys; adding one it has is a
 * no-op; a version-1 record (one key) still reads. */
static void test_key_list_bounds(void **state)
{
    world_t *w = *state;
    mm_txn_t *txn;
    mm_scope_t s;
    uint8_t k[32];
    assert_rc(mm_store_begin(mm_home_store(w->grace), 1, &txn), MM_OK);
    assert_rc(mm_scope_add_key(txn, w->r.id, mm_scope_key(&w->r)), MM_OK);
    assert_rc(mm_scope_get(txn, w->r.id, &s), MM_OK);
    assert_int_equal(s.nkeys, 1);
    mm_scope_wipe(&s);
    for (int i = 1; i < MM_SCOPE_KEYS_MAX; i++) {
        memset(k, i, 32);
        assert_rc(mm_scope_add_key(txn, w->r.id, k), MM_OK);
    }
    memset(k, 0xee, 32);
    assert_rc(mm_scope_add_key(txn, w->r.id, k), MM_ETOOBIG);
    assert_rc(mm_scope_get(txn, w->r.id, &s), MM_OK);
    assert_int_equal(s.nkeys, MM_SCOPE_KEYS_MAX);
    /* the oldest key still opens what it sealed: the test note below is
     * sealed with the newest, opened after trying the rest */
    uint8_t enc[MM_SCOPE_RECORD_MAX];
    size_t len;
    assert_rc(mm_scope_encode(&s, enc, sizeof enc, &len), MM_OK);
    assert_true(len <= MM_SCOPE_RECORD_MAX);
    const uint8_t (*me)[32] = (const uint8_t (*)[32]) mm_keypair_pk(mm_home_device(w->grace));
    assert_rc(mm_rekey_scope(txn, mm_home_device(w->grace), w->r.id, me, 1, T1, NULL),
              MM_ETOOBIG);
    mm_scope_wipe(&s);
    assert_rc(mm_scope_add_key(txn, (const uint8_t[32]) { 9 }, k), MM_ENOTFOUND);
    mm_txn_abort(&txn);

    /* records by hand: version 2 with 0 or 65 keys, a short key; version 1 */
    fx_buf_t t;
    fx_buf_init(&t, 4096);
    const uint32_t counts[] = { 0, MM_SCOPE_KEYS_MAX + 1, 2 };
    const int rcs[] = { MM_EMALFORMED, MM_EMALFORMED, MM_OK };
    for (int c = 0; c < 3; c++) {
        t.len = 0;
        fx_array(&t, 5);
        fx_uint(&t, 2);
        fx_uint(&t, MM_SCOPE_PAIR);
        fx_array(&t, counts[c]);
        for (uint32_t i = 0; i < counts[c]; i++) {
            memset(k, (int) i + 1, 32);
            fx_bin(&t, k, 32);
        }
        fx_array(&t, 2);
        fx_bin(&t, w->r.members[0], 32);
        fx_bin(&t, w->r.members[1], 32);
        fx_uint(&t, 5);
        mm_scope_t d;
        /* 65 keys are also longer than any record: caught by its length first */
        int rc = t.len > MM_SCOPE_RECORD_MAX ? MM_ETOOBIG : rcs[c];
        assert_rc(mm_scope_decode(t.b, t.len, &d), rc);
        if (rcs[c] == MM_OK) {
            assert_int_equal(d.nkeys, 2);
            memset(k, 2, 32);
            assert_memory_equal(mm_scope_key(&d), k, 32);     /* the last is the newest */
            assert_rc(mm_scope_encode(&d, enc, sizeof enc, &len), MM_OK);
            assert_true(len == t.len && !memcmp(enc, t.b, len));
        }
        mm_scope_wipe(&d);
    }
    t.len = 0;                      /* a short key in a version-2 list */
    fx_array(&t, 5);
    fx_uint(&t, 2);
    fx_uint(&t, MM_SCOPE_SELF);
    fx_array(&t, 1);
    fx_bin(&t, k, 31);
    fx_array(&t, 1);
    fx_bin(&t, w->r.members[0], 32);
    fx_uint(&t, 5);
    mm_scope_t d;
    assert_rc(mm_scope_decode(t.b, t.len, &d), MM_EMALFORMED);
    t.len = 0;                      /* version 1 reads as one key, and is written as 2 */
    fx_array(&t, 5);
    fx_uint(&t, 1);
    fx_uint(&t, MM_SCOPE_SELF);
    fx_bin(&t, k, 32);
    fx_array(&t, 1);
    fx_bin(&t, w->r.members[0], 32);
    fx_uint(&t, 5);
    assert_rc(mm_scope_decode(t.b, t.len, &d), MM_OK);
    assert_int_equal(d.nkeys, 1);
    assert_memory_equal(mm_scope_key(&d), k, 32);
    assert_rc(mm_scope_encode(&d, enc, sizeof enc, &len), MM_OK);
    assert_int_equal(enc[1], 0x02);
    assert_int_equal(len, t.len + 1);                       /* the fixarray(1) of keys */
    mm_scope_wipe(&d);
    fx_buf_free(&t);
}

/* mm device reset: the rotation's callback rekeys every scope away from
 * the old key, written by the new one; and the store then opens rekeys
 * for the new key (it follows the home's device, never the freed old). */
static int rekey_away(mm_txn_t *txn, const mm_keypair_t *identity, const uint8_t old[32],
                      const mm_keypair_t *new_device, void *arg)
{
    (void) identity;
    size_t *n = arg;
    return mm_rekey_scopes(txn, new_device, old, T1, n);
}

static void test_rotation_rekeys(void **state)
{
    world_t *w = *state;
    uint8_t old[32];
    size_t n = 0;
    mm_scope_t s;
    assert_rc(mm_home_rotate_device(w->a2, T1, rekey_away, &n, old), MM_OK);
    assert_int_equal(n, 2);                         /* self, then R */
    assert_memory_equal(old, mm_keypair_pk(w->d2), 32);
    const uint8_t *nd = mm_keypair_pk(mm_home_device(w->a2));
    assert_memory_not_equal(nd, old, 32);
    scope_of(w->a2, w->r.id, &s);
    assert_int_equal(s.nkeys, 2);
    mm_scope_wipe(&s);
    assert_true(head_of(w->a2, nd, w->r.id) == 1);  /* the rekey, by the new key */
    /* the laptop learns the new device, and the new key of R from its rekey */
    fx_give_cert(w->a1, w->a2);
    assert_rc(fx_carry(w->a2, w->a1, w->r.id), MM_OK);
    scope_of(w->a1, w->r.id, &s);
    assert_int_equal(s.nkeys, 2);
    mm_scope_wipe(&s);
    /* a rekey by the laptop, for the new key: the phone opens it */
    uint8_t to[2][32];
    memcpy(to[0], mm_keypair_pk(w->d1), 32);
    memcpy(to[1], nd, 32);
    mm_txn_t *txn;
    assert_rc(mm_store_begin(mm_home_store(w->a1), 1, &txn), MM_OK);
    assert_rc(mm_rekey_scope(txn, w->d1, w->r.id, (const uint8_t (*)[32]) to, 2, T1 + 1, NULL),
              MM_OK);
    assert_rc(mm_txn_commit(&txn), MM_OK);
    assert_rc(fx_carry(w->a1, w->a2, w->r.id), MM_OK);
    scope_of(w->a2, w->r.id, &s);
    assert_int_equal(s.nkeys, 3);
    mm_scope_wipe(&s);
}

/* Grace rekeys without knowing the phone: the laptop, listed, relays the
 * key list to the phone through Ada's self scope, and the phone then reads
 * what Grace writes under the new key. */
static void test_peer_rekey_relayed(void **state)
{
    world_t *w = *state;
    const uint8_t *gdev = mm_keypair_pk(mm_home_device(w->grace));
    uint8_t to[2][32];
    memcpy(to[0], gdev, 32);
    memcpy(to[1], mm_keypair_pk(w->d1), 32);
    mm_txn_t *txn;
    assert_rc(mm_store_begin(mm_home_store(w->grace), 1, &txn), MM_OK);
    assert_rc(mm_rekey_scope(txn, mm_home_device(w->grace), w->r.id,
                             (const uint8_t (*)[32]) to, 2, T1, NULL), MM_OK);
    assert_rc(mm_txn_commit(&txn), MM_OK);
    uint8_t id[32];
    note_in(w->grace, w->r.id, "Grace, under her new key", id);
    /* the phone alone cannot follow */
    assert_rc(fx_carry(w->grace, w->a2, w->r.id), MM_EDECRYPT);
    /* the laptop can, and writes the key list into the self scope */
    uint64_t self_before = head_of(w->a1, mm_keypair_pk(w->d1), w->self);
    assert_rc(fx_carry(w->grace, w->a1, w->r.id), MM_OK);
    assert_true(head_of(w->a1, mm_keypair_pk(w->d1), w->self) == self_before + 1);
    /* once: carrying the same again relays nothing more */
    assert_rc(fx_carry(w->grace, w->a1, w->r.id), MM_OK);
    assert_true(head_of(w->a1, mm_keypair_pk(w->d1), w->self) == self_before + 1);
    assert_rc(fx_carry(w->a1, w->a2, w->self), MM_OK);
    assert_rc(fx_carry(w->grace, w->a2, w->r.id), MM_OK);
    mm_scope_t s;
    scope_of(w->a2, w->r.id, &s);
    assert_int_equal(s.nkeys, 2);
    mm_scope_wipe(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_recipients, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rekey_leaves_x_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rekey_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rekey_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_list_bounds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rotation_rekeys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_peer_rekey_relayed, setup, teardown),
    };
    return cmocka_run_group_tests(tests, fx_setup_crypto, NULL);
}
