/*  home.h -- a person's home directory on this device: keys, store, profile.
 *
 *  HOME (0700)
 *    identity.key   identity secret key (0600), see keyfile.h
 *    device.key     this device's secret key (0600)
 *    store/         LMDB environment (data.mdb, lock.mdb; 0600)
 *  The store's meta table holds "identity" (pk), "device" (pk), "name" and
 *  "self" (self-scope id); the certs table holds this device's certificate.
 */
#ifndef MM_HOME_H
#define MM_HOME_H

#include <stddef.h>
#include "crypto/error.h"
#include <stdint.h>
#include "crypto/sign.h"
#include "core/store.h"
#include "core/log.h"
#include "core/peer.h"

#define MM_NAME_MAX 64
#define MM_PATH_MAX 4096

typedef struct mm_home mm_home_t;

/* Resolve the home directory: flag if non-NULL, else $MM_HOME, else
 * $XDG_DATA_HOME/micromentor, else $HOME/.local/share/micromentor.
 * MM_OK; MM_EINVAL (no way to find one, or the path is too long). */
int mm_home_resolve(const char *flag, char *out, size_t cap) MM_NODISCARD;

/* Create a new home at path, atomically: everything is built in a sibling
 * temporary directory and renamed into place, so a crash leaves no half
 * home.  path may be missing or an empty directory.  name is the person's
 * display name, devname this device's (may be NULL: the host name).
 * MM_OK; MM_EEXIST (path exists and is not empty: nothing is changed);
 * MM_EINVAL (name empty or too long); MM_EPERM; MM_EIO; MM_EFULL. */
int mm_home_init(const char *path, const char *name, const char *devname,
                 uint64_t now) MM_NODISCARD;
/* The same with given identity and device key pairs (not taken over): a
 * restored identity, or the fixed keys of test vectors. */
int mm_home_init_keys(const char *path, const char *name, const char *devname, uint64_t now,
                      const mm_keypair_t *identity, const mm_keypair_t *device) MM_NODISCARD;
/* The same, for a restore (core/backup.h): the new store gets the profile
 * and this device's certificate but no self scope; then fill is called
 * with the store, still in the temporary directory, and must add the self
 * scope (its record as the backup holds it) and whatever else it restores,
 * in as many transactions as it likes: nothing is in place at path until
 * fill has returned MM_OK and the directory is renamed, so a failure, or a
 * crash, leaves no home.  fill's error is returned (the temporary
 * directory removed); MM_ECORRUPT if fill left no self scope; else as
 * mm_home_init. */
typedef int (*mm_home_fill_fn)(mm_store_t *store, void *arg);
int mm_home_init_fill(const char *path, const char *name, const char *devname, uint64_t now,
                      const mm_keypair_t *identity, const mm_keypair_t *device,
                      mm_home_fill_fn fill, void *arg) MM_NODISCARD;

/* Fills a new store inside mm_home_init_joined's one write transaction;
 * MM_OK, or an error that abandons the new home. */
typedef int (*mm_home_join_fn)(mm_txn_t *txn, void *arg);

/* Create the home of a device joining an existing identity (pairing,
 * PROTOCOL.md 9.1), atomically as mm_home_init: device.key, a store whose
 * meta names identity_pk, this device and its self scope H("mm self scope
 * v1" || identity_pk), the person's name, with cert (this device's
 * certificate by identity_pk, verified here) stored; then fill stores the
 * rest (scopes, peers, certificates) in the same transaction.  No
 * identity.key: this device cannot certify.  The self scope must be among
 * what fill stored.  MM_OK; MM_EBADCERT (cert is not device's by
 * identity_pk); MM_EPROTO (no self scope); MM_EEXIST, MM_EINVAL, MM_EPERM,
 * MM_EIO, MM_EFULL as mm_home_init; fill's error. */
int mm_home_init_joined(const char *path, const mm_keypair_t *device,
                        const uint8_t identity_pk[32], const char *name, const uint8_t *cert,
                        size_t certlen, mm_home_join_fn fill, void *arg) MM_NODISCARD;

/* Open an existing home: loads the device key and opens the store.  The
 * identity key is not loaded (see mm_home_identity_key) and may be absent.
 * MM_EPERM if a key file is a symbolic link or lets group or others in,
 * or the home, its store directory or the store's data.mdb or lock.mdb
 * does (PROTOCOL.md 6: the home 0700, key and store files 0600).
 * MM_OK; MM_ENOTFOUND (no home there); MM_EPERM; MM_EKEYFILE; MM_ECORRUPT;
 * MM_EVERSION; MM_EIO; MM_ENOMEM. */
int  mm_home_open(const char *path, mm_home_t **out) MM_NODISCARD;
void mm_home_close(mm_home_t **self_p);

mm_store_t         *mm_home_store(mm_home_t *self);
const mm_keypair_t *mm_home_device(const mm_home_t *self);
const uint8_t      *mm_home_identity_pk(const mm_home_t *self);
const uint8_t      *mm_home_self_scope(const mm_home_t *self);
const char         *mm_home_name(const mm_home_t *self);
const char         *mm_home_devname(const mm_home_t *self);
const char         *mm_home_path(const mm_home_t *self);

/* Give this home a new device key, for a key that must not be used again
 * (a copied home, a device that may be compromised): `mm device reset`.
 * Needs the identity key (MM_ENOIDENTITY without it).  In one store
 * transaction it stores a version-2 certificate of a fresh key (same
 * device name, identity-device flag), makes it the home's device, and
 * calls fn (may be NULL) with the identity key, the old device key and
 * the new key pair, so that the caller revokes the old key and rotates
 * the scope keys in that same transaction; a non-zero return aborts it.
 * The key file is replaced after the commit; a crash at any step is
 * finished or undone by the next mm_home_open (the store decides).
 * old_pk gets the old device key.  MM_OK; MM_ENOIDENTITY; MM_EKEYFILE;
 * MM_EIO; MM_EFULL; fn's error. */
typedef int (*mm_home_rotate_fn)(mm_txn_t *txn, const mm_keypair_t *identity,
                                 const uint8_t old_device[32], const mm_keypair_t *new_device,
                                 void *arg);
int mm_home_rotate_device(mm_home_t *self, uint64_t now, mm_home_rotate_fn fn, void *arg,
                          uint8_t old_pk[32]) MM_NODISCARD;

/* Create a mailbox home at path (PROTOCOL.md 14), atomically as
 * mm_home_init: device.key and a store whose meta says role mailbox, the
 * quota (bytes per person) and the endpoints mm serve listens on when
 * given none (1..4); no identity, no self scope, no certificate until it
 * is linked (core/mailbox.h).  MM_OK; MM_EINVAL; MM_EEXIST; MM_EPERM;
 * MM_EIO; MM_EFULL. */
int mm_home_init_mailbox(const char *path, char *const *listen, unsigned nlisten,
                         uint64_t quota) MM_NODISCARD;

/* 1 if this is a mailbox's home (core/mailbox.h).  An unlinked one has an
 * all-zero identity and self scope, an empty name and no certificate. */
int mm_home_is_mailbox(const mm_home_t *self);

/* Read the profile (identity, self scope, names) again from the store: a
 * mailbox that was just linked.  MM_OK; MM_ECORRUPT; store errors. */
int mm_home_refresh(mm_home_t *self) MM_NODISCARD;

/* The endpoints a mailbox home listens on by default (meta "listen"),
 * into out[0..max); *n gets how many (0 for any other home).  MM_OK;
 * store errors. */
int mm_home_listen(mm_home_t *self, char out[][MM_ENDPOINT_MAX + 1], unsigned max,
                   unsigned *n) MM_NODISCARD;

/* Load the identity secret key (only commands that certify need it).
 * Caller destroys *out.  Errors as mm_keyfile_read. */
int mm_home_identity_key(const mm_home_t *self, mm_keypair_t **out) MM_NODISCARD;

#endif
