/*  cmd_id.c -- mm id: who you are on this device. */
#include <stdio.h>

#include "cli/cli.h"
#include "cli/json.h"
#include "cli/util.h"
#include "crypto/idcode.h"

const char cmd_id_help[] =
    "show your name, identity and device codes\n"
    "\n"
    "DESCRIPTION\n"
    "    Prints the name you gave 'mm init', your identity code (mmi...), this\n"
    "    device's code (mmd...) with its name, and the home directory.  The\n"
    "    codes are public keys with a checksum: safe to share and to paste.\n"
    "    Secret keys are never printed.\n"
    "\n"
    "OUTPUT\n"
    "    name      Ada\n"
    "    identity  mmi...\n"
    "    device    mmd... (laptop)\n"
    "    home      /home/ada/.local/share/micromentor\n"
    "\n"
    "    --json prints {\"home\", \"name\", \"identity\", \"device\", \"device_name\"}.\n"
    "\n"
    "EXAMPLES\n"
    "    mm id\n"
    "    mm --home /tmp/ada id --json\n"
    "\n"
    "EXIT STATUS\n"
    "    0  shown\n"
    "    1  there is no home, or it cannot be opened\n"
    "    2  the command line is wrong\n";

int cmd_id_print(cli_t *cli, int init)
{
    mm_home_t *home = cli->home;
    char ident[MM_IDCODE_LEN + 1], dev[MM_IDCODE_LEN + 1];
    const char *devname = mm_home_devname(home);
    const char *path = mm_home_path(home);
    json_t j;

    devname = devname ? devname : "";
    path = path ? path : cli->path;
    mm_idcode_encode(ident, MM_IDCODE_IDENTITY, mm_home_identity_pk(home));
    mm_idcode_encode(dev, MM_IDCODE_DEVICE,
                     mm_keypair_pk(mm_home_device(home)));
    if (cli->json) {
        json_init(&j, stdout);
        json_obj_begin(&j, NULL);
        json_str(&j, "home", path);
        json_str(&j, "name", mm_home_name(home));
        json_str(&j, "identity", ident);
        json_str(&j, "device", dev);
        json_str(&j, "device_name", devname);
        json_obj_end(&j);
        json_finish(&j);
        return CLI_EXIT_OK;
    }
    if (init)
        printf("Initialised micromentor home at %s\n", path);
    printf("name      %s\n", mm_home_name(home));
    printf("identity  %s\n", ident);
    printf("device    %s (%s)\n", dev, devname);
    if (!init)
        printf("home      %s\n", path);
    return CLI_EXIT_OK;
}

int cmd_id(cli_t *cli, int argc, char **argv)
{
    if (argc > 0)
        return cli_usage(cli, "unexpected argument '%s'", argv[0]);
    return cmd_id_print(cli, 0);
}
