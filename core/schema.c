/*  schema.c -- the fields of every body type mm knows (PROTOCOL.md 5.2).
 *
 *  The limits are the ones mm's own writers already keep to (the verbs,
 *  notes, invites, the budget), so nothing mm writes is refused; a reader
 *  holds every writer to them, so that what the other member's device
 *  wrote is never shown or counted when it could not have been written
 *  here (a question without text, a queue entry in no state). */
#include <string.h>
#include "core/schema.h"
#include "core/body.h"
#include "core/budget.h"
#include "core/engage.h"
#include "core/entry.h"
#include "core/invite.h"
#include "core/note.h"
#include "core/peer.h"
#include "core/question.h"
#include "core/rekey.h"
#include "core/scope.h"
#include "core/utf8.h"
#include "crypto/error.h"

static const char *const ROLES[]   = { "mentor", "mentee", NULL };
static const char *const KINDS[]   = { "near", "long", NULL };
static const char *const PERIODS[] = { "day", "week", "month", NULL };
static const char *const STATES[]  = { "held", "released", NULL };
static const char *const REASONS[] = { "budget", "one-at-a-time", "away", NULL };

#define REQ 1
#define OPT 0
#define TEXT(k, req, lo, hi) { k, MM_FK_TEXT, req, lo, hi, NULL }
#define ID(k, req)           { k, MM_FK_BIN, req, 32, 32, NULL }
#define UINT(k, req, lo, hi) { k, MM_FK_UINT, req, lo, hi, NULL }
#define WORD(k, req, w)      { k, MM_FK_WORD, req, 0, 0, w }
#define BOOL(k, req)         { k, MM_FK_BOOL, req, 0, 0, NULL }
#define IDS(k, req, lo, hi)  { k, MM_FK_IDS, req, lo, hi, NULL }
#define SEALS(k, req, lo, hi) { k, MM_FK_SEALS, req, lo, hi, NULL }
#define REF                  ID("ref", REQ)
#define SAY                  TEXT("text", REQ, 1, MM_TEXT_MAX)  /* what a person writes */

const mm_schema_t MM_SCHEMA[] = {
    { MM_T_NOTE,          { TEXT("text", REQ, 1, MM_NOTE_MAX), ID("about", OPT) } },
    { MM_T_INVITE,        { TEXT("note", REQ, 0, MM_INVITE_NOTE_MAX), WORD("role", REQ, ROLES) } },
    { MM_T_AMBITION,      { WORD("kind", REQ, KINDS), SAY } },
    { MM_T_AMBITION_DONE, { REF } },
    { MM_T_AMBITION_DROP, { REF } },
    { MM_T_CAPACITY,      { UINT("n", REQ, 0, MM_CAPACITY_MAX), WORD("per", REQ, PERIODS) } },
    { MM_T_AWAY,          { UINT("until", REQ, 0, UINT64_MAX) } },
    { MM_T_AMBITIONS,     { TEXT("long", REQ, 0, MM_BODY_MAX), TEXT("near", REQ, 0, MM_BODY_MAX) } },
    { MM_T_QUESTION,      { TEXT("ambition", OPT, 1, MM_TEXT_MAX), SAY } },
    { MM_T_WITHDRAW,      { REF } },
    { MM_T_ANSWER,        { REF, SAY } },
    { MM_T_DECLINE,       { REF, ID("refer", OPT), TEXT("refer_name", OPT, 1, MM_PETNAME_MAX),
                            SAY } },
    { MM_T_ASKBACK,       { REF, SAY } },
    { MM_T_THANKS,        { TEXT("offer", OPT, 1, MM_OFFER_MAX), REF, SAY } },
    { MM_T_REPORT,        { REF, SAY } },
    { MM_T_QUEUE,         { UINT("ahead", OPT, 0, UINT64_MAX), WORD("reason", OPT, REASONS), REF,
                            WORD("state", REQ, STATES) } },
    { MM_T_REKEY,         { SEALS("keys", REQ, 1, MM_REKEY_MAX) } },
    { MM_T_SCOPE,         { UINT("created", REQ, 0, UINT64_MAX), ID("id", REQ),
                            IDS("keys", REQ, 1, MM_SCOPE_KEYS_MAX),
                            UINT("kind", REQ, MM_SCOPE_SELF, MM_SCOPE_PAIR),
                            IDS("members", REQ, 1, MM_SCOPE_MEMBERS_MAX) } },
    { MM_T_PEER,          { UINT("added", REQ, 0, UINT64_MAX), BOOL("blocked", REQ), ID("identity", REQ),
                            TEXT("name", REQ, 0, MM_PETNAME_MAX),
                            TEXT("petname", REQ, 1, MM_PETNAME_MAX), WORD("role", REQ, ROLES),
                            ID("scope", REQ) } },
    { MM_T_PEER_RM,       { ID("identity", REQ), ID("purge", OPT) } },
    { MM_T_SETTLER,       { ID("device", REQ) } },
    { .type = NULL },
};

static int same(const char *a, const char *b, uint32_t n)
{
    return strlen(a) == n && memcmp(a, b, n) == 0;
}

const mm_schema_t *mm_schema_find(const char *t, uint32_t n)
{
    for (const mm_schema_t *s = MM_SCHEMA; s->type; s++)
        if (same(s->type, t, n))
            return s;
    return NULL;
}

int mm_schema_index(const mm_schema_t *s, const char *key, uint32_t n)
{
    for (int i = 0; i < MM_SCHEMA_FIELDS && s->f[i].key; i++)
        if (same(s->f[i].key, key, n))
            return i;
    return -1;
}

int mm_schema_value(const mm_schema_field_t *f, mm_mp_reader_t *r)
{
    const char *s;
    const uint8_t *p;
    uint32_t n;
    uint64_t v;
    uint32_t count, pair;
    int b;
    switch (f->kind) {
    case MM_FK_TEXT:
        return mm_mp_str(r, &s, &n) == MM_OK && n >= f->min && n <= f->max
            && mm_utf8_valid(s, n) ? MM_OK : MM_EBODY;
    case MM_FK_BIN:
        return mm_mp_bin(r, &p, &n) == MM_OK && n >= f->min && n <= f->max ? MM_OK : MM_EBODY;
    case MM_FK_UINT:
        return mm_mp_uint(r, &v) == MM_OK && v >= f->min && v <= f->max ? MM_OK : MM_EBODY;
    case MM_FK_WORD:
        if (mm_mp_str(r, &s, &n) != MM_OK)
            return MM_EBODY;
        for (const char *const *w = f->words; *w; w++)
            if (same(*w, s, n))
                return MM_OK;
        return MM_EBODY;
    case MM_FK_BOOL:
        return mm_mp_bool(r, &b) == MM_OK ? MM_OK : MM_EBODY;
    case MM_FK_IDS:
    case MM_FK_SEALS:
        if (mm_mp_array(r, &count) != MM_OK || count < f->min || count > f->max)
            return MM_EBODY;
        for (uint32_t i = 0; i < count; i++) {
            if (f->kind == MM_FK_IDS) {
                if (mm_mp_bin_n(r, &p, 32) != MM_OK)
                    return MM_EBODY;
            } else if (mm_mp_array(r, &pair) != MM_OK || pair != 2
                       || mm_mp_bin_n(r, &p, 32) != MM_OK
                       || mm_mp_bin_n(r, &p, MM_REKEY_SEALED_BYTES) != MM_OK) {
                return MM_EBODY;
            }
        }
        return MM_OK;
    }
    return MM_EBODY;
}

int mm_schema_complete(const mm_schema_t *s, unsigned seen)
{
    for (int i = 0; i < MM_SCHEMA_FIELDS && s->f[i].key; i++)
        if (s->f[i].required && !(seen & 1u << i))
            return 0;
    return 1;
}
