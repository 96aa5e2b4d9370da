/*  test_lint.c -- the power-question table: each rule fires on what it
 *  names and stays quiet on a good question. */
#include "fixture.h"
#include "core/lint.h"

static int fires(const char *text, const char *rule)
{
    mm_lint_finding_t f[MM_LINT_MAX];
    int n = mm_lint(text, f);
    for (int i = 0; i < n; i++)
        if (strcmp(f[i].rule, rule) == 0)
            return 1;
    return 0;
}

/* Every rule that fires on text, in table order, joined by commas. */
static const char *findings(const char *text)
{
    static char out[256];
    mm_lint_finding_t f[MM_LINT_MAX];
    int n = mm_lint(text, f);
    out[0] = '\0';
    for (int i = 0; i < n && i < MM_LINT_MAX; i++)
        snprintf(out + strlen(out), sizeof out - strlen(out), "%s%s", i ? "," : "", f[i].rule);
    return out;
}

static void test_good_power_questions_pass(void **state)
{
    static const char *good[] = {
        "What helped you most when you first had to give hard feedback to my peers?",
        "I'm moving into my first team lead role: how did you decide what to stop doing?",
        "How would you prepare for a promotion conversation when my manager is new?",
    };
    mm_lint_finding_t f[MM_LINT_MAX];
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        int n = mm_lint(good[i], f);
        if (n)
            fail_msg("'%s' flagged: %s", good[i], f[0].advice);
    }
}

static void test_each_rule_fires(void **state)
{
    /* exactly the rules named, no others */
    assert_string_equal(findings("Should I take the team lead job offer in my company?"), "yes-no");
    assert_string_equal(findings("Is it worth it for my career to learn Rust now?"), "yes-no");
    assert_string_equal(findings("What should I pick for my team, Rust or Go?"), "either-or");
    assert_string_equal(findings("What is hard about my new role? And how do I start?"),
                        "several");
    assert_string_equal(findings("Tell me about how you grew into your team lead role."),
                        "no-question");
    assert_string_equal(findings("Why?"), "short");
    char longq[600];
    memset(longq, 'a', sizeof longq);
    memcpy(longq, "What ", 5);
    longq[sizeof longq - 2] = '?';
    longq[sizeof longq - 1] = '\0';
    assert_string_equal(findings(longq), "long,no-context");
    assert_string_equal(findings("What is the best programming language to learn these days?"),
                        "no-context");
    /* openers are whole words, case-insensitive */
    assert_false(fires("Island teams: what did you do with them in my first month?", "yes-no"));
    assert_string_equal(findings("DO you think my plan for the team will work out?"), "yes-no");
}

static void test_table_is_documented(void **state)
{
    assert_true(mm_lint_nrules() >= 7);
    for (size_t i = 0; i < mm_lint_nrules(); i++) {
        assert_non_null(mm_lint_rule_name(i));
        assert_true(strlen(mm_lint_rule_doc(i)) > 10);
    }
    assert_null(mm_lint_rule_name(mm_lint_nrules()));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_power_questions_pass),
        cmocka_unit_test(test_each_rule_fires),
        cmocka_unit_test(test_table_is_documented),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
