/* test-client-reconnect.c: the server goes away (stopped, or killed in the
 * middle of a burst) and comes back on the same port; the clients
 * reconnect with their tokens, sync, resend their outboxes, and no
 * message is lost or doubled. */
#define G_LOG_DOMAIN "test-client-reconnect"

#include "client-test-util.h"
#include "natter-test-client.h"

typedef struct {
  char         *dir;
  NatterClient *client;
  char         *name;
  guint         received;
} Peer;

typedef struct {
  NatterTestServer *server;
  Peer              alice;
  Peer              bob;
} Fixture;

static void
count_cb (NatterClient       *client,
          NatterConversation *conv,
          NatterMessage      *msg,
          Peer               *peer)
{
  peer->received++;
}

static void
peer_start (Fixture    *f,
            Peer       *peer,
            const char *prefix)
{
  peer->dir = test_make_state_dir ();
  peer->name = test_username (prefix);
  peer->client = test_client_new (f->server, peer->dir);
  g_signal_connect (peer->client, "message-received", G_CALLBACK (count_cb), peer);
  test_client_sign_up (peer->client, f->server, peer->name);
}

static void
peer_stop (Peer *peer)
{
  test_client_free (g_steal_pointer (&peer->client));
  test_remove_dir (peer->dir);
  g_free (peer->dir);
  g_free (peer->name);
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  f->server = natter_test_server_start (TEST_SERVER_CONFIG, NULL);
  peer_start (f, &f->alice, "alice");
  peer_start (f, &f->bob, "bob");
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  peer_stop (&f->alice);
  peer_stop (&f->bob);
  natter_test_server_free (f->server);
}

static char *
at (const char *name)
{
  return g_strconcat ("@", name, NULL);
}

static gboolean
ready_or_kick (NatterClient *client)
{
  /* Skip the backoff wait: the server is back. */
  natter_client_reconnect_now (client);
  return natter_client_get_state (client) == NATTER_CLIENT_STATE_READY;
}

static void
test_server_restart (Fixture       *f,
                     gconstpointer  data)
{
  g_autofree char *to_bob = at (f->bob.name);
  g_autofree char *to_alice = at (f->alice.name);
  NatterConversation *alice_conv, *bob_conv;
  char body[32];

  natter_client_send_message (f->alice.client, to_bob, "before");
  WAIT_FOR (f->bob.received == 1);

  natter_test_server_stop (f->server);
  WAIT_FOR (natter_client_get_state (f->alice.client) == NATTER_CLIENT_STATE_RECONNECTING);
  WAIT_FOR (natter_client_get_state (f->bob.client) == NATTER_CLIENT_STATE_RECONNECTING);

  /* Written while the server is down: they wait in the outbox. */
  for (guint i = 0; i < 5; i++)
    {
      NatterMessage *msg;

      g_snprintf (body, sizeof body, "offline %u", i);
      msg = natter_client_send_message (f->alice.client, to_bob, body);
      g_assert_cmpint (natter_message_get_state (msg), ==, NATTER_MESSAGE_STATE_SENDING);
    }

  natter_test_server_restart (f->server);
  WAIT_FOR (ready_or_kick (f->alice.client));
  WAIT_FOR (ready_or_kick (f->bob.client));

  alice_conv = natter_client_lookup_conversation (f->alice.client, to_bob, FALSE);
  WAIT_FOR (test_all_sent (alice_conv));
  bob_conv = natter_client_lookup_conversation (f->bob.client, to_alice, FALSE);
  WAIT_FOR (test_count_messages (bob_conv) == 6);

  test_assert_ordered (alice_conv);
  test_assert_ordered (bob_conv);
  g_assert_cmpuint (test_count_messages (alice_conv), ==, 6);
  for (guint i = 0; i < 5; i++)
    {
      g_snprintf (body, sizeof body, "offline %u", i);
      g_assert_cmpuint (test_count_body (alice_conv, body), ==, 1);
      g_assert_cmpuint (test_count_body (bob_conv, body), ==, 1);
    }
  g_assert_cmpuint (f->bob.received, ==, 6);

  /* And the session works as before. */
  natter_client_send_message (f->bob.client, to_alice, "after");
  WAIT_FOR (f->alice.received == 1);
}

static void
test_sync_gap (Fixture       *f,
               gconstpointer  data)
{
  g_autofree char *to_bob = at (f->bob.name);
  g_autofree char *to_alice = at (f->alice.name);
  g_autofree char *token = g_strdup (natter_client_get_token (f->alice.client));
  NatterConversation *alice_conv;
  NatterMessage *last = NULL;
  const guint n = 1200; /* more than two sync pages */
  char body[32];

  natter_client_send_message (f->bob.client, to_alice, "first");
  WAIT_FOR (f->alice.received == 1);

  /* Alice goes away; bob writes a lot meanwhile. */
  natter_client_disconnect (f->alice.client);
  for (guint i = 0; i < n; i++)
    {
      g_snprintf (body, sizeof body, "gap %u", i);
      last = natter_client_send_message (f->bob.client, to_alice, body);
    }
  WAIT_FOR (natter_message_get_state (last) == NATTER_MESSAGE_STATE_SENT);

  test_client_sign_in_token (f->alice.client, f->server, token);
  alice_conv = natter_client_lookup_conversation (f->alice.client, to_bob, FALSE);
  g_assert_cmpuint (test_count_messages (alice_conv), ==, n + 1);
  test_assert_ordered (alice_conv);
  for (guint i = 0; i < n; i += 97)
    {
      g_snprintf (body, sizeof body, "gap %u", i);
      g_assert_cmpuint (test_count_body (alice_conv, body), ==, 1);
    }
  g_assert_cmpuint (natter_conversation_get_unread (alice_conv), ==, n + 1);
  /* A sign-in's sync is not "live": no notification storm. */
  g_assert_cmpuint (f->alice.received, ==, 1);
}

static void
test_kill_during_burst (Fixture       *f,
                        gconstpointer  data)
{
  g_autofree char *to_bob = at (f->bob.name);
  g_autofree char *to_alice = at (f->alice.name);
  NatterConversation *alice_conv, *bob_conv;
  const guint n = 200;
  char body[32];

  for (guint i = 0; i < n; i++)
    {
      g_snprintf (body, sizeof body, "burst %u", i);
      natter_client_send_message (f->alice.client, to_bob, body);
    }
  alice_conv = natter_client_lookup_conversation (f->alice.client, to_bob, FALSE);

  /* Some are stored, some acknowledged, some neither: kill it now. */
  WAIT_FOR (f->bob.received >= 10);
  natter_test_server_kill (f->server);
  WAIT_FOR (natter_client_get_state (f->alice.client) == NATTER_CLIENT_STATE_RECONNECTING);
  natter_test_server_restart (f->server);
  WAIT_FOR (ready_or_kick (f->alice.client));
  WAIT_FOR (ready_or_kick (f->bob.client));

  WAIT_FOR (test_all_sent (alice_conv));
  bob_conv = natter_client_lookup_conversation (f->bob.client, to_alice, FALSE);
  WAIT_FOR (test_count_messages (bob_conv) == n);

  g_assert_cmpuint (test_count_messages (alice_conv), ==, n);
  test_assert_ordered (alice_conv);
  test_assert_ordered (bob_conv);
  for (guint i = 0; i < n; i++)
    {
      g_snprintf (body, sizeof body, "burst %u", i);
      g_assert_cmpuint (test_count_body (alice_conv, body), ==, 1);
      g_assert_cmpuint (test_count_body (bob_conv, body), ==, 1);
    }
}

static void
test_revoked_token (Fixture       *f,
                    gconstpointer  data)
{
  g_autofree char *dir = test_make_state_dir ();
  NatterClient *other;
  GAsyncResult *result = NULL;
  guint errors = 0;

  /* Another device of alice signs in with her token and logs out, which
   * revokes it: alice's reconnect must then stop, not loop. */
  other = test_client_new (f->server, dir);
  test_client_sign_in_token (other, f->server, natter_client_get_token (f->alice.client));
  g_signal_connect_swapped (f->alice.client, "error", G_CALLBACK (g_atomic_int_inc), &errors);

  natter_client_logout_async (other, NULL, test_result_cb, &result);
  g_assert_true (natter_client_logout_finish (other, test_wait_result (&result), NULL));
  g_clear_object (&result);

  WAIT_FOR (natter_client_get_state (f->alice.client) == NATTER_CLIENT_STATE_DISCONNECTED);
  g_assert_null (natter_client_get_token (f->alice.client));
  g_assert_cmpuint (errors, >=, 1);

  test_client_free (other);
  test_remove_dir (dir);
}

static void
make_contacts (Fixture *f)
{
  GAsyncResult *result = NULL;
  g_autoptr(GError) error = NULL;

  natter_client_contact_request_async (f->alice.client, f->bob.name, NULL, test_result_cb, &result);
  g_assert_true (natter_client_contact_request_finish (f->alice.client, test_wait_result (&result), &error));
  g_assert_no_error (error);
  g_clear_object (&result);
  WAIT_FOR (g_list_model_get_n_items (natter_client_get_incoming_requests (f->bob.client)) == 1);
  natter_client_contact_accept_async (f->bob.client, f->alice.name, NULL, test_result_cb, &result);
  g_assert_true (natter_client_contact_accept_finish (f->bob.client, test_wait_result (&result), &error));
  g_assert_no_error (error);
  g_clear_object (&result);
  WAIT_FOR (g_list_model_get_n_items (natter_client_get_contacts (f->alice.client)) == 1);
}

static void
count_online_cb (NatterUser *me,
                 GParamSpec *pspec,
                 guint      *online)
{
  if (natter_user_get_presence (me) == NATTER_PRESENCE_ONLINE)
    (*online)++;
}

/* The presence and status alice chose stay hers across a reconnect: the
 * sign-in reply (a new connection starts "online") must not overwrite
 * them, not even for a moment, and the others see them too. A status
 * cleared here is cleared for the others as well (the server keeps the
 * status text of a set_presence that leaves it out), and stays cleared. */
static void
test_own_presence_kept (Fixture       *f,
                        gconstpointer  data)
{
  NatterUser *me = natter_client_get_me (f->alice.client);
  NatterUser *alice_on_bob = natter_client_lookup_user (f->bob.client, f->alice.name);
  guint online = 0;

  make_contacts (f);
  natter_client_set_presence (f->alice.client, NATTER_PRESENCE_BUSY, "In a meeting");
  WAIT_FOR (natter_user_get_presence (alice_on_bob) == NATTER_PRESENCE_BUSY &&
            g_strcmp0 (natter_user_get_status_text (alice_on_bob), "In a meeting") == 0);

  g_signal_connect (me, "notify::presence", G_CALLBACK (count_online_cb), &online);
  natter_test_server_stop (f->server);
  WAIT_FOR (natter_client_get_state (f->alice.client) == NATTER_CLIENT_STATE_RECONNECTING);
  natter_test_server_restart (f->server);
  WAIT_FOR (ready_or_kick (f->alice.client));
  WAIT_FOR (ready_or_kick (f->bob.client));

  g_assert_true (natter_client_get_me (f->alice.client) == me);
  g_assert_cmpint (natter_user_get_presence (me), ==, NATTER_PRESENCE_BUSY);
  g_assert_cmpstr (natter_user_get_status_text (me), ==, "In a meeting");
  g_assert_cmpuint (online, ==, 0);
  WAIT_FOR (natter_user_get_presence (alice_on_bob) == NATTER_PRESENCE_BUSY &&
            g_strcmp0 (natter_user_get_status_text (alice_on_bob), "In a meeting") == 0);

  /* Cleared here: cleared for bob, and still cleared after a reconnect. */
  natter_client_set_presence (f->alice.client, NATTER_PRESENCE_AWAY, NULL);
  g_assert_null (natter_user_get_status_text (me));
  WAIT_FOR (natter_user_get_presence (alice_on_bob) == NATTER_PRESENCE_AWAY);
  WAIT_FOR (natter_user_get_status_text (alice_on_bob) == NULL);

  natter_test_server_stop (f->server);
  WAIT_FOR (natter_client_get_state (f->alice.client) == NATTER_CLIENT_STATE_RECONNECTING);
  natter_test_server_restart (f->server);
  WAIT_FOR (ready_or_kick (f->alice.client));
  g_assert_cmpint (natter_user_get_presence (me), ==, NATTER_PRESENCE_AWAY);
  g_assert_null (natter_user_get_status_text (me));
  g_assert_cmpuint (online, ==, 0);
  g_signal_handlers_disconnect_by_func (me, count_online_cb, &online);
}

/* While the connection is down, what the server last said about someone's
 * presence is not live: nobody may be shown online (or busy, or last seen
 * at some time) as if it were. It is known again once the client is back
 * and synced. */
static void
test_presence_unknown_while_down (Fixture       *f,
                                  gconstpointer  data)
{
  NatterUser *alice_on_bob = natter_client_lookup_user (f->bob.client, f->alice.name);

  make_contacts (f);
  WAIT_FOR (natter_user_get_presence (alice_on_bob) == NATTER_PRESENCE_ONLINE);
  g_assert_true (natter_user_presence_is_known (alice_on_bob));

  natter_test_server_stop (f->server);
  WAIT_FOR (natter_client_get_state (f->bob.client) == NATTER_CLIENT_STATE_RECONNECTING);
  g_assert_false (natter_user_presence_is_known (alice_on_bob));
  g_assert_false (natter_user_presence_is_known (natter_client_get_me (f->bob.client)));

  natter_test_server_restart (f->server);
  WAIT_FOR (ready_or_kick (f->alice.client));
  WAIT_FOR (ready_or_kick (f->bob.client));
  g_assert_true (natter_user_presence_is_known (alice_on_bob));
  WAIT_FOR (natter_user_get_presence (alice_on_bob) == NATTER_PRESENCE_ONLINE);

  /* Disconnecting on purpose is no different. */
  natter_client_disconnect (f->bob.client);
  g_assert_false (natter_user_presence_is_known (alice_on_bob));
}

int
main (int   argc,
      char *argv[])
{
  test_init ();
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/client/reconnect/server-restart", test_server_restart);
  ADD ("/client/reconnect/sync-gap", test_sync_gap);
  ADD ("/client/reconnect/kill-during-burst", test_kill_during_burst);
  ADD ("/client/reconnect/revoked-token", test_revoked_token);
  ADD ("/client/reconnect/own-presence-kept", test_own_presence_kept);
  ADD ("/client/reconnect/presence-unknown-while-down", test_presence_unknown_while_down);
#undef ADD

  return g_test_run ();
}
