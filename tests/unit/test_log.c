/*  test_log.c -- store, append-only log, home and notes (core/store.h,
 *  core/log.h, core/home.h, core/note.h), each test in a temporary dir. */
#include "fixture.h"

#include "crypto/encoding.h"
#include "crypto/keyfile.h"
#include "core/cert.h"
#include "core/entry.h"
#include "core/home.h"
#include "core/log.h"
#include "core/meta.h"
#include "core/note.h"
#include "core/store.h"
#include "core/utf8.h"

#define T0 1700000000000ull

/* ---- fixtures ----------------------------------------------------------- */

typedef struct {
    char tmp[FX_PATH_MAX];
    char path[FX_PATH_MAX];         /* tmp/home */
    mm_home_t *home;
    mm_note_list_t list;            /* freed by teardown, also after a failure */
} home_state_t;

static int home_setup(void **state)
{
    home_state_t *s = calloc(1, sizeof *s);
    if (!s)
        return -1;
    fx_mkdtemp(s->tmp);
    fx_path(s->path, s->tmp, "home");
    if (mm_home_init(s->path, "Alice", "laptop", T0) != MM_OK ||
        mm_home_open(s->path, &s->home) != MM_OK) {
        fx_rmrf(s->tmp);
        free(s);
        return -1;
    }
    *state = s;
    return 0;
}

static int home_teardown(void **state)
{
    home_state_t *s = *state;
    mm_note_list_free(&s->list);
    mm_home_close(&s->home);
    assert_null(s->home);
    int rc = fx_rmrf(s->tmp);
    free(s);
    return rc;
}

static int store_setup(void **state)
{
    fx_store_t *fs = calloc(1, sizeof *fs);
    if (!fs)
        return -1;
    fx_store_new(fs);
    *state = fs;
    return 0;
}

static int store_teardown(void **state)
{
    fx_store_t *fs = *state;
    int rc = fx_store_done(fs);
    free(fs);
    return rc;
}

static mm_txn_t *begin(mm_store_t *st, int write)
{
    mm_txn_t *txn = NULL;
    assert_rc(mm_store_begin(st, write, &txn), MM_OK);
    assert_non_null(txn);
    return txn;
}

static const uint8_t *dev_pk(home_state_t *s)
{
    return mm_keypair_pk(mm_home_device(s->home));
}

static mm_head_t head_of(mm_txn_t *txn, const uint8_t author[32], const uint8_t scope[32])
{
    mm_head_t h;
    memset(&h, 0xee, sizeof h);
    assert_rc(mm_log_head(txn, author, scope, &h), MM_OK);
    return h;
}

/* Append a note body with text through mm_log_append. */
static int append_note(mm_txn_t *txn, const mm_keypair_t *dev, const uint8_t scope[32],
                       uint64_t time, const char *text, uint8_t id[32])
{
    uint8_t body[256];
    size_t n = fx_note_body(body, sizeof body, text);
    return mm_log_append(txn, dev, scope, time, body, n, id);
}

/* ---- home --------------------------------------------------------------- */

static void test_home_init_open(void **state)
{
    home_state_t *s = *state;
    assert_string_equal(mm_home_name(s->home), "Alice");
    assert_string_equal(mm_home_devname(s->home), "laptop");
    assert_string_equal(mm_home_path(s->home), s->path);
    uint8_t self[32];
    mm_scope_self_id(self, mm_home_identity_pk(s->home));
    assert_memory_equal(mm_home_self_scope(s->home), self, 32);

    mm_keypair_t *idk = NULL;
    assert_rc(mm_home_identity_key(s->home, &idk), MM_OK);
    assert_memory_equal(mm_keypair_pk(idk), mm_home_identity_pk(s->home), 32);
    assert_memory_not_equal(mm_keypair_pk(idk), dev_pk(s), 32);
    mm_keypair_destroy(&idk);

    /* permissions */
    char p[FX_PATH_MAX];
    assert_int_equal(fx_mode(s->path), 0700);
    fx_path(p, s->path, "identity.key");
    assert_int_equal(fx_mode(p), 0600);
    fx_path(p, s->path, "device.key");
    assert_int_equal(fx_mode(p), 0600);
    fx_path(p, s->path, "store/data.mdb");
    assert_int_equal(fx_mode(p), 0600);

    /* what init put in the store */
    mm_txn_t *txn = begin(mm_home_store(s->home), 0);
    mm_cert_t c;
    assert_rc(mm_cert_get(txn, dev_pk(s), &c, NULL, NULL), MM_OK);
    assert_memory_equal(c.identity, mm_home_identity_pk(s->home), 32);
    assert_memory_equal(c.device, dev_pk(s), 32);
    assert_string_equal(c.name, "laptop");
    mm_scope_t sc;
    assert_rc(mm_scope_get(txn, self, &sc), MM_OK);
    assert_int_equal(sc.kind, MM_SCOPE_SELF);
    assert_int_equal(sc.nmembers, 1);
    assert_memory_equal(sc.members[0], mm_home_identity_pk(s->home), 32);
    mm_scope_wipe(&sc);
    const uint8_t *v;
    size_t vlen;
    assert_rc(mm_meta_get(txn, "identity", &v, &vlen), MM_OK);
    assert_int_equal(vlen, 32);
    assert_memory_equal(v, mm_home_identity_pk(s->home), 32);
    assert_rc(mm_meta_get(txn, "device", &v, &vlen), MM_OK);
    assert_int_equal(vlen, 32);
    assert_memory_equal(v, dev_pk(s), 32);
    assert_rc(mm_meta_get(txn, "self", &v, &vlen), MM_OK);
    assert_int_equal(vlen, 32);
    assert_memory_equal(v, self, 32);
    assert_rc(mm_meta_get(txn, "name", &v, &vlen), MM_OK);
    assert_int_equal(vlen, 5);
    assert_memory_equal(v, "Alice", 5);
    assert_rc(mm_meta_get(txn, "no such key", &v, &vlen), MM_ENOTFOUND);
    mm_txn_abort(&txn);
    assert_null(txn);
    mm_txn_abort(&txn);                         /* NULL-safe */
}

static void test_home_init_refuses(void **state)
{
    home_state_t *s = *state;
    char p[FX_PATH_MAX];
    uint8_t *before, *after;
    fx_path(p, s->path, "identity.key");
    long n = fx_read_file(p, &before);
    assert_int_equal(n, MM_KEYFILE_BYTES);

    /* a home is never overwritten */
    assert_rc(mm_home_init(s->path, "Mallory", "evil", T0), MM_EEXIST);
    assert_int_equal(fx_read_file(p, &after), n);
    assert_memory_equal(before, after, (size_t) n);
    free(before);
    free(after);

    /* nor is any non-empty directory */
    char full[FX_PATH_MAX], keep[FX_PATH_MAX], key[FX_PATH_MAX];
    fx_path(full, s->tmp, "full");
    assert_int_equal(mkdir(full, 0700), 0);
    fx_path(keep, full, "keep");
    fx_write_file(keep, "data", 4, 0600);
    assert_rc(mm_home_init(full, "Bob", "pc", T0), MM_EEXIST);
    assert_int_equal(fx_read_file(keep, &after), 4);
    assert_memory_equal(after, "data", 4);
    free(after);
    fx_path(key, full, "identity.key");
    assert_int_equal(access(key, F_OK), -1);

    /* names */
    char bad[FX_PATH_MAX], name65[MM_NAME_MAX + 2];
    memset(name65, 'n', MM_NAME_MAX + 1);
    name65[MM_NAME_MAX + 1] = '\0';
    fx_path(bad, s->tmp, "bad");
    assert_rc(mm_home_init(bad, "", "pc", T0), MM_EINVAL);
    assert_rc(mm_home_init(bad, name65, "pc", T0), MM_EINVAL);

    /* nothing there to open */
    mm_home_t *h = NULL;
    char missing[FX_PATH_MAX];
    fx_path(missing, s->tmp, "missing");
    assert_rc(mm_home_open(missing, &h), MM_ENOTFOUND);
    assert_null(h);
}

static void test_home_init_empty_dir(void **state)
{
    home_state_t *s = *state;
    char empty[FX_PATH_MAX], key[FX_PATH_MAX];
    fx_path(empty, s->tmp, "empty");
    assert_int_equal(mkdir(empty, 0700), 0);
    assert_rc(mm_home_init(empty, "Bob", NULL, T0), MM_OK);     /* devname: host name */
    mm_home_t *h = NULL;
    assert_rc(mm_home_open(empty, &h), MM_OK);
    assert_string_equal(mm_home_name(h), "Bob");
    assert_non_null(mm_home_devname(h));
    assert_true(strlen(mm_home_devname(h)) > 0);
    /* a different person from the home in the fixture */
    assert_memory_not_equal(mm_home_identity_pk(h), mm_home_identity_pk(s->home), 32);
    assert_int_equal(fx_mode(empty), 0700);
    mm_home_close(&h);

    /* a device key readable by others is refused */
    fx_path(key, empty, "device.key");
    assert_int_equal(chmod(key, 0644), 0);
    assert_rc(mm_home_open(empty, &h), MM_EPERM);
    assert_null(h);
}

/* "dir/" names the same (missing) directory as "dir": init must work. */
static void test_home_init_trailing_slash(void **state)
{
    home_state_t *s = *state;
    char slash[FX_PATH_MAX];
    fx_path(slash, s->tmp, "slash/");
    assert_rc(mm_home_init(slash, "Carol", "pc", T0), MM_OK);
    mm_home_t *h = NULL;
    assert_rc(mm_home_open(slash, &h), MM_OK);
    assert_string_equal(mm_home_name(h), "Carol");
    mm_home_close(&h);
}

/* ---- notes -------------------------------------------------------------- */

static void test_notes(void **state)
{
    home_state_t *s = *state;
    static const char *texts[] = { "first", "second note", "third \xe2\x9c\x93" };
    uint8_t ids[3][32];
    for (int i = 0; i < 3; i++)
        assert_rc(mm_note_add(s->home, texts[i], strlen(texts[i]), ids[i]), MM_OK);

    mm_note_list_t *list = &s->list;
    assert_rc(mm_note_list(s->home, list), MM_OK);
    assert_int_equal(list->n, 3);
    for (int i = 0; i < 3; i++) {
        const mm_note_t *n = &list->v[i];
        int want = 2 - i;                       /* newest first */
        assert_string_equal(n->text, texts[want]);
        assert_int_equal(n->len, strlen(texts[want]));
        assert_memory_equal(n->id, ids[want], 32);
        assert_memory_equal(n->author, dev_pk(s), 32);
        assert_true(n->seq == (uint64_t) want + 1);
        assert_true(n->time > T0);              /* "now", not the init time */
    }
    mm_note_list_free(list);

    /* by a 4-hex-digit prefix (longer only if two ids share those 4) */
    char hex[65];
    mm_encoding_hex(hex, ids[1], 32);
    size_t plen = 4;
    for (int j = 0; j < 3; j++) {
        char other[65];
        mm_encoding_hex(other, ids[j], 32);
        while (j != 1 && memcmp(hex, other, plen) == 0)
            plen++;
    }
    hex[plen] = '\0';
    assert_rc(mm_note_get(s->home, hex, list), MM_OK);
    assert_int_equal(list->n, 1);
    assert_string_equal(list->v[0].text, "second note");
    assert_memory_equal(list->v[0].id, ids[1], 32);
    mm_note_list_free(list);

    mm_encoding_hex(hex, ids[2], 32);
    assert_rc(mm_note_get(s->home, hex, list), MM_OK);
    assert_string_equal(list->v[0].text, texts[2]);
    mm_note_list_free(list);
    hex[63] = hex[63] == '0' ? '1' : '0';
    assert_rc(mm_note_get(s->home, hex, list), MM_ENOTFOUND);
    assert_rc(mm_note_get(s->home, "xyz", list), MM_EINVAL);

    /* text that is not a note's */
    uint8_t id[32];
    assert_rc(mm_note_add(s->home, "\xff", 1, id), MM_EINVAL);
    assert_rc(mm_note_add(s->home, "ab\xc0\x80", 4, id), MM_EINVAL);
    assert_rc(mm_note_add(s->home, "\xed\xa0\x80", 3, id), MM_EINVAL);
    assert_rc(mm_note_add(s->home, "ab\xe2\x82", 4, id), MM_EINVAL);
    assert_rc(mm_note_add(s->home, "a\0b", 3, id), MM_EINVAL);
    assert_rc(mm_note_add(s->home, "", 0, id), MM_EINVAL);
    char *big = malloc(MM_NOTE_MAX + 1);
    assert_non_null(big);
    memset(big, 'z', MM_NOTE_MAX + 1);
    assert_rc(mm_note_add(s->home, big, MM_NOTE_MAX + 1, id), MM_ETOOBIG);
    assert_rc(mm_note_list(s->home, list), MM_OK);
    assert_int_equal(list->n, 3);                /* none of those was stored */
    mm_note_list_free(list);

    /* the largest note fits */
    assert_rc(mm_note_add(s->home, big, MM_NOTE_MAX, id), MM_OK);
    free(big);
    assert_rc(mm_note_list(s->home, list), MM_OK);
    assert_int_equal(list->n, 4);
    assert_int_equal(list->v[0].len, MM_NOTE_MAX);
    assert_memory_equal(list->v[0].id, id, 32);
    mm_note_list_free(list);
}

/* Notes written by one device within the same millisecond: the later
 * entry (higher seq) is the newer note. */
static void test_notes_same_time(void **state)
{
    home_state_t *s = *state;
    const mm_keypair_t *dev = mm_home_device(s->home);
    const uint8_t *self = mm_home_self_scope(s->home);
    static const char *texts[] = { "one", "two", "three", "four", "five", "six" };
    const int n = (int) (sizeof texts / sizeof texts[0]);
    mm_txn_t *txn = begin(mm_home_store(s->home), 1);
    for (int i = 0; i < n; i++)
        assert_rc(append_note(txn, dev, self, T0, texts[i], NULL), MM_OK);
    assert_rc(mm_txn_commit(&txn), MM_OK);

    mm_note_list_t *list = &s->list;
    assert_rc(mm_note_list(s->home, list), MM_OK);
    assert_int_equal(list->n, n);
    for (int i = 0; i < n; i++) {
        if (list->v[i].seq != (uint64_t) (n - i))
            print_error("position %d holds seq %llu \"%s\", want seq %d\n", i,
                        (unsigned long long) list->v[i].seq, list->v[i].text, n - i);
        assert_true(list->v[i].seq == (uint64_t) (n - i));
        assert_string_equal(list->v[i].text, texts[n - 1 - i]);
    }
    mm_note_list_free(list);
}

static void test_utf8(void **state)
{
    static const struct { const char *s; size_t n; int ok; } cases[] = {
        { "",                     0, 1 },
        { "a",                    1, 1 },
        { "\xc3\xa9",             2, 1 },       /* U+00E9 */
        { "\xe2\x82\xac",         3, 1 },       /* U+20AC */
        { "\xed\x9f\xbf",         3, 1 },       /* U+D7FF, below the surrogates */
        { "\xee\x80\x80",         3, 1 },       /* U+E000, above them */
        { "\xf0\x90\x8d\x88",     4, 1 },       /* U+10348 */
        { "\xf4\x8f\xbf\xbf",     4, 1 },       /* U+10FFFF */
        { "\xc0\x80",             2, 0 },       /* overlong NUL */
        { "\xc1\xbf",             2, 0 },       /* overlong 0x7F */
        { "\xe0\x80\x80",         3, 0 },       /* overlong */
        { "\xe0\x9f\xbf",         3, 0 },       /* overlong U+07FF */
        { "\xf0\x80\x80\x80",     4, 0 },       /* overlong */
        { "\xf0\x8f\xbf\xbf",     4, 0 },       /* overlong U+FFFF */
        { "\xed\xa0\x80",         3, 0 },       /* U+D800 */
        { "\xed\xbf\xbf",         3, 0 },       /* U+DFFF */
        { "\xf4\x90\x80\x80",     4, 0 },       /* U+110000 */
        { "\xf5\x80\x80\x80",     4, 0 },
        { "\xff",                 1, 0 },
        { "\xfe",                 1, 0 },
        { "\x80",                 1, 0 },       /* lone continuation */
        { "a\xbf" "b",            3, 0 },
        { "\xc3",                 1, 0 },       /* truncated sequences */
        { "\xe2\x82",             2, 0 },
        { "\xf0\x90\x8d",         3, 0 },
        { "\xe2\x82" "a",         3, 0 },
        { "\xc3" "a",             2, 0 },
        { "a\0b",                 3, 0 },       /* NUL */
        { "\0",                   1, 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        /* a heap copy of exactly n bytes: reading past it is a bug */
        char *copy = malloc(cases[i].n ? cases[i].n : 1);
        assert_non_null(copy);
        memcpy(copy, cases[i].s, cases[i].n);
        int got = mm_utf8_valid(copy, cases[i].n);
        if (got != cases[i].ok)
            print_error("case %zu: got %d, want %d\n", i, got, cases[i].ok);
        assert_int_equal(got, cases[i].ok);
        free(copy);
    }
    /* a valid sequence cut at the end of the buffer */
    assert_int_equal(mm_utf8_valid("\xe2\x82\xac", 2), 0);
    assert_int_equal(mm_utf8_valid("ab\xe2\x82\xac", 5), 1);
}

/* ---- the log ------------------------------------------------------------ */

typedef struct {
    uint64_t count, next_seq;
    uint8_t (*ids)[32];             /* expected ids by seq - 1, or NULL */
    uint64_t stop_at;               /* non-zero: return 7 at this seq */
} walk_t;

static int walk_fn(const uint8_t *buf, size_t len, uint64_t seq, void *arg)
{
    walk_t *w = arg;
    assert_true(seq == w->next_seq);
    w->next_seq++;
    w->count++;
    mm_entry_t e;
    assert_rc(mm_entry_parse(buf, len, &e), MM_OK);
    assert_true(e.seq == seq);
    if (w->ids)
        assert_memory_equal(e.id, w->ids[seq - 1], 32);
    return seq == w->stop_at ? 7 : 0;
}

typedef struct {
    int nfeeds;
    uint64_t total;
} feeds_t;

static int feeds_fn(const uint8_t author[32], const uint8_t scope[32],
                    const mm_head_t *head, void *arg)
{
    feeds_t *f = arg;
    f->nfeeds++;
    f->total += head->seq;
    return 0;
}

static void test_head_tracking(void **state)
{
    home_state_t *s = *state;
    const mm_keypair_t *dev = mm_home_device(s->home);
    const uint8_t *self = mm_home_self_scope(s->home);
    uint8_t ids[5][32];

    mm_txn_t *txn = begin(mm_home_store(s->home), 1);
    mm_head_t h = head_of(txn, dev_pk(s), self);
    assert_true(h.seq == 0);
    for (int i = 0; i < 5; i++) {
        assert_rc(append_note(txn, dev, self, T0 + (uint64_t) i, "entry", ids[i]), MM_OK);
        h = head_of(txn, dev_pk(s), self);
        assert_true(h.seq == (uint64_t) i + 1);
        assert_memory_equal(h.id, ids[i], 32);
    }
    assert_rc(mm_txn_commit(&txn), MM_OK);
    assert_null(txn);

    txn = begin(mm_home_store(s->home), 0);
    h = head_of(txn, dev_pk(s), self);
    assert_true(h.seq == 5);
    assert_memory_equal(h.id, ids[4], 32);
    for (uint64_t seq = 1; seq <= 5; seq++) {
        const uint8_t *buf;
        size_t len;
        assert_rc(mm_log_get(txn, dev_pk(s), self, seq, &buf, &len), MM_OK);
        uint8_t id[32];
        mm_hash(id, buf, len);
        assert_memory_equal(id, ids[seq - 1], 32);
        mm_entry_t e;
        assert_rc(mm_entry_parse(buf, len, &e), MM_OK);
        assert_true(e.time == T0 + seq - 1);
        assert_memory_equal(e.author, dev_pk(s), 32);
        assert_memory_equal(e.scope, self, 32);
        if (seq > 1)
            assert_memory_equal(e.prev, ids[seq - 2], 32);
    }
    const uint8_t *buf;
    size_t len;
    assert_rc(mm_log_get(txn, dev_pk(s), self, 6, &buf, &len), MM_ENOTFOUND);
    assert_rc(mm_log_get(txn, dev_pk(s), self, 0, &buf, &len), MM_ENOTFOUND);
    assert_rc(mm_log_get(txn, self, self, 1, &buf, &len), MM_ENOTFOUND);

    walk_t w = { 0, 1, ids, 0 };
    assert_rc(mm_log_walk(txn, dev_pk(s), self, 1, walk_fn, &w), MM_OK);
    assert_true(w.count == 5);
    w = (walk_t) { 0, 4, ids, 0 };
    assert_rc(mm_log_walk(txn, dev_pk(s), self, 4, walk_fn, &w), MM_OK);
    assert_true(w.count == 2);
    w = (walk_t) { 0, 1, ids, 2 };
    assert_int_equal(mm_log_walk(txn, dev_pk(s), self, 1, walk_fn, &w), 7);
    assert_true(w.count == 2);

    feeds_t f = { 0, 0 };
    assert_rc(mm_log_feeds(txn, feeds_fn, &f), MM_OK);
    assert_int_equal(f.nfeeds, 1);
    assert_true(f.total == 5);
    mm_txn_abort(&txn);
}

static void test_append_errors(void **state)
{
    home_state_t *s = *state;
    const mm_keypair_t *dev = mm_home_device(s->home);
    uint8_t id[32], nowhere[32];
    memset(nowhere, 0x5a, sizeof nowhere);
    mm_keypair_t *stranger = fx_keypair(77);

    mm_txn_t *txn = begin(mm_home_store(s->home), 1);
    assert_rc(append_note(txn, dev, nowhere, T0, "x", id), MM_ENOTFOUND);
    assert_rc(append_note(txn, stranger, mm_home_self_scope(s->home), T0, "x", id),
              MM_ENOCERT);
    uint8_t *huge = calloc(1, MM_BODY_MAX + 1);
    assert_non_null(huge);
    assert_rc(mm_log_append(txn, dev, mm_home_self_scope(s->home), T0, huge,
                            MM_BODY_MAX + 1, id), MM_ETOOBIG);
    free(huge);
    /* a body that is not a body */
    static const uint8_t not_body[] = { 0x81, 0xa1, 0x78, 0x01 };     /* {"x": 1} */
    assert_rc(mm_log_append(txn, dev, mm_home_self_scope(s->home), T0, not_body,
                            sizeof not_body, id), MM_EBODY);
    assert_true(head_of(txn, dev_pk(s), mm_home_self_scope(s->home)).seq == 0);
    /* time 0 is now; id_out may be NULL */
    uint64_t before = mm_now_ms();
    assert_rc(append_note(txn, dev, mm_home_self_scope(s->home), 0, "now", NULL), MM_OK);
    const uint8_t *buf;
    size_t len;
    assert_rc(mm_log_get(txn, dev_pk(s), mm_home_self_scope(s->home), 1, &buf, &len), MM_OK);
    mm_entry_t e;
    assert_rc(mm_entry_parse(buf, len, &e), MM_OK);
    assert_true(e.time >= before && e.time <= mm_now_ms());
    assert_rc(mm_txn_commit(&txn), MM_OK);
    mm_keypair_destroy(&stranger);
}

/* Seal n note entries by dev in scope sc, chained from seq 1. */
static void seal_chain(const mm_keypair_t *dev, const mm_scope_t *sc, int n,
                       uint8_t bufs[][512], size_t *lens, uint8_t ids[][32])
{
    mm_head_t h = { 0, { 0 } };
    for (int i = 0; i < n; i++) {
        uint8_t body[64];
        char text[32];
        snprintf(text, sizeof text, "from phone %d", i + 1);
        size_t blen = fx_note_body(body, sizeof body, text);
        assert_rc(mm_entry_seal(dev, sc, &h, T0 + (uint64_t) i, NULL, body, blen,
                                bufs[i], 512, &lens[i]), MM_OK);
        mm_hash(ids[i], bufs[i], lens[i]);
        h.seq = (uint64_t) i + 1;
        memcpy(h.id, ids[i], 32);
    }
}

static int find_hex(mm_txn_t *txn, const uint8_t id[32])
{
    char hex[65];
    mm_encoding_hex(hex, id, 32);
    const uint8_t *buf;
    size_t len;
    return mm_log_find(txn, NULL, hex, &buf, &len);
}

static void test_put_other_device(void **state)
{
    home_state_t *s = *state;
    const uint8_t *self = mm_home_self_scope(s->home);
    mm_store_t *st = mm_home_store(s->home);

    /* a second device of the same person */
    mm_keypair_t *idk = NULL, *dev2 = fx_keypair(42);
    assert_rc(mm_home_identity_key(s->home, &idk), MM_OK);
    uint8_t cbuf[MM_CERT_MAX], cbuf2[MM_CERT_MAX];
    size_t clen, clen2;
    assert_rc(mm_cert_make(idk, dev2, T0, "phone", 0, cbuf, sizeof cbuf, &clen),
              MM_OK);
    assert_rc(mm_cert_make(idk, dev2, T0, "tablet", 0, cbuf2, sizeof cbuf2,
                           &clen2), MM_OK);
    uint8_t cbuf3[MM_CERT_MAX], cbuf4[MM_CERT_MAX];
    size_t clen3, clen4;
    assert_rc(mm_cert_make(idk, dev2, T0 + 5, "renamed", 0, cbuf3, sizeof cbuf3, &clen3),
              MM_OK);
    mm_keypair_t *stranger = fx_keypair(43);
    assert_rc(mm_cert_make(stranger, dev2, T0 + 9, "squat", 0, cbuf4, sizeof cbuf4, &clen4),
              MM_OK);
    mm_keypair_destroy(&stranger);
    mm_keypair_destroy(&idk);

    mm_txn_t *txn = begin(st, 1);
    mm_cert_t c;
    assert_rc(mm_cert_put(txn, cbuf, clen, &c), MM_OK);
    assert_string_equal(c.name, "phone");
    assert_rc(mm_cert_put(txn, cbuf, clen, &c), MM_OK);          /* same again */
    /* one created at the same time changes nothing: the first is kept */
    assert_rc(mm_cert_put(txn, cbuf2, clen2, &c), MM_OK);
    assert_string_equal(c.name, "phone");
    /* a newer one of the same identity replaces it (a rename)... */
    assert_rc(mm_cert_put(txn, cbuf3, clen3, &c), MM_OK);
    assert_string_equal(c.name, "renamed");
    assert_rc(mm_cert_put(txn, cbuf, clen, &c), MM_OK);          /* ...an older one is late */
    assert_string_equal(c.name, "renamed");
    /* another identity cannot take the key over */
    assert_rc(mm_cert_put(txn, cbuf4, clen4, &c), MM_EEXIST);
    cbuf2[clen2 - 1] ^= 1;
    assert_rc(mm_cert_put(txn, cbuf2, clen2, &c), MM_EBADSIG);
    mm_scope_t sc;
    assert_rc(mm_scope_get(txn, self, &sc), MM_OK);
    assert_rc(mm_txn_commit(&txn), MM_OK);

    uint8_t bufs[3][512], ids[3][32];
    size_t lens[3];
    seal_chain(dev2, &sc, 3, bufs, lens, ids);

    txn = begin(st, 1);
    mm_entry_t e;
    assert_rc(mm_log_put(txn, bufs[0], lens[0], &e), MM_OK);
    assert_true(e.seq == 1);
    assert_memory_equal(e.id, ids[0], 32);
    mm_head_t h = head_of(txn, mm_keypair_pk(dev2), self);
    assert_true(h.seq == 1);
    assert_memory_equal(h.id, ids[0], 32);

    /* refusals leave the feed as it was */
    assert_rc(mm_log_put(txn, bufs[0], lens[0], NULL), MM_ESEQDUP);
    assert_rc(mm_log_put(txn, bufs[2], lens[2], NULL), MM_ESEQGAP);
    uint8_t forged[512];
    memcpy(forged, bufs[1], lens[1]);
    forged[lens[1] - 1] ^= 0x01;
    assert_rc(mm_log_put(txn, forged, lens[1], NULL), MM_EBADSIG);
    assert_rc(mm_log_put(txn, bufs[1], lens[1] - 1, NULL), MM_ETRUNC);
    h = head_of(txn, mm_keypair_pk(dev2), self);
    assert_true(h.seq == 1);
    assert_memory_equal(h.id, ids[0], 32);
    const uint8_t *buf;
    size_t len;
    assert_rc(mm_log_get(txn, mm_keypair_pk(dev2), self, 2, &buf, &len), MM_ENOTFOUND);
    assert_rc(mm_log_get(txn, mm_keypair_pk(dev2), self, 3, &buf, &len), MM_ENOTFOUND);
    assert_rc(find_hex(txn, ids[2]), MM_ENOTFOUND);
    uint8_t forged_id[32];
    mm_hash(forged_id, forged, lens[1]);
    assert_rc(find_hex(txn, forged_id), MM_ENOTFOUND);

    assert_rc(mm_log_put(txn, bufs[1], lens[1], NULL), MM_OK);
    assert_rc(mm_log_put(txn, bufs[2], lens[2], NULL), MM_OK);
    assert_rc(mm_txn_commit(&txn), MM_OK);

    /* replays are refused against the committed head too */
    txn = begin(st, 1);
    assert_rc(mm_log_put(txn, bufs[0], lens[0], NULL), MM_ESEQDUP);
    assert_rc(mm_log_put(txn, bufs[2], lens[2], NULL), MM_ESEQDUP);
    h = head_of(txn, mm_keypair_pk(dev2), self);
    assert_true(h.seq == 3);
    assert_memory_equal(h.id, ids[2], 32);
    assert_rc(find_hex(txn, ids[1]), MM_OK);

    /* a device nobody certified; a device certified by someone else */
    mm_keypair_t *dev6 = fx_keypair(60), *other = fx_keypair(61), *dev7 = fx_keypair(62);
    uint8_t b6[1][512], i6[1][32];
    size_t l6[1];
    seal_chain(dev6, &sc, 1, b6, l6, i6);
    assert_rc(mm_log_put(txn, b6[0], l6[0], NULL), MM_ENOCERT);
    assert_rc(mm_cert_make(other, dev7, T0, "x", 0, cbuf, sizeof cbuf, &clen),
              MM_OK);
    assert_rc(mm_cert_put(txn, cbuf, clen, &c), MM_OK);
    seal_chain(dev7, &sc, 1, b6, l6, i6);
    assert_rc(mm_log_put(txn, b6[0], l6[0], NULL), MM_ESCOPE);
    h = head_of(txn, mm_keypair_pk(dev7), self);
    assert_true(h.seq == 0);
    mm_txn_abort(&txn);
    mm_keypair_destroy(&dev6);
    mm_keypair_destroy(&dev7);
    mm_keypair_destroy(&other);

    /* the person's notes include the other device's */
    uint8_t myid[32];
    assert_rc(mm_note_add(s->home, "from laptop", 11, myid), MM_OK);
    mm_note_list_t *list = &s->list;
    assert_rc(mm_note_list(s->home, list), MM_OK);
    assert_int_equal(list->n, 4);
    int phone = 0;
    for (size_t i = 0; i < list->n; i++) {
        if (!memcmp(list->v[i].author, mm_keypair_pk(dev2), 32)) {
            char want[32];
            snprintf(want, sizeof want, "from phone %d", (int) list->v[i].seq);
            assert_string_equal(list->v[i].text, want);
            phone++;
        } else {
            assert_string_equal(list->v[i].text, "from laptop");
        }
    }
    assert_int_equal(phone, 3);
    mm_note_list_free(list);

    mm_scope_wipe(&sc);
    mm_keypair_destroy(&dev2);
}

/* ---- runs: every entry's own signature ---------------------------------- */

#define LONG_RUN 4096               /* MM_LOG_RUN_MAX: one ENTRIES frame */
#define BROKEN   999                /* index of entry 1000 */

typedef struct {
    uint8_t (*b)[512];
    size_t *len;
    const uint8_t **p;
    uint8_t (*id)[32];
} run_t;

static void run_alloc(run_t *r, size_t n)
{
    r->b = calloc(n, sizeof *r->b);
    r->len = calloc(n, sizeof *r->len);
    r->p = calloc(n, sizeof *r->p);
    r->id = calloc(n, sizeof *r->id);
    assert_true(r->b && r->len && r->p && r->id);
}

static void run_free(run_t *r)
{
    free(r->b);
    free(r->len);
    free(r->p);
    free(r->id);
}

/* Seal entries [from, to) of r as dev's feed in sc, chained over r's entry
 * from-1 (or after head when from = 0) as its bytes are now. */
static void run_seal(run_t *r, size_t from, size_t to, const mm_keypair_t *dev,
                     const mm_scope_t *sc, const mm_head_t *head)
{
    mm_head_t h = *head;
    if (from > 0) {
        h.seq = head->seq + from;
        mm_hash(h.id, r->b[from - 1], r->len[from - 1]);
    }
    for (size_t i = from; i < to; i++) {
        uint8_t body[64];
        char text[32];
        snprintf(text, sizeof text, "run entry %zu", i);
        size_t blen = fx_note_body(body, sizeof body, text);
        assert_rc(mm_entry_seal(dev, sc, &h, T0 + i, NULL, body, blen, r->b[i], 512,
                                &r->len[i]), MM_OK);
        mm_hash(r->id[i], r->b[i], r->len[i]);
        r->p[i] = r->b[i];
        h.seq++;
        memcpy(h.id, r->id[i], 32);
    }
}

/* Flip a byte of entry i's signature (re-encoding nothing) and re-seal every
 * later entry chained over the broken bytes, each validly signed. */
static void run_break(run_t *r, size_t i, size_t n, const mm_keypair_t *dev,
                      const mm_scope_t *sc, const mm_head_t *head)
{
    r->b[i][r->len[i] - 7] ^= 0x40;
    mm_hash(r->id[i], r->b[i], r->len[i]);
    run_seal(r, i + 1, n, dev, sc, head);
}

/* Put r[0..n) in a transaction of its own, committed only on MM_OK. */
static int put_run(mm_store_t *st, const run_t *r, size_t n, size_t *stored)
{
    mm_txn_t *txn = begin(st, 1);
    int rc = mm_log_put_run(txn, r->p, r->len, n, stored);
    if (rc == MM_OK)
        assert_rc(mm_txn_commit(&txn), MM_OK);
    mm_txn_abort(&txn);
    return rc;
}

static void print_fault(int rc, const char *what, void *arg)
{
    print_error("fault %s: %s\n", mm_errname(rc), what);
}

/* The store as committed: the feed's head, whether ids are stored, and the
 * whole store re-verified from scratch. */
static void expect_feed(mm_store_t *st, const uint8_t *dev, const uint8_t *scope,
                        uint64_t seq, const run_t *r, size_t from, size_t to, int stored)
{
    mm_txn_t *txn = begin(st, 0);
    assert_true(head_of(txn, dev, scope).seq == seq);
    for (size_t i = from; i < to; i++)
        assert_rc(find_hex(txn, r->id[i]), stored ? MM_OK : MM_ENOTFOUND);
    uint64_t n = 0;
    assert_rc(mm_log_check(txn, print_fault, NULL, &n), MM_OK);
    mm_txn_abort(&txn);
}

/* A run of two whose first entry's signature is broken and whose second is
 * valid and chained over it: the second's signature covers the first's
 * bytes, yet the first must not be stored (nor the second). */
static void test_run_first_of_two_forged(void **state)
{
    home_state_t *s = *state;
    const mm_keypair_t *dev = mm_home_device(s->home);
    const uint8_t *self = mm_home_self_scope(s->home);
    mm_store_t *st = mm_home_store(s->home);
    uint8_t hist[2][32];
    mm_txn_t *txn = begin(st, 1);
    for (int i = 0; i < 2; i++)     /* a history, so the run is not the feed's start */
        assert_rc(append_note(txn, dev, self, T0, "before the run", hist[i]), MM_OK);
    mm_head_t head = head_of(txn, dev_pk(s), self);
    mm_scope_t sc;
    assert_rc(mm_scope_get(txn, self, &sc), MM_OK);
    assert_rc(mm_txn_commit(&txn), MM_OK);

    run_t r;
    run_alloc(&r, 2);
    run_seal(&r, 0, 2, dev, &sc, &head);
    run_break(&r, 0, 2, dev, &sc, &head);
    size_t stored = 99;
    assert_rc(put_run(st, &r, 2, &stored), MM_EBADSIG);
    assert_int_equal(stored, 0);
    expect_feed(st, dev_pk(s), self, 2, &r, 0, 2, 0);
    /* the same entries one by one: the first is refused the same way */
    txn = begin(st, 1);
    assert_rc(mm_log_put(txn, r.b[0], r.len[0], NULL), MM_EBADSIG);
    assert_rc(mm_log_put(txn, r.b[1], r.len[1], NULL), MM_ESEQGAP);
    mm_txn_abort(&txn);
    /* the broken entry alone is refused, the valid one alone is a gap; the
     * feed goes on from its real head */
    assert_rc(put_run(st, &r, 1, NULL), MM_EBADSIG);
    txn = begin(st, 1);
    assert_rc(mm_log_put_run(txn, r.p + 1, r.len + 1, 1, NULL), MM_ESEQGAP);
    mm_txn_abort(&txn);
    run_seal(&r, 0, 2, dev, &sc, &head);
    assert_rc(put_run(st, &r, 2, &stored), MM_OK);
    assert_int_equal(stored, 2);
    expect_feed(st, dev_pk(s), self, 4, &r, 0, 2, 1);
    mm_scope_wipe(&sc);
    run_free(&r);
}

/* A whole frame's worth, one broken entry deep inside (entry 1000 of 4096),
 * every later entry validly signed and chained over it. */
static void test_run_long_forged_in_middle(void **state)
{
    home_state_t *s = *state;
    const mm_keypair_t *dev = mm_home_device(s->home);
    const uint8_t *self = mm_home_self_scope(s->home);
    mm_store_t *st = mm_home_store(s->home);
    mm_head_t head0 = { 0, { 0 } };
    mm_scope_t sc;
    mm_txn_t *txn = begin(st, 0);
    assert_rc(mm_scope_get(txn, self, &sc), MM_OK);
    mm_txn_abort(&txn);

    run_t r;
    run_alloc(&r, LONG_RUN + 1);
    run_seal(&r, 0, LONG_RUN, dev, &sc, &head0);
    run_break(&r, BROKEN, LONG_RUN, dev, &sc, &head0);
    size_t stored = 99;
    assert_rc(put_run(st, &r, LONG_RUN, &stored), MM_EBADSIG);
    assert_int_equal(stored, 0);
    expect_feed(st, dev_pk(s), self, 0, &r, 0, LONG_RUN, 0);
    /* more than one frame's worth is refused before anything is looked at */
    r.p[LONG_RUN] = r.b[0];
    r.len[LONG_RUN] = r.len[0];
    assert_rc(put_run(st, &r, LONG_RUN + 1, NULL), MM_ETOOBIG);

    /* the good entries before it are stored; the run again stores no more */
    assert_rc(put_run(st, &r, BROKEN, &stored), MM_OK);
    assert_int_equal(stored, BROKEN);
    assert_rc(put_run(st, &r, LONG_RUN, &stored), MM_EBADSIG);
    expect_feed(st, dev_pk(s), self, BROKEN, &r, BROKEN, LONG_RUN, 0);
    expect_feed(st, dev_pk(s), self, BROKEN, &r, 0, BROKEN, 1);

    /* the honest run, resent whole: the stored part skipped, the rest stored */
    run_seal(&r, BROKEN, LONG_RUN, dev, &sc, &head0);
    assert_rc(put_run(st, &r, LONG_RUN, &stored), MM_OK);
    assert_int_equal(stored, LONG_RUN - BROKEN);
    expect_feed(st, dev_pk(s), self, LONG_RUN, &r, 0, LONG_RUN, 1);
    mm_scope_wipe(&sc);
    run_free(&r);
}

/* r[0..n) with its checks begun ahead (mm_log_pre_start, as a session does
 * for the frame queued behind the one it commits), in a transaction of its
 * own begun only after the pre, committed only on MM_OK. */
static int put_run_ahead(mm_store_t *st, const run_t *r, size_t n, size_t *stored)
{
    mm_log_pre_t *pre = NULL;
    assert_rc(mm_log_pre_start(r->p, r->len, n, &pre), MM_OK);
    assert_non_null(pre);
    mm_txn_t *txn = begin(st, 1);
    int rc = mm_log_put_run_pre(txn, r->p, r->len, n, &pre, stored);
    assert_null(pre);               /* taken over, whatever the answer */
    if (rc == MM_OK)
        assert_rc(mm_txn_commit(&txn), MM_OK);
    mm_txn_abort(&txn);
    return rc;
}

/* A run checked ahead gets the very answers of one checked in place: a
 * broken signature deep inside is MM_EBADSIG and nothing of the run is
 * stored; the stored part of a resent run is skipped; a pre ended unused,
 * or given to another run, leaves the pool clean; a run checked while a
 * pre is open on the same thread does not wait for it; a shape fault is
 * kept for the answer, in order. */
static void test_run_checked_ahead(void **state)
{
    home_state_t *s = *state;
    const mm_keypair_t *dev = mm_home_device(s->home);
    const uint8_t *self = mm_home_self_scope(s->home);
    mm_store_t *st = mm_home_store(s->home);
    mm_head_t head0 = { 0, { 0 } };
    mm_scope_t sc;
    mm_txn_t *txn = begin(st, 0);
    assert_rc(mm_scope_get(txn, self, &sc), MM_OK);
    mm_txn_abort(&txn);

    run_t r;
    run_alloc(&r, LONG_RUN);
    run_seal(&r, 0, LONG_RUN, dev, &sc, &head0);
    run_break(&r, BROKEN, LONG_RUN, dev, &sc, &head0);
    size_t stored = 99;
    assert_rc(put_run_ahead(st, &r, LONG_RUN, &stored), MM_EBADSIG);
    assert_int_equal(stored, 0);
    expect_feed(st, dev_pk(s), self, 0, &r, 0, LONG_RUN, 0);
    /* the last entry broken: still nothing of the run */
    run_t t;
    run_alloc(&t, 8);
    run_seal(&t, 0, 8, dev, &sc, &head0);
    run_break(&t, 7, 8, dev, &sc, &head0);
    assert_rc(put_run_ahead(st, &t, 8, &stored), MM_EBADSIG);
    expect_feed(st, dev_pk(s), self, 0, &t, 0, 8, 0);

    /* begun and ended unused (the frame before it failed): nothing is left
     * of it, the next run is checked as ever */
    mm_log_pre_t *pre = NULL;
    assert_rc(mm_log_pre_start(r.p, r.len, LONG_RUN, &pre), MM_OK);
    mm_log_pre_end(&pre);
    assert_null(pre);
    mm_log_pre_end(&pre);           /* harmless */
    assert_rc(put_run(st, &r, LONG_RUN, &stored), MM_EBADSIG);

    /* the good entries before the broken one, checked ahead */
    assert_rc(put_run_ahead(st, &r, BROKEN, &stored), MM_OK);
    assert_int_equal(stored, BROKEN);
    expect_feed(st, dev_pk(s), self, BROKEN, &r, 0, BROKEN, 1);

    /* a pre open while another run is checked on this thread: that run is
     * checked on the calling thread alone, with its own answer, and the pre
     * is still right for its own run afterwards */
    run_seal(&r, BROKEN, LONG_RUN, dev, &sc, &head0);
    assert_rc(mm_log_pre_start(r.p, r.len, LONG_RUN, &pre), MM_OK);
    assert_rc(put_run(st, &r, BROKEN + 2, &stored), MM_OK);
    assert_int_equal(stored, 2);
    /* given to another run (fewer entries): ended, that run checked afresh */
    txn = begin(st, 1);
    assert_rc(mm_log_put_run_pre(txn, r.p, r.len, BROKEN + 3, &pre, &stored), MM_OK);
    assert_null(pre);
    assert_int_equal(stored, 1);
    mm_txn_abort(&txn);
    /* the honest run resent whole, checked ahead: the stored part skipped */
    assert_rc(put_run_ahead(st, &r, LONG_RUN, &stored), MM_OK);
    assert_int_equal(stored, LONG_RUN - BROKEN - 2);
    expect_feed(st, dev_pk(s), self, LONG_RUN, &r, 0, LONG_RUN, 1);
    assert_rc(put_run_ahead(st, &r, LONG_RUN, &stored), MM_OK);
    assert_int_equal(stored, 0);

    /* shape faults, kept for the answer: a truncated entry, a gap */
    run_t u;
    run_alloc(&u, 3);
    txn = begin(st, 0);
    mm_head_t h = head_of(txn, dev_pk(s), self);
    mm_txn_abort(&txn);
    run_seal(&u, 0, 3, dev, &sc, &h);
    u.len[1]--;
    assert_rc(put_run_ahead(st, &u, 3, &stored), MM_ETRUNC);
    assert_rc(put_run(st, &u, 3, &stored), MM_ETRUNC);
    u.len[1]++;
    u.p[1] = u.b[2];
    u.len[1] = u.len[2];
    assert_rc(put_run_ahead(st, &u, 2, &stored), MM_EPROTO);
    u.p[1] = u.b[1];
    expect_feed(st, dev_pk(s), self, LONG_RUN, &r, 0, LONG_RUN, 1);
    mm_scope_wipe(&sc);
    run_free(&u);
    run_free(&t);
    run_free(&r);
}

static void test_abort_leaves_nothing(void **state)
{
    home_state_t *s = *state;
    const mm_keypair_t *dev = mm_home_device(s->home);
    const uint8_t *self = mm_home_self_scope(s->home);
    uint8_t ids[3][32];

    mm_txn_t *txn = begin(mm_home_store(s->home), 1);
    for (int i = 0; i < 3; i++)
        assert_rc(append_note(txn, dev, self, T0, "gone", ids[i]), MM_OK);
    assert_true(head_of(txn, dev_pk(s), self).seq == 3);
    mm_txn_abort(&txn);
    assert_null(txn);

    txn = begin(mm_home_store(s->home), 0);
    assert_true(head_of(txn, dev_pk(s), self).seq == 0);
    const uint8_t *buf;
    size_t len;
    assert_rc(mm_log_get(txn, dev_pk(s), self, 1, &buf, &len), MM_ENOTFOUND);
    for (int i = 0; i < 3; i++)
        assert_rc(find_hex(txn, ids[i]), MM_ENOTFOUND);
    mm_txn_abort(&txn);

    mm_note_list_t *list = &s->list;
    assert_rc(mm_note_list(s->home, list), MM_OK);
    assert_int_equal(list->n, 0);
    mm_note_list_free(list);
}

typedef struct {
    int faults;
} faults_t;

static void fault_fn(int rc, const char *what, void *arg)
{
    faults_t *f = arg;
    f->faults++;
    print_error("fault %s: %s\n", mm_errname(rc), what);
}

#define BATCH 1000

static void test_batch_check_find(void **state)
{
    home_state_t *s = *state;
    const mm_keypair_t *dev = mm_home_device(s->home);
    const uint8_t *self = mm_home_self_scope(s->home);
    uint8_t (*ids)[32] = calloc(BATCH, 32);
    assert_non_null(ids);

    mm_txn_t *txn = begin(mm_home_store(s->home), 1);
    for (int i = 0; i < BATCH; i++) {
        char text[32];
        snprintf(text, sizeof text, "batch %d", i);
        assert_rc(append_note(txn, dev, self, T0 + (uint64_t) i, text, ids[i]), MM_OK);
    }
    assert_rc(mm_txn_commit(&txn), MM_OK);

    txn = begin(mm_home_store(s->home), 0);
    mm_head_t h = head_of(txn, dev_pk(s), self);
    assert_true(h.seq == BATCH);
    assert_memory_equal(h.id, ids[BATCH - 1], 32);
    walk_t w = { 0, 1, ids, 0 };
    assert_rc(mm_log_walk(txn, dev_pk(s), self, 1, walk_fn, &w), MM_OK);
    assert_true(w.count == BATCH);

    faults_t f = { 0 };
    uint64_t n = 0;
    assert_rc(mm_log_check(txn, fault_fn, &f, &n), MM_OK);
    assert_int_equal(f.faults, 0);
    assert_true(n == BATCH);
    assert_rc(mm_log_check(txn, NULL, NULL, &n), MM_OK);
    assert_true(n == BATCH);

    /* find: whole ids, short and odd-length prefixes */
    const uint8_t *buf;
    size_t len;
    char hex[65];
    uint8_t got[32];
    for (int i = 0; i < BATCH; i += 97) {
        mm_encoding_hex(hex, ids[i], 32);
        assert_rc(mm_log_find(txn, NULL, hex, &buf, &len), MM_OK);
        mm_hash(got, buf, len);
        assert_memory_equal(got, ids[i], 32);
        hex[9] = '\0';
        assert_rc(mm_log_find(txn, NULL, hex, &buf, &len), MM_OK);
        mm_hash(got, buf, len);
        assert_memory_equal(got, ids[i], 32);
    }

    /* two hex digits over a thousand ids: some first byte repeats */
    int count[256] = { 0 }, dup = -1;
    for (int i = 0; i < BATCH; i++)
        if (++count[ids[i][0]] == 2 && dup < 0)
            dup = ids[i][0];
    assert_true(dup >= 0);
    snprintf(hex, sizeof hex, "%02x", dup);
    assert_rc(mm_log_find(txn, NULL, hex, &buf, &len), MM_EAMBIG);
    hex[1] = '\0';
    assert_rc(mm_log_find(txn, NULL, hex, &buf, &len), MM_EAMBIG);

    /* a 4-digit prefix that no id has */
    int missing = -1;
    for (int p = 0; p < 65536 && missing < 0; p++) {
        int used = 0;
        for (int i = 0; i < BATCH && !used; i++)
            used = (ids[i][0] << 8 | ids[i][1]) == p;
        if (!used)
            missing = p;
    }
    assert_true(missing >= 0);
    snprintf(hex, sizeof hex, "%04x", missing);
    assert_rc(mm_log_find(txn, NULL, hex, &buf, &len), MM_ENOTFOUND);
    mm_encoding_hex(hex, ids[0], 32);
    hex[63] = hex[63] == 'f' ? 'e' : 'f';
    assert_rc(mm_log_find(txn, NULL, hex, &buf, &len), MM_ENOTFOUND);

    /* not a prefix at all */
    assert_rc(mm_log_find(txn, NULL, "", &buf, &len), MM_EINVAL);
    assert_rc(mm_log_find(txn, NULL, "xy", &buf, &len), MM_EINVAL);
    assert_rc(mm_log_find(txn, NULL, "12 4", &buf, &len), MM_EINVAL);
    char toolong[66];
    memset(toolong, 'a', 65);
    toolong[65] = '\0';
    assert_rc(mm_log_find(txn, NULL, toolong, &buf, &len), MM_EINVAL);
    mm_txn_abort(&txn);
    free(ids);
}

typedef struct {
    int n, first;
} seen_t;

static void seen_fn(int rc, const char *what, void *arg)
{
    seen_t *f = arg;
    if (f->n++ == 0)
        f->first = rc;
    assert_non_null(what);
    assert_true(strlen(what) > 0);
}

/* Flip one bit in every copy of needle inside the file at path (LMDB's
 * copy-on-write may leave older copies of a page); returns the count. */
static int corrupt_file(const char *path, const uint8_t *needle, size_t n)
{
    uint8_t *buf;
    long len = fx_read_file(path, &buf);
    assert_true(len > 0);
    int hits = 0;
    for (long i = 0; i + (long) n <= len; i++)
        if (!memcmp(buf + i, needle, n)) {
            buf[i + n / 2] ^= 0x01;
            hits++;
        }
    if (hits) {
        FILE *f = fopen(path, "r+b");
        assert_non_null(f);
        assert_int_equal(fwrite(buf, 1, (size_t) len, f), (size_t) len);
        assert_int_equal(fclose(f), 0);
    }
    free(buf);
    return hits;
}

/* A byte flipped on disk in a stored entry is found by mm_log_check. */
static void test_check_finds_corruption(void **state)
{
    home_state_t *s = *state;
    const uint8_t *self = mm_home_self_scope(s->home);
    uint8_t ids[3][32], sig[MM_SIG_BYTES];
    for (int i = 0; i < 3; i++)
        assert_rc(mm_note_add(s->home, "soon corrupted", 14, ids[i]), MM_OK);
    mm_txn_t *txn = begin(mm_home_store(s->home), 0);
    const uint8_t *buf;
    size_t len;
    assert_rc(mm_log_get(txn, dev_pk(s), self, 2, &buf, &len), MM_OK);
    memcpy(sig, buf + len - MM_SIG_BYTES, MM_SIG_BYTES);
    uint64_t n = 0;
    assert_rc(mm_log_check(txn, NULL, NULL, &n), MM_OK);
    assert_true(n == 3);
    mm_txn_abort(&txn);
    mm_home_close(&s->home);

    char data[FX_PATH_MAX];
    fx_path(data, s->path, "store/data.mdb");
    assert_true(corrupt_file(data, sig, sizeof sig) >= 1);

    assert_rc(mm_home_open(s->path, &s->home), MM_OK);
    txn = begin(mm_home_store(s->home), 0);
    seen_t seen = { 0, 0 };
    n = 0;
    assert_rc(mm_log_check(txn, seen_fn, &seen, &n), MM_EBADSIG);
    assert_true(n == 3);
    assert_true(seen.n >= 1);
    assert_rc(seen.first, MM_EBADSIG);
    mm_txn_abort(&txn);
}

/* ---- the store alone ---------------------------------------------------- */

static void test_store(void **state)
{
    fx_store_t *fs = *state;
    mm_keypair_t *idk = fx_keypair(1), *dev = fx_keypair(2);
    mm_scope_t sc;
    fx_self_scope(&sc, mm_keypair_pk(idk), 0x33);

    /* no store without MM_STORE_CREATE */
    char other[FX_PATH_MAX];
    fx_mkdtemp(other);
    mm_store_t *st = NULL;
    assert_rc(mm_store_open(other, 0, &st), MM_ENOTFOUND);
    assert_null(st);
    assert_int_equal(fx_rmrf(other), 0);

    mm_txn_t *txn = begin(fs->store, 1);
    const uint8_t *v;
    size_t vlen;
    assert_rc(mm_meta_put(txn, "k", "value", 5), MM_OK);
    uint8_t *big = calloc(1, MM_META_VALUE_MAX + 1);
    assert_non_null(big);
    assert_rc(mm_meta_put(txn, "big", big, MM_META_VALUE_MAX + 1), MM_ETOOBIG);
    assert_rc(mm_meta_put(txn, "max", big, MM_META_VALUE_MAX), MM_OK);
    free(big);
    assert_rc(mm_scope_put(txn, &sc), MM_OK);
    assert_rc(mm_scope_put(txn, &sc), MM_EEXIST);

    /* an uncertified device cannot append; a certified one can */
    uint8_t id[32];
    assert_rc(append_note(txn, dev, sc.id, T0, "x", id), MM_ENOCERT);
    uint8_t cbuf[MM_CERT_MAX];
    size_t clen;
    mm_cert_t c;
    assert_rc(mm_cert_make(idk, dev, T0, "d", 0, cbuf, sizeof cbuf, &clen), MM_OK);
    assert_rc(mm_cert_put(txn, cbuf, clen, &c), MM_OK);
    assert_rc(append_note(txn, dev, sc.id, T0, "x", id), MM_OK);
    assert_rc(mm_txn_commit(&txn), MM_OK);

    /* everything is there after closing and reopening */
    mm_store_close(&fs->store);
    assert_null(fs->store);
    mm_store_close(&fs->store);                 /* NULL-safe */
    assert_rc(mm_store_open(fs->dir, MM_STORE_RDONLY, &fs->store), MM_OK);
    txn = begin(fs->store, 0);
    assert_rc(mm_meta_get(txn, "k", &v, &vlen), MM_OK);
    assert_int_equal(vlen, 5);
    assert_memory_equal(v, "value", 5);
    assert_rc(mm_meta_get(txn, "big", &v, &vlen), MM_ENOTFOUND);
    assert_rc(mm_meta_get(txn, "max", &v, &vlen), MM_OK);
    assert_int_equal(vlen, MM_META_VALUE_MAX);

    mm_scope_t back;
    assert_rc(mm_scope_get(txn, sc.id, &back), MM_OK);
    assert_memory_equal(back.id, sc.id, 32);
    assert_memory_equal(mm_scope_key(&back), mm_scope_key(&sc), 32);
    assert_int_equal(back.kind, sc.kind);
    assert_int_equal(back.nmembers, 1);
    assert_true(back.created == sc.created);
    mm_scope_wipe(&back);
    uint8_t nowhere[32] = { 0 };
    assert_rc(mm_scope_get(txn, nowhere, &back), MM_ENOTFOUND);

    const uint8_t *raw;
    size_t rawlen;
    assert_rc(mm_cert_get(txn, mm_keypair_pk(dev), &c, &raw, &rawlen), MM_OK);
    assert_int_equal(rawlen, clen);
    assert_memory_equal(raw, cbuf, clen);
    assert_rc(mm_cert_get(txn, nowhere, &c, NULL, NULL), MM_ENOTFOUND);

    mm_head_t h = head_of(txn, mm_keypair_pk(dev), sc.id);
    assert_true(h.seq == 1);
    assert_memory_equal(h.id, id, 32);
    uint64_t n = 0;
    assert_rc(mm_log_check(txn, NULL, NULL, &n), MM_OK);
    assert_true(n == 1);
    mm_txn_abort(&txn);

    mm_scope_wipe(&sc);
    mm_keypair_destroy(&idk);
    mm_keypair_destroy(&dev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_home_init_open, home_setup, home_teardown),
        cmocka_unit_test_setup_teardown(test_home_init_refuses, home_setup, home_teardown),
        cmocka_unit_test_setup_teardown(test_home_init_empty_dir, home_setup, home_teardown),
        cmocka_unit_test_setup_teardown(test_home_init_trailing_slash, home_setup,
                                        home_teardown),
        cmocka_unit_test_setup_teardown(test_notes, home_setup, home_teardown),
        cmocka_unit_test_setup_teardown(test_notes_same_time, home_setup, home_teardown),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test_setup_teardown(test_head_tracking, home_setup, home_teardown),
        cmocka_unit_test_setup_teardown(test_append_errors, home_setup, home_teardown),
        cmocka_unit_test_setup_teardown(test_put_other_device, home_setup, home_teardown),
        cmocka_unit_test_setup_teardown(test_run_first_of_two_forged, home_setup,
                                        home_teardown),
        cmocka_unit_test_setup_teardown(test_run_checked_ahead, home_setup, home_teardown),
        cmocka_unit_test_setup_teardown(test_run_long_forged_in_middle, home_setup,
                                        home_teardown),
        cmocka_unit_test_setup_teardown(test_abort_leaves_nothing, home_setup, home_teardown),
        cmocka_unit_test_setup_teardown(test_batch_check_find, home_setup, home_teardown),
        cmocka_unit_test_setup_teardown(test_check_finds_corruption, home_setup, home_teardown),
        cmocka_unit_test_setup_teardown(test_store, store_setup, store_teardown),
    };
    return cmocka_run_group_tests(tests, fx_setup_crypto, NULL);
}
