/*  test_view.c -- the views index (core/view.h) holds what a full scan of
 *  the log finds: after own appends, after received runs, when a fork or a
 *  revocation refuses entries, and after the migration of a format-3 store;
 *  mm_view_check finds a row that is wrong, and mm_view_rebuild mends it. */
#include "fixture.h"
#include "core/home.h"
#include "core/log.h"
#include "core/body.h"
#include "core/item.h"
#include "core/meta.h"
#include "core/revoke.h"
#include "core/view.h"

#define RUN 12

typedef struct {
    char dir[FX_PATH_MAX];
    mm_home_t *home;
    mm_keypair_t *bob_id, *bob_dev;
    mm_scope_t scope;
    uint8_t entries[RUN][800];
    size_t lens[RUN];
    const uint8_t *ptrs[RUN];
    size_t indexed;                 /* of Bob's RUN entries, those the index holds */
} world_t;

/* Bob's body number i: questions, a thanks, a decline, bulk "fill"
 * entries and a note (in a relationship: indexed). */
static size_t body_of(int i, const uint8_t ref[32], uint8_t *out, size_t cap, int *indexed)
{
    char text[64];
    size_t len;
    snprintf(text, sizeof text, "entry number %d of the relationship", i);
    mm_field_t f[2] = { { "ref", MM_F_BIN, ref, 32, 0 }, { "text", MM_F_STR, text, strlen(text), 0 } };
    mm_field_t fill[2] = { { "n", MM_F_UINT, NULL, 0, (uint64_t) i }, f[1] };
    switch (i % 4) {
    case 0:
        assert_rc(mm_body_build(out, cap, &len, MM_T_QUESTION, f + 1, 1), MM_OK);
        *indexed = 1;
        break;
    case 1:
        assert_rc(mm_body_build(out, cap, &len, MM_T_THANKS, f, 2), MM_OK);
        *indexed = 1;
        break;
    case 2:
        assert_rc(mm_body_build(out, cap, &len, "fill", fill, 2), MM_OK);
        *indexed = 0;
        break;
    default:
        assert_rc(mm_body_build(out, cap, &len, i == 3 ? MM_T_NOTE : "fill", fill + 1, 1), MM_OK);
        *indexed = i == 3;
        break;
    }
    return len;
}

static int setup(void **state)
{
    world_t *w = calloc(1, sizeof *w);
    char path[FX_PATH_MAX];
    uint8_t cert[MM_CERT_MAX], body[600], ref[32];
    size_t certlen;
    mm_txn_t *txn;
    fx_mkdtemp(w->dir);
    fx_path(path, w->dir, "ann");
    assert_rc(mm_home_init(path, "Ann", "laptop", 1), MM_OK);
    assert_rc(mm_home_open(path, &w->home), MM_OK);
    w->bob_id = fx_keypair(0xb0);
    w->bob_dev = fx_keypair(0xb1);
    w->scope.kind = MM_SCOPE_PAIR;
    w->scope.nmembers = 2;
    memcpy(w->scope.members[0], mm_home_identity_pk(w->home), 32);
    memcpy(w->scope.members[1], mm_keypair_pk(w->bob_id), 32);
    memset(w->scope.id, 0x5c, 32);
    memset(w->scope.keys[0], 0x6b, 32);
    w->scope.nkeys = 1;
    assert_rc(mm_cert_make(w->bob_id, w->bob_dev, 1, "bob", 0, cert, sizeof cert, &certlen),
              MM_OK);
    assert_rc(mm_store_begin(mm_home_store(w->home), 1, &txn), MM_OK);
    assert_rc(mm_scope_put(txn, &w->scope), MM_OK);
    assert_rc(mm_cert_put(txn, cert, certlen, NULL), MM_OK);
    assert_rc(mm_txn_commit(&txn), MM_OK);
    mm_head_t head = { 0 };
    memset(ref, 0x11, 32);
    for (int i = 0; i < RUN; i++) {
        int ix;
        size_t blen = body_of(i, ref, body, sizeof body, &ix);
        mm_entry_t e;
        /* times not in seq order: the index orders by (time, id) */
        assert_rc(mm_entry_seal(w->bob_dev, &w->scope, &head, 5000 - 10 * (uint64_t) (i % 5),
                                NULL, body, blen, w->entries[i], sizeof w->entries[i],
                                &w->lens[i]), MM_OK);
        assert_rc(mm_entry_parse(w->entries[i], w->lens[i], &e), MM_OK);
        head.seq = e.seq;
        memcpy(head.id, e.id, 32);
        w->ptrs[i] = w->entries[i];
        w->indexed += (size_t) ix;
    }
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world_t *w = *state;
    mm_home_close(&w->home);
    mm_keypair_destroy(&w->bob_id);
    mm_keypair_destroy(&w->bob_dev);
    fx_rmrf(w->dir);
    free(w);
    return 0;
}

static int put(mm_store_t *s, const uint8_t *const *bufs, const size_t *lens, size_t n)
{
    mm_txn_t *txn;
    assert_rc(mm_store_begin(s, 1, &txn), MM_OK);
    int rc = mm_log_put_run(txn, bufs, lens, n, NULL);
    if (rc == MM_OK)
        assert_rc(mm_txn_commit(&txn), MM_OK);
    mm_txn_abort(&txn);
    return rc;
}

/* The items of scope as a full scan of the log finds them, keeping the
 * types the index holds, against those the index gives: the same items,
 * in the same order, with the same bytes.  Returns how many. */
static size_t same_as_scan(mm_store_t *s, const mm_scope_t *sc)
{
    mm_items_t all, ix;
    mm_txn_t *txn;
    size_t k = 0;
    assert_rc(mm_store_begin(s, 0, &txn), MM_OK);
    assert_rc(mm_items_load_txn(txn, sc->id, NULL, &all), MM_OK);     /* NULL: the scan */
    assert_true(mm_view_covers(txn, sc->kind, MM_ITEM_TYPES) == (sc->kind == MM_SCOPE_PAIR));
    assert_rc(mm_items_load_txn(txn, sc->id, MM_ITEM_TYPES, &ix), MM_OK);
    for (size_t i = 0; i < all.n; i++) {
        const mm_item_t *a = &all.v[i];
        if (!mm_view_indexed(sc->kind, a->type, strlen(a->type)))
            continue;
        if (sc->kind == MM_SCOPE_PAIR) {
            assert_true(k < ix.n);
            const mm_item_t *b = &ix.v[k];
            assert_memory_equal(a->id, b->id, 32);
            assert_memory_equal(a->author, b->author, 32);
            assert_memory_equal(a->device, b->device, 32);
            assert_int_equal(a->seq, b->seq);
            assert_int_equal(a->time, b->time);
            assert_string_equal(a->type, b->type);
            assert_int_equal(a->ptlen, b->ptlen);
            assert_memory_equal(a->pt, b->pt, a->ptlen);
        }
        k++;
    }
    if (sc->kind == MM_SCOPE_PAIR)
        assert_int_equal(k, ix.n);
    uint64_t rows;
    assert_rc(mm_view_check(txn, NULL, NULL, &rows), MM_OK);
    mm_items_free(&all);
    mm_items_free(&ix);
    mm_txn_abort(&txn);
    return k;
}

static size_t rows_of(mm_store_t *s)
{
    mm_txn_t *txn;
    uint64_t rows;
    assert_rc(mm_store_begin(s, 0, &txn), MM_OK);
    assert_rc(mm_view_check(txn, NULL, NULL, &rows), MM_OK);
    mm_txn_abort(&txn);
    return (size_t) rows;
}

static void test_view_received(void **state)
{
    world_t *w = *state;
    mm_store_t *s = mm_home_store(w->home);
    assert_int_equal(rows_of(s), 0);
    assert_rc(put(s, w->ptrs, w->lens, 5), MM_OK);
    assert_rc(put(s, w->ptrs, w->lens, RUN), MM_OK);      /* again: the first 5 skipped */
    assert_int_equal(same_as_scan(s, &w->scope), w->indexed);
    assert_int_equal(rows_of(s), w->indexed);
}

static void test_view_own_appends(void **state)
{
    world_t *w = *state;
    mm_store_t *s = mm_home_store(w->home);
    mm_txn_t *txn;
    mm_scope_t self;
    const char *text = "a private note";
    mm_field_t note = { "text", MM_F_STR, text, strlen(text), 0 };
    mm_field_t cap[2] = { { "n", MM_F_UINT, NULL, 0, 3 }, { "per", MM_F_STR, "week", 4, 0 } };
    assert_rc(put(s, w->ptrs, w->lens, RUN), MM_OK);
    assert_rc(mm_store_begin(s, 1, &txn), MM_OK);
    const mm_keypair_t *dev = mm_home_device(w->home);
    for (int i = 0; i < 3; i++) {
        assert_rc(mm_item_append(txn, dev, w->scope.id, MM_T_QUESTION, &note, 1, 0, NULL), MM_OK);
        assert_rc(mm_item_append(txn, dev, w->scope.id, "fill", &note, 1, 0, NULL), MM_OK);
        assert_rc(mm_item_append(txn, dev, mm_home_self_scope(w->home), MM_T_NOTE, &note, 1, 0,
                                 NULL), MM_OK);
    }
    assert_rc(mm_item_append(txn, dev, mm_home_self_scope(w->home), MM_T_CAPACITY, cap, 2, 0,
                             NULL), MM_OK);
    assert_rc(mm_txn_commit(&txn), MM_OK);
    assert_int_equal(same_as_scan(s, &w->scope), w->indexed + 3);
    /* the self scope: its capacity indexed, its private notes not */
    assert_rc(mm_store_begin(s, 0, &txn), MM_OK);
    assert_rc(mm_scope_get(txn, mm_home_self_scope(w->home), &self), MM_OK);
    mm_txn_abort(&txn);
    assert_int_equal(same_as_scan(s, &self), 1);
    mm_scope_wipe(&self);
    assert_int_equal(rows_of(s), w->indexed + 3 + 1);
    /* the latest two of the relationship, opened from the end */
    mm_items_t last, all;
    size_t total;
    assert_rc(mm_items_load_latest(s, w->scope.id, MM_ITEM_TYPES, 2, &last, &total), MM_OK);
    assert_rc(mm_items_load(s, w->scope.id, MM_ITEM_TYPES, &all), MM_OK);
    assert_int_equal(total, all.n);
    assert_int_equal(last.n, 2);
    assert_memory_equal(last.v[0].id, all.v[all.n - 2].id, 32);
    assert_memory_equal(last.v[1].id, all.v[all.n - 1].id, 32);
    mm_items_free(&last);
    mm_items_free(&all);
}

static void test_view_refused(void **state)
{
    world_t *w = *state;
    mm_store_t *s = mm_home_store(w->home);
    uint8_t other[800], body[600], ref[32] = { 0 };
    size_t olen, blen;
    int ix;
    mm_txn_t *txn;
    assert_rc(put(s, w->ptrs, w->lens, 4), MM_OK);
    size_t before = rows_of(s);
    /* a fork at seq 5 (a question: it would be indexed), in a run whose
     * fourth entry is good: nothing of it is stored, nor indexed */
    mm_head_t h4 = { 4, { 0 } };
    mm_entry_t e4;
    assert_rc(mm_entry_parse(w->entries[3], w->lens[3], &e4), MM_OK);
    memcpy(h4.id, e4.id, 32);
    blen = body_of(0, ref, body, sizeof body, &ix);
    assert_rc(mm_entry_seal(w->bob_dev, &w->scope, &h4, 7, NULL, body, blen, other, sizeof other,
                            &olen), MM_OK);
    const uint8_t *run[2] = { w->ptrs[3], other };
    size_t lens[2] = { w->lens[3], olen };
    assert_rc(put(s, run, lens, 2), MM_OK);                 /* seq 5 was free: stored */
    assert_int_equal(rows_of(s), before + 1);
    assert_rc(put(s, w->ptrs + 4, w->lens + 4, RUN - 4), MM_EFORK);
    assert_int_equal(rows_of(s), before + 1);
    same_as_scan(s, &w->scope);
    /* Bob's device revoked after what Ann holds: the rest is refused */
    assert_rc(mm_store_begin(s, 1, &txn), MM_OK);
    assert_rc(mm_revoke_device(txn, w->bob_id, mm_keypair_pk(w->bob_dev), 9000, NULL), MM_OK);
    assert_rc(mm_txn_commit(&txn), MM_OK);
    mm_head_t h5 = { 5, { 0 } };
    mm_entry_t e5;
    assert_rc(mm_entry_parse(other, olen, &e5), MM_OK);
    memcpy(h5.id, e5.id, 32);
    uint8_t late[800];
    size_t llen;
    assert_rc(mm_entry_seal(w->bob_dev, &w->scope, &h5, 8, NULL, body, blen, late, sizeof late,
                            &llen), MM_OK);
    const uint8_t *lp[1] = { late };
    assert_rc(put(s, lp, &llen, 1), MM_EREVOKED);
    assert_int_equal(rows_of(s), before + 1);
    same_as_scan(s, &w->scope);
}

static void test_view_check_and_rebuild(void **state)
{
    world_t *w = *state;
    mm_store_t *s = mm_home_store(w->home);
    mm_txn_t *txn;
    uint64_t rows;
    assert_rc(put(s, w->ptrs, w->lens, RUN), MM_OK);
    /* a row for an entry that is not stored */
    uint8_t other[800], body[600], ref[32] = { 0 };
    size_t olen, blen;
    int ix;
    mm_head_t h = { RUN, { 0 } };
    mm_entry_t e;
    blen = body_of(0, ref, body, sizeof body, &ix);
    assert_rc(mm_entry_seal(w->bob_dev, &w->scope, &h, 1, NULL, body, blen, other, sizeof other,
                            &olen), MM_OK);
    assert_rc(mm_entry_parse(other, olen, &e), MM_OK);
    assert_rc(mm_store_begin(s, 1, &txn), MM_OK);
    assert_rc(mm_view_put(txn, &w->scope, &e, mm_keypair_pk(w->bob_id), body, blen), MM_OK);
    assert_rc(mm_txn_commit(&txn), MM_OK);
    assert_rc(mm_store_begin(s, 0, &txn), MM_OK);
    assert_rc(mm_view_check(txn, NULL, NULL, &rows), MM_ECORRUPT);
    assert_rc(mm_view_rebuild(txn, &rows), MM_EPERM);
    mm_txn_abort(&txn);
    assert_rc(mm_store_begin(s, 1, &txn), MM_OK);
    assert_rc(mm_view_rebuild(txn, &rows), MM_OK);
    assert_int_equal(rows, w->indexed);
    assert_rc(mm_txn_commit(&txn), MM_OK);
    assert_int_equal(same_as_scan(s, &w->scope), w->indexed);
    /* forgetting the scope's rows leaves the others */
    assert_rc(mm_store_begin(s, 1, &txn), MM_OK);
    mm_field_t cap = { "n", MM_F_UINT, NULL, 0, 3 };
    mm_field_t per = { "per", MM_F_STR, "week", 4, 0 };
    mm_field_t f[2] = { cap, per };
    assert_rc(mm_item_append(txn, mm_home_device(w->home), mm_home_self_scope(w->home),
                             MM_T_CAPACITY, f, 2, 0, NULL), MM_OK);
    assert_rc(mm_view_forget_scope(txn, w->scope.id, &rows), MM_OK);
    assert_int_equal(rows, w->indexed);
    mm_items_t left;
    assert_rc(mm_items_load_txn(txn, w->scope.id, MM_ITEM_TYPES, &left), MM_OK);
    assert_int_equal(left.n, 0);
    mm_items_free(&left);
    assert_rc(mm_items_load_txn(txn, mm_home_self_scope(w->home), MM_ITEM_TYPES, &left), MM_OK);
    assert_int_equal(left.n, 1);
    mm_items_free(&left);
    mm_txn_abort(&txn);
}

/* Entries stored without their rows (by an older mm that had the store
 * open across the migration: its commits leave meta "indexed" behind) are
 * indexed at the next open for writing. */
static void test_view_healed_on_open(void **state)
{
    world_t *w = *state;
    char path[FX_PATH_MAX];
    mm_txn_t *txn;
    uint64_t rows, stale = 3;
    uint8_t be[8];
    assert_rc(put(mm_home_store(w->home), w->ptrs, w->lens, RUN), MM_OK);
    assert_int_equal(rows_of(mm_home_store(w->home)), w->indexed);
    assert_rc(mm_store_begin(mm_home_store(w->home), 1, &txn), MM_OK);
    assert_rc(mm_view_forget_scope(txn, w->scope.id, &rows), MM_OK);
    for (int i = 0; i < 8; i++)
        be[i] = (uint8_t) (stale >> (56 - 8 * i));
    assert_rc(mm_meta_put(txn, "indexed", be, 8), MM_OK);
    assert_rc(mm_txn_commit(&txn), MM_OK);
    assert_rc(mm_store_begin(mm_home_store(w->home), 0, &txn), MM_OK);
    assert_rc(mm_view_check(txn, NULL, NULL, &rows), MM_ECORRUPT);
    mm_txn_abort(&txn);
    mm_home_close(&w->home);
    fx_path(path, w->dir, "ann");
    assert_rc(mm_home_open(path, &w->home), MM_OK);
    assert_int_equal(same_as_scan(mm_home_store(w->home), &w->scope), w->indexed);
    /* and a store whose mark is right is not rebuilt: a row forgotten
     * without touching the mark stays missing (mm verify names it) */
    assert_rc(mm_store_begin(mm_home_store(w->home), 1, &txn), MM_OK);
    assert_rc(mm_view_forget_scope(txn, w->scope.id, &rows), MM_OK);
    assert_rc(mm_txn_commit(&txn), MM_OK);
    mm_home_close(&w->home);
    assert_rc(mm_home_open(path, &w->home), MM_OK);
    assert_rc(mm_store_begin(mm_home_store(w->home), 0, &txn), MM_OK);
    assert_rc(mm_view_check(txn, NULL, NULL, &rows), MM_ECORRUPT);
    mm_txn_abort(&txn);
}

/* A home written as format 3 (no index) is indexed on its first open as
 * format 4, from the log. */
static void test_view_migration(void **state)
{
    world_t *w = *state;
    char path[FX_PATH_MAX];
    mm_txn_t *txn;
    mm_home_close(&w->home);
    fx_path(path, w->dir, "old");
    setenv(MM_STORE_FORMAT_ENV, "3", 1);
    assert_rc(mm_home_init(path, "Old", "laptop", 1), MM_OK);
    assert_rc(mm_home_open(path, &w->home), MM_OK);
    mm_store_t *s = mm_home_store(w->home);
    assert_rc(mm_store_begin(s, 1, &txn), MM_OK);
    assert_false(mm_view_covers(txn, MM_SCOPE_PAIR, MM_ITEM_TYPES));
    memcpy(w->scope.members[0], mm_home_identity_pk(w->home), 32);
    assert_rc(mm_scope_put(txn, &w->scope), MM_OK);
    uint8_t cert[MM_CERT_MAX];
    size_t certlen;
    assert_rc(mm_cert_make(w->bob_id, w->bob_dev, 1, "bob", 0, cert, sizeof cert, &certlen),
              MM_OK);
    assert_rc(mm_cert_put(txn, cert, certlen, NULL), MM_OK);
    assert_rc(mm_txn_commit(&txn), MM_OK);
    assert_rc(put(s, w->ptrs, w->lens, RUN), MM_OK);
    assert_rc(mm_store_begin(s, 0, &txn), MM_OK);
    uint64_t rows = 1;
    assert_rc(mm_view_check(txn, NULL, NULL, &rows), MM_OK);  /* no table: nothing to check */
    assert_int_equal(rows, 0);
    mm_txn_abort(&txn);
    mm_home_close(&w->home);
    unsetenv(MM_STORE_FORMAT_ENV);
    assert_rc(mm_home_open(path, &w->home), MM_OK);
    s = mm_home_store(w->home);
    assert_int_equal(mm_store_migrated(s), 3);
    assert_int_equal(same_as_scan(s, &w->scope), w->indexed);
    assert_int_equal(rows_of(s), w->indexed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_view_received, setup, teardown),
        cmocka_unit_test_setup_teardown(test_view_own_appends, setup, teardown),
        cmocka_unit_test_setup_teardown(test_view_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_view_check_and_rebuild, setup, teardown),
        cmocka_unit_test_setup_teardown(test_view_healed_on_open, setup, teardown),
        cmocka_unit_test_setup_teardown(test_view_migration, setup, teardown),
    };
    return cmocka_run_group_tests(tests, fx_setup_crypto, NULL);
}
