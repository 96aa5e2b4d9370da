/*  cmd_note.c -- mm note add | list | show: private notes in the self scope. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cli/cli.h"
#include "cli/cmd_peer.h"
#include "cli/edit.h"
#include "cli/json.h"
#include "cli/util.h"
#include "core/engage.h"
#include "core/note.h"
#include "crypto/error.h"
#include "crypto/encoding.h"
#include "crypto/idcode.h"

const char cmd_note_help[] =
    "write, list and read private notes\n"
    "\n"
    "DESCRIPTION\n"
    "    A note is an entry in your self scope: signed by this device and\n"
    "    encrypted so that only your own devices can read it.  Notes are\n"
    "    never changed or deleted; a new note is a new entry.\n"
    "\n"
    "    add TEXT...\n"
    "        Write a note.  Several words are joined with single spaces, as\n"
    "        echo does; quote the text to keep it exact.  Text starting with\n"
    "        '-' goes after '--'.  Prints the note's short id.\n"
    "    add -\n"
    "        Read the note from stdin (at most 60000 bytes of UTF-8); one\n"
    "        trailing newline is dropped.  On a terminal a one-line prompt\n"
    "        says so first.\n"
    "    add\n"
    "        With no TEXT on a terminal: write the note in your editor\n"
    "        (config editor, $EDITOR, $VISUAL, vi); lines starting with '#'\n"
    "        are dropped and an empty note aborts.\n"
    "    add --about PEER TEXT...\n"
    "        A note about one of your peers: still private, shown beside\n"
    "        your relationship by 'mm thread PEER --private' and 'mm export\n"
    "        PEER --private', never sent to anyone.\n"
    "    list\n"
    "        One line per note, newest first: short id, when, and the first\n"
    "        line (cut at 60 characters).\n"
    "    show ID\n"
    "        One note in full.  ID is the note id or a prefix of it of at\n"
    "        least 4 hex digits, as printed by add and list.\n"
    "\n"
    "OUTPUT\n"
    "    add:   added note 1a2b3c4d5e6f\n"
    "    list:  1a2b3c4d5e6f  5 minutes ago  Call Bob about the thesis\n"
    "    show:  note    <64 hex digits>\n"
    "           date    2026-11-27 09:40:00 +0100 (5 minutes ago)\n"
    "           device  mmd...\n"
    "\n"
    "           <text>\n"
    "\n"
    "    --json: add prints {\"id\", \"time\", \"time_ms\"}; list prints\n"
    "    {\"notes\": [...]} and show one element of it, each\n"
    "    {\"id\", \"time\", \"time_ms\", \"device\", \"seq\", \"text\"}.  id is 64 hex\n"
    "    digits, time ISO 8601 UTC with milliseconds, time_ms milliseconds\n"
    "    since 1970, device the mmd code of the device that wrote it.\n"
    "\n"
    "EXAMPLES\n"
    "    mm note add Call Bob about the thesis\n"
    "    fortune | mm note add -\n"
    "    mm note add -- '-5 degrees outside'\n"
    "    mm note add --about grace 'Grace prefers short questions'\n"
    "    mm note list\n"
    "    mm note show 1a2b\n"
    "\n"
    "EXIT STATUS\n"
    "    0  done (also for a list with no notes)\n"
    "    1  failed: empty, too long or not UTF-8 text; no such note or\n"
    "       peer; an ambiguous id; no home; a store error\n"
    "    2  the command line is wrong (no text, an id of fewer than 4 digits)\n";

#define SHORT_ID 12              /* hex digits of an id shown in lists */
#define LINE_CHARS 60            /* first line shown by list */
#define ID_MIN 4                 /* hex digits of a prefix given to show */
#define NOTE_CAND_MAX 8          /* notes named for an ambiguous prefix */
#define NOTE_CAND_LINE 24        /* characters of each one's first line */

/* One note as a JSON object (an element of list, or the result of show). */
static void note_json(json_t *j, const mm_note_t *n)
{
    char when[CLI_TIME_MAX], dev[MM_IDCODE_LEN + 1];

    cli_time_iso(when, n->time);
    mm_idcode_encode(dev, MM_IDCODE_DEVICE, n->author);
    json_obj_begin(j, NULL);
    json_hex(j, "id", n->id, sizeof n->id);
    json_str(j, "time", when);
    json_uint(j, "time_ms", n->time);
    json_str(j, "device", dev);
    json_uint(j, "seq", n->seq);
    json_strn(j, "text", n->text, n->len);
    json_obj_end(j);
}

/* The note's text from argv (joined by spaces) or stdin ("-"): malloc'd.
 * Returns an exit code; prints errors. */
static int note_text(cli_t *cli, int argc, char **argv, char **out, size_t *outlen)
{
    size_t len = 0;
    char *text;
    int r;

    *out = NULL;
    *outlen = 0;
    if (argc == 1 && strcmp(argv[0], "-") == 0) {
        cli_stdin_prompt(cli, "note");
        /* One byte more than the limit: the newline we are about to drop. */
        r = cli_read_stdin(&text, &len, MM_NOTE_MAX + 1);
        if (r < 0)
            return cli_fail(cli, "cannot read the note from stdin: %s; check "
                            "what is piped in", strerror(errno));
        if (r > 0)
            goto toobig;
        if (len > 0 && text[len - 1] == '\n')
            text[--len] = '\0';
    } else {
        r = cli_join_words(argc, argv, MM_NOTE_MAX, &text, &len);
        if (r > 0)
            goto toobig;
        if (r < 0)
            return cli_fail_rc(cli, MM_ENOMEM, "cannot add the note");
    }
    if (len > MM_NOTE_MAX) {
        sodium_memzero(text, len);
        free(text);
        goto toobig;
    }
    *out = text;
    *outlen = len;
    return CLI_EXIT_OK;
toobig:
    return cli_fail(cli, "the note is longer than %d bytes; shorten it or split "
                    "it into several notes", MM_NOTE_MAX);
}

int cmd_note_add(cli_t *cli, int argc, char **argv)
{
    const char *about = cli->opt[CLI_OPT_ABOUT];
    char hex[2 * 32 + 1], when[CLI_TIME_MAX];
    mm_peer_t peer;
    mm_note_list_t got = { 0 };
    uint8_t id[32];
    char *text = NULL;
    size_t len = 0;
    int ex, rc;
    json_t j;

    if (argc == 0 && !cli_edit_possible())
        return cli_usage(cli, "missing the note's TEXT, or '-' to read it "
                         "from stdin");
    if (about) {
        if ((ex = cmd_peer_get(cli, about, &peer)) != CLI_EXIT_OK)
            return ex;
    }
    if (argc == 0) {        /* on a terminal: the editor (edit.h) */
        char c[256];
        cli_edit_comments(c, sizeof c, "note", NULL);
        ex = cli_edit(cli, "note", NULL, 0, c, MM_NOTE_MAX, &text, &len);
    } else {
        ex = note_text(cli, argc, argv, &text, &len);
    }
    if (ex != CLI_EXIT_OK)
        return ex;
    ex = CLI_EXIT_FAIL;
    if (len == 0) {
        cli_error(cli, "the note is empty; give some text, or pipe it into "
                  "'mm note add -'");
        goto out;
    }
    if (memchr(text, '\0', len)) {
        cli_error(cli, "the note contains a NUL byte; notes are text, give "
                  "UTF-8 without NUL bytes");
        goto out;
    }
    if (!mm_utf8_valid(text, len)) {
        cli_error(cli, "the note is not valid UTF-8; convert it first, e.g. "
                  "with iconv -t UTF-8");
        goto out;
    }
    if (about) {
        /* mm_note_add has no about: the same body, with the field. */
        mm_field_t f[2] = {
            { "text", MM_F_STR, text, len, 0 },
            { "about", MM_F_BIN, peer.identity, 32, 0 },
        };
        rc = mm_engage_append(cli->home, mm_home_self_scope(cli->home),
                              MM_T_NOTE, f, 2, id);
    } else {
        rc = mm_note_add(cli->home, text, len, id);
    }
    if (rc != MM_OK) {
        cli_fail_rc(cli, rc, "cannot add the note");
        goto out;
    }
    mm_encoding_hex(hex, id, sizeof id);
    if (!cli->json) {
        printf("added note %s%.*s%s\n", cli_c(cli, CLI_YELLOW), SHORT_ID, hex,
               cli_c(cli, CLI_RESET));
        ex = CLI_EXIT_OK;
        goto out;
    }
    /* The time was chosen when the entry was sealed: read it back. */
    rc = mm_note_get(cli->home, hex, &got);
    if (rc != MM_OK || got.n != 1) {
        cli_error(cli, "added note %s but cannot read it back: %s; %s", hex,
                  mm_strerror(rc), cli_hint(rc));
        goto out;
    }
    cli_time_iso(when, got.v[0].time);
    json_init(&j, stdout);
    json_obj_begin(&j, NULL);
    json_str(&j, "id", hex);
    json_str(&j, "time", when);
    json_uint(&j, "time_ms", got.v[0].time);
    json_obj_end(&j);
    json_finish(&j);
    ex = CLI_EXIT_OK;
out:
    mm_note_list_free(&got);
    if (text) {
        sodium_memzero(text, len);
        free(text);
    }
    return ex;
}

/* The line list shows for a note: its first non-blank line, made safe. */
static char *note_line(const mm_note_t *n)
{
    size_t i = 0;

    while (i < n->len && isspace((unsigned char) n->text[i]))
        i++;
    return cli_line(n->text + i, n->len - i, LINE_CHARS);
}

static int list_text(cli_t *cli, const mm_note_list_t *list)
{
    char (*when)[CLI_TIME_MAX];
    char hex[2 * 32 + 1], *line;
    uint64_t now = mm_now_ms();
    size_t w = 0, i;

    if (list->n == 0) {
        printf("no notes yet; add one with 'mm note add TEXT'\n");
        return CLI_EXIT_OK;
    }
    /* Relative times first: their widest sets the column. */
    if (!(when = calloc(list->n, sizeof *when)))
        return cli_fail_rc(cli, MM_ENOMEM, "cannot list the notes");
    for (i = 0; i < list->n; i++) {
        cli_time_rel(when[i], list->v[i].time, now);
        if (cli_width(when[i]) > w)
            w = cli_width(when[i]);
    }
    for (i = 0; i < list->n; i++) {
        if (!(line = note_line(&list->v[i]))) {
            free(when);
            return cli_fail_rc(cli, MM_ENOMEM, "cannot list the notes");
        }
        mm_encoding_hex(hex, list->v[i].id, sizeof list->v[i].id);
        printf("%s%.*s%s  %-*s  %s\n", cli_c(cli, CLI_YELLOW), SHORT_ID, hex,
               cli_c(cli, CLI_RESET), (int) w, when[i], line);
        free(line);
    }
    free(when);
    return CLI_EXIT_OK;
}

int cmd_note_list(cli_t *cli, int argc, char **argv)
{
    mm_note_list_t list = { 0 };
    int ex, rc;
    json_t j;

    if (argc > 0)
        return cli_usage(cli, "unexpected argument '%s'", argv[0]);
    rc = mm_note_list(cli->home, &list);
    if (rc != MM_OK)
        return cli_fail_rc(cli, rc, "cannot list the notes");
    if (cli->json) {
        json_init(&j, stdout);
        json_obj_begin(&j, NULL);
        json_arr_begin(&j, "notes");
        for (size_t i = 0; i < list.n; i++)
            note_json(&j, &list.v[i]);
        json_arr_end(&j);
        json_obj_end(&j);
        json_finish(&j);
        ex = CLI_EXIT_OK;
    } else {
        ex = list_text(cli, &list);
    }
    mm_note_list_free(&list);
    return ex;
}

/* The candidates of an ambiguous prefix, for the --json error object. */
static mm_note_list_t candidates;

static void candidates_json(json_t *j, const void *arg)
{
    char hex[2 * 32 + 1];

    (void) arg;
    json_arr_begin(j, "candidates");
    for (size_t i = 0; i < candidates.n && i < NOTE_CAND_MAX; i++) {
        mm_encoding_hex(hex, candidates.v[i].id, 32);
        json_obj_begin(j, NULL);
        json_str(j, "id", hex);
        json_uint(j, "time_ms", candidates.v[i].time);
        json_obj_end(j);
    }
    json_arr_end(j);
}

/* "id prefix 'P' matches 2 notes: 1a2b3c4d5e6f (first line), ...; give
 * more digits" for the notes core found (got, newest first; freed). */
static int note_ambiguous(cli_t *cli, const char *prefix, mm_note_list_t *got)
{
    char list[NOTE_CAND_MAX * (CLI_SHORT_ID + 4 * NOTE_CAND_LINE + 16)];
    char hex[2 * 32 + 1], *line;
    size_t o = 0, n = got->n;
    int ex;

    list[0] = '\0';
    for (size_t i = 0; i < n && i < NOTE_CAND_MAX && o < sizeof list; i++) {
        mm_encoding_hex(hex, got->v[i].id, 32);
        line = cli_first_line(got->v[i].text, got->v[i].len, NOTE_CAND_LINE);
        o += (size_t) snprintf(list + o, sizeof list - o, "%s%.*s (%s)", i ? ", " : "",
                               CLI_SHORT_ID, hex, line ? line : "?");
        free(line);
    }
    ex = cli_fail_code(cli, MM_EAMBIG, "id prefix '%s' matches %zu notes: %s%s; give "
                       "more digits", prefix, n, list, n > NOTE_CAND_MAX ? ", ..." : "");
    /* the ids stay for the error object; the texts go now */
    for (size_t i = 0; i < n; i++) {
        sodium_memzero(got->v[i].text, got->v[i].len);
        got->v[i].len = 0;
    }
    mm_note_list_free(&candidates);
    candidates = *got;
    memset(got, 0, sizeof *got);
    cli_set_extra(candidates_json, NULL);
    return ex;
}

int cmd_note_show(cli_t *cli, int argc, char **argv)
{
    char prefix[2 * 32 + 1], hex[2 * 32 + 1], dev[MM_IDCODE_LEN + 1];
    char local[CLI_TIME_MAX], rel[CLI_TIME_MAX];
    mm_note_list_t got = { 0 };
    const mm_note_t *n;
    size_t len;
    int rc;
    json_t j;

    if (argc != 1)
        return cli_usage(cli, argc ? "give one note ID" : "missing the note ID");
    len = strlen(argv[0]);
    if (len < ID_MIN || len > 64 || strspn(argv[0], "0123456789abcdefABCDEF") != len)
        return cli_usage(cli, "'%s' is not a note id: give %d to 64 of its hex "
                         "digits", argv[0], ID_MIN);
    for (size_t i = 0; i <= len; i++)
        prefix[i] = (char) tolower((unsigned char) argv[0][i]);

    rc = mm_note_get(cli->home, prefix, &got);
    if (rc == MM_ENOTFOUND)
        return cli_fail_code(cli, rc, "no note with id '%s'; see 'mm note list'",
                             argv[0]);
    if (rc == MM_EAMBIG)
        return note_ambiguous(cli, argv[0], &got);
    if (rc != MM_OK)
        return cli_fail_rc(cli, rc, "cannot read the note");
    if (got.n != 1) {
        mm_note_list_free(&got);
        return cli_fail(cli, "no note with id '%s'; see 'mm note list'", argv[0]);
    }
    n = &got.v[0];
    if (cli->json) {
        json_init(&j, stdout);
        note_json(&j, n);
        json_finish(&j);
    } else {
        mm_encoding_hex(hex, n->id, sizeof n->id);
        mm_idcode_encode(dev, MM_IDCODE_DEVICE, n->author);
        cli_time_local(local, n->time);
        cli_time_rel(rel, n->time, mm_now_ms());
        printf("note    %s%s%s\n", cli_c(cli, CLI_YELLOW), hex,
               cli_c(cli, CLI_RESET));
        printf("date    %s (%s)\n", local, rel);
        printf("device  %s\n\n", dev);
        fwrite(n->text, 1, n->len, stdout);
        if (n->len == 0 || n->text[n->len - 1] != '\n')
            putchar('\n');
    }
    mm_note_list_free(&got);
    return CLI_EXIT_OK;
}
