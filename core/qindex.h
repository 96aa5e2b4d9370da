/*  qindex.h -- this device's index of the questions it holds: in which
 *  relationship scope each one is, and the order it first saw them.
 *
 *  Table "questions": question id (32) -> scope (32) || arrival (8, BE).
 *  Local bookkeeping, like peer records: not part of the signed log, never
 *  sent.  arrival numbers come from the counter meta "arrivals" and only
 *  grow, so they give the mentor's device its own first-come order, which
 *  no asker's clock can change (PROTOCOL.md 5.3).  It also lets a command
 *  find a question by id prefix without reading any relationship.
 */
#ifndef MM_QINDEX_H
#define MM_QINDEX_H

#include <stdint.h>
#include "crypto/error.h"
#include "core/store.h"

/* Record question qid of scope, if it is not recorded yet, with the next
 * arrival number.  *arrival (may be NULL) gets its number, old or new.
 * MM_OK; MM_EFULL; MM_EIO; MM_ECORRUPT. */
int mm_qindex_put(mm_txn_t *txn, const uint8_t qid[32], const uint8_t scope[32],
                  uint64_t *arrival) MM_NODISCARD;

/* Record qid with a given scope and arrival number (a restore,
 * core/backup.h, copying another device's order), and raise meta
 * "arrivals" to at least arrival, so later questions come after it.
 * Replaces nothing: MM_EEXIST.  MM_EFULL; MM_EIO; MM_ECORRUPT. */
int mm_qindex_set(mm_txn_t *txn, const uint8_t qid[32], const uint8_t scope[32],
                  uint64_t arrival) MM_NODISCARD;

/* Call fn for every row: qid (32) -> scope (32) || arrival (8, BE).
 * Non-zero from fn stops the walk and is returned. */
int mm_qindex_foreach_raw(mm_txn_t *txn, mm_row_fn fn, void *arg) MM_NODISCARD;

/* The scope and arrival number of qid.  Either out may be NULL.  MM_OK;
 * MM_ENOTFOUND; MM_ECORRUPT. */
int mm_qindex_get(mm_txn_t *txn, const uint8_t qid[32], uint8_t scope[32], uint64_t *arrival) MM_NODISCARD;

/* A question an id prefix matched: its id and its relationship scope. */
typedef struct {
    uint8_t qid[32];
    uint8_t scope[32];
} mm_qmatch_t;

/* The questions whose ids start with the hex digits of prefix (1..64,
 * either case), in id order: out[0..min(*n, max)) gets the first max of
 * them, and *n counts them up to max + 1 (more than max: *n is max + 1).
 * max may be 0 (only count, up to 1).  MM_OK (also with *n 0); MM_EINVAL
 * (not hex digits); MM_ECORRUPT; store errors. */
int mm_qindex_matches(mm_txn_t *txn, const char *prefix, mm_qmatch_t *out, size_t max,
                      size_t *n) MM_NODISCARD;

/* The one question whose id starts with the hex digits of prefix (1..64,
 * either case).  MM_OK with qid and scope; MM_ENOTFOUND; MM_EAMBIG (more
 * than one); MM_EINVAL (not hex digits). */
int mm_qindex_find(mm_txn_t *txn, const char *prefix, uint8_t qid[32], uint8_t scope[32]) MM_NODISCARD;

/* Delete the rows of every question in scope (write txn; mm peer rm
 * --purge).  MM_OK; MM_ENOMEM; MM_EFULL; MM_EIO. */
int mm_qindex_drop_scope(mm_txn_t *txn, const uint8_t scope[32]) MM_NODISCARD;

#endif
