/*  client.c -- the connecting side: CURVE client over a DEALER socket, with
 *  a monitor to tell "refused" from "unreachable". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <zmq.h>
#include "net/client.h"
#include "net/zmqutil.h"
#include "core/log.h"
#include "crypto/error.h"

struct mm_client {
    void *ctx;
    void *sock;
    void *mon;
    zmq_msg_t msgs[2];              /* the frame returned last, and one read ahead */
    int cur;                        /* msgs[cur] is the frame returned last */
    int have_msg;
    int peeked;                     /* msgs[!cur] holds a frame (mm_client_peek) */
    int drops;                      /* handshakes cut off by the server */
    int ready;                      /* a handshake succeeded */
    int connected;                  /* a TCP connection was made */
    int fail_fast;                  /* mm_client_fail_fast: a refused connect ends it */
};

/* A server under a flood of connections closes the ones that have not
 * authenticated yet, and may close ours in the middle of its handshake;
 * libzmq then connects again.  After this many, the server is taken for
 * one that is not an mm serve (which drops every handshake). */
#define DROPS_MAX 4

int mm_client_open(const char *endpoint, const uint8_t server_device[32],
                   const uint8_t pk[32], const uint8_t sk[32], mm_client_t **out)
{
    uint8_t server_x[32];
    *out = NULL;
    if (mm_pk_to_x25519(server_x, server_device))
        return MM_EINVAL;
    return mm_client_open_x(endpoint, server_x, pk, sk, out);
}

int mm_client_open_x(const char *endpoint, const uint8_t server_x[32],
                     const uint8_t pk[32], const uint8_t sk[32], mm_client_t **out)
{
    static _Atomic int seq;         /* several threads may connect at once (net/many.c) */
    char monep[64];
    *out = NULL;
    mm_client_t *c = calloc(1, sizeof *c);
    if (!c || !(c->ctx = mm_zmq_ctx_new())) {
        free(c);
        return MM_ENOMEM;
    }
    int rc = MM_EIO;
    c->sock = zmq_socket(c->ctx, ZMQ_DEALER);
    if (!c->sock || mm_zmq_common(c->sock)
        || zmq_setsockopt(c->sock, ZMQ_CURVE_SERVERKEY, server_x, 32)
        || zmq_setsockopt(c->sock, ZMQ_CURVE_PUBLICKEY, pk, 32)
        || zmq_setsockopt(c->sock, ZMQ_CURVE_SECRETKEY, sk, 32))
        goto fail;
    snprintf(monep, sizeof monep, "inproc://mm-monitor-%d", seq++);
    if (zmq_socket_monitor(c->sock, monep, ZMQ_EVENT_HANDSHAKE_SUCCEEDED
                           | ZMQ_EVENT_CONNECTED | ZMQ_EVENT_CONNECT_RETRIED
                           | ZMQ_EVENT_DISCONNECTED
                           | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
                           | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
                           | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) != 0
        || !(c->mon = zmq_socket(c->ctx, ZMQ_PAIR)) || zmq_connect(c->mon, monep) != 0)
        goto fail;
    if (zmq_connect(c->sock, endpoint) != 0) {
        rc = MM_EINVAL;
        goto fail;
    }
    zmq_msg_init(&c->msgs[0]);
    zmq_msg_init(&c->msgs[1]);
    c->have_msg = 1;
    *out = c;
    return MM_OK;
fail:
    if (c->mon)
        zmq_close(c->mon);
    if (c->sock)
        zmq_close(c->sock);
    zmq_ctx_term(c->ctx);
    free(c);
    return rc;
}

void mm_client_close(mm_client_t **self_p, int flush)
{
    if (!self_p || !*self_p)
        return;
    mm_client_t *c = *self_p;
    if (!flush) {
        int zero = 0;
        zmq_setsockopt(c->sock, ZMQ_LINGER, &zero, sizeof zero);
    }
    if (c->have_msg) {
        zmq_msg_close(&c->msgs[0]);
        zmq_msg_close(&c->msgs[1]);
    }
    zmq_socket_monitor(c->sock, NULL, 0);
    zmq_close(c->mon);
    zmq_close(c->sock);
    zmq_ctx_term(c->ctx);
    free(c);
    *self_p = NULL;
}

int mm_client_send(void *self, const void *buf, size_t len)
{
    mm_client_t *c = self;
    return zmq_send(c->sock, buf, len, 0) == (int) len ? MM_OK : MM_EIO;
}

static void free_frame(void *data, void *hint)
{
    (void) hint;
    free(data);
}

int mm_client_take(void *self, void *buf, size_t len)
{
    mm_client_t *c = self;
    zmq_msg_t m;
    if (zmq_msg_init_data(&m, buf, len, free_frame, NULL) != 0) {
        free(buf);
        return MM_ENOMEM;
    }
    if (zmq_msg_send(&m, c->sock, 0) != (int) len) {
        zmq_msg_close(&m);          /* frees buf */
        return MM_EIO;
    }
    return MM_OK;
}

/* A monitor event: 2-byte event number, 4-byte value, then the endpoint. */
static int monitor_event(mm_client_t *c)
{
    zmq_msg_t m;
    uint16_t event = 0;
    int more;
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, c->mon, 0) >= 6)
        memcpy(&event, zmq_msg_data(&m), 2);
    more = zmq_msg_more(&m);
    zmq_msg_close(&m);
    while (more) {
        zmq_msg_init(&m);
        zmq_msg_recv(&m, c->mon, 0);
        more = zmq_msg_more(&m);
        zmq_msg_close(&m);
    }
    if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED)
        c->ready = 1;
    if (event == ZMQ_EVENT_CONNECTED)
        c->connected = 1;
    /* libzmq retries a connect that failed (refused, no route) without
     * end: before any connection was made, that is nobody listening */
    if (event == ZMQ_EVENT_CONNECT_RETRIED && !c->connected && c->fail_fast)
        return MM_ENOLISTEN;
    /* an authenticated connection gone: what was in flight is lost, and
     * libzmq's reconnection would leave us waiting for answers to it */
    if (event == ZMQ_EVENT_DISCONNECTED && c->ready && c->fail_fast)
        return MM_EIO;
    if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
        return MM_EREFUSED;
    if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL)
        return MM_EPROTO;
    if (event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)
        return ++c->drops > DROPS_MAX ? MM_EPROTO : MM_OK;
    return MM_OK;
}

int mm_client_recv(mm_client_t *c, int timeout_ms, const uint8_t **buf, size_t *len)
{
    /* a deadline, not a wait per wake-up: monitor events (a reconnect
     * every 100 ms after the server went away) must not restart it */
    uint64_t deadline = mm_mono_ms() + (uint64_t) timeout_ms;
    zmq_pollitem_t items[] = { { c->sock, 0, ZMQ_POLLIN, 0 }, { c->mon, 0, ZMQ_POLLIN, 0 } };
    if (c->peeked) {                /* read ahead by mm_client_peek: that one first */
        c->peeked = 0;
        c->cur ^= 1;
        if (zmq_msg_more(&c->msgs[c->cur]))
            return MM_EPROTO;
        *buf = zmq_msg_data(&c->msgs[c->cur]);
        *len = zmq_msg_size(&c->msgs[c->cur]);
        return MM_OK;
    }
    while (1) {
        uint64_t now = mm_mono_ms();
        int n = now >= deadline ? 0 : zmq_poll(items, 2, (long) (deadline - now));
        if (n < 0)
            return MM_EIO;
        if (n == 0)
            return MM_ETIMEOUT;
        if (items[1].revents & ZMQ_POLLIN) {
            int rc = monitor_event(c);
            if (rc)
                return rc;
        }
        if (items[0].revents & ZMQ_POLLIN) {
            zmq_msg_t *m = &c->msgs[c->cur];
            if (zmq_msg_recv(m, c->sock, 0) < 0)
                return MM_EIO;
            if (zmq_msg_more(m))
                return MM_EPROTO;   /* mm speaks single-frame messages */
            *buf = zmq_msg_data(m);
            *len = zmq_msg_size(m);
            return MM_OK;
        }
    }
}

int mm_client_peek(mm_client_t *c, const uint8_t **buf, size_t *len)
{
    if (!c->peeked) {
        if (zmq_msg_recv(&c->msgs[!c->cur], c->sock, ZMQ_DONTWAIT) < 0)
            return MM_ENOTFOUND;    /* nothing queued (or a fault the next recv meets) */
        c->peeked = 1;
    }
    zmq_msg_t *m = &c->msgs[!c->cur];
    if (zmq_msg_more(m))
        return MM_ENOTFOUND;        /* mm_client_recv refuses it */
    *buf = zmq_msg_data(m);
    *len = zmq_msg_size(m);
    return MM_OK;
}

int mm_client_handshake(mm_client_t *c, int timeout_ms)
{
    uint64_t deadline = mm_mono_ms() + (uint64_t) timeout_ms;
    zmq_pollitem_t item = { c->mon, 0, ZMQ_POLLIN, 0 };
    while (!c->ready) {
        uint64_t now = mm_mono_ms();
        if (now >= deadline)
            return MM_ETIMEOUT;
        int n = zmq_poll(&item, 1, (long) (deadline - now));
        if (n < 0)
            return MM_EIO;
        if (n > 0) {
            int rc = monitor_event(c);
            if (rc)
                return rc;
        }
    }
    return MM_OK;
}

void mm_client_fail_fast(mm_client_t *c)
{
    c->fail_fast = 1;
}

void mm_client_wipe(mm_client_t *c)
{
    for (int i = 0; c && c->have_msg && i < 2; i++)   /* a frame read ahead too */
        if (zmq_msg_size(&c->msgs[i]))
            sodium_memzero(zmq_msg_data(&c->msgs[i]), zmq_msg_size(&c->msgs[i]));
}
