/* test-client-addresses.c: a server with several addresses (issue 13).
 *
 * The client tries them in turn: a refused address passes the turn to
 * the next; a host name's addresses are each tried; a node killed under
 * a signed-in client sends it to the next address by itself, where its
 * outbox goes out and nothing acknowledged is lost or doubled (two
 * natterd on one PostgreSQL database, so only in the client-pg suite);
 * and certificates are trusted per host:port.
 */
#define G_LOG_DOMAIN "test-client-addresses"

#include <glib/gstdio.h>

#include "client-test-util.h"
#include "natter-test-client.h"

static gboolean
connect_server (NatterClient  *client,
                const char    *addresses,
                GError       **error)
{
  GAsyncResult *result = NULL;
  gboolean ok;

  natter_client_connect_server_async (client, addresses, NULL, test_result_cb, &result);
  ok = natter_client_connect_finish (client, test_wait_result (&result), error);
  g_clear_object (&result);
  return ok;
}

/* The certificate the address in turn presented, trusted for it: what
 * the user does on the welcome page. */
static void
trust_current (NatterClient *client)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (natter_client_trust_fingerprint (client, natter_client_get_host (client),
                                                  natter_client_get_port (client),
                                                  natter_client_get_peer_fingerprint (client),
                                                  &error));
  g_assert_no_error (error);
}

/* Connects, trusting each certificate not seen before on the way. */
static void
connect_trusting (NatterClient *client,
                  const char   *addresses)
{
  g_autoptr(GError) error = NULL;

  while (!connect_server (client, addresses, &error))
    {
      g_assert_error (error, NATTER_CLIENT_ERROR, NATTER_CLIENT_ERROR_CERTIFICATE_UNKNOWN);
      g_clear_error (&error);
      trust_current (client);
    }
  g_assert_cmpint (natter_client_get_state (client), ==, NATTER_CLIENT_STATE_CONNECTED);
}

static void
sign_in (NatterClient *client,
         const char   *username,
         gboolean      register_first)
{
  g_autoptr(GError) error = NULL;
  GAsyncResult *result = NULL;
  gboolean ok;

  if (register_first)
    {
      natter_client_register_async (client, username, NATTER_TEST_PASSWORD, NULL, NULL,
                                    test_result_cb, &result);
      ok = natter_client_register_finish (client, test_wait_result (&result), &error);
    }
  else
    {
      natter_client_login_async (client, username, NATTER_TEST_PASSWORD, NULL,
                                 test_result_cb, &result);
      ok = natter_client_login_finish (client, test_wait_result (&result), &error);
    }
  g_clear_object (&result);
  g_assert_no_error (error);
  g_assert_true (ok);
  WAIT_FOR (natter_client_get_state (client) == NATTER_CLIENT_STATE_READY);
}

static char *
address_of (NatterTestServer *server)
{
  return g_strdup_printf ("127.0.0.1:%u", natter_test_server_get_port (server));
}

/* (a) The first address refuses connections, the second is natterd: the
 * client signs in there, and says which address it is on. */
static void
test_first_refused (void)
{
  g_autoptr(NatterTestServer) server = natter_test_server_start (TEST_SERVER_CONFIG, NULL);
  g_autofree char *dir = test_make_state_dir ();
  g_autofree char *name = test_username ("alice");
  g_autofree char *addresses = NULL;
  g_autofree char *server_text = NULL;
  g_autoptr(GSocket) closed = NULL;
  NatterClient *client;
  guint16 closed_port;

  closed = natter_test_closed_port_new (&closed_port);
  addresses = g_strdup_printf ("127.0.0.1:%u, 127.0.0.1:%u", closed_port,
                               natter_test_server_get_port (server));
  client = test_client_new (server, dir);
  connect_trusting (client, addresses);
  g_assert_cmpuint (natter_client_get_port (client), ==, natter_test_server_get_port (server));
  server_text = natter_client_dup_server (client);
  g_assert_cmpstr (server_text, ==, addresses);
  sign_in (client, name, TRUE);

  /* A bad list fails before anything is tried, saying why. */
  {
    g_autoptr(GError) error = NULL;

    g_assert_false (connect_server (client, "127.0.0.1:0", &error));
    g_assert_error (error, NATTER_SERVER_ADDRESS_ERROR, NATTER_SERVER_ADDRESS_ERROR_PORT);
  }

  test_client_free (client);
  test_remove_dir (dir);
}

/* A host name is each of its addresses: "localhost" is tried on every
 * address the resolver gives (GSocketClient goes through a
 * GNetworkAddress's), and natterd listens on 127.0.0.1 only, so one that
 * comes first and refuses (::1, where the resolver lists it) does not
 * stop the connect. */
static void
test_host_name (void)
{
  g_autoptr(NatterTestServer) server = natter_test_server_start (TEST_SERVER_CONFIG, NULL);
  g_autofree char *dir = test_make_state_dir ();
  g_autofree char *addresses = g_strdup_printf ("localhost:%u", natter_test_server_get_port (server));
  NatterClient *client = test_client_new (server, dir);

  connect_trusting (client, addresses);
  g_assert_cmpstr (natter_client_get_host (client), ==, "localhost");

  test_client_free (client);
  test_remove_dir (dir);
}

static void
count_certificate_errors_cb (NatterClient *client,
                             GError       *error,
                             guint        *count)
{
  if (g_error_matches (error, NATTER_CLIENT_ERROR, NATTER_CLIENT_ERROR_CERTIFICATE_CHANGED) ||
      g_error_matches (error, NATTER_CLIENT_ERROR, NATTER_CLIENT_ERROR_CERTIFICATE_UNKNOWN))
    (*count)++;
}

static gboolean
state_is_not_untrusted (gpointer client)
{
  return natter_client_get_state (client) != NATTER_CLIENT_STATE_UNTRUSTED;
}

static void
copy_file (const char *from_dir,
           const char *to_dir,
           const char *name)
{
  g_autofree char *from = g_build_filename (from_dir, name, NULL);
  g_autofree char *to = g_build_filename (to_dir, name, NULL);
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  gsize len;

  g_assert_true (g_file_get_contents (from, &contents, &len, &error));
  g_assert_true (g_file_set_contents_full (to, contents, len, G_FILE_SET_CONTENTS_NONE, 0600, &error));
  g_assert_no_error (error);
}

static void
remove_certificate (NatterTestServer *server)
{
  const char *data_dir = natter_test_server_get_data_dir (server);
  g_autofree char *cert = g_build_filename (data_dir, "tls-cert.pem", NULL);
  g_autofree char *key = g_build_filename (data_dir, "tls-key.pem", NULL);

  g_assert_cmpint (g_remove (cert), ==, 0);
  g_assert_cmpint (g_remove (key), ==, 0);
}

/* (c) Trust on first use, per host:port. */
static void
test_tofu_per_address (void)
{
  g_autoptr(NatterTestServer) a = natter_test_server_start (TEST_SERVER_CONFIG, NULL);
  g_autoptr(NatterTestServer) b = natter_test_server_start (TEST_SERVER_CONFIG, NULL);
  g_autoptr(NatterTestServer) c = NULL;
  g_autofree char *dir = test_make_state_dir ();
  g_autofree char *c_dir = NULL;
  g_autofree char *name = test_username ("alice");
  g_autofree char *addr_a = address_of (a);
  g_autofree char *addr_b = address_of (b);
  g_autofree char *both = g_strdup_printf ("%s, %s", addr_a, addr_b);
  g_autofree char *fp_a = NULL;
  g_autofree char *fp_b = NULL;
  g_autoptr(GError) error = NULL;
  NatterClient *client;
  guint errors = 0;

  client = test_client_new (a, dir);
  g_signal_connect (client, "error", G_CALLBACK (count_certificate_errors_cb), &errors);

  /* Nothing known: the first address asks, as one address always did. */
  g_assert_false (connect_server (client, both, &error));
  g_assert_error (error, NATTER_CLIENT_ERROR, NATTER_CLIENT_ERROR_CERTIFICATE_UNKNOWN);
  g_clear_error (&error);
  g_assert_cmpuint (natter_client_get_port (client), ==, natter_test_server_get_port (a));
  fp_a = g_strdup (natter_client_get_peer_fingerprint (client));
  trust_current (client);
  g_assert_true (connect_server (client, both, &error));
  g_assert_cmpuint (natter_client_get_port (client), ==, natter_test_server_get_port (a));

  /* A is down: B, never seen, is asked about in its own name (its own
   * certificate), and trusting it does not touch A's. */
  natter_test_server_stop (a);
  g_assert_false (connect_server (client, both, &error));
  g_assert_error (error, NATTER_CLIENT_ERROR, NATTER_CLIENT_ERROR_CERTIFICATE_UNKNOWN);
  g_clear_error (&error);
  g_assert_cmpuint (natter_client_get_port (client), ==, natter_test_server_get_port (b));
  g_assert_null (natter_client_get_trusted_fingerprint (client));
  fp_b = g_strdup (natter_client_get_peer_fingerprint (client));
  g_assert_cmpstr (fp_b, !=, fp_a);
  trust_current (client);
  g_assert_true (connect_server (client, both, &error));
  g_assert_cmpuint (natter_client_get_port (client), ==, natter_test_server_get_port (b));
  sign_in (client, name, TRUE);
  g_assert_cmpuint (errors, ==, 0);

  /* B gets another certificate while alice is signed in there (A still
   * down): reconnecting goes round A (refused) and stops at B, UNTRUSTED,
   * once, as with one address. */
  natter_test_server_stop (b);
  WAIT_FOR (natter_client_get_state (client) == NATTER_CLIENT_STATE_RECONNECTING);
  remove_certificate (b);
  natter_test_server_restart (b);
  WAIT_FOR (natter_client_get_state (client) == NATTER_CLIENT_STATE_UNTRUSTED ||
            (natter_client_reconnect_now (client), FALSE));
  g_assert_cmpuint (errors, ==, 1);
  g_assert_cmpuint (natter_client_get_port (client), ==, natter_test_server_get_port (b));
  g_assert_cmpstr (natter_client_get_trusted_fingerprint (client), ==, fp_b);
  g_assert_cmpstr (natter_client_get_peer_fingerprint (client), !=, fp_b);

  /* A coming back does not carry the session past the decision: it stays
   * stopped until the user decides. */
  natter_test_server_restart (a);
  g_assert_false (wait_until (state_is_not_untrusted, client, 1500));
  g_assert_cmpuint (errors, ==, 1);

  /* Trusted: the same sign-in goes on at B, A's pin untouched. */
  trust_current (client);
  natter_client_resume (client);
  WAIT_FOR (natter_client_get_state (client) == NATTER_CLIENT_STATE_READY);
  g_assert_cmpuint (natter_client_get_port (client), ==, natter_test_server_get_port (b));
  test_client_free (client);

  /* C has A's certificate (the operator copied it to a new node): as an
   * address of the same server it is trusted for it without asking, and
   * pinned; alone, as a server of its own, it is asked about. */
  c_dir = test_make_state_dir ();
  copy_file (natter_test_server_get_data_dir (a), c_dir, "tls-cert.pem");
  copy_file (natter_test_server_get_data_dir (a), c_dir, "tls-key.pem");
  c = natter_test_server_start_full (c_dir, 0, TRUE, TEST_SERVER_CONFIG, NULL);
  {
    g_autofree char *addr_c = address_of (c);
    g_autofree char *a_and_c = g_strdup_printf ("%s, %s", addr_a, addr_c);
    g_autofree char *other_dir = test_make_state_dir ();

    client = test_client_new (c, dir);
    natter_test_server_stop (a);
    g_assert_true (connect_server (client, a_and_c, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (natter_client_get_port (client), ==, natter_test_server_get_port (c));
    g_assert_cmpstr (natter_client_get_trusted_fingerprint (client), ==, fp_a);
    test_client_free (client);

    /* Pinned: C alone is now known in this state dir. */
    client = test_client_new (c, dir);
    g_assert_true (connect_server (client, addr_c, &error));
    g_assert_no_error (error);
    test_client_free (client);

    /* In another state dir, C alone is a server never seen. */
    client = test_client_new (c, other_dir);
    g_assert_false (connect_server (client, addr_c, &error));
    g_assert_error (error, NATTER_CLIENT_ERROR, NATTER_CLIENT_ERROR_CERTIFICATE_UNKNOWN);
    g_clear_error (&error);
    test_client_free (client);
    test_remove_dir (other_dir);
  }

  natter_test_server_free (g_steal_pointer (&c));
  test_remove_dir (c_dir);
  test_remove_dir (dir);
}

#define N_BEFORE  20  /* sent just before the kill: acknowledged, in flight or unsent */
#define N_DOWN    10  /* written while reconnecting: in the outbox */

/* (b) Two nodes on one PostgreSQL database; alice's client is on node A
 * and sends; A is killed (SIGKILL). The client goes to B by itself (no
 * kick: the backoff's first round), resends its outbox there, and a sync
 * on another connection shows every message exactly once. */
static void
test_node_killed (void)
{
  g_autoptr(NatterTestServer) node_a = natter_test_server_start (TEST_SERVER_CONFIG, NULL);
  g_autoptr(NatterTestServer) node_b = NULL;
  g_autoptr(NatterTestClient) bob = NULL;
  g_autofree char *dir = test_make_state_dir ();
  g_autofree char *b_dir = test_make_state_dir ();
  g_autofree char *addresses = NULL;
  g_autofree char *alice = NULL;
  g_autofree char *to_bob = NULL;
  NatterConversation *conv;
  NatterClient *client;
  NatterMessage *first = NULL;
  char body[32];

  g_assert_nonnull (natter_test_server_get_database (node_a));

  /* natterd loads accounts and conversations when it starts (nothing
   * tells a node yet what another changed): both users and their
   * conversation are made on A before B starts. */
  bob = natter_test_client_new_user (node_a, "bob");
  to_bob = g_strdup_printf ("@%s", natter_test_client_get_username (bob));
  {
    g_autoptr(NatterTestClient) raw = natter_test_client_new_user (node_a, "alice");
    g_autoptr(JsonObject) ok = NULL;

    alice = g_strdup (natter_test_client_get_username (raw));
    ok = natter_test_client_request_ok (raw, "{\"type\":\"send\",\"to\":\"%s\",\"body\":\"hello\","
                                        "\"client_msg_id\":\"hello-1\"}", to_bob);
  }
  g_clear_pointer (&bob, natter_test_client_free);

  /* B has A's certificate, as the nodes of a cluster behind one name do. */
  copy_file (natter_test_server_get_data_dir (node_a), b_dir, "tls-cert.pem");
  copy_file (natter_test_server_get_data_dir (node_a), b_dir, "tls-key.pem");
  {
    const char *args[] = { "--database", natter_test_server_get_database (node_a), NULL };

    node_b = natter_test_server_start_full (b_dir, 0, TRUE, TEST_SERVER_CONFIG, args);
  }

  addresses = g_strdup_printf ("127.0.0.1:%u, 127.0.0.1:%u", natter_test_server_get_port (node_a),
                               natter_test_server_get_port (node_b));
  client = test_client_new (node_a, dir);
  connect_trusting (client, addresses);
  g_assert_cmpuint (natter_client_get_port (client), ==, natter_test_server_get_port (node_a));
  sign_in (client, alice, FALSE);
  conv = natter_client_lookup_conversation (client, to_bob, FALSE);
  g_assert_nonnull (conv);
  WAIT_FOR (test_count_body (conv, "hello") == 1);

  /* A burst, and A dies under it: some acknowledged, some maybe stored
   * but not acknowledged, some never read. */
  for (guint i = 0; i < N_BEFORE; i++)
    {
      NatterMessage *msg;

      g_snprintf (body, sizeof body, "before %u", i);
      msg = natter_client_send_message (client, to_bob, body);
      if (i == 0)
        first = msg;
    }
  WAIT_FOR (natter_message_get_state (first) == NATTER_MESSAGE_STATE_SENT);
  natter_test_server_kill (node_a);
  WAIT_FOR (natter_client_get_state (client) == NATTER_CLIENT_STATE_RECONNECTING);
  for (guint i = 0; i < N_DOWN; i++)
    {
      g_snprintf (body, sizeof body, "down %u", i);
      natter_client_send_message (client, to_bob, body);
    }

  /* By itself, on B. */
  WAIT_FOR (natter_client_get_state (client) == NATTER_CLIENT_STATE_READY);
  g_assert_cmpuint (natter_client_get_port (client), ==, natter_test_server_get_port (node_b));
  WAIT_FOR (test_all_sent (conv));
  test_assert_ordered (conv);

  /* A sync from B, on another connection of alice's: every message the
   * client holds as acknowledged, exactly once, and nothing else. */
  {
    g_autoptr(NatterTestClient) other = natter_test_client_new_login (node_b, alice);
    g_autoptr(JsonObject) page = natter_test_client_request_ok (other,
        "{\"type\":\"sync\",\"since\":0,\"limit\":1000}");
    JsonArray *messages = natter_test_get_array (page, "messages");
    g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

    g_assert_false (natter_test_get_bool (page, "has_more"));
    for (guint i = 0; i < json_array_get_length (messages); i++)
      {
        JsonObject *m = json_array_get_object_element (messages, i);

        if (!g_hash_table_add (seen, g_strdup (natter_test_get_str (m, "body"))))
          g_error ("\"%s\" twice in the sync", natter_test_get_str (m, "body"));
      }
    g_assert_cmpuint (g_hash_table_size (seen), ==, 1 + N_BEFORE + N_DOWN);
    for (guint i = 0; i < N_BEFORE + N_DOWN; i++)
      {
        if (i < N_BEFORE)
          g_snprintf (body, sizeof body, "before %u", i);
        else
          g_snprintf (body, sizeof body, "down %u", i - N_BEFORE);
        g_assert_true (g_hash_table_contains (seen, body));
        g_assert_cmpuint (test_count_body (conv, body), ==, 1);
      }
  }

  test_client_free (client);
  natter_test_server_free (g_steal_pointer (&node_b));
  test_remove_dir (b_dir);
  test_remove_dir (dir);
}

int
main (int   argc,
      char *argv[])
{
  test_init ();
  natter_test_init (&argc, &argv);

  natter_test_add ("/client/addresses/first-refused", test_first_refused);
  natter_test_add ("/client/addresses/host-name", test_host_name);
  natter_test_add ("/client/addresses/tofu-per-address", test_tofu_per_address);
  natter_test_add_pg_only ("/client/addresses/node-killed", test_node_killed,
                           "two natterd share a database only on PostgreSQL");

  return g_test_run ();
}
