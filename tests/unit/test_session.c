/*  test_session.c -- the sync engine between two real homes, in memory.
 *
 *  Ada (mentee, client) and Grace (mentor, server) share a pair scope, as in
 *  test_engage.c.  Their two mm_session_t are wired back to back: each send
 *  callback copies the frame into a FIFO and a pump feeds the FIFOs to the
 *  other side alternately, so the whole protocol runs without a socket and
 *  every frame can be decoded and counted on the way. */
#include <sys/wait.h>
#include <unistd.h>
#include "fixture.h"
#include "fxhome.h"
#include "core/revoke.h"
#include "core/engage.h"
#include "core/home.h"
#include "core/log.h"
#include "core/fork.h"
#include "crypto/random.h"
#include "net/session.h"
#include "net/wire.h"

/* ---- one direction of the wire: a FIFO of frame copies ---- */

typedef struct frame {
    struct frame *next;
    size_t len;
    uint8_t b[];
} frame_t;

typedef struct chan {
    frame_t *head, **tail;
    size_t n;
    int inflight, maxinflight;      /* ENTRIES frames on this direction not yet ACKed */
    struct chan *back;              /* the reverse direction (carries the ACKs) */
} chan_t;

static mm_msg_t msg;                /* ~64 KiB: not on the stack */

static int chan_send(void *arg, const void *buf, size_t len)
{
    chan_t *c = arg;
    frame_t *f = malloc(sizeof *f + len);
    assert_non_null(f);
    memcpy(f->b, buf, len);
    f->len = len;
    f->next = NULL;
    *c->tail = f;
    c->tail = &f->next;
    c->n++;
    assert_rc(mm_wire_decode(buf, len, &msg), MM_OK);   /* the engine sends well-formed frames */
    if (msg.type == MM_MSG_ENTRIES) {
        c->inflight++;
        assert_true(c->inflight <= MM_CREDIT_INITIAL);
        if (c->inflight > c->maxinflight)
            c->maxinflight = c->inflight;
    }
    return MM_OK;
}

static frame_t *chan_pop(chan_t *c)
{
    frame_t *f = c->head;
    if (!f)
        return NULL;
    if (!(c->head = f->next))
        c->tail = &c->head;
    c->n--;
    /* an ACK frees credit when it reaches the sender of the ENTRIES */
    if (mm_wire_decode(f->b, f->len, &msg) == MM_OK && msg.type == MM_MSG_ACK)
        c->back->inflight -= (int) msg.u.ack.frames;
    return f;
}

static void chan_drain(chan_t *c)
{
    frame_t *f;
    while ((f = chan_pop(c)))
        free(f);
}

/* ---- two homes sharing a pair scope (as in test_engage.c) ---- */

typedef struct {
    char dir[FX_PATH_MAX];
    mm_home_t *ada, *grace, *carl;  /* carl: a stranger to both */
    uint8_t scope[32];
    chan_t to_ada, to_grace;
    mm_session_t *cli, *srv;        /* Ada calls Grace */
    int idle;
} world_t;

static mm_home_t *home(world_t *w, const char *name)
{
    return fx_home(w->dir, name, name, NULL, NULL);
}

static const uint8_t *dev(mm_home_t *h) { return mm_keypair_pk(mm_home_device(h)); }

static void xkey(mm_home_t *h, uint8_t x[32])
{
    assert_rc(mm_pk_to_x25519(x, dev(h)), MM_OK);
}

static uint8_t fbuf[8192];

/* A frame of type t into out (HELLO: h's; HAVE: last and empty; ACK: of 1). */
static size_t frame(uint8_t *out, size_t cap, mm_msg_type_t t, mm_home_t *h)
{
    mm_txn_t *txn;
    mm_cert_t c;
    const uint8_t *raw;
    size_t len;
    mm_mp_writer_t wr;
    mm_mp_writer_init(&wr, out, cap);
    if (t == MM_MSG_HELLO) {
        assert_rc(mm_store_begin(mm_home_store(h), 0, &txn), MM_OK);
        assert_rc(mm_cert_get(txn, dev(h), &c, &raw, &len), MM_OK);
        mm_wire_hello(&wr, raw, len, mm_home_name(h));
        mm_txn_abort(&txn);
    } else if (t == MM_MSG_HAVE) {
        mm_wire_have_begin(&wr, 1, 0);
        mm_wire_have_end(&wr, NULL, 0);
    } else if (t == MM_MSG_ACK) {
        mm_wire_ack(&wr, 1);
    } else {
        mm_wire_done(&wr);
    }
    assert_rc(mm_mp_writer_status(&wr), MM_OK);
    return wr.len;
}
#define FRAME(t, h) frame(fbuf, sizeof fbuf, t, h)

/* A fresh server session of Grace's over the key of h's device; with greet,
 * it has accepted Ada's HELLO (and its own HELLO and HAVE were dropped). */
static mm_session_t *server(world_t *w, mm_home_t *h, int greet)
{
    mm_session_t *s;
    uint8_t x[32], hello[4096];
    xkey(h, x);
    assert_rc(mm_session_new(w->grace, 0, x, NULL, chan_send, &w->to_ada, &s), MM_OK);
    if (greet) {
        size_t n = frame(hello, sizeof hello, MM_MSG_HELLO, w->ada);
        assert_rc(mm_session_input(s, hello, n), MM_OK);
        assert_int_equal(w->to_ada.n, 3);       /* HELLO, DEVICES, HAVE */
        assert_non_null(mm_session_remote_identity(s));
    }
    chan_drain(&w->to_ada);
    return s;
}

/* A client session of Ada's calling Grace. */
static mm_session_t *client(world_t *w)
{
    mm_session_t *s;
    uint8_t x[32];
    xkey(w->grace, x);
    assert_rc(mm_session_new(w->ada, 1, x, mm_home_identity_pk(w->grace), chan_send,
                             &w->to_grace, &s), MM_OK);
    return s;
}

static int setup(void **state)
{
    world_t *w = calloc(1, sizeof *w);
    mm_scope_t sc;
    assert_non_null(w);
    fx_mkdtemp(w->dir);
    w->ada = home(w, "ada");
    w->grace = home(w, "grace");
    w->carl = home(w, "carl");
    memset(&sc, 0, sizeof sc);
    fx_pair(w->grace, w->ada, "grace", "ada", &sc);
    memcpy(w->scope, sc.id, 32);
    w->to_ada.tail = &w->to_ada.head;
    w->to_grace.tail = &w->to_grace.head;
    w->to_ada.back = &w->to_grace;
    w->to_grace.back = &w->to_ada;
    w->cli = client(w);
    w->srv = server(w, w->ada, 0);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world_t *w = *state;
    mm_session_destroy(&w->cli);
    mm_session_destroy(&w->srv);
    chan_drain(&w->to_ada);
    chan_drain(&w->to_grace);
    mm_home_close(&w->ada);
    mm_home_close(&w->grace);
    mm_home_close(&w->carl);
    fx_rmrf(w->dir);
    free(w);
    return 0;
}

/* Hand the next frame of c to s; MM_OK if c is empty. */
static int deliver(chan_t *c, mm_session_t *s)
{
    frame_t *f = chan_pop(c);
    if (!f)
        return MM_OK;
    int rc = mm_session_input(s, f->b, f->len);
    free(f);
    return rc;
}

/* The whole session, frame by frame, alternating directions. */
static void run(world_t *w)
{
    assert_rc(mm_session_start(w->cli), MM_OK);
    while (w->to_ada.head || w->to_grace.head) {
        assert_rc(deliver(&w->to_grace, w->srv), MM_OK);
        assert_rc(deliver(&w->to_ada, w->cli), MM_OK);
    }
    assert_true(mm_session_done(w->cli));
    assert_true(mm_session_done(w->srv));
    assert_string_equal(mm_session_error_text(w->cli), "");
    assert_string_equal(mm_session_error_text(w->srv), "");
    assert_int_equal(w->to_ada.inflight, 0);
    assert_int_equal(w->to_grace.inflight, 0);
}

static void note(mm_home_t *h, const uint8_t scope[32], const char *text)
{
    mm_field_t f[] = { { "text", MM_F_STR, text, strlen(text), 0 } };
    assert_rc(mm_engage_append(h, scope, MM_T_NOTE, f, 1, NULL), MM_OK);
}

/* Seq of the head of device's feed in scope, as h holds it. */
static uint64_t head(mm_home_t *h, const uint8_t *device, const uint8_t scope[32])
{
    mm_txn_t *txn;
    mm_head_t hd;
    assert_rc(mm_store_begin(mm_home_store(h), 0, &txn), MM_OK);
    assert_rc(mm_log_head(txn, device, scope, &hd), MM_OK);
    mm_txn_abort(&txn);
    return hd.seq;
}

/* Entries and ENTRIES frames s sent and received. */
static void stats(const mm_session_t *s, uint64_t sent, uint64_t recv, uint64_t fsent,
                  uint64_t frecv)
{
    const mm_sync_stats_t *st = mm_session_stats(s);
    assert_int_equal(st->entries_sent, sent);
    assert_int_equal(st->entries_recv, recv);
    assert_int_equal(st->frames_sent, fsent);
    assert_int_equal(st->frames_recv, frecv);
}

/* ---- 1. a full session both ways ---- */

static void test_full_session(void **state)
{
    world_t *w = *state;
    note(w->ada, w->scope, "Week 1: read the chapter on delegation.");
    note(w->ada, w->scope, "Week 2: ran my first one-on-ones.");
    note(w->ada, w->scope, "Week 3: handed off the release.");
    note(w->grace, w->scope, "Good progress; try a skip-level next.");
    note(w->grace, w->scope, "Reading list sent.");
    run(w);
    assert_int_equal(head(w->grace, dev(w->ada), w->scope), 3);
    assert_int_equal(head(w->ada, dev(w->grace), w->scope), 2);
    assert_int_equal(head(w->ada, dev(w->ada), w->scope), 3);
    assert_int_equal(head(w->grace, dev(w->grace), w->scope), 2);
    stats(w->cli, 3, 2, 1, 1);                  /* one feed each way: one run */
    stats(w->srv, 2, 3, 1, 1);
    const mm_sync_stats_t *c = mm_session_stats(w->cli), *s = mm_session_stats(w->srv);
    assert_int_equal(c->bytes_sent, s->bytes_recv);
    assert_int_equal(s->bytes_sent, c->bytes_recv);
    assert_true(c->bytes_sent > 0 && s->bytes_sent > 0);
    assert_memory_equal(mm_session_remote_identity(w->cli), mm_home_identity_pk(w->grace), 32);
    assert_memory_equal(mm_session_remote_identity(w->srv), mm_home_identity_pk(w->ada), 32);
}

/* ---- 2. flow control: never more than MM_CREDIT_INITIAL frames unACKed ---- */

#define BIG_TEXT  50000             /* a note near MM_NOTE_MAX: ~41 per MM_RUN_BYTES frame */
#define BIG_N     260               /* ~13 MB: 6 or more frames */

static void test_flow_control(void **state)
{
    world_t *w = *state;
    static char text[BIG_TEXT + 1];
    static uint8_t body[BIG_TEXT + 64];
    mm_txn_t *txn;
    memset(text, 'x', BIG_TEXT);
    size_t len = fx_note_body(body, sizeof body, text);
    /* one write transaction: mm_engage_append would sync each entry */
    assert_rc(mm_store_begin(mm_home_store(w->ada), 1, &txn), MM_OK);
    for (int i = 0; i < BIG_N; i++)
        assert_rc(mm_log_append(txn, mm_home_device(w->ada), w->scope, 0, body, len, NULL),
                  MM_OK);
    assert_rc(mm_txn_commit(&txn), MM_OK);
    run(w);                         /* chan_send asserts the window on every ENTRIES */
    const mm_sync_stats_t *c = mm_session_stats(w->cli);
    assert_true(c->frames_sent > MM_CREDIT_INITIAL);
    assert_int_equal(w->to_grace.maxinflight, MM_CREDIT_INITIAL);   /* the window is used */
    stats(w->cli, BIG_N, 0, c->frames_sent, 0);
    stats(w->srv, 0, BIG_N, 0, c->frames_sent);
    assert_true(c->bytes_sent / c->frames_sent <= MM_RUN_BYTES);
    assert_int_equal(head(w->grace, dev(w->ada), w->scope), BIG_N);
}

/* ---- 3. the server says DONE last and plans again ---- */

static void on_idle(void *arg, mm_session_event_t ev, const void *what)
{
    world_t *w = arg;
    if (ev != MM_SESSION_IDLE)
        return;
    assert_null(what);
    w->idle++;
    /* what Ada sent is stored by now */
    assert_int_equal(head(w->grace, dev(w->ada), w->scope), 1);
    note(w->grace, w->scope, "Answering what you just wrote.");
}

static void test_server_replans_after_done(void **state)
{
    world_t *w = *state;
    note(w->ada, w->scope, "Can we talk about hiring?");
    note(w->grace, w->scope, "Before the session.");
    mm_session_on_event(w->srv, on_idle, w);
    run(w);
    assert_int_equal(w->idle, 1);
    assert_int_equal(head(w->ada, dev(w->grace), w->scope), 2);
    stats(w->srv, 2, 1, 2, 1);                  /* seq 2 alone after the replan */
    stats(w->cli, 1, 2, 1, 2);
}

/* ---- 4. error paths ---- */
/* Feeding buf to srv fails with want; srv has sent exactly one frame, an
 * ERROR, which makes a fresh client of Ada's fail with the same code; srv
 * stays failed and silent.  Destroys srv unless it is w->srv. */
static void expect_error(world_t *w, mm_session_t *srv, const uint8_t *buf, size_t len, int want)
{
    assert_rc(mm_session_input(srv, buf, len), want);
    assert_int_equal(w->to_ada.n, 1);
    frame_t *f = chan_pop(&w->to_ada);
    assert_rc(mm_wire_decode(f->b, f->len, &msg), MM_OK);
    assert_int_equal(msg.type, MM_MSG_ERROR);
    assert_int_equal(mm_wire_errcode(msg.u.error.code, msg.u.error.codelen), want);
    assert_true(mm_session_error_text(srv)[0] != '\0');
    mm_session_t *other = client(w);
    assert_rc(mm_session_input(other, f->b, f->len), want);
    assert_string_equal(mm_session_error_text(other), mm_session_error_text(srv));
    assert_int_equal(w->to_grace.n, 0);          /* an ERROR is not answered */
    assert_false(mm_session_done(other));
    mm_session_destroy(&other);
    free(f);
    assert_rc(mm_session_input(srv, buf, len), want);
    assert_int_equal(w->to_ada.n, 0);
    assert_false(mm_session_done(srv));
    if (srv != w->srv)
        mm_session_destroy(&srv);
}

static void test_errors_before_hello(void **state)
{
    world_t *w = *state;
    size_t n;
    /* garbage: 0xc1 is never used in msgpack */
    static const uint8_t garbage[] = { 0xc1, 0x00, 0xff, 0x13 };
    assert_rc(mm_wire_decode(garbage, sizeof garbage, &msg), MM_EMALFORMED);
    expect_error(w, w->srv, garbage, sizeof garbage, MM_EMALFORMED);
    /* a frame cut short */
    n = FRAME(MM_MSG_HELLO, w->ada);
    assert_rc(mm_wire_decode(fbuf, n - 1, &msg), MM_ETRUNC);
    expect_error(w, server(w, w->ada, 0), fbuf, n - 1, MM_ETRUNC);
    /* HAVE before HELLO */
    n = FRAME(MM_MSG_HAVE, NULL);
    expect_error(w, server(w, w->ada, 0), fbuf, n, MM_EPROTO);
    /* HELLO from someone Grace does not know (over his own key) */
    n = FRAME(MM_MSG_HELLO, w->carl);
    expect_error(w, server(w, w->carl, 0), fbuf, n, MM_EREFUSED);
    /* Ada's HELLO over a key that is not her device's */
    n = FRAME(MM_MSG_HELLO, w->ada);
    expect_error(w, server(w, w->carl, 0), fbuf, n, MM_EBADCERT);
}

static void test_errors_after_hello(void **state)
{
    world_t *w = *state;
    mm_session_t *s;
    size_t n;
    n = FRAME(MM_MSG_HELLO, w->ada);            /* a second HELLO */
    expect_error(w, server(w, w->ada, 1), fbuf, n, MM_EPROTO);
    n = FRAME(MM_MSG_DONE, NULL);               /* DONE before HAVE */
    expect_error(w, server(w, w->ada, 1), fbuf, n, MM_EPROTO);
    n = FRAME(MM_MSG_ACK, NULL);                /* ACK for frames never sent */
    expect_error(w, server(w, w->ada, 1), fbuf, n, MM_EPROTO);
    n = FRAME(MM_MSG_HAVE, NULL);               /* a second last HAVE */
    s = server(w, w->ada, 1);
    assert_rc(mm_session_input(s, fbuf, n), MM_OK);
    assert_int_equal(w->to_ada.n, 0);           /* nothing to send, no DONE yet */
    expect_error(w, s, fbuf, n, MM_EPROTO);
}

/* ---- 5. limits: HAVE frames, progress, the HELLO gate ---- */

/* A non-last HAVE listing n made-up feeds (n <= 64). */
static size_t have_frame(uint8_t *out, size_t cap, uint32_t n)
{
    mm_mp_writer_t wr;
    mm_have_t h;
    mm_mp_writer_init(&wr, out, cap);
    mm_wire_have_begin(&wr, 0, n);
    for (uint32_t i = 0; i < n; i++) {
        memset(&h, (int) i + 1, sizeof h);
        h.seq = i + 1;
        mm_wire_have_feed(&wr, &h);
    }
    mm_wire_have_end(&wr, NULL, 0);
    assert_rc(mm_mp_writer_status(&wr), MM_OK);
    return wr.len;
}

static void test_have_frames_capped(void **state)
{
    world_t *w = *state;
    mm_session_t *s = server(w, w->ada, 1);
    size_t n = have_frame(fbuf, sizeof fbuf, 1);
    assert_int_equal(MM_HAVE_FRAMES_MAX, 7);   /* ceil(100,000 / 16,384) */
    for (int i = 0; i < MM_HAVE_FRAMES_MAX; i++)
        assert_rc(mm_session_input(s, fbuf, n), MM_OK);
    assert_int_equal(w->to_ada.n, 0);
    expect_error(w, s, fbuf, n, MM_ETOOBIG);
}

static void test_progress(void **state)
{
    world_t *w = *state;
    mm_session_t *s = server(w, w->ada, 1);
    size_t n;
    assert_int_equal(mm_session_progress(s), 1);            /* HELLO */
    n = have_frame(fbuf, sizeof fbuf, 0);
    for (int i = 0; i < 3; i++)
        assert_rc(mm_session_input(s, fbuf, n), MM_OK);
    assert_int_equal(mm_session_progress(s), 1);            /* empty, not last: nothing */
    n = have_frame(fbuf, sizeof fbuf, 2);
    assert_rc(mm_session_input(s, fbuf, n), MM_OK);
    assert_int_equal(mm_session_progress(s), 2);
    n = FRAME(MM_MSG_HAVE, NULL);                           /* last, empty */
    assert_rc(mm_session_input(s, fbuf, n), MM_OK);
    assert_int_equal(mm_session_progress(s), 3);
    n = FRAME(MM_MSG_DONE, NULL);
    assert_rc(mm_session_input(s, fbuf, n), MM_OK);
    assert_int_equal(mm_session_progress(s), 4);
    chan_drain(&w->to_ada);
    mm_session_destroy(&s);
    /* a whole session: every frame of it counts on both sides but CERTs */
    note(w->ada, w->scope, "One for Grace.");
    run(w);
    assert_true(mm_session_progress(w->srv) >= 4);         /* HELLO, HAVE, ENTRIES, DONE */
    assert_true(mm_session_progress(w->cli) >= 4);         /* HELLO, HAVE, ACK, DONE */
}

typedef struct {
    const uint8_t *want;
    int calls;
} gate_t;

static int gate_busy(void *arg, const uint8_t identity[32], char *why, size_t cap)
{
    gate_t *g = arg;
    g->calls++;
    assert_memory_equal(identity, g->want, 32);
    snprintf(why, cap, "you have too many sessions");
    return MM_EBUSY;
}

static int gate_open(void *arg, const uint8_t identity[32], char *why, size_t cap)
{
    ((gate_t *) arg)->calls++;
    return MM_OK;
}

static void test_hello_gate(void **state)
{
    world_t *w = *state;
    gate_t g = { mm_home_identity_pk(w->ada), 0 };
    mm_session_t *s = server(w, w->ada, 0);
    mm_session_on_hello(s, gate_busy, &g);
    size_t n = FRAME(MM_MSG_HELLO, w->ada);
    expect_error(w, s, fbuf, n, MM_EBUSY);          /* nothing answered but the ERROR */
    assert_int_equal(g.calls, 1);
    /* a HELLO that does not verify never reaches the gate */
    s = server(w, w->carl, 0);
    mm_session_on_hello(s, gate_busy, &g);
    n = FRAME(MM_MSG_HELLO, w->ada);
    expect_error(w, s, fbuf, n, MM_EBADCERT);
    assert_int_equal(g.calls, 1);
    /* an open gate: the session goes on as before */
    mm_session_on_hello(w->srv, gate_open, &g);
    run(w);
    assert_int_equal(g.calls, 2);
}

/* ---- 6. forks: one device key on two homes (PROTOCOL.md 8.7) ---- */

/* Copy the home src to dst as it is, keys and all: a copied home. */
static void copy_home(const char *src, const char *dst)
{
    int status;
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        execlp("cp", "cp", "-a", src, dst, (char *) NULL);
        _exit(127);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* A session of h (client) with Grace (server), run to its end whatever
 * happens; the codes each side ended with. */
static void sync_with_grace(world_t *w, mm_home_t *h, int *rc_cli, int *rc_srv)
{
    mm_session_t *c, *s;
    uint8_t x[32];
    xkey(w->grace, x);
    assert_rc(mm_session_new(h, 1, x, mm_home_identity_pk(w->grace), chan_send, &w->to_grace,
                             &c), MM_OK);
    xkey(h, x);
    assert_rc(mm_session_new(w->grace, 0, x, NULL, chan_send, &w->to_ada, &s), MM_OK);
    assert_rc(mm_session_start(c), MM_OK);
    *rc_cli = *rc_srv = MM_OK;
    while (w->to_ada.head || w->to_grace.head) {
        int rc = deliver(&w->to_grace, s);
        if (rc && !*rc_srv)
            *rc_srv = rc;
        rc = deliver(&w->to_ada, c);
        if (rc && !*rc_cli)
            *rc_cli = rc;
    }
    if (!*rc_cli && !mm_session_done(c))
        *rc_cli = MM_ETIMEOUT;      /* it would wait: never a success */
    if (!*rc_srv && !mm_session_done(s))
        *rc_srv = MM_ETIMEOUT;
    mm_session_destroy(&c);
    mm_session_destroy(&s);
    w->to_ada.inflight = w->to_grace.inflight = 0;
}

static int self_forked(mm_home_t *h)
{
    mm_txn_t *txn;
    int forked;
    assert_rc(mm_store_begin(mm_home_store(h), 0, &txn), MM_OK);
    assert_rc(mm_fork_self(txn, dev(h), &forked, NULL, NULL), MM_OK);
    mm_txn_abort(&txn);
    return forked;
}

static uint64_t forks(mm_home_t *h)
{
    mm_txn_t *txn;
    uint64_t n;
    assert_rc(mm_store_begin(mm_home_store(h), 0, &txn), MM_OK);
    assert_rc(mm_fork_count(txn, &n), MM_OK);
    mm_txn_abort(&txn);
    return n;
}

/* Ada's home is copied to ada2 after seq 1; each writes its own seq 2.  Ada
 * syncs with Grace first (nothing wrong to see), then ada2: both see the
 * heads differ at 2, challenge each other, and each holds the two signed
 * entries: ada2 stops writing.  Then Ada syncs again: Grace hands her the
 * proof, and Ada stops writing too.  Nothing stored is lost. */
static void test_fork_detected_and_forwarded(void **state)
{
    world_t *w = *state;
    char src[FX_PATH_MAX], dst[FX_PATH_MAX];
    mm_home_t *ada2;
    int rc_c, rc_s;
    note(w->ada, w->scope, "Week 1: read the chapter on delegation.");
    run(w);
    assert_int_equal(head(w->grace, dev(w->ada), w->scope), 1);
    mm_home_close(&w->ada);
    fx_path(src, w->dir, "ada");
    fx_path(dst, w->dir, "ada2");
    copy_home(src, dst);
    assert_rc(mm_home_open(src, &w->ada), MM_OK);
    assert_rc(mm_home_open(dst, &ada2), MM_OK);
    note(w->ada, w->scope, "Week 2 (ada): ran my first one-on-ones.");
    note(ada2, w->scope, "Week 2 (ada2): skipped the one-on-ones.");

    sync_with_grace(w, w->ada, &rc_c, &rc_s);
    assert_rc(rc_c, MM_OK);
    assert_rc(rc_s, MM_OK);
    assert_int_equal(head(w->grace, dev(w->ada), w->scope), 2);

    sync_with_grace(w, ada2, &rc_c, &rc_s);
    assert_rc(rc_c, MM_EFORK);
    assert_rc(rc_s, MM_EFORK);
    assert_true(self_forked(ada2));
    assert_false(self_forked(w->grace));
    assert_int_equal(forks(ada2), 1);
    assert_int_equal(forks(w->grace), 1);
    assert_false(self_forked(w->ada));          /* not told yet */
    mm_field_t f[] = { { "text", MM_F_STR, "more", 4, 0 } };
    assert_rc(mm_engage_append(ada2, w->scope, MM_T_NOTE, f, 1, NULL), MM_EFORKED);
    assert_int_equal(head(ada2, dev(ada2), w->scope), 2);       /* kept */
    assert_int_equal(head(w->grace, dev(w->ada), w->scope), 2);

    sync_with_grace(w, w->ada, &rc_c, &rc_s);   /* Grace forwards the proof */
    assert_rc(rc_c, MM_EFORK);
    assert_rc(rc_s, MM_EFORK);
    assert_true(self_forked(w->ada));
    assert_rc(mm_engage_append(w->ada, w->scope, MM_T_NOTE, f, 1, NULL), MM_EFORKED);
    /* every scope: Ada's own notes too */
    assert_rc(mm_engage_append(w->ada, mm_home_self_scope(w->ada), MM_T_NOTE, f, 1, NULL),
              MM_EFORKED);
    assert_int_equal(head(w->ada, dev(w->ada), w->scope), 2);
    mm_home_close(&ada2);
}

/* The copy meets the original directly, as own devices sync (one key on
 * both sides, every scope shared): both compare at the equal heads, both
 * hold the proof, both stop writing. */
static void test_fork_direct(void **state)
{
    world_t *w = *state;
    char src[FX_PATH_MAX], dst[FX_PATH_MAX];
    mm_home_t *ada2;
    mm_session_t *c, *s;
    uint8_t x[32];
    int rc_c = MM_OK, rc_s = MM_OK, rc;
    note(w->ada, w->scope, "Week 1: read the chapter on delegation.");
    mm_home_close(&w->ada);
    fx_path(src, w->dir, "ada");
    fx_path(dst, w->dir, "ada2");
    copy_home(src, dst);
    assert_rc(mm_home_open(src, &w->ada), MM_OK);
    assert_rc(mm_home_open(dst, &ada2), MM_OK);
    note(w->ada, mm_home_self_scope(w->ada), "private, ada");
    note(ada2, mm_home_self_scope(ada2), "private, ada2");
    xkey(w->ada, x);                            /* one key: both ends */
    assert_rc(mm_session_new(ada2, 1, x, mm_home_identity_pk(w->ada), chan_send, &w->to_grace,
                             &c), MM_OK);
    assert_rc(mm_session_new(w->ada, 0, x, NULL, chan_send, &w->to_ada, &s), MM_OK);
    assert_rc(mm_session_start(c), MM_OK);
    while (w->to_ada.head || w->to_grace.head) {
        if ((rc = deliver(&w->to_grace, s)) && !rc_s)
            rc_s = rc;
        if ((rc = deliver(&w->to_ada, c)) && !rc_c)
            rc_c = rc;
    }
    assert_rc(rc_c, MM_EFORK);
    assert_rc(rc_s, MM_EFORK);
    mm_session_destroy(&c);
    mm_session_destroy(&s);
    w->to_ada.inflight = w->to_grace.inflight = 0;
    assert_true(self_forked(w->ada));
    assert_true(self_forked(ada2));
    assert_int_equal(head(w->ada, dev(w->ada), w->scope), 1);   /* nothing lost */
    mm_home_close(&ada2);
}

/* The entry seq of (author, scope) as h holds it, copied into out. */
static size_t entry_at(mm_home_t *h, const uint8_t *author, const uint8_t *scope, uint64_t seq,
                       uint8_t *out)
{
    mm_txn_t *txn;
    const uint8_t *buf;
    size_t len;
    assert_rc(mm_store_begin(mm_home_store(h), 0, &txn), MM_OK);
    assert_rc(mm_log_get(txn, author, scope, seq, &buf, &len), MM_OK);
    memcpy(out, buf, len);
    mm_txn_abort(&txn);
    return len;
}

static int record(mm_home_t *h, const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
                  int *self)
{
    mm_txn_t *txn;
    assert_rc(mm_store_begin(mm_home_store(h), 1, &txn), MM_OK);
    int rc = mm_fork_record(txn, a, alen, b, blen, self, NULL);
    if (rc == MM_OK)
        assert_rc(mm_txn_commit(&txn), MM_OK);
    mm_txn_abort(&txn);
    return rc;
}

/* core/fork.h: what makes a proof, and what recording it does. */
static void test_fork_record_rules(void **state)
{
    world_t *w = *state;
    char src[FX_PATH_MAX], dst[FX_PATH_MAX];
    static uint8_t a[MM_ENTRY_MAX], b[MM_ENTRY_MAX], a2[MM_ENTRY_MAX], bad[MM_ENTRY_MAX];
    mm_home_t *ada2;
    mm_txn_t *txn;
    mm_fork_t fk;
    int self, forked;
    uint64_t seq;
    mm_home_close(&w->ada);
    fx_path(src, w->dir, "ada");
    fx_path(dst, w->dir, "ada2");
    copy_home(src, dst);
    assert_rc(mm_home_open(src, &w->ada), MM_OK);
    assert_rc(mm_home_open(dst, &ada2), MM_OK);
    note(w->ada, w->scope, "one");
    note(w->ada, w->scope, "two");
    note(ada2, w->scope, "other");
    size_t alen = entry_at(w->ada, dev(w->ada), w->scope, 1, a);
    size_t a2len = entry_at(w->ada, dev(w->ada), w->scope, 2, a2);
    size_t blen = entry_at(ada2, dev(w->ada), w->scope, 1, b);
    memcpy(bad, b, blen);
    bad[blen - 70] ^= 1;                        /* in the box: the signature fails */

    assert_rc(record(w->grace, a, alen, a, alen, NULL), MM_EPROTO);     /* not different */
    assert_rc(record(w->grace, a2, a2len, b, blen, NULL), MM_EPROTO);   /* not one seq */
    assert_rc(record(w->grace, a, alen, bad, blen, NULL), MM_EBADSIG);
    assert_rc(record(w->carl, a, alen, b, blen, NULL), MM_ENOCERT);     /* no cert of Ada */
    assert_int_equal(forks(w->grace), 0);
    assert_rc(record(w->grace, a, alen, b, blen, &self), MM_OK);
    assert_false(self);
    assert_false(self_forked(w->grace));
    assert_rc(record(w->grace, b, blen, a, alen, &self), MM_OK);        /* again: one record */
    assert_int_equal(forks(w->grace), 1);
    assert_rc(mm_store_begin(mm_home_store(w->grace), 0, &txn), MM_OK);
    assert_rc(mm_fork_get(txn, dev(w->ada), w->scope, &fk), MM_OK);
    assert_int_equal(fk.seq, 1);
    uint8_t ida[32], idb[32];
    mm_hash(ida, fk.a, fk.alen);
    mm_hash(idb, fk.b, fk.blen);
    assert_true(memcmp(ida, idb, 32) < 0);      /* canonical: the smaller id first */
    mm_txn_abort(&txn);

    assert_rc(record(w->ada, b, blen, a, alen, &self), MM_OK);          /* Ada's own key */
    assert_true(self);
    assert_rc(mm_store_begin(mm_home_store(w->ada), 0, &txn), MM_OK);
    assert_rc(mm_fork_self(txn, dev(w->ada), &forked, NULL, &seq), MM_OK);
    assert_true(forked);
    assert_int_equal(seq, 1);
    assert_rc(mm_fork_self(txn, dev(w->grace), &forked, NULL, NULL), MM_OK);
    assert_false(forked);                       /* another key (after a reset) writes */
    mm_txn_abort(&txn);
    mm_home_close(&ada2);
}

/* A sender that skips the comparison and sends its branch as ENTRIES: the
 * receiver holding the other branch records the proof all the same; a
 * spoilt entry at that position is refused as before and records nothing. */
static void test_fork_in_entries(void **state)
{
    world_t *w = *state;
    char src[FX_PATH_MAX], dst[FX_PATH_MAX];
    static uint8_t b[MM_ENTRY_MAX], fr[MM_ENTRY_MAX + 64];
    mm_home_t *ada2;
    mm_mp_writer_t wr;
    mm_home_close(&w->ada);
    fx_path(src, w->dir, "ada");
    fx_path(dst, w->dir, "ada2");
    copy_home(src, dst);
    assert_rc(mm_home_open(src, &w->ada), MM_OK);
    assert_rc(mm_home_open(dst, &ada2), MM_OK);
    note(w->ada, w->scope, "one");
    note(ada2, w->scope, "other");
    /* fresh sessions: the world's own were made over the home closed above */
    int rc_c, rc_s;
    sync_with_grace(w, w->ada, &rc_c, &rc_s);   /* Grace holds Ada's seq 1 */
    assert_rc(rc_c, MM_OK);
    assert_rc(rc_s, MM_OK);
    size_t blen = entry_at(ada2, dev(w->ada), w->scope, 1, b);
    for (int spoil = 1; spoil >= 0; spoil--) {
        const uint8_t *bufs[1] = { b };
        mm_session_t *s = server(w, w->ada, 1);
        size_t n = FRAME(MM_MSG_HAVE, NULL);
        assert_rc(mm_session_input(s, fbuf, n), MM_OK);
        b[blen - 70] ^= (uint8_t) spoil;
        mm_mp_writer_init(&wr, fr, sizeof fr);
        mm_wire_entries_begin(&wr, 1);
        mm_wire_entries_add(&wr, bufs[0], blen);
        assert_rc(mm_session_input(s, fr, wr.len), MM_EFORK);
        b[blen - 70] ^= (uint8_t) spoil;
        assert_int_equal(forks(w->grace), spoil ? 0 : 1);
        mm_session_destroy(&s);
        chan_drain(&w->to_ada);
    }
    assert_false(self_forked(w->grace));
    assert_int_equal(head(w->grace, dev(w->ada), w->scope), 1);
    mm_home_close(&ada2);
}

/* ---- lookahead: the next run checked while this one commits ---- */

#define AHEAD_N 6                   /* Ada's entries: frames of seq 1-3 and 4-6 */

/* An ENTRIES frame of Ada's seq from..to (as Grace would receive it) into
 * out, with entry `spoil` (0: none) changed at byte `at` from its end. */
static size_t ahead_frame(world_t *w, uint8_t *out, size_t cap, uint64_t from, uint64_t to,
                          uint64_t spoil, size_t at)
{
    static uint8_t b[AHEAD_N][1024];
    mm_mp_writer_t wr;
    mm_mp_writer_init(&wr, out, cap);
    mm_wire_entries_begin(&wr, (uint32_t) (to - from + 1));
    for (uint64_t q = from; q <= to; q++) {
        size_t len = entry_at(w->ada, dev(w->ada), w->scope, q, b[q - 1]);
        if (q == spoil)
            b[q - 1][len - at] ^= 0x01;
        mm_wire_entries_add(&wr, b[q - 1], len);
    }
    assert_rc(mm_mp_writer_status(&wr), MM_OK);
    return wr.len;
}

/* Grace's server session told of frame B (mm_session_next) while it
 * handles frame A, then handed B (or fb2, the same bytes elsewhere): the
 * answers and what is stored are those without any lookahead.  A bad
 * signature (or a spoilt signed byte) in B is MM_EBADSIG for B, A stored
 * and nothing of B; one in A fails A, and what was begun on B is ended
 * (no worker touches B after; ASan builds check it), nothing stored. */
static void test_lookahead(void **state)
{
    world_t *w = *state;
    static uint8_t fa[8192], fb[8192], fb2[8192];
    static const struct { uint64_t spoil; size_t at; int rc_a, rc_b; uint64_t head; int other; }
        cases[] = {
            { 2, 1, MM_EBADSIG, MM_EBADSIG, 0, 0 },     /* A fails: the session ends */
            { 5, 1, MM_OK, MM_EBADSIG, 3, 0 },          /* B's entry 5: its signature */
            { 4, 70, MM_OK, MM_EBADSIG, 3, 0 },         /* B's entry 4: a signed byte */
            { 6, 1, MM_OK, MM_EBADSIG, 3, 1 },          /* B handed at another address */
            { 0, 0, MM_OK, MM_OK, AHEAD_N, 1 },
            { 0, 0, MM_OK, MM_OK, AHEAD_N, 0 },         /* both held already: skipped */
        };
    for (int i = 0; i < AHEAD_N; i++)
        note(w->ada, w->scope, "ahead");
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        size_t na = ahead_frame(w, fa, sizeof fa, 1, 3,
                                cases[k].spoil <= 3 ? cases[k].spoil : 0, cases[k].at);
        size_t nb = ahead_frame(w, fb, sizeof fb, 4, AHEAD_N,
                                cases[k].spoil > 3 ? cases[k].spoil : 0, cases[k].at);
        memcpy(fb2, fb, nb);
        mm_session_t *s = server(w, w->ada, 1);
        size_t n = FRAME(MM_MSG_HAVE, NULL);
        assert_rc(mm_session_input(s, fbuf, n), MM_OK);
        mm_session_next(s, fb, nb);
        assert_rc(mm_session_input(s, fa, na), cases[k].rc_a);
        /* handed elsewhere (same bytes): what was begun on fb is ended */
        assert_rc(mm_session_input(s, cases[k].other ? fb2 : fb, nb), cases[k].rc_b);
        assert_int_equal(head(w->grace, dev(w->ada), w->scope), cases[k].head);
        mm_session_destroy(&s);
        chan_drain(&w->to_ada);
    }
}

/* A frame for Grace's server session from Ada. */
static size_t have_claim(uint8_t *out, size_t cap, const uint8_t *author, const uint8_t *scope,
                         uint64_t seq, const uint8_t headid[32])
{
    mm_mp_writer_t wr;
    mm_have_t h;
    memcpy(h.author, author, 32);
    memcpy(h.scope, scope, 32);
    h.seq = seq;
    memcpy(h.head, headid, 32);
    mm_mp_writer_init(&wr, out, cap);
    mm_wire_have_begin(&wr, 1, 1);
    mm_wire_have_feed(&wr, &h);
    mm_wire_have_end(&wr, NULL, 0);
    assert_rc(mm_mp_writer_status(&wr), MM_OK);
    return wr.len;
}

/* Grace holds Ada's revocation of her device: its HELLO is refused by
 * name, before anything is stored or answered. */
static void test_hello_revoked(void **state)
{
    world_t *w = *state;
    mm_keypair_t *ik;
    mm_txn_t *txn;
    uint8_t r[MM_REVOKE_MAX];
    size_t rlen;
    assert_rc(mm_home_identity_key(w->ada, &ik), MM_OK);
    assert_rc(mm_revoke_make(ik, dev(w->ada), 5, NULL, 0, r, sizeof r, &rlen), MM_OK);
    mm_keypair_destroy(&ik);
    assert_rc(mm_store_begin(mm_home_store(w->grace), 1, &txn), MM_OK);
    assert_rc(mm_revoke_put(txn, r, rlen, NULL), MM_OK);
    assert_rc(mm_txn_commit(&txn), MM_OK);
    size_t n = FRAME(MM_MSG_HELLO, w->ada);
    expect_error(w, server(w, w->ada, 0), fbuf, n, MM_EREVOKED);
}

/* A DEVICES frame holding rev (rlen bytes) as its one revocation, or
 * cert as its one certificate. */
static size_t devices_frame(uint8_t *out, size_t cap, const uint8_t *cert, size_t certlen,
                            const uint8_t *rev, size_t rlen)
{
    mm_mp_writer_t wr;
    mm_mp_writer_init(&wr, out, cap);
    mm_wire_devices_begin(&wr);
    mm_wire_devices_list(&wr, cert ? 1 : 0);
    if (cert)
        mm_wire_devices_add(&wr, cert, certlen);
    mm_wire_devices_list(&wr, rev ? 1 : 0);
    if (rev)
        mm_wire_devices_add(&wr, rev, rlen);
    mm_wire_devices_list(&wr, 0);
    assert_rc(mm_mp_writer_status(&wr), MM_OK);
    return wr.len;
}

/* The last frame sent on c, decoded into msg (and kept in buf). */
static void last_sent(chan_t *c, uint8_t *buf, size_t cap, size_t *len)
{
    frame_t *f, *last = NULL;
    while ((f = chan_pop(c))) {
        free(last);
        last = f;
    }
    assert_non_null(last);
    if (!last)
        return;                     /* (assert_non_null returned: for the analyzer) */
    assert_true(last->len <= cap);
    memcpy(buf, last->b, last->len);
    *len = last->len;
    free(last);
    assert_rc(mm_wire_decode(buf, *len, &msg), MM_OK);
}

/* A hostile peer claims another head for a feed Grace holds, with no second
 * signed entry to back it: Grace challenges, holds the feed back and never
 * says DONE, but marks nothing forked whatever comes back. */
static void test_fork_forged_claim(void **state)
{
    world_t *w = *state;
    static uint8_t fr[3 * MM_ENTRY_MAX], challenge[MM_ENTRY_MAX + 64];
    uint8_t fake[32];
    size_t n, clen;
    note(w->ada, w->scope, "Week 1: read the chapter on delegation.");
    run(w);
    for (int round = 0; round < 3; round++) {
        mm_session_t *s = server(w, w->ada, 1);
        memset(fake, 0x66 + round, sizeof fake);
        n = have_claim(fr, sizeof fr, dev(w->ada), w->scope, 1, fake);
        assert_rc(mm_session_input(s, fr, n), MM_OK);
        last_sent(&w->to_ada, challenge, sizeof challenge, &clen);
        assert_int_equal(msg.type, MM_MSG_FORK);          /* the challenge, no DONE */
        assert_int_equal(msg.u.fork.n, 1);
        const uint8_t *mine = msg.u.fork.bufs[0];
        size_t minelen = msg.u.fork.lens[0];
        mm_mp_writer_t wr;
        mm_mp_writer_init(&wr, fr, sizeof fr);
        if (round == 0) {
            /* a "proof" whose second entry is Grace's own with a spoilt box */
            static uint8_t spoilt[MM_ENTRY_MAX];
            memcpy(spoilt, mine, minelen);
            spoilt[minelen - 70] ^= 1;
            const uint8_t *bufs[2] = { mine, spoilt };
            size_t lens[2] = { minelen, minelen };
            mm_wire_fork(&wr, bufs, lens, 2);
            assert_rc(mm_session_input(s, fr, wr.len), MM_EBADSIG);
        } else if (round == 1) {
            /* her own entry twice: not two different entries */
            const uint8_t *bufs[2] = { mine, mine };
            size_t lens[2] = { minelen, minelen };
            mm_wire_fork(&wr, bufs, lens, 2);
            assert_rc(mm_session_input(s, fr, wr.len), MM_EPROTO);
        } else {
            /* her own entry sent back as a challenge: identical, so no fork */
            mm_wire_fork(&wr, &mine, &minelen, 1);
            assert_rc(mm_session_input(s, fr, wr.len), MM_EPROTO);
        }
        assert_false(mm_session_done(s));
        mm_session_destroy(&s);
        chan_drain(&w->to_ada);
    }
    assert_int_equal(forks(w->grace), 0);
    assert_false(self_forked(w->grace));
    assert_false(self_forked(w->ada));
    note(w->ada, w->scope, "Week 2: still writing.");
}

/* DEVICES: once, before HAVE; a version-1 certificate in it is refused;
 * one that revokes the sender's own device ends the session. */
static void test_devices_frame(void **state)
{
    world_t *w = *state;
    static uint8_t buf[MM_REVOKE_MAX + 1024], r[MM_REVOKE_MAX];
    mm_keypair_t *ik;
    size_t rlen, n;
    assert_rc(mm_home_identity_key(w->ada, &ik), MM_OK);
    /* empty DEVICES then a second one */
    n = devices_frame(buf, sizeof buf, NULL, 0, NULL, 0);
    mm_session_t *s = server(w, w->ada, 1);
    assert_rc(mm_session_input(s, buf, n), MM_OK);
    expect_error(w, s, buf, n, MM_EPROTO);
    /* after a HAVE */
    s = server(w, w->ada, 1);
    size_t hn = FRAME(MM_MSG_HAVE, NULL);
    assert_rc(mm_session_input(s, fbuf, hn), MM_OK);
    expect_error(w, s, buf, n, MM_EPROTO);
    /* a version-1 certificate is never relayed */
    uint8_t c1[MM_CERT_MAX];
    size_t c1len;
    mm_keypair_t *other = fx_keypair(0x77);
    assert_rc(mm_cert_make_v1(ik, mm_keypair_pk(other), 5, "old", c1, sizeof c1, &c1len), MM_OK);
    n = devices_frame(buf, sizeof buf, c1, c1len, NULL, 0);
    expect_error(w, server(w, w->ada, 1), buf, n, MM_EBADCERT);
    mm_keypair_destroy(&other);
    /* Ada's device hands over its own revocation */
    assert_rc(mm_revoke_make(ik, dev(w->ada), 5, NULL, 0, r, sizeof r, &rlen), MM_OK);
    n = devices_frame(buf, sizeof buf, NULL, 0, r, rlen);
    expect_error(w, server(w, w->ada, 1), buf, n, MM_EREVOKED);
    mm_keypair_destroy(&ik);
}

/* Certificates of Ada's person that Grace stores. */
static unsigned certs_of_ada(world_t *w)
{
    mm_txn_t *txn;
    unsigned n;
    assert_rc(mm_store_begin(mm_home_store(w->grace), 0, &txn), MM_OK);
    assert_rc(mm_cert_count(txn, mm_home_identity_pk(w->ada), &n), MM_OK);
    mm_txn_abort(&txn);
    return n;
}

/* CERT (PROTOCOL.md 8.2, step 3): held for the session, never stored
 * without a run of its device; at most MM_SESSION_CERTS_HELD held
 * (MM_ETOOMANY past it); a second CERT of a device held is MM_EPROTO; one
 * Grace stores already is a no-op, however often it comes. */
static void test_certs_held(void **state)
{
    world_t *w = *state;
    static uint8_t c[MM_SESSION_CERTS_HELD + 1][MM_CERT_MAX], buf[MM_CERT_MAX + 64];
    size_t clen[MM_SESSION_CERTS_HELD + 1];
    mm_keypair_t *ik;
    assert_rc(mm_home_identity_key(w->ada, &ik), MM_OK);
    for (unsigned i = 0; i <= MM_SESSION_CERTS_HELD; i++) {
        mm_keypair_t *d = fx_keypair((uint8_t) (0x90 + i));
        assert_rc(mm_cert_make(ik, d, 5 + i, "flood", 0, c[i], MM_CERT_MAX, &clen[i]), MM_OK);
        mm_keypair_destroy(&d);
    }
    mm_keypair_destroy(&ik);
    mm_mp_writer_t wr;
#define CERT_FRAME(i) (mm_mp_writer_init(&wr, buf, sizeof buf), \
                       mm_wire_cert(&wr, c[i], clen[i]), wr.len)
    assert_int_equal(certs_of_ada(w), 1);
    mm_session_t *s = server(w, w->ada, 1);
    for (unsigned i = 0; i < MM_SESSION_CERTS_HELD; i++)
        assert_rc(mm_session_input(s, buf, CERT_FRAME(i)), MM_OK);
    assert_int_equal(w->to_ada.n, 0);
    assert_int_equal(certs_of_ada(w), 1);           /* held, not stored */
    expect_error(w, s, buf, CERT_FRAME(MM_SESSION_CERTS_HELD), MM_ETOOMANY);
    assert_int_equal(certs_of_ada(w), 1);           /* and dropped with the session */

    s = server(w, w->ada, 1);
    assert_rc(mm_session_input(s, buf, CERT_FRAME(0)), MM_OK);
    expect_error(w, s, buf, CERT_FRAME(0), MM_EPROTO);

    /* Ada's own certificate, which Grace stores: a no-op each time */
    s = server(w, w->ada, 1);
    mm_txn_t *txn;
    const uint8_t *raw;
    size_t rawlen;
    mm_cert_t own;
    assert_rc(mm_store_begin(mm_home_store(w->ada), 0, &txn), MM_OK);
    assert_rc(mm_cert_get(txn, dev(w->ada), &own, &raw, &rawlen), MM_OK);
    mm_mp_writer_init(&wr, buf, sizeof buf);
    mm_wire_cert(&wr, raw, rawlen);
    mm_txn_abort(&txn);
    for (int i = 0; i < 3; i++)
        assert_rc(mm_session_input(s, buf, wr.len), MM_OK);
    assert_int_equal(w->to_ada.n, 0);
    mm_session_destroy(&s);
#undef CERT_FRAME
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_full_session, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flow_control, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_replans_after_done, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_before_hello, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_after_hello, setup, teardown),
        cmocka_unit_test_setup_teardown(test_have_frames_capped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_progress, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hello_gate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fork_detected_and_forwarded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fork_forged_claim, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fork_direct, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fork_record_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fork_in_entries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lookahead, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hello_revoked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_devices_frame, setup, teardown),
        cmocka_unit_test_setup_teardown(test_certs_held, setup, teardown),
    };
    return cmocka_run_group_tests(tests, fx_setup_crypto, NULL);
}
