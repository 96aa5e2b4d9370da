/*  news.h -- what a sync brought, as engagement events for this person.
 *
 *  A sync stores runs of feeds (scope, device, seqs first..last); net
 *  collects them in an mm_news_runs_t and never looks inside.  mm_news_of
 *  opens the entries of those runs only, so its cost grows with what
 *  arrived, not with the store, and says what they mean for this person:
 *  their mentor answered, asked back, declined, released or held a
 *  question, went away or came back; their mentee asked, withdrew,
 *  thanked or reported.  Only acts a reader counts (PROTOCOL.md 5.3) are
 *  news: the other member's, in a relationship scope, that refer to a
 *  question this device holds, by the member who may write them (a
 *  mentor's answer, decline, ask-back and queue; a mentee's question,
 *  withdraw, thanks and report).
 *
 *  Because nothing outside the runs is read, two things are judged within
 *  them alone: a second answer to a question is "clarified" only when the
 *  first arrived in the same runs (a third is ignored), a second ask-back
 *  or decline is ignored only when the first is among them, and of the
 *  queue entries of one question (and the away entries of one peer) only
 *  the latest among the runs is news, since it says where things stand.
 */
#ifndef MM_NEWS_H
#define MM_NEWS_H

#include <stddef.h>
#include <stdint.h>
#include "crypto/error.h"
#include "core/home.h"
#include "core/peer.h"
#include "core/question.h"

#define MM_NEWS_MAX      100        /* events kept; the rest are only counted */
#define MM_NEWS_RUNS_MAX 100000     /* runs kept (one a feed, adjacent ones merged) */

/* One stored run: entries first..last of the feed (device, scope). */
typedef struct {
    uint8_t  scope[32], device[32];
    uint64_t first, last;
} mm_news_run_t;

typedef struct {
    mm_news_run_t *v;
    size_t         n, cap;
    size_t         dropped;         /* runs not kept (MM_NEWS_RUNS_MAX, or no memory) */
} mm_news_runs_t;

typedef enum {
    MM_NEWS_ANSWERED = 0,           /* the mentor answered my question */
    MM_NEWS_CLARIFIED,              /* ... and added a clarification */
    MM_NEWS_ASKED_BACK,             /* the mentor asked me back on it */
    MM_NEWS_DECLINED,               /* the mentor declined it (refer: whom they suggest) */
    MM_NEWS_RELEASED,               /* it is open in the mentor's inbox */
    MM_NEWS_HELD,                   /* it is held (hold, ahead) */
    MM_NEWS_AWAY,                   /* the mentor is away (until) */
    MM_NEWS_BACK,                   /* the mentor is back */
    MM_NEWS_THANKED,                /* my mentee thanked me for an answer */
    MM_NEWS_REPORTED,               /* my mentee reported back */
    MM_NEWS_ASKED,                  /* my mentee asked a new question */
    MM_NEWS_WITHDREW,               /* my mentee withdrew a question */
} mm_news_kind_t;

/* One event. */
typedef struct {
    mm_news_kind_t kind;
    uint8_t        peer[32];        /* identity of the member who wrote it */
    uint8_t        qid[32];         /* the question (zero for away and back) */
    int            have_q;
    uint8_t        entry[32];       /* the entry that says it */
    uint64_t       time;            /* that entry's time (ms) */
    uint8_t        device[32];      /* where it is: seq of the feed (device, scope) */
    uint64_t       seq;
    mm_hold_t      hold;            /* MM_NEWS_HELD */
    uint64_t       ahead;           /* MM_NEWS_HELD */
    uint64_t       until;           /* MM_NEWS_AWAY */
    uint8_t        refer[32];       /* MM_NEWS_DECLINED with have_refer */
    int            have_refer;
    char           refer_name[MM_PETNAME_MAX + 1];  /* as the decline names them, or "" */
} mm_news_t;

typedef struct {
    mm_news_t *v;                   /* in (time, device, seq) order: a feed's own
                                     * order when two entries share a millisecond */
    size_t     n, cap;
    size_t     more;                /* events beyond MM_NEWS_MAX, not kept */
} mm_news_list_t;

/* Note that entries first..last of feed (device, scope) were stored,
 * merging with a run of the same feed that it continues.  Never fails: a
 * run that cannot be kept is counted in runs->dropped. */
void mm_news_runs_add(mm_news_runs_t *runs, const uint8_t scope[32], const uint8_t device[32],
                      uint64_t first, uint64_t last);
void mm_news_runs_free(mm_news_runs_t *runs);

/* The events among the entries of runs[0..n) for this home's person, in
 * one read transaction, into *out (overwritten: free a list it held
 * first; free the new one with mm_news_free, also on failure).  Runs of other scopes than relationships, and entries
 * of my own devices, say nothing.  MM_OK; MM_ENOMEM; MM_ECORRUPT (a stored
 * entry does not open); store errors. */
int mm_news_of(mm_home_t *home, const mm_news_run_t *runs, size_t n,
               mm_news_list_t *out) MM_NODISCARD;
void mm_news_free(mm_news_list_t *news);

/* "answered", "clarified", "asked-back", "declined", "released", "held",
 * "away", "back", "thanked", "reported", "asked", "withdrew". */
const char *mm_news_kind_name(mm_news_kind_t k);

#endif
