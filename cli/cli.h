/*  cli.h -- the command-line layer: the command table and the state of one
 *  run of mm.
 *
 *  Only cli/ prints or exits.  A command handler gets its positional
 *  arguments (options already parsed into cli_t by main), prints its result
 *  on stdout, reports a failure as ONE line on stderr of the form
 *  "mm CMD: what went wrong; what to do next", and returns an exit code.
 *
 *  What the handlers share lives beside it, one header per concept:
 *  util.h (messages, options, text and time for the terminal), rel.h (a
 *  relationship loaded for a view, entries as JSON, the reply commands),
 *  cmd_peer.h, cmd_sync.h and cmd_ambition.h (what those groups lend the
 *  others), json.h (the JSON writer), config.h (HOME/config), edit.h (a
 *  TEXT written in the editor), news.h (engagement events in words).
 */
#ifndef MM_CLI_H
#define MM_CLI_H

#include <getopt.h>
#include <stddef.h>
#include <stdio.h>

#include "core/home.h"

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
    CLI_OPT_ALL,                /* ambition list --all, thread --all */
    CLI_OPT_AMBITION,           /* ask --ambition ID */
    CLI_OPT_ASIS,               /* ask --as-is */
    CLI_OPT_OFFER,              /* thank --offer TEXT */
    CLI_OPT_REFER,              /* decline --refer PEER */
    CLI_OPT_UNTIL,              /* away --until YYYY-MM-DD */
    CLI_OPT_OFF,                /* away --off */
    CLI_OPT_PRIVATE,            /* thread, export --private */
    CLI_OPT_FORMAT,             /* export --format md|json */
    CLI_OPT_ABOUT,              /* note add --about PEER */
    CLI_OPT_MAN,                /* help --man */
    CLI_OPT_JOIN,               /* init --join CODE */
    CLI_OPT_YES,                /* device pair --yes */
    CLI_OPT_QR,                 /* device pair --qr */
    CLI_OPT_OWN,                /* sync --device DEV (one's own device) */
    CLI_OPT_PASSFILE,           /* backup, restore --passphrase-file FILE */
    CLI_OPT_FORCE,              /* backup --force */
    CLI_OPT_KEEPOLD,            /* restore --keep-old */
    CLI_OPT_PURGE,              /* peer rm --purge */
    CLI_OPT_DISCOVER,           /* serve, service install --discover */
    CLI_OPT_SYNC_EVERY,         /* serve, service install --sync-every DUR */
    CLI_OPT_QUOTA,              /* mailbox init --quota SIZE */
    CLI_OPT_REINDEX,            /* verify --reindex */
    CLI_OPT_QUIET,              /* sync --quiet */
    CLI_OPT_VERBOSE,            /* sync --verbose */
    CLI_OPT_MAX
};

/* Values kept of an option given more than once (--listen A --listen B). */
#define CLI_OPT_REPEAT_MAX 8

#define CLI_NEEDS_HOME 0x1u     /* main opens the home before run() */
#define CLI_HIDDEN     0x2u     /* for scripts: not in the listing, manual
                                   or completions (mm __complete) */
#define CLI_MAILBOX_OK 0x4u     /* also runs on a mailbox's home (mailbox.h);
                                   any other command there is MM_EROLE */
#define CLI_NET_SOON   0x8u     /* connects right away: main starts loading
                                   libzmq (mm_net_warm) before opening the home */

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
int cmd_device_list(cli_t *cli, int argc, char **argv);
int cmd_device_rename(cli_t *cli, int argc, char **argv);
int cmd_device_revoke(cli_t *cli, int argc, char **argv);
int cmd_device_settler(cli_t *cli, int argc, char **argv);
int cmd_device_reset(cli_t *cli, int argc, char **argv);
int cmd_sync(cli_t *cli, int argc, char **argv);
int cmd_mailbox_init(cli_t *cli, int argc, char **argv);
int cmd_mailbox_code(cli_t *cli, int argc, char **argv);
int cmd_mailbox_link(cli_t *cli, int argc, char **argv);
int cmd_mailbox_list(cli_t *cli, int argc, char **argv);
int cmd_mailbox_quota(cli_t *cli, int argc, char **argv);
int cmd_mailbox_unlink(cli_t *cli, int argc, char **argv);
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
int cmd_backup(cli_t *cli, int argc, char **argv);
int cmd_restore(cli_t *cli, int argc, char **argv);
int cmd_completion(cli_t *cli, int argc, char **argv);
int cmd_complete(cli_t *cli, int argc, char **argv);
int cmd_device_pair(cli_t *cli, int argc, char **argv);
int cmd_config_get(cli_t *cli, int argc, char **argv);
int cmd_config_set(cli_t *cli, int argc, char **argv);
int cmd_config_unset(cli_t *cli, int argc, char **argv);
int cmd_config_list(cli_t *cli, int argc, char **argv);
int cmd_service_install(cli_t *cli, int argc, char **argv);
int cmd_service_uninstall(cli_t *cli, int argc, char **argv);
/* mm init --join CODE (cmd_pair.c): the home of a new device of an
 * existing identity; devname may be NULL (the host name). */
int cmd_init_join(cli_t *cli, const char *code, const char *devname);

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
                  cmd_export_help[], cmd_completion_help[],
                  cmd_backup_help[], cmd_restore_help[],
                  cmd_complete_help[], cmd_device_help[], cmd_device_pair_help[],
                  cmd_config_help[], cmd_service_help[], cmd_mailbox_help[];

/* The name / identity / device block of mm id and mm init (cmd_id.c);
 * init adds the "Initialised" line first and drops the home line. */
int  cmd_id_print(cli_t *cli, int init);

/* The listing of all commands (mm help), and one group's long help
 * (cmd_help.c).  cli_print_help: 0, or -1 if no command belongs to group. */
void cli_print_listing(FILE *f);
int  cli_print_help(FILE *f, const char *group);

/* Texts the listing, the help and the manual share (cmd_help.c): the
 * synopsis of mm, what it is, and the common options (each ends in a
 * newline). */
extern const char cli_synopsis[], cli_about[], cli_common_options[];

/* mm(1) as roff, from the table and the help texts (man.c). */
void cli_print_man(FILE *f);

#endif
