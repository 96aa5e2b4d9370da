/*  edit.h -- a TEXT written in the person's editor (edit.c), the way git
 *  commit takes its message: when a command's TEXT is left out on a
 *  terminal, a file opens in the editor with comment lines saying what to
 *  write; what is saved, without the comment lines, is the TEXT, and an
 *  empty one aborts.
 *
 *  The editor is the config file's editor, else $EDITOR, else $VISUAL,
 *  else vi; it is run by /bin/sh with the file's path as its last
 *  argument, so a value like "nano -w" works.  The file lives in the home
 *  directory (0700) with mode 0600 and is removed afterwards: the text is
 *  as private as the home.
 */
#ifndef MM_CLI_EDIT_H
#define MM_CLI_EDIT_H

#include <stddef.h>

#include "cli/cli.h"

/* 1 if a TEXT left out can be written in an editor: stdin and stdout are
 * terminals. */
int cli_edit_possible(void);

/* The editor command (config, $EDITOR, $VISUAL, then "vi"). */
const char *cli_edit_command(void);

/* Open the editor on a file holding initial[0..ilen) (may be NULL) and,
 * below it, comments (lines, each written after "# ").  The saved text:
 * lines starting with '#' dropped, leading and trailing blank lines and
 * trailing blanks of the last line trimmed, into *text (malloc'd with a
 * NUL after it; free with cli_text_free).  Exit code: CLI_EXIT_FAIL, said,
 * when the editor fails or the text is empty ("aborted: the WHAT is
 * empty"), longer than max bytes or not UTF-8. */
int cli_edit(cli_t *cli, const char *what, const char *initial, size_t ilen,
             const char *comments, size_t max, char **text, size_t *len);

/* cli_text_read, or with no words (argc 0) on a terminal, cli_edit with
 * comments (NULL: a default that names what) and MM_TEXT_MAX.  Callers
 * let argc 0 through only when cli_edit_possible(). */
int cli_edit_text(cli_t *cli, int argc, char **argv, const char *what,
                  const char *comments, char **text, size_t *len);

/* The comment lines of a reply's editor: what to write, to whom. */
void cli_edit_comments(char *out, size_t cap, const char *what, const char *to);

#endif
