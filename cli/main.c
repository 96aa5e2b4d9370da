/*  main.c -- mm: the command table and the dispatcher.
 *
 *  mm [--home DIR] [--json] COMMAND [SUBCOMMAND] [ARGS...]
 *
 *  The table below is the only list of commands: dispatch, the "needs a
 *  home" precondition, `mm help` and the usage listing all come from it.
 *  A command word with a space ("note add") is a member of a group; the
 *  group's members share one long help (`mm help note`).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/config.h"
#include "cli/suggest.h"
#include "cli/util.h"
#include "crypto/error.h"
#include "crypto/sign.h"
#include "net/net.h"

static const struct option init_opts[] = {
    { "name",    required_argument, NULL, CLI_OPT_NAME },
    { "device",  required_argument, NULL, CLI_OPT_DEVICE },
    { "join",    required_argument, NULL, CLI_OPT_JOIN },
    { "timeout", required_argument, NULL, CLI_OPT_TIMEOUT },
    { 0 },
};

static const struct option device_pair_opts[] = {
    { "name",    required_argument, NULL, CLI_OPT_NAME },
    { "expires", required_argument, NULL, CLI_OPT_EXPIRES },
    { "yes",     no_argument,       NULL, CLI_OPT_YES },
    { "listen",  required_argument, NULL, CLI_OPT_LISTEN },
    { "qr",      no_argument,       NULL, CLI_OPT_QR },
    { 0 },
};

static const struct option peer_rm_opts[] = {
    { "purge", no_argument, NULL, CLI_OPT_PURGE },
    { "yes",   no_argument, NULL, CLI_OPT_YES },
    { 0 },
};

static const struct option log_opts[] = {
    { "raw", no_argument, NULL, CLI_OPT_RAW },
    { 0 },
};

static const struct option serve_opts[] = {
    { "listen",     required_argument, NULL, CLI_OPT_LISTEN },
    { "sync-every", required_argument, NULL, CLI_OPT_SYNC_EVERY },
    { "discover",   no_argument,       NULL, CLI_OPT_DISCOVER },
    { 0 },
};

static const struct option service_install_opts[] = {
    { "sync-every", required_argument, NULL, CLI_OPT_SYNC_EVERY },
    { "discover",   no_argument,       NULL, CLI_OPT_DISCOVER },
    { 0 },
};

static const struct option invite_opts[] = {
    { "note",     required_argument, NULL, CLI_OPT_NOTE },
    { "expires",  required_argument, NULL, CLI_OPT_EXPIRES },
    { "role",     required_argument, NULL, CLI_OPT_ROLE },
    { "endpoint", required_argument, NULL, CLI_OPT_ENDPOINT },
    { 0 },
};

static const struct option accept_opts[] = {
    { "name",    required_argument, NULL, CLI_OPT_NAME },
    { "timeout", required_argument, NULL, CLI_OPT_TIMEOUT },
    { 0 },
};

static const struct option sync_opts[] = {
    { "timeout",  required_argument, NULL, CLI_OPT_TIMEOUT },
    { "device",   required_argument, NULL, CLI_OPT_OWN },
    { "endpoint", required_argument, NULL, CLI_OPT_ENDPOINT },
    { "quiet",    no_argument,       NULL, CLI_OPT_QUIET },
    { "verbose",  no_argument,       NULL, CLI_OPT_VERBOSE },
    { 0 },
};

static const struct option note_add_opts[] = {
    { "about", required_argument, NULL, CLI_OPT_ABOUT },
    { 0 },
};

static const struct option ambition_add_opts[] = {
    { "near", required_argument, NULL, CLI_OPT_NEAR },
    { "long", required_argument, NULL, CLI_OPT_LONG },
    { 0 },
};

static const struct option ambition_list_opts[] = {
    { "all", no_argument, NULL, CLI_OPT_ALL },
    { 0 },
};

static const struct option ask_opts[] = {
    { "ambition", required_argument, NULL, CLI_OPT_AMBITION },
    { "as-is",    no_argument,       NULL, CLI_OPT_ASIS },
    { 0 },
};

static const struct option thank_opts[] = {
    { "offer", required_argument, NULL, CLI_OPT_OFFER },
    { 0 },
};

static const struct option decline_opts[] = {
    { "refer", required_argument, NULL, CLI_OPT_REFER },
    { 0 },
};

static const struct option away_opts[] = {
    { "until", required_argument, NULL, CLI_OPT_UNTIL },
    { "off",   no_argument,       NULL, CLI_OPT_OFF },
    { 0 },
};

static const struct option thread_opts[] = {
    { "private", no_argument, NULL, CLI_OPT_PRIVATE },
    { "all",     no_argument, NULL, CLI_OPT_ALL },
    { 0 },
};

static const struct option verify_opts[] = {
    { "reindex", no_argument, NULL, CLI_OPT_REINDEX },
    { 0 },
};

static const struct option export_opts[] = {
    { "format",  required_argument, NULL, CLI_OPT_FORMAT },
    { "private", no_argument,       NULL, CLI_OPT_PRIVATE },
    { 0 },
};

static const struct option backup_opts[] = {
    { "passphrase-file", required_argument, NULL, CLI_OPT_PASSFILE },
    { "force",           no_argument,       NULL, CLI_OPT_FORCE },
    { 0 },
};

static const struct option restore_opts[] = {
    { "passphrase-file", required_argument, NULL, CLI_OPT_PASSFILE },
    { "device",          required_argument, NULL, CLI_OPT_DEVICE },
    { "keep-old",        no_argument,       NULL, CLI_OPT_KEEPOLD },
    { 0 },
};

static const struct option mailbox_init_opts[] = {
    { "listen", required_argument, NULL, CLI_OPT_LISTEN },
    { "quota",  required_argument, NULL, CLI_OPT_QUOTA },
    { 0 },
};

static const struct option mailbox_code_opts[] = {
    { "expires",  required_argument, NULL, CLI_OPT_EXPIRES },
    { "endpoint", required_argument, NULL, CLI_OPT_ENDPOINT },
    { "qr",       no_argument,       NULL, CLI_OPT_QR },
    { 0 },
};

static const struct option mailbox_link_opts[] = {
    { "name",    required_argument, NULL, CLI_OPT_NAME },
    { "timeout", required_argument, NULL, CLI_OPT_TIMEOUT },
    { 0 },
};

static const struct option mailbox_unlink_opts[] = {
    { "timeout", required_argument, NULL, CLI_OPT_TIMEOUT },
    { 0 },
};

static const struct option help_opts[] = {
    { "man", no_argument, NULL, CLI_OPT_MAN },
    { 0 },
};

const cli_cmd_t cli_commands[] = {
    { "init", cmd_init, 0, init_opts,
      "create a new home: identity, device key and store",
      "mm init --name NAME [--device DEVNAME] [--json]\n"
      "mm init --join CODE [--device DEVNAME] [--timeout SECONDS] [--json]",
      cmd_init_help },
    { "id", cmd_id, CLI_NEEDS_HOME, NULL,
      "show your name, identity and device codes",
      "mm id [--json]", cmd_id_help },
    { "note add", cmd_note_add, CLI_NEEDS_HOME, note_add_opts,
      "write a private note",
      "mm note add [--about PEER] [--json] TEXT...\n"
      "mm note add [--about PEER] [--json] -", cmd_note_help },
    { "note list", cmd_note_list, CLI_NEEDS_HOME, NULL,
      "list your notes, newest first",
      "mm note list [--json]", cmd_note_help },
    { "note show", cmd_note_show, CLI_NEEDS_HOME, NULL,
      "show one note in full",
      "mm note show [--json] ID", cmd_note_help },
    { "invite", cmd_invite, CLI_NEEDS_HOME, invite_opts,
      "make a one-time code that lets someone become your peer",
      "mm invite [--note TEXT] [--expires DUR] [--role mentor|mentee]\n"
      "          [--endpoint ENDPOINT]... [--json]", cmd_invite_help },
    { "accept", cmd_accept, CLI_NEEDS_HOME, accept_opts,
      "accept an invite code and sync with the new peer",
      "mm accept CODE --name PETNAME [--timeout SECONDS] [--json]\n"
      "mm accept - --name PETNAME [--timeout SECONDS] [--json]",
      cmd_accept_help },
    { "serve", cmd_serve, CLI_NEEDS_HOME | CLI_MAILBOX_OK, serve_opts,
      "let your peers and devices sync with you (foreground)",
      "mm serve [--listen ENDPOINT]... [--sync-every DUR] [--discover] [--json]",
      cmd_serve_help },
    { "service install", cmd_service_install, CLI_NEEDS_HOME, service_install_opts,
      "run mm serve as a systemd user service (writes the unit)",
      "mm service install [--home DIR] [--sync-every DUR] [--discover] [--json]",
      cmd_service_help },
    { "service uninstall", cmd_service_uninstall, 0, NULL,
      "remove the systemd user unit of mm service install",
      "mm service uninstall [--home DIR] [--json]", cmd_service_help },
    { "sync", cmd_sync, CLI_NEEDS_HOME | CLI_NET_SOON, sync_opts,
      "exchange entries with your peers now",
      "mm sync [PEER]... [--timeout SECONDS] [--quiet | --verbose] [--json]\n"
      "mm sync --device DEVICE [--endpoint ENDPOINT]... [--timeout SECONDS] [--json]",
      cmd_sync_help },
    { "mailbox init", cmd_mailbox_init, 0, mailbox_init_opts,
      "make this machine a blind mailbox for someone's relationships",
      "mm mailbox init --listen ENDPOINT... [--quota SIZE] [--home DIR] [--json]",
      cmd_mailbox_help },
    { "mailbox code", cmd_mailbox_code, CLI_NEEDS_HOME | CLI_MAILBOX_OK, mailbox_code_opts,
      "print a one-time code that links this mailbox to a person",
      "mm mailbox code [--expires DUR] [--endpoint ENDPOINT]... [--qr] [--json]",
      cmd_mailbox_help },
    { "mailbox link", cmd_mailbox_link, CLI_NEEDS_HOME, mailbox_link_opts,
      "make a mailbox yours (on the identity device)",
      "mm mailbox link CODE [--name NAME] [--timeout SECONDS] [--json]", cmd_mailbox_help },
    { "mailbox list", cmd_mailbox_list, CLI_NEEDS_HOME | CLI_MAILBOX_OK, NULL,
      "list your mailboxes (on a mailbox: whom it serves)",
      "mm mailbox list [--json]", cmd_mailbox_help },
    { "mailbox quota", cmd_mailbox_quota, CLI_NEEDS_HOME | CLI_MAILBOX_OK, NULL,
      "set how much a mailbox stores per person (on the mailbox)",
      "mm mailbox quota [--json] SIZE", cmd_mailbox_help },
    { "mailbox unlink", cmd_mailbox_unlink, CLI_NEEDS_HOME, mailbox_unlink_opts,
      "stop using a mailbox, and tell your peers (on the identity device)",
      "mm mailbox unlink [--timeout SECONDS] [--json] ID", cmd_mailbox_help },
    { "device pair", cmd_device_pair, CLI_NEEDS_HOME, device_pair_opts,
      "let another device of yours join your identity",
      "mm device pair [--name DEVNAME] [--expires DUR] [--yes] [--listen ENDPOINT]...\n"
      "               [--qr] [--json]", cmd_device_pair_help },
    { "peer list", cmd_peer_list, CLI_NEEDS_HOME, NULL,
      "list your peers",
      "mm peer list [--json]", cmd_peer_help },
    { "peer show", cmd_peer_show, CLI_NEEDS_HOME, NULL,
      "show everything about one peer",
      "mm peer show [--json] PEER", cmd_peer_help },
    { "peer rename", cmd_peer_rename, CLI_NEEDS_HOME, NULL,
      "change the name you call a peer",
      "mm peer rename [--json] PEER NEWNAME", cmd_peer_help },
    { "peer set-addr", cmd_peer_set_addr, CLI_NEEDS_HOME, NULL,
      "replace the addresses of a peer's mm serve",
      "mm peer set-addr [--json] PEER ENDPOINT...", cmd_peer_help },
    { "peer block", cmd_peer_block, CLI_NEEDS_HOME, NULL,
      "stop syncing with a peer",
      "mm peer block [--json] PEER", cmd_peer_help },
    { "peer unblock", cmd_peer_unblock, CLI_NEEDS_HOME, NULL,
      "sync with a blocked peer again",
      "mm peer unblock [--json] PEER", cmd_peer_help },
    { "peer rm", cmd_peer_rm, CLI_NEEDS_HOME, peer_rm_opts,
      "forget a peer (entries kept; --purge deletes them too)",
      "mm peer rm [--purge [--yes]] [--json] PEER", cmd_peer_help },
    { "device list", cmd_device_list, CLI_NEEDS_HOME, NULL,
      "list the devices of your identity",
      "mm device list [--json]", cmd_device_help },
    { "device rename", cmd_device_rename, CLI_NEEDS_HOME, NULL,
      "give one of your devices a new name (on the identity device)",
      "mm device rename [--json] ID NAME", cmd_device_help },
    { "device revoke", cmd_device_revoke, CLI_NEEDS_HOME, NULL,
      "revoke a lost device (on the identity device)",
      "mm device revoke [--json] ID", cmd_device_help },
    { "device reset", cmd_device_reset, CLI_NEEDS_HOME, NULL,
      "give this device a new key and revoke the old one (a copied home)",
      "mm device reset [--json]", cmd_device_help },
    { "device settler", cmd_device_settler, CLI_NEEDS_HOME, NULL,
      "choose the device that settles your budget (on the identity device)",
      "mm device settler [--json] ID", cmd_device_help },
    { "ambition add", cmd_ambition_add, CLI_NEEDS_HOME, ambition_add_opts,
      "write down a near-term or long-term ambition",
      "mm ambition add --near TEXT [--json]\n"
      "mm ambition add --long TEXT [--json]", cmd_ambition_help },
    { "ambition list", cmd_ambition_list, CLI_NEEDS_HOME, ambition_list_opts,
      "list your ambitions, oldest first",
      "mm ambition list [--all] [--json]", cmd_ambition_help },
    { "ambition done", cmd_ambition_done, CLI_NEEDS_HOME, NULL,
      "mark an ambition reached",
      "mm ambition done [--json] ID", cmd_ambition_help },
    { "ambition drop", cmd_ambition_drop, CLI_NEEDS_HOME, NULL,
      "give up an ambition (its history is kept)",
      "mm ambition drop [--json] ID", cmd_ambition_help },
    { "ambition share", cmd_ambition_share, CLI_NEEDS_HOME, NULL,
      "send your mentor your current ambitions",
      "mm ambition share [--json] PEER", cmd_ambition_help },
    { "ask", cmd_ask, CLI_NEEDS_HOME, ask_opts,
      "ask your mentor one power question",
      "mm ask PEER TEXT... [--ambition ID] [--as-is] [--json]\n"
      "mm ask PEER - [--ambition ID] [--as-is] [--json]", cmd_ask_help },
    { "lint", cmd_lint, 0, NULL,
      "check a question against the power-question rules",
      "mm lint [--json] TEXT...\n"
      "mm lint [--json] -", cmd_lint_help },
    { "withdraw", cmd_withdraw, CLI_NEEDS_HOME, NULL,
      "take back a question that has no answer yet",
      "mm withdraw [--json] QID", cmd_withdraw_help },
    { "thank", cmd_thank, CLI_NEEDS_HOME, thank_opts,
      "thank your mentor for an answer (and offer help back)",
      "mm thank QID TEXT... [--offer TEXT] [--json]", cmd_thank_help },
    { "report", cmd_report, CLI_NEEDS_HOME, NULL,
      "tell your mentor what came of their advice",
      "mm report [--json] QID TEXT...", cmd_report_help },
    { "inbox", cmd_inbox, CLI_NEEDS_HOME, NULL,
      "the questions your mentees wait on you to answer",
      "mm inbox [--json]", cmd_inbox_help },
    { "brief", cmd_brief, CLI_NEEDS_HOME, NULL,
      "one peer's ambitions and your history on one screen",
      "mm brief [--json] PEER", cmd_brief_help },
    { "answer", cmd_answer, CLI_NEEDS_HOME, NULL,
      "answer a mentee's question (once, and one clarification)",
      "mm answer [--json] QID TEXT...", cmd_answer_help },
    { "decline", cmd_decline, CLI_NEEDS_HOME, decline_opts,
      "say a graceful no, perhaps referring to someone else",
      "mm decline QID TEXT... [--refer PEER] [--json]", cmd_decline_help },
    { "ask-back", cmd_askback, CLI_NEEDS_HOME, NULL,
      "ask a power question back to a mentee",
      "mm ask-back [--json] QID TEXT...", cmd_askback_help },
    { "capacity", cmd_capacity, CLI_NEEDS_HOME, NULL,
      "set or show your budget of open engagements",
      "mm capacity [--json] [N/PERIOD | off]", cmd_capacity_help },
    { "away", cmd_away, CLI_NEEDS_HOME, away_opts,
      "tell your mentees you are away, or back",
      "mm away --until YYYY-MM-DD [--json]\n"
      "mm away --off [--json]", cmd_away_help },
    { "thread", cmd_thread, CLI_NEEDS_HOME, thread_opts,
      "a relationship as a conversation, in time order",
      "mm thread PEER [--all] [--private] [--json]", cmd_thread_help },
    { "status", cmd_status, CLI_NEEDS_HOME, NULL,
      "what waits on you and on others, on one screen",
      "mm status [--json]", cmd_status_help },
    { "export", cmd_export, CLI_NEEDS_HOME, export_opts,
      "everything you can read, decrypted, as Markdown or JSON",
      "mm export [--format md|json] [PEER] [--private] [--json]",
      cmd_export_help },
    { "backup", cmd_backup, CLI_NEEDS_HOME, backup_opts,
      "back up your home into one encrypted file",
      "mm backup FILE [--passphrase-file PFILE] [--force] [--json]", cmd_backup_help },
    { "restore", cmd_restore, 0, restore_opts,
      "make a new device of yours from a backup",
      "mm restore FILE [--home DIR] [--device DEVNAME] [--keep-old]\n"
      "           [--passphrase-file PFILE] [--json]", cmd_restore_help },
    { "log", cmd_log, CLI_NEEDS_HOME, log_opts,
      "list every entry in the store, feed by feed",
      "mm log [--raw] [--json]", cmd_log_help },
    { "verify", cmd_verify, CLI_NEEDS_HOME | CLI_MAILBOX_OK, verify_opts,
      "re-check every signature, hash chain and encoding",
      "mm verify [--reindex] [--json]", cmd_verify_help },
    { "config get", cmd_config_get, CLI_NEEDS_HOME, NULL,
      "print the value of a key of your config file",
      "mm config get [--json] listen|sync-timeout|color|editor", cmd_config_help },
    { "config set", cmd_config_set, CLI_NEEDS_HOME, NULL,
      "set a key of your config file (listen, sync-timeout, color, editor)",
      "mm config set [--json] listen|sync-timeout|color|editor VALUE...", cmd_config_help },
    { "config unset", cmd_config_unset, CLI_NEEDS_HOME, NULL,
      "remove a key from your config file",
      "mm config unset [--json] listen|sync-timeout|color|editor", cmd_config_help },
    { "config list", cmd_config_list, CLI_NEEDS_HOME, NULL,
      "list the keys set in your config file",
      "mm config list [--json]", cmd_config_help },
    { "help", cmd_help, 0, help_opts,
      "show the help of a command",
      "mm help [COMMAND]\n"
      "mm COMMAND --help\n"
      "mm help --man", cmd_help_help },
    { "version", cmd_version, 0, NULL,
      "print the version of mm",
      "mm version\n"
      "mm --version", cmd_version_help },
    { "completion", cmd_completion, 0, NULL,
      "print a shell completion script (bash, zsh or fish)",
      "mm completion bash|zsh|fish", cmd_completion_help },
    { "__complete", cmd_complete, CLI_NEEDS_HOME | CLI_HIDDEN, NULL,
      "the words a completion script offers (for the scripts)",
      "mm __complete peers\n"
      "mm __complete qids COMMAND", cmd_complete_help },
};
const size_t cli_ncommands = sizeof cli_commands / sizeof cli_commands[0];

/* 1 if the table has a command of group `word`; *sub = 1 if its members
 * take a subcommand ("note add"). */
static int find_group(const char *word, int *sub)
{
    size_t n = strlen(word);

    for (size_t i = 0; i < cli_ncommands; i++) {
        const char *name = cli_commands[i].name;
        if (strncmp(name, word, n) == 0 && (name[n] == '\0' || name[n] == ' ')) {
            *sub = name[n] == ' ';
            return 1;
        }
    }
    return 0;
}

static const cli_cmd_t *find_command(const char *group, const char *sub)
{
    size_t n = strlen(group);

    for (size_t i = 0; i < cli_ncommands; i++) {
        const char *name = cli_commands[i].name;
        if (strncmp(name, group, n) != 0)
            continue;
        if (!sub && name[n] == '\0')
            return &cli_commands[i];
        if (sub && name[n] == ' ' && strcmp(name + n + 1, sub) == 0)
            return &cli_commands[i];
    }
    return NULL;
}

/* "add, list, show": the subcommands of group, for a message. */
static void list_subcommands(const char *group, char *out, size_t cap)
{
    size_t n = strlen(group), o = 0;

    out[0] = '\0';
    for (size_t i = 0; i < cli_ncommands && o < cap; i++) {
        const char *name = cli_commands[i].name;
        if (strncmp(name, group, n) == 0 && name[n] == ' ')
            o += (size_t) snprintf(out + o, cap - o, "%s%s",
                                   o ? ", " : "", name + n + 1);
    }
}

/* Usage error for an unknown command (group NULL) or subcommand of group,
 * naming the nearest known ones when some are near. */
static int unknown(cli_t *cli, const char *group, const char *typed)
{
    char near[CLI_SUGGEST_MAX * 72 + 32];
    size_t n = group ? strlen(group) : 0;
    cli_suggest_t s;

    cli_suggest_init(&s, typed);
    for (size_t i = 0; i < cli_ncommands; i++) {
        const char *name = cli_commands[i].name;
        if (!group)
            cli_suggest_addn(&s, name, strcspn(name, " "));
        else if (strncmp(name, group, n) == 0 && name[n] == ' ')
            cli_suggest_add(&s, name + n + 1);
    }
    cli_suggest_text(&s, "", near, sizeof near);
    if (*near)
        return cli_usage_said(cli, "unknown %s '%s'; %s",
                              group ? "subcommand" : "command", typed, near);
    return cli_usage(cli, "unknown %s '%s'", group ? "subcommand" : "command",
                     typed);
}

int cli_parse_command(cli_t *cli, int *argcp, char ***argvp, int *first)
{
    char subs[128];
    int argc = *argcp;
    char **argv = *argvp;
    const char *group = argv[0];
    int has_sub = 0, ex;

    *first = 0;
    if (!find_group(group, &has_sub))
        return unknown(cli, NULL, group);
    if (has_sub) {
        /* Common options may come between the group and its subcommand. */
        cli->name = group;
        if ((ex = cli_parse(cli, argc, argv, 1, first)) != CLI_EXIT_OK)
            return ex;
        if (*first >= argc) {
            if (cli->help)
                return CLI_EXIT_OK;
            list_subcommands(group, subs, sizeof subs);
            return cli_usage(cli, "missing subcommand, one of: %s", subs);
        }
        cli->cmd = find_command(group, argv[*first]);
        if (!cli->cmd)
            return unknown(cli, group, argv[*first]);
        argc -= *first;
        argv += *first;
        *argcp = argc;
        *argvp = argv;
    } else {
        cli->cmd = find_command(group, NULL);
    }
    cli->name = cli->cmd->name;
    return cli_parse(cli, argc, argv, 0, first);
}

#ifndef MM_CLI_NO_MAIN      /* tests/fuzz/fuzz_args.c links the parser without these */
/* HOME/config, strictly, for every command but mm config (which reads it
 * leniently, to mend it); no home known yet is no config. */
static int config_load(cli_t *cli)
{
    char path[MM_PATH_MAX];

    if (strncmp(cli->cmd->name, "config ", 7) == 0 ||
        mm_home_resolve(cli->home_flag, path, sizeof path) != MM_OK)
        return CLI_EXIT_OK;
    return cli_config_load(cli, path, 1);
}

/* Colour: config color, else a terminal without NO_COLOR or TERM=dumb;
 * never with --json. */
static int color_on(const cli_t *cli)
{
    const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");
    const char *cfg = cli_config_get("color");

    if (cli->json || (cfg && !strcmp(cfg, "never")))
        return 0;
    if (cfg && !strcmp(cfg, "always"))
        return 1;
    return isatty(STDOUT_FILENO) && (!nc || !*nc) && !(term && !strcmp(term, "dumb"));
}

/* The parsed command, from its configuration on. */
static int dispatch_run(cli_t *cli, int argc, char **argv, int first)
{
    int ex;
    if ((ex = config_load(cli)) != CLI_EXIT_OK)
        return ex;
    cli_config_apply(cli);
    cli->color = color_on(cli);
    if (cli->cmd->flags & CLI_NEEDS_HOME) {
        if ((ex = cli_home_open(cli)) != CLI_EXIT_OK)
            return ex;
        /* a mailbox has no identity and reads nothing: it serves */
        if (mm_home_is_mailbox(cli->home) && !(cli->cmd->flags & CLI_MAILBOX_OK)) {
            cli_set_code(MM_EROLE);
            ex = cli_fail(cli, "%s is a mailbox: it only serves ('mm serve', 'mm mailbox "
                          "code', 'mm mailbox list'); run this on a person's home",
                          mm_home_path(cli->home));
            mm_home_close(&cli->home);
            return ex;
        }
    }
    ex = cli->cmd->run(cli, argc - first, argv + first);
    mm_home_close(&cli->home);
    return ex;
}

/* Run the command at argv[0]; returns the exit code. */
static int dispatch(cli_t *cli, int argc, char **argv)
{
    const char *group = argv[0];
    int first = 0, ex;

    if ((ex = cli_parse_command(cli, &argc, &argv, &first)) != CLI_EXIT_OK)
        return ex;
    if (cli->help) {
        cli_print_help(stdout, group);
        return CLI_EXIT_OK;
    }
    if (cli->cmd->flags & CLI_NET_SOON)
        mm_net_warm();              /* overlaps the config and the store's opening */
    ex = dispatch_run(cli, argc, argv, first);
    mm_net_warm_end();
    return ex;
}

int main(int argc, char **argv)
{
    cli_t cli;
    int first = 0, ex;

    memset(&cli, 0, sizeof cli);
    tzset();
    if (mm_crypto_init() != MM_OK) {
        cli_error(&cli, "cannot initialise libsodium; check the installation");
        return CLI_EXIT_FAIL;
    }
    /* The options before the command word; the command's come after it. */
    if ((ex = cli_parse(&cli, argc, argv, 1, &first)) != CLI_EXIT_OK)
        goto out;
    if (cli.version) {
        ex = cmd_version(&cli, 0, NULL);
        goto out;
    }
    if (first >= argc) {
        if (cli.help) {
            cli_print_listing(stdout);
            ex = CLI_EXIT_OK;
        } else {
            ex = cli_usage(&cli, "no command given");
        }
        goto out;
    }
    ex = dispatch(&cli, argc - first, argv + first);
out:
    /* A usage error can come before --json is parsed (mm tank --json). */
    for (int i = 1; i < argc && !cli.json && ex != CLI_EXIT_OK; i++) {
        if (strcmp(argv[i], "--") == 0)
            break;
        cli.json = strcmp(argv[i], "--json") == 0;
    }
    if (cli.json)
        cli_error_json(&cli, ex);
    /* A failed write (full disk, closed pipe) must not look like success. */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cli_error(&cli, "cannot write the output; check where stdout goes");
        if (ex == CLI_EXIT_OK)
            ex = CLI_EXIT_FAIL;
    }
    return ex;
}
#endif
