#include <string.h>
#include <ctype.h>
#include "crypto/encoding.h"
#include "crypto/error.h"

static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";

int mm_encoding_base32(char *out, size_t cap, const uint8_t *in, size_t len)
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

int mm_encoding_unbase32(const char *in, uint8_t *out, size_t cap, size_t *outlen)
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

void mm_encoding_hex(char *out, const uint8_t *buf, size_t len)
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

int mm_encoding_unhex(uint8_t *buf, size_t len, const char *hex)
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
