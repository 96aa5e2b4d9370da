/*  question.c -- question states derived from a relationship's items, and
 *  the rules of each act. */
#include <stdlib.h>
#include <string.h>
#include "core/question.h"
#include "crypto/error.h"

const char *mm_qstate_name(mm_qstate_t s)
{
    static const char *names[] = { "waiting", "held", "open", "answered", "thanked",
                                   "withdrawn", "declined" };
    return (unsigned) s < sizeof names / sizeof names[0] ? names[s] : "?";
}

static const char *const hold_names[] = { "budget", "one-at-a-time", "away" };

const char *mm_hold_name(mm_hold_t h)
{
    return (unsigned) h < sizeof hold_names / sizeof hold_names[0] ? hold_names[h] : "?";
}

int mm_question_pending(const mm_question_t *q)
{
    return q->state != MM_QS_THANKED && q->state != MM_QS_WITHDRAWN
        && q->state != MM_QS_DECLINED;
}

const mm_question_t *mm_question_pending_of(const mm_question_t *qs, size_t n,
                                            const uint8_t asker[32])
{
    for (size_t i = 0; i < n; i++)
        if (!memcmp(qs[i].q->author, asker, 32) && mm_question_pending(&qs[i]))
            return &qs[i];
    return NULL;
}

const mm_question_t *mm_question_by_id(const mm_question_t *qs, size_t n, const uint8_t id[32])
{
    for (size_t i = 0; i < n; i++)
        if (!memcmp(qs[i].q->id, id, 32))
            return &qs[i];
    return NULL;
}

static void derive_state(mm_question_t *q)
{
    char st[16], why[16];
    uint64_t ahead = 0;
    q->hold = MM_HOLD_BUDGET;
    q->ahead = 0;
    if (q->decline)
        q->state = MM_QS_DECLINED;
    else if (q->withdraw && !q->nanswers)
        q->state = MM_QS_WITHDRAWN;
    else if (q->thanks && q->nanswers)
        q->state = MM_QS_THANKED;
    else if (q->nanswers)
        q->state = MM_QS_ANSWERED;
    else if (q->queue && !strcmp(mm_item_str(q->queue, "state", st, sizeof st), "released"))
        q->state = MM_QS_OPEN;
    else if (q->queue) {
        q->state = MM_QS_HELD;
        mm_item_str(q->queue, "reason", why, sizeof why);
        for (unsigned h = 0; h < sizeof hold_names / sizeof hold_names[0]; h++)
            if (!strcmp(why, hold_names[h]))
                q->hold = (mm_hold_t) h;
        if (mm_body_uint(q->queue->pt, q->queue->ptlen, "ahead", &ahead) == MM_OK)
            q->ahead = ahead;
    } else
        q->state = MM_QS_WAITING;
}

static int by_qid(const void *a, const void *b)
{
    return memcmp(((const mm_question_t *) a)->q->id, ((const mm_question_t *) b)->q->id, 32);
}

static int qid_key(const void *key, const void *q)
{
    return memcmp(key, ((const mm_question_t *) q)->q->id, 32);
}

static int by_qtime(const void *a, const void *b)
{
    return mm_item_cmp_time(((const mm_question_t *) a)->q, ((const mm_question_t *) b)->q);
}

/* Attach it to q if it counts: the right side, the first of its kind
 * (answers: the first two; queue: the latest, items being in time order). */
static void attach(mm_question_t *q, const mm_item_t *it)
{
    if (!memcmp(it->author, q->q->author, 32)) {
        if (mm_item_is(it, MM_T_WITHDRAW) && !q->withdraw)
            q->withdraw = it;
        else if (mm_item_is(it, MM_T_THANKS) && !q->thanks)
            q->thanks = it;
        else if (mm_item_is(it, MM_T_REPORT)) {
            q->report = it;
            q->nreports++;
        }
    } else {
        if (mm_item_is(it, MM_T_ANSWER) && q->nanswers < MM_ANSWERS_MAX)
            q->answers[q->nanswers++] = it;
        else if (mm_item_is(it, MM_T_DECLINE) && !q->decline)
            q->decline = it;
        else if (mm_item_is(it, MM_T_ASKBACK) && !q->askback)
            q->askback = it;
        else if (mm_item_is(it, MM_T_QUEUE))
            q->queue = it;
    }
}

int mm_questions(const mm_items_t *items, mm_question_t **out, size_t *n)
{
    size_t nq = 0, k = 0;
    *out = NULL;
    *n = 0;
    for (size_t i = 0; i < items->n; i++)
        nq += mm_item_is(&items->v[i], MM_T_QUESTION);
    if (!nq)
        return MM_OK;
    mm_question_t *qs = calloc(nq, sizeof *qs);
    if (!qs)
        return MM_ENOMEM;
    for (size_t i = 0; i < items->n; i++)
        if (mm_item_is(&items->v[i], MM_T_QUESTION))
            qs[k++].q = &items->v[i];
    qsort(qs, nq, sizeof *qs, by_qid);  /* found by id in O(log n) */
    for (size_t i = 0; i < items->n; i++) {
        const uint8_t *ref;
        mm_question_t *q;
        if (mm_item_ref(&items->v[i], "ref", &ref)
            && (q = bsearch(ref, qs, nq, sizeof *qs, qid_key)))
            attach(q, &items->v[i]);
    }
    for (size_t j = 0; j < nq; j++)
        derive_state(&qs[j]);
    qsort(qs, nq, sizeof *qs, by_qtime);
    *out = qs;
    *n = nq;
    return MM_OK;
}

const char *mm_act_type(mm_act_t act)
{
    static const char *const types[] = { MM_T_WITHDRAW, MM_T_THANKS, MM_T_REPORT,
                                         MM_T_ANSWER, MM_T_DECLINE, MM_T_ASKBACK };
    return (unsigned) act < sizeof types / sizeof types[0] ? types[act] : NULL;
}

int mm_question_may(const mm_question_t *q, const uint8_t who[32], mm_act_t act)
{
    int asker = !memcmp(who, q->q->author, 32);
    mm_qstate_t s = q->state;
    int released = s == MM_QS_OPEN || s == MM_QS_ANSWERED;
    switch (act) {
    case MM_ACT_WITHDRAW:
        if (!asker)
            return MM_EROLE;
        return s == MM_QS_WAITING || s == MM_QS_HELD || s == MM_QS_OPEN ? MM_OK : MM_ESTATE;
    case MM_ACT_THANK:
        if (!asker)
            return MM_EROLE;
        return s == MM_QS_ANSWERED ? MM_OK : MM_ESTATE;
    case MM_ACT_REPORT:
        if (!asker)
            return MM_EROLE;
        return s != MM_QS_WITHDRAWN && s != MM_QS_DECLINED && (q->nanswers || q->askback)
             ? MM_OK : MM_ESTATE;
    case MM_ACT_ANSWER:
        if (asker)
            return MM_EROLE;
        return released && q->nanswers < MM_ANSWERS_MAX ? MM_OK : MM_ESTATE;
    case MM_ACT_DECLINE:
        if (asker)
            return MM_EROLE;
        return s == MM_QS_WAITING || s == MM_QS_HELD || s == MM_QS_OPEN ? MM_OK : MM_ESTATE;
    case MM_ACT_ASKBACK:
        if (asker)
            return MM_EROLE;
        return (released || s == MM_QS_THANKED) && !q->askback ? MM_OK : MM_ESTATE;
    }
    return MM_EINVAL;
}
