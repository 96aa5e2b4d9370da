/*  conntab.c -- mm serve's connections, loose ones in one list, oldest first. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/tcp.h>              /* struct tcp_info with tcpi_bytes_received (Linux 4.1) */
#include <zmq.h>
#include "net/conntab.h"
#include "crypto/error.h"

#define SLOTS_MAX (1 << 16)         /* descriptors counted: far more than max loose + sessions */
#define GONE      UINT64_MAX        /* ticket of a connection already gone */
#define SCAN      32                /* oldest loose connections looked at for a silent one */

typedef enum { S_FREE, S_LOOSE, S_HELD, S_CLOSING } state_t;

typedef struct {
    uint64_t serial;                /* of the connection on this descriptor; 0: never one */
    uint64_t deadline;              /* loose: when it is closed */
    int      prev, next;            /* loose: the list, by deadline */
    unsigned holds;                 /* held: sessions using it */
    state_t  state;
    int      talked;                /* it has sent a byte (once known, never asked again) */
} slot_t;

struct mm_conntab {
    void    *router, *mon;
    slot_t  *slot;
    int      nslot;
    int      head, tail;            /* the loose list: head is the oldest */
    unsigned max;
    uint64_t quiet_ms, serial;
    mm_conntab_stats_t st;
};

static void unlink_loose(mm_conntab_t *t, int fd)
{
    slot_t *s = &t->slot[fd];
    if (s->prev >= 0)
        t->slot[s->prev].next = s->next;
    else
        t->head = s->next;
    if (s->next >= 0)
        t->slot[s->next].prev = s->prev;
    else
        t->tail = s->prev;
    s->prev = s->next = -1;
    t->st.loose--;
}

/* Loose from now: its time runs from now, and it is the newest. */
static void make_loose(mm_conntab_t *t, int fd, uint64_t now)
{
    slot_t *s = &t->slot[fd];
    s->state = S_LOOSE;
    s->deadline = now + t->quiet_ms;
    s->next = -1;
    s->prev = t->tail;
    if (t->tail >= 0)
        t->slot[t->tail].next = fd;
    else
        t->head = fd;
    t->tail = fd;
    if (++t->st.loose > t->st.loose_peak)
        t->st.loose_peak = t->st.loose;
}

/* Has the peer of fd sent anything?  A CURVE client starts with its
 * greeting at once; a connection that never says a word is the cheapest
 * kind to open by the thousand.  Unknown (an older kernel) counts as yes. */
static int talked(mm_conntab_t *t, int fd)
{
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    slot_t *s = &t->slot[fd];
    if (!s->talked && (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0
                       || len < offsetof(struct tcp_info, tcpi_bytes_received)
                                + sizeof ti.tcpi_bytes_received
                       || ti.tcpi_bytes_received > 0))
        s->talked = 1;
    return s->talked;
}

/* The loose connection to close first: the oldest silent one among the
 * SCAN oldest, else the oldest.  So a flood of connections that say
 * nothing closes its own first, not a client in the middle of its
 * handshake. */
static int victim(mm_conntab_t *t)
{
    int fd = t->head;
    for (int k = 0; k < SCAN && fd >= 0; k++, fd = t->slot[fd].next)
        if (!talked(t, fd))
            return fd;
    return t->head;
}

static void close_loose(mm_conntab_t *t, int fd)
{
    unlink_loose(t, fd);
    t->slot[fd].state = S_CLOSING;
    /* libzmq sees end of file, drops the connection and closes fd; its
     * DISCONNECTED event then frees the slot */
    shutdown(fd, SHUT_RDWR);
}

int mm_conntab_new(void *ctx, void *router, unsigned max, uint64_t quiet_ms, int fd_limit,
                   mm_conntab_t **out)
{
    static unsigned seq;
    char ep[64];
    int zero = 0;
    mm_conntab_t *t = calloc(1, sizeof *t);
    *out = NULL;
    if (!t)
        return MM_ENOMEM;
    t->nslot = fd_limit > 0 && fd_limit < SLOTS_MAX ? fd_limit : SLOTS_MAX;
    if (!(t->slot = calloc((size_t) t->nslot, sizeof *t->slot))) {
        free(t);
        return MM_ENOMEM;
    }
    t->router = router;
    t->max = max;
    t->quiet_ms = quiet_ms;
    t->head = t->tail = -1;
    snprintf(ep, sizeof ep, "inproc://mm-serve-conns-%u", seq++);
    /* the monitor drops events its peer cannot take: ours takes them all
     * (no receive limit), since a lost DISCONNECTED would leave a slot whose
     * descriptor number libzmq may give to another connection */
    if (zmq_socket_monitor(router, ep, ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED
                           | ZMQ_EVENT_CLOSED) != 0
        || !(t->mon = zmq_socket(ctx, ZMQ_PAIR))
        || zmq_setsockopt(t->mon, ZMQ_RCVHWM, &zero, sizeof zero)
        || zmq_setsockopt(t->mon, ZMQ_LINGER, &zero, sizeof zero)
        || zmq_connect(t->mon, ep) != 0) {
        mm_conntab_destroy(&t);
        return MM_EIO;
    }
    *out = t;
    return MM_OK;
}

void mm_conntab_destroy(mm_conntab_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    mm_conntab_t *t = *self_p;
    zmq_socket_monitor(t->router, NULL, 0);
    if (t->mon)
        zmq_close(t->mon);
    free(t->slot);
    free(t);
    *self_p = NULL;
}

void *mm_conntab_socket(mm_conntab_t *self) { return self->mon; }
const mm_conntab_stats_t *mm_conntab_stats(const mm_conntab_t *self) { return &self->st; }

static void on_accepted(mm_conntab_t *t, int fd, uint64_t now)
{
    if (fd < 0 || fd >= t->nslot)
        return;
    slot_t *s = &t->slot[fd];
    if (s->state == S_LOOSE)        /* its end was never reported: it is gone */
        unlink_loose(t, fd);
    s->serial = ++t->serial;
    s->holds = 0;
    s->talked = 0;
    make_loose(t, fd, now);
    t->st.accepted++;
}

static void on_gone(mm_conntab_t *t, int fd)
{
    if (fd < 0 || fd >= t->nslot)
        return;
    if (t->slot[fd].state == S_LOOSE)
        unlink_loose(t, fd);
    t->slot[fd].state = S_FREE;
    t->slot[fd].holds = 0;
}

/* One monitor event: a frame of 6 bytes (event u16, value u32), then the
 * endpoint.  0 when none waits. */
static int next_event(mm_conntab_t *t, uint16_t *event, uint32_t *value)
{
    zmq_msg_t m;
    int more, ok = 0;
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, t->mon, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&m);
        return 0;
    }
    if (zmq_msg_size(&m) >= 6) {
        memcpy(event, zmq_msg_data(&m), 2);
        memcpy(value, (uint8_t *) zmq_msg_data(&m) + 2, 4);
        ok = 1;
    }
    more = zmq_msg_more(&m);
    zmq_msg_close(&m);
    while (more) {                  /* the parts of one event arrive together */
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, t->mon, 0) < 0)
            more = 0;
        else
            more = zmq_msg_more(&m);
        zmq_msg_close(&m);
    }
    if (!ok)
        *event = 0;
    return 1;
}

void mm_conntab_update(mm_conntab_t *self, uint64_t now)
{
    uint16_t event;
    uint32_t value;
    while (next_event(self, &event, &value)) {
        if (event == ZMQ_EVENT_ACCEPTED)
            on_accepted(self, (int) value, now);
        else if (event == ZMQ_EVENT_DISCONNECTED || event == ZMQ_EVENT_CLOSED)
            on_gone(self, (int) value);
    }
    while (self->st.loose > self->max) {
        close_loose(self, victim(self));
        self->st.closed_over++;
    }
    while (self->head >= 0 && self->slot[self->head].deadline <= now) {
        close_loose(self, self->head);
        self->st.closed_quiet++;
    }
}

uint64_t mm_conntab_hold(mm_conntab_t *self, int fd)
{
    if (fd < 0 || fd >= self->nslot || self->slot[fd].serial == 0)
        return 0;
    slot_t *s = &self->slot[fd];
    switch (s->state) {
    case S_FREE:                    /* a message of a connection gone since */
        return GONE;
    case S_LOOSE:
        unlink_loose(self, fd);
        s->state = S_HELD;
        s->holds = 1;
        break;
    case S_HELD:
        s->holds++;
        break;
    case S_CLOSING:
        break;
    }
    return s->serial;
}

void mm_conntab_release(mm_conntab_t *self, int fd, uint64_t ticket, uint64_t now)
{
    if (ticket == 0 || fd < 0 || fd >= self->nslot)
        return;
    slot_t *s = &self->slot[fd];
    if (s->serial != ticket || s->state != S_HELD)
        return;
    if (--s->holds == 0)
        make_loose(self, fd, now);
}

int mm_conntab_alive(const mm_conntab_t *self, int fd, uint64_t ticket)
{
    if (ticket == 0 || fd < 0 || fd >= self->nslot)
        return 1;
    const slot_t *s = &self->slot[fd];
    return s->serial == ticket && (s->state == S_HELD || s->state == S_LOOSE);
}
