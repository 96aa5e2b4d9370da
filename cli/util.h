/*  util.h -- what every command shares (util.c): one-line messages, option
 *  parsing and opening the home, the TEXT and id arguments, and times and
 *  text made fit for a terminal.
 */
#ifndef MM_CLI_UTIL_H
#define MM_CLI_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "cli/cli.h"

/* --- messages -------------------------------------------------------------- */

/* "mm CMD: " + message + newline on stderr. */
void cli_error(const cli_t *cli, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* cli_error, then CLI_EXIT_FAIL. */
int  cli_fail(const cli_t *cli, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* cli_error with "; see 'mm help GROUP'" appended, then CLI_EXIT_USAGE. */
int  cli_usage(const cli_t *cli, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* cli_fail, remembering rc (the MM_E code of the failure) for --json. */
int  cli_fail_code(const cli_t *cli, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* cli_error (the message says what to do), then CLI_EXIT_USAGE. */
int  cli_usage_said(const cli_t *cli, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* "mm CMD: WHAT: <mm_strerror(rc)>; <what to do>", then CLI_EXIT_FAIL. */
int  cli_fail_rc(const cli_t *cli, int rc, const char *what);
/* What to do next after an error code, for the second half of a message. */
const char *cli_hint(int rc);

/* The MM_E code of the failure about to be reported with cli_fail or
 * cli_error (a switch over a core code calls it once, before its words). */
void cli_set_code(int rc);

/* Members added to the --json error object: fn(j, arg) writes them into
 * the open "error" object.  arg must live until main returns. */
struct json;
typedef void (*cli_extra_fn)(struct json *j, const void *arg);
void cli_set_extra(cli_extra_fn fn, const void *arg);

/* With --json, a failed run (exit code ex, not 0) prints on stdout
 *   {"error": {"code": C, "message": M}}
 * where M is the last message said on stderr (without "mm CMD: ") and C
 * is "usage" for exit 2, else the MM_E name remembered by cli_fail_code,
 * cli_fail_rc or cli_set_code, else null.  Nothing when the command
 * already began a JSON document on stdout: one document per run.  Called
 * once, by main. */
void cli_error_json(const cli_t *cli, int ex);

/* The group of a command name ("note add" -> "note") into out. */
void cli_group(const char *name, char *out, size_t cap);

/* --- options and the home ---------------------------------------------------- */

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

/* Is this home's device key shown forked (a copied home, core/fork.h)?
 * 1 with *seq the first disputed seq (entries before it stay valid), else
 * 0 (also when the store cannot say). */
int cli_forked(const cli_t *cli, uint64_t *seq);

/* The one line that says so and how to recover, without "mm: " or newline. */
void cli_forked_text(char *out, size_t cap, uint64_t seq);

/* --- arguments --------------------------------------------------------------- */

#define CLI_SHORT_ID 12         /* hex digits of an id shown to people */
#define CLI_ID_MIN   4          /* hex digits of an id prefix people type */

/* arg as a lower-case id prefix of CLI_ID_MIN..64 hex digits into out.
 * Exit code (usage error naming what: "a question", "an ambition"). */
int  cli_id_prefix(cli_t *cli, const char *arg, const char *what,
                   char out[2 * 32 + 1]);

/* The TEXT of a command from its words (joined by single spaces) or from
 * stdin ("-"): 1..MM_TEXT_MAX bytes of UTF-8, no NUL, not blank.  *text
 * is malloc'd; free it with cli_text_free.  what names it in messages
 * ("question").  Exit code; prints errors. */
int  cli_text_read(cli_t *cli, int argc, char **argv, const char *what,
                   char **text, size_t *len);
/* On a terminal, before TEXT is read from stdin ("-"): the one-line
 * prompt "mm CMD: type the WHAT, then Ctrl-D on a line of its own:" on
 * stderr.  Nothing when stdin is not a terminal. */
void cli_stdin_prompt(const cli_t *cli, const char *what);
/* Wipe and free a TEXT (NULL is fine). */
void cli_text_free(char *text, size_t len);
/* The same checks on an option's value (--offer TEXT). */
int  cli_text_check(cli_t *cli, const char *what, const char *s, size_t len);

/* argv joined by single spaces into a malloc'd string with a NUL after it.
 * 0; 1 if longer than max bytes; -1 when out of memory. */
int cli_join_words(int argc, char **argv, size_t max, char **out,
                   size_t *len);

/* Read all of stdin, at most max bytes: buffer is malloc'd with a NUL after
 * it.  0; -1 with errno on a read error or out of memory; 1 if there is
 * more than max. */
int cli_read_stdin(char **buf, size_t *len, size_t max);

/* --- time ---------------------------------------------------------------------- */

#define CLI_TIME_MAX 48

/* "30m" in milliseconds: N then s, m, h or d, at most max_ms; 0 if it is
 * not one (or zero, or more than max_ms). */
uint64_t cli_duration_ms(const char *s, uint64_t max_ms);

/* "2026-11-27T08:40:00.123Z" (UTC). */
void cli_time_iso(char out[CLI_TIME_MAX], uint64_t ms);
/* "2026-11-27 09:40:00 +0100" (local time). */
void cli_time_local(char out[CLI_TIME_MAX], uint64_t ms);
/* "2026-11-27" (local time). */
void cli_time_date(char out[CLI_TIME_MAX], uint64_t ms);
/* "just now", "5 minutes ago", ... or beyond 30 days the local date. */
void cli_time_rel(char out[CLI_TIME_MAX], uint64_t ms, uint64_t now);

/* --- text for the terminal ------------------------------------------------------- */

/* Length of the well-formed UTF-8 sequence at s[0..n), or 0 if it is not
 * one (overlong forms, surrogates and code points past U+10FFFF are not). */
size_t cli_utf8_len(const unsigned char *s, size_t n);

/* One line of s[0..n) fit for a terminal: control characters replaced,
 * cut after maxchars characters (UTF-8 safe) with "…" appended.  Returns a
 * malloc'd string or NULL when out of memory. */
char *cli_line(const char *s, size_t n, size_t maxchars);

/* The first line of s[0..n) (after leading blanks) as cli_line makes it:
 * malloc'd, NULL when out of memory. */
char *cli_first_line(const char *s, size_t n, size_t maxchars);

/* Print s[0..n) line by line on stdout, each after indent and made safe
 * (cli_line); blank lines kept. */
void cli_print_lines(const char *indent, const char *s, size_t n);

/* Display width of s in characters (UTF-8 code points). */
size_t cli_width(const char *s);

/* The terminal's width in columns for wrapping: $COLUMNS when it is a
 * number from 20 to 1000, else the width of the terminal on stdout, else 0
 * (not known: nothing is wrapped). */
size_t cli_term_cols(void);

/* Columns s[0..n) takes on a terminal: East Asian wide characters and
 * emoji two, combining marks and zero-width characters none, the rest one
 * (an approximation of wcwidth that needs no locale). */
size_t cli_cols(const char *s, size_t n);

/* The first line of s[0..n) (after leading blanks) made safe (cli_line)
 * and, if it takes more than maxcols columns, cut at the last word
 * boundary that fits (mid-word only for one word too long) with "…"
 * appended.  malloc'd, NULL when out of memory. */
char *cli_fit(const char *s, size_t n, size_t maxcols);

/* Print s[0..n) line by line on stdout as cli_print_lines does, each line
 * wrapped at word boundaries to the terminal's width (cli_term_cols; not
 * known: not wrapped): the first output line of each after indent, the
 * lines it wraps onto after hang. */
void cli_print_wrapped(const char *indent, const char *hang, const char *s, size_t n);

/* Colour escapes, or "" when colour is off. */
#define CLI_DIM    "\033[2m"
#define CLI_YELLOW "\033[33m"
#define CLI_RED    "\033[31m"
#define CLI_RESET  "\033[0m"
const char *cli_c(const cli_t *cli, const char *esc);

#endif
