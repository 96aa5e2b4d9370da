/*  target.c -- the list of every sync target (target.h). */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include "core/target.h"
#include "core/device.h"

int mm_targets_add(mm_targets_t *t, int kind, const mm_peer_t *p)
{
    const uint8_t *id;
    mm_target_t *v;
    if (kind == MM_TARGET_PEER)
        id = p->identity;
    else if (kind == MM_TARGET_OWN)
        id = p->device;
    else
        return MM_EINVAL;
    for (size_t i = 0; i < t->n; i++)
        if (t->v[i].kind == kind && memcmp(t->v[i].id, id, 32) == 0)
            return MM_OK;
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 8;
        if (!(v = realloc(t->v, cap * sizeof *v)))
            return MM_ENOMEM;
        t->v = v;
        t->cap = cap;
    }
    v = &t->v[t->n++];
    v->kind = kind;
    memcpy(v->id, id, 32);
    v->p = *p;
    return MM_OK;
}

void mm_targets_free(mm_targets_t *t)
{
    if (!t)
        return;
    free(t->v);
    memset(t, 0, sizeof *t);
}

typedef struct {
    mm_txn_t      *txn;
    mm_targets_t  *t;
    const uint8_t *me, *device;
} walk_t;

static int on_peer(const mm_peer_t *p, void *arg)
{
    walk_t *w = arg;
    /* an address in the record, or one a device of theirs announced */
    if (p->nendpoints == 0 && !mm_device_announced(w->txn, p->identity))
        return 0;
    if (p->blocked) {
        w->t->blocked++;
        return 0;
    }
    return mm_targets_add(w->t, MM_TARGET_PEER, p) == MM_OK ? 0 : MM_ENOMEM;
}

static int on_own(const mm_device_t *d, void *arg)
{
    walk_t *w = arg;
    mm_peer_t p;
    if (d->revoked || !d->has_endpoints || d->endpoints.n == 0
        || !memcmp(d->cert.device, w->device, 32))
        return 0;
    memset(&p, 0, sizeof p);
    memcpy(p.identity, w->me, 32);
    memcpy(p.device, d->cert.device, 32);
    snprintf(p.petname, sizeof p.petname, "%s", d->cert.name);
    return mm_targets_add(w->t, MM_TARGET_OWN, &p) == MM_OK ? 0 : MM_ENOMEM;
}

int mm_targets_all(mm_txn_t *txn, const uint8_t me[32], const uint8_t device[32],
                   mm_targets_t *t)
{
    walk_t w = { txn, t, me, device };
    int rc = mm_peer_foreach(txn, on_peer, &w);
    if (rc == MM_OK)
        rc = mm_device_foreach(txn, me, on_own, &w);
    return rc;
}
