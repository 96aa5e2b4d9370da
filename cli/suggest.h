/*  suggest.h -- "did you mean": the known words nearest to a mistyped one
 *  (a command, a subcommand, an option), for the usage error.
 *
 *  Nearness is the optimal string alignment distance (insertions,
 *  deletions, substitutions and swaps of two neighbours, each 1).  A word
 *  is suggested when it is at the smallest distance found and that
 *  distance is small: 1 for a typed word of up to 3 characters, else 2
 *  (so 'x' suggests nothing, while 'tank' suggests 'thank').
 */
#ifndef MM_CLI_SUGGEST_H
#define MM_CLI_SUGGEST_H

#include <stddef.h>

#define CLI_SUGGEST_MAX 4       /* candidates named at most */

typedef struct {
    const char *typed;
    size_t      best;           /* distance of the candidates kept */
    const char *v[CLI_SUGGEST_MAX];     /* the words kept: v[i][0..len[i]) */
    size_t      len[CLI_SUGGEST_MAX];
    size_t      n;
} cli_suggest_t;

/* Distance between a and b, or SIZE_MAX when either is longer than 64. */
size_t cli_suggest_distance(const char *a, const char *b);

/* Start collecting the words near typed. */
void cli_suggest_init(cli_suggest_t *s, const char *typed);
/* Offer word (kept by pointer: it must outlive s); repeats are ignored. */
void cli_suggest_add(cli_suggest_t *s, const char *word);
/* The same for word[0..len) (the group of "note add"). */
void cli_suggest_addn(cli_suggest_t *s, const char *word, size_t len);
/* "did you mean 'thank'?" or "did you mean one of 'a', 'b'?", each
 * word after lead ("--" for options), into out; "" when nothing is near. */
void cli_suggest_text(const cli_suggest_t *s, const char *lead, char *out,
                      size_t cap);

#endif
