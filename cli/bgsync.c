/*  bgsync.c -- background sync: the schedule (core/sched.h) driven from mm
 *  serve's loop, one child `mm sync` per run (bgsync.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "cli/bgsync.h"
#include "core/log.h"               /* mm_mono_ms: the schedule's clock, which does not jump */
#include "core/sched.h"
#include "core/target.h"
#include "crypto/idcode.h"

extern char **environ;

#define SELF_EXE   "/proc/self/exe"
#define JOB_MAX_MS (MM_SESSION_MAX_MS + 60000)  /* a child past this is killed */
#define STR_MAX    512                          /* of a string read from the result */

#define OUT 0                       /* a child's stdout: its JSON result */
#define ERR 1                       /* its stderr: its failure line, or a crash's report */
#define ERR_MAX 8192                /* of a child's stderr kept */

typedef struct {
    pid_t    pid;                   /* 0: the slot is free */
    int      fd[2];                 /* read ends of its stdout and stderr; -1 at their end */
    char    *buf[2];                /* what it wrote to each, NUL-terminated */
    size_t   len[2];
    int      kind;
    uint8_t  id[32];
    char     label[MM_PETNAME_MAX + 16];
    uint64_t started;
    int      killed;                /* we stopped it: it ran past JOB_MAX_MS */
} job_t;

struct bgsync {
    cli_t          *cli;
    uint64_t        interval;
    int             timeout_s;      /* the children's --timeout */
    mm_sched_t     *sched;
    mm_targets_t    targets;        /* the latest listing: names and kinds */
    uint64_t        list_at;        /* when to list the targets again */
    int             listed;         /* listed at least once */
    job_t           jobs[BGSYNC_JOBS];
    mm_serve_log_fn log;
    void           *logarg;
    mm_serve_ext_t  ext;
};

static void logf_(bgsync_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(bgsync_t *b, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    b->log(b->logarg, line);
}

/* "1.0 s", "4.5 min", "1.0 h": a delay for the log. */
static void fmt_delay(char out[32], uint64_t ms)
{
    if (ms < 60000)
        snprintf(out, 32, "%.1f s", (double) ms / 1e3);
    else if (ms < 3600000)
        snprintf(out, 32, "%.1f min", (double) ms / 6e4);
    else
        snprintf(out, 32, "%.1f h", (double) ms / 3.6e6);
}

/* ---- the child's result: mm sync --json ---------------------------------- */

/* What is read from `{"peers": [{"name", "ok", "sent", ...}]}`, or from
 * `{"error": {"code", "message"}}` when mm sync could not run at all. */
typedef struct {
    int      have_ok, ok;
    uint64_t sent, received;
    char     code[48];              /* MM_E... or "" */
    char     error[STR_MAX];        /* why it failed, or "" */
    unsigned news;                  /* engagement events that arrived */
} result_t;

typedef struct {
    const char *p, *end;
    result_t   *r;
    int         depth;
} reader_t;

static void skip_ws(reader_t *rd)
{
    while (rd->p < rd->end && (*rd->p == ' ' || *rd->p == '\n' || *rd->p == '\t'
                               || *rd->p == '\r'))
        rd->p++;
}

/* A JSON string into out (cut at cap - 1 bytes; \u escapes other than
 * ASCII become '?'): 0, or -1 if it is not one. */
static int read_str(reader_t *rd, char *out, size_t cap)
{
    size_t n = 0;
    if (rd->p >= rd->end || *rd->p != '"')
        return -1;
    rd->p++;
    while (rd->p < rd->end && *rd->p != '"') {
        char c = *rd->p++;
        if (c == '\\') {
            if (rd->p >= rd->end)
                return -1;
            c = *rd->p++;
            switch (c) {
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case 'r': c = '\r'; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'u': {
                unsigned v = 0;
                if (rd->end - rd->p < 4)
                    return -1;
                for (int i = 0; i < 4; i++) {
                    char h = *rd->p++;
                    v = v * 16 + (unsigned) (h >= '0' && h <= '9' ? h - '0'
                                             : h >= 'a' && h <= 'f' ? h - 'a' + 10
                                             : h >= 'A' && h <= 'F' ? h - 'A' + 10 : 0);
                }
                c = (char) (v >= 0x20 && v < 0x7f ? v : (unsigned) '?');
                break;
            }
            default: break;     /* \" \\ \/ */
            }
        }
        if (n + 1 < cap)
            out[n++] = c;
    }
    if (rd->p >= rd->end)
        return -1;
    rd->p++;
    if (cap)
        out[n] = '\0';
    return 0;
}

static int read_value(reader_t *rd, const char *key);

/* The value of key (within an object) is a scalar: keep what we want. */
static void note_value(reader_t *rd, const char *key, const char *tok, size_t len, int is_str,
                 const char *s)
{
    result_t *r = rd->r;
    if (!key)
        return;
    if (!strcmp(key, "ok") && !r->have_ok) {
        r->have_ok = 1;
        r->ok = len == 4 && !memcmp(tok, "true", 4);
    } else if (!strcmp(key, "sent") && !is_str) {
        r->sent = strtoull(tok, NULL, 10);
    } else if (!strcmp(key, "received") && !is_str) {
        r->received = strtoull(tok, NULL, 10);
    } else if (!strcmp(key, "code") && is_str && !*r->code) {
        snprintf(r->code, sizeof r->code, "%s", s);
    } else if ((!strcmp(key, "error") || !strcmp(key, "message")) && is_str && !*r->error) {
        snprintf(r->error, sizeof r->error, "%s", s);
    } else if (!strcmp(key, "kind") && is_str) {
        r->news++;
    }
}

/* An object or array: members read in turn.  0, or -1 if malformed. */
static int read_container(reader_t *rd, char close)
{
    char key[64];
    if (++rd->depth > 16)
        return -1;
    rd->p++;
    skip_ws(rd);
    if (rd->p < rd->end && *rd->p == close) {
        rd->p++;
        rd->depth--;
        return 0;
    }
    for (;;) {
        skip_ws(rd);
        if (close == '}') {
            if (read_str(rd, key, sizeof key))
                return -1;
            skip_ws(rd);
            if (rd->p >= rd->end || *rd->p++ != ':')
                return -1;
            skip_ws(rd);
            if (read_value(rd, key))
                return -1;
        } else if (read_value(rd, NULL)) {
            return -1;
        }
        skip_ws(rd);
        if (rd->p >= rd->end)
            return -1;
        if (*rd->p == ',') {
            rd->p++;
            continue;
        }
        if (*rd->p++ != close)
            return -1;
        rd->depth--;
        return 0;
    }
}

static int read_value(reader_t *rd, const char *key)
{
    char s[STR_MAX];
    const char *tok = rd->p;
    if (rd->p >= rd->end)
        return -1;
    if (*rd->p == '{')
        return read_container(rd, '}');
    if (*rd->p == '[')
        return read_container(rd, ']');
    if (*rd->p == '"') {
        if (read_str(rd, s, sizeof s))
            return -1;
        note_value(rd, key, tok, 0, 1, s);
        return 0;
    }
    while (rd->p < rd->end && *rd->p != ',' && *rd->p != '}' && *rd->p != ']'
           && *rd->p != ' ' && *rd->p != '\n')
        rd->p++;
    if (rd->p == tok)
        return -1;
    note_value(rd, key, tok, (size_t) (rd->p - tok), 0, NULL);
    return 0;
}

/* 0 with *r from a child's output, -1 if it is not mm sync's JSON. */
static int parse_result(const char *out, size_t len, result_t *r)
{
    reader_t rd = { out, out + len, r, 0 };
    memset(r, 0, sizeof *r);
    skip_ws(&rd);
    if (rd.p >= rd.end || *rd.p != '{' || read_value(&rd, NULL))
        return -1;
    return r->have_ok || *r->code ? 0 : -1;
}

/* ---- the children -------------------------------------------------------- */

/* The log's name for target t. */
static void target_label(const mm_target_t *t, char *out, size_t cap)
{
    if (t->kind == MM_TARGET_OWN)
        snprintf(out, cap, "your device %s", t->p.petname);
    else
        snprintf(out, cap, "%s", t->p.petname);
}

static const mm_target_t *find_target(const bgsync_t *b, int kind, const uint8_t id[32])
{
    for (size_t i = 0; i < b->targets.n; i++)
        if (b->targets.v[i].kind == kind && !memcmp(b->targets.v[i].id, id, 32))
            return &b->targets.v[i];
    return NULL;
}

/* A pipe whose read end (non-blocking) stays here: neither end leaks into
 * other children (the child's copy is dup2'd).  0 or -1. */
static int make_pipe(int p[2])
{
    if (pipe(p) != 0)
        return -1;
    fcntl(p[0], F_SETFD, FD_CLOEXEC);
    fcntl(p[1], F_SETFD, FD_CLOEXEC);
    fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
    return 0;
}

/* Start `mm --home H --json sync --timeout T TARGET` for t in job j, its
 * stdout and stderr pipes we poll, stdin /dev/null.  MM_OK; MM_EIO
 * (errtext says why); MM_EINVAL (a kind mm sync cannot name). */
static int spawn(bgsync_t *b, job_t *j, const mm_target_t *t, char *errtext, size_t cap)
{
    char code[MM_IDCODE_LEN + 1], timeout[16];
    char *argv[12];
    int n = 0, po[2], pe[2];
    posix_spawn_file_actions_t fa;

    snprintf(timeout, sizeof timeout, "%d", b->timeout_s);
    argv[n++] = "mm";
    argv[n++] = "--home";
    argv[n++] = (char *) mm_home_path(b->cli->home);
    argv[n++] = "--json";
    argv[n++] = "sync";
    argv[n++] = "--timeout";
    argv[n++] = timeout;
    switch (t->kind) {
    case MM_TARGET_PEER:            /* by identity code: petnames may change */
        mm_idcode_encode(code, MM_IDCODE_IDENTITY, t->p.identity);
        argv[n++] = code;
        break;
    case MM_TARGET_OWN:
        mm_idcode_encode(code, MM_IDCODE_DEVICE, t->p.device);
        argv[n++] = "--device";
        argv[n++] = code;
        break;
    default:
        snprintf(errtext, cap, "mm sync cannot name a target of kind %d", t->kind);
        return MM_EINVAL;
    }
    argv[n] = NULL;
    if (make_pipe(po) != 0) {
        snprintf(errtext, cap, "cannot make a pipe: %s", strerror(errno));
        return MM_EIO;
    }
    if (make_pipe(pe) != 0) {
        snprintf(errtext, cap, "cannot make a pipe: %s", strerror(errno));
        close(po[0]);
        close(po[1]);
        return MM_EIO;
    }
    int e = posix_spawn_file_actions_init(&fa);
    if (e == 0) {
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_adddup2(&fa, po[1], 1);
        posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
        e = posix_spawn(&j->pid, SELF_EXE, &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
    }
    close(po[1]);
    close(pe[1]);
    if (e != 0) {
        close(po[0]);
        close(pe[0]);
        j->pid = 0;
        snprintf(errtext, cap, "cannot run %s: %s", SELF_EXE, strerror(e));
        return MM_EIO;
    }
    j->fd[OUT] = po[0];
    j->fd[ERR] = pe[0];
    j->len[OUT] = j->len[ERR] = 0;
    j->killed = 0;
    j->kind = t->kind;
    memcpy(j->id, t->id, 32);
    target_label(t, j->label, sizeof j->label);
    j->started = mm_mono_ms();
    return MM_OK;
}

/* The schedule learns how the run of (kind, id) ended; the log says what
 * changed.  why, code: the failure (NULL for a success). */
static void report(bgsync_t *b, int kind, const uint8_t id[32], const char *label, int ok,
                   const result_t *r, const char *why, const char *code)
{
    mm_sched_result_t sr;
    char delay[32];
    if (mm_sched_done(b->sched, kind, id, ok, mm_mono_ms(), &sr) != MM_OK)
        return;
    fmt_delay(delay, sr.delay_ms);
    if (ok) {
        if (sr.change == MM_SCHED_UP)
            logf_(b, "background sync: %s reachable again", label);
        if (r->sent || r->received) {
            char news[64] = "";
            if (r->news)
                snprintf(news, sizeof news, "; %u new event%s, see 'mm status'", r->news,
                         r->news == 1 ? "" : "s");
            logf_(b, "background sync with %s: sent %llu, received %llu entries%s", label,
                  (unsigned long long) r->sent, (unsigned long long) r->received, news);
        }
        return;
    }
    if (sr.change == MM_SCHED_DOWN)
        logf_(b, "background sync: %s unreachable: %s (%s); next try in %s", label, why,
              code && *code ? code : "MM_EIO", delay);
    else if (sr.growing)
        logf_(b, "background sync: %s still unreachable after %u tries; next try in %s",
              label, sr.failures, delay);
}

/* 1 if a child's stderr holds more than mm sync's own failure lines: a
 * crash's or a sanitizer's report, which must not vanish with it. */
static int stderr_odd(const char *s)
{
    while (*s) {
        size_t n = strcspn(s, "\n");
        if (strncmp(s, "mm sync: ", 9) != 0)
            return 1;
        s += n + (s[n] == '\n');
    }
    return 0;
}

/* Job j's child closed its output: wait for it, and report. */
static void finish(bgsync_t *b, job_t *j)
{
    result_t r;
    char why[STR_MAX + 64];
    int status = 0, ok = 0;
    const char *code = NULL;
    while (waitpid(j->pid, &status, 0) < 0 && errno == EINTR)
        ;
    j->buf[OUT][j->len[OUT]] = '\0';    /* a number at the end stops there */
    j->buf[ERR][j->len[ERR]] = '\0';
    if (stderr_odd(j->buf[ERR]) || (WIFSIGNALED(status) && !j->killed)) {
        /* on serve's stderr as it is: it may be many lines */
        fprintf(stderr, "mm serve: background sync with %s: the sync process (pid %ld) "
                "wrote:\n%s\n", j->label, (long) j->pid, j->buf[ERR]);
        fflush(stderr);
    }
    if (parse_result(j->buf[OUT], j->len[OUT], &r) == 0) {
        ok = r.have_ok && r.ok;
        snprintf(why, sizeof why, "%s", *r.error ? r.error : "the sync failed");
        code = r.code;
    } else {
        memset(&r, 0, sizeof r);
        if (j->killed)
            snprintf(why, sizeof why, "the sync took longer than %d minutes and was stopped",
                     JOB_MAX_MS / 60000);
        else if (WIFSIGNALED(status))
            snprintf(why, sizeof why, "the sync process was killed by signal %d",
                     WTERMSIG(status));
        else
            snprintf(why, sizeof why, "the sync process ended without a result "
                     "(exit status %d)", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    }
    j->pid = 0;
    report(b, j->kind, j->id, j->label, ok, &r, why, code);
}

/* Read what j's child wrote on stream k; finish it at the end of both. */
static void drain(bgsync_t *b, job_t *j, int k)
{
    char buf[4096];
    size_t max = k == OUT ? BGSYNC_OUT_MAX : ERR_MAX;
    for (;;) {
        ssize_t n = read(j->fd[k], buf, sizeof buf);
        if (n > 0) {
            size_t keep = (size_t) n;
            if (j->len[k] + keep > max)
                keep = max - j->len[k];     /* the rest is read and dropped */
            memcpy(j->buf[k] + j->len[k], buf, keep);
            j->len[k] += keep;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        close(j->fd[k]);            /* its end, or an error reading it */
        j->fd[k] = -1;
        if (j->fd[OUT] < 0 && j->fd[ERR] < 0)
            finish(b, j);
        return;
    }
}

/* ---- the loop's side ------------------------------------------------------- */

/* List the targets again and tell the schedule. */
static void relist(bgsync_t *b, uint64_t now)
{
    mm_targets_t t = { 0 };
    mm_txn_t *txn = NULL;
    char every[32];
    int rc = mm_store_begin(mm_home_store(b->cli->home), 0, &txn);
    if (rc == MM_OK)
        rc = mm_targets_all(txn, mm_home_identity_pk(b->cli->home),
                            mm_keypair_pk(mm_home_device(b->cli->home)), &t);
    mm_txn_abort(&txn);
    if (rc == MM_OK)
        rc = mm_sched_update(b->sched, &t, now);
    if (rc != MM_OK) {
        logf_(b, "background sync: cannot list the peers: %s (%s)", mm_strerror(rc),
              mm_errname(rc));
        mm_targets_free(&t);
        return;
    }
    fmt_delay(every, b->interval);
    size_t own = 0;
    for (size_t i = 0; i < t.n; i++)
        own += t.v[i].kind == MM_TARGET_OWN;
    if (!b->listed || t.n != b->targets.n)
        logf_(b, "background sync every %s with %zu peer%s and %zu of your devices", every,
              t.n - own, t.n - own == 1 ? "" : "s", own);
    b->listed = 1;
    mm_targets_free(&b->targets);
    b->targets = t;
}

static unsigned on_prepare(void *arg, int *fds, unsigned max, long *timeout_ms)
{
    bgsync_t *b = arg;
    uint64_t now = mm_mono_ms();
    char why[256];
    uint8_t id[32];
    int kind;
    unsigned n = 0;
    int64_t wait;

    if (now >= b->list_at) {        /* new peers, new addresses: at least every interval */
        relist(b, now);
        b->list_at = now + b->interval;
    }
    for (int i = 0; i < BGSYNC_JOBS; i++) {
        job_t *j = &b->jobs[i];
        if (j->pid) {
            if (now - j->started > JOB_MAX_MS && !j->killed) {
                kill(j->pid, SIGKILL);  /* its output ends: finished in on_run */
                j->killed = 1;
            }
            continue;
        }
        if (!mm_sched_take(b->sched, now, &kind, id))
            break;
        const mm_target_t *t = find_target(b, kind, id);
        if (!t || spawn(b, j, t, why, sizeof why) != MM_OK) {
            result_t r = { 0 };
            char label[MM_PETNAME_MAX + 16] = "a target";
            if (t)
                target_label(t, label, sizeof label);
            report(b, kind, id, label, 0, &r, t ? why : "no longer listed", "MM_EIO");
        }
    }
    for (int i = 0; i < BGSYNC_JOBS; i++)
        for (int k = 0; k < 2 && n < max; k++)
            if (b->jobs[i].pid && b->jobs[i].fd[k] >= 0)
                fds[n++] = b->jobs[i].fd[k];
    wait = mm_sched_timeout(b->sched, now);
    if (wait < 0 || (uint64_t) wait > b->list_at - now)
        wait = (int64_t) (b->list_at - now);
    int busy = 0;
    for (int i = 0; i < BGSYNC_JOBS; i++)
        busy += b->jobs[i].pid != 0;
    if (busy == BGSYNC_JOBS)        /* no slot: a child's end wakes us, or the list */
        wait = (int64_t) (b->list_at - now);
    *timeout_ms = (long) wait;
    return n;
}

static void on_run(void *arg, const int *fds, const int *ready, unsigned n)
{
    bgsync_t *b = arg;
    for (unsigned i = 0; i < n; i++) {
        if (!ready[i])
            continue;
        for (int k = 0; k < BGSYNC_JOBS; k++)
            for (int f = 0; f < 2; f++)
                if (b->jobs[k].pid && b->jobs[k].fd[f] == fds[i])
                    drain(b, &b->jobs[k], f);
    }
}

void bgsync_discovered(void *arg, const uint8_t identity[32], const uint8_t device[32])
{
    bgsync_t *b = arg;
    int own = !memcmp(identity, mm_home_identity_pk(b->cli->home), 32);
    /* a peer's device is reached through its person's target; ours is its own.
     * Not a target yet (no address known before): list again at once, and
     * a new target is due at once. */
    if (mm_sched_due_now(b->sched, own ? MM_TARGET_OWN : MM_TARGET_PEER,
                         own ? device : identity, mm_mono_ms()) != MM_OK)
        b->list_at = 0;
}

const mm_serve_ext_t *bgsync_ext(bgsync_t *b)
{
    return &b->ext;
}

int bgsync_new(cli_t *cli, uint64_t interval_ms, mm_serve_log_fn log, void *logarg,
               bgsync_t **out)
{
    bgsync_t *b;
    int rc;
    *out = NULL;
    if (!(b = calloc(1, sizeof *b)))
        return MM_ENOMEM;
    if ((rc = mm_sched_new(interval_ms, &b->sched)) != MM_OK) {
        free(b);
        return rc;
    }
    for (int i = 0; i < BGSYNC_JOBS; i++)     /* first: destroy closes what is >= 0 */
        b->jobs[i].fd[OUT] = b->jobs[i].fd[ERR] = -1;
    for (int i = 0; i < BGSYNC_JOBS; i++) {
        job_t *j = &b->jobs[i];
        if (!(j->buf[OUT] = malloc(BGSYNC_OUT_MAX + 1))     /* + their NULs */
            || !(j->buf[ERR] = malloc(ERR_MAX + 1))) {
            bgsync_destroy(&b);
            return MM_ENOMEM;
        }
    }
    b->cli = cli;
    b->interval = interval_ms;
    /* an answer may take as long as the interval, and at most 10 s */
    b->timeout_s = (int) (interval_ms / 1000);
    if (b->timeout_s > BGSYNC_TIMEOUT_MAX)
        b->timeout_s = BGSYNC_TIMEOUT_MAX;
    b->log = log;
    b->logarg = logarg;
    b->list_at = 0;                 /* list, and sync with everyone, at once */
    b->ext = (mm_serve_ext_t) { on_prepare, on_run, bgsync_discovered, b };
    *out = b;
    return MM_OK;
}

void bgsync_destroy(bgsync_t **bp)
{
    bgsync_t *b;
    if (!bp || !(b = *bp))
        return;
    for (int i = 0; i < BGSYNC_JOBS; i++) {
        job_t *j = &b->jobs[i];
        if (j->pid) {               /* a cut sync loses nothing: the next goes on */
            kill(j->pid, SIGTERM);
            while (waitpid(j->pid, NULL, 0) < 0 && errno == EINTR)
                ;
        }
        for (int k = 0; k < 2; k++) {
            if (j->fd[k] >= 0)
                close(j->fd[k]);
            free(j->buf[k]);
        }
    }
    mm_targets_free(&b->targets);
    mm_sched_destroy(&b->sched);
    free(b);
    *bp = NULL;
}
