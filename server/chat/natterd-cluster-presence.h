/* natterd-cluster-presence.h: presence across the nodes of a cluster.
 *
 * A user's presence is the most available of all their connections, on
 * every node. Each node knows its own connections; it tells the others
 * what its connections add up to for a user whenever that changes (with
 * the status text and last_seen, which a presence event carries), and
 * every node keeps, per other node, the users that node has online. The
 * bus is the only carrier (presence is not durable): so every node says
 * "alive" every NATTERD_CLUSTER_PRESENCE_HEARTBEAT_MS, a node not heard
 * from for NATTERD_CLUSTER_PRESENCE_DEAD_MS is taken for dead and its
 * users go offline (with last_seen) unless they are connected elsewhere,
 * and a node that (re)joins the bus says hello with all its online users
 * and asks the others for theirs. Checked every
 * NATTERD_CLUSTER_PRESENCE_CHECK_MS: a killed node's users are offline
 * everywhere within DEAD + CHECK = 13 s at most (the bound the cluster
 * promises is 15 s).
 */
#pragma once

#include "natterd-bus.h"
#include "natterd-directory.h"

G_BEGIN_DECLS

#define NATTERD_CLUSTER_PRESENCE_HEARTBEAT_MS 3000
#define NATTERD_CLUSTER_PRESENCE_DEAD_MS      12000
#define NATTERD_CLUSTER_PRESENCE_CHECK_MS     1000
#define NATTERD_CLUSTER_CHANNEL_PRESENCE      "natter:presence"

typedef struct _NatterdClusterPresence NatterdClusterPresence;

NatterdClusterPresence *natterd_cluster_presence_new  (NatterdDirectory       *directory,
                                                       NatterdBus             *bus,
                                                       guint64                 instance);
void                    natterd_cluster_presence_free (NatterdClusterPresence *self);

/* The bus is up (again): hello to the others. */
void           natterd_cluster_presence_connected (NatterdClusterPresence *self);
/* The most available presence @user_id has on the other nodes. */
NatterPresence natterd_cluster_presence_elsewhere (NatterdClusterPresence *self,
                                                   gint64                  user_id);
/* What this node's connections add up to for @user changed
 * (user->presence_here), or its status text did: the others are told. */
void           natterd_cluster_presence_publish   (NatterdClusterPresence *self,
                                                   NatterdUser            *user);
/* The other nodes heard of within NATTERD_CLUSTER_PRESENCE_DEAD_MS: a set
 * of their instances (guint64*), to free with g_hash_table_unref. */
GHashTable    *natterd_cluster_presence_live_nodes (NatterdClusterPresence *self);
/* A publish on NATTERD_CLUSTER_CHANNEL_PRESENCE handed in as the bus
 * would (natterd_cluster_receive). */
void           natterd_cluster_presence_receive   (NatterdClusterPresence *self,
                                                   const guint8           *data,
                                                   gsize                   len);
/* A stop: the others are told that this node's users are gone from it. */
void           natterd_cluster_presence_leave     (NatterdClusterPresence *self);

G_END_DECLS
