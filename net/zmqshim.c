/*  zmqshim.c -- libzmq, loaded the first time the network is used.
 *
 *  libzmq pulls some twenty shared libraries in with it (libstdc++,
 *  Kerberos, PGM, NORM...); loading them costs every run of mm about 5 ms,
 *  half of the 10 ms budget of a local command like `mm note add` that
 *  never touches the network.  So mm does not link libzmq: these
 *  definitions of the libzmq functions net/ uses load it with dlopen on
 *  first call and forward to it.  If it cannot be loaded, every call fails
 *  with ENOSYS and zmq_strerror says why.
 *
 *  RTLD_LAZY, not RTLD_NOW: with RTLD_NOW the loader binds every function
 *  slot of libzmq and of the libraries it pulls in (some 3,000, most of
 *  them libstdc++'s and Kerberos's) before the first call, and that was
 *  half the instructions of a whole no-op `mm sync`.  Lazily it binds the
 *  twenty-odd functions net/ calls, when first called.  What is left of
 *  the load (about 3.8 M instructions) is libstdc++'s data relocations
 *  (vtables, typeinfo: some 3,300), which no binding mode defers.
 *
 *  A command about to connect (mm sync) calls mm_net_warm first: the load,
 *  and the first zmq_ctx_new (which runs OpenPGM's pgm_init, and that looks
 *  "pgm" up in /etc/protocols through NSS), then run on a thread of their
 *  own while the command opens its store, and the first connection takes
 *  that context (mm_zmq_ctx_new) instead of making one.
 */
#include <dlfcn.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <string.h>
#include <zmq.h>
#include "net/net.h"
#include "net/zmqutil.h"

#define LIBZMQ "libzmq.so.5"

static void *lib;
static int failed;

static void *sym(const char *name)
{
    if (!lib && !failed) {
        lib = dlopen(LIBZMQ, RTLD_LAZY | RTLD_LOCAL);
        failed = lib == NULL;
    }
    return lib ? dlsym(lib, name) : NULL;
}

/* One forwarding definition per function: look it up once, then call.
 * (ret is a type and params a parameter list: they cannot be parenthesised.) */
/* NOLINTBEGIN(bugprone-macro-parentheses) */
#define FORWARD(ret, name, params, args, fail)                                \
    ret name params                                                           \
    {                                                                         \
        static ret (*fn) params;                                              \
        if (!fn && !(fn = (ret (*) params) sym(#name))) {                     \
            errno = ENOSYS;                                                   \
            return fail;                                                      \
        }                                                                     \
        return fn args;                                                       \
    }
/* NOLINTEND(bugprone-macro-parentheses) */

FORWARD(void *, zmq_ctx_new, (void), (), NULL)
FORWARD(int, zmq_ctx_term, (void *c), (c), -1)
FORWARD(void *, zmq_socket, (void *c, int type), (c, type), NULL)
FORWARD(int, zmq_close, (void *s), (s), -1)
FORWARD(int, zmq_setsockopt, (void *s, int o, const void *v, size_t n), (s, o, v, n), -1)
FORWARD(int, zmq_getsockopt, (void *s, int o, void *v, size_t *n), (s, o, v, n), -1)
FORWARD(int, zmq_bind, (void *s, const char *a), (s, a), -1)
FORWARD(int, zmq_connect, (void *s, const char *a), (s, a), -1)
FORWARD(int, zmq_send, (void *s, const void *b, size_t n, int f), (s, b, n, f), -1)
FORWARD(int, zmq_poll, (zmq_pollitem_t *i, int n, long t), (i, n, t), -1)
FORWARD(int, zmq_socket_monitor, (void *s, const char *a, int e), (s, a, e), -1)
FORWARD(int, zmq_msg_init, (zmq_msg_t *m), (m), -1)
FORWARD(int, zmq_msg_init_data, (zmq_msg_t *m, void *d, size_t n, zmq_free_fn *f, void *h),
        (m, d, n, f, h), -1)
FORWARD(int, zmq_msg_send, (zmq_msg_t *m, void *s, int f), (m, s, f), -1)
FORWARD(int, zmq_msg_recv, (zmq_msg_t *m, void *s, int f), (m, s, f), -1)
FORWARD(int, zmq_msg_close, (zmq_msg_t *m), (m), -1)
FORWARD(void *, zmq_msg_data, (zmq_msg_t *m), (m), NULL)
FORWARD(size_t, zmq_msg_size, (const zmq_msg_t *m), (m), 0)
FORWARD(int, zmq_msg_more, (const zmq_msg_t *m), (m), 0)
FORWARD(int, zmq_msg_get, (const zmq_msg_t *m, int p), (m, p), -1)
FORWARD(const char *, zmq_msg_gets, (const zmq_msg_t *m, const char *p), (m, p), NULL)

int zmq_errno(void)
{
    static int (*fn)(void);
    if (!fn && !(fn = (int (*)(void)) sym("zmq_errno")))
        return errno;
    return fn();
}

const char *zmq_strerror(int e)
{
    static const char *(*fn)(int);
    if (failed)
        return "cannot load " LIBZMQ " (install the libzmq5 package)";
    if (!fn && !(fn = (const char *(*)(int)) sym("zmq_strerror")))
        return strerror(e);
    return fn(e);
}

/* ---- the warm-up thread (net.h) ---- */

static pthread_mutex_t warm_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_t warm_thread;
static int warm_running;            /* warm_thread is to be joined */
static void *warm_ctx;              /* made by it, not yet taken */

static void *warm_main(void *arg)
{
    (void) arg;
    warm_ctx = zmq_ctx_new();       /* loads libzmq (sym), then pgm_init */
    return NULL;
}

void mm_net_warm(void)
{
    pthread_mutex_lock(&warm_lock);
    if (!warm_running && !warm_ctx && !lib && !failed)
        warm_running = pthread_create(&warm_thread, NULL, warm_main, NULL) == 0;
    pthread_mutex_unlock(&warm_lock);
}

/* Under warm_lock: the thread's work is done, and seen by this one. */
static void warm_join(void)
{
    if (warm_running) {
        pthread_join(warm_thread, NULL);
        warm_running = 0;
    }
}

void *mm_zmq_ctx_new(void)
{
    pthread_mutex_lock(&warm_lock);
    /* While the thread still loads libzmq, this one would only wait: it
     * makes the lookup pgm_init makes first (about 0.25 ms: NSS reads
     * nsswitch.conf and tries its modules, once per process), so that the
     * thread finds it done. */
    if (warm_running)
        (void) getprotobyname("pgm");
    warm_join();
    void *ctx = warm_ctx;
    warm_ctx = NULL;
    pthread_mutex_unlock(&warm_lock);
    return ctx ? ctx : zmq_ctx_new();
}

void mm_net_warm_end(void)
{
    pthread_mutex_lock(&warm_lock);
    warm_join();
    if (warm_ctx)
        zmq_ctx_term(warm_ctx);
    warm_ctx = NULL;
    pthread_mutex_unlock(&warm_lock);
}
