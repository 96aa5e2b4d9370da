/*  test_backup.c -- a backup restores everything a home had, under a fresh
 *  device key, and nothing when the passphrase is wrong or the file is
 *  damaged anywhere; the KDF matches PROTOCOL.md 12's vector, and a backup
 *  of this format (tests/fixtures/backup-v1.mmbk) still restores. */
#include "fixture.h"
#include "fxhome.h"
#include <sodium.h>
#include "core/backup.h"
#include "core/budget.h"
#include "core/catchup.h"
#include "core/cert.h"
#include "core/log.h"
#include "core/meta.h"
#include "core/note.h"

#define PASS "correct horse battery staple"
#define FIXTURE_PASS "mm fixture passphrase"

typedef struct {
    char dir[FX_PATH_MAX];
    char file[FX_PATH_MAX];
    mm_home_t *ada, *grace;
    mm_scope_t rel;
    uint8_t grace_entry[32];
} world_t;

static mm_backup_kdf_t kdf_min = { crypto_pwhash_argon2id_OPSLIMIT_MIN,
                                   crypto_pwhash_argon2id_MEMLIMIT_MIN };

/* Ada has two notes, a relationship with Grace (her mentor) holding an
 * entry of each; Grace's entry reached Ada through the verifier. */
static int setup(void **state)
{
    world_t *w = calloc(1, sizeof *w);
    mm_txn_t *ta, *tg;
    const uint8_t *buf;
    size_t len;
    static const uint8_t q[] = "\x82\xa1t\xa4note\xa4text\xa2hi";
    fx_mkdtemp(w->dir);
    w->ada = fx_home(w->dir, "ada", "Ada", NULL, NULL);
    w->grace = fx_home(w->dir, "grace", "Grace", NULL, NULL);
    fx_pair(w->grace, w->ada, "grace", "ada", &w->rel);
    assert_rc(mm_note_add(w->ada, "first note", 10, NULL), MM_OK);
    assert_rc(mm_note_add(w->ada, "second note", 11, NULL), MM_OK);
    assert_rc(mm_store_begin(mm_home_store(w->grace), 1, &tg), MM_OK);
    assert_rc(mm_log_append(tg, mm_home_device(w->grace), w->rel.id, 0, q, sizeof q - 1,
                            w->grace_entry), MM_OK);
    assert_rc(mm_txn_commit(&tg), MM_OK);
    assert_rc(mm_store_begin(mm_home_store(w->grace), 0, &tg), MM_OK);
    assert_rc(mm_log_get(tg, mm_keypair_pk(mm_home_device(w->grace)), w->rel.id, 1, &buf, &len),
              MM_OK);
    assert_rc(mm_store_begin(mm_home_store(w->ada), 1, &ta), MM_OK);
    assert_rc(mm_log_put(ta, buf, len, NULL), MM_OK);
    assert_rc(mm_log_append(ta, mm_home_device(w->ada), w->rel.id, 0, q, sizeof q - 1, NULL),
              MM_OK);
    assert_rc(mm_txn_commit(&ta), MM_OK);
    mm_txn_abort(&tg);
    fx_path(w->file, w->dir, "ada.mmbk");
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world_t *w = *state;
    mm_home_close(&w->ada);
    mm_home_close(&w->grace);
    fx_rmrf(w->dir);
    free(w);
    return 0;
}

static void backup(world_t *w)
{
    mm_backup_stats_t st;
    assert_rc(mm_backup_write(w->ada, w->file, 0, PASS, strlen(PASS), &kdf_min, &st), MM_OK);
    assert_int_equal(st.entries, 4);            /* 2 notes, Grace's entry, Ada's */
    assert_int_equal(st.scopes, 2);
    assert_int_equal(st.peers, 1);
    assert_int_equal(st.certs, 2);
    struct stat sb;
    assert_int_equal(stat(w->file, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal((uint64_t) sb.st_size, st.bytes);
}

static size_t file_read(const char *path, uint8_t **out)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    *out = malloc((size_t) n);
    assert_int_equal(fread(*out, 1, (size_t) n, f), (size_t) n);
    fclose(f);
    return (size_t) n;
}

static void file_write(const char *path, const uint8_t *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n, f), n);
    fclose(f);
}

static int exists(const char *path)
{
    struct stat sb;
    return lstat(path, &sb) == 0;
}

static void test_round_trip(void **state)
{
    world_t *w = *state;
    char path[FX_PATH_MAX];
    mm_restore_t res;
    mm_home_t *h;
    mm_txn_t *txn;
    mm_note_list_t notes;
    mm_peer_t p;
    uint64_t n;
    uint8_t old[32], who[1][32];
    size_t pending;
    backup(w);
    assert_rc(mm_backup_write(w->ada, w->file, 0, PASS, strlen(PASS), &kdf_min, NULL),
              MM_EEXIST);                       /* never over an existing file */
    assert_rc(mm_backup_write(w->ada, w->file, MM_BACKUP_FORCE, PASS, strlen(PASS), &kdf_min,
                              NULL), MM_OK);
    fx_path(path, w->dir, "restored");
    assert_rc(mm_backup_restore(w->file, path, "phone", PASS, strlen(PASS), 0, 1234, &res),
              MM_OK);
    assert_memory_equal(res.identity, mm_home_identity_pk(w->ada), 32);
    assert_memory_equal(res.old_device, mm_keypair_pk(mm_home_device(w->ada)), 32);
    assert_memory_not_equal(res.new_device, res.old_device, 32);
    assert_int_equal(res.n.entries, 4);
    assert_int_equal(res.catchup, 1);
    assert_int_equal(res.keep_old, 0);
    assert_rc(mm_backup_restore(w->file, path, "phone", PASS, strlen(PASS), 0, 1, NULL),
              MM_EEXIST);
    assert_rc(mm_home_open(path, &h), MM_OK);
    assert_string_equal(mm_home_name(h), "Ada");
    assert_string_equal(mm_home_devname(h), "phone");
    assert_memory_equal(mm_home_identity_pk(h), mm_home_identity_pk(w->ada), 32);
    assert_memory_equal(mm_keypair_pk(mm_home_device(h)), res.new_device, 32);
    assert_rc(mm_note_list(h, &notes), MM_OK);
    assert_int_equal(notes.n, 2);
    assert_string_equal(notes.v[0].text, "second note");
    mm_note_list_free(&notes);
    assert_rc(mm_store_begin(mm_home_store(h), 0, &txn), MM_OK);
    assert_rc(mm_log_check(txn, NULL, NULL, &n), MM_OK);
    assert_int_equal(n, 4);
    assert_rc(mm_peer_get(txn, mm_home_identity_pk(w->grace), &p), MM_OK);
    assert_string_equal(p.petname, "grace");
    assert_rc(mm_backup_restored(txn, old, &n), MM_OK);
    assert_memory_equal(old, res.old_device, 32);
    assert_int_equal(n, 1234);
    assert_rc(mm_catchup_pending(txn, who, 1, &pending), MM_OK);
    assert_int_equal(pending, 1);
    assert_memory_equal(who[0], mm_home_identity_pk(w->grace), 32);
    mm_txn_abort(&txn);
    /* not caught up: the budget waits, and says so */
    mm_settle_t st;
    assert_rc(mm_budget_settle(h, &st), MM_OK);
    assert_int_equal(st.waiting, 1);
    /* writing never waits: a fresh key cannot fork */
    assert_rc(mm_note_add(h, "after restore", 13, NULL), MM_OK);
    /* a complete session with Grace: caught up */
    assert_rc(mm_store_begin(mm_home_store(h), 1, &txn), MM_OK);
    assert_rc(mm_catchup_synced(txn, mm_home_identity_pk(h), mm_home_identity_pk(w->grace), 5),
              MM_OK);
    assert_rc(mm_catchup_synced(txn, mm_home_identity_pk(h), mm_home_identity_pk(h), 5), MM_OK);
    assert_rc(mm_catchup_pending(txn, NULL, 0, &pending), MM_OK);
    assert_int_equal(pending, 0);
    assert_rc(mm_txn_commit(&txn), MM_OK);
    assert_rc(mm_budget_settle(h, &st), MM_OK);
    assert_int_equal(st.waiting, 0);
    mm_home_close(&h);
    /* restored twice (--keep-old): two new devices, never one key twice */
    char path2[FX_PATH_MAX];
    mm_restore_t res2;
    fx_path(path2, w->dir, "restored2");
    assert_rc(mm_backup_restore(w->file, path2, NULL, PASS, strlen(PASS), 1, 1, &res2), MM_OK);
    assert_int_equal(res2.keep_old, 1);
    assert_memory_not_equal(res2.new_device, res.new_device, 32);
}

static void test_not_identity_device(void **state)
{
    world_t *w = *state;
    char key[FX_PATH_MAX];
    snprintf(key, sizeof key, "%s/identity.key", mm_home_path(w->ada));
    assert_int_equal(unlink(key), 0);
    assert_rc(mm_backup_write(w->ada, w->file, 0, PASS, strlen(PASS), &kdf_min, NULL),
              MM_ENOIDENTITY);
    assert_false(exists(w->file));
    assert_rc(mm_backup_write(w->ada, w->file, 0, "", 0, &kdf_min, NULL), MM_EINVAL);
}

static void test_wrong_passphrase(void **state)
{
    world_t *w = *state;
    char path[FX_PATH_MAX];
    backup(w);
    fx_path(path, w->dir, "restored");
    assert_rc(mm_backup_restore(w->file, path, NULL, "wrong", 5, 0, 1, NULL), MM_EPASSPHRASE);
    assert_false(exists(path));
    assert_rc(mm_backup_restore(w->file, path, NULL, PASS, strlen(PASS) - 1, 0, 1, NULL),
              MM_EPASSPHRASE);
    assert_false(exists(path));
}

/* Every cut before the FINAL message is MM_ETRUNC, and writes nothing. */
static void test_truncated(void **state)
{
    world_t *w = *state;
    char path[FX_PATH_MAX], cut[FX_PATH_MAX];
    uint8_t *b;
    backup(w);
    size_t n = file_read(w->file, &b);
    fx_path(path, w->dir, "restored");
    fx_path(cut, w->dir, "cut.mmbk");
    size_t at[] = { 10, 63, 64, 66, 100, n / 2, n - 40, n - 1 };
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
        file_write(cut, b, at[i]);
        assert_rc(mm_backup_restore(cut, path, NULL, PASS, strlen(PASS), 0, 1, NULL), MM_ETRUNC);
        assert_false(exists(path));
    }
    file_write(cut, b, 3);
    assert_rc(mm_backup_restore(cut, path, NULL, PASS, strlen(PASS), 0, 1, NULL), MM_EINVAL);
    /* a byte after the FINAL message */
    uint8_t *more = malloc(n + 1);
    memcpy(more, b, n);
    more[n] = 0;
    file_write(cut, more, n + 1);
    assert_rc(mm_backup_restore(cut, path, NULL, PASS, strlen(PASS), 0, 1, NULL), MM_ETRAILING);
    assert_false(exists(path));
    free(more);
    free(b);
}

/* One flipped byte anywhere: refused, with nothing written. */
static void test_flipped_byte(void **state)
{
    world_t *w = *state;
    char path[FX_PATH_MAX], bad[FX_PATH_MAX];
    uint8_t *b;
    backup(w);
    size_t n = file_read(w->file, &b);
    fx_path(path, w->dir, "restored");
    fx_path(bad, w->dir, "bad.mmbk");
    size_t step = n / 150 + 1;
    for (size_t i = 0; i < n; i += i < MM_BACKUP_HEADER + 8 ? 1 : step) {
        b[i] ^= 0x01;
        file_write(bad, b, n);
        int rc = mm_backup_restore(bad, path, NULL, PASS, strlen(PASS), 0, 1, NULL);
        if (rc == MM_OK)
            fail_msg("flipped byte %zu was accepted", i);
        if (i < 4)
            assert_rc(rc, MM_EINVAL);
        else if (i >= 24 && i < MM_BACKUP_HEADER)
            assert_rc(rc, MM_EPASSPHRASE); /* salt, stream header: the first message fails */
        assert_false(exists(path));
        b[i] ^= 0x01;
    }
    /* a newer version, and a KDF asking for more than SENSITIVE */
    b[4] = 2;
    file_write(bad, b, n);
    assert_rc(mm_backup_restore(bad, path, NULL, PASS, strlen(PASS), 0, 1, NULL), MM_EVERSION);
    b[4] = 1;
    b[16] = 0x7f;
    file_write(bad, b, n);
    assert_rc(mm_backup_restore(bad, path, NULL, PASS, strlen(PASS), 0, 1, NULL), MM_ETOOBIG);
    assert_false(exists(path));
    free(b);
}

/* PROTOCOL.md 12.5: the file key of a given passphrase and salt. */
static void test_kdf_vector(void **state)
{
    (void) state;
    fx_vec_t v[8];
    int n = fx_read_vectors("backup-vectors", v, 8);
    const char *pass = NULL, *salt = NULL, *key = NULL;
    uint64_t ops = 0, mem = 0;
    for (int i = 0; i < n; i++) {
        if (!strcmp(v[i].name, "passphrase_hex")) pass = v[i].hex;
        if (!strcmp(v[i].name, "salt")) salt = v[i].hex;
        if (!strcmp(v[i].name, "key")) key = v[i].hex;
        if (!strcmp(v[i].name, "opslimit")) ops = strtoull(v[i].hex, NULL, 10);
        if (!strcmp(v[i].name, "memlimit")) mem = strtoull(v[i].hex, NULL, 10);
    }
    if (!pass || !salt || !key) {
        for (int i = 0; i < n; i++)
            free(v[i].hex);
        fail_msg("PROTOCOL.md 12.5 lacks passphrase_hex, salt or key");
        return;
    }
    uint8_t p[256], s[16], k[32], want[32];
    size_t pl = fx_unhex(p, sizeof p, pass);
    assert_int_equal(fx_unhex(s, sizeof s, salt), 16);
    assert_int_equal(fx_unhex(want, sizeof want, key), 32);
    mm_backup_kdf_t kdf = { ops, mem };
    assert_int_equal(ops, crypto_pwhash_argon2id_OPSLIMIT_MIN);
    assert_int_equal(mem, crypto_pwhash_argon2id_MEMLIMIT_MIN);
    assert_rc(mm_backup_key(k, (const char *) p, pl, s, &kdf), MM_OK);
    if (getenv("MM_PRINT_VECTORS")) {
        printf("key = ");
        for (int i = 0; i < 32; i++)
            printf("%02x", k[i]);
        printf("\n");
    }
    assert_memory_equal(k, want, 32);
    kdf.memlimit = (uint64_t) crypto_pwhash_argon2id_MEMLIMIT_SENSITIVE + 1;
    assert_rc(mm_backup_key(k, (const char *) p, pl, s, &kdf), MM_ETOOBIG);
    kdf.memlimit = mem;
    kdf.opslimit = crypto_pwhash_argon2id_OPSLIMIT_SENSITIVE + 1;
    assert_rc(mm_backup_key(k, (const char *) p, pl, s, &kdf), MM_ETOOBIG);
    kdf.opslimit = 0;
    assert_rc(mm_backup_key(k, (const char *) p, pl, s, &kdf), MM_EINVAL);
    for (int i = 0; i < n; i++)
        free(v[i].hex);
}

/* A backup written by this format's first version: it must restore.
 * MM_WRITE_FIXTURE=1 writes it anew (only when the format changes on
 * purpose, with a new version and a new fixture beside the old). */
static void test_fixture(void **state)
{
    world_t *w = *state;
    char fixture[FX_PATH_MAX], path[FX_PATH_MAX];
    const char *doc = getenv("MM_PROTOCOL_MD");
    if (!doc || !strrchr(doc, '/')) {
        fail_msg("MM_PROTOCOL_MD is not set to a path");
        return;
    }
    snprintf(fixture, sizeof fixture, "%.*s/tests/fixtures/backup-v1.mmbk",
             (int) (strrchr(doc, '/') - doc), doc);
    if (getenv("MM_WRITE_FIXTURE")) {
        unlink(fixture);
        assert_rc(mm_backup_write(w->ada, fixture, 0, FIXTURE_PASS, strlen(FIXTURE_PASS),
                                  &kdf_min, NULL), MM_OK);
    }
    mm_restore_t res;
    mm_home_t *h;
    mm_note_list_t notes;
    fx_path(path, w->dir, "from-fixture");
    assert_rc(mm_backup_restore(fixture, path, NULL, FIXTURE_PASS, strlen(FIXTURE_PASS), 0, 1,
                                &res), MM_OK);
    assert_int_equal(res.n.entries, 4);
    assert_int_equal(res.n.peers, 1);
    assert_int_equal(res.catchup, 1);
    assert_rc(mm_home_open(path, &h), MM_OK);
    assert_string_equal(mm_home_name(h), "Ada");
    assert_rc(mm_note_list(h, &notes), MM_OK);
    assert_int_equal(notes.n, 2);
    assert_string_equal(notes.v[1].text, "first note");
    mm_note_list_free(&notes);
    mm_txn_t *txn;
    uint64_t n;
    assert_rc(mm_store_begin(mm_home_store(h), 0, &txn), MM_OK);
    assert_rc(mm_log_check(txn, NULL, NULL, &n), MM_OK);
    assert_int_equal(n, 4);
    mm_txn_abort(&txn);
    mm_home_close(&h);
}

int main(void)
{
    if (mm_crypto_init() != MM_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_identity_device, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_passphrase, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flipped_byte, setup, teardown),
        cmocka_unit_test(test_kdf_vector),
        cmocka_unit_test_setup_teardown(test_fixture, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
