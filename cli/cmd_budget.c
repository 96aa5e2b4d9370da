/*  cmd_budget.c -- how a mentor protects their time: mm capacity (at most
 *  N engagements open at once) and mm away (nothing new released). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/cmd_peer.h"
#include "cli/json.h"
#include "cli/rel.h"
#include "cli/util.h"
#include "core/engage.h"
#include "core/budget.h"
#include "core/device.h"
#include "crypto/idcode.h"
#include "crypto/error.h"

const char cmd_capacity_help[] =
    "set or show your budget: how many engagements are open at once\n"
    "\n"
    "DESCRIPTION\n"
    "    Protects your time.  With a budget of N, at most N engagements are\n"
    "    open at once: released to your inbox and not yet thanked, withdrawn\n"
    "    or declined.  Further questions are held, first come first served\n"
    "    across all your mentees, and released as engagements close; each\n"
    "    asker sees where they stand.  PERIOD (day, week or month) is the\n"
    "    pace you mean to keep, shown to you.  Without a budget every\n"
    "    question goes straight to your inbox.\n"
    "\n"
    "    capacity              show the budget and what is open and held\n"
    "    capacity N/PERIOD     set it: N from 1 to 100\n"
    "    capacity off          remove it\n"
    "\n"
    "OUTPUT\n"
    "    budget 2/week: 1 open, 1 held\n"
    "    no budget set: every question goes straight to your inbox\n"
    "\n"
    "    --json prints {\"n\", \"per\", \"open\", \"held\", \"away_until\",\n"
    "    \"away_until_ms\"}; n is 0 and per null without a budget, away_until\n"
    "    null when you are not away.\n"
    "\n"
    "EXAMPLES\n"
    "    mm capacity 2/week\n"
    "    mm capacity\n"
    "\n"
    "EXIT STATUS\n"
    "    0  done\n"
    "    1  a store error\n"
    "    2  the command line is wrong (not N/PERIOD, N out of range)\n";

const char cmd_away_help[] =
    "tell your mentees you are away; nothing new is released meanwhile\n"
    "\n"
    "DESCRIPTION\n"
    "    While you are away no question is released to your inbox, whatever\n"
    "    your budget; new ones are held in the order they came.  The note\n"
    "    is written to your self scope and copied into the relationship\n"
    "    with each mentee, who sees it in 'mm status' and 'mm thread'.\n"
    "\n"
    "OPTIONS\n"
    "    --until YYYY-MM-DD\n"
    "        Away until the start of that day (local time), a future date.\n"
    "    --off\n"
    "        Back now: held questions are released on your next 'mm inbox'.\n"
    "\n"
    "OUTPUT\n"
    "    away until 2026-12-10: nothing new reaches your inbox; told 2 mentees\n"
    "    (delivered on the next 'mm sync')\n"
    "\n"
    "    --json prints {\"until\", \"until_ms\", \"mentees\"}; until is null with\n"
    "    --off.\n"
    "\n"
    "EXAMPLES\n"
    "    mm away --until 2026-12-10\n"
    "    mm away --off\n"
    "\n"
    "EXIT STATUS\n"
    "    0  done\n"
    "    1  the date is not in the future, a store error\n"
    "    2  the command line is wrong (no date, a malformed one, both)\n";

/* --- capacity ---------------------------------------------------------------- */

/* "2/week" into *n and per.  0, or -1 if it is not a budget. */
static int parse_budget(const char *s, uint64_t *n, const char **per)
{
    static const char *const pers[] = { "day", "week", "month" };
    unsigned long v;
    char *end;

    if (s[0] < '0' || s[0] > '9')
        return -1;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || *end != '/' || v < 1 || v > MM_CAPACITY_MAX)
        return -1;
    for (size_t i = 0; i < sizeof pers / sizeof pers[0]; i++)
        if (strcmp(end + 1, pers[i]) == 0) {
            *n = v;
            *per = pers[i];
            return 0;
        }
    return -1;
}

/* What mm capacity shows, gathered before a word of it is printed. */
typedef struct {
    int           set;          /* this run set the budget */
    mm_capacity_t budget;
    uint64_t      open, held;   /* my mentees' engagements open, and held */
    uint64_t      away_until;   /* when I am back, or 0 if I am not away */
    int           settler_known;
    int           settles_here; /* this device is the one that settles */
    mm_device_t   settler;
} capacity_view_t;

/* Read the budget and count my mentees' released engagements still
 * pending, and the held ones.  Exit code; prints errors. */
static int capacity_build(cli_t *cli, int set, capacity_view_t *v)
{
    uint64_t now = mm_now_ms();
    rels_t all;
    int ex, rc;

    memset(v, 0, sizeof *v);
    v->set = set;
    if ((rc = mm_budget_get(cli->home, &v->budget)) != MM_OK)
        return cli_fail_rc(cli, rc, "cannot read your budget");
    v->away_until = v->budget.away_until > now ? v->budget.away_until : 0;
    mm_txn_t *txn = NULL;
    uint8_t s[32];
    if (mm_store_begin(mm_home_store(cli->home), 0, &txn) == MM_OK
        && mm_budget_settler(cli->home, txn, s) == MM_OK) {
        v->settles_here = !memcmp(s, mm_keypair_pk(mm_home_device(cli->home)), 32);
        v->settler_known = mm_cert_get(txn, s, &v->settler.cert, NULL, NULL) == MM_OK;
    }
    mm_txn_abort(&txn);
    if ((ex = rel_all(cli, &all)) != CLI_EXIT_OK)
        goto out;
    for (size_t i = 0; i < all.n; i++) {
        if (all.v[i].peer.role != MM_ROLE_MENTEE)
            continue;
        for (size_t k = 0; k < all.v[i].nq; k++) {
            const mm_question_t *q = &all.v[i].qs[k];
            if (rel_me(cli, q->q->author))
                continue;
            v->open += q->state == MM_QS_OPEN || q->state == MM_QS_ANSWERED;
            v->held += q->state == MM_QS_HELD;
        }
    }
out:
    rel_all_free(&all);
    return ex;
}

static void capacity_json(const capacity_view_t *v)
{
    char until[CLI_TIME_MAX];
    json_t j;

    json_init(&j, stdout);
    json_obj_begin(&j, NULL);
    json_uint(&j, "n", v->budget.n);
    if (v->budget.n)
        json_str(&j, "per", v->budget.per);
    else
        json_null(&j, "per");
    json_uint(&j, "open", v->open);
    json_uint(&j, "held", v->held);
    cli_time_iso(until, v->away_until);
    json_str(&j, "away_until", v->away_until ? until : NULL);
    json_uint(&j, "away_until_ms", v->away_until);
    char code[MM_IDCODE_LEN + 1];
    if (v->settler_known)
        mm_idcode_encode(code, MM_IDCODE_DEVICE, v->settler.cert.device);
    json_str(&j, "settler", v->settler_known ? code : NULL);
    json_bool(&j, "settles_here", v->settles_here);
    json_obj_end(&j);
    json_finish(&j);
}

static void capacity_text(const capacity_view_t *v)
{
    char until[CLI_TIME_MAX];

    if (v->set && v->budget.n)
        printf("budget set: at most %llu engagement%s open at once; new "
               "questions beyond it are held\n",
               (unsigned long long) v->budget.n, v->budget.n == 1 ? "" : "s");
    if (v->budget.n)
        printf("budget %llu/%s: %llu open, %llu held\n",
               (unsigned long long) v->budget.n, v->budget.per,
               (unsigned long long) v->open, (unsigned long long) v->held);
    else
        printf("no budget set: every question goes straight to your inbox\n");
    if (v->away_until) {
        cli_time_date(until, v->away_until);
        printf("away until %s: nothing new is released\n", until);
    }
    if (!v->settles_here) {
        char *name = v->settler_known ? cli_line(v->settler.cert.name,
                                                 strlen(v->settler.cert.name), 64) : NULL;
        printf("this device shows the budget; your device '%s' sorts questions into it\n",
               name ? name : "?");
        free(name);
    }
}

int cmd_capacity(cli_t *cli, int argc, char **argv)
{
    const char *per = "week";
    capacity_view_t v;
    uint64_t n = 0;
    int ex, rc, set = argc == 1;

    if (argc > 1)
        return cli_usage(cli, "give one budget, like 2/week");
    if (set && strcmp(argv[0], "off") != 0 && parse_budget(argv[0], &n, &per) != 0)
        return cli_usage(cli, "'%s' is not a budget: give N/PERIOD with N from "
                         "1 to %d and PERIOD day, week or month, like 2/week",
                         argv[0], MM_CAPACITY_MAX);
    if (set) {
        mm_field_t f[2] = {
            { "n", MM_F_UINT, NULL, 0, n },
            { "per", MM_F_STR, per, strlen(per), 0 },
        };
        rc = mm_engage_append(cli->home, mm_home_self_scope(cli->home),
                              MM_T_CAPACITY, f, 2, NULL);
        if (rc != MM_OK)
            return cli_fail_rc(cli, rc, "cannot set the budget");
    }
    if ((ex = capacity_build(cli, set, &v)) != CLI_EXIT_OK)
        return ex;
    if (cli->json)
        capacity_json(&v);
    else
        capacity_text(&v);
    return CLI_EXIT_OK;
}

/* --- away ---------------------------------------------------------------- */

/* "YYYY-MM-DD" as the start of that day, local time, in ms.  0, or -1. */
static int parse_date(const char *s, uint64_t *ms)
{
    struct tm tm;
    int y, m, d;
    char tail;
    time_t t;

    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-' ||
        sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3)
        return -1;
    for (size_t i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return -1;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = y - 1900;
    tm.tm_mon = m - 1;
    tm.tm_mday = d;
    tm.tm_isdst = -1;
    t = mktime(&tm);
    /* mktime accepts 2026-02-30 as March 2: such a date is not one.  Its
     * error, (time_t) -1, is negative too. */
    if (t < 0 || tm.tm_year != y - 1900 ||
        tm.tm_mon != m - 1 || tm.tm_mday != d)
        return -1;
    *ms = (uint64_t) t * 1000;
    return 0;
}

/* What mm away did. */
typedef struct {
    const char *date;           /* --until as given, or NULL (--off) */
    uint64_t    until;          /* the start of that day in ms, or 0 */
    size_t      told;           /* mentees whose relationship got the note */
} away_view_t;

static void away_json(const away_view_t *v)
{
    char when[CLI_TIME_MAX];
    json_t j;

    json_init(&j, stdout);
    json_obj_begin(&j, NULL);
    cli_time_iso(when, v->until);
    json_str(&j, "until", v->until ? when : NULL);
    json_uint(&j, "until_ms", v->until);
    json_uint(&j, "mentees", v->told);
    json_obj_end(&j);
    json_finish(&j);
}

static void away_text(const away_view_t *v)
{
    if (v->until)
        printf("away until %s: nothing new reaches your inbox; told %zu "
               "mentee%s\n", v->date, v->told, v->told == 1 ? "" : "s");
    else
        printf("back: held questions are released on your next 'mm inbox'; "
               "told %zu mentee%s\n", v->told, v->told == 1 ? "" : "s");
    if (v->told)
        printf("(delivered on the next 'mm sync')\n");
}

int cmd_away(cli_t *cli, int argc, char **argv)
{
    away_view_t v = { cli->opt[CLI_OPT_UNTIL], 0, 0 };
    int off = cli->opt[CLI_OPT_OFF] != NULL, ex, rc;
    rels_t all;

    memset(&all, 0, sizeof all);
    if (argc > 0)
        return cli_usage(cli, "unexpected argument '%s'", argv[0]);
    if ((v.date != NULL) == off)
        return cli_usage(cli, "give --until YYYY-MM-DD or --off");
    if (v.date && parse_date(v.date, &v.until) != 0)
        return cli_usage(cli, "'%s' is not a date like 2026-12-10", v.date);
    if (v.date && v.until <= mm_now_ms())
        return cli_fail_code(cli, MM_EINVAL, "%s is not in the future; give a later date, or "
                        "'mm away --off' when you are back", v.date);
    mm_field_t f[1] = { { "until", MM_F_UINT, NULL, 0, v.until } };
    rc = mm_engage_append(cli->home, mm_home_self_scope(cli->home), MM_T_AWAY,
                          f, 1, NULL);
    if (rc != MM_OK)
        return cli_fail_rc(cli, rc, "cannot record it");
    /* Copied into each relationship so that the askers see it. */
    if ((ex = rel_all(cli, &all)) != CLI_EXIT_OK)
        goto out;
    for (size_t i = 0; i < all.n; i++) {
        const mm_peer_t *p = &all.v[i].peer;
        if (p->role != MM_ROLE_MENTEE || p->blocked)
            continue;
        rc = mm_engage_append(cli->home, p->scope, MM_T_AWAY, f, 1, NULL);
        if (rc != MM_OK) {
            char name[CLI_NAME_SAFE];
            cmd_peer_name(name, p->petname);
            ex = cli_fail(cli, "recorded it, but cannot tell %s: %s; %s", name,
                          mm_strerror(rc), cli_hint(rc));
            goto out;
        }
        v.told++;
    }
    if (cli->json)
        away_json(&v);
    else
        away_text(&v);
out:
    rel_all_free(&all);
    return ex;
}
