/*  test_sched.c -- background sync's schedule on a fake clock: new targets
 *  are due at once, a success waits one interval, failures back off
 *  doubling up to the cap, jitter stays within +-20 %, a success resets,
 *  discovery makes a target due now, and with nothing due there is no
 *  wake-up (timeout -1). */
#include "fixture.h"
#include "core/sched.h"
#include "core/target.h"

/* The jitter's random source: the middle (no jitter), or either end. */
typedef enum { MID, LOW, HIGH } pick_t;

static uint32_t fake_rand(void *arg, uint32_t upper)
{
    pick_t p = *(pick_t *) arg;
    return p == LOW ? 0 : p == HIGH ? upper - 1 : upper / 2;
}

static void targets(mm_targets_t *t, int n, uint8_t first)
{
    mm_peer_t p;
    memset(t, 0, sizeof *t);
    for (int i = 0; i < n; i++) {
        memset(&p, 0, sizeof p);
        memset(p.identity, first + i, 32);
        snprintf(p.petname, sizeof p.petname, "peer%d", i);
        assert_rc(mm_targets_add(t, MM_TARGET_PEER, &p), MM_OK);
    }
}

static mm_sched_t *sched(uint64_t interval, pick_t *pick)
{
    mm_sched_t *s;
    assert_rc(mm_sched_new(interval, &s), MM_OK);
    mm_sched_set_rand(s, fake_rand, pick);
    return s;
}

static void test_bounds(void **state)
{
    mm_sched_t *s;
    (void) state;
    assert_rc(mm_sched_new(999, &s), MM_EINVAL);
    assert_null(s);
    assert_rc(mm_sched_new(MM_SCHED_MAX_MS + 1, &s), MM_EINVAL);
    assert_rc(mm_sched_new(MM_SCHED_MIN_MS, &s), MM_OK);
    /* nothing to do: no wake-up at all */
    assert_int_equal(mm_sched_timeout(s, 5), -1);
    mm_sched_destroy(&s);
    assert_null(s);
    mm_sched_destroy(&s);
}

static void test_new_targets_due_at_once(void **state)
{
    pick_t pick = MID;
    mm_sched_t *s = sched(5000, &pick);
    mm_targets_t t;
    uint8_t id[32];
    int kind;
    (void) state;
    targets(&t, 2, 0x10);
    assert_rc(mm_sched_update(s, &t, 1000), MM_OK);
    assert_int_equal(mm_sched_count(s), 2);
    assert_int_equal(mm_sched_timeout(s, 1000), 0);
    assert_int_equal(mm_sched_take(s, 1000, &kind, id), 1);
    assert_int_equal(kind, MM_TARGET_PEER);
    assert_int_equal(mm_sched_take(s, 1000, &kind, id), 1);
    /* both running: nothing to wait for, nothing more to take */
    assert_int_equal(mm_sched_take(s, 1000, &kind, id), 0);
    assert_int_equal(mm_sched_timeout(s, 1000), -1);
    /* listed again: same targets, no new ones */
    assert_rc(mm_sched_update(s, &t, 2000), MM_OK);
    assert_int_equal(mm_sched_count(s), 2);
    assert_int_equal(mm_sched_take(s, 2000, &kind, id), 0);
    mm_targets_free(&t);
    mm_sched_destroy(&s);
}

static void test_success_waits_an_interval(void **state)
{
    pick_t pick = MID;
    mm_sched_t *s = sched(5000, &pick);
    mm_targets_t t;
    mm_sched_result_t r;
    uint8_t id[32];
    int kind;
    (void) state;
    targets(&t, 1, 0x20);
    assert_rc(mm_sched_update(s, &t, 0), MM_OK);
    assert_int_equal(mm_sched_take(s, 0, &kind, id), 1);
    assert_rc(mm_sched_done(s, kind, id, 1, 300, &r), MM_OK);
    assert_int_equal(r.change, MM_SCHED_SAME);      /* never failed: no "again" */
    assert_int_equal(r.failures, 0);
    assert_int_equal(r.delay_ms, 5000);
    assert_int_equal(mm_sched_timeout(s, 300), 5000);
    assert_int_equal(mm_sched_timeout(s, 5299), 1);
    assert_int_equal(mm_sched_take(s, 5299, &kind, id), 0);
    assert_int_equal(mm_sched_take(s, 5300, &kind, id), 1);
    /* done twice, or a target never taken */
    assert_rc(mm_sched_done(s, kind, id, 1, 5400, NULL), MM_OK);
    assert_rc(mm_sched_done(s, kind, id, 1, 5400, NULL), MM_ENOTFOUND);
    memset(id, 0x77, 32);
    assert_rc(mm_sched_done(s, kind, id, 1, 5400, NULL), MM_ENOTFOUND);
    mm_targets_free(&t);
    mm_sched_destroy(&s);
}

/* Fail a target n times in a row on a fake clock, each run taken when due;
 * delays and growing flags into the arrays. */
static void fail_n(mm_sched_t *s, uint64_t *now, int n, uint64_t *delay, int *growing,
                   int *change)
{
    uint8_t id[32];
    int kind;
    mm_sched_result_t r;
    for (int i = 0; i < n; i++) {
        int64_t wait = mm_sched_timeout(s, *now);
        assert_true(wait >= 0);
        *now += (uint64_t) wait;
        assert_int_equal(mm_sched_take(s, *now, &kind, id), 1);
        *now += 10;                 /* the run takes a while */
        assert_rc(mm_sched_done(s, kind, id, 0, *now, &r), MM_OK);
        assert_int_equal(r.failures, i + 1);
        delay[i] = r.delay_ms;
        growing[i] = r.growing;
        change[i] = r.change;
    }
}

static void test_backoff_doubles_to_cap_and_resets(void **state)
{
    pick_t pick = MID;
    mm_sched_t *s = sched(1000, &pick);
    mm_targets_t t;
    mm_sched_result_t r;
    uint64_t now = 0, delay[7];
    int growing[7], change[7], kind;
    uint8_t id[32];
    static const uint64_t want[7] = { 1000, 2000, 4000, 8000, 12000, 12000, 12000 };
    static const int grows[7] = { 1, 1, 1, 1, 1, 0, 0 };
    (void) state;
    assert_int_equal(mm_sched_cap_ms(s), 12000);    /* 12 intervals */
    targets(&t, 1, 0x30);
    assert_rc(mm_sched_update(s, &t, now), MM_OK);
    fail_n(s, &now, 7, delay, growing, change);
    for (int i = 0; i < 7; i++) {
        assert_int_equal(delay[i], want[i]);
        assert_int_equal(growing[i], grows[i]);
        assert_int_equal(change[i], i == 0 ? MM_SCHED_DOWN : MM_SCHED_SAME);
    }
    /* the next run is due exactly at the back-off, not before */
    assert_int_equal(mm_sched_timeout(s, now), 12000);
    assert_int_equal(mm_sched_take(s, now + 11999, &kind, id), 0);
    /* it comes back: reachable again, one interval, and a new failure
     * starts the back-off from the interval */
    now += 12000;
    assert_int_equal(mm_sched_take(s, now, &kind, id), 1);
    assert_rc(mm_sched_done(s, kind, id, 1, now, &r), MM_OK);
    assert_int_equal(r.change, MM_SCHED_UP);
    assert_int_equal(r.failures, 0);
    assert_int_equal(r.delay_ms, 1000);
    fail_n(s, &now, 2, delay, growing, change);
    assert_int_equal(delay[0], 1000);
    assert_int_equal(change[0], MM_SCHED_DOWN);
    assert_int_equal(delay[1], 2000);
    mm_targets_free(&t);
    mm_sched_destroy(&s);
}

static void test_cap_is_an_hour_or_the_interval(void **state)
{
    pick_t pick = MID;
    mm_targets_t t;
    uint64_t now = 0, delay[5];
    int growing[5], change[5];
    (void) state;
    targets(&t, 1, 0x40);
    /* 10 minutes: 10, 20, 40, then 60 (1 h < 12 intervals) */
    mm_sched_t *s = sched(600000, &pick);
    assert_int_equal(mm_sched_cap_ms(s), 3600000);
    assert_rc(mm_sched_update(s, &t, now), MM_OK);
    fail_n(s, &now, 5, delay, growing, change);
    assert_int_equal(delay[0], 600000);
    assert_int_equal(delay[2], 2400000);
    assert_int_equal(delay[3], 3600000);
    assert_int_equal(growing[3], 1);
    assert_int_equal(delay[4], 3600000);
    assert_int_equal(growing[4], 0);
    mm_sched_destroy(&s);
    /* 2 hours: never below the interval */
    s = sched(7200000, &pick);
    assert_int_equal(mm_sched_cap_ms(s), 7200000);
    now = 0;
    assert_rc(mm_sched_update(s, &t, now), MM_OK);
    fail_n(s, &now, 2, delay, growing, change);
    assert_int_equal(delay[0], 7200000);
    assert_int_equal(delay[1], 7200000);
    assert_int_equal(growing[1], 0);
    mm_sched_destroy(&s);
    mm_targets_free(&t);
}

static void test_jitter_within_20_percent(void **state)
{
    pick_t pick = LOW;
    mm_targets_t t;
    uint64_t now = 0, delay[2];
    int growing[2], change[2], kind;
    uint8_t id[32];
    mm_sched_result_t r;
    (void) state;
    targets(&t, 1, 0x50);
    mm_sched_t *s = sched(10000, &pick);
    assert_rc(mm_sched_update(s, &t, now), MM_OK);
    fail_n(s, &now, 2, delay, growing, change);
    assert_int_equal(delay[0], 8000);
    assert_int_equal(delay[1], 16000);
    pick = HIGH;
    now += (uint64_t) mm_sched_timeout(s, now);
    assert_int_equal(mm_sched_take(s, now, &kind, id), 1);
    assert_rc(mm_sched_done(s, kind, id, 1, now, &r), MM_OK);
    assert_int_equal(r.delay_ms, 12000);
    /* the real random source stays within the bounds too, and varies */
    mm_sched_set_rand(s, NULL, NULL);
    uint64_t lo = UINT64_MAX, hi = 0;
    for (int i = 0; i < 200; i++) {
        now += (uint64_t) mm_sched_timeout(s, now);
        assert_int_equal(mm_sched_take(s, now, &kind, id), 1);
        assert_rc(mm_sched_done(s, kind, id, 1, now, &r), MM_OK);
        assert_true(r.delay_ms >= 8000 && r.delay_ms <= 12000);
        lo = r.delay_ms < lo ? r.delay_ms : lo;
        hi = r.delay_ms > hi ? r.delay_ms : hi;
    }
    assert_true(lo < hi);
    mm_sched_destroy(&s);
    mm_targets_free(&t);
}

static void test_targets_come_and_go(void **state)
{
    pick_t pick = MID;
    mm_sched_t *s = sched(1000, &pick);
    mm_targets_t two, one;
    uint64_t now = 0, delay[3];
    int growing[3], change[3], kind;
    uint8_t id[32], a[32], b[32];
    mm_sched_result_t r;
    (void) state;
    targets(&two, 2, 0x60);         /* 0x60.., 0x61.. */
    targets(&one, 1, 0x60);
    memset(a, 0x60, 32);
    memset(b, 0x61, 32);
    assert_rc(mm_sched_update(s, &one, now), MM_OK);
    fail_n(s, &now, 3, delay, growing, change);     /* a backs off: 4 s */
    /* b joins: due at once; a keeps its back-off */
    assert_rc(mm_sched_update(s, &two, now), MM_OK);
    assert_int_equal(mm_sched_timeout(s, now), 0);
    assert_int_equal(mm_sched_take(s, now, &kind, id), 1);
    assert_memory_equal(id, b, 32);
    assert_int_equal(mm_sched_take(s, now, &kind, id), 0);
    assert_int_equal(mm_sched_timeout(s, now), 4000);
    /* b leaves while it runs: kept until done, then forgotten */
    assert_rc(mm_sched_update(s, &one, now), MM_OK);
    assert_int_equal(mm_sched_count(s), 2);
    assert_rc(mm_sched_done(s, MM_TARGET_PEER, b, 1, now, &r), MM_OK);
    assert_int_equal(mm_sched_count(s), 1);
    /* a leaves while idle: forgotten at once; back later: new, due now,
     * its back-off forgotten */
    mm_targets_t none = { 0 };
    assert_rc(mm_sched_update(s, &none, now), MM_OK);
    assert_int_equal(mm_sched_count(s), 0);
    assert_int_equal(mm_sched_timeout(s, now), -1);
    assert_rc(mm_sched_update(s, &one, now), MM_OK);
    assert_int_equal(mm_sched_take(s, now, &kind, id), 1);
    assert_memory_equal(id, a, 32);
    assert_rc(mm_sched_done(s, kind, id, 0, now, &r), MM_OK);
    assert_int_equal(r.change, MM_SCHED_DOWN);
    assert_int_equal(r.delay_ms, 1000);
    mm_targets_free(&two);
    mm_targets_free(&one);
    mm_sched_destroy(&s);
}

static void test_due_now(void **state)
{
    pick_t pick = MID;
    mm_sched_t *s = sched(1000, &pick);
    mm_targets_t t;
    uint64_t now = 0, delay[4];
    int growing[4], change[4], kind;
    uint8_t id[32], other[32];
    mm_sched_result_t r;
    (void) state;
    targets(&t, 1, 0x70);
    assert_rc(mm_sched_update(s, &t, now), MM_OK);
    fail_n(s, &now, 4, delay, growing, change);     /* 8 s to wait */
    assert_int_equal(mm_sched_timeout(s, now), 8000);
    memcpy(other, t.v[0].id, 32);
    assert_rc(mm_sched_due_now(s, MM_TARGET_PEER, other, now), MM_OK);
    assert_int_equal(mm_sched_timeout(s, now), 0);
    /* discovered again while it runs: due again the moment it ends */
    assert_int_equal(mm_sched_take(s, now, &kind, id), 1);
    assert_rc(mm_sched_due_now(s, kind, id, now), MM_OK);
    assert_rc(mm_sched_done(s, kind, id, 1, now + 50, &r), MM_OK);
    assert_int_equal(r.change, MM_SCHED_UP);
    assert_int_equal(r.delay_ms, 0);
    assert_int_equal(mm_sched_timeout(s, now + 50), 0);
    /* not a target, or another kind with the same id */
    assert_rc(mm_sched_due_now(s, MM_TARGET_OWN, other, now), MM_ENOTFOUND);
    memset(other, 0x71, 32);
    assert_rc(mm_sched_due_now(s, MM_TARGET_PEER, other, now), MM_ENOTFOUND);
    mm_targets_free(&t);
    mm_sched_destroy(&s);
}

int main(void)
{
    if (mm_crypto_init() != MM_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_new_targets_due_at_once),
        cmocka_unit_test(test_success_waits_an_interval),
        cmocka_unit_test(test_backoff_doubles_to_cap_and_resets),
        cmocka_unit_test(test_cap_is_an_hour_or_the_interval),
        cmocka_unit_test(test_jitter_within_20_percent),
        cmocka_unit_test(test_targets_come_and_go),
        cmocka_unit_test(test_due_now),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
