/*  fold.c -- Unicode simple case folding of names; see fold.h. */
#include <string.h>

#include "core/fold.h"
#include "core/utf8.h"
#include "core/fold_table.h"

uint32_t mm_fold_cp(uint32_t cp)
{
    size_t lo = 0, hi = sizeof fold_ranges / sizeof fold_ranges[0];

    /* the last range that starts at or before cp */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (fold_ranges[mid].first <= cp)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return cp;
    const size_t i = lo - 1;
    if (cp > fold_ranges[i].last || (cp - fold_ranges[i].first) % fold_ranges[i].stride)
        return cp;
    return (uint32_t) ((int32_t) cp + fold_ranges[i].delta);
}

const char *mm_fold_unicode(void)
{
    return MM_FOLD_UNICODE;
}

/* The code point at *s (advancing it), or 0x80000000 | byte for a byte
 * that does not start a well-formed sequence: compared as itself. */
static uint32_t next(const unsigned char **sp)
{
    const unsigned char *s = *sp;
    uint32_t cp;
    size_t len = mm_utf8_decode(s, 4, &cp);   /* a NUL ends the string first */
    if (len == 0) {
        *sp = s + 1;
        return 0x80000000u | s[0];
    }
    *sp = s + len;
    return cp;
}

int mm_fold_cmp(const char *a, const char *b)
{
    const unsigned char *x = (const unsigned char *) a, *y = (const unsigned char *) b;

    while (*x && *y) {
        uint32_t p = next(&x), q = next(&y);
        if (!(p & 0x80000000u))
            p = mm_fold_cp(p);
        if (!(q & 0x80000000u))
            q = mm_fold_cp(q);
        if (p != q)
            return p < q ? -1 : 1;
    }
    return (*x != 0) - (*y != 0);
}
