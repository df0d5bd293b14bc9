/* The network layer on its own: a NatterdServer with a service of this
 * test's (no chat layer, no store linked), over real loopback TLS. This
 * program links natterd's network library alone, so it also proves that
 * nothing in that layer calls up into the chat or storage layers: such a
 * call would fail to link here.
 */
#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "natterd-server.h"
#include "natterd-service.h"

typedef struct {
  guint16   port;
  GMainLoop *loop;
  GPtrArray *replies;     /* char*: what the client read, line by line */
  guint      closed;      /* connections the service was told of */
} Fixture;

static Fixture *current;

static void
capture_print (const char *text)
{
  const char *colon = strrchr (text, ':');

  if (g_str_has_prefix (text, "listening ") && colon != NULL)
    current->port = (guint16) g_ascii_strtoull (colon + 1, NULL, 10);
}

static void
handle_echo (NatterdRequest *request)
{
  JsonObject *frame = natterd_request_get_frame (request);
  NatterJsonWriter *w = natterd_request_begin_ok (request);

  natter_json_writer_key (w, "said");
  natter_json_writer_string (w, json_object_get_string_member_with_default (frame, "say", ""));
  natterd_request_finish_ok (request);
}

/* Logs the connection in: the session is any non-NULL pointer. */
static void
handle_enter (NatterdRequest *request)
{
  natterd_connection_set_session (natterd_request_get_connection (request), current);
  natterd_request_ok (request);
}

static const NatterdHandler handlers[] = {
  { "echo",   handle_echo,  0 },
  { "enter",  handle_enter, NATTERD_HANDLER_BEFORE_AUTH },
  { "secret", handle_echo,  NATTERD_HANDLER_NEEDS_AUTH },
};

static const NatterdHandler *
lookup_cb (gpointer data, const char *type)
{
  for (guint i = 0; i < G_N_ELEMENTS (handlers); i++)
    if (g_str_equal (handlers[i].type, type))
      return &handlers[i];
  return NULL;
}

static void
connection_closed_cb (gpointer data, NatterdConnection *connection)
{
  ((Fixture *) data)->closed++;
}

static guint
count_online_cb (gpointer data)
{
  return 0;
}

static void
flush_cb (gpointer data)
{
}

static const NatterdService test_service = {
  lookup_cb, connection_closed_cb, count_online_cb, flush_cb,
};

/* natterd made itself a certificate; this test trusts it. */
static gboolean
accept_certificate_cb (GTlsConnection       *connection,
                       GTlsCertificate      *certificate,
                       GTlsCertificateFlags  errors,
                       gpointer              data)
{
  return TRUE;
}

static void
client_event_cb (GSocketClient      *client,
                 GSocketClientEvent  event,
                 GSocketConnectable *connectable,
                 GIOStream          *connection,
                 gpointer            data)
{
  if (event == G_SOCKET_CLIENT_TLS_HANDSHAKING)
    g_signal_connect (connection, "accept-certificate", G_CALLBACK (accept_certificate_cb), NULL);
}

/* The client: blocking I/O in a thread of its own while the main loop
 * serves. */
static gpointer
client_thread (gpointer data)
{
  Fixture *f = data;
  static const char *const lines[] = {
    "{\"type\":\"echo\",\"id\":1,\"say\":\"hi\"}",
    "{\"type\":\"secret\",\"id\":2}",
    "{\"type\":\"login\",\"id\":3}",
    "{\"type\":\"ping\",\"id\":4}",
    "{\"type\":\"enter\",\"id\":5}",
    "{\"type\":\"secret\",\"id\":6,\"say\":\"in\"}",
    "{\"type\":\"enter\",\"id\":7}",
  };
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) conn = NULL;
  g_autoptr(GDataInputStream) in = NULL;
  g_autoptr(GError) error = NULL;
  GOutputStream *out;

  g_socket_client_set_tls (client, TRUE);
  g_signal_connect (client, "event", G_CALLBACK (client_event_cb), NULL);
  conn = g_socket_client_connect_to_host (client, "127.0.0.1", f->port, NULL, &error);
  g_assert_no_error (error);
  in = g_data_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (conn)));
  out = g_io_stream_get_output_stream (G_IO_STREAM (conn));

  /* The welcome, then one reply per line. */
  for (guint i = 0; i <= G_N_ELEMENTS (lines); i++)
    {
      char *line;

      if (i > 0)
        {
          g_autofree char *frame = g_strconcat (lines[i - 1], "\n", NULL);
          g_output_stream_write_all (out, frame, strlen (frame), NULL, NULL, &error);
          g_assert_no_error (error);
        }
      line = g_data_input_stream_read_line (in, NULL, NULL, &error);
      g_assert_no_error (error);
      g_assert_nonnull (line);
      g_ptr_array_add (f->replies, line);
    }
  g_io_stream_close (G_IO_STREAM (conn), NULL, NULL);
  g_idle_add_once ((GSourceOnceFunc) g_main_loop_quit, f->loop);
  return NULL;
}

static gboolean
timeout_cb (gpointer data)
{
  g_error ("The client did not finish within 30 s");
  return G_SOURCE_REMOVE;
}

static void
test_service_seam (void)
{
  Fixture f = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("natter-net-XXXXXX", &error);
  g_autoptr(NatterdServer) server = NULL;
  NatterdConfig *config = natterd_config_new_defaults ();
  GPrintFunc old_print;
  GThread *thread;
  guint timeout;

  g_assert_no_error (error);
  current = &f;
  f.loop = g_main_loop_new (NULL, FALSE);
  f.replies = g_ptr_array_new_with_free_func (g_free);

  g_strfreev (config->listen);
  config->listen = g_strsplit ("127.0.0.1:0", ",", -1);
  g_free (config->data_dir);
  config->data_dir = g_strdup (dir);

  server = natterd_server_new (config, &error);
  g_assert_no_error (error);
  natterd_server_set_service (server, &test_service, &f);
  old_print = g_set_print_handler (capture_print);
  natterd_server_listen (server, &error);
  g_set_print_handler (old_print);
  g_assert_no_error (error);
  g_assert_cmpuint (f.port, >, 0);

  thread = g_thread_new ("client", client_thread, &f);
  timeout = g_timeout_add_seconds (30, timeout_cb, NULL);
  g_main_loop_run (f.loop);
  g_source_remove (timeout);
  g_thread_join (thread);

  g_assert_cmpuint (f.replies->len, ==, 8);
  g_assert_true (g_str_has_prefix (f.replies->pdata[0], "{\"type\":\"welcome\",\"protocol\":1,"));
  g_assert_cmpstr (f.replies->pdata[1], ==, "{\"type\":\"ok\",\"re\":1,\"said\":\"hi\"}");
  g_assert_nonnull (strstr (f.replies->pdata[2], "\"re\":2,\"code\":\"not_authenticated\""));
  g_assert_nonnull (strstr (f.replies->pdata[3], "\"re\":3,\"code\":\"unknown_type\""));
  g_assert_cmpstr (f.replies->pdata[4], ==, "{\"type\":\"pong\",\"re\":4}");
  g_assert_cmpstr (f.replies->pdata[5], ==, "{\"type\":\"ok\",\"re\":5}");
  g_assert_cmpstr (f.replies->pdata[6], ==, "{\"type\":\"ok\",\"re\":6,\"said\":\"in\"}");
  g_assert_nonnull (strstr (f.replies->pdata[7], "\"re\":7,\"code\":\"already_authenticated\""));

  /* The server tells the service of a logged-in connection that closed,
   * at the latest when it shuts down. */
  natterd_server_shutdown (server);
  g_assert_cmpuint (f.closed, ==, 1);

  g_ptr_array_unref (f.replies);
  g_main_loop_unref (f.loop);
  g_clear_object (&server);
  {
    static const char *const made[] = { "natterd.lock", "tls-cert.pem", "tls-key.pem" };
    for (guint i = 0; i < G_N_ELEMENTS (made); i++)
      {
        g_autofree char *path = g_build_filename (dir, made[i], NULL);
        g_remove (path);
      }
    g_assert_cmpint (g_rmdir (dir), ==, 0);
  }
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/net/service-seam", test_service_seam);
  return g_test_run ();
}
