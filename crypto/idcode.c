#include <string.h>
#include <ctype.h>
#include "crypto/idcode.h"
#include "crypto/encoding.h"
#include "crypto/hash.h"
#include "crypto/error.h"

#define PREFIX_LEN 3
#define RAW_LEN    35               /* pk(32) || check(3) = 280 bits = 56 chars */

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
    /* out is sized for exactly this: it cannot fail, but say so if it did */
    if (mm_encoding_base32(out + PREFIX_LEN, MM_IDCODE_LEN + 1 - PREFIX_LEN, raw, RAW_LEN))
        out[0] = '\0';
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
    if (mm_encoding_unbase32(code + PREFIX_LEN, raw, sizeof raw, &n) != MM_OK || n != RAW_LEN)
        return MM_EINVAL;
    checksum(check, prefix, raw);
    if (memcmp(check, raw + 32, 3) != 0)
        return MM_ECHECKSUM;
    memcpy(pk, raw, 32);
    return MM_OK;
}
