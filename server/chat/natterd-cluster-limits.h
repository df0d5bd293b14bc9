/* natterd-cluster-limits.h: the limits the contract sets per user or per
 * address, counted across the nodes of a cluster.
 *
 * Each node keeps its own token buckets (natterd-token-bucket.h), which
 * alone would let a client spread over N nodes get N times its allowance.
 * So each use is also counted in Redis, in fixed windows of the limit's
 * length (a minute, an hour): INCRBY of "natter:limit:KIND:KEY:WINDOW",
 * which expires after two windows, with one INCRBY of a key in flight at
 * a time (the uses made meanwhile go in the next one). The reply is the
 * total over all nodes in this window and the one before; the two make a
 * sliding window (the one before counts for the part of it that the last
 * window's length still covers), and a node refuses once that estimate
 * has reached the limit. The main loop never waits for Redis: a check
 * looks at the last reply, so the cluster can overshoot a limit by the
 * uses in flight at that moment (about one round trip to Redis of them)
 * and by a node's first use of a key in a window (before it has heard the
 * total). A use whose next try must find it counted (a failed login) has
 * its answer held until Redis has counted it. The node's own buckets stay
 * as strict as on a single node; with the bus down, each node counts
 * alone.
 */
#pragma once

#include "natterd-bus.h"
#include "natterd-request.h"

G_BEGIN_DECLS

typedef struct _NatterdClusterLimits NatterdClusterLimits;

/* Entries of windows gone by are forgotten past this many. */
#define NATTERD_CLUSTER_LIMITS_PRUNE 16384

NatterdClusterLimits *natterd_cluster_limits_new  (NatterdBus *bus);
void                  natterd_cluster_limits_free (NatterdClusterLimits *self);

/* One use of the limit @kind ("sends-user", "failed-logins-user", …) by
 * @key, in windows of @window_s seconds. @answer, when not NULL, is held
 * (natterd_request_hold) until Redis has counted this use, or failed to:
 * for a use whose next try must find it counted (a failed login). @self
 * NULL: nothing. */
void   natterd_cluster_limits_count (NatterdClusterLimits *self,
                                     const char           *kind,
                                     const char           *key,
                                     guint                 window_s,
                                     NatterdRequest       *answer);
/* 0 when the cluster's total (as last heard) is below @limit; else the
 * milliseconds until the window ends. @limit 0: no limit. @self NULL: 0. */
gint64 natterd_cluster_limits_peek  (NatterdClusterLimits *self,
                                     const char           *kind,
                                     const char           *key,
                                     guint                 limit,
                                     guint                 window_s);

G_END_DECLS
