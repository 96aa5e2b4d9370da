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
int mm_idcode_decode(const char *code, const char *prefix, uint8_t pk[32]);

/* Lowercase RFC 4648 base32 of in[0..len), no padding, NUL-terminated,
 * into out[0..cap).  MM_OK or MM_ETOOBIG. */
int mm_base32_encode(char *out, size_t cap, const uint8_t *in, size_t len);

/* Decode base32 text (case-insensitive, no padding) into out[0..cap).
 * Trailing bits must be zero.  MM_OK with *outlen; MM_EINVAL; MM_ETOOBIG. */
int mm_base32_decode(const char *in, uint8_t *out, size_t cap, size_t *outlen);

/* Lowercase hex of buf into out (2*len + 1 bytes). */
void mm_hex(char *out, const uint8_t *buf, size_t len);

/* Parse exactly 2*len hex digits into buf: MM_OK or MM_EINVAL. */
int mm_unhex(uint8_t *buf, size_t len, const char *hex);

#endif
