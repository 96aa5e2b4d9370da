/*  fuzz_entry.c -- libFuzzer harness: the entry decoder and the one
 *  verifier, against a fixed store and fixed keys, and the formats an entry
 *  depends on (certificates, bodies, scope records, raw msgpack).
 *
 *  The store, built once per process in a temporary directory, holds
 *  Grace's and Ada's certificates, Grace's self scope, their pair scope,
 *  entries 1-2 of Grace's self feed and entry 1 of Ada's pair feed.  Store
 *  writes happen in a transaction that is aborted, so every input meets
 *  the same store.
 *
 *  Input: byte 0 picks what the rest is fed to.
 *    bits 0-2  0 mm_entry_verify, 1 mm_log_put (the store's verifier),
 *              2 mm_log_put_run (framed: [u16 BE length][entry]...),
 *              3 mm_cert_parse, 4 mm_body_check and lookups,
 *              5 mm_scope_decode, 6-7 mm_mp_skip
 *    bits 3-4  for 0: the context: Grace's self feed empty / at seq 2,
 *              Ada's pair feed empty / at seq 1
 *    bits 5-6  for 0 and 1: flags 0, SIG_TRUSTED, SIG_DEFERRED, OWN
 *  Seeds in corpus/entry: `replay_entry --write-seeds DIR`.
 */
#include "tests/fuzz/fuzz.h"
#include "core/body.h"
#include "core/cert.h"
#include "core/entry.h"
#include "core/log.h"
#include "core/scope.h"
#include "core/store.h"

enum { DO_VERIFY, DO_PUT, DO_RUN, DO_CERT, DO_BODY, DO_SCOPE, DO_SKIP };
#define SEL(what, ctx, flags) ((uint8_t) ((what) | (ctx) << 3 | (flags) << 5))
#define RUN_MAX 64

/* every verifier flag there is (no flag skips a signature any more) */
static const unsigned flag_sets[4] = { 0, MM_VERIFY_OWN, 0, MM_VERIFY_OWN };

static mm_store_t *store;
static mm_keypair_t *grace_id, *grace_dev, *ada_id, *ada_dev;
static mm_cert_t grace_cert, ada_cert;
static mm_scope_t self_scope, pair_scope;
static mm_head_t grace_head, ada_head;      /* as stored */
static uint8_t g1[512], g2[512], a1[512];
static size_t g1len, g2len, a1len;

static int say(const char *what, int rc)
{
    if (fz_verbose())
        fprintf(stderr, "entry: %s: %s\n", what, mm_errname(rc));
    return rc;
}

/* At exit, before the directory goes (atexit runs in reverse order). */
static void close_store(void)
{
    mm_store_close(&store);
}

static void put(mm_txn_t *txn, const uint8_t *buf, size_t len)
{
    FZ_OK(mm_log_put(txn, buf, len, NULL));
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    uint8_t raw[MM_CERT_MAX];
    size_t len;
    mm_txn_t *txn;
    mm_head_t h = { 0 };

    FZ_OK(mm_crypto_init());
    grace_id = fz_keypair(FZ_GRACE_ID);
    grace_dev = fz_keypair(FZ_GRACE_DEV);
    ada_id = fz_keypair(FZ_ADA_ID);
    ada_dev = fz_keypair(FZ_ADA_DEV);
    FZ_OK(mm_store_open(fz_tmpdir(), MM_STORE_CREATE, &store));
    atexit(close_store);
    FZ_OK(mm_store_begin(store, 1, &txn));
    len = fz_cert(grace_id, grace_dev, "laptop", raw);
    FZ_OK(mm_cert_put(txn, raw, len, &grace_cert));
    len = fz_cert(ada_id, ada_dev, "phone", raw);
    FZ_OK(mm_cert_put(txn, raw, len, &ada_cert));

    memset(&self_scope, 0, sizeof self_scope);
    mm_scope_self_id(self_scope.id, mm_keypair_pk(grace_id));
    self_scope.kind = MM_SCOPE_SELF;
    memset(self_scope.keys[0], 0x43, 32);
    self_scope.nkeys = 1;
    self_scope.nmembers = 1;
    memcpy(self_scope.members[0], mm_keypair_pk(grace_id), 32);
    self_scope.created = FZ_TIME;
    fz_pair_scope(&pair_scope, mm_keypair_pk(grace_id), mm_keypair_pk(ada_id));
    FZ_OK(mm_scope_put(txn, &self_scope));
    FZ_OK(mm_scope_put(txn, &pair_scope));

    g1len = fz_seal(grace_dev, &self_scope, &h, 1, "Ask Ada about her first lead role", g1,
                    sizeof g1);
    g2len = fz_seal(grace_dev, &self_scope, &h, 2, "and about the budget", g2, sizeof g2);
    grace_head = h;
    memset(&h, 0, sizeof h);
    a1len = fz_seal(ada_dev, &pair_scope, &h, 3, "How did you choose?", a1, sizeof a1);
    ada_head = h;
    put(txn, g1, g1len);
    put(txn, g2, g2len);
    put(txn, a1, a1len);
    FZ_OK(mm_txn_commit(&txn));
    return 0;
}

static void verify(const uint8_t *p, size_t n, unsigned ctxsel, unsigned flags)
{
    static const mm_head_t empty = { 0 };
    const mm_head_t *head = ctxsel & 1 ? (ctxsel & 2 ? &ada_head : &grace_head) : &empty;
    mm_verify_ctx_t ctx = { .head = head, .cert = ctxsel & 2 ? &ada_cert : &grace_cert,
                            .scope = ctxsel & 2 ? &pair_scope : &self_scope };
    mm_entry_t e, parsed;
    int rc = say("verify", mm_entry_verify(p, n, &ctx, flags, &e));
    int prc = mm_entry_parse(p, n, &parsed);
    /* the verifier parses first: a parse error is its error */
    FZ_ASSERT(prc == MM_OK || rc == prc);
    if (rc != MM_OK)
        return;
    FZ_ASSERT(e.bytes == p && e.len == n);
    FZ_ASSERT(e.adlen < e.signedlen && e.signedlen + 2 + MM_SIG_BYTES == n);
    FZ_ASSERT(e.boxlen >= MM_TAG_BYTES && e.boxlen <= MM_BODY_MAX + MM_TAG_BYTES);
    FZ_ASSERT(e.seq == head->seq + 1);
    FZ_ASSERT(memcmp(e.id, parsed.id, 32) == 0);
    if ((flags & MM_VERIFY_OWN) != MM_VERIFY_OWN) {
        /* the box opened in the verifier: it opens here, to a valid body */
        size_t cap = e.boxlen - MM_TAG_BYTES, got;
        uint8_t *pt = malloc(cap ? cap : 1);
        FZ_ASSERT(pt);
        FZ_OK(mm_entry_open_scope(&e, ctx.scope, pt, cap, &got));
        FZ_ASSERT(got == cap && mm_body_check(pt, got) == MM_OK);
        free(pt);
    }
}

static void store_put(const uint8_t *p, size_t n, unsigned flags)
{
    mm_txn_t *txn;
    mm_entry_t e;
    mm_head_t head;
    const uint8_t *got;
    size_t gotlen;
    FZ_OK(mm_store_begin(store, 1, &txn));
    if (say("mm_log_put", mm_log_put(txn, p, n, &e)) == MM_OK) {
        FZ_OK(mm_log_head(txn, e.author, e.scope, &head));
        FZ_ASSERT(head.seq == e.seq && memcmp(head.id, e.id, 32) == 0);
        FZ_OK(mm_log_get(txn, e.author, e.scope, e.seq, &got, &gotlen));
        FZ_ASSERT(gotlen == n && memcmp(got, p, n) == 0);
    }
    mm_txn_abort(&txn);
}

static void store_run(const uint8_t *p, size_t n)
{
    const uint8_t *bufs[RUN_MAX];
    size_t lens[RUN_MAX], k = 0, stored = 0;
    mm_txn_t *txn;
    while (k < RUN_MAX && fz_next_frame(&p, &n, &bufs[k], &lens[k]))
        k++;
    if (!k)
        return;
    FZ_OK(mm_store_begin(store, 1, &txn));
    if (say("mm_log_put_run", mm_log_put_run(txn, bufs, lens, k, &stored)) == MM_OK)
        FZ_ASSERT(stored <= k);
    mm_txn_abort(&txn);
}

static void cert(const uint8_t *p, size_t n)
{
    mm_cert_t c, d;
    if (say("mm_cert_parse", mm_cert_parse(p, n, &c)) != MM_OK)
        return;
    /* what the store reads back decodes the same without the signature check */
    memset(&d, 0, sizeof d);
    FZ_OK(mm_cert_decode(p, n, &d));
    FZ_ASSERT(memcmp(c.identity, d.identity, 32) == 0 && memcmp(c.device, d.device, 32) == 0
              && c.created == d.created && strcmp(c.name, d.name) == 0
              && memcmp(c.sig, d.sig, sizeof c.sig) == 0);
}

static void body(const uint8_t *p, size_t n)
{
    const char *s;
    const uint8_t *b;
    uint32_t sl;
    uint64_t v;
    if (say("mm_body_check", mm_body_check(p, n)) != MM_OK)
        return;
    FZ_OK(mm_body_type(p, n, &s, &sl));
    FZ_ASSERT(sl <= MM_BODY_TYPE_MAX);
    FZ_ASSERT(mm_body_str(p, n, "t", &s, &sl) == MM_OK);
    static const char *const keys[] = { "text", "n", "q", "ref", "note", "until", "role" };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (mm_body_str(p, n, keys[i], &s, &sl) == MM_OK)
            FZ_ASSERT(s >= (const char *) p && s + sl <= (const char *) p + n);
        if (mm_body_bin(p, n, keys[i], &b, &sl) == MM_OK)
            FZ_ASSERT(b >= p && b + sl <= p + n);
        if (mm_body_uint(p, n, keys[i], &v) != MM_OK)
            v = 0;                  /* absent or not a uint: both fine here */
    }
}

static void scope(const uint8_t *p, size_t n)
{
    mm_scope_t s;
    uint8_t out[MM_SCOPE_RECORD_MAX];
    size_t len;
    memset(&s, 0, sizeof s);
    if (say("mm_scope_decode", mm_scope_decode(p, n, &s)) != MM_OK)
        return;
    /* canonical: one record, one encoding (a version-1 record is written
     * again as version 2, so only v2 must come back byte for byte) */
    FZ_OK(mm_scope_encode(&s, out, sizeof out, &len));
    FZ_ASSERT(p[1] != 0x02 || (len == n && memcmp(out, p, n) == 0));
    mm_scope_wipe(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    unsigned flags = flag_sets[data[0] >> 5 & 3];
    mm_mp_reader_t r;
    switch (data[0] & 7) {
    case DO_VERIFY: verify(p, n, data[0] >> 3 & 3, flags); break;
    case DO_PUT:    store_put(p, n, flags); break;
    case DO_RUN:    store_run(p, n); break;
    case DO_CERT:   cert(p, n); break;
    case DO_BODY:   body(p, n); break;
    case DO_SCOPE:  scope(p, n); break;
    default:
        mm_mp_reader_init(&r, p, n);
        while (mm_mp_skip(&r) == MM_OK && mm_mp_left(&r))
            ;
    }
    return 0;
}

/* ---- seeds ---- */

static void seed(const char *dir, const char *name, uint8_t sel, const void *p, size_t n)
{
    static fz_buf_t s;
    s.len = 0;
    fz_buf_byte(&s, sel);
    fz_buf_add(&s, p, n);
    fz_seed_buf(dir, name, &s);
}

void fz_seeds(const char *dir)
{
    static fz_buf_t run;
    uint8_t g3[512], g4[512], a2[512], a3[512], raw[MM_CERT_MAX], rec[MM_SCOPE_RECORD_MAX];
    uint8_t bodybuf[512];
    size_t g3len, g4len, a2len, a3len, len, bodylen;
    mm_head_t h = grace_head;
    g3len = fz_seal(grace_dev, &self_scope, &h, 4, "third", g3, sizeof g3);
    g4len = fz_seal(grace_dev, &self_scope, &h, 5, "", g4, sizeof g4);
    h = ada_head;
    a2len = fz_seal(ada_dev, &pair_scope, &h, 6, "second question", a2, sizeof a2);
    a3len = fz_seal(ada_dev, &pair_scope, &h, 7, "thanks", a3, sizeof a3);

    seed(dir, "verify-grace-1", SEL(DO_VERIFY, 0, 0), g1, g1len);
    seed(dir, "verify-grace-3", SEL(DO_VERIFY, 1, 0), g3, g3len);
    seed(dir, "verify-ada-1", SEL(DO_VERIFY, 2, 0), a1, a1len);
    seed(dir, "verify-ada-2-deferred", SEL(DO_VERIFY, 3, 2), a2, a2len);
    seed(dir, "verify-grace-3-trusted", SEL(DO_VERIFY, 1, 1), g3, g3len);
    seed(dir, "verify-grace-3-own", SEL(DO_VERIFY, 1, 3), g3, g3len);
    seed(dir, "put-grace-3", SEL(DO_PUT, 0, 0), g3, g3len);
    seed(dir, "put-ada-2-deferred", SEL(DO_PUT, 0, 2), a2, a2len);
    seed(dir, "put-grace-2-dup", SEL(DO_PUT, 0, 0), g2, g2len);

    run.len = 0;
    fz_buf_byte(&run, SEL(DO_RUN, 0, 0));
    fz_buf_frame(&run, g3, g3len);
    fz_buf_frame(&run, g4, g4len);
    fz_seed_buf(dir, "run-grace-3-4", &run);
    run.len = 0;
    fz_buf_byte(&run, SEL(DO_RUN, 0, 0));
    fz_buf_frame(&run, a1, a1len);
    fz_buf_frame(&run, a2, a2len);
    fz_buf_frame(&run, a3, a3len);
    fz_seed_buf(dir, "run-ada-1-3", &run);

    len = fz_cert(grace_id, grace_dev, "laptop", raw);
    seed(dir, "cert-grace", SEL(DO_CERT, 0, 0), raw, len);
    len = fz_cert(ada_id, grace_dev, "", raw);
    seed(dir, "cert-empty-name", SEL(DO_CERT, 0, 0), raw, len);

    mm_field_t f[] = {
        { "n", MM_F_UINT, NULL, 0, 300 },
        { "ref", MM_F_BIN, g1, 32, 0 },
        { "text", MM_F_STR, "What would you do first?", 24, 0 },
    };
    FZ_OK(mm_body_build(bodybuf, sizeof bodybuf, &bodylen, MM_T_QUESTION, f, 3));
    seed(dir, "body-question", SEL(DO_BODY, 0, 0), bodybuf, bodylen);
    seed(dir, "skip-body", SEL(DO_SKIP, 0, 0), bodybuf, bodylen);
    FZ_OK(mm_body_build(bodybuf, sizeof bodybuf, &len, MM_T_NOTE, f + 2, 1));
    seed(dir, "body-note", SEL(DO_BODY, 0, 0), bodybuf, len);

    FZ_OK(mm_scope_encode(&self_scope, rec, sizeof rec, &len));
    seed(dir, "scope-self", SEL(DO_SCOPE, 0, 0), rec, len);
    FZ_OK(mm_scope_encode(&pair_scope, rec, sizeof rec, &len));
    seed(dir, "scope-pair", SEL(DO_SCOPE, 0, 0), rec, len);

    seed(dir, "skip-entry", SEL(DO_SKIP, 0, 0), a2, a2len);
}
