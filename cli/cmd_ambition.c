/*  cmd_ambition.c -- mm ambition add | list | done | drop | share: what a
 *  mentee is working towards, kept in the self scope and shared as a
 *  snapshot with a mentor. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cmd_ambition.h"
#include "cli/cmd_peer.h"
#include "cli/json.h"
#include "cli/rel.h"
#include "cli/util.h"
#include "core/engage.h"
#include "core/entry.h"
#include "core/log.h"
#include "crypto/error.h"
#include "crypto/encoding.h"

const char cmd_ambition_help[] =
    "write down, close and share your career ambitions\n"
    "\n"
    "DESCRIPTION\n"
    "    An ambition is an entry in your self scope, readable by your own\n"
    "    devices only: near-term (the next months) or long-term.  Questions\n"
    "    you ask can serve one (mm ask --ambition ID).  Nothing is changed in\n"
    "    place: marking an ambition done or dropped is a new entry, and the\n"
    "    history is kept.\n"
    "\n"
    "    add --near TEXT | --long TEXT\n"
    "        Write down an ambition: one line of at most 4000 bytes.\n"
    "    list [--all]\n"
    "        Your current ambitions, oldest first: ID KIND WHEN TEXT.  With\n"
    "        --all also those done or dropped, with a STATE column.\n"
    "    done ID | drop ID\n"
    "        Mark an ambition reached, or given up.  ID is its id or a\n"
    "        prefix of at least 4 hex digits.\n"
    "    share PEER\n"
    "        Send PEER (usually your mentor) a snapshot of your current\n"
    "        ambitions; their mm inbox and mm brief show the latest one.\n"
    "        Share again after a change.\n"
    "\n"
    "OUTPUT\n"
    "    add:    added near-term ambition 1a2b3c4d5e6f\n"
    "    list:   1a2b3c4d5e6f  near  3 days ago  ship the parser rewrite\n"
    "    share:  shared 2 ambitions with grace\n"
    "            (delivered on the next 'mm sync grace')\n"
    "\n"
    "    --json: add, done and drop print one ambition, list prints\n"
    "    {\"ambitions\": [...]}, each {\"id\", \"kind\", \"text\", \"time\",\n"
    "    \"time_ms\", \"state\"} (state \"active\", \"done\" or \"dropped\");\n"
    "    share prints {\"id\", \"peer\", \"time\", \"time_ms\", \"ambitions\":\n"
    "    {\"near\": [...], \"long\": [...]}}.\n"
    "\n"
    "EXAMPLES\n"
    "    mm ambition add --near 'lead a small team within 12 months'\n"
    "    mm ambition add --long 'start a mentoring nonprofit'\n"
    "    mm ambition list --all\n"
    "    mm ambition done 1a2b\n"
    "    mm ambition share grace\n"
    "\n"
    "EXIT STATUS\n"
    "    0  done (also for a list with no ambitions)\n"
    "    1  failed: empty, too long, several lines or not UTF-8 text; no\n"
    "       such ambition or peer; the ambition is already closed; a store\n"
    "       error\n"
    "    2  the command line is wrong (no --near or --long, both, a short\n"
    "       id)\n";

#define TEXT_CHARS 100          /* of an ambition in list */

/* --- shared with ask and status ------------------------------------------- */

int cmd_ambitions_load(cli_t *cli, cmd_ambitions_t *a)
{
    int rc;

    memset(a, 0, sizeof *a);
    rc = mm_items_load(mm_home_store(cli->home), mm_home_self_scope(cli->home), NULL, &a->items);
    if (rc == MM_OK)
        rc = mm_ambitions(&a->items, mm_home_identity_pk(cli->home), &a->v, &a->n);
    if (rc != MM_OK)
        return cli_fail_rc(cli, rc, "cannot read your ambitions");
    return CLI_EXIT_OK;
}

void cmd_ambitions_free(cmd_ambitions_t *a)
{
    free(a->v);
    mm_items_free(&a->items);
    memset(a, 0, sizeof *a);
}

#define CMD_AMBITION_CAND 8      /* ambitions named for an ambiguous prefix */

int cmd_ambition_find(cli_t *cli, const cmd_ambitions_t *a, const char *arg,
                      const mm_ambition_t **out)
{
    char prefix[2 * 32 + 1], hex[2 * 32 + 1], kind[16];
    char list[CMD_AMBITION_CAND * 64];
    size_t idx[CMD_AMBITION_CAND], hits, o = 0, kl;
    const char *k;
    int ex, rc;

    if ((ex = cli_id_prefix(cli, arg, "an ambition", prefix)) != CLI_EXIT_OK)
        return ex;
    rc = mm_ambition_find(a->v, a->n, prefix, idx, CMD_AMBITION_CAND, &hits);
    if (rc == MM_OK) {
        *out = &a->v[idx[0]];
        return CLI_EXIT_OK;
    }
    if (rc == MM_ENOTFOUND)
        return cli_fail_code(cli, rc, "no ambition with id '%s'; see 'mm "
                             "ambition list --all'", prefix);
    if (rc != MM_EAMBIG)
        return cli_fail_rc(cli, rc, "cannot find the ambition");
    list[0] = '\0';
    for (size_t i = 0; i < hits && i < CMD_AMBITION_CAND && o < sizeof list; i++) {
        const mm_ambition_t *x = &a->v[idx[i]];
        mm_encoding_hex(hex, x->it->id, 32);
        k = rel_field(x->it, "kind", &kl);
        snprintf(kind, sizeof kind, "%.*s", k && kl < sizeof kind ? (int) kl : 1,
                 k && kl < sizeof kind ? k : "?");
        o += (size_t) snprintf(list + o, sizeof list - o, "%s%.*s (%s, %s)",
                               i ? ", " : "", CLI_SHORT_ID, hex, kind,
                               cmd_ambition_state(x));
    }
    return cli_fail_code(cli, rc, "id prefix '%s' matches %zu ambitions: %s%s; "
                         "give more digits", prefix, hits, list,
                         hits > CMD_AMBITION_CAND ? ", ..." : "");
}

const char *cmd_ambition_state(const mm_ambition_t *a)
{
    /* NOLINTNEXTLINE(clang-analyzer-core.NullDereference): callers pass a found ambition */
    if (!a->closed)
        return "active";
    return strcmp(a->closed->type, MM_T_AMBITION_DONE) == 0 ? "done" : "dropped";
}

/* The ambition as JSON in state (left open). */
static void ambition_json(json_t *j, const char *key, const mm_ambition_t *a,
                          const char *state)
{
    const char *s;
    size_t n;

    json_obj_begin(j, key);
    json_hex(j, "id", a->it->id, 32);
    s = rel_field(a->it, "kind", &n);
    json_strn(j, "kind", s, n);
    s = rel_field(a->it, "text", &n);
    json_strn(j, "text", s, n);
    rel_json_time(j, a->it->time);
    json_str(j, "state", state);
}

void cmd_ambition_json(json_t *j, const char *key, const mm_ambition_t *a)
{
    ambition_json(j, key, a, cmd_ambition_state(a));
}

/* 1 if kind of a is k ("near" or "long"). */
static int kind_is(const mm_ambition_t *a, const char *k)
{
    size_t n;
    const char *s = rel_field(a->it, "kind", &n);

    return n == strlen(k) && memcmp(s, k, n) == 0;
}

/* --- add ----------------------------------------------------------------- */

/* The time the entry id of scope was written with, read back after
 * mm_engage_append.  Exit code; prints errors. */
static int entry_time(cli_t *cli, const uint8_t scope[32], const uint8_t id[32],
                      uint64_t *ms)
{
    char hex[2 * 32 + 1];
    const uint8_t *buf;
    mm_txn_t *txn = NULL;
    mm_entry_t e;
    size_t len;
    int rc;

    mm_encoding_hex(hex, id, 32);
    rc = mm_store_begin(mm_home_store(cli->home), 0, &txn);
    if (rc == MM_OK)
        rc = mm_log_find(txn, scope, hex, &buf, &len);
    if (rc == MM_OK)
        rc = mm_entry_parse(buf, len, &e);
    if (rc == MM_OK)
        *ms = e.time;
    mm_txn_abort(&txn);
    if (rc != MM_OK)
        return cli_fail(cli, "wrote entry %.*s but cannot read it back: %s; %s",
                        CLI_SHORT_ID, hex, mm_strerror(rc), cli_hint(rc));
    return CLI_EXIT_OK;
}

int cmd_ambition_add(cli_t *cli, int argc, char **argv)
{
    const char *nearv = cli->opt[CLI_OPT_NEAR], *longv = cli->opt[CLI_OPT_LONG];
    const char *kind = nearv ? "near" : "long", *text = nearv ? nearv : longv;
    char hex[2 * 32 + 1];
    uint8_t id[32];
    uint64_t ms = 0;
    size_t len;
    int ex, rc;
    json_t j;

    if (argc > 0)
        return cli_usage(cli, "unexpected argument '%s'; quote the TEXT of "
                         "--near or --long", argv[0]);
    if ((nearv && longv) || (!nearv && !longv) ||
        cli->optn[CLI_OPT_NEAR] + cli->optn[CLI_OPT_LONG] > 1)
        return cli_usage(cli, "give one ambition: --near TEXT or --long TEXT");
    len = strlen(text);
    if ((ex = cli_text_check(cli, "ambition", text, len)) != CLI_EXIT_OK)
        return ex;
    if (memchr(text, '\n', len) || memchr(text, '\r', len))
        return cli_fail(cli, "an ambition is one line; write several "
                        "ambitions as several entries");
    mm_field_t f[2] = {
        { "kind", MM_F_STR, kind, strlen(kind), 0 },
        { "text", MM_F_STR, text, len, 0 },
    };
    rc = mm_engage_append(cli->home, mm_home_self_scope(cli->home),
                          MM_T_AMBITION, f, 2, id);
    if (rc != MM_OK)
        return cli_fail_rc(cli, rc, "cannot add the ambition");
    mm_encoding_hex(hex, id, sizeof id);
    if (!cli->json) {
        printf("added %s-term ambition %s%.*s%s\n", kind, cli_c(cli, CLI_YELLOW),
               CLI_SHORT_ID, hex, cli_c(cli, CLI_RESET));
        return CLI_EXIT_OK;
    }
    if ((ex = entry_time(cli, mm_home_self_scope(cli->home), id, &ms))
        != CLI_EXIT_OK)
        return ex;
    json_init(&j, stdout);
    json_obj_begin(&j, NULL);
    json_str(&j, "id", hex);
    json_str(&j, "kind", kind);
    json_str(&j, "text", text);
    rel_json_time(&j, ms);
    json_str(&j, "state", "active");
    json_obj_end(&j);
    json_finish(&j);
    return CLI_EXIT_OK;
}

/* --- list ---------------------------------------------------------------- */

/* What mm ambition list shows, gathered before a word of it is printed. */
typedef struct {
    cmd_ambitions_t       a;
    const mm_ambition_t **v;    /* the ones shown, oldest first */
    size_t                n;
    int                   all;  /* --all: the closed ones too */
    uint64_t              now;
} list_view_t;

/* Exit code; prints errors.  Free v with list_free, also on failure. */
static int list_build(cli_t *cli, int all, list_view_t *v)
{
    int ex;

    memset(v, 0, sizeof *v);
    v->all = all;
    v->now = mm_now_ms();
    if ((ex = cmd_ambitions_load(cli, &v->a)) != CLI_EXIT_OK)
        return ex;
    /* NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers */
    if (v->a.n > 0 && !(v->v = calloc(v->a.n, sizeof *v->v)))
        return cli_fail_rc(cli, MM_ENOMEM, "cannot list the ambitions");
    for (size_t i = 0; i < v->a.n; i++)
        if (all || !v->a.v[i].closed)
            v->v[v->n++] = &v->a.v[i];
    return CLI_EXIT_OK;
}

static void list_free(list_view_t *v)
{
    free(v->v);
    cmd_ambitions_free(&v->a);
    memset(v, 0, sizeof *v);
}

static void list_json(const list_view_t *v)
{
    json_t j;

    json_init(&j, stdout);
    json_obj_begin(&j, NULL);
    json_arr_begin(&j, "ambitions");
    for (size_t i = 0; i < v->n; i++) {
        cmd_ambition_json(&j, NULL, v->v[i]);
        json_obj_end(&j);
    }
    json_arr_end(&j);
    json_obj_end(&j);
    json_finish(&j);
}

static void list_text(const cli_t *cli, const list_view_t *v)
{
    char when[CLI_TIME_MAX], hex[2 * 32 + 1], *text, *kind;
    size_t w = 0, n;
    const char *s;

    for (size_t i = 0; i < v->n; i++) {
        /* NOLINTNEXTLINE(clang-analyzer-core.NullDereference): v->v[0..n) are set */
        cli_time_rel(when, v->v[i]->it->time, v->now);
        if (cli_width(when) > w)
            w = cli_width(when);
    }
    if (v->n == 0)
        printf(v->a.n && !v->all ? "no current ambitions; see the closed ones "
               "with 'mm ambition list --all', or add one with 'mm ambition "
               "add --near TEXT'\n"
               : "no ambitions yet; add one with 'mm ambition add --near TEXT'\n");
    for (size_t i = 0; i < v->n; i++) {
        const mm_ambition_t *x = v->v[i];
        s = rel_field(x->it, "kind", &n);
        kind = cli_line(s, n, 4);
        s = rel_field(x->it, "text", &n);
        text = cli_line(s, n, TEXT_CHARS);
        mm_encoding_hex(hex, x->it->id, 32);
        cli_time_rel(when, x->it->time, v->now);
        printf("%s%.*s%s  %-4s  %s%*s  ", cli_c(cli, CLI_YELLOW), CLI_SHORT_ID,
               hex, cli_c(cli, CLI_RESET), kind ? kind : "?", when,
               (int) (w - cli_width(when)), "");
        if (v->all)
            printf("%-7s  ", cmd_ambition_state(x));
        printf("%s\n", text ? text : "?");
        free(kind);
        free(text);
    }
}

int cmd_ambition_list(cli_t *cli, int argc, char **argv)
{
    list_view_t v;
    int ex;

    if (argc > 0)
        return cli_usage(cli, "unexpected argument '%s'", argv[0]);
    if ((ex = list_build(cli, cli->opt[CLI_OPT_ALL] != NULL, &v)) == CLI_EXIT_OK) {
        if (cli->json)
            list_json(&v);
        else
            list_text(cli, &v);
    }
    list_free(&v);
    return ex;
}

/* --- done, drop ------------------------------------------------------------ */

static int close_ambition(cli_t *cli, int argc, char **argv, const char *type)
{
    int done = strcmp(type, MM_T_AMBITION_DONE) == 0;
    const mm_ambition_t *x = NULL;
    char hex[2 * 32 + 1], *text;
    cmd_ambitions_t a;
    const char *s;
    size_t n;
    int ex, rc;
    json_t j;

    if (argc != 1)
        return cli_usage(cli, argc ? "give one ambition ID" :
                         "missing the ambition ID");
    if ((ex = cmd_ambitions_load(cli, &a)) != CLI_EXIT_OK)
        goto out;
    if ((ex = cmd_ambition_find(cli, &a, argv[0], &x)) != CLI_EXIT_OK)
        goto out;
    /* x is set: cmd_ambition_find returns CLI_EXIT_OK only then (the
     * analyzer cannot see that cli_fail never returns it) */
    /* NOLINTNEXTLINE(clang-analyzer-core.NullDereference) */
    mm_encoding_hex(hex, x->it->id, 32);
    ex = CLI_EXIT_FAIL;
    if (x->closed) {
        cli_error(cli, "ambition %.*s is already %s; see 'mm ambition list "
                  "--all'", CLI_SHORT_ID, hex, cmd_ambition_state(x));
        goto out;
    }
    mm_field_t f[1] = { { "ref", MM_F_BIN, x->it->id, 32, 0 } };
    rc = mm_engage_append(cli->home, mm_home_self_scope(cli->home), type, f, 1,
                          NULL);
    if (rc != MM_OK) {
        cli_fail_rc(cli, rc, "cannot close the ambition");
        goto out;
    }
    if (cli->json) {
        json_init(&j, stdout);
        /* The state just written, not the one loaded before. */
        ambition_json(&j, NULL, x, done ? "done" : "dropped");
        json_obj_end(&j);
        json_finish(&j);
    } else {
        s = rel_field(x->it, "text", &n);
        text = cli_line(s, n, TEXT_CHARS);
        printf("%s ambition %s%.*s%s: %s\n", done ? "reached" : "dropped",
               cli_c(cli, CLI_YELLOW), CLI_SHORT_ID, hex, cli_c(cli, CLI_RESET),
               text ? text : "?");
        free(text);
    }
    ex = CLI_EXIT_OK;
out:
    cmd_ambitions_free(&a);
    return ex;
}

int cmd_ambition_done(cli_t *cli, int argc, char **argv)
{
    return close_ambition(cli, argc, argv, MM_T_AMBITION_DONE);
}

int cmd_ambition_drop(cli_t *cli, int argc, char **argv)
{
    return close_ambition(cli, argc, argv, MM_T_AMBITION_DROP);
}

/* --- share --------------------------------------------------------------- */

/* The current ambitions of kind k, one per line, into a malloc'd *out. */
static int join_kind(const cmd_ambitions_t *a, const char *k, char **out,
                     size_t *len, size_t *count)
{
    size_t total = 0, o = 0, n;
    const char *s;
    char *buf;

    for (size_t i = 0; i < a->n; i++)
        if (!a->v[i].closed && kind_is(&a->v[i], k)) {
            rel_field(a->v[i].it, "text", &n);
            total += n + 1;
        }
    if (!(buf = malloc(total + 1)))
        return MM_ENOMEM;
    for (size_t i = 0; i < a->n; i++) {
        if (a->v[i].closed || !kind_is(&a->v[i], k))
            continue;
        s = rel_field(a->v[i].it, "text", &n);
        if (o)
            buf[o++] = '\n';
        memcpy(buf + o, s, n);
        o += n;
        (*count)++;
    }
    buf[o] = '\0';
    *out = buf;
    *len = o;
    return MM_OK;
}

int cmd_ambition_share(cli_t *cli, int argc, char **argv)
{
    char name[CLI_NAME_SAFE], hex[2 * 32 + 1];
    char *nearv = NULL, *longv = NULL;
    size_t nlen = 0, llen = 0, count = 0;
    cmd_ambitions_t a;
    uint8_t id[32];
    mm_peer_t p;
    uint64_t ms = 0;
    int ex, rc;
    json_t j;

    memset(&a, 0, sizeof a);
    if (argc != 1)
        return cli_usage(cli, argc ? "give one PEER" : "missing the PEER to "
                         "share your ambitions with");
    if ((ex = cmd_peer_get(cli, argv[0], &p)) != CLI_EXIT_OK)
        return ex;
    if ((ex = cmd_ambitions_load(cli, &a)) != CLI_EXIT_OK)
        goto out;
    ex = CLI_EXIT_FAIL;
    if ((rc = join_kind(&a, "near", &nearv, &nlen, &count)) != MM_OK ||
        (rc = join_kind(&a, "long", &longv, &llen, &count)) != MM_OK) {
        cli_fail_rc(cli, rc, "cannot share the ambitions");
        goto out;
    }
    mm_field_t f[2] = {
        { "long", MM_F_STR, longv, llen, 0 },
        { "near", MM_F_STR, nearv, nlen, 0 },
    };
    rc = mm_engage_append(cli->home, p.scope, MM_T_AMBITIONS, f, 2, id);
    if (rc == MM_ETOOBIG) {
        cli_error(cli, "your ambitions are too long to share in one entry; "
                  "drop some with 'mm ambition drop ID'");
        goto out;
    }
    if (rc != MM_OK) {
        cli_fail_rc(cli, rc, "cannot share the ambitions");
        goto out;
    }
    if (!cli->json) {
        cmd_peer_name(name, p.petname);
        printf("shared %zu ambition%s with %s\n", count, count == 1 ? "" : "s",
               name);
        rel_hint(cli, &p);
        ex = CLI_EXIT_OK;
        goto out;
    }
    if ((ex = entry_time(cli, p.scope, id, &ms)) != CLI_EXIT_OK)
        goto out;
    mm_encoding_hex(hex, id, sizeof id);
    json_init(&j, stdout);
    json_obj_begin(&j, NULL);
    json_str(&j, "id", hex);
    json_str(&j, "peer", p.petname);
    rel_json_time(&j, ms);
    json_obj_begin(&j, "ambitions");
    json_arr_begin(&j, "near");
    for (size_t i = 0; i < a.n; i++)
        if (!a.v[i].closed && kind_is(&a.v[i], "near")) {
            const char *s = rel_field(a.v[i].it, "text", &nlen);
            json_strn(&j, NULL, s, nlen);
        }
    json_arr_end(&j);
    json_arr_begin(&j, "long");
    for (size_t i = 0; i < a.n; i++)
        if (!a.v[i].closed && kind_is(&a.v[i], "long")) {
            const char *s = rel_field(a.v[i].it, "text", &llen);
            json_strn(&j, NULL, s, llen);
        }
    json_arr_end(&j);
    json_obj_end(&j);
    json_obj_end(&j);
    json_finish(&j);
    ex = CLI_EXIT_OK;
out:
    free(nearv);
    free(longv);
    cmd_ambitions_free(&a);
    return ex;
}
