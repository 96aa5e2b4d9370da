/*  test_target.c -- the targets of a sync with everyone: unblocked peers
 *  with an address (their record's, or one a device of theirs announced),
 *  then each other current own device that announced endpoints, each once;
 *  never this device, a blocked peer (counted) or a peer without address. */
#include "fixture.h"
#include "fxhome.h"
#include "core/cert.h"
#include "core/endpoint.h"
#include "core/target.h"

/* txn stores device's statement that it listens at ep. */
static void announce(mm_txn_t *txn, const mm_keypair_t *device, const char *ep)
{
    char eps[1][MM_ENDPOINT_MAX + 1];
    uint8_t buf[MM_ENDPOINT_STMT_MAX];
    size_t len;
    snprintf(eps[0], sizeof eps[0], "%s", ep);
    assert_rc(mm_endpoint_make(device, 1, (const char (*)[MM_ENDPOINT_MAX + 1]) eps, 1, buf,
                               sizeof buf, &len), MM_OK);
    assert_rc(mm_endpoint_put(txn, buf, len, NULL), MM_OK);
}

/* txn stores identity's certificate of device named name. */
static void certify(mm_txn_t *txn, const mm_keypair_t *identity, const mm_keypair_t *device,
                    const char *name)
{
    uint8_t cert[MM_CERT_MAX];
    size_t len;
    assert_rc(mm_cert_make(identity, device, 2, name, 0, cert, sizeof cert, &len), MM_OK);
    assert_rc(mm_cert_put(txn, cert, len, NULL), MM_OK);
}

static void test_every_target(void **state)
{
    char dir[FX_PATH_MAX];
    mm_keypair_t *id = fx_keypair(0x01), *me = fx_keypair(0x02), *phone = fx_keypair(0x03),
                 *tablet = fx_keypair(0x04), *quiet = fx_keypair(0x05);
    mm_scope_t sc[4];
    mm_targets_t t = { 0 };
    mm_txn_t *txn;
    mm_peer_t p;
    (void) state;
    fx_mkdtemp(dir);
    mm_home_t *ada = fx_home(dir, "ada", "Ada", id, me);
    mm_home_t *grace = fx_home(dir, "grace", "Grace", NULL, NULL);
    mm_home_t *lin = fx_home(dir, "lin", "Lin", NULL, NULL);
    mm_home_t *kim = fx_home(dir, "kim", "Kim", NULL, NULL);
    mm_home_t *bob = fx_home(dir, "bob", "Bob", NULL, NULL);
    memset(sc, 0, sizeof sc);
    fx_pair(grace, ada, "grace", "ada", &sc[0]);
    fx_pair(lin, ada, "lin", "ada", &sc[1]);
    fx_pair(kim, ada, "kim", "ada", &sc[2]);
    fx_pair(bob, ada, "bob", "ada", &sc[3]);
    assert_rc(mm_store_begin(mm_home_store(ada), 1, &txn), MM_OK);
    /* grace: an address in her record; lin: none, but her device said one;
     * kim: no address at all; bob: an address, but blocked */
    assert_rc(mm_peer_find(txn, "grace", &p), MM_OK);
    snprintf(p.endpoints[0], sizeof p.endpoints[0], "tcp://127.0.0.1:7001");
    p.nendpoints = 1;
    assert_rc(mm_peer_put(txn, &p), MM_OK);
    announce(txn, mm_home_device(lin), "tcp://127.0.0.1:7002");
    assert_rc(mm_peer_find(txn, "bob", &p), MM_OK);
    snprintf(p.endpoints[0], sizeof p.endpoints[0], "tcp://127.0.0.1:7004");
    p.nendpoints = 1;
    p.blocked = 1;
    assert_rc(mm_peer_put(txn, &p), MM_OK);
    /* own devices: phone and tablet announced, quiet did not; this device
     * announced too, but is never its own target */
    certify(txn, id, phone, "phone");
    certify(txn, id, tablet, "tablet");
    certify(txn, id, quiet, "quiet");
    announce(txn, phone, "tcp://127.0.0.1:7005");
    announce(txn, tablet, "tcp://127.0.0.1:7006");
    announce(txn, me, "tcp://127.0.0.1:7007");
    assert_rc(mm_txn_commit(&txn), MM_OK);

    assert_rc(mm_store_begin(mm_home_store(ada), 0, &txn), MM_OK);
    assert_rc(mm_targets_all(txn, mm_keypair_pk(id), mm_keypair_pk(me), &t), MM_OK);
    mm_txn_abort(&txn);
    assert_int_equal(t.blocked, 1);
    assert_int_equal(t.n, 4);
    int peers = 0, own = 0;
    for (size_t i = 0; i < t.n; i++) {
        const mm_target_t *x = &t.v[i];
        if (x->kind == MM_TARGET_PEER) {
            assert_int_equal(own, 0);           /* peers first */
            assert_memory_equal(x->id, x->p.identity, 32);
            assert_true(!strcmp(x->p.petname, "grace") || !strcmp(x->p.petname, "lin"));
            peers++;
        } else {
            assert_int_equal(x->kind, MM_TARGET_OWN);
            assert_memory_equal(x->p.identity, mm_keypair_pk(id), 32);
            assert_memory_equal(x->id, x->p.device, 32);
            assert_true(!memcmp(x->id, mm_keypair_pk(phone), 32)
                        || !memcmp(x->id, mm_keypair_pk(tablet), 32));
            assert_true(!strcmp(x->p.petname, "phone") || !strcmp(x->p.petname, "tablet"));
            own++;
        }
    }
    assert_int_equal(peers, 2);
    assert_int_equal(own, 2);       /* both own devices, not one per identity */
    /* a peer added again is there once; an unknown kind is refused */
    p = t.v[0].p;
    assert_rc(mm_targets_add(&t, MM_TARGET_PEER, &p), MM_OK);
    assert_int_equal(t.n, 4);
    assert_rc(mm_targets_add(&t, 99, &p), MM_EINVAL);
    mm_targets_free(&t);
    assert_int_equal(t.n, 0);
    mm_targets_free(NULL);

    mm_home_close(&ada);
    mm_home_close(&grace);
    mm_home_close(&lin);
    mm_home_close(&kim);
    mm_home_close(&bob);
    mm_keypair_destroy(&id);
    mm_keypair_destroy(&me);
    mm_keypair_destroy(&phone);
    mm_keypair_destroy(&tablet);
    mm_keypair_destroy(&quiet);
    assert_int_equal(fx_rmrf(dir), 0);
}

int main(void)
{
    if (mm_crypto_init() != MM_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_target),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
