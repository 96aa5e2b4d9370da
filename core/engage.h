/*  engage.h -- micro-mentorship engagements, derived from the log.
 *
 *  Every action (ask, answer, thank...) is an entry; every state (open,
 *  held, answered, thanked...) is computed here from the entries of a
 *  scope, never stored beside them.  Derivation looks only at what is
 *  stored, matched by entry id, so it gives the same answer whatever order
 *  the entries of the two people's feeds arrived in.
 *
 *  Body types (PROTOCOL.md, "Bodies"): in the self scope "ambition",
 *  "ambition-done", "ambition-drop", "capacity", "away", "note"; in a
 *  relationship scope "invite", "ambitions", "question", "withdraw",
 *  "answer", "decline", "ask-back", "thanks", "report", "queue", "away".
 */
#ifndef MM_ENGAGE_H
#define MM_ENGAGE_H

#include <stddef.h>
#include <stdint.h>
#include "core/home.h"
#include "core/peer.h"
#include "core/body.h"

#define MM_T_AMBITION      "ambition"
#define MM_T_AMBITION_DONE "ambition-done"
#define MM_T_AMBITION_DROP "ambition-drop"
#define MM_T_CAPACITY      "capacity"
#define MM_T_AWAY          "away"
#define MM_T_AMBITIONS     "ambitions"
#define MM_T_QUESTION      "question"
#define MM_T_WITHDRAW      "withdraw"
#define MM_T_ANSWER        "answer"
#define MM_T_DECLINE       "decline"
#define MM_T_ASKBACK       "ask-back"
#define MM_T_THANKS        "thanks"
#define MM_T_REPORT        "report"
#define MM_T_QUEUE         "queue"

#define MM_TEXT_MAX        4000     /* bytes of a question, answer, thanks... */
#define MM_ANSWERS_MAX     2        /* an answer and one clarification */

/* One decrypted entry of a scope. */
typedef struct {
    uint8_t  id[32];
    uint8_t  author[32];            /* identity of the writing device */
    uint64_t time;
    char     type[33];
    uint8_t *pt;                    /* plaintext body (owned) */
    size_t   ptlen;
} mm_item_t;

typedef struct {
    mm_item_t *v;
    size_t     n, cap;
} mm_items_t;

/* Every entry of scope, decrypted, ordered by (time, id).  Free with
 * mm_items_free.  MM_OK; MM_ENOTFOUND (unknown scope); MM_ENOMEM;
 * MM_ECORRUPT. */
int  mm_items_load(mm_home_t *home, const uint8_t scope[32], mm_items_t *out);

/* The same, keeping only entries whose type is in the NULL-terminated list
 * types: memory then grows with the engagement, not with everything else a
 * scope may hold.  MM_ENGAGE_TYPES lists every type this file knows. */
int  mm_items_load_types(mm_home_t *home, const uint8_t scope[32], const char *const *types,
                         mm_items_t *out);
extern const char *const MM_ENGAGE_TYPES[];
void mm_items_free(mm_items_t *items);

/* A string field of an item's body copied into out (NUL-terminated, cut
 * at cap-1), or "" when absent. */
const char *mm_item_str(const mm_item_t *it, const char *key, char *out, size_t cap);
/* A 32-byte reference field ("ref"): 1 and *ref set, or 0. */
int mm_item_ref(const mm_item_t *it, const char *key, const uint8_t **ref);

typedef enum {
    MM_QS_WAITING = 0,              /* not yet seen by the other side */
    MM_QS_HELD,                     /* seen, held by the mentor's budget */
    MM_QS_OPEN,                     /* released to the mentor's inbox */
    MM_QS_ANSWERED,
    MM_QS_THANKED,
    MM_QS_WITHDRAWN,
    MM_QS_DECLINED,
} mm_qstate_t;

/* One question and everything that refers to it. */
typedef struct {
    const mm_item_t *q;
    const mm_item_t *answers[MM_ANSWERS_MAX];
    int              nanswers;
    const mm_item_t *decline, *withdraw, *thanks, *askback, *queue, *report;
    int              nreports;
    mm_qstate_t      state;
    uint64_t         ahead;         /* when held: questions ahead of it */
} mm_question_t;

/* The questions among items, in time order, with their state.  Only the
 * asker may withdraw, thank or report; only the other member may answer,
 * decline, ask back or queue; anything else is ignored.  *out is malloc'd
 * (free it), pointing into items. */
int mm_questions(const mm_items_t *items, mm_question_t **out, size_t *n);

/* 1 if the question is still open for the one-at-a-time rule: neither
 * thanked, withdrawn nor declined. */
int mm_question_pending(const mm_question_t *q);

const char *mm_qstate_name(mm_qstate_t s);

/* Current ambitions of the person (self scope): ambition entries not yet
 * marked done or dropped, oldest first; history = all of them.  Pointers
 * into items. */
typedef struct {
    const mm_item_t *it;
    const mm_item_t *closed;        /* its done/drop entry, or NULL */
} mm_ambition_t;
int mm_ambitions(const mm_items_t *self_items, const uint8_t me[32],
                 mm_ambition_t **out, size_t *n);

/* Append a body of type with fields to scope (this device's feed).  The
 * commit is durable before it returns.  id_out may be NULL. */
int mm_engage_append(mm_home_t *home, const uint8_t scope[32], const char *type,
                     const mm_field_t *fields, size_t n, uint8_t id_out[32]);

/* The mentor's budget (self scope): n engagements open at a time (0: no
 * limit set), per "week"/"day"/"month" as the pace shown; away until
 * (ms, 0: not away). */
typedef struct {
    uint64_t n;
    char     per[8];
    uint64_t away_until;
} mm_capacity_t;
int mm_capacity_get(mm_home_t *home, mm_capacity_t *out);

/* Mentor side: look at every mentee's questions and record, in each
 * relationship, which are released to the inbox and which are held (with
 * how many are ahead), first come first served across all mentees, so
 * that the inbox never holds more than the budget.  Writes only what
 * changed.  *released (may be NULL) counts newly released questions. */
int mm_engage_settle(mm_home_t *home, size_t *released);

#endif
