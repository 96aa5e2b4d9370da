/*  cmd_backup.c -- mm backup FILE | mm restore FILE: a passphrase-encrypted
 *  copy of the home (core/backup.h), and a new device made from one; and
 *  the "restored, not yet caught up" line of mm status. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <sys/stat.h>

#include <sodium.h>

#include "cli/cli.h"
#include "cli/cmd_backup.h"
#include "cli/cmd_peer.h"
#include "cli/json.h"
#include "cli/util.h"
#include "core/backup.h"
#include "core/catchup.h"
#include "core/cert.h"
#include "core/device.h"
#include "core/home.h"
#include "core/peer.h"
#include "core/utf8.h"
#include "crypto/error.h"
#include "crypto/idcode.h"

const char cmd_backup_help[] =
    "back up your home into one encrypted file\n"
    "\n"
    "DESCRIPTION\n"
    "    Writes FILE: your identity key, every scope key, your peers and\n"
    "    the whole log (your private notes and ambitions exist only on your\n"
    "    own devices), encrypted under a key made from a passphrase\n"
    "    (Argon2id).  Only the identity device, the one holding\n"
    "    identity.key, can make one.  FILE is written beside itself and\n"
    "    moved into place (mode 0600), never over an existing file unless\n"
    "    --force.  Keep the file and the passphrase apart: either alone is\n"
    "    useless, both together are you.\n"
    "\n"
    "    The passphrase comes from --passphrase-file FILE (its first line),\n"
    "    else $MM_PASSPHRASE, else it is asked twice on the terminal.\n"
    "\n"
    "OPTIONS\n"
    "    --passphrase-file PFILE\n"
    "        Read the passphrase from the first line of PFILE.\n"
    "    --force\n"
    "        Replace FILE if it exists.\n"
    "\n"
    "OUTPUT\n"
    "    backed up Ada to ada.mmbk: 120 entries, 3 scopes, 2 peers (48 KB)\n"
    "    --json: {\"file\", \"bytes\", \"entries\", \"scopes\", \"peers\", \"certs\",\n"
    "    \"questions\"}.\n"
    "\n"
    "EXAMPLES\n"
    "    mm backup ~/ada.mmbk\n"
    "    MM_PASSPHRASE=... mm backup /media/usb/ada.mmbk --force\n"
    "\n"
    "EXIT STATUS\n"
    "    0  written\n"
    "    1  not the identity device (MM_ENOIDENTITY), FILE exists\n"
    "       (MM_EEXIST), no passphrase, a disk or store error\n"
    "    2  the command line is wrong\n";

const char cmd_restore_help[] =
    "make a new device of yours from a backup\n"
    "\n"
    "DESCRIPTION\n"
    "    Creates a home (--home DIR, or the default; it must not exist or\n"
    "    be empty) from a backup made by 'mm backup': your identity, keys,\n"
    "    peers and log, every entry verified again.  This device gets a new\n"
    "    device key, certified by your identity key; the device the backup\n"
    "    was made on keeps its own feeds, which this one reads and never\n"
    "    writes, so restoring can never fork your log.  You can write at\n"
    "    once.  Your budget is not settled until this home has synced with\n"
    "    every peer (and your other devices); 'mm status' says 'restored,\n"
    "    not yet caught up' until then.\n"
    "\n"
    "    Then the old device is revoked (its key may be on a lost machine),\n"
    "    as 'mm device revoke' would; your devices and peers hear of it on\n"
    "    their next sync with you.  --keep-old keeps it, for a second\n"
    "    machine while the first is still in use.  A wrong passphrase, or a\n"
    "    damaged file, writes nothing.\n"
    "\n"
    "OPTIONS\n"
    "    --passphrase-file PFILE\n"
    "        Read the passphrase from the first line of PFILE (else\n"
    "        $MM_PASSPHRASE, else it is asked on the terminal).\n"
    "    --device DEVNAME\n"
    "        This device's name (default: the host name).\n"
    "    --keep-old\n"
    "        Keep the device the backup was made on.\n"
    "\n"
    "OUTPUT\n"
    "    restored Ada into /home/ada/.local/share/micromentor\n"
    "      device      mmd...  (new, this one)\n"
    "      old device  mmd...  (its feeds are closed; revoked)\n"
    "      120 entries, 3 scopes, 2 peers; not yet caught up: sync with\n"
    "      your peers before your budget is settled\n"
    "    --json: {\"home\", \"name\", \"identity\", \"device\", \"old_device\",\n"
    "    \"keep_old\", \"made\", \"entries\", \"scopes\", \"peers\", \"certs\",\n"
    "    \"questions\", \"catchup\"}.\n"
    "\n"
    "EXAMPLES\n"
    "    mm restore /media/usb/ada.mmbk\n"
    "    mm restore ada.mmbk --home ~/mm-laptop --device laptop --keep-old\n"
    "\n"
    "EXIT STATUS\n"
    "    0  restored\n"
    "    1  wrong passphrase or damaged backup (MM_EPASSPHRASE), a cut\n"
    "       file (MM_ETRUNC), not a backup, the home exists (MM_EEXIST)\n"
    "    2  the command line is wrong\n";

#define PASS_ENV "MM_PASSPHRASE"

/* A line from the terminal (stdin) with echo off, into buf. */
static int ask(const char *prompt, char *buf, size_t cap, size_t *len)
{
    struct termios old, quiet;
    int rc = -1;
    if (tcgetattr(STDIN_FILENO, &old) != 0)
        return -1;
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t) (ECHO | ECHONL);
    fputs(prompt, stderr);
    fflush(stderr);
    if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) != 0)
        return -1;
    if (fgets(buf, (int) cap, stdin)) {
        *len = strcspn(buf, "\n");
        rc = buf[*len] == '\n' ? 0 : -1;    /* no newline: too long, or end of input */
        buf[*len] = '\0';
    }
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    fputs("\n", stderr);
    return rc;
}

/* The passphrase into buf (MM_PASSPHRASE_MAX + 2 bytes): --passphrase-file,
 * else $MM_PASSPHRASE, else the terminal (twice with confirm).  Exit code. */
static int passphrase(cli_t *cli, int confirm, char *buf, size_t *len)
{
    const size_t cap = MM_PASSPHRASE_MAX + 2;
    const char *file = cli->opt[CLI_OPT_PASSFILE], *env = getenv(PASS_ENV);
    *len = 0;
    if (file) {
        FILE *f = fopen(file, "r");
        if (!f)
            return cli_fail_code(cli, MM_ENOTFOUND, "cannot read the passphrase file %s: %s; "
                                 "check the path", file, strerror(errno));
        int got = fgets(buf, (int) cap, f) != NULL;
        fclose(f);
        *len = got ? strcspn(buf, "\n") : 0;
        if (*len > 0 && buf[*len - 1] == '\r')
            (*len)--;
        if (got && *len == strlen(buf) && *len > MM_PASSPHRASE_MAX)
            return cli_fail_code(cli, MM_EINVAL, "the passphrase in %s is longer than %d "
                                 "bytes; use a shorter one", file, MM_PASSPHRASE_MAX);
        buf[*len] = '\0';
        if (*len == 0)
            return cli_fail_code(cli, MM_EINVAL, "the first line of %s is empty; put the "
                                 "passphrase on it", file);
        return CLI_EXIT_OK;
    }
    if (env) {
        *len = strlen(env);
        if (*len == 0 || *len > MM_PASSPHRASE_MAX)
            return cli_fail_code(cli, MM_EINVAL, "$%s is %s; set it to 1 to %d bytes",
                                 PASS_ENV, *len ? "too long" : "empty", MM_PASSPHRASE_MAX);
        memcpy(buf, env, *len + 1);
        return CLI_EXIT_OK;
    }
    if (!isatty(STDIN_FILENO))
        return cli_fail_code(cli, MM_EINVAL, "no passphrase: give --passphrase-file FILE or "
                             "set %s (there is no terminal to ask on)", PASS_ENV);
    char *again = sodium_malloc(cap);
    size_t alen = 0;
    int ex = CLI_EXIT_OK;
    if (!again)
        return cli_fail_rc(cli, MM_ENOMEM, "cannot ask for the passphrase");
    if (ask("passphrase: ", buf, cap, len) != 0 || *len == 0 || *len > MM_PASSPHRASE_MAX)
        ex = cli_fail_code(cli, MM_EINVAL, "no passphrase given (1 to %d bytes); nothing "
                           "was written", MM_PASSPHRASE_MAX);
    else if (confirm && (ask("again: ", again, cap, &alen) != 0 || alen != *len
                         || sodium_memcmp(again, buf, alen) != 0))
        ex = cli_fail_code(cli, MM_EINVAL, "the two passphrases differ; nothing was written");
    sodium_free(again);
    return ex;
}

/* Name the identity device for a refusal: the own device whose certificate
 * says it holds the identity key, else the other own devices. */
typedef struct {
    const uint8_t *me, *self;
    char text[256];
    size_t n;
    char ident[256];                /* the one flagged MM_CERT_IDENTITY */
} owners_t;

static int own_device(const mm_cert_t *c, const uint8_t *raw, size_t len, void *arg)
{
    owners_t *o = arg;
    char code[MM_IDCODE_LEN + 1], name[CLI_NAME_SAFE];
    size_t at = strlen(o->text);
    (void) raw;
    (void) len;
    if (memcmp(c->identity, o->me, 32) || !memcmp(c->device, o->self, 32))
        return 0;
    mm_idcode_encode(code, MM_IDCODE_DEVICE, c->device);
    cmd_peer_name(name, c->name);
    if ((c->flags & MM_CERT_IDENTITY)
        && snprintf(o->ident, sizeof o->ident, "%s (%.12s...)", name, code) < 0)
        o->ident[0] = '\0';
    /* a long list is cut: it only names the devices */
    if (at < sizeof o->text - 1
        && snprintf(o->text + at, sizeof o->text - at, "%s%s (%.12s...)", o->n ? ", " : "",
                    name, code) < 0)
        o->text[at] = '\0';
    o->n++;
    return 0;
}

static int no_identity(cli_t *cli)
{
    owners_t o = { mm_home_identity_pk(cli->home), mm_keypair_pk(mm_home_device(cli->home)),
                   "", 0, "" };
    mm_txn_t *txn;
    if (mm_store_begin(mm_home_store(cli->home), 0, &txn) == MM_OK) {
        if (mm_cert_foreach(txn, own_device, &o) != MM_OK)
            o.n = 0;
        mm_txn_abort(&txn);
    }
    if (o.ident[0])
        return cli_fail_code(cli, MM_ENOIDENTITY, "this device does not hold your identity "
                             "key; run mm backup on your identity device, %s", o.ident);
    if (o.n == 1)
        return cli_fail_code(cli, MM_ENOIDENTITY, "this device does not hold your identity "
                             "key; run mm backup on your identity device, %s", o.text);
    if (o.n > 1)
        return cli_fail_code(cli, MM_ENOIDENTITY, "this device does not hold your identity "
                             "key; run mm backup on your identity device, one of: %s", o.text);
    return cli_fail_code(cli, MM_ENOIDENTITY, "this device does not hold your identity key; "
                         "run mm backup on your identity device (the one that holds "
                         "identity.key)");
}

int cmd_backup(cli_t *cli, int argc, char **argv)
{
    mm_backup_stats_t st;
    size_t len;
    int ex, rc;
    if (argc < 1)
        return cli_usage(cli, "missing FILE");
    if (argc > 1)
        return cli_usage(cli, "unexpected argument '%s'", argv[1]);
    const char *file = argv[0];
    struct stat sb;
    if (!cli->opt[CLI_OPT_FORCE] && lstat(file, &sb) == 0)
        return cli_fail_code(cli, MM_EEXIST, "%s exists; nothing was written; give another "
                             "FILE, or --force to replace it", file);
    /* refuse before asking for a passphrase that could not be used */
    char key[MM_PATH_MAX + 16];
    snprintf(key, sizeof key, "%s/identity.key", mm_home_path(cli->home));
    if (lstat(key, &sb) != 0 && errno == ENOENT)
        return no_identity(cli);
    char *pass = sodium_malloc(MM_PASSPHRASE_MAX + 2);
    if (!pass)
        return cli_fail_rc(cli, MM_ENOMEM, "cannot back up");
    if ((ex = passphrase(cli, 1, pass, &len)) != CLI_EXIT_OK) {
        sodium_free(pass);
        return ex;
    }
    rc = mm_backup_write(cli->home, file, cli->opt[CLI_OPT_FORCE] ? MM_BACKUP_FORCE : 0, pass,
                         len, NULL, &st);
    sodium_free(pass);
    switch (rc) {
    case MM_OK:
        break;
    case MM_ENOIDENTITY:
        return no_identity(cli);
    case MM_EEXIST:
        return cli_fail_code(cli, rc, "%s exists; nothing was written; give another FILE, or "
                             "--force to replace it", file);
    default: {
        char what[MM_PATH_MAX + 32];
        snprintf(what, sizeof what, "cannot write the backup %s", file);
        return cli_fail_rc(cli, rc, what);
    }
    }
    if (cli->json) {
        json_t j;
        json_init(&j, stdout);
        json_obj_begin(&j, NULL);
        json_str(&j, "file", file);
        json_uint(&j, "bytes", st.bytes);
        json_uint(&j, "entries", st.entries);
        json_uint(&j, "scopes", st.scopes);
        json_uint(&j, "peers", st.peers);
        json_uint(&j, "certs", st.certs);
        json_uint(&j, "questions", st.questions);
        json_obj_end(&j);
        return json_finish(&j);
    }
    printf("backed up %s to %s: %llu entr%s, %llu scope%s, %llu peer%s (%llu KB)\n",
           mm_home_name(cli->home), file, (unsigned long long) st.entries,
           st.entries == 1 ? "y" : "ies", (unsigned long long) st.scopes,
           st.scopes == 1 ? "" : "s", (unsigned long long) st.peers, st.peers == 1 ? "" : "s",
           (unsigned long long) ((st.bytes + 1023) / 1024));
    return CLI_EXIT_OK;
}

int cmd_restore(cli_t *cli, int argc, char **argv)
{
    mm_restore_t res;
    size_t len;
    int ex, rc;
    if (argc < 1)
        return cli_usage(cli, "missing FILE");
    if (argc > 1)
        return cli_usage(cli, "unexpected argument '%s'", argv[1]);
    const char *file = argv[0], *devname = cli->opt[CLI_OPT_DEVICE];
    if (devname) {
        size_t n = strlen(devname);
        int ctl = 0;
        for (const char *s = devname; *s; s++)
            ctl |= (unsigned char) *s < 0x20 || *s == 0x7f;
        if (n == 0 || n > MM_DEVNAME_MAX || !mm_utf8_valid(devname, n) || ctl)
            return cli_usage(cli, "--device must be 1 to %d bytes of UTF-8 without control "
                             "characters", MM_DEVNAME_MAX);
    }
    if ((ex = cli_home_path(cli)) != CLI_EXIT_OK)
        return ex;
    if (access(file, R_OK) != 0)
        return cli_fail_code(cli, MM_ENOTFOUND, "cannot read %s: %s; check the path", file,
                             strerror(errno));
    char *pass = sodium_malloc(MM_PASSPHRASE_MAX + 2);
    if (!pass)
        return cli_fail_rc(cli, MM_ENOMEM, "cannot restore");
    if ((ex = passphrase(cli, 0, pass, &len)) != CLI_EXIT_OK) {
        sodium_free(pass);
        return ex;
    }
    rc = mm_backup_restore(file, cli->path, devname, pass, len, cli->opt[CLI_OPT_KEEPOLD] != NULL,
                           mm_now_ms(), &res);
    sodium_free(pass);
    switch (rc) {
    case MM_OK:
        break;
    case MM_EPASSPHRASE:
        return cli_fail_code(cli, rc, "wrong passphrase or damaged backup %s; nothing was "
                             "written; try the passphrase again", file);
    case MM_EINVAL:
        return cli_fail_code(cli, rc, "%s is not an mm backup (or its KDF parameters are "
                             "invalid); nothing was written", file);
    case MM_ETRUNC:
        return cli_fail_code(cli, rc, "%s is cut short (truncated); nothing was written; "
                             "copy the backup again", file);
    case MM_EVERSION:
        return cli_fail_code(cli, rc, "%s was made by a newer mm; nothing was written; "
                             "upgrade mm", file);
    case MM_ETOOBIG:
        return cli_fail_code(cli, rc, "%s asks for more than mm allows (a KDF or record "
                             "size); nothing was written", file);
    case MM_EEXIST:
        return cli_fail_code(cli, rc, "%s exists and is not an empty directory; nothing was "
                             "written; choose another with --home DIR", cli->path);
    default: {
        char what[MM_PATH_MAX + 64];
        snprintf(what, sizeof what, "cannot restore %s (nothing was written)", file);
        return cli_fail_rc(cli, rc, what);
    }
    }
    /* The backed-up device's key may be on a lost machine (PROTOCOL.md
     * 12.4): unless --keep-old, revoke it now, the one place a restore acts
     * on res.old_device.  A home restored without it is whole, so a failure
     * here says how to finish by hand. */
    if (!res.keep_old) {
        mm_home_t *h = NULL;
        if ((rc = mm_home_open(cli->path, &h)) == MM_OK)
            rc = mm_device_revoke(h, res.old_device, mm_now_ms(), NULL);
        mm_home_close(&h);
        if (rc) {
            char what[MM_PATH_MAX + 128], code[MM_IDCODE_LEN + 1];
            mm_idcode_encode(code, MM_IDCODE_DEVICE, res.old_device);
            snprintf(what, sizeof what, "restored into %s, but cannot revoke the old device "
                     "(run 'mm device revoke %.16s' there)", cli->path, code);
            return cli_fail_rc(cli, rc, what);
        }
    }
    char dev[MM_IDCODE_LEN + 1], old[MM_IDCODE_LEN + 1], ident[MM_IDCODE_LEN + 1];
    char when[CLI_TIME_MAX];
    mm_idcode_encode(dev, MM_IDCODE_DEVICE, res.new_device);
    mm_idcode_encode(old, MM_IDCODE_DEVICE, res.old_device);
    mm_idcode_encode(ident, MM_IDCODE_IDENTITY, res.identity);
    if (cli->json) {
        json_t j;
        json_init(&j, stdout);
        json_obj_begin(&j, NULL);
        json_str(&j, "home", cli->path);
        json_str(&j, "identity", ident);
        json_str(&j, "device", dev);
        json_str(&j, "old_device", old);
        json_bool(&j, "keep_old", res.keep_old);
        cli_time_iso(when, res.made);
        json_str(&j, "made", when);
        json_uint(&j, "entries", res.n.entries);
        json_uint(&j, "scopes", res.n.scopes);
        json_uint(&j, "peers", res.n.peers);
        json_uint(&j, "certs", res.n.certs);
        json_uint(&j, "questions", res.n.questions);
        json_uint(&j, "catchup", res.catchup);
        json_obj_end(&j);
        return json_finish(&j);
    }
    cli_time_local(when, res.made);
    printf("restored the backup of %s into %s\n", when, cli->path);
    printf("  device      %s  (new, this one)\n", dev);
    printf("  old device  %s  (its feeds are closed%s)\n", old,
           res.keep_old ? "; kept, as --keep-old asks" : "; revoked");
    printf("  %llu entr%s, %llu scope%s, %llu peer%s", (unsigned long long) res.n.entries,
           res.n.entries == 1 ? "y" : "ies", (unsigned long long) res.n.scopes,
           res.n.scopes == 1 ? "" : "s", (unsigned long long) res.n.peers,
           res.n.peers == 1 ? "" : "s");
    if (res.catchup)
        printf("; not yet caught up: sync with your peers before your budget is settled\n");
    else
        printf("\n");
    return CLI_EXIT_OK;
}

/* --- mm status ---------------------------------------------------------- */

typedef struct {
    int    restored;
    size_t n;
    char   names[256];
} catchup_t;

#define CATCHUP_NAMED 4

static int catchup_load(cli_t *cli, catchup_t *c)
{
    uint8_t who[CATCHUP_NAMED][32];
    mm_txn_t *txn;
    memset(c, 0, sizeof *c);
    int rc = mm_store_begin(mm_home_store(cli->home), 0, &txn);
    if (rc)
        return rc;
    rc = mm_backup_restored(txn, NULL, NULL);
    c->restored = rc == MM_OK;
    if (rc == MM_ENOTFOUND)
        rc = MM_OK;
    if (rc == MM_OK && c->restored)
        rc = mm_catchup_pending(txn, who, CATCHUP_NAMED, &c->n);
    for (size_t i = 0; rc == MM_OK && i < c->n && i < CATCHUP_NAMED; i++) {
        char name[CLI_NAME_SAFE];
        mm_peer_t p;
        size_t at = strlen(c->names);
        if (!memcmp(who[i], mm_home_identity_pk(cli->home), 32))
            snprintf(name, sizeof name, "your other devices");
        else if (mm_peer_get(txn, who[i], &p) == MM_OK)
            cmd_peer_name(name, p.petname);
        else
            snprintf(name, sizeof name, "a former peer");
        if (at < sizeof c->names - 1        /* cut when long: names, not data */
            && snprintf(c->names + at, sizeof c->names - at, "%s%s", at ? ", " : "", name) < 0)
            c->names[at] = '\0';
    }
    mm_txn_abort(&txn);
    return rc;
}

int cmd_backup_status_text(cli_t *cli)
{
    catchup_t c;
    int rc = catchup_load(cli, &c);
    if (rc)
        return cli_fail_rc(cli, rc, "cannot read the store");
    if (c.restored && c.n)
        printf("restored, not yet caught up (%zu to go: %s%s); your budget is settled once "
               "'mm sync' has reached them\n", c.n, c.names,
               c.n > CATCHUP_NAMED ? ", ..." : "");
    return CLI_EXIT_OK;
}

int cmd_backup_status_json(cli_t *cli, json_t *j)
{
    catchup_t c;
    int rc = catchup_load(cli, &c);
    if (rc)
        return rc;
    if (!c.restored) {
        json_null(j, "restored");
        return MM_OK;
    }
    json_obj_begin(j, "restored");
    json_bool(j, "caught_up", c.n == 0);
    json_uint(j, "to_go", c.n);
    json_str(j, "names", c.names);
    json_obj_end(j);
    return MM_OK;
}
