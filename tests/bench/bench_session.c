/*  bench_session.c -- a no-op re-sync with the connection already open:
 *  the session engine alone, both sides in one process (not a test).
 *
 *  bench_session --client HOME --server HOME --peer-identity CODE [--runs N]
 *  (CODE: the server's identity as `mm id` shows it)
 *
 *  Opens both homes (made by bench_sync.py --keep: Ada the client, Grace the
 *  server, which share 100+ feeds and have nothing new for each other) and
 *  runs N whole sessions between them through in-memory queues: HELLO, HAVE,
 *  the comparison of heads, DONE.  That is what a re-sync costs once CURVE
 *  and the handshake are done (ZeroMQ's own per-frame cost, a few frames,
 *  is not counted).  Prints one JSON object: the median and the minimum
 *  microseconds per session, the frames each way, and entries moved (0).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "core/home.h"
#include "crypto/error.h"
#include "crypto/idcode.h"
#include "crypto/sign.h"
#include "net/session.h"

typedef struct frame {
    struct frame *next;
    size_t len;
    unsigned char b[];
} frame_t;

typedef struct {
    frame_t *head, **tail;
    unsigned long frames;
} chan_t;

static int chan_send(void *arg, const void *buf, size_t len)
{
    chan_t *c = arg;
    frame_t *f = malloc(sizeof *f + len);
    if (!f)
        return MM_ENOMEM;
    memcpy(f->b, buf, len);
    f->len = len;
    f->next = NULL;
    *c->tail = f;
    c->tail = &f->next;
    c->frames++;
    return MM_OK;
}

static int deliver(chan_t *c, mm_session_t *s)
{
    frame_t *f = c->head;
    if (!f)
        return MM_OK;
    if (!(c->head = f->next))
        c->tail = &c->head;
    int rc = mm_session_input(s, f->b, f->len);
    free(f);
    return rc;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_session: %s: %s\n", what, mm_strerror(rc));
    exit(1);
}

int main(int argc, char **argv)
{
    const char *ch = NULL, *sh = NULL, *idhex = NULL;
    int runs = 201;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--client")) ch = argv[i + 1];
        else if (!strcmp(argv[i], "--server")) sh = argv[i + 1];
        else if (!strcmp(argv[i], "--peer-identity")) idhex = argv[i + 1];
        else if (!strcmp(argv[i], "--runs")) runs = atoi(argv[i + 1]);
    }
    uint8_t expect[32];
    if (!ch || !sh || !idhex || mm_idcode_decode(idhex, MM_IDCODE_IDENTITY, expect) || runs < 1 || mm_crypto_init()) {
        fprintf(stderr, "usage: bench_session --client HOME --server HOME "
                        "--peer-identity mmi... [--runs N]\n");
        return 2;
    }
    mm_home_t *c = NULL, *s = NULL;
    int rc = mm_home_open(ch, &c);
    if (rc || (rc = mm_home_open(sh, &s)))
        die("open", rc);
    uint8_t cx[32], sx[32], sk[32];
    mm_keypair_x25519(mm_home_device(c), cx, sk);
    mm_keypair_x25519(mm_home_device(s), sx, sk);
    double *t = calloc((size_t) runs, sizeof *t);
    unsigned long to_srv = 0, to_cli = 0, moved = 0;
    for (int r = 0; r < runs && t; r++) {
        chan_t a = { NULL, NULL, 0 }, g = { NULL, NULL, 0 };
        a.tail = &a.head;
        g.tail = &g.head;
        mm_session_t *cs = NULL, *ss = NULL;
        double t0 = now_s();
        if ((rc = mm_session_new(c, 1, sx, expect, chan_send, &g, &cs))
            || (rc = mm_session_new(s, 0, cx, NULL, chan_send, &a, &ss))
            || (rc = mm_session_start(cs)))
            die("session", rc);
        while (a.head || g.head)
            if ((rc = deliver(&g, ss)) || (rc = deliver(&a, cs)))
                die(mm_session_error_text(cs)[0] ? mm_session_error_text(cs)
                                                 : mm_session_error_text(ss), rc);
        if (!mm_session_done(cs) || !mm_session_done(ss))
            die("session did not end", MM_EPROTO);
        t[r] = now_s() - t0;
        const mm_sync_stats_t *x = mm_session_stats(cs), *y = mm_session_stats(ss);
        moved += x->entries_sent + x->entries_recv + y->entries_sent + y->entries_recv;
        to_srv = g.frames;
        to_cli = a.frames;
        mm_session_destroy(&cs);
        mm_session_destroy(&ss);
    }
    if (!t)
        die("out of memory", MM_ENOMEM);
    qsort(t, (size_t) runs, sizeof *t, cmp_double);
    printf("{\"runs\": %d, \"median_us\": %.1f, \"min_us\": %.1f, \"frames_to_server\": %lu, "
           "\"frames_to_client\": %lu, \"entries_moved\": %lu}\n",
           runs, t[runs / 2] * 1e6, t[0] * 1e6, to_srv, to_cli, moved);
    free(t);
    mm_home_close(&c);
    mm_home_close(&s);
    return 0;
}
