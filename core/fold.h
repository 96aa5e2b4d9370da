/*  fold.h -- names compared without regard to case: Unicode simple case
 *  folding (fold.c).
 *
 *  Petnames and device names are the same name when they are equal after
 *  every code point is replaced by its simple case folding (CaseFolding.txt
 *  status C and S, Unicode MM_FOLD_UNICODE, in core/fold_table.h): "ÉMILE"
 *  is "émile", "ΣΟΦΊΑ" is "σοφία" (and final ς is σ), "ПЁТР" is "пётр",
 *  "ẞ" is "ß".  Simple folding maps one code point to one, so "ß" is not
 *  "ss", "ﬁ" is not "fi", and nothing is normalised: "é" typed as e and a
 *  combining accent is another name than "é" typed as one code point.  The
 *  Turkic dotted and dotless i fold as in other languages (İ stays İ).
 *  Bytes that are not UTF-8 compare as themselves.
 */
#ifndef MM_FOLD_H
#define MM_FOLD_H

#include <stddef.h>
#include <stdint.h>

/* The simple case folding of code point cp (cp itself when it has none). */
uint32_t mm_fold_cp(uint32_t cp);

/* a and b (NUL-terminated UTF-8) compared code point by code point after
 * folding: <0, 0, >0. */
int mm_fold_cmp(const char *a, const char *b);

/* The Unicode version of the table, e.g. "14.0.0". */
const char *mm_fold_unicode(void);

#endif
