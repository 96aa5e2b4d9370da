/*  backup.c -- the backup file (PROTOCOL.md 12): writing it from a home,
 *  and restoring a new home from it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sodium.h>

#include "core/backup.h"
#include "core/be64.h"
#include "core/catchup.h"
#include "core/cert.h"
#include "core/endpoint.h"
#include "core/fork.h"
#include "core/log.h"
#include "core/meta.h"
#include "core/mp.h"
#include "core/peer.h"
#include "core/qindex.h"
#include "core/rekey.h"
#include "core/revoke.h"
#include "core/scope.h"
#include "crypto/error.h"
#include "crypto/random.h"
#include "crypto/sign.h"

#define MAGIC     "mmbk"
#define ABYTES    crypto_secretstream_xchacha20poly1305_ABYTES
#define SSHEADER  crypto_secretstream_xchacha20poly1305_HEADERBYTES
#define CIPHER_MAX (MM_BACKUP_RECORD_MAX + ABYTES)
#define QROW      40                /* a questions row: scope || arrival */
#define TXN_BYTES ((size_t) 16 << 20)   /* restore commits about this much at a time */
#define RUN_BYTES ((size_t) 4 << 20)    /* entries of one feed verified together */

/* Record kinds, in the order a backup holds them (a kind never follows a
 * later one).  The device statements and forks come after the entries: a
 * home may hold entries of a device beyond the lasts of a revocation it
 * learnt later, and a restore stores what the home held, as it held it. */
enum { K_HOME, K_CERT, K_SCOPE, K_PEER, K_QUESTION, K_ENTRY, K_REVOKE, K_ENDPOINTS, K_FORK,
       K_END };
static const char *const kinds[] = { "home", "cert", "scope", "peer", "question", "entry",
                                     "revoke", "endpoints", "fork", "end" };

_Static_assert(SSHEADER == 24, "secretstream header is 24 bytes");
_Static_assert(MM_BACKUP_HEADER == 4 + 1 + 1 + 2 + 8 + 8 + MM_BACKUP_SALT + 24, "header");

void mm_backup_kdf_default(mm_backup_kdf_t *kdf)
{
    const char *v = getenv(MM_BACKUP_PWHASH_ENV);
    if (v && !strcmp(v, "min")) {
        kdf->opslimit = crypto_pwhash_argon2id_OPSLIMIT_MIN;
        kdf->memlimit = crypto_pwhash_argon2id_MEMLIMIT_MIN;
    } else {
        kdf->opslimit = crypto_pwhash_argon2id_OPSLIMIT_MODERATE;
        kdf->memlimit = crypto_pwhash_argon2id_MEMLIMIT_MODERATE;
    }
}

int mm_backup_key(uint8_t key[MM_BACKUP_KEY], const char *pass, size_t passlen,
                  const uint8_t salt[MM_BACKUP_SALT], const mm_backup_kdf_t *kdf)
{
    if (kdf->opslimit > crypto_pwhash_argon2id_OPSLIMIT_SENSITIVE
        || kdf->memlimit > crypto_pwhash_argon2id_MEMLIMIT_SENSITIVE)
        return MM_ETOOBIG;
    if (kdf->opslimit < crypto_pwhash_argon2id_OPSLIMIT_MIN
        || kdf->memlimit < crypto_pwhash_argon2id_MEMLIMIT_MIN)
        return MM_EINVAL;
    if (crypto_pwhash(key, MM_BACKUP_KEY, pass, passlen, salt, kdf->opslimit,
                      (size_t) kdf->memlimit, crypto_pwhash_ALG_ARGON2ID13) != 0)
        return MM_ENOMEM;           /* libsodium's one failure here: no memory */
    return MM_OK;
}

static int errno_rc(int e)
{
    switch (e) {
    case ENOENT: return MM_ENOTFOUND;
    case EEXIST: return MM_EEXIST;
    case EACCES: case EPERM: case EROFS: return MM_EPERM;
    case ENOSPC: case EDQUOT: return MM_EFULL;
    case ENOMEM: return MM_ENOMEM;
    default: return MM_EIO;
    }
}

/* ------------------------------------------------------------------------ */
/* writing                                                                   */

typedef struct {
    FILE *f;
    crypto_secretstream_xchacha20poly1305_state ss;
    uint8_t *plain;                 /* MM_BACKUP_RECORD_MAX, sodium_malloc */
    uint8_t *cipher;                /* CIPHER_MAX */
    const uint8_t *ad;              /* the header, for the first message only */
    uint64_t records;
    mm_backup_stats_t *st;
} writer_t;

/* Seal w->plain[0..len) as the next message. */
static int put_msg(writer_t *w, size_t len, int final)
{
    unsigned long long clen;
    uint8_t lenbuf[4];
    crypto_secretstream_xchacha20poly1305_push(
        &w->ss, w->cipher, &clen, w->plain, len, w->ad, w->ad ? MM_BACKUP_HEADER : 0,
        final ? crypto_secretstream_xchacha20poly1305_TAG_FINAL
              : crypto_secretstream_xchacha20poly1305_TAG_MESSAGE);
    w->ad = NULL;
    sodium_memzero(w->plain, len);
    lenbuf[0] = (uint8_t) (clen >> 24);
    lenbuf[1] = (uint8_t) (clen >> 16);
    lenbuf[2] = (uint8_t) (clen >> 8);
    lenbuf[3] = (uint8_t) clen;
    if (fwrite(lenbuf, 1, 4, w->f) != 4 || fwrite(w->cipher, 1, clen, w->f) != clen)
        return errno_rc(errno);
    w->records++;
    w->st->bytes += 4 + clen;
    return MM_OK;
}

/* A record [kind, bin(a)] or [kind, bin32 key, bin(b)]: the common shapes. */
static int put_rec(writer_t *w, int kind, const uint8_t *key, const uint8_t *val, size_t vlen)
{
    mm_mp_writer_t mw;
    mm_mp_writer_init(&mw, w->plain, MM_BACKUP_RECORD_MAX);
    mm_mp_put_array(&mw, key ? 3 : 2);
    mm_mp_put_cstr(&mw, kinds[kind]);
    if (key)
        mm_mp_put_bin(&mw, key, 32);
    mm_mp_put_bin(&mw, val, vlen);
    int rc = mm_mp_writer_status(&mw);
    if (rc) {
        sodium_memzero(w->plain, MM_BACKUP_RECORD_MAX);
        return rc;
    }
    return put_msg(w, mw.len, 0);
}

static int w_cert(const mm_cert_t *c, const uint8_t *raw, size_t len, void *arg)
{
    writer_t *w = arg;
    (void) c;
    w->st->certs++;
    return put_rec(w, K_CERT, NULL, raw, len);
}

static int w_row(writer_t *w, int kind, const uint8_t *key, size_t klen, const uint8_t *val,
                 size_t vlen, uint64_t *count)
{
    if (klen != 32)
        return MM_ECORRUPT;
    (*count)++;
    return put_rec(w, kind, key, val, vlen);
}

static int w_scope(const uint8_t *k, size_t kl, const uint8_t *v, size_t vl, void *arg)
{
    writer_t *w = arg;
    return w_row(w, K_SCOPE, k, kl, v, vl, &w->st->scopes);
}

static int w_peer(const uint8_t *k, size_t kl, const uint8_t *v, size_t vl, void *arg)
{
    writer_t *w = arg;
    return w_row(w, K_PEER, k, kl, v, vl, &w->st->peers);
}

static int w_question(const uint8_t *k, size_t kl, const uint8_t *v, size_t vl, void *arg)
{
    writer_t *w = arg;
    if (vl != QROW)
        return MM_ECORRUPT;
    return w_row(w, K_QUESTION, k, kl, v, vl, &w->st->questions);
}

static int w_revoke(const mm_revoke_t *rv, const uint8_t *raw, size_t len, void *arg)
{
    writer_t *w = arg;
    (void) rv;
    w->st->revokes++;
    return put_rec(w, K_REVOKE, NULL, raw, len);
}

static int w_endpoints(const mm_endpoint_t *e, const uint8_t *raw, size_t len, void *arg)
{
    writer_t *w = arg;
    (void) e;
    w->st->endpoints++;
    return put_rec(w, K_ENDPOINTS, NULL, raw, len);
}

/* ["fork", entry a bin, entry b bin]: the proof, as recorded. */
static int w_fork(const uint8_t author[32], const uint8_t scope[32], const mm_fork_t *fk,
                  void *arg)
{
    writer_t *w = arg;
    mm_mp_writer_t mw;
    (void) author;
    (void) scope;
    mm_mp_writer_init(&mw, w->plain, MM_BACKUP_RECORD_MAX);
    mm_mp_put_array(&mw, 3);
    mm_mp_put_cstr(&mw, kinds[K_FORK]);
    mm_mp_put_bin(&mw, fk->a, fk->alen);
    mm_mp_put_bin(&mw, fk->b, fk->blen);
    int rc = mm_mp_writer_status(&mw);
    if (rc) {
        sodium_memzero(w->plain, MM_BACKUP_RECORD_MAX);
        return rc;
    }
    w->st->forks++;
    return put_msg(w, mw.len, 0);
}

static int w_entry(const uint8_t *buf, size_t len, uint64_t seq, void *arg)
{
    writer_t *w = arg;
    (void) seq;
    w->st->entries++;
    return put_rec(w, K_ENTRY, NULL, buf, len);
}

typedef struct {
    writer_t *w;
    mm_txn_t *txn;
} feeds_t;

static int w_feed(const uint8_t author[32], const uint8_t scope[32], const mm_head_t *head,
                  void *arg)
{
    feeds_t *f = arg;
    (void) head;
    int rc = mm_log_walk(f->txn, author, scope, 1, w_entry, f->w);
    mm_store_trim(mm_txn_store(f->txn));    /* a large log streams through */
    return rc;
}

/* The home record: ["home", 1, identity seed, name, device, self scope, made]. */
static int w_home(writer_t *w, mm_home_t *home, const mm_keypair_t *identity, uint64_t now)
{
    mm_mp_writer_t mw;
    mm_mp_writer_init(&mw, w->plain, MM_BACKUP_RECORD_MAX);
    mm_mp_put_array(&mw, 7);
    mm_mp_put_cstr(&mw, kinds[K_HOME]);
    mm_mp_put_uint(&mw, 1);
    mm_mp_put_bin(&mw, mm_keypair_seed(identity), 32);
    mm_mp_put_cstr(&mw, mm_home_name(home));
    mm_mp_put_bin(&mw, mm_keypair_pk(mm_home_device(home)), 32);
    mm_mp_put_bin(&mw, mm_home_self_scope(home), 32);
    mm_mp_put_uint(&mw, now);
    int rc = mm_mp_writer_status(&mw);
    return rc ? rc : put_msg(w, mw.len, 0);
}

static int write_all(writer_t *w, mm_home_t *home, const mm_keypair_t *identity,
                     const char *pass, size_t passlen, const mm_backup_kdf_t *kdf)
{
    uint8_t hdr[MM_BACKUP_HEADER] = { 0 }, key[MM_BACKUP_KEY];
    mm_txn_t *txn = NULL;
    memcpy(hdr, MAGIC, 4);
    hdr[4] = MM_BACKUP_VERSION;
    hdr[5] = MM_BACKUP_KDF_ARGON2ID13;
    mm_be64_put(hdr + 8, kdf->opslimit);
    mm_be64_put(hdr + 16, kdf->memlimit);
    mm_random_bytes(hdr + 24, MM_BACKUP_SALT);
    int rc = mm_backup_key(key, pass, passlen, hdr + 24, kdf);
    if (rc == MM_OK) {
        crypto_secretstream_xchacha20poly1305_init_push(&w->ss, hdr + 40, key);
        sodium_memzero(key, sizeof key);
        w->ad = hdr;
        rc = fwrite(hdr, 1, sizeof hdr, w->f) == sizeof hdr ? MM_OK : errno_rc(errno);
        w->st->bytes += sizeof hdr;
    }
    if (rc || (rc = w_home(w, home, identity, mm_now_ms()))
        || (rc = mm_store_begin(mm_home_store(home), 0, &txn)))
        goto out;
    feeds_t f = { w, txn };
    if ((rc = mm_cert_foreach(txn, w_cert, w)) || (rc = mm_scope_foreach_raw(txn, w_scope, w))
        || (rc = mm_peer_foreach_raw(txn, w_peer, w))
        || (rc = mm_qindex_foreach_raw(txn, w_question, w))
        || (rc = mm_log_feeds(txn, w_feed, &f)) || (rc = mm_revoke_foreach(txn, w_revoke, w))
        || (rc = mm_endpoint_foreach(txn, w_endpoints, w))
        || (rc = mm_fork_foreach(txn, w_fork, w)))
        goto out;
    /* ["end", records before it] */
    mm_mp_writer_t mw;
    mm_mp_writer_init(&mw, w->plain, MM_BACKUP_RECORD_MAX);
    mm_mp_put_array(&mw, 2);
    mm_mp_put_cstr(&mw, kinds[K_END]);
    mm_mp_put_uint(&mw, w->records);
    if ((rc = mm_mp_writer_status(&mw)) == MM_OK)
        rc = put_msg(w, mw.len, 1);
out:
    mm_txn_abort(&txn);
    sodium_memzero(key, sizeof key);
    sodium_memzero(&w->ss, sizeof w->ss);
    return rc;
}

static int fsync_parent(const char *path)
{
    char dir[MM_PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        dir[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        strcpy(dir, ".");
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return errno_rc(errno);
    int rc = fsync(fd) == 0 ? MM_OK : errno_rc(errno);
    close(fd);
    return rc;
}

int mm_backup_write(mm_home_t *home, const char *path, unsigned flags, const char *pass,
                    size_t passlen, const mm_backup_kdf_t *kdf, mm_backup_stats_t *st)
{
    mm_backup_stats_t dummy;
    mm_backup_kdf_t def;
    mm_keypair_t *identity = NULL;
    writer_t w = { 0 };
    char tmp[MM_PATH_MAX];
    struct stat sb;
    if (!st)
        st = &dummy;
    memset(st, 0, sizeof *st);
    w.st = st;
    if (!kdf) {
        mm_backup_kdf_default(&def);
        kdf = &def;
    }
    if (passlen == 0 || passlen > MM_PASSPHRASE_MAX)
        return MM_EINVAL;
    if (!(flags & MM_BACKUP_FORCE) && lstat(path, &sb) == 0)
        return MM_EEXIST;
    int rc = mm_home_identity_key(home, &identity);
    if (rc == MM_ENOTFOUND)
        return MM_ENOIDENTITY;
    if (rc)
        return rc;
    if (snprintf(tmp, sizeof tmp, "%s.tmp-XXXXXX", path) >= (int) sizeof tmp) {
        rc = MM_EINVAL;
        goto out;
    }
    int fd = mkstemp(tmp);          /* mode 0600 */
    if (fd < 0) {
        rc = errno_rc(errno);
        goto out;
    }
    if (!(w.f = fdopen(fd, "wb"))) {
        rc = errno_rc(errno);
        close(fd);
        unlink(tmp);
        goto out;
    }
    w.plain = sodium_malloc(MM_BACKUP_RECORD_MAX);
    w.cipher = malloc(CIPHER_MAX);
    rc = w.plain && w.cipher ? write_all(&w, home, identity, pass, passlen, kdf) : MM_ENOMEM;
    if (rc == MM_OK && (fflush(w.f) != 0 || fsync(fileno(w.f)) != 0))
        rc = errno_rc(errno);
    if (fclose(w.f) != 0 && rc == MM_OK)
        rc = errno_rc(errno);
    if (rc == MM_OK) {
        /* link(2) refuses an existing name: no overwrite, even in a race */
        if (flags & MM_BACKUP_FORCE)
            rc = rename(tmp, path) == 0 ? MM_OK : errno_rc(errno);
        else if ((rc = link(tmp, path) == 0 ? MM_OK : errno_rc(errno)) == MM_OK)
            unlink(tmp);
    }
    if (rc)
        unlink(tmp);
    else
        rc = fsync_parent(path);
out:
    if (w.plain)
        sodium_free(w.plain);
    free(w.cipher);
    mm_keypair_destroy(&identity);
    if (rc)
        memset(st, 0, sizeof *st);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* reading                                                                   */

typedef struct {
    FILE *f;
    crypto_secretstream_xchacha20poly1305_state ss;
    uint8_t hdr[MM_BACKUP_HEADER];
    uint8_t *plain;                 /* MM_BACKUP_RECORD_MAX + ABYTES, sodium_malloc */
    uint8_t *cipher;
    size_t plen;                    /* of the last message read */
    int final;                      /* the last message read was tagged FINAL */
    uint64_t records;               /* read, "end" not counted */
    int rank;                       /* kind of the last record */
    /* the home record */
    mm_keypair_t *identity;
    uint8_t old_device[32], self[32];
    char name[MM_NAME_MAX + 1];
    uint64_t made;
    /* restoring */
    uint64_t now;
    const mm_keypair_t *device;     /* the new device's key pair */
    int keep_old;
    int other_own;                  /* certs of other own devices */
    mm_restore_t *out;
    /* one feed's run of entries, waiting to be verified and stored */
    uint8_t *run;                   /* RUN_BYTES */
    size_t runlen, nrun;
    const uint8_t *bufs[MM_LOG_RUN_MAX];
    size_t lens[MM_LOG_RUN_MAX];
    uint8_t feed[64];               /* author || scope of the run */
} reader_t;

/* Read exactly n bytes: MM_OK, or MM_ETRUNC at end of file. */
static int read_n(FILE *f, uint8_t *p, size_t n)
{
    size_t got = fread(p, 1, n, f);
    if (got == n)
        return MM_OK;
    return ferror(f) ? MM_EIO : MM_ETRUNC;
}

/* Read and open the next message into r->plain.  bad is the answer to a
 * message that does not open: MM_EPASSPHRASE for the first (nothing has
 * proved the key yet), MM_ECORRUPT after. */
static int next_msg(reader_t *r, int bad)
{
    uint8_t lb[4];
    unsigned long long plen;
    unsigned char tag;
    if (r->final)
        return MM_ECORRUPT;
    int rc = read_n(r->f, lb, 4);
    if (rc)
        return rc;
    uint32_t clen = (uint32_t) lb[0] << 24 | (uint32_t) lb[1] << 16 | (uint32_t) lb[2] << 8 | lb[3];
    if (clen > CIPHER_MAX)
        return bad == MM_EPASSPHRASE ? MM_EPASSPHRASE : MM_ETOOBIG;
    if (clen <= ABYTES)
        return bad;
    if ((rc = read_n(r->f, r->cipher, clen)))
        return rc;
    if (crypto_secretstream_xchacha20poly1305_pull(&r->ss, r->plain, &plen, &tag, r->cipher,
                                                   clen, bad == MM_EPASSPHRASE ? r->hdr : NULL,
                                                   bad == MM_EPASSPHRASE ? sizeof r->hdr : 0)
        != 0)
        return bad;
    if (tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL)
        r->final = 1;
    else if (tag != crypto_secretstream_xchacha20poly1305_TAG_MESSAGE)
        return MM_ECORRUPT;
    r->plen = (size_t) plen;
    return MM_OK;
}

/* The record's array header and kind; *n its element count. */
static int rec_kind(mm_mp_reader_t *mr, int *kind, uint32_t *n)
{
    const char *s;
    uint32_t sl;
    int rc = mm_mp_array(mr, n);
    if (rc || (rc = mm_mp_str(mr, &s, &sl)))
        return rc;
    for (int k = 0; k <= K_END; k++)
        if (strlen(kinds[k]) == sl && !memcmp(kinds[k], s, sl)) {
            *kind = k;
            return MM_OK;
        }
    return MM_EVERSION;             /* a kind of a later mm */
}

static int read_header(reader_t *r, const char *pass, size_t passlen)
{
    uint8_t key[MM_BACKUP_KEY];
    size_t got = fread(r->hdr, 1, sizeof r->hdr, r->f);
    if (ferror(r->f))
        return MM_EIO;
    if (got < 4 || memcmp(r->hdr, MAGIC, 4) != 0)
        return MM_EINVAL;
    if (got < sizeof r->hdr)
        return MM_ETRUNC;
    if (r->hdr[4] == 0)
        return MM_EINVAL;
    if (r->hdr[4] > MM_BACKUP_VERSION || r->hdr[5] != MM_BACKUP_KDF_ARGON2ID13 || r->hdr[6]
        || r->hdr[7])
        return MM_EVERSION;
    mm_backup_kdf_t kdf = { mm_be64_get(r->hdr + 8), mm_be64_get(r->hdr + 16) };
    int rc = mm_backup_key(key, pass, passlen, r->hdr + 24, &kdf);
    if (rc == MM_OK
        && crypto_secretstream_xchacha20poly1305_init_pull(&r->ss, r->hdr + 40, key) != 0)
        rc = MM_EPASSPHRASE;
    sodium_memzero(key, sizeof key);
    return rc;
}

/* The first message: the home record. */
static int read_home(reader_t *r)
{
    mm_mp_reader_t mr;
    uint32_t n, sl;
    uint64_t ver;
    const uint8_t *seed, *dev, *self;
    const char *name;
    int kind;
    int rc = next_msg(r, MM_EPASSPHRASE);
    if (rc)
        return rc;
    mm_mp_reader_init(&mr, r->plain, r->plen);
    if ((rc = rec_kind(&mr, &kind, &n)))
        return rc == MM_EVERSION ? MM_ECORRUPT : rc;
    if (kind != K_HOME || n != 7 || r->final)
        return MM_ECORRUPT;
    if ((rc = mm_mp_uint(&mr, &ver)))
        return rc;
    if (ver != 1)
        return MM_EVERSION;
    if ((rc = mm_mp_bin_n(&mr, &seed, 32)) || (rc = mm_mp_str(&mr, &name, &sl))
        || (rc = mm_mp_bin_n(&mr, &dev, 32)) || (rc = mm_mp_bin_n(&mr, &self, 32))
        || (rc = mm_mp_uint(&mr, &r->made)))
        return rc;
    if (mm_mp_left(&mr))
        return MM_ETRAILING;
    if (sl == 0 || sl > MM_NAME_MAX)
        return MM_ECORRUPT;
    memcpy(r->name, name, sl);
    r->name[sl] = '\0';
    memcpy(r->old_device, dev, 32);
    memcpy(r->self, self, 32);
    if (!(r->identity = mm_keypair_new_from_seed(seed)))
        return MM_ENOMEM;
    uint8_t want[32];
    mm_scope_self_id(want, mm_keypair_pk(r->identity));
    if (memcmp(want, r->self, 32) != 0)
        return MM_ECORRUPT;
    r->records = 1;
    r->rank = K_HOME;
    return MM_OK;
}

/* Verify and store the waiting run of one feed. */
static int flush_run(reader_t *r, mm_txn_t *txn)
{
    size_t stored = 0;
    if (r->nrun == 0)
        return MM_OK;
    int rc = mm_log_put_run(txn, r->bufs, r->lens, r->nrun, &stored);
    r->out->n.entries += stored;
    r->nrun = r->runlen = 0;
    return rc;
}

static int add_entry(reader_t *r, mm_txn_t *txn, const uint8_t *buf, size_t len)
{
    mm_entry_t e;
    int rc = mm_entry_parse(buf, len, &e);
    if (rc)
        return rc;
    if (r->nrun && (memcmp(r->feed, e.author, 32) || memcmp(r->feed + 32, e.scope, 32)
                    || r->nrun == MM_LOG_RUN_MAX || r->runlen + len > RUN_BYTES)
        && (rc = flush_run(r, txn)))
        return rc;
    memcpy(r->feed, e.author, 32);
    memcpy(r->feed + 32, e.scope, 32);
    memcpy(r->run + r->runlen, buf, len);
    r->bufs[r->nrun] = r->run + r->runlen;
    r->lens[r->nrun++] = len;
    r->runlen += len;
    return MM_OK;
}

/* One record after the home record, in txn. */
static int restore_rec(reader_t *r, mm_txn_t *txn, int *end)
{
    mm_mp_reader_t mr;
    uint32_t n, blen;
    const uint8_t *key = NULL, *b;
    uint64_t count;
    mm_cert_t cert;
    int kind;
    mm_mp_reader_init(&mr, r->plain, r->plen);
    int rc = rec_kind(&mr, &kind, &n);
    if (rc)
        return rc;
    if (kind < r->rank || kind == K_HOME || (kind == K_END) != r->final)
        return MM_ECORRUPT;
    if (kind != K_ENTRY && (rc = flush_run(r, txn)))
        return rc;
    r->rank = kind;
    if (kind == K_END) {
        if (n != 2 || (rc = mm_mp_uint(&mr, &count)))
            return rc ? rc : MM_ECORRUPT;
        if (mm_mp_left(&mr))
            return MM_ETRAILING;
        if (count != r->records)
            return MM_ECORRUPT;
        *end = 1;
        return MM_OK;
    }
    unsigned keyed = kind == K_SCOPE || kind == K_PEER || kind == K_QUESTION;
    const uint8_t *b2 = NULL;
    uint32_t b2len = 0;
    if (n != (keyed || kind == K_FORK ? 3u : 2u))
        return MM_ECORRUPT;
    if (keyed && (rc = mm_mp_bin_n(&mr, &key, 32)))
        return rc;
    if ((rc = mm_mp_bin(&mr, &b, &blen)) || (kind == K_FORK && (rc = mm_mp_bin(&mr, &b2, &b2len))))
        return rc;
    if (mm_mp_left(&mr))
        return MM_ETRAILING;
    r->records++;
    switch (kind) {
    case K_CERT:
        if ((rc = mm_cert_put(txn, b, blen, &cert)))
            return rc;
        r->out->n.certs++;
        if (!memcmp(cert.identity, mm_keypair_pk(r->identity), 32)
            && memcmp(cert.device, r->old_device, 32)
            && memcmp(cert.device, r->out->new_device, 32))
            r->other_own = 1;
        return MM_OK;
    case K_SCOPE:
        rc = mm_scope_put_raw(txn, key, b, blen);
        r->out->n.scopes += rc == MM_OK;
        return rc;
    case K_PEER: {
        mm_peer_t p;
        if ((rc = mm_peer_put_raw(txn, key, b, blen)) || (rc = mm_peer_get(txn, key, &p)))
            return rc;
        r->out->n.peers++;
        return p.blocked ? MM_OK : mm_catchup_add(txn, key);
    }
    case K_QUESTION:
        if (blen != QROW)
            return MM_ECORRUPT;
        rc = mm_qindex_set(txn, key, b, mm_be64_get(b + 32));
        r->out->n.questions += rc == MM_OK;
        return rc;
    case K_REVOKE:                  /* each verified, as from a session */
        rc = mm_revoke_put(txn, b, blen, NULL);
        r->out->n.revokes += rc == MM_OK;
        return rc;
    case K_ENDPOINTS:
        rc = mm_endpoint_put(txn, b, blen, NULL);
        r->out->n.endpoints += rc == MM_OK;
        return rc;
    case K_FORK:                    /* both entries' signatures checked */
        rc = mm_fork_record(txn, b, blen, b2, b2len, NULL, NULL);
        r->out->n.forks += rc == MM_OK;
        return rc;
    default:
        return add_entry(r, txn, b, blen);
    }
}

typedef struct {
    const uint8_t *device;
    mm_revoke_last_t *v;
    size_t n;
    int full;
} lasts_t;

static int old_head(const uint8_t author[32], const uint8_t scope[32], const mm_head_t *head,
                    void *arg)
{
    lasts_t *l = arg;
    if (memcmp(author, l->device, 32) != 0)
        return 0;
    if (l->n == MM_REVOKE_LASTS_MAX) {
        l->full = 1;
        return 1;
    }
    memcpy(l->v[l->n].scope, scope, 32);    /* heads are in (author, scope) order */
    l->v[l->n++].seq = head->seq;
    return 0;
}

/* The restore's default (PROTOCOL.md 12.4): the backed-up device is
 * presumed lost.  The identity key revokes it, with lasts the heads of its
 * feeds as the backup holds them, and the new device rekeys every scope
 * away from it, in txn (the restore's last transaction): a home is either
 * restored with both, or not at all. */
static int cut_off_old(reader_t *r, mm_store_t *store, mm_txn_t *txn)
{
    lasts_t l = { r->old_device, malloc(MM_REVOKE_LASTS_MAX * sizeof *l.v), 0, 0 };
    uint8_t *buf = malloc(MM_REVOKE_MAX);
    size_t len;
    int rc = MM_ENOMEM;
    if (!l.v || !buf)
        goto out;
    if ((rc = mm_log_feeds(txn, old_head, &l)) < 0)
        goto out;
    rc = l.full ? MM_ETOOBIG : MM_OK;
    if (rc || (rc = mm_revoke_make(r->identity, r->old_device, r->now, l.v, l.n, buf,
                                   MM_REVOKE_MAX, &len))
        || (rc = mm_revoke_put(txn, buf, len, NULL)))
        goto out;
    /* the rekeys are stored as on an open home: applied for this device
     * (core/log.c needs the store to know it) */
    mm_store_set_home(store, r->device, mm_keypair_pk(r->identity));
    rc = mm_rekey_scopes(txn, r->device, r->old_device, r->now, &r->out->rekeyed);
    if (rc == MM_ENOTFOUND)         /* no certificate of the device the backup was made on */
        rc = MM_ECORRUPT;
    r->out->revoked = rc == MM_OK;
out:
    free(buf);
    free(l.v);
    return rc;
}

/* mm_home_init_fill's fill: every record after the home record. */
static int fill(mm_store_t *store, void *arg)
{
    reader_t *r = arg;
    mm_txn_t *txn = NULL;
    size_t pending = 0;
    int end = 0, rc;
    uint8_t mark[40];
    while (!end) {
        if ((rc = next_msg(r, MM_ECORRUPT)))
            goto out;
        if (!txn && (rc = mm_store_begin(store, 1, &txn)))
            goto out;
        pending += r->plen;
        rc = restore_rec(r, txn, &end);
        sodium_memzero(r->plain, r->plen);
        if (rc)
            goto out;
        if (pending >= TXN_BYTES) {     /* the waiting run is in r->run, not in txn */
            pending = 0;
            if ((rc = mm_txn_commit(&txn)))
                goto out;
            mm_store_trim(store);
        }
    }
    if (fgetc(r->f) != EOF) {
        rc = MM_ETRAILING;
        goto out;
    }
    memcpy(mark, r->old_device, 32);
    mm_be64_put(mark + 32, r->now);
    if ((rc = mm_meta_put(txn, "restored", mark, sizeof mark))
        || (!r->keep_old && (rc = cut_off_old(r, store, txn)))
        || (r->other_own && (rc = mm_catchup_add(txn, mm_keypair_pk(r->identity))))
        || (rc = mm_catchup_pending(txn, NULL, 0, &r->out->catchup)))
        goto out;
    rc = mm_txn_commit(&txn);
out:
    mm_txn_abort(&txn);
    return rc;
}

int mm_backup_restore(const char *file, const char *home_path, const char *devname,
                      const char *pass, size_t passlen, int keep_old, uint64_t now,
                      mm_restore_t *out)
{
    mm_restore_t dummy;
    reader_t *r;
    mm_keypair_t *device = NULL;
    if (!out)
        out = &dummy;
    memset(out, 0, sizeof *out);
    if (passlen > MM_PASSPHRASE_MAX)
        return MM_EINVAL;
    if (!(r = calloc(1, sizeof *r)))
        return MM_ENOMEM;
    r->out = out;
    r->now = now;
    r->keep_old = keep_old;
    int rc = MM_ENOMEM;
    r->plain = sodium_malloc(CIPHER_MAX);
    r->cipher = malloc(CIPHER_MAX);
    r->run = malloc(RUN_BYTES);
    if (!r->plain || !r->cipher || !r->run)
        goto out;
    if (!(r->f = fopen(file, "rb"))) {
        rc = errno_rc(errno);
        goto out;
    }
    if ((rc = read_header(r, pass, passlen)) || (rc = read_home(r)))
        goto out;
    sodium_memzero(r->plain, CIPHER_MAX);
    if (!(device = mm_keypair_new())) {
        rc = MM_ENOMEM;
        goto out;
    }
    r->device = device;
    memcpy(out->identity, mm_keypair_pk(r->identity), 32);
    memcpy(out->old_device, r->old_device, 32);
    memcpy(out->new_device, mm_keypair_pk(device), 32);
    out->made = r->made;
    out->keep_old = keep_old;
    rc = mm_home_init_fill(home_path, r->name, devname, now, r->identity, device, fill, r);
out:
    if (r->f)
        fclose(r->f);
    if (r->plain)
        sodium_free(r->plain);
    free(r->cipher);
    free(r->run);
    mm_keypair_destroy(&r->identity);
    mm_keypair_destroy(&device);
    sodium_memzero(&r->ss, sizeof r->ss);
    free(r);
    if (rc)
        memset(out, 0, sizeof *out);
    return rc;
}

int mm_backup_restored(mm_txn_t *txn, uint8_t old_device[32], uint64_t *when)
{
    const uint8_t *v;
    size_t n;
    int rc = mm_meta_get(txn, "restored", &v, &n);
    if (rc)
        return rc;
    if (n != 40)
        return MM_ECORRUPT;
    if (old_device)
        memcpy(old_device, v, 32);
    if (when)
        *when = mm_be64_get(v + 32);
    return MM_OK;
}
