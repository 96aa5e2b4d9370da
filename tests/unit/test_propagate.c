/*  test_propagate.c -- own devices learn each other's scopes and peers
 *  through the self scope (core/propagate.h, PROTOCOL.md 5.4): Ada on a
 *  laptop and a phone (one identity, two devices), Grace and Lin.  Entries
 *  travel between the stores as a sync carries them (mm_log_put_run). */
#include <sodium.h>
#include "fixture.h"
#include "fxhome.h"
#include "core/body.h"
#include "core/cert.h"
#include "core/home.h"
#include "core/invite.h"
#include "core/log.h"
#include "core/peer.h"
#include "core/propagate.h"
#include "core/purge.h"
#include "core/rekey.h"
#include "crypto/random.h"
#include "net/session.h"

#define T0   1767225600000ull
#define HOUR 3600000ull

typedef struct {
    char dir[FX_PATH_MAX];
    mm_keypair_t *ida, *d1, *d2;
    mm_home_t *a1, *a2, *grace, *lin;
    uint8_t self[32];
} world_t;

static void share_self(mm_home_t *h, mm_home_t *from)
{
    mm_txn_t *ta, *tb;
    mm_scope_t s;
    assert_rc(mm_store_begin(mm_home_store(from), 0, &ta), MM_OK);
    assert_rc(mm_scope_get(ta, mm_home_self_scope(from), &s), MM_OK);
    mm_txn_abort(&ta);
    assert_rc(mm_store_begin(mm_home_store(h), 1, &tb), MM_OK);
    assert_rc(mm_scope_add_key(tb, s.id, mm_scope_key(&s)), MM_OK);
    assert_rc(mm_txn_commit(&tb), MM_OK);
    mm_scope_wipe(&s);
}

static int setup(void **state)
{
    world_t *w = calloc(1, sizeof *w);
    assert_non_null(w);
    fx_mkdtemp(w->dir);
    w->ida = fx_keypair(0x31);
    w->d1 = fx_keypair(0x41);
    w->d2 = fx_keypair(0x42);
    w->a1 = fx_home(w->dir, "a1", "Ada", w->ida, w->d1);
    w->a2 = fx_home(w->dir, "a2", "Ada", w->ida, w->d2);
    w->grace = fx_home(w->dir, "grace", "Grace", NULL, NULL);
    w->lin = fx_home(w->dir, "lin", "Lin", NULL, NULL);
    fx_give_cert(w->a1, w->a2);
    fx_give_cert(w->a2, w->a1);
    share_self(w->a2, w->a1);
    memcpy(w->self, mm_home_self_scope(w->a1), 32);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world_t *w = *state;
    mm_home_close(&w->a1);
    mm_home_close(&w->a2);
    mm_home_close(&w->grace);
    mm_home_close(&w->lin);
    mm_keypair_destroy(&w->ida);
    mm_keypair_destroy(&w->d1);
    mm_keypair_destroy(&w->d2);
    fx_rmrf(w->dir);
    free(w);
    return 0;
}

/* ---- an invite, as test_invite.c makes one ---- */

static void issue(mm_home_t *inviter, uint8_t tag, mm_invite_code_t *code)
{
    mm_invite_t inv;
    mm_txn_t *txn;
    uint8_t sk[32];
    memset(&inv, 0, sizeof inv);
    memset(code, 0, sizeof *code);
    memset(code->secret, tag, 32);
    mm_invite_keys(code->secret, inv.key, sk);
    inv.created = T0 - 1000;
    inv.expires = T0 + HOUR;
    inv.role = MM_ROLE_MENTOR;
    snprintf(inv.note, sizeof inv.note, "%s", "hello");
    assert_rc(mm_store_begin(mm_home_store(inviter), 1, &txn), MM_OK);
    assert_rc(mm_invite_put(txn, &inv), MM_OK);
    assert_rc(mm_txn_commit(&txn), MM_OK);
    memcpy(code->identity, mm_home_identity_pk(inviter), 32);
    memcpy(code->device, mm_keypair_pk(mm_home_device(inviter)), 32);
    code->expires = inv.expires;
    code->nendpoints = 1;
    strcpy(code->endpoints[0], "tcp://127.0.0.1:7460");
}

/* inviter invites who (petname for the inviter on who's side); the
 * relationship scope's id into scope. */
static void befriend(mm_home_t *inviter, mm_home_t *who, uint8_t tag, const char *petname,
                     uint8_t scope[32])
{
    mm_invite_code_t code;
    mm_invite_request_t req;
    mm_invite_grant_t g;
    mm_peer_t joined;
    uint8_t pk[32], sk[32];
    char why[256] = "";
    issue(inviter, tag, &code);
    assert_rc(mm_invite_prepare(who, &code, petname, T0, &req, why, sizeof why), MM_OK);
    mm_invite_accept_t a = { req.cert, req.certlen, req.name, strlen(req.name), req.sig };
    mm_invite_keys(code.secret, pk, sk);
    assert_rc(mm_invite_redeem(inviter, pk, &a, T0, &g, why, sizeof why), MM_OK);
    mm_invite_welcome_t wl = { g.cert, g.certlen, g.name, strlen(g.name), g.scope, g.key,
                               g.role };
    assert_rc(mm_invite_join(who, &code, petname, &wl, T0, &joined, why, sizeof why), MM_OK);
    memcpy(scope, g.scope, 32);
    mm_invite_grant_wipe(&g);
}

static int get_peer(mm_home_t *h, const uint8_t identity[32], mm_peer_t *p)
{
    mm_txn_t *txn;
    assert_rc(mm_store_begin(mm_home_store(h), 0, &txn), MM_OK);
    int rc = mm_peer_get(txn, identity, p);
    mm_txn_abort(&txn);
    return rc;
}

static int get_scope(mm_home_t *h, const uint8_t id[32], mm_scope_t *s)
{
    mm_txn_t *txn;
    assert_rc(mm_store_begin(mm_home_store(h), 0, &txn), MM_OK);
    int rc = mm_scope_get(txn, id, s);
    mm_txn_abort(&txn);
    return rc;
}

static void note_in(mm_home_t *h, const uint8_t scope[32], const char *text)
{
    uint8_t body[256];
    size_t n = fx_note_body(body, sizeof body, text);
    mm_txn_t *txn;
    assert_rc(mm_store_begin(mm_home_store(h), 1, &txn), MM_OK);
    assert_rc(mm_log_append(txn, mm_home_device(h), scope, 0, body, n, NULL), MM_OK);
    assert_rc(mm_txn_commit(&txn), MM_OK);
}

/* ---- tests ---- */

/* Ada accepts Grace's invite on her laptop; the phone learns the scope and
 * the peer from the laptop's self feed, and then takes part in it. */
static void test_invite_reaches_the_phone(void **state)
{
    world_t *w = *state;
    uint8_t r[32];
    mm_scope_t s, s1;
    mm_peer_t p, p1;
    befriend(w->grace, w->a1, 1, "grace", r);
    assert_rc(get_scope(w->a2, r, &s), MM_ENOTFOUND);
    assert_rc(get_peer(w->a2, mm_home_identity_pk(w->grace), &p), MM_ENOTFOUND);

    /* the laptop's self feed: `scope`, then `peer` */
    assert_rc(fx_carry(w->a1, w->a2, w->self), MM_OK);
    assert_rc(get_scope(w->a2, r, &s), MM_OK);
    assert_rc(get_scope(w->a1, r, &s1), MM_OK);
    assert_int_equal(s.kind, MM_SCOPE_PAIR);
    assert_int_equal(s.nkeys, 1);
    assert_memory_equal(mm_scope_key(&s), mm_scope_key(&s1), 32);
    assert_int_equal(s.nmembers, 2);
    assert_true(mm_scope_has_member(&s, mm_home_identity_pk(w->grace)));
    assert_true(s.created == s1.created);
    mm_scope_wipe(&s);
    mm_scope_wipe(&s1);
    assert_rc(get_peer(w->a2, mm_home_identity_pk(w->grace), &p), MM_OK);
    assert_rc(get_peer(w->a1, mm_home_identity_pk(w->grace), &p1), MM_OK);
    assert_string_equal(p.petname, p1.petname);
    assert_string_equal(p.name, "Grace");
    assert_int_equal(p.role, MM_ROLE_MENTOR);
    assert_memory_equal(p.scope, r, 32);
    assert_false(p.blocked);
    assert_true(p.added == p1.added && p.last_sync == 0);
    uint8_t zero[32] = { 0 };
    assert_memory_equal(p.device, zero, 32);   /* no cert of Grace's here yet */

    /* with Grace's certificate, the phone reads and writes the scope */
    fx_give_cert(w->a2, w->grace);
    assert_rc(fx_carry(w->grace, w->a2, r), MM_OK);
    note_in(w->a2, r, "from the phone");
    fx_give_cert(w->grace, w->a2);
    assert_rc(fx_carry(w->a2, w->grace, r), MM_OK);

    /* Grace's own self feed got the same two entries, for her devices */
    mm_txn_t *txn;
    mm_head_t head;
    assert_rc(mm_store_begin(mm_home_store(w->grace), 0, &txn), MM_OK);
    assert_rc(mm_log_head(txn, mm_keypair_pk(mm_home_device(w->grace)),
                          mm_home_self_scope(w->grace), &head), MM_OK);
    assert_true(head.seq == 2);
    mm_txn_abort(&txn);
}

/* A peer's device is filled in from a certificate held when it applies. */
static void test_peer_device_from_cert(void **state)
{
    world_t *w = *state;
    uint8_t r[32];
    mm_peer_t p;
    befriend(w->grace, w->a1, 2, "grace", r);
    fx_give_cert(w->a2, w->grace);
    assert_rc(fx_carry(w->a1, w->a2, w->self), MM_OK);
    assert_rc(get_peer(w->a2, mm_home_identity_pk(w->grace), &p), MM_OK);
    assert_memory_equal(p.device, mm_keypair_pk(mm_home_device(w->grace)), 32);
}

/* rename, block, rm on the laptop reach the phone; the phone keeps its own
 * last_sync; a petname taken on the phone is made unique there. */
static void test_peer_changes(void **state)
{
    world_t *w = *state;
    uint8_t r[32], rl[32];
    mm_peer_t p;
    mm_txn_t *txn;
    befriend(w->grace, w->a1, 3, "grace", r);
    assert_rc(fx_carry(w->a1, w->a2, w->self), MM_OK);
    /* the phone alone knows Lin, as "gracie" */
    befriend(w->lin, w->a2, 4, "gracie", rl);
    assert_rc(mm_store_begin(mm_home_store(w->a2), 1, &txn), MM_OK);
    assert_rc(mm_peer_touch(txn, mm_home_identity_pk(w->grace), T0 + 5), MM_OK);
    assert_rc(mm_txn_commit(&txn), MM_OK);

    assert_rc(mm_store_begin(mm_home_store(w->a1), 1, &txn), MM_OK);
    assert_rc(mm_peer_get(txn, mm_home_identity_pk(w->grace), &p), MM_OK);
    snprintf(p.petname, sizeof p.petname, "gracie");
    p.blocked = 1;
    assert_rc(mm_propagate_peer_save(txn, w->d1, &p, T0 + 10), MM_OK);
    assert_rc(mm_txn_commit(&txn), MM_OK);
    assert_rc(fx_carry(w->a1, w->a2, w->self), MM_OK);
    assert_rc(get_peer(w->a2, mm_home_identity_pk(w->grace), &p), MM_OK);
    assert_string_equal(p.petname, "gracie-2");
    assert_true(p.blocked);
    assert_true(p.last_sync == T0 + 5);
    assert_rc(get_peer(w->a2, mm_home_identity_pk(w->lin), &p), MM_OK);
    assert_string_equal(p.petname, "gracie");
    /* the phone's own Lin went to the laptop the same way */
    assert_rc(fx_carry(w->a2, w->a1, w->self), MM_OK);
    assert_rc(get_peer(w->a1, mm_home_identity_pk(w->lin), &p), MM_OK);
    assert_rc(get_scope(w->a1, rl, &(mm_scope_t) { 0 }), MM_OK);

    /* rm */
    assert_rc(mm_store_begin(mm_home_store(w->a1), 1, &txn), MM_OK);
    assert_rc(mm_propagate_peer_remove(txn, w->d1, mm_home_identity_pk(w->grace), T0 + 20),
              MM_OK);
    assert_rc(mm_propagate_peer_remove(txn, w->d1, mm_home_identity_pk(w->grace), T0 + 21),
              MM_ENOTFOUND);
    assert_rc(mm_txn_commit(&txn), MM_OK);
    assert_rc(fx_carry(w->a1, w->a2, w->self), MM_OK);
    assert_rc(get_peer(w->a2, mm_home_identity_pk(w->grace), &p), MM_ENOTFOUND);
    assert_rc(get_peer(w->a2, mm_home_identity_pk(w->lin), &p), MM_OK);
}

/* Applied only in this home's self scope, from its own identity. */
static void test_only_from_self(void **state)
{
    world_t *w = *state;
    uint8_t r[32], body[512], keys[64], members[80];
    size_t n;
    mm_scope_t self, rs;
    mm_txn_t *txn;
    befriend(w->grace, w->a1, 5, "grace", r);
    /* a `scope` body for a scope nobody has, with Ada and Grace in it */
    uint8_t id[32], key[32];
    mm_random_bytes(id, 32);
    mm_random_bytes(key, 32);
    mm_mp_writer_t wk, wm;
    mm_mp_writer_init(&wk, keys, sizeof keys);
    mm_mp_put_array(&wk, 1);
    mm_mp_put_bin(&wk, key, 32);
    mm_mp_writer_init(&wm, members, sizeof members);
    mm_mp_put_array(&wm, 2);
    mm_mp_put_bin(&wm, mm_home_identity_pk(w->a1), 32);
    mm_mp_put_bin(&wm, mm_home_identity_pk(w->grace), 32);
    mm_field_t f[] = {
        { "created", MM_F_UINT, NULL, 0, T0 },
        { "id", MM_F_BIN, id, 32, 0 },
        { "keys", MM_F_RAW, keys, wk.len, 0 },
        { "kind", MM_F_UINT, NULL, 0, MM_SCOPE_PAIR },
        { "members", MM_F_RAW, members, wm.len, 0 },
    };
    assert_rc(mm_body_build(body, sizeof body, &n, MM_T_SCOPE, f, 5), MM_OK);
    assert_rc(mm_body_check(body, n), MM_OK);

    assert_rc(mm_store_begin(mm_home_store(w->a2), 1, &txn), MM_OK);
    assert_rc(mm_scope_get(txn, w->self, &self), MM_OK);
    assert_rc(mm_scope_get(txn, mm_home_self_scope(w->a2), &rs), MM_OK);
    /* by another identity, in our self scope: ignored */
    assert_rc(mm_propagate_apply(txn, mm_home_identity_pk(w->a2), &self,
                                 mm_home_identity_pk(w->grace), body, n, NULL), MM_OK);
    assert_rc(mm_scope_get(txn, id, &rs), MM_ENOTFOUND);
    /* by us, in the self scope of another identity: ignored */
    mm_scope_t gself;
    fx_self_scope(&gself, mm_home_identity_pk(w->grace), 7);
    assert_rc(mm_propagate_apply(txn, mm_home_identity_pk(w->a2), &gself,
                                 mm_home_identity_pk(w->a2), body, n, NULL), MM_OK);
    assert_rc(mm_scope_get(txn, id, &rs), MM_ENOTFOUND);
    /* by us, in our self scope: applied, and again: nothing new */
    assert_rc(mm_propagate_apply(txn, mm_home_identity_pk(w->a2), &self,
                                 mm_home_identity_pk(w->a2), body, n, NULL), MM_OK);
    assert_rc(mm_scope_get(txn, id, &rs), MM_OK);
    assert_int_equal(rs.nkeys, 1);
    mm_scope_wipe(&rs);
    assert_rc(mm_propagate_apply(txn, mm_home_identity_pk(w->a2), &self,
                                 mm_home_identity_pk(w->a2), body, n, NULL), MM_OK);
    assert_rc(mm_scope_get(txn, id, &rs), MM_OK);
    assert_int_equal(rs.nkeys, 1);
    mm_scope_wipe(&rs);
    /* a scope we are not in is never created */
    uint8_t id2[32];
    mm_random_bytes(id2, 32);
    mm_mp_writer_init(&wm, members, sizeof members);
    mm_mp_put_array(&wm, 2);
    mm_mp_put_bin(&wm, mm_home_identity_pk(w->lin), 32);
    mm_mp_put_bin(&wm, mm_home_identity_pk(w->grace), 32);
    f[1].p = id2;
    assert_rc(mm_body_build(body, sizeof body, &n, MM_T_SCOPE, f, 5), MM_OK);
    assert_rc(mm_propagate_apply(txn, mm_home_identity_pk(w->a2), &self,
                                 mm_home_identity_pk(w->a2), body, n, NULL), MM_OK);
    assert_rc(mm_scope_get(txn, id2, &rs), MM_ENOTFOUND);
    mm_txn_abort(&txn);
    mm_scope_wipe(&self);
    mm_scope_wipe(&gself);
    sodium_memzero(key, sizeof key);
}

/* A rekey of a relationship scope also writes its keys into the self
 * scope: an own device the rekey did not list gets them from there. */
static void test_rekey_keys_in_self(void **state)
{
    world_t *w = *state;
    uint8_t r[32];
    mm_scope_t s1, s2;
    mm_txn_t *txn;
    befriend(w->grace, w->a1, 6, "grace", r);
    assert_rc(fx_carry(w->a1, w->a2, w->self), MM_OK);
    const uint8_t (*to)[32] = (const uint8_t (*)[32]) mm_keypair_pk(w->d1);
    assert_rc(mm_store_begin(mm_home_store(w->a1), 1, &txn), MM_OK);
    assert_rc(mm_rekey_scope(txn, w->d1, r, to, 1, T0 + 30, NULL), MM_OK);
    assert_rc(mm_txn_commit(&txn), MM_OK);
    assert_rc(get_scope(w->a1, r, &s1), MM_OK);
    assert_int_equal(s1.nkeys, 2);
    assert_rc(fx_carry(w->a1, w->a2, w->self), MM_OK);
    assert_rc(get_scope(w->a2, r, &s2), MM_OK);
    assert_int_equal(s2.nkeys, 2);
    assert_memory_equal(s2.keys, s1.keys, sizeof s1.keys[0] * 2);
    mm_scope_wipe(&s1);
    mm_scope_wipe(&s2);
}

/* ---- a real session between the two devices, in memory ---- */

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

static int q_deliver(queue_t *q, mm_session_t *s)
{
    qframe_t *f = q->head;
    if (!f)
        return MM_OK;
    if (!(q->head = f->next))
        q->tail = &q->head;
    int rc = mm_session_input(s, f->b, f->len);
    free(f);
    return rc;
}

/* client syncs with server, its own other device, until both are done. */
static void session(mm_home_t *client, mm_home_t *server)
{
    queue_t to_c = { NULL, &to_c.head }, to_s = { NULL, &to_s.head };
    mm_session_t *c, *sv;
    uint8_t xc[32], xs[32];
    assert_rc(mm_pk_to_x25519(xc, mm_keypair_pk(mm_home_device(client))), MM_OK);
    assert_rc(mm_pk_to_x25519(xs, mm_keypair_pk(mm_home_device(server))), MM_OK);
    assert_rc(mm_session_new(client, 1, xs, mm_home_identity_pk(server), q_send, &to_s, &c),
              MM_OK);
    assert_rc(mm_session_new(server, 0, xc, NULL, q_send, &to_c, &sv), MM_OK);
    assert_rc(mm_session_start(c), MM_OK);
    while (to_c.head || to_s.head) {
        assert_rc(q_deliver(&to_s, sv), MM_OK);
        assert_rc(q_deliver(&to_c, c), MM_OK);
    }
    assert_string_equal(mm_session_error_text(c), "");
    assert_string_equal(mm_session_error_text(sv), "");
    assert_true(mm_session_done(c) && mm_session_done(sv));
    mm_session_destroy(&c);
    mm_session_destroy(&sv);
}

/* The laptop accepted Grace's invite and wrote in the new scope; one sync
 * with the phone carries the scope (self feed first) and then its entries,
 * Grace's included, in the same session; after a rekey, one more sync
 * carries the new key and what was written under it. */
static void test_one_session_carries_new_scope(void **state)
{
    world_t *w = *state;
    uint8_t r[32];
    befriend(w->grace, w->a1, 7, "grace", r);
    fx_give_cert(w->grace, w->a1);
    assert_rc(fx_carry(w->grace, w->a1, r), MM_OK);            /* Grace's invite entry */
    note_in(w->a1, r, "from the laptop");
    session(w->a2, w->a1);
    mm_peer_t p;
    assert_rc(get_peer(w->a2, mm_home_identity_pk(w->grace), &p), MM_OK);
    const uint8_t *gdev = mm_keypair_pk(mm_home_device(w->grace));
    mm_txn_t *txn;
    mm_head_t hg, h1;
    assert_rc(mm_store_begin(mm_home_store(w->a2), 0, &txn), MM_OK);
    assert_rc(mm_log_head(txn, gdev, r, &hg), MM_OK);
    assert_rc(mm_log_head(txn, mm_keypair_pk(w->d1), r, &h1), MM_OK);
    mm_txn_abort(&txn);
    assert_true(hg.seq == 1 && h1.seq == 1);

    /* a rekey (to the laptop and Grace only), then a note under the new key */
    uint8_t to[2][32];
    memcpy(to[0], mm_keypair_pk(w->d1), 32);
    memcpy(to[1], gdev, 32);
    assert_rc(mm_store_begin(mm_home_store(w->a1), 1, &txn), MM_OK);
    assert_rc(mm_rekey_scope(txn, w->d1, r, (const uint8_t (*)[32]) to, 2, T0 + 40, NULL),
              MM_OK);
    assert_rc(mm_txn_commit(&txn), MM_OK);
    note_in(w->a1, r, "after the rekey");
    session(w->a2, w->a1);
    mm_scope_t s;
    assert_rc(get_scope(w->a2, r, &s), MM_OK);
    assert_int_equal(s.nkeys, 2);                   /* from the self scope's `scope` entry */
    mm_scope_wipe(&s);
    assert_rc(mm_store_begin(mm_home_store(w->a2), 0, &txn), MM_OK);
    assert_rc(mm_log_head(txn, mm_keypair_pk(w->d1), r, &h1), MM_OK);
    mm_txn_abort(&txn);
    assert_true(h1.seq == 3);                       /* note, rekey, note */
}

/* A key learnt from one feed seals entries of another: the phone writes
 * under the key the laptop's rekey brought, and a third device syncing
 * with the phone must get the rekey first, whatever the order of the two
 * device keys (the sender orders a rekeyed scope's entries by the keys
 * they need, core/rekey.h). */
static void test_session_orders_by_key(void **state)
{
    world_t *w = *state;
    uint8_t r[32];
    mm_keypair_t *d3 = fx_keypair(0x43);
    mm_home_t *a3 = fx_home(w->dir, "a3", "Ada", w->ida, d3);
    fx_give_cert(a3, w->a1);
    fx_give_cert(a3, w->a2);
    fx_give_cert(w->a1, a3);
    fx_give_cert(w->a2, a3);
    share_self(a3, w->a1);
    befriend(w->grace, w->a1, 8, "grace", r);
    mm_home_t *devs[] = { w->a2, a3 };
    for (int i = 0; i < 2; i++) {
        assert_rc(fx_carry(w->a1, devs[i], w->self), MM_OK);
        fx_give_cert(devs[i], w->grace);
    }
    /* the rekeyer has the greater device key, so that (author, scope)
     * order alone would send the writer's feed first */
    int a1_first = memcmp(mm_keypair_pk(w->d1), mm_keypair_pk(w->d2), 32) < 0;
    mm_home_t *rk = a1_first ? w->a2 : w->a1, *wr = a1_first ? w->a1 : w->a2;
    uint8_t to[4][32];
    memcpy(to[0], mm_keypair_pk(w->d1), 32);
    memcpy(to[1], mm_keypair_pk(w->d2), 32);
    memcpy(to[2], mm_keypair_pk(d3), 32);
    memcpy(to[3], mm_keypair_pk(mm_home_device(w->grace)), 32);
    mm_txn_t *txn;
    assert_rc(mm_store_begin(mm_home_store(rk), 1, &txn), MM_OK);
    assert_rc(mm_rekey_scope(txn, mm_home_device(rk), r, (const uint8_t (*)[32]) to, 4, T0 + 50,
                             NULL), MM_OK);
    assert_rc(mm_txn_commit(&txn), MM_OK);
    assert_rc(fx_carry(rk, wr, r), MM_OK);
    note_in(wr, r, "under the new key");
    session(a3, wr);
    mm_head_t h;
    assert_rc(mm_store_begin(mm_home_store(a3), 0, &txn), MM_OK);
    assert_rc(mm_log_head(txn, mm_keypair_pk(mm_home_device(wr)), r, &h), MM_OK);
    mm_txn_abort(&txn);
    assert_true(h.seq == 1);
    mm_scope_t sc;
    assert_rc(get_scope(a3, r, &sc), MM_OK);
    assert_int_equal(sc.nkeys, 2);
    mm_scope_wipe(&sc);
    mm_home_close(&a3);
    mm_keypair_destroy(&d3);
}

/* What h holds of the relationship r with who: 1 if anything (scope
 * record, an entry of who's device there, who's certificate, the peer). */
static int holds_any(mm_home_t *h, mm_home_t *who, const uint8_t r[32])
{
    mm_txn_t *txn;
    mm_scope_t s;
    mm_cert_t c;
    mm_peer_t p;
    mm_head_t head;
    const uint8_t *dev = mm_keypair_pk(mm_home_device(who));
    assert_rc(mm_store_begin(mm_home_store(h), 0, &txn), MM_OK);
    int scope = mm_scope_get(txn, r, &s) == MM_OK;
    if (scope)
        mm_scope_wipe(&s);
    assert_rc(mm_log_head(txn, dev, r, &head), MM_OK);
    int cert = mm_cert_get(txn, dev, &c, NULL, NULL) == MM_OK;
    int peer = mm_peer_get(txn, mm_home_identity_pk(who), &p) == MM_OK;
    int marked = mm_purge_scope_gone(txn, r) && mm_purge_forgotten(txn, mm_home_identity_pk(who));
    mm_txn_abort(&txn);
    assert_int_equal(scope || head.seq || cert || peer, !marked);
    return scope || head.seq || cert || peer;
}

/* mm peer rm --purge on the laptop: the scope, its feeds and Grace's
 * certificate go there in one transaction; the phone does the same when it
 * stores the laptop's `peer-rm`; Lin's relationship is untouched; a purge
 * never touches another person's scope, nor this person's. */
static void test_purge_reaches_the_phone(void **state)
{
    world_t *w = *state;
    uint8_t r[32], rl[32];
    mm_txn_t *txn;
    mm_purge_t st;
    befriend(w->grace, w->a1, 5, "grace", r);
    befriend(w->lin, w->a1, 6, "lin", rl);
    note_in(w->grace, r, "from Grace");
    assert_rc(fx_carry(w->grace, w->a1, r), MM_OK);
    fx_give_cert(w->a2, w->grace);
    fx_give_cert(w->a2, w->lin);
    assert_rc(fx_carry(w->a1, w->a2, w->self), MM_OK);
    assert_rc(fx_carry(w->a1, w->a2, r), MM_OK);
    assert_true(holds_any(w->a2, w->grace, r));

    assert_rc(mm_store_begin(mm_home_store(w->a1), 1, &txn), MM_OK);
    /* never another person's scope, nor one's own identity */
    assert_rc(mm_purge_relationship(txn, mm_home_identity_pk(w->grace), rl, NULL), MM_EINVAL);
    assert_rc(mm_purge_relationship(txn, mm_home_identity_pk(w->a1), r, NULL), MM_EINVAL);
    assert_rc(mm_propagate_peer_purge(txn, w->d1, mm_home_identity_pk(w->grace), T0 + 30, &st),
              MM_OK);
    assert_rc(mm_txn_commit(&txn), MM_OK);
    assert_int_equal(st.scope, 1);
    assert_int_equal(st.entries, 2);            /* the invite entry and the note */
    assert_int_equal(st.devices, 1);
    assert_false(holds_any(w->a1, w->grace, r));
    assert_true(holds_any(w->a1, w->lin, rl));

    /* the phone, from the laptop's self feed */
    assert_true(holds_any(w->a2, w->grace, r));
    assert_rc(fx_carry(w->a1, w->a2, w->self), MM_OK);
    assert_false(holds_any(w->a2, w->grace, r));
    assert_true(holds_any(w->a2, w->lin, rl));
    /* Grace keeps her copy */
    assert_true(holds_any(w->grace, w->grace, r));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_invite_reaches_the_phone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_peer_device_from_cert, setup, teardown),
        cmocka_unit_test_setup_teardown(test_peer_changes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_only_from_self, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rekey_keys_in_self, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_session_carries_new_scope, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_orders_by_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_purge_reaches_the_phone, setup, teardown),
    };
    return cmocka_run_group_tests(tests, fx_setup_crypto, NULL);
}
