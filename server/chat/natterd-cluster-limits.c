/* natterd-cluster-limits.c: limits counted across the cluster (see
 * natterd-cluster-limits.h).
 */
#define G_LOG_DOMAIN "natterd-cluster"

#include "config.h"

#include <string.h>

#include "natterd-cluster-limits.h"

/* Add and set the expiry in one step: a key never outlives its window
 * for want of a second command. */
#define INCR_SCRIPT \
  "local n = redis.call('INCRBY', KEYS[1], ARGV[2]) " \
  "redis.call('PEXPIRE', KEYS[1], ARGV[1], 'NX') " \
  "return n"

typedef struct {
  gint64 window;    /* which window (time / its length) */
  gint64 total;     /* uses in it: the cluster's as last heard, or more */
  gint64 pending;   /* uses here not yet sent to Redis */
  guint  window_s;
  gboolean in_flight; /* an INCRBY of this key waits for its reply */
} Entry;

struct _NatterdClusterLimits {
  NatterdBus *bus;         /* borrowed */
  GHashTable *entries;     /* "KIND:KEY" -> Entry */
};

typedef struct {
  NatterdClusterLimits *limits;
  char                 *name;
  gint64                window;
} Counting;

static gint64
window_of (guint window_s)
{
  return g_get_real_time () / ((gint64) window_s * G_USEC_PER_SEC);
}

static Entry *
entry_get (NatterdClusterLimits *self,
           const char           *name,
           gint64                window)
{
  Entry *entry = g_hash_table_lookup (self->entries, name);

  if (entry == NULL)
    {
      if (g_hash_table_size (self->entries) >= NATTERD_CLUSTER_LIMITS_PRUNE)
        {
          GHashTableIter iter;
          gpointer value;

          g_hash_table_iter_init (&iter, self->entries);
          while (g_hash_table_iter_next (&iter, NULL, &value))
            if (((Entry *) value)->window < window)
              g_hash_table_iter_remove (&iter);
        }
      entry = g_new0 (Entry, 1);
      g_hash_table_insert (self->entries, g_strdup (name), entry);
    }
  if (entry->window != window)
    {
      entry->window = window;
      entry->total = 0;
      entry->pending = 0;
    }
  return entry;
}

static void send_count (NatterdClusterLimits *self, const char *name, Entry *entry);

static void
counted_cb (const NatterdBusReply *reply,
            const GError          *error,
            gpointer               user_data)
{
  Counting *c = user_data;
  Entry *entry;

  /* The bus freed: c->limits may be gone with it. */
  if (g_error_matches (error, NATTERD_BUS_ERROR, NATTERD_BUS_ERROR_CLOSED))
    goto out;
  entry = g_hash_table_lookup (c->limits->entries, c->name);
  if (entry == NULL)
    goto out;
  entry->in_flight = FALSE;
  /* Down or busy: this node's own buckets still hold. */
  if (error == NULL && reply->type == NATTERD_BUS_REPLY_INTEGER && entry->window == c->window)
    entry->total = MAX (entry->total, reply->integer);
  /* What came meanwhile goes in one. */
  if (entry->pending > 0)
    send_count (c->limits, c->name, entry);
out:
  g_free (c->name);
  g_free (c);
}

static void
send_count (NatterdClusterLimits *self,
            const char           *name,
            Entry                *entry)
{
  g_autofree char *redis_key = g_strdup_printf ("natter:limit:%s:%" G_GINT64_FORMAT, name, entry->window);
  g_autofree char *ttl = g_strdup_printf ("%u", 2 * entry->window_s * 1000);
  g_autofree char *by = g_strdup_printf ("%" G_GINT64_FORMAT, entry->pending);
  const char *argv[] = { "EVAL", INCR_SCRIPT, "1", redis_key, ttl, by };
  gsize argvlen[G_N_ELEMENTS (argv)];
  Counting *c = g_new0 (Counting, 1);

  c->limits = self;
  c->name = g_strdup (name);
  c->window = entry->window;
  entry->pending = 0;
  entry->in_flight = TRUE;
  for (guint i = 0; i < G_N_ELEMENTS (argv); i++)
    argvlen[i] = strlen (argv[i]);
  natterd_bus_command (self->bus, counted_cb, c, G_N_ELEMENTS (argv), argv, argvlen);
}

void
natterd_cluster_limits_count (NatterdClusterLimits *self,
                              const char           *kind,
                              const char           *key,
                              guint                 window_s)
{
  g_autofree char *name = NULL;
  Entry *entry;

  if (self == NULL)
    return;
  name = g_strconcat (kind, ":", key, NULL);
  entry = entry_get (self, name, window_of (window_s));
  entry->window_s = window_s;
  /* Counted here at once: the next check sees this use before Redis
   * answers. */
  entry->total++;
  entry->pending++;
  /* One INCRBY of a key in flight at a time: a use goes at once, and a
   * burst waits for the reply and goes in one. */
  if (!entry->in_flight)
    send_count (self, name, entry);
}

gint64
natterd_cluster_limits_peek (NatterdClusterLimits *self,
                             const char           *kind,
                             const char           *key,
                             guint                 limit,
                             guint                 window_s)
{
  g_autofree char *name = NULL;
  gint64 window = window_of (window_s);
  Entry *entry;

  if (self == NULL || limit == 0)
    return 0;
  name = g_strconcat (kind, ":", key, NULL);
  entry = g_hash_table_lookup (self->entries, name);
  if (entry == NULL || entry->window != window || entry->total < limit)
    return 0;
  /* Until the window ends. */
  return MAX (1, ((window + 1) * (gint64) window_s * G_USEC_PER_SEC - g_get_real_time ()) / 1000);
}

NatterdClusterLimits *
natterd_cluster_limits_new (NatterdBus *bus)
{
  NatterdClusterLimits *self = g_new0 (NatterdClusterLimits, 1);

  self->bus = bus;
  self->entries = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  return self;
}

void
natterd_cluster_limits_free (NatterdClusterLimits *self)
{
  if (self == NULL)
    return;
  g_hash_table_unref (self->entries);
  g_free (self);
}
