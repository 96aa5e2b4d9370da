/*  body.h -- the plaintext inside an entry's box.
 *
 *  body = map { "t": type (str), other fields... } with string keys, "t"
 *  first, no key twice, at most MM_BODY_FIELDS_MAX pairs.  The other keys
 *  follow in the order of every map (mm_mp_key_cmp: bytewise over the raw
 *  key bytes, a prefix first, so "ab" before "b"); a body in any other order
 *  is not valid.  Readers ignore keys they do not know, so later versions
 *  can add fields without a new entry format.  The type is inside the
 *  ciphertext so that a holder of a feed without the key learns nothing of
 *  what kind of engagement it records.
 */
#ifndef MM_BODY_H
#define MM_BODY_H

#include <stddef.h>
#include "crypto/error.h"
#include <stdint.h>

#define MM_BODY_FIELDS_MAX 32
#define MM_BODY_TYPE_MAX   32

/* Body types defined so far (see PROTOCOL.md, "Body types"). */
#define MM_T_NOTE          "note"
#define MM_T_INVITE        "invite"     /* first entry of a relationship: the inviter's note */
#define MM_T_AMBITION      "ambition"
#define MM_T_AMBITION_DONE "ambition-done"
#define MM_T_AMBITION_DROP "ambition-drop"
#define MM_T_CAPACITY      "capacity"
#define MM_T_AWAY          "away"
#define MM_T_AMBITIONS     "ambitions"
#define MM_T_QUESTION      "question"
#define MM_T_WITHDRAW      "withdraw"
#define MM_T_ANSWER        "answer"
#define MM_T_DECLINE       "decline"
#define MM_T_ASKBACK       "ask-back"
#define MM_T_THANKS        "thanks"
#define MM_T_REPORT        "report"
#define MM_T_QUEUE         "queue"
#define MM_T_REKEY         "rekey"      /* a scope's next key, sealed to each device (rekey.h) */
#define MM_T_SCOPE         "scope"      /* self scope only: a scope, to own devices (propagate.h) */
#define MM_T_PEER          "peer"       /* self scope only: a peer record, to own devices */
#define MM_T_PEER_RM       "peer-rm"    /* self scope only: a peer record deleted */
#define MM_T_SETTLER       "settler"    /* self: which device settles the budget */

/* A field for mm_body_build. */
typedef struct {
    const char *key;
    enum { MM_F_STR, MM_F_BIN, MM_F_UINT, MM_F_BOOL, MM_F_RAW } kind;
    const void *p;                  /* STR: text, BIN: bytes, RAW: one encoded msgpack value */
    size_t      n;                  /* STR/BIN/RAW length */
    uint64_t    u;                  /* UINT; BOOL (0 or not) */
} mm_field_t;

/* Encode {"t": type, fields...} with the fields in mm_mp_key_cmp order, as
 * mm_body_check requires.  At most MM_BODY_FIELDS_MAX - 1 fields.  MM_OK
 * with *len; MM_ETOOBIG; MM_EINVAL (too many fields, or a key twice). */
int mm_body_build(uint8_t *out, size_t cap, size_t *len, const char *type,
                  const mm_field_t *fields, size_t n) MM_NODISCARD;

/* Check that pt is a valid body: a map, "t" first, the other keys str in
 * mm_mp_key_cmp order, each once, every value canonical, and, for a type
 * mm knows, its fields as its row of the schema says (schema.h: required
 * fields there, each of its type and within its limits).  MM_OK or
 * MM_EBODY. */
int mm_body_check(const uint8_t *pt, size_t len) MM_NODISCARD;

/* The type string of a checked body (not NUL-terminated). */
int mm_body_type(const uint8_t *pt, size_t len, const char **t, uint32_t *tlen) MM_NODISCARD;

/* 1 if body pt has type t. */
int mm_body_is(const uint8_t *pt, size_t len, const char *t);

/* Field lookups in a checked body: MM_OK, MM_ENOTFOUND (no such key), or
 * MM_EBODY (present with another type).  Pointers point into pt. */
int mm_body_str(const uint8_t *pt, size_t len, const char *key,
                const char **s, uint32_t *n) MM_NODISCARD;
int mm_body_bin(const uint8_t *pt, size_t len, const char *key,
                const uint8_t **p, uint32_t *n) MM_NODISCARD;
int mm_body_uint(const uint8_t *pt, size_t len, const char *key, uint64_t *v) MM_NODISCARD;
int mm_body_bool(const uint8_t *pt, size_t len, const char *key, int *v) MM_NODISCARD;
/* An array of bin 32 (schema kind MM_FK_IDS), copied into out[0..cap):
 * MM_OK with *n; MM_ENOTFOUND; MM_EBODY (another type, or more than cap). */
int mm_body_ids(const uint8_t *pt, size_t len, const char *key, uint8_t (*out)[32],
                uint32_t cap, uint32_t *n) MM_NODISCARD;

#endif
