/* natterd-cluster-limits.h: the limits the contract sets per user or per
 * address, counted across the nodes of a cluster.
 *
 * Each node keeps its own token buckets (natterd-token-bucket.h), which
 * alone would let a client spread over N nodes get N times its allowance.
 * So each use is also counted in Redis, in fixed windows of the limit's
 * length (a minute, an hour): INCR of "natter:limit:KIND:KEY:WINDOW",
 * which expires after two windows (one INCRBY of a key in flight at a
 * time: the uses made while it is go in the next one). The reply is the total over all nodes;
 * a node refuses once the last total it heard for the window has reached
 * the limit. The main loop never waits for Redis: a check looks at the
 * last reply, so the cluster can overshoot a limit by the uses in flight
 * at that moment (about one round trip to Redis of them), and by one use
 * per node and key and window (a node's first, before it has heard the
 * total), and a window
 * boundary may let up to twice the limit through within one window's
 * length (fixed windows); the node's own buckets stay as strict as on a
 * single node. With the bus down, each node counts alone.
 */
#pragma once

#include "natterd-bus.h"

G_BEGIN_DECLS

typedef struct _NatterdClusterLimits NatterdClusterLimits;

/* Entries of windows gone by are forgotten past this many. */
#define NATTERD_CLUSTER_LIMITS_PRUNE 16384

NatterdClusterLimits *natterd_cluster_limits_new  (NatterdBus *bus);
void                  natterd_cluster_limits_free (NatterdClusterLimits *self);

/* One use of the limit @kind ("send", "failed-login-user", …) by @key,
 * in windows of @window_s seconds. @self NULL: nothing. */
void   natterd_cluster_limits_count (NatterdClusterLimits *self,
                                     const char           *kind,
                                     const char           *key,
                                     guint                 window_s);
/* 0 when the cluster's total (as last heard) is below @limit; else the
 * milliseconds until the window ends. @limit 0: no limit. @self NULL: 0. */
gint64 natterd_cluster_limits_peek  (NatterdClusterLimits *self,
                                     const char           *kind,
                                     const char           *key,
                                     guint                 limit,
                                     guint                 window_s);

G_END_DECLS
