/*  fuzz_backup.c -- libFuzzer harness: restoring a backup file
 *  (mm_backup_restore, what `mm restore FILE` reads: PROTOCOL.md 12).
 *
 *  Input: byte 0 picks the form.  0: the rest is the file, as it is (the
 *  header, the KDF bounds, the framing, the first message).  1: the rest is
 *  framed plaintexts ([u16 BE length][bytes]...), which the harness seals as
 *  a valid stream under the fixed passphrase (the last one tagged FINAL),
 *  so the records behind the encryption are fuzzed too: their order, shapes
 *  and counts, and every certificate, scope, peer and entry they carry
 *  through the verifying restore, and the revocation and rekeys of the old
 *  device that end it.  Invariant: a restore that fails leaves no home;
 *  one that succeeds leaves a home that opens and whose every entry
 *  verifies again (mm_log_check).
 *  Seeds in corpus/backup: `replay_backup --write-seeds DIR`.
 */
#include <sodium.h>
#include "tests/fuzz/fuzz.h"
#include "core/backup.h"
#include "core/be64.h"
#include "core/cert.h"
#include "core/endpoint.h"
#include "core/log.h"
#include "core/note.h"
#include "core/peer.h"
#include "core/revoke.h"

#define PASS "fuzz passphrase"

static const mm_backup_kdf_t kdf = { crypto_pwhash_argon2id_OPSLIMIT_MIN,
                                     crypto_pwhash_argon2id_MEMLIMIT_MIN };
static const uint8_t salt[MM_BACKUP_SALT] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
                                              16 };
static uint8_t key[MM_BACKUP_KEY];          /* of PASS and salt, made once */
static char file[FZ_PATH_MAX], target[FZ_PATH_MAX], source[FZ_PATH_MAX];
static uint8_t *cipher;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc;
    (void) argv;
    FZ_OK(mm_crypto_init());
    const char *dir = fz_tmpdir();
    FZ_ASSERT(snprintf(file, sizeof file, "%s/in.mmbk", dir) < (int) sizeof file);
    FZ_ASSERT(snprintf(target, sizeof target, "%s/restored", dir) < (int) sizeof target);
    FZ_ASSERT(snprintf(source, sizeof source, "%s/ada", dir) < (int) sizeof source);
    FZ_OK(mm_backup_key(key, PASS, strlen(PASS), salt, &kdf));
    cipher = malloc(1 << 17);
    FZ_ASSERT(cipher);
    return 0;
}

/* Seal the framed plaintexts of p[0..n) into the file. */
static void seal(const uint8_t *p, size_t n)
{
    crypto_secretstream_xchacha20poly1305_state ss;
    uint8_t hdr[MM_BACKUP_HEADER] = { 'm', 'm', 'b', 'k', 1, 1 };
    const uint8_t *f = NULL, *next = NULL;
    size_t flen = 0, nextlen = 0;
    unsigned long long clen;
    mm_be64_put(hdr + 8, kdf.opslimit);
    mm_be64_put(hdr + 16, kdf.memlimit);
    memcpy(hdr + 24, salt, sizeof salt);
    crypto_secretstream_xchacha20poly1305_init_push(&ss, hdr + 40, key);
    FILE *out = fopen(file, "wb");
    FZ_ASSERT(out);
    FZ_ASSERT(fwrite(hdr, 1, sizeof hdr, out) == sizeof hdr);
    int have = fz_next_frame(&p, &n, &f, &flen), first = 1;
    while (have) {
        int more = fz_next_frame(&p, &n, &next, &nextlen);
        crypto_secretstream_xchacha20poly1305_push(
            &ss, cipher, &clen, f, flen, first ? hdr : NULL, first ? sizeof hdr : 0,
            more ? crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
                 : crypto_secretstream_xchacha20poly1305_TAG_FINAL);
        uint8_t lb[4] = { (uint8_t) (clen >> 24), (uint8_t) (clen >> 16), (uint8_t) (clen >> 8),
                          (uint8_t) clen };
        FZ_ASSERT(fwrite(lb, 1, 4, out) == 4 && fwrite(cipher, 1, clen, out) == clen);
        first = 0;
        have = more;
        f = next;
        flen = nextlen;
    }
    FZ_ASSERT(fclose(out) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct stat st;
    if (size < 1)
        return 0;
    if (data[0] == 0) {
        FILE *out = fopen(file, "wb");
        FZ_ASSERT(out);
        FZ_ASSERT(fwrite(data + 1, 1, size - 1, out) == size - 1);
        FZ_ASSERT(fclose(out) == 0);
    } else {
        seal(data + 1, size - 1);
    }
    mm_restore_t res;
    int rc = mm_backup_restore(file, target, "fuzz", PASS, strlen(PASS), 0, FZ_TIME, &res);
    if (fz_verbose())
        fprintf(stderr, "restore: %s\n", mm_errname(rc));
    if (rc != MM_OK) {
        FZ_ASSERT(lstat(target, &st) != 0);     /* nothing written */
        return 0;
    }
    mm_home_t *h;
    mm_txn_t *txn;
    uint64_t n;
    FZ_OK(mm_home_open(target, &h));
    FZ_OK(mm_store_begin(mm_home_store(h), 0, &txn));
    FZ_OK(mm_log_check(txn, NULL, NULL, &n));
    /* what was restored, and the rekeys that cut the old device off (each
     * at most a rekey and a `scope` entry in the self scope) */
    FZ_ASSERT(n >= res.n.entries && n - res.n.entries <= 2 * (uint64_t) res.rekeyed);
    mm_txn_abort(&txn);
    mm_home_close(&h);
    FZ_ASSERT(fz_rmrf(target) == 0);
    return 0;
}

void fz_seeds(const char *dir)
{
    static fz_buf_t s;
    static uint8_t plain[MM_BACKUP_RECORD_MAX];
    crypto_secretstream_xchacha20poly1305_state ss;
    uint8_t hdr[MM_BACKUP_HEADER], k[MM_BACKUP_KEY], lb[4];
    mm_keypair_t *id = fz_keypair(FZ_ADA_ID), *dev = fz_keypair(FZ_ADA_DEV);
    mm_keypair_t *phone = fz_keypair(FZ_CARL_DEV);
    mm_home_t *h;
    mm_txn_t *txn;
    uint8_t cert[MM_CERT_MAX];
    size_t certlen;
    char eps[1][MM_ENDPOINT_MAX + 1] = { "tcp://127.0.0.1:4100" };
    FZ_OK(mm_home_init_keys(source, "Ada", "laptop", FZ_TIME, id, dev));
    FZ_OK(mm_home_open(source, &h));
    FZ_OK(mm_note_add(h, "a private note", 14, NULL));
    FZ_OK(mm_note_add(h, "another", 7, NULL));
    /* device statements for the records after the entries: a second device
     * of Ada's, revoked, and where the laptop listens */
    FZ_OK(mm_cert_make(id, phone, FZ_TIME, "phone", 0, cert, sizeof cert, &certlen));
    FZ_OK(mm_store_begin(mm_home_store(h), 1, &txn));
    FZ_OK(mm_cert_put(txn, cert, certlen, NULL));
    FZ_OK(mm_revoke_device(txn, id, mm_keypair_pk(phone), FZ_TIME, NULL));
    FZ_OK(mm_endpoint_announce(txn, dev, FZ_TIME, eps, 1, NULL));
    FZ_OK(mm_txn_commit(&txn));
    mm_keypair_destroy(&phone);
    unlink(file);
    FZ_OK(mm_backup_write(h, file, 0, PASS, strlen(PASS), &kdf, NULL));
    mm_home_close(&h);
    mm_keypair_destroy(&id);
    mm_keypair_destroy(&dev);
    /* the file as it is */
    FILE *in = fopen(file, "rb");
    FZ_ASSERT(in);
    s.len = 0;
    fz_buf_byte(&s, 0);
    s.len += fread(s.b + s.len, 1, sizeof s.b - s.len, in);
    fz_seed_buf(dir, "file-ada", &s);
    /* its plaintexts, framed */
    rewind(in);
    FZ_ASSERT(fread(hdr, 1, sizeof hdr, in) == sizeof hdr);
    mm_backup_kdf_t kd = { mm_be64_get(hdr + 8), mm_be64_get(hdr + 16) };
    FZ_OK(mm_backup_key(k, PASS, strlen(PASS), hdr + 24, &kd));
    FZ_ASSERT(crypto_secretstream_xchacha20poly1305_init_pull(&ss, hdr + 40, k) == 0);
    s.len = 0;
    fz_buf_byte(&s, 1);
    for (int first = 1; fread(lb, 1, 4, in) == 4; first = 0) {
        size_t clen = (size_t) lb[0] << 24 | (size_t) lb[1] << 16 | (size_t) lb[2] << 8 | lb[3];
        unsigned long long plen;
        unsigned char tag;
        FZ_ASSERT(clen < (1 << 17) && fread(cipher, 1, clen, in) == clen);
        FZ_ASSERT(crypto_secretstream_xchacha20poly1305_pull(&ss, plain, &plen, &tag, cipher,
                                                             clen, first ? hdr : NULL,
                                                             first ? sizeof hdr : 0) == 0);
        fz_buf_frame(&s, plain, (size_t) plen);
    }
    fclose(in);
    fz_seed_buf(dir, "records-ada", &s);
    FZ_ASSERT(fz_rmrf(source) == 0);
}
