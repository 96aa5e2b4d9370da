/*  test_schema.c -- each body type's required fields, types and limits
 *  (core/schema.h, applied by mm_body_check; PROTOCOL.md 5.2).
 *
 *  Two halves: every row of MM_SCHEMA is driven through every way a field
 *  can be wrong (missing, another msgpack type, one past a limit, a word
 *  that is not one of its words, text that is not UTF-8), and then each
 *  type again by hand with the limits written out as numbers, so that a
 *  wrong row in the table cannot pass both.
 */
#include "fixture.h"

#include "core/body.h"
#include "core/entry.h"
#include "core/item.h"
#include "core/log.h"
#include "core/schema.h"
#include "core/rekey.h"

#define FMAX 8                      /* fields in one test body */

static char *big;                   /* MM_BODY_MAX + 2 bytes of 'a' */
static uint8_t zeros[64];
static uint8_t *out;                /* a body being built */
static size_t outcap;

static int setup(void **state)
{
    big = malloc(MM_BODY_MAX + 2);
    outcap = 2 * (size_t) MM_BODY_MAX + 4096;
    out = malloc(outcap);
    assert_non_null(big);
    assert_non_null(out);
    memset(big, 'a', MM_BODY_MAX + 2);
    return 0;
}

static int teardown(void **state)
{
    free(big);
    free(out);
    return 0;
}

/* mm_body_check of {"t": type, f...}, on a heap copy of exactly its bytes. */
static int check(const char *type, const mm_field_t *f, size_t n)
{
    size_t len;
    assert_rc(mm_body_build(out, outcap, &len, type, f, n), MM_OK);
    uint8_t *copy = malloc(len);
    assert_non_null(copy);
    memcpy(copy, out, len);
    int rc = mm_body_check(copy, len);
    free(copy);
    return rc;
}

static mm_field_t text_of(const char *key, size_t n)
{
    return (mm_field_t) { key, MM_F_STR, big, n, 0 };
}

static mm_field_t str_is(const char *key, const char *s)
{
    return (mm_field_t) { key, MM_F_STR, s, strlen(s), 0 };
}

static mm_field_t bin_of(const char *key, size_t n)
{
    return (mm_field_t) { key, MM_F_BIN, zeros, n, 0 };
}

static mm_field_t uint_is(const char *key, uint64_t v)
{
    return (mm_field_t) { key, MM_F_UINT, NULL, 0, v };
}

/* An encoded array of n elements, each elem[0..elen), in one of a few
 * rotating buffers (a body holds several such fields at once). */
static mm_field_t array_of(const char *key, size_t n, const uint8_t *elem, size_t elen)
{
    static uint8_t pool[4][MM_REKEY_MAX * 128 + 16];
    static unsigned next;
    uint8_t *b = pool[next++ % 4];
    size_t len = 0;
    if (n < 16) {
        b[len++] = (uint8_t) (0x90 | n);
    } else {
        b[len++] = 0xdc;
        b[len++] = (uint8_t) (n >> 8);
        b[len++] = (uint8_t) n;
    }
    for (size_t i = 0; i < n; i++, len += elen)
        memcpy(b + len, elem, elen);
    return (mm_field_t) { key, MM_F_RAW, b, len, 0 };
}

/* one element of MM_FK_IDS: bin8(32); of MM_FK_SEALS: [bin8(32), bin8(80)] */
static const uint8_t *id_elem(size_t *len, size_t idlen)
{
    static uint8_t e[2 + 33];
    memset(e, 0, sizeof e);
    e[0] = 0xc4;
    e[1] = (uint8_t) idlen;
    *len = 2 + idlen;
    return e;
}

static const uint8_t *seal_elem(size_t *len, size_t arity, size_t sealed)
{
    static uint8_t e[1 + 34 + 2 + 81 + 2];
    size_t n = 0;
    memset(e, 0, sizeof e);
    e[n++] = (uint8_t) (0x90 | arity);
    e[n++] = 0xc4;
    e[n++] = 32;
    n += 32;
    e[n++] = 0xc4;
    e[n++] = (uint8_t) sealed;
    n += sealed;
    if (arity == 3)
        e[n++] = 0xc0;
    *len = n;
    return e;
}

static mm_field_t ids_of(const char *key, size_t n, size_t idlen)
{
    size_t el;
    const uint8_t *e = id_elem(&el, idlen);
    return array_of(key, n, e, el);
}

static mm_field_t seals_of(const char *key, size_t n, size_t arity, size_t sealed)
{
    size_t el;
    const uint8_t *e = seal_elem(&el, arity, sealed);
    return array_of(key, n, e, el);
}

/* ---- every row of the table --------------------------------------------- */

/* A valid value for field f: the smallest (or, if at_max, the largest). */
static mm_field_t valid(const mm_schema_field_t *f, int at_max)
{
    switch (f->kind) {
    case MM_FK_TEXT: return text_of(f->key, at_max ? f->max : f->min);
    case MM_FK_BIN:  return bin_of(f->key, at_max ? f->max : f->min);
    case MM_FK_UINT: return uint_is(f->key, at_max ? f->max : f->min);
    case MM_FK_BOOL: return (mm_field_t) { f->key, MM_F_BOOL, NULL, 0, (uint64_t) at_max };
    case MM_FK_IDS:  return ids_of(f->key, at_max ? f->max : f->min, 32);
    case MM_FK_SEALS:
        return seals_of(f->key, at_max ? f->max : f->min, 2, MM_REKEY_SEALED_BYTES);
    case MM_FK_WORD: break;
    }
    const char *const *w = f->words;
    if (at_max)
        while (w[1])
            w++;
    return str_is(f->key, *w);
}

static size_t nfields(const mm_schema_t *s)
{
    size_t n = 0;
    while (n < MM_SCHEMA_FIELDS && s->f[n].key)
        n++;
    return n;
}

/* The row's body with every field valid, then field i replaced by v (or
 * left out when v is NULL): mm_body_check's rc. */
static int with(const mm_schema_t *s, size_t i, const mm_field_t *v)
{
    mm_field_t f[FMAX];
    size_t n = 0;
    for (size_t k = 0; k < nfields(s); k++)
        if (k != i)
            f[n++] = valid(&s->f[k], 0);
        else if (v)
            f[n++] = *v;
    return check(s->type, f, n);
}

/* Every value field i of s must refuse. */
static void refuses(const mm_schema_t *s, size_t i)
{
    const mm_schema_field_t *f = &s->f[i];
    mm_field_t v;
    /* another msgpack type */
    if (f->kind != MM_FK_TEXT && f->kind != MM_FK_WORD) {
        v = str_is(f->key, "x");
        assert_rc(with(s, i, &v), MM_EBODY);
    }
    if (f->kind != MM_FK_BIN) {
        v = bin_of(f->key, 4);
        assert_rc(with(s, i, &v), MM_EBODY);
    }
    if (f->kind != MM_FK_UINT) {
        v = uint_is(f->key, 1);
        assert_rc(with(s, i, &v), MM_EBODY);
    }
    /* one past a limit */
    switch (f->kind) {
    case MM_FK_TEXT:
        v = text_of(f->key, f->max + 1);
        assert_rc(with(s, i, &v), MM_EBODY);
        if (f->min > 0) {
            v = text_of(f->key, f->min - 1);
            assert_rc(with(s, i, &v), MM_EBODY);
        }
        /* not UTF-8, or a NUL */
        v = (mm_field_t) { f->key, MM_F_STR, "ok\xff", 3, 0 };
        assert_rc(with(s, i, &v), MM_EBODY);
        v = (mm_field_t) { f->key, MM_F_STR, "o\0k", 3, 0 };
        assert_rc(with(s, i, &v), MM_EBODY);
        v = (mm_field_t) { f->key, MM_F_STR, "\xc0\xaf", 2, 0 };      /* overlong */
        assert_rc(with(s, i, &v), MM_EBODY);
        break;
    case MM_FK_BIN:
        v = bin_of(f->key, f->max + 1);
        assert_rc(with(s, i, &v), MM_EBODY);
        if (f->min > 0) {
            v = bin_of(f->key, f->min - 1);
            assert_rc(with(s, i, &v), MM_EBODY);
        }
        break;
    case MM_FK_UINT:
        if (f->max < UINT64_MAX) {
            v = uint_is(f->key, f->max + 1);
            assert_rc(with(s, i, &v), MM_EBODY);
        }
        if (f->min > 0) {
            v = uint_is(f->key, f->min - 1);
            assert_rc(with(s, i, &v), MM_EBODY);
        }
        break;
    case MM_FK_WORD: {
        static const char *const bad[] = { "", "bogus", "x" };
        for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
            v = str_is(f->key, bad[k]);
            assert_rc(with(s, i, &v), MM_EBODY);
        }
        for (const char *const *w = f->words; *w; w++) {
            char longer[64], upper[64];
            size_t n = strlen(*w);
            snprintf(longer, sizeof longer, "%sx", *w);
            snprintf(upper, sizeof upper, "%s", *w);
            upper[0] = (char) (upper[0] - 'a' + 'A');
            v = str_is(f->key, longer);
            assert_rc(with(s, i, &v), MM_EBODY);
            v = str_is(f->key, upper);
            assert_rc(with(s, i, &v), MM_EBODY);
            v = (mm_field_t) { f->key, MM_F_STR, *w, n - 1, 0 };     /* a prefix */
            assert_rc(with(s, i, &v), MM_EBODY);
        }
        break;
    }
    case MM_FK_BOOL:
        break;                      /* the other types, above, are all there is */
    case MM_FK_IDS:
        v = ids_of(f->key, f->max + 1, 32);
        assert_rc(with(s, i, &v), MM_EBODY);
        if (f->min > 0) {
            v = ids_of(f->key, f->min - 1, 32);
            assert_rc(with(s, i, &v), MM_EBODY);
        }
        v = ids_of(f->key, f->min ? f->min : 1, 31);
        assert_rc(with(s, i, &v), MM_EBODY);
        v = ids_of(f->key, f->min ? f->min : 1, 33);
        assert_rc(with(s, i, &v), MM_EBODY);
        break;
    case MM_FK_SEALS:
        v = seals_of(f->key, f->max + 1, 2, MM_REKEY_SEALED_BYTES);
        assert_rc(with(s, i, &v), MM_EBODY);
        if (f->min > 0) {
            v = seals_of(f->key, f->min - 1, 2, MM_REKEY_SEALED_BYTES);
            assert_rc(with(s, i, &v), MM_EBODY);
        }
        v = seals_of(f->key, 1, 2, MM_REKEY_SEALED_BYTES - 1);
        assert_rc(with(s, i, &v), MM_EBODY);
        v = seals_of(f->key, 1, 2, MM_REKEY_SEALED_BYTES + 1);
        assert_rc(with(s, i, &v), MM_EBODY);
        v = seals_of(f->key, 1, 3, MM_REKEY_SEALED_BYTES);
        assert_rc(with(s, i, &v), MM_EBODY);
        break;
    }
}

static void test_every_row(void **state)
{
    size_t rows = 0;
    for (const mm_schema_t *s = MM_SCHEMA; s->type; s++, rows++) {
        size_t n = nfields(s);
        assert_true(n >= 1);
        /* all fields at their smallest, then at their largest */
        assert_rc(with(s, (size_t) -1, NULL), MM_OK);
        mm_field_t f[FMAX];
        for (size_t k = 0; k < n; k++)
            f[k] = valid(&s->f[k], 1);
        assert_rc(check(s->type, f, n), MM_OK);
        for (size_t i = 0; i < n; i++) {
            const mm_schema_field_t *fd = &s->f[i];
            /* missing */
            assert_rc(with(s, i, NULL), fd->required ? MM_EBODY : MM_OK);
            /* every word of a word field */
            if (fd->kind == MM_FK_WORD)
                for (const char *const *w = fd->words; *w; w++) {
                    mm_field_t v = str_is(fd->key, *w);
                    assert_rc(with(s, i, &v), MM_OK);
                }
            refuses(s, i);
        }
        /* an unknown key beside the fields is ignored, of any type */
        for (size_t k = 0; k < n; k++)
            f[k] = valid(&s->f[k], 0);
        f[n] = uint_is("zz-later", 7);
        assert_rc(check(s->type, f, n + 1), MM_OK);
        f[n] = bin_of("zz-later", 3);
        assert_rc(check(s->type, f, n + 1), MM_OK);
    }
    assert_int_equal(rows, 21);
}

/* The table and the item loader know the same types. */
static void test_rows_are_the_types(void **state)
{
    size_t n = 0;
    for (const char *const *t = MM_ITEM_TYPES; *t; t++, n++) {
        const mm_schema_t *s = mm_schema_find(*t, (uint32_t) strlen(*t));
        assert_non_null(s);
        assert_string_equal(s->type, *t);
    }
    /* and the types the store applies rather than shows (rekey.h, propagate.h) */
    static const char *const applied[] = { MM_T_REKEY, MM_T_SCOPE, MM_T_PEER, MM_T_PEER_RM };
    for (size_t i = 0; i < 4; i++, n++)
        assert_non_null(mm_schema_find(applied[i], (uint32_t) strlen(applied[i])));
    size_t rows = 0;
    for (const mm_schema_t *s = MM_SCHEMA; s->type; s++)
        rows++;
    assert_int_equal(rows, n);
    assert_null(mm_schema_find("notes", 5));
    assert_null(mm_schema_find("not", 3));
    assert_null(mm_schema_find("", 0));
}

/* ---- each type, with its limits written out --------------------------- */

#define OK(type, ...)   one(type, MM_OK, (mm_field_t[]) { __VA_ARGS__ }, \
                            sizeof (mm_field_t[]) { __VA_ARGS__ } / sizeof (mm_field_t))
#define BAD(type, ...)  one(type, MM_EBODY, (mm_field_t[]) { __VA_ARGS__ }, \
                            sizeof (mm_field_t[]) { __VA_ARGS__ } / sizeof (mm_field_t))
#define T(k, n)   text_of(k, n)
#define S(k, s)   str_is(k, s)
#define B(k, n)   bin_of(k, n)
#define U(k, v)   uint_is(k, v)

static void one(const char *type, int want, const mm_field_t *f, size_t n)
{
    int rc = check(type, f, n);
    if (rc != want)
        print_error("type %s, %zu fields (first %s)\n", type, n, n ? f[0].key : "-");
    assert_rc(rc, want);
}

static void test_note_invite(void **state)
{
    assert_rc(check("note", NULL, 0), MM_EBODY);
    OK("note", T("text", 1));
    OK("note", T("text", 60000));
    BAD("note", T("text", 60001));
    BAD("note", T("text", 0));
    OK("note", T("text", 5), B("about", 32));
    BAD("note", T("text", 5), B("about", 31));
    BAD("note", T("text", 5), S("about", "grace"));
    BAD("note", B("text", 5));
    BAD("note", U("text", 5));

    OK("invite", S("note", ""), S("role", "mentor"));
    OK("invite", T("note", 1000), S("role", "mentee"));
    BAD("invite", T("note", 1001), S("role", "mentee"));
    BAD("invite", S("role", "mentor"));
    BAD("invite", S("note", "hi"));
    BAD("invite", S("note", "hi"), S("role", "Mentor"));
    BAD("invite", S("note", "hi"), S("role", "peer"));
}

static void test_self_types(void **state)
{
    OK("ambition", S("kind", "near"), T("text", 1));
    OK("ambition", S("kind", "long"), T("text", 4000));
    BAD("ambition", S("kind", "long"), T("text", 4001));
    BAD("ambition", S("kind", "long"), T("text", 0));
    BAD("ambition", S("kind", "mid"), T("text", 10));
    BAD("ambition", T("text", 10));
    BAD("ambition", S("kind", "near"));

    for (int done = 0; done <= 1; done++) {
        const char *t = done ? "ambition-done" : "ambition-drop";
        OK(t, B("ref", 32));
        BAD(t, B("ref", 31));
        BAD(t, B("ref", 33));
        BAD(t, S("ref", "0123456789abcdef0123456789abcdef"));
        assert_rc(check(t, NULL, 0), MM_EBODY);
    }

    OK("capacity", U("n", 0), S("per", "week"));        /* 0: no budget ("mm capacity off") */
    OK("capacity", U("n", 2), S("per", "day"));
    OK("capacity", U("n", 100), S("per", "month"));
    BAD("capacity", U("n", 101), S("per", "month"));
    BAD("capacity", U("n", 2), S("per", "year"));
    BAD("capacity", S("n", "2"), S("per", "week"));
    BAD("capacity", S("per", "week"));
    BAD("capacity", U("n", 2));

    OK("away", U("until", 0));
    OK("away", U("until", UINT64_MAX));
    BAD("away", S("until", "2026-12-10"));
    assert_rc(check("away", NULL, 0), MM_EBODY);

    OK("ambitions", S("long", ""), S("near", ""));
    OK("ambitions", S("long", "Lead a team\nWrite a book"), T("near", 60000));
    BAD("ambitions", S("long", ""));
    BAD("ambitions", S("near", ""));
    BAD("ambitions", S("long", "\xff"), S("near", ""));
    BAD("ambitions", B("long", 1), S("near", ""));
}

static void test_question_and_acts(void **state)
{
    /* the interoperable peer's case: a question without text */
    assert_rc(check("question", NULL, 0), MM_EBODY);
    BAD("question", S("ambition", "Lead a team"));
    BAD("question", T("text", 0));
    OK("question", T("text", 1));
    OK("question", T("text", 4000));
    BAD("question", T("text", 4001));
    OK("question", T("ambition", 4000), T("text", 10));
    BAD("question", T("ambition", 4001), T("text", 10));
    BAD("question", S("ambition", ""), T("text", 10));
    BAD("question", U("ambition", 1), T("text", 10));
    BAD("question", B("text", 10));

    OK("withdraw", B("ref", 32));
    BAD("withdraw", B("ref", 16));
    assert_rc(check("withdraw", NULL, 0), MM_EBODY);
    /* a known key of another type is just an unknown key here */
    OK("withdraw", B("ref", 32), U("text", 5));

    static const char *const said[] = { "answer", "ask-back", "report", "thanks", "decline" };
    for (size_t i = 0; i < sizeof said / sizeof said[0]; i++) {
        OK(said[i], B("ref", 32), T("text", 1));
        OK(said[i], B("ref", 32), T("text", 4000));
        BAD(said[i], B("ref", 32), T("text", 4001));
        BAD(said[i], B("ref", 32), T("text", 0));
        BAD(said[i], B("ref", 32));
        BAD(said[i], T("text", 10));
        BAD(said[i], B("ref", 20), T("text", 10));
        BAD(said[i], S("ref", "x"), T("text", 10));
    }

    OK("thanks", S("offer", "a review of your talk"), B("ref", 32), T("text", 9));
    OK("thanks", T("offer", 1000), B("ref", 32), T("text", 9));
    BAD("thanks", T("offer", 1001), B("ref", 32), T("text", 9));
    BAD("thanks", S("offer", ""), B("ref", 32), T("text", 9));

    OK("decline", B("ref", 32), B("refer", 32), S("refer_name", "Ada"), T("text", 9));
    OK("decline", B("ref", 32), B("refer", 32), T("refer_name", 64), T("text", 9));
    BAD("decline", B("ref", 32), B("refer", 32), T("refer_name", 65), T("text", 9));
    BAD("decline", B("ref", 32), B("refer", 32), S("refer_name", ""), T("text", 9));
    BAD("decline", B("ref", 32), B("refer", 33), T("text", 9));
    BAD("decline", B("ref", 32), S("refer", "mmi..."), T("text", 9));
}

static void test_queue(void **state)
{
    OK("queue", B("ref", 32), S("state", "released"));
    OK("queue", B("ref", 32), S("state", "held"));       /* reason absent: "budget" */
    OK("queue", U("ahead", 3), S("reason", "budget"), B("ref", 32), S("state", "held"));
    OK("queue", U("ahead", 0), S("reason", "one-at-a-time"), B("ref", 32), S("state", "held"));
    OK("queue", U("ahead", UINT64_MAX), S("reason", "away"), B("ref", 32), S("state", "held"));
    BAD("queue", S("reason", "busy"), B("ref", 32), S("state", "held"));
    BAD("queue", S("ahead", "3"), B("ref", 32), S("state", "held"));
    BAD("queue", B("ref", 32), S("state", "open"));
    BAD("queue", B("ref", 32));
    BAD("queue", S("state", "held"));
}

/* A type mm does not know stays opaque: any fields, or none. */
static void test_unknown_type(void **state)
{
    assert_rc(check("question-v2", NULL, 0), MM_OK);
    OK("x-later", U("text", 5));
    OK("Question", U("text", 5));                  /* types are case-sensitive */
}

/* ---- every store path -------------------------------------------------- */

/* The verifier (entries received) and mm_log_append (this device's own)
 * both refuse a question without text, and store nothing. */
static void test_store_paths(void **state)
{
    mm_keypair_t *id = fx_keypair(1), *dev = fx_keypair(2);
    uint8_t c[MM_CERT_MAX], box[512];
    size_t clen, blen, len;
    mm_cert_t cert;
    mm_scope_t scope;
    assert_rc(mm_cert_make(id, dev, 1, "dev", 0, c, sizeof c, &clen), MM_OK);
    assert_rc(mm_cert_parse(c, clen, &cert), MM_OK);
    fx_self_scope(&scope, mm_keypair_pk(id), 0x55);
    const mm_head_t head0 = { 0, { 0 } };
    mm_verify_ctx_t ctx = { .head = &head0, .cert = &cert, .scope = &scope };

    static const struct { const char *hex; int rc; } bodies[] = {
        { "81 a1 74 a8 7175657374696f6e", MM_EBODY },                   /* {"t":"question"} */
        { "82 a1 74 a8 7175657374696f6e a4 74657874 a0", MM_EBODY },     /* text "" */
        { "82 a1 74 a8 7175657374696f6e a4 74657874 c4 02 6869", MM_EBODY },  /* bin text */
        { "82 a1 74 a8 7175657374696f6e a4 74657874 a2 6869", MM_OK },   /* text "hi" */
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        uint8_t body[64];
        size_t n = fx_unhex(body, sizeof body, bodies[i].hex);
        assert_rc(mm_entry_seal(dev, &scope, &head0, 1, NULL, body, n, box, sizeof box, &blen),
                  MM_OK);
        assert_rc(mm_entry_verify(box, blen, &ctx, 0, NULL), bodies[i].rc);
    }

    /* mm_log_append: a store with this identity's certificate and scope */
    fx_store_t fs;
    mm_txn_t *txn;
    mm_head_t h;
    fx_store_new(&fs);
    assert_rc(mm_store_begin(fs.store, 1, &txn), MM_OK);
    assert_rc(mm_cert_put(txn, c, clen, NULL), MM_OK);
    assert_rc(mm_scope_put(txn, &scope), MM_OK);
    assert_rc(mm_body_build(box, sizeof box, &len, "question", NULL, 0), MM_OK);
    assert_rc(mm_log_append(txn, dev, scope.id, 1, box, len, NULL), MM_EBODY);
    assert_rc(mm_log_head(txn, mm_keypair_pk(dev), scope.id, &h), MM_OK);
    assert_true(h.seq == 0);
    mm_field_t text = str_is("text", "How did you choose?");
    assert_rc(mm_body_build(box, sizeof box, &len, "question", &text, 1), MM_OK);
    assert_rc(mm_log_append(txn, dev, scope.id, 1, box, len, NULL), MM_OK);
    assert_rc(mm_log_head(txn, mm_keypair_pk(dev), scope.id, &h), MM_OK);
    assert_true(h.seq == 1);
    mm_txn_abort(&txn);
    assert_int_equal(fx_store_done(&fs), 0);
    mm_scope_wipe(&scope);
    mm_keypair_destroy(&id);
    mm_keypair_destroy(&dev);
}

#define IDS(k, n)    ids_of(k, n, 32)
#define SEALS(k, n)  seals_of(k, n, 2, 80)
#define BOOLV(k, v)  ((mm_field_t) { k, MM_F_BOOL, NULL, 0, v })

static void test_applied_types(void **state)
{
    OK("rekey", SEALS("keys", 1));
    OK("rekey", SEALS("keys", 64));
    BAD("rekey", SEALS("keys", 65));
    BAD("rekey", SEALS("keys", 0));
    BAD("rekey", seals_of("keys", 1, 2, 79));
    BAD("rekey", seals_of("keys", 1, 2, 81));
    BAD("rekey", seals_of("keys", 1, 3, 80));
    BAD("rekey", IDS("keys", 1));
    BAD("rekey", B("keys", 64));
    assert_rc(check("rekey", NULL, 0), MM_EBODY);

#define SCOPE_OK U("created", 1), B("id", 32), IDS("keys", 1), U("kind", 2), IDS("members", 2)
    OK("scope", SCOPE_OK);
    OK("scope", U("created", 1), B("id", 32), IDS("keys", 64), U("kind", 1), IDS("members", 1));
    BAD("scope", U("created", 1), B("id", 32), IDS("keys", 65), U("kind", 2), IDS("members", 2));
    BAD("scope", U("created", 1), B("id", 32), IDS("keys", 0), U("kind", 2), IDS("members", 2));
    BAD("scope", U("created", 1), B("id", 32), IDS("keys", 1), U("kind", 3), IDS("members", 2));
    BAD("scope", U("created", 1), B("id", 32), IDS("keys", 1), U("kind", 0), IDS("members", 2));
    BAD("scope", U("created", 1), B("id", 32), IDS("keys", 1), U("kind", 2), IDS("members", 3));
    BAD("scope", U("created", 1), B("id", 32), IDS("keys", 1), U("kind", 2), IDS("members", 0));
    BAD("scope", U("created", 1), B("id", 31), IDS("keys", 1), U("kind", 2), IDS("members", 2));
    BAD("scope", U("created", 1), B("id", 32), ids_of("keys", 1, 16), U("kind", 2),
        IDS("members", 2));
    BAD("scope", B("id", 32), IDS("keys", 1), U("kind", 2), IDS("members", 2));

#define PEER_F(petname, role, blocked) U("added", 1), blocked, B("identity", 32), \
        S("name", "Grace"), petname, S("role", role), B("scope", 32)
    OK("peer", PEER_F(S("petname", "grace"), "mentor", BOOLV("blocked", 0)));
    OK("peer", PEER_F(T("petname", 64), "mentee", BOOLV("blocked", 1)));
    BAD("peer", PEER_F(T("petname", 65), "mentee", BOOLV("blocked", 1)));
    BAD("peer", PEER_F(S("petname", ""), "mentee", BOOLV("blocked", 1)));
    BAD("peer", PEER_F(S("petname", "grace"), "peer", BOOLV("blocked", 1)));
    BAD("peer", PEER_F(S("petname", "grace"), "mentor", U("blocked", 1)));
    OK("peer", U("added", 1), BOOLV("blocked", 0), B("identity", 32), S("name", ""),
       S("petname", "g"), S("role", "mentor"), B("scope", 32));
    BAD("peer", U("added", 1), BOOLV("blocked", 0), B("identity", 32), T("name", 65),
        S("petname", "g"), S("role", "mentor"), B("scope", 32));
    BAD("peer", U("added", 1), BOOLV("blocked", 0), B("identity", 32), S("petname", "g"),
        S("role", "mentor"), B("scope", 32));

    OK("peer-rm", B("identity", 32));
    BAD("peer-rm", B("identity", 31));
    assert_rc(check("peer-rm", NULL, 0), MM_EBODY);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_row),
        cmocka_unit_test(test_rows_are_the_types),
        cmocka_unit_test(test_note_invite),
        cmocka_unit_test(test_self_types),
        cmocka_unit_test(test_question_and_acts),
        cmocka_unit_test(test_queue),
        cmocka_unit_test(test_applied_types),
        cmocka_unit_test(test_unknown_type),
        cmocka_unit_test(test_store_paths),
    };
    if (fx_setup_crypto(NULL) != 0)
        return 1;
    return cmocka_run_group_tests(tests, setup, teardown);
}
