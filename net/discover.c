/*  discover.c -- the UDP side of LAN discovery: broadcast rounds of
 *  beacons, read datagrams, hand them to core (core/beacon.h). */
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include "net/discover.h"

#define IFACES_MAX   16             /* broadcast addresses a round goes to */
#define READS_MAX    256            /* datagrams read per call: the poll loop serves others too */
#define SNDBUF       (1 << 20)      /* a round of 256 beacons is 300 KiB */

struct mm_discover {
    mm_home_t     *home;
    int            fd;
    unsigned       port;
    uint64_t       interval_ms;
    uint64_t       next_ms;         /* the next round */
    mm_beacon_rx_t *rx;
    mm_serve_log_fn log;
    void          *logarg;
    mm_discover_fn found;
    void          *foundarg;
    unsigned long  foreign;         /* datagrams that were no beacon for us */
    unsigned long  over;            /* beacons not tried: over the budget */
    unsigned long  suppressed;      /* refusals not told this round */
    int            refusal_told;    /* one refusal told this round */
    int            ifaces_said;     /* how many interfaces the last round reached, or -1 */
    int            round_err;       /* the last round's error, said once */
    uint8_t      (*round)[MM_BEACON_SIZE];
};

static void logf_(mm_discover_t *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(mm_discover_t *d, const char *fmt, ...)
{
    char line[256];
    va_list ap;
    if (!d->log)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    d->log(d->logarg, line);
}

static int is_pow2(unsigned long n)
{
    return n && !(n & (n - 1));
}

int mm_discover_new(mm_home_t *home, unsigned port, uint64_t interval_ms,
                    mm_serve_log_fn log, void *logarg, mm_discover_fn found, void *foundarg,
                    mm_discover_t **out, char *errtext, size_t errcap)
{
    mm_discover_t *d = calloc(1, sizeof *d);
    int one = 1, sndbuf = SNDBUF;
    struct sockaddr_in a;
    if (!d || !(d->round = calloc(mm_beacon_round_size(MM_BEACON_KEYS_MAX), MM_BEACON_SIZE))
        || mm_beacon_rx_new(&d->rx)) {
        if (d)
            free(d->round);
        free(d);
        return MM_ENOMEM;
    }
    *d = (mm_discover_t) { .home = home, .fd = -1, .port = port, .interval_ms = interval_ms,
                           .rx = d->rx, .round = d->round, .log = log, .logarg = logarg,
                           .found = found, .foundarg = foundarg, .ifaces_said = -1 };
    d->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t) port);
    a.sin_addr.s_addr = htonl(INADDR_ANY);
    /* SO_REUSEADDR: every process bound to the port gets each broadcast */
    if (d->fd < 0 || setsockopt(d->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one)
        || setsockopt(d->fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one)
        || bind(d->fd, (struct sockaddr *) &a, sizeof a)) {
        snprintf(errtext, errcap, "cannot listen for discovery on UDP port %u: %s", port,
                 strerror(errno));
        mm_discover_destroy(&d);
        return MM_EIO;
    }
    (void) setsockopt(d->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    *out = d;
    return MM_OK;
}

void mm_discover_destroy(mm_discover_t **d)
{
    if (!*d)
        return;
    if ((*d)->fd >= 0)
        close((*d)->fd);
    mm_beacon_rx_destroy(&(*d)->rx);
    free((*d)->round);
    free(*d);
    *d = NULL;
}

int mm_discover_fd(const mm_discover_t *d)
{
    return d->fd;
}

uint64_t mm_discover_wait(const mm_discover_t *d, uint64_t mono)
{
    return d->next_ms > mono ? d->next_ms - mono : 0;
}

/* The IPv4 broadcast addresses of the interfaces that are up and have one
 * (not loopback), each once. */
static unsigned broadcasts(struct in_addr *out, unsigned max)
{
    struct ifaddrs *ifs, *i;
    unsigned n = 0;
    if (getifaddrs(&ifs) != 0)
        return 0;
    for (i = ifs; i && n < max; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !(i->ifa_flags & IFF_UP)
            || !(i->ifa_flags & IFF_BROADCAST) || (i->ifa_flags & IFF_LOOPBACK)
            || !i->ifa_broadaddr || i->ifa_broadaddr->sa_family != AF_INET)
            continue;
        struct in_addr b = ((struct sockaddr_in *) i->ifa_broadaddr)->sin_addr;
        unsigned j;
        for (j = 0; j < n && out[j].s_addr != b.s_addr; j++)
            ;
        if (j == n)
            out[n++] = b;
    }
    freeifaddrs(ifs);
    return n;
}

void mm_discover_tick(mm_discover_t *d, uint64_t mono, uint64_t now)
{
    struct in_addr bc[IFACES_MAX];
    unsigned n = 0, nb;
    unsigned long lost = 0;
    if (mono < d->next_ms)
        return;
    d->next_ms = mono + d->interval_ms;
    d->refusal_told = 0;
    int rc = mm_beacon_rx_load(d->rx, d->home, d->interval_ms);
    if (rc == MM_OK)
        rc = mm_beacon_rx_round(d->rx, d->home, now, d->round,
                                mm_beacon_round_size(MM_BEACON_KEYS_MAX), &n);
    if (rc != d->round_err) {       /* said once, not every round */
        if (rc == MM_ENOTFOUND)
            logf_(d, "discovery: nothing to announce (this device has no endpoints statement)");
        else if (rc)
            logf_(d, "discovery: cannot make this round's beacons: %s", mm_strerror(rc));
        d->round_err = rc;
    }
    if (rc)
        return;
    nb = broadcasts(bc, IFACES_MAX);
    for (unsigned b = 0; b < nb; b++) {
        struct sockaddr_in to;
        memset(&to, 0, sizeof to);
        to.sin_family = AF_INET;
        to.sin_port = htons((uint16_t) d->port);
        to.sin_addr = bc[b];
        for (unsigned i = 0; i < n; i++)
            if (sendto(d->fd, d->round[i], MM_BEACON_SIZE, 0, (struct sockaddr *) &to,
                       sizeof to) != MM_BEACON_SIZE)
                lost++;
    }
    if ((int) nb != d->ifaces_said) {
        if (nb)
            logf_(d, "discovery: announcing %u beacon%s a round on %u network%s", n,
                  n == 1 ? "" : "s", nb, nb == 1 ? "" : "s");
        else
            logf_(d, "discovery: no network with a broadcast address to announce on");
        d->ifaces_said = (int) nb;
    }
    if (lost)
        logf_(d, "discovery: %lu beacon%s of this round could not be sent", lost,
              lost == 1 ? "" : "s");
}

static void hear(mm_discover_t *d, const uint8_t *buf, size_t len, uint64_t now)
{
    mm_beacon_heard_t h;
    int rc = mm_beacon_rx_input(d->rx, d->home, buf, len, now, &h);
    if (rc == MM_EEXIST)
        return;                     /* ours, back from the network */
    if (rc == MM_ENOTFOUND) {
        /* a stranger's, a dummy, or ours: counted, said rarely */
        if (is_pow2(++d->foreign))
            logf_(d, "discovery: heard %lu beacon%s not for this device", d->foreign,
                  d->foreign == 1 ? "" : "s");
        return;
    }
    if (rc == MM_EBUSY) {
        if (is_pow2(++d->over))
            logf_(d, "discovery: %lu beacon%s not tried: more than %d a second arrive",
                  d->over, d->over == 1 ? "" : "s", MM_BEACON_RATE);
        return;
    }
    if (rc != MM_OK && d->refusal_told) {
        d->suppressed++;
        return;
    }
    if (rc != MM_OK)
        d->refusal_told = 1;
    d->found(d->foundarg, rc, &h, rc == MM_OK ? 0 : d->suppressed);
    if (rc != MM_OK)
        d->suppressed = 0;
}

void mm_discover_input(mm_discover_t *d, uint64_t now)
{
    uint8_t buf[MM_BEACON_SIZE + 1];    /* one more: a longer datagram is no beacon */
    for (int i = 0; i < READS_MAX; i++) {
        ssize_t got = recv(d->fd, buf, sizeof buf, 0);
        if (got < 0)
            return;                 /* EAGAIN: all read */
        hear(d, buf, (size_t) got, now);
    }
}
