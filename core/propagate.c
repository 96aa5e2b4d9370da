/*  propagate.c -- scopes and peers, carried to own devices in the self
 *  scope (PROTOCOL.md 5.4). */
#include <stdio.h>
#include <string.h>
#include <sodium.h>
#include "core/propagate.h"
#include "core/purge.h"
#include "core/body.h"
#include "core/cert.h"
#include "core/log.h"
#include "core/mp.h"
#include "core/peer.h"

#define SCOPE_BODY_MAX (MM_SCOPE_RECORD_MAX + 128)
#define PEER_BODY_MAX  512

/* The self scope of the identity that certified device. */
static int self_of(mm_txn_t *txn, const mm_keypair_t *device, uint8_t self[32])
{
    mm_cert_t c;
    int rc = mm_cert_get(txn, mm_keypair_pk(device), &c, NULL, NULL);
    if (rc)
        return rc == MM_ENOTFOUND ? MM_ENOCERT : rc;
    mm_scope_self_id(self, c.identity);
    return MM_OK;
}

/* An array of n bin 32 into w. */
static void put_ids(mm_mp_writer_t *w, const uint8_t (*ids)[32], unsigned n)
{
    mm_mp_put_array(w, n);
    for (unsigned i = 0; i < n; i++)
        mm_mp_put_bin(w, ids[i], 32);
}

int mm_propagate_scope(mm_txn_t *txn, const mm_keypair_t *device, const uint8_t scope_id[32],
                       uint64_t now)
{
    uint8_t self[32], keys[MM_SCOPE_KEYS_MAX * 34 + 8], members[MM_SCOPE_MEMBERS_MAX * 34 + 8];
    uint8_t body[SCOPE_BODY_MAX];
    size_t bodylen = 0;
    mm_mp_writer_t wk, wm;
    mm_scope_t s;
    int rc = self_of(txn, device, self);
    if (rc == MM_OK)
        rc = mm_scope_get(txn, scope_id, &s);
    if (rc)
        return rc;
    mm_mp_writer_init(&wk, keys, sizeof keys);
    put_ids(&wk, (const uint8_t (*)[32]) s.keys, s.nkeys);
    mm_mp_writer_init(&wm, members, sizeof members);
    put_ids(&wm, (const uint8_t (*)[32]) s.members, s.nmembers);
    mm_field_t f[] = {
        { "created", MM_F_UINT, NULL, 0, s.created },
        { "id", MM_F_BIN, scope_id, 32, 0 },
        { "keys", MM_F_RAW, keys, wk.len, 0 },
        { "kind", MM_F_UINT, NULL, 0, s.kind },
        { "members", MM_F_RAW, members, wm.len, 0 },
    };
    if ((rc = mm_mp_writer_status(&wk)) == MM_OK && (rc = mm_mp_writer_status(&wm)) == MM_OK
        && (rc = mm_body_build(body, sizeof body, &bodylen, MM_T_SCOPE, f, 5)) == MM_OK)
        rc = mm_log_append(txn, device, self, now, body, bodylen, NULL);
    mm_scope_wipe(&s);
    sodium_memzero(keys, sizeof keys);
    sodium_memzero(body, sizeof body);
    return rc;
}

int mm_propagate_peer(mm_txn_t *txn, const mm_keypair_t *device, const uint8_t identity[32],
                      uint64_t now)
{
    uint8_t self[32], body[PEER_BODY_MAX];
    size_t bodylen;
    mm_peer_t p;
    int rc = self_of(txn, device, self);
    if (rc == MM_OK)
        rc = mm_peer_get(txn, identity, &p);
    if (rc)
        return rc;
    const char *role = p.role == MM_ROLE_MENTOR ? "mentor" : "mentee";
    mm_field_t f[] = {
        { "added", MM_F_UINT, NULL, 0, p.added },
        { "blocked", MM_F_BOOL, NULL, 0, (uint64_t) (p.blocked != 0) },
        { "identity", MM_F_BIN, identity, 32, 0 },
        { "name", MM_F_STR, p.name, strlen(p.name), 0 },
        { "petname", MM_F_STR, p.petname, strlen(p.petname), 0 },
        { "role", MM_F_STR, role, strlen(role), 0 },
        { "scope", MM_F_BIN, p.scope, 32, 0 },
    };
    if ((rc = mm_body_build(body, sizeof body, &bodylen, MM_T_PEER, f, 7)) == MM_OK)
        rc = mm_log_append(txn, device, self, now, body, bodylen, NULL);
    return rc;
}

/* A `peer-rm` body, with `purge` (the relationship scope) if purge is set. */
static int peer_rm(mm_txn_t *txn, const mm_keypair_t *device, const uint8_t identity[32],
                   const uint8_t *purge, uint64_t now)
{
    uint8_t self[32], body[128];
    size_t bodylen;
    int rc = self_of(txn, device, self);
    if (rc)
        return rc;
    mm_field_t f[] = {
        { "identity", MM_F_BIN, identity, 32, 0 },
        { "purge", MM_F_BIN, purge, 32, 0 },
    };
    if ((rc = mm_body_build(body, sizeof body, &bodylen, MM_T_PEER_RM, f, purge ? 2 : 1))
        == MM_OK)
        rc = mm_log_append(txn, device, self, now, body, bodylen, NULL);
    return rc;
}

int mm_propagate_peer_rm(mm_txn_t *txn, const mm_keypair_t *device,
                         const uint8_t identity[32], uint64_t now)
{
    return peer_rm(txn, device, identity, NULL, now);
}

int mm_propagate_peer_purge(mm_txn_t *txn, const mm_keypair_t *device,
                            const uint8_t identity[32], uint64_t now, mm_purge_t *out)
{
    mm_peer_t p;
    int rc = mm_peer_get(txn, identity, &p);
    if (rc == MM_OK && (rc = mm_peer_del(txn, identity)) == MM_OK
        && (rc = mm_purge_relationship(txn, identity, p.scope, out)) == MM_OK)
        rc = peer_rm(txn, device, identity, p.scope, now);
    return rc;
}

int mm_propagate_peer_save(mm_txn_t *txn, const mm_keypair_t *device, const mm_peer_t *p,
                           uint64_t now)
{
    int rc = mm_peer_put(txn, p);
    return rc ? rc : mm_propagate_peer(txn, device, p->identity, now);
}

int mm_propagate_peer_remove(mm_txn_t *txn, const mm_keypair_t *device,
                             const uint8_t identity[32], uint64_t now)
{
    int rc = mm_peer_del(txn, identity);
    return rc ? rc : mm_propagate_peer_rm(txn, device, identity, now);
}

int mm_propagate_is(const uint8_t *pt, size_t len)
{
    return mm_body_is(pt, len, MM_T_SCOPE) || mm_body_is(pt, len, MM_T_PEER)
        || mm_body_is(pt, len, MM_T_PEER_RM);
}

/* `scope`: create it, or add the keys it lacks, oldest first. */
static int apply_scope(mm_txn_t *txn, const uint8_t home[32], const mm_scope_t *self,
                       const uint8_t *pt, size_t len, int *changed)
{
    mm_scope_t s;
    const uint8_t *id;
    uint32_t idlen, nkeys, nmembers;
    uint64_t kind, created;
    memset(&s, 0, sizeof s);
    int rc = MM_EBODY;
    if (mm_body_bin(pt, len, "id", &id, &idlen) || idlen != 32
        || mm_body_uint(pt, len, "kind", &kind) || mm_body_uint(pt, len, "created", &created)
        || mm_body_ids(pt, len, "keys", s.keys, MM_SCOPE_KEYS_MAX, &nkeys) || nkeys < 1
        || mm_body_ids(pt, len, "members", s.members, MM_SCOPE_MEMBERS_MAX, &nmembers))
        goto out;
    rc = MM_OK;
    mm_scope_t have;
    int got = mm_scope_get(txn, id, &have);
    mm_scope_wipe(&have);
    if (got == MM_ENOTFOUND) {
        /* a new scope: only one this person is in, of a shape mm makes */
        s.kind = (unsigned) kind;
        s.nkeys = nkeys;
        s.nmembers = nmembers;
        s.created = created;
        memcpy(s.id, id, 32);
        if (!mm_scope_has_member(&s, home)
            || (kind == MM_SCOPE_PAIR ? nmembers != 2 : nmembers != 1))
            goto out;
        rc = mm_scope_put(txn, &s);
        goto out;
    }
    if (got) {
        rc = got;
        goto out;
    }
    for (uint32_t i = 0; i < nkeys && rc == MM_OK; i++)
        rc = mm_scope_add_key(txn, id, s.keys[i]);
    if (rc == MM_ETOOBIG)
        rc = MM_OK;                 /* a full scope keeps the keys it has */
    if (rc == MM_OK && changed && memcmp(id, self->id, 32) == 0)
        *changed = 1;
out:
    mm_scope_wipe(&s);
    return rc;
}

/* The peer's device(s) this home holds a certificate for: with one device
 * per peer record, the first certified one.  Kept apart: peer records are
 * becoming multi-device (issue 9), and this is what that work replaces. */
typedef struct {
    const uint8_t *identity;
    uint8_t *device;
    int found;
} devs_t;

static int first_device(const mm_cert_t *c, const uint8_t *raw, size_t len, void *arg)
{
    devs_t *d = arg;
    (void) raw;
    (void) len;
    if (memcmp(c->identity, d->identity, 32) != 0)
        return 0;
    memcpy(d->device, c->device, 32);
    d->found = 1;
    return 1;
}

static int fill_devices(mm_txn_t *txn, mm_peer_t *p)
{
    devs_t d = { p->identity, p->device, 0 };
    int rc = mm_cert_foreach(txn, first_device, &d);
    p->nendpoints = 0;              /* endpoints come with the devices' statements */
    return rc < 0 ? rc : MM_OK;
}

/* want, or want-2, want-3 ... the first that no other peer has. */
static void unique_petname(mm_txn_t *txn, const uint8_t identity[32], const char *want,
                           char out[MM_PETNAME_MAX + 1])
{
    char base[MM_PETNAME_MAX - 3];
    mm_peer_t other;
    size_t n = strlen(want);
    if (n >= sizeof base)
        n = sizeof base - 1;
    while (n > 0 && ((unsigned char) want[n] & 0xc0) == 0x80)
        n--;                        /* never half a character */
    memcpy(base, want, n);
    base[n] = '\0';
    snprintf(out, MM_PETNAME_MAX + 1, "%s", want);
    for (int i = 2; i < 1000 && mm_peer_find(txn, out, &other) != MM_ENOTFOUND
                    && memcmp(other.identity, identity, 32) != 0; i++)
        snprintf(out, MM_PETNAME_MAX + 1, "%s-%d", base, i);
}

/* `peer`: insert or update the record, keeping what is this device's own. */
static int apply_peer(mm_txn_t *txn, const uint8_t home[32], const uint8_t *pt, size_t len)
{
    const uint8_t *id, *scope;
    const char *petname, *name, *role;
    uint32_t idlen, slen, plen, nlen, rlen;
    uint64_t added;
    int blocked;
    char want[MM_PETNAME_MAX + 1];
    mm_peer_t p;
    if (mm_body_bin(pt, len, "identity", &id, &idlen) || idlen != 32
        || mm_body_bin(pt, len, "scope", &scope, &slen) || slen != 32
        || mm_body_str(pt, len, "petname", &petname, &plen) || plen > MM_PETNAME_MAX
        || mm_body_str(pt, len, "name", &name, &nlen) || nlen > MM_PETNAME_MAX
        || mm_body_str(pt, len, "role", &role, &rlen) || mm_body_uint(pt, len, "added", &added)
        || mm_body_bool(pt, len, "blocked", &blocked))
        return MM_EBODY;
    if (memcmp(id, home, 32) == 0)
        return MM_OK;               /* never a peer of oneself */
    int rc = mm_peer_get(txn, id, &p);
    if (rc == MM_ENOTFOUND) {
        memset(&p, 0, sizeof p);
        memcpy(p.identity, id, 32);
        if ((rc = fill_devices(txn, &p)))
            return rc;
    } else if (rc) {
        return rc;
    }
    memcpy(want, petname, plen);
    want[plen] = '\0';
    if (!mm_peer_name_valid(want))
        return MM_OK;               /* not a name this version can keep */
    unique_petname(txn, id, want, p.petname);
    memcpy(p.name, name, nlen);
    p.name[nlen] = '\0';
    p.role = rlen == 6 && memcmp(role, "mentor", 6) == 0 ? MM_ROLE_MENTOR : MM_ROLE_MENTEE;
    memcpy(p.scope, scope, 32);
    p.blocked = blocked;
    p.added = added;
    rc = mm_peer_put(txn, &p);
    return rc == MM_EINVAL || rc == MM_EEXIST ? MM_OK : rc;
}

int mm_propagate_apply(mm_txn_t *txn, const uint8_t home[32], const mm_scope_t *scope,
                       const uint8_t author_identity[32], const uint8_t *pt, size_t len,
                       int *changed)
{
    uint8_t self[32];
    if (changed)
        *changed = 0;
    mm_scope_self_id(self, home);
    if (memcmp(scope->id, self, 32) != 0 || memcmp(author_identity, home, 32) != 0)
        return MM_OK;
    if (mm_body_is(pt, len, MM_T_SCOPE))
        return apply_scope(txn, home, scope, pt, len, changed);
    if (mm_body_is(pt, len, MM_T_PEER))
        return apply_peer(txn, home, pt, len);
    if (mm_body_is(pt, len, MM_T_PEER_RM)) {
        const uint8_t *id;
        uint32_t idlen;
        if (mm_body_bin(pt, len, "identity", &id, &idlen) || idlen != 32)
            return MM_EBODY;
        int rc = mm_peer_del(txn, id);
        if (rc && rc != MM_ENOTFOUND)
            return rc;
        /* purge: the same relationship, forgotten here too; a scope that
         * is not that person's relationship is skipped (MM_EINVAL) */
        const uint8_t *rel;
        uint32_t slen;
        if (mm_body_bin(pt, len, "purge", &rel, &slen) != MM_OK || slen != 32)
            return MM_OK;
        rc = mm_purge_relationship(txn, id, rel, NULL);
        return rc == MM_EINVAL ? MM_OK : rc;
    }
    return MM_OK;
}
