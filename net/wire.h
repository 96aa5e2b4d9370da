/*  wire.h -- sync protocol messages: encoding and bounded decoding.
 *
 *  Every ZeroMQ message of a session is one frame holding one msgpack
 *  array whose first element is the message type as a string.  Decoding
 *  never allocates: pointers point into the frame, every count is checked
 *  against the bytes that remain and against the limits below before use.
 *  See PROTOCOL.md, "Sync protocol".
 */
#ifndef MM_WIRE_H
#define MM_WIRE_H

#include <stddef.h>
#include "crypto/error.h"
#include <stdint.h>
#include "core/mp.h"
#include "core/device.h"
#include "core/mailbox.h"

#define MM_PROTO_VERSION   2
#define MM_FRAME_MAX       (4u << 20)   /* also ZMQ_MAXMSGSIZE */
#define MM_RUN_BYTES       (2u << 20)   /* a sender fills ENTRIES frames up to this */
#define MM_RUN_MAX         4096         /* entries in one ENTRIES frame (one commit each) */
#define MM_HAVE_MAX        16384        /* feeds in one HAVE frame */
#define MM_REFUSE_MAX      256          /* identities in one HAVE frame */
#define MM_CREDIT_INITIAL  4            /* ENTRIES frames in flight per direction */
#define MM_NAME_WIRE_MAX   64
#define MM_FORK_ENTRIES_MAX 2         /* a challenge (1) or a proof (2) */

/* DEVICES: statements in one frame (all three lists at their largest fit
 * MM_RUN_BYTES: 512 x 278 + 32 x 45,206 + 256 x 1,140 < 2 MiB) */
#define MM_DEVICES_CERTS_MAX     MM_DEVICE_CERTS_MAX
#define MM_DEVICES_REVOKES_MAX   MM_DEVICE_REVOKES_MAX
#define MM_DEVICES_ENDPOINTS_MAX MM_DEVICE_ENDPOINTS_MAX

typedef enum {
    MM_MSG_HELLO = 1, MM_MSG_HAVE, MM_MSG_CERT, MM_MSG_ENTRIES, MM_MSG_ACK,
    MM_MSG_DONE, MM_MSG_ERROR, MM_MSG_ACCEPT, MM_MSG_WELCOME, MM_MSG_FORK, MM_MSG_DEVICES,
    MM_MSG_SCOPES, MM_MSG_LINK, MM_MSG_CONSENT, MM_MSG_CERTIFY, /* mailboxes (PROTOCOL.md 14) */
} mm_msg_type_t;

/* The three lists of a DEVICES message. */
#define MM_DEVICES_CERTS     0
#define MM_DEVICES_REVOKES   1
#define MM_DEVICES_ENDPOINTS 2

typedef struct {
    uint8_t  author[32];
    uint8_t  scope[32];
    uint64_t seq;
    uint8_t  head[32];              /* id of the sender's entry at seq */
} mm_have_t;

/* A decoded message; pointers point into the frame. */
typedef struct {
    mm_msg_type_t type;
    union {
        struct { uint64_t version; const uint8_t *cert; uint32_t certlen;
                 const char *name; uint32_t namelen; } hello;
        struct { int last; uint32_t n; const uint8_t *feeds;     /* n x 4-array, re-read */
                 uint32_t nrefuse; const uint8_t *refuse; size_t refuselen; } have;
        struct { const uint8_t *cert; uint32_t certlen; } cert;
        struct { uint32_t n; const uint8_t *bufs[MM_RUN_MAX]; size_t lens[MM_RUN_MAX]; } entries;
        struct { uint64_t frames; } ack;
        struct { const char *code; uint32_t codelen; const char *text; uint32_t textlen; } error;
        struct { const uint8_t *cert; uint32_t certlen; const char *name; uint32_t namelen;
                 const uint8_t *sig; } accept;
        struct { const uint8_t *cert; uint32_t certlen; const char *name; uint32_t namelen;
                 const uint8_t *scope; const uint8_t *key; uint64_t role; } welcome;
        struct { uint32_t n; const uint8_t *bufs[MM_FORK_ENTRIES_MAX];
                 size_t lens[MM_FORK_ENTRIES_MAX]; } fork;
        struct { uint32_t n[3]; const uint8_t *pos[3], *end[3]; } devices; /* re-read */
        struct { uint32_t n; const uint8_t *pos; uint32_t nblocked;
                 const uint8_t *blocked; } scopes;                  /* re-read */
        struct { const uint8_t *identity; const char *name; uint32_t namelen; } link;
        struct { const uint8_t *devsig; } consent;
        struct { const uint8_t *cert; uint32_t certlen; const char *name; uint32_t namelen; } certify;
    } u;
    const uint8_t *have_pos;        /* for mm_wire_have_next */
    const uint8_t *have_end;
} mm_msg_t;

/* Decode one frame.  MM_OK; MM_ETOOBIG (over MM_FRAME_MAX or a limit);
 * MM_ETRUNC, MM_ETRAILING, MM_EMALFORMED, MM_ENONCANON; MM_EPROTO (unknown
 * type).  For HAVE, the feeds are validated here and read with
 * mm_wire_have_next. */
int mm_wire_decode(const uint8_t *buf, size_t len, mm_msg_t *m) MM_NODISCARD;

/* Next feed of a decoded HAVE: 1 and *h filled, or 0 at the end. */
int mm_wire_have_next(mm_msg_t *m, mm_have_t *h) MM_NODISCARD;

/* i-th refused identity of a decoded HAVE (i < nrefuse). */
const uint8_t *mm_wire_refuse(const mm_msg_t *m, uint32_t i);

/* Next statement of list (MM_DEVICES_*) of a decoded DEVICES: 1 with *p,
 * *len pointing into the frame, or 0 at the end of the list. */
int mm_wire_devices_next(mm_msg_t *m, int list, const uint8_t **p, uint32_t *len) MM_NODISCARD;

/* The scopes and blocked identities of a decoded SCOPES, copied into *t
 * (which the caller frees with mm_mailbox_told_free).  MM_OK; MM_ENOMEM. */
int mm_wire_scopes_told(const mm_msg_t *m, mm_mailbox_told_t *t) MM_NODISCARD;

/* Encoders write into w (see mp.h); check mm_mp_writer_status once. */
/* SCOPES (an owner's device to its mailbox, PROTOCOL.md 14):
 * ["scopes", [[scope, [member...]]...], [blocked identity...]] */
void mm_wire_scopes(mm_mp_writer_t *w, const mm_mailbox_told_t *t);
/* LINK ["link", identity, name] and CONSENT ["consent", devsig]: the link
 * exchange (PROTOCOL.md 14.3). */
void mm_wire_link(mm_mp_writer_t *w, const uint8_t identity[32], const char *name);
void mm_wire_consent(mm_mp_writer_t *w, const uint8_t devsig[64]);
/* CERTIFY ["certify", cert, owner's name]: the link exchange's second frame. */
void mm_wire_certify(mm_mp_writer_t *w, const uint8_t *cert, size_t certlen, const char *name);
void mm_wire_hello(mm_mp_writer_t *w, const uint8_t *cert, size_t certlen, const char *name);
void mm_wire_have_begin(mm_mp_writer_t *w, int last, uint32_t n);
void mm_wire_have_feed(mm_mp_writer_t *w, const mm_have_t *h);
void mm_wire_have_end(mm_mp_writer_t *w, const uint8_t (*refuse)[32], uint32_t nrefuse);
void mm_wire_cert(mm_mp_writer_t *w, const uint8_t *cert, size_t certlen);
void mm_wire_entries_begin(mm_mp_writer_t *w, uint32_t n);
void mm_wire_entries_add(mm_mp_writer_t *w, const uint8_t *buf, size_t len);
void mm_wire_ack(mm_mp_writer_t *w, uint64_t frames);
/* DEVICES: begin, then for each list in order (certs, revokes, endpoints)
 * mm_wire_devices_list with its count and that many mm_wire_devices_add. */
void mm_wire_devices_begin(mm_mp_writer_t *w);
void mm_wire_devices_list(mm_mp_writer_t *w, uint32_t n);
void mm_wire_devices_add(mm_mp_writer_t *w, const uint8_t *buf, size_t len);
void mm_wire_done(mm_mp_writer_t *w);
void mm_wire_error(mm_mp_writer_t *w, int rc, const char *text);
void mm_wire_accept(mm_mp_writer_t *w, const uint8_t *cert, size_t certlen, const char *name,
                    const uint8_t sig[64]);
void mm_wire_welcome(mm_mp_writer_t *w, const uint8_t *cert, size_t certlen, const char *name,
                     const uint8_t scope[32], const uint8_t key[32], unsigned role);
/* FORK: n (1 or 2) entries, a challenge or a proof (PROTOCOL.md 8.7). */
void mm_wire_fork(mm_mp_writer_t *w, const uint8_t *const *bufs, const size_t *lens, uint32_t n);

/* Map an error name ("MM_EBADSIG") received in ERROR back to its code;
 * MM_EPROTO if unknown. */
int mm_wire_errcode(const char *name, size_t len) MM_NODISCARD;

#endif
