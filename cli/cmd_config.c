/*  cmd_config.c -- mm config get | set | unset | list: the defaults in
 *  $MM_HOME/config (config.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/config.h"
#include "cli/json.h"
#include "cli/util.h"
#include "crypto/error.h"

const char cmd_config_help[] =
    "read and change the defaults in your home's config file\n"
    "\n"
    "DESCRIPTION\n"
    "    HOME/config holds defaults for the command line, so that a flag\n"
    "    you always give need not be typed.  A flag on the command line\n"
    "    overrides the file.  The file is plain text you may edit by hand:\n"
    "    one 'key = value' per line; blank lines and lines starting with '#'\n"
    "    are comments; spaces around the key and the value are dropped; the\n"
    "    last line of a key wins.  An unknown key or a bad value makes every\n"
    "    command but 'mm config' fail with the file and line named.  Your\n"
    "    budget is not here: it lives in your log ('mm capacity').\n"
    "\n"
    "    get KEY          print the value of KEY (exit 1 if it is not set)\n"
    "    set KEY VALUE    set KEY; VALUE may be several words\n"
    "    unset KEY        remove KEY from the file\n"
    "    list             every key that is set, as 'key = value'\n"
    "\n"
    "KEYS\n"
    "    listen = tcp://HOST:PORT ...\n"
    "        The endpoints 'mm serve' listens on, separated by spaces (as\n"
    "        --listen, given once per endpoint).\n"
    "    sync-timeout = SECONDS\n"
    "        1 to 3600: how long sync, accept and init --join wait for a peer\n"
    "        (as --timeout; default 10).\n"
    "    color = auto | always | never\n"
    "        auto (the default): colour when stdout is a terminal, unless\n"
    "        NO_COLOR is set or TERM is dumb.  Never with --json.\n"
    "    editor = COMMAND\n"
    "        The command (run by /bin/sh, with the file's path appended)\n"
    "        that edits a TEXT you leave out on a terminal; before $EDITOR,\n"
    "        $VISUAL and vi.\n"
    "\n"
    "OUTPUT\n"
    "    get:   the value, one line\n"
    "    set:   set sync-timeout = 30\n"
    "    list:  sync-timeout = 30\n"
    "\n"
    "    --json: get prints {\"key\", \"value\"}; set and unset {\"key\",\n"
    "    \"value\"} (value null after unset); list {\"listen\", \"sync-timeout\",\n"
    "    \"color\", \"editor\"}, null for each key not set.\n"
    "\n"
    "EXAMPLES\n"
    "    mm config set sync-timeout 30\n"
    "    mm config set listen tcp://0.0.0.0:7461 tcp://[::]:7461\n"
    "    mm config set editor 'nano -w'\n"
    "    mm config get color\n"
    "    mm config unset editor\n"
    "\n"
    "EXIT STATUS\n"
    "    0  done\n"
    "    1  get: the key is not set; the file cannot be read or written\n"
    "    2  the command line is wrong: no such key, a bad value\n";

/* The home's path and the file loaded leniently (a broken line is what
 * mm config is for).  Exit code. */
static int load(cli_t *cli)
{
    return cli_config_load(cli, mm_home_path(cli->home), 0);
}

static int key_arg(cli_t *cli, const char *key)
{
    char keys[128];
    size_t o = 0;

    if (cli_config_find(key) >= 0)
        return CLI_EXIT_OK;
    keys[0] = '\0';
    for (size_t i = 0; i < cli_config_nkeys && o < sizeof keys; i++)
        o += (size_t) snprintf(keys + o, sizeof keys - o, "%s%s", i ? ", " : "",
                               cli_config_keys[i].name);
    return cli_usage(cli, "unknown key '%s'; the keys are %s", key, keys);
}

static void print_pair(const cli_t *cli, const char *key, const char *value)
{
    json_t j;

    json_init(&j, stdout);
    json_obj_begin(&j, NULL);
    json_str(&j, "key", key);
    json_str(&j, "value", value);
    json_obj_end(&j);
    (void) json_finish(&j);
    (void) cli;
}

int cmd_config_get(cli_t *cli, int argc, char **argv)
{
    const char *v;
    int ex;

    if (argc != 1)
        return cli_usage(cli, argc ? "give one KEY" : "missing the KEY");
    if ((ex = key_arg(cli, argv[0])) != CLI_EXIT_OK || (ex = load(cli)) != CLI_EXIT_OK)
        return ex;
    if (!(v = cli_config_get(argv[0])))
        return cli_fail_code(cli, MM_ENOTFOUND, "%s is not set; set it with 'mm config set %s VALUE'",
                        argv[0], argv[0]);
    if (cli->json)
        print_pair(cli, argv[0], v);
    else
        printf("%s\n", v);
    return CLI_EXIT_OK;
}

/* set and unset: value NULL removes the key. */
static int change(cli_t *cli, const char *key, const char *value)
{
    const char *bad;

    if (value && (bad = cli_config_check(key, value)))
        return cli_usage(cli, "cannot set %s to '%s': %s", key, value, bad);
    if (cli_config_write(mm_home_path(cli->home), key, value) != 0)
        return cli_fail_code(cli, MM_EIO, "cannot write %s/%s: %s; check the disk and the "
                        "home's permissions", mm_home_path(cli->home),
                        CLI_CONFIG_FILE, strerror(errno));
    if (cli->json)
        print_pair(cli, key, value);
    else if (value)
        printf("set %s = %s\n", key, value);
    else
        printf("unset %s\n", key);
    return CLI_EXIT_OK;
}

int cmd_config_set(cli_t *cli, int argc, char **argv)
{
    char *value = NULL;
    size_t len = 0;
    int ex;

    if (argc < 2)
        return cli_usage(cli, argc ? "missing the VALUE" : "give the KEY and the VALUE");
    if ((ex = key_arg(cli, argv[0])) != CLI_EXIT_OK)
        return ex;
    int r = cli_join_words(argc - 1, argv + 1, CLI_CONFIG_LINE_MAX - 64, &value, &len);
    if (r > 0)
        return cli_usage(cli, "the value of %s is too long", argv[0]);
    if (r < 0)
        return cli_fail(cli, "out of memory; free some memory and try again");
    ex = change(cli, argv[0], value);
    free(value);
    return ex;
}

int cmd_config_unset(cli_t *cli, int argc, char **argv)
{
    int ex;

    if (argc != 1)
        return cli_usage(cli, argc ? "give one KEY" : "missing the KEY");
    if ((ex = key_arg(cli, argv[0])) != CLI_EXIT_OK)
        return ex;
    return change(cli, argv[0], NULL);
}

int cmd_config_list(cli_t *cli, int argc, char **argv)
{
    json_t j;
    int ex;

    if (argc > 0)
        return cli_usage(cli, "unexpected argument '%s'", argv[0]);
    if ((ex = load(cli)) != CLI_EXIT_OK)
        return ex;
    if (cli->json) {
        json_init(&j, stdout);
        json_obj_begin(&j, NULL);
        for (size_t i = 0; i < cli_config_nkeys; i++)
            json_str(&j, cli_config_keys[i].name,
                     cli_config_get(cli_config_keys[i].name));
        json_obj_end(&j);
        (void) json_finish(&j);
        return CLI_EXIT_OK;
    }
    for (size_t i = 0; i < cli_config_nkeys; i++) {
        const char *v = cli_config_get(cli_config_keys[i].name);
        if (v)
            printf("%s = %s\n", cli_config_keys[i].name, v);
    }
    return CLI_EXIT_OK;
}
