#define G_LOG_DOMAIN "natterd-connection"

#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "natter-fields.h"
#include "natter-frame-reader.h"
#include "natter-json.h"
#include "natterd-address.h"
#include "natterd-connection-private.h"
#include "natterd-service.h"
#include "natterd-token-bucket.h"
#include "natterd-output-queue.h"
#include "natterd-platform.h"
#include "natterd-poller.h"
#include "natterd-server-private.h"
#include "natterd-tls-handshake.h"

/* How many pieces of the queue one write hands to the kernel at most. */
#define MAX_WRITE_VECTORS 256
/* Reads in a row from a TLS stream before others get their turn: TLS keeps
 * decrypted bytes of its own, which the socket's readiness does not show. */
#define MAX_TLS_READS 16
/* How long a closing connection may take to take its last frames. */
#define CLOSE_GRACE_USEC (5 * G_USEC_PER_SEC)

struct _NatterdConnection {
  gint                 ref_count;

  /* Borrowed: the server outlives every connection. */
  NatterdServer       *server;
  gpointer             session;       /* the chat layer's; NULL: not logged in */
  NatterdAddressCount *address;     /* the server's, released at the close */
  char                 address_key[NATTERD_ADDRESS_KEY_MAX]; /* a copy: requests outlive the close */

  /* Owned. A plain TCP connection is its descriptor alone; GIO objects
   * exist only for TLS, whose GTlsServerConnection needs a base stream. */
  int                  fd;
  GSocketConnection   *tcp;           /* TLS only */
  GIOStream           *stream;        /* TLS only: the GTlsServerConnection over tcp */
  GCancellable        *handshake;     /* only while the TLS handshake runs */
  GTlsCertificate     *certificate;   /* borrowed (the server's); TLS, until the handshake starts */
  gsize                hello_buffered;/* natterd_tls_hello_check's */
  NatterdPollHandle    poll;          /* the socket in the server's epoll set */
  NatterFrameReader    reader;
  NatterdOutputQueue   output;
  GQueue               requests;      /* NatterdRequest waiting to reply, in order */
  NatterdRequest      *pausing;       /* the request reading waits for */
  gboolean             waiting_output; /* reading waits for the output queue to drain (BULK) */

  gint64               unauthenticated_since; /* monotonic µs: connect, or logout */
  gint64               last_received; /* monotonic µs */
  gint64               closing_since; /* monotonic µs */
  NatterdTokenBucket   frames;        /* frames_per_second, frame_burst */
  guint                features;      /* natter-features.h, turned on at login */

  GList                server_link;
  GList                flush_link;
  GList                service_link;  /* the layer above's to use */

  guint                ready : 1;     /* welcome sent; frames flow */
  guint                reading : 1;   /* waiting for input */
  guint                want_write : 1;/* the kernel's buffer is full */
  guint                is_tls : 1;
  guint                closing : 1;
  guint                closed : 1;
  guint                pinged : 1;
  guint                over_limit : 1;
  guint                resume_scheduled : 1; /* a read from an idle */
  guint                resume_pending : 1;   /* reading resumes after a pause */
  guint                send_prepared : 1;    /* a shared flush has the queue's vectors */
  gint                 gone;          /* closed, for other threads (atomic) */
};

static void start_reading (NatterdConnection *self);
static void drop_output   (NatterdConnection *self);
static void drop_slow_reader (NatterdConnection *self);
static void stop_reading  (NatterdConnection *self);
static void schedule_read (NatterdConnection *self);
static void schedule_resume (NatterdConnection *self);
static void on_poll_event (gpointer data, guint32 events);

NatterdConnection *
natterd_connection_ref (NatterdConnection *self)
{
  g_atomic_int_inc (&self->ref_count);
  return self;
}

void
natterd_connection_unref (NatterdConnection *self)
{
  if (!g_atomic_int_dec_and_test (&self->ref_count))
    return;

  g_assert (self->closed);
  g_assert (self->requests.length == 0);
  g_clear_object (&self->stream);
  g_clear_object (&self->tcp);
  g_free (self);
}

NatterdServer *
natterd_connection_get_server (NatterdConnection *self)
{
  return self->server;
}

GList *
natterd_connection_get_server_link (NatterdConnection *self)
{
  return &self->server_link;
}

GList *
natterd_connection_get_flush_link (NatterdConnection *self)
{
  return &self->flush_link;
}

GList *
natterd_connection_get_service_link (NatterdConnection *self)
{
  return &self->service_link;
}

NatterdAddressCount *
natterd_connection_get_address (NatterdConnection *self)
{
  return self->address;
}

const char *
natterd_connection_get_address_key (NatterdConnection *self)
{
  return self->address_key;
}

gpointer
natterd_connection_get_session (NatterdConnection *self)
{
  return self->session;
}

void
natterd_connection_set_session (NatterdConnection *self,
                                gpointer           session)
{
  self->session = session;
  if (session == NULL)
    self->unauthenticated_since = g_get_monotonic_time (); /* logout: the login timeout starts again */
}

gboolean
natterd_connection_is_closed (NatterdConnection *self)
{
  return self->closed || self->closing;
}

gboolean
natterd_connection_is_gone (NatterdConnection *self)
{
  return g_atomic_int_get (&self->gone) != 0;
}

/* --- writing --- */

/* Forgets every queued frame (and a shared flush's claim on them). */
static void
drop_output (NatterdConnection *self)
{
  natterd_output_queue_clear (&self->output);
  self->send_prepared = FALSE;
}

/* A reader this far behind does not read: an error frame would only wait
 * behind the rest. It reconnects and syncs; nothing is lost. The close
 * itself waits for the flush idle, so that no caller's loop over
 * connections sees one vanish under it. */
static void
drop_slow_reader (NatterdConnection *self)
{
  g_info ("Closing a connection from %s: %" G_GSIZE_FORMAT " bytes queued and not read",
          self->address_key, natterd_output_queue_get_size (&self->output));
  drop_output (self);
  self->want_write = FALSE;
  natterd_connection_close (self);
}

void
natterd_connection_send_bytes (NatterdConnection *self,
                               GBytes            *frame)
{
  const NatterdConfig *config;

  if (self->closed || self->closing)
    return;

  natterd_output_queue_push (&self->output, frame);

  /* The limit is judged after a write attempt (in flush): a burst that the
   * reader takes at once is fine. Only a queue twice over the limit within
   * one iteration is dropped here, so that memory stays bounded. */
  config = natterd_server_get_config (self->server);
  if (natterd_output_queue_get_size (&self->output) > 2 * config->output_queue_bytes)
    {
      drop_slow_reader (self);
      return;
    }

  if (self->ready && !self->want_write)
    natterd_server_schedule_flush (self->server, self);
}

void
natterd_connection_send_str (NatterdConnection *self,
                             const char        *frame,
                             gsize              len)
{
  g_autoptr(GBytes) bytes = g_bytes_new (frame, len);

  natterd_connection_send_bytes (self, bytes);
}

static GBytes *
encode_error (const char *code,
              const char *message)
{
  GString *out = g_string_sized_new (128);
  NatterJsonWriter w;

  natter_json_writer_init (&w, out);
  natter_json_writer_begin_object (&w);
  natter_json_writer_key (&w, "type");
  natter_json_writer_string (&w, "error");
  natter_json_writer_key (&w, "re");
  natter_json_writer_null (&w);
  natter_json_writer_key (&w, "code");
  natter_json_writer_string (&w, code);
  natter_json_writer_key (&w, "message");
  natter_json_writer_string (&w, message);
  natter_json_writer_end_object (&w);
  g_string_append_c (out, '\n');
  return g_string_free_to_bytes (out);
}

void
natterd_connection_send_error (NatterdConnection *self,
                               const char        *code,
                               const char        *message)
{
  g_autoptr(GBytes) bytes = encode_error (code, message);

  natterd_connection_send_bytes (self, bytes);
}

static void
update_poll (NatterdConnection *self)
{
  /* Not reading (a login hashing, a transfer's window full, the client
   * not reading its replies), a client that goes away is noticed by its
   * FIN alone: closed then, its login is not hashed for nobody
   * (natterd-auth's worker skips a closed connection's job). */
  guint32 events = (self->reading ? NATTERD_POLL_IN : NATTERD_POLL_PEER_CLOSED) |
                   (self->want_write ? NATTERD_POLL_OUT : 0);

  if (self->closed || !self->ready)
    return;
  natterd_poller_watch (natterd_server_get_poller (self->server), &self->poll, events);
}

static void
wait_until_writable (NatterdConnection *self)
{
  self->want_write = TRUE;
  update_poll (self);
}

static GPollableReturn
send_item_result (NatterdConnection     *self,
                  const NatterdSendItem *item,
                  gsize                 *written)
{
  if (item->sent >= 0)
    {
      *written = item->sent;
      return G_POLLABLE_RETURN_OK;
    }
  if (item->error == EAGAIN || item->error == EWOULDBLOCK)
    return G_POLLABLE_RETURN_WOULD_BLOCK;
  g_debug ("Write to %s failed: %s", self->address_key, g_strerror (item->error));
  return G_POLLABLE_RETURN_FAILED;
}

/* TLS connections write through their GTlsServerConnection. */
static GPollableOutputStream *
tls_output (NatterdConnection *self)
{
  return self->is_tls ? G_POLLABLE_OUTPUT_STREAM (g_io_stream_get_output_stream (self->stream)) : NULL;
}

/* One write of up to @n vectors, without blocking. */
static GPollableReturn
write_vectors (NatterdConnection *self,
               GOutputVector     *vectors,
               guint              n,
               gsize             *written)
{
  NatterdSendItem item = { .fd = self->fd, .tls_out = tls_output (self), .vectors = vectors, .n_vectors = n };

  natterd_send_item_write (&item);
  return send_item_result (self, &item, written);
}

/* What a write's outcome means for the connection. FALSE: stop writing
 * (the kernel's buffer is full, or the connection is gone). */
static gboolean
take_write_result (NatterdConnection *self,
                   GPollableReturn    rc,
                   gsize              written)
{
  if (rc == G_POLLABLE_RETURN_WOULD_BLOCK)
    {
      const NatterdConfig *config = natterd_server_get_config (self->server);

      if (natterd_output_queue_get_size (&self->output) > config->output_queue_bytes && !self->closing)
        drop_slow_reader (self);
      else
        wait_until_writable (self);
      return FALSE;
    }
  if (rc == G_POLLABLE_RETURN_FAILED)
    {
      natterd_connection_close_now (self);
      return FALSE;
    }
  natterd_output_queue_consume (&self->output, written);
  if (self->waiting_output && natterd_output_queue_get_size (&self->output) <= NATTERD_BULK_OUTPUT_BYTES)
    {
      self->waiting_output = FALSE;
      schedule_resume (self);
    }
  return TRUE;
}

/* Writes as much of the queue as the kernel takes now, many frames per
 * system call. */
void
natterd_connection_flush (NatterdConnection *self)
{
  if (self->closed || !self->ready || self->want_write)
    return;

  while (natterd_output_queue_get_size (&self->output) > 0)
    {
      GOutputVector vectors[MAX_WRITE_VECTORS];
      guint n;
      gsize written = 0;
      GPollableReturn rc;

      n = natterd_output_queue_get_vectors (&self->output, vectors, MAX_WRITE_VECTORS);
      rc = write_vectors (self, vectors, n, &written);
      if (!take_write_result (self, rc, written))
        return;
    }

  if (self->closing)
    natterd_connection_close_now (self);
}

gboolean
natterd_connection_prepare_send (NatterdConnection *self,
                                 NatterdSendItem   *item,
                                 GOutputVector     *vectors,
                                 guint              max_vectors)
{
  if (self->closed || !self->ready || self->want_write ||
      natterd_output_queue_get_size (&self->output) == 0)
    return FALSE;

  item->fd = self->fd;
  item->tls_out = tls_output (self);
  item->vectors = vectors;
  item->n_vectors = natterd_output_queue_get_vectors (&self->output, vectors, max_vectors);
  self->send_prepared = TRUE;
  return TRUE;
}

void
natterd_connection_finish_send (NatterdConnection     *self,
                                const NatterdSendItem *item)
{
  gsize written = 0;
  GPollableReturn rc;

  /* Cleared when the queue was dropped since: a slow reader closed by a
   * frame that another connection's result queued. */
  if (!self->send_prepared)
    return;
  self->send_prepared = FALSE;

  rc = send_item_result (self, item, &written);
  if (take_write_result (self, rc, written))
    natterd_connection_flush (self);
}

/* --- closing --- */

void
natterd_connection_close (NatterdConnection *self)
{
  if (self->closed || self->closing)
    return;

  self->closing = TRUE;
  self->closing_since = g_get_monotonic_time ();
  stop_reading (self);

  if (self->handshake != NULL)
    {
      g_cancellable_cancel (self->handshake);
      return;
    }

  /* The queued frames (such as the error that explains the close) are
   * tried once from the flush at the end of this iteration. */
  if (self->ready && !self->want_write)
    natterd_server_schedule_flush (self->server, self);
  else if (!self->ready)
    natterd_connection_close_now (self);
}

void
natterd_connection_refuse_output (NatterdConnection *self)
{
  if (self->closed)
    return;
  self->closing = TRUE;
  self->closing_since = g_get_monotonic_time ();
  stop_reading (self);
  drop_output (self);
}

void
natterd_connection_close_now (NatterdConnection *self)
{
  if (self->closed)
    return;

  self->closed = TRUE;
  self->closing = TRUE;
  g_atomic_int_set (&self->gone, 1);

  /* The descriptor is closed below, which takes it out of the epoll set:
   * no EPOLL_CTL_DEL needed. */
  natterd_poll_handle_forget (&self->poll);
  self->reading = FALSE;
  self->want_write = FALSE;
  if (self->handshake != NULL)
    g_cancellable_cancel (self->handshake);

  drop_output (self);
  natter_frame_reader_clear (&self->reader);

  if (self->session != NULL)
    {
      natterd_server_get_service (self->server)->connection_closed (
        natterd_server_get_service_data (self->server), self);
      self->session = NULL;
    }

  /* Closing the socket itself never blocks, where a TLS close could wait
   * on a peer that does not read. While a handshake's thread still works
   * on the descriptor it is only shut down: closed now, its number could
   * be handed to the next accepted client before that thread (woken by
   * the cancel above) makes its last call on it. The GSocket closes it
   * when the handshake lets go of the connection. */
  if (self->tcp != NULL && self->handshake != NULL)
    g_socket_shutdown (g_socket_connection_get_socket (self->tcp), TRUE, TRUE, NULL);
  else if (self->tcp != NULL)
    g_socket_close (g_socket_connection_get_socket (self->tcp), NULL);
  else if (self->fd >= 0)
    close (self->fd);
  self->fd = -1;

  /* Drops the server's reference; requests still out hold their own. */
  natterd_server_connection_closed (self->server, self);
}

/* --- requests and their ordered replies --- */

void
natterd_connection_enqueue_request (NatterdConnection *self,
                                    NatterdRequest    *request)
{
  g_queue_push_tail_link (&self->requests, natterd_request_get_link (request));
}

static gboolean
resume_cb (gpointer user_data)
{
  NatterdConnection *self = user_data;

  self->resume_pending = FALSE;
  if (self->closed || self->closing || self->pausing != NULL || self->waiting_output)
    return G_SOURCE_REMOVE;
  start_reading (self);
  return G_SOURCE_REMOVE;
}

static void
schedule_resume (NatterdConnection *self)
{
  if (!self->resume_pending && !self->closed)
    {
      self->resume_pending = TRUE;
      g_idle_add_full (G_PRIORITY_DEFAULT, resume_cb,
                       natterd_connection_ref (self),
                       (GDestroyNotify) natterd_connection_unref);
    }
}

void
natterd_connection_request_done (NatterdConnection *self,
                                 NatterdRequest    *request)
{
  /* Each request holds a reference, and the last one freed below may be
   * the connection's last: a request answered after natterd let go of
   * its connection (a password login still waiting for a hash thread
   * when natterd stops). Held until this is done with the connection. */
  natterd_connection_ref (self);
  while (self->requests.head != NULL)
    {
      NatterdRequest *head = self->requests.head->data;
      g_autoptr(GBytes) reply = NULL;

      if (!natterd_request_is_finished (head))
        break;

      g_queue_unlink (&self->requests, natterd_request_get_link (head));
      reply = natterd_request_steal_reply (head);
      if (reply != NULL)
        natterd_connection_send_bytes (self, reply);
      natterd_request_free (head);
    }

  /* Reading resumes from an idle, never from inside the handler that
   * finished the request. */
  if (request == self->pausing)
    {
      self->pausing = NULL;
      schedule_resume (self);
    }
  natterd_connection_unref (self);
}

/* Answers a frame that never reaches a handler, in its turn. */
static void
reply_error (NatterdConnection *self,
             JsonNode          *root,
             JsonNode          *id,
             NatterErrorCode    code,
             const char        *message)
{
  NatterdRequest *request = natterd_request_new (self, root, NULL, id, NULL);

  natterd_request_error (request, code, message);
}

static void
reply_pong (NatterdConnection *self,
            JsonNode          *root,
            JsonNode          *id)
{
  NatterdRequest *request = natterd_request_new (self, root, NULL, id, "ping");

  natterd_request_pong (request);
}

/* The token bucket of frames_per_second and frame_burst. Returns 0 when
 * the frame may go on, else the milliseconds until it could. */
static gint64
take_token (NatterdConnection *self,
            gint64             now)
{
  const NatterdConfig *config = natterd_server_get_config (self->server);

  return natterd_token_bucket_take (&self->frames, config->frame_burst,
                                    config->frames_per_second, now);
}

/* The handler of @type for this connection: NULL for none, and for a
 * type of a feature the connection has not turned on, which does not
 * exist for it. */
static const NatterdHandler *
find_handler (NatterdConnection *self,
              const char        *type)
{
  const NatterdHandler *handler = natterd_server_get_service (self->server)->lookup (
    natterd_server_get_service_data (self->server), type);

  if (handler == NULL || ((handler->flags >> NATTERD_HANDLER_FEATURE_SHIFT) & ~self->features) != 0)
    return NULL;
  return handler;
}

static gint64
peek_token (NatterdConnection *self,
            gint64             now)
{
  const NatterdConfig *config = natterd_server_get_config (self->server);

  return natterd_token_bucket_peek (&self->frames, config->frame_burst,
                                    config->frames_per_second, now);
}

static gboolean
on_frame (const char *line,
          gsize       len,
          gpointer    user_data)
{
  NatterdConnection *self = user_data;
  g_autoptr(GError) error = NULL;
  JsonObject *frame = NULL;
  JsonNode *root;
  JsonNode *id = NULL;
  const char *type;
  const NatterdHandler *handler;
  NatterdRequest *request;
  gint64 retry_after;
  gboolean bulk, in_flight;

  if (self->closed || self->closing)
    return FALSE;

  self->pinged = FALSE;

  root = natter_json_parse_frame (line, len, &frame, &error);
  type = root != NULL ? json_object_get_string_member (frame, "type") : NULL;
  handler = type != NULL ? find_handler (self, type) : NULL;
  bulk = handler != NULL && (handler->flags & NATTERD_HANDLER_BULK);
  /* A transfer's chunks are paced by the window below, not the bucket:
   * they only look at it, and one refused at once takes its token after
   * (a flood of bad chunks is a flood of frames). */
  retry_after = bulk ? peek_token (self, self->last_received) : take_token (self, self->last_received);
  if (root == NULL)
    {
      if (retry_after > 0)
        return TRUE; /* not worth an answer: it was both too fast and broken */
      reply_error (self, NULL, NULL, NATTER_ERROR_BAD_FRAME, error->message);
      return TRUE;
    }

  if (!natter_fields_get_request_id (frame, &id, &error))
    {
      reply_error (self, root, NULL, NATTER_ERROR_INVALID_ARGUMENT, error->message);
      return TRUE;
    }

  if (retry_after > 0)
    {
      request = natterd_request_new (self, root, frame, id, NULL);
      natterd_request_rate_limited (request, retry_after);
      return TRUE;
    }

  if (g_str_equal (type, "ping"))
    {
      reply_pong (self, root, id);
      return TRUE;
    }
  if (g_str_equal (type, "pong"))
    {
      json_node_unref (root);
      return TRUE;
    }

  if (handler == NULL)
    {
      g_autofree char *message = g_strdup_printf ("Unknown request type “%.64s”", type);
      reply_error (self, root, id, NATTER_ERROR_UNKNOWN_TYPE, message);
      return TRUE;
    }
  if ((handler->flags & NATTERD_HANDLER_NEEDS_AUTH) && self->session == NULL)
    {
      reply_error (self, root, id, NATTER_ERROR_NOT_AUTHENTICATED, "Log in first");
      return TRUE;
    }
  if ((handler->flags & NATTERD_HANDLER_BEFORE_AUTH) && self->session != NULL)
    {
      reply_error (self, root, id, NATTER_ERROR_ALREADY_AUTHENTICATED, "Already logged in");
      return TRUE;
    }

  request = natterd_request_new (self, root, frame, id, handler->type);
  handler->func (request);

  /* The request may be gone already (finished and replied): only compare
   * the pointer against what the handler could not finish. */
  in_flight = g_queue_find (&self->requests, request) != NULL && !natterd_request_is_finished (request);
  if (bulk && !in_flight)
    take_token (self, self->last_received);
  if (in_flight && ((handler->flags & NATTERD_HANDLER_PAUSES) || natterd_request_get_pauses (request)))
    {
      self->pausing = request;
      return FALSE;
    }
  /* The window of a transfer: reading waits for the oldest reply. */
  if (bulk && g_queue_get_length (&self->requests) >= NATTERD_BULK_WINDOW)
    {
      self->pausing = self->requests.head->data;
      return FALSE;
    }
  /* Nor while the client has not read the replies already there. */
  if (bulk && natterd_output_queue_get_size (&self->output) > NATTERD_BULK_OUTPUT_BYTES)
    {
      self->waiting_output = TRUE;
      return FALSE;
    }

  return !(self->closed || self->closing);
}

/* --- reading --- */

static void
reject_too_large (NatterdConnection *self)
{
  const NatterdConfig *config = natterd_server_get_config (self->server);
  g_autofree char *message =
    g_strdup_printf ("A frame is longer than %" G_GSIZE_FORMAT " bytes", config->max_frame);

  reply_error (self, NULL, NULL, NATTER_ERROR_FRAME_TOO_LARGE, message);
  natterd_connection_close (self);
}

/* One read without blocking: the byte count, 0 at the end of the stream,
 * -1 when it would block, -2 on an error. */
static gssize
read_some (NatterdConnection *self,
           guint8            *buffer,
           gsize              size)
{
  gssize n;

  if (self->is_tls)
    {
      GInputStream *in = g_io_stream_get_input_stream (self->stream);
      g_autoptr(GError) error = NULL;

      n = g_pollable_input_stream_read_nonblocking (G_POLLABLE_INPUT_STREAM (in), buffer, size, NULL, &error);
      if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        return -1;
      return n < 0 ? -2 : n;
    }

  do
    n = recv (self->fd, buffer, size, 0);
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return (errno == EAGAIN || errno == EWOULDBLOCK) ? -1 : -2;
  return n;
}

/* Reads what is there and hands out the frames. Returns TRUE when a TLS
 * stream may hold more than the socket shows. */
static gboolean
read_input (NatterdConnection *self)
{
  gsize buffer_size;
  guint8 *buffer = natterd_server_get_read_buffer (self->server, &buffer_size);
  guint reads = 0;

  while (self->reading && !self->closed)
    {
      NatterFrameReaderResult result;
      gssize n;

      if (reads++ == (self->is_tls ? MAX_TLS_READS : 1))
        return self->is_tls;

      n = read_some (self, buffer, buffer_size);
      if (n == -1)
        return FALSE;
      if (n <= 0)
        {
          natterd_connection_close_now (self);
          return FALSE;
        }

      self->last_received = g_get_monotonic_time ();
      result = natter_frame_reader_push (&self->reader, buffer, n, on_frame, self);
      if (self->closed)
        return FALSE;

      switch (result)
        {
        case NATTER_FRAME_READER_OK:
          break;
        case NATTER_FRAME_READER_STOPPED:
          stop_reading (self);
          break;
        case NATTER_FRAME_READER_TOO_LARGE:
          reject_too_large (self);
          break;
        default:
          g_assert_not_reached ();
        }
    }
  return FALSE;
}

static gboolean
read_more_cb (gpointer user_data)
{
  NatterdConnection *self = user_data;

  self->resume_scheduled = FALSE;
  if (!self->closed && self->reading && read_input (self))
    schedule_read (self);
  return G_SOURCE_REMOVE;
}

/* Reads again from an idle: after a pause, or when TLS may hold bytes. */
static void
schedule_read (NatterdConnection *self)
{
  if (self->resume_scheduled || self->closed)
    return;
  self->resume_scheduled = TRUE;
  g_idle_add_full (G_PRIORITY_DEFAULT, read_more_cb,
                   natterd_connection_ref (self),
                   (GDestroyNotify) natterd_connection_unref);
}

static void
on_poll_event (gpointer data,
               guint32  events)
{
  NatterdConnection *self = data;

  if (self->closed)
    return;

  natterd_connection_ref (self);

  if ((events & NATTERD_POLL_OUT) && self->want_write)
    {
      self->want_write = FALSE;
      update_poll (self);
      natterd_connection_flush (self);
    }

  if (!self->closed && (events & (NATTERD_POLL_IN | NATTERD_POLL_HUP | NATTERD_POLL_ERR | NATTERD_POLL_PEER_CLOSED)))
    {
      if (self->reading)
        {
          if (read_input (self))
            schedule_read (self);
        }
      else if (events & (NATTERD_POLL_HUP | NATTERD_POLL_ERR | NATTERD_POLL_PEER_CLOSED))
        natterd_connection_close_now (self); /* gone while a login ran */
    }

  natterd_connection_unref (self);
}

static void
stop_reading (NatterdConnection *self)
{
  if (!self->reading)
    return;
  self->reading = FALSE;
  update_poll (self);
}

static void
start_reading (NatterdConnection *self)
{
  if (self->reading || self->closed || self->closing)
    return;

  /* Frames kept back while a login ran go first. */
  if (natter_frame_reader_has_frame (&self->reader))
    {
      NatterdConnection *ref = natterd_connection_ref (self);
      NatterFrameReaderResult result = natter_frame_reader_resume (&self->reader, on_frame, self);
      gboolean stop = (result != NATTER_FRAME_READER_OK) || self->closed || self->closing;

      if (result == NATTER_FRAME_READER_TOO_LARGE && !self->closed)
        reject_too_large (self);
      natterd_connection_unref (ref);
      if (stop)
        return;
    }

  self->reading = TRUE;
  update_poll (self);

  /* TLS may already hold decrypted bytes (sent with the handshake, or read
   * while paused) that no socket event will announce. */
  if (self->is_tls)
    schedule_read (self);
}

/* --- life --- */

static void
become_ready (NatterdConnection *self)
{
  self->ready = TRUE;
  natterd_poll_handle_init (&self->poll, self->fd, on_poll_event, self);

  if (self->over_limit)
    {
      natterd_connection_send_error (self, "server_busy",
                                     "Too many connections from your address");
      natterd_connection_close (self);
      return;
    }

  natterd_connection_send_bytes (self, natterd_server_get_welcome (self->server));
  start_reading (self);
}

static void
handshake_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  NatterdConnection *self = user_data;
  g_autoptr(GError) error = NULL;

  g_clear_object (&self->handshake);
  if (!g_tls_connection_handshake_finish (G_TLS_CONNECTION (object), result, &error))
    {
      g_debug ("TLS handshake with %s failed: %s", self->address_key, error->message);
      natterd_connection_close_now (self);
    }
  else if (!self->closed)
    {
      if (self->closing)
        natterd_connection_close_now (self);
      else
        become_ready (self);
    }

  natterd_connection_unref (self);
}

/* TLS needs GIO objects: a GSocket and a GSocketConnection as the base
 * stream of the GTlsServerConnection. Made only once the ClientHello is
 * there (natterd-tls-handshake.h): a connection that never sends one
 * costs no more than its descriptor. Returns FALSE when they could not be
 * made; the connection is then closed by the caller. */
static gboolean
start_handshake (NatterdConnection *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = g_socket_new_from_fd (self->fd, &error);
  GIOStream *tls;

  if (socket == NULL)
    {
      /* The failed GSocket has closed the descriptor already. */
      g_warning ("Could not start TLS: %s", error->message);
      self->fd = -1;
      return FALSE;
    }
  self->tcp = g_socket_connection_factory_create_connection (socket);

  /* Built by hand rather than with g_tls_server_connection_new so that
   * "database" is NULL from the start: natterd asks for no client
   * certificate, and with the default database glib-networking 2.74
   * parses the whole system CA bundle for every connection (perf: 72 %
   * of the CPU of a handshake loop; 5 ms per handshake without it). */
  tls = G_IO_STREAM (g_initable_new (g_tls_backend_get_server_connection_type (g_tls_backend_get_default ()),
                                     NULL, &error,
                                     "base-io-stream", self->tcp,
                                     "certificate", self->certificate,
                                     "database", NULL,
                                     NULL));
  self->certificate = NULL;
  if (tls == NULL)
    {
      g_warning ("Could not start TLS: %s", error->message);
      return FALSE;
    }

  self->stream = tls;
  self->is_tls = TRUE;
  self->handshake = g_cancellable_new ();
  g_tls_connection_handshake_async (G_TLS_CONNECTION (tls), G_PRIORITY_DEFAULT,
                                    self->handshake, handshake_cb,
                                    natterd_connection_ref (self));
  return TRUE;
}

static void
on_hello_event (gpointer data,
                guint32  events)
{
  NatterdConnection *self = data;

  switch (natterd_tls_hello_check (self->fd, &self->hello_buffered))
    {
    case NATTERD_TLS_HELLO_WAIT:
      return;
    case NATTERD_TLS_HELLO_GONE:
      natterd_connection_close_now (self);
      return;
    case NATTERD_TLS_HELLO_READY:
      /* From here the handshake's thread reads the socket. */
      natterd_poller_remove (natterd_server_get_poller (self->server), &self->poll);
      if (!start_handshake (self))
        natterd_connection_close_now (self);
      return;
    default:
      g_assert_not_reached ();
    }
}

/* Waits in the epoll set for the client's ClientHello. */
static void
start_tls (NatterdConnection *self,
           GTlsCertificate   *certificate)
{
  self->certificate = certificate;
  natterd_poll_handle_init (&self->poll, self->fd, on_hello_event, self);
  natterd_poller_watch (natterd_server_get_poller (self->server), &self->poll, NATTERD_POLL_IN);
  on_hello_event (self, 0);
}

NatterdConnection *
natterd_connection_new (NatterdServer       *server,
                        int                  fd,
                        NatterdAddressCount *address,
                        gboolean             over_limit)
{
  const NatterdConfig *config = natterd_server_get_config (server);
  NatterdConnection *self = g_new0 (NatterdConnection, 1);

  self->ref_count = 1; /* the server's */
  self->server = server;
  self->address = address;
  g_strlcpy (self->address_key, address->key, sizeof self->address_key);
  self->fd = fd;
  self->unauthenticated_since = self->last_received = g_get_monotonic_time ();
  self->over_limit = over_limit;
  self->server_link.data = self;
  self->flush_link.data = self;
  self->service_link.data = self;
  natter_frame_reader_init (&self->reader, config->max_frame);
  return self;
}

void
natterd_connection_start (NatterdConnection *self,
                          GTlsCertificate   *certificate)
{
  if (certificate == NULL)
    become_ready (self);
  else
    start_tls (self, certificate);
}

void
natterd_connection_tick (NatterdConnection *self,
                         gint64             now)
{
  const NatterdConfig *config = natterd_server_get_config (self->server);
  gint64 idle = now - self->last_received;

  if (self->closed)
    return;

  if (self->closing)
    {
      if (now - self->closing_since > CLOSE_GRACE_USEC)
        natterd_connection_close_now (self);
      return;
    }

  /* Before the welcome: waiting for the ClientHello, or in the TLS
   * handshake (natterd-tls-handshake.h). */
  if (!self->ready && now - self->unauthenticated_since > (gint64) config->handshake_timeout * G_USEC_PER_SEC)
    {
      natterd_connection_close (self);
      return;
    }

  if (self->session == NULL && self->pausing == NULL &&
      now - self->unauthenticated_since > (gint64) config->login_timeout * G_USEC_PER_SEC)
    {
      if (self->ready)
        natterd_connection_send_error (self, "not_authenticated",
                                       "No login within the login timeout");
      natterd_connection_close (self);
      return;
    }

  if (idle > (gint64) config->idle_timeout * G_USEC_PER_SEC)
    {
      natterd_connection_close (self);
      return;
    }

  /* A quiet client gets one ping at three quarters of the idle timeout, so
   * that a live one answers and stays. */
  if (self->ready && !self->pinged &&
      idle > (gint64) config->idle_timeout * G_USEC_PER_SEC * 3 / 4)
    {
      static const char ping[] = "{\"type\":\"ping\"}\n";
      self->pinged = TRUE;
      natterd_connection_send_str (self, ping, sizeof ping - 1);
    }
}

guint
natterd_connection_get_features (NatterdConnection *self)
{
  return self->features;
}

void
natterd_connection_set_features (NatterdConnection *self,
                                 guint              features)
{
  self->features = features;
}
