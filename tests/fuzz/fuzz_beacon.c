/*  fuzz_beacon.c -- libFuzzer harness: a LAN discovery beacon arriving at
 *  Grace's mm serve --discover (PROTOCOL.md 7.1, mm_beacon_rx_input).
 *
 *  Grace's home knows Ada as a peer (the harnesses' pair scope) and holds
 *  her certificate and Carl's.  The input's first byte picks what the rest
 *  is: even, a datagram as it comes off the network; odd, the payload of a
 *  beacon (zero-padded to MM_BEACON_PLAIN), which the harness seals under
 *  the beacon key of the pair scope, so that the parser after the AEAD is
 *  reached.  Each input meets a fresh receiver at the same clock.  Beyond
 *  not crashing: a beacon believed names Ada's device and identity, and
 *  the statement Grace then holds for it is the one believed or a newer
 *  one; a datagram that is not 1,200 bytes is never believed.
 */
#include "tests/fuzz/fuzz.h"
#include "core/beacon.h"
#include "core/cert.h"
#include "core/peer.h"
#include "core/scope.h"

#define NOW (FZ_TIME + 60000)

static fz_home_t fh;
static mm_keypair_t *ada_dev;
static uint8_t ada_id[32], bk[32];

static void close_home(void)
{
    mm_home_close(&fh.home);
    mm_keypair_destroy(&ada_dev);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    uint8_t cert[MM_CERT_MAX];
    size_t len;
    mm_txn_t *txn;
    mm_scope_t s;
    mm_peer_t p;
    (void) argc;
    (void) argv;
    FZ_OK(mm_crypto_init());
    mm_keypair_t *grace_id = fz_keypair(FZ_GRACE_ID), *grace_dev = fz_keypair(FZ_GRACE_DEV);
    mm_keypair_t *ada = fz_keypair(FZ_ADA_ID), *carl = fz_keypair(FZ_CARL_ID);
    mm_keypair_t *carl_dev = fz_keypair(FZ_CARL_DEV);
    ada_dev = fz_keypair(FZ_ADA_DEV);
    memcpy(ada_id, mm_keypair_pk(ada), 32);
    snprintf(fh.path, sizeof fh.path, "%s/grace", fz_tmpdir());
    FZ_OK(mm_home_init_keys(fh.path, "Grace", "laptop", FZ_TIME, grace_id, grace_dev));
    FZ_OK(mm_home_open(fh.path, &fh.home));
    fz_pair_scope(&s, mm_keypair_pk(grace_id), ada_id);
    mm_beacon_derive(bk, mm_scope_key(&s));
    memset(&p, 0, sizeof p);
    memcpy(p.identity, ada_id, 32);
    snprintf(p.petname, sizeof p.petname, "ada");
    p.role = MM_ROLE_MENTEE;
    memcpy(p.scope, s.id, 32);
    memcpy(p.device, mm_keypair_pk(ada_dev), 32);
    p.added = FZ_TIME;
    FZ_OK(mm_store_begin(mm_home_store(fh.home), 1, &txn));
    FZ_OK(mm_scope_put(txn, &s));
    FZ_OK(mm_peer_put(txn, &p));
    len = fz_cert(ada, ada_dev, "phone", cert);
    FZ_OK(mm_cert_put(txn, cert, len, NULL));
    len = fz_cert(carl, carl_dev, "laptop", cert);
    FZ_OK(mm_cert_put(txn, cert, len, NULL));
    FZ_OK(mm_txn_commit(&txn));
    mm_keypair_destroy(&grace_id);
    mm_keypair_destroy(&grace_dev);
    mm_keypair_destroy(&ada);
    mm_keypair_destroy(&carl);
    mm_keypair_destroy(&carl_dev);
    fz_home_keep(&fh);
    atexit(close_home);
    return 0;
}

/* The payload p[0..n) zero-padded and sealed under bk, nonce all 0x5a. */
static void seal(const uint8_t *p, size_t n, uint8_t out[MM_BEACON_SIZE])
{
    static const uint8_t AD[16] = "mm beacon v1\0\0\0";
    uint8_t plain[MM_BEACON_PLAIN] = { 0 }, nonce[MM_NONCE_BYTES];
    memcpy(plain, p, n);
    memset(nonce, 0x5a, sizeof nonce);
    memcpy(out, nonce, sizeof nonce);
    FZ_OK(mm_aead_seal(out + MM_NONCE_BYTES, plain, sizeof plain, AD, sizeof AD, nonce, bk));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t beacon[MM_BEACON_SIZE];
    mm_beacon_rx_t *rx;
    mm_beacon_heard_t h;
    const uint8_t *d = data + 1;
    size_t n = size - 1;
    if (size < 1 || size > 1 + 4096)
        return 0;
    if (data[0] & 1) {
        if (n > MM_BEACON_PLAIN)
            return 0;
        seal(d, n, beacon);
        d = beacon;
        n = sizeof beacon;
    }
    FZ_OK(mm_beacon_rx_new(&rx));
    FZ_OK(mm_beacon_rx_load(rx, fh.home, MM_BEACON_INTERVAL_MS));
    int rc = mm_beacon_rx_input(rx, fh.home, d, n, NOW, &h);
    if (fz_verbose())
        fprintf(stderr, "beacon: %zu bytes: %s\n", n, mm_errname(rc));
    if (rc == MM_OK) {
        mm_txn_t *txn;
        mm_endpoint_t e;
        FZ_ASSERT(n == MM_BEACON_SIZE);
        FZ_ASSERT(!memcmp(h.identity, ada_id, 32));
        FZ_ASSERT(!memcmp(h.device, mm_keypair_pk(ada_dev), 32));
        FZ_OK(mm_store_begin(mm_home_store(fh.home), 0, &txn));
        FZ_OK(mm_endpoint_get(txn, h.device, &e, NULL, NULL));
        mm_txn_abort(&txn);
        FZ_ASSERT(e.seq >= h.endpoints.seq);
        FZ_ASSERT(!h.stored || e.seq == h.endpoints.seq);
    }
    mm_beacon_rx_destroy(&rx);
    FZ_ASSERT(!rx);
    fz_home_reset(&fh);
    return 0;
}

/* ---- seeds: payloads that reach each check, and a raw beacon ---- */

static void payload(const char *dir, const char *name, uint64_t version, uint64_t time,
                    const uint8_t *stmt, size_t len)
{
    static uint8_t buf[1 + MM_BEACON_PLAIN];
    mm_mp_writer_t w;
    buf[0] = 1;
    mm_mp_writer_init(&w, buf + 1, sizeof buf - 1);
    mm_mp_put_array(&w, 3);
    mm_mp_put_uint(&w, version);
    mm_mp_put_uint(&w, time);
    mm_mp_put_bin(&w, stmt, len);
    FZ_OK(mm_mp_writer_status(&w));
    fz_seed_write(dir, name, buf, w.len + 1);
}

void fz_seeds(const char *dir)
{
    static const char eps[1][MM_ENDPOINT_MAX + 1] = { "tcp://10.0.0.7:7460" };
    uint8_t stmt[MM_ENDPOINT_STMT_MAX], raw[1 + MM_BEACON_SIZE];
    size_t len;
    mm_keypair_t *carl_dev = fz_keypair(FZ_CARL_DEV);
    FZ_OK(mm_endpoint_make(ada_dev, FZ_TIME, eps, 1, stmt, sizeof stmt, &len));
    payload(dir, "ada", 1, NOW - 1000, stmt, len);
    payload(dir, "ada-stale", 1, NOW - MM_BEACON_FRESH_MS - 1, stmt, len);
    payload(dir, "ada-v2", 2, NOW, stmt, len);
    FZ_OK(mm_endpoint_make(carl_dev, FZ_TIME, eps, 1, stmt, sizeof stmt, &len));
    payload(dir, "carl", 1, NOW, stmt, len);
    raw[0] = 0;
    FZ_OK(mm_endpoint_make(ada_dev, FZ_TIME + 1, eps, 0, stmt, sizeof stmt, &len));
    uint8_t nonce[MM_NONCE_BYTES] = { 1 };
    FZ_OK(mm_beacon_seal(bk, nonce, NOW, stmt, len, raw + 1));
    fz_seed_write(dir, "raw", raw, sizeof raw);
    mm_keypair_destroy(&carl_dev);
}
