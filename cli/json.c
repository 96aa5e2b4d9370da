/*  json.c -- streaming JSON writer, see json.h. */
#include <inttypes.h>
#include <string.h>

#include "cli/json.h"
#include "cli/util.h"

static int stdout_used;

void json_init(json_t *j, FILE *f)
{
    memset(j, 0, sizeof *j);
    j->f = f;
    if (f == stdout)
        stdout_used = 1;
}

int json_stdout_used(void)
{
    return stdout_used;
}

static void json_escape(FILE *f, const char *str, size_t n);

/* Separator and key before a value. */
static void json_prefix(json_t *j, const char *key)
{
    if (j->more[j->depth])
        fputc(',', j->f);
    j->more[j->depth] = 1;
    if (key) {
        json_escape(j->f, key, strlen(key));
        fputc(':', j->f);
    }
}

static void json_escape(FILE *f, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *) str;
    size_t i = 0, len;

    fputc('"', f);
    while (i < n) {
        unsigned char c = s[i];
        switch (c) {
        case '"':  fputs("\\\"", f); i++; continue;
        case '\\': fputs("\\\\", f); i++; continue;
        case '\b': fputs("\\b", f);  i++; continue;
        case '\f': fputs("\\f", f);  i++; continue;
        case '\n': fputs("\\n", f);  i++; continue;
        case '\r': fputs("\\r", f);  i++; continue;
        case '\t': fputs("\\t", f);  i++; continue;
        default: break;
        }
        if (c < 0x20 || c == 0x7f) {
            fprintf(f, "\\u%04x", c);
            i++;
            continue;
        }
        len = cli_utf8_len(s + i, n - i);
        if (len == 0) {
            fputs("\\ufffd", f);
            i++;
            continue;
        }
        fwrite(s + i, 1, len, f);
        i += len;
    }
    fputc('"', f);
}

static void json_open(json_t *j, const char *key, int c)
{
    json_prefix(j, key);
    fputc(c, j->f);
    /* Deeper levels than we track still nest correctly; commas may not. */
    if (j->depth < JSON_DEPTH_MAX)
        j->depth++;
    j->more[j->depth] = 0;
}

static void json_close(json_t *j, int c)
{
    fputc(c, j->f);
    if (j->depth > 0)
        j->depth--;
}

void json_obj_begin(json_t *j, const char *key) { json_open(j, key, '{'); }
void json_obj_end(json_t *j)                    { json_close(j, '}'); }
void json_arr_begin(json_t *j, const char *key) { json_open(j, key, '['); }
void json_arr_end(json_t *j)                    { json_close(j, ']'); }

void json_strn(json_t *j, const char *key, const char *s, size_t n)
{
    json_prefix(j, key);
    json_escape(j->f, s, n);
}

void json_str(json_t *j, const char *key, const char *s)
{
    if (!s) {
        json_null(j, key);
        return;
    }
    json_strn(j, key, s, strlen(s));
}

void json_hex(json_t *j, const char *key, const uint8_t *buf, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;

    if (!buf) {
        json_null(j, key);
        return;
    }
    json_prefix(j, key);
    fputc('"', j->f);
    for (i = 0; i < n; i++) {
        fputc(digits[buf[i] >> 4], j->f);
        fputc(digits[buf[i] & 15], j->f);
    }
    fputc('"', j->f);
}

void json_uint(json_t *j, const char *key, uint64_t v)
{
    json_prefix(j, key);
    fprintf(j->f, "%" PRIu64, v);
}

void json_int(json_t *j, const char *key, int64_t v)
{
    json_prefix(j, key);
    fprintf(j->f, "%" PRId64, v);
}

void json_bool(json_t *j, const char *key, int v)
{
    json_prefix(j, key);
    fputs(v ? "true" : "false", j->f);
}

void json_null(json_t *j, const char *key)
{
    json_prefix(j, key);
    fputs("null", j->f);
}

int json_finish(json_t *j)
{
    fputc('\n', j->f);
    return ferror(j->f) ? -1 : 0;
}
