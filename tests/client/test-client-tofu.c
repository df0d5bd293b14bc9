/* test-client-tofu.c: trust on first use of natterd's self-signed
 * certificate: unknown → the user accepts → known (also for a new client
 * on the same state dir) → a different certificate on the same host:port
 * is refused as changed. */
#define G_LOG_DOMAIN "test-client-tofu"

#include <string.h>
#include <glib/gstdio.h>

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

static void
count_certificate_errors_cb (NatterClient *client,
                             GError       *error,
                             guint        *count)
{
  if (g_error_matches (error, NATTER_CLIENT_ERROR, NATTER_CLIENT_ERROR_CERTIFICATE_CHANGED))
    (*count)++;
}

static gboolean
state_is_not_untrusted (gpointer client)
{
  return natter_client_get_state (client) != NATTER_CLIENT_STATE_UNTRUSTED;
}

/* The server comes back on the same address with another certificate
 * while alice is signed in. Her client stops at once and says why (no
 * attempt after attempt against it), keeps everything (token, the
 * conversation, what she writes meanwhile), and once she trusts the new
 * certificate carries on with the same sign-in: no password. */
static void
test_changed_during_session (void)
{
  NatterTestServer *server = natter_test_server_start (TEST_SERVER_CONFIG, NULL);
  g_autofree char *dir = test_make_state_dir ();
  g_autofree char *name = test_username ("alice");
  g_autofree char *token = NULL;
  g_autofree char *old_fingerprint = NULL;
  g_autofree char *to_bob = NULL;
  g_autoptr(NatterTestClient) bob = NULL;
  g_autoptr(GError) error = NULL;
  NatterConversation *conversation;
  NatterMessage *written;
  NatterClient *client;
  guint errors = 0;

  bob = natter_test_client_new_user (server, "bob");
  to_bob = g_strdup ("@bob");
  client = test_client_new (server, dir);
  test_client_sign_up (client, server, name);
  g_signal_connect (client, "error", G_CALLBACK (count_certificate_errors_cb), &errors);
  token = g_strdup (natter_client_get_token (client));
  old_fingerprint = g_strdup (natter_client_get_peer_fingerprint (client));
  g_assert_cmpstr (natter_client_get_trusted_fingerprint (client), ==, old_fingerprint);
  written = natter_client_send_message (client, to_bob, "before");
  {
    g_autoptr(JsonObject) event = natter_test_client_wait_type (bob, "message");
  }
  conversation = natter_client_lookup_conversation (client, to_bob, FALSE);
  g_assert_nonnull (conversation);

  /* The operator makes a new certificate: stop, delete both files, start. */
  g_clear_pointer (&bob, natter_test_client_free);
  natter_test_server_stop (server);
  {
    const char *data_dir = natter_test_server_get_data_dir (server);
    g_autofree char *cert = g_build_filename (data_dir, "tls-cert.pem", NULL);
    g_autofree char *key = g_build_filename (data_dir, "tls-key.pem", NULL);

    g_assert_cmpint (g_remove (cert), ==, 0);
    g_assert_cmpint (g_remove (key), ==, 0);
  }
  natter_test_server_restart (server);
  WAIT_FOR (natter_client_get_state (client) == NATTER_CLIENT_STATE_UNTRUSTED ||
            (natter_client_reconnect_now (client), FALSE));
  g_assert_cmpuint (errors, ==, 1);
  g_assert_cmpstr (natter_client_get_peer_fingerprint (client), !=, old_fingerprint);
  g_assert_cmpstr (natter_client_get_trusted_fingerprint (client), ==, old_fingerprint);

  /* It stays stopped: no retry loop against the new certificate. Three
   * backoff periods pass without a state change or another error. */
  g_assert_false (wait_until (state_is_not_untrusted, client, 3000));
  g_assert_cmpuint (errors, ==, 1);

  /* Nothing of the session is gone. */
  g_assert_cmpstr (natter_client_get_token (client), ==, token);
  g_assert_nonnull (natter_client_get_me (client));
  g_assert_true (natter_client_lookup_conversation (client, to_bob, FALSE) == conversation);
  g_assert_cmpint (natter_message_get_state (written), ==, NATTER_MESSAGE_STATE_SENT);
  written = natter_client_send_message (client, to_bob, "while untrusted");
  g_assert_cmpint (natter_message_get_state (written), ==, NATTER_MESSAGE_STATE_SENDING);

  /* Resuming without trusting it stops at the same place. */
  natter_client_resume (client);
  WAIT_FOR (natter_client_get_state (client) == NATTER_CLIENT_STATE_UNTRUSTED);
  g_assert_cmpuint (errors, ==, 2);

  /* Trusted: the same sign-in carries on, the outbox goes out. */
  g_assert_true (natter_client_trust_fingerprint (client, "127.0.0.1", natter_test_server_get_port (server),
                                                  natter_client_get_peer_fingerprint (client), &error));
  g_assert_no_error (error);
  natter_client_resume (client);
  WAIT_FOR (natter_client_get_state (client) == NATTER_CLIENT_STATE_READY);
  g_assert_cmpstr (natter_client_get_token (client), ==, token);
  WAIT_FOR (natter_message_get_state (written) == NATTER_MESSAGE_STATE_SENT);
  g_assert_true (natter_client_lookup_conversation (client, to_bob, FALSE) == conversation);
  g_assert_cmpuint (test_count_body (conversation, "while untrusted"), ==, 1);

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
  g_test_add_func ("/client/tofu/changed-during-session", test_changed_during_session);

  return g_test_run ();
}
