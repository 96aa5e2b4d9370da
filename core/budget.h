/*  budget.h -- the mentor's budget: how many engagements are open at once,
 *  and the queue that keeps the inbox within it (PROTOCOL.md 5.3).
 *
 *  The budget is the latest "capacity" entry of the self scope, "away" the
 *  latest away entry.  Settling is what the mentor's device does with the
 *  questions its mentees sent: it releases as many as the budget allows
 *  to the inbox, first come first served in the order this device first
 *  saw them (qindex.h), holds the rest, and holds every question of an
 *  asker who already has one pending ("one at a time").  Each decision is
 *  a "queue" entry in the question's relationship, so the asker sees it.
 */
#ifndef MM_BUDGET_H
#define MM_BUDGET_H

#include <stddef.h>
#include "crypto/error.h"
#include <stdint.h>
#include "core/home.h"

#define MM_CAPACITY_MAX 100         /* engagements open at once, at most */

/* n engagements open at a time (0: no limit set), per "day"/"week"/"month"
 * as the pace shown; away until (ms, 0: not away). */
typedef struct {
    uint64_t n;
    char     per[8];
    uint64_t away_until;
} mm_capacity_t;

/* The budget as the self scope says in txn.  MM_OK; store errors. */
int mm_budget_get_txn(mm_home_t *home, mm_txn_t *txn, mm_capacity_t *out) MM_NODISCARD;
/* The same in a read transaction of its own. */
int mm_budget_get(mm_home_t *home, mm_capacity_t *out) MM_NODISCARD;

/* When the mentor with identity peer is away, as the latest "away" entry
 * they wrote in our relationship says: *until is that entry's until when
 * it is later than now (ms), else 0 (never away, back, or no longer).
 * Reads that relationship only.  MM_OK; MM_ENOTFOUND (no such peer);
 * store errors. */
int mm_budget_away_of(mm_home_t *home, const uint8_t peer[32], uint64_t now,
                      uint64_t *until) MM_NODISCARD;

/* Whether the budget of the mentor with identity peer was full at their
 * last word on it: the latest "queue" entry they wrote in our
 * relationship holds a question for their budget (reason "budget" or
 * none).  *full 1 with *ahead that entry's ahead, else 0 (a release, a
 * hold for another reason, or no queue entry yet).  What a mentee can
 * know of a budget that lives in the mentor's own scope.  MM_OK;
 * MM_ENOTFOUND (no such peer); store errors. */
int mm_budget_full_of(mm_home_t *home, const uint8_t peer[32], int *full,
                      uint64_t *ahead) MM_NODISCARD;

typedef struct {
    size_t released;                /* newly released to the inbox */
    size_t held;                    /* queue entries written for held questions */
    size_t waiting;                 /* restored, not yet caught up: identities to go
                                       (core/catchup.h); then nothing is settled */
    int    not_settler;             /* this device does not settle: nothing written */
} mm_settle_t;

/* The one device of this person that settles (writes "queue" entries): the
 * identity device (its certificate's MM_CERT_IDENTITY), unless the identity
 * device's own self feed holds a "settler" body naming a current device of
 * this person (the latest in that feed wins).  Into settler[32].  With no
 * identity device known, this device if it holds the identity key (older
 * homes), else none (MM_ENOTFOUND).  MM_OK; MM_ENOTFOUND; store errors. */
int mm_budget_settler(mm_home_t *home, mm_txn_t *txn, uint8_t settler[32]) MM_NODISCARD;

/* 1 if this device settles (see mm_budget_settler), in a read txn of its own. */
int mm_budget_is_settler(mm_home_t *home) MM_NODISCARD;

/* mm device settler: the identity device names the settler (a "settler"
 * body in its self feed).  MM_OK; MM_ENOIDENTITY (not the identity
 * device); MM_EREVOKED (device is revoked); MM_EROLE (device is a mailbox:
 * it reads nothing); store errors. */
int mm_budget_set_settler(mm_home_t *home, const uint8_t device[32]) MM_NODISCARD;

/* Settle every mentee's pending questions in one write transaction, so no
 * two settles (mm serve, mm inbox, mm answer in other processes) can
 * release more than the budget between them.  Writes only what changed;
 * out may be NULL.  On a device that is not the settler (mm_budget_settler)
 * nothing is written and out->not_settler is set: exactly one device of a
 * person settles, so two devices never release past the budget between
 * them.  A home restored from a backup that has not yet synced with every
 * peer and own device it had (core/catchup.h) settles nothing either: it
 * could release past a budget whose questions and queue entries it does
 * not all hold yet; then out->waiting counts who is still to sync with
 * (PROTOCOL.md 12.4).  MM_OK; store errors (then nothing is written). */
int mm_budget_settle(mm_home_t *home, mm_settle_t *out) MM_NODISCARD;

#endif
