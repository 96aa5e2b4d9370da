/*  mm_trykeys.c -- which of a home's scope keys open an entry (a test tool).
 *
 *  mm_trykeys HOME [ENTRYHEX...]
 *
 *  A TEST TOOL, never installed: it reads secret scope keys out of a home.
 *  tests/cli/test_multidevice.py runs it on a revoked device's home to show
 *  that an entry written after the revocation opens under none of the keys
 *  that device holds (PROTOCOL.md 4.1, 13), checked on the raw bytes.
 *
 *  Without ENTRYHEX: prints "keys N" (how many scope keys HOME holds, over
 *  every scope).  With them: for each raw entry (hex, as mm log --raw
 *  prints it), tries EVERY key of EVERY scope HOME holds (not only the
 *  entry's own scope) and prints one line, "opened" or "sealed".
 *  Exit 0; 1 on failure (an entry that does not parse, a store error);
 *  2 on a usage error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "core/entry.h"
#include "core/home.h"
#include "core/scope.h"
#include "crypto/encoding.h"
#include "crypto/error.h"

#define MAX_KEYS 4096

typedef struct {
    size_t  n;
    uint8_t (*keys)[32];
} keys_t;

static int collect(const mm_scope_t *s, void *arg)
{
    keys_t *k = arg;
    for (unsigned i = 0; i < s->nkeys; i++) {
        if (k->n == MAX_KEYS)
            return MM_ETOOBIG;
        memcpy(k->keys[k->n++], s->keys[i], 32);
    }
    return MM_OK;
}

/* Print "opened" if any key in k opens the entry hex, else "sealed". */
static int try_one(const keys_t *k, const char *hex)
{
    size_t len = strlen(hex) / 2;
    uint8_t *raw = malloc(len + 1), *pt = malloc(len + 1);
    mm_entry_t e;
    int opened = 0, rc = MM_ENOMEM;
    if (!raw || !pt)
        goto out;
    rc = MM_EINVAL;
    if (strlen(hex) % 2 || mm_encoding_unhex(raw, len, hex) != MM_OK)
        goto out;
    if ((rc = mm_entry_parse(raw, len, &e)))
        goto out;
    for (size_t i = 0; i < k->n && !opened; i++) {
        size_t ptlen;
        opened = mm_entry_open(&e, k->keys[i], pt, len, &ptlen) == MM_OK;
    }
    printf("%s\n", opened ? "opened" : "sealed");
out:
    free(raw);
    free(pt);
    return rc;
}

static int fail(const char *what, int rc)
{
    fprintf(stderr, "mm_trykeys: %s: %s\n", what, mm_strerror(rc));
    return 1;
}

int main(int argc, char **argv)
{
    mm_home_t *h = NULL;
    mm_txn_t *t = NULL;
    keys_t k = { 0, NULL };
    const char *what = "memory";
    int rc = MM_ENOMEM;
    if (argc < 2) {
        fprintf(stderr, "usage: mm_trykeys HOME [ENTRYHEX...]\n");
        return 2;
    }
    if (mm_crypto_init() != MM_OK)
        return 1;
    if (!(k.keys = calloc(MAX_KEYS, 32)))
        goto out;
    what = "cannot open the home";
    if ((rc = mm_home_open(argv[1], &h)))
        goto out;
    what = "scopes";
    if ((rc = mm_store_begin(mm_home_store(h), 0, &t)))
        goto out;
    rc = mm_scope_foreach(t, collect, &k);
    mm_txn_abort(&t);
    if (rc)
        goto out;
    if (argc == 2)
        printf("keys %zu\n", k.n);
    what = "entry";
    for (int a = 2; a < argc && rc == MM_OK; a++)
        rc = try_one(&k, argv[a]);
out:
    if (k.keys) {
        sodium_memzero(k.keys, (size_t) MAX_KEYS * 32);
        free(k.keys);
    }
    mm_home_close(&h);
    return rc == MM_OK ? 0 : fail(what, rc);
}
