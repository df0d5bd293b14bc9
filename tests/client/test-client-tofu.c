/* test-client-tofu.c: trust on first use of natterd's self-signed
 * certificate: unknown → the user accepts → known (also for a new client
 * on the same state dir) → a different certificate on the same host:port
 * is refused as changed. */
#define G_LOG_DOMAIN "test-client-tofu"

#include <string.h>

#include "client-test-util.h"
#include "natter-test-client.h"

static gboolean
connect_client (NatterClient  *client,
                guint16        port,
                GError       **error)
{
  GAsyncResult *result = NULL;
  gboolean ok;

  natter_client_connect_async (client, "127.0.0.1", port, NULL, test_result_cb, &result);
  ok = natter_client_connect_finish (client, test_wait_result (&result), error);
  g_clear_object (&result);
  return ok;
}

static void
assert_fingerprint_format (const char *fp)
{
  g_assert_nonnull (fp);
  g_assert_cmpuint (strlen (fp), ==, 32 * 3 - 1);
  for (guint i = 0; fp[i] != '\0'; i++)
    {
      if (i % 3 == 2)
        g_assert_cmpint (fp[i], ==, ':');
      else
        g_assert_true (g_ascii_isxdigit (fp[i]) && !g_ascii_islower (fp[i]));
    }
}

static void
test_tofu (void)
{
  NatterTestServer *server = natter_test_server_start (TEST_SERVER_CONFIG, NULL);
  guint16 port = natter_test_server_get_port (server);
  g_autofree char *dir = test_make_state_dir ();
  g_autofree char *fingerprint = NULL;
  g_autoptr(GError) error = NULL;
  NatterClient *client;

  /* Unknown: refused, with the fingerprint to show the user. */
  client = test_client_new (server, dir);
  g_assert_false (connect_client (client, port, &error));
  g_assert_error (error, NATTER_CLIENT_ERROR, NATTER_CLIENT_ERROR_CERTIFICATE_UNKNOWN);
  g_clear_error (&error);
  g_assert_cmpint (natter_client_get_state (client), ==, NATTER_CLIENT_STATE_DISCONNECTED);
  fingerprint = g_strdup (natter_client_get_peer_fingerprint (client));
  assert_fingerprint_format (fingerprint);

  /* Still unknown on a second try: nothing was trusted by itself. */
  g_assert_false (connect_client (client, port, &error));
  g_assert_error (error, NATTER_CLIENT_ERROR, NATTER_CLIENT_ERROR_CERTIFICATE_UNKNOWN);
  g_clear_error (&error);
  g_assert_cmpstr (natter_client_get_peer_fingerprint (client), ==, fingerprint);

  /* Accepted: connects. */
  g_assert_true (natter_client_trust_fingerprint (client, "127.0.0.1", port, fingerprint, &error));
  g_assert_no_error (error);
  g_assert_true (connect_client (client, port, &error));
  g_assert_no_error (error);
  g_assert_cmpint (natter_client_get_state (client), ==, NATTER_CLIENT_STATE_CONNECTED);
  test_client_free (client);

  /* Remembered on disk: a new client on the same state dir connects. */
  client = test_client_new (server, dir);
  g_assert_true (connect_client (client, port, &error));
  g_assert_no_error (error);
  test_client_free (client);

  /* Another server (a new certificate) on the same port: changed. */
  natter_test_server_free (server);
  server = natter_test_server_start_full (NULL, port, TRUE, TEST_SERVER_CONFIG, NULL);
  client = test_client_new (server, dir);
  g_assert_false (connect_client (client, port, &error));
  g_assert_error (error, NATTER_CLIENT_ERROR, NATTER_CLIENT_ERROR_CERTIFICATE_CHANGED);
  g_clear_error (&error);
  assert_fingerprint_format (natter_client_get_peer_fingerprint (client));
  g_assert_cmpstr (natter_client_get_peer_fingerprint (client), !=, fingerprint);

  /* The user accepts the new one: connects. */
  g_assert_true (natter_client_trust_fingerprint (client, "127.0.0.1", port,
                                                  natter_client_get_peer_fingerprint (client), &error));
  g_assert_true (connect_client (client, port, &error));
  g_assert_no_error (error);

  test_client_free (client);
  natter_test_server_free (server);
  test_remove_dir (dir);
}

static void
test_no_tls (void)
{
  NatterTestServer *server = natter_test_server_start_full (NULL, 0, FALSE, TEST_SERVER_CONFIG, NULL);
  g_autofree char *dir = test_make_state_dir ();
  g_autoptr(GError) error = NULL;
  NatterClient *client;
  g_autofree char *name = test_username ("plain");

  /* A server started with --no-tls, for a client told so. */
  client = test_client_new (server, dir);
  g_assert_false (natter_client_get_use_tls (client));
  test_client_sign_up (client, server, name);
  g_assert_null (natter_client_get_peer_fingerprint (client));

  test_client_free (client);
  natter_test_server_free (server);
  test_remove_dir (dir);
}

int
main (int   argc,
      char *argv[])
{
  test_init ();
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/client/tofu/unknown-accepted-changed", test_tofu);
  g_test_add_func ("/client/tofu/no-tls", test_no_tls);

  return g_test_run ();
}
