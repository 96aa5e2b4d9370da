/*  log.h -- the append-only log: feeds of signed entries in the store.
 *
 *  No function here modifies a stored entry, and only mm_log_drop_scope
 *  (mm peer rm --purge) deletes any.  Every entry is
 *  stored through mm_log_put, mm_log_put_run or mm_log_append, each of
 *  which runs the one verifier (core/entry.h) against the stored feed head,
 *  certificate and scope, then writes the entry and the new head in the
 *  caller's transaction, so a commit stores both or neither.
 *
 *  In that same transaction each of them applies what a stored entry
 *  carries for this home (once mm_store_set_home told the store whose it
 *  is): a `rekey` listing this device adds the scope's new key
 *  (core/rekey.h); a `scope`, `peer` or `peer-rm` from an own device in the
 *  self scope changes the scope or peer record (core/propagate.h).  The
 *  body is the plaintext the verifier opened, never opened twice; with it
 *  each of them also indexes an engagement entry for the views
 *  (core/view.h), so the index never lags the log.
 */
#ifndef MM_LOG_H
#define MM_LOG_H

#include <stddef.h>
#include "crypto/error.h"
#include <stdint.h>
#include "core/store.h"
#include "core/entry.h"

/* Entries in one run of mm_log_put_run: one ENTRIES frame (PROTOCOL.md 8.1). */
#define MM_LOG_RUN_MAX 4096

/* Verify buf against the store, through the whole verifier, and store it.
 * MM_OK (e filled if non-NULL, pointing into buf); any verifier error;
 * MM_EFULL, MM_EIO.  On error nothing is written. */
int mm_log_put(mm_txn_t *txn, const uint8_t *buf, size_t len, mm_entry_t *e) MM_NODISCARD;

/* Verify and store a run of entries of one feed, in seq order, as received
 * from a peer.  Every entry's own signature is checked, however the sender
 * cut its runs: all of them before anything is stored, in parallel on the
 * verifier pool (core/vpool.h).  Entries at or below the stored head that
 * are byte-identical to what is stored are skipped, so a run can be
 * received twice; every other entry goes through the whole verifier, in
 * order, each against the head its predecessor makes.  Past the run's
 * shape, the answer is that of the first entry that fails, and for it the
 * first check it fails, as mm_log_put would give entry by entry.  On any
 * error nothing of the run is stored and the caller must abort txn
 * (earlier entries of the run may already be in it).  *stored (may be
 * NULL) gets the number newly stored.  Errors, in the order checked: the
 * parse errors of any entry and MM_EPROTO (entries not of one feed or not
 * contiguous); then per entry MM_EFORK (a different entry is stored at its
 * position) or the verifier's; MM_ETOOBIG if n > MM_LOG_RUN_MAX; MM_ENOMEM;
 * MM_EFULL, MM_EIO. */
int mm_log_put_run(mm_txn_t *txn, const uint8_t *const *bufs, const size_t *lens, size_t n,
                   size_t *stored) MM_NODISCARD;

/* A run's context-free checks begun ahead: its structure, and every
 * entry's hashes and signature on the verifier pool, before the store
 * holds what the run is checked against (the caller is still committing
 * the run before it: PROTOCOL.md 8.3).  Nothing is read from any store and
 * nothing is decided: mm_log_put_run_pre gives that run the very answer
 * mm_log_put_run would, in the same order; an entry at or below the head
 * is hashed for nothing.  bufs[i] must stay valid and unchanged until the
 * pre ends.  While a pre is open on this thread, its pool call holds the
 * shared pool: a run checked meanwhile on this thread is checked on the
 * calling thread alone (core/vpool.h), so take one at a time.  MM_OK with
 * *out (NULL if n is 0 or past MM_LOG_RUN_MAX: nothing to begin; a shape
 * fault is kept for the answer); MM_ENOMEM. */
typedef struct mm_log_pre mm_log_pre_t;
int mm_log_pre_start(const uint8_t *const *bufs, const size_t *lens, size_t n,
                     mm_log_pre_t **out) MM_NODISCARD;

/* End a pre that will not be used (its run is never checked: the session
 * failed first): waits until no worker touches its entries, frees it, sets
 * *self_p = NULL.  Accepts NULL and *self_p == NULL. */
void mm_log_pre_end(mm_log_pre_t **self_p);

/* mm_log_put_run, with the run's pre (*pre_p, may be NULL) if one was
 * started: its results are used when it was made from these very bufs and
 * lens (else it is ended and the run checked afresh).  Takes the pre over
 * whatever happens: *pre_p is NULL on return.  Same answers as
 * mm_log_put_run. */
int mm_log_put_run_pre(mm_txn_t *txn, const uint8_t *const *bufs, const size_t *lens, size_t n,
                       mm_log_pre_t **pre_p, size_t *stored) MM_NODISCARD;

/* Seal body as the next entry of this device's feed in scope_id and store it
 * (through mm_log_put).  time 0 means now.  id_out may be NULL.
  * MM_OK; MM_EROLE (a mailbox's store, which never writes); MM_EFORKED (this device key was shown forked, core/fork.h: it
 * writes nothing more, in any scope); MM_ENOTFOUND (unknown scope);
 * MM_ENOCERT (device not certified);
 * MM_EREVOKED (the device is revoked: a revoked home writes nothing);
 * MM_EBODY (body fails mm_body_check); MM_ETOOBIG; MM_EFULL; MM_EIO. */
int mm_log_append(mm_txn_t *txn, const mm_keypair_t *device,
                  const uint8_t scope_id[32], uint64_t time,
                  const uint8_t *body, size_t bodylen, uint8_t id_out[32]) MM_NODISCARD;

/* The head of feed (author, scope); seq 0 if empty.  MM_OK or MM_ECORRUPT. */
int mm_log_head(mm_txn_t *txn, const uint8_t author[32], const uint8_t scope[32],
                mm_head_t *head) MM_NODISCARD;

/* Entry seq of feed (author, scope).  *buf points into the map, valid until
 * the txn ends (NULL, with *len 0, on failure).  MM_OK or MM_ENOTFOUND. */
int mm_log_get(mm_txn_t *txn, const uint8_t author[32], const uint8_t scope[32],
               uint64_t seq, const uint8_t **buf, size_t *len) MM_NODISCARD;

/* The entry whose id starts with the hex digits in prefix (1..64 of them),
 * among the entries of scope (NULL: of every scope).  This scans the scope:
 * meant for ids people type, not for hot paths.  *buf points into the map
 * until the txn ends.  MM_OK; MM_ENOTFOUND; MM_EAMBIG (more than one
 * matches); MM_EINVAL (not 1..64 hex digits). */
int mm_log_find(mm_txn_t *txn, const uint8_t *scope, const char *prefix,
                const uint8_t **buf, size_t *len) MM_NODISCARD;

/* Call fn for each feed, in (author, scope) order.  fn returning non-zero
 * stops the walk and that value is returned. */
typedef int (*mm_feed_fn)(const uint8_t author[32], const uint8_t scope[32],
                          const mm_head_t *head, void *arg);
int mm_log_feeds(mm_txn_t *txn, mm_feed_fn fn, void *arg) MM_NODISCARD;

/* Call fn for entries from_seq.. of one feed, in seq order.  buf points into
 * the map, valid until the txn ends.  fn returning non-zero stops the walk. */
typedef int (*mm_entry_fn)(const uint8_t *buf, size_t len, uint64_t seq, void *arg);
int mm_log_walk(mm_txn_t *txn, const uint8_t author[32], const uint8_t scope[32],
                uint64_t from_seq, mm_entry_fn fn, void *arg) MM_NODISCARD;

/* Re-check the whole store from scratch, entry by entry, through the
 * verifier with signatures and decryption, and the feed heads.
 * For each fault found fn_fault is called (may be NULL) with a one-line
 * description; *nentries gets the number of entries checked.  MM_OK if no
 * fault, else the code of the first fault. */
typedef void (*mm_fault_fn)(int rc, const char *what, void *arg);
int mm_log_check(mm_txn_t *txn, mm_fault_fn fn_fault, void *arg, uint64_t *nentries) MM_NODISCARD;

/* Milliseconds since the Unix epoch, UTC: the clock of entry times.
 * A build with MM_TEST_HOOKS (tests only) shifts it by
 * MM_TEST_CLOCK_OFFSET seconds and by the seconds in the file named by
 * MM_TEST_CLOCK_FILE (read at each call); other builds ignore both. */
uint64_t mm_now_ms(void);

/* Delete every feed of scope, entries, heads and views rows (write txn): what
 * mm peer rm --purge does to a relationship's log (PROTOCOL.md 5.4, 6).
 * *nentries (may be NULL) gets how many entries went.  MM_OK; MM_ECORRUPT;
 * MM_ENOMEM; MM_EFULL; MM_EIO. */
int mm_log_drop_scope(mm_txn_t *txn, const uint8_t scope[32], uint64_t *nentries) MM_NODISCARD;

/* *any = 1 if some feed of author (a device) is stored, in any scope: one
 * lookup.  MM_OK; store errors. */
int mm_log_authored(mm_txn_t *txn, const uint8_t author[32], int *any) MM_NODISCARD;

/* Milliseconds of a monotonic clock (CLOCK_MONOTONIC): for time limits and
 * timeouts, which a wall clock set back or forward must not cut short or
 * stretch.  Its epoch means nothing: only differences count. */
uint64_t mm_mono_ms(void);

#endif
