#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "net/session.h"
#include "net/wire.h"
#include "core/log.h"
#include "core/peer.h"
#include "core/rekey.h"
#include "core/fork.h"
#include "core/revoke.h"
#include "core/device.h"
#include "core/mailbox.h"
#include "core/purge.h"
#include <sodium.h>
#include "crypto/error.h"
#include "crypto/idcode.h"

#define FRAME_CAP (MM_RUN_BYTES + MM_ENTRY_MAX + 1024)
#define TRIM_EVERY 4                /* frames (<= 8 MiB) between dropping mapped pages */

typedef struct {
    uint8_t  author[32];
    uint8_t  scope[32];
    uint64_t next;                  /* next seq to send */
    uint64_t last;                  /* last seq to send (our head at plan time) */
} plan_t;

typedef struct {
    uint8_t id[32];
    int     shared;
} scope_verdict_t;

/* A CERT received and verified, stored only with its author's first run. */
typedef struct {
    uint8_t device[32];
    uint8_t identity[32];
    size_t  len;
    uint8_t bytes[MM_CERT_MAX];
} held_cert_t;

struct mm_session {
    mm_home_t  *home;
    mm_store_t *store;
    int         client;
    uint8_t     remote_key[32];
    uint8_t     expect[32];
    uint8_t     remote_identity[32];
    uint8_t     remote_device[32];      /* the device its HELLO certified */
    int         got_hello;
    int         got_devices;
    int         got_scopes;
    int         to_mailbox;         /* the remote is our own mailbox: relationship scopes only */
    int         mailbox;            /* this home is a mailbox (PROTOCOL.md 14) */
    int         got_have_last;
    int         sent_done, got_done;
    int         replanned;          /* server: planned again after the client's DONE */
    int         failed;
    int         checked;            /* the remote's heads were compared with ours */
    unsigned    forks_sent;         /* FORK frames sent: the remote ends the session */
    uint8_t   (*held)[64];          /* feeds (author || scope) held back: forked */
    size_t      nheld, capheld;
    mm_session_event_fn on_event;
    void       *event_arg;
    mm_session_hello_fn on_hello;
    void       *hello_arg;
    unsigned    have_frames;        /* HAVE frames received */
    uint64_t    progress;           /* frames that moved the session forward */
    char        errtext[256];
    mm_have_t  *rhave;              /* the remote's feeds, sorted once complete */
    size_t      nrhave, caprhave;
    uint8_t   (*refuse)[32];        /* identities the remote refuses */
    size_t      nrefuse;
    plan_t     *plan;
    size_t      nplan, iplan, capplan;
    uint8_t   (*certs_sent)[32];
    size_t      ncerts, capcerts;
    held_cert_t *certs_held;        /* MM_SESSION_CERTS_HELD, allocated at the first CERT */
    size_t      nheld_certs;
    scope_verdict_t *verdicts;
    size_t      nverdicts, capverdicts;
    int         credit;
    uint64_t    frames_acked;
    unsigned    since_trim;
    mm_sync_stats_t stats;
    uint8_t    *frame;
    mm_session_send_fn send;
    mm_session_take_fn take;        /* NULL: frames are copied by send */
    void       *arg;
    /* lookahead (mm_session_next): the frame queued after the one being
     * handled, and the context-free checks of its run begun on the pool
     * while this one commits (PROTOCOL.md 8.3) */
    const uint8_t *next_buf;        /* valid during one mm_session_input */
    size_t      next_len;
    mm_log_pre_t *pre;              /* begun on next_buf's run, for the next input */
    const uint8_t *pre_frame;       /* the frame pre was begun on */
    mm_log_pre_t *pre_cur;          /* the pre of the frame being handled */
};

static int grow(void **v, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return MM_OK;
    size_t n = *cap ? *cap * 2 : 16;
    while (n < need)
        n *= 2;
    void *p = realloc(*v, n * size);
    if (!p)
        return MM_ENOMEM;
    *v = p;
    *cap = n;
    return MM_OK;
}

int mm_session_new(mm_home_t *home, int client, const uint8_t remote_key[32],
                   const uint8_t *expect_identity, mm_session_send_fn send, void *arg,
                   mm_session_t **out)
{
    mm_session_t *s = calloc(1, sizeof *s);
    if (!s || !(s->frame = malloc(FRAME_CAP))) {
        free(s);
        return MM_ENOMEM;
    }
    s->home = home;
    s->store = mm_home_store(home);
    s->client = client;
    memcpy(s->remote_key, remote_key, 32);
    if (expect_identity)
        memcpy(s->expect, expect_identity, 32);
    s->credit = MM_CREDIT_INITIAL;
    s->send = send;
    s->arg = arg;
    s->mailbox = mm_home_is_mailbox(home);
    *out = s;
    return MM_OK;
}

/* ---- who the remote is, for a mailbox (PROTOCOL.md 14) ---- */

/* Is identity one this home syncs with besides itself: a known peer, or,
 * in a mailbox, a member of a scope its owner linked?  *blocked says
 * whether it is blocked.  MM_OK; MM_ENOTFOUND; store errors. */
static int known_person(mm_session_t *s, mm_txn_t *txn, const uint8_t identity[32],
                        int *blocked)
{
    mm_peer_t p;
    if (s->mailbox)
        return mm_mailbox_member(txn, identity, blocked);
    int rc = mm_peer_get(txn, identity, &p);
    *blocked = rc == MM_OK && p.blocked;
    return rc;
}

typedef struct {
    const uint8_t *identity;
    int mailbox;
} curve_walk_t;

static int is_own_mailbox(const mm_cert_t *c, const uint8_t *raw, size_t len, void *arg)
{
    curve_walk_t *w = arg;
    (void) raw;
    (void) len;
    if ((c->flags & MM_CERT_MAILBOX) && memcmp(c->identity, w->identity, 32) == 0)
        w->mailbox = 1;
    return 0;
}

/* Client: is the device we called (its CURVE key) our own mailbox?  Known
 * before its HELLO, since our HELLO, DEVICES and HAVE go out first. */
static int called_own_mailbox(mm_session_t *s)
{
    mm_txn_t *txn;
    const uint8_t *me = mm_home_identity_pk(s->home);
    curve_walk_t w = { me, 0 };
    if (s->mailbox || memcmp(s->expect, me, 32) != 0
        || mm_store_begin(s->store, 0, &txn) != MM_OK)
        return 0;
    if (mm_cert_by_curve(txn, s->remote_key, is_own_mailbox, &w) < 0)
        w.mailbox = 0;
    mm_txn_abort(&txn);
    return w.mailbox;
}

void mm_session_destroy(mm_session_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    mm_session_t *s = *self_p;
    mm_log_pre_end(&s->pre);        /* no worker reads a frame after this */
    mm_log_pre_end(&s->pre_cur);
    free(s->rhave);
    free(s->refuse);
    free(s->plan);
    free(s->certs_sent);
    free(s->certs_held);
    free(s->verdicts);
    free(s->held);
    free(s->frame);
    free(s);
    *self_p = NULL;
}

void mm_session_on_event(mm_session_t *self, mm_session_event_fn fn, void *arg)
{
    self->on_event = fn;
    self->event_arg = arg;
}

void mm_session_on_take(mm_session_t *self, mm_session_take_fn fn)
{
    self->take = fn;
}

void mm_session_on_hello(mm_session_t *self, mm_session_hello_fn fn, void *arg)
{
    self->on_hello = fn;
    self->hello_arg = arg;
}

const mm_sync_stats_t *mm_session_stats(const mm_session_t *self) { return &self->stats; }
uint64_t mm_session_progress(const mm_session_t *self) { return self->progress; }
const char *mm_session_error_text(const mm_session_t *self) { return self->errtext; }

const uint8_t *mm_session_remote_identity(const mm_session_t *self)
{
    return self->got_hello ? self->remote_identity : NULL;
}

const uint8_t *mm_session_remote_device(const mm_session_t *self)
{
    return self->got_hello ? self->remote_device : NULL;
}

int mm_session_done(const mm_session_t *s)
{
    return !s->failed && !s->forks_sent && s->sent_done && s->got_done
        && s->frames_acked == s->stats.frames_sent;
}

/* ---- sending ---- */

static int send_writer(mm_session_t *s, mm_mp_writer_t *w)
{
    int rc = mm_mp_writer_status(w);
    return rc ? rc : s->send(s->arg, w->buf, w->len);
}

/* An ENTRIES frame written into s->frame: handed to the transport, which
 * takes the buffer (no copy of the entry bytes), when it can; s->frame is
 * then a fresh one (malloc reuses the one freed before: same size). */
static int send_frame(mm_session_t *s, mm_mp_writer_t *w)
{
    int rc = mm_mp_writer_status(w);
    uint8_t *next;
    if (rc || !s->take || w->buf != s->frame || !(next = malloc(FRAME_CAP)))
        return rc ? rc : send_writer(s, w);
    uint8_t *full = s->frame;
    s->frame = next;
    return s->take(s->arg, full, w->len);
}

/* Tell the remote why we end the session, and end it. */
static int fail(mm_session_t *s, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(mm_session_t *s, int rc, const char *fmt, ...)
{
    char text[256];
    va_list ap;
    va_start(ap, fmt);
    /* va_start is just above: the analyzer loses it on some paths into fail() */
    // NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized)
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    mm_log_pre_end(&s->pre);        /* the next frame is never checked now */
    if (!s->failed) {
        mm_mp_writer_t w;
        mm_mp_writer_init(&w, s->frame, FRAME_CAP);
        mm_wire_error(&w, rc, text);
        send_writer(s, &w);
        snprintf(s->errtext, sizeof s->errtext, "%s", text);
        s->failed = rc;
    }
    return rc;
}

static int my_cert(mm_session_t *s, mm_txn_t *txn, const uint8_t **raw, size_t *len)
{
    mm_cert_t c;
    return mm_cert_get(txn, mm_keypair_pk(mm_home_device(s->home)), &c, raw, len);
}

static int send_hello(mm_session_t *s)
{
    mm_txn_t *txn;
    const uint8_t *raw;
    size_t len;
    int rc = mm_store_begin(s->store, 0, &txn);
    if (rc)
        return rc;
    if ((rc = my_cert(s, txn, &raw, &len)) == MM_OK) {
        mm_mp_writer_t w;
        mm_mp_writer_init(&w, s->frame, FRAME_CAP);
        mm_wire_hello(&w, raw, len, mm_home_name(s->home));
        rc = send_writer(s, &w);
    }
    mm_txn_abort(&txn);
    return rc;
}

/* DEVICES: what we know of our person's devices (and, to our own device,
 * of every peer's), right after our HELLO (PROTOCOL.md 8.2, step 1). */
static int send_devices(mm_session_t *s)
{
    mm_txn_t *txn;
    mm_device_set_t *set = malloc(sizeof *set);
    if (!set)
        return MM_ENOMEM;
    int rc = mm_store_begin(s->store, 0, &txn);
    if (rc == MM_OK
        && (rc = mm_device_collect(txn, mm_home_identity_pk(s->home), s->remote_identity, set))
               == MM_OK) {
        mm_mp_writer_t w;
        mm_mp_writer_init(&w, s->frame, FRAME_CAP);
        mm_wire_devices_begin(&w);
        for (int l = 0; l < 3; l++) {
            mm_wire_devices_list(&w, set->n[l]);
            for (uint32_t i = 0; i < set->n[l]; i++)
                mm_wire_devices_add(&w, set->item[l][i].p, set->item[l][i].len);
        }
        rc = send_writer(s, &w);
    }
    mm_txn_abort(&txn);
    free(set);
    return rc;
}

/* SCOPES: what our mailbox may store, right after DEVICES (PROTOCOL.md
 * 14.2): every relationship scope's id and members, and whom we block. */
static int send_scopes(mm_session_t *s)
{
    mm_txn_t *txn;
    mm_mailbox_told_t t;
    uint8_t *buf = NULL;
    int rc = mm_store_begin(s->store, 0, &txn);
    if (rc)
        return rc;
    rc = mm_mailbox_tell(txn, &t);
    mm_txn_abort(&txn);
    if (rc)
        return rc;
    /* 16,384 scopes of 104 bytes and 256 blocked fit in a frame */
    size_t cap = 64 + t.n * 104 + t.nblocked * 34;
    if (!(buf = malloc(cap))) {
        mm_mailbox_told_free(&t);
        return MM_ENOMEM;
    }
    mm_mp_writer_t w;
    mm_mp_writer_init(&w, buf, cap);
    mm_wire_scopes(&w, &t);
    rc = send_writer(s, &w);
    free(buf);
    mm_mailbox_told_free(&t);
    return rc;
}

/* Is scope shared with the remote person?  (Its members include them; with
 * our own device, every scope we hold.)  Cached per scope. */
static int shared(mm_session_t *s, mm_txn_t *txn, const uint8_t scope[32])
{
    for (size_t i = 0; i < s->nverdicts; i++)
        if (memcmp(s->verdicts[i].id, scope, 32) == 0)
            return s->verdicts[i].shared;
    mm_scope_t sc;
    int v = 0;
    /* to our own mailbox: the relationship scopes, which it may store
     * blind; never the self scope (PROTOCOL.md 14) */
    if (mm_scope_get(txn, scope, &sc) == MM_OK)
        v = s->to_mailbox ? sc.kind == MM_SCOPE_PAIR
            : memcmp(s->remote_identity, mm_home_identity_pk(s->home), 32) == 0
              || mm_scope_has_member(&sc, s->remote_identity);
    mm_scope_wipe(&sc);
    if (grow((void **) &s->verdicts, &s->capverdicts, s->nverdicts + 1, sizeof *s->verdicts))
        return 0;                   /* out of memory: share nothing more */
    memcpy(s->verdicts[s->nverdicts].id, scope, 32);
    s->verdicts[s->nverdicts++].shared = v;
    return v;
}

typedef struct {
    mm_session_t *s;
    mm_txn_t *txn;
    mm_have_t *v;
    size_t n, cap;
} feeds_t;

static int collect_feed(const uint8_t *author, const uint8_t *scope, const mm_head_t *head,
                        void *arg)
{
    feeds_t *f = arg;
    if (!shared(f->s, f->txn, scope))
        return 0;
    if (grow((void **) &f->v, &f->cap, f->n + 1, sizeof *f->v))
        return MM_ENOMEM;
    memcpy(f->v[f->n].author, author, 32);
    memcpy(f->v[f->n].scope, scope, 32);
    memcpy(f->v[f->n].head, head->id, 32);
    f->v[f->n++].seq = head->seq;
    return 0;
}

/* Our shared feeds, in (author, scope) order. */
static int my_feeds(mm_session_t *s, mm_txn_t *txn, feeds_t *f)
{
    memset(f, 0, sizeof *f);
    f->s = s;
    f->txn = txn;
    int rc = mm_log_feeds(txn, collect_feed, f);
    if (rc) {
        free(f->v);
        f->v = NULL;
    }
    return rc;
}

typedef struct {
    uint8_t (*v)[32];
    size_t n;
} blocked_t;

static int collect_blocked(const mm_peer_t *p, void *arg)
{
    blocked_t *b = arg;
    if (p->blocked && b->n < MM_REFUSE_MAX)
        memcpy(b->v[b->n++], p->identity, 32);
    return 0;
}

static int send_have(mm_session_t *s)
{
    mm_txn_t *txn;
    feeds_t f;
    uint8_t refuse[MM_REFUSE_MAX][32];
    blocked_t b = { refuse, 0 };
    int rc = mm_store_begin(s->store, 0, &txn);
    if (rc)
        return rc;
    if (s->mailbox) {               /* whom its owner blocks, as told (SCOPES) */
        size_t nb = 0;
        rc = mm_mailbox_blocked(txn, refuse, MM_REFUSE_MAX, &nb);
        b.n = nb;
    }
    if (rc || (rc = my_feeds(s, txn, &f))
        || (!s->mailbox && (rc = mm_peer_foreach(txn, collect_blocked, &b)))) {
        mm_txn_abort(&txn);
        return rc;
    }
    mm_txn_abort(&txn);
    size_t i = 0;
    do {
        size_t n = f.n - i > MM_HAVE_MAX ? MM_HAVE_MAX : f.n - i;
        int last = i + n == f.n;
        mm_mp_writer_t w;
        mm_mp_writer_init(&w, s->frame, FRAME_CAP);
        mm_wire_have_begin(&w, last, (uint32_t) n);
        /* cppcheck-suppress knownConditionTrueFalse ; collect_feed fills f */
        for (size_t k = 0; k < n; k++)
            mm_wire_have_feed(&w, &f.v[i + k]);
        mm_wire_have_end(&w, (const uint8_t (*)[32]) refuse, last ? (uint32_t) b.n : 0);
        if ((rc = send_writer(s, &w)))
            break;
        i += n;
    } while (i < f.n);
    free(f.v);
    return rc;
}

int mm_session_start(mm_session_t *s)
{
    /* the client knows whom it called: it can say what it has at once */
    memcpy(s->remote_identity, s->expect, 32);
    s->to_mailbox = called_own_mailbox(s);
    int rc = send_hello(s);
    if (rc == MM_OK)
        rc = send_devices(s);
    if (rc == MM_OK && s->to_mailbox)
        rc = send_scopes(s);
    return rc ? rc : send_have(s);
}

static int cert_sent(mm_session_t *s, const uint8_t author[32])
{
    for (size_t i = 0; i < s->ncerts; i++)
        if (memcmp(s->certs_sent[i], author, 32) == 0)
            return 1;
    return 0;
}

static int send_cert(mm_session_t *s, mm_txn_t *txn, const uint8_t author[32])
{
    mm_cert_t c;
    const uint8_t *raw;
    size_t len;
    int rc = mm_cert_get(txn, author, &c, &raw, &len);
    if (rc)
        return rc;
    if ((rc = grow((void **) &s->certs_sent, &s->capcerts, s->ncerts + 1, 32)))
        return rc;
    memcpy(s->certs_sent[s->ncerts++], author, 32);
    mm_mp_writer_t w;
    mm_mp_writer_init(&w, s->frame, FRAME_CAP);
    mm_wire_cert(&w, raw, len);
    return send_writer(s, &w);
}

static int remote_has(mm_session_t *s, const uint8_t author[32], const uint8_t scope[32],
                      uint64_t seq);
static int make_plan(mm_session_t *s);

typedef struct {
    const uint8_t *bufs[MM_RUN_MAX];
    size_t lens[MM_RUN_MAX];
    uint32_t n;
    size_t bytes;
    uint64_t last;
} run_t;

static int add_to_run(const uint8_t *buf, size_t len, uint64_t seq, void *arg)
{
    run_t *r = arg;
    if (seq > r->last || r->n == MM_RUN_MAX || (r->n && r->bytes + len > MM_RUN_BYTES))
        return 1;
    r->bufs[r->n] = buf;
    r->lens[r->n++] = len;
    r->bytes += len;
    return 0;
}

/* Send the next run of the plan. */
static int send_run(mm_session_t *s)
{
    plan_t *p = &s->plan[s->iplan];
    mm_txn_t *txn;
    run_t *r = malloc(sizeof *r);
    if (!r)
        return MM_ENOMEM;
    r->n = 0;
    r->bytes = 0;
    r->last = p->last;
    mm_head_t head;
    int rc = mm_store_begin(s->store, 0, &txn);
    if (rc || (rc = mm_log_head(txn, p->author, p->scope, &head)))
        goto out;
    if (head.seq < p->next) {
        /* the feed went since it was planned: a purge applied in this very
         * session (PROTOCOL.md 5.4); nothing of it is sent */
        s->iplan++;
        goto out;
    }
    if (!cert_sent(s, p->author) && (rc = send_cert(s, txn, p->author)))
        goto out;
    rc = mm_log_walk(txn, p->author, p->scope, p->next, add_to_run, r);
    if (rc < 0)
        goto out;
    if (r->n == 0) {
        rc = MM_ECORRUPT;           /* the head said these entries exist */
        goto out;
    }
    mm_mp_writer_t w;
    mm_mp_writer_init(&w, s->frame, FRAME_CAP);
    mm_wire_entries_begin(&w, r->n);
    for (uint32_t i = 0; i < r->n; i++)
        mm_wire_entries_add(&w, r->bufs[i], r->lens[i]);
    if ((rc = send_frame(s, &w)))
        goto out;
    s->credit--;
    s->stats.frames_sent++;
    s->stats.entries_sent += r->n;
    s->stats.bytes_sent += r->bytes;
    p->next += r->n;
    rc = remote_has(s, p->author, p->scope, p->next - 1);
    if (p->next > p->last)
        s->iplan++;
out:
    mm_txn_abort(&txn);
    free(r);
    if (rc == MM_OK && ++s->since_trim >= TRIM_EVERY) {
        mm_store_trim(s->store);
        s->since_trim = 0;
    }
    return rc;
}

static int pump(mm_session_t *s)
{
    int rc;
    if (!s->got_have_last || s->failed)
        return MM_OK;
again:
    while (s->credit > 0 && s->iplan < s->nplan)
        if ((rc = send_run(s)))
            return rc;
    if (s->iplan < s->nplan || s->sent_done || s->forks_sent)
        return MM_OK;               /* after a FORK the remote ends the session (8.7) */
    /* The serving side ends last: once the client said DONE, everything it
     * sent is stored; what the server writes in response (a mentor's queue
     * entries) travels in this same session (PROTOCOL.md 8.2). */
    if (!s->client && !s->got_done)
        return MM_OK;
    if (!s->client && !s->replanned) {
        s->replanned = 1;
        if (s->on_event)
            s->on_event(s->event_arg, MM_SESSION_IDLE, NULL);
        size_t before = s->nplan;
        if ((rc = make_plan(s)))
            return rc;
        if (s->nplan > before)
            goto again;
    }
    mm_mp_writer_t w;
    mm_mp_writer_init(&w, s->frame, FRAME_CAP);
    mm_wire_done(&w);
    if ((rc = send_writer(s, &w)))
        return rc;
    s->sent_done = 1;
    return MM_OK;
}

/* ---- receiving ---- */

static int cmp_have(const void *a, const void *b)
{
    return memcmp(a, b, 64);        /* author || scope */
}

static int refused(mm_session_t *s, mm_txn_t *txn, const uint8_t author[32])
{
    mm_cert_t c;
    if (!s->nrefuse || mm_cert_get(txn, author, &c, NULL, NULL) != MM_OK)
        return 0;
    for (size_t i = 0; i < s->nrefuse; i++)
        if (memcmp(s->refuse[i], c.identity, 32) == 0)
            return 1;
    return 0;
}

/* The remote now holds feed (author, scope) up to seq: it sent it, or we
 * did.  Keeps rhave sorted, so a later plan sends only what is new. */
static int remote_has(mm_session_t *s, const uint8_t author[32], const uint8_t scope[32],
                      uint64_t seq)
{
    mm_have_t key;
    size_t lo = 0, hi = s->nrhave;
    if (!s->got_have_last)
        return MM_OK;               /* rhave is not sorted yet; a plan reads it later */
    memcpy(key.author, author, 32);
    memcpy(key.scope, scope, 32);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int d = cmp_have(&s->rhave[mid], &key);
        if (d == 0) {
            if (s->rhave[mid].seq < seq)
                s->rhave[mid].seq = seq;
            return MM_OK;
        }
        if (d < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (grow((void **) &s->rhave, &s->caprhave, s->nrhave + 1, sizeof *s->rhave))
        return MM_ENOMEM;
    memmove(&s->rhave[lo + 1], &s->rhave[lo], (s->nrhave - lo) * sizeof *s->rhave);
    key.seq = seq;
    s->rhave[lo] = key;
    s->nrhave++;
    return MM_OK;
}

/* One stretch of a feed to send, and when (PROTOCOL.md 8.2 step 3): the
 * self scope first, then the other scopes with more than one key; within
 * a scope of several keys, segments in order of the keys they need
 * (core/rekey.h); then the rest;
 * each group in (author, scope) order. */
typedef struct {
    size_t   feed;                  /* index in the feeds, (author, scope) order */
    uint64_t from, to;
    int      pass;                  /* 0 self scope, 1 a scope with several keys, 2 the rest */
    unsigned need;
} stretch_t;

typedef struct {
    stretch_t *v;
    size_t n, cap, feed;
    int pass;
} stretches_t;

static int add_stretch(uint64_t from, uint64_t to, unsigned need, void *arg)
{
    stretches_t *t = arg;
    if (grow((void **) &t->v, &t->cap, t->n + 1, sizeof *t->v))
        return MM_ENOMEM;
    t->v[t->n++] = (stretch_t) { t->feed, from, to, t->pass, need };
    return MM_OK;
}

static int cmp_stretch(const void *a, const void *b)
{
    const stretch_t *x = a, *y = b;
    if (x->pass != y->pass)
        return x->pass < y->pass ? -1 : 1;
    if (x->need != y->need)
        return x->need < y->need ? -1 : 1;
    if (x->feed != y->feed)
        return x->feed < y->feed ? -1 : 1;
    return x->from < y->from ? -1 : x->from > y->from;
}

/* The stretches of feed v to send from seq from.  A scope never rekeyed
 * (one key: nearly all) is one stretch, read from nothing but its record. */
static int feed_stretches(mm_session_t *s, mm_txn_t *txn, const mm_have_t *v, uint64_t from,
                          stretches_t *t)
{
    mm_scope_t sc;
    int self = memcmp(v->scope, mm_home_self_scope(s->home), 32) == 0;
    int rc = mm_scope_get(txn, v->scope, &sc);
    if (rc == MM_OK && sc.nkeys > 1) {
        t->pass = self ? 0 : 1;
        rc = mm_rekey_segments(txn, &sc, v->author, from, v->seq, add_stretch, t);
    } else if (rc == MM_OK) {
        t->pass = self ? 0 : 2;
        rc = add_stretch(from, v->seq, 0, t);
    }
    mm_scope_wipe(&sc);
    return rc;
}

static int is_held(const mm_session_t *s, const uint8_t author[32], const uint8_t scope[32])
{
    for (size_t i = 0; i < s->nheld; i++)
        if (memcmp(s->held[i], author, 32) == 0 && memcmp(s->held[i] + 32, scope, 32) == 0)
            return 1;
    return 0;
}

static int send_fork(mm_session_t *s, const uint8_t *const *bufs, const size_t *lens, uint32_t n)
{
    mm_mp_writer_t w;
    mm_mp_writer_init(&w, s->frame, FRAME_CAP);
    mm_wire_fork(&w, bufs, lens, n);
    int rc = send_writer(s, &w);
    if (rc == MM_OK)
        s->forks_sent++;
    return rc;
}

/* The last seq of author's feed in scope its revocations accept
 * (UINT64_MAX: not revoked). */
static int accepted_last(mm_txn_t *txn, const uint8_t author[32], const uint8_t scope[32],
                         uint64_t *last)
{
    mm_cert_t c;
    int revoked = 0;
    *last = UINT64_MAX;
    int rc = mm_cert_get(txn, author, &c, NULL, NULL);
    if (rc == MM_ENOTFOUND)
        return MM_OK;
    if (rc == MM_OK)
        rc = mm_revoke_state(txn, author, c.identity, scope, &revoked, last);
    if (rc == MM_OK && !revoked)
        *last = UINT64_MAX;
    return rc;
}

/* A feed both list (PROTOCOL.md 8.7): if we hold a proof that it forked,
 * hand it on; if our entry at the remote's seq is not the one whose id it
 * sent, challenge it with ours.  Either way the feed is held back (*hold).
 * Only the side holding the longer (or an equal) feed can compare.
 * A revoked author's feed is settled by its revocation: only positions up
 * to the last it accepts still matter, so a fork past them (the copied
 * home reset, the copy revoked) is no longer news for anyone.  The common
 * case, equal heads, costs one lookup: the head's id is in the heads row. */
static int check_feed(mm_session_t *s, mm_txn_t *txn, const mm_have_t *mine,
                      const mm_have_t *theirs, int *hold)
{
    mm_fork_t fk;
    const uint8_t *buf = NULL;
    size_t len = 0;
    uint8_t id[32];
    uint64_t last;
    *hold = 0;
    int rc = mm_fork_get(txn, mine->author, mine->scope, &fk);
    if (rc == MM_OK) {
        if ((rc = accepted_last(txn, mine->author, mine->scope, &last)) || fk.seq > last)
            return rc;
        const uint8_t *bufs[2] = { fk.a, fk.b };
        size_t lens[2] = { fk.alen, fk.blen };
        *hold = 1;
        return send_fork(s, bufs, lens, 2);
    }
    if (rc != MM_ENOTFOUND)
        return rc;
    if (theirs->seq == 0 || theirs->seq > mine->seq)
        return MM_OK;
    if (theirs->seq == mine->seq) {
        memcpy(id, mine->head, 32);
    } else {
        if ((rc = mm_log_get(txn, mine->author, mine->scope, theirs->seq, &buf, &len)))
            return rc == MM_ENOTFOUND ? MM_ECORRUPT : rc;    /* below our head: stored */
        mm_hash(id, buf, len);
    }
    if (memcmp(id, theirs->head, 32) == 0)
        return MM_OK;
    if ((rc = accepted_last(txn, mine->author, mine->scope, &last)) || theirs->seq > last)
        return rc;
    if (!buf && (rc = mm_log_get(txn, mine->author, mine->scope, theirs->seq, &buf, &len)))
        return rc == MM_ENOTFOUND ? MM_ECORRUPT : rc;
    *hold = 1;
    return send_fork(s, &buf, &len, 1);
}

/* A revoked author's feed is offered only up to the last seq its
 * revocations accept (PROTOCOL.md 3.2): what lies beyond is refused by
 * every receiver that knows of them, and DEVICES told the remote. */
static int revoked_cap(mm_txn_t *txn, mm_have_t *v)
{
    mm_cert_t c;
    int revoked = 0;
    uint64_t last = 0;
    int rc = mm_cert_get(txn, v->author, &c, NULL, NULL);
    if (rc == MM_ENOTFOUND)
        return MM_OK;
    if (rc || (rc = mm_revoke_state(txn, v->author, c.identity, v->scope, &revoked, &last)))
        return rc;
    if (revoked && last < v->seq)
        v->seq = last;
    return MM_OK;
}

/* Plan what the remote lacks of our shared feeds (its HAVE, and what went
 * either way since), after what is planned already. */
static int make_plan(mm_session_t *s)
{
    mm_txn_t *txn;
    feeds_t f;
    stretches_t t = { NULL, 0, 0, 0, 0 };
    int rc = mm_store_begin(s->store, 0, &txn);
    if (rc)
        return rc;
    if ((rc = my_feeds(s, txn, &f))) {
        mm_txn_abort(&txn);
        return rc;
    }
    for (size_t i = 0; i < f.n && rc == MM_OK; i++) {
        mm_have_t *theirs = s->nrhave ? bsearch(&f.v[i], s->rhave, s->nrhave,
                                                sizeof *s->rhave, cmp_have) : NULL;
        if (theirs && !s->checked) {
            int hold;
            if ((rc = check_feed(s, txn, &f.v[i], theirs, &hold)))
                break;
            if (hold && (rc = grow((void **) &s->held, &s->capheld, s->nheld + 1, 64)))
                break;
            if (hold) {
                memcpy(s->held[s->nheld], f.v[i].author, 32);
                memcpy(s->held[s->nheld++] + 32, f.v[i].scope, 32);
            }
        }
        uint64_t from = theirs ? theirs->seq + 1 : 1;
        mm_have_t upto = f.v[i];
        if (from > upto.seq)
            continue;               /* nothing new (the cap below only lowers seq) */
        if ((rc = revoked_cap(txn, &upto)))
            break;
        if (from > upto.seq || refused(s, txn, f.v[i].author)
            || is_held(s, f.v[i].author, f.v[i].scope))
            continue;
        t.feed = i;
        rc = feed_stretches(s, txn, &upto, from, &t);
    }
    if (rc == MM_OK && t.n)
        qsort(t.v, t.n, sizeof *t.v, cmp_stretch);
    for (size_t k = 0; k < t.n && rc == MM_OK; k++) {
        if ((rc = grow((void **) &s->plan, &s->capplan, s->nplan + 1, sizeof *s->plan)))
            break;
        plan_t *p = &s->plan[s->nplan++];
        memcpy(p->author, f.v[t.v[k].feed].author, 32);
        memcpy(p->scope, f.v[t.v[k].feed].scope, 32);
        p->next = t.v[k].from;
        p->last = t.v[k].to;
    }
    s->checked = 1;
    mm_txn_abort(&txn);
    free(t.v);
    free(f.v);
    return rc;
}

static int on_hello(mm_session_t *s, const mm_msg_t *m)
{
    mm_cert_t c;
    mm_txn_t *txn;
    if (s->got_hello)
        return fail(s, MM_EPROTO, "second HELLO");
    if (m->u.hello.version != MM_PROTO_VERSION)
        return fail(s, MM_EVERSION, "protocol version %llu is not supported (we speak %d)",
                    (unsigned long long) m->u.hello.version, MM_PROTO_VERSION);
    /* the certificate we stored last time, byte for byte, was verified
     * then (PROTOCOL.md 3.1): only a new one costs its signature checks */
    int held = 0;
    int rc = mm_store_begin(s->store, 0, &txn);
    if (rc)
        return fail(s, rc, "cannot open the store");
    rc = mm_cert_check(txn, m->u.hello.cert, m->u.hello.certlen, &c, &held);
    int keyed = rc == MM_OK && mm_cert_curve_is(txn, s->remote_key, c.device);
    mm_txn_abort(&txn);
    if (rc)
        return fail(s, rc, "HELLO certificate: %s", mm_strerror(rc));
    if (!keyed)
        return fail(s, MM_EBADCERT, "HELLO certificate is not for the key you connected with");
    if (s->on_hello) {
        char why[sizeof s->errtext] = "";
        if ((rc = s->on_hello(s->hello_arg, c.identity, why, sizeof why)))
            return fail(s, rc, "%s", *why ? why : mm_strerror(rc));
    }
    const uint8_t *me = mm_home_identity_pk(s->home);
    /* a held certificate leaves nothing to write: a read transaction */
    if ((rc = mm_store_begin(s->store, !held, &txn)))
        return fail(s, rc, "cannot open the store");
    int revoked = 0;
    /* a revoked device is refused by name, whoever it belongs to */
    rc = mm_revoke_state(txn, c.device, c.identity, NULL, &revoked, NULL);
    if (rc == MM_OK && revoked) {
        mm_txn_abort(&txn);
        return fail(s, MM_EREVOKED, "this device was revoked by its identity");
    }
    if (rc == MM_OK && s->mailbox) {
        /* a mailbox serves once linked, until unlinked, and never another
         * mailbox (PROTOCOL.md 14.4) */
        int gone = 0;
        const uint8_t zero[32] = { 0 };
        if (!memcmp(me, zero, 32) || (c.flags & MM_CERT_MAILBOX))
            rc = MM_EREFUSED;
        else if ((rc = mm_revoke_state(txn, mm_keypair_pk(mm_home_device(s->home)), me, NULL,
                                       &gone, NULL)) == MM_OK && gone) {
            mm_txn_abort(&txn);
            return fail(s, MM_EREVOKED, "this mailbox was unlinked by its owner");
        }
    }
    if (rc == MM_OK && s->client) {
        if (memcmp(c.identity, s->expect, 32) != 0)
            rc = MM_EREFUSED;
    } else if (rc == MM_OK && memcmp(c.identity, me, 32) != 0) {
        int blocked = 0;
        rc = known_person(s, txn, c.identity, &blocked);
        if (rc == MM_ENOTFOUND || (rc == MM_OK && blocked))
            rc = MM_EREFUSED;
    }
    if (rc == MM_OK && !held
        && (rc = mm_cert_put(txn, m->u.hello.cert, m->u.hello.certlen, NULL)) == MM_OK)
        rc = mm_txn_commit(&txn);
    mm_txn_abort(&txn);
    if (rc == MM_EREFUSED)
        return fail(s, rc, s->client ? "you are not the person this device called"
                                      : "you are not a peer of this device");
    if (rc)
        return fail(s, rc, "cannot store your certificate: %s", mm_strerror(rc));
    memcpy(s->remote_identity, c.identity, 32);
    memcpy(s->remote_device, c.device, 32);
    s->got_hello = 1;
    s->progress++;
    /* the certificate says whether the remote is our own mailbox */
    int to_mailbox = !s->mailbox && (c.flags & MM_CERT_MAILBOX) && !memcmp(c.identity, me, 32);
    if (to_mailbox != s->to_mailbox) {
        s->to_mailbox = to_mailbox;
        s->nverdicts = 0;           /* what is shared follows from it */
    }
    if (!s->client && ((rc = send_hello(s)) || (rc = send_devices(s))
                       || (s->to_mailbox && (rc = send_scopes(s))) || (rc = send_have(s))))
        return fail(s, rc, "cannot answer HELLO: %s", mm_strerror(rc));
    return MM_OK;
}

static int on_have(mm_session_t *s, mm_msg_t *m)
{
    mm_have_t h;
    if (!s->got_hello || s->got_have_last)
        return fail(s, MM_EPROTO, "HAVE out of order");
    if (++s->have_frames > MM_HAVE_FRAMES_MAX)
        return fail(s, MM_ETOOBIG, "more than %d HAVE frames", MM_HAVE_FRAMES_MAX);
    if (s->nrhave + m->u.have.n > MM_HAVE_TOTAL_MAX)
        return fail(s, MM_ETOOBIG, "more than %d feeds listed", MM_HAVE_TOTAL_MAX);
    if (grow((void **) &s->rhave, &s->caprhave, s->nrhave + m->u.have.n, sizeof *s->rhave))
        return fail(s, MM_ENOMEM, "out of memory");
    while (mm_wire_have_next(m, &h))
        s->rhave[s->nrhave++] = h;
    if (m->u.have.n || m->u.have.last)
        s->progress++;              /* an empty non-last HAVE says nothing */
    if (!m->u.have.last)
        return MM_OK;
    if (m->u.have.nrefuse) {
        if (!(s->refuse = malloc((size_t) m->u.have.nrefuse * 32)))
            return fail(s, MM_ENOMEM, "out of memory");
        for (uint32_t i = 0; i < m->u.have.nrefuse; i++)
            memcpy(s->refuse[i], mm_wire_refuse(m, i), 32);
        s->nrefuse = m->u.have.nrefuse;
    }
    if (s->nrhave > 1)
        qsort(s->rhave, s->nrhave, sizeof *s->rhave, cmp_have);
    s->got_have_last = 1;
    int rc = make_plan(s);
    if (rc == MM_OK)
        rc = pump(s);
    return rc ? fail(s, rc, "cannot plan what to send: %s", mm_strerror(rc)) : MM_OK;
}

/* The remote's statements about devices: at most one DEVICES, after HELLO
 * and before its first HAVE.  Stored in one transaction, all or nothing. */
static int on_devices(mm_session_t *s, mm_msg_t *m)
{
    mm_txn_t *txn;
    const uint8_t *me = mm_home_identity_pk(s->home);
    if (s->got_devices || s->have_frames)
        return fail(s, MM_EPROTO, "DEVICES out of order");
    s->got_devices = 1;
    int rc = mm_store_begin(s->store, 1, &txn);
    if (rc)
        return fail(s, rc, "cannot open the store");
    static const char *what[3] = { "certificate", "revocation", "endpoints statement" };
    int l = 0;
    for (l = 0; l < 3 && rc == MM_OK; l++) {
        const uint8_t *p;
        uint32_t len;
        while (rc == MM_OK && mm_wire_devices_next(m, l, &p, &len))
            rc = mm_device_accept(txn, me, s->remote_identity, l, p, len);
        if (rc)
            break;
    }
    /* the remote's own device may be among what it told us of */
    int revoked = 0;
    if (rc == MM_OK)
        rc = mm_revoke_state(txn, s->remote_device, s->remote_identity, NULL, &revoked, NULL);
    /* a mailbox told of its own unlinking serves nobody from now on */
    int unlinked = 0;
    if (rc == MM_OK && s->mailbox)
        rc = mm_revoke_state(txn, mm_keypair_pk(mm_home_device(s->home)), me, NULL, &unlinked,
                             NULL);
    if (rc) {
        mm_txn_abort(&txn);
        return fail(s, rc, "DEVICES: %s refused: %s", what[l < 3 ? l : 2], mm_strerror(rc));
    }
    if ((rc = mm_txn_commit(&txn)))
        return fail(s, rc, "cannot store the device statements: %s", mm_strerror(rc));
    if (revoked)
        return fail(s, MM_EREVOKED, "this device was revoked by its identity");
    if (unlinked)
        return fail(s, MM_EREVOKED, "this mailbox was unlinked by its owner");
    return MM_OK;
}

/* SCOPES (PROTOCOL.md 14.2): only our owner's device tells a mailbox what
 * it may store, after DEVICES and before the first HAVE. */
static int on_scopes(mm_session_t *s, const mm_msg_t *m)
{
    mm_txn_t *txn;
    mm_mailbox_told_t t;
    mm_cert_t c;
    const uint8_t *me = mm_home_identity_pk(s->home);
    if (!s->mailbox || s->got_scopes || s->have_frames || memcmp(s->remote_identity, me, 32))
        return fail(s, MM_EPROTO, "SCOPES out of order, or not from the mailbox's owner");
    s->got_scopes = 1;
    int rc = mm_store_begin(s->store, 1, &txn);
    if (rc)
        return fail(s, rc, "cannot open the store");
    if ((rc = mm_cert_get(txn, s->remote_device, &c, NULL, NULL)) == MM_OK
        && (c.flags & MM_CERT_MAILBOX))
        rc = MM_EPROTO;
    if (rc == MM_OK && (rc = mm_wire_scopes_told(m, &t)) == MM_OK) {
        rc = mm_mailbox_learn(txn, me, &t, mm_now_ms());
        mm_mailbox_told_free(&t);
    }
    if (rc == MM_OK)
        rc = mm_txn_commit(&txn);
    mm_txn_abort(&txn);
    s->nverdicts = 0;               /* scopes may be new: judge them again */
    return rc ? fail(s, rc, "SCOPES refused: %s", mm_strerror(rc)) : MM_OK;
}

/* May the remote hand us a certificate of this identity? */
static int cert_allowed(mm_session_t *s, mm_txn_t *txn, const uint8_t identity[32])
{
    int blocked;
    return memcmp(identity, s->remote_identity, 32) == 0
        || memcmp(identity, mm_home_identity_pk(s->home), 32) == 0
        || known_person(s, txn, identity, &blocked) == MM_OK;
}

/* The held certificate of device, or NULL. */
static held_cert_t *held_cert(mm_session_t *s, const uint8_t device[32])
{
    for (size_t i = 0; i < s->nheld_certs; i++)
        if (memcmp(s->certs_held[i].device, device, 32) == 0)
            return &s->certs_held[i];
    return NULL;
}

/* CERT: verified now, stored with the first run of its author that
 * follows (PROTOCOL.md 8.2, step 3), so that certificates with no entry to
 * verify never reach the store. */
static int on_cert(mm_session_t *s, const mm_msg_t *m)
{
    mm_cert_t c;
    mm_txn_t *txn;
    if (!s->got_hello)
        return fail(s, MM_EPROTO, "CERT before HELLO");
    /* the cheap checks first: a CERT we store already, or hold, costs no
     * signature check, however often it comes */
    int rc = mm_cert_decode(m->u.cert.cert, m->u.cert.certlen, &c);
    if (rc)
        return fail(s, rc, "CERT: %s", mm_strerror(rc));
    if ((rc = mm_store_begin(s->store, 0, &txn)))
        return fail(s, rc, "cannot open the store");
    mm_cert_t stored;
    const uint8_t *raw = NULL;
    size_t rawlen = 0;
    int same = mm_cert_get(txn, c.device, &stored, &raw, &rawlen) == MM_OK
               && rawlen == m->u.cert.certlen && memcmp(raw, m->u.cert.cert, rawlen) == 0;
    int allowed = cert_allowed(s, txn, c.identity);
    mm_txn_abort(&txn);
    if (same)
        return MM_OK;               /* a CERT we hold is a no-op */
    if (held_cert(s, c.device))     /* once per session and author (8.2, step 3) */
        return fail(s, MM_EPROTO, "a second CERT for one device before its entries");
    if ((rc = mm_cert_parse(m->u.cert.cert, m->u.cert.certlen, &c)))
        return fail(s, rc, "CERT: %s", mm_strerror(rc));
    /* from an own device, one about a person we do not talk to is one we
     * purged and it has not yet: ignored (its run is not stored, 5.4) */
    if (!allowed && !memcmp(s->remote_identity, mm_home_identity_pk(s->home), 32))
        return MM_OK;
    if (!allowed)
        return fail(s, MM_ESCOPE, "CERT refused: %s", mm_strerror(MM_ESCOPE));
    /* a relayed certificate must prove its device (PROTOCOL.md 3.1) */
    if (!mm_cert_proven(&c))
        return fail(s, MM_EBADCERT, "CERT without the device's proof (version 1) for a device "
                    "we do not know");
    if (s->nheld_certs == MM_SESSION_CERTS_HELD)
        return fail(s, MM_ETOOMANY, "more than %d certificates sent ahead of their entries",
                    MM_SESSION_CERTS_HELD);
    if (!s->certs_held
        && !(s->certs_held = malloc(MM_SESSION_CERTS_HELD * sizeof *s->certs_held)))
        return fail(s, MM_ENOMEM, "out of memory");
    held_cert_t *h = &s->certs_held[s->nheld_certs++];
    memcpy(h->device, c.device, 32);
    memcpy(h->identity, c.identity, 32);
    memcpy(h->bytes, m->u.cert.cert, m->u.cert.certlen);
    h->len = m->u.cert.certlen;
    return MM_OK;
}

/* Store the held certificate of author, if any, in txn (before its run is
 * verified against it).  MM_OK; mm_cert_put's errors, MM_ETOOMANY among
 * them (*identity then names whose). */
static int put_held_cert(mm_session_t *s, mm_txn_t *txn, const uint8_t author[32],
                         uint8_t identity[32])
{
    held_cert_t *h = held_cert(s, author);
    if (!h)
        return MM_OK;
    memcpy(identity, h->identity, 32);
    return mm_cert_put(txn, h->bytes, h->len, NULL);
}

/* After the commit that stored it: no longer held. */
static void drop_held_cert(mm_session_t *s, const uint8_t author[32])
{
    held_cert_t *h = held_cert(s, author);
    if (h)
        *h = s->certs_held[--s->nheld_certs];
}

/* a received frame is one run of mm_log_put_run */
_Static_assert(MM_RUN_MAX <= MM_LOG_RUN_MAX, "an ENTRIES frame fits one stored run");

static void fork_event(mm_session_t *s, const mm_entry_t *e, int self);
static int fork_fail(mm_session_t *s, const mm_entry_t *e);

/* A run held an entry that differs from the one stored at its position (a
 * sender that did not compare heads): if that entry is validly signed, the
 * two are a proof, recorded as a FORK would be (PROTOCOL.md 8.7). */
static int entries_fork(mm_session_t *s, const mm_msg_t *m)
{
    mm_txn_t *txn;
    mm_entry_t e;
    const uint8_t *mine;
    size_t minelen;
    int self = 0;
    int rc = mm_store_begin(s->store, 1, &txn);
    if (rc)
        return fail(s, rc, "cannot open the store");
    rc = MM_EFORK;
    for (uint32_t i = 0; i < m->u.entries.n; i++) {
        if (mm_entry_parse(m->u.entries.bufs[i], m->u.entries.lens[i], &e) != MM_OK
            || mm_log_get(txn, e.author, e.scope, e.seq, &mine, &minelen) != MM_OK)
            break;
        if (minelen == e.len && memcmp(mine, e.bytes, e.len) == 0)
            continue;
        if ((rc = mm_fork_record(txn, e.bytes, e.len, mine, minelen, &self, NULL)) == MM_OK)
            rc = mm_txn_commit(&txn);
        break;
    }
    mm_txn_abort(&txn);
    if (rc)
        return fail(s, MM_EFORK, "entries of one feed differ from those stored: %s",
                    mm_strerror(rc));
    fork_event(s, &e, self);
    return fork_fail(s, &e);
}

/* If the frame queued after this one is an ENTRIES frame, begin its run's
 * context-free checks (structure, hashes, signatures) on the verifier pool
 * now, while the caller commits this run durably: the pool works while the
 * calling thread waits on the disk.  Only checks that need no store are
 * begun; what they find is the answer of that frame's own mm_session_input,
 * in order, and nothing of it is stored before then.  Without memory for
 * it, nothing is begun. */
static void look_ahead(mm_session_t *s)
{
    if (!s->next_buf || s->pre)
        return;
    mm_msg_t *m = malloc(sizeof *m);
    if (m && mm_wire_decode(s->next_buf, s->next_len, m) == MM_OK && m->type == MM_MSG_ENTRIES
        && mm_log_pre_start(m->u.entries.bufs, m->u.entries.lens, m->u.entries.n, &s->pre)
               == MM_OK && s->pre)
        s->pre_frame = s->next_buf;
    free(m);
}

static int on_entries(mm_session_t *s, const mm_msg_t *m)
{
    mm_entry_t e;
    mm_scope_t sc;
    mm_cert_t c;
    mm_txn_t *txn = NULL;
    size_t stored = 0;
    char what[160] = "";
    if (!s->got_hello || s->got_done)
        return fail(s, MM_EPROTO, "ENTRIES out of order");
    /* its feed is all this needs of the first entry: no hash (the run's
     * are computed once, on the verifier pool, by mm_log_put_run) */
    int rc = mm_entry_parse_shape(m->u.entries.bufs[0], m->u.entries.lens[0], &e);
    if (rc)
        return fail(s, rc, "entry: %s", mm_strerror(rc));
    if ((rc = mm_store_begin(s->store, 1, &txn)))
        return fail(s, rc, "cannot open the store");
    /* audience: only a member of the scope may hand us its feeds */
    int skip = 0;
    rc = mm_scope_get(txn, e.scope, &sc);
    if (rc == MM_ENOTFOUND && mm_purge_scope_gone(txn, e.scope)) {
        /* a relationship purged here (mm peer rm --purge) that the sender
         * still holds: acknowledged, not stored (PROTOCOL.md 8.3) */
        skip = 1;
        rc = MM_OK;
    } else if (rc == MM_ENOTFOUND || (rc == MM_OK && !shared(s, txn, e.scope))) {
        rc = MM_ESCOPE;
    }
    mm_scope_wipe(&sc);
    /* the author's certificate, if it came in a CERT, is stored with its run */
    uint8_t whose[32];
    if (rc == MM_OK && !skip && (rc = put_held_cert(s, txn, e.author, whose)) == MM_ETOOMANY
        && memcmp(whose, s->remote_identity, 32) != 0) {
        /* a third person's device past the cap, relayed: not the
         * sender's fault; the run is acknowledged and not stored (8.6) */
        skip = 1;
        rc = MM_OK;
    }
    int blocked = 0;
    if (rc == MM_OK && !skip && mm_cert_get(txn, e.author, &c, NULL, NULL) == MM_OK
        && known_person(s, txn, c.identity, &blocked) == MM_OK && blocked)
        rc = MM_EBLOCKED;
    if (rc == MM_OK && !skip)
        rc = mm_log_put_run_pre(txn, m->u.entries.bufs, m->u.entries.lens, m->u.entries.n,
                                &s->pre_cur, &stored);
    mm_log_pre_end(&s->pre_cur);    /* a run skipped, or refused before it was checked */
    if (rc == MM_EREVOKED) {
        /* A revoked device's entries past its last: the sender stored them
         * before it heard of the revocation.  They are never stored here,
         * and they are no fault of the sender's: keep what of the run lies
         * up to the last, and acknowledge the frame (PROTOCOL.md 8.3). */
        int revoked;
        uint64_t keep = 0;
        mm_txn_abort(&txn);
        if ((rc = mm_store_begin(s->store, 1, &txn)) == MM_OK
            && (rc = put_held_cert(s, txn, e.author, whose)) == MM_OK
            && (rc = mm_cert_get(txn, e.author, &c, NULL, NULL)) == MM_OK
            && (rc = mm_revoke_state(txn, e.author, c.identity, e.scope, &revoked, &keep))
                   == MM_OK) {
            size_t n = keep >= e.seq ? (size_t) (keep - e.seq + 1) : 0;
            if (n > m->u.entries.n)
                n = m->u.entries.n;
            stored = 0;
            if (n)
                rc = mm_log_put_run(txn, m->u.entries.bufs, m->u.entries.lens, n, &stored);
        }
    }
    if (rc == MM_OK)
        look_ahead(s);              /* the next run's checks go on while this one commits */
    if (rc == MM_OK && (rc = mm_txn_commit(&txn)) == MM_OK && !skip)
        drop_held_cert(s, e.author);
    mm_txn_abort(&txn);
    if (rc == MM_EFORK)
        return entries_fork(s, m);
    if (rc) {
        char dev[MM_IDCODE_LEN + 1];
        mm_idcode_encode(dev, MM_IDCODE_DEVICE, e.author);
        snprintf(what, sizeof what, "entries %llu.. of feed %.15s: %s",
                 (unsigned long long) e.seq, dev, mm_strerror(rc));
        return fail(s, rc, "%s", what);
    }
    /* the run is one feed, contiguous, and stored: its last seq is e's + n - 1 */
    uint64_t last = e.seq + m->u.entries.n - 1;
    if ((rc = remote_has(s, e.author, e.scope, last)))
        return fail(s, rc, "out of memory");
    if (stored && s->on_event) {
        mm_session_stored_t st = { e.scope, e.author, c.identity, last - stored + 1, last,
                                   stored };
        s->on_event(s->event_arg, MM_SESSION_STORED, &st);
    }
    s->stats.frames_recv++;
    s->stats.entries_recv += stored;
    if (stored)
        s->progress++;              /* a run held already moves nothing */
    for (uint32_t i = 0; i < m->u.entries.n; i++)
        s->stats.bytes_recv += m->u.entries.lens[i];
    if (++s->since_trim >= TRIM_EVERY) {
        mm_store_trim(s->store);
        s->since_trim = 0;
    }
    mm_mp_writer_t w;
    mm_mp_writer_init(&w, s->frame, FRAME_CAP);
    mm_wire_ack(&w, 1);
    return send_writer(s, &w);
}

static void fork_event(mm_session_t *s, const mm_entry_t *e, int self)
{
    if (s->on_event) {
        mm_session_fork_t fk = { e->author, e->scope, e->seq, self };
        s->on_event(s->event_arg, MM_SESSION_FORK, &fk);
    }
}

/* Why the session ends, in words both sides can show. */
static int fork_fail(mm_session_t *s, const mm_entry_t *e)
{
    char dev[MM_IDCODE_LEN + 1];
    mm_idcode_encode(dev, MM_IDCODE_DEVICE, e->author);
    return fail(s, MM_EFORK, "device %.15s wrote two different entries at seq %llu of one feed: "
                "its key is on two homes (a copied home)", dev, (unsigned long long) e->seq);
}

/* FORK (PROTOCOL.md 8.7).  One entry: the remote's entry at a position
 * where it saw our head differ; if ours differs indeed, the two are the
 * proof: record it, hand it back, end the session.  Two entries: a proof;
 * verify and record it, end the session.  Only a verified pair is ever
 * recorded: a remote that merely claims another head changes nothing. */
static int on_fork(mm_session_t *s, const mm_msg_t *m)
{
    mm_entry_t e;
    mm_txn_t *txn;
    int self = 0;
    const uint8_t *mine = NULL;
    size_t minelen = 0;
    int rc = mm_store_begin(s->store, 1, &txn);
    if (rc)
        return fail(s, rc, "cannot open the store");
    rc = mm_fork_check_entry(txn, m->u.fork.bufs[0], m->u.fork.lens[0], &e);
    if (rc == MM_OK && !shared(s, txn, e.scope))
        rc = MM_ESCOPE;
    if (rc) {
        mm_txn_abort(&txn);
        return fail(s, rc, "FORK: %s", mm_strerror(rc));
    }
    if (m->u.fork.n == 1) {
        rc = mm_log_get(txn, e.author, e.scope, e.seq, &mine, &minelen);
        if (rc == MM_ENOTFOUND
            || (rc == MM_OK && minelen == e.len && memcmp(mine, e.bytes, e.len) == 0)) {
            mm_txn_abort(&txn);
            return fail(s, MM_EPROTO, "FORK: entry %llu of that feed is %s",
                        (unsigned long long) e.seq,
                        rc == MM_OK ? "the very one this device holds" : "not held here");
        }
        if (rc == MM_OK)
            rc = mm_fork_record(txn, e.bytes, e.len, mine, minelen, &self, NULL);
    } else {
        rc = mm_fork_record(txn, m->u.fork.bufs[0], m->u.fork.lens[0], m->u.fork.bufs[1],
                            m->u.fork.lens[1], &self, NULL);
    }
    mm_mp_writer_t w;
    if (rc == MM_OK && m->u.fork.n == 1) {
        /* the proof goes back: built now, while `mine` points into the map */
        const uint8_t *bufs[2] = { e.bytes, mine };
        size_t lens[2] = { e.len, minelen };
        mm_mp_writer_init(&w, s->frame, FRAME_CAP);
        mm_wire_fork(&w, bufs, lens, 2);
        rc = mm_mp_writer_status(&w);
    }
    if (rc == MM_OK)
        rc = mm_txn_commit(&txn);
    mm_txn_abort(&txn);
    if (rc)
        return fail(s, rc, "FORK refused: %s", mm_strerror(rc));
    if (m->u.fork.n == 1 && (rc = send_writer(s, &w)))
        return fail(s, rc, "cannot send the proof of a fork: %s", mm_strerror(rc));
    fork_event(s, &e, self);
    return fork_fail(s, &e);
}

int mm_session_input(mm_session_t *s, const uint8_t *buf, size_t len)
{
    mm_msg_t *m;
    int rc;
    /* what was begun ahead is this frame's, or no frame's */
    if (s->pre && s->pre_frame == buf)
        s->pre_cur = s->pre, s->pre = NULL;
    mm_log_pre_end(&s->pre);
    if (s->failed) {
        mm_log_pre_end(&s->pre_cur);
        s->next_buf = NULL;
        return s->failed;
    }
    if (!(m = malloc(sizeof *m))) { /* ~16 KiB: not on the stack */
        mm_log_pre_end(&s->pre_cur);
        s->next_buf = NULL;
        return fail(s, MM_ENOMEM, "out of memory");
    }
    rc = mm_wire_decode(buf, len, m);
    if (rc) {
        rc = fail(s, rc, "malformed frame: %s", mm_strerror(rc));
        goto out;
    }
    if (!s->got_hello && m->type != MM_MSG_HELLO && m->type != MM_MSG_ERROR) {
        rc = fail(s, MM_EPROTO, "expected HELLO first");
        goto out;
    }
    switch (m->type) {
    case MM_MSG_HELLO:   rc = on_hello(s, m); break;
    case MM_MSG_HAVE:    rc = on_have(s, m); break;
    case MM_MSG_CERT:    rc = on_cert(s, m); break;
    case MM_MSG_DEVICES: rc = on_devices(s, m); break;
    case MM_MSG_SCOPES:  rc = on_scopes(s, m); break;
    case MM_MSG_ENTRIES: rc = on_entries(s, m); break;
    case MM_MSG_FORK:
        rc = s->got_have_last ? on_fork(s, m) : fail(s, MM_EPROTO, "FORK before HAVE");
        break;
    case MM_MSG_ACK:
        if (s->frames_acked + m->u.ack.frames > s->stats.frames_sent) {
            rc = fail(s, MM_EPROTO, "ACK for frames never sent");
            break;
        }
        s->frames_acked += m->u.ack.frames;
        s->credit += (int) m->u.ack.frames;
        s->progress++;
        rc = pump(s);
        break;
    case MM_MSG_DONE:
        if (!s->got_have_last || s->got_done)
            rc = fail(s, MM_EPROTO, "DONE out of order");
        else {
            s->got_done = 1;
            s->progress++;
        }
        break;
    case MM_MSG_ERROR:
        snprintf(s->errtext, sizeof s->errtext, "%.*s", (int) m->u.error.textlen,
                 m->u.error.text);
        for (char *c = s->errtext; *c; c++)       /* never echo control bytes */
            if ((unsigned char) *c < 0x20)
                *c = '?';
        s->failed = mm_wire_errcode(m->u.error.code, m->u.error.codelen);
        if (s->failed == MM_OK)
            s->failed = MM_EPROTO;
        rc = s->failed;
        break;
    default:
        rc = fail(s, MM_EPROTO, "unexpected %s message", "ACCEPT/WELCOME");
    }
    if (rc == MM_OK)
        rc = pump(s);
out:
    mm_log_pre_end(&s->pre_cur);
    s->next_buf = NULL;             /* a hint for this input only */
    free(m);
    return rc;
}

void mm_session_next(mm_session_t *s, const uint8_t *buf, size_t len)
{
    s->next_buf = buf;
    s->next_len = len;
}
