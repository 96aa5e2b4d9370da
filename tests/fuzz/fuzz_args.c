/*  fuzz_args.c -- libFuzzer harness: the command-line parser of mm, the
 *  steps main() takes before it opens a home: the options before the
 *  command word (cli_parse), the command word, a group's subcommand and the
 *  command's options (cli_parse_command), and `mm help`, which needs no
 *  home.  Nothing here opens a home or runs another command.
 *
 *  Input: the arguments after "mm", each ended by a NUL byte (the last may
 *  be unterminated), at most 64.  A line that parses names a command from
 *  the table, leaves its positional arguments in place, and every option
 *  value points into an argument.  Output (help, usage errors) goes to
 *  /dev/null and stderr; run the fuzzer with -close_fd_mask=2.
 *  Seeds in corpus/args: `replay_args --write-seeds DIR`.
 */
#include "tests/fuzz/fuzz.h"
#include "cli/cli.h"
#include "cli/util.h"

#define ARGS_MAX 64

static FILE *devnull;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    FZ_OK(mm_crypto_init());
    FZ_ASSERT(devnull = fopen("/dev/null", "w"));
    /* mm help prints on stdout */
    FZ_ASSERT(freopen("/dev/null", "w", stdout));
    return 0;
}

/* 1 if s is the empty string or points into one of the arguments. */
static int from_args(const char *s, char *const *args, int nargs)
{
    if (!*s)
        return 1;
    for (int i = 0; i < nargs; i++)
        if (s >= args[i] && s < args[i] + strlen(args[i]))
            return 1;
    return 0;
}

static void parse_line(int argc, char **argv, char *const *args, int nargs)
{
    cli_t cli;
    int first = 0, ex;

    memset(&cli, 0, sizeof cli);
    /* as main() does */
    if (cli_parse(&cli, argc, argv, 1, &first) != CLI_EXIT_OK)
        return;
    FZ_ASSERT(first >= 1 && first <= argc);
    if (cli.version || first >= argc) {
        if (cli.help)
            cli_print_listing(devnull);
        return;
    }
    argc -= first;
    argv += first;
    const char *group = argv[0];
    ex = cli_parse_command(&cli, &argc, &argv, &first);
    if (ex != CLI_EXIT_OK) {
        FZ_ASSERT(ex == CLI_EXIT_USAGE);
        return;
    }
    if (cli.help) {
        FZ_ASSERT(cli_print_help(devnull, group) == 0);
        return;
    }
    FZ_ASSERT(cli.cmd && cli.cmd >= cli_commands && cli.cmd < cli_commands + cli_ncommands);
    FZ_ASSERT(cli.name == cli.cmd->name && !cli.version);
    FZ_ASSERT(first >= 1 && first <= argc);
    FZ_ASSERT(!cli.home_flag || from_args(cli.home_flag, args, nargs));
    for (int c = 0; c < CLI_OPT_MAX; c++) {
        if (!cli.optn[c])
            continue;
        FZ_ASSERT(cli.opt[c] && from_args(cli.opt[c], args, nargs));
        for (unsigned i = 0; i < cli.optn[c] && i < CLI_OPT_REPEAT_MAX; i++)
            FZ_ASSERT(from_args(cli.optv[c][i], args, nargs));
    }
    for (int i = first; i < argc; i++)
        FZ_ASSERT(from_args(argv[i], args, nargs));
    /* the one command that is all argument handling */
    if (cli.cmd->run == cmd_help)
        cmd_help(&cli, argc - first, argv + first);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1), *args[ARGS_MAX], *argv[ARGS_MAX + 2];
    int nargs = 0;
    FZ_ASSERT(text);
    memcpy(text, data, size);
    text[size] = '\0';
    for (size_t i = 0; i < size && nargs < ARGS_MAX;) {
        args[nargs++] = text + i;
        i += strlen(text + i) + 1;
    }
    argv[0] = "mm";
    for (int i = 0; i < nargs; i++)
        argv[i + 1] = args[i];
    argv[nargs + 1] = NULL;
    parse_line(nargs + 1, argv, args, nargs);
    free(text);
    return 0;
}

/* ---- seeds: command lines from the README and the usage texts ---- */

void fz_seeds(const char *dir)
{
    static const char *const lines[] = {
        "init|--name|Ada",
        "--home|/tmp/mm-ada|init|--name|Ada Lovelace|--device|laptop|--json",
        "id|--json",
        "note|add|Ask Grace how she chose her first team lead role",
        "note|--json|add|--about|grace|-",
        "note|list",
        "note|show|1a2b",
        "serve|--listen|tcp://0.0.0.0:7460|--listen|tcp://[::]:7461",
        ("invite|--note|Happy to help in short bursts|--expires|24h|--role=mentee"
         "|--endpoint|tcp://192.168.1.20:7460"),
        "accept|mmv1abcdef|--name|grace|--timeout|30",
        "sync|grace|--timeout=5|carl",
        "peer|list|--json",
        "peer|rename|grace|grace-h",
        "peer|set-addr|grace|tcp://10.0.0.2:7460|tcp://10.0.0.3:7460",
        "ambition|add|--near|Lead a team of five",
        "ambition|list|--all",
        "ask|grace|How did you choose?|--ambition|ab12|--as-is",
        "thank|q1|Thank you|--offer|I can review your slides",
        "decline|q1|Not my area|--refer|carl",
        "away|--until|2026-12-24",
        "capacity|3/month",
        "thread|grace|--private",
        "export|--format|json|grace|--private",
        "log|--raw",
        "help|note",
        "help|note|add",
        "note|--help",
        "--json|-h",
        "--version",
        "version",
        "verify|--json|extra",
        "note",
        "peer|--bogus",
        "bogus|command",
        "sync|--timeout",
        "log|--raw=1",
        "--home",
        "-x",
        "--",
    };
    static fz_buf_t s;
    char name[32];
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        s.len = 0;
        for (const char *p = lines[i]; *p; p++)
            fz_buf_byte(&s, *p == '|' ? 0 : (uint8_t) *p);
        snprintf(name, sizeof name, "line-%02zu", i);
        fz_seed_buf(dir, name, &s);
    }
}
