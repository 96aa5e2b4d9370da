/*  session.h -- one sync session with one remote device, either side.
 *
 *  Transport-independent: frames come in through mm_session_input and go
 *  out through the send callback, so the same engine runs behind the
 *  client's DEALER and behind each peer of the server's ROUTER.  The
 *  remote device is already authenticated by the transport (CURVE): its
 *  X25519 key is given at creation and must match the certificate it
 *  presents in HELLO.
 *
 *  Flow (PROTOCOL.md, "Sync protocol"): each side sends HELLO and HAVE (its
 *  feeds in the scopes both share with their head ids, and the identities
 *  it refuses); on the other's last HAVE each side compares heads (a feed
 *  whose entries differ at one seq is held back and answered with FORK,
 *  PROTOCOL.md 8.7, and the session then ends with MM_EFORK), then plans
 *  what the other lacks and streams it in
 *  ENTRIES frames (one run of one feed each, CERT first for a new author),
 *  at most MM_CREDIT_INITIAL unacknowledged; the receiver verifies and
 *  commits each frame, then ACKs it.  DONE says "nothing more from me".
 *  The client says DONE once its plan is sent; the server says it last:
 *  after the client's DONE it plans again, so what it wrote in response
 *  (MM_SESSION_IDLE) reaches the client in the same session.
 */
#ifndef MM_SESSION_H
#define MM_SESSION_H

#include <stddef.h>
#include "crypto/error.h"
#include <stdint.h>
#include "core/home.h"
#include "net/wire.h"

#define MM_HAVE_TOTAL_MAX 100000     /* feeds a remote may list in one session */
/* HAVE frames a remote may send in one session: enough for MM_HAVE_TOTAL_MAX
 * feeds at MM_HAVE_MAX a frame (7), so a sender fills every frame but the last. */
#define MM_HAVE_FRAMES_MAX ((MM_HAVE_TOTAL_MAX + MM_HAVE_MAX - 1) / MM_HAVE_MAX)

/* CERT frames a session holds for runs still to come (PROTOCOL.md 8.2,
 * step 3): a certificate is stored only with its author's first run. */
#define MM_SESSION_CERTS_HELD 64

typedef struct mm_session mm_session_t;

/* Send one frame to the remote.  0 on success, an MM_E code on failure. */
typedef int (*mm_session_send_fn)(void *arg, const void *buf, size_t len);

typedef struct {
    uint64_t entries_sent, entries_recv;    /* entries, recv = newly stored */
    uint64_t bytes_sent, bytes_recv;        /* entry bytes */
    uint64_t frames_sent, frames_recv;      /* ENTRIES frames */
    unsigned via;                           /* mm_net_sync: whom it reached (MM_VIA_*) */
} mm_sync_stats_t;

/* Whom mm_net_sync reached (PROTOCOL.md 14.5): a device of the person, the
 * person's mailbox, or one's own mailbox (store and forward). */
#define MM_VIA_DEVICE        0
#define MM_VIA_THEIR_MAILBOX 1
#define MM_VIA_OWN_MAILBOX   2

/* What one committed ENTRIES frame stored: entries first..last of the feed
 * (device, scope), written by identity; n newly stored (the run's earlier
 * entries may have been held already). */
typedef struct {
    const uint8_t *scope, *device, *identity;
    uint64_t       first, last;
    size_t         n;
} mm_session_stored_t;

/* A fork recorded (PROTOCOL.md 8.7): device wrote two different entries at
 * seq of its feed in scope; self: device is this home's own key. */
typedef struct {
    const uint8_t *device, *scope;
    uint64_t       seq;
    int            self;
} mm_session_fork_t;

typedef enum {
    MM_SESSION_STORED,              /* what: an mm_session_stored_t, after its commit */
    MM_SESSION_IDLE,                /* server only: the client said DONE and all it sent
                                     * is stored; entries written now still go out in
                                     * this session (what: NULL) */
    MM_SESSION_FORK,                /* a fork was verified and recorded (what: an
                                     * mm_session_fork_t); the session then ends
                                     * with MM_EFORK */
} mm_session_event_t;

/* The session tells its caller what happened; the caller hands it to core,
 * which decides what it means.  Called from inside mm_session_input. */
typedef void (*mm_session_event_fn)(void *arg, mm_session_event_t ev, const void *what);

/* A session over a transport that authenticated remote_key (X25519).
 * client: 1 for the connecting side, which must name the identity it
 * expects (its peer, or its own identity for its own device).  The server
 * admits the person itself and known, unblocked peers.
 * MM_OK or MM_ENOMEM / store errors. */
int  mm_session_new(mm_home_t *home, int client, const uint8_t remote_key[32],
                    const uint8_t *expect_identity, mm_session_send_fn send, void *arg,
                    mm_session_t **out) MM_NODISCARD;
void mm_session_destroy(mm_session_t **self_p);

/* Be told of what the session stores (fn may be NULL). */
void mm_session_on_event(mm_session_t *self, mm_session_event_fn fn, void *arg);

/* A transport that can take a frame's buffer instead of copying it
 * (ZeroMQ's zmq_msg_init_data): take(arg, buf, len) owns buf, which came
 * from malloc, whatever it returns, and frees it with free() once sent.
 * It returns what the send function would.  The session hands it its
 * ENTRIES frames (up to MM_RUN_BYTES of entry bytes each), so that they
 * are not copied once more on their way out; other frames are small and
 * go through send.  fn may be NULL (every frame through send). */
typedef int (*mm_session_take_fn)(void *arg, void *buf, size_t len);
void mm_session_on_take(mm_session_t *self, mm_session_take_fn fn);

/* Asked once the remote's HELLO certificate verified and certifies its key,
 * before the session stores anything or answers: MM_OK lets the session go
 * on; any other code ends it with an ERROR of that code and text `why`
 * (the callback writes at most cap bytes there).  Server only; fn may be
 * NULL.  This is how mm serve caps the sessions of one identity. */
typedef int (*mm_session_hello_fn)(void *arg, const uint8_t identity[32], char *why,
                                   size_t cap);
void mm_session_on_hello(mm_session_t *self, mm_session_hello_fn fn, void *arg);

/* Client only: send HELLO and HAVE. */
int  mm_session_start(mm_session_t *self) MM_NODISCARD;

/* Process one received frame, sending whatever follows from it.  MM_OK, or
 * the error that ended the session: a local one (the remote has been sent
 * ERROR with it) or the one the remote sent (see mm_session_error_text). */
int  mm_session_input(mm_session_t *self, const uint8_t *buf, size_t len) MM_NODISCARD;

/* Tell the session which frame the next mm_session_input will hand it: a
 * receive loop that found one more frame queued (read without waiting)
 * says so before the input of the current one, so that if the current
 * frame is an ENTRIES run the session can begin the next run's
 * context-free checks (structure, hashes, signatures, on the verifier
 * pool) while it commits the current one (PROTOCOL.md 8.3).  A hint for
 * the one mm_session_input that follows: buf must stay valid and unchanged
 * until the input of that next frame returns (the loop holds at most this
 * one frame ahead), and that next input must be given the same buf.  What
 * was begun is ended, never used, if it is not (or the session fails). */
void mm_session_next(mm_session_t *self, const uint8_t *buf, size_t len);

/* How many frames so far moved the session forward: HELLO; a HAVE that
 * lists a feed or is the last; an ENTRIES frame that stored an entry not
 * held before; ACK; DONE.  A CERT, an empty non-last HAVE or a run already
 * held does not: the server's idle timer restarts only when this grows
 * (PROTOCOL.md 8.6), so a remote cannot keep a session alive with frames
 * that carry nothing. */
uint64_t mm_session_progress(const mm_session_t *self);

/* 1 once both sides have said DONE and every frame sent was acknowledged. */
int  mm_session_done(const mm_session_t *self) MM_NODISCARD;

/* Text of the error the remote sent, or "" */
const char *mm_session_error_text(const mm_session_t *self);

const mm_sync_stats_t *mm_session_stats(const mm_session_t *self);

/* The remote identity, valid once its HELLO was accepted (else NULL). */
const uint8_t *mm_session_remote_identity(const mm_session_t *self);
/* The remote device (Ed25519 key its HELLO certified), likewise. */
const uint8_t *mm_session_remote_device(const mm_session_t *self);

#endif
