/*  ambition.h -- a person's career ambitions, derived from the self scope.
 *
 *  An "ambition" entry states one (near or long term); "ambition-done" and
 *  "ambition-drop" close it by ref.  History is kept: nothing is deleted.
 */
#ifndef MM_AMBITION_H
#define MM_AMBITION_H

#include <stddef.h>
#include "crypto/error.h"
#include <stdint.h>
#include "core/item.h"

typedef struct {
    const mm_item_t *it;
    const mm_item_t *closed;        /* its done/drop entry, or NULL: current */
} mm_ambition_t;

/* Every ambition me wrote among self_items, oldest first, each with the
 * entry that closed it.  *out is malloc'd (free it), pointing into
 * self_items.  MM_OK or MM_ENOMEM. */
int mm_ambitions(const mm_items_t *self_items, const uint8_t me[32],
                 mm_ambition_t **out, size_t *n) MM_NODISCARD;

/* The ambitions among v[0..n) whose entry ids start with the lower-case
 * hex digits of prefix (1..64): idx[0..min(*nmatch, max)) get the first
 * max of their indexes, in v's order, and *nmatch counts them all.
 * MM_OK (exactly one); MM_ENOTFOUND (none); MM_EAMBIG (more than one);
 * MM_EINVAL (prefix not 1..64 lower-case hex digits). */
int mm_ambition_find(const mm_ambition_t *v, size_t n, const char *prefix, size_t *idx,
                     size_t max, size_t *nmatch) MM_NODISCARD;

#endif
