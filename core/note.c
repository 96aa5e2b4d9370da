#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "core/note.h"
#include "core/item.h"
#include "core/body.h"
#include "core/mp.h"
#include "crypto/error.h"

int mm_note_add(mm_home_t *home, const char *text, size_t len, uint8_t id_out[32])
{
    if (len == 0 || !mm_utf8_valid(text, len))
        return MM_EINVAL;
    if (len > MM_NOTE_MAX)
        return MM_ETOOBIG;
    size_t cap = len + 32;
    uint8_t *body = malloc(cap);
    if (!body)
        return MM_ENOMEM;
    mm_field_t f[] = { { "text", MM_F_STR, text, len, 0 } };
    mm_txn_t *txn = NULL;
    size_t blen;
    int rc = mm_body_build(body, cap, &blen, MM_T_NOTE, f, 1);
    if (rc || (rc = mm_store_begin(mm_home_store(home), 1, &txn))
        || (rc = mm_log_append(txn, mm_home_device(home), mm_home_self_scope(home), 0,
                               body, blen, id_out)))
        goto out;
    rc = mm_txn_commit(&txn);       /* durable when it returns */
out:
    mm_txn_abort(&txn);
    sodium_memzero(body, cap);
    free(body);
    return rc;
}

/* Decrypt one stored entry; if it is a note, add it to the list. */
typedef struct {
    mm_note_list_t *list;
    size_t cap;
    const mm_scope_t *scope;
    mm_txn_t *txn;
    int only_notes;             /* mm_note_get: a non-note is "not found" */
} collect_t;

static int add_note(collect_t *c, const uint8_t *buf, size_t len)
{
    mm_entry_t e;
    int rc = mm_entry_parse(buf, len, &e);
    if (rc)
        return MM_ECORRUPT;
    size_t ptcap = e.boxlen - MM_TAG_BYTES, ptlen;
    uint8_t *pt = malloc(ptcap ? ptcap : 1);
    if (!pt)
        return MM_ENOMEM;
    const char *text;
    uint32_t tlen;
    if ((rc = mm_entry_open_scope(&e, c->scope, pt, ptcap, &ptlen)))
        goto out;
    if (mm_body_check(pt, ptlen) || !mm_body_is(pt, ptlen, MM_T_NOTE)
        || mm_body_str(pt, ptlen, "text", &text, &tlen)) {
        rc = c->only_notes ? MM_ENOTFOUND : MM_OK;   /* other types: skip */
        goto out;
    }
    if (c->list->n == c->cap) {
        size_t ncap = c->cap ? 2 * c->cap : 16;
        mm_note_t *v = realloc(c->list->v, ncap * sizeof *v);
        if (!v) {
            rc = MM_ENOMEM;
            goto out;
        }
        c->list->v = v;
        c->cap = ncap;
    }
    mm_note_t *n = &c->list->v[c->list->n];
    if (!(n->text = malloc(tlen + 1))) {
        rc = MM_ENOMEM;
        goto out;
    }
    memcpy(n->text, text, tlen);
    n->text[tlen] = '\0';
    n->len = tlen;
    memcpy(n->id, e.id, 32);
    memcpy(n->author, e.author, 32);
    n->seq = e.seq;
    n->time = e.time;
    c->list->n++;
out:
    sodium_memzero(pt, ptcap);
    free(pt);
    return rc;
}

static int newest_first(const void *a, const void *b)
{
    const mm_note_t *x = a, *y = b;
    if (x->time != y->time)
        return x->time < y->time ? 1 : -1;
    /* same millisecond: one device's own order is its seq */
    int by_author = memcmp(x->author, y->author, 32);
    if (by_author == 0 && x->seq != y->seq)
        return x->seq < y->seq ? 1 : -1;
    return by_author ? by_author : memcmp(x->id, y->id, 32);
}

/* Run fn inside a read txn with the self scope loaded. */
static int with_self(mm_home_t *home, collect_t *c, int (*fn)(collect_t *c, const void *arg),
                     const void *arg)
{
    mm_scope_t scope;
    int rc = mm_store_begin(mm_home_store(home), 0, &c->txn);
    if (rc)
        return rc;
    rc = mm_scope_get(c->txn, mm_home_self_scope(home), &scope);
    if (rc == MM_ENOTFOUND)
        rc = MM_ECORRUPT;
    if (rc == MM_OK) {
        c->scope = &scope;
        rc = fn(c, arg);
        c->scope = NULL;            /* scope is about to go out of scope */
    }
    mm_scope_wipe(&scope);
    mm_txn_abort(&c->txn);
    return rc;
}

int mm_note_list(mm_home_t *home, mm_note_list_t *out)
{
    static const char *const notes[] = { MM_T_NOTE, NULL };
    mm_items_t items;
    size_t cap = 0;
    memset(out, 0, sizeof *out);
    int rc = mm_items_load(mm_home_store(home), mm_home_self_scope(home), notes, &items);
    if (rc == MM_ENOTFOUND)
        rc = MM_ECORRUPT;           /* every home has its self scope */
    for (size_t i = 0; rc == MM_OK && i < items.n; i++) {
        const mm_item_t *it = &items.v[i];
        const char *text;
        uint32_t tlen;
        if (mm_body_str(it->pt, it->ptlen, "text", &text, &tlen) != MM_OK)
            continue;               /* not a note we can show */
        if (out->n == cap) {
            size_t ncap = cap ? 2 * cap : 16;
            mm_note_t *v = realloc(out->v, ncap * sizeof *v);
            if (!v) {
                rc = MM_ENOMEM;
                break;
            }
            out->v = v;
            cap = ncap;
        }
        mm_note_t *n = &out->v[out->n];
        if (!(n->text = malloc(tlen + 1))) {
            rc = MM_ENOMEM;
            break;
        }
        memcpy(n->text, text, tlen);
        n->text[tlen] = '\0';
        n->len = tlen;
        memcpy(n->id, it->id, 32);
        memcpy(n->author, it->device, 32);
        n->seq = it->seq;
        n->time = it->time;
        out->n++;
    }
    mm_items_free(&items);
    if (rc) {
        mm_note_list_free(out);
        return rc;
    }
    if (out->n > 1)
        qsort(out->v, out->n, sizeof *out->v, newest_first);
    return MM_OK;
}

static int get_one(collect_t *c, const void *prefix)
{
    const uint8_t *buf;
    size_t len;
    mm_entry_t e;
    int rc = mm_log_find(c->txn, c->scope->id, prefix, &buf, &len);
    if (rc)
        return rc;
    if (mm_entry_parse(buf, len, &e) != MM_OK)
        return MM_ECORRUPT;
    return add_note(c, buf, len);
}

/* Every note whose id starts with prefix (lower-case hex), newest first. */
static int matching(mm_home_t *home, const char *prefix, mm_note_list_t *out)
{
    char hex[2 * 32 + 1];
    size_t len = strlen(prefix), k = 0;
    int rc = mm_note_list(home, out);
    if (rc)
        return rc;
    for (size_t i = 0; i < out->n; i++) {
        sodium_bin2hex(hex, sizeof hex, out->v[i].id, 32);
        if (strncmp(hex, prefix, len) == 0) {
            out->v[k++] = out->v[i];
        } else {
            sodium_memzero(out->v[i].text, out->v[i].len);
            free(out->v[i].text);
        }
    }
    out->n = k;
    return MM_OK;
}

int mm_note_get(mm_home_t *home, const char *prefix, mm_note_list_t *out)
{
    memset(out, 0, sizeof *out);
    collect_t c = { .list = out, .only_notes = 1 };
    int rc = with_self(home, &c, get_one, prefix);
    if (rc == MM_OK && out->n != 1)
        rc = MM_ENOTFOUND;
    if (rc == MM_EAMBIG) {
        /* more than one entry: other kinds (ambitions) do not count */
        mm_note_list_free(out);
        if ((rc = matching(home, prefix, out)) == MM_OK && out->n != 1)
            rc = out->n ? MM_EAMBIG : MM_ENOTFOUND;
        if (rc == MM_EAMBIG)
            return rc;
    }
    if (rc)
        mm_note_list_free(out);
    return rc;
}

void mm_note_list_free(mm_note_list_t *list)
{
    for (size_t i = 0; i < list->n; i++) {
        sodium_memzero(list->v[i].text, list->v[i].len);
        free(list->v[i].text);
    }
    free(list->v);
    list->v = NULL;
    list->n = 0;
}
