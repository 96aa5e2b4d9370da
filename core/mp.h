/*  mp.h -- canonical msgpack: a bounded reader and a fixed-buffer writer.
 *
 *  mm's canonical msgpack: every value in its shortest form (positive fixint
 *  / uint8 / uint16 / uint32 / uint64 for integers, which are never negative;
 *  fixstr / str8 / str16 / str32; bin8 / bin16 / bin32; fixarray / array16 /
 *  array32; fixmap / map16 / map32), and map keys str in mm_mp_key_cmp
 *  order; nil is 0xc0, false 0xc2, true 0xc3.  The reader rejects any other
 *  form with MM_ENONCANON, so one value has exactly one accepted encoding.
 *
 *  The reader never allocates.  Every length and count is checked against the
 *  bytes that remain before it is trusted (an element takes at least one
 *  byte), so a claimed count can never drive an allocation or a long loop.
 *  Returned pointers point into the caller's buffer.
 */
#ifndef MM_MP_H
#define MM_MP_H

#include <stddef.h>
#include "crypto/error.h"
#include <stdint.h>
#include <msgpack.h>

#define MM_MP_MAX_DEPTH 16      /* nesting limit for mm_mp_skip */

typedef struct {
    const uint8_t *p;           /* next byte */
    const uint8_t *end;         /* one past the last byte */
} mm_mp_reader_t;

void   mm_mp_reader_init(mm_mp_reader_t *r, const void *buf, size_t len);
size_t mm_mp_left(const mm_mp_reader_t *r);

/* Each reads one value of its type at r->p and advances past it.  On error r
 * is left where it was.  Errors: MM_ETRUNC (bytes end first), MM_EMALFORMED
 * (another type is there), MM_ENONCANON (not the shortest form). */
int mm_mp_array(mm_mp_reader_t *r, uint32_t *n) MM_NODISCARD;
int mm_mp_map(mm_mp_reader_t *r, uint32_t *n) MM_NODISCARD;
int mm_mp_uint(mm_mp_reader_t *r, uint64_t *v) MM_NODISCARD;
int mm_mp_bin(mm_mp_reader_t *r, const uint8_t **p, uint32_t *n) MM_NODISCARD;
int mm_mp_str(mm_mp_reader_t *r, const char **s, uint32_t *n) MM_NODISCARD;
int mm_mp_nil(mm_mp_reader_t *r) MM_NODISCARD;
int mm_mp_bool(mm_mp_reader_t *r, int *v) MM_NODISCARD;

/* A bin of exactly n bytes (else MM_EMALFORMED). */
int mm_mp_bin_n(mm_mp_reader_t *r, const uint8_t **p, uint32_t n) MM_NODISCARD;

/* 1 if the next byte is nil, else 0 (also at end of input). */
int mm_mp_peek_nil(const mm_mp_reader_t *r);

/* Skip one value of mm's subset of msgpack: nil, bool, uint, str, bin, and
 * arrays and maps of them, nested at most MM_MP_MAX_DEPTH deep (else
 * MM_ETOOBIG).  MM_ENONCANON for anything else: a signed int, a float, an
 * ext (a timestamp too), a form that is not the shortest, a map whose keys
 * are not str in strictly increasing mm_mp_key_cmp order.  MM_EMALFORMED
 * for 0xc1 (never used), MM_ETRUNC when the bytes end first. */
int mm_mp_skip(mm_mp_reader_t *r) MM_NODISCARD;

/* The order of map keys (PROTOCOL.md 2): bytewise over the raw key bytes,
 * compared as unsigned; a key that is a prefix of another comes first
 * ("a" < "ab" < "b").  Less than, equal to or greater than 0, like memcmp. */
int mm_mp_key_cmp(const char *a, uint32_t an, const char *b, uint32_t bn);

/* Writer into a caller-owned fixed buffer, through msgpack-c's packer (which
 * always picks the shortest form).  Writing past cap sets overflow and keeps
 * len at what fitted; check mm_mp_writer_status() once at the end. */
typedef struct {
    uint8_t *buf;
    size_t cap;
    size_t len;
    int overflow;
    msgpack_packer pk;
} mm_mp_writer_t;

void mm_mp_writer_init(mm_mp_writer_t *w, void *buf, size_t cap);
/* MM_OK, or MM_ETOOBIG if anything did not fit. */
int  mm_mp_writer_status(const mm_mp_writer_t *w);

void mm_mp_put_array(mm_mp_writer_t *w, uint32_t n);
void mm_mp_put_map(mm_mp_writer_t *w, uint32_t n);
void mm_mp_put_uint(mm_mp_writer_t *w, uint64_t v);
void mm_mp_put_bin(mm_mp_writer_t *w, const void *p, size_t n);
void mm_mp_put_str(mm_mp_writer_t *w, const char *s, size_t n);
void mm_mp_put_cstr(mm_mp_writer_t *w, const char *s);
void mm_mp_put_nil(mm_mp_writer_t *w);
void mm_mp_put_bool(mm_mp_writer_t *w, int v);
/* n bytes as they are: an already encoded value. */
void mm_mp_put_raw(mm_mp_writer_t *w, const void *p, size_t n);

#endif
