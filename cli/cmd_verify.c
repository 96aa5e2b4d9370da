/*  cmd_verify.c -- mm verify: re-check the whole store from scratch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/json.h"
#include "cli/util.h"
#include "core/log.h"
#include "core/store.h"
#include "core/view.h"
#include "crypto/error.h"

const char cmd_verify_help[] =
    "re-check every signature, hash chain and encoding\n"
    "\n"
    "DESCRIPTION\n"
    "    Reads every entry in the store again and runs it through the same\n"
    "    verifier that admitted it: canonical encoding, device certificate,\n"
    "    scope membership, sequence numbers and hash links, signature, and\n"
    "    decryption of the body.  The id and feed-head indexes and the views\n"
    "    index (what status, inbox and thread read) are checked against the\n"
    "    entries, and the identity key file, if it is on this device, is\n"
    "    checked too.  Nothing is changed, unless --reindex.\n"
    "\n"
    "    Each fault is one line on stderr, 'mm verify: WHAT (MM_ECODE)',\n"
    "    followed by 'mm verify: N faults found (MM_ECODE)' with the code of\n"
    "    the first fault.  A clean store prints\n"
    "    'verified N entries: all signatures, hash chains and encodings are\n"
    "    valid'.\n"
    "\n"
    "    --json prints {\"ok\": true|false, \"entries\": N, \"faults\":\n"
    "    [{\"code\": \"MM_EBADSIG\", \"message\": \"...\"}]}; the exit status is\n"
    "    the same as without it.\n"
    "\n"
    "OPTIONS\n"
    "    --reindex\n"
    "        First rebuild the views index from the entries (it is derived\n"
    "        data: nothing is lost), then check as above.\n"
    "\n"
    "EXAMPLES\n"
    "    mm verify\n"
    "    mm verify --reindex\n"
    "    mm verify --json\n"
    "\n"
    "EXIT STATUS\n"
    "    0  the store is intact\n"
    "    1  faults were found, or the store cannot be read\n"
    "    2  the command line is wrong\n";

typedef struct {
    int   rc;
    char *what;
} fault_t;

typedef struct {
    cli_t   *cli;
    size_t   n;                 /* faults found */
    int      first;             /* code of the first fault */
    size_t   kept, cap;
    fault_t *v;                 /* kept for --json only */
    int      oom;
} faults_t;

static void on_fault(int rc, const char *what, void *arg)
{
    faults_t *f = arg;
    fault_t *v;

    f->n++;
    if (!f->first)
        f->first = rc;
    if (!f->cli->json) {
        fprintf(stderr, "mm verify: %s (%s)\n", what ? what : mm_strerror(rc),
                mm_errname(rc));
        return;
    }
    if (f->oom)
        return;
    if (f->kept == f->cap) {
        size_t cap = f->cap ? 2 * f->cap : 16;
        if (!(v = realloc(f->v, cap * sizeof *v))) {
            f->oom = 1;
            return;
        }
        f->v = v;
        f->cap = cap;
    }
    f->v[f->kept].rc = rc;
    f->v[f->kept].what = strdup(what ? what : mm_strerror(rc));
    if (!f->v[f->kept++].what)
        f->oom = 1;
}

/* The identity key is what certifies new devices: a damaged one is a fault
 * even though no entry is signed with it.  One kept offline is not. */
static void check_identity_key(cli_t *cli, faults_t *f)
{
    char line[MM_PATH_MAX + 128];
    mm_keypair_t *kp = NULL;
    int rc = mm_home_identity_key(cli->home, &kp);
    mm_keypair_destroy(&kp);
    if (rc == MM_OK || rc == MM_ENOTFOUND)
        return;
    snprintf(line, sizeof line, "identity key %s/identity.key: %s", mm_home_path(cli->home),
             mm_strerror(rc));
    on_fault(rc, line, f);
}

/* mm verify --reindex: the views index rebuilt from the log, in one
 * write transaction.  Exit code; prints errors. */
static int reindex(cli_t *cli)
{
    mm_txn_t *txn = NULL;
    uint64_t rows = 0;
    int rc = mm_store_begin(mm_home_store(cli->home), 1, &txn);
    if (rc == MM_OK && (rc = mm_view_rebuild(txn, &rows)) == MM_OK)
        rc = mm_txn_commit(&txn);
    mm_txn_abort(&txn);
    if (rc != MM_OK)
        return cli_fail_rc(cli, rc, "cannot rebuild the views index");
    if (!cli->json)
        printf("rebuilt the views index: %llu entr%s\n", (unsigned long long) rows,
               rows == 1 ? "y" : "ies");
    return CLI_EXIT_OK;
}

int cmd_verify(cli_t *cli, int argc, char **argv)
{
    faults_t f = { .cli = cli };
    uint64_t entries = 0;
    mm_txn_t *txn = NULL;
    int ex = CLI_EXIT_FAIL, rc;
    json_t j;

    if (argc > 0)
        return cli_usage(cli, "unexpected argument '%s'", argv[0]);
    if (cli->opt[CLI_OPT_REINDEX] && (ex = reindex(cli)) != CLI_EXIT_OK)
        return ex;
    ex = CLI_EXIT_FAIL;
    rc = mm_store_begin(mm_home_store(cli->home), 0, &txn);
    if (rc != MM_OK)
        return cli_fail_rc(cli, rc, "cannot read the store");
    rc = mm_log_check(txn, on_fault, &f, &entries);
    /* the views index against the entries, in the same snapshot */
    int vrc = mm_view_check(txn, on_fault, &f, NULL);
    if (rc == MM_OK && vrc != MM_ECORRUPT)
        rc = vrc;
    mm_txn_abort(&txn);
    check_identity_key(cli, &f);

    if (f.oom) {
        cli_fail_rc(cli, MM_ENOMEM, "cannot list the faults");
        goto out;
    }
    if (rc != MM_OK && f.n == 0) {
        /* The check itself failed (I/O, memory), not an entry. */
        cli_fail_rc(cli, rc, "cannot check the store");
        goto out;
    }
    ex = f.n ? CLI_EXIT_FAIL : CLI_EXIT_OK;
    if (cli->json) {
        json_init(&j, stdout);
        json_obj_begin(&j, NULL);
        json_bool(&j, "ok", f.n == 0);
        json_uint(&j, "entries", entries);
        json_arr_begin(&j, "faults");
        for (size_t i = 0; i < f.kept; i++) {
            json_obj_begin(&j, NULL);
            json_str(&j, "code", mm_errname(f.v[i].rc));
            json_str(&j, "message", f.v[i].what);
            json_obj_end(&j);
        }
        json_arr_end(&j);
        json_obj_end(&j);
        json_finish(&j);
    } else if (f.n) {
        /* The code of the first fault, as every line ends with one. */
        fprintf(stderr, "mm verify: %zu fault%s found (%s)\n", f.n,
                f.n == 1 ? "" : "s", mm_errname(f.first));
    } else {
        printf("verified %llu entr%s: all signatures, hash chains and "
               "encodings are valid\n", (unsigned long long) entries,
               entries == 1 ? "y" : "ies");
    }
out:
    for (size_t i = 0; i < f.kept; i++)
        free(f.v[i].what);
    free(f.v);
    return ex;
}
