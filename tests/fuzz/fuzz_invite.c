/*  fuzz_invite.c -- libFuzzer harness: the codes people paste from one
 *  machine to another.  Invite codes (mm_invite_code_decode, what `mm
 *  accept CODE` reads), identity and device codes (mm_idcode_decode, what
 *  `mm peer show mmi...` and the rogue tool read), the base32 under both,
 *  and the checks an invite's endpoints and a petname go through.
 *
 *  Input: byte 0 picks the parser (0 invite code, 1 identity code, 2
 *  device code, 3 base32, 4 endpoint, 5 petname); the rest, NUL-terminated,
 *  is the text.  A code that decodes must encode back to a code that
 *  decodes to the same thing (and base32 to the same text, lower-cased).
 *  Seeds in corpus/invite: `replay_invite --write-seeds DIR`.
 */
#include <ctype.h>
#include "tests/fuzz/fuzz.h"
#include "core/invite.h"
#include "core/peer.h"
#include "crypto/idcode.h"

enum { DO_INVITE, DO_IDENTITY, DO_DEVICE, DO_BASE32, DO_ENDPOINT, DO_PETNAME, DO_N };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    FZ_OK(mm_crypto_init());
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
    if (mm_base32_decode(text, raw, sizeof raw, &n) != MM_OK)
        return;
    FZ_OK(mm_base32_encode(out, sizeof out, raw, n));
    FZ_ASSERT(strlen(out) == strlen(text));
    for (size_t i = 0; out[i]; i++)
        FZ_ASSERT(out[i] == tolower((unsigned char) text[i]));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
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
    mm_invite_code_t c;
    char code[MM_INVITE_CODE_MAX], idc[MM_IDCODE_LEN + 1];
    uint8_t raw[40];

    memset(&c, 0, sizeof c);
    memcpy(c.identity, mm_keypair_pk(id), 32);
    memcpy(c.device, mm_keypair_pk(dev), 32);
    memset(c.secret, 0x5e, 32);
    c.expires = FZ_TIME + 86400000;
    c.nendpoints = 1;
    snprintf(c.endpoints[0], sizeof c.endpoints[0], "tcp://127.0.0.1:7460");
    FZ_OK(mm_invite_code_encode(&c, code, sizeof code));
    seed(dir, "invite-1", DO_INVITE, code);
    for (size_t i = 4; code[i]; i++)        /* the prefix is case-sensitive, base32 not */
        code[i] = (char) toupper((unsigned char) code[i]);
    seed(dir, "invite-1-upper", DO_INVITE, code);
    c.nendpoints = MM_PEER_ENDPOINTS;
    snprintf(c.endpoints[1], sizeof c.endpoints[1], "tcp://[::1]:7460");
    snprintf(c.endpoints[2], sizeof c.endpoints[2], "tcp://grace.example.org:1");
    snprintf(c.endpoints[3], sizeof c.endpoints[3], "tcp://10.0.0.7:65535");
    FZ_OK(mm_invite_code_encode(&c, code, sizeof code));
    seed(dir, "invite-4", DO_INVITE, code);

    mm_idcode_encode(idc, MM_IDCODE_IDENTITY, mm_keypair_pk(id));
    seed(dir, "identity", DO_IDENTITY, idc);
    mm_idcode_encode(idc, MM_IDCODE_DEVICE, mm_keypair_pk(dev));
    seed(dir, "device", DO_DEVICE, idc);
    memset(raw, 0xa5, sizeof raw);
    FZ_OK(mm_base32_encode(code, sizeof code, raw, 37));
    seed(dir, "base32", DO_BASE32, code);
    seed(dir, "endpoint", DO_ENDPOINT, "tcp://192.168.1.20:7460");
    seed(dir, "endpoint-v6", DO_ENDPOINT, "tcp://[fe80::1]:7460");
    seed(dir, "petname", DO_PETNAME, "grace");
    seed(dir, "petname-utf8", DO_PETNAME, "Zo\xc3\xab-2");
    mm_keypair_destroy(&id);
    mm_keypair_destroy(&dev);
}
