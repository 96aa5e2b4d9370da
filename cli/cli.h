/*  cli.h -- the command-line layer: the command table, the state of one run
 *  of mm, and the helpers every command shares.
 *
 *  Only cli/ prints or exits.  A command handler gets its positional
 *  arguments (options already parsed into cli_t by main), prints its result
 *  on stdout, reports a failure as ONE line on stderr of the form
 *  "mm CMD: what went wrong; what to do next", and returns an exit code.
 */
#ifndef MM_CLI_H
#define MM_CLI_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cli/json.h"
#include "core/engage.h"
#include "core/home.h"
#include "core/peer.h"
#include "net/session.h"

#define CLI_EXIT_OK    0        /* success */
#define CLI_EXIT_FAIL  1        /* the operation failed */
#define CLI_EXIT_USAGE 2        /* the command line is wrong */

/* Command-specific options: getopt_long returns the value, and the option's
 * argument (or "" for a flag) lands in cli->opt[value].  The common options
 * (--home, --json, --help) are handled by cli_parse itself. */
enum {
    CLI_OPT_NAME = 1,           /* init --name NAME */
    CLI_OPT_DEVICE,             /* init --device DEVNAME */
    CLI_OPT_RAW,                /* log --raw */
    CLI_OPT_LISTEN,             /* serve --listen ENDPOINT (repeatable) */
    CLI_OPT_NOTE,               /* invite --note TEXT */
    CLI_OPT_EXPIRES,            /* invite --expires DUR */
    CLI_OPT_ROLE,               /* invite --role mentor|mentee */
    CLI_OPT_ENDPOINT,           /* invite --endpoint ENDPOINT (repeatable) */
    CLI_OPT_TIMEOUT,            /* accept, sync --timeout SECONDS */
    CLI_OPT_NEAR,               /* ambition add --near TEXT */
    CLI_OPT_LONG,               /* ambition add --long TEXT */
    CLI_OPT_ALL,                /* ambition list --all */
    CLI_OPT_AMBITION,           /* ask --ambition ID */
    CLI_OPT_ASIS,               /* ask --as-is */
    CLI_OPT_OFFER,              /* thank --offer TEXT */
    CLI_OPT_REFER,              /* decline --refer PEER */
    CLI_OPT_UNTIL,              /* away --until YYYY-MM-DD */
    CLI_OPT_OFF,                /* away --off */
    CLI_OPT_PRIVATE,            /* thread, export --private */
    CLI_OPT_FORMAT,             /* export --format md|json */
    CLI_OPT_ABOUT,              /* note add --about PEER */
    CLI_OPT_MAX
};

/* Values kept of an option given more than once (--listen A --listen B). */
#define CLI_OPT_REPEAT_MAX 8

#define CLI_NEEDS_HOME 0x1u     /* main opens the home before run() */

typedef struct cli cli_t;

typedef struct {
    const char *name;           /* "init", or "note add" for a group member */
    int       (*run)(cli_t *cli, int argc, char **argv);
    unsigned    flags;          /* CLI_NEEDS_HOME */
    const struct option *opts;  /* command-specific options, or NULL */
    const char *summary;        /* one line, for the listing */
    const char *usage;          /* synopsis, for the long help */
    const char *help;           /* long help of the command's group */
} cli_cmd_t;

/* The command table, in listing order (main.c). */
extern const cli_cmd_t cli_commands[];
extern const size_t    cli_ncommands;

/* The parse step of a command line (main.c), after the options before the
 * command word: argv[0] is the command word.  Finds the command (a group's
 * member by the word after the group, options allowed between) and parses
 * its options into cli.  CLI_EXIT_OK with cli->cmd set, *argc and *argv
 * moved past a subcommand and *first the index of the first positional
 * argument; or CLI_EXIT_OK with cli->help set (cli->cmd may be NULL): show
 * the help of argv[0]'s group.  CLI_EXIT_USAGE, the error printed, when the
 * command or an option is wrong.  Opens no home and runs nothing. */
int cli_parse_command(cli_t *cli, int *argc, char ***argv, int *first);

/* State of one run of mm. */
struct cli {
    const cli_cmd_t *cmd;       /* NULL until the command is known */
    const char *name;           /* command words for messages: "note add" */
    const char *home_flag;      /* --home, or NULL */
    int         json;           /* --json */
    int         help;           /* -h / --help */
    int         version;        /* --version (before the command only) */
    int         color;          /* stdout is a TTY and NO_COLOR is unset */
    const char *opt[CLI_OPT_MAX];   /* the last value of each option */
    /* Every value of each option, in order: optn counts them all, optv
     * keeps the first CLI_OPT_REPEAT_MAX. */
    const char *optv[CLI_OPT_MAX][CLI_OPT_REPEAT_MAX];
    unsigned    optn[CLI_OPT_MAX];
    char        path[MM_PATH_MAX];  /* resolved home directory */
    mm_home_t  *home;           /* open when the command needs it */
};

/* Handlers (one file per command group). */
int cmd_init(cli_t *cli, int argc, char **argv);
int cmd_id(cli_t *cli, int argc, char **argv);
int cmd_note_add(cli_t *cli, int argc, char **argv);
int cmd_note_list(cli_t *cli, int argc, char **argv);
int cmd_note_show(cli_t *cli, int argc, char **argv);
int cmd_log(cli_t *cli, int argc, char **argv);
int cmd_verify(cli_t *cli, int argc, char **argv);
int cmd_serve(cli_t *cli, int argc, char **argv);
int cmd_invite(cli_t *cli, int argc, char **argv);
int cmd_accept(cli_t *cli, int argc, char **argv);
int cmd_peer_list(cli_t *cli, int argc, char **argv);
int cmd_peer_show(cli_t *cli, int argc, char **argv);
int cmd_peer_rename(cli_t *cli, int argc, char **argv);
int cmd_peer_set_addr(cli_t *cli, int argc, char **argv);
int cmd_peer_block(cli_t *cli, int argc, char **argv);
int cmd_peer_unblock(cli_t *cli, int argc, char **argv);
int cmd_peer_rm(cli_t *cli, int argc, char **argv);
int cmd_sync(cli_t *cli, int argc, char **argv);
int cmd_help(cli_t *cli, int argc, char **argv);
int cmd_version(cli_t *cli, int argc, char **argv);
int cmd_ambition_add(cli_t *cli, int argc, char **argv);
int cmd_ambition_list(cli_t *cli, int argc, char **argv);
int cmd_ambition_done(cli_t *cli, int argc, char **argv);
int cmd_ambition_drop(cli_t *cli, int argc, char **argv);
int cmd_ambition_share(cli_t *cli, int argc, char **argv);
int cmd_ask(cli_t *cli, int argc, char **argv);
int cmd_lint(cli_t *cli, int argc, char **argv);
int cmd_withdraw(cli_t *cli, int argc, char **argv);
int cmd_thank(cli_t *cli, int argc, char **argv);
int cmd_report(cli_t *cli, int argc, char **argv);
int cmd_inbox(cli_t *cli, int argc, char **argv);
int cmd_brief(cli_t *cli, int argc, char **argv);
int cmd_answer(cli_t *cli, int argc, char **argv);
int cmd_decline(cli_t *cli, int argc, char **argv);
int cmd_askback(cli_t *cli, int argc, char **argv);
int cmd_capacity(cli_t *cli, int argc, char **argv);
int cmd_away(cli_t *cli, int argc, char **argv);
int cmd_thread(cli_t *cli, int argc, char **argv);
int cmd_status(cli_t *cli, int argc, char **argv);
int cmd_export(cli_t *cli, int argc, char **argv);

/* Long help texts, next to the code they describe. */
extern const char cmd_init_help[], cmd_id_help[], cmd_note_help[],
                  cmd_log_help[], cmd_verify_help[], cmd_help_help[],
                  cmd_version_help[], cmd_serve_help[], cmd_invite_help[],
                  cmd_accept_help[], cmd_peer_help[], cmd_sync_help[],
                  cmd_ambition_help[], cmd_ask_help[], cmd_lint_help[],
                  cmd_withdraw_help[], cmd_thank_help[], cmd_report_help[],
                  cmd_inbox_help[], cmd_brief_help[], cmd_answer_help[],
                  cmd_decline_help[], cmd_askback_help[], cmd_capacity_help[],
                  cmd_away_help[], cmd_thread_help[], cmd_status_help[],
                  cmd_export_help[];

/* The name / identity / device block of mm id and mm init (cmd_id.c);
 * init adds the "Initialised" line first and drops the home line. */
int  cmd_id_print(cli_t *cli, int init);

/* A peer as a JSON object (cmd_peer.c): peer list / show, accept. */
void cmd_peer_json(json_t *j, const char *key, const mm_peer_t *p);
/* Find the peer named what (petname or "mmi..." prefix) in txn.  Exit
 * code; prints "no peer 'x'; see 'mm peer list'" and the like. */
int  cmd_peer_find(cli_t *cli, mm_txn_t *txn, const char *what, mm_peer_t *p);
/* cmd_peer_find in a read transaction of its own. */
int  cmd_peer_get(cli_t *cli, const char *what, mm_peer_t *p);
/* Every peer record, in store order.  Free v with free(). */
typedef struct {
    mm_peer_t *v;
    size_t     n, cap;
    int        mentees;         /* how many have the role mentee */
} cmd_peers_t;
/* Read them all into l.  Exit code; prints errors. */
int  cmd_peer_all(cli_t *cli, cmd_peers_t *l);
/* A petname or a peer's own name made fit for a terminal (cli_line). */
#define CLI_NAME_SAFE (4 * MM_PETNAME_MAX + 4)
void cmd_peer_name(char out[CLI_NAME_SAFE], const char *name);
/* The peer as an argument of a command suggested in a message: its petname,
 * quoted for the shell if need be, else the start of its identity code. */
void cmd_peer_arg(char out[CLI_NAME_SAFE], const mm_peer_t *p);
/* "mentor" or "mentee": the peer's role towards me. */
const char *cmd_peer_role(unsigned role);

/* The outcome of one sync session with one peer (cmd_sync.c), shared by
 * mm sync and mm accept. */
typedef struct {
    char            name[MM_PETNAME_MAX + 1];   /* the peer's petname */
    char            arg[CLI_NAME_SAFE];         /* cmd_peer_arg */
    int             rc;                         /* MM_OK or why it failed */
    mm_sync_stats_t stats;
    uint64_t        ms;                         /* wall time of the session */
    char            error[512];                 /* "" or why, one line */
} cmd_sync_result_t;

/* Sync once with p and fill *r (never prints).  r->rc is the result. */
int  cmd_sync_peer(cli_t *cli, const mm_peer_t *p, int timeout_ms,
                   cmd_sync_result_t *r);
/* Human output of r: the "grace: sent 3, received 5 entries (12.3 kB) in
 * 45 ms" line on stdout, or "mm CMD: grace: why; what to do" on stderr. */
void cmd_sync_print(const cli_t *cli, const cmd_sync_result_t *r);
/* r as a JSON object {"name", "ok", "sent", ..., "error"}. */
void cmd_sync_json(json_t *j, const char *key, const cmd_sync_result_t *r);
/* --timeout SECONDS (1..3600, default 10) in milliseconds into *ms.  Exit
 * code; prints errors. */
int  cmd_sync_timeout(cli_t *cli, int *ms);

/* The listing of all commands (mm help), and one group's long help. */
void cli_print_listing(FILE *f);
/* 0, or -1 if no command belongs to group. */
int  cli_print_help(FILE *f, const char *group);

/* --- util.c: messages ---------------------------------------------------- */

/* "mm CMD: " + message + newline on stderr. */
void cli_error(const cli_t *cli, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* cli_error, then CLI_EXIT_FAIL. */
int  cli_fail(const cli_t *cli, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* cli_error with "; see 'mm help GROUP'" appended, then CLI_EXIT_USAGE. */
int  cli_usage(const cli_t *cli, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* "mm CMD: WHAT: <mm_strerror(rc)>; <what to do>", then CLI_EXIT_FAIL. */
int  cli_fail_rc(const cli_t *cli, int rc, const char *what);
/* What to do next after an error code, for the second half of a message. */
const char *cli_hint(int rc);

/* The group of a command name ("note add" -> "note") into out. */
void cli_group(const char *name, char *out, size_t cap);

/* --- util.c: options and the home ------------------------------------------ */

/* Parse argv (argv[0] is the command word) with the common options and
 * cli->cmd's own (if cli->cmd is set).  On success *first is the index of
 * the first positional argument (getopt_long moves them to the end) and
 * CLI_EXIT_OK is returned; on a bad option the error is printed and
 * CLI_EXIT_USAGE returned.  stop: end at the first positional argument
 * (the subcommand of a group) instead of reading past it. */
int cli_parse(cli_t *cli, int argc, char **argv, int stop, int *first);

/* Resolve the home directory into cli->path.  Exit code; prints errors. */
int cli_home_path(cli_t *cli);
/* Resolve and open the home into cli->home.  Exit code; prints errors,
 * naming the key file or the missing home. */
int cli_home_open(cli_t *cli);

/* --- util.c: text and time ------------------------------------------------- */

#define CLI_TIME_MAX 48

/* "2026-11-27T08:40:00.123Z" (UTC). */
void cli_time_iso(char out[CLI_TIME_MAX], uint64_t ms);
/* "2026-11-27 09:40:00 +0100" (local time). */
void cli_time_local(char out[CLI_TIME_MAX], uint64_t ms);
/* "just now", "5 minutes ago", ... or beyond 30 days the local date. */
void cli_time_rel(char out[CLI_TIME_MAX], uint64_t ms, uint64_t now);

/* Length of the well-formed UTF-8 sequence at s[0..n), or 0 if it is not
 * one (overlong forms, surrogates and code points past U+10FFFF are not). */
size_t cli_utf8_len(const unsigned char *s, size_t n);

/* One line of s[0..n) fit for a terminal: control characters replaced,
 * cut after maxchars characters (UTF-8 safe) with "…" appended.  Returns a
 * malloc'd string or NULL when out of memory. */
char *cli_line(const char *s, size_t n, size_t maxchars);

/* Display width of s in characters (UTF-8 code points). */
size_t cli_width(const char *s);

/* Colour escapes, or "" when colour is off. */
#define CLI_DIM    "\033[2m"
#define CLI_YELLOW "\033[33m"
#define CLI_RED    "\033[31m"
#define CLI_RESET  "\033[0m"
const char *cli_c(const cli_t *cli, const char *esc);

/* argv joined by single spaces into a malloc'd string with a NUL after it.
 * 0; 1 if longer than max bytes; -1 when out of memory. */
int cli_join_words(int argc, char **argv, size_t max, char **out,
                   size_t *len);

/* Read all of stdin, at most max bytes: buffer is malloc'd with a NUL after
 * it.  0; -1 with errno on a read error or out of memory; 1 if there is
 * more than max. */
int cli_read_stdin(char **buf, size_t *len, size_t max);

/* --- cmd_engage.c: what the engagement commands share ---------------------- */

#define CLI_SHORT_ID 12         /* hex digits of an id shown to people */
#define CLI_ID_MIN   4          /* hex digits of an id prefix people type */

/* One relationship: the peer and the entries of our scope, decrypted, with
 * the questions derived from them. */
typedef struct {
    mm_peer_t      peer;
    mm_items_t     items;       /* in (time, id) order */
    mm_question_t *qs;          /* in time order, pointing into items */
    size_t         nq;
} cmd_rel_t;

/* Every relationship of this home, in identity order. */
typedef struct {
    cmd_rel_t *v;
    size_t     n;
} cmd_rels_t;

/* Load the relationship with p (no entries yet is not an error).  Exit
 * code; prints errors.  Free with cmd_engage_rel_free, also on failure. */
int  cmd_engage_rel_load(cli_t *cli, const mm_peer_t *p, cmd_rel_t *r);
/* Find the peer named what (cmd_peer_find) and load the relationship. */
int  cmd_engage_rel(cli_t *cli, const char *what, cmd_rel_t *r);
void cmd_engage_rel_free(cmd_rel_t *r);
/* Load every relationship.  Exit code; free with cmd_engage_all_free. */
int  cmd_engage_all(cli_t *cli, cmd_rels_t *all);
void cmd_engage_all_free(cmd_rels_t *all);
/* 1 if I have a mentee; then run mm_budget_settle (the mentor's budget)
 * before a view of the inbox.  Exit code; prints errors. */
int  cmd_engage_settle(cli_t *cli);

/* arg as a lower-case id prefix of CLI_ID_MIN..64 hex digits into out.
 * Exit code (usage error naming what: "question", "ambition"). */
int  cmd_engage_prefix(cli_t *cli, const char *arg, const char *what,
                       char out[2 * 32 + 1]);
/* The TEXT of a command from its words (joined by single spaces) or from
 * stdin ("-"): 1..MM_TEXT_MAX bytes of UTF-8, no NUL, not blank.  *text
 * is malloc'd; free it with cmd_engage_text_free.  what names it in
 * messages ("question").  Exit code; prints errors. */
int  cmd_engage_text(cli_t *cli, int argc, char **argv, const char *what,
                     char **text, size_t *len);
void cmd_engage_text_free(char *text, size_t len);
/* The same checks on an option's value (--offer TEXT). */
int  cmd_engage_check(cli_t *cli, const char *what, const char *s, size_t len);

/* The time an entry of scope was written with (read back after
 * mm_engage_append).  Exit code; prints errors. */
int  cmd_engage_time(cli_t *cli, const uint8_t scope[32], const uint8_t id[32],
                     uint64_t *ms);
/* A reply to one question (withdraw, thank, report, answer, decline,
 * ask-back): what core found and did, and the words for it. */
typedef struct {
    mm_engage_out_t      out;                   /* from the core verb */
    char                 hex[2 * 32 + 1];       /* the question's id */
    char                 name[CLI_NAME_SAFE];   /* the peer, printable */
    char                 said[3 * CLI_NAME_SAFE + 128];
    void                *own;                   /* the command's own state */
} cmd_reply_t;

/* What one reply command is.  Its error texts take arguments, so they
 * live in the hooks, not here (-Wformat-nonliteral).  The rules are
 * core's (mm_question_may); the hooks only choose the words. */
typedef struct {
    mm_act_t    act;
    const char *verb;           /* "only the asker can VERB it" */
    const char *text;           /* what its TEXT is called; NULL: no TEXT */
    const char *usage[2];       /* usage error: no arguments, wrong count */
    /* Explain MM_ESTATE (c->out says the state): prints, returns the exit code. */
    int  (*refused)(cli_t *cli, cmd_reply_t *c);
    /* Write c->said once the entry is written. */
    void (*build)(cli_t *cli, cmd_reply_t *c);
} cmd_reply_spec_t;

/* Run a reply command QID [TEXT...] as spec says: read TEXT, call the
 * core verb, explain a refusal or print said and the delivery hint (with
 * --json {"id", "ref", "peer", "type", "time", "time_ms"}).  refer: the
 * identity a decline refers the asker to, or NULL.  Exit code. */
int  cmd_engage_reply_to(cli_t *cli, int argc, char **argv,
                         const cmd_reply_spec_t *spec, const uint8_t *refer,
                         void *own);
/* "(delivered on the next 'mm sync grace')" on stdout (not with --json). */
void cmd_engage_hint(const cli_t *cli, const mm_peer_t *p);
/* 1 if it is a private note about identity (mm note add --about). */
int  cmd_engage_note_about(const mm_item_t *it, const uint8_t identity[32]);
/* The local date of ms: "2026-12-10". */
void cmd_engage_date(char out[CLI_TIME_MAX], uint64_t ms);
/* 1 if ident is my identity. */
int  cmd_engage_me(const cli_t *cli, const uint8_t ident[32]);

/* The string field key of it (pointer into the body and length), or ""
 * when absent or not a string. */
const char *cmd_engage_field(const mm_item_t *it, const char *key, size_t *n);
/* Print s[0..n) line by line, each after indent and made safe for the
 * terminal (cli_line); blank lines kept. */
void cmd_engage_lines(const char *indent, const char *s, size_t n);
/* The first line of s[0..n) (after leading blanks) cut at maxchars, made
 * safe: malloc'd, NULL when out of memory. */
char *cmd_engage_first(const char *s, size_t n, size_t maxchars);

/* "time" (ISO 8601 UTC) and "time_ms" members. */
void cmd_engage_json_time(json_t *j, uint64_t ms);
/* Every field of it's body but "t" as members of the open object (str
 * as strings, uint as numbers, bin as hex, anything else as JSON too);
 * keys in skip (NULL-terminated, may be NULL) are left out. */
void cmd_engage_json_body(json_t *j, const mm_item_t *it,
                          const char *const *skip);
/* The latest "ambitions" snapshot that who wrote in r, or NULL. */
const mm_item_t *cmd_engage_on_file(const cmd_rel_t *r, const uint8_t who[32]);
/* {"near": [...], "long": [...]} of a snapshot (NULL: both empty). */
void cmd_engage_on_file_json(json_t *j, const char *key, const mm_item_t *it);
/* A question with everything that refers to it, as a JSON object:
 * {"id", "peer", "asker", "time", "time_ms", "text", "ambition", "state",
 *  "ahead", "answers", "thanks", "reports", "ask_back", "decline",
 *  "withdrawn"}, left open: the caller may add members, then closes it
 *  with json_obj_end. */
void cmd_engage_question_json(const cli_t *cli, json_t *j, const char *key,
                              const cmd_rel_t *r, const mm_question_t *q);

/* --- cmd_ambition.c: my ambitions, for ask and status too ------------------ */

typedef struct {
    mm_items_t     items;       /* the self scope */
    mm_ambition_t *v;           /* every ambition, oldest first */
    size_t         n;
} cmd_ambitions_t;

/* Exit code; prints errors.  Free with cmd_ambitions_free, also on failure. */
int  cmd_ambitions_load(cli_t *cli, cmd_ambitions_t *a);
void cmd_ambitions_free(cmd_ambitions_t *a);
/* The ambition whose id starts with arg.  Exit code; prints errors. */
int  cmd_ambition_find(cli_t *cli, const cmd_ambitions_t *a, const char *arg,
                       const mm_ambition_t **out);
/* "active", "done" or "dropped". */
const char *cmd_ambition_state(const mm_ambition_t *a);
/* {"id", "kind", "text", "time", "time_ms", "state"}, left open. */
void cmd_ambition_json(json_t *j, const char *key, const mm_ambition_t *a);

#endif
