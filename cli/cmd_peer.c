/*  cmd_peer.c -- mm peer list | show | rename | set-addr | block | unblock |
 *  rm: this device's records of the people it syncs with. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cmd_peer.h"
#include "cli/json.h"
#include "cli/util.h"
#include "core/fold.h"
#include "core/log.h"
#include "core/peer.h"
#include "core/propagate.h"
#include "core/purge.h"
#include "core/device.h"
#include "crypto/error.h"
#include "crypto/encoding.h"
#include "crypto/idcode.h"

const char cmd_peer_help[] =
    "list and manage the people you sync with\n"
    "\n"
    "DESCRIPTION\n"
    "    A peer is someone whose invite you accepted or who accepted yours.\n"
    "    The record is your own bookkeeping: the name you call them\n"
    "    (petname), their role, the addresses of their mm serve, and whether\n"
    "    they are blocked.  Nothing of it is shared with the peer.  A rename,\n"
    "    block, unblock or rm is also written into your private self scope,\n"
    "    so that your other devices make the same change when they sync;\n"
    "    addresses stay on this device.\n"
    "    Roles are from your point of view: 'mentor' means they mentor you,\n"
    "    'mentee' means you mentor them.\n"
    "\n"
    "    PEER is a petname in any case or the start of an identity code,\n"
    "    'mmi' and at least 3 more characters.  Case is Unicode simple case\n"
    "    folding (Unicode 14): 'ÉMILE' is 'émile', 'ΣΟΦΊΑ' is 'σοφία', 'ПЁТР'\n"
    "    is 'пётр'; one letter folds to one letter, so 'ß' is not 'ss', and\n"
    "    accents typed as separate marks make another name.  Two peers never\n"
    "    have names that fold the same.\n"
    "\n"
    "    list\n"
    "        One line per peer, by name: NAME ROLE IDENTITY LAST-SYNC\n"
    "        STATE ENDPOINT (the identity code cut to 15 characters, the\n"
    "        first address).\n"
    "    show PEER\n"
    "        Everything about one peer, one field per line, then each of\n"
    "        their devices this device knows of: name, code, current or\n"
    "        revoked, when a session with it last completed.\n"
    "    rename PEER NEWNAME\n"
    "        Call them NEWNAME (1 to 64 bytes of UTF-8, no control\n"
    "        characters, not starting with 'mmi', not another peer's name).\n"
    "    set-addr PEER ENDPOINT...\n"
    "        Replace their addresses with 1 to 4 endpoints tcp://HOST:PORT,\n"
    "        tried in order by mm sync.\n"
    "    block PEER\n"
    "        Stop syncing with them: mm sync skips them and your mm serve\n"
    "        refuses their devices.  Nothing is deleted.\n"
    "    unblock PEER\n"
    "        Undo block.\n"
    "    rm PEER\n"
    "        Forget the peer record.  Every entry already stored, theirs and\n"
    "        yours, is kept: the log is append-only.  Your mm serve refuses\n"
    "        them from then on; a new invite makes them a peer again.\n"
    "    rm --purge [--yes] PEER\n"
    "        Also delete the relationship: every entry of the scope you\n"
    "        share (theirs and yours: questions, answers, everything), the\n"
    "        scope and its keys, and their devices' certificates that no\n"
    "        entry left here needs; all in one transaction.  Your other\n"
    "        devices do the same when they next sync (the self scope tells\n"
    "        them).  It cannot be undone, except from a backup or from the\n"
    "        peer, who keeps their copy.  Asks first on a terminal; --yes\n"
    "        answers yes (needed when not on a terminal).\n"
    "\n"
    "OUTPUT\n"
    "    list:\n"
    "        NAME   ROLE    IDENTITY         LAST-SYNC      STATE    ENDPOINT\n"
    "        grace  mentor  mmiab3kq2xz7c4d  5 minutes ago  active   tcp://10.0.0.2:7460\n"
    "    The other subcommands print one confirming line.\n"
    "\n"
    "    --json: list prints {\"peers\": [...]}; show and the others print one\n"
    "    peer object (rm: the record as it was; rm --purge:\n"
    "    {\"peer\": {...}, \"purged\": {\"entries\", \"devices\"}}, what went):\n"
    "    {\"name\", \"their_name\", \"identity\", \"role\", \"device\", \"endpoints\",\n"
    "    \"added\", \"added_ms\", \"last_sync\", \"last_sync_ms\", \"state\", \"scope\"}.\n"
    "    identity and device are mmi / mmd codes; role \"mentor\" or \"mentee\";\n"
    "    times ISO 8601 UTC (last_sync null and last_sync_ms 0 if never);\n"
    "    state \"active\" or \"blocked\"; scope the relationship scope id in hex.\n"
    "\n"
    "EXAMPLES\n"
    "    mm peer list\n"
    "    mm peer show grace\n"
    "    mm peer rename Grace grace-h\n"
    "    mm peer set-addr grace tcp://192.168.1.20:7460 tcp://grace.example.org:7460\n"
    "    mm peer block mmiab3kq2x\n"
    "    mm peer rm grace\n"
    "    mm peer rm --purge --yes grace\n"
    "\n"
    "EXIT STATUS\n"
    "    0  done (also for a list with no peers, or blocking a blocked peer)\n"
    "    1  failed: no such peer, an ambiguous PEER, the new name is taken,\n"
    "       no home, a store error; rm --purge not confirmed (MM_EINVAL:\n"
    "       not on a terminal and no --yes, or answered no)\n"
    "    2  the command line is wrong (missing arguments, an invalid name or\n"
    "       endpoint, an identity prefix shorter than 6 characters)\n";

#define IDENT_W 15              /* characters of the identity code in list */
#define STATE_W 7               /* "blocked" */

void cmd_peer_name(char out[CLI_NAME_SAFE], const char *name)
{
    char *line = cli_line(name, strlen(name), MM_PETNAME_MAX);

    snprintf(out, CLI_NAME_SAFE, "%s", line ? line : "?");
    free(line);
}

void cmd_peer_arg(char out[CLI_NAME_SAFE], const mm_peer_t *p)
{
    static const char plain[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                "0123456789._+@-";
    char code[MM_IDCODE_LEN + 1];
    const char *s = p->petname;
    size_t n = strlen(s);

    if (n > 0 && s[0] != '-' && strspn(s, plain) == n) {
        snprintf(out, CLI_NAME_SAFE, "%s", s);
        return;
    }
    /* In double quotes (messages quote commands in single ones) if that
     * keeps it as it is; else the identity code does it. */
    cmd_peer_name(out, s);
    if (s[0] != '-' && strcmp(out, s) == 0 && !strpbrk(s, "\"$`\\!")) {
        snprintf(out, CLI_NAME_SAFE, "\"%s\"", s);
    } else {
        mm_idcode_encode(code, MM_IDCODE_IDENTITY, p->identity);
        snprintf(out, CLI_NAME_SAFE, "%.12s", code);
    }
}

const char *cmd_peer_role(unsigned role)
{
    if (role == MM_ROLE_MENTOR)
        return "mentor";
    if (role == MM_ROLE_MENTEE)
        return "mentee";
    return "unknown";
}

int cmd_peer_find(cli_t *cli, mm_txn_t *txn, const char *what, mm_peer_t *p)
{
    int rc = mm_peer_find(txn, what, p);

    cli_set_code(rc);
    switch (rc) {
    case MM_OK:
        return CLI_EXIT_OK;
    case MM_ENOTFOUND:
        return cli_fail(cli, "no peer '%s'; see 'mm peer list'", what);
    case MM_EAMBIG:
        return cli_fail(cli, "'%s' matches more than one peer; give more of "
                        "the identity code", what);
    case MM_EINVAL:
        return cli_usage(cli, "'%s' is too short for an identity code; give "
                         "at least 6 characters", what);
    default:
        return cli_fail_rc(cli, rc, "cannot read the peers");
    }
}

void cmd_peer_json(json_t *j, const char *key, const mm_peer_t *p)
{
    char ident[MM_IDCODE_LEN + 1], dev[MM_IDCODE_LEN + 1];
    char added[CLI_TIME_MAX], synced[CLI_TIME_MAX];

    mm_idcode_encode(ident, MM_IDCODE_IDENTITY, p->identity);
    mm_idcode_encode(dev, MM_IDCODE_DEVICE, p->device);
    cli_time_iso(added, p->added);
    cli_time_iso(synced, p->last_sync);
    json_obj_begin(j, key);
    json_str(j, "name", p->petname);
    json_str(j, "their_name", p->name);
    json_str(j, "identity", ident);
    json_str(j, "role", cmd_peer_role(p->role));
    json_str(j, "device", dev);
    json_arr_begin(j, "endpoints");
    for (unsigned i = 0; i < p->nendpoints && i < MM_PEER_ENDPOINTS; i++)
        json_str(j, NULL, p->endpoints[i]);
    json_arr_end(j);
    json_str(j, "added", added);
    json_uint(j, "added_ms", p->added);
    json_str(j, "last_sync", p->last_sync ? synced : NULL);
    json_uint(j, "last_sync_ms", p->last_sync);
    json_str(j, "state", p->blocked ? "blocked" : "active");
    json_hex(j, "scope", p->scope, sizeof p->scope);
    json_obj_end(j);
}

/* --- list ---------------------------------------------------------------- */

static int collect(const mm_peer_t *p, void *arg)
{
    cmd_peers_t *l = arg;
    mm_peer_t *v;

    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 8;
        if (!(v = realloc(l->v, cap * sizeof *v)))
            return MM_ENOMEM;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = *p;
    l->mentees += p->role == MM_ROLE_MENTEE;
    return 0;
}

int cmd_peer_get(cli_t *cli, const char *what, mm_peer_t *p)
{
    mm_txn_t *txn = NULL;
    int ex, rc;

    memset(p, 0, sizeof *p);
    rc = mm_store_begin(mm_home_store(cli->home), 0, &txn);
    if (rc != MM_OK)
        return cli_fail_rc(cli, rc, "cannot read the peers");
    ex = cmd_peer_find(cli, txn, what, p);
    mm_txn_abort(&txn);
    return ex;
}

int cmd_peer_all(cli_t *cli, cmd_peers_t *l)
{
    mm_txn_t *txn = NULL;
    int rc;

    memset(l, 0, sizeof *l);
    rc = mm_store_begin(mm_home_store(cli->home), 0, &txn);
    if (rc == MM_OK)
        rc = mm_peer_foreach(txn, collect, l);
    mm_txn_abort(&txn);
    if (rc == MM_OK)
        return CLI_EXIT_OK;
    free(l->v);
    memset(l, 0, sizeof *l);
    return cli_fail_rc(cli, rc, "cannot read the peers");
}

/* Peers in the order of their petnames, folded (fold.h). */
static int by_name(const void *a, const void *b)
{
    const mm_peer_t *x = a, *y = b;
    int c = mm_fold_cmp(x->petname, y->petname);

    return c ? c : strcmp(x->petname, y->petname);
}

/* One row of the list, its cells made safe for the terminal. */
typedef struct {
    char name[CLI_NAME_SAFE];
    char ident[MM_IDCODE_LEN + 1];
    char when[CLI_TIME_MAX];
} row_t;

static int list_text(cli_t *cli, const cmd_peers_t *l)
{
    size_t wname = strlen("NAME"), wwhen = strlen("LAST-SYNC");
    uint64_t now = mm_now_ms();
    row_t *rows;

    if (l->n == 0) {
        printf("no peers yet; invite someone with 'mm invite' or accept a "
               "code with 'mm accept'\n");
        return CLI_EXIT_OK;
    }
    if (!(rows = calloc(l->n, sizeof *rows)))
        return cli_fail_rc(cli, MM_ENOMEM, "cannot list the peers");
    for (size_t i = 0; i < l->n; i++) {
        const mm_peer_t *p = &l->v[i];
        cmd_peer_name(rows[i].name, p->petname);
        mm_idcode_encode(rows[i].ident, MM_IDCODE_IDENTITY, p->identity);
        if (p->last_sync)
            cli_time_rel(rows[i].when, p->last_sync, now);
        else
            snprintf(rows[i].when, sizeof rows[i].when, "never");
        if (cli_width(rows[i].name) > wname)
            wname = cli_width(rows[i].name);
        if (cli_width(rows[i].when) > wwhen)
            wwhen = cli_width(rows[i].when);
    }
    printf("%-*s  %-6s  %-*s  %-*s  %-*s  %s\n", (int) wname, "NAME", "ROLE",
           IDENT_W, "IDENTITY", (int) wwhen, "LAST-SYNC", STATE_W, "STATE",
           "ENDPOINT");
    for (size_t i = 0; i < l->n; i++) {
        const mm_peer_t *p = &l->v[i];
        /* printf pads by bytes; pad by characters for non-ASCII names. */
        printf("%s%*s  %-6s  %s%.*s%s  %s%*s  %-*s  %s\n", rows[i].name,
               (int) (wname - cli_width(rows[i].name)), "",
               cmd_peer_role(p->role), cli_c(cli, CLI_YELLOW), IDENT_W,
               rows[i].ident, cli_c(cli, CLI_RESET), rows[i].when,
               (int) (wwhen - cli_width(rows[i].when)), "", STATE_W,
               p->blocked ? "blocked" : "active",
               p->nendpoints ? p->endpoints[0] : "-");
    }
    free(rows);
    return CLI_EXIT_OK;
}

int cmd_peer_list(cli_t *cli, int argc, char **argv)
{
    cmd_peers_t l;
    int ex;
    json_t j;

    if (argc > 0)
        return cli_usage(cli, "unexpected argument '%s'", argv[0]);
    if ((ex = cmd_peer_all(cli, &l)) != CLI_EXIT_OK)
        return ex;
    if (l.n > 1)
        qsort(l.v, l.n, sizeof *l.v, by_name);
    if (cli->json) {
        json_init(&j, stdout);
        json_obj_begin(&j, NULL);
        json_arr_begin(&j, "peers");
        for (size_t i = 0; i < l.n; i++)
            cmd_peer_json(&j, NULL, &l.v[i]);
        json_arr_end(&j);
        json_obj_end(&j);
        json_finish(&j);
        ex = CLI_EXIT_OK;
    } else {
        ex = list_text(cli, &l);
    }
    free(l.v);
    return ex;
}

/* --- show ---------------------------------------------------------------- */

/* The peer record, one field per line; now for the relative times. */
static void show_text(const cli_t *cli, const mm_peer_t *p, uint64_t now)
{
    char name[CLI_NAME_SAFE], theirs[CLI_NAME_SAFE];
    char ident[MM_IDCODE_LEN + 1], dev[MM_IDCODE_LEN + 1], scope[2 * 32 + 1];
    char local[CLI_TIME_MAX], rel[CLI_TIME_MAX];

    cmd_peer_name(name, p->petname);
    cmd_peer_name(theirs, p->name);
    mm_idcode_encode(ident, MM_IDCODE_IDENTITY, p->identity);
    mm_idcode_encode(dev, MM_IDCODE_DEVICE, p->device);
    mm_encoding_hex(scope, p->scope, sizeof p->scope);
    printf("name        %s\n", name);
    printf("their name  %s\n", theirs);
    printf("identity    %s%s%s\n", cli_c(cli, CLI_YELLOW), ident,
           cli_c(cli, CLI_RESET));
    printf("device      %s\n", dev);
    printf("role        %s (%s)\n", cmd_peer_role(p->role),
           p->role == MM_ROLE_MENTOR ? "they mentor you" :
           p->role == MM_ROLE_MENTEE ? "you mentor them" : "not known");
    printf("state       %s\n", p->blocked ? "blocked" : "active");
    if (p->nendpoints == 0)
        printf("endpoints   none (set one with 'mm peer set-addr')\n");
    for (unsigned i = 0; i < p->nendpoints; i++)
        printf("%-12s%s\n", i == 0 ? "endpoints" : "", p->endpoints[i]);
    cli_time_local(local, p->added);
    cli_time_rel(rel, p->added, now);
    printf("added       %s (%s)\n", local, rel);
    if (p->last_sync) {
        cli_time_local(local, p->last_sync);
        cli_time_rel(rel, p->last_sync, now);
        printf("last sync   %s (%s)\n", local, rel);
    } else {
        printf("last sync   never\n");
    }
    printf("scope       %s\n", scope);
}

/* Every device of the peer's person this device knows of (PROTOCOL.md 3.4). */
typedef struct {
    uint64_t now;
    int      first;
} devlines_t;

static int device_line(const mm_device_t *d, void *arg)
{
    devlines_t *dl = arg;
    char id[MM_IDCODE_LEN + 1], seen[CLI_TIME_MAX];
    char *name = cli_line(d->cert.name, strlen(d->cert.name), MM_DEVNAME_MAX);
    mm_idcode_encode(id, MM_IDCODE_DEVICE, d->cert.device);
    if (d->last_seen)
        cli_time_rel(seen, d->last_seen, dl->now);
    else
        snprintf(seen, sizeof seen, "never");
    printf("%-12s%s  %.15s  %s  seen %s%s\n", dl->first ? "devices" : "", name ? name : "?", id,
           d->revoked ? "revoked" : "current", seen,
           d->cert.flags & MM_CERT_MAILBOX ? "  mailbox" : "");
    dl->first = 0;
    free(name);
    return 0;
}

static void show_devices(cli_t *cli, const mm_peer_t *p, uint64_t now)
{
    mm_txn_t *txn = NULL;
    devlines_t dl = { now, 1 };
    /* extra lines: a failure to read them leaves the record shown above */
    if (mm_store_begin(mm_home_store(cli->home), 0, &txn) == MM_OK
        && mm_device_foreach(txn, p->identity, device_line, &dl) != MM_OK)
        printf("devices     (cannot read them)\n");
    mm_txn_abort(&txn);
}

int cmd_peer_show(cli_t *cli, int argc, char **argv)
{
    uint64_t now = mm_now_ms();
    mm_peer_t p;
    int ex;
    json_t j;

    if (argc != 1)
        return cli_usage(cli, argc ? "give one PEER" : "missing the PEER");
    if ((ex = cmd_peer_get(cli, argv[0], &p)) != CLI_EXIT_OK)
        return ex;
    if (cli->json) {
        json_init(&j, stdout);
        cmd_peer_json(&j, NULL, &p);
        json_finish(&j);
    } else {
        show_text(cli, &p, now);
        show_devices(cli, &p, now);
    }
    return CLI_EXIT_OK;
}

/* --- changes ------------------------------------------------------------- */

/* Begin a write transaction and find the peer named what in it.  Exit
 * code; on failure the transaction is gone. */
static int peer_begin(cli_t *cli, const char *what, mm_txn_t **txn, mm_peer_t *p)
{
    int ex, rc;

    memset(p, 0, sizeof *p);
    rc = mm_store_begin(mm_home_store(cli->home), 1, txn);
    if (rc != MM_OK)
        return cli_fail_rc(cli, rc, "cannot change the peer");
    if ((ex = cmd_peer_find(cli, *txn, what, p)) != CLI_EXIT_OK)
        mm_txn_abort(txn);
    return ex;
}

/* Store p and commit; tell own devices too (a `peer` entry in the self
 * scope) unless only this device's own bookkeeping changed (local, such
 * as the endpoints).  Exit code; prints errors. */
static int peer_save(cli_t *cli, mm_txn_t **txn, const mm_peer_t *p, int local)
{
    char name[CLI_NAME_SAFE];
    int rc = local ? mm_peer_put(*txn, p)
                   : mm_propagate_peer_save(*txn, mm_home_device(cli->home), p, mm_now_ms());

    if (rc == MM_OK)
        rc = mm_txn_commit(txn);
    mm_txn_abort(txn);
    if (rc == MM_EEXIST) {
        cmd_peer_name(name, p->petname);
        return cli_fail(cli, "another peer is already named '%s'; choose "
                        "another name", name);
    }
    if (rc != MM_OK)
        return cli_fail_rc(cli, rc, "cannot change the peer");
    return CLI_EXIT_OK;
}

/* The peer object as --json output of a change. */
static void print_json(const mm_peer_t *p)
{
    json_t j;

    json_init(&j, stdout);
    cmd_peer_json(&j, NULL, p);
    json_finish(&j);
}

int cmd_peer_rename(cli_t *cli, int argc, char **argv)
{
    char old[CLI_NAME_SAFE], name[CLI_NAME_SAFE];
    mm_txn_t *txn = NULL;
    mm_peer_t p;
    int ex;

    if (argc != 2)
        return cli_usage(cli, argc < 2 ? "give the PEER and its NEWNAME"
                                       : "give one PEER and one NEWNAME");
    if (strncasecmp(argv[1], "mmi", 3) == 0)
        return cli_usage(cli, "'%s' cannot be a peer name: names starting "
                         "with 'mmi' stand for identity codes", argv[1]);
    if (!mm_peer_name_valid(argv[1]))
        return cli_usage(cli, "'%s' cannot be a peer name: give 1 to %d bytes "
                         "of UTF-8 without control characters", argv[1],
                         MM_PETNAME_MAX);
    if ((ex = peer_begin(cli, argv[0], &txn, &p)) != CLI_EXIT_OK)
        return ex;
    cmd_peer_name(old, p.petname);
    snprintf(p.petname, sizeof p.petname, "%s", argv[1]);
    if ((ex = peer_save(cli, &txn, &p, 0)) != CLI_EXIT_OK)
        return ex;
    if (cli->json) {
        print_json(&p);
    } else {
        cmd_peer_name(name, p.petname);
        printf("renamed '%s' to '%s'\n", old, name);
    }
    return CLI_EXIT_OK;
}

int cmd_peer_set_addr(cli_t *cli, int argc, char **argv)
{
    char name[CLI_NAME_SAFE];
    mm_txn_t *txn = NULL;
    mm_peer_t p;
    int ex;

    if (argc < 2)
        return cli_usage(cli, argc ? "give at least one ENDPOINT, like "
                         "tcp://HOST:7460" : "missing the PEER and ENDPOINT");
    if (argc - 1 > MM_PEER_ENDPOINTS)
        return cli_usage(cli, "give at most %d endpoints", MM_PEER_ENDPOINTS);
    for (int i = 1; i < argc; i++)
        if (!mm_endpoint_valid(argv[i]))
            return cli_usage(cli, "'%s' is not an endpoint like "
                             "tcp://HOST:PORT", argv[i]);
    if ((ex = peer_begin(cli, argv[0], &txn, &p)) != CLI_EXIT_OK)
        return ex;
    memset(p.endpoints, 0, sizeof p.endpoints);
    p.nendpoints = (unsigned) argc - 1;
    for (int i = 1; i < argc; i++)
        snprintf(p.endpoints[i - 1], sizeof p.endpoints[i - 1], "%s", argv[i]);
    if ((ex = peer_save(cli, &txn, &p, 1)) != CLI_EXIT_OK)
        return ex;
    if (cli->json) {
        print_json(&p);
        return CLI_EXIT_OK;
    }
    cmd_peer_name(name, p.petname);
    printf("%s: address%s set to ", name, p.nendpoints > 1 ? "es" : "");
    for (unsigned i = 0; i < p.nendpoints; i++)
        printf("%s%s", i ? ", " : "", p.endpoints[i]);
    putchar('\n');
    return CLI_EXIT_OK;
}

static int set_blocked(cli_t *cli, int argc, char **argv, int blocked)
{
    char name[CLI_NAME_SAFE], arg[CLI_NAME_SAFE];
    mm_txn_t *txn = NULL;
    mm_peer_t p;
    int ex, was;

    if (argc != 1)
        return cli_usage(cli, argc ? "give one PEER" : "missing the PEER");
    if ((ex = peer_begin(cli, argv[0], &txn, &p)) != CLI_EXIT_OK)
        return ex;
    was = p.blocked;
    if (was == blocked) {
        mm_txn_abort(&txn);
    } else {
        p.blocked = blocked;
        if ((ex = peer_save(cli, &txn, &p, 0)) != CLI_EXIT_OK)
            return ex;
    }
    if (cli->json) {
        print_json(&p);
        return CLI_EXIT_OK;
    }
    cmd_peer_name(name, p.petname);
    cmd_peer_arg(arg, &p);
    if (was == blocked)
        printf("'%s' is already %s\n", name, blocked ? "blocked" : "active");
    else if (blocked)
        printf("blocked '%s': mm sync skips them and mm serve refuses their "
               "devices; undo with 'mm peer unblock %s'\n", name, arg);
    else
        printf("unblocked '%s': sync with them again with 'mm sync %s'\n",
               name, arg);
    return CLI_EXIT_OK;
}

int cmd_peer_block(cli_t *cli, int argc, char **argv)
{
    return set_blocked(cli, argc, argv, 1);
}

int cmd_peer_unblock(cli_t *cli, int argc, char **argv)
{
    return set_blocked(cli, argc, argv, 0);
}

/* rm --purge: asked on a terminal, unless --yes.  Exit code (OK: go on). */
static int confirm_purge(cli_t *cli, const char *what)
{
    char name[CLI_NAME_SAFE], answer[16];
    mm_peer_t p;
    int ex;

    if (cli->opt[CLI_OPT_YES])
        return CLI_EXIT_OK;
    if ((ex = cmd_peer_get(cli, what, &p)) != CLI_EXIT_OK)
        return ex;
    cmd_peer_name(name, p.petname);
    if (!isatty(STDIN_FILENO))
        return cli_fail_code(cli, MM_EINVAL, "mm peer rm --purge deletes every entry you share "
                             "with '%s'; run it on a terminal to confirm, or give --yes", name);
    FILE *q = cli->json ? stderr : stdout;
    fprintf(q, "Delete your relationship with '%s' for good: every entry of it, theirs and "
            "yours, here and on your other devices? [y/N] ", name);
    fflush(q);
    if (fgets(answer, sizeof answer, stdin) && (answer[0] == 'y' || answer[0] == 'Y'))
        return CLI_EXIT_OK;
    return cli_fail_code(cli, MM_EINVAL, "nothing deleted: '%s' stays a peer", name);
}

static void print_purged(const mm_peer_t *p, const mm_purge_t *st)
{
    json_t j;

    json_init(&j, stdout);
    json_obj_begin(&j, NULL);
    cmd_peer_json(&j, "peer", p);
    json_obj_begin(&j, "purged");
    json_uint(&j, "entries", st->entries);
    json_uint(&j, "devices", st->devices);
    json_obj_end(&j);
    json_obj_end(&j);
    json_finish(&j);
}

int cmd_peer_rm(cli_t *cli, int argc, char **argv)
{
    char name[CLI_NAME_SAFE];
    mm_txn_t *txn = NULL;
    mm_peer_t p;
    mm_purge_t st = { 0, 0, 0 };
    int ex, rc, purge = cli->opt[CLI_OPT_PURGE] != NULL;

    if (argc != 1)
        return cli_usage(cli, argc ? "give one PEER" : "missing the PEER");
    if (!purge && cli->opt[CLI_OPT_YES])
        return cli_usage(cli, "--yes goes with --purge");
    /* asked before the write transaction, which would hold other writers */
    if (purge && (ex = confirm_purge(cli, argv[0])) != CLI_EXIT_OK)
        return ex;
    if ((ex = peer_begin(cli, argv[0], &txn, &p)) != CLI_EXIT_OK)
        return ex;
    if (purge)
        rc = mm_propagate_peer_purge(txn, mm_home_device(cli->home), p.identity, mm_now_ms(),
                                     &st);
    else
        rc = mm_propagate_peer_remove(txn, mm_home_device(cli->home), p.identity, mm_now_ms());
    if (rc == MM_OK)
        rc = mm_txn_commit(&txn);
    mm_txn_abort(&txn);
    if (rc != MM_OK)
        return cli_fail_rc(cli, rc, purge ? "cannot purge the peer" : "cannot remove the peer");
    if (cli->json) {
        if (purge)
            print_purged(&p, &st);
        else
            print_json(&p);
        return CLI_EXIT_OK;
    }
    cmd_peer_name(name, p.petname);
    if (purge)
        printf("purged peer '%s': %llu entries and %u of their devices' certificates "
               "deleted; your other devices do the same when they sync\n", name,
               (unsigned long long) st.entries, st.devices);
    else
        printf("removed peer '%s'; every entry already stored is kept (the log is "
               "append-only); 'mm peer rm --purge' would delete them\n", name);
    return CLI_EXIT_OK;
}
