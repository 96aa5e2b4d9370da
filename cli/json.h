/*  json.h -- a small streaming JSON writer for --json output.
 *
 *  Values are written as they come, with commas and nesting tracked here, so
 *  a command never builds a tree.  Every value function takes the key it is
 *  stored under; pass NULL for an array element (or the top-level value).
 *  Strings are escaped as RFC 8259 requires (quote, backslash, control
 *  characters); valid UTF-8 passes through and each invalid byte becomes
 *  U+FFFD, so the document is always valid UTF-8 JSON.
 */
#ifndef MM_CLI_JSON_H
#define MM_CLI_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_DEPTH_MAX 16

typedef struct json {
    FILE    *f;
    int      depth;
    unsigned char more[JSON_DEPTH_MAX + 1]; /* level already has a member */
} json_t;

void json_init(json_t *j, FILE *f);

void json_obj_begin(json_t *j, const char *key);
void json_obj_end(json_t *j);
void json_arr_begin(json_t *j, const char *key);
void json_arr_end(json_t *j);

void json_str(json_t *j, const char *key, const char *s);     /* NULL: null */
void json_strn(json_t *j, const char *key, const char *s, size_t n);
void json_hex(json_t *j, const char *key, const uint8_t *buf, size_t n);
void json_uint(json_t *j, const char *key, uint64_t v);
void json_int(json_t *j, const char *key, int64_t v);
void json_bool(json_t *j, const char *key, int v);
void json_null(json_t *j, const char *key);

/* 1 once a document has been begun on stdout in this process. */
int json_stdout_used(void);

/* End the document with a newline.  0, or -1 if the stream had an error. */
int json_finish(json_t *j);

#endif
