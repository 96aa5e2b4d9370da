#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sodium.h>
#include "crypto/keyfile.h"
#include "crypto/hash.h"
#include "crypto/error.h"

#define MAGIC     "mmsk"
#define VERSION   1
#define CHECK_AT  72

static int errno_rc(int e)
{
    switch (e) {
    case EEXIST: return MM_EEXIST;
    case ENOENT: return MM_ENOTFOUND;
    case EACCES: case EPERM: case EROFS: return MM_EPERM;
    case ENOSPC: case EDQUOT: return MM_EFULL;
    case ELOOP:  return MM_EPERM;        /* a symlink where a key should be: refused, like a mode */
    default:     return MM_EIO;
    }
}

static void layout(uint8_t f[MM_KEYFILE_BYTES], int kind, const mm_keypair_t *kp)
{
    uint8_t h[MM_HASH_BYTES];
    memset(f, 0, MM_KEYFILE_BYTES);
    memcpy(f, MAGIC, 4);
    f[4] = VERSION;
    f[5] = (uint8_t) kind;
    memcpy(f + 8, mm_keypair_seed(kp), MM_SEED_BYTES);
    memcpy(f + 40, mm_keypair_pk(kp), MM_PK_BYTES);
    mm_hash(h, f, CHECK_AT);
    memcpy(f + CHECK_AT, h, 8);
}

int mm_keyfile_write(const char *path, int kind, const mm_keypair_t *kp)
{
    uint8_t f[MM_KEYFILE_BYTES];
    int rc;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return errno == ELOOP ? MM_EEXIST : errno_rc(errno);
    layout(f, kind, kp);
    ssize_t n = write(fd, f, sizeof f);
    if (n != (ssize_t) sizeof f) {
        rc = n < 0 ? errno_rc(errno) : MM_EFULL;
        goto fail;
    }
    if (fsync(fd) != 0) {
        rc = errno_rc(errno);
        goto fail;
    }
    if (close(fd) != 0) {
        fd = -1;
        rc = errno_rc(errno);
        goto fail;
    }
    sodium_memzero(f, sizeof f);
    return MM_OK;
fail:
    sodium_memzero(f, sizeof f);
    if (fd >= 0)
        close(fd);
    unlink(path);                   /* we created it (O_EXCL): no half key left */
    return rc;
}

int mm_keyfile_read(const char *path, int kind, mm_keypair_t **out)
{
    uint8_t f[MM_KEYFILE_BYTES + 1];
    uint8_t h[MM_HASH_BYTES];
    struct stat st;
    int rc = MM_EKEYFILE;
    *out = NULL;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno_rc(errno);
    if (fstat(fd, &st) != 0) {
        rc = errno_rc(errno);
        goto out;
    }
    if (!S_ISREG(st.st_mode))
        goto out;
    if (st.st_mode & 077) {         /* like ssh: a secret others can read is refused */
        rc = MM_EPERM;
        goto out;
    }
    ssize_t n = read(fd, f, sizeof f);   /* one byte more than allowed: detect longer files */
    if (n < 0) {
        rc = errno_rc(errno);
        goto out;
    }
    if (n != MM_KEYFILE_BYTES || memcmp(f, MAGIC, 4) != 0 || f[4] != VERSION
        || f[5] != (uint8_t) kind || f[6] || f[7])
        goto out;
    mm_hash(h, f, CHECK_AT);
    if (sodium_memcmp(h, f + CHECK_AT, 8) != 0)
        goto out;
    mm_keypair_t *kp = mm_keypair_new_from_seed(f + 8);
    if (!kp) {
        rc = MM_ENOMEM;
        goto out;
    }
    if (memcmp(mm_keypair_pk(kp), f + 40, MM_PK_BYTES) != 0) {
        mm_keypair_destroy(&kp);
        goto out;
    }
    *out = kp;
    rc = MM_OK;
out:
    sodium_memzero(f, sizeof f);
    close(fd);
    return rc;
}
