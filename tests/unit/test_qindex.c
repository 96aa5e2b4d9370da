/*  test_qindex.c -- the questions table: a question is found by any prefix
 *  of its id (odd lengths too, either case), an ambiguous prefix says so,
 *  and arrival numbers only grow and are given once per question. */
#include "fixture.h"
#include "core/qindex.h"

static fx_store_t fs;

static int setup(void **state)
{
    fx_store_new(&fs);
    return 0;
}

static int teardown(void **state)
{
    return fx_store_done(&fs);
}

static void id_of(uint8_t id[32], const char *hex)
{
    memset(id, 0, 32);
    assert_int_equal(fx_unhex(id, 32, hex), strlen(hex) / 2);
}

static void test_find_by_prefix(void **state)
{
    uint8_t a[32], b[32], c[32], sa[32], sb[32], qid[32], scope[32];
    uint64_t n1, n2, n3, again;
    mm_txn_t *txn;
    id_of(a, "1a2b3c4d");
    id_of(b, "1a2b3d00");
    id_of(c, "ff000000");
    memset(sa, 0xaa, 32);
    memset(sb, 0xbb, 32);
    assert_rc(mm_store_begin(fs.store, 1, &txn), MM_OK);
    assert_rc(mm_qindex_put(txn, a, sa, &n1), MM_OK);
    assert_rc(mm_qindex_put(txn, b, sb, &n2), MM_OK);
    assert_rc(mm_qindex_put(txn, c, sb, &n3), MM_OK);
    assert_true(n1 < n2 && n2 < n3);
    /* a second put keeps the first arrival number and scope */
    assert_rc(mm_qindex_put(txn, a, sb, &again), MM_OK);
    assert_int_equal(again, n1);
    assert_rc(mm_qindex_get(txn, a, scope, &again), MM_OK);
    assert_memory_equal(scope, sa, 32);
    assert_rc(mm_txn_commit(&txn), MM_OK);

    assert_rc(mm_store_begin(fs.store, 0, &txn), MM_OK);
    assert_rc(mm_qindex_find(txn, "1a2b3c", qid, scope), MM_OK);
    assert_memory_equal(qid, a, 32);
    assert_memory_equal(scope, sa, 32);
    assert_rc(mm_qindex_find(txn, "1A2B3D", qid, scope), MM_OK);     /* either case */
    assert_memory_equal(qid, b, 32);
    assert_rc(mm_qindex_find(txn, "1a2b3", qid, scope), MM_EAMBIG);  /* odd length */
    assert_rc(mm_qindex_find(txn, "1a2b3c4", qid, scope), MM_OK);
    assert_memory_equal(qid, a, 32);
    assert_rc(mm_qindex_find(txn, "f", qid, scope), MM_OK);
    assert_memory_equal(qid, c, 32);
    assert_rc(mm_qindex_find(txn, "1a2c", qid, scope), MM_ENOTFOUND);
    assert_rc(mm_qindex_find(txn, "0", qid, scope), MM_ENOTFOUND);
    assert_rc(mm_qindex_find(txn, "1a2x", qid, scope), MM_EINVAL);
    assert_rc(mm_qindex_find(txn, "", qid, scope), MM_EINVAL);
    uint8_t none[32] = { 7 };
    assert_rc(mm_qindex_get(txn, none, NULL, NULL), MM_ENOTFOUND);
    mm_txn_abort(&txn);
}

/* Arrival numbers survive reopening and go on from the last one given. */
static void test_arrivals_only_grow(void **state)
{
    uint8_t a[32], b[32], s[32] = { 1 };
    uint64_t n1, n2;
    mm_txn_t *txn;
    id_of(a, "01");
    id_of(b, "02");
    assert_rc(mm_store_begin(fs.store, 1, &txn), MM_OK);
    assert_rc(mm_qindex_put(txn, a, s, &n1), MM_OK);
    assert_rc(mm_txn_commit(&txn), MM_OK);
    mm_store_close(&fs.store);
    assert_rc(mm_store_open(fs.dir, 0, &fs.store), MM_OK);
    assert_rc(mm_store_begin(fs.store, 1, &txn), MM_OK);
    assert_rc(mm_qindex_put(txn, b, s, &n2), MM_OK);
    assert_rc(mm_txn_commit(&txn), MM_OK);
    assert_int_equal(n2, n1 + 1);
}

/* An ambiguous prefix names its questions, in id order with their scopes;
 * past max they are counted, not copied. */
static void test_matches(void **state)
{
    static const char *const ids[] = { "1a2b99887766", "1a2b3c4d5e6f", "1a2bff", "1a2c00" };
    uint8_t id[32], s[32];
    mm_qmatch_t m[4];
    size_t n = 99;
    mm_txn_t *txn;
    assert_rc(mm_store_begin(fs.store, 1, &txn), MM_OK);
    for (size_t i = 0; i < 4; i++) {
        id_of(id, ids[i]);
        memset(s, (int) i + 1, 32);
        assert_rc(mm_qindex_put(txn, id, s, NULL), MM_OK);
    }
    assert_rc(mm_qindex_matches(txn, "1A2B", m, 4, &n), MM_OK);
    assert_int_equal(n, 3);
    id_of(id, "1a2b3c4d5e6f");
    assert_memory_equal(m[0].qid, id, 32);
    memset(s, 2, 32);
    assert_memory_equal(m[0].scope, s, 32);
    id_of(id, "1a2b99887766");
    assert_memory_equal(m[1].qid, id, 32);
    memset(s, 1, 32);
    assert_memory_equal(m[1].scope, s, 32);
    id_of(id, "1a2bff");
    assert_memory_equal(m[2].qid, id, 32);
    /* only two kept: n says there were more */
    memset(m, 0, sizeof m);
    assert_rc(mm_qindex_matches(txn, "1a2b", m, 2, &n), MM_OK);
    assert_int_equal(n, 3);
    id_of(id, "1a2b99887766");
    assert_memory_equal(m[1].qid, id, 32);
    uint8_t zero[32] = { 0 };
    assert_memory_equal(m[2].qid, zero, 32);
    assert_rc(mm_qindex_matches(txn, "1a2b", NULL, 0, &n), MM_OK);
    assert_int_equal(n, 1);
    assert_rc(mm_qindex_matches(txn, "1a2", m, 4, &n), MM_OK);
    assert_int_equal(n, 4);
    assert_rc(mm_qindex_matches(txn, "1a2d", m, 4, &n), MM_OK);
    assert_int_equal(n, 0);
    assert_rc(mm_qindex_matches(txn, "1a2g", m, 4, &n), MM_EINVAL);
    assert_rc(mm_qindex_find(txn, "1a2b", id, s), MM_EAMBIG);
    assert_rc(mm_qindex_find(txn, "1a2b9", id, s), MM_OK);
    mm_txn_abort(&txn);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_find_by_prefix, setup, teardown),
        cmocka_unit_test_setup_teardown(test_arrivals_only_grow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_matches, setup, teardown),
    };
    return cmocka_run_group_tests(tests, fx_setup_crypto, NULL);
}
