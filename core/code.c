#include <string.h>
#include <sodium.h>
#include "core/code.h"
#include "core/mp.h"
#include "crypto/hash.h"
#include "crypto/encoding.h"

#define PAYLOAD_MAX 1024

void mm_code_keys(const char *ctx, const uint8_t secret[32], uint8_t pk[32], uint8_t sk[32])
{
    mm_hash2(sk, ctx, strlen(ctx), secret, 32);
    crypto_scalarmult_base(pk, sk);
}

int mm_code_encode(const char *prefix, unsigned version, const mm_code_t *c, char *out,
                   size_t cap)
{
    uint8_t buf[PAYLOAD_MAX + 4], h[32];
    mm_mp_writer_t w;
    if (c->nendpoints < 1 || c->nendpoints > MM_PEER_ENDPOINTS || cap < 5)
        return MM_EINVAL;
    mm_mp_writer_init(&w, buf, PAYLOAD_MAX);
    mm_mp_put_array(&w, 6);
    mm_mp_put_uint(&w, version);
    mm_mp_put_bin(&w, c->identity, 32);
    mm_mp_put_bin(&w, c->device, 32);
    mm_mp_put_bin(&w, c->secret, 32);
    mm_mp_put_uint(&w, c->expires);
    mm_mp_put_array(&w, c->nendpoints);
    for (unsigned i = 0; i < c->nendpoints; i++)
        mm_mp_put_cstr(&w, c->endpoints[i]);
    if (mm_mp_writer_status(&w))
        return MM_EINVAL;
    mm_hash2(h, prefix, 4, buf, w.len);
    memcpy(buf + w.len, h, 4);
    memcpy(out, prefix, 4);
    int rc = mm_encoding_base32(out + 4, cap - 4, buf, w.len + 4) ? MM_EINVAL : MM_OK;
    sodium_memzero(buf, sizeof buf);
    return rc;
}

static int copy_endpoint(mm_mp_reader_t *r, char *out)
{
    const char *s;
    uint32_t n;
    int rc = mm_mp_str(r, &s, &n);
    if (rc)
        return rc;
    if (n > MM_ENDPOINT_MAX || memchr(s, 0, n))
        return MM_EMALFORMED;
    memcpy(out, s, n);
    out[n] = '\0';
    return mm_endpoint_valid(out) ? MM_OK : MM_EMALFORMED;
}

static int bin32(mm_mp_reader_t *r, uint8_t out[32])
{
    const uint8_t *b;
    int rc = mm_mp_bin_n(r, &b, 32);
    if (rc == MM_OK)
        memcpy(out, b, 32);
    return rc;
}

int mm_code_decode(const char *prefix, unsigned version, const char *text, mm_code_t *c)
{
    uint8_t buf[PAYLOAD_MAX + 4], h[32];
    size_t len;
    uint32_t n, ne;
    uint64_t v;
    mm_mp_reader_t r;
    int rc;
    memset(c, 0, sizeof *c);
    if (strncmp(text, prefix, 4) != 0)
        return MM_EINVAL;
    if ((rc = mm_encoding_unbase32(text + 4, buf, sizeof buf, &len)))
        return rc == MM_ETOOBIG ? MM_EINVAL : rc;
    if (len < 5)
        return MM_EINVAL;
    len -= 4;
    mm_hash2(h, prefix, 4, buf, len);
    if (memcmp(h, buf + len, 4) != 0) {
        rc = MM_ECHECKSUM;
        goto out;
    }
    mm_mp_reader_init(&r, buf, len);
    if ((rc = mm_mp_array(&r, &n)) || (rc = mm_mp_uint(&r, &v)))
        goto out;
    if (n != 6 || v != version) {
        rc = v != version ? MM_EVERSION : MM_EMALFORMED;
        goto out;
    }
    if ((rc = bin32(&r, c->identity)) || (rc = bin32(&r, c->device))
        || (rc = bin32(&r, c->secret)) || (rc = mm_mp_uint(&r, &c->expires))
        || (rc = mm_mp_array(&r, &ne)))
        goto out;
    if (ne < 1 || ne > MM_PEER_ENDPOINTS) {
        rc = MM_EMALFORMED;
        goto out;
    }
    for (uint32_t i = 0; i < ne; i++)
        if ((rc = copy_endpoint(&r, c->endpoints[i])))
            goto out;
    c->nendpoints = ne;
    rc = mm_mp_left(&r) ? MM_ETRAILING : MM_OK;
out:
    sodium_memzero(buf, sizeof buf);
    if (rc)
        sodium_memzero(c, sizeof *c);
    return rc;
}
