/*  test_fold.c -- Unicode simple case folding of names (core/fold.h):
 *  known CaseFolding.txt entries (C and S, and what has only F or T), the
 *  table's shape, and names compared as mm compares petnames. */
#include "fixture.h"
#include "core/fold.h"

static void test_known_entries(void **state)
{
    static const uint32_t v[][2] = {
        { 0x41, 0x61 }, { 0x5A, 0x7A }, { 0x61, 0x61 }, { 0x40, 0x40 }, { 0x5B, 0x5B },
        { 0xB5, 0x3BC }, { 0xC0, 0xE0 }, { 0xD6, 0xF6 }, { 0xD7, 0xD7 }, { 0xD8, 0xF8 },
        { 0xDE, 0xFE }, { 0xDF, 0xDF },             /* ß: F only ("ss") */
        { 0x100, 0x101 }, { 0x101, 0x101 }, { 0x12E, 0x12F },
        { 0x130, 0x130 }, { 0x131, 0x131 },         /* Turkic İ: T and F only */
        { 0x149, 0x149 }, { 0x178, 0xFF }, { 0x17F, 0x73 }, { 0x1C4, 0x1C6 },
        { 0x1C5, 0x1C6 }, { 0x345, 0x3B9 }, { 0x386, 0x3AC }, { 0x390, 0x390 },
        { 0x391, 0x3B1 }, { 0x3A3, 0x3C3 }, { 0x3C2, 0x3C3 }, { 0x3C3, 0x3C3 },
        { 0x3F4, 0x3B8 }, { 0x400, 0x450 }, { 0x401, 0x451 }, { 0x410, 0x430 },
        { 0x42F, 0x44F }, { 0x460, 0x461 }, { 0x4C0, 0x4CF }, { 0x531, 0x561 },
        { 0x10A0, 0x2D00 }, { 0x13F8, 0x13F0 }, { 0xAB70, 0x13A0 }, { 0x1E00, 0x1E01 },
        { 0x1E9E, 0xDF }, { 0x1F08, 0x1F00 }, { 0x1F88, 0x1F80 }, { 0x1FBC, 0x1FB3 },
        { 0x2126, 0x3C9 }, { 0x212A, 0x6B }, { 0x212B, 0xE5 }, { 0x2160, 0x2170 },
        { 0x24B6, 0x24D0 }, { 0xFF21, 0xFF41 }, { 0xFF3A, 0xFF5A }, { 0xFF41, 0xFF41 },
        { 0x10400, 0x10428 }, { 0x1E900, 0x1E922 }, { 0x4E00, 0x4E00 }, { 0x10FFFF, 0x10FFFF },
    };
    (void) state;
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        if (mm_fold_cp(v[i][0]) != v[i][1])
            fail_msg("fold(U+%04X) = U+%04X, want U+%04X", v[i][0], mm_fold_cp(v[i][0]),
                     v[i][1]);
    }
    assert_string_equal(mm_fold_unicode(), "14.0.0");
}

/* Folding twice is folding once, and it never leaves the code space. */
static void test_idempotent(void **state)
{
    size_t folded = 0;
    (void) state;
    for (uint32_t cp = 0; cp <= 0x10FFFF; cp++) {
        uint32_t f = mm_fold_cp(cp);
        assert_true(f <= 0x10FFFF);
        if (cp < 0xD800 || cp > 0xDFFF)
            assert_false(f >= 0xD800 && f <= 0xDFFF);
        if (mm_fold_cp(f) != f)
            fail_msg("fold(fold(U+%04X)) != fold", cp);
        folded += f != cp;
    }
    assert_int_equal(folded, 1454);     /* as tests/tools/gen_fold.py says */
}

static void test_names(void **state)
{
    (void) state;
    assert_int_equal(mm_fold_cmp("Grace", "gRACE"), 0);
    assert_int_equal(mm_fold_cmp("\xc3\x89MILE", "\xc3\xa9mile"), 0);   /* ÉMILE */
    assert_int_equal(mm_fold_cmp("\xce\xa3\xce\x9f\xce\xa6\xce\x8a\xce\x91",
                                 "\xcf\x83\xce\xbf\xcf\x86\xce\xaf\xce\xb1"), 0); /* ΣΟΦΊΑ */
    assert_int_equal(mm_fold_cmp("\xcf\x82", "\xce\xa3"), 0);             /* ς, Σ */
    assert_int_equal(mm_fold_cmp("\xd0\x9f\xd0\x81\xd0\xa2\xd0\xa0",
                                 "\xd0\xbf\xd1\x91\xd1\x82\xd1\x80"), 0); /* ПЁТР */
    assert_int_equal(mm_fold_cmp("\xe1\xba\x9e", "\xc3\x9f"), 0);         /* ẞ, ß */
    assert_int_not_equal(mm_fold_cmp("stra\xc3\x9f" "e", "STRASSE"), 0);  /* ß is not ss */
    assert_int_not_equal(mm_fold_cmp("\xc4\xb0", "i"), 0);                /* İ */
    assert_int_not_equal(mm_fold_cmp("e\xcc\x81", "\xc3\xa9"), 0);        /* not normalised */
    assert_int_not_equal(mm_fold_cmp("ada", "adam"), 0);
    assert_true(mm_fold_cmp("ada", "adam") < 0);
    assert_true(mm_fold_cmp("Bob", "alice") > 0);
    /* bytes that are not UTF-8 compare as themselves */
    assert_int_equal(mm_fold_cmp("a\xff", "A\xff"), 0);
    assert_int_not_equal(mm_fold_cmp("\xc3", "\xc3\xa9"), 0);
    assert_int_not_equal(mm_fold_cmp("\xc0\x81", "a"), 0);
    assert_int_equal(mm_fold_cmp("", ""), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_entries),
        cmocka_unit_test(test_idempotent),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, fx_setup_crypto, NULL);
}
