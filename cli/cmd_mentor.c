/*  cmd_mentor.c -- the mentor's side of an engagement: mm inbox, brief,
 *  answer, decline and ask-back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cmd_peer.h"
#include "cli/json.h"
#include "cli/rel.h"
#include "cli/util.h"
#include "core/engage.h"
#include "crypto/error.h"
#include "crypto/encoding.h"

const char cmd_inbox_help[] =
    "the questions your mentees are waiting on you to answer\n"
    "\n"
    "DESCRIPTION\n"
    "    First sorts your mentees' new questions into your budget (see 'mm\n"
    "    capacity'): first come, first served across all of them, as many\n"
    "    released to the inbox as the budget allows, the rest held; each\n"
    "    asker learns where their question stands on the next sync.  Then\n"
    "    lists the open questions, oldest first, each with the ambition it\n"
    "    serves and the asker's ambitions on file (what they last shared).\n"
    "\n"
    "OUTPUT\n"
    "    1a2b3c4d5e6f  ada  2 days ago\n"
    "      What would you weigh first when my team wants a rewrite?\n"
    "      serves: ship the parser rewrite before March\n"
    "      on file: near: ship the parser rewrite before March; long: ...\n"
    "\n"
    "    1 held beyond your budget\n"
    "\n"
    "    With nothing open: 'inbox empty'.\n"
    "\n"
    "    --json prints {\"inbox\": [{\"id\", \"from\", \"time\", \"time_ms\",\n"
    "    \"text\", \"ambition\", \"ambitions\": {\"near\": [...], \"long\":\n"
    "    [...]}}], \"held\": N}; ambition is null when the question serves\n"
    "    none.\n"
    "\n"
    "EXAMPLES\n"
    "    mm sync && mm inbox\n"
    "    mm answer 1a2b 'Start from the failing cases your users report.'\n"
    "\n"
    "EXIT STATUS\n"
    "    0  shown (also an empty inbox)\n"
    "    1  no home, a store error\n"
    "    2  the command line is wrong\n";

const char cmd_brief_help[] =
    "one peer's ambitions and your whole history on one screen\n"
    "\n"
    "DESCRIPTION\n"
    "    Before answering, read the brief: the ambitions PEER last shared\n"
    "    with you, and every question between you with its state, answers,\n"
    "    thanks and offers, reports and questions asked back.  Private\n"
    "    notes are never shown here.\n"
    "\n"
    "OUTPUT\n"
    "    ada: you mentor them\n"
    "    ambitions on file, shared 3 days ago:\n"
    "      near  ship the parser rewrite before March\n"
    "\n"
    "    1a2b3c4d5e6f  ada  2 days ago  answered\n"
    "      What would you weigh first when my team wants a rewrite?\n"
    "      answer (you, 1 day ago): Start from the failing cases...\n"
    "\n"
    "    --json prints {\"peer\", \"role\", \"ambitions\": {\"near\": [...], \"long\":\n"
    "    [...]}, \"questions\": [...]}, each question {\"id\", \"peer\", \"asker\"\n"
    "    (\"me\" or \"them\"), \"time\", \"time_ms\", \"text\", \"ambition\", \"state\",\n"
    "    \"ahead\" and \"reason\" (held only), \"answers\", \"thanks\", \"reports\", \"ask_back\",\n"
    "    \"decline\", \"withdrawn\"}.\n"
    "\n"
    "EXAMPLES\n"
    "    mm brief ada\n"
    "\n"
    "EXIT STATUS\n"
    "    0  shown\n"
    "    1  no such peer, a store error\n"
    "    2  the command line is wrong\n";

const char cmd_answer_help[] =
    "answer one of your mentees' questions\n"
    "\n"
    "DESCRIPTION\n"
    "    Writes your answer to the open question QID (its id or a prefix of\n"
    "    at least 4 hex digits, as 'mm inbox' shows).  One answer per\n"
    "    engagement, and once a clarification: a second answer is allowed,\n"
    "    a third is not.  A question held beyond your budget cannot be\n"
    "    answered until it is released.  TEXT is one argument or several\n"
    "    words; '-' reads it from stdin.  At most 4000 bytes.  Left out on\n"
    "    a terminal, your editor opens ('mm help config'); an empty text\n"
    "    aborts.\n"
    "\n"
    "OUTPUT\n"
    "    answered ada: 1a2b3c4d5e6f\n"
    "    (delivered on the next 'mm sync ada')\n"
    "\n"
    "    --json prints {\"id\", \"ref\", \"peer\", \"type\", \"time\", \"time_ms\"}:\n"
    "    id is the new entry's, ref the question's.\n"
    "\n"
    "EXAMPLES\n"
    "    mm answer 1a2b 'Start from the failing cases your users report.'\n"
    "    mm answer 1a2b - < answer.txt\n"
    "\n"
    "EXIT STATUS\n"
    "    0  written\n"
    "    1  held, withdrawn, declined or thanked; answered twice already;\n"
    "       your own question; no such question; a store error\n"
    "    2  the command line is wrong\n";

const char cmd_decline_help[] =
    "say a graceful no to a question, perhaps pointing to someone else\n"
    "\n"
    "DESCRIPTION\n"
    "    Declines the question QID instead of answering it, with a line of\n"
    "    explanation.  A declined question frees its asker to ask you again.\n"
    "    TEXT left out on a terminal: your editor opens ('mm help config').\n"
    "\n"
    "OPTIONS\n"
    "    --refer PEER\n"
    "        Point the asker to one of your peers who may know better; their\n"
    "        identity and name go with the decline.\n"
    "\n"
    "OUTPUT\n"
    "    declined ada's question 1a2b3c4d5e6f, referring them to grace\n"
    "    (delivered on the next 'mm sync ada')\n"
    "\n"
    "    --json prints {\"id\", \"ref\", \"peer\", \"type\", \"time\", \"time_ms\"}.\n"
    "\n"
    "EXAMPLES\n"
    "    mm decline 1a2b 'Not my field, sorry.' --refer grace\n"
    "\n"
    "EXIT STATUS\n"
    "    0  written\n"
    "    1  answered, withdrawn or declined already; your own question; no\n"
    "       such question or peer; a store error\n"
    "    2  the command line is wrong\n";

const char cmd_askback_help[] =
    "ask a power question back to the mentee who asked you\n"
    "\n"
    "DESCRIPTION\n"
    "    Mentoring goes both ways: on a question you have released (open,\n"
    "    answered or thanked) you may ask one question back.  The mentee\n"
    "    sees it in 'mm status' and replies with 'mm report'.  One per\n"
    "    engagement.  TEXT left out on a terminal: your editor opens ('mm\n"
    "    help config').\n"
    "\n"
    "OUTPUT\n"
    "    asked ada back on 1a2b3c4d5e6f\n"
    "    (delivered on the next 'mm sync ada')\n"
    "\n"
    "    --json prints {\"id\", \"ref\", \"peer\", \"type\", \"time\", \"time_ms\"}.\n"
    "\n"
    "EXAMPLES\n"
    "    mm ask-back 1a2b 'What did your team decide to leave out in the end?'\n"
    "\n"
    "EXIT STATUS\n"
    "    0  written\n"
    "    1  asked back already; waiting, held, withdrawn or declined; your\n"
    "       own question; no such question; a store error\n"
    "    2  the command line is wrong\n";

/* --- shared ---------------------------------------------------------------- */

/* "near: A / B; long: C" of a snapshot (or "nothing shared yet"), wrapped. */
static void print_on_file(const char *indent, const mm_item_t *it)
{
    static const char *const kinds[] = { "near", "long" };
    char buf[2 * MM_TEXT_MAX + 64], hang[32];
    const char *sep = "";
    size_t n, i, k, o;
    const char *s;
    int any = 0;

    o = (size_t) snprintf(buf, sizeof buf, "on file: ");
    for (size_t x = 0; it && x < 2; x++) {
        s = rel_field(it, kinds[x], &n);
        int first = 1;
        for (i = 0; i < n; i = k + 1) {
            for (k = i; k < n && s[k] != '\n'; k++)
                ;
            if (k == i)
                continue;
            char *line = cli_line(s + i, k - i, MM_TEXT_MAX);
            if (o < sizeof buf)
                o += (size_t) snprintf(buf + o, sizeof buf - o, "%s%s%s%s",
                                       first ? sep : " / ", first ? kinds[x] : "",
                                       first ? ": " : "", line ? line : "?");
            free(line);
            first = 0;
            any = 1;
            sep = "; ";
        }
    }
    if (!any)
        snprintf(buf, sizeof buf, "on file: nothing shared yet");
    snprintf(hang, sizeof hang, "%s    ", indent);
    cli_print_wrapped(indent, hang, buf, strnlen(buf, sizeof buf));
}

/* "  label: first line" and the other lines of s indented below it, each
 * wrapped to the terminal. */
static void print_labelled(const char *indent, const char *label,
                           const char *s, size_t n)
{
    const char *nl = memchr(s, '\n', n);
    char *line = cli_line(s, n, MM_TEXT_MAX);
    char deeper[32], first[MM_TEXT_MAX * 4 + 64];
    int len;

    snprintf(deeper, sizeof deeper, "%s    ", indent);
    len = snprintf(first, sizeof first, "%s: %s", label, line ? line : "?");
    free(line);
    cli_print_wrapped(indent, deeper, first,
                      len < 0 ? 0 : (size_t) len < sizeof first ? (size_t) len : sizeof first - 1);
    if (nl)
        cli_print_wrapped(deeper, deeper, nl + 1, n - (size_t) (nl + 1 - s));
}

/* The question's text and ambition, indented. */
static void print_question_body(const mm_question_t *q)
{
    const char *s;
    size_t n;

    s = rel_field(q->q, "text", &n);
    cli_print_wrapped("  ", "  ", s, n);
    s = rel_field(q->q, "ambition", &n);
    if (n)
        print_labelled("  ", "serves", s, n);
}

/* --- inbox --------------------------------------------------------------- */

/* One open question of the inbox. */
typedef struct {
    const rel_t         *r;     /* the asker's relationship */
    const mm_question_t *q;
    const mm_item_t     *file;  /* the asker's ambitions on file, or NULL */
} inbox_item_t;

/* What mm inbox shows, gathered before a word of it is printed. */
typedef struct {
    rels_t        all;          /* what the items point into */
    inbox_item_t *v;            /* the open questions, oldest first */
    size_t        n, cap;
    uint64_t      held;         /* questions held beyond my budget */
    uint64_t      away_until;   /* when I am back, or 0 if I am not away */
    uint64_t      now;
} inbox_view_t;

static int by_time(const void *a, const void *b)
{
    const mm_item_t *x = ((const inbox_item_t *) a)->q->q;
    const mm_item_t *y = ((const inbox_item_t *) b)->q->q;

    if (x->time != y->time)
        return x->time < y->time ? -1 : 1;
    return memcmp(x->id, y->id, 32);
}

/* Settle the budget, then gather the questions my mentees wait on me to
 * answer.  Exit code; prints errors.  Free v with inbox_free, also on
 * failure. */
static int inbox_build(cli_t *cli, inbox_view_t *v)
{
    mm_capacity_t budget;
    int ex, rc;

    memset(v, 0, sizeof *v);
    v->now = mm_now_ms();
    if ((ex = rel_settle(cli)) != CLI_EXIT_OK ||
        (ex = rel_all(cli, &v->all)) != CLI_EXIT_OK)
        return ex;
    if ((rc = mm_budget_get(cli->home, &budget)) != MM_OK)
        return cli_fail_rc(cli, rc, "cannot read your budget");
    v->away_until = budget.away_until > v->now ? budget.away_until : 0;
    for (size_t i = 0; i < v->all.n; i++) {
        const rel_t *r = &v->all.v[i];
        for (size_t k = 0; k < r->nq; k++) {
            const mm_question_t *q = &r->qs[k];
            if (rel_me(cli, q->q->author))
                continue;
            /* one-at-a-time holds wait on the asker, not on the budget */
            v->held += q->state == MM_QS_HELD && q->hold != MM_HOLD_ONE;
            if (q->state != MM_QS_OPEN)
                continue;
            if (v->n == v->cap) {
                size_t cap = v->cap ? 2 * v->cap : 16;
                inbox_item_t *nv = realloc(v->v, cap * sizeof *nv);
                if (!nv)
                    return cli_fail_rc(cli, MM_ENOMEM, "cannot list the inbox");
                v->v = nv;
                v->cap = cap;
            }
            v->v[v->n++] = (inbox_item_t) { r, q, rel_on_file(r, q->q->author) };
        }
    }
    if (v->n > 1)
        qsort(v->v, v->n, sizeof *v->v, by_time);
    return CLI_EXIT_OK;
}

static void inbox_free(inbox_view_t *v)
{
    free(v->v);
    rel_all_free(&v->all);
    memset(v, 0, sizeof *v);
}

static void inbox_json(const inbox_view_t *v)
{
    const char *s;
    size_t len;
    json_t j;

    json_init(&j, stdout);
    json_obj_begin(&j, NULL);
    json_arr_begin(&j, "inbox");
    for (size_t i = 0; i < v->n; i++) {
        const mm_item_t *it = v->v[i].q->q;
        json_obj_begin(&j, NULL);
        json_hex(&j, "id", it->id, 32);
        json_str(&j, "from", v->v[i].r->peer.petname);
        rel_json_time(&j, it->time);
        s = rel_field(it, "text", &len);
        json_strn(&j, "text", s, len);
        s = rel_field(it, "ambition", &len);
        if (len)
            json_strn(&j, "ambition", s, len);
        else
            json_null(&j, "ambition");
        rel_on_file_json(&j, "ambitions", v->v[i].file);
        json_obj_end(&j);
    }
    json_arr_end(&j);
    json_uint(&j, "held", v->held);
    json_obj_end(&j);
    json_finish(&j);
}

static void inbox_text(const cli_t *cli, const inbox_view_t *v)
{
    char hex[2 * 32 + 1], name[CLI_NAME_SAFE], when[CLI_TIME_MAX];

    if (v->away_until) {
        cli_time_date(when, v->away_until);
        printf("you are away until %s: nothing new is released; back with "
               "'mm away --off'\n\n", when);
    }
    if (v->n == 0)
        printf("inbox empty\n");
    for (size_t i = 0; i < v->n; i++) {
        const mm_item_t *it = v->v[i].q->q;
        mm_encoding_hex(hex, it->id, 32);
        cmd_peer_name(name, v->v[i].r->peer.petname);
        cli_time_rel(when, it->time, v->now);
        printf("%s%s%.*s%s  %s  %s\n", i ? "\n" : "", cli_c(cli, CLI_YELLOW),
               CLI_SHORT_ID, hex, cli_c(cli, CLI_RESET), name, when);
        print_question_body(v->v[i].q);
        print_on_file("  ", v->v[i].file);
    }
    if (v->held)
        printf("\n%llu held beyond your budget\n", (unsigned long long) v->held);
}

int cmd_inbox(cli_t *cli, int argc, char **argv)
{
    inbox_view_t v;
    int ex;

    if (argc > 0)
        return cli_usage(cli, "unexpected argument '%s'", argv[0]);
    if ((ex = inbox_build(cli, &v)) == CLI_EXIT_OK) {
        if (cli->json)
            inbox_json(&v);
        else
            inbox_text(cli, &v);
    }
    inbox_free(&v);
    return ex;
}

/* --- brief --------------------------------------------------------------- */

/* One entry that refers to a question, under the name the brief gives it. */
typedef struct {
    const mm_item_t *it;
    const char      *what;      /* "answer", "thanks", "ask-back", ... */
    int              mine;      /* I wrote it */
    int              offer;     /* it is the question's thanks: show the offer */
    int              refer;     /* it is the question's decline: show the referral */
} brief_entry_t;

/* One question of the brief and its history. */
typedef struct {
    const mm_question_t *q;
    int                  mine;  /* I asked it */
    size_t               first, n;  /* its history: h[first .. first + n) */
} brief_question_t;

/* What mm brief shows, gathered before a word of it is printed. */
typedef struct {
    rel_t             r;
    const mm_item_t  *file;     /* the ambitions they last shared, or NULL */
    brief_question_t *qs;       /* as r.qs */
    brief_entry_t    *h;        /* the histories, question after question */
    size_t            nh, cap;
    uint64_t          now;
} brief_view_t;

/* What the brief calls it, an entry of q's relationship, or NULL if it is
 * not part of q's history: what derivation counted, and every report of
 * the asker. */
static const char *brief_what(const mm_question_t *q, const mm_item_t *it)
{
    const uint8_t *ref;

    if (!mm_item_ref(it, "ref", &ref) || memcmp(ref, q->q->id, 32) != 0)
        return NULL;
    if (it == q->answers[0] || (q->nanswers > 1 && it == q->answers[1]))
        return "answer";
    if (it == q->thanks && q->state == MM_QS_THANKED)
        return "thanks";
    if (it == q->askback)
        return "ask-back";
    if (it == q->decline)
        return "decline";
    if (it == q->withdraw && q->state == MM_QS_WITHDRAWN)
        return "withdrawn";
    if (!strcmp(it->type, MM_T_REPORT) && !memcmp(it->author, q->q->author, 32))
        return "report";
    return NULL;
}

/* Load the relationship with the peer named what and each question's
 * history.  Exit code; prints errors.  Free v with brief_free, also on
 * failure. */
static int brief_build(cli_t *cli, const char *what, brief_view_t *v)
{
    int ex;

    memset(v, 0, sizeof *v);
    v->now = mm_now_ms();
    if ((ex = rel_get(cli, what, &v->r)) != CLI_EXIT_OK)
        return ex;
    v->file = rel_on_file(&v->r, v->r.peer.identity);
    if (v->r.nq > 0 && !(v->qs = calloc(v->r.nq, sizeof *v->qs)))
        return cli_fail_rc(cli, MM_ENOMEM, "cannot show the brief");
    for (size_t i = 0; i < v->r.nq; i++) {
        brief_question_t *bq = &v->qs[i];
        bq->q = &v->r.qs[i];
        bq->mine = rel_me(cli, bq->q->q->author);
        bq->first = v->nh;
        for (size_t k = 0; k < v->r.items.n; k++) {
            const mm_item_t *it = &v->r.items.v[k];
            const char *label = brief_what(bq->q, it);
            if (!label)
                continue;
            if (v->nh == v->cap) {
                size_t cap = v->cap ? 2 * v->cap : 16;
                brief_entry_t *nh = realloc(v->h, cap * sizeof *nh);
                if (!nh)
                    return cli_fail_rc(cli, MM_ENOMEM, "cannot show the brief");
                v->h = nh;
                v->cap = cap;
            }
            v->h[v->nh++] = (brief_entry_t) {
                it, label, rel_me(cli, it->author), it == bq->q->thanks,
                it == bq->q->decline,
            };
            bq->n++;
        }
    }
    return CLI_EXIT_OK;
}

static void brief_free(brief_view_t *v)
{
    free(v->h);
    free(v->qs);
    rel_free(&v->r);
    memset(v, 0, sizeof *v);
}

static void brief_json(const cli_t *cli, const brief_view_t *v)
{
    json_t j;

    json_init(&j, stdout);
    json_obj_begin(&j, NULL);
    json_str(&j, "peer", v->r.peer.petname);
    json_str(&j, "role", cmd_peer_role(v->r.peer.role));
    rel_on_file_json(&j, "ambitions", v->file);
    json_arr_begin(&j, "questions");
    for (size_t i = 0; i < v->r.nq; i++) {
        rel_question_json(cli, &j, NULL, &v->r, v->qs[i].q);
        json_obj_end(&j);
    }
    json_arr_end(&j);
    json_obj_end(&j);
    json_finish(&j);
}

/* The history of one question, as indented lines; name is the peer's. */
static void print_history(const brief_view_t *v, const brief_question_t *bq,
                          const char *name)
{
    char label[CLI_NAME_SAFE + CLI_TIME_MAX + 32], when[CLI_TIME_MAX];
    const char *s;
    size_t n;

    for (size_t i = bq->first; i < bq->first + bq->n; i++) {
        const brief_entry_t *e = &v->h[i];
        cli_time_rel(when, e->it->time, v->now);
        snprintf(label, sizeof label, "%s (%s, %s)", e->what,
                 e->mine ? "you" : name, when);
        s = rel_field(e->it, "text", &n);
        if (n)
            print_labelled("  ", label, s, n);
        else
            printf("  %s\n", label);
        s = rel_field(e->it, "offer", &n);
        if (n && e->offer)
            print_labelled("    ", "offers", s, n);
        s = rel_field(e->it, "refer_name", &n);
        if (n && e->refer)
            print_labelled("    ", "refers to", s, n);
    }
}

/* The ambitions on file, one per line under their kind. */
static void print_ambitions(const brief_view_t *v)
{
    static const char *const kinds[] = { "near", "long" };
    char when[CLI_TIME_MAX];
    const char *s;
    size_t n, i, k;

    if (!v->file) {
        printf("no ambitions on file yet\n");
        return;
    }
    cli_time_rel(when, v->file->time, v->now);
    printf("ambitions on file, shared %s:\n", when);
    for (size_t x = 0; x < 2; x++) {
        s = rel_field(v->file, kinds[x], &n);
        for (i = 0; i < n; i = k + 1) {
            for (k = i; k < n && s[k] != '\n'; k++)
                ;
            if (k == i)
                continue;
            char *line = cli_line(s + i, k - i, MM_TEXT_MAX);
            printf("  %s  %s\n", kinds[x], line ? line : "?");
            free(line);
        }
    }
}

static void brief_text(const cli_t *cli, const brief_view_t *v)
{
    char hex[2 * 32 + 1], name[CLI_NAME_SAFE], when[CLI_TIME_MAX];
    unsigned role = v->r.peer.role;

    cmd_peer_name(name, v->r.peer.petname);
    printf("%s: %s\n", name, role == MM_ROLE_MENTEE ? "you mentor them" :
           role == MM_ROLE_MENTOR ? "they mentor you" : "a peer");
    print_ambitions(v);
    if (v->r.nq == 0)
        printf("\nno questions yet\n");
    for (size_t i = 0; i < v->r.nq; i++) {
        const mm_question_t *q = v->qs[i].q;
        mm_encoding_hex(hex, q->q->id, 32);
        cli_time_rel(when, q->q->time, v->now);
        printf("\n%s%.*s%s  %s  %s  %s", cli_c(cli, CLI_YELLOW), CLI_SHORT_ID,
               hex, cli_c(cli, CLI_RESET), v->qs[i].mine ? "you" : name, when,
               mm_qstate_name(q->state));
        if (q->state == MM_QS_HELD)
            printf(" (%llu ahead)", (unsigned long long) q->ahead);
        putchar('\n');
        print_question_body(q);
        print_history(v, &v->qs[i], name);
    }
}

int cmd_brief(cli_t *cli, int argc, char **argv)
{
    brief_view_t v;
    int ex;

    if (argc != 1)
        return cli_usage(cli, argc ? "give one PEER" : "missing the PEER");
    if ((ex = brief_build(cli, argv[0], &v)) == CLI_EXIT_OK) {
        if (cli->json)
            brief_json(cli, &v);
        else
            brief_text(cli, &v);
    }
    brief_free(&v);
    return ex;
}

/* --- answer, decline, ask-back ------------------------------------------------ */

/* Why a question cannot get a reply yet: held or waiting.  Exit code. */
static int not_released(cli_t *cli, const rel_reply_t *c)
{
    if (c->out.state == MM_QS_HELD && c->out.hold == MM_HOLD_ONE)
        return cli_fail(cli, "question %.*s is held: %s has another question "
                        "open with you, one at a time; it reaches your inbox "
                        "once that one is closed", CLI_SHORT_ID, c->hex, c->name);
    if (c->out.state == MM_QS_HELD)
        return cli_fail(cli, "question %.*s is held beyond your budget (%llu "
                        "ahead of it); answer the open ones in 'mm inbox' "
                        "first, or raise it with 'mm capacity'", CLI_SHORT_ID,
                        c->hex, (unsigned long long) c->out.ahead);
    return cli_fail(cli, "question %.*s is waiting: it is not in your inbox "
                    "yet; run 'mm inbox'", CLI_SHORT_ID, c->hex);
}

static int answer_refused(cli_t *cli, rel_reply_t *c)
{
    switch (c->out.state) {
    case MM_QS_OPEN: case MM_QS_ANSWERED:
        return cli_fail(cli, "you answered question %.*s and clarified it "
                        "once already; there is no third answer",
                        CLI_SHORT_ID, c->hex);
    case MM_QS_HELD: case MM_QS_WAITING:
        return not_released(cli, c);
    default:
        return cli_fail(cli, "question %.*s is %s; it takes no more answers",
                        CLI_SHORT_ID, c->hex, mm_qstate_name(c->out.state));
    }
}

static void answer_build(cli_t *cli, rel_reply_t *c)
{
    snprintf(c->said, sizeof c->said, "%s %s: %s%.*s%s",
             c->out.nanswers ? "clarified your answer to" : "answered",
             c->name, cli_c(cli, CLI_YELLOW), CLI_SHORT_ID, c->hex,
             cli_c(cli, CLI_RESET));
}

int cmd_answer(cli_t *cli, int argc, char **argv)
{
    static const rel_reply_spec_t spec = {
        MM_ACT_ANSWER, "answer", "answer",
        { "give the question ID and the TEXT of your answer",
          "missing the TEXT of your answer" },
        answer_refused, answer_build,
    };

    return rel_reply(cli, argc, argv, &spec, NULL, NULL);
}

static int decline_refused(cli_t *cli, rel_reply_t *c)
{
    if (c->out.state == MM_QS_DECLINED)
        return cli_fail(cli, "question %.*s is already declined",
                        CLI_SHORT_ID, c->hex);
    return cli_fail(cli, "question %.*s is %s; only a question without "
                    "an answer can be declined", CLI_SHORT_ID, c->hex,
                    mm_qstate_name(c->out.state));
}

static void decline_build(cli_t *cli, rel_reply_t *c)
{
    const mm_peer_t *to = c->own;
    char other[CLI_NAME_SAFE];

    if (to)
        cmd_peer_name(other, to->petname);
    snprintf(c->said, sizeof c->said, "declined %s's question %s%.*s%s%s%s",
             c->name, cli_c(cli, CLI_YELLOW), CLI_SHORT_ID, c->hex,
             cli_c(cli, CLI_RESET), to ? ", referring them to " : "",
             to ? other : "");
}

int cmd_decline(cli_t *cli, int argc, char **argv)
{
    static const rel_reply_spec_t spec = {
        MM_ACT_DECLINE, "decline", "decline",
        { "give the question ID and a line of explanation",
          "missing the TEXT of your decline" },
        decline_refused, decline_build,
    };
    const char *refer = cli->opt[CLI_OPT_REFER];
    mm_peer_t to;
    int ex;

    /* After the usage check, before the question is looked for. */
    if (argc >= 1 && refer &&
        (ex = cmd_peer_get(cli, refer, &to)) != CLI_EXIT_OK)
        return ex;
    return rel_reply(cli, argc, argv, &spec, refer ? to.identity : NULL,
                     refer ? &to : NULL);
}

static int askback_refused(cli_t *cli, rel_reply_t *c)
{
    if (c->out.askback)
        return cli_fail(cli, "you already asked %s back on question %.*s; one "
                        "per engagement", c->name, CLI_SHORT_ID, c->hex);
    switch (c->out.state) {
    case MM_QS_HELD: case MM_QS_WAITING:
        return not_released(cli, c);
    default:
        return cli_fail(cli, "question %.*s is %s; there is no engagement to "
                        "ask back in", CLI_SHORT_ID, c->hex,
                        mm_qstate_name(c->out.state));
    }
}

static void askback_build(cli_t *cli, rel_reply_t *c)
{
    snprintf(c->said, sizeof c->said, "asked %s back on %s%.*s%s", c->name,
             cli_c(cli, CLI_YELLOW), CLI_SHORT_ID, c->hex,
             cli_c(cli, CLI_RESET));
}

int cmd_askback(cli_t *cli, int argc, char **argv)
{
    static const rel_reply_spec_t spec = {
        MM_ACT_ASKBACK, "ask back on", "question",
        { "give the question ID and the TEXT of your question",
          "missing the TEXT of your question" },
        askback_refused, askback_build,
    };

    return rel_reply(cli, argc, argv, &spec, NULL, NULL);
}
