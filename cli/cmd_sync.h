/*  cmd_sync.h -- one sync session with one peer (cmd_sync.c), shared by
 *  mm sync and mm accept.
 */
#ifndef MM_CLI_CMD_SYNC_H
#define MM_CLI_CMD_SYNC_H

#include <stdint.h>

#include "cli/cli.h"
#include "cli/cmd_peer.h"
#include "cli/json.h"
#include "core/news.h"
#include "core/peer.h"
#include "net/session.h"

/* The outcome of the session. */
typedef struct {
    char            name[MM_PETNAME_MAX + 1];   /* the peer's petname */
    char            arg[CLI_NAME_SAFE];         /* cmd_peer_arg */
    int             rc;                         /* MM_OK or why it failed */
    mm_sync_stats_t stats;
    uint64_t        ms;                         /* wall time of the session */
    char            error[512];                 /* "" or why, one line */
    mm_news_list_t  news;                       /* what arrived means (news.h) */
} cmd_sync_result_t;

/* Sync once with p and fill *r (never prints).  r->rc is the result; on
 * success r->news says what arrived.  Free with cmd_sync_result_free. */
int  cmd_sync_peer(cli_t *cli, const mm_peer_t *p, int timeout_ms,
                   cmd_sync_result_t *r);
void cmd_sync_result_free(cmd_sync_result_t *r);
/* Human output of r: the "grace: sent 3, received 5 entries (12.3 kB) in
 * 45 ms" line on stdout, then one indented line per event that arrived
 * ("  grace answered 98bf3c2a1d0e"), or "mm CMD: grace: why; what to do"
 * on stderr. */
void cmd_sync_print(const cli_t *cli, const cmd_sync_result_t *r);
/* r as a JSON object {"name", "ok", "sent", ..., "error", "news"}. */
void cmd_sync_json(const cli_t *cli, json_t *j, const char *key, const cmd_sync_result_t *r);
/* --timeout SECONDS (1..3600, default 10) in milliseconds into *ms.  Exit
 * code; prints errors. */
int  cmd_sync_timeout(cli_t *cli, int *ms);

#endif
