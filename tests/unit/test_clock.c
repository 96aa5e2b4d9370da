/*  test_clock.c -- the test clock hook of mm_now_ms (core/log.c): a build
 *  with MM_TEST_HOOKS honours MM_TEST_CLOCK_OFFSET and MM_TEST_CLOCK_FILE,
 *  every other build (the default, Release) ignores both.  .ci/run runs
 *  this in both kinds of build. */
#include "fixture.h"

#include <stdlib.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"

#define DAY_MS (86400ull * 1000)

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

/* mm_now_ms() - wall clock, in whole days (rounded toward the nearest). */
static long long skew_days(void)
{
    uint64_t a = wall_ms(), m = mm_now_ms(), b = wall_ms();
    int64_t d = (int64_t) (m - (a + (b - a) / 2));
    return (long long) ((d + (d < 0 ? -(int64_t) DAY_MS / 2 : (int64_t) DAY_MS / 2))
                        / (int64_t) DAY_MS);
}

static void test_offset(void **state)
{
    assert_int_equal(skew_days(), 0);
    setenv("MM_TEST_CLOCK_OFFSET", "-172800", 1);       /* 48 h back */
#ifdef MM_TEST_HOOKS
    assert_int_equal(skew_days(), -2);
#else
    assert_int_equal(skew_days(), 0);
#endif
    setenv("MM_TEST_CLOCK_OFFSET", "+172800", 1);
#ifdef MM_TEST_HOOKS
    assert_int_equal(skew_days(), 2);
#else
    assert_int_equal(skew_days(), 0);
#endif
    setenv("MM_TEST_CLOCK_OFFSET", "two days", 1);      /* not a number: no shift */
    assert_int_equal(skew_days(), 0);
    unsetenv("MM_TEST_CLOCK_OFFSET");
}

/* The file is read at each call: the clock of a running process jumps. */
static void test_file_jumps(void **state)
{
    char path[] = "/tmp/mm-test-clock-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    setenv("MM_TEST_CLOCK_FILE", path, 1);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("864000\n", f);                               /* 10 days ahead */
    fclose(f);
#ifdef MM_TEST_HOOKS
    assert_int_equal(skew_days(), 10);
#else
    assert_int_equal(skew_days(), 0);
#endif
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("-864000", f);                                /* jumps 20 days back */
    fclose(f);
    setenv("MM_TEST_CLOCK_OFFSET", "86400", 1);         /* both add up */
#ifdef MM_TEST_HOOKS
    assert_int_equal(skew_days(), -9);
#else
    assert_int_equal(skew_days(), 0);
#endif
    unsetenv("MM_TEST_CLOCK_OFFSET");
    unlink(path);
    assert_int_equal(skew_days(), 0);                   /* no file: no shift */
    unsetenv("MM_TEST_CLOCK_FILE");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_offset),
        cmocka_unit_test(test_file_jumps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
