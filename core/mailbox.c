/*  mailbox.c -- the rules of a mailbox, on both sides (PROTOCOL.md 14). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "core/mailbox.h"
#include "core/store_int.h"
#include "core/be64.h"
#include "core/cert.h"
#include "core/meta.h"
#include "core/mp.h"
#include "core/peer.h"
#include "core/revoke.h"
#include "core/scope.h"
#include "core/utf8.h"
#include "crypto/random.h"
#include "crypto/error.h"

#define LINK_VERSION 1
#define KEY_CTX      "mm link key v1"
#define LINK_REC_MAX 32

static int refuse(char *why, size_t cap, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int refuse(char *why, size_t cap, int rc, const char *fmt, ...)
{
    va_list ap;
    if (why && cap) {
        va_start(ap, fmt);
        vsnprintf(why, cap, fmt, ap);
        va_end(ap);
    }
    return rc;
}

void mm_mailbox_link_keys(const uint8_t secret[32], uint8_t pk[32], uint8_t sk[32])
{
    mm_code_keys(KEY_CTX, secret, pk, sk);
}

int mm_mailbox_code_encode(const mm_mailbox_code_t *c, char *out, size_t cap)
{
    return mm_code_encode(MM_MAILBOX_PREFIX, LINK_VERSION, c, out, cap);
}

int mm_mailbox_code_decode(const char *text, mm_mailbox_code_t *c)
{
    return mm_code_decode(MM_MAILBOX_PREFIX, LINK_VERSION, text, c);
}

/* ---- the links table: pending link codes ---- */

static int v4(mm_txn_t *txn)
{
    return txn->store->has_v4;
}

static int link_get(mm_txn_t *txn, const uint8_t pk[32], uint64_t *expires)
{
    if (!v4(txn))
        return MM_ENOTFOUND;
    MDB_val k = { 32, (void *) pk }, v;
    int rc = mdb_get(txn->txn, txn->store->links, &k, &v);
    if (rc)
        return mm_store_rc(rc);
    mm_mp_reader_t r;
    uint32_t n;
    uint64_t ver, created;
    mm_mp_reader_init(&r, v.mv_data, v.mv_size);
    if (mm_mp_array(&r, &n) || n != 3 || mm_mp_uint(&r, &ver) || ver != 1
        || mm_mp_uint(&r, &created) || mm_mp_uint(&r, expires) || mm_mp_left(&r))
        return MM_ECORRUPT;
    return MM_OK;
}

static int count_row(const uint8_t *k, size_t kl, const uint8_t *v, size_t vl, void *arg)
{
    (void) k; (void) kl; (void) v; (void) vl;
    (*(size_t *) arg)++;
    return 0;
}

static int linked(mm_txn_t *txn)
{
    const uint8_t *v;
    size_t n;
    return mm_meta_get(txn, "identity", &v, &n) == MM_OK;
}

int mm_mailbox_code_new(mm_home_t *home, uint64_t now, uint64_t ttl_ms,
                        char eps[][MM_ENDPOINT_MAX + 1], unsigned neps, mm_mailbox_code_t *out)
{
    mm_txn_t *txn = NULL;
    uint8_t pk[32], sk[32], rec[LINK_REC_MAX];
    size_t npending = 0;
    memset(out, 0, sizeof *out);
    if (!mm_home_is_mailbox(home))
        return MM_EROLE;
    if (ttl_ms < 1 || ttl_ms > MM_MAILBOX_LINK_TTL_MAX || neps < 1 || neps > MM_PEER_ENDPOINTS)
        return MM_EINVAL;
    int rc = mm_store_begin(mm_home_store(home), 1, &txn);
    if (rc)
        return rc;
    if (linked(txn))
        rc = MM_EEXIST;             /* a mailbox serves one person */
    else if ((rc = mm_store_walk(txn, txn->store->links, count_row, &npending)) == MM_OK
             && npending >= MM_MAILBOX_LINKS_MAX)
        rc = MM_EBUSY;
    if (rc)
        goto out;
    mm_random_bytes(out->secret, 32);
    memcpy(out->device, mm_keypair_pk(mm_home_device(home)), 32);
    out->expires = now + ttl_ms;
    out->nendpoints = neps;
    for (unsigned i = 0; i < neps; i++)
        snprintf(out->endpoints[i], sizeof out->endpoints[i], "%s", eps[i]);
    mm_mailbox_link_keys(out->secret, pk, sk);
    sodium_memzero(sk, sizeof sk);
    mm_mp_writer_t w;
    mm_mp_writer_init(&w, rec, sizeof rec);
    mm_mp_put_array(&w, 3);
    mm_mp_put_uint(&w, 1);
    mm_mp_put_uint(&w, now);
    mm_mp_put_uint(&w, out->expires);
    MDB_val k = { 32, pk }, v = { w.len, rec };
    if ((rc = mm_mp_writer_status(&w)) == MM_OK
        && (rc = mm_store_rc(mdb_put(txn->txn, txn->store->links, &k, &v, 0))) == MM_OK)
        rc = mm_txn_commit(&txn);
out:
    mm_txn_abort(&txn);
    if (rc)
        sodium_memzero(out, sizeof *out);
    return rc;
}

/* MM_OK if link_pk's code may be answered at now. */
static int pending(mm_txn_t *txn, const uint8_t link_pk[32], uint64_t now, char *why, size_t cap)
{
    uint64_t expires = 0;
    if (linked(txn))
        return refuse(why, cap, MM_EREFUSED, "this mailbox is linked already");
    int rc = link_get(txn, link_pk, &expires);
    if (rc == MM_ENOTFOUND)
        return refuse(why, cap, MM_EREFUSED, "this mailbox did not issue that link code");
    if (rc)
        return refuse(why, cap, rc, "cannot read the link codes");
    if (now > expires)
        return refuse(why, cap, MM_EREFUSED, "this link code has expired; make a new one "
                      "with 'mm mailbox code' on the mailbox");
    return MM_OK;
}

int mm_mailbox_link_pending(mm_home_t *home, const uint8_t link_pk[32], uint64_t now)
{
    mm_txn_t *txn;
    if (!mm_home_is_mailbox(home) || mm_store_begin(mm_home_store(home), 0, &txn) != MM_OK)
        return 0;
    int ok = pending(txn, link_pk, now, NULL, 0) == MM_OK;
    mm_txn_abort(&txn);
    return ok;
}

int mm_mailbox_consent(mm_home_t *home, const uint8_t link_pk[32], const uint8_t identity[32],
                       uint64_t now, uint8_t devsig[MM_SIG_BYTES], char *why, size_t cap)
{
    mm_txn_t *txn;
    int rc = mm_store_begin(mm_home_store(home), 0, &txn);
    if (rc)
        return refuse(why, cap, rc, "cannot read the store");
    rc = pending(txn, link_pk, now, why, cap);
    mm_txn_abort(&txn);
    if (rc == MM_OK && (rc = mm_cert_request(mm_home_device(home), identity, devsig)))
        refuse(why, cap, rc, "cannot sign the consent");
    return rc;
}

static int drop_links(mm_txn_t *txn)
{
    return mm_store_rc(mdb_drop(txn->txn, txn->store->links, 0));
}

int mm_mailbox_accept_cert(mm_home_t *home, const uint8_t link_pk[32],
                           const uint8_t identity[32], const uint8_t *cert, size_t certlen,
                           const char *name, uint64_t now, char *why, size_t cap)
{
    mm_txn_t *txn = NULL;
    mm_cert_t c;
    uint8_t self[32];
    size_t nlen = strlen(name);
    if (nlen == 0 || nlen > MM_NAME_MAX || !mm_utf8_valid(name, nlen))
        return refuse(why, cap, MM_EINVAL, "the owner's name is not 1 to %d bytes of UTF-8",
                      MM_NAME_MAX);
    int rc = mm_cert_parse(cert, certlen, &c);
    if (rc == MM_OK && (c.version != 2 || c.flags != MM_CERT_MAILBOX
                        || memcmp(c.identity, identity, 32)
                        || memcmp(c.device, mm_keypair_pk(mm_home_device(home)), 32)))
        rc = MM_EBADCERT;
    if (rc)
        return refuse(why, cap, rc == MM_EBADSIG ? MM_EBADSIG : MM_EBADCERT,
                      "the certificate is not this mailbox's, as a mailbox, by the identity "
                      "that asked");
    if ((rc = mm_store_begin(mm_home_store(home), 1, &txn)))
        return refuse(why, cap, rc, "cannot open the store");
    mm_scope_self_id(self, identity);
    if ((rc = pending(txn, link_pk, now, why, cap)) == MM_OK
        && ((rc = mm_cert_put(txn, cert, certlen, NULL))
            || (rc = mm_meta_put(txn, "identity", identity, 32))
            || (rc = mm_meta_put(txn, "self", self, 32))
            || (rc = mm_meta_put(txn, "name", name, nlen))
            || (rc = drop_links(txn))
            || (rc = mm_txn_commit(&txn))))
        refuse(why, cap, rc, "cannot store the link: %s", mm_strerror(rc));
    mm_txn_abort(&txn);
    if (rc == MM_OK && (rc = mm_home_refresh(home)))
        refuse(why, cap, rc, "linked, but cannot read the home again: %s", mm_strerror(rc));
    return rc;
}

/* ---- what the owner told ---- */

void mm_mailbox_told_free(mm_mailbox_told_t *t)
{
    free(t->id);
    free(t->nmembers);
    free(t->members);
    free(t->blocked);
    memset(t, 0, sizeof *t);
}

static int put_blocked(mm_txn_t *txn, const mm_mailbox_told_t *t)
{
    int rc = mm_store_rc(mdb_drop(txn->txn, txn->store->blocked, 0));
    for (size_t i = 0; i < t->nblocked && rc == MM_OK; i++) {
        MDB_val k = { 32, t->blocked[i] }, v = { 0, "" };
        rc = mm_store_rc(mdb_put(txn->txn, txn->store->blocked, &k, &v, 0));
    }
    return rc;
}

int mm_mailbox_learn(mm_txn_t *txn, const uint8_t owner[32], const mm_mailbox_told_t *t,
                     uint64_t now)
{
    if (!txn->store->blind || !v4(txn) || !linked(txn))
        return MM_EROLE;
    int rc = MM_OK;
    for (size_t i = 0; i < t->n && rc == MM_OK; i++) {
        mm_scope_t s, held;
        memset(&s, 0, sizeof s);
        memcpy(s.id, t->id[i], 32);
        s.kind = MM_SCOPE_BLIND;
        s.nkeys = 0;
        s.nmembers = t->nmembers[i];
        s.created = now;
        if (s.nmembers < 1 || s.nmembers > MM_SCOPE_MEMBERS_MAX)
            return MM_ESCOPE;
        memcpy(s.members, t->members[i], sizeof s.members);
        if (!mm_scope_has_member(&s, owner))
            return MM_ESCOPE;       /* a mailbox serves its owner's scopes only */
        rc = mm_scope_get(txn, s.id, &held);
        if (rc == MM_ENOTFOUND)
            rc = mm_scope_put(txn, &s);
        else if (rc == MM_OK) {
            /* a scope's audience never changes: the same members, in any order */
            int same = held.nmembers == s.nmembers;
            for (unsigned m = 0; same && m < s.nmembers; m++)
                same = mm_scope_has_member(&held, s.members[m]);
            rc = same ? MM_OK : MM_EEXIST;
        }
        mm_scope_wipe(&held);
    }
    return rc ? rc : put_blocked(txn, t);
}

typedef struct {
    const uint8_t *who;
    int found;
} member_t;

static int is_member(const mm_scope_t *s, void *arg)
{
    member_t *m = arg;
    if (s->kind == MM_SCOPE_BLIND && mm_scope_has_member(s, m->who))
        m->found = 1;
    return m->found;
}

int mm_mailbox_member(mm_txn_t *txn, const uint8_t identity[32], int *blocked)
{
    member_t m = { identity, 0 };
    *blocked = 0;
    int rc = mm_scope_foreach(txn, is_member, &m);
    if (rc < 0)
        return rc;
    if (!m.found)
        return MM_ENOTFOUND;
    if (v4(txn)) {
        MDB_val k = { 32, (void *) identity }, v;
        *blocked = mdb_get(txn->txn, txn->store->blocked, &k, &v) == 0;
    }
    return MM_OK;
}

typedef struct {
    uint8_t (*out)[32];
    size_t max, n;
} blocked_walk_t;

static int add_blocked(const uint8_t *k, size_t kl, const uint8_t *v, size_t vl, void *arg)
{
    blocked_walk_t *b = arg;
    (void) v; (void) vl;
    if (kl == 32 && b->n < b->max)
        memcpy(b->out[b->n++], k, 32);
    return 0;
}

int mm_mailbox_blocked(mm_txn_t *txn, uint8_t (*out)[32], size_t max, size_t *n)
{
    blocked_walk_t b = { out, max, 0 };
    *n = 0;
    if (!v4(txn))
        return MM_OK;
    int rc = mm_store_walk(txn, txn->store->blocked, add_blocked, &b);
    *n = b.n;
    return rc;
}

/* ---- the quota ---- */

int mm_mailbox_usage(mm_txn_t *txn, const uint8_t identity[32], uint64_t *bytes)
{
    *bytes = 0;
    if (!v4(txn))
        return MM_OK;
    MDB_val k = { 32, (void *) identity }, v;
    int rc = mdb_get(txn->txn, txn->store->usage, &k, &v);
    if (rc == MDB_NOTFOUND)
        return MM_OK;
    if (rc)
        return mm_store_rc(rc);
    if (v.mv_size != 8)
        return MM_ECORRUPT;
    *bytes = mm_be64_get(v.mv_data);
    return MM_OK;
}

int mm_mailbox_quota(mm_txn_t *txn, uint64_t *quota)
{
    const uint8_t *v;
    size_t n;
    int rc = mm_meta_get(txn, "quota", &v, &n);
    if (rc)
        return rc == MM_ENOTFOUND ? MM_EROLE : rc;
    if (n != 8)
        return MM_ECORRUPT;
    *quota = mm_be64_get(v);
    return MM_OK;
}

int mm_mailbox_charge(mm_txn_t *txn, const uint8_t identity[32], uint64_t bytes)
{
    uint64_t used, quota;
    uint8_t b[8];
    /* read in the storing transaction: a quota raised meanwhile counts */
    int rc = mm_mailbox_usage(txn, identity, &used);
    if (rc == MM_OK)
        rc = mm_mailbox_quota(txn, &quota);
    if (rc)
        return rc;
    if (used + bytes < used || used + bytes > quota)
        return MM_EQUOTA;
    mm_be64_put(b, used + bytes);
    MDB_val k = { 32, (void *) identity }, v = { 8, b };
    return mm_store_rc(mdb_put(txn->txn, txn->store->usage, &k, &v, 0));
}

int mm_mailbox_set_quota(mm_txn_t *txn, uint64_t quota)
{
    uint8_t b[8];
    if (!txn->store->blind)
        return MM_EROLE;
    if (quota == 0)
        return MM_EINVAL;
    mm_be64_put(b, quota);
    return mm_meta_put(txn, "quota", b, 8);
}

int mm_mailbox_unlinked(mm_home_t *home)
{
    mm_txn_t *txn;
    int revoked = 0;
    if (!mm_home_is_mailbox(home) || mm_store_begin(mm_home_store(home), 0, &txn) != MM_OK)
        return 0;
    if (mm_revoke_state(txn, mm_keypair_pk(mm_home_device(home)), mm_home_identity_pk(home),
                        NULL, &revoked, NULL) != MM_OK)
        revoked = 0;
    mm_txn_abort(&txn);
    return revoked;
}

/* ---- the owner's side ---- */

static int grow(void **v, size_t n, size_t size)
{
    void *p = realloc(*v, (n ? n : 1) * size);
    if (!p)
        return MM_ENOMEM;
    *v = p;
    return MM_OK;
}

static int tell_scope(const mm_scope_t *s, void *arg)
{
    mm_mailbox_told_t *t = arg;
    if (s->kind != MM_SCOPE_PAIR || t->n >= MM_MAILBOX_SCOPES_MAX)
        return 0;
    if (grow((void **) &t->id, t->n + 1, sizeof *t->id)
        || grow((void **) &t->nmembers, t->n + 1, sizeof *t->nmembers)
        || grow((void **) &t->members, t->n + 1, sizeof *t->members))
        return MM_ENOMEM;
    memcpy(t->id[t->n], s->id, 32);
    t->nmembers[t->n] = s->nmembers;
    memset(t->members[t->n], 0, sizeof t->members[t->n]);
    memcpy(t->members[t->n], s->members, (size_t) s->nmembers * 32);
    t->n++;
    return 0;
}

static int tell_blocked(const mm_peer_t *p, void *arg)
{
    mm_mailbox_told_t *t = arg;
    if (!p->blocked || t->nblocked >= MM_MAILBOX_BLOCKED_MAX)
        return 0;
    if (grow((void **) &t->blocked, t->nblocked + 1, sizeof *t->blocked))
        return MM_ENOMEM;
    memcpy(t->blocked[t->nblocked++], p->identity, 32);
    return 0;
}

int mm_mailbox_tell(mm_txn_t *txn, mm_mailbox_told_t *out)
{
    memset(out, 0, sizeof *out);
    int rc = mm_scope_foreach(txn, tell_scope, out);
    if (rc == MM_OK)
        rc = mm_peer_foreach(txn, tell_blocked, out);
    if (rc)
        mm_mailbox_told_free(out);
    return rc;
}

int mm_mailbox_certify(const mm_keypair_t *identity, const uint8_t device[32],
                       const uint8_t devsig[MM_SIG_BYTES], const char *name, uint64_t now,
                       uint8_t *out, size_t *outlen)
{
    return mm_cert_complete(identity, device, now, name, MM_CERT_MAILBOX, devsig, out,
                            MM_CERT_MAX, outlen);
}

int mm_mailbox_link_store(mm_home_t *home, const uint8_t *cert, size_t certlen)
{
    mm_txn_t *txn;
    int rc = mm_store_begin(mm_home_store(home), 1, &txn);
    if (rc == MM_OK && (rc = mm_cert_put(txn, cert, certlen, NULL)) == MM_OK)
        rc = mm_txn_commit(&txn);
    mm_txn_abort(&txn);
    return rc;
}

int mm_mailbox_unlink(mm_home_t *home, const uint8_t device[32], uint64_t now)
{
    mm_keypair_t *idk = NULL;
    mm_txn_t *txn = NULL;
    mm_cert_t c;
    int revoked = 0;
    int rc = mm_home_identity_key(home, &idk);
    if (rc)
        return rc == MM_ENOTFOUND ? MM_ENOIDENTITY : rc;
    if ((rc = mm_store_begin(mm_home_store(home), 1, &txn)))
        goto out;
    rc = mm_cert_get(txn, device, &c, NULL, NULL);
    if (rc == MM_OK && (!(c.flags & MM_CERT_MAILBOX)
                        || memcmp(c.identity, mm_home_identity_pk(home), 32)))
        rc = MM_ENOTFOUND;
    if (rc == MM_OK)
        rc = mm_revoke_state(txn, device, c.identity, NULL, &revoked, NULL);
    if (rc == MM_OK && revoked)
        rc = MM_EEXIST;
    /* it never wrote (empty lasts) and never held a key: no rekey */
    if (rc == MM_OK && (rc = mm_revoke_device(txn, idk, device, now, NULL)) == MM_OK)
        rc = mm_txn_commit(&txn);
out:
    mm_txn_abort(&txn);
    mm_keypair_destroy(&idk);
    return rc;
}
