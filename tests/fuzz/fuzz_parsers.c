/*  fuzz_parsers.c -- libFuzzer harness over every parser fed by disk or
 *  network: entries (through the whole verifier), certificates, bodies,
 *  scope records, wire frames, invite codes and raw msgpack skipping.
 *  The first input byte picks the parser; the rest is its input.
 *
 *  cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DMM_FUZZ=ON
 *  cmake --build build-fuzz --target fuzz_parsers
 *  build-fuzz/tests/fuzz_parsers -max_total_time=300
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "core/body.h"
#include "core/cert.h"
#include "core/entry.h"
#include "core/invite.h"
#include "core/mp.h"
#include "core/scope.h"
#include "net/wire.h"
#include "crypto/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static mm_keypair_t *dev;
static mm_cert_t cert;
static mm_scope_t scope;

static void init(void)
{
    uint8_t seed[32], raw[MM_CERT_MAX];
    size_t len;
    mm_crypto_init();
    memset(seed, 1, 32);
    mm_keypair_t *id = mm_keypair_new_from_seed(seed);
    memset(seed, 2, 32);
    dev = mm_keypair_new_from_seed(seed);
    mm_cert_make(id, mm_keypair_pk(dev), 1, "fuzz", raw, sizeof raw, &len);
    mm_cert_parse(raw, len, &cert);
    mm_scope_self_id(scope.id, mm_keypair_pk(id));
    scope.kind = MM_SCOPE_SELF;
    scope.nmembers = 1;
    memcpy(scope.members[0], mm_keypair_pk(id), 32);
    memset(scope.key, 3, 32);
    mm_keypair_destroy(&id);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        init();
        ready = 1;
    }
    if (size < 1)
        return 0;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    switch (data[0] % 7) {
    case 0: {
        mm_head_t head = { 0 };
        mm_verify_ctx_t ctx = { &head, &cert, &scope };
        mm_entry_t e;
        mm_entry_verify(p, n, &ctx, 0, &e);
        break;
    }
    case 1: {
        mm_cert_t c;
        mm_cert_parse(p, n, &c);
        break;
    }
    case 2: {
        const char *s;
        uint32_t sl;
        uint64_t v;
        if (mm_body_check(p, n) == MM_OK) {
            mm_body_str(p, n, "text", &s, &sl);
            mm_body_uint(p, n, "n", &v);
        }
        break;
    }
    case 3: {
        mm_scope_t s;
        mm_scope_decode(p, n, &s);
        break;
    }
    case 4: {
        mm_msg_t *m = malloc(sizeof *m);
        mm_have_t h;
        if (m && mm_wire_decode(p, n, m) == MM_OK && m->type == MM_MSG_HAVE)
            while (mm_wire_have_next(m, &h))
                ;
        free(m);
        break;
    }
    case 5: {
        char *text = malloc(n + 1);
        mm_invite_code_t c;
        if (text) {
            memcpy(text, p, n);
            text[n] = '\0';
            mm_invite_code_decode(text, &c);
            free(text);
        }
        break;
    }
    default: {
        mm_mp_reader_t r;
        mm_mp_reader_init(&r, p, n);
        while (mm_mp_skip(&r) == MM_OK && mm_mp_left(&r))
            ;
    }
    }
    return 0;
}
