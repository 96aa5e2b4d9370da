/*  rel.c -- a relationship loaded for the views, its entries and questions
 *  as JSON, and the reply commands; see rel.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cmd_peer.h"
#include "cli/edit.h"
#include "cli/json.h"
#include "cli/rel.h"
#include "cli/util.h"
#include "core/engage.h"
#include "core/mp.h"
#include "core/qindex.h"
#include "crypto/error.h"
#include "crypto/encoding.h"
#include "crypto/idcode.h"

#define BODY_DEPTH_MAX 6        /* nesting of a body value shown in JSON */

/* --- relationships --------------------------------------------------------- */

int rel_load(cli_t *cli, const mm_peer_t *p, rel_t *r)
{
    char name[CLI_NAME_SAFE];
    int rc;

    memset(r, 0, sizeof *r);
    r->peer = *p;
    rc = mm_items_load(mm_home_store(cli->home), p->scope, MM_ITEM_TYPES, &r->items);
    if (rc == MM_ENOTFOUND)     /* no scope with them (yet): nothing shared */
        return CLI_EXIT_OK;
    if (rc == MM_OK)
        rc = mm_questions(&r->items, &r->qs, &r->nq);
    if (rc == MM_OK)
        return CLI_EXIT_OK;
    cmd_peer_name(name, p->petname);
    return cli_fail(cli, "cannot read what you share with '%s': %s; %s", name,
                    mm_strerror(rc), cli_hint(rc));
}

int rel_get(cli_t *cli, const char *what, rel_t *r)
{
    mm_peer_t p;
    int ex;

    memset(r, 0, sizeof *r);
    if ((ex = cmd_peer_get(cli, what, &p)) != CLI_EXIT_OK)
        return ex;
    return rel_load(cli, &p, r);
}

void rel_free(rel_t *r)
{
    free(r->qs);
    mm_items_free(&r->items);
    memset(r, 0, sizeof *r);
}

int rel_all(cli_t *cli, rels_t *all)
{
    cmd_peers_t l;
    int ex;

    memset(all, 0, sizeof *all);
    if ((ex = cmd_peer_all(cli, &l)) != CLI_EXIT_OK)
        return ex;
    if (l.n > 0 && !(all->v = calloc(l.n, sizeof *all->v))) {
        free(l.v);
        return cli_fail_rc(cli, MM_ENOMEM, "cannot read the relationships");
    }
    for (size_t i = 0; i < l.n; i++) {
        all->n++;
        if ((ex = rel_load(cli, &l.v[i], &all->v[i])) != CLI_EXIT_OK)
            break;
    }
    free(l.v);
    return ex;
}

void rel_all_free(rels_t *all)
{
    for (size_t i = 0; i < all->n; i++)
        rel_free(&all->v[i]);
    free(all->v);
    memset(all, 0, sizeof *all);
}

int rel_settle(cli_t *cli)
{
    cmd_peers_t l;
    int ex, rc;

    if ((ex = cmd_peer_all(cli, &l)) != CLI_EXIT_OK)
        return ex;
    free(l.v);
    if (l.mentees == 0)
        return CLI_EXIT_OK;
    mm_settle_t out;
    rc = mm_budget_settle(cli->home, &out);
    if (rc == MM_EFORKED)
        return CLI_EXIT_OK;         /* a forked home writes nothing; said at the start */
    if (rc != MM_OK)
        return cli_fail_rc(cli, rc, "cannot sort your mentees' questions into "
                           "your budget");
    /* another device of ours settles: say so once, where people look */
    if (out.not_settler && !cli->json)
        fprintf(stderr, "mm %s: questions are sorted into your budget on your settling "
                "device (see 'mm capacity')\n", cli->name);
    return CLI_EXIT_OK;
}

/* --- entries --------------------------------------------------------------- */

int rel_me(const cli_t *cli, const uint8_t ident[32])
{
    return memcmp(ident, mm_home_identity_pk(cli->home), 32) == 0;
}

const char *rel_field(const mm_item_t *it, const char *key, size_t *n)
{
    const char *s;
    uint32_t len;

    if (mm_body_str(it->pt, it->ptlen, key, &s, &len) != MM_OK) {
        *n = 0;
        return "";
    }
    *n = len;
    return s;
}

int rel_note_about(const mm_item_t *it, const uint8_t identity[32])
{
    const uint8_t *p;
    uint32_t n;

    return strcmp(it->type, MM_T_NOTE) == 0 &&
           mm_body_bin(it->pt, it->ptlen, "about", &p, &n) == MM_OK &&
           n == 32 && memcmp(p, identity, 32) == 0;
}

const mm_item_t *rel_on_file(const rel_t *r, const uint8_t who[32])
{
    for (size_t i = r->items.n; i-- > 0;) {
        const mm_item_t *it = &r->items.v[i];
        if (strcmp(it->type, MM_T_AMBITIONS) == 0 &&
            memcmp(it->author, who, 32) == 0)
            return it;
    }
    return NULL;
}

/* --- JSON ------------------------------------------------------------------ */

void rel_json_time(json_t *j, uint64_t ms)
{
    char when[CLI_TIME_MAX];

    cli_time_iso(when, ms);
    json_str(j, "time", when);
    json_uint(j, "time_ms", ms);
}

static int skipped(const char *key, const char *const *skip)
{
    if (strcmp(key, "t") == 0)
        return 1;
    for (; skip && *skip; skip++)
        if (strcmp(key, *skip) == 0)
            return 1;
    return 0;
}

/* A map key as a C string (malloc'd), or NULL if it is not a string. */
static char *body_key(mm_mp_reader_t *r)
{
    const char *s;
    uint32_t n;
    char *k;

    if (mm_mp_str(r, &s, &n) != MM_OK)
        return NULL;
    if (!(k = malloc((size_t) n + 1)))
        return NULL;
    memcpy(k, s, n);
    k[n] = '\0';
    return k;
}

/* Step over a map's key and its value. */
static int skip_pair(mm_mp_reader_t *r)
{
    int rc = mm_mp_skip(r);
    return rc ? rc : mm_mp_skip(r);
}

/* One msgpack value at r as JSON under key.  The body passed
 * mm_body_check, so mm_mp_skip can step over anything not shown. */
static void body_value(json_t *j, const char *key, mm_mp_reader_t *r, int depth)
{
    char code[MM_IDCODE_LEN + 1];
    const uint8_t *b;
    const char *s;
    uint64_t u;
    uint32_t n;
    int v;

    if (mm_mp_str(r, &s, &n) == MM_OK) {
        json_strn(j, key, s, n);
    } else if (mm_mp_uint(r, &u) == MM_OK) {
        json_uint(j, key, u);
    } else if (mm_mp_bin(r, &b, &n) == MM_OK) {
        /* Identities people refer to read better as their mmi code. */
        if (n == 32 && key && (!strcmp(key, "refer") || !strcmp(key, "about"))) {
            mm_idcode_encode(code, MM_IDCODE_IDENTITY, b);
            json_str(j, key, code);
        } else {
            json_hex(j, key, b, n);
        }
    } else if (mm_mp_bool(r, &v) == MM_OK) {
        json_bool(j, key, v);
    } else if (mm_mp_nil(r) == MM_OK) {
        json_null(j, key);
    } else if (depth < BODY_DEPTH_MAX && mm_mp_array(r, &n) == MM_OK) {
        json_arr_begin(j, key);
        for (uint32_t i = 0; i < n; i++)
            body_value(j, NULL, r, depth + 1);
        json_arr_end(j);
    } else if (depth < BODY_DEPTH_MAX && mm_mp_map(r, &n) == MM_OK) {
        json_obj_begin(j, key);
        for (uint32_t i = 0; i < n; i++) {
            char *k = body_key(r);
            if (k)
                body_value(j, k, r, depth + 1);
            else if (skip_pair(r) != MM_OK)
                n = i + 1;          /* a checked body: never, but stop if so */
            free(k);
        }
        json_obj_end(j);
    } else {
        json_null(j, key);
        if (mm_mp_skip(r) != MM_OK)
            return;                 /* a checked body: never */
    }
}

static void lines_json(json_t *j, const char *key, const mm_item_t *it);

void rel_json_body(json_t *j, const mm_item_t *it, const char *const *skip)
{
    mm_mp_reader_t r;
    uint32_t n;

    mm_mp_reader_init(&r, it->pt, it->ptlen);
    if (mm_mp_map(&r, &n) != MM_OK)
        return;
    for (uint32_t i = 0; i < n; i++) {
        char *k = body_key(&r);
        if (!k) {
            if (mm_mp_skip(&r) != MM_OK)
                return;
            continue;
        }
        if (skipped(k, skip)) {
            free(k);
            if (mm_mp_skip(&r) != MM_OK)
                return;
            continue;
        }
        /* a scope's keys are secrets: never shown, not even decrypted */
        if (!strcmp(it->type, MM_T_SCOPE) && !strcmp(k, "keys")) {
            json_str(j, k, "(not exported)");
            free(k);
            if (mm_mp_skip(&r) != MM_OK)
                return;
            continue;
        }
        /* one shape for ambitions everywhere: arrays, as share --json */
        if (!strcmp(it->type, MM_T_AMBITIONS) && (!strcmp(k, "near") || !strcmp(k, "long"))) {
            lines_json(j, k, it);
            free(k);
            if (mm_mp_skip(&r) != MM_OK)
                return;
            continue;
        }
        body_value(j, k, &r, 0);
        free(k);
    }
}

/* The non-blank lines of field key of it as a JSON array. */
static void lines_json(json_t *j, const char *key, const mm_item_t *it)
{
    size_t n = 0, i = 0, k;
    const char *s = it ? rel_field(it, key, &n) : "";

    json_arr_begin(j, key);
    while (i < n) {
        for (k = i; k < n && s[k] != '\n'; k++)
            ;
        if (k > i)
            json_strn(j, NULL, s + i, k - i);
        i = k + 1;
    }
    json_arr_end(j);
}

void rel_on_file_json(json_t *j, const char *key, const mm_item_t *it)
{
    json_obj_begin(j, key);
    lines_json(j, "near", it);
    lines_json(j, "long", it);
    json_obj_end(j);
}

/* An entry that refers to a question: {"id", "time", "time_ms", fields}. */
static void ref_json(json_t *j, const char *key, const mm_item_t *it)
{
    static const char *const skip[] = { "ref", "id", "time", "time_ms", NULL };

    if (!it) {
        json_null(j, key);
        return;
    }
    json_obj_begin(j, key);
    json_hex(j, "id", it->id, 32);
    rel_json_time(j, it->time);
    rel_json_body(j, it, skip);
    json_obj_end(j);
}

void rel_question_json(const cli_t *cli, json_t *j, const char *key,
                       const rel_t *r, const mm_question_t *q)
{
    const mm_item_t *it = q->q;
    const uint8_t *ref;
    const char *s;
    size_t n;

    json_obj_begin(j, key);
    json_hex(j, "id", it->id, 32);
    json_str(j, "peer", r->peer.petname);
    json_str(j, "asker", rel_me(cli, it->author) ? "me" : "them");
    rel_json_time(j, it->time);
    s = rel_field(it, "text", &n);
    json_strn(j, "text", s, n);
    s = rel_field(it, "ambition", &n);
    if (n)
        json_strn(j, "ambition", s, n);
    else
        json_null(j, "ambition");
    json_str(j, "state", mm_qstate_name(q->state));
    if (q->state == MM_QS_HELD) {
        json_uint(j, "ahead", q->ahead);
        json_str(j, "reason", mm_hold_name(q->hold));
    }
    json_arr_begin(j, "answers");
    for (int i = 0; i < q->nanswers; i++)
        ref_json(j, NULL, q->answers[i]);
    json_arr_end(j);
    ref_json(j, "thanks", q->state == MM_QS_THANKED ? q->thanks : NULL);
    json_arr_begin(j, "reports");
    for (size_t i = 0; i < r->items.n; i++) {
        const mm_item_t *rp = &r->items.v[i];
        if (strcmp(rp->type, MM_T_REPORT) == 0 &&
            memcmp(rp->author, it->author, 32) == 0 &&
            mm_item_ref(rp, "ref", &ref) && memcmp(ref, it->id, 32) == 0)
            ref_json(j, NULL, rp);
    }
    json_arr_end(j);
    ref_json(j, "ask_back", q->askback);
    ref_json(j, "decline", q->decline);
    ref_json(j, "withdrawn", q->state == MM_QS_WITHDRAWN ? q->withdraw : NULL);
}

/* --- replies --------------------------------------------------------------- */

/* Call the core verb of spec->act. */
static int reply_call(cli_t *cli, const rel_reply_spec_t *spec, const char *qid,
                      const char *text, size_t len, const uint8_t *refer,
                      mm_engage_out_t *out)
{
    const char *offer = cli->opt[CLI_OPT_OFFER];

    switch (spec->act) {
    case MM_ACT_WITHDRAW:
        return mm_engage_withdraw(cli->home, qid, out);
    case MM_ACT_THANK:
        return mm_engage_thank(cli->home, qid, text, len, offer,
                               offer ? strlen(offer) : 0, out);
    case MM_ACT_REPORT:
        return mm_engage_report(cli->home, qid, text, len, out);
    case MM_ACT_ANSWER:
        return mm_engage_answer(cli->home, qid, text, len, out);
    case MM_ACT_DECLINE:
        return mm_engage_decline(cli->home, qid, text, len, refer, out);
    case MM_ACT_ASKBACK:
        return mm_engage_askback(cli->home, qid, text, len, out);
    }
    return MM_EINVAL;
}

/* The candidates of an ambiguous prefix, for the --json error object. */
static void candidates_json(json_t *j, const void *arg)
{
    const mm_engage_out_t *o = arg;
    char hex[2 * 32 + 1];

    json_arr_begin(j, "candidates");
    for (size_t i = 0; i < o->ncand; i++) {
        mm_encoding_hex(hex, o->cand[i].qid, 32);
        json_obj_begin(j, NULL);
        json_str(j, "id", hex);
        json_str(j, "peer", o->cand[i].peer[0] ? o->cand[i].peer : NULL);
        json_str(j, "direction", o->cand[i].mine ? "to" : "from");
        json_str(j, "state", mm_qstate_name(o->cand[i].state));
        json_obj_end(j);
    }
    json_arr_end(j);
}

int rel_ambiguous(cli_t *cli, const char *prefix, const mm_engage_out_t *o)
{
    char list[MM_ENGAGE_CAND_MAX * (CLI_NAME_SAFE + 48)], name[CLI_NAME_SAFE];
    char hex[2 * 32 + 1];
    size_t n = 0;

    list[0] = '\0';
    for (size_t i = 0; i < o->ncand && n < sizeof list; i++) {
        mm_encoding_hex(hex, o->cand[i].qid, 32);
        cmd_peer_name(name, o->cand[i].peer[0] ? o->cand[i].peer : "?");
        n += (size_t) snprintf(list + n, sizeof list - n, "%s%.*s (%s %s, %s)",
                               i ? ", " : "", CLI_SHORT_ID, hex,
                               o->cand[i].mine ? "to" : "from", name,
                               mm_qstate_name(o->cand[i].state));
    }
    static mm_engage_out_t kept;    /* the error object is written by main */

    kept = *o;
    cli_set_extra(candidates_json, &kept);
    if (o->ncand < 2)       /* core named none: say it without them */
        return cli_fail_code(cli, MM_EAMBIG, "id prefix '%s' matches more "
                             "than one question; give more digits", prefix);
    return cli_fail_code(cli, MM_EAMBIG, "id prefix '%s' matches %s%zu "
                         "questions: %s%s; give more digits", prefix,
                         o->more ? "more than " : "", o->ncand, list,
                         o->more ? ", ..." : "");
}

/* The words for a refusal core gave. */
static int reply_refused(cli_t *cli, const rel_reply_spec_t *spec,
                         rel_reply_t *c, const char *prefix, int rc)
{
    int askers = spec->act == MM_ACT_WITHDRAW || spec->act == MM_ACT_THANK ||
                 spec->act == MM_ACT_REPORT;

    cli_set_code(rc);
    switch (rc) {
    case MM_ENOTFOUND:
        return cli_fail(cli, "no question with id '%s'; see 'mm status' for "
                        "yours and 'mm inbox' for your mentees'", prefix);
    case MM_EAMBIG:
        return rel_ambiguous(cli, prefix, &c->out);
    case MM_EROLE:
        if (askers)
            return cli_fail(cli, "question %.*s was asked by %s, not by you; "
                            "only the asker can %s it", CLI_SHORT_ID, c->hex,
                            c->name, spec->verb);
        return cli_fail(cli, "question %.*s is your own; only the one you "
                        "asked can %s it", CLI_SHORT_ID, c->hex, spec->verb);
    case MM_ESTATE:
        return spec->refused(cli, c);
    case MM_EINVAL:
        if (spec->act == MM_ACT_DECLINE)
            return cli_fail(cli, "%s asked the question; refer them to "
                            "someone else", c->name);
        /* fall through */
    default:
        return cli_fail_rc(cli, rc, "cannot write it");
    }
}

/* Up to max lines of s[0..n), made safe, each after "  ", onto out. */
static void quote_lines(char *out, size_t cap, size_t *o, const char *s, size_t n, int max)
{
    size_t i = 0;

    while (i < n && max-- > 0 && *o < cap) {
        const char *nl = memchr(s + i, '\n', n - i);
        char *line = cli_line(s + i, n - i, MM_TEXT_MAX);
        *o += (size_t) snprintf(out + *o, cap - *o, "  %s\n", line ? line : "?");
        free(line);
        if (!nl)
            return;
        i = (size_t) (nl - s) + 1;
    }
}

/* The editor's comment lines for a reply to the question prefix: what to
 * write, then the question and its latest answer, so that the writer sees
 * what they reply to (a question not found: only the first part). */
static void reply_comments(cli_t *cli, const char *prefix, const char *what, char *out,
                           size_t cap)
{
    uint8_t qid[32], scope[32];
    const mm_item_t *q = NULL, *ans = NULL;
    const uint8_t *ref;
    mm_items_t items = { 0 };
    mm_txn_t *txn = NULL;
    const char *s;
    size_t o, n;
    int found;

    cli_edit_comments(out, cap, what, NULL);
    o = strlen(out);
    found = mm_store_begin(mm_home_store(cli->home), 0, &txn) == MM_OK &&
            mm_qindex_find(txn, prefix, qid, scope) == MM_OK;
    mm_txn_abort(&txn);
    if (!found || mm_items_load(mm_home_store(cli->home), scope, MM_ITEM_TYPES, &items) != MM_OK)
        return;
    for (size_t i = 0; i < items.n; i++) {
        const mm_item_t *it = &items.v[i];
        if (!memcmp(it->id, qid, 32))
            q = it;
        else if (!strcmp(it->type, MM_T_ANSWER) && mm_item_ref(it, "ref", &ref) &&
                 !memcmp(ref, qid, 32))
            ans = it;           /* in time order: the latest */
    }
    if (q && o < cap) {
        o += (size_t) snprintf(out + o, cap - o, "\n\nThe question%s:\n",
                               rel_me(cli, q->author) ? " you asked" : "");
        s = rel_field(q, "text", &n);
        quote_lines(out, cap, &o, s, n, 12);
    }
    if (q && ans && o < cap) {
        o += (size_t) snprintf(out + o, cap - o, "\nThe answer%s:\n",
                               rel_me(cli, ans->author) ? " you gave" : "");
        s = rel_field(ans, "text", &n);
        quote_lines(out, cap, &o, s, n, 12);
    }
    mm_items_free(&items);
}

int rel_reply(cli_t *cli, int argc, char **argv, const rel_reply_spec_t *spec,
              const uint8_t *refer, void *own)
{
    char prefix[2 * 32 + 1];
    rel_reply_t c;
    char *text = NULL;
    size_t len = 0;
    int ex, rc;
    json_t j;

    memset(&c, 0, sizeof c);
    c.own = own;
    /* TEXT left out on a terminal: the editor (edit.h) */
    if (spec->text ? argc < 1 || (argc == 1 && !cli_edit_possible()) : argc != 1)
        return cli_usage(cli, "%s", spec->usage[argc ? 1 : 0]);
    if ((ex = cli_id_prefix(cli, argv[0], "a question", prefix)) != CLI_EXIT_OK)
        return ex;
    if (spec->text) {
        char comments[4096] = "";
        if (argc == 1)
            reply_comments(cli, prefix, spec->text, comments, sizeof comments);
        if ((ex = cli_edit_text(cli, argc - 1, argv + 1, spec->text,
                                argc == 1 ? comments : NULL, &text, &len)) != CLI_EXIT_OK)
            return ex;
    }
    rc = reply_call(cli, spec, prefix, text, len,
                    spec->act == MM_ACT_DECLINE ? refer : NULL, &c.out);
    mm_encoding_hex(c.hex, c.out.qid, 32);
    cmd_peer_name(c.name, c.out.have_peer ? c.out.peer.petname : "?");
    if (rc != MM_OK) {
        ex = reply_refused(cli, spec, &c, prefix, rc);
        goto out;
    }
    spec->build(cli, &c);
    ex = CLI_EXIT_OK;
    if (!cli->json) {
        printf("%s\n", c.said);
        rel_hint(cli, &c.out.peer);
        goto out;
    }
    json_init(&j, stdout);
    json_obj_begin(&j, NULL);
    json_hex(&j, "id", c.out.id, 32);
    json_hex(&j, "ref", c.out.qid, 32);
    json_str(&j, "peer", c.out.peer.petname);
    json_str(&j, "type", mm_act_type(spec->act));
    rel_json_time(&j, c.out.time);
    json_obj_end(&j);
    json_finish(&j);
out:
    cli_text_free(text, len);
    return ex;
}

void rel_hint(const cli_t *cli, const mm_peer_t *p)
{
    char arg[CLI_NAME_SAFE];

    if (cli->json)
        return;
    cmd_peer_arg(arg, p);
    printf("(delivered on the next 'mm sync %s')\n", arg);
}
