/*  fuzz_invite.c -- libFuzzer harness: becoming peers.  The codes people
 *  paste from one machine to another: invite codes (mm_invite_code_decode,
 *  what `mm accept CODE` reads), identity and device codes
 *  (mm_idcode_decode, what `mm peer show mmi...` and the rogue tool read),
 *  the base32 under both, and the checks an invite's endpoints and a
 *  petname go through; and the two frames of accepting an invite, each
 *  decoded and handed to the core step that acts on it: a hostile
 *  invitee's ACCEPT to mm_invite_redeem in the inviter's home, a hostile
 *  inviter's WELCOME to mm_invite_join in the invitee's.
 *
 *  Input: byte 0 picks the parser (0 invite code, 1 identity code, 2
 *  device code, 3 base32, 4 endpoint, 5 petname, 6 ACCEPT frame, 7 WELCOME
 *  frame); the rest is the text (NUL-terminated) or the frame.  A code
 *  that decodes must encode back to a code that decodes to the same thing
 *  (and base32 to the same text, lower-cased).  A refused ACCEPT or
 *  WELCOME says why; an accepted one leaves a valid peer record, and an
 *  invite redeemed once is refused the second time.  Both homes are put
 *  back as they were built after an input that wrote to them.
 *  Seeds in corpus/invite: `replay_invite --write-seeds DIR`.
 */
#include <ctype.h>
#include "tests/fuzz/fuzz.h"
#include "core/invite.h"
#include "core/peer.h"
#include "crypto/encoding.h"
#include "crypto/idcode.h"
#include "net/wire.h"

enum { DO_INVITE, DO_IDENTITY, DO_DEVICE, DO_BASE32, DO_ENDPOINT, DO_PETNAME, DO_ACCEPT,
       DO_WELCOME, DO_N };

#define NOW (FZ_TIME + 1000)

static fz_home_t inviter, invitee;  /* Grace, who made the invite; Ada, who holds its code */
static mm_invite_code_t code;       /* the code Grace gave Ada */
static uint8_t invite_pk[32];       /* the key Ada connects with */
static mm_msg_t *msg;               /* ~64 KiB: not on the stack */

static void close_homes(void)
{
    mm_home_close(&inviter.home);
    mm_home_close(&invitee.home);
    free(msg);
}

static void home(fz_home_t *h, const char *dir, const char *name, uint8_t id_tag,
                 uint8_t dev_tag, const char *devname)
{
    mm_keypair_t *id = fz_keypair(id_tag), *dev = fz_keypair(dev_tag);
    snprintf(h->path, sizeof h->path, "%s/%s", dir, name);
    FZ_OK(mm_home_init_keys(h->path, name, devname, FZ_TIME, id, dev));
    FZ_OK(mm_home_open(h->path, &h->home));
    mm_keypair_destroy(&id);
    mm_keypair_destroy(&dev);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    uint8_t sk[32];
    mm_invite_t inv;
    mm_txn_t *txn;
    const char *dir;

    FZ_OK(mm_crypto_init());
    FZ_ASSERT(msg = malloc(sizeof *msg));
    dir = fz_tmpdir();
    home(&inviter, dir, "Grace", FZ_GRACE_ID, FZ_GRACE_DEV, "laptop");
    home(&invitee, dir, "Ada", FZ_ADA_ID, FZ_ADA_DEV, "phone");
    atexit(close_homes);

    memset(&code, 0, sizeof code);
    memcpy(code.identity, mm_home_identity_pk(inviter.home), 32);
    memcpy(code.device, mm_keypair_pk(mm_home_device(inviter.home)), 32);
    memset(code.secret, 0x5e, 32);
    code.expires = FZ_TIME + 86400000;
    code.nendpoints = 1;
    snprintf(code.endpoints[0], sizeof code.endpoints[0], "tcp://127.0.0.1:7460");
    mm_invite_keys(code.secret, invite_pk, sk);
    memset(&inv, 0, sizeof inv);
    memcpy(inv.key, invite_pk, 32);
    inv.created = FZ_TIME;
    inv.expires = code.expires;
    inv.role = MM_ROLE_MENTOR;
    snprintf(inv.note, sizeof inv.note, "Happy to help in short bursts");
    FZ_OK(mm_store_begin(mm_home_store(inviter.home), 1, &txn));
    FZ_OK(mm_invite_put(txn, &inv));
    FZ_OK(mm_txn_commit(&txn));
    fz_home_keep(&inviter);
    fz_home_keep(&invitee);
    return 0;
}

static void same_code(const mm_invite_code_t *a, const mm_invite_code_t *b)
{
    FZ_ASSERT(memcmp(a->identity, b->identity, 32) == 0 && memcmp(a->device, b->device, 32) == 0
              && memcmp(a->secret, b->secret, 32) == 0 && a->expires == b->expires
              && a->nendpoints == b->nendpoints);
    for (unsigned i = 0; i < a->nendpoints; i++)
        FZ_ASSERT(strcmp(a->endpoints[i], b->endpoints[i]) == 0);
}

static void invite(const char *text)
{
    mm_invite_code_t c, again;
    char out[MM_INVITE_CODE_MAX];
    if (mm_invite_code_decode(text, &c) != MM_OK)
        return;
    FZ_ASSERT(c.nendpoints >= 1 && c.nendpoints <= MM_PEER_ENDPOINTS);
    for (unsigned i = 0; i < c.nendpoints; i++)
        FZ_ASSERT(mm_endpoint_valid(c.endpoints[i]));
    FZ_OK(mm_invite_code_encode(&c, out, sizeof out));
    FZ_OK(mm_invite_code_decode(out, &again));
    same_code(&c, &again);
}

static void idcode(const char *text, const char *prefix)
{
    uint8_t pk[32], again[32];
    char out[MM_IDCODE_LEN + 1];
    if (mm_idcode_decode(text, prefix, pk) != MM_OK)
        return;
    mm_idcode_encode(out, prefix, pk);
    FZ_ASSERT(strlen(out) == MM_IDCODE_LEN);
    for (size_t i = 0; i < MM_IDCODE_LEN; i++)      /* the same code, lower-cased */
        FZ_ASSERT(out[i] == tolower((unsigned char) text[i]));
    FZ_OK(mm_idcode_decode(out, prefix, again));
    FZ_ASSERT(memcmp(pk, again, 32) == 0);
}

static void base32(const char *text)
{
    static uint8_t raw[4096];
    static char out[8192];
    size_t n;
    if (mm_encoding_unbase32(text, raw, sizeof raw, &n) != MM_OK)
        return;
    FZ_OK(mm_encoding_base32(out, sizeof out, raw, n));
    FZ_ASSERT(strlen(out) == strlen(text));
    for (size_t i = 0; out[i]; i++)
        FZ_ASSERT(out[i] == tolower((unsigned char) text[i]));
}

/* A hostile invitee's ACCEPT, redeemed by Grace. */
static void redeem(const uint8_t *p, size_t n)
{
    mm_invite_grant_t g;
    mm_invite_t inv;
    mm_peer_t peer;
    mm_txn_t *txn;
    char why[256] = "";
    if (mm_wire_decode(p, n, msg) != MM_OK || msg->type != MM_MSG_ACCEPT)
        return;
    mm_invite_accept_t a = { msg->u.accept.cert, msg->u.accept.certlen, msg->u.accept.name,
                             msg->u.accept.namelen, msg->u.accept.sig };
    int rc = mm_invite_redeem(inviter.home, invite_pk, &a, NOW, &g, why, sizeof why);
    if (fz_verbose())
        fprintf(stderr, "invite: redeem: %s %s\n", mm_errname(rc), why);
    if (rc != MM_OK) {
        FZ_ASSERT(why[0]);                  /* every refusal says why */
    } else {
        FZ_ASSERT(mm_peer_name_valid(g.petname) && g.role == MM_ROLE_MENTOR);
        FZ_OK(mm_store_begin(mm_home_store(inviter.home), 0, &txn));
        FZ_OK(mm_peer_find(txn, g.petname, &peer));
        FZ_ASSERT(peer.role == MM_ROLE_MENTEE && memcmp(peer.scope, g.scope, 32) == 0);
        FZ_OK(mm_invite_get(txn, invite_pk, &inv));
        FZ_ASSERT(inv.used == NOW);
        mm_txn_abort(&txn);
        mm_invite_grant_wipe(&g);
        /* one invite, one peer */
        FZ_ASSERT(mm_invite_redeem(inviter.home, invite_pk, &a, NOW, &g, NULL, 0)
                  == MM_EREFUSED);
    }
    mm_invite_grant_wipe(&g);
    fz_home_reset(&inviter);
}

/* A hostile inviter's WELCOME, joined by Ada. */
static void join(const uint8_t *p, size_t n)
{
    mm_peer_t peer, stored;
    mm_scope_t sc;
    mm_txn_t *txn;
    char why[256] = "";
    if (mm_wire_decode(p, n, msg) != MM_OK || msg->type != MM_MSG_WELCOME)
        return;
    mm_invite_welcome_t w = { msg->u.welcome.cert, msg->u.welcome.certlen, msg->u.welcome.name,
                              msg->u.welcome.namelen, msg->u.welcome.scope, msg->u.welcome.key,
                              msg->u.welcome.role };
    int rc = mm_invite_join(invitee.home, &code, "grace", &w, NOW, &peer, why, sizeof why);
    if (fz_verbose())
        fprintf(stderr, "invite: join: %s %s\n", mm_errname(rc), why);
    if (rc != MM_OK) {
        FZ_ASSERT(why[0]);
    } else {
        FZ_ASSERT((peer.role == MM_ROLE_MENTOR || peer.role == MM_ROLE_MENTEE)
                  && strlen(peer.name) <= MM_PETNAME_MAX);
        FZ_OK(mm_store_begin(mm_home_store(invitee.home), 0, &txn));
        FZ_OK(mm_peer_get(txn, code.identity, &stored));
        FZ_ASSERT(strcmp(stored.petname, "grace") == 0 && strcmp(stored.name, peer.name) == 0);
        FZ_OK(mm_scope_get(txn, msg->u.welcome.scope, &sc));
        FZ_ASSERT(mm_scope_has_member(&sc, code.identity)
                  && mm_scope_has_member(&sc, mm_home_identity_pk(invitee.home)));
        mm_scope_wipe(&sc);
        mm_txn_abort(&txn);
    }
    fz_home_reset(&invitee);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (data[0] % DO_N == DO_ACCEPT || data[0] % DO_N == DO_WELCOME) {
        (data[0] % DO_N == DO_ACCEPT ? redeem : join)(data + 1, size - 1);
        return 0;
    }
    char *text = malloc(size);
    FZ_ASSERT(text);
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    switch (data[0] % DO_N) {
    case DO_INVITE:   invite(text); break;
    case DO_IDENTITY: idcode(text, MM_IDCODE_IDENTITY); break;
    case DO_DEVICE:   idcode(text, MM_IDCODE_DEVICE); break;
    case DO_BASE32:   base32(text); break;
    case DO_ENDPOINT:
        if (mm_endpoint_valid(text))
            FZ_ASSERT(strncmp(text, "tcp://", 6) == 0 && strlen(text) <= MM_ENDPOINT_MAX);
        break;
    default:
        if (mm_peer_name_valid(text))
            FZ_ASSERT(strlen(text) >= 1 && strlen(text) <= MM_PETNAME_MAX);
    }
    free(text);
    return 0;
}

/* ---- seeds ---- */

static void seed(const char *dir, const char *name, uint8_t sel, const char *text)
{
    static fz_buf_t s;
    s.len = 0;
    fz_buf_byte(&s, sel);
    fz_buf_add(&s, text, strlen(text));
    fz_seed_buf(dir, name, &s);
}

void fz_seeds(const char *dir)
{
    mm_keypair_t *id = fz_keypair(FZ_GRACE_ID), *dev = fz_keypair(FZ_GRACE_DEV);
    mm_invite_code_t c = code;
    char text[MM_INVITE_CODE_MAX], idc[MM_IDCODE_LEN + 1];
    uint8_t bytes[40];

    FZ_OK(mm_invite_code_encode(&c, text, sizeof text));
    seed(dir, "invite-1", DO_INVITE, text);
    for (size_t i = 4; text[i]; i++)        /* the prefix is case-sensitive, base32 not */
        text[i] = (char) toupper((unsigned char) text[i]);
    seed(dir, "invite-1-upper", DO_INVITE, text);
    c.nendpoints = MM_PEER_ENDPOINTS;
    snprintf(c.endpoints[1], sizeof c.endpoints[1], "tcp://[::1]:7460");
    snprintf(c.endpoints[2], sizeof c.endpoints[2], "tcp://grace.example.org:1");
    snprintf(c.endpoints[3], sizeof c.endpoints[3], "tcp://10.0.0.7:65535");
    FZ_OK(mm_invite_code_encode(&c, text, sizeof text));
    seed(dir, "invite-4", DO_INVITE, text);

    mm_idcode_encode(idc, MM_IDCODE_IDENTITY, mm_keypair_pk(id));
    seed(dir, "identity", DO_IDENTITY, idc);
    mm_idcode_encode(idc, MM_IDCODE_DEVICE, mm_keypair_pk(dev));
    seed(dir, "device", DO_DEVICE, idc);
    memset(bytes, 0xa5, sizeof bytes);
    FZ_OK(mm_encoding_base32(text, sizeof text, bytes, 37));
    seed(dir, "base32", DO_BASE32, text);
    seed(dir, "endpoint", DO_ENDPOINT, "tcp://192.168.1.20:7460");
    seed(dir, "endpoint-v6", DO_ENDPOINT, "tcp://[fe80::1]:7460");
    seed(dir, "petname", DO_PETNAME, "grace");
    seed(dir, "petname-utf8", DO_PETNAME, "Zo\xc3\xab-2");

    /* the frames of accepting the invite, as mm accept and mm serve make them */
    static uint8_t frame[4096];
    static fz_buf_t s;
    mm_invite_request_t req;
    mm_mp_writer_t w;
    char why[256];
    uint8_t raw[MM_CERT_MAX], scope[32], key[32];
    FZ_OK(mm_invite_prepare(invitee.home, &code, "grace", NOW, &req, why, sizeof why));
    static const char *const names[] = {
        "Ada", "Augusta Ada King, Countess of Lovelace, of the Analytical Engine", /* 64 bytes */
        "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
        "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
        "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
        "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
        "mmi-not-a-petname",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char name[32];
        mm_mp_writer_init(&w, frame, sizeof frame);
        mm_wire_accept(&w, req.cert, req.certlen, names[i], req.sig);
        FZ_OK(mm_mp_writer_status(&w));
        s.len = 0;
        fz_buf_byte(&s, DO_ACCEPT);
        fz_buf_add(&s, w.buf, w.len);
        snprintf(name, sizeof name, "accept-%zu", i);
        fz_seed_buf(dir, name, &s);
    }
    size_t certlen = fz_cert(id, dev, "laptop", raw);  /* Grace's, as her home made it */
    memset(scope, 0x41, sizeof scope);
    memset(key, 0x42, sizeof key);
    for (unsigned role = MM_ROLE_MENTOR; role <= MM_ROLE_MENTEE + 1; role++) {
        char name[32];
        mm_mp_writer_init(&w, frame, sizeof frame);
        mm_wire_welcome(&w, raw, certlen, "Grace", scope, key, role);
        FZ_OK(mm_mp_writer_status(&w));
        s.len = 0;
        fz_buf_byte(&s, DO_WELCOME);
        fz_buf_add(&s, w.buf, w.len);
        snprintf(name, sizeof name, "welcome-role-%u", role);
        fz_seed_buf(dir, name, &s);
    }
    mm_keypair_destroy(&id);
    mm_keypair_destroy(&dev);
}
