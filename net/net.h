/*  net.h -- ZeroMQ transport: serve, sync with a peer, accept an invite.
 *
 *  Every connection is ZMTP CURVE (RFC 26) between X25519 keys converted
 *  from the devices' Ed25519 keys; the server runs a ZAP handler (RFC 27)
 *  that admits only the person's own devices, the devices of known,
 *  unblocked peers, and holders of an invite it issued.  Only net/ talks
 *  to libzmq.  See PROTOCOL.md, "Transport".
 */
#ifndef MM_NET_H
#define MM_NET_H

#include <signal.h>
#include "crypto/error.h"
#include <stddef.h>
#include <stdint.h>
#include "core/home.h"
#include "core/peer.h"
#include "core/invite.h"
#include "core/pair.h"
#include "core/news.h"
#include "core/mailbox.h"
#include "net/session.h"

/* Limits of mm serve (PROTOCOL.md 8.6, "Limits"). */
#define MM_SERVE_SESSIONS_MAX 64     /* concurrent sessions in one mm serve */
#define MM_SESSIONS_PER_PEER  4      /* of which one identity may hold at most */
#define MM_SESSION_IDLE_MS    60000  /* a session that makes no progress this long ends */
#define MM_SESSION_MAX_MS     600000 /* no session lasts longer, progress or not */
#define MM_HANDSHAKE_MS       5000   /* to finish the CURVE handshake (ZMQ_HANDSHAKE_IVL) */
#define MM_LOOSE_MAX          1024   /* connections without a session kept at once, at most */
#define MM_LOOSE_MS           10000  /* a connection without a session is closed after this */
#define MM_FD_RESERVE         (MM_SERVE_SESSIONS_MAX + 64)  /* descriptors kept for the rest */
#define MM_DEFAULT_PORT       7460
/* What an MM_EBUSY ERROR tells the client to wait before it comes back
 * (its text ends "retry after N ms", PROTOCOL.md 8.6): the server is full,
 * or the peer holds its share of sessions. */
#define MM_RETRY_FULL_MS      500
#define MM_RETRY_PEER_MS      1000

/* Test knobs: mm serve reads MM_SESSION_IDLE_MS and MM_SESSION_MAX_MS from
 * its environment, a number of milliseconds from 100 to 86,400,000 that
 * replaces the default of the same name (anything else is ignored), so
 * that tests see the timers fire without waiting minutes.  Not for use:
 * the defaults are the protocol's.  Likewise MM_SERVE_SESSIONS, from 1 to
 * MM_SERVE_SESSIONS_MAX, lowers the number of sessions at once, so that a
 * test meets the cap with a few clients. */

/* Lines mm serve reports (connections, syncs, refusals), for the caller
 * to print; never secrets. */
typedef void (*mm_serve_log_fn)(void *arg, const char *line);

/* Serve this home on the given endpoints ("tcp://HOST:PORT", port may be
 * "*") until *stop becomes non-zero (a signal handler sets it).  Records
 * the endpoints actually bound in HOME/serve.lock, locked while running.
 * Raises the process's soft RLIMIT_NOFILE to its hard limit, and keeps at
 * most min(MM_LOOSE_MAX, (limit - MM_FD_RESERVE) / 2) connections that
 * carry no session (PROTOCOL.md 8.6).
 * MM_OK after a clean stop; MM_EBUSY (another mm serve runs for this home);
 * MM_EINVAL (bad endpoint); MM_EIO (cannot bind: errtext says why). */
int mm_serve_run(mm_home_t *home, char *const *listen, size_t nlisten,
                 const volatile sig_atomic_t *stop, mm_serve_log_fn log, void *arg,
                 char *errtext, size_t errcap) MM_NODISCARD;

/* ---- work beside serving (mm serve --sync-every) ---- */

#define MM_SERVE_EXT_FDS 8          /* descriptors an extension may have polled */

/* Work mm serve's loop does beside its sessions, in its one thread: the
 * extension's descriptors are polled with the sockets, and the loop sleeps
 * no longer than the extension asks.  Any callback may be NULL; none may
 * block.  Background sync (cli/bgsync.c) is one: it runs each sync in a
 * child process whose output pipes it has polled here. */
typedef struct {
    /* Before each poll: up to max descriptors to watch for input, into fds;
     * returns their count.  *timeout_ms: the longest the loop may sleep
     * for the extension (-1: as long as it likes; an idle loop wakes once
     * a minute anyway). */
    unsigned (*prepare)(void *arg, int *fds, unsigned max, long *timeout_ms);
    /* After each poll: ready[i] is 1 if fds[i] has input or hung up. */
    void (*run)(void *arg, const int *fds, const int *ready, unsigned n);
    /* LAN discovery heard device, a device of identity (our own or a
     * peer's), with a newer endpoints statement, or back after a silence:
     * background sync makes its target due now.  At most once per round
     * of discovery per device. */
    void (*discovered)(void *arg, const uint8_t identity[32], const uint8_t device[32]);
    void *arg;
} mm_serve_ext_t;

/* What mm serve does beyond answering on its endpoints. */
typedef struct {
    /* LAN discovery (PROTOCOL.md 7.1): announce this device to its own
     * devices and its peers on the local networks, and learn where theirs
     * listen, on UDP port discover_port (0: MM_BEACON_PORT).  Test knob:
     * MM_DISCOVER_MS (100..86,400,000) replaces the 30 s between rounds. */
    int      discover;
    unsigned discover_port;
    /* work beside serving, driven by the loop (background sync), or NULL */
    const mm_serve_ext_t *ext;
    /* a descriptor that becomes readable when *stop is set (the read end
     * of a signal handler's self-pipe), polled with the sockets and
     * drained by the loop; 0 (or negative): none.  Without one, a signal
     * that lands between the loop's test of *stop and its poll is seen
     * only when the poll times out, up to a minute later. */
    int wake_fd;
} mm_serve_opts_t;

/* mm_serve_run with options (opts may be NULL: none).  Errors as
 * mm_serve_run; MM_EIO also when discovery cannot bind its UDP port. */
int mm_serve_run_opts(mm_home_t *home, char *const *listen, size_t nlisten,
                      const volatile sig_atomic_t *stop, mm_serve_log_fn log, void *arg,
                      const mm_serve_opts_t *opts, char *errtext, size_t errcap) MM_NODISCARD;

/* Endpoints of the mm serve running for the home at path, wildcards
 * replaced by this machine's addresses.  MM_OK; MM_ENOTFOUND (none runs). */
int mm_serve_endpoints(const char *home_path, char out[][MM_ENDPOINT_MAX + 1],
                       unsigned max, unsigned *n) MM_NODISCARD;

/* Start loading libzmq, and making the ZeroMQ context the first
 * connection will use, on a thread of its own, so that the 2 ms or so
 * this takes (some fifteen shared libraries and their relocations, and
 * OpenPGM's initialisation, which looks its protocol up through NSS)
 * overlaps what the caller does before it connects (opening the store,
 * choosing the devices to call).  For a command that is about to use the
 * network; harmless if it does not, or if the thread cannot start.  The
 * first connection waits for it; mm_net_warm_end after the last one. */
void mm_net_warm(void);

/* Wait for mm_net_warm's thread and drop the context it made if no
 * connection took it.  Idempotent; a no-op without mm_net_warm. */
void mm_net_warm_end(void);

/* One sync session with peer p (or with one's own device when p->identity
 * is one's own), trying its devices and endpoints in the order of
 * PROTOCOL.md 3.4 (each try but the last has 3 s to complete its
 * handshake) and a full server again while it says when to come back
 * (8.6), within timeout_ms.  On success updates the peer's last_sync.
 * MM_OK with *stats; MM_ETIMEOUT (unreachable or silent); MM_ENOLISTEN
 * (the last address tried refused the connection: nothing listens);
 * MM_EREFUSED (its device refused us); MM_EBUSY (still full at the
 * deadline); a session error (errtext says more).  runs (may be NULL) gets every run the session stored, also
 * when it fails later, uninterpreted: mm_news_of says what they mean; the
 * caller frees it (mm_news_runs_free). */
int mm_net_sync(mm_home_t *home, const mm_peer_t *p, int timeout_ms,
                mm_sync_stats_t *stats, mm_news_runs_t *runs, char *errtext,
                size_t errcap) MM_NODISCARD;

/* ---- several syncs at once (many.c) ---- */

/* Called after each try at one address of one device (device, via MM_VIA_*,
 * ep), with its result rc and errtext; with retry_ms > 0, before waiting
 * that long to try a full server again (rc MM_EBUSY). */
typedef void (*mm_net_tried_fn)(void *arg, const uint8_t device[32], unsigned via,
                                const char *ep, int rc, const char *errtext,
                                unsigned retry_ms);

#define MM_JOB_WAITING 0
#define MM_JOB_RUNNING 1
#define MM_JOB_DONE    2

/* One sync of mm_net_sync_many: p is given; the rest is filled. */
typedef struct {
    const mm_peer_t *p;
    int              state;         /* MM_JOB_... */
    int              rc;            /* once done: mm_net_sync's result */
    mm_sync_stats_t  stats;         /* once done, as mm_net_sync's */
    mm_sync_stats_t  live;          /* while running: the session's so far */
    mm_news_runs_t   runs;          /* as mm_net_sync's; the caller frees it */
    uint64_t         ms;            /* how long it took */
    char             errtext[512];
} mm_net_job_t;

/* What mm_net_sync_many tells its caller.  Every callback is called with
 * the store to itself (no sync touches it meanwhile), so it may read the
 * store; none may block long.  Each may be NULL. */
typedef struct {
    /* jobs[i] is done, and so is every job before it: called once per job,
     * in the order of jobs, on the calling thread */
    void (*done)(void *arg, mm_net_job_t *jobs, size_t i);
    /* about every 100 ms while some job runs, on the calling thread */
    void (*tick)(void *arg, const mm_net_job_t *jobs, size_t n);
    /* each try of an address (mm_net_tried_fn), on the job's thread */
    void (*tried)(void *arg, const mm_net_job_t *job, const uint8_t device[32], unsigned via,
                  const char *ep, int rc, const char *errtext, unsigned retry_ms);
    void *arg;
} mm_net_many_ev_t;

/* mm_net_sync with each of jobs[0..n-1]'s peers, up to parallel (1..64) at
 * once, each on a thread and a ZeroMQ context of its own; the threads take
 * turns at the store (one at a time: sessions overlap their waits for the
 * network, not their writes).  One job and no tick: on the calling
 * thread (nothing to overlap, nothing to draw meanwhile).  Returns once
 * every job is done: MM_OK (each job has its own rc); MM_EINVAL (parallel
 * out of range). */
int mm_net_sync_many(mm_home_t *home, mm_net_job_t *jobs, size_t n, unsigned parallel,
                     int timeout_ms, const mm_net_many_ev_t *ev) MM_NODISCARD;

/* Accept an invite: connect with the invite's key, present our device,
 * and on WELCOME store the peer (named petname), its certificate and our
 * new relationship scope.  *out gets the peer record.  MM_OK; MM_EINVAL
 * (expired, or our own); MM_EEXIST (already a peer, or petname taken);
 * MM_EREFUSED (used, withdrawn or foreign code); MM_ETIMEOUT. */
int mm_net_accept(mm_home_t *home, const mm_invite_code_t *code, const char *petname,
                  int timeout_ms, mm_peer_t *out, char *errtext, size_t errcap) MM_NODISCARD;

/* ---- mailboxes (PROTOCOL.md 14) ---- */

/* `mm mailbox link`: on the identity device, link the mailbox of code to
 * this identity under name: LINK, the mailbox's consent, CERTIFY with the
 * mailbox certificate, which is stored here once the mailbox took it.
 * device_out gets the mailbox's device key.  MM_OK; MM_ENOIDENTITY (not
 * the identity device); MM_EINVAL (expired code, bad name); MM_EREFUSED
 * (the mailbox refused: used, expired, linked already); MM_ETIMEOUT;
 * MM_EBADSIG; store errors.  errtext says which. */
int mm_net_mailbox_link(mm_home_t *home, const mm_mailbox_code_t *code, const char *name,
                        int timeout_ms, uint8_t device_out[32], char *errtext,
                        size_t errcap) MM_NODISCARD;

/* After `mm mailbox unlink`: hand the mailbox device its revocation in a
 * session (DEVICES), so that it refuses its owner's devices from now on
 * (it ends the session with MM_EREVOKED, which is the success here).
 * MM_OK (the mailbox took it); MM_ETIMEOUT / MM_ENOTFOUND (unreachable, or
 * no address known: peers still stop using it once they hear of it). */
int mm_net_mailbox_tell(mm_home_t *home, const uint8_t device[32], int timeout_ms,
                        char *errtext, size_t errcap) MM_NODISCARD;

/* ---- pairing a device (PROTOCOL.md 9.1) ---- */

/* The identity device's listener, told what happens; each may be NULL but
 * confirm.  ready: the code to show (text and fields), once bound.
 * confirm: the joiner's name and short fingerprint, after its proof
 * verified; 1 certifies it, 0 refuses (the code stays valid).  It may
 * block: the listener waits for it. */
typedef struct {
    void (*ready)(void *arg, const char *code, const mm_pair_code_t *c);
    int  (*confirm)(void *arg, const char *name, const char *fingerprint);
    void (*certified)(void *arg, const char *name, const char *fingerprint);
    void *arg;
} mm_pair_events_t;

/* What became of a pairing listener. */
typedef struct {
    int      certified;             /* a device was certified with the code */
    int      synced;                /* and it then completed a sync session */
    unsigned refused;               /* joiners refused (by the person, or by a rule) */
    char     name[MM_DEVNAME_MAX + 1];
    char     fingerprint[MM_PAIR_FP_LEN + 1];
} mm_pair_outcome_t;

/* `mm device pair`: make a code valid for ttl_ms, listen on listen (as
 * mm serve does, beside it if one runs), and pair the first joiner the
 * person confirms; want_name, if not NULL, is the only device name
 * accepted.  Returns once the paired device completed its first sync, or
 * the code expired, or *stop became non-zero.  MM_OK (paired and synced);
 * MM_ENOIDENTITY (this home cannot certify); MM_ETIMEOUT (the code expired
 * unused, or the paired device did not sync within MM_SESSION_MAX_MS);
 * mm_serve_run's errors.  Stopped by *stop it returns MM_OK, and
 * out->certified and out->synced tell how far it got. */
int mm_net_pair_serve(mm_home_t *home, char *const *listen, size_t nlisten, uint64_t ttl_ms,
                      const char *want_name, const mm_pair_events_t *ev,
                      const volatile sig_atomic_t *stop, mm_serve_log_fn log, void *logarg,
                      mm_pair_outcome_t *out, char *errtext, size_t errcap) MM_NODISCARD;

/* `mm init --join`: join code's identity as a new device named devname,
 * building the home at path, then sync with the pairing device once.
 * waiting (may be NULL) is told the fingerprint of the new device key
 * before the answer is awaited, for the person to compare.  MM_OK with
 * *sum and *stats; MM_EINVAL (expired code); MM_EREFUSED (refused, used,
 * or a joiner already certified); MM_ETIMEOUT (nobody answers at the
 * code's endpoints: the code was used or expired, or is of another
 * device); MM_EEXIST (path holds a home); a sync failure after the home
 * was built (*sum is then filled: the home exists).  errtext says which. */
int mm_net_pair_join(const char *path, const mm_pair_code_t *code, const char *devname,
                     int timeout_ms, void (*waiting)(void *arg, const char *fingerprint),
                     void *arg, mm_pair_summary_t *sum, mm_sync_stats_t *stats,
                     int *home_made, char *errtext, size_t errcap) MM_NODISCARD;

#endif
