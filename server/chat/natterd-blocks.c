/* natterd-blocks.c: who blocks whom, in memory (natterd-blocks.h).
 *
 * A user's table (blocked user -> since) is made at their first block and
 * stays small ([limits] blocks_per_user); most users never have one, so the
 * check on every direct message is a NULL test.
 */
#define G_LOG_DOMAIN "natterd-blocks"

#include "config.h"

#include "natterd-blocks.h"

gboolean
natterd_user_blocks (NatterdUser *user,
                     NatterdUser *other)
{
  return natterd_user_blocked_since (user, other) != 0;
}

gint64
natterd_user_blocked_since (NatterdUser *user,
                            NatterdUser *other)
{
  gint64 *since;

  if (user == NULL || other == NULL || user->blocked == NULL)
    return 0;
  since = g_hash_table_lookup (user->blocked, other);
  return since != NULL ? *since : 0;
}

guint
natterd_user_n_blocked (NatterdUser *user)
{
  return user->blocked != NULL ? g_hash_table_size (user->blocked) : 0;
}

void
natterd_user_set_blocked (NatterdUser *user,
                          NatterdUser *other,
                          gint64       since)
{
  gint64 *value;

  if (since == 0)
    {
      if (user->blocked != NULL)
        g_hash_table_remove (user->blocked, other);
      return;
    }
  if (user->blocked == NULL)
    user->blocked = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  /* Blocking again keeps the first time, as the store does. */
  if (g_hash_table_contains (user->blocked, other))
    return;
  value = g_new (gint64, 1);
  *value = since;
  g_hash_table_insert (user->blocked, other, value);
}

typedef struct {
  NatterdUser *user;
  gint64       since;
} Entry;

static int
compare_entries (gconstpointer a, gconstpointer b)
{
  const Entry *x = a, *y = b;

  if (x->since != y->since)
    return x->since < y->since ? -1 : 1;
  return g_strcmp0 (x->user->username, y->user->username);
}

GPtrArray *
natterd_user_list_blocked (NatterdUser *user)
{
  g_autoptr(GArray) entries = g_array_new (FALSE, FALSE, sizeof (Entry));
  GPtrArray *list = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer key, value;

  if (user->blocked == NULL)
    return list;
  g_hash_table_iter_init (&iter, user->blocked);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      Entry e = { key, *(gint64 *) value };
      g_array_append_val (entries, e);
    }
  g_array_sort (entries, compare_entries);
  for (guint i = 0; i < entries->len; i++)
    g_ptr_array_add (list, g_array_index (entries, Entry, i).user);
  return list;
}

void
natterd_user_clear_blocks (NatterdUser *user)
{
  g_clear_pointer (&user->blocked, g_hash_table_unref);
}

static void
load_block_cb (gint64   user_id,
               gint64   blocked_id,
               gint64   ts,
               gpointer user_data)
{
  NatterdDirectory *directory = user_data;
  NatterdUser *user = natterd_directory_find_user_id (directory, user_id);
  NatterdUser *other = natterd_directory_find_user_id (directory, blocked_id);

  /* A row of a user gone is left alone. */
  if (user != NULL && other != NULL)
    natterd_user_set_blocked (user, other, MAX (ts, 1));
}

gboolean
natterd_blocks_load (NatterdDirectory *directory,
                     NatterdStore     *store,
                     GError          **error)
{
  return natterd_store_blocks_foreach (store, load_block_cb, directory, error);
}

typedef struct {
  gint64 user_id;
  gint64 blocked_id;
  gint64 ts;
} BlockRow;

static void
read_block_cb (gint64   user_id,
               gint64   blocked_id,
               gint64   ts,
               gpointer user_data)
{
  BlockRow row = { user_id, blocked_id, ts };

  g_array_append_val ((GArray *) user_data, row);
}

GArray *
natterd_blocks_read (NatterdStore  *store,
                     GError       **error)
{
  GArray *rows = g_array_new (FALSE, FALSE, sizeof (BlockRow));

  if (!natterd_store_blocks_foreach (store, read_block_cb, rows, error))
    {
      g_array_unref (rows);
      return NULL;
    }
  return rows;
}

void
natterd_blocks_apply (NatterdDirectory *directory,
                      GArray           *rows)
{
  GHashTableIter iter;
  gpointer user;

  if (rows == NULL)
    return;
  g_hash_table_iter_init (&iter, directory->users_by_name);
  while (g_hash_table_iter_next (&iter, NULL, &user))
    natterd_user_clear_blocks (user);
  for (guint i = 0; i < rows->len; i++)
    {
      BlockRow *row = &g_array_index (rows, BlockRow, i);

      load_block_cb (row->user_id, row->blocked_id, row->ts, directory);
    }
  g_array_unref (rows);
}
