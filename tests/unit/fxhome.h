/*  fxhome.h -- test fixtures with real homes: people in temporary
 *  directories who know each other as peers and share a relationship
 *  scope, the way an accepted invite leaves them; and the vectors blocks
 *  of PROTOCOL.md.  Include after fixture.h. */
#ifndef MM_FXHOME_H
#define MM_FXHOME_H

#include "crypto/random.h"
#include "core/home.h"
#include "core/peer.h"
#include "core/log.h"

/* A new home DIR/SUB for name (random keys; keys given: those). */
static inline mm_home_t *fx_home(const char *dir, const char *sub, const char *name,
                                 const mm_keypair_t *identity, const mm_keypair_t *device)
{
    char path[FX_PATH_MAX];
    mm_home_t *h;
    fx_path(path, dir, sub);
    if (identity && device)
        assert_rc(mm_home_init_keys(path, name, "laptop", 1767225600000ull, identity, device),
                  MM_OK);
    else
        assert_rc(mm_home_init(path, name, "laptop", 1), MM_OK);
    assert_rc(mm_home_open(path, &h), MM_OK);
    return h;
}

/* to stores from's device certificate. */
static inline void fx_give_cert(mm_home_t *to, mm_home_t *from)
{
    const uint8_t *raw;
    size_t len;
    mm_cert_t c;
    mm_txn_t *ta, *tb;
    assert_rc(mm_store_begin(mm_home_store(from), 0, &ta), MM_OK);
    assert_rc(mm_cert_get(ta, mm_keypair_pk(mm_home_device(from)), &c, &raw, &len), MM_OK);
    assert_rc(mm_store_begin(mm_home_store(to), 1, &tb), MM_OK);
    assert_rc(mm_cert_put(tb, raw, len, NULL), MM_OK);
    assert_rc(mm_txn_commit(&tb), MM_OK);
    mm_txn_abort(&ta);
}

/* h knows other as a peer named petname with role (towards h), sharing
 * scope sc, and holds other's certificate. */
static inline void fx_befriend(mm_home_t *h, mm_home_t *other, const char *petname,
                               unsigned role, const mm_scope_t *sc)
{
    mm_peer_t p;
    mm_txn_t *txn;
    memset(&p, 0, sizeof p);
    memcpy(p.identity, mm_home_identity_pk(other), 32);
    snprintf(p.petname, sizeof p.petname, "%s", petname);
    snprintf(p.name, sizeof p.name, "%s", mm_home_name(other));
    p.role = role;
    memcpy(p.scope, sc->id, 32);
    memcpy(p.device, mm_keypair_pk(mm_home_device(other)), 32);
    fx_give_cert(h, other);
    assert_rc(mm_store_begin(mm_home_store(h), 1, &txn), MM_OK);
    assert_rc(mm_scope_put(txn, sc), MM_OK);
    assert_rc(mm_peer_put(txn, &p), MM_OK);
    assert_rc(mm_txn_commit(&txn), MM_OK);
}

/* mentor and mentee share a new relationship scope (random id and key,
 * or *sc as given when sc->nmembers is set), each the other's peer.  The
 * scope is returned in *sc. */
static inline void fx_pair(mm_home_t *mentor, mm_home_t *mentee, const char *mentor_name,
                           const char *mentee_name, mm_scope_t *sc)
{
    if (!sc->nmembers) {
        memset(sc, 0, sizeof *sc);
        mm_random_bytes(sc->id, 32);
        mm_random_bytes(sc->keys[0], 32);
        sc->nkeys = 1;
    }
    sc->kind = MM_SCOPE_PAIR;
    sc->nmembers = 2;
    memcpy(sc->members[0], mm_home_identity_pk(mentor), 32);
    memcpy(sc->members[1], mm_home_identity_pk(mentee), 32);
    fx_befriend(mentor, mentee, mentee_name, MM_ROLE_MENTEE, sc);
    fx_befriend(mentee, mentor, mentor_name, MM_ROLE_MENTOR, sc);
}

/* ---- PROTOCOL.md's vectors blocks ---- */

typedef struct { char name[32]; char *hex; } fx_vec_t;

/* The block that opens with the line "```NAME": lines "name = hex", a
 * long value continued on following lines that start with spaces.  Free
 * each hex.  Returns how many were read (at most max). */
static inline int fx_read_vectors(const char *block, fx_vec_t *doc, int max)
{
    const char *path = getenv("MM_PROTOCOL_MD");
    FILE *f = path ? fopen(path, "r") : NULL;
    char line[512], open[64];
    int in = 0, n = 0;
    if (!f)
        fail_msg("cannot open PROTOCOL.md (MM_PROTOCOL_MD=%s)", path ? path : "unset");
    snprintf(open, sizeof open, "```%s", block);
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!in) {
            in = strcmp(line, open) == 0;
            continue;
        }
        if (strcmp(line, "```") == 0)
            break;
        char *eq = strstr(line, " = ");
        if (line[0] != ' ' && eq && n < max) {
            *eq = '\0';
            snprintf(doc[n].name, sizeof doc[n].name, "%.31s", line);
            doc[n++].hex = strdup(eq + 3);
        } else if (line[0] == ' ' && n > 0) {
            char *s = line + strspn(line, " ");
            size_t a = strlen(doc[n - 1].hex), b = strlen(s);
            doc[n - 1].hex = realloc(doc[n - 1].hex, a + b + 1);
            memcpy(doc[n - 1].hex + a, s, b + 1);
        }
    }
    fclose(f);
    return n;
}

/* ---- carrying entries from home to home, one committed run per entry, as
 * sync does (the verifier and everything storing applies runs as usual) ---- */

typedef struct {
    const uint8_t *scope;
    mm_txn_t *from;
    mm_store_t *to;
    int rc;                         /* the first refusal */
} fx_carry_t;

static inline int fx_carry_entry(const uint8_t *buf, size_t len, uint64_t seq, void *arg)
{
    fx_carry_t *c = arg;
    const uint8_t *b[1] = { buf };
    mm_txn_t *txn;
    (void) seq;
    assert_rc(mm_store_begin(c->to, 1, &txn), MM_OK);
    int rc = mm_log_put_run(txn, b, &len, 1, NULL);
    if (rc == MM_OK)
        assert_rc(mm_txn_commit(&txn), MM_OK);
    mm_txn_abort(&txn);
    if (rc && !c->rc)
        c->rc = rc;
    return rc ? 1 : 0;              /* the feed stops at its first refusal */
}

static inline int fx_carry_feed(const uint8_t *author, const uint8_t *scope, const mm_head_t *h, void *arg)
{
    fx_carry_t *c = arg;
    mm_head_t theirs;
    mm_txn_t *txn;
    if (memcmp(scope, c->scope, 32))
        return 0;
    assert_rc(mm_store_begin(c->to, 0, &txn), MM_OK);
    assert_rc(mm_log_head(txn, author, scope, &theirs), MM_OK);
    mm_txn_abort(&txn);
    if (theirs.seq < h->seq)
        assert_true(mm_log_walk(c->from, author, scope, theirs.seq + 1, fx_carry_entry, c) >= 0);
    return 0;
}

/* Everything a holds of scope that b lacks goes to b: MM_OK or the first
 * refusal (what came before it is stored). */
static inline int fx_carry(mm_home_t *a, mm_home_t *b, const uint8_t scope[32])
{
    fx_carry_t c = { scope, NULL, mm_home_store(b), MM_OK };
    assert_rc(mm_store_begin(mm_home_store(a), 0, &c.from), MM_OK);
    assert_rc(mm_log_feeds(c.from, fx_carry_feed, &c), MM_OK);
    mm_txn_abort(&c.from);
    return c.rc;
}


#endif
