#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "core/lint.h"

#define SHORT_MIN 25                /* bytes: below, there is no room for context */
#define LONG_MAX  400               /* bytes: above, it is more than one topic */

/* Openers that make a yes/no question ("Should I ...?") */
static const char *const closed_openers[] = {
    "is", "are", "am", "was", "were", "do", "does", "did", "should", "shall", "can", "could",
    "would", "will", "have", "has", "had", "may", "might", "must", "isn't", "aren't", "don't",
    "doesn't", "didn't", "shouldn't", "can't", "couldn't", "wouldn't", "won't", NULL,
};

/* Words that tie a question to the asker's situation. */
static const char *const context_words[] = {
    "i", "i'm", "i've", "my", "me", "we", "our", "us", "when", "because", "since", "as", "after",
    "before", "goal", "team", "role", "job", "career", NULL,
};

typedef struct {
    const char *text;
    size_t len;
    char first[32];                 /* first word, lower case */
    int qmarks;
    int has_context;
    int either_or;
} facts_t;

static int in_list(const char *w, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(w, *list) == 0)
            return 1;
    return 0;
}

static void gather(const char *text, facts_t *f)
{
    memset(f, 0, sizeof *f);
    f->text = text;
    f->len = strlen(text);
    const char *p = text;
    int nword = 0;
    while (*p) {
        while (*p && !isalnum((unsigned char) *p) && *p != '\'')
            p++;
        char w[32];
        size_t n = 0;
        while (*p && (isalnum((unsigned char) *p) || *p == '\'')) {
            if (n < sizeof w - 1)
                w[n++] = (char) tolower((unsigned char) *p);
            p++;
        }
        w[n] = '\0';
        if (!n)
            continue;
        if (nword++ == 0)
            snprintf(f->first, sizeof f->first, "%s", w);
        if (in_list(w, context_words))
            f->has_context = 1;
        if (strcmp(w, "or") == 0)
            f->either_or = 1;
    }
    for (p = text; *p; p++)
        f->qmarks += *p == '?';
}

typedef struct {
    const char *name;
    const char *doc;
    int (*fires)(const facts_t *f, char *advice, size_t cap);
} rule_t;

static int yes_no(const facts_t *f, char *advice, size_t cap)
{
    if (!in_list(f->first, closed_openers))
        return 0;
    snprintf(advice, cap, "starts with '%s': a yes/no question; open it with What, How or Why",
             f->first);
    return 1;
}

static int either_or(const facts_t *f, char *advice, size_t cap)
{
    if (!f->either_or || !f->qmarks)
        return 0;
    snprintf(advice, cap, "an either/or question closes the answer; ask what to weigh instead");
    return 1;
}

static int several(const facts_t *f, char *advice, size_t cap)
{
    if (f->qmarks <= 1)
        return 0;
    snprintf(advice, cap, "%d question marks: ask one question per engagement", f->qmarks);
    return 1;
}

static int no_question(const facts_t *f, char *advice, size_t cap)
{
    if (f->qmarks)
        return 0;
    snprintf(advice, cap, "no question mark: end with the one question you want answered");
    return 1;
}

static int too_short(const facts_t *f, char *advice, size_t cap)
{
    if (f->len >= SHORT_MIN)
        return 0;
    snprintf(advice, cap, "very short (%zu characters): add a line on your situation", f->len);
    return 1;
}

static int too_long(const facts_t *f, char *advice, size_t cap)
{
    if (f->len <= LONG_MAX)
        return 0;
    snprintf(advice, cap, "very long (%zu characters, over %d): keep it to one topic",
             f->len, LONG_MAX);
    return 1;
}

static int no_context(const facts_t *f, char *advice, size_t cap)
{
    if (f->has_context || f->len < SHORT_MIN)
        return 0;           /* too_short already says it */
    snprintf(advice, cap, "no context: say what you are trying to do (\"I'm ...\", \"my goal ...\")");
    return 1;
}

static const rule_t rules[] = {
    { "yes-no", "opens like a yes/no question (Is, Do, Should, Can, ...)", yes_no },
    { "either-or", "offers two options to pick from (... or ...?)", either_or },
    { "several", "holds more than one question mark", several },
    { "no-question", "has no question mark", no_question },
    { "short", "is under 25 characters: no room for context", too_short },
    { "long", "is over 400 characters: more than one topic", too_long },
    { "no-context", "says nothing of the asker's situation or goal", no_context },
};

#define NRULES (sizeof rules / sizeof rules[0])

int mm_lint(const char *text, mm_lint_finding_t out[MM_LINT_MAX])
{
    facts_t f;
    int n = 0;
    gather(text, &f);
    for (size_t i = 0; i < NRULES && n < MM_LINT_MAX; i++)
        if (rules[i].fires(&f, out[n].advice, sizeof out[n].advice))
            out[n++].rule = rules[i].name;
    return n;
}

size_t mm_lint_nrules(void) { return NRULES; }
const char *mm_lint_rule_name(size_t i) { return i < NRULES ? rules[i].name : NULL; }
const char *mm_lint_rule_doc(size_t i) { return i < NRULES ? rules[i].doc : NULL; }
