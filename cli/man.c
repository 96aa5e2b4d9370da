/*  man.c -- mm(1) in roff, printed by 'mm help --man' from the command
 *  table and the long help texts, so the manual never drifts from
 *  'mm help'.  The build writes build/mm.1 with it (CMakeLists.txt).
 *
 *  Help texts are laid out for a terminal: a heading at column 0, its
 *  body indented by four spaces.  A heading becomes a bold line and the
 *  body stays preformatted (examples and tables keep their lines), with
 *  the four spaces taken off, as the page indents the section itself.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

/* Text as roff: no request at the start of a line, '\' and '-' escaped,
 * anything outside ASCII as a \[uXXXX] glyph (groff reads bytes). */
static void roff_text(FILE *f, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *) s, *end = p + n;

    if (p < end && (*p == '.' || *p == '\''))
        fputs("\\&", f);
    while (p < end) {
        unsigned c = *p, need;
        if (c == '\\') {
            fputs("\\e", f);
        } else if (c == '-') {
            fputs("\\-", f);
        } else if (c < 0x80) {
            fputc((int) c, f);
        } else {
            need = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;
            c &= 0x3fu >> need;
            if (!need || (size_t) (end - p) <= need) {
                fputs("\\[uFFFD]", f);          /* not UTF-8: say so */
                p++;
                continue;
            }
            for (unsigned k = 1; k <= need; k++)
                c = c << 6 | (p[k] & 0x3fu);
            fprintf(f, "\\[u%04X]", c);
            p += need;
        }
        p++;
    }
}

/* Each line of s as a line of text. */
static void roff_lines(FILE *f, const char *s)
{
    while (*s) {
        size_t n = strcspn(s, "\n");
        roff_text(f, s, n);
        fputc('\n', f);
        s += n;
        if (*s == '\n')
            s++;
    }
}

/* A help text's body (after its first line): headings bold, the rest
 * preformatted and moved left by the terminal's four spaces. */
static void roff_body(FILE *f, const char *text)
{
    int nf = 0, blank = 0;

    while (*text) {
        size_t n = strcspn(text, "\n");
        if (n == 0) {
            blank = nf;             /* kept only between two body lines */
        } else if (text[0] != ' ') {
            if (nf)
                fputs(".fi\n", f);
            fputs(".PP\n.B ", f);
            roff_text(f, text, n);
            fputs("\n.nf\n", f);
            nf = 1;
            blank = 0;
        } else {
            size_t skip = 0;
            while (skip < 4 && skip < n && text[skip] == ' ')
                skip++;
            if (!nf)
                fputs(".PP\n.nf\n", f);
            if (blank)
                fputs("\n", f);
            nf = 1;
            blank = 0;
            roff_text(f, text + skip, n - skip);
            fputc('\n', f);
        }
        text += n;
        if (*text == '\n')
            text++;
    }
    if (nf)
        fputs(".fi\n", f);
}

/* The groups in table order, each once: every member's usage, then the
 * group's help. */
static void roff_commands(FILE *f)
{
    for (size_t i = 0; i < cli_ncommands; i++) {
        const cli_cmd_t *c = &cli_commands[i];
        char group[32];
        size_t g;

        if (c->flags & CLI_HIDDEN)
            continue;
        g = strcspn(c->name, " ");
        snprintf(group, sizeof group, "%.*s", (int) g, c->name);
        if (i > 0 && !strncmp(cli_commands[i - 1].name, group, g) &&
            (cli_commands[i - 1].name[g] == ' ' || !cli_commands[i - 1].name[g]))
            continue;                       /* a later member of the group */
        fputs(".SS \"mm ", f);
        roff_text(f, group, strlen(group));
        fputs("\"\n", f);
        roff_text(f, c->help, strcspn(c->help, "\n"));
        fputs("\n.PP\n.nf\n", f);
        for (size_t j = i; j < cli_ncommands; j++) {
            const char *name = cli_commands[j].name;
            if (strncmp(name, group, g) || (name[g] != ' ' && name[g]))
                break;
            roff_lines(f, cli_commands[j].usage);
        }
        fputs(".fi\n", f);
        if (strchr(c->help, '\n'))
            roff_body(f, strchr(c->help, '\n') + 1);
    }
}

void cli_print_man(FILE *f)
{
    fputs(".\\\" mm(1): written by 'mm help \\-\\-man' from the command table; do not edit.\n"
          ".TH MM 1 \"\" \"mm " MM_VERSION "\" \"micromentor\"\n"
          ".SH NAME\n"
          "mm \\- micromentor: advice given and sought in bite\\-size engagements\n"
          ".SH SYNOPSIS\n"
          ".nf\n", f);
    roff_lines(f, cli_synopsis);
    fputs(".fi\n.SH DESCRIPTION\n", f);
    roff_lines(f, cli_about);
    fputs(".PP\n"
          "Each command documents itself: \\fBmm help\\fR \\fICOMMAND\\fR shows the\n"
          "same text as its section below.\n", f);
    roff_body(f, cli_common_options);
    fputs(".SH COMMANDS\n", f);
    roff_commands(f);
    fputs(".SH FILES\n"
          ".TP\n"
          ".I $MM_HOME\n"
          "The home (a 0700 directory): \\fB\\-\\-home\\fR \\fIDIR\\fR, else\n"
          "\\fB$MM_HOME\\fR, else \\fB$XDG_DATA_HOME/micromentor\\fR, else\n"
          "\\fB~/.local/share/micromentor\\fR.\n"
          ".TP\n"
          ".I HOME/identity.key\n"
          "The identity's secret key (0600).\n"
          ".TP\n"
          ".I HOME/device.key\n"
          "This device's secret key (0600).\n"
          ".TP\n"
          ".I HOME/store/\n"
          "The LMDB store (\\fIdata.mdb\\fR, \\fIlock.mdb\\fR; 0600): the signed,\n"
          "hash\\-chained log and its indexes.\n"
          ".TP\n"
          ".I HOME/config\n"
          "Defaults that flags override, \\fIkey\\fR = \\fIvalue\\fR lines: see\n"
          "\\fBmm help config\\fR (optional, 0600).\n"
          ".TP\n"
          ".I HOME/looked\n"
          "What you last saw in \\fBmm status\\fR on this device: the mark of\n"
          "\"new since you last looked\" (optional, 0600).\n"
          ".SH ENVIRONMENT\n"
          ".TP\n"
          ".B MM_HOME\n"
          "The home, when \\fB\\-\\-home\\fR is not given.\n"
          ".TP\n"
          ".B XDG_DATA_HOME\n"
          "Without \\fB\\-\\-home\\fR and \\fBMM_HOME\\fR, the home is\n"
          "\\fI$XDG_DATA_HOME/micromentor\\fR (an absolute path only).\n"
          ".TP\n"
          ".B HOME\n"
          "Otherwise the home is \\fI$HOME/.local/share/micromentor\\fR.\n"
          ".TP\n"
          ".B MM_PASSPHRASE\n"
          "The passphrase of \\fBmm backup\\fR and \\fBmm restore\\fR when\n"
          "\\fB\\-\\-passphrase\\-file\\fR is not given (else it is asked on the\n"
          "terminal).\n"
          ".TP\n"
          ".B MM_PWHASH\n"
          "\\fBmin\\fR: \\fBmm backup\\fR uses the smallest Argon2id parameters\n"
          "(for tests only; a backup is then easy to guess at).\n"
          ".TP\n"
          ".B NO_COLOR\n"
          "When set and not empty, no colour, even on a terminal (as with\n"
          "\\fBTERM=dumb\\fR or \\fB\\-\\-json\\fR), unless the config file says\n"
          "\\fBcolor = always\\fR.\n"          ".TP\n"
          ".B EDITOR\n"
          "The editor for a TEXT left out on a terminal, when the config file\n"
          "names none; then \\fBVISUAL\\fR, then \\fBvi\\fR.\n"
          ".TP\n"
          ".B COLUMNS\n"
          "The width \\fBmm status\\fR and \\fBmm inbox\\fR fit their lines to\n"
          "(20 to 1000), else the terminal's.\n"
          ".SH EXIT STATUS\n"
          ".TP\n"
          ".B 0\n"
          "Success.\n"
          ".TP\n"
          ".B 1\n"
          "The operation failed (a bad signature, a refused overwrite, a peer\n"
          "that cannot be reached); one line on stderr says what to do next.\n"
          ".TP\n"
          ".B 2\n"
          "The command line is wrong.\n"
          ".PP\n"
          "Each command's section lists its own cases.\n", f);
}
