#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <zmq.h>
#include "net/zmqutil.h"
#include "net/wire.h"
#include "crypto/error.h"

int mm_zmq_common(void *sock)
{
    int64_t max = MM_FRAME_MAX;
    int linger = 2000, one = 1;
    if (zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &max, sizeof max)
        || zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger))
        return MM_EIO;
    /* a ROUTER must say when it cannot deliver rather than drop silently */
    int type;
    size_t tl = sizeof type;
    if (zmq_getsockopt(sock, ZMQ_TYPE, &type, &tl) == 0 && type == ZMQ_ROUTER
        && zmq_setsockopt(sock, ZMQ_ROUTER_MANDATORY, &one, sizeof one))
        return MM_EIO;
    return MM_OK;
}

void mm_zmq_reply(void *router, const uint8_t *rid, size_t ridlen, const uint8_t *buf,
                  size_t len)
{
    zmq_send(router, rid, ridlen, ZMQ_SNDMORE | ZMQ_DONTWAIT);
    zmq_send(router, buf, len, ZMQ_DONTWAIT);
}

static void wipe_free(void *data, void *hint)
{
    sodium_memzero(data, (size_t) (uintptr_t) hint);
    free(data);
}

void mm_zmq_reply_secret(void *router, const uint8_t *rid, size_t ridlen, const uint8_t *buf,
                         size_t len)
{
    zmq_msg_t msg;
    uint8_t *copy = malloc(len);
    if (!copy)
        return;
    memcpy(copy, buf, len);
    /* the hint carries the length to wipe_free */
    /* NOLINTBEGIN(performance-no-int-to-ptr) */
    if (zmq_msg_init_data(&msg, copy, len, wipe_free, (void *) (uintptr_t) len)) {
        wipe_free(copy, (void *) (uintptr_t) len);
        /* NOLINTEND(performance-no-int-to-ptr) */
        return;
    }
    if (zmq_send(router, rid, ridlen, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0
        || zmq_msg_send(&msg, router, ZMQ_DONTWAIT) < 0)
        zmq_msg_close(&msg);        /* not sent: still ours, wiped here */
}
