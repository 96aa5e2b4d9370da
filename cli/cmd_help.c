/*  cmd_help.c -- mm help [COMMAND], the command listing, and mm version.
 *
 *  Everything here is printed from the command table (main.c) and the long
 *  help texts kept next to each command, so a new command documents itself.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/json.h"
#include "cli/suggest.h"
#include "cli/util.h"

const char cmd_help_help[] =
    "show the help of a command\n"
    "\n"
    "DESCRIPTION\n"
    "    Without a command, lists all commands with a one-line summary.  With\n"
    "    one, shows its manual: synopsis, description, options, examples and\n"
    "    exit status.  'mm COMMAND --help' and 'mm COMMAND -h' are the same as\n"
    "    'mm help COMMAND'.\n"
    "\n"
    "OPTIONS\n"
    "    --man\n"
    "        Print the whole manual, mm(1), as roff: every command's\n"
    "        synopsis and help, files, environment and exit status.\n"
    "        The build installs it (man mm).\n"
    "\n"
    "EXAMPLES\n"
    "    mm help\n"
    "    mm help note\n"
    "    mm note add --help\n"
    "    mm help --man > mm.1\n"
    "\n"
    "EXIT STATUS\n"
    "    0  the help was shown\n"
    "    2  there is no such command\n";

const char cmd_version_help[] =
    "print the version of mm\n"
    "\n"
    "DESCRIPTION\n"
    "    Prints 'mm' and the version number, e.g. 'mm 0.1.0'.  With --json,\n"
    "    prints {\"version\": \"0.1.0\"}.\n"
    "\n"
    "EXIT STATUS\n"
    "    0  always, unless the command line is wrong (2)\n";

const char cli_synopsis[] = "mm [--home DIR] [--json] COMMAND [ARGS...]\n";

const char cli_about[] =
    "micromentor keeps your notes and mentoring records in a signed,\n"
    "end-to-end encrypted, append-only log on your own devices.\n";

const char cli_common_options[] =
    "COMMON OPTIONS\n"
    "    --home DIR\n"
    "        Use the micromentor home in DIR.  Without it: $MM_HOME, else\n"
    "        $XDG_DATA_HOME/micromentor, else ~/.local/share/micromentor.\n"
    "    --json\n"
    "        Print one JSON document on stdout instead of text.  Field names\n"
    "        are stable.  Errors still go to stderr as one line; a command\n"
    "        that fails before printing its document prints instead\n"
    "        {\"error\": {\"code\": C, \"message\": M}}: M is the line's text,\n"
    "        C the error's stable name (\"MM_ENOTFOUND\", \"MM_EPENDING\", ...),\n"
    "        \"usage\" for a usage error (exit 2), or null when there is none.\n"
    "    -h, --help\n"
    "        Show this help.\n"
    "    Common options may come before or after the command:\n"
    "    'mm --home D note list' = 'mm note list --home D'.\n";

void cli_print_listing(FILE *f)
{
    size_t w = 0;

    for (size_t i = 0; i < cli_ncommands; i++)
        if (strlen(cli_commands[i].name) > w)
            w = strlen(cli_commands[i].name);
    fprintf(f, "usage: %s\n%s\ncommands:\n", cli_synopsis, cli_about);
    for (size_t i = 0; i < cli_ncommands; i++)
        if (!(cli_commands[i].flags & CLI_HIDDEN))
            fprintf(f, "  %-*s  %s\n", (int) w, cli_commands[i].name,
                cli_commands[i].summary);
    fputs("\n"
          "common options (before or after the command):\n"
          "  --home DIR   the micromentor home (default: $MM_HOME, else\n"
          "               $XDG_DATA_HOME/micromentor, else ~/.local/share/micromentor)\n"
          "  --json       print one JSON document on stdout\n"
          "  -h, --help   show the help of the command\n"
          "\n"
          "Run 'mm help COMMAND' for the manual of one command.  Start with\n"
          "'mm init --name NAME'.\n", f);
}

/* Print text with every line indented by four spaces. */
static void print_indented(FILE *f, const char *text)
{
    while (*text) {
        size_t n = strcspn(text, "\n");
        fprintf(f, "    %.*s\n", (int) n, text);
        text += n;
        if (*text == '\n')
            text++;
    }
}

int cli_print_help(FILE *f, const char *group)
{
    size_t n = strlen(group);
    const char *help = NULL, *body;
    int found = 0;

    for (size_t i = 0; i < cli_ncommands; i++) {
        const char *name = cli_commands[i].name;
        if (strncmp(name, group, n) != 0 || (name[n] != '\0' && name[n] != ' '))
            continue;
        if (!found) {
            help = cli_commands[i].help;
            /* The help's first line is the group's one-line description. */
            body = strchr(help, '\n');
            body = body ? body : help + strlen(help);
            fprintf(f, "NAME\n    mm %s - %.*s\n\nSYNOPSIS\n", group,
                    (int) (body - help), help);
            found = 1;
        }
        print_indented(f, cli_commands[i].usage);
    }
    if (!found)
        return -1;
    /* The rest of the help starts with the blank line after the first. */
    body = strchr(help, '\n');
    fputs(body ? body + 1 : "\n", f);
    if (strcmp(group, "help") != 0 && strcmp(group, "version") != 0)
        fprintf(f, "\n%s", cli_common_options);
    return 0;
}

int cmd_help(cli_t *cli, int argc, char **argv)
{
    char group[32];

    if (cli->opt[CLI_OPT_MAN]) {
        if (argc > 0)
            return cli_usage(cli, "--man prints the whole manual; give no command");
        cli_print_man(stdout);
        return CLI_EXIT_OK;
    }
    if (argc == 0) {
        cli_print_listing(stdout);
        return CLI_EXIT_OK;
    }
    if (argc > 2)
        return cli_usage(cli, "give one command, as in 'mm help note'");
    if (strchr(argv[0], ' ')) {         /* mm help "note add" */
        cli_group(argv[0], group, sizeof group);
    } else {
        snprintf(group, sizeof group, "%s", argv[0]);
    }
    if (argc == 2) {                    /* mm help note add */
        char name[96];
        size_t i;
        snprintf(name, sizeof name, "%s %s", group, argv[1]);
        for (i = 0; i < cli_ncommands; i++)
            if (strcmp(cli_commands[i].name, name) == 0)
                break;
        if (i == cli_ncommands) {
            cli_error(cli, "unknown command '%s'; run 'mm help' for the list",
                      name);
            return CLI_EXIT_USAGE;
        }
    }
    if (cli_print_help(stdout, group) != 0) {
        char near[CLI_SUGGEST_MAX * 72 + 32];
        cli_suggest_t sg;
        cli_suggest_init(&sg, group);
        for (size_t i = 0; i < cli_ncommands; i++)
            cli_suggest_addn(&sg, cli_commands[i].name,
                             strcspn(cli_commands[i].name, " "));
        cli_suggest_text(&sg, "", near, sizeof near);
        if (*near)
            return cli_usage_said(cli, "unknown command '%s'; %s", argv[0], near);
        cli_error(cli, "unknown command '%s'; run 'mm help' for the list",
                  argv[0]);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

int cmd_version(cli_t *cli, int argc, char **argv)
{
    json_t j;

    if (argc > 0)
        return cli_usage(cli, "unexpected argument '%s'", argv[0]);
    if (!cli->json) {
        printf("mm %s\n", MM_VERSION);
        return CLI_EXIT_OK;
    }
    json_init(&j, stdout);
    json_obj_begin(&j, NULL);
    json_str(&j, "version", MM_VERSION);
    json_obj_end(&j);
    json_finish(&j);
    return CLI_EXIT_OK;
}
