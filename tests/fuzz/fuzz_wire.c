/*  fuzz_wire.c -- libFuzzer harness: mm_wire_decode, the decoder of every
 *  frame a remote device sends (PROTOCOL.md, "Sync protocol").
 *
 *  The input is one frame.  Beyond not crashing, a frame that decodes must
 *  be what the encoders write: mm's msgpack is canonical, so encoding the
 *  decoded message again gives back the very same bytes (HELLO of another
 *  version, and names holding a NUL, which the encoders cannot write, are
 *  left out).  The decoder's counts are checked against what HAVE holds.
 */
#include "tests/fuzz/fuzz.h"
#include "core/cert.h"
#include "core/entry.h"
#include "net/wire.h"

static mm_msg_t *msg;               /* ~64 KiB: not on the stack */
static uint8_t (*refuse)[32];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    FZ_OK(mm_crypto_init());
    msg = malloc(sizeof *msg);
    refuse = malloc(MM_REFUSE_MAX * sizeof *refuse);
    FZ_ASSERT(msg && refuse);
    return 0;
}

/* s[0..n) as a C string into out (cap > MM_NAME_WIRE_MAX), or 0 if it
 * holds a NUL (mm_mp_put_cstr could not write it). */
static int cstr(char *out, size_t cap, const char *s, uint32_t n)
{
    FZ_ASSERT(n < cap);
    if (memchr(s, 0, n))
        return 0;
    memcpy(out, s, n);
    out[n] = '\0';
    return 1;
}

/* Encode m again into w; 0 if the encoders cannot say it. */
static int encode(mm_mp_writer_t *w, mm_msg_t *m)
{
    char name[MM_NAME_WIRE_MAX + 1];
    mm_have_t h;
    uint32_t feeds = 0;
    switch (m->type) {
    case MM_MSG_HELLO:
        if (m->u.hello.version != MM_PROTO_VERSION
            || !cstr(name, sizeof name, m->u.hello.name, m->u.hello.namelen))
            return 0;
        mm_wire_hello(w, m->u.hello.cert, m->u.hello.certlen, name);
        return 1;
    case MM_MSG_HAVE:
        FZ_ASSERT(m->u.have.n <= MM_HAVE_MAX && m->u.have.nrefuse <= MM_REFUSE_MAX);
        FZ_ASSERT(m->u.have.refuselen == (size_t) m->u.have.nrefuse * 34);
        mm_wire_have_begin(w, m->u.have.last, m->u.have.n);
        while (mm_wire_have_next(m, &h)) {
            mm_wire_have_feed(w, &h);
            feeds++;
        }
        FZ_ASSERT(feeds == m->u.have.n);
        for (uint32_t i = 0; i < m->u.have.nrefuse; i++)
            memcpy(refuse[i], mm_wire_refuse(m, i), 32);
        mm_wire_have_end(w, (const uint8_t (*)[32]) refuse, m->u.have.nrefuse);
        return 1;
    case MM_MSG_CERT:
        mm_wire_cert(w, m->u.cert.cert, m->u.cert.certlen);
        return 1;
    case MM_MSG_ENTRIES:
        FZ_ASSERT(m->u.entries.n >= 1 && m->u.entries.n <= MM_RUN_MAX);
        mm_wire_entries_begin(w, m->u.entries.n);
        for (uint32_t i = 0; i < m->u.entries.n; i++) {
            FZ_ASSERT(m->u.entries.lens[i] <= MM_ENTRY_MAX);
            mm_wire_entries_add(w, m->u.entries.bufs[i], m->u.entries.lens[i]);
        }
        return 1;
    case MM_MSG_ACK:
        FZ_ASSERT(m->u.ack.frames >= 1 && m->u.ack.frames <= MM_CREDIT_INITIAL);
        mm_wire_ack(w, m->u.ack.frames);
        return 1;
    case MM_MSG_DONE:
        mm_wire_done(w);
        return 1;
    case MM_MSG_ERROR:
        /* mm_wire_error writes a code's name: check the mapping back instead */
        FZ_ASSERT(m->u.error.codelen <= 32 && m->u.error.textlen <= 1024);
        FZ_ASSERT(mm_wire_errcode(m->u.error.code, m->u.error.codelen) <= MM_OK);
        return 0;
    case MM_MSG_ACCEPT:
        if (!cstr(name, sizeof name, m->u.accept.name, m->u.accept.namelen))
            return 0;
        mm_wire_accept(w, m->u.accept.cert, m->u.accept.certlen, name, m->u.accept.sig);
        return 1;
    case MM_MSG_DEVICES:
        mm_wire_devices_begin(w);
        for (int l = 0; l < 3; l++) {
            const uint8_t *p;
            uint32_t len, got = 0;
            mm_wire_devices_list(w, m->u.devices.n[l]);
            while (mm_wire_devices_next(m, l, &p, &len)) {
                mm_wire_devices_add(w, p, len);
                got++;
            }
            FZ_ASSERT(got == m->u.devices.n[l]);
        }
        return 1;
    case MM_MSG_WELCOME:
        if (m->u.welcome.role > 0xffffffffu
            || !cstr(name, sizeof name, m->u.welcome.name, m->u.welcome.namelen))
            return 0;
        mm_wire_welcome(w, m->u.welcome.cert, m->u.welcome.certlen, name, m->u.welcome.scope,
                        m->u.welcome.key, (unsigned) m->u.welcome.role);
        return 1;
    case MM_MSG_FORK:
        FZ_ASSERT(m->u.fork.n >= 1 && m->u.fork.n <= MM_FORK_ENTRIES_MAX);
        for (uint32_t i = 0; i < m->u.fork.n; i++)
            FZ_ASSERT(m->u.fork.lens[i] <= MM_ENTRY_MAX);
        mm_wire_fork(w, m->u.fork.bufs, m->u.fork.lens, m->u.fork.n);
        return 1;
    case MM_MSG_SCOPES: {
        mm_mailbox_told_t t;
        FZ_ASSERT(m->u.scopes.n <= MM_MAILBOX_SCOPES_MAX
                  && m->u.scopes.nblocked <= MM_MAILBOX_BLOCKED_MAX);
        if (mm_wire_scopes_told(m, &t) != MM_OK)
            return 0;
        FZ_ASSERT(t.n == m->u.scopes.n && t.nblocked == m->u.scopes.nblocked);
        mm_wire_scopes(w, &t);
        mm_mailbox_told_free(&t);
        return 1;
    }
    case MM_MSG_LINK:
        if (!cstr(name, sizeof name, m->u.link.name, m->u.link.namelen))
            return 0;
        mm_wire_link(w, m->u.link.identity, name);
        return 1;
    case MM_MSG_CONSENT:
        mm_wire_consent(w, m->u.consent.devsig);
        return 1;
    case MM_MSG_CERTIFY:
        if (!cstr(name, sizeof name, m->u.certify.name, m->u.certify.namelen))
            return 0;
        mm_wire_certify(w, m->u.certify.cert, m->u.certify.certlen, name);
        return 1;
    }
    FZ_ASSERT(!"a decoded message has a type");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (mm_wire_decode(data, size, msg) != MM_OK)
        return 0;
    uint8_t *out = malloc(size + 1);
    FZ_ASSERT(out);
    mm_mp_writer_t w;
    mm_mp_writer_init(&w, out, size + 1);
    if (encode(&w, msg)) {
        FZ_OK(mm_mp_writer_status(&w));
        FZ_ASSERT(w.len == size && memcmp(out, data, size) == 0);
    }
    free(out);
    return 0;
}

/* ---- seeds: one frame of each type, as the engine writes them ---- */

static void seed(const char *dir, const char *name, const mm_mp_writer_t *w)
{
    FZ_OK(mm_mp_writer_status(w));
    fz_seed_write(dir, name, w->buf, w->len);
}

void fz_seeds(const char *dir)
{
    static uint8_t buf[16384];
    uint8_t cert[MM_CERT_MAX], sig[64], e1[512], e2[512], scope[32], key[32];
    size_t certlen, e1len, e2len;
    mm_keypair_t *id = fz_keypair(0x11), *dev = fz_keypair(0x12);
    mm_mp_writer_t w;
    mm_scope_t sc;
    mm_head_t head = { 0 };
    const uint8_t body[] = { 0x81, 0xa1, 't', 0xa4, 'n', 'o', 't', 'e' };     /* {"t":"note"} */

    FZ_OK(mm_cert_make(id, dev, FZ_TIME, "laptop", 0, cert, sizeof cert, &certlen));
    memset(&sc, 0, sizeof sc);
    memset(sc.id, 0x41, 32);
    memset(sc.keys[0], 0x42, 32);
    sc.nkeys = 1;
    uint8_t nonce[MM_NONCE_BYTES];
    memset(nonce, 1, sizeof nonce);
    FZ_OK(mm_entry_seal(dev, &sc, &head, FZ_TIME, nonce, body, sizeof body, e1, sizeof e1,
                        &e1len));
    head.seq = 1;
    mm_hash(head.id, e1, e1len);
    memset(nonce, 2, sizeof nonce);
    FZ_OK(mm_entry_seal(dev, &sc, &head, FZ_TIME + 1, nonce, body, sizeof body, e2, sizeof e2,
                        &e2len));
    memset(sig, 0x5a, sizeof sig);
    memset(scope, 0x41, sizeof scope);
    memset(key, 0x42, sizeof key);

    mm_mp_writer_init(&w, buf, sizeof buf);
    mm_wire_hello(&w, cert, certlen, "Grace");
    seed(dir, "hello", &w);

    mm_mp_writer_init(&w, buf, sizeof buf);
    mm_wire_devices_begin(&w);
    mm_wire_devices_list(&w, 1);
    mm_wire_devices_add(&w, cert, certlen);
    mm_wire_devices_list(&w, 0);
    mm_wire_devices_list(&w, 0);
    seed(dir, "devices", &w);

    mm_have_t h;
    memcpy(h.author, mm_keypair_pk(dev), 32);
    memcpy(h.scope, scope, 32);
    h.seq = 2;
    memset(h.head, 0x5a, sizeof h.head);
    uint8_t refused[2][32];
    memset(refused, 0x77, sizeof refused);
    mm_mp_writer_init(&w, buf, sizeof buf);
    mm_wire_have_begin(&w, 1, 2);
    mm_wire_have_feed(&w, &h);
    h.seq = 300;
    h.scope[0] ^= 1;
    mm_wire_have_feed(&w, &h);
    mm_wire_have_end(&w, (const uint8_t (*)[32]) refused, 2);
    seed(dir, "have", &w);
    mm_mp_writer_init(&w, buf, sizeof buf);
    mm_wire_have_begin(&w, 0, 0);
    mm_wire_have_end(&w, NULL, 0);
    seed(dir, "have-empty", &w);

    mm_mp_writer_init(&w, buf, sizeof buf);
    mm_wire_cert(&w, cert, certlen);
    seed(dir, "cert", &w);

    mm_mp_writer_init(&w, buf, sizeof buf);
    mm_wire_entries_begin(&w, 2);
    mm_wire_entries_add(&w, e1, e1len);
    mm_wire_entries_add(&w, e2, e2len);
    seed(dir, "entries", &w);

    mm_mp_writer_init(&w, buf, sizeof buf);
    mm_wire_ack(&w, 1);
    seed(dir, "ack", &w);
    mm_mp_writer_init(&w, buf, sizeof buf);
    mm_wire_done(&w);
    seed(dir, "done", &w);
    mm_mp_writer_init(&w, buf, sizeof buf);
    mm_wire_error(&w, MM_EBADSIG, "entries 3.. of feed mmd: signature does not verify");
    seed(dir, "error", &w);
    mm_mp_writer_init(&w, buf, sizeof buf);
    mm_wire_accept(&w, cert, certlen, "Ada", sig);
    seed(dir, "accept", &w);
    mm_mp_writer_init(&w, buf, sizeof buf);
    mm_wire_welcome(&w, cert, certlen, "Grace", scope, key, 1);
    seed(dir, "welcome", &w);
    const uint8_t *fb[2] = { e1, e2 };
    size_t fl[2] = { e1len, e2len };
    mm_mp_writer_init(&w, buf, sizeof buf);
    mm_wire_fork(&w, fb, fl, 1);
    seed(dir, "fork-challenge", &w);
    mm_mp_writer_init(&w, buf, sizeof buf);
    mm_wire_fork(&w, fb, fl, 2);
    seed(dir, "fork-proof", &w);

    /* the mailbox frames (PROTOCOL.md 14) */
    uint8_t ids[2][32], members[2][2][32], blocked[1][32];
    unsigned nm[2] = { 2, 1 };
    memset(ids, 0x41, sizeof ids);
    ids[1][0] = 0x42;
    memset(members, 0x11, sizeof members);
    memset(blocked, 0x77, sizeof blocked);
    mm_mailbox_told_t t = { 2, ids, nm, members, 1, blocked };
    mm_mp_writer_init(&w, buf, sizeof buf);
    mm_wire_scopes(&w, &t);
    seed(dir, "scopes", &w);
    mm_mp_writer_init(&w, buf, sizeof buf);
    mm_wire_link(&w, mm_keypair_pk(id), "Ada");
    seed(dir, "link", &w);
    mm_mp_writer_init(&w, buf, sizeof buf);
    mm_wire_consent(&w, sig);
    seed(dir, "consent", &w);
    mm_mp_writer_init(&w, buf, sizeof buf);
    mm_wire_certify(&w, cert, certlen, "Ada");
    seed(dir, "certify", &w);

    mm_keypair_destroy(&id);
    mm_keypair_destroy(&dev);
}
