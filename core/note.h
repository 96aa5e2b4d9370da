/*  note.h -- private notes: "note" bodies in the self scope.
 *
 *  Notes are entries; nothing is ever changed in place.  A note is readable
 *  only by the person's own devices, since only they hold the self-scope key.
 */
#ifndef MM_NOTE_H
#define MM_NOTE_H

#include <stddef.h>
#include "crypto/error.h"
#include <stdint.h>
#include "core/home.h"
#include "core/utf8.h"

#define MM_NOTE_MAX 60000           /* bytes of UTF-8 text */

typedef struct {
    uint8_t  id[32];
    uint8_t  author[32];            /* device that wrote it */
    uint64_t seq;
    uint64_t time;                  /* ms, UTC */
    char    *text;                  /* NUL-terminated, owned by the list */
    size_t   len;
} mm_note_t;

typedef struct {
    mm_note_t *v;
    size_t     n;
} mm_note_list_t;

/* Append a note.  text must be valid UTF-8, 1..MM_NOTE_MAX bytes, no NUL.
 * MM_OK; MM_EINVAL (empty, NUL or invalid UTF-8); MM_ETOOBIG; the store's
 * errors.  Returns only after the commit is durable. */
int mm_note_add(mm_home_t *home, const char *text, size_t len, uint8_t id_out[32]) MM_NODISCARD;

/* All notes of the self scope from every device of the person, newest first.
 * Free with mm_note_list_free.  MM_OK, MM_ENOMEM, MM_EDECRYPT, MM_ECORRUPT. */
int  mm_note_list(mm_home_t *home, mm_note_list_t *out) MM_NODISCARD;
void mm_note_list_free(mm_note_list_t *list);

/* The note whose entry id starts with hex prefix (lower case).  *out is a
 * one-element list.  MM_OK; MM_ENOTFOUND (no such entry, or it is not a
 * note); MM_EAMBIG (more than one note: *out holds them all, newest first;
 * free it); MM_EINVAL.  An entry of another kind sharing the prefix does
 * not make it ambiguous. */
int  mm_note_get(mm_home_t *home, const char *prefix, mm_note_list_t *out) MM_NODISCARD;

#endif
