#include <string.h>
#include <ctype.h>
#include "crypto/idcode.h"
#include "crypto/hash.h"
#include "crypto/error.h"

#define PREFIX_LEN 3
#define RAW_LEN    35               /* pk(32) || check(3) = 280 bits = 56 chars */

static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";

static void checksum(uint8_t out[3], const char *prefix, const uint8_t pk[32])
{
    uint8_t h[MM_HASH_BYTES];
    mm_hash2(h, prefix, PREFIX_LEN, pk, 32);
    memcpy(out, h, 3);
}

void mm_idcode_encode(char out[MM_IDCODE_LEN + 1], const char *prefix, const uint8_t pk[32])
{
    uint8_t raw[RAW_LEN];
    memcpy(raw, pk, 32);
    checksum(raw + 32, prefix, pk);
    memcpy(out, prefix, PREFIX_LEN);
    mm_base32_encode(out + PREFIX_LEN, MM_IDCODE_LEN + 1 - PREFIX_LEN, raw, RAW_LEN);
}

int mm_idcode_decode(const char *code, const char *prefix, uint8_t pk[32])
{
    uint8_t raw[RAW_LEN], check[3];
    size_t n;
    if (strlen(code) != MM_IDCODE_LEN)
        return MM_EINVAL;
    for (int i = 0; i < PREFIX_LEN; i++)
        if (tolower((unsigned char) code[i]) != prefix[i])
            return MM_EINVAL;
    if (mm_base32_decode(code + PREFIX_LEN, raw, sizeof raw, &n) != MM_OK || n != RAW_LEN)
        return MM_EINVAL;
    checksum(check, prefix, raw);
    if (memcmp(check, raw + 32, 3) != 0)
        return MM_ECHECKSUM;
    memcpy(pk, raw, 32);
    return MM_OK;
}

int mm_base32_encode(char *out, size_t cap, const uint8_t *in, size_t len)
{
    size_t need = (len * 8 + 4) / 5 + 1;
    if (cap < need)
        return MM_ETOOBIG;
    uint32_t acc = 0;
    int bits = 0;
    char *o = out;
    for (size_t i = 0; i < len; i++) {
        acc = (acc << 8) | in[i];
        bits += 8;
        while (bits >= 5) {
            *o++ = alphabet[(acc >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    if (bits > 0)
        *o++ = alphabet[(acc << (5 - bits)) & 31];
    *o = '\0';
    return MM_OK;
}

int mm_base32_decode(const char *in, uint8_t *out, size_t cap, size_t *outlen)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t n = 0;
    for (const char *c = in; *c; c++) {
        const char *pos = strchr(alphabet, tolower((unsigned char) *c));
        if (!pos)
            return MM_EINVAL;
        acc = (acc << 5) | (uint32_t) (pos - alphabet);
        bits += 5;
        if (bits >= 8) {
            if (n == cap)
                return MM_ETOOBIG;
            out[n++] = (uint8_t) (acc >> (bits - 8));
            bits -= 8;
        }
    }
    if (bits >= 5 || (acc & ((1u << bits) - 1)))    /* only zero padding bits */
        return MM_EINVAL;
    *outlen = n;
    return MM_OK;
}

void mm_hex(char *out, const uint8_t *buf, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[buf[i] >> 4];
        out[2 * i + 1] = digits[buf[i] & 15];
    }
    out[2 * len] = '\0';
}

static int nibble(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int mm_unhex(uint8_t *buf, size_t len, const char *hex)
{
    if (strlen(hex) != 2 * len)
        return MM_EINVAL;
    for (size_t i = 0; i < len; i++) {
        int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return MM_EINVAL;
        buf[i] = (uint8_t) (hi << 4 | lo);
    }
    return MM_OK;
}
