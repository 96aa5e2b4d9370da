/*  serve_hook.h -- a listener on mm serve's machinery for one purpose
 *  (private to net/): `mm device pair` (net/pair.c) runs the same ROUTER,
 *  ZAP handler, connection limits and sessions as mm serve, and adds the
 *  one key it owns (the pairing key) with its own exchange.
 */
#ifndef MM_SERVE_HOOK_H
#define MM_SERVE_HOOK_H

#include <stddef.h>
#include <stdint.h>
#include "net/net.h"

typedef struct {
    /* 1 if key (a CURVE client key) is the hook's: admitted by ZAP, and
     * its frames go to frame() instead of a session */
    int  (*owns)(void *arg, const uint8_t key[32]);
    /* one frame of a key the hook owns; answer with mm_serve_reply */
    void (*frame)(void *arg, const uint8_t key[32], const uint8_t *buf, size_t len,
                  void *router, const uint8_t *rid, size_t ridlen);
    /* the endpoints bound, wildcards expanded, before the first poll */
    void (*ready)(void *arg, char eps[][MM_ENDPOINT_MAX + 1], unsigned n);
    /* a session with one of the person's own devices ended well; key is
     * the CURVE key it connected with */
    void (*synced)(void *arg, const uint8_t key[32]);
    /* asked once per turn of the loop (at least every second): non-zero
     * ends the listener as a signal would */
    int  (*tick)(void *arg);
    void *arg;
} mm_serve_hook_t;

/* mm_serve_run with a hook: no HOME/serve.lock (an mm serve may run
 * beside it), ZAP admits only the person's own devices and the hook's
 * keys (no peers, no invites).  Errors as mm_serve_run. */
int mm_serve_run_hook(mm_home_t *home, char *const *listen, size_t nlisten,
                      const volatile sig_atomic_t *stop, mm_serve_log_fn log, void *arg,
                      const mm_serve_hook_t *hook, char *errtext, size_t errcap) MM_NODISCARD;


#endif
