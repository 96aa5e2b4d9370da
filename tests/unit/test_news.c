/*  test_news.c -- what a sync brought, read as events for each person,
 *  between two real homes: Ada (the mentee) and Grace (her mentor), and
 *  Bob, another of Grace's mentees, to refer to.  Entries travel between
 *  the stores as a sync carries them, and the runs stored are what
 *  mm_news_of reads. */
#include <sodium.h>
#include <unistd.h>
#include "fixture.h"
#include "fxhome.h"
#include "core/budget.h"
#include "core/engage.h"
#include "core/home.h"
#include "core/log.h"
#include "core/news.h"
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
    mm_news_runs_t *runs;
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
    if (theirs.seq < h->seq) {
        assert_rc(mm_log_walk(c->from, author, scope, theirs.seq + 1, carry_entry, c), MM_OK);
        mm_news_runs_add(c->runs, scope, author, theirs.seq + 1, h->seq);
    }
    return 0;
}

/* Everything a holds of the scope that b lacks goes to b, and b's core
 * hears of each run stored, as net/sync.c tells it; then what it means
 * for b into *news. */
static void carry(mm_home_t *a, mm_home_t *b, const uint8_t scope[32], mm_news_list_t *news)
{
    mm_news_runs_t runs = { 0 };
    carry_t c = { scope, NULL, NULL, &runs };
    int settle;
    assert_rc(mm_store_begin(mm_home_store(a), 0, &c.from), MM_OK);
    assert_rc(mm_store_begin(mm_home_store(b), 1, &c.to), MM_OK);
    assert_rc(mm_log_feeds(c.from, carry_feed, &c), MM_OK);
    assert_rc(mm_txn_commit(&c.to), MM_OK);
    mm_txn_abort(&c.from);
    for (size_t i = 0; i < runs.n; i++)
        assert_rc(mm_engage_received(b, runs.v[i].scope, runs.v[i].device, runs.v[i].first,
                                     runs.v[i].last, &settle), MM_OK);
    mm_news_free(news);
    assert_rc(mm_news_of(b, runs.v, runs.n, news), MM_OK);
    mm_news_runs_free(&runs);
}

#define S(s) (s), sizeof (s) - 1
#define Q1 "What helped you most when you first led a team of five?"
#define Q2 "How did you decide when to stop coding as a lead?"

static void hex(char out[65], const uint8_t id[32])
{
    sodium_bin2hex(out, 65, id, 32);
}

static const uint8_t *id_of(mm_home_t *h) { return mm_home_identity_pk(h); }

static void assert_event(const mm_news_t *e, mm_news_kind_t kind, mm_home_t *who,
                         const uint8_t *qid)
{
    if (e->kind != kind)
        fail_msg("event is %s, want %s", mm_news_kind_name(e->kind), mm_news_kind_name(kind));
    assert_memory_equal(e->peer, id_of(who), 32);
    assert_int_equal(e->have_q, qid != NULL);
    if (qid)
        assert_memory_equal(e->qid, qid, 32);
    assert_true(e->time > 1.6e12);
}

/* A question of Ada's, released to Grace's inbox, carried back. */
static void asked_and_open(world_t *w, uint8_t qid[32], mm_news_list_t *n)
{
    mm_engage_out_t o;
    mm_settle_t st;
    assert_rc(mm_engage_ask(w->ada, id_of(w->grace), S(Q1), NULL, 0, &o), MM_OK);
    memcpy(qid, o.id, 32);
    carry(w->ada, w->grace, w->scope, n);
    assert_int_equal(n->n, 1);
    assert_event(&n->v[0], MM_NEWS_ASKED, w->ada, qid);
    assert_rc(mm_budget_settle(w->grace, &st), MM_OK);
    carry(w->grace, w->ada, w->scope, n);
    assert_int_equal(n->n, 1);
    assert_event(&n->v[0], MM_NEWS_RELEASED, w->grace, qid);
}

static void test_answer_clarify_askback(void **state)
{
    world_t *w = *state;
    mm_news_list_t n = { 0 };
    mm_engage_out_t o;
    uint8_t q[32];
    char id[65];
    asked_and_open(w, q, &n);
    hex(id, q);
    assert_rc(mm_engage_answer(w->grace, id, S("Listen first."), &o), MM_OK);
    assert_rc(mm_engage_answer(w->grace, id, S("I mean: to the team."), &o), MM_OK);
    assert_rc(mm_engage_askback(w->grace, id, S("What did they say?"), &o), MM_OK);
    /* a modified client writes a third answer and a second ask-back: ignored */
    mm_field_t more[] = { { "ref", MM_F_BIN, q, 32, 0 }, { "text", MM_F_STR, S("Again."), 0 } };
    assert_rc(mm_engage_append(w->grace, w->scope, MM_T_ANSWER, more, 2, NULL), MM_OK);
    assert_rc(mm_engage_append(w->grace, w->scope, MM_T_ASKBACK, more, 2, NULL), MM_OK);
    carry(w->grace, w->ada, w->scope, &n);
    assert_int_equal(n.n, 3);
    assert_event(&n.v[0], MM_NEWS_ANSWERED, w->grace, q);
    assert_event(&n.v[1], MM_NEWS_CLARIFIED, w->grace, q);
    assert_event(&n.v[2], MM_NEWS_ASKED_BACK, w->grace, q);
    assert_int_equal(n.more, 0);
    /* what Grace gets back: thanks and a report; and her own entries never */
    assert_rc(mm_engage_thank(w->ada, id, S("Thank you!"), NULL, 0, &o), MM_OK);
    assert_rc(mm_engage_report(w->ada, id, S("It worked."), &o), MM_OK);
    carry(w->ada, w->grace, w->scope, &n);
    assert_int_equal(n.n, 2);
    assert_event(&n.v[0], MM_NEWS_THANKED, w->ada, q);
    assert_event(&n.v[1], MM_NEWS_REPORTED, w->ada, q);
    /* nothing new: nothing said */
    carry(w->ada, w->grace, w->scope, &n);
    assert_int_equal(n.n, 0);
    mm_news_free(&n);
}

static void test_only_what_arrived(void **state)
{
    world_t *w = *state;
    mm_news_list_t n = { 0 };
    mm_engage_out_t o;
    mm_news_run_t run;
    uint8_t q[32];
    char id[65];
    mm_head_t h;
    mm_txn_t *txn;
    asked_and_open(w, q, &n);
    hex(id, q);
    assert_rc(mm_engage_answer(w->grace, id, S("Listen first."), &o), MM_OK);
    carry(w->grace, w->ada, w->scope, &n);
    assert_int_equal(n.n, 1);
    assert_event(&n.v[0], MM_NEWS_ANSWERED, w->grace, q);
    /* the run of Grace's last entry alone says only that entry */
    assert_rc(mm_store_begin(mm_home_store(w->ada), 0, &txn), MM_OK);
    assert_rc(mm_log_head(txn, mm_keypair_pk(mm_home_device(w->grace)), w->scope, &h), MM_OK);
    mm_txn_abort(&txn);
    memcpy(run.scope, w->scope, 32);
    memcpy(run.device, mm_keypair_pk(mm_home_device(w->grace)), 32);
    run.first = run.last = h.seq;
    mm_news_free(&n);
    assert_rc(mm_news_of(w->ada, &run, 1, &n), MM_OK);
    assert_int_equal(n.n, 1);
    assert_event(&n.v[0], MM_NEWS_ANSWERED, w->grace, q);
    /* the run before it: the release, not the answer */
    run.first = run.last = h.seq - 1;
    mm_news_free(&n);
    assert_rc(mm_news_of(w->ada, &run, 1, &n), MM_OK);
    assert_int_equal(n.n, 1);
    assert_event(&n.v[0], MM_NEWS_RELEASED, w->grace, q);
    /* Ada's own entries, synced from her own device, are no news to her */
    memcpy(run.device, mm_keypair_pk(mm_home_device(w->ada)), 32);
    run.first = 1;
    run.last = 1;
    mm_news_free(&n);
    assert_rc(mm_news_of(w->ada, &run, 1, &n), MM_OK);
    assert_int_equal(n.n, 0);
    /* a scope that is not a relationship says nothing */
    memcpy(run.scope, mm_home_self_scope(w->ada), 32);
    mm_news_free(&n);
    assert_rc(mm_news_of(w->ada, &run, 1, &n), MM_OK);
    assert_int_equal(n.n, 0);
    mm_news_free(&n);
}

static void test_queue_and_away_latest(void **state)
{
    world_t *w = *state;
    mm_news_list_t n = { 0 };
    mm_engage_out_t o;
    mm_settle_t st;
    uint8_t q[32], qb[32];
    char id[65];
    mm_field_t cap[] = { { "n", MM_F_UINT, NULL, 0, 1 }, { "per", MM_F_STR, S("week"), 0 } };
    uint64_t until = mm_now_ms() + 10ull * 86400 * 1000;
    mm_field_t away[] = { { "until", MM_F_UINT, NULL, 0, until } };
    mm_field_t back[] = { { "until", MM_F_UINT, NULL, 0, 0 } };
    uint64_t got;
    /* Bob takes Grace's one slot; Ada's question is held behind it */
    assert_rc(mm_engage_append(w->grace, mm_home_self_scope(w->grace), MM_T_CAPACITY, cap, 2,
                               NULL), MM_OK);
    assert_rc(mm_engage_ask(w->bob, id_of(w->grace), S(Q2), NULL, 0, &o), MM_OK);
    memcpy(qb, o.id, 32);
    mm_peer_t bp;
    mm_txn_t *txn;
    assert_rc(mm_store_begin(mm_home_store(w->grace), 0, &txn), MM_OK);
    assert_rc(mm_peer_get(txn, id_of(w->bob), &bp), MM_OK);
    mm_txn_abort(&txn);
    carry(w->bob, w->grace, bp.scope, &n);
    assert_rc(mm_budget_settle(w->grace, &st), MM_OK);
    assert_rc(mm_engage_ask(w->ada, id_of(w->grace), S(Q1), NULL, 0, &o), MM_OK);
    memcpy(q, o.id, 32);
    carry(w->ada, w->grace, w->scope, &n);
    assert_rc(mm_budget_settle(w->grace, &st), MM_OK);
    assert_int_equal(st.held, 1);
    assert_rc(mm_engage_append(w->grace, w->scope, MM_T_AWAY, away, 1, NULL), MM_OK);
    carry(w->grace, w->ada, w->scope, &n);
    assert_int_equal(n.n, 2);
    assert_event(&n.v[0], MM_NEWS_HELD, w->grace, q);
    assert_int_equal(n.v[0].hold, MM_HOLD_BUDGET);
    assert_int_equal(n.v[0].ahead, 0);
    assert_event(&n.v[1], MM_NEWS_AWAY, w->grace, NULL);
    assert_int_equal(n.v[1].until, until);
    assert_rc(mm_budget_away_of(w->ada, id_of(w->grace), mm_now_ms(), &got), MM_OK);
    assert_int_equal(got, until);
    assert_rc(mm_budget_away_of(w->ada, id_of(w->grace), until, &got), MM_OK);
    assert_int_equal(got, 0);
    /* back, and Bob's question closed: released; of each only the latest */
    assert_rc(mm_engage_append(w->grace, w->scope, MM_T_AWAY, away, 1, NULL), MM_OK);
    usleep(2000);       /* items of one millisecond are in id order (item.h) */
    assert_rc(mm_engage_append(w->grace, w->scope, MM_T_AWAY, back, 1, NULL), MM_OK);
    hex(id, qb);
    assert_rc(mm_engage_decline(w->grace, id, S("Not mine."), id_of(w->ada), &o), MM_OK);
    assert_rc(mm_budget_settle(w->grace, &st), MM_OK);
    assert_int_equal(st.released, 1);
    carry(w->grace, w->ada, w->scope, &n);
    assert_int_equal(n.n, 2);
    assert_event(&n.v[0], MM_NEWS_BACK, w->grace, NULL);
    assert_event(&n.v[1], MM_NEWS_RELEASED, w->grace, q);
    assert_rc(mm_budget_away_of(w->ada, id_of(w->grace), mm_now_ms(), &got), MM_OK);
    assert_int_equal(got, 0);
    /* Bob hears of the decline, with whom Grace suggests */
    carry(w->grace, w->bob, bp.scope, &n);
    assert_int_equal(n.n, 2);
    assert_event(&n.v[0], MM_NEWS_RELEASED, w->grace, qb);
    assert_event(&n.v[1], MM_NEWS_DECLINED, w->grace, qb);
    assert_true(n.v[1].have_refer);
    assert_memory_equal(n.v[1].refer, id_of(w->ada), 32);
    assert_string_equal(n.v[1].refer_name, "ada");
    mm_news_free(&n);
}

static void test_withdraw_and_runs(void **state)
{
    world_t *w = *state;
    mm_news_list_t n = { 0 };
    mm_news_runs_t runs = { 0 };
    mm_engage_out_t o;
    uint8_t dev[32] = { 1 }, sc[32] = { 2 };
    char id[65];
    /* asked and withdrawn in one sync: both said */
    assert_rc(mm_engage_ask(w->ada, id_of(w->grace), S(Q1), NULL, 0, &o), MM_OK);
    hex(id, o.id);
    assert_rc(mm_engage_withdraw(w->ada, id, &o), MM_OK);
    carry(w->ada, w->grace, w->scope, &n);
    assert_int_equal(n.n, 2);
    assert_event(&n.v[0], MM_NEWS_ASKED, w->ada, o.qid);
    assert_event(&n.v[1], MM_NEWS_WITHDREW, w->ada, o.qid);
    mm_news_free(&n);
    /* a feed's runs frame by frame make one run */
    mm_news_runs_add(&runs, sc, dev, 1, 4);
    mm_news_runs_add(&runs, sc, dev, 5, 9);
    assert_int_equal(runs.n, 1);
    assert_int_equal(runs.v[0].first, 1);
    assert_int_equal(runs.v[0].last, 9);
    dev[0] = 3;
    mm_news_runs_add(&runs, sc, dev, 1, 2);
    assert_int_equal(runs.n, 2);
    mm_news_runs_free(&runs);
    assert_string_equal(mm_news_kind_name(MM_NEWS_ASKED_BACK), "asked-back");
}

/* A flood of questions (a modified client writes them straight into the
 * log) keeps MM_NEWS_MAX events, the first ones, and counts the rest. */
static void test_news_is_bounded(void **state)
{
    world_t *w = *state;
    mm_news_list_t n = { 0 };
    mm_field_t f[] = { { "text", MM_F_STR, S(Q1), 0 } };
    uint8_t first[32] = { 0 };
    for (int i = 0; i < MM_NEWS_MAX + 5; i++)
        assert_rc(mm_engage_append(w->ada, w->scope, MM_T_QUESTION, f, 1, i ? NULL : first),
                  MM_OK);
    carry(w->ada, w->grace, w->scope, &n);
    assert_int_equal(n.n, MM_NEWS_MAX);
    assert_int_equal(n.more, 5);
    assert_event(&n.v[0], MM_NEWS_ASKED, w->ada, first);
    mm_news_free(&n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_answer_clarify_askback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_only_what_arrived, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queue_and_away_latest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_withdraw_and_runs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_news_is_bounded, setup, teardown),
    };
    return cmocka_run_group_tests(tests, fx_setup_crypto, NULL);
}
