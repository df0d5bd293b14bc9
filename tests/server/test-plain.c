/* test-plain.c: natterd over plain TCP (--no-tls). Plain connections take
 * their own path through natterd (accepted in a loop from the epoll poller,
 * read and written on the bare descriptor, no GIO objects), so what the
 * other programs check over TLS is checked here once more on that path:
 * the welcome and logins, logout revoking a token, the per-address limit,
 * many connections arriving at once, and replies larger than the socket
 * buffers.
 */
#define G_LOG_DOMAIN "natter-test"

#include <string.h>

#include "server-test-util.h"

static NatterTestServer *
start_plain (const char *config_text)
{
  return natter_test_server_start_full (NULL, 0, FALSE, config_text, NULL);
}

static void
test_logout_revokes (void)
{
  g_autoptr(NatterTestServer) srv = start_plain (NULL);
  g_autoptr(NatterTestClient) c1 = natter_test_client_new_user (srv, "alice");
  g_autoptr(NatterTestClient) c2 = natter_test_client_new (srv);
  g_autoptr(NatterTestClient) c3 = natter_test_client_new (srv);
  g_autofree char *token = g_strdup (natter_test_client_get_token (c1));
  g_autofree char *tq = natter_test_json_quote (token);

  /* The same token logs in twice more (from memory, after the first). */
  natter_test_client_login_token (c2, token);
  natter_test_client_login_token (c3, token);
  /* c2's logout revokes it: c1 and c3 used it too and are closed. */
  natter_test_client_logout (c2);
  natter_test_client_assert_closed (c1);
  natter_test_client_assert_closed (c3);
  {
    g_autoptr(NatterTestClient) c4 = natter_test_client_new (srv);
    g_autoptr(JsonObject) e = natter_test_client_request_error (c4, "auth_failed",
                                                                "{\"type\":\"login\",\"token\":%s}", tq);
  }
}

static void
test_connections_per_address (void)
{
  g_autoptr(NatterTestServer) srv = start_plain ("[limits]\nconnections_per_address=2\n");
  g_autoptr(NatterTestClient) a = natter_test_client_new (srv);
  g_autoptr(NatterTestClient) b = natter_test_client_new (srv);

  util_assert_over_limit (srv);

  /* Another loopback address is another address. */
  {
    g_autoptr(NatterTestClient) other = natter_test_client_new_from (srv, "127.0.0.2");

    natter_test_client_sync_ping (other);
  }
  natter_test_client_sync_ping (a);
  natter_test_client_sync_ping (b);
}

/* Connections opened all before any is read are accepted in one go: each
 * gets its welcome and answers a ping. */
static void
test_many_at_once (void)
{
  g_autoptr(NatterTestServer) srv = start_plain ("[limits]\nconnections_per_address=1000\n");
  guint16 port = natter_test_server_get_port (srv);
  g_autoptr(GPtrArray) clients = g_ptr_array_new_with_free_func ((GDestroyNotify) natter_test_client_free);

  for (guint i = 0; i < 300; i++)
    {
      g_autoptr(GError) error = NULL;
      NatterTestClient *c = natter_test_client_try_new_full (port, FALSE, FALSE, &error);

      g_assert_no_error (error);
      g_ptr_array_add (clients, c);
    }
  for (guint i = 0; i < clients->len; i++)
    {
      g_autoptr(JsonObject) w = natter_test_client_next (clients->pdata[i]);

      natter_assert_type (w, "welcome");
    }
  for (guint i = 0; i < clients->len; i += 37)
    natter_test_client_sync_ping (clients->pdata[i]);
}

/* Replies far larger than the socket buffers leave in many writes, each
 * after the socket said it could take more, in order and whole. */
static void
test_large_replies (void)
{
  g_autoptr(NatterTestServer) srv = start_plain (UTIL_RELAXED_LIMITS);
  g_autoptr(NatterTestClient) alice = natter_test_client_new_user (srv, "alice");
  g_autoptr(NatterTestClient) bob = natter_test_client_new_user (srv, "bob");
  g_autofree char *body = util_repeat ('p', 4000);
  GString *batch = g_string_new (NULL);

  for (guint i = 0; i < 50; i++)
    {
      g_autofree char *cid = g_strdup_printf ("p%u", i);

      util_send (alice, "@bob", body, cid);
    }
  natter_test_client_clear_queue (bob);

  /* 20 pages of ~200 KB asked at once: ~4 MB queued for bob. */
  for (guint i = 0; i < 20; i++)
    g_string_append_printf (batch, "{\"type\":\"history\",\"id\":%u,\"conversation\":\"@alice\",\"limit\":50}\n",
                            100 + i);
  natter_test_client_send_raw (bob, batch->str, batch->len);
  g_string_free (batch, TRUE);

  for (guint i = 0; i < 20; i++)
    {
      g_autoptr(JsonObject) r = natter_test_client_wait_re (bob, 100 + i);
      JsonArray *messages = natter_test_get_array (r, "messages");

      natter_assert_ok (r);
      g_assert_cmpuint (json_array_get_length (messages), ==, 50);
      g_assert_cmpstr (natter_test_get_str (json_array_get_object_element (messages, 49), "body"), ==, body);
    }
}

int
main (int   argc,
      char *argv[])
{
  natter_test_init (&argc, &argv);

  natter_test_add ("/plain/logout-revokes", test_logout_revokes);
  natter_test_add ("/plain/connections-per-address", test_connections_per_address);
  natter_test_add ("/plain/many-at-once", test_many_at_once);
  natter_test_add ("/plain/large-replies", test_large_replies);

  return g_test_run ();
}
