/*  test_engage.c -- the verbs of an engagement, between two real homes:
 *  Ada (the mentee) and Grace (her mentor).  Every rule of every verb is
 *  core's, so a front end cannot walk past it; entries travel between the
 *  two stores as a sync would carry them (through mm_log_put_run). */
#include <ctype.h>
#include <sodium.h>
#include "fixture.h"
#include "fxhome.h"
#include "core/engage.h"
#include "core/home.h"
#include "core/log.h"
#include "crypto/random.h"

typedef struct {
    char dir[FX_PATH_MAX];
    mm_home_t *ada, *grace, *bob;   /* bob: another peer of Grace's, to refer to */
    uint8_t scope[32];
} world_t;

static mm_home_t *home(world_t *w, const char *name)
{
    return fx_home(w->dir, name, name, NULL, NULL);
}

static void pair(mm_home_t *mentor, mm_home_t *mentee, const char *mentor_name,
                 const char *mentee_name, uint8_t id[32])
{
    mm_scope_t sc = { 0 };
    fx_pair(mentor, mentee, mentor_name, mentee_name, &sc);
    if (id)
        memcpy(id, sc.id, 32);
    mm_scope_wipe(&sc);
}

static int setup(void **state)
{
    world_t *w = calloc(1, sizeof *w);
    fx_mkdtemp(w->dir);
    w->ada = home(w, "ada");
    w->grace = home(w, "grace");
    w->bob = home(w, "bob");
    pair(w->grace, w->ada, "grace", "ada", w->scope);
    pair(w->grace, w->bob, "grace", "bob", NULL);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world_t *w = *state;
    mm_home_close(&w->ada);
    mm_home_close(&w->grace);
    mm_home_close(&w->bob);
    fx_rmrf(w->dir);
    free(w);
    return 0;
}

/* ---- carrying entries from one store to another, as sync does ---- */

typedef struct {
    const uint8_t *scope;
    mm_txn_t *from, *to;
} carry_t;

static int carry_entry(const uint8_t *buf, size_t len, uint64_t seq, void *arg)
{
    carry_t *c = arg;
    const uint8_t *b[1] = { buf };
    size_t n;
    assert_rc(mm_log_put_run(c->to, b, &len, 1, &n), MM_OK);
    return 0;
}

static int carry_feed(const uint8_t *author, const uint8_t *scope, const mm_head_t *h, void *arg)
{
    carry_t *c = arg;
    mm_head_t theirs;
    if (memcmp(scope, c->scope, 32))
        return 0;
    assert_rc(mm_log_head(c->to, author, scope, &theirs), MM_OK);
    if (theirs.seq < h->seq)
        assert_rc(mm_log_walk(c->from, author, scope, theirs.seq + 1, carry_entry, c), MM_OK);
    return 0;
}

/* Everything a holds of the scope that b lacks goes to b. */
static void carry(mm_home_t *a, mm_home_t *b, const uint8_t scope[32])
{
    carry_t c = { scope, NULL, NULL };
    assert_rc(mm_store_begin(mm_home_store(a), 0, &c.from), MM_OK);
    assert_rc(mm_store_begin(mm_home_store(b), 1, &c.to), MM_OK);
    assert_rc(mm_log_feeds(c.from, carry_feed, &c), MM_OK);
    assert_rc(mm_txn_commit(&c.to), MM_OK);
    mm_txn_abort(&c.from);
}

static void both_ways(world_t *w)
{
    carry(w->ada, w->grace, w->scope);
    carry(w->grace, w->ada, w->scope);
}

#define S(s) s, sizeof(s) - 1
#define Q1 "What helped you most when you first led a team of five?"
#define Q2 "How did you decide when to stop coding as a lead?"

static void hex(char out[65], const uint8_t id[32])
{
    sodium_bin2hex(out, 65, id, 32);
}

static const uint8_t *grace_id(world_t *w) { return mm_home_identity_pk(w->grace); }

/* ---- ask ---- */

static void test_ask_is_one_at_a_time(void **state)
{
    world_t *w = *state;
    mm_engage_out_t o, o2;
    char qid[65];
    assert_rc(mm_engage_ask(w->ada, grace_id(w), S(Q1), NULL, 0, &o), MM_OK);
    assert_true(o.time > 0);
    assert_memory_equal(o.qid, o.id, 32);
    assert_string_equal(o.peer.petname, "grace");
    /* a second question to the same mentor waits for the first to close */
    assert_rc(mm_engage_ask(w->ada, grace_id(w), S(Q2), NULL, 0, &o2), MM_EPENDING);
    assert_memory_equal(o2.qid, o.id, 32);
    assert_int_equal(o2.state, MM_QS_WAITING);
    hex(qid, o.id);
    assert_rc(mm_engage_withdraw(w->ada, qid, &o2), MM_OK);
    assert_memory_equal(o2.qid, o.id, 32);
    assert_rc(mm_engage_ask(w->ada, grace_id(w), S(Q2), S("lead a team"), &o2), MM_OK);
}

static void test_ask_checks_role_and_text(void **state)
{
    world_t *w = *state;
    mm_engage_out_t o;
    char big[MM_TEXT_MAX + 2];
    uint8_t nobody[32] = { 1 };
    /* Ada is Grace's mentee: Grace asks her back, never asks her */
    assert_rc(mm_engage_ask(w->grace, mm_home_identity_pk(w->ada), S(Q1), NULL, 0, &o),
              MM_EROLE);
    assert_int_equal(o.peer.role, MM_ROLE_MENTEE);
    assert_rc(mm_engage_ask(w->ada, nobody, S(Q1), NULL, 0, &o), MM_ENOTFOUND);
    assert_rc(mm_engage_ask(w->ada, grace_id(w), S("  \n "), NULL, 0, &o), MM_EINVAL);
    assert_rc(mm_engage_ask(w->ada, grace_id(w), S("bad \xff utf-8?"), NULL, 0, &o), MM_EINVAL);
    assert_rc(mm_engage_ask(w->ada, grace_id(w), "nul\0inside", 10, NULL, 0, &o), MM_EINVAL);
    memset(big, 'a', sizeof big);
    assert_rc(mm_engage_ask(w->ada, grace_id(w), big, MM_TEXT_MAX + 1, NULL, 0, &o),
              MM_ETOOBIG);
    assert_rc(mm_engage_ask(w->ada, grace_id(w), big, MM_TEXT_MAX, NULL, 0, &o), MM_OK);
}

/* ---- the acts, each by the right member in the right state ---- */

static void test_acts_follow_roles_and_states(void **state)
{
    world_t *w = *state;
    mm_engage_out_t o, q;
    mm_settle_t st;
    char id[65];
    assert_rc(mm_engage_ask(w->ada, grace_id(w), S(Q1), NULL, 0, &q), MM_OK);
    hex(id, q.id);
    /* Grace has not got it yet */
    assert_rc(mm_engage_answer(w->grace, id, S("Listen first."), &o), MM_ENOTFOUND);
    carry(w->ada, w->grace, w->scope);
    /* not settled into her budget yet: waiting */
    assert_rc(mm_engage_answer(w->grace, id, S("Listen first."), &o), MM_ESTATE);
    assert_int_equal(o.state, MM_QS_WAITING);
    assert_rc(mm_budget_settle(w->grace, &st), MM_OK);
    assert_int_equal(st.released, 1);
    /* only the other member answers; only the asker thanks */
    assert_rc(mm_engage_answer(w->ada, id, S("self answer"), &o), MM_EROLE);
    assert_rc(mm_engage_thank(w->grace, id, S("thanks"), NULL, 0, &o), MM_EROLE);
    assert_rc(mm_engage_withdraw(w->grace, id, &o), MM_EROLE);
    assert_rc(mm_engage_report(w->grace, id, S("report"), &o), MM_EROLE);
    assert_rc(mm_engage_askback(w->ada, id, S("What is your goal?"), &o), MM_EROLE);
    assert_rc(mm_engage_decline(w->ada, id, S("no"), NULL, &o), MM_EROLE);
    /* nothing to thank for or report on before an answer */
    assert_rc(mm_engage_thank(w->ada, id, S("thanks"), NULL, 0, &o), MM_ESTATE);
    assert_rc(mm_engage_report(w->ada, id, S("it worked"), &o), MM_ESTATE);
    assert_rc(mm_engage_answer(w->grace, id, S("Listen first."), &o), MM_OK);
    assert_int_equal(o.state, MM_QS_OPEN);
    assert_int_equal(o.nanswers, 0);
    assert_rc(mm_engage_answer(w->grace, id, S("And write it down."), &o), MM_OK);
    assert_int_equal(o.nanswers, 1);
    assert_rc(mm_engage_answer(w->grace, id, S("A third?"), &o), MM_ESTATE);
    assert_int_equal(o.nanswers, MM_ANSWERS_MAX);
    assert_rc(mm_engage_decline(w->grace, id, S("too late"), NULL, &o), MM_ESTATE);
    both_ways(w);
    assert_rc(mm_engage_withdraw(w->ada, id, &o), MM_ESTATE);
    assert_int_equal(o.state, MM_QS_ANSWERED);
    assert_rc(mm_engage_thank(w->ada, id, S("That helped."), S("a talk review"), &o), MM_OK);
    assert_rc(mm_engage_thank(w->ada, id, S("Again!"), NULL, 0, &o), MM_ESTATE);
    assert_int_equal(o.state, MM_QS_THANKED);
    assert_rc(mm_engage_report(w->ada, id, S("It worked."), &o), MM_OK);
    assert_rc(mm_engage_report(w->ada, id, S("Still working."), &o), MM_OK);
    both_ways(w);
    /* a thanked engagement can still be asked back on, once */
    assert_rc(mm_engage_askback(w->grace, id, S("What will you try next?"), &o), MM_OK);
    assert_rc(mm_engage_askback(w->grace, id, S("And then?"), &o), MM_ESTATE);
    assert_int_equal(o.askback, 1);
    assert_rc(mm_engage_answer(w->grace, id, S("late"), &o), MM_ESTATE);
    /* the offer is checked like a text */
    assert_rc(mm_engage_thank(w->ada, id, S("x"), S(" "), &o), MM_EINVAL);
}

static void test_decline_refers_someone_else(void **state)
{
    world_t *w = *state;
    mm_engage_out_t o, q;
    uint8_t stranger[32] = { 7 };
    char id[65];
    assert_rc(mm_engage_ask(w->ada, grace_id(w), S(Q1), NULL, 0, &q), MM_OK);
    hex(id, q.id);
    carry(w->ada, w->grace, w->scope);
    assert_rc(mm_engage_decline(w->grace, id, S("Not my area"), mm_home_identity_pk(w->ada),
                                &o), MM_EINVAL);
    assert_rc(mm_engage_decline(w->grace, id, S("Not my area"), stranger, &o), MM_ENOTFOUND);
    assert_rc(mm_engage_decline(w->grace, id, S("Not my area; ask Bob"),
                                mm_home_identity_pk(w->bob), &o), MM_OK);
    assert_rc(mm_engage_decline(w->grace, id, S("again"), NULL, &o), MM_ESTATE);
    assert_int_equal(o.state, MM_QS_DECLINED);
    carry(w->grace, w->ada, w->scope);
    /* declined frees Ada to ask again */
    assert_rc(mm_engage_ask(w->ada, grace_id(w), S(Q2), NULL, 0, &o), MM_OK);
}

/* The name a peer gave itself came over the wire, cut at MM_PETNAME_MAX
 * bytes, perhaps inside a character: a refer_name must be UTF-8 text
 * (schema.c), so the decline refers by the petname instead. */
static void test_decline_refer_name_is_text(void **state)
{
    world_t *w = *state;
    mm_engage_out_t o, q;
    mm_items_t items;
    mm_peer_t bob;
    mm_txn_t *txn;
    char id[65], name[MM_PETNAME_MAX + 1];
    assert_rc(mm_store_begin(mm_home_store(w->grace), 1, &txn), MM_OK);
    assert_rc(mm_peer_get(txn, mm_home_identity_pk(w->bob), &bob), MM_OK);
    strcpy(bob.name, "Bob \xc3");                  /* "Bob é", cut after its first byte */
    assert_rc(mm_peer_put(txn, &bob), MM_OK);
    assert_rc(mm_txn_commit(&txn), MM_OK);
    assert_rc(mm_engage_ask(w->ada, grace_id(w), S(Q1), NULL, 0, &q), MM_OK);
    hex(id, q.id);
    carry(w->ada, w->grace, w->scope);
    assert_rc(mm_engage_decline(w->grace, id, S("Ask Bob"), bob.identity, &o), MM_OK);
    static const char *const only[] = { MM_T_DECLINE, NULL };
    assert_rc(mm_items_load(mm_home_store(w->grace), w->scope, only, &items), MM_OK);
    assert_int_equal(items.n, 1);
    assert_string_equal(mm_item_str(&items.v[0], "refer_name", name, sizeof name), "bob");
    mm_items_free(&items);
}

static void test_question_ids(void **state)
{
    world_t *w = *state;
    mm_engage_out_t o, q;
    char id[65];
    assert_rc(mm_engage_ask(w->ada, grace_id(w), S(Q1), NULL, 0, &q), MM_OK);
    hex(id, q.id);
    assert_rc(mm_engage_withdraw(w->ada, "12", &o), MM_EINVAL);
    assert_rc(mm_engage_withdraw(w->ada, "zzzz", &o), MM_EINVAL);
    id[4] = '\0';                   /* four digits are enough, in either case */
    for (char *c = id; *c; c++)
        *c = (char) toupper((unsigned char) *c);
    assert_rc(mm_engage_withdraw(w->ada, id, &o), MM_OK);
    assert_memory_equal(o.qid, q.id, 32);
    id[0] = id[0] == '0' ? '1' : '0';
    assert_rc(mm_engage_withdraw(w->ada, id, &o), MM_ENOTFOUND);
}

/* ---- the receiving side holds the rule too ---- */

static void test_mentor_holds_a_piled_question(void **state)
{
    world_t *w = *state;
    mm_engage_out_t o;
    mm_settle_t st;
    uint8_t q1[32], q2[32], q3[32];
    char id[65];
    /* a modified client writes three questions straight into the log */
    mm_field_t f1[] = { { "text", MM_F_STR, S(Q1), 0 } };
    mm_field_t f2[] = { { "text", MM_F_STR, S(Q2), 0 } };
    assert_rc(mm_engage_append(w->ada, w->scope, MM_T_QUESTION, f1, 1, q1), MM_OK);
    assert_rc(mm_engage_append(w->ada, w->scope, MM_T_QUESTION, f2, 1, q2), MM_OK);
    assert_rc(mm_engage_append(w->ada, w->scope, MM_T_QUESTION, f1, 1, q3), MM_OK);
    carry(w->ada, w->grace, w->scope);
    assert_rc(mm_budget_settle(w->grace, &st), MM_OK);   /* no budget set: no limit */
    assert_int_equal(st.released, 1);
    assert_int_equal(st.held, 2);
    hex(id, q2);
    assert_rc(mm_engage_answer(w->grace, id, S("no"), &o), MM_ESTATE);
    assert_int_equal(o.state, MM_QS_HELD);
    assert_int_equal(o.hold, MM_HOLD_ONE);
    /* the asker sees why after the one carry back */
    carry(w->grace, w->ada, w->scope);
    assert_rc(mm_engage_withdraw(w->ada, id, &o), MM_OK);
    assert_int_equal(o.state, MM_QS_HELD);
    assert_int_equal(o.hold, MM_HOLD_ONE);
    /* settling again writes nothing; closing the first releases the next */
    assert_rc(mm_budget_settle(w->grace, &st), MM_OK);
    assert_int_equal(st.released + st.held, 0);
    hex(id, q1);
    assert_rc(mm_engage_answer(w->grace, id, S("Listen."), &o), MM_OK);
    carry(w->grace, w->ada, w->scope);
    assert_rc(mm_engage_thank(w->ada, id, S("Thanks!"), NULL, 0, &o), MM_OK);
    carry(w->ada, w->grace, w->scope);
    assert_rc(mm_budget_settle(w->grace, &st), MM_OK);
    assert_int_equal(st.released, 1);     /* q3: q2 was withdrawn */
    hex(id, q3);
    assert_rc(mm_engage_answer(w->grace, id, S("Yes."), &o), MM_OK);
}

/* An ambiguous question id prefix: the verb names every question it
 * matched, with its peer, whose it is and its state.  Two questions whose
 * ids share four hex digits come from piling many into one transaction
 * (as a modified client could): among 2000, some two share a prefix but
 * for odds of about e^-30. */
#define PILE 2000
static void test_ambiguous_prefix_names_candidates(void **state)
{
    world_t *w = *state;
    uint8_t (*ids)[32] = calloc(PILE, 32);
    char text[80], got[65], a[65], b[65], prefix[5];
    mm_engage_out_t o;
    mm_txn_t *txn;
    size_t i, j = 0, k;
    assert_non_null(ids);
    assert_rc(mm_store_begin(mm_home_store(w->ada), 1, &txn), MM_OK);
    for (i = 0; i < PILE; i++) {
        int n = snprintf(text, sizeof text, "What would you do first, case %zu?", i);
        mm_field_t f[] = { { "text", MM_F_STR, text, (size_t) n, 0 } };
        assert_rc(mm_item_append(txn, mm_home_device(w->ada), w->scope, MM_T_QUESTION, f, 1,
                                 0, ids[i]), MM_OK);
    }
    assert_rc(mm_txn_commit(&txn), MM_OK);
    /* two whose ids share 4 digits, and no third that shares them */
    for (i = 0; i < PILE; i++) {
        size_t same = 0;
        for (k = 0; k < PILE; k++)
            if (ids[k][0] == ids[i][0] && ids[k][1] == ids[i][1])
                same++, j = k != i ? k : j;
        if (same == 2)
            break;
    }
    assert_true(i < PILE);
    hex(a, ids[i]);
    hex(b, ids[j]);
    if (strcmp(a, b) > 0) {         /* candidates come in id order */
        char t[65];
        memcpy(t, a, 65), memcpy(a, b, 65), memcpy(b, t, 65);
    }
    memcpy(prefix, a, 4);
    prefix[4] = '\0';
    /* first on the slow path (nothing indexed yet), then from the index,
     * which withdrawing the first by its whole id fills */
    for (int pass = 0; pass < 2; pass++) {
        assert_rc(mm_engage_withdraw(w->ada, prefix, &o), MM_EAMBIG);
        assert_int_equal(o.ncand, 2);
        assert_int_equal(o.more, 0);
        hex(got, o.cand[0].qid);
        assert_string_equal(got, a);
        hex(got, o.cand[1].qid);
        assert_string_equal(got, b);
        for (k = 0; k < 2; k++) {
            assert_string_equal(o.cand[k].peer, "grace");
            assert_int_equal(o.cand[k].mine, 1);
        }
        assert_int_equal(o.cand[0].state, pass ? MM_QS_WITHDRAWN : MM_QS_WAITING);
        assert_int_equal(o.cand[1].state, MM_QS_WAITING);
        if (pass == 0)
            assert_rc(mm_engage_withdraw(w->ada, a, &o), MM_OK);
    }
    /* the mentor's side: from ada, not mine */
    carry(w->ada, w->grace, w->scope);
    assert_rc(mm_engage_answer(w->grace, prefix, S("Start small."), &o), MM_EAMBIG);
    assert_int_equal(o.ncand, 2);
    assert_string_equal(o.cand[1].peer, "ada");
    assert_int_equal(o.cand[1].mine, 0);
    free(ids);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ask_is_one_at_a_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ask_checks_role_and_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_acts_follow_roles_and_states, setup, teardown),
        cmocka_unit_test_setup_teardown(test_decline_refers_someone_else, setup, teardown),
        cmocka_unit_test_setup_teardown(test_decline_refer_name_is_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_question_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mentor_holds_a_piled_question, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ambiguous_prefix_names_candidates, setup, teardown),
    };
    return cmocka_run_group_tests(tests, fx_setup_crypto, NULL);
}
