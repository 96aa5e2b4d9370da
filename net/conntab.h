/*  conntab.h -- the connections of mm serve's ROUTER, counted from its
 *  monitor events, so that those without a session are bounded in number
 *  and in time (PROTOCOL.md 8.6).  Private to net/.
 *
 *  libzmq has no option that caps the connections of a bound socket, and
 *  its listener, out of descriptors, retries accept() inside the library as
 *  fast as it can.  So mm counts connections itself: ZMQ_EVENT_ACCEPTED
 *  carries a new connection's descriptor, ZMQ_EVENT_DISCONNECTED (or
 *  ZMQ_EVENT_CLOSED) its end, and each message's ZMQ_SRCFD says which
 *  connection it came by.  To end a connection, mm shuts its descriptor down
 *  (shutdown(2), SHUT_RDWR): libzmq reads end of file, drops the connection
 *  and closes the descriptor itself.  Events are read before the router's
 *  messages and before any connection is shut down, so a descriptor number
 *  that libzmq has closed and reused is known as the new connection's.
 *
 *  A connection is held while a session uses it.  Otherwise it is loose:
 *  not yet authenticated, authenticated but silent, or done with its
 *  session.  At most `max` loose connections are kept (past that the oldest
 *  that has not sent a byte is closed first, else the oldest), and each is
 *  closed `quiet_ms` after it was accepted or released.
 */
#ifndef MM_CONNTAB_H
#define MM_CONNTAB_H

#include <stdint.h>

typedef struct mm_conntab mm_conntab_t;

typedef struct {
    uint64_t accepted;              /* connections seen */
    uint64_t closed_over;           /* closed because max loose ones were open */
    uint64_t closed_quiet;          /* closed quiet_ms after acceptance or release */
    unsigned loose, loose_peak;     /* loose now; the most at once */
} mm_conntab_stats_t;

/* Watch router, which is not bound yet (so no connection is missed), in
 * context ctx.  Descriptors from fd_limit up are not counted (mm serve
 * sets fd_limit to its RLIMIT_NOFILE).  MM_OK, MM_ENOMEM, MM_EIO. */
int  mm_conntab_new(void *ctx, void *router, unsigned max, uint64_t quiet_ms, int fd_limit,
                    mm_conntab_t **out);
/* Stop watching and free; before router is closed.  Accepts NULL. */
void mm_conntab_destroy(mm_conntab_t **self_p);

/* The socket that is readable when events wait: to poll with zmq_poll. */
void *mm_conntab_socket(mm_conntab_t *self);

/* Read every event that arrived; then close the oldest loose connections
 * beyond max, and the loose ones past their time. */
void mm_conntab_update(mm_conntab_t *self, uint64_t now);

/* A session now uses the connection of descriptor fd (a message's
 * ZMQ_SRCFD).  Returns its ticket for release and alive: 0 if fd is not a
 * connection this table knows (then both are no-ops that say "alive"). */
uint64_t mm_conntab_hold(mm_conntab_t *self, int fd);

/* The session that held (fd, ticket) is over: its connection is loose from
 * now, unless another session holds it too. */
void mm_conntab_release(mm_conntab_t *self, int fd, uint64_t ticket, uint64_t now);

/* 0 once the connection of (fd, ticket) is gone or being closed, else 1. */
int  mm_conntab_alive(const mm_conntab_t *self, int fd, uint64_t ticket);

const mm_conntab_stats_t *mm_conntab_stats(const mm_conntab_t *self);

#endif
