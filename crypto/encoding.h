/*  encoding.h -- text forms of bytes: lowercase hex and RFC 4648 base32.
 *
 *  Hex is how ids, scopes and keys are shown and typed (and how mm serve
 *  names a CURVE client to ZAP); base32 (lowercase, no padding) is the body
 *  of id codes (idcode.h) and invite codes (core/invite.h).  Both decoders
 *  accept upper case and reject anything outside their alphabet.
 */
#ifndef MM_ENCODING_H
#define MM_ENCODING_H

#include <stddef.h>
#include "crypto/error.h"
#include <stdint.h>

/* Lowercase hex of buf[0..len) into out (2*len + 1 bytes, NUL-terminated). */
void mm_encoding_hex(char *out, const uint8_t *buf, size_t len);

/* Parse exactly 2*len hex digits into buf: MM_OK or MM_EINVAL. */
int mm_encoding_unhex(uint8_t *buf, size_t len, const char *hex) MM_NODISCARD;

/* Lowercase RFC 4648 base32 of in[0..len), no padding, NUL-terminated,
 * into out[0..cap).  MM_OK or MM_ETOOBIG (out is then untouched). */
int mm_encoding_base32(char *out, size_t cap, const uint8_t *in, size_t len) MM_NODISCARD;

/* Decode base32 text (case-insensitive, no padding) into out[0..cap).
 * Trailing bits must be zero.  MM_OK with *outlen; MM_EINVAL; MM_ETOOBIG. */
int mm_encoding_unbase32(const char *in, uint8_t *out, size_t cap, size_t *outlen) MM_NODISCARD;

#endif
