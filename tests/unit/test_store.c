/*  test_store.c -- the store's map (core/store.h): it starts small, grows
 *  on demand, never while a transaction of ours points into it, and at its
 *  maximum refuses writes with MM_EFULL without losing what is stored.
 *
 *  The map is watched from outside, as the length of this process's
 *  mapping of data.mdb in /proc/self/maps: that address space is what the
 *  change is about (valgrind, memory ulimits). */
#include "fixture.h"

#include <sys/types.h>
#include <sys/wait.h>

#include "core/meta.h"

#define VAL   MM_META_VALUE_MAX     /* the largest value a test can write */
#define BATCH 4096                  /* puts per transaction: 4 MiB of values */
#define MiB   ((size_t) 1 << 20)

/* ---- helpers ------------------------------------------------------------ */

/* Length of this process's largest mapping of dir/data.mdb; 0 if none. */
static size_t map_len(const char *dir)
{
    char path[FX_PATH_MAX], line[512];
    struct stat st;
    size_t best = 0;
    fx_path(path, dir, "data.mdb");
    assert_int_equal(stat(path, &st), 0);
    FILE *f = fopen("/proc/self/maps", "r");
    assert_non_null(f);
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi, off, ino;
        unsigned maj, mnr;
        if (sscanf(line, "%lx-%lx %*s %lx %x:%x %lu", &lo, &hi, &off, &maj, &mnr, &ino) == 6
            && ino == (unsigned long) st.st_ino && off == 0 && hi - lo > best)
            best = hi - lo;
    }
    fclose(f);
    return best;
}

static void key_of(char key[16], unsigned i)
{
    snprintf(key, 16, "v%08u", i);
}

/* The value stored under key i: every byte depends on i and its offset. */
static void val_of(uint8_t v[VAL], unsigned i)
{
    for (unsigned j = 0; j < VAL; j++)
        v[j] = (uint8_t) (i * 131u + j * 7u + (i >> 8));
}

static int put(mm_txn_t *txn, unsigned i)
{
    char k[16];
    uint8_t v[VAL];
    key_of(k, i);
    val_of(v, i);
    return mm_meta_put(txn, k, v, VAL);
}

/* Write values from..to-1, BATCH to a transaction, each commit MM_OK. */
static void write_range(mm_store_t *st, unsigned from, unsigned to)
{
    for (unsigned i = from; i < to;) {
        mm_txn_t *txn = NULL;
        assert_rc(mm_store_begin(st, 1, &txn), MM_OK);
        for (unsigned n = 0; n < BATCH && i < to; n++, i++)
            assert_rc(put(txn, i), MM_OK);
        assert_rc(mm_txn_commit(&txn), MM_OK);
    }
}

/* Every value from..to-1 is there, byte for byte. */
static void check_range(mm_store_t *st, unsigned from, unsigned to)
{
    mm_txn_t *txn = NULL;
    uint8_t want[VAL];
    assert_rc(mm_store_begin(st, 0, &txn), MM_OK);
    for (unsigned i = from; i < to; i++) {
        char k[16];
        const uint8_t *v;
        size_t len;
        key_of(k, i);
        val_of(want, i);
        assert_rc(mm_meta_get(txn, k, &v, &len), MM_OK);
        assert_int_equal(len, VAL);
        assert_memory_equal(v, want, VAL);
    }
    mm_txn_abort(&txn);
}

static unsigned values_in(size_t bytes)
{
    return (unsigned) (bytes / VAL);
}

/* Size of dir/data.mdb: the store's used pages (LMDB writes at the end). */
static size_t file_size(const char *dir)
{
    char path[FX_PATH_MAX];
    struct stat st;
    fx_path(path, dir, "data.mdb");
    assert_int_equal(stat(path, &st), 0);
    return (size_t) st.st_size;
}

/* Write from value `from` on until data.mdb reaches bytes; returns the next
 * value.  (How many values fit a page depends on LMDB's splits.) */
static unsigned write_until(fx_store_t *fs, unsigned from, size_t bytes)
{
    while (file_size(fs->dir) < bytes) {
        write_range(fs->store, from, from + BATCH);
        from += BATCH;
    }
    return from;
}

static int setup(void **state)
{
    unsetenv(MM_STORE_MAP_MAX_ENV);
    fx_store_t *fs = calloc(1, sizeof *fs);
    if (!fs)
        return -1;
    fx_store_new(fs);
    *state = fs;
    return 0;
}

static int teardown(void **state)
{
    fx_store_t *fs = *state;
    unsetenv(MM_STORE_MAP_MAX_ENV);
    int rc = fx_store_done(fs);
    free(fs);
    return rc;
}

/* ---- tests -------------------------------------------------------------- */

/* A new store maps MM_STORE_MAP_INITIAL, not the maximum. */
static void test_starts_small(void **state)
{
    fx_store_t *fs = *state;
    size_t len = map_len(fs->dir);
    assert_true(len > 0);
    assert_true(len <= MM_STORE_MAP_INITIAL);
}

/* A store three times the initial map, written in 4 MiB transactions:
 * every commit succeeds (the map grows before a transaction that might not
 * fit), and everything reads back, also after reopening.  While a read
 * transaction is open the map does not move, and a pointer into it stays
 * good. */
static void test_grows_on_demand(void **state)
{
    fx_store_t *fs = *state;
    mm_txn_t *rd = NULL;
    const uint8_t *v;
    size_t len;
    uint8_t want[VAL];

    unsigned n = write_until(fs, 0, 8 * MiB);
    assert_int_equal(map_len(fs->dir), MM_STORE_MAP_INITIAL);

    /* a reader holds value 0 while the store passes the point of growing
     * (used + 32 MiB of headroom > the map), but not the map's end */
    assert_rc(mm_store_begin(fs->store, 0, &rd), MM_OK);
    assert_rc(mm_meta_get(rd, "v00000000", &v, &len), MM_OK);
    n = write_until(fs, n, MM_STORE_MAP_INITIAL / 2 + 8 * MiB);
    assert_int_equal(map_len(fs->dir), MM_STORE_MAP_INITIAL);
    val_of(want, 0);
    assert_int_equal(len, VAL);
    assert_memory_equal(v, want, VAL);
    mm_txn_abort(&rd);

    /* with the reader gone, the next write grows the map */
    write_range(fs->store, n, n + 1);
    n++;
    assert_true(map_len(fs->dir) > MM_STORE_MAP_INITIAL);
    mm_store_trim(fs->store);       /* finds the moved mapping (no crash) */

    n = write_until(fs, n, 3 * MM_STORE_MAP_INITIAL);
    assert_true(map_len(fs->dir) > 3 * MM_STORE_MAP_INITIAL);
    check_range(fs->store, 0, n);

    mm_store_close(&fs->store);
    assert_rc(mm_store_open(fs->dir, 0, &fs->store), MM_OK);
    check_range(fs->store, 0, n);
    write_range(fs->store, n, n + BATCH);
    check_range(fs->store, n - 1, n + BATCH);
}

/* A transaction larger than the headroom meets a full map: the put says
 * MM_EFULL, nothing of it is stored, and the next write transaction finds
 * the map grown, so the same transaction then succeeds. */
static void test_full_txn_grows_next(void **state)
{
    fx_store_t *fs = *state;
    mm_txn_t *txn = NULL;
    unsigned n = values_in(MM_STORE_MAP_INITIAL * 3 / 4), i;
    int rc = MM_OK;

    assert_rc(mm_store_begin(fs->store, 1, &txn), MM_OK);
    for (i = 0; i < n && (rc = put(txn, i)) == MM_OK; i++)
        ;
    assert_rc(rc, MM_EFULL);
    mm_txn_abort(&txn);

    assert_rc(mm_store_begin(fs->store, 1, &txn), MM_OK);
    assert_true(map_len(fs->dir) > MM_STORE_MAP_INITIAL);
    for (i = 0; i < n; i++)
        assert_rc(put(txn, i), MM_OK);
    assert_rc(mm_txn_commit(&txn), MM_OK);
    check_range(fs->store, 0, n);
}

/* Another process grows the map and writes past the end of ours: our
 * next transaction adopts the new size (MDB_MAP_RESIZED) and sees it all. */
static void test_resized_by_another_process(void **state)
{
    fx_store_t *fs = *state;
    unsigned n = values_in(MM_STORE_MAP_INITIAL);      /* about twice that in pages */
    write_range(fs->store, 0, 1);
    assert_int_equal(map_len(fs->dir), MM_STORE_MAP_INITIAL);

    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {                 /* no cmocka here: report by exit status */
        mm_store_t *st = NULL;
        int rc = mm_store_open(fs->dir, 0, &st);
        for (unsigned i = 1; rc == MM_OK && i < n;) {
            mm_txn_t *txn = NULL;
            if ((rc = mm_store_begin(st, 1, &txn)))
                break;
            for (unsigned k = 0; k < BATCH && i < n && rc == MM_OK; k++, i++)
                rc = put(txn, i);
            rc = rc == MM_OK ? mm_txn_commit(&txn) : rc;
            mm_txn_abort(&txn);
        }
        mm_store_close(&st);
        _exit(rc == MM_OK ? 0 : 1);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_true(file_size(fs->dir) > MM_STORE_MAP_INITIAL);

    check_range(fs->store, 0, n);
    assert_true(map_len(fs->dir) >= file_size(fs->dir));
    write_range(fs->store, n, n + BATCH);
    check_range(fs->store, 0, n + BATCH);
}

/* Fill the store until the map, capped low by the environment, is full. */
static unsigned fill_to_full(mm_store_t *st, unsigned from)
{
    unsigned done = from;
    for (;;) {
        mm_txn_t *txn = NULL;
        int rc = MM_OK;
        unsigned i;
        assert_rc(mm_store_begin(st, 1, &txn), MM_OK);
        for (i = done; i < done + 64 && (rc = put(txn, i)) == MM_OK; i++)
            ;
        if (rc == MM_OK)
            rc = mm_txn_commit(&txn);
        mm_txn_abort(&txn);
        if (rc != MM_OK) {
            assert_rc(rc, MM_EFULL);
            return done;
        }
        done = i;
        assert_true(done < values_in(64 * MiB));   /* the cap must bite long before */
    }
}

/* At the maximum, writes fail with exactly MM_EFULL; everything committed
 * before is intact, a retry changes nothing, and the store reopens fine
 * (and grows again once the cap is lifted). */
static void test_full_at_max(void **state)
{
    fx_store_t *fs = *state;
    mm_store_close(&fs->store);
    assert_int_equal(setenv(MM_STORE_MAP_MAX_ENV, "4194304", 1), 0);    /* 4 MiB */
    assert_rc(mm_store_open(fs->dir, 0, &fs->store), MM_OK);
    assert_true(map_len(fs->dir) <= 4 * MiB);

    unsigned done = fill_to_full(fs->store, 0);
    assert_true(done > values_in(MiB));
    check_range(fs->store, 0, done);
    assert_int_equal(fill_to_full(fs->store, done), done);     /* still full */
    check_range(fs->store, 0, done);
    assert_true(map_len(fs->dir) <= 4 * MiB);

    /* reopens with the same cap, and read-only */
    mm_store_close(&fs->store);
    assert_rc(mm_store_open(fs->dir, 0, &fs->store), MM_OK);
    check_range(fs->store, 0, done);
    mm_store_close(&fs->store);
    assert_rc(mm_store_open(fs->dir, MM_STORE_RDONLY, &fs->store), MM_OK);
    check_range(fs->store, 0, done);
    mm_store_close(&fs->store);

    /* a value the cap does not allow is ignored: the default applies */
    assert_int_equal(setenv(MM_STORE_MAP_MAX_ENV, "lots", 1), 0);
    assert_rc(mm_store_open(fs->dir, 0, &fs->store), MM_OK);
    write_range(fs->store, done, done + 4 * BATCH);
    check_range(fs->store, 0, done + 4 * BATCH);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_starts_small, setup, teardown),
        cmocka_unit_test_setup_teardown(test_grows_on_demand, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_txn_grows_next, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resized_by_another_process, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_at_max, setup, teardown),
    };
    return cmocka_run_group_tests(tests, fx_setup_crypto, NULL);
}
