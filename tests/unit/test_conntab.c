/*  test_conntab.c -- mm serve's connection table against a real ROUTER.
 *
 *  A ROUTER (NULL mechanism: the table does not care) bound on 127.0.0.1
 *  and watched by a table that keeps at most 4 loose connections for
 *  QUIET_MS; plain TCP sockets stand for the flood, a DEALER for a client
 *  whose messages carry their descriptor.  Every wait is a bounded loop. */
#include <poll.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <zmq.h>
#include "fixture.h"
#include "core/log.h"
#include "net/conntab.h"

#define MAX       4
#define QUIET_MS  400
#define WAIT_MS   5000              /* the most any step may take */

typedef struct {
    void *ctx, *router;
    mm_conntab_t *t;
    int port;
    char ep[64];
} world_t;

static int setup(void **state)
{
    world_t *w = calloc(1, sizeof *w);
    size_t len = sizeof w->ep;
    int zero = 0;
    assert_non_null(w);
    assert_non_null(w->ctx = zmq_ctx_new());
    assert_non_null(w->router = zmq_socket(w->ctx, ZMQ_ROUTER));
    assert_int_equal(zmq_setsockopt(w->router, ZMQ_LINGER, &zero, sizeof zero), 0);
    assert_rc(mm_conntab_new(w->ctx, w->router, MAX, QUIET_MS, 1024, &w->t), MM_OK);
    assert_int_equal(zmq_bind(w->router, "tcp://127.0.0.1:*"), 0);
    assert_int_equal(zmq_getsockopt(w->router, ZMQ_LAST_ENDPOINT, w->ep, &len), 0);
    w->port = atoi(strrchr(w->ep, ':') + 1);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world_t *w = *state;
    mm_conntab_destroy(&w->t);
    assert_null(w->t);
    mm_conntab_destroy(NULL);
    zmq_close(w->router);
    zmq_ctx_term(w->ctx);
    free(w);
    return 0;
}

/* A plain TCP connection to the router; with talk, it sends the first 10
 * bytes of a ZMTP greeting (libzmq then waits for the rest). */
static int tcp(world_t *w, int talk)
{
    static const uint8_t sig[10] = { 0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f };
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t) w->port) };
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *) &a, sizeof a), 0);
    if (talk)
        assert_int_equal(send(fd, sig, sizeof sig, 0), (ssize_t) sizeof sig);
    return fd;
}

/* Run the table until it has seen n connections in all, or WAIT_MS. */
static void until_accepted(world_t *w, uint64_t n)
{
    uint64_t end = mm_now_ms() + WAIT_MS;
    while (mm_conntab_stats(w->t)->accepted < n && mm_now_ms() < end) {
        zmq_pollitem_t it = { mm_conntab_socket(w->t), 0, ZMQ_POLLIN, 0 };
        zmq_poll(&it, 1, 50);
        mm_conntab_update(w->t, mm_now_ms());
    }
    assert_int_equal(mm_conntab_stats(w->t)->accepted, n);
}

/* 1 if the server closed fd (end of file or reset within WAIT_MS), 0 if it
 * is still open after wait_ms of silence.  Reads whatever libzmq sent. */
static int closed_by_server(int fd, int wait_ms)
{
    uint8_t buf[256];
    uint64_t end = mm_now_ms() + WAIT_MS;
    while (mm_now_ms() < end) {
        struct pollfd p = { fd, POLLIN, 0 };
        if (poll(&p, 1, wait_ms) == 0)
            return 0;
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0)
            return 1;
    }
    return 0;
}

static void test_cap_closes_the_oldest(void **state)
{
    world_t *w = *state;
    int fds[10];
    for (int i = 0; i < 10; i++) {
        fds[i] = tcp(w, 0);
        until_accepted(w, (uint64_t) i + 1);   /* one by one: their age is their order */
    }
    const mm_conntab_stats_t *st = mm_conntab_stats(w->t);
    assert_int_equal(st->loose, MAX);
    assert_int_equal(st->closed_over, 6);
    assert_int_equal(st->closed_quiet, 0);
    for (int i = 0; i < 6; i++)
        assert_true(closed_by_server(fds[i], 1000));
    for (int i = 6; i < 10; i++)
        assert_false(closed_by_server(fds[i], 100));
    for (int i = 0; i < 10; i++)
        close(fds[i]);
}

static void test_silent_ones_go_first(void **state)
{
    world_t *w = *state;
    int talker = tcp(w, 1), fds[6];
    until_accepted(w, 1);
    for (int i = 0; i < 6; i++) {
        fds[i] = tcp(w, 0);
        until_accepted(w, (uint64_t) i + 2);
    }
    /* the talker is the oldest, yet the three oldest silent ones went */
    assert_int_equal(mm_conntab_stats(w->t)->closed_over, 3);
    assert_false(closed_by_server(talker, 100));
    for (int i = 0; i < 3; i++)
        assert_true(closed_by_server(fds[i], 1000));
    for (int i = 3; i < 6; i++)
        assert_false(closed_by_server(fds[i], 100));
    close(talker);
    for (int i = 0; i < 6; i++)
        close(fds[i]);
}

static void test_quiet_ones_are_closed(void **state)
{
    world_t *w = *state;
    int a = tcp(w, 0), b = tcp(w, 1);
    until_accepted(w, 2);
    uint64_t end = mm_now_ms() + WAIT_MS;
    while (mm_conntab_stats(w->t)->closed_quiet < 2 && mm_now_ms() < end) {
        usleep(20000);
        mm_conntab_update(w->t, mm_now_ms());
    }
    assert_int_equal(mm_conntab_stats(w->t)->closed_quiet, 2);
    assert_int_equal(mm_conntab_stats(w->t)->loose, 0);
    assert_true(closed_by_server(a, 1000));
    assert_true(closed_by_server(b, 1000));
    close(a);
    close(b);
}

/* A DEALER that says one word; the router's copy tells its descriptor. */
static void *client(world_t *w, int *fd)
{
    int zero = 0;
    void *d = zmq_socket(w->ctx, ZMQ_DEALER);
    assert_non_null(d);
    assert_int_equal(zmq_setsockopt(d, ZMQ_LINGER, &zero, sizeof zero), 0);
    assert_int_equal(zmq_connect(d, w->ep), 0);
    assert_int_equal(zmq_send(d, "hi", 2, 0), 2);
    zmq_msg_t rid, msg;
    zmq_msg_init(&rid);
    zmq_msg_init(&msg);
    zmq_pollitem_t it = { w->router, 0, ZMQ_POLLIN, 0 };
    assert_int_equal(zmq_poll(&it, 1, WAIT_MS), 1);
    mm_conntab_update(w->t, mm_now_ms());   /* events before messages, as mm serve does */
    assert_true(zmq_msg_recv(&rid, w->router, 0) >= 0);
    assert_true(zmq_msg_recv(&msg, w->router, 0) == 2);
    *fd = zmq_msg_get(&msg, ZMQ_SRCFD);
    assert_true(*fd >= 0);
    zmq_msg_close(&rid);
    zmq_msg_close(&msg);
    return d;
}

static void test_held_until_released(void **state)
{
    world_t *w = *state;
    int fd;
    void *d = client(w, &fd);
    assert_int_equal(mm_conntab_stats(w->t)->loose, 1);
    uint64_t ticket = mm_conntab_hold(w->t, fd);
    assert_true(ticket != 0);
    assert_int_equal(mm_conntab_hold(w->t, fd), ticket);        /* two sessions on it */
    assert_int_equal(mm_conntab_stats(w->t)->loose, 0);
    /* a flood does not touch it, nor does time */
    int fds[MAX + 2];
    for (int i = 0; i < MAX + 2; i++)
        fds[i] = tcp(w, 0);
    until_accepted(w, 1 + MAX + 2);
    mm_conntab_update(w->t, mm_now_ms() + 2 * (uint64_t) QUIET_MS);
    assert_true(mm_conntab_alive(w->t, fd, ticket));
    assert_int_equal(mm_conntab_stats(w->t)->loose, 0);
    /* released by one of its sessions: still held by the other */
    mm_conntab_release(w->t, fd, ticket, mm_now_ms());
    assert_int_equal(mm_conntab_stats(w->t)->loose, 0);
    mm_conntab_release(w->t, fd, ticket + 1, mm_now_ms());     /* another's ticket: nothing */
    assert_int_equal(mm_conntab_stats(w->t)->loose, 0);
    mm_conntab_release(w->t, fd, ticket, mm_now_ms());
    assert_int_equal(mm_conntab_stats(w->t)->loose, 1);
    assert_true(mm_conntab_alive(w->t, fd, ticket));
    /* loose again: its time runs from the release */
    uint64_t end = mm_now_ms() + WAIT_MS;
    while (mm_conntab_alive(w->t, fd, ticket) && mm_now_ms() < end) {
        usleep(20000);
        mm_conntab_update(w->t, mm_now_ms());
    }
    assert_false(mm_conntab_alive(w->t, fd, ticket));
    /* unknown descriptors and tickets say "alive" and change nothing */
    assert_int_equal(mm_conntab_hold(w->t, -1), 0);
    assert_true(mm_conntab_alive(w->t, -1, 0));
    assert_true(mm_conntab_alive(w->t, fd, 0));
    zmq_close(d);
    for (int i = 0; i < MAX + 2; i++)
        close(fds[i]);
}

static void test_gone_when_the_client_goes(void **state)
{
    world_t *w = *state;
    int fd;
    void *d = client(w, &fd);
    uint64_t ticket = mm_conntab_hold(w->t, fd);
    zmq_close(d);
    uint64_t end = mm_now_ms() + WAIT_MS;
    while (mm_conntab_alive(w->t, fd, ticket) && mm_now_ms() < end) {
        zmq_pollitem_t it = { mm_conntab_socket(w->t), 0, ZMQ_POLLIN, 0 };
        zmq_poll(&it, 1, 50);
        mm_conntab_update(w->t, mm_now_ms());
    }
    assert_false(mm_conntab_alive(w->t, fd, ticket));
    /* a message of it still queued would name a connection that is gone */
    assert_int_equal(mm_conntab_hold(w->t, fd), UINT64_MAX);
    assert_false(mm_conntab_alive(w->t, fd, UINT64_MAX));
    mm_conntab_release(w->t, fd, ticket, mm_now_ms());
    assert_int_equal(mm_conntab_stats(w->t)->loose, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cap_closes_the_oldest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_silent_ones_go_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quiet_ones_are_closed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_held_until_released, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gone_when_the_client_goes, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
