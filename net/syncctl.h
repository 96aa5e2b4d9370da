/*  syncctl.h -- how one sync is driven: alone (mm_net_sync) or as one of
 *  several at once (many.c).  Private to net/. */
#ifndef MM_NET_SYNCCTL_H
#define MM_NET_SYNCCTL_H

#include <pthread.h>
#include "net/net.h"

typedef struct {
    pthread_mutex_t *lock;          /* held around every touch of the store, or NULL */
    mm_sync_stats_t *live;          /* the session's stats so far (under the lock), or NULL */
    mm_net_tried_fn  tried;         /* or NULL */
    void            *arg;
} mm_net_ctl_t;

/* mm_net_sync, driven by ctl (NULL: as mm_net_sync).  Same errors. */
int mm_net_sync_ctl(mm_home_t *home, const mm_peer_t *p, int timeout_ms,
                    mm_sync_stats_t *stats, mm_news_runs_t *runs, const mm_net_ctl_t *ctl,
                    char *errtext, size_t errcap) MM_NODISCARD;

#endif
