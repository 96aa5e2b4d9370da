/*  test_invite.c -- accepting an invite, both sides, in memory: the
 *  invitee prepares an ACCEPT, the inviter redeems it, the invitee joins on
 *  the WELCOME.  Two (or three) homes in temporary directories, no sockets.
 *  A refused ACCEPT must leave the invite unused and record nobody. */
#include "fixture.h"
#include "core/home.h"
#include "core/invite.h"
#include "core/log.h"
#include "core/peer.h"

#define T0   1767225600000ull       /* 2026-01-01T00:00:00Z */
#define HOUR 3600000ull

typedef struct {
    char dir[FX_PATH_MAX];
    mm_home_t *grace, *ada, *lin;   /* Grace invites; Ada and Lin accept */
} world_t;

static mm_home_t *new_home(world_t *w, const char *sub, const char *name)
{
    char path[FX_PATH_MAX];
    mm_home_t *h = NULL;
    fx_path(path, w->dir, sub);
    assert_rc(mm_home_init(path, name, "laptop", T0 - HOUR), MM_OK);
    assert_rc(mm_home_open(path, &h), MM_OK);
    return h;
}

static int setup(void **state)
{
    world_t *w = calloc(1, sizeof *w);
    assert_non_null(w);
    fx_mkdtemp(w->dir);
    w->grace = new_home(w, "grace", "Grace");
    w->ada = new_home(w, "ada", "Ada");
    w->lin = new_home(w, "lin", "Lin");
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world_t *w = *state;
    mm_home_close(&w->grace);
    mm_home_close(&w->ada);
    mm_home_close(&w->lin);
    fx_rmrf(w->dir);
    free(w);
    return 0;
}

/* Grace issues an invite (secret of tag bytes) as `mm invite` does: the
 * record in her store, the code for the invitee. */
static void issue(world_t *w, uint8_t tag, uint64_t expires, unsigned role, const char *note,
                  mm_invite_code_t *code)
{
    mm_invite_t inv;
    mm_txn_t *txn;
    uint8_t sk[32];
    memset(&inv, 0, sizeof inv);
    memset(code, 0, sizeof *code);
    memset(code->secret, tag, 32);
    mm_invite_keys(code->secret, inv.key, sk);
    inv.created = T0 - 1000;
    inv.expires = expires;
    inv.role = role;
    snprintf(inv.note, sizeof inv.note, "%s", note);
    assert_rc(mm_store_begin(mm_home_store(w->grace), 1, &txn), MM_OK);
    assert_rc(mm_invite_put(txn, &inv), MM_OK);
    assert_rc(mm_txn_commit(&txn), MM_OK);
    memcpy(code->identity, mm_home_identity_pk(w->grace), 32);
    memcpy(code->device, mm_keypair_pk(mm_home_device(w->grace)), 32);
    code->expires = expires;
    code->nendpoints = 1;
    strcpy(code->endpoints[0], "tcp://127.0.0.1:7460");
}

static void invite_pk(const mm_invite_code_t *code, uint8_t pk[32])
{
    uint8_t sk[32];
    mm_invite_keys(code->secret, pk, sk);
}

/* What the wire decoder would hand over for req / g. */
static mm_invite_accept_t accept_of(const mm_invite_request_t *req)
{
    mm_invite_accept_t a = { req->cert, req->certlen, req->name, strlen(req->name), req->sig };
    return a;
}

static mm_invite_welcome_t welcome_of(const mm_invite_grant_t *g)
{
    mm_invite_welcome_t wl = { g->cert, g->certlen, g->name, strlen(g->name), g->scope, g->key,
                               g->role };
    return wl;
}

/* An ACCEPT made by hand for a home that mm_invite_prepare would stop:
 * its device's certificate and signature over this invite and inviter. */
static void sign_by_hand(mm_home_t *h, const mm_invite_code_t *code, mm_invite_request_t *req)
{
    mm_txn_t *txn;
    mm_cert_t c;
    const uint8_t *raw;
    uint8_t pk[32], d[32];
    memset(req, 0, sizeof *req);
    assert_rc(mm_store_begin(mm_home_store(h), 0, &txn), MM_OK);
    assert_rc(mm_cert_get(txn, mm_keypair_pk(mm_home_device(h)), &c, &raw, &req->certlen),
              MM_OK);
    memcpy(req->cert, raw, req->certlen);
    mm_txn_abort(&txn);
    snprintf(req->name, sizeof req->name, "%s", mm_home_name(h));
    invite_pk(code, pk);
    mm_hash2(d, pk, 32, code->device, 32);
    assert_rc(mm_sign_digest(mm_home_device(h), MM_CTX_ACCEPT, d, req->sig), MM_OK);
}

static uint64_t used_at(world_t *w, const mm_invite_code_t *code)
{
    mm_invite_t inv;
    mm_txn_t *txn;
    uint8_t pk[32];
    invite_pk(code, pk);
    assert_rc(mm_store_begin(mm_home_store(w->grace), 0, &txn), MM_OK);
    assert_rc(mm_invite_get(txn, pk, &inv), MM_OK);
    mm_txn_abort(&txn);
    return inv.used;
}

static size_t npeers_fn_count;
static int count_peer(const mm_peer_t *p, void *arg)
{
    (void) p;
    (void) arg;
    npeers_fn_count++;
    return 0;
}

static size_t npeers(mm_home_t *h)
{
    mm_txn_t *txn;
    npeers_fn_count = 0;
    assert_rc(mm_store_begin(mm_home_store(h), 0, &txn), MM_OK);
    assert_rc(mm_peer_foreach(txn, count_peer, NULL), MM_OK);
    mm_txn_abort(&txn);
    return npeers_fn_count;
}

/* Prepare, redeem and join; returns the grant (the caller wipes it). */
static void redeem_ok(world_t *w, mm_home_t *who, const mm_invite_code_t *code,
                      const char *petname, mm_invite_grant_t *g, mm_peer_t *joined)
{
    mm_invite_request_t req;
    uint8_t pk[32];
    char why[256] = "";
    assert_rc(mm_invite_prepare(who, code, petname, T0, &req, why, sizeof why), MM_OK);
    mm_invite_accept_t a = accept_of(&req);
    invite_pk(code, pk);
    assert_rc(mm_invite_redeem(w->grace, pk, &a, T0, g, why, sizeof why), MM_OK);
    mm_invite_welcome_t wl = welcome_of(g);
    assert_rc(mm_invite_join(who, code, petname, &wl, T0, joined, why, sizeof why), MM_OK);
}

static void test_redeem_and_join(void **state)
{
    world_t *w = *state;
    mm_invite_code_t code;
    mm_invite_grant_t g;
    mm_peer_t joined, p;
    mm_scope_t s;
    mm_txn_t *txn;
    mm_head_t head;
    mm_cert_t c;
    const uint8_t *raw;
    size_t rawlen;
    issue(w, 0x11, T0 + HOUR, MM_ROLE_MENTOR, "Tuesdays suit me", &code);
    assert_true(used_at(w, &code) == 0);
    redeem_ok(w, w->ada, &code, "grace", &g, &joined);

    /* what the WELCOME carries */
    assert_int_equal(g.role, MM_ROLE_MENTOR);
    assert_string_equal(g.name, "Grace");
    assert_string_equal(g.petname, "Ada");
    assert_rc(mm_cert_parse(g.cert, g.certlen, &c), MM_OK);
    assert_memory_equal(c.device, mm_keypair_pk(mm_home_device(w->grace)), 32);

    /* Grace: invite used, Ada recorded, the scope made, the invite entry first */
    assert_true(used_at(w, &code) == T0);
    assert_rc(mm_store_begin(mm_home_store(w->grace), 0, &txn), MM_OK);
    assert_rc(mm_peer_get(txn, mm_home_identity_pk(w->ada), &p), MM_OK);
    assert_string_equal(p.petname, "Ada");
    assert_string_equal(p.name, "Ada");
    assert_int_equal(p.role, MM_ROLE_MENTEE);
    assert_memory_equal(p.scope, g.scope, 32);
    assert_memory_equal(p.device, mm_keypair_pk(mm_home_device(w->ada)), 32);
    assert_true(p.added == T0 && p.last_sync == 0);
    assert_rc(mm_scope_get(txn, g.scope, &s), MM_OK);
    assert_int_equal(s.kind, MM_SCOPE_PAIR);
    assert_memory_equal(mm_scope_key(&s), g.key, 32);
    assert_true(mm_scope_has_member(&s, mm_home_identity_pk(w->grace)));
    assert_true(mm_scope_has_member(&s, mm_home_identity_pk(w->ada)));
    mm_scope_wipe(&s);
    assert_rc(mm_cert_get(txn, mm_keypair_pk(mm_home_device(w->ada)), &c, &raw, &rawlen), MM_OK);
    assert_rc(mm_log_head(txn, mm_keypair_pk(mm_home_device(w->grace)), g.scope, &head), MM_OK);
    assert_true(head.seq == 1);
    mm_txn_abort(&txn);

    /* Ada: Grace recorded with the code's endpoints, the same scope and key */
    assert_string_equal(joined.petname, "grace");
    assert_string_equal(joined.name, "Grace");
    assert_int_equal(joined.role, MM_ROLE_MENTOR);
    assert_rc(mm_store_begin(mm_home_store(w->ada), 0, &txn), MM_OK);
    assert_rc(mm_peer_get(txn, mm_home_identity_pk(w->grace), &p), MM_OK);
    assert_string_equal(p.petname, "grace");
    assert_int_equal(p.nendpoints, 1);
    assert_string_equal(p.endpoints[0], "tcp://127.0.0.1:7460");
    assert_memory_equal(p.device, code.device, 32);
    assert_memory_equal(p.scope, g.scope, 32);
    assert_rc(mm_scope_get(txn, g.scope, &s), MM_OK);
    assert_memory_equal(mm_scope_key(&s), g.key, 32);
    mm_scope_wipe(&s);
    assert_rc(mm_cert_get(txn, code.device, &c, NULL, NULL), MM_OK);
    mm_txn_abort(&txn);
    mm_invite_grant_wipe(&g);

    /* and now Ada cannot prepare another acceptance of Grace's */
    mm_invite_request_t req;
    char why[256] = "";
    issue(w, 0x12, T0 + HOUR, MM_ROLE_MENTOR, "", &code);
    assert_rc(mm_invite_prepare(w->ada, &code, "grace2", T0, &req, why, sizeof why), MM_EEXIST);
    assert_non_null(strstr(why, "already peers"));
}

static void test_second_redeem_refused(void **state)
{
    world_t *w = *state;
    mm_invite_code_t code;
    mm_invite_grant_t g;
    mm_invite_request_t req;
    mm_peer_t joined;
    uint8_t pk[32];
    char why[256] = "";
    issue(w, 0x21, T0 + HOUR, MM_ROLE_MENTOR, "", &code);
    redeem_ok(w, w->ada, &code, "grace", &g, &joined);
    mm_invite_grant_wipe(&g);

    /* Lin got hold of the same code: used */
    invite_pk(&code, pk);
    assert_rc(mm_invite_prepare(w->lin, &code, "grace", T0, &req, why, sizeof why), MM_OK);
    mm_invite_accept_t a = accept_of(&req);
    assert_rc(mm_invite_redeem(w->grace, pk, &a, T0 + 1, &g, why, sizeof why), MM_EREFUSED);
    assert_non_null(strstr(why, "already used"));
    assert_true(g.certlen == 0);            /* nothing to send */
    assert_true(used_at(w, &code) == T0);   /* the first use stands */
    assert_int_equal(npeers(w->grace), 1);

    /* Ada again, by hand: still "used", which is checked first */
    sign_by_hand(w->ada, &code, &req);
    a = accept_of(&req);
    assert_rc(mm_invite_redeem(w->grace, pk, &a, T0 + 2, &g, why, sizeof why), MM_EREFUSED);
    assert_non_null(strstr(why, "already used"));

    /* an invite Grace never issued */
    uint8_t nokey[32];
    memset(nokey, 0x77, sizeof nokey);
    assert_rc(mm_invite_redeem(w->grace, nokey, &a, T0, &g, why, sizeof why), MM_EREFUSED);
    assert_non_null(strstr(why, "no such invite"));
}

static void test_expired(void **state)
{
    world_t *w = *state;
    mm_invite_code_t code;
    mm_invite_grant_t g;
    mm_invite_request_t req;
    uint8_t pk[32];
    char why[256] = "";
    issue(w, 0x31, T0 + HOUR, MM_ROLE_MENTEE, "", &code);
    invite_pk(&code, pk);

    /* the invitee's own check */
    assert_rc(mm_invite_prepare(w->ada, &code, "grace", T0 + HOUR + 1, &req, why, sizeof why),
              MM_EINVAL);
    assert_non_null(strstr(why, "expired"));

    /* the inviter's record decides, whatever the code claims */
    assert_rc(mm_invite_prepare(w->ada, &code, "grace", T0, &req, why, sizeof why), MM_OK);
    mm_invite_accept_t a = accept_of(&req);
    assert_rc(mm_invite_redeem(w->grace, pk, &a, T0 + HOUR + 1, &g, why, sizeof why),
              MM_EREFUSED);
    assert_non_null(strstr(why, "expired"));
    assert_true(used_at(w, &code) == 0);
    assert_int_equal(npeers(w->grace), 0);

    /* the last millisecond still counts */
    assert_rc(mm_invite_redeem(w->grace, pk, &a, T0 + HOUR, &g, why, sizeof why), MM_OK);
    assert_int_equal(g.role, MM_ROLE_MENTEE);
    mm_invite_grant_wipe(&g);
}

static void test_bad_signature(void **state)
{
    world_t *w = *state;
    mm_invite_code_t code, other;
    mm_invite_grant_t g;
    mm_invite_request_t req, elsewhere;
    mm_peer_t joined;
    uint8_t pk[32];
    char why[256] = "";
    issue(w, 0x41, T0 + HOUR, MM_ROLE_MENTOR, "", &code);
    invite_pk(&code, pk);
    assert_rc(mm_invite_prepare(w->ada, &code, "grace", T0, &req, why, sizeof why), MM_OK);

    /* one bit of the signature */
    req.sig[7] ^= 0x01;
    mm_invite_accept_t a = accept_of(&req);
    assert_rc(mm_invite_redeem(w->grace, pk, &a, T0, &g, why, sizeof why), MM_EBADSIG);
    assert_non_null(strstr(why, "not signed"));
    req.sig[7] ^= 0x01;

    /* a signature over another invite is no signature over this one */
    issue(w, 0x42, T0 + HOUR, MM_ROLE_MENTOR, "", &other);
    assert_rc(mm_invite_prepare(w->ada, &other, "grace", T0, &elsewhere, why, sizeof why), MM_OK);
    a = accept_of(&elsewhere);
    assert_rc(mm_invite_redeem(w->grace, pk, &a, T0, &g, why, sizeof why), MM_EBADSIG);

    /* Lin's certificate with Ada's signature */
    mm_invite_request_t lin;
    assert_rc(mm_invite_prepare(w->lin, &code, "grace", T0, &lin, why, sizeof why), MM_OK);
    a = accept_of(&req);
    a.cert = lin.cert;
    a.certlen = lin.certlen;
    assert_rc(mm_invite_redeem(w->grace, pk, &a, T0, &g, why, sizeof why), MM_EBADSIG);

    /* a certificate that does not verify */
    a = accept_of(&req);
    req.cert[req.certlen - 1] ^= 0x01;
    assert_rc(mm_invite_redeem(w->grace, pk, &a, T0, &g, why, sizeof why), MM_EBADCERT);
    assert_non_null(strstr(why, "certificate"));
    req.cert[req.certlen - 1] ^= 0x01;
    a.certlen = req.certlen - 1;
    assert_rc(mm_invite_redeem(w->grace, pk, &a, T0, &g, why, sizeof why), MM_EBADCERT);

    /* none of it used the invite up or recorded anyone */
    assert_true(used_at(w, &code) == 0);
    assert_int_equal(npeers(w->grace), 0);
    redeem_ok(w, w->ada, &code, "grace", &g, &joined);
    mm_invite_grant_wipe(&g);
}

static void test_own_and_existing_refused(void **state)
{
    world_t *w = *state;
    mm_invite_code_t code, again;
    mm_invite_grant_t g;
    mm_invite_request_t req;
    mm_peer_t joined;
    uint8_t pk[32];
    char why[256] = "";
    issue(w, 0x51, T0 + HOUR, MM_ROLE_MENTOR, "", &code);
    invite_pk(&code, pk);

    /* Grace accepting her own invite */
    assert_rc(mm_invite_prepare(w->grace, &code, "me", T0, &req, why, sizeof why), MM_EINVAL);
    sign_by_hand(w->grace, &code, &req);
    mm_invite_accept_t a = accept_of(&req);
    assert_rc(mm_invite_redeem(w->grace, pk, &a, T0, &g, why, sizeof why), MM_EINVAL);
    assert_true(used_at(w, &code) == 0);

    /* Ada, already a peer, with a second invite */
    redeem_ok(w, w->ada, &code, "grace", &g, &joined);
    mm_invite_grant_wipe(&g);
    issue(w, 0x52, T0 + HOUR, MM_ROLE_MENTOR, "", &again);
    invite_pk(&again, pk);
    sign_by_hand(w->ada, &again, &req);
    a = accept_of(&req);
    assert_rc(mm_invite_redeem(w->grace, pk, &a, T0, &g, why, sizeof why), MM_EEXIST);
    assert_true(used_at(w, &again) == 0);
    assert_int_equal(npeers(w->grace), 1);

    /* the invitee's own checks: a bad or taken petname */
    issue(w, 0x53, T0 + HOUR, MM_ROLE_MENTOR, "", &code);
    assert_rc(mm_invite_prepare(w->lin, &code, "mmi-no", T0, &req, why, sizeof why), MM_EINVAL);
    assert_rc(mm_invite_prepare(w->lin, &code, "", T0, &req, why, sizeof why), MM_EINVAL);
}

static void test_petnames_made_unique(void **state)
{
    world_t *w = *state;
    mm_invite_code_t code;
    mm_invite_grant_t g;
    mm_invite_request_t req;
    uint8_t pk[32];
    char why[256] = "";
    mm_txn_t *txn;
    mm_peer_t p;

    /* Grace already calls someone "Lin" */
    memset(&p, 0, sizeof p);
    memset(p.identity, 0x99, 32);
    strcpy(p.petname, "lin");
    p.role = MM_ROLE_MENTEE;
    assert_rc(mm_store_begin(mm_home_store(w->grace), 1, &txn), MM_OK);
    assert_rc(mm_peer_put(txn, &p), MM_OK);
    assert_rc(mm_txn_commit(&txn), MM_OK);

    issue(w, 0x61, T0 + HOUR, MM_ROLE_MENTOR, "", &code);
    invite_pk(&code, pk);
    assert_rc(mm_invite_prepare(w->lin, &code, "grace", T0, &req, why, sizeof why), MM_OK);
    mm_invite_accept_t a = accept_of(&req);
    assert_rc(mm_invite_redeem(w->grace, pk, &a, T0, &g, why, sizeof why), MM_OK);
    assert_string_equal(g.petname, "Lin-2");
    mm_invite_grant_wipe(&g);

    /* a name that cannot be a petname gives "peer" */
    mm_home_t *odd = new_home(w, "odd", "mmi odd");
    issue(w, 0x62, T0 + HOUR, MM_ROLE_MENTOR, "", &code);
    invite_pk(&code, pk);
    assert_rc(mm_invite_prepare(odd, &code, "grace", T0, &req, why, sizeof why), MM_OK);
    a = accept_of(&req);
    assert_rc(mm_invite_redeem(w->grace, pk, &a, T0, &g, why, sizeof why), MM_OK);
    assert_string_equal(g.petname, "peer");
    mm_invite_grant_wipe(&g);
    mm_home_close(&odd);

    /* a long name is cut for the "-NNN" suffix, at a character boundary */
    char longname[MM_NAME_MAX + 1];
    memset(longname, 'a', 59);
    memcpy(longname + 59, "\xc3\xa9", 3);       /* 59 + 2 bytes: the cut falls inside */
    mm_home_t *lng = new_home(w, "long", longname);
    issue(w, 0x63, T0 + HOUR, MM_ROLE_MENTOR, "", &code);
    invite_pk(&code, pk);
    assert_rc(mm_invite_prepare(lng, &code, "grace", T0, &req, why, sizeof why), MM_OK);
    a = accept_of(&req);
    assert_rc(mm_invite_redeem(w->grace, pk, &a, T0, &g, why, sizeof why), MM_OK);
    assert_int_equal(strlen(g.petname), 59);
    assert_true(mm_peer_name_valid(g.petname));
    mm_invite_grant_wipe(&g);
    mm_home_close(&lng);
}

static void test_join_checks_the_welcome(void **state)
{
    world_t *w = *state;
    mm_invite_code_t code;
    mm_invite_grant_t g;
    mm_invite_request_t req;
    mm_txn_t *txn;
    mm_peer_t p;
    uint8_t pk[32];
    char why[256] = "";
    issue(w, 0x71, T0 + HOUR, MM_ROLE_MENTOR, "", &code);
    invite_pk(&code, pk);
    assert_rc(mm_invite_prepare(w->ada, &code, "grace", T0, &req, why, sizeof why), MM_OK);
    mm_invite_accept_t a = accept_of(&req);
    assert_rc(mm_invite_redeem(w->grace, pk, &a, T0, &g, why, sizeof why), MM_OK);

    /* a certificate that is not the device the code names */
    mm_invite_request_t lin;
    mm_invite_code_t code2;
    issue(w, 0x72, T0 + HOUR, MM_ROLE_MENTOR, "", &code2);
    assert_rc(mm_invite_prepare(w->lin, &code2, "grace", T0, &lin, why, sizeof why), MM_OK);
    mm_invite_welcome_t wl = welcome_of(&g);
    wl.cert = lin.cert;
    wl.certlen = lin.certlen;
    assert_rc(mm_invite_join(w->ada, &code, "grace", &wl, T0, &p, why, sizeof why), MM_EBADCERT);

    /* a role that is neither */
    wl = welcome_of(&g);
    wl.role = 3;
    assert_rc(mm_invite_join(w->ada, &code, "grace", &wl, T0, &p, why, sizeof why), MM_EPROTO);
    wl.role = ((uint64_t) 1 << 32) | MM_ROLE_MENTOR;   /* no truncation to a valid one */
    assert_rc(mm_invite_join(w->ada, &code, "grace", &wl, T0, &p, why, sizeof why), MM_EPROTO);

    /* nothing was stored; the genuine WELCOME still joins */
    assert_int_equal(npeers(w->ada), 0);
    wl = welcome_of(&g);
    assert_rc(mm_invite_join(w->ada, &code, "grace", &wl, T0, NULL, why, sizeof why), MM_OK);
    assert_rc(mm_store_begin(mm_home_store(w->ada), 0, &txn), MM_OK);
    assert_rc(mm_peer_get(txn, mm_home_identity_pk(w->grace), &p), MM_OK);
    mm_txn_abort(&txn);
    mm_invite_grant_wipe(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_redeem_and_join, setup, teardown),
        cmocka_unit_test_setup_teardown(test_second_redeem_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expired, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_signature, setup, teardown),
        cmocka_unit_test_setup_teardown(test_own_and_existing_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_petnames_made_unique, setup, teardown),
        cmocka_unit_test_setup_teardown(test_join_checks_the_welcome, setup, teardown),
    };
    return cmocka_run_group_tests(tests, fx_setup_crypto, NULL);
}
