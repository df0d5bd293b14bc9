/* natterd-cluster-limits.c: limits counted across the cluster (see
 * natterd-cluster-limits.h).
 */
#define G_LOG_DOMAIN "natterd-cluster"

#include "config.h"

#include <string.h>

#include "natterd-cluster-limits.h"

/* Add and set the expiry in one step (a key never outlives its window
 * for want of a second command; set by the command that made the key:
 * no PEXPIRE NX, which Redis 6 lacks), and say the window before's total
 * too: KEYS[1] this window's key, KEYS[2] the one before. */
#define INCR_SCRIPT \
  "local n = redis.call('INCRBY', KEYS[1], ARGV[2]) " \
  "if n == tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end " \
  "return {n, tonumber(redis.call('GET', KEYS[2]) or '0')}"

typedef struct {
  gint64 window;    /* which window (time / its length) */
  gint64 total;     /* uses in it: the cluster's as last heard, or more */
  gint64 before;    /* uses in the window before it, as last heard */
  gint64 pending;   /* uses here not yet sent to Redis */
  guint  window_s;
  gboolean in_flight; /* an INCRBY of this key waits for its reply */
  GPtrArray *answers; /* NatterdRequest* held until the next INCRBY is answered */
} Entry;

struct _NatterdClusterLimits {
  NatterdBus *bus;         /* borrowed */
  GHashTable *entries;     /* "KIND:KEY" -> Entry */
};

typedef struct {
  NatterdClusterLimits *limits;
  char                 *name;
  gint64                window;
  GPtrArray            *answers; /* held until this command is answered */
} Counting;

static void
entry_free (Entry *entry)
{
  /* At a stop: what waited is answered. */
  g_ptr_array_unref (entry->answers);
  g_free (entry);
}

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

          /* Each against its own window's length: a minute's window
           * numbers are not an hour's. */
          g_hash_table_iter_init (&iter, self->entries);
          while (g_hash_table_iter_next (&iter, NULL, &value))
            if (((Entry *) value)->window < window_of (((Entry *) value)->window_s) - 1)
              g_hash_table_iter_remove (&iter);
        }
      entry = g_new0 (Entry, 1);
      entry->answers = g_ptr_array_new_with_free_func ((GDestroyNotify) natterd_request_release);
      g_hash_table_insert (self->entries, g_strdup (name), entry);
    }
  if (entry->window != window)
    {
      entry->before = entry->window == window - 1 ? entry->total : 0;
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

  /* Counted (or not countable): the answers that waited for it go. */
  g_ptr_array_set_size (c->answers, 0);
  /* The bus freed: c->limits may be gone with it. */
  if (g_error_matches (error, NATTERD_BUS_ERROR, NATTERD_BUS_ERROR_CLOSED))
    goto out;
  entry = g_hash_table_lookup (c->limits->entries, c->name);
  if (entry == NULL)
    goto out;
  entry->in_flight = FALSE;
  /* Down or busy: this node's own buckets still hold. */
  if (error == NULL && reply->type == NATTERD_BUS_REPLY_ARRAY && reply->n_elements == 2 &&
      reply->elements[0]->type == NATTERD_BUS_REPLY_INTEGER &&
      reply->elements[1]->type == NATTERD_BUS_REPLY_INTEGER && entry->window == c->window)
    {
      entry->total = MAX (entry->total, reply->elements[0]->integer);
      entry->before = MAX (entry->before, reply->elements[1]->integer);
    }
  /* What came meanwhile goes in one. */
  if (entry->pending > 0 || entry->answers->len > 0)
    send_count (c->limits, c->name, entry);
out:
  g_ptr_array_unref (c->answers);
  g_free (c->name);
  g_free (c);
}

static void
send_count (NatterdClusterLimits *self,
            const char           *name,
            Entry                *entry)
{
  g_autofree char *redis_key = g_strdup_printf ("natter:limit:%s:%" G_GINT64_FORMAT, name, entry->window);
  g_autofree char *key_before = g_strdup_printf ("natter:limit:%s:%" G_GINT64_FORMAT, name, entry->window - 1);
  g_autofree char *ttl = g_strdup_printf ("%u", 2 * entry->window_s * 1000);
  g_autofree char *by = g_strdup_printf ("%" G_GINT64_FORMAT, entry->pending);
  const char *argv[] = { "EVAL", INCR_SCRIPT, "2", redis_key, key_before, ttl, by };
  gsize argvlen[G_N_ELEMENTS (argv)];
  Counting *c = g_new0 (Counting, 1);

  c->limits = self;
  c->name = g_strdup (name);
  c->window = entry->window;
  c->answers = g_steal_pointer (&entry->answers);
  entry->answers = g_ptr_array_new_with_free_func ((GDestroyNotify) natterd_request_release);
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
                              guint                 window_s,
                              NatterdRequest       *answer)
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
  if (answer != NULL)
    {
      natterd_request_hold (answer);
      g_ptr_array_add (entry->answers, answer);
    }
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
  gint64 length = (gint64) window_s * G_USEC_PER_SEC;
  gint64 now = g_get_real_time ();
  gint64 window = now / length;
  double into, before, estimate, free_at;
  Entry *entry;

  if (self == NULL || limit == 0)
    return 0;
  name = g_strconcat (kind, ":", key, NULL);
  entry = g_hash_table_lookup (self->entries, name);
  if (entry == NULL || entry->window < window - 1)
    return 0;
  /* A sliding window from two fixed ones: the window before counts for
   * the part of it that the last window_s seconds still cover. So a
   * window's boundary neither forgets the uses just before it nor lets
   * twice the limit through. */
  into = (double) (now - window * length) / length;
  if (entry->window == window)
    before = entry->before;
  else
    {
      before = entry->total;  /* the entry's window is the one before */
      entry = NULL;
    }
  estimate = before * (1.0 - into) + (entry != NULL ? entry->total : 0);
  if (estimate < limit)
    return 0;
  if (entry != NULL && entry->total >= limit)
    return MAX (1, ((window + 1) * length - now) / 1000);
  /* Until the part of the window before that still counts has shrunk
   * enough. */
  free_at = 1.0 - (limit - (entry != NULL ? entry->total : 0) - 0.5) / MAX (before, 1.0);
  return MAX (1, (gint64) ((free_at - into) * length / 1000));
}

NatterdClusterLimits *
natterd_cluster_limits_new (NatterdBus *bus)
{
  NatterdClusterLimits *self = g_new0 (NatterdClusterLimits, 1);

  self->bus = bus;
  self->entries = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) entry_free);
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
