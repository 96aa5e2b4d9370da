/*  cmd_peer.h -- what the peer commands (cmd_peer.c) lend the others:
 *  finding a peer by what people type, reading them all, and a peer's
 *  name made fit for a terminal, a message or JSON.
 */
#ifndef MM_CLI_CMD_PEER_H
#define MM_CLI_CMD_PEER_H

#include <stddef.h>

#include "cli/cli.h"
#include "cli/json.h"
#include "core/peer.h"
#include "core/store.h"

/* A petname or a peer's own name made fit for a terminal (cli_line). */
#define CLI_NAME_SAFE (4 * MM_PETNAME_MAX + 4)

/* A peer as a JSON object: peer list / show, accept. */
void cmd_peer_json(json_t *j, const char *key, const mm_peer_t *p);
/* Find the peer named what (petname or "mmi..." prefix) in txn.  Exit
 * code; prints "no peer 'x'; see 'mm peer list'" and the like. */
int  cmd_peer_find(cli_t *cli, mm_txn_t *txn, const char *what, mm_peer_t *p);
/* cmd_peer_find in a read transaction of its own. */
int  cmd_peer_get(cli_t *cli, const char *what, mm_peer_t *p);
/* Every peer record, in store order.  Free v with free(). */
typedef struct {
    mm_peer_t *v;
    size_t     n, cap;
    int        mentees;         /* how many have the role mentee */
} cmd_peers_t;
/* Read them all into l.  Exit code; prints errors. */
int  cmd_peer_all(cli_t *cli, cmd_peers_t *l);
/* The name made safe into out. */
void cmd_peer_name(char out[CLI_NAME_SAFE], const char *name);
/* The peer as an argument of a command suggested in a message: its petname,
 * quoted for the shell if need be, else the start of its identity code. */
void cmd_peer_arg(char out[CLI_NAME_SAFE], const mm_peer_t *p);
/* "mentor" or "mentee": the peer's role towards me. */
const char *cmd_peer_role(unsigned role);

#endif
