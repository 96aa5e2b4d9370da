/*  check.c -- mm_log_check: re-verify a whole store from its bytes.
 *
 *  Walks the entries table in key order (feed by feed, seq by seq), runs
 *  every entry through the verifier with signatures, re-verifies each
 *  author's certificate, and cross-checks the feed heads, so a byte flipped
 *  anywhere in an entry or a head is found.
 */
#include <stdio.h>
#include <string.h>
#include "core/log.h"
#include "core/store_int.h"
#include "crypto/encoding.h"
#include "crypto/idcode.h"
#include "crypto/error.h"

typedef struct {
    mm_txn_t   *txn;
    mm_fault_fn fn;
    void       *arg;
    int         first;          /* first fault's code */
    uint64_t    count;
    int         in_feed;
    uint8_t     feed[64];       /* current feed key */
    mm_head_t   head;           /* running head of the current feed */
    int         cert_state;     /* last author's cert: 0 none, 1 ok, -1 bad */
    uint8_t     cert_dev[32];
    mm_cert_t   cert;
} check_t;

static void fault(check_t *c, int rc, const uint8_t *feed, uint64_t seq, const char *what)
{
    char line[256], dev[MM_IDCODE_LEN + 1], scope[9];
    if (!c->first)
        c->first = rc;
    if (!c->fn)
        return;
    if (feed) {
        mm_idcode_encode(dev, MM_IDCODE_DEVICE, feed);
        mm_encoding_hex(scope, feed + 32, 4);
        snprintf(line, sizeof line, "feed %.15s/%s seq %llu: %s", dev, scope,
                 (unsigned long long) seq, what ? what : mm_strerror(rc));
    } else {
        snprintf(line, sizeof line, "%s", what ? what : mm_strerror(rc));
    }
    c->fn(rc, line, c->arg);
}

/* The stored head of a finished feed must be the running head. */
static void end_feed(check_t *c)
{
    if (!c->in_feed)
        return;
    mm_head_t stored;
    int rc = mm_log_head(c->txn, c->feed, c->feed + 32, &stored);
    if (rc)
        fault(c, rc, c->feed, c->head.seq, "cannot read feed head");
    else if (stored.seq != c->head.seq || memcmp(stored.id, c->head.id, MM_HASH_BYTES))
        fault(c, MM_ECORRUPT, c->feed, c->head.seq, "feed head does not match its last entry");
    c->in_feed = 0;
}

static void check_entry(check_t *c, const uint8_t *key, const uint8_t *buf, size_t len)
{
    uint64_t seq = 0;
    for (int i = 0; i < 8; i++)
        seq = seq << 8 | key[64 + i];
    if (!c->in_feed || memcmp(c->feed, key, 64) != 0) {
        end_feed(c);
        memcpy(c->feed, key, 64);
        memset(&c->head, 0, sizeof c->head);
        c->in_feed = 1;
    }
    c->count++;
    mm_scope_t scope;
    const uint8_t *raw;
    size_t rawlen;
    int rc;
    if (c->cert_state == 0 || memcmp(c->cert_dev, key, 32) != 0) {
        /* verify each author's certificate once, not once per entry */
        memcpy(c->cert_dev, key, 32);
        c->cert_state = -1;
        rc = mm_cert_get(c->txn, key, &c->cert, &raw, &rawlen);
        if (rc == MM_OK && mm_cert_parse(raw, rawlen, &c->cert) == MM_OK)
            c->cert_state = 1;
        else if (rc != MM_ENOTFOUND)
            fault(c, MM_EBADCERT, key, seq, "author's device certificate does not verify");
    }
    int have_scope = mm_scope_get(c->txn, key + 32, &scope) == MM_OK;
    /* revocations are not re-applied here: an entry stored before its
     * device's revocation arrived was valid when it was stored */
    mm_verify_ctx_t ctx = { .head = &c->head, .cert = c->cert_state == 1 ? &c->cert : NULL,
                            .scope = have_scope ? &scope : NULL };
    mm_entry_t e;
    /* a mailbox holds no key: checks 1-7 (PROTOCOL.md 14) */
    rc = mm_entry_verify(buf, len, &ctx, c->txn->store->blind ? MM_VERIFY_BLIND : 0, &e);
    mm_scope_wipe(&scope);
    if (rc == MM_OK && (memcmp(e.author, key, 32) || memcmp(e.scope, key + 32, 32)
                        || e.seq != seq))
        rc = MM_ECORRUPT;
    if (rc) {
        fault(c, rc, key, seq, NULL);
        /* go on from the bytes as stored: the next entry is checked against them */
        c->head.seq = seq;
        mm_hash(c->head.id, buf, len);
        return;
    }
    c->head.seq = seq;
    memcpy(c->head.id, e.id, MM_HASH_BYTES);
}

static int count_feed(const uint8_t *author, const uint8_t *scope, const mm_head_t *h, void *arg)
{
    (*(uint64_t *) arg)++;
    return 0;
}

int mm_log_check(mm_txn_t *txn, mm_fault_fn fn, void *arg, uint64_t *nentries)
{
    check_t c = { .txn = txn, .fn = fn, .arg = arg };
    MDB_cursor *cur;
    MDB_val k, v;
    int rc = mdb_cursor_open(txn->txn, txn->store->entries, &cur);
    if (rc)
        return mm_store_rc(rc);
    uint64_t feeds = 0;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == MDB_SUCCESS;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size != 72) {
            fault(&c, MM_ECORRUPT, NULL, 0, "malformed key in the entries table");
            continue;
        }
        if (!c.in_feed || memcmp(c.feed, k.mv_data, 64) != 0)
            feeds++;
        check_entry(&c, k.mv_data, v.mv_data, v.mv_size);
    }
    mdb_cursor_close(cur);
    if (rc != MDB_NOTFOUND)
        fault(&c, mm_store_rc(rc), NULL, 0, "cannot read the entries table");
    end_feed(&c);

    uint64_t heads = 0;
    if (mm_log_feeds(txn, count_feed, &heads) != MM_OK || heads != feeds)
        fault(&c, MM_ECORRUPT, NULL, 0, "feed heads do not match the stored feeds");
    if (nentries)
        *nentries = c.count;
    return c.first;
}
