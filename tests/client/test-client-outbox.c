/* test-client-outbox.c: messages written while offline survive the client
 * itself: destroy it, make a new one on the same state dir, and the
 * messages are shown as sending, then delivered exactly once. Messages the
 * server refused for good survive it too, failed. */
#define G_LOG_DOMAIN "test-client-outbox"

#include "client-test-util.h"
#include "natter-test-client.h"

static NatterTestServer *server;

static guint
count_state (NatterConversation *conv,
             NatterMessageState  state)
{
  GListModel *model = natter_conversation_get_messages (conv);
  guint count = 0;

  for (guint i = 0, n = g_list_model_get_n_items (model); i < n; i++)
    {
      g_autoptr(NatterMessage) msg = g_list_model_get_item (model, i);

      if (natter_message_get_state (msg) == state)
        count++;
    }
  return count;
}

static void
count_cb (guint *counter)
{
  (*counter)++;
}

/* One request and its reply: whatever the server sent before it (a stray
 * message, the answer to a send) has arrived. */
static void
round_trip (NatterClient *client)
{
  GAsyncResult *result = NULL;
  g_autoptr(GListModel) rooms = NULL;

  natter_client_room_directory_async (client, "", NULL, test_result_cb, &result);
  rooms = natter_client_room_directory_finish (client, test_wait_result (&result), NULL);
  g_assert_nonnull (rooms);
  g_clear_object (&result);
}

static void
test_across_restart (void)
{
  g_autofree char *alice_dir = test_make_state_dir ();
  g_autofree char *bob_dir = test_make_state_dir ();
  g_autofree char *alice = test_username ("alice");
  g_autofree char *bob = test_username ("bob");
  g_autofree char *to_bob = g_strconcat ("@", bob, NULL);
  g_autofree char *to_alice = g_strconcat ("@", alice, NULL);
  g_autofree char *token = NULL;
  g_autofree char *outbox = g_build_filename (alice_dir, "outbox.log", NULL);
  NatterClient *client, *bob_client;
  NatterConversation *conv;
  guint bob_received = 0;
  char body[32];

  bob_client = test_client_new (server, bob_dir);
  test_client_sign_up (bob_client, server, bob);
  g_signal_connect_swapped (bob_client, "message-received", G_CALLBACK (count_cb), &bob_received);

  client = test_client_new (server, alice_dir);
  test_client_sign_up (client, server, alice);
  token = g_strdup (natter_client_get_token (client));

  /* Offline: written to disk, shown as sending. */
  natter_client_disconnect (client);
  for (guint i = 0; i < 3; i++)
    {
      NatterMessage *msg;

      g_snprintf (body, sizeof body, "from the outbox %u", i);
      msg = natter_client_send_message (client, to_bob, body);
      g_assert_cmpint (natter_message_get_state (msg), ==, NATTER_MESSAGE_STATE_SENDING);
    }
  g_assert_true (g_file_test (outbox, G_FILE_TEST_EXISTS));
  test_client_free (client);

  /* A new client (an app restart) shows them at once, before connecting. */
  client = test_client_new (server, alice_dir);
  conv = natter_client_lookup_conversation (client, to_bob, FALSE);
  g_assert_nonnull (conv);
  g_assert_cmpuint (test_count_messages (conv), ==, 3);
  g_assert_cmpuint (count_state (conv, NATTER_MESSAGE_STATE_SENDING), ==, 3);
  g_assert_cmpstr (natter_message_get_body (natter_conversation_get_last_message (conv)), ==,
                   "from the outbox 2");

  test_client_sign_in_token (client, server, token);
  WAIT_FOR (count_state (conv, NATTER_MESSAGE_STATE_SENT) == 3);
  g_assert_cmpuint (test_count_messages (conv), ==, 3);
  test_assert_ordered (conv);

  WAIT_FOR (bob_received == 3);
  {
    NatterConversation *bob_conv = natter_client_lookup_conversation (bob_client, to_alice, FALSE);

    g_assert_cmpuint (test_count_messages (bob_conv), ==, 3);
    for (guint i = 0; i < 3; i++)
      {
        g_snprintf (body, sizeof body, "from the outbox %u", i);
        g_assert_cmpuint (test_count_body (bob_conv, body), ==, 1);
      }
  }

  /* Delivered: nothing left in the outbox for the next start. */
  test_client_free (client);
  client = test_client_new (server, alice_dir);
  g_assert_null (natter_client_lookup_conversation (client, to_bob, FALSE));

  /* Signing in again does not send anything twice. */
  test_client_sign_in_token (client, server, token);
  conv = natter_client_lookup_conversation (client, to_bob, FALSE);
  g_assert_nonnull (conv);
  g_assert_cmpuint (count_state (conv, NATTER_MESSAGE_STATE_SENDING), ==, 0);
  g_assert_cmpuint (bob_received, ==, 3);

  test_client_free (client);
  test_client_free (bob_client);
  test_remove_dir (alice_dir);
  test_remove_dir (bob_dir);
}

static void
test_already_stored (void)
{
  g_autofree char *alice_dir = test_make_state_dir ();
  g_autofree char *bob_dir = test_make_state_dir ();
  g_autofree char *alice = test_username ("alice");
  g_autofree char *bob = test_username ("bob");
  g_autofree char *to_bob = g_strconcat ("@", bob, NULL);
  g_autofree char *to_alice = g_strconcat ("@", alice, NULL);
  g_autofree char *outbox = g_build_filename (alice_dir, "outbox.log", NULL);
  g_autofree char *saved = NULL;
  g_autofree char *token = NULL;
  NatterClient *client, *bob_client;
  NatterConversation *conv, *bob_conv;
  NatterMessage *msg;
  gsize saved_len;

  bob_client = test_client_new (server, bob_dir);
  test_client_sign_up (bob_client, server, bob);

  client = test_client_new (server, alice_dir);
  test_client_sign_up (client, server, alice);
  token = g_strdup (natter_client_get_token (client));

  /* Keep the outbox as it was while the message was in flight, then let
   * it be acknowledged: as if the app died before it saw the ack. */
  natter_client_disconnect (client);
  msg = natter_client_send_message (client, to_bob, "acked but not seen");
  g_assert_true (g_file_get_contents (outbox, &saved, &saved_len, NULL));
  test_client_sign_in_token (client, server, token);
  WAIT_FOR (natter_message_get_state (msg) == NATTER_MESSAGE_STATE_SENT);
  test_client_free (client);
  g_assert_true (g_file_set_contents (outbox, saved, saved_len, NULL));

  /* The restarted client resends it with the same client_msg_id: the
   * server answers the original and delivers nothing new. */
  client = test_client_new (server, alice_dir);
  test_client_sign_in_token (client, server, token);
  conv = natter_client_lookup_conversation (client, to_bob, FALSE);
  WAIT_FOR (count_state (conv, NATTER_MESSAGE_STATE_SENDING) == 0);
  g_assert_cmpuint (test_count_body (conv, "acked but not seen"), ==, 1);

  bob_conv = natter_client_lookup_conversation (bob_client, to_alice, FALSE);
  g_assert_nonnull (bob_conv);
  /* One round trip for bob's connection, to let any stray copy arrive. */
  round_trip (bob_client);
  g_assert_cmpuint (test_count_body (bob_conv, "acked but not seen"), ==, 1);

  test_client_free (client);
  test_client_free (bob_client);
  test_remove_dir (alice_dir);
  test_remove_dir (bob_dir);
}

static gboolean
has_conversation (NatterClient *client,
                  const char   *address)
{
  GListModel *model = natter_client_get_conversations (client);

  for (guint i = 0, n = g_list_model_get_n_items (model); i < n; i++)
    {
      g_autoptr(NatterConversation) conv = g_list_model_get_item (model, i);

      if (g_strcmp0 (natter_conversation_get_address (conv), address) == 0)
        return TRUE;
    }
  return FALSE;
}

/* A message the server refused for good stays on disk: a restart shows it
 * failed (and does not send it by itself); Retry sends it, Delete removes
 * it from disk, and a conversation left with nothing goes away. */
static void
test_failed_across_restart (void)
{
  g_autofree char *alice_dir = test_make_state_dir ();
  g_autofree char *frank_dir = test_make_state_dir ();
  g_autofree char *alice = test_username ("alice");
  g_autofree char *frank = test_username ("frank");
  g_autofree char *nobody = test_username ("nobody");
  g_autofree char *nobody2 = test_username ("nobody");
  g_autofree char *to_frank = g_strconcat ("@", frank, NULL);
  g_autofree char *to_nobody = g_strconcat ("@", nobody, NULL);
  g_autofree char *to_nobody2 = g_strconcat ("@", nobody2, NULL);
  g_autofree char *outbox = g_build_filename (alice_dir, "outbox.log", NULL);
  g_autofree char *frank_id = NULL;
  g_autofree char *token = NULL;
  NatterClient *client, *frank_client;
  NatterConversation *frank_conv, *nobody_conv, *nobody2_conv;
  NatterMessage *msg, *early, *lost, *lost2;
  guint frank_received = 0;

  client = test_client_new (server, alice_dir);
  test_client_sign_up (client, server, alice);
  token = g_strdup (natter_client_get_token (client));

  /* Refused: frank has no account yet, nobody never will. */
  msg = natter_client_send_message (client, to_frank, "before you joined");
  frank_id = g_strdup (natter_message_get_client_msg_id (msg));
  WAIT_FOR (natter_message_get_state (msg) == NATTER_MESSAGE_STATE_FAILED);
  msg = natter_client_send_message (client, to_nobody, "anyone there?");
  WAIT_FOR (natter_message_get_state (msg) == NATTER_MESSAGE_STATE_FAILED);
  msg = natter_client_send_message (client, to_nobody2, "hello?");
  WAIT_FOR (natter_message_get_state (msg) == NATTER_MESSAGE_STATE_FAILED);
  test_client_free (client);

  /* A restart shows them failed, at once. */
  client = test_client_new (server, alice_dir);
  frank_conv = natter_client_lookup_conversation (client, to_frank, FALSE);
  nobody_conv = natter_client_lookup_conversation (client, to_nobody, FALSE);
  nobody2_conv = natter_client_lookup_conversation (client, to_nobody2, FALSE);
  g_assert_nonnull (frank_conv);
  g_assert_nonnull (nobody_conv);
  g_assert_nonnull (nobody2_conv);
  g_assert_cmpuint (test_count_messages (frank_conv), ==, 1);
  g_assert_cmpuint (count_state (frank_conv, NATTER_MESSAGE_STATE_FAILED), ==, 1);
  g_assert_cmpuint (count_state (nobody_conv, NATTER_MESSAGE_STATE_FAILED), ==, 1);
  early = natter_conversation_get_last_message (frank_conv);
  lost = natter_conversation_get_last_message (nobody_conv);
  lost2 = natter_conversation_get_last_message (nobody2_conv);
  g_assert_cmpstr (natter_message_get_body (early), ==, "before you joined");
  g_assert_cmpstr (natter_message_get_client_msg_id (early), ==, frank_id);

  /* Frank signs up; signing in does not send the failed message by
   * itself. */
  frank_client = test_client_new (server, frank_dir);
  test_client_sign_up (frank_client, server, frank);
  g_signal_connect_swapped (frank_client, "message-received", G_CALLBACK (count_cb), &frank_received);
  test_client_sign_in_token (client, server, token);
  round_trip (client);
  round_trip (frank_client);
  g_assert_cmpint (natter_message_get_state (early), ==, NATTER_MESSAGE_STATE_FAILED);
  g_assert_cmpuint (frank_received, ==, 0);

  /* Retry: the very same message, delivered once. */
  g_assert_true (natter_client_retry_message (client, early));
  WAIT_FOR (natter_message_get_state (early) == NATTER_MESSAGE_STATE_SENT);
  g_assert_cmpstr (natter_message_get_client_msg_id (early), ==, frank_id);
  WAIT_FOR (frank_received == 1);

  /* Delete while its conversation is open: the conversation stays while
   * it is open, and goes once another one opens. */
  natter_client_set_open_conversation (client, nobody_conv);
  g_assert_true (natter_client_discard_message (client, lost));
  g_assert_cmpuint (test_count_messages (nobody_conv), ==, 0);
  g_assert_true (has_conversation (client, to_nobody));
  natter_client_set_open_conversation (client, frank_conv);
  g_assert_false (has_conversation (client, to_nobody));
  g_assert_null (natter_client_lookup_conversation (client, to_nobody, FALSE));

  /* Delete in a conversation not open: it goes at once. A conversation
   * the server lists (frank's, stored now) stays whatever happens. */
  g_assert_true (natter_client_discard_message (client, lost2));
  g_assert_false (has_conversation (client, to_nobody2));
  natter_client_set_open_conversation (client, NULL);
  g_assert_true (has_conversation (client, to_frank));
  test_client_free (client);

  /* Nothing left on disk: the log is empty, and a restart shows none of
   * them. */
  {
    g_autofree char *contents = NULL;
    gsize len = 1;

    g_assert_true (g_file_get_contents (outbox, &contents, &len, NULL));
    g_assert_cmpuint (len, ==, 0);
  }
  client = test_client_new (server, alice_dir);
  g_assert_null (natter_client_lookup_conversation (client, to_nobody, FALSE));
  g_assert_null (natter_client_lookup_conversation (client, to_nobody2, FALSE));
  g_assert_null (natter_client_lookup_conversation (client, to_frank, FALSE));

  test_client_free (client);
  test_client_free (frank_client);
  test_remove_dir (alice_dir);
  test_remove_dir (frank_dir);
}

/* One device, two accounts: what alice wrote offline is neither shown to
 * nor sent as bob when bob signs in there (in a new process, as after an
 * app restart), and goes out as alice when she is back. */
static void
test_shared_device (void)
{
  g_autofree char *dir = test_make_state_dir ();
  g_autofree char *carol_dir = test_make_state_dir ();
  g_autofree char *alice = test_username ("alice");
  g_autofree char *bob = test_username ("bob");
  g_autofree char *carol = test_username ("carol");
  g_autofree char *to_carol = g_strconcat ("@", carol, NULL);
  g_autofree char *to_alice = g_strconcat ("@", alice, NULL);
  g_autofree char *alice_token = NULL;
  NatterClient *client, *carol_client;
  NatterConversation *conv;
  guint carol_received = 0;

  carol_client = test_client_new (server, carol_dir);
  test_client_sign_up (carol_client, server, carol);
  g_signal_connect_swapped (carol_client, "message-received", G_CALLBACK (count_cb), &carol_received);

  client = test_client_new (server, dir);
  test_client_sign_up (client, server, alice);
  alice_token = g_strdup (natter_client_get_token (client));
  natter_client_disconnect (client);
  natter_client_send_message (client, to_carol, "alice's, written offline");
  test_client_free (client);

  /* bob on the same device, after a restart of the app. */
  client = test_client_new (server, dir);
  test_client_sign_up (client, server, bob);
  WAIT_FOR (natter_client_get_state (client) == NATTER_CLIENT_STATE_READY);
  conv = natter_client_lookup_conversation (client, to_carol, FALSE);
  g_assert_true (conv == NULL || test_count_messages (conv) == 0);
  round_trip (client);
  round_trip (carol_client);
  g_assert_cmpuint (carol_received, ==, 0);
  test_client_free (client);

  /* alice again: it shows as hers and reaches carol once, from her. */
  client = test_client_new (server, dir);
  test_client_sign_in_token (client, server, alice_token);
  WAIT_FOR (carol_received == 1);
  conv = natter_client_lookup_conversation (carol_client, to_alice, FALSE);
  g_assert_nonnull (conv);
  g_assert_cmpuint (test_count_body (conv, "alice's, written offline"), ==, 1);

  test_client_free (client);
  test_client_free (carol_client);
  test_remove_dir (dir);
  test_remove_dir (carol_dir);
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  test_init ();
  g_test_init (&argc, &argv, NULL);

  server = natter_test_server_start (TEST_SERVER_CONFIG, NULL);

  g_test_add_func ("/client/outbox/across-restart", test_across_restart);
  g_test_add_func ("/client/outbox/already-stored", test_already_stored);
  g_test_add_func ("/client/outbox/failed-across-restart", test_failed_across_restart);
  g_test_add_func ("/client/outbox/shared-device", test_shared_device);

  ret = g_test_run ();
  natter_test_server_free (server);
  return ret;
}
