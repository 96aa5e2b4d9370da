/*  looked.h -- "new since you last looked": the mark of what this person
 *  last saw on this device, and the news (news.h) beyond it.
 *
 *  The mark is, for every feed (author device, scope) of the store, the
 *  seq of its head when the person last looked.  What is new is what
 *  mm_news_of makes of the entries past the mark: a mentor's answer,
 *  ask-back, decline (and whom it suggests), release or hold, away or
 *  back; a mentee's question, withdrawal, thanks or report.  Looking (mm
 *  status in its human form) moves the mark to the heads it read, in that
 *  same read, so what arrives meanwhile stays new.  A home that never
 *  looked has no mark: its first look shows nothing new and sets it.
 *
 *  The mark is local bookkeeping of one device, never sent: the file
 *  HOME/looked (PROTOCOL.md 6), written whole and renamed into place, mode
 *  0600.  A damaged or missing file is a home that never looked.
 */
#ifndef MM_LOOKED_H
#define MM_LOOKED_H

#include <stddef.h>
#include <stdint.h>
#include "crypto/error.h"
#include "core/home.h"
#include "core/news.h"

#define MM_LOOKED_FILE      "looked"
#define MM_LOOKED_MAGIC     "mmlk"
#define MM_LOOKED_VERSION   1
#define MM_LOOKED_FEEDS_MAX 1000000     /* feeds a mark holds; a bigger file is damaged */

/* One feed of the mark. */
typedef struct {
    uint8_t  author[32], scope[32];
    uint64_t seq;
} mm_looked_feed_t;

/* The heads read for a look, to become the mark once shown. */
typedef struct {
    mm_looked_feed_t *v;            /* in (author, scope) order */
    size_t            n;
    int               had_mark;     /* 0: the home never looked before */
} mm_looked_t;

/* What is new since the mark: the heads now into *now (free with
 * mm_looked_free), and the news of the entries past the mark into *news
 * (free with mm_news_free; empty when there was no mark).  Both also on
 * failure.  MM_OK; MM_ENOMEM; MM_ECORRUPT; store errors. */
int mm_looked_news(mm_home_t *home, mm_looked_t *now, mm_news_list_t *news) MM_NODISCARD;

/* Make now the mark (the person has seen it).  MM_OK; MM_EIO; MM_EFULL;
 * MM_EPERM. */
int mm_looked_set(mm_home_t *home, const mm_looked_t *now) MM_NODISCARD;

void mm_looked_free(mm_looked_t *now);

#endif
