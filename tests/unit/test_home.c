/*  test_home.c -- a home's device key can be replaced (mm device reset):
 *  the store and the key file switch together, a crash at any step is
 *  finished or undone by the next open, and only the identity device can
 *  do it. */
#include "fixture.h"
#include "fxhome.h"

#include "core/cert.h"
#include "core/log.h"
#include "core/meta.h"
#include "core/note.h"

static void reopen(mm_home_t **h, const char *path)
{
    mm_home_close(h);
    assert_rc(mm_home_open(path, h), MM_OK);
}

static void own_cert(mm_home_t *h, mm_cert_t *c)
{
    mm_txn_t *txn;
    assert_rc(mm_store_begin(mm_home_store(h), 0, &txn), MM_OK);
    assert_rc(mm_cert_get(txn, mm_keypair_pk(mm_home_device(h)), c, NULL, NULL), MM_OK);
    mm_txn_abort(&txn);
}

static uint64_t check_all(mm_home_t *h)
{
    mm_txn_t *txn;
    uint64_t n = 0;
    assert_rc(mm_store_begin(mm_home_store(h), 0, &txn), MM_OK);
    assert_rc(mm_log_check(txn, NULL, NULL, &n), MM_OK);
    mm_txn_abort(&txn);
    return n;
}

typedef struct {
    int calls, fail;
    uint8_t old[32], new_[32];
} seen_t;

static int on_rotate(mm_txn_t *txn, const mm_keypair_t *identity, const uint8_t old[32],
                     const mm_keypair_t *dev, void *arg)
{
    seen_t *s = arg;
    (void) txn;
    assert_non_null(identity);
    s->calls++;
    memcpy(s->old, old, 32);
    memcpy(s->new_, mm_keypair_pk(dev), 32);
    return s->fail;
}

static void test_rotate(void **state)
{
    (void) state;
    char dir[FX_PATH_MAX], path[FX_PATH_MAX];
    uint8_t old[32], id[32];
    fx_mkdtemp(dir);
    fx_path(path, dir, "ada");
    mm_home_t *h = fx_home(dir, "ada", "Ada", NULL, NULL);
    assert_rc(mm_note_add(h, "before", 6, id), MM_OK);
    uint8_t before[32];
    memcpy(before, mm_keypair_pk(mm_home_device(h)), 32);

    seen_t s = { 0 };
    assert_rc(mm_home_rotate_device(h, 5, on_rotate, &s, old), MM_OK);
    assert_int_equal(s.calls, 1);
    assert_memory_equal(old, before, 32);
    assert_memory_equal(s.old, before, 32);
    assert_memory_equal(s.new_, mm_keypair_pk(mm_home_device(h)), 32);
    assert_memory_not_equal(before, mm_keypair_pk(mm_home_device(h)), 32);
    mm_cert_t c;
    own_cert(h, &c);
    assert_int_equal(c.version, 2);
    assert_int_equal(c.flags, MM_CERT_IDENTITY);
    assert_string_equal(c.name, "laptop");

    /* the new key writes; the old feed stays and verifies */
    assert_rc(mm_note_add(h, "after", 5, id), MM_OK);
    reopen(&h, path);
    assert_memory_equal(s.new_, mm_keypair_pk(mm_home_device(h)), 32);
    assert_int_equal(check_all(h), 2);
    mm_home_close(&h);
    assert_int_equal(fx_rmrf(dir), 0);
}

/* The caller's refusal aborts everything: the old key stays the device's. */
static void test_rotate_aborted(void **state)
{
    (void) state;
    char dir[FX_PATH_MAX], path[FX_PATH_MAX], next[FX_PATH_MAX];
    uint8_t old[32], before[32];
    struct stat st;
    fx_mkdtemp(dir);
    fx_path(path, dir, "ada");
    mm_home_t *h = fx_home(dir, "ada", "Ada", NULL, NULL);
    memcpy(before, mm_keypair_pk(mm_home_device(h)), 32);
    seen_t s = { .fail = MM_EFULL };
    assert_rc(mm_home_rotate_device(h, 5, on_rotate, &s, old), MM_EFULL);
    assert_memory_equal(before, mm_keypair_pk(mm_home_device(h)), 32);
    fx_path(next, path, "device.key.new");
    assert_int_not_equal(lstat(next, &st), 0);
    reopen(&h, path);
    assert_memory_equal(before, mm_keypair_pk(mm_home_device(h)), 32);
    mm_home_close(&h);
    assert_int_equal(fx_rmrf(dir), 0);
}

/* Crashes: after the key file was written but before the store switched,
 * the new key is dropped; after the store switched but before the rename,
 * the rename is finished. */
static void test_rotate_crash(void **state)
{
    (void) state;
    char dir[FX_PATH_MAX], path[FX_PATH_MAX], key[FX_PATH_MAX], next[FX_PATH_MAX];
    uint8_t old[32], before[32], after[32];
    uint8_t *oldkey = NULL, *newkey = NULL;
    struct stat st;
    fx_mkdtemp(dir);
    fx_path(path, dir, "ada");
    fx_path(key, path, "device.key");
    fx_path(next, path, "device.key.new");
    mm_home_t *h = fx_home(dir, "ada", "Ada", NULL, NULL);
    memcpy(before, mm_keypair_pk(mm_home_device(h)), 32);
    long oldlen = fx_read_file(key, &oldkey);
    assert_int_equal(oldlen, 80);
    assert_rc(mm_home_rotate_device(h, 5, NULL, NULL, old), MM_OK);
    memcpy(after, mm_keypair_pk(mm_home_device(h)), 32);
    mm_home_close(&h);
    long newlen = fx_read_file(key, &newkey);
    assert_int_equal(newlen, 80);

    /* the store switched, the rename did not happen */
    fx_write_file(next, newkey, (size_t) newlen, 0600);
    assert_int_equal(unlink(key), 0);
    fx_write_file(key, oldkey, (size_t) oldlen, 0600);
    assert_rc(mm_home_open(path, &h), MM_OK);
    assert_memory_equal(after, mm_keypair_pk(mm_home_device(h)), 32);
    assert_int_not_equal(lstat(next, &st), 0);
    mm_home_close(&h);

    /* a key file written, the store never switched to it */
    fx_write_file(next, oldkey, (size_t) oldlen, 0600);
    assert_rc(mm_home_open(path, &h), MM_OK);
    assert_memory_equal(after, mm_keypair_pk(mm_home_device(h)), 32);
    assert_int_not_equal(lstat(next, &st), 0);
    mm_home_close(&h);
    free(oldkey);
    free(newkey);
    assert_int_equal(fx_rmrf(dir), 0);
}

/* Without the identity key the device cannot certify a new key. */
static void test_rotate_needs_identity(void **state)
{
    (void) state;
    char dir[FX_PATH_MAX], path[FX_PATH_MAX], idkey[FX_PATH_MAX];
    uint8_t old[32], before[32];
    fx_mkdtemp(dir);
    fx_path(path, dir, "ada");
    fx_path(idkey, path, "identity.key");
    mm_home_t *h = fx_home(dir, "ada", "Ada", NULL, NULL);
    memcpy(before, mm_keypair_pk(mm_home_device(h)), 32);
    assert_int_equal(unlink(idkey), 0);
    assert_rc(mm_home_rotate_device(h, 5, NULL, NULL, old), MM_ENOIDENTITY);
    reopen(&h, path);
    assert_memory_equal(before, mm_keypair_pk(mm_home_device(h)), 32);
    mm_home_close(&h);
    assert_int_equal(fx_rmrf(dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rotate),
        cmocka_unit_test(test_rotate_aborted),
        cmocka_unit_test(test_rotate_crash),
        cmocka_unit_test(test_rotate_needs_identity),
    };
    return cmocka_run_group_tests(tests, fx_setup_crypto, NULL);
}
