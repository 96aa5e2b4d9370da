/*  test_random.c -- random bytes, and the pool behind them (crypto/random.c). */
#include "fixture.h"

#include <signal.h>
#include <sys/wait.h>

#include "crypto/random.h"

#define POOL MM_RANDOM_POOL_BYTES

/* No run of 8 zero bytes: the pool wipes what it hands out, so a byte
 * handed out twice, or a pool used up and not refilled, reads as zero. */
static void assert_no_zero_run(const uint8_t *p, size_t n)
{
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        run = p[i] ? 0 : run + 1;
        assert_true(run < 8);
    }
}

static const uint8_t *windows_of;

static int cmp_window(const void *a, const void *b)
{
    return memcmp(windows_of + *(const size_t *) a, windows_of + *(const size_t *) b, 16);
}

/* No 16 bytes occur twice in p[0..n): a refill that repeated the pool, or
 * two draws served the same bytes, would.  Sorted windows, equal neighbours. */
static void assert_no_repeat(const uint8_t *p, size_t n)
{
    size_t m = n - 15, *at = malloc(m * sizeof *at);
    assert_non_null(at);
    for (size_t i = 0; i < m; i++)
        at[i] = i;
    windows_of = p;
    qsort(at, m, sizeof *at, cmp_window);
    for (size_t i = 1; i < m; i++)
        assert_int_not_equal(memcmp(p + at[i - 1], p + at[i], 16), 0);
    free(at);
}

/* Make the draws sizes[0..k) with mm_random_bytes in a forked child, whose
 * pool starts empty whatever this process drew before, and read what it
 * drew, in order, into out[0..total). */
static void child_draws(const size_t *sizes, size_t k, uint8_t *out, size_t total)
{
    int fd[2];
    assert_int_equal(pipe(fd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {                 /* no cmocka here: report by exit status */
        /* a crash must kill the child, not jump back into cmocka's runner */
        const int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT };
        for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
            signal(sigs[i], SIG_DFL);
        close(fd[0]);
        size_t off = 0;
        for (size_t i = 0; i < k; i++) {
            mm_random_bytes(out + off, sizes[i]);
            off += sizes[i];
        }
        for (size_t w = 0; w < off;) {
            ssize_t n = write(fd[1], out + w, off - w);
            if (n <= 0)
                _exit(1);
            w += (size_t) n;
        }
        _exit(0);
    }
    close(fd[1]);
    size_t got = 0;
    for (ssize_t n; got < total && (n = read(fd[0], out + got, total - got)) > 0;)
        got += (size_t) n;
    close(fd[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(got, total);
}

static void test_distinct(void **state)
{
    uint8_t a[32], b[32], c[32], d[32];
    mm_random_bytes(a, sizeof a);
    mm_random_bytes(b, sizeof b);
    mm_random_direct(c, sizeof c);
    mm_random_direct(d, sizeof d);
    const uint8_t *all[] = { a, b, c, d };
    for (int i = 0; i < 4; i++) {
        assert_no_zero_run(all[i], 32);
        for (int j = 0; j < i; j++)
            assert_memory_not_equal(all[i], all[j], 32);
    }
    /* nothing asked, nothing written */
    memset(a, 0xaa, sizeof a);
    mm_random_bytes(a, 0);
    mm_random_direct(a, 0);
    for (size_t i = 0; i < sizeof a; i++)
        assert_int_equal(a[i], 0xaa);
}

/* From an empty pool (a fresh child), draws that meet every boundary:
 * refill, then one byte short of the end; a draw straddling it (1 old
 * byte, refill, 1 new); up to the end exactly, without a refill; one byte,
 * refilling first; one draw of more than two pools (three refills); and a
 * few bytes after.  No byte may be zero-wiped or repeated. */
static void test_pool_refill(void **state)
{
    const size_t sizes[] = { POOL - 1, 2, POOL - 2, 1, 1, 2 * POOL + 3, 5 };
    size_t total = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        total += sizes[i];
    uint8_t *s = malloc(total);
    assert_non_null(s);
    child_draws(sizes, sizeof sizes / sizeof sizes[0], s, total);
    assert_no_zero_run(s, total);
    assert_no_repeat(s, total);

    /* and here, from wherever this process's pool stands */
    mm_random_bytes(s, total);
    assert_no_zero_run(s, total);
    assert_no_repeat(s, total);
    free(s);
}

/* A forked child drops the pool it inherited: otherwise it would hand out
 * the very bytes its parent hands out next. */
static void test_fork(void **state)
{
    uint8_t one, mine[64], theirs[64];
    const size_t n = sizeof theirs;
    mm_random_bytes(&one, 1);           /* the pool now holds bytes a child inherits */
    child_draws(&n, 1, theirs, sizeof theirs);
    mm_random_bytes(mine, sizeof mine);
    assert_no_zero_run(theirs, sizeof theirs);
    assert_memory_not_equal(mine, theirs, sizeof mine);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_distinct),
        cmocka_unit_test(test_pool_refill),
        cmocka_unit_test(test_fork),
    };
    return cmocka_run_group_tests(tests, fx_setup_crypto, NULL);
}
