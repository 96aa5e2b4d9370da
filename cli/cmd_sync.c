/*  cmd_sync.c -- mm sync: one session with each peer, and the result line
 *  that mm accept prints too. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "cli/cli.h"
#include "cli/cmd_peer.h"
#include "cli/cmd_sync.h"
#include "cli/json.h"
#include "cli/news.h"
#include "cli/rel.h"
#include "cli/util.h"
#include "core/device.h"
#include "core/fold.h"
#include "core/log.h"                /* mm_mono_ms */
#include "core/news.h"
#include "core/peer.h"
#include "core/cert.h"
#include "core/target.h"
#include "crypto/error.h"
#include "crypto/encoding.h"
#include "crypto/idcode.h"
#include "net/net.h"

const char cmd_sync_help[] =
    "exchange entries with your peers now\n"
    "\n"
    "DESCRIPTION\n"
    "    Connects to each peer's mm serve and runs one sync session: each\n"
    "    side sends the entries of the scopes you share that the other lacks,\n"
    "    and every entry received is verified before it is stored.  Your\n"
    "    private notes never leave your devices.\n"
    "\n"
    "    Without PEER, syncs with every peer that has an address and is not\n"
    "    blocked, and with each of your other devices whose mm serve said\n"
    "    where it listens (a device statement, learnt at any sync), and with\n"
    "    each of your mailboxes.  When none of a peer's devices answers, the\n"
    "    peer's mailbox, then yours, stores and forwards (the line then ends\n"
    "    ', through their mailbox' or ', through your mailbox').\n"
    "    With one or more PEERs (a petname, or at least 6\n"
    "    characters of an identity code 'mmi...'), syncs with those only.\n"
    "    A peer whose session fails does not stop the others.  Up to 8\n"
    "    sessions run at once; their results are printed in the same order\n"
    "    every time.  To be synced with by others, run 'mm serve'.\n"
    "\n"
    "    Of a peer's addresses, those its devices announced come before the\n"
    "    one of 'mm peer set-addr'; an address that does not complete a\n"
    "    handshake within 3 s, or where nothing listens, is left for the\n"
    "    next.  A peer's mm serve that is full says when to come back: mm\n"
    "    sync tries again, with a growing random wait, within --timeout.\n"
    "\n"
    "OPTIONS\n"
    "    --timeout SECONDS\n"
    "        How long to wait for an answer from a peer (1 to 3600, default\n"
    "        10).\n"
    "    --device DEVICE [--endpoint ENDPOINT]...\n"
    "        Sync with one of your own devices instead (every scope: notes,\n"
    "        ambitions and every relationship): at the addresses its mm\n"
    "        serve announced, or at ENDPOINT (tcp://HOST:PORT, up to 4)\n"
    "        first.  DEVICE is its name or the start of its device code\n"
    "        'mmd...'.\n"
    "    --quiet\n"
    "        Print only what failed.\n"
    "    --verbose\n"
    "        Also say, on stderr, each address of each device tried and why\n"
    "        it failed.\n"
    "\n"
    "OUTPUT\n"
    "    One line per peer:\n"
    "        grace: sent 3, received 5 entries (12.3 kB) in 45 ms\n"
    "    sent and received count entries; the size is of the entries sent\n"
    "    and received together.  Then one indented line for each\n"
    "    engagement event that arrived (nothing when none did):\n"
    "          grace answered 98bf3c2a1d0e\n"
    "          grace asked you back on 98bf3c2a1d0e\n"
    "          grace declined 98bf3c2a1d0e and suggests Kim (mmi...)\n"
    "          your question 98bf3c2a1d0e is open in grace's inbox\n"
    "          your question 98bf3c2a1d0e is held: 2 ahead of you\n"
    "          grace is away until 2026-12-10\n"
    "          ada asked you 98bf3c2a1d0e\n"
    "    and likewise for a clarification, a return, thanks, a report and a\n"
    "    withdrawal.  After 100 such lines, the rest are counted:\n"
    "          and 5 more; see 'mm status'\n"
    "    On a terminal, a sync that takes longer than a second shows a\n"
    "    line on stderr, redrawn in place and erased at the end:\n"
    "        syncing grace, lin: 120400 entries, 31.2 MB, 10.4 MB/s (1 of 3 done)\n"
    "    A failed peer is a line on stderr,\n"
    "    'mm sync: grace: why; what to do'.  With no peer to sync with:\n"
    "        nothing to sync: no peer has an address; set one with 'mm peer set-addr'\n"
    "\n"
    "    --json prints {\"peers\": [{\"name\", \"ok\", \"sent\", \"received\",\n"
    "    \"bytes_sent\", \"bytes_received\", \"ms\", \"error\", \"code\", \"via\",\n"
    "    \"news\"}]}; via is device, their-mailbox or own-mailbox (null on failure);\n"
    "    error is null or the reason the session failed, code null or its\n"
    "    MM_E... name (MM_EFORK: a device key was used on two homes); news lists what arrived as\n"
    "    {\"kind\", \"peer\", \"question\", \"time\", \"time_ms\"} (kind: answered,\n"
    "    clarified, asked-back, declined, released, held, away, back, thanked,\n"
    "    reported, asked, withdrew; question null for away and back), with\n"
    "    \"ahead\" and \"reason\" for held, \"until\" for away, \"refer\" and\n"
    "    \"refer_name\" for declined.\n"
    "\n"
    "EXAMPLES\n"
    "    mm sync\n"
    "    mm sync grace\n"
    "    mm sync grace lin --timeout 30\n"
    "    mm sync --quiet\n"
    "    mm sync mmiab3kq2x\n"
    "\n"
    "EXIT STATUS\n"
    "    0  every session succeeded, or there was nothing to sync\n"
    "    1  a session failed (unreachable, refused, an entry did not\n"
    "       verify), a named peer is unknown or blocked, or no home\n"
    "    2  the command line is wrong\n";

#define TIMEOUT_DEFAULT 10      /* seconds */
#define TIMEOUT_MAX     3600

int cmd_sync_timeout(cli_t *cli, int *ms)
{
    const char *s = cli->opt[CLI_OPT_TIMEOUT];
    unsigned long v;
    char *end;

    *ms = TIMEOUT_DEFAULT * 1000;
    if (!s)
        return CLI_EXIT_OK;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (s[0] < '0' || s[0] > '9' || *end || errno || v < 1 || v > TIMEOUT_MAX)
        return cli_usage(cli, "--timeout '%s' is not a number of seconds from "
                         "1 to %d", s, TIMEOUT_MAX);
    *ms = (int) v * 1000;
    return CLI_EXIT_OK;
}

/* why, made safe for a terminal (it may hold a peer's own words). */
static void set_error(cmd_sync_result_t *r, const char *why)
{
    char *line = cli_line(why, strlen(why), sizeof r->error / 4 - 2);

    snprintf(r->error, sizeof r->error, "%s", line ? line : why);
    free(line);
}

int cmd_sync_peer(cli_t *cli, const mm_peer_t *p, int timeout_ms,
                  cmd_sync_result_t *r)
{
    char err[sizeof r->error];
    mm_news_runs_t runs = { 0 };
    uint64_t t0;

    memset(r, 0, sizeof *r);
    snprintf(r->name, sizeof r->name, "%s", p->petname);
    cmd_peer_arg(r->arg, p);
    if (p->blocked) {
        r->rc = MM_EBLOCKED;
        set_error(r, "blocked");
        return r->rc;
    }
    /* no address in the record: the devices of the peer may have announced
     * theirs (mm_net_sync says "no address known" if none did) */
    err[0] = '\0';
    t0 = mm_mono_ms();
    r->rc = mm_net_sync(cli->home, p, timeout_ms, &r->stats, &runs, err, sizeof err);
    r->ms = mm_mono_ms() - t0;
    if (r->rc != MM_OK)
        set_error(r, *err ? err : mm_strerror(r->rc));
    /* What arrived is stored either way; saying what it means is extra,
     * so a failure here costs only the news lines. */
    else if (mm_news_of(cli->home, runs.v, runs.n, &r->news) != MM_OK)
        mm_news_free(&r->news);
    mm_news_runs_free(&runs);
    return r->rc;
}

void cmd_sync_result_free(cmd_sync_result_t *r)
{
    mm_news_free(&r->news);
}

/* What to do after a failed session with the peer named arg, into out. */
static void sync_hint(char *out, size_t cap, int rc, const char *arg)
{
    switch (rc) {
    case MM_EBLOCKED:
        snprintf(out, cap, "unblock them first with 'mm peer unblock %s'", arg);
        break;
    case MM_ENOTFOUND:
        snprintf(out, cap, "set one with 'mm peer set-addr %s tcp://HOST:PORT'",
                 arg);
        break;
    case MM_ETIMEOUT:
        snprintf(out, cap, "check that their mm serve is running and "
                 "reachable, or give a longer --timeout");
        break;
    case MM_EREFUSED:
        snprintf(out, cap, "ask them whether they blocked or removed you "
                 "(see 'mm peer list' on their side)");
        break;
    case MM_ENOLISTEN:
        snprintf(out, cap, "their mm serve is not running there: ask them to start it, or "
                 "check the address with 'mm peer show %s'", arg);
        break;
    case MM_EQUOTA:
        snprintf(out, cap, "nothing is lost: the entries go at a later sync, once the "
                 "mailbox's owner makes room ('mm mailbox quota' on the mailbox)");
        break;
    case MM_EBUSY:
        /* their mm serve has no session to spare (the text says why), or,
         * rarely, this store had no reader slot: never "another mm" alone */
        snprintf(out, cap, "try again later, or give a longer --timeout");
        break;
    case MM_EPROTO:
    case MM_EINVAL:
        snprintf(out, cap, "check the address with 'mm peer show %s'; it may "
                 "not be their mm serve", arg);
        break;
    case MM_EBADSIG: case MM_EBADCERT: case MM_ENOCERT: case MM_ESCOPE:
    case MM_EFORK:
        snprintf(out, cap, "that feed is held back and nothing stored is lost; see "
                 "'mm status'");
        break;
    case MM_EPREV: case MM_ESEQGAP: case MM_EDECRYPT:
    case MM_EMALFORMED: case MM_ENONCANON: case MM_EBODY:
        snprintf(out, cap, "nothing that failed to verify was stored; tell "
                 "the peer, and run 'mm verify'");
        break;
    default:
        snprintf(out, cap, "%s", cli_hint(rc));
        break;
    }
}

/* "12.3 kB": a byte count for people (decimal units). */
static void fmt_bytes(char out[32], uint64_t n)
{
    if (n < 1000)
        snprintf(out, 32, "%llu B", (unsigned long long) n);
    else if (n < 1000000)
        snprintf(out, 32, "%.1f kB", (double) n / 1e3);
    else if (n < 1000000000)
        snprintf(out, 32, "%.1f MB", (double) n / 1e6);
    else
        snprintf(out, 32, "%.1f GB", (double) n / 1e9);
}

void cmd_sync_print(const cli_t *cli, const cmd_sync_result_t *r)
{
    char name[CLI_NAME_SAFE], size[32], hint[CLI_NAME_SAFE + 128];

    cmd_peer_name(name, r->name);
    if (r->rc != MM_OK) {
        sync_hint(hint, sizeof hint, r->rc, r->arg);
        if (r->rc == MM_EREVOKED && strstr(r->error, "mailbox"))
            snprintf(hint, sizeof hint, "it no longer serves them; sync with their devices "
                     "when they are online, and you will hear of it");
        cli_set_code(r->rc);
        cli_error(cli, "%s: %s; %s", name, r->error, hint);
        return;
    }
    fmt_bytes(size, r->stats.bytes_sent + r->stats.bytes_recv);
    printf("%s: sent %llu, received %llu entries (%s) in %llu ms%s\n", name,
           (unsigned long long) r->stats.entries_sent,
           (unsigned long long) r->stats.entries_recv, size,
           (unsigned long long) r->ms,
           r->stats.via == MM_VIA_THEIR_MAILBOX ? ", through their mailbox"
           : r->stats.via == MM_VIA_OWN_MAILBOX ? ", through your mailbox" : "");
    for (size_t i = 0; i < r->news.n; i++)
        cli_news_line(cli, "  ", &r->news.v[i]);
    if (r->news.more)
        printf("  and %zu more; see 'mm status'\n", r->news.more);
}

void cmd_sync_json(const cli_t *cli, json_t *j, const char *key, const cmd_sync_result_t *r)
{
    json_obj_begin(j, key);
    json_str(j, "name", r->name);
    json_bool(j, "ok", r->rc == MM_OK);
    json_uint(j, "sent", r->stats.entries_sent);
    json_uint(j, "received", r->stats.entries_recv);
    json_uint(j, "bytes_sent", r->stats.bytes_sent);
    json_uint(j, "bytes_received", r->stats.bytes_recv);
    json_uint(j, "ms", r->ms);
    json_str(j, "error", r->rc == MM_OK ? NULL : r->error);
    json_str(j, "code", r->rc == MM_OK ? NULL : mm_errname(r->rc));
    /* store and forward (PROTOCOL.md 14.5): whom the session was with */
    json_str(j, "via", r->rc != MM_OK ? NULL : r->stats.via == MM_VIA_THEIR_MAILBOX
             ? "their-mailbox" : r->stats.via == MM_VIA_OWN_MAILBOX ? "own-mailbox" : "device");
    json_arr_begin(j, "news");
    for (size_t i = 0; i < r->news.n; i++)
        cli_news_json(cli, j, &r->news.v[i]);
    json_arr_end(j);
    json_obj_end(j);
}

/* Fill t with the named peers, or every target (core/target.h).  Exit
 * code; prints errors. */
static int find_targets(cli_t *cli, int argc, char **argv, mm_targets_t *t)
{
    mm_txn_t *txn = NULL;
    mm_peer_t p;
    int ex = CLI_EXIT_FAIL, rc;

    rc = mm_store_begin(mm_home_store(cli->home), 0, &txn);
    if (rc != MM_OK)
        return cli_fail_rc(cli, rc, "cannot read the peers");
    if (argc == 0 && (rc = mm_targets_all(txn, mm_home_identity_pk(cli->home),
                                          mm_keypair_pk(mm_home_device(cli->home)), t))
                     != MM_OK) {
        cli_fail_rc(cli, rc, "cannot read the peers");
        goto out;
    }
    for (int i = 0; i < argc; i++) {
        if ((ex = cmd_peer_find(cli, txn, argv[i], &p)) != CLI_EXIT_OK)
            goto out;
        ex = CLI_EXIT_FAIL;
        if (mm_targets_add(t, MM_TARGET_PEER, &p) != MM_OK) {
            cli_fail_rc(cli, MM_ENOMEM, "cannot read the peers");
            goto out;
        }
    }
    ex = CLI_EXIT_OK;
out:
    mm_txn_abort(&txn);
    return ex;
}

/* --- several at once, with a progress line ---------------------------------- */

#define SYNC_PARALLEL 8             /* sessions at once */
#define PROGRESS_MS   1000          /* a sync shows progress once it runs this long */

/* PROGRESS_MS, or the test knob MM_PROGRESS_MS (0 to 60,000), so that a
 * test sees the progress line without depending on how fast this machine
 * syncs.  Not for use. */
static uint64_t progress_ms(void)
{
    const char *v = getenv("MM_PROGRESS_MS");
    char *end;
    if (!v || *v < '0' || *v > '9')
        return PROGRESS_MS;
    unsigned long n = strtoul(v, &end, 10);
    return *end || n > 60000 ? PROGRESS_MS : n;
}

typedef struct {
    cli_t             *cli;
    size_t            *target_of;   /* job index -> target index */
    cmd_sync_result_t *res;         /* one per target */
    size_t             printed;     /* targets printed so far */
    int                failed, quiet, verbose, progress, drawn;
    uint64_t           t0, after;   /* start; the progress line's delay */
} many_out_t;

/* Fill r with what job did: as cmd_sync_peer does. */
static void job_result(cli_t *cli, cmd_sync_result_t *r, mm_net_job_t *job)
{
    r->rc = job->rc;
    r->stats = job->stats;
    r->ms = job->ms;
    if (r->rc != MM_OK)
        set_error(r, *job->errtext ? job->errtext : mm_strerror(r->rc));
    else if (mm_news_of(cli->home, job->runs.v, job->runs.n, &r->news) != MM_OK)
        mm_news_free(&r->news);
    mm_news_runs_free(&job->runs);
}

static void progress_clear(many_out_t *o)
{
    if (o->drawn) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
        o->drawn = 0;
    }
}

/* Print every target up to (not including) end, in order. */
static void print_upto(many_out_t *o, size_t end)
{
    for (; o->printed < end; o->printed++) {
        cmd_sync_result_t *r = &o->res[o->printed];
        if (r->rc != MM_OK)
            o->failed = 1;
        if ((!o->cli->json && !o->quiet) || r->rc != MM_OK) {
            progress_clear(o);
            cmd_sync_print(o->cli, r);
            fflush(stdout);
        }
    }
}

static void on_done(void *arg, mm_net_job_t *jobs, size_t i)
{
    many_out_t *o = arg;
    size_t ti = o->target_of[i];
    job_result(o->cli, &o->res[ti], &jobs[i]);
    print_upto(o, ti + 1);
}

/* "syncing grace, lin and 2 more: 12345 entries, 3.2 MB, 1.1 MB/s" on
 * stderr, in place, cut to the terminal's width. */
static void on_tick(void *arg, const mm_net_job_t *jobs, size_t n)
{
    many_out_t *o = arg;
    uint64_t now = mm_mono_ms(), entries = 0, bytes = 0;
    char line[512], names[256] = "", size[32], rate[32], name[CLI_NAME_SAFE];
    size_t running = 0, done = 0, len = 0;
    struct winsize ws;
    if (!o->progress || now - o->t0 < o->after)
        return;
    for (size_t i = 0; i < n; i++) {
        const mm_sync_stats_t *s = jobs[i].state == MM_JOB_DONE ? &jobs[i].stats
                                   : &jobs[i].live;
        entries += s->entries_sent + s->entries_recv;
        bytes += s->bytes_sent + s->bytes_recv;
        done += jobs[i].state == MM_JOB_DONE;
        if (jobs[i].state != MM_JOB_RUNNING)
            continue;
        if (running++ < 2) {
            cmd_peer_name(name, jobs[i].p->petname);
            len += (size_t) snprintf(names + len, sizeof names - len, "%s%s",
                                     running > 1 ? ", " : "", name);
            if (len >= sizeof names)
                len = sizeof names - 1;
        }
    }
    if (running > 2)
        snprintf(names + len, sizeof names - len, " and %zu more", running - 2);
    fmt_bytes(size, bytes);
    fmt_bytes(rate, bytes * 1000 / (now > o->t0 ? now - o->t0 : 1));
    int w = snprintf(line, sizeof line, "syncing %s: %llu entries, %s, %s/s", names,
                     (unsigned long long) entries, size, rate);
    if (n > 1 && w > 0 && (size_t) w < sizeof line)
        snprintf(line + w, sizeof line - (size_t) w, " (%zu of %zu done)", done, n);
    /* never wider than the terminal: a wrapped line cannot be redrawn */
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1
        && strlen(line) >= ws.ws_col)
        line[ws.ws_col - 1] = '\0';
    fprintf(stderr, "\r%s\033[K", line);
    fflush(stderr);
    o->drawn = 1;
}

/* --verbose: one line on stderr per address tried. */
static void on_tried(void *arg, const mm_net_job_t *job, const uint8_t device[32], unsigned via,
                     const char *ep, int rc, const char *errtext, unsigned retry_ms)
{
    many_out_t *o = arg;
    char name[CLI_NAME_SAFE], code[MM_IDCODE_LEN + 1];
    char *why = cli_line(errtext, strlen(errtext), 200);
    if (!o->verbose) {
        free(why);
        return;
    }
    progress_clear(o);
    cmd_peer_name(name, job->p->petname);
    mm_idcode_encode(code, MM_IDCODE_DEVICE, device);
    code[13] = '\0';
    fprintf(stderr, "mm sync: %s: %s (%s %s): ", name, ep,
            via == MM_VIA_THEIR_MAILBOX ? "their mailbox" : via == MM_VIA_OWN_MAILBOX
            ? "your mailbox" : "device", code);
    if (retry_ms)
        fprintf(stderr, "%s: %s; trying again in %u ms\n", mm_errname(rc),
                why ? why : errtext, retry_ms);
    else if (rc == MM_OK)
        fprintf(stderr, "synced\n");
    else
        fprintf(stderr, "%s: %s\n", mm_errname(rc), why ? why : errtext);
    free(why);
}

/* Sync with every target of t (PEER records), SYNC_PARALLEL at once, and
 * print each result in t's order as soon as it and all before it are done.
 * res: one per target, filled.  1 if any failed. */
static int sync_all(cli_t *cli, const mm_target_t *t, size_t nt, int timeout_ms,
                    cmd_sync_result_t *res)
{
    many_out_t o = { .cli = cli, .res = res,
                     .quiet = cli->opt[CLI_OPT_QUIET] != NULL,
                     .verbose = cli->opt[CLI_OPT_VERBOSE] != NULL, .t0 = mm_mono_ms(),
                     .after = progress_ms() };
    mm_net_many_ev_t ev = { on_done, NULL, on_tried, &o };
    mm_net_job_t *jobs = calloc(nt ? nt : 1, sizeof *jobs);
    size_t nj = 0;
    o.target_of = calloc(nt ? nt : 1, sizeof *o.target_of);
    o.progress = !o.quiet && isatty(STDERR_FILENO);
    ev.tick = o.progress ? on_tick : NULL;      /* else it draws nothing */
    if (!jobs || !o.target_of) {
        free(jobs);
        free(o.target_of);
        for (size_t i = 0; i < nt; i++) {
            memset(&res[i], 0, sizeof res[i]);
            snprintf(res[i].name, sizeof res[i].name, "%s", t[i].p.petname);
            cmd_peer_arg(res[i].arg, &t[i].p);
            res[i].rc = MM_ENOMEM;
            set_error(&res[i], mm_strerror(MM_ENOMEM));
        }
        o.printed = 0;
        print_upto(&o, nt);
        return 1;
    }
    for (size_t i = 0; i < nt; i++) {
        memset(&res[i], 0, sizeof res[i]);
        snprintf(res[i].name, sizeof res[i].name, "%s", t[i].p.petname);
        cmd_peer_arg(res[i].arg, &t[i].p);
        if (t[i].p.blocked) {       /* a named peer that is blocked: never called */
            res[i].rc = MM_EBLOCKED;
            set_error(&res[i], "blocked");
            continue;
        }
        jobs[nj].p = &t[i].p;
        o.target_of[nj++] = i;
    }
    if (mm_net_sync_many(cli->home, jobs, nj, SYNC_PARALLEL, timeout_ms, &ev) != MM_OK)
        o.failed = 1;
    print_upto(&o, nt);             /* blocked ones after the last job */
    progress_clear(&o);
    for (size_t i = 0; i < nj; i++)
        mm_news_runs_free(&jobs[i].runs);
    free(jobs);
    free(o.target_of);
    return o.failed;
}

/* --- one's own device (mm sync --device) ----------------------------------- */

typedef struct {
    const uint8_t *identity, *me;
    const char *what;
    mm_peer_t *p;
    int found;
} own_find_t;

static int own_match(const mm_cert_t *c, const uint8_t *raw, size_t len, void *arg)
{
    own_find_t *f = arg;
    char code[MM_IDCODE_LEN + 1];
    size_t n = strlen(f->what);

    if (memcmp(c->identity, f->identity, 32) || !memcmp(c->device, f->me, 32))
        return 0;
    mm_idcode_encode(code, MM_IDCODE_DEVICE, c->device);
    if (mm_fold_cmp(c->name, f->what) != 0 && (n < 6 || strncmp(code, f->what, n) != 0))
        return 0;
    if (f->found++ == 0) {
        memcpy(f->p->device, c->device, 32);
        snprintf(f->p->petname, sizeof f->p->petname, "%s", c->name);
    }
    return 0;
}

static int sync_own(cli_t *cli, int timeout_ms)
{
    const char *what = cli->opt[CLI_OPT_OWN];
    unsigned n = cli->optn[CLI_OPT_ENDPOINT];
    own_find_t f;
    cmd_sync_result_t r;
    mm_txn_t *txn = NULL;
    mm_peer_t p;
    json_t j;
    int rc;

    if (n > MM_PEER_ENDPOINTS)
        return cli_usage(cli, "--device takes at most %d --endpoint addresses of its mm serve",
                         MM_PEER_ENDPOINTS);
    memset(&p, 0, sizeof p);
    memcpy(p.identity, mm_home_identity_pk(cli->home), 32);
    for (unsigned i = 0; i < n; i++) {
        if (!mm_endpoint_valid(cli->optv[CLI_OPT_ENDPOINT][i]))
            return cli_usage(cli, "--endpoint '%s' is not an address like tcp://HOST:PORT",
                             cli->optv[CLI_OPT_ENDPOINT][i]);
        snprintf(p.endpoints[i], sizeof p.endpoints[i], "%s", cli->optv[CLI_OPT_ENDPOINT][i]);
    }
    p.nendpoints = n;
    f = (own_find_t) { p.identity, mm_keypair_pk(mm_home_device(cli->home)), what, &p, 0 };
    if ((rc = mm_store_begin(mm_home_store(cli->home), 0, &txn)) == MM_OK)
        rc = mm_cert_foreach(txn, own_match, &f);
    mm_txn_abort(&txn);
    if (rc != MM_OK)
        return cli_fail_rc(cli, rc, "cannot read the certificates");
    if (f.found > 1) {
        cli_set_code(MM_EAMBIG);
        return cli_fail(cli, "'%s' names %d of your devices; give more of its device code",
                        what, f.found);
    }
    if (f.found == 0) {
        cli_set_code(MM_ENOTFOUND);
        return cli_fail(cli, "no other device of yours is named '%s'; give its name or "
                        "device code", what);
    }
    mm_target_t one = { .kind = MM_TARGET_OWN, .p = p };
    memcpy(one.id, p.device, 32);
    rc = sync_all(cli, &one, 1, timeout_ms, &r) ? MM_EIO : MM_OK;
    if (cli->json) {
        json_init(&j, stdout);
        json_obj_begin(&j, NULL);
        json_arr_begin(&j, "peers");
        cmd_sync_json(cli, &j, NULL, &r);
        json_arr_end(&j);
        json_obj_end(&j);
        json_finish(&j);
    }
    cmd_sync_result_free(&r);
    return rc == MM_OK ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

int cmd_sync(cli_t *cli, int argc, char **argv)
{
    mm_targets_t t = { 0 };
    cmd_sync_result_t *res = NULL;
    int ex, timeout_ms, failed = 0;
    json_t j;

    if ((ex = cmd_sync_timeout(cli, &timeout_ms)) != CLI_EXIT_OK)
        return ex;
    if (cli->opt[CLI_OPT_QUIET] && cli->opt[CLI_OPT_VERBOSE])
        return cli_usage(cli, "--quiet and --verbose exclude each other");
    if (cli->opt[CLI_OPT_OWN]) {
        if (argc > 0)
            return cli_usage(cli, "--device syncs with one of your devices; no PEER with it");
        return sync_own(cli, timeout_ms);
    }
    if (cli->optn[CLI_OPT_ENDPOINT])
        return cli_usage(cli, "--endpoint goes with --device");
    if ((ex = find_targets(cli, argc, argv, &t)) != CLI_EXIT_OK)
        goto out;
    ex = CLI_EXIT_FAIL;
    if (t.n == 0) {
        if (cli->json) {
            json_init(&j, stdout);
            json_obj_begin(&j, NULL);
            json_arr_begin(&j, "peers");
            json_arr_end(&j);
            json_obj_end(&j);
            json_finish(&j);
        } else if (cli->opt[CLI_OPT_QUIET]) {
            ;                       /* nothing failed */
        } else if (t.blocked) {
            printf("nothing to sync: every peer with an address is blocked; "
                   "see 'mm peer list'\n");
        } else {
            printf("nothing to sync: no peer has an address; set one with "
                   "'mm peer set-addr'\n");
        }
        ex = CLI_EXIT_OK;
        goto out;
    }
    if (!(res = calloc(t.n, sizeof *res))) {
        cli_fail_rc(cli, MM_ENOMEM, "cannot sync");
        goto out;
    }
    /* several at once; text goes out in the order of t, each line as
     * soon as its session and those before it ended */
    failed = sync_all(cli, t.v, t.n, timeout_ms, res);
    if (cli->json) {
        json_init(&j, stdout);
        json_obj_begin(&j, NULL);
        json_arr_begin(&j, "peers");
        for (size_t i = 0; i < t.n; i++)
            cmd_sync_json(cli, &j, NULL, &res[i]);
        json_arr_end(&j);
        json_obj_end(&j);
        json_finish(&j);
    }
    ex = failed ? CLI_EXIT_FAIL : CLI_EXIT_OK;
    /* A mentor sorts the questions just received into the budget, so the
     * askers learn where they stand on the next sync. */
    if (ex == CLI_EXIT_OK)
        ex = rel_settle(cli);
out:
    for (size_t i = 0; res && i < t.n; i++)
        cmd_sync_result_free(&res[i]);
    free(res);
    mm_targets_free(&t);
    return ex;
}
