/*  test_looked.c -- "new since you last looked" (core/looked.h): no mark
 *  shows nothing and is set; what arrives past the mark is news; setting
 *  the mark to what a look read keeps what arrived after it new; my own
 *  entries are never news; a damaged mark file is no mark. */
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>
#include "fixture.h"
#include "fxhome.h"
#include "core/budget.h"
#include "core/engage.h"
#include "core/home.h"
#include "core/log.h"
#include "core/looked.h"
#include "core/news.h"

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

/* A look: the news past the mark, n events of which the first is kind. */
static void look(mm_home_t *h, size_t n, int kind, int set)
{
    mm_looked_t now;
    mm_news_list_t news;
    assert_rc(mm_looked_news(h, &now, &news), MM_OK);
    if (news.n != n)
        fail_msg("%zu events, want %zu", news.n, n);
    if (n)
        assert_int_equal(news.v[0].kind, kind);
    if (set)
        assert_rc(mm_looked_set(h, &now), MM_OK);
    mm_news_free(&news);
    mm_looked_free(&now);
}

static void test_mark(void **state)
{
    world_t *w = *state;
    mm_news_list_t n = { 0 };
    mm_engage_out_t o;
    mm_settle_t st;
    mm_looked_t early;
    mm_news_list_t news;
    char path[FX_PATH_MAX + 16], id[65];
    struct stat sb;

    /* never looked: nothing new, and the look sets the mark (0600) */
    look(w->ada, 0, 0, 0);
    snprintf(path, sizeof path, "%s/looked", mm_home_path(w->ada));
    assert_int_not_equal(access(path, F_OK), 0);
    look(w->ada, 0, 0, 1);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);

    /* my own question: not news to me */
    assert_rc(mm_engage_ask(w->ada, mm_home_identity_pk(w->grace), S(Q1), NULL, 0, &o), MM_OK);
    sodium_bin2hex(id, sizeof id, o.id, 32);
    look(w->ada, 0, 0, 1);
    carry(w->ada, w->grace, w->scope, &n);
    assert_rc(mm_budget_settle(w->grace, &st), MM_OK);
    carry(w->grace, w->ada, w->scope, &n);
    /* released, seen by a look that does not move the mark, and again */
    look(w->ada, 1, MM_NEWS_RELEASED, 0);
    /* a look reads the heads; what arrives before its mark is set stays new */
    assert_rc(mm_looked_news(w->ada, &early, &news), MM_OK);
    assert_int_equal(news.n, 1);
    mm_news_free(&news);
    assert_rc(mm_engage_answer(w->grace, id, S("Listen first."), &o), MM_OK);
    carry(w->grace, w->ada, w->scope, &n);
    assert_rc(mm_looked_set(w->ada, &early), MM_OK);
    mm_looked_free(&early);
    look(w->ada, 1, MM_NEWS_ANSWERED, 1);
    look(w->ada, 0, 0, 1);

    /* the mentor's side: the thanks is news to Grace */
    look(w->grace, 0, 0, 1);
    assert_rc(mm_engage_thank(w->ada, id, S("Thank you!"), NULL, 0, &o), MM_OK);
    carry(w->ada, w->grace, w->scope, &n);
    look(w->grace, 1, MM_NEWS_THANKED, 0);

    /* a damaged mark is no mark: nothing new, then set anew */
    int fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, "\xff", 1, 20), 1);
    close(fd);
    assert_rc(mm_engage_report(w->ada, id, S("It worked."), &o), MM_OK);
    assert_rc(mm_engage_askback(w->grace, id, S("What did they say?"), &o), MM_OK);
    carry(w->grace, w->ada, w->scope, &n);
    look(w->ada, 0, 0, 1);
    look(w->ada, 0, 0, 1);
    mm_news_free(&n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_mark, setup, teardown),
    };
    return cmocka_run_group_tests(tests, fx_setup_crypto, NULL);
}
