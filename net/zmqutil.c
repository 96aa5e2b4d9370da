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

typedef struct {
    const uint8_t *key;
    uint8_t *identity;
    int found;
} curve_find_t;

static int match_curve(const mm_cert_t *c, const uint8_t *raw, size_t len, void *arg)
{
    curve_find_t *f = arg;
    uint8_t x[32];
    if (mm_pk_to_x25519(x, c->device) == MM_OK && memcmp(x, f->key, 32) == 0) {
        memcpy(f->identity, c->identity, 32);
        f->found = 1;
        return 1;
    }
    return 0;
}

/* Devices are few; converting each certificate's key on demand keeps no
 * second table that would have to be kept in step with the certificates. */
int mm_net_device_by_curve(mm_txn_t *txn, const uint8_t key[32], uint8_t identity[32])
{
    curve_find_t f = { key, identity, 0 };
    int rc = mm_cert_foreach(txn, match_curve, &f);
    if (rc < 0)
        return rc;
    return f.found ? MM_OK : MM_ENOTFOUND;
}
