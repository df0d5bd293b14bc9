/* natterd-cluster-presence.c: presence across the nodes of a cluster (see
 * natterd-cluster-presence.h).
 *
 * On NATTERD_CLUSTER_CHANNEL_PRESENCE: "NTP1", the instance, a kind byte,
 * then records (natterd-cluster-wire.h, little-endian):
 *
 *   user id u64, presence u8 (what the sender's connections add up to),
 *   last_seen u64 (0: never), status text length u16 (0xffff: none), text
 *
 *   'U' update: these users changed on the sender
 *   'H' hello: the sender's every online user (replacing what was known of
 *       it); answer with a snapshot
 *   'S' snapshot: the same, as an answer
 *   'A' alive: no records
 *   'L' leaving: the sender's users are gone from it, no records
 */
#define G_LOG_DOMAIN "natterd-cluster"

#include "config.h"

#include "natterd-cluster-presence.h"
#include "natterd-cluster-wire.h"
#include "natterd-presence.h"

#define MAGIC          "NTP1"
#define RECORD_FIXED   (8 + 1 + 8 + 2)
#define NO_STATUS_TEXT 0xffff

typedef struct {
  gint64      last_heard;  /* monotonic, µs */
  GHashTable *users;       /* gint64 user id -> NatterPresence, not offline */
} Instance;

struct _NatterdClusterPresence {
  NatterdDirectory *directory;   /* borrowed */
  NatterdBus       *bus;         /* borrowed */
  guint64           instance;
  GHashTable       *instances;   /* guint64* -> Instance* */
  guint             heartbeat_source;
  guint             check_source;
};

static void
instance_free (Instance *inst)
{
  g_hash_table_unref (inst->users);
  g_free (inst);
}

static Instance *
instance_get (NatterdClusterPresence *self,
              guint64                 instance)
{
  Instance *inst = g_hash_table_lookup (self->instances, &instance);

  if (inst == NULL)
    {
      inst = g_new0 (Instance, 1);
      inst->users = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
      g_hash_table_insert (self->instances, g_memdup2 (&instance, sizeof instance), inst);
    }
  return inst;
}

NatterPresence
natterd_cluster_presence_elsewhere (NatterdClusterPresence *self,
                                    gint64                  user_id)
{
  NatterPresence best = NATTER_PRESENCE_OFFLINE;
  GHashTableIter iter;
  gpointer value;

  /* A handful of nodes: one lookup each. */
  g_hash_table_iter_init (&iter, self->instances);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Instance *inst = value;
      best = MAX (best, (NatterPresence) GPOINTER_TO_INT (g_hash_table_lookup (inst->users, &user_id)));
    }
  return best;
}

GHashTable *
natterd_cluster_presence_live_nodes (NatterdClusterPresence *self)
{
  GHashTable *live = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  GHashTableIter iter;
  gpointer key;

  g_hash_table_iter_init (&iter, self->instances);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_hash_table_add (live, g_memdup2 (key, sizeof (guint64)));
  return live;
}

/* --- what this node says --- */

static void
put_user (GByteArray  *out,
          NatterdUser *user)
{
  gsize len = user->status_text != NULL ? strlen (user->status_text) : 0;

  natterd_wire_put_u64 (out, user->id);
  g_byte_array_append (out, (const guint8 *) &(guint8) { user->presence_here }, 1);
  natterd_wire_put_u64 (out, user->last_seen);
  natterd_wire_put_u16 (out, user->status_text != NULL ? (guint16) len : NO_STATUS_TEXT);
  g_byte_array_append (out, (const guint8 *) user->status_text, len);
}

static void
publish (NatterdClusterPresence *self,
         GByteArray             *out)
{
  /* Lost when the bus is down: the hello after it comes back says it
   * all again. */
  natterd_bus_publish (self->bus, NATTERD_CLUSTER_CHANNEL_PRESENCE, out->data, out->len);
}

static GByteArray *
begin (NatterdClusterPresence *self,
       char                    kind)
{
  return natterd_wire_begin (MAGIC, self->instance, kind);
}

static void
publish_snapshot (NatterdClusterPresence *self,
                  char                    kind)
{
  g_autoptr(GByteArray) out = begin (self, kind);
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->directory->users_by_id);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      NatterdUser *user = value;
      if (user->presence_here != NATTER_PRESENCE_OFFLINE)
        put_user (out, user);
    }
  publish (self, out);
}

void
natterd_cluster_presence_publish (NatterdClusterPresence *self,
                                  NatterdUser            *user)
{
  g_autoptr(GByteArray) out = begin (self, 'U');

  put_user (out, user);
  publish (self, out);
}

void
natterd_cluster_presence_connected (NatterdClusterPresence *self)
{
  publish_snapshot (self, 'H');
}

void
natterd_cluster_presence_leave (NatterdClusterPresence *self)
{
  g_autoptr(GByteArray) out = begin (self, 'L');

  publish (self, out);
}

/* --- what the others say --- */

/* Tells this node's connections what @user's presence is now. */
static void
recompute (NatterdClusterPresence *self,
           gint64                  user_id,
           gboolean                force,
           gint64                  gone_at)
{
  NatterdUser *user = natterd_directory_find_user_id (self->directory, user_id);

  if (user == NULL)
    return;  /* registered elsewhere; the directory hears of it later */
  natterd_presence_update_from_elsewhere (self->directory, user, force, gone_at);
}

/* Drops everything known of @inst, telling the users' watchers here. */
static void
forget_users (NatterdClusterPresence *self,
              Instance               *inst,
              gint64                  gone_at)
{
  g_autoptr(GHashTable) users = g_steal_pointer (&inst->users);
  GHashTableIter iter;
  gpointer key;

  inst->users = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  g_hash_table_iter_init (&iter, users);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    recompute (self, *(gint64 *) key, FALSE, gone_at);
}

static gboolean
read_records (NatterdClusterPresence *self,
              Instance               *inst,
              const guint8           *p,
              const guint8           *end)
{
  while (p < end)
    {
      gint64 user_id, last_seen;
      NatterPresence presence;
      guint16 len;
      gboolean force = FALSE;
      NatterdUser *user;

      if ((gsize) (end - p) < RECORD_FIXED)
        return FALSE;
      user_id = (gint64) natterd_wire_get_u64 (p);
      presence = MIN ((NatterPresence) p[8], NATTER_PRESENCE_ONLINE);
      last_seen = (gint64) natterd_wire_get_u64 (p + 9);
      len = natterd_wire_get_u16 (p + 17);
      p += RECORD_FIXED;
      if (len != NO_STATUS_TEXT && (gsize) (end - p) < len)
        return FALSE;

      user = natterd_directory_find_user_id (self->directory, user_id);
      if (user != NULL)
        {
          g_autofree char *text = len != NO_STATUS_TEXT ? g_strndup ((const char *) p, len) : NULL;

          if (g_strcmp0 (text, user->status_text) != 0)
            {
              g_free (user->status_text);
              user->status_text = g_steal_pointer (&text);
              /* Newer than what a directory refresh already reading may
               * find in the store (the sender writes it behind): that
               * refresh must not put the old text back, as it would not
               * for a change made here (natterd-directory-diff.h). */
              user->local_stamp = ++self->directory->local_stamp;
              force = TRUE;
            }
          user->last_seen = MAX (user->last_seen, last_seen);
        }
      if (len != NO_STATUS_TEXT)
        p += len;

      if (presence == NATTER_PRESENCE_OFFLINE)
        g_hash_table_remove (inst->users, &user_id);
      else
        g_hash_table_insert (inst->users, g_memdup2 (&user_id, sizeof user_id), GINT_TO_POINTER (presence));
      recompute (self, user_id, force, 0);
    }
  return TRUE;
}

static void
presence_cb (NatterdBus   *bus,
             const char   *channel,
             const guint8 *data,
             gsize         len,
             gpointer      user_data)
{
  NatterdClusterPresence *self = user_data;
  guint64 sender;
  Instance *inst;
  char kind;

  if (!natterd_wire_check_header (data, len, MAGIC, &sender) || len < NATTERD_WIRE_HEADER_LEN + 1)
    {
      g_message ("A publish on %s that is not of this version; ignored", channel);
      return;
    }
  if (sender == self->instance)
    return;
  kind = (char) data[NATTERD_WIRE_HEADER_LEN];
  /* A node not known (new, or forgotten after a silence) that does not
   * say all it has: asked to, with a hello, which every node answers
   * with a snapshot. Otherwise its users would stay offline here until
   * they change. */
  if (g_hash_table_lookup (self->instances, &sender) == NULL && kind != 'H' && kind != 'S' && kind != 'L')
    publish_snapshot (self, 'H');
  inst = instance_get (self, sender);
  inst->last_heard = g_get_monotonic_time ();

  switch (kind)
    {
    case 'H':
    case 'S':
      /* All of it again: who is no longer in it went offline there. */
      {
        g_autoptr(GHashTable) before = g_steal_pointer (&inst->users);
        GHashTableIter iter;
        gpointer key;

        inst->users = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
        if (!read_records (self, inst, data + NATTERD_WIRE_HEADER_LEN + 1, data + len))
          g_message ("A presence snapshot cut short; ignored from there");
        g_hash_table_iter_init (&iter, before);
        while (g_hash_table_iter_next (&iter, &key, NULL))
          if (!g_hash_table_contains (inst->users, key))
            recompute (self, *(gint64 *) key, FALSE, natterd_now_ms ());
      }
      if (kind == 'H')
        publish_snapshot (self, 'S');
      break;
    case 'U':
      if (!read_records (self, inst, data + NATTERD_WIRE_HEADER_LEN + 1, data + len))
        g_message ("A presence update cut short; ignored from there");
      break;
    case 'L':
      forget_users (self, inst, natterd_now_ms ());
      g_hash_table_remove (self->instances, &sender);
      break;
    case 'A':
      break;
    default:
      g_message ("A presence publish of unknown kind %d; ignored", kind);
    }
}

void
natterd_cluster_presence_receive (NatterdClusterPresence *self,
                                  const guint8           *data,
                                  gsize                   len)
{
  presence_cb (self->bus, NATTERD_CLUSTER_CHANNEL_PRESENCE, data, len, self);
}

static gboolean
heartbeat_cb (gpointer user_data)
{
  NatterdClusterPresence *self = user_data;
  g_autoptr(GByteArray) out = begin (self, 'A');

  publish (self, out);
  return G_SOURCE_CONTINUE;
}

/* A node not heard from is taken for dead: its users go offline here,
 * at the time it was last heard of, unless they are connected
 * elsewhere. */
static gboolean
check_cb (gpointer user_data)
{
  NatterdClusterPresence *self = user_data;
  gint64 now = g_get_monotonic_time ();
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->instances);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Instance *inst = value;
      gint64 silent_ms = (now - inst->last_heard) / 1000;

      if (silent_ms <= NATTERD_CLUSTER_PRESENCE_DEAD_MS)
        continue;
      g_message ("A node has not been heard of for %" G_GINT64_FORMAT " ms: its %u users are "
                 "offline unless connected elsewhere", silent_ms, g_hash_table_size (inst->users));
      forget_users (self, inst, natterd_now_ms () - silent_ms);
      g_hash_table_iter_remove (&iter);
    }
  return G_SOURCE_CONTINUE;
}

NatterdClusterPresence *
natterd_cluster_presence_new (NatterdDirectory *directory,
                              NatterdBus       *bus,
                              guint64           instance)
{
  NatterdClusterPresence *self = g_new0 (NatterdClusterPresence, 1);

  self->directory = directory;
  self->bus = bus;
  self->instance = instance;
  self->instances = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free,
                                           (GDestroyNotify) instance_free);
  natterd_bus_subscribe (bus, NATTERD_CLUSTER_CHANNEL_PRESENCE, presence_cb, self);
  self->heartbeat_source = g_timeout_add (NATTERD_CLUSTER_PRESENCE_HEARTBEAT_MS, heartbeat_cb, self);
  self->check_source = g_timeout_add (NATTERD_CLUSTER_PRESENCE_CHECK_MS, check_cb, self);
  return self;
}

void
natterd_cluster_presence_free (NatterdClusterPresence *self)
{
  if (self == NULL)
    return;
  g_clear_handle_id (&self->heartbeat_source, g_source_remove);
  g_clear_handle_id (&self->check_source, g_source_remove);
  g_hash_table_unref (self->instances);
  g_free (self);
}
