/*  cmd_init.c -- mm init: create a home (identity, device key, store). */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "cli/util.h"
#include "core/cert.h"
#include "core/utf8.h"
#include "crypto/error.h"

const char cmd_init_help[] =
    "create a new home: identity, device key and store\n"
    "\n"
    "DESCRIPTION\n"
    "    Creates a micromentor home: your identity key, a key for this device\n"
    "    certified by the identity, and an empty store.  Key files are made\n"
    "    with mode 0600 in a 0700 directory.  The home is built beside its\n"
    "    place and renamed into it, so an interrupted init leaves nothing\n"
    "    half-made.  The directory must not exist or be empty; an existing\n"
    "    home is never touched.\n"
    "\n"
    "OPTIONS\n"
    "    --name NAME\n"
    "        Your display name (required; 1 to 64 bytes of UTF-8).\n"
    "    --device DEVNAME\n"
    "        A name for this device (up to 64 bytes; default: the host name).\n"
    "    --join CODE\n"
    "        Join your existing identity as a new device instead: CODE is\n"
    "        the pairing code (mmp1...) that 'mm device pair' prints on your\n"
    "        identity device.  This device shows its name and a short\n"
    "        fingerprint (ABCD-EFGH) to compare with what the identity\n"
    "        device asks you to confirm; then it gets its certificate, your\n"
    "        scope keys, peers and certificates over the encrypted\n"
    "        connection, and syncs everything once.  No --name: it is your\n"
    "        identity's.  A used, expired, damaged or foreign code is\n"
    "        refused with one line.\n"
    "    --timeout SECONDS\n"
    "        With --join: how long to wait for the identity device to be\n"
    "        reached, and for the first sync (1 to 3600, default 10).  The\n"
    "        confirmation itself may take until the code expires.\n"
    "\n"
    "OUTPUT\n"
    "    Initialised micromentor home at /home/ada/.local/share/micromentor\n"
    "    name      Ada\n"
    "    identity  mmi...\n"
    "    device    mmd... (laptop)\n"
    "\n"
    "    --json prints {\"home\", \"name\", \"identity\", \"device\", \"device_name\"}.\n"
    "\n"
    "    With --join: joined Ada's identity as device 'phone' (ABCD-EFGH):\n"
    "    2 peers, 5 scopes, 10000 entries; --json prints {\"home\", \"name\",\n"
    "    \"device_name\", \"fingerprint\", \"peers\", \"scopes\",\n"
    "    \"certificates\", \"entries\"}.\n"
    "\n"
    "EXAMPLES\n"
    "    mm init --name Ada\n"
    "    mm --home /tmp/ada init --name 'Ada Lovelace' --device laptop\n"
    "    mm init --join mmp1... --device phone\n"
    "\n"
    "EXIT STATUS\n"
    "    0  the home was created\n"
    "    1  it could not be created, or a home or other files are already there;\n"
    "       with --join: the code is not a pairing code (MM_EINVAL), damaged\n"
    "       (MM_ECHECKSUM), expired (MM_EINVAL), refused or already used\n"
    "       (MM_EREFUSED), or nothing answers it (MM_ETIMEOUT)\n"
    "    2  the command line is wrong (e.g. no --name)\n";

/* 1 if s has a control character (names end up on terminals). */
static int has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char) *s < 0x20 || *s == 0x7f)
            return 1;
    return 0;
}

/* Usage error for a bad --name / --device, or CLI_EXIT_OK. */
static int check_name(cli_t *cli, const char *opt, const char *s, size_t max)
{
    size_t n = strlen(s);

    if (n == 0)
        return cli_usage(cli, "%s must not be empty", opt);
    if (n > max)
        return cli_usage(cli, "%s is %zu bytes long; the limit is %zu",
                         opt, n, max);
    if (!mm_utf8_valid(s, n))
        return cli_usage(cli, "%s is not valid UTF-8", opt);
    if (has_control(s))
        return cli_usage(cli, "%s must not contain control characters", opt);
    return CLI_EXIT_OK;
}

/* 1 if path looks like a micromentor home already. */
static int is_home(const char *path)
{
    static const char *const parts[] = { "device.key", "identity.key", "store" };
    char p[MM_PATH_MAX + 32];
    struct stat st;

    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", path, parts[i]);
        if (lstat(p, &st) == 0)
            return 1;
    }
    return 0;
}

int cmd_init(cli_t *cli, int argc, char **argv)
{
    const char *name = cli->opt[CLI_OPT_NAME];
    const char *devname = cli->opt[CLI_OPT_DEVICE];
    int ex, rc;

    if (argc > 0)
        return cli_usage(cli, "unexpected argument '%s'", argv[0]);
    if (cli->opt[CLI_OPT_JOIN]) {
        if (name)
            return cli_usage(cli, "--join takes your name from your identity; name this "
                             "device with --device DEVNAME");
        if (devname &&
            (ex = check_name(cli, "--device", devname, MM_DEVNAME_MAX)) != CLI_EXIT_OK)
            return ex;
        return cmd_init_join(cli, cli->opt[CLI_OPT_JOIN], devname);
    }
    if (cli->opt[CLI_OPT_TIMEOUT])
        return cli_usage(cli, "--timeout goes with --join");
    if (!name)
        return cli_usage(cli, "missing --name NAME");
    if ((ex = check_name(cli, "--name", name, MM_NAME_MAX)) != CLI_EXIT_OK)
        return ex;
    if (devname &&
        (ex = check_name(cli, "--device", devname, MM_DEVNAME_MAX)) != CLI_EXIT_OK)
        return ex;
    if ((ex = cli_home_path(cli)) != CLI_EXIT_OK)
        return ex;

    rc = mm_home_init(cli->path, name, devname, mm_now_ms());
    cli_set_code(rc);
    switch (rc) {
    case MM_OK:
        break;
    case MM_EEXIST:
        if (is_home(cli->path))
            return cli_fail(cli, "%s already holds a micromentor home; nothing "
                            "was changed", cli->path);
        return cli_fail(cli, "%s exists and is not an empty directory, so "
                        "nothing was changed; choose another with --home DIR",
                        cli->path);
    case MM_EPERM:
        return cli_fail(cli, "cannot create a home at %s: permission denied; "
                        "check the permissions of its parent directory",
                        cli->path);
    default:
        return cli_fail(cli, "cannot create a home at %s: %s; %s", cli->path,
                        mm_strerror(rc), cli_hint(rc));
    }
    if ((ex = cli_home_open(cli)) != CLI_EXIT_OK)
        return ex;
    ex = cmd_id_print(cli, 1);
    mm_home_close(&cli->home);
    return ex;
}
