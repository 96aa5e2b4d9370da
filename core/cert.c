#include <string.h>
#include "core/cert.h"
#include "core/mp.h"
#include "crypto/hash.h"
#include "crypto/error.h"

int mm_cert_make(const mm_keypair_t *identity, const uint8_t device_pk[MM_PK_BYTES],
                 uint64_t created, const char *name,
                 uint8_t *out, size_t cap, size_t *outlen)
{
    size_t nlen = strlen(name);
    if (nlen > MM_DEVNAME_MAX)
        return MM_EINVAL;
    mm_mp_writer_t w;
    mm_mp_writer_init(&w, out, cap);
    mm_mp_put_array(&w, 6);
    mm_mp_put_uint(&w, MM_CERT_VERSION);
    mm_mp_put_bin(&w, mm_keypair_pk(identity), MM_PK_BYTES);
    mm_mp_put_bin(&w, device_pk, MM_PK_BYTES);
    mm_mp_put_uint(&w, created);
    mm_mp_put_str(&w, name, nlen);
    size_t signedlen = w.len;
    uint8_t digest[MM_HASH_BYTES], sig[MM_SIG_BYTES];
    mm_hash(digest, out, signedlen);
    mm_sign_digest(identity, MM_CTX_CERT, digest, sig);
    mm_mp_put_bin(&w, sig, sizeof sig);
    int rc = mm_mp_writer_status(&w);
    if (rc == MM_OK)
        *outlen = w.len;
    return rc;
}

static int parse(const uint8_t *buf, size_t len, mm_cert_t *out, int check_sig)
{
    if (len > MM_CERT_MAX)
        return MM_ETOOBIG;
    mm_mp_reader_t r;
    mm_mp_reader_init(&r, buf, len);
    uint32_t n, nlen;
    uint64_t version;
    const uint8_t *idk, *dev, *sig;
    const char *name;
    int rc;
    if ((rc = mm_mp_array(&r, &n)))
        return rc;
    if (n != 6)
        return MM_EMALFORMED;
    if ((rc = mm_mp_uint(&r, &version)))
        return rc;
    if (version != MM_CERT_VERSION)
        return MM_EVERSION;
    if ((rc = mm_mp_bin_n(&r, &idk, MM_PK_BYTES))
        || (rc = mm_mp_bin_n(&r, &dev, MM_PK_BYTES))
        || (rc = mm_mp_uint(&r, &out->created))
        || (rc = mm_mp_str(&r, &name, &nlen)))
        return rc;
    if (nlen > MM_DEVNAME_MAX || memchr(name, 0, nlen))
        return MM_EMALFORMED;
    size_t signedlen = (size_t) (r.p - buf);
    if ((rc = mm_mp_bin_n(&r, &sig, MM_SIG_BYTES)))
        return rc;
    if (mm_mp_left(&r))
        return MM_ETRAILING;
    uint8_t digest[MM_HASH_BYTES];
    if (check_sig)
        mm_hash(digest, buf, signedlen);
    if (check_sig && (rc = mm_verify_digest(idk, MM_CTX_CERT, digest, sig)))
        return rc;
    memcpy(out->identity, idk, MM_PK_BYTES);
    memcpy(out->device, dev, MM_PK_BYTES);
    memcpy(out->name, name, nlen);
    out->name[nlen] = '\0';
    memcpy(out->sig, sig, MM_SIG_BYTES);
    return MM_OK;
}

int mm_cert_parse(const uint8_t *buf, size_t len, mm_cert_t *out)
{
    return parse(buf, len, out, 1);
}

int mm_cert_decode(const uint8_t *buf, size_t len, mm_cert_t *out)
{
    return parse(buf, len, out, 0);
}
