/*  question.h -- a power question and everything that refers to it, and the
 *  rules of who may do what to it in which state (PROTOCOL.md 5.3).
 *
 *  State is never stored: it is derived here from the items of one
 *  relationship scope, matched by "ref", so it is the same whatever order
 *  the two people's feeds arrived in.  Only the asker's withdraw, thanks
 *  and report count, and only the other member's answer, decline, ask-back
 *  and queue; anything else is ignored.
 */
#ifndef MM_QUESTION_H
#define MM_QUESTION_H

#include <stddef.h>
#include "crypto/error.h"
#include <stdint.h>
#include "core/item.h"

#define MM_TEXT_MAX    4000         /* bytes of a question, answer, thanks... */
#define MM_ANSWERS_MAX 2            /* an answer and one clarification */

typedef enum {
    MM_QS_WAITING = 0,              /* not yet seen by the mentor's device */
    MM_QS_HELD,                     /* seen, held (see mm_hold_t) */
    MM_QS_OPEN,                     /* released to the mentor's inbox */
    MM_QS_ANSWERED,
    MM_QS_THANKED,
    MM_QS_WITHDRAWN,
    MM_QS_DECLINED,
} mm_qstate_t;

/* Why a question is held: the "reason" of its latest queue entry. */
typedef enum {
    MM_HOLD_BUDGET = 0,             /* the mentor's budget is used up ("budget", or absent) */
    MM_HOLD_ONE,                    /* the asker has another pending question ("one-at-a-time") */
    MM_HOLD_AWAY,                   /* the mentor is away ("away") */
} mm_hold_t;

/* One question and everything that refers to it. */
typedef struct {
    const mm_item_t *q;
    const mm_item_t *answers[MM_ANSWERS_MAX];
    int              nanswers;
    const mm_item_t *decline, *withdraw, *thanks, *askback, *queue, *report;
    int              nreports;
    mm_qstate_t      state;
    mm_hold_t        hold;          /* when held */
    uint64_t         ahead;         /* when held for the budget: questions ahead of it */
} mm_question_t;

/* The questions among items, in (time, id) order, with their state.  *out
 * is malloc'd (free it) and points into items.  MM_OK or MM_ENOMEM. */
int mm_questions(const mm_items_t *items, mm_question_t **out, size_t *n) MM_NODISCARD;

/* 1 if q still counts for the one-at-a-time rule: neither thanked,
 * withdrawn nor declined. */
int mm_question_pending(const mm_question_t *q);

/* The first pending question that asker has among qs, or NULL. */
const mm_question_t *mm_question_pending_of(const mm_question_t *qs, size_t n,
                                            const uint8_t asker[32]);

/* The question with id among qs, or NULL. */
const mm_question_t *mm_question_by_id(const mm_question_t *qs, size_t n, const uint8_t id[32]);

/* What a member can do to a question. */
typedef enum {
    MM_ACT_WITHDRAW = 0,            /* the asker's, before any answer */
    MM_ACT_THANK,                   /* the asker's, once, after an answer */
    MM_ACT_REPORT,                  /* the asker's, after an answer or an ask-back */
    MM_ACT_ANSWER,                  /* the other's, once released; one clarification */
    MM_ACT_DECLINE,                 /* the other's, before any answer */
    MM_ACT_ASKBACK,                 /* the other's, once released; once */
} mm_act_t;

/* May the person who do act to q now?  MM_OK; MM_EROLE (an asker's act by
 * the other member, or the other's by the asker); MM_ESTATE (not in this
 * state: q->state, q->nanswers and q->askback say why). */
int mm_question_may(const mm_question_t *q, const uint8_t who[32], mm_act_t act) MM_NODISCARD;

/* The body type an act writes (MM_T_*). */
const char *mm_act_type(mm_act_t act);

const char *mm_qstate_name(mm_qstate_t s);
const char *mm_hold_name(mm_hold_t h);

#endif
