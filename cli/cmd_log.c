/*  cmd_log.c -- mm log: every stored entry, feed by feed.
 *
 *  A diagnostic view of the raw log: it shows what the store holds, and
 *  decrypts only the body type, and only where the scope key is known.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cli/cli.h"
#include "cli/json.h"
#include "cli/util.h"
#include "core/body.h"
#include "core/entry.h"
#include "core/log.h"
#include "core/scope.h"
#include "core/store.h"
#include "crypto/error.h"
#include "crypto/encoding.h"
#include "crypto/idcode.h"

const char cmd_log_help[] =
    "list every entry in the store, feed by feed\n"
    "\n"
    "DESCRIPTION\n"
    "    A feed is the chain of one device's entries in one scope.  mm log\n"
    "    walks every feed in the store and prints one line per entry:\n"
    "\n"
    "    FEED                   SEQ  TYPE      TIME                      ID\n"
    "    mmdab3kq2xz7/self        1  note      2026-11-27T08:40:00.123Z  1a2b...\n"
    "\n"
    "    FEED is the start of the writing device's code and the scope kind\n"
    "    (self, pair, or the first 8 hex digits of an unknown scope's id).\n"
    "    TYPE is the body type, decrypted when this home holds the scope's\n"
    "    key, else '?'.  TIME is UTC; ID the entry id (BLAKE2b-256 of its\n"
    "    bytes).\n"
    "\n"
    "OPTIONS\n"
    "    --raw\n"
    "        Also print each entry's encoded bytes, as hex.\n"
    "\n"
    "    --json prints {\"entries\": [{\"author\", \"scope\", \"scope_kind\", \"seq\",\n"
    "    \"type\", \"time\", \"time_ms\", \"id\", \"size\", \"prev\"}]}, with \"raw\" too\n"
    "    when --raw is given.  author is an mmd code, scope and ids 64 hex\n"
    "    digits; scope_kind, type and prev are null when unknown or absent.\n"
    "\n"
    "EXAMPLES\n"
    "    mm log\n"
    "    mm log --raw --json\n"
    "\n"
    "EXIT STATUS\n"
    "    0  listed\n"
    "    1  the store cannot be read, or holds an entry that does not parse\n"
    "    2  the command line is wrong\n";

#define FEED_W 21               /* 12 chars of the mmd code + "/" + 8 hex */
#define TYPE_W  13          /* "ambition-done" */
#define TIME_W 24

typedef struct {
    cli_t      *cli;
    mm_txn_t   *txn;
    json_t      j;              /* json: written to a memory stream */
    int         raw;
    size_t      count;
    uint8_t    *pt;             /* plaintext, MM_BODY_MAX */
    mm_scope_t  scope;          /* of the feed being walked, if have_scope */
    int         have_scope;
    const char *kind;           /* "self", "pair" or NULL */
    char        author[MM_IDCODE_LEN + 1];
    char        feed[FEED_W + 1];
    int         failed;         /* an error was printed */
} log_t;

static void print_hex(FILE *f, const uint8_t *buf, size_t n)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        fputc(digits[buf[i] >> 4], f);
        fputc(digits[buf[i] & 15], f);
    }
}

/* The body type of e as a malloc'd string, or NULL when it is unknown. */
static char *entry_type(log_t *c, const mm_entry_t *e)
{
    const char *t;
    uint32_t tlen;
    size_t ptlen = 0;
    char *type = NULL;

    if (!c->have_scope)
        return NULL;
    if (mm_entry_open_scope(e, &c->scope, c->pt, MM_BODY_MAX, &ptlen) == MM_OK &&
        mm_body_type(c->pt, ptlen, &t, &tlen) == MM_OK)
        type = cli_line(t, tlen, MM_BODY_TYPE_MAX);
    sodium_memzero(c->pt, ptlen);
    return type;
}

static int on_entry(const uint8_t *buf, size_t len, uint64_t seq, void *arg)
{
    log_t *c = arg;
    char when[CLI_TIME_MAX], id[2 * 32 + 1];
    char *type;
    mm_entry_t e;
    int rc;

    rc = mm_entry_parse(buf, len, &e);
    if (rc != MM_OK) {
        cli_error(c->cli, "entry %llu of feed %s does not parse: %s; run 'mm "
                  "verify'", (unsigned long long) seq, c->feed, mm_strerror(rc));
        c->failed = 1;
        return rc;
    }
    type = entry_type(c, &e);
    cli_time_iso(when, e.time);
    mm_encoding_hex(id, e.id, sizeof e.id);

    if (c->cli->json) {
        json_t *j = &c->j;
        json_obj_begin(j, NULL);
        json_str(j, "author", c->author);
        json_hex(j, "scope", e.scope, 32);
        json_str(j, "scope_kind", c->kind);
        json_uint(j, "seq", e.seq);
        json_str(j, "type", type);
        json_str(j, "time", when);
        json_uint(j, "time_ms", e.time);
        json_str(j, "id", id);
        json_uint(j, "size", len);
        json_hex(j, "prev", e.prev, 32);
        if (c->raw)
            json_hex(j, "raw", buf, len);
        json_obj_end(j);
    } else {
        if (c->count == 0) {
            printf("%-*s  %5s  %-*s  %-*s  ", FEED_W, "FEED", "SEQ",
                   TYPE_W, "TYPE", TIME_W, "TIME");
            if (c->raw)
                printf("%-64s  RAW\n", "ID");
            else
                printf("ID\n");
        }
        printf("%-*s  %5llu  %-*s  %-*s  %s%s%s", FEED_W, c->feed,
               (unsigned long long) e.seq, TYPE_W, type ? type : "?",
               TIME_W, when, cli_c(c->cli, CLI_YELLOW), id,
               cli_c(c->cli, CLI_RESET));
        if (c->raw) {
            fputs("  ", stdout);
            print_hex(stdout, buf, len);
        }
        putchar('\n');
    }
    free(type);
    c->count++;
    return 0;
}

static int on_feed(const uint8_t author[32], const uint8_t scope[32],
                   const mm_head_t *head, void *arg)
{
    log_t *c = arg;
    char sid[2 * 32 + 1];
    int rc;

    (void) head;
    mm_idcode_encode(c->author, MM_IDCODE_DEVICE, author);
    /* A feed whose scope this home does not hold is still listed. */
    c->have_scope = mm_scope_get(c->txn, scope, &c->scope) == MM_OK;
    c->kind = NULL;
    if (c->have_scope && c->scope.kind == MM_SCOPE_SELF)
        c->kind = "self";
    else if (c->have_scope && c->scope.kind == MM_SCOPE_PAIR)
        c->kind = "pair";
    mm_encoding_hex(sid, scope, 32);
    snprintf(c->feed, sizeof c->feed, "%.12s/%.8s", c->author,
             c->kind ? c->kind : sid);
    rc = mm_log_walk(c->txn, author, scope, 1, on_entry, c);
    mm_scope_wipe(&c->scope);
    c->have_scope = 0;
    return rc;
}

int cmd_log(cli_t *cli, int argc, char **argv)
{
    log_t c;
    char *mbuf = NULL;
    size_t msize = 0;
    FILE *m = NULL;
    int ex = CLI_EXIT_FAIL, rc;

    memset(&c, 0, sizeof c);
    c.cli = cli;
    c.raw = cli->opt[CLI_OPT_RAW] != NULL;
    if (argc > 0)
        return cli_usage(cli, "unexpected argument '%s'", argv[0]);
    if (!(c.pt = malloc(MM_BODY_MAX)))
        return cli_fail_rc(cli, MM_ENOMEM, "cannot read the log");
    /* JSON goes to memory first so a failure never leaves half a document. */
    if (cli->json) {
        if (!(m = open_memstream(&mbuf, &msize))) {
            cli_fail_rc(cli, MM_ENOMEM, "cannot read the log");
            goto out;
        }
        json_init(&c.j, m);
        json_obj_begin(&c.j, NULL);
        json_arr_begin(&c.j, "entries");
    }
    rc = mm_store_begin(mm_home_store(cli->home), 0, &c.txn);
    if (rc != MM_OK) {
        cli_fail_rc(cli, rc, "cannot read the store");
        goto out;
    }
    rc = mm_log_feeds(c.txn, on_feed, &c);
    mm_txn_abort(&c.txn);
    if (rc != MM_OK) {
        if (!c.failed)
            cli_fail_rc(cli, rc, "cannot read the log");
        goto out;
    }
    if (cli->json) {
        json_arr_end(&c.j);
        json_obj_end(&c.j);
        json_finish(&c.j);
        if (fclose(m) != 0) {
            m = NULL;
            cli_fail_rc(cli, MM_ENOMEM, "cannot read the log");
            goto out;
        }
        m = NULL;
        fwrite(mbuf, 1, msize, stdout);
    } else if (c.count == 0) {
        printf("no entries yet; add a note with 'mm note add TEXT'\n");
    }
    ex = CLI_EXIT_OK;
out:
    if (m)
        fclose(m);
    free(mbuf);
    sodium_memzero(c.pt, MM_BODY_MAX);
    free(c.pt);
    return ex;
}
