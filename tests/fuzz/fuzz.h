/*  fuzz.h -- what the libFuzzer harnesses share: the entry points, fixed
 *  keys, temporary directories, framed inputs and seed files.
 *
 *  Each tests/fuzz/fuzz_TARGET.c is one harness: LLVMFuzzerInitialize
 *  builds its fixed world once per process (keys from fixed seeds, so the
 *  seeds in corpus/TARGET stay valid), LLVMFuzzerTestOneInput feeds one
 *  input to the real code and abort()s when an invariant breaks, and
 *  fz_seeds writes the seed corpus from the code's own encoders.  The same
 *  file links either with libFuzzer (-DMM_FUZZ=ON, clang: fuzz_TARGET) or
 *  with replay.c (any compiler: replay_TARGET, which ctest runs over the
 *  seeds and the findings in regress/TARGET).  Everything here is static:
 *  each harness includes this once.
 */
#ifndef MM_FUZZ_H
#define MM_FUZZ_H

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/error.h"
#include "crypto/sign.h"
#include "core/body.h"
#include "core/entry.h"
#include "core/home.h"
#include "core/mp.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Write this harness's seed corpus into dir (which exists).  Called after
 * LLVMFuzzerInitialize, by `replay_TARGET --write-seeds DIR`. */
void fz_seeds(const char *dir);

#define FZ_TIME     1767225600000ull        /* 2026-01-01, the fixed clock */
#define FZ_PATH_MAX 512

/* A broken invariant, or a fixture that cannot be built: a finding. */
#define FZ_ASSERT(cond) do {                                                   \
        if (!(cond)) {                                                         \
            fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, \
                    #cond);                                                    \
            abort();                                                           \
        }                                                                      \
    } while (0)
#define FZ_OK(rc) do {                                                         \
        int fz_rc_ = (rc);                                                     \
        if (fz_rc_ != MM_OK) {                                                 \
            fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #rc,        \
                    mm_errname(fz_rc_));                                       \
            abort();                                                           \
        }                                                                      \
    } while (0)

/* 1 if FZ_VERBOSE is set: harnesses then say on stderr what each step of
 * an input returned (to see how far a seed or a finding gets). */
static inline int fz_verbose(void)
{
    static int v = -1;
    if (v < 0)
        v = getenv("FZ_VERBOSE") != NULL;
    return v;
}

/* The key pair whose seed is 32 bytes of tag. */
static inline mm_keypair_t *fz_keypair(uint8_t tag)
{
    uint8_t bytes[MM_SEED_BYTES];
    memset(bytes, tag, sizeof bytes);
    mm_keypair_t *kp = mm_keypair_new_from_seed(bytes);
    FZ_ASSERT(kp);
    return kp;
}

/* The fixed people of the harnesses: Grace and Ada share the pair scope
 * (id 0x41..., key 0x42...); Carl is a stranger to both. */
#define FZ_GRACE_ID  0x11
#define FZ_GRACE_DEV 0x12
#define FZ_ADA_ID    0x21
#define FZ_ADA_DEV   0x22
#define FZ_CARL_ID   0x31
#define FZ_CARL_DEV  0x32

/* The certificate identity makes for device (created FZ_TIME). */
static inline size_t fz_cert(const mm_keypair_t *identity, const mm_keypair_t *device,
                             const char *devname, uint8_t out[MM_CERT_MAX])
{
    size_t len;
    FZ_OK(mm_cert_make(identity, device, FZ_TIME, devname, 0, out, MM_CERT_MAX,
                       &len));
    return len;
}

/* The pair scope of grace and ada (identity public keys). */
static inline void fz_pair_scope(mm_scope_t *s, const uint8_t grace[32], const uint8_t ada[32])
{
    memset(s, 0, sizeof *s);
    memset(s->id, 0x41, 32);
    memset(s->keys[0], 0x42, 32);
    s->nkeys = 1;
    s->kind = MM_SCOPE_PAIR;
    s->nmembers = 2;
    memcpy(s->members[0], grace, 32);
    memcpy(s->members[1], ada, 32);
    s->created = FZ_TIME;
}

/* The entry after *head in device's feed of scope s: a note saying text, at
 * FZ_TIME + seq, its nonce nonce_tag bytes (fixed, so the bytes are too).
 * Advances *head; returns the length written to out[0..cap). */
static inline size_t fz_seal(const mm_keypair_t *device, const mm_scope_t *s, mm_head_t *head,
                             uint8_t nonce_tag, const char *text, uint8_t *out, size_t cap)
{
    uint8_t pt[1024], nonce[MM_NONCE_BYTES];
    size_t ptlen, len;
    mm_field_t f[] = { { "text", MM_F_STR, text, strlen(text), 0 } };
    FZ_OK(mm_body_build(pt, sizeof pt, &ptlen, MM_T_NOTE, f, 1));
    memset(nonce, nonce_tag, sizeof nonce);
    FZ_OK(mm_entry_seal(device, s, head, FZ_TIME + head->seq + 1, nonce, pt, ptlen, out, cap,
                        &len));
    head->seq++;
    mm_hash(head->id, out, len);
    return len;
}

/* ---- temporary directories ---- */

static inline int fz_rmrf(const char *path)
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
        char sub[FZ_PATH_MAX];
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        int n = snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
        if (n < 0 || (size_t) n >= sizeof sub || fz_rmrf(sub) != 0)
            rc = -1;
    }
    closedir(d);
    return rmdir(path) != 0 ? -1 : rc;
}

static char fz_dir[FZ_PATH_MAX];

static inline void fz_tmpdir_remove(void)
{
    if (fz_dir[0])
        fz_rmrf(fz_dir);
}

/* A fresh 0700 directory, removed at exit: under $TMPDIR, else /dev/shm
 * (a fuzzer commits to LMDB thousands of times a second: keep fsync off
 * the disk), else /tmp.  Returns its path. */
static inline const char *fz_tmpdir(void)
{
    const char *tmp = getenv("TMPDIR");
    struct stat st;
    if (!tmp || !*tmp)
        tmp = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK) == 0
                  ? "/dev/shm" : "/tmp";
    int n = snprintf(fz_dir, sizeof fz_dir, "%s/mm-fuzz-XXXXXX", tmp);
    FZ_ASSERT(n > 0 && (size_t) n < sizeof fz_dir - 64);
    FZ_ASSERT(mkdtemp(fz_dir));
    atexit(fz_tmpdir_remove);
    return fz_dir;
}

/* ---- a home every input meets as it was built ----
 * A harness builds the home, then fz_home_keep(); after each input,
 * fz_home_reset() puts the store file back if the input wrote to it (a
 * commit changes its size or time), so each input, and a finding replayed
 * alone, meets the same home. */

typedef struct {
    mm_home_t  *home;
    char        path[FZ_PATH_MAX + 16];
    char        store[FZ_PATH_MAX + 32];     /* path/store/data.mdb */
    char        pristine[FZ_PATH_MAX + 32];  /* its copy as built */
    struct stat st;                          /* of store, as built */
} fz_home_t;

static inline void fz_copy_file(const char *from, const char *to)
{
    static uint8_t buf[1 << 16];
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    size_t n;
    FZ_ASSERT(in && out);
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        FZ_ASSERT(fwrite(buf, 1, n, out) == n);
    FZ_ASSERT(!ferror(in) && fclose(in) == 0 && fclose(out) == 0);
}

/* h->home (open, at h->path) as it is now is what every input meets. */
static inline void fz_home_keep(fz_home_t *h)
{
    snprintf(h->store, sizeof h->store, "%s/store/data.mdb", h->path);
    snprintf(h->pristine, sizeof h->pristine, "%s.pristine.mdb", h->path);
    mm_home_close(&h->home);
    fz_copy_file(h->store, h->pristine);
    FZ_ASSERT(stat(h->store, &h->st) == 0);
    FZ_OK(mm_home_open(h->path, &h->home));
}

static inline void fz_home_reset(fz_home_t *h)
{
    struct stat st;
    FZ_ASSERT(stat(h->store, &st) == 0);
    if (st.st_size == h->st.st_size && st.st_mtim.tv_sec == h->st.st_mtim.tv_sec
        && st.st_mtim.tv_nsec == h->st.st_mtim.tv_nsec)
        return;
    if (fz_verbose())
        fprintf(stderr, "fuzz: the input wrote to %s: putting it back\n", h->path);
    mm_home_close(&h->home);
    fz_copy_file(h->pristine, h->store);
    FZ_ASSERT(stat(h->store, &h->st) == 0);
    FZ_OK(mm_home_open(h->path, &h->home));
}

/* ---- framed inputs: [u16 big-endian length][bytes]... ----
 * The next frame of *p[0..*n) into *f, *flen; 0 when none is left.  A
 * length past the end takes what remains, so every input means something. */
static inline int fz_next_frame(const uint8_t **p, size_t *n, const uint8_t **f, size_t *flen)
{
    if (*n < 2)
        return 0;
    size_t len = (size_t) (*p)[0] << 8 | (*p)[1];
    *p += 2;
    *n -= 2;
    if (len > *n)
        len = *n;
    *f = *p;
    *flen = len;
    *p += len;
    *n -= len;
    return 1;
}

/* ---- building seeds ---- */

typedef struct {
    uint8_t b[65536];
    size_t  len;
} fz_buf_t;

static inline void fz_buf_add(fz_buf_t *s, const void *p, size_t n)
{
    FZ_ASSERT(n <= sizeof s->b - s->len);
    memcpy(s->b + s->len, p, n);
    s->len += n;
}

static inline void fz_buf_byte(fz_buf_t *s, uint8_t c)
{
    fz_buf_add(s, &c, 1);
}

/* One frame of a framed input. */
static inline void fz_buf_frame(fz_buf_t *s, const void *p, size_t n)
{
    FZ_ASSERT(n <= 0xffff);
    fz_buf_byte(s, (uint8_t) (n >> 8));
    fz_buf_byte(s, (uint8_t) n);
    fz_buf_add(s, p, n);
}

/* A writer's bytes as a frame. */
static inline void fz_buf_writer(fz_buf_t *s, const mm_mp_writer_t *w)
{
    FZ_OK(mm_mp_writer_status(w));
    fz_buf_frame(s, w->buf, w->len);
}

/* dir/name := buf[0..len) */
static inline void fz_seed_write(const char *dir, const char *name, const void *buf, size_t len)
{
    char path[FZ_PATH_MAX];
    int n = snprintf(path, sizeof path, "%s/%s", dir, name);
    FZ_ASSERT(n > 0 && (size_t) n < sizeof path);
    FILE *f = fopen(path, "wb");
    FZ_ASSERT(f);
    FZ_ASSERT(fwrite(buf, 1, len, f) == len);
    FZ_ASSERT(fclose(f) == 0);
}

static inline void fz_seed_buf(const char *dir, const char *name, const fz_buf_t *s)
{
    fz_seed_write(dir, name, s->b, s->len);
}

#endif
