/*  discover.h -- LAN discovery for mm serve --discover (private to net/):
 *  one plain UDP socket on MM_BEACON_PORT, which mm serve polls beside its
 *  ZeroMQ sockets.  It sends a round of beacons (core/beacon.h) to the
 *  IPv4 broadcast address of every interface that has one, and hands
 *  every datagram it receives to core, which says whether it was a beacon
 *  for this device and what it announced.  See PROTOCOL.md 7.1.
 */
#ifndef MM_DISCOVER_H
#define MM_DISCOVER_H

#include <stdint.h>
#include "core/beacon.h"
#include "net/net.h"

typedef struct mm_discover mm_discover_t;

/* Told of each beacon for this device: rc MM_OK if core accepted it (a
 * device of the person or of a peer, with a fresh statement; heard->stored
 * if it was newer than the one held), else why it refused it
 * (mm_beacon_rx_input's errors; at most one refusal per round is told,
 * suppressed says how many were not told since). */
typedef void (*mm_discover_fn)(void *arg, int rc, const mm_beacon_heard_t *heard,
                               unsigned long suppressed);

/* Open the socket (bound to 0.0.0.0:port, broadcast allowed, shared with
 * other processes on the same port) and plan the first round for now.
 * MM_OK; MM_ENOMEM; MM_EIO (errtext says why: the port cannot be bound). */
int mm_discover_new(mm_home_t *home, unsigned port, uint64_t interval_ms,
                    mm_serve_log_fn log, void *logarg, mm_discover_fn found, void *foundarg,
                    mm_discover_t **out, char *errtext, size_t errcap) MM_NODISCARD;
void mm_discover_destroy(mm_discover_t **d);

/* The descriptor to poll for input. */
int mm_discover_fd(const mm_discover_t *d);

/* Milliseconds from mono (mm_mono_ms) to the next round (0: due). */
uint64_t mm_discover_wait(const mm_discover_t *d, uint64_t mono);

/* Send a round if one is due at mono (mm_mono_ms: rounds keep their pace
 * whatever the wall clock does), its beacons dated now (the wall clock,
 * which receivers check them against): the keys are reloaded first (a new
 * peer, a block, a rekey count from the next round on). */
void mm_discover_tick(mm_discover_t *d, uint64_t mono, uint64_t now);

/* Read what arrived (at most a bounded number of datagrams per call; the
 * rest waits for the next poll). */
void mm_discover_input(mm_discover_t *d, uint64_t now);

#endif
