/* natter-client-download.c: feature files: downloading a file of a
 * message (docs/protocol.md, "download").
 *
 * At most NATTER_FILES_WINDOW chunks are asked for at once; they are
 * written in order to "dest.part", which is checked against the file's
 * SHA-256 (in a thread) and renamed at the end. A lost connection pauses
 * the download until the client is READY again, and it goes on from the
 * .part's size, as a later call does after a failure.
 */
#define G_LOG_DOMAIN "natter-client"

#include "config.h"

#include "natter-client-private.h"
#include "natter-file-hash.h"
#include "natter-file-transfer-private.h"
#include "natter-message-file-private.h"

#define CHUNK_SIZE NATTER_FILES_CHUNK_SIZE
#define WINDOW     NATTER_FILES_WINDOW

typedef struct {
  NatterClient       *self;
  NatterMessageFile  *file;
  NatterFileTransfer *transfer;
  GFile              *dest;
  GFile              *part;
  GFileOutputStream  *out;
  GHashTable         *ready;       /* chunk index (gint64*) → GBytes, received not yet written */
  GCancellable       *caller;      /* the caller's cancellable, which cancels the transfer */
  gulong              caller_id;
  gint64              chunks;
  gint64              next_request;
  gint64              next_write;
  guint               in_flight;
  gulong              state_id;    /* on the client, while waiting for a new session */
  gulong              cancel_id;   /* on the transfer's cancellable, likewise */
  gboolean            writing;
  gboolean            paused;      /* the connection was lost */
  gboolean            over;
} Download;

static void
download_stop_waiting (Download *d)
{
  if (d->state_id != 0)
    g_clear_signal_handler (&d->state_id, d->self);
  if (d->cancel_id != 0)
    g_clear_signal_handler (&d->cancel_id, natter_file_transfer_get_cancellable (d->transfer));
}

static void
download_free (Download *d)
{
  download_stop_waiting (d);
  if (d->caller_id != 0)
    g_cancellable_disconnect (d->caller, d->caller_id);
  g_clear_object (&d->caller);
  if (d->out != NULL)
    g_output_stream_close (G_OUTPUT_STREAM (d->out), NULL, NULL);
  g_clear_object (&d->out);
  g_hash_table_unref (d->ready);
  g_object_unref (d->self);
  g_object_unref (d->file);
  g_object_unref (d->transfer);
  g_object_unref (d->dest);
  g_object_unref (d->part);
  g_free (d);
}

static void
download_fail (GTask  *task,
               GError *error)
{
  Download *d = g_task_get_task_data (task);

  if (d->over)
    {
      g_error_free (error);
      return;
    }
  download_stop_waiting (d);
  d->over = TRUE;
  natter_file_transfer_finish (d->transfer, error);
  g_task_return_error (task, error);
}

static void download_pump (GTask *task);
static void download_open (GTask *task);

/* The connection went: what arrived is on disk, and the download goes on
 * from the .part once the client is READY again (or fails if cancelled
 * meanwhile). */
static void
waiting_state_cb (NatterClient *self,
                  GParamSpec   *pspec,
                  GTask        *task)
{
  Download *d = g_task_get_task_data (task);
  g_autoptr(GTask) hold = g_object_ref (task);

  if (natter_client_get_state (self) != NATTER_CLIENT_STATE_READY)
    return;
  download_stop_waiting (d);
  d->paused = FALSE;
  download_open (hold);
}

static gboolean
waiting_ready_idle_cb (gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Download *d = g_task_get_task_data (task);

  if (d->state_id != 0 && !d->over)
    waiting_state_cb (d->self, NULL, task);
  return G_SOURCE_REMOVE;
}

static gboolean
waiting_cancel_idle_cb (gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Download *d = g_task_get_task_data (task);

  if (d->paused && !d->over)
    {
      download_stop_waiting (d);
      download_fail (task, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, "The download was cancelled"));
    }
  return G_SOURCE_REMOVE;
}

/* Not failed in the handler: the cancellable is being emitted. */
static void
waiting_cancelled_cb (GCancellable *cancellable,
                      GTask        *task)
{
  g_idle_add (waiting_cancel_idle_cb, g_object_ref (task));
}

static void
download_maybe_wait (GTask *task)
{
  Download *d = g_task_get_task_data (task);

  if (!d->paused || d->over || d->in_flight > 0 || d->writing || d->state_id != 0)
    return;
  if (d->out != NULL)
    g_output_stream_close (G_OUTPUT_STREAM (d->out), NULL, NULL);
  g_clear_object (&d->out);
  g_hash_table_remove_all (d->ready);
  d->state_id = g_signal_connect_data (d->self, "notify::state", G_CALLBACK (waiting_state_cb),
                                       g_object_ref (task), (GClosureNotify) (void (*) (void)) g_object_unref, 0);
  d->cancel_id = g_signal_connect_data (natter_file_transfer_get_cancellable (d->transfer), "cancelled",
                                        G_CALLBACK (waiting_cancelled_cb), g_object_ref (task),
                                        (GClosureNotify) (void (*) (void)) g_object_unref, 0);
  if (g_cancellable_is_cancelled (natter_file_transfer_get_cancellable (d->transfer)))
    waiting_cancelled_cb (NULL, task);
  /* READY again already (the lost connection's requests can fail after a
   * new session is up): no change of state is coming to wake it. */
  else if (natter_client_get_state (d->self) == NATTER_CLIENT_STATE_READY)
    g_idle_add (waiting_ready_idle_cb, g_object_ref (task));
}

/* A request that failed because the connection went, not because the
 * server refused it. */
static gboolean
is_connection_error (const GError *error)
{
  return error->domain != NATTER_ERROR && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static void
verify_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Download *d = g_task_get_task_data (task);
  GError *error = NULL;
  g_autofree char *sha256 = natter_file_hash_finish (result, NULL, &error);

  if (sha256 == NULL)
    download_fail (task, error);
  else if (g_strcmp0 (sha256, natter_message_file_get_sha256 (d->file)) != 0)
    {
      /* Not worth resuming from: the next try starts over. */
      g_file_delete (d->part, NULL, NULL);
      download_fail (task, g_error_new_literal (NATTER_ERROR, NATTER_ERROR_HASH_MISMATCH,
                                                "The downloaded file does not match its SHA-256"));
    }
  else if (!g_file_move (d->part, d->dest, G_FILE_COPY_OVERWRITE, NULL, NULL, NULL, &error))
    download_fail (task, error);
  else
    {
      d->over = TRUE;
      natter_file_transfer_finish (d->transfer, NULL);
      g_task_return_boolean (task, TRUE);
    }
}

static void
download_check (GTask *task)
{
  Download *d = g_task_get_task_data (task);
  g_autofree char *path = g_file_get_path (d->part);
  GError *error = NULL;

  if (!g_output_stream_close (G_OUTPUT_STREAM (d->out), NULL, &error))
    {
      download_fail (task, error);
      return;
    }
  g_clear_object (&d->out);
  natter_file_hash_async (path, g_task_get_cancellable (task), verify_cb, g_object_ref (task));
}

static void
written_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Download *d = g_task_get_task_data (task);
  GError *error = NULL;

  d->writing = FALSE;
  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (object), result, NULL, &error))
    {
      download_fail (task, error);
      return;
    }
  if (d->over)
    return;
  d->next_write++;
  if (d->paused)
    {
      natter_file_transfer_set_bytes_done (d->transfer, MIN (d->next_write * CHUNK_SIZE,
                                                             natter_message_file_get_size (d->file)));
      download_maybe_wait (task);
      return;
    }
  natter_file_transfer_set_bytes_done (d->transfer, MIN (d->next_write * CHUNK_SIZE,
                                                         natter_message_file_get_size (d->file)));
  if (d->next_write == d->chunks)
    download_check (task);
  else
    download_pump (task);
}

static void
chunk_received_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  Download *d = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr(JsonObject) reply = natter_connection_request_finish (NATTER_CONNECTION (object), result, &error);
  gint64 index, expected;
  const char *data;
  guchar *bytes;
  gsize len = 0;

  d->in_flight--;
  if (d->over)
    {
      g_clear_error (&error);
      return;
    }
  if (reply == NULL && is_connection_error (error))
    {
      g_debug ("Download paused: %s", error->message);
      g_clear_error (&error);
      d->paused = TRUE;
      download_maybe_wait (task);
      return;
    }
  if (reply == NULL)
    {
      download_fail (task, error);
      return;
    }
  if (d->paused)
    {
      /* Came in before the connection went: written with the next try. */
      download_maybe_wait (task);
      return;
    }
  index = get_int (reply, "index", -1);
  data = get_string (reply, "data");
  expected = index >= 0 ? MIN (CHUNK_SIZE, natter_message_file_get_size (d->file) - index * CHUNK_SIZE) : -1;
  bytes = data != NULL ? g_base64_decode (data, &len) : NULL;
  if (index < d->next_write || index >= d->chunks || (gint64) len != expected)
    {
      g_free (bytes);
      download_fail (task, g_error_new_literal (NATTER_ERROR, NATTER_ERROR_INTERNAL,
                                                "The server sent a chunk that does not fit"));
      return;
    }
  g_hash_table_insert (d->ready, g_memdup2 (&index, sizeof index), g_bytes_new_take (bytes, len));
  download_pump (task);
}

/* Writes the next chunk once it is here (one write at a time, in order),
 * and asks for more while fewer than WINDOW are waiting or unanswered. */
static void
download_pump (GTask *task)
{
  Download *d = g_task_get_task_data (task);
  NatterClient *self = d->self;

  if (g_cancellable_is_cancelled (g_task_get_cancellable (task)))
    {
      download_fail (task, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, "The download was cancelled"));
      return;
    }
  if (!d->writing)
    {
      GBytes *next = NULL;

      if (g_hash_table_steal_extended (d->ready, &d->next_write, NULL, (gpointer *) &next))
        {
          gconstpointer data;
          gsize len;

          data = g_bytes_get_data (next, &len);
          d->writing = TRUE;
          /* The bytes stay alive with the task until written. */
          g_object_set_data_full (G_OBJECT (task), "writing", next, (GDestroyNotify) g_bytes_unref);
          g_output_stream_write_all_async (G_OUTPUT_STREAM (d->out), data, len, G_PRIORITY_DEFAULT,
                                           NULL, written_cb, g_object_ref (task));
        }
    }
  while (d->next_request < d->chunks && d->in_flight + g_hash_table_size (d->ready) < WINDOW)
    {
      g_autoptr(JsonObject) req = new_request ("download");

      if (!natter_client_signed_in (self))
        {
          d->paused = TRUE;
          download_maybe_wait (task);
          return;
        }
      json_object_set_int_member (req, "file", natter_message_file_get_id (d->file));
      json_object_set_int_member (req, "index", d->next_request++);
      d->in_flight++;
      natter_file_transfer_add_chunk_sent (d->transfer);
      natter_connection_request_async (self->connection, req, NULL, chunk_received_cb, g_object_ref (task));
    }
}

static void
caller_cancelled_cb (GCancellable       *caller,
                     NatterFileTransfer *transfer)
{
  natter_file_transfer_cancel (transfer);
}

/* Goes on after what a previous try wrote, at a chunk boundary. A stat
 * and an open: cheap enough for the main loop. */
static void
download_open (GTask *task)
{
  Download *d = g_task_get_task_data (task);
  g_autoptr(GFileInfo) info = NULL;
  gint64 size = natter_message_file_get_size (d->file), have = 0, start_chunk;
  GError *error = NULL;

  info = g_file_query_info (d->part, G_FILE_ATTRIBUTE_STANDARD_SIZE, G_FILE_QUERY_INFO_NONE, NULL, NULL);
  if (info != NULL)
    have = g_file_info_get_size (info);
  start_chunk = have / CHUNK_SIZE;
  if (have > size)
    start_chunk = 0;
  d->out = g_file_append_to (d->part, G_FILE_CREATE_PRIVATE, NULL, &error);
  if (d->out == NULL ||
      (have != start_chunk * CHUNK_SIZE &&
       !g_seekable_truncate (G_SEEKABLE (d->out), start_chunk * CHUNK_SIZE, NULL, &error)))
    {
      download_fail (task, error);
      return;
    }
  d->next_request = d->next_write = start_chunk;
  natter_file_transfer_set_bytes_done (d->transfer, MIN (start_chunk * CHUNK_SIZE, size));
  if (d->next_write == d->chunks)
    download_check (task);
  else
    download_pump (task);
}

NatterFileTransfer *
natter_client_download_file_async (NatterClient        *self,
                                   NatterMessageFile   *file,
                                   GFile               *dest,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autofree char *dest_path = NULL;
  g_autofree char *part_path = NULL;
  Download *d;
  gint64 size;

  g_return_val_if_fail (NATTER_IS_CLIENT (self), NULL);
  g_return_val_if_fail (NATTER_IS_MESSAGE_FILE (file), NULL);
  g_return_val_if_fail (G_IS_FILE (dest), NULL);

  size = natter_message_file_get_size (file);
  d = g_new0 (Download, 1);
  d->self = g_object_ref (self);
  d->file = g_object_ref (file);
  d->transfer = natter_file_transfer_new (FALSE, size);
  d->dest = g_object_ref (dest);
  dest_path = g_file_get_path (dest);
  part_path = g_strconcat (dest_path != NULL ? dest_path : "", ".part", NULL);
  d->part = g_file_new_for_path (part_path);
  d->ready = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, (GDestroyNotify) g_bytes_unref);
  d->chunks = (size + CHUNK_SIZE - 1) / CHUNK_SIZE;
  if (cancellable != NULL)
    {
      d->caller = g_object_ref (cancellable);
      d->caller_id = g_cancellable_connect (cancellable, G_CALLBACK (caller_cancelled_cb), d->transfer, NULL);
    }

  task = g_task_new (self, natter_file_transfer_get_cancellable (d->transfer), callback, user_data);
  g_task_set_source_tag (task, natter_client_download_file_async);
  g_task_set_task_data (task, d, (GDestroyNotify) download_free);

  if (dest_path == NULL || natter_message_file_get_id (file) <= 0 || natter_message_file_get_sha256 (file) == NULL)
    {
      download_fail (task, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                                "Only a sent file can be saved, to a local file"));
      return g_object_ref (d->transfer);
    }
  if (!self->files || !natter_client_signed_in (self))
    {
      download_fail (task, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
                                                "Files can be downloaded only when signed in to a server with files"));
      return g_object_ref (d->transfer);
    }

  download_open (task);
  return g_object_ref (d->transfer);
}

gboolean
natter_client_download_file_finish (NatterClient  *self,
                                    GAsyncResult  *result,
                                    GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == natter_client_download_file_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
