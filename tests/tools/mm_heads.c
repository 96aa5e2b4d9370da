/*  mm_heads.c -- print every feed head of a home (a test tool).
 *
 *  mm_heads --home H
 *
 *  One line per feed, in (author, scope) order:
 *      AUTHOR-HEX SCOPE-HEX SEQ HEAD-ID-HEX
 *  read straight from the store in one read transaction, so the fault
 *  tests can compare two homes' feeds without decoding 100,000 entries
 *  (a head id commits to its whole chain through the prev links, which
 *  mm verify checks).  Exit 0; 1 on failure; 2 on a usage error.
 */
#include <stdio.h>
#include <string.h>
#include "core/home.h"
#include "core/log.h"
#include "crypto/encoding.h"
#include "crypto/error.h"

static int print_feed(const uint8_t author[32], const uint8_t scope[32],
                      const mm_head_t *head, void *arg)
{
    char a[65], s[65], id[65];
    mm_encoding_hex(a, author, 32);
    mm_encoding_hex(s, scope, 32);
    mm_encoding_hex(id, head->id, 32);
    printf("%s %s %llu %s\n", a, s, (unsigned long long) head->seq, id);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3 || strcmp(argv[1], "--home") != 0) {
        fputs("usage: mm_heads --home DIR\n", stderr);
        return 2;
    }
    if (mm_crypto_init()) {
        fputs("mm_heads: libsodium did not initialise\n", stderr);
        return 1;
    }
    mm_home_t *home = NULL;
    mm_txn_t *txn = NULL;
    int rc = mm_home_open(argv[2], &home);
    if (rc == MM_OK && (rc = mm_store_begin(mm_home_store(home), 0, &txn)) == MM_OK)
        rc = mm_log_feeds(txn, print_feed, NULL);
    mm_txn_abort(&txn);
    mm_home_close(&home);
    if (rc) {
        fprintf(stderr, "mm_heads: %s\n", mm_strerror(rc));
        return 1;
    }
    return 0;
}
