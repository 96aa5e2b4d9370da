/*  mm_inspect.c -- what a home's store holds, counted (a test tool).
 *
 *  mm_inspect HOME
 *      Prints one line per kind of stored row, for the integration tests
 *      that check what an attack or a purge left behind:
 *        certs IDENTITY_CODE N      certificates of that identity (one line each)
 *        revokes N                  revocation statements
 *        endpoints N                endpoints statements
 *        peers N                    peer records
 *        scope HEX FEEDS ENTRIES    each scope: its feeds and entries (heads' seqs)
 *        forks N                    recorded forks
 *      Exit 0; 1 if the home cannot be read; 2 on a usage error.
 */
#include <stdio.h>
#include <string.h>
#include "core/cert.h"
#include "core/endpoint.h"
#include "core/fork.h"
#include "core/home.h"
#include "core/log.h"
#include "core/peer.h"
#include "core/revoke.h"
#include "core/scope.h"
#include "crypto/encoding.h"
#include "crypto/error.h"
#include "crypto/idcode.h"

#define IDS_MAX 4096

typedef struct {
    uint8_t  id[IDS_MAX][32];
    uint64_t n[IDS_MAX], m[IDS_MAX];
    size_t   count;
} tally_t;

static void tally(tally_t *t, const uint8_t id[32], uint64_t add)
{
    for (size_t i = 0; i < t->count; i++)
        if (!memcmp(t->id[i], id, 32)) {
            t->n[i]++;
            t->m[i] += add;
            return;
        }
    if (t->count < IDS_MAX) {
        memcpy(t->id[t->count], id, 32);
        t->n[t->count] = 1;
        t->m[t->count++] = add;
    }
}

static int on_cert(const mm_cert_t *c, const uint8_t *raw, size_t len, void *arg)
{
    (void) raw;
    (void) len;
    tally(arg, c->identity, 0);
    return 0;
}

static int on_revoke(const mm_revoke_t *r, const uint8_t *raw, size_t len, void *arg)
{
    (void) r;
    (void) raw;
    (void) len;
    ++*(unsigned long *) arg;
    return 0;
}

static int on_endpoint(const mm_endpoint_t *e, const uint8_t *raw, size_t len, void *arg)
{
    (void) e;
    (void) raw;
    (void) len;
    ++*(unsigned long *) arg;
    return 0;
}

static int on_peer(const mm_peer_t *p, void *arg)
{
    (void) p;
    ++*(unsigned long *) arg;
    return 0;
}

static int on_scope(const mm_scope_t *s, void *arg)
{
    tally_t *t = arg;
    if (t->count < IDS_MAX) {
        memcpy(t->id[t->count], s->id, 32);
        t->n[t->count] = t->m[t->count] = 0;
        t->count++;
    }
    return 0;
}

static int on_feed(const uint8_t author[32], const uint8_t scope[32], const mm_head_t *head,
                   void *arg)
{
    (void) author;
    tally(arg, scope, head->seq);
    return 0;
}

static tally_t certs, scopes, feeds;

int main(int argc, char **argv)
{
    mm_home_t *home = NULL;
    mm_txn_t *txn = NULL;
    unsigned long nrev = 0, nend = 0, npeers = 0;
    uint64_t nforks = 0;
    if (argc != 2) {
        fprintf(stderr, "usage: mm_inspect HOME\n");
        return 2;
    }
    int rc = mm_crypto_init();
    if (rc == MM_OK && (rc = mm_home_open(argv[1], &home)) == MM_OK
        && (rc = mm_store_begin(mm_home_store(home), 0, &txn)) == MM_OK
        && (rc = mm_cert_foreach(txn, on_cert, &certs)) == MM_OK
        && (rc = mm_revoke_foreach(txn, on_revoke, &nrev)) == MM_OK
        && (rc = mm_endpoint_foreach(txn, on_endpoint, &nend)) == MM_OK
        && (rc = mm_peer_foreach(txn, on_peer, &npeers)) == MM_OK
        && (rc = mm_scope_foreach(txn, on_scope, &scopes)) == MM_OK
        && (rc = mm_log_feeds(txn, on_feed, &feeds)) == MM_OK)
        rc = mm_fork_count(txn, &nforks);
    if (rc) {
        fprintf(stderr, "mm_inspect: %s: %s\n", argv[1], mm_strerror(rc));
        mm_txn_abort(&txn);
        mm_home_close(&home);
        return 1;
    }
    for (size_t i = 0; i < certs.count; i++) {
        char code[MM_IDCODE_LEN + 1];
        mm_idcode_encode(code, MM_IDCODE_IDENTITY, certs.id[i]);
        printf("certs %s %llu\n", code, (unsigned long long) certs.n[i]);
    }
    printf("revokes %lu\nendpoints %lu\npeers %lu\n", nrev, nend, npeers);
    /* every feed's scope, known or not (a feed without its scope is a fault) */
    for (size_t i = 0; i < feeds.count; i++) {
        size_t k;
        for (k = 0; k < scopes.count && memcmp(scopes.id[k], feeds.id[i], 32); k++)
            ;
        if (k == scopes.count) {
            if (k == IDS_MAX)
                break;
            memcpy(scopes.id[k], feeds.id[i], 32);
            scopes.count++;
        }
        scopes.n[k] = feeds.n[i];
        scopes.m[k] = feeds.m[i];
    }
    for (size_t i = 0; i < scopes.count; i++) {
        char hex[65];
        mm_encoding_hex(hex, scopes.id[i], 32);
        printf("scope %s %llu %llu\n", hex, (unsigned long long) scopes.n[i],
               (unsigned long long) scopes.m[i]);
    }
    printf("forks %llu\n", (unsigned long long) nforks);
    mm_txn_abort(&txn);
    mm_home_close(&home);
    return 0;
}
