/*  news.h -- engagement events (core/news.h) in words and as JSON
 *  (news.c), for mm sync's lines and mm status's "new since you last
 *  looked".
 *
 *  The same words as mm sync's lines: "grace answered 1a2b3c4d5e6f",
 *  "grace declined 1a2b... and suggests Kim (mmi...)", "your question ...
 *  is held: you are next".
 */
#ifndef MM_CLI_NEWS_H
#define MM_CLI_NEWS_H

#include "cli/cli.h"
#include "cli/json.h"
#include "core/news.h"

/* One event as one line on stdout, after indent. */
void cli_news_line(const cli_t *cli, const char *indent, const mm_news_t *e);

/* One event as a JSON object {"kind", "peer", "question", "time",
 * "time_ms", and "ahead" and "reason" (held), "until" (away), "refer" and
 * "refer_name" (declined)}. */
void cli_news_json(const cli_t *cli, json_t *j, const mm_news_t *e);

#endif
