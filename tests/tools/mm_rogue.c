/*  mm_rogue.c -- a misbehaving peer, for the integration tests.
 *
 *  mm_rogue --home DIR --peer PEER --send KIND [--endpoint EP] [--timeout MS]
 *           [--routing-id ID] [--count N]
 *      Connect to PEER the way mm sync does (CURVE, this home's device key,
 *      the peer's device as server key; with --routing-id, under that ZeroMQ
 *      routing id instead of the one the peer's ROUTER would pick), send one
 *      kind of bad input, and print on stdout, as one line, what came back:
 *        "MM_E... text"  the ERROR frame the peer sent (its code first)
 *        "acked"         the peer stored the entries we sent (ACK)
 *        "closed"        the peer dropped the connection
 *        "timeout"       nothing came back in time
 *        "refused"       the handshake was refused (before anything was sent)
 *      KIND: garbage              random bytes
 *            bigcount             msgpack array32 header claiming 2^32-1 items
 *            oversize             a frame larger than MM_FRAME_MAX
 *            stray                garbage, then after the answer garbage again:
 *                                 prints a second line, the answer to that
 *                                 (the session is over: "timeout" expected)
 *            hello-then-badentry  a valid HELLO and last HAVE, then an ENTRIES
 *                                 frame whose one entry (the next of our feed
 *                                 in the relationship scope, as the peer's
 *                                 HAVE tells) has one signature byte flipped
 *            hello-then-badrun    the same, but the frame is a run of two: the
 *                                 first entry with one signature byte flipped
 *                                 (nothing re-encoded), the second validly
 *                                 signed and chained over the first's id, so
 *                                 that the last signature covers the run
 *            slow-ack             a valid HELLO and last HAVE, then ACK each of the
 *                                 peer's ENTRIES frames --every MS after it came:
 *                                 a slow reader that makes progress; prints the
 *                                 peer's ERROR, or "done" at its DONE
 *            cert-flood           a valid HELLO and last HAVE, then --count CERT
 *                                 frames, each of a fresh device certified by
 *                                 this home's identity key (version 2), and no
 *                                 entry; then DONE: prints the peer's ERROR,
 *                                 or "done" at its DONE
 *            cert-runs            the same, but each CERT is followed by an
 *                                 ENTRIES frame of one valid entry of that
 *                                 device (seq 1 in the relationship scope),
 *                                 each sent once the last is acknowledged;
 *                                 prints "stored K" (the runs acknowledged),
 *                                 then the peer's ERROR or "done"
 *            devices-flood        a valid HELLO, then one DEVICES listing
 *                                 --count (<= 512) fresh devices' certificates,
 *                                 then last HAVE and DONE: prints the peer's
 *                                 ERROR, or "done"
 *      Exit 0 if the handshake succeeded (we could talk), 1 if not or on a
 *      local failure (said on stderr).
 *
 *  mm_rogue --home DIR --peer PEER --send hold [--sessions N] [--every MS]
 *           [--feeds K] [--endpoint EP] [--timeout MS] [--routing-id ID]
 *      Open N sessions (default 1) one after the other, each on its own
 *      connection: HELLO, then wait for the answer.  Print "holding H of N",
 *      H the sessions the peer answered with its HELLO.  Then, until
 *      --timeout after the start, keep them open with one non-last HAVE
 *      every MS milliseconds (default 1000) on each, listing K made-up feeds
 *      (default 0: an empty HAVE, which says nothing).  Then print one line
 *      per session, in order: "held" (still open), the peer's ERROR
 *      ("MM_E... text"), "closed", "timeout" (HELLO never answered), and
 *      close them all.  With --routing-id, one session only.  Exit 0 if
 *      every handshake succeeded.
 *
 *  mm_rogue --curve-random ENDPOINT SERVER_DEVICE_CODE [--timeout MS]
 *      Connect with a fresh random CURVE key pair, which no mm serve can
 *      know, and print "refused", "admitted", "handshake-failed", "closed"
 *      or "timeout".  Exit 0 on a verdict, 1 on timeout or a local error.
 *
 *  Usage errors exit 2.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>
#include <zmq.h>
#include "core/body.h"
#include "core/cert.h"
#include "core/device.h"
#include "core/entry.h"
#include "core/home.h"
#include "core/log.h"
#include "core/peer.h"
#include "crypto/error.h"
#include "crypto/idcode.h"
#include "crypto/random.h"
#include "net/wire.h"

#define TIMEOUT_DEFAULT_MS 5000
#define GARBAGE_BYTES      64
#define SMALL_FRAME        8192     /* HELLO, HAVE, one small ENTRIES frame */

typedef enum {
    EV_FRAME, EV_READY, EV_REFUSED, EV_FAILED, EV_CLOSED, EV_TIMEOUT, EV_ERROR
} ev_t;

typedef struct {
    void     *ctx;
    void     *sock;
    void     *mon;
    zmq_msg_t msg;                  /* the last frame received */
} link_t;

/* ---- the connection ---- */

static void link_close(link_t *l)
{
    int zero = 0;
    zmq_msg_close(&l->msg);
    if (l->sock) {
        zmq_setsockopt(l->sock, ZMQ_LINGER, &zero, sizeof zero);
        zmq_socket_monitor(l->sock, NULL, 0);
        zmq_close(l->sock);
    }
    if (l->mon)
        zmq_close(l->mon);
    if (l->ctx)
        zmq_ctx_term(l->ctx);
    memset(l, 0, sizeof *l);
}

/* A CURVE DEALER to endpoint with key pair (pk, sk), expecting the server
 * key server_x, watched by a monitor.  Reconnection is off, so a dropped
 * connection stays dropped and shows as "closed". */
static const char *routing_id;     /* --routing-id */

static int link_open(link_t *l, const char *endpoint, const uint8_t server_x[32],
                     const uint8_t pk[32], const uint8_t sk[32])
{
    int off = -1;
    memset(l, 0, sizeof *l);
    zmq_msg_init(&l->msg);
    if (!(l->ctx = zmq_ctx_new()) || !(l->sock = zmq_socket(l->ctx, ZMQ_DEALER)))
        goto fail;
    if (zmq_setsockopt(l->sock, ZMQ_RECONNECT_IVL, &off, sizeof off)
        || zmq_setsockopt(l->sock, ZMQ_CURVE_SERVERKEY, server_x, 32)
        || zmq_setsockopt(l->sock, ZMQ_CURVE_PUBLICKEY, pk, 32)
        || zmq_setsockopt(l->sock, ZMQ_CURVE_SECRETKEY, sk, 32)
        || (routing_id && zmq_setsockopt(l->sock, ZMQ_ROUTING_ID, routing_id,
                                         strlen(routing_id))))
        goto fail;
    if (zmq_socket_monitor(l->sock, "inproc://mm-rogue-monitor",
                           ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
                           | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
                           | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_DISCONNECTED)
        || !(l->mon = zmq_socket(l->ctx, ZMQ_PAIR))
        || zmq_connect(l->mon, "inproc://mm-rogue-monitor"))
        goto fail;
    if (zmq_connect(l->sock, endpoint)) {
        fprintf(stderr, "mm_rogue: cannot connect to %s: %s\n", endpoint,
                zmq_strerror(zmq_errno()));
        link_close(l);
        return -1;
    }
    return 0;
fail:
    fprintf(stderr, "mm_rogue: zmq setup failed: %s\n", zmq_strerror(zmq_errno()));
    link_close(l);
    return -1;
}

/* One monitor event: a 6-byte frame (event u16, value u32), then the
 * endpoint. */
static ev_t monitor_event(link_t *l)
{
    zmq_msg_t m;
    uint16_t event = 0;
    int more;
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, l->mon, 0) >= 6)
        memcpy(&event, zmq_msg_data(&m), 2);
    more = zmq_msg_more(&m);
    zmq_msg_close(&m);
    while (more) {
        zmq_msg_init(&m);
        zmq_msg_recv(&m, l->mon, 0);
        more = zmq_msg_more(&m);
        zmq_msg_close(&m);
    }
    switch (event) {
    case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:   return EV_READY;
    case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH: return EV_REFUSED;
    case ZMQ_EVENT_DISCONNECTED:          return EV_CLOSED;
    default:                              return EV_FAILED;
    }
}

/* The next frame (into l->msg) or connection event before deadline. */
static ev_t link_wait(link_t *l, uint64_t deadline)
{
    while (1) {
        uint64_t now = mm_now_ms();
        if (now >= deadline)
            return EV_TIMEOUT;
        zmq_pollitem_t items[] = { { l->sock, 0, ZMQ_POLLIN, 0 }, { l->mon, 0, ZMQ_POLLIN, 0 } };
        int n = zmq_poll(items, 2, (long) (deadline - now));
        if (n < 0)
            return EV_ERROR;
        /* frames first: an ERROR may be followed by the connection's end */
        if (items[0].revents & ZMQ_POLLIN)
            return zmq_msg_recv(&l->msg, l->sock, 0) < 0 ? EV_ERROR : EV_FRAME;
        if (items[1].revents & ZMQ_POLLIN)
            return monitor_event(l);
    }
}

static int link_send(link_t *l, const void *buf, size_t len)
{
    if (zmq_send(l->sock, buf, len, 0) != (int) len) {
        fprintf(stderr, "mm_rogue: send failed: %s\n", zmq_strerror(zmq_errno()));
        return -1;
    }
    return 0;
}

static const char *ev_word(ev_t ev)
{
    switch (ev) {
    case EV_READY:   return "admitted";
    case EV_REFUSED: return "refused";
    case EV_FAILED:  return "handshake-failed";
    case EV_CLOSED:  return "closed";
    case EV_TIMEOUT: return "timeout";
    default:         return "error";
    }
}

/* ---- reading answers ---- */

static const char *msg_name(mm_msg_type_t t)
{
    static const char *const names[] = { "?", "HELLO", "HAVE", "CERT", "ENTRIES", "ACK",
                                         "DONE", "ERROR", "ACCEPT", "WELCOME" };
    return (unsigned) t < sizeof names / sizeof names[0] ? names[t] : "?";
}

/* An ERROR frame as "CODE text", control bytes shown as '?'. */
static void format_error(const mm_msg_t *m, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%.*s ", (int) m->u.error.codelen, m->u.error.code);
    size_t k = n > 0 && (size_t) n < cap ? (size_t) n : 0;
    for (uint32_t i = 0; i < m->u.error.textlen && k + 1 < cap; i++) {
        char c = m->u.error.text[i];
        if ((unsigned char) c < 0x20 || c == 0x7f)
            c = '?';
        out[k++] = c;
    }
    out[k] = '\0';
}

static void print_error(const mm_msg_t *m)
{
    char line[1100];
    format_error(m, line, sizeof line);
    printf("%s\n", line);
}

/* Wait for the peer's verdict on what we sent and print it.  Other frames
 * (the peer's own ENTRIES, DONE...) are skipped when skip is set (we sent
 * entries: their verdict is an ERROR, or an ACK if they were stored), else
 * reported as "answer TYPE". */
static void await_verdict(link_t *l, uint64_t deadline, mm_msg_t *m, int skip)
{
    while (1) {
        ev_t ev = link_wait(l, deadline);
        if (ev == EV_READY)
            continue;
        if (ev != EV_FRAME) {
            printf("%s\n", ev_word(ev));
            return;
        }
        int rc = mm_wire_decode(zmq_msg_data(&l->msg), zmq_msg_size(&l->msg), m);
        if (rc) {
            printf("undecodable-answer %s\n", mm_errname(rc));
            return;
        }
        if (m->type == MM_MSG_ERROR) {
            print_error(m);
            return;
        }
        if (skip && m->type == MM_MSG_ACK) {
            printf("acked\n");
            return;
        }
        if (!skip) {
            printf("answer %s\n", msg_name(m->type));
            return;
        }
    }
}

/* ---- the bad entry ---- */

/* HELLO, as net/session.c's client sends it. */
static int send_hello(link_t *l, mm_home_t *home, uint8_t *frame)
{
    mm_txn_t *txn;
    mm_cert_t c;
    mm_mp_writer_t w;
    const uint8_t *raw;
    size_t rawlen;
    int rc = mm_store_begin(mm_home_store(home), 0, &txn);
    if (rc == MM_OK)
        rc = mm_cert_get(txn, mm_keypair_pk(mm_home_device(home)), &c, &raw, &rawlen);
    if (rc == MM_OK) {
        mm_mp_writer_init(&w, frame, SMALL_FRAME);
        mm_wire_hello(&w, raw, rawlen, mm_home_name(home));
        rc = mm_mp_writer_status(&w);
    }
    mm_txn_abort(&txn);
    if (rc) {
        fprintf(stderr, "mm_rogue: no certificate for this device: %s\n", mm_strerror(rc));
        return -1;
    }
    return link_send(l, w.buf, w.len);
}

/* A HAVE listing n made-up feeds (n <= 64 fits SMALL_FRAME); 0 or -1. */
static int send_have(link_t *l, uint8_t *frame, int last, uint32_t n)
{
    mm_mp_writer_t w;
    mm_have_t h;
    mm_mp_writer_init(&w, frame, SMALL_FRAME);
    mm_wire_have_begin(&w, last, n);
    for (uint32_t i = 0; i < n; i++) {
        randombytes_buf(&h, sizeof h);
        h.seq = 1;
        mm_wire_have_feed(&w, &h);
    }
    mm_wire_have_end(&w, NULL, 0);
    return mm_mp_writer_status(&w) ? -1 : link_send(l, w.buf, w.len);
}

/* HELLO and an empty last HAVE, as net/session.c's client sends them. */
static int send_hello_have(link_t *l, mm_home_t *home, uint8_t *frame)
{
    return send_hello(l, home, frame) || send_have(l, frame, 1, 0) ? -1 : 0;
}

#define FORGED_MAX 2               /* entries in a forged run */
#define FORGED_CAP 1024             /* bytes of one forged entry */

/* Seal n entries after seq `theirs` of our feed in scope, as the peer will
 * expect them, flipping the last signature byte of the first before the
 * next is chained over its id.  0 or -1. */
static int forge_run(mm_home_t *home, const uint8_t scope_id[32], uint64_t theirs, int n,
                     uint8_t out[][FORGED_CAP], size_t *outlen)
{
    static const char text[] = "written by mm_rogue";
    const uint8_t *dev = mm_keypair_pk(mm_home_device(home));
    uint8_t body[64];
    mm_mp_writer_t w;
    mm_txn_t *txn = NULL;
    mm_scope_t sc;
    mm_head_t mine, head = { 0, { 0 } };
    mm_entry_t e;
    const uint8_t *buf;
    size_t len;
    int rc;
    memset(&sc, 0, sizeof sc);
    mm_mp_writer_init(&w, body, sizeof body);
    mm_mp_put_map(&w, 2);
    mm_mp_put_cstr(&w, "t");
    mm_mp_put_cstr(&w, MM_T_NOTE);
    mm_mp_put_cstr(&w, "text");
    mm_mp_put_cstr(&w, text);
    if ((rc = mm_mp_writer_status(&w)) || (rc = mm_store_begin(mm_home_store(home), 0, &txn))
        || (rc = mm_log_head(txn, dev, scope_id, &mine)) || (rc = mm_scope_get(txn, scope_id, &sc)))
        goto out;
    if (theirs > mine.seq) {
        fprintf(stderr, "mm_rogue: the peer holds seq %llu of our feed, we only %llu\n",
                (unsigned long long) theirs, (unsigned long long) mine.seq);
        rc = MM_ECORRUPT;
        goto out;
    }
    head.seq = theirs;
    if (theirs > 0) {
        if ((rc = mm_log_get(txn, dev, scope_id, theirs, &buf, &len))
            || (rc = mm_entry_parse(buf, len, &e)))
            goto out;
        memcpy(head.id, e.id, sizeof head.id);
    }
    for (int i = 0; i < n; i++) {
        if ((rc = mm_entry_seal(mm_home_device(home), &sc, &head, mm_now_ms(), NULL, body,
                                w.len, out[i], FORGED_CAP, &outlen[i])))
            goto out;
        if (i == 0)
            out[0][outlen[0] - 1] ^= 0x01;  /* the signature is the last field */
        head.seq++;
        mm_hash(head.id, out[i], outlen[i]);    /* the next is chained over these bytes */
    }
out:
    mm_scope_wipe(&sc);
    mm_txn_abort(&txn);
    if (rc)
        fprintf(stderr, "mm_rogue: cannot build the entries: %s\n", mm_strerror(rc));
    return rc ? -1 : 0;
}

/* HELLO, HAVE, the peer's HAVE (to learn how much of our feed it holds),
 * then a forged run of n entries in one ENTRIES frame.  0 once it is sent;
 * 1 if the peer's answer came first (printed: its ERROR or the
 * connection's fate); -1 on a local failure (on stderr). */
static int send_bad_run(link_t *l, mm_home_t *home, const mm_peer_t *p, uint64_t deadline,
                        mm_msg_t *m, int n)
{
    const uint8_t *dev = mm_keypair_pk(mm_home_device(home));
    uint8_t frame[SMALL_FRAME], entries[FORGED_MAX][FORGED_CAP];
    size_t lens[FORGED_MAX];
    uint64_t theirs = 0;
    mm_have_t h;
    int last = 0;
    if (send_hello_have(l, home, frame))
        return -1;
    while (!last) {
        ev_t ev = link_wait(l, deadline);
        if (ev == EV_READY)
            continue;
        if (ev != EV_FRAME) {
            printf("%s\n", ev_word(ev));
            return 1;
        }
        if (mm_wire_decode(zmq_msg_data(&l->msg), zmq_msg_size(&l->msg), m))
            continue;
        if (m->type == MM_MSG_ERROR) {
            print_error(m);
            return 1;
        }
        if (m->type != MM_MSG_HAVE)
            continue;
        while (mm_wire_have_next(m, &h))
            if (!memcmp(h.author, dev, 32) && !memcmp(h.scope, p->scope, 32))
                theirs = h.seq;
        last = m->u.have.last;
    }
    if (forge_run(home, p->scope, theirs, n, entries, lens))
        return -1;
    mm_mp_writer_t w;
    mm_mp_writer_init(&w, frame, sizeof frame);
    mm_wire_entries_begin(&w, (uint32_t) n);
    for (int i = 0; i < n; i++)
        mm_wire_entries_add(&w, entries[i], lens[i]);
    return mm_mp_writer_status(&w) ? -1 : link_send(l, w.buf, w.len);
}

/* ---- a slow reader ---- */

static void pause_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long) (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* HELLO, last HAVE, DONE: we have nothing to send.  Then ACK each ENTRIES
 * frame every_ms after it came, until the peer's DONE ("done") or ERROR. */
static void slow_ack(link_t *l, mm_home_t *home, uint64_t deadline, int every_ms, mm_msg_t *m)
{
    uint8_t frame[SMALL_FRAME];
    mm_mp_writer_t w;
    if (send_hello_have(l, home, frame)) {
        printf("error\n");
        return;
    }
    mm_mp_writer_init(&w, frame, sizeof frame);
    mm_wire_done(&w);
    if (link_send(l, w.buf, w.len)) {
        printf("error\n");
        return;
    }
    while (1) {
        ev_t ev = link_wait(l, deadline);
        if (ev == EV_READY)
            continue;
        if (ev != EV_FRAME) {
            printf("%s\n", ev_word(ev));
            return;
        }
        if (mm_wire_decode(zmq_msg_data(&l->msg), zmq_msg_size(&l->msg), m)) {
            printf("undecodable-answer\n");
            return;
        }
        if (m->type == MM_MSG_ERROR) {
            print_error(m);
            return;
        }
        if (m->type == MM_MSG_DONE) {
            printf("done\n");
            return;
        }
        if (m->type != MM_MSG_ENTRIES)
            continue;
        pause_ms(every_ms);
        mm_mp_writer_init(&w, frame, sizeof frame);
        mm_wire_ack(&w, 1);
        if (link_send(l, w.buf, w.len)) {
            printf("error\n");
            return;
        }
    }
}

/* ---- floods of certificates ---- */

/* A version-2 certificate of a fresh device by this home's identity key,
 * into cert; the device's key pair into *dev (the caller destroys it). */
static int fresh_cert(const mm_keypair_t *idk, uint32_t i, mm_keypair_t **dev, uint8_t *cert,
                      size_t *len)
{
    char name[24];                  /* "flood-" and any uint32 */
    snprintf(name, sizeof name, "flood-%u", (unsigned) i);
    if (!(*dev = mm_keypair_new()))
        return MM_ENOMEM;
    return mm_cert_make(idk, *dev, mm_now_ms(), name, 0, cert, MM_CERT_MAX, len);
}

/* One entry, seq 1 of dev's feed in scope. */
static int first_entry(mm_home_t *home, const mm_keypair_t *dev, const uint8_t scope_id[32],
                       uint8_t *out, size_t *outlen)
{
    static const char text[] = "a device of a flood";
    uint8_t body[64];
    mm_mp_writer_t w;
    mm_txn_t *txn = NULL;
    mm_scope_t sc;
    mm_head_t head = { 0, { 0 } };
    memset(&sc, 0, sizeof sc);
    mm_mp_writer_init(&w, body, sizeof body);
    mm_mp_put_map(&w, 2);
    mm_mp_put_cstr(&w, "t");
    mm_mp_put_cstr(&w, MM_T_NOTE);
    mm_mp_put_cstr(&w, "text");
    mm_mp_put_cstr(&w, text);
    int rc = mm_mp_writer_status(&w);
    if (rc == MM_OK && (rc = mm_store_begin(mm_home_store(home), 0, &txn)) == MM_OK
        && (rc = mm_scope_get(txn, scope_id, &sc)) == MM_OK)
        rc = mm_entry_seal(dev, &sc, &head, mm_now_ms(), NULL, body, w.len, out, FORGED_CAP,
                           outlen);
    mm_scope_wipe(&sc);
    mm_txn_abort(&txn);
    return rc;
}

/* Read frames until ERROR (1), the peer's DONE (0, or 1 with want_ack
 * set) or, with want_ack, an ACK (2); ENTRIES are acknowledged as they
 * come.  -1: the connection's fate.  What ended it goes into verdict. */
static int next_answer(link_t *l, uint64_t deadline, mm_msg_t *m, int want_ack,
                       char *verdict, size_t cap)
{
    uint8_t frame[64];
    mm_mp_writer_t w;
    while (1) {
        ev_t ev = link_wait(l, deadline);
        if (ev == EV_READY)
            continue;
        if (ev != EV_FRAME) {
            snprintf(verdict, cap, "%s", ev_word(ev));
            return -1;
        }
        if (mm_wire_decode(zmq_msg_data(&l->msg), zmq_msg_size(&l->msg), m))
            continue;
        if (m->type == MM_MSG_ERROR) {
            format_error(m, verdict, cap);
            return 1;
        }
        if (m->type == MM_MSG_DONE) {
            snprintf(verdict, cap, "done");
            return want_ack ? 1 : 0;
        }
        if (m->type == MM_MSG_ACK && want_ack)
            return 2;
        if (m->type == MM_MSG_ENTRIES) {
            mm_mp_writer_init(&w, frame, sizeof frame);
            mm_wire_ack(&w, 1);
            if (link_send(l, w.buf, w.len))
                return -1;
        }
    }
}

static int send_done(link_t *l)
{
    uint8_t frame[16];
    mm_mp_writer_t w;
    mm_mp_writer_init(&w, frame, sizeof frame);
    mm_wire_done(&w);
    return link_send(l, w.buf, w.len);
}

/* cert-flood (runs 0), cert-runs (runs 1) or devices-flood (devices 1). */
static int run_flood(link_t *l, mm_home_t *home, const mm_peer_t *p, uint64_t deadline,
                     mm_msg_t *m, uint32_t count, int runs, int devices)
{
    static uint8_t frame[SMALL_FRAME + MM_DEVICE_CERTS_MAX * MM_CERT_MAX];
    static uint8_t certs[MM_DEVICE_CERTS_MAX][MM_CERT_MAX];
    size_t lens[MM_DEVICE_CERTS_MAX];
    mm_keypair_t *idk = NULL, *dev = NULL;
    mm_mp_writer_t w;
    uint32_t stored = 0;
    char verdict[1100];
    int rc = mm_home_identity_key(home, &idk);
    if (rc) {
        fprintf(stderr, "mm_rogue: a flood needs this home's identity key: %s\n",
                mm_strerror(rc));
        return -1;
    }
    if (send_hello(l, home, frame))
        goto fail;
    if (devices) {
        mm_mp_writer_init(&w, frame, sizeof frame);
        mm_wire_devices_begin(&w);
        for (uint32_t i = 0; i < count; i++) {
            if ((rc = fresh_cert(idk, i, &dev, certs[i], &lens[i])))
                goto fail;
            mm_keypair_destroy(&dev);
        }
        mm_wire_devices_list(&w, count);
        for (uint32_t i = 0; i < count; i++)
            mm_wire_devices_add(&w, certs[i], lens[i]);
        mm_wire_devices_list(&w, 0);
        mm_wire_devices_list(&w, 0);
        if (mm_mp_writer_status(&w) || link_send(l, w.buf, w.len))
            goto fail;
    }
    if (send_have(l, frame, 1, 0))
        goto fail;
    for (uint32_t i = 0; !devices && i < count; i++) {
        uint8_t entry[FORGED_CAP];
        size_t elen;
        if ((rc = fresh_cert(idk, i, &dev, certs[0], &lens[0])))
            goto fail;
        mm_mp_writer_init(&w, frame, sizeof frame);
        mm_wire_cert(&w, certs[0], lens[0]);
        if (mm_mp_writer_status(&w) || link_send(l, w.buf, w.len))
            goto fail;
        if (runs) {
            if ((rc = first_entry(home, dev, p->scope, entry, &elen)))
                goto fail;
            mm_mp_writer_init(&w, frame, sizeof frame);
            mm_wire_entries_begin(&w, 1);
            mm_wire_entries_add(&w, entry, elen);
            if (mm_mp_writer_status(&w) || link_send(l, w.buf, w.len))
                goto fail;
            int a = next_answer(l, deadline, m, 1, verdict, sizeof verdict);
            if (a != 2) {
                mm_keypair_destroy(&dev);
                mm_keypair_destroy(&idk);
                printf("stored %u\n%s\n", (unsigned) stored, verdict);
                return 1;
            }
            stored++;
        }
        mm_keypair_destroy(&dev);
    }
    if (runs)
        printf("stored %u\n", (unsigned) stored);
    mm_keypair_destroy(&idk);
    if (send_done(l))
        return -1;
    next_answer(l, deadline, m, 0, verdict, sizeof verdict);
    printf("%s\n", verdict);
    return 0;
fail:
    if (rc)
        fprintf(stderr, "mm_rogue: cannot build the flood: %s\n", mm_strerror(rc));
    mm_keypair_destroy(&dev);
    mm_keypair_destroy(&idk);
    return -1;
}

/* ---- holding sessions open ---- */

#define HOLD_MAX 256

typedef struct {
    int    sessions, every_ms;      /* --sessions, --every */
    uint32_t feeds;                 /* --feeds */
    uint32_t count;                 /* --count */
} hold_opts_t;

typedef struct {
    link_t l;
    int    open;                    /* the link exists */
    int    held;                    /* the peer answered HELLO and has not ended it */
    char   verdict[1100];
} held_t;

/* One answer on h's link: the verdict is set unless it was a frame other
 * than ERROR (or the handshake's end, which says nothing). */
static void hold_answer(held_t *h, ev_t ev, mm_msg_t *m)
{
    if (ev == EV_READY)
        return;
    if (ev != EV_FRAME) {
        snprintf(h->verdict, sizeof h->verdict, "%s", ev_word(ev));
        h->held = 0;
        return;
    }
    if (mm_wire_decode(zmq_msg_data(&h->l.msg), zmq_msg_size(&h->l.msg), m)) {
        snprintf(h->verdict, sizeof h->verdict, "undecodable-answer");
        h->held = 0;
    } else if (m->type == MM_MSG_ERROR) {
        format_error(m, h->verdict, sizeof h->verdict);
        h->held = 0;
    }
}

static int run_hold(mm_home_t *home, const char *endpoint, const uint8_t server_x[32],
                    const uint8_t pk[32], const uint8_t sk[32], const hold_opts_t *o,
                    uint64_t deadline, mm_msg_t *m)
{
    uint8_t frame[SMALL_FRAME];
    held_t *hs = calloc((size_t) o->sessions, sizeof *hs);
    int ex = 0, nheld = 0;
    if (!hs) {
        fprintf(stderr, "mm_rogue: out of memory\n");
        return 1;
    }
    /* open them one by one, each answered before the next */
    for (int i = 0; i < o->sessions; i++) {
        held_t *h = &hs[i];
        snprintf(h->verdict, sizeof h->verdict, "timeout");
        if (link_open(&h->l, endpoint, server_x, pk, sk)) {
            ex = 1;
            break;
        }
        h->open = 1;
        ev_t ev = link_wait(&h->l, deadline);
        if (ev != EV_READY) {
            hold_answer(h, ev, m);
            ex = 1;
            continue;
        }
        if (send_hello(&h->l, home, frame)) {
            ex = 1;
            break;
        }
        ev = link_wait(&h->l, deadline);
        if (ev == EV_FRAME && mm_wire_decode(zmq_msg_data(&h->l.msg), zmq_msg_size(&h->l.msg),
                                             m) == MM_OK && m->type == MM_MSG_HELLO) {
            h->held = 1;
            nheld++;
            continue;
        }
        hold_answer(h, ev, m);
    }
    printf("holding %d of %d\n", nheld, o->sessions);
    fflush(stdout);
    /* keep them open: a non-last HAVE on each every every_ms */
    zmq_pollitem_t *items = calloc(2 * (size_t) o->sessions, sizeof *items);
    int *who = calloc(2 * (size_t) o->sessions, sizeof *who);
    uint64_t next = mm_now_ms();
    while (items && who && mm_now_ms() < deadline) {
        int n = 0;
        if (mm_now_ms() >= next) {
            for (int i = 0; i < o->sessions; i++)
                if (hs[i].held && send_have(&hs[i].l, frame, 0, o->feeds)) {
                    snprintf(hs[i].verdict, sizeof hs[i].verdict, "send-failed");
                    hs[i].held = 0;
                }
            next += (uint64_t) o->every_ms;
        }
        for (int i = 0; i < o->sessions; i++)
            if (hs[i].held) {
                items[n] = (zmq_pollitem_t) { hs[i].l.sock, 0, ZMQ_POLLIN, 0 };
                who[n++] = i;
                items[n] = (zmq_pollitem_t) { hs[i].l.mon, 0, ZMQ_POLLIN, 0 };
                who[n++] = i;
            }
        uint64_t now = mm_now_ms(), until = next < deadline ? next : deadline;
        if (zmq_poll(items, n, now < until ? (long) (until - now) : 0) < 0)
            break;
        for (int k = 0; k < n; k++) {
            held_t *h = &hs[who[k]];
            if (!(items[k].revents & ZMQ_POLLIN) || !h->held)
                continue;
            if (k % 2 == 0)
                hold_answer(h, zmq_msg_recv(&h->l.msg, h->l.sock, 0) < 0 ? EV_ERROR : EV_FRAME,
                            m);
            else
                hold_answer(h, monitor_event(&h->l), m);
        }
    }
    free(items);
    free(who);
    for (int i = 0; i < o->sessions; i++) {
        if (hs[i].held)
            snprintf(hs[i].verdict, sizeof hs[i].verdict, "held");
        printf("%s\n", hs[i].verdict);
        if (hs[i].open)
            link_close(&hs[i].l);
    }
    free(hs);
    return ex;
}

/* ---- the two modes ---- */

static int run_send(const char *home_path, const char *who, const char *kind,
                    const char *endpoint, int timeout_ms, const hold_opts_t *o)
{
    static const uint8_t bigcount[] = { 0xdd, 0xff, 0xff, 0xff, 0xff };
    mm_home_t *home = NULL;
    mm_txn_t *txn = NULL;
    mm_peer_t p;
    mm_msg_t *m = NULL;
    link_t l;
    uint8_t pk[32], sk[32], server_x[32];
    uint8_t *big = NULL;
    int ex = 1, rc, opened = 0;
    uint64_t deadline = mm_now_ms() + (uint64_t) timeout_ms;
    if ((rc = mm_home_open(home_path, &home))) {
        fprintf(stderr, "mm_rogue: cannot open home %s: %s\n", home_path, mm_strerror(rc));
        goto out;
    }
    if ((rc = mm_store_begin(mm_home_store(home), 0, &txn)) == MM_OK)
        rc = mm_peer_find(txn, who, &p);
    mm_txn_abort(&txn);
    if (rc) {
        fprintf(stderr, "mm_rogue: no peer '%s': %s\n", who, mm_strerror(rc));
        goto out;
    }
    if (!endpoint && p.nendpoints == 0) {
        fprintf(stderr, "mm_rogue: peer '%s' has no endpoint; give --endpoint\n", who);
        goto out;
    }
    if (!(m = malloc(sizeof *m)) || mm_pk_to_x25519(server_x, p.device)) {
        fprintf(stderr, "mm_rogue: out of memory or bad peer device key\n");
        goto out;
    }
    mm_keypair_x25519(mm_home_device(home), pk, sk);
    if (!strcmp(kind, "hold")) {
        ex = run_hold(home, endpoint ? endpoint : p.endpoints[0], server_x, pk, sk, o,
                      deadline, m);
        sodium_memzero(sk, sizeof sk);
        goto out;
    }
    rc = link_open(&l, endpoint ? endpoint : p.endpoints[0], server_x, pk, sk);
    sodium_memzero(sk, sizeof sk);
    if (rc)
        goto out;
    opened = 1;
    ev_t ev = link_wait(&l, deadline);
    if (ev != EV_READY) {
        printf("%s\n", ev == EV_FRAME ? "frame-before-handshake" : ev_word(ev));
        goto out;
    }
    if (!strcmp(kind, "slow-ack")) {
        ex = 0;
        slow_ack(&l, home, deadline, o->every_ms, m);
        goto out;
    }
    if (!strcmp(kind, "cert-flood") || !strcmp(kind, "cert-runs")
        || !strcmp(kind, "devices-flood")) {
        rc = run_flood(&l, home, &p, deadline, m, o->count, !strcmp(kind, "cert-runs"),
                       !strcmp(kind, "devices-flood"));
        ex = rc < 0 ? 1 : 0;
        goto out;
    }
    int run = !strcmp(kind, "hello-then-badentry") ? 1
            : !strcmp(kind, "hello-then-badrun") ? 2 : 0;
    if (run) {
        if ((rc = send_bad_run(&l, home, &p, deadline, m, run))) {
            ex = rc > 0 ? 0 : 1;    /* answered early: we did talk */
            goto out;
        }
    } else if (!strcmp(kind, "garbage") || !strcmp(kind, "stray")) {
        uint8_t junk[GARBAGE_BYTES];
        mm_random_bytes(junk, sizeof junk);
        junk[0] = 0xc1;             /* "never used" in msgpack: never valid */
        if (link_send(&l, junk, sizeof junk))
            goto out;
    } else if (!strcmp(kind, "bigcount")) {
        if (link_send(&l, bigcount, sizeof bigcount))
            goto out;
    } else {                        /* oversize, checked by main */
        size_t n = MM_FRAME_MAX + 4096;
        if (!(big = malloc(n))) {
            fprintf(stderr, "mm_rogue: out of memory\n");
            goto out;
        }
        mm_random_bytes(big, n);
        if (link_send(&l, big, n))
            goto out;
    }
    ex = 0;                         /* we talked; now report the answer */
    await_verdict(&l, deadline, m, run);
    if (!strcmp(kind, "stray")) {   /* a frame already in flight when the ERROR came */
        uint8_t junk[GARBAGE_BYTES];
        mm_random_bytes(junk, sizeof junk);
        junk[0] = 0xc1;
        if (link_send(&l, junk, sizeof junk))
            goto out;
        await_verdict(&l, mm_now_ms() + 1000, m, 0);
    }
out:
    fflush(stdout);
    if (opened)
        link_close(&l);
    free(big);
    free(m);
    mm_home_close(&home);
    return ex;
}

static int run_curve_random(const char *endpoint, const char *devcode, int timeout_ms)
{
    uint8_t dev[32], server_x[32], pk[32], sk[32];
    link_t l;
    if (mm_idcode_decode(devcode, MM_IDCODE_DEVICE, dev) || mm_pk_to_x25519(server_x, dev)) {
        fprintf(stderr, "mm_rogue: '%s' is not a device code (mmd...)\n", devcode);
        return 2;
    }
    crypto_box_keypair(pk, sk);     /* X25519: a CURVE key nobody admitted */
    int rc = link_open(&l, endpoint, server_x, pk, sk);
    sodium_memzero(sk, sizeof sk);
    if (rc)
        return 1;
    ev_t ev = link_wait(&l, mm_now_ms() + (uint64_t) timeout_ms);
    printf("%s\n", ev == EV_FRAME ? "admitted" : ev_word(ev));
    fflush(stdout);
    link_close(&l);
    return ev == EV_TIMEOUT || ev == EV_ERROR ? 1 : 0;
}

static int usage(void)
{
    fprintf(stderr,
            "usage: mm_rogue --home DIR --peer PEER --send KIND [--endpoint EP] [--timeout MS]\n"
            "                [--routing-id ID] [--sessions N] [--every MS] [--feeds K]\n"
            "                [--count N]\n"
            "       mm_rogue --curve-random ENDPOINT SERVER_DEVICE_CODE [--timeout MS]\n"
            "KIND: garbage, bigcount, oversize, stray, hello-then-badentry, hello-then-badrun,\n"
            "      slow-ack, hold, cert-flood, cert-runs, devices-flood [--count N]\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *home = NULL, *peer = NULL, *kind = NULL, *endpoint = NULL;
    const char *crandom_ep = NULL, *crandom_dev = NULL;
    int timeout_ms = TIMEOUT_DEFAULT_MS;
    hold_opts_t o = { 1, 1000, 0, 100 };
    for (int i = 1; i < argc; i += 2) {     /* options all take a value */
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            return usage();
        if (!strcmp(a, "--home"))
            home = v;
        else if (!strcmp(a, "--peer"))
            peer = v;
        else if (!strcmp(a, "--send"))
            kind = v;
        else if (!strcmp(a, "--endpoint"))
            endpoint = v;
        else if (!strcmp(a, "--routing-id"))
            routing_id = v;
        else if (!strcmp(a, "--count")) {
            char *end;
            long t = strtol(v, &end, 10);
            if (*end || t < 1 || t > 100000)
                return usage();
            o.count = (uint32_t) t;
        } else if (!strcmp(a, "--timeout") || !strcmp(a, "--sessions") || !strcmp(a, "--every")
                 || !strcmp(a, "--feeds")) {
            char *end;
            long t = strtol(v, &end, 10);
            if (*end || t < 0 || t > 3600000 || (t == 0 && strcmp(a, "--feeds")))
                return usage();
            if (!strcmp(a, "--timeout"))
                timeout_ms = (int) t;
            else if (!strcmp(a, "--sessions"))
                o.sessions = (int) t;
            else if (!strcmp(a, "--every"))
                o.every_ms = (int) t;
            else
                o.feeds = (uint32_t) t;
        } else if (!strcmp(a, "--curve-random") && i + 2 < argc) {
            crandom_ep = v;         /* two values: step over one more */
            crandom_dev = argv[++i + 1];
        } else
            return usage();
    }
    if (mm_crypto_init() != MM_OK) {
        fprintf(stderr, "mm_rogue: cannot initialise libsodium\n");
        return 1;
    }
    if (crandom_ep)
        return home || peer || kind ? usage() : run_curve_random(crandom_ep, crandom_dev,
                                                                 timeout_ms);
    if (!home || !peer || !kind
        || (strcmp(kind, "garbage") && strcmp(kind, "bigcount") && strcmp(kind, "oversize")
            && strcmp(kind, "stray") && strcmp(kind, "slow-ack") && strcmp(kind, "hold")
            && strcmp(kind, "hello-then-badentry") && strcmp(kind, "hello-then-badrun")
            && strcmp(kind, "cert-flood") && strcmp(kind, "cert-runs")
            && strcmp(kind, "devices-flood"))
        || (!strcmp(kind, "devices-flood") && o.count > MM_DEVICE_CERTS_MAX)
        || o.sessions > HOLD_MAX || o.feeds > 64 || (routing_id && o.sessions != 1))
        return usage();
    return run_send(home, peer, kind, endpoint, timeout_ms, &o);
}
