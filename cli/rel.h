/*  rel.h -- a relationship as the views see it (rel.c): the peer and the
 *  entries of our scope, decrypted, with the questions core derives from
 *  them; its entries and questions as JSON; and the reply commands
 *  (withdraw, thank, report, answer, decline, ask-back), which differ only
 *  in their words.
 *
 *  Nothing here decides what is allowed: the states, the budget and who
 *  may do what are core's (question.h, budget.h, engage.h).
 */
#ifndef MM_CLI_REL_H
#define MM_CLI_REL_H

#include <stddef.h>
#include <stdint.h>

#include "cli/cli.h"
#include "cli/cmd_peer.h"
#include "cli/json.h"
#include "core/engage.h"
#include "core/item.h"
#include "core/peer.h"
#include "core/question.h"

/* --- loading ------------------------------------------------------------------ */

/* One relationship. */
typedef struct {
    mm_peer_t      peer;
    mm_items_t     items;       /* in (time, id) order */
    mm_question_t *qs;          /* in time order, pointing into items */
    size_t         nq;
} rel_t;

/* Every relationship of this home, in identity order. */
typedef struct {
    rel_t  *v;
    size_t  n;
} rels_t;

/* Load the relationship with p (no entries yet is not an error).  Exit
 * code; prints errors.  Free with rel_free, also on failure. */
int  rel_load(cli_t *cli, const mm_peer_t *p, rel_t *r);
/* Find the peer named what (cmd_peer_get) and load the relationship. */
int  rel_get(cli_t *cli, const char *what, rel_t *r);
void rel_free(rel_t *r);
/* Load every relationship.  Exit code; free with rel_all_free, also on
 * failure. */
int  rel_all(cli_t *cli, rels_t *all);
void rel_all_free(rels_t *all);
/* If I have a mentee, run mm_budget_settle (the mentor's budget) before a
 * view of the inbox.  Exit code; prints errors. */
int  rel_settle(cli_t *cli);

/* --- entries ------------------------------------------------------------------ */

/* 1 if ident is my identity. */
int  rel_me(const cli_t *cli, const uint8_t ident[32]);
/* The string field key of it (pointer into the body and length), or ""
 * when absent or not a string. */
const char *rel_field(const mm_item_t *it, const char *key, size_t *n);
/* 1 if it is a private note about identity (mm note add --about). */
int  rel_note_about(const mm_item_t *it, const uint8_t identity[32]);
/* The latest "ambitions" snapshot that who wrote in r, or NULL. */
const mm_item_t *rel_on_file(const rel_t *r, const uint8_t who[32]);

/* --- JSON ---------------------------------------------------------------------- */

/* "time" (ISO 8601 UTC) and "time_ms" members. */
void rel_json_time(json_t *j, uint64_t ms);
/* Every field of it's body but "t" as members of the open object (str
 * as strings, uint as numbers, bin as hex, anything else as JSON too;
 * an ambitions snapshot's near and long as arrays of their lines, the
 * shape of share --json); keys in skip (NULL-terminated, may be NULL) are
 * left out. */
void rel_json_body(json_t *j, const mm_item_t *it, const char *const *skip);
/* {"near": [...], "long": [...]} of a snapshot (NULL: both empty). */
void rel_on_file_json(json_t *j, const char *key, const mm_item_t *it);
/* A question with everything that refers to it, as a JSON object:
 * {"id", "peer", "asker", "time", "time_ms", "text", "ambition", "state",
 *  "ahead", "answers", "thanks", "reports", "ask_back", "decline",
 *  "withdrawn"}, left open: the caller may add members, then closes it
 *  with json_obj_end. */
void rel_question_json(const cli_t *cli, json_t *j, const char *key,
                       const rel_t *r, const mm_question_t *q);

/* --- replies ------------------------------------------------------------------- */

/* A reply to one question: what core found and did, and the words for it. */
typedef struct {
    mm_engage_out_t      out;                   /* from the core verb */
    char                 hex[2 * 32 + 1];       /* the question's id */
    char                 name[CLI_NAME_SAFE];   /* the peer, printable */
    char                 said[3 * CLI_NAME_SAFE + 128];
    void                *own;                   /* the command's own state */
} rel_reply_t;

/* What one reply command is.  Its error texts take arguments, so they
 * live in the hooks, not here (-Wformat-nonliteral).  The rules are
 * core's (mm_question_may); the hooks only choose the words. */
typedef struct {
    mm_act_t    act;
    const char *verb;           /* "only the asker can VERB it" */
    const char *text;           /* what its TEXT is called; NULL: no TEXT */
    const char *usage[2];       /* usage error: no arguments, wrong count */
    /* Explain MM_ESTATE (c->out says the state): prints, returns the exit code. */
    int  (*refused)(cli_t *cli, rel_reply_t *c);
    /* Write c->said once the entry is written. */
    void (*build)(cli_t *cli, rel_reply_t *c);
} rel_reply_spec_t;

/* Run a reply command QID [TEXT...] as spec says: read TEXT, call the
 * core verb, explain a refusal or print said and the delivery hint (with
 * --json {"id", "ref", "peer", "type", "time", "time_ms"}).  refer: the
 * identity a decline refers the asker to, or NULL.  Exit code. */
int  rel_reply(cli_t *cli, int argc, char **argv, const rel_reply_spec_t *spec,
               const uint8_t *refer, void *own);
/* MM_EAMBIG for the question id prefix: "id prefix 'P' matches 2
 * questions: 1a2b3c4d5e6f (to grace, open), ...; give more digits", with
 * the candidates (o->cand) in the --json error object as "candidates":
 * [{"id", "peer", "direction": "to"|"from", "state"}].  CLI_EXIT_FAIL. */
int  rel_ambiguous(cli_t *cli, const char *prefix, const mm_engage_out_t *o);
/* "(delivered on the next 'mm sync grace')" on stdout (not with --json). */
void rel_hint(const cli_t *cli, const mm_peer_t *p);

#endif
