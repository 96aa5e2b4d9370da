/*  config.h -- $MM_HOME/config: a small human-editable file of defaults
 *  for the command line (config.c), and what mm config reads and writes.
 *
 *  The file is lines of "key = value"; blank lines and lines starting with
 *  '#' are comments.  Keys (cli_config_keys): listen (the endpoints of mm
 *  serve, separated by spaces), sync-timeout (seconds, the --timeout of
 *  sync, accept and init --join), color (auto, always or never) and editor
 *  (the command that edits a TEXT left out on a terminal).  A flag given
 *  on the command line overrides the file; the budget is not here (it
 *  lives in the log: mm capacity).  The file belongs to the person: mm
 *  config set rewrites only the line of its key and keeps the rest,
 *  comments included.
 */
#ifndef MM_CLI_CONFIG_H
#define MM_CLI_CONFIG_H

#include <stddef.h>

#include "cli/cli.h"

#define CLI_CONFIG_FILE      "config"   /* in the home directory */
#define CLI_CONFIG_LINE_MAX  1024       /* bytes of one line */
#define CLI_CONFIG_FILE_MAX  65536      /* bytes of the file */

/* One key: its name, what it is for, and the values it takes (for help). */
typedef struct {
    const char *name;
    const char *doc;
    const char *values;
} cli_config_key_t;

extern const cli_config_key_t cli_config_keys[];
extern const size_t           cli_config_nkeys;

/* Read HOME/config (a missing file is an empty one).  Exit code; with
 * strict, an unknown key or a bad value is an error naming the file and
 * its line (prints it); without, such lines are skipped.  Loads once per
 * process; a second call returns the first one's result. */
int cli_config_load(cli_t *cli, const char *home, int strict);

/* The value of key as loaded, or NULL when unset. */
const char *cli_config_get(const char *key);

/* Check value for key: NULL if good, else what is wrong (static text). */
const char *cli_config_check(const char *key, const char *value);

/* The index of key in cli_config_keys, or -1. */
int cli_config_find(const char *key);

/* Rewrite HOME/config with key set to value (value NULL: the key's line
 * removed), atomically (a temporary file renamed over it, mode 0600).
 * 0, or -1 with errno. */
int cli_config_write(const char *home, const char *key, const char *value);

/* Put the loaded defaults where the command's options go, for the options
 * the command takes and the command line did not give (cli->cmd set). */
void cli_config_apply(cli_t *cli);

#endif
