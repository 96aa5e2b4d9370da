/*  store.h -- the LMDB environment of a home and its transactions.
 *
 *  One environment (HOME/store/), with named tables:
 *    entries  author(32) || scope(32) || seq(8, big-endian) -> entry bytes (log.h)
 *    heads    author(32) || scope(32)                       -> seq(8 BE) || id(32) (log.h)
 *    certs    device pk (32)                                -> certificate bytes (cert.h)
 *    scopes   scope id (32)                                 -> scope record (scope.h)
 *    meta     short ASCII key                               -> value (meta.h)
 *    peers    identity pk (32)                              -> peer record (peer.h)
 *    invites  invite public key (32)                        -> invite record (invite.h)
 *    questions question id (32)                -> scope(32) || arrival(8 BE) (qindex.h)
 *    curves   X25519 form of a device pk (32)                -> device pk (32), sorted
 *             duplicates: the index of certs by CURVE key (format 2, cert.h)
 *    catchup  identity pk (32) -> empty: whom a restored home has still to sync
 *             with (format 3, catchup.h)
 *    revokes  device pk (32) || H(statement) (32)           -> revocation (format 3, revoke.h)
 *    endpoints device pk (32)                               -> endpoints statement (endpoint.h)
 *    seen     device pk (32)                  -> last complete session (8 BE) (device.h)
 *    usage    identity pk (32)  -> bytes of entries stored (8 BE): a mailbox's
 *             quota (format 4, mailbox.h)
 *    links    link key (32)     -> a mailbox's pending link code (mailbox.h)
 *    blocked  identity pk (32)  -> empty: whom a mailbox's owner blocks (mailbox.h)
 *  Writes are serialised by LMDB (one writer at a time, across processes);
 *  every commit is durable (fsync) before it returns.  Only core/ sees LMDB.
 *  Each table is read and written by the module named beside it, next to
 *  its records; this one opens the environment and its tables, and begins
 *  and ends the transactions they are used in.
 *
 *  The map (address space, not memory: pages are read in as touched)
 *  starts at MM_STORE_MAP_INITIAL and grows on demand, before a write
 *  transaction that might not fit, up to MM_STORE_MAP_MAX.  The environment
 *  variable MM_STORE_MAP_MAX (bytes, read at open) lowers that maximum, for
 *  tests; a value that is not a number, or above the default, is ignored.
 *  At the maximum a write fails with MM_EFULL and nothing stored is lost.
 */
#ifndef MM_STORE_H
#define MM_STORE_H

#include <stddef.h>
#include "crypto/error.h"
#include <stdint.h>

#define MM_STORE_FORMAT 4           /* meta "format"; 2 added "curves", 3 the device tables,
                                     * 4 the mailbox tables and "views" (core/view.h) */

#define MM_STORE_MAP_INITIAL ((size_t) 64 << 20)
#define MM_STORE_MAP_MAX     ((size_t) 64 << 30)
#define MM_STORE_MAP_MAX_ENV "MM_STORE_MAP_MAX"
/* Tests of the migration: with MM_STORE_FORMAT=1 in the environment (read
 * at open) the store behaves as mm did before format 2: it creates format-1
 * stores (no curves index), writes no index rows and refuses newer stores. */
#define MM_STORE_FORMAT_ENV "MM_STORE_FORMAT"

typedef struct mm_store mm_store_t;

/* A row of a table as stored (key, value), for the walks that copy tables
 * as they are (core/backup.h).  Non-zero from the function stops a walk. */
typedef int (*mm_row_fn)(const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
                         void *arg);
typedef struct mm_txn mm_txn_t;

#define MM_STORE_CREATE 0x1u        /* create the environment if missing */
#define MM_STORE_RDONLY 0x2u

/* Open the environment in directory dir.  An older store opened for
 * writing is brought to MM_STORE_FORMAT first, in one write transaction
 * (format 1 -> 2: the curves index is built from the certificates); opened
 * MM_STORE_RDONLY it is read as it is.  MM_OK; MM_ENOTFOUND (no store and
 * no MM_STORE_CREATE); MM_EPERM; MM_ECORRUPT (not an mm store, or damaged);
 * MM_EVERSION (newer format); MM_EIO; MM_ENOMEM. */
int  mm_store_open(const char *dir, unsigned flags, mm_store_t **out) MM_NODISCARD;
void mm_store_close(mm_store_t **self_p);

/* Drop this process's mappings of store pages (they stay in the page
 * cache), so that streaming a large log does not grow resident memory with
 * every page read.  Safe at any time, even with pointers into the map in
 * hand: the map is a read-only shared file mapping, so a page touched
 * again is simply faulted back in from the page cache. */
void mm_store_trim(mm_store_t *self);

/* The format this open upgraded the store from (0: none).  Before a
 * migration the store is copied, as it was, to DIR/format-N.mdb (an LMDB
 * data file: open it by moving it to data.mdb in a directory of its own);
 * the copy is kept, never overwritten, so the user can go back. */
unsigned mm_store_migrated(const mm_store_t *self);

/* Begin a transaction.  A write transaction waits for other writers.
 * Before a write transaction, with no other transaction of this store
 * open, the map grows if the store's size plus a headroom (more than the
 * largest transaction mm makes) exceeds it, or if the last write
 * transaction failed.  MM_OK; MM_ENOMEM; MM_EBUSY (no reader slot, or
 * another process grew the map while we hold a transaction open);
 * MM_ECORRUPT; MM_EIO. */
int  mm_store_begin(mm_store_t *self, int write, mm_txn_t **out) MM_NODISCARD;
/* Commit and free *txn_p (also on failure).  MM_OK; MM_EFULL (disk full,
 * or the map is at its maximum); MM_EIO. */
int  mm_txn_commit(mm_txn_t **txn_p) MM_NODISCARD;
/* Abort and free *txn_p.  Accepts NULL. */
void mm_txn_abort(mm_txn_t **txn_p);
/* Tell the store whose home it is: this device's key pair (not copied: it
 * must outlive the store) and this home's identity.  Storing an entry then
 * applies what it carries for this device (a rekey's key for it, a scope or
 * peer from an own device: core/rekey.h, core/propagate.h); without it the
 * store applies nothing.  mm_home_open calls it. */
struct mm_keypair;
void mm_store_set_home(mm_store_t *self, const struct mm_keypair *device,
                       const uint8_t identity[32]);

/* Make this a mailbox's store (PROTOCOL.md 14): from now on entries are
 * verified blind (checks 1-7 of PROTOCOL.md 5.1: it holds no scope key),
 * nothing they carry is applied, and each stored entry's bytes are
 * charged to its author's identity (table usage): a run that would take
 * an identity past the quota (meta "quota") is refused whole (MM_EQUOTA).
 * mm_home_open calls it for a mailbox home. */
void mm_store_set_mailbox(mm_store_t *self);

/* The store a transaction belongs to. */
mm_store_t *mm_txn_store(mm_txn_t *txn);

#endif
