#include <string.h>
#include <stdlib.h>
#include <sodium.h>
#include "core/entry.h"
#include "core/body.h"
#include "core/mp.h"
#include "crypto/random.h"
#include "crypto/error.h"

int mm_entry_seal(const mm_keypair_t *device, const mm_scope_t *scope,
                  const mm_head_t *head, uint64_t time,
                  const uint8_t nonce[MM_NONCE_BYTES],
                  const uint8_t *body, size_t bodylen,
                  uint8_t *out, size_t cap, size_t *outlen)
{
    uint8_t n[MM_NONCE_BYTES], digest[MM_HASH_BYTES], sig[MM_SIG_BYTES];
    if (bodylen > MM_BODY_MAX || cap < bodylen + MM_ENTRY_OVERHEAD)
        return MM_ETOOBIG;
    if (nonce)
        memcpy(n, nonce, sizeof n);
    else
        mm_random_bytes(n, sizeof n);

    mm_mp_writer_t w;
    mm_mp_writer_init(&w, out, cap);
    mm_mp_put_array(&w, 9);
    mm_mp_put_uint(&w, MM_ENTRY_VERSION);
    mm_mp_put_bin(&w, mm_keypair_pk(device), MM_PK_BYTES);
    mm_mp_put_bin(&w, scope->id, 32);
    mm_mp_put_uint(&w, head->seq + 1);
    if (head->seq == 0)
        mm_mp_put_nil(&w);
    else
        mm_mp_put_bin(&w, head->id, MM_HASH_BYTES);
    mm_mp_put_uint(&w, time);
    size_t adlen = w.len;
    mm_mp_put_bin(&w, n, sizeof n);
    /* the box is sealed straight into place after its bin header */
    size_t boxlen = bodylen + MM_TAG_BYTES;
    msgpack_pack_bin(&w.pk, boxlen);
    if (mm_mp_writer_status(&w) || cap - w.len < boxlen)
        return MM_ETOOBIG;
    int rc = mm_aead_seal(out + w.len, body, bodylen, out, adlen, n, mm_scope_key(scope));
    if (rc)
        return rc;
    w.len += boxlen;
    mm_hash(digest, out, w.len);
    if ((rc = mm_sign_digest(device, MM_CTX_ENTRY, digest, sig)))
        return rc;
    mm_mp_put_bin(&w, sig, sizeof sig);
    rc = mm_mp_writer_status(&w);
    if (rc == MM_OK)
        *outlen = w.len;
    return rc;
}

int mm_entry_parse_shape(const uint8_t *buf, size_t len, mm_entry_t *e)
{
    mm_mp_reader_t r;
    uint32_t n;
    uint64_t version;
    int rc;
    if (len > MM_ENTRY_MAX)
        return MM_ETOOBIG;
    mm_mp_reader_init(&r, buf, len);
    if ((rc = mm_mp_array(&r, &n)))
        return rc;
    if (n != 9)
        return MM_EMALFORMED;
    if ((rc = mm_mp_uint(&r, &version)))
        return rc;
    if (version != MM_ENTRY_VERSION)
        return MM_EVERSION;
    if ((rc = mm_mp_bin_n(&r, &e->author, MM_PK_BYTES))
        || (rc = mm_mp_bin_n(&r, &e->scope, 32))
        || (rc = mm_mp_uint(&r, &e->seq)))
        return rc;
    if (e->seq == 0)
        return MM_EMALFORMED;
    if (mm_mp_peek_nil(&r)) {
        if ((rc = mm_mp_nil(&r)))
            return rc;
        e->prev = NULL;
    } else if ((rc = mm_mp_bin_n(&r, &e->prev, MM_HASH_BYTES))) {
        return rc;
    }
    if ((rc = mm_mp_uint(&r, &e->time)))
        return rc;
    e->adlen = (size_t) (r.p - buf);
    if ((rc = mm_mp_bin_n(&r, &e->nonce, MM_NONCE_BYTES))
        || (rc = mm_mp_bin(&r, &e->box, &e->boxlen)))
        return rc;
    if (e->boxlen < MM_TAG_BYTES)
        return MM_EMALFORMED;
    if (e->boxlen > MM_BODY_MAX + MM_TAG_BYTES)
        return MM_ETOOBIG;
    e->signedlen = (size_t) (r.p - buf);
    if ((rc = mm_mp_bin_n(&r, &e->sig, MM_SIG_BYTES)))
        return rc;
    if (mm_mp_left(&r))
        return MM_ETRAILING;
    e->bytes = buf;
    e->len = len;
    memset(e->id, 0, sizeof e->id);
    memset(e->digest, 0, sizeof e->digest);
    return MM_OK;
}

void mm_entry_hash(mm_entry_t *e)
{
    crypto_generichash_state st, sig;
    crypto_generichash_init(&st, NULL, 0, MM_HASH_BYTES);
    crypto_generichash_update(&st, e->bytes, e->signedlen);
    sig = st;                       /* a plain struct: the state so far, copied */
    crypto_generichash_final(&sig, e->digest, MM_HASH_BYTES);
    crypto_generichash_update(&st, e->bytes + e->signedlen, e->len - e->signedlen);
    crypto_generichash_final(&st, e->id, MM_HASH_BYTES);
    sodium_memzero(&sig, sizeof sig);
}

int mm_entry_parse(const uint8_t *buf, size_t len, mm_entry_t *e)
{
    int rc = mm_entry_parse_shape(buf, len, e);
    if (rc == MM_OK)
        mm_entry_hash(e);
    return rc;
}

int mm_entry_open(const mm_entry_t *e, const uint8_t key[MM_KEY_BYTES],
                  uint8_t *out, size_t cap, size_t *outlen)
{
    size_t n = e->boxlen - MM_TAG_BYTES;
    if (cap < n)
        return MM_ETOOBIG;
    int rc = mm_aead_open(out, e->box, e->boxlen, e->bytes, e->adlen, e->nonce, key);
    if (rc == MM_OK)
        *outlen = n;
    return rc;
}

int mm_entry_open_scope(const mm_entry_t *e, const mm_scope_t *s,
                        uint8_t *out, size_t cap, size_t *outlen)
{
    size_t n = e->boxlen - MM_TAG_BYTES;
    if (cap < n)
        return MM_ETOOBIG;
    int rc = mm_scope_open(s, out, e->box, e->boxlen, e->bytes, e->adlen, e->nonce, NULL);
    if (rc == MM_OK)
        *outlen = n;
    return rc;
}

/* Open the box into scratch memory only to prove it opens and holds a valid
 * body: nothing that members of the scope could not read is ever stored.
 * The plaintext is handed to ctx->on_body before it is wiped. */
static int check_box(const mm_entry_t *e, const mm_verify_ctx_t *ctx)
{
    uint8_t stackbuf[1024];
    size_t n = e->boxlen - MM_TAG_BYTES, got;
    uint8_t *pt = n <= sizeof stackbuf ? stackbuf : malloc(n);  /* n <= MM_BODY_MAX */
    if (!pt)
        return MM_ENOMEM;
    int rc = mm_entry_open_scope(e, ctx->scope, pt, n, &got);
    if (rc == MM_OK)
        rc = mm_body_check(pt, got) ? MM_EBODY : MM_OK;
    if (rc == MM_OK && ctx->on_body)
        rc = ctx->on_body(e, pt, got, ctx->arg);
    sodium_memzero(pt, n);
    if (pt != stackbuf)
        free(pt);
    return rc;
}

int mm_entry_verify(const uint8_t *buf, size_t len, const mm_verify_ctx_t *ctx,
                    unsigned flags, mm_entry_t *out)
{
    mm_entry_t e;
    int rc = mm_entry_parse(buf, len, &e);
    if (rc == MM_OK)
        rc = mm_entry_check(&e, ctx, flags);
    if (rc == MM_OK && out)
        *out = e;
    return rc;
}

int mm_entry_sig(const mm_entry_t *e)
{
    return mm_verify_digest(e->author, MM_CTX_ENTRY, e->digest, e->sig);
}

int mm_entry_hash_sig(mm_entry_t *e)
{
    mm_entry_hash(e);
    return mm_entry_sig(e);
}

/* Steps 2..7 of the verifier.  sig_rc is mm_entry_sig's answer for e when
 * the caller already has it, or SIG_HERE to run that step here, in its
 * place in the order. */
#define SIG_HERE 1

static int check(const mm_entry_t *e, const mm_verify_ctx_t *ctx, unsigned flags, int sig_rc)
{
    const mm_scope_t *s = ctx->scope;
    if (!s || memcmp(s->id, e->scope, 32) != 0)
        return MM_ESCOPE;
    if (!ctx->cert)
        return MM_ENOCERT;
    /* a mailbox's key writes nothing: it only stores and forwards */
    if (memcmp(ctx->cert->device, e->author, MM_PK_BYTES) != 0
        || (ctx->cert->flags & MM_CERT_MAILBOX))
        return MM_EBADCERT;
    if (!mm_scope_has_member(s, ctx->cert->identity))
        return MM_ESCOPE;
    /* check 4a: what a revoked device wrote after its last valid entry */
    if (ctx->revoked && e->seq > ctx->revoked_last)
        return MM_EREVOKED;
    uint64_t head = ctx->head ? ctx->head->seq : 0;
    if (e->seq <= head)
        return MM_ESEQDUP;
    if (e->seq > head + 1)
        return MM_ESEQGAP;
    if (e->seq == 1 ? e->prev != NULL
                   : (!e->prev || memcmp(e->prev, ctx->head->id, MM_HASH_BYTES) != 0))
        return MM_EPREV;
    int rc = sig_rc == SIG_HERE ? mm_entry_sig(e) : sig_rc;
    if (rc)
        return rc;
    if (flags & (MM_VERIFY_OWN | MM_VERIFY_BLIND))
        return MM_OK;
    return check_box(e, ctx);
}

int mm_entry_check(const mm_entry_t *e, const mm_verify_ctx_t *ctx, unsigned flags)
{
    return check(e, ctx, flags, SIG_HERE);
}

int mm_entry_check_sig(const mm_entry_t *e, const mm_verify_ctx_t *ctx, unsigned flags,
                       int sig_rc)
{
    /* anything but MM_OK is a failed signature step, SIG_HERE included */
    return check(e, ctx, flags, sig_rc == MM_OK ? MM_OK : MM_EBADSIG);
}
