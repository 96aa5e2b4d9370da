/*  cmd_pair.c -- mm device pair and mm init --join: one identity, another
 *  device (PROTOCOL.md 9.1).
 *
 *  The pairing code holds a one-time secret: it is printed on stdout only
 *  (and as a QR code on a terminal), never logged, and wiped here.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <sys/stat.h>

#include <sodium.h>

#include "cli/cli.h"
#include "cli/cmd_sync.h"
#include "cli/json.h"
#include "cli/qr.h"
#include "cli/util.h"
#include "core/log.h"
#include "core/pair.h"
#include "core/utf8.h"
#include "crypto/error.h"
#include "net/net.h"

#define PAIR_TTL_DEFAULT_MS (10ull * 60 * 1000)
#define DEFAULT_LISTEN      "tcp://0.0.0.0:*"

const char cmd_device_pair_help[] =
    "let another device of yours join your identity\n"
    "\n"
    "DESCRIPTION\n"
    "    'mm device pair' lets another device of yours join your identity:\n"
    "    on the identity device (where you ran 'mm init'), it prints a\n"
    "    one-time pairing code (mmp1..., also as a QR code on a terminal)\n"
    "    and waits; on the new device, 'mm init --join CODE' connects,\n"
    "    shows its name and a short fingerprint such as ABCD-EFGH, and\n"
    "    waits for you to confirm the same fingerprint here.  Then this\n"
    "    device certifies it and hands it your scope keys, peers and\n"
    "    certificates over the encrypted connection, and the new device\n"
    "    syncs everything once.  mm device pair ends when that sync is\n"
    "    done, when the code expires, or on Ctrl-C.  A code works once; a\n"
    "    device you refuse leaves it valid until it expires.  It runs its\n"
    "    own listener, so mm serve may run or not.\n"
    "\n"
    "OPTIONS (pair)\n"
    "    --name DEVNAME\n"
    "        Accept only a device that calls itself DEVNAME.\n"
    "    --expires DUR\n"
    "        How long the code works: a number and s, m or h (default\n"
    "        10m, at most 24h).\n"
    "    --yes\n"
    "        Certify the first device that joins without asking (for\n"
    "        scripts).  Without it the question needs a terminal.\n"
    "    --listen ENDPOINT\n"
    "        Where to listen, tcp://HOST:PORT, PORT may be '*' (up to 4\n"
    "        times; default: an ephemeral port on each address of the mm\n"
    "        serve running for this home, else on every address,\n"
    "        tcp://0.0.0.0:*).  The code carries the addresses.\n"
    "    --qr\n"
    "        Print the QR code even when stdout is not a terminal.\n"
    "\n"
    "OUTPUT\n"
    "    The code alone on the first line, then what happens:\n"
    "    device 'phone' (ABCD-EFGH) wants to join\n"
    "    Certify device 'phone' (ABCD-EFGH) as yours? [y/N] y\n"
    "    certified device 'phone' (ABCD-EFGH); waiting for its first sync\n"
    "    paired device 'phone' (ABCD-EFGH)\n"
    "\n"
    "    --json prints one object per line: {\"code\", \"expires\",\n"
    "    \"endpoints\"} first, then {\"event\", \"name\", \"fingerprint\"}.\n"
    "\n"
    "EXAMPLES\n"
    "    mm device pair --name phone\n"
    "    mm device pair --yes --expires 2m --listen tcp://192.168.1.10:*\n"
    "\n"
    "EXIT STATUS\n"
    "    0  a device was paired and synced\n"
    "    1  this is not the identity device (MM_ENOIDENTITY), the code\n"
    "       expired unused, the listener could not start\n"
    "    2  the command line is wrong\n";

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void) sig;
    stop = 1;
}

typedef struct {
    cli_t *cli;
    int    yes;
    int    qr;
} pairer_t;

static void event_json(const char *event, const char *name, const char *fp)
{
    json_t j;
    json_init(&j, stdout);
    json_obj_begin(&j, NULL);
    json_str(&j, "event", event);
    json_str(&j, "name", name);
    json_str(&j, "fingerprint", fp);
    json_obj_end(&j);
    json_finish(&j);
    fflush(stdout);
}

static void on_ready(void *arg, const char *code, const mm_pair_code_t *c)
{
    pairer_t *p = arg;
    char when[CLI_TIME_MAX];
    json_t j;

    cli_time_local(when, c->expires);
    if (p->cli->json) {
        json_init(&j, stdout);
        json_obj_begin(&j, NULL);
        json_str(&j, "code", code);
        cli_time_iso(when, c->expires);
        json_str(&j, "expires", when);
        json_uint(&j, "expires_ms", c->expires);
        json_arr_begin(&j, "endpoints");
        for (unsigned i = 0; i < c->nendpoints; i++)
            json_str(&j, NULL, c->endpoints[i]);
        json_arr_end(&j);
        json_obj_end(&j);
        json_finish(&j);
    } else {
        printf("%s\n", code);
        if (p->qr)
            cli_qr_print(stdout, code);
        printf("on the new device run: mm init --join CODE   (works once, until %s)\n", when);
    }
    fflush(stdout);
}

static int on_confirm(void *arg, const char *name, const char *fp)
{
    pairer_t *p = arg;
    char *safe = cli_line(name, strlen(name), MM_DEVNAME_MAX);
    char answer[16];
    int yes = p->yes;

    if (p->cli->json)
        event_json("join", name, fp);
    else
        printf("device '%s' (%s) wants to join\n", safe ? safe : "?", fp);
    if (!yes) {
        /* with --json, stdout holds only the JSON lines */
        FILE *q = p->cli->json ? stderr : stdout;
        fprintf(q, "Certify device '%s' (%s) as yours? [y/N] ", safe ? safe : "?", fp);
        fflush(q);
        yes = fgets(answer, sizeof answer, stdin)
              && (answer[0] == 'y' || answer[0] == 'Y');
        if (!yes) {
            if (p->cli->json)
                event_json("refused", name, fp);
            else
                printf("refused device '%s' (%s); the code stays valid\n",
                       safe ? safe : "?", fp);
        }
    }
    fflush(stdout);
    free(safe);
    return yes;
}

static void on_certified(void *arg, const char *name, const char *fp)
{
    pairer_t *p = arg;
    char *safe = cli_line(name, strlen(name), MM_DEVNAME_MAX);

    if (p->cli->json)
        event_json("certified", name, fp);
    else
        printf("certified device '%s' (%s); waiting for its first sync\n",
               safe ? safe : "?", fp);
    fflush(stdout);
    free(safe);
}

/* The listener's own lines (connections, sessions): only refusals and
 * the end of sessions are worth the person's attention here. */
static void on_log(void *arg, const char *line)
{
    pairer_t *p = arg;
    if (p->cli->json || (strncmp(line, "refused", 7) && strncmp(line, "session", 7)))
        return;
    char *safe = cli_line(line, strlen(line), 400);
    printf("  %s\n", safe ? safe : "?");
    fflush(stdout);
    free(safe);
}

int cmd_device_pair(cli_t *cli, int argc, char **argv)
{
    static char default_listen[] = DEFAULT_LISTEN;
    const char *dur = cli->opt[CLI_OPT_EXPIRES];
    const char *want = cli->opt[CLI_OPT_NAME];
    char *addrs[MM_PEER_ENDPOINTS], served[MM_PEER_ENDPOINTS][MM_ENDPOINT_MAX + 1];
    char idname[MM_DEVNAME_MAX + 1], errtext[512];
    size_t n = cli->optn[CLI_OPT_LISTEN];
    uint64_t ttl = PAIR_TTL_DEFAULT_MS;
    pairer_t p = { cli, cli->opt[CLI_OPT_YES] != NULL, 0 };
    mm_pair_events_t ev = { on_ready, on_confirm, on_certified, &p };
    mm_pair_outcome_t out;
    struct sigaction sa;
    int rc;

    if (argc > 0)
        return cli_usage(cli, "unexpected argument '%s'", argv[0]);
    /* cppcheck-suppress redundantInitialization ; without --expires ttl keeps it */
    if (dur && (ttl = cli_duration_ms(dur, MM_PAIR_TTL_MAX)) == 0)
        return cli_usage(cli, "--expires '%s' is not a duration like 90s, 10m or 2h "
                         "(at most 24h)", dur);
    if (want && (!*want || strlen(want) > MM_DEVNAME_MAX
                 || !mm_utf8_valid(want, strlen(want))))
        return cli_usage(cli, "--name must be 1 to %d bytes of UTF-8", MM_DEVNAME_MAX);
    if (n > MM_PEER_ENDPOINTS)
        return cli_usage(cli, "give at most %d --listen endpoints", MM_PEER_ENDPOINTS);
    for (size_t i = 0; i < n; i++) {
        if (strncmp(cli->optv[CLI_OPT_LISTEN][i], "tcp://", 6) != 0)
            return cli_usage(cli, "--listen '%s' is not an endpoint like "
                             "tcp://0.0.0.0:* or tcp://127.0.0.1:7461",
                             cli->optv[CLI_OPT_LISTEN][i]);
        addrs[i] = (char *) cli->optv[CLI_OPT_LISTEN][i];
    }
    if (n == 0) {
        /* the addresses mm serve uses, if one runs, each on an ephemeral port */
        unsigned k = 0;
        if (mm_serve_endpoints(mm_home_path(cli->home), served, MM_PEER_ENDPOINTS, &k) != MM_OK)
            k = 0;
        for (unsigned i = 0; i < k; i++) {
            char *colon = strrchr(served[i], ':');
            if (!colon || colon - served[i] > MM_ENDPOINT_MAX - 3)
                continue;
            colon[1] = '*';         /* room checked above */
            colon[2] = '\0';
            addrs[n++] = served[i];
        }
    }
    if (n == 0)
        addrs[n++] = default_listen;
    rc = mm_pair_may(cli->home, idname, sizeof idname);
    if (rc == MM_ENOIDENTITY) {
        cli_set_code(rc);
        if (*idname)
            return cli_fail(cli, "this device cannot certify others: only the identity "
                            "device '%s' holds the identity key; run mm device pair "
                            "there", idname);
        return cli_fail(cli, "this device cannot certify others: the identity key is "
                        "not here; run mm device pair on the identity device");
    }
    if (rc != MM_OK)
        return cli_fail_rc(cli, rc, "cannot read the identity key");
    if (!p.yes && !isatty(STDIN_FILENO)) {
        cli_set_code(MM_EINVAL);
        return cli_fail(cli, "the new device must be confirmed on a terminal; run this in "
                        "one, or give --yes to certify the first device that joins");
    }
    p.qr = !cli->json && (cli->opt[CLI_OPT_QR] != NULL || isatty(STDOUT_FILENO));

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0)
        return cli_fail(cli, "cannot install the signal handlers; check the system");

    rc = mm_net_pair_serve(cli->home, addrs, n, ttl, want, &ev, &stop, on_log, &p, &out,
                           errtext, sizeof errtext);
    if (rc == MM_OK && out.synced) {
        if (cli->json)
            event_json("paired", out.name, out.fingerprint);
        else
            printf("paired device '%s' (%s)\n", out.name, out.fingerprint);
        return CLI_EXIT_OK;
    }
    if (rc == MM_OK) {              /* stopped */
        cli_set_code(MM_ETIMEOUT);
        if (out.certified)
            return cli_fail(cli, "stopped before device '%s' (%s) synced; it is "
                            "certified: sync it with mm serve running here",
                            out.name, out.fingerprint);
        return cli_fail(cli, "stopped; the code is no longer valid");
    }
    cli_set_code(rc);
    return cli_fail(cli, "%s; %s", errtext, rc == MM_ETIMEOUT
                    ? "run mm device pair again for a new code" : cli_hint(rc));
}

/* --- mm init --join ---------------------------------------------------------- */

typedef struct {
    const cli_t *cli;
    const char  *name;
} joiner_t;

/* Before the answer is awaited: what the person compares on the identity
 * device.  Not with --json (one document on stdout, for scripts). */
static void on_waiting(void *arg, const char *fp)
{
    const joiner_t *jn = arg;
    char *safe;

    if (jn->cli->json)
        return;
    safe = cli_line(jn->name, strlen(jn->name), MM_DEVNAME_MAX);
    printf("this device is '%s' (%s); confirm it on the identity device\n",
           safe ? safe : "?", fp);
    fflush(stdout);
    free(safe);
}

/* 1 if a new home may be built at path: missing, or an empty directory. */
static int place_free(const char *path)
{
    struct stat st;
    struct dirent *de;
    DIR *d;
    int empty = 1;

    if (lstat(path, &st) != 0)
        return 1;
    if (!S_ISDIR(st.st_mode) || !(d = opendir(path)))
        return 0;
    while (empty && (de = readdir(d)))
        empty = !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..");
    closedir(d);
    return empty;
}

int cmd_init_join(cli_t *cli, const char *text, const char *devname)
{
    char host[MM_DEVNAME_MAX + 1] = "device", errtext[600], fp[MM_PAIR_FP_LEN + 1];
    mm_pair_code_t code;
    mm_pair_summary_t sum;
    mm_sync_stats_t st;
    int timeout_ms, made = 0, ex, rc;
    joiner_t jn;
    json_t j;

    char line[MM_PAIR_CODE_MAX + 2];

    if ((ex = cmd_sync_timeout(cli, &timeout_ms)) != CLI_EXIT_OK)
        return ex;
    if (strcmp(text, "-") == 0) {       /* out of the process list and history */
        if (isatty(STDIN_FILENO)) {     /* one line, ended by Enter */
            fflush(stdout);
            fprintf(stderr, "mm init: paste the pairing code, then press Enter:\n");
        }
        if (!fgets(line, sizeof line, stdin))
            line[0] = '\0';
        line[strcspn(line, "\r\n")] = '\0';
        text = line;
    }
    rc = mm_pair_code_decode(text, &code);
    cli_set_code(rc);
    switch (rc) {
    case MM_OK:
        break;
    case MM_ECHECKSUM:
        return cli_fail(cli, "this pairing code is damaged or altered (its check does not "
                        "match); copy it again");
    default:
        if (strncmp(text, "mmv1", 4) == 0)
            return cli_fail(cli, "this is an invite code, not a pairing code; to become "
                            "someone's peer run 'mm accept CODE --name NAME'");
        /* mmp1 and then no code: a mistyped letter or a cut copy, which
         * "not a pairing code (they start with mmp1)" would misdescribe */
        if (strncmp(text, MM_PAIR_PREFIX, 4) == 0)
            return cli_fail(cli, "this pairing code is damaged or cut short (not a whole "
                            "code in base32); copy it again");
        return cli_fail(cli, "not a pairing code (they start with mmp1); run 'mm device "
                        "pair' on the identity device for one");
    }
    if (!devname || !*devname) {
        if (gethostname(host, sizeof host - 1) != 0 || !*host)
            snprintf(host, sizeof host, "device");
        host[MM_DEVNAME_MAX] = '\0';
        devname = host;
    }
    if ((ex = cli_home_path(cli)) != CLI_EXIT_OK)
        goto out;
    /* before the identity device certifies a key this home could not keep */
    if (!place_free(cli->path)) {
        cli_set_code(MM_EEXIST);
        ex = cli_fail(cli, "%s exists and is not an empty directory, so nothing was "
                      "changed; choose another with --home DIR", cli->path);
        goto out;
    }
    jn.cli = cli;
    jn.name = devname;
    rc = mm_net_pair_join(cli->path, &code, devname, timeout_ms, on_waiting, &jn, &sum, &st,
                          &made, errtext, sizeof errtext);
    if (rc != MM_OK && !made) {
        cli_set_code(rc);
        ex = cli_fail(cli, "%s", errtext);
        goto out;
    }
    if ((ex = cli_home_open(cli)) != CLI_EXIT_OK)
        goto out;
    mm_pair_fingerprint(mm_keypair_pk(mm_home_device(cli->home)), fp);
    if (rc != MM_OK) {
        cli_set_code(rc);
        ex = cli_fail(cli, "joined, but the first sync failed: %s; run 'mm sync --device' "
                      "with the identity device's mm serve", errtext);
        goto out;
    }
    if (cli->json) {
        json_init(&j, stdout);
        json_obj_begin(&j, NULL);
        json_str(&j, "home", cli->path);
        json_str(&j, "name", sum.name);
        json_str(&j, "device_name", sum.devname);
        json_str(&j, "fingerprint", fp);
        json_uint(&j, "peers", sum.npeers);
        json_uint(&j, "scopes", sum.nscopes);
        json_uint(&j, "certificates", sum.ncerts);
        json_uint(&j, "entries", st.entries_recv);
        json_obj_end(&j);
        json_finish(&j);
    } else {
        char *sn = cli_line(sum.name, strlen(sum.name), MM_NAME_MAX);
        char *sd = cli_line(sum.devname, strlen(sum.devname), MM_DEVNAME_MAX);
        printf("joined %s's identity as device '%s' (%s): %zu peer%s, %zu scope%s, "
               "%llu entries\n", sn ? sn : "?", sd ? sd : "?", fp, sum.npeers,
               sum.npeers == 1 ? "" : "s", sum.nscopes, sum.nscopes == 1 ? "" : "s",
               (unsigned long long) st.entries_recv);
        free(sn);
        free(sd);
    }
    ex = CLI_EXIT_OK;
out:
    mm_home_close(&cli->home);
    sodium_memzero(&code, sizeof code);
    sodium_memzero(line, sizeof line);
    return ex;
}
