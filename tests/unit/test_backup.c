/*  test_backup.c -- a backup restores everything a home had, under a fresh
 *  device key, and nothing when the passphrase is wrong or the file is
 *  damaged anywhere; the KDF matches PROTOCOL.md 12's vector, and a backup
 *  of this format (tests/fixtures/backup-v1.mmbk) still restores.  A
 *  restore revokes the device the backup was made on and rekeys every scope
 *  away from it, unless keep_old; device statements and forks travel. */
#include "fixture.h"
#include "fxhome.h"
#include <sodium.h>
#include "core/backup.h"
#include "core/budget.h"
#include "core/catchup.h"
#include "core/cert.h"
#include "core/device.h"
#include "core/endpoint.h"
#include "core/fork.h"
#include "core/log.h"
#include "core/meta.h"
#include "core/mp.h"
#include "core/note.h"
#include "core/revoke.h"
#include "core/scope.h"

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
    assert_int_equal(n, 4 + 3);     /* and the rekeys: self, relationship (+ its scope entry) */
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
    assert_int_equal(n, 4 + 3);     /* the old device revoked, both scopes rekeyed */
    assert_int_equal(res.rekeyed, 2);
    int revoked;
    assert_rc(mm_revoke_state(txn, res.old_device, res.identity, NULL, &revoked, NULL), MM_OK);
    assert_int_equal(revoked, 1);
    mm_txn_abort(&txn);
    mm_home_close(&h);
}

/* Does the entry buf[0..len) open under any key of s? */
static int opens_under(const uint8_t *buf, size_t len, const mm_scope_t *s)
{
    static uint8_t pt[MM_ENTRY_MAX];
    mm_entry_t e;
    size_t n;
    assert_rc(mm_entry_parse(buf, len, &e), MM_OK);
    for (unsigned i = 0; i < s->nkeys; i++)
        if (mm_entry_open(&e, s->keys[i], pt, sizeof pt, &n) == MM_OK)
            return 1;
    return 0;
}

/* Copy the last entry of feed (author, scope) of home into *out. */
static size_t last_entry(mm_home_t *home, const uint8_t author[32], const uint8_t scope[32],
                         uint8_t *out, uint64_t *seq)
{
    mm_txn_t *txn;
    mm_head_t hd;
    const uint8_t *buf;
    size_t len;
    assert_rc(mm_store_begin(mm_home_store(home), 0, &txn), MM_OK);
    assert_rc(mm_log_head(txn, author, scope, &hd), MM_OK);
    assert_rc(mm_log_get(txn, author, scope, hd.seq, &buf, &len), MM_OK);
    memcpy(out, buf, len);
    mm_txn_abort(&txn);
    if (seq)
        *seq = hd.seq;
    return len;
}

/* The old device is presumed lost (PROTOCOL.md 12.4): the restored home
 * revokes it with the identity key (lasts = its heads in the backup),
 * rekeys every scope away from it, self first, in the restore; its next
 * entries open under no key the old home holds; a peer that receives the
 * revocation, the new certificate and the rekey refuses the old device's
 * later entries and reads the new ones. */
static void test_restore_revokes_and_rekeys(void **state)
{
    world_t *w = *state;
    char path[FX_PATH_MAX];
    mm_restore_t res;
    mm_home_t *h;
    mm_txn_t *txn, *tg;
    mm_scope_t s, old_self, old_rel;
    mm_device_t d;
    int revoked;
    uint64_t last, seq;
    uint8_t self[32];
    static uint8_t e1[MM_ENTRY_MAX], e2[MM_ENTRY_MAX];
    static const uint8_t q[] = "\x82\xa1t\xa4note\xa4text\xa5later";
    const uint8_t *ada_dev = mm_keypair_pk(mm_home_device(w->ada));
    backup(w);
    fx_path(path, w->dir, "restored");
    assert_rc(mm_backup_restore(w->file, path, "phone", PASS, strlen(PASS), 0, 1234, &res),
              MM_OK);
    assert_int_equal(res.revoked, 1);
    assert_int_equal(res.rekeyed, 2);
    assert_rc(mm_home_open(path, &h), MM_OK);
    mm_scope_self_id(self, res.identity);
    assert_rc(mm_store_begin(mm_home_store(h), 0, &txn), MM_OK);
    /* revoked, its lasts as the backup held its feeds: 2 notes, 1 entry with Grace */
    assert_rc(mm_revoke_state(txn, ada_dev, res.identity, self, &revoked, &last), MM_OK);
    assert_int_equal(revoked, 1);
    assert_int_equal(last, 2);
    assert_rc(mm_revoke_state(txn, ada_dev, res.identity, w->rel.id, &revoked, &last), MM_OK);
    assert_int_equal(last, 1);
    assert_rc(mm_revoke_state(txn, res.new_device, res.identity, NULL, &revoked, NULL), MM_OK);
    assert_int_equal(revoked, 0);
    /* this device is the identity device now */
    assert_rc(mm_device_identity(txn, res.identity, &d), MM_OK);
    assert_memory_equal(d.cert.device, res.new_device, 32);
    /* a new key per scope, the self scope's rekey first in this device's feeds */
    assert_rc(mm_scope_get(txn, self, &s), MM_OK);
    assert_int_equal(s.nkeys, 2);
    mm_scope_wipe(&s);
    assert_rc(mm_scope_get(txn, w->rel.id, &s), MM_OK);
    assert_int_equal(s.nkeys, 2);
    mm_scope_wipe(&s);
    /* the revocation goes to Grace in DEVICES */
    mm_device_set_t *set = malloc(sizeof *set);
    assert_rc(mm_device_collect(txn, res.identity, mm_home_identity_pk(w->grace), set), MM_OK);
    assert_int_equal(set->n[MM_DEVICE_REVOKE], 1);
    mm_revoke_t rv;
    assert_rc(mm_revoke_parse(set->item[MM_DEVICE_REVOKE][0].p,
                              set->item[MM_DEVICE_REVOKE][0].len, &rv), MM_OK);
    assert_memory_equal(rv.device, ada_dev, 32);
    /* Grace takes the new device's certificate and the revocation */
    assert_rc(mm_store_begin(mm_home_store(w->grace), 1, &tg), MM_OK);
    for (int k = 0; k < 2; k++)
        for (uint32_t i = 0; i < set->n[k]; i++)
            assert_rc(mm_device_accept(tg, mm_home_identity_pk(w->grace), res.identity, k,
                                       set->item[k][i].p, set->item[k][i].len), MM_OK);
    assert_rc(mm_txn_commit(&tg), MM_OK);
    free(set);
    mm_txn_abort(&txn);

    /* what the restored home writes next opens under no key the old home holds */
    assert_rc(mm_note_add(h, "after the restore", 17, NULL), MM_OK);
    assert_rc(mm_store_begin(mm_home_store(h), 1, &txn), MM_OK);
    assert_rc(mm_log_append(txn, mm_home_device(h), w->rel.id, 0, q, sizeof q - 1, NULL), MM_OK);
    assert_rc(mm_txn_commit(&txn), MM_OK);
    assert_rc(mm_store_begin(mm_home_store(w->ada), 0, &txn), MM_OK);
    assert_rc(mm_scope_get(txn, self, &old_self), MM_OK);
    assert_rc(mm_scope_get(txn, w->rel.id, &old_rel), MM_OK);
    mm_txn_abort(&txn);
    size_t n1 = last_entry(h, res.new_device, self, e1, &seq);
    assert_int_equal(seq, 3);       /* the rekey, the relationship's new keys, the note */
    assert_false(opens_under(e1, n1, &old_self));
    size_t n2 = last_entry(h, res.new_device, w->rel.id, e2, &seq);
    assert_int_equal(seq, 2);
    assert_false(opens_under(e2, n2, &old_rel));
    assert_rc(mm_store_begin(mm_home_store(h), 0, &txn), MM_OK);
    assert_rc(mm_scope_get(txn, self, &s), MM_OK);
    assert_true(opens_under(e1, n1, &s));
    mm_scope_wipe(&s);
    mm_txn_abort(&txn);

    /* Grace: the rekey gives her the new key, the new entry opens; what
     * the old device writes after its lasts is refused */
    size_t nr;
    {
        mm_txn_t *th;
        const uint8_t *buf;
        assert_rc(mm_store_begin(mm_home_store(h), 0, &th), MM_OK);
        assert_rc(mm_log_get(th, res.new_device, w->rel.id, 1, &buf, &nr), MM_OK);
        assert_rc(mm_store_begin(mm_home_store(w->grace), 1, &tg), MM_OK);
        assert_rc(mm_log_put(tg, buf, nr, NULL), MM_OK);
        mm_txn_abort(&th);
    }
    assert_rc(mm_log_put(tg, e2, n2, NULL), MM_OK);
    assert_rc(mm_txn_commit(&tg), MM_OK);
    assert_rc(mm_store_begin(mm_home_store(w->ada), 1, &txn), MM_OK);
    assert_rc(mm_log_append(txn, mm_home_device(w->ada), w->rel.id, 0, q, sizeof q - 1, NULL),
              MM_OK);               /* the old home does not know it is revoked */
    assert_rc(mm_txn_commit(&txn), MM_OK);
    nr = last_entry(w->ada, ada_dev, w->rel.id, e1, &seq);
    assert_int_equal(seq, 2);
    assert_rc(mm_store_begin(mm_home_store(w->grace), 1, &tg), MM_OK);
    assert_rc(mm_log_put(tg, e1, nr, NULL), MM_EREVOKED);
    mm_txn_abort(&tg);
    mm_scope_wipe(&old_self);
    mm_scope_wipe(&old_rel);
    mm_home_close(&h);
}

/* The new key of the self scope as the rekey entry e (sealed under the
 * old key old) delivers it to device kp: MM_OK with key, MM_ENOTFOUND if
 * the rekey does not list kp. */
static int rekey_key_for(const uint8_t *buf, size_t len, const uint8_t old[32],
                         const mm_keypair_t *kp, uint8_t key[32], unsigned *listed)
{
    static uint8_t pt[MM_ENTRY_MAX];
    mm_entry_t e;
    mm_mp_reader_t r;
    size_t n;
    uint32_t nm, sl, nk, two;
    const char *str;
    const uint8_t *dev, *sealed;
    uint8_t xpk[32], xsk[32];
    int rc = MM_ENOTFOUND;
    assert_rc(mm_entry_parse(buf, len, &e), MM_OK);
    assert_rc(mm_entry_open(&e, old, pt, sizeof pt, &n), MM_OK);
    mm_keypair_x25519(kp, xpk, xsk);
    mm_mp_reader_init(&r, pt, n);
    assert_rc(mm_mp_map(&r, &nm), MM_OK);
    for (uint32_t i = 0; i < nm; i++) {
        assert_rc(mm_mp_str(&r, &str, &sl), MM_OK);
        if (sl != 4 || memcmp(str, "keys", 4)) {
            assert_rc(mm_mp_skip(&r), MM_OK);
            continue;
        }
        assert_rc(mm_mp_array(&r, &nk), MM_OK);
        *listed = nk;
        for (uint32_t k = 0; k < nk; k++) {
            assert_rc(mm_mp_array(&r, &two), MM_OK);
            assert_rc(mm_mp_bin_n(&r, &dev, 32), MM_OK);
            assert_rc(mm_mp_bin_n(&r, &sealed, 80), MM_OK);
            if (!memcmp(dev, mm_keypair_pk(kp), 32)) {
                assert_int_equal(crypto_box_seal_open(key, sealed, 80, xpk, xsk), 0);
                rc = MM_OK;
            }
        }
    }
    sodium_memzero(xsk, sizeof xsk);
    return rc;
}

/* Ada has a phone too: the restore's rekeys seal the new keys to it (and
 * to the new device), never to the revoked laptop; the home waits to
 * catch up with the phone as well as Grace. */
static void test_restore_rekeys_to_other_devices(void **state)
{
    world_t *w = *state;
    char path[FX_PATH_MAX];
    mm_restore_t res;
    mm_home_t *h;
    mm_txn_t *txn;
    mm_keypair_t *id, *phone = fx_keypair(0x77);
    mm_scope_t s, olds;
    uint8_t cert[MM_CERT_MAX], self[32], key[32];
    static uint8_t e[MM_ENTRY_MAX];
    size_t certlen;
    unsigned listed = 0;
    assert_rc(mm_home_identity_key(w->ada, &id), MM_OK);
    assert_rc(mm_cert_make(id, phone, 5, "phone", 0, cert, sizeof cert, &certlen), MM_OK);
    assert_rc(mm_store_begin(mm_home_store(w->ada), 1, &txn), MM_OK);
    assert_rc(mm_cert_put(txn, cert, certlen, NULL), MM_OK);
    assert_rc(mm_txn_commit(&txn), MM_OK);
    mm_keypair_destroy(&id);
    assert_rc(mm_backup_write(w->ada, w->file, 0, PASS, strlen(PASS), &kdf_min, NULL), MM_OK);
    fx_path(path, w->dir, "restored");
    assert_rc(mm_backup_restore(w->file, path, "desk", PASS, strlen(PASS), 0, 1234, &res), MM_OK);
    assert_int_equal(res.catchup, 2);               /* Grace, and the phone */
    assert_rc(mm_home_open(path, &h), MM_OK);
    mm_scope_self_id(self, res.identity);
    assert_rc(mm_store_begin(mm_home_store(w->ada), 0, &txn), MM_OK);
    assert_rc(mm_scope_get(txn, self, &olds), MM_OK);
    mm_txn_abort(&txn);
    assert_rc(mm_store_begin(mm_home_store(h), 0, &txn), MM_OK);
    assert_rc(mm_scope_get(txn, self, &s), MM_OK);
    mm_txn_abort(&txn);
    assert_int_equal(s.nkeys, 2);
    /* the new device's first self-scope entry is the rekey, under the old key */
    {
        mm_txn_t *t;
        const uint8_t *buf;
        size_t len;
        assert_rc(mm_store_begin(mm_home_store(h), 0, &t), MM_OK);
        assert_rc(mm_log_get(t, res.new_device, self, 1, &buf, &len), MM_OK);
        memcpy(e, buf, len);
        mm_txn_abort(&t);
        assert_rc(rekey_key_for(e, len, olds.keys[0], phone, key, &listed), MM_OK);
        assert_memory_equal(key, s.keys[1], 32);
        assert_rc(rekey_key_for(e, len, olds.keys[0], mm_home_device(h), key, &listed), MM_OK);
        assert_memory_equal(key, s.keys[1], 32);
        assert_rc(rekey_key_for(e, len, olds.keys[0], mm_home_device(w->ada), key, &listed),
                  MM_ENOTFOUND);
        assert_int_equal(listed, 2);                /* the phone and this device */
    }
    mm_scope_wipe(&s);
    mm_scope_wipe(&olds);
    mm_keypair_destroy(&phone);
    mm_home_close(&h);
}

/* --keep-old: nothing revoked, no scope rekeyed. */
static void test_restore_keep_old(void **state)
{
    world_t *w = *state;
    char path[FX_PATH_MAX];
    mm_restore_t res;
    mm_home_t *h;
    mm_txn_t *txn;
    mm_scope_t s;
    int revoked;
    uint64_t n;
    backup(w);
    fx_path(path, w->dir, "kept");
    assert_rc(mm_backup_restore(w->file, path, NULL, PASS, strlen(PASS), 1, 1234, &res), MM_OK);
    assert_int_equal(res.revoked, 0);
    assert_int_equal(res.rekeyed, 0);
    assert_rc(mm_home_open(path, &h), MM_OK);
    assert_rc(mm_store_begin(mm_home_store(h), 0, &txn), MM_OK);
    assert_rc(mm_revoke_state(txn, res.old_device, res.identity, NULL, &revoked, NULL), MM_OK);
    assert_int_equal(revoked, 0);
    assert_rc(mm_scope_get(txn, w->rel.id, &s), MM_OK);
    assert_int_equal(s.nkeys, 1);
    mm_scope_wipe(&s);
    assert_rc(mm_log_check(txn, NULL, NULL, &n), MM_OK);
    assert_int_equal(n, 4);
    mm_txn_abort(&txn);
    mm_home_close(&h);
}

/* The format-3 tables travel: revocations, endpoints statements and
 * recorded forks are backed up and restored, each verified again. */
static void test_device_statements_travel(void **state)
{
    world_t *w = *state;
    char path[FX_PATH_MAX], clone[FX_PATH_MAX], path2[FX_PATH_MAX];
    mm_backup_stats_t st;
    mm_restore_t res, res2;
    mm_home_t *h, *g2;
    mm_txn_t *txn;
    mm_keypair_t *gid;
    mm_fork_t fk;
    mm_endpoint_t ep;
    static uint8_t a[MM_ENTRY_MAX], b[MM_ENTRY_MAX];
    const uint8_t *gdev = mm_keypair_pk(mm_home_device(w->grace));
    char eps[1][MM_ENDPOINT_MAX + 1] = { "tcp://127.0.0.1:4100" };
    uint8_t gself[32];
    /* Grace's key on two homes: two notes at seq 1 of her self feed */
    assert_rc(mm_home_identity_key(w->grace, &gid), MM_OK);
    fx_path(clone, w->dir, "grace-copy");
    assert_rc(mm_home_init_keys(clone, "Grace", "copy", 5, gid, mm_home_device(w->grace)), MM_OK);
    assert_rc(mm_home_open(clone, &g2), MM_OK);
    assert_rc(mm_note_add(w->grace, "one", 3, NULL), MM_OK);
    assert_rc(mm_note_add(g2, "two", 3, NULL), MM_OK);
    mm_scope_self_id(gself, mm_home_identity_pk(w->grace));
    size_t alen = last_entry(w->grace, gdev, gself, a, NULL);
    size_t blen = last_entry(g2, gdev, gself, b, NULL);
    mm_home_close(&g2);
    mm_keypair_destroy(&gid);
    assert_rc(mm_store_begin(mm_home_store(w->ada), 1, &txn), MM_OK);
    assert_rc(mm_fork_record(txn, a, alen, b, blen, NULL, NULL), MM_OK);
    assert_rc(mm_endpoint_announce(txn, mm_home_device(w->ada), 77, eps, 1, NULL), MM_OK);
    assert_rc(mm_txn_commit(&txn), MM_OK);
    /* restored once (revoking Ada's first device), then backed up again */
    assert_rc(mm_backup_write(w->ada, w->file, 0, PASS, strlen(PASS), &kdf_min, &st), MM_OK);
    assert_int_equal(st.forks, 1);
    assert_int_equal(st.endpoints, 1);
    assert_int_equal(st.revokes, 0);
    fx_path(path, w->dir, "restored");
    assert_rc(mm_backup_restore(w->file, path, "phone", PASS, strlen(PASS), 0, 9, &res), MM_OK);
    assert_int_equal(res.n.forks, 1);
    assert_int_equal(res.n.endpoints, 1);
    assert_rc(mm_home_open(path, &h), MM_OK);
    unlink(w->file);
    assert_rc(mm_backup_write(h, w->file, 0, PASS, strlen(PASS), &kdf_min, &st), MM_OK);
    assert_int_equal(st.revokes, 1);
    assert_int_equal(st.forks, 1);
    assert_int_equal(st.endpoints, 1);
    mm_home_close(&h);
    fx_path(path2, w->dir, "restored2");
    assert_rc(mm_backup_restore(w->file, path2, "tablet", PASS, strlen(PASS), 0, 10, &res2),
              MM_OK);
    assert_int_equal(res2.n.revokes, 1);
    assert_memory_equal(res2.old_device, res.new_device, 32);
    assert_rc(mm_home_open(path2, &h), MM_OK);
    assert_rc(mm_store_begin(mm_home_store(h), 0, &txn), MM_OK);
    assert_rc(mm_fork_get(txn, gdev, gself, &fk), MM_OK);
    assert_int_equal(fk.seq, 1);
    assert_rc(mm_endpoint_get(txn, mm_keypair_pk(mm_home_device(w->ada)), &ep, NULL, NULL),
              MM_OK);
    assert_int_equal(ep.n, 1);
    assert_string_equal(ep.endpoints[0], eps[0]);
    /* both devices before this one are revoked: the first by the first
     * restore (carried), the second by this one */
    int revoked;
    assert_rc(mm_revoke_state(txn, mm_keypair_pk(mm_home_device(w->ada)), res2.identity, NULL,
                              &revoked, NULL), MM_OK);
    assert_int_equal(revoked, 1);
    assert_rc(mm_revoke_state(txn, res.new_device, res2.identity, NULL, &revoked, NULL), MM_OK);
    assert_int_equal(revoked, 1);
    uint64_t n;
    assert_rc(mm_log_check(txn, NULL, NULL, &n), MM_OK);
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
        cmocka_unit_test_setup_teardown(test_restore_revokes_and_rekeys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restore_rekeys_to_other_devices, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restore_keep_old, setup, teardown),
        cmocka_unit_test_setup_teardown(test_device_statements_travel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fixture, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
