/*  cmd_ask.c -- the mentee's side of an engagement: mm ask, lint, withdraw,
 *  thank and report. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cmd_ambition.h"
#include "cli/cmd_peer.h"
#include "cli/edit.h"
#include "cli/json.h"
#include "cli/rel.h"
#include "cli/util.h"
#include "core/budget.h"
#include "core/engage.h"
#include "core/log.h"
#include "core/lint.h"
#include "crypto/error.h"
#include "crypto/encoding.h"

const char cmd_ask_help[] =
    "ask your mentor one power question\n"
    "\n"
    "DESCRIPTION\n"
    "    Writes a question into the relationship with PEER, who must be your\n"
    "    mentor; it reaches them on the next sync.  A power question is one\n"
    "    open question, in service of a goal, that a busy person can answer\n"
    "    in one sitting.  Before it is written the question is checked as\n"
    "    'mm lint' does; if any rule fires nothing is written and the advice\n"
    "    is shown.\n"
    "\n"
    "    One at a time: while you have a question to this mentor that is\n"
    "    neither thanked, withdrawn nor declined, you cannot ask another.\n"
    "    Thank the answer ('mm thank'), withdraw the question ('mm\n"
    "    withdraw'), or wait.\n"
    "\n"
    "    TEXT is one argument or several words joined by spaces; '-' reads\n"
    "    it from stdin.  At most 4000 bytes of UTF-8.  Left out on a\n"
    "    terminal, your editor opens (config editor, $EDITOR, $VISUAL, vi)\n"
    "    with the check's rules as '#' comment lines, as git commit does;\n"
    "    an empty question aborts.  If the check then has advice, the\n"
    "    editor opens again with the advice as comments: rephrase it, save\n"
    "    it unchanged to send it as it is, or empty it to abort.\n"
    "\n"
    "OPTIONS\n"
    "    --ambition ID\n"
    "        The ambition (mm ambition list) the question serves; its text\n"
    "        goes with the question.\n"
    "    --as-is\n"
    "        Send it even though the power-question check has advice.\n"
    "\n"
    "OUTPUT\n"
    "    asked grace: 1a2b3c4d5e6f\n"
    "    (delivered on the next 'mm sync grace')\n"
    "    When the mentor is away (as of your last sync), a note on stderr,\n"
    "    and the question is asked all the same:\n"
    "    mm ask: note: grace is away until 2026-12-10; your question waits until then\n"
    "    or, when their last word was a question held for their budget:\n"
    "    mm ask: note: grace's budget was full at their last word (2 ahead); ...\n"
    "\n"
    "    --json prints {\"id\", \"peer\", \"time\", \"time_ms\", \"text\",\n"
    "    \"ambition\", \"state\"}.\n"
    "\n"
    "EXAMPLES\n"
    "    mm ask grace 'What would you weigh first when my team wants a rewrite?'\n"
    "    mm ask grace --ambition 1a2b 'How did you prepare for your first review as a lead?'\n"
    "    mm ask grace --as-is 'Should I take the offer?'\n"
    "\n"
    "EXIT STATUS\n"
    "    0  the question is written\n"
    "    1  not sent: the check has advice, an open question to this mentor\n"
    "       already, PEER is not your mentor, empty or too long text, no\n"
    "       such peer or ambition, a store error\n"
    "    2  the command line is wrong\n";

const char cmd_lint_help[] =
    "check a question against the power-question rules\n"
    "\n"
    "DESCRIPTION\n"
    "    Runs the same check as 'mm ask' without writing anything: is TEXT\n"
    "    one open question, in service of a goal, that a busy person can\n"
    "    answer in one sitting?  Each rule that fires prints its name and\n"
    "    advice.\n"
    "\n"
    "RULES\n"
    "    yes-no       opens like a yes/no question (Is, Do, Should, Can, ...)\n"
    "    either-or    offers two options to pick from (... or ...?)\n"
    "    several      holds more than one question mark\n"
    "    no-question  has no question mark\n"
    "    short        is under 25 characters: no room for context\n"
    "    long         is over 400 characters: more than one topic\n"
    "    no-context   says nothing of the asker's situation or goal\n"
    "\n"
    "OUTPUT\n"
    "    a good power question\n"
    "or one line per finding:\n"
    "    yes-no: starts with 'should': a yes/no question; open it with What, How or Why\n"
    "\n"
    "    --json prints {\"ok\": true|false, \"findings\": [{\"rule\", \"advice\"}]}.\n"
    "\n"
    "EXAMPLES\n"
    "    mm lint 'Should I rewrite the parser?'\n"
    "    mm lint 'What would you weigh first when my team wants a rewrite?'\n"
    "\n"
    "EXIT STATUS\n"
    "    0  a good power question\n"
    "    1  a rule fired, or the text is empty, too long or not UTF-8\n"
    "    2  the command line is wrong\n";

const char cmd_withdraw_help[] =
    "take back a question that has no answer yet\n"
    "\n"
    "DESCRIPTION\n"
    "    Writes a withdrawal of your question QID (its id or a prefix of at\n"
    "    least 4 hex digits, as 'mm status' shows).  Only a question with no\n"
    "    answer can be withdrawn; it then frees you to ask that mentor again.\n"
    "\n"
    "OUTPUT\n"
    "    withdrew question 1a2b3c4d5e6f to grace\n"
    "    (delivered on the next 'mm sync grace')\n"
    "\n"
    "    --json prints {\"id\", \"ref\", \"peer\", \"type\", \"time\", \"time_ms\"}:\n"
    "    id is the new entry's, ref the question's.\n"
    "\n"
    "EXAMPLES\n"
    "    mm withdraw 1a2b3c4d\n"
    "\n"
    "EXIT STATUS\n"
    "    0  withdrawn\n"
    "    1  not yours, already answered, thanked, withdrawn or declined; no\n"
    "       such question; a store error\n"
    "    2  the command line is wrong\n";

const char cmd_thank_help[] =
    "thank your mentor for an answer, and offer help back\n"
    "\n"
    "DESCRIPTION\n"
    "    Thanks close an engagement: they are written once, after an answer,\n"
    "    and free you to ask that mentor again.  Say what the answer changed.\n"
    "    TEXT is one argument or several words; '-' reads it from stdin;\n"
    "    left out on a terminal, your editor opens ('mm help config').\n"
    "\n"
    "OPTIONS\n"
    "    --offer TEXT\n"
    "        Something you offer in return (a review, an introduction...).\n"
    "\n"
    "OUTPUT\n"
    "    thanked grace for the answer to 1a2b3c4d5e6f\n"
    "    (delivered on the next 'mm sync grace')\n"
    "\n"
    "    --json prints {\"id\", \"ref\", \"peer\", \"type\", \"time\", \"time_ms\"}.\n"
    "\n"
    "EXAMPLES\n"
    "    mm thank 1a2b 'That reframed the whole plan, thank you.'\n"
    "    mm thank 1a2b 'Thank you!' --offer 'happy to review your talk slides'\n"
    "\n"
    "EXIT STATUS\n"
    "    0  thanked\n"
    "    1  not yours, not answered yet, already thanked, withdrawn or\n"
    "       declined; empty or too long text; no such question; a store error\n"
    "    2  the command line is wrong\n";

const char cmd_report_help[] =
    "tell your mentor what came of their advice\n"
    "\n"
    "DESCRIPTION\n"
    "    A report says what happened when you acted on an answer.  It can\n"
    "    follow any answered question, thanked or not, and more than once;\n"
    "    it is also how you reply to a question your mentor asked back.\n"
    "    TEXT is one argument or several words; '-' reads it from stdin;\n"
    "    left out on a terminal, your editor opens ('mm help config').\n"
    "\n"
    "OUTPUT\n"
    "    reported back to grace on 1a2b3c4d5e6f\n"
    "    (delivered on the next 'mm sync grace')\n"
    "\n"
    "    --json prints {\"id\", \"ref\", \"peer\", \"type\", \"time\", \"time_ms\"}.\n"
    "\n"
    "EXAMPLES\n"
    "    mm report 1a2b 'We rewrote the tokenizer only; bug reports fell by half.'\n"
    "\n"
    "EXIT STATUS\n"
    "    0  written\n"
    "    1  not yours, not answered (nor asked back on), withdrawn or\n"
    "       declined; empty or too long text; no such question; a store error\n"
    "    2  the command line is wrong\n";

/* --- ask ----------------------------------------------------------------- */

/* The findings of a refused question, for the --json error object. */
static struct {
    mm_lint_finding_t f[MM_LINT_MAX];
    int               n;
} refused;

/* "findings": [{"rule", "advice"}] in the error object. */
static void findings_json(json_t *j, const void *arg)
{
    (void) arg;
    json_arr_begin(j, "findings");
    for (int i = 0; i < refused.n; i++) {
        json_obj_begin(j, NULL);
        json_str(j, "rule", refused.f[i].rule);
        json_str(j, "advice", refused.f[i].advice);
        json_obj_end(j);
    }
    json_arr_end(j);
}

/* "not sent: advice; advice; rephrase it..." for the findings of text
 * (with --json, also in the error object).  Returns the number of
 * findings. */
static int lint_refusal(cli_t *cli, const char *text)
{
    mm_lint_finding_t *f = refused.f;
    char msg[MM_LINT_MAX * (sizeof f[0].advice + 2) + 16];
    size_t o = 0;
    int n = mm_lint(text, f);

    if (n <= 0)
        return 0;
    if (n > MM_LINT_MAX)
        n = MM_LINT_MAX;
    refused.n = n;
    cli_set_extra(findings_json, NULL);
    msg[0] = '\0';
    for (int i = 0; i < n; i++)
        o += (size_t) snprintf(msg + o, sizeof msg - o, "%s%s", i ? "; " : "",
                               f[i].advice);
    cli_error(cli, "not sent: %s; rephrase it, or send it as it is with "
              "--as-is", msg);
    return n;
}

/* The question written in the editor: the lint's rules as comments, then,
 * if the check has advice (and no --as-is), the text again with the advice
 * as comments: saved unchanged, it is sent as it is (*asis set).  Exit
 * code. */
static int ask_edit(cli_t *cli, const char *name, char **text, size_t *len,
                    int *asis)
{
    mm_lint_finding_t f[MM_LINT_MAX];
    char c[2048], *again = NULL;
    size_t o, alen = 0;
    int ex, n;

    o = (size_t) snprintf(c, sizeof c, "Write your power question to %s above.  Lines "
                          "starting with '#' are\ndropped; an empty question aborts "
                          "and nothing is sent.\n\nOne open question, in service of a "
                          "goal, that a busy person can answer\nin one sitting.  The "
                          "check ('mm lint') looks for:\n", name);
    for (size_t i = 0; i < mm_lint_nrules() && o < sizeof c; i++)
        o += (size_t) snprintf(c + o, sizeof c - o, "  %-12s %s\n", mm_lint_rule_name(i),
                               mm_lint_rule_doc(i));
    if ((ex = cli_edit(cli, "question", NULL, 0, c, MM_TEXT_MAX, text, len)) != CLI_EXIT_OK)
        return ex;
    if (cli->opt[CLI_OPT_ASIS] || (n = mm_lint(*text, f)) <= 0)
        return CLI_EXIT_OK;
    if (n > MM_LINT_MAX)
        n = MM_LINT_MAX;
    o = (size_t) snprintf(c, sizeof c, "Not sent yet: the check has advice.\n");
    for (int i = 0; i < n && o < sizeof c; i++)
        o += (size_t) snprintf(c + o, sizeof c - o, "  %s: %s\n", f[i].rule, f[i].advice);
    if (o < sizeof c)
        snprintf(c + o, sizeof c - o, "Rephrase it above; save it unchanged to send it as "
                 "it is; empty it to abort.");
    if ((ex = cli_edit(cli, "question", *text, *len, c, MM_TEXT_MAX, &again, &alen))
        != CLI_EXIT_OK) {
        cli_text_free(*text, *len);
        *text = NULL;
        *len = 0;
        return ex;
    }
    *asis = alen == *len && !memcmp(again, *text, alen);
    cli_text_free(*text, *len);
    *text = again;
    *len = alen;
    return CLI_EXIT_OK;
}

/* The notes said before a question is written to a mentor who is away,
 * or whose budget was full at their last word; a failure to read them
 * only costs the note. */
static void ask_notes(cli_t *cli, const char *name, const mm_peer_t *p)
{
    char until[CLI_TIME_MAX];
    uint64_t away = 0, ahead = 0;
    int full = 0;

    if (mm_budget_away_of(cli->home, p->identity, mm_now_ms(), &away) == MM_OK && away) {
        cli_time_date(until, away);
        cli_error(cli, "note: %s is away until %s; your question waits until then",
                  name, until);
    } else if (mm_budget_full_of(cli->home, p->identity, &full, &ahead) == MM_OK && full) {
        cli_error(cli, "note: %s's budget was full at their last word (%llu ahead); "
                  "your question may wait in their queue", name,
                  (unsigned long long) ahead);
    }
}

/* Why core refused the question; exit code. */
static int ask_refused(cli_t *cli, const char *name, const mm_engage_out_t *o,
                       int rc)
{
    char hex[2 * 32 + 1];

    cli_set_code(rc);
    switch (rc) {
    case MM_EROLE:
        if (o->peer.role == MM_ROLE_MENTEE)
            return cli_fail(cli, "%s is your mentee; ask them back with 'mm "
                            "ask-back QID TEXT'", name);
        return cli_fail(cli, "%s is not your mentor; questions go to mentors "
                        "only", name);
    case MM_EPENDING:
        mm_encoding_hex(hex, o->qid, 32);
        return cli_fail(cli, "you already have an open question to %s (%.*s, "
                        "%s); thank, withdraw, or wait for the answer before "
                        "asking again", name, CLI_SHORT_ID, hex,
                        mm_qstate_name(o->state));
    case MM_ENOTFOUND:
        return cli_fail(cli, "you share nothing with %s yet; run 'mm sync' "
                        "first", name);
    case MM_EBLOCKED:
        return cli_fail(cli, "%s is blocked; unblock them with 'mm peer "
                        "unblock' first", name);
    default:
        return cli_fail_rc(cli, rc, "cannot write the question");
    }
}

int cmd_ask(cli_t *cli, int argc, char **argv)
{
    char name[CLI_NAME_SAFE], hex[2 * 32 + 1];
    const mm_ambition_t *amb = NULL;
    const char *atext = NULL;
    size_t alen = 0, len = 0;
    cmd_ambitions_t a;
    mm_engage_out_t o;
    char *text = NULL;
    mm_peer_t p;
    int ex, rc, asis = cli->opt[CLI_OPT_ASIS] != NULL;
    json_t j;

    memset(&a, 0, sizeof a);
    if (argc == 0 || (argc == 1 && !cli_edit_possible()))
        return cli_usage(cli, argc ? "missing the question's TEXT" :
                         "give the PEER (your mentor) and the question's TEXT");
    if ((ex = cmd_peer_get(cli, argv[0], &p)) != CLI_EXIT_OK)
        goto out;
    cmd_peer_name(name, p.petname);
    /* Said before the text is read: no point writing a question for them. */
    if (p.role != MM_ROLE_MENTOR) {
        o.peer = p;
        ex = ask_refused(cli, name, &o, MM_EROLE);
        goto out;
    }
    if (argc == 1)
        ex = ask_edit(cli, name, &text, &len, &asis);
    else
        ex = cli_text_read(cli, argc - 1, argv + 1, "question", &text, &len);
    if (ex != CLI_EXIT_OK)
        goto out;
    ex = CLI_EXIT_FAIL;
    if (!asis && lint_refusal(cli, text) > 0)
        goto out;
    if (cli->opt[CLI_OPT_AMBITION]) {
        if ((ex = cmd_ambitions_load(cli, &a)) != CLI_EXIT_OK ||
            (ex = cmd_ambition_find(cli, &a, cli->opt[CLI_OPT_AMBITION], &amb))
            != CLI_EXIT_OK)
            goto out;
        ex = CLI_EXIT_FAIL;
        if (amb->closed) {
            mm_encoding_hex(hex, amb->it->id, 32);
            cli_error(cli, "ambition %.*s is %s; pick a current one (see 'mm "
                      "ambition list')", CLI_SHORT_ID, hex,
                      cmd_ambition_state(amb));
            goto out;
        }
        atext = rel_field(amb->it, "text", &alen);
    }
    /* One at a time, the role and the text: core's rules (mm_engage_ask). */
    rc = mm_engage_ask(cli->home, p.identity, text, len, atext, alen, &o);
    if (rc != MM_OK) {
        ex = ask_refused(cli, name, &o, rc);
        goto out;
    }
    mm_encoding_hex(hex, o.id, sizeof o.id);
    ex = CLI_EXIT_OK;
    /* Asked all the same: it waits in their queue (budget.h). */
    ask_notes(cli, name, &p);
    if (!cli->json) {
        printf("asked %s: %s%.*s%s\n", name, cli_c(cli, CLI_YELLOW),
               CLI_SHORT_ID, hex, cli_c(cli, CLI_RESET));
        rel_hint(cli, &p);
        goto out;
    }
    json_init(&j, stdout);
    json_obj_begin(&j, NULL);
    json_str(&j, "id", hex);
    json_str(&j, "peer", p.petname);
    rel_json_time(&j, o.time);
    json_strn(&j, "text", text, len);
    if (atext)
        json_strn(&j, "ambition", atext, alen);
    else
        json_null(&j, "ambition");
    json_str(&j, "state", mm_qstate_name(MM_QS_WAITING));
    json_obj_end(&j);
    json_finish(&j);
out:
    cli_text_free(text, len);
    cmd_ambitions_free(&a);
    return ex;
}

/* --- lint ---------------------------------------------------------------- */

int cmd_lint(cli_t *cli, int argc, char **argv)
{
    mm_lint_finding_t f[MM_LINT_MAX];
    char *text = NULL;
    size_t len = 0;
    int ex, n;
    json_t j;

    if (argc == 0)
        return cli_usage(cli, "missing the question's TEXT");
    if ((ex = cli_text_read(cli, argc, argv, "question", &text, &len))
        != CLI_EXIT_OK)
        return ex;
    n = mm_lint(text, f);
    if (n > MM_LINT_MAX)
        n = MM_LINT_MAX;
    if (cli->json) {
        json_init(&j, stdout);
        json_obj_begin(&j, NULL);
        json_bool(&j, "ok", n == 0);
        json_arr_begin(&j, "findings");
        for (int i = 0; i < n; i++) {
            json_obj_begin(&j, NULL);
            json_str(&j, "rule", f[i].rule);
            json_str(&j, "advice", f[i].advice);
            json_obj_end(&j);
        }
        json_arr_end(&j);
        json_obj_end(&j);
        json_finish(&j);
    } else if (n == 0) {
        printf("a good power question\n");
    } else {
        for (int i = 0; i < n; i++)
            printf("%s: %s\n", f[i].rule, f[i].advice);
    }
    cli_text_free(text, len);
    return n == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

/* --- withdraw, thank, report ------------------------------------------------ */

static int withdraw_refused(cli_t *cli, rel_reply_t *c)
{
    switch (c->out.state) {
    case MM_QS_ANSWERED:
        return cli_fail(cli, "question %.*s is answered; thank %s with 'mm "
                        "thank %.*s TEXT' instead", CLI_SHORT_ID, c->hex,
                        c->name, CLI_SHORT_ID, c->hex);
    case MM_QS_WITHDRAWN:
        return cli_fail(cli, "question %.*s is already withdrawn",
                        CLI_SHORT_ID, c->hex);
    default:
        return cli_fail(cli, "question %.*s is %s; there is nothing to "
                        "withdraw", CLI_SHORT_ID, c->hex,
                        mm_qstate_name(c->out.state));
    }
}

static void withdraw_build(cli_t *cli, rel_reply_t *c)
{
    snprintf(c->said, sizeof c->said, "withdrew question %s%.*s%s to %s",
             cli_c(cli, CLI_YELLOW), CLI_SHORT_ID, c->hex,
             cli_c(cli, CLI_RESET), c->name);
}

int cmd_withdraw(cli_t *cli, int argc, char **argv)
{
    static const rel_reply_spec_t spec = {
        MM_ACT_WITHDRAW, "withdraw", NULL,
        { "missing the question ID", "give one question ID" },
        withdraw_refused, withdraw_build,
    };

    return rel_reply(cli, argc, argv, &spec, NULL, NULL);
}

static int thank_refused(cli_t *cli, rel_reply_t *c)
{
    switch (c->out.state) {
    case MM_QS_THANKED:
        return cli_fail(cli, "question %.*s is already thanked; tell %s what "
                        "came of it with 'mm report %.*s TEXT'", CLI_SHORT_ID,
                        c->hex, c->name, CLI_SHORT_ID, c->hex);
    case MM_QS_WAITING: case MM_QS_HELD: case MM_QS_OPEN:
        return cli_fail(cli, "question %.*s is %s: %s has not answered it "
                        "yet; thank after the answer", CLI_SHORT_ID, c->hex,
                        mm_qstate_name(c->out.state), c->name);
    default:
        return cli_fail(cli, "question %.*s is %s; there is no answer to "
                        "thank for", CLI_SHORT_ID, c->hex,
                        mm_qstate_name(c->out.state));
    }
}

static void thank_build(cli_t *cli, rel_reply_t *c)
{
    const char *offer = cli->opt[CLI_OPT_OFFER];

    snprintf(c->said, sizeof c->said, "thanked %s for the answer to "
             "%s%.*s%s%s", c->name, cli_c(cli, CLI_YELLOW), CLI_SHORT_ID,
             c->hex, cli_c(cli, CLI_RESET), offer ? ", with an offer" : "");
}

int cmd_thank(cli_t *cli, int argc, char **argv)
{
    static const rel_reply_spec_t spec = {
        MM_ACT_THANK, "thank for", "thanks",
        { "give the question ID and the TEXT of your thanks",
          "missing the TEXT of your thanks" },
        thank_refused, thank_build,
    };
    const char *offer = cli->opt[CLI_OPT_OFFER];
    int ex;

    /* After the usage check, before the question is looked for. */
    if (argc >= 1 && offer &&
        (ex = cli_text_check(cli, "offer", offer, strlen(offer)))
        != CLI_EXIT_OK)
        return ex;
    return rel_reply(cli, argc, argv, &spec, NULL, NULL);
}

static int report_refused(cli_t *cli, rel_reply_t *c)
{
    /* Core wants an answer to act on, or a question asked back. */
    return cli_fail(cli, "question %.*s is %s; report back once %s has "
                    "answered", CLI_SHORT_ID, c->hex,
                    mm_qstate_name(c->out.state), c->name);
}

static void report_build(cli_t *cli, rel_reply_t *c)
{
    snprintf(c->said, sizeof c->said, "reported back to %s on %s%.*s%s",
             c->name, cli_c(cli, CLI_YELLOW), CLI_SHORT_ID, c->hex,
             cli_c(cli, CLI_RESET));
}

int cmd_report(cli_t *cli, int argc, char **argv)
{
    static const rel_reply_spec_t spec = {
        MM_ACT_REPORT, "report on", "report",
        { "give the question ID and the TEXT of your report",
          "missing the TEXT of your report" },
        report_refused, report_build,
    };

    return rel_reply(cli, argc, argv, &spec, NULL, NULL);
}
