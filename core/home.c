#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>
#include <sys/stat.h>
#include "core/home.h"
#include "core/meta.h"
#include "core/mailbox.h"
#include "core/be64.h"
#include "core/utf8.h"
#include "crypto/keyfile.h"
#include "crypto/random.h"
#include "crypto/error.h"

#define IDENTITY_KEY "identity.key"
#define DEVICE_KEY   "device.key"
#define DEVICE_NEXT  "device.key.new"   /* a reset in progress (mm_home_rotate_device) */
#define STORE_DIR    "store"

struct mm_home {
    char          path[MM_PATH_MAX];
    mm_keypair_t *device;
    mm_store_t   *store;
    uint8_t       identity_pk[32];
    uint8_t       self_scope[32];
    char          name[MM_NAME_MAX + 1];
    char          devname[MM_DEVNAME_MAX + 1];
    int           mailbox;          /* meta "role" is a mailbox's (core/mailbox.h) */
    uint64_t      quota;            /* a mailbox's, bytes per person */
};

static int errno_rc(int e)
{
    switch (e) {
    case ENOENT: return MM_ENOTFOUND;
    case EEXIST: case ENOTEMPTY: return MM_EEXIST;
    case EACCES: case EPERM: case EROFS: return MM_EPERM;
    case ENOSPC: case EDQUOT: return MM_EFULL;
    case ENAMETOOLONG: return MM_EINVAL;
    default: return MM_EIO;
    }
}

static int join(char *out, size_t cap, const char *a, const char *b)
{
    return snprintf(out, cap, "%s/%s", a, b) < (int) cap ? MM_OK : MM_EINVAL;
}

int mm_home_resolve(const char *flag, char *out, size_t cap)
{
    const char *env;
    int n;
    if (flag && *flag)
        n = snprintf(out, cap, "%s", flag);
    else if ((env = getenv("MM_HOME")) && *env)
        n = snprintf(out, cap, "%s", env);
    else if ((env = getenv("XDG_DATA_HOME")) && *env == '/')
        n = snprintf(out, cap, "%s/micromentor", env);
    else if ((env = getenv("HOME")) && *env)
        n = snprintf(out, cap, "%s/.local/share/micromentor", env);
    else
        return MM_EINVAL;
    if (n < 0 || n >= (int) cap)
        return MM_EINVAL;
    while (n > 1 && out[n - 1] == '/')      /* "dir/" and "dir" are one home */
        out[--n] = '\0';
    return MM_OK;
}

/* mkdir -p for the parents of a new home; directories we create are 0700. */
static int make_parents(const char *path)
{
    char tmp[MM_PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
            return errno_rc(errno);
        *p = '/';
    }
    return MM_OK;
}

static int dir_is_empty(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return 0;
    struct dirent *de;
    int empty = 1;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
            empty = 0;
            break;
        }
    closedir(d);
    return empty;
}

static int fsync_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return errno_rc(errno);
    int rc = fsync(fd) == 0 ? MM_OK : errno_rc(errno);
    close(fd);
    return rc;
}

/* Remove a half-built temporary home: only the files init itself writes. */
static void remove_tmp(const char *tmp)
{
    static const char *files[] = {
        IDENTITY_KEY, DEVICE_KEY, STORE_DIR "/data.mdb", STORE_DIR "/lock.mdb", STORE_DIR,
    };
    char p[MM_PATH_MAX];
    for (unsigned i = 0; i < sizeof files / sizeof files[0]; i++)
        if (join(p, sizeof p, tmp, files[i]) == MM_OK)
            remove(p);
    rmdir(tmp);
}

/* Fill the new store: profile, this device's certificate, the self scope;
 * or, with fill, everything but the self scope, then what fill adds. */
static int populate(const char *tmp, const mm_keypair_t *identity, const mm_keypair_t *device,
                    const char *name, const char *devname, uint64_t now,
                    mm_home_fill_fn fill, void *arg)
{
    char p[MM_PATH_MAX];
    uint8_t cert[MM_CERT_MAX];
    size_t certlen;
    mm_store_t *store = NULL;
    mm_txn_t *txn = NULL;
    mm_scope_t self = { .kind = MM_SCOPE_SELF, .nmembers = 1, .created = now };
    int rc = join(p, sizeof p, tmp, STORE_DIR);
    if (rc || (rc = mm_store_open(p, MM_STORE_CREATE, &store))
        || (rc = mm_store_begin(store, 1, &txn)))
        goto out;
    memcpy(self.members[0], mm_keypair_pk(identity), 32);
    mm_scope_self_id(self.id, mm_keypair_pk(identity));
    mm_random_bytes(self.keys[0], 32);
    self.nkeys = 1;
    if ((rc = mm_cert_make(identity, device, now, devname, MM_CERT_IDENTITY, cert, sizeof cert,
                           &certlen))
        || (rc = mm_cert_put(txn, cert, certlen, NULL))
        || (!fill && (rc = mm_scope_put(txn, &self)))
        || (rc = mm_meta_put(txn, "identity", mm_keypair_pk(identity), 32))
        || (rc = mm_meta_put(txn, "device", mm_keypair_pk(device), 32))
        || (rc = mm_meta_put(txn, "self", self.id, 32))
        || (rc = mm_meta_put(txn, "name", name, strlen(name))))
        goto out;
    if ((rc = mm_txn_commit(&txn)) || !fill)
        goto out;
    mm_scope_t got;
    if ((rc = fill(store, arg)) == MM_OK && (rc = mm_store_begin(store, 0, &txn)) == MM_OK) {
        rc = mm_scope_get(txn, self.id, &got);  /* a home without its self scope is no home */
        mm_scope_wipe(&got);
        if (rc == MM_ENOTFOUND)
            rc = MM_ECORRUPT;
    }
out:
    mm_scope_wipe(&self);
    mm_txn_abort(&txn);
    mm_store_close(&store);
    return rc;
}

int mm_home_init(const char *path, const char *name, const char *devname, uint64_t now)
{
    mm_keypair_t *identity = mm_keypair_new(), *device = mm_keypair_new();
    int rc = identity && device ? mm_home_init_keys(path, name, devname, now, identity, device)
                                : MM_ENOMEM;
    mm_keypair_destroy(&identity);
    mm_keypair_destroy(&device);
    return rc;
}

/* The steps every new home shares: normalise path_arg into path, refuse a
 * non-empty place, make the parents and a temporary sibling tmp (0700). */
static int begin_tmp(const char *path_arg, char path[MM_PATH_MAX], char tmp[MM_PATH_MAX],
                     char parent[MM_PATH_MAX])
{
    size_t plen = strlen(path_arg);
    struct stat st;
    while (plen > 1 && path_arg[plen - 1] == '/')    /* "dir/" is "dir" */
        plen--;
    if (plen == 0 || plen >= MM_PATH_MAX)
        return MM_EINVAL;
    memcpy(path, path_arg, plen);
    path[plen] = '\0';
    /* fast, friendly refusal; the rename in finish_tmp is what makes it race-free */
    if (lstat(path, &st) == 0 && (!S_ISDIR(st.st_mode) || !dir_is_empty(path)))
        return MM_EEXIST;
    int rc = make_parents(path);
    if (rc)
        return rc;
    snprintf(parent, MM_PATH_MAX, "%s", path);
    char *slash = strrchr(parent, '/');
    if (slash == parent)
        parent[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        snprintf(parent, MM_PATH_MAX, ".");
    if (snprintf(tmp, MM_PATH_MAX, "%s.init-XXXXXX", path) >= MM_PATH_MAX)
        return MM_EINVAL;
    if (!mkdtemp(tmp))                          /* mode 0700 */
        return errno_rc(errno);
    return MM_OK;
}

/* Rename the filled tmp into place, or remove it on failure (rc != 0). */
static int finish_tmp(int rc, const char *tmp, const char *path, const char *parent)
{
    if (rc == MM_OK && (rc = fsync_dir(tmp)) == MM_OK) {
        /* rename(2) replaces only a missing or empty directory: atomic refusal */
        if (rename(tmp, path) == 0)
            return fsync_dir(parent);
        rc = errno_rc(errno);
    }
    remove_tmp(tmp);
    return rc;
}

int mm_home_init_keys(const char *path, const char *name, const char *devname, uint64_t now,
                      const mm_keypair_t *identity, const mm_keypair_t *device)
{
    return mm_home_init_fill(path, name, devname, now, identity, device, NULL, NULL);
}

int mm_home_init_fill(const char *path_arg, const char *name, const char *devname,
                      uint64_t now, const mm_keypair_t *identity, const mm_keypair_t *device,
                      mm_home_fill_fn fill, void *arg)
{
    char host[MM_DEVNAME_MAX + 1] = "device";
    char path[MM_PATH_MAX], tmp[MM_PATH_MAX], parent[MM_PATH_MAX], p[MM_PATH_MAX];
    size_t nlen = strlen(name);
    if (nlen == 0 || nlen > MM_NAME_MAX || !mm_utf8_valid(name, nlen))
        return MM_EINVAL;
    if (!devname || !*devname) {
        if (gethostname(host, sizeof host - 1) != 0 || !*host)
            snprintf(host, sizeof host, "device");
        host[MM_DEVNAME_MAX] = '\0';
        devname = host;
    }
    if (strlen(devname) > MM_DEVNAME_MAX || !mm_utf8_valid(devname, strlen(devname)))
        return MM_EINVAL;
    int rc = begin_tmp(path_arg, path, tmp, parent);
    if (rc)
        return rc;
    if ((rc = join(p, sizeof p, tmp, IDENTITY_KEY)) == MM_OK
        && (rc = mm_keyfile_write(p, MM_KEY_IDENTITY, identity)) == MM_OK
        && (rc = join(p, sizeof p, tmp, DEVICE_KEY)) == MM_OK
        && (rc = mm_keyfile_write(p, MM_KEY_DEVICE, device)) == MM_OK)
        rc = populate(tmp, identity, device, name, devname, now, fill, arg);
    return finish_tmp(rc, tmp, path, parent);
}

int mm_home_init_joined(const char *path_arg, const mm_keypair_t *device,
                        const uint8_t identity_pk[32], const char *name, const uint8_t *cert,
                        size_t certlen, mm_home_join_fn fill, void *arg)
{
    char path[MM_PATH_MAX], tmp[MM_PATH_MAX], parent[MM_PATH_MAX], p[MM_PATH_MAX];
    uint8_t self[32];
    mm_store_t *store = NULL;
    mm_txn_t *txn = NULL;
    mm_cert_t c;
    size_t nlen = strlen(name);
    if (nlen == 0 || nlen > MM_NAME_MAX || !mm_utf8_valid(name, nlen))
        return MM_EINVAL;
    int rc = mm_cert_parse(cert, certlen, &c);
    if (rc || memcmp(c.device, mm_keypair_pk(device), 32) || memcmp(c.identity, identity_pk, 32))
        return MM_EBADCERT;
    if ((rc = begin_tmp(path_arg, path, tmp, parent)))
        return rc;
    mm_scope_self_id(self, identity_pk);
    if ((rc = join(p, sizeof p, tmp, DEVICE_KEY)) == MM_OK
        && (rc = mm_keyfile_write(p, MM_KEY_DEVICE, device)) == MM_OK
        && (rc = join(p, sizeof p, tmp, STORE_DIR)) == MM_OK
        && (rc = mm_store_open(p, MM_STORE_CREATE, &store)) == MM_OK
        && (rc = mm_store_begin(store, 1, &txn)) == MM_OK
        && (rc = mm_cert_put(txn, cert, certlen, NULL)) == MM_OK
        && (rc = mm_meta_put(txn, "identity", identity_pk, 32)) == MM_OK
        && (rc = mm_meta_put(txn, "device", mm_keypair_pk(device), 32)) == MM_OK
        && (rc = mm_meta_put(txn, "self", self, 32)) == MM_OK
        && (rc = mm_meta_put(txn, "name", name, nlen)) == MM_OK
        && (rc = fill(txn, arg)) == MM_OK) {
        mm_scope_t sc;
        /* a home without its self scope could not be opened for notes */
        rc = mm_scope_get(txn, self, &sc) == MM_OK ? mm_txn_commit(&txn) : MM_EPROTO;
        mm_scope_wipe(&sc);
    }
    mm_txn_abort(&txn);
    mm_store_close(&store);
    return finish_tmp(rc, tmp, path, parent);
}

static int meta_copy(mm_txn_t *txn, const char *key, void *out, size_t want)
{
    const uint8_t *v;
    size_t n;
    int rc = mm_meta_get(txn, key, &v, &n);
    if (rc)
        return rc == MM_ENOTFOUND ? MM_ECORRUPT : rc;
    if (n != want)
        return MM_ECORRUPT;
    memcpy(out, v, n);
    return MM_OK;
}

/* A home made before certificates carried the device's proof (PROTOCOL.md
 * 3.1, 11) gets a version-2 certificate of its device, same name, with the
 * identity-device flag, where the identity key is here to sign it (before
 * version 2 every home was its identity's only device).  Without the
 * identity key the old certificate stays: it still serves in HELLO. */
static int reissue_cert(mm_home_t *h, const mm_cert_t *old)
{
    mm_keypair_t *idk = NULL;
    mm_txn_t *txn = NULL;
    uint8_t buf[MM_CERT_MAX];
    size_t len;
    int rc = mm_home_identity_key(h, &idk);
    if (rc == MM_ENOTFOUND)
        return MM_OK;
    if (rc)
        return rc;
    uint64_t created = old->created + 1;    /* newer than the one it replaces */
    if ((rc = mm_cert_make(idk, h->device, created, old->name, MM_CERT_IDENTITY, buf,
                           sizeof buf, &len)) == MM_OK
        && (rc = mm_store_begin(h->store, 1, &txn)) == MM_OK
        && (rc = mm_cert_put(txn, buf, len, NULL)) == MM_OK)
        rc = mm_txn_commit(&txn);
    mm_txn_abort(&txn);
    mm_keypair_destroy(&idk);
    return rc;
}

/* The device key the store names (meta "device"), read in a txn of its own
 * from the store at HOME/store; MM_ENOTFOUND if there is no store. */
static int stored_device(const char *home, uint8_t pk[32])
{
    char p[MM_PATH_MAX];
    mm_store_t *st = NULL;
    mm_txn_t *txn = NULL;
    const uint8_t *v;
    size_t n;
    int rc = join(p, sizeof p, home, STORE_DIR);
    if (rc || (rc = mm_store_open(p, 0, &st)))
        return rc;
    if ((rc = mm_store_begin(st, 0, &txn)) == MM_OK && (rc = mm_meta_get(txn, "device", &v, &n)) == MM_OK) {
        if (n == 32)
            memcpy(pk, v, 32);
        else
            rc = MM_ECORRUPT;
    }
    mm_txn_abort(&txn);
    mm_store_close(&st);
    return rc;
}

/* A reset interrupted by a crash (mm_home_rotate_device) is finished or
 * undone here, by what the store says: the store's commit is the moment
 * the new key became this device's.  If the store names the key in
 * device.key.new, it is renamed into place; otherwise the new key was
 * never used and is removed. */
static int finish_rotation(const char *home)
{
    char next[MM_PATH_MAX], cur[MM_PATH_MAX];
    struct stat st;
    uint8_t pk[32];
    mm_keypair_t *kp = NULL;
    int rc;
    if ((rc = join(next, sizeof next, home, DEVICE_NEXT)) || (rc = join(cur, sizeof cur, home, DEVICE_KEY)))
        return rc;
    if (lstat(next, &st) != 0)
        return MM_OK;                       /* the usual case: no reset under way */
    if ((rc = stored_device(home, pk)))
        return rc;
    if (mm_keyfile_read(next, MM_KEY_DEVICE, &kp) == MM_OK && memcmp(mm_keypair_pk(kp), pk, 32) == 0)
        rc = rename(next, cur) == 0 ? fsync_dir(home) : errno_rc(errno);
    else
        rc = unlink(next) == 0 ? MM_OK : errno_rc(errno);
    mm_keypair_destroy(&kp);
    return rc;
}

int mm_home_rotate_device(mm_home_t *self, uint64_t now, mm_home_rotate_fn fn, void *arg,
                          uint8_t old_pk[32])
{
    char next[MM_PATH_MAX], cur[MM_PATH_MAX];
    mm_keypair_t *idk = NULL, *dev = NULL;
    mm_txn_t *txn = NULL;
    uint8_t cert[MM_CERT_MAX];
    size_t certlen;
    int rc = mm_home_identity_key(self, &idk);
    if (rc == MM_ENOTFOUND)
        return MM_ENOIDENTITY;
    if (rc)
        return rc;
    memcpy(old_pk, mm_keypair_pk(self->device), 32);
    if ((rc = join(next, sizeof next, self->path, DEVICE_NEXT))
        || (rc = join(cur, sizeof cur, self->path, DEVICE_KEY)))
        goto out;
    if (!(dev = mm_keypair_new())) {
        rc = MM_ENOMEM;
        goto out;
    }
    /* 1: the new key on disk beside the old; 2: the store switches in one
     * commit (certificate, meta, the caller's revocation); 3: the file is
     * renamed over the old one.  A crash anywhere is finished or undone by
     * the next open (finish_rotation). */
    unlink(next);
    if ((rc = mm_keyfile_write(next, MM_KEY_DEVICE, dev)) || (rc = fsync_dir(self->path)))
        goto out;
    if ((rc = mm_cert_make(idk, dev, now, self->devname, MM_CERT_IDENTITY, cert, sizeof cert,
                           &certlen))
        || (rc = mm_store_begin(self->store, 1, &txn))
        || (rc = mm_cert_put(txn, cert, certlen, NULL))
        || (rc = mm_meta_put(txn, "device", mm_keypair_pk(dev), 32))
        || (fn && (rc = fn(txn, idk, old_pk, dev, arg)))
        || (rc = mm_txn_commit(&txn)))
        goto out;
    if (rename(next, cur) != 0) {
        rc = errno_rc(errno);               /* committed: the next open renames it */
        goto out;
    }
    rc = fsync_dir(self->path);
    mm_keypair_destroy(&self->device);
    self->device = dev;
    mm_store_set_home(self->store, self->device, self->identity_pk);   /* not the old key */
    dev = NULL;
out:
    mm_txn_abort(&txn);
    if (dev && rc)
        unlink(next);
    mm_keypair_destroy(&dev);
    mm_keypair_destroy(&idk);
    return rc;
}

/* The profile the store holds: identity, self scope, name and this
 * device's certificate; devpk gets meta "device".  A mailbox home (meta
 * "role") has none of them until it is linked (core/mailbox.h): then its
 * identity is its owner's and its certificate the mailbox certificate. */
static int read_profile(mm_home_t *h, mm_txn_t *txn, uint8_t devpk[32], mm_cert_t *cert)
{
    const uint8_t *v;
    size_t n;
    int rc = mm_meta_get(txn, "role", &v, &n);
    h->mailbox = rc == MM_OK && n == 1 && v[0] == MM_MAILBOX_ROLE;
    if (rc == MM_OK && !h->mailbox)
        return MM_ECORRUPT;
    if ((rc = meta_copy(txn, "device", devpk, 32)))
        return rc;
    memset(cert, 0, sizeof *cert);
    if (h->mailbox) {
        uint8_t q[8];
        if ((rc = meta_copy(txn, "quota", q, 8)))
            return rc;
        h->quota = mm_be64_get(q);
        snprintf(h->devname, sizeof h->devname, "mailbox");
        if (mm_meta_get(txn, "identity", &v, &n) == MM_ENOTFOUND) {
            memset(h->identity_pk, 0, 32);      /* not linked yet */
            memset(h->self_scope, 0, 32);
            h->name[0] = '\0';
            cert->version = 2;
            return MM_OK;
        }
    }
    if ((rc = meta_copy(txn, "identity", h->identity_pk, 32))
        || (rc = meta_copy(txn, "self", h->self_scope, 32))
        || (rc = mm_meta_get(txn, "name", &v, &n)))
        return rc;
    if (n > MM_NAME_MAX)
        return MM_ECORRUPT;
    memcpy(h->name, v, n);
    h->name[n] = '\0';
    if ((rc = mm_cert_get(txn, devpk, cert, NULL, NULL)))
        return rc;
    snprintf(h->devname, sizeof h->devname, "%s", cert->name);
    return MM_OK;
}

int mm_home_refresh(mm_home_t *self)
{
    mm_txn_t *txn;
    mm_cert_t cert;
    uint8_t devpk[32];
    int rc = mm_store_begin(self->store, 0, &txn);
    if (rc == MM_OK)
        rc = read_profile(self, txn, devpk, &cert);
    mm_txn_abort(&txn);
    return rc;
}

int mm_home_is_mailbox(const mm_home_t *self) { return self->mailbox; }

int mm_home_listen(mm_home_t *self, char out[][MM_ENDPOINT_MAX + 1], unsigned max,
                   unsigned *n)
{
    mm_txn_t *txn;
    const uint8_t *v;
    size_t len;
    *n = 0;
    int rc = mm_store_begin(self->store, 0, &txn);
    if (rc)
        return rc;
    if ((rc = mm_meta_get(txn, "listen", &v, &len)) == MM_OK) {
        size_t i = 0;
        while (i < len && *n < max) {
            size_t j = i;
            while (j < len && v[j] != '\n')
                j++;
            if (j - i > 0 && j - i <= MM_ENDPOINT_MAX) {
                memcpy(out[*n], v + i, j - i);
                out[(*n)++][j - i] = '\0';
            }
            i = j + 1;
        }
    }
    mm_txn_abort(&txn);
    return rc;
}

int mm_home_init_mailbox(const char *path_arg, char *const *listen, unsigned nlisten,
                         uint64_t quota)
{
    char path[MM_PATH_MAX], tmp[MM_PATH_MAX], parent[MM_PATH_MAX], p[MM_PATH_MAX];
    char eps[MM_META_VALUE_MAX];
    size_t elen = 0;
    uint8_t role = MM_MAILBOX_ROLE, q[8];
    mm_store_t *store = NULL;
    mm_txn_t *txn = NULL;
    if (nlisten < 1 || nlisten > MM_PEER_ENDPOINTS || quota == 0)
        return MM_EINVAL;
    for (unsigned i = 0; i < nlisten; i++) {
        size_t l = strlen(listen[i]);
        if (l == 0 || l > MM_ENDPOINT_MAX || strchr(listen[i], '\n'))
            return MM_EINVAL;
        memcpy(eps + elen, listen[i], l);
        elen += l;
        eps[elen++] = '\n';
    }
    mm_keypair_t *device = mm_keypair_new();
    if (!device)
        return MM_ENOMEM;
    mm_be64_put(q, quota);
    int rc = begin_tmp(path_arg, path, tmp, parent);
    if (rc) {
        mm_keypair_destroy(&device);
        return rc;
    }
    /* a device key and a store: no identity, no self scope, no certificate */
    if ((rc = join(p, sizeof p, tmp, DEVICE_KEY)) == MM_OK
        && (rc = mm_keyfile_write(p, MM_KEY_DEVICE, device)) == MM_OK
        && (rc = join(p, sizeof p, tmp, STORE_DIR)) == MM_OK
        && (rc = mm_store_open(p, MM_STORE_CREATE, &store)) == MM_OK
        && (rc = mm_store_begin(store, 1, &txn)) == MM_OK
        && (rc = mm_meta_put(txn, "role", &role, 1)) == MM_OK
        && (rc = mm_meta_put(txn, "device", mm_keypair_pk(device), 32)) == MM_OK
        && (rc = mm_meta_put(txn, "quota", q, 8)) == MM_OK
        && (rc = mm_meta_put(txn, "listen", eps, elen)) == MM_OK)
        rc = mm_txn_commit(&txn);
    mm_txn_abort(&txn);
    mm_store_close(&store);
    mm_keypair_destroy(&device);
    return finish_tmp(rc, tmp, path, parent);
}

/* Is path, if it exists, open to group or others (or, with nolink, a
 * symbolic link)?  MM_EPERM if so: a home holds secrets, and is checked
 * like its key files (PROTOCOL.md 6). */
static int too_open(const char *dir, const char *name, int nolink)
{
    char p[MM_PATH_MAX];
    struct stat st;
    int rc = name ? join(p, sizeof p, dir, name) : MM_OK;
    if (rc)
        return rc;
    if (lstat(name ? p : dir, &st) != 0)
        return MM_OK;               /* missing: said by whoever needs it */
    if (S_ISLNK(st.st_mode) && (nolink || stat(name ? p : dir, &st) != 0))
        return nolink ? MM_EPERM : MM_OK;
    return st.st_mode & 077 ? MM_EPERM : MM_OK;
}

/* The modes of the home (0700), its store directory (0700) and files
 * (0600), and of identity.key (0600, not a link); device.key is checked as
 * it is read. */
static int check_modes(const char *path)
{
    char store[MM_PATH_MAX];
    int rc = join(store, sizeof store, path, STORE_DIR);
    if (rc == MM_OK && (rc = too_open(path, NULL, 0)) == MM_OK
        && (rc = too_open(path, IDENTITY_KEY, 1)) == MM_OK
        && (rc = too_open(store, NULL, 0)) == MM_OK
        && (rc = too_open(store, "data.mdb", 0)) == MM_OK)
        rc = too_open(store, "lock.mdb", 0);
    return rc;
}

int mm_home_open(const char *path, mm_home_t **out)
{
    char p[MM_PATH_MAX];
    struct stat st;
    mm_txn_t *txn = NULL;
    uint8_t devpk[32];
    *out = NULL;
    if (stat(path, &st) != 0)
        return errno == ENOENT ? MM_ENOTFOUND : errno_rc(errno);
    if (!S_ISDIR(st.st_mode) || join(p, sizeof p, path, DEVICE_KEY)
        || (lstat(p, &st) != 0 && errno == ENOENT))
        return MM_ENOTFOUND;
    mm_home_t *h = calloc(1, sizeof *h);
    if (!h)
        return MM_ENOMEM;
    snprintf(h->path, sizeof h->path, "%s", path);
    int rc = finish_rotation(path);
    if (rc == MM_OK)
        rc = mm_keyfile_read(p, MM_KEY_DEVICE, &h->device);
    /* The identity key is loaded only to certify, and may be kept offline;
     * but if it is here, a secret readable by others is refused at once,
     * as is a home or store others may read */
    if (rc == MM_OK)
        rc = check_modes(path);
    if (rc)
        goto fail;
    if ((rc = join(p, sizeof p, path, STORE_DIR)) || (rc = mm_store_open(p, 0, &h->store)))
        goto fail;
    if ((rc = mm_store_begin(h->store, 0, &txn)))
        goto fail;
    mm_cert_t cert;
    if ((rc = read_profile(h, txn, devpk, &cert)))
        goto fail;
    /* the key file must be the key this store was made for */
    if (memcmp(devpk, mm_keypair_pk(h->device), 32) != 0) {
        rc = MM_EKEYFILE;
        goto fail;
    }
    mm_txn_abort(&txn);
    if (!h->mailbox && cert.version < 2 && (rc = reissue_cert(h, &cert)))
        goto fail;
    if (h->mailbox)
        mm_store_set_mailbox(h->store);   /* blind: it applies nothing */
    else
        mm_store_set_home(h->store, h->device, h->identity_pk);
    *out = h;
    return MM_OK;
fail:
    mm_txn_abort(&txn);
    mm_home_close(&h);
    return rc;
}

void mm_home_close(mm_home_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    mm_home_t *h = *self_p;
    mm_store_close(&h->store);
    mm_keypair_destroy(&h->device);
    free(h);
    *self_p = NULL;
}

mm_store_t *mm_home_store(mm_home_t *self) { return self->store; }
const mm_keypair_t *mm_home_device(const mm_home_t *self) { return self->device; }
const uint8_t *mm_home_identity_pk(const mm_home_t *self) { return self->identity_pk; }
const uint8_t *mm_home_self_scope(const mm_home_t *self) { return self->self_scope; }
const char *mm_home_name(const mm_home_t *self) { return self->name; }
const char *mm_home_devname(const mm_home_t *self) { return self->devname; }
const char *mm_home_path(const mm_home_t *self) { return self->path; }

int mm_home_identity_key(const mm_home_t *self, mm_keypair_t **out)
{
    char p[MM_PATH_MAX];
    int rc = join(p, sizeof p, self->path, IDENTITY_KEY);
    if (rc == MM_OK)
        rc = mm_keyfile_read(p, MM_KEY_IDENTITY, out);
    if (rc == MM_OK && memcmp(mm_keypair_pk(*out), self->identity_pk, 32) != 0) {
        mm_keypair_destroy(out);
        rc = MM_EKEYFILE;
    }
    return rc;
}
