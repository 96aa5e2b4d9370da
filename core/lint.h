/*  lint.h -- the power-question check: is this one open question, in
 *  service of a goal, that a busy person can answer in one sitting?
 *
 *  The rules are one table (lint.c) of a name, a test and the advice to
 *  show; adding a rule is adding a row.  A question is sent only when no
 *  rule fires, unless the asker insists (mm ask --as-is).
 */
#ifndef MM_LINT_H
#define MM_LINT_H

#include <stddef.h>
#include "crypto/error.h"

#define MM_LINT_MAX 8               /* findings reported at most */

typedef struct {
    const char *rule;               /* stable name: "yes-no", "either-or", ... */
    char        advice[160];        /* one line, for a person */
} mm_lint_finding_t;

/* Check text (UTF-8).  Returns the number of findings (0: a good power
 * question) and fills out[0..MM_LINT_MAX). */
int mm_lint(const char *text, mm_lint_finding_t out[MM_LINT_MAX]) MM_NODISCARD;

/* Number of rules, and the name and one-line description of rule i, for
 * `mm help lint` and tests. */
size_t      mm_lint_nrules(void);
const char *mm_lint_rule_name(size_t i);
const char *mm_lint_rule_doc(size_t i);

#endif
