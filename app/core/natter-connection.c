/* natter-connection.c: one connection to natterd.
 *
 * Reads go through one fixed buffer into a NatterFrameReader; each frame is
 * parsed by the strict natter_json_parse_frame() (never json-glib's own
 * parser) and is either the reply to a pending request (matched by "re") or
 * an event. Writes are queued and leave in order, coalesced into one
 * buffer per write so a burst of sends costs one syscall.
 */
#define G_LOG_DOMAIN "natter-connection"

#include <string.h>

#include "natter-connection.h"
#include "natter-core-enums.h"
#include "natter-error.h"
#include "natter-frame-reader.h"
#include "natter-json.h"

#define READ_BUFFER_SIZE   (64 * 1024)
#define WRITE_COALESCE_MAX (256 * 1024)
/* Resolving, connecting, the TLS handshake and the welcome together. */
#define OPEN_TIMEOUT_SECONDS 20
/* The server closes a connection that sent nothing for 120 s (its default
 * idle timeout); a ping every 50 s keeps an idle one open, and a ping
 * still unanswered at the next tick means the path is dead: closing then
 * lets the client reconnect instead of waiting on TCP for many minutes. */
#define KEEPALIVE_SECONDS 50

struct _NatterConnection
{
  GObject parent_instance;

  /* owned references */
  NatterKnownHosts  *known_hosts;
  GSocketClient     *socket_client;
  GIOStream         *stream;       /* the TLS connection, or the plain one */
  GCancellable      *cancellable;  /* cancelled by close */
  GTask             *open_task;    /* until the welcome arrives */
  GQueue             write_queue;  /* GBytes */
  GBytes            *writing;      /* the buffer being written */
  GHashTable        *pending;      /* request id → GTask */

  NatterFrameReader  reader;
  guint8            *read_buffer;
  char              *host;
  char              *fingerprint;
  GStrv              trusted_elsewhere; /* the server's other addresses' fingerprints */
  gint64             next_id;
  gsize              max_frame;    /* what the server accepts from us */
  guint              open_timeout_id;
  guint              keepalive_id;
  gboolean           ping_outstanding;
  gulong             cancel_handler_id;
  GCancellable      *open_cancellable; /* the caller's, borrowed for the handler */
  GMainContext      *context;          /* where we were opened */
  guint16            port;
  gboolean           use_tls;
  gboolean           cert_unknown;
  gboolean           cert_changed;
  gboolean           cert_adopted; /* unknown here, trusted for another address */
  gboolean           open;         /* welcome seen */
  gboolean           closed;
};

G_DEFINE_FINAL_TYPE (NatterConnection, natter_connection, G_TYPE_OBJECT)

enum {
  SIGNAL_EVENT,
  SIGNAL_CLOSED,
  N_SIGNALS,
};

static guint signals[N_SIGNALS];

static void close_with_error (NatterConnection *self, GError *error);
static void start_read (NatterConnection *self);

static void
natter_connection_dispose (GObject *object)
{
  NatterConnection *self = NATTER_CONNECTION (object);

  if (!self->closed)
    {
      /* Nobody listens any more: close quietly. */
      g_signal_handlers_destroy (object);
      close_with_error (self, NULL);
    }

  g_clear_object (&self->socket_client);
  g_clear_object (&self->stream);
  g_clear_object (&self->known_hosts);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (natter_connection_parent_class)->dispose (object);
}

static void
natter_connection_finalize (GObject *object)
{
  NatterConnection *self = NATTER_CONNECTION (object);

  g_queue_clear_full (&self->write_queue, (GDestroyNotify) g_bytes_unref);
  g_clear_pointer (&self->writing, g_bytes_unref);
  g_hash_table_unref (self->pending);
  natter_frame_reader_clear (&self->reader);
  g_free (self->read_buffer);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_free (self->host);
  g_free (self->fingerprint);
  g_strfreev (self->trusted_elsewhere);

  G_OBJECT_CLASS (natter_connection_parent_class)->finalize (object);
}

static void
natter_connection_class_init (NatterConnectionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = natter_connection_dispose;
  object_class->finalize = natter_connection_finalize;

  /* A frame without "re" (or an error with "re": null). */
  signals[SIGNAL_EVENT] =
    g_signal_new ("event", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, JSON_TYPE_OBJECT);
  /* Emitted once, after the welcome, when the connection ends; the error
   * is NULL when we closed it ourselves. */
  signals[SIGNAL_CLOSED] =
    g_signal_new ("closed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_ERROR);
}

static void
natter_connection_init (NatterConnection *self)
{
  g_queue_init (&self->write_queue);
  self->pending = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_object_unref);
  self->next_id = 1;
  self->max_frame = 65536;
  natter_frame_reader_init (&self->reader, NATTER_CONNECTION_MAX_FRAME);
}

NatterConnection *
natter_connection_new (NatterKnownHosts *known_hosts)
{
  NatterConnection *self = g_object_new (NATTER_TYPE_CONNECTION, NULL);

  self->known_hosts = known_hosts != NULL ? g_object_ref (known_hosts) : NULL;
  return self;
}

const char *
natter_connection_get_peer_fingerprint (NatterConnection *self)
{
  g_return_val_if_fail (NATTER_IS_CONNECTION (self), NULL);
  return self->fingerprint;
}

void
natter_connection_set_trusted_elsewhere (NatterConnection  *self,
                                         const char *const *fingerprints)
{
  g_return_if_fail (NATTER_IS_CONNECTION (self));

  g_strfreev (self->trusted_elsewhere);
  self->trusted_elsewhere = g_strdupv ((GStrv) fingerprints);
}

gboolean
natter_connection_get_adopted (NatterConnection *self)
{
  g_return_val_if_fail (NATTER_IS_CONNECTION (self), FALSE);
  return self->cert_adopted;
}

static gboolean
trusted_elsewhere (NatterConnection *self)
{
  for (guint i = 0; self->trusted_elsewhere != NULL && self->trusted_elsewhere[i] != NULL; i++)
    if (g_ascii_strcasecmp (self->trusted_elsewhere[i], self->fingerprint) == 0)
      return TRUE;
  return FALSE;
}

gboolean
natter_connection_is_open (NatterConnection *self)
{
  g_return_val_if_fail (NATTER_IS_CONNECTION (self), FALSE);
  return self->open && !self->closed;
}

/* ---- closing --------------------------------------------------------------- */

static void
stream_closed_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_io_stream_close_finish (G_IO_STREAM (object), result, NULL);
}

static void
close_with_error (NatterConnection *self,
                  GError           *error)
{
  g_autoptr(GTask) open_task = NULL;
  g_autoptr(GHashTable) pending = NULL;
  GHashTableIter iter;
  gpointer task;
  gboolean was_open;

  if (self->closed)
    {
      g_clear_error (&error);
      return;
    }

  g_object_ref (self);

  self->closed = TRUE;
  was_open = self->open;
  g_clear_handle_id (&self->open_timeout_id, g_source_remove);
  g_clear_handle_id (&self->keepalive_id, g_source_remove);
  if (self->cancel_handler_id != 0)
    {
      g_cancellable_disconnect (self->open_cancellable, self->cancel_handler_id);
      self->cancel_handler_id = 0;
    }
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);

  if (self->stream != NULL)
    g_io_stream_close_async (self->stream, G_PRIORITY_DEFAULT, NULL, stream_closed_cb, NULL);

  /* Fail everything that waits, after detaching it so callbacks that
   * make new requests see a closed connection. */
  open_task = g_steal_pointer (&self->open_task);
  pending = g_steal_pointer (&self->pending);
  self->pending = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_object_unref);

  if (open_task != NULL)
    {
      if (error != NULL)
        g_task_return_error (open_task, g_error_copy (error));
      else
        g_task_return_new_error (open_task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                 "The connection was closed");
    }

  g_hash_table_iter_init (&iter, pending);
  while (g_hash_table_iter_next (&iter, NULL, &task))
    g_task_return_new_error (task, NATTER_CLIENT_ERROR, NATTER_CLIENT_ERROR_CLOSED,
                             "The connection closed before the reply came");

  if (was_open)
    g_signal_emit (self, signals[SIGNAL_CLOSED], 0, error);

  g_clear_error (&error);
  g_object_unref (self);
}

void
natter_connection_close (NatterConnection *self)
{
  g_return_if_fail (NATTER_IS_CONNECTION (self));
  close_with_error (self, NULL);
}

/* ---- writing --------------------------------------------------------------- */

static void start_write (NatterConnection *self);

static void
write_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(NatterConnection) self = user_data;
  g_autoptr(GError) error = NULL;

  g_clear_pointer (&self->writing, g_bytes_unref);

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (object), result, NULL, &error))
    {
      if (!self->closed)
        close_with_error (self, g_error_new (NATTER_CLIENT_ERROR, NATTER_CLIENT_ERROR_CLOSED,
                                             "Cannot write to the server: %s", error->message));
      return;
    }

  start_write (self);
}

static void
start_write (NatterConnection *self)
{
  GOutputStream *output;
  GBytes *first;

  if (self->closed || self->writing != NULL || self->stream == NULL ||
      g_queue_is_empty (&self->write_queue))
    return;

  first = g_queue_pop_head (&self->write_queue);
  if (g_queue_is_empty (&self->write_queue) || g_bytes_get_size (first) >= WRITE_COALESCE_MAX)
    self->writing = first;
  else
    {
      /* Coalesce queued frames: many small sends become one write. */
      GByteArray *buf = g_byte_array_sized_new (g_bytes_get_size (first) * 2);
      GBytes *next = first;

      do
        {
          g_byte_array_append (buf, g_bytes_get_data (next, NULL), g_bytes_get_size (next));
          g_bytes_unref (next);
          next = g_queue_peek_head (&self->write_queue);
          if (next == NULL || buf->len + g_bytes_get_size (next) > WRITE_COALESCE_MAX)
            break;
          g_queue_pop_head (&self->write_queue);
        }
      while (TRUE);
      self->writing = g_byte_array_free_to_bytes (buf);
    }

  output = g_io_stream_get_output_stream (self->stream);
  g_output_stream_write_all_async (output,
                                   g_bytes_get_data (self->writing, NULL),
                                   g_bytes_get_size (self->writing),
                                   G_PRIORITY_DEFAULT, self->cancellable,
                                   write_cb, g_object_ref (self));
}

static void
queue_line (NatterConnection *self,
            char             *line,
            gsize             len)
{
  g_queue_push_tail (&self->write_queue, g_bytes_new_take (line, len));
  start_write (self);
}

/* Serialises @obj as one line; NULL when it would exceed what the server
 * accepts. */
static char *
encode_line (NatterConnection *self,
             JsonObject       *obj,
             gsize            *out_len)
{
  g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), obj);
  char *text = natter_json_to_string (node);
  gsize len = strlen (text);

  if (len + 1 > self->max_frame)
    {
      g_free (text);
      return NULL;
    }
  text = g_realloc (text, len + 2);
  text[len] = '\n';
  text[len + 1] = '\0';
  *out_len = len + 1;
  return text;
}

void
natter_connection_send (NatterConnection *self,
                        JsonObject       *request)
{
  char *line;
  gsize len;

  g_return_if_fail (NATTER_IS_CONNECTION (self));

  if (self->closed || !self->open)
    return;
  line = encode_line (self, request, &len);
  if (line == NULL)
    {
      g_warning ("Dropping a %s frame larger than the server accepts",
                 json_object_get_string_member_with_default (request, "type", "?"));
      return;
    }
  queue_line (self, line, len);
}

void
natter_connection_request_async (NatterConnection    *self,
                                 JsonObject          *request,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  char *line;
  gsize len;
  gint64 id;

  g_return_if_fail (NATTER_IS_CONNECTION (self));
  g_return_if_fail (request != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, natter_connection_request_async);

  if (self->closed || !self->open)
    {
      g_task_return_new_error (task, NATTER_CLIENT_ERROR, NATTER_CLIENT_ERROR_NOT_CONNECTED,
                               "Not connected to the server");
      return;
    }

  id = self->next_id++;
  json_object_set_int_member (request, "id", id);
  line = encode_line (self, request, &len);
  json_object_remove_member (request, "id");

  if (line == NULL)
    {
      g_task_return_new_error (task, NATTER_ERROR, NATTER_ERROR_FRAME_TOO_LARGE,
                               "The request is larger than the server accepts");
      return;
    }

  g_hash_table_insert (self->pending, g_memdup2 (&id, sizeof id), g_steal_pointer (&task));
  queue_line (self, line, len);
}

JsonObject *
natter_connection_request_finish (NatterConnection  *self,
                                  GAsyncResult      *result,
                                  GError           **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- reading --------------------------------------------------------------- */

static GError *
error_from_frame (JsonObject *frame)
{
  const char *code = json_object_get_string_member_with_default (frame, "code", NULL);
  const char *message = json_object_get_string_member_with_default (frame, "message", NULL);
  NatterErrorCode value;

  if (code == NULL || !natter_error_code_from_string (code, &value))
    value = NATTER_ERROR_INTERNAL;
  return g_error_new_literal (NATTER_ERROR, value,
                              message != NULL && *message != '\0' ? message :
                              code != NULL ? code : "Unknown error");
}

/* NATTER_CLIENT_KEEPALIVE_MS overrides the interval, so that tests can see
 * a dead path detected in seconds rather than minutes. */
static guint
keepalive_interval_ms (void)
{
  static guint interval;

  if (interval == 0)
    {
      const char *env = g_getenv ("NATTER_CLIENT_KEEPALIVE_MS");
      guint64 value = env != NULL ? g_ascii_strtoull (env, NULL, 10) : 0;

      interval = value >= 100 && value <= G_MAXINT ? (guint) value : KEEPALIVE_SECONDS * 1000;
    }
  return interval;
}

static void
pong_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  NatterConnection *self = NATTER_CONNECTION (object);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) reply = natter_connection_request_finish (self, result, &error);

  /* Any answer, even an error frame (rate_limited), proves the path works. */
  if (reply != NULL || (error != NULL && error->domain == NATTER_ERROR))
    self->ping_outstanding = FALSE;
}

static gboolean
keepalive_cb (gpointer user_data)
{
  NatterConnection *self = user_data;
  g_autoptr(JsonObject) ping = NULL;

  if (self->ping_outstanding)
    {
      self->keepalive_id = 0;
      close_with_error (self, g_error_new_literal (NATTER_CLIENT_ERROR, NATTER_CLIENT_ERROR_CLOSED,
                                                   "The server stopped answering"));
      return G_SOURCE_REMOVE;
    }

  ping = json_object_new ();
  json_object_set_string_member (ping, "type", "ping");
  self->ping_outstanding = TRUE;
  natter_connection_request_async (self, ping, NULL, pong_cb, NULL);
  return G_SOURCE_CONTINUE;
}

static void
handle_welcome (NatterConnection *self,
                JsonObject       *frame)
{
  g_autoptr(GTask) task = g_steal_pointer (&self->open_task);
  const char *type = json_object_get_string_member (frame, "type");
  JsonNode *max_frame = json_object_get_member (frame, "max_frame");

  g_clear_handle_id (&self->open_timeout_id, g_source_remove);
  if (self->cancel_handler_id != 0)
    {
      g_cancellable_disconnect (self->open_cancellable, self->cancel_handler_id);
      self->cancel_handler_id = 0;
    }

  if (g_str_equal (type, "error"))
    {
      /* server_busy and friends come before the close. */
      close_with_error (self, error_from_frame (frame));
      g_task_return_error (task, error_from_frame (frame));
      return;
    }
  if (!g_str_equal (type, "welcome"))
    {
      close_with_error (self, NULL);
      g_task_return_new_error (task, NATTER_CLIENT_ERROR, NATTER_CLIENT_ERROR_PROTOCOL,
                               "The server did not send a welcome");
      return;
    }

  if (max_frame != NULL && JSON_NODE_HOLDS_VALUE (max_frame) &&
      json_node_get_value_type (max_frame) == G_TYPE_INT64 &&
      json_node_get_int (max_frame) >= 1024)
    self->max_frame = MIN ((gint64) json_node_get_int (max_frame), G_MAXINT32);

  self->open = TRUE;
  self->keepalive_id = g_timeout_add (keepalive_interval_ms (), keepalive_cb, self);
  g_task_return_pointer (task, json_object_ref (frame), (GDestroyNotify) json_object_unref);
}

static void
handle_frame (NatterConnection *self,
              JsonObject       *frame)
{
  const char *type = json_object_get_string_member (frame, "type");
  JsonNode *re = json_object_get_member (frame, "re");

  if (self->open_task != NULL)
    {
      handle_welcome (self, frame);
      return;
    }

  if (re != NULL && JSON_NODE_HOLDS_VALUE (re) &&
      json_node_get_value_type (re) == G_TYPE_INT64 &&
      (g_str_equal (type, "ok") || g_str_equal (type, "error") || g_str_equal (type, "pong")))
    {
      gint64 id = json_node_get_int (re);
      gpointer key = NULL, value = NULL;

      if (g_hash_table_steal_extended (self->pending, &id, &key, &value))
        {
          g_autoptr(GTask) task = value;

          g_free (key);
          if (g_str_equal (type, "error"))
            g_task_return_error (task, error_from_frame (frame));
          else
            g_task_return_pointer (task, json_object_ref (frame),
                                   (GDestroyNotify) json_object_unref);
        }
      else
        g_debug ("Reply to unknown request %" G_GINT64_FORMAT, id);
      return;
    }

  if (g_str_equal (type, "ping"))
    {
      g_autoptr(JsonObject) pong = json_object_new ();

      json_object_set_string_member (pong, "type", "pong");
      if (re == NULL && json_object_has_member (frame, "id"))
        json_object_set_member (pong, "re", json_node_copy (json_object_get_member (frame, "id")));
      natter_connection_send (self, pong);
      return;
    }

  g_signal_emit (self, signals[SIGNAL_EVENT], 0, frame);
}

static gboolean
frame_cb (const char *line,
          gsize       len,
          gpointer    user_data)
{
  NatterConnection *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = NULL;
  JsonObject *frame = NULL;

  /* Blank lines carry nothing (a lenient reading of the framing). */
  if (len == 0 || (len == 1 && line[0] == '\r'))
    return TRUE;

  node = natter_json_parse_frame (line, len, &frame, &error);
  if (node == NULL)
    {
      close_with_error (self, g_error_new (NATTER_CLIENT_ERROR, NATTER_CLIENT_ERROR_PROTOCOL,
                                           "The server sent an invalid frame: %s",
                                           error->message));
      return FALSE;
    }

  handle_frame (self, frame);
  return !self->closed;
}

static void
read_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(NatterConnection) self = user_data;
  g_autoptr(GError) error = NULL;
  gssize n;

  n = g_input_stream_read_finish (G_INPUT_STREAM (object), result, &error);
  if (self->closed)
    return;

  if (n < 0)
    {
      close_with_error (self, g_error_new (NATTER_CLIENT_ERROR, NATTER_CLIENT_ERROR_CLOSED,
                                           "Lost the connection: %s", error->message));
      return;
    }
  if (n == 0)
    {
      close_with_error (self, g_error_new_literal (NATTER_CLIENT_ERROR,
                                                   self->open ? NATTER_CLIENT_ERROR_CLOSED
                                                              : NATTER_CLIENT_ERROR_PROTOCOL,
                                                   "The server closed the connection"));
      return;
    }

  switch (natter_frame_reader_push (&self->reader, self->read_buffer, n, frame_cb, self))
    {
    case NATTER_FRAME_READER_OK:
      break;
    case NATTER_FRAME_READER_STOPPED:
      /* Only stops when closed. */
      return;
    case NATTER_FRAME_READER_TOO_LARGE:
    default:
      close_with_error (self, g_error_new_literal (NATTER_CLIENT_ERROR, NATTER_CLIENT_ERROR_PROTOCOL,
                                                   "The server sent a frame over 4 MiB"));
      return;
    }

  start_read (self);
}

static void
start_read (NatterConnection *self)
{
  if (self->closed)
    return;
  g_input_stream_read_async (g_io_stream_get_input_stream (self->stream),
                             self->read_buffer, READ_BUFFER_SIZE,
                             G_PRIORITY_DEFAULT, self->cancellable,
                             read_cb, g_object_ref (self));
}

/* ---- opening --------------------------------------------------------------- */

static gboolean
open_timeout_cb (gpointer user_data)
{
  NatterConnection *self = user_data;

  self->open_timeout_id = 0;
  close_with_error (self, g_error_new_literal (NATTER_CLIENT_ERROR, NATTER_CLIENT_ERROR_UNREACHABLE,
                                               "The server did not answer in time"));
  return G_SOURCE_REMOVE;
}

static gboolean
cancel_idle_cb (gpointer user_data)
{
  NatterConnection *self = user_data;

  close_with_error (self, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                               "Connecting was cancelled"));
  return G_SOURCE_REMOVE;
}

static void
open_cancelled_cb (GCancellable *cancellable,
                   gpointer      user_data)
{
  NatterConnection *self = user_data;
  g_autoptr(GSource) source = g_idle_source_new ();

  /* Not directly: this may run in another thread, and disconnecting from
   * inside the handler (which closing does) would deadlock. */
  g_source_set_callback (source, cancel_idle_cb, g_object_ref (self), g_object_unref);
  g_source_attach (source, self->context);
}

static void
set_fingerprint (NatterConnection *self,
                 GTlsCertificate  *certificate)
{
  g_autoptr(GByteArray) der = NULL;
  g_autoptr(GBytes) bytes = NULL;

  if (certificate == NULL)
    return;
  g_object_get (certificate, "certificate", &der, NULL);
  if (der == NULL)
    return;
  bytes = g_bytes_new (der->data, der->len);
  g_free (self->fingerprint);
  self->fingerprint = natter_known_hosts_fingerprint (bytes);
}

/* Only called for a certificate the system does not trust. */
static gboolean
accept_certificate_cb (GTlsConnection       *conn,
                       GTlsCertificate      *peer_cert,
                       GTlsCertificateFlags  errors,
                       gpointer              user_data)
{
  NatterConnection *self = user_data;
  const char *known;

  set_fingerprint (self, peer_cert);
  if (self->fingerprint == NULL)
    return FALSE;

  known = self->known_hosts != NULL ?
    natter_known_hosts_lookup (self->known_hosts, self->host, self->port) : NULL;

  if (known == NULL && trusted_elsewhere (self))
    {
      self->cert_adopted = TRUE;
      return TRUE;
    }
  if (known == NULL)
    {
      self->cert_unknown = TRUE;
      return FALSE;
    }
  if (g_ascii_strcasecmp (known, self->fingerprint) != 0)
    {
      self->cert_changed = TRUE;
      return FALSE;
    }
  return TRUE;
}

static void
start_session (NatterConnection *self)
{
  self->read_buffer = g_malloc (READ_BUFFER_SIZE);
  start_read (self);
}

static void
handshake_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(NatterConnection) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!g_tls_connection_handshake_finish (G_TLS_CONNECTION (object), result, &error))
    {
      GError *reason;

      if (self->closed)
        return;
      if (self->cert_changed)
        reason = g_error_new (NATTER_CLIENT_ERROR, NATTER_CLIENT_ERROR_CERTIFICATE_CHANGED,
                              "The certificate of %s:%u changed (now %s)",
                              self->host, self->port, self->fingerprint);
      else if (self->cert_unknown)
        reason = g_error_new (NATTER_CLIENT_ERROR, NATTER_CLIENT_ERROR_CERTIFICATE_UNKNOWN,
                              "The certificate of %s:%u is not trusted (%s)",
                              self->host, self->port, self->fingerprint);
      else
        reason = g_error_new (NATTER_CLIENT_ERROR, NATTER_CLIENT_ERROR_UNREACHABLE,
                              "TLS handshake with %s:%u failed: %s",
                              self->host, self->port, error->message);
      close_with_error (self, reason);
      return;
    }

  if (self->closed)
    return;

  /* A certificate the system trusts never reached accept-certificate. */
  if (self->fingerprint == NULL)
    set_fingerprint (self, g_tls_connection_get_peer_certificate (G_TLS_CONNECTION (object)));

  start_session (self);
}

static void
connect_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(NatterConnection) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketConnection) conn = NULL;

  conn = g_socket_client_connect_finish (G_SOCKET_CLIENT (object), result, &error);
  if (self->closed)
    {
      if (conn != NULL)
        g_io_stream_close_async (G_IO_STREAM (conn), G_PRIORITY_DEFAULT, NULL, stream_closed_cb, NULL);
      return;
    }
  if (conn == NULL)
    {
      close_with_error (self, g_error_new (NATTER_CLIENT_ERROR, NATTER_CLIENT_ERROR_UNREACHABLE,
                                           "Cannot reach %s:%u: %s",
                                           self->host, self->port, error->message));
      return;
    }

  g_socket_set_keepalive (g_socket_connection_get_socket (conn), TRUE);

  if (!self->use_tls)
    {
      self->stream = G_IO_STREAM (g_steal_pointer (&conn));
      start_session (self);
      return;
    }

  {
    g_autoptr(GSocketConnectable) identity = g_network_address_new (self->host, self->port);
    GIOStream *tls;

    tls = g_tls_client_connection_new (G_IO_STREAM (conn), identity, &error);
    if (tls == NULL)
      {
        close_with_error (self, g_error_new (NATTER_CLIENT_ERROR, NATTER_CLIENT_ERROR_UNREACHABLE,
                                             "TLS is not available: %s", error->message));
        return;
      }
    self->stream = tls;
    g_signal_connect (tls, "accept-certificate", G_CALLBACK (accept_certificate_cb), self);
    g_tls_connection_handshake_async (G_TLS_CONNECTION (tls), G_PRIORITY_DEFAULT,
                                      self->cancellable, handshake_cb, g_object_ref (self));
  }
}

void
natter_connection_open_async (NatterConnection    *self,
                              const char          *host,
                              guint16              port,
                              gboolean             use_tls,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GSocketConnectable) address = NULL;

  g_return_if_fail (NATTER_IS_CONNECTION (self));
  g_return_if_fail (host != NULL);
  g_return_if_fail (self->open_task == NULL && !self->open && !self->closed);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, natter_connection_open_async);
  /* Cancellation goes through close_with_error, which returns the task. */
  g_task_set_check_cancellable (task, FALSE);

  self->host = g_strdup (host);
  self->port = port;
  self->use_tls = use_tls;
  self->cancellable = g_cancellable_new ();
  self->context = g_main_context_ref_thread_default ();
  self->open_task = g_steal_pointer (&task);
  self->open_timeout_id = g_timeout_add_seconds (OPEN_TIMEOUT_SECONDS, open_timeout_cb, self);

  if (cancellable != NULL)
    {
      self->open_cancellable = cancellable;
      self->cancel_handler_id = g_cancellable_connect (cancellable, G_CALLBACK (open_cancelled_cb),
                                                       self, NULL);
    }

  /* A GNetworkAddress, not a host string to parse again: the host is
   * already one (natter-server-address.c), and GSocketClient goes through
   * every address a name resolves to, in turn (in parallel after 250 ms),
   * before it fails. A name with several addresses is tried on each. */
  address = g_network_address_new (host, port);
  self->socket_client = g_socket_client_new ();
  g_socket_client_connect_async (self->socket_client, address, self->cancellable,
                                 connect_cb, g_object_ref (self));
}

JsonObject *
natter_connection_open_finish (NatterConnection  *self,
                               GAsyncResult      *result,
                               GError           **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
