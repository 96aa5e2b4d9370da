/*  view.h -- the index of engagement items the views read (PROTOCOL.md 6).
 *
 *  Table "views" (store format 4): scope (32) || time (8, BE) || entry id
 *  (32) -> author device (32) || seq (8, BE) || author identity (32) ||
 *  body type (1..MM_BODY_TYPE_MAX ASCII bytes).  One row for every stored
 *  entry whose body is of an engagement type (mm_view_indexed), written by
 *  log.c in the transaction that stores the entry -- an own append and
 *  every entry of a received run, from the plaintext the verifier opened --
 *  so a commit stores both or neither.  The rows are in the (time, id)
 *  order the views show, scope by scope: a view reads the rows of its
 *  scope and opens only the entries they name, never the bulk of a log
 *  (notes, or types the views do not show).
 *
 *  Derived data: it holds nothing the log does not, is never sent, and can
 *  be rebuilt from the log (mm_view_rebuild: on the migration to format 4,
 *  and by `mm verify --repair`); mm_view_check compares it with the log.
 */
#ifndef MM_VIEW_H
#define MM_VIEW_H

#include <stddef.h>
#include <stdint.h>
#include "crypto/error.h"
#include "core/store.h"
#include "core/entry.h"
#include "core/scope.h"
#include "core/body.h"

/* One row: where an indexed entry is, and what it is. */
typedef struct {
    uint8_t     scope[32];
    uint64_t    time;
    uint8_t     id[32];
    uint8_t     device[32];         /* the writing device */
    uint64_t    seq;                /* its position in that device's feed */
    uint8_t     identity[32];       /* the identity its certificate names */
    char        type[MM_BODY_TYPE_MAX + 1];
} mm_view_row_t;

/* 1 if an entry of a scope of kind (MM_SCOPE_SELF, MM_SCOPE_PAIR) whose
 * body has type (len bytes, not NUL-terminated) is indexed: every type of
 * MM_ITEM_TYPES (item.h), except "note" in the self scope (private notes:
 * the bulk of a log, read only by `mm note`). */
int mm_view_indexed(unsigned kind, const char *type, size_t len);

/* 1 if every type of the NULL-terminated list types is indexed for scopes
 * of kind and the store holds the table, so the rows of a scope are all
 * that a load of those types reads.  0 for types NULL (every type), and
 * for a store without the table (older, opened read-only). */
int mm_view_covers(mm_txn_t *txn, unsigned kind, const char *const *types);

/* Index e, stored in txn, whose valid body pt[0..len) the verifier opened,
 * if its type is indexed (nothing otherwise, and nothing in a store without
 * the table).  identity: its author's, as its certificate names it.  MM_OK;
 * MM_EFULL; MM_EIO. */
int mm_view_put(mm_txn_t *txn, const mm_scope_t *scope, const mm_entry_t *e,
                const uint8_t identity[32], const uint8_t *pt, size_t len) MM_NODISCARD;

/* Call fn for every row of scope, in (time, id) order; from the latest
 * backwards if reverse.  Non-zero from fn stops the walk and is returned.
 * MM_OK (also with no rows, and in a store without the table); MM_ECORRUPT
 * (a malformed row); store errors. */
typedef int (*mm_view_fn)(const mm_view_row_t *row, void *arg);
int mm_view_walk(mm_txn_t *txn, const uint8_t scope[32], int reverse, mm_view_fn fn,
                 void *arg) MM_NODISCARD;

/* Delete every row of scope, in write txn: for a command that deletes the
 * scope's feeds (the index must not name entries the log no longer
 * holds).  *rows (may be NULL) gets how many.  MM_OK (also with none, and
 * in a store without the table); store errors. */
int mm_view_forget_scope(mm_txn_t *txn, const uint8_t scope[32], uint64_t *rows) MM_NODISCARD;

/* Empty the table and index every stored entry again from the log (each
 * opened under its scope's key), in write txn.  *rows (may be NULL) gets
 * the rows written.  MM_OK; MM_EPERM (a read txn); MM_ENOTFOUND (no
 * table); MM_ENOMEM; store errors. */
int mm_view_rebuild(mm_txn_t *txn, uint64_t *rows) MM_NODISCARD;

/* Record in meta "indexed" (8, BE) that the index holds every entry
 * stored so far: the number of rows of the entries table.  mm_txn_commit
 * calls it for a transaction that stored an entry.  MM_OK; store errors. */
int mm_view_mark(mm_txn_t *txn) MM_NODISCARD;

/* At open for writing: if meta "indexed" is not the number of stored
 * entries, someone stored entries without their rows (an older mm that
 * had the store open across the migration), so rebuild the index, in a
 * write transaction of its own.  MM_OK; store errors. */
int mm_view_heal(mm_store_t *store) MM_NODISCARD;

/* Compare the table with what the log says it must hold: for each row
 * missing, extra or different fn (may be NULL) gets a one-line
 * description.  *rows (may be NULL) gets the rows checked.  MM_OK if they
 * match; MM_ECORRUPT otherwise; MM_ENOMEM; store errors. */
typedef void (*mm_view_fault_fn)(int rc, const char *what, void *arg);
int mm_view_check(mm_txn_t *txn, mm_view_fault_fn fn, void *arg, uint64_t *rows) MM_NODISCARD;

#endif
