/*  cmd_status.c -- mm status: what waits on whom across every
 *  relationship, and what is new since the person last looked. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cmd_ambition.h"
#include "cli/cmd_backup.h"
#include "cli/cmd_peer.h"
#include "cli/json.h"
#include "cli/news.h"
#include "cli/rel.h"
#include "cli/util.h"
#include "core/engage.h"
#include "core/log.h"
#include "core/looked.h"
#include "crypto/error.h"
#include "crypto/encoding.h"
#include "crypto/idcode.h"

const char cmd_status_help[] =
    "what waits on you and on others, on one screen\n"
    "\n"
    "DESCRIPTION\n"
    "    First what is new since you last looked: what your mentors and\n"
    "    mentees wrote that this device stored since your last 'mm status'\n"
    "    (answers, questions asked back, declines and whom they suggest,\n"
    "    releases and holds, absences; new questions, thanks, reports and\n"
    "    withdrawals).  Showing it moves the mark: the next 'mm status'\n"
    "    shows only what arrives after this one read the store.  The mark\n"
    "    is this device's alone (HOME/looked); the first 'mm status' of a\n"
    "    home shows nothing new and sets it.  --json shows the same list\n"
    "    and leaves the mark where it is (a script looking is not you).\n"
    "\n"
    "    Then, across every relationship: mentors who are away, and you if\n"
    "    you are ('mm away'); questions waiting on you (your inbox, if you\n"
    "    mentor, and questions your mentors asked you back); your\n"
    "    questions waiting on others; those held by a mentor's budget or\n"
    "    absence (how many are ahead of you, or 'you are next'); answers\n"
    "    you have not thanked, with the answer; reports due (thanked,\n"
    "    nothing reported yet); questions declined in the last 30 days,\n"
    "    with whom the mentor suggests and what to do next; and ambitions\n"
    "    no question has served for 90 days.  As a mentor, your mentees'\n"
    "    new questions are first sorted into your budget, as 'mm inbox'\n"
    "    does.\n"
    "\n"
    "OUTPUT\n"
    "    new since you last looked\n"
    "      grace answered 1a2b3c4d5e6f\n"
    "    away\n"
    "      lin is away until 2026-12-10; questions to them wait until then\n"
    "    held\n"
    "      5e6f7a8b9c0d  lin  held  1 day ago  How did you...\n"
    "        held: lin is away until 2026-12-10; you are next\n"
    "    answers to thank\n"
    "      1a2b3c4d5e6f  grace  answered  1 hour ago  What would you weigh...\n"
    "        answer: Start from the failing cases your users report.\n"
    "        thank with 'mm thank 1a2b3c4d5e6f TEXT'\n"
    "    declined (last 30 days)\n"
    "      9a8b7c6d5e4f  lin  declined  2 days ago  How do I...\n"
    "        lin: Not my field, sorry.\n"
    "        lin suggests grace (mmi...), your mentor: ask with 'mm ask grace TEXT'\n"
    "\n"
    "    Long lines are cut at a word boundary to the terminal's width\n"
    "    ($COLUMNS, else the terminal's own; 60 characters of text when\n"
    "    neither is known), and texts shown in full wrap at word boundaries.\n"
    "\n"
    "    --json prints {\"new\", \"new_more\", \"away\", \"me_away_until\",\n"
    "    \"waiting_on_me\", \"waiting_on_others\", \"held\", \"unthanked\",\n"
    "    \"reports_due\", \"declined\", \"quiet_ambitions\"}, each a list but\n"
    "    new_more (the events beyond the first 100) and me_away_until (when\n"
    "    you are back, or null).  new items are as in 'mm sync --json'\n"
    "    news ({\"kind\", \"peer\", \"question\", \"time\", \"time_ms\", ...});\n"
    "    away items {\"peer\", \"until\"}.  Questions are objects as in 'mm\n"
    "    brief --json' (held ones with \"ahead\" and \"away_until\");\n"
    "    waiting_on_me items have \"kind\" \"question\" or \"ask-back\"\n"
    "    ({\"id\", \"ref\", \"peer\", \"time\", \"time_ms\", \"text\"}); quiet\n"
    "    ambitions are as in 'mm ambition list --json'.  \"device\" is\n"
    "    {\"forked\"}, with \"code\" (MM_EFORKED), \"valid_through_seq\" and\n"
    "    \"text\" when this device's key was also used on another home (a\n"
    "    copied home): such a home writes nothing more.\n"
    "\n"
    "EXAMPLES\n"
    "    mm sync && mm status\n"
    "\n"
    "EXIT STATUS\n"
    "    0  shown\n"
    "    1  no home, a store error\n"
    "    2  the command line is wrong\n";

#define LINE_CHARS 60                       /* of a text in status lists */
#define QUIET_MS   (90ull * 24 * 3600 * 1000) /* an ambition is quiet after */
#define DECLINE_MS (30ull * 24 * 3600 * 1000) /* a decline is shown for */

/* --- entries for people ------------------------------------------------------ */

/* The latest "away" the other member of r wrote: its until, or 0. */
static uint64_t their_away(const cli_t *cli, const rel_t *r)
{
    uint64_t until = 0;

    for (size_t i = 0; i < r->items.n; i++) {
        const mm_item_t *it = &r->items.v[i];
        if (strcmp(it->type, MM_T_AWAY) == 0 && !rel_me(cli, it->author)) {
            if (mm_body_uint(it->pt, it->ptlen, "until", &until) != MM_OK)
                until = 0;
        }
    }
    return until;
}

/* --- status -------------------------------------------------------------- */

/* The columns left for a text after a prefix of used columns: the rest of
 * the terminal's width (at least 20), or LINE_CHARS when it is not known. */
static size_t text_cols(size_t used)
{
    size_t cols = cli_term_cols();

    if (cols == 0)
        return LINE_CHARS;
    return cols > used + 20 ? cols - used : 20;
}

/* A question of r as one line of a status list, and what to do. */
static void status_line(cli_t *cli, const rel_t *r, const mm_question_t *q,
                        const mm_item_t *at, const char *state, uint64_t now)
{
    char hex[2 * 32 + 1], name[CLI_NAME_SAFE], when[CLI_TIME_MAX];
    const char *s;
    char *line;
    size_t n;

    mm_encoding_hex(hex, q->q->id, 32);
    cmd_peer_name(name, r->peer.petname);
    cli_time_rel(when, at->time, now);
    s = rel_field(q->q, "text", &n);
    line = cli_fit(s, n, text_cols(2 + CLI_SHORT_ID + 2 + cli_cols(name, strlen(name)) + 2 +
                                   strlen(state) + 2 + strlen(when) + 2));
    printf("  %s%.*s%s  %s  %s  %s  %s\n", cli_c(cli, CLI_YELLOW), CLI_SHORT_ID,
           hex, cli_c(cli, CLI_RESET), name, state, when, line ? line : "?");
    free(line);
}

/* An ask-back on one of my questions still waits on me until I report
 * after it. */
static int askback_pending(const rel_t *r, const mm_question_t *q)
{
    const uint8_t *ref;

    if (!q->askback || q->state == MM_QS_WITHDRAWN || q->state == MM_QS_DECLINED)
        return 0;
    for (size_t i = 0; i < r->items.n; i++) {
        const mm_item_t *it = &r->items.v[i];
        if (it > q->askback && !strcmp(it->type, MM_T_REPORT) &&
            !memcmp(it->author, q->q->author, 32) &&
            mm_item_ref(it, "ref", &ref) && !memcmp(ref, q->q->id, 32))
            return 0;
    }
    return 1;
}

/* The time of the latest question of mine that serves ambition text s. */
static uint64_t last_served(cli_t *cli, const rels_t *all, const char *s,
                            size_t n)
{
    uint64_t last = 0;
    const char *a;
    size_t an;

    for (size_t i = 0; i < all->n; i++)
        for (size_t k = 0; k < all->v[i].nq; k++) {
            const mm_item_t *q = all->v[i].qs[k].q;
            if (!rel_me(cli, q->author))
                continue;
            a = rel_field(q, "ambition", &an);
            if (an == n && memcmp(a, s, n) == 0 && q->time > last)
                last = q->time;
        }
    return last;
}

/* 1 if ambition a went QUIET_MS without a question of mine on it; *last is
 * when the last one was asked (0: never). */
static int quiet(cli_t *cli, const rels_t *all, const mm_ambition_t *a,
                 uint64_t now, uint64_t *last)
{
    size_t n;
    const char *s = rel_field(a->it, "text", &n);
    uint64_t since;

    *last = last_served(cli, all, s, n);
    since = *last > a->it->time ? *last : a->it->time;
    return !(a->closed || now - since <= QUIET_MS || since > now);
}

typedef enum { L_INBOX, L_ASKBACK, L_WAITING, L_HELD, L_UNTHANKED, L_REPORTS,
               L_DECLINED, L_N } list_t;

/* Which list q belongs to (L_N: none); ask-backs are counted apart.  A
 * decline of mine is shown for DECLINE_MS after it was written. */
static list_t which(cli_t *cli, const mm_question_t *q, uint64_t now)
{
    if (!rel_me(cli, q->q->author))
        return q->state == MM_QS_OPEN ? L_INBOX : L_N;
    switch (q->state) {
    case MM_QS_WAITING: case MM_QS_OPEN: return L_WAITING;
    case MM_QS_HELD:                     return L_HELD;
    case MM_QS_ANSWERED:                 return L_UNTHANKED;
    case MM_QS_THANKED:                  return q->nreports ? L_N : L_REPORTS;
    case MM_QS_DECLINED:
        return q->decline && (q->decline->time > now || now - q->decline->time < DECLINE_MS)
            ? L_DECLINED : L_N;
    default:                             return L_N;
    }
}

/* The peer a decline refers me to, if they are my peer: 1 and *p. */
static int referred_peer(cli_t *cli, const mm_item_t *decline, mm_peer_t *p)
{
    mm_txn_t *txn = NULL;
    const uint8_t *id;
    uint32_t n;
    int found = 0;

    if (mm_body_bin(decline->pt, decline->ptlen, "refer", &id, &n) != MM_OK || n != 32)
        return 0;
    if (mm_store_begin(mm_home_store(cli->home), 0, &txn) == MM_OK)
        found = mm_peer_get(txn, id, p) == MM_OK;
    mm_txn_abort(&txn);
    return found;
}

/* What status shows beyond the questions: the news since the mark. */
typedef struct {
    mm_news_list_t news;
    mm_looked_t    now;
    int            have;        /* news read (a failure costs only them) */
    uint64_t       my_away;     /* I am away until (mm away), or 0 */
} status_new_t;

static void status_json(cli_t *cli, const rels_t *all,
                        const cmd_ambitions_t *amb, const status_new_t *nw, uint64_t now)
{
    static const char *const keys[] = { "waiting_on_others", "held",
                                        "unthanked", "reports_due", "declined" };
    static const list_t lists[] = { L_WAITING, L_HELD, L_UNTHANKED, L_REPORTS,
                                    L_DECLINED };
    char when[CLI_TIME_MAX];
    json_t j;

    uint64_t fseq;
    int forked = cli_forked(cli, &fseq);

    json_init(&j, stdout);
    json_obj_begin(&j, NULL);
    if (cmd_backup_status_json(cli, &j) != MM_OK)
        json_null(&j, "restored");
    json_obj_begin(&j, "device");
    json_bool(&j, "forked", forked);
    if (forked) {
        char line[512];
        cli_forked_text(line, sizeof line, fseq);
        json_str(&j, "code", mm_errname(MM_EFORKED));
        json_uint(&j, "valid_through_seq", fseq ? fseq - 1 : 0);
        json_str(&j, "text", line);
    }
    json_obj_end(&j);
    json_arr_begin(&j, "new");
    for (size_t i = 0; nw->have && i < nw->news.n; i++)
        cli_news_json(cli, &j, &nw->news.v[i]);
    json_arr_end(&j);
    json_uint(&j, "new_more", nw->have ? nw->news.more : 0);
    json_arr_begin(&j, "away");
    for (size_t i = 0; i < all->n; i++) {
        uint64_t away = their_away(cli, &all->v[i]);
        if (all->v[i].peer.role != MM_ROLE_MENTOR || away <= now)
            continue;
        json_obj_begin(&j, NULL);
        json_str(&j, "peer", all->v[i].peer.petname);
        cli_time_iso(when, away);
        json_str(&j, "until", when);
        json_obj_end(&j);
    }
    json_arr_end(&j);
    cli_time_iso(when, nw->my_away);
    json_str(&j, "me_away_until", nw->my_away ? when : NULL);
    json_arr_begin(&j, "waiting_on_me");
    for (size_t i = 0; i < all->n; i++)
        for (size_t k = 0; k < all->v[i].nq; k++) {
            const rel_t *r = &all->v[i];
            const mm_question_t *q = &r->qs[k];
            if (which(cli, q, now) == L_INBOX) {
                rel_question_json(cli, &j, NULL, r, q);
                json_str(&j, "kind", "question");
                json_obj_end(&j);
            } else if (rel_me(cli, q->q->author) && askback_pending(r, q)) {
                const char *s;
                size_t n;
                json_obj_begin(&j, NULL);
                json_str(&j, "kind", "ask-back");
                json_hex(&j, "id", q->askback->id, 32);
                json_hex(&j, "ref", q->q->id, 32);
                json_str(&j, "peer", r->peer.petname);
                rel_json_time(&j, q->askback->time);
                s = rel_field(q->askback, "text", &n);
                json_strn(&j, "text", s, n);
                json_obj_end(&j);
            }
        }
    json_arr_end(&j);
    for (size_t l = 0; l < sizeof keys / sizeof keys[0]; l++) {
        json_arr_begin(&j, keys[l]);
        for (size_t i = 0; i < all->n; i++)
            for (size_t k = 0; k < all->v[i].nq; k++) {
                const rel_t *r = &all->v[i];
                if (which(cli, &r->qs[k], now) != lists[l])
                    continue;
                rel_question_json(cli, &j, NULL, r, &r->qs[k]);
                if (lists[l] == L_HELD) {
                    uint64_t away = their_away(cli, r);
                    cli_time_iso(when, away);
                    json_str(&j, "away_until", away > now ? when : NULL);
                }
                json_obj_end(&j);
            }
        json_arr_end(&j);
    }
    json_arr_begin(&j, "quiet_ambitions");
    for (size_t i = 0; i < amb->n; i++) {
        const mm_ambition_t *a = &amb->v[i];
        uint64_t last;
        if (!quiet(cli, all, a, now, &last))
            continue;
        cmd_ambition_json(&j, NULL, a);
        cli_time_iso(when, last);
        json_str(&j, "last_question", last ? when : NULL);
        json_obj_end(&j);
    }
    json_arr_end(&j);
    json_obj_end(&j);
    json_finish(&j);
}

/* A heading, printed before the first line of its section. */
static void heading(const char **pending)
{
    if (*pending) {
        printf("%s\n", *pending);
        *pending = NULL;
    }
}

/* Under a declined question: what the mentor said and where to go next. */
static void print_declined(cli_t *cli, const rel_t *r, const mm_question_t *q)
{
    char name[CLI_NAME_SAFE], arg[CLI_NAME_SAFE], other[CLI_NAME_SAFE];
    char code[MM_IDCODE_LEN + 1], next[4 * CLI_NAME_SAFE + MM_IDCODE_LEN + 128];
    const uint8_t *id;
    const char *s;
    uint32_t idn;
    size_t n;
    mm_peer_t p;

    cmd_peer_name(name, r->peer.petname);
    s = rel_field(q->decline, "text", &n);
    if (n) {
        char *line = cli_fit(s, n, text_cols(4 + cli_cols(name, strlen(name)) + 2));
        printf("    %s: %s\n", name, line ? line : "?");
        free(line);
    }
    if (mm_body_bin(q->decline->pt, q->decline->ptlen, "refer", &id, &idn) != MM_OK ||
        idn != 32) {
        cmd_peer_arg(arg, &r->peer);
        snprintf(next, sizeof next, "ask someone else, or ask %s again with 'mm ask %s TEXT'",
                 name, arg);
        cli_print_wrapped("    ", "      ", next, strlen(next));
        return;
    }
    mm_idcode_encode(code, MM_IDCODE_IDENTITY, id);
    s = rel_field(q->decline, "refer_name", &n);
    {
        char *nm = cli_line(s, n, MM_PETNAME_MAX);
        cmd_peer_name(other, nm && *nm ? nm : "someone");
        free(nm);
    }
    if (!referred_peer(cli, q->decline, &p)) {
        snprintf(next, sizeof next, "%s suggests %s (%s), not your peer yet: ask them for an "
                 "invite, then 'mm accept CODE'", name, other, code);
    } else {
        cmd_peer_arg(arg, &p);
        if (p.role == MM_ROLE_MENTOR)
            snprintf(next, sizeof next, "%s suggests %s (%s), your mentor: ask with 'mm ask "
                     "%s TEXT'", name, arg, code, arg);
        else
            snprintf(next, sizeof next, "%s suggests %s (%s), your peer", name, arg, code);
    }
    cli_print_wrapped("    ", "      ", next, strlen(next));
}

static void status_text(cli_t *cli, const rels_t *all,
                        const cmd_ambitions_t *amb, const status_new_t *nw, uint64_t now)
{
    static const char *const titles[] = {
        [L_WAITING] = "waiting on others", [L_HELD] = "held",
        [L_UNTHANKED] = "answers to thank", [L_REPORTS] = "reports due",
        [L_DECLINED] = "declined (last 30 days)",
    };
    char hex[2 * 32 + 1], name[CLI_NAME_SAFE], when[CLI_TIME_MAX];
    size_t inbox = 0, held = 0, shown = 0;
    const char *pending = "waiting on you";
    uint64_t fseq;

    if (cli_forked(cli, &fseq)) {
        char line[512];
        cli_forked_text(line, sizeof line, fseq);
        printf("this device\n  forked: %s\n", line);
        shown++;
    }
    if (nw->have && (nw->news.n || nw->news.more)) {
        printf("new since you last looked\n");
        for (size_t i = 0; i < nw->news.n; i++)
            cli_news_line(cli, "  ", &nw->news.v[i]);
        if (nw->news.more)
            printf("  and %zu more\n", nw->news.more);
        shown++;
    }
    pending = "away";
    if (nw->my_away) {
        heading(&pending);
        cli_time_date(when, nw->my_away);
        printf("  you are away until %s: nothing new reaches your inbox; back with 'mm "
               "away --off'\n", when);
        shown++;
    }
    for (size_t i = 0; i < all->n; i++) {
        uint64_t away = their_away(cli, &all->v[i]);
        if (all->v[i].peer.role != MM_ROLE_MENTOR || away <= now)
            continue;
        heading(&pending);
        cmd_peer_name(name, all->v[i].peer.petname);
        cli_time_date(when, away);
        printf("  %s is away until %s; questions to them wait until then\n", name, when);
        shown++;
    }
    pending = "waiting on you";

    for (size_t i = 0; i < all->n; i++)
        for (size_t k = 0; k < all->v[i].nq; k++) {
            const mm_question_t *q = &all->v[i].qs[k];
            inbox += which(cli, q, now) == L_INBOX;
            held += !rel_me(cli, q->q->author) && q->state == MM_QS_HELD;
        }
    if (inbox || held) {
        heading(&pending);
        printf("  %zu question%s in your inbox", inbox, inbox == 1 ? "" : "s");
        if (held)
            printf(", %zu held beyond your budget", held);
        printf("; see 'mm inbox'\n");
        shown++;
    }
    for (size_t i = 0; i < all->n; i++)
        for (size_t k = 0; k < all->v[i].nq; k++) {
            const rel_t *r = &all->v[i];
            const mm_question_t *q = &r->qs[k];
            const char *s;
            size_t n;
            if (!rel_me(cli, q->q->author) || !askback_pending(r, q))
                continue;
            heading(&pending);
            mm_encoding_hex(hex, q->q->id, 32);
            cmd_peer_name(name, r->peer.petname);
            cli_time_rel(when, q->askback->time, now);
            printf("  %s%.*s%s  %s asked you back, %s:\n", cli_c(cli, CLI_YELLOW),
                   CLI_SHORT_ID, hex, cli_c(cli, CLI_RESET), name, when);
            s = rel_field(q->askback, "text", &n);
            cli_print_wrapped("    ", "    ", s, n);
            printf("    reply with 'mm report %.*s TEXT'\n", CLI_SHORT_ID, hex);
            shown++;
        }
    for (list_t l = L_WAITING; l <= L_DECLINED; l++) {
        pending = titles[l];
        for (size_t i = 0; i < all->n; i++)
            for (size_t k = 0; k < all->v[i].nq; k++) {
                const rel_t *r = &all->v[i];
                const mm_question_t *q = &r->qs[k];
                const mm_item_t *at = q->q;
                if (which(cli, q, now) != l)
                    continue;
                heading(&pending);
                if (l == L_UNTHANKED)
                    at = q->answers[q->nanswers - 1];
                else if (l == L_REPORTS)
                    at = q->thanks;
                else if (l == L_DECLINED)
                    at = q->decline;
                status_line(cli, r, q, at, mm_qstate_name(q->state), now);
                mm_encoding_hex(hex, q->q->id, 32);
                cmd_peer_name(name, r->peer.petname);
                if (l == L_HELD) {
                    uint64_t away = their_away(cli, r);
                    if (q->hold == MM_HOLD_ONE) {
                        printf("    held: one question at a time; it reaches %s once "
                               "your open one is closed\n", name);
                    } else {
                        char ahead[64];
                        if (q->ahead)
                            snprintf(ahead, sizeof ahead, "%llu ahead of you",
                                     (unsigned long long) q->ahead);
                        else
                            snprintf(ahead, sizeof ahead, "you are next");
                        cli_time_date(when, away);
                        if (away > now)
                            printf("    held: %s is away until %s; %s\n", name, when, ahead);
                        else
                            printf("    held: %s's budget is full; %s\n", name, ahead);
                    }
                } else if (l == L_DECLINED) {
                    print_declined(cli, r, q);
                } else if (l == L_UNTHANKED) {
                    const char *s;
                    size_t n;
                    s = rel_field(q->answers[q->nanswers - 1], "text", &n);
                    char *line = cli_fit(s, n, text_cols(4 + 11));
                    printf("    %s: %s\n", q->nanswers > 1 ? "clarified" : "answer",
                           line ? line : "?");
                    free(line);
                    printf("    thank with 'mm thank %.*s TEXT'\n", CLI_SHORT_ID,
                           hex);
                } else if (l == L_REPORTS) {
                    printf("    report what came of it with 'mm report %.*s "
                           "TEXT'\n", CLI_SHORT_ID, hex);
                }
                shown++;
            }
    }
    pending = "quiet ambitions (no question for 90 days)";
    for (size_t i = 0; i < amb->n; i++) {
        const mm_ambition_t *a = &amb->v[i];
        uint64_t last;
        size_t n;
        if (!quiet(cli, all, a, now, &last))
            continue;
        const char *s = rel_field(a->it, "text", &n);
        heading(&pending);
        char *line = cli_fit(s, n, text_cols(2 + CLI_SHORT_ID + 2 + 4 + 2));
        const char *k = rel_field(a->it, "kind", &n);
        mm_encoding_hex(hex, a->it->id, 32);
        printf("  %s%.*s%s  %.*s  %s\n", cli_c(cli, CLI_YELLOW), CLI_SHORT_ID,
               hex, cli_c(cli, CLI_RESET), (int) (n < 4 ? n : 4), k,
               line ? line : "?");
        free(line);
        shown++;
    }
    if (shown == 0)
        printf("nothing waiting: no open questions, answers to thank or "
               "reports due\n");
}

int cmd_status(cli_t *cli, int argc, char **argv)
{
    cmd_ambitions_t amb;
    rels_t all;
    int ex;

    memset(&amb, 0, sizeof amb);
    memset(&all, 0, sizeof all);
    status_new_t nw;
    int rc;

    memset(&nw, 0, sizeof nw);
    if (argc > 0)
        return cli_usage(cli, "unexpected argument '%s'", argv[0]);
    if ((ex = rel_settle(cli)) != CLI_EXIT_OK ||
        (ex = rel_all(cli, &all)) != CLI_EXIT_OK ||
        (ex = cmd_ambitions_load(cli, &amb)) != CLI_EXIT_OK)
        goto out;
    /* What is new since the mark (looked.h); a failure costs only that. */
    nw.have = mm_looked_news(cli->home, &nw.now, &nw.news) == MM_OK;
    mm_capacity_t mine;
    if (mm_budget_get(cli->home, &mine) == MM_OK && mine.away_until > mm_now_ms())
        nw.my_away = mine.away_until;
    if (cli->json) {
        status_json(cli, &all, &amb, &nw, mm_now_ms());
    } else if ((ex = cmd_backup_status_text(cli)) == CLI_EXIT_OK) {
        status_text(cli, &all, &amb, &nw, mm_now_ms());
        /* shown to the person: the mark moves to what was read */
        if (nw.have && (rc = mm_looked_set(cli->home, &nw.now)) != MM_OK) {
            fflush(stdout);
            fprintf(stderr, "mm status: cannot remember what you have seen: %s; %s\n",
                    mm_strerror(rc), cli_hint(rc));
        }
    }
out:
    mm_news_free(&nw.news);
    mm_looked_free(&nw.now);
    cmd_ambitions_free(&amb);
    rel_all_free(&all);
    return ex;
}
