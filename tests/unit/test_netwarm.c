/*  test_netwarm.c -- mm_net_warm: libzmq loaded, and a first ZeroMQ
 *  context made, on a thread of its own (net/zmqshim.c).
 *
 *  What a caller may rely on: the first context asked for after
 *  mm_net_warm is the warmed one, taken once (never handed to two
 *  connections at once, even by threads racing for it); later ones are
 *  fresh; mm_net_warm_end is idempotent, is a no-op without mm_net_warm,
 *  and terminates a context no one took (ASan builds see a leak if not). */
#include <pthread.h>
#include <zmq.h>
#include "fixture.h"
#include "net/net.h"
#include "net/zmqutil.h"

/* A context that works: a socket opens on it, binds, and closes. */
static void usable(void *ctx)
{
    int zero = 0;
    void *s = zmq_socket(ctx, ZMQ_DEALER);
    assert_non_null(s);
    assert_int_equal(zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero), 0);
    assert_int_equal(zmq_bind(s, "inproc://netwarm"), 0);
    assert_int_equal(zmq_close(s), 0);
}

static void test_end_without_warm(void **state)
{
    (void) state;
    mm_net_warm_end();              /* nothing started: nothing to do */
    mm_net_warm_end();
}

static void test_warm_unused(void **state)
{
    (void) state;
    mm_net_warm();
    mm_net_warm();                  /* a second call starts no second thread */
    mm_net_warm_end();              /* joins it and terminates its context */
    mm_net_warm_end();
    void *ctx = mm_zmq_ctx_new();   /* a fresh one */
    assert_non_null(ctx);
    usable(ctx);
    assert_int_equal(zmq_ctx_term(ctx), 0);
}

static void test_warm_taken_once(void **state)
{
    (void) state;
    mm_net_warm();
    void *a = mm_zmq_ctx_new(), *b = mm_zmq_ctx_new();
    assert_non_null(a);
    assert_non_null(b);
    assert_ptr_not_equal(a, b);
    mm_net_warm_end();              /* a was taken: left alone */
    usable(a);
    usable(b);
    assert_int_equal(zmq_ctx_term(a), 0);
    assert_int_equal(zmq_ctx_term(b), 0);
}

static void *take(void *arg)
{
    *(void **) arg = mm_zmq_ctx_new();
    return NULL;
}

static void test_threads_race(void **state)
{
    (void) state;
    enum { N = 4 };
    pthread_t th[N];
    void *ctx[N] = { 0 };
    mm_net_warm();
    for (int i = 0; i < N; i++)
        assert_int_equal(pthread_create(&th[i], NULL, take, &ctx[i]), 0);
    for (int i = 0; i < N; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    mm_net_warm_end();
    for (int i = 0; i < N; i++) {
        assert_non_null(ctx[i]);
        for (int j = 0; j < i; j++)
            assert_ptr_not_equal(ctx[i], ctx[j]);
        usable(ctx[i]);
    }
    for (int i = 0; i < N; i++)
        assert_int_equal(zmq_ctx_term(ctx[i]), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_end_without_warm),
        cmocka_unit_test(test_warm_unused),
        cmocka_unit_test(test_warm_taken_once),
        cmocka_unit_test(test_threads_race),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
