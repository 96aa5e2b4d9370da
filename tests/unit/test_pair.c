/*  test_pair.c -- pairing a device (core/pair.c): the code format, and both
 *  sides in one process: Ada's identity device grants a JOIN, the new
 *  device builds its home from the PAIRED frame.  No sockets. */
#include "fixture.h"
#include "fxhome.h"
#include "core/cert.h"
#include "core/pair.h"
#include "core/scope.h"
#include "crypto/encoding.h"

#define T0 1767225600000ull         /* 2026-01-01T00:00:00Z */

typedef struct {
    char dir[FX_PATH_MAX];
    mm_home_t *ada, *grace;
    mm_scope_t rel;
} world_t;

static int setup(void **state)
{
    world_t *w = calloc(1, sizeof *w);
    assert_non_null(w);
    fx_mkdtemp(w->dir);
    w->ada = fx_home(w->dir, "ada", "Ada", NULL, NULL);
    w->grace = fx_home(w->dir, "grace", "Grace", NULL, NULL);
    fx_pair(w->grace, w->ada, "grace", "ada", &w->rel);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world_t *w = *state;
    mm_home_close(&w->ada);
    mm_home_close(&w->grace);
    fx_rmrf(w->dir);
    mm_scope_wipe(&w->rel);
    free(w);
    return 0;
}

static void some_code(mm_pair_code_t *c)
{
    memset(c, 0, sizeof *c);
    memset(c->identity, 1, 32);
    memset(c->device, 2, 32);
    memset(c->secret, 3, 32);
    c->expires = T0 + 600000;
    c->nendpoints = 2;
    strcpy(c->endpoints[0], "tcp://192.168.1.10:40001");
    strcpy(c->endpoints[1], "tcp://127.0.0.1:40001");
}

static void test_code_round_trip(void **state)
{
    mm_pair_code_t c, d;
    char text[MM_PAIR_CODE_MAX];
    (void) state;
    some_code(&c);
    assert_rc(mm_pair_code_encode(&c, text, sizeof text), MM_OK);
    assert_memory_equal(text, "mmp1", 4);
    assert_rc(mm_pair_code_decode(text, &d), MM_OK);
    assert_memory_equal(&c, &d, sizeof c);
    /* every character changed is refused: the prefix as "not a pairing
     * code", the rest by the check (or as no base32 at all) */
    size_t n = strlen(text);
    for (size_t i = 0; i < n; i++) {
        char t[MM_PAIR_CODE_MAX];
        memcpy(t, text, n + 1);
        t[i] = t[i] == 'a' ? 'b' : 'a';
        int rc = mm_pair_code_decode(t, &d);
        if (i < 4)
            assert_rc(rc, MM_EINVAL);
        else
            assert_true(rc == MM_ECHECKSUM || rc == MM_EINVAL);
        if (i >= 4 && i + 1 < n)    /* the last character may carry only padding bits */
            assert_rc(rc, MM_ECHECKSUM);
    }
    /* an invite code, a truncated one, text */
    assert_rc(mm_pair_code_decode("mmv1aaaaaaaa", &d), MM_EINVAL);
    assert_rc(mm_pair_code_decode("mmp1", &d), MM_EINVAL);
    assert_rc(mm_pair_code_decode("hello", &d), MM_EINVAL);
    /* no endpoint: cannot be written */
    c.nendpoints = 0;
    assert_rc(mm_pair_code_encode(&c, text, sizeof text), MM_EINVAL);
}

static void test_code_expiry_and_once(void **state)
{
    mm_pair_code_t c;
    char why[128];
    (void) state;
    some_code(&c);
    assert_rc(mm_pair_code_usable(&c, c.expires, why, sizeof why), MM_OK);
    assert_rc(mm_pair_code_usable(&c, c.expires + 1, why, sizeof why), MM_EINVAL);
    assert_non_null(strstr(why, "expired"));
    assert_rc(mm_pair_code_open(&c, 0, c.expires, why, sizeof why), MM_OK);
    assert_rc(mm_pair_code_open(&c, 0, c.expires + 1, why, sizeof why), MM_EREFUSED);
    assert_non_null(strstr(why, "expired"));
    assert_rc(mm_pair_code_open(&c, 1, T0, why, sizeof why), MM_EREFUSED);
    assert_non_null(strstr(why, "already used"));
    assert_rc(mm_pair_code_open(&c, 1, T0, NULL, 0), MM_EREFUSED);
}

static void test_fingerprint(void **state)
{
    uint8_t k[32];
    char a[MM_PAIR_FP_LEN + 1], b[MM_PAIR_FP_LEN + 1];
    (void) state;
    memset(k, 7, 32);
    mm_pair_fingerprint(k, a);
    assert_int_equal(strlen(a), 9);
    assert_int_equal(a[4], '-');
    for (int i = 0; i < 9; i++)
        if (i != 4)
            assert_true((a[i] >= 'A' && a[i] <= 'Z') || (a[i] >= '2' && a[i] <= '7'));
    k[31] ^= 1;
    mm_pair_fingerprint(k, b);
    assert_string_not_equal(a, b);
}

/* The code Ada's identity device would show. */
static void ada_code(world_t *w, mm_pair_code_t *c)
{
    char eps[1][MM_ENDPOINT_MAX + 1] = { "tcp://127.0.0.1:40001" };
    mm_pair_code_new(w->ada, T0 + 600000, eps, 1, c);
}

static void test_grant_and_apply(void **state)
{
    world_t *w = *state;
    mm_pair_code_t code;
    mm_keypair_t *idk = NULL, *phone = mm_keypair_new();
    uint8_t join[MM_PAIR_JOIN_MAX], *frame = NULL;
    size_t joinlen, flen;
    mm_pair_join_t j;
    mm_pair_summary_t sum;
    char why[256], path[FX_PATH_MAX], idname[MM_DEVNAME_MAX + 1];
    mm_home_t *h = NULL;
    mm_txn_t *txn;
    mm_scope_t a, b;
    mm_peer_t p;
    mm_cert_t c;

    assert_non_null(phone);
    ada_code(w, &code);
    assert_rc(mm_pair_may(w->ada, idname, sizeof idname), MM_OK);
    assert_rc(mm_home_identity_key(w->ada, &idk), MM_OK);
    assert_rc(mm_pair_join_build(phone, &code, "phone", T0, join, sizeof join, &joinlen), MM_OK);
    assert_rc(mm_pair_join_parse(join, joinlen, &j), MM_OK);
    assert_string_equal(j.name, "phone");
    assert_memory_equal(j.device, mm_keypair_pk(phone), 32);

    /* a proof that does not verify: nothing certified */
    mm_pair_join_t bad = j;
    uint8_t spoilt[64];
    memcpy(spoilt, j.devsig, 64);
    spoilt[5] ^= 1;
    bad.devsig = spoilt;
    assert_rc(mm_pair_grant(w->ada, idk, &bad, &frame, &flen, why, sizeof why), MM_EBADSIG);
    assert_null(frame);
    assert_rc(mm_store_begin(mm_home_store(w->ada), 0, &txn), MM_OK);
    assert_rc(mm_cert_get(txn, mm_keypair_pk(phone), &c, NULL, NULL), MM_ENOTFOUND);
    mm_txn_abort(&txn);

    assert_rc(mm_pair_grant(w->ada, idk, &j, &frame, &flen, why, sizeof why), MM_OK);
    assert_non_null(frame);

    /* the new device builds its home from PAIRED */
    fx_path(path, w->dir, "phone");
    assert_rc(mm_pair_apply(path, &code, phone, frame, flen, T0, &sum), MM_OK);
    assert_string_equal(sum.name, "Ada");
    assert_string_equal(sum.devname, "phone");
    assert_int_equal(sum.npeers, 1);
    assert_int_equal(sum.nscopes, 2);
    assert_true(sum.ncerts >= 3);       /* Ada's two devices and Grace's */
    /* a second time: the home is there */
    assert_rc(mm_pair_apply(path, &code, phone, frame, flen, T0, &sum), MM_EEXIST);
    mm_pair_paired_free(&frame, flen);
    assert_null(frame);

    assert_rc(mm_home_open(path, &h), MM_OK);
    assert_memory_equal(mm_home_identity_pk(h), mm_home_identity_pk(w->ada), 32);
    assert_memory_equal(mm_home_self_scope(h), mm_home_self_scope(w->ada), 32);
    assert_string_equal(mm_home_name(h), "Ada");
    assert_string_equal(mm_home_devname(h), "phone");
    assert_memory_equal(mm_keypair_pk(mm_home_device(h)), mm_keypair_pk(phone), 32);
    assert_rc(mm_store_begin(mm_home_store(h), 0, &txn), MM_OK);
    assert_rc(mm_scope_get(txn, mm_home_self_scope(h), &a), MM_OK);
    assert_rc(mm_scope_get(txn, w->rel.id, &b), MM_OK);
    assert_memory_equal(mm_scope_key(&b), mm_scope_key(&w->rel), 32);
    assert_rc(mm_peer_get(txn, mm_home_identity_pk(w->grace), &p), MM_OK);
    assert_string_equal(p.petname, "grace");
    assert_rc(mm_cert_get(txn, mm_keypair_pk(mm_home_device(w->grace)), &c, NULL, NULL), MM_OK);
    assert_rc(mm_cert_get(txn, mm_keypair_pk(phone), &c, NULL, NULL), MM_OK);
    assert_int_equal(c.version, 2);
    assert_int_equal(c.flags & MM_CERT_IDENTITY, 0);
    mm_txn_abort(&txn);
    mm_scope_wipe(&b);
    /* the self scope key is Ada's */
    assert_rc(mm_store_begin(mm_home_store(w->ada), 0, &txn), MM_OK);
    assert_rc(mm_scope_get(txn, mm_home_self_scope(w->ada), &b), MM_OK);
    mm_txn_abort(&txn);
    assert_memory_equal(mm_scope_key(&a), mm_scope_key(&b), 32);
    mm_scope_wipe(&a);
    mm_scope_wipe(&b);

    /* the joined device holds no identity key: it names the one that does */
    assert_rc(mm_pair_may(h, idname, sizeof idname), MM_ENOIDENTITY);
    assert_string_equal(idname, "laptop");
    mm_home_close(&h);
    mm_keypair_destroy(&idk);
    mm_keypair_destroy(&phone);
}

static void test_apply_checks_the_certificate(void **state)
{
    world_t *w = *state;
    mm_pair_code_t code;
    mm_keypair_t *idk = NULL, *phone = mm_keypair_new(), *other = mm_keypair_new();
    uint8_t join[MM_PAIR_JOIN_MAX], *frame = NULL;
    size_t joinlen, flen;
    mm_pair_join_t j;
    mm_pair_summary_t sum;
    char why[256], path[FX_PATH_MAX];
    struct stat st;

    ada_code(w, &code);
    assert_rc(mm_home_identity_key(w->ada, &idk), MM_OK);
    assert_rc(mm_pair_join_build(phone, &code, "phone", T0, join, sizeof join, &joinlen), MM_OK);
    assert_rc(mm_pair_join_parse(join, joinlen, &j), MM_OK);
    assert_rc(mm_pair_grant(w->ada, idk, &j, &frame, &flen, why, sizeof why), MM_OK);
    fx_path(path, w->dir, "other");
    /* PAIRED for another device key, or for a code of another identity */
    assert_rc(mm_pair_apply(path, &code, other, frame, flen, T0, &sum), MM_EBADCERT);
    mm_pair_code_t foreign = code;
    memcpy(foreign.identity, mm_home_identity_pk(w->grace), 32);
    assert_rc(mm_pair_apply(path, &foreign, phone, frame, flen, T0, &sum), MM_EBADCERT);
    /* a truncated frame */
    assert_true(mm_pair_apply(path, &code, phone, frame, flen - 3, T0, &sum) != MM_OK);
    assert_int_equal(lstat(path, &st), -1);     /* no half home left */
    mm_pair_paired_free(&frame, flen);
    /* the joiner's own device cannot pair with itself */
    j.device = mm_keypair_pk(mm_home_device(w->ada));
    assert_rc(mm_pair_grant(w->ada, idk, &j, &frame, &flen, why, sizeof why), MM_EINVAL);
    mm_keypair_destroy(&idk);
    mm_keypair_destroy(&phone);
    mm_keypair_destroy(&other);
}

static void test_join_parse_limits(void **state)
{
    fx_buf_t t;
    mm_pair_join_t j;
    uint8_t k[32] = { 0 }, sig[64] = { 0 };
    char longname[MM_DEVNAME_MAX + 2];
    (void) state;
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    fx_buf_init(&t, 512);
    fx_array(&t, 5);
    fx_str(&t, "join");
    fx_bin(&t, k, 32);
    fx_str(&t, longname);
    fx_uint(&t, T0);
    fx_bin(&t, sig, 64);
    assert_rc(mm_pair_join_parse(t.b, t.len, &j), MM_ETOOBIG);
    fx_buf_free(&t);
    fx_buf_init(&t, 512);
    fx_array(&t, 5);
    fx_str(&t, "hello");
    assert_rc(mm_pair_join_parse(t.b, t.len, &j), MM_EPROTO);
    fx_buf_free(&t);
}

/* ---- PROTOCOL.md 9.1's vectors: fixed keys, secret and time ---- */

#define NPV 5

static void pv_add(fx_vec_t *v, int *n, const char *name, const char *text)
{
    snprintf(v[*n].name, sizeof v[*n].name, "%s", name);
    v[(*n)++].hex = strdup(text);
}

static void pv_hex(fx_vec_t *v, int *n, const char *name, const uint8_t *b, size_t len)
{
    char *h = malloc(2 * len + 1);
    assert_non_null(h);
    mm_encoding_hex(h, b, len);
    pv_add(v, n, name, h);
    free(h);
}

static void test_vectors(void **state)
{
    mm_keypair_t *id = fx_keypair(1), *dev = fx_keypair(2), *phone = fx_keypair(3);
    mm_pair_code_t c;
    char text[MM_PAIR_CODE_MAX], fp[MM_PAIR_FP_LEN + 1];
    uint8_t pk[32], sk[32], join[MM_PAIR_JOIN_MAX];
    size_t joinlen;
    fx_vec_t made[NPV], doc[NPV];
    int nmade = 0;
    (void) state;
    memset(&c, 0, sizeof c);
    memcpy(c.identity, mm_keypair_pk(id), 32);
    memcpy(c.device, mm_keypair_pk(dev), 32);
    memset(c.secret, 0x33, 32);
    c.expires = T0 + 600000;
    c.nendpoints = 1;
    strcpy(c.endpoints[0], "tcp://127.0.0.1:7461");
    assert_rc(mm_pair_code_encode(&c, text, sizeof text), MM_OK);
    mm_pair_keys(c.secret, pk, sk);
    mm_pair_fingerprint(mm_keypair_pk(phone), fp);
    assert_rc(mm_pair_join_build(phone, &c, "phone", T0, join, sizeof join, &joinlen), MM_OK);
    pv_add(made, &nmade, "code", text);
    pv_hex(made, &nmade, "pairing_pk", pk, 32);
    pv_hex(made, &nmade, "joiner_device", mm_keypair_pk(phone), 32);
    pv_add(made, &nmade, "fingerprint", fp);
    pv_hex(made, &nmade, "join", join, joinlen);
    if (getenv("MM_PRINT_VECTORS")) {
        printf("```pair-vectors\n");
        for (int i = 0; i < nmade; i++) {
            const char *v = made[i].hex;
            size_t len = strlen(v);
            printf("%s = %.*s\n", made[i].name, (int) (len < 64 ? len : 64), v);
            for (size_t o = 64; o < len; o += 64)
                printf("    %.64s\n", v + o);
        }
        printf("```\n");
    } else {
        int n = fx_read_vectors("pair-vectors", doc, NPV);
        assert_int_equal(n, nmade);
        for (int i = 0; i < n; i++) {
            assert_string_equal(doc[i].name, made[i].name);
            if (strcmp(doc[i].hex, made[i].hex) != 0)
                fail_msg("PROTOCOL.md pairing vector %s differs:\n doc  %s\n code %s",
                         doc[i].name, doc[i].hex, made[i].hex);
            free(doc[i].hex);
        }
    }
    for (int i = 0; i < nmade; i++)
        free(made[i].hex);
    mm_keypair_destroy(&id);
    mm_keypair_destroy(&dev);
    mm_keypair_destroy(&phone);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_code_round_trip),
        cmocka_unit_test(test_code_expiry_and_once),
        cmocka_unit_test(test_fingerprint),
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_join_parse_limits),
        cmocka_unit_test_setup_teardown(test_grant_and_apply, setup, teardown),
        cmocka_unit_test_setup_teardown(test_apply_checks_the_certificate, setup, teardown),
    };
    return cmocka_run_group_tests(tests, fx_setup_crypto, NULL);
}
