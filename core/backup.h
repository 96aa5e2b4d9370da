/*  backup.h -- a passphrase-encrypted copy of a home, and restoring it.
 *
 *  A backup holds what exists only on one person's devices: the identity
 *  key, every scope record (with its key), every certificate, the peer
 *  records, this device's question order, and every entry of every feed
 *  (private notes and ambitions live in the self scope, which no peer
 *  holds).  It is made on the identity device only, since it carries the
 *  identity key.  The file (PROTOCOL.md 12):
 *
 *    header (64) = "mmbk" | version 1 | kdf 1 (Argon2id v1.3) | 0 0 |
 *                  opslimit (8, BE) | memlimit (8, BE) | salt (16) |
 *                  secretstream header (24)
 *    then messages  u32 BE length | crypto_secretstream_xchacha20poly1305
 *                  ciphertext, the first with the 64 header bytes as its
 *                  additional data, the last tagged FINAL
 *  key = crypto_pwhash(32, passphrase, salt, opslimit, memlimit, Argon2id
 *  v1.3).  Each plaintext is one canonical msgpack record: "home", then
 *  "cert", "scope", "peer", "question", "entry", then the device statements
 *  and forks ("revoke", "endpoints", "fork") records, then ["end", n].
 *
 *  Restoring makes a new home with the backup's identity key and a FRESH
 *  device key, certified by the identity key.  The device the backup was
 *  made on keeps its feeds, which the new home stores and never appends to
 *  (it has no key for them), so a restore can never fork a feed, however
 *  often the same backup is restored.  Unless told to keep it, the old
 *  device is presumed lost: the restore revokes it with the identity key
 *  and rekeys every scope away from it, so peers refuse it once they have
 *  synced with the new device.  The restored home is marked not yet
 *  caught up (core/catchup.h) until it has synced with every peer and own
 *  device it had; until then it settles no budget.
 */
#ifndef MM_BACKUP_H
#define MM_BACKUP_H

#include <stddef.h>
#include <stdint.h>
#include "crypto/error.h"
#include "core/home.h"

#define MM_BACKUP_VERSION    1
#define MM_BACKUP_KDF_ARGON2ID13 1
#define MM_BACKUP_HEADER     64
#define MM_BACKUP_SALT       16
#define MM_BACKUP_KEY        32
/* The largest record plaintext: a fork (two entries of 65,536 bytes) with
 * its wrapping, and room for larger records of later versions.  (Version-1
 * backups made before forks were backed up kept to 70 KiB.) */
#define MM_BACKUP_RECORD_MAX ((size_t) 129 * 1024)
/* The longest passphrase read (a file's first line, the environment, a
 * prompt). */
#define MM_PASSPHRASE_MAX    1024
/* MM_PWHASH=min in the environment: the KDF's smallest parameters, for
 * tests (and CI under Valgrind); otherwise a backup is made with
 * crypto_pwhash_argon2id_{OPS,MEM}LIMIT_MODERATE. */
#define MM_BACKUP_PWHASH_ENV "MM_PWHASH"

typedef struct {
    uint64_t opslimit;
    uint64_t memlimit;              /* bytes */
} mm_backup_kdf_t;

/* The parameters a new backup is made with: MODERATE, or MIN with
 * MM_PWHASH=min. */
void mm_backup_kdf_default(mm_backup_kdf_t *kdf);

/* The file key: crypto_pwhash(32, pass, salt, opslimit, memlimit,
 * Argon2id v1.3).  MM_OK; MM_ETOOBIG (a parameter above libsodium's
 * SENSITIVE value: a file cannot make us spend unbounded time or memory);
 * MM_EINVAL (below the MIN value); MM_ENOMEM (the KDF could not run). */
int mm_backup_key(uint8_t key[MM_BACKUP_KEY], const char *pass, size_t passlen,
                  const uint8_t salt[MM_BACKUP_SALT], const mm_backup_kdf_t *kdf) MM_NODISCARD;

typedef struct {
    uint64_t certs, scopes, peers, questions, entries;
    uint64_t revokes, endpoints, forks;     /* device statements and fork proofs */
    uint64_t bytes;                 /* of the file */
} mm_backup_stats_t;

#define MM_BACKUP_FORCE 0x1u        /* replace an existing file */

/* Write a backup of home to path, from one read transaction (a snapshot).
 * The file is written to a temporary file beside it (mode 0600), fsynced,
 * and moved into place; it never replaces an existing file without
 * MM_BACKUP_FORCE.  kdf NULL: mm_backup_kdf_default.  st may be NULL.
 * MM_OK; MM_ENOIDENTITY (no identity key here: not the identity device);
 * MM_EEXIST (path exists); MM_EINVAL (empty passphrase, or one longer than
 * MM_PASSPHRASE_MAX); MM_EKEYFILE, MM_EPERM (identity key file); MM_ETOOBIG
 * (a stored record above the limits); MM_ECORRUPT; MM_EIO; MM_EFULL;
 * MM_ENOMEM.  On error no file is left at path (nor the temporary). */
int mm_backup_write(mm_home_t *home, const char *path, unsigned flags, const char *pass,
                    size_t passlen, const mm_backup_kdf_t *kdf,
                    mm_backup_stats_t *st) MM_NODISCARD;

/* What a restore did, for the caller to report and act on. */
typedef struct {
    uint8_t  identity[32];
    uint8_t  old_device[32];        /* the device the backup was made on: its feeds are
                                       closed (stored, never appended to) */
    uint8_t  new_device[32];        /* this home's fresh device key */
    uint64_t made;                  /* when the backup was made (ms) */
    int      keep_old;              /* as asked */
    int      revoked;               /* old_device was revoked (not keep_old) */
    size_t   rekeyed;               /* scopes given a new key away from old_device */
    mm_backup_stats_t n;            /* what was restored */
    size_t   catchup;               /* identities to catch up with (core/catchup.h) */
} mm_restore_t;

/* Restore the backup in file into a new home at home_path (missing or an
 * empty directory), built atomically (mm_home_init_fill): a fresh device
 * key named devname (NULL: the host name) certified by the backup's
 * identity key, then every certificate (each verified, mm_cert_put), every
 * scope, peer and question record, and every entry through the verifying
 * store path (mm_log_put_run: every entry's own signature is checked),
 * then every revocation, endpoints statement and fork proof (each
 * verified: mm_revoke_put, mm_endpoint_put, mm_fork_record).  Meta
 * "restored" gets the old device's key and now; table catchup every
 * unblocked peer, and the own identity if the backup holds other own
 * devices.  Unless keep_old, the same last transaction revokes the old
 * device (presumed lost) with the identity key, lasts = the heads of its
 * feeds as the backup holds them, and rekeys every scope away from it
 * (mm_rekey_scopes, the self scope first): the revocation is a device
 * statement, sent to peers in DEVICES at the next sync.  out may be NULL.
 * Nothing is written unless everything verified.  MM_OK; MM_EINVAL ("not an mm backup": wrong magic, or a file
 * shorter than 4 bytes; or bad KDF parameters); MM_EVERSION (a newer
 * version, KDF or record kind); MM_ETOOBIG (KDF parameters above
 * SENSITIVE, or a message above MM_BACKUP_RECORD_MAX); MM_EPASSPHRASE
 * (wrong passphrase, or the header or first message damaged); MM_ETRUNC
 * (the file ends before its FINAL message); MM_ETRAILING (bytes after
 * it); MM_ECORRUPT (a later message damaged, records out of order, a wrong
 * count, or no certificate of the old device to revoke); MM_EEXIST
 * (home_path is not empty); the verifier's and the put functions' errors
 * (a record that does not verify); mm_rekey_scopes's (MM_ETOOBIG: a scope
 * with MM_SCOPE_KEYS_MAX keys; the old device has more than
 * MM_REVOKE_LASTS_MAX feeds); MM_EIO; MM_EFULL; MM_ENOMEM. */
int mm_backup_restore(const char *file, const char *home_path, const char *devname,
                      const char *pass, size_t passlen, int keep_old, uint64_t now,
                      mm_restore_t *out) MM_NODISCARD;

/* The restore marker of an open home's store: meta "restored" = old device
 * (32) || time (8, BE).  MM_OK with old_device and when filled (either may
 * be NULL); MM_ENOTFOUND (never restored); MM_ECORRUPT. */
int mm_backup_restored(mm_txn_t *txn, uint8_t old_device[32], uint64_t *when) MM_NODISCARD;

#endif
