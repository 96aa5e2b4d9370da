/*  test_run.c -- what sync stores: runs of received entries, every
 *  signature checked, invite codes, and peer records (last_sync included). */
#include "fixture.h"
#include "core/home.h"
#include "core/log.h"
#include "core/body.h"
#include "core/peer.h"
#include "core/invite.h"
#include "crypto/idcode.h"

#define RUN 10

typedef struct {
    char dir[FX_PATH_MAX];
    mm_home_t *home;
    mm_keypair_t *bob_id, *bob_dev;
    mm_scope_t scope;
    uint8_t entries[RUN][600];
    size_t lens[RUN];
    const uint8_t *ptrs[RUN];
} world_t;

/* A home (Ann), and Bob's device writing RUN entries in their pair scope. */
static int setup(void **state)
{
    world_t *w = calloc(1, sizeof *w);
    char path[FX_PATH_MAX];
    uint8_t cert[MM_CERT_MAX], body[300];
    size_t certlen;
    mm_txn_t *txn;
    fx_mkdtemp(w->dir);
    fx_path(path, w->dir, "ann");
    assert_rc(mm_home_init(path, "Ann", "laptop", 1), MM_OK);
    assert_rc(mm_home_open(path, &w->home), MM_OK);
    w->bob_id = fx_keypair(0xb0);
    w->bob_dev = fx_keypair(0xb1);
    w->scope.kind = MM_SCOPE_PAIR;
    w->scope.nmembers = 2;
    memcpy(w->scope.members[0], mm_home_identity_pk(w->home), 32);
    memcpy(w->scope.members[1], mm_keypair_pk(w->bob_id), 32);
    memset(w->scope.id, 0x5c, 32);
    memset(w->scope.keys[0], 0x6b, 32);
    w->scope.nkeys = 1;
    assert_rc(mm_cert_make(w->bob_id, w->bob_dev, 1, "bob", 0, cert, sizeof cert,
                           &certlen), MM_OK);
    assert_rc(mm_store_begin(mm_home_store(w->home), 1, &txn), MM_OK);
    assert_rc(mm_scope_put(txn, &w->scope), MM_OK);
    assert_rc(mm_cert_put(txn, cert, certlen, NULL), MM_OK);
    assert_rc(mm_txn_commit(&txn), MM_OK);
    mm_head_t head = { 0 };
    for (int i = 0; i < RUN; i++) {
        size_t blen = fx_note_body(body, sizeof body, "a question in service of a goal");
        mm_entry_t e;
        assert_rc(mm_entry_seal(w->bob_dev, &w->scope, &head, 1000 + i, NULL, body, blen,
                                w->entries[i], sizeof w->entries[i], &w->lens[i]), MM_OK);
        assert_rc(mm_entry_parse(w->entries[i], w->lens[i], &e), MM_OK);
        head.seq = e.seq;
        memcpy(head.id, e.id, 32);
        w->ptrs[i] = w->entries[i];
    }
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world_t *w = *state;
    mm_home_close(&w->home);
    mm_keypair_destroy(&w->bob_id);
    mm_keypair_destroy(&w->bob_dev);
    fx_rmrf(w->dir);
    free(w);
    return 0;
}

static uint64_t head_seq(world_t *w)
{
    mm_txn_t *txn;
    mm_head_t h;
    assert_rc(mm_store_begin(mm_home_store(w->home), 0, &txn), MM_OK);
    assert_rc(mm_log_head(txn, mm_keypair_pk(w->bob_dev), w->scope.id, &h), MM_OK);
    mm_txn_abort(&txn);
    return h.seq;
}

/* Put a run in its own transaction, committing only on success. */
static int put(world_t *w, const uint8_t *const *bufs, const size_t *lens, size_t n,
               size_t *stored)
{
    mm_txn_t *txn;
    assert_rc(mm_store_begin(mm_home_store(w->home), 1, &txn), MM_OK);
    int rc = mm_log_put_run(txn, bufs, lens, n, stored);
    if (rc == MM_OK)
        assert_rc(mm_txn_commit(&txn), MM_OK);
    mm_txn_abort(&txn);
    return rc;
}

static void test_run_stored_and_idempotent(void **state)
{
    world_t *w = *state;
    size_t stored;
    assert_rc(put(w, w->ptrs, w->lens, 4, &stored), MM_OK);
    assert_int_equal(stored, 4);
    assert_int_equal(head_seq(w), 4);
    /* the whole run again: the first 4 are skipped as identical */
    assert_rc(put(w, w->ptrs, w->lens, RUN, &stored), MM_OK);
    assert_int_equal(stored, RUN - 4);
    assert_int_equal(head_seq(w), RUN);
    assert_rc(put(w, w->ptrs, w->lens, RUN, &stored), MM_OK);
    assert_int_equal(stored, 0);
    /* and the stored log verifies from scratch */
    mm_txn_t *txn;
    uint64_t n;
    assert_rc(mm_store_begin(mm_home_store(w->home), 0, &txn), MM_OK);
    assert_rc(mm_log_check(txn, NULL, NULL, &n), MM_OK);
    assert_int_equal(n, RUN);
    mm_txn_abort(&txn);
}

static void test_run_every_signature_checked(void **state)
{
    world_t *w = *state;
    size_t lens[RUN];
    uint8_t copy[RUN][600];
    const uint8_t *ptrs[RUN];
    for (int i = 0; i < RUN; i++) {
        memcpy(copy[i], w->entries[i], w->lens[i]);
        lens[i] = w->lens[i];
        ptrs[i] = copy[i];
    }
    /* forged last signature: nothing of the run is stored */
    copy[RUN - 1][lens[RUN - 1] - 5] ^= 1;
    assert_rc(put(w, ptrs, lens, RUN, NULL), MM_EBADSIG);
    assert_int_equal(head_seq(w), 0);
    copy[RUN - 1][lens[RUN - 1] - 5] ^= 1;
    /* a middle entry's own signature is checked too (it fails before the
     * next entry's link to it is looked at) */
    copy[3][lens[3] - 5] ^= 1;
    assert_rc(put(w, ptrs, lens, RUN, NULL), MM_EBADSIG);
    assert_int_equal(head_seq(w), 0);
    /* ... also when every later entry is validly signed and chained over
     * the broken one, so that the last signature covers it */
    uint8_t body[300];
    mm_head_t head = { 4, { 0 } };
    mm_hash(head.id, copy[3], lens[3]);
    for (int i = 4; i < RUN; i++) {
        size_t blen = fx_note_body(body, sizeof body, "chained over a forgery");
        mm_entry_t e;
        assert_rc(mm_entry_seal(w->bob_dev, &w->scope, &head, 2000 + i, NULL, body, blen,
                                copy[i], sizeof copy[i], &lens[i]), MM_OK);
        assert_rc(mm_entry_parse(copy[i], lens[i], &e), MM_OK);
        head.seq = e.seq;
        memcpy(head.id, e.id, 32);
    }
    assert_rc(put(w, ptrs, lens, RUN, NULL), MM_EBADSIG);
    assert_rc(put(w, ptrs + 3, lens + 3, RUN - 3, NULL), MM_ESEQGAP);
    assert_int_equal(head_seq(w), 0);
    /* the good first three are stored; the broken fourth still is not */
    assert_rc(put(w, ptrs, lens, 3, NULL), MM_OK);
    assert_rc(put(w, ptrs, lens, RUN, NULL), MM_EBADSIG);
    assert_rc(put(w, ptrs + 3, lens + 3, RUN - 3, NULL), MM_EBADSIG);
    assert_int_equal(head_seq(w), 3);
    for (int i = 3; i < RUN; i++) {
        memcpy(copy[i], w->entries[i], w->lens[i]);
        lens[i] = w->lens[i];
    }
    /* a changed box: the AEAD check still runs on every entry */
    copy[5][lens[5] - 80] ^= 1;
    assert_int_not_equal(put(w, ptrs, lens, RUN, NULL), MM_OK);
    assert_int_equal(head_seq(w), 3);
    copy[5][lens[5] - 80] ^= 1;
    assert_rc(put(w, ptrs, lens, RUN, NULL), MM_OK);
    assert_int_equal(head_seq(w), RUN);
}

static void test_run_shape_and_fork(void **state)
{
    world_t *w = *state;
    const uint8_t *gap[2] = { w->ptrs[0], w->ptrs[2] };
    size_t gaplen[2] = { w->lens[0], w->lens[2] };
    assert_rc(put(w, gap, gaplen, 2, NULL), MM_EPROTO);
    assert_rc(put(w, w->ptrs + 1, w->lens + 1, 3, NULL), MM_ESEQGAP);
    assert_int_equal(head_seq(w), 0);
    assert_rc(put(w, w->ptrs, w->lens, 2, NULL), MM_OK);
    /* another entry at seq 2, validly signed by the same device: a fork */
    uint8_t other[600], body[300];
    size_t olen, blen = fx_note_body(body, sizeof body, "a different second entry");
    mm_head_t h1 = { 1, { 0 } };
    mm_entry_t e1;
    assert_rc(mm_entry_parse(w->entries[0], w->lens[0], &e1), MM_OK);
    memcpy(h1.id, e1.id, 32);
    assert_rc(mm_entry_seal(w->bob_dev, &w->scope, &h1, 5, NULL, body, blen, other,
                            sizeof other, &olen), MM_OK);
    const uint8_t *fork[1] = { other };
    assert_rc(put(w, fork, &olen, 1, NULL), MM_EFORK);
    assert_int_equal(head_seq(w), 2);
}

static void test_invite_code(void **state)
{
    mm_invite_code_t c, d;
    char text[MM_INVITE_CODE_MAX];
    memset(&c, 0, sizeof c);
    memset(c.identity, 1, 32);
    memset(c.device, 2, 32);
    memset(c.secret, 3, 32);
    c.expires = 1767225600000ull;
    c.nendpoints = 2;
    strcpy(c.endpoints[0], "tcp://192.168.1.20:7460");
    strcpy(c.endpoints[1], "tcp://127.0.0.1:7460");
    assert_rc(mm_invite_code_encode(&c, text, sizeof text), MM_OK);
    assert_memory_equal(text, "mmv1", 4);
    assert_rc(mm_invite_code_decode(text, &d), MM_OK);
    assert_memory_equal(&c, &d, sizeof c);
    /* any one character changed within the alphabet: damaged */
    for (size_t i = 4; i < strlen(text); i++) {
        char save = text[i];
        text[i] = save == 'a' ? 'b' : 'a';
        int rc = mm_invite_code_decode(text, &d);
        assert_true(rc == MM_ECHECKSUM || rc == MM_EINVAL);
        text[i] = save;
    }
    assert_rc(mm_invite_code_decode("mmv2abc", &d), MM_EINVAL);
    assert_rc(mm_invite_code_decode("mmv1!!!", &d), MM_EINVAL);
    text[strlen(text) - 3] = '\0';
    assert_int_not_equal(mm_invite_code_decode(text, &d), MM_OK);
    /* the key pair is a function of the secret */
    uint8_t pk1[32], sk1[32], pk2[32], sk2[32];
    mm_invite_keys(c.secret, pk1, sk1);
    mm_invite_keys(c.secret, pk2, sk2);
    assert_memory_equal(pk1, pk2, 32);
    c.secret[0] ^= 1;
    mm_invite_keys(c.secret, pk2, sk2);
    assert_memory_not_equal(pk1, pk2, 32);
}

static void test_invite_record_used_once(void **state)
{
    world_t *w = *state;
    mm_txn_t *txn;
    mm_invite_t inv, got;
    memset(&inv, 0, sizeof inv);
    memset(inv.key, 9, 32);
    inv.created = 1;
    inv.expires = 2;
    inv.role = MM_ROLE_MENTOR;
    strcpy(inv.note, "Hi Ada, happy to help in short bursts");
    assert_rc(mm_store_begin(mm_home_store(w->home), 1, &txn), MM_OK);
    assert_rc(mm_invite_put(txn, &inv), MM_OK);
    assert_rc(mm_invite_put(txn, &inv), MM_EEXIST);
    assert_rc(mm_invite_use(txn, inv.key, 5), MM_OK);
    assert_rc(mm_invite_use(txn, inv.key, 6), MM_EEXIST);
    assert_rc(mm_invite_get(txn, inv.key, &got), MM_OK);
    assert_int_equal(got.used, 5);
    assert_string_equal(got.note, inv.note);
    mm_txn_abort(&txn);
}

static void test_peers(void **state)
{
    world_t *w = *state;
    mm_txn_t *txn;
    mm_peer_t p, q, got;
    memset(&p, 0, sizeof p);
    memset(p.identity, 0x11, 32);
    strcpy(p.petname, "Grace");
    p.role = MM_ROLE_MENTOR;
    p.nendpoints = 1;
    strcpy(p.endpoints[0], "tcp://127.0.0.1:7460");
    q = p;
    memset(q.identity, 0x22, 32);
    strcpy(q.petname, "lin");
    assert_rc(mm_store_begin(mm_home_store(w->home), 1, &txn), MM_OK);
    assert_rc(mm_peer_put(txn, &p), MM_OK);
    assert_rc(mm_peer_put(txn, &q), MM_OK);
    assert_rc(mm_peer_find(txn, "grace", &got), MM_OK);     /* case-insensitive */
    assert_memory_equal(got.identity, p.identity, 32);
    char code[MM_IDCODE_LEN + 1];
    mm_idcode_encode(code, MM_IDCODE_IDENTITY, q.identity);
    code[10] = '\0';
    assert_rc(mm_peer_find(txn, code, &got), MM_OK);
    assert_string_equal(got.petname, "lin");
    assert_rc(mm_peer_find(txn, "mmi", &got), MM_EINVAL);
    assert_rc(mm_peer_find(txn, "nobody", &got), MM_ENOTFOUND);
    /* petnames are unique; invalid ones and endpoints are refused */
    strcpy(q.petname, "GRACE");
    assert_rc(mm_peer_put(txn, &q), MM_EEXIST);
    strcpy(q.petname, "mmiabc");
    assert_rc(mm_peer_put(txn, &q), MM_EINVAL);
    strcpy(q.petname, "lin");
    strcpy(q.endpoints[0], "http://example.org");
    assert_rc(mm_peer_put(txn, &q), MM_EINVAL);
    assert_rc(mm_peer_del(txn, p.identity), MM_OK);
    assert_rc(mm_peer_get(txn, p.identity, &got), MM_ENOTFOUND);
    mm_txn_abort(&txn);
    assert_true(mm_endpoint_valid("tcp://[::1]:7460"));
    assert_false(mm_endpoint_valid("tcp://host:0"));
    assert_false(mm_endpoint_valid("tcp://host:99999"));
    assert_false(mm_endpoint_valid("tcp://:7460"));
}

/* last_sync is written in one place, and nothing else of the record moves */
static void test_peer_touch(void **state)
{
    world_t *w = *state;
    mm_txn_t *txn;
    mm_peer_t p, got;
    uint8_t nobody[32];
    memset(&p, 0, sizeof p);
    memset(p.identity, 0x33, 32);
    strcpy(p.petname, "grace");
    snprintf(p.name, sizeof p.name, "Grace H.");
    p.role = MM_ROLE_MENTOR;
    memset(p.scope, 0x44, 32);
    memset(p.device, 0x55, 32);
    p.nendpoints = 2;
    strcpy(p.endpoints[0], "tcp://127.0.0.1:7460");
    strcpy(p.endpoints[1], "tcp://10.0.0.2:7460");
    p.blocked = 1;
    p.added = 1000;
    assert_rc(mm_store_begin(mm_home_store(w->home), 1, &txn), MM_OK);
    assert_rc(mm_peer_put(txn, &p), MM_OK);
    assert_rc(mm_peer_touch(txn, p.identity, 123456789), MM_OK);
    assert_rc(mm_txn_commit(&txn), MM_OK);

    assert_rc(mm_store_begin(mm_home_store(w->home), 1, &txn), MM_OK);
    assert_rc(mm_peer_get(txn, p.identity, &got), MM_OK);
    assert_true(got.last_sync == 123456789);
    got.last_sync = 0;
    assert_memory_equal(&got, &p, sizeof p);
    assert_rc(mm_peer_touch(txn, p.identity, 5), MM_OK);   /* the latest wins, even if earlier */
    assert_rc(mm_peer_get(txn, p.identity, &got), MM_OK);
    assert_true(got.last_sync == 5);
    /* one's own identity (or anyone else) has no record to touch */
    memset(nobody, 0x66, sizeof nobody);
    assert_rc(mm_peer_touch(txn, nobody, 7), MM_ENOTFOUND);
    assert_rc(mm_peer_touch(txn, mm_home_identity_pk(w->home), 7), MM_ENOTFOUND);
    assert_rc(mm_peer_get(txn, nobody, &got), MM_ENOTFOUND);
    mm_txn_abort(&txn);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_run_stored_and_idempotent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_run_every_signature_checked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_run_shape_and_fork, setup, teardown),
        cmocka_unit_test(test_invite_code),
        cmocka_unit_test_setup_teardown(test_invite_record_used_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_peers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_peer_touch, setup, teardown),
    };
    return cmocka_run_group_tests(tests, fx_setup_crypto, NULL);
}
