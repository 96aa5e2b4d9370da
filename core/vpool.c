#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>
#include "core/vpool.h"
#include "crypto/error.h"

/* One call's work.  Written by the caller under the lock before the
 * generation moves on; read-only for everyone until the call ends. */
typedef struct {
    mm_entry_t *entries;            /* written only under hash, each by its lane */
    size_t n;
    int *rcs;
    size_t batch;                   /* entries a lane claims at once */
    int hash;                       /* mm_entry_hash_sig, not mm_entry_sig */
} job_t;

/* One entry's job: the signature alone, or the hashes first. */
static int job_one(mm_entry_t *e, int hash)
{
    return hash ? mm_entry_hash_sig(e) : mm_entry_sig(e);
}

typedef struct {
    mm_vpool_t *pool;
    unsigned lane;                  /* 1 .. lanes-1; lane 0 is the caller */
} worker_t;

struct mm_vpool {
    pthread_mutex_t turn;           /* one call at a time */
    pthread_mutex_t lock;           /* guards what follows */
    pthread_cond_t  go;             /* gen moved on, or stop */
    pthread_cond_t  done;           /* pending reached 0 */
    pthread_cond_t  progress;       /* a batch was verified: the caller may wait for one */
    unsigned long   gen;            /* calls handed to the workers so far */
    unsigned        pending;        /* workers still on the current call */
    int             stop;
    job_t           job;
    unsigned        lanes;
    unsigned        nthreads;       /* workers running: lanes - 1 once made */
    pthread_t       threads[MM_VPOOL_LANES_MAX - 1];
    worker_t        workers[MM_VPOOL_LANES_MAX - 1];
    /* the running call: lanes claim batches from the front, in order, so
     * that the caller can take results in order while the rest is checked */
    atomic_size_t   next;           /* first entry no lane has claimed */
    atomic_uchar    ready[MM_VPOOL_MAX];   /* rcs[i] is written */
    int             waiting;        /* the caller waits on progress (under lock) */
};

/* Claim the next batch of the current call and verify it; 0 when nothing
 * is left to claim.  Each entry's result slot is written by the lane that
 * claimed it, then marked ready (release: the caller reads rcs after). */
static int claim_batch(mm_vpool_t *p, const job_t *j)
{
    size_t from = atomic_fetch_add(&p->next, j->batch);
    if (from >= j->n)
        return 0;
    size_t to = from + j->batch < j->n ? from + j->batch : j->n;
    for (size_t i = from; i < to; i++) {
        j->rcs[i] = job_one(&j->entries[i], j->hash);
        atomic_store_explicit(&p->ready[i], 1, memory_order_release);
    }
    return 1;
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
        while (claim_batch(p, &job)) {
            pthread_mutex_lock(&p->lock);
            if (p->waiting)
                pthread_cond_signal(&p->progress);
            pthread_mutex_unlock(&p->lock);
        }
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
        || (made++, pthread_cond_init(&p->done, NULL))
        || (made++, pthread_cond_init(&p->progress, NULL)))
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
    if (made >= 5)
        pthread_cond_destroy(&p->progress);
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
    pthread_cond_destroy(&p->progress);
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

/* Entries a lane claims at once: small enough that the caller, taking
 * results in order, soon finds the next one verified, and that lanes end
 * a call together; large enough that claims and wake-ups cost nothing. */
static size_t batch_of(size_t n, unsigned lanes)
{
    size_t b = n / ((size_t) lanes * 8);
    return b < 1 ? 1 : b > MM_VPOOL_BATCH ? MM_VPOOL_BATCH : b;
}

/* The pool serves one call at a time.  A call that finds it busy does not
 * wait: it is checked on its caller's thread alone (in take).  Waiting
 * could deadlock: a thread may hold a call open while it waits for
 * something else (a session's lookahead, core/log.h mm_log_pre_start, is
 * open while its thread waits for the next frame and then for the lock of
 * the store that other syncs of net/many.c hold), or begin a second call
 * itself while one is open. */
static int hold_turn(mm_vpool_t *p)
{
    return pthread_mutex_trylock(&p->turn) == 0;
}

static void drop_turn(mm_vpool_t *p)
{
    pthread_mutex_unlock(&p->turn);
}

static int begin(mm_vpool_t *self, mm_entry_t *entries, size_t n, int *rcs, int hash,
                 mm_vpool_call_t *call)
{
    call->pool = NULL;
    call->entries = entries;
    call->n = n;
    call->rcs = rcs;
    call->hash = hash;
    if (n > MM_VPOOL_MAX)
        return MM_ETOOBIG;
    mm_vpool_t *p = n < 2 ? NULL : self ? self : shared_pool();
    if (!p || p->nthreads == 0 || !hold_turn(p))
        return MM_OK;               /* mm_vpool_take checks each on the caller's thread */
    for (size_t i = 0; i < n; i++)
        atomic_store_explicit(&p->ready[i], 0, memory_order_relaxed);
    atomic_store(&p->next, 0);
    pthread_mutex_lock(&p->lock);
    p->job = (job_t) { entries, n, rcs, batch_of(n, p->lanes), hash };
    p->pending = p->nthreads;
    p->gen++;
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->lock);
    call->pool = p;
    return MM_OK;
}

/* Without hash, entries is only read: the const is cast away to share
 * job_t with mm_vpool_begin_hash, never to write through it. */
int mm_vpool_begin(mm_vpool_t *self, const mm_entry_t *entries, size_t n, int *rcs,
                   mm_vpool_call_t *call)
{
    return begin(self, (mm_entry_t *) entries, n, rcs, 0, call);
}

int mm_vpool_begin_hash(mm_vpool_t *self, mm_entry_t *entries, size_t n, int *rcs,
                        mm_vpool_call_t *call)
{
    return begin(self, entries, n, rcs, 1, call);
}

int mm_vpool_take(mm_vpool_call_t *call, size_t i)
{
    mm_vpool_t *p = call->pool;
    if (!p)
        return call->rcs[i] = job_one(&call->entries[i], call->hash);
    while (!atomic_load_explicit(&p->ready[i], memory_order_acquire)) {
        if (claim_batch(p, &p->job))
            continue;               /* helped: perhaps with entry i itself */
        /* every batch is claimed: a worker is on entry i; wait for it */
        pthread_mutex_lock(&p->lock);
        p->waiting = 1;
        while (!atomic_load_explicit(&p->ready[i], memory_order_acquire))
            pthread_cond_wait(&p->progress, &p->lock);
        p->waiting = 0;
        pthread_mutex_unlock(&p->lock);
    }
    return call->rcs[i];
}

void mm_vpool_end(mm_vpool_call_t *call)
{
    mm_vpool_t *p = call->pool;
    if (!p)
        return;
    /* what no lane has claimed yet is not wanted any more */
    atomic_store(&p->next, call->n);
    pthread_mutex_lock(&p->lock);
    while (p->pending)
        pthread_cond_wait(&p->done, &p->lock);
    pthread_mutex_unlock(&p->lock);
    drop_turn(p);
    call->pool = NULL;
}

int mm_vpool_verify(mm_vpool_t *self, const mm_entry_t *entries, size_t n, int *rcs)
{
    mm_vpool_call_t call;
    int rc = mm_vpool_begin(self, entries, n, rcs, &call), bad = 0;
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++)
        bad |= mm_vpool_take(&call, i) != MM_OK;
    mm_vpool_end(&call);
    return bad ? MM_EBADSIG : MM_OK;
}
