/* test-rooms.c: room_create, join, leave, members, rooms, the directory,
 * topics (owner only), and who may read or write a room.
 */
#define G_LOG_DOMAIN "natter-test"

#include <string.h>

#include "server-test-util.h"

static void
assert_room_object (JsonObject *room)
{
  g_assert_nonnull (natter_test_get_str (room, "room"));
  /* topic may be a string (possibly empty) or null. */
  g_assert_nonnull (natter_test_path (room, "topic"));
  g_assert_nonnull (natter_test_get_str (room, "owner"));
  g_assert_cmpint (natter_test_get_int (room, "member_count"), >=, 0);
}

static void
test_create (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) alice = natter_test_client_new_user (srv, "alice");
  g_autoptr(NatterTestClient) bob = natter_test_client_new_user (srv, "bob");
  g_autofree char *name64 = NULL;
  g_autofree char *name65 = NULL;

  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice,
        "{\"type\":\"room_create\",\"room\":\"#general\",\"topic\":\"Everything\"}");
    JsonObject *room = natter_test_get_object (r, "room");

    assert_room_object (room);
    natter_assert_str (room, "room", "#general");
    natter_assert_str (room, "topic", "Everything");
    natter_assert_str (room, "owner", "alice");
    natter_assert_int (room, "member_count", 1);
  }
  /* The creator is a member. */
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice, "{\"type\":\"rooms\"}");
    JsonArray *rooms = natter_test_get_array (r, "rooms");

    g_assert_cmpuint (json_array_get_length (rooms), ==, 1);
    natter_assert_str (json_array_get_object_element (rooms, 0), "room", "#general");
  }
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice,
        "{\"type\":\"room_members\",\"room\":\"#general\"}");

    util_assert_usernames (natter_test_get_array (r, "members"), "alice", NULL);
  }
  /* Exists: conflict, whoever asks. */
  {
    g_autoptr(JsonObject) e1 = natter_test_client_request_error (bob, "conflict",
        "{\"type\":\"room_create\",\"room\":\"#general\"}");
    g_autoptr(JsonObject) e2 = natter_test_client_request_error (alice, "conflict",
        "{\"type\":\"room_create\",\"room\":\"#general\"}");
  }
  /* Names. */
  name64 = g_strdup_printf ("#%s", "abcdefghij0123456789_-abcdefghij0123456789_-abcdefghij0123456789");
  name65 = g_strdup_printf ("%sx", name64);
  g_assert_cmpuint (strlen (name64), ==, 65);
  {
    g_autoptr(JsonObject) ok1 = natter_test_client_request_ok (bob,
        "{\"type\":\"room_create\",\"room\":\"%s\"}", name64);
    g_autoptr(JsonObject) ok2 = natter_test_client_request_ok (bob,
        "{\"type\":\"room_create\",\"room\":\"#a\"}");
    g_autoptr(JsonObject) ok3 = natter_test_client_request_ok (bob,
        "{\"type\":\"room_create\",\"room\":\"#9_-\"}");
    g_autoptr(JsonObject) e1 = natter_test_client_request_error (bob, "invalid_argument",
        "{\"type\":\"room_create\",\"room\":\"%s\"}", name65);
    g_autoptr(JsonObject) e2 = natter_test_client_request_error (bob, "invalid_argument",
        "{\"type\":\"room_create\",\"room\":\"#\"}");
    g_autoptr(JsonObject) e3 = natter_test_client_request_error (bob, "invalid_argument",
        "{\"type\":\"room_create\",\"room\":\"general\"}");
    g_autoptr(JsonObject) e4 = natter_test_client_request_error (bob, "invalid_argument",
        "{\"type\":\"room_create\",\"room\":\"#a b\"}");
    g_autoptr(JsonObject) e5 = natter_test_client_request_error (bob, "invalid_argument",
        "{\"type\":\"room_create\",\"room\":\"#a.b\"}");
    g_autoptr(JsonObject) e6 = natter_test_client_request_error (bob, "invalid_argument",
        "{\"type\":\"room_create\",\"room\":\"@bob\"}");
    g_autoptr(JsonObject) e7 = natter_test_client_request_error (bob, "invalid_argument",
        "{\"type\":\"room_create\"}");
    g_autoptr(JsonObject) e8 = natter_test_client_request_error (bob, "invalid_argument",
        "{\"type\":\"room_create\",\"room\":\"##a\"}");
  }
  /* Topics: up to 512 characters (the project's choice). */
  {
    g_autofree char *t512 = util_repeat ('t', 512);
    g_autofree char *t513 = util_repeat ('t', 513);
    g_autoptr(JsonObject) ok = natter_test_client_request_ok (bob,
        "{\"type\":\"room_create\",\"room\":\"#topics\",\"topic\":\"%s\"}", t512);
    g_autoptr(JsonObject) e = natter_test_client_request_error (bob, "invalid_argument",
        "{\"type\":\"room_create\",\"room\":\"#topics2\",\"topic\":\"%s\"}", t513);
    g_autoptr(JsonObject) e2 = natter_test_client_request_error (bob, "invalid_argument",
        "{\"type\":\"room_create\",\"room\":\"#topics3\",\"topic\":\"a\\u0007b\"}");
  }
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (bob, "{\"type\":\"rooms\"}");

    g_assert_cmpuint (json_array_get_length (natter_test_get_array (r, "rooms")), ==, 4);
  }
}

static void
test_join_leave (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) alice = natter_test_client_new_user (srv, "alice");
  g_autoptr(NatterTestClient) bob = natter_test_client_new_user (srv, "bob");
  g_autoptr(NatterTestClient) carol = natter_test_client_new_user (srv, "carol");

  util_room_create (alice, "#general");

  /* Join: members hear of it. */
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (bob,
        "{\"type\":\"room_join\",\"room\":\"#general\"}");
    g_autoptr(JsonObject) e = natter_test_client_wait_type (alice, "room_member");

    natter_assert_str (e, "room", "#general");
    natter_assert_str (e, "change", "joined");
    natter_assert_str (e, "user.username", "bob");
    util_assert_user_object (natter_test_get_object (e, "user"));
  }
  natter_test_client_expect_no_frame_of_type (carol, "room_member");
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (bob,
        "{\"type\":\"room_members\",\"room\":\"#general\"}");
    JsonArray *members = natter_test_get_array (r, "members");

    util_assert_usernames (members, "alice", "bob", NULL);
    for (guint i = 0; i < json_array_get_length (members); i++)
      util_assert_user_object (json_array_get_object_element (members, i));
  }
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (bob, "{\"type\":\"rooms\"}");
    JsonArray *rooms = natter_test_get_array (r, "rooms");

    g_assert_cmpuint (json_array_get_length (rooms), ==, 1);
    natter_assert_int (json_array_get_object_element (rooms, 0), "member_count", 2);
  }

  /* Messages reach members only. */
  {
    gint64 id = util_send (alice, "#general", "hello room", "r1");
    g_autoptr(JsonObject) e = natter_test_client_wait_type (bob, "message");

    natter_assert_int (e, "message.id", id);
    natter_assert_str (e, "message.conversation", "#general");
    natter_assert_str (e, "message.from", "alice");
  }
  natter_test_client_expect_no_frame_of_type (carol, "message");

  /* A non-member may not read, write or list. */
  {
    g_autoptr(JsonObject) e1 = natter_test_client_request_error (carol, "forbidden",
        "{\"type\":\"send\",\"to\":\"#general\",\"body\":\"x\",\"client_msg_id\":\"c\"}");
    g_autoptr(JsonObject) e2 = natter_test_client_request_error (carol, "forbidden",
        "{\"type\":\"history\",\"conversation\":\"#general\"}");
    g_autoptr(JsonObject) e3 = natter_test_client_request_error (carol, "forbidden",
        "{\"type\":\"room_members\",\"room\":\"#general\"}");
    g_autoptr(JsonObject) e4 = natter_test_client_request_error (carol, "forbidden",
        "{\"type\":\"read\",\"conversation\":\"#general\",\"up_to\":1}");
    g_autoptr(JsonObject) e5 = natter_test_client_request_error (carol, "not_found",
        "{\"type\":\"room_members\",\"room\":\"#nowhere\"}");
    g_autoptr(JsonObject) e6 = natter_test_client_request_error (carol, "not_found",
        "{\"type\":\"room_join\",\"room\":\"#nowhere\"}");
    g_autoptr(JsonObject) e7 = natter_test_client_request_error (carol, "invalid_argument",
        "{\"type\":\"room_join\"}");
  }
  /* sync and conversations do not leak the room to carol. */
  {
    g_autoptr(JsonObject) s = natter_test_client_request_ok (carol, "{\"type\":\"sync\",\"since\":0}");
    g_autoptr(JsonObject) c = natter_test_client_request_ok (carol, "{\"type\":\"conversations\"}");

    g_assert_cmpuint (json_array_get_length (natter_test_get_array (s, "messages")), ==, 0);
    g_assert_cmpuint (json_array_get_length (natter_test_get_array (c, "conversations")), ==, 0);
  }

  /* A member who joins later reads the room's history. */
  util_room_join (carol, "#general");
  {
    g_autoptr(JsonObject) h = natter_test_client_request_ok (carol,
        "{\"type\":\"history\",\"conversation\":\"#general\"}");

    g_assert_cmpuint (json_array_get_length (natter_test_get_array (h, "messages")), ==, 1);
  }
  natter_test_client_sync_ping (alice);
  natter_test_client_sync_ping (bob);
  natter_test_client_clear_queue (alice);
  natter_test_client_clear_queue (bob);

  /* Leave: the remaining members hear of it. */
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (bob,
        "{\"type\":\"room_leave\",\"room\":\"#general\"}");
    g_autoptr(JsonObject) ea = natter_test_client_wait_type (alice, "room_member");
    g_autoptr(JsonObject) ec = natter_test_client_wait_type (carol, "room_member");

    natter_assert_str (ea, "change", "left");
    natter_assert_str (ea, "user.username", "bob");
    natter_assert_str (ec, "change", "left");
  }
  {
    g_autoptr(JsonObject) e1 = natter_test_client_request_error (bob, "forbidden",
        "{\"type\":\"send\",\"to\":\"#general\",\"body\":\"x\",\"client_msg_id\":\"after\"}");
    g_autoptr(JsonObject) e2 = natter_test_client_request_error (bob, "forbidden",
        "{\"type\":\"history\",\"conversation\":\"#general\"}");
    g_autoptr(JsonObject) r = natter_test_client_request_ok (bob, "{\"type\":\"rooms\"}");

    g_assert_cmpuint (json_array_get_length (natter_test_get_array (r, "rooms")), ==, 0);
  }
  util_send (alice, "#general", "after bob left", "r2");
  natter_test_client_expect_no_frame_of_type (bob, "message");
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice,
        "{\"type\":\"room_members\",\"room\":\"#general\"}");

    util_assert_usernames (natter_test_get_array (r, "members"), "alice", "carol", NULL);
  }
}

static void
test_topic (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) alice = natter_test_client_new_user (srv, "alice");
  g_autoptr(NatterTestClient) bob = natter_test_client_new_user (srv, "bob");
  g_autoptr(NatterTestClient) carol = natter_test_client_new_user (srv, "carol");

  util_room_create (alice, "#topical");
  util_room_join (bob, "#topical");
  natter_test_client_sync_ping (alice);
  natter_test_client_clear_queue (alice);

  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice,
        "{\"type\":\"room_topic\",\"room\":\"#topical\",\"topic\":\"New topic \xe2\x9c\x93\"}");
    g_autoptr(JsonObject) eb = natter_test_client_wait_type (bob, "room_topic");
    g_autoptr(JsonObject) ea = natter_test_client_wait_type (alice, "room_topic");

    natter_assert_str (eb, "room", "#topical");
    natter_assert_str (eb, "topic", "New topic \xe2\x9c\x93");
    natter_assert_str (eb, "by", "alice");
    natter_assert_str (ea, "by", "alice");
  }
  natter_test_client_expect_no_frame_of_type (carol, "room_topic");
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (bob, "{\"type\":\"rooms\"}");

    natter_assert_str (json_array_get_object_element (natter_test_get_array (r, "rooms"), 0),
                       "topic", "New topic \xe2\x9c\x93");
  }
  /* Owner only. */
  {
    g_autoptr(JsonObject) e1 = natter_test_client_request_error (bob, "forbidden",
        "{\"type\":\"room_topic\",\"room\":\"#topical\",\"topic\":\"mine now\"}");
    g_autoptr(JsonObject) e2 = natter_test_client_request_error (carol, "forbidden",
        "{\"type\":\"room_topic\",\"room\":\"#topical\",\"topic\":\"mine now\"}");
    g_autoptr(JsonObject) e3 = natter_test_client_request_error (alice, "not_found",
        "{\"type\":\"room_topic\",\"room\":\"#nowhere\",\"topic\":\"x\"}");
    g_autofree char *t513 = util_repeat ('t', 513);
    g_autoptr(JsonObject) e4 = natter_test_client_request_error (alice, "invalid_argument",
        "{\"type\":\"room_topic\",\"room\":\"#topical\",\"topic\":\"%s\"}", t513);
    g_autoptr(JsonObject) e5 = natter_test_client_request_error (alice, "invalid_argument",
        "{\"type\":\"room_topic\",\"room\":\"#topical\"}");
  }
  natter_test_client_expect_no_frame_of_type (bob, "room_topic");
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice, "{\"type\":\"rooms\"}");

    natter_assert_str (json_array_get_object_element (natter_test_get_array (r, "rooms"), 0),
                       "topic", "New topic \xe2\x9c\x93");
  }
  /* An empty topic clears it. */
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice,
        "{\"type\":\"room_topic\",\"room\":\"#topical\",\"topic\":\"\"}");
    g_autoptr(JsonObject) eb = natter_test_client_wait_type (bob, "room_topic");
  }
}

static void
test_directory (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) alice = natter_test_client_new_user (srv, "alice");
  g_autoptr(NatterTestClient) bob = natter_test_client_new_user (srv, "bob");

  util_room_create (alice, "#general");
  util_room_create (alice, "#games");
  util_room_create (alice, "#random");

  /* bob, a member of none, finds them by prefix. */
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (bob,
        "{\"type\":\"room_directory\",\"query\":\"ga\"}");
    JsonArray *rooms = natter_test_get_array (r, "rooms");

    g_assert_cmpuint (json_array_get_length (rooms), ==, 1);
    assert_room_object (json_array_get_object_element (rooms, 0));
    natter_assert_str (json_array_get_object_element (rooms, 0), "room", "#games");
    natter_assert_int (json_array_get_object_element (rooms, 0), "member_count", 1);
  }
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (bob,
        "{\"type\":\"room_directory\",\"query\":\"g\"}");

    g_assert_cmpuint (json_array_get_length (natter_test_get_array (r, "rooms")), ==, 2);
  }
  /* With the '#' too. */
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (bob,
        "{\"type\":\"room_directory\",\"query\":\"#gen\"}");
    JsonArray *rooms = natter_test_get_array (r, "rooms");

    g_assert_cmpuint (json_array_get_length (rooms), ==, 1);
    natter_assert_str (json_array_get_object_element (rooms, 0), "room", "#general");
  }
  /* No query: every room. */
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (bob, "{\"type\":\"room_directory\"}");

    g_assert_cmpuint (json_array_get_length (natter_test_get_array (r, "rooms")), ==, 3);
  }
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (bob,
        "{\"type\":\"room_directory\",\"query\":\"zzz\"}");

    g_assert_cmpuint (json_array_get_length (natter_test_get_array (r, "rooms")), ==, 0);
  }
  /* limit, and errors. */
  {
    g_autofree char *long_query = util_repeat ('q', 257);
    g_autoptr(JsonObject) r = natter_test_client_request_ok (bob,
        "{\"type\":\"room_directory\",\"limit\":2}");
    g_autoptr(JsonObject) e1 = natter_test_client_request_error (bob, "invalid_argument",
        "{\"type\":\"room_directory\",\"query\":\"%s\"}", long_query);
    g_autoptr(JsonObject) e2 = natter_test_client_request_error (bob, "invalid_argument",
        "{\"type\":\"room_directory\",\"limit\":0}");
    g_autoptr(JsonObject) e3 = natter_test_client_request_error (bob, "invalid_argument",
        "{\"type\":\"room_directory\",\"query\":5}");

    g_assert_cmpuint (json_array_get_length (natter_test_get_array (r, "rooms")), ==, 2);
  }
}

static void
test_membership_edges (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) alice = natter_test_client_new_user (srv, "alice");
  g_autoptr(NatterTestClient) alice2 = natter_test_client_new_login (srv, "alice");
  g_autoptr(NatterTestClient) bob = natter_test_client_new_user (srv, "bob");

  util_room_create (alice, "#edges");
  util_room_join (bob, "#edges");
  natter_test_client_sync_ping (alice);
  natter_test_client_clear_queue (alice);

  /* Joining again: ok, and nobody is told. */
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (bob,
        "{\"type\":\"room_join\",\"room\":\"#edges\"}");

    natter_assert_int (r, "room.member_count", 2);
  }
  natter_test_client_expect_no_frame_of_type (alice, "room_member");

  /* A room message reaches the sender's other connection too. */
  natter_test_client_sync_ping (alice2);
  natter_test_client_clear_queue (alice2);
  {
    gint64 id = util_send (alice, "#edges", "to the room", "e1");
    g_autoptr(JsonObject) e = natter_test_client_wait_type (alice2, "message");

    natter_assert_int (e, "message.id", id);
    natter_assert_str (e, "message.conversation", "#edges");
  }
  natter_test_client_expect_no_frame_of_type (alice, "message");

  /* Leaving a room one is not in, or that does not exist. */
  {
    g_autoptr(JsonObject) l = natter_test_client_request_ok (bob,
        "{\"type\":\"room_leave\",\"room\":\"#edges\"}");
    g_autoptr(JsonObject) e1 = natter_test_client_request_error (bob, "forbidden",
        "{\"type\":\"room_leave\",\"room\":\"#edges\"}");
    g_autoptr(JsonObject) e2 = natter_test_client_request_error (bob, "not_found",
        "{\"type\":\"room_leave\",\"room\":\"#nowhere\"}");
    g_autoptr(JsonObject) e3 = natter_test_client_request_error (bob, "invalid_argument",
        "{\"type\":\"room_leave\",\"room\":\"edges\"}");
  }
  /* After leaving, search does not find the room's messages either. */
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (bob,
        "{\"type\":\"search\",\"query\":\"room\"}");

    g_assert_cmpuint (json_array_get_length (natter_test_get_array (r, "messages")), ==, 0);
  }
  /* The owner may leave; the room stays, with its owner. */
  {
    g_autoptr(JsonObject) l = natter_test_client_request_ok (alice,
        "{\"type\":\"room_leave\",\"room\":\"#edges\"}");
    g_autoptr(JsonObject) d = natter_test_client_request_ok (bob,
        "{\"type\":\"room_directory\",\"query\":\"edges\"}");
    JsonArray *rooms = natter_test_get_array (d, "rooms");

    g_assert_cmpuint (json_array_get_length (rooms), ==, 1);
    natter_assert_int (json_array_get_object_element (rooms, 0), "member_count", 0);
  }
}

static void
test_room_order_two_senders (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (UTIL_RELAXED_LIMITS, NULL);
  g_autoptr(NatterTestClient) alice = natter_test_client_new_user (srv, "alice");
  g_autoptr(NatterTestClient) bob = natter_test_client_new_user (srv, "bob");
  g_autoptr(NatterTestClient) carol = natter_test_client_new_user (srv, "carol");
  GString *a = g_string_new (NULL);
  GString *b = g_string_new (NULL);
  gint64 last = 0;

  util_room_create (alice, "#busy");
  util_room_join (bob, "#busy");
  util_room_join (carol, "#busy");
  natter_test_client_sync_ping (carol);
  natter_test_client_clear_queue (carol);

  /* Two senders pipeline into one room at the same time. */
  for (guint i = 0; i < 100; i++)
    {
      g_string_append_printf (a, "{\"type\":\"send\",\"id\":%u,\"to\":\"#busy\",\"body\":\"a%u\","
                              "\"client_msg_id\":\"a%u\"}\n", i, i, i);
      g_string_append_printf (b, "{\"type\":\"send\",\"id\":%u,\"to\":\"#busy\",\"body\":\"b%u\","
                              "\"client_msg_id\":\"b%u\"}\n", i, i, i);
    }
  natter_test_client_send_raw (alice, a->str, a->len);
  natter_test_client_send_raw (bob, b->str, b->len);
  g_string_free (a, TRUE);
  g_string_free (b, TRUE);

  /* carol gets all 200, in id order. */
  for (guint i = 0; i < 200; i++)
    {
      g_autoptr(JsonObject) e = natter_test_client_wait_type (carol, "message");
      gint64 id = natter_test_get_int (e, "message.id");

      g_assert_cmpint (id, >, last);
      last = id;
    }
  /* History agrees with that order. */
  {
    g_autoptr(JsonObject) h = natter_test_client_request_ok (carol,
        "{\"type\":\"history\",\"conversation\":\"#busy\",\"limit\":200}");
    g_autoptr(GArray) ids = util_message_ids (natter_test_get_array (h, "messages"));

    g_assert_cmpuint (ids->len, ==, 200);
    for (guint i = 1; i < ids->len; i++)
      g_assert_cmpint (g_array_index (ids, gint64, i), >, g_array_index (ids, gint64, i - 1));
    g_assert_cmpint (g_array_index (ids, gint64, 199), ==, last);
  }
}

/* Room changes are written off the main loop. A client that pipelines a
 * create or a join and then sends into the room must find the room made
 * and itself a member: its next frames wait for the answer. Two clients
 * creating one name at the same moment: one gets it, the other a
 * conflict, and the room is stored once. */
static void
test_pipelined_changes (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (UTIL_RELAXED_LIMITS, NULL);
  g_autoptr(NatterTestClient) alice = natter_test_client_new_user (srv, "alice");
  g_autoptr(NatterTestClient) bob = natter_test_client_new_user (srv, "bob");
  static const char create_send[] =
    "{\"type\":\"room_create\",\"id\":1,\"room\":\"#fresh\"}\n"
    "{\"type\":\"send\",\"id\":2,\"to\":\"#fresh\",\"body\":\"first\",\"client_msg_id\":\"f1\"}\n"
    "{\"type\":\"room_topic\",\"id\":3,\"room\":\"#fresh\",\"topic\":\"new\"}\n";
  static const char join_send_leave[] =
    "{\"type\":\"room_join\",\"id\":1,\"room\":\"#fresh\"}\n"
    "{\"type\":\"send\",\"id\":2,\"to\":\"#fresh\",\"body\":\"hello\",\"client_msg_id\":\"j1\"}\n"
    "{\"type\":\"room_leave\",\"id\":3,\"room\":\"#fresh\"}\n"
    "{\"type\":\"send\",\"id\":4,\"to\":\"#fresh\",\"body\":\"late\",\"client_msg_id\":\"j2\"}\n";
  guint won = 0, lost = 0;

  natter_test_client_send_raw (alice, create_send, strlen (create_send));
  for (gint64 re = 1; re <= 3; re++)
    {
      g_autoptr(JsonObject) r = natter_test_client_wait_re (alice, re);
      natter_assert_ok (r);
    }
  natter_test_client_send_raw (bob, join_send_leave, strlen (join_send_leave));
  for (gint64 re = 1; re <= 4; re++)
    {
      g_autoptr(JsonObject) r = natter_test_client_wait_re (bob, re);
      if (re == 4)
        natter_assert_error (r, "forbidden");
      else
        natter_assert_ok (r);
    }

  for (guint i = 0; i < 10; i++)
    {
      g_autofree char *frame = g_strdup_printf (
          "{\"type\":\"room_create\",\"id\":%u,\"room\":\"#race%u\"}\n", 10 + i, i);
      g_autoptr(JsonObject) ra = NULL;
      g_autoptr(JsonObject) rb = NULL;

      natter_test_client_send_raw (alice, frame, strlen (frame));
      natter_test_client_send_raw (bob, frame, strlen (frame));
      ra = natter_test_client_wait_re (alice, 10 + i);
      rb = natter_test_client_wait_re (bob, 10 + i);
      for (guint k = 0; k < 2; k++)
        {
          JsonObject *r = k == 0 ? ra : rb;

          if (g_strcmp0 (json_object_get_string_member (r, "type"), "ok") == 0)
            won++;
          else
            {
              natter_assert_error (r, "conflict");
              lost++;
            }
        }
    }
  g_assert_cmpuint (won, ==, 10);
  g_assert_cmpuint (lost, ==, 10);

  natter_test_server_restart (srv);
  {
    g_autoptr(NatterTestClient) carol = natter_test_client_new_user (srv, "carol");
    g_autoptr(JsonObject) d = natter_test_client_request_ok (carol,
        "{\"type\":\"room_directory\",\"query\":\"#race\"}");
    g_autoptr(JsonObject) h = NULL;

    g_assert_cmpuint (json_array_get_length (natter_test_get_array (d, "rooms")), ==, 10);
    g_clear_pointer (&alice, natter_test_client_free);
    alice = natter_test_client_new_login (srv, "alice");
    h = natter_test_client_request_ok (alice, "{\"type\":\"history\",\"conversation\":\"#fresh\"}");
    g_assert_cmpuint (json_array_get_length (natter_test_get_array (h, "messages")), ==, 2);
    natter_assert_str (h, "messages.1.body", "hello");
  }
}

int
main (int   argc,
      char *argv[])
{
  natter_test_init (&argc, &argv);

  natter_test_add ("/rooms/create", test_create);
  natter_test_add ("/rooms/join-leave", test_join_leave);
  natter_test_add ("/rooms/topic", test_topic);
  natter_test_add ("/rooms/directory", test_directory);
  natter_test_add ("/rooms/membership-edges", test_membership_edges);
  natter_test_add ("/rooms/order-two-senders", test_room_order_two_senders);
  natter_test_add ("/rooms/pipelined-changes", test_pipelined_changes);

  return g_test_run ();
}
