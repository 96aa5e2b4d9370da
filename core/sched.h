/*  sched.h -- when background sync (mm serve --sync-every) runs each target.
 *
 *  Pure policy: no clock, no socket, no process.  The caller passes the time
 *  (milliseconds on a clock that does not jump) and drives the runs; the
 *  schedule says which target is due, and how long the caller may sleep.
 *
 *  Each target (core/target.h: kind and id) has a due time.  A target new
 *  to the schedule is due at once.  A run that succeeds makes it due again
 *  one interval later; a run that fails makes it due after a back-off that
 *  doubles with each failure in a row: interval, 2x, 4x, ... up to a cap of
 *  12 intervals or 1 hour, whichever is less (never less than one
 *  interval).  Every delay is jittered by up to +-20 %, so that devices
 *  started together drift apart.  A success resets the back-off.  With no
 *  target due, mm_sched_timeout says how long to sleep (none: no wake-up).
 */
#ifndef MM_SCHED_H
#define MM_SCHED_H

#include <stddef.h>
#include <stdint.h>
#include "crypto/error.h"
#include "core/target.h"

#define MM_SCHED_MIN_MS     1000ull                 /* the shortest interval */
#define MM_SCHED_MAX_MS     (7ull * 86400 * 1000)   /* the longest: a week */
#define MM_SCHED_CAP_MS     (3600ull * 1000)        /* back-off at most 1 h ... */
#define MM_SCHED_CAP_TIMES  12                      /* ... and 12 intervals */
#define MM_SCHED_JITTER_PCT 20                      /* +- this much of each delay */

typedef struct mm_sched mm_sched_t;

/* A schedule with this interval (MM_SCHED_MIN_MS..MM_SCHED_MAX_MS) and no
 * target.  MM_OK; MM_EINVAL (interval out of range); MM_ENOMEM. */
int mm_sched_new(uint64_t interval_ms, mm_sched_t **out) MM_NODISCARD;

/* Free it; NULL-safe, sets *s to NULL. */
void mm_sched_destroy(mm_sched_t **s);

/* For tests: the jitter's random source, a uniform number below upper
 * (upper >= 1), instead of libsodium's randombytes_uniform. */
typedef uint32_t (*mm_sched_rand_fn)(void *arg, uint32_t upper);
void mm_sched_set_rand(mm_sched_t *s, mm_sched_rand_fn fn, void *arg);

/* The back-off cap of this schedule's interval, in ms (before jitter). */
uint64_t mm_sched_cap_ms(const mm_sched_t *s);

/* Make the schedule's targets those of t: each new one is due at now,
 * those no longer in t are forgotten (a running one when its run is done),
 * the others keep their state.  MM_OK; MM_ENOMEM (the schedule is as it
 * was). */
int mm_sched_update(mm_sched_t *s, const mm_targets_t *t, uint64_t now) MM_NODISCARD;

/* Number of targets in the schedule (those gone but still running too). */
size_t mm_sched_count(const mm_sched_t *s);

/* The target due first (due at or before now) that is not running: 1 with
 * *kind and id set, and it is running until mm_sched_done; 0 if none is
 * due. */
int mm_sched_take(mm_sched_t *s, uint64_t now, int *kind, uint8_t id[32]);

/* How a run changed what we know of a target's reachability. */
#define MM_SCHED_SAME 0             /* as before */
#define MM_SCHED_DOWN 1             /* the first failure after a success (or ever) */
#define MM_SCHED_UP   2             /* the first success after a failure */

typedef struct {
    int      change;                /* MM_SCHED_... */
    unsigned failures;              /* failed runs in a row now (0 after a success) */
    uint64_t delay_ms;              /* until it is due again, jitter included */
    int      growing;               /* a failure whose back-off grew (the first
                                       failure too); 0 once at the cap */
} mm_sched_result_t;

/* The run of a target taken with mm_sched_take ended at now, ok or not.
 * MM_OK with *out (may be NULL); MM_ENOTFOUND (no such target running). */
int mm_sched_done(mm_sched_t *s, int kind, const uint8_t id[32], int ok, uint64_t now,
                  mm_sched_result_t *out) MM_NODISCARD;

/* Milliseconds until the next target that is not running is due, 0 if one
 * is due now, -1 if none is waiting (no target, or all running). */
int64_t mm_sched_timeout(const mm_sched_t *s, uint64_t now);

/* Make a target due now, its back-off forgotten for this once (LAN
 * discovery found it at a new address: mm serve's discovered hook).  A
 * running one is due again as soon as its run ends.  MM_OK; MM_ENOTFOUND
 * (not in the schedule). */
int mm_sched_due_now(mm_sched_t *s, int kind, const uint8_t id[32], uint64_t now)
    MM_NODISCARD;

#endif
