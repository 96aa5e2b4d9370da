/*  cmd_export.c -- mm export: everything this home can read, decrypted, as
 *  a Markdown journal or lossless JSON. */
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
#include "core/mp.h"
#include "core/scope.h"
#include "crypto/error.h"
#include "crypto/encoding.h"
#include "crypto/idcode.h"

const char cmd_export_help[] =
    "everything you can read, decrypted, as Markdown or JSON\n"
    "\n"
    "DESCRIPTION\n"
    "    Writes a decrypted copy on stdout.  Without PEER: your own scope\n"
    "    (ambitions, private notes, budget) and every relationship.  With\n"
    "    PEER: that relationship only, plus with --private your notes about\n"
    "    PEER.  The JSON form is lossless: every entry with every field of\n"
    "    its body.  The Markdown form is a journal for people.  Keep the\n"
    "    output as safe as your home: it is not encrypted.\n"
    "\n"
    "OPTIONS\n"
    "    --format md|json\n"
    "        Markdown (the default) or JSON; --json is --format json.\n"
    "    --private\n"
    "        With PEER, include your private notes about them.\n"
    "\n"
    "OUTPUT\n"
    "    --format json: {\"format\": \"mm-export-1\", \"exported\",\n"
    "    \"exported_ms\", \"me\": {\"name\", \"identity\"}, \"scopes\": [{\"scope\",\n"
    "    \"kind\" (\"self\" or \"pair\"), \"peer\", \"peer_identity\", \"entries\":\n"
    "    [{\"id\", \"author\", \"who\", \"type\", \"time\", \"time_ms\", \"body\"}]}]};\n"
    "    author is the writer's mmi code, body every field but the type\n"
    "    (an ambitions snapshot's near and long as arrays of texts, as in\n"
    "    'mm ambition share --json').  The Markdown form gives each entry a\n"
    "    heading (when, who, what) and its words: the text, then what the\n"
    "    entry says (the question it answers, whom a decline suggests, until\n"
    "    when an absence lasts, the state of an ambition, a budget).\n"
    "\n"
    "EXAMPLES\n"
    "    mm export > journal.md\n"
    "    mm export --format json grace > grace.json\n"
    "    mm export grace --private\n"
    "\n"
    "EXIT STATUS\n"
    "    0  written\n"
    "    1  no such peer, a store error\n"
    "    2  the command line is wrong (an unknown --format)\n";

/* One scope to export. */
typedef struct {
    uint8_t    id[32];
    int        self;
    mm_items_t items;
    int        has_peer;
    mm_peer_t  peer;
    const uint8_t *about;       /* self: only notes about this identity */
} part_t;

typedef struct {
    part_t *v;
    size_t  n, cap;
    mm_txn_t *txn;
    int     rc;
} parts_t;

static part_t *part_add(parts_t *p, const uint8_t id[32])
{
    part_t *v;

    for (size_t i = 0; i < p->n; i++)
        if (memcmp(p->v[i].id, id, 32) == 0)
            return &p->v[i];
    if (p->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 8;
        if (!(v = realloc(p->v, cap * sizeof *v)))
            return NULL;
        p->v = v;
        p->cap = cap;
    }
    v = &p->v[p->n++];
    memset(v, 0, sizeof *v);
    memcpy(v->id, id, 32);
    return v;
}

/* Every scope with a feed in the store whose key we hold. */
static int on_feed(const uint8_t author[32], const uint8_t scope[32],
                   const mm_head_t *head, void *arg)
{
    parts_t *p = arg;
    mm_scope_t s;
    int rc;

    (void) author;
    (void) head;
    rc = mm_scope_get(p->txn, scope, &s);
    mm_scope_wipe(&s);
    if (rc == MM_ENOTFOUND)
        return 0;
    if (rc != MM_OK)
        return p->rc = rc;
    return part_add(p, scope) ? 0 : (p->rc = MM_ENOMEM);
}

static int on_peer(const mm_peer_t *peer, void *arg)
{
    parts_t *p = arg;

    for (size_t i = 0; i < p->n; i++)
        if (memcmp(p->v[i].id, peer->scope, 32) == 0 && !p->v[i].has_peer) {
            p->v[i].peer = *peer;
            p->v[i].has_peer = 1;
        }
    return 0;
}

/* Self scope first, then the relationships by peer name. */
static int part_order(const void *a, const void *b)
{
    const part_t *x = a, *y = b;

    if (x->self != y->self)
        return x->self ? -1 : 1;
    if (x->has_peer != y->has_peer)
        return x->has_peer ? -1 : 1;
    if (x->has_peer) {
        int c = strcmp(x->peer.petname, y->peer.petname);
        if (c)
            return c;
    }
    return memcmp(x->id, y->id, 32);
}

static void parts_free(parts_t *p)
{
    for (size_t i = 0; i < p->n; i++)
        mm_items_free(&p->v[i].items);
    free(p->v);
    memset(p, 0, sizeof *p);
}

/* Fill p with the scopes to export: everything, or the relationship with
 * peer (and, private, my notes about them).  Exit code; prints errors. */
static int parts_collect(cli_t *cli, const char *peer, int priv, parts_t *p)
{
    const uint8_t *self = mm_home_self_scope(cli->home);
    mm_peer_t found;
    part_t *x;
    int ex, rc;

    memset(p, 0, sizeof *p);
    rc = mm_store_begin(mm_home_store(cli->home), 0, &p->txn);
    if (rc != MM_OK)
        return cli_fail_rc(cli, rc, "cannot read the store");
    if (peer) {
        if ((ex = cmd_peer_find(cli, p->txn, peer, &found)) != CLI_EXIT_OK) {
            mm_txn_abort(&p->txn);
            return ex;
        }
        rc = MM_ENOMEM;
        if ((x = part_add(p, found.scope))) {
            x->peer = found;
            x->has_peer = 1;
            rc = MM_OK;
        }
        if (rc == MM_OK && priv) {
            rc = MM_ENOMEM;
            if ((x = part_add(p, self))) {
                x->self = 1;
                x->about = p->v[0].peer.identity;
                rc = MM_OK;
            }
        }
    } else {
        rc = mm_log_feeds(p->txn, on_feed, p);
        if (rc == MM_OK)
            rc = mm_peer_foreach(p->txn, on_peer, p);
        for (size_t i = 0; rc == MM_OK && i < p->n; i++)
            p->v[i].self = memcmp(p->v[i].id, self, 32) == 0;
    }
    mm_txn_abort(&p->txn);
    if (rc != MM_OK)
        return cli_fail_rc(cli, rc, "cannot read the store");
    if (!peer && p->n > 1)
        qsort(p->v, p->n, sizeof *p->v, part_order);
    /* The part's about points into p->v[0], which stays put from here. */
    for (size_t i = 0; i < p->n; i++) {
        if (p->v[i].self && p->v[i].about)
            p->v[i].about = p->v[0].peer.identity;
        rc = mm_items_load(mm_home_store(cli->home), p->v[i].id, NULL, &p->v[i].items);
        if (rc == MM_ENOTFOUND)
            continue;                   /* a peer whose scope we lack */
        if (rc != MM_OK)
            return cli_fail_rc(cli, rc, "cannot read the entries");
    }
    return CLI_EXIT_OK;
}

/* 1 if entry it of part x is exported. */
static int part_shows(const part_t *x, const mm_item_t *it)
{
    return !x->about || rel_note_about(it, x->about);
}

static void export_json(cli_t *cli, const parts_t *p)
{
    char code[MM_IDCODE_LEN + 1], when[CLI_TIME_MAX];
    uint64_t now = mm_now_ms();
    json_t j;

    json_init(&j, stdout);
    json_obj_begin(&j, NULL);
    json_str(&j, "format", "mm-export-1");
    cli_time_iso(when, now);
    json_str(&j, "exported", when);
    json_uint(&j, "exported_ms", now);
    json_obj_begin(&j, "me");
    json_str(&j, "name", mm_home_name(cli->home));
    mm_idcode_encode(code, MM_IDCODE_IDENTITY, mm_home_identity_pk(cli->home));
    json_str(&j, "identity", code);
    json_obj_end(&j);
    json_arr_begin(&j, "scopes");
    for (size_t i = 0; i < p->n; i++) {
        const part_t *x = &p->v[i];
        json_obj_begin(&j, NULL);
        json_hex(&j, "scope", x->id, 32);
        json_str(&j, "kind", x->self ? "self" : "pair");
        json_str(&j, "peer", x->has_peer ? x->peer.petname : NULL);
        if (x->has_peer) {
            mm_idcode_encode(code, MM_IDCODE_IDENTITY, x->peer.identity);
            json_str(&j, "peer_identity", code);
        } else {
            json_null(&j, "peer_identity");
        }
        json_arr_begin(&j, "entries");
        for (size_t k = 0; k < x->items.n; k++) {
            const mm_item_t *it = &x->items.v[k];
            if (!part_shows(x, it))
                continue;
            json_obj_begin(&j, NULL);
            json_hex(&j, "id", it->id, 32);
            mm_idcode_encode(code, MM_IDCODE_IDENTITY, it->author);
            json_str(&j, "author", code);
            json_str(&j, "who", rel_me(cli, it->author) ? "me" : "them");
            json_str(&j, "type", it->type);
            rel_json_time(&j, it->time);
            json_obj_begin(&j, "body");
            rel_json_body(&j, it, NULL);
            json_obj_end(&j);
            json_obj_end(&j);
        }
        json_arr_end(&j);
        json_obj_end(&j);
    }
    json_arr_end(&j);
    json_obj_end(&j);
    json_finish(&j);
}

/* The fields of a body of a type this mm has no words for, as Markdown:
 * text as paragraphs, the rest as a list. */
static void md_generic(const mm_item_t *it)
{
    char code[MM_IDCODE_LEN + 1], hex[2 * 32 + 1], date[CLI_TIME_MAX];
    const char *text;
    mm_mp_reader_t r;
    const uint8_t *b;
    const char *s, *k;
    uint32_t nkeys, n, kn;
    uint64_t u;
    size_t tn;
    int list = 0;

    text = rel_field(it, strcmp(it->type, MM_T_INVITE) ? "text" : "note", &tn);
    if (tn) {
        putchar('\n');
        cli_print_lines("", text, tn);
    }
    mm_mp_reader_init(&r, it->pt, it->ptlen);
    if (mm_mp_map(&r, &nkeys) != MM_OK)
        return;
    for (uint32_t i = 0; i < nkeys; i++) {
        if (mm_mp_str(&r, &k, &kn) != MM_OK) {
            /* the key, then its value */
            /* NOLINTNEXTLINE(misc-redundant-expression) */
            if (mm_mp_skip(&r) != MM_OK || mm_mp_skip(&r) != MM_OK)
                return;
            continue;
        }
        char *key = cli_line(k, kn, 32);
        int shown = (kn == 1 && k[0] == 't') ||
                    (kn == 4 && !memcmp(k, "text", 4)) ||
                    (kn == 4 && !memcmp(k, "note", 4) && !strcmp(it->type, MM_T_INVITE));
        if (!list && !shown) {
            putchar('\n');
            list = 1;
        }
        if (shown) {
            if (mm_mp_skip(&r) != MM_OK) {
                free(key);
                return;
            }
        } else if (mm_mp_str(&r, &s, &n) == MM_OK) {
            /* Several lines (ambitions) as a nested list. */
            printf("- %s:%s", key ? key : "?", memchr(s, '\n', n) ? "\n" : " ");
            if (memchr(s, '\n', n))
                cli_print_lines("  - ", s, n);
            else
                cli_print_lines("", s, n);
            if (n == 0)
                putchar('\n');
        } else if (mm_mp_uint(&r, &u) == MM_OK) {
            if (kn == 5 && !memcmp(k, "until", 5)) {
                cli_time_date(date, u);
                printf("- %s: %s\n", key ? key : "?", u ? date : "back");
            } else {
                printf("- %s: %llu\n", key ? key : "?", (unsigned long long) u);
            }
        } else if (mm_mp_bin(&r, &b, &n) == MM_OK) {
            if (n == 32 && kn == 3 && !memcmp(k, "ref", 3)) {
                mm_encoding_hex(hex, b, 32);
                printf("- re: %.*s\n", CLI_SHORT_ID, hex);
            } else if (n == 32) {
                mm_idcode_encode(code, MM_IDCODE_IDENTITY, b);
                printf("- %s: %s\n", key ? key : "?", code);
            } else {
                printf("- %s: (%u bytes)\n", key ? key : "?", n);
            }
        } else if (mm_mp_skip(&r) == MM_OK) {
            printf("- %s: (a value this mm cannot show)\n", key ? key : "?");
        } else {
            free(key);
            return;
        }
        free(key);
    }
}

/* The first line of an entry's text, for a reference to it, or NULL. */
static char *md_ref_text(const part_t *x, const uint8_t id[32])
{
    for (size_t i = 0; i < x->items.n; i++) {
        const mm_item_t *it = &x->items.v[i];
        size_t n;
        const char *s;
        if (memcmp(it->id, id, 32) != 0)
            continue;
        s = rel_field(it, "text", &n);
        return n ? cli_fit(s, n, 60) : NULL;
    }
    return NULL;
}

/* "- re: 1a2b3c4d5e6f (first line of it)" for an entry with a ref. */
static void md_ref(const part_t *x, const mm_item_t *it, const char *label)
{
    char hex[2 * 32 + 1];
    const uint8_t *ref;
    char *line;

    if (!mm_item_ref(it, "ref", &ref))
        return;
    mm_encoding_hex(hex, ref, 32);
    line = md_ref_text(x, ref);
    if (line)
        printf("- %s: %.*s (%s)\n", label, CLI_SHORT_ID, hex, line);
    else
        printf("- %s: %.*s\n", label, CLI_SHORT_ID, hex);
    free(line);
}

/* "- label: mmi..." for a bin8(32) identity field, or nothing. */
static void md_ident(const mm_item_t *it, const char *key, const char *label,
                     const char *prefix)
{
    char code[MM_IDCODE_LEN + 1];
    const uint8_t *b;
    uint32_t n;

    if (mm_body_bin(it->pt, it->ptlen, key, &b, &n) != MM_OK || n != 32)
        return;
    mm_idcode_encode(code, prefix, b);
    printf("- %s: %s\n", label, code);
}

/* "- label: text" for a text field, made safe, or nothing. */
static void md_str(const mm_item_t *it, const char *key, const char *label)
{
    size_t n;
    const char *s = rel_field(it, key, &n);

    if (!n)
        return;
    printf("- %s: ", label);
    cli_print_lines("", s, n);
}

/* An ambitions snapshot: near and long as nested lists. */
static void md_lines(const mm_item_t *it, const char *key, const char *label)
{
    size_t n;
    const char *s = rel_field(it, key, &n);

    printf("- %s:%s\n", label, n ? "" : " none");
    if (n)
        cli_print_lines("  - ", s, n);
}

/* One entry of part x as Markdown: its words, then what it says, in the
 * words of the thread; a type without words as its fields. */
static void md_body(const part_t *x, const mm_item_t *it)
{
    char date[CLI_TIME_MAX], hex[2 * 32 + 1], *line;
    const char *t = it->type, *s;
    const uint8_t *b0;
    uint32_t n0;
    uint64_t u = 0;
    size_t n;
    int v;

    if (!strcmp(t, MM_T_SCOPE) || !strcmp(t, MM_T_PEER) || !strcmp(t, MM_T_PEER_RM) ||
        !strcmp(t, MM_T_SETTLER) || !strcmp(t, MM_T_REKEY) || !strcmp(t, MM_T_CAPACITY) ||
        !strcmp(t, MM_T_AWAY) || !strcmp(t, MM_T_AMBITIONS) || !strcmp(t, MM_T_QUEUE) ||
        !strcmp(t, MM_T_AMBITION_DONE) || !strcmp(t, MM_T_AMBITION_DROP)) {
        putchar('\n');
    } else {
        s = rel_field(it, strcmp(t, MM_T_INVITE) ? "text" : "note", &n);
        if (n) {
            putchar('\n');
            cli_print_lines("", s, n);
        }
        if (strcmp(t, MM_T_NOTE) && strcmp(t, MM_T_INVITE) && strcmp(t, MM_T_AMBITION) &&
            strcmp(t, MM_T_QUESTION) && strcmp(t, MM_T_ANSWER) && strcmp(t, MM_T_ASKBACK) &&
            strcmp(t, MM_T_THANKS) && strcmp(t, MM_T_REPORT) && strcmp(t, MM_T_WITHDRAW) &&
            strcmp(t, MM_T_DECLINE)) {
            md_generic(it);
            return;
        }
        /* a blank line before the list, when there is one */
        if ((strcmp(t, MM_T_NOTE) || mm_body_bin(it->pt, it->ptlen, "about", &b0, &n0) == MM_OK)
            && (strcmp(t, MM_T_QUESTION) || (rel_field(it, "ambition", &n), n)))
            putchar('\n');
    }
    if (!strcmp(t, MM_T_NOTE)) {
        md_ident(it, "about", "about", MM_IDCODE_IDENTITY);
    } else if (!strcmp(t, MM_T_INVITE)) {
        s = rel_field(it, "role", &n);
        printf("- the inviter is the %.*s\n", (int) (n ? n : 4), n ? s : "peer");
    } else if (!strcmp(t, MM_T_AMBITION)) {
        s = rel_field(it, "kind", &n);
        printf("- %s ambition\n", n == 4 && !memcmp(s, "long", 4) ? "long-term" : "near-term");
    } else if (!strcmp(t, MM_T_AMBITION_DONE)) {
        md_ref(x, it, "reached");
    } else if (!strcmp(t, MM_T_AMBITION_DROP)) {
        md_ref(x, it, "given up");
    } else if (!strcmp(t, MM_T_AMBITIONS)) {
        printf("Ambitions shared:\n\n");
        md_lines(it, "near", "near-term");
        md_lines(it, "long", "long-term");
    } else if (!strcmp(t, MM_T_CAPACITY)) {
        if (mm_body_uint(it->pt, it->ptlen, "n", &u) != MM_OK)
            u = 0;
        s = rel_field(it, "per", &n);
        if (u)
            printf("Budget: %llu open engagements at a time (per %.*s)\n",
                   (unsigned long long) u, (int) n, s);
        else
            printf("Budget: none (every question goes straight to the inbox)\n");
    } else if (!strcmp(t, MM_T_AWAY)) {
        if (mm_body_uint(it->pt, it->ptlen, "until", &u) != MM_OK)
            u = 0;
        cli_time_date(date, u);
        if (u)
            printf("Away until %s\n", date);
        else
            printf("Back\n");
    } else if (!strcmp(t, MM_T_QUESTION)) {
        md_str(it, "ambition", "serves");
    } else if (!strcmp(t, MM_T_QUEUE)) {
        s = rel_field(it, "state", &n);
        if (n == 8 && !memcmp(s, "released", 8)) {
            printf("Released to the inbox\n\n");
        } else {
            if (mm_body_uint(it->pt, it->ptlen, "ahead", &u) != MM_OK)
                u = 0;
            const char *why = rel_field(it, "reason", &n);
            printf("Held (%.*s); %llu ahead\n\n", (int) (n ? n : 6), n ? why : "budget",
                   (unsigned long long) u);
        }
        md_ref(x, it, "question");
    } else if (!strcmp(t, MM_T_THANKS)) {
        md_str(it, "offer", "offers");
        md_ref(x, it, "thanks for the answer to");
    } else if (!strcmp(t, MM_T_DECLINE)) {
        const uint8_t *b;
        uint32_t bn;
        char code[MM_IDCODE_LEN + 1];
        if (mm_body_bin(it->pt, it->ptlen, "refer", &b, &bn) == MM_OK && bn == 32) {
            mm_idcode_encode(code, MM_IDCODE_IDENTITY, b);
            s = rel_field(it, "refer_name", &n);
            line = cli_line(s, n, MM_PETNAME_MAX);
            printf("- suggests: %s%s%s%s\n", line && *line ? line : "", line && *line ? " (" : "",
                   code, line && *line ? ")" : "");
            free(line);
        }
        md_ref(x, it, "declines");
    } else if (!strcmp(t, MM_T_ANSWER) || !strcmp(t, MM_T_ASKBACK) || !strcmp(t, MM_T_REPORT) ||
               !strcmp(t, MM_T_WITHDRAW)) {
        md_ref(x, it, !strcmp(t, MM_T_WITHDRAW) ? "withdraws" : "re");
    } else if (!strcmp(t, MM_T_SCOPE)) {
        uint8_t members[2][32];
        uint32_t nm = 0;
        const uint8_t *b;
        uint32_t bn;
        char code[MM_IDCODE_LEN + 1];
        if (mm_body_uint(it->pt, it->ptlen, "kind", &u) != MM_OK)
            u = 0;
        printf("A %s scope, for your other devices (its keys are not exported)\n\n",
               u == 1 ? "self" : "relationship");
        if (mm_body_bin(it->pt, it->ptlen, "id", &b, &bn) == MM_OK && bn == 32) {
            mm_encoding_hex(hex, b, 32);
            printf("- scope: %.*s\n", CLI_SHORT_ID, hex);
        }
        if (mm_body_ids(it->pt, it->ptlen, "members", members, 2, &nm) == MM_OK)
            for (uint32_t i = 0; i < nm; i++) {
                mm_idcode_encode(code, MM_IDCODE_IDENTITY, members[i]);
                printf("- member: %s\n", code);
            }
    } else if (!strcmp(t, MM_T_PEER)) {
        printf("A peer, for your other devices\n\n");
        md_str(it, "petname", "petname");
        md_str(it, "name", "their own name");
        md_ident(it, "identity", "identity", MM_IDCODE_IDENTITY);
        md_str(it, "role", "role towards you");
        if (mm_body_bool(it->pt, it->ptlen, "blocked", &v) == MM_OK && v)
            printf("- blocked\n");
    } else if (!strcmp(t, MM_T_PEER_RM)) {
        printf("A peer removed, for your other devices\n\n");
        md_ident(it, "identity", "identity", MM_IDCODE_IDENTITY);
    } else if (!strcmp(t, MM_T_SETTLER)) {
        printf("The device that settles your budget\n\n");
        md_ident(it, "device", "device", MM_IDCODE_DEVICE);
    } else if (!strcmp(t, MM_T_REKEY)) {
        printf("A new key for this scope, sealed to each current device (not exported)\n");
    }
}

static void export_md(cli_t *cli, const parts_t *p)
{
    char code[MM_IDCODE_LEN + 1], when[CLI_TIME_MAX], hex[2 * 32 + 1];
    char name[CLI_NAME_SAFE], me[CLI_NAME_SAFE], *type;

    cmd_peer_name(me, mm_home_name(cli->home));
    mm_idcode_encode(code, MM_IDCODE_IDENTITY, mm_home_identity_pk(cli->home));
    cli_time_local(when, mm_now_ms());
    printf("# micromentor journal of %s\n\n", me);
    printf("Exported %s from %s.  Decrypted: keep it as safe as your home.\n",
           when, code);
    for (size_t i = 0; i < p->n; i++) {
        const part_t *x = &p->v[i];
        if (x->self) {
            printf("\n## %s\n", x->about ? "Private notes" : "Private: your own scope");
            snprintf(name, sizeof name, "?");
        } else if (x->has_peer) {
            cmd_peer_name(name, x->peer.petname);
            printf("\n## %s (%s)\n", name,
                   x->peer.role == MM_ROLE_MENTOR ? "mentors you" :
                   x->peer.role == MM_ROLE_MENTEE ? "you mentor them" : "peer");
        } else {
            mm_encoding_hex(hex, x->id, 32);
            printf("\n## Relationship %.*s (no longer a peer)\n", CLI_SHORT_ID, hex);
            snprintf(name, sizeof name, "them");
        }
        for (size_t k = 0; k < x->items.n; k++) {
            const mm_item_t *it = &x->items.v[k];
            if (!part_shows(x, it))
                continue;
            cli_time_local(when, it->time);
            mm_encoding_hex(hex, it->id, 32);
            type = cli_line(it->type, strlen(it->type), MM_BODY_TYPE_MAX);
            printf("\n### %s · %s · %s %.*s\n", when,
                   rel_me(cli, it->author) ? "you" : name,
                   type ? type : "?", CLI_SHORT_ID, hex);
            free(type);
            md_body(x, it);
        }
    }
}

int cmd_export(cli_t *cli, int argc, char **argv)
{
    const char *fmt = cli->opt[CLI_OPT_FORMAT];
    int priv = cli->opt[CLI_OPT_PRIVATE] != NULL, ex, json;
    parts_t p;

    memset(&p, 0, sizeof p);
    if (fmt && strcmp(fmt, "md") != 0 && strcmp(fmt, "json") != 0)
        return cli_usage(cli, "--format must be 'md' or 'json', not '%s'", fmt);
    if (fmt && cli->json && strcmp(fmt, "json") != 0)
        return cli_usage(cli, "--json and --format md contradict each other");
    if (argc > 1)
        return cli_usage(cli, "give at most one PEER");
    json = cli->json || (fmt && strcmp(fmt, "json") == 0);
    if ((ex = parts_collect(cli, argc ? argv[0] : NULL, priv, &p)) != CLI_EXIT_OK)
        goto out;
    if (json)
        export_json(cli, &p);
    else
        export_md(cli, &p);
out:
    parts_free(&p);
    return ex;
}
