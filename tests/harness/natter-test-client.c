#define G_LOG_DOMAIN "natter-test"

#include <string.h>

#include "natter-json.h"
#include "natter-test-client.h"

struct _NatterTestClient {
  GMainContext      *context;   /* private: every wait iterates only this */
  GSocketConnection *tcp;
  GIOStream         *stream;    /* tcp, or the TLS connection over it */
  GPollableInputStream  *in;
  GPollableOutputStream *out;

  GByteArray        *inbuf;     /* bytes read, not yet split into lines */
  GQueue             frames;    /* JsonObject*, read but not handed out */
  gboolean           eof;       /* the server closed (or reset) */
  GError            *read_error;

  JsonObject        *welcome;
  char              *username;
  char              *token;
  char              *who;
  guint              number;
  gint64             next_id;
  guint              timeout_ms;
};

static guint client_counter;

/* --- waiting on pollable streams --- */

static gboolean
pollable_ready_cb (GObject  *stream,
                   gpointer  user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Waits until @stream (input or output pollable) is ready or @deadline
 * (monotonic µs) passes. */
static gboolean
wait_pollable (NatterTestClient *c,
               GObject          *stream,
               gint64            deadline)
{
  gboolean ready = FALSE;
  gint64 left = (deadline - g_get_monotonic_time ()) / 1000;
  GSource *source;

  if (left <= 0)
    return FALSE;
  if (G_IS_POLLABLE_INPUT_STREAM (stream))
    source = g_pollable_input_stream_create_source (G_POLLABLE_INPUT_STREAM (stream), NULL);
  else
    source = g_pollable_output_stream_create_source (G_POLLABLE_OUTPUT_STREAM (stream), NULL);
  g_source_set_callback (source, (GSourceFunc) (void (*) (void)) pollable_ready_cb, &ready, NULL);
  g_source_attach (source, c->context);
  natter_test_wait_until (c->context, &ready, (guint) left);
  g_source_destroy (source);
  g_source_unref (source);
  return ready;
}

/* --- connecting --- */

static gboolean
accept_certificate_cb (GTlsConnection       *conn,
                       GTlsCertificate      *peer_cert,
                       GTlsCertificateFlags  errors,
                       gpointer              user_data)
{
  /* natterd's certificate is self-signed, made for this test run. */
  return TRUE;
}

typedef struct {
  gboolean  done;
  gboolean  ok;
  GError   *error;
  GSocketConnection *conn;
} AsyncWait;

static void
connect_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  AsyncWait *wait = user_data;

  wait->conn = g_socket_client_connect_finish (G_SOCKET_CLIENT (source), result, &wait->error);
  wait->done = TRUE;
}

static void
handshake_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  AsyncWait *wait = user_data;

  wait->ok = g_tls_connection_handshake_finish (G_TLS_CONNECTION (source), result, &wait->error);
  wait->done = TRUE;
}

static gboolean
wait_async (NatterTestClient *c,
            AsyncWait        *wait,
            GCancellable     *cancellable,
            GError          **error)
{
  if (!natter_test_wait_until (c->context, &wait->done, c->timeout_ms))
    {
      g_cancellable_cancel (cancellable);
      while (!wait->done)
        g_main_context_iteration (c->context, TRUE);
      g_clear_error (&wait->error);
      g_clear_object (&wait->conn);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "timed out after %u ms", c->timeout_ms);
      return FALSE;
    }
  if (wait->error != NULL)
    {
      g_propagate_error (error, wait->error);
      wait->error = NULL;
      return FALSE;
    }
  return TRUE;
}

static void
update_who (NatterTestClient *c)
{
  g_free (c->who);
  if (c->username != NULL)
    c->who = g_strdup_printf ("%s#%u", c->username, c->number);
  else
    c->who = g_strdup_printf ("conn#%u", c->number);
}

NatterTestClient *
natter_test_client_try_new_full (guint16    port,
                                 gboolean   tls,
                                 gboolean   read_welcome,
                                 GError   **error)
{
  return natter_test_client_try_new_from (port, tls, NULL, read_welcome, error);
}

NatterTestClient *
natter_test_client_try_new_from (guint16     port,
                                 gboolean    tls,
                                 const char *local_ip,
                                 gboolean    read_welcome,
                                 GError    **error)
{
  g_autoptr(NatterTestClient) c = g_new0 (NatterTestClient, 1);
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  AsyncWait wait = { 0 };
  g_autofree char *host = g_strdup_printf ("127.0.0.1:%u", port);

  c->context = g_main_context_new ();
  c->inbuf = g_byte_array_new ();
  g_queue_init (&c->frames);
  c->timeout_ms = natter_test_deadline_ms ();
  c->number = ++client_counter;
  c->next_id = 1;
  update_who (c);

  if (local_ip != NULL)
    {
      g_autoptr(GInetAddress) addr = g_inet_address_new_from_string (local_ip);
      g_autoptr(GSocketAddress) local = NULL;

      g_assert_nonnull (addr);
      local = g_inet_socket_address_new (addr, 0);
      g_socket_client_set_local_address (client, local);
    }

  g_main_context_push_thread_default (c->context);
  g_socket_client_connect_to_host_async (client, host, port, cancellable, connect_cb, &wait);
  if (!wait_async (c, &wait, cancellable, error))
    {
      g_main_context_pop_thread_default (c->context);
      return NULL;
    }
  c->tcp = wait.conn;
  g_socket_set_blocking (g_socket_connection_get_socket (c->tcp), FALSE);

  if (tls)
    {
      g_autoptr(GSocketConnectable) identity = g_network_address_new ("127.0.0.1", port);
      GIOStream *tls_conn = g_tls_client_connection_new (G_IO_STREAM (c->tcp), identity, error);
      AsyncWait hs = { 0 };

      if (tls_conn == NULL)
        {
          g_main_context_pop_thread_default (c->context);
          return NULL;
        }
      g_signal_connect (tls_conn, "accept-certificate", G_CALLBACK (accept_certificate_cb), NULL);
      c->stream = tls_conn;
      g_tls_connection_handshake_async (G_TLS_CONNECTION (tls_conn), G_PRIORITY_DEFAULT,
                                        cancellable, handshake_cb, &hs);
      if (!wait_async (c, &hs, cancellable, error))
        {
          g_main_context_pop_thread_default (c->context);
          return NULL;
        }
    }
  else
    c->stream = g_object_ref (G_IO_STREAM (c->tcp));
  g_main_context_pop_thread_default (c->context);

  c->in = G_POLLABLE_INPUT_STREAM (g_io_stream_get_input_stream (c->stream));
  c->out = G_POLLABLE_OUTPUT_STREAM (g_io_stream_get_output_stream (c->stream));

  if (read_welcome)
    {
      JsonObject *welcome = natter_test_client_try_next (c, c->timeout_ms, error);

      if (welcome == NULL)
        return NULL;
      if (g_strcmp0 (json_object_get_string_member_with_default (welcome, "type", ""), "welcome") != 0)
        {
          g_autofree char *text = natter_test_to_string (welcome);

          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "expected a welcome, got %s", text);
          json_object_unref (welcome);
          return NULL;
        }
      c->welcome = welcome;
    }

  return g_steal_pointer (&c);
}

NatterTestClient *
natter_test_client_new (NatterTestServer *server)
{
  g_autoptr(GError) error = NULL;
  guint16 port = natter_test_server_next_client_port (server);
  NatterTestClient *c;

  c = natter_test_client_try_new_full (port, natter_test_server_get_tls (server),
                                       TRUE, &error);
  if (c == NULL)
    g_error ("connecting to natterd on port %u: %s", port, error->message);
  return c;
}

NatterTestClient *
natter_test_client_new_from (NatterTestServer *server,
                             const char       *local_ip)
{
  g_autoptr(GError) error = NULL;
  guint16 port = natter_test_server_next_client_port (server);
  NatterTestClient *c;

  c = natter_test_client_try_new_from (port, natter_test_server_get_tls (server),
                                       local_ip, TRUE, &error);
  if (c == NULL)
    g_error ("connecting to natterd on port %u from %s: %s", port, local_ip, error->message);
  return c;
}

int
natter_test_client_get_fd (NatterTestClient *c)
{
  return g_socket_get_fd (g_socket_connection_get_socket (c->tcp));
}

void
natter_test_client_free (NatterTestClient *c)
{
  if (c == NULL)
    return;
  if (c->stream != NULL)
    {
      /* Close the socket directly: a TLS close_notify could block on a
       * server that stopped reading. */
      g_socket_close (g_socket_connection_get_socket (c->tcp), NULL);
    }
  g_clear_object (&c->stream);
  g_clear_object (&c->tcp);
  g_queue_clear_full (&c->frames, (GDestroyNotify) json_object_unref);
  g_byte_array_unref (c->inbuf);
  g_clear_error (&c->read_error);
  g_clear_pointer (&c->welcome, json_object_unref);
  g_free (c->username);
  g_free (c->token);
  g_free (c->who);
  /* Let sources that the TLS backend left on the context go. */
  while (g_main_context_iteration (c->context, FALSE))
    ;
  g_main_context_unref (c->context);
  g_free (c);
}

JsonObject *
natter_test_client_get_welcome (NatterTestClient *c)
{
  return c->welcome;
}

const char *
natter_test_client_get_username (NatterTestClient *c)
{
  return c->username;
}

const char *
natter_test_client_get_token (NatterTestClient *c)
{
  return c->token;
}

const char *
natter_test_client_who (NatterTestClient *c)
{
  return c->who;
}

void
natter_test_client_set_timeout (NatterTestClient *c,
                                guint             timeout_ms)
{
  c->timeout_ms = timeout_ms;
}

/* --- sending --- */

gboolean
natter_test_client_try_send_raw (NatterTestClient *c,
                                 const void       *data,
                                 gsize             len,
                                 GError          **error)
{
  const guint8 *p = data;
  gint64 deadline = g_get_monotonic_time () + (gint64) c->timeout_ms * 1000;

  while (len > 0)
    {
      g_autoptr(GError) local = NULL;
      gssize n = g_pollable_output_stream_write_nonblocking (c->out, p, len, NULL, &local);

      if (n > 0)
        {
          p += n;
          len -= (gsize) n;
          continue;
        }
      if (n < 0 && !g_error_matches (local, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      if (!wait_pollable (c, G_OBJECT (c->out), deadline))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                       "%s: write blocked for %u ms (the server does not read)",
                       c->who, c->timeout_ms);
          return FALSE;
        }
    }
  return TRUE;
}

void
natter_test_client_send_raw (NatterTestClient *c,
                             const void       *data,
                             gsize             len)
{
  g_autoptr(GError) error = NULL;

  if (!natter_test_client_try_send_raw (c, data, len, &error))
    g_error ("%s: sending %" G_GSIZE_FORMAT " bytes: %s", c->who, len, error->message);
}

void
natter_test_client_send (NatterTestClient *c,
                         const char       *json)
{
  g_autofree char *line = g_strconcat (json, "\n", NULL);

  natter_test_client_send_raw (c, line, strlen (line));
}

void
natter_test_client_sendf (NatterTestClient *c,
                          const char       *format,
                          ...)
{
  g_autofree char *json = NULL;
  va_list args;

  va_start (args, format);
  json = g_strdup_vprintf (format, args);
  va_end (args);
  natter_test_client_send (c, json);
}

/* --- receiving --- */

/* Splits complete lines out of inbuf into parsed frames. A line that is not
 * a valid frame is a contract violation by the server: the test fails. */
static void
split_lines (NatterTestClient *c)
{
  gsize start = 0;

  for (gsize i = 0; i < c->inbuf->len; i++)
    {
      if (c->inbuf->data[i] != '\n')
        continue;
      {
        g_autoptr(GError) error = NULL;
        JsonObject *obj = NULL;
        JsonNode *node;
        const char *line = (const char *) c->inbuf->data + start;
        gsize len = i - start;

        node = natter_json_parse_frame (line, len, &obj, &error);
        if (node == NULL)
          g_error ("%s: the server sent a frame that is not valid (%s): %.*s",
                   c->who, error->message, (int) MIN (len, 2000), line);
        g_queue_push_tail (&c->frames, json_object_ref (obj));
        json_node_unref (node);
        start = i + 1;
      }
    }
  g_byte_array_remove_range (c->inbuf, 0, start);
}

/* Reads what is available, waiting until @deadline for something. Returns
 * TRUE if at least one byte came; FALSE on timeout, end of stream or error
 * (recorded in c->eof / c->read_error). */
static gboolean
read_some (NatterTestClient *c,
           gint64            deadline)
{
  guint8 buf[16384];

  if (c->eof)
    return FALSE;

  for (;;)
    {
      g_autoptr(GError) error = NULL;
      gssize n = g_pollable_input_stream_read_nonblocking (c->in, buf, sizeof buf, NULL, &error);

      if (n > 0)
        {
          g_byte_array_append (c->inbuf, buf, (guint) n);
          split_lines (c);
          return TRUE;
        }
      if (n == 0)
        {
          c->eof = TRUE;
          return FALSE;
        }
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        {
          /* A reset or a TLS error after the server closed: closed all the
           * same, for a test. */
          c->eof = TRUE;
          c->read_error = g_steal_pointer (&error);
          return FALSE;
        }
      if (!wait_pollable (c, G_OBJECT (c->in), deadline))
        return FALSE;
    }
}

static void
set_read_failure (NatterTestClient *c,
                  guint             timeout_ms,
                  const char       *what,
                  GError          **error)
{
  if (c->eof)
    {
      if (c->read_error != NULL)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED,
                     "%s: connection closed while waiting for %s (%s)",
                     c->who, what, c->read_error->message);
      else
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED,
                     "%s: connection closed while waiting for %s", c->who, what);
    }
  else
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                 "%s: no %s within %u ms", c->who, what, timeout_ms);
}

JsonObject *
natter_test_client_try_next (NatterTestClient *c,
                             guint             timeout_ms,
                             GError          **error)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  while (g_queue_is_empty (&c->frames))
    {
      if (!read_some (c, deadline))
        {
          if (!g_queue_is_empty (&c->frames))
            break;
          set_read_failure (c, timeout_ms, "frame", error);
          return NULL;
        }
    }
  return g_queue_pop_head (&c->frames);
}

JsonObject *
natter_test_client_next (NatterTestClient *c)
{
  g_autoptr(GError) error = NULL;
  JsonObject *obj = natter_test_client_try_next (c, c->timeout_ms, &error);

  if (obj == NULL)
    g_error ("%s", error->message);
  return obj;
}

typedef gboolean (*FrameMatch) (JsonObject *obj, gconstpointer data);

/* Returns the first frame (queued or read within @timeout_ms) that
 * matches; the others stay queued in order. */
static JsonObject *
wait_match (NatterTestClient *c,
            FrameMatch        match,
            gconstpointer     data,
            guint             timeout_ms,
            const char       *what,
            GError          **error)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  guint scanned = 0;

  for (;;)
    {
      GList *l = g_queue_peek_nth_link (&c->frames, scanned);

      for (; l != NULL; l = l->next, scanned++)
        {
          if (match (l->data, data))
            {
              JsonObject *obj = l->data;

              g_queue_delete_link (&c->frames, l);
              return obj;
            }
        }
      if (!read_some (c, deadline))
        {
          /* The last read may have queued frames before failing. */
          if (g_queue_get_length (&c->frames) > scanned)
            continue;
          set_read_failure (c, timeout_ms, what, error);
          return NULL;
        }
    }
}

static gboolean
match_event_type (JsonObject    *obj,
                  gconstpointer  data)
{
  const char *type = data;

  if (g_strcmp0 (json_object_get_string_member_with_default (obj, "type", ""), type) != 0)
    return FALSE;
  /* "ok"/"error"/"pong" are replies; any other type is an event and must
   * carry no "re" (an event type that has one is a reply to something). */
  if (g_str_equal (type, "ok") || g_str_equal (type, "error") || g_str_equal (type, "pong"))
    return TRUE;
  return !json_object_has_member (obj, "re");
}

static gboolean
match_re (JsonObject    *obj,
          gconstpointer  data)
{
  gint64 re = *(const gint64 *) data;
  JsonNode *node = json_object_get_member (obj, "re");

  return node != NULL && JSON_NODE_HOLDS_VALUE (node)
         && json_node_get_value_type (node) == G_TYPE_INT64
         && json_node_get_int (node) == re;
}

JsonObject *
natter_test_client_try_wait_type (NatterTestClient *c,
                                  const char       *type,
                                  guint             timeout_ms)
{
  g_autofree char *what = g_strdup_printf ("frame of type \"%s\"", type);

  return wait_match (c, match_event_type, type, timeout_ms, what, NULL);
}

static void
fail_with_queue (NatterTestClient *c,
                 const char       *message)
{
  GString *s = g_string_new (message);

  if (!g_queue_is_empty (&c->frames))
    {
      g_string_append (s, "; frames received meanwhile:");
      for (GList *l = c->frames.head; l != NULL; l = l->next)
        {
          g_autofree char *text = natter_test_to_string (l->data);

          g_string_append_printf (s, "\n  %.500s", text);
        }
    }
  g_error ("%s", s->str);
}

JsonObject *
natter_test_client_wait_type (NatterTestClient *c,
                              const char       *type)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *what = g_strdup_printf ("frame of type \"%s\"", type);
  JsonObject *obj = wait_match (c, match_event_type, type, c->timeout_ms, what, &error);

  if (obj == NULL)
    fail_with_queue (c, error->message);
  return obj;
}

JsonObject *
natter_test_client_wait_re (NatterTestClient *c,
                            gint64            re)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *what = g_strdup_printf ("reply with \"re\":%" G_GINT64_FORMAT, re);
  JsonObject *obj = wait_match (c, match_re, &re, c->timeout_ms, what, &error);

  if (obj == NULL)
    fail_with_queue (c, error->message);
  return obj;
}

JsonObject *
natter_test_client_take_queued (NatterTestClient *c,
                                const char       *type)
{
  for (GList *l = c->frames.head; l != NULL; l = l->next)
    {
      if (match_event_type (l->data, type))
        {
          JsonObject *obj = l->data;

          g_queue_delete_link (&c->frames, l);
          return obj;
        }
    }
  return NULL;
}

guint
natter_test_client_queued (NatterTestClient *c)
{
  return g_queue_get_length (&c->frames);
}

void
natter_test_client_clear_queue (NatterTestClient *c)
{
  g_queue_clear_full (&c->frames, (GDestroyNotify) json_object_unref);
  g_queue_init (&c->frames);
}

void
natter_test_client_sync_ping (NatterTestClient *c)
{
  gint64 id = c->next_id++;
  g_autoptr(JsonObject) pong = NULL;

  natter_test_client_sendf (c, "{\"type\":\"ping\",\"id\":%" G_GINT64_FORMAT "}", id);
  pong = natter_test_client_wait_re (c, id);
  natter_assert_type (pong, "pong");
}

void
natter_test_client_expect_no_frame (NatterTestClient *c)
{
  natter_test_client_sync_ping (c);
  if (!g_queue_is_empty (&c->frames))
    fail_with_queue (c, "expected no frame before the pong");
}

void
natter_test_client_expect_no_frame_of_type (NatterTestClient *c,
                                            const char       *type)
{
  natter_test_client_sync_ping (c);
  for (GList *l = c->frames.head; l != NULL; l = l->next)
    {
      if (match_event_type (l->data, type))
        {
          g_autofree char *msg = g_strdup_printf ("%s: expected no \"%s\" frame", c->who, type);

          fail_with_queue (c, msg);
        }
    }
}

gboolean
natter_test_client_wait_closed (NatterTestClient *c,
                                guint             timeout_ms)
{
  gint64 deadline;

  if (timeout_ms == 0)
    timeout_ms = c->timeout_ms;
  deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;

  while (!c->eof)
    {
      if (!read_some (c, deadline) && !c->eof)
        return FALSE;
    }
  return TRUE;
}

void
natter_test_client_assert_closed (NatterTestClient *c)
{
  if (!natter_test_client_wait_closed (c, 0))
    {
      g_autofree char *msg = g_strdup_printf ("%s: expected the server to close the connection "
                                              "within %u ms", c->who, c->timeout_ms);

      fail_with_queue (c, msg);
    }
}

/* --- requests --- */

JsonObject *
natter_test_client_request (NatterTestClient *c,
                            const char       *json)
{
  gint64 id = c->next_id++;
  const char *rest;

  g_assert_true (json[0] == '{');
  rest = json + 1;
  while (*rest == ' ')
    rest++;
  if (*rest == '}')
    natter_test_client_sendf (c, "{\"id\":%" G_GINT64_FORMAT "%s", id, rest);
  else
    natter_test_client_sendf (c, "{\"id\":%" G_GINT64_FORMAT ",%s", id, rest);
  return natter_test_client_wait_re (c, id);
}

JsonObject *
natter_test_client_requestf (NatterTestClient *c,
                             const char       *format,
                             ...)
{
  g_autofree char *json = NULL;
  va_list args;

  va_start (args, format);
  json = g_strdup_vprintf (format, args);
  va_end (args);
  return natter_test_client_request (c, json);
}

JsonObject *
natter_test_client_request_ok (NatterTestClient *c,
                               const char       *format,
                               ...)
{
  g_autofree char *json = NULL;
  JsonObject *reply;
  va_list args;

  va_start (args, format);
  json = g_strdup_vprintf (format, args);
  va_end (args);
  reply = natter_test_client_request (c, json);
  if (g_strcmp0 (json_object_get_string_member_with_default (reply, "type", ""), "ok") != 0)
    {
      g_autofree char *text = natter_test_to_string (reply);

      g_error ("%s: request %s: expected ok, got %s", c->who, json, text);
    }
  return reply;
}

JsonObject *
natter_test_client_request_error (NatterTestClient *c,
                                  const char       *code,
                                  const char       *format,
                                  ...)
{
  g_autofree char *json = NULL;
  JsonObject *reply;
  va_list args;

  va_start (args, format);
  json = g_strdup_vprintf (format, args);
  va_end (args);
  reply = natter_test_client_request (c, json);
  if (g_strcmp0 (json_object_get_string_member_with_default (reply, "type", ""), "error") != 0
      || g_strcmp0 (json_object_get_string_member_with_default (reply, "code", ""), code) != 0)
    {
      g_autofree char *text = natter_test_to_string (reply);

      g_error ("%s: request %.300s: expected error %s, got %s", c->who, json, code, text);
    }
  return reply;
}

/* --- accounts --- */

static const char *
take_login_reply (NatterTestClient *c,
                  JsonObject       *reply,
                  const char       *what)
{
  const char *token;
  const char *username;

  if (g_strcmp0 (json_object_get_string_member_with_default (reply, "type", ""), "ok") != 0)
    {
      g_autofree char *text = natter_test_to_string (reply);

      g_error ("%s: %s failed: %s", c->who, what, text);
    }
  token = natter_test_get_str (reply, "token");
  username = natter_test_get_str (reply, "user.username");
  g_assert_nonnull (token);
  g_assert_nonnull (username);
  g_free (c->token);
  c->token = g_strdup (token);
  g_free (c->username);
  c->username = g_strdup (username);
  update_who (c);
  return c->token;
}

const char *
natter_test_client_register (NatterTestClient *c,
                             const char       *username,
                             const char       *password)
{
  g_autofree char *u = natter_test_json_quote (username);
  g_autofree char *p = natter_test_json_quote (password != NULL ? password : NATTER_TEST_PASSWORD);
  g_autoptr(JsonObject) reply = NULL;

  reply = natter_test_client_requestf (c, "{\"type\":\"register\",\"username\":%s,\"password\":%s}", u, p);
  return take_login_reply (c, reply, "register");
}

const char *
natter_test_client_login (NatterTestClient *c,
                          const char       *username,
                          const char       *password)
{
  g_autofree char *u = natter_test_json_quote (username);
  g_autofree char *p = natter_test_json_quote (password != NULL ? password : NATTER_TEST_PASSWORD);
  g_autoptr(JsonObject) reply = NULL;

  reply = natter_test_client_requestf (c, "{\"type\":\"login\",\"username\":%s,\"password\":%s}", u, p);
  return take_login_reply (c, reply, "login");
}

const char *
natter_test_client_login_token (NatterTestClient *c,
                                const char       *token)
{
  g_autofree char *t = natter_test_json_quote (token);
  g_autoptr(JsonObject) reply = NULL;

  reply = natter_test_client_requestf (c, "{\"type\":\"login\",\"token\":%s}", t);
  return take_login_reply (c, reply, "token login");
}

void
natter_test_client_logout (NatterTestClient *c)
{
  g_autoptr(JsonObject) reply = natter_test_client_request_ok (c, "{\"type\":\"logout\"}");

  g_clear_pointer (&c->username, g_free);
  g_clear_pointer (&c->token, g_free);
  update_who (c);
}

NatterTestClient *
natter_test_client_new_user (NatterTestServer *server,
                             const char       *username)
{
  NatterTestClient *c = natter_test_client_new (server);

  natter_test_client_register (c, username, NULL);
  return c;
}

NatterTestClient *
natter_test_client_new_login (NatterTestServer *server,
                              const char       *username)
{
  NatterTestClient *c = natter_test_client_new (server);

  natter_test_client_login (c, username, NULL);
  return c;
}

/* --- helpers for assertions --- */

JsonNode *
natter_test_path (JsonObject *obj,
                  const char *path)
{
  g_auto(GStrv) parts = g_strsplit (path, ".", -1);
  JsonNode *node = NULL;
  JsonObject *cur_obj = obj;
  JsonArray *cur_arr = NULL;

  for (guint i = 0; parts[i] != NULL; i++)
    {
      if (cur_obj != NULL)
        node = json_object_get_member (cur_obj, parts[i]);
      else if (cur_arr != NULL)
        {
          guint64 idx;

          if (!g_ascii_string_to_unsigned (parts[i], 10, 0, G_MAXUINT, &idx, NULL)
              || idx >= json_array_get_length (cur_arr))
            return NULL;
          node = json_array_get_element (cur_arr, (guint) idx);
        }
      else
        return NULL;

      if (node == NULL)
        return NULL;
      cur_obj = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
      cur_arr = JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
    }
  return node;
}

static JsonNode *
path_or_fail (JsonObject *obj,
              const char *path)
{
  JsonNode *node = natter_test_path (obj, path);

  if (node == NULL)
    {
      g_autofree char *text = natter_test_to_string (obj);

      g_error ("no \"%s\" in %.2000s", path, text);
    }
  return node;
}

const char *
natter_test_get_str (JsonObject *obj,
                     const char *path)
{
  JsonNode *node = path_or_fail (obj, path);

  if (JSON_NODE_HOLDS_NULL (node))
    return NULL;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    {
      g_autofree char *text = natter_test_to_string (obj);

      g_error ("\"%s\" is not a string in %.2000s", path, text);
    }
  return json_node_get_string (node);
}

gint64
natter_test_get_int (JsonObject *obj,
                     const char *path)
{
  JsonNode *node = path_or_fail (obj, path);

  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
    {
      g_autofree char *text = natter_test_to_string (obj);

      g_error ("\"%s\" is not an integer in %.2000s", path, text);
    }
  return json_node_get_int (node);
}

gboolean
natter_test_get_bool (JsonObject *obj,
                      const char *path)
{
  JsonNode *node = path_or_fail (obj, path);

  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    {
      g_autofree char *text = natter_test_to_string (obj);

      g_error ("\"%s\" is not a boolean in %.2000s", path, text);
    }
  return json_node_get_boolean (node);
}

JsonArray *
natter_test_get_array (JsonObject *obj,
                       const char *path)
{
  JsonNode *node = path_or_fail (obj, path);

  if (!JSON_NODE_HOLDS_ARRAY (node))
    {
      g_autofree char *text = natter_test_to_string (obj);

      g_error ("\"%s\" is not an array in %.2000s", path, text);
    }
  return json_node_get_array (node);
}

JsonObject *
natter_test_get_object (JsonObject *obj,
                        const char *path)
{
  JsonNode *node = path_or_fail (obj, path);

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      g_autofree char *text = natter_test_to_string (obj);

      g_error ("\"%s\" is not an object in %.2000s", path, text);
    }
  return json_node_get_object (node);
}

gboolean
natter_test_is_null (JsonObject *obj,
                     const char *path)
{
  JsonNode *node = path_or_fail (obj, path);

  return JSON_NODE_HOLDS_NULL (node);
}

char *
natter_test_to_string (JsonObject *obj)
{
  g_autoptr(JsonNode) node = json_node_new (JSON_NODE_OBJECT);

  json_node_set_object (node, obj);
  return json_to_string (node, FALSE);
}

char *
natter_test_json_quote (const char *s)
{
  GString *out = g_string_new (NULL);

  natter_json_append_string (out, s, -1);
  return g_string_free (out, FALSE);
}

void
natter_test_assert_type_impl (const char *file,
                              int         line,
                              JsonObject *obj,
                              const char *type)
{
  if (g_strcmp0 (json_object_get_string_member_with_default (obj, "type", ""), type) != 0)
    {
      g_autofree char *text = natter_test_to_string (obj);

      g_error ("%s:%d: expected a \"%s\" frame, got %.2000s", file, line, type, text);
    }
}

void
natter_test_assert_error_impl (const char *file,
                               int         line,
                               JsonObject *obj,
                               const char *code)
{
  if (g_strcmp0 (json_object_get_string_member_with_default (obj, "type", ""), "error") != 0
      || g_strcmp0 (json_object_get_string_member_with_default (obj, "code", ""), code) != 0)
    {
      g_autofree char *text = natter_test_to_string (obj);

      g_error ("%s:%d: expected error \"%s\", got %.2000s", file, line, code, text);
    }
}

void
natter_test_assert_str_impl (const char *file,
                             int         line,
                             JsonObject *obj,
                             const char *path,
                             const char *expected)
{
  JsonNode *node = natter_test_path (obj, path);
  const char *actual = NULL;
  gboolean ok;

  if (expected == NULL)
    ok = node != NULL && JSON_NODE_HOLDS_NULL (node);
  else
    {
      ok = node != NULL && JSON_NODE_HOLDS_VALUE (node)
           && json_node_get_value_type (node) == G_TYPE_STRING;
      if (ok)
        {
          actual = json_node_get_string (node);
          ok = g_str_equal (actual, expected);
        }
    }
  if (!ok)
    {
      g_autofree char *text = natter_test_to_string (obj);

      g_error ("%s:%d: expected \"%s\" to be %s%s%s in %.2000s", file, line, path,
               expected ? "\"" : "", expected ? expected : "null", expected ? "\"" : "", text);
    }
}

void
natter_test_assert_int_impl (const char *file,
                             int         line,
                             JsonObject *obj,
                             const char *path,
                             gint64      expected)
{
  JsonNode *node = natter_test_path (obj, path);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_INT64
      || json_node_get_int (node) != expected)
    {
      g_autofree char *text = natter_test_to_string (obj);

      g_error ("%s:%d: expected \"%s\" to be %" G_GINT64_FORMAT " in %.2000s",
               file, line, path, expected, text);
    }
}

/* --- UDP status probe --- */

static gboolean
socket_ready_cb (GSocket      *socket,
                 GIOCondition  condition,
                 gpointer      user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

GBytes *
natter_test_udp_exchange (guint16     port,
                          const void *data,
                          gsize       len,
                          guint       timeout_ms)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) sock = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) dest = g_inet_socket_address_new (loopback, port);
  g_autoptr(GSocketAddress) any = NULL;
  g_autoptr(GInetAddress) any_addr = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GMainContext) context = g_main_context_new ();
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  guint8 buf[65536];

  sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, &error);
  g_assert_no_error (error);
  any = g_inet_socket_address_new (any_addr, 0);
  g_socket_bind (sock, any, FALSE, &error);
  g_assert_no_error (error);
  g_socket_set_blocking (sock, FALSE);

  if (g_socket_send_to (sock, dest, data, len, NULL, &error) != (gssize) len)
    g_error ("UDP send: %s", error ? error->message : "short write");

  for (;;)
    {
      gssize n;
      gboolean ready = FALSE;
      gint64 left = (deadline - g_get_monotonic_time ()) / 1000;
      GSource *source;

      g_clear_error (&error);
      n = g_socket_receive (sock, (char *) buf, sizeof buf, NULL, &error);
      if (n >= 0)
        return g_bytes_new (buf, (gsize) n);
      /* An ICMP port unreachable shows up as an error: no reply. */
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        return NULL;
      if (left <= 0)
        return NULL;
      source = g_socket_create_source (sock, G_IO_IN, NULL);
      g_source_set_callback (source, (GSourceFunc) (void (*) (void)) socket_ready_cb, &ready, NULL);
      g_source_attach (source, context);
      natter_test_wait_until (context, &ready, (guint) left);
      g_source_destroy (source);
      g_source_unref (source);
    }
}

char *
natter_test_status_probe_text (gsize total_len)
{
  const char *head = "{\"type\":\"status\",\"pad\":\"";
  const char *tail = "\"}";
  GString *s = g_string_new (head);
  gsize fixed = strlen (head) + strlen (tail);

  g_assert_cmpuint (total_len, >=, fixed);
  for (gsize i = fixed; i < total_len; i++)
    g_string_append_c (s, 'x');
  g_string_append (s, tail);
  return g_string_free (s, FALSE);
}
