/*  item.h -- the decrypted entries of one scope, as engagement code reads them.
 *
 *  Every engagement view (questions, ambitions, the budget, notes) starts
 *  from the items of one scope: each entry opened under the scope key, with
 *  the identity (not the device) of its author.  Loading reads the feeds of
 *  that scope only and decrypts nothing of other scopes.
 */
#ifndef MM_ITEM_H
#define MM_ITEM_H

#include <stddef.h>
#include "crypto/error.h"
#include <stdint.h>
#include "core/store.h"
#include "core/body.h"
#include "crypto/sign.h"

/* One decrypted entry of a scope. */
typedef struct {
    uint8_t  id[32];
    uint8_t  author[32];            /* identity of the writing device */
    uint8_t  device[32];            /* the writing device */
    uint64_t seq;                   /* its position in the device's feed */
    uint64_t time;
    char     type[MM_BODY_TYPE_MAX + 1];
    uint8_t *pt;                    /* plaintext body (owned) */
    size_t   ptlen;
} mm_item_t;

typedef struct {
    mm_item_t *v;
    size_t     n, cap;
} mm_items_t;

/* Every engagement body type: what mm_items_load keeps by default. */
extern const char *const MM_ITEM_TYPES[];

/* The entries of scope in txn whose type is in the NULL-terminated list
 * types (NULL: every type), decrypted, ordered by (time, id) except that
 * each device's entries stay in feed (seq) order whatever their times
 * (PROTOCOL.md 5.3: "latest" never follows a clock that jumped back).  Entries of
 * other types are dropped as they are read, so memory grows with what is
 * kept.  Free with mm_items_free (also on failure).  MM_OK; MM_ENOTFOUND
 * (unknown scope); MM_ENOMEM; MM_ECORRUPT (an entry that does not open). */
int  mm_items_load_txn(mm_txn_t *txn, const uint8_t scope[32], const char *const *types,
                       mm_items_t *out) MM_NODISCARD;
/* The same in a read transaction of its own. */
int  mm_items_load(mm_store_t *store, const uint8_t scope[32], const char *const *types,
                   mm_items_t *out) MM_NODISCARD;
void mm_items_free(mm_items_t *items);

/* 1 if it has type t. */
int  mm_item_is(const mm_item_t *it, const char *t);
/* A string field copied into out (NUL-terminated, cut at cap-1), or "". */
const char *mm_item_str(const mm_item_t *it, const char *key, char *out, size_t cap);
/* A 32-byte reference field: 1 and *ref set, or 0. */
int  mm_item_ref(const mm_item_t *it, const char *key, const uint8_t **ref);

/* Seal a body of type with fields as the next entry of device's feed in
 * scope and store it in txn.  time 0: now.  id_out may be NULL.  MM_OK;
 * MM_ETOOBIG; MM_ENOMEM; mm_log_append's errors. */
int  mm_item_append(mm_txn_t *txn, const mm_keypair_t *device, const uint8_t scope[32],
                    const char *type, const mm_field_t *fields, size_t n, uint64_t time,
                    uint8_t id_out[32]) MM_NODISCARD;

/* (time, id) order, for qsort over mm_item_t. */
int  mm_item_cmp_time(const void *a, const void *b);

#endif
