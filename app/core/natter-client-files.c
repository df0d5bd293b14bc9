/* natter-client-files.c: feature files (docs/protocol.md, "Files"):
 * uploading the files of a message before its send (the feature is
 * asked for with the others, in natter-client-actions.c; downloads are
 * in natter-client-download.c).
 *
 * A message with files is an outbox entry like any other (its files'
 * paths are in the entry, so it survives a restart). When the outbox
 * sends it, its files are uploaded first, one after the other: hashed in
 * a thread (SHA-256, streaming), upload_begin (which checks every limit
 * before a byte goes), then the chunks the server lacks, read
 * asynchronously, with at most WINDOW of them unanswered so that a send
 * or a typing notice made meanwhile waits behind a few chunks only. Once
 * every file has its id the send goes out, naming them.
 *
 * An upload outlives its connection: a dropped connection pauses it, and
 * the next session's flush asks upload_status where it stands and sends
 * only the missing chunks. Each upload id is written to the outbox entry
 * when the server gives it: after a restart of the app the file is hashed
 * again and, its hash unchanged, the same upload goes on (a changed file
 * begins anew; the server's abandoned upload expires by itself).
 *
 * Callbacks name their upload by client_msg_id and a serial bumped at
 * each (re)start, so a reply of a superseded run is dropped.
 */
#define G_LOG_DOMAIN "natter-client"

#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "natter-client-private.h"
#include "natter-file-hash.h"
#include "natter-file-transfer-private.h"
#include "natter-message-file-private.h"
#include "natter-message-private.h"
#include "natter-validate.h"

#define CHUNK_SIZE  NATTER_FILES_CHUNK_SIZE
#define WINDOW      NATTER_FILES_WINDOW
#define MAX_FILES   10           /* attachments per message */
#define MIME_FALLBACK "application/octet-stream"

typedef struct {
  char   *path;
  char   *name;
  char   *mime;
  gint64  size;
  char   *sha256;  /* NULL until hashed */
  char   *known;   /* the hash an earlier run of the app uploaded, or NULL */
  gint64  upload;  /* the server's upload id; 0 for none yet */
  gint64  file;    /* the file id once the upload is complete */
  guint   width;   /* an image's pixels, or 0 */
  guint   height;
  int     preview_of; /* a preview: the index of its image in the entry; else -1 */
} UploadFile;

typedef struct {
  NatterClient       *self;          /* borrowed: the client owns the table */
  char               *client_msg_id;
  NatterFileTransfer *transfer;
  GPtrArray          *files;         /* UploadFile */
  GFileInputStream   *stream;        /* the current file, while sending chunks */
  GArray             *todo;          /* gint64 chunk indices of the current file to send */
  guint8             *buffer;        /* one chunk being read */
  gulong              cancel_id;
  guint64             generation;    /* the connection it runs on */
  gint64              acked;         /* bytes of the current file the server has */
  guint               serial;
  guint               current;       /* index into files */
  guint               todo_pos;
  guint               in_flight;
  gboolean            running;
  gboolean            reading;
  gboolean            failed;        /* waits for a retry */
} Upload;

typedef struct {
  NatterClient *self;
  char         *client_msg_id;
  guint         serial;
  gint64        index;
  gsize         len;
} Step;

static void step (Upload *u);
static void pump (Upload *u);

/* ---- the feature -------------------------------------------------------- */

gboolean
natter_client_get_files_enabled (NatterClient *self)
{
  g_return_val_if_fail (NATTER_IS_CLIENT (self), FALSE);
  return self->files;
}

/* ---- the files of an outbox entry ----------------------------------------- */

static void
upload_file_free (UploadFile *f)
{
  g_free (f->path);
  g_free (f->name);
  g_free (f->mime);
  g_free (f->sha256);
  g_free (f->known);
  g_free (f);
}

/* The protocol's file name rule: 1 to 255 bytes of UTF-8, no control
 * characters, no / or \, not . or .. */
static char *
file_name_for (const char *basename)
{
  g_autofree char *valid = g_utf8_make_valid (basename != NULL ? basename : "", -1);
  GString *name = g_string_new (NULL);

  for (const char *p = valid; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);
      gsize len = g_utf8_next_char (p) - p;

      if (name->len + len > 255)
        break;
      if (c == '/' || c == '\\' || g_unichar_iscntrl (c))
        g_string_append_c (name, '_');
      else
        g_string_append_len (name, p, len);
    }
  if (!natter_file_name_is_valid (name->str))
    g_string_assign (name, "file");
  return g_string_free (name, FALSE);
}

static char *
mime_for (const char *name)
{
  g_autofree char *type = g_content_type_guess (name, NULL, 0, NULL);
  g_autofree char *mime = type != NULL ? g_content_type_get_mime_type (type) : NULL;

  return g_strdup (natter_mime_is_valid (mime) ? mime : MIME_FALLBACK);
}

/* The files of an entry, from its JSON (natter-outbox.h); NULL when it
 * cannot be read. */
static GPtrArray *
entry_files (NatterOutboxEntry *entry)
{
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GPtrArray) files = NULL;
  JsonArray *array;

  if (entry == NULL || entry->files == NULL || (node = json_from_string (entry->files, NULL)) == NULL ||
      !JSON_NODE_HOLDS_ARRAY (node))
    return NULL;
  array = json_node_get_array (node);
  files = g_ptr_array_new_with_free_func ((GDestroyNotify) upload_file_free);
  for (guint i = 0, n = json_array_get_length (array); i < n; i++)
    {
      JsonObject *obj = array_object (array, i);
      const char *path = get_string (obj, "path");
      const char *name = get_string (obj, "name");
      const char *mime = get_string (obj, "mime");
      UploadFile *f;

      if (path == NULL || name == NULL || mime == NULL)
        return NULL;
      f = g_new0 (UploadFile, 1);
      f->path = g_strdup (path);
      f->name = g_strdup (name);
      f->mime = g_strdup (mime);
      f->size = get_int (obj, "size", 0);
      /* Begun by an earlier run: resumed if the file still hashes so. */
      f->known = g_strdup (get_string (obj, "sha256"));
      f->upload = f->known != NULL ? MAX (get_int (obj, "upload", 0), 0) : 0;
      f->width = CLAMP (get_int (obj, "width", 0), 0, 65535);
      f->height = CLAMP (get_int (obj, "height", 0), 0, 65535);
      if (f->width == 0 || f->height == 0)
        f->width = f->height = 0;
      f->preview_of = (int) CLAMP (get_int (obj, "preview_of", -1), -1, (gint64) n);
      g_ptr_array_add (files, f);
    }
  return files->len > 0 ? g_steal_pointer (&files) : NULL;
}

GListModel *
natter_client_files_local_files (NatterOutboxEntry *entry)
{
  g_autoptr(GPtrArray) files = entry_files (entry);
  GListStore *store = g_list_store_new (NATTER_TYPE_MESSAGE_FILE);

  for (guint i = 0; files != NULL && i < files->len; i++)
    {
      UploadFile *f = g_ptr_array_index (files, i);
      g_autoptr(NatterMessageFile) file = NULL;

      if (f->preview_of >= 0)
        continue;
      file = natter_message_file_new_local (f->name, f->size, f->mime);
      g_list_store_append (store, file);
    }
  return G_LIST_MODEL (store);
}

/* ---- uploads ---------------------------------------------------------------- */

static void
upload_stop_reading (Upload *u)
{
  if (u->stream != NULL)
    g_input_stream_close (G_INPUT_STREAM (u->stream), NULL, NULL);
  g_clear_object (&u->stream);
  g_array_set_size (u->todo, 0);
  u->todo_pos = 0;
  u->in_flight = 0;
  u->reading = FALSE;
}

static void
upload_free (Upload *u)
{
  if (u->cancel_id != 0)
    g_signal_handler_disconnect (natter_file_transfer_get_cancellable (u->transfer), u->cancel_id);
  upload_stop_reading (u);
  g_free (u->client_msg_id);
  g_ptr_array_unref (u->files);
  g_array_unref (u->todo);
  g_free (u->buffer);
  g_object_unref (u->transfer);
  g_free (u);
}

GDestroyNotify
natter_client_files_upload_free_func (void)
{
  return (GDestroyNotify) upload_free;
}

static Step *
step_new (Upload *u)
{
  Step *s = g_new0 (Step, 1);

  s->self = g_object_ref (u->self);
  s->client_msg_id = g_strdup (u->client_msg_id);
  s->serial = u->serial;
  return s;
}

static void
step_free (Step *s)
{
  g_object_unref (s->self);
  g_free (s->client_msg_id);
  g_free (s);
}

/* The upload @s was made for, or NULL when it is gone or restarted. */
static Upload *
step_upload (Step *s)
{
  Upload *u = g_hash_table_lookup (s->self->uploads, s->client_msg_id);

  return u != NULL && u->serial == s->serial ? u : NULL;
}

static gint64
upload_bytes_total (GPtrArray *files)
{
  gint64 total = 0;

  for (guint i = 0; i < files->len; i++)
    total += ((UploadFile *) g_ptr_array_index (files, i))->size;
  return total;
}

static void
update_progress (Upload *u)
{
  gint64 done = 0;

  for (guint i = 0; i < u->files->len; i++)
    {
      UploadFile *f = g_ptr_array_index (u->files, i);

      if (f->file > 0)
        done += f->size;
      else if (i == u->current)
        done += u->acked;
    }
  natter_file_transfer_set_bytes_done (u->transfer, done);
}

/* Refused for good, or cancelled: the message fails as a refused send
 * does, and waits for Retry (which resumes the upload) or Discard. */
static void
upload_fail (Upload       *u,
             const GError *error)
{
  NatterClient *self = u->self;
  g_autofree char *id = g_strdup (u->client_msg_id);
  g_autoptr(NatterMessage) pending = NULL;
  g_autoptr(GError) local_error = NULL;

  g_debug ("Upload of %s failed: %s", id, error->message);
  u->serial++;
  u->running = FALSE;
  u->failed = TRUE;
  upload_stop_reading (u);
  natter_file_transfer_finish (u->transfer, error);

  pending = g_hash_table_lookup (self->sending, id);
  if (pending != NULL)
    {
      g_object_ref (pending);
      g_hash_table_remove (self->sending, id);
    }
  if (pending != NULL)
    natter_message_set_state (pending, NATTER_MESSAGE_STATE_FAILED);
  if (!natter_outbox_mark_failed (self->outbox, id, &local_error))
    g_warning ("Cannot update the outbox: %s", local_error->message);
  if (pending != NULL)
    natter_client_emit_send_failed (self, pending, error);
  else
    natter_client_emit_error (self, error);
}

/* A dropped connection or a busy server: the next flush goes on. */
static void
upload_pause (Upload       *u,
              const GError *error)
{
  u->serial++;
  u->running = FALSE;
  upload_stop_reading (u);
  natter_client_outbox_error_is_temporary (u->self, error);
}

/* What to do with a failed request of an upload. */
static void
upload_request_failed (Upload       *u,
                       const GError *error)
{
  UploadFile *f = u->current < u->files->len ? g_ptr_array_index (u->files, u->current) : NULL;

  if (g_error_matches (error, NATTER_ERROR, NATTER_ERROR_NOT_FOUND) && f != NULL && f->upload > 0)
    {
      /* Expired (or swept) meanwhile: begin it again. */
      f->upload = 0;
      u->serial++;
      upload_stop_reading (u);
      step (u);
    }
  else if (error->domain == NATTER_ERROR &&
           !g_error_matches (error, NATTER_ERROR, NATTER_ERROR_RATE_LIMITED) &&
           !g_error_matches (error, NATTER_ERROR, NATTER_ERROR_SERVER_BUSY) &&
           !g_error_matches (error, NATTER_ERROR, NATTER_ERROR_INTERNAL))
    upload_fail (u, error);
  else
    upload_pause (u, error);
}

static gboolean
cancel_idle_cb (gpointer user_data)
{
  Step *s = user_data;
  Upload *u = g_hash_table_lookup (s->self->uploads, s->client_msg_id);
  g_autoptr(GError) error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                                 "The upload was cancelled");

  if (u != NULL && !u->failed)
    upload_fail (u, error);
  return G_SOURCE_REMOVE;
}

/* Not failed in the handler: the cancellable is being emitted, and
 * upload_fail() may replace it. */
static void
cancelled_cb (GCancellable *cancellable,
              Upload       *u)
{
  g_idle_add_full (G_PRIORITY_DEFAULT, cancel_idle_cb,
                   step_new (u), (GDestroyNotify) step_free);
}

static void
upload_new_transfer (Upload *u)
{
  if (u->transfer != NULL)
    {
      g_signal_handler_disconnect (natter_file_transfer_get_cancellable (u->transfer), u->cancel_id);
      g_object_unref (u->transfer);
    }
  u->transfer = natter_file_transfer_new (TRUE, upload_bytes_total (u->files));
  u->cancel_id = g_signal_connect (natter_file_transfer_get_cancellable (u->transfer), "cancelled",
                                   G_CALLBACK (cancelled_cb), u);
  update_progress (u);
}

/* The upload of @entry, made when first needed; NULL when its files
 * cannot be read from the entry. */
static Upload *
ensure_upload (NatterClient      *self,
               NatterOutboxEntry *entry)
{
  Upload *u = g_hash_table_lookup (self->uploads, entry->client_msg_id);
  GPtrArray *files;

  if (u != NULL)
    return u;
  files = entry_files (entry);
  if (files == NULL)
    return NULL;
  u = g_new0 (Upload, 1);
  u->self = self;
  u->client_msg_id = g_strdup (entry->client_msg_id);
  u->files = files;
  u->todo = g_array_new (FALSE, FALSE, sizeof (gint64));
  u->buffer = g_malloc (CHUNK_SIZE);
  upload_new_transfer (u);
  g_hash_table_insert (self->uploads, g_strdup (entry->client_msg_id), u);
  return u;
}

/* An entry's file's image members: its pixels, and for a preview the
 * index of its image. */
static void
set_image_members (JsonObject *obj,
                   guint       width,
                   guint       height,
                   int         preview_of)
{
  if (width > 0 && height > 0)
    {
      json_object_set_int_member (obj, "width", width);
      json_object_set_int_member (obj, "height", height);
    }
  if (preview_of >= 0)
    json_object_set_int_member (obj, "preview_of", preview_of);
}

/* Writes the upload ids to the outbox entry, so that the app's next run
 * resumes the uploads instead of beginning them again. */
static void
save_progress (Upload *u)
{
  g_autoptr(JsonArray) array = json_array_new ();
  g_autoptr(JsonNode) node = NULL;
  g_autofree char *json = NULL;
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < u->files->len; i++)
    {
      UploadFile *f = g_ptr_array_index (u->files, i);
      JsonObject *obj = json_object_new ();

      json_object_set_string_member (obj, "path", f->path);
      json_object_set_string_member (obj, "name", f->name);
      json_object_set_string_member (obj, "mime", f->mime);
      json_object_set_int_member (obj, "size", f->size);
      set_image_members (obj, f->width, f->height, f->preview_of);
      if (f->sha256 != NULL && f->upload > 0)
        {
          json_object_set_string_member (obj, "sha256", f->sha256);
          json_object_set_int_member (obj, "upload", f->upload);
        }
      json_array_add_object_element (array, obj);
    }
  node = json_node_init_array (json_node_alloc (), array);
  json = json_to_string (node, FALSE);
  if (!natter_outbox_set_files (u->self->outbox, u->client_msg_id, json, &error))
    g_warning ("Cannot update the outbox: %s", error->message);
}

static void
start (Upload *u)
{
  u->serial++;
  upload_stop_reading (u);
  u->running = TRUE;
  u->generation = u->self->generation;
  step (u);
}

static void
hash_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  Step *s = user_data;
  g_autoptr(GError) error = NULL;
  gint64 size = 0;
  g_autofree char *sha256 = natter_file_hash_finish (result, &size, &error);
  Upload *u = step_upload (s);

  if (u != NULL)
    {
      UploadFile *f = g_ptr_array_index (u->files, u->current);

      if (sha256 == NULL)
        upload_fail (u, error);
      else
        {
          f->sha256 = g_strdup (sha256);
          /* Changed since an earlier run began its upload: begin anew. */
          if (f->known != NULL && !g_str_equal (f->known, sha256))
            f->upload = 0;
          g_clear_pointer (&f->known, g_free);
          /* The file may have changed since it was attached: what is
           * sent is what was hashed. */
          f->size = size;
          if (f->size == 0)
            {
              g_autoptr(GError) empty = g_error_new (G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                                                     "%s is empty", f->name);
              upload_fail (u, empty);
            }
          else
            step (u);
        }
    }
  step_free (s);
}

/* Takes an upload object (upload_begin, upload_status): either the file
 * is complete, or the chunks it lacks are queued. */
static void
apply_upload_object (Upload     *u,
                     JsonObject *obj)
{
  UploadFile *f = g_ptr_array_index (u->files, u->current);
  JsonArray *missing = get_array (obj, "missing");
  gint64 file = get_int (obj, "file", 0);
  gint64 chunks = (f->size + CHUNK_SIZE - 1) / CHUNK_SIZE;
  gint64 missing_bytes = 0;
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) source = NULL;

  if (file > 0)
    {
      f->file = file;
      step (u);
      return;
    }
  if (f->upload != get_int (obj, "upload", 0))
    {
      f->upload = get_int (obj, "upload", 0);
      save_progress (u);
    }
  upload_stop_reading (u);
  for (guint i = 0, n = missing != NULL ? json_array_get_length (missing) : 0; i < n; i++)
    {
      JsonNode *node = json_array_get_element (missing, i);
      JsonArray *range = JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
      gint64 from, to;

      if (range == NULL || json_array_get_length (range) != 2)
        continue;
      from = CLAMP (json_array_get_int_element (range, 0), 0, chunks);
      to = CLAMP (json_array_get_int_element (range, 1), from, chunks);
      for (gint64 c = from; c < to; c++)
        {
          g_array_append_val (u->todo, c);
          missing_bytes += MIN (CHUNK_SIZE, f->size - c * CHUNK_SIZE);
        }
    }
  u->acked = f->size - missing_bytes;
  update_progress (u);

  if (f->upload <= 0 || u->todo->len == 0)
    {
      error = g_error_new_literal (NATTER_ERROR, NATTER_ERROR_INTERNAL,
                                   "The server's upload lacks nothing but has no file");
      upload_pause (u, error);
      return;
    }
  source = g_file_new_for_path (f->path);
  u->stream = g_file_read (source, NULL, &error);
  if (u->stream == NULL)
    {
      upload_fail (u, error);
      return;
    }
  pump (u);
}

static void
upload_object_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  Step *s = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) reply = natter_connection_request_finish (NATTER_CONNECTION (object), result, &error);
  Upload *u = step_upload (s);

  if (u != NULL)
    {
      JsonObject *obj = get_object (reply, "upload");

      if (reply == NULL)
        upload_request_failed (u, error);
      else if (obj == NULL)
        {
          g_autoptr(GError) bad = g_error_new_literal (NATTER_ERROR, NATTER_ERROR_INTERNAL,
                                                       "The server's reply has no upload");
          upload_pause (u, bad);
        }
      else
        apply_upload_object (u, obj);
    }
  step_free (s);
}

static void
chunk_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  Step *s = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) reply = natter_connection_request_finish (NATTER_CONNECTION (object), result, &error);
  Upload *u = step_upload (s);

  if (u != NULL)
    {
      UploadFile *f = g_ptr_array_index (u->files, u->current);
      gint64 file;

      u->in_flight--;
      if (reply == NULL)
        upload_request_failed (u, error);
      else if ((file = get_int (reply, "file", 0)) > 0)
        {
          /* Complete and checked by the server: the next file. */
          f->file = file;
          u->serial++;
          upload_stop_reading (u);
          step (u);
        }
      else
        {
          u->acked += s->len;
          update_progress (u);
          if (u->in_flight == 0 && !u->reading && u->todo_pos == u->todo->len)
            {
              /* Everything sent, and yet no file: ask where it stands. */
              upload_stop_reading (u);
              step (u);
            }
          else
            pump (u);
        }
    }
  step_free (s);
}

static void
read_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  Step *s = user_data;
  g_autoptr(GError) error = NULL;
  gsize n = 0;
  gboolean ok = g_input_stream_read_all_finish (G_INPUT_STREAM (object), result, &n, &error);
  Upload *u = step_upload (s);

  if (u != NULL)
    {
      UploadFile *f = g_ptr_array_index (u->files, u->current);

      u->reading = FALSE;
      if (!ok)
        upload_fail (u, error);
      else if (n != s->len)
        {
          g_autoptr(GError) changed = g_error_new (G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                                                   "%s changed while it was being sent", f->name);
          upload_fail (u, changed);
        }
      else if (!natter_client_signed_in (u->self) || u->generation != u->self->generation)
        {
          u->serial++;
          u->running = FALSE;
          upload_stop_reading (u);
        }
      else
        {
          g_autoptr(JsonObject) req = new_request ("upload_chunk");
          g_autofree char *data = g_base64_encode (u->buffer, n);
          Step *c = step_new (u);

          json_object_set_int_member (req, "upload", f->upload);
          json_object_set_int_member (req, "index", s->index);
          json_object_set_string_member (req, "data", data);
          c->index = s->index;
          c->len = n;
          u->in_flight++;
          natter_file_transfer_add_chunk_sent (u->transfer);
          natter_connection_request_async (u->self->connection, req, NULL, chunk_cb, c);
          pump (u);
        }
    }
  step_free (s);
}

/* Reads the next chunk to send while fewer than WINDOW are unanswered;
 * one read at a time, so the chunks go in order. */
static void
pump (Upload *u)
{
  UploadFile *f = g_ptr_array_index (u->files, u->current);
  g_autoptr(GError) error = NULL;
  Step *s;
  gint64 index;

  if (u->reading || u->in_flight >= WINDOW || u->todo_pos >= u->todo->len)
    return;
  index = g_array_index (u->todo, gint64, u->todo_pos++);
  if (!g_seekable_seek (G_SEEKABLE (u->stream), index * CHUNK_SIZE, G_SEEK_SET, NULL, &error))
    {
      upload_fail (u, error);
      return;
    }
  s = step_new (u);
  s->index = index;
  s->len = MIN (CHUNK_SIZE, f->size - index * CHUNK_SIZE);
  u->reading = TRUE;
  g_input_stream_read_all_async (G_INPUT_STREAM (u->stream), u->buffer, s->len, G_PRIORITY_DEFAULT,
                                 NULL, read_cb, s);
}

/* The next thing to do for the first file not complete, or the send. */
static void
step (Upload *u)
{
  NatterClient *self = u->self;
  g_autoptr(JsonObject) req = NULL;
  UploadFile *f;

  while (u->current < u->files->len &&
         ((UploadFile *) g_ptr_array_index (u->files, u->current))->file > 0)
    {
      u->current++;
      u->acked = 0;
    }
  update_progress (u);
  if (u->current == u->files->len)
    {
      u->running = FALSE;
      upload_stop_reading (u);
      natter_client_outbox_flush (self);
      return;
    }

  f = g_ptr_array_index (u->files, u->current);
  if (f->sha256 == NULL)
    {
      natter_file_hash_async (f->path, natter_file_transfer_get_cancellable (u->transfer), hash_cb, step_new (u));
      return;
    }
  if (!natter_client_signed_in (self) || u->generation != self->generation)
    {
      u->running = FALSE;
      return;
    }
  if (f->upload == 0)
    {
      req = new_request ("upload_begin");
      json_object_set_int_member (req, "size", f->size);
      json_object_set_string_member (req, "sha256", f->sha256);
    }
  else
    {
      req = new_request ("upload_status");
      json_object_set_int_member (req, "upload", f->upload);
    }
  natter_connection_request_async (self->connection, req, NULL, upload_object_cb, step_new (u));
}

gboolean
natter_client_files_prepare_send (NatterClient      *self,
                                  NatterOutboxEntry *entry,
                                  JsonObject        *req)
{
  JsonArray *files;
  g_autoptr(GPtrArray) objects = NULL;
  Upload *u;

  if (entry->files == NULL)
    return TRUE;
  u = ensure_upload (self, entry);
  if (u == NULL || !self->files)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(NatterMessage) pending = NULL;

      error = u == NULL
              ? g_error_new_literal (G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "The message's files cannot be read")
              : g_error_new_literal (G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "This server does not accept files");
      if (u != NULL)
        {
          if (!u->failed)
            upload_fail (u, error);
          return FALSE;
        }
      pending = g_hash_table_lookup (self->sending, entry->client_msg_id);
      if (pending != NULL)
        {
          g_object_ref (pending);
          g_hash_table_remove (self->sending, entry->client_msg_id);
          natter_message_set_state (pending, NATTER_MESSAGE_STATE_FAILED);
        }
      natter_outbox_mark_failed (self->outbox, entry->client_msg_id, NULL);
      if (pending != NULL)
        natter_client_emit_send_failed (self, pending, error);
      return FALSE;
    }

  if (u->failed)
    {
      /* Retried: a new transfer, and the upload resumes. */
      u->failed = FALSE;
      upload_new_transfer (u);
    }
  if (u->current < u->files->len)
    {
      if (!u->running || u->generation != self->generation)
        start (u);
      return FALSE;
    }

  /* The entries in their order; a preview goes into its image's entry. */
  files = json_array_new ();
  objects = g_ptr_array_new ();
  for (guint i = 0; i < u->files->len; i++)
    {
      UploadFile *f = g_ptr_array_index (u->files, i);
      JsonObject *obj = json_object_new ();

      json_object_set_int_member (obj, "file", f->file);
      json_object_set_string_member (obj, "mime", f->mime);
      if (f->width > 0 && f->height > 0)
        {
          json_object_set_int_member (obj, "width", f->width);
          json_object_set_int_member (obj, "height", f->height);
        }
      g_ptr_array_add (objects, obj);
      if (f->preview_of < 0)
        {
          json_object_set_string_member (obj, "name", f->name);
          json_array_add_object_element (files, json_object_ref (obj));
        }
    }
  for (guint i = 0; i < u->files->len; i++)
    {
      UploadFile *f = g_ptr_array_index (u->files, i);

      if (f->preview_of >= 0 && (guint) f->preview_of < u->files->len &&
          ((UploadFile *) g_ptr_array_index (u->files, f->preview_of))->preview_of < 0)
        json_object_set_object_member (objects->pdata[f->preview_of], "preview",
                                       json_object_ref (objects->pdata[i]));
    }
  for (guint i = 0; i < objects->len; i++)
    json_object_unref (objects->pdata[i]);
  json_object_set_array_member (req, "files", files);
  return TRUE;
}

void
natter_client_files_forget (NatterClient  *self,
                            const char    *client_msg_id,
                            NatterMessage *stored,
                            const GError  *error)
{
  Upload *u = g_hash_table_lookup (self->uploads, client_msg_id);

  if (u == NULL)
    return;
  if (error != NULL)
    {
      /* The send was refused: kept, failed, for Retry. */
      u->failed = TRUE;
      natter_file_transfer_finish (u->transfer, error);
      return;
    }
  natter_file_transfer_set_bytes_done (u->transfer, natter_file_transfer_get_bytes_total (u->transfer));
  natter_file_transfer_finish (u->transfer, NULL);
  g_hash_table_remove (self->uploads, client_msg_id);
}

void
natter_client_files_discard (NatterClient *self,
                             const char   *client_msg_id)
{
  g_hash_table_remove (self->uploads, client_msg_id);
}

NatterFileTransfer *
natter_client_get_upload (NatterClient  *self,
                          NatterMessage *message)
{
  const char *id;
  NatterOutboxEntry *entry;
  Upload *u;

  g_return_val_if_fail (NATTER_IS_CLIENT (self), NULL);
  g_return_val_if_fail (NATTER_IS_MESSAGE (message), NULL);

  id = natter_message_get_client_msg_id (message);
  if (id == NULL)
    return NULL;
  u = g_hash_table_lookup (self->uploads, id);
  if (u == NULL && (entry = natter_outbox_lookup (self->outbox, id)) != NULL && entry->files != NULL)
    u = ensure_upload (self, entry);
  return u != NULL ? u->transfer : NULL;
}

/* ---- previews kept with the outbox ------------------------------------------ */

/* Where a preview's bytes wait for their upload: the state dir, so that
 * they outlive a restart with the outbox entry that names them. */
static char *
write_preview (NatterClient  *self,
               GBytes        *bytes,
               const char    *mime,
               GError       **error)
{
  g_autofree char *dir = g_build_filename (self->state_dir, "previews", NULL);
  g_autofree char *uuid = g_uuid_string_random ();
  g_autofree char *name = g_strconcat (uuid, g_str_equal (mime, "image/png") ? ".png" : ".jpg", NULL);
  g_autofree char *path = g_build_filename (dir, name, NULL);
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "Cannot create %s: %s", dir,
                   g_strerror (saved));
      return NULL;
    }
  if (!g_file_set_contents_full (path, data, len, G_FILE_SET_CONTENTS_CONSISTENT, 0600, error))
    return NULL;
  return g_steal_pointer (&path);
}

/* Only what write_preview() made: a path in the state's previews dir. */
static void
remove_preview (NatterClient *self,
                const char   *path)
{
  g_autofree char *dir = g_build_filename (self->state_dir, "previews", NULL);
  g_autofree char *parent = g_path_get_dirname (path);

  if (g_str_equal (parent, dir) && g_unlink (path) != 0 && errno != ENOENT)
    g_warning ("Cannot remove %s: %s", path, g_strerror (errno));
}

void
natter_client_files_drop_previews (NatterClient *self,
                                   const char   *client_msg_id)
{
  g_autoptr(GPtrArray) files = entry_files (natter_outbox_lookup (self->outbox, client_msg_id));

  for (guint i = 0; files != NULL && i < files->len; i++)
    {
      UploadFile *f = g_ptr_array_index (files, i);

      if (f->preview_of >= 0)
        remove_preview (self, f->path);
    }
}

/* ---- sending ------------------------------------------------------------------ */

NatterMessage *
natter_client_send_files (NatterClient  *self,
                          const char    *address,
                          GFile        **files,
                          guint          n_files,
                          const char    *body,
                          GError       **error)
{
  g_autofree NatterFileAttachment *attachments = NULL;

  g_return_val_if_fail (NATTER_IS_CLIENT (self), NULL);
  g_return_val_if_fail (files != NULL || n_files == 0, NULL);

  attachments = g_new0 (NatterFileAttachment, MAX (n_files, 1));
  for (guint i = 0; i < n_files; i++)
    attachments[i].file = files[i];
  return natter_client_send_attachments (self, address, attachments, n_files, body, error);
}

NatterMessage *
natter_client_send_attachments (NatterClient               *self,
                                const char                 *address,
                                const NatterFileAttachment *attachments,
                                guint                       n_files,
                                const char                 *body,
                                GError                    **error)
{
  g_autoptr(JsonArray) array = json_array_new ();
  g_autoptr(JsonArray) previews = json_array_new ();
  g_autoptr(GPtrArray) written = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(JsonNode) node = NULL;
  g_autofree char *json = NULL;
  NatterMessage *msg = NULL;

  g_return_val_if_fail (NATTER_IS_CLIENT (self), NULL);
  g_return_val_if_fail (attachments != NULL || n_files == 0, NULL);

  if (n_files == 0 || n_files > MAX_FILES)
    {
      g_set_error (error, NATTER_ERROR, NATTER_ERROR_INVALID_ARGUMENT,
                   "A message carries 1 to %d files", MAX_FILES);
      return NULL;
    }
  if (body == NULL)
    body = "";
  if (body[0] != '\0' && !natter_body_is_valid (body, strlen (body)))
    {
      g_set_error_literal (error, NATTER_ERROR, NATTER_ERROR_INVALID_ARGUMENT, "The text is not valid");
      return NULL;
    }

  for (guint i = 0; i < n_files; i++)
    {
      const NatterFileAttachment *a = &attachments[i];
      g_autoptr(GFileInfo) info = NULL;
      g_autofree char *path = NULL;
      g_autofree char *basename = NULL;
      g_autofree char *name = NULL;
      g_autofree char *mime = NULL;
      JsonObject *obj;

      if (a->file == NULL)
        {
          g_set_error_literal (error, NATTER_ERROR, NATTER_ERROR_INVALID_ARGUMENT, "An attachment has no file");
          goto out;
        }
      path = g_file_get_path (a->file);
      basename = g_file_get_basename (a->file);
      if (path == NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "Only local files can be sent");
          goto out;
        }
      /* A stat, not a read: cheap enough for the main loop. */
      info = g_file_query_info (a->file, G_FILE_ATTRIBUTE_STANDARD_SIZE "," G_FILE_ATTRIBUTE_STANDARD_TYPE,
                                G_FILE_QUERY_INFO_NONE, NULL, error);
      if (info == NULL)
        goto out;
      if (g_file_info_get_file_type (info) != G_FILE_TYPE_REGULAR || g_file_info_get_size (info) <= 0)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "%s is not a file with something in it", basename);
          goto out;
        }
      name = file_name_for (basename);
      mime = mime_for (name);
      obj = json_object_new ();
      json_object_set_string_member (obj, "path", path);
      json_object_set_string_member (obj, "name", name);
      json_object_set_string_member (obj, "mime", mime);
      json_object_set_int_member (obj, "size", g_file_info_get_size (info));
      set_image_members (obj, MIN (a->width, 65535), MIN (a->height, 65535), -1);
      json_array_add_object_element (array, obj);

      if (a->preview != NULL && g_bytes_get_size (a->preview) > 0)
        {
          const char *pmime = a->preview_mime != NULL ? a->preview_mime : "image/png";
          char *ppath;

          if (!natter_mime_is_valid (pmime))
            {
              g_set_error (error, NATTER_ERROR, NATTER_ERROR_INVALID_ARGUMENT, "%s is not a MIME type", pmime);
              goto out;
            }
          ppath = write_preview (self, a->preview, pmime, error);
          if (ppath == NULL)
            goto out;
          g_ptr_array_add (written, ppath);
          obj = json_object_new ();
          json_object_set_string_member (obj, "path", ppath);
          json_object_set_string_member (obj, "name", "preview");
          json_object_set_string_member (obj, "mime", pmime);
          json_object_set_int_member (obj, "size", g_bytes_get_size (a->preview));
          set_image_members (obj, MIN (a->preview_width, 65535), MIN (a->preview_height, 65535), i);
          json_array_add_object_element (previews, obj);
        }
    }
  /* The previews after the files: an entry's files keep their indices. */
  for (guint i = 0; i < json_array_get_length (previews); i++)
    json_array_add_object_element (array, json_object_ref (json_array_get_object_element (previews, i)));

  node = json_node_init_array (json_node_alloc (), array);
  json = json_to_string (node, FALSE);
  msg = natter_client_outbox_send_files (self, address, body, json);
  if (msg == NULL)
    g_set_error_literal (error, NATTER_ERROR, NATTER_ERROR_INVALID_ARGUMENT, "No such conversation");

out:
  if (msg == NULL)
    for (guint i = 0; i < written->len; i++)
      remove_preview (self, written->pdata[i]);
  return msg;
}
