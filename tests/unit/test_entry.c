/*  test_entry.c -- entries and their one verifier, scope records, bodies
 *  (core/entry.h, core/scope.h, core/body.h). */
#include "fixture.h"

#include "core/body.h"
#include "core/cert.h"
#include "core/entry.h"
#include "core/scope.h"

#define T0 1700000000000ull

/* The cast: identity certifies device and device3; other_id is a stranger
 * who also certified device (cert_foreign). */
static mm_keypair_t *identity, *device, *device3, *other_id;
static mm_cert_t cert, cert3, cert_foreign;
static mm_scope_t scope;
static uint8_t body[64];
static size_t bodylen;
static const mm_head_t head0 = { 0, { 0 } };

static void certify(const mm_keypair_t *id, const mm_keypair_t *dev, mm_cert_t *out)
{
    uint8_t buf[MM_CERT_MAX];
    size_t len;
    assert_rc(mm_cert_make(id, dev, T0, "dev", 0, buf, sizeof buf, &len), MM_OK);
    assert_rc(mm_cert_parse(buf, len, out), MM_OK);
}

static int setup(void **state)
{
    if (fx_setup_crypto(state) != 0)
        return -1;
    identity = fx_keypair(1);
    device = fx_keypair(2);
    device3 = fx_keypair(3);
    other_id = fx_keypair(4);
    certify(identity, device, &cert);
    certify(identity, device3, &cert3);
    certify(other_id, device, &cert_foreign);
    fx_self_scope(&scope, mm_keypair_pk(identity), 0x55);
    bodylen = fx_note_body(body, sizeof body, "hello");
    return 0;
}

static int teardown(void **state)
{
    mm_keypair_destroy(&identity);
    mm_keypair_destroy(&device);
    mm_keypair_destroy(&device3);
    mm_keypair_destroy(&other_id);
    mm_scope_wipe(&scope);
    return 0;
}

/* ---- helpers ------------------------------------------------------------ */

typedef struct {
    uint8_t *b;
    size_t len;
    uint8_t id[32];
} ent_t;

/* Seal pt as device's entry after head in s; fails the test unless MM_OK. */
static void seal(ent_t *e, const mm_keypair_t *dev, const mm_scope_t *s,
                 const mm_head_t *head, const uint8_t *pt, size_t ptlen)
{
    size_t cap = ptlen + MM_ENTRY_OVERHEAD;
    e->b = malloc(cap);
    assert_non_null(e->b);
    assert_rc(mm_entry_seal(dev, s, head, T0 + head->seq, NULL, pt, ptlen,
                            e->b, cap, &e->len), MM_OK);
    assert_true(e->len <= cap);
    mm_hash(e->id, e->b, e->len);
}

static void ent_free(ent_t *e)
{
    free(e->b);
    e->b = NULL;
}

/* Verify a heap copy of exactly len bytes (so ASan sees any over-read). */
static int verify(const uint8_t *buf, size_t len, const mm_head_t *head,
                  const mm_cert_t *c, const mm_scope_t *s, unsigned flags)
{
    uint8_t *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, buf, len);
    mm_verify_ctx_t ctx = { .head = head, .cert = c, .scope = s };
    mm_entry_t e;
    int rc = mm_entry_verify(copy, len, &ctx, flags, &e);
    free(copy);
    return rc;
}

/* The usual context: device's cert, the self scope. */
static int verify_at(const ent_t *e, const mm_head_t *head, unsigned flags)
{
    return verify(e->b, e->len, head, &cert, &scope, flags);
}

static int parse(const uint8_t *buf, size_t len)
{
    uint8_t *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, buf, len);
    mm_entry_t e;
    int rc = mm_entry_parse(copy, len, &e);
    free(copy);
    return rc;
}

/* An entry built field by field, to get exactly one thing wrong while
 * everything else (AEAD associated data, signature) stays right. */
typedef struct {
    uint64_t version;
    uint32_t nfields;
    const uint8_t *author;
    const uint8_t *scope_id;
    uint64_t seq;
    const char *seq_hex;            /* raw seq encoding instead, if set */
    const uint8_t *prev;            /* NULL: nil */
    uint64_t time;
    const uint8_t *nonce;
    uint32_t nonce_len;
    const uint8_t *pt;
    size_t ptlen;
    const uint8_t *key;
    size_t raw_box;                 /* if set: a box of this many zero bytes */
    int alter_box;                  /* flip a box bit before signing */
    const mm_keypair_t *signer;
} hand_t;

static const uint8_t fixed_nonce[MM_NONCE_BYTES] = {
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24,
};

static hand_t hand_default(void)
{
    hand_t h = {
        .version = MM_ENTRY_VERSION,
        .nfields = 9,
        .author = mm_keypair_pk(device),
        .scope_id = scope.id,
        .seq = 1,
        .prev = NULL,
        .time = T0,
        .nonce = fixed_nonce,
        .nonce_len = MM_NONCE_BYTES,
        .pt = body,
        .ptlen = bodylen,
        .key = mm_scope_key(&scope),
        .signer = device,
    };
    return h;
}

static void hand_build(const hand_t *h, ent_t *e)
{
    fx_buf_t t;
    fx_buf_init(&t, MM_ENTRY_MAX + 4096);
    fx_array(&t, h->nfields);
    fx_uint(&t, h->version);
    fx_bin(&t, h->author, 32);
    fx_bin(&t, h->scope_id, 32);
    if (h->seq_hex)
        fx_rawhex(&t, h->seq_hex);
    else
        fx_uint(&t, h->seq);
    if (h->prev)
        fx_bin(&t, h->prev, 32);
    else
        fx_nil(&t);
    fx_uint(&t, h->time);
    size_t adlen = t.len;
    fx_bin(&t, h->nonce, h->nonce_len);
    if (h->raw_box) {
        uint8_t *zeros = calloc(1, h->raw_box);
        assert_non_null(zeros);
        fx_bin(&t, zeros, h->raw_box);
        free(zeros);
    } else {
        size_t clen = h->ptlen + MM_TAG_BYTES;
        uint8_t *c = malloc(clen);
        assert_non_null(c);
        assert_rc(mm_aead_seal(c, h->pt, h->ptlen, t.b, adlen, h->nonce, h->key), MM_OK);
        if (h->alter_box)
            c[clen / 2] ^= 0x04;
        fx_bin(&t, c, clen);
        free(c);
    }
    uint8_t digest[32], sig[MM_SIG_BYTES];
    mm_hash(digest, t.b, t.len);
    assert_rc(mm_sign_digest(h->signer, MM_CTX_ENTRY, digest, sig), MM_OK);
    fx_bin(&t, sig, sizeof sig);
    e->b = t.b;
    e->len = t.len;
    mm_hash(e->id, e->b, e->len);
}

/* Replace the signature of an entry with a fresh one over its bytes. */
static void resign(ent_t *e, const mm_keypair_t *signer)
{
    uint8_t digest[32];
    size_t signedlen = e->len - 2 - MM_SIG_BYTES;
    mm_hash(digest, e->b, signedlen);
    assert_rc(mm_sign_digest(signer, MM_CTX_ENTRY, digest, e->b + signedlen + 2), MM_OK);
    mm_hash(e->id, e->b, e->len);
}

/* ---- sealing and verifying ---------------------------------------------- */

static void test_seal_verify_chain(void **state)
{
    ent_t e1, e2;
    mm_entry_t p;
    seal(&e1, device, &scope, &head0, body, bodylen);
    mm_verify_ctx_t ctx = { .head = &head0, .cert = &cert, .scope = &scope };
    assert_rc(mm_entry_verify(e1.b, e1.len, &ctx, 0, &p), MM_OK);
    assert_ptr_equal(p.bytes, e1.b);
    assert_int_equal(p.len, e1.len);
    assert_memory_equal(p.id, e1.id, 32);
    assert_memory_equal(p.author, mm_keypair_pk(device), 32);
    assert_memory_equal(p.scope, scope.id, 32);
    assert_true(p.seq == 1);
    assert_null(p.prev);
    assert_true(p.time == T0);
    assert_int_equal(p.boxlen, bodylen + MM_TAG_BYTES);

    /* the signature and the box are what the header says they are */
    uint8_t digest[32], pt[128];
    size_t ptlen = 0;
    mm_hash(digest, e1.b, p.signedlen);
    assert_rc(mm_verify_digest(mm_keypair_pk(device), MM_CTX_ENTRY, digest, p.sig), MM_OK);
    assert_ptr_equal(p.sig, e1.b + p.signedlen + 2);
    assert_int_equal(p.signedlen + 2 + MM_SIG_BYTES, e1.len);
    assert_rc(mm_aead_open(pt, p.box, p.boxlen, e1.b, p.adlen, p.nonce, mm_scope_key(&scope)), MM_OK);
    assert_memory_equal(pt, body, bodylen);

    /* mm_entry_open gives the body back */
    memset(pt, 0, sizeof pt);
    assert_rc(mm_entry_open(&p, mm_scope_key(&scope), pt, sizeof pt, &ptlen), MM_OK);
    assert_int_equal(ptlen, bodylen);
    assert_memory_equal(pt, body, bodylen);
    assert_rc(mm_entry_open(&p, mm_scope_key(&scope), pt, bodylen, &ptlen), MM_OK);
    assert_rc(mm_entry_open(&p, mm_scope_key(&scope), pt, bodylen - 1, &ptlen), MM_ETOOBIG);
    uint8_t wrong[MM_KEY_BYTES];
    memset(wrong, 0x56, sizeof wrong);
    assert_rc(mm_entry_open(&p, wrong, pt, sizeof pt, &ptlen), MM_EDECRYPT);

    /* parse alone agrees with the verifier */
    mm_entry_t q;
    assert_rc(mm_entry_parse(e1.b, e1.len, &q), MM_OK);
    assert_memory_equal(q.id, p.id, 32);
    assert_int_equal(q.adlen, p.adlen);
    assert_int_equal(q.signedlen, p.signedlen);

    /* seq 2, chained to entry 1 */
    mm_head_t head1 = { 1, { 0 } };
    memcpy(head1.id, e1.id, 32);
    seal(&e2, device, &scope, &head1, body, bodylen);
    ctx.head = &head1;
    assert_rc(mm_entry_verify(e2.b, e2.len, &ctx, 0, &p), MM_OK);
    assert_true(p.seq == 2);
    assert_non_null(p.prev);
    assert_memory_equal(p.prev, e1.id, 32);
    assert_true(p.time == T0 + 1);
    assert_memory_not_equal(e1.id, e2.id, 32);

    ent_free(&e1);
    ent_free(&e2);
}

static void test_fixed_nonce_matches_hand_built(void **state)
{
    uint8_t a[512], b[512];
    size_t alen, blen;
    assert_rc(mm_entry_seal(device, &scope, &head0, T0, fixed_nonce, body, bodylen,
                            a, sizeof a, &alen), MM_OK);
    assert_rc(mm_entry_seal(device, &scope, &head0, T0, fixed_nonce, body, bodylen,
                            b, sizeof b, &blen), MM_OK);
    assert_int_equal(alen, blen);
    assert_memory_equal(a, b, alen);

    mm_entry_t p;
    assert_rc(mm_entry_parse(a, alen, &p), MM_OK);
    assert_memory_equal(p.nonce, fixed_nonce, MM_NONCE_BYTES);

    hand_t h = hand_default();
    ent_t e;
    hand_build(&h, &e);
    assert_int_equal(e.len, alen);
    assert_memory_equal(e.b, a, alen);
    assert_rc(verify_at(&e, &head0, 0), MM_OK);
    ent_free(&e);

    /* random nonces: two seals of the same body differ */
    assert_rc(mm_entry_seal(device, &scope, &head0, T0, NULL, body, bodylen,
                            a, sizeof a, &alen), MM_OK);
    assert_rc(mm_entry_seal(device, &scope, &head0, T0, NULL, body, bodylen,
                            b, sizeof b, &blen), MM_OK);
    assert_memory_not_equal(a, b, alen);
}

static void test_verify_errors(void **state)
{
    ent_t e1, e2, e3, bad;
    seal(&e1, device, &scope, &head0, body, bodylen);
    mm_head_t head1 = { 1, { 0 } }, head2 = { 2, { 0 } };
    memcpy(head1.id, e1.id, 32);
    seal(&e2, device, &scope, &head1, body, bodylen);
    memcpy(head2.id, e2.id, 32);
    seal(&e3, device, &scope, &head2, body, bodylen);
    assert_rc(verify_at(&e1, &head0, 0), MM_OK);
    assert_rc(verify_at(&e2, &head1, 0), MM_OK);
    assert_rc(verify_at(&e3, &head2, 0), MM_OK);

    /* bad signature: one sig byte flipped */
    e2.b[e2.len - 1] ^= 0x01;
    assert_rc(verify_at(&e2, &head1, 0), MM_EBADSIG);
    e2.b[e2.len - 1] ^= 0x01;
    e2.b[e2.len - MM_SIG_BYTES] ^= 0x80;
    assert_rc(verify_at(&e2, &head1, 0), MM_EBADSIG);
    e2.b[e2.len - MM_SIG_BYTES] ^= 0x80;

    /* signed by another device of the same identity, under this author */
    bad.b = malloc(e2.len);
    assert_non_null(bad.b);
    memcpy(bad.b, e2.b, e2.len);
    bad.len = e2.len;
    resign(&bad, device3);
    assert_rc(verify_at(&bad, &head1, 0), MM_EBADSIG);
    ent_free(&bad);

    /* wrong prev: sealed against a head with the right seq, wrong id */
    mm_head_t wrong = head1;
    wrong.id[0] ^= 0x01;
    seal(&bad, device, &scope, &wrong, body, bodylen);
    assert_rc(verify_at(&bad, &head1, 0), MM_EPREV);
    ent_free(&bad);

    /* gaps: seq 2 on an empty feed, seq 3 after 1 */
    assert_rc(verify_at(&e2, &head0, 0), MM_ESEQGAP);
    assert_rc(verify_at(&e3, &head1, 0), MM_ESEQGAP);

    /* duplicates and replays: seq at or below the head */
    assert_rc(verify_at(&e1, &head1, 0), MM_ESEQDUP);
    assert_rc(verify_at(&e2, &head2, 0), MM_ESEQDUP);
    assert_rc(verify_at(&e1, &head2, 0), MM_ESEQDUP);

    /* certificates */
    assert_rc(verify(e1.b, e1.len, &head0, &cert3, &scope, 0), MM_EBADCERT);
    assert_rc(verify(e1.b, e1.len, &head0, NULL, &scope, 0), MM_ENOCERT);

    /* scope membership: the author's cert names an identity outside it */
    assert_rc(verify(e1.b, e1.len, &head0, &cert_foreign, &scope, 0), MM_ESCOPE);
    /* ... or the scope record (same id and key) lists someone else */
    mm_scope_t s2 = scope;
    memcpy(s2.members[0], mm_keypair_pk(other_id), 32);
    assert_rc(verify(e1.b, e1.len, &head0, &cert, &s2, 0), MM_ESCOPE);
    /* another scope than the entry's, even with the same key and members */
    mm_scope_t s3 = scope;
    mm_scope_self_id(s3.id, mm_keypair_pk(other_id));
    assert_rc(verify(e1.b, e1.len, &head0, &cert, &s3, 0), MM_ESCOPE);
    assert_rc(verify(e1.b, e1.len, &head0, &cert, NULL, 0), MM_ESCOPE);
    /* an entry sealed in that other scope, checked against ours */
    seal(&bad, device, &s3, &head0, body, bodylen);
    assert_rc(verify_at(&bad, &head0, 0), MM_ESCOPE);
    ent_free(&bad);

    /* the scope key is not the one the box was sealed under */
    mm_scope_t s4 = scope;
    memset(s4.keys[0], 0x66, 32);
    s4.nkeys = 1;
    assert_rc(verify(e1.b, e1.len, &head0, &cert, &s4, 0), MM_EDECRYPT);

    mm_scope_wipe(&s2);
    mm_scope_wipe(&s3);
    mm_scope_wipe(&s4);
    ent_free(&e1);
    ent_free(&e2);
    ent_free(&e3);
}

static void test_sizes(void **state)
{
    /* a body of exactly MM_BODY_MAX seals and verifies */
    size_t cap = MM_BODY_MAX + 1 + MM_ENTRY_OVERHEAD;
    uint8_t *pt = malloc(cap), *out = malloc(cap);
    assert_non_null(pt);
    assert_non_null(out);
    char *text = malloc(MM_BODY_MAX);
    assert_non_null(text);
    size_t textlen = MM_BODY_MAX - 16;  /* 82 a1 't' a4 "blob" a4 "text" da xx xx */
    memset(text, 'x', textlen);
    /* a type mm does not know: a note holds at most MM_NOTE_MAX bytes */
    mm_field_t f = { "text", MM_F_STR, text, textlen, 0 };
    size_t ptlen;
    assert_rc(mm_body_build(pt, cap, &ptlen, "blob", &f, 1), MM_OK);
    assert_int_equal(ptlen, MM_BODY_MAX);
    free(text);

    size_t len;
    assert_rc(mm_entry_seal(device, &scope, &head0, T0, NULL, pt, ptlen, out, cap, &len),
              MM_OK);
    assert_true(len <= MM_ENTRY_MAX);
    assert_rc(verify(out, len, &head0, &cert, &scope, 0), MM_OK);
    /* cap below what the entry needs */
    assert_rc(mm_entry_seal(device, &scope, &head0, T0, NULL, pt, ptlen, out, len - 1, &len),
              MM_ETOOBIG);
    assert_rc(mm_entry_seal(device, &scope, &head0, T0, NULL, body, bodylen, out, 16, &len),
              MM_ETOOBIG);

    /* one byte more is refused at seal */
    pt[ptlen] = 0;
    assert_rc(mm_entry_seal(device, &scope, &head0, T0, NULL, pt, MM_BODY_MAX + 1, out, cap,
                            &len), MM_ETOOBIG);
    free(pt);
    free(out);

    /* a hand-made entry larger than MM_ENTRY_MAX is refused at parse */
    hand_t h = hand_default();
    h.raw_box = 65535;
    ent_t e;
    hand_build(&h, &e);
    assert_true(e.len > MM_ENTRY_MAX);
    assert_rc(parse(e.b, e.len), MM_ETOOBIG);
    assert_rc(verify_at(&e, &head0, 0), MM_ETOOBIG);
    ent_free(&e);

    /* within MM_ENTRY_MAX, but a box holding more than MM_BODY_MAX */
    h.raw_box = MM_BODY_MAX + MM_TAG_BYTES + 1;
    hand_build(&h, &e);
    assert_true(e.len <= MM_ENTRY_MAX);
    assert_rc(parse(e.b, e.len), MM_ETOOBIG);
    ent_free(&e);
    h.raw_box = MM_BODY_MAX + MM_TAG_BYTES;         /* control: size is fine */
    hand_build(&h, &e);
    assert_rc(parse(e.b, e.len), MM_OK);
    assert_rc(verify_at(&e, &head0, 0), MM_EDECRYPT);
    ent_free(&e);
}

static void test_truncated_trailing(void **state)
{
    ent_t e1, e2;
    seal(&e1, device, &scope, &head0, body, bodylen);
    mm_head_t head1 = { 1, { 0 } };
    memcpy(head1.id, e1.id, 32);
    seal(&e2, device, &scope, &head1, body, bodylen);

    for (size_t k = 0; k < e1.len; k++) {
        assert_rc(parse(e1.b, k), MM_ETRUNC);
        assert_rc(verify(e1.b, k, &head0, &cert, &scope, 0), MM_ETRUNC);
    }
    for (size_t k = 0; k < e2.len; k++)
        assert_rc(verify(e2.b, k, &head1, &cert, &scope, 0), MM_ETRUNC);

    uint8_t *longer = malloc(e1.len + 1);
    assert_non_null(longer);
    memcpy(longer, e1.b, e1.len);
    longer[e1.len] = 0xc0;
    assert_rc(parse(longer, e1.len + 1), MM_ETRAILING);
    assert_rc(verify(longer, e1.len + 1, &head0, &cert, &scope, 0), MM_ETRAILING);
    free(longer);
    ent_free(&e1);
    ent_free(&e2);
}

static void test_hand_built_format_errors(void **state)
{
    ent_t e;
    hand_t h;

    /* seq 1 spelled as uint8, everything else (ad, signature) right */
    h = hand_default();
    h.seq_hex = "cc 01";
    hand_build(&h, &e);
    assert_rc(parse(e.b, e.len), MM_ENONCANON);
    assert_rc(verify_at(&e, &head0, 0), MM_ENONCANON);
    ent_free(&e);
    h.seq_hex = "01";                               /* control */
    hand_build(&h, &e);
    assert_rc(verify_at(&e, &head0, 0), MM_OK);
    ent_free(&e);

    /* version 2, correctly signed */
    h = hand_default();
    h.version = 2;
    hand_build(&h, &e);
    assert_rc(parse(e.b, e.len), MM_EVERSION);
    assert_rc(verify_at(&e, &head0, 0), MM_EVERSION);
    ent_free(&e);

    /* wrong shapes */
    h = hand_default();
    h.nonce_len = MM_NONCE_BYTES - 1;
    hand_build(&h, &e);
    assert_rc(parse(e.b, e.len), MM_EMALFORMED);
    ent_free(&e);
    h = hand_default();
    h.nfields = 8;
    hand_build(&h, &e);
    assert_rc(parse(e.b, e.len), MM_EMALFORMED);
    ent_free(&e);
    h = hand_default();
    h.seq_hex = "ff";                               /* negative seq */
    hand_build(&h, &e);
    assert_rc(parse(e.b, e.len), MM_EMALFORMED);
    ent_free(&e);

    /* seq 1 with a prev hash */
    uint8_t fake_prev[32];
    memset(fake_prev, 0x77, sizeof fake_prev);
    h = hand_default();
    h.prev = fake_prev;
    hand_build(&h, &e);
    assert_rc(verify_at(&e, &head0, 0), MM_EPREV);
    ent_free(&e);

    /* the box altered after sealing, then signed: only decryption fails */
    h = hand_default();
    h.alter_box = 1;
    hand_build(&h, &e);
    assert_rc(parse(e.b, e.len), MM_OK);
    assert_rc(verify_at(&e, &head0, 0), MM_EDECRYPT);
    ent_free(&e);

    /* sealed under another key */
    uint8_t key2[MM_KEY_BYTES];
    memset(key2, 0x99, sizeof key2);
    h = hand_default();
    h.key = key2;
    hand_build(&h, &e);
    assert_rc(verify_at(&e, &head0, 0), MM_EDECRYPT);
    ent_free(&e);
}

static void test_body_errors_through_verify(void **state)
{
    ent_t e;
    static const uint8_t not_map[] = { 0x93, 0x01, 0x02, 0x03 };
    seal(&e, device, &scope, &head0, not_map, sizeof not_map);
    assert_rc(verify_at(&e, &head0, 0), MM_EBODY);
    ent_free(&e);

    static const uint8_t junk[] = { 0x01, 0x02, 0x03 };
    seal(&e, device, &scope, &head0, junk, sizeof junk);
    assert_rc(verify_at(&e, &head0, 0), MM_EBODY);
    ent_free(&e);

    seal(&e, device, &scope, &head0, junk, 0);      /* empty body */
    assert_rc(verify_at(&e, &head0, 0), MM_EBODY);
    ent_free(&e);

    uint8_t t_second[64];
    size_t n = fx_unhex(t_second, sizeof t_second, "82 a1 61 01 a1 74 a4 6e6f7465");
    seal(&e, device, &scope, &head0, t_second, n);
    assert_rc(verify_at(&e, &head0, 0), MM_EBODY);
    ent_free(&e);
}

/* No flag skips a signature: a broken one fails whatever the caller asks,
 * and every other check still runs in its place in the order. */
static void test_no_flag_skips_sig(void **state)
{
    static const unsigned flags[] = { 0, 0x1u, MM_VERIFY_OWN, 0x4u, ~0u };
    ent_t e1, e2;
    seal(&e1, device, &scope, &head0, body, bodylen);
    mm_head_t head1 = { 1, { 0 } };
    memcpy(head1.id, e1.id, 32);

    e1.b[e1.len - 1] ^= 0x01;
    for (size_t f = 0; f < sizeof flags / sizeof flags[0]; f++) {
        assert_rc(verify_at(&e1, &head0, flags[f]), MM_EBADSIG);
        /* the checks before the signature come first */
        assert_rc(verify_at(&e1, &head1, flags[f]), MM_ESEQDUP);
        assert_rc(verify(e1.b, e1.len, &head0, NULL, &scope, flags[f]), MM_ENOCERT);
        assert_rc(verify(e1.b, e1.len, &head0, &cert3, &scope, flags[f]), MM_EBADCERT);
        assert_rc(verify(e1.b, e1.len, &head0, &cert_foreign, &scope, flags[f]), MM_ESCOPE);
        assert_rc(verify(e1.b, e1.len, &head0, &cert, NULL, flags[f]), MM_ESCOPE);
        assert_rc(verify(e1.b, e1.len - 1, &head0, &cert, &scope, flags[f]), MM_ETRUNC);
    }
    e1.b[e1.len - 1] ^= 0x01;

    /* an altered box: refused unsigned, refused re-signed unless our own */
    mm_entry_t p;
    assert_rc(mm_entry_parse(e1.b, e1.len, &p), MM_OK);
    size_t box_at = (size_t) (p.box - e1.b);
    e1.b[box_at] ^= 0x01;
    assert_rc(verify_at(&e1, &head0, MM_VERIFY_OWN), MM_EBADSIG);
    resign(&e1, device);
    assert_rc(verify_at(&e1, &head0, 0), MM_EDECRYPT);
    assert_rc(verify_at(&e1, &head0, MM_VERIFY_OWN), MM_OK);

    /* wrong prev, validly signed */
    mm_head_t wrong = head1;
    wrong.id[5] ^= 0x10;
    seal(&e2, device, &scope, &wrong, body, bodylen);
    assert_rc(verify_at(&e2, &head1, MM_VERIFY_OWN), MM_EPREV);
    ent_free(&e2);
    /* a body that is not a body, validly signed */
    static const uint8_t junk[] = { 0x01 };
    seal(&e2, device, &scope, &head0, junk, sizeof junk);
    assert_rc(verify_at(&e2, &head0, 0), MM_EBODY);

    ent_free(&e1);
    ent_free(&e2);
}

/* mm_entry_check is the verifier after parsing: same answers, and
 * MM_VERIFY_OWN skips exactly the opening of the box. */
static int check_at(const ent_t *e, const mm_head_t *head, const mm_cert_t *c,
                    const mm_scope_t *s, unsigned flags)
{
    mm_entry_t p;
    int rc = mm_entry_parse(e->b, e->len, &p);
    if (rc)
        return rc;
    mm_verify_ctx_t ctx = { .head = head, .cert = c, .scope = s };
    return mm_entry_check(&p, &ctx, flags);
}

static void test_check_and_own(void **state)
{
    ent_t e1, e2;
    seal(&e1, device, &scope, &head0, body, bodylen);
    mm_head_t head1 = { 1, { 0 } }, wrong = { 1, { 0 } };
    memcpy(head1.id, e1.id, 32);
    memcpy(wrong.id, e1.id, 32);
    wrong.id[31] ^= 1;
    seal(&e2, device, &scope, &head1, body, bodylen);

    assert_rc(check_at(&e1, &head0, &cert, &scope, 0), MM_OK);
    assert_rc(check_at(&e2, &head1, &cert, &scope, 0), MM_OK);
    assert_rc(check_at(&e2, &head0, &cert, &scope, 0), MM_ESEQGAP);
    assert_rc(check_at(&e1, &head1, &cert, &scope, 0), MM_ESEQDUP);
    assert_rc(check_at(&e2, &wrong, &cert, &scope, 0), MM_EPREV);
    assert_rc(check_at(&e1, &head0, NULL, &scope, 0), MM_ENOCERT);
    assert_rc(check_at(&e1, &head0, &cert3, &scope, 0), MM_EBADCERT);
    assert_rc(check_at(&e1, &head0, &cert_foreign, &scope, 0), MM_ESCOPE);
    assert_rc(check_at(&e1, &head0, &cert, NULL, 0), MM_ESCOPE);

    /* an altered box passes as our own, a bad signature never does ... */
    mm_entry_t p;
    assert_rc(mm_entry_parse(e1.b, e1.len, &p), MM_OK);
    size_t box_at = (size_t) (p.box - e1.b);
    e1.b[box_at] ^= 0x01;
    assert_rc(check_at(&e1, &head0, &cert, &scope, MM_VERIFY_OWN), MM_EBADSIG);
    resign(&e1, device);
    assert_rc(check_at(&e1, &head0, &cert, &scope, 0), MM_EDECRYPT);
    assert_rc(check_at(&e1, &head0, &cert, &scope, MM_VERIFY_OWN), MM_OK);
    assert_rc(verify_at(&e1, &head0, MM_VERIFY_OWN), MM_OK);
    e1.b[e1.len - 1] ^= 0x01;
    assert_rc(check_at(&e1, &head0, &cert, &scope, MM_VERIFY_OWN), MM_EBADSIG);
    /* ... but feed, certificate and scope are still checked */
    assert_rc(check_at(&e1, &head1, &cert, &scope, MM_VERIFY_OWN), MM_ESEQDUP);
    assert_rc(check_at(&e1, &head0, NULL, &scope, MM_VERIFY_OWN), MM_ENOCERT);
    assert_rc(check_at(&e1, &head0, &cert3, &scope, MM_VERIFY_OWN), MM_EBADCERT);
    assert_rc(check_at(&e1, &head0, &cert_foreign, &scope, MM_VERIFY_OWN), MM_ESCOPE);
    assert_rc(verify(e1.b, e1.len - 1, &head0, &cert, &scope, MM_VERIFY_OWN), MM_ETRUNC);
    assert_rc(check_at(&e2, &wrong, &cert, &scope, MM_VERIFY_OWN), MM_EPREV);
    assert_rc(check_at(&e2, &head0, &cert, &scope, MM_VERIFY_OWN), MM_ESEQGAP);
    ent_free(&e1);
    ent_free(&e2);
}

/* The signature step alone, and the check that takes its answer: the same
 * verdict as mm_entry_check, in the same order, whoever ran the step. */
static int check_presig(const ent_t *e, const mm_head_t *head, int *sig_rc)
{
    mm_entry_t p;
    int rc = mm_entry_parse(e->b, e->len, &p);
    if (rc)
        return rc;
    mm_verify_ctx_t ctx = { .head = head, .cert = &cert, .scope = &scope };
    *sig_rc = mm_entry_sig(&p);
    int both = mm_entry_check_sig(&p, &ctx, 0, *sig_rc);
    assert_rc(both, mm_entry_check(&p, &ctx, 0));
    return both;
}

static void test_sig_step(void **state)
{
    ent_t e1, e2;
    int sig = MM_EINVAL;
    seal(&e1, device, &scope, &head0, body, bodylen);
    mm_head_t head1 = { 1, { 0 } };
    memcpy(head1.id, e1.id, 32);
    seal(&e2, device, &scope, &head1, body, bodylen);

    assert_rc(check_presig(&e1, &head0, &sig), MM_OK);
    assert_rc(sig, MM_OK);
    assert_rc(check_presig(&e2, &head1, &sig), MM_OK);
    /* the steps before the signature come first, whatever it says */
    assert_rc(check_presig(&e2, &head0, &sig), MM_ESEQGAP);
    assert_rc(sig, MM_OK);

    /* a flipped signature byte, a flipped signed byte (time) */
    e1.b[e1.len - 1] ^= 0x01;
    assert_rc(check_presig(&e1, &head0, &sig), MM_EBADSIG);
    assert_rc(sig, MM_EBADSIG);
    assert_rc(check_presig(&e1, &head1, &sig), MM_ESEQDUP);
    e1.b[e1.len - 1] ^= 0x01;
    mm_entry_t p;
    assert_rc(mm_entry_parse(e1.b, e1.len, &p), MM_OK);
    e1.b[p.adlen - 1] ^= 0x01;
    assert_rc(check_presig(&e1, &head0, &sig), MM_EBADSIG);
    e1.b[p.adlen - 1] ^= 0x01;
    /* signed by another device of the same person: its cert is not this one */
    resign(&e1, device3);
    assert_rc(check_presig(&e1, &head0, &sig), MM_EBADSIG);
    assert_rc(sig, MM_EBADSIG);

    /* any answer but MM_OK fails the step; MM_OK lets the box be opened */
    mm_verify_ctx_t ctx = { .head = &head0, .cert = &cert, .scope = &scope };
    resign(&e1, device);
    assert_rc(mm_entry_parse(e1.b, e1.len, &p), MM_OK);
    assert_rc(mm_entry_check_sig(&p, &ctx, 0, MM_EIO), MM_EBADSIG);
    assert_rc(mm_entry_check_sig(&p, &ctx, 0, 1), MM_EBADSIG);
    e1.b[(size_t) (p.box - e1.b)] ^= 0x01;
    resign(&e1, device);
    assert_rc(mm_entry_parse(e1.b, e1.len, &p), MM_OK);
    assert_rc(mm_entry_sig(&p), MM_OK);
    assert_rc(mm_entry_check_sig(&p, &ctx, 0, MM_OK), MM_EDECRYPT);
    ent_free(&e1);
    ent_free(&e2);
}

/* One BLAKE2b pass gives both hashes: the digest the signature signs and
 * the id, each as a hash of its own would; parsing the structure alone
 * hashes nothing. */
static void test_one_pass_hash(void **state)
{
    ent_t e1, e2;
    seal(&e1, device, &scope, &head0, body, bodylen);
    mm_head_t head1 = { 1, { 0 } };
    memcpy(head1.id, e1.id, 32);
    seal(&e2, device, &scope, &head1, body, bodylen);
    const ent_t *all[] = { &e1, &e2 };
    static const uint8_t zero[32];
    for (int k = 0; k < 2; k++) {
        mm_entry_t full, sh;
        uint8_t id[32], digest[32];
        assert_rc(mm_entry_parse(all[k]->b, all[k]->len, &full), MM_OK);
        assert_rc(mm_entry_parse_shape(all[k]->b, all[k]->len, &sh), MM_OK);
        assert_memory_equal(sh.id, zero, 32);
        assert_memory_equal(sh.digest, zero, 32);
        assert_int_equal(sh.signedlen, full.signedlen);
        assert_int_equal(sh.seq, full.seq);
        mm_hash(id, all[k]->b, all[k]->len);
        mm_hash(digest, all[k]->b, full.signedlen);
        assert_memory_equal(full.id, id, 32);
        assert_memory_equal(full.digest, digest, 32);
        assert_memory_equal(full.id, all[k]->id, 32);
        assert_rc(mm_entry_hash_sig(&sh), MM_OK);
        assert_memory_equal(sh.id, id, 32);
        assert_memory_equal(sh.digest, digest, 32);
    }
    /* the same errors as mm_entry_parse */
    mm_entry_t sh;
    assert_rc(mm_entry_parse_shape(e1.b, e1.len - 1, &sh), MM_ETRUNC);
    /* a spoilt signature: the digest is the same, the step fails */
    e1.b[e1.len - 1] ^= 0x01;
    assert_rc(mm_entry_parse_shape(e1.b, e1.len, &sh), MM_OK);
    assert_rc(mm_entry_hash_sig(&sh), MM_EBADSIG);
    e1.b[e1.len - 1] ^= 0x01;
    /* a spoilt signed byte: another digest, the step fails */
    assert_rc(mm_entry_parse_shape(e1.b, e1.len, &sh), MM_OK);
    e1.b[sh.adlen - 1] ^= 0x01;
    assert_rc(mm_entry_hash_sig(&sh), MM_EBADSIG);
    e1.b[sh.adlen - 1] ^= 0x01;
    assert_rc(mm_entry_hash_sig(&sh), MM_OK);
    ent_free(&e1);
    ent_free(&e2);
}

static void test_flip_every_byte(void **state)
{
    ent_t e1, e2;
    seal(&e1, device, &scope, &head0, body, bodylen);
    mm_head_t head1 = { 1, { 0 } };
    memcpy(head1.id, e1.id, 32);
    seal(&e2, device, &scope, &head1, body, bodylen);

    static const uint8_t masks[] = { 0x01, 0x80, 0xff };
    for (size_t m = 0; m < sizeof masks; m++) {
        for (size_t i = 0; i < e1.len; i++) {
            e1.b[i] ^= masks[m];
            int rc = verify_at(&e1, &head0, 0);
            if (rc == MM_OK)
                print_error("flipping byte %zu with %02x still verifies\n", i, masks[m]);
            assert_int_not_equal(rc, MM_OK);
            e1.b[i] ^= masks[m];
        }
        for (size_t i = 0; i < e2.len; i++) {
            e2.b[i] ^= masks[m];
            int rc = verify_at(&e2, &head1, 0);
            if (rc == MM_OK)
                print_error("flipping byte %zu with %02x still verifies\n", i, masks[m]);
            assert_int_not_equal(rc, MM_OK);
            e2.b[i] ^= masks[m];
        }
    }
    assert_rc(verify_at(&e1, &head0, 0), MM_OK);
    assert_rc(verify_at(&e2, &head1, 0), MM_OK);
    ent_free(&e1);
    ent_free(&e2);
}

/* ---- scope records ------------------------------------------------------ */

static void test_scope_record(void **state)
{
    /* the self-scope id is the documented hash */
    uint8_t id[32], ref[32];
    mm_scope_self_id(id, mm_keypair_pk(identity));
    mm_hash2(ref, "mm self scope v1", 16, mm_keypair_pk(identity), 32);
    assert_memory_equal(id, ref, 32);
    assert_memory_equal(scope.id, ref, 32);
    assert_int_equal(mm_scope_has_member(&scope, mm_keypair_pk(identity)), 1);
    assert_int_equal(mm_scope_has_member(&scope, mm_keypair_pk(other_id)), 0);

    mm_scope_t pair;
    memset(&pair, 0, sizeof pair);
    memset(pair.id, 0xab, 32);
    pair.kind = MM_SCOPE_PAIR;
    memset(pair.keys[0], 0x12, 32);
    pair.nkeys = 1;
    pair.nmembers = 2;
    memcpy(pair.members[0], mm_keypair_pk(identity), 32);
    memcpy(pair.members[1], mm_keypair_pk(other_id), 32);
    pair.created = UINT64_MAX - 1;
    assert_int_equal(mm_scope_has_member(&pair, mm_keypair_pk(other_id)), 1);
    assert_int_equal(mm_scope_has_member(&pair, mm_keypair_pk(device)), 0);

    const mm_scope_t *cases[] = { &scope, &pair };
    for (size_t i = 0; i < 2; i++) {
        const mm_scope_t *s = cases[i];
        uint8_t buf[MM_SCOPE_RECORD_MAX + 1];
        size_t len = 0;
        assert_rc(mm_scope_encode(s, buf, sizeof buf, &len), MM_OK);
        assert_true(len > 0 && len <= MM_SCOPE_RECORD_MAX);
        assert_int_equal(buf[0], 0x95);
        assert_int_equal(buf[1], 0x02);             /* written as version 2 */

        mm_scope_t back;
        memset(&back, 0xcd, sizeof back);
        assert_rc(mm_scope_decode(buf, len, &back), MM_OK);
        uint8_t untouched[32];
        memset(untouched, 0xcd, 32);
        assert_memory_equal(back.id, untouched, 32);        /* id left alone */
        assert_int_equal(back.kind, s->kind);
        assert_memory_equal(mm_scope_key(&back), mm_scope_key(s), 32);
        assert_int_equal(back.nmembers, s->nmembers);
        for (unsigned m = 0; m < s->nmembers; m++)
            assert_memory_equal(back.members[m], s->members[m], 32);
        assert_true(back.created == s->created);

        for (size_t k = 0; k < len; k++) {
            uint8_t *pre = malloc(k ? k : 1);
            assert_non_null(pre);
            memcpy(pre, buf, k);
            assert_rc(mm_scope_decode(pre, k, &back), MM_ETRUNC);
            free(pre);
        }
        buf[len] = 0x00;
        assert_rc(mm_scope_decode(buf, len + 1, &back), MM_ETRAILING);
        assert_rc(mm_scope_encode(s, buf, len - 1, &len), MM_ETOOBIG);

        mm_scope_wipe(&back);
        uint8_t zero[sizeof back];
        memset(zero, 0, sizeof zero);
        assert_memory_equal(&back, zero, sizeof back);
    }

    /* hand-made records: version 3; three members; a short key */
    fx_buf_t t;
    fx_buf_init(&t, 512);
    fx_array(&t, 5);
    fx_uint(&t, 3);
    fx_uint(&t, MM_SCOPE_SELF);
    fx_bin(&t, mm_scope_key(&scope), 32);
    fx_array(&t, 1);
    fx_bin(&t, scope.members[0], 32);
    fx_uint(&t, 1);
    mm_scope_t s;
    assert_rc(mm_scope_decode(t.b, t.len, &s), MM_EVERSION);
    t.b[1] = 0x01;                                  /* control: version 1, one key */
    assert_rc(mm_scope_decode(t.b, t.len, &s), MM_OK);

    t.len = 0;
    fx_array(&t, 5);
    fx_uint(&t, 1);
    fx_uint(&t, MM_SCOPE_PAIR);
    fx_bin(&t, mm_scope_key(&scope), 32);
    fx_array(&t, 3);
    for (int m = 0; m < 3; m++)
        fx_bin(&t, scope.members[0], 32);
    fx_uint(&t, 1);
    assert_rc(mm_scope_decode(t.b, t.len, &s), MM_EMALFORMED);
    t.len = 0;                                      /* no members at all */
    fx_array(&t, 5);
    fx_uint(&t, 1);
    fx_uint(&t, MM_SCOPE_SELF);
    fx_bin(&t, mm_scope_key(&scope), 32);
    fx_array(&t, 0);
    fx_uint(&t, 1);
    assert_rc(mm_scope_decode(t.b, t.len, &s), MM_EMALFORMED);

    /* a record longer than any record can be */
    uint8_t big[MM_SCOPE_RECORD_MAX + 1];
    size_t blen;
    assert_rc(mm_scope_encode(&scope, big, sizeof big, &blen), MM_OK);
    memset(big + blen, 0, sizeof big - blen);
    assert_rc(mm_scope_decode(big, sizeof big, &s), MM_ETOOBIG);

    t.len = 0;
    fx_array(&t, 5);
    fx_uint(&t, 1);
    fx_uint(&t, MM_SCOPE_SELF);
    fx_bin(&t, mm_scope_key(&scope), 31);
    fx_array(&t, 1);
    fx_bin(&t, scope.members[0], 32);
    fx_uint(&t, 1);
    assert_rc(mm_scope_decode(t.b, t.len, &s), MM_EMALFORMED);

    t.len = 0;
    fx_array(&t, 5);
    fx_uint(&t, 1);
    fx_rawhex(&t, "cc 01");                         /* kind, non-canonical */
    fx_bin(&t, mm_scope_key(&scope), 32);
    fx_array(&t, 1);
    fx_bin(&t, scope.members[0], 32);
    fx_uint(&t, 1);
    assert_rc(mm_scope_decode(t.b, t.len, &s), MM_ENONCANON);
    fx_buf_free(&t);
    mm_scope_wipe(&s);
    mm_scope_wipe(&pair);
}

/* ---- bodies ------------------------------------------------------------- */

static int check_hex(const char *hex)
{
    uint8_t buf[256];
    size_t n = fx_unhex(buf, sizeof buf, hex);
    uint8_t *copy = malloc(n ? n : 1);
    assert_non_null(copy);
    memcpy(copy, buf, n);
    int rc = mm_body_check(copy, n);
    free(copy);
    return rc;
}

static void test_body_check(void **state)
{
    assert_rc(mm_body_check(body, bodylen), MM_OK);
    assert_rc(check_hex("81 a1 74 a4 6d656d6f"), MM_OK);               /* {"t":"memo"} */
    assert_rc(check_hex("81 a1 74 a4 6e6f7465"), MM_EBODY);            /* a note needs text */
    assert_rc(check_hex("83 a1 74 a1 78 a1 61 92 01 02 a1 7a 81 a1 6b c0"),
              MM_OK);                                   /* unknown keys, nested values */

    assert_rc(check_hex("82 a1 61 01 a1 74 a4 6e6f7465"), MM_EBODY);   /* "t" second */
    assert_rc(check_hex("83 a1 74 a1 78 a1 61 01 a1 61 02"), MM_EBODY); /* "a" twice */
    assert_rc(check_hex("82 a1 74 a1 78 a1 74 a1 79"), MM_EBODY);       /* "t" twice */
    assert_rc(check_hex("82 a1 74 a1 78 05 01"), MM_EBODY);             /* uint key */
    assert_rc(check_hex("82 a1 74 a1 78 c4 01 61 01"), MM_EBODY);       /* bin key */
    assert_rc(check_hex("81 a1 74 05"), MM_EBODY);                      /* "t" not a str */
    assert_rc(check_hex("80"), MM_EBODY);                               /* no "t" */
    assert_rc(check_hex("91 a1 74"), MM_EBODY);                         /* not a map */
    assert_rc(check_hex("a4 6e6f7465"), MM_EBODY);
    assert_rc(check_hex(""), MM_EBODY);
    assert_rc(check_hex("81 a1 74 a4 6e6f7465 c0"), MM_EBODY);          /* trailing */
    assert_rc(check_hex("82 a1 74 a4 6e6f7465 a1 78"), MM_EBODY);       /* truncated */
    assert_rc(check_hex("81 a1 74 d9 04 6e6f7465"), MM_EBODY);          /* non-canonical */
    for (size_t k = 0; k < bodylen; k++)
        assert_rc(mm_body_check(body, k), MM_EBODY);

    /* at most MM_BODY_FIELDS_MAX pairs; the type at most MM_BODY_TYPE_MAX */
    uint8_t buf[1024];
    for (int extra = 0; extra <= 1; extra++) {
        mm_mp_writer_t w;
        mm_mp_writer_init(&w, buf, sizeof buf);
        int n = MM_BODY_FIELDS_MAX + extra;
        mm_mp_put_map(&w, (uint32_t) n);
        mm_mp_put_cstr(&w, "t");
        mm_mp_put_cstr(&w, "x");
        for (int i = 1; i < n; i++) {
            char k[8];
            snprintf(k, sizeof k, "k%03d", i);
            mm_mp_put_cstr(&w, k);
            mm_mp_put_uint(&w, (uint64_t) i);
        }
        assert_rc(mm_mp_writer_status(&w), MM_OK);
        assert_rc(mm_body_check(buf, w.len), extra ? MM_EBODY : MM_OK);
    }
    for (int extra = 0; extra <= 1; extra++) {
        char type[MM_BODY_TYPE_MAX + 2];
        memset(type, 'y', sizeof type);
        type[MM_BODY_TYPE_MAX + extra] = '\0';
        mm_mp_writer_t w;
        mm_mp_writer_init(&w, buf, sizeof buf);
        mm_mp_put_map(&w, 1);
        mm_mp_put_cstr(&w, "t");
        mm_mp_put_cstr(&w, type);
        assert_rc(mm_mp_writer_status(&w), MM_OK);
        assert_rc(mm_body_check(buf, w.len), extra ? MM_EBODY : MM_OK);
    }
}

/* PROTOCOL.md 5.2: "t" first, then the other keys in strictly increasing
 * bytewise order of their raw bytes (section 2), whatever their lengths. */
static void test_body_key_order(void **state)
{
    /* type "x": a type mm does not know, so only the order is checked */
    assert_rc(check_hex("83 a1 74 a1 78 a2 6162 01 a1 62 02"), MM_OK);       /* "ab" < "b" */
    assert_rc(check_hex("83 a1 74 a1 78 a1 62 02 a2 6162 01"), MM_EBODY);
    assert_rc(check_hex("83 a1 74 a1 78 a1 61 01 a2 6162 02"), MM_OK);       /* "a" < "ab" */
    assert_rc(check_hex("83 a1 74 a1 78 a2 6162 02 a1 61 01"), MM_EBODY);
    assert_rc(check_hex("83 a1 74 a1 78 a1 7a 01 a2 c3a9 02"), MM_OK);       /* "z" < "é" */
    assert_rc(check_hex("83 a1 74 a1 78 a2 c3a9 02 a1 7a 01"), MM_EBODY);
    assert_rc(check_hex("83 a1 74 a1 78 a0 01 a1 61 02"), MM_OK);            /* "" first */
    assert_rc(check_hex("83 a1 74 a1 78 a1 61 02 a0 01"), MM_EBODY);
    /* "t" comes first although "ref" < "t" < "text" */
    assert_rc(check_hex("83 a1 74 a1 78 a3 726566 01 a4 74657874 02"), MM_OK);
    assert_rc(check_hex("83 a1 74 a1 78 a4 74657874 02 a3 726566 01"), MM_EBODY);
    assert_rc(check_hex("83 a3 726566 01 a1 74 a1 78 a4 74657874 02"), MM_EBODY);
    /* a 32-byte key (str8 header) still sorts by its bytes: before "b" */
    assert_rc(check_hex("83 a1 74 a1 78 d9 20 61616161616161616161616161616161"
                        "61616161616161616161616161616161 01 a1 62 02"), MM_OK);
    assert_rc(check_hex("83 a1 74 a1 78 a1 62 02 d9 20 61616161616161616161616161616161"
                        "61616161616161616161616161616161 01"), MM_EBODY);
    /* duplicates, adjacent or not, and keys that are not str */
    assert_rc(check_hex("84 a1 74 a1 78 a1 61 01 a1 62 02 a1 61 03"), MM_EBODY);
    assert_rc(check_hex("83 a1 74 a1 78 a1 62 02 a1 62 02"), MM_EBODY);
    assert_rc(check_hex("82 a1 74 a1 78 c0 01"), MM_EBODY);                  /* nil key */
    assert_rc(check_hex("82 a1 74 a1 78 c3 01"), MM_EBODY);                  /* bool key */
    assert_rc(check_hex("82 a1 74 a1 78 91 01 02"), MM_EBODY);               /* array key */
    assert_rc(check_hex("82 a1 74 a1 78 81 a1 61 01 02"), MM_EBODY);         /* map key */
    assert_rc(check_hex("82 c4 01 74 a1 78"), MM_EBODY);                     /* bin "t" */
    /* maps inside a value follow section 2's order too */
    assert_rc(check_hex("82 a1 74 a1 78 a1 76 82 a1 61 01 a1 62 02"), MM_OK);
    assert_rc(check_hex("82 a1 74 a1 78 a1 76 82 a1 62 02 a1 61 01"), MM_EBODY);
    assert_rc(check_hex("82 a1 74 a1 78 a1 76 81 01 02"), MM_EBODY);

    /* mm_body_build writes that order, whatever order it is given */
    uint8_t buf[256], want[256];
    size_t len;
    static const char longk[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";     /* 32 bytes */
    mm_field_t f[] = {
        { "\xc3\xa9", MM_F_UINT, NULL, 0, 6 },
        { "z", MM_F_UINT, NULL, 0, 5 },
        { "b", MM_F_UINT, NULL, 0, 4 },
        { "ab", MM_F_UINT, NULL, 0, 3 },
        { longk, MM_F_UINT, NULL, 0, 2 },
        { "a", MM_F_UINT, NULL, 0, 1 },
    };
    assert_rc(mm_body_build(buf, sizeof buf, &len, "x", f, 6), MM_OK);
    size_t wn = fx_unhex(want, sizeof want,
                         "87 a1 74 a1 78 a1 61 01"
                         " d9 20 61616161616161616161616161616161"
                         "61616161616161616161616161616161 02"
                         " a2 6162 03 a1 62 04 a1 7a 05 a2 c3a9 06");
    assert_int_equal(len, wn);
    assert_memory_equal(buf, want, wn);
    assert_rc(mm_body_check(buf, len), MM_OK);
    mm_field_t twice[] = { { "a", MM_F_UINT, NULL, 0, 1 }, { "a", MM_F_UINT, NULL, 0, 2 } };
    assert_rc(mm_body_build(buf, sizeof buf, &len, "x", twice, 2), MM_EINVAL);
    mm_field_t t[] = { { "t", MM_F_UINT, NULL, 0, 1 } };
    assert_rc(mm_body_build(buf, sizeof buf, &len, "x", t, 1), MM_EINVAL);
}

/* ---- what may appear inside a body ------------------------------------ */

/* One value, from the msgpack spec's format table: hex, then pad bytes of
 * 0x61 (a str's or bin's payload, or an array's fixint elements), and what
 * mm_mp_skip says of it.  As the value of an unknown body key the body is
 * valid exactly when that is MM_OK (PROTOCOL.md 2: mm's subset only). */
static const struct { const char *hex; size_t pad; int rc; } values[] = {
    /* positive fixint; uint8..64 in the shortest form and not */
    { "00", 0, MM_OK }, { "01", 0, MM_OK }, { "7f", 0, MM_OK },
    { "cc 80", 0, MM_OK }, { "cc ff", 0, MM_OK },
    { "cc 00", 0, MM_ENONCANON }, { "cc 7f", 0, MM_ENONCANON },
    { "cd 0100", 0, MM_OK }, { "cd ffff", 0, MM_OK },
    { "cd 0000", 0, MM_ENONCANON }, { "cd 00ff", 0, MM_ENONCANON },
    { "ce 00010000", 0, MM_OK }, { "ce ffffffff", 0, MM_OK },
    { "ce 00000001", 0, MM_ENONCANON }, { "ce 0000ffff", 0, MM_ENONCANON },
    { "cf 0000000100000000", 0, MM_OK }, { "cf ffffffffffffffff", 0, MM_OK },
    { "cf 0000000000000001", 0, MM_ENONCANON }, { "cf 00000000ffffffff", 0, MM_ENONCANON },
    /* negative fixint; int8..64, negative or not */
    { "ff", 0, MM_ENONCANON }, { "e0", 0, MM_ENONCANON },
    { "d0 80", 0, MM_ENONCANON }, { "d0 01", 0, MM_ENONCANON },
    { "d1 8000", 0, MM_ENONCANON }, { "d1 0001", 0, MM_ENONCANON },
    { "d2 80000000", 0, MM_ENONCANON }, { "d2 00000001", 0, MM_ENONCANON },
    { "d3 8000000000000000", 0, MM_ENONCANON }, { "d3 0000000000000001", 0, MM_ENONCANON },
    /* float32, float64 */
    { "ca 3f800000", 0, MM_ENONCANON }, { "ca 00000000", 0, MM_ENONCANON },
    { "cb 3ff0000000000000", 0, MM_ENONCANON }, { "cb 0000000000000000", 0, MM_ENONCANON },
    /* fixstr; str8/16/32 in the shortest form and not */
    { "a0", 0, MM_OK }, { "a1", 1, MM_OK }, { "bf", 31, MM_OK },
    { "d9 20", 32, MM_OK }, { "d9 ff", 255, MM_OK },
    { "d9 00", 0, MM_ENONCANON }, { "d9 1f", 31, MM_ENONCANON },
    { "da 0100", 256, MM_OK }, { "da ffff", 65535, MM_OK },
    { "da 0003", 3, MM_ENONCANON }, { "da 00ff", 255, MM_ENONCANON },
    { "db 00010000", 65536, MM_OK },
    { "db 00000003", 3, MM_ENONCANON }, { "db 0000ffff", 65535, MM_ENONCANON },
    /* bin8/16/32 (bin8 is the shortest for 0..255: bin has no fix form) */
    { "c4 00", 0, MM_OK }, { "c4 01", 1, MM_OK }, { "c4 ff", 255, MM_OK },
    { "c5 0100", 256, MM_OK }, { "c5 0003", 3, MM_ENONCANON }, { "c5 00ff", 255, MM_ENONCANON },
    { "c6 00010000", 65536, MM_OK },
    { "c6 00000003", 3, MM_ENONCANON }, { "c6 0000ffff", 65535, MM_ENONCANON },
    /* fixarray; array16/32 in the shortest form and not */
    { "90", 0, MM_OK }, { "93", 3, MM_OK }, { "9f", 15, MM_OK },
    { "dc 0010", 16, MM_OK }, { "dc 0000", 0, MM_ENONCANON }, { "dc 000f", 15, MM_ENONCANON },
    { "dd 00010000", 65536, MM_OK },
    { "dd 00000002", 2, MM_ENONCANON }, { "dd 0000ffff", 65535, MM_ENONCANON },
    /* fixmap; map16/32 in the shortest form and not; keys str, in order */
    { "80", 0, MM_OK }, { "81 a1 61 01", 0, MM_OK }, { "82 a1 61 01 a1 62 c0", 0, MM_OK },
    { "8f a1 61 01 a1 62 01 a1 63 01 a1 64 01 a1 65 01 a1 66 01 a1 67 01 a1 68 01"
      " a1 69 01 a1 6a 01 a1 6b 01 a1 6c 01 a1 6d 01 a1 6e 01 a1 6f 01", 0, MM_OK },
    { "de 0010 a1 61 01 a1 62 01 a1 63 01 a1 64 01 a1 65 01 a1 66 01 a1 67 01 a1 68 01"
      " a1 69 01 a1 6a 01 a1 6b 01 a1 6c 01 a1 6d 01 a1 6e 01 a1 6f 01 a1 70 01", 0, MM_OK },
    { "de 0000", 0, MM_ENONCANON }, { "de 0001 a1 61 01", 0, MM_ENONCANON },
    { "df 00000000", 0, MM_ENONCANON }, { "df 00000001 a1 61 01", 0, MM_ENONCANON },
    { "82 a1 62 01 a1 61 01", 0, MM_ENONCANON }, { "81 01 01", 0, MM_ENONCANON },
    /* nil, false, true; 0xc1, which msgpack never uses */
    { "c0", 0, MM_OK }, { "c2", 0, MM_OK }, { "c3", 0, MM_OK }, { "c1", 0, MM_EMALFORMED },
    /* fixext 1/2/4/8/16, ext 8/16/32 */
    { "d4 01 00", 0, MM_ENONCANON }, { "d5 01 0000", 0, MM_ENONCANON },
    { "d6 01 00000000", 0, MM_ENONCANON }, { "d7 01 0000000000000000", 0, MM_ENONCANON },
    { "d8 01 00000000000000000000000000000000", 0, MM_ENONCANON },
    { "c7 01 01 00", 0, MM_ENONCANON }, { "c7 00 01", 0, MM_ENONCANON },
    { "c8 0001 01 00", 0, MM_ENONCANON }, { "c9 00000001 01 00", 0, MM_ENONCANON },
    /* the timestamp extension (type -1) in its 32-, 64- and 96-bit forms */
    { "d6 ff 00000000", 0, MM_ENONCANON }, { "d7 ff 0000000000000000", 0, MM_ENONCANON },
    { "c7 0c ff 000000000000000000000000", 0, MM_ENONCANON },
    /* inside arrays and maps too */
    { "92 c3 c2", 0, MM_OK }, { "92 01 ff", 0, MM_ENONCANON },
    { "81 a1 61 ca 00000000", 0, MM_ENONCANON }, { "91 91 91 d6 ff 00000000", 0, MM_ENONCANON },
    { "91 cc 05", 0, MM_ENONCANON },
    /* cut short */
    { "cc", 0, MM_ETRUNC }, { "d9 20", 3, MM_ETRUNC }, { "93 01", 0, MM_ETRUNC },
};

/* rc of mm_mp_skip on v, and the bodies with v under an unknown key: of a
 * type mm does not know, and of a question (a type with a schema row). */
static void value_case(const char *what, const uint8_t *v, size_t n, int want)
{
    static const char *const pre[] = {
        "82 a1 74 a1 78 a1 76",                                     /* {"t":"x","v": */
        "83 a1 74 a8 7175657374696f6e a4 74657874 a2 6869 a2 7a7a", /* question, "zz": */
    };
    uint8_t *buf = malloc(n + 64);
    assert_non_null(buf);
    memcpy(buf, v, n);
    mm_mp_reader_t r;
    mm_mp_reader_init(&r, buf, n);
    int rc = mm_mp_skip(&r);
    if (rc != want)
        print_error("value %s (%zu bytes)\n", what, n);
    assert_rc(rc, want);
    if (rc == MM_OK)
        assert_int_equal(mm_mp_left(&r), 0);
    else
        assert_ptr_equal(r.p, buf);
    for (size_t k = 0; k < sizeof pre / sizeof pre[0]; k++) {
        size_t h = fx_unhex(buf, 64, pre[k]);
        memcpy(buf + h, v, n);
        assert_rc(mm_body_check(buf, h + n), want == MM_OK ? MM_OK : MM_EBODY);
    }
    free(buf);
}

static void test_body_unknown_values(void **state)
{
    size_t cap = 5 * 65536 + 64;
    uint8_t *v = malloc(cap);
    assert_non_null(v);
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        size_t n = fx_unhex(v, 64, values[i].hex);
        memset(v + n, 0x61, values[i].pad);
        n += values[i].pad;
        value_case(values[i].hex, v, n, values[i].rc);
    }
    /* map32 of 65536 pairs: keys "\x00\x00" .. "\xff\xff" in order */
    size_t n = fx_unhex(v, 64, "df 00010000");
    for (unsigned k = 0; k < 65536; k++) {
        v[n++] = 0xa2;
        v[n++] = (uint8_t) (k >> 8);
        v[n++] = (uint8_t) k;
        v[n++] = 0x01;
    }
    value_case("map32", v, n, MM_OK);
    memcpy(v + 5, "\xa2\x00\x01\x01\xa2\x00\x00", 7);    /* first two keys swapped */
    value_case("map32, two keys swapped", v, n, MM_ENONCANON);
    /* 16 arrays or maps deep inside a value, and no deeper */
    for (int maps = 0; maps <= 1; maps++)
        for (size_t depth = MM_MP_MAX_DEPTH; depth <= MM_MP_MAX_DEPTH + 1; depth++) {
            n = 0;
            for (size_t d = 0; d < depth; d++) {
                v[n++] = maps ? 0x81 : 0x91;
                if (maps) {
                    v[n++] = 0xa1;
                    v[n++] = 'k';
                }
            }
            v[n++] = 0xc0;
            value_case(maps ? "nested maps" : "nested arrays", v, n,
                       depth <= MM_MP_MAX_DEPTH ? MM_OK : MM_ETOOBIG);
        }
    free(v);
}

static void test_body_lookups(void **state)
{
    uint8_t buf[256];
    mm_mp_writer_t w;
    mm_mp_writer_init(&w, buf, sizeof buf);
    mm_mp_put_map(&w, 5);
    mm_mp_put_cstr(&w, "t");
    mm_mp_put_cstr(&w, MM_T_NOTE);
    mm_mp_put_cstr(&w, "b");
    mm_mp_put_bin(&w, "\x00\x01\x02", 3);
    mm_mp_put_cstr(&w, "n");
    mm_mp_put_uint(&w, 300);
    mm_mp_put_cstr(&w, "s");
    mm_mp_put_cstr(&w, "words");
    mm_mp_put_cstr(&w, "text");             /* a note's one required field */
    mm_mp_put_cstr(&w, "hi");
    assert_rc(mm_mp_writer_status(&w), MM_OK);
    size_t len = w.len;
    assert_rc(mm_body_check(buf, len), MM_OK);

    const char *t;
    uint32_t tn;
    assert_rc(mm_body_type(buf, len, &t, &tn), MM_OK);
    assert_int_equal(tn, 4);
    assert_memory_equal(t, "note", 4);
    assert_int_equal(mm_body_is(buf, len, MM_T_NOTE), 1);
    assert_int_equal(mm_body_is(buf, len, "not"), 0);
    assert_int_equal(mm_body_is(buf, len, "notes"), 0);

    const char *s;
    const uint8_t *p;
    uint32_t n;
    uint64_t v;
    assert_rc(mm_body_str(buf, len, "s", &s, &n), MM_OK);
    assert_int_equal(n, 5);
    assert_memory_equal(s, "words", 5);
    assert_true((const uint8_t *) s > buf && (const uint8_t *) s < buf + len);
    assert_rc(mm_body_bin(buf, len, "b", &p, &n), MM_OK);
    assert_int_equal(n, 3);
    assert_memory_equal(p, "\x00\x01\x02", 3);
    assert_rc(mm_body_uint(buf, len, "n", &v), MM_OK);
    assert_true(v == 300);

    assert_rc(mm_body_str(buf, len, "x", &s, &n), MM_ENOTFOUND);
    assert_rc(mm_body_bin(buf, len, "x", &p, &n), MM_ENOTFOUND);
    assert_rc(mm_body_uint(buf, len, "x", &v), MM_ENOTFOUND);
    assert_rc(mm_body_str(buf, len, "", &s, &n), MM_ENOTFOUND);
    assert_rc(mm_body_str(buf, len, "ss", &s, &n), MM_ENOTFOUND);  /* no prefix match */

    assert_rc(mm_body_str(buf, len, "n", &s, &n), MM_EBODY);
    assert_rc(mm_body_uint(buf, len, "s", &v), MM_EBODY);
    assert_rc(mm_body_bin(buf, len, "s", &p, &n), MM_EBODY);
    assert_rc(mm_body_str(buf, len, "b", &s, &n), MM_EBODY);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seal_verify_chain),
        cmocka_unit_test(test_fixed_nonce_matches_hand_built),
        cmocka_unit_test(test_verify_errors),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_truncated_trailing),
        cmocka_unit_test(test_hand_built_format_errors),
        cmocka_unit_test(test_body_errors_through_verify),
        cmocka_unit_test(test_no_flag_skips_sig),
        cmocka_unit_test(test_check_and_own),
        cmocka_unit_test(test_sig_step),
        cmocka_unit_test(test_one_pass_hash),
        cmocka_unit_test(test_flip_every_byte),
        cmocka_unit_test(test_scope_record),
        cmocka_unit_test(test_body_check),
        cmocka_unit_test(test_body_key_order),
        cmocka_unit_test(test_body_unknown_values),
        cmocka_unit_test(test_body_lookups),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
