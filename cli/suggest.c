/*  suggest.c -- the words nearest to a mistyped one, see suggest.h. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cli/suggest.h"

#define WORD_MAX 64

/* The distance between a[0..n) and b[0..m). */
static size_t distance(const char *a, size_t n, const char *b, size_t m)
{
    /* three rows of the dynamic programme: i-2, i-1, i */
    size_t row[3][WORD_MAX + 1];

    if (n > WORD_MAX || m > WORD_MAX)
        return SIZE_MAX;
    for (size_t j = 0; j <= m; j++)
        row[0][j] = j;
    for (size_t i = 1; i <= n; i++) {
        size_t *cur = row[i % 3], *up = row[(i - 1) % 3], *up2 = row[(i - 2) % 3];
        cur[0] = i;
        for (size_t j = 1; j <= m; j++) {
            size_t cost = a[i - 1] != b[j - 1];
            size_t d = up[j] + 1;                       /* deletion */
            if (cur[j - 1] + 1 < d)
                d = cur[j - 1] + 1;                     /* insertion */
            if (up[j - 1] + cost < d)
                d = up[j - 1] + cost;                   /* substitution */
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                up2[j - 2] + 1 < d)
                d = up2[j - 2] + 1;                     /* swap */
            cur[j] = d;
        }
    }
    return row[n % 3][m];
}

size_t cli_suggest_distance(const char *a, const char *b)
{
    return distance(a, strlen(a), b, strlen(b));
}

void cli_suggest_init(cli_suggest_t *s, const char *typed)
{
    memset(s, 0, sizeof *s);
    s->typed = typed;
    s->best = strlen(typed) <= 3 ? 1 : 2;       /* the farthest suggested */
}

void cli_suggest_add(cli_suggest_t *s, const char *word)
{
    cli_suggest_addn(s, word, strlen(word));
}

void cli_suggest_addn(cli_suggest_t *s, const char *word, size_t len)
{
    size_t d = distance(s->typed, strlen(s->typed), word, len);

    if (d == 0 || d > s->best)
        return;
    if (d < s->best || s->n == 0) {
        s->best = d;
        s->n = 0;
    }
    for (size_t i = 0; i < s->n; i++)
        if (s->len[i] == len && memcmp(s->v[i], word, len) == 0)
            return;
    if (s->n < CLI_SUGGEST_MAX) {
        s->v[s->n] = word;
        s->len[s->n++] = len;
    }
}

void cli_suggest_text(const cli_suggest_t *s, const char *lead, char *out,
                      size_t cap)
{
    size_t o;

    if (cap == 0)
        return;
    out[0] = '\0';
    if (s->n == 0)
        return;
    o = (size_t) snprintf(out, cap, "did you mean %s", s->n > 1 ? "one of " : "");
    for (size_t i = 0; i < s->n && o < cap; i++)
        o += (size_t) snprintf(out + o, cap - o, "%s'%s%.*s'", i ? ", " : "",
                               lead, (int) s->len[i], s->v[i]);
    if (o < cap)
        snprintf(out + o, cap - o, "?");
}
