/*  ambition.c -- ambitions and whether each is still current. */
#include <stdlib.h>
#include <string.h>
#include "core/ambition.h"
#include "crypto/error.h"

static int mine(const mm_item_t *it, const uint8_t me[32])
{
    return mm_item_is(it, MM_T_AMBITION) && !memcmp(it->author, me, 32);
}

int mm_ambitions(const mm_items_t *items, const uint8_t me[32], mm_ambition_t **out, size_t *n)
{
    size_t na = 0, k = 0;
    *out = NULL;
    *n = 0;
    for (size_t i = 0; i < items->n; i++)
        na += mine(&items->v[i], me);
    if (!na)
        return MM_OK;
    mm_ambition_t *a = calloc(na, sizeof *a);
    if (!a)
        return MM_ENOMEM;
    for (size_t i = 0; i < items->n; i++)
        if (mine(&items->v[i], me))
            a[k++].it = &items->v[i];
    for (size_t i = 0; i < items->n; i++) {
        const mm_item_t *it = &items->v[i];
        const uint8_t *ref;
        if ((!mm_item_is(it, MM_T_AMBITION_DONE) && !mm_item_is(it, MM_T_AMBITION_DROP))
            || memcmp(it->author, me, 32) || !mm_item_ref(it, "ref", &ref))
            continue;
        /* every a[j].it is set: the same pure test counted and filled them */
        for (size_t j = 0; j < na; j++)
            /* NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker) */
            if (!a[j].closed && !memcmp(a[j].it->id, ref, 32))
                a[j].closed = it;
    }
    *out = a;
    *n = na;
    return MM_OK;
}

int mm_ambition_find(const mm_ambition_t *v, size_t n, const char *prefix, size_t *idx,
                     size_t max, size_t *nmatch)
{
    static const char digits[] = "0123456789abcdef";
    size_t len = strlen(prefix), hits = 0;
    *nmatch = 0;
    if (len == 0 || len > 64 || strspn(prefix, digits) != len)
        return MM_EINVAL;
    for (size_t i = 0; i < n; i++) {
        size_t k;
        for (k = 0; k < len; k++)
            if (digits[(k % 2 ? v[i].it->id[k / 2] : v[i].it->id[k / 2] >> 4) & 0xf]
                != prefix[k])
                break;
        if (k < len)
            continue;
        if (hits < max)
            idx[hits] = i;
        hits++;
    }
    *nmatch = hits;
    return hits == 0 ? MM_ENOTFOUND : hits > 1 ? MM_EAMBIG : MM_OK;
}
