/*  zmqutil.h -- what net/'s files share (private to net/). */
#ifndef MM_ZMQUTIL_H
#define MM_ZMQUTIL_H

#include <stddef.h>
#include "crypto/error.h"
#include <stdint.h>
#include "net/net.h"

/* A new ZeroMQ context: the one mm_net_warm made, if it made one and no
 * connection took it yet (waiting for its thread), else zmq_ctx_new's. */
void *mm_zmq_ctx_new(void);

/* Options every mm socket gets: frame size limit, linger, no IPv6 surprises. */
int mm_zmq_common(void *sock) MM_NODISCARD;

/* Send one frame buf[0..len) on router to rid, without blocking (a peer
 * that does not read loses it, as any reply of serve's). */
void mm_zmq_reply(void *router, const uint8_t *rid, size_t ridlen, const uint8_t *buf,
                  size_t len);

/* mm_zmq_reply for a frame that holds a secret: zmq_send would leave a
 * copy in a buffer libzmq frees unwiped; this hands libzmq a copy of ours,
 * wiped when the frame is sent (or is not). */
void mm_zmq_reply_secret(void *router, const uint8_t *rid, size_t ridlen, const uint8_t *buf,
                         size_t len);

/* Server side of an invite: one ACCEPT frame from the holder of invite
 * key `key`; answers WELCOME or ERROR through router to rid. */
void mm_net_serve_accept(mm_home_t *home, const uint8_t key[32], const uint8_t *buf,
                         size_t len, void *router, const uint8_t *rid, size_t ridlen,
                         mm_serve_log_fn log, void *logarg);

/* Server side of a mailbox's link exchange (PROTOCOL.md 14.3): one LINK or
 * CERTIFY frame from the holder of a pending link key `key`; answers
 * CONSENT, DONE or ERROR through router to rid.  1 if the exchange on
 * this connection is over (DONE or ERROR sent), 0 if CERTIFY may follow. */
int mm_net_serve_link(mm_home_t *home, const uint8_t key[32], const uint8_t *buf, size_t len,
                      void *router, const uint8_t *rid, size_t ridlen, mm_serve_log_fn log,
                      void *logarg);

#endif
