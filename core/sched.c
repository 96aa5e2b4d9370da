/*  sched.c -- due times and back-off of background sync (sched.h). */
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "core/sched.h"

typedef struct {
    int      kind;
    uint8_t  id[32];
    uint64_t due;
    unsigned failures;
    int      running;
    int      again;                 /* made due while running: due when done */
    int      gone;                  /* left the target list while running */
} slot_t;

struct mm_sched {
    uint64_t interval, cap;
    slot_t  *v;
    size_t   n, size;
    mm_sched_rand_fn rand;
    void    *rand_arg;
};

static uint32_t sodium_rand(void *arg, uint32_t upper)
{
    (void) arg;
    return randombytes_uniform(upper);
}

int mm_sched_new(uint64_t interval_ms, mm_sched_t **out)
{
    mm_sched_t *s;
    *out = NULL;
    if (interval_ms < MM_SCHED_MIN_MS || interval_ms > MM_SCHED_MAX_MS)
        return MM_EINVAL;
    if (!(s = calloc(1, sizeof *s)))
        return MM_ENOMEM;
    s->interval = interval_ms;
    /* 12 intervals or 1 h, the lesser; never below the interval itself */
    s->cap = interval_ms * MM_SCHED_CAP_TIMES;
    if (s->cap > MM_SCHED_CAP_MS)
        s->cap = MM_SCHED_CAP_MS;
    if (s->cap < interval_ms)
        s->cap = interval_ms;
    s->rand = sodium_rand;
    *out = s;
    return MM_OK;
}

void mm_sched_destroy(mm_sched_t **s)
{
    if (!s || !*s)
        return;
    free((*s)->v);
    free(*s);
    *s = NULL;
}

void mm_sched_set_rand(mm_sched_t *s, mm_sched_rand_fn fn, void *arg)
{
    s->rand = fn ? fn : sodium_rand;
    s->rand_arg = arg;
}

uint64_t mm_sched_cap_ms(const mm_sched_t *s)
{
    return s->cap;
}

size_t mm_sched_count(const mm_sched_t *s)
{
    return s->n;
}

static slot_t *find(const mm_sched_t *s, int kind, const uint8_t id[32])
{
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i].kind == kind && memcmp(s->v[i].id, id, 32) == 0)
            return &s->v[i];
    return NULL;
}

static int in_targets(const mm_targets_t *t, const slot_t *sl)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->v[i].kind == sl->kind && memcmp(t->v[i].id, sl->id, 32) == 0)
            return 1;
    return 0;
}

int mm_sched_update(mm_sched_t *s, const mm_targets_t *t, uint64_t now)
{
    size_t add = 0, j = 0;
    for (size_t i = 0; i < t->n; i++)
        add += find(s, t->v[i].kind, t->v[i].id) == NULL;
    if (s->n + add > s->size) {     /* grow first: then nothing below fails */
        slot_t *v = realloc(s->v, (s->n + add) * sizeof *v);
        if (!v)
            return MM_ENOMEM;
        s->v = v;
        s->size = s->n + add;
    }
    for (size_t i = 0; i < s->n; i++) {
        slot_t *sl = &s->v[i];
        sl->gone = !in_targets(t, sl);
        if (sl->gone && !sl->running)
            continue;               /* forgotten */
        s->v[j++] = *sl;
    }
    s->n = j;
    for (size_t i = 0; i < t->n; i++) {
        if (find(s, t->v[i].kind, t->v[i].id))
            continue;               /* also a target listed twice */
        slot_t *sl = &s->v[s->n++];
        memset(sl, 0, sizeof *sl);
        sl->kind = t->v[i].kind;
        memcpy(sl->id, t->v[i].id, 32);
        sl->due = now;
    }
    return MM_OK;
}

int mm_sched_take(mm_sched_t *s, uint64_t now, int *kind, uint8_t id[32])
{
    slot_t *best = NULL;
    for (size_t i = 0; i < s->n; i++) {
        slot_t *sl = &s->v[i];
        if (sl->running || sl->gone || sl->due > now)
            continue;
        if (!best || sl->due < best->due)
            best = sl;
    }
    if (!best)
        return 0;
    best->running = 1;
    *kind = best->kind;
    memcpy(id, best->id, 32);
    return 1;
}

/* d, moved by up to +-MM_SCHED_JITTER_PCT % of itself. */
static uint64_t jitter(const mm_sched_t *s, uint64_t d)
{
    uint64_t span = d * MM_SCHED_JITTER_PCT / 100;
    if (span == 0 || 2 * span + 1 > UINT32_MAX)
        return d;
    return d - span + s->rand(s->rand_arg, (uint32_t) (2 * span + 1));
}

/* The back-off after k >= 1 failures in a row, before jitter. */
static uint64_t backoff(const mm_sched_t *s, unsigned k)
{
    uint64_t d = s->interval;
    for (unsigned i = 1; i < k && d < s->cap; i++)
        d *= 2;
    return d < s->cap ? d : s->cap;
}

int mm_sched_done(mm_sched_t *s, int kind, const uint8_t id[32], int ok, uint64_t now,
                  mm_sched_result_t *out)
{
    mm_sched_result_t r = { MM_SCHED_SAME, 0, 0, 0 };
    slot_t *sl = find(s, kind, id);
    if (!sl || !sl->running)
        return MM_ENOTFOUND;
    sl->running = 0;
    if (ok) {
        r.change = sl->failures ? MM_SCHED_UP : MM_SCHED_SAME;
        sl->failures = 0;
        r.delay_ms = jitter(s, s->interval);
    } else {
        r.change = sl->failures == 0 ? MM_SCHED_DOWN : MM_SCHED_SAME;
        if (sl->failures < UINT32_MAX)
            sl->failures++;
        r.growing = sl->failures == 1 || backoff(s, sl->failures) > backoff(s, sl->failures - 1);
        r.delay_ms = jitter(s, backoff(s, sl->failures));
    }
    r.failures = sl->failures;
    if (sl->again) {                /* discovered while it ran: try the news at once */
        sl->again = 0;
        r.delay_ms = 0;
    }
    sl->due = now + r.delay_ms;
    if (sl->gone)                   /* left the list while it ran */
        *sl = s->v[--s->n];
    if (out)
        *out = r;
    return MM_OK;
}

int64_t mm_sched_timeout(const mm_sched_t *s, uint64_t now)
{
    int64_t best = -1;
    for (size_t i = 0; i < s->n; i++) {
        const slot_t *sl = &s->v[i];
        if (sl->running || sl->gone)
            continue;
        int64_t t = sl->due > now ? (int64_t) (sl->due - now) : 0;
        if (best < 0 || t < best)
            best = t;
    }
    return best;
}

int mm_sched_due_now(mm_sched_t *s, int kind, const uint8_t id[32], uint64_t now)
{
    slot_t *sl = find(s, kind, id);
    if (!sl || sl->gone)
        return MM_ENOTFOUND;
    if (sl->running)
        sl->again = 1;
    else
        sl->due = now;
    return MM_OK;
}
