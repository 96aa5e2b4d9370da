/*  vpool.h -- the verifier pool: the signature step of many entries at
 *  once, one thread per core.
 *
 *  A received run is up to MM_VPOOL_MAX entries, each of whose Ed25519
 *  signatures must verify (PROTOCOL.md 5.1, 8.3).  The pool runs the
 *  verifier's signature step, mm_entry_sig, on entries its caller has
 *  parsed (or, from mm_vpool_begin_hash, the entries' hashes first:
 *  mm_entry_hash_sig, for a caller that parsed only their structure), in
 *  parallel, and reports one result per entry; every other step of the
 *  verifier stays with the caller, in order (mm_entry_check_sig).
 *
 *  A pool of L lanes is the calling thread and L - 1 worker threads, made
 *  once and parked between calls.  Lanes claim batches of entries from the
 *  front of the call, in order (an atomic counter), and each writes only
 *  the result slots of what it claimed; the entries are read-only while a
 *  call runs.  A caller can take the results in order while the rest are
 *  being checked (mm_vpool_begin / take / end), so its own in-order work
 *  on entry i (the rest of the verifier, the store) overlaps with the
 *  workers' checks of entries i+1...; when it runs ahead it verifies the
 *  next unclaimed batch itself, so no core waits for another.
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
#define MM_VPOOL_BATCH      16      /* at most this many entries claimed at once by a lane */

typedef struct mm_vpool mm_vpool_t;

/* One call in progress (mm_vpool_begin .. mm_vpool_end); the caller's. */
typedef struct {
    mm_vpool_t       *pool;         /* NULL: checked on the caller's thread in take */
    mm_entry_t       *entries;      /* written only by a call of mm_vpool_begin_hash */
    size_t            n;
    int              *rcs;
    int               hash;         /* mm_vpool_begin_hash's call */
} mm_vpool_call_t;

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
 * path.  A call that finds the pool busy with another is checked on the
 * calling thread alone (see mm_vpool_begin). */
int mm_vpool_verify(mm_vpool_t *self, const mm_entry_t *entries, size_t n, int *rcs) MM_NODISCARD;

/* The same as a call in three steps, so the caller can use each result as
 * soon as it is known.  mm_vpool_begin hands entries[0, n) to the workers
 * (self NULL: the shared pool, as above) and returns at once: MM_OK, or
 * MM_ETOOBIG if n > MM_VPOOL_MAX (nothing started; do not call take, end
 * is harmless).  mm_vpool_take(call, i) returns mm_entry_sig(&entries[i])
 * (MM_OK or MM_EBADSIG, also stored in rcs[i]), checking it on the calling
 * thread if no worker has started it; i < n, any order (in order is what
 * it is made for).  mm_vpool_end waits until no worker touches entries or
 * rcs, drops what no lane started, and lets the next call on the pool
 * begin: call it exactly once after a successful begin, on every path,
 * before entries or rcs change.  The pool serves one call at a time: a
 * call begun while another is open on the pool (another thread's, or the
 * caller's own: a run checked while the next run's call runs ahead,
 * core/log.h mm_log_pre_start) never waits for it, and is checked on the
 * calling thread alone, in take. */
int mm_vpool_begin(mm_vpool_t *self, const mm_entry_t *entries, size_t n, int *rcs,
                   mm_vpool_call_t *call) MM_NODISCARD;
int mm_vpool_take(mm_vpool_call_t *call, size_t i) MM_NODISCARD;

/* mm_vpool_begin for entries parsed by mm_entry_parse_shape: each entry's
 * job is mm_entry_hash_sig, so its digest and id are computed on the pool
 * too, once (the one BLAKE2b pass over a 60 kB entry is most of the
 * cost of a big one).  mm_vpool_take(call, i) returns that job's answer,
 * and once it has returned entries[i].id and .digest are set and may be
 * read (acquire ordering: the lane that wrote them released them).  Until
 * end, the caller must not read entries[i].id or .digest for an i it has
 * not taken, nor touch the entries otherwise than reading their other
 * fields. */
int mm_vpool_begin_hash(mm_vpool_t *self, mm_entry_t *entries, size_t n, int *rcs,
                        mm_vpool_call_t *call) MM_NODISCARD;
void mm_vpool_end(mm_vpool_call_t *call);

/* Destroy the shared pool now (the next mm_vpool_verify(NULL, ...) makes a
 * new one).  No call on it may be running. */
void mm_vpool_shared_destroy(void);

#endif
