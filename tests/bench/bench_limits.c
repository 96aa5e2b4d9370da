/*  bench_limits.c -- the machine's limits that tests/bench/run reads each
 *  figure against, measured in the same run (not a test, not mm code).
 *
 *  Prints one JSON object on stdout:
 *    cores                 processors online
 *    sign_1 / sign_all     Ed25519 signatures/s of mm's entry digest message
 *                          (16-byte context || 32-byte hash), one thread /
 *                          one thread per core, all at once
 *    verify_1 / verify_all Ed25519 verifications/s, likewise
 *    sign_cpu / verify_cpu the same per CPU second of this process (what
 *                          other processes' load on a shared machine leaves out)
 *    load1                 the 1-minute load average at the end
 *    blake2b_mbs           BLAKE2b-256 over 60,000-byte buffers, one core, MB/s
 *    aead_mbs              XChaCha20-Poly1305 (IETF) decrypt of 60,000 bytes, one core
 *    curve_mbs             crypto_box_open_afternm (XSalsa20-Poly1305, what a
 *                          ZeroMQ CURVE MESSAGE costs) of 2 MiB, one core
 *    crypto60k_mbs         the receiver's crypto limit for 60,000-byte entries:
 *                          cores / (1/curve + 1/aead + 1/blake2b), MB/s
 *    crypto60k_shared_mbs  the same with the sender's CURVE seal on the same
 *                          cores (sender and receiver share this machine):
 *                          cores / (2/curve + 1/aead + 1/blake2b), MB/s
 *    lmdb_append           LMDB puts/s of 400-byte values under ascending
 *                          72-byte keys, 1,000 per durable transaction
 *    zmq_curve_mbs         MB/s of 2 MiB messages PUSHed to a PULL socket
 *                          over tcp://127.0.0.1 with CURVE, one process
 *    disk_sync_mbs         MB/s of durable 2 MiB writes (pwrite + fdatasync
 *                          each) to a file in --dir: the least the disk costs
 *                          a receiver that commits each 2 MiB ENTRIES frame
 *                          before its ACK (PROTOCOL.md 8.2)
 *  Usage: bench_limits [--seconds S] [--dir DIR]
 *  The floor of a whole ZeroMQ CURVE client process, timed by
 *  bench_sync.py next to the no-op `mm sync` with the same harness:
 *    bench_limits --floor-server    a CURVE ROUTER on 127.0.0.1 that echoes;
 *                                   prints "ENDPOINT SERVER_PK", serves until
 *                                   its stdin closes
 *    bench_limits --floor-client ENDPOINT SERVER_PK
 *                                   loads libzmq (linked), connects a CURVE
 *                                   DEALER, completes the handshake, has one
 *                                   message echoed, closes and exits: what any
 *                                   ZeroMQ CURVE client pays before its work
 *  (each measurement runs ~S, default 1; the LMDB and disk files go in DIR,
 *  default /tmp: give the file system the stores of the run are on)
 *
 *  The only file under tests/bench/ that sees LMDB and ZeroMQ: it measures
 *  them alone, outside mm (.ci/layers names it).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>
#include <lmdb.h>
#include <sodium.h>
#include <zmq.h>

#define MSG_LEN     48              /* "mm entry sig v1\0" || H(signed) */
#define BIG_ENTRY   60000
#define CURVE_MSG   (2u << 20)
#define LMDB_VAL    400
#define LMDB_KEY    72
#define LMDB_TXN    1000
#define THREADS_MAX 64

static double seconds = 1.0;
static const char *dir = "/tmp";

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_limits: %s\n", what);
    exit(1);
}

/* ---- Ed25519 on one or every core ---------------------------------------- */

typedef struct {
    int verify;
    double until;
    unsigned long done;
} sig_job_t;

static void *sig_thread(void *arg)
{
    sig_job_t *j = arg;
    unsigned char pk[32], sk[64], msg[MSG_LEN], sig[64];
    crypto_sign_keypair(pk, sk);
    randombytes_buf(msg, sizeof msg);
    crypto_sign_detached(sig, NULL, msg, sizeof msg, sk);
    unsigned long n = 0;
    while (now_s() < j->until) {
        for (int i = 0; i < 64; i++, n++) {
            if (j->verify) {
                if (crypto_sign_verify_detached(sig, msg, sizeof msg, pk) != 0)
                    die("a good signature did not verify");
            } else {
                msg[0] = (unsigned char) n;
                crypto_sign_detached(sig, NULL, msg, sizeof msg, sk);
            }
        }
    }
    j->done = n;
    return NULL;
}

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* per wall second; *per_cpu: per CPU second of the process (a load of
 * other processes on the machine does not skew it) */
static double sig_rate(int verify, int threads, double *per_cpu)
{
    pthread_t t[THREADS_MAX];
    sig_job_t j[THREADS_MAX];
    double t0 = now_s(), c0 = cpu_s();
    for (int i = 0; i < threads; i++) {
        j[i] = (sig_job_t) { verify, t0 + seconds, 0 };
        if (pthread_create(&t[i], NULL, sig_thread, &j[i]))
            die("pthread_create");
    }
    unsigned long n = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
        n += j[i].done;
    }
    *per_cpu = (double) n / (cpu_s() - c0);
    return (double) n / (now_s() - t0);
}

/* ---- per-byte crypto, one core ------------------------------------------- */

static double blake2b_mbs(void)
{
    unsigned char *buf = calloc(1, BIG_ENTRY), h[32];
    if (!buf)
        die("out of memory");
    unsigned long n = 0;
    double t0 = now_s(), t;
    while ((t = now_s()) < t0 + seconds) {
        crypto_generichash(h, sizeof h, buf, BIG_ENTRY, NULL, 0);
        buf[0] = h[0];
        n++;
    }
    free(buf);
    return (double) n * BIG_ENTRY / (t - t0) / 1e6;
}

static double aead_mbs(void)
{
    unsigned char k[32], npub[24], ad[100] = { 0 };
    unsigned char *pt = calloc(1, BIG_ENTRY), *ct = malloc(BIG_ENTRY + 16);
    if (!pt || !ct)
        die("out of memory");
    crypto_aead_xchacha20poly1305_ietf_keygen(k);
    randombytes_buf(npub, sizeof npub);
    unsigned long long clen, plen;
    crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &clen, pt, BIG_ENTRY, ad, sizeof ad, NULL,
                                               npub, k);
    unsigned long n = 0;
    double t0 = now_s(), t;
    while ((t = now_s()) < t0 + seconds) {
        if (crypto_aead_xchacha20poly1305_ietf_decrypt(pt, &plen, NULL, ct, clen, ad, sizeof ad,
                                                       npub, k) != 0)
            die("AEAD did not open");
        n++;
    }
    free(pt);
    free(ct);
    return (double) n * BIG_ENTRY / (t - t0) / 1e6;
}

static double curve_mbs(void)
{
    unsigned char apk[32], ask[32], bpk[32], bsk[32], ka[32], kb[32], nonce[24] = { 0 };
    unsigned char *pt = calloc(1, CURVE_MSG), *ct = malloc(CURVE_MSG + 16);
    if (!pt || !ct)
        die("out of memory");
    crypto_box_keypair(apk, ask);
    crypto_box_keypair(bpk, bsk);
    if (crypto_box_beforenm(ka, bpk, ask) || crypto_box_beforenm(kb, apk, bsk))
        die("crypto_box_beforenm");
    crypto_box_easy_afternm(ct, pt, CURVE_MSG, nonce, ka);
    unsigned long n = 0;
    double t0 = now_s(), t;
    while ((t = now_s()) < t0 + seconds) {
        if (crypto_box_open_easy_afternm(pt, ct, CURVE_MSG + 16, nonce, kb) != 0)
            die("box did not open");
        n++;
    }
    free(pt);
    free(ct);
    return (double) n * CURVE_MSG / (t - t0) / 1e6;
}

/* ---- LMDB ---------------------------------------------------------------- */

static int lmdb_ok(int rc, const char *what)
{
    if (rc) {
        fprintf(stderr, "bench_limits: %s: %s\n", what, mdb_strerror(rc));
        exit(1);
    }
    return 0;
}

static double lmdb_append(void)
{
    char tmp[4096], path[4200];
    snprintf(tmp, sizeof tmp, "%s/mm-bench-lmdb-XXXXXX", dir);
    if (!mkdtemp(tmp))
        die("mkdtemp");
    MDB_env *env;
    MDB_dbi dbi;
    MDB_txn *txn;
    unsigned char key[LMDB_KEY] = { 0 }, val[LMDB_VAL];
    randombytes_buf(val, sizeof val);
    lmdb_ok(mdb_env_create(&env), "env");
    lmdb_ok(mdb_env_set_mapsize(env, (size_t) 4 << 30), "mapsize");
    lmdb_ok(mdb_env_open(env, tmp, 0, 0600), "open");
    unsigned long n = 0;
    double t0 = now_s(), t = t0;
    while (t < t0 + seconds) {
        lmdb_ok(mdb_txn_begin(env, NULL, 0, &txn), "begin");
        if (n == 0)
            lmdb_ok(mdb_dbi_open(txn, NULL, 0, &dbi), "dbi");
        for (int i = 0; i < LMDB_TXN; i++, n++) {
            for (int b = 0; b < 8; b++)
                key[LMDB_KEY - 1 - b] = (unsigned char) (n >> (8 * b));
            MDB_val k = { sizeof key, key }, v = { sizeof val, val };
            lmdb_ok(mdb_put(txn, dbi, &k, &v, MDB_APPEND), "put");
        }
        lmdb_ok(mdb_txn_commit(txn), "commit");
        t = now_s();
    }
    mdb_env_close(env);
    snprintf(path, sizeof path, "%s/data.mdb", tmp);
    unlink(path);
    snprintf(path, sizeof path, "%s/lock.mdb", tmp);
    unlink(path);
    rmdir(tmp);
    return (double) n / (t - t0);
}

/* ---- a whole ZeroMQ CURVE client process --------------------------------- */

/* The client: load (linked), connect, handshake, one echo, close, exit. */
static int floor_client(const char *endpoint, const char *server_pk)
{
    char pk[41], sk[41], buf[8];
    void *ctx = zmq_ctx_new();
    void *s = ctx ? zmq_socket(ctx, ZMQ_DEALER) : NULL;
    int zero = 0;
    if (!s || zmq_curve_keypair(pk, sk)
        || zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, server_pk, 40)
        || zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, pk, 40)
        || zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, sk, 40)
        || zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero) || zmq_connect(s, endpoint)
        || zmq_send(s, "ping", 4, 0) != 4 || zmq_recv(s, buf, sizeof buf, 0) != 4)
        return 1;
    zmq_close(s);
    zmq_ctx_term(ctx);
    return 0;
}

/* The server for those clients: a CURVE ROUTER on 127.0.0.1 that echoes
 * every message.  Prints "ENDPOINT SERVER_PK" and serves until its stdin
 * reaches end of file (the harness closes it). */
static int floor_server(void)
{
    char pk[41], sk[41], endpoint[64];
    void *ctx = zmq_ctx_new();
    void *r = ctx ? zmq_socket(ctx, ZMQ_ROUTER) : NULL;
    int one = 1;
    size_t elen = sizeof endpoint;
    if (!r || zmq_curve_keypair(pk, sk) || zmq_setsockopt(r, ZMQ_CURVE_SERVER, &one, sizeof one)
        || zmq_setsockopt(r, ZMQ_CURVE_SECRETKEY, sk, 40) || zmq_bind(r, "tcp://127.0.0.1:*")
        || zmq_getsockopt(r, ZMQ_LAST_ENDPOINT, endpoint, &elen))
        die("floor: server socket");
    printf("%s %s\n", endpoint, pk);
    fflush(stdout);
    zmq_pollitem_t it[2] = { { r, 0, ZMQ_POLLIN, 0 }, { NULL, 0, ZMQ_POLLIN, 0 } };
    for (;;) {
        if (zmq_poll(it, 2, -1) < 0)
            continue;
        if (it[1].revents) {
            char c;
            if (read(0, &c, 1) <= 0)
                break;
        }
        if (!(it[0].revents & ZMQ_POLLIN))
            continue;
        zmq_msg_t id, m;
        zmq_msg_init(&id);
        zmq_msg_init(&m);
        if (zmq_msg_recv(&id, r, 0) >= 0 && zmq_msg_recv(&m, r, 0) >= 0) {
            zmq_msg_send(&id, r, ZMQ_SNDMORE);
            zmq_msg_send(&m, r, 0);
        }
        zmq_msg_close(&id);
        zmq_msg_close(&m);
    }
    zmq_close(r);
    zmq_ctx_term(ctx);
    return 0;
}

/* ---- the disk: durable writes of one frame's size ------------------------ */

static double disk_sync_mbs(void)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/mm-bench-disk-XXXXXX", dir);
    int fd = mkstemp(path);
    if (fd < 0)
        die("mkstemp");
    unlink(path);
    unsigned char *buf = malloc(CURVE_MSG);
    if (!buf)
        die("out of memory");
    randombytes_buf(buf, CURVE_MSG);
    /* a fresh file, appended to: what a growing data.mdb gets */
    unsigned long n = 0;
    double t0 = now_s(), t = t0;
    while (t < t0 + seconds || n < 16) {
        if (pwrite(fd, buf, CURVE_MSG, (off_t) n * CURVE_MSG) != (ssize_t) CURVE_MSG
            || fdatasync(fd) != 0)
            die("write to --dir");
        n++;
        t = now_s();
    }
    free(buf);
    close(fd);
    return (double) n * CURVE_MSG / (t - t0) / 1e6;
}

/* ---- ZeroMQ CURVE over loopback ------------------------------------------ */

typedef struct {
    void *ctx;
    char endpoint[64];
    char server_sk[41], server_pk[41];
    unsigned long count;
} zq_t;

static void *zq_sender(void *arg)
{
    zq_t *q = arg;
    char cpk[41], csk[41];
    void *s = zmq_socket(q->ctx, ZMQ_PUSH);
    zmq_curve_keypair(cpk, csk);
    zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, q->server_pk, 40);
    zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, cpk, 40);
    zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, csk, 40);
    if (zmq_connect(s, q->endpoint))
        die("zmq_connect");
    char *buf = calloc(1, CURVE_MSG);
    if (!buf)
        die("out of memory");
    for (unsigned long i = 0; i < q->count; i++)
        if (zmq_send(s, buf, CURVE_MSG, 0) < 0)
            die("zmq_send");
    free(buf);
    int linger = -1;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    zmq_close(s);
    return NULL;
}

static double zmq_curve_mbs(void)
{
    zq_t q = { .ctx = zmq_ctx_new() };
    if (!q.ctx || !zmq_has("curve"))
        die("ZeroMQ without CURVE");
    zmq_curve_keypair(q.server_pk, q.server_sk);
    void *r = zmq_socket(q.ctx, ZMQ_PULL);
    int one = 1;
    zmq_setsockopt(r, ZMQ_CURVE_SERVER, &one, sizeof one);
    zmq_setsockopt(r, ZMQ_CURVE_SECRETKEY, q.server_sk, 40);
    if (zmq_bind(r, "tcp://127.0.0.1:*"))
        die("zmq_bind");
    size_t elen = sizeof q.endpoint;
    zmq_getsockopt(r, ZMQ_LAST_ENDPOINT, q.endpoint, &elen);
    /* size the run from one second's worth at a guessed 200 MB/s, at least 16 */
    q.count = (unsigned long) (seconds * 200e6 / CURVE_MSG);
    if (q.count < 16)
        q.count = 16;
    pthread_t t;
    zmq_msg_t m;
    zmq_msg_init(&m);
    double t0 = 0;
    if (pthread_create(&t, NULL, zq_sender, &q))
        die("pthread_create");
    /* the clock starts at the first message: connect and handshake are done */
    for (unsigned long i = 0; i < q.count; i++) {
        if (zmq_msg_recv(&m, r, 0) < 0)
            die("zmq_recv");
        if (i == 0)
            t0 = now_s();
    }
    double dt = now_s() - t0;
    pthread_join(t, NULL);
    zmq_msg_close(&m);
    zmq_close(r);
    zmq_ctx_term(q.ctx);
    return (double) (q.count - 1) * CURVE_MSG / dt / 1e6;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--dir") && i + 1 < argc)
            dir = argv[++i];
        else if (!strcmp(argv[i], "--floor-client") && i + 2 < argc)
            return floor_client(argv[i + 1], argv[i + 2]);
        else if (!strcmp(argv[i], "--floor-server"))
            return floor_server();
        else {
            fprintf(stderr, "usage: bench_limits [--seconds S] [--dir DIR]\n");
            return 2;
        }
    }
    if (seconds <= 0 || sodium_init() < 0)
        return 2;
    long nc = sysconf(_SC_NPROCESSORS_ONLN);
    int cores = nc < 1 ? 1 : nc > THREADS_MAX ? THREADS_MAX : (int) nc;
    double s1c, sac, v1c, vac;
    double s1 = sig_rate(0, 1, &s1c), sa = sig_rate(0, cores, &sac);
    double v1 = sig_rate(1, 1, &v1c), va = sig_rate(1, cores, &vac);
    double b = blake2b_mbs(), a = aead_mbs(), c = curve_mbs();
    double crypto60k = cores / (1 / c + 1 / a + 1 / b);
    double shared60k = cores / (2 / c + 1 / a + 1 / b);
    double l = lmdb_append();
    double z = zmq_curve_mbs();
    double d = disk_sync_mbs();
    double load[3] = { 0 };
    if (getloadavg(load, 3) < 1)
        load[0] = -1;
    printf("{\"cores\": %d, \"sign_1\": %.0f, \"sign_all\": %.0f, \"verify_1\": %.0f, "
           "\"verify_all\": %.0f, \"sign_cpu\": %.0f, \"verify_cpu\": %.0f, "
           "\"load1\": %.2f, \"blake2b_mbs\": %.1f, \"aead_mbs\": %.1f, "
           "\"curve_mbs\": %.1f, \"crypto60k_mbs\": %.1f, \"crypto60k_shared_mbs\": %.1f, "
           "\"lmdb_append\": %.0f, \"zmq_curve_mbs\": %.1f, \"disk_sync_mbs\": %.1f}\n",
           cores, s1, sa, v1, va, sac > s1c ? sac : s1c, vac > v1c ? vac : v1c, load[0], b, a, c,
           crypto60k, shared60k, l, z, d);
    return 0;
}
