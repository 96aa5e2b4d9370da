/*  serve.c -- mm serve: one ROUTER socket, a ZAP handler, many sessions. */
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sodium.h>
#include <zmq.h>
#include "net/net.h"
#include "net/conntab.h"
#include "net/discover.h"
#include "net/serve_hook.h"
#include "net/wire.h"
#include "net/zmqutil.h"
#include "core/body.h"
#include "core/catchup.h"
#include "core/engage.h"
#include "core/log.h"
#include "core/revoke.h"
#include "core/device.h"
#include "core/endpoint.h"
#include "core/mailbox.h"
#include "crypto/encoding.h"
#include "crypto/idcode.h"
#include "crypto/error.h"

#define LOCK_FILE "serve.lock"
#define ROUTING_MAX 256
#define ENDED_MAX   256             /* connections remembered after their session ended */
#define ENDED_ID    16              /* routing ids longer than this are not remembered */
/* An idle loop still wakes this often: a signal that comes between its
 * check of *stop and its poll does not cut the poll short, and is seen
 * then at the latest. */
#define IDLE_WAKE_MS 60000

typedef struct {
    uint8_t       rid[ROUTING_MAX];
    size_t        ridlen;
    uint8_t       key[32];          /* the CURVE key the session was opened with */
    int           fd;               /* its connection (ZMQ_SRCFD) and conntab ticket */
    uint64_t      ticket;
    mm_session_t *session;
    uint64_t      start_ms;
    uint64_t      last_ms;          /* of the last frame that made progress */
    uint64_t      progress;         /* mm_session_progress then */
    int           settle;           /* core says what it stored changes the budget */
    int           foreign;          /* a frame with another key named it: logged once */
    int           known;            /* identity holds the one its HELLO certified */
    uint8_t       identity[32];
} conn_t;

typedef struct {
    mm_home_t *home;
    void      *router;
    mm_serve_log_fn  log;
    void      *logarg;
    conn_t     conns[MM_SERVE_SESSIONS_MAX];
    conn_t    *current;             /* whose frame is being sent */
    uint64_t   idle_ms, max_ms;     /* MM_SESSION_IDLE_MS, MM_SESSION_MAX_MS or the knobs */
    int        sessions_max;        /* MM_SERVE_SESSIONS_MAX or the MM_SERVE_SESSIONS knob */
    mm_conntab_t *conns_tab;        /* every connection, and which have a session */
    uint64_t   closed_logged, closed_log_ms;
    /* Connections whose one session (or invite exchange) is over: their
     * stray frames are dropped unanswered (PROTOCOL.md 8.2, step 7), not
     * taken for a new session.  A ring: the oldest is forgotten first. */
    struct { uint8_t len, id[ENDED_ID]; } ended[ENDED_MAX];
    unsigned   nended;
    const mm_serve_hook_t *hook;    /* mm device pair's listener, or NULL */
    const mm_serve_ext_t  *ext;     /* work beside serving (net.h), or NULL */
    int                    wake_fd; /* mm_serve_opts_t's, or -1 */
    mm_discover_t *disc;            /* LAN discovery (--discover), or NULL */
    const uint8_t *next_buf;        /* on_router: the frame queued behind this one, */
    size_t     next_len;            /* of the same connection (mm_session_next) */
} server_t;

static void remember_ended(server_t *sv, const uint8_t *rid, size_t ridlen)
{
    if (ridlen == 0 || ridlen > ENDED_ID)
        return;
    unsigned i = sv->nended++ % ENDED_MAX;
    sv->ended[i].len = (uint8_t) ridlen;
    memcpy(sv->ended[i].id, rid, ridlen);
}

static int has_ended(const server_t *sv, const uint8_t *rid, size_t ridlen)
{
    unsigned n = sv->nended < ENDED_MAX ? sv->nended : ENDED_MAX;
    /* cppcheck-suppress knownConditionTrueFalse ; remember_ended raises nended */
    for (unsigned i = 0; i < n; i++)
        if (sv->ended[i].len == ridlen && !memcmp(sv->ended[i].id, rid, ridlen))
            return 1;
    return 0;
}

static void logf_(server_t *sv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(server_t *sv, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    if (!sv->log)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    sv->log(sv->logarg, line);
}

/* ---- the endpoint registry: HOME/serve.lock ---- */

static int lock_path(char *out, size_t cap, const char *home)
{
    return snprintf(out, cap, "%s/%s", home, LOCK_FILE) < (int) cap ? MM_OK : MM_EINVAL;
}

int mm_serve_endpoints(const char *home_path, char out[][MM_ENDPOINT_MAX + 1], unsigned max,
                       unsigned *n)
{
    char path[MM_PATH_MAX + 16], line[MM_ENDPOINT_MAX + 2];
    *n = 0;
    if (lock_path(path, sizeof path, home_path))
        return MM_EINVAL;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return MM_ENOTFOUND;
    /* mm serve holds an exclusive lock while it runs */
    if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
        close(fd);
        return MM_ENOTFOUND;
    }
    FILE *f = fdopen(fd, "r");
    if (!f) {
        close(fd);
        return MM_EIO;
    }
    while (*n < max && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (mm_endpoint_valid(line))        /* valid means at most MM_ENDPOINT_MAX */
            memcpy(out[(*n)++], line, strlen(line) + 1);
    }
    fclose(f);
    return *n ? MM_OK : MM_ENOTFOUND;
}

/* Replace a wildcard host by this machine's IPv4 addresses, others first,
 * loopback last. */
static unsigned expand(const char *ep, char out[][MM_ENDPOINT_MAX + 1], unsigned max)
{
    const char *host = ep + 6, *colon = strrchr(ep, ':');
    if (max == 0 || !colon || colon < host)
        return 0;
    size_t hl = (size_t) (colon - host);
    if (!((hl == 7 && !strncmp(host, "0.0.0.0", 7)) || (hl == 1 && *host == '*'))) {
        snprintf(out[0], MM_ENDPOINT_MAX + 1, "%s", ep);
        return 1;
    }
    struct ifaddrs *ifs, *i;
    unsigned n = 0;
    if (getifaddrs(&ifs) == 0) {
        for (int loop = 0; loop < 2; loop++)
            for (i = ifs; i && n < max; i = i->ifa_next) {
                char a[INET_ADDRSTRLEN];
                if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET)
                    continue;
                inet_ntop(AF_INET, &((struct sockaddr_in *) i->ifa_addr)->sin_addr, a, sizeof a);
                if ((strncmp(a, "127.", 4) == 0) != loop)
                    continue;
                snprintf(out[n++], MM_ENDPOINT_MAX + 1, "tcp://%s%s", a, colon);
            }
        freeifaddrs(ifs);
    }
    if (n == 0)                     /* max >= 1 */
        snprintf(out[n++], MM_ENDPOINT_MAX + 1, "tcp://127.0.0.1%s", colon);
    return n;
}

static int write_lock(const char *home, char eps[][MM_ENDPOINT_MAX + 1], unsigned n, int *fd_out)
{
    char path[MM_PATH_MAX + 16];
    if (lock_path(path, sizeof path, home))
        return MM_EINVAL;
    int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return MM_EIO;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd);
        return MM_EBUSY;
    }
    if (ftruncate(fd, 0) != 0) {
        close(fd);
        return MM_EIO;
    }
    for (unsigned i = 0; i < n; i++)
        if (dprintf(fd, "%s\n", eps[i]) < 0) {
            close(fd);
            return MM_EIO;
        }
    *fd_out = fd;
    return MM_OK;
}

/* ---- ZAP: who may connect ---- */

typedef enum { ADMIT_NO, ADMIT_DEVICE, ADMIT_INVITE, ADMIT_NEW } admit_t;

typedef struct {
    server_t *sv;
    mm_txn_t *txn;
    char *why;
    size_t whycap;
} admit_walk_t;

/* One certified device with the client's key: 1 if it admits the client. */
static int admit_cert(const mm_cert_t *c, const uint8_t *raw, size_t len, void *arg)
{
    admit_walk_t *aw = arg;
    mm_peer_t p;
    int revoked;
    if (mm_revoke_state(aw->txn, c->device, c->identity, NULL, &revoked, NULL) != MM_OK
        || revoked) {
        snprintf(aw->why, aw->whycap, "revoked device");
        return 0;
    }
    if (memcmp(c->identity, mm_home_identity_pk(aw->sv->home), 32) == 0)
        return 1;
    if (aw->sv->hook) {             /* a pairing listener serves own devices only */
        snprintf(aw->why, aw->whycap, "not one of this person's devices");
        return 0;
    }
    if (mm_home_is_mailbox(aw->sv->home)) {
        /* the members of the scopes its owner linked, not blocked (14.4) */
        int blocked = 0;
        if (mm_mailbox_member(aw->txn, c->identity, &blocked) != MM_OK)
            snprintf(aw->why, aw->whycap, "not a member of a scope this mailbox serves");
        else if (blocked)
            snprintf(aw->why, aw->whycap, "blocked by this mailbox's owner");
        else
            return 1;
        return 0;
    }
    if (mm_peer_get(aw->txn, c->identity, &p) != MM_OK)
        snprintf(aw->why, aw->whycap, "not a peer");
    else if (p.blocked)
        snprintf(aw->why, aw->whycap, "blocked peer %s", p.petname);
    else
        return 1;
    return 0;
}

static admit_t admit(server_t *sv, const uint8_t key[32], char *why, size_t whycap)
{
    mm_txn_t *txn;
    mm_invite_t inv;
    admit_t a = ADMIT_NO;
    if (mm_store_begin(mm_home_store(sv->home), 0, &txn) != MM_OK) {
        snprintf(why, whycap, "store unavailable");
        return ADMIT_NO;
    }
    admit_walk_t aw = { sv, txn, why, whycap };
    /* the hook's own key (its exchange), or an invite (used or expired:
     * ACCEPT says so in words) */
    if (sv->hook ? sv->hook->owns(sv->hook->arg, key)
                 : mm_invite_get(txn, key, &inv) == MM_OK
                   || mm_mailbox_link_pending(sv->home, key, mm_now_ms())) {
        a = ADMIT_INVITE;
    } else {
        /* one index lookup; any of the (rarely two) devices with this key
         * may admit it: HELLO then binds the key to one certificate */
        snprintf(why, whycap, "unknown key");
        int rc = mm_cert_by_curve(txn, key, admit_cert, &aw);
        if (rc == 1)
            a = ADMIT_DEVICE;
        else if (rc == MM_ENOTFOUND)
            /* a key we hold no certificate for: maybe a peer's (or our
             * own) new device.  Its first frame must be a HELLO whose
             * certificate proves it (see new_device_hello); the limits on
             * connections without a session bound what strangers cost */
            a = ADMIT_NEW;
        else if (rc < 0)
            snprintf(why, whycap, "cannot read the certificates: %s", mm_strerror(rc));
    }
    mm_txn_abort(&txn);
    return a;
}

static void zap_reply(void *zap, const char *version, const zmq_msg_t *seq, const char *status,
                      const char *text, const char *user)
{
    zmq_send(zap, version, strlen(version), ZMQ_SNDMORE);
    zmq_send(zap, zmq_msg_data((zmq_msg_t *) seq), zmq_msg_size((zmq_msg_t *) seq), ZMQ_SNDMORE);
    zmq_send(zap, status, strlen(status), ZMQ_SNDMORE);
    zmq_send(zap, text, strlen(text), ZMQ_SNDMORE);
    zmq_send(zap, user, strlen(user), ZMQ_SNDMORE);
    zmq_send(zap, "", 0, 0);
}

/* One ZAP request (RFC 27): version, sequence, domain, address, identity,
 * mechanism, credentials.  Anything but a CURVE client key we admit is 400. */
static void zap_handle(server_t *sv, void *zap)
{
    zmq_msg_t part[8];
    int n = 0, more = 1;
    while (more && n < 8) {
        zmq_msg_init(&part[n]);
        if (zmq_msg_recv(&part[n], zap, 0) < 0) {
            zmq_msg_close(&part[n]);
            break;
        }
        more = zmq_msg_more(&part[n]);
        n++;
    }
    while (more) {                  /* drain a request with too many parts */
        zmq_msg_t extra;
        zmq_msg_init(&extra);
        zmq_msg_recv(&extra, zap, 0);
        more = zmq_msg_more(&extra);
        zmq_msg_close(&extra);
    }
    char why[128] = "malformed request";
    if (n >= 7 && zmq_msg_size(&part[5]) == 5 && !memcmp(zmq_msg_data(&part[5]), "CURVE", 5)
        && zmq_msg_size(&part[6]) == 32) {
        uint8_t key[32];
        char user[65];
        memcpy(key, zmq_msg_data(&part[6]), 32);
        admit_t a = admit(sv, key, why, sizeof why);
        if (a != ADMIT_NO) {
            mm_encoding_hex(user, key, 32);
            zap_reply(zap, "1.0", &part[1], "200", "OK", user);
            goto out;
        }
        char peer[64] = "?";
        if (zmq_msg_size(&part[3]) < sizeof peer)
            snprintf(peer, sizeof peer, "%.*s", (int) zmq_msg_size(&part[3]),
                     (char *) zmq_msg_data(&part[3]));
        logf_(sv, "refused connection from %s: %s", peer, why);
    }
    if (n >= 2)
        zap_reply(zap, "1.0", &part[1], "400", why, "");
out:
    for (int i = 0; i < n; i++)
        zmq_msg_close(&part[i]);
}

/* ---- sessions ---- */

static int send_to(void *arg, const void *buf, size_t len)
{
    server_t *sv = arg;
    conn_t *c = sv->current;
    if (zmq_send(sv->router, c->rid, c->ridlen, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0
        || zmq_send(sv->router, buf, len, ZMQ_DONTWAIT) < 0)
        return MM_EIO;
    return MM_OK;
}

static void free_frame(void *data, void *hint)
{
    (void) hint;
    free(data);
}

/* As send_to, the frame's buffer taken by ZeroMQ rather than copied
 * (mm_session_take_fn): an ENTRIES frame of up to 2 MiB. */
static int take_to(void *arg, void *buf, size_t len)
{
    server_t *sv = arg;
    conn_t *c = sv->current;
    zmq_msg_t m;
    if (zmq_msg_init_data(&m, buf, len, free_frame, NULL) != 0) {
        free(buf);
        return MM_ENOMEM;
    }
    if (zmq_send(sv->router, c->rid, c->ridlen, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0
        || zmq_msg_send(&m, sv->router, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&m);          /* frees buf */
        return MM_EIO;
    }
    return MM_OK;
}

static void send_raw(server_t *sv, const uint8_t *rid, size_t ridlen, mm_mp_writer_t *w)
{
    if (mm_mp_writer_status(w))
        return;
    zmq_send(sv->router, rid, ridlen, ZMQ_SNDMORE | ZMQ_DONTWAIT);
    zmq_send(sv->router, w->buf, w->len, ZMQ_DONTWAIT);
}

static void send_error(server_t *sv, const uint8_t *rid, size_t ridlen, int rc, const char *text)
{
    uint8_t buf[1200];
    mm_mp_writer_t w;
    mm_mp_writer_init(&w, buf, sizeof buf);
    mm_wire_error(&w, rc, text);
    send_raw(sv, rid, ridlen, &w);
}

static conn_t *find_conn(server_t *sv, const uint8_t *rid, size_t ridlen)
{
    for (int i = 0; i < MM_SERVE_SESSIONS_MAX; i++)
        if (sv->conns[i].session && sv->conns[i].ridlen == ridlen
            && !memcmp(sv->conns[i].rid, rid, ridlen))
            return &sv->conns[i];
    return NULL;
}

static void peer_label(server_t *sv, const uint8_t *identity, char *out, size_t cap)
{
    mm_txn_t *txn;
    mm_peer_t p;
    char code[MM_IDCODE_LEN + 1];
    int mailbox = mm_home_is_mailbox(sv->home);
    if (memcmp(identity, mm_home_identity_pk(sv->home), 32) == 0) {
        if (mailbox)                /* its owner's device */
            snprintf(out, cap, "a device of %s", mm_home_name(sv->home));
        else
            snprintf(out, cap, "own device");
        return;
    }
    if (mm_store_begin(mm_home_store(sv->home), 0, &txn) == MM_OK) {
        int rc = mm_peer_get(txn, identity, &p);
        mm_txn_abort(&txn);
        if (rc == MM_OK) {
            snprintf(out, cap, "%s", p.petname);
            return;
        }
    }
    mm_idcode_encode(code, MM_IDCODE_IDENTITY, identity);
    if (mailbox)                    /* it keeps no peer records: a member of its scopes */
        snprintf(out, cap, "%s's peer %.12s", mm_home_name(sv->home), code);
    else
        snprintf(out, cap, "%.12s", code);
}

/* What the session stored goes to core, which says what it means; when
 * the client is done, a mentor's device settles, and the queue entries it
 * writes go back in this same session. */
static void on_event(void *arg, mm_session_event_t ev, const void *what)
{
    server_t *sv = arg;
    conn_t *c = sv->current;
    if (mm_home_is_mailbox(sv->home))
        return;                     /* blind: it reads nothing, settles nothing */
    if (ev == MM_SESSION_STORED) {
        const mm_session_stored_t *st = what;
        int settle = 0;
        if (mm_engage_received(sv->home, st->scope, st->device, st->first, st->last,
                               &settle) == MM_OK && settle)
            c->settle = 1;
        return;
    }
    mm_settle_t out;
    if (!c->settle)
        return;
    c->settle = 0;
    int rc = mm_budget_settle(sv->home, &out);
    if (rc == MM_OK && out.not_settler)
        logf_(sv, "not settling the budget: another device of yours does");
    else if (rc != MM_OK)
        logf_(sv, "cannot settle the budget: %s (%s)", mm_strerror(rc), mm_errname(rc));
    else if (out.waiting)
        logf_(sv, "not settling the budget: restored, not yet caught up (%zu to go)",
              out.waiting);
    else if (out.released)
        logf_(sv, "released %zu question%s to the inbox", out.released,
              out.released == 1 ? "" : "s");
}

/* "60 s", or "1.5 s" for a test knob's time. */
static void fmt_secs(char out[24], uint64_t ms)
{
    if (ms % 1000 == 0)
        snprintf(out, 24, "%llu s", (unsigned long long) (ms / 1000));
    else
        snprintf(out, 24, "%.1f s", (double) ms / 1000.0);
}

/* End c's session with rc; why, if given, says why in the log. */
static void end_conn(server_t *sv, conn_t *c, int rc, const char *why)
{
    const uint8_t *who = mm_session_remote_identity(c->session);
    if (!who && c->known)
        who = c->identity;
    const mm_sync_stats_t *st = mm_session_stats(c->session);
    char label[MM_PETNAME_MAX + 16] = "unknown device";
    if (who)
        peer_label(sv, who, label, sizeof label);
    if (rc == MM_OK) {
        logf_(sv, "synced with %s: sent %llu, received %llu entries", label,
              (unsigned long long) st->entries_sent, (unsigned long long) st->entries_recv);
        /* core decides whether a session that moved nothing records anything */
        if (who && mm_catchup_record(mm_home_store(sv->home), mm_home_identity_pk(sv->home), who,
                                     mm_session_remote_device(c->session), mm_now_ms(),
                                     st->entries_sent + st->entries_recv > 0) != MM_OK)
            logf_(sv, "could not record the time of the sync with %s", label);
        if (sv->hook && who && !memcmp(who, mm_home_identity_pk(sv->home), 32))
            sv->hook->synced(sv->hook->arg, c->key);
    } else {
        if (!why)
            why = *mm_session_error_text(c->session) ? mm_session_error_text(c->session)
                                                      : mm_strerror(rc);
        logf_(sv, "session with %s ended: %s (%s)", label, why, mm_errname(rc));
    }
    remember_ended(sv, c->rid, c->ridlen);
    mm_conntab_release(sv->conns_tab, c->fd, c->ticket, mm_mono_ms());
    mm_session_destroy(&c->session);
}

/* The session gate (PROTOCOL.md 8.6): one identity holds at most
 * MM_SESSIONS_PER_PEER of the server's sessions.  Asked at HELLO, before
 * the session answers, so a peer past its share costs one ERROR. */
static int hello_gate(void *arg, const uint8_t identity[32], char *why, size_t cap)
{
    server_t *sv = arg;
    int n = 0;
    memcpy(sv->current->identity, identity, 32);    /* for the log, if refused */
    sv->current->known = 1;
    for (int i = 0; i < MM_SERVE_SESSIONS_MAX; i++) {
        const uint8_t *who = sv->conns[i].session
                             ? mm_session_remote_identity(sv->conns[i].session) : NULL;
        if (who && memcmp(who, identity, 32) == 0)
            n++;
    }
    if (n < MM_SESSIONS_PER_PEER)
        return MM_OK;
    snprintf(why, cap, "you already have %d sessions open with this device, the most one "
             "peer may hold; retry after %d ms", n, MM_RETRY_PEER_MS);
    return MM_EBUSY;
}

/* 1 if we hold a certificate of a device with X25519 key `key`. */
/* The first frame of a connection whose key we held no certificate for:
 * it must be a HELLO whose version-2 certificate certifies that very key
 * for this person or a known, unblocked peer (PROTOCOL.md 7, 8.6).  MM_OK
 * lets the session take it from there; else MM_EREFUSED with why. */
static int new_device_hello(server_t *sv, const uint8_t key[32], const uint8_t *buf, size_t len,
                            char *why, size_t cap)
{
    mm_msg_t *m = malloc(sizeof *m);
    mm_cert_t c;
    uint8_t x[32];
    int rc = MM_EREFUSED;
    snprintf(why, cap, "this device does not know your key; start with a HELLO whose "
             "certificate proves it");
    if (!m)
        return MM_ENOMEM;
    int drc = mm_wire_decode(buf, len, m);
    if (drc == MM_OK && m->type == MM_MSG_ACCEPT)    /* an invite key we never issued */
        snprintf(why, cap, "this device does not know this invite (withdrawn, or not issued "
                 "here)");
    if (drc != MM_OK || m->type != MM_MSG_HELLO
        || mm_cert_parse(m->u.hello.cert, m->u.hello.certlen, &c) != MM_OK
        || !mm_cert_proven(&c) || mm_pk_to_x25519(x, c.device) != MM_OK
        || memcmp(x, key, 32) != 0)
        goto out;
    mm_txn_t *txn;
    mm_peer_t p;
    if (mm_store_begin(mm_home_store(sv->home), 0, &txn) != MM_OK)
        goto out;
    int blocked = 1;
    if (memcmp(c.identity, mm_home_identity_pk(sv->home), 32) == 0
        || (mm_home_is_mailbox(sv->home)
            ? mm_mailbox_member(txn, c.identity, &blocked) == MM_OK && !blocked
            : mm_peer_get(txn, c.identity, &p) == MM_OK && !p.blocked))
        rc = MM_OK;
    else
        snprintf(why, cap, "you are not a peer of this device");
    mm_txn_abort(&txn);
out:
    free(m);
    return rc;
}

static void on_frame(server_t *sv, const uint8_t *rid, size_t ridlen, zmq_msg_t *msg, int fd)
{
    const char *user = zmq_msg_gets(msg, "User-Id");
    uint8_t key[32];
    if (!user || strlen(user) != 64 || mm_encoding_unhex(key, 32, user)) {
        send_error(sv, rid, ridlen, MM_EREFUSED, "not authenticated");
        return;
    }
    const uint8_t *buf = zmq_msg_data(msg);
    size_t len = zmq_msg_size(msg);
    conn_t *c = find_conn(sv, rid, ridlen);
    if (c && memcmp(c->key, key, 32) != 0) {
        /* A routing id is the connection's name, not its proof: only a
         * client that chose its own could reuse that of a session whose
         * connection is gone.  Its frames never reach that session. */
        if (!c->foreign++)
            logf_(sv, "refused frames naming the session of another device");
        send_error(sv, rid, ridlen, MM_EREFUSED,
                   "this connection's key is not the one its session was opened with");
        return;
    }
    if (!c && has_ended(sv, rid, ridlen))
        return;                     /* in flight when its session ended: dropped */
    if (!c && sv->hook && sv->hook->owns(sv->hook->arg, key)) {
        sv->hook->frame(sv->hook->arg, key, buf, len, sv->router, rid, ridlen);
        return;                     /* the hook says when its exchange is over */
    }
    if (!c) {
        mm_txn_t *txn;
        mm_invite_t inv;
        int is_invite = 0;
        if (!sv->hook && mm_store_begin(mm_home_store(sv->home), 0, &txn) == MM_OK) {
            is_invite = mm_invite_get(txn, key, &inv) == MM_OK;
            mm_txn_abort(&txn);
        }
        if (is_invite) {
            mm_net_serve_accept(sv->home, key, buf, len, sv->router, rid, ridlen, sv->log,
                                sv->logarg);
            remember_ended(sv, rid, ridlen);    /* one exchange per invite connection */
            return;
        }
        /* a mailbox's pending link code: LINK, then CERTIFY (PROTOCOL.md 14.3) */
        if (!sv->hook && mm_mailbox_link_pending(sv->home, key, mm_now_ms())) {
            if (mm_net_serve_link(sv->home, key, buf, len, sv->router, rid, ridlen, sv->log,
                                  sv->logarg))
                remember_ended(sv, rid, ridlen);
            return;
        }
        for (int i = 0; i < sv->sessions_max && !c; i++)
            if (!sv->conns[i].session)
                c = &sv->conns[i];
        if (!c || ridlen > ROUTING_MAX) {
            /* full: the client comes back when a session has likely ended
             * (PROTOCOL.md 8.6), with a back-off and jitter of its own */
            char why[128];
            snprintf(why, sizeof why, "this device is serving as many sessions as it can at "
                     "once; retry after %d ms", MM_RETRY_FULL_MS);
            send_error(sv, rid, ridlen, MM_EBUSY, why);
            return;
        }
        /* a key without a certificate: its first frame proves it or nothing */
        int held = 0;
        if (mm_store_begin(mm_home_store(sv->home), 0, &txn) == MM_OK) {
            held = mm_cert_curve_held(txn, key);    /* ZAP checked its rows */
            mm_txn_abort(&txn);
        }
        if (!held) {
            char why[160];
            int nrc = new_device_hello(sv, key, buf, len, why, sizeof why);
            if (nrc) {
                logf_(sv, "refused a connection with an unknown key: %s", why);
                send_error(sv, rid, ridlen, nrc, why);
                remember_ended(sv, rid, ridlen);
                return;
            }
        }
        memcpy(c->rid, rid, ridlen);
        c->ridlen = ridlen;
        sv->current = c;
        if (mm_session_new(sv->home, 0, key, NULL, send_to, sv, &c->session) != MM_OK) {
            send_error(sv, rid, ridlen, MM_ENOMEM, "out of memory");
            return;
        }
        mm_session_on_take(c->session, take_to);
        memcpy(c->key, key, 32);
        c->fd = fd;
        c->ticket = mm_conntab_hold(sv->conns_tab, fd);
        c->settle = 0;
        c->foreign = 0;
        c->start_ms = c->last_ms = mm_mono_ms();
        c->progress = 0;
        c->known = 0;
        mm_session_on_event(c->session, on_event, sv);
        mm_session_on_hello(c->session, hello_gate, sv);
    }
    sv->current = c;
    if (sv->next_buf)
        mm_session_next(c->session, sv->next_buf, sv->next_len);
    int rc = mm_session_input(c->session, buf, len);
    /* only a frame that moved the session on restarts its idle timer */
    if (rc == MM_OK && mm_session_progress(c->session) != c->progress) {
        c->progress = mm_session_progress(c->session);
        c->last_ms = mm_mono_ms();
    }
    if (rc != MM_OK || mm_session_done(c->session))
        end_conn(sv, c, rc, NULL);
}

/* Read one message from the router without waiting: 1 with a single-frame
 * message in rid and msg; 0 if none is queued; -1 if it was multipart
 * (refused with an ERROR, nothing left of it). */
static int recv_one(server_t *sv, zmq_msg_t *rid, zmq_msg_t *msg)
{
    if (zmq_msg_recv(rid, sv->router, ZMQ_DONTWAIT) < 0)
        return 0;
    if (!zmq_msg_more(rid) || zmq_msg_recv(msg, sv->router, 0) < 0)
        return -1;
    if (zmq_msg_more(msg)) {        /* we speak single-frame messages only */
        int more = 1;
        while (more) {
            zmq_msg_t extra;
            zmq_msg_init(&extra);
            zmq_msg_recv(&extra, sv->router, 0);
            more = zmq_msg_more(&extra);
            zmq_msg_close(&extra);
        }
        send_error(sv, zmq_msg_data(rid), zmq_msg_size(rid), MM_EPROTO, "multipart message");
        return -1;
    }
    return 1;
}

/* Messages handled in one go, each with the one queued behind it read
 * ahead: the other sockets (ZAP, discovery) wait no longer than that. */
#define ROUTER_BURST 4

static void on_router(server_t *sv)
{
    zmq_msg_t rid[2], msg[2];
    int cur = 0;
    for (int i = 0; i < 2; i++) {
        zmq_msg_init(&rid[i]);
        zmq_msg_init(&msg[i]);
    }
    int got = recv_one(sv, &rid[cur], &msg[cur]);
    for (int burst = 1; got == 1; burst++) {
        /* One frame of lookahead, of the same connection: its run's checks
         * begin on the pool while this one commits (mm_session_next).  It
         * is handled right after this one, whatever happens to the session. */
        int next = burst < ROUTER_BURST ? recv_one(sv, &rid[!cur], &msg[!cur]) : 0;
        sv->next_buf = NULL;
        if (next == 1 && zmq_msg_size(&rid[!cur]) == zmq_msg_size(&rid[cur])
            && memcmp(zmq_msg_data(&rid[!cur]), zmq_msg_data(&rid[cur]),
                      zmq_msg_size(&rid[cur])) == 0) {
            sv->next_buf = zmq_msg_data(&msg[!cur]);
            sv->next_len = zmq_msg_size(&msg[!cur]);
        }
        on_frame(sv, zmq_msg_data(&rid[cur]), zmq_msg_size(&rid[cur]), &msg[cur],
                 zmq_msg_get(&msg[cur], ZMQ_SRCFD));
        sv->next_buf = NULL;
        got = next;
        cur = !cur;
    }
    for (int i = 0; i < 2; i++) {
        zmq_msg_close(&rid[i]);
        zmq_msg_close(&msg[i]);
    }
}

/* Sessions past a time limit (PROTOCOL.md 8.6) end with an ERROR that says
 * which. */
static void reap(server_t *sv)
{
    uint64_t now = mm_mono_ms();    /* limits: a wall clock set back must not cut them */
    char why[160], t[24];
    for (int i = 0; i < MM_SERVE_SESSIONS_MAX; i++) {
        conn_t *c = &sv->conns[i];
        if (!c->session)
            continue;
        if (!mm_conntab_alive(sv->conns_tab, c->fd, c->ticket)) {
            end_conn(sv, c, MM_EIO, "the connection was closed");
            continue;
        }
        if (now - c->start_ms >= sv->max_ms) {
            fmt_secs(t, sv->max_ms);
            snprintf(why, sizeof why, "the session lasted %s, the most one may; sync again "
                     "to go on from what was stored", t);
        } else if (now - c->last_ms >= sv->idle_ms) {
            fmt_secs(t, sv->idle_ms);
            snprintf(why, sizeof why, "no progress for %s", t);
        } else {
            continue;
        }
        send_error(sv, c->rid, c->ridlen, MM_ETIMEOUT, why);
        end_conn(sv, c, MM_ETIMEOUT, why);
    }
}

/* Say how many connections were closed for carrying no session: at once
 * the first time, then at most every 10 s (a flood would flood the log). */
static void log_closed(server_t *sv, uint64_t now, int force)
{
    const mm_conntab_stats_t *st = mm_conntab_stats(sv->conns_tab);
    uint64_t closed = st->closed_over + st->closed_quiet;
    if (closed == sv->closed_logged || (!force && sv->closed_log_ms
                                        && now - sv->closed_log_ms < 10000))
        return;
    logf_(sv, "closed %llu connection%s that started no session: %llu over the limit, %llu "
          "after %d s (up to %u open at once)", (unsigned long long) closed,
          closed == 1 ? "" : "s", (unsigned long long) st->closed_over,
          (unsigned long long) st->closed_quiet, MM_LOOSE_MS / 1000, st->loose_peak);
    sv->closed_logged = closed;
    sv->closed_log_ms = now;
}

/* 1 if none of the loop's own timers runs: no session (time limits), no
 * connection without one (its 10 s), no closings left to report, no hook
 * ticking.  The loop then sleeps until a socket or the extension wakes it
 * (IDLE_WAKE_MS at most). */
static int idle(const server_t *sv)
{
    const mm_conntab_stats_t *st = mm_conntab_stats(sv->conns_tab);
    if (sv->hook)
        return 0;
    for (int i = 0; i < MM_SERVE_SESSIONS_MAX; i++)
        if (sv->conns[i].session)
            return 0;
    return st->loose == 0 && st->closed_over + st->closed_quiet == sv->closed_logged;
}

/* Descriptors: the soft limit raised to the hard one where allowed, so
 * that the cap on loose connections, not the limit, is what a flood meets
 * first.  Returns the limit now. */
static int raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 1024;
    if (rl.rlim_cur < rl.rlim_max) {
        struct rlimit want = { rl.rlim_max, rl.rlim_max };
        if (setrlimit(RLIMIT_NOFILE, &want) == 0)
            rl.rlim_cur = rl.rlim_max;
    }
    return rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > (1u << 30) ? 1 << 30
                                                                  : (int) rl.rlim_cur;
}

/* A test knob (net.h): the number of milliseconds in $name, or def. */
static uint64_t knob_ms(const char *name, uint64_t def)
{
    const char *v = getenv(name);
    char *end;
    if (!v || *v < '0' || *v > '9')
        return def;
    unsigned long long ms = strtoull(v, &end, 10);
    return *end || ms < 100 || ms > 86400000ull ? def : (uint64_t) ms;
}

/* The test knob MM_SERVE_SESSIONS (net.h): fewer sessions at once. */
static int knob_sessions(void)
{
    const char *v = getenv("MM_SERVE_SESSIONS");
    char *end;
    if (!v || *v < '0' || *v > '9')
        return MM_SERVE_SESSIONS_MAX;
    unsigned long n = strtoul(v, &end, 10);
    return *end || n < 1 || n > MM_SERVE_SESSIONS_MAX ? MM_SERVE_SESSIONS_MAX : (int) n;
}

/* ---- LAN discovery (PROTOCOL.md 7.1) ---- */

/* A device of ours or of a peer was heard on the LAN: its statement was
 * newer and is stored now, or it is back after MM_BEACON_ABSENT rounds of
 * silence (on_beacon has logged which).  Background sync (the extension's
 * discovered hook) makes that target due now (identity: whose, our own or
 * a peer's; device: which of its devices, whose stored statement says
 * where it listens).  At most once per round per device. */
static void discovered(server_t *sv, const uint8_t identity[32], const uint8_t device[32])
{
    if (sv->ext && sv->ext->discovered)
        sv->ext->discovered(sv->ext->arg, identity, device);
}

/* "grace's device laptop" or "your device phone". */
static void device_label(server_t *sv, const mm_beacon_heard_t *h, char *out, size_t cap)
{
    char who[MM_PETNAME_MAX + 16], code[MM_IDCODE_LEN + 1];
    mm_txn_t *txn;
    mm_cert_t c;
    static const uint8_t zero[32];
    int named = 0;
    if (!memcmp(h->device, zero, 32)) {     /* refused before its statement was read */
        snprintf(out, cap, "an unknown device");
        return;
    }
    if (mm_store_begin(mm_home_store(sv->home), 0, &txn) == MM_OK) {
        named = mm_cert_get(txn, h->device, &c, NULL, NULL) == MM_OK;
        mm_txn_abort(&txn);
    }
    if (!named) {
        mm_idcode_encode(code, MM_IDCODE_DEVICE, h->device);
        snprintf(out, cap, "device %.12s", code);
        return;
    }
    if (!memcmp(c.identity, mm_home_identity_pk(sv->home), 32)) {
        snprintf(out, cap, "your device %s", c.name);
        return;
    }
    peer_label(sv, c.identity, who, sizeof who);
    snprintf(out, cap, "%s's device %s", who, c.name);
}

static void on_beacon(void *arg, int rc, const mm_beacon_heard_t *h, unsigned long suppressed)
{
    server_t *sv = arg;
    char label[MM_PETNAME_MAX + MM_DEVNAME_MAX + 32], at[2 * MM_ENDPOINT_MAX + 8] = "";
    device_label(sv, h, label, sizeof label);
    for (unsigned i = 0; i < h->endpoints.n && i < 2; i++)
        snprintf(at + strlen(at), sizeof at - strlen(at), "%s%s", i ? ", " : "",
                 h->endpoints.endpoints[i]);
    if (rc != MM_OK) {
        logf_(sv, "ignored a beacon of %s: %s (%s)%s", label, mm_strerror(rc), mm_errname(rc),
              suppressed ? "; and more since" : "");
        return;
    }
    if (h->stored)
        logf_(sv, "discovered %s at %s", label, *at ? at : "no endpoint");
    else if (h->appeared)
        logf_(sv, "heard %s on the LAN (it announces no newer endpoints than known)", label);
    if (h->stored || h->appeared)
        discovered(sv, h->identity, h->device);
}

static int discover_start(server_t *sv, const mm_serve_opts_t *opts, char *errtext,
                          size_t errcap)
{
    uint64_t every = knob_ms("MM_DISCOVER_MS", MM_BEACON_INTERVAL_MS);
    unsigned port = opts->discover_port ? opts->discover_port : MM_BEACON_PORT;
    int rc = mm_discover_new(sv->home, port, every, sv->log, sv->logarg, on_beacon, sv,
                             &sv->disc, errtext, errcap);
    if (rc == MM_OK)
        logf_(sv, "discovering on the LAN: UDP port %u, a round every %llu ms", port,
              (unsigned long long) every);
    return rc;
}

static int run(mm_home_t *home, char *const *listen, size_t nlisten,
               const volatile sig_atomic_t *stop, mm_serve_log_fn log, void *arg,
               const mm_serve_hook_t *hook, const mm_serve_opts_t *opts, char *errtext,
               size_t errcap);

int mm_serve_run(mm_home_t *home, char *const *listen, size_t nlisten,
                 const volatile sig_atomic_t *stop, mm_serve_log_fn log, void *arg,
                 char *errtext, size_t errcap)
{
    return run(home, listen, nlisten, stop, log, arg, NULL, NULL, errtext, errcap);
}

int mm_serve_run_opts(mm_home_t *home, char *const *listen, size_t nlisten,
                      const volatile sig_atomic_t *stop, mm_serve_log_fn log, void *arg,
                      const mm_serve_opts_t *opts, char *errtext, size_t errcap)
{
    return run(home, listen, nlisten, stop, log, arg, NULL, opts, errtext, errcap);
}

int mm_serve_run_hook(mm_home_t *home, char *const *listen, size_t nlisten,
                      const volatile sig_atomic_t *stop, mm_serve_log_fn log, void *arg,
                      const mm_serve_hook_t *hook, char *errtext, size_t errcap)
{
    return run(home, listen, nlisten, stop, log, arg, hook, NULL, errtext, errcap);
}

static int run(mm_home_t *home, char *const *listen, size_t nlisten,
               const volatile sig_atomic_t *stop, mm_serve_log_fn log, void *arg,
               const mm_serve_hook_t *hook, const mm_serve_opts_t *opts, char *errtext,
               size_t errcap)
{
    server_t sv = { .home = home, .log = log, .logarg = arg, .hook = hook,
                    .ext = opts ? opts->ext : NULL,
                    .wake_fd = opts && opts->wake_fd > 0 ? opts->wake_fd : -1,
                    .idle_ms = knob_ms("MM_SESSION_IDLE_MS", MM_SESSION_IDLE_MS),
                    .max_ms = knob_ms("MM_SESSION_MAX_MS", MM_SESSION_MAX_MS),
                    .sessions_max = knob_sessions() };
    char eps[MM_PEER_ENDPOINTS][MM_ENDPOINT_MAX + 1], bound[MM_ENDPOINT_MAX + 1];
    unsigned neps = 0;
    uint8_t pk[32], sk[32];
    int lockfd = -1, rc = MM_EIO;
    int fd_limit = raise_fd_limit();
    int loose_max = fd_limit > 2 * 16 + MM_FD_RESERVE ? (fd_limit - MM_FD_RESERVE) / 2 : 16;
    if (loose_max > MM_LOOSE_MAX)
        loose_max = MM_LOOSE_MAX;
    void *ctx = zmq_ctx_new(), *zap = NULL;
    *errtext = '\0';
    if (!ctx)
        return MM_ENOMEM;
    /* ZAP first: with no handler bound, libzmq would let any CURVE client in */
    zap = zmq_socket(ctx, ZMQ_REP);
    if (!zap || zmq_bind(zap, "inproc://zeromq.zap.01") != 0) {
        snprintf(errtext, errcap, "cannot start the authentication handler: %s",
                 zmq_strerror(zmq_errno()));
        goto out;
    }
    sv.router = zmq_socket(ctx, ZMQ_ROUTER);
    mm_keypair_x25519(mm_home_device(home), pk, sk);
    int one = 1, handshake = MM_HANDSHAKE_MS;
    if (!sv.router || mm_zmq_common(sv.router)
        || zmq_setsockopt(sv.router, ZMQ_CURVE_SERVER, &one, sizeof one)
        || zmq_setsockopt(sv.router, ZMQ_CURVE_SECRETKEY, sk, 32)
        || zmq_setsockopt(sv.router, ZMQ_ZAP_DOMAIN, "mm", 2)
        || zmq_setsockopt(sv.router, ZMQ_HANDSHAKE_IVL, &handshake, sizeof handshake)) {
        snprintf(errtext, errcap, "cannot set up the socket: %s", zmq_strerror(zmq_errno()));
        goto out;
    }
    /* before binding: every connection is counted from the first */
    if ((rc = mm_conntab_new(ctx, sv.router, (unsigned) loose_max, MM_LOOSE_MS, fd_limit,
                             &sv.conns_tab))) {
        snprintf(errtext, errcap, "cannot watch the socket's connections: %s",
                 zmq_strerror(zmq_errno()));
        goto out;
    }
    for (size_t i = 0; i < nlisten; i++) {
        size_t blen = sizeof bound;
        if (!mm_endpoint_valid(listen[i]) && strncmp(listen[i], "tcp://", 6) != 0) {
            rc = MM_EINVAL;
            snprintf(errtext, errcap, "'%s' is not an endpoint like tcp://0.0.0.0:%d",
                     listen[i], MM_DEFAULT_PORT);
            goto out;
        }
        if (zmq_bind(sv.router, listen[i]) != 0) {
            rc = zmq_errno() == EINVAL ? MM_EINVAL : MM_EIO;
            snprintf(errtext, errcap, "cannot listen on %s: %s", listen[i],
                     zmq_strerror(zmq_errno()));
            goto out;
        }
        zmq_getsockopt(sv.router, ZMQ_LAST_ENDPOINT, bound, &blen);
        neps += expand(bound, eps + neps, MM_PEER_ENDPOINTS - neps);
        logf_(&sv, "listening on %s", bound);
    }
    if (!hook && (rc = write_lock(mm_home_path(home), eps, neps, &lockfd))) {
        snprintf(errtext, errcap, rc == MM_EBUSY ? "another mm serve is running for this home"
                                                 : "cannot write %s/" LOCK_FILE,
                 mm_home_path(home));
        goto out;
    }
    for (unsigned i = 0; i < neps; i++)
        logf_(&sv, "reachable at %s", eps[i]);
    if (hook)
        hook->ready(hook->arg, eps, neps);
    char tidle[24], tmax[24];
    fmt_secs(tidle, sv.idle_ms);
    fmt_secs(tmax, sv.max_ms);
    logf_(&sv, "serving at most %d sessions, %d per peer; a session ends after %s without "
          "progress or %s in all", sv.sessions_max, MM_SESSIONS_PER_PEER, tidle, tmax);
    logf_(&sv, "keeping at most %d connections without a session, each for %d s "
          "(descriptor limit %d)", loose_max, MM_LOOSE_MS / 1000, fd_limit);
    /* admission finds devices through the curves index: complete it, in
     * case an older mm serve stored certificates after the migration */
    mm_txn_t *txn;
    size_t added = 0;
    int irc = mm_store_begin(mm_home_store(home), 1, &txn);
    if (irc == MM_OK && (irc = mm_cert_reindex(txn, &added)) == MM_OK)
        irc = added ? mm_txn_commit(&txn) : MM_OK;
    mm_txn_abort(&txn);
    if (irc)
        logf_(&sv, "cannot check the certificate index: %s", mm_strerror(irc));
    else if (added)
        logf_(&sv, "indexed %zu certificate%s stored by an older mm", added,
              added == 1 ? "" : "s");
    /* say where this device listens, signed, so that our own devices and
     * our peers learn it through DEVICES (a new statement only on change);
     * not a pairing listener's addresses, which live for one pairing */
    int changed = 0;
    txn = NULL;
    irc = hook ? MM_OK : mm_store_begin(mm_home_store(home), 1, &txn);
    if (!hook && irc == MM_OK
        && (irc = mm_endpoint_announce(txn, mm_home_device(home), mm_now_ms(),
                                       (const char (*)[MM_ENDPOINT_MAX + 1]) eps, neps,
                                       &changed)) == MM_OK)
        irc = changed ? mm_txn_commit(&txn) : MM_OK;
    mm_txn_abort(&txn);
    if (irc)
        logf_(&sv, "cannot record this device's endpoints: %s", mm_strerror(irc));
    /* after the statement: it is what the beacons carry */
    if (!hook && opts && opts->discover && (rc = discover_start(&sv, opts, errtext, errcap)))
        goto out;
    /* wake often enough that a timer fires within an eighth of its time */
    uint64_t tick = sv.idle_ms < sv.max_ms ? sv.idle_ms / 8 : sv.max_ms / 8;
    if (tick > 1000)
        tick = 1000;
    while (!*stop) {
        zmq_pollitem_t items[5 + MM_SERVE_EXT_FDS] = {
            { sv.router, 0, ZMQ_POLLIN, 0 }, { zap, 0, ZMQ_POLLIN, 0 },
            { mm_conntab_socket(sv.conns_tab), 0, ZMQ_POLLIN, 0 },
            { NULL, sv.disc ? mm_discover_fd(sv.disc) : -1, ZMQ_POLLIN, 0 } };
        int base = sv.disc ? 4 : 3, wake = -1;
        if (sv.wake_fd >= 0) {          /* a stop signal also wakes the poll */
            wake = base++;
            items[wake] = (zmq_pollitem_t) { NULL, sv.wake_fd, ZMQ_POLLIN, 0 };
        }
        /* the extension's descriptors come next */
        int efds[MM_SERVE_EXT_FDS], ready[MM_SERVE_EXT_FDS];
        unsigned nefds = 0;
        uint64_t wait = idle(&sv) ? IDLE_WAKE_MS : tick;
        long ewait = -1;
        if (sv.disc && mm_discover_wait(sv.disc, mm_mono_ms()) < wait)
            wait = mm_discover_wait(sv.disc, mm_mono_ms());
        if (sv.ext && sv.ext->prepare) {  /* the extension's descriptors, and when it is due */
            nefds = sv.ext->prepare(sv.ext->arg, efds, MM_SERVE_EXT_FDS, &ewait);
            if (nefds > MM_SERVE_EXT_FDS)
                nefds = MM_SERVE_EXT_FDS;
            for (unsigned i = 0; i < nefds; i++)
                items[base + (int) i] = (zmq_pollitem_t) { NULL, efds[i], ZMQ_POLLIN, 0 };
            if (ewait >= 0 && (uint64_t) ewait < wait)
                wait = (uint64_t) ewait;
        }
        if (zmq_poll(items, base + (int) nefds, (long) wait) < 0) {
            if (zmq_errno() == EINTR)
                continue;
            break;
        }
        if (wake >= 0 && (items[wake].revents & ZMQ_POLLIN)) {
            char drain[16];
            while (read(sv.wake_fd, drain, sizeof drain) > 0)
                ;                       /* non-blocking: *stop says the rest */
        }
        /* connections first: a message's descriptor is then one we know */
        mm_conntab_update(sv.conns_tab, mm_mono_ms());
        if (items[1].revents & ZMQ_POLLIN)
            zap_handle(&sv, zap);
        if (items[0].revents & ZMQ_POLLIN)
            on_router(&sv);
        if (sv.disc && (items[3].revents & ZMQ_POLLIN))
            mm_discover_input(sv.disc, mm_now_ms());
        if (sv.disc)
            mm_discover_tick(sv.disc, mm_mono_ms(), mm_now_ms());
        reap(&sv);
        log_closed(&sv, mm_mono_ms(), 0);
        if (sv.ext && sv.ext->run) {
            for (unsigned i = 0; i < nefds; i++)
                ready[i] = (items[base + (int) i].revents & (ZMQ_POLLIN | ZMQ_POLLERR)) != 0;
            sv.ext->run(sv.ext->arg, efds, ready, nefds);
        }
        if (hook && hook->tick(hook->arg))
            break;
    }
    log_closed(&sv, mm_mono_ms(), 1);
    rc = MM_OK;
out:
    sodium_memzero(sk, sizeof sk);
    for (int i = 0; i < MM_SERVE_SESSIONS_MAX; i++)
        mm_session_destroy(&sv.conns[i].session);
    mm_conntab_destroy(&sv.conns_tab);
    mm_discover_destroy(&sv.disc);
    if (lockfd >= 0) {
        char path[MM_PATH_MAX + 16];
        if (lock_path(path, sizeof path, mm_home_path(home)) == MM_OK)
            unlink(path);
        close(lockfd);
    }
    if (sv.router)
        zmq_close(sv.router);
    if (zap)
        zmq_close(zap);
    zmq_ctx_term(ctx);
    return rc;
}
