/*  test_cert.c -- device certificates (core/cert.h). */
#include "fixture.h"

#include "core/cert.h"

static mm_keypair_t *identity, *device, *stranger;

static int setup(void **state)
{
    if (fx_setup_crypto(state) != 0)
        return -1;
    identity = fx_keypair(1);
    device = fx_keypair(2);
    stranger = fx_keypair(3);
    return 0;
}

static int teardown(void **state)
{
    mm_keypair_destroy(&identity);
    mm_keypair_destroy(&device);
    mm_keypair_destroy(&stranger);
    return 0;
}

/* How a certificate is laid out and signed by hand, so that exactly one
 * thing can be made wrong.  created_hex, if set, is spliced in raw in place
 * of the canonical created field. */
typedef struct {
    uint64_t version;
    const uint8_t *identity_pk;
    uint32_t identity_len;
    const uint8_t *device_pk;
    uint64_t created;
    const char *created_hex;
    const char *name;
    uint32_t nfields;
    const mm_keypair_t *signer;
} hand_cert_t;

static hand_cert_t hand_default(void)
{
    hand_cert_t h = {
        .version = MM_CERT_VERSION,
        .identity_pk = mm_keypair_pk(identity),
        .identity_len = 32,
        .device_pk = mm_keypair_pk(device),
        .created = 1700000000123ull,
        .name = "laptop",
        .nfields = 6,
        .signer = identity,
    };
    return h;
}

static void hand_build(const hand_cert_t *h, fx_buf_t *t)
{
    fx_buf_init(t, 1024);
    fx_array(t, h->nfields);
    fx_uint(t, h->version);
    fx_bin(t, h->identity_pk, h->identity_len);
    fx_bin(t, h->device_pk, 32);
    if (h->created_hex)
        fx_rawhex(t, h->created_hex);
    else
        fx_uint(t, h->created);
    fx_str(t, h->name);
    uint8_t digest[32], sig[MM_SIG_BYTES];
    mm_hash(digest, t->b, t->len);
    assert_rc(mm_sign_digest(h->signer, MM_CTX_CERT, digest, sig), MM_OK);
    fx_bin(t, sig, sizeof sig);
}

static size_t make_default(uint8_t out[MM_CERT_MAX])
{
    size_t len = 0;
    assert_rc(mm_cert_make(identity, mm_keypair_pk(device), 1700000000123ull, "laptop",
                           out, MM_CERT_MAX, &len), MM_OK);
    assert_true(len > 0 && len <= MM_CERT_MAX);
    return len;
}

/* Parse a heap copy of exactly len bytes, so that ASan sees any over-read. */
static int parse_copy(const uint8_t *buf, size_t len, mm_cert_t *out)
{
    uint8_t *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, buf, len);
    int rc = mm_cert_parse(copy, len, out);
    free(copy);
    return rc;
}

static void test_round_trip(void **state)
{
    uint8_t buf[MM_CERT_MAX];
    size_t len = make_default(buf);
    mm_cert_t c;
    memset(&c, 0xee, sizeof c);
    assert_rc(mm_cert_parse(buf, len, &c), MM_OK);
    assert_memory_equal(c.identity, mm_keypair_pk(identity), 32);
    assert_memory_equal(c.device, mm_keypair_pk(device), 32);
    assert_true(c.created == 1700000000123ull);
    assert_string_equal(c.name, "laptop");
    assert_memory_equal(c.sig, buf + len - MM_SIG_BYTES, MM_SIG_BYTES);

    /* the documented layout and signature */
    assert_int_equal(buf[0], 0x96);
    assert_int_equal(buf[1], MM_CERT_VERSION);
    uint8_t digest[32];
    mm_hash(digest, buf, len - 2 - MM_SIG_BYTES);
    assert_rc(mm_verify_digest(mm_keypair_pk(identity), MM_CTX_CERT, digest, c.sig), MM_OK);

    /* the hand-built form is byte for byte the same */
    hand_cert_t h = hand_default();
    fx_buf_t t;
    hand_build(&h, &t);
    assert_int_equal(t.len, len);
    assert_memory_equal(t.b, buf, len);
    fx_buf_free(&t);

    /* names at both ends of the allowed range */
    char name64[MM_DEVNAME_MAX + 1];
    memset(name64, 'n', MM_DEVNAME_MAX);
    name64[MM_DEVNAME_MAX] = '\0';
    const char *names[] = { "", "x", name64, "téléphone" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        assert_rc(mm_cert_make(identity, mm_keypair_pk(device), 0, names[i],
                               buf, sizeof buf, &len), MM_OK);
        assert_rc(parse_copy(buf, len, &c), MM_OK);
        assert_string_equal(c.name, names[i]);
        assert_true(c.created == 0);
    }
    /* a certificate of the largest shape fits MM_CERT_MAX */
    assert_rc(mm_cert_make(identity, mm_keypair_pk(device), UINT64_MAX, name64,
                           buf, sizeof buf, &len), MM_OK);
    assert_rc(parse_copy(buf, len, &c), MM_OK);
    assert_true(c.created == UINT64_MAX);
}

static void test_make_errors(void **state)
{
    uint8_t buf[MM_CERT_MAX + 16];
    size_t len = 0;
    char name65[MM_DEVNAME_MAX + 2];
    memset(name65, 'n', MM_DEVNAME_MAX + 1);
    name65[MM_DEVNAME_MAX + 1] = '\0';
    assert_rc(mm_cert_make(identity, mm_keypair_pk(device), 1, name65,
                           buf, sizeof buf, &len), MM_EINVAL);

    size_t need = make_default(buf);
    assert_rc(mm_cert_make(identity, mm_keypair_pk(device), 1700000000123ull, "laptop",
                           buf, need - 1, &len), MM_ETOOBIG);
    assert_rc(mm_cert_make(identity, mm_keypair_pk(device), 1700000000123ull, "laptop",
                           buf, 0, &len), MM_ETOOBIG);
    assert_rc(mm_cert_make(identity, mm_keypair_pk(device), 1700000000123ull, "laptop",
                           buf, need, &len), MM_OK);
    assert_int_equal(len, need);
}

static void test_bad_signature(void **state)
{
    uint8_t buf[MM_CERT_MAX];
    size_t len = make_default(buf);
    mm_cert_t c;

    /* any single byte of the signature */
    for (size_t i = len - MM_SIG_BYTES; i < len; i++) {
        buf[i] ^= 0x01;
        assert_rc(parse_copy(buf, len, &c), MM_EBADSIG);
        buf[i] ^= 0x01;
    }
    /* a signed field changed to another valid value: the device key, the
     * time, the name */
    size_t dev_at = 2 + 34 + 2;
    buf[dev_at] ^= 0x01;
    assert_rc(parse_copy(buf, len, &c), MM_EBADSIG);
    buf[dev_at] ^= 0x01;
    buf[len - 2 - MM_SIG_BYTES - 1] ^= 0x01;        /* last char of the name */
    assert_rc(parse_copy(buf, len, &c), MM_EBADSIG);
    buf[len - 2 - MM_SIG_BYTES - 1] ^= 0x01;
    assert_rc(parse_copy(buf, len, &c), MM_OK);

    /* signed by someone other than the identity it names */
    hand_cert_t h = hand_default();
    h.signer = stranger;
    fx_buf_t t;
    hand_build(&h, &t);
    assert_rc(parse_copy(t.b, t.len, &c), MM_EBADSIG);
    fx_buf_free(&t);

    /* signed under the entry context instead of the cert context */
    uint8_t digest[32], sig[MM_SIG_BYTES];
    mm_hash(digest, buf, len - 2 - MM_SIG_BYTES);
    mm_sign_digest(identity, MM_CTX_ENTRY, digest, sig);
    memcpy(buf + len - MM_SIG_BYTES, sig, MM_SIG_BYTES);
    assert_rc(parse_copy(buf, len, &c), MM_EBADSIG);
}

static void test_trailing_truncated_oversize(void **state)
{
    uint8_t buf[MM_CERT_MAX + 2];
    size_t len = make_default(buf);
    mm_cert_t c;

    buf[len] = 0x00;
    assert_rc(parse_copy(buf, len + 1, &c), MM_ETRAILING);
    buf[len] = 0xc0;
    assert_rc(parse_copy(buf, len + 1, &c), MM_ETRAILING);

    for (size_t k = 0; k < len; k++)
        assert_rc(parse_copy(buf, k, &c), MM_ETRUNC);

    /* larger than any certificate can be: refused before parsing */
    uint8_t *big = calloc(1, MM_CERT_MAX + 1);
    assert_non_null(big);
    memcpy(big, buf, len);
    assert_rc(mm_cert_parse(big, MM_CERT_MAX + 1, &c), MM_ETOOBIG);
    free(big);
    big = calloc(1, 1 << 20);
    assert_non_null(big);
    assert_rc(mm_cert_parse(big, 1 << 20, &c), MM_ETOOBIG);
    free(big);
}

static void test_version_and_shape(void **state)
{
    mm_cert_t c;
    fx_buf_t t;

    /* correctly signed in every respect but the version */
    hand_cert_t h = hand_default();
    h.version = 2;
    hand_build(&h, &t);
    assert_rc(parse_copy(t.b, t.len, &c), MM_EVERSION);
    fx_buf_free(&t);
    h.version = 0;
    hand_build(&h, &t);
    assert_rc(parse_copy(t.b, t.len, &c), MM_EVERSION);
    fx_buf_free(&t);

    /* the control: the builder makes valid certificates */
    h = hand_default();
    hand_build(&h, &t);
    assert_rc(parse_copy(t.b, t.len, &c), MM_OK);
    fx_buf_free(&t);

    /* a small time in a wider form than needed, re-signed */
    h = hand_default();
    h.created_hex = "cc 05";
    hand_build(&h, &t);
    assert_rc(parse_copy(t.b, t.len, &c), MM_ENONCANON);
    fx_buf_free(&t);
    h.created_hex = "05";                           /* control */
    hand_build(&h, &t);
    assert_rc(parse_copy(t.b, t.len, &c), MM_OK);
    assert_true(c.created == 5);
    fx_buf_free(&t);

    /* a 31-byte identity key */
    h = hand_default();
    h.identity_len = 31;
    hand_build(&h, &t);
    assert_rc(parse_copy(t.b, t.len, &c), MM_EMALFORMED);
    fx_buf_free(&t);

    /* a negative time */
    h = hand_default();
    h.created_hex = "ff";
    hand_build(&h, &t);
    assert_rc(parse_copy(t.b, t.len, &c), MM_EMALFORMED);
    fx_buf_free(&t);

    /* a signed name one byte longer than allowed, in a cert small enough */
    char name65[MM_DEVNAME_MAX + 2];
    memset(name65, 'n', MM_DEVNAME_MAX + 1);
    name65[MM_DEVNAME_MAX + 1] = '\0';
    h = hand_default();
    h.created = 5;
    h.name = name65;
    hand_build(&h, &t);
    assert_true(t.len <= MM_CERT_MAX);
    assert_rc(parse_copy(t.b, t.len, &c), MM_EMALFORMED);
    fx_buf_free(&t);

    /* not an array of 6 */
    uint8_t buf[MM_CERT_MAX];
    size_t len = make_default(buf);
    buf[0] = 0x95;
    assert_rc(parse_copy(buf, len, &c), MM_EMALFORMED);
    buf[0] = 0x86;
    assert_rc(parse_copy(buf, len, &c), MM_EMALFORMED);
}

/* mm_cert_decode: the same parser without the signature check, for
 * certificates already admitted to the store. */
static void test_decode_without_sig(void **state)
{
    uint8_t buf[MM_CERT_MAX + 1];
    size_t len = make_default(buf);
    mm_cert_t c;
    memset(&c, 0, sizeof c);
    buf[len - 1] ^= 0x01;
    assert_rc(mm_cert_parse(buf, len, &c), MM_EBADSIG);
    assert_rc(mm_cert_decode(buf, len, &c), MM_OK);
    assert_memory_equal(c.identity, mm_keypair_pk(identity), 32);
    assert_memory_equal(c.device, mm_keypair_pk(device), 32);
    assert_string_equal(c.name, "laptop");
    assert_memory_equal(c.sig, buf + len - MM_SIG_BYTES, MM_SIG_BYTES);

    /* everything but the signature is still checked */
    for (size_t k = 0; k < len; k++)
        assert_rc(mm_cert_decode(buf, k, &c), MM_ETRUNC);
    buf[len] = 0;
    assert_rc(mm_cert_decode(buf, len + 1, &c), MM_ETRAILING);
    hand_cert_t h = hand_default();
    h.version = 2;
    fx_buf_t t;
    hand_build(&h, &t);
    assert_rc(mm_cert_decode(t.b, t.len, &c), MM_EVERSION);
    fx_buf_free(&t);
    h = hand_default();
    h.created_hex = "cc 05";
    hand_build(&h, &t);
    assert_rc(mm_cert_decode(t.b, t.len, &c), MM_ENONCANON);
    fx_buf_free(&t);
    uint8_t big[MM_CERT_MAX + 1] = { 0 };
    assert_rc(mm_cert_decode(big, sizeof big, &c), MM_ETOOBIG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_make_errors),
        cmocka_unit_test(test_bad_signature),
        cmocka_unit_test(test_trailing_truncated_oversize),
        cmocka_unit_test(test_version_and_shape),
        cmocka_unit_test(test_decode_without_sig),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
