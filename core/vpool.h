/*  vpool.h -- the verifier pool: the signature step of many entries at
 *  once, one thread per core.
 *
 *  A received run is up to MM_VPOOL_MAX entries, each of whose Ed25519
 *  signatures must verify (PROTOCOL.md 5.1, 8.3).  The pool runs the
 *  verifier's signature step, mm_entry_sig, on entries its caller has
 *  parsed, in parallel, and reports one result per entry; every other step
 *  of the verifier stays with the caller, in order (mm_entry_check_sig).
 *
 *  A pool of L lanes is the calling thread and L - 1 worker threads, made
 *  once and parked between calls.  Lane k checks entries k, k + L, k + 2L
 *  ... and writes only their result slots; the entries are read-only while
 *  a call runs, and nothing else is shared but the pool's own lock.
 *  Workers block every asynchronous signal, so SIGINT and SIGTERM still
 *  reach the thread that waits for them.  A pool does not survive fork():
 *  in a child, make a new one (the shared pool does so by itself).
 */
#ifndef MM_VPOOL_H
#define MM_VPOOL_H

#include <stddef.h>
#include "crypto/error.h"
#include "core/entry.h"

#define MM_VPOOL_MAX        4096    /* entries per call: one received run */
#define MM_VPOOL_LANES_MAX  16      /* threads per pool, the caller's included */

typedef struct mm_vpool mm_vpool_t;

/* A pool of `lanes` lanes; 0 means one per core online
 * (sysconf(_SC_NPROCESSORS_ONLN)).  Either way at most MM_VPOOL_LANES_MAX;
 * 1 means no worker thread at all.  MM_OK with *out; MM_ENOMEM if memory
 * or a thread could not be had (nothing is left behind). */
int mm_vpool_new(unsigned lanes, mm_vpool_t **out) MM_NODISCARD;

/* Stop and join the workers, free the pool, set *self_p = NULL.  Accepts
 * NULL and *self_p == NULL.  No call on the pool may be running. */
void mm_vpool_destroy(mm_vpool_t **self_p);

/* The pool's lanes (threads that verify, the caller's included). */
unsigned mm_vpool_lanes(const mm_vpool_t *self);

/* rcs[i] = mm_entry_sig(&entries[i]) for i in [0, n): MM_OK or MM_EBADSIG
 * each.  Returns MM_OK if every signature verifies, MM_EBADSIG if any does
 * not (rcs says which), MM_ETOOBIG if n > MM_VPOOL_MAX (rcs untouched).
 * entries and rcs belong to the caller and must not be touched by another
 * thread until the call returns.  self NULL means the process's shared
 * pool, one lane per core, made on first use and destroyed at exit (or by
 * mm_vpool_shared_destroy); if it cannot be made, the signatures are
 * checked on the calling thread alone.  Every signature is checked on every
 * path.  Calls on one pool from several threads take turns. */
int mm_vpool_verify(mm_vpool_t *self, const mm_entry_t *entries, size_t n, int *rcs) MM_NODISCARD;

/* Destroy the shared pool now (the next mm_vpool_verify(NULL, ...) makes a
 * new one).  No call on it may be running. */
void mm_vpool_shared_destroy(void);

#endif
