/*  fuzz_pair.c -- libFuzzer harness: pairing a device (PROTOCOL.md 9.1).
 *  The pairing code a person types or scans (mm_pair_code_decode, what
 *  `mm init --join CODE` reads), a hostile joiner's JOIN frame (decoded by
 *  mm_pair_join_parse and granted by mm_pair_grant in Ada's identity
 *  home, as after the person said yes), and a hostile pairer's PAIRED
 *  frame (mm_pair_apply, building a new home from it).
 *
 *  Input: byte 0 picks the parser (0 code, 1 JOIN, 2 PAIRED); the rest is
 *  the text (NUL-terminated) or the frame.  A code that decodes encodes
 *  back to one that decodes to the same; a JOIN that parses and is
 *  granted leaves the joiner certified by Ada with flags 0; a PAIRED that
 *  applies leaves a home that opens with the code's identity and the
 *  joiner's key, and a refused one leaves no directory.  Ada's home is put
 *  back as it was built after an input that wrote to it.
 *  Seeds in corpus/pair: `replay_pair --write-seeds DIR`.
 */
#include "tests/fuzz/fuzz.h"
#include "core/cert.h"
#include "core/pair.h"

enum { DO_CODE, DO_JOIN, DO_PAIRED, DO_N };

static fz_home_t ada;               /* the identity device */
static mm_keypair_t *idkey, *phone; /* Ada's identity key; the joining device */
static mm_pair_code_t code;         /* the code Ada's device shows */
static char newhome[FZ_PATH_MAX + 16];

static void cleanup(void)
{
    mm_home_close(&ada.home);
    mm_keypair_destroy(&idkey);
    mm_keypair_destroy(&phone);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    mm_keypair_t *dev;
    char eps[1][MM_ENDPOINT_MAX + 1] = { "tcp://127.0.0.1:7461" };
    const char *dir;
    (void) argc;
    (void) argv;
    FZ_OK(mm_crypto_init());
    dir = fz_tmpdir();
    dev = fz_keypair(FZ_ADA_DEV);
    idkey = fz_keypair(FZ_ADA_ID);
    phone = fz_keypair(0x23);
    snprintf(ada.path, sizeof ada.path, "%s/ada", dir);
    snprintf(newhome, sizeof newhome, "%s/phone", dir);
    FZ_OK(mm_home_init_keys(ada.path, "Ada", "laptop", FZ_TIME, idkey, dev));
    FZ_OK(mm_home_open(ada.path, &ada.home));
    mm_keypair_destroy(&dev);
    atexit(cleanup);
    mm_pair_code_new(ada.home, FZ_TIME + 600000, eps, 1, &code);
    memset(code.secret, 0x5f, 32);  /* fixed, so the seeds stay valid */
    fz_home_keep(&ada);
    return 0;
}

static void same_code(const mm_pair_code_t *a, const mm_pair_code_t *b)
{
    FZ_ASSERT(memcmp(a->identity, b->identity, 32) == 0 && memcmp(a->device, b->device, 32) == 0
              && memcmp(a->secret, b->secret, 32) == 0 && a->expires == b->expires
              && a->nendpoints == b->nendpoints);
    for (unsigned i = 0; i < a->nendpoints; i++)
        FZ_ASSERT(strcmp(a->endpoints[i], b->endpoints[i]) == 0);
}

static void do_code(const char *text)
{
    mm_pair_code_t c, again;
    char out[MM_PAIR_CODE_MAX];
    if (mm_pair_code_decode(text, &c) != MM_OK)
        return;
    FZ_ASSERT(c.nendpoints >= 1 && c.nendpoints <= MM_PEER_ENDPOINTS);
    for (unsigned i = 0; i < c.nendpoints; i++)
        FZ_ASSERT(mm_endpoint_valid(c.endpoints[i]));
    FZ_OK(mm_pair_code_encode(&c, out, sizeof out));
    FZ_OK(mm_pair_code_decode(out, &again));
    same_code(&c, &again);
}

static void do_join(const uint8_t *p, size_t n)
{
    mm_pair_join_t j;
    uint8_t *frame = NULL;
    size_t flen = 0;
    char why[256] = "";
    mm_txn_t *txn;
    mm_cert_t c;
    if (mm_pair_join_parse(p, n, &j) != MM_OK)
        return;
    FZ_ASSERT(strlen(j.name) <= MM_DEVNAME_MAX);
    int rc = mm_pair_grant(ada.home, idkey, &j, &frame, &flen, why, sizeof why);
    if (fz_verbose())
        fprintf(stderr, "pair: grant: %s %s\n", mm_errname(rc), why);
    if (rc != MM_OK) {
        FZ_ASSERT(why[0] && !frame);
    } else {
        FZ_ASSERT(frame && flen > 0 && flen <= MM_PAIR_PAIRED_MAX);
        FZ_OK(mm_store_begin(mm_home_store(ada.home), 0, &txn));
        FZ_OK(mm_cert_get(txn, j.device, &c, NULL, NULL));
        FZ_ASSERT(c.version == 2 && c.flags == 0
                  && memcmp(c.identity, mm_home_identity_pk(ada.home), 32) == 0
                  && strcmp(c.name, j.name) == 0);
        mm_txn_abort(&txn);
    }
    mm_pair_paired_free(&frame, flen);
    fz_home_reset(&ada);
}

static void do_paired(const uint8_t *p, size_t n)
{
    mm_pair_summary_t sum;
    mm_home_t *h = NULL;
    struct stat st;
    int rc = mm_pair_apply(newhome, &code, phone, p, n, FZ_TIME, &sum);
    if (fz_verbose())
        fprintf(stderr, "pair: apply: %s\n", mm_errname(rc));
    if (rc != MM_OK) {
        FZ_ASSERT(lstat(newhome, &st) != 0);     /* nothing half-built */
        return;
    }
    FZ_OK(mm_home_open(newhome, &h));
    FZ_ASSERT(memcmp(mm_home_identity_pk(h), code.identity, 32) == 0
              && memcmp(mm_keypair_pk(mm_home_device(h)), mm_keypair_pk(phone), 32) == 0
              && strcmp(mm_home_name(h), sum.name) == 0);
    mm_home_close(&h);
    FZ_ASSERT(fz_rmrf(newhome) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (data[0] % DO_N == DO_JOIN) {
        do_join(data + 1, size - 1);
        return 0;
    }
    if (data[0] % DO_N == DO_PAIRED) {
        do_paired(data + 1, size - 1);
        return 0;
    }
    char *text = malloc(size);
    FZ_ASSERT(text);
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    do_code(text);
    free(text);
    return 0;
}

/* ---- seeds ---- */

void fz_seeds(const char *dir)
{
    static fz_buf_t s;
    static uint8_t join[MM_PAIR_JOIN_MAX];
    char text[MM_PAIR_CODE_MAX], why[256];
    size_t joinlen, flen;
    uint8_t *frame = NULL;
    mm_pair_join_t j;

    FZ_OK(mm_pair_code_encode(&code, text, sizeof text));
    s.len = 0;
    fz_buf_byte(&s, DO_CODE);
    fz_buf_add(&s, text, strlen(text));
    fz_seed_buf(dir, "code", &s);

    FZ_OK(mm_pair_join_build(phone, &code, "phone", FZ_TIME, join, sizeof join, &joinlen));
    s.len = 0;
    fz_buf_byte(&s, DO_JOIN);
    fz_buf_add(&s, join, joinlen);
    fz_seed_buf(dir, "join", &s);

    FZ_OK(mm_pair_join_parse(join, joinlen, &j));
    FZ_OK(mm_pair_grant(ada.home, idkey, &j, &frame, &flen, why, sizeof why));
    s.len = 0;
    fz_buf_byte(&s, DO_PAIRED);
    fz_buf_add(&s, frame, flen);
    fz_seed_buf(dir, "paired", &s);
    mm_pair_paired_free(&frame, flen);
    fz_home_reset(&ada);
}
