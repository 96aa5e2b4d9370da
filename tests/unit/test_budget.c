/*  test_budget.c -- engagement state is derived from the log alone, the
 *  same whatever order the two feeds arrived in; the mentor's queue holds
 *  what exceeds the budget and releases it first come first served, in the
 *  order the mentor's device received the questions, whatever the askers'
 *  clocks say. */
#include "fixture.h"
#include "core/engage.h"
#include "core/home.h"
#include "core/log.h"

typedef struct {
    char dir[FX_PATH_MAX];
    mm_home_t *home;                /* Grace, the mentor */
    mm_keypair_t *ada_id, *ada_dev; /* Ada, the mentee, writing by hand */
    mm_scope_t scope;
    mm_head_t ada_head;
} world_t;

static int setup(void **state)
{
    world_t *w = calloc(1, sizeof *w);
    char path[FX_PATH_MAX];
    uint8_t cert[MM_CERT_MAX];
    size_t certlen;
    mm_txn_t *txn;
    mm_peer_t p;
    fx_mkdtemp(w->dir);
    fx_path(path, w->dir, "grace");
    assert_rc(mm_home_init(path, "Grace", "laptop", 1), MM_OK);
    assert_rc(mm_home_open(path, &w->home), MM_OK);
    w->ada_id = fx_keypair(0xa0);
    w->ada_dev = fx_keypair(0xa1);
    w->scope.kind = MM_SCOPE_PAIR;
    w->scope.nmembers = 2;
    memcpy(w->scope.members[0], mm_home_identity_pk(w->home), 32);
    memcpy(w->scope.members[1], mm_keypair_pk(w->ada_id), 32);
    memset(w->scope.id, 0x5c, 32);
    memset(w->scope.keys[0], 0x6b, 32);
    w->scope.nkeys = 1;
    memset(&p, 0, sizeof p);
    memcpy(p.identity, mm_keypair_pk(w->ada_id), 32);
    strcpy(p.petname, "ada");
    p.role = MM_ROLE_MENTEE;
    memcpy(p.scope, w->scope.id, 32);
    assert_rc(mm_cert_make(w->ada_id, w->ada_dev, 1, "phone", 0, cert, sizeof cert,
                           &certlen), MM_OK);
    assert_rc(mm_store_begin(mm_home_store(w->home), 1, &txn), MM_OK);
    assert_rc(mm_scope_put(txn, &w->scope), MM_OK);
    assert_rc(mm_cert_put(txn, cert, certlen, NULL), MM_OK);
    assert_rc(mm_peer_put(txn, &p), MM_OK);
    assert_rc(mm_txn_commit(&txn), MM_OK);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world_t *w = *state;
    mm_home_close(&w->home);
    mm_keypair_destroy(&w->ada_id);
    mm_keypair_destroy(&w->ada_dev);
    fx_rmrf(w->dir);
    free(w);
    return 0;
}

/* Seal the next entry of Ada's feed; the caller stores it when it likes. */
static size_t ada_seal(world_t *w, const char *type, const mm_field_t *f, size_t nf,
                       uint64_t time, uint8_t *out, uint8_t id[32])
{
    uint8_t body[1024];
    size_t blen, len;
    mm_entry_t e;
    assert_rc(mm_body_build(body, sizeof body, &blen, type, f, nf), MM_OK);
    assert_rc(mm_entry_seal(w->ada_dev, &w->scope, &w->ada_head, time, NULL, body, blen, out,
                            1400, &len), MM_OK);
    assert_rc(mm_entry_parse(out, len, &e), MM_OK);
    w->ada_head.seq = e.seq;
    memcpy(w->ada_head.id, e.id, 32);
    memcpy(id, e.id, 32);
    return len;
}

static void store(world_t *w, const uint8_t *buf, size_t len)
{
    mm_txn_t *txn;
    const uint8_t *b[1] = { buf };
    assert_rc(mm_store_begin(mm_home_store(w->home), 1, &txn), MM_OK);
    assert_rc(mm_log_put_run(txn, b, &len, 1, NULL), MM_OK);
    assert_rc(mm_txn_commit(&txn), MM_OK);
}

static mm_qstate_t state_of(world_t *w, const uint8_t id[32], size_t *nq)
{
    mm_items_t items;
    mm_question_t *qs;
    mm_qstate_t s = (mm_qstate_t) -1;
    assert_rc(mm_items_load(mm_home_store(w->home), w->scope.id, NULL, &items), MM_OK);
    assert_rc(mm_questions(&items, &qs, nq), MM_OK);
    for (size_t i = 0; i < *nq; i++)
        if (!memcmp(qs[i].q->id, id, 32))
            s = qs[i].state;
    free(qs);
    mm_items_free(&items);
    return s;
}

#define TEXT(s) MM_F_STR, s, sizeof(s) - 1, 0

static int settle(world_t *w, size_t *released)
{
    mm_settle_t out;
    int rc = mm_budget_settle(w->home, &out);
    *released = out.released;
    return rc;
}

/* Grace's clock jumps back between two queue entries: her later "released"
 * carries a time before her earlier "held", and still wins, because one
 * device's entries keep their feed order (PROTOCOL.md 5.3). */
static void test_latest_follows_the_feed_not_the_clock(void **state)
{
    world_t *w = *state;
    uint8_t q[1400], r[1400], qid[32], rid[32];
    size_t nq;
    mm_field_t fq[] = { { "text", TEXT("What helped you most when you first led a team?") } };
    store(w, q, ada_seal(w, MM_T_QUESTION, fq, 1, 5000, q, qid));
    mm_field_t held[] = { { "ref", MM_F_BIN, qid, 32, 0 }, { "state", TEXT("held") },
                          { "ahead", MM_F_UINT, NULL, 0, 0 }, { "reason", TEXT("budget") } };
    mm_field_t released[] = { { "ref", MM_F_BIN, qid, 32, 0 }, { "state", TEXT("released") } };
    mm_txn_t *txn;
    assert_rc(mm_store_begin(mm_home_store(w->home), 1, &txn), MM_OK);
    assert_rc(mm_item_append(txn, mm_home_device(w->home), w->scope.id, MM_T_QUEUE, held, 4,
                             9000, NULL), MM_OK);
    assert_rc(mm_txn_commit(&txn), MM_OK);
    assert_int_equal(state_of(w, qid, &nq), MM_QS_HELD);
    assert_rc(mm_store_begin(mm_home_store(w->home), 1, &txn), MM_OK);
    assert_rc(mm_item_append(txn, mm_home_device(w->home), w->scope.id, MM_T_QUEUE, released,
                             2, 2000, NULL), MM_OK);             /* the clock jumped back */
    assert_rc(mm_txn_commit(&txn), MM_OK);
    assert_int_equal(state_of(w, qid, &nq), MM_QS_OPEN);
    /* Ada's report, dated 4000, is before her question (5000) by time too */
    mm_field_t fr[] = { { "ref", MM_F_BIN, qid, 32, 0 }, { "text", TEXT("Noted.") } };
    store(w, r, ada_seal(w, MM_T_REPORT, fr, 2, 4000, r, rid));
    mm_items_t items;
    assert_rc(mm_items_load(mm_home_store(w->home), w->scope.id, NULL, &items), MM_OK);
    assert_int_equal(items.n, 4);
    /* by time the places are 2000 (Grace), 4000 (Ada), 5000 (Ada), 9000
     * (Grace); each feed fills its places in seq order */
    assert_true(mm_item_is(&items.v[0], MM_T_QUEUE) && items.v[0].time == 9000);
    assert_true(mm_item_is(&items.v[1], MM_T_QUESTION));
    assert_true(mm_item_is(&items.v[2], MM_T_REPORT));
    assert_true(mm_item_is(&items.v[3], MM_T_QUEUE) && items.v[3].time == 2000);
    mm_items_free(&items);
}

static void test_state_is_independent_of_arrival_order(void **state)
{
    world_t *w = *state;
    uint8_t q[1400], t[1400], qid[32], tid[32], aid[32];
    size_t nq;
    mm_field_t fq[] = { { "text", TEXT("What helped you most when you first led a team?") } };
    size_t qlen = ada_seal(w, MM_T_QUESTION, fq, 1, 1000, q, qid);
    /* Grace answers (her device has the question's id from an earlier sync
     * of another device, say); Ada's thanks is sealed now too */
    mm_field_t fa[] = { { "ref", MM_F_BIN, qid, 32, 0 }, { "text", TEXT("Listening first.") } };
    assert_rc(mm_engage_append(w->home, w->scope.id, MM_T_ANSWER, fa, 2, aid), MM_OK);
    mm_field_t ft[] = { { "ref", MM_F_BIN, qid, 32, 0 }, { "text", TEXT("That helped.") },
                        { "offer", TEXT("Happy to review your talk") } };
    size_t tlen = ada_seal(w, MM_T_THANKS, ft, 3, 3000, t, tid);
    /* before the question arrives, the answer refers to nothing: no question */
    assert_int_equal(state_of(w, qid, &nq), (mm_qstate_t) -1);
    assert_int_equal(nq, 0);
    store(w, q, qlen);
    assert_int_equal(state_of(w, qid, &nq), MM_QS_ANSWERED);
    store(w, t, tlen);
    assert_int_equal(state_of(w, qid, &nq), MM_QS_THANKED);
    assert_int_equal(nq, 1);
}

static void test_only_the_right_side_acts(void **state)
{
    world_t *w = *state;
    uint8_t q[1400], a[1400], qid[32], aid[32], tid[32];
    size_t nq;
    mm_field_t fq[] = { { "text", TEXT("How did you choose your first team lead role?") } };
    store(w, q, ada_seal(w, MM_T_QUESTION, fq, 1, 1000, q, qid));
    /* Ada cannot answer her own question, Grace cannot thank for it */
    mm_field_t fa[] = { { "ref", MM_F_BIN, qid, 32, 0 }, { "text", TEXT("self answer") } };
    store(w, a, ada_seal(w, MM_T_ANSWER, fa, 2, 2000, a, aid));
    assert_int_equal(state_of(w, qid, &nq), MM_QS_WAITING);
    assert_rc(mm_engage_append(w->home, w->scope.id, MM_T_THANKS, fa, 2, tid), MM_OK);
    assert_int_equal(state_of(w, qid, &nq), MM_QS_WAITING);
    /* Grace declines: that closes it */
    mm_field_t fd[] = { { "ref", MM_F_BIN, qid, 32, 0 }, { "text", TEXT("Not my area") } };
    assert_rc(mm_engage_append(w->home, w->scope.id, MM_T_DECLINE, fd, 2, NULL), MM_OK);
    assert_int_equal(state_of(w, qid, &nq), MM_QS_DECLINED);
}

/* Bob, a second mentee writing by hand, in a scope of his own. */
typedef struct {
    mm_keypair_t *id, *dev;
    mm_scope_t scope;
    mm_head_t head;
} bob_t;

static void bob_new(world_t *w, bob_t *b)
{
    uint8_t cert[MM_CERT_MAX];
    size_t certlen;
    mm_txn_t *txn;
    mm_peer_t p;
    memset(b, 0, sizeof *b);
    b->id = fx_keypair(0xb0);
    b->dev = fx_keypair(0xb1);
    b->scope.kind = MM_SCOPE_PAIR;
    b->scope.nmembers = 2;
    memcpy(b->scope.members[0], mm_home_identity_pk(w->home), 32);
    memcpy(b->scope.members[1], mm_keypair_pk(b->id), 32);
    memset(b->scope.id, 0x5d, 32);
    memset(b->scope.keys[0], 0x6c, 32);
    b->scope.nkeys = 1;
    memset(&p, 0, sizeof p);
    memcpy(p.identity, mm_keypair_pk(b->id), 32);
    strcpy(p.petname, "bob");
    p.role = MM_ROLE_MENTEE;
    memcpy(p.scope, b->scope.id, 32);
    assert_rc(mm_cert_make(b->id, b->dev, 1, "phone", 0, cert, sizeof cert,
                           &certlen), MM_OK);
    assert_rc(mm_store_begin(mm_home_store(w->home), 1, &txn), MM_OK);
    assert_rc(mm_scope_put(txn, &b->scope), MM_OK);
    assert_rc(mm_cert_put(txn, cert, certlen, NULL), MM_OK);
    assert_rc(mm_peer_put(txn, &p), MM_OK);
    assert_rc(mm_txn_commit(&txn), MM_OK);
}

static void test_first_come_is_arrival_not_clock(void **state)
{
    world_t *w = *state;
    uint8_t buf[1400], body[256], q1[32], q2[32], qb[32], wid[32];
    size_t nq, rel, blen, len;
    mm_entry_t e;
    bob_t b;
    bob_new(w, &b);
    mm_field_t cap[] = { { "n", MM_F_UINT, NULL, 0, 1 }, { "per", TEXT("week") } };
    assert_rc(mm_engage_append(w->home, mm_home_self_scope(w->home), MM_T_CAPACITY, cap, 2,
                               NULL), MM_OK);
    mm_field_t f1[] = { { "text", TEXT("What made your first 1:1s work for you and your team?") } };
    store(w, buf, ada_seal(w, MM_T_QUESTION, f1, 1, 1700000000000ull, buf, q1));
    assert_rc(settle(w, &rel), MM_OK);
    assert_int_equal(rel, 1);
    /* Bob asks next, with an honest clock: held behind Ada's */
    mm_field_t fb[] = { { "text", TEXT("How did you plan your first quarter as a lead?") } };
    assert_rc(mm_body_build(body, sizeof body, &blen, MM_T_QUESTION, fb, 1), MM_OK);
    assert_rc(mm_entry_seal(b.dev, &b.scope, &b.head, 1700000100000ull, NULL, body, blen, buf,
                            sizeof buf, &len), MM_OK);
    assert_rc(mm_entry_parse(buf, len, &e), MM_OK);
    memcpy(qb, e.id, 32);
    store(w, buf, len);
    assert_rc(settle(w, &rel), MM_OK);
    assert_int_equal(rel, 0);
    /* Ada withdraws and asks again from a clock two days slow: her new
     * question arrives after Bob's, so it waits behind his */
    mm_field_t fw[] = { { "ref", MM_F_BIN, q1, 32, 0 } };
    store(w, buf, ada_seal(w, MM_T_WITHDRAW, fw, 1, 1700000000001ull, buf, wid));
    mm_field_t f2[] = { { "text", TEXT("What would you weigh first, given my goal to lead?") } };
    uint64_t slow = 1700000100000ull - 48ull * 3600 * 1000;
    store(w, buf, ada_seal(w, MM_T_QUESTION, f2, 1, slow, buf, q2));
    assert_rc(settle(w, &rel), MM_OK);
    assert_int_equal(rel, 1);
    assert_int_equal(state_of(w, q2, &nq), MM_QS_HELD);
    mm_items_t items;
    mm_question_t *qs;
    assert_rc(mm_items_load(mm_home_store(w->home), b.scope.id, NULL, &items), MM_OK);
    assert_rc(mm_questions(&items, &qs, &nq), MM_OK);
    assert_int_equal(nq, 1);
    assert_memory_equal(qs[0].q->id, qb, 32);
    assert_int_equal(qs[0].state, MM_QS_OPEN);
    free(qs);
    mm_items_free(&items);
    mm_keypair_destroy(&b.id);
    mm_keypair_destroy(&b.dev);
}

static void test_budget_holds_and_releases(void **state)
{
    world_t *w = *state;
    uint8_t buf[1400], q1[32], q2[32], q3[32];
    size_t nq, rel;
    mm_field_t cap[] = { { "n", MM_F_UINT, NULL, 0, 1 }, { "per", TEXT("week") } };
    assert_rc(mm_engage_append(w->home, mm_home_self_scope(w->home), MM_T_CAPACITY, cap, 2,
                               NULL), MM_OK);
    mm_field_t f1[] = { { "text", TEXT("What made your first 1:1s work for you and your team?") } };
    store(w, buf, ada_seal(w, MM_T_QUESTION, f1, 1, 1000, buf, q1));
    mm_field_t f2[] = { { "text", TEXT("How do you keep my kind of project small enough?") } };
    store(w, buf, ada_seal(w, MM_T_QUESTION, f2, 1, 2000, buf, q2));
    mm_field_t f3[] = { { "text", TEXT("Why did you pick your first mentor, given my goal?") } };
    store(w, buf, ada_seal(w, MM_T_QUESTION, f3, 1, 3000, buf, q3));
    assert_rc(settle(w, &rel), MM_OK);
    assert_int_equal(rel, 1);
    assert_int_equal(state_of(w, q1, &nq), MM_QS_OPEN);
    assert_int_equal(state_of(w, q2, &nq), MM_QS_HELD);
    assert_int_equal(state_of(w, q3, &nq), MM_QS_HELD);
    /* settling again writes nothing new */
    mm_items_t items;
    assert_rc(mm_items_load(mm_home_store(w->home), w->scope.id, NULL, &items), MM_OK);
    size_t before = items.n;
    mm_items_free(&items);
    assert_rc(settle(w, &rel), MM_OK);
    assert_int_equal(rel, 0);
    assert_rc(mm_items_load(mm_home_store(w->home), w->scope.id, NULL, &items), MM_OK);
    assert_int_equal(items.n, before);
    mm_items_free(&items);
    /* the one in the inbox is withdrawn by Ada: the next in line is released */
    mm_field_t fw[] = { { "ref", MM_F_BIN, q1, 32, 0 } };
    uint8_t wid[32];
    store(w, buf, ada_seal(w, MM_T_WITHDRAW, fw, 1, 4000, buf, wid));
    assert_rc(settle(w, &rel), MM_OK);
    assert_int_equal(rel, 1);
    assert_int_equal(state_of(w, q1, &nq), MM_QS_WITHDRAWN);
    assert_int_equal(state_of(w, q2, &nq), MM_QS_OPEN);
    assert_int_equal(state_of(w, q3, &nq), MM_QS_HELD);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_latest_follows_the_feed_not_the_clock, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_state_is_independent_of_arrival_order, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_only_the_right_side_acts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_budget_holds_and_releases, setup, teardown),
        cmocka_unit_test_setup_teardown(test_first_come_is_arrival_not_clock, setup, teardown),
    };
    return cmocka_run_group_tests(tests, fx_setup_crypto, NULL);
}
