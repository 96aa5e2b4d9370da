/*  cmd_backup.h -- what mm backup / mm restore lend mm status: the line
 *  that a restored home has not yet caught up (core/catchup.h). */
#ifndef MM_CMD_BACKUP_H
#define MM_CMD_BACKUP_H

#include "cli/cli.h"
#include "cli/json.h"

/* Print "restored, not yet caught up (N to go: names)" when this home was
 * restored and has not synced with everyone yet; nothing otherwise.  Exit
 * code (a store error is reported). */
int cmd_backup_status_text(cli_t *cli);

/* The member "restored" of mm status --json: null (never restored) or
 * {"caught_up", "to_go", "names"}.  MM_OK or a store error (nothing
 * written then). */
int cmd_backup_status_json(cli_t *cli, json_t *j) MM_NODISCARD;

#endif
