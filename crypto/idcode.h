/*  idcode.h -- copy-pasteable, checksummed text form of public keys.
 *
 *  An id code is a 3-letter kind prefix followed by 56 characters of
 *  lowercase RFC 4648 base32 (no padding) of  pk(32) || check(3)  where
 *  check = BLAKE2b-256(prefix || pk)[0..3).  Identity codes start "mmi",
 *  device codes "mmd".  A typo is caught by the checksum with probability
 *  1 - 2^-24; a code of the wrong kind is rejected by its prefix.
 */
#ifndef MM_IDCODE_H
#define MM_IDCODE_H

#include <stddef.h>
#include "crypto/error.h"
#include <stdint.h>

#define MM_IDCODE_LEN 59                 /* without the terminating NUL */
#define MM_IDCODE_IDENTITY "mmi"
#define MM_IDCODE_DEVICE   "mmd"

/* Write the code of pk with the given prefix (MM_IDCODE_*) into out. */
void mm_idcode_encode(char out[MM_IDCODE_LEN + 1], const char *prefix,
                      const uint8_t pk[32]);

/* Parse a whole code of the given prefix into pk.  Case-insensitive.
 * MM_OK; MM_EINVAL if not of that kind, length or alphabet;
 * MM_ECHECKSUM if the checksum does not match. */
int mm_idcode_decode(const char *code, const char *prefix, uint8_t pk[32]) MM_NODISCARD;

#endif
