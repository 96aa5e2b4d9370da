#include <string.h>
#include "core/mp.h"
#include "crypto/error.h"

void mm_mp_reader_init(mm_mp_reader_t *r, const void *buf, size_t len)
{
    r->p = buf;
    r->end = r->p + len;
}

size_t mm_mp_left(const mm_mp_reader_t *r)
{
    return (size_t) (r->end - r->p);
}

static uint64_t be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* Read a length-carrying header: fix range [fixlo, fixlo+fixmax], then the
 * 8/16/32-bit forms at op8/op16/op32 (0 when the type has no such form).
 * min_wide[k] is the smallest length the k-th wide form may carry.  Advances
 * *p past the header only; the caller checks the payload. */
static int header(const mm_mp_reader_t *r, const uint8_t **p, uint64_t *len,
                  int fixlo, int fixmax, int op8, int op16, int op32)
{
    const uint8_t *q = r->p;
    if (q >= r->end)
        return MM_ETRUNC;
    int b = *q++;
    int w;
    uint64_t min;
    if (fixmax >= 0 && b >= fixlo && b <= fixlo + fixmax) {
        *len = (uint64_t) (b - fixlo);
        *p = q;
        return MM_OK;
    }
    if (op8 && b == op8)        { w = 1; min = fixmax + 1; }
    else if (op16 && b == op16) { w = 2; min = op8 ? 256 : (uint64_t) fixmax + 1; }
    else if (op32 && b == op32) { w = 4; min = 65536; }
    else return MM_EMALFORMED;
    if (r->end - q < w)
        return MM_ETRUNC;
    *len = be(q, w);
    if (*len < min)
        return MM_ENONCANON;
    *p = q + w;
    return MM_OK;
}

/* Containers: every element takes at least one byte, so a count larger than
 * the bytes left is a truncation, found before anything loops over it. */
int mm_mp_array(mm_mp_reader_t *r, uint32_t *n)
{
    const uint8_t *p;
    uint64_t len;
    int rc = header(r, &p, &len, 0x90, 15, 0, 0xdc, 0xdd);
    if (rc)
        return rc;
    if (len > (uint64_t) (r->end - p))
        return MM_ETRUNC;
    r->p = p;
    *n = (uint32_t) len;
    return MM_OK;
}

int mm_mp_map(mm_mp_reader_t *r, uint32_t *n)
{
    const uint8_t *p;
    uint64_t len;
    int rc = header(r, &p, &len, 0x80, 15, 0, 0xde, 0xdf);
    if (rc)
        return rc;
    if (2 * len > (uint64_t) (r->end - p))
        return MM_ETRUNC;
    r->p = p;
    *n = (uint32_t) len;
    return MM_OK;
}

static int payload(mm_mp_reader_t *r, int fixlo, int fixmax, int op8, int op16, int op32,
                   const uint8_t **data, uint32_t *n)
{
    const uint8_t *p;
    uint64_t len;
    int rc = header(r, &p, &len, fixlo, fixmax, op8, op16, op32);
    if (rc)
        return rc;
    if (len > (uint64_t) (r->end - p))
        return MM_ETRUNC;
    *data = p;
    *n = (uint32_t) len;
    r->p = p + len;
    return MM_OK;
}

int mm_mp_bin(mm_mp_reader_t *r, const uint8_t **p, uint32_t *n)
{
    /* bin has no fix form: bin8 carries 0..255 */
    return payload(r, 0, -1, 0xc4, 0xc5, 0xc6, p, n);
}

int mm_mp_str(mm_mp_reader_t *r, const char **s, uint32_t *n)
{
    /* through a pointer of its own type: writing *s as a const uint8_t *
     * breaks the aliasing rules, and GCC -O2 then reads a stale *s */
    const uint8_t *p;
    int rc = payload(r, 0xa0, 31, 0xd9, 0xda, 0xdb, &p, n);
    if (rc == MM_OK)
        *s = (const char *) p;
    return rc;
}

int mm_mp_bin_n(mm_mp_reader_t *r, const uint8_t **p, uint32_t n)
{
    mm_mp_reader_t save = *r;
    uint32_t got;
    int rc = mm_mp_bin(r, p, &got);
    if (rc == MM_OK && got != n) {
        *r = save;
        rc = MM_EMALFORMED;
    }
    return rc;
}

int mm_mp_uint(mm_mp_reader_t *r, uint64_t *v)
{
    const uint8_t *q = r->p;
    if (q >= r->end)
        return MM_ETRUNC;
    int b = *q++;
    if (b <= 0x7f) {
        *v = (uint64_t) b;
        r->p = q;
        return MM_OK;
    }
    int w;
    uint64_t min;
    switch (b) {
    case 0xcc: w = 1; min = 0x80; break;
    case 0xcd: w = 2; min = 0x100; break;
    case 0xce: w = 4; min = 0x10000; break;
    case 0xcf: w = 8; min = 0x100000000ull; break;
    default:   return MM_EMALFORMED;
    }
    if (r->end - q < w)
        return MM_ETRUNC;
    uint64_t x = be(q, w);
    if (x < min)
        return MM_ENONCANON;
    *v = x;
    r->p = q + w;
    return MM_OK;
}

int mm_mp_nil(mm_mp_reader_t *r)
{
    if (r->p >= r->end)
        return MM_ETRUNC;
    if (*r->p != 0xc0)
        return MM_EMALFORMED;
    r->p++;
    return MM_OK;
}

int mm_mp_peek_nil(const mm_mp_reader_t *r)
{
    return r->p < r->end && *r->p == 0xc0;
}

int mm_mp_bool(mm_mp_reader_t *r, int *v)
{
    if (r->p >= r->end)
        return MM_ETRUNC;
    if (*r->p != 0xc2 && *r->p != 0xc3)
        return MM_EMALFORMED;
    *v = *r->p == 0xc3;
    r->p++;
    return MM_OK;
}

static int is_str(int b)
{
    return (b >= 0xa0 && b <= 0xbf) || (b >= 0xd9 && b <= 0xdb);
}

int mm_mp_key_cmp(const char *a, uint32_t an, const char *b, uint32_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    return c ? c : (an > bn) - (an < bn);
}

static int skip(mm_mp_reader_t *r, int depth)
{
    if (r->p >= r->end)
        return MM_ETRUNC;
    int b = *r->p;
    uint64_t u;
    uint32_t n;
    const uint8_t *d;
    const char *s;
    if (b <= 0x7f || (b >= 0xcc && b <= 0xcf))
        return mm_mp_uint(r, &u);
    if (is_str(b))
        return mm_mp_str(r, &s, &n);
    if (b >= 0xc4 && b <= 0xc6)
        return mm_mp_bin(r, &d, &n);
    if (b == 0xc0 || b == 0xc2 || b == 0xc3) {     /* nil, false, true */
        r->p++;
        return MM_OK;
    }
    int is_map = (b >= 0x80 && b <= 0x8f) || b == 0xde || b == 0xdf;
    int is_array = (b >= 0x90 && b <= 0x9f) || b == 0xdc || b == 0xdd;
    /* Signed ints, floats and ext (timestamps too) are msgpack, but not
     * mm's: a value nobody here reads still has one encoding, so an entry
     * is valid to every version alike (PROTOCOL.md 2).  0xc1 is not
     * msgpack at all. */
    if (!is_map && !is_array)
        return b == 0xc1 ? MM_EMALFORMED : MM_ENONCANON;
    if (depth >= MM_MP_MAX_DEPTH)
        return MM_ETOOBIG;
    mm_mp_reader_t save = *r;
    int rc = is_map ? mm_mp_map(r, &n) : mm_mp_array(r, &n);
    if (rc)
        return rc;
    const char *key = NULL, *prev = NULL;
    uint32_t klen = 0, plen = 0;
    for (uint32_t i = 0; i < n; i++) {
        /* a map's keys: str, each greater than the one before */
        if (is_map) {
            if (r->p < r->end && !is_str(*r->p))
                rc = MM_ENONCANON;  // NOLINT(bugprone-branch-clone): two reasons, one code
            else if ((rc = mm_mp_str(r, &key, &klen)) == MM_OK && i > 0
                     && mm_mp_key_cmp(prev, plen, key, klen) >= 0)
                rc = MM_ENONCANON;
            prev = key;
            plen = klen;
        }
        if (rc == MM_OK)
            rc = skip(r, depth + 1);
        if (rc) {
            *r = save;
            return rc;
        }
    }
    return MM_OK;
}

int mm_mp_skip(mm_mp_reader_t *r)
{
    mm_mp_reader_t save = *r;
    int rc = skip(r, 0);
    if (rc)
        *r = save;
    return rc;
}

/* ---- writer ---- */

static int writer_cb(void *data, const char *buf, size_t len)
{
    mm_mp_writer_t *w = data;
    if (w->overflow || len > w->cap - w->len) {
        w->overflow = 1;
        return -1;
    }
    memcpy(w->buf + w->len, buf, len);
    w->len += len;
    return 0;
}

void mm_mp_writer_init(mm_mp_writer_t *w, void *buf, size_t cap)
{
    w->buf = buf;
    w->cap = cap;
    w->len = 0;
    w->overflow = 0;
    msgpack_packer_init(&w->pk, w, writer_cb);
}

int mm_mp_writer_status(const mm_mp_writer_t *w)
{
    return w->overflow ? MM_ETOOBIG : MM_OK;
}

void mm_mp_put_array(mm_mp_writer_t *w, uint32_t n) { msgpack_pack_array(&w->pk, n); }
void mm_mp_put_map(mm_mp_writer_t *w, uint32_t n)   { msgpack_pack_map(&w->pk, n); }
void mm_mp_put_uint(mm_mp_writer_t *w, uint64_t v)  { msgpack_pack_uint64(&w->pk, v); }
void mm_mp_put_nil(mm_mp_writer_t *w)               { msgpack_pack_nil(&w->pk); }

void mm_mp_put_bool(mm_mp_writer_t *w, int v)
{
    if (v)
        msgpack_pack_true(&w->pk);
    else
        msgpack_pack_false(&w->pk);
}

void mm_mp_put_bin(mm_mp_writer_t *w, const void *p, size_t n)
{
    msgpack_pack_bin(&w->pk, n);
    if (n)
        msgpack_pack_bin_body(&w->pk, p, n);
}

void mm_mp_put_str(mm_mp_writer_t *w, const char *s, size_t n)
{
    msgpack_pack_str(&w->pk, n);
    if (n)
        msgpack_pack_str_body(&w->pk, s, n);
}

void mm_mp_put_cstr(mm_mp_writer_t *w, const char *s)
{
    mm_mp_put_str(w, s, strlen(s));
}

void mm_mp_put_raw(mm_mp_writer_t *w, const void *p, size_t n)
{
    msgpack_pack_bin_body(&w->pk, p, n);   /* appends the bytes, no header */
}
