/*  test_mailbox.c -- core/mailbox.h and the mailbox role in the verifier
 *  and the store (PROTOCOL.md 14): the link code and exchange (with the
 *  vectors of 14.3), blind verification (checks 1-7), a mailbox's key
 *  never authoring an entry, SCOPES' rules, the quota. */
#include "fixture.h"
#include "fxhome.h"
#include "core/cert.h"
#include "core/entry.h"
#include "core/log.h"
#include "core/mailbox.h"
#include "core/scope.h"
#include "crypto/encoding.h"
#include "net/wire.h"
#include "net/session.h"

#define T0 1767225600000ull         /* 2026-01-01T00:00:00Z */

static const uint8_t BODY[] = {     /* {"t": "note", "text": "hello"} */
    0x82, 0xa1, 't', 0xa4, 'n', 'o', 't', 'e', 0xa4, 't', 'e', 'x', 't',
    0xa5, 'h', 'e', 'l', 'l', 'o',
};

/* ---- the certificate flag ---- */

static void test_cert_roles(void **state)
{
    mm_keypair_t *id = fx_keypair(1), *dev = fx_keypair(4);
    uint8_t buf[MM_CERT_MAX];
    size_t len;
    mm_cert_t c;
    (void) state;
    assert_rc(mm_cert_make(id, dev, T0, "box", MM_CERT_IDENTITY | MM_CERT_MAILBOX, buf,
                           sizeof buf, &len), MM_EINVAL);
    assert_rc(mm_cert_make(id, dev, T0, "box", MM_CERT_MAILBOX, buf, sizeof buf, &len), MM_OK);
    assert_rc(mm_cert_parse(buf, len, &c), MM_OK);
    assert_int_equal(c.flags, MM_CERT_MAILBOX);
    /* both role bits: refused for that, before any signature is checked */
    size_t at = len - 66 - 66 - 1;  /* flags, a fixint before devsig and sig */
    assert_int_equal(buf[at], MM_CERT_MAILBOX);
    buf[at] = MM_CERT_IDENTITY | MM_CERT_MAILBOX;
    assert_rc(mm_cert_parse(buf, len, &c), MM_EBADCERT);
    mm_keypair_destroy(&id);
    mm_keypair_destroy(&dev);
}

/* ---- blind scope records ---- */

static void test_blind_scope_record(void **state)
{
    mm_scope_t s, back;
    uint8_t buf[MM_SCOPE_RECORD_MAX];
    size_t len;
    (void) state;
    memset(&s, 0, sizeof s);
    s.kind = MM_SCOPE_BLIND;
    s.nmembers = 2;
    memset(s.members[0], 1, 32);
    memset(s.members[1], 2, 32);
    s.created = T0;
    assert_rc(mm_scope_encode(&s, buf, sizeof buf, &len), MM_OK);
    assert_rc(mm_scope_decode(buf, len, &back), MM_OK);
    assert_int_equal(back.kind, MM_SCOPE_BLIND);
    assert_int_equal(back.nkeys, 0);
    /* a key in a blind record, or none in another kind, is not a record */
    s.nkeys = 1;
    assert_rc(mm_scope_encode(&s, buf, sizeof buf, &len), MM_EINVAL);
    s.kind = MM_SCOPE_PAIR;
    s.nkeys = 0;
    assert_rc(mm_scope_encode(&s, buf, sizeof buf, &len), MM_EINVAL);
}

/* ---- PROTOCOL.md 14.3's vectors ---- */

#define NMV 7

static void mv_add(fx_vec_t *v, int *n, const char *name, const char *text)
{
    snprintf(v[*n].name, sizeof v[*n].name, "%s", name);
    v[(*n)++].hex = strdup(text);
}

static void mv_hex(fx_vec_t *v, int *n, const char *name, const uint8_t *b, size_t len)
{
    char *h = malloc(2 * len + 1);
    assert_non_null(h);
    mm_encoding_hex(h, b, len);
    mv_add(v, n, name, h);
    free(h);
}

static void test_vectors(void **state)
{
    mm_keypair_t *id = fx_keypair(1), *box = fx_keypair(4), *grace = fx_keypair(5);
    mm_mailbox_code_t c, back;
    char text[MM_CODE_TEXT_MAX];
    uint8_t pk[32], sk[32], devsig[64], cert[MM_CERT_MAX], frame[2048];
    size_t certlen;
    fx_vec_t made[NMV], doc[NMV];
    int nmade = 0;
    mm_mp_writer_t w;
    (void) state;
    memset(&c, 0, sizeof c);        /* a mailbox has no identity: 32 zero bytes */
    memcpy(c.device, mm_keypair_pk(box), 32);
    memset(c.secret, 0x44, 32);
    c.expires = T0 + 600000;
    c.nendpoints = 1;
    strcpy(c.endpoints[0], "tcp://127.0.0.1:7462");
    assert_rc(mm_mailbox_code_encode(&c, text, sizeof text), MM_OK);
    assert_rc(mm_mailbox_code_decode(text, &back), MM_OK);
    assert_memory_equal(back.secret, c.secret, 32);
    assert_rc(mm_mailbox_code_decode("mmp1aaaa", &back), MM_EINVAL);
    mm_mailbox_link_keys(c.secret, pk, sk);
    mv_add(made, &nmade, "code", text);
    mv_hex(made, &nmade, "link_pk", pk, 32);
    mm_mp_writer_init(&w, frame, sizeof frame);
    mm_wire_link(&w, mm_keypair_pk(id), "Ada");
    assert_rc(mm_mp_writer_status(&w), MM_OK);
    mv_hex(made, &nmade, "link", frame, w.len);
    assert_rc(mm_cert_request(box, mm_keypair_pk(id), devsig), MM_OK);
    mm_mp_writer_init(&w, frame, sizeof frame);
    mm_wire_consent(&w, devsig);
    mv_hex(made, &nmade, "consent", frame, w.len);
    assert_rc(mm_mailbox_certify(id, mm_keypair_pk(box), devsig, "box", T0, cert, &certlen),
              MM_OK);
    mm_mp_writer_init(&w, frame, sizeof frame);
    mm_wire_certify(&w, cert, certlen, "Ada");
    mv_hex(made, &nmade, "certify", frame, w.len);
    /* SCOPES: the relationship scope 0xc0.. of Ada and Grace, nobody blocked */
    mm_mailbox_told_t t = { 0 };
    uint8_t ids[1][32], members[1][2][32];
    unsigned nm[1] = { 2 };
    for (int i = 0; i < 32; i++)
        ids[0][i] = (uint8_t) (0xc0 + i);
    memcpy(members[0][0], mm_keypair_pk(id), 32);
    memcpy(members[0][1], mm_keypair_pk(grace), 32);
    t.n = 1;
    t.id = ids;
    t.nmembers = nm;
    t.members = members;
    mm_mp_writer_init(&w, frame, sizeof frame);
    mm_wire_scopes(&w, &t);
    mv_hex(made, &nmade, "scopes", frame, w.len);
    /* and it decodes to what was said */
    mm_msg_t *m = malloc(sizeof *m);
    mm_mailbox_told_t got;
    assert_non_null(m);
    assert_rc(mm_wire_decode(frame, w.len, m), MM_OK);
    assert_int_equal(m->type, MM_MSG_SCOPES);
    assert_rc(mm_wire_scopes_told(m, &got), MM_OK);
    assert_int_equal(got.n, 1);
    assert_int_equal(got.nmembers[0], 2);
    assert_memory_equal(got.id[0], ids[0], 32);
    assert_memory_equal(got.members[0][1], mm_keypair_pk(grace), 32);
    mm_mailbox_told_free(&got);
    free(m);
    mv_hex(made, &nmade, "box_device", mm_keypair_pk(box), 32);
    assert_int_equal(nmade, NMV);
    if (getenv("MM_PRINT_VECTORS")) {
        printf("```mailbox-vectors\n");
        for (int i = 0; i < nmade; i++) {
            const char *v = made[i].hex;
            size_t len = strlen(v);
            printf("%s = %.*s\n", made[i].name, (int) (len < 64 ? len : 64), v);
            for (size_t o = 64; o < len; o += 64)
                printf("    %.64s\n", v + o);
        }
        printf("```\n");
    } else {
        int n = fx_read_vectors("mailbox-vectors", doc, NMV);
        assert_int_equal(n, nmade);
        for (int i = 0; i < n; i++) {
            assert_string_equal(doc[i].name, made[i].name);
            if (strcmp(doc[i].hex, made[i].hex) != 0)
                fail_msg("PROTOCOL.md mailbox vector %s differs:\n doc  %s\n code %s",
                         doc[i].name, doc[i].hex, made[i].hex);
            free(doc[i].hex);
        }
    }
    for (int i = 0; i < nmade; i++)
        free(made[i].hex);
    mm_keypair_destroy(&id);
    mm_keypair_destroy(&box);
    mm_keypair_destroy(&grace);
}

/* ---- a mailbox home, linked; Ada and Grace ---- */

typedef struct {
    char dir[FX_PATH_MAX];
    mm_home_t *ada, *grace, *box;
    mm_scope_t sc;
} fx_t;

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    char path[FX_PATH_MAX];
    char *eps[1] = { "tcp://127.0.0.1:7462" };
    fx_mkdtemp(f->dir);
    f->ada = fx_home(f->dir, "ada", "Ada", NULL, NULL);
    f->grace = fx_home(f->dir, "grace", "Grace", NULL, NULL);
    fx_pair(f->grace, f->ada, "grace", "ada", &f->sc);
    fx_path(path, f->dir, "box");
    assert_rc(mm_home_init_mailbox(path, eps, 1, 4096), MM_OK);
    assert_rc(mm_home_open(path, &f->box), MM_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    mm_home_close(&f->ada);
    mm_home_close(&f->grace);
    mm_home_close(&f->box);
    fx_rmrf(f->dir);
    free(f);
    return 0;
}

/* The link exchange's rules, without the network: code, consent, cert. */
static void do_link(fx_t *f)
{
    char eps[1][MM_ENDPOINT_MAX + 1] = { "tcp://127.0.0.1:7462" };
    mm_mailbox_code_t c;
    uint8_t pk[32], sk[32], devsig[64], cert[MM_CERT_MAX];
    size_t certlen;
    char why[256];
    mm_keypair_t *idk = NULL;
    assert_rc(mm_mailbox_code_new(f->box, T0, 60000, eps, 1, &c), MM_OK);
    mm_mailbox_link_keys(c.secret, pk, sk);
    assert_int_equal(mm_mailbox_link_pending(f->box, pk, T0 + 1), 1);
    assert_int_equal(mm_mailbox_link_pending(f->box, pk, T0 + 60001), 0);   /* expired */
    assert_rc(mm_mailbox_consent(f->box, pk, mm_home_identity_pk(f->ada), T0 + 60001, devsig,
                                 why, sizeof why), MM_EREFUSED);
    assert_rc(mm_mailbox_consent(f->box, pk, mm_home_identity_pk(f->ada), T0 + 1, devsig, why,
                                 sizeof why), MM_OK);
    assert_rc(mm_home_identity_key(f->ada, &idk), MM_OK);
    /* a certificate of another key, or as an ordinary device, is refused */
    assert_rc(mm_cert_complete(idk, mm_keypair_pk(mm_home_device(f->box)), T0, "box", 0,
                               devsig, cert, sizeof cert, &certlen), MM_OK);
    assert_rc(mm_mailbox_accept_cert(f->box, pk, mm_home_identity_pk(f->ada), cert, certlen,
                                     "Ada", T0 + 2, why, sizeof why), MM_EBADCERT);
    assert_rc(mm_mailbox_certify(idk, mm_keypair_pk(mm_home_device(f->box)), devsig, "box",
                                 T0, cert, &certlen), MM_OK);
    assert_rc(mm_mailbox_accept_cert(f->box, pk, mm_home_identity_pk(f->grace), cert, certlen,
                                     "Ada", T0 + 2, why, sizeof why), MM_EBADCERT);
    assert_rc(mm_mailbox_accept_cert(f->box, pk, mm_home_identity_pk(f->ada), cert, certlen,
                                     "Ada", T0 + 2, why, sizeof why), MM_OK);
    assert_memory_equal(mm_home_identity_pk(f->box), mm_home_identity_pk(f->ada), 32);
    /* once: the code is spent, and a linked mailbox makes no more */
    assert_int_equal(mm_mailbox_link_pending(f->box, pk, T0 + 3), 0);
    assert_rc(mm_mailbox_code_new(f->box, T0, 60000, eps, 1, &c), MM_EEXIST);
    assert_rc(mm_mailbox_link_store(f->ada, cert, certlen), MM_OK);
    mm_keypair_destroy(&idk);
}

static void tell(fx_t *f, int rc_want)
{
    mm_txn_t *txn;
    mm_mailbox_told_t t;
    assert_rc(mm_store_begin(mm_home_store(f->ada), 0, &txn), MM_OK);
    assert_rc(mm_mailbox_tell(txn, &t), MM_OK);
    mm_txn_abort(&txn);
    assert_int_equal(t.n, 1);       /* the relationship scope, never the self scope */
    assert_rc(mm_store_begin(mm_home_store(f->box), 1, &txn), MM_OK);
    assert_rc(mm_mailbox_learn(txn, mm_home_identity_pk(f->ada), &t, T0), rc_want);
    if (rc_want == MM_OK)
        assert_rc(mm_txn_commit(&txn), MM_OK);
    mm_txn_abort(&txn);
    mm_mailbox_told_free(&t);
}

static void test_link_and_learn(void **state)
{
    fx_t *f = *state;
    mm_txn_t *txn;
    int blocked;
    assert_int_equal(mm_home_is_mailbox(f->box), 1);
    do_link(f);
    tell(f, MM_OK);
    tell(f, MM_OK);                 /* the same again changes nothing */
    assert_rc(mm_store_begin(mm_home_store(f->box), 0, &txn), MM_OK);
    assert_rc(mm_mailbox_member(txn, mm_home_identity_pk(f->grace), &blocked), MM_OK);
    assert_int_equal(blocked, 0);
    uint8_t stranger[32];
    memset(stranger, 9, 32);
    assert_rc(mm_mailbox_member(txn, stranger, &blocked), MM_ENOTFOUND);
    mm_txn_abort(&txn);
    /* a scope's members never change; a scope without the owner is none of its business */
    mm_mailbox_told_t t = { 0 };
    uint8_t ids[1][32], members[1][2][32];
    unsigned nm[1] = { 2 };
    memcpy(ids[0], f->sc.id, 32);
    memcpy(members[0][0], mm_home_identity_pk(f->ada), 32);
    memcpy(members[0][1], stranger, 32);
    t.n = 1;
    t.id = ids;
    t.nmembers = nm;
    t.members = members;
    assert_rc(mm_store_begin(mm_home_store(f->box), 1, &txn), MM_OK);
    assert_rc(mm_mailbox_learn(txn, mm_home_identity_pk(f->ada), &t, T0), MM_EEXIST);
    mm_txn_abort(&txn);
    memset(ids[0], 7, 32);
    memcpy(members[0][0], stranger, 32);
    memcpy(members[0][1], mm_home_identity_pk(f->grace), 32);
    assert_rc(mm_store_begin(mm_home_store(f->box), 1, &txn), MM_OK);
    assert_rc(mm_mailbox_learn(txn, mm_home_identity_pk(f->ada), &t, T0), MM_ESCOPE);
    mm_txn_abort(&txn);
    /* the blocked list replaces the one held */
    uint8_t bl[1][32];
    memcpy(bl[0], mm_home_identity_pk(f->grace), 32);
    mm_mailbox_told_t b = { 0, NULL, NULL, NULL, 1, bl };
    assert_rc(mm_store_begin(mm_home_store(f->box), 1, &txn), MM_OK);
    assert_rc(mm_mailbox_learn(txn, mm_home_identity_pk(f->ada), &b, T0), MM_OK);
    assert_rc(mm_mailbox_member(txn, mm_home_identity_pk(f->grace), &blocked), MM_OK);
    assert_int_equal(blocked, 1);
    mm_txn_abort(&txn);
}

/* Ada writes in the relationship; the entry bytes, as Ada holds them. */
static void ada_writes(fx_t *f, uint64_t seq, const uint8_t **buf, size_t *len, mm_txn_t **keep)
{
    mm_txn_t *txn;
    assert_rc(mm_store_begin(mm_home_store(f->ada), 1, &txn), MM_OK);
    assert_rc(mm_log_append(txn, mm_home_device(f->ada), f->sc.id, T0 + seq, BODY, sizeof BODY,
                            NULL), MM_OK);
    assert_rc(mm_txn_commit(&txn), MM_OK);
    assert_rc(mm_store_begin(mm_home_store(f->ada), 0, keep), MM_OK);
    assert_rc(mm_log_get(*keep, mm_keypair_pk(mm_home_device(f->ada)), f->sc.id, seq, buf, len),
              MM_OK);
}

static void test_blind_store_and_quota(void **state)
{
    fx_t *f = *state;
    mm_txn_t *ta, *txn;
    const uint8_t *buf;
    size_t len, stored;
    uint64_t used;
    do_link(f);
    tell(f, MM_OK);
    fx_give_cert(f->box, f->ada);
    ada_writes(f, 1, &buf, &len, &ta);
    /* checks 1-7 pass; the box is never opened: the mailbox has no key */
    assert_rc(mm_store_begin(mm_home_store(f->box), 1, &txn), MM_OK);
    assert_rc(mm_log_put_run(txn, &buf, &len, 1, &stored), MM_OK);
    assert_int_equal(stored, 1);
    assert_rc(mm_txn_commit(&txn), MM_OK);
    mm_txn_abort(&ta);
    assert_rc(mm_store_begin(mm_home_store(f->box), 0, &txn), MM_OK);
    assert_rc(mm_mailbox_usage(txn, mm_home_identity_pk(f->ada), &used), MM_OK);
    assert_int_equal(used, len);
    uint64_t nentries;
    assert_rc(mm_log_check(txn, NULL, NULL, &nentries), MM_OK);    /* mm verify, blind */
    assert_int_equal(nentries, 1);
    mm_txn_abort(&txn);
    /* a mailbox writes nothing */
    assert_rc(mm_store_begin(mm_home_store(f->box), 1, &txn), MM_OK);
    assert_rc(mm_log_append(txn, mm_home_device(f->box), f->sc.id, T0, BODY, sizeof BODY, NULL),
              MM_EROLE);
    mm_txn_abort(&txn);
    /* the quota (4096 bytes): runs that fit, then one that does not, refused whole */
    uint64_t seq = 2;
    int rc = MM_OK;
    while (rc == MM_OK) {
        ada_writes(f, seq++, &buf, &len, &ta);
        assert_rc(mm_store_begin(mm_home_store(f->box), 1, &txn), MM_OK);
        rc = mm_log_put_run(txn, &buf, &len, 1, &stored);
        if (rc == MM_OK)
            assert_rc(mm_txn_commit(&txn), MM_OK);
        mm_txn_abort(&txn);
        mm_txn_abort(&ta);
        assert_true(seq < 100);
    }
    assert_rc(rc, MM_EQUOTA);
    assert_rc(mm_store_begin(mm_home_store(f->box), 0, &txn), MM_OK);
    assert_rc(mm_mailbox_usage(txn, mm_home_identity_pk(f->ada), &used), MM_OK);
    assert_true(used <= 4096 && used + len > 4096);
    mm_head_t h;
    assert_rc(mm_log_head(txn, mm_keypair_pk(mm_home_device(f->ada)), f->sc.id, &h), MM_OK);
    assert_int_equal(h.seq, seq - 2);       /* the last one is not there */
    mm_txn_abort(&txn);
    /* more room: the same entry goes in */
    assert_rc(mm_store_begin(mm_home_store(f->box), 1, &txn), MM_OK);
    assert_rc(mm_mailbox_set_quota(txn, 1 << 20), MM_OK);
    assert_rc(mm_txn_commit(&txn), MM_OK);
    assert_rc(mm_store_begin(mm_home_store(f->ada), 0, &ta), MM_OK);
    assert_rc(mm_log_get(ta, mm_keypair_pk(mm_home_device(f->ada)), f->sc.id, seq - 1, &buf,
                         &len), MM_OK);
    assert_rc(mm_store_begin(mm_home_store(f->box), 1, &txn), MM_OK);
    assert_rc(mm_log_put_run(txn, &buf, &len, 1, &stored), MM_OK);
    assert_rc(mm_txn_commit(&txn), MM_OK);
    mm_txn_abort(&ta);
}

/* Every reader refuses an entry whose author's certificate is a mailbox's. */
static void test_mailbox_never_authors(void **state)
{
    fx_t *f = *state;
    mm_txn_t *txn;
    mm_head_t head = { 0 };
    uint8_t buf[1024];
    size_t len;
    mm_entry_t e;
    do_link(f);                        /* Ada holds the mailbox certificate */
    assert_rc(mm_entry_seal(mm_home_device(f->box), &f->sc, &head, T0, NULL, BODY, sizeof BODY,
                            buf, sizeof buf, &len), MM_OK);
    assert_rc(mm_store_begin(mm_home_store(f->ada), 1, &txn), MM_OK);
    assert_rc(mm_log_put(txn, buf, len, &e), MM_EBADCERT);
    mm_txn_abort(&txn);
}

/* ---- sessions with a mailbox, in memory ---- */

typedef struct qframe {
    struct qframe *next;
    size_t len;
    uint8_t b[];
} qframe_t;

typedef struct {
    qframe_t *head, **tail;
} queue_t;

static int q_send(void *arg, const void *buf, size_t len)
{
    queue_t *q = arg;
    qframe_t *f = malloc(sizeof *f + len);
    assert_non_null(f);
    memcpy(f->b, buf, len);
    f->len = len;
    f->next = NULL;
    *q->tail = f;
    q->tail = &f->next;
    return MM_OK;
}

/* Hand every queued frame of q to s until q is empty; the first error. */
static int q_deliver(queue_t *q, mm_session_t *s)
{
    int rc = MM_OK;
    qframe_t *f;
    while ((f = q->head)) {
        if (!(q->head = f->next))
            q->tail = &q->head;
        int r = mm_session_input(s, f->b, f->len);
        if (rc == MM_OK)
            rc = r;
        free(f);
    }
    return rc;
}

/* One session: who (client) calls the box (server), expecting identity.
 * Returns the first error of either side (MM_OK: both complete). */
static int box_session(mm_home_t *who, mm_home_t *box, const uint8_t *expect)
{
    queue_t to_box = { NULL, NULL }, to_who = { NULL, NULL };
    mm_session_t *cli, *srv;
    uint8_t xbox[32], xwho[32];
    to_box.tail = &to_box.head;
    to_who.tail = &to_who.head;
    assert_rc(mm_pk_to_x25519(xbox, mm_keypair_pk(mm_home_device(box))), MM_OK);
    assert_rc(mm_pk_to_x25519(xwho, mm_keypair_pk(mm_home_device(who))), MM_OK);
    assert_rc(mm_session_new(who, 1, xbox, expect, q_send, &to_box, &cli), MM_OK);
    assert_rc(mm_session_new(box, 0, xwho, NULL, q_send, &to_who, &srv), MM_OK);
    int rc = mm_session_start(cli), a = MM_OK, b = MM_OK;
    /* both ways until nothing moves: a side that ended ignores the rest */
    for (int turns = 0; rc == MM_OK && (to_box.head || to_who.head) && turns < 1000; turns++) {
        int r1 = q_deliver(&to_box, srv), r2 = q_deliver(&to_who, cli);
        if (a == MM_OK)
            a = r1;
        if (b == MM_OK)
            b = r2;
    }
    if (rc == MM_OK)
        rc = a != MM_OK ? a : b;
    if (rc == MM_OK && !(mm_session_done(cli) && mm_session_done(srv)))
        rc = MM_EPROTO;
    q_deliver(&to_box, srv);        /* frames in flight after an error: freed */
    q_deliver(&to_who, cli);
    mm_session_destroy(&cli);
    mm_session_destroy(&srv);
    return rc;
}

static uint64_t head_of(mm_home_t *h, mm_home_t *author, const uint8_t scope[32])
{
    mm_txn_t *txn;
    mm_head_t hd;
    assert_rc(mm_store_begin(mm_home_store(h), 0, &txn), MM_OK);
    assert_rc(mm_log_head(txn, mm_keypair_pk(mm_home_device(author)), scope, &hd), MM_OK);
    mm_txn_abort(&txn);
    return hd.seq;
}

static void test_sessions_through_the_box(void **state)
{
    fx_t *f = *state;
    mm_txn_t *txn;
    do_link(f);
    /* Ada: one entry in the relationship, one private note */
    assert_rc(mm_store_begin(mm_home_store(f->ada), 1, &txn), MM_OK);
    assert_rc(mm_log_append(txn, mm_home_device(f->ada), f->sc.id, T0 + 1, BODY, sizeof BODY,
                            NULL), MM_OK);
    assert_rc(mm_log_append(txn, mm_home_device(f->ada), mm_home_self_scope(f->ada), T0 + 2,
                            BODY, sizeof BODY, NULL), MM_OK);
    assert_rc(mm_txn_commit(&txn), MM_OK);
    /* Grace, before Ada told the box of their scope: not served */
    assert_rc(box_session(f->grace, f->box, mm_home_identity_pk(f->ada)), MM_EREFUSED);
    /* Ada's session: SCOPES, then her relationship's feeds; never the self scope */
    assert_rc(box_session(f->ada, f->box, mm_home_identity_pk(f->ada)), MM_OK);
    assert_int_equal(head_of(f->box, f->ada, f->sc.id), 1);
    assert_int_equal(head_of(f->box, f->ada, mm_home_self_scope(f->ada)), 0);
    /* Grace now gets it from the box, and verifies it whole (she has the key) */
    assert_rc(box_session(f->grace, f->box, mm_home_identity_pk(f->ada)), MM_OK);
    assert_int_equal(head_of(f->grace, f->ada, f->sc.id), 1);
    /* a stranger is refused; Ada, once she unlinked it, too */
    mm_home_t *carl = fx_home(f->dir, "carl", "Carl", NULL, NULL);
    assert_rc(box_session(carl, f->box, mm_home_identity_pk(f->ada)), MM_EREFUSED);
    mm_home_close(&carl);
    assert_rc(mm_mailbox_unlink(f->ada, mm_keypair_pk(mm_home_device(f->box)), T0 + 3), MM_OK);
    assert_rc(box_session(f->ada, f->box, mm_home_identity_pk(f->ada)), MM_EREVOKED);
    assert_int_equal(mm_mailbox_unlinked(f->box), 1);
    assert_rc(box_session(f->grace, f->box, mm_home_identity_pk(f->ada)), MM_EREVOKED);
}

/* SCOPES comes from the owner's devices only. */
static void test_scopes_only_from_the_owner(void **state)
{
    fx_t *f = *state;
    mm_session_t *srv;
    queue_t out = { NULL, NULL };
    uint8_t x[32], frame[4096];
    const uint8_t *cert;
    size_t certlen;
    mm_txn_t *txn;
    mm_cert_t c;
    mm_mp_writer_t w;
    out.tail = &out.head;
    do_link(f);
    assert_rc(box_session(f->ada, f->box, mm_home_identity_pk(f->ada)), MM_OK);
    assert_rc(mm_pk_to_x25519(x, mm_keypair_pk(mm_home_device(f->grace))), MM_OK);
    assert_rc(mm_session_new(f->box, 0, x, NULL, q_send, &out, &srv), MM_OK);
    assert_rc(mm_store_begin(mm_home_store(f->grace), 0, &txn), MM_OK);
    assert_rc(mm_cert_get(txn, mm_keypair_pk(mm_home_device(f->grace)), &c, &cert, &certlen),
              MM_OK);
    mm_mp_writer_init(&w, frame, sizeof frame);
    mm_wire_hello(&w, cert, certlen, "Grace");
    mm_txn_abort(&txn);
    assert_rc(mm_session_input(srv, frame, w.len), MM_OK);
    mm_mailbox_told_t t = { 0 };
    mm_mp_writer_init(&w, frame, sizeof frame);
    mm_wire_scopes(&w, &t);
    assert_rc(mm_session_input(srv, frame, w.len), MM_EPROTO);
    mm_session_destroy(&srv);
    qframe_t *q;
    while ((q = out.head)) {
        out.head = q->next;
        free(q);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cert_roles),
        cmocka_unit_test(test_blind_scope_record),
        cmocka_unit_test(test_vectors),
        cmocka_unit_test_setup_teardown(test_link_and_learn, setup, teardown),
        cmocka_unit_test_setup_teardown(test_blind_store_and_quota, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mailbox_never_authors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sessions_through_the_box, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scopes_only_from_the_owner, setup, teardown),
    };
    return cmocka_run_group_tests(tests, fx_setup_crypto, NULL);
}
