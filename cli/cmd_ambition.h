/*  cmd_ambition.h -- my ambitions (cmd_ambition.c), for mm ask and mm
 *  status too.
 */
#ifndef MM_CLI_CMD_AMBITION_H
#define MM_CLI_CMD_AMBITION_H

#include <stddef.h>

#include "cli/cli.h"
#include "cli/json.h"
#include "core/ambition.h"
#include "core/item.h"

typedef struct {
    mm_items_t     items;       /* the self scope */
    mm_ambition_t *v;           /* every ambition, oldest first */
    size_t         n;
} cmd_ambitions_t;

/* Exit code; prints errors.  Free with cmd_ambitions_free, also on failure. */
int  cmd_ambitions_load(cli_t *cli, cmd_ambitions_t *a);
void cmd_ambitions_free(cmd_ambitions_t *a);
/* The ambition whose id starts with arg.  Exit code; prints errors. */
int  cmd_ambition_find(cli_t *cli, const cmd_ambitions_t *a, const char *arg,
                       const mm_ambition_t **out);
/* "active", "done" or "dropped". */
const char *cmd_ambition_state(const mm_ambition_t *a);
/* {"id", "kind", "text", "time", "time_ms", "state"}, left open. */
void cmd_ambition_json(json_t *j, const char *key, const mm_ambition_t *a);

#endif
