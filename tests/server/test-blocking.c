/* test-blocking.c: blocking (feature accounts, docs/protocol.md
 * "Blocking"): what a blocked user sends is answered as ever and never
 * reaches the blocker (live, history, sync, search, unread counts, the
 * conversation list), a contact request and typing are dropped, the
 * blocker's presence looks offline to them; unblocking lets new messages
 * through and keeps the old ones hidden; the list, its errors, and a
 * restart.
 */
#define G_LOG_DOMAIN "natter-test"

#include <string.h>

#include "server-test-util.h"

#define NOT_ON_A_CLUSTER "a server of several nodes does not offer accounts yet"

static NatterTestClient *
acc_user (NatterTestServer *srv,
          const char       *username)
{
  return util_feature_user (srv, username, "accounts");
}

static void
fails (NatterTestClient *c,
       const char       *code,
       const char       *json)
{
  g_autoptr(JsonObject) r = natter_test_client_request (c, json);

  natter_assert_error (r, code);
}

static void
block (NatterTestClient *c,
       const char       *username)
{
  g_autoptr(JsonObject) r = natter_test_client_requestf (c, "{\"type\":\"block\",\"username\":\"%s\"}", username);
  g_autofree char *lower = g_ascii_strdown (username, -1);

  natter_assert_ok (r);
  natter_assert_str (r, "username", lower);
  g_assert_cmpint (natter_test_get_int (r, "since"), >, 0);
}

static void
unblock (NatterTestClient *c,
         const char       *username)
{
  g_autoptr(JsonObject) r = natter_test_client_requestf (c, "{\"type\":\"unblock\",\"username\":\"%s\"}", username);

  natter_assert_ok (r);
  g_assert_true (natter_test_is_null (r, "since"));
}

/* The bodies of the messages of @messages, in order, joined with ",". */
static char *
bodies (JsonArray *messages)
{
  GString *s = g_string_new ("");

  for (guint i = 0; i < json_array_get_length (messages); i++)
    {
      JsonObject *m = json_array_get_object_element (messages, i);

      if (i > 0)
        g_string_append_c (s, ',');
      g_string_append (s, json_object_get_string_member (m, "body"));
    }
  return g_string_free (s, FALSE);
}

static char *
history_of (NatterTestClient *c,
            const char       *conversation)
{
  g_autoptr(JsonObject) r = natter_test_client_requestf (c, "{\"type\":\"history\",\"conversation\":\"%s\"}",
                                                          conversation);

  natter_assert_ok (r);
  return bodies (natter_test_get_array (r, "messages"));
}

static char *
sync_of (NatterTestClient *c)
{
  g_autoptr(JsonObject) r = natter_test_client_request_ok (c, "{\"type\":\"sync\",\"since\":0}");

  return bodies (natter_test_get_array (r, "messages"));
}

static char *
search_of (NatterTestClient *c,
           const char       *query)
{
  g_autoptr(JsonObject) r = natter_test_client_requestf (c, "{\"type\":\"search\",\"query\":\"%s\"}", query);

  natter_assert_ok (r);
  return bodies (natter_test_get_array (r, "messages"));
}

/* @c's entry of @conversation in `conversations`: its unread count and
 * the body of its last message ("" for null) in *@out_last. */
static gint64
unread_of (NatterTestClient *c,
           const char       *conversation,
           char            **out_last)
{
  g_autoptr(JsonObject) r = natter_test_client_request_ok (c, "{\"type\":\"conversations\"}");
  JsonArray *convs = natter_test_get_array (r, "conversations");

  for (guint i = 0; i < json_array_get_length (convs); i++)
    {
      JsonObject *e = json_array_get_object_element (convs, i);

      if (g_strcmp0 (json_object_get_string_member (e, "conversation"), conversation) != 0)
        continue;
      if (out_last != NULL)
        *out_last = g_strdup (natter_test_is_null (e, "last_message")
                              ? "" : natter_test_get_str (e, "last_message.body"));
      return json_object_get_int_member (e, "unread");
    }
  g_assert_not_reached ();
}

static void
assert_str_free (char       *got,
                 const char *expected)
{
  g_assert_cmpstr (got, ==, expected);
  g_free (got);
}

/* A direct message from someone blocked: ok to them, nothing to the
 * blocker anywhere; unblocking lets new ones through, never the old. */
static void
test_direct_messages (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) alice = acc_user (srv, "alice");
  g_autoptr(NatterTestClient) bob = natter_test_client_new_user (srv, "bob");
  g_autoptr(NatterTestClient) bob2 = natter_test_client_new_login (srv, "bob");
  char *last = NULL;

  util_send (bob, "@alice", "before block", "b0");
  {
    g_autoptr(JsonObject) before = natter_test_client_wait_type (alice, "message");
    natter_assert_str (before, "message.body", "before block");
  }
  natter_test_client_sync_ping (bob2);
  natter_test_client_clear_queue (bob2);

  block (alice, "bob");
  /* Acknowledged to bob as ever, with the stored message. */
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (bob,
        "{\"type\":\"send\",\"to\":\"@alice\",\"body\":\"secret pineapple\",\"client_msg_id\":\"b1\"}");
    natter_assert_str (r, "message.body", "secret pineapple");
    natter_assert_str (r, "message.conversation", "@alice");
    g_assert_cmpint (natter_test_get_int (r, "message.id"), >, 0);
  }
  /* bob's other device gets it, alice nothing. */
  {
    g_autoptr(JsonObject) m = natter_test_client_wait_type (bob2, "message");
    natter_assert_str (m, "message.body", "secret pineapple");
  }
  natter_test_client_expect_no_frame (alice);

  assert_str_free (history_of (alice, "@bob"), "before block");
  assert_str_free (sync_of (alice), "before block");
  assert_str_free (search_of (alice, "pineapple"), "");
  g_assert_cmpint (unread_of (alice, "@bob", &last), ==, 1);
  assert_str_free (last, "before block");

  /* bob sees his own message everywhere. */
  assert_str_free (history_of (bob, "@alice"), "before block,secret pineapple");
  assert_str_free (sync_of (bob), "before block,secret pineapple");
  assert_str_free (search_of (bob, "pineapple"), "secret pineapple");
  g_assert_cmpint (unread_of (bob, "@alice", &last), ==, 0);
  assert_str_free (last, "secret pineapple");

  /* alice's own messages to bob still go. */
  util_send (alice, "@bob", "from alice", "a1");
  {
    g_autoptr(JsonObject) m = natter_test_client_wait_type (bob, "message");
    natter_assert_str (m, "message.body", "from alice");
  }

  unblock (alice, "bob");
  util_send (bob, "@alice", "after unblock", "b2");
  {
    g_autoptr(JsonObject) m = natter_test_client_wait_type (alice, "message");
    natter_assert_str (m, "message.body", "after unblock");
  }
  /* The hidden one stays hidden. */
  assert_str_free (history_of (alice, "@bob"), "before block,from alice,after unblock");
  assert_str_free (sync_of (alice), "before block,from alice,after unblock");
  assert_str_free (search_of (alice, "pineapple"), "");
  g_assert_cmpint (unread_of (alice, "@bob", &last), ==, 2);
  assert_str_free (last, "after unblock");
}

/* A first message from someone blocked makes the conversation, which
 * the blocker reads as empty. */
static void
test_first_message (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) alice = acc_user (srv, "alice");
  g_autoptr(NatterTestClient) bob = natter_test_client_new_user (srv, "bob");
  char *last = NULL;

  block (alice, "bob");
  util_send (bob, "@alice", "hello?", "b1");
  natter_test_client_expect_no_frame (alice);
  assert_str_free (history_of (alice, "@bob"), "");
  g_assert_cmpint (unread_of (alice, "@bob", &last), ==, 0);
  assert_str_free (last, "");
}

/* Contact requests and typing from someone blocked are answered and
 * dropped; the blocker's presence looks offline to them. */
static void
test_requests_typing_presence (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) plain = natter_test_client_new_user (srv, "alice");
  g_autoptr(NatterTestClient) bob = natter_test_client_new_user (srv, "bob");
  g_autoptr(NatterTestClient) carol = natter_test_client_new_user (srv, "carol");
  g_autoptr(NatterTestClient) alice = NULL;

  util_make_contacts (plain, carol);
  util_make_contacts (plain, bob);
  alice = util_feature_login (srv, "alice", "accounts");
  natter_test_client_sync_ping (bob);
  natter_test_client_clear_queue (bob);
  natter_test_client_sync_ping (carol);
  natter_test_client_clear_queue (carol);
  block (alice, "bob");
  /* bob, a contact, sees alice go offline; carol is told nothing. */
  {
    g_autoptr(JsonObject) p = util_wait_presence (bob, "alice");
    natter_assert_str (p, "user.presence", "offline");
    g_assert_true (natter_test_is_null (p, "user.last_seen"));
  }
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (bob, "{\"type\":\"user_info\",\"username\":\"alice\"}");
    natter_assert_str (r, "user.presence", "offline");
  }
  natter_test_client_request_ok (alice, "{\"type\":\"set_presence\",\"presence\":\"away\"}");
  natter_test_client_request_ok (plain, "{\"type\":\"set_presence\",\"presence\":\"away\"}");
  {
    g_autoptr(JsonObject) p = util_wait_presence (carol, "alice");
    natter_assert_str (p, "user.presence", "away");
  }
  natter_test_client_expect_no_frame_of_type (bob, "presence");

  /* Typing: ok, and nothing to alice. */
  natter_test_client_request_ok (bob, "{\"type\":\"typing\",\"to\":\"@alice\",\"state\":\"active\"}");
  natter_test_client_expect_no_frame_of_type (alice, "typing");

  /* A contact request from someone blocked (no longer a contact). */
  natter_test_client_request_ok (bob, "{\"type\":\"contact_remove\",\"username\":\"alice\"}");
  natter_test_client_sync_ping (alice);
  natter_test_client_clear_queue (alice);
  natter_test_client_request_ok (bob, "{\"type\":\"contact_request\",\"username\":\"alice\"}");
  natter_test_client_expect_no_frame (alice);
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice, "{\"type\":\"contacts\"}");
    util_assert_strings (natter_test_get_array (r, "incoming"), NULL);
  }

  /* Unblocked: bob (no longer a contact, no room shared) still may not
   * see her; his typing reaches her again. */
  unblock (alice, "bob");
  natter_test_client_expect_no_frame_of_type (bob, "presence");
  natter_test_client_request_ok (bob, "{\"type\":\"typing\",\"to\":\"@alice\",\"state\":\"paused\"}");
  {
    g_autoptr(JsonObject) t = natter_test_client_wait_type (alice, "typing");
    natter_assert_str (t, "user", "bob");
  }
}

/* A contact blocked sees the blocker go offline, and back at the
 * unblock, as presence events. */
static void
test_presence_back (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) plain = natter_test_client_new_user (srv, "alice");
  g_autoptr(NatterTestClient) bob = natter_test_client_new_user (srv, "bob");
  g_autoptr(NatterTestClient) alice = NULL;

  util_make_contacts (plain, bob);
  alice = util_feature_login (srv, "alice", "accounts");
  natter_test_client_sync_ping (bob);
  natter_test_client_clear_queue (bob);
  block (alice, "bob");
  {
    g_autoptr(JsonObject) p = util_wait_presence (bob, "alice");
    natter_assert_str (p, "user.presence", "offline");
  }
  unblock (alice, "bob");
  {
    g_autoptr(JsonObject) p = util_wait_presence (bob, "alice");
    natter_assert_str (p, "user.presence", "online");
  }
}

/* Room messages are not affected. */
static void
test_rooms_unaffected (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) alice = acc_user (srv, "alice");
  g_autoptr(NatterTestClient) bob = natter_test_client_new_user (srv, "bob");

  util_room_create (alice, "#room");
  util_room_join (bob, "#room");
  natter_test_client_sync_ping (alice);
  natter_test_client_clear_queue (alice);
  block (alice, "bob");
  util_send (bob, "#room", "in the room", "r1");
  {
    g_autoptr(JsonObject) m = natter_test_client_wait_type (alice, "message");
    natter_assert_str (m, "message.body", "in the room");
  }
  assert_str_free (history_of (alice, "#room"), "in the room");
}

/* The list, idempotence, errors. */
static void
test_list_and_errors (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) alice = acc_user (srv, "alice");
  g_autoptr(NatterTestClient) bob = natter_test_client_new_user (srv, "bob");
  g_autoptr(NatterTestClient) carol = natter_test_client_new_user (srv, "carol");
  g_autoptr(NatterTestClient) plain = natter_test_client_new_login (srv, "alice");
  gint64 since;

  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice, "{\"type\":\"blocked\"}");
    g_assert_cmpuint (json_array_get_length (natter_test_get_array (r, "blocked")), ==, 0);
  }
  block (alice, "carol");
  block (alice, "Bob");
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice, "{\"type\":\"blocked\"}");
    JsonArray *list = natter_test_get_array (r, "blocked");
    JsonObject *first, *second;

    g_assert_cmpuint (json_array_get_length (list), ==, 2);
    first = json_array_get_object_element (list, 0);
    second = json_array_get_object_element (list, 1);
    g_assert_cmpstr (json_object_get_string_member (first, "username"), ==, "carol");
    g_assert_cmpstr (json_object_get_string_member (second, "username"), ==, "bob");
    since = json_object_get_int_member (first, "since");
    g_assert_cmpint (since, <=, json_object_get_int_member (second, "since"));
    g_assert_cmpint (since, >, util_now_ms () - 60000);
  }
  /* Again: the first block's time. */
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice, "{\"type\":\"block\",\"username\":\"carol\"}");
    natter_assert_int (r, "since", since);
  }
  unblock (alice, "carol");
  unblock (alice, "carol");
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice, "{\"type\":\"blocked\"}");
    JsonArray *list = natter_test_get_array (r, "blocked");

    g_assert_cmpuint (json_array_get_length (list), ==, 1);
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (list, 0), "username"),
                     ==, "bob");
  }

  fails (alice, "invalid_argument", "{\"type\":\"block\",\"username\":\"alice\"}");
  fails (alice, "invalid_argument", "{\"type\":\"unblock\",\"username\":\"alice\"}");
  fails (alice, "not_found", "{\"type\":\"block\",\"username\":\"nobody\"}");
  fails (alice, "not_found", "{\"type\":\"unblock\",\"username\":\"nobody\"}");
  fails (alice, "invalid_argument", "{\"type\":\"block\",\"username\":\"-bad-\"}");
  fails (alice, "invalid_argument", "{\"type\":\"block\"}");
  fails (alice, "invalid_argument", "{\"type\":\"block\",\"username\":7}");
  fails (alice, "invalid_argument", "{\"type\":\"unblock\"}");
  /* Without the feature. */
  fails (plain, "unknown_type", "{\"type\":\"block\",\"username\":\"bob\"}");
  fails (plain, "unknown_type", "{\"type\":\"unblock\",\"username\":\"bob\"}");
  fails (plain, "unknown_type", "{\"type\":\"blocked\"}");
  /* The blocked user is told nothing. */
  natter_test_client_expect_no_frame (bob);
  natter_test_client_expect_no_frame (carol);
}

/* A change of a hidden message (an edit, a reaction) is not told to the
 * one it is hidden from, nor in their sync; the sender's side gets it. */
static void
test_changes_hidden (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) alice = acc_user (srv, "alice");
  g_autoptr(NatterTestClient) bob = natter_test_client_new_user (srv, "bob");
  g_autoptr(NatterTestClient) alice_act = util_feature_login (srv, "alice", "message_actions");
  g_autoptr(NatterTestClient) bob_act = util_feature_login (srv, "bob", "message_actions");
  gint64 shown, hidden;

  shown = util_send (bob, "@alice", "shown", "b1");
  block (alice, "bob");
  hidden = util_send (bob, "@alice", "hidden", "b2");
  natter_test_client_sync_ping (alice_act);
  natter_test_client_clear_queue (alice_act);
  natter_test_client_sync_ping (bob_act);
  natter_test_client_clear_queue (bob_act);

  {
    g_autoptr(JsonObject) r = natter_test_client_requestf (bob_act,
        "{\"type\":\"edit\",\"message\":%" G_GINT64_FORMAT ",\"body\":\"hidden edited\"}", hidden);
    natter_assert_ok (r);
  }
  natter_test_client_expect_no_frame (alice_act);
  /* Unblocked: still not told. */
  unblock (alice, "bob");
  {
    g_autoptr(JsonObject) r = natter_test_client_requestf (bob_act,
        "{\"type\":\"react\",\"message\":%" G_GINT64_FORMAT ",\"emoji\":\"\U0001F44D\",\"on\":true}", hidden);
    natter_assert_ok (r);
  }
  natter_test_client_expect_no_frame (alice_act);
  /* A change of a message she may read is told. */
  {
    g_autoptr(JsonObject) r = natter_test_client_requestf (bob_act,
        "{\"type\":\"edit\",\"message\":%" G_GINT64_FORMAT ",\"body\":\"shown edited\"}", shown);
    natter_assert_ok (r);
  }
  {
    g_autoptr(JsonObject) c = natter_test_client_wait_type (alice_act, "message_changed");
    natter_assert_str (c, "message.body", "shown edited");
  }
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice_act, "{\"type\":\"sync\",\"since\":0}");
    JsonArray *changes = natter_test_get_array (r, "changes");

    assert_str_free (bodies (natter_test_get_array (r, "messages")), "shown edited");
    /* history with message actions reads as she may, too. */
    assert_str_free (history_of (alice_act, "@bob"), "shown edited");
    assert_str_free (history_of (bob_act, "@alice"), "shown edited,hidden edited");
    for (guint i = 0; i < json_array_get_length (changes); i++)
      g_assert_cmpint (natter_test_get_int (json_array_get_object_element (changes, i), "message.id"), ==, shown);
  }
}

/* [limits] blocks_per_user: past it, conflict; blocking one blocked
 * already, or after an unblock, is still ok. */
static void
test_limit (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start ("[limits]\nblocks_per_user=2\n", NULL);
  g_autoptr(NatterTestClient) alice = acc_user (srv, "alice");
  g_autoptr(NatterTestClient) bob = natter_test_client_new_user (srv, "bob");
  g_autoptr(NatterTestClient) carol = natter_test_client_new_user (srv, "carol");
  g_autoptr(NatterTestClient) dave = natter_test_client_new_user (srv, "dave");

  block (alice, "bob");
  block (alice, "carol");
  fails (alice, "conflict", "{\"type\":\"block\",\"username\":\"dave\"}");
  block (alice, "bob");
  unblock (alice, "carol");
  block (alice, "dave");
  fails (alice, "conflict", "{\"type\":\"block\",\"username\":\"carol\"}");
}

/* Kept across a restart: the block and the hidden messages. */
static void
test_restart (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) alice = acc_user (srv, "alice");
  g_autoptr(NatterTestClient) bob = natter_test_client_new_user (srv, "bob");

  block (alice, "bob");
  util_send (bob, "@alice", "hidden one", "b1");
  g_clear_pointer (&alice, natter_test_client_free);
  g_clear_pointer (&bob, natter_test_client_free);
  natter_test_server_restart (srv);

  alice = util_feature_login (srv, "alice", "accounts");
  bob = natter_test_client_new_login (srv, "bob");
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice, "{\"type\":\"blocked\"}");
    JsonArray *list = natter_test_get_array (r, "blocked");

    g_assert_cmpuint (json_array_get_length (list), ==, 1);
  }
  util_send (bob, "@alice", "hidden two", "b2");
  natter_test_client_expect_no_frame (alice);
  assert_str_free (history_of (alice, "@bob"), "");
  assert_str_free (sync_of (alice), "");
  assert_str_free (history_of (bob, "@alice"), "hidden one,hidden two");
}

int
main (int   argc,
      char *argv[])
{
  natter_test_init (&argc, &argv);
  natter_test_add_single_node ("/blocking/direct-messages", test_direct_messages, NOT_ON_A_CLUSTER);
  natter_test_add_single_node ("/blocking/first-message", test_first_message, NOT_ON_A_CLUSTER);
  natter_test_add_single_node ("/blocking/requests-typing-presence", test_requests_typing_presence, NOT_ON_A_CLUSTER);
  natter_test_add_single_node ("/blocking/presence-back", test_presence_back, NOT_ON_A_CLUSTER);
  natter_test_add_single_node ("/blocking/rooms-unaffected", test_rooms_unaffected, NOT_ON_A_CLUSTER);
  natter_test_add_single_node ("/blocking/list-and-errors", test_list_and_errors, NOT_ON_A_CLUSTER);
  natter_test_add_single_node ("/blocking/changes-hidden", test_changes_hidden, NOT_ON_A_CLUSTER);
  natter_test_add_single_node ("/blocking/limit", test_limit, NOT_ON_A_CLUSTER);
  natter_test_add_single_node ("/blocking/restart", test_restart, "restarts its natterd");
  return g_test_run ();
}
