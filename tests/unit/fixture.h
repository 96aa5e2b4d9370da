/*  fixture.h -- shared helpers for the cmocka unit tests.
 *
 *  Fixed-seed key pairs (so failures reproduce), a temporary directory
 *  removed recursively afterwards, a self scope built by hand, hex helpers
 *  and a growable byte buffer for encodings made by hand.  Everything is
 *  static inline: each test program includes this once.
 */
#ifndef MM_TEST_FIXTURE_H
#define MM_TEST_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/error.h"
#include "crypto/hash.h"
#include "crypto/sign.h"
#include "core/mp.h"
#include "core/scope.h"
#include "core/store.h"

/* Assert an mm return code, naming both codes on failure. */
#define assert_rc(rc, want) do {                                              \
        int rc_ = (rc), want_ = (want);                                       \
        if (rc_ != want_)                                                     \
            print_error("got %s (%d), want %s (%d)\n", mm_errname(rc_), rc_,  \
                        mm_errname(want_), want_);                            \
        assert_int_equal(rc_, want_);                                         \
    } while (0)

/* ---- key pairs ---------------------------------------------------------- */

/* The key pair whose seed is 32 bytes of tag; never NULL. */
static inline mm_keypair_t *fx_keypair(uint8_t tag)
{
    uint8_t seed[MM_SEED_BYTES];
    memset(seed, tag, sizeof seed);
    mm_keypair_t *kp = mm_keypair_new_from_seed(seed);
    assert_non_null(kp);
    return kp;
}

/* ---- scopes ------------------------------------------------------------- */

/* The self scope of identity_pk with a key made of keytag bytes. */
static inline void fx_self_scope(mm_scope_t *s, const uint8_t identity_pk[32],
                                 uint8_t keytag)
{
    memset(s, 0, sizeof *s);
    mm_scope_self_id(s->id, identity_pk);
    s->kind = MM_SCOPE_SELF;
    memset(s->keys[0], keytag, 32);
    s->nkeys = 1;
    s->nmembers = 1;
    memcpy(s->members[0], identity_pk, 32);
    s->created = 1700000000000ull;
}

/* ---- hex ---------------------------------------------------------------- */

static inline int fx_hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Parse hex digits into out, skipping spaces; returns the byte count.
 * Test inputs are literals, so a bad one is a bug in the test: fail. */
static inline size_t fx_unhex(uint8_t *out, size_t cap, const char *hex)
{
    size_t n = 0;
    while (*hex) {
        if (*hex == ' ') {
            hex++;
            continue;
        }
        int hi = fx_hexval(hex[0]), lo = hex[1] ? fx_hexval(hex[1]) : -1;
        assert_true(hi >= 0 && lo >= 0);
        assert_true(n < cap);
        out[n++] = (uint8_t) ((unsigned) hi << 4 | (unsigned) lo);
        hex += 2;
    }
    return n;
}

/* ---- temporary directories ---------------------------------------------- */

#define FX_PATH_MAX 512

/* Remove path and everything below it, not following symlinks. */
static inline int fx_rmrf(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode))
        return unlink(path);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        char sub[FX_PATH_MAX];
        int n = snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
        if (n < 0 || (size_t) n >= sizeof sub || fx_rmrf(sub) != 0)
            rc = -1;
    }
    closedir(d);
    if (rmdir(path) != 0)
        rc = -1;
    return rc;
}

/* A fresh empty directory under $TMPDIR (or /tmp), mode 0700. */
static inline void fx_mkdtemp(char out[FX_PATH_MAX])
{
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp)
        tmp = "/tmp";
    int n = snprintf(out, FX_PATH_MAX, "%s/mm-unit-XXXXXX", tmp);
    assert_true(n > 0 && n < FX_PATH_MAX);
    assert_non_null(mkdtemp(out));
}

/* out = dir "/" name. */
static inline void fx_path(char out[FX_PATH_MAX], const char *dir, const char *name)
{
    int n = snprintf(out, FX_PATH_MAX, "%s/%s", dir, name);
    assert_true(n > 0 && n < FX_PATH_MAX);
}

/* Whole file into a malloc'd buffer; returns its length, -1 if unreadable. */
static inline long fx_read_file(const char *path, uint8_t **out)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 256;
            uint8_t *nb = realloc(buf, cap);
            assert_non_null(nb);
            buf = nb;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    fclose(f);
    *out = buf;
    return (long) len;
}

static inline void fx_write_file(const char *path, const void *buf, size_t len,
                                 mode_t mode)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, mode), 0);
}

static inline mode_t fx_mode(const char *path)
{
    struct stat st;
    assert_int_equal(lstat(path, &st), 0);
    return st.st_mode & 07777;
}

/* A store created in a fresh temporary directory; fx_store_done closes it
 * and removes the directory. */
typedef struct {
    char dir[FX_PATH_MAX];
    mm_store_t *store;
} fx_store_t;

static inline void fx_store_new(fx_store_t *fs)
{
    fx_mkdtemp(fs->dir);
    fs->store = NULL;
    int rc = mm_store_open(fs->dir, MM_STORE_CREATE, &fs->store);
    assert_int_equal(rc, MM_OK);
    assert_non_null(fs->store);
}

static inline int fx_store_done(fx_store_t *fs)
{
    mm_store_close(&fs->store);
    return fx_rmrf(fs->dir);
}

/* ---- hand-made encodings ------------------------------------------------ */

/* A byte buffer that msgpack values (through the real writer) and raw
 * bytes can be appended to, for building encodings the library would never
 * produce itself (non-canonical, wrong version, oversize). */
typedef struct {
    uint8_t *b;
    size_t len, cap;
} fx_buf_t;

static inline void fx_buf_init(fx_buf_t *t, size_t cap)
{
    t->b = malloc(cap);
    assert_non_null(t->b);
    t->len = 0;
    t->cap = cap;
}

static inline void fx_buf_free(fx_buf_t *t)
{
    free(t->b);
    t->b = NULL;
    t->len = t->cap = 0;
}

static inline void fx_raw(fx_buf_t *t, const void *p, size_t n)
{
    assert_true(n <= t->cap - t->len);
    memcpy(t->b + t->len, p, n);
    t->len += n;
}

/* Append raw bytes given as hex ("cc 01"). */
static inline void fx_rawhex(fx_buf_t *t, const char *hex)
{
    uint8_t tmp[64];
    size_t n = fx_unhex(tmp, sizeof tmp, hex);
    fx_raw(t, tmp, n);
}

/* A writer over the free tail of t; fx_mp_end appends what it wrote. */
static inline void fx_mp_begin(fx_buf_t *t, mm_mp_writer_t *w)
{
    mm_mp_writer_init(w, t->b + t->len, t->cap - t->len);
}

static inline void fx_mp_end(fx_buf_t *t, mm_mp_writer_t *w)
{
    assert_int_equal(mm_mp_writer_status(w), MM_OK);
    t->len += w->len;
}

static inline void fx_uint(fx_buf_t *t, uint64_t v)
{
    mm_mp_writer_t w;
    fx_mp_begin(t, &w);
    mm_mp_put_uint(&w, v);
    fx_mp_end(t, &w);
}

static inline void fx_bin(fx_buf_t *t, const void *p, size_t n)
{
    mm_mp_writer_t w;
    fx_mp_begin(t, &w);
    mm_mp_put_bin(&w, p, n);
    fx_mp_end(t, &w);
}

static inline void fx_str(fx_buf_t *t, const char *s)
{
    mm_mp_writer_t w;
    fx_mp_begin(t, &w);
    mm_mp_put_cstr(&w, s);
    fx_mp_end(t, &w);
}

static inline void fx_nil(fx_buf_t *t)
{
    mm_mp_writer_t w;
    fx_mp_begin(t, &w);
    mm_mp_put_nil(&w);
    fx_mp_end(t, &w);
}

static inline void fx_array(fx_buf_t *t, uint32_t n)
{
    mm_mp_writer_t w;
    fx_mp_begin(t, &w);
    mm_mp_put_array(&w, n);
    fx_mp_end(t, &w);
}

static inline void fx_map(fx_buf_t *t, uint32_t n)
{
    mm_mp_writer_t w;
    fx_mp_begin(t, &w);
    mm_mp_put_map(&w, n);
    fx_mp_end(t, &w);
}

/* A note body { "t": "note", "text": text } as the writers make it. */
static inline size_t fx_note_body(uint8_t *out, size_t cap, const char *text)
{
    mm_mp_writer_t w;
    mm_mp_writer_init(&w, out, cap);
    mm_mp_put_map(&w, 2);
    mm_mp_put_cstr(&w, "t");
    mm_mp_put_cstr(&w, "note");
    mm_mp_put_cstr(&w, "text");
    mm_mp_put_cstr(&w, text);
    assert_int_equal(mm_mp_writer_status(&w), MM_OK);
    return w.len;
}

/* Group setup shared by every test program. */
static inline int fx_setup_crypto(void **state)
{
    (void) state;
    return mm_crypto_init() == MM_OK ? 0 : -1;
}

#endif
