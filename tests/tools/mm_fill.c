/*  mm_fill.c -- fill a relationship scope with entries (a test tool).
 *
 *  mm_fill --home H --peer NAME --count N [--devices K] [--size B] [--type T]
 *
 *  Appends N entries to the scope shared with peer NAME (or, for NAME
 *  "@self", to the person's own self scope: with --type note, private
 *  notes), in write
 *  transactions of FILL_TXN entries.  Each body is
 *  {"t":"fill","n":i,"text":<B bytes of ASCII text>} (B defaults to 256).
 *  With --devices K, K extra device keys are made and certified by the
 *  identity key first, and the entries are dealt round-robin over the K+1
 *  devices, so the scope gets K+1 feeds of this person.  The extra device
 *  keys are not kept: those feeds can be synced but never extended.
 *  --type T writes bodies of type T instead of "fill" (e.g. "question":
 *  a modified client piling questions past the one-at-a-time rule; the
 *  "n" key is then one the type does not know, which readers ignore).
 *  Exit 0 with one line on stdout; 1 on failure; 2 on a usage error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>
#include "core/home.h"
#include "core/peer.h"
#include "core/body.h"
#include "core/mp.h"
#include "crypto/error.h"

#define FILL_TXN        1000        /* entries per write transaction */
#define FILL_TEXT_MAX   60000       /* keeps the body under MM_BODY_MAX */
#define FILL_DEVICES    1000
#define FILL_BODY_EXTRA 64          /* map, "t", "fill", "n", uint, "text", str header */
#define FILL_T          "fill"

static const char usage[] =
    "usage: mm_fill --home DIR --peer NAME --count N [--devices K] [--size BYTES] [--type T]\n";

typedef struct {
    const char *home;
    const char *peer;
    unsigned long long count;
    unsigned long devices;
    unsigned long size;
    const char *type;
} opts_t;

static int parse_num(const char *s, unsigned long long max, unsigned long long *out)
{
    char *end;
    if (!s || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v > max)
        return -1;
    *out = v;
    return 0;
}

static int parse_args(int argc, char **argv, opts_t *o)
{
    unsigned long long v;
    memset(o, 0, sizeof *o);
    o->size = 256;
    o->type = FILL_T;
    int have_count = 0;
    if (argc % 2 == 0)              /* every option takes a value: pairs after argv[0] */
        return -1;
    for (int i = 1; i < argc; i += 2) {
        const char *a = argv[i], *val = argv[i + 1];
        if (!strcmp(a, "--home"))
            o->home = val;
        else if (!strcmp(a, "--peer"))
            o->peer = val;
        else if (!strcmp(a, "--count") && !parse_num(val, 1000000000ull, &v)) {
            o->count = v;
            have_count = 1;
        } else if (!strcmp(a, "--devices") && !parse_num(val, FILL_DEVICES, &v))
            o->devices = (unsigned long) v;
        else if (!strcmp(a, "--size") && !parse_num(val, FILL_TEXT_MAX, &v))
            o->size = (unsigned long) v;
        else if (!strcmp(a, "--type") && *val && strlen(val) <= 32)
            o->type = val;
        else
            return -1;
    }
    return o->home && o->peer && have_count ? 0 : -1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* Make k device keys and certify each with the identity key, in one txn. */
static int make_devices(mm_home_t *home, mm_keypair_t **dev, unsigned long k)
{
    mm_keypair_t *id = NULL;
    mm_txn_t *txn = NULL;
    uint8_t cert[MM_CERT_MAX];
    size_t certlen;
    int rc = mm_home_identity_key(home, &id);
    if (rc || (rc = mm_store_begin(mm_home_store(home), 1, &txn)))
        goto out;
    for (unsigned long i = 0; i < k; i++) {
        char name[32];
        snprintf(name, sizeof name, "fill-%lu", i + 1);
        if (!(dev[i] = mm_keypair_new())) {
            rc = MM_ENOMEM;
            goto out;
        }
        if ((rc = mm_cert_make(id, dev[i], mm_now_ms(), name, 0, cert,
                               sizeof cert, &certlen))
            || (rc = mm_cert_put(txn, cert, certlen, NULL)))
            goto out;
    }
    rc = mm_txn_commit(&txn);
out:
    mm_txn_abort(&txn);
    mm_keypair_destroy(&id);
    return rc;
}

/* The body of entry n: {"t":"fill","n":n,"text":text}, keys after "t" in
 * bytewise order.  Returns its length (0 if it did not fit). */
static size_t fill_body(uint8_t *out, size_t cap, const char *type, uint64_t n,
                        const char *text, size_t len)
{
    mm_mp_writer_t w;
    mm_mp_writer_init(&w, out, cap);
    mm_mp_put_map(&w, 3);
    mm_mp_put_cstr(&w, "t");
    mm_mp_put_cstr(&w, type);
    mm_mp_put_cstr(&w, "n");
    mm_mp_put_uint(&w, n);
    mm_mp_put_cstr(&w, "text");
    mm_mp_put_str(&w, text, len);
    return mm_mp_writer_status(&w) == MM_OK ? w.len : 0;
}

/* Printable text that differs from one entry to the next (rotated). */
static void fill_text(char *text, size_t len, uint64_t n)
{
    static const char src[] = "How did you decide when to say no to a project? "
                              "Write down three things you learned this week. ";
    size_t off = (size_t) (n % (sizeof src - 1));
    for (size_t i = 0; i < len; i++)
        text[i] = src[(off + i) % (sizeof src - 1)];
}

static int fill(mm_home_t *home, const uint8_t scope[32], mm_keypair_t *const *dev,
                unsigned long ndev, const char *type, unsigned long long count, size_t size,
                uint64_t *bytes)
{
    size_t cap = size + FILL_BODY_EXTRA;
    uint8_t *body = malloc(cap);
    char *text = malloc(size ? size : 1);
    mm_txn_t *txn = NULL;
    int rc = MM_ENOMEM;
    *bytes = 0;
    if (!body || !text)
        goto out;
    for (unsigned long long i = 0; i < count; i++) {
        fill_text(text, size, i);
        size_t len = fill_body(body, cap, type, i, text, size);
        if (!len) {
            rc = MM_ETOOBIG;
            goto out;
        }
        if (!txn && (rc = mm_store_begin(mm_home_store(home), 1, &txn)))
            goto out;
        if ((rc = mm_log_append(txn, dev[i % ndev], scope, 0, body, len, NULL)))
            goto out;
        *bytes += len;
        if ((i + 1) % FILL_TXN == 0 || i + 1 == count)
            if ((rc = mm_txn_commit(&txn)))
                goto out;
    }
    rc = MM_OK;
out:
    mm_txn_abort(&txn);
    free(text);
    free(body);
    return rc;
}

int main(int argc, char **argv)
{
    opts_t o;
    if (parse_args(argc, argv, &o)) {
        fputs(usage, stderr);
        return 2;
    }
    if (mm_crypto_init()) {
        fprintf(stderr, "mm_fill: libsodium did not initialise\n");
        return 1;
    }
    mm_home_t *home = NULL;
    mm_txn_t *txn = NULL;
    mm_peer_t p;
    mm_keypair_t **dev = NULL;
    unsigned long ndev = o.devices + 1;
    const char *what = "open home";
    uint64_t bytes = 0;
    int rc = mm_home_open(o.home, &home);
    if (rc)
        goto out;
    what = "find peer";
    memset(&p, 0, sizeof p);
    if (!strcmp(o.peer, "@self")) {
        memcpy(p.scope, mm_home_self_scope(home), 32);
        snprintf(p.petname, sizeof p.petname, "@self");
    } else if ((rc = mm_store_begin(mm_home_store(home), 0, &txn))
               || (rc = mm_peer_find(txn, o.peer, &p))) {
        goto out;
    }
    mm_txn_abort(&txn);
    what = "make devices";
    /* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers */
    if (!(dev = calloc(ndev, sizeof *dev))) {
        rc = MM_ENOMEM;
        goto out;
    }
    /* dev[0] is this home's own device; it is borrowed, not destroyed */
    dev[0] = (mm_keypair_t *) mm_home_device(home);
    if (o.devices && (rc = make_devices(home, dev + 1, o.devices)))
        goto out;
    what = "append";
    double t = now_s();
    if ((rc = fill(home, p.scope, dev, ndev, o.type, o.count, o.size, &bytes)))
        goto out;
    t = now_s() - t;
    printf("mm_fill: appended %llu entries (%llu body bytes) to the scope of '%s' "
           "over %lu feeds in %.2f s\n", o.count, (unsigned long long) bytes, p.petname,
           ndev, t);
out:
    mm_txn_abort(&txn);
    if (dev)
        for (unsigned long i = 1; i < ndev; i++)
            mm_keypair_destroy(&dev[i]);
    free(dev);
    mm_home_close(&home);
    if (rc) {
        fprintf(stderr, "mm_fill: %s: %s\n", what, mm_strerror(rc));
        return 1;
    }
    return 0;
}
