/*  random.h -- every random byte mm uses: nonces, secrets, keys, ids.
 *
 *  All of them come from libsodium's generator (getrandom(2) on Linux).
 *  mm_random_bytes serves them from a small per-process pool, so that an
 *  append (one 24-byte nonce) costs a system call only every 4 KiB;
 *  mm_random_direct skips the pool, for key seeds (crypto/sign.c), so that
 *  no copy of a long-term key's seed ever sits in the pool's memory.
 */
#ifndef MM_RANDOM_H
#define MM_RANDOM_H

#include <stddef.h>

#define MM_RANDOM_POOL_BYTES 4096   /* refilled whole; the unit test crosses it */

/* Fill buf[0..len) with cryptographically secure random bytes from the
 * pool, refilling it as often as len needs.  Bytes are wiped from the pool
 * as they are handed out, and a forked child drops the pool it inherited:
 * no byte is handed out twice, to two calls or to two processes.  Not
 * thread-safe (mm has one thread).  Cannot fail. */
void mm_random_bytes(void *buf, size_t len);

/* Fill buf[0..len) with cryptographically secure random bytes straight
 * from libsodium, bypassing the pool.  Cannot fail. */
void mm_random_direct(void *buf, size_t len);

#endif
