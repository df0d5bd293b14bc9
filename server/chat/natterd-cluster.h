/* natterd-cluster.h: this node's part in a cluster of natterd nodes that
 * share one PostgreSQL database and one Redis bus (docs/cluster.md).
 *
 * The database is the truth; the bus only makes it fast. After each
 * commit a node publishes the messages it stored, once per batch (not per
 * recipient), and every node hands its own and the others' messages to
 * its connections in id order through a NatterdStream: a run that comes
 * ahead of an id still missing waits a moment for the bus, then the gap
 * is read from the database. A node that may have missed bus traffic (the
 * bus came back, or just now and then) asks the database how far it goes
 * and reads what it lacks. So a lost publish, a Redis restart or a node
 * that dies between its commit and its publish cost latency, never a
 * message. A change of the directory (a room joined, a contact accepted)
 * rings the other nodes too, and they read it from the database
 * (natterd-directory-refresh.h).
 */
#pragma once

#include "natterd-cluster-limits.h"
#include "natterd-cluster-presence.h"
#include "natterd-directory.h"

G_BEGIN_DECLS

/* How often a node asks the database how far the messages go, in case
 * the bus lost something and nothing since has shown the gap. */
#define NATTERD_CLUSTER_CATCH_UP_MS   1000
/* Messages read at most per query when a gap is read. */
#define NATTERD_CLUSTER_GAP_PAGE      1000
/* A publish carries at most about this many bytes of messages; a bigger
 * batch goes in several. */
#define NATTERD_CLUSTER_PUBLISH_BYTES (1024 * 1024)
/* A failed read of a gap is tried again after this long. */
#define NATTERD_CLUSTER_READ_RETRY_MS 500

/* How long a change of the directory waits for the other nodes to have
 * read it before it is answered anyway (a node that is slow or gone). */
#define NATTERD_CLUSTER_DIRECTORY_WAIT_MS 2000

/* At a stop, the last publishes (this node leaving) get this long to
 * reach Redis. */
#define NATTERD_CLUSTER_STOP_PUSH_MS  500

/* The bus channels. */
#define NATTERD_CLUSTER_CHANNEL_MESSAGES  "natter:messages"
#define NATTERD_CLUSTER_CHANNEL_DIRECTORY "natter:directory"
#define NATTERD_CLUSTER_CHANNEL_EVENTS    "natter:events"

/* Joins the bus of @config (config->bus must be set) and starts the
 * stream at the last message committed now: what commits later reaches
 * this node's connections. */
NatterdCluster *natterd_cluster_new   (NatterdDirectory    *directory,
                                       const NatterdConfig *config,
                                       GError             **error);
/* At a stop, before the pipelines flush: leaves the bus and hands
 * everything held to the commit; from then on sends are delivered
 * straight away. */
void            natterd_cluster_stop  (NatterdCluster      *self);
/* After the reader thread is gone. */
void            natterd_cluster_free  (NatterdCluster      *self);

/* A send of this node's committed as @m (the send's own memory; with its
 * reply's quote and mentions when it has them); @send is handed back to natterd_commit_deliver_own() in id order. */
void            natterd_cluster_own_committed (NatterdCluster            *self,
                                               const NatterdStoreMessage *m,
                                               gint64                     peer_id,
                                               gpointer                   send);
/* A change of a message this node committed (natterd-handlers-actions.c):
 * published with the batch's messages, and @func (@own, …) called in id
 * order, as a send is delivered; @delivered_already when a read of the
 * database brought it to this node's connections first (only the answer
 * is left). @change is borrowed. */
typedef void (*NatterdClusterOwnFunc) (gpointer own,
                                       gboolean delivered_already);
void            natterd_cluster_own_change (NatterdCluster           *self,
                                            const NatterdStoreChange *change,
                                            NatterdClusterOwnFunc     func,
                                            gpointer                  own);
/* Delivers what waits for a gap now (at a stop). */
void            natterd_cluster_flush (NatterdCluster      *self);
/* This node committed a change of the directory: the others are told to
 * read it. With @request (about to be answered), its answer is held
 * until every other node known to be alive says it has read the change,
 * or NATTERD_CLUSTER_DIRECTORY_WAIT_MS has passed: a client told "done"
 * finds the change on any node (a member it added is in room_members
 * there). @self NULL: a single node, nothing to do. */
void            natterd_cluster_directory_changed (NatterdCluster *self,
                                                   NatterdRequest *request);
/* The same for a change whose answer is not a NatterdRequest's (natterctl's):
 * @confirmed (@data) is called once the others confirmed or the wait is
 * over, at once on a single node (@self NULL) or with no other node alive. */
void            natterd_cluster_directory_changed_then (NatterdCluster *self,
                                                        GDestroyNotify  confirmed,
                                                        gpointer        data);

/* A typing notice (into the room @conversation_id, or to @peer_id) or a
 * moved read marker, told here already: the other nodes tell their
 * connections (natterd-handlers.h). @self NULL: a single node, nothing
 * to do. */
void            natterd_cluster_relay_typing (NatterdCluster *self,
                                              gint64          conversation_id,
                                              gint64          peer_id,
                                              gint64          user_id,
                                              gboolean        active);
void            natterd_cluster_relay_read   (NatterdCluster *self,
                                              gint64          conversation_id,
                                              gint64          user_id,
                                              gint64          up_to);
/* @user_id's notification level of a conversation changed here (@peer_id:
 * the other user of a direct one, 0 for a room): told to the user's
 * connections on the other nodes. */
void            natterd_cluster_relay_notify_level (NatterdCluster *self,
                                                    gint64          conversation_id,
                                                    gint64          user_id,
                                                    gint64          peer_id,
                                                    int             level);
/* @user_id's token of SHA-256 @hash was revoked here (a logout; its row
 * is gone): the other nodes drop it from their token caches and close
 * their connections that logged in with it. Told over the bus only: a
 * node that misses it keeps the token in its cache until it restarts
 * or the cache is emptied (docs/cluster.md, "Failures"). */
void            natterd_cluster_relay_revoked (NatterdCluster *self,
                                               gint64          user_id,
                                               const guint8   *hash);

/* @by_id changed the room @conversation_id about @user_id (0: the room
 * itself; @removal: a kick or ban, or the room deleted), committed here:
 * said to the other nodes before the notice that makes them read it,
 * since the store does not say who, nor a kick from a leave
 * (natterd-room-diff.h). */
void            natterd_cluster_relay_room_change (NatterdCluster *self,
                                                   gint64          conversation_id,
                                                   gint64          user_id,
                                                   gboolean        removal,
                                                   gint64          by_id);

/* What the bus brings on @channel, handed in as the bus would: for the
 * fuzz target (tests/fuzz/fuzz-cluster-bus.c), which plays a hostile
 * Redis. */
void            natterd_cluster_receive (NatterdCluster *self,
                                         const char     *channel,
                                         const guint8   *data,
                                         gsize           len);

/* The limits counted across the nodes (natterd-cluster-limits.h). */
NatterdClusterLimits *natterd_cluster_get_limits (NatterdCluster *self);
/* TRUE while this node may not have heard of another node's change of
 * the directory: the bus was down, and no refresh has read the directory
 * since it came back (a user registered through another node meanwhile
 * is not known here yet). FALSE for NULL (a single node). */
gboolean        natterd_cluster_directory_may_lag (NatterdCluster *self);

/* Presence across the nodes (natterd-cluster-presence.h). */
NatterdClusterPresence *natterd_cluster_get_presence (NatterdCluster *self);

G_END_DECLS
