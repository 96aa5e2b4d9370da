/*  fuzz_session.c -- libFuzzer harness: the sync session engine, fed
 *  frames in memory as a hostile device would send them.
 *
 *  Grace's home is built once per process in a temporary directory: Ada is
 *  her peer (pair scope, Ada's certificate), Dave a blocked peer, Carl's
 *  certificate and her own other device's are known, and Grace's feeds
 *  hold an entry in the pair scope and one in her self scope.  Each input
 *  is one session of Grace's (mm_session_new over the remote's CURVE key)
 *  fed frame after frame through mm_session_input.  As in mm serve and mm
 *  sync, the session ends at its first error or once it is done.  Every
 *  frame the engine sends must decode, and it never has more than
 *  MM_CREDIT_INITIAL ENTRIES frames unacknowledged.  An input that wrote
 *  to the store (entries) is followed by putting the store back as it was
 *  built (fz_home_reset), so every input meets the same home and a finding
 *  replays alone.
 *
 *  Input: byte 0, then frames ([u16 BE length][frame]...).
 *    bit 0     first feed the remote's own valid HELLO (so mutations
 *              start past the handshake)
 *    bit 1     Grace's side is the client (she called; she sends HELLO
 *              and HAVE first), else the server
 *    bits 2-3  the remote: 0 Ada, 1 Dave (blocked), 2 Carl (a stranger),
 *              3 Grace's own second device
 *  Seeds in corpus/session: `replay_session --write-seeds DIR`.
 */
#include "tests/fuzz/fuzz.h"
#include "core/cert.h"
#include "core/entry.h"
#include "core/home.h"
#include "core/log.h"
#include "core/peer.h"
#include "net/session.h"
#include "net/wire.h"

#define INJECT_HELLO 0x1u
#define CLIENT       0x2u
#define REMOTE(r)    ((unsigned) (r) << 2)
enum { ADA, DAVE, CARL, GRACE2, NREMOTES };

typedef struct {
    uint8_t     id_tag, dev_tag;
    const char *name, *devname;
} person_t;

static const person_t people[NREMOTES] = {
    [ADA] = { FZ_ADA_ID, FZ_ADA_DEV, "Ada", "phone" },
    [DAVE] = { 0x51, 0x52, "Dave", "tablet" },
    [CARL] = { FZ_CARL_ID, FZ_CARL_DEV, "Carl", "desk" },
    [GRACE2] = { FZ_GRACE_ID, 0x13, "Grace", "phone" },
};

typedef struct {
    const char *name;
    mm_keypair_t *id, *dev;
    uint8_t  x[32];                 /* the CURVE key it connects with */
    uint8_t  cert[MM_CERT_MAX];
    size_t   certlen;
    uint8_t  hello[1024];
    size_t   hellolen;
} remote_t;

static remote_t remotes[NREMOTES];

static fz_home_t fh;                /* Grace's home */
static mm_keypair_t *grace_id;
static mm_scope_t pair_scope;
static mm_head_t grace_pair_head;
static mm_msg_t *sent, *got;        /* ~64 KiB each: not on the stack */
static int inflight;                /* ENTRIES frames sent, not yet ACKed */

/* At exit, before the directory goes (atexit runs in reverse order). */
static void close_home(void)
{
    mm_home_close(&fh.home);
    free(sent);
    free(got);
}

static int check_send(void *arg, const void *buf, size_t len)
{
    FZ_OK(mm_wire_decode(buf, len, sent));      /* the engine sends well-formed frames */
    if (sent->type == MM_MSG_ENTRIES)
        FZ_ASSERT(++inflight <= MM_CREDIT_INITIAL);
    return MM_OK;
}

static void check_event(void *arg, mm_session_event_t ev, const void *what)
{
    if (ev == MM_SESSION_STORED) {
        const mm_session_stored_t *st = what;
        FZ_ASSERT(st->first <= st->last && st->n >= 1 && st->n <= st->last - st->first + 1);
    } else {
        FZ_ASSERT(ev == MM_SESSION_IDLE && !what);
    }
}

static void peer(mm_txn_t *txn, const remote_t *r, const char *petname, int blocked)
{
    mm_peer_t p;
    memset(&p, 0, sizeof p);
    memcpy(p.identity, mm_keypair_pk(r->id), 32);
    snprintf(p.petname, sizeof p.petname, "%s", petname);
    snprintf(p.name, sizeof p.name, "%s", r->name);
    p.role = MM_ROLE_MENTEE;
    memcpy(p.scope, pair_scope.id, 32);
    memcpy(p.device, mm_keypair_pk(r->dev), 32);
    p.blocked = blocked;
    p.added = FZ_TIME;
    FZ_OK(mm_cert_put(txn, r->cert, r->certlen, NULL));
    FZ_OK(mm_peer_put(txn, &p));
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    uint8_t buf[512], body[64];
    size_t len;
    mm_txn_t *txn;
    mm_mp_writer_t w;

    FZ_OK(mm_crypto_init());
    FZ_ASSERT((sent = malloc(sizeof *sent)) && (got = malloc(sizeof *got)));
    for (int i = 0; i < NREMOTES; i++) {
        remote_t *r = &remotes[i];
        r->name = people[i].name;
        r->id = fz_keypair(people[i].id_tag);
        r->dev = fz_keypair(people[i].dev_tag);
        FZ_OK(mm_pk_to_x25519(r->x, mm_keypair_pk(r->dev)));
        r->certlen = fz_cert(r->id, r->dev, people[i].devname, r->cert);
        mm_mp_writer_init(&w, r->hello, sizeof r->hello);
        mm_wire_hello(&w, r->cert, r->certlen, r->name);
        FZ_OK(mm_mp_writer_status(&w));
        r->hellolen = w.len;
    }
    grace_id = fz_keypair(FZ_GRACE_ID);
    mm_keypair_t *grace_dev = fz_keypair(FZ_GRACE_DEV);
    snprintf(fh.path, sizeof fh.path, "%s/grace", fz_tmpdir());
    FZ_OK(mm_home_init_keys(fh.path, "Grace", "laptop", FZ_TIME, grace_id, grace_dev));
    FZ_OK(mm_home_open(fh.path, &fh.home));

    fz_pair_scope(&pair_scope, mm_keypair_pk(grace_id), mm_keypair_pk(remotes[ADA].id));
    FZ_OK(mm_store_begin(mm_home_store(fh.home), 1, &txn));
    FZ_OK(mm_scope_put(txn, &pair_scope));
    peer(txn, &remotes[ADA], "ada", 0);
    peer(txn, &remotes[DAVE], "dave", 1);
    /* known certificates, so that their HELLOs write nothing (and cost no
     * putting back): Carl's, and that of Grace's other device */
    FZ_OK(mm_cert_put(txn, remotes[CARL].cert, remotes[CARL].certlen, NULL));
    FZ_OK(mm_cert_put(txn, remotes[GRACE2].cert, remotes[GRACE2].certlen, NULL));
    len = fz_seal(grace_dev, &pair_scope, &grace_pair_head, 0x61, "Happy to help", buf,
                  sizeof buf);
    FZ_OK(mm_log_put(txn, buf, len, NULL));
    mm_field_t f[] = { { "text", MM_F_STR, "a private note", 14, 0 } };
    FZ_OK(mm_body_build(body, sizeof body, &len, MM_T_NOTE, f, 1));
    FZ_OK(mm_log_append(txn, grace_dev, mm_home_self_scope(fh.home), FZ_TIME, body, len, NULL));
    FZ_OK(mm_txn_commit(&txn));
    mm_keypair_destroy(&grace_dev);
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
    int client = !!(mode & CLIENT), rc = MM_OK;

    inflight = 0;
    FZ_OK(mm_session_new(fh.home, client, r->x, client ? mm_keypair_pk(r->id) : NULL, check_send,
                         NULL, &s));
    mm_session_on_event(s, check_event, NULL);
    if (client)
        rc = mm_session_start(s);
    if (rc == MM_OK && (mode & INJECT_HELLO))
        rc = mm_session_input(s, r->hello, r->hellolen);
    if (fz_verbose())
        fprintf(stderr, "session: %s of %s, start: %s\n", client ? "client" : "server",
                r->name, mm_errname(rc));
    /* as mm serve and mm sync do: an error or the end of the session ends it */
    while (rc == MM_OK && !mm_session_done(s) && fz_next_frame(&p, &n, &f, &flen)) {
        /* an ACK frees credit before the engine uses it to send more */
        if (mm_wire_decode(f, flen, got) == MM_OK && got->type == MM_MSG_ACK)
            inflight -= (int) got->u.ack.frames;
        rc = mm_session_input(s, f, flen);
        if (fz_verbose())
            fprintf(stderr, "session: frame of %zu bytes: %s%s%s\n", flen, mm_errname(rc),
                    *mm_session_error_text(s) ? ": " : "", mm_session_error_text(s));
        FZ_ASSERT(rc != MM_OK || inflight >= 0);    /* it takes no ACK for frames never sent */
    }
    if (fz_verbose()) {
        const mm_sync_stats_t *st = mm_session_stats(s);
        fprintf(stderr, "session: %s; sent %llu entries, stored %llu\n",
                mm_session_done(s) ? "done" : "not done", (unsigned long long) st->entries_sent,
                (unsigned long long) st->entries_recv);
    }
    mm_session_destroy(&s);
    FZ_ASSERT(!s);
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

/* Append w's frame to the seed and start the next one. */
static void next(mm_mp_writer_t *w)
{
    fz_buf_writer(&seedbuf, w);
    mm_mp_writer_init(w, wbuf, sizeof wbuf);
}

static void have(mm_mp_writer_t *w, int last, const mm_have_t *feeds, uint32_t nfeeds,
                 const uint8_t (*refuse)[32], uint32_t nrefuse)
{
    mm_wire_have_begin(w, last, nfeeds);
    for (uint32_t i = 0; i < nfeeds; i++)
        mm_wire_have_feed(w, &feeds[i]);
    mm_wire_have_end(w, refuse, nrefuse);
    next(w);
}

static void simple(mm_mp_writer_t *w, mm_msg_type_t t)
{
    if (t == MM_MSG_ACK)
        mm_wire_ack(w, 1);
    else
        mm_wire_done(w);
    next(w);
}

static void entries(mm_mp_writer_t *w, const uint8_t *const *e, const size_t *len, uint32_t n)
{
    mm_wire_entries_begin(w, n);
    for (uint32_t i = 0; i < n; i++)
        mm_wire_entries_add(w, e[i], len[i]);
    next(w);
}

void fz_seeds(const char *dir)
{
    const remote_t *ada = &remotes[ADA];
    uint8_t a1[512], a2[512];
    const uint8_t *run[2] = { a1, a2 };
    size_t lens[2];
    mm_head_t h = { 0 };
    mm_have_t feeds[2];
    uint8_t refuse[1][32];
    mm_mp_writer_t *w;

    lens[0] = fz_seal(ada->dev, &pair_scope, &h, 0x71, "How did you choose your first lead role?",
                      a1, sizeof a1);
    lens[1] = fz_seal(ada->dev, &pair_scope, &h, 0x72, "Thank you!", a2, sizeof a2);
    memcpy(feeds[0].author, mm_keypair_pk(mm_home_device(fh.home)), 32);
    memcpy(feeds[0].scope, pair_scope.id, 32);
    feeds[0].seq = 1;
    {   /* the id of the server's own entry: a HAVE that agrees with its head */
        mm_txn_t *txn;
        mm_head_t gh;
        FZ_OK(mm_store_begin(mm_home_store(fh.home), 0, &txn));
        FZ_OK(mm_log_head(txn, feeds[0].author, feeds[0].scope, &gh));
        mm_txn_abort(&txn);
        memcpy(feeds[0].head, gh.id, 32);
    }
    memcpy(feeds[1].author, mm_keypair_pk(ada->dev), 32);
    memcpy(feeds[1].scope, pair_scope.id, 32);
    feeds[1].seq = 2;
    mm_hash(feeds[1].head, a2, lens[1]);
    memcpy(refuse[0], mm_keypair_pk(remotes[CARL].id), 32);

    /* Ada has nothing: Grace sends her the pair feed, Ada acknowledges */
    w = start(INJECT_HELLO | REMOTE(ADA));
    have(w, 1, NULL, 0, NULL, 0);
    simple(w, MM_MSG_ACK);
    simple(w, MM_MSG_DONE);
    fz_seed_buf(dir, "server-ada-empty", &seedbuf);

    /* Ada has Grace's entry and sends her two questions */
    w = start(REMOTE(ADA));
    fz_buf_frame(&seedbuf, ada->hello, ada->hellolen);
    have(w, 1, feeds, 1, NULL, 0);
    entries(w, run, lens, 2);
    simple(w, MM_MSG_DONE);
    fz_seed_buf(dir, "server-ada-entries", &seedbuf);

    /* HAVE in two parts with a refusal; a run sent twice, then its tail */
    w = start(INJECT_HELLO | REMOTE(ADA));
    have(w, 0, feeds, 1, NULL, 0);
    have(w, 1, feeds + 1, 1, (const uint8_t (*)[32]) refuse, 1);
    entries(w, run, lens, 1);
    entries(w, run, lens, 2);
    entries(w, run + 1, lens + 1, 1);
    mm_wire_cert(w, ada->cert, ada->certlen);
    next(w);
    simple(w, MM_MSG_DONE);
    fz_seed_buf(dir, "server-ada-twice", &seedbuf);

    /* Grace called Ada */
    w = start(CLIENT | REMOTE(ADA));
    fz_buf_frame(&seedbuf, ada->hello, ada->hellolen);
    have(w, 1, feeds + 1, 1, NULL, 0);
    entries(w, run, lens, 2);
    simple(w, MM_MSG_ACK);
    simple(w, MM_MSG_DONE);
    fz_seed_buf(dir, "client-ada", &seedbuf);

    /* Grace's other device: every scope is shared with it */
    w = start(INJECT_HELLO | REMOTE(GRACE2));
    have(w, 1, NULL, 0, NULL, 0);
    simple(w, MM_MSG_ACK);
    simple(w, MM_MSG_ACK);
    simple(w, MM_MSG_DONE);
    fz_seed_buf(dir, "server-own-device", &seedbuf);

    start(REMOTE(DAVE));
    fz_buf_frame(&seedbuf, remotes[DAVE].hello, remotes[DAVE].hellolen);
    fz_seed_buf(dir, "server-dave-blocked", &seedbuf);
    start(INJECT_HELLO | REMOTE(CARL));
    fz_seed_buf(dir, "server-carl-stranger", &seedbuf);
    w = start(CLIENT | INJECT_HELLO | REMOTE(CARL));
    have(w, 1, NULL, 0, NULL, 0);
    fz_seed_buf(dir, "client-carl", &seedbuf);

    w = start(REMOTE(ADA));
    mm_wire_error(w, MM_EBUSY, "try again later");
    next(w);
    fz_seed_buf(dir, "server-error", &seedbuf);
    w = start(REMOTE(ADA));
    entries(w, run, lens, 1);
    fz_seed_buf(dir, "server-entries-first", &seedbuf);

    /* Ada claims another head for Grace's feed: Grace challenges (FORK);
     * Ada answers with a "proof" of two of her own entries (8.7) */
    mm_have_t claim = feeds[0];
    claim.head[0] ^= 1;
    w = start(INJECT_HELLO | REMOTE(ADA));
    have(w, 1, &claim, 1, NULL, 0);
    mm_wire_fork(w, run, lens, 2);
    next(w);
    fz_seed_buf(dir, "server-fork-claim", &seedbuf);
    w = start(INJECT_HELLO | REMOTE(ADA));
    have(w, 1, feeds, 1, NULL, 0);
    mm_wire_fork(w, run, lens, 1);
    next(w);
    fz_seed_buf(dir, "server-fork-challenge", &seedbuf);
}
