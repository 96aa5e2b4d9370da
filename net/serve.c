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
#include <sodium.h>
#include <zmq.h>
#include "net/net.h"
#include "net/wire.h"
#include "net/zmqutil.h"
#include "core/body.h"
#include "core/engage.h"
#include "core/log.h"
#include "crypto/idcode.h"
#include "crypto/error.h"

#define LOCK_FILE "serve.lock"
#define ROUTING_MAX 256
#define ENDED_MAX   256             /* connections remembered after their session ended */
#define ENDED_ID    16              /* routing ids longer than this are not remembered */

typedef struct {
    uint8_t       rid[ROUTING_MAX];
    size_t        ridlen;
    mm_session_t *session;
    uint64_t      last_ms;
    int           settle;           /* core says what it stored changes the budget */
} conn_t;

typedef struct {
    mm_home_t *home;
    void      *router;
    mm_serve_log_fn  log;
    void      *logarg;
    conn_t     conns[MM_SERVE_SESSIONS_MAX];
    conn_t    *current;             /* whose frame is being sent */
    /* Connections whose one session (or invite exchange) is over: their
     * stray frames are dropped unanswered (PROTOCOL.md 8.2, step 7), not
     * taken for a new session.  A ring: the oldest is forgotten first. */
    struct { uint8_t len, id[ENDED_ID]; } ended[ENDED_MAX];
    unsigned   nended;
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

typedef enum { ADMIT_NO, ADMIT_DEVICE, ADMIT_INVITE } admit_t;

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
    if (memcmp(c->identity, mm_home_identity_pk(aw->sv->home), 32) == 0)
        return 1;
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
    if (mm_invite_get(txn, key, &inv) == MM_OK) {
        a = ADMIT_INVITE;           /* used or expired: ACCEPT says so in words */
    } else {
        /* one index lookup; any of the (rarely two) devices with this key
         * may admit it: HELLO then binds the key to one certificate */
        snprintf(why, whycap, "unknown key");
        int rc = mm_cert_by_curve(txn, key, admit_cert, &aw);
        if (rc == 1)
            a = ADMIT_DEVICE;
        else if (rc < 0 && rc != MM_ENOTFOUND)
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
            mm_hex(user, key, 32);
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
    if (memcmp(identity, mm_home_identity_pk(sv->home), 32) == 0) {
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
    snprintf(out, cap, "%.12s", code);
}

/* What the session stored goes to core, which says what it means; when
 * the client is done, a mentor's device settles, and the queue entries it
 * writes go back in this same session. */
static void on_event(void *arg, mm_session_event_t ev, const void *what)
{
    server_t *sv = arg;
    conn_t *c = sv->current;
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
    if (rc != MM_OK)
        logf_(sv, "cannot settle the budget: %s (%s)", mm_strerror(rc), mm_errname(rc));
    else if (out.released)
        logf_(sv, "released %zu question%s to the inbox", out.released,
              out.released == 1 ? "" : "s");
}

static void end_conn(server_t *sv, conn_t *c, int rc)
{
    const uint8_t *who = mm_session_remote_identity(c->session);
    const mm_sync_stats_t *st = mm_session_stats(c->session);
    char label[MM_PETNAME_MAX + 16] = "unknown device";
    if (who)
        peer_label(sv, who, label, sizeof label);
    if (rc == MM_OK) {
        logf_(sv, "synced with %s: sent %llu, received %llu entries", label,
              (unsigned long long) st->entries_sent, (unsigned long long) st->entries_recv);
        mm_txn_t *txn;
        if (who && mm_store_begin(mm_home_store(sv->home), 1, &txn) == MM_OK) {
            if (mm_peer_touch(txn, who, mm_now_ms()) == MM_OK)
                mm_txn_commit(&txn);
            mm_txn_abort(&txn);
        }
    } else {
        logf_(sv, "session with %s ended: %s (%s)", label,
              *mm_session_error_text(c->session) ? mm_session_error_text(c->session)
                                                  : mm_strerror(rc), mm_errname(rc));
    }
    remember_ended(sv, c->rid, c->ridlen);
    mm_session_destroy(&c->session);
}

static void on_frame(server_t *sv, const uint8_t *rid, size_t ridlen, zmq_msg_t *msg)
{
    const char *user = zmq_msg_gets(msg, "User-Id");
    uint8_t key[32];
    if (!user || strlen(user) != 64 || mm_unhex(key, 32, user)) {
        send_error(sv, rid, ridlen, MM_EREFUSED, "not authenticated");
        return;
    }
    const uint8_t *buf = zmq_msg_data(msg);
    size_t len = zmq_msg_size(msg);
    conn_t *c = find_conn(sv, rid, ridlen);
    if (!c && has_ended(sv, rid, ridlen))
        return;                     /* in flight when its session ended: dropped */
    if (!c) {
        mm_txn_t *txn;
        mm_invite_t inv;
        int is_invite = 0;
        if (mm_store_begin(mm_home_store(sv->home), 0, &txn) == MM_OK) {
            is_invite = mm_invite_get(txn, key, &inv) == MM_OK;
            mm_txn_abort(&txn);
        }
        if (is_invite) {
            mm_net_serve_accept(sv->home, key, buf, len, sv->router, rid, ridlen, sv->log,
                                sv->logarg);
            remember_ended(sv, rid, ridlen);    /* one exchange per invite connection */
            return;
        }
        for (int i = 0; i < MM_SERVE_SESSIONS_MAX && !c; i++)
            if (!sv->conns[i].session)
                c = &sv->conns[i];
        if (!c || ridlen > ROUTING_MAX) {
            send_error(sv, rid, ridlen, MM_EBUSY, "too many sessions; try again later");
            return;
        }
        memcpy(c->rid, rid, ridlen);
        c->ridlen = ridlen;
        sv->current = c;
        if (mm_session_new(sv->home, 0, key, NULL, send_to, sv, &c->session) != MM_OK) {
            send_error(sv, rid, ridlen, MM_ENOMEM, "out of memory");
            return;
        }
        c->settle = 0;
        mm_session_on_event(c->session, on_event, sv);
    }
    sv->current = c;
    c->last_ms = mm_now_ms();
    int rc = mm_session_input(c->session, buf, len);
    if (rc != MM_OK || mm_session_done(c->session))
        end_conn(sv, c, rc);
}

static void on_router(server_t *sv)
{
    zmq_msg_t rid, msg;
    zmq_msg_init(&rid);
    zmq_msg_init(&msg);
    if (zmq_msg_recv(&rid, sv->router, ZMQ_DONTWAIT) < 0)
        goto out;
    if (!zmq_msg_more(&rid) || zmq_msg_recv(&msg, sv->router, 0) < 0)
        goto out;
    if (zmq_msg_more(&msg)) {       /* we speak single-frame messages only */
        int more = 1;
        while (more) {
            zmq_msg_t extra;
            zmq_msg_init(&extra);
            zmq_msg_recv(&extra, sv->router, 0);
            more = zmq_msg_more(&extra);
            zmq_msg_close(&extra);
        }
        send_error(sv, zmq_msg_data(&rid), zmq_msg_size(&rid), MM_EPROTO, "multipart message");
        goto out;
    }
    on_frame(sv, zmq_msg_data(&rid), zmq_msg_size(&rid), &msg);
out:
    zmq_msg_close(&rid);
    zmq_msg_close(&msg);
}

static void reap_idle(server_t *sv)
{
    uint64_t now = mm_now_ms();
    for (int i = 0; i < MM_SERVE_SESSIONS_MAX; i++)
        if (sv->conns[i].session && now - sv->conns[i].last_ms > MM_SESSION_IDLE_MS)
            end_conn(sv, &sv->conns[i], MM_ETIMEOUT);
}

int mm_serve_run(mm_home_t *home, char *const *listen, size_t nlisten,
                 const volatile sig_atomic_t *stop, mm_serve_log_fn log, void *arg,
                 char *errtext, size_t errcap)
{
    server_t sv = { .home = home, .log = log, .logarg = arg };
    char eps[MM_PEER_ENDPOINTS][MM_ENDPOINT_MAX + 1], bound[MM_ENDPOINT_MAX + 1];
    unsigned neps = 0;
    uint8_t pk[32], sk[32];
    int lockfd = -1, rc = MM_EIO;
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
    int one = 1;
    if (!sv.router || mm_zmq_common(sv.router)
        || zmq_setsockopt(sv.router, ZMQ_CURVE_SERVER, &one, sizeof one)
        || zmq_setsockopt(sv.router, ZMQ_CURVE_SECRETKEY, sk, 32)
        || zmq_setsockopt(sv.router, ZMQ_ZAP_DOMAIN, "mm", 2)) {
        snprintf(errtext, errcap, "cannot set up the socket: %s", zmq_strerror(zmq_errno()));
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
    if ((rc = write_lock(mm_home_path(home), eps, neps, &lockfd))) {
        snprintf(errtext, errcap, rc == MM_EBUSY ? "another mm serve is running for this home"
                                                 : "cannot write %s/" LOCK_FILE,
                 mm_home_path(home));
        goto out;
    }
    for (unsigned i = 0; i < neps; i++)
        logf_(&sv, "reachable at %s", eps[i]);
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
    while (!*stop) {
        zmq_pollitem_t items[] = { { sv.router, 0, ZMQ_POLLIN, 0 }, { zap, 0, ZMQ_POLLIN, 0 } };
        if (zmq_poll(items, 2, 1000) < 0) {
            if (zmq_errno() == EINTR)
                continue;
            break;
        }
        if (items[1].revents & ZMQ_POLLIN)
            zap_handle(&sv, zap);
        if (items[0].revents & ZMQ_POLLIN)
            on_router(&sv);
        reap_idle(&sv);
    }
    rc = MM_OK;
out:
    sodium_memzero(sk, sizeof sk);
    for (int i = 0; i < MM_SERVE_SESSIONS_MAX; i++)
        mm_session_destroy(&sv.conns[i].session);
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
