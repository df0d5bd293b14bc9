/* test-client-chat.c: two (or three) clients in one process talking
 * through a real natterd: messages, read markers, typing, contacts and
 * presence, rooms, history paging, search. */
#define G_LOG_DOMAIN "test-client-chat"

#include <string.h>

#include "client-test-util.h"
#include "natter-client-private.h"
#include "natter-test-client.h"

static NatterTestServer *server;

typedef struct {
  char         *dir;
  NatterClient *client;
  char         *name;
  guint         received;      /* message-received emissions */
  guint         contact_requests;
  guint         presence_changes;
  NatterPresence last_old_presence;
  NatterUser   *last_presence_user;
} Peer;

typedef struct {
  Peer alice;
  Peer bob;
} Fixture;

static void
message_received_cb (NatterClient       *client,
                     NatterConversation *conv,
                     NatterMessage      *msg,
                     Peer               *peer)
{
  g_assert_false (natter_message_get_outgoing (msg));
  g_assert_cmpint (natter_message_get_id (msg), >, 0);
  g_assert_cmpstr (natter_message_get_conversation (msg), ==, natter_conversation_get_address (conv));
  peer->received++;
}

static void
contact_request_cb (NatterClient *client,
                    NatterUser   *from,
                    Peer         *peer)
{
  peer->contact_requests++;
}

static void
presence_changed_cb (NatterClient   *client,
                     NatterUser     *user,
                     NatterPresence  old,
                     Peer           *peer)
{
  peer->presence_changes++;
  peer->last_old_presence = old;
  peer->last_presence_user = user;
}

static void
peer_start (Peer       *peer,
            const char *prefix)
{
  peer->dir = test_make_state_dir ();
  peer->name = test_username (prefix);
  peer->client = test_client_new (server, peer->dir);
  g_signal_connect (peer->client, "message-received", G_CALLBACK (message_received_cb), peer);
  g_signal_connect (peer->client, "contact-request", G_CALLBACK (contact_request_cb), peer);
  g_signal_connect (peer->client, "presence-changed", G_CALLBACK (presence_changed_cb), peer);
  test_client_sign_up (peer->client, server, peer->name);
}

static void
peer_stop (Peer *peer)
{
  if (peer->client != NULL)
    test_client_free (g_steal_pointer (&peer->client));
  test_remove_dir (peer->dir);
  g_free (peer->dir);
  g_free (peer->name);
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  peer_start (&f->alice, "alice");
  peer_start (&f->bob, "bob");
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  peer_stop (&f->alice);
  peer_stop (&f->bob);
}

static char *
at (const char *name)
{
  return g_strconcat ("@", name, NULL);
}

static void
test_direct (Fixture       *f,
             gconstpointer  data)
{
  g_autofree char *to_bob = at (f->bob.name);
  g_autofree char *to_alice = at (f->alice.name);
  NatterConversation *alice_conv, *bob_conv = NULL;
  NatterMessage *msg, *reply;
  g_autoptr(NatterMessage) first = NULL;

  msg = natter_client_send_message (f->alice.client, to_bob, "hello bob");
  g_assert_nonnull (msg);
  g_object_ref (msg);
  g_assert_true (natter_message_get_outgoing (msg));
  alice_conv = natter_client_lookup_conversation (f->alice.client, to_bob, FALSE);
  g_assert_nonnull (alice_conv);
  g_assert_true (natter_conversation_get_peer (alice_conv) ==
                 natter_client_lookup_user (f->alice.client, f->bob.name));
  g_assert_cmpuint (test_count_messages (alice_conv), ==, 1);
  g_assert_true (natter_conversation_get_last_message (alice_conv) == msg);

  WAIT_FOR (natter_message_get_state (msg) == NATTER_MESSAGE_STATE_SENT);
  g_assert_cmpint (natter_message_get_id (msg), >, 0);
  g_assert_cmpuint (test_count_messages (alice_conv), ==, 1);

  WAIT_FOR (f->bob.received == 1);
  bob_conv = natter_client_lookup_conversation (f->bob.client, to_alice, FALSE);
  g_assert_nonnull (bob_conv);
  g_assert_cmpuint (test_count_messages (bob_conv), ==, 1);
  first = g_list_model_get_item (natter_conversation_get_messages (bob_conv), 0);
  g_assert_cmpint (natter_message_get_id (first), ==, natter_message_get_id (msg));
  g_assert_cmpstr (natter_message_get_body (first), ==, "hello bob");
  g_assert_cmpstr (natter_message_get_sender (first), ==, f->alice.name);
  g_assert_false (natter_message_get_outgoing (first));
  g_assert_cmpuint (natter_conversation_get_unread (bob_conv), ==, 1);
  g_assert_cmpuint (natter_client_get_unread_total (f->bob.client), ==, 1);
  g_assert_cmpuint (g_list_model_get_n_items (natter_client_get_conversations (f->bob.client)), ==, 1);

  reply = natter_client_send_message (f->bob.client, to_alice, "hi alice");
  WAIT_FOR (f->alice.received == 1);
  WAIT_FOR (natter_message_get_state (reply) == NATTER_MESSAGE_STATE_SENT);
  g_assert_cmpuint (test_count_messages (alice_conv), ==, 2);
  g_assert_cmpuint (test_count_messages (bob_conv), ==, 2);
  test_assert_ordered (alice_conv);
  test_assert_ordered (bob_conv);
  g_assert_cmpstr (natter_message_get_body (natter_conversation_get_last_message (alice_conv)), ==, "hi alice");
  /* Our own messages never count as received, and never as unread. */
  g_assert_cmpuint (f->bob.received, ==, 1);
  g_assert_cmpuint (natter_conversation_get_unread (alice_conv), ==, 1);
  g_assert_cmpuint (natter_conversation_get_unread (bob_conv), ==, 1);

  g_object_unref (msg);
}

static void
test_burst (Fixture       *f,
            gconstpointer  data)
{
  g_autofree char *to_bob = at (f->bob.name);
  g_autofree char *to_alice = at (f->alice.name);
  g_autofree char *outbox = g_build_filename (f->alice.dir, "outbox.log", NULL);
  NatterConversation *alice_conv, *bob_conv;
  const guint n = 300;
  char body[32];

  for (guint i = 0; i < n; i++)
    {
      g_snprintf (body, sizeof body, "burst %u", i);
      g_assert_nonnull (natter_client_send_message (f->alice.client, to_bob, body));
    }
  alice_conv = natter_client_lookup_conversation (f->alice.client, to_bob, FALSE);
  g_assert_cmpuint (test_count_messages (alice_conv), ==, n);

  WAIT_FOR (f->bob.received == n);
  WAIT_FOR (test_all_sent (alice_conv));
  bob_conv = natter_client_lookup_conversation (f->bob.client, to_alice, FALSE);

  g_assert_cmpuint (test_count_messages (alice_conv), ==, n);
  g_assert_cmpuint (test_count_messages (bob_conv), ==, n);
  test_assert_ordered (alice_conv);
  test_assert_ordered (bob_conv);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(NatterMessage) a = g_list_model_get_item (natter_conversation_get_messages (alice_conv), i);
      g_autoptr(NatterMessage) b = g_list_model_get_item (natter_conversation_get_messages (bob_conv), i);

      /* Sent in order, stored in order, shown in order on both sides. */
      g_snprintf (body, sizeof body, "burst %u", i);
      g_assert_cmpstr (natter_message_get_body (a), ==, body);
      g_assert_cmpstr (natter_message_get_body (b), ==, body);
      g_assert_cmpint (natter_message_get_id (a), ==, natter_message_get_id (b));
    }
  g_assert_cmpuint (natter_conversation_get_unread (bob_conv), ==, n);

  /* Everything acknowledged: the outbox on disk is empty. */
  {
    g_autofree char *contents = NULL;
    gsize len = 0;

    g_assert_true (g_file_get_contents (outbox, &contents, &len, NULL));
    g_assert_cmpuint (len, ==, 0);
  }
}

static void
test_read_markers (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *to_bob = at (f->bob.name);
  g_autofree char *to_alice = at (f->alice.name);
  NatterConversation *alice_conv, *bob_conv;
  NatterMessage *last = NULL;

  for (guint i = 0; i < 3; i++)
    last = natter_client_send_message (f->alice.client, to_bob, "read me");
  WAIT_FOR (f->bob.received == 3);
  WAIT_FOR (natter_message_get_state (last) == NATTER_MESSAGE_STATE_SENT);

  alice_conv = natter_client_lookup_conversation (f->alice.client, to_bob, FALSE);
  bob_conv = natter_client_lookup_conversation (f->bob.client, to_alice, FALSE);
  g_assert_cmpuint (natter_conversation_get_unread (bob_conv), ==, 3);
  g_assert_cmpint (natter_conversation_get_peer_read_up_to (alice_conv), ==, 0);

  natter_client_mark_read (f->bob.client, bob_conv);
  g_assert_cmpuint (natter_conversation_get_unread (bob_conv), ==, 0);
  g_assert_cmpuint (natter_client_get_unread_total (f->bob.client), ==, 0);
  g_assert_cmpint (natter_conversation_get_read_up_to (bob_conv), ==, natter_message_get_id (last));

  WAIT_FOR (natter_conversation_get_peer_read_up_to (alice_conv) == natter_message_get_id (last));
}

static void
test_typing (Fixture       *f,
             gconstpointer  data)
{
  g_autofree char *to_bob = at (f->bob.name);
  g_autofree char *to_alice = at (f->alice.name);
  NatterConversation *bob_conv;

  g_assert_nonnull (natter_client_lookup_conversation (f->alice.client, to_bob, TRUE));
  /* Typing shows only in a conversation bob already has (open in his UI);
   * it does not make one appear. */
  g_assert_nonnull (natter_client_lookup_conversation (f->bob.client, to_alice, TRUE));
  natter_client_send_typing (f->alice.client, to_bob, TRUE);

  WAIT_FOR ((bob_conv = natter_client_lookup_conversation (f->bob.client, to_alice, FALSE)) != NULL &&
            natter_conversation_get_typing (bob_conv) != NULL);
  g_assert_nonnull (strstr (natter_conversation_get_typing (bob_conv), f->alice.name));

  /* A message from the typist ends "typing". */
  natter_client_send_message (f->alice.client, to_bob, "done typing");
  WAIT_FOR (f->bob.received == 1);
  g_assert_null (natter_conversation_get_typing (bob_conv));

  /* So does "paused". */
  natter_client_send_typing (f->alice.client, to_bob, TRUE);
  natter_client_send_typing (f->alice.client, to_bob, FALSE);
  natter_client_send_typing (f->alice.client, to_bob, TRUE);
  WAIT_FOR (natter_conversation_get_typing (bob_conv) != NULL);
  natter_client_send_typing (f->alice.client, to_bob, FALSE);
  WAIT_FOR (natter_conversation_get_typing (bob_conv) == NULL);
}

static void
test_typing_expires (Fixture       *f,
                     gconstpointer  data)
{
  g_autofree char *to_bob = at (f->bob.name);
  g_autofree char *to_alice = at (f->alice.name);
  NatterConversation *bob_conv = NULL;
  gint64 shown;
  double seconds;

  /* "active" and then silence (a crashed peer): it clears by itself
   * after about 6 s. */
  g_assert_nonnull (natter_client_lookup_conversation (f->alice.client, to_bob, TRUE));
  g_assert_nonnull (natter_client_lookup_conversation (f->bob.client, to_alice, TRUE));
  natter_client_send_typing (f->alice.client, to_bob, TRUE);
  WAIT_FOR ((bob_conv = natter_client_lookup_conversation (f->bob.client, to_alice, FALSE)) != NULL &&
            natter_conversation_get_typing (bob_conv) != NULL);
  shown = g_get_monotonic_time ();
  WAIT_FOR (natter_conversation_get_typing (bob_conv) == NULL);
  seconds = (g_get_monotonic_time () - shown) / 1e6;
  g_test_message ("typing cleared after %.1f s", seconds);
  g_assert_cmpfloat (seconds, >=, 4.5);
}

static gboolean
model_has_user (GListModel *model,
                const char *username)
{
  for (guint i = 0, n = g_list_model_get_n_items (model); i < n; i++)
    {
      g_autoptr(NatterUser) user = g_list_model_get_item (model, i);

      if (g_strcmp0 (natter_user_get_username (user), username) == 0)
        return TRUE;
    }
  return FALSE;
}

static void
test_contacts_presence (Fixture       *f,
                        gconstpointer  data)
{
  GAsyncResult *result = NULL;
  g_autoptr(GError) error = NULL;
  NatterUser *alice_on_bob;

  natter_client_contact_request_async (f->alice.client, f->bob.name, NULL, test_result_cb, &result);
  g_assert_true (natter_client_contact_request_finish (f->alice.client, test_wait_result (&result), &error));
  g_assert_no_error (error);
  g_clear_object (&result);
  g_assert_true (model_has_user (natter_client_get_outgoing_requests (f->alice.client), f->bob.name));

  WAIT_FOR (f->bob.contact_requests == 1);
  g_assert_true (model_has_user (natter_client_get_incoming_requests (f->bob.client), f->alice.name));

  natter_client_contact_accept_async (f->bob.client, f->alice.name, NULL, test_result_cb, &result);
  g_assert_true (natter_client_contact_accept_finish (f->bob.client, test_wait_result (&result), &error));
  g_assert_no_error (error);
  g_clear_object (&result);

  WAIT_FOR (model_has_user (natter_client_get_contacts (f->alice.client), f->bob.name));
  WAIT_FOR (model_has_user (natter_client_get_contacts (f->bob.client), f->alice.name));
  g_assert_cmpuint (g_list_model_get_n_items (natter_client_get_outgoing_requests (f->alice.client)), ==, 0);
  g_assert_cmpuint (g_list_model_get_n_items (natter_client_get_incoming_requests (f->bob.client)), ==, 0);

  /* Contacts see each other's presence, live. */
  alice_on_bob = natter_client_lookup_user (f->bob.client, f->alice.name);
  WAIT_FOR (natter_user_get_presence (alice_on_bob) == NATTER_PRESENCE_ONLINE);
  f->bob.presence_changes = 0;

  natter_client_set_presence (f->alice.client, NATTER_PRESENCE_AWAY, "lunch");
  g_assert_cmpint (natter_user_get_presence (natter_client_get_me (f->alice.client)), ==, NATTER_PRESENCE_AWAY);
  WAIT_FOR (natter_user_get_presence (alice_on_bob) == NATTER_PRESENCE_AWAY);
  g_assert_cmpstr (natter_user_get_status_text (alice_on_bob), ==, "lunch");
  g_assert_cmpuint (f->bob.presence_changes, ==, 1);
  g_assert_true (f->bob.last_presence_user == alice_on_bob);
  g_assert_cmpint (f->bob.last_old_presence, ==, NATTER_PRESENCE_ONLINE);

  /* Going away entirely: offline, with a last-seen time, and whatever
   * alice was typing is over at once (no "paused" will come). */
  {
    g_autofree char *to_bob = at (f->bob.name);
    g_autofree char *to_alice = at (f->alice.name);
    NatterConversation *bob_conv = natter_client_lookup_conversation (f->bob.client, to_alice, TRUE);

    g_assert_nonnull (natter_client_lookup_conversation (f->alice.client, to_bob, TRUE));
    natter_client_send_typing (f->alice.client, to_bob, TRUE);
    WAIT_FOR (natter_conversation_get_typing (bob_conv) != NULL);
    test_client_free (g_steal_pointer (&f->alice.client));
    WAIT_FOR (natter_user_get_presence (alice_on_bob) == NATTER_PRESENCE_OFFLINE);
    g_assert_null (natter_conversation_get_typing (bob_conv));
  }
  g_assert_cmpint (natter_user_get_last_seen (alice_on_bob), >, 0);

  /* Removal reaches both sides. */
  natter_client_contact_remove_async (f->bob.client, f->alice.name, NULL, test_result_cb, &result);
  g_assert_true (natter_client_contact_remove_finish (f->bob.client, test_wait_result (&result), &error));
  g_clear_object (&result);
  WAIT_FOR (!model_has_user (natter_client_get_contacts (f->bob.client), f->alice.name));

  /* User search finds alice, interned. */
  natter_client_user_search_async (f->bob.client, f->alice.name, NULL, test_result_cb, &result);
  {
    g_autoptr(GListModel) users = natter_client_user_search_finish (f->bob.client, test_wait_result (&result), &error);

    g_assert_no_error (error);
    g_assert_true (model_has_user (users, f->alice.name));
  }
  g_clear_object (&result);
}

static gboolean
model_has_room (GListModel *model,
                const char *name)
{
  for (guint i = 0, n = g_list_model_get_n_items (model); i < n; i++)
    {
      g_autoptr(NatterRoom) room = g_list_model_get_item (model, i);

      if (g_strcmp0 (natter_room_get_name (room), name) == 0)
        return TRUE;
    }
  return FALSE;
}

static void
test_rooms (Fixture       *f,
            gconstpointer  data)
{
  g_autofree char *room_name = g_strdup_printf ("#room-%06x", g_random_int_range (0, 0xffffff));
  GAsyncResult *result = NULL;
  g_autoptr(GError) error = NULL;
  NatterConversation *alice_conv, *bob_conv;
  NatterMessage *refused;
  g_autofree char *refused_id = NULL;
  NatterRoom *room;

  natter_client_room_create_async (f->alice.client, room_name, "Everything", NULL, test_result_cb, &result);
  g_assert_true (natter_client_room_create_finish (f->alice.client, test_wait_result (&result), &error));
  g_assert_no_error (error);
  g_clear_object (&result);

  g_assert_true (model_has_room (natter_client_get_rooms (f->alice.client), room_name));
  alice_conv = natter_client_lookup_conversation (f->alice.client, room_name, FALSE);
  g_assert_nonnull (alice_conv);
  g_assert_true (natter_conversation_is_room (alice_conv));
  room = natter_conversation_get_room (alice_conv);
  g_assert_nonnull (room);
  g_assert_cmpstr (natter_room_get_topic (room), ==, "Everything");
  g_assert_cmpstr (natter_room_get_owner (room), ==, f->alice.name);
  g_assert_cmpuint (natter_room_get_member_count (room), ==, 1);

  /* Creating it again: conflict. */
  natter_client_room_create_async (f->bob.client, room_name, NULL, NULL, test_result_cb, &result);
  g_assert_false (natter_client_room_create_finish (f->bob.client, test_wait_result (&result), &error));
  g_assert_error (error, NATTER_ERROR, NATTER_ERROR_CONFLICT);
  g_clear_error (&error);
  g_clear_object (&result);

  /* Sending to a room we are not in: refused for good. */
  refused = natter_client_send_message (f->bob.client, room_name, "let me in");
  refused_id = g_strdup (natter_message_get_client_msg_id (refused));
  WAIT_FOR (natter_message_get_state (refused) == NATTER_MESSAGE_STATE_FAILED);
  /* Only a failed message can be retried or discarded. */
  g_assert_false (natter_client_retry_message (f->alice.client, refused));

  natter_client_room_directory_async (f->bob.client, room_name + 1, NULL, test_result_cb, &result);
  {
    g_autoptr(GListModel) rooms = natter_client_room_directory_finish (f->bob.client, test_wait_result (&result), &error);

    g_assert_no_error (error);
    g_assert_true (model_has_room (rooms, room_name));
  }
  g_clear_object (&result);

  natter_client_room_join_async (f->bob.client, room_name, NULL, test_result_cb, &result);
  g_assert_true (natter_client_room_join_finish (f->bob.client, test_wait_result (&result), &error));
  g_assert_no_error (error);
  g_clear_object (&result);
  g_assert_true (model_has_room (natter_client_get_rooms (f->bob.client), room_name));
  WAIT_FOR (natter_room_get_member_count (room) == 2);

  /* A member now: the retry is the same message (same client_msg_id),
   * delivered once. */
  g_assert_true (natter_client_retry_message (f->bob.client, refused));
  g_assert_cmpint (natter_message_get_state (refused), ==, NATTER_MESSAGE_STATE_SENDING);
  WAIT_FOR (natter_message_get_state (refused) == NATTER_MESSAGE_STATE_SENT);
  g_assert_cmpstr (natter_message_get_client_msg_id (refused), ==, refused_id);
  g_assert_false (natter_client_retry_message (f->bob.client, refused));
  g_assert_false (natter_client_discard_message (f->bob.client, refused));
  WAIT_FOR (test_count_body (alice_conv, "let me in") == 1);
  g_assert_cmpuint (test_count_body (natter_client_lookup_conversation (f->bob.client, room_name, FALSE),
                                     "let me in"), ==, 1);

  /* A refused one discarded: gone from the conversation, and the
   * conversation (nothing stored, not open) with it. */
  {
    g_autoptr(NatterConversation) bob_dm = NULL;
    NatterMessage *bad = natter_client_send_message (f->bob.client, "@no-such-user", "anyone?");

    WAIT_FOR (natter_message_get_state (bad) == NATTER_MESSAGE_STATE_FAILED);
    bob_dm = g_object_ref (natter_client_lookup_conversation (f->bob.client, "@no-such-user", FALSE));
    g_assert_cmpuint (test_count_body (bob_dm, "anyone?"), ==, 1);
    g_assert_true (natter_client_discard_message (f->bob.client, bad));
    g_assert_cmpuint (test_count_body (bob_dm, "anyone?"), ==, 0);
    g_assert_null (natter_conversation_get_last_message (bob_dm));
    g_assert_null (natter_client_lookup_conversation (f->bob.client, "@no-such-user", FALSE));
  }

  natter_client_room_members_async (f->alice.client, room_name, NULL, test_result_cb, &result);
  {
    g_autoptr(GListModel) members = natter_client_room_members_finish (f->alice.client, test_wait_result (&result), &error);

    g_assert_no_error (error);
    g_assert_cmpuint (g_list_model_get_n_items (members), ==, 2);
    g_assert_true (model_has_user (members, f->bob.name));
  }
  g_clear_object (&result);

  natter_client_send_message (f->alice.client, room_name, "welcome to the room");
  WAIT_FOR (f->bob.received == 1);
  bob_conv = natter_client_lookup_conversation (f->bob.client, room_name, FALSE);
  g_assert_nonnull (bob_conv);
  g_assert_cmpuint (test_count_body (bob_conv, "welcome to the room"), ==, 1);
  g_assert_cmpuint (test_count_body (alice_conv, "welcome to the room"), ==, 1);

  natter_client_room_set_topic_async (f->alice.client, room_name, "Nothing", NULL, test_result_cb, &result);
  g_assert_true (natter_client_room_set_topic_finish (f->alice.client, test_wait_result (&result), &error));
  g_clear_object (&result);
  WAIT_FOR (g_strcmp0 (natter_room_get_topic (natter_conversation_get_room (bob_conv)), "Nothing") == 0);

  /* Only the owner may change it. */
  natter_client_room_set_topic_async (f->bob.client, room_name, "Mine", NULL, test_result_cb, &result);
  g_assert_false (natter_client_room_set_topic_finish (f->bob.client, test_wait_result (&result), &error));
  g_assert_error (error, NATTER_ERROR, NATTER_ERROR_FORBIDDEN);
  g_clear_error (&error);
  g_clear_object (&result);

  natter_client_room_leave_async (f->bob.client, room_name, NULL, test_result_cb, &result);
  g_assert_true (natter_client_room_leave_finish (f->bob.client, test_wait_result (&result), &error));
  g_clear_object (&result);
  g_assert_false (model_has_room (natter_client_get_rooms (f->bob.client), room_name));
  WAIT_FOR (natter_room_get_member_count (room) == 1);
}

static void
test_history (Fixture       *f,
              gconstpointer  data)
{
  g_autofree char *to_bob = at (f->bob.name);
  g_autofree char *to_alice = at (f->alice.name);
  g_autofree char *dir = test_make_state_dir ();
  NatterClient *fresh;
  NatterConversation *conv;
  NatterMessage *last = NULL;
  const guint n = 120;
  guint rounds = 0;
  char body[32];

  for (guint i = 0; i < n; i++)
    {
      g_snprintf (body, sizeof body, "history %u", i);
      last = natter_client_send_message (f->alice.client, to_bob, body);
    }
  WAIT_FOR (natter_message_get_state (last) == NATTER_MESSAGE_STATE_SENT);

  /* A new device: only the newest message at first, the rest on demand. */
  fresh = test_client_new (server, dir);
  test_client_sign_in (fresh, server, f->bob.name);
  conv = natter_client_lookup_conversation (fresh, to_alice, FALSE);
  g_assert_nonnull (conv);
  g_assert_cmpuint (natter_conversation_get_unread (conv), ==, n);
  g_assert_cmpuint (test_count_messages (conv), >=, 1);
  g_assert_cmpstr (natter_message_get_body (natter_conversation_get_last_message (conv)), ==, "history 119");

  while (natter_conversation_get_has_more_history (conv))
    {
      GAsyncResult *result = NULL;
      g_autoptr(GError) error = NULL;
      gint added;

      natter_conversation_load_older_async (conv, NULL, test_result_cb, &result);
      added = natter_conversation_load_older_finish (conv, test_wait_result (&result), &error);
      g_assert_no_error (error);
      g_assert_cmpint (added, >=, 0);
      g_assert_cmpint (added, <=, 50);
      g_clear_object (&result);
      test_assert_ordered (conv);
      g_assert_cmpuint (++rounds, <, 10);
    }

  g_assert_cmpuint (test_count_messages (conv), ==, n);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(NatterMessage) msg = g_list_model_get_item (natter_conversation_get_messages (conv), i);

      g_snprintf (body, sizeof body, "history %u", i);
      g_assert_cmpstr (natter_message_get_body (msg), ==, body);
    }

  /* Search finds them too. */
  {
    GAsyncResult *result = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(GListModel) found = NULL;

    natter_client_search_async (fresh, "history", to_alice, NULL, test_result_cb, &result);
    found = natter_client_search_finish (fresh, test_wait_result (&result), &error);
    g_assert_no_error (error);
    g_assert_cmpuint (g_list_model_get_n_items (found), >, 0);
    g_clear_object (&result);
  }

  test_client_free (fresh);
  test_remove_dir (dir);
}

static void
never_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_assert_not_reached ();
}

/* The history entry point (natter_conversation_load_older_async() calls
 * it) refuses a missing client or conversation as the other entry points
 * do: a critical that names the check, and no task, so no callback. */
static void
test_history_bad_arguments (Fixture       *f,
                            gconstpointer  data)
{
  g_autofree char *to_bob = at (f->bob.name);
  NatterConversation *conv = natter_client_lookup_conversation (f->alice.client, to_bob, TRUE);

  g_assert_nonnull (conv);
  g_test_expect_message ("natter-client", G_LOG_LEVEL_CRITICAL,
                         "*assertion 'NATTER_IS_CLIENT (self)' failed*");
  natter_client_load_history_async (NULL, conv, NULL, never_cb, NULL);
  g_test_assert_expected_messages ();

  g_test_expect_message ("natter-client", G_LOG_LEVEL_CRITICAL,
                         "*assertion 'NATTER_IS_CONVERSATION (conversation)' failed*");
  natter_client_load_history_async (f->alice.client, NULL, NULL, never_cb, NULL);
  g_test_assert_expected_messages ();

  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static void
count_cb (guint *counter)
{
  (*counter)++;
}

static void
test_own_devices (Fixture       *f,
                  gconstpointer  data)
{
  g_autofree char *to_bob = at (f->bob.name);
  g_autofree char *dir = test_make_state_dir ();
  NatterClient *second;
  NatterConversation *conv;
  NatterMessage *msg;
  guint received = 0;

  second = test_client_new (server, dir);
  test_client_sign_in (second, server, f->alice.name);
  g_signal_connect_swapped (second, "message-received", G_CALLBACK (count_cb), &received);

  msg = natter_client_send_message (f->alice.client, to_bob, "from my phone");
  WAIT_FOR (natter_message_get_state (msg) == NATTER_MESSAGE_STATE_SENT);

  /* The other device shows it as ours, once, and does not notify. */
  WAIT_FOR ((conv = natter_client_lookup_conversation (second, to_bob, FALSE)) != NULL &&
            test_count_messages (conv) == 1);
  {
    g_autoptr(NatterMessage) copy = g_list_model_get_item (natter_conversation_get_messages (conv), 0);

    g_assert_true (natter_message_get_outgoing (copy));
    g_assert_cmpint (natter_message_get_id (copy), ==, natter_message_get_id (msg));
    g_assert_cmpint (natter_message_get_state (copy), ==, NATTER_MESSAGE_STATE_SENT);
  }
  g_assert_cmpuint (received, ==, 0);
  g_assert_cmpuint (natter_conversation_get_unread (conv), ==, 0);

  /* A message from bob does notify the second device (the counter works). */
  {
    g_autofree char *to_alice = at (f->alice.name);

    natter_client_send_message (f->bob.client, to_alice, "to both devices");
    WAIT_FOR (received == 1);
    g_assert_cmpuint (test_count_messages (conv), ==, 2);
    test_assert_ordered (conv);
  }

  /* Reading on one device clears the unread count on the other. */
  {
    NatterConversation *first_conv = natter_client_lookup_conversation (f->alice.client, to_bob, FALSE);

    /* The first device gets bob's message in its own time. */
    WAIT_FOR (natter_conversation_get_unread (first_conv) == 1);
    g_assert_cmpuint (natter_conversation_get_unread (conv), ==, 1);
    natter_client_mark_read (second, conv);
    WAIT_FOR (natter_conversation_get_unread (first_conv) == 0);
    g_assert_cmpint (natter_conversation_get_read_up_to (first_conv), ==,
                     natter_conversation_get_read_up_to (conv));
  }

  test_client_free (second);
  test_remove_dir (dir);
}

/* A request we sent can be withdrawn (contact_remove): it leaves our
 * outgoing list, on our other device too, and the asked user's incoming
 * list, at once. */
static void
test_cancel_request (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = test_make_state_dir ();
  NatterClient *second;
  GAsyncResult *result = NULL;

  natter_client_contact_request_async (f->alice.client, f->bob.name, NULL, test_result_cb, &result);
  g_assert_true (natter_client_contact_request_finish (f->alice.client, test_wait_result (&result), &error));
  g_assert_no_error (error);
  g_clear_object (&result);
  WAIT_FOR (model_has_user (natter_client_get_outgoing_requests (f->alice.client), f->bob.name));
  WAIT_FOR (model_has_user (natter_client_get_incoming_requests (f->bob.client), f->alice.name));

  /* Alice's other device, signed in after the request, lists it too. */
  second = test_client_new (server, dir);
  test_client_sign_in (second, server, f->alice.name);
  WAIT_FOR (model_has_user (natter_client_get_outgoing_requests (second), f->bob.name));

  natter_client_contact_remove_async (f->alice.client, f->bob.name, NULL, test_result_cb, &result);
  g_assert_true (natter_client_contact_remove_finish (f->alice.client, test_wait_result (&result), &error));
  g_assert_no_error (error);
  g_clear_object (&result);

  WAIT_FOR (!model_has_user (natter_client_get_outgoing_requests (f->alice.client), f->bob.name));
  WAIT_FOR (!model_has_user (natter_client_get_outgoing_requests (second), f->bob.name));
  WAIT_FOR (!model_has_user (natter_client_get_incoming_requests (f->bob.client), f->alice.name));
  g_assert_false (model_has_user (natter_client_get_contacts (f->alice.client), f->bob.name));
  g_assert_false (model_has_user (natter_client_get_contacts (f->bob.client), f->alice.name));

  test_client_free (second);
  test_remove_dir (dir);
}

static NatterConversation *
conversation_at (NatterClient *client,
                 guint         position)
{
  g_autoptr(NatterConversation) conv =
    g_list_model_get_item (natter_client_get_conversations (client), position);

  return conv;  /* borrowed: the client's list holds it */
}

static void
test_conversation_order (Fixture       *f,
                         gconstpointer  data)
{
  g_autofree char *carol = test_username ("carol");
  g_autofree char *to_carol = at (carol);
  g_autofree char *to_bob = at (f->bob.name);
  g_autofree char *to_alice = at (f->alice.name);
  NatterTestClient *raw;
  NatterMessage *msg;

  natter_client_send_message (f->bob.client, to_alice, "bob first");
  WAIT_FOR (f->alice.received == 1);

  /* Alice writes to carol (who exists: a raw client registered her)
   * later: that conversation goes on top. */
  raw = natter_test_client_new_user (server, carol);
  msg = natter_client_send_message (f->alice.client, to_carol, "alice to carol");
  WAIT_FOR (natter_message_get_state (msg) == NATTER_MESSAGE_STATE_SENT);
  g_assert_cmpuint (g_list_model_get_n_items (natter_client_get_conversations (f->alice.client)), ==, 2);
  g_assert_cmpstr (natter_conversation_get_address (conversation_at (f->alice.client, 0)), ==, to_carol);

  /* Bob writes again: his moves back up. */
  natter_client_send_message (f->bob.client, to_alice, "bob again");
  WAIT_FOR (f->alice.received == 2);
  g_assert_cmpstr (natter_conversation_get_address (conversation_at (f->alice.client, 0)), ==, to_bob);
  g_assert_cmpstr (natter_conversation_get_address (conversation_at (f->alice.client, 1)), ==, to_carol);

  natter_test_client_free (raw);
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  test_init ();
  g_test_init (&argc, &argv, NULL);

  server = natter_test_server_start (TEST_SERVER_CONFIG, NULL);

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/client/chat/direct", test_direct);
  ADD ("/client/chat/burst", test_burst);
  ADD ("/client/chat/read-markers", test_read_markers);
  ADD ("/client/chat/typing", test_typing);
  ADD ("/client/chat/typing-expires", test_typing_expires);
  ADD ("/client/chat/conversation-order", test_conversation_order);
  ADD ("/client/chat/contacts-presence", test_contacts_presence);
  ADD ("/client/chat/cancel-request", test_cancel_request);
  ADD ("/client/chat/rooms", test_rooms);
  ADD ("/client/chat/history", test_history);
  ADD ("/client/chat/history-bad-arguments", test_history_bad_arguments);
  ADD ("/client/chat/own-devices", test_own_devices);
#undef ADD

  ret = g_test_run ();
  natter_test_server_free (server);
  return ret;
}
