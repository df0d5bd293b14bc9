/* natterd-cluster.c: a node of a natterd cluster (see natterd-cluster.h).
 *
 * What goes on the bus, on NATTERD_CLUSTER_CHANNEL_MESSAGES: the messages
 * and the changes of messages (edit, delete, reaction) of one or more
 * batches a node committed, in id order, as
 *
 *   "NTM2"  instance u64
 *   then a record per message or change (natterd-cluster-records.h)
 *
 * all little-endian. The instance is a random number a node draws at
 * start: it skips its own publishes (its node name may be reused by a
 * restarted node, whose publishes are not its own). A message's record
 * names the peer, so that a node delivers the first message of a direct
 * conversation it has not heard of, and carries its reply's quote and
 * mentions; a change's carries the message as it is after the change. A
 * publish is cut into runs of consecutive ids for the stream: ids that
 * follow each other leave no room for another node's, and a run must
 * hold none of another's (natterd-stream.h). Changes take ids of the
 * message sequence, so they go through the stream as messages do, and a
 * read of a gap reads both.
 *
 * On NATTERD_CLUSTER_CHANNEL_DIRECTORY: "NTD1", the instance and a
 * sequence number u64: "I changed the directory, read it"; and "NTK1",
 * the instance, then the instance and sequence number of such a notice:
 * "I have read it" (natterd_cluster_directory_changed waits for these).
 *
 * On NATTERD_CLUSTER_CHANNEL_EVENTS, what is told and never stored:
 * "NTE1", the instance, then 'T' (typing): conversation u64 (0: direct),
 * peer u64, user u64, active u8; or 'R' (a read marker moved, for the
 * user's other devices and the others in the conversation):
 * conversation u64, user u64, up_to u64; or 'X' (a token revoked by a
 * logout): user u64, the token's SHA-256 (32 bytes); or 'N' (a
 * notification level set, for the user's other devices): conversation
 * u64, user u64, peer u64 (the other user of a direct conversation; 0:
 * a room), level u8; or 'K' (who made a change of a room, said before
 * its directory notice: natterd-room-diff.h): conversation u64, user u64
 * (0: the room itself), by u64, removal u8 (1: a member or the room taken
 * out).
 *
 * A node's own sends and changes go into the stream one a run: its writer's
 * completions of two batches may come together, and another node's
 * transaction may sit between them.
 */
#define G_LOG_DOMAIN "natterd-cluster"

#include "config.h"

#include <string.h>
#include <unistd.h>

#include "natterd-room-diff.h"
#include "natterd-auth.h"
#include "natterd-bus.h"
#include "natterd-cluster.h"
#include "natterd-cluster-presence.h"
#include "natterd-cluster-records.h"
#include "natterd-cluster-wire.h"
#include "natterd-commit.h"
#include "natterd-directory-refresh.h"
#include "natterd-handlers.h"
#include "natterd-reads.h"
#include "natterd-stream.h"

#define MAGIC_MESSAGES  "NTM2"
#define MAGIC_DIRECTORY "NTD1"
#define MAGIC_EVENTS    "NTE1"
#define MAGIC_ACK       "NTK1"
#define HEADER_LEN      NATTERD_WIRE_HEADER_LEN

struct _NatterdCluster {
  NatterdDirectory *directory;      /* borrowed; owns this */
  NatterdBus       *bus;
  char             *node_name;
  guint64           instance;
  NatterdStream    *stream;
  NatterdClusterPresence *presence;
  NatterdClusterLimits   *limits;
  gboolean          stopped;

  guint64           directory_seq;   /* changes of the directory this node told */
  GHashTable       *directory_waits; /* seq -> DirectoryWait */
  GArray           *acks_due;        /* AckDue */
  GQueue            held;            /* Held: delivered here once the directory knows */
  gint64            refreshes_done;  /* of the directory, as its done function said */
  gboolean          directory_may_lag; /* the bus was down since the last refresh */
  gint64            lag_ends_with_run; /* the refresh asked for when it came back */

  GByteArray       *outgoing;       /* records waiting to be published */
  guint             publish_source;

  guint             catch_up_source;
  gboolean          catch_up_reading;
  guint             read_retry_source;
  gint64            read_after;     /* the gap being read */
  gint64            read_before;

  guint64           published;      /* messages */
  guint64           received;       /* messages of other nodes off the bus */
};

/* Another node's message or change of a message (off the bus or read
 * from the database). */
typedef struct {
  gint64               id;
  NatterdStoreMessage *message;  /* a message, or NULL */
  gint64               peer_id;  /* its direct conversation's other user: 0 when not known */
  NatterdStoreChange  *change;   /* a change, or NULL */
} Item;

/* NULL-safe: a run's array keeps the holes of the items taken from it. */
static void
item_free (Item *item)
{
  if (item == NULL)
    return;
  g_free (item->message);
  natterd_store_change_free (item->change);
  g_free (item);
}

static Item *
item_new (gint64                     id,
          const NatterdStoreMessage *message,
          gint64                     peer_id,
          const NatterdStoreChange  *change)
{
  Item *item = g_new0 (Item, 1);

  item->id = id;
  item->message = message != NULL ? natterd_store_message_copy (message) : NULL;
  item->peer_id = peer_id;
  item->change = change != NULL ? natterd_store_change_copy (change) : NULL;
  return item;
}

/* What the stream holds: one send or change of this node's, or items of
 * others. */
typedef struct {
  NatterdClusterOwnFunc own_func;
  gpointer              own;      /* the commit's send, or the handler's change */
  gint64                own_id;
  GPtrArray            *items;    /* Item*, ascending ids */
} Run;

static void
run_free (Run *run)
{
  if (run->items != NULL)
    g_ptr_array_unref (run->items);
  g_free (run);
}

static Run *
run_new_foreign (void)
{
  Run *run = g_new0 (Run, 1);

  run->items = g_ptr_array_new_with_free_func ((GDestroyNotify) item_free);
  return run;
}

static gint64
run_last_id (Run *run)
{
  return ((Item *) run->items->pdata[run->items->len - 1])->id;
}

/* Another node changed the directory (or this node may have missed
 * that it did): read it again. Coalesced there. */
static gint64
refresh_directory (NatterdCluster *self)
{
  return natterd_directory_refresh (self->directory);
}

/* --- delivery, in id order --- */

/* What the stream delivered but this node could not hand on yet: another
 * node's message whose sender or conversation the directory does not
 * have (made on that node a moment ago), and everything after it. It
 * waits for one refresh of the directory: skipped, a later message's
 * event would move its clients' position past it for good. */
typedef struct {
  NatterdClusterOwnFunc own_func;          /* a send or change of this node's, or NULL */
  gpointer              own;
  gboolean              delivered_already;
  Item                 *item;              /* another node's */
  gint64                refresh_run;       /* the refresh it waits for; 0: none yet */
} Held;

static void
held_free (Held *held)
{
  item_free (held->item);
  g_free (held);
}

/* A change another node made, told in its turn among the deliveries. */
typedef struct {
  NatterdDirectory   *directory;
  NatterdStoreChange *change;
} ForeignChange;

static void
tell_foreign_change (gpointer data)
{
  ForeignChange *f = data;

  natterd_tell_change (f->directory, f->change, NULL);
  natterd_store_change_free (f->change);
  g_free (f);
}

/* Hands another node's @item to this node's connections. FALSE when the
 * directory does not know whom or where it names (yet). */
static gboolean
deliver_item (NatterdCluster *self,
              Item           *item)
{
  NatterdDirectory *dir = self->directory;
  ForeignChange *f;

  if (item->message != NULL)
    return natterd_commit_deliver_foreign (dir->commit, item->message, item->peer_id);
  if (natterd_directory_find_conversation (dir, item->change->conversation_id) == NULL ||
      natterd_directory_find_user_id (dir, item->change->actor_id) == NULL)
    return FALSE;
  f = g_new0 (ForeignChange, 1);
  f->directory = dir;
  f->change = g_steal_pointer (&item->change);
  natterd_commit_deliver_in_turn (dir->commit, tell_foreign_change, f);
  return TRUE;
}

/* Hands on what waits, in order, until a message still cannot go: then
 * one more refresh is asked for, or, after one, it is given up (clients
 * find it when they sync; it is logged). */
static void
drain_held (NatterdCluster *self)
{
  Held *held;

  while ((held = g_queue_peek_head (&self->held)) != NULL)
    {
      if (held->own_func != NULL)
        held->own_func (held->own, held->delivered_already || self->stopped);
      else if (self->stopped || !deliver_item (self, held->item))
        {
          /* Once: a refresh that reads after this moment. */
          if (!self->stopped && held->refresh_run == 0 &&
              (held->refresh_run = natterd_directory_refresh (self->directory)) > 0)
            return;
          if (!self->stopped && held->refresh_run > self->refreshes_done)
            return;
          g_message ("Message or change %" G_GINT64_FORMAT " of another node names a user or "
                     "conversation this node does not know; its clients get it when they sync",
                     held->item->id);
        }
      held_free (g_queue_pop_head (&self->held));
    }
}

/* Takes @item. */
static void
hold (NatterdCluster        *self,
      NatterdClusterOwnFunc  own_func,
      gpointer               own,
      gboolean               delivered_already,
      Item                  *item)
{
  Held *held = g_new0 (Held, 1);

  held->own_func = own_func;
  held->own = own;
  held->delivered_already = delivered_already;
  held->item = item;
  g_queue_push_tail (&self->held, held);
}

static void
deliver_cb (gpointer run_data,
            gint64   from_id,
            gpointer user_data)
{
  NatterdCluster *self = user_data;
  Run *run = run_data;

  if (run->own_func != NULL)
    {
      /* from_id past it: a read of a gap brought it first (or, at a stop,
       * it waited behind a gap: answered, not fanned out). */
      if (g_queue_is_empty (&self->held))
        run->own_func (run->own, from_id > run->own_id);
      else
        hold (self, run->own_func, run->own, from_id > run->own_id, NULL);
      run_free (run);
      return;
    }
  for (guint i = 0; i < run->items->len; i++)
    {
      Item *item = run->items->pdata[i];

      if (item->id < from_id)
        continue;
      if (!g_queue_is_empty (&self->held) || !deliver_item (self, item))
        hold (self, NULL, NULL, FALSE, g_steal_pointer (&run->items->pdata[i]));
    }
  run_free (run);
  drain_held (self);
}

/* --- the bus's wire --- */

static void
publish_outgoing (NatterdCluster *self)
{
  if (self->outgoing->len > HEADER_LEN)
    natterd_bus_publish (self->bus, NATTERD_CLUSTER_CHANNEL_MESSAGES,
                         self->outgoing->data, self->outgoing->len);
  /* Dropped (the bus is down, or over its cap): the others read it from
   * the database when they see the gap or catch up. */
  g_byte_array_set_size (self->outgoing, 0);
}

static gboolean
publish_cb (gpointer user_data)
{
  NatterdCluster *self = user_data;

  self->publish_source = 0;
  publish_outgoing (self);
  return G_SOURCE_REMOVE;
}

/* A message (@change NULL) or a change of one, into the next publish. */
static void
queue_publish (NatterdCluster            *self,
               const NatterdStoreMessage *m,
               gint64                     peer_id,
               const NatterdStoreChange  *change)
{
  gsize size = natterd_cluster_record_size (change != NULL ? &change->message : m);

  if (self->outgoing->len > 0 && self->outgoing->len + size > NATTERD_CLUSTER_PUBLISH_BYTES)
    publish_outgoing (self);
  if (self->outgoing->len == 0)
    natterd_wire_put_header (self->outgoing, MAGIC_MESSAGES, self->instance);
  if (change != NULL)
    natterd_cluster_record_put_change (self->outgoing, change);
  else
    natterd_cluster_record_put_message (self->outgoing, m, peer_id);
  self->published++;
  /* The writer hands back a batch's sends in one go: they leave in one
   * publish, right after. */
  if (self->publish_source == 0)
    {
      /* The sockets' and the deliveries' priority: under a sustained
       * fan-out a lower one would wait, and the others would read from
       * the database what the bus was slow to bring. */
      self->publish_source = g_idle_add_full (G_PRIORITY_DEFAULT, publish_cb, self, NULL);
      g_source_set_name_by_id (self->publish_source, "natterd-cluster-publish");
    }
}

/* Hands @run (items of consecutive ids) to the stream. */
static void
add_foreign_run (NatterdCluster *self,
                 Run            *run)
{
  natterd_stream_add (self->stream, ((Item *) run->items->pdata[0])->id, run_last_id (run), run);
}

/* What a publish is cut into as its records are read. */
typedef struct {
  NatterdCluster *cluster;
  Run            *run;
  gint64          previous;
} Cutting;

static void
record_cb (gint64                     id,
           const NatterdStoreMessage *message,
           gint64                     peer_id,
           const NatterdStoreChange  *change,
           gpointer                   user_data)
{
  Cutting *c = user_data;

  /* A run ends where the ids stop following each other. */
  if (c->run != NULL && id != c->previous + 1)
    add_foreign_run (c->cluster, g_steal_pointer (&c->run));
  if (c->run == NULL)
    c->run = run_new_foreign ();
  g_ptr_array_add (c->run->items, item_new (id, message, peer_id, change));
  c->previous = id;
  c->cluster->received++;
}

static void
messages_cb (NatterdBus   *bus,
             const char   *channel,
             const guint8 *data,
             gsize         len,
             gpointer      user_data)
{
  NatterdCluster *self = user_data;
  Cutting cutting = { self, NULL, 0 };
  gboolean whole;

  if (len < HEADER_LEN || memcmp (data, MAGIC_MESSAGES, 4) != 0)
    {
      g_message ("A publish on %s that is not of this version; ignored", channel);
      return;
    }
  if (natterd_wire_get_u64 (data + 4) == self->instance || self->stopped)
    return;

  whole = natterd_cluster_records_read (data + HEADER_LEN, len - HEADER_LEN, record_cb, &cutting);
  if (cutting.run != NULL)
    add_foreign_run (self, cutting.run);
  if (!whole)
    g_message ("A publish on %s cut short or out of order; the rest is read from the database", channel);
}

/* A change another node waits for us to have read (see
 * natterd_cluster_directory_changed): confirmed once the refresh run
 * that covers it is done. */
typedef struct {
  guint64 instance;
  guint64 seq;
  gint64  run;
} AckDue;

/* This node's change, waiting for the others to confirm. */
typedef struct {
  NatterdCluster *cluster;
  guint64         seq;
  GDestroyNotify  confirmed; /* called with data when done waiting */
  gpointer        data;
  GHashTable     *waiting;  /* guint64* instances that have not confirmed */
  guint           timeout;
} DirectoryWait;

static void
directory_wait_finish (DirectoryWait *wait)
{
  g_hash_table_remove (wait->cluster->directory_waits, &wait->seq);
}

static void
directory_wait_free (DirectoryWait *wait)
{
  g_clear_handle_id (&wait->timeout, g_source_remove);
  wait->confirmed (wait->data);
  g_hash_table_unref (wait->waiting);
  g_free (wait);
}

static gboolean
directory_wait_timeout_cb (gpointer user_data)
{
  DirectoryWait *wait = user_data;

  wait->timeout = 0;
  g_message ("%u nodes did not confirm a change of the directory within %u ms; answered anyway",
             g_hash_table_size (wait->waiting), NATTERD_CLUSTER_DIRECTORY_WAIT_MS);
  directory_wait_finish (wait);
  return G_SOURCE_REMOVE;
}

static void
publish_ack (NatterdCluster *self,
             const AckDue   *due)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();

  natterd_wire_put_header (out, MAGIC_ACK, self->instance);
  natterd_wire_put_u64 (out, due->instance);
  natterd_wire_put_u64 (out, due->seq);
  natterd_bus_publish (self->bus, NATTERD_CLUSTER_CHANNEL_DIRECTORY, out->data, out->len);
}

static void
refresh_done_cb (NatterdDirectory *directory,
                 gint64            completed,
                 gpointer          user_data)
{
  NatterdCluster *self = user_data;
  guint i = 0;

  self->refreshes_done = completed;
  if (self->directory_may_lag && self->lag_ends_with_run > 0 && completed >= self->lag_ends_with_run &&
      natterd_bus_is_connected (self->bus))
    self->directory_may_lag = FALSE;
  drain_held (self);
  while (i < self->acks_due->len)
    {
      AckDue *due = &g_array_index (self->acks_due, AckDue, i);

      if (due->run <= completed)
        {
          publish_ack (self, due);
          g_array_remove_index (self->acks_due, i);
        }
      else
        i++;
    }
}

static void
directory_cb (NatterdBus   *bus,
              const char   *channel,
              const guint8 *data,
              gsize         len,
              gpointer      user_data)
{
  NatterdCluster *self = user_data;
  guint64 sender;

  if (self->stopped)
    return;
  if (natterd_wire_check_header (data, len, MAGIC_DIRECTORY, &sender) &&
      len == HEADER_LEN + 8)
    {
      AckDue due = { sender, natterd_wire_get_u64 (data + HEADER_LEN), 0 };

      if (sender == self->instance)
        return;
      due.run = natterd_directory_refresh (self->directory);
      /* Nothing to read (no shared store): nothing to wait for. */
      if (due.run == 0)
        publish_ack (self, &due);
      else
        g_array_append_val (self->acks_due, due);
    }
  else if (natterd_wire_check_header (data, len, MAGIC_ACK, &sender) &&
           len == HEADER_LEN + 16)
    {
      guint64 target = natterd_wire_get_u64 (data + HEADER_LEN);
      guint64 seq = natterd_wire_get_u64 (data + HEADER_LEN + 8);
      DirectoryWait *wait;

      if (target != self->instance ||
          (wait = g_hash_table_lookup (self->directory_waits, &seq)) == NULL)
        return;
      g_hash_table_remove (wait->waiting, &sender);
      if (g_hash_table_size (wait->waiting) == 0)
        directory_wait_finish (wait);
    }
  else
    g_message ("A publish on %s that is not of this version; ignored", channel);
}

void
natterd_cluster_directory_changed (NatterdCluster *self,
                                   NatterdRequest *request)
{
  if (request != NULL)
    natterd_request_hold (request);
  natterd_cluster_directory_changed_then (self, request != NULL ? (GDestroyNotify) natterd_request_release : NULL,
                                          request);
}

void
natterd_cluster_directory_changed_then (NatterdCluster *self,
                                        GDestroyNotify  confirmed,
                                        gpointer        data)
{
  g_autoptr(GByteArray) notice = NULL;
  DirectoryWait *wait;

  if (self == NULL || self->stopped)
    goto done;
  notice = g_byte_array_new ();
  natterd_wire_put_header (notice, MAGIC_DIRECTORY, self->instance);
  natterd_wire_put_u64 (notice, ++self->directory_seq);
  if (!natterd_bus_publish (self->bus, NATTERD_CLUSTER_CHANNEL_DIRECTORY, notice->data, notice->len) ||
      confirmed == NULL)
    goto done;

  wait = g_new0 (DirectoryWait, 1);
  wait->cluster = self;
  wait->seq = self->directory_seq;
  wait->waiting = natterd_cluster_presence_live_nodes (self->presence);
  if (g_hash_table_size (wait->waiting) == 0)
    {
      g_hash_table_unref (wait->waiting);
      g_free (wait);
      goto done;
    }
  wait->confirmed = confirmed;
  wait->data = data;
  wait->timeout = g_timeout_add (NATTERD_CLUSTER_DIRECTORY_WAIT_MS, directory_wait_timeout_cb, wait);
  g_hash_table_insert (self->directory_waits, g_memdup2 (&wait->seq, sizeof wait->seq), wait);
  return;

done:
  if (confirmed != NULL)
    confirmed (data);
}

void
natterd_cluster_relay_typing (NatterdCluster *self,
                              gint64          conversation_id,
                              gint64          peer_id,
                              gint64          user_id,
                              gboolean        active)
{
  g_autoptr(GByteArray) out = NULL;

  if (self == NULL || self->stopped)
    return;
  out = natterd_wire_begin (MAGIC_EVENTS, self->instance, 'T');
  natterd_wire_put_u64 (out, conversation_id);
  natterd_wire_put_u64 (out, peer_id);
  natterd_wire_put_u64 (out, user_id);
  g_byte_array_append (out, (const guint8 *) &(guint8) { active ? 1 : 0 }, 1);
  natterd_bus_publish (self->bus, NATTERD_CLUSTER_CHANNEL_EVENTS, out->data, out->len);
}

void
natterd_cluster_relay_read (NatterdCluster *self,
                            gint64          conversation_id,
                            gint64          user_id,
                            gint64          up_to)
{
  g_autoptr(GByteArray) out = NULL;

  if (self == NULL || self->stopped)
    return;
  out = natterd_wire_begin (MAGIC_EVENTS, self->instance, 'R');
  natterd_wire_put_u64 (out, conversation_id);
  natterd_wire_put_u64 (out, user_id);
  natterd_wire_put_u64 (out, up_to);
  natterd_bus_publish (self->bus, NATTERD_CLUSTER_CHANNEL_EVENTS, out->data, out->len);
}

void
natterd_cluster_relay_revoked (NatterdCluster *self,
                               gint64          user_id,
                               const guint8   *hash)
{
  g_autoptr(GByteArray) out = NULL;

  if (self == NULL || self->stopped)
    return;
  out = natterd_wire_begin (MAGIC_EVENTS, self->instance, 'X');
  natterd_wire_put_u64 (out, user_id);
  g_byte_array_append (out, hash, NATTERD_TOKEN_HASH_LEN);
  natterd_bus_publish (self->bus, NATTERD_CLUSTER_CHANNEL_EVENTS, out->data, out->len);
}

void
natterd_cluster_relay_room_change (NatterdCluster *self,
                                   gint64          conversation_id,
                                   gint64          user_id,
                                   gboolean        removal,
                                   gint64          by_id)
{
  g_autoptr(GByteArray) out = NULL;

  if (self == NULL || self->stopped)
    return;
  out = natterd_wire_begin (MAGIC_EVENTS, self->instance, 'K');
  natterd_wire_put_u64 (out, conversation_id);
  natterd_wire_put_u64 (out, user_id);
  natterd_wire_put_u64 (out, by_id);
  g_byte_array_append (out, (const guint8 *) &(guint8) { removal ? 1 : 0 }, 1);
  natterd_bus_publish (self->bus, NATTERD_CLUSTER_CHANNEL_EVENTS, out->data, out->len);
}

/* Typing, read markers, notification levels, who changed a room: live only. One lost
 * with the bus is not recovered (a typing notice is stale by then; a read
 * marker and a level are in the database, and a client finds them in the
 * conversation list). */
static void
events_cb (NatterdBus   *bus,
           const char   *channel,
           const guint8 *data,
           gsize         len,
           gpointer      user_data)
{
  NatterdCluster *self = user_data;
  NatterdDirectory *dir = self->directory;
  const guint8 *p = data + HEADER_LEN + 1;
  guint64 sender;

  if (!natterd_wire_check_header (data, len, MAGIC_EVENTS, &sender) || len < HEADER_LEN + 1)
    {
      g_message ("A publish on %s that is not of this version; ignored", channel);
      return;
    }
  if (sender == self->instance || self->stopped)
    return;
  if (data[HEADER_LEN] == 'T' && len == HEADER_LEN + 1 + 3 * 8 + 1)
    {
      NatterdConversation *conv = natterd_directory_find_conversation (dir, (gint64) natterd_wire_get_u64 (p));
      NatterdUser *peer = natterd_directory_find_user_id (dir, (gint64) natterd_wire_get_u64 (p + 8));
      NatterdUser *user = natterd_directory_find_user_id (dir, (gint64) natterd_wire_get_u64 (p + 16));
      gboolean active = p[24] != 0;

      if (user == NULL)
        return;
      if (conv != NULL && conv->kind == NATTERD_CONVERSATION_ROOM)
        natterd_tell_typing (conv, NULL, user, active);
      else if (peer != NULL)
        natterd_tell_typing (NULL, peer, user, active);
    }
  else if (data[HEADER_LEN] == 'R' && len == HEADER_LEN + 1 + 3 * 8)
    {
      NatterdConversation *conv = natterd_directory_find_conversation (dir, (gint64) natterd_wire_get_u64 (p));
      NatterdUser *user = natterd_directory_find_user_id (dir, (gint64) natterd_wire_get_u64 (p + 8));

      if (conv != NULL && user != NULL)
        natterd_tell_read (conv, user, (gint64) natterd_wire_get_u64 (p + 16));
    }
  else if (data[HEADER_LEN] == 'N' && len == HEADER_LEN + 1 + 3 * 8 + 1 && p[24] <= NATTERD_NOTIFY_NONE)
    {
      gint64 conversation_id = (gint64) natterd_wire_get_u64 (p);
      NatterdConversation *conv = natterd_directory_find_conversation (dir, conversation_id);
      NatterdUser *user = natterd_directory_find_user_id (dir, (gint64) natterd_wire_get_u64 (p + 8));
      NatterdUser *peer = natterd_directory_find_user_id (dir, (gint64) natterd_wire_get_u64 (p + 16));

      /* A direct conversation made by the level itself on that node. */
      if (conv == NULL && user != NULL && peer != NULL && conversation_id > 0)
        conv = natterd_directory_note_direct (dir, conversation_id, user, peer);
      if (conv != NULL && user != NULL)
        natterd_tell_notify_level (conv, user, (NatterdNotifyLevel) p[24], NULL);
    }
  else if (data[HEADER_LEN] == 'K' && len == HEADER_LEN + 1 + 3 * 8 + 1)
    natterd_room_note_change (dir, (gint64) natterd_wire_get_u64 (p), (gint64) natterd_wire_get_u64 (p + 8),
                              p[24] != 0, (gint64) natterd_wire_get_u64 (p + 16));
  else if (data[HEADER_LEN] == 'X' && len == HEADER_LEN + 1 + 8 + NATTERD_TOKEN_HASH_LEN &&
           dir->auth != NULL)
    natterd_auth_forget_token (dir->auth,
                               natterd_directory_find_user_id (dir, (gint64) natterd_wire_get_u64 (p)),
                               p + 8);
  else
    g_message ("A publish on %s of an unknown kind or size; ignored", channel);
}

/* --- reads from the database --- */

typedef struct {
  NatterdWriteJob  job;
  NatterdCluster  *cluster;
  gint64           after;
  gint64           before;
  Run             *run;
  gint64           page_end;        /* a full page: its last id; 0: the gap is read */
  gint64           committed_up_to; /* how far the messages go, read after them */
} ClusterRead;

static gboolean
copy_message_cb (const NatterdStoreMessage *m,
                 gpointer                   user_data)
{
  g_ptr_array_add (user_data, item_new (m->id, m, 0, NULL));
  return TRUE;
}

static gboolean
copy_change_cb (const NatterdStoreChange *change,
                gpointer                  user_data)
{
  g_ptr_array_add (user_data, item_new (change->id, NULL, 0, change));
  return TRUE;
}

static gint
item_compare (gconstpointer a,
              gconstpointer b)
{
  gint64 x = (*(Item *const *) a)->id, y = (*(Item *const *) b)->id;

  return x < y ? -1 : x > y;
}

/* The messages and the changes of a page, merged in id order into
 * @run. A page is NATTERD_CLUSTER_GAP_PAGE of each at most: when either
 * list is full, the page ends at the lower of the two lists' last ids
 * (what lies beyond it in the other list is read with the next page);
 * *@out_page_end is then that id, else 0. */
static void
merge_page (Run       *run,
            GPtrArray *messages,
            GPtrArray *changes,
            gint64    *out_page_end)
{
  gint64 end = G_MAXINT64;

  if (messages->len == NATTERD_CLUSTER_GAP_PAGE)
    end = ((Item *) messages->pdata[messages->len - 1])->id;
  if (changes->len == NATTERD_CLUSTER_GAP_PAGE)
    end = MIN (end, ((Item *) changes->pdata[changes->len - 1])->id);
  for (GPtrArray *list = messages; list != NULL; list = list == messages ? changes : NULL)
    for (guint i = 0; i < list->len; i++)
      if (((Item *) list->pdata[i])->id <= end)
        g_ptr_array_add (run->items, g_steal_pointer (&list->pdata[i]));
  g_ptr_array_sort (run->items, item_compare);
  *out_page_end = end < G_MAXINT64 ? end : 0;
}

static gboolean
gap_read_run (NatterdWriteJob *job,
              NatterdStore    *store,
              GError         **error)
{
  ClusterRead *r = (ClusterRead *) job;
  g_autoptr(GPtrArray) messages = g_ptr_array_new_with_free_func ((GDestroyNotify) item_free);
  g_autoptr(GPtrArray) changes = g_ptr_array_new_with_free_func ((GDestroyNotify) item_free);
  gint64 indexed;

  /* How far the database goes, read after the messages and changes: a
   * gap's end beyond it was never committed. */
  if (!natterd_store_messages_between (store, r->after, r->before, NATTERD_CLUSTER_GAP_PAGE,
                                       copy_message_cb, messages, error) ||
      !natterd_store_changes_between (store, r->after, r->before, NATTERD_CLUSTER_GAP_PAGE,
                                      copy_change_cb, changes, error) ||
      !natterd_store_search_index_state (store, &indexed, &r->committed_up_to, error))
    return FALSE;
  merge_page (r->run, messages, changes, &r->page_end);
  return TRUE;
}

static void start_gap_read (NatterdCluster *self);

static gboolean
read_retry_cb (gpointer user_data)
{
  NatterdCluster *self = user_data;

  self->read_retry_source = 0;
  start_gap_read (self);
  return G_SOURCE_REMOVE;
}

static void
gap_read_done (NatterdWriteJob *job,
               const GError    *error)
{
  ClusterRead *r = (ClusterRead *) job;
  NatterdCluster *self = r->cluster;
  Run *run = r->run;
  gint64 committed_up_to = r->committed_up_to, page_end = r->page_end;

  g_free (r);
  if (self->stopped)
    {
      run_free (run);
      return;
    }
  if (error != NULL)
    {
      /* The database is away: the gap is still there when it is back. */
      g_debug ("Could not read messages from the database: %s", error->message);
      run_free (run);
      self->read_retry_source = g_timeout_add (NATTERD_CLUSTER_READ_RETRY_MS, read_retry_cb, self);
      return;
    }
  if (committed_up_to < self->read_before - 1 && page_end == 0)
    {
      /* What made the gap is not in the database: ids of no commit (a
       * corrupt publish, or another cluster's on a shared Redis). They
       * are dropped, not waited for, nor delivered past. */
      g_message ("Messages up to id %" G_GINT64_FORMAT " came over the bus but the database "
                 "goes up to %" G_GINT64_FORMAT " only: dropped (is this Redis shared by "
                 "another cluster?)", self->read_before, committed_up_to);
      natterd_stream_forget_beyond (self->stream, committed_up_to);
      self->read_before = MAX (committed_up_to, self->read_after) + 1;
    }
  if (self->read_before <= self->read_after + 1)
    {
      /* Nothing is left to cover. */
      run_free (run);
      natterd_stream_add_read (self->stream, self->read_after, self->read_after + 1, NULL);
    }
  else if (page_end != 0)
    natterd_stream_add_read_page (self->stream, self->read_after, page_end, run);
  else if (run->items->len == 0)
    {
      run_free (run);
      natterd_stream_add_read (self->stream, self->read_after, self->read_before, NULL);
    }
  else
    natterd_stream_add_read (self->stream, self->read_after, self->read_before, run);
}

static void
start_gap_read (NatterdCluster *self)
{
  ClusterRead *r = g_new0 (ClusterRead, 1);

  r->job.run = gap_read_run;
  r->job.done = gap_read_done;
  r->cluster = self;
  r->after = self->read_after;
  r->before = self->read_before;
  r->run = run_new_foreign ();
  natterd_reads_push (self->directory->reads, &r->job);
}

static void
stream_read_cb (NatterdStream *stream,
                gint64         after,
                gint64         before,
                gpointer       user_data)
{
  NatterdCluster *self = user_data;

  self->read_after = after;
  self->read_before = before;
  g_debug ("Reading messages %" G_GINT64_FORMAT " < id < %" G_GINT64_FORMAT " from the database",
           after, before);
  start_gap_read (self);
}

static gboolean
catch_up_read_run (NatterdWriteJob *job,
                   NatterdStore    *store,
                   GError         **error)
{
  ClusterRead *r = (ClusterRead *) job;
  gint64 indexed;

  return natterd_store_search_index_state (store, &indexed, &r->committed_up_to, error);
}

static void
catch_up_read_done (NatterdWriteJob *job,
                    const GError    *error)
{
  ClusterRead *r = (ClusterRead *) job;
  NatterdCluster *self = r->cluster;
  gint64 committed_up_to = r->committed_up_to;

  g_free (r);
  self->catch_up_reading = FALSE;
  if (self->stopped)
    return;
  if (error != NULL)
    {
      g_debug ("Could not ask the database how far the messages go: %s", error->message);
      return;
    }
  natterd_stream_catch_up (self->stream, committed_up_to);
}

static void
catch_up (NatterdCluster *self)
{
  ClusterRead *r;

  if (self->catch_up_reading || self->stopped)
    return;
  r = g_new0 (ClusterRead, 1);
  r->job.run = catch_up_read_run;
  r->job.done = catch_up_read_done;
  r->cluster = self;
  self->catch_up_reading = TRUE;
  natterd_reads_push (self->directory->reads, &r->job);
}

static gboolean
catch_up_cb (gpointer user_data)
{
  catch_up (user_data);
  return G_SOURCE_CONTINUE;
}

static void
bus_state_cb (NatterdBus *bus,
              gboolean    connected,
              gpointer    user_data)
{
  NatterdCluster *self = user_data;

  if (!connected)
    {
      g_message ("The cluster's bus is down (%s); messages of the other nodes come from the "
                 "database until it is back", natterd_bus_get_last_error (bus));
      self->directory_may_lag = TRUE;
      self->lag_ends_with_run = 0;
      return;
    }
  g_message ("Node %s is on the cluster's bus", self->node_name);
  /* Whatever was published while this node was not listening is lost to
   * it: the database has it. */
  catch_up (self);
  self->lag_ends_with_run = refresh_directory (self);
  natterd_cluster_presence_connected (self->presence);
}

/* --- the node --- */

static char *
default_node_name (const NatterdConfig *config)
{
  g_autofree char *host = NULL;
  guint16 port = 0;

  if (config->listen != NULL && config->listen[0] != NULL)
    natterd_config_parse_listen (config->listen[0], &host, &port, NULL);
  /* Port 0 (the kernel picks one) says nothing: the process id does. */
  if (port != 0)
    return g_strdup_printf ("%s:%u", g_get_host_name (), port);
  return g_strdup_printf ("%s:pid%d", g_get_host_name (), (int) getpid ());
}

NatterdCluster *
natterd_cluster_new (NatterdDirectory    *directory,
                     const NatterdConfig *config,
                     GError             **error)
{
  NatterdCluster *self;
  gint64 indexed, committed;
  NatterdBus *bus;

  g_return_val_if_fail (config->bus != NULL, NULL);

  /* Where this node's delivery starts: what commits from now on. */
  if (!natterd_store_search_index_state (directory->store, &indexed, &committed, error))
    return NULL;
  bus = natterd_bus_new (config->bus, NULL, error);
  if (bus == NULL)
    {
      g_prefix_error (error, "--bus: ");
      return NULL;
    }

  self = g_new0 (NatterdCluster, 1);
  self->directory = directory;
  self->bus = bus;
  self->node_name = config->node_name != NULL ? g_strdup (config->node_name)
                                              : default_node_name (config);
  self->instance = ((guint64) g_random_int () << 32) | g_random_int ();
  self->outgoing = g_byte_array_new ();
  self->stream = natterd_stream_new (committed, NATTERD_STREAM_GAP_WAIT_MS, deliver_cb, stream_read_cb, self);
  natterd_bus_set_state_func (bus, bus_state_cb, self);
  natterd_bus_subscribe (bus, NATTERD_CLUSTER_CHANNEL_MESSAGES, messages_cb, self);
  natterd_bus_subscribe (bus, NATTERD_CLUSTER_CHANNEL_DIRECTORY, directory_cb, self);
  natterd_bus_subscribe (bus, NATTERD_CLUSTER_CHANNEL_EVENTS, events_cb, self);
  self->presence = natterd_cluster_presence_new (directory, bus, self->instance);
  self->limits = natterd_cluster_limits_new (bus);
  self->directory_waits = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free,
                                                 (GDestroyNotify) directory_wait_free);
  self->acks_due = g_array_new (FALSE, FALSE, sizeof (AckDue));
  natterd_directory_refresh_set_done_func (directory, refresh_done_cb, self);
  self->catch_up_source = g_timeout_add (NATTERD_CLUSTER_CATCH_UP_MS, catch_up_cb, self);
  g_message ("Node %s joins the cluster on %s, delivering from message %" G_GINT64_FORMAT,
             self->node_name, config->bus, committed + 1);
  return self;
}

/* NatterdClusterOwnFunc of this node's sends. */
static void
deliver_own_send (gpointer send,
                  gboolean delivered_already)
{
  natterd_commit_deliver_own (natterd_commit_of_send (send), send, delivered_already);
}

/* This node's stored message (@m) or change (@change), published with
 * its batch and delivered through the stream in id order: @func answers
 * its request once it is its turn. At a stop it is answered, not told:
 * this node's clients are leaving, and an event could run ahead of
 * another node's message they never got; they sync it from their next
 * node. */
static void
add_own (NatterdCluster            *self,
         const NatterdStoreMessage *m,
         gint64                     peer_id,
         const NatterdStoreChange  *change,
         NatterdClusterOwnFunc      func,
         gpointer                   own)
{
  gint64 id = m != NULL ? m->id : change->id;
  Run *run;

  if (self->stopped)
    {
      func (own, TRUE);
      return;
    }
  queue_publish (self, m, peer_id, change);
  run = g_new0 (Run, 1);
  run->own_func = func;
  run->own = own;
  run->own_id = id;
  natterd_stream_add (self->stream, id, id, run);
}

void
natterd_cluster_own_committed (NatterdCluster            *self,
                               const NatterdStoreMessage *m,
                               gint64                     peer_id,
                               gpointer                   send)
{
  add_own (self, m, peer_id, NULL, deliver_own_send, send);
}

void
natterd_cluster_own_change (NatterdCluster           *self,
                            const NatterdStoreChange *change,
                            NatterdClusterOwnFunc     func,
                            gpointer                  own)
{
  add_own (self, NULL, 0, change, func, own);
}

void
natterd_cluster_flush (NatterdCluster *self)
{
  natterd_stream_flush (self->stream);
}

void
natterd_cluster_stop (NatterdCluster *self)
{
  if (self == NULL || self->stopped)
    return;
  /* What was committed is told before leaving; what is held goes out. */
  g_clear_handle_id (&self->publish_source, g_source_remove);
  publish_outgoing (self);
  natterd_cluster_presence_leave (self->presence);
  /* No main loop runs from here: the last publishes go out now. */
  natterd_bus_push_out (self->bus, NATTERD_CLUSTER_STOP_PUSH_MS);
  /* What follows what was delivered goes out; what waits behind a gap
   * is answered (this node's sends) or dropped (the others'), never
   * delivered past the gap: its clients, reconnecting elsewhere, sync
   * from the last id they saw. */
  natterd_stream_flush (self->stream);
  self->stopped = TRUE;
  drain_held (self);
  g_clear_handle_id (&self->catch_up_source, g_source_remove);
  g_clear_handle_id (&self->read_retry_source, g_source_remove);
  /* Changes waiting for the others are answered now. */
  g_hash_table_remove_all (self->directory_waits);
  natterd_directory_refresh_set_done_func (self->directory, NULL, NULL);
  g_message ("Node %s leaves the cluster: %" G_GUINT64_FORMAT " messages published, %"
             G_GUINT64_FORMAT " received, %" G_GUINT64_FORMAT " read from the database",
             self->node_name, self->published, self->received,
             natterd_stream_get_reads (self->stream));
}

void
natterd_cluster_free (NatterdCluster *self)
{
  if (self == NULL)
    return;
  natterd_cluster_stop (self);
  g_clear_pointer (&self->bus, natterd_bus_free);
  g_clear_pointer (&self->presence, natterd_cluster_presence_free);
  g_clear_pointer (&self->limits, natterd_cluster_limits_free);
  g_clear_pointer (&self->stream, natterd_stream_free);
  g_byte_array_unref (self->outgoing);
  g_hash_table_unref (self->directory_waits);
  g_array_unref (self->acks_due);
  g_free (self->node_name);
  g_free (self);
}

void
natterd_cluster_receive (NatterdCluster *self,
                         const char     *channel,
                         const guint8   *data,
                         gsize           len)
{
  if (g_str_equal (channel, NATTERD_CLUSTER_CHANNEL_MESSAGES))
    messages_cb (self->bus, channel, data, len, self);
  else if (g_str_equal (channel, NATTERD_CLUSTER_CHANNEL_DIRECTORY))
    directory_cb (self->bus, channel, data, len, self);
  else if (g_str_equal (channel, NATTERD_CLUSTER_CHANNEL_EVENTS))
    events_cb (self->bus, channel, data, len, self);
  else if (g_str_equal (channel, NATTERD_CLUSTER_CHANNEL_PRESENCE))
    natterd_cluster_presence_receive (self->presence, data, len);
}

NatterdClusterLimits *
natterd_cluster_get_limits (NatterdCluster *self)
{
  return self->limits;
}

NatterdClusterPresence *
natterd_cluster_get_presence (NatterdCluster *self)
{
  return self->presence;
}

gboolean
natterd_cluster_directory_may_lag (NatterdCluster *self)
{
  return self != NULL && self->directory_may_lag;
}


void
natterd_cluster_relay_notify_level (NatterdCluster *self,
                                    gint64          conversation_id,
                                    gint64          user_id,
                                    gint64          peer_id,
                                    int             level)
{
  g_autoptr(GByteArray) out = NULL;

  if (self == NULL || self->stopped)
    return;
  out = natterd_wire_begin (MAGIC_EVENTS, self->instance, 'N');
  natterd_wire_put_u64 (out, conversation_id);
  natterd_wire_put_u64 (out, user_id);
  natterd_wire_put_u64 (out, peer_id);
  g_byte_array_append (out, (const guint8 *) &(guint8) { (guint8) level }, 1);
  natterd_bus_publish (self->bus, NATTERD_CLUSTER_CHANNEL_EVENTS, out->data, out->len);
}
