/*  test_encoding.c -- hex and base32 (crypto/encoding.c). */
#include "fixture.h"

#include "crypto/encoding.h"

static void test_hex(void **state)
{
    const uint8_t in[] = { 0x00, 0x01, 0xab, 0xcd, 0xef, 0xff, 0x10 };
    char hex[2 * sizeof in + 1];
    mm_encoding_hex(hex, in, sizeof in);
    assert_string_equal(hex, "0001abcdefff10");

    uint8_t out[sizeof in];
    assert_rc(mm_encoding_unhex(out, sizeof out, hex), MM_OK);
    assert_memory_equal(out, in, sizeof in);

    char empty[1];
    mm_encoding_hex(empty, in, 0);
    assert_string_equal(empty, "");

    assert_rc(mm_encoding_unhex(out, sizeof out, "0001abcdefff1"), MM_EINVAL);    /* short */
    assert_rc(mm_encoding_unhex(out, sizeof out, "0001abcdefff1000"), MM_EINVAL); /* long */
    assert_rc(mm_encoding_unhex(out, sizeof out, "0001abcdefff1g"), MM_EINVAL);
    assert_rc(mm_encoding_unhex(out, sizeof out, "0001abcd efff10"), MM_EINVAL);
    assert_rc(mm_encoding_unhex(out, 1, "zz"), MM_EINVAL);
    assert_rc(mm_encoding_unhex(out, 1, ""), MM_EINVAL);
}

/* RFC 4648, section 10, lowercase and without padding. */
static const struct { const char *in, *b32; } b32_vectors[] = {
    { "", "" },          { "f", "my" },          { "fo", "mzxq" },
    { "foo", "mzxw6" },  { "foob", "mzxw6yq" },  { "fooba", "mzxw6ytb" },
    { "foobar", "mzxw6ytboi" },
};

static void test_base32(void **state)
{
    char text[32];
    uint8_t out[16];
    size_t n;
    for (size_t i = 0; i < sizeof b32_vectors / sizeof b32_vectors[0]; i++) {
        const char *in = b32_vectors[i].in, *want = b32_vectors[i].b32;
        size_t len = strlen(in);
        assert_rc(mm_encoding_base32(text, sizeof text, (const uint8_t *) in, len), MM_OK);
        assert_string_equal(text, want);
        /* exactly the text and its NUL fit; one byte less does not */
        assert_rc(mm_encoding_base32(text, strlen(want) + 1, (const uint8_t *) in, len), MM_OK);
        assert_rc(mm_encoding_base32(text, strlen(want), (const uint8_t *) in, len), MM_ETOOBIG);

        n = 99;
        assert_rc(mm_encoding_unbase32(want, out, sizeof out, &n), MM_OK);
        assert_int_equal(n, len);
        assert_memory_equal(out, in, len);
        if (len > 0)
            assert_rc(mm_encoding_unbase32(want, out, len - 1, &n), MM_ETOOBIG);
    }

    /* upper case is accepted */
    assert_rc(mm_encoding_unbase32("MZXW6ytBOI", out, sizeof out, &n), MM_OK);
    assert_int_equal(n, 6);
    assert_memory_equal(out, "foobar", 6);

    /* outside the alphabet, padding included */
    assert_rc(mm_encoding_unbase32("my======", out, sizeof out, &n), MM_EINVAL);
    assert_rc(mm_encoding_unbase32("mzx1", out, sizeof out, &n), MM_EINVAL);
    assert_rc(mm_encoding_unbase32("mz w6", out, sizeof out, &n), MM_EINVAL);
    /* a length no encoder makes (1, 3 or 6 characters left over) */
    assert_rc(mm_encoding_unbase32("m", out, sizeof out, &n), MM_EINVAL);
    assert_rc(mm_encoding_unbase32("mzx", out, sizeof out, &n), MM_EINVAL);
    assert_rc(mm_encoding_unbase32("mzxw6ytboia", out, sizeof out, &n), MM_EINVAL);
    /* trailing bits that are not zero: "my" is "f", "mz" is not canonical */
    assert_rc(mm_encoding_unbase32("mz", out, sizeof out, &n), MM_EINVAL);
    assert_rc(mm_encoding_unbase32("mzxr", out, sizeof out, &n), MM_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hex),
        cmocka_unit_test(test_base32),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
