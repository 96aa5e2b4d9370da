/*  meta.h -- the store's "meta" table: a few named values of the home.
 *
 *  Key a short ASCII name, value up to MM_META_VALUE_MAX bytes.  The names
 *  in use (PROTOCOL.md, "On disk"): "format" (store.c), "identity",
 *  "device", "self", "name" (home.c), "arrivals" (qindex.c), "forked" (fork.c),
 *  "purged-" + 64 hex digits of an identity (purge.c).
 */
#ifndef MM_META_H
#define MM_META_H

#include <stddef.h>
#include "crypto/error.h"
#include <stdint.h>
#include "core/store.h"

#define MM_META_VALUE_MAX 1024

/* The value of key.  *val points into the map, valid until the txn ends.
 * MM_OK, MM_ENOTFOUND. */
int mm_meta_get(mm_txn_t *txn, const char *key, const uint8_t **val, size_t *len) MM_NODISCARD;
/* Set key to val[0..len) (write txn), replacing any value.
 * MM_OK, MM_EFULL, MM_EIO, MM_ETOOBIG (len > MM_META_VALUE_MAX). */
int mm_meta_put(mm_txn_t *txn, const char *key, const void *val, size_t len) MM_NODISCARD;

#endif
