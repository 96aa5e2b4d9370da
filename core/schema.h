/*  schema.h -- what a body of each type mm knows must hold (PROTOCOL.md 5.2).
 *
 *  One row per body type: its fields, each with a kind, its limits and
 *  whether it must be there.  mm_body_check applies the row of a body's
 *  type as it walks the body, so every path that stores an entry (the
 *  verifier's body step, and mm_log_append for this device's own) refuses
 *  a known type with a field missing, of another type or out of its limits,
 *  with MM_EBODY.  A type without a row is opaque and accepted; a key its
 *  row does not name is a later version's field and is skipped.
 */
#ifndef MM_SCHEMA_H
#define MM_SCHEMA_H

#include <stddef.h>
#include <stdint.h>
#include "core/mp.h"

#define MM_SCHEMA_FIELDS 8          /* the most fields a type has (peer: 7) */

typedef enum {
    MM_FK_TEXT,                     /* str of UTF-8 without NUL (mm_utf8_valid), min..max bytes */
    MM_FK_BIN,                      /* bin of min..max bytes */
    MM_FK_UINT,                     /* uint of value min..max */
    MM_FK_WORD,                     /* str equal to one of words (bytewise) */
    MM_FK_BOOL,                     /* bool */
    MM_FK_IDS,                      /* array of min..max bin 32 */
    MM_FK_SEALS,                    /* array of min..max fixarray(2) [bin 32, bin 80] (rekey) */
} mm_fkind_t;

typedef struct {
    const char        *key;         /* NULL: no more fields */
    mm_fkind_t         kind;
    int                required;
    uint64_t           min, max;
    const char *const *words;       /* MM_FK_WORD: NULL-terminated */
} mm_schema_field_t;

typedef struct {
    const char        *type;        /* NULL ends MM_SCHEMA */
    mm_schema_field_t  f[MM_SCHEMA_FIELDS];
} mm_schema_t;

/* Every body type mm knows, in the order of PROTOCOL.md 5.2's table. */
extern const mm_schema_t MM_SCHEMA[];

/* The row of type t[0..n), or NULL (a type mm does not know). */
const mm_schema_t *mm_schema_find(const char *t, uint32_t n);

/* The index in s->f of the field named key[0..n), or -1. */
int mm_schema_index(const mm_schema_t *s, const char *key, uint32_t n);

/* Read the value at r as field f: MM_OK with r past it, or MM_EBODY (r
 * somewhere inside it). */
int mm_schema_value(const mm_schema_field_t *f, mm_mp_reader_t *r);

/* 1 if seen (bit i: s->f[i] was there) holds every required field of s. */
int mm_schema_complete(const mm_schema_t *s, unsigned seen);

#endif
