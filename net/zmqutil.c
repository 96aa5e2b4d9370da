#include <string.h>
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
