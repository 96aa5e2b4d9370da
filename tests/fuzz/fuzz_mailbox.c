/*  fuzz_mailbox.c -- libFuzzer harness: a mailbox's session engine
 *  (PROTOCOL.md 14), fed frames in memory as a hostile device would send
 *  them.
 *
 *  The mailbox's home is built once per process: linked to Grace, told
 *  of her relationship scope with Ada (a blind record), holding Ada's and
 *  Grace's laptop's certificates, quota 4096 bytes per person.  Each input
 *  is one server session of the mailbox (it never connects) fed frame after
 *  frame, as mm serve does: the session ends at its first error or once it
 *  is done.  Every frame the engine sends must decode and it never has more
 *  than MM_CREDIT_INITIAL ENTRIES frames unacknowledged; whatever the input,
 *  no person is charged past the quota, the mailbox stays linked and
 *  holds no key (its scope records stay blind).  The store is put back
 *  after an input that wrote to it (fz_home_reset).
 *
 *  Input: byte 0, then frames ([u16 BE length][frame]...).
 *    bit 0     first feed the remote's own valid HELLO
 *    bits 2-3  the remote: 0 Grace's laptop (the owner), 1 Ada (a member),
 *              2 Carl (a stranger), 3 another mailbox of Grace's
 *  Seeds in corpus/mailbox: `replay_mailbox --write-seeds DIR`.
 */
#include "tests/fuzz/fuzz.h"
#include "core/cert.h"
#include "core/entry.h"
#include "core/home.h"
#include "core/log.h"
#include "core/mailbox.h"
#include "net/session.h"
#include "net/wire.h"

#define INJECT_HELLO 0x1u
#define REMOTE(r)    ((unsigned) (r) << 2)
#define QUOTA        4096
enum { GRACE, ADA, CARL, BOX2, NREMOTES };

typedef struct {
    const char *name;
    mm_keypair_t *id, *dev;
    uint8_t  x[32];
    uint8_t  cert[MM_CERT_MAX];
    size_t   certlen;
    uint8_t  hello[1024];
    size_t   hellolen;
} remote_t;

static remote_t remotes[NREMOTES];
static fz_home_t fh;                /* the mailbox's home */
static mm_scope_t pair_scope;       /* with its key: for the seeds' entries */
static mm_msg_t *sent, *got;
static int inflight;

static void close_home(void)
{
    mm_home_close(&fh.home);
    free(sent);
    free(got);
}

static int check_send(void *arg, const void *buf, size_t len)
{
    (void) arg;
    FZ_OK(mm_wire_decode(buf, len, sent));
    if (sent->type == MM_MSG_ENTRIES)
        FZ_ASSERT(++inflight <= MM_CREDIT_INITIAL);
    return MM_OK;
}

static int blind_only(const mm_scope_t *s, void *arg)
{
    (void) arg;
    FZ_ASSERT(s->kind == MM_SCOPE_BLIND && s->nkeys == 0);
    return 0;
}

static void check_home(void)
{
    mm_txn_t *txn;
    uint64_t used;
    FZ_ASSERT(!mm_mailbox_unlinked(fh.home));
    FZ_OK(mm_store_begin(mm_home_store(fh.home), 0, &txn));
    for (int i = 0; i < NREMOTES; i++) {
        FZ_OK(mm_mailbox_usage(txn, mm_keypair_pk(remotes[i].id), &used));
        FZ_ASSERT(used <= QUOTA);
    }
    FZ_OK(mm_scope_foreach(txn, blind_only, NULL));
    mm_txn_abort(&txn);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const struct { uint8_t id, dev; const char *name, *devname; unsigned flags; } who[] = {
        [GRACE] = { FZ_GRACE_ID, FZ_GRACE_DEV, "Grace", "laptop", 0 },
        [ADA] = { FZ_ADA_ID, FZ_ADA_DEV, "Ada", "phone", 0 },
        [CARL] = { FZ_CARL_ID, FZ_CARL_DEV, "Carl", "desk", 0 },
        [BOX2] = { FZ_GRACE_ID, 0x15, "Grace", "box2", MM_CERT_MAILBOX },
    };
    char eps[1][MM_ENDPOINT_MAX + 1] = { "tcp://127.0.0.1:7462" };
    char *listen[1] = { eps[0] };
    char why[256];
    uint8_t pk[32], sk[32], devsig[64], cert[MM_CERT_MAX];
    size_t certlen;
    mm_mailbox_code_t c;
    mm_txn_t *txn;
    mm_mp_writer_t w;
    (void) argc;
    (void) argv;

    FZ_OK(mm_crypto_init());
    FZ_ASSERT((sent = malloc(sizeof *sent)) && (got = malloc(sizeof *got)));
    for (int i = 0; i < NREMOTES; i++) {
        remote_t *r = &remotes[i];
        r->name = who[i].name;
        r->id = fz_keypair(who[i].id);
        r->dev = fz_keypair(who[i].dev);
        FZ_OK(mm_pk_to_x25519(r->x, mm_keypair_pk(r->dev)));
        FZ_OK(mm_cert_make(r->id, r->dev, FZ_TIME, who[i].devname, who[i].flags, r->cert,
                           sizeof r->cert, &r->certlen));
        mm_mp_writer_init(&w, r->hello, sizeof r->hello);
        mm_wire_hello(&w, r->cert, r->certlen, r->name);
        FZ_OK(mm_mp_writer_status(&w));
        r->hellolen = w.len;
    }
    snprintf(fh.path, sizeof fh.path, "%s/box", fz_tmpdir());
    FZ_OK(mm_home_init_mailbox(fh.path, listen, 1, QUOTA));
    FZ_OK(mm_home_open(fh.path, &fh.home));
    /* linked to Grace, as the link exchange leaves it (14.3) */
    FZ_OK(mm_mailbox_code_new(fh.home, FZ_TIME, 60000, eps, 1, &c));
    mm_mailbox_link_keys(c.secret, pk, sk);
    FZ_OK(mm_mailbox_consent(fh.home, pk, mm_keypair_pk(remotes[GRACE].id), FZ_TIME, devsig, why,
                             sizeof why));
    FZ_OK(mm_mailbox_certify(remotes[GRACE].id, mm_keypair_pk(mm_home_device(fh.home)), devsig,
                             "box", FZ_TIME, cert, &certlen));
    FZ_OK(mm_mailbox_accept_cert(fh.home, pk, mm_keypair_pk(remotes[GRACE].id), cert, certlen,
                                 "Grace", FZ_TIME, why, sizeof why));
    /* told of the scope of Grace and Ada; it knows their devices */
    fz_pair_scope(&pair_scope, mm_keypair_pk(remotes[GRACE].id), mm_keypair_pk(remotes[ADA].id));
    uint8_t ids[1][32], members[1][2][32];
    unsigned nm[1] = { 2 };
    memcpy(ids[0], pair_scope.id, 32);
    memcpy(members[0], pair_scope.members, sizeof members[0]);
    mm_mailbox_told_t t = { 1, ids, nm, members, 0, NULL };
    FZ_OK(mm_store_begin(mm_home_store(fh.home), 1, &txn));
    FZ_OK(mm_mailbox_learn(txn, mm_keypair_pk(remotes[GRACE].id), &t, FZ_TIME));
    FZ_OK(mm_cert_put(txn, remotes[GRACE].cert, remotes[GRACE].certlen, NULL));
    FZ_OK(mm_cert_put(txn, remotes[ADA].cert, remotes[ADA].certlen, NULL));
    FZ_OK(mm_txn_commit(&txn));
    fz_home_keep(&fh);
    atexit(close_home);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mm_session_t *s;
    const uint8_t *f;
    size_t flen;
    if (size < 1)
        return 0;
    unsigned mode = data[0];
    const remote_t *r = &remotes[mode >> 2 & 3];
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    int rc = MM_OK;

    inflight = 0;
    FZ_OK(mm_session_new(fh.home, 0, r->x, NULL, check_send, NULL, &s));
    if (mode & INJECT_HELLO)
        rc = mm_session_input(s, r->hello, r->hellolen);
    while (rc == MM_OK && !mm_session_done(s) && fz_next_frame(&p, &n, &f, &flen)) {
        if (mm_wire_decode(f, flen, got) == MM_OK && got->type == MM_MSG_ACK)
            inflight -= (int) got->u.ack.frames;
        rc = mm_session_input(s, f, flen);
        if (fz_verbose())
            fprintf(stderr, "mailbox: frame of %zu bytes: %s%s%s\n", flen, mm_errname(rc),
                    *mm_session_error_text(s) ? ": " : "", mm_session_error_text(s));
    }
    mm_session_destroy(&s);
    check_home();
    fz_home_reset(&fh);
    return 0;
}

/* ---- seeds ---- */

static fz_buf_t seedbuf;
static uint8_t wbuf[16384];

static mm_mp_writer_t *start(uint8_t mode)
{
    static mm_mp_writer_t w;
    seedbuf.len = 0;
    fz_buf_byte(&seedbuf, mode);
    mm_mp_writer_init(&w, wbuf, sizeof wbuf);
    return &w;
}

static void next(mm_mp_writer_t *w)
{
    fz_buf_writer(&seedbuf, w);
    mm_mp_writer_init(w, wbuf, sizeof wbuf);
}

static void have_empty(mm_mp_writer_t *w)
{
    mm_wire_have_begin(w, 1, 0);
    mm_wire_have_end(w, NULL, 0);
    next(w);
}

static void entries(mm_mp_writer_t *w, const uint8_t *const *e, const size_t *len, uint32_t n)
{
    mm_wire_entries_begin(w, n);
    for (uint32_t i = 0; i < n; i++)
        mm_wire_entries_add(w, e[i], len[i]);
    next(w);
}

static void scopes(mm_mp_writer_t *w)
{
    uint8_t ids[1][32], members[1][2][32], blocked[1][32];
    unsigned nm[1] = { 2 };
    memcpy(ids[0], pair_scope.id, 32);
    memcpy(members[0], pair_scope.members, sizeof members[0]);
    memcpy(blocked[0], mm_keypair_pk(remotes[CARL].id), 32);
    mm_mailbox_told_t t = { 1, ids, nm, members, 1, blocked };
    mm_wire_scopes(w, &t);
    next(w);
}

void fz_seeds(const char *dir)
{
    uint8_t g1[512], a[16][512];
    const uint8_t *run[16];
    size_t glen, lens[16];
    mm_head_t gh = { 0 }, ah = { 0 };
    mm_mp_writer_t *w;

    glen = fz_seal(remotes[GRACE].dev, &pair_scope, &gh, 0x61, "Happy to help", g1, sizeof g1);
    for (int i = 0; i < 16; i++) {
        lens[i] = fz_seal(remotes[ADA].dev, &pair_scope, &ah, (uint8_t) (0x70 + i),
                          "How did you choose your first lead role? A long question, to fill "
                          "the quota of a small mailbox within a few entries of one run.",
                          a[i], sizeof a[i]);
        run[i] = a[i];
    }
    const uint8_t *grun[1] = { g1 };

    /* the owner: SCOPES, then its entry, then done */
    w = start(INJECT_HELLO | REMOTE(GRACE));
    scopes(w);
    have_empty(w);
    entries(w, grun, &glen, 1);
    mm_wire_done(w);
    next(w);
    fz_seed_buf(dir, "owner-scopes-entries", &seedbuf);

    /* a member: a run that fits, then one past the quota */
    w = start(INJECT_HELLO | REMOTE(ADA));
    have_empty(w);
    entries(w, run, lens, 2);
    entries(w, run + 2, lens + 2, 14);
    mm_wire_done(w);
    next(w);
    fz_seed_buf(dir, "member-quota", &seedbuf);

    /* a member may not say SCOPES */
    w = start(INJECT_HELLO | REMOTE(ADA));
    scopes(w);
    fz_seed_buf(dir, "member-scopes", &seedbuf);

    /* a stranger, and another mailbox */
    w = start(INJECT_HELLO | REMOTE(CARL));
    have_empty(w);
    fz_seed_buf(dir, "stranger", &seedbuf);
    w = start(INJECT_HELLO | REMOTE(BOX2));
    have_empty(w);
    fz_seed_buf(dir, "other-mailbox", &seedbuf);
}
