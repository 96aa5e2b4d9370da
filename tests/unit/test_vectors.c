/*  test_vectors.c -- PROTOCOL.md's test vectors are what the code makes.
 *
 *  From fixed seeds, key, nonces and times this builds the identity and
 *  device keys, the device certificate and two consecutive entries, and
 *  checks them byte for byte against the "Test vectors" block of PROTOCOL.md
 *  (path in $MM_PROTOCOL_MD); then that the verifier accepts them and
 *  rejects every single-byte change.  `test_vectors --print` prints the
 *  block, for writing PROTOCOL.md.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "fixture.h"
#include "fxhome.h"
#include "core/entry.h"
#include "core/body.h"
#include "core/mp.h"
#include "crypto/encoding.h"
#include "crypto/idcode.h"
#include "crypto/error.h"

#define T0 1767225600000ull          /* 2026-01-01T00:00:00Z */
#define NV 32

typedef fx_vec_t vec_t;

static vec_t made[NV];
static int nmade;

static void fill(uint8_t *b, size_t n, uint8_t start)
{
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t) (start + i);
}

static void add(const char *name, const uint8_t *b, size_t n)
{
    vec_t *v = &made[nmade++];
    snprintf(v->name, sizeof v->name, "%s", name);
    v->hex = malloc(2 * n + 1);
    mm_encoding_hex(v->hex, b, n);
}

static void add_str(const char *name, const char *s)
{
    vec_t *v = &made[nmade++];
    snprintf(v->name, sizeof v->name, "%s", name);
    v->hex = strdup(s);
}

static size_t note_body(uint8_t *out, size_t cap, const char *text)
{
    mm_mp_writer_t w;
    mm_mp_writer_init(&w, out, cap);
    mm_mp_put_map(&w, 2);
    mm_mp_put_cstr(&w, "t");
    mm_mp_put_cstr(&w, MM_T_NOTE);
    mm_mp_put_cstr(&w, "text");
    mm_mp_put_cstr(&w, text);
    assert_int_equal(mm_mp_writer_status(&w), MM_OK);
    return w.len;
}

/* Everything the vectors are made of, kept for the checks. */
static mm_keypair_t *idk, *devk;
static mm_scope_t scope;
static uint8_t cert[MM_CERT_MAX], cert2[MM_CERT_MAX], e1[512], e2[512];
static size_t certlen, cert2len, e1len, e2len;
static mm_cert_t certp;
static mm_entry_t p1, p2;

static void make_all(void)
{
    uint8_t seed[32], nonce[24], body[256];
    char code[MM_IDCODE_LEN + 1];
    size_t blen;
    fill(seed, 32, 0x00);
    idk = mm_keypair_new_from_seed(seed);
    fill(seed, 32, 0x20);
    devk = mm_keypair_new_from_seed(seed);
    assert_non_null(idk);
    assert_non_null(devk);
    add("identity_seed", (fill(seed, 32, 0x00), seed), 32);
    add("identity_pk", mm_keypair_pk(idk), 32);
    mm_idcode_encode(code, MM_IDCODE_IDENTITY, mm_keypair_pk(idk));
    add_str("identity_code", code);
    add("device_seed", (fill(seed, 32, 0x20), seed), 32);
    add("device_pk", mm_keypair_pk(devk), 32);
    mm_idcode_encode(code, MM_IDCODE_DEVICE, mm_keypair_pk(devk));
    add_str("device_code", code);

    assert_int_equal(mm_cert_make_v1(idk, mm_keypair_pk(devk), T0, "laptop", cert, sizeof cert,
                                  &certlen), MM_OK);
    add("cert", cert, certlen);

    memset(&scope, 0, sizeof scope);
    scope.kind = MM_SCOPE_SELF;
    scope.nmembers = 1;
    memcpy(scope.members[0], mm_keypair_pk(idk), 32);
    mm_scope_self_id(scope.id, mm_keypair_pk(idk));
    fill(scope.keys[0], 32, 0x40);
    scope.nkeys = 1;
    add("self_scope_id", scope.id, 32);
    add("scope_key", mm_scope_key(&scope), 32);

    mm_head_t head = { 0 };
    fill(nonce, 24, 0x60);
    blen = note_body(body, sizeof body, "Ask Grace how she chose her first team lead role");
    add("body1", body, blen);
    add("nonce1", nonce, 24);
    assert_int_equal(mm_entry_seal(devk, &scope, &head, T0 + 1000, nonce, body, blen, e1,
                                   sizeof e1, &e1len), MM_OK);
    add("entry1", e1, e1len);
    assert_int_equal(mm_entry_parse(e1, e1len, &p1), MM_OK);
    add("entry1_id", p1.id, 32);

    head.seq = 1;
    memcpy(head.id, p1.id, 32);
    fill(nonce, 24, 0x80);
    blen = note_body(body, sizeof body, "Thank Grace; offer to review her talk");
    add("body2", body, blen);
    add("nonce2", nonce, 24);
    assert_int_equal(mm_entry_seal(devk, &scope, &head, T0 + 2000, nonce, body, blen, e2,
                                   sizeof e2, &e2len), MM_OK);
    add("entry2", e2, e2len);
    assert_int_equal(mm_entry_parse(e2, e2len, &p2), MM_OK);
    add("entry2_id", p2.id, 32);
    assert_int_equal(mm_cert_parse(cert, certlen, &certp), MM_OK);

    /* certificate version 2 of the same device, the identity device */
    assert_int_equal(mm_cert_make(idk, devk, T0, "laptop", MM_CERT_IDENTITY, cert2,
                                  sizeof cert2, &cert2len), MM_OK);
    add("cert2", cert2, cert2len);
}

static void test_doc_matches_code(void **state)
{
    vec_t doc[NV];
    int n = fx_read_vectors("vectors", doc, NV);
    assert_int_equal(n, nmade);
    for (int i = 0; i < n; i++) {
        assert_string_equal(doc[i].name, made[i].name);
        if (strcmp(doc[i].hex, made[i].hex) != 0)
            fail_msg("PROTOCOL.md vector %s differs from the code:\n doc  %s\n code %s",
                     doc[i].name, doc[i].hex, made[i].hex);
        free(doc[i].hex);
    }
}

static void test_vectors_verify(void **state)
{
    mm_head_t head = { 0 };
    mm_verify_ctx_t ctx = { .head = &head, .cert = &certp, .scope = &scope };
    assert_int_equal(mm_entry_verify(e1, e1len, &ctx, 0, NULL), MM_OK);
    head.seq = 1;
    memcpy(head.id, p1.id, 32);
    assert_int_equal(mm_entry_verify(e2, e2len, &ctx, 0, NULL), MM_OK);
    assert_memory_equal(p2.prev, p1.id, 32);
}

static void test_every_flipped_byte_rejected(void **state)
{
    mm_cert_t c;
    for (size_t i = 0; i < certlen; i++) {
        cert[i] ^= 0x01;
        assert_int_not_equal(mm_cert_parse(cert, certlen, &c), MM_OK);
        cert[i] ^= 0x01;
    }
    assert_int_equal(mm_cert_parse(cert2, cert2len, &c), MM_OK);
    assert_int_equal(c.version, 2);
    assert_int_equal(c.flags, MM_CERT_IDENTITY);
    for (size_t i = 0; i < cert2len; i++) {
        cert2[i] ^= 0x01;
        assert_int_not_equal(mm_cert_parse(cert2, cert2len, &c), MM_OK);
        cert2[i] ^= 0x01;
    }
    mm_head_t h1 = { 0 }, h2 = { 1, { 0 } };
    memcpy(h2.id, p1.id, 32);
    mm_verify_ctx_t c1 = { .head = &h1, .cert = &certp, .scope = &scope },
                    c2 = { .head = &h2, .cert = &certp, .scope = &scope };
    for (size_t i = 0; i < e1len; i++) {
        e1[i] ^= 0x01;
        assert_int_not_equal(mm_entry_verify(e1, e1len, &c1, 0, NULL), MM_OK);
        e1[i] ^= 0x01;
    }
    for (size_t i = 0; i < e2len; i++) {
        e2[i] ^= 0x80;
        assert_int_not_equal(mm_entry_verify(e2, e2len, &c2, 0, NULL), MM_OK);
        e2[i] ^= 0x80;
    }
    assert_int_equal(mm_entry_verify(e2, e2len, &c2, 0, NULL), MM_OK);
}

/* PROTOCOL.md 8.4 lists every error name, and mm has no other: the rows
 * "| `MM_E...` | meaning |" of that section against mm_errname. */
static void test_error_table_matches_code(void **state)
{
    const char *path = getenv("MM_PROTOCOL_MD");
    FILE *f = path ? fopen(path, "r") : NULL;
    char line[512], doc[64][32];
    int in = 0, ndoc = 0, ncode = 0;
    if (!f)
        fail_msg("cannot open PROTOCOL.md (MM_PROTOCOL_MD=%s)", path ? path : "unset");
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "### ", 4))
            in = !strncmp(line, "### 8.4 ", 8);
        char name[32];
        if (in && sscanf(line, "| `%31[A-Z_]` |", name) == 1 && ndoc < 64)
            snprintf(doc[ndoc++], sizeof doc[0], "%s", name);
    }
    fclose(f);
    assert_true(ndoc > 0);
    for (int rc = -1; rc > -128; rc--) {
        const char *name = mm_errname(rc);
        if (!strcmp(name, "MM_EUNKNOWN"))
            continue;
        ncode++;
        int found = 0;
        for (int i = 0; i < ndoc; i++)
            found |= !strcmp(doc[i], name);
        if (!found)
            fail_msg("%s is missing from PROTOCOL.md 8.4", name);
    }
    for (int i = 0; i < ndoc; i++) {
        int found = 0;
        for (int rc = -1; rc > -128 && !found; rc--)
            found = !strcmp(doc[i], mm_errname(rc));
        if (!found)
            fail_msg("PROTOCOL.md 8.4 lists %s, which mm does not have", doc[i]);
    }
    assert_int_equal(ndoc, ncode);
}

int main(int argc, char **argv)
{
    if (mm_crypto_init() != MM_OK)
        return 1;
    if (argc > 1 && strcmp(argv[1], "--print") == 0) {
        /* cmocka asserts outside a test abort, which is what we want here */
        make_all();
        printf("```vectors\n");
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
    make_all();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_doc_matches_code),
        cmocka_unit_test(test_vectors_verify),
        cmocka_unit_test(test_every_flipped_byte_rejected),
        cmocka_unit_test(test_error_table_matches_code),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    for (int i = 0; i < nmade; i++)
        free(made[i].hex);
    mm_keypair_destroy(&idk);
    mm_keypair_destroy(&devk);
    return rc;
}
