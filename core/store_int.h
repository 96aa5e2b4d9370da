/*  store_int.h -- what the core modules share about the LMDB store.
 *
 *  Private to core/: nothing outside core/ includes lmdb.h or this file
 *  (.ci/layers checks).  Included by store.c, which opens the environment,
 *  by each module that keeps a table beside its records -- log.c (entries,
 *  heads), cert.c (certs, curves), scope.c (scopes), meta.c (meta), peer.c
 *  (peers), invite.c (invites), mailbox.c (usage, links, blocked), qindex.c (questions), revoke.c (revokes), endpoint.c (endpoints), device.c (seen), view.c (views) -- and by check.c,
 *  which walks the entries to verify a whole store. */
#ifndef MM_STORE_INT_H
#define MM_STORE_INT_H

#include <lmdb.h>
#include "crypto/error.h"
#include "core/store.h"
#include "crypto/sign.h"

struct mm_store {
    MDB_env *env;
    void    *map;                   /* where data.mdb is mapped, for mm_store_trim */
    size_t   maplen;
    int      map_known;             /* looked up (on first trim, not at every open) */
    size_t   map_max;               /* the map grows up to this (store.h) */
    unsigned ntxn;                  /* our open transactions: no remapping while > 0 */
    int      grow;                  /* a write txn failed: grow before the next one */
    int      dead;                  /* a remap failed: LMDB has no map any more */
    MDB_dbi entries, heads, certs, scopes, meta, peers, invites, questions;
    MDB_dbi curves;                 /* valid only if has_curves */
    int     has_curves;             /* 0: a format-1 store opened read-only */
    /* format 3 (devices): valid only if has_v3 (0: an older store opened
     * read-only; treat these tables as empty) */
    MDB_dbi revokes;                /* device (32) || H(revocation) (32) -> revocation */
    MDB_dbi endpoints;              /* device (32) -> endpoints statement */
    MDB_dbi forks;                  /* author (32) || scope (32) -> fork proof */
    MDB_dbi seen;                   /* device (32) -> last complete session (8) */
    MDB_dbi catchup;                /* identity (32) -> empty: still to sync with (catchup.h) */
    int     has_v3;
    /* format 4 (mailboxes): valid only if has_v4 */
    MDB_dbi usage;                  /* identity (32) -> bytes stored by its devices (8) */
    MDB_dbi links;                  /* link key (32) -> pending link record (mailbox.h) */
    MDB_dbi blocked;                /* identity (32) -> empty: blocked by a mailbox's owner */
    int     has_v4;
    MDB_dbi views;                  /* format 4: the index of engagement items (view.h) */
    int     has_views;              /* 0: an older store opened read-only; views read the
                                       log instead (item.h) */
    /* a mailbox's store (mm_store_set_mailbox): entries are verified blind
     * (checks 1-7) and charged to their author's identity, up to its quota */
    int      blind;
    unsigned migrated_from;         /* the format this open migrated from, or 0 */
    /* the home this store is, once mm_store_set_home was called: what the
     * store path needs to apply rekeys and self-scope entries (log.c) */
    const mm_keypair_t *device;     /* not owned; NULL: apply nothing */
    uint8_t  identity[32];
};

struct mm_txn {
    mm_store_t *store;
    MDB_txn *txn;
    int write;
    int stored;                     /* an entry was stored: mm_txn_commit records
                                       that the views index holds it (view.h) */
};

/* Call fn for every row of table dbi in key order; its non-zero value stops
 * the walk and is returned.  MM_OK; store errors. */
int mm_store_walk(mm_txn_t *txn, MDB_dbi dbi, mm_row_fn fn, void *arg) MM_NODISCARD;

/* Delete every row of table dbi whose key starts with prefix[0..plen) (all
 * its duplicates, in a sorted-duplicates table); *n (may be NULL) gets how
 * many keys.  MM_OK; store errors. */
int mm_store_del_prefix(mm_txn_t *txn, MDB_dbi dbi, const void *prefix, size_t plen,
                        size_t *n) MM_NODISCARD;

/* Delete every row of table dbi (not a sorted-duplicates one; keys of at
 * most 96 bytes) for which match returns 1 (0: keep; negative: stop, and
 * that error is returned, nothing deleted); *n (may be NULL) gets how many.
 * MM_OK; MM_ENOMEM; store errors. */
int mm_store_del_if(mm_txn_t *txn, MDB_dbi dbi, mm_row_fn match, void *arg,
                    size_t *n) MM_NODISCARD;

/* Translate an LMDB (or errno) code into an MM_E code. */
int mm_store_rc(int mdb_rc) MM_NODISCARD;

#endif
