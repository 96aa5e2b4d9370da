/*  cmd_device.c -- mm device list | rename | revoke | settler: the devices
 *  of this person.  Each subcommand is a row of the command table
 *  (main.c), so a new one (mm device pair) is one more row and handler. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/json.h"
#include "cli/util.h"
#include "core/budget.h"
#include "core/device.h"
#include "core/log.h"
#include "crypto/error.h"
#include "crypto/idcode.h"

const char cmd_device_help[] =
    "list and manage the devices of your identity\n"
    "\n"
    "DESCRIPTION\n"
    "    Your identity can have several devices (a laptop, a phone), each\n"
    "    with its own key and its own feeds, certified by the identity key.\n"
    "    The identity device is the one that holds the identity key: only\n"
    "    it can rename devices, revoke them, and choose the settler.\n"
    "\n"
    "    ID is the start of a device code ('mmd' and at least 3 more\n"
    "    characters) or a device's name.\n"
    "\n"
    "    pair\n"
    "        Let a new device join your identity: see 'mm help device pair'.\n"
    "    list\n"
    "        One line per device: NAME ID ADDED LAST-SEEN STATE, with\n"
    "        'identity' after the identity device and '*' before this one.\n"
    "    rename ID NAME\n"
    "        Give a device a new name (1 to 64 bytes): a newer certificate,\n"
    "        which your peers and devices learn at the next sync.  On the\n"
    "        identity device; the device renamed need not be there.\n"
    "    revoke ID\n"
    "        Revoke a lost or given-away device, on the identity device:\n"
    "        what it wrote up to now (as this device holds it) stays valid,\n"
    "        anything it writes later is refused everywhere, and every mm\n"
    "        serve that has heard of it refuses its connections.  Your\n"
    "        peers hear of it at their next sync with any of your devices.\n"
    "        To start this very device afresh use 'mm device reset'.\n"
    "    reset\n"
    "        Give this device a new key, certified by the identity key, and\n"
    "        revoke its old key, on the identity device: for a copied home\n"
    "        (two homes wrote with one device key; mm says so before every\n"
    "        command), run it on the copy you keep and wipe the other.  What\n"
    "        the old key wrote up to the last entry nobody disputes stays\n"
    "        valid; every scope gets a new key the old one cannot open.  On\n"
    "        another device: pair it again ('mm device pair' on the identity\n"
    "        device, 'mm init --join CODE --home NEWDIR' here).\n"
    "    settler ID\n"
    "        Let ID be the one device that settles your mentees' questions\n"
    "        against your budget (the identity device unless you choose\n"
    "        another).  Other devices show the budget and never settle.\n"
    "\n"
    "OUTPUT\n"
    "    list:\n"
    "          NAME    ID               ADDED       LAST-SEEN      STATE\n"
    "        * laptop  mmdab3kq2xz7c4d  2026-12-01  now            current  identity\n"
    "          phone   mmdq7c4dab3kq2x  2026-12-01  5 minutes ago  revoked\n"
    "    --json: {\"devices\": [{\"name\", \"id\", \"added\", \"added_ms\",\n"
    "    \"last_seen\", \"last_seen_ms\", \"state\", \"identity_device\", \"this\"}]}\n"
    "    with id the mmd code, times ISO 8601 UTC (last_seen null if never),\n"
    "    state \"current\" or \"revoked\"; the others print one device object.\n"
    "\n"
    "EXAMPLES\n"
    "    mm device list\n"
    "    mm device rename laptop work-laptop\n"
    "    mm device revoke phone\n"
    "    mm device settler mmdq7c4d\n"
    "\n"
    "EXIT STATUS\n"
    "    0  done\n"
    "    1  failed: no such device, an ambiguous ID, not the identity device\n"
    "       (MM_ENOIDENTITY), this very device, a store error\n"
    "    2  the command line is wrong\n";

#define ID_W 15                 /* characters of the device code in list */

typedef struct {
    mm_device_t *v;
    size_t n, cap;
} devices_t;

static int collect(const mm_device_t *d, void *arg)
{
    devices_t *l = arg;
    if (d->cert.flags & MM_CERT_MAILBOX)
        return 0;                   /* 'mm mailbox list' lists those */
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 4;
        mm_device_t *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return MM_ENOMEM;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = *d;
    return 0;
}

static int is_this(const cli_t *cli, const mm_device_t *d)
{
    return memcmp(d->cert.device, mm_keypair_pk(mm_home_device(cli->home)), 32) == 0;
}

static void device_json(const cli_t *cli, json_t *j, const mm_device_t *d)
{
    char id[MM_IDCODE_LEN + 1], added[CLI_TIME_MAX], seen[CLI_TIME_MAX];
    int self = is_this(cli, d);
    uint64_t last = self ? mm_now_ms() : d->last_seen;
    mm_idcode_encode(id, MM_IDCODE_DEVICE, d->cert.device);
    cli_time_iso(added, d->cert.created);
    cli_time_iso(seen, last);
    json_obj_begin(j, NULL);
    json_str(j, "name", d->cert.name);
    json_str(j, "id", id);
    json_str(j, "added", added);
    json_uint(j, "added_ms", d->cert.created);
    json_str(j, "last_seen", last ? seen : NULL);
    json_uint(j, "last_seen_ms", last);
    json_str(j, "state", d->revoked ? "revoked" : "current");
    json_bool(j, "identity_device", (d->cert.flags & MM_CERT_IDENTITY) != 0);
    json_bool(j, "this", self);
    json_obj_end(j);
}

int cmd_device_list(cli_t *cli, int argc, char **argv)
{
    devices_t l = { 0 };
    mm_txn_t *txn = NULL;
    json_t j;
    (void) argv;
    if (argc > 0)
        return cli_usage(cli, "unexpected argument '%s'", argv[0]);
    int rc = mm_store_begin(mm_home_store(cli->home), 0, &txn);
    if (rc == MM_OK)
        rc = mm_device_foreach(txn, mm_home_identity_pk(cli->home), collect, &l);
    mm_txn_abort(&txn);
    if (rc) {
        free(l.v);
        return cli_fail_rc(cli, rc, "cannot read the devices");
    }
    if (cli->json) {
        json_init(&j, stdout);
        json_obj_begin(&j, NULL);
        json_arr_begin(&j, "devices");
        for (size_t i = 0; i < l.n; i++)
            device_json(cli, &j, &l.v[i]);
        json_arr_end(&j);
        json_obj_end(&j);
        json_finish(&j);
        free(l.v);
        return CLI_EXIT_OK;
    }
    size_t wname = strlen("NAME");
    uint64_t now = mm_now_ms();
    for (size_t i = 0; i < l.n; i++)
        if (cli_width(l.v[i].cert.name) > wname)
            wname = cli_width(l.v[i].cert.name);
    printf("  %-*s  %-*s  %-10s  %-14s  %s\n", (int) wname, "NAME", ID_W, "ID", "ADDED",
           "LAST-SEEN", "STATE");
    for (size_t i = 0; i < l.n; i++) {
        const mm_device_t *d = &l.v[i];
        char id[MM_IDCODE_LEN + 1], added[CLI_TIME_MAX], seen[CLI_TIME_MAX];
        char *name = cli_line(d->cert.name, strlen(d->cert.name), MM_DEVNAME_MAX);
        int self = is_this(cli, d);
        mm_idcode_encode(id, MM_IDCODE_DEVICE, d->cert.device);
        cli_time_date(added, d->cert.created);
        if (self)
            snprintf(seen, sizeof seen, "now");
        else if (d->last_seen)
            cli_time_rel(seen, d->last_seen, now);
        else
            snprintf(seen, sizeof seen, "never");
        const char *shown = name ? name : "?";
        printf("%s %s%*s  %.*s  %-10s  %-14s  %s%s\n", self ? "*" : " ", shown,
               (int) (wname - cli_width(shown)), "", ID_W, id, added, seen,
               d->revoked ? "revoked" : "current",
               d->cert.flags & MM_CERT_IDENTITY ? "  identity" : "");
        free(name);
    }
    free(l.v);
    return CLI_EXIT_OK;
}

/* The device ID names, among this person's; an exit code on failure. */
static int find(cli_t *cli, const char *what, mm_device_t *d)
{
    mm_txn_t *txn = NULL;
    int rc = mm_store_begin(mm_home_store(cli->home), 0, &txn);
    if (rc == MM_OK)
        rc = mm_device_find(txn, mm_home_identity_pk(cli->home), what, d);
    mm_txn_abort(&txn);
    cli_set_code(rc);
    switch (rc) {
    case MM_OK:
        return CLI_EXIT_OK;
    case MM_ENOTFOUND:
        return cli_fail(cli, "no device '%s'; see 'mm device list'", what);
    case MM_EAMBIG:
        return cli_fail(cli, "'%s' matches more than one device; give more of its code", what);
    case MM_EINVAL:
        return cli_usage(cli, "'%s' is too short for a device code; give at least 6 characters",
                         what);
    default:
        return cli_fail_rc(cli, rc, "cannot read the devices");
    }
}

/* "not the identity device": name the one that is, if known. */
static int not_identity(cli_t *cli, const char *what)
{
    mm_txn_t *txn = NULL;
    mm_device_t d;
    memset(&d, 0, sizeof d);
    char id[MM_IDCODE_LEN + 1];
    int known = mm_store_begin(mm_home_store(cli->home), 0, &txn) == MM_OK
                && mm_device_identity(txn, mm_home_identity_pk(cli->home), &d) == MM_OK;
    mm_txn_abort(&txn);
    if (!known)
        return cli_fail_code(cli, MM_ENOIDENTITY, "%s needs the identity key, which this "
                             "device does not hold; do it on your identity device", what);
    char *name = cli_line(d.cert.name, strlen(d.cert.name), MM_DEVNAME_MAX);
    mm_idcode_encode(id, MM_IDCODE_DEVICE, d.cert.device);
    int ex = cli_fail_code(cli, MM_ENOIDENTITY, "%s needs the identity key; do it on your "
                           "identity device '%s' (%.15s)", what, name ? name : "?", id);
    free(name);
    return ex;
}

static int print_one(cli_t *cli, const char *what, const char *verb)
{
    mm_device_t d;
    memset(&d, 0, sizeof d);
    json_t j;
    int ex = find(cli, what, &d);
    if (ex)
        return ex;
    if (cli->json) {
        json_init(&j, stdout);
        device_json(cli, &j, &d);
        json_finish(&j);
    } else {
        char id[MM_IDCODE_LEN + 1];
        char *name = cli_line(d.cert.name, strlen(d.cert.name), MM_DEVNAME_MAX);
        mm_idcode_encode(id, MM_IDCODE_DEVICE, d.cert.device);
        printf("%s %s (%.15s)\n", verb, name ? name : "?", id);
        free(name);
    }
    return CLI_EXIT_OK;
}

int cmd_device_rename(cli_t *cli, int argc, char **argv)
{
    mm_device_t d;
    memset(&d, 0, sizeof d);
    if (argc != 2)
        return cli_usage(cli, "give the device and its new name");
    size_t n = strlen(argv[1]);
    int ctl = 0;
    for (size_t i = 0; i < n; i++)
        ctl |= (unsigned char) argv[1][i] < 0x20 || argv[1][i] == 0x7f;
    if (n == 0 || n > MM_DEVNAME_MAX || ctl)
        return cli_usage(cli, "a device name is 1 to %d bytes of text, no control characters",
                         MM_DEVNAME_MAX);
    int ex = find(cli, argv[0], &d);
    if (ex)
        return ex;
    int rc = mm_device_rename(cli->home, d.cert.device, argv[1], mm_now_ms());
    if (rc == MM_ENOIDENTITY)
        return not_identity(cli, "renaming a device");
    if (rc == MM_EBADCERT)
        return cli_fail_code(cli, rc, "'%s' has a certificate from before devices could be "
                             "renamed; pair it again to rename it", argv[0]);
    if (rc)
        return cli_fail_rc(cli, rc, "cannot rename the device");
    return print_one(cli, argv[1], "renamed");
}

int cmd_device_revoke(cli_t *cli, int argc, char **argv)
{
    mm_device_t d;
    memset(&d, 0, sizeof d);
    if (argc != 1)
        return cli_usage(cli, "give the device to revoke");
    int ex = find(cli, argv[0], &d);
    if (ex)
        return ex;
    if (d.revoked)
        return print_one(cli, argv[0], "already revoked:");
    int rc = mm_device_revoke(cli->home, d.cert.device, mm_now_ms(), NULL);
    if (rc == MM_EINVAL)
        return cli_fail_code(cli, MM_EINVAL, "'%s' is this very device; to start it afresh "
                             "use 'mm device reset'", argv[0]);
    if (rc == MM_ENOIDENTITY)
        return not_identity(cli, "revoking a device");
    if (rc)
        return cli_fail_rc(cli, rc, "cannot revoke the device");
    return print_one(cli, argv[0], "revoked");
}

int cmd_device_settler(cli_t *cli, int argc, char **argv)
{
    mm_device_t d;
    memset(&d, 0, sizeof d);
    if (argc != 1)
        return cli_usage(cli, "give the device that is to settle your budget");
    int ex = find(cli, argv[0], &d);
    if (ex)
        return ex;
    int rc = mm_budget_set_settler(cli->home, d.cert.device);
    if (rc == MM_ENOIDENTITY)
        return not_identity(cli, "choosing the settler");
    if (rc == MM_EREVOKED)
        return cli_fail_code(cli, rc, "'%s' is revoked; choose a current device", argv[0]);
    if (rc == MM_EROLE)
        return cli_fail_code(cli, rc, "'%s' is a mailbox, which reads nothing; choose a device "
                             "of yours", argv[0]);
    if (rc)
        return cli_fail_rc(cli, rc, "cannot choose the settler");
    return print_one(cli, argv[0], "settles your budget from now on:");
}

int cmd_device_reset(cli_t *cli, int argc, char **argv)
{
    uint8_t old[32];
    size_t nscopes = 0;
    char was[MM_IDCODE_LEN + 1], now_id[MM_IDCODE_LEN + 1];
    json_t j;
    (void) argv;
    if (argc != 0)
        return cli_usage(cli, "mm device reset takes no argument: it resets this device");
    int rc = mm_device_reset(cli->home, mm_now_ms(), old, &nscopes);
    if (rc == MM_ENOIDENTITY)
        return cli_fail_code(cli, MM_ENOIDENTITY, "a new device key needs the identity key, "
                             "which this device does not hold; pair it again: 'mm device "
                             "pair' on your identity device, then 'mm init --join CODE --home "
                             "NEWDIR' here");
    if (rc)
        return cli_fail_rc(cli, rc, "cannot reset this device");
    mm_idcode_encode(was, MM_IDCODE_DEVICE, old);
    mm_idcode_encode(now_id, MM_IDCODE_DEVICE, mm_keypair_pk(mm_home_device(cli->home)));
    if (cli->json) {
        json_init(&j, stdout);
        json_obj_begin(&j, NULL);
        json_str(&j, "device", now_id);
        json_str(&j, "revoked", was);
        json_uint(&j, "scopes_rekeyed", nscopes);
        json_obj_end(&j);
        json_finish(&j);
    } else {
        printf("this device now writes with a new key %.15s; the old key %.15s is revoked\n"
               "(what it wrote up to the last entry nobody disputes stays valid; the keys of "
               "%zu scopes were rotated);\nyour peers and other devices learn it at their "
               "next sync\n", now_id, was, nscopes);
    }
    return CLI_EXIT_OK;
}
