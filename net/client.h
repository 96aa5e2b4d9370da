/*  client.h -- a CURVE client connection to one endpoint (private to net/). */
#ifndef MM_CLIENT_H
#define MM_CLIENT_H

#include <stddef.h>
#include "crypto/error.h"
#include <stdint.h>

typedef struct mm_client mm_client_t;

/* Connect to endpoint, authenticating the server as the device whose
 * Ed25519 key is server_device, with our X25519 key pair (pk, sk).
 * MM_OK, MM_ENOMEM, MM_EINVAL (bad key or endpoint), MM_EIO. */
int  mm_client_open(const char *endpoint, const uint8_t server_device[32],
                    const uint8_t pk[32], const uint8_t sk[32], mm_client_t **out) MM_NODISCARD;
/* As mm_client_open with the server's key in its X25519 form, for a
 * caller that has it already (the conversion checks the point: it costs
 * as much as a signature check).  MM_OK, MM_ENOMEM, MM_EINVAL, MM_EIO. */
int  mm_client_open_x(const char *endpoint, const uint8_t server_x[32],
                      const uint8_t pk[32], const uint8_t sk[32],
                      mm_client_t **out) MM_NODISCARD;
/* Close; with flush, wait (up to 2 s) for frames not yet delivered, as
 * after a session's last ACK and DONE; without, drop them at once, as
 * after a failure, so an unreachable peer costs no extra wait. */
void mm_client_close(mm_client_t **self_p, int flush);

/* Send one frame: MM_OK or MM_EIO. */
int  mm_client_send(void *self, const void *buf, size_t len) MM_NODISCARD;
/* Send one frame without copying it: buf (from malloc) is ZeroMQ's from
 * now on, freed once sent or on failure (mm_session_take_fn).  MM_OK;
 * MM_ENOMEM; MM_EIO. */
int  mm_client_take(void *self, void *buf, size_t len) MM_NODISCARD;

/* Wait up to timeout_ms for one frame; *buf is valid until the next call.
 * MM_OK; MM_ETIMEOUT; MM_EREFUSED (the server's authentication refused us);
 * MM_EPROTO (handshake failed: not an mm server, or the wrong key). */
int  mm_client_recv(mm_client_t *self, int timeout_ms, const uint8_t **buf, size_t *len) MM_NODISCARD;

/* Without waiting, the frame after the one mm_client_recv last returned,
 * if one is queued already: *buf is valid until the mm_client_recv after
 * next (which returns this frame), so both frames can be read at once.
 * MM_OK; MM_ENOTFOUND (none queued: the next mm_client_recv waits as
 * usual).  At most one frame is read ahead. */
int  mm_client_peek(mm_client_t *self, const uint8_t **buf, size_t *len) MM_NODISCARD;

/* Wait up to timeout_ms for the CURVE handshake to complete (the server
 * proved its key and its ZAP handler admitted ours), without reading a
 * frame.  MM_OK; MM_ETIMEOUT (nothing there, or a server that cannot
 * complete it: another key); MM_EREFUSED; MM_EPROTO. */
int  mm_client_handshake(mm_client_t *self, int timeout_ms) MM_NODISCARD;

/* From now on, a connection refused before any was made (nobody listens
 * at the endpoint, or no route to it) ends mm_client_recv and
 * mm_client_handshake with MM_ENOLISTEN at once, instead of the retries of
 * libzmq running into the timeout; and the loss of the connection after
 * its handshake ends them with MM_EIO. */
void mm_client_fail_fast(mm_client_t *self);

/* Wipe the frame last received (it held a secret).  Accepts NULL. */
void mm_client_wipe(mm_client_t *self);

#endif
