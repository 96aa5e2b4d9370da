#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <stdlib.h>
#include "core/fold.h"
#include "core/peer.h"
#include "core/store_int.h"
#include "core/mp.h"
#include "core/utf8.h"
#include "crypto/idcode.h"
#include "crypto/error.h"

#define PEER_VERSION 1

int mm_peer_name_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > MM_PETNAME_MAX || !mm_utf8_valid(s, n) || strncasecmp(s, "mmi", 3) == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char) s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    return 1;
}

int mm_endpoint_valid(const char *s)
{
    size_t n = strlen(s);
    if (n > MM_ENDPOINT_MAX || strncmp(s, "tcp://", 6) != 0)
        return 0;
    const char *colon = strrchr(s + 6, ':');
    if (!colon || colon == s + 6 || !colon[1])
        return 0;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 1 || port > 65535)
        return 0;
    for (const char *p = s + 6; p < colon; p++)
        if (!isalnum((unsigned char) *p) && !strchr(".-[]:_", *p))
            return 0;
    return 1;
}

static int encode(const mm_peer_t *p, uint8_t *out, size_t cap, size_t *len)
{
    mm_mp_writer_t w;
    mm_mp_writer_init(&w, out, cap);
    mm_mp_put_array(&w, 10);
    mm_mp_put_uint(&w, PEER_VERSION);
    mm_mp_put_cstr(&w, p->petname);
    mm_mp_put_uint(&w, p->role);
    mm_mp_put_bin(&w, p->scope, 32);
    mm_mp_put_bin(&w, p->device, 32);
    mm_mp_put_array(&w, p->nendpoints);
    for (unsigned i = 0; i < p->nendpoints; i++)
        mm_mp_put_cstr(&w, p->endpoints[i]);
    mm_mp_put_bool(&w, p->blocked);
    mm_mp_put_uint(&w, p->added);
    mm_mp_put_uint(&w, p->last_sync);
    mm_mp_put_cstr(&w, p->name);
    *len = w.len;
    return mm_mp_writer_status(&w);
}

static int copy_str(mm_mp_reader_t *r, char *out, size_t max)
{
    const char *s;
    uint32_t n;
    int rc = mm_mp_str(r, &s, &n);
    if (rc)
        return rc;
    if (n > max || memchr(s, 0, n))
        return MM_EMALFORMED;
    memcpy(out, s, n);
    out[n] = '\0';
    return MM_OK;
}

static int decode(const uint8_t *buf, size_t len, mm_peer_t *p)
{
    mm_mp_reader_t r;
    uint32_t n, ne;
    uint64_t v, role;
    const uint8_t *b;
    mm_mp_reader_init(&r, buf, len);
    if (mm_mp_array(&r, &n) || n != 10 || mm_mp_uint(&r, &v) || v != PEER_VERSION)
        return MM_ECORRUPT;
    if (copy_str(&r, p->petname, MM_PETNAME_MAX) || mm_mp_uint(&r, &role)
        || mm_mp_bin_n(&r, &b, 32))
        return MM_ECORRUPT;
    memcpy(p->scope, b, 32);
    if (mm_mp_bin_n(&r, &b, 32) || mm_mp_array(&r, &ne) || ne > MM_PEER_ENDPOINTS)
        return MM_ECORRUPT;
    memcpy(p->device, b, 32);
    for (uint32_t i = 0; i < ne; i++)
        if (copy_str(&r, p->endpoints[i], MM_ENDPOINT_MAX))
            return MM_ECORRUPT;
    if (mm_mp_bool(&r, &p->blocked) || mm_mp_uint(&r, &p->added)
        || mm_mp_uint(&r, &p->last_sync) || copy_str(&r, p->name, MM_PETNAME_MAX)
        || mm_mp_left(&r))
        return MM_ECORRUPT;
    p->nendpoints = ne;
    p->role = (unsigned) role;
    return MM_OK;
}

typedef struct {
    const char *name;
    const uint8_t *except;
    int found;
} name_check_t;

static int same_name(const mm_peer_t *p, void *arg)
{
    name_check_t *c = arg;
    if (memcmp(p->identity, c->except, 32) != 0 && mm_fold_cmp(p->petname, c->name) == 0)
        c->found = 1;
    return c->found;
}

int mm_peer_put(mm_txn_t *txn, const mm_peer_t *p)
{
    uint8_t buf[MM_PEER_RECORD_MAX];
    size_t len;
    if (!mm_peer_name_valid(p->petname) || p->nendpoints > MM_PEER_ENDPOINTS)
        return MM_EINVAL;
    for (unsigned i = 0; i < p->nendpoints; i++)
        if (!mm_endpoint_valid(p->endpoints[i]))
            return MM_EINVAL;
    name_check_t c = { p->petname, p->identity, 0 };
    int rc = mm_peer_foreach(txn, same_name, &c);
    if (rc < 0)
        return rc;
    if (c.found)
        return MM_EEXIST;
    if ((rc = encode(p, buf, sizeof buf, &len)))
        return rc;
    MDB_val k = { 32, (void *) p->identity }, v = { len, buf };
    return mm_store_rc(mdb_put(txn->txn, txn->store->peers, &k, &v, 0));
}

int mm_peer_get(mm_txn_t *txn, const uint8_t identity[32], mm_peer_t *p)
{
    MDB_val k = { 32, (void *) identity }, v;
    memset(p, 0, sizeof *p);
    int rc = mdb_get(txn->txn, txn->store->peers, &k, &v);
    if (rc)
        return mm_store_rc(rc);
    memcpy(p->identity, identity, 32);
    return decode(v.mv_data, v.mv_size, p);
}

int mm_peer_touch(mm_txn_t *txn, const uint8_t identity[32], uint64_t now)
{
    uint8_t buf[MM_PEER_RECORD_MAX];
    size_t len;
    mm_peer_t p;
    int rc = mm_peer_get(txn, identity, &p);
    if (rc)
        return rc;
    /* only last_sync changes, so the petname checks of mm_peer_put (a walk
     * over every peer) have nothing to find */
    p.last_sync = now;
    if ((rc = encode(&p, buf, sizeof buf, &len)))
        return rc;
    MDB_val k = { 32, (void *) identity }, v = { len, buf };
    return mm_store_rc(mdb_put(txn->txn, txn->store->peers, &k, &v, 0));
}

int mm_peer_del(mm_txn_t *txn, const uint8_t identity[32])
{
    MDB_val k = { 32, (void *) identity };
    return mm_store_rc(mdb_del(txn->txn, txn->store->peers, &k, NULL));
}

int mm_peer_foreach(mm_txn_t *txn, mm_peer_fn fn, void *arg)
{
    MDB_cursor *cur;
    MDB_val k, v;
    int rc = mdb_cursor_open(txn->txn, txn->store->peers, &cur);
    if (rc)
        return mm_store_rc(rc);
    int ret = MM_OK;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == MDB_SUCCESS;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        mm_peer_t p;
        memset(&p, 0, sizeof p);
        if (k.mv_size != 32 || decode(v.mv_data, v.mv_size, &p)) {
            ret = MM_ECORRUPT;
            break;
        }
        memcpy(p.identity, k.mv_data, 32);
        if ((ret = fn(&p, arg)) != 0)
            break;
    }
    mdb_cursor_close(cur);
    return ret;
}

typedef struct {
    const char *what;
    int by_code;
    mm_peer_t *out;
    int matches;
} find_t;

static int match(const mm_peer_t *p, void *arg)
{
    find_t *f = arg;
    int hit;
    if (f->by_code) {
        char code[MM_IDCODE_LEN + 1];
        mm_idcode_encode(code, MM_IDCODE_IDENTITY, p->identity);
        hit = strncasecmp(code, f->what, strlen(f->what)) == 0;
    } else {
        hit = mm_fold_cmp(p->petname, f->what) == 0;
    }
    if (hit) {
        if (f->matches++ == 0)
            *f->out = *p;
    }
    return 0;
}

int mm_peer_find(mm_txn_t *txn, const char *what, mm_peer_t *p)
{
    find_t f = { what, strncasecmp(what, "mmi", 3) == 0, p, 0 };
    if (f.by_code && strlen(what) < 6)
        return MM_EINVAL;
    int rc = mm_peer_foreach(txn, match, &f);
    if (rc < 0)
        return rc;
    return f.matches == 0 ? MM_ENOTFOUND : f.matches > 1 ? MM_EAMBIG : MM_OK;
}

int mm_peer_put_raw(mm_txn_t *txn, const uint8_t identity[32], const uint8_t *rec, size_t len)
{
    mm_peer_t p;
    memset(&p, 0, sizeof p);
    if (len > MM_PEER_RECORD_MAX || decode(rec, len, &p) != MM_OK)
        return MM_ECORRUPT;
    MDB_val k = { 32, (void *) identity }, v = { len, (void *) rec };
    return mm_store_rc(mdb_put(txn->txn, txn->store->peers, &k, &v, MDB_NOOVERWRITE));
}

int mm_peer_foreach_raw(mm_txn_t *txn, mm_row_fn fn, void *arg)
{
    return mm_store_walk(txn, txn->store->peers, fn, arg);
}
