/*  looked.c -- the mark of what the person last saw, and the news past it;
 *  see looked.h.  File: "mmlk" || version (1) || 3 zero bytes || count (4,
 *  big-endian) || count x (author 32 || scope 32 || seq 8, big-endian), in
 *  (author, scope) order || H(everything before)[0..8). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/be64.h"
#include "core/log.h"
#include "core/looked.h"
#include "crypto/hash.h"

#define HDR   12
#define REC   72
#define CHECK 8

void mm_looked_free(mm_looked_t *now)
{
    free(now->v);
    memset(now, 0, sizeof *now);
}

static int errno_rc(int e)
{
    switch (e) {
    case ENOSPC: case EDQUOT: return MM_EFULL;
    case EACCES: case EPERM: case EROFS: return MM_EPERM;
    case ENOMEM: return MM_ENOMEM;
    default: return MM_EIO;
    }
}

static void path_of(const mm_home_t *home, char *out, size_t cap, const char *suffix)
{
    snprintf(out, cap, "%s/%s%s", mm_home_path(home), MM_LOOKED_FILE, suffix);
}

/* The mark in the file, into *mark (n 0, had_mark 0 when there is none or
 * it is damaged).  MM_OK or MM_ENOMEM. */
static int read_mark(const mm_home_t *home, mm_looked_t *mark)
{
    char path[MM_PATH_MAX + 16];
    uint8_t hdr[HDR], sum[MM_HASH_BYTES], *buf = NULL;
    struct stat st;
    size_t count, len;
    int fd, rc = MM_OK;

    memset(mark, 0, sizeof *mark);
    path_of(home, path, sizeof path, "");
    if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
        return MM_OK;
    if (fstat(fd, &st) != 0 || st.st_size < HDR + CHECK
        || read(fd, hdr, HDR) != HDR || memcmp(hdr, MM_LOOKED_MAGIC, 4) != 0
        || hdr[4] != MM_LOOKED_VERSION)
        goto out;
    count = (size_t) hdr[8] << 24 | (size_t) hdr[9] << 16 | (size_t) hdr[10] << 8 | hdr[11];
    len = HDR + count * REC + CHECK;
    if (count > MM_LOOKED_FEEDS_MAX || (off_t) len != st.st_size)
        goto out;
    if (!(buf = malloc(len))) {
        rc = MM_ENOMEM;
        goto out;
    }
    memcpy(buf, hdr, HDR);
    for (size_t got = HDR; got < len;) {
        ssize_t r = read(fd, buf + got, len - got);
        if (r <= 0)
            goto out;
        got += (size_t) r;
    }
    mm_hash(sum, buf, len - CHECK);
    if (memcmp(sum, buf + len - CHECK, CHECK) != 0)
        goto out;
    if (count && !(mark->v = malloc(count * sizeof *mark->v))) {
        rc = MM_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < count; i++) {
        const uint8_t *p = buf + HDR + i * REC;
        memcpy(mark->v[i].author, p, 32);
        memcpy(mark->v[i].scope, p + 32, 32);
        mark->v[i].seq = mm_be64_get(p + 64);
    }
    mark->n = count;
    mark->had_mark = 1;
out:
    free(buf);
    close(fd);
    return rc;
}

static int cmp_feed(const void *a, const void *b)
{
    return memcmp(a, b, 64);        /* author || scope, the first members */
}

typedef struct {
    mm_looked_t *now;
    size_t       cap;
    int          rc;
} heads_t;

static int on_feed(const uint8_t author[32], const uint8_t scope[32], const mm_head_t *head,
                   void *arg)
{
    heads_t *h = arg;
    mm_looked_t *now = h->now;

    if (now->n == MM_LOOKED_FEEDS_MAX)
        return 0;                   /* beyond: those feeds never show news */
    if (now->n == h->cap) {
        size_t cap = h->cap ? 2 * h->cap : 64;
        mm_looked_feed_t *v = realloc(now->v, cap * sizeof *v);
        if (!v)
            return h->rc = MM_ENOMEM;
        now->v = v;
        h->cap = cap;
    }
    memcpy(now->v[now->n].author, author, 32);
    memcpy(now->v[now->n].scope, scope, 32);
    now->v[now->n++].seq = head->seq;
    return 0;
}

int mm_looked_news(mm_home_t *home, mm_looked_t *now, mm_news_list_t *news)
{
    mm_looked_t mark;
    mm_news_runs_t runs = { 0 };
    heads_t h = { now, 0, MM_OK };
    mm_txn_t *txn = NULL;
    int rc;

    memset(now, 0, sizeof *now);
    memset(news, 0, sizeof *news);
    if ((rc = read_mark(home, &mark)) != MM_OK)
        return rc;
    now->had_mark = mark.had_mark;
    if ((rc = mm_store_begin(mm_home_store(home), 0, &txn)) == MM_OK) {
        rc = mm_log_feeds(txn, on_feed, &h);
        if (rc == MM_ENOMEM || h.rc)
            rc = h.rc ? h.rc : rc;
    }
    mm_txn_abort(&txn);
    if (rc == MM_OK && mark.had_mark) {
        for (size_t i = 0; i < now->n; i++) {
            const mm_looked_feed_t *f = &now->v[i];
            const mm_looked_feed_t *m =
                mark.n ? bsearch(f, mark.v, mark.n, sizeof *mark.v, cmp_feed) : NULL;
            uint64_t from = m ? m->seq + 1 : 1;
            if (f->seq >= from)
                mm_news_runs_add(&runs, f->scope, f->author, from, f->seq);
        }
        /* runs of one feed each; mm_news_of reads only what they name */
        rc = mm_news_of(home, runs.v, runs.n, news);
    }
    mm_news_runs_free(&runs);
    mm_looked_free(&mark);
    return rc;
}

int mm_looked_set(mm_home_t *home, const mm_looked_t *now)
{
    char path[MM_PATH_MAX + 16], tmp[MM_PATH_MAX + 16];
    size_t len = HDR + now->n * REC + CHECK;
    uint8_t sum[MM_HASH_BYTES], *buf;
    int fd, rc = MM_OK;

    if (now->n > MM_LOOKED_FEEDS_MAX)
        return MM_EINVAL;
    if (!(buf = calloc(1, len)))
        return MM_ENOMEM;
    memcpy(buf, MM_LOOKED_MAGIC, 4);
    buf[4] = MM_LOOKED_VERSION;
    buf[8] = (uint8_t) (now->n >> 24);
    buf[9] = (uint8_t) (now->n >> 16);
    buf[10] = (uint8_t) (now->n >> 8);
    buf[11] = (uint8_t) now->n;
    for (size_t i = 0; i < now->n; i++) {
        uint8_t *p = buf + HDR + i * REC;
        memcpy(p, now->v[i].author, 32);
        memcpy(p + 32, now->v[i].scope, 32);
        mm_be64_put(p + 64, now->v[i].seq);
    }
    mm_hash(sum, buf, len - CHECK);
    memcpy(buf + len - CHECK, sum, CHECK);
    path_of(home, path, sizeof path, "");
    /* a temporary of this process's own: two looks at once each rename theirs */
    char suffix[32];
    snprintf(suffix, sizeof suffix, ".tmp-%ld", (long) getpid());
    path_of(home, tmp, sizeof tmp, suffix);
    unlink(tmp);
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0) {
        rc = errno_rc(errno);
        goto out;
    }
    for (size_t done = 0; done < len && rc == MM_OK;) {
        ssize_t w = write(fd, buf + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            rc = errno_rc(w < 0 ? errno : ENOSPC);
        else
            done += (size_t) w;
    }
    if (rc == MM_OK && fsync(fd) != 0)
        rc = errno_rc(errno);
    if (close(fd) != 0 && rc == MM_OK)
        rc = errno_rc(errno);
    if (rc == MM_OK && rename(tmp, path) != 0)
        rc = errno_rc(errno);
    if (rc != MM_OK)
        unlink(tmp);
out:
    free(buf);
    return rc;
}
