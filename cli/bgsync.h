/*  bgsync.h -- background sync: `mm serve --sync-every DUR` syncs with
 *  every target (core/target.h) on that interval, driven from mm serve's
 *  poll loop (net.h, mm_serve_ext_t) and scheduled by core/sched.h.
 *
 *  Each sync is a child process, `mm --home H --json sync --timeout T
 *  TARGET` (the binary re-executed through /proc/self/exe), at most
 *  BGSYNC_JOBS at once: the serve loop never blocks on a client session, a
 *  home's LMDB environment is never opened twice in one process, and a
 *  crash of one sync cannot take the server down.  The child's JSON
 *  result (sent, received, ok, code) feeds the schedule's back-off; its
 *  stderr is kept, and passed on to serve's stderr only if it holds more
 *  than mm sync's own failure lines (a crash, a sanitizer's report).
 *
 *  Log lines (through the serve log, never a secret):
 *      background sync every 5.0 min with 2 peers and 1 of your devices
 *      background sync with grace: sent 1, received 2 entries
 *      background sync: grace unreachable: no answer from tcp://... (MM_ETIMEOUT); next try in 1.0 s
 *      background sync: grace still unreachable after 3 tries; next try in 4.1 s
 *      background sync: grace reachable again after 5 tries
 *  A sync that moved nothing is not logged; "still unreachable" is logged
 *  only while the back-off grows, so a target down for days costs a few
 *  lines.
 */
#ifndef MM_CLI_BGSYNC_H
#define MM_CLI_BGSYNC_H

#include <stdint.h>
#include "cli/cli.h"
#include "net/net.h"

#define BGSYNC_JOBS     2           /* syncs running at once */
#define BGSYNC_OUT_MAX  (256 * 1024)    /* of a child's output kept (its JSON) */
#define BGSYNC_TIMEOUT_MAX 10       /* seconds a child waits for an answer, at most */

typedef struct bgsync bgsync_t;

/* Background sync of cli's open home every interval_ms (MM_SCHED_MIN_MS..
 * MM_SCHED_MAX_MS), logging through log(logarg, line).  MM_OK; MM_EINVAL;
 * MM_ENOMEM. */
int bgsync_new(cli_t *cli, uint64_t interval_ms, mm_serve_log_fn log, void *logarg,
               bgsync_t **out) MM_NODISCARD;

/* Stop the syncs still running (SIGTERM, then wait for them) and free.
 * NULL-safe; sets *b to NULL. */
void bgsync_destroy(bgsync_t **b);

/* The extension to hand mm_serve_run_ext; valid while b lives. */
const mm_serve_ext_t *bgsync_ext(bgsync_t *b);

/* The discovery hook (mm_serve_ext_t.discovered): the target that device
 * of identity belongs to (the peer identity, or our own device) is due
 * now; one not listed yet is looked for in the targets at once. */
void bgsync_discovered(void *b, const uint8_t identity[32], const uint8_t device[32]);

#endif
