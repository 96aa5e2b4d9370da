/*  mm_mkdevice.c -- a second device of an identity, for tests (a test tool).
 *
 *  mm_mkdevice IDENTITY_HOME NEW_HOME DEVNAME [SELFPEER]
 *
 *  Makes NEW_HOME a new device of the identity whose key IDENTITY_HOME
 *  holds, the way pairing would leave it (tests/cli/test_devices.py runs
 *  this where pairing, built elsewhere, is not yet there): a fresh device
 *  key, its version-2 certificate (not the identity device) stored in both
 *  homes, and in NEW_HOME copies of the relationship scopes, the peers and
 *  the certificates.  NEW_HOME holds no identity key; its self scope has a
 *  key of its own (pairing hands the real one over), so the two homes
 *  share everything but their private notes.
 *  With SELFPEER, NEW_HOME also gets a peer record of that name for the
 *  identity device itself (no scope): only for mm_rogue --peer SELFPEER,
 *  to call the identity device the way mm sync calls a peer.
 *  Prints the new device's code.  Exit 0; 1 on failure; 2 on a usage error.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "core/cert.h"
#include "core/home.h"
#include "core/log.h"
#include "core/peer.h"
#include "core/scope.h"
#include "crypto/error.h"
#include "crypto/idcode.h"

typedef struct {
    mm_txn_t *to;
    mm_txn_t *from;
} copy_t;

static int copy_cert(const mm_cert_t *c, const uint8_t *raw, size_t len, void *arg)
{
    copy_t *cp = arg;
    (void) c;
    return mm_cert_put(cp->to, raw, len, NULL);
}

static int copy_peer(const mm_peer_t *p, void *arg)
{
    copy_t *cp = arg;
    mm_scope_t s;
    int rc = mm_scope_get(cp->from, p->scope, &s);
    if (rc == MM_OK)
        rc = mm_scope_put(cp->to, &s);
    mm_scope_wipe(&s);
    return rc ? rc : mm_peer_put(cp->to, p);
}

static int fail(const char *what, int rc)
{
    fprintf(stderr, "mm_mkdevice: %s: %s\n", what, mm_strerror(rc));
    return 1;
}

int main(int argc, char **argv)
{
    mm_home_t *a = NULL, *b = NULL;
    mm_keypair_t *idk = NULL, *dev = NULL;
    mm_txn_t *ta = NULL, *tb = NULL;
    uint8_t cert[MM_CERT_MAX];
    size_t len;
    char path[MM_PATH_MAX + 32], code[MM_IDCODE_LEN + 1];
    int rc;
    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: mm_mkdevice IDENTITY_HOME NEW_HOME DEVNAME [SELFPEER]\n");
        return 2;
    }
    if (mm_crypto_init() != MM_OK)
        return 1;
    if ((rc = mm_home_open(argv[1], &a)))
        return fail("cannot open the identity home", rc);
    if ((rc = mm_home_identity_key(a, &idk)))
        return fail("no identity key there", rc);
    if (!(dev = mm_keypair_new()))
        return fail("key", MM_ENOMEM);
    uint64_t now = mm_now_ms();
    if ((rc = mm_home_init_keys(argv[2], mm_home_name(a), argv[3], now, idk, dev)))
        return fail("cannot make the new home", rc);
    /* not the identity device: no identity key there */
    snprintf(path, sizeof path, "%s/identity.key", argv[2]);
    if (unlink(path) != 0)
        return fail("cannot remove the new home's identity key", MM_EIO);
    if ((rc = mm_home_open(argv[2], &b)))
        return fail("cannot open the new home", rc);
    /* a newer certificate without the identity-device flag replaces the
     * one mm_home_init_keys made */
    if ((rc = mm_cert_make(idk, dev, now + 1, argv[3], 0, cert, sizeof cert, &len)))
        return fail("certificate", rc);
    if ((rc = mm_store_begin(mm_home_store(a), 1, &ta))
        || (rc = mm_store_begin(mm_home_store(b), 1, &tb)))
        return fail("store", rc);
    copy_t cp = { tb, ta };
    if ((rc = mm_cert_put(ta, cert, len, NULL)) || (rc = mm_cert_put(tb, cert, len, NULL))
        || (rc = mm_cert_foreach(ta, copy_cert, &cp)) || (rc = mm_peer_foreach(ta, copy_peer, &cp)))
        return fail("copy", rc);
    if (argc == 5) {
        mm_peer_t p;
        memset(&p, 0, sizeof p);
        memcpy(p.identity, mm_home_identity_pk(a), 32);
        snprintf(p.petname, sizeof p.petname, "%s", argv[4]);
        snprintf(p.name, sizeof p.name, "%s", mm_home_name(a));
        p.role = MM_ROLE_MENTOR;
        memcpy(p.device, mm_keypair_pk(mm_home_device(a)), 32);
        p.added = now;
        if ((rc = mm_peer_put(tb, &p)))
            return fail("self peer", rc);
    }
    if ((rc = mm_txn_commit(&tb)) || (rc = mm_txn_commit(&ta)))
        return fail("commit", rc);
    mm_idcode_encode(code, MM_IDCODE_DEVICE, mm_keypair_pk(dev));
    printf("%s\n", code);
    mm_keypair_destroy(&idk);
    mm_keypair_destroy(&dev);
    mm_home_close(&b);
    mm_home_close(&a);
    return 0;
}
