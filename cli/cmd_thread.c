/*  cmd_thread.c -- mm thread: one relationship as a conversation (mm
 *  status, the view across all of them, is cmd_status.c). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cmd_peer.h"
#include "cli/json.h"
#include "cli/rel.h"
#include "cli/util.h"
#include "core/engage.h"
#include "core/log.h"
#include "crypto/error.h"
#include "crypto/encoding.h"
#include "crypto/idcode.h"

const char cmd_thread_help[] =
    "a relationship as a readable conversation, in time order\n"
    "\n"
    "DESCRIPTION\n"
    "    Every entry you and PEER wrote in your relationship, oldest first:\n"
    "    the invite's note, ambitions shared, questions, answers, thanks and\n"
    "    offers, reports, declines and referrals, questions asked back,\n"
    "    withdrawals, and short status lines for the mentor's queue and\n"
    "    absences.  Each is a block: WHO WHEN KIND, then the text.  Only\n"
    "    the latest 50 are shown, after a line that counts the earlier ones;\n"
    "    --all shows them all.\n"
    "\n"
    "OPTIONS\n"
    "    --all\n"
    "        Show every entry, not only the latest 50.\n"
    "\n"
    "    --private\n"
    "        Also show your private notes about PEER (mm note add --about\n"
    "        PEER), in time order.  Without it they never appear.\n"
    "\n"
    "OUTPUT\n"
    "    you    2 days ago  question\n"
    "      What would you weigh first when my team wants a rewrite?\n"
    "      id: 1a2b3c4d5e6f\n"
    "\n"
    "    grace  1 day ago   answer\n"
    "      Start from the failing cases your users report.\n"
    "      re: 1a2b3c4d5e6f\n"
    "\n"
    "    --json prints {\"peer\", \"earlier\" (entries not shown), \"entries\":\n"
    "    [{\"id\", \"who\" (\"me\" or \"them\"),\n"
    "    \"type\", \"time\", \"time_ms\", \"text\", ...}]} with every field of each\n"
    "    entry's body (ref as hex, refer and about as mmi codes); text is\n"
    "    null for entries without one.\n"
    "\n"
    "EXAMPLES\n"
    "    mm thread grace\n"
    "    mm thread grace --private\n"
    "    mm thread grace --all\n"
    "\n"
    "EXIT STATUS\n"
    "    0  shown\n"
    "    1  no such peer, a store error\n"
    "    2  the command line is wrong\n";

/* --- entries for people ------------------------------------------------------ */

/* "re: 1a2b3c4d5e6f" for an entry that refers to a question. */
static void print_ref(const mm_item_t *it)
{
    const uint8_t *ref;
    char hex[2 * 32 + 1];

    if (!mm_item_ref(it, "ref", &ref))
        return;
    mm_encoding_hex(hex, ref, 32);
    printf("  re: %.*s\n", CLI_SHORT_ID, hex);
}

/* --- thread -------------------------------------------------------------- */

#define NO_REFER SIZE_MAX
#define THREAD_SHOWN 50         /* entries shown without --all */

/* One entry of the thread. */
typedef struct {
    const mm_item_t *it;
    int              mine;      /* I wrote it */
    size_t           refer;     /* who a decline to me refers me to, if they
                                 * are my peer: index in refs; or NO_REFER */
} thread_entry_t;

/* What mm thread shows, gathered before a word of it is printed. */
typedef struct {
    rel_t           r;
    mm_items_t      self;       /* my private notes (--private) */
    thread_entry_t *v;          /* the relationship's entries and my notes
                                 * about the peer, in (time, id) order */
    size_t          n;
    size_t          earlier;    /* entries older than v[0], not shown */
    mm_peer_t      *refs;       /* the peers declines refer me to */
    size_t          nrefs, caprefs;
    uint64_t        now;
} thread_view_t;

/* The thread's entries: the relationship's, and (self) my notes about the
 * peer, merged in (time, id) order. */
static int merge(cli_t *cli, thread_view_t *v, const mm_items_t *self)
{
    const rel_t *r = &v->r;
    size_t i = 0, k = 0, cap = r->items.n + (self ? self->n : 0);

    v->n = 0;
    if (!(v->v = calloc(cap ? cap : 1, sizeof *v->v)))
        return MM_ENOMEM;
    while (i < r->items.n || (self && k < self->n)) {
        if (self && k < self->n && !rel_note_about(&self->v[k], r->peer.identity)) {
            k++;
            continue;
        }
        const mm_item_t *a = i < r->items.n ? &r->items.v[i] : NULL;
        const mm_item_t *b = self && k < self->n ? &self->v[k] : NULL;
        const mm_item_t *it;
        if (a && (!b || a->time < b->time ||
                  (a->time == b->time && memcmp(a->id, b->id, 32) < 0))) {
            it = a;
            i++;
        } else {
            it = b;
            k++;
        }
        v->v[v->n++] = (thread_entry_t) { it, rel_me(cli, it->author), NO_REFER };
    }
    return MM_OK;
}

/* For each decline to me that refers me to someone, that someone if they
 * are my peer.  A store error leaves the referral unnamed, as if they
 * were not. */
static int find_referrals(cli_t *cli, thread_view_t *v)
{
    mm_txn_t *txn = NULL;
    const uint8_t *id;
    uint32_t n;
    size_t len;

    for (size_t i = 0; i < v->n; i++) {
        const mm_item_t *it = v->v[i].it;
        if (v->v[i].mine || strcmp(it->type, MM_T_DECLINE) != 0)
            continue;
        rel_field(it, "refer_name", &len);
        if (len == 0 ||
            mm_body_bin(it->pt, it->ptlen, "refer", &id, &n) != MM_OK || n != 32)
            continue;
        if (!txn && mm_store_begin(mm_home_store(cli->home), 0, &txn) != MM_OK)
            break;
        if (v->nrefs == v->caprefs) {
            size_t cap = v->caprefs ? 2 * v->caprefs : 4;
            mm_peer_t *nv = realloc(v->refs, cap * sizeof *nv);
            if (!nv) {
                mm_txn_abort(&txn);
                return MM_ENOMEM;
            }
            v->refs = nv;
            v->caprefs = cap;
        }
        if (mm_peer_get(txn, id, &v->refs[v->nrefs]) == MM_OK)
            v->v[i].refer = v->nrefs++;
    }
    mm_txn_abort(&txn);
    return MM_OK;
}

/* The relationship's latest THREAD_SHOWN entries (all of them with all):
 * the thread shows no more, so no more are opened.  *total counts them
 * all.  Exit code; prints errors. */
static int thread_items(cli_t *cli, const char *what, int all, rel_t *r, size_t *total)
{
    char name[CLI_NAME_SAFE];
    int ex, rc;

    memset(r, 0, sizeof *r);
    *total = 0;
    if ((ex = cmd_peer_get(cli, what, &r->peer)) != CLI_EXIT_OK)
        return ex;
    rc = mm_items_load_latest(mm_home_store(cli->home), r->peer.scope, MM_ITEM_TYPES,
                              all ? 0 : THREAD_SHOWN, &r->items, total);
    if (rc == MM_OK || rc == MM_ENOTFOUND)  /* no scope with them (yet): nothing shared */
        return CLI_EXIT_OK;
    cmd_peer_name(name, r->peer.petname);
    return cli_fail(cli, "cannot read what you share with '%s': %s; %s", name,
                    mm_strerror(rc), cli_hint(rc));
}

/* Load the relationship with the peer named what and, with priv, my notes
 * about them; without all keep the latest THREAD_SHOWN.  Exit code; prints
 * errors.  Free v with thread_free, also on failure. */
static int thread_build(cli_t *cli, const char *what, int priv, int all,
                        thread_view_t *v)
{
    size_t total, notes = 0;
    int ex, rc;

    memset(v, 0, sizeof *v);
    v->now = mm_now_ms();
    if ((ex = thread_items(cli, what, all, &v->r, &total)) != CLI_EXIT_OK)
        return ex;
    if (priv && (rc = mm_items_load(mm_home_store(cli->home),
                                    mm_home_self_scope(cli->home), NULL,
                                    &v->self)) != MM_OK)
        return cli_fail_rc(cli, rc, "cannot read your private notes");
    if ((rc = merge(cli, v, priv ? &v->self : NULL)) != MM_OK)
        return cli_fail_rc(cli, rc, "cannot show the thread");
    /* the latest of both: within the latest THREAD_SHOWN of each */
    notes = v->n - v->r.items.n;
    v->earlier = total + notes - v->n;
    if (!all && v->n > THREAD_SHOWN) {
        size_t drop = v->n - THREAD_SHOWN;
        memmove(v->v, v->v + drop, THREAD_SHOWN * sizeof *v->v);
        v->n = THREAD_SHOWN;
        v->earlier += drop;
    }
    if ((rc = find_referrals(cli, v)) != MM_OK)
        return cli_fail_rc(cli, rc, "cannot show the thread");
    return CLI_EXIT_OK;
}

static void thread_free(thread_view_t *v)
{
    free(v->refs);
    free(v->v);
    mm_items_free(&v->self);
    rel_free(&v->r);
    memset(v, 0, sizeof *v);
}

static void thread_json(const thread_view_t *v)
{
    static const char *const skip[] = { "id", "who", "type", "time", "time_ms",
                                        NULL };
    const char *text;
    uint32_t tlen;
    json_t j;

    json_init(&j, stdout);
    json_obj_begin(&j, NULL);
    json_str(&j, "peer", v->r.peer.petname);
    json_uint(&j, "earlier", v->earlier);
    json_arr_begin(&j, "entries");
    for (size_t i = 0; i < v->n; i++) {
        const mm_item_t *it = v->v[i].it;
        json_obj_begin(&j, NULL);
        json_hex(&j, "id", it->id, 32);
        json_str(&j, "who", v->v[i].mine ? "me" : "them");
        json_str(&j, "type", it->type);
        rel_json_time(&j, it->time);
        if (mm_body_str(it->pt, it->ptlen, "text", &text, &tlen) != MM_OK)
            json_null(&j, "text");
        rel_json_body(&j, it, skip);
        json_obj_end(&j);
    }
    json_arr_end(&j);
    json_obj_end(&j);
    json_finish(&j);
}

/* After "refers you to X": who X is among my peers (p), if one. */
static void print_referral(const mm_peer_t *p)
{
    char arg[CLI_NAME_SAFE];

    if (!p) {
        putchar('\n');
        return;
    }
    cmd_peer_arg(arg, p);
    if (p->role == MM_ROLE_MENTOR)
        printf(", your mentor '%s': ask with 'mm ask %s TEXT'\n", arg, arg);
    else
        printf(", your peer '%s'\n", arg);
}

/* The body of one entry of a thread, indented under its header. */
static void print_body(const thread_view_t *v, const thread_entry_t *e)
{
    char name[CLI_NAME_SAFE], hex[2 * 32 + 1], date[CLI_TIME_MAX];
    const mm_item_t *it = e->it;
    int mine = e->mine;
    const char *s;
    uint64_t u = 0;
    size_t n;

    cmd_peer_name(name, v->r.peer.petname);
    s = rel_field(it, strcmp(it->type, MM_T_INVITE) ? "text" : "note", &n);
    cli_print_lines("  ", s, n);
    if (!strcmp(it->type, MM_T_AMBITIONS)) {
        static const char *const kinds[] = { "near", "long" };
        for (size_t x = 0; x < 2; x++) {
            size_t i, k;
            s = rel_field(it, kinds[x], &n);
            for (i = 0; i < n; i = k + 1) {
                for (k = i; k < n && s[k] != '\n'; k++)
                    ;
                if (k > i) {
                    char *line = cli_line(s + i, k - i, MM_TEXT_MAX);
                    printf("  %s: %s\n", kinds[x], line ? line : "?");
                    free(line);
                }
            }
        }
    } else if (!strcmp(it->type, MM_T_QUESTION)) {
        s = rel_field(it, "ambition", &n);
        if (n) {
            char *line = cli_line(s, n, MM_TEXT_MAX);
            printf("  serves: %s\n", line ? line : "?");
            free(line);
        }
        mm_encoding_hex(hex, it->id, 32);
        printf("  id: %.*s\n", CLI_SHORT_ID, hex);
        return;
    } else if (!strcmp(it->type, MM_T_THANKS)) {
        s = rel_field(it, "offer", &n);
        if (n) {
            char *line = cli_line(s, n, MM_TEXT_MAX);
            printf("  offers: %s\n", line ? line : "?");
            free(line);
        }
    } else if (!strcmp(it->type, MM_T_DECLINE)) {
        s = rel_field(it, "refer_name", &n);
        if (n) {
            char *line = cli_line(s, n, MM_PETNAME_MAX), code[MM_IDCODE_LEN + 1];
            const uint8_t *rid;
            uint32_t rn;
            printf("  refers %s to %s", mine ? name : "you", line ? line : "?");
            /* the id code, so that a stranger can be told apart */
            if (mm_body_bin(it->pt, it->ptlen, "refer", &rid, &rn) == MM_OK && rn == 32) {
                mm_idcode_encode(code, MM_IDCODE_IDENTITY, rid);
                printf(" (%s)", code);
            }
            if (!mine && e->refer == NO_REFER)
                printf(", not your peer yet: ask them for an invite, then 'mm accept CODE'\n");
            else
                print_referral(e->refer == NO_REFER ? NULL : &v->refs[e->refer]);
            free(line);
        }
    } else if (!strcmp(it->type, MM_T_QUEUE)) {
        size_t rn;
        const char *why = rel_field(it, "reason", &rn);
        s = rel_field(it, "state", &n);
        if (mm_body_uint(it->pt, it->ptlen, "ahead", &u) != MM_OK)
            u = 0;
        if (n == 8 && !memcmp(s, "released", 8))
            printf("  released to %s%s inbox\n", mine ? "your" : name,
                   mine ? "" : "'s");
        else if (rn == 13 && !memcmp(why, "one-at-a-time", 13))
            printf(mine ? "  held: one question at a time; %s has another open with you\n"
                        : "  held: one question at a time; it reaches %s once your open "
                          "one is closed\n", name);
        else if (mine)
            printf("  held beyond your budget; %llu ahead of it\n",
                   (unsigned long long) u);
        else if (u == 0)
            printf("  held: %s's budget is full; you are next\n", name);
        else
            printf("  held: %s's budget is full; %llu ahead of you\n", name,
                   (unsigned long long) u);
    } else if (!strcmp(it->type, MM_T_AWAY)) {
        if (mm_body_uint(it->pt, it->ptlen, "until", &u) != MM_OK)
            u = 0;
        cli_time_date(date, u);
        if (u)
            printf("  away until %s\n", date);
        else
            printf("  back\n");
    }
    print_ref(it);
}

static void thread_text(const cli_t *cli, const thread_view_t *v)
{
    char name[CLI_NAME_SAFE], when[CLI_TIME_MAX], *type;
    size_t wwho, wwhen = 0, n;

    cmd_peer_name(name, v->r.peer.petname);
    if (v->n == 0) {
        printf("nothing with %s yet\n", name);
        return;
    }
    if (v->earlier) {
        char arg[CLI_NAME_SAFE];
        cmd_peer_arg(arg, &v->r.peer);
        printf("(%zu earlier entr%s not shown: mm thread %s --all)\n\n", v->earlier,
               v->earlier == 1 ? "y" : "ies", arg);
    }
    wwho = cli_width(name) > 3 ? cli_width(name) : 3;
    for (size_t i = 0; i < v->n; i++) {
        cli_time_rel(when, v->v[i].it->time, v->now);
        if ((n = cli_width(when)) > wwhen)
            wwhen = n;
    }
    for (size_t i = 0; i < v->n; i++) {
        const thread_entry_t *e = &v->v[i];
        const char *who = e->mine ? "you" : name;
        cli_time_rel(when, e->it->time, v->now);
        type = cli_line(e->it->type, strlen(e->it->type), MM_BODY_TYPE_MAX);
        printf("%s%s%*s  %s%*s  %s%s%s\n", i ? "\n" : "", who,
               (int) (wwho - cli_width(who)), "", when,
               (int) (wwhen - cli_width(when)), "", cli_c(cli, CLI_YELLOW),
               type ? type : "?", cli_c(cli, CLI_RESET));
        free(type);
        print_body(v, e);
    }
}

int cmd_thread(cli_t *cli, int argc, char **argv)
{
    thread_view_t v;
    int ex;

    if (argc != 1)
        return cli_usage(cli, argc ? "give one PEER" : "missing the PEER");
    ex = thread_build(cli, argv[0], cli->opt[CLI_OPT_PRIVATE] != NULL,
                      cli->opt[CLI_OPT_ALL] != NULL, &v);
    if (ex == CLI_EXIT_OK) {
        if (cli->json)
            thread_json(&v);
        else
            thread_text(cli, &v);
    }
    thread_free(&v);
    return ex;
}
