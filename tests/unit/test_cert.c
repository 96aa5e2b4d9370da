/*  test_cert.c -- device certificates (core/cert.h), and finding them by
 *  the X25519 key a CURVE client proves (the curves index, store format 2,
 *  and the migration of a format-1 store). */
#include "fixture.h"

#include <sys/types.h>
#include <sys/wait.h>

#include "core/cert.h"
#include "core/meta.h"

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
        .version = 1,               /* the layout below is version 1's */
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
    assert_rc(mm_cert_make_v1(identity, mm_keypair_pk(device), 1700000000123ull, "laptop",
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
    assert_int_equal(buf[1], 1);
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
        assert_rc(mm_cert_make(identity, device, 0, names[i], 0,
                               buf, sizeof buf, &len), MM_OK);
        assert_rc(parse_copy(buf, len, &c), MM_OK);
        assert_string_equal(c.name, names[i]);
        assert_true(c.created == 0);
    }
    /* a certificate of the largest shape fits MM_CERT_MAX */
    assert_rc(mm_cert_make(identity, device, UINT64_MAX, name64, 0,
                           buf, sizeof buf, &len), MM_OK);
    assert_rc(parse_copy(buf, len, &c), MM_OK);
    assert_true(c.created == UINT64_MAX);
}

/* Version 2: the device's own proof comes before the identity's signature,
 * and a certificate without a valid proof is never made nor admitted. */
static void test_v2_proof(void **state)
{
    (void) state;
    uint8_t buf[MM_CERT_MAX], devsig[MM_SIG_BYTES];
    size_t len = 0;
    mm_cert_t c;
    assert_rc(mm_cert_make(identity, device, 1700000000123ull, "laptop", MM_CERT_IDENTITY,
                           buf, sizeof buf, &len), MM_OK);
    assert_int_equal(buf[0], 0x98);
    assert_int_equal(buf[1], 2);
    assert_rc(mm_cert_parse(buf, len, &c), MM_OK);
    assert_int_equal(c.version, 2);
    assert_int_equal(c.flags, MM_CERT_IDENTITY);
    assert_true(mm_cert_proven(&c));
    assert_string_equal(c.name, "laptop");
    /* the documented layout: devsig over the array header, the version and
     * the two keys; sig over the bytes before sig (devsig included) */
    uint8_t digest[32];
    size_t siglen = 2 + MM_SIG_BYTES;
    mm_hash(digest, buf, 2 + 2 * 34);
    assert_rc(mm_verify_digest(mm_keypair_pk(device), MM_CTX_DEVICE, digest, c.devsig), MM_OK);
    mm_hash(digest, buf, len - siglen);
    assert_rc(mm_verify_digest(mm_keypair_pk(identity), MM_CTX_CERT, digest, c.sig), MM_OK);

    /* split across two holders: the device asks, the identity completes */
    uint8_t buf2[MM_CERT_MAX];
    size_t len2 = 0;
    assert_rc(mm_cert_request(device, mm_keypair_pk(identity), devsig), MM_OK);
    assert_rc(mm_cert_complete(identity, mm_keypair_pk(device), 1700000000123ull, "laptop",
                               MM_CERT_IDENTITY, devsig, buf2, sizeof buf2, &len2), MM_OK);
    assert_int_equal(len2, len);
    assert_memory_equal(buf2, buf, len);
    /* the identity restates name, time and flags with the same proof (a
     * rename); a proof for another identity, or by another key, is refused */
    assert_rc(mm_cert_complete(identity, mm_keypair_pk(device), 1700000000999ull, "renamed",
                               0, devsig, buf2, sizeof buf2, &len2), MM_OK);
    assert_rc(mm_cert_parse(buf2, len2, &c), MM_OK);
    assert_string_equal(c.name, "renamed");
    assert_rc(mm_cert_complete(stranger, mm_keypair_pk(device), 1700000000123ull, "laptop",
                               MM_CERT_IDENTITY, devsig, buf2, sizeof buf2, &len2), MM_EBADSIG);
    assert_rc(mm_cert_complete(identity, mm_keypair_pk(stranger), 1700000000123ull, "laptop",
                               MM_CERT_IDENTITY, devsig, buf2, sizeof buf2, &len2), MM_EBADSIG);
    assert_rc(mm_cert_complete(identity, mm_keypair_pk(device), 1, "x", MM_CERT_FLAGS_MAX + 1,
                               devsig, buf2, sizeof buf2, &len2), MM_EINVAL);
    assert_rc(mm_cert_make(identity, device, 1700000000123ull, "laptop", MM_CERT_IDENTITY,
                           buf, sizeof buf, &len), MM_OK);
    /* a flipped byte in the proof or in the signature */
    for (size_t at = len - 2 * siglen + 2; at < len; at += 17) {
        buf[at] ^= 0x01;
        assert_rc(mm_cert_parse(buf, len, &c), MM_EBADSIG);
        assert_rc(mm_cert_decode(buf, len, &c), MM_OK);
        buf[at] ^= 0x01;
    }
    /* a version-1 certificate parses, and is not proven */
    assert_rc(mm_cert_make_v1(identity, mm_keypair_pk(device), 1, "old", buf, sizeof buf, &len),
              MM_OK);
    assert_rc(mm_cert_parse(buf, len, &c), MM_OK);
    assert_int_equal(c.version, 1);
    assert_false(mm_cert_proven(&c));
    /* a version that does not match the shape */
    assert_rc(mm_cert_make(identity, device, 1, "d", 0, buf, sizeof buf, &len), MM_OK);
    buf[1] = 1;
    assert_rc(mm_cert_parse(buf, len, &c), MM_EMALFORMED);
    buf[1] = 3;
    assert_rc(mm_cert_parse(buf, len, &c), MM_EVERSION);
}

static void test_make_errors(void **state)
{
    uint8_t buf[MM_CERT_MAX + 16];
    size_t len = 0;
    char name65[MM_DEVNAME_MAX + 2];
    memset(name65, 'n', MM_DEVNAME_MAX + 1);
    name65[MM_DEVNAME_MAX + 1] = '\0';
    assert_rc(mm_cert_make(identity, device, 1, name65, 0,
                           buf, sizeof buf, &len), MM_EINVAL);

    size_t need = 0;
    assert_rc(mm_cert_make(identity, device, 1700000000123ull, "laptop", 0,
                           buf, sizeof buf, &need), MM_OK);
    assert_rc(mm_cert_make(identity, device, 1700000000123ull, "laptop", 0,
                           buf, need - 1, &len), MM_ETOOBIG);
    assert_rc(mm_cert_make(identity, device, 1700000000123ull, "laptop", 0,
                           buf, 0, &len), MM_ETOOBIG);
    assert_rc(mm_cert_make(identity, device, 1700000000123ull, "laptop", 0,
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
    assert_rc(mm_sign_digest(identity, MM_CTX_ENTRY, digest, sig), MM_OK);
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
    h.version = 2;                  /* version 2 in version 1's shape */
    hand_build(&h, &t);
    assert_rc(parse_copy(t.b, t.len, &c), MM_EMALFORMED);
    fx_buf_free(&t);
    h.version = 3;
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
    h.version = 3;
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

/* ---- by CURVE key ------------------------------------------------------- */

typedef struct {
    size_t n;
    mm_cert_t c[4];
    int stop_at;                        /* return 7 at this call (1-based), 0: never */
} seen_certs_t;

static int see_cert(const mm_cert_t *c, const uint8_t *raw, size_t len, void *arg)
{
    seen_certs_t *s = arg;
    mm_cert_t back;
    assert_rc(mm_cert_decode(raw, len, &back), MM_OK);
    assert_memory_equal(back.device, c->device, 32);
    if (s->n < 4)
        s->c[s->n] = *c;
    s->n++;
    return s->stop_at && (int) s->n == s->stop_at ? 7 : 0;
}

static int put_cert_rc(mm_store_t *st, const mm_keypair_t *id, const uint8_t device_pk[32])
{
    uint8_t buf[MM_CERT_MAX];
    size_t len;
    mm_txn_t *txn;
    assert_rc(mm_cert_make_v1(id, device_pk, 1700000000123ull, "d", buf, sizeof buf, &len), MM_OK);
    assert_rc(mm_store_begin(st, 1, &txn), MM_OK);
    int rc = mm_cert_put(txn, buf, len, NULL);
    if (rc == MM_OK)
        rc = mm_txn_commit(&txn);
    mm_txn_abort(&txn);
    return rc;
}

static void put_cert(mm_store_t *st, const mm_keypair_t *id, const uint8_t device_pk[32])
{
    assert_rc(put_cert_rc(st, id, device_pk), MM_OK);
}

static int by_curve(mm_store_t *st, const uint8_t device_pk[32], seen_certs_t *seen)
{
    uint8_t x[32];
    mm_txn_t *txn;
    assert_rc(mm_pk_to_x25519(x, device_pk), MM_OK);
    memset(seen, 0, sizeof *seen);
    assert_rc(mm_store_begin(st, 0, &txn), MM_OK);
    int rc = mm_cert_by_curve(txn, x, see_cert, seen);
    mm_txn_abort(&txn);
    return rc;
}

/* How many rows mm_cert_reindex finds missing (and adds). */
static size_t missing_rows(mm_store_t *st)
{
    mm_txn_t *txn;
    size_t added = 12345;
    assert_rc(mm_store_begin(st, 1, &txn), MM_OK);
    assert_rc(mm_cert_reindex(txn, &added), MM_OK);
    assert_rc(mm_txn_commit(&txn), MM_OK);
    return added;
}

static unsigned store_format(mm_store_t *st)
{
    mm_txn_t *txn;
    const uint8_t *v;
    size_t n;
    assert_rc(mm_store_begin(st, 0, &txn), MM_OK);
    assert_rc(mm_meta_get(txn, "format", &v, &n), MM_OK);
    assert_int_equal(n, 1);
    unsigned f = v[0];
    mm_txn_abort(&txn);
    return f;
}

static void set_format(mm_store_t *st, uint8_t f)
{
    mm_txn_t *txn;
    assert_rc(mm_store_begin(st, 1, &txn), MM_OK);
    assert_rc(mm_meta_put(txn, "format", &f, 1), MM_OK);
    assert_rc(mm_txn_commit(&txn), MM_OK);
}

/* A store as mm wrote it before format 2 (MM_STORE_FORMAT_ENV): the same
 * code, without the curves table. */
static void old_store_new(fx_store_t *fs)
{
    setenv(MM_STORE_FORMAT_ENV, "1", 1);
    fx_store_new(fs);
    unsetenv(MM_STORE_FORMAT_ENV);
}

static void test_by_curve(void **state)
{
    fx_store_t fs;
    seen_certs_t seen;
    uint8_t neg[32], bad[32] = { 1 };   /* 1, 0...: the neutral point, no X25519 form */
    fx_store_new(&fs);
    assert_int_equal(store_format(fs.store), MM_STORE_FORMAT);
    put_cert(fs.store, identity, mm_keypair_pk(device));

    assert_rc(by_curve(fs.store, mm_keypair_pk(device), &seen), MM_OK);
    assert_int_equal(seen.n, 1);
    assert_memory_equal(seen.c[0].identity, mm_keypair_pk(identity), 32);
    assert_memory_equal(seen.c[0].device, mm_keypair_pk(device), 32);
    assert_rc(by_curve(fs.store, mm_keypair_pk(stranger), &seen), MM_ENOTFOUND);
    assert_int_equal(seen.n, 0);
    assert_int_equal(missing_rows(fs.store), 0);

    /* the stranger certifies the negation of our device key: another
     * device with the same X25519 form, which a lookup must not hide */
    memcpy(neg, mm_keypair_pk(device), 32);
    neg[31] ^= 0x80;
    uint8_t x1[32], x2[32];
    assert_rc(mm_pk_to_x25519(x1, mm_keypair_pk(device)), MM_OK);
    assert_rc(mm_pk_to_x25519(x2, neg), MM_OK);
    assert_memory_equal(x1, x2, 32);
    put_cert(fs.store, stranger, neg);
    assert_rc(by_curve(fs.store, mm_keypair_pk(device), &seen), MM_OK);
    assert_int_equal(seen.n, 2);
    int mine = memcmp(seen.c[0].device, mm_keypair_pk(device), 32) == 0 ? 0 : 1;
    assert_memory_equal(seen.c[mine].identity, mm_keypair_pk(identity), 32);
    assert_memory_equal(seen.c[1 - mine].identity, mm_keypair_pk(stranger), 32);
    assert_memory_equal(seen.c[1 - mine].device, neg, 32);
    assert_true(memcmp(seen.c[0].device, seen.c[1].device, 32) < 0);    /* device order */

    /* non-zero from fn stops the walk and is returned */
    mm_txn_t *txn;
    memset(&seen, 0, sizeof seen);
    seen.stop_at = 1;
    assert_rc(mm_store_begin(fs.store, 0, &txn), MM_OK);
    assert_int_equal(mm_cert_by_curve(txn, x1, see_cert, &seen), 7);
    mm_txn_abort(&txn);
    assert_int_equal(seen.n, 1);

    /* a device key with no X25519 form is stored, with no row to miss */
    assert_rc(mm_pk_to_x25519(x2, bad), MM_EINVAL);
    put_cert(fs.store, stranger, bad);
    assert_int_equal(missing_rows(fs.store), 0);
    assert_int_equal(fx_store_done(&fs), 0);
}

/* A certificate stored byte for byte is not verified again (PROTOCOL.md
 * 3.1); any other bytes are, and the curves index answers whose X25519
 * form a stored device key has. */
static void test_check_held(void **state)
{
    fx_store_t fs;
    mm_txn_t *txn;
    mm_cert_t c;
    uint8_t buf[MM_CERT_MAX], x[32], xs[32];
    int held = 7;
    size_t len = make_default(buf);
    fx_store_new(&fs);
    assert_rc(mm_store_begin(fs.store, 0, &txn), MM_OK);
    assert_rc(mm_cert_check(txn, buf, len, &c, &held), MM_OK);
    assert_int_equal(held, 0);                      /* not stored yet: verified */
    buf[len - 1] ^= 0x01;
    assert_rc(mm_cert_check(txn, buf, len, &c, &held), MM_EBADSIG);
    buf[len - 1] ^= 0x01;
    mm_txn_abort(&txn);

    assert_rc(mm_store_begin(fs.store, 1, &txn), MM_OK);
    assert_rc(mm_cert_put(txn, buf, len, NULL), MM_OK);
    assert_rc(mm_txn_commit(&txn), MM_OK);
    assert_rc(mm_store_begin(fs.store, 0, &txn), MM_OK);
    assert_rc(mm_cert_check(txn, buf, len, &c, &held), MM_OK);
    assert_int_equal(held, 1);
    assert_memory_equal(c.identity, mm_keypair_pk(identity), 32);
    assert_memory_equal(c.device, mm_keypair_pk(device), 32);
    assert_string_equal(c.name, "laptop");
    /* other bytes for the same device are checked: a bad signature is bad */
    buf[len - 1] ^= 0x01;
    held = 7;
    assert_rc(mm_cert_check(txn, buf, len, &c, &held), MM_EBADSIG);
    assert_int_equal(held, 0);
    buf[len - 1] ^= 0x01;
    /* a shape error is found before any lookup */
    assert_rc(mm_cert_check(txn, buf, len - 1, &c, &held), MM_ETRUNC);

    assert_rc(mm_pk_to_x25519(x, mm_keypair_pk(device)), MM_OK);
    assert_rc(mm_pk_to_x25519(xs, mm_keypair_pk(stranger)), MM_OK);
    assert_int_equal(mm_cert_curve_is(txn, x, mm_keypair_pk(device)), 1);
    assert_int_equal(mm_cert_curve_is(txn, xs, mm_keypair_pk(device)), 0);
    assert_int_equal(mm_cert_curve_held(txn, x), 1);
    assert_int_equal(mm_cert_curve_held(txn, xs), 0);
    /* not stored: computed */
    assert_int_equal(mm_cert_curve_is(txn, xs, mm_keypair_pk(stranger)), 1);
    assert_int_equal(mm_cert_curve_is(txn, x, mm_keypair_pk(stranger)), 0);
    mm_txn_abort(&txn);
    assert_int_equal(fx_store_done(&fs), 0);
}

static void test_format_1_migrates(void **state)
{
    fx_store_t fs, other;
    seen_certs_t seen;
    mm_keypair_t *d2 = fx_keypair(4), *d3 = fx_keypair(5);
    old_store_new(&fs);
    assert_int_equal(store_format(fs.store), 1);
    put_cert(fs.store, identity, mm_keypair_pk(device));
    put_cert(fs.store, stranger, mm_keypair_pk(d2));
    put_cert(fs.store, stranger, mm_keypair_pk(d3));
    mm_store_close(&fs.store);

    /* read-only: nothing is written, and lookups walk the certificates */
    assert_rc(mm_store_open(fs.dir, MM_STORE_RDONLY, &fs.store), MM_OK);
    assert_int_equal(store_format(fs.store), 1);
    assert_rc(by_curve(fs.store, mm_keypair_pk(d2), &seen), MM_OK);
    assert_int_equal(seen.n, 1);
    assert_memory_equal(seen.c[0].identity, mm_keypair_pk(stranger), 32);
    assert_rc(by_curve(fs.store, mm_keypair_pk(identity), &seen), MM_ENOTFOUND);
    mm_store_close(&fs.store);

    /* opened for writing it becomes the current format, every row there */
    assert_rc(mm_store_open(fs.dir, 0, &fs.store), MM_OK);
    assert_int_equal(store_format(fs.store), MM_STORE_FORMAT);
    assert_int_equal(missing_rows(fs.store), 0);
    assert_rc(by_curve(fs.store, mm_keypair_pk(device), &seen), MM_OK);
    assert_int_equal(seen.n, 1);
    assert_memory_equal(seen.c[0].identity, mm_keypair_pk(identity), 32);
    assert_rc(by_curve(fs.store, mm_keypair_pk(d3), &seen), MM_OK);
    assert_int_equal(seen.n, 1);
    mm_store_close(&fs.store);

    /* read-only again, through the index; mm before format 2 refuses it */
    assert_rc(mm_store_open(fs.dir, MM_STORE_RDONLY, &fs.store), MM_OK);
    assert_rc(by_curve(fs.store, mm_keypair_pk(d2), &seen), MM_OK);
    mm_store_close(&fs.store);
    setenv(MM_STORE_FORMAT_ENV, "1", 1);
    assert_rc(mm_store_open(fs.dir, 0, &fs.store), MM_EVERSION);
    unsetenv(MM_STORE_FORMAT_ENV);

    /* a newer format is refused */
    assert_rc(mm_store_open(fs.dir, 0, &fs.store), MM_OK);
    set_format(fs.store, MM_STORE_FORMAT + 1);
    mm_store_close(&fs.store);
    assert_rc(mm_store_open(fs.dir, 0, &fs.store), MM_EVERSION);
    assert_rc(mm_store_open(fs.dir, MM_STORE_RDONLY, &fs.store), MM_EVERSION);
    assert_null(fs.store);
    assert_int_equal(fx_rmrf(fs.dir), 0);

    /* format 2 without its index is damage, not an old store */
    old_store_new(&other);
    set_format(other.store, 2);
    mm_store_close(&other.store);
    assert_rc(mm_store_open(other.dir, MM_STORE_RDONLY, &other.store), MM_ECORRUPT);
    assert_rc(mm_store_open(other.dir, 0, &other.store), MM_ECORRUPT);
    assert_int_equal(fx_store_done(&other), 0);

    mm_keypair_destroy(&d2);
    mm_keypair_destroy(&d3);
}

/* mm serve of before format 2, left running across the upgrade: it had
 * the store open when another mm migrated it, and goes on storing
 * certificates without their rows.  mm_cert_reindex adds them. */
static void test_reindex_repairs(void **state)
{
    fx_store_t fs;
    seen_certs_t seen;
    mm_keypair_t *d2 = fx_keypair(6);
    int opened[2], migrated[2];
    uint8_t buf[MM_CERT_MAX];
    size_t len;
    char c;
    assert_rc(mm_cert_make(stranger, d2, 1, "old", 0, buf, sizeof buf, &len), MM_OK);
    old_store_new(&fs);
    put_cert(fs.store, identity, mm_keypair_pk(device));
    mm_store_close(&fs.store);
    assert_int_equal(pipe(opened), 0);
    assert_int_equal(pipe(migrated), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {                     /* the old mm: no cmocka asserts here */
        mm_store_t *st = NULL;
        mm_txn_t *txn = NULL;
        setenv(MM_STORE_FORMAT_ENV, "1", 1);
        if (mm_store_open(fs.dir, 0, &st) != MM_OK || write(opened[1], "o", 1) != 1
            || read(migrated[0], &c, 1) != 1)
            _exit(2);
        int rc = mm_store_begin(st, 1, &txn);
        if (rc == MM_OK && (rc = mm_cert_put(txn, buf, len, NULL)) == MM_OK)
            rc = mm_txn_commit(&txn);
        mm_txn_abort(&txn);
        mm_store_close(&st);
        _exit(rc == MM_OK ? 0 : 3);
    }
    assert_int_equal(read(opened[0], &c, 1), 1);
    assert_rc(mm_store_open(fs.dir, 0, &fs.store), MM_OK);         /* migrates */
    assert_int_equal(store_format(fs.store), MM_STORE_FORMAT);
    assert_int_equal(write(migrated[1], "m", 1), 1);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    for (int i = 0; i < 2; i++) {
        close(opened[i]);
        close(migrated[i]);
    }

    /* the old writer's certificate is stored, without its row */
    mm_txn_t *txn;
    mm_cert_t got;
    assert_rc(mm_store_begin(fs.store, 0, &txn), MM_OK);
    assert_rc(mm_cert_get(txn, mm_keypair_pk(d2), &got, NULL, NULL), MM_OK);
    mm_txn_abort(&txn);
    assert_rc(by_curve(fs.store, mm_keypair_pk(d2), &seen), MM_ENOTFOUND);
    assert_int_equal(missing_rows(fs.store), 1);
    assert_rc(by_curve(fs.store, mm_keypair_pk(d2), &seen), MM_OK);
    assert_int_equal(seen.n, 1);
    assert_memory_equal(seen.c[0].identity, mm_keypair_pk(stranger), 32);
    assert_int_equal(missing_rows(fs.store), 0);
    mm_keypair_destroy(&d2);
    assert_int_equal(fx_store_done(&fs), 0);
}

/* Many certificates (a hostile peer may send tens of thousands): each has
 * its row, each lookup finds its own, and a format-1 store of that many
 * migrates.  No timing here; a lookup reads one key of the index and one
 * certificate. */
#define MANY 10000

typedef struct {
    uint8_t pk[32];
    uint8_t cert[MM_CERT_MAX];
    size_t  len;
} many_t;

static void put_many(mm_store_t *st, const many_t *m)
{
    mm_txn_t *txn;
    assert_rc(mm_store_begin(st, 1, &txn), MM_OK);
    for (uint32_t i = 0; i < MANY; i++)
        assert_rc(mm_cert_put(txn, m[i].cert, m[i].len, NULL), MM_OK);
    assert_rc(mm_txn_commit(&txn), MM_OK);
    put_cert(st, identity, mm_keypair_pk(device));
}

static void probe_many(mm_store_t *st, const many_t *m)
{
    seen_certs_t seen;
    const uint32_t probe[] = { 0, 1, MANY / 2, MANY - 1 };
    assert_rc(by_curve(st, mm_keypair_pk(device), &seen), MM_OK);
    assert_int_equal(seen.n, 1);
    assert_memory_equal(seen.c[0].identity, mm_keypair_pk(identity), 32);
    for (size_t i = 0; i < sizeof probe / sizeof probe[0]; i++) {
        assert_rc(by_curve(st, m[probe[i]].pk, &seen), MM_OK);
        assert_int_equal(seen.n, 1);
        assert_memory_equal(seen.c[0].device, m[probe[i]].pk, 32);
        assert_true(seen.c[0].created == probe[i]);
    }
    assert_rc(by_curve(st, mm_keypair_pk(stranger), &seen), MM_ENOTFOUND);
}

static void test_by_curve_many(void **state)
{
    fx_store_t fs;
    many_t *m = malloc(MANY * sizeof *m);
    mm_keypair_t *who = NULL;
    assert_non_null(m);
    for (uint32_t i = 0; i < MANY; i++) {
        uint8_t seed[MM_SEED_BYTES] = { 0xee };
        memcpy(seed + 1, &i, sizeof i);
        mm_keypair_t *d = mm_keypair_new_from_seed(seed);
        assert_non_null(d);
        memcpy(m[i].pk, mm_keypair_pk(d), 32);
        mm_keypair_destroy(&d);
        if (i % MM_CERT_PER_IDENTITY == 0) {    /* as many identities as the cap needs */
            uint8_t iseed[MM_SEED_BYTES] = { 0xef };
            memcpy(iseed + 1, &i, sizeof i);
            mm_keypair_destroy(&who);
            assert_non_null(who = mm_keypair_new_from_seed(iseed));
        }
        assert_rc(mm_cert_make_v1(who, m[i].pk, i, "d", m[i].cert, sizeof m[i].cert,
                               &m[i].len), MM_OK);
    }
    mm_keypair_destroy(&who);

    fx_store_new(&fs);
    put_many(fs.store, m);
    assert_int_equal(missing_rows(fs.store), 0);    /* as many rows as certificates */
    probe_many(fs.store, m);
    assert_int_equal(fx_store_done(&fs), 0);

    old_store_new(&fs);
    put_many(fs.store, m);
    mm_store_close(&fs.store);
    assert_rc(mm_store_open(fs.dir, 0, &fs.store), MM_OK);         /* migrates */
    assert_int_equal(store_format(fs.store), MM_STORE_FORMAT);
    assert_int_equal(missing_rows(fs.store), 0);
    probe_many(fs.store, m);
    assert_int_equal(fx_store_done(&fs), 0);
    free(m);
}

/* One identity's certificates are capped (PROTOCOL.md 3.1): the 65th new
 * device is MM_ETOOMANY and nothing of it is stored; a newer certificate
 * of a device already stored (a rename) still replaces the older, and
 * another identity is not held back by the first's count. */
static void test_cap_per_identity(void **state)
{
    fx_store_t fs;
    uint8_t pk[MM_CERT_PER_IDENTITY + 1][32];
    (void) state;
    fx_store_new(&fs);
    for (uint32_t i = 0; i <= MM_CERT_PER_IDENTITY; i++) {
        uint8_t seed[MM_SEED_BYTES] = { 0xcc };
        memcpy(seed + 1, &i, sizeof i);
        mm_keypair_t *d = mm_keypair_new_from_seed(seed);
        assert_non_null(d);
        memcpy(pk[i], mm_keypair_pk(d), 32);
        mm_keypair_destroy(&d);
    }
    for (uint32_t i = 0; i < MM_CERT_PER_IDENTITY; i++)
        put_cert(fs.store, stranger, pk[i]);
    assert_rc(put_cert_rc(fs.store, stranger, pk[MM_CERT_PER_IDENTITY]), MM_ETOOMANY);

    mm_txn_t *txn;
    mm_cert_t got;
    unsigned n;
    assert_rc(mm_store_begin(fs.store, 0, &txn), MM_OK);
    assert_rc(mm_cert_get(txn, pk[MM_CERT_PER_IDENTITY], &got, NULL, NULL), MM_ENOTFOUND);
    assert_rc(mm_cert_count(txn, mm_keypair_pk(stranger), &n), MM_OK);
    assert_int_equal(n, MM_CERT_PER_IDENTITY);
    assert_rc(mm_cert_count(txn, mm_keypair_pk(identity), &n), MM_OK);
    assert_int_equal(n, 0);
    mm_txn_abort(&txn);
    seen_certs_t seen;
    assert_rc(by_curve(fs.store, pk[MM_CERT_PER_IDENTITY], &seen), MM_ENOTFOUND);

    /* a rename of a stored device is no new device */
    uint8_t buf[MM_CERT_MAX];
    size_t len;
    assert_rc(mm_cert_make_v1(stranger, pk[0], 1800000000000ull, "renamed", buf, sizeof buf,
                              &len), MM_OK);
    assert_rc(mm_store_begin(fs.store, 1, &txn), MM_OK);
    assert_rc(mm_cert_put(txn, buf, len, &got), MM_OK);
    assert_string_equal(got.name, "renamed");
    assert_rc(mm_txn_commit(&txn), MM_OK);
    /* and another person has room of its own */
    put_cert(fs.store, identity, pk[MM_CERT_PER_IDENTITY]);
    assert_int_equal(fx_store_done(&fs), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_v2_proof),
        cmocka_unit_test(test_make_errors),
        cmocka_unit_test(test_bad_signature),
        cmocka_unit_test(test_trailing_truncated_oversize),
        cmocka_unit_test(test_version_and_shape),
        cmocka_unit_test(test_decode_without_sig),
        cmocka_unit_test(test_by_curve),
        cmocka_unit_test(test_check_held),
        cmocka_unit_test(test_format_1_migrates),
        cmocka_unit_test(test_reindex_repairs),
        cmocka_unit_test(test_by_curve_many),
        cmocka_unit_test(test_cap_per_identity),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
