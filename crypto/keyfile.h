/*  keyfile.h -- secret key files on disk.
 *
 *  A key file is 80 bytes:  "mmsk" | version (1) | kind (1) | 0 0 |
 *  seed (32) | pk (32) | check (8)  where check = BLAKE2b-256 of the first
 *  72 bytes, truncated to 8.  Files are created O_CREAT|O_EXCL|O_NOFOLLOW
 *  with mode 0600 and fsynced; a file readable by group or others is refused.
 */
#ifndef MM_KEYFILE_H
#define MM_KEYFILE_H

#include <stdint.h>
#include "crypto/error.h"
#include "crypto/sign.h"

#define MM_KEYFILE_BYTES 80
#define MM_KEY_IDENTITY  'I'
#define MM_KEY_DEVICE    'D'

/* Create path holding kp's seed.  MM_OK; MM_EEXIST if path exists (also a
 * symlink); MM_EIO / MM_EPERM / MM_EFULL on a failed create, write or fsync,
 * in which case the partial file is removed. */
int mm_keyfile_write(const char *path, int kind, const mm_keypair_t *kp) MM_NODISCARD;

/* Load the key pair of the given kind from path into *out.
 * MM_OK; MM_ENOTFOUND if missing; MM_EPERM if unreadable, a symbolic link
 * (never followed), or if its mode allows group/other access; MM_EKEYFILE if it is not a valid key file of
 * that kind (wrong size, magic, kind, checksum, or pk not derived from seed);
 * MM_ENOMEM. */
int mm_keyfile_read(const char *path, int kind, mm_keypair_t **out) MM_NODISCARD;

#endif
