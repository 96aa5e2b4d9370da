/*  many.c -- mm_net_sync_many: several syncs at once.
 *
 *  Threads, not one poll loop over several sockets: a sync is a sequence
 *  of blocking waits (connect, handshake, each frame) and the session code
 *  that runs between them is the one mm_net_sync runs, unchanged.  Each
 *  thread has its own ZeroMQ context (net/client.c makes one per
 *  connection).  The store is shared as one handle, and touched by one
 *  thread at a time, under one lock: core/store.c's map growing and its
 *  open-transaction count are not for concurrent use, and LMDB allows one
 *  writer anyway.  What overlaps is the waiting (an unreachable or slow
 *  peer no longer holds the others up), and the verifying, which the
 *  session already spreads over cores (core/vpool.c).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "net/net.h"
#include "net/syncctl.h"
#include "core/log.h"
#include "crypto/error.h"

#define MANY_MAX 64                 /* threads at once, at most */
#define TICK_MS  100

typedef struct {
    mm_home_t        *home;
    mm_net_job_t     *jobs;
    size_t            n, next;
    int               timeout_ms;
    const mm_net_many_ev_t *ev;
    pthread_mutex_t   lock;
    pthread_cond_t    changed;      /* a job is done */
    clockid_t         clock;        /* of changed's timed waits */
} many_t;

typedef struct {
    many_t       *m;
    mm_net_job_t *job;
} tried_t;

static void on_tried(void *arg, const uint8_t device[32], unsigned via, const char *ep, int rc,
                     const char *errtext, unsigned retry_ms)
{
    tried_t *t = arg;
    t->m->ev->tried(t->m->ev->arg, t->job, device, via, ep, rc, errtext, retry_ms);
}

/* A worker: the next job not started, until none is left. */
static void *work(void *arg)
{
    many_t *m = arg;
    pthread_mutex_lock(&m->lock);
    while (m->next < m->n) {
        mm_net_job_t *job = &m->jobs[m->next++];
        tried_t t = { m, job };
        mm_net_ctl_t ctl = { &m->lock, &job->live, m->ev && m->ev->tried ? on_tried : NULL, &t };
        mm_sync_stats_t stats;
        char errtext[sizeof job->errtext];
        job->state = MM_JOB_RUNNING;
        pthread_mutex_unlock(&m->lock);
        uint64_t t0 = mm_mono_ms();
        int rc = mm_net_sync_ctl(m->home, job->p, m->timeout_ms, &stats, &job->runs, &ctl,
                                 errtext, sizeof errtext);
        pthread_mutex_lock(&m->lock);
        job->ms = mm_mono_ms() - t0;
        job->rc = rc;
        job->stats = stats;
        memcpy(job->errtext, errtext, sizeof errtext);
        job->state = MM_JOB_DONE;
        pthread_cond_signal(&m->changed);
    }
    pthread_mutex_unlock(&m->lock);
    return NULL;
}

/* Wait on changed for at most ms. */
static void wait_ms(many_t *m, unsigned ms)
{
    struct timespec ts;
    clock_gettime(m->clock, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long) (ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    (void) pthread_cond_timedwait(&m->changed, &m->lock, &ts);
}

int mm_net_sync_many(mm_home_t *home, mm_net_job_t *jobs, size_t n, unsigned parallel,
                     int timeout_ms, const mm_net_many_ev_t *ev)
{
    static const mm_net_many_ev_t none;
    pthread_t th[MANY_MAX];
    pthread_condattr_t ca;
    unsigned nth = 0;
    many_t m = { .home = home, .jobs = jobs, .n = n, .timeout_ms = timeout_ms,
                 .ev = ev ? ev : &none, .lock = PTHREAD_MUTEX_INITIALIZER,
                 .clock = CLOCK_REALTIME };
    if (parallel < 1 || parallel > MANY_MAX)
        return MM_EINVAL;
    for (size_t i = 0; i < n; i++) {
        jobs[i].state = MM_JOB_WAITING;
        jobs[i].rc = MM_OK;
        memset(&jobs[i].stats, 0, sizeof jobs[i].stats);
        memset(&jobs[i].live, 0, sizeof jobs[i].live);
        memset(&jobs[i].runs, 0, sizeof jobs[i].runs);
        jobs[i].ms = 0;
        jobs[i].errtext[0] = '\0';
    }
    /* timed waits on the monotonic clock where it can be had */
    int have = pthread_condattr_init(&ca) == 0;
    if (have && pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0
        && pthread_cond_init(&m.changed, &ca) == 0)
        m.clock = CLOCK_MONOTONIC;
    else if (pthread_cond_init(&m.changed, NULL) != 0)
        return MM_ENOMEM;
    if (have)
        pthread_condattr_destroy(&ca);
    /* a thread of its own only if the caller does something meanwhile:
     * otherwise it would cost a thread's start and a wake-up for nothing */
    for (; nth < parallel && nth < n && (n > 1 || m.ev->tick); nth++)
        if (pthread_create(&th[nth], NULL, work, &m) != 0)
            break;
    if (nth == 0 && n > 0)
        work(&m);                   /* no thread to be had: one after the other, here */
    pthread_mutex_lock(&m.lock);
    for (size_t shown = 0; shown < n;) {
        while (shown < n && jobs[shown].state == MM_JOB_DONE) {
            if (m.ev->done)
                m.ev->done(m.ev->arg, jobs, shown);
            shown++;
        }
        if (shown == n)
            break;
        if (m.ev->tick)
            m.ev->tick(m.ev->arg, jobs, n);
        wait_ms(&m, TICK_MS);
    }
    pthread_mutex_unlock(&m.lock);
    for (unsigned i = 0; i < nth; i++)
        pthread_join(th[i], NULL);
    pthread_cond_destroy(&m.changed);
    pthread_mutex_destroy(&m.lock);
    return MM_OK;
}
