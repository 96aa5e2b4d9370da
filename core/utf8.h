/*  utf8.h -- text validation for what people type into mm. */
#ifndef MM_UTF8_H
#define MM_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* The length (1..4) of the well-formed UTF-8 sequence that starts s[0..n)
 * (no overlong form, no surrogate, nothing above U+10FFFF), its code point
 * in *cp (may be NULL); 0 if none starts there (n = 0 included). */
size_t mm_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

/* 1 if s[0..len) is well-formed UTF-8 (no overlong forms, no surrogates,
 * nothing above U+10FFFF) and holds no NUL byte; else 0. */
int mm_utf8_valid(const char *s, size_t len);

#endif
