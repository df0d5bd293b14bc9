/* test-status-probe.c: the UDP status probe on the server's port: a padded
 * request is answered with the status; the reply is never larger than the
 * request; anything else is dropped.
 */
#define G_LOG_DOMAIN "natter-test"

#include <string.h>

#include "natter-json.h"
#include "server-test-util.h"

typedef struct {
  GSocket        *sock;
  GSocketAddress *dest;
  GMainContext   *context;
} Probe;

static Probe *
probe_new (guint16 port)
{
  Probe *p = g_new0 (Probe, 1);
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (lo, 0);
  g_autoptr(GError) error = NULL;

  p->sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, &error);
  g_assert_no_error (error);
  g_socket_bind (p->sock, any, FALSE, &error);
  g_assert_no_error (error);
  g_socket_set_blocking (p->sock, FALSE);
  p->dest = g_inet_socket_address_new (lo, port);
  p->context = g_main_context_new ();
  return p;
}

static void
probe_free (Probe *p)
{
  g_object_unref (p->sock);
  g_object_unref (p->dest);
  g_main_context_unref (p->context);
  g_free (p);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Probe, probe_free)

static void
probe_send (Probe      *p,
            const void *data,
            gsize       len)
{
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (g_socket_send_to (p->sock, p->dest, data, len, NULL, &error), ==, (gssize) len);
  g_assert_no_error (error);
}

static gboolean
ready_cb (GSocket      *socket,
          GIOCondition  condition,
          gpointer      user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

/* The next datagram within the deadline, or NULL. */
static GBytes *
probe_receive (Probe *p,
               guint  timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  guint8 buf[65536];

  for (;;)
    {
      g_autoptr(GError) error = NULL;
      gssize n = g_socket_receive (p->sock, (char *) buf, sizeof buf, NULL, &error);
      gboolean ready = FALSE;
      gint64 left = (deadline - g_get_monotonic_time ()) / 1000;
      GSource *source;

      if (n >= 0)
        return g_bytes_new (buf, (gsize) n);
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        g_error ("UDP receive: %s", error->message);
      if (left <= 0)
        return NULL;
      source = g_socket_create_source (p->sock, G_IO_IN, NULL);
      g_source_set_callback (source, (GSourceFunc) (void (*) (void)) ready_cb, &ready, NULL);
      g_source_attach (source, p->context);
      natter_test_wait_until (p->context, &ready, (guint) left);
      g_source_destroy (source);
      g_source_unref (source);
    }
}

static JsonObject *
parse_status (GBytes *reply)
{
  g_autoptr(GError) error = NULL;
  gsize len;
  const char *data = g_bytes_get_data (reply, &len);
  JsonObject *obj = NULL;
  JsonNode *node = natter_json_parse_frame (data, len, &obj, &error);

  g_assert_no_error (error);
  g_assert_nonnull (node);
  json_object_ref (obj);
  json_node_unref (node);
  natter_assert_type (obj, "status");
  natter_assert_int (obj, "protocol", 1);
  g_assert_true (g_str_has_prefix (natter_test_get_str (obj, "server"), "natterd/"));
  g_assert_cmpint (natter_test_get_int (obj, "users_online"), >=, 0);
  natter_test_get_bool (obj, "registration");
  return obj;
}

/* A padded probe and its reply; asserts a reply comes and fits. */
static JsonObject *
ask_status (Probe *p)
{
  g_autofree char *req = natter_test_status_probe_text (512);
  g_autoptr(GBytes) reply = NULL;

  g_assert_cmpuint (strlen (req), ==, 512);
  probe_send (p, req, 512);
  reply = probe_receive (p, natter_test_deadline_ms ());
  g_assert_nonnull (reply);
  g_assert_cmpuint (g_bytes_get_size (reply), <=, 512);
  return parse_status (reply);
}

/* Waits (polling the probe, with the deadline) until users_online is
 * @expected; the server counts a closed connection asynchronously. */
static void
wait_users_online (Probe  *p,
                   gint64  expected)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) natter_test_deadline_ms () * 1000;
  gint64 last = -1;

  while (g_get_monotonic_time () < deadline)
    {
      g_autoptr(JsonObject) s = ask_status (p);

      last = natter_test_get_int (s, "users_online");
      if (last == expected)
        return;
    }
  g_error ("users_online stayed %" G_GINT64_FORMAT ", expected %" G_GINT64_FORMAT, last, expected);
}

static void
test_status (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(Probe) p = probe_new (natter_test_server_get_port (srv));
  g_autoptr(NatterTestClient) anon = natter_test_client_new (srv);

  {
    g_autoptr(JsonObject) s = ask_status (p);

    natter_assert_int (s, "users_online", 0);
    g_assert_true (natter_test_get_bool (s, "registration"));
    /* Same version string as the welcome. */
    natter_assert_str (s, "server", natter_test_get_str (natter_test_client_get_welcome (anon), "server"));
  }

  /* An unauthenticated connection is nobody; users count once however
   * many connections they have. */
  {
    g_autoptr(NatterTestClient) a1 = natter_test_client_new_user (srv, "alice");
    g_autoptr(NatterTestClient) a2 = natter_test_client_new_login (srv, "alice");

    wait_users_online (p, 1);
    {
      g_autoptr(NatterTestClient) b = natter_test_client_new_user (srv, "bob");

      wait_users_online (p, 2);
    }
    wait_users_online (p, 1);
    /* Logging out is going offline too, even with the connection open. */
    natter_test_client_logout (a1);
    wait_users_online (p, 1);
    natter_test_client_logout (a2);
    wait_users_online (p, 0);
  }
  wait_users_online (p, 0);
}

static void
test_registration_flag (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start ("[server]\nregistration=false\n", NULL);
  g_autoptr(Probe) p = probe_new (natter_test_server_get_port (srv));
  g_autoptr(JsonObject) s = ask_status (p);

  g_assert_false (natter_test_get_bool (s, "registration"));
}

/* Garbage and small requests go out from one socket, then a valid probe
 * from another. natterd handles datagrams in the order they arrive and
 * loopback delivers at once, so once the valid probe is answered, any reply
 * to the earlier ones would already be waiting on the first socket. */
static void
test_no_amplification (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(Probe) a = probe_new (natter_test_server_get_port (srv));
  g_autoptr(Probe) b = probe_new (natter_test_server_get_port (srv));
  static const char *const small[] = {
    "{\"type\":\"status\"}",
    "{\"type\":\"status\",\"pad\":\"\"}",
    "{\"type\":\"status\",\"pad\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (small); i++)
    {
      gsize small_len = strlen (small[i]);

      probe_send (a, small[i], small_len);
      {
        g_autoptr(JsonObject) st = ask_status (b);
      }
      for (;;)
        {
          g_autoptr(GBytes) reply = probe_receive (a, 0);

          if (reply == NULL)
            break;
          natter_test_note ("small request %u got a reply of %" G_GSIZE_FORMAT " bytes",
                          i, g_bytes_get_size (reply));
          g_assert_cmpuint (g_bytes_get_size (reply), <=, small_len);
        }
    }
}

static void
test_garbage_dropped (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(Probe) a = probe_new (natter_test_server_get_port (srv));
  g_autoptr(Probe) b = probe_new (natter_test_server_get_port (srv));
  g_autofree char *big_wrong = NULL;
  g_autofree char *big_dup = NULL;
  g_autofree char *big_bad_utf8 = NULL;
  GString *s;
  static const guint8 binary[] = { 0x00, 0xff, 0x13, 0x37, '\n', 0x00, 0x80 };
  const char *garbage[] = {
    "hello",
    "{\"type\":\"status\"",                /* not JSON */
    "[\"status\"]",
    NULL, NULL, NULL,
  };

  /* Padded to 512 bytes but not a status probe: another type, a duplicate
   * key, invalid UTF-8. */
  s = g_string_new ("{\"type\":\"ping\",\"pad\":\"");
  while (s->len < 510)
    g_string_append_c (s, 'x');
  g_string_append (s, "\"}");
  big_wrong = g_string_free (s, FALSE);
  s = g_string_new ("{\"type\":\"status\",\"type\":\"status\",\"pad\":\"");
  while (s->len < 510)
    g_string_append_c (s, 'x');
  g_string_append (s, "\"}");
  big_dup = g_string_free (s, FALSE);
  s = g_string_new ("{\"type\":\"status\",\"pad\":\"\xff");
  while (s->len < 510)
    g_string_append_c (s, 'x');
  g_string_append (s, "\"}");
  big_bad_utf8 = g_string_free (s, FALSE);
  garbage[3] = big_wrong;
  garbage[4] = big_dup;
  garbage[5] = big_bad_utf8;

  for (guint i = 0; i < G_N_ELEMENTS (garbage); i++)
    probe_send (a, garbage[i], strlen (garbage[i]));
  probe_send (a, "", 0);
  probe_send (a, binary, sizeof binary);

  {
    g_autoptr(JsonObject) st = ask_status (b);
  }
  {
    g_autoptr(GBytes) reply = probe_receive (a, 0);

    if (reply != NULL)
      g_error ("a garbage datagram got a reply of %" G_GSIZE_FORMAT " bytes", g_bytes_get_size (reply));
  }
  /* The same socket still gets answers to a valid probe. */
  {
    g_autoptr(JsonObject) st = ask_status (a);
  }

  /* The TCP side is unaffected. */
  {
    g_autoptr(NatterTestClient) c = natter_test_client_new (srv);

    natter_test_client_sync_ping (c);
  }
  natter_test_server_assert_alive (srv);
}

static void
test_probe_without_tls (void)
{
  /* The probe is the same on a --no-tls server, and TCP works in clear. */
  g_autoptr(NatterTestServer) srv = natter_test_server_start_full (NULL, 0, FALSE, NULL, NULL);
  g_autoptr(Probe) p = probe_new (natter_test_server_get_port (srv));
  g_autoptr(JsonObject) st = ask_status (p);
  g_autoptr(NatterTestClient) c = natter_test_client_new_user (srv, "plain");

  wait_users_online (p, 1);
}

int
main (int   argc,
      char *argv[])
{
  natter_test_init (&argc, &argv);

  natter_test_add_single_node ("/status-probe/status", test_status,
                               "users_online counts the users of the node probed");
  natter_test_add ("/status-probe/registration-flag", test_registration_flag);
  natter_test_add ("/status-probe/no-amplification", test_no_amplification);
  natter_test_add ("/status-probe/garbage-dropped", test_garbage_dropped);
  natter_test_add ("/status-probe/without-tls", test_probe_without_tls);

  return g_test_run ();
}
