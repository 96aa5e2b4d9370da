/*  cmd_invite.c -- mm invite and mm accept: how two people become peers.
 *
 *  The invite code holds a one-time secret: it is wiped from every buffer
 *  here once printed or used, and never written anywhere but stdout.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "cli/cli.h"
#include "cli/cmd_peer.h"
#include "cli/cmd_sync.h"
#include "cli/json.h"
#include "cli/util.h"
#include "core/invite.h"
#include "core/log.h"
#include "core/utf8.h"
#include "crypto/random.h"
#include "crypto/error.h"
#include "net/net.h"

const char cmd_invite_help[] =
    "make a one-time code that lets someone become your peer\n"
    "\n"
    "DESCRIPTION\n"
    "    Prints an invite code (mmv1...) to hand to one person over a channel\n"
    "    you trust; they run 'mm accept CODE --name NAME' while your mm serve\n"
    "    runs.  The code holds your identity, this device, the addresses to\n"
    "    reach it and a one-time secret: it works once, until it expires.\n"
    "    Accepting it creates your relationship scope, whose first entry is\n"
    "    the invite's note, readable by the two of you only.\n"
    "\n"
    "OPTIONS\n"
    "    --note TEXT\n"
    "        A note for them, stored as the first entry you share (at most\n"
    "        1000 bytes of UTF-8).\n"
    "    --expires DUR\n"
    "        How long the code works: a number and s, m, h or d, e.g. 30m,\n"
    "        24h, 7d (default 24h, at most 365d).\n"
    "    --role mentor|mentee\n"
    "        YOUR role in the relationship (default mentor: you mentor\n"
    "        them).\n"
    "    --endpoint ENDPOINT\n"
    "        An address tcp://HOST:PORT where they can reach your mm serve\n"
    "        (up to 4 times).  Default: the addresses of the mm serve running\n"
    "        for this home.\n"
    "\n"
    "OUTPUT\n"
    "    The code alone on one line.  --json prints {\"code\", \"expires\",\n"
    "    \"expires_ms\", \"endpoints\": [...], \"role\"}: expires is ISO 8601 UTC,\n"
    "    role is yours.\n"
    "\n"
    "EXAMPLES\n"
    "    mm serve &\n"
    "    mm invite --note 'Welcome! Let us meet every other Tuesday.'\n"
    "    mm invite --role mentee --expires 2h\n"
    "    mm invite --endpoint tcp://grace.example.org:7460\n"
    "\n"
    "EXIT STATUS\n"
    "    0  the code was printed\n"
    "    1  no mm serve runs and no --endpoint was given, no home, a store\n"
    "       error\n"
    "    2  the command line is wrong (a bad --expires, --role, --note or\n"
    "       --endpoint)\n";

const char cmd_accept_help[] =
    "accept an invite code and sync with the new peer\n"
    "\n"
    "DESCRIPTION\n"
    "    Connects to the inviter's mm serve with the code, presents this\n"
    "    device, and on their welcome stores them as a peer named PETNAME,\n"
    "    with the relationship scope the two of you share.  Then syncs with\n"
    "    them once, which brings the invite's note.  The inviter's mm serve\n"
    "    must be running.  A code works only once and only until it expires.\n"
    "\n"
    "    CODE is the mmv1... code, or '-' to read it from stdin (so that it\n"
    "    stays out of the process list and the shell history).\n"
    "\n"
    "OPTIONS\n"
    "    --name PETNAME\n"
    "        What you will call them (required; 1 to 64 bytes of UTF-8, not\n"
    "        starting with 'mmi', not the name of another peer).\n"
    "    --timeout SECONDS\n"
    "        How long to wait for an answer (1 to 3600, default 10).\n"
    "\n"
    "OUTPUT\n"
    "    accepted: 'grace' (Grace) is now your mentor\n"
    "    grace: sent 0, received 1 entries (312 B) in 25 ms\n"
    "\n"
    "    --json prints {\"peer\": {...}, \"sync\": {...}}: the peer object of\n"
    "    'mm peer show' and the sync object of 'mm sync'.\n"
    "\n"
    "EXAMPLES\n"
    "    mm accept mmv1... --name grace\n"
    "    mm accept - --name grace < code.txt\n"
    "\n"
    "EXIT STATUS\n"
    "    0  accepted and synced\n"
    "    1  the code is damaged, expired, already used or unknown to the\n"
    "       inviter; the inviter cannot be reached; the name is taken; or\n"
    "       the first sync failed (the peer is stored: run 'mm sync')\n"
    "    2  the command line is wrong (no CODE, no --name, an invalid name)\n";

#define EXPIRES_DEFAULT_MS (24ull * 3600 * 1000)
#define EXPIRES_MAX_MS     (365ull * 86400 * 1000)

/* --- invite -------------------------------------------------------------- */

/* The endpoints to put into the code: --endpoint, else mm serve's. */
static int invite_endpoints(cli_t *cli, char eps[][MM_ENDPOINT_MAX + 1],
                            unsigned *n)
{
    unsigned given = cli->optn[CLI_OPT_ENDPOINT];
    int rc;

    *n = 0;
    if (given > MM_PEER_ENDPOINTS)
        return cli_usage(cli, "give at most %d --endpoint addresses",
                         MM_PEER_ENDPOINTS);
    for (unsigned i = 0; i < given; i++) {
        const char *ep = cli->optv[CLI_OPT_ENDPOINT][i];
        if (!mm_endpoint_valid(ep))
            return cli_usage(cli, "--endpoint '%s' is not an address like "
                             "tcp://HOST:PORT", ep);
        snprintf(eps[i], MM_ENDPOINT_MAX + 1, "%s", ep);
    }
    if ((*n = given) > 0)
        return CLI_EXIT_OK;
    rc = mm_serve_endpoints(mm_home_path(cli->home), eps, MM_PEER_ENDPOINTS, n);
    if (rc == MM_ENOTFOUND)
        return cli_fail(cli, "no mm serve is running for this home; start one "
                        "with 'mm serve --listen tcp://0.0.0.0:%d &', or give "
                        "--endpoint tcp://HOST:PORT", MM_DEFAULT_PORT);
    if (rc != MM_OK)
        return cli_fail_rc(cli, rc, "cannot read the addresses of mm serve");
    return CLI_EXIT_OK;
}

int cmd_invite(cli_t *cli, int argc, char **argv)
{
    const char *note = cli->opt[CLI_OPT_NOTE] ? cli->opt[CLI_OPT_NOTE] : "";
    const char *role = cli->opt[CLI_OPT_ROLE] ? cli->opt[CLI_OPT_ROLE] : "mentor";
    const char *dur = cli->opt[CLI_OPT_EXPIRES];
    char text[MM_INVITE_CODE_MAX], when[CLI_TIME_MAX];
    uint8_t secret[32], sk[32];
    mm_invite_code_t code;
    mm_invite_t inv;
    mm_txn_t *txn = NULL;
    uint64_t ttl = EXPIRES_DEFAULT_MS, now;
    int ex, rc;
    json_t j;

    memset(&code, 0, sizeof code);
    memset(&inv, 0, sizeof inv);
    if (argc > 0)
        return cli_usage(cli, "unexpected argument '%s'", argv[0]);
    if (strlen(note) > MM_INVITE_NOTE_MAX)
        return cli_usage(cli, "--note is %zu bytes long; the limit is %d",
                         strlen(note), MM_INVITE_NOTE_MAX);
    if (!mm_utf8_valid(note, strlen(note)))
        return cli_usage(cli, "--note is not valid UTF-8");
    if (strcasecmp(role, "mentor") != 0 && strcasecmp(role, "mentee") != 0)
        return cli_usage(cli, "--role must be 'mentor' (you mentor them) or "
                         "'mentee' (they mentor you), not '%s'", role);
    /* cppcheck-suppress redundantInitialization ; without --expires ttl keeps it */
    if (dur && (ttl = cli_duration_ms(dur, EXPIRES_MAX_MS)) == 0)
        return cli_usage(cli, "--expires '%s' is not a duration like 30m, 24h "
                         "or 7d (at most 365d)", dur);
    if ((ex = invite_endpoints(cli, code.endpoints, &code.nendpoints))
        != CLI_EXIT_OK)
        return ex;
    ex = CLI_EXIT_FAIL;

    now = mm_now_ms();
    mm_random_bytes(secret, sizeof secret);
    mm_invite_keys(secret, inv.key, sk);
    sodium_memzero(sk, sizeof sk);      /* the invitee's half, not ours */
    inv.created = now;
    inv.expires = now + ttl;
    inv.role = strcasecmp(role, "mentor") == 0 ? MM_ROLE_MENTOR : MM_ROLE_MENTEE;
    snprintf(inv.note, sizeof inv.note, "%s", note);
    inv.used = 0;

    memcpy(code.identity, mm_home_identity_pk(cli->home), 32);
    memcpy(code.device, mm_keypair_pk(mm_home_device(cli->home)), 32);
    memcpy(code.secret, secret, 32);
    code.expires = inv.expires;
    /* The code first: a record is stored only for a code that exists. */
    if ((rc = mm_invite_code_encode(&code, text, sizeof text)) != MM_OK) {
        cli_fail_rc(cli, rc, "cannot make the invite code");
        goto out;
    }
    if ((rc = mm_store_begin(mm_home_store(cli->home), 1, &txn)) != MM_OK ||
        (rc = mm_invite_put(txn, &inv)) != MM_OK ||
        (rc = mm_txn_commit(&txn)) != MM_OK) {
        cli_fail_rc(cli, rc, "cannot store the invite");
        goto out;
    }
    if (!cli->json) {
        printf("%s\n", text);
    } else {
        cli_time_iso(when, inv.expires);
        json_init(&j, stdout);
        json_obj_begin(&j, NULL);
        json_str(&j, "code", text);
        json_str(&j, "expires", when);
        json_uint(&j, "expires_ms", inv.expires);
        json_arr_begin(&j, "endpoints");
        for (unsigned i = 0; i < code.nendpoints; i++)
            json_str(&j, NULL, code.endpoints[i]);
        json_arr_end(&j);
        json_str(&j, "role", inv.role == MM_ROLE_MENTOR ? "mentor" : "mentee");
        json_obj_end(&j);
        json_finish(&j);
    }
    ex = CLI_EXIT_OK;
out:
    mm_txn_abort(&txn);
    sodium_memzero(secret, sizeof secret);
    sodium_memzero(&code, sizeof code);
    sodium_memzero(text, sizeof text);
    return ex;
}

/* --- accept -------------------------------------------------------------- */

/* The code from argv or stdin into out, trimmed and in lower case (the
 * code is lowercase base32).  Exit code; prints errors. */
static int read_code(cli_t *cli, char *arg, char out[MM_INVITE_CODE_MAX + 1])
{
    char *buf = NULL, *s = arg;
    size_t len = 0, n;
    int r, ex = CLI_EXIT_OK;

    if (strcmp(arg, "-") == 0) {
        cli_stdin_prompt(cli, "invite code");
        r = cli_read_stdin(&buf, &len, MM_INVITE_CODE_MAX + 64);
        if (r < 0)
            return cli_fail(cli, "cannot read the code from stdin: %s; check "
                            "what is piped in", strerror(errno));
        if (r > 0)
            return cli_fail(cli, "stdin holds more than an invite code; give "
                            "the code alone");
        s = buf;
    }
    while (isspace((unsigned char) *s))
        s++;
    n = strlen(s);
    while (n > 0 && isspace((unsigned char) s[n - 1]))
        n--;
    if (n > MM_INVITE_CODE_MAX) {
        ex = cli_fail(cli, "this is not an invite code: it is too long; copy "
                      "the code alone");
        n = 0;
    }
    for (size_t i = 0; i < n; i++)
        out[i] = (char) tolower((unsigned char) s[i]);
    out[n] = '\0';
    if (buf) {
        sodium_memzero(buf, len);
        free(buf);
    }
    /* Keep the secret out of the process list from here on. */
    sodium_memzero(arg, strlen(arg));
    return ex;
}

static int decode_error(cli_t *cli, int rc, const char *text)
{
    cli_set_code(rc);
    switch (rc) {
    case MM_ECHECKSUM:
        return cli_fail(cli, "this invite code is damaged (a character is "
                        "wrong, missing or extra); copy the whole code again, "
                        "or ask for a new one");
    case MM_EINVAL:
        if (strncmp(text, MM_INVITE_PREFIX, strlen(MM_INVITE_PREFIX)) == 0)
            return cli_fail(cli, "this is not an invite code, or a damaged one "
                            "(wrong characters or length); copy the whole code "
                            "again, or ask for a new one");
        return cli_fail(cli, "this is not an invite code; invite codes start "
                        "with '%s' (the inviter gets one from 'mm invite')",
                        MM_INVITE_PREFIX);
    case MM_EVERSION:
        return cli_fail(cli, "this invite code was made by a newer mm; "
                        "upgrade mm");
    default:
        return cli_fail(cli, "this invite code is damaged or malformed (%s); "
                        "ask for a new one", mm_strerror(rc));
    }
}

/* A failed mm_net_accept, in words that say what to do. */
static int accept_error(cli_t *cli, int rc, const char *why,
                        const mm_invite_code_t *code)
{
    cli_set_code(rc);
    switch (rc) {
    case MM_EINVAL:
        if (code->expires < mm_now_ms())
            return cli_fail(cli, "this invite has expired; ask the inviter "
                            "for a new one");
        if (memcmp(code->identity, mm_home_identity_pk(cli->home), 32) == 0)
            return cli_fail(cli, "this is your own invite; give it to the "
                            "person you want to invite");
        return cli_fail(cli, "%s; check the arguments", why);
    case MM_EEXIST:
        return cli_fail(cli, "%s; choose another --name", why);
    case MM_EREFUSED:
        return cli_fail(cli, "%s; ask the inviter for a new invite", why);
    case MM_ETIMEOUT:
        return cli_fail(cli, "%s; ask the inviter to start 'mm serve', or give "
                        "a longer --timeout", why);
    case MM_EPROTO:
    case MM_EBADCERT:
        /* The CURVE handshake proves the device: a failed one means the
         * mm serve at that address is not the inviter's. */
        return cli_fail(cli, "the mm serve at the invite's address does not "
                        "know this invite: it is not the inviter's device "
                        "(%s); ask the inviter for a new invite", why);
    default:
        return cli_fail(cli, "%s; %s", why, cli_hint(rc));
    }
}

/* Already peers with the inviter?  Then say so, not "name taken". */
static int check_not_peer(cli_t *cli, const mm_invite_code_t *code)
{
    char name[CLI_NAME_SAFE], arg[CLI_NAME_SAFE];
    mm_txn_t *txn = NULL;
    mm_peer_t p;
    int rc;

    rc = mm_store_begin(mm_home_store(cli->home), 0, &txn);
    if (rc != MM_OK)
        return cli_fail_rc(cli, rc, "cannot read the peers");
    rc = mm_peer_get(txn, code->identity, &p);
    mm_txn_abort(&txn);
    if (rc == MM_ENOTFOUND)
        return CLI_EXIT_OK;
    if (rc != MM_OK)
        return cli_fail_rc(cli, rc, "cannot read the peers");
    cmd_peer_name(name, p.petname);
    cmd_peer_arg(arg, &p);
    return cli_fail(cli, "you are already peers with '%s', so this invite is "
                    "not needed (or already used by you); see 'mm peer show "
                    "%s'", name, arg);
}

/* Read p again from the store; on failure keep it as it is. */
static void reload_peer(cli_t *cli, mm_peer_t *p)
{
    mm_txn_t *txn = NULL;
    mm_peer_t cur;

    if (mm_store_begin(mm_home_store(cli->home), 0, &txn) != MM_OK)
        return;
    if (mm_peer_get(txn, p->identity, &cur) == MM_OK)
        *p = cur;
    mm_txn_abort(&txn);
}

int cmd_accept(cli_t *cli, int argc, char **argv)
{
    const char *petname = cli->opt[CLI_OPT_NAME];
    char text[MM_INVITE_CODE_MAX + 1], why[512], name[CLI_NAME_SAFE],
         theirs[CLI_NAME_SAFE];
    cmd_sync_result_t res;
    mm_invite_code_t code;
    mm_peer_t peer;
    int ex, rc, timeout_ms;
    json_t j;

    memset(&code, 0, sizeof code);
    if (argc != 1)
        return cli_usage(cli, argc ? "give one invite CODE"
                                   : "missing the invite CODE");
    if (!petname)
        return cli_usage(cli, "missing --name PETNAME, what you will call "
                         "the inviter");
    if (strncasecmp(petname, "mmi", 3) == 0)
        return cli_usage(cli, "'%s' cannot be a peer name: names starting "
                         "with 'mmi' stand for identity codes", petname);
    if (!mm_peer_name_valid(petname))
        return cli_usage(cli, "'%s' cannot be a peer name: give 1 to %d bytes "
                         "of UTF-8 without control characters", petname,
                         MM_PETNAME_MAX);
    if ((ex = cmd_sync_timeout(cli, &timeout_ms)) != CLI_EXIT_OK)
        return ex;
    if ((ex = read_code(cli, argv[0], text)) != CLI_EXIT_OK)
        goto out;
    ex = CLI_EXIT_FAIL;
    if ((rc = mm_invite_code_decode(text, &code)) != MM_OK) {
        decode_error(cli, rc, text);
        goto out;
    }
    if ((ex = check_not_peer(cli, &code)) != CLI_EXIT_OK)
        goto out;
    ex = CLI_EXIT_FAIL;
    why[0] = '\0';
    rc = mm_net_accept(cli->home, &code, petname, timeout_ms, &peer, why,
                       sizeof why);
    if (rc != MM_OK) {
        accept_error(cli, rc, *why ? why : mm_strerror(rc), &code);
        goto out;
    }
    cmd_peer_name(name, peer.petname);
    cmd_peer_name(theirs, peer.name);
    if (!cli->json) {
        printf("accepted: '%s' (%s) is now your %s\n", name, theirs,
               cmd_peer_role(peer.role));
        fflush(stdout);
    }
    /* The first sync brings the invite's note. */
    if (cmd_sync_peer(cli, &peer, timeout_ms, &res) == MM_OK) {
        ex = CLI_EXIT_OK;
        if (!cli->json)
            cmd_sync_print(cli, &res);
    } else {
        cli_error(cli, "accepted '%s', but the first sync failed: %s; run "
                  "'mm sync %s' to try again", name, res.error, res.arg);
    }
    if (cli->json) {
        reload_peer(cli, &peer);        /* with the sync's last_sync */
        json_init(&j, stdout);
        json_obj_begin(&j, NULL);
        cmd_peer_json(&j, "peer", &peer);
        cmd_sync_json(cli, &j, "sync", &res);
        json_obj_end(&j);
        json_finish(&j);
    }
    cmd_sync_result_free(&res);
out:
    sodium_memzero(&code, sizeof code);
    sodium_memzero(text, sizeof text);
    return ex;
}
