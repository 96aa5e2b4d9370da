/*  cmd_mailbox.c -- mm mailbox init | code | link | list | unlink: a blind
 *  store-and-forward node a person lends to their relationships
 *  (PROTOCOL.md 14).  The link code is a secret: printed once (and as a QR
 *  code on a terminal), never logged, and wiped here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sodium.h>

#include "cli/cli.h"
#include "cli/cmd_sync.h"
#include "cli/json.h"
#include "cli/qr.h"
#include "cli/util.h"
#include "core/device.h"
#include "core/log.h"
#include "core/mailbox.h"
#include "crypto/error.h"
#include "crypto/idcode.h"
#include "net/net.h"

const char cmd_mailbox_help[] =
    "a blind mailbox: store and forward for people never online together\n"
    "\n"
    "DESCRIPTION\n"
    "    A mailbox is an always-on machine of yours (a home server, a small\n"
    "    board, a rented VM) that holds your relationships' entries while you\n"
    "    or your peers are offline.  It has a key of its own and no identity,\n"
    "    holds no scope key and cannot read what it stores: it checks each\n"
    "    entry's signature, chain and certificate, keeps it, and hands it only\n"
    "    to devices of the people in its scope.\n"
    "\n"
    "    On the mailbox machine:\n"
    "        mm mailbox init --home DIR --listen tcp://0.0.0.0:7461 [--quota 1GiB]\n"
    "        mm serve --home DIR &\n"
    "        mm mailbox code --home DIR\n"
    "    prints a one-time link code (mmm1..., and a QR code on a terminal),\n"
    "    valid for 10 minutes (--expires).  On your identity device:\n"
    "        mm mailbox link CODE [--name NAME]\n"
    "    certifies the mailbox as yours, then syncs your relationships into\n"
    "    it.  Your peers learn it at their next sync with you; from then on,\n"
    "    'mm sync PEER' that cannot reach the peer's devices goes through the\n"
    "    peer's mailbox or yours, and 'mm sync' also syncs with your mailbox.\n"
    "\n"
    "    mm mailbox quota SIZE (on the mailbox) sets what it stores per person.\n"
    "    mm mailbox list shows your mailboxes (on the mailbox: whom it\n"
    "    serves and what it holds for each person); mm mailbox unlink ID\n"
    "    revokes one: your peers stop using it as they hear of it, and the\n"
    "    mailbox, told at once if it can be reached, refuses everyone.\n"
    "\n"
    "OPTIONS\n"
    "    --listen ENDPOINT     (init) where its mm serve listens (up to 4)\n"
    "    --quota SIZE          (init) bytes it stores per person, e.g. 500MiB,\n"
    "                          2GiB, 1000000 (default 1GiB); past it a sync is\n"
    "                          refused with MM_EQUOTA and nothing is lost\n"
    "    --expires DUR         (code) 30s, 10m, 2h (at most 24h)\n"
    "    --endpoint ENDPOINT   (code) the address to put in the code (else\n"
    "                          its running mm serve's, else its --listen)\n"
    "    --qr                  (code) print the QR code even off a terminal\n"
    "    --name NAME           (link) the mailbox's name (default mailbox)\n"
    "    --timeout SECONDS     (link, unlink) how long to wait for it\n"
    "\n"
    "EXAMPLES\n"
    "    mm mailbox init --home /srv/mm --listen tcp://0.0.0.0:7461\n"
    "    mm mailbox link mmm1... --name box\n"
    "    mm mailbox list --json\n"
    "    mm mailbox unlink box\n"
    "\n"
    "EXIT STATUS\n"
    "    0  done\n"
    "    1  it failed (not the identity device, the code expired or was\n"
    "       used, the mailbox cannot be reached, an unknown mailbox)\n"
    "    2  the command line is wrong\n";

#define TTL_DEFAULT MM_MAILBOX_LINK_TTL

/* "1GiB", "500MiB", "2GB", "1000000": bytes, or 0 if it is not a size. */
static uint64_t parse_size(const char *s)
{
    static const struct { const char *unit; uint64_t mult; } units[] = {
        { "", 1 }, { "B", 1 }, { "KiB", 1ull << 10 }, { "MiB", 1ull << 20 },
        { "GiB", 1ull << 30 }, { "TiB", 1ull << 40 }, { "kB", 1000 }, { "KB", 1000 },
        { "MB", 1000000 }, { "GB", 1000000000 }, { "TB", 1000000000000ull },
    };
    unsigned long long n = 0;
    size_t i = 0;
    for (; s[i] >= '0' && s[i] <= '9'; i++) {
        if (n > (1ull << 50))
            return 0;
        n = n * 10 + (unsigned) (s[i] - '0');
    }
    if (i == 0 || n == 0)
        return 0;
    for (size_t u = 0; u < sizeof units / sizeof units[0]; u++)
        if (strcmp(s + i, units[u].unit) == 0)
            return n > UINT64_MAX / units[u].mult ? 0 : n * units[u].mult;
    return 0;
}

static void size_text(char out[32], uint64_t n)
{
    if (n >= (1ull << 30) && n % (1ull << 30) == 0)
        snprintf(out, 32, "%llu GiB", (unsigned long long) (n >> 30));
    else if (n >= (1ull << 20) && n % (1ull << 20) == 0)
        snprintf(out, 32, "%llu MiB", (unsigned long long) (n >> 20));
    else
        snprintf(out, 32, "%llu bytes", (unsigned long long) n);
}

/* --- init ----------------------------------------------------------------- */

int cmd_mailbox_init(cli_t *cli, int argc, char **argv)
{
    char *eps[MM_PEER_ENDPOINTS];
    unsigned n = cli->optn[CLI_OPT_LISTEN];
    uint64_t quota = MM_MAILBOX_QUOTA_DEFAULT;
    char q[32];
    int ex, rc;

    if (argc > 0)
        return cli_usage(cli, "unexpected argument '%s'", argv[0]);
    if (n == 0)
        return cli_usage(cli, "give --listen tcp://HOST:PORT: where the mailbox's mm serve "
                         "will listen");
    if (n > MM_PEER_ENDPOINTS)
        return cli_usage(cli, "give at most %d --listen endpoints", MM_PEER_ENDPOINTS);
    for (unsigned i = 0; i < n; i++) {
        if (!mm_endpoint_valid(cli->optv[CLI_OPT_LISTEN][i]))
            return cli_usage(cli, "--listen '%s' is not an endpoint like tcp://0.0.0.0:7461",
                             cli->optv[CLI_OPT_LISTEN][i]);
        eps[i] = (char *) cli->optv[CLI_OPT_LISTEN][i];
    }
    /* cppcheck-suppress redundantInitialization ; without --quota it keeps the default */
    if (cli->opt[CLI_OPT_QUOTA] && !(quota = parse_size(cli->opt[CLI_OPT_QUOTA])))
        return cli_usage(cli, "--quota '%s' is not a size like 500MiB or 1GiB",
                         cli->opt[CLI_OPT_QUOTA]);
    if ((ex = cli_home_path(cli)) != CLI_EXIT_OK)
        return ex;
    rc = mm_home_init_mailbox(cli->path, eps, n, quota);
    if (rc == MM_EEXIST) {
        cli_set_code(rc);
        return cli_fail(cli, "%s is not empty; give --home a new directory", cli->path);
    }
    if (rc != MM_OK)
        return cli_fail_rc(cli, rc, "cannot create the mailbox");
    size_text(q, quota);
    if (cli->json) {
        json_t j;
        json_init(&j, stdout);
        json_obj_begin(&j, NULL);
        json_str(&j, "home", cli->path);
        json_uint(&j, "quota", quota);
        json_arr_begin(&j, "listen");
        for (unsigned i = 0; i < n; i++)
            json_str(&j, NULL, eps[i]);
        json_arr_end(&j);
        json_obj_end(&j);
        return json_finish(&j) ? CLI_EXIT_FAIL : CLI_EXIT_OK;
    }
    printf("created a mailbox at %s (quota %s per person)\n", cli->path, q);
    printf("next: 'mm serve --home %s &', then 'mm mailbox code --home %s'\n", cli->path,
           cli->path);
    return CLI_EXIT_OK;
}

/* --- code ----------------------------------------------------------------- */

static int code_endpoints(cli_t *cli, char eps[][MM_ENDPOINT_MAX + 1], unsigned *n)
{
    unsigned given = cli->optn[CLI_OPT_ENDPOINT];
    *n = 0;
    if (given > MM_PEER_ENDPOINTS)
        return cli_usage(cli, "give at most %d --endpoint addresses", MM_PEER_ENDPOINTS);
    for (unsigned i = 0; i < given; i++) {
        const char *ep = cli->optv[CLI_OPT_ENDPOINT][i];
        if (!mm_endpoint_valid(ep))
            return cli_usage(cli, "--endpoint '%s' is not an address like tcp://HOST:PORT", ep);
        snprintf(eps[i], MM_ENDPOINT_MAX + 1, "%s", ep);
    }
    if ((*n = given) > 0)
        return CLI_EXIT_OK;
    if (mm_serve_endpoints(mm_home_path(cli->home), eps, MM_PEER_ENDPOINTS, n) == MM_OK && *n)
        return CLI_EXIT_OK;
    int rc = mm_home_listen(cli->home, eps, MM_PEER_ENDPOINTS, n);
    if (rc != MM_OK)
        return cli_fail_rc(cli, rc, "cannot read where the mailbox listens");
    if (*n == 0)
        return cli_fail(cli, "no address known; give --endpoint tcp://HOST:PORT");
    return CLI_EXIT_OK;
}

static int need_mailbox(cli_t *cli)
{
    if (mm_home_is_mailbox(cli->home))
        return CLI_EXIT_OK;
    cli_set_code(MM_EROLE);
    return cli_fail(cli, "%s is a person's home, not a mailbox; make one with 'mm mailbox "
                    "init --home DIR --listen tcp://0.0.0.0:7461'", mm_home_path(cli->home));
}

int cmd_mailbox_code(cli_t *cli, int argc, char **argv)
{
    char eps[MM_PEER_ENDPOINTS][MM_ENDPOINT_MAX + 1], text[MM_CODE_TEXT_MAX], when[CLI_TIME_MAX];
    uint64_t ttl = TTL_DEFAULT;
    mm_mailbox_code_t c;
    unsigned n;
    int ex, rc;

    if (argc > 0)
        return cli_usage(cli, "unexpected argument '%s'", argv[0]);
    /* cppcheck-suppress redundantInitialization ; without --expires ttl keeps it */
    if (cli->opt[CLI_OPT_EXPIRES] && !(ttl = cli_duration_ms(cli->opt[CLI_OPT_EXPIRES], MM_MAILBOX_LINK_TTL_MAX)))
        return cli_usage(cli, "--expires '%s' is not a duration like 30s, 10m or 2h (at most "
                         "24h)", cli->opt[CLI_OPT_EXPIRES]);
    if ((ex = need_mailbox(cli)) != CLI_EXIT_OK || (ex = code_endpoints(cli, eps, &n)))
        return ex;
    rc = mm_mailbox_code_new(cli->home, mm_now_ms(), ttl, eps, n, &c);
    if (rc == MM_EEXIST) {
        cli_set_code(rc);
        return cli_fail(cli, "this mailbox is linked already: it serves one person; make "
                        "another with 'mm mailbox init'");
    }
    if (rc == MM_EBUSY) {
        cli_set_code(rc);
        return cli_fail(cli, "%d link codes are pending; use one, or wait until they expire",
                        MM_MAILBOX_LINKS_MAX);
    }
    if (rc != MM_OK)
        return cli_fail_rc(cli, rc, "cannot make a link code");
    rc = mm_mailbox_code_encode(&c, text, sizeof text);
    sodium_memzero(&c.secret, sizeof c.secret);
    if (rc != MM_OK)
        return cli_fail_rc(cli, rc, "cannot make a link code");
    if (cli->json) {
        json_t j;
        json_init(&j, stdout);
        json_obj_begin(&j, NULL);
        json_str(&j, "code", text);
        cli_time_iso(when, c.expires);
        json_str(&j, "expires", when);
        json_uint(&j, "expires_ms", c.expires);
        json_obj_end(&j);
        ex = json_finish(&j) ? CLI_EXIT_FAIL : CLI_EXIT_OK;
    } else {
        cli_time_local(when, c.expires);
        printf("%s\n", text);
        if (cli->opt[CLI_OPT_QR] || isatty(STDOUT_FILENO))
            cli_qr_print(stdout, text);
        fprintf(stderr, "on your identity device: mm mailbox link CODE (valid until %s, "
                "once)\n", when);
        ex = CLI_EXIT_OK;
    }
    sodium_memzero(text, sizeof text);
    return ex;
}

/* --- quota ---------------------------------------------------------------- */

int cmd_mailbox_quota(cli_t *cli, int argc, char **argv)
{
    mm_txn_t *txn = NULL;
    uint64_t quota;
    char q[32];
    int ex, rc;

    if (argc != 1)
        return cli_usage(cli, "give the new quota per person, like 500MiB or 2GiB");
    if (!(quota = parse_size(argv[0])))
        return cli_usage(cli, "'%s' is not a size like 500MiB or 2GiB", argv[0]);
    if ((ex = need_mailbox(cli)) != CLI_EXIT_OK)
        return ex;
    if ((rc = mm_store_begin(mm_home_store(cli->home), 1, &txn)) == MM_OK
        && (rc = mm_mailbox_set_quota(txn, quota)) == MM_OK)
        rc = mm_txn_commit(&txn);
    mm_txn_abort(&txn);
    if (rc != MM_OK)
        return cli_fail_rc(cli, rc, "cannot set the quota");
    size_text(q, quota);
    if (cli->json) {
        json_t j;
        json_init(&j, stdout);
        json_obj_begin(&j, NULL);
        json_uint(&j, "quota", quota);
        json_obj_end(&j);
        return json_finish(&j) ? CLI_EXIT_FAIL : CLI_EXIT_OK;
    }
    printf("quota: %s per person (a running mm serve uses it at once)\n", q);
    return CLI_EXIT_OK;
}

/* --- link ----------------------------------------------------------------- */

int cmd_mailbox_link(cli_t *cli, int argc, char **argv)
{
    const char *name = cli->opt[CLI_OPT_NAME] ? cli->opt[CLI_OPT_NAME] : "mailbox";
    char err[512], id[MM_IDCODE_LEN + 1];
    mm_mailbox_code_t c;
    uint8_t dev[32];
    int timeout_ms, ex, rc;

    if (argc != 1)
        return cli_usage(cli, argc ? "give one link code" : "give the link code that "
                         "'mm mailbox code' printed on the mailbox");
    if ((ex = cmd_sync_timeout(cli, &timeout_ms)) != CLI_EXIT_OK)
        return ex;
    if (strlen(name) == 0 || strlen(name) > MM_DEVNAME_MAX)
        return cli_usage(cli, "--name must be 1 to %d bytes", MM_DEVNAME_MAX);
    if (mm_home_is_mailbox(cli->home)) {
        cli_set_code(MM_EROLE);
        return cli_fail(cli, "run this on your identity device, not on the mailbox");
    }
    rc = mm_mailbox_code_decode(argv[0], &c);
    if (rc == MM_ECHECKSUM) {
        cli_set_code(rc);
        return cli_fail(cli, "this link code is damaged or altered; copy it again");
    }
    if (rc != MM_OK) {
        cli_set_code(MM_EINVAL);
        return cli_fail(cli, "'%.12s...' is not a mailbox link code (mmm1...)", argv[0]);
    }
    rc = mm_net_mailbox_link(cli->home, &c, name, timeout_ms, dev, err, sizeof err);
    if (rc != MM_OK) {
        sodium_memzero(&c, sizeof c);
        cli_set_code(rc);
        return cli_fail(cli, "%s; %s", err, rc == MM_ENOIDENTITY ? "link it there"
                        : rc == MM_ETIMEOUT ? "check that the mailbox's mm serve runs"
                        : "make a new code with 'mm mailbox code' on the mailbox");
    }
    /* the first sync: DEVICES, SCOPES and every relationship's feeds */
    mm_peer_t p;
    cmd_sync_result_t r;
    memset(&p, 0, sizeof p);
    memcpy(p.identity, mm_home_identity_pk(cli->home), 32);
    memcpy(p.device, dev, 32);
    snprintf(p.petname, sizeof p.petname, "%s", name);
    for (unsigned i = 0; i < c.nendpoints; i++)
        snprintf(p.endpoints[i], sizeof p.endpoints[i], "%s", c.endpoints[i]);
    p.nendpoints = c.nendpoints;
    sodium_memzero(&c, sizeof c);
    rc = cmd_sync_peer(cli, &p, timeout_ms, &r);
    mm_idcode_encode(id, MM_IDCODE_DEVICE, dev);
    if (cli->json) {
        json_t j;
        json_init(&j, stdout);
        json_obj_begin(&j, NULL);
        json_str(&j, "name", name);
        json_str(&j, "id", id);
        cmd_sync_json(cli, &j, "sync", &r);
        json_obj_end(&j);
        cmd_sync_result_free(&r);
        return json_finish(&j) || rc ? CLI_EXIT_FAIL : CLI_EXIT_OK;
    }
    printf("linked mailbox %s (%.15s); your peers learn it at their next sync with you\n",
           name, id);
    cmd_sync_print(cli, &r);
    cmd_sync_result_free(&r);
    return rc == MM_OK ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

/* --- list ----------------------------------------------------------------- */

typedef struct {
    mm_device_t *v;
    size_t n, cap;
} boxes_t;

static int collect(const mm_device_t *d, void *arg)
{
    boxes_t *b = arg;
    if (!(d->cert.flags & MM_CERT_MAILBOX))
        return 0;
    if (b->n == b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 4;
        mm_device_t *v = realloc(b->v, cap * sizeof *v);
        if (!v)
            return MM_ENOMEM;
        b->v = v;
        b->cap = cap;
    }
    b->v[b->n++] = *d;
    return 0;
}

/* On the mailbox itself: whom it serves, how many scopes, what it holds. */
static int count_scope(const mm_scope_t *s, void *arg)
{
    (void) s;
    (*(size_t *) arg)++;
    return 0;
}

static int list_self(cli_t *cli)
{
    mm_txn_t *txn = NULL;
    char owner[MM_IDCODE_LEN + 1], used[32];
    uint64_t bytes = 0;
    size_t nscopes = 0;
    const uint8_t zero[32] = { 0 };
    int linked = memcmp(mm_home_identity_pk(cli->home), zero, 32) != 0;
    int unlinked = mm_mailbox_unlinked(cli->home);
    int rc = mm_store_begin(mm_home_store(cli->home), 0, &txn);
    if (rc == MM_OK)
        rc = mm_scope_foreach(txn, count_scope, &nscopes);
    if (rc == MM_OK && linked)
        rc = mm_mailbox_usage(txn, mm_home_identity_pk(cli->home), &bytes);
    mm_txn_abort(&txn);
    if (rc != MM_OK)
        return cli_fail_rc(cli, rc, "cannot read the mailbox");
    mm_idcode_encode(owner, MM_IDCODE_IDENTITY, mm_home_identity_pk(cli->home));
    size_text(used, bytes);
    if (cli->json) {
        json_t j;
        json_init(&j, stdout);
        json_obj_begin(&j, NULL);
        json_bool(&j, "mailbox", 1);
        json_str(&j, "owner", linked ? owner : NULL);
        json_str(&j, "owner_name", linked ? mm_home_name(cli->home) : NULL);
        json_bool(&j, "unlinked", unlinked);
        json_uint(&j, "scopes", nscopes);
        json_uint(&j, "owner_bytes", bytes);
        json_obj_end(&j);
        return json_finish(&j) ? CLI_EXIT_FAIL : CLI_EXIT_OK;
    }
    if (!linked)
        printf("this mailbox is not linked yet: 'mm mailbox code', then 'mm mailbox link "
               "CODE' on the identity device\n");
    else
        printf("this mailbox serves %s (%.15s)%s: %zu scope%s, %s of their devices' entries\n",
               mm_home_name(cli->home), owner, unlinked ? ", who unlinked it" : "",
               nscopes, nscopes == 1 ? "" : "s", used);
    return CLI_EXIT_OK;
}

int cmd_mailbox_list(cli_t *cli, int argc, char **argv)
{
    boxes_t b = { 0 };
    mm_txn_t *txn = NULL;
    uint64_t now = mm_now_ms();

    if (argc > 0)
        return cli_usage(cli, "unexpected argument '%s'", argv[0]);
    if (mm_home_is_mailbox(cli->home))
        return list_self(cli);
    int rc = mm_store_begin(mm_home_store(cli->home), 0, &txn);
    if (rc == MM_OK)
        rc = mm_device_foreach(txn, mm_home_identity_pk(cli->home), collect, &b);
    mm_txn_abort(&txn);
    if (rc != MM_OK) {
        free(b.v);
        return cli_fail_rc(cli, rc, "cannot read the mailboxes");
    }
    if (cli->json) {
        json_t j;
        json_init(&j, stdout);
        json_obj_begin(&j, NULL);
        json_arr_begin(&j, "mailboxes");
        for (size_t i = 0; i < b.n; i++) {
            const mm_device_t *d = &b.v[i];
            char id[MM_IDCODE_LEN + 1], t[CLI_TIME_MAX];
            mm_idcode_encode(id, MM_IDCODE_DEVICE, d->cert.device);
            json_obj_begin(&j, NULL);
            json_str(&j, "name", d->cert.name);
            json_str(&j, "id", id);
            cli_time_iso(t, d->cert.created);
            json_str(&j, "linked", t);
            json_uint(&j, "linked_ms", d->cert.created);
            cli_time_iso(t, d->last_seen);
            json_str(&j, "last_seen", d->last_seen ? t : NULL);
            json_str(&j, "state", d->revoked ? "unlinked" : "current");
            json_arr_begin(&j, "endpoints");
            for (unsigned k = 0; d->has_endpoints && k < d->endpoints.n; k++)
                json_str(&j, NULL, d->endpoints.endpoints[k]);
            json_arr_end(&j);
            json_obj_end(&j);
        }
        json_arr_end(&j);
        json_obj_end(&j);
        free(b.v);
        return json_finish(&j) ? CLI_EXIT_FAIL : CLI_EXIT_OK;
    }
    if (b.n == 0)
        printf("no mailbox; link one with 'mm mailbox link CODE'\n");
    for (size_t i = 0; i < b.n; i++) {
        const mm_device_t *d = &b.v[i];
        char id[MM_IDCODE_LEN + 1], seen[CLI_TIME_MAX];
        char *name = cli_line(d->cert.name, strlen(d->cert.name), MM_DEVNAME_MAX);
        mm_idcode_encode(id, MM_IDCODE_DEVICE, d->cert.device);
        if (d->last_seen)
            cli_time_rel(seen, d->last_seen, now);
        else
            snprintf(seen, sizeof seen, "never");
        printf("%s  %.15s  %s  last seen %s  %s\n", name ? name : "?", id,
               d->revoked ? "unlinked" : "current", seen,
               d->has_endpoints && d->endpoints.n ? d->endpoints.endpoints[0] : "(no address)");
        free(name);
    }
    free(b.v);
    return CLI_EXIT_OK;
}

/* --- unlink --------------------------------------------------------------- */

int cmd_mailbox_unlink(cli_t *cli, int argc, char **argv)
{
    mm_txn_t *txn = NULL;
    mm_device_t d;
    char err[512], id[MM_IDCODE_LEN + 1];
    int timeout_ms, ex, rc;

    if (argc != 1)
        return cli_usage(cli, "give the mailbox's name or the start of its id (mmd...)");
    if ((ex = cmd_sync_timeout(cli, &timeout_ms)) != CLI_EXIT_OK)
        return ex;
    if (mm_home_is_mailbox(cli->home)) {
        cli_set_code(MM_EROLE);
        return cli_fail(cli, "run this on your identity device, not on the mailbox");
    }
    if ((rc = mm_store_begin(mm_home_store(cli->home), 0, &txn)) == MM_OK)
        rc = mm_device_find(txn, mm_home_identity_pk(cli->home), argv[0], &d);
    mm_txn_abort(&txn);
    if (rc == MM_OK && !(d.cert.flags & MM_CERT_MAILBOX))
        rc = MM_ENOTFOUND;
    if (rc == MM_ENOTFOUND || rc == MM_EAMBIG || rc == MM_EINVAL) {
        cli_set_code(rc);
        return cli_fail(cli, "'%s' %s; see 'mm mailbox list'", argv[0],
                        rc == MM_EAMBIG ? "names more than one device" : "is not one of your "
                        "mailboxes");
    }
    if (rc != MM_OK)
        return cli_fail_rc(cli, rc, "cannot read the mailboxes");
    rc = mm_mailbox_unlink(cli->home, d.cert.device, mm_now_ms());
    if (rc == MM_ENOIDENTITY) {
        cli_set_code(rc);
        return cli_fail(cli, "only the identity device can unlink a mailbox; run it there");
    }
    if (rc == MM_EEXIST) {
        cli_set_code(rc);
        return cli_fail(cli, "'%s' is unlinked already", d.cert.name);
    }
    if (rc != MM_OK)
        return cli_fail_rc(cli, rc, "cannot unlink the mailbox");
    /* best effort: the mailbox itself hears it now, peers at their next sync */
    int told = mm_net_mailbox_tell(cli->home, d.cert.device, timeout_ms, err, sizeof err);
    mm_idcode_encode(id, MM_IDCODE_DEVICE, d.cert.device);
    if (cli->json) {
        json_t j;
        json_init(&j, stdout);
        json_obj_begin(&j, NULL);
        json_str(&j, "name", d.cert.name);
        json_str(&j, "id", id);
        json_bool(&j, "told", told == MM_OK);
        json_obj_end(&j);
        return json_finish(&j) ? CLI_EXIT_FAIL : CLI_EXIT_OK;
    }
    printf("unlinked mailbox %s (%.15s); %s\n", d.cert.name, id,
           told == MM_OK ? "it was told and refuses everyone now; your peers stop using it "
                           "at their next sync with you"
                         : "it could not be told now; your peers stop using it at their next "
                           "sync with you");
    return CLI_EXIT_OK;
}
