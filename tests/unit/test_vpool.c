/*  test_vpool.c -- the verifier pool (core/vpool.h): every signature of a
 *  batch checked, each result in its own slot, whatever the lane count;
 *  the shared pool across destroy and fork; results taken in order while
 *  the rest are checked; signals stay off the workers. */
#include "fixture.h"

#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include "core/entry.h"
#include "core/vpool.h"

#define N    97                     /* not a multiple of any lane count used */
#define CAP  (3000 + MM_ENTRY_OVERHEAD)

static mm_keypair_t *device;
static mm_scope_t scope;
static uint8_t (*bufs)[CAP];
static mm_entry_t ents[N];

/* N entries of one feed, bodies of varied sizes, parsed into ents. */
static int setup(void **state)
{
    if (fx_setup_crypto(state) != 0)
        return -1;
    device = fx_keypair(7);
    fx_self_scope(&scope, mm_keypair_pk(device), 0x33);
    bufs = calloc(N, sizeof *bufs);
    assert_non_null(bufs);
    mm_head_t head = { 0, { 0 } };
    char text[3001];
    for (int i = 0; i < N; i++) {
        uint8_t body[3100];
        size_t tlen = (size_t) (i * 131) % 3000;
        memset(text, 'a' + i % 26, tlen);
        text[tlen] = '\0';
        size_t blen = fx_note_body(body, sizeof body, text), len;
        assert_rc(mm_entry_seal(device, &scope, &head, 1000 + (uint64_t) i, NULL, body, blen,
                                bufs[i], CAP, &len), MM_OK);
        assert_rc(mm_entry_parse(bufs[i], len, &ents[i]), MM_OK);
        head.seq = ents[i].seq;
        memcpy(head.id, ents[i].id, 32);
    }
    return 0;
}

static int teardown(void **state)
{
    mm_vpool_shared_destroy();
    mm_keypair_destroy(&device);
    mm_scope_wipe(&scope);
    free(bufs);
    return 0;
}

static void flip_sig(int i)
{
    bufs[i][ents[i].len - 1] ^= 0x01;
}

/* Verify ents[0..n) on pool p (NULL: shared); each slot must say OK except
 * those in bad[0..nbad). */
static void expect(mm_vpool_t *p, size_t n, const int *bad, int nbad)
{
    int rcs[N];
    for (size_t i = 0; i < n; i++)
        rcs[i] = 12345;             /* every slot must be written */
    assert_rc(mm_vpool_verify(p, ents, n, rcs), nbad ? MM_EBADSIG : MM_OK);
    for (size_t i = 0; i < n; i++) {
        int want = MM_OK;
        for (int k = 0; k < nbad; k++)
            if ((size_t) bad[k] == i)
                want = MM_EBADSIG;
        if (rcs[i] != want)
            print_error("entry %zu of %zu\n", i, n);
        assert_rc(rcs[i], want);
    }
}

static void exercise(mm_vpool_t *p)
{
    unsigned lanes = p ? mm_vpool_lanes(p) : 1;
    expect(p, N, NULL, 0);
    expect(p, 0, NULL, 0);
    expect(p, 1, NULL, 0);
    expect(p, 2, NULL, 0);
    /* broken signatures at the ends, at a lane boundary and in the middle */
    const int cand[] = { 0, (int) lanes - 1, (int) lanes, N / 2, N - 1 };
    int uniq[5] = { 0 }, nbad = 0;
    for (int c = 0; c < 5; c++) {
        int dup = cand[c] >= N;
        for (int k = 0; k < nbad; k++)
            dup |= uniq[k] == cand[c];
        if (!dup)
            uniq[nbad++] = cand[c];
    }
    for (int k = 0; k < nbad; k++)
        flip_sig(uniq[k]);
    expect(p, N, uniq, nbad);
    /* a failure in one call leaves nothing behind for the next */
    for (int k = 0; k < nbad; k++)
        flip_sig(uniq[k]);
    expect(p, N, NULL, 0);
    /* one broken entry at each position in turn, a few lanes' worth */
    for (int i = 0; i < 20; i++) {
        flip_sig(i);
        expect(p, 21, &i, 1);
        flip_sig(i);
    }
    /* many short calls back to back: the hand-offs, more than the work */
    for (int r = 0; r < 400; r++)
        expect(p, (size_t) (r % 9) + 1, NULL, 0);
}

static void test_lanes(void **state)
{
    static const unsigned counts[] = { 1, 2, 3, 5, MM_VPOOL_LANES_MAX, MM_VPOOL_LANES_MAX + 9 };
    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
        mm_vpool_t *p = NULL;
        assert_rc(mm_vpool_new(counts[c], &p), MM_OK);
        unsigned want = counts[c] > MM_VPOOL_LANES_MAX ? MM_VPOOL_LANES_MAX : counts[c];
        assert_int_equal(mm_vpool_lanes(p), want);
        exercise(p);
        mm_vpool_destroy(&p);
        assert_null(p);
    }
    /* one lane per core, capped */
    mm_vpool_t *p = NULL;
    assert_rc(mm_vpool_new(0, &p), MM_OK);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned want = cores < 1 ? 1 : cores > MM_VPOOL_LANES_MAX ? MM_VPOOL_LANES_MAX
                                                               : (unsigned) cores;
    assert_int_equal(mm_vpool_lanes(p), want);
    mm_vpool_destroy(&p);
    mm_vpool_destroy(&p);
    mm_vpool_destroy(NULL);
}

static void test_shared_and_limits(void **state)
{
    exercise(NULL);
    mm_vpool_shared_destroy();
    mm_vpool_shared_destroy();
    expect(NULL, N, NULL, 0);       /* made again on use */

    /* more than a run: refused, the slots untouched */
    static mm_entry_t many[MM_VPOOL_MAX + 1];
    static int rcs[MM_VPOOL_MAX + 1];
    for (size_t i = 0; i < MM_VPOOL_MAX + 1; i++) {
        many[i] = ents[i % N];
        rcs[i] = 77;
    }
    assert_rc(mm_vpool_verify(NULL, many, MM_VPOOL_MAX + 1, rcs), MM_ETOOBIG);
    for (size_t i = 0; i < MM_VPOOL_MAX + 1; i++)
        assert_int_equal(rcs[i], 77);
    /* a whole run, one broken entry deep inside it */
    flip_sig(1000 % N);
    assert_rc(mm_vpool_verify(NULL, many, MM_VPOOL_MAX, rcs), MM_EBADSIG);
    for (size_t i = 0; i < MM_VPOOL_MAX; i++)
        assert_rc(rcs[i], i % N == 1000 % N ? MM_EBADSIG : MM_OK);
    flip_sig(1000 % N);
    assert_rc(mm_vpool_verify(NULL, many, MM_VPOOL_MAX, rcs), MM_OK);
}

/* begin / take / end: results taken in order while the workers go on, a
 * caller that stops early (end drops what no lane started, and the next
 * call finds nothing of it), and a call of one entry (no pool at all). */
static void take_in_order(mm_vpool_t *p)
{
    int rcs[N];
    mm_vpool_call_t call;
    flip_sig(40);
    for (int stop = 1; stop <= N; stop += 24) {
        for (int i = 0; i < N; i++)
            rcs[i] = 12345;
        assert_rc(mm_vpool_begin(p, ents, N, rcs, &call), MM_OK);
        for (int i = 0; i < stop; i++) {
            assert_rc(mm_vpool_take(&call, (size_t) i), i == 40 ? MM_EBADSIG : MM_OK);
            assert_rc(rcs[i], i == 40 ? MM_EBADSIG : MM_OK);
        }
        mm_vpool_end(&call);
        assert_null(call.pool);
        /* whatever a lane did check is right; the rest is untouched */
        for (int i = stop; i < N; i++)
            assert_true(rcs[i] == 12345 || rcs[i] == (i == 40 ? MM_EBADSIG : MM_OK));
        mm_vpool_end(&call);        /* harmless once ended */
    }
    flip_sig(40);
    expect(p, N, NULL, 0);
    /* taken out of order: the last first */
    assert_rc(mm_vpool_begin(p, ents, N, rcs, &call), MM_OK);
    for (int i = N - 1; i >= 0; i--)
        assert_rc(mm_vpool_take(&call, (size_t) i), MM_OK);
    mm_vpool_end(&call);
    /* one entry: checked on the caller's thread */
    flip_sig(0);
    assert_rc(mm_vpool_begin(p, ents, 1, rcs, &call), MM_OK);
    assert_null(call.pool);
    assert_rc(mm_vpool_take(&call, 0), MM_EBADSIG);
    mm_vpool_end(&call);
    flip_sig(0);
    /* too many: refused, nothing started */
    static mm_entry_t many[MM_VPOOL_MAX + 1];
    assert_rc(mm_vpool_begin(p, many, MM_VPOOL_MAX + 1, rcs, &call), MM_ETOOBIG);
    assert_null(call.pool);
    mm_vpool_end(&call);
}

static void test_take_in_order(void **state)
{
    static const unsigned counts[] = { 1, 2, 3, 7 };
    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
        mm_vpool_t *p = NULL;
        assert_rc(mm_vpool_new(counts[c], &p), MM_OK);
        take_in_order(p);
        mm_vpool_destroy(&p);
    }
    take_in_order(NULL);
}

/* mm_vpool_begin_hash: entries parsed by structure only get their id and
 * digest on the pool, each read once take returned; a bad signature or a
 * spoilt signed byte (whose digest then differs) is MM_EBADSIG at its own
 * slot; a caller that stops at the first failure ends the call cleanly and
 * the pool's next call is right. */
static void hash_in_order(mm_vpool_t *p)
{
    static mm_entry_t sh[N];
    int rcs[N];
    mm_vpool_call_t call;
    for (int bad = -1; bad < N; bad += 32) {
        for (int spoil = 0; spoil < 2; spoil++) {
            size_t at = 0;
            if (bad >= 0) {
                at = spoil ? ents[bad].adlen - 1 : ents[bad].len - 1;
                bufs[bad][at] ^= 0x01;
            }
            for (int i = 0; i < N; i++) {
                assert_rc(mm_entry_parse_shape(bufs[i], ents[i].len, &sh[i]), MM_OK);
                rcs[i] = 12345;
            }
            assert_rc(mm_vpool_begin_hash(p, sh, N, rcs, &call), MM_OK);
            int i;
            for (i = 0; i < N; i++) {
                int rc = mm_vpool_take(&call, (size_t) i);
                assert_rc(rc, i == bad ? MM_EBADSIG : MM_OK);
                if (rc)
                    break;              /* as mm_log_put_run: the first fault ends it */
                assert_memory_equal(sh[i].id, ents[i].id, 32);
                assert_memory_equal(sh[i].digest, ents[i].digest, 32);
            }
            mm_vpool_end(&call);
            assert_null(call.pool);
            if (bad >= 0)
                bufs[bad][at] ^= 0x01;
            if (bad < 0)
                break;
        }
    }
    expect(p, N, NULL, 0);          /* nothing of the ended calls is left */
    /* one entry: hashed and checked on the caller's thread */
    assert_rc(mm_entry_parse_shape(bufs[0], ents[0].len, &sh[0]), MM_OK);
    assert_rc(mm_vpool_begin_hash(p, sh, 1, rcs, &call), MM_OK);
    assert_null(call.pool);
    assert_rc(mm_vpool_take(&call, 0), MM_OK);
    assert_memory_equal(sh[0].id, ents[0].id, 32);
    mm_vpool_end(&call);
}

static void test_hash_in_order(void **state)
{
    static const unsigned counts[] = { 1, 2, 3, 7 };
    for (size_t c = 0; c < sizeof counts / sizeof counts[0]; c++) {
        mm_vpool_t *p = NULL;
        assert_rc(mm_vpool_new(counts[c], &p), MM_OK);
        hash_in_order(p);
        mm_vpool_destroy(&p);
    }
    hash_in_order(NULL);
}

/* A call begun while another is open on the pool never waits for it: the
 * caller's own second call, and another thread's, are checked on their
 * own threads (pool NULL), with every answer right. */
typedef struct {
    mm_vpool_t *p;
    int rc, ran_alone;
} busy_t;

static void *busy_other(void *arg)
{
    busy_t *b = arg;
    int rcs[N];
    mm_vpool_call_t call;
    b->rc = mm_vpool_begin(b->p, ents, N, rcs, &call);
    b->ran_alone = call.pool == NULL;
    for (size_t i = 0; b->rc == MM_OK && i < N; i++)
        if (mm_vpool_take(&call, i) != (i == 9 ? MM_EBADSIG : MM_OK))
            b->rc = MM_EINVAL;
    mm_vpool_end(&call);
    return NULL;
}

static void test_busy_does_not_wait(void **state)
{
    mm_vpool_t *p = NULL;
    assert_rc(mm_vpool_new(2, &p), MM_OK);
    int rcs1[N], rcs2[N];
    mm_vpool_call_t one, two;
    flip_sig(9);
    assert_rc(mm_vpool_begin(p, ents, N, rcs1, &one), MM_OK);
    assert_non_null(one.pool);
    assert_rc(mm_vpool_begin(p, ents, N, rcs2, &two), MM_OK);
    assert_null(two.pool);                  /* the caller's own: not waited for */
    for (size_t i = 0; i < N; i++)
        assert_rc(mm_vpool_take(&two, i), i == 9 ? MM_EBADSIG : MM_OK);
    mm_vpool_end(&two);
    busy_t b = { p, -1, 0 };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, busy_other, &b), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_rc(b.rc, MM_OK);
    assert_true(b.ran_alone);               /* another thread's: not waited for either */
    for (size_t i = 0; i < N; i++)
        assert_rc(mm_vpool_take(&one, i), i == 9 ? MM_EBADSIG : MM_OK);
    mm_vpool_end(&one);
    /* once ended, the next call has the pool again */
    assert_rc(mm_vpool_begin(p, ents, N, rcs1, &one), MM_OK);
    assert_non_null(one.pool);
    mm_vpool_end(&one);
    flip_sig(9);
    expect(p, N, NULL, 0);
    mm_vpool_destroy(&p);
}

/* A child forked after the shared pool has threads makes its own. */
static void test_fork(void **state)
{
    expect(NULL, N, NULL, 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int rcs[N], ok = 1;
        for (int r = 0; r < 20 && ok; r++)
            ok = mm_vpool_verify(NULL, ents, N, rcs) == MM_OK;
        flip_sig(5);
        ok = ok && mm_vpool_verify(NULL, ents, N, rcs) == MM_EBADSIG && rcs[5] == MM_EBADSIG
             && rcs[4] == MM_OK;
        exit(ok ? 0 : 1);           /* runs the child's at-exit destroy */
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    expect(NULL, N, NULL, 0);       /* the parent's pool is unharmed */
}

/* A signal sent to the process is never handled on a worker: with the main
 * thread blocking it, it stays pending while the workers run (a worker that
 * did not block it would take it at once), and comes to the main thread
 * when it unblocks it. */
static pthread_t main_thread;
static volatile sig_atomic_t on_main, on_other;

static void on_usr1(int sig)
{
    if (pthread_equal(pthread_self(), main_thread))
        on_main++;
    else
        on_other++;
}

static void test_signals_stay_off_workers(void **state)
{
    struct sigaction sa, old;
    sigset_t usr1, prev;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGUSR1, &sa, &old), 0);
    main_thread = pthread_self();
    mm_vpool_t *p = NULL;
    assert_rc(mm_vpool_new(4, &p), MM_OK);      /* made with SIGUSR1 open */
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    assert_int_equal(pthread_sigmask(SIG_BLOCK, &usr1, &prev), 0);
    int rcs[N];
    for (int i = 0; i < 50; i++) {
        kill(getpid(), SIGUSR1);
        assert_rc(mm_vpool_verify(p, ents, N, rcs), MM_OK);
    }
    assert_int_equal(on_other, 0);
    assert_int_equal(on_main, 0);
    assert_int_equal(pthread_sigmask(SIG_SETMASK, &prev, NULL), 0);
    assert_int_equal(on_main, 1);   /* pending once: signals of a kind do not queue */
    mm_vpool_destroy(&p);
    assert_int_equal(sigaction(SIGUSR1, &old, NULL), 0);
    assert_int_equal(on_other, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lanes),
        cmocka_unit_test(test_shared_and_limits),
        cmocka_unit_test(test_take_in_order),
        cmocka_unit_test(test_hash_in_order),
        cmocka_unit_test(test_busy_does_not_wait),
        cmocka_unit_test(test_fork),
        cmocka_unit_test(test_signals_stay_off_workers),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
