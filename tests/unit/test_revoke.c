/*  test_revoke.c -- revocation statements (core/revoke.h): the format and
 *  its test vector (PROTOCOL.md 10.2), the verdicts the verifier draws from
 *  them on every store path, and that they converge whatever the order in
 *  which a device receives them.  `test_revoke --print` prints the
 *  device-vectors block for PROTOCOL.md. */
#include "fixture.h"
#include "fxhome.h"

#include "core/cert.h"
#include "core/entry.h"
#include "core/log.h"
#include "core/revoke.h"
#include "core/endpoint.h"

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

static mm_keypair_t *seeded(uint8_t first)
{
    uint8_t seed[32];
    for (int i = 0; i < 32; i++)
        seed[i] = (uint8_t) (first + i);
    mm_keypair_t *kp = mm_keypair_new_from_seed(seed);
    assert_non_null(kp);
    return kp;
}

/* The vector: PROTOCOL.md 10's identity revokes its device (seeds 0x00..,
 * 0x20..), keeping entries 1..2 of its self-scope feed, at T0 + 5000. */
static void make_all(void)
{
    mm_keypair_t *vid = seeded(0x00), *devk = seeded(0x20);
    mm_revoke_last_t last;
    uint8_t buf[MM_REVOKE_MAX];
    size_t len;
    nmade = 0;
    mm_scope_self_id(last.scope, mm_keypair_pk(vid));
    last.seq = 2;
    assert_rc(mm_revoke_make(vid, mm_keypair_pk(devk), T0 + 5000, &last, 1, buf, sizeof buf,
                             &len), MM_OK);
    add("revoke", buf, len);
    /* the device says where it listens, at T0 + 6000 */
    static const char eps[1][MM_ENDPOINT_MAX + 1] = { "tcp://127.0.0.1:7460" };
    assert_rc(mm_endpoint_make(devk, T0 + 6000, eps, 1, buf, sizeof buf, &len), MM_OK);
    add("endpoints", buf, len);
    mm_keypair_destroy(&vid);
    mm_keypair_destroy(&devk);
}

static void test_doc_matches_code(void **state)
{
    (void) state;
    fx_vec_t doc[NV];
    make_all();
    int n = fx_read_vectors("device-vectors", doc, NV);
    assert_int_equal(n, nmade);
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < nmade; j++)
            if (!strcmp(doc[i].name, made[j].name) && strcmp(doc[i].hex, made[j].hex))
                /* a failed test ends here; what it allocated goes with the process */
                fail_msg(  // NOLINT(clang-analyzer-unix.Malloc)
                         "PROTOCOL.md vector %s differs from the code:\n doc  %s\n code %s",
                         doc[i].name, doc[i].hex, made[j].hex);
        free(doc[i].hex);
    }
    for (int j = 0; j < nmade; j++)
        free(made[j].hex);
}

static void test_parse_and_forgeries(void **state)
{
    (void) state;
    mm_keypair_t *ik = fx_keypair(1), *devk = fx_keypair(2), *other = fx_keypair(3);
    mm_revoke_last_t l[2];
    memset(l, 0, sizeof l);
    memset(l[0].scope, 0x11, 32);
    memset(l[1].scope, 0x22, 32);
    l[0].seq = 7;
    l[1].seq = 300;
    uint8_t buf[MM_REVOKE_MAX];
    size_t len;
    mm_revoke_t r;
    assert_rc(mm_revoke_make(ik, mm_keypair_pk(devk), 5, l, 2, buf, sizeof buf, &len), MM_OK);
    assert_rc(mm_revoke_parse(buf, len, &r), MM_OK);
    assert_memory_equal(r.identity, mm_keypair_pk(ik), 32);
    assert_memory_equal(r.device, mm_keypair_pk(devk), 32);
    assert_int_equal(r.nlasts, 2);
    assert_int_equal(mm_revoke_last_of(&r, l[0].scope), 7);
    assert_int_equal(mm_revoke_last_of(&r, l[1].scope), 300);
    uint8_t none[32] = { 0 };
    assert_int_equal(mm_revoke_last_of(&r, none), 0);
    /* every single flipped byte is refused */
    for (size_t i = 0; i < len; i++) {
        buf[i] ^= 1;
        assert_int_not_equal(mm_revoke_parse(buf, len, &r), MM_OK);
        buf[i] ^= 1;
    }
    assert_rc(mm_revoke_parse(buf, len - 1, &r), MM_ETRUNC);
    /* lasts out of order, an identity revoking itself */
    mm_revoke_last_t swapped[2] = { l[1], l[0] };
    assert_rc(mm_revoke_make(ik, mm_keypair_pk(devk), 5, swapped, 2, buf, sizeof buf, &len),
              MM_EINVAL);
    assert_rc(mm_revoke_make(ik, mm_keypair_pk(ik), 5, l, 2, buf, sizeof buf, &len),
              MM_EINVAL);
    /* signed by another key than the identity it names */
    fx_buf_t t;
    fx_buf_init(&t, 512);
    fx_array(&t, 6);
    fx_uint(&t, 1);
    fx_bin(&t, mm_keypair_pk(ik), 32);
    fx_bin(&t, mm_keypair_pk(devk), 32);
    fx_uint(&t, 5);
    fx_array(&t, 0);
    uint8_t digest[32], sig[64];
    mm_hash(digest, t.b, t.len);
    assert_rc(mm_sign_digest(other, MM_CTX_REVOKE, digest, sig), MM_OK);
    fx_bin(&t, sig, 64);
    assert_rc(mm_revoke_parse(t.b, t.len, &r), MM_EBADSIG);
    fx_buf_free(&t);
    mm_keypair_destroy(&ik);
    mm_keypair_destroy(&devk);
    mm_keypair_destroy(&other);
}

/* ---- verdicts in stores ---- */

typedef struct {
    fx_store_t fs;
    mm_scope_t self;
} side_t;

static mm_keypair_t *idk, *dev1, *dev2, *stranger;

static mm_txn_t *begin(side_t *s, int write)
{
    mm_txn_t *txn;
    assert_rc(mm_store_begin(s->fs.store, write, &txn), MM_OK);
    return txn;
}

/* A store holding both devices' certificates and the self scope. */
static void side_new(side_t *s)
{
    uint8_t c[MM_CERT_MAX];
    size_t len;
    fx_store_new(&s->fs);
    fx_self_scope(&s->self, mm_keypair_pk(idk), 0x42);
    mm_txn_t *txn = begin(s, 1);
    assert_rc(mm_cert_make(idk, dev1, T0, "laptop", MM_CERT_IDENTITY, c, sizeof c, &len), MM_OK);
    assert_rc(mm_cert_put(txn, c, len, NULL), MM_OK);
    assert_rc(mm_cert_make(idk, dev2, T0, "phone", 0, c, sizeof c, &len), MM_OK);
    assert_rc(mm_cert_put(txn, c, len, NULL), MM_OK);
    assert_rc(mm_scope_put(txn, &s->self), MM_OK);
    assert_rc(mm_txn_commit(&txn), MM_OK);
}

static void side_done(side_t *s)
{
    assert_int_equal(fx_store_done(&s->fs), 0);
}

/* dev2 writes n notes in its self-scope feed of s; their bytes go to e[]. */
static void write_notes(side_t *s, int n, uint8_t e[][1024], size_t *elen)
{
    mm_txn_t *txn = begin(s, 1);
    for (int i = 0; i < n; i++) {
        uint8_t body[256];
        size_t blen = fx_note_body(body, sizeof body, "a note");
        const uint8_t *raw;
        mm_head_t h;
        assert_rc(mm_log_append(txn, dev2, s->self.id, T0 + 1000 + (uint64_t) i, body, blen,
                                NULL), MM_OK);
        assert_rc(mm_log_head(txn, mm_keypair_pk(dev2), s->self.id, &h), MM_OK);
        assert_rc(mm_log_get(txn, mm_keypair_pk(dev2), s->self.id, h.seq, &raw, &elen[i]), MM_OK);
        memcpy(e[i], raw, elen[i]);
    }
    assert_rc(mm_txn_commit(&txn), MM_OK);
}

static int put(side_t *s, const uint8_t *e, size_t len)
{
    mm_txn_t *txn = begin(s, 1);
    int rc = mm_log_put(txn, e, len, NULL);
    if (rc == MM_OK)
        assert_rc(mm_txn_commit(&txn), MM_OK);
    mm_txn_abort(&txn);
    return rc;
}

static int put_run(side_t *s, const uint8_t e[][1024], size_t *elen, size_t n)
{
    const uint8_t *bufs[8];
    size_t stored;
    for (size_t i = 0; i < n; i++)
        bufs[i] = e[i];
    mm_txn_t *txn = begin(s, 1);
    int rc = mm_log_put_run(txn, bufs, elen, n, &stored);
    if (rc == MM_OK)
        assert_rc(mm_txn_commit(&txn), MM_OK);
    mm_txn_abort(&txn);
    return rc;
}

static size_t revocation(const mm_keypair_t *by, uint64_t created, const uint8_t *scope,
                         uint64_t last, uint8_t *out)
{
    mm_revoke_last_t l;
    size_t len;
    memset(&l, 0, sizeof l);
    if (scope)
        memcpy(l.scope, scope, 32);
    l.seq = last;
    assert_rc(mm_revoke_make(by, mm_keypair_pk(dev2), created, &l, scope ? 1 : 0, out,
                             MM_REVOKE_MAX, &len), MM_OK);
    return len;
}

static void store_revocation(side_t *s, const uint8_t *r, size_t len)
{
    mm_txn_t *txn = begin(s, 1);
    assert_rc(mm_revoke_put(txn, r, len, NULL), MM_OK);
    assert_rc(mm_txn_commit(&txn), MM_OK);
}

static int setup(void **state)
{
    (void) state;
    idk = fx_keypair(1);
    dev1 = fx_keypair(2);
    dev2 = fx_keypair(3);
    stranger = fx_keypair(4);
    return 0;
}

static int teardown(void **state)
{
    (void) state;
    mm_keypair_destroy(&idk);
    mm_keypair_destroy(&dev1);
    mm_keypair_destroy(&dev2);
    mm_keypair_destroy(&stranger);
    return 0;
}

/* The identity device holds dev2's feed up to 2 and revokes it: entry 3,
 * written by dev2 before it learnt of it, is refused alone and in a run;
 * 1..2 stay; dev2's own home, once it holds the statement, writes nothing. */
static void test_revoke_device(void **state)
{
    (void) state;
    side_t a, b;
    uint8_t e[4][1024];
    size_t elen[4];
    side_new(&a);
    side_new(&b);
    write_notes(&b, 3, e, elen);            /* dev2's own store */
    assert_rc(put_run(&a, e, elen, 2), MM_OK);
    mm_txn_t *txn = begin(&a, 1);
    mm_revoke_t r;
    assert_rc(mm_revoke_device(txn, idk, mm_keypair_pk(dev2), T0 + 9000, &r), MM_OK);
    assert_int_equal(r.nlasts, 1);
    assert_int_equal(mm_revoke_last_of(&r, a.self.id), 2);
    /* the identity cannot revoke itself, nor a device of another identity */
    assert_rc(mm_revoke_device(txn, idk, mm_keypair_pk(stranger), T0, NULL), MM_ENOTFOUND);
    assert_rc(mm_revoke_device(txn, stranger, mm_keypair_pk(dev2), T0, NULL), MM_EINVAL);
    assert_rc(mm_txn_commit(&txn), MM_OK);

    assert_rc(put(&a, e[2], elen[2]), MM_EREVOKED);
    assert_rc(put_run(&a, e, elen, 3), MM_EREVOKED);
    txn = begin(&a, 0);
    int revoked;
    uint64_t last;
    assert_rc(mm_revoke_state(txn, mm_keypair_pk(dev2), mm_keypair_pk(idk), a.self.id, &revoked,
                              &last), MM_OK);
    assert_true(revoked);
    assert_int_equal(last, 2);
    mm_head_t h;
    assert_rc(mm_log_head(txn, mm_keypair_pk(dev2), a.self.id, &h), MM_OK);
    assert_int_equal(h.seq, 2);             /* the older ones are kept */
    assert_rc(mm_revoke_state(txn, mm_keypair_pk(dev1), mm_keypair_pk(idk), NULL, &revoked,
                              NULL), MM_OK);
    assert_false(revoked);
    mm_txn_abort(&txn);

    /* the revoked device's home learns of it: every write is refused */
    uint8_t raw[MM_REVOKE_MAX];
    size_t rlen = revocation(idk, T0 + 9000, a.self.id, 2, raw);
    store_revocation(&b, raw, rlen);
    txn = begin(&b, 1);
    uint8_t body[64];
    size_t blen = fx_note_body(body, sizeof body, "more");
    assert_rc(mm_log_append(txn, dev2, b.self.id, 0, body, blen, NULL), MM_EREVOKED);
    assert_rc(mm_log_append(txn, dev1, b.self.id, 0, body, blen, NULL), MM_OK);
    mm_txn_abort(&txn);
    side_done(&a);
    side_done(&b);
}

/* Two revocations of one device with different lasts, stored in either
 * order, give the same verdicts (the MIN); a scope one of them does not
 * list keeps nothing; a statement by another identity is no revocation. */
static void test_converges(void **state)
{
    (void) state;
    side_t a, b, c;
    uint8_t e[4][1024];
    size_t elen[4];
    uint8_t r1[MM_REVOKE_MAX], r2[MM_REVOKE_MAX], r3[MM_REVOKE_MAX];
    side_new(&a);
    side_new(&b);
    side_new(&c);
    write_notes(&c, 3, e, elen);
    size_t l1 = revocation(idk, T0 + 1, a.self.id, 1, r1);
    size_t l2 = revocation(idk, T0 + 2, a.self.id, 2, r2);
    size_t l3 = revocation(stranger, T0 + 3, a.self.id, 0, r3);
    store_revocation(&a, r1, l1);
    store_revocation(&a, r2, l2);
    store_revocation(&b, r2, l2);
    store_revocation(&b, r1, l1);
    store_revocation(&b, r1, l1);           /* held already: a no-op */
    for (int i = 0; i < 2; i++) {
        side_t *s = i ? &b : &a;
        assert_rc(put(s, e[0], elen[0]), MM_OK);
        assert_rc(put(s, e[1], elen[1]), MM_EREVOKED);
    }
    /* another identity's word about dev2 means nothing */
    store_revocation(&c, r3, l3);
    mm_txn_t *txn = begin(&c, 0);
    int revoked;
    assert_rc(mm_revoke_state(txn, mm_keypair_pk(dev2), mm_keypair_pk(idk), NULL, &revoked, NULL),
              MM_OK);
    assert_false(revoked);
    mm_txn_abort(&txn);
    /* a revocation listing no scope keeps nothing */
    side_t d;
    side_new(&d);
    size_t l4 = revocation(idk, T0 + 4, NULL, 0, r3);
    store_revocation(&d, r3, l4);
    assert_rc(put(&d, e[0], elen[0]), MM_EREVOKED);
    side_done(&a);
    side_done(&b);
    side_done(&c);
    side_done(&d);
}

/* At most MM_REVOKE_PER_DEVICE statements by one identity about one device
 * (PROTOCOL.md 3.2): the next different one is MM_ETOOMANY; the same bytes
 * again are a no-op; another identity's statements do not use that room. */
static void test_cap_per_device(void **state)
{
    (void) state;
    side_t a;
    uint8_t r[MM_REVOKE_MAX];
    size_t len;
    side_new(&a);
    for (unsigned i = 0; i < MM_REVOKE_PER_DEVICE; i++) {
        len = revocation(stranger, T0 + i, NULL, 0, r);     /* means nothing, and costs nothing */
        store_revocation(&a, r, len);
    }
    for (unsigned i = 0; i < MM_REVOKE_PER_DEVICE; i++) {
        len = revocation(idk, T0 + i, a.self.id, i, r);
        store_revocation(&a, r, len);
    }
    store_revocation(&a, r, len);                           /* held: a no-op */
    len = revocation(idk, T0 + 100, a.self.id, 0, r);
    mm_txn_t *txn = begin(&a, 1);
    assert_rc(mm_revoke_put(txn, r, len, NULL), MM_ETOOMANY);
    mm_txn_abort(&txn);
    side_done(&a);
}

int main(int argc, char **argv)
{
    if (mm_crypto_init() != MM_OK)
        return 1;
    if (argc > 1 && strcmp(argv[1], "--print") == 0) {
        make_all();
        printf("```device-vectors\n");
        for (int i = 0; i < nmade; i++) {
            const char *h = made[i].hex;
            size_t len = strlen(h), first = 64;
            printf("%s = %.*s\n", made[i].name, (int) (len < first ? len : first), h);
            for (size_t off = first; off < len; off += 64)
                printf("    %.64s\n", h + off);
        }
        printf("```\n");
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_doc_matches_code),
        cmocka_unit_test(test_parse_and_forgeries),
        cmocka_unit_test_setup_teardown(test_revoke_device, setup, teardown),
        cmocka_unit_test_setup_teardown(test_converges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cap_per_device, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
