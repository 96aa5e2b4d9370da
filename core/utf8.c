#include <stdint.h>
#include "core/utf8.h"

size_t mm_utf8_decode(const unsigned char *s, size_t n, uint32_t *out)
{
    size_t len, i;
    uint32_t cp, min;

    if (n == 0)
        return 0;
    if (s[0] < 0x80) {
        if (out)
            *out = s[0];
        return 1;
    }
    if ((s[0] & 0xe0) == 0xc0)
        len = 2, cp = s[0] & 0x1f, min = 0x80;
    else if ((s[0] & 0xf0) == 0xe0)
        len = 3, cp = s[0] & 0x0f, min = 0x800;
    else if ((s[0] & 0xf8) == 0xf0)
        len = 4, cp = s[0] & 0x07, min = 0x10000;
    else
        return 0;
    if (n < len)
        return 0;
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    if (out)
        *out = cp;
    return len;
}

int mm_utf8_valid(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *) str;
    size_t i = 0;
    while (i < len) {
        size_t n = s[i] ? mm_utf8_decode(s + i, len - i, NULL) : 0;
        if (n == 0)
            return 0;
        i += n;
    }
    return 1;
}
