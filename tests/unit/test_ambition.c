/*  test_ambition.c -- ambitions: which are current, and finding one by a
 *  prefix of its id (an ambiguous prefix names every match). */
#include "fixture.h"
#include "core/ambition.h"

static void test_find_by_prefix(void **state)
{
    static const char *const ids[] = { "1a2b3c", "ff00", "1a2b99", "1a2c" };
    mm_item_t it[4];
    mm_ambition_t a[4];
    size_t idx[2], n = 99;
    (void) state;
    memset(it, 0, sizeof it);
    memset(a, 0, sizeof a);
    for (size_t i = 0; i < 4; i++) {
        fx_unhex(it[i].id, 32, ids[i]);
        a[i].it = &it[i];
    }
    assert_rc(mm_ambition_find(a, 4, "1a2b3", idx, 2, &n), MM_OK);
    assert_int_equal(n, 1);
    assert_int_equal(idx[0], 0);
    /* ambiguous: the matches in list order */
    assert_rc(mm_ambition_find(a, 4, "1a2b", idx, 2, &n), MM_EAMBIG);
    assert_int_equal(n, 2);
    assert_int_equal(idx[0], 0);
    assert_int_equal(idx[1], 2);
    /* more than max: counted, the first max kept */
    assert_rc(mm_ambition_find(a, 4, "1a2", idx, 2, &n), MM_EAMBIG);
    assert_int_equal(n, 3);
    assert_int_equal(idx[1], 2);
    assert_rc(mm_ambition_find(a, 4, "f", idx, 2, &n), MM_OK);
    assert_int_equal(idx[0], 1);
    assert_rc(mm_ambition_find(a, 4, "1a2d", idx, 2, &n), MM_ENOTFOUND);
    assert_int_equal(n, 0);
    assert_rc(mm_ambition_find(a, 4, "1A2B", idx, 2, &n), MM_EINVAL);   /* the cli lowers it */
    assert_rc(mm_ambition_find(a, 4, "", idx, 2, &n), MM_EINVAL);
    assert_rc(mm_ambition_find(NULL, 0, "1a2b", idx, 2, &n), MM_ENOTFOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_find_by_prefix),
    };
    return cmocka_run_group_tests(tests, fx_setup_crypto, NULL);
}
