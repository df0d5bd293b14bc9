/* natter-image-cache.c: images of messages, downloaded once and decoded
 * safely (natter-image-cache.h).
 *
 * The cache is named by SHA-256, which the download checks before it
 * renames the .part into place: a file in it is what its name says, so
 * one image sent in several messages is fetched once. One download per
 * file at a time (two into the same .part would spoil it): the loads that
 * ask for a file being fetched wait for that download, which no single
 * caller's cancellable stops.
 */
#define G_LOG_DOMAIN "natter-image"

#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>

#include "natter-image-cache.h"
#include "natter-image-decode.h"

typedef struct {
  GFile   *path;
  guint64  max_pixels;
  guint    max_side;
} Load;

/* The loads waiting for a download, by SHA-256 (GPtrArray of GTask). */
static GHashTable *waiting;

static void
load_free (Load *d)
{
  g_object_unref (d->path);
  g_free (d);
}

static void
decoded_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;
  GdkTexture *texture = natter_image_decode_finish (result, &error);

  if (texture == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, texture, g_object_unref);
}

static void
read_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Load *d = g_task_get_task_data (task);
  g_autoptr(GBytes) bytes = NULL;
  GError *error = NULL;

  bytes = g_file_load_bytes_finish (G_FILE (source), result, NULL, &error);
  if (bytes == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  /* Not g_steal_pointer() in the same call: arguments have no order. */
  natter_image_decode_async (bytes, d->max_pixels, d->max_side, g_task_get_cancellable (task), decoded_cb,
                             g_object_ref (task));
}

static void
downloaded_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autofree char *sha256 = user_data;
  g_autofree char *key = NULL;
  g_autoptr(GPtrArray) tasks = NULL;
  g_autoptr(GError) error = NULL;
  gboolean ok = natter_client_download_file_finish (NATTER_CLIENT (source), result, &error);

  g_hash_table_steal_extended (waiting, sha256, (gpointer *) &key, (gpointer *) &tasks);
  for (guint i = 0; tasks != NULL && i < tasks->len; i++)
    {
      GTask *task = g_ptr_array_index (tasks, i);
      Load *d = g_task_get_task_data (task);

      if (!ok)
        g_task_return_error (task, g_error_copy (error));
      else
        g_file_load_bytes_async (d->path, g_task_get_cancellable (task), read_cb, g_object_ref (task));
    }
}

void
natter_image_cache_load_async (NatterClient        *client,
                               NatterMessageFile   *file,
                               guint64              max_pixels,
                               guint                max_side,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  const char *sha256 = natter_message_file_get_sha256 (file);
  g_autofree char *dir = g_build_filename (g_get_user_cache_dir (), "natter", "files", NULL);
  g_autofree char *path = NULL;
  GPtrArray *tasks;
  Load *d;

  g_task_set_source_tag (task, natter_image_cache_load_async);
  if (sha256 == NULL || natter_message_file_get_id (file) <= 0)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, _("This image is not on the server yet"));
      return;
    }
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved = errno;

      g_task_return_new_error (task, G_IO_ERROR, g_io_error_from_errno (saved), "%s: %s", dir, g_strerror (saved));
      return;
    }
  path = g_build_filename (dir, sha256, NULL);
  d = g_new0 (Load, 1);
  d->path = g_file_new_for_path (path);
  d->max_pixels = max_pixels;
  d->max_side = max_side;
  g_task_set_task_data (task, d, (GDestroyNotify) load_free);
  if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      g_file_load_bytes_async (d->path, cancellable, read_cb, g_steal_pointer (&task));
      return;
    }
  if (waiting == NULL)
    waiting = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_ptr_array_unref);
  tasks = g_hash_table_lookup (waiting, sha256);
  if (tasks == NULL)
    {
      g_autoptr(NatterFileTransfer) download = NULL;

      tasks = g_ptr_array_new_with_free_func (g_object_unref);
      g_hash_table_insert (waiting, g_strdup (sha256), tasks);
      download = natter_client_download_file_async (client, file, d->path, NULL, downloaded_cb, g_strdup (sha256));
    }
  g_ptr_array_add (tasks, g_steal_pointer (&task));
}

GdkTexture *
natter_image_cache_load_finish (GAsyncResult  *result,
                                GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
