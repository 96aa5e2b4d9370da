/*  fuzz_device.c -- libFuzzer harness: the parsers of the statements about
 *  devices a DEVICES message carries (PROTOCOL.md 3.2, 3.3): revocations
 *  (mm_revoke_parse) and endpoints statements (mm_endpoint_parse).
 *
 *  The input's first byte picks the parser (even: revocation, odd:
 *  endpoints), the rest is the statement.  Beyond not crashing: a
 *  revocation that parses lists its scopes in strictly increasing order and
 *  mm_revoke_last_of finds each; an endpoints statement that parses holds
 *  at most MM_PEER_ENDPOINTS endpoints, each one mm_endpoint_valid accepts;
 *  and a statement with a byte changed after it parsed does not verify.
 */
#include "tests/fuzz/fuzz.h"
#include "core/endpoint.h"
#include "core/revoke.h"

static uint8_t *copy;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc;
    (void) argv;
    FZ_OK(mm_crypto_init());
    copy = malloc(MM_REVOKE_MAX + 1);
    FZ_ASSERT(copy);
    return 0;
}

static void check_revoke(const uint8_t *p, size_t n)
{
    mm_revoke_t r;
    if (mm_revoke_parse(p, n, &r) != MM_OK)
        return;
    mm_mp_reader_t rd;
    mm_mp_reader_init(&rd, r.lasts, r.lastslen);
    const uint8_t *prev = NULL;
    for (uint32_t i = 0; i < r.nlasts; i++) {
        uint32_t two;
        const uint8_t *s;
        uint64_t seq;
        FZ_OK(mm_mp_array(&rd, &two));
        FZ_OK(mm_mp_bin_n(&rd, &s, 32));
        FZ_OK(mm_mp_uint(&rd, &seq));
        FZ_ASSERT(!prev || memcmp(prev, s, 32) < 0);
        FZ_ASSERT(mm_revoke_last_of(&r, s) == seq);
        prev = s;
    }
    /* signed: the last byte of the signature changed never verifies */
    memcpy(copy, p, n);
    copy[n - 1] ^= 1;
    FZ_ASSERT(mm_revoke_parse(copy, n, &r) != MM_OK);
}

static void check_endpoints(const uint8_t *p, size_t n)
{
    mm_endpoint_t e;
    if (mm_endpoint_parse(p, n, &e) != MM_OK)
        return;
    FZ_ASSERT(e.n <= MM_PEER_ENDPOINTS);
    for (unsigned i = 0; i < e.n; i++)
        FZ_ASSERT(mm_endpoint_valid(e.endpoints[i]));
    memcpy(copy, p, n);
    copy[n - 1] ^= 1;
    FZ_ASSERT(mm_endpoint_parse(copy, n, &e) != MM_OK);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2 || size > MM_REVOKE_MAX + 1)
        return 0;
    if (data[0] & 1)
        check_endpoints(data + 1, size - 1);
    else
        check_revoke(data + 1, size - 1);
    return 0;
}

void fz_seeds(const char *dir)
{
    static uint8_t buf[1 + MM_REVOKE_MAX];
    mm_keypair_t *id = fz_keypair(FZ_ADA_ID), *dev = fz_keypair(FZ_ADA_DEV);
    mm_revoke_last_t l[2];
    size_t len;
    memset(l, 0, sizeof l);
    memset(l[0].scope, 0x41, 32);
    memset(l[1].scope, 0x42, 32);
    l[0].seq = 3;
    l[1].seq = 70000;
    buf[0] = 0;
    FZ_OK(mm_revoke_make(id, mm_keypair_pk(dev), FZ_TIME, l, 2, buf + 1, sizeof buf - 1, &len));
    fz_seed_write(dir, "revoke", buf, len + 1);
    FZ_OK(mm_revoke_make(id, mm_keypair_pk(dev), FZ_TIME, NULL, 0, buf + 1, sizeof buf - 1, &len));
    fz_seed_write(dir, "revoke-none", buf, len + 1);
    static const char eps[2][MM_ENDPOINT_MAX + 1] = { "tcp://127.0.0.1:7460",
                                                      "tcp://[::1]:7460" };
    buf[0] = 1;
    FZ_OK(mm_endpoint_make(dev, FZ_TIME, eps, 1, buf + 1, sizeof buf - 1, &len));
    fz_seed_write(dir, "endpoints", buf, len + 1);
    FZ_OK(mm_endpoint_make(dev, FZ_TIME, eps, 0, buf + 1, sizeof buf - 1, &len));
    fz_seed_write(dir, "endpoints-none", buf, len + 1);
    mm_keypair_destroy(&id);
    mm_keypair_destroy(&dev);
}
