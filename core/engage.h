/*  engage.h -- the verbs of an engagement, each one rule-checked write.
 *
 *  A mentee asks (one power question at a time), withdraws, thanks and
 *  reports; a mentor answers, declines and asks back.  Each verb runs in one
 *  write transaction: it loads only the relationship concerned, checks who
 *  may do it in which state (question.h) and appends the entry, so no other
 *  front end can walk past a rule, and two processes cannot both pass the
 *  same check.  The receiving side holds the rules too: derivation ignores
 *  acts by the wrong member, and the mentor's device holds a second pending
 *  question of one asker (budget.h).
 *
 *  On failure *out still says what the verb found (the peer, the question
 *  and its state), so a front end can explain the refusal.
 */
#ifndef MM_ENGAGE_H
#define MM_ENGAGE_H

#include <stddef.h>
#include "crypto/error.h"
#include <stdint.h>
#include "core/home.h"
#include "core/peer.h"
#include "core/body.h"
#include "core/item.h"
#include "core/question.h"
#include "core/ambition.h"
#include "core/budget.h"

#define MM_OFFER_MAX 1000           /* bytes of a thanks' offer */

#define MM_ENGAGE_CAND_MAX 8         /* questions named for an ambiguous id prefix */

/* A question an ambiguous id prefix matched, as a front end names it. */
typedef struct {
    uint8_t     qid[32];
    char        peer[MM_PETNAME_MAX + 1];   /* the other member's petname, or "" */
    int         mine;               /* 1: I asked it (to peer); 0: peer asked me */
    mm_qstate_t state;
} mm_qcand_t;

typedef struct {
    uint8_t     id[32];             /* the entry written */
    uint64_t    time;               /* its time */
    mm_peer_t   peer;               /* the relationship (found, when rc is not MM_ENOTFOUND) */
    int         have_peer;
    uint8_t     qid[32];            /* the question: asked, acted on, or (MM_EPENDING) pending */
    int         have_q;
    mm_qstate_t state;              /* that question's state before the verb */
    mm_hold_t   hold;
    uint64_t    ahead;
    int         nanswers;           /* answers it had before */
    int         askback;            /* 1 if it had been asked back on */
    /* MM_EAMBIG: the questions the prefix matched, in id order: cand[0..ncand)
     * (at least 2), and more is 1 if there were others past
     * MM_ENGAGE_CAND_MAX. */
    mm_qcand_t  cand[MM_ENGAGE_CAND_MAX];
    size_t      ncand;
    int         more;
} mm_engage_out_t;

/* A valid TEXT: 1..max bytes of UTF-8, no NUL, not only blanks.  MM_OK;
 * MM_ETOOBIG; MM_EINVAL. */
int mm_engage_text_check(const char *s, size_t len, size_t max) MM_NODISCARD;

/* Ask the mentor with identity peer a power question (text, and the text of
 * the ambition it serves or NULL).  MM_OK; MM_ENOTFOUND (no such peer, or
 * no relationship scope yet); MM_EROLE (they are not my mentor); MM_EBLOCKED;
 * MM_EPENDING (out->qid is my pending question to them); MM_EINVAL or
 * MM_ETOOBIG (text); store errors. */
int mm_engage_ask(mm_home_t *home, const uint8_t peer[32], const char *text, size_t len,
                  const char *ambition, size_t alen, mm_engage_out_t *out) MM_NODISCARD;

/* Do act to the question whose id starts with the hex digits qprefix (4 to
 * 64), found in whichever relationship holds it, with text (NULL for a
 * withdraw).  MM_OK; MM_ENOTFOUND (no such question); MM_EAMBIG (more
 * than one: out->cand names them); MM_EINVAL
 * (prefix, text); MM_ETOOBIG; MM_EROLE; MM_ESTATE; store errors. */
int mm_engage_withdraw(mm_home_t *home, const char *qprefix, mm_engage_out_t *out) MM_NODISCARD;
int mm_engage_thank(mm_home_t *home, const char *qprefix, const char *text, size_t len,
                    const char *offer, size_t olen, mm_engage_out_t *out) MM_NODISCARD;
int mm_engage_report(mm_home_t *home, const char *qprefix, const char *text, size_t len,
                     mm_engage_out_t *out) MM_NODISCARD;
int mm_engage_answer(mm_home_t *home, const char *qprefix, const char *text, size_t len,
                     mm_engage_out_t *out) MM_NODISCARD;
/* refer (may be NULL): the identity of another peer of mine to refer the
 * asker to; MM_ENOTFOUND if it is not a peer, MM_EINVAL if it is the asker. */
int mm_engage_decline(mm_home_t *home, const char *qprefix, const char *text, size_t len,
                      const uint8_t *refer, mm_engage_out_t *out) MM_NODISCARD;
int mm_engage_askback(mm_home_t *home, const char *qprefix, const char *text, size_t len,
                      mm_engage_out_t *out) MM_NODISCARD;

/* Append a body of type with fields to scope (this device's feed), for the
 * entries that carry no engagement rule (ambitions, capacity, away, notes).
 * Durable before it returns.  id_out may be NULL. */
int mm_engage_append(mm_home_t *home, const uint8_t scope[32], const char *type,
                     const mm_field_t *fields, size_t n, uint8_t id_out[32]) MM_NODISCARD;

/* Entries this device just stored from a sync (scope, by device, seqs
 * first..last): record the questions among them (qindex.h) and say
 * whether they change the mentor's budget (a mentee asked, withdrew or
 * thanked): then *settle is 1.  MM_OK; store errors. */
int mm_engage_received(mm_home_t *home, const uint8_t scope[32], const uint8_t device[32],
                       uint64_t first, uint64_t last, int *settle) MM_NODISCARD;

#endif
