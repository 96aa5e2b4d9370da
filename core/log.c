#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>
#include "core/log.h"
#include "core/store_int.h"
#include "core/body.h"
#include "core/vpool.h"
#include "core/fork.h"
#include "core/revoke.h"
#include "crypto/error.h"
#include "core/be64.h"
#include "core/propagate.h"
#include "core/rekey.h"
#include "core/mailbox.h"
#include "core/view.h"

#define FEED_KEY  64                /* author || scope */
#define ENTRY_KEY 72                /* author || scope || seq (big-endian) */
#define HEAD_VAL  40                /* seq (big-endian) || id */

_Static_assert(MM_LOG_RUN_MAX <= MM_VPOOL_MAX, "a run fits one call of the verifier pool");

static void entry_key(uint8_t k[ENTRY_KEY], const uint8_t *author, const uint8_t *scope,
                      uint64_t seq)
{
    memcpy(k, author, 32);
    memcpy(k + 32, scope, 32);
    mm_be64_put(k + 64, seq);
}

int mm_log_head(mm_txn_t *txn, const uint8_t author[32], const uint8_t scope[32],
                mm_head_t *head)
{
    uint8_t fk[FEED_KEY];
    memcpy(fk, author, 32);
    memcpy(fk + 32, scope, 32);
    MDB_val k = { FEED_KEY, fk }, v;
    memset(head, 0, sizeof *head);
    int rc = mdb_get(txn->txn, txn->store->heads, &k, &v);
    if (rc == MDB_NOTFOUND)
        return MM_OK;
    if (rc)
        return mm_store_rc(rc);
    if (v.mv_size != HEAD_VAL)
        return MM_ECORRUPT;
    head->seq = mm_be64_get(v.mv_data);
    memcpy(head->id, (uint8_t *) v.mv_data + 8, MM_HASH_BYTES);
    return MM_OK;
}

/* Store a verified entry.  MDB_NOOVERWRITE is the append-only rule at the
 * lowest level: a stored entry is never replaced, whatever a bug above
 * might ask for. */
static int store_entry(mm_txn_t *txn, const mm_entry_t *e)
{
    uint8_t ek[ENTRY_KEY];
    txn->stored = 1;
    entry_key(ek, e->author, e->scope, e->seq);
    MDB_val k = { ENTRY_KEY, ek }, v = { e->len, (void *) e->bytes };
    int rc = mdb_put(txn->txn, txn->store->entries, &k, &v, MDB_NOOVERWRITE);
    return rc == MDB_KEYEXIST ? MM_ECORRUPT : mm_store_rc(rc);
}

/* Make e the head of its feed. */
static int store_head(mm_txn_t *txn, const mm_entry_t *e)
{
    uint8_t fk[FEED_KEY], hv[HEAD_VAL];
    memcpy(fk, e->author, 32);
    memcpy(fk + 32, e->scope, 32);
    mm_be64_put(hv, e->seq);
    memcpy(hv + 8, e->id, MM_HASH_BYTES);
    MDB_val k = { FEED_KEY, fk }, v = { HEAD_VAL, hv };
    return mm_store_rc(mdb_put(txn->txn, txn->store->heads, &k, &v, 0));
}

/* Act on what a stored entry carries for this home: a rekey's new key for
 * this device, a scope or peer from an own device (in the self scope).
 * Runs in the storing transaction, on the plaintext the verifier opened.
 * scope is the entry's, and is read again when the record changed: the
 * next entry of a run may already be sealed under a key just added. */
static int apply(mm_txn_t *txn, const mm_keypair_t *device, const mm_cert_t *cert,
                 mm_scope_t *scope, const uint8_t *pt, size_t len)
{
    int changed = 0, rc = MM_OK;
    if (mm_body_is(pt, len, MM_T_REKEY)) {
        rc = mm_rekey_apply(txn, device, scope, cert->identity, pt, len, &changed);
        /* A peer's rekey may not list every own device (one it has not
         * seen yet): relay the new key list to them through the self scope
         * (PROTOCOL.md 5.4).  Our own rekeys wrote that entry already. */
        if (rc == MM_OK && changed && scope->kind == MM_SCOPE_PAIR && txn->store->device
            && memcmp(cert->identity, txn->store->identity, 32) != 0)
            rc = mm_propagate_scope(txn, device, scope->id, 0);
    } else if (txn->store->device && mm_propagate_is(pt, len))
        rc = mm_propagate_apply(txn, txn->store->identity, scope, cert->identity, pt, len,
                                &changed);
    if (rc == MM_OK && changed)
        rc = mm_scope_get(txn, scope->id, scope);
    return rc;
}

typedef struct {
    mm_txn_t *txn;
    const mm_cert_t *cert;
    mm_scope_t *scope;
} apply_t;

/* A received entry's plaintext, as the verifier opened it: index it for
 * the views (view.h), then apply it. */
static int on_body(const mm_entry_t *e, const uint8_t *pt, size_t len, void *arg)
{
    apply_t *a = arg;
    int rc = mm_view_put(a->txn, a->scope, e, a->cert->identity, pt, len);
    return rc ? rc : apply(a->txn, a->txn->store->device, a->cert, a->scope, pt, len);
}

/* A mailbox's store verifies blind: it holds no scope key (PROTOCOL.md 14). */
static unsigned verify_flags(const mm_txn_t *txn)
{
    return txn->store->blind ? MM_VERIFY_BLIND : 0;
}

static int store(mm_txn_t *txn, const mm_entry_t *e)
{
    int rc = store_entry(txn, e);
    return rc ? rc : store_head(txn, e);
}

/* Look up what the verifier checks an entry of (author, scope) against. */
static int context(mm_txn_t *txn, const uint8_t *author, const uint8_t *scope_id,
                   mm_head_t *head, mm_cert_t *cert, int *have_cert, mm_scope_t *scope,
                   int *have_scope, mm_verify_ctx_t *ctx)
{
    int rc = mm_log_head(txn, author, scope_id, head);
    if (rc)
        return rc;
    rc = mm_cert_get(txn, author, cert, NULL, NULL);
    if (rc && rc != MM_ENOTFOUND)
        return rc;
    *have_cert = rc == MM_OK;
    memset(ctx, 0, sizeof *ctx);
    ctx->head = head;
    ctx->cert = *have_cert ? cert : NULL;
    /* every path that stores an entry comes here: the revocations the
     * certificate's identity made of this author apply to all of them */
    if (*have_cert && (rc = mm_revoke_state(txn, author, cert->identity, scope_id,
                                            &ctx->revoked, &ctx->revoked_last)))
        return rc;
    rc = mm_scope_get(txn, scope_id, scope);
    if (rc && rc != MM_ENOTFOUND)
        return rc;
    *have_scope = rc == MM_OK;
    ctx->scope = *have_scope ? scope : NULL;
    return MM_OK;
}

int mm_log_put(mm_txn_t *txn, const uint8_t *buf, size_t len, mm_entry_t *out)
{
    mm_head_t head;
    mm_cert_t cert;
    mm_scope_t scope;
    mm_entry_t e;
    int have_cert, have_scope;
    int rc = mm_entry_parse(buf, len, &e);
    if (rc)
        return rc;
    mm_verify_ctx_t ctx;
    rc = context(txn, e.author, e.scope, &head, &cert, &have_cert, &scope, &have_scope, &ctx);
    apply_t a = { txn, &cert, &scope };
    ctx.on_body = on_body;
    ctx.arg = &a;
    if (rc == MM_OK)
        rc = mm_entry_check(&e, &ctx, verify_flags(txn));
    mm_scope_wipe(&scope);
    if (rc == MM_OK)
        rc = store(txn, &e);
    if (rc == MM_OK && txn->store->blind)
        rc = mm_mailbox_charge(txn, cert.identity, e.len);
    if (rc == MM_OK && out)
        *out = e;
    return rc;
}

/* What a run's entries are checked with before its context is known: the
 * structure (every entry parses, one feed, consecutive: shape_rc, the
 * first such fault in order) and the signatures' pool call, begun at entry
 * `from`.  One of mm_log_put_run, or made ahead by mm_log_pre_start. */
struct mm_log_pre {
    mm_entry_t     *ents;
    int            *sigs;
    size_t          n;
    int             shape_rc;
    size_t          from;           /* the call covers ents[from, n) */
    mm_vpool_call_t call;
};

static void pre_free(mm_log_pre_t *p)
{
    mm_vpool_end(&p->call);         /* no worker reads ents or writes sigs after this */
    free(p->sigs);
    free(p->ents);
}

/* The run's shape: every entry parses, one feed, consecutive (no hash yet:
 * the pool computes the ids with the signatures' digests, and an entry
 * already held needs neither). */
static int shape(mm_log_pre_t *p, const uint8_t *const *bufs, const size_t *lens, size_t n)
{
    mm_entry_t *ents = p->ents;
    for (size_t i = 0; i < n; i++) {
        int rc = mm_entry_parse_shape(bufs[i], lens[i], &ents[i]);
        if (rc)
            return rc;
        if (memcmp(ents[i].author, ents[0].author, 32) || memcmp(ents[i].scope, ents[0].scope, 32)
            || ents[i].seq != ents[0].seq + i)
            return MM_EPROTO;
    }
    return MM_OK;
}

static int pre_alloc(mm_log_pre_t *p, size_t n)
{
    memset(p, 0, sizeof *p);
    p->n = n;
    p->ents = malloc(n * sizeof *p->ents);
    p->sigs = malloc(n * sizeof *p->sigs);
    return p->ents && p->sigs ? MM_OK : MM_ENOMEM;
}

int mm_log_pre_start(const uint8_t *const *bufs, const size_t *lens, size_t n,
                     mm_log_pre_t **out)
{
    *out = NULL;
    if (n == 0 || n > MM_LOG_RUN_MAX)
        return MM_OK;               /* nothing to start: mm_log_put_run answers */
    mm_log_pre_t *p = malloc(sizeof *p);
    if (!p)
        return MM_ENOMEM;
    int rc = pre_alloc(p, n);
    if (rc == MM_OK) {
        p->shape_rc = shape(p, bufs, lens, n);
        /* every entry, the head unknown yet: those that turn out to be held
         * already are hashed for nothing, and never looked at */
        if (p->shape_rc == MM_OK)
            rc = mm_vpool_begin_hash(NULL, p->ents, n, p->sigs, &p->call);
    }
    if (rc) {
        pre_free(p);
        free(p);
        return rc;
    }
    *out = p;
    return MM_OK;
}

void mm_log_pre_end(mm_log_pre_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    pre_free(*self_p);
    free(*self_p);
    *self_p = NULL;
}

/* pre was made from these very bytes (the same buffers, not a copy).  A
 * pre whose shape check failed is never taken: the entries after the fault
 * were not parsed, so there is nothing to compare, and checking the run
 * afresh gives the same first fault (the shape depends on the bytes alone). */
static int pre_matches(const mm_log_pre_t *p, const uint8_t *const *bufs, const size_t *lens,
                       size_t n)
{
    if (p->n != n || p->shape_rc != MM_OK)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (p->ents[i].bytes != bufs[i] || p->ents[i].len != lens[i])
            return 0;
    return 1;
}

int mm_log_put_run_pre(mm_txn_t *txn, const uint8_t *const *bufs, const size_t *lens, size_t n,
                       mm_log_pre_t **pre_p, size_t *stored)
{
    mm_head_t head;
    mm_cert_t cert;
    mm_scope_t scope;
    mm_log_pre_t own, *pre = pre_p ? *pre_p : NULL;
    int have_cert, have_scope;
    size_t count = 0, fresh;
    uint64_t bytes = 0;
    int rc;
    if (pre_p)
        *pre_p = NULL;              /* ours from here on, whatever happens */
    if (pre && (n == 0 || n > MM_LOG_RUN_MAX || !pre_matches(pre, bufs, lens, n)))
        mm_log_pre_end(&pre);       /* not of this run: checked afresh */
    if (stored)
        *stored = 0;
    if (n == 0)
        return MM_OK;
    if (n > MM_LOG_RUN_MAX)
        return MM_ETOOBIG;
    memset(&scope, 0, sizeof scope);
    if (!pre) {
        pre = &own;
        if ((rc = pre_alloc(pre, n)))
            goto out;
        pre->shape_rc = shape(pre, bufs, lens, n);
        pre->from = n;              /* no call yet: it starts at fresh, below */
    }
    mm_entry_t *ents = pre->ents;
    int *sigs = pre->sigs;
    if ((rc = pre->shape_rc))
        goto out;
    mm_verify_ctx_t ctx;
    rc = context(txn, ents[0].author, ents[0].scope, &head, &cert, &have_cert, &scope,
                 &have_scope, &ctx);
    if (rc)
        goto out;
    /* Entries from `fresh` on lie above the head and would be stored: every
     * one of them is hashed (digest and id, one pass) and its signature
     * checked on the verifier pool, which starts on them all now (unless
     * mm_log_pre_start started on the whole run already).  Those below are
     * compared byte for byte with what is stored, which was checked when it
     * was stored, and need no hash. */
    fresh = 0;
    if (head.seq >= ents[0].seq)    /* the run is consecutive: those come first */
        fresh = head.seq - ents[0].seq < n ? (size_t) (head.seq - ents[0].seq) + 1 : n;
    if (pre == &own && fresh < n) {
        if ((rc = mm_vpool_begin_hash(NULL, ents + fresh, n - fresh, sigs + fresh, &pre->call)))
            goto out;
        pre->from = fresh;
    }
    /* Meanwhile the rest of the verifier, entry by entry in order, each
     * against the head its predecessor made, taking each entry's signature
     * result before it is stored (checking it here if no worker has begun
     * it): the first fault found, in order, is the answer.  An entry's id
     * and digest are read only once take has returned for it (the prev
     * check of the next entry uses the id the pool computed). */
    apply_t a = { txn, &cert, &scope };
    ctx.on_body = on_body;
    ctx.arg = &a;
    for (size_t i = 0; i < n; i++) {
        const mm_entry_t *e = &ents[i];
        if (i < fresh) {                /* already have that position: same bytes? */
            const uint8_t *old;
            size_t oldlen;
            if ((rc = mm_log_get(txn, e->author, e->scope, e->seq, &old, &oldlen)))
                goto out;
            if (oldlen != e->len || memcmp(old, e->bytes, e->len) != 0) {
                rc = MM_EFORK;
                goto out;
            }
            continue;
        }
        int sig = mm_vpool_take(&pre->call, i - pre->from);
        if ((rc = mm_entry_check_sig(e, &ctx, verify_flags(txn), sig))
            || (rc = store_entry(txn, e)))
            goto out;
        head.seq = e->seq;
        memcpy(head.id, e->id, MM_HASH_BYTES);
        count++;
        bytes += e->len;
    }
    /* a mailbox charges the run to its author's person, whole or not at all */
    if (count && txn->store->blind && (rc = mm_mailbox_charge(txn, cert.identity, bytes)))
        goto out;
    /* one head write for the run, at its last entry */
    if (count && (rc = store_head(txn, &ents[n - 1])))
        goto out;
    if (stored)
        *stored = count;
out:
    mm_scope_wipe(&scope);
    if (pre == &own)
        pre_free(pre);
    else
        mm_log_pre_end(&pre);
    return rc;
}

int mm_log_put_run(mm_txn_t *txn, const uint8_t *const *bufs, const size_t *lens, size_t n,
                   size_t *stored)
{
    return mm_log_put_run_pre(txn, bufs, lens, n, NULL, stored);
}

int mm_log_append(mm_txn_t *txn, const mm_keypair_t *device,
                  const uint8_t scope_id[32], uint64_t time,
                  const uint8_t *body, size_t bodylen, uint8_t id_out[32])
{
    uint8_t stackbuf[2048];
    mm_head_t head;
    mm_cert_t cert;
    mm_scope_t scope;
    int have_cert, have_scope;
    uint8_t *buf = NULL;
    size_t len;
    const uint8_t *author = mm_keypair_pk(device);
    if (txn->store->blind)
        return MM_EROLE;            /* a mailbox writes nothing (PROTOCOL.md 14) */
    if (bodylen > MM_BODY_MAX)
        return MM_ETOOBIG;
    if (mm_body_check(body, bodylen))
        return MM_EBODY;
    /* A key whose feed was shown forked (a copied home) writes nothing more,
     * in any scope: every front end appends through here (PROTOCOL.md 8.7). */
    int forked;
    int rc = mm_fork_self(txn, author, &forked, NULL, NULL);
    if (rc == MM_OK && forked)
        rc = MM_EFORKED;
    if (rc)
        return rc;
    mm_verify_ctx_t ctx;
    rc = context(txn, author, scope_id, &head, &cert, &have_cert, &scope, &have_scope, &ctx);
    if (rc)
        goto out;
    /* a home whose own device is revoked writes nothing more, in any scope */
    rc = !have_scope ? MM_ENOTFOUND : !have_cert ? MM_ENOCERT : ctx.revoked ? MM_EREVOKED : MM_OK;
    if (rc)
        goto out;
    size_t cap = bodylen + MM_ENTRY_OVERHEAD;
    buf = cap <= sizeof stackbuf ? stackbuf : malloc(cap);
    if (!buf) {
        rc = MM_ENOMEM;
        goto out;
    }
    if (!time)
        time = mm_now_ms();
    if ((rc = mm_entry_seal(device, &scope, &head, time, NULL, body, bodylen, buf, cap, &len)))
        goto out;
    /* Our own entry goes through the verifier too, its signature included:
     * a signature spoilt while it was made (a fault, a bug) is caught here,
     * before any peer can receive it.  Only the box we have just sealed from
     * a checked body is taken as given. */
    mm_entry_t e;
    if ((rc = mm_entry_parse(buf, len, &e)) || (rc = mm_entry_check(&e, &ctx, MM_VERIFY_OWN))
        || (rc = store(txn, &e)) || (rc = mm_view_put(txn, &scope, &e, cert.identity, body, bodylen))
        || (rc = apply(txn, device, &cert, &scope, body, bodylen)))
        goto out;
    if (id_out)
        memcpy(id_out, e.id, MM_HASH_BYTES);
out:
    mm_scope_wipe(&scope);
    if (buf && buf != stackbuf)
        free(buf);
    return rc;
}

int mm_log_get(mm_txn_t *txn, const uint8_t author[32], const uint8_t scope[32],
               uint64_t seq, const uint8_t **buf, size_t *len)
{
    uint8_t ek[ENTRY_KEY];
    entry_key(ek, author, scope, seq);
    MDB_val k = { ENTRY_KEY, ek }, v = { 0, NULL };
    int rc = mm_store_rc(mdb_get(txn->txn, txn->store->entries, &k, &v));
    /* set on every path, so that no caller can read them uninitialised */
    *buf = rc == MM_OK ? v.mv_data : NULL;
    *len = rc == MM_OK ? v.mv_size : 0;
    return rc;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* 1 if id's hex form starts with the nibbles in want[0..n). */
static int id_matches(const uint8_t *id, const uint8_t *want, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int nib = i % 2 ? id[i / 2] & 15 : id[i / 2] >> 4;
        if (nib != want[i])
            return 0;
    }
    return 1;
}

typedef struct {
    mm_txn_t *txn;
    const uint8_t *scope;
    uint8_t nib[64];
    size_t n;
    int matches;
    const uint8_t *buf;
    size_t len;
} find_t;

static int find_entry(const uint8_t *buf, size_t len, uint64_t seq, void *arg)
{
    find_t *f = arg;
    uint8_t id[MM_HASH_BYTES];
    mm_hash(id, buf, len);
    if (id_matches(id, f->nib, f->n)) {
        f->buf = buf;
        f->len = len;
        if (++f->matches > 1)
            return 1;               /* ambiguous: no need to look further */
    }
    return 0;
}

static int find_feed(const uint8_t *author, const uint8_t *scope, const mm_head_t *head,
                     void *arg)
{
    find_t *f = arg;
    if (f->scope && memcmp(scope, f->scope, 32) != 0)
        return 0;
    return mm_log_walk(f->txn, author, scope, 1, find_entry, f);
}

/* There is no index by id: ids are random, and a random-keyed table would
 * dirty one page per append and cap bulk sync.  People type id prefixes
 * for human-scale sets (their notes, one relationship), so a scan of the
 * scope in question is fast enough, and costs nothing on the write path. */
int mm_log_find(mm_txn_t *txn, const uint8_t *scope, const char *prefix,
                const uint8_t **buf, size_t *len)
{
    find_t f = { .txn = txn, .scope = scope, .n = strlen(prefix) };
    if (f.n < 1 || f.n > 64)
        return MM_EINVAL;
    for (size_t i = 0; i < f.n; i++) {
        int v = hexval(prefix[i]);
        if (v < 0)
            return MM_EINVAL;
        f.nib[i] = (uint8_t) v;
    }
    int rc = mm_log_feeds(txn, find_feed, &f);
    if (rc < 0)
        return rc;
    if (f.matches == 0)
        return MM_ENOTFOUND;
    if (f.matches > 1)
        return MM_EAMBIG;
    *buf = f.buf;
    *len = f.len;
    return MM_OK;
}

int mm_log_feeds(mm_txn_t *txn, mm_feed_fn fn, void *arg)
{
    MDB_cursor *cur;
    MDB_val k, v;
    int rc = mdb_cursor_open(txn->txn, txn->store->heads, &cur);
    if (rc)
        return mm_store_rc(rc);
    int ret = MM_OK;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == MDB_SUCCESS;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size != FEED_KEY || v.mv_size != HEAD_VAL) {
            ret = MM_ECORRUPT;
            break;
        }
        mm_head_t head;
        head.seq = mm_be64_get(v.mv_data);
        memcpy(head.id, (uint8_t *) v.mv_data + 8, MM_HASH_BYTES);
        const uint8_t *fk = k.mv_data;
        if ((ret = fn(fk, fk + 32, &head, arg)) != 0)
            break;
    }
    if (ret == MM_OK && rc != MDB_NOTFOUND && rc != MDB_SUCCESS)
        ret = mm_store_rc(rc);
    mdb_cursor_close(cur);
    return ret;
}

int mm_log_walk(mm_txn_t *txn, const uint8_t author[32], const uint8_t scope[32],
                uint64_t from_seq, mm_entry_fn fn, void *arg)
{
    uint8_t ek[ENTRY_KEY];
    MDB_cursor *cur;
    entry_key(ek, author, scope, from_seq);
    int rc = mdb_cursor_open(txn->txn, txn->store->entries, &cur);
    if (rc)
        return mm_store_rc(rc);
    MDB_val k = { ENTRY_KEY, ek }, v;
    int ret = MM_OK;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == MDB_SUCCESS;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size != ENTRY_KEY) {
            ret = MM_ECORRUPT;
            break;
        }
        if (memcmp(k.mv_data, ek, FEED_KEY) != 0)
            break;
        if ((ret = fn(v.mv_data, v.mv_size, mm_be64_get((uint8_t *) k.mv_data + 64), arg)) != 0)
            break;
    }
    if (ret == MM_OK && rc != MDB_NOTFOUND && rc != MDB_SUCCESS)
        ret = mm_store_rc(rc);
    mdb_cursor_close(cur);
    return ret;
}

#ifdef MM_TEST_HOOKS
/* Test builds only (cmake -DMM_TEST_HOOKS=ON; never Release): the fault
 * tests give each process a clock of its own without touching the
 * machine's.  MM_TEST_CLOCK_OFFSET is a signed number of seconds added to
 * the wall clock; MM_TEST_CLOCK_FILE names a file holding such a number,
 * read again at every call, so a running mm serve's clock can jump back
 * or forward.  Anything unreadable counts as 0. */
static int64_t test_offset_s(const char *text)
{
    char *end;
    if (!text)
        return 0;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    while (*end == '\n' || *end == ' ')
        end++;
    return errno || end == text || *end ? 0 : (int64_t) v;
}

static int64_t test_clock_offset_ms(void)
{
    int64_t s = test_offset_s(getenv("MM_TEST_CLOCK_OFFSET"));
    const char *path = getenv("MM_TEST_CLOCK_FILE");
    FILE *f = path ? fopen(path, "r") : NULL;
    if (f) {
        char buf[32];
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        buf[n] = 0;
        s += test_offset_s(buf);
        fclose(f);
    }
    return s * 1000;
}
#endif

uint64_t mm_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

uint64_t mm_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t ms = (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
#ifdef MM_TEST_HOOKS
    ms += (uint64_t) test_clock_offset_ms();     /* wraps as intended for < 0 */
#endif
    return ms;
}

/* ---- dropping a whole scope (mm peer rm --purge) ---- */

typedef struct {
    const uint8_t *scope;
    uint8_t (*authors)[32];
    size_t n, cap;
} drop_t;

static int feed_of_scope(const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
                         void *arg)
{
    drop_t *d = arg;
    (void) val;
    (void) vlen;
    if (klen != FEED_KEY)
        return MM_ECORRUPT;
    if (memcmp(key + 32, d->scope, 32) != 0)
        return 0;
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 16;
        void *p = realloc(d->authors, cap * 32);
        if (!p)
            return MM_ENOMEM;
        d->authors = p;
        d->cap = cap;
    }
    memcpy(d->authors[d->n++], key, 32);
    return 0;
}

int mm_log_drop_scope(mm_txn_t *txn, const uint8_t scope[32], uint64_t *nentries)
{
    drop_t d = { scope, NULL, 0, 0 };
    uint64_t total = 0;
    int rc = mm_store_walk(txn, txn->store->heads, feed_of_scope, &d);
    for (size_t i = 0; rc == MM_OK && i < d.n; i++) {
        uint8_t fk[FEED_KEY];
        size_t n = 0;
        memcpy(fk, d.authors[i], 32);
        memcpy(fk + 32, scope, 32);
        MDB_val k = { FEED_KEY, fk };
        if ((rc = mm_store_del_prefix(txn, txn->store->entries, fk, FEED_KEY, &n)) == MM_OK)
            rc = mm_store_rc(mdb_del(txn->txn, txn->store->heads, &k, NULL));
        total += n;
    }
    free(d.authors);
    /* and their rows in the views index, whose count of entries held is
     * then the store's again (view.h) */
    if (rc == MM_OK && (rc = mm_view_forget_scope(txn, scope, NULL)) == MM_OK)
        rc = mm_view_mark(txn);
    if (nentries)
        *nentries = rc == MM_OK ? total : 0;
    return rc;
}

int mm_log_authored(mm_txn_t *txn, const uint8_t author[32], int *any)
{
    MDB_cursor *cur;
    MDB_val k = { 32, (void *) author }, v;
    *any = 0;
    int rc = mdb_cursor_open(txn->txn, txn->store->heads, &cur);
    if (rc)
        return mm_store_rc(rc);
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    if (rc == MDB_SUCCESS)
        *any = k.mv_size == FEED_KEY && memcmp(k.mv_data, author, 32) == 0;
    mdb_cursor_close(cur);
    return rc == MDB_SUCCESS || rc == MDB_NOTFOUND ? MM_OK : mm_store_rc(rc);
}
