/*  test_session_vectors.c -- PROTOCOL.md's session vectors: the exact
 *  frames of an invite (ACCEPT, WELCOME) and of one sync session between
 *  Ada and Grace, made from fixed seeds, and replayed against the session
 *  engine in memory, so that spec and code cannot drift.
 *
 *  MM_PRINT_VECTORS=1 prints the block instead of checking it (to write a
 *  new one into PROTOCOL.md after a deliberate format change). */
#include <sodium.h>
#include "fixture.h"
#include "fxhome.h"
#include "core/body.h"
#include "core/home.h"
#include "core/invite.h"
#include "core/log.h"
#include "crypto/encoding.h"
#include "net/session.h"
#include "net/wire.h"

#define T0    1767225600000ull      /* 2026-01-01T00:00:00Z */
#define NV    32
#define QUEUE 16

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
    assert_true(nmade < NV);
    vec_t *v = &made[nmade++];
    snprintf(v->name, sizeof v->name, "%s", name);
    v->hex = malloc(2 * n + 1);
    mm_encoding_hex(v->hex, b, n);
}

static mm_keypair_t *seeded(uint8_t start)
{
    uint8_t seed[MM_SEED_BYTES];
    fill(seed, sizeof seed, start);
    mm_keypair_t *kp = mm_keypair_new_from_seed(seed);
    assert_non_null(kp);
    return kp;
}

/* ---- the two people, from fixed seeds ---- */

typedef struct {
    char dir[FX_PATH_MAX];
    mm_keypair_t *ada_id, *ada_dev, *grace_id, *grace_dev;
    mm_scope_t r;                   /* their relationship scope */
    uint8_t g1[512], g2[512], a1[512];
    size_t g1len, g2len, a1len;
} world_t;

static world_t W;

static mm_home_t *person(const char *sub, const char *name, const char *dev,
                         const mm_keypair_t *id, const mm_keypair_t *dk)
{
    char path[FX_PATH_MAX];
    mm_home_t *h;
    fx_path(path, W.dir, sub);
    assert_rc(mm_home_init_keys(path, name, dev, T0, id, dk), MM_OK);
    assert_rc(mm_home_open(path, &h), MM_OK);
    return h;
}

/* home knows other as a peer with role, shares W.r, and holds the entries. */
static void befriend(mm_home_t *home, mm_home_t *other, const char *petname, unsigned role,
                     const uint8_t *const *bufs, const size_t *lens, size_t n)
{
    mm_txn_t *txn;
    fx_befriend(home, other, petname, role, &W.r);
    assert_rc(mm_store_begin(mm_home_store(home), 1, &txn), MM_OK);
    for (size_t i = 0; i < n; i++) {
        size_t stored;
        assert_rc(mm_log_put_run(txn, &bufs[i], &lens[i], 1, &stored), MM_OK);
    }
    assert_rc(mm_txn_commit(&txn), MM_OK);
}

/* Seal body as entry seq of dev's feed in W.r after prev (NULL: first). */
static size_t seal(const mm_keypair_t *dev, const uint8_t *prev, uint64_t seq, uint64_t time,
                   uint8_t nonce_start, const char *type, const mm_field_t *f, size_t nf,
                   uint8_t *out)
{
    uint8_t body[512], nonce[24];
    size_t blen, len;
    mm_head_t head;
    memset(&head, 0, sizeof head);
    head.seq = seq - 1;
    fill(nonce, sizeof nonce, nonce_start);
    assert_rc(mm_body_build(body, sizeof body, &blen, type, f, nf), MM_OK);
    if (prev) {
        /* the id of the previous entry: parse it at its own length */
        mm_entry_t pe;
        size_t plen = prev == W.g1 ? W.g1len : W.a1len;
        assert_rc(mm_entry_parse(prev, plen, &pe), MM_OK);
        memcpy(head.id, pe.id, 32);
    }
    assert_rc(mm_entry_seal(dev, &W.r, &head, time, nonce, body, blen, out, 512, &len), MM_OK);
    return len;
}

/* ---- frames in memory ---- */

typedef struct {
    uint8_t *v[QUEUE];
    size_t   len[QUEUE];
    size_t   n, head;
} queue_t;

static int enqueue(void *arg, const void *buf, size_t len)
{
    queue_t *q = arg;
    assert_true(q->n < QUEUE);
    q->v[q->n] = malloc(len ? len : 1);
    memcpy(q->v[q->n], buf, len);
    q->len[q->n++] = len;
    return MM_OK;
}

static void queue_free(queue_t *q)
{
    for (size_t i = 0; i < q->n; i++)
        free(q->v[i]);
    memset(q, 0, sizeof *q);
}

static void remote_key(uint8_t x[32], mm_home_t *h)
{
    assert_rc(mm_pk_to_x25519(x, mm_keypair_pk(mm_home_device(h))), MM_OK);
}

/* Run one session, frames popped in turn from each direction's queue. */
static void run_session(mm_home_t *ada, mm_home_t *grace, queue_t *a2g, queue_t *g2a)
{
    mm_session_t *c, *s;
    uint8_t kc[32], ks[32];
    remote_key(kc, grace);
    remote_key(ks, ada);
    assert_rc(mm_session_new(ada, 1, kc, mm_home_identity_pk(grace), enqueue, a2g, &c), MM_OK);
    assert_rc(mm_session_new(grace, 0, ks, NULL, enqueue, g2a, &s), MM_OK);
    assert_rc(mm_session_start(c), MM_OK);
    while (a2g->head < a2g->n || g2a->head < g2a->n) {
        if (a2g->head < a2g->n) {
            assert_rc(mm_session_input(s, a2g->v[a2g->head], a2g->len[a2g->head]), MM_OK);
            a2g->head++;
        } else {
            assert_rc(mm_session_input(c, g2a->v[g2a->head], g2a->len[g2a->head]), MM_OK);
            g2a->head++;
        }
    }
    assert_true(mm_session_done(c));
    assert_true(mm_session_done(s));
    mm_session_destroy(&c);
    mm_session_destroy(&s);
}

static const char QTEXT[] = "What helped you most when you first led a team of five?";
static const char NOTE[] = "Happy to help in short bursts";

/* Both homes before their first sync: Ada holds g1 (from the invite) and
 * her question a1; Grace holds g1 and g2. */
static void world(mm_home_t **ada, mm_home_t **grace, const char *suffix)
{
    char a[32], g[32];
    snprintf(a, sizeof a, "ada%s", suffix);
    snprintf(g, sizeof g, "grace%s", suffix);
    *ada = person(a, "Ada", "laptop", W.ada_id, W.ada_dev);
    *grace = person(g, "Grace", "desk", W.grace_id, W.grace_dev);
    const uint8_t *ab[] = { W.g1, W.a1 }, *gb[] = { W.g1, W.g2 };
    size_t al[] = { W.g1len, W.a1len }, gl[] = { W.g1len, W.g2len };
    /* a's cert is needed in a's own store before a1 can be put: it is */
    befriend(*grace, *ada, "ada", MM_ROLE_MENTEE, gb, gl, 2);
    befriend(*ada, *grace, "grace", MM_ROLE_MENTOR, ab, al, 2);
}

static int setup(void **state)
{
    if (fx_setup_crypto(state))
        return -1;
    fx_mkdtemp(W.dir);
    W.ada_id = seeded(0x00);
    W.ada_dev = seeded(0x20);
    W.grace_id = seeded(0x80);
    W.grace_dev = seeded(0xa0);
    W.r.kind = MM_SCOPE_PAIR;
    W.r.nmembers = 2;
    memcpy(W.r.members[0], mm_keypair_pk(W.grace_id), 32);
    memcpy(W.r.members[1], mm_keypair_pk(W.ada_id), 32);
    fill(W.r.id, 32, 0xc0);
    fill(W.r.keys[0], 32, 0xe0);
    W.r.nkeys = 1;
    W.r.created = T0;

    /* the invite: Grace's code, Ada's ACCEPT, Grace's WELCOME */
    mm_home_t *ada = person("ada-invite", "Ada", "laptop", W.ada_id, W.ada_dev);
    mm_home_t *grace = person("grace-invite", "Grace", "desk", W.grace_id, W.grace_dev);
    mm_invite_code_t code;
    mm_invite_request_t req;
    uint8_t pk[32], sk[32], frame[2048];
    mm_mp_writer_t w;
    char why[256];
    memset(&code, 0, sizeof code);
    memcpy(code.identity, mm_keypair_pk(W.grace_id), 32);
    memcpy(code.device, mm_keypair_pk(W.grace_dev), 32);
    fill(code.secret, 32, 0x50);
    code.expires = T0 + 86400000;
    code.nendpoints = 1;
    strcpy(code.endpoints[0], "tcp://127.0.0.1:7460");
    mm_invite_keys(code.secret, pk, sk);
    add("invite_pk", pk, 32);
    assert_rc(mm_invite_prepare(ada, &code, "grace", T0 + 1000, &req, why, sizeof why), MM_OK);
    mm_mp_writer_init(&w, frame, sizeof frame);
    mm_wire_accept(&w, req.cert, req.certlen, req.name, req.sig);
    assert_rc(mm_mp_writer_status(&w), MM_OK);
    add("accept", w.buf, w.len);
    const uint8_t *raw;
    size_t rawlen;
    mm_cert_t c;
    mm_txn_t *txn;
    assert_rc(mm_store_begin(mm_home_store(grace), 0, &txn), MM_OK);
    assert_rc(mm_cert_get(txn, mm_keypair_pk(W.grace_dev), &c, &raw, &rawlen), MM_OK);
    mm_mp_writer_init(&w, frame, sizeof frame);
    mm_wire_welcome(&w, raw, rawlen, "Grace", W.r.id, mm_scope_key(&W.r), MM_ROLE_MENTOR);
    mm_txn_abort(&txn);
    assert_rc(mm_mp_writer_status(&w), MM_OK);
    add("welcome", w.buf, w.len);
    mm_home_close(&ada);
    mm_home_close(&grace);
    sodium_memzero(sk, sizeof sk);

    /* the entries of their relationship */
    mm_field_t fi[] = { { "note", MM_F_STR, NOTE, sizeof NOTE - 1, 0 },
                        { "role", MM_F_STR, "mentor", 6, 0 } };
    W.g1len = seal(W.grace_dev, NULL, 1, T0 + 2000, 0x10, MM_T_INVITE, fi, 2, W.g1);
    mm_field_t fq[] = { { "text", MM_F_STR, QTEXT, sizeof QTEXT - 1, 0 } };
    W.a1len = seal(W.ada_dev, NULL, 1, T0 + 3000, 0x40, MM_T_QUESTION, fq, 1, W.a1);
    mm_field_t fa[] = { { "until", MM_F_UINT, NULL, 0, T0 + 7 * 86400000ull } };
    W.g2len = seal(W.grace_dev, W.g1, 2, T0 + 4000, 0x28, MM_T_AWAY, fa, 1, W.g2);
    add("g1", W.g1, W.g1len);
    add("a1", W.a1, W.a1len);
    add("g2", W.g2, W.g2len);

    /* one sync session, frame by frame */
    queue_t a2g, g2a;
    char name[32];
    memset(&a2g, 0, sizeof a2g);
    memset(&g2a, 0, sizeof g2a);
    world(&ada, &grace, "");
    run_session(ada, grace, &a2g, &g2a);
    for (size_t i = 0; i < a2g.n; i++) {
        snprintf(name, sizeof name, "ada_%zu", i + 1);
        add(name, a2g.v[i], a2g.len[i]);
    }
    for (size_t i = 0; i < g2a.n; i++) {
        snprintf(name, sizeof name, "grace_%zu", i + 1);
        add(name, g2a.v[i], g2a.len[i]);
    }
    queue_free(&a2g);
    queue_free(&g2a);
    mm_home_close(&ada);
    mm_home_close(&grace);
    *state = &W;
    return 0;
}

static int teardown(void **state)
{
    mm_keypair_destroy(&W.ada_id);
    mm_keypair_destroy(&W.ada_dev);
    mm_keypair_destroy(&W.grace_id);
    mm_keypair_destroy(&W.grace_dev);
    for (int i = 0; i < nmade; i++)
        free(made[i].hex);
    fx_rmrf(W.dir);
    return 0;
}

/* ---- the block in PROTOCOL.md ---- */

static void print_block(void)
{
    printf("```session-vectors\n");
    for (int i = 0; i < nmade; i++) {
        const char *h = made[i].hex;
        size_t len = strlen(h), first = 64;
        printf("%s = %.*s\n", made[i].name, (int) (len < first ? len : first), h);
        for (size_t o = first; o < len; o += 64)
            printf("    %.64s\n", h + o);
    }
    printf("```\n");
}

static void test_doc_matches_code(void **state)
{
    vec_t doc[NV];
    if (getenv("MM_PRINT_VECTORS")) {
        print_block();
        return;
    }
    int n = fx_read_vectors("session-vectors", doc, NV);
    for (int i = 0; i < n && i < nmade; i++) {
        assert_string_equal(doc[i].name, made[i].name);
        if (strcmp(doc[i].hex, made[i].hex) != 0)
            fail_msg("PROTOCOL.md session vector %s differs from the code:\n doc  %s\n code %s",
                     doc[i].name, doc[i].hex, made[i].hex);
    }
    assert_int_equal(n, nmade);
    for (int i = 0; i < n; i++)
        free(doc[i].hex);
}

/* The frames of one side, as the doc gives them (owned by the caller). */
static size_t frames_of(const char *side, uint8_t *v[QUEUE], size_t len[QUEUE])
{
    size_t n = 0, pl = strlen(side);
    for (int i = 0; i < nmade && n < QUEUE; i++) {
        if (strncmp(made[i].name, side, pl) || made[i].name[pl] != '_')
            continue;
        size_t hl = strlen(made[i].hex);
        v[n] = malloc(hl / 2 + 1);
        assert_rc(mm_encoding_unhex(v[n], hl / 2, made[i].hex), MM_OK);
        len[n++] = hl / 2;
    }
    return n;
}

/* Grace's engine, given Ada's frames in order, answers with exactly
 * Grace's frames, and ends complete with a1 stored; and the other way. */
static void test_replay_each_side(void **state)
{
    uint8_t *af[QUEUE], *gf[QUEUE], kx[32];
    size_t al[QUEUE], gl[QUEUE];
    size_t na = frames_of("ada", af, al), ng = frames_of("grace", gf, gl);
    mm_home_t *ada, *grace;
    mm_session_t *s;
    queue_t out;
    mm_head_t h;
    mm_txn_t *txn;
    assert_true(na >= 4 && ng >= 4);
    world(&ada, &grace, "-replay");

    memset(&out, 0, sizeof out);
    remote_key(kx, ada);
    assert_rc(mm_session_new(grace, 0, kx, NULL, enqueue, &out, &s), MM_OK);
    for (size_t i = 0; i < na; i++)
        assert_rc(mm_session_input(s, af[i], al[i]), MM_OK);
    assert_true(mm_session_done(s));
    mm_session_destroy(&s);
    assert_int_equal(out.n, ng);
    for (size_t i = 0; i < ng; i++) {
        assert_int_equal(out.len[i], gl[i]);
        assert_memory_equal(out.v[i], gf[i], gl[i]);
    }
    queue_free(&out);
    assert_rc(mm_store_begin(mm_home_store(grace), 0, &txn), MM_OK);
    assert_rc(mm_log_head(txn, mm_keypair_pk(W.ada_dev), W.r.id, &h), MM_OK);
    assert_int_equal(h.seq, 1);
    mm_txn_abort(&txn);

    remote_key(kx, grace);
    assert_rc(mm_session_new(ada, 1, kx, mm_keypair_pk(W.grace_id), enqueue, &out, &s), MM_OK);
    assert_rc(mm_session_start(s), MM_OK);
    for (size_t i = 0; i < ng; i++)
        assert_rc(mm_session_input(s, gf[i], gl[i]), MM_OK);
    assert_true(mm_session_done(s));
    mm_session_destroy(&s);
    assert_int_equal(out.n, na);
    for (size_t i = 0; i < na; i++) {
        assert_int_equal(out.len[i], al[i]);
        assert_memory_equal(out.v[i], af[i], al[i]);
    }
    queue_free(&out);
    assert_rc(mm_store_begin(mm_home_store(ada), 0, &txn), MM_OK);
    assert_rc(mm_log_head(txn, mm_keypair_pk(W.grace_dev), W.r.id, &h), MM_OK);
    assert_int_equal(h.seq, 2);
    mm_txn_abort(&txn);

    for (size_t i = 0; i < na; i++)
        free(af[i]);
    for (size_t i = 0; i < ng; i++)
        free(gf[i]);
    mm_home_close(&ada);
    mm_home_close(&grace);
}

/* The doc's ACCEPT is what Grace's device redeems, and the doc's WELCOME
 * is what Ada's device joins with. */
static void test_invite_frames_work(void **state)
{
    mm_home_t *ada = person("ada-join", "Ada", "laptop", W.ada_id, W.ada_dev);
    mm_home_t *grace = person("grace-redeem", "Grace", "desk", W.grace_id, W.grace_dev);
    mm_msg_t *m = malloc(sizeof *m);
    uint8_t buf[2048], pk[32], sk[32];
    size_t len;
    mm_invite_t inv;
    mm_invite_grant_t g;
    mm_invite_code_t code;
    mm_peer_t p;
    mm_txn_t *txn;
    char why[256];
    for (int i = 0; i < nmade; i++) {
        if (strcmp(made[i].name, "accept") && strcmp(made[i].name, "welcome"))
            continue;
        len = strlen(made[i].hex) / 2;
        assert_rc(mm_encoding_unhex(buf, len, made[i].hex), MM_OK);
        assert_rc(mm_wire_decode(buf, len, m), MM_OK);
        if (m->type == MM_MSG_ACCEPT) {
            memset(&inv, 0, sizeof inv);
            fill(code.secret, 32, 0x50);
            mm_invite_keys(code.secret, pk, sk);
            memcpy(inv.key, pk, 32);
            inv.created = T0;
            inv.expires = T0 + 86400000;
            inv.role = MM_ROLE_MENTOR;
            assert_rc(mm_store_begin(mm_home_store(grace), 1, &txn), MM_OK);
            assert_rc(mm_invite_put(txn, &inv), MM_OK);
            assert_rc(mm_txn_commit(&txn), MM_OK);
            mm_invite_accept_t a = { m->u.accept.cert, m->u.accept.certlen, m->u.accept.name,
                                     m->u.accept.namelen, m->u.accept.sig };
            assert_rc(mm_invite_redeem(grace, pk, &a, T0 + 1000, &g, why, sizeof why), MM_OK);
            assert_string_equal(g.petname, "Ada");
            mm_invite_grant_wipe(&g);
        } else {
            assert_int_equal(m->type, MM_MSG_WELCOME);
            memset(&code, 0, sizeof code);
            memcpy(code.identity, mm_keypair_pk(W.grace_id), 32);
            memcpy(code.device, mm_keypair_pk(W.grace_dev), 32);
            fill(code.secret, 32, 0x50);
            code.expires = T0 + 86400000;
            mm_invite_welcome_t wl = { m->u.welcome.cert, m->u.welcome.certlen,
                                       m->u.welcome.name, m->u.welcome.namelen,
                                       m->u.welcome.scope, m->u.welcome.key, m->u.welcome.role };
            assert_rc(mm_invite_join(ada, &code, "grace", &wl, T0 + 1000, &p, why, sizeof why),
                      MM_OK);
            assert_memory_equal(p.scope, W.r.id, 32);
            assert_int_equal(p.role, MM_ROLE_MENTOR);
        }
    }
    sodium_memzero(sk, sizeof sk);
    sodium_memzero(m, sizeof *m);
    free(m);
    mm_home_close(&ada);
    mm_home_close(&grace);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_doc_matches_code),
        cmocka_unit_test(test_replay_each_side),
        cmocka_unit_test(test_invite_frames_work),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
