/*  cmd_serve.c -- mm serve: answer sync sessions and invites until stopped. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/bgsync.h"
#include "cli/cli.h"
#include "cli/json.h"
#include "cli/util.h"
#include "core/log.h"
#include "core/sched.h"
#include "crypto/error.h"
#include "net/net.h"

const char cmd_serve_help[] =
    "let your peers and devices sync with you\n"
    "\n"
    "DESCRIPTION\n"
    "    Runs in the foreground until interrupted (Ctrl-C, SIGINT or\n"
    "    SIGTERM), answering sync sessions from your own devices and your\n"
    "    peers, and acceptances of the invites you made.  Every connection\n"
    "    is encrypted and authenticated (ZeroMQ CURVE); devices of unknown or\n"
    "    blocked people are refused before they can send anything.\n"
    "\n"
    "    The addresses it listens on are recorded in the home while it runs,\n"
    "    so that 'mm invite' can put them into invite codes.  One mm serve\n"
    "    runs per home.\n"
    "\n"
    "    It bounds what one person, or anyone who knows the port, can take:\n"
    "    it serves at most 64 sessions at once and 4 of any one person, ends\n"
    "    a session after 60 seconds without progress or 10 minutes in all\n"
    "    (the next sync goes on from there), and closes connections that\n"
    "    start no session (5 seconds for the handshake, 10 in all, the\n"
    "    oldest first past a limit it prints at start).  See PROTOCOL.md,\n"
    "    section 8.6, \"Limits\".\n"
    "\n"
    "OPTIONS\n"
    "    --listen ENDPOINT\n"
    "        Listen on tcp://HOST:PORT (up to 4 times; default\n"
    "        tcp://0.0.0.0:7460, every IPv4 address of this machine).  PORT\n"
    "        may be '*' for any free port; the one chosen is printed.  On a\n"
    "        mailbox's home the default is where 'mm mailbox init --listen'\n"
    "        said; it then serves its owner's relationships, blind (see\n"
    "        'mm help mailbox').\n"
    "    --discover\n"
    "        Also find your own devices and your peers' devices on the local\n"
    "        network, and let them find this one, with no address typed: every\n"
    "        30 s while it runs, it broadcasts on UDP port 7462 one small\n"
    "        encrypted beacon per relationship (and one for your devices),\n"
    "        which only they can read, saying where this device listens; what\n"
    "        it hears from them replaces where they were known to listen, so\n"
    "        that 'mm sync' reaches them.  To anyone else the beacons are\n"
    "        random bytes of one size.  See PROTOCOL.md, section 7.1.\n"
    "    --sync-every DUR\n"
    "        Also sync in the background every DUR (30s, 5m, 1h ...; 1s to 7d)\n"
    "        with every peer that is not blocked and has an address, and every\n"
    "        other device of yours that announced one: the targets of a plain\n"
    "        'mm sync'.  Each sync is a child 'mm sync' process (at most 2 at\n"
    "        once), so serving goes on meanwhile.  A target that cannot be\n"
    "        reached is tried again after DUR, 2xDUR, 4xDUR ... up to 12xDUR\n"
    "        or 1 hour, whichever is less, never less than DUR (each wait\n"
    "        varied by up to 20%); once it answers, every DUR again.  One that\n"
    "        --discover hears on the LAN is tried at once.  While no sync is\n"
    "        due and no one is served, mm serve sleeps (it wakes once a\n"
    "        minute, and for --discover's rounds).  A 'mm sync' by hand\n"
    "        meanwhile is fine.\n"
    "\n"
    "OUTPUT\n"
    "    One line per event, each starting with the time (ISO 8601, UTC):\n"
    "        2026-11-27T09:00:00.000Z listening on tcp://0.0.0.0:7460\n"
    "        2026-11-27T09:00:00.000Z reachable at tcp://192.168.1.20:7460\n"
    "        2026-11-27T09:05:12.345Z synced with grace: sent 3, received 5 entries\n"
    "        2026-11-27T09:06:00.000Z discovered grace's device laptop at\n"
    "            tcp://192.168.1.7:7460\n"
    "    'reachable at' names each address recorded for invites; the limits\n"
    "    follow; then come syncs, accepted invites, refused connections and,\n"
    "    at most every 10 seconds, how many connections it closed for starting\n"
    "    no session.  Lines are written out at once, so the output can be\n"
    "    piped or followed.\n"
    "\n"
    "    With --sync-every, a line for each background sync that moved\n"
    "    entries, and for each target that becomes unreachable or reachable\n"
    "    again ('still unreachable' only while the wait grows):\n"
    "        ... background sync every 5.0 min with 2 peers and 1 of your devices\n"
    "        ... background sync with grace: sent 0, received 2 entries\n"
    "        ... background sync: lin unreachable: no answer from\n"
    "            tcp://10.0.0.7:7460 (MM_ETIMEOUT); next try in 5.2 min\n"
    "        ... background sync: lin still unreachable after 2 tries; next\n"
    "            try in 9.6 min\n"
    "        ... background sync: lin reachable again\n"
    "\n"
    "    --json prints one JSON object per line instead:\n"
    "    {\"time\", \"time_ms\", \"message\"}.\n"
    "\n"
    "EXAMPLES\n"
    "    mm serve\n"
    "    mm serve --listen tcp://192.168.1.20:7460 &\n"
    "    mm serve --listen 'tcp://127.0.0.1:*' > serve.log &\n"
    "    mm serve --discover\n"
    "    mm serve --sync-every 5m\n"
    "\n"
    "EXIT STATUS\n"
    "    0  stopped by SIGINT or SIGTERM\n"
    "    1  it cannot listen (address in use, not of this machine; or\n"
    "       discovery's UDP port), another\n"
    "       mm serve runs for this home, or there is no home\n"
    "    2  the command line is wrong (e.g. an ENDPOINT that is not\n"
    "       tcp://HOST:PORT, or a DUR that is not one from 1s to 7d)\n";

#define DEFAULT_LISTEN "tcp://0.0.0.0:7460"
#define LOG_CHARS 1000          /* a log line is cut after this many characters */

static volatile sig_atomic_t stop;
static int wake[2] = { -1, -1 };   /* self-pipe: the handler wakes the poll */

static void on_signal(int sig)
{
    int e = errno;
    (void) sig;
    stop = 1;
    if (wake[1] >= 0)
        (void) !write(wake[1], "", 1);  /* full: a wake-up is pending anyway */
    errno = e;
}

/* The self-pipe, both ends non-blocking and not inherited (bgsync's
 * children): 1 if made. */
static int wake_open(void)
{
    if (wake[0] >= 0)
        return 1;
    if (pipe(wake) != 0)
        return 0;
    for (int i = 0; i < 2; i++)
        if (fcntl(wake[i], F_SETFL, O_NONBLOCK) != 0 || fcntl(wake[i], F_SETFD, FD_CLOEXEC) != 0) {
            close(wake[0]);
            close(wake[1]);
            wake[0] = wake[1] = -1;
            return 0;
        }
    return 1;
}

/* Print one line mm serve reports, with the time first; at once, since
 * whoever reads it may be waiting for it. */
static void log_line(void *arg, const char *line)
{
    const cli_t *cli = arg;
    char when[CLI_TIME_MAX];
    uint64_t now = mm_now_ms();
    char *safe = cli_line(line, strlen(line), LOG_CHARS);
    json_t j;

    cli_time_iso(when, now);
    if (cli->json) {
        json_init(&j, stdout);
        json_obj_begin(&j, NULL);
        json_str(&j, "time", when);
        json_uint(&j, "time_ms", now);
        json_str(&j, "message", safe ? safe : line);
        json_obj_end(&j);
        json_finish(&j);
    } else {
        printf("%s %s\n", when, safe ? safe : "(out of memory)");
    }
    fflush(stdout);
    free(safe);
}

/* 1 if ep is tcp://HOST:PORT where HOST may be '*' and PORT may be '*'. */
static int listen_valid(const char *ep)
{
    char buf[MM_ENDPOINT_MAX + 16];
    const char *host = ep + 6, *colon, *port;
    size_t hl;

    if (strlen(ep) > MM_ENDPOINT_MAX || strncmp(ep, "tcp://", 6) != 0)
        return 0;
    if (!(colon = strrchr(host, ':')))
        return 0;
    hl = (size_t) (colon - host);
    port = colon + 1;
    /* The wildcards stand for an address and a port that are valid. */
    if (hl == 1 && *host == '*') {
        host = "0.0.0.0";
        hl = 7;
    }
    if (strcmp(port, "*") == 0)
        port = "1";
    snprintf(buf, sizeof buf, "tcp://%.*s:%s", (int) hl, host, port);
    return mm_endpoint_valid(buf);
}

int cmd_serve(cli_t *cli, int argc, char **argv)
{
    static char default_listen[] = DEFAULT_LISTEN;
    char *addrs[CLI_OPT_REPEAT_MAX];
    char mbox[MM_PEER_ENDPOINTS][MM_ENDPOINT_MAX + 1];
    unsigned nmbox = 0;
    char errtext[512], running[1][MM_ENDPOINT_MAX + 1];
    unsigned nrunning = 0;
    struct sigaction sa;
    size_t n = cli->optn[CLI_OPT_LISTEN];
    const char *every = cli->opt[CLI_OPT_SYNC_EVERY];
    uint64_t every_ms = 0;
    bgsync_t *bg = NULL;
    int rc;

    if (argc > 0)
        return cli_usage(cli, "unexpected argument '%s'", argv[0]);
    if (n > MM_PEER_ENDPOINTS)
        return cli_usage(cli, "give at most %d --listen endpoints",
                         MM_PEER_ENDPOINTS);
    for (size_t i = 0; i < n; i++) {
        if (!listen_valid(cli->optv[CLI_OPT_LISTEN][i]))
            return cli_usage(cli, "--listen '%s' is not an endpoint like "
                             "tcp://0.0.0.0:%d or tcp://127.0.0.1:*",
                             cli->optv[CLI_OPT_LISTEN][i], MM_DEFAULT_PORT);
        addrs[i] = (char *) cli->optv[CLI_OPT_LISTEN][i];
    }
    /* a mailbox listens where 'mm mailbox init --listen' said */
    if (n == 0 && mm_home_is_mailbox(cli->home)
        && mm_home_listen(cli->home, mbox, MM_PEER_ENDPOINTS, &nmbox) == MM_OK)
        for (unsigned i = 0; i < nmbox; i++)
            addrs[n++] = mbox[i];
    if (n == 0)
        addrs[n++] = default_listen;
    /* a mailbox only serves (PROTOCOL.md 14.1), and holds no key to make
     * or recognise beacons with (7.1) */
    if (mm_home_is_mailbox(cli->home) && (every || cli->opt[CLI_OPT_DISCOVER]))
        return cli_fail_code(cli, MM_EROLE, "a mailbox never syncs on its own and cannot "
                             "be discovered: serve it without %s",
                             every ? "--sync-every" : "--discover");
    if (every && ((every_ms = cli_duration_ms(every, MM_SCHED_MAX_MS)) < MM_SCHED_MIN_MS))
        return cli_usage(cli, "--sync-every '%s' is not a duration like 30s, 5m or 1h "
                         "(from 1s to 7d)", every);

    /* Say so before binding anything: mm serve would print its listening
     * lines first.  (It checks again, under its lock.) */
    if (mm_serve_endpoints(mm_home_path(cli->home), running, 1, &nrunning)
        == MM_OK)
        return cli_fail(cli, "another mm serve is running for %s (at %s); "
                        "stop it first, or let it serve",
                        mm_home_path(cli->home), running[0]);

    /* No SA_RESTART: the signal must cut the poll short.  And the
     * self-pipe: a signal between the loop's test of stop and its poll
     * would otherwise wait for the poll's timeout (up to a minute). */
    if (!wake_open())
        return cli_fail(cli, "cannot make a pipe; check the system's limit on open files");
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0)
        return cli_fail(cli, "cannot install the signal handlers; check the "
                        "system");

    /* background sync: children of ours that mm serve's loop watches */
    if (every_ms && (rc = bgsync_new(cli, every_ms, log_line, cli, &bg)) != MM_OK)
        return cli_fail_rc(cli, rc, "cannot start the background sync");

    errtext[0] = '\0';
    mm_serve_opts_t opts = { .discover = cli->opt[CLI_OPT_DISCOVER] != NULL,
                             .ext = bg ? bgsync_ext(bg) : NULL, .wake_fd = wake[0] };
    rc = mm_serve_run_opts(cli->home, addrs, n, &stop, log_line, cli, &opts, errtext,
                           sizeof errtext);
    bgsync_destroy(&bg);
    cli_set_code(rc);
    switch (rc) {
    case MM_OK:
        log_line(cli, "stopped");
        return CLI_EXIT_OK;
    case MM_EBUSY:
        return cli_fail(cli, "another mm serve is running for %s; stop it "
                        "first, or let it serve", mm_home_path(cli->home));
    case MM_EINVAL:
        return cli_fail(cli, "%s; give an address of this machine, like "
                        "tcp://0.0.0.0:%d", *errtext ? errtext
                        : mm_strerror(rc), MM_DEFAULT_PORT);
    case MM_EIO:
        if (strstr(errtext, "for discovery"))
            return cli_fail(cli, "%s; stop what uses that UDP port, or serve without "
                            "--discover", errtext);
        if (strstr(errtext, "in use"))
            return cli_fail(cli, "%s; stop what uses that port, or choose "
                            "another with --listen", errtext);
        if (strstr(errtext, "cannot listen"))
            return cli_fail(cli, "%s; give an address of this machine, like "
                            "tcp://0.0.0.0:%d", errtext, MM_DEFAULT_PORT);
        /* fall through */
    default:
        return cli_fail(cli, "%s; %s", *errtext ? errtext : mm_strerror(rc),
                        cli_hint(rc));
    }
}
