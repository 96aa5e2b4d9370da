/*  test_wire.c -- the sync protocol's messages: round trips and the bounded
 *  decoder's refusals (sizes, counts, shapes) on hostile frames. */
#include "fixture.h"
#include "net/wire.h"
#include "core/cert.h"
#include "core/entry.h"

static uint8_t frame[MM_RUN_BYTES + MM_ENTRY_MAX];

static size_t finish(mm_mp_writer_t *w)
{
    assert_rc(mm_mp_writer_status(w), MM_OK);
    return w->len;
}

static void test_hello_round_trip(void **state)
{
    mm_mp_writer_t w;
    mm_msg_t *m = malloc(sizeof *m);
    uint8_t cert[100];
    memset(cert, 7, sizeof cert);
    mm_mp_writer_init(&w, frame, sizeof frame);
    mm_wire_hello(&w, cert, sizeof cert, "Ada");
    assert_rc(mm_wire_decode(frame, finish(&w), m), MM_OK);
    assert_int_equal(m->type, MM_MSG_HELLO);
    assert_int_equal(m->u.hello.version, MM_PROTO_VERSION);
    assert_int_equal(m->u.hello.certlen, sizeof cert);
    assert_memory_equal(m->u.hello.cert, cert, sizeof cert);
    assert_int_equal(m->u.hello.namelen, 3);
    /* every truncation is refused, never read past */
    for (size_t n = 0; n < w.len; n++)
        assert_int_not_equal(mm_wire_decode(frame, n, m), MM_OK);
    /* one byte too many */
    frame[w.len] = 0xc0;
    assert_rc(mm_wire_decode(frame, w.len + 1, m), MM_ETRAILING);
    free(m);
}

static void test_have_round_trip_and_refuse(void **state)
{
    mm_mp_writer_t w;
    mm_msg_t *m = malloc(sizeof *m);
    mm_have_t h[3], got;
    uint8_t refuse[2][32];
    for (int i = 0; i < 3; i++) {
        memset(h[i].author, i + 1, 32);
        memset(h[i].scope, 0x40 + i, 32);
        h[i].seq = (uint64_t) 1 << (i * 20);
        memset(h[i].head, 0x80 + i, 32);
    }
    memset(refuse[0], 0xaa, 32);
    memset(refuse[1], 0xbb, 32);
    mm_mp_writer_init(&w, frame, sizeof frame);
    mm_wire_have_begin(&w, 1, 3);
    for (int i = 0; i < 3; i++)
        mm_wire_have_feed(&w, &h[i]);
    mm_wire_have_end(&w, (const uint8_t (*)[32]) refuse, 2);
    assert_rc(mm_wire_decode(frame, finish(&w), m), MM_OK);
    assert_int_equal(m->type, MM_MSG_HAVE);
    assert_true(m->u.have.last);
    assert_int_equal(m->u.have.n, 3);
    for (int i = 0; i < 3; i++) {
        assert_true(mm_wire_have_next(m, &got));
        assert_memory_equal(&got, &h[i], sizeof got);
    }
    assert_false(mm_wire_have_next(m, &got));
    assert_int_equal(m->u.have.nrefuse, 2);
    assert_memory_equal(mm_wire_refuse(m, 1), refuse[1], 32);
    free(m);
}

/* PROTOCOL.md 2: a bool is 0xc2 or 0xc3, and nothing else stands for one. */
static void test_have_last_is_bool(void **state)
{
    static const struct { const char *last; int rc, value; } cases[] = {
        { "c2", MM_OK, 0 },
        { "c3", MM_OK, 1 },
        { "00", MM_EMALFORMED, 0 },
        { "01", MM_EMALFORMED, 0 },
        { "c0", MM_EMALFORMED, 0 },
        { "a4 74727565", MM_EMALFORMED, 0 },           /* "true" */
    };
    mm_msg_t *m = malloc(sizeof *m);
    assert_non_null(m);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char hex[64];
        snprintf(hex, sizeof hex, "94 a4 68617665 %s 90 90", cases[i].last);
        size_t n = fx_unhex(frame, sizeof frame, hex);     /* ["have", last, [], []] */
        assert_rc(mm_wire_decode(frame, n, m), cases[i].rc);
        if (cases[i].rc == MM_OK) {
            assert_int_equal(m->type, MM_MSG_HAVE);
            assert_int_equal(m->u.have.last, cases[i].value);
        }
    }
    free(m);
}

static void test_entries_limits(void **state)
{
    mm_mp_writer_t w;
    mm_msg_t *m = malloc(sizeof *m);
    uint8_t e[10] = { 1, 2, 3 };
    /* MM_RUN_MAX entries pass, one more is refused by its count */
    mm_mp_writer_init(&w, frame, sizeof frame);
    mm_wire_entries_begin(&w, MM_RUN_MAX);
    for (int i = 0; i < MM_RUN_MAX; i++)
        mm_wire_entries_add(&w, e, sizeof e);
    assert_rc(mm_wire_decode(frame, finish(&w), m), MM_OK);
    assert_int_equal(m->u.entries.n, MM_RUN_MAX);
    assert_int_equal(m->u.entries.lens[5], sizeof e);
    mm_mp_writer_init(&w, frame, sizeof frame);
    mm_wire_entries_begin(&w, MM_RUN_MAX + 1);
    for (int i = 0; i < MM_RUN_MAX + 1; i++)
        mm_wire_entries_add(&w, e, sizeof e);
    assert_rc(mm_wire_decode(frame, finish(&w), m), MM_ETOOBIG);
    /* an empty run is malformed */
    mm_mp_writer_init(&w, frame, sizeof frame);
    mm_wire_entries_begin(&w, 0);
    assert_rc(mm_wire_decode(frame, finish(&w), m), MM_EMALFORMED);
    /* an entry larger than MM_ENTRY_MAX is refused before anything uses it */
    static uint8_t big[MM_ENTRY_MAX + 1];
    mm_mp_writer_init(&w, frame, sizeof frame);
    mm_wire_entries_begin(&w, 1);
    mm_wire_entries_add(&w, big, sizeof big);
    assert_rc(mm_wire_decode(frame, finish(&w), m), MM_ETOOBIG);
    free(m);
}

static void test_hostile_counts(void **state)
{
    mm_msg_t *m = malloc(sizeof *m);
    /* a claimed count of 2^32-1 elements is a truncation, found at once */
    static const uint8_t bigarray[] = { 0xdd, 0xff, 0xff, 0xff, 0xff };
    assert_rc(mm_wire_decode(bigarray, sizeof bigarray, m), MM_ETRUNC);
    /* ["entries", array32 of 2^32-1] */
    static const uint8_t bigrun[] = { 0x92, 0xa7, 'e', 'n', 't', 'r', 'i', 'e', 's',
                                      0xdd, 0xff, 0xff, 0xff, 0xff };
    assert_rc(mm_wire_decode(bigrun, sizeof bigrun, m), MM_ETRUNC);
    /* a bin claiming 4 GiB */
    static const uint8_t bigcert[] = { 0x92, 0xa4, 'c', 'e', 'r', 't', 0xc6, 0xff, 0xff, 0xff,
                                       0xff };
    assert_rc(mm_wire_decode(bigcert, sizeof bigcert, m), MM_ETRUNC);
    /* unknown type, wrong field count, not an array */
    static const uint8_t unknown[] = { 0x91, 0xa3, 'f', 'o', 'o' };
    assert_rc(mm_wire_decode(unknown, sizeof unknown, m), MM_EPROTO);
    static const uint8_t shortack[] = { 0x91, 0xa3, 'a', 'c', 'k' };
    assert_rc(mm_wire_decode(shortack, sizeof shortack, m), MM_EMALFORMED);
    static const uint8_t notarray[] = { 0xa4, 'd', 'o', 'n', 'e' };
    assert_rc(mm_wire_decode(notarray, sizeof notarray, m), MM_EMALFORMED);
    /* ACK of 0 or more than the credit window */
    static const uint8_t ack0[] = { 0x92, 0xa3, 'a', 'c', 'k', 0x00 };
    assert_rc(mm_wire_decode(ack0, sizeof ack0, m), MM_EMALFORMED);
    static const uint8_t ack9[] = { 0x92, 0xa3, 'a', 'c', 'k', 0x09 };
    assert_rc(mm_wire_decode(ack9, sizeof ack9, m), MM_EMALFORMED);
    /* larger than a frame may be */
    assert_rc(mm_wire_decode(frame, (size_t) MM_FRAME_MAX + 1, m), MM_ETOOBIG);
    free(m);
}

static void test_have_over_limit(void **state)
{
    mm_mp_writer_t w;
    mm_msg_t *m = malloc(sizeof *m);
    mm_have_t h;
    memset(&h, 1, sizeof h);
    h.seq = 1;
    static uint8_t big[(MM_HAVE_MAX + 1) * 120 + 64];
    mm_mp_writer_init(&w, big, sizeof big);
    mm_wire_have_begin(&w, 1, MM_HAVE_MAX + 1);
    for (int i = 0; i < MM_HAVE_MAX + 1; i++)
        mm_wire_have_feed(&w, &h);
    mm_wire_have_end(&w, NULL, 0);
    assert_rc(mm_wire_decode(big, finish(&w), m), MM_ETOOBIG);
    free(m);
}

/* FORK: 1 entry (a challenge) or 2 (a proof); 0 and 3 are refused. */
static void test_fork(void **state)
{
    mm_mp_writer_t w;
    mm_msg_t *m = malloc(sizeof *m);
    static const uint8_t e[3][5] = { "aaaa", "bbbb", "cccc" };
    const uint8_t *bufs[3] = { e[0], e[1], e[2] };
    size_t lens[3] = { 4, 4, 4 };
    for (uint32_t n = 0; n <= 3; n++) {
        mm_mp_writer_init(&w, frame, sizeof frame);
        mm_wire_fork(&w, bufs, lens, n);
        int rc = mm_wire_decode(frame, finish(&w), m);
        if (n == 0 || n == 3) {
            assert_rc(rc, n ? MM_ETOOBIG : MM_EMALFORMED);
            continue;
        }
        assert_rc(rc, MM_OK);
        assert_int_equal(m->type, MM_MSG_FORK);
        assert_int_equal(m->u.fork.n, n);
        for (uint32_t i = 0; i < n; i++) {
            assert_int_equal(m->u.fork.lens[i], 4);
            assert_memory_equal(m->u.fork.bufs[i], e[i], 4);
        }
    }
    free(m);
}

static void test_error_codes(void **state)
{
    mm_mp_writer_t w;
    mm_msg_t *m = malloc(sizeof *m);
    mm_mp_writer_init(&w, frame, sizeof frame);
    mm_wire_error(&w, MM_EBADSIG, "entries 5.. of feed x: bad signature");
    assert_rc(mm_wire_decode(frame, finish(&w), m), MM_OK);
    assert_int_equal(m->type, MM_MSG_ERROR);
    assert_rc(mm_wire_errcode(m->u.error.code, m->u.error.codelen), MM_EBADSIG);
    assert_rc(mm_wire_errcode("MM_ENOSUCH", 10), MM_EPROTO);
    free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hello_round_trip),
        cmocka_unit_test(test_have_round_trip_and_refuse),
        cmocka_unit_test(test_have_last_is_bool),
        cmocka_unit_test(test_entries_limits),
        cmocka_unit_test(test_hostile_counts),
        cmocka_unit_test(test_have_over_limit),
        cmocka_unit_test(test_fork),
        cmocka_unit_test(test_error_codes),
    };
    return cmocka_run_group_tests(tests, fx_setup_crypto, NULL);
}
