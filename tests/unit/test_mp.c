/*  test_mp.c -- canonical msgpack reader and writer (core/mp.h). */
#include "fixture.h"

/* ---- round trips at boundary sizes -------------------------------------- */

static void test_uint_round_trip(void **state)
{
    static const struct { uint64_t v; size_t len; uint8_t first; } cases[] = {
        { 0,                      1, 0x00 },
        { 1,                      1, 0x01 },
        { 127,                    1, 0x7f },
        { 128,                    2, 0xcc },
        { 255,                    2, 0xcc },
        { 256,                    3, 0xcd },
        { 65535,                  3, 0xcd },
        { 65536,                  5, 0xce },
        { 0xffffffffull,          5, 0xce },
        { 0x100000000ull,         9, 0xcf },
        { UINT64_MAX,             9, 0xcf },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t buf[16];
        mm_mp_writer_t w;
        mm_mp_writer_init(&w, buf, sizeof buf);
        mm_mp_put_uint(&w, cases[i].v);
        assert_rc(mm_mp_writer_status(&w), MM_OK);
        assert_int_equal(w.len, cases[i].len);
        assert_int_equal(buf[0], cases[i].first);

        mm_mp_reader_t r;
        uint64_t v = 12345;
        mm_mp_reader_init(&r, buf, w.len);
        assert_rc(mm_mp_uint(&r, &v), MM_OK);
        assert_true(v == cases[i].v);
        assert_int_equal(mm_mp_left(&r), 0);
    }
}

/* Write a str and a bin of n bytes, check the header form, read them back. */
static void str_bin_case(size_t n, size_t str_hdr, uint8_t str_first,
                         size_t bin_hdr, uint8_t bin_first)
{
    size_t cap = 2 * n + 32;
    uint8_t *buf = malloc(cap), *data = malloc(n + 1);
    assert_non_null(buf);
    assert_non_null(data);
    for (size_t i = 0; i < n; i++)
        data[i] = (uint8_t) ('a' + i % 26);

    mm_mp_writer_t w;
    mm_mp_writer_init(&w, buf, cap);
    mm_mp_put_str(&w, (const char *) data, n);
    assert_rc(mm_mp_writer_status(&w), MM_OK);
    assert_int_equal(w.len, str_hdr + n);
    assert_int_equal(buf[0], str_first);
    size_t strlen_ = w.len;
    if (bin_hdr) {
        mm_mp_put_bin(&w, data, n);
        assert_rc(mm_mp_writer_status(&w), MM_OK);
        assert_int_equal(w.len, strlen_ + bin_hdr + n);
        assert_int_equal(buf[strlen_], bin_first);
    }

    mm_mp_reader_t r;
    mm_mp_reader_init(&r, buf, w.len);
    const char *s = NULL;
    uint32_t sn = 0;
    assert_rc(mm_mp_str(&r, &s, &sn), MM_OK);
    assert_int_equal(sn, n);
    assert_ptr_equal(s, (const char *) buf + str_hdr);
    if (n)
        assert_memory_equal(s, data, n);
    if (bin_hdr) {
        const uint8_t *p = NULL;
        uint32_t pn = 0;
        assert_rc(mm_mp_bin(&r, &p, &pn), MM_OK);
        assert_int_equal(pn, n);
        if (n)
            assert_memory_equal(p, data, n);
        /* bin_n accepts exactly n and nothing else */
        mm_mp_reader_t r2;
        mm_mp_reader_init(&r2, buf + strlen_, w.len - strlen_);
        assert_rc(mm_mp_bin_n(&r2, &p, (uint32_t) n), MM_OK);
        mm_mp_reader_init(&r2, buf + strlen_, w.len - strlen_);
        assert_rc(mm_mp_bin_n(&r2, &p, (uint32_t) n + 1), MM_EMALFORMED);
        assert_ptr_equal(r2.p, buf + strlen_);
    }
    assert_int_equal(mm_mp_left(&r), 0);
    free(buf);
    free(data);
}

static void test_str_bin_round_trip(void **state)
{
    str_bin_case(0,      1, 0xa0, 2, 0xc4);
    str_bin_case(1,      1, 0xa1, 2, 0xc4);
    str_bin_case(31,     1, 0xbf, 2, 0xc4);
    str_bin_case(32,     2, 0xd9, 2, 0xc4);
    str_bin_case(255,    2, 0xd9, 2, 0xc4);
    str_bin_case(256,    3, 0xda, 3, 0xc5);
    str_bin_case(65535,  3, 0xda, 3, 0xc5);
    str_bin_case(65536,  5, 0xdb, 5, 0xc6);
}

static void test_cstr_nil_bool_round_trip(void **state)
{
    uint8_t buf[64];
    mm_mp_writer_t w;
    mm_mp_writer_init(&w, buf, sizeof buf);
    mm_mp_put_cstr(&w, "hello");
    mm_mp_put_nil(&w);
    mm_mp_put_bool(&w, 1);
    mm_mp_put_bool(&w, 0);
    assert_rc(mm_mp_writer_status(&w), MM_OK);
    uint8_t want[10];
    size_t wn = fx_unhex(want, sizeof want, "a5 68656c6c6f c0 c3 c2");
    assert_int_equal(w.len, wn);
    assert_memory_equal(buf, want, wn);

    mm_mp_reader_t r;
    mm_mp_reader_init(&r, buf, w.len);
    const char *s;
    uint32_t n;
    int b = -1;
    assert_rc(mm_mp_str(&r, &s, &n), MM_OK);
    assert_int_equal(n, 5);
    assert_memory_equal(s, "hello", 5);
    assert_int_equal(mm_mp_peek_nil(&r), 1);
    assert_rc(mm_mp_nil(&r), MM_OK);
    assert_int_equal(mm_mp_peek_nil(&r), 0);
    assert_rc(mm_mp_nil(&r), MM_EMALFORMED);        /* true is not nil */
    assert_rc(mm_mp_bool(&r, &b), MM_OK);
    assert_int_equal(b, 1);
    assert_rc(mm_mp_bool(&r, &b), MM_OK);
    assert_int_equal(b, 0);
    assert_int_equal(mm_mp_left(&r), 0);
    assert_int_equal(mm_mp_peek_nil(&r), 0);        /* at end of input */
    assert_rc(mm_mp_nil(&r), MM_ETRUNC);
}

/* Write an array of n nils, or a map of n pairs with keys in order (8 hex
 * digits of the pair's number) and nil values, check the header form, read
 * it back and skip the whole value. */
static void container_case(int map, uint32_t n, size_t hdr, uint8_t first)
{
    size_t body = map ? 10 * (size_t) n : n;    /* a1.. "xxxxxxxx" c0, or c0 */
    size_t cap = body + 16;
    uint8_t *buf = malloc(cap);
    assert_non_null(buf);
    mm_mp_writer_t w;
    mm_mp_writer_init(&w, buf, cap);
    if (map)
        mm_mp_put_map(&w, n);
    else
        mm_mp_put_array(&w, n);
    for (uint32_t i = 0; i < n; i++) {
        if (map) {
            char k[9];
            snprintf(k, sizeof k, "%08x", (unsigned) i);
            mm_mp_put_cstr(&w, k);
        }
        mm_mp_put_nil(&w);
    }
    assert_rc(mm_mp_writer_status(&w), MM_OK);
    assert_int_equal(w.len, hdr + body);
    assert_int_equal(buf[0], first);

    mm_mp_reader_t r;
    uint32_t got = 0;
    mm_mp_reader_init(&r, buf, w.len);
    assert_rc(map ? mm_mp_map(&r, &got) : mm_mp_array(&r, &got), MM_OK);
    assert_int_equal(got, n);
    assert_int_equal(mm_mp_left(&r), body);
    /* the other container type is another type */
    mm_mp_reader_init(&r, buf, w.len);
    assert_rc(map ? mm_mp_array(&r, &got) : mm_mp_map(&r, &got), MM_EMALFORMED);
    assert_ptr_equal(r.p, buf);

    mm_mp_reader_init(&r, buf, w.len);
    assert_rc(mm_mp_skip(&r), MM_OK);
    assert_int_equal(mm_mp_left(&r), 0);
    free(buf);
}

static void test_array_map_round_trip(void **state)
{
    static const uint32_t ns[] = { 0, 1, 15, 16, 255, 256, 65535, 65536 };
    for (int map = 0; map <= 1; map++)
        for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
            uint32_t n = ns[i];
            size_t hdr = n < 16 ? 1 : n <= 65535 ? 3 : 5;
            uint8_t first = n < 16 ? (uint8_t) ((map ? 0x80 : 0x90) | n)
                          : n <= 65535 ? (map ? 0xde : 0xdc) : (map ? 0xdf : 0xdd);
            container_case(map, n, hdr, first);
        }
}

/* A bool is one byte, 0xc2 false or 0xc3 true (PROTOCOL.md 2); no other
 * first byte is read as one, and the reader does not move on a refusal. */
static void test_bool_forms(void **state)
{
    for (int b = 0; b < 256; b++) {
        uint8_t buf[2] = { (uint8_t) b, 0x00 };
        mm_mp_reader_t r;
        int v = -1;
        mm_mp_reader_init(&r, buf, sizeof buf);
        int rc = mm_mp_bool(&r, &v);
        if (b == 0xc2 || b == 0xc3) {
            assert_rc(rc, MM_OK);
            assert_int_equal(v, b == 0xc3);
            assert_int_equal(mm_mp_left(&r), 1);
        } else {
            assert_rc(rc, MM_EMALFORMED);
            assert_ptr_equal(r.p, buf);
        }
    }
    uint8_t t = 0xc3;
    mm_mp_reader_t r;
    int v;
    mm_mp_reader_init(&r, &t, 0);
    assert_rc(mm_mp_bool(&r, &v), MM_ETRUNC);
}

/* ---- non-canonical forms ------------------------------------------------ */

enum { T_UINT, T_STR, T_BIN, T_ARRAY, T_MAP };

/* Read hex as type t: return the rc, and check the reader did not move on
 * error. */
static int read_as(int t, const char *hex)
{
    uint8_t buf[64];
    size_t n = fx_unhex(buf, sizeof buf, hex);
    mm_mp_reader_t r;
    mm_mp_reader_init(&r, buf, n);
    uint64_t v;
    uint32_t c;
    const char *s;
    const uint8_t *p;
    int rc;
    switch (t) {
    case T_UINT:  rc = mm_mp_uint(&r, &v); break;
    case T_STR:   rc = mm_mp_str(&r, &s, &c); break;
    case T_BIN:   rc = mm_mp_bin(&r, &p, &c); break;
    case T_ARRAY: rc = mm_mp_array(&r, &c); break;
    default:      rc = mm_mp_map(&r, &c); break;
    }
    if (rc != MM_OK)
        assert_ptr_equal(r.p, buf);
    return rc;
}

/* Skip the value in hex: its rc, MM_ETRAILING if it did not end the bytes. */
static int skip_hex(const char *hex)
{
    uint8_t buf[64];
    size_t n = fx_unhex(buf, sizeof buf, hex);
    mm_mp_reader_t r;
    mm_mp_reader_init(&r, buf, n);
    int rc = mm_mp_skip(&r);
    if (rc != MM_OK)
        assert_ptr_equal(r.p, buf);
    return rc == MM_OK && mm_mp_left(&r) ? MM_ETRAILING : rc;
}

static const struct { int t; const char *hex; } noncanon[] = {
    { T_UINT,  "cc 05" },                         /* uint8 holding a fixint */
    { T_UINT,  "cc 7f" },
    { T_UINT,  "cd 00 c8" },                      /* uint16 holding 200 */
    { T_UINT,  "cd 00 05" },
    { T_UINT,  "ce 00 00 ff ff" },                /* uint32 holding 65535 */
    { T_UINT,  "cf 00 00 00 00 ff ff ff ff" },    /* uint64 holding 2^32-1 */
    { T_STR,   "d9 05 68 65 6c 6c 6f" },          /* str8 with len 5 */
    { T_STR,   "d9 1f 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61"
               " 61 61 61 61 61 61 61 61 61 61 61 61 61 61 61" },
    { T_STR,   "da 00 03 61 62 63" },             /* str16 with len 3 */
    { T_STR,   "db 00 00 00 03 61 62 63" },
    { T_BIN,   "c5 00 03 01 02 03" },             /* bin16 with len 3 */
    { T_BIN,   "c6 00 00 00 03 01 02 03" },
    { T_ARRAY, "dc 00 02 c0 c0" },                /* array16 with 2 elems */
    { T_ARRAY, "dd 00 00 00 02 c0 c0" },
    { T_MAP,   "de 00 01 c0 c0" },                /* map16 with 1 pair */
    { T_MAP,   "df 00 00 00 01 c0 c0" },
};

static void test_noncanonical_rejected(void **state)
{
    for (size_t i = 0; i < sizeof noncanon / sizeof noncanon[0]; i++) {
        assert_rc(read_as(noncanon[i].t, noncanon[i].hex), MM_ENONCANON);
        /* skip applies the same rule to headers, also when nested */
        assert_rc(skip_hex(noncanon[i].hex), MM_ENONCANON);
        char nested[256];
        snprintf(nested, sizeof nested, "92 c0 %s", noncanon[i].hex);
        assert_rc(skip_hex(nested), MM_ENONCANON);
    }
    /* the canonical spellings of the same values pass */
    assert_rc(read_as(T_UINT, "05"), MM_OK);
    assert_rc(read_as(T_UINT, "cc c8"), MM_OK);
    assert_rc(read_as(T_STR, "a5 68 65 6c 6c 6f"), MM_OK);
    assert_rc(read_as(T_BIN, "c4 03 01 02 03"), MM_OK);
    assert_rc(read_as(T_ARRAY, "92 c0 c0"), MM_OK);
    assert_rc(read_as(T_MAP, "81 c0 c0"), MM_OK);
}

static void test_wrong_types_malformed(void **state)
{
    static const char *not_uint[] = {
        "ff",                               /* negative fixint -1 */
        "e0",                               /* negative fixint -32 */
        "d0 80",                            /* int8 -128 */
        "d1 80 00",                         /* int16 */
        "d2 80 00 00 00",                   /* int32 */
        "d3 80 00 00 00 00 00 00 00",       /* int64 */
        "ca 3f 80 00 00",                   /* float32 1.0 */
        "cb 3f f0 00 00 00 00 00 00",       /* float64 1.0 */
        "d4 01 00",                         /* fixext1 */
        "d5 01 00 00",                      /* fixext2 */
        "c7 01 01 00",                      /* ext8 */
        "c0", "c2", "c3",                   /* nil, false, true */
        "a1 61", "c4 01 00", "91 00", "81 00 00",
    };
    for (size_t i = 0; i < sizeof not_uint / sizeof not_uint[0]; i++)
        assert_rc(read_as(T_UINT, not_uint[i]), MM_EMALFORMED);

    assert_rc(read_as(T_STR, "c4 01 61"), MM_EMALFORMED);   /* bin is not str */
    assert_rc(read_as(T_BIN, "a1 61"), MM_EMALFORMED);      /* str is not bin */
    assert_rc(read_as(T_ARRAY, "05"), MM_EMALFORMED);
    assert_rc(read_as(T_MAP, "90"), MM_EMALFORMED);

    uint8_t buf[2] = { 0xc0, 0xc3 };
    mm_mp_reader_t r;
    int b;
    mm_mp_reader_init(&r, buf, 1);
    assert_rc(mm_mp_bool(&r, &b), MM_EMALFORMED);
    assert_ptr_equal(r.p, buf);
}

/* ---- truncation --------------------------------------------------------- */

/* The reference value: [300, "hello", bin(40), nil, true, {"k": 2^40}, [] ] */
static size_t build_multi(uint8_t *buf, size_t cap, uint8_t bin[40])
{
    for (int i = 0; i < 40; i++)
        bin[i] = (uint8_t) (i * 7);
    mm_mp_writer_t w;
    mm_mp_writer_init(&w, buf, cap);
    mm_mp_put_array(&w, 7);
    mm_mp_put_uint(&w, 300);
    mm_mp_put_cstr(&w, "hello");
    mm_mp_put_bin(&w, bin, 40);
    mm_mp_put_nil(&w);
    mm_mp_put_bool(&w, 1);
    mm_mp_put_map(&w, 1);
    mm_mp_put_cstr(&w, "k");
    mm_mp_put_uint(&w, 1ull << 40);
    mm_mp_put_array(&w, 0);
    assert_rc(mm_mp_writer_status(&w), MM_OK);
    return w.len;
}

/* Read the reference schema; the first error, or MM_OK with every value
 * checked and nothing left over. */
static int read_multi(const uint8_t *buf, size_t len, const uint8_t bin[40])
{
    mm_mp_reader_t r;
    mm_mp_reader_init(&r, buf, len);
    uint32_t n;
    uint64_t v;
    const char *s;
    const uint8_t *p;
    int b, rc;
    if ((rc = mm_mp_array(&r, &n)) != MM_OK) return rc;
    assert_int_equal(n, 7);
    if ((rc = mm_mp_uint(&r, &v)) != MM_OK) return rc;
    assert_true(v == 300);
    if ((rc = mm_mp_str(&r, &s, &n)) != MM_OK) return rc;
    assert_int_equal(n, 5);
    assert_memory_equal(s, "hello", 5);
    if ((rc = mm_mp_bin_n(&r, &p, 40)) != MM_OK) return rc;
    assert_memory_equal(p, bin, 40);
    if ((rc = mm_mp_nil(&r)) != MM_OK) return rc;
    if ((rc = mm_mp_bool(&r, &b)) != MM_OK) return rc;
    assert_int_equal(b, 1);
    if ((rc = mm_mp_map(&r, &n)) != MM_OK) return rc;
    assert_int_equal(n, 1);
    if ((rc = mm_mp_str(&r, &s, &n)) != MM_OK) return rc;
    assert_int_equal(n, 1);
    if ((rc = mm_mp_uint(&r, &v)) != MM_OK) return rc;
    assert_true(v == 1ull << 40);
    if ((rc = mm_mp_array(&r, &n)) != MM_OK) return rc;
    assert_int_equal(n, 0);
    assert_int_equal(mm_mp_left(&r), 0);
    return MM_OK;
}

static void test_truncation_every_position(void **state)
{
    uint8_t full[256], bin[40];
    size_t len = build_multi(full, sizeof full, bin);
    assert_rc(read_multi(full, len, bin), MM_OK);
    mm_mp_reader_t r;
    mm_mp_reader_init(&r, full, len);
    assert_rc(mm_mp_skip(&r), MM_OK);
    assert_int_equal(mm_mp_left(&r), 0);

    for (size_t k = 0; k < len; k++) {
        /* a heap copy of exactly k bytes, so ASan sees any over-read */
        uint8_t *pre = malloc(k ? k : 1);
        assert_non_null(pre);
        memcpy(pre, full, k);
        assert_rc(read_multi(pre, k, bin), MM_ETRUNC);
        mm_mp_reader_init(&r, pre, k);
        assert_rc(mm_mp_skip(&r), MM_ETRUNC);
        free(pre);
    }
}

static void test_huge_counts_truncated(void **state)
{
    assert_rc(read_as(T_ARRAY, "dd ff ff ff ff"), MM_ETRUNC);
    assert_rc(read_as(T_MAP,   "df ff ff ff ff"), MM_ETRUNC);
    assert_rc(read_as(T_BIN,   "c6 ff ff ff ff"), MM_ETRUNC);
    assert_rc(read_as(T_STR,   "db ff ff ff ff"), MM_ETRUNC);
    assert_rc(read_as(T_ARRAY, "dd ff ff ff ff c0 c0 c0"), MM_ETRUNC);
    assert_rc(read_as(T_MAP,   "df ff ff ff ff c0 c0 c0"), MM_ETRUNC);
    assert_rc(read_as(T_BIN,   "c6 ff ff ff ff 00 00 00"), MM_ETRUNC);
    /* canonical counts that claim more than the bytes left */
    assert_rc(read_as(T_ARRAY, "dd 00 01 00 00 c0 c0"), MM_ETRUNC);
    assert_rc(read_as(T_ARRAY, "dc ff ff c0"), MM_ETRUNC);
    assert_rc(read_as(T_ARRAY, "93 c0 c0"), MM_ETRUNC);
    assert_rc(read_as(T_BIN,   "c5 01 00 00"), MM_ETRUNC);
    assert_rc(read_as(T_STR,   "a3 61 62"), MM_ETRUNC);
    /* header itself cut short */
    assert_rc(read_as(T_ARRAY, "dd ff ff"), MM_ETRUNC);
    assert_rc(read_as(T_UINT,  "cf 01 02 03"), MM_ETRUNC);
    assert_rc(read_as(T_BIN,   "c4"), MM_ETRUNC);
    /* skip must not walk a claimed count either */
    assert_rc(skip_hex("dd ff ff ff ff"), MM_ETRUNC);
    assert_rc(skip_hex("df ff ff ff ff"), MM_ETRUNC);
    assert_rc(skip_hex("c6 ff ff ff ff"), MM_ETRUNC);
    assert_rc(skip_hex("91 dd ff ff ff ff c0"), MM_ETRUNC);
}

/* ---- skip depth --------------------------------------------------------- */

/* depth nested one-element arrays (map when maps is set) around a nil. */
static int skip_nested(size_t depth, int maps)
{
    size_t len = depth * (maps ? 3 : 1) + 1;
    uint8_t *buf = malloc(len);
    assert_non_null(buf);
    size_t o = 0;
    for (size_t i = 0; i < depth; i++) {
        buf[o++] = maps ? 0x81 : 0x91;
        if (maps) {                         /* key "k", value nests */
            buf[o++] = 0xa1;
            buf[o++] = 'k';
        }
    }
    buf[o++] = 0xc0;
    mm_mp_reader_t r;
    mm_mp_reader_init(&r, buf, len);
    int rc = mm_mp_skip(&r);
    if (rc == MM_OK)
        assert_int_equal(mm_mp_left(&r), 0);
    free(buf);
    return rc;
}

static void test_skip_depth(void **state)
{
    assert_rc(skip_nested(0, 0), MM_OK);
    assert_rc(skip_nested(MM_MP_MAX_DEPTH, 0), MM_OK);
    assert_rc(skip_nested(MM_MP_MAX_DEPTH, 1), MM_OK);
    assert_rc(skip_nested(MM_MP_MAX_DEPTH + 1, 0), MM_ETOOBIG);
    assert_rc(skip_nested(MM_MP_MAX_DEPTH + 1, 1), MM_ETOOBIG);
    /* far deeper than any stack should be asked to go */
    assert_rc(skip_nested(100000, 0), MM_ETOOBIG);
    assert_rc(skip_nested(100000, 1), MM_ETOOBIG);

    /* skip over every scalar kind it must know, in one array */
    uint8_t buf[64];
    size_t n = fx_unhex(buf, sizeof buf,
                        "97 05 cc 80 a1 61 c4 01 00 c0 c3 80");
    mm_mp_reader_t r;
    mm_mp_reader_init(&r, buf, n);
    assert_rc(mm_mp_skip(&r), MM_OK);
    assert_int_equal(mm_mp_left(&r), 0);
}

/* ---- map keys ------------------------------------------------------------ */

static void test_key_order(void **state)
{
    /* raw bytes, unsigned, a prefix first: "" < "a" < "ab" < "b" < "z" < "\xc3\xa9" */
    static const char *const keys[] = { "", "a", "ab", "b", "z", "\xc3\xa9" };
    size_t nk = sizeof keys / sizeof keys[0];
    for (size_t i = 0; i < nk; i++)
        for (size_t j = 0; j < nk; j++) {
            int c = mm_mp_key_cmp(keys[i], (uint32_t) strlen(keys[i]), keys[j],
                                  (uint32_t) strlen(keys[j]));
            assert_true(i < j ? c < 0 : i > j ? c > 0 : c == 0);
        }

    /* skip holds every map, nested or not, to that order */
    assert_rc(skip_hex("82 a1 61 01 a1 62 02"), MM_OK);              /* {"a","b"} */
    assert_rc(skip_hex("82 a1 62 02 a1 61 01"), MM_ENONCANON);       /* {"b","a"} */
    assert_rc(skip_hex("82 a2 6162 01 a1 62 02"), MM_OK);            /* "ab" < "b" */
    assert_rc(skip_hex("82 a1 62 02 a2 6162 01"), MM_ENONCANON);
    assert_rc(skip_hex("82 a1 61 01 a2 6162 02"), MM_OK);            /* "a" < "ab" */
    assert_rc(skip_hex("82 a2 6162 01 a1 61 02"), MM_ENONCANON);
    assert_rc(skip_hex("82 a1 7a 01 a2 c3a9 02"), MM_OK);            /* "z" < "é": unsigned */
    assert_rc(skip_hex("82 a2 c3a9 01 a1 7a 02"), MM_ENONCANON);
    assert_rc(skip_hex("82 a0 01 a1 61 02"), MM_OK);                 /* "" first */
    assert_rc(skip_hex("82 a1 61 01 a1 61 01"), MM_ENONCANON);       /* a key twice */
    assert_rc(skip_hex("81 01 02"), MM_ENONCANON);                   /* uint key */
    assert_rc(skip_hex("81 c0 02"), MM_ENONCANON);                   /* nil key */
    assert_rc(skip_hex("81 c4 01 61 02"), MM_ENONCANON);             /* bin key */
    assert_rc(skip_hex("81 91 01 02"), MM_ENONCANON);                /* array key */
    assert_rc(skip_hex("92 01 82 a1 62 02 a1 61 01"), MM_ENONCANON); /* nested */
    assert_rc(skip_hex("81 a1 6b 82 a1 62 02 a1 61 01"), MM_ENONCANON);
    assert_rc(skip_hex("81 a1 6b 82 a1 61 02 a1 62 01"), MM_OK);
    /* a long key with a str8 header still sorts by its bytes: before "b" */
    assert_rc(skip_hex("82 d9 20 6161616161616161616161616161616161616161616161616161616161616161"
                       " 01 a1 62 02"), MM_OK);
    assert_rc(skip_hex("82 a1 62 02 d9 20 6161616161616161616161616161616161616161616161616161"
                       "616161616161 01"), MM_ENONCANON);
}

/* ---- writer overflow ---------------------------------------------------- */

static void test_writer_overflow(void **state)
{
    uint8_t buf[8];
    mm_mp_writer_t w;

    mm_mp_writer_init(&w, buf, 4);
    mm_mp_put_cstr(&w, "hello world");
    assert_rc(mm_mp_writer_status(&w), MM_ETOOBIG);
    assert_true(w.len <= 4);
    mm_mp_put_nil(&w);          /* the error is sticky */
    assert_rc(mm_mp_writer_status(&w), MM_ETOOBIG);
    assert_true(w.len <= 4);

    mm_mp_writer_init(&w, buf, 0);
    mm_mp_put_nil(&w);
    assert_rc(mm_mp_writer_status(&w), MM_ETOOBIG);
    assert_int_equal(w.len, 0);

    mm_mp_writer_init(&w, buf, 8);
    mm_mp_put_uint(&w, UINT64_MAX);      /* 9 bytes */
    assert_rc(mm_mp_writer_status(&w), MM_ETOOBIG);
    assert_true(w.len <= 8);

    /* filling the buffer exactly is fine */
    memset(buf, 0xee, sizeof buf);
    mm_mp_writer_init(&w, buf, 5);
    mm_mp_put_uint(&w, 0xffffffffull);
    assert_rc(mm_mp_writer_status(&w), MM_OK);
    assert_int_equal(w.len, 5);
    assert_int_equal(buf[5], 0xee);      /* nothing written past cap */

    uint8_t big[300];
    mm_mp_writer_init(&w, big, 100);
    mm_mp_put_bin(&w, big + 100, 200);
    assert_rc(mm_mp_writer_status(&w), MM_ETOOBIG);
    assert_true(w.len <= 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uint_round_trip),
        cmocka_unit_test(test_str_bin_round_trip),
        cmocka_unit_test(test_cstr_nil_bool_round_trip),
        cmocka_unit_test(test_array_map_round_trip),
        cmocka_unit_test(test_bool_forms),
        cmocka_unit_test(test_noncanonical_rejected),
        cmocka_unit_test(test_wrong_types_malformed),
        cmocka_unit_test(test_truncation_every_position),
        cmocka_unit_test(test_huge_counts_truncated),
        cmocka_unit_test(test_skip_depth),
        cmocka_unit_test(test_key_order),
        cmocka_unit_test(test_writer_overflow),
    };
    return cmocka_run_group_tests(tests, fx_setup_crypto, NULL);
}
