/*  utf8.h -- text validation for what people type into mm. */
#ifndef MM_UTF8_H
#define MM_UTF8_H

#include <stddef.h>

/* 1 if s[0..len) is well-formed UTF-8 (no overlong forms, no surrogates,
 * nothing above U+10FFFF) and holds no NUL byte; else 0. */
int mm_utf8_valid(const char *s, size_t len);

#endif
