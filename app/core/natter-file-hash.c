/* natter-file-hash.c: a file's SHA-256 off the main loop. */
#define G_LOG_DOMAIN "natter-client"

#include "config.h"

#include "natter-file-hash.h"

#define HASH_BUFFER (64 * 1024)

typedef struct {
  char   *sha256;
  gint64  size;
} HashResult;

static void
hash_result_free (HashResult *r)
{
  g_free (r->sha256);
  g_free (r);
}

/* Reads the file in pieces: never all of it in memory. */
static void
hash_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  g_autoptr(GFile) file = g_file_new_for_path (task_data);
  g_autoptr(GFileInputStream) in = NULL;
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree guint8 *buffer = g_malloc (HASH_BUFFER);
  g_autoptr(GError) error = NULL;
  HashResult *r;
  gint64 total = 0;
  gssize n;

  in = g_file_read (file, cancellable, &error);
  if (in == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  while ((n = g_input_stream_read (G_INPUT_STREAM (in), buffer, HASH_BUFFER, cancellable, &error)) > 0)
    {
      g_checksum_update (sum, buffer, n);
      total += n;
    }
  if (n < 0)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  r = g_new0 (HashResult, 1);
  r->sha256 = g_strdup (g_checksum_get_string (sum));
  r->size = total;
  g_task_return_pointer (task, r, (GDestroyNotify) hash_result_free);
}

void
natter_file_hash_async (const char          *path,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);

  g_return_if_fail (path != NULL);

  g_task_set_source_tag (task, natter_file_hash_async);
  g_task_set_task_data (task, g_strdup (path), g_free);
  g_task_run_in_thread (task, hash_thread);
}

char *
natter_file_hash_finish (GAsyncResult  *result,
                         gint64        *out_size,
                         GError       **error)
{
  HashResult *r = g_task_propagate_pointer (G_TASK (result), error);
  char *sha256;

  if (r == NULL)
    return NULL;
  if (out_size != NULL)
    *out_size = r->size;
  sha256 = g_steal_pointer (&r->sha256);
  hash_result_free (r);
  return sha256;
}
