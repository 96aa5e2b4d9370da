#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
#include "core/vpool.h"
#include "crypto/error.h"

/* One call's work.  Written by the caller under the lock before the
 * generation moves on; read-only for everyone until the call returns. */
typedef struct {
    const mm_entry_t *entries;
    size_t n;
    int *rcs;
} job_t;

typedef struct {
    mm_vpool_t *pool;
    unsigned lane;                  /* 1 .. lanes-1; lane 0 is the caller */
} worker_t;

struct mm_vpool {
    pthread_mutex_t turn;           /* one call at a time */
    pthread_mutex_t lock;           /* guards what follows */
    pthread_cond_t  go;             /* gen moved on, or stop */
    pthread_cond_t  done;           /* pending reached 0 */
    unsigned long   gen;            /* calls handed to the workers so far */
    unsigned        pending;        /* workers still on the current call */
    int             stop;
    job_t           job;
    unsigned        lanes;
    unsigned        nthreads;       /* workers running: lanes - 1 once made */
    pthread_t       threads[MM_VPOOL_LANES_MAX - 1];
    worker_t        workers[MM_VPOOL_LANES_MAX - 1];
};

/* Lane `lane` of `lanes`: every lanes-th entry from `lane` on, so entries
 * of different sizes spread evenly and each lane writes its own slots. */
static void run_lane(const job_t *j, unsigned lane, unsigned lanes)
{
    for (size_t i = lane; i < j->n; i += lanes)
        j->rcs[i] = mm_entry_sig(&j->entries[i]);
}

static void *worker_main(void *arg)
{
    worker_t *w = arg;
    mm_vpool_t *p = w->pool;
    unsigned long seen = 0;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->stop && p->gen == seen)
            pthread_cond_wait(&p->go, &p->lock);
        if (p->stop)
            break;
        seen = p->gen;
        job_t job = p->job;
        pthread_mutex_unlock(&p->lock);
        run_lane(&job, w->lane, p->lanes);
        pthread_mutex_lock(&p->lock);
        if (--p->pending == 0)
            pthread_cond_signal(&p->done);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

static unsigned lanes_online(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > MM_VPOOL_LANES_MAX ? MM_VPOOL_LANES_MAX : (unsigned) n;
}

/* Stop the workers that run and join them. */
static void stop_workers(mm_vpool_t *p)
{
    pthread_mutex_lock(&p->lock);
    p->stop = 1;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->lock);
    for (unsigned i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    p->nthreads = 0;
}

int mm_vpool_new(unsigned lanes, mm_vpool_t **out)
{
    sigset_t all, old;
    int made = 0, rc = MM_ENOMEM;
    *out = NULL;
    if (lanes == 0)
        lanes = lanes_online();
    if (lanes > MM_VPOOL_LANES_MAX)
        lanes = MM_VPOOL_LANES_MAX;
    mm_vpool_t *p = calloc(1, sizeof *p);
    if (!p)
        return MM_ENOMEM;
    p->lanes = lanes;
    /* made counts the primitives initialised, for the ladder at out */
    if (pthread_mutex_init(&p->turn, NULL) || (made++, pthread_mutex_init(&p->lock, NULL))
        || (made++, pthread_cond_init(&p->go, NULL))
        || (made++, pthread_cond_init(&p->done, NULL)))
        goto out;
    made++;
    /* Workers inherit the creator's signal mask: block what is sent to the
     * process, so a handler (mm serve's SIGTERM) runs on a thread that is
     * waiting for it.  Faults stay deliverable to the thread that makes them. */
    sigfillset(&all);
    sigdelset(&all, SIGSEGV);
    sigdelset(&all, SIGBUS);
    sigdelset(&all, SIGFPE);
    sigdelset(&all, SIGILL);
    sigdelset(&all, SIGABRT);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = MM_OK;
    for (unsigned i = 0; i + 1 < lanes && rc == MM_OK; i++) {
        p->workers[i].pool = p;
        p->workers[i].lane = i + 1;
        if (pthread_create(&p->threads[i], NULL, worker_main, &p->workers[i]))
            rc = MM_ENOMEM;
        else
            p->nthreads++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc)
        stop_workers(p);
out:
    if (rc == MM_OK) {
        *out = p;
        return MM_OK;
    }
    if (made >= 4)
        pthread_cond_destroy(&p->done);
    if (made >= 3)
        pthread_cond_destroy(&p->go);
    if (made >= 2)
        pthread_mutex_destroy(&p->lock);
    if (made >= 1)
        pthread_mutex_destroy(&p->turn);
    free(p);
    return rc;
}

void mm_vpool_destroy(mm_vpool_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    mm_vpool_t *p = *self_p;
    stop_workers(p);
    pthread_cond_destroy(&p->done);
    pthread_cond_destroy(&p->go);
    pthread_mutex_destroy(&p->lock);
    pthread_mutex_destroy(&p->turn);
    free(p);
    *self_p = NULL;
}

unsigned mm_vpool_lanes(const mm_vpool_t *self)
{
    return self->lanes;
}

/* ---- the shared pool ----------------------------------------------------- */

/* Made on first use by the process that uses it: a forked child has none of
 * its parent's threads, so it leaves the parent's pool alone (never joined,
 * never freed: still reachable from `orphan`) and makes its own. */
static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;
static mm_vpool_t *shared;
/* volatile: written, never read, so an optimiser would drop the store and
 * leave the parent's pool unreachable (a leak to Valgrind) */
static mm_vpool_t *volatile orphan;
static pid_t shared_pid;
static int shared_failed, at_exit_set;

static void shared_at_exit(void)
{
    mm_vpool_shared_destroy();
}

static mm_vpool_t *shared_pool(void)
{
    pthread_mutex_lock(&shared_lock);
    pid_t me = getpid();
    if (shared_pid != me) {
        if (shared)
            orphan = shared;
        shared = NULL;
        shared_failed = 0;
        shared_pid = me;
    }
    if (!shared && !shared_failed) {
        if (!at_exit_set)
            at_exit_set = atexit(shared_at_exit) == 0;
        /* without a way to stop the workers at exit, make none */
        if (!at_exit_set || mm_vpool_new(0, &shared) != MM_OK)
            shared_failed = 1;
    }
    mm_vpool_t *p = shared;
    pthread_mutex_unlock(&shared_lock);
    return p;
}

void mm_vpool_shared_destroy(void)
{
    pthread_mutex_lock(&shared_lock);
    if (shared_pid == getpid())
        mm_vpool_destroy(&shared);
    shared_failed = 0;
    pthread_mutex_unlock(&shared_lock);
}

/* ---- verifying ----------------------------------------------------------- */

int mm_vpool_verify(mm_vpool_t *self, const mm_entry_t *entries, size_t n, int *rcs)
{
    if (n > MM_VPOOL_MAX)
        return MM_ETOOBIG;
    job_t job = { entries, n, rcs };
    mm_vpool_t *p = n < 2 ? NULL : self ? self : shared_pool();
    if (!p || p->nthreads == 0) {
        run_lane(&job, 0, 1);
    } else {
        pthread_mutex_lock(&p->turn);
        pthread_mutex_lock(&p->lock);
        p->job = job;
        p->pending = p->nthreads;
        p->gen++;
        pthread_cond_broadcast(&p->go);
        pthread_mutex_unlock(&p->lock);
        run_lane(&job, 0, p->lanes);
        pthread_mutex_lock(&p->lock);
        while (p->pending)
            pthread_cond_wait(&p->done, &p->lock);
        pthread_mutex_unlock(&p->lock);
        pthread_mutex_unlock(&p->turn);
    }
    for (size_t i = 0; i < n; i++)
        if (rcs[i] != MM_OK)
            return MM_EBADSIG;
    return MM_OK;
}
