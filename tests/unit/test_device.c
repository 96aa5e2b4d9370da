/*  test_device.c -- endpoints statements (core/endpoint.h) and which
 *  statements about devices a session sends and keeps (core/device.h). */
#include "fixture.h"
#include "fxhome.h"

#include "core/cert.h"
#include "core/device.h"
#include "core/endpoint.h"
#include "core/revoke.h"
#include "core/budget.h"

#define T0 1767225600000ull

static mm_keypair_t *me, *dev1, *dev2, *peer, *pdev, *stranger, *sdev;
static fx_store_t fs;

static mm_txn_t *begin(int write)
{
    mm_txn_t *txn;
    assert_rc(mm_store_begin(fs.store, write, &txn), MM_OK);
    return txn;
}

static size_t cert_of(const mm_keypair_t *id, const mm_keypair_t *dev, uint64_t created,
                      const char *name, uint8_t *out)
{
    size_t len;
    assert_rc(mm_cert_make(id, dev, created, name, 0, out, MM_CERT_MAX, &len), MM_OK);
    return len;
}

static int setup(void **state)
{
    (void) state;
    me = fx_keypair(1);
    dev1 = fx_keypair(2);
    dev2 = fx_keypair(3);
    peer = fx_keypair(4);
    pdev = fx_keypair(5);
    stranger = fx_keypair(6);
    sdev = fx_keypair(7);
    fx_store_new(&fs);
    return 0;
}

static int teardown(void **state)
{
    (void) state;
    mm_keypair_destroy(&me);
    mm_keypair_destroy(&dev1);
    mm_keypair_destroy(&dev2);
    mm_keypair_destroy(&peer);
    mm_keypair_destroy(&pdev);
    mm_keypair_destroy(&stranger);
    mm_keypair_destroy(&sdev);
    return fx_store_done(&fs);
}

static void test_endpoints(void **state)
{
    (void) state;
    char eps[2][MM_ENDPOINT_MAX + 1] = { "tcp://10.0.0.1:7460", "tcp://127.0.0.1:7460" };
    uint8_t a[MM_ENDPOINT_STMT_MAX], b[MM_ENDPOINT_STMT_MAX];
    size_t alen, blen;
    mm_endpoint_t e;
    int replaced, changed;
    assert_rc(mm_endpoint_make(dev1, 5, (const char (*)[MM_ENDPOINT_MAX + 1]) eps, 2, a,
                               sizeof a, &alen), MM_OK);
    assert_rc(mm_endpoint_parse(a, alen, &e), MM_OK);
    assert_int_equal(e.seq, 5);
    assert_int_equal(e.n, 2);
    assert_string_equal(e.endpoints[1], "tcp://127.0.0.1:7460");
    for (size_t i = 0; i < alen; i++) {
        a[i] ^= 1;
        assert_int_not_equal(mm_endpoint_parse(a, alen, &e), MM_OK);
        a[i] ^= 1;
    }
    char bad[1][MM_ENDPOINT_MAX + 1] = { "http://x:1" };
    assert_rc(mm_endpoint_make(dev1, 5, (const char (*)[MM_ENDPOINT_MAX + 1]) bad, 1, b,
                               sizeof b, &blen), MM_EINVAL);
    assert_rc(mm_endpoint_make(dev1, 4, (const char (*)[MM_ENDPOINT_MAX + 1]) eps, 1, b,
                               sizeof b, &blen), MM_OK);
    /* the greater seq wins, whatever the order */
    mm_txn_t *txn = begin(1);
    assert_rc(mm_endpoint_put(txn, a, alen, &replaced), MM_OK);
    assert_true(replaced);
    assert_rc(mm_endpoint_put(txn, b, blen, &replaced), MM_OK);
    assert_false(replaced);
    assert_rc(mm_endpoint_get(txn, mm_keypair_pk(dev1), &e, NULL, NULL), MM_OK);
    assert_int_equal(e.seq, 5);
    /* announcing leaves loopback out beside another address (so the
     * stored statement, which lists one, is replaced, by a greater seq) */
    assert_rc(mm_endpoint_announce(txn, dev1, 3, (const char (*)[MM_ENDPOINT_MAX + 1]) eps, 2,
                                   &changed), MM_OK);
    assert_true(changed);
    assert_rc(mm_endpoint_get(txn, mm_keypair_pk(dev1), &e, NULL, NULL), MM_OK);
    assert_int_equal(e.seq, 6);
    assert_int_equal(e.n, 1);
    assert_string_equal(e.endpoints[0], eps[0]);
    /* the same endpoints again write nothing, whether loopback is given or not */
    assert_rc(mm_endpoint_announce(txn, dev1, 3, (const char (*)[MM_ENDPOINT_MAX + 1]) eps, 2,
                                   &changed), MM_OK);
    assert_false(changed);
    assert_rc(mm_endpoint_announce(txn, dev1, 3, (const char (*)[MM_ENDPOINT_MAX + 1]) eps, 1,
                                   &changed), MM_OK);
    assert_false(changed);
    /* loopback alone is announced */
    assert_rc(mm_endpoint_announce(txn, dev1, 3, (const char (*)[MM_ENDPOINT_MAX + 1]) eps + 1,
                                   1, &changed), MM_OK);
    assert_true(changed);
    assert_rc(mm_endpoint_get(txn, mm_keypair_pk(dev1), &e, NULL, NULL), MM_OK);
    assert_int_equal(e.seq, 7);
    assert_string_equal(e.endpoints[0], "tcp://127.0.0.1:7460");
    assert_rc(mm_txn_commit(&txn), MM_OK);
}

/* A store of "me" with two devices, a peer with one, and a stranger. */
static void people(mm_txn_t *txn)
{
    uint8_t c[MM_CERT_MAX];
    mm_peer_t p;
    assert_rc(mm_cert_put(txn, c, cert_of(me, dev1, T0, "laptop", c), NULL), MM_OK);
    assert_rc(mm_cert_put(txn, c, cert_of(me, dev2, T0, "phone", c), NULL), MM_OK);
    assert_rc(mm_cert_put(txn, c, cert_of(peer, pdev, T0, "desk", c), NULL), MM_OK);
    memset(&p, 0, sizeof p);
    memcpy(p.identity, mm_keypair_pk(peer), 32);
    snprintf(p.petname, sizeof p.petname, "grace");
    p.role = MM_ROLE_MENTOR;
    memcpy(p.device, mm_keypair_pk(pdev), 32);
    assert_rc(mm_peer_put(txn, &p), MM_OK);
}

static void test_collect(void **state)
{
    (void) state;
    mm_device_set_t *set = malloc(sizeof *set);
    uint8_t r[MM_REVOKE_MAX];
    size_t rlen;
    assert_non_null(set);
    mm_txn_t *txn = begin(1);
    people(txn);
    assert_rc(mm_revoke_make(peer, mm_keypair_pk(pdev), T0, NULL, 0, r, sizeof r, &rlen), MM_OK);
    assert_rc(mm_revoke_put(txn, r, rlen, NULL), MM_OK);
    /* to a peer: what is about me, then what I know of its own devices
     * (its revocation of its device reaches its other devices through me) */
    assert_rc(mm_device_collect(txn, mm_keypair_pk(me), mm_keypair_pk(peer), set), MM_OK);
    assert_int_equal(set->n[MM_DEVICE_CERT], 3);
    assert_int_equal(set->n[MM_DEVICE_REVOKE], 1);
    /* to a stranger's device: only what is about me */
    mm_keypair_t *other = fx_keypair(99);
    assert_rc(mm_device_collect(txn, mm_keypair_pk(me), mm_keypair_pk(other), set), MM_OK);
    assert_int_equal(set->n[MM_DEVICE_CERT], 2);
    assert_int_equal(set->n[MM_DEVICE_REVOKE], 0);
    mm_keypair_destroy(&other);
    /* to my own device: the peers' too */
    assert_rc(mm_device_collect(txn, mm_keypair_pk(me), mm_keypair_pk(me), set), MM_OK);
    assert_int_equal(set->n[MM_DEVICE_CERT], 3);
    assert_int_equal(set->n[MM_DEVICE_REVOKE], 1);
    mm_txn_abort(&txn);
    free(set);
}

static void test_accept(void **state)
{
    (void) state;
    uint8_t c[MM_CERT_MAX], ep[MM_ENDPOINT_STMT_MAX];
    size_t len;
    mm_cert_t got;
    mm_endpoint_t e;
    char eps[1][MM_ENDPOINT_MAX + 1] = { "tcp://10.0.0.9:7460" };
    mm_txn_t *txn = begin(1);
    people(txn);
    const uint8_t *m = mm_keypair_pk(me), *pr = mm_keypair_pk(peer);
    /* from the peer: a stranger's certificate is ignored */
    assert_rc(mm_device_accept(txn, m, pr, MM_DEVICE_CERT, c, cert_of(stranger, sdev, T0, "x", c)),
              MM_OK);
    assert_rc(mm_cert_get(txn, mm_keypair_pk(sdev), &got, NULL, NULL), MM_ENOTFOUND);
    /* a version-1 certificate is never relayed */
    assert_rc(mm_cert_make_v1(peer, mm_keypair_pk(sdev), T0, "old", c, sizeof c, &len), MM_OK);
    assert_rc(mm_device_accept(txn, m, pr, MM_DEVICE_CERT, c, len), MM_EBADCERT);
    /* the peer's new device, and its endpoints */
    mm_keypair_t *pnew = fx_keypair(8);
    assert_rc(mm_device_accept(txn, m, pr, MM_DEVICE_CERT, c, cert_of(peer, pnew, T0, "new", c)),
              MM_OK);
    assert_rc(mm_cert_get(txn, mm_keypair_pk(pnew), &got, NULL, NULL), MM_OK);
    assert_rc(mm_endpoint_make(pnew, 9, (const char (*)[MM_ENDPOINT_MAX + 1]) eps, 1, ep,
                               sizeof ep, &len), MM_OK);
    assert_rc(mm_device_accept(txn, m, pr, MM_DEVICE_ENDPOINT, ep, len), MM_OK);
    assert_rc(mm_endpoint_get(txn, mm_keypair_pk(pnew), &e, NULL, NULL), MM_OK);
    /* a stranger's device's endpoints: no certificate, ignored */
    assert_rc(mm_endpoint_make(sdev, 9, (const char (*)[MM_ENDPOINT_MAX + 1]) eps, 1, ep,
                               sizeof ep, &len), MM_OK);
    assert_rc(mm_device_accept(txn, m, pr, MM_DEVICE_ENDPOINT, ep, len), MM_OK);
    assert_rc(mm_endpoint_get(txn, mm_keypair_pk(sdev), &e, NULL, NULL), MM_ENOTFOUND);
    /* from my own device: anyone's */
    assert_rc(mm_device_accept(txn, m, m, MM_DEVICE_CERT, c, cert_of(stranger, sdev, T0, "x", c)),
              MM_OK);
    assert_rc(mm_cert_get(txn, mm_keypair_pk(sdev), &got, NULL, NULL), MM_OK);
    /* the devices of the peer, and when we last saw one */
    assert_rc(mm_device_seen(txn, mm_keypair_pk(pnew), 77), MM_OK);
    uint64_t when;
    assert_rc(mm_device_last_seen(txn, mm_keypair_pk(pnew), &when), MM_OK);
    assert_int_equal(when, 77);
    mm_keypair_destroy(&pnew);
    assert_rc(mm_txn_commit(&txn), MM_OK);
}

/* Exactly one device settles: the identity device, unless it named
 * another current device in its self feed. */
static void test_settler(void **state)
{
    (void) state;
    char dir[FX_PATH_MAX];
    uint8_t c[MM_CERT_MAX], s[32];
    mm_keypair_t *idk;
    mm_txn_t *txn;
    mm_settle_t out;
    fx_mkdtemp(dir);
    mm_home_t *h = fx_home(dir, "ada", "Ada", NULL, NULL);
    const uint8_t *self = mm_keypair_pk(mm_home_device(h));
    assert_rc(mm_home_identity_key(h, &idk), MM_OK);
    assert_rc(mm_store_begin(mm_home_store(h), 1, &txn), MM_OK);
    assert_rc(mm_cert_put(txn, c, cert_of(idk, dev2, T0, "phone", c), NULL), MM_OK);
    assert_rc(mm_budget_settler(h, txn, s), MM_OK);
    assert_memory_equal(s, self, 32);
    assert_rc(mm_txn_commit(&txn), MM_OK);
    assert_true(mm_budget_is_settler(h));
    assert_rc(mm_budget_settle(h, &out), MM_OK);
    assert_false(out.not_settler);
    /* the phone settles from now on: the laptop writes no queue entry */
    assert_rc(mm_budget_set_settler(h, mm_keypair_pk(dev2)), MM_OK);
    assert_false(mm_budget_is_settler(h));
    assert_rc(mm_budget_settle(h, &out), MM_OK);
    assert_true(out.not_settler);
    /* a revoked settler settles nothing: the identity device again */
    assert_rc(mm_device_revoke(h, mm_keypair_pk(dev2), T0 + 1, NULL), MM_OK);
    assert_true(mm_budget_is_settler(h));
    assert_rc(mm_budget_set_settler(h, mm_keypair_pk(dev2)), MM_EREVOKED);
    mm_keypair_destroy(&idk);
    mm_home_close(&h);
    fx_rmrf(dir);
}

int main(void)
{
    if (mm_crypto_init() != MM_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_endpoints, setup, teardown),
        cmocka_unit_test_setup_teardown(test_collect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_accept, setup, teardown),
        cmocka_unit_test_setup_teardown(test_settler, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
