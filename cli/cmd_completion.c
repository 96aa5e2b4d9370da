/*  cmd_completion.c -- mm completion bash|zsh|fish, and the hidden
 *  mm __complete peers|qids that those scripts run for the words only a
 *  home knows.
 *
 *  The scripts are written from the command table: the groups, their
 *  subcommands, each command's options, and what each option's value or
 *  first argument is, read from the command's usage: PEER completes peer
 *  names, QID question ids, DIR directories, COMMAND commands, a|b|c those
 *  words.  A new command or option completes without touching this file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cmd_peer.h"
#include "cli/rel.h"
#include "cli/util.h"
#include "core/question.h"
#include "crypto/encoding.h"

const char cmd_completion_help[] =
    "print a shell completion script (bash, zsh or fish)\n"
    "\n"
    "DESCRIPTION\n"
    "    Prints a script that completes mm's commands, subcommands and\n"
    "    options, and, from your home, peer names (PEER) and the ids of\n"
    "    the questions the command can act on now (QID: mm answer offers\n"
    "    the questions you can answer).  The script runs mm to find those,\n"
    "    with the --home given on the line.  'cmake --install' installs\n"
    "    all three scripts where the shells look for them.\n"
    "\n"
    "EXAMPLES\n"
    "    source <(mm completion bash)                # this bash only\n"
    "    mm completion bash > ~/.local/share/bash-completion/completions/mm\n"
    "    mm completion zsh > ~/.zfunc/_mm            # with fpath+=(~/.zfunc)\n"
    "    mm completion fish > ~/.config/fish/completions/mm.fish\n"
    "\n"
    "EXIT STATUS\n"
    "    0  the script was printed\n"
    "    2  no shell or an unknown one was given\n";

const char cmd_complete_help[] =
    "the words a completion script offers (for the scripts)\n"
    "\n"
    "DESCRIPTION\n"
    "    Prints one word a line: 'peers' the name of every peer, 'qids'\n"
    "    the short id of every question that COMMAND (withdraw, thank,\n"
    "    report, answer, decline or ask-back) may act on now, by you; with\n"
    "    another COMMAND or none, every question.  For the scripts of\n"
    "    'mm completion'; not listed by 'mm help'.\n"
    "\n"
    "EXIT STATUS\n"
    "    0  the words were printed (perhaps none)\n"
    "    1  the home cannot be read\n"
    "    2  the command line is wrong\n";

/* --- the table, as the scripts need it ------------------------------------- */

#define KIND_MAX 96             /* "=mentor mentee", "peers+", ... */

static size_t group_len(const char *name)
{
    return strcspn(name, " ");
}

/* 1 if cli_commands[i] is the first of its group (and not hidden). */
static int group_head(size_t i)
{
    const char *name = cli_commands[i].name, *prev;
    size_t g = group_len(name);

    if (cli_commands[i].flags & CLI_HIDDEN)
        return 0;
    if (i == 0)
        return 1;
    prev = cli_commands[i - 1].name;
    return !(group_len(prev) == g && !strncmp(prev, name, g));
}

/* What a placeholder of a usage completes to: "peers", "qids", "dirs",
 * "cmds", "=a b c" for a|b|c, or "any" (a value nothing can guess). */
static void kind_of(const char *tok, size_t n, char *out, size_t cap)
{
    char w[KIND_MAX - 1];       /* room for the '=' */
    size_t k = 0;

    for (size_t i = 0; i < n && k + 1 < sizeof w; i++)
        if (tok[i] != '[' && tok[i] != ']' && tok[i] != '.')
            w[k++] = tok[i];
    w[k] = '\0';
    if (!strcmp(w, "PEER"))
        snprintf(out, cap, "peers");
    else if (!strcmp(w, "QID"))
        snprintf(out, cap, "qids");
    else if (!strcmp(w, "DIR"))
        snprintf(out, cap, "dirs");
    else if (!strcmp(w, "COMMAND"))
        snprintf(out, cap, "cmds");
    else if (strchr(w, '|') && w[0] >= 'a' && w[0] <= 'z') {
        for (char *p = w; *p; p++)
            if (*p == '|')
                *p = ' ';
        snprintf(out, cap, "=%s", w);
    } else
        snprintf(out, cap, "any");
}

/* The kind of o's value ("" for a flag): the word after "--NAME " in c's
 * usage. */
static void opt_kind(const cli_cmd_t *c, const struct option *o, char *out,
                     size_t cap)
{
    char pat[64];
    const char *p;

    out[0] = '\0';
    if (o->has_arg == no_argument)
        return;
    snprintf(pat, sizeof pat, "--%s ", o->name);
    p = strstr(c->usage, pat);
    if (!p) {
        snprintf(out, cap, "any");
        return;
    }
    p += strlen(pat);
    kind_of(p, strcspn(p, " \n"), out, cap);
}

static const struct option *find_opt(const cli_cmd_t *c, const char *name,
                                     size_t n)
{
    for (const struct option *o = c->opts; o && o->name; o++)
        if (strlen(o->name) == n && !strncmp(o->name, name, n))
            return o;
    return NULL;
}

/* The kind of c's first argument, from the first line of its usage, with
 * '+' when it repeats (PEER...); "" if it takes none. */
static void arg_kind(const cli_cmd_t *c, char *out, size_t cap)
{
    const char *p = c->usage, *end = p + strcspn(p, "\n");
    int words = 2 + (strchr(c->name, ' ') != NULL), skip = 0;  /* mm note add */

    out[0] = '\0';
    while (p < end) {
        size_t n;
        while (p < end && *p == ' ')
            p++;
        n = strcspn(p, " \n");
        if (n == 0)
            break;
        if (words > 0) {
            words--;
        } else if (skip) {
            skip = 0;
        } else if (!strncmp(p, "--", 2) || !strncmp(p, "[--", 3)) {
            const char *name = p + (*p == '[' ? 3 : 2);
            const struct option *o = find_opt(c, name, strcspn(name, " ]\n"));
            skip = o && o->has_arg != no_argument && p[n - 1] != ']';
        } else {
            kind_of(p, n, out, cap);
            size_t ol = strlen(out);
            if (n > 3 && !strncmp(p + n - 3, "...", 3) && ol + 1 < cap) {
                out[ol] = '+';
                out[ol + 1] = '\0';
            }
            return;
        }
        p += n;
    }
}

/* --- the scripts' fixed parts ------------------------------------------------ */

/* bash: what the line so far means (_mm_line), then the words to offer;
 * no bash-completion package needed.  The data functions come first. */
static const char bash_driver[] =
    "# The words before the cursor: the command (\"note add\"), whether its\n"
    "# subcommand is still to come, how many arguments it has, and --home.\n"
    "_mm_line() {\n"
    "    local i w\n"
    "    _mm_cmd='' _mm_sub=0 _mm_npos=0 _mm_home=()\n"
    "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
    "        w=${COMP_WORDS[i]}\n"
    "        case $w in\n"
    "        --home=*) _mm_home=(--home \"${w#--home=}\"); continue ;;\n"
    "        -*)\n"
    "            _mm_arg \"$_mm_cmd\" \"$w\"\n"
    "            if [[ -n $_mm_k ]]; then\n"
    "                # bash splits --opt=value into --opt, =, value\n"
    "                [[ ${COMP_WORDS[i+1]} == = ]] && ((i++))\n"
    "                [[ $w == --home ]] && _mm_home=(--home \"${COMP_WORDS[i+1]}\")\n"
    "                ((i++))\n"
    "            fi\n"
    "            continue ;;\n"
    "        esac\n"
    "        if [[ -z $_mm_cmd ]]; then\n"
    "            _mm_cmd=$w\n"
    "            _mm_subs \"$w\"\n"
    "            [[ -n $_mm_w ]] && _mm_sub=1\n"
    "        elif ((_mm_sub)); then\n"
    "            _mm_cmd=\"$_mm_cmd $w\" _mm_sub=0\n"
    "        else\n"
    "            ((_mm_npos++))\n"
    "        fi\n"
    "    done\n"
    "}\n"
    "\n"
    "# COMPREPLY for a kind of word: peers, qids, dirs, cmds, =a b c.\n"
    "_mm_offer() {\n"
    "    local cur=$1 mm=${COMP_WORDS[0]} w\n"
    "    case $2 in\n"
    "    peers | qids)\n"
    "        if [[ $2 == peers ]]; then\n"
    "            w=$(\"$mm\" \"${_mm_home[@]}\" __complete peers 2>/dev/null)\n"
    "        else\n"
    "            w=$(\"$mm\" \"${_mm_home[@]}\" __complete qids \"$_mm_cmd\" 2>/dev/null)\n"
    "        fi\n"
    "        local IFS=$'\\n'        # a peer's name may have spaces\n"
    "        COMPREPLY=($(compgen -W \"$w\" -- \"$cur\")) ;;\n"
    "    dirs)\n"
    "        local IFS=$'\\n'\n"
    "        compopt -o filenames 2>/dev/null\n"
    "        COMPREPLY=($(compgen -d -- \"$cur\")) ;;\n"
    "    cmds) COMPREPLY=($(compgen -W \"$_mm_groups\" -- \"$cur\")) ;;\n"
    "    '='*) COMPREPLY=($(compgen -W \"${2#=}\" -- \"$cur\")) ;;\n"
    "    esac\n"
    "}\n"
    "\n"
    "_mm() {\n"
    "    local cur=${COMP_WORDS[COMP_CWORD]} prev='' _mm_cmd _mm_sub _mm_npos _mm_w _mm_k\n"
    "    local -a _mm_home\n"
    "    COMPREPLY=()\n"
    "    _mm_line\n"
    "    ((COMP_CWORD > 1)) && prev=${COMP_WORDS[COMP_CWORD-1]}\n"
    "    [[ $cur == = ]] && return 0             # --opt=: the value comes next\n"
    "    [[ $prev == = ]] && ((COMP_CWORD > 2)) && prev=${COMP_WORDS[COMP_CWORD-2]}\n"
    "    if [[ $prev == -* && $prev != *=* ]]; then\n"
    "        _mm_arg \"$_mm_cmd\" \"$prev\"\n"
    "        if [[ -n $_mm_k ]]; then\n"
    "            _mm_offer \"$cur\" \"$_mm_k\"\n"
    "            return 0\n"
    "        fi\n"
    "    fi\n"
    "    if [[ $cur == -* ]]; then\n"
    "        _mm_opts \"$_mm_cmd\"\n"
    "        _mm_w=\"$_mm_w --home --json --help\"\n"
    "        [[ -z $_mm_cmd ]] && _mm_w=\"$_mm_w --version\"\n"
    "        COMPREPLY=($(compgen -W \"$_mm_w\" -- \"$cur\"))\n"
    "    elif [[ -z $_mm_cmd ]]; then\n"
    "        COMPREPLY=($(compgen -W \"$_mm_groups\" -- \"$cur\"))\n"
    "    elif ((_mm_sub)); then\n"
    "        _mm_subs \"$_mm_cmd\"\n"
    "        COMPREPLY=($(compgen -W \"$_mm_w\" -- \"$cur\"))\n"
    "    else\n"
    "        _mm_arg \"$_mm_cmd\" ''\n"
    "        case $_mm_k in\n"
    "        *+) _mm_offer \"$cur\" \"${_mm_k%+}\" ;;\n"
    "        *) ((_mm_npos == 0)) && _mm_offer \"$cur\" \"$_mm_k\" ;;\n"
    "        esac\n"
    "    fi\n"
    "    return 0\n"
    "}\n"
    "complete -F _mm mm\n";

/* zsh: the same steps with compadd; works autoloaded from fpath as _mm
 * and sourced. */
static const char zsh_driver[] =
    "# The words before the cursor: the command (\"note add\"), whether its\n"
    "# subcommand is still to come, how many arguments it has, and --home.\n"
    "_mm_line() {\n"
    "    local i w\n"
    "    _mm_cmd='' _mm_sub=0 _mm_npos=0 _mm_home=()\n"
    "    for ((i = 2; i < CURRENT; i++)); do\n"
    "        w=${words[i]}\n"
    "        case $w in\n"
    "        --home=*) _mm_home=(--home \"${w#--home=}\"); continue ;;\n"
    "        -*)\n"
    "            _mm_arg \"$_mm_cmd\" \"$w\"\n"
    "            if [[ -n $_mm_k ]]; then\n"
    "                [[ $w == --home ]] && _mm_home=(--home \"${words[i+1]}\")\n"
    "                ((i++))\n"
    "            fi\n"
    "            continue ;;\n"
    "        esac\n"
    "        if [[ -z $_mm_cmd ]]; then\n"
    "            _mm_cmd=$w\n"
    "            _mm_subs \"$w\"\n"
    "            [[ -n $_mm_w ]] && _mm_sub=1\n"
    "        elif ((_mm_sub)); then\n"
    "            _mm_cmd=\"$_mm_cmd $w\" _mm_sub=0\n"
    "        else\n"
    "            ((_mm_npos++))\n"
    "        fi\n"
    "    done\n"
    "}\n"
    "\n"
    "# Offer a kind of word: peers, qids, dirs, cmds, =a b c.\n"
    "_mm_offer() {\n"
    "    local mm=${words[1]}\n"
    "    case $1 in\n"
    "    peers) compadd -- ${(f)\"$($mm \"${_mm_home[@]}\" __complete peers 2>/dev/null)\"} ;;\n"
    "    qids) compadd -- ${(f)\"$($mm \"${_mm_home[@]}\" __complete qids \"$_mm_cmd\" 2>/dev/null)\"} ;;\n"
    "    dirs) _files -/ ;;\n"
    "    cmds) compadd -- ${=_mm_groups} ;;\n"
    "    '='*) compadd -- ${=${1#=}} ;;\n"
    "    esac\n"
    "}\n"
    "\n"
    "_mm() {\n"
    "    local cur=${words[CURRENT]} prev=${words[CURRENT-1]} _mm_cmd _mm_sub _mm_npos _mm_w _mm_k\n"
    "    local -a _mm_home\n"
    "    _mm_line\n"
    "    if ((CURRENT > 2)) && [[ $prev == -* && $prev != *=* ]]; then\n"
    "        _mm_arg \"$_mm_cmd\" \"$prev\"\n"
    "        if [[ -n $_mm_k ]]; then\n"
    "            _mm_offer \"$_mm_k\"\n"
    "            return\n"
    "        fi\n"
    "    fi\n"
    "    if [[ $cur == -* ]]; then\n"
    "        _mm_opts \"$_mm_cmd\"\n"
    "        _mm_w=\"$_mm_w --home --json --help\"\n"
    "        [[ -z $_mm_cmd ]] && _mm_w=\"$_mm_w --version\"\n"
    "        compadd -- ${=_mm_w}\n"
    "    elif [[ -z $_mm_cmd ]]; then\n"
    "        compadd -- ${=_mm_groups}\n"
    "    elif ((_mm_sub)); then\n"
    "        _mm_subs \"$_mm_cmd\"\n"
    "        compadd -- ${=_mm_w}\n"
    "    else\n"
    "        _mm_arg \"$_mm_cmd\" ''\n"
    "        case $_mm_k in\n"
    "        *+) _mm_offer \"${_mm_k%+}\" ;;\n"
    "        *) ((_mm_npos == 0)) && _mm_offer \"$_mm_k\" ;;\n"
    "        esac\n"
    "    fi\n"
    "}\n"
    "\n"
    "if [[ \"$funcstack[1]\" == _mm ]]; then\n"
    "    _mm \"$@\"\n"
    "else\n"
    "    compdef _mm mm\n"
    "fi\n";

/* fish: where on the line we are (__mm_at), then one complete line per
 * word, written from the table below. */
static const char fish_driver[] =
    "# The command on the line so far (\"note add\"), whether its subcommand is\n"
    "# still to come, how many arguments it has, and --home: then test $argv.\n"
    "#   top             no command yet\n"
    "#   sub GROUP       GROUP's subcommand is next\n"
    "#   in CMD          CMD is on the line\n"
    "#   arg CMD [more]  CMD's first argument is next (more: any argument)\n"
    "function __mm_at\n"
    "    set -l tokens (commandline -opc)\n"
    "    set -l cmd ''\n"
    "    set -l sub 0\n"
    "    set -l npos 0\n"
    "    set -l skip 0\n"
    "    for w in $tokens[2..-1]\n"
    "        if test $skip = 1\n"
    "            set skip 0\n"
    "            continue\n"
    "        end\n"
    "        switch $w\n"
    "            case '--*=*'\n"
    "                continue\n"
    "            case '-*'\n"
    "                if __mm_arg \"$cmd\" $w >/dev/null\n"
    "                    set skip 1\n"
    "                end\n"
    "                continue\n"
    "        end\n"
    "        if test -z \"$cmd\"\n"
    "            set cmd $w\n"
    "            if __mm_subs $w >/dev/null\n"
    "                set sub 1\n"
    "            end\n"
    "        else if test $sub = 1\n"
    "            set cmd \"$cmd $w\"\n"
    "            set sub 0\n"
    "        else\n"
    "            set npos (math $npos + 1)\n"
    "        end\n"
    "    end\n"
    "    switch $argv[1]\n"
    "        case top\n"
    "            test -z \"$cmd\"\n"
    "        case sub\n"
    "            test $sub = 1 -a \"$cmd\" = \"$argv[2]\"\n"
    "        case in\n"
    "            test $sub = 0 -a \"$cmd\" = \"$argv[2]\"\n"
    "        case arg\n"
    "            test $sub = 0 -a \"$cmd\" = \"$argv[2]\"; and begin; test $npos = 0; or set -q argv[3]; end\n"
    "    end\n"
    "end\n"
    "\n"
    "# The words only the home knows: mm __complete peers | qids CMD.\n"
    "function __mm_home_words\n"
    "    set -l tokens (commandline -opc)\n"
    "    set -l home\n"
    "    for i in (seq 2 (count $tokens))\n"
    "        switch $tokens[$i]\n"
    "            case '--home=*'\n"
    "                set home --home (string replace -- '--home=' '' $tokens[$i])\n"
    "            case --home\n"
    "                set -l j (math $i + 1)\n"
    "                set -q tokens[$j]; and set home --home $tokens[$j]\n"
    "        end\n"
    "    end\n"
    "    $tokens[1] $home __complete $argv 2>/dev/null\n"
    "end\n"
    "\n"
    "complete -c mm -f\n"
    "complete -c mm -l home -x -a '(__fish_complete_directories)' -d 'the micromentor home'\n"
    "complete -c mm -l json -d 'print one JSON document'\n"
    "complete -c mm -s h -l help -d 'show the help of the command'\n"
    "complete -c mm -n '__mm_at top' -l version -d 'print the version of mm'\n";

/* --- the scripts' data, from the table --------------------------------------- */

/* The subcommand word of a group member ("add" of "note add"). */
static const char *sub_word(const char *name)
{
    return name + group_len(name) + (name[group_len(name)] == ' ');
}

/* _mm_groups, _mm_subs, _mm_opts and _mm_arg, in the sh that bash and zsh
 * both read. */
static void sh_data(FILE *f)
{
    char kind[KIND_MAX];

    fputs("# Written by 'mm completion' from mm's command table; do not edit.\n"
          "_mm_groups='", f);
    for (size_t i = 0, n = 0; i < cli_ncommands; i++)
        if (group_head(i))
            fprintf(f, "%s%.*s", n++ ? " " : "", (int) group_len(cli_commands[i].name),
                    cli_commands[i].name);
    fputs("'\n\n# _mm_w: the subcommands of group $1.\n_mm_subs() {\n    case $1 in\n", f);
    for (size_t i = 0; i < cli_ncommands; i++) {
        const char *name = cli_commands[i].name;
        size_t g = group_len(name);
        if (!group_head(i) || !name[g])
            continue;
        fprintf(f, "    %.*s) _mm_w='", (int) g, name);
        for (size_t j = i; j < cli_ncommands && !strncmp(cli_commands[j].name, name, g) &&
                           cli_commands[j].name[g] == ' '; j++)
            fprintf(f, "%s%s", j > i ? " " : "", sub_word(cli_commands[j].name));
        fputs("' ;;\n", f);
    }
    fputs("    *) _mm_w='' ;;\n    esac\n}\n\n"
          "# _mm_w: the options of command $1 (besides --home, --json, --help).\n"
          "_mm_opts() {\n    case $1 in\n", f);
    for (size_t i = 0; i < cli_ncommands; i++) {
        const cli_cmd_t *c = &cli_commands[i];
        if ((c->flags & CLI_HIDDEN) || !c->opts)
            continue;
        fprintf(f, "    '%s') _mm_w='", c->name);
        for (const struct option *o = c->opts; o->name; o++)
            fprintf(f, "%s--%s", o == c->opts ? "" : " ", o->name);
        fputs("' ;;\n", f);
    }
    fputs("    *) _mm_w='' ;;\n    esac\n}\n\n"
          "# _mm_k: what the value of option $2 of command $1 is, or with $2 empty\n"
          "# its first argument ('+': every argument); empty for a flag or none.\n"
          "_mm_arg() {\n    case \"$1|$2\" in\n"
          "    *'|--home') _mm_k=dirs ;;\n", f);
    for (size_t i = 0; i < cli_ncommands; i++) {
        const cli_cmd_t *c = &cli_commands[i];
        if (c->flags & CLI_HIDDEN)
            continue;
        for (const struct option *o = c->opts; o && o->name; o++) {
            opt_kind(c, o, kind, sizeof kind);
            if (kind[0])
                fprintf(f, "    '%s|--%s') _mm_k='%s' ;;\n", c->name, o->name, kind);
        }
        arg_kind(c, kind, sizeof kind);
        if (kind[0] && strncmp(kind, "any", 3))
            fprintf(f, "    '%s|') _mm_k='%s' ;;\n", c->name, kind);
    }
    fputs("    *) _mm_k='' ;;\n    esac\n}\n\n", f);
}

/* s in fish's single quotes. */
static void fish_quote(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'' || *s == '\\')
            fputc('\\', f);
        fputc(*s, f);
    }
    fputc('\'', f);
}

/* The complete arguments that offer a kind of word for command c. */
static void fish_offer(FILE *f, const char *kind, const char *cmd)
{
    char words[KIND_MAX];
    size_t n = strcspn(kind, "+");

    if (!strncmp(kind, "peers", n) && n == 5) {
        fputs(" -a '(__mm_home_words peers)'", f);
    } else if (!strncmp(kind, "qids", n) && n == 4) {
        fprintf(f, " -a '(__mm_home_words qids \"%s\")'", cmd);
    } else if (!strncmp(kind, "dirs", n) && n == 4) {
        fputs(" -a '(__fish_complete_directories)'", f);
    } else if (!strncmp(kind, "cmds", n) && n == 4) {
        fputs(" -a '", f);
        for (size_t i = 0, k = 0; i < cli_ncommands; i++)
            if (group_head(i))
                fprintf(f, "%s%.*s", k++ ? " " : "", (int) group_len(cli_commands[i].name),
                        cli_commands[i].name);
        fputc('\'', f);
    } else if (kind[0] == '=') {
        snprintf(words, sizeof words, "%.*s", (int) (n - 1), kind + 1);
        fprintf(f, " -a '%s'", words);
    }
}

static void fish_data(FILE *f)
{
    char kind[KIND_MAX];

    fputs("# Written by 'mm completion fish' from mm's command table; do not edit.\n\n"
          "# The subcommands of group $argv[1]; fails for a group without.\n"
          "function __mm_subs\n    switch $argv[1]\n", f);
    for (size_t i = 0; i < cli_ncommands; i++) {
        const char *name = cli_commands[i].name;
        size_t g = group_len(name);
        if (!group_head(i) || !name[g])
            continue;
        fprintf(f, "        case %.*s\n            echo", (int) g, name);
        for (size_t j = i; j < cli_ncommands && !strncmp(cli_commands[j].name, name, g) &&
                           cli_commands[j].name[g] == ' '; j++)
            fprintf(f, " %s", sub_word(cli_commands[j].name));
        fputs("\n", f);
    }
    fputs("        case '*'\n            return 1\n    end\nend\n\n"
          "# What the value of option $argv[2] of command $argv[1] is; fails for a\n"
          "# flag.\n"
          "function __mm_arg\n    switch \"$argv[1]|$argv[2]\"\n"
          "        case '*|--home'\n            echo dirs\n", f);
    for (size_t i = 0; i < cli_ncommands; i++) {
        const cli_cmd_t *c = &cli_commands[i];
        if (c->flags & CLI_HIDDEN)
            continue;
        for (const struct option *o = c->opts; o && o->name; o++) {
            opt_kind(c, o, kind, sizeof kind);
            if (kind[0])
                fprintf(f, "        case '%s|--%s'\n            echo '%s'\n", c->name,
                        o->name, kind);
        }
    }
    fputs("        case '*'\n            return 1\n    end\nend\n\n", f);
    fputs(fish_driver, f);
    for (size_t i = 0; i < cli_ncommands; i++) {
        const cli_cmd_t *c = &cli_commands[i];
        const char *name = c->name;
        size_t g = group_len(name);

        if (c->flags & CLI_HIDDEN)
            continue;
        if (group_head(i)) {
            /* a group is described by its help's first line */
            char line[128];
            snprintf(line, sizeof line, "%.*s", (int) strcspn(c->help, "\n"), c->help);
            fprintf(f, "complete -c mm -n '__mm_at top' -a %.*s -d ", (int) g, name);
            fish_quote(f, name[g] ? line : c->summary);
            fputc('\n', f);
        }
        if (name[g]) {
            fprintf(f, "complete -c mm -n '__mm_at sub %.*s' -a %s -d ", (int) g, name,
                    sub_word(name));
            fish_quote(f, c->summary);
            fputc('\n', f);
        }
        for (const struct option *o = c->opts; o && o->name; o++) {
            opt_kind(c, o, kind, sizeof kind);
            fprintf(f, "complete -c mm -n '__mm_at in \"%s\"' -l %s%s", name, o->name,
                    kind[0] ? " -x" : "");
            fish_offer(f, kind, name);
            fputc('\n', f);
        }
        arg_kind(c, kind, sizeof kind);
        if (kind[0] && strncmp(kind, "any", 3)) {
            fprintf(f, "complete -c mm -n '__mm_at arg \"%s\"%s'", name,
                    strchr(kind, '+') ? " more" : "");
            fish_offer(f, kind, name);
            fputc('\n', f);
        }
    }
}

/* --- the commands ------------------------------------------------------------ */

int cmd_completion(cli_t *cli, int argc, char **argv)
{
    if (argc != 1)
        return cli_usage(cli, "give one shell: bash, zsh or fish");
    if (!strcmp(argv[0], "bash")) {
        fputs("# bash completion for mm: source it, or install it as\n"
              "# share/bash-completion/completions/mm.\n", stdout);
        sh_data(stdout);
        fputs(bash_driver, stdout);
    } else if (!strcmp(argv[0], "zsh")) {
        fputs("#compdef mm\n"
              "# zsh completion for mm: install it as _mm in a directory of $fpath\n"
              "# (share/zsh/site-functions), or source it after compinit.\n", stdout);
        sh_data(stdout);
        fputs(zsh_driver, stdout);
    } else if (!strcmp(argv[0], "fish")) {
        fputs("# fish completion for mm: install it as\n"
              "# share/fish/vendor_completions.d/mm.fish.\n", stdout);
        fish_data(stdout);
    } else {
        return cli_usage(cli, "unknown shell '%s'; give bash, zsh or fish", argv[0]);
    }
    return CLI_EXIT_OK;
}

/* The act a reply command does, or -1 for another command. */
static int act_of(const char *cmd)
{
    static const struct { const char *name; mm_act_t act; } acts[] = {
        { "withdraw", MM_ACT_WITHDRAW }, { "thank", MM_ACT_THANK },
        { "report", MM_ACT_REPORT },     { "answer", MM_ACT_ANSWER },
        { "decline", MM_ACT_DECLINE },   { "ask-back", MM_ACT_ASKBACK },
    };
    for (size_t i = 0; i < sizeof acts / sizeof acts[0]; i++)
        if (!strcmp(cmd, acts[i].name))
            return (int) acts[i].act;
    return -1;
}

static int complete_qids(cli_t *cli, const char *cmd)
{
    const uint8_t *me = mm_home_identity_pk(cli->home);
    int act = cmd ? act_of(cmd) : -1, ex;
    char hex[2 * 32 + 1];
    rels_t all;

    if ((ex = rel_all(cli, &all)) == CLI_EXIT_OK)
        for (size_t i = 0; i < all.n; i++)
            for (size_t k = 0; k < all.v[i].nq; k++) {
                const mm_question_t *q = &all.v[i].qs[k];
                if (act >= 0 && mm_question_may(q, me, (mm_act_t) act) != MM_OK)
                    continue;
                mm_encoding_hex(hex, q->q->id, 32);
                printf("%.*s\n", CLI_SHORT_ID, hex);
            }
    rel_all_free(&all);
    return ex;
}

int cmd_complete(cli_t *cli, int argc, char **argv)
{
    cmd_peers_t l;
    int ex;

    if (argc == 1 && !strcmp(argv[0], "peers")) {
        if ((ex = cmd_peer_all(cli, &l)) != CLI_EXIT_OK)
            return ex;
        for (size_t i = 0; i < l.n; i++)
            printf("%s\n", l.v[i].petname);
        free(l.v);
        return CLI_EXIT_OK;
    }
    if ((argc == 1 || argc == 2) && !strcmp(argv[0], "qids"))
        return complete_qids(cli, argc == 2 ? argv[1] : NULL);
    return cli_usage(cli, "give 'peers' or 'qids [COMMAND]'");
}
