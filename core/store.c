#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/mman.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "core/store_int.h"
#include "core/cert.h"
#include "core/mp.h"
#include <stdio.h>
#include "crypto/error.h"

/* Room kept free in the map before each write transaction: well above
 * the largest one mm makes (a sync frame commits a run of up to 8 MiB of
 * entries, plus the tree pages it copies), so below the maximum a write
 * never meets MDB_MAP_FULL.  Half the store's size once that is larger, so
 * that the map grows rarely (it doubles) as the store grows. */
#define MAP_HEADROOM ((size_t) 32 << 20)
#define MAP_RETRIES  4              /* mdb_txn_begin after MDB_MAP_RESIZED */

int mm_store_rc(int rc)
{
    switch (rc) {
    case MDB_SUCCESS:        return MM_OK;
    case MDB_NOTFOUND:       return MM_ENOTFOUND;
    case MDB_KEYEXIST:       return MM_EEXIST;
    case MDB_MAP_FULL:
    case ENOSPC:
    case EDQUOT:             return MM_EFULL;
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INVALID:
    case MDB_VERSION_MISMATCH: return MM_ECORRUPT;
    case MDB_READERS_FULL:
    case MDB_MAP_RESIZED:
    case EAGAIN:             return MM_EBUSY;
    case ENOMEM:             return MM_ENOMEM;
    case EACCES:
    case EPERM:
    case EROFS:              return MM_EPERM;
    case ENOENT:             return MM_ENOTFOUND;
    default:                 return MM_EIO;
    }
}

/* The format this process writes: MM_STORE_FORMAT, or 1 from the
 * environment (store.h). */
static unsigned own_format(void)
{
    const char *v = getenv(MM_STORE_FORMAT_ENV);
    if (v && (!strcmp(v, "1") || !strcmp(v, "2")))
        return (unsigned) (v[0] - '0');
    return MM_STORE_FORMAT;
}

static int open_tables(mm_store_t *s, MDB_txn *txn, unsigned flags)
{
    struct { const char *name; MDB_dbi *dbi; } t[] = {
        { "entries", &s->entries }, { "heads", &s->heads },
        { "certs", &s->certs }, { "scopes", &s->scopes }, { "meta", &s->meta },
        { "peers", &s->peers }, { "invites", &s->invites },
        { "questions", &s->questions },
    };
    for (unsigned i = 0; i < sizeof t / sizeof t[0]; i++) {
        int rc = mdb_dbi_open(txn, t[i].name, flags, t[i].dbi);
        if (rc)
            return rc == MDB_NOTFOUND ? MM_ENOTFOUND : mm_store_rc(rc);
    }
    /* format 2; a format-1 store opened read-only has none */
    if (own_format() < 2)
        flags &= ~(unsigned) MDB_CREATE;
    int rc = mdb_dbi_open(txn, "curves", flags | MDB_DUPSORT | MDB_DUPFIXED, &s->curves);
    s->has_curves = rc == MDB_SUCCESS;
    if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND)
        return mm_store_rc(rc);
    /* format 3; an older store opened read-only has none of them */
    if (own_format() < 3)
        flags &= ~(unsigned) MDB_CREATE;
    struct { const char *name; MDB_dbi *dbi; } t3[] = {
        { "revokes", &s->revokes }, { "endpoints", &s->endpoints },
        { "forks", &s->forks }, { "seen", &s->seen }, { "catchup", &s->catchup },
    };
    s->has_v3 = 1;
    for (unsigned i = 0; i < sizeof t3 / sizeof t3[0]; i++) {
        rc = mdb_dbi_open(txn, t3[i].name, flags, t3[i].dbi);
        if (rc == MDB_NOTFOUND)
            s->has_v3 = 0;
        else if (rc)
            return mm_store_rc(rc);
    }
    /* format 4 (mailboxes); an older store opened read-only has none */
    if (own_format() < 4)
        flags &= ~(unsigned) MDB_CREATE;
    struct { const char *name; MDB_dbi *dbi; } t4[] = {
        { "usage", &s->usage }, { "links", &s->links }, { "blocked", &s->blocked },
    };
    s->has_v4 = 1;
    for (unsigned i = 0; i < sizeof t4 / sizeof t4[0]; i++) {
        rc = mdb_dbi_open(txn, t4[i].name, flags, t4[i].dbi);
        if (rc == MDB_NOTFOUND)
            s->has_v4 = 0;
        else if (rc)
            return mm_store_rc(rc);
    }
    return MM_OK;
}

static int put_format(mm_store_t *s, MDB_txn *txn, uint8_t f)
{
    MDB_val k = { 6, "format" }, v = { 1, &f };
    return mm_store_rc(mdb_put(txn, s->meta, &k, &v, 0));
}

/* Check (or, on a new store, write) the format number into *format. */
static int check_format(mm_store_t *s, MDB_txn *txn, int create, unsigned *format)
{
    MDB_val k = { 6, "format" }, v;
    int rc = mdb_get(txn, s->meta, &k, &v);
    *format = own_format();
    if (rc == MDB_NOTFOUND && create)
        return put_format(s, txn, (uint8_t) *format);
    if (rc)
        return rc == MDB_NOTFOUND ? MM_ECORRUPT : mm_store_rc(rc);
    if (v.mv_size != 1 || *(uint8_t *) v.mv_data < 1)
        return MM_ECORRUPT;
    *format = *(uint8_t *) v.mv_data;
    if (*format > own_format())
        return MM_EVERSION;
    if ((*format >= 2 && !s->has_curves) || (*format >= 3 && !s->has_v3)
        || (*format >= 4 && !s->has_v4))
        return MM_ECORRUPT;
    return MM_OK;
}

/* Bring a store of an older format to this one, in the caller's write txn. */
static int migrate(mm_store_t *s, MDB_txn *txn, unsigned format)
{
    mm_txn_t t = { .store = s, .txn = txn, .write = 1 };
    int rc = MM_OK;
    if (format < 2)                     /* 1 -> 2: index the certificates by CURVE key */
        rc = mm_cert_reindex(&t, NULL);
    /* 2 -> 3: the device tables, created empty by open_tables; the home
     * re-issues its own certificate as version 2 (home.c) */
    return rc ? rc : put_format(s, txn, (uint8_t) own_format());
}

/* The format number of a store whose tables are not all there (only meta
 * is needed), read in a transaction of its own. */
static int stored_format(mm_store_t *s, unsigned *format)
{
    MDB_txn *txn;
    MDB_dbi meta;
    MDB_val k = { 6, "format" }, v;
    int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
    if (rc)
        return mm_store_rc(rc);
    if ((rc = mdb_dbi_open(txn, "meta", 0, &meta)) == 0
        && (rc = mdb_get(txn, meta, &k, &v)) == 0)
        *format = v.mv_size == 1 ? *(uint8_t *) v.mv_data : 0;
    mdb_txn_abort(txn);
    if (rc == MDB_NOTFOUND || (rc == 0 && *format < 1))
        return MM_ECORRUPT;
    if (rc == 0 && *format > own_format())
        return MM_EVERSION;         /* what check_format says of a newer store */
    return mm_store_rc(rc);
}

/* Copy the store as it is to DIR/format-N.mdb before migrating it (LMDB's
 * own hot copy: consistent even while another process writes).  An
 * existing copy of that format is kept as it is. */
static int copy_aside(mm_store_t *s, const char *dir, unsigned format)
{
    char path[4096];
    if (format >= own_format())
        return MM_OK;               /* only a table is missing: nothing to go back to */
    if (snprintf(path, sizeof path, "%s/format-%u.mdb", dir, format) >= (int) sizeof path)
        return MM_EINVAL;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return errno == EEXIST ? MM_OK : mm_store_rc(errno);
    int rc = mdb_env_copyfd(s->env, fd);
    if (rc == 0 && fsync(fd) != 0)
        rc = errno;
    close(fd);
    if (rc)
        unlink(path);
    return mm_store_rc(rc);
}

unsigned mm_store_migrated(const mm_store_t *self)
{
    return self->migrated_from;
}

/* The map's maximum: MM_STORE_MAP_MAX, or lower from the environment. */
static size_t map_max(void)
{
    const char *v = getenv(MM_STORE_MAP_MAX_ENV);
    char *end;
    if (!v || !*v)
        return MM_STORE_MAP_MAX;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno || *end || n == 0 || n > MM_STORE_MAP_MAX)
        return MM_STORE_MAP_MAX;
    return (size_t) n;
}

/* Could len bytes of address space be mapped?  mdb_env_set_mapsize unmaps
 * the old map before it makes the new one, and if that fails the
 * environment is left with no map at all; so try first, beside the old
 * map, where success is the safe side of the bet (a memory ulimit). */
static int can_map(size_t len)
{
    void *p = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return 0;
    munmap(p, len);
    return 1;
}

/* Set the map size (0: adopt the size another process committed).  Only
 * with no transaction of ours open: every pointer into the map moves. */
static int remap(mm_store_t *s, size_t size)
{
    int rc = mdb_env_set_mapsize(s->env, size);
    s->map_known = 0;               /* for mm_store_trim: look the mapping up again */
    if (rc) {
        s->dead = 1;
        return MM_ENOMEM;
    }
    return MM_OK;
}

/* Grow the map if the next write transaction might not fit: the store's
 * size plus the headroom exceeds it, or (force) the last write transaction
 * failed, as one larger than the headroom would.  The map doubles until it
 * is large enough, up to the maximum.  Skipped with a transaction of ours
 * open; at the maximum or without the address space the map stays as it
 * is, and a write that does not fit fails with MM_EFULL. */
static int grow_map(mm_store_t *s, int force)
{
    MDB_envinfo info;
    MDB_stat st;
    if (s->ntxn || mdb_env_info(s->env, &info) || mdb_env_stat(s->env, &st))
        return MM_OK;
    size_t size = info.me_mapsize;
    size_t used = ((size_t) info.me_last_pgno + 1) * st.ms_psize;
    size_t need = used + (used / 2 > MAP_HEADROOM ? used / 2 : MAP_HEADROOM);
    if (force && need <= size)
        need = size + 1;
    if (need <= size || size >= s->map_max)
        return MM_OK;
    size_t next = size;
    while (next < need && next < s->map_max)
        next *= 2;
    if (next > s->map_max)
        next = s->map_max;
    if (!can_map(next)) {
        next = need < s->map_max ? need : s->map_max;  /* the least that will do */
        if (!can_map(next))
            return MM_OK;
    }
    int rc = remap(s, next);
    if (rc == MM_OK)
        s->grow = 0;
    return rc;
}

/* mdb_txn_begin, growing the map first for a write transaction, and
 * adopting the map size of another process that wrote past ours. */
static int begin(mm_store_t *s, int write, MDB_txn **txn)
{
    int rc = MM_OK;
    for (int i = 0; i < MAP_RETRIES; i++) {
        if (s->dead)
            return MM_ENOMEM;
        if (write && (rc = grow_map(s, s->grow)))
            return rc;
        rc = mdb_txn_begin(s->env, NULL, write ? 0 : MDB_RDONLY, txn);
        if (rc != MDB_MAP_RESIZED || s->ntxn)
            break;
        if ((rc = remap(s, 0)))
            return rc;
        rc = MDB_MAP_RESIZED;
    }
    if (rc)
        *txn = NULL;
    return mm_store_rc(rc);
}

int mm_store_open(const char *dir, unsigned flags, mm_store_t **out)
{
    *out = NULL;
    int create = (flags & MM_STORE_CREATE) != 0;
    struct stat st;
    if (stat(dir, &st) != 0) {
        if (errno != ENOENT || !create)
            return mm_store_rc(errno);
        if (mkdir(dir, 0700) != 0)
            return mm_store_rc(errno);
    } else if (!S_ISDIR(st.st_mode)) {
        return MM_ECORRUPT;
    }
    mm_store_t *s = calloc(1, sizeof *s);
    if (!s)
        return MM_ENOMEM;
    MDB_txn *txn = NULL;
    int rc;
    if ((rc = mdb_env_create(&s->env)) != 0) {
        free(s);
        return mm_store_rc(rc);
    }
    mdb_env_set_maxdbs(s->env, 24);
    s->map_max = map_max();
    /* at least the store's size, whatever this says: mdb_env_open sees to it */
    mdb_env_set_mapsize(s->env, MM_STORE_MAP_INITIAL < s->map_max ? MM_STORE_MAP_INITIAL
                                                                  : s->map_max);
    /* Without an existing data.mdb LMDB would create one: refuse unless asked. */
    char path[4096];
    if (!create && (snprintf(path, sizeof path, "%s/data.mdb", dir) >= (int) sizeof path
                    || stat(path, &st) != 0)) {
        rc = MM_ENOTFOUND;
        goto fail;
    }
    unsigned envflags = MDB_NOTLS | ((flags & MM_STORE_RDONLY) ? MDB_RDONLY : 0);
    if ((rc = mdb_env_open(s->env, dir, envflags, 0600)) != 0) {
        rc = mm_store_rc(rc);
        goto fail;
    }
    int dead;
    mdb_reader_check(s->env, &dead);    /* free slots of readers killed mid-read */
    int write = create && !(flags & MM_STORE_RDONLY);
    if ((rc = begin(s, write, &txn)))
        goto fail;
    unsigned format = 0;
    rc = open_tables(s, txn, write ? MDB_CREATE : 0);
    if (rc == MM_OK)
        rc = check_format(s, txn, create && write, &format);
    if ((rc == MM_ENOTFOUND || (rc == MM_OK && format < own_format()))
        && !(flags & MM_STORE_RDONLY)) {
        /* a store from before a table was added, or of an older format:
         * keep a copy as it is, then add the tables and migrate, all in one
         * write transaction */
        mdb_txn_abort(txn);
        txn = NULL;
        if ((rc != MM_OK && (rc = stored_format(s, &format)))
            || (rc = copy_aside(s, dir, format)))
            goto fail;
        write = 1;
        if ((rc = begin(s, 1, &txn)))
            goto fail;
        rc = open_tables(s, txn, MDB_CREATE);
        if (rc == MM_OK)
            rc = check_format(s, txn, 0, &format);
    }
    if (rc == MM_OK && write && format < own_format()) {
        if ((rc = migrate(s, txn, format)) == MM_OK)
            s->migrated_from = format;
    }
    if (rc == MM_ENOTFOUND)
        rc = MM_ECORRUPT;
    if (rc)
        goto fail;
    rc = mdb_txn_commit(txn);           /* keeps the table handles */
    txn = NULL;
    if (rc) {
        rc = mm_store_rc(rc);
        goto fail;
    }
    *out = s;
    return MM_OK;
fail:
    if (txn)
        mdb_txn_abort(txn);
    mdb_env_close(s->env);
    free(s);
    return rc;
}

void mm_store_close(mm_store_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    mdb_env_close((*self_p)->env);
    free(*self_p);
    *self_p = NULL;
}

/* Find this process's mapping of the store file.  LMDB reports its map
 * address only with MDB_FIXEDMAP, so look it up by device and inode in
 * /proc/self/maps; without it, trimming is simply skipped. */
static void find_map(mm_store_t *s)
{
    struct stat st;
    int fd;
    char line[512];
    s->map = NULL;
    s->maplen = 0;
    if (mdb_env_get_fd(s->env, &fd) || fstat(fd, &st))
        return;
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f)
        return;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi, off, ino;
        unsigned maj, mnr;
        if (sscanf(line, "%lx-%lx %*s %lx %x:%x %lu", &lo, &hi, &off, &maj, &mnr, &ino) != 6)
            continue;
        if (ino == (unsigned long) st.st_ino && off == 0
            && makedev(maj, mnr) == st.st_dev && hi - lo > s->maplen) {
            /* NOLINTNEXTLINE(performance-no-int-to-ptr): an address read from maps */
            s->map = (void *) lo;
            s->maplen = hi - lo;
        }
    }
    fclose(f);
}

void mm_store_trim(mm_store_t *self)
{
    struct stat st;
    int fd;
    if (!self->map_known) {
        find_map(self);
        self->map_known = 1;
    }
    if (!self->map || mdb_env_get_fd(self->env, &fd) || fstat(fd, &st))
        return;
    /* The map is read-only (no MDB_WRITEMAP): dropping its pages loses
     * nothing; they stay in the page cache for the next reader. */
    size_t len = (size_t) st.st_size < self->maplen ? (size_t) st.st_size : self->maplen;
    long pg = sysconf(_SC_PAGESIZE);
    len = (len + (size_t) pg - 1) / (size_t) pg * (size_t) pg;
    if (len)
        madvise(self->map, len, MADV_DONTNEED);
}

int mm_store_begin(mm_store_t *self, int write, mm_txn_t **out)
{
    *out = NULL;
    mm_txn_t *t = malloc(sizeof *t);
    if (!t)
        return MM_ENOMEM;
    t->store = self;
    t->write = write;
    int rc = begin(self, write, &t->txn);
    if (rc) {
        free(t);
        return rc;
    }
    self->ntxn++;
    *out = t;
    return MM_OK;
}

mm_store_t *mm_txn_store(mm_txn_t *txn)
{
    return txn->store;
}

/* Did LMDB fail this write transaction, most likely with MDB_MAP_FULL in
 * a put?  It then answers every call with MDB_BAD_TXN.  (After another
 * failure the next write grows the map needlessly: address space only.) */
static int txn_failed(mm_txn_t *t)
{
    MDB_val k = { 6, "format" }, v;
    return t->write && mdb_get(t->txn, t->store->meta, &k, &v) == MDB_BAD_TXN;
}

/* LMDB reports a short write (the disk filled up in the middle of a
 * commit's pwrite) as EIO, not ENOSPC: call it MM_EFULL when the store's
 * file system has next to no room left, so the person is told what to do. */
#define FULL_SLACK ((uint64_t) 1 << 20)
static int commit_rc(const mm_store_t *s, int rc)
{
    struct statvfs vfs;
    int fd;
    if (rc == EIO && !mdb_env_get_fd(s->env, &fd) && !fstatvfs(fd, &vfs)
        && (uint64_t) vfs.f_bavail * vfs.f_frsize < FULL_SLACK)
        return MM_EFULL;
    return mm_store_rc(rc);
}

int mm_txn_commit(mm_txn_t **txn_p)
{
    if (!txn_p || !*txn_p)
        return MM_EINVAL;
    mm_txn_t *t = *txn_p;
    int rc = mdb_txn_commit(t->txn);   /* frees the txn even on failure */
    if (rc == MDB_MAP_FULL || rc == MDB_BAD_TXN)
        t->store->grow = 1;
    t->store->ntxn--;
    rc = commit_rc(t->store, rc);
    free(t);
    *txn_p = NULL;
    return rc;
}

void mm_txn_abort(mm_txn_t **txn_p)
{
    if (!txn_p || !*txn_p)
        return;
    mm_txn_t *t = *txn_p;
    if (txn_failed(t))
        t->store->grow = 1;
    mdb_txn_abort(t->txn);
    t->store->ntxn--;
    free(t);
    *txn_p = NULL;
}

int mm_store_walk(mm_txn_t *txn, MDB_dbi dbi, mm_row_fn fn, void *arg)
{
    MDB_cursor *cur;
    MDB_val k, v;
    int rc = mdb_cursor_open(txn->txn, dbi, &cur);
    if (rc)
        return mm_store_rc(rc);
    int ret = MM_OK;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == MDB_SUCCESS;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
        if ((ret = fn(k.mv_data, k.mv_size, v.mv_data, v.mv_size, arg)) != 0)
            break;
    if (ret == MM_OK && rc != MDB_NOTFOUND)
        ret = mm_store_rc(rc);
    mdb_cursor_close(cur);
    return ret;
}

void mm_store_set_mailbox(mm_store_t *self)
{
    self->blind = 1;
}

int mm_store_del_prefix(mm_txn_t *txn, MDB_dbi dbi, const void *prefix, size_t plen,
                        size_t *n)
{
    MDB_cursor *cur;
    size_t count = 0;
    int rc = mdb_cursor_open(txn->txn, dbi, &cur);
    if (rc)
        return mm_store_rc(rc);
    while (1) {
        /* look the prefix up again after each delete: simple, and safe
         * whatever the deletes do to the tree under the cursor */
        MDB_val k = { plen, (void *) prefix }, v;
        rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
        if (rc || k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0)
            break;
        if ((rc = mdb_cursor_del(cur, MDB_NODUPDATA)))
            break;
        count++;
    }
    mdb_cursor_close(cur);
    if (n)
        *n = count;
    return rc == MDB_SUCCESS || rc == MDB_NOTFOUND ? MM_OK : mm_store_rc(rc);
}

typedef struct {
    mm_row_fn match;
    void *arg;
    uint8_t *keys;                  /* each key in a slot of MAX_KEY bytes, then its length */
    size_t n, cap;
} del_if_t;

#define DEL_KEY_MAX 96              /* the longest key of the tables this is used on */

static int collect_row(const uint8_t *key, size_t klen, const uint8_t *val, size_t vlen,
                       void *arg)
{
    del_if_t *d = arg;
    int hit = d->match(key, klen, val, vlen, d->arg);
    if (hit <= 0)
        return hit;
    if (klen > DEL_KEY_MAX)
        return MM_EINVAL;
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 64;
        uint8_t *p = realloc(d->keys, cap * (DEL_KEY_MAX + 1));
        if (!p)
            return MM_ENOMEM;
        d->keys = p;
        d->cap = cap;
    }
    uint8_t *slot = d->keys + d->n++ * (DEL_KEY_MAX + 1);
    memcpy(slot, key, klen);
    slot[DEL_KEY_MAX] = (uint8_t) klen;
    return 0;
}

int mm_store_del_if(mm_txn_t *txn, MDB_dbi dbi, mm_row_fn match, void *arg, size_t *n)
{
    del_if_t d = { match, arg, NULL, 0, 0 };
    /* collect first, delete after: no cursor walks a table it changes */
    int rc = mm_store_walk(txn, dbi, collect_row, &d);
    for (size_t i = 0; rc == MM_OK && i < d.n; i++) {
        uint8_t *slot = d.keys + i * (DEL_KEY_MAX + 1);
        MDB_val k = { slot[DEL_KEY_MAX], slot };
        rc = mm_store_rc(mdb_del(txn->txn, dbi, &k, NULL));
    }
    free(d.keys);
    if (n)
        *n = rc == MM_OK ? d.n : 0;
    return rc;
}

void mm_store_set_home(mm_store_t *self, const struct mm_keypair *device,
                       const uint8_t identity[32])
{
    self->device = device;
    memcpy(self->identity, identity, 32);
}
