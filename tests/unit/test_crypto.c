/*  test_crypto.c -- signatures, AEAD, id codes and key files (crypto/). */
#include "fixture.h"

#include <ctype.h>
#include <fcntl.h>
#include <sodium.h>

#include "crypto/aead.h"
#include "crypto/idcode.h"
#include "crypto/keyfile.h"

/* ---- signatures --------------------------------------------------------- */

static void test_sign_verify_context(void **state)
{
    mm_keypair_t *kp = fx_keypair(1), *other = fx_keypair(2);
    uint8_t digest[32], sig[MM_SIG_BYTES], sig2[MM_SIG_BYTES];
    mm_hash(digest, "hello", 5);

    assert_rc(mm_sign_digest(kp, MM_CTX_ENTRY, digest, sig), MM_OK);
    assert_rc(mm_verify_digest(mm_keypair_pk(kp), MM_CTX_ENTRY, digest, sig), MM_OK);
    /* domain separation: an entry signature is not a cert signature */
    assert_rc(mm_verify_digest(mm_keypair_pk(kp), MM_CTX_CERT, digest, sig), MM_EBADSIG);
    assert_rc(mm_verify_digest(mm_keypair_pk(other), MM_CTX_ENTRY, digest, sig),
              MM_EBADSIG);

    assert_rc(mm_sign_digest(kp, MM_CTX_CERT, digest, sig2), MM_OK);
    assert_rc(mm_verify_digest(mm_keypair_pk(kp), MM_CTX_CERT, digest, sig2), MM_OK);
    assert_rc(mm_verify_digest(mm_keypair_pk(kp), MM_CTX_ENTRY, digest, sig2), MM_EBADSIG);
    assert_memory_not_equal(sig, sig2, MM_SIG_BYTES);

    /* the signature is plain Ed25519 over CONTEXT(16) || DIGEST(32) */
    uint8_t msg[MM_CTX_BYTES + 32];
    memcpy(msg, MM_CTX_ENTRY, MM_CTX_BYTES);
    memcpy(msg + MM_CTX_BYTES, digest, 32);
    assert_int_equal(crypto_sign_verify_detached(sig, msg, sizeof msg,
                                                 mm_keypair_pk(kp)), 0);

    mm_keypair_destroy(&kp);
    mm_keypair_destroy(&other);
    assert_null(kp);
    mm_keypair_destroy(&kp);            /* NULL-safe */
    mm_keypair_destroy(NULL);
}

static void test_flipped_bits_bad_sig(void **state)
{
    mm_keypair_t *kp = fx_keypair(3);
    uint8_t digest[32], sig[MM_SIG_BYTES];
    mm_hash(digest, "some object", 11);
    assert_rc(mm_sign_digest(kp, MM_CTX_ENTRY, digest, sig), MM_OK);

    for (int bit = 0; bit < 32 * 8; bit++) {
        uint8_t d[32];
        memcpy(d, digest, 32);
        d[bit / 8] ^= (uint8_t) (1u << bit % 8);
        assert_rc(mm_verify_digest(mm_keypair_pk(kp), MM_CTX_ENTRY, d, sig), MM_EBADSIG);
    }
    for (int bit = 0; bit < MM_SIG_BYTES * 8; bit++) {
        uint8_t s[MM_SIG_BYTES];
        memcpy(s, sig, sizeof s);
        s[bit / 8] ^= (uint8_t) (1u << bit % 8);
        assert_rc(mm_verify_digest(mm_keypair_pk(kp), MM_CTX_ENTRY, digest, s), MM_EBADSIG);
    }
    uint8_t zero[MM_SIG_BYTES] = { 0 };
    assert_rc(mm_verify_digest(mm_keypair_pk(kp), MM_CTX_ENTRY, digest, zero), MM_EBADSIG);
    mm_keypair_destroy(&kp);
}

static void test_seed_determinism(void **state)
{
    uint8_t seed[MM_SEED_BYTES];
    for (int i = 0; i < MM_SEED_BYTES; i++)
        seed[i] = (uint8_t) i;
    mm_keypair_t *a = mm_keypair_new_from_seed(seed);
    mm_keypair_t *b = mm_keypair_new_from_seed(seed);
    assert_non_null(a);
    assert_non_null(b);
    assert_memory_equal(mm_keypair_pk(a), mm_keypair_pk(b), MM_PK_BYTES);
    assert_memory_equal(mm_keypair_seed(a), seed, MM_SEED_BYTES);

    /* same key as libsodium derives from that seed */
    uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    crypto_sign_seed_keypair(pk, sk, seed);
    assert_memory_equal(mm_keypair_pk(a), pk, MM_PK_BYTES);
    sodium_memzero(sk, sizeof sk);

    /* Ed25519 is deterministic: same key, same digest, same signature */
    uint8_t d[32], s1[MM_SIG_BYTES], s2[MM_SIG_BYTES];
    mm_hash(d, "x", 1);
    assert_rc(mm_sign_digest(a, MM_CTX_ENTRY, d, s1), MM_OK);
    assert_rc(mm_sign_digest(b, MM_CTX_ENTRY, d, s2), MM_OK);
    assert_memory_equal(s1, s2, MM_SIG_BYTES);

    seed[31] ^= 1;
    mm_keypair_t *c = mm_keypair_new_from_seed(seed);
    assert_non_null(c);
    assert_memory_not_equal(mm_keypair_pk(a), mm_keypair_pk(c), MM_PK_BYTES);

    /* fresh random pairs differ from each other */
    mm_keypair_t *r1 = mm_keypair_new(), *r2 = mm_keypair_new();
    assert_non_null(r1);
    assert_non_null(r2);
    assert_memory_not_equal(mm_keypair_pk(r1), mm_keypair_pk(r2), MM_PK_BYTES);
    assert_memory_not_equal(mm_keypair_seed(r1), mm_keypair_seed(r2), MM_SEED_BYTES);

    /* our X25519 public key (sk * base) is the X25519 form of our Ed25519
     * key, as a peer computes it from our certificate */
    const mm_keypair_t *kps[3] = { a, c, r1 };
    for (int i = 0; i < 3; i++) {
        uint8_t xpk[32], xsk[32], conv[32];
        mm_keypair_x25519(kps[i], xpk, xsk);
        assert_rc(mm_pk_to_x25519(conv, mm_keypair_pk(kps[i])), MM_OK);
        assert_memory_equal(xpk, conv, 32);
        sodium_memzero(xsk, sizeof xsk);
    }

    mm_keypair_destroy(&a);
    mm_keypair_destroy(&b);
    mm_keypair_destroy(&c);
    mm_keypair_destroy(&r1);
    mm_keypair_destroy(&r2);
}

/* mm_pk_to_x25519 keeps the conversions it made: a key met again, or one
 * whose slot another key took meanwhile, converts exactly as libsodium
 * converts it, and a key that is not a valid point fails every time. */
static void test_x25519_memo(void **state)
{
    (void) state;
    enum { N = 300 };               /* several times the memo's slots */
    static uint8_t ed[N][MM_PK_BYTES], want[N][32];
    uint8_t sk[crypto_sign_SECRETKEYBYTES], x[32];
    for (int i = 0; i < N; i++) {
        crypto_sign_keypair(ed[i], sk);
        assert_int_equal(crypto_sign_ed25519_pk_to_curve25519(want[i], ed[i]), 0);
    }
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < N; i++) {
            int k = round == 1 ? N - 1 - i : i;
            memset(x, 0, sizeof x);
            assert_rc(mm_pk_to_x25519(x, ed[k]), MM_OK);
            assert_memory_equal(x, want[k], 32);
        }
    /* encodings libsodium refuses: y = 1 (the identity, small order), y = 2 */
    uint8_t bad[2][MM_PK_BYTES] = { { 2 }, { 1 } };
    for (int j = 0; j < 2; j++)
        assert_int_not_equal(crypto_sign_ed25519_pk_to_curve25519(x, bad[j]), 0);
    for (int round = 0; round < 2; round++)
        for (int j = 0; j < 2; j++)
            assert_rc(mm_pk_to_x25519(x, bad[j]), MM_EINVAL);
    sodium_memzero(sk, sizeof sk);
}

static void test_hash(void **state)
{
    uint8_t h[32], h2[32], ref[32];
    mm_hash(h, "abcdef", 6);
    crypto_generichash(ref, sizeof ref, (const uint8_t *) "abcdef", 6, NULL, 0);
    assert_memory_equal(h, ref, 32);
    mm_hash2(h2, "abc", 3, "def", 3);
    assert_memory_equal(h, h2, 32);
    mm_hash2(h2, "", 0, "abcdef", 6);
    assert_memory_equal(h, h2, 32);
}

/* ---- AEAD --------------------------------------------------------------- */

static int is_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= p[i];
    return acc == 0;
}

static void test_aead(void **state)
{
    uint8_t key[MM_KEY_BYTES], nonce[MM_NONCE_BYTES];
    memset(key, 0x42, sizeof key);
    memset(nonce, 0x24, sizeof nonce);
    const char *msg = "attack at dawn";
    const size_t mlen = strlen(msg);
    const uint8_t ad[] = "associated";
    uint8_t c[64], m[64];
    size_t clen = mlen + MM_TAG_BYTES;

    assert_rc(mm_aead_seal(c, (const uint8_t *) msg, mlen, ad, sizeof ad, nonce, key), MM_OK);
    /* XChaCha20-Poly1305-IETF as libsodium computes it */
    uint8_t ref[64];
    unsigned long long reflen;
    crypto_aead_xchacha20poly1305_ietf_encrypt(ref, &reflen, (const uint8_t *) msg, mlen,
                                               ad, sizeof ad, NULL, nonce, key);
    assert_int_equal(reflen, clen);
    assert_memory_equal(c, ref, clen);

    memset(m, 0xaa, sizeof m);
    assert_rc(mm_aead_open(m, c, clen, ad, sizeof ad, nonce, key), MM_OK);
    assert_memory_equal(m, msg, mlen);

    for (size_t i = 0; i < clen; i++) {
        uint8_t bad[64];
        memcpy(bad, c, clen);
        bad[i] ^= 0x01;
        memset(m, 0xaa, sizeof m);
        assert_rc(mm_aead_open(m, bad, clen, ad, sizeof ad, nonce, key), MM_EDECRYPT);
        assert_true(is_zero(m, mlen));
    }
    uint8_t bad_ad[sizeof ad], bad_nonce[MM_NONCE_BYTES], bad_key[MM_KEY_BYTES];
    memcpy(bad_ad, ad, sizeof ad);
    bad_ad[0] ^= 1;
    memcpy(bad_nonce, nonce, sizeof nonce);
    bad_nonce[MM_NONCE_BYTES - 1] ^= 1;
    memcpy(bad_key, key, sizeof key);
    bad_key[7] ^= 0x80;
    assert_rc(mm_aead_open(m, c, clen, bad_ad, sizeof ad, nonce, key), MM_EDECRYPT);
    assert_true(is_zero(m, mlen));
    assert_rc(mm_aead_open(m, c, clen, ad, sizeof ad - 1, nonce, key), MM_EDECRYPT);
    assert_rc(mm_aead_open(m, c, clen, NULL, 0, nonce, key), MM_EDECRYPT);
    assert_rc(mm_aead_open(m, c, clen, ad, sizeof ad, bad_nonce, key), MM_EDECRYPT);
    assert_rc(mm_aead_open(m, c, clen, ad, sizeof ad, nonce, bad_key), MM_EDECRYPT);
    /* a ciphertext cut short by any amount, down to nothing */
    for (size_t n = 0; n < clen; n++)
        assert_rc(mm_aead_open(m, c, n, ad, sizeof ad, nonce, key), MM_EDECRYPT);

    /* empty message: a lone tag */
    assert_rc(mm_aead_seal(c, (const uint8_t *) "", 0, NULL, 0, nonce, key), MM_OK);
    assert_rc(mm_aead_open(m, c, MM_TAG_BYTES, NULL, 0, nonce, key), MM_OK);
    c[0] ^= 1;
    assert_rc(mm_aead_open(m, c, MM_TAG_BYTES, NULL, 0, nonce, key), MM_EDECRYPT);
}

/* ---- id codes ----------------------------------------------------------- */

static const char B32[] = "abcdefghijklmnopqrstuvwxyz234567";

/* RFC 4648 base32, lowercase, no padding, of exactly 35 bytes (56 chars). */
static void b32_35(char out[57], const uint8_t in[35])
{
    unsigned acc = 0, bits = 0, o = 0;
    for (int i = 0; i < 35; i++) {
        acc = acc << 8 | in[i];
        bits += 8;
        while (bits >= 5) {
            out[o++] = B32[(acc >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    out[o] = '\0';
}

static void test_idcode(void **state)
{
    mm_keypair_t *kp = fx_keypair(7);
    const uint8_t *pk = mm_keypair_pk(kp);
    char code[MM_IDCODE_LEN + 1];
    uint8_t out[32];

    mm_idcode_encode(code, MM_IDCODE_IDENTITY, pk);
    assert_int_equal(strlen(code), MM_IDCODE_LEN);
    assert_memory_equal(code, "mmi", 3);

    /* the documented construction: prefix || b32(pk || hash(prefix||pk)[0..3)) */
    uint8_t raw[35], h[32];
    memcpy(raw, pk, 32);
    mm_hash2(h, "mmi", 3, pk, 32);
    memcpy(raw + 32, h, 3);
    char body[57];
    b32_35(body, raw);
    assert_string_equal(code + 3, body);

    assert_rc(mm_idcode_decode(code, MM_IDCODE_IDENTITY, out), MM_OK);
    assert_memory_equal(out, pk, 32);

    /* a code of the other kind */
    assert_rc(mm_idcode_decode(code, MM_IDCODE_DEVICE, out), MM_EINVAL);
    char dcode[MM_IDCODE_LEN + 1];
    mm_idcode_encode(dcode, MM_IDCODE_DEVICE, pk);
    assert_memory_equal(dcode, "mmd", 3);
    assert_string_not_equal(dcode + 3, code + 3);   /* checksum covers the prefix */
    assert_rc(mm_idcode_decode(dcode, MM_IDCODE_DEVICE, out), MM_OK);
    assert_rc(mm_idcode_decode(dcode, MM_IDCODE_IDENTITY, out), MM_EINVAL);
    /* the device body under the identity prefix: right alphabet, wrong check */
    char swapped[MM_IDCODE_LEN + 1];
    memcpy(swapped, dcode, sizeof swapped);
    memcpy(swapped, "mmi", 3);
    assert_rc(mm_idcode_decode(swapped, MM_IDCODE_IDENTITY, out), MM_ECHECKSUM);

    /* any one character changed within the alphabet: checksum */
    for (int i = 3; i < MM_IDCODE_LEN; i++) {
        char typo[MM_IDCODE_LEN + 1];
        memcpy(typo, code, sizeof typo);
        const char *at = strchr(B32, typo[i]);
        assert_non_null(at);
        typo[i] = B32[(at - B32 + 1) % 32];
        assert_rc(mm_idcode_decode(typo, MM_IDCODE_IDENTITY, out), MM_ECHECKSUM);
    }

    /* uppercase is accepted, body alone or the whole code */
    char up[MM_IDCODE_LEN + 1];
    memcpy(up, code, sizeof up);
    for (int i = 3; i < MM_IDCODE_LEN; i++)
        up[i] = (char) toupper((unsigned char) up[i]);
    memset(out, 0, sizeof out);
    assert_rc(mm_idcode_decode(up, MM_IDCODE_IDENTITY, out), MM_OK);
    assert_memory_equal(out, pk, 32);
    for (int i = 0; i < 3; i++)
        up[i] = (char) toupper((unsigned char) up[i]);
    assert_rc(mm_idcode_decode(up, MM_IDCODE_IDENTITY, out), MM_OK);

    /* wrong length, or outside the alphabet */
    char longer[MM_IDCODE_LEN + 2];
    memcpy(longer, code, MM_IDCODE_LEN);
    longer[MM_IDCODE_LEN] = 'a';
    longer[MM_IDCODE_LEN + 1] = '\0';
    assert_rc(mm_idcode_decode(longer, MM_IDCODE_IDENTITY, out), MM_EINVAL);
    char shorter[MM_IDCODE_LEN + 1];
    memcpy(shorter, code, sizeof shorter);
    shorter[MM_IDCODE_LEN - 1] = '\0';
    assert_rc(mm_idcode_decode(shorter, MM_IDCODE_IDENTITY, out), MM_EINVAL);
    assert_rc(mm_idcode_decode("", MM_IDCODE_IDENTITY, out), MM_EINVAL);
    assert_rc(mm_idcode_decode("mmi", MM_IDCODE_IDENTITY, out), MM_EINVAL);
    static const char notb32[] = { '0', '1', '8', '9', '=', ' ', '-' };
    for (size_t k = 0; k < sizeof notb32; k++) {
        char bad[MM_IDCODE_LEN + 1];
        memcpy(bad, code, sizeof bad);
        bad[20] = notb32[k];
        assert_rc(mm_idcode_decode(bad, MM_IDCODE_IDENTITY, out), MM_EINVAL);
    }
    mm_keypair_destroy(&kp);
}

/* ---- key files ---------------------------------------------------------- */

typedef struct {
    char dir[FX_PATH_MAX];
    char path[FX_PATH_MAX];
    mm_keypair_t *kp;
} kf_state_t;

static int kf_setup(void **state)
{
    kf_state_t *s = calloc(1, sizeof *s);
    if (!s)
        return -1;
    fx_mkdtemp(s->dir);
    fx_path(s->path, s->dir, "identity.key");
    s->kp = fx_keypair(9);
    *state = s;
    return 0;
}

static int kf_teardown(void **state)
{
    kf_state_t *s = *state;
    mm_keypair_destroy(&s->kp);
    int rc = fx_rmrf(s->dir);
    free(s);
    return rc;
}

static void test_keyfile_round_trip(void **state)
{
    kf_state_t *s = *state;
    assert_rc(mm_keyfile_write(s->path, MM_KEY_IDENTITY, s->kp), MM_OK);
    assert_int_equal(fx_mode(s->path), 0600);

    mm_keypair_t *back = NULL;
    assert_rc(mm_keyfile_read(s->path, MM_KEY_IDENTITY, &back), MM_OK);
    assert_non_null(back);
    assert_memory_equal(mm_keypair_pk(back), mm_keypair_pk(s->kp), MM_PK_BYTES);
    assert_memory_equal(mm_keypair_seed(back), mm_keypair_seed(s->kp), MM_SEED_BYTES);
    mm_keypair_destroy(&back);

    /* the documented layout */
    uint8_t *buf;
    assert_int_equal(fx_read_file(s->path, &buf), MM_KEYFILE_BYTES);
    assert_memory_equal(buf, "mmsk", 4);
    assert_int_equal(buf[5], MM_KEY_IDENTITY);
    assert_int_equal(buf[6], 0);
    assert_int_equal(buf[7], 0);
    assert_memory_equal(buf + 8, mm_keypair_seed(s->kp), 32);
    assert_memory_equal(buf + 40, mm_keypair_pk(s->kp), 32);
    uint8_t h[32];
    mm_hash(h, buf, 72);
    assert_memory_equal(buf + 72, h, 8);
    free(buf);

    /* read-only for the owner is fine */
    assert_int_equal(chmod(s->path, 0400), 0);
    assert_rc(mm_keyfile_read(s->path, MM_KEY_IDENTITY, &back), MM_OK);
    mm_keypair_destroy(&back);

    /* a device key file is its own kind */
    char dpath[FX_PATH_MAX];
    fx_path(dpath, s->dir, "device.key");
    assert_rc(mm_keyfile_write(dpath, MM_KEY_DEVICE, s->kp), MM_OK);
    assert_rc(mm_keyfile_read(dpath, MM_KEY_DEVICE, &back), MM_OK);
    mm_keypair_destroy(&back);
    assert_rc(mm_keyfile_read(dpath, MM_KEY_IDENTITY, &back), MM_EKEYFILE);
    assert_null(back);
    assert_rc(mm_keyfile_read(s->path, MM_KEY_DEVICE, &back), MM_EKEYFILE);
    assert_null(back);
}

static void test_keyfile_no_overwrite(void **state)
{
    kf_state_t *s = *state;
    mm_keypair_t *other = fx_keypair(10);
    assert_rc(mm_keyfile_write(s->path, MM_KEY_IDENTITY, s->kp), MM_OK);
    uint8_t *before, *after;
    long n = fx_read_file(s->path, &before);
    assert_rc(mm_keyfile_write(s->path, MM_KEY_IDENTITY, other), MM_EEXIST);
    assert_int_equal(fx_read_file(s->path, &after), n);
    assert_memory_equal(before, after, (size_t) n);
    free(before);
    free(after);

    /* a symlink, dangling or not, is never followed */
    char target[FX_PATH_MAX], link[FX_PATH_MAX];
    fx_path(target, s->dir, "target");
    fx_path(link, s->dir, "link");
    assert_int_equal(symlink(target, link), 0);
    assert_rc(mm_keyfile_write(link, MM_KEY_IDENTITY, other), MM_EEXIST);
    struct stat st;
    assert_int_equal(lstat(target, &st), -1);           /* not created */
    fx_write_file(target, "precious", 8, 0600);
    assert_rc(mm_keyfile_write(link, MM_KEY_IDENTITY, other), MM_EEXIST);
    mm_keypair_t *through = NULL;
    assert_rc(mm_keyfile_read(link, MM_KEY_IDENTITY, &through), MM_EPERM);  /* not "corrupted" */
    assert_null(through);
    assert_int_equal(fx_read_file(target, &after), 8);
    assert_memory_equal(after, "precious", 8);
    free(after);
    mm_keypair_destroy(&other);
}

static void test_keyfile_mode(void **state)
{
    kf_state_t *s = *state;
    mm_keypair_t *back = NULL;
    assert_rc(mm_keyfile_write(s->path, MM_KEY_IDENTITY, s->kp), MM_OK);
    static const mode_t open_modes[] = { 0644, 0640, 0604, 0660, 0606, 0610, 0601 };
    for (size_t i = 0; i < sizeof open_modes / sizeof open_modes[0]; i++) {
        assert_int_equal(chmod(s->path, open_modes[i]), 0);
        assert_rc(mm_keyfile_read(s->path, MM_KEY_IDENTITY, &back), MM_EPERM);
        assert_null(back);
    }
}

/* Write len bytes of buf as a 0600 file at path and read it as kind. */
static int read_bytes_as(const char *path, const uint8_t *buf, size_t len, int kind)
{
    unlink(path);
    fx_write_file(path, buf, len, 0600);
    mm_keypair_t *kp = NULL;
    int rc = mm_keyfile_read(path, kind, &kp);
    if (rc != MM_OK)
        assert_null(kp);
    mm_keypair_destroy(&kp);
    return rc;
}

static void test_keyfile_corrupt(void **state)
{
    kf_state_t *s = *state;
    char bad[FX_PATH_MAX];
    fx_path(bad, s->dir, "bad.key");
    assert_rc(mm_keyfile_write(s->path, MM_KEY_IDENTITY, s->kp), MM_OK);
    uint8_t *good;
    assert_int_equal(fx_read_file(s->path, &good), MM_KEYFILE_BYTES);
    uint8_t buf[MM_KEYFILE_BYTES + 1];

    assert_rc(read_bytes_as(bad, good, MM_KEYFILE_BYTES, MM_KEY_IDENTITY), MM_OK);
    for (size_t i = 0; i < MM_KEYFILE_BYTES; i++) {
        memcpy(buf, good, MM_KEYFILE_BYTES);
        buf[i] ^= 0x01;
        assert_rc(read_bytes_as(bad, buf, MM_KEYFILE_BYTES, MM_KEY_IDENTITY), MM_EKEYFILE);
        buf[i] ^= 0x01 ^ 0xff;
        assert_rc(read_bytes_as(bad, buf, MM_KEYFILE_BYTES, MM_KEY_IDENTITY), MM_EKEYFILE);
    }
    for (size_t n = 0; n < MM_KEYFILE_BYTES; n++)
        assert_rc(read_bytes_as(bad, good, n, MM_KEY_IDENTITY), MM_EKEYFILE);
    memcpy(buf, good, MM_KEYFILE_BYTES);
    buf[MM_KEYFILE_BYTES] = 0;
    assert_rc(read_bytes_as(bad, buf, MM_KEYFILE_BYTES + 1, MM_KEY_IDENTITY), MM_EKEYFILE);

    /* kind changed with a valid checksum: still the wrong kind */
    memcpy(buf, good, MM_KEYFILE_BYTES);
    buf[5] = MM_KEY_DEVICE;
    uint8_t h[32];
    mm_hash(h, buf, 72);
    memcpy(buf + 72, h, 8);
    assert_rc(read_bytes_as(bad, buf, MM_KEYFILE_BYTES, MM_KEY_IDENTITY), MM_EKEYFILE);
    assert_rc(read_bytes_as(bad, buf, MM_KEYFILE_BYTES, MM_KEY_DEVICE), MM_OK);

    /* a pk that is not derived from the seed, with a valid checksum */
    mm_keypair_t *other = fx_keypair(11);
    memcpy(buf, good, MM_KEYFILE_BYTES);
    memcpy(buf + 40, mm_keypair_pk(other), 32);
    mm_hash(h, buf, 72);
    memcpy(buf + 72, h, 8);
    assert_rc(read_bytes_as(bad, buf, MM_KEYFILE_BYTES, MM_KEY_IDENTITY), MM_EKEYFILE);
    mm_keypair_destroy(&other);
    free(good);

    char missing[FX_PATH_MAX];
    fx_path(missing, s->dir, "missing.key");
    mm_keypair_t *kp = NULL;
    assert_rc(mm_keyfile_read(missing, MM_KEY_IDENTITY, &kp), MM_ENOTFOUND);
    assert_null(kp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sign_verify_context),
        cmocka_unit_test(test_flipped_bits_bad_sig),
        cmocka_unit_test(test_seed_determinism),
        cmocka_unit_test(test_x25519_memo),
        cmocka_unit_test(test_hash),
        cmocka_unit_test(test_aead),
        cmocka_unit_test(test_idcode),
        cmocka_unit_test_setup_teardown(test_keyfile_round_trip, kf_setup, kf_teardown),
        cmocka_unit_test_setup_teardown(test_keyfile_no_overwrite, kf_setup, kf_teardown),
        cmocka_unit_test_setup_teardown(test_keyfile_mode, kf_setup, kf_teardown),
        cmocka_unit_test_setup_teardown(test_keyfile_corrupt, kf_setup, kf_teardown),
    };
    return cmocka_run_group_tests(tests, fx_setup_crypto, NULL);
}
