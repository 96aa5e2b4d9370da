#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>
#include "crypto/random.h"

/* A small pool in front of the kernel's generator: one getrandom(2) per
 * 4 KiB instead of one per 24-byte nonce.  Bytes are wiped as they are
 * handed out, and the pool is dropped in a forked child so that two
 * processes never share random bytes. */
static struct {
    uint8_t buf[MM_RANDOM_POOL_BYTES];
    size_t  used;
    pid_t   pid;
} pool = { .used = sizeof pool.buf };

void mm_random_bytes(void *buf, size_t len)
{
    uint8_t *out = buf;
    if (pool.pid != getpid()) {
        pool.pid = getpid();
        pool.used = sizeof pool.buf;
    }
    while (len > 0) {
        if (pool.used == sizeof pool.buf) {
            randombytes_buf(pool.buf, sizeof pool.buf);
            pool.used = 0;
        }
        size_t n = sizeof pool.buf - pool.used;
        if (n > len)
            n = len;
        memcpy(out, pool.buf + pool.used, n);
        sodium_memzero(pool.buf + pool.used, n);
        pool.used += n;
        out += n;
        len -= n;
    }
}

void mm_random_direct(void *buf, size_t len)
{
    randombytes_buf(buf, len);
}
