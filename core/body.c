#include <string.h>
#include "core/body.h"
#include "core/mp.h"
#include "core/schema.h"
#include <stdlib.h>
#include "crypto/error.h"

/* The order is that of every map (PROTOCOL.md 2), except that "t" comes
 * first: a reader finds the type without walking the body, and a key that
 * sorts before "t" ("ref", "kind") still follows it.  The fields of a type
 * mm knows are held to its row of the schema as they go by. */
int mm_body_check(const uint8_t *pt, size_t len)
{
    mm_mp_reader_t r;
    uint32_t n, klen, plen = 0, tlen;
    const char *key, *prev = NULL, *t;
    unsigned seen = 0;
    mm_mp_reader_init(&r, pt, len);
    if (mm_mp_map(&r, &n) || n < 1 || n > MM_BODY_FIELDS_MAX)
        return MM_EBODY;
    if (mm_mp_str(&r, &key, &klen) || klen != 1 || key[0] != 't'
        || mm_mp_str(&r, &t, &tlen) || tlen < 1 || tlen > MM_BODY_TYPE_MAX)
        return MM_EBODY;
    const mm_schema_t *s = mm_schema_find(t, tlen);
    for (uint32_t i = 1; i < n; i++) {
        if (mm_mp_str(&r, &key, &klen)
            || (klen == 1 && key[0] == 't')                     /* "t" twice */
            || (i > 1 && mm_mp_key_cmp(prev, plen, key, klen) >= 0))   /* order, or twice */
            return MM_EBODY;
        int f = s ? mm_schema_index(s, key, klen) : -1;
        if (f >= 0 ? mm_schema_value(&s->f[f], &r) : mm_mp_skip(&r))
            return MM_EBODY;
        if (f >= 0)
            seen |= 1u << f;
        prev = key;
        plen = klen;
    }
    if (mm_mp_left(&r) || (s && !mm_schema_complete(s, seen)))
        return MM_EBODY;
    return MM_OK;
}

int mm_body_type(const uint8_t *pt, size_t len, const char **t, uint32_t *tlen)
{
    mm_mp_reader_t r;
    uint32_t n, klen;
    const char *k;
    mm_mp_reader_init(&r, pt, len);
    if (mm_mp_map(&r, &n) || n < 1 || mm_mp_str(&r, &k, &klen) || klen != 1 || *k != 't'
        || mm_mp_str(&r, t, tlen))
        return MM_EBODY;
    return MM_OK;
}

int mm_body_is(const uint8_t *pt, size_t len, const char *t)
{
    const char *bt;
    uint32_t n;
    return mm_body_type(pt, len, &bt, &n) == MM_OK && n == strlen(t) && memcmp(bt, t, n) == 0;
}

/* Position r at the value of key: MM_OK, MM_ENOTFOUND or MM_EBODY. */
static int seek(mm_mp_reader_t *r, const uint8_t *pt, size_t len, const char *key)
{
    uint32_t n, klen;
    const char *k;
    size_t want = strlen(key);
    mm_mp_reader_init(r, pt, len);
    if (mm_mp_map(r, &n))
        return MM_EBODY;
    for (uint32_t i = 0; i < n; i++) {
        if (mm_mp_str(r, &k, &klen))
            return MM_EBODY;
        if (klen == want && memcmp(k, key, want) == 0)
            return MM_OK;
        if (mm_mp_skip(r))
            return MM_EBODY;
    }
    return MM_ENOTFOUND;
}

int mm_body_str(const uint8_t *pt, size_t len, const char *key, const char **s, uint32_t *n)
{
    mm_mp_reader_t r;
    int rc = seek(&r, pt, len, key);
    if (rc)
        return rc;
    return mm_mp_str(&r, s, n) ? MM_EBODY : MM_OK;
}

int mm_body_bin(const uint8_t *pt, size_t len, const char *key, const uint8_t **p, uint32_t *n)
{
    mm_mp_reader_t r;
    int rc = seek(&r, pt, len, key);
    if (rc)
        return rc;
    return mm_mp_bin(&r, p, n) ? MM_EBODY : MM_OK;
}

int mm_body_uint(const uint8_t *pt, size_t len, const char *key, uint64_t *v)
{
    mm_mp_reader_t r;
    int rc = seek(&r, pt, len, key);
    if (rc)
        return rc;
    return mm_mp_uint(&r, v) ? MM_EBODY : MM_OK;
}

/* The order mm_body_check requires of the keys after "t". */
static int by_key(const void *a, const void *b)
{
    const mm_field_t *x = *(const mm_field_t *const *) a, *y = *(const mm_field_t *const *) b;
    return mm_mp_key_cmp(x->key, (uint32_t) strlen(x->key), y->key, (uint32_t) strlen(y->key));
}

int mm_body_build(uint8_t *out, size_t cap, size_t *len, const char *type,
                  const mm_field_t *fields, size_t n)
{
    const mm_field_t *sorted[MM_BODY_FIELDS_MAX];
    if (n >= MM_BODY_FIELDS_MAX)
        return MM_EINVAL;
    for (size_t i = 0; i < n; i++)
        sorted[i] = &fields[i];
    qsort(sorted, n, sizeof *sorted, by_key);   /* NOLINT(bugprone-sizeof-expression): pointers */
    for (size_t i = 0; i < n; i++)
        if (!strcmp(sorted[i]->key, "t") || (i && !strcmp(sorted[i]->key, sorted[i - 1]->key)))
            return MM_EINVAL;
    mm_mp_writer_t w;
    mm_mp_writer_init(&w, out, cap);
    mm_mp_put_map(&w, (uint32_t) n + 1);
    mm_mp_put_cstr(&w, "t");
    mm_mp_put_cstr(&w, type);
    for (size_t i = 0; i < n; i++) {
        mm_mp_put_cstr(&w, sorted[i]->key);
        switch (sorted[i]->kind) {
        case MM_F_STR:  mm_mp_put_str(&w, sorted[i]->p, sorted[i]->n); break;
        case MM_F_BIN:  mm_mp_put_bin(&w, sorted[i]->p, sorted[i]->n); break;
        case MM_F_UINT: mm_mp_put_uint(&w, sorted[i]->u); break;
        case MM_F_BOOL: mm_mp_put_bool(&w, sorted[i]->u != 0); break;
        /* the caller's encoding, as it is: mm_body_check holds it to the schema */
        case MM_F_RAW:  mm_mp_put_raw(&w, sorted[i]->p, sorted[i]->n); break;
        }
    }
    *len = w.len;
    return mm_mp_writer_status(&w);
}

int mm_body_bool(const uint8_t *pt, size_t len, const char *key, int *v)
{
    mm_mp_reader_t r;
    int rc = seek(&r, pt, len, key);
    if (rc)
        return rc;
    return mm_mp_bool(&r, v) ? MM_EBODY : MM_OK;
}

int mm_body_ids(const uint8_t *pt, size_t len, const char *key, uint8_t (*out)[32],
                uint32_t cap, uint32_t *n)
{
    mm_mp_reader_t r;
    uint32_t count;
    const uint8_t *p;
    int rc = seek(&r, pt, len, key);
    if (rc)
        return rc;
    if (mm_mp_array(&r, &count) || count > cap)
        return MM_EBODY;
    for (uint32_t i = 0; i < count; i++) {
        if (mm_mp_bin_n(&r, &p, 32))
            return MM_EBODY;
        memcpy(out[i], p, 32);
    }
    *n = count;
    return MM_OK;
}
