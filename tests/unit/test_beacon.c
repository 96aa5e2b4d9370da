/*  test_beacon.c -- LAN discovery beacons (core/beacon.h): the format and
 *  its test vector (PROTOCOL.md 10.3), the keys a home announces with,
 *  and what a receiver believes: its peers' fresh statements, never a
 *  stranger's, a replay, a statement it cannot check or one that would
 *  roll a newer one back.  `test_beacon --print` prints the
 *  beacon-vectors block for PROTOCOL.md. */
#include <sodium.h>
#include "fixture.h"
#include "fxhome.h"

#include "core/beacon.h"
#include "core/cert.h"
#include "core/endpoint.h"
#include "core/scope.h"

#define T0 1767225600000ull
#define NV 8

typedef struct { char name[32]; char *hex; } vec_t;
static vec_t made[NV];
static int nmade;

static void add(const char *name, const uint8_t *b, size_t n)
{
    vec_t *v = &made[nmade++];
    snprintf(v->name, sizeof v->name, "%s", name);
    v->hex = malloc(2 * n + 1);
    for (size_t i = 0; i < n; i++)
        sprintf(v->hex + 2 * i, "%02x", b[i]);
    v->hex[2 * n] = '\0';
}

static void counting(uint8_t *b, size_t n, uint8_t first)
{
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t) (first + i);
}

/* The vector: PROTOCOL.md 10.2's endpoints statement (the device of seed
 * 0x20.., seq T0 + 6000, tcp://127.0.0.1:7460) in a beacon at T0 + 7000
 * under the beacon key of the scope key 0x40..0x5f, nonce 0x60..0x77. */
static void make_all(void)
{
    uint8_t seed[32], skey[32], bk[32], nonce[MM_NONCE_BYTES], stmt[MM_ENDPOINT_STMT_MAX];
    uint8_t beacon[MM_BEACON_SIZE];
    size_t len;
    static const char eps[1][MM_ENDPOINT_MAX + 1] = { "tcp://127.0.0.1:7460" };
    counting(seed, 32, 0x20);
    mm_keypair_t *devk = mm_keypair_new_from_seed(seed);
    assert_non_null(devk);
    assert_rc(mm_endpoint_make(devk, T0 + 6000, eps, 1, stmt, sizeof stmt, &len), MM_OK);
    counting(skey, 32, 0x40);
    counting(nonce, sizeof nonce, 0x60);
    mm_beacon_derive(bk, skey);
    assert_rc(mm_beacon_seal(bk, nonce, T0 + 7000, stmt, len, beacon), MM_OK);
    nmade = 0;
    add("scope_key", skey, 32);
    add("beacon_key", bk, 32);
    add("beacon", beacon, sizeof beacon);
    mm_keypair_destroy(&devk);
}

static void test_doc_matches_code(void **state)
{
    (void) state;
    fx_vec_t doc[NV];
    make_all();
    int n = fx_read_vectors("beacon-vectors", doc, NV);
    assert_int_equal(n, nmade);
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < nmade; j++)
            if (!strcmp(doc[i].name, made[j].name) && strcmp(doc[i].hex, made[j].hex))
                fail_msg(  // NOLINT(clang-analyzer-unix.Malloc)
                         "PROTOCOL.md vector %s differs from the code:\n doc  %s\n code %s",
                         doc[i].name, doc[i].hex, made[j].hex);
        free(doc[i].hex);
    }
    for (int j = 0; j < nmade; j++)
        free(made[j].hex);
}

/* The derivation is libsodium's KDF as PROTOCOL.md spells it out: keyed
 * BLAKE2b with a salt and a personalisation, so that another
 * implementation can make it from the text. */
static void test_derive_is_keyed_blake2b(void **state)
{
    (void) state;
    uint8_t skey[32], bk[32], want[32], salt[16] = { 1 }, personal[16] = "mmbeacon";
    counting(skey, 32, 0x40);
    mm_beacon_derive(bk, skey);
    assert_int_equal(crypto_generichash_blake2b_salt_personal(want, 32, NULL, 0, skey, 32, salt,
                                                               personal), 0);
    assert_memory_equal(bk, want, 32);
}

static void test_open_refuses(void **state)
{
    (void) state;
    uint8_t bk[32], other[32], nonce[MM_NONCE_BYTES] = { 7 }, b[MM_BEACON_SIZE];
    uint8_t plain[MM_BEACON_PLAIN], big[MM_ENDPOINT_STMT_MAX + 1] = { 0 };
    const uint8_t *s;
    size_t sl;
    uint64_t t;
    memset(bk, 1, 32);
    memset(other, 2, 32);
    assert_rc(mm_beacon_seal(bk, nonce, 42, (const uint8_t *) "stmt", 4, b), MM_OK);
    assert_rc(mm_beacon_open(bk, b, sizeof b, plain, &t, &s, &sl), MM_OK);
    assert_int_equal(t, 42);
    assert_int_equal(sl, 4);
    assert_memory_equal(s, "stmt", 4);
    assert_rc(mm_beacon_open(other, b, sizeof b, plain, &t, &s, &sl), MM_EDECRYPT);
    assert_rc(mm_beacon_open(bk, b, sizeof b - 1, plain, &t, &s, &sl), MM_EINVAL);
    for (size_t i = 0; i < sizeof b; i += 97) {   /* the nonce, the box, the tag */
        b[i] ^= 1;
        assert_rc(mm_beacon_open(bk, b, sizeof b, plain, &t, &s, &sl), MM_EDECRYPT);
        b[i] ^= 1;
    }
    assert_rc(mm_beacon_seal(bk, nonce, 42, big, sizeof big, b), MM_ETOOBIG);
    /* sealed right, but padding that is not zeros, or another version */
    static const uint8_t AD[16] = "mm beacon v1\0\0\0";
    memset(plain, 0, sizeof plain);
    memcpy(plain, "\x93\x01\x2a\xc4\x00", 5);
    plain[100] = 1;
    memcpy(b, nonce, sizeof nonce);
    assert_rc(mm_aead_seal(b + MM_NONCE_BYTES, plain, sizeof plain, AD, 16, nonce, bk), MM_OK);
    assert_rc(mm_beacon_open(bk, b, sizeof b, plain, &t, &s, &sl), MM_EMALFORMED);
    memset(plain, 0, sizeof plain);
    memcpy(plain, "\x93\x02\x2a\xc4\x00", 5);
    assert_rc(mm_aead_seal(b + MM_NONCE_BYTES, plain, sizeof plain, AD, 16, nonce, bk), MM_OK);
    assert_rc(mm_beacon_open(bk, b, sizeof b, plain, &t, &s, &sl), MM_EVERSION);
}

static void test_round_size(void **state)
{
    (void) state;
    assert_int_equal(mm_beacon_round_size(0), 0);
    assert_int_equal(mm_beacon_round_size(1), 1);
    assert_int_equal(mm_beacon_round_size(2), 2);
    assert_int_equal(mm_beacon_round_size(3), 4);
    assert_int_equal(mm_beacon_round_size(129), 256);
    assert_int_equal(mm_beacon_round_size(MM_BEACON_KEYS_MAX), MM_BEACON_KEYS_MAX);
}

/* ---- homes ---- */

typedef struct {
    char dir[FX_PATH_MAX];
    mm_home_t *ada, *grace, *carol;
    mm_scope_t sc;
} world_t;

static void announce(mm_home_t *h, uint64_t now, const char *ep)
{
    char eps[1][MM_ENDPOINT_MAX + 1];
    mm_txn_t *txn;
    int changed;
    snprintf(eps[0], sizeof eps[0], "%s", ep);
    assert_rc(mm_store_begin(mm_home_store(h), 1, &txn), MM_OK);
    assert_rc(mm_endpoint_announce(txn, mm_home_device(h), now,
                                   (const char (*)[MM_ENDPOINT_MAX + 1]) eps, 1, &changed), MM_OK);
    assert_rc(mm_txn_commit(&txn), MM_OK);
    assert_int_equal(changed, 1);
}

static int setup(void **state)
{
    world_t *w = calloc(1, sizeof *w);
    fx_mkdtemp(w->dir);
    w->ada = fx_home(w->dir, "ada", "Ada", NULL, NULL);
    w->grace = fx_home(w->dir, "grace", "Grace", NULL, NULL);
    w->carol = fx_home(w->dir, "carol", "Carol", NULL, NULL);
    fx_pair(w->grace, w->ada, "grace", "ada", &w->sc);
    announce(w->ada, T0, "tcp://10.0.0.1:7460");
    announce(w->grace, T0, "tcp://10.0.0.2:7460");
    announce(w->carol, T0, "tcp://10.0.0.3:7460");
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world_t *w = *state;
    mm_home_close(&w->ada);
    mm_home_close(&w->grace);
    mm_home_close(&w->carol);
    int rc = fx_rmrf(w->dir);
    free(w);
    return rc;
}

/* h's round at now, with h's receiver rx (its keys loaded). */
static unsigned round_of(mm_beacon_rx_t *rx, mm_home_t *h, uint64_t now,
                         uint8_t (*out)[MM_BEACON_SIZE])
{
    unsigned n;
    assert_rc(mm_beacon_rx_load(rx, h, MM_BEACON_INTERVAL_MS), MM_OK);
    assert_rc(mm_beacon_rx_round(rx, h, now, out, 4, &n), MM_OK);
    return n;
}

static uint64_t stored_seq(mm_home_t *h, mm_home_t *of)
{
    mm_txn_t *txn;
    mm_endpoint_t e;
    assert_rc(mm_store_begin(mm_home_store(h), 0, &txn), MM_OK);
    int rc = mm_endpoint_get(txn, mm_keypair_pk(mm_home_device(of)), &e, NULL, NULL);
    mm_txn_abort(&txn);
    return rc == MM_OK ? e.seq : 0;
}

static void test_keys(void **state)
{
    world_t *w = *state;
    mm_beacon_keys_t k;
    mm_txn_t *txn;
    mm_scope_t self;
    uint8_t bk[32];
    assert_rc(mm_store_begin(mm_home_store(w->ada), 0, &txn), MM_OK);
    assert_rc(mm_beacon_keys(txn, w->ada, &k), MM_OK);
    assert_rc(mm_scope_get(txn, mm_home_self_scope(w->ada), &self), MM_OK);
    mm_txn_abort(&txn);
    assert_int_equal(k.n, 2);
    mm_beacon_derive(bk, mm_scope_key(&self));
    assert_memory_equal(k.keys[0].key, bk, 32);
    assert_memory_equal(k.keys[0].identity, mm_home_identity_pk(w->ada), 32);
    mm_beacon_derive(bk, mm_scope_key(&w->sc));
    assert_memory_equal(k.keys[1].key, bk, 32);
    assert_memory_equal(k.keys[1].scope, w->sc.id, 32);
    assert_memory_equal(k.keys[1].identity, mm_home_identity_pk(w->grace), 32);
    mm_scope_wipe(&self);
    /* a blocked peer is neither announced to nor heard */
    mm_peer_t p;
    assert_rc(mm_store_begin(mm_home_store(w->ada), 1, &txn), MM_OK);
    assert_rc(mm_peer_get(txn, mm_home_identity_pk(w->grace), &p), MM_OK);
    p.blocked = 1;
    assert_rc(mm_peer_put(txn, &p), MM_OK);
    assert_rc(mm_beacon_keys(txn, w->ada, &k), MM_OK);
    mm_txn_abort(&txn);
    assert_int_equal(k.n, 1);
    mm_beacon_keys_wipe(&k);
}

static void test_peer_heard(void **state)
{
    world_t *w = *state;
    mm_beacon_rx_t *arx, *grx, *crx;
    mm_beacon_heard_t h;
    uint8_t round[4][MM_BEACON_SIZE], old[MM_BEACON_SIZE];
    uint64_t now = T0 + 1000;
    assert_rc(mm_beacon_rx_new(&arx), MM_OK);
    assert_rc(mm_beacon_rx_new(&grx), MM_OK);
    assert_rc(mm_beacon_rx_new(&crx), MM_OK);
    assert_rc(mm_beacon_rx_load(grx, w->grace, MM_BEACON_INTERVAL_MS), MM_OK);
    assert_rc(mm_beacon_rx_load(crx, w->carol, MM_BEACON_INTERVAL_MS), MM_OK);
    /* Ada's round: her self beacon and Grace's, same size, different bytes */
    assert_int_equal(round_of(arx, w->ada, now, round), 2);
    assert_memory_not_equal(round[0], round[1], MM_BEACON_SIZE);
    /* Ada hears herself: no trial, nothing */
    assert_rc(mm_beacon_rx_input(arx, w->ada, round[1], MM_BEACON_SIZE, now, &h), MM_EEXIST);
    /* Grace recognises hers and not Ada's self beacon; Carol neither */
    assert_rc(mm_beacon_rx_input(grx, w->grace, round[0], MM_BEACON_SIZE, now, &h),
              MM_ENOTFOUND);
    assert_rc(mm_beacon_rx_input(crx, w->carol, round[0], MM_BEACON_SIZE, now, &h),
              MM_ENOTFOUND);
    assert_rc(mm_beacon_rx_input(crx, w->carol, round[1], MM_BEACON_SIZE, now, &h),
              MM_ENOTFOUND);
    /* Grace already holds Ada's statement from the pairing?  No: only her
     * certificate.  So this one is stored. */
    assert_int_equal(stored_seq(w->grace, w->ada), 0);
    assert_rc(mm_beacon_rx_input(grx, w->grace, round[1], MM_BEACON_SIZE, now, &h), MM_OK);
    assert_true(h.stored);
    assert_true(h.appeared);
    assert_memory_equal(h.identity, mm_home_identity_pk(w->ada), 32);
    assert_memory_equal(h.device, mm_keypair_pk(mm_home_device(w->ada)), 32);
    assert_string_equal(h.endpoints.endpoints[0], "tcp://10.0.0.1:7460");
    assert_int_equal(stored_seq(w->grace, w->ada), T0);
    memcpy(old, round[1], sizeof old);
    /* the same beacon again: a replay */
    assert_rc(mm_beacon_rx_input(grx, w->grace, old, MM_BEACON_SIZE, now + 5, &h), MM_ESEQDUP);
    /* Ada moves: her next round carries the newer statement */
    announce(w->ada, T0 + 20000, "tcp://10.0.0.9:7460");
    now = T0 + 30000;
    assert_int_equal(round_of(arx, w->ada, now, round), 2);
    assert_rc(mm_beacon_rx_input(grx, w->grace, round[1], MM_BEACON_SIZE, now, &h), MM_OK);
    assert_true(h.stored);
    assert_false(h.appeared);
    assert_string_equal(h.endpoints.endpoints[0], "tcp://10.0.0.9:7460");
    assert_int_equal(stored_seq(w->grace, w->ada), T0 + 20000);
    /* the same statement in the next round: heard, nothing to store */
    now = T0 + 60000;
    assert_int_equal(round_of(arx, w->ada, now, round), 2);
    assert_rc(mm_beacon_rx_input(grx, w->grace, round[1], MM_BEACON_SIZE, now, &h), MM_OK);
    assert_false(h.stored);
    assert_false(h.appeared);
    /* a restarted receiver (no memory) given the old beacon: the older
     * statement never replaces the newer one */
    mm_beacon_rx_destroy(&grx);
    assert_null(grx);
    assert_rc(mm_beacon_rx_new(&grx), MM_OK);
    assert_rc(mm_beacon_rx_load(grx, w->grace, MM_BEACON_INTERVAL_MS), MM_OK);
    assert_rc(mm_beacon_rx_input(grx, w->grace, old, MM_BEACON_SIZE, now, &h), MM_OK);
    assert_false(h.stored);
    assert_true(h.appeared);
    assert_int_equal(stored_seq(w->grace, w->ada), T0 + 20000);
    /* heard again after MM_BEACON_ABSENT rounds of silence: it reappeared */
    now += (uint64_t) (MM_BEACON_ABSENT + 1) * MM_BEACON_INTERVAL_MS;
    assert_int_equal(round_of(arx, w->ada, now, round), 2);
    assert_rc(mm_beacon_rx_input(grx, w->grace, round[1], MM_BEACON_SIZE, now, &h), MM_OK);
    assert_true(h.appeared);
    /* too old, too new for the receiver's clock */
    assert_int_equal(round_of(arx, w->ada, now, round), 2);
    assert_rc(mm_beacon_rx_input(grx, w->grace, round[1], MM_BEACON_SIZE,
                                 now + MM_BEACON_FRESH_MS + 1, &h), MM_ETIMEOUT);
    assert_int_equal(round_of(arx, w->ada, now + 2 * (uint64_t) MM_BEACON_FRESH_MS, round), 2);
    assert_rc(mm_beacon_rx_input(grx, w->grace, round[1], MM_BEACON_SIZE, now + 1, &h),
              MM_ETIMEOUT);
    mm_beacon_rx_destroy(&arx);
    mm_beacon_rx_destroy(&grx);
    mm_beacon_rx_destroy(&crx);
}

/* Beacons sealed under the relationship key by someone holding it, with
 * statements Grace cannot or must not believe. */
static void test_forgeries(void **state)
{
    world_t *w = *state;
    mm_beacon_rx_t *grx;
    mm_beacon_heard_t h;
    uint8_t bk[32], nonce[MM_NONCE_BYTES], b[MM_BEACON_SIZE], stmt[MM_ENDPOINT_STMT_MAX];
    size_t len;
    static const char eps[1][MM_ENDPOINT_MAX + 1] = { "tcp://10.6.6.6:7460" };
    uint64_t now = T0 + 1000;
    mm_beacon_derive(bk, mm_scope_key(&w->sc));
    assert_rc(mm_beacon_rx_new(&grx), MM_OK);
    assert_rc(mm_beacon_rx_load(grx, w->grace, MM_BEACON_INTERVAL_MS), MM_OK);
    /* a device Grace holds no certificate of */
    mm_keypair_t *loose = fx_keypair(0x77);
    assert_rc(mm_endpoint_make(loose, now, eps, 1, stmt, sizeof stmt, &len), MM_OK);
    mm_random_bytes(nonce, sizeof nonce);
    assert_rc(mm_beacon_seal(bk, nonce, now, stmt, len, b), MM_OK);
    assert_rc(mm_beacon_rx_input(grx, w->grace, b, sizeof b, now, &h), MM_ENOCERT);
    mm_keypair_destroy(&loose);
    /* Carol's device, certified and known to Grace, but not a device of
     * the person the key stands for */
    fx_give_cert(w->grace, w->carol);
    assert_rc(mm_endpoint_make(mm_home_device(w->carol), now, eps, 1, stmt, sizeof stmt, &len),
              MM_OK);
    mm_random_bytes(nonce, sizeof nonce);
    assert_rc(mm_beacon_seal(bk, nonce, now, stmt, len, b), MM_OK);
    assert_rc(mm_beacon_rx_input(grx, w->grace, b, sizeof b, now, &h), MM_ESCOPE);
    assert_int_equal(stored_seq(w->grace, w->carol), 0);
    /* Ada's statement with a broken signature */
    assert_rc(mm_endpoint_make(mm_home_device(w->ada), now, eps, 1, stmt, sizeof stmt, &len),
              MM_OK);
    stmt[len - 1] ^= 1;
    mm_random_bytes(nonce, sizeof nonce);
    assert_rc(mm_beacon_seal(bk, nonce, now, stmt, len, b), MM_OK);
    assert_rc(mm_beacon_rx_input(grx, w->grace, b, sizeof b, now, &h), MM_EBADSIG);
    /* Grace's own statement coming back: nothing */
    assert_rc(mm_endpoint_make(mm_home_device(w->grace), now, eps, 1, stmt, sizeof stmt, &len),
              MM_OK);
    mm_random_bytes(nonce, sizeof nonce);
    assert_rc(mm_beacon_seal(bk, nonce, now, stmt, len, b), MM_OK);
    assert_rc(mm_beacon_rx_input(grx, w->grace, b, sizeof b, now, &h), MM_EEXIST);
    assert_int_equal(stored_seq(w->grace, w->ada), 0);
    mm_beacon_rx_destroy(&grx);
}

/* Ada's two devices share the self scope: each recognises the other's
 * self beacon; a statement of someone else's device under the self key is
 * not believed; after a rekey that one device lacks (a revoked device
 * never gets it) neither recognises the other's beacons. */
static void test_own_devices(void **state)
{
    world_t *w = *state;
    mm_keypair_t *ida = fx_keypair(0x31), *d1 = fx_keypair(0x41), *d2 = fx_keypair(0x42);
    mm_beacon_rx_t *rx1, *rx2;
    mm_beacon_heard_t h;
    mm_txn_t *ta, *tb;
    mm_scope_t self;
    uint8_t round[4][MM_BEACON_SIZE], bk[32], nonce[MM_NONCE_BYTES], b[MM_BEACON_SIZE];
    uint8_t stmt[MM_ENDPOINT_STMT_MAX], newkey[32];
    size_t len;
    static const char eps[1][MM_ENDPOINT_MAX + 1] = { "tcp://10.0.0.8:7460" };
    uint64_t now = T0 + 1000;
    mm_home_t *a1 = fx_home(w->dir, "a1", "Ada", ida, d1);
    mm_home_t *a2 = fx_home(w->dir, "a2", "Ada", ida, d2);
    fx_give_cert(a1, a2);
    fx_give_cert(a2, a1);
    fx_give_cert(a1, w->grace);
    assert_rc(mm_store_begin(mm_home_store(a1), 0, &ta), MM_OK);
    assert_rc(mm_scope_get(ta, mm_home_self_scope(a1), &self), MM_OK);
    mm_txn_abort(&ta);
    assert_rc(mm_store_begin(mm_home_store(a2), 1, &tb), MM_OK);
    assert_rc(mm_scope_add_key(tb, self.id, mm_scope_key(&self)), MM_OK);
    assert_rc(mm_txn_commit(&tb), MM_OK);
    announce(a1, T0, "tcp://10.0.0.1:7460");
    announce(a2, T0, "tcp://10.0.0.5:7460");
    assert_rc(mm_beacon_rx_new(&rx1), MM_OK);
    assert_rc(mm_beacon_rx_new(&rx2), MM_OK);
    assert_int_equal(round_of(rx2, a2, now, round), 1);
    assert_rc(mm_beacon_rx_load(rx1, a1, MM_BEACON_INTERVAL_MS), MM_OK);
    assert_rc(mm_beacon_rx_input(rx1, a1, round[0], MM_BEACON_SIZE, now, &h), MM_OK);
    assert_true(h.stored);
    assert_memory_equal(h.identity, mm_keypair_pk(ida), 32);
    assert_memory_equal(h.device, mm_keypair_pk(d2), 32);
    assert_int_equal(round_of(rx1, a1, now, round), 1);
    assert_rc(mm_beacon_rx_input(rx2, a2, round[0], MM_BEACON_SIZE, now, &h), MM_OK);
    assert_memory_equal(h.device, mm_keypair_pk(d1), 32);
    /* Grace's statement under Ada's self key: Grace is not Ada */
    mm_beacon_derive(bk, mm_scope_key(&self));
    assert_rc(mm_endpoint_make(mm_home_device(w->grace), now, eps, 1, stmt, sizeof stmt, &len),
              MM_OK);
    mm_random_bytes(nonce, sizeof nonce);
    assert_rc(mm_beacon_seal(bk, nonce, now, stmt, len, b), MM_OK);
    assert_rc(mm_beacon_rx_input(rx1, a1, b, sizeof b, now, &h), MM_ESCOPE);
    /* a1 rekeys its self scope; a2 has not got the key */
    mm_random_bytes(newkey, sizeof newkey);
    assert_rc(mm_store_begin(mm_home_store(a1), 1, &ta), MM_OK);
    assert_rc(mm_scope_add_key(ta, self.id, newkey), MM_OK);
    assert_rc(mm_txn_commit(&ta), MM_OK);
    now += 1000;
    assert_int_equal(round_of(rx1, a1, now, round), 1);
    assert_rc(mm_beacon_rx_input(rx2, a2, round[0], MM_BEACON_SIZE, now, &h), MM_ENOTFOUND);
    assert_int_equal(round_of(rx2, a2, now, round), 1);
    assert_rc(mm_beacon_rx_input(rx1, a1, round[0], MM_BEACON_SIZE, now, &h), MM_ENOTFOUND);
    sodium_memzero(newkey, sizeof newkey);
    mm_scope_wipe(&self);
    mm_beacon_rx_destroy(&rx1);
    mm_beacon_rx_destroy(&rx2);
    mm_home_close(&a1);
    mm_home_close(&a2);
    mm_keypair_destroy(&ida);
    mm_keypair_destroy(&d1);
    mm_keypair_destroy(&d2);
}

/* A flood costs at most MM_BEACON_BURST trials at once, then
 * MM_BEACON_RATE a second; wrong sizes cost none. */
static void test_budget(void **state)
{
    world_t *w = *state;
    mm_beacon_rx_t *grx;
    mm_beacon_heard_t h;
    uint8_t b[MM_BEACON_SIZE];
    uint64_t now = T0 + 1000;
    int tried = 0;
    assert_rc(mm_beacon_rx_new(&grx), MM_OK);
    assert_rc(mm_beacon_rx_load(grx, w->grace, MM_BEACON_INTERVAL_MS), MM_OK);
    for (int i = 0; i < 2 * MM_BEACON_BURST; i++)
        assert_rc(mm_beacon_rx_input(grx, w->grace, b, sizeof b - 1, now, &h), MM_ENOTFOUND);
    for (int i = 0; i < 2 * MM_BEACON_BURST; i++) {
        mm_random_bytes(b, sizeof b);
        int rc = mm_beacon_rx_input(grx, w->grace, b, sizeof b, now, &h);
        assert_true(rc == MM_ENOTFOUND || rc == MM_EBUSY);
        tried += rc == MM_ENOTFOUND;
    }
    assert_int_equal(tried, MM_BEACON_BURST);
    /* a second later: MM_BEACON_RATE more */
    tried = 0;
    for (int i = 0; i < 2 * MM_BEACON_RATE; i++) {
        mm_random_bytes(b, sizeof b);
        tried += mm_beacon_rx_input(grx, w->grace, b, sizeof b, now + 1000, &h) == MM_ENOTFOUND;
    }
    assert_int_equal(tried, MM_BEACON_RATE);
    mm_beacon_rx_destroy(&grx);
}

int main(int argc, char **argv)
{
    if (mm_crypto_init() != MM_OK)
        return 1;
    if (argc > 1 && strcmp(argv[1], "--print") == 0) {
        make_all();
        printf("```beacon-vectors\n");
        for (int i = 0; i < nmade; i++) {
            const char *hx = made[i].hex;
            size_t len = strlen(hx), first = 64;
            printf("%s = %.*s\n", made[i].name, (int) (len < first ? len : first), hx);
            for (size_t off = first; off < len; off += 64)
                printf("    %.64s\n", hx + off);
        }
        printf("```\n");
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_doc_matches_code),
        cmocka_unit_test(test_derive_is_keyed_blake2b),
        cmocka_unit_test(test_open_refuses),
        cmocka_unit_test(test_round_size),
        cmocka_unit_test_setup_teardown(test_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_peer_heard, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forgeries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_own_devices, setup, teardown),
        cmocka_unit_test_setup_teardown(test_budget, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
