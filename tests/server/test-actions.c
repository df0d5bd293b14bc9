/* test-actions.c: the feature message_actions (docs/protocol.md, "Features"
 * and "Message actions"): negotiation, edit, delete, react, replies,
 * mentions, notify_level, sync with changes, what a protocol-1 connection
 * sees, search after edits and deletes, durability across a restart.
 * In the suite server-cluster the clients a test makes alternate between
 * two nodes, so the actor and those told are on different nodes
 * (test-cluster.c adds a change made while the bus is down).
 */
#define G_LOG_DOMAIN "natter-test"

#include <string.h>

#include "server-test-util.h"

#define FEATURES "\"features\":[\"message_actions\"]"

static NatterTestClient *
actions_user (NatterTestServer *srv,
              const char       *username)
{
  return util_feature_user (srv, username, "message_actions");
}

static NatterTestClient *
actions_login (NatterTestServer *srv,
               const char       *username)
{
  return util_feature_login (srv, username, "message_actions");
}

/* The ok's message of a request that must answer ok; its "change". */
static JsonObject *
act_ok (NatterTestClient *c,
        gint64           *out_change,
        const char       *format,
        ...) G_GNUC_PRINTF (3, 4);

static JsonObject *
act_ok (NatterTestClient *c,
        gint64           *out_change,
        const char       *format,
        ...)
{
  va_list args;
  g_autofree char *json = NULL;
  JsonObject *r;

  va_start (args, format);
  json = g_strdup_vprintf (format, args);
  va_end (args);
  r = natter_test_client_request (c, json);
  natter_assert_ok (r);
  if (out_change != NULL)
    *out_change = natter_test_is_null (r, "change") ? 0 : natter_test_get_int (r, "change");
  return r;
}

/* The message object with every field of message actions. */
static void
assert_actions_message (JsonObject *m)
{
  util_assert_message_object (m);
  g_assert_true (json_object_has_member (m, "reply_to"));
  g_assert_true (json_object_has_member (m, "edited_ts"));
  g_assert_true (json_object_has_member (m, "deleted"));
  g_assert_true (json_object_has_member (m, "reactions"));
  g_assert_true (json_object_has_member (m, "mentions"));
}

static void
assert_protocol1_message (JsonObject *m)
{
  util_assert_message_object (m);
  g_assert_false (json_object_has_member (m, "reply_to"));
  g_assert_false (json_object_has_member (m, "edited_ts"));
  g_assert_false (json_object_has_member (m, "deleted"));
  g_assert_false (json_object_has_member (m, "reactions"));
  g_assert_false (json_object_has_member (m, "mentions"));
}

static void
test_features (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) plain = natter_test_client_new (srv);
  g_autoptr(NatterTestClient) c = natter_test_client_new (srv);
  JsonObject *welcome = natter_test_client_get_welcome (plain);
  g_autoptr(JsonObject) e0 = NULL;

  /* A cluster does not offer accounts yet (test-accounts). */
  if (natter_test_cluster_size () > 1)
    util_assert_strings (natter_test_get_array (welcome, "features"), "message_actions", "room_management", NULL);
  else
    util_assert_strings (natter_test_get_array (welcome, "features"), "message_actions", "room_management", "accounts", NULL);

  /* Before login a feature's request does not exist. */
  e0 = natter_test_client_request_error (plain, "unknown_type",
      "{\"type\":\"edit\",\"message\":1,\"body\":\"x\"}");

  /* Bad features: not an array, a non-string, an empty or long name, 17 names. */
  {
    static const char *const bad[] = {
      "\"features\":\"message_actions\"", "\"features\":[1]", "\"features\":[\"\"]",
      "\"features\":[null]", "\"features\":{}",
    };
    g_autofree char *long_name = util_repeat ('x', 65);
    g_autoptr(GString) many = g_string_new ("\"features\":[");

    for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
      {
        g_autoptr(JsonObject) e = natter_test_client_request_error (plain, "invalid_argument",
            "{\"type\":\"register\",\"username\":\"bad%u\",\"password\":\"%s\",%s}", i, NATTER_TEST_PASSWORD, bad[i]);
      }
    {
      g_autoptr(JsonObject) e = natter_test_client_request_error (plain, "invalid_argument",
          "{\"type\":\"register\",\"username\":\"badlong\",\"password\":\"%s\",\"features\":[\"%s\"]}",
          NATTER_TEST_PASSWORD, long_name);
    }
    for (int i = 0; i < 17; i++)
      g_string_append_printf (many, "%s\"f%d\"", i ? "," : "", i);
    g_string_append_c (many, ']');
    {
      g_autoptr(JsonObject) e = natter_test_client_request_error (plain, "invalid_argument",
          "{\"type\":\"register\",\"username\":\"badmany\",\"password\":\"%s\",%s}",
          NATTER_TEST_PASSWORD, many->str);
    }
  }

  /* Unknown names are ignored; 16 names of 64 bytes are fine. */
  {
    g_autofree char *name64 = util_repeat ('y', 64);
    g_autoptr(JsonObject) r = natter_test_client_request_ok (c,
        "{\"type\":\"register\",\"username\":\"alice\",\"password\":\"%s\","
        "\"features\":[\"something_newer\",\"%s\",\"message_actions\"]}", NATTER_TEST_PASSWORD, name64);

    util_assert_strings (natter_test_get_array (r, "features"), "message_actions", NULL);
  }
  {
    g_autoptr(JsonObject) r = natter_test_client_request_error (c, "not_found",
        "{\"type\":\"edit\",\"message\":999999,\"body\":\"x\"}");
  }
}

static void
test_features_login (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) c = natter_test_client_new (srv);
  g_autoptr(JsonObject) r = NULL;
  g_autoptr(JsonObject) e = NULL;
  /* A plain registration: no "features" in the reply, no actions. */
  r = natter_test_client_request_ok (c, "{\"type\":\"register\",\"username\":\"alice\",\"password\":\"%s\"}",
                                     NATTER_TEST_PASSWORD);
  g_assert_false (json_object_has_member (r, "features"));
  e = natter_test_client_request_error (c, "unknown_type", "{\"type\":\"delete\",\"message\":1}");
  g_clear_pointer (&e, json_object_unref);
  e = natter_test_client_request_error (c, "unknown_type",
                                        "{\"type\":\"notify_level\",\"conversation\":\"@alice\",\"level\":\"all\"}");
  g_clear_pointer (&e, json_object_unref);

  /* Logout turns them off; the next login says again ([] asks for none:
   * the reply says so). */
  natter_test_client_request_ok (c, "{\"type\":\"logout\"}");
  g_clear_pointer (&r, json_object_unref);
  r = natter_test_client_request_ok (c, "{\"type\":\"login\",\"username\":\"alice\",\"password\":\"%s\",\"features\":[]}",
                                     NATTER_TEST_PASSWORD);
  util_assert_strings (natter_test_get_array (r, "features"), NULL);
  e = natter_test_client_request_error (c, "unknown_type", "{\"type\":\"react\",\"message\":1,\"emoji\":\"x\",\"on\":true}");
  g_clear_pointer (&e, json_object_unref);
  natter_test_client_request_ok (c, "{\"type\":\"logout\"}");
  g_clear_pointer (&r, json_object_unref);
  r = natter_test_client_request_ok (c, "{\"type\":\"login\",\"username\":\"alice\",\"password\":\"%s\"," FEATURES "}",
                                     NATTER_TEST_PASSWORD);
  util_assert_strings (natter_test_get_array (r, "features"), "message_actions", NULL);
  e = natter_test_client_request_error (c, "not_found", "{\"type\":\"delete\",\"message\":123456}");
  g_clear_pointer (&e, json_object_unref);
  natter_test_client_request_ok (c, "{\"type\":\"logout\"}");
  /* Logged out: the feature is off again, so the type is unknown. */
  e = natter_test_client_request_error (c, "unknown_type", "{\"type\":\"delete\",\"message\":1}");
}

static void
test_edit (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) alice = actions_user (srv, "alice");
  g_autoptr(NatterTestClient) alice2 = actions_login (srv, "alice");
  g_autoptr(NatterTestClient) bob = actions_user (srv, "bob");
  g_autoptr(NatterTestClient) carol = actions_user (srv, "carol");
  g_autoptr(JsonObject) r = NULL;
  g_autoptr(JsonObject) ev = NULL;
  g_autoptr(JsonObject) m1 = NULL;
  gint64 id, change = 0, change2 = 0;

  id = util_send (alice, "@bob", "lunch at noon?", "e1");
  m1 = natter_test_client_wait_type (bob, "message");
  assert_actions_message (natter_test_get_object (m1, "message"));
  natter_test_client_sync_ping (alice2);
  natter_test_client_clear_queue (alice2);

  r = act_ok (alice, &change, "{\"type\":\"edit\",\"message\":%" G_GINT64_FORMAT ",\"body\":\"lunch at one?\"}", id);
  g_assert_cmpint (change, >, id);
  assert_actions_message (natter_test_get_object (r, "message"));
  natter_assert_str (r, "message.body", "lunch at one?");
  natter_assert_str (r, "message.conversation", "@bob");
  g_assert_false (natter_test_is_null (r, "message.edited_ts"));

  ev = natter_test_client_wait_type (bob, "message_changed");
  natter_assert_int (ev, "change", change);
  natter_assert_str (ev, "kind", "edit");
  natter_assert_str (ev, "by", "alice");
  natter_assert_str (ev, "message.body", "lunch at one?");
  natter_assert_str (ev, "message.conversation", "@alice");
  g_clear_pointer (&ev, json_object_unref);
  ev = natter_test_client_wait_type (alice2, "message_changed");
  natter_assert_str (ev, "message.conversation", "@bob");
  natter_test_client_expect_no_frame_of_type (alice, "message_changed");
  natter_test_client_expect_no_frame_of_type (carol, "message_changed");

  /* The same body again: nothing stored, nobody told. */
  g_clear_pointer (&r, json_object_unref);
  r = act_ok (alice, &change2, "{\"type\":\"edit\",\"message\":%" G_GINT64_FORMAT ",\"body\":\"lunch at one?\"}", id);
  g_assert_cmpint (change2, ==, 0);
  natter_test_client_expect_no_frame_of_type (bob, "message_changed");

  /* Errors. */
  {
    g_autoptr(JsonObject) e1 = natter_test_client_request_error (bob, "forbidden",
        "{\"type\":\"edit\",\"message\":%" G_GINT64_FORMAT ",\"body\":\"mine now\"}", id);
    g_autoptr(JsonObject) e2 = natter_test_client_request_error (carol, "not_found",
        "{\"type\":\"edit\",\"message\":%" G_GINT64_FORMAT ",\"body\":\"x\"}", id);
    g_autoptr(JsonObject) e3 = natter_test_client_request_error (alice, "not_found",
        "{\"type\":\"edit\",\"message\":%" G_GINT64_FORMAT ",\"body\":\"x\"}", change + 1000);
    g_autoptr(JsonObject) e4 = natter_test_client_request_error (alice, "invalid_argument",
        "{\"type\":\"edit\",\"message\":%" G_GINT64_FORMAT ",\"body\":\"  \"}", id);
    g_autoptr(JsonObject) e5 = natter_test_client_request_error (alice, "invalid_argument",
        "{\"type\":\"edit\",\"message\":0,\"body\":\"x\"}");
    g_autoptr(JsonObject) e6 = natter_test_client_request_error (alice, "invalid_argument",
        "{\"type\":\"edit\",\"message\":\"1\",\"body\":\"x\"}");
    g_autoptr(JsonObject) e7 = natter_test_client_request_error (alice, "invalid_argument",
        "{\"type\":\"edit\",\"body\":\"x\"}");
    g_autoptr(JsonObject) e8 = natter_test_client_request_error (alice, "invalid_argument",
        "{\"type\":\"edit\",\"message\":%" G_GINT64_FORMAT "}", id);
  }
}

static void
test_delete (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) alice = actions_user (srv, "alice");
  g_autoptr(NatterTestClient) bob = actions_user (srv, "bob");
  g_autoptr(NatterTestClient) carol = actions_user (srv, "carol");
  g_autoptr(NatterTestClient) plain = natter_test_client_new_login (srv, "bob");
  g_autoptr(JsonObject) r = NULL;
  g_autoptr(JsonObject) ev = NULL;
  gint64 dm, room_msg, change = 0, again = 0;

  util_room_create (alice, "#r");
  util_room_join (bob, "#r");
  util_room_join (carol, "#r");
  dm = util_send (bob, "@alice", "secret words here", "d1");
  room_msg = util_send (bob, "#r", "carol said hi", "d2");
  natter_test_client_sync_ping (plain);
  natter_test_client_clear_queue (plain);
  natter_test_client_sync_ping (carol);
  natter_test_client_clear_queue (carol);

  /* A DM: only its sender. */
  {
    g_autoptr(JsonObject) e = natter_test_client_request_error (alice, "forbidden",
        "{\"type\":\"delete\",\"message\":%" G_GINT64_FORMAT "}", dm);
    g_autoptr(JsonObject) e2 = natter_test_client_request_error (carol, "forbidden",
        "{\"type\":\"delete\",\"message\":%" G_GINT64_FORMAT "}", room_msg);
  }
  /* In a room, its owner may delete anyone's. */
  r = act_ok (alice, &change, "{\"type\":\"delete\",\"message\":%" G_GINT64_FORMAT "}", room_msg);
  g_assert_cmpint (change, >, room_msg);
  g_assert_true (natter_test_get_bool (r, "message.deleted"));
  natter_assert_str (r, "message.body", "");
  natter_assert_str (r, "message.client_msg_id", "d2");
  natter_assert_str (r, "message.from", "bob");
  g_assert_true (natter_test_is_null (r, "message.reply_to"));
  g_assert_true (natter_test_is_null (r, "message.edited_ts"));
  g_assert_cmpint (json_array_get_length (natter_test_get_array (r, "message.reactions")), ==, 0);
  ev = natter_test_client_wait_type (carol, "message_changed");
  natter_assert_str (ev, "kind", "delete");
  natter_assert_str (ev, "by", "alice");
  g_assert_true (natter_test_get_bool (ev, "message.deleted"));
  /* The protocol-1 connection of bob hears nothing of it. */
  natter_test_client_expect_no_frame_of_type (plain, "message_changed");

  /* Again: a no-op. Then edit and react on it are not_found. */
  g_clear_pointer (&r, json_object_unref);
  r = act_ok (alice, &again, "{\"type\":\"delete\",\"message\":%" G_GINT64_FORMAT "}", room_msg);
  g_assert_cmpint (again, ==, 0);
  {
    g_autoptr(JsonObject) e = natter_test_client_request_error (bob, "not_found",
        "{\"type\":\"edit\",\"message\":%" G_GINT64_FORMAT ",\"body\":\"x\"}", room_msg);
    g_autoptr(JsonObject) e2 = natter_test_client_request_error (bob, "not_found",
        "{\"type\":\"react\",\"message\":%" G_GINT64_FORMAT ",\"emoji\":\"x\",\"on\":true}", room_msg);
    g_autoptr(JsonObject) e3 = natter_test_client_request_error (bob, "not_found",
        "{\"type\":\"send\",\"to\":\"#r\",\"body\":\"re\",\"client_msg_id\":\"d3\",\"reply_to\":%" G_GINT64_FORMAT "}",
        room_msg);
  }

  /* History: with actions it is there, deleted; without, left out. */
  {
    g_autoptr(JsonObject) h = natter_test_client_request_ok (bob, "{\"type\":\"history\",\"conversation\":\"#r\"}");
    g_autoptr(JsonObject) h1 = natter_test_client_request_ok (plain, "{\"type\":\"history\",\"conversation\":\"#r\"}");
    g_autoptr(JsonObject) s1 = natter_test_client_request_ok (plain, "{\"type\":\"sync\"}");
    g_autoptr(JsonObject) conv = natter_test_client_request_ok (plain, "{\"type\":\"conversations\"}");
    JsonArray *list = natter_test_get_array (conv, "conversations");

    g_assert_cmpint (json_array_get_length (natter_test_get_array (h, "messages")), ==, 1);
    g_assert_true (natter_test_get_bool (h, "messages.0.deleted"));
    g_assert_cmpint (json_array_get_length (natter_test_get_array (h1, "messages")), ==, 0);
    g_assert_cmpint (json_array_get_length (natter_test_get_array (s1, "messages")), ==, 1);
    natter_assert_int (s1, "messages.0.id", dm);
    natter_assert_int (s1, "last_id", dm);
    g_assert_false (json_object_has_member (s1, "changes"));
    assert_protocol1_message (natter_test_get_object (s1, "messages.0"));
    for (guint i = 0; i < json_array_get_length (list); i++)
      {
        JsonObject *entry = json_array_get_object_element (list, i);

        if (g_str_equal (natter_test_get_str (entry, "conversation"), "#r"))
          g_assert_true (natter_test_is_null (entry, "last_message"));
        g_assert_false (json_object_has_member (entry, "notify_level"));
      }
  }
  /* A message nobody can read is not_found to a non-member. */
  {
    g_autoptr(NatterTestClient) dave = actions_user (srv, "dave");
    g_autoptr(JsonObject) e = natter_test_client_request_error (dave, "not_found",
        "{\"type\":\"delete\",\"message\":%" G_GINT64_FORMAT "}", dm);
  }
  /* The sender deletes its DM. */
  {
    gint64 c = 0;
    g_autoptr(JsonObject) d = act_ok (bob, &c, "{\"type\":\"delete\",\"message\":%" G_GINT64_FORMAT "}", dm);

    g_assert_cmpint (c, >, change);
  }
}

static void
test_react (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) alice = actions_user (srv, "alice");
  g_autoptr(NatterTestClient) bob = actions_user (srv, "bob");
  g_autoptr(JsonObject) r = NULL;
  g_autoptr(JsonObject) ev = NULL;
  JsonArray *reactions;
  gint64 id, change = 0;

  id = util_send (alice, "@bob", "party!", "r1");
  natter_test_client_sync_ping (bob);
  natter_test_client_clear_queue (bob);

  r = act_ok (bob, &change, "{\"type\":\"react\",\"message\":%" G_GINT64_FORMAT ",\"emoji\":\"\xf0\x9f\x91\x8d\",\"on\":true}", id);
  g_assert_cmpint (change, >, id);
  g_clear_pointer (&r, json_object_unref);
  r = act_ok (alice, &change, "{\"type\":\"react\",\"message\":%" G_GINT64_FORMAT ",\"emoji\":\"\xf0\x9f\x8e\x89\",\"on\":true}", id);
  g_clear_pointer (&r, json_object_unref);
  r = act_ok (alice, &change, "{\"type\":\"react\",\"message\":%" G_GINT64_FORMAT ",\"emoji\":\"\xf0\x9f\x91\x8d\",\"on\":true}", id);
  reactions = natter_test_get_array (r, "message.reactions");
  g_assert_cmpint (json_array_get_length (reactions), ==, 2);
  natter_assert_str (r, "message.reactions.0.emoji", "\xf0\x9f\x91\x8d");
  natter_assert_str (r, "message.reactions.0.users.0", "bob");
  natter_assert_str (r, "message.reactions.0.users.1", "alice");
  natter_assert_str (r, "message.reactions.1.emoji", "\xf0\x9f\x8e\x89");

  ev = natter_test_client_wait_type (bob, "message_changed");
  natter_assert_str (ev, "kind", "reaction");
  natter_assert_str (ev, "emoji", "\xf0\x9f\x8e\x89");
  g_assert_true (natter_test_get_bool (ev, "on"));
  g_clear_pointer (&ev, json_object_unref);
  ev = natter_test_client_wait_type (bob, "message_changed");
  g_clear_pointer (&ev, json_object_unref);

  /* Already there: no-op. Removing: the entry goes when empty. */
  {
    gint64 c = 1;
    g_autoptr(JsonObject) again = act_ok (alice, &c,
        "{\"type\":\"react\",\"message\":%" G_GINT64_FORMAT ",\"emoji\":\"\xf0\x9f\x8e\x89\",\"on\":true}", id);
    g_assert_cmpint (c, ==, 0);
  }
  g_clear_pointer (&r, json_object_unref);
  r = act_ok (alice, &change, "{\"type\":\"react\",\"message\":%" G_GINT64_FORMAT ",\"emoji\":\"\xf0\x9f\x8e\x89\",\"on\":false}", id);
  g_assert_cmpint (change, >, 0);
  g_assert_cmpint (json_array_get_length (natter_test_get_array (r, "message.reactions")), ==, 1);
  ev = natter_test_client_wait_type (bob, "message_changed");
  g_assert_false (natter_test_get_bool (ev, "on"));
  {
    gint64 c = 1;
    g_autoptr(JsonObject) gone = act_ok (alice, &c,
        "{\"type\":\"react\",\"message\":%" G_GINT64_FORMAT ",\"emoji\":\"\xf0\x9f\x8e\x89\",\"on\":false}", id);
    g_assert_cmpint (c, ==, 0);
  }

  /* Bad emoji and on. */
  {
    static const char *const bad[] = {
      "\"emoji\":\"\",\"on\":true", "\"emoji\":\"a b\",\"on\":true",
      "\"emoji\":\"123456789012345678901234567890123\",\"on\":true",
      "\"emoji\":\"x\",\"on\":1", "\"emoji\":\"x\"", "\"on\":true", "\"emoji\":\"\\t\",\"on\":true",
    };
    for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
      {
        g_autoptr(JsonObject) e = natter_test_client_request_error (alice, "invalid_argument",
            "{\"type\":\"react\",\"message\":%" G_GINT64_FORMAT ",%s}", id, bad[i]);
      }
  }

  /* 20 distinct reactions at most. */
  for (int i = 1; i < 20; i++)
    {
      g_autoptr(JsonObject) ok = act_ok (bob, NULL,
          "{\"type\":\"react\",\"message\":%" G_GINT64_FORMAT ",\"emoji\":\"e%d\",\"on\":true}", id, i);
      if (i == 19)
        g_assert_cmpint (json_array_get_length (natter_test_get_array (ok, "message.reactions")), ==, 20);
    }
  {
    g_autoptr(JsonObject) e = natter_test_client_request_error (bob, "conflict",
        "{\"type\":\"react\",\"message\":%" G_GINT64_FORMAT ",\"emoji\":\"e21\",\"on\":true}", id);
    /* Joining an existing one is fine. */
    g_autoptr(JsonObject) ok = act_ok (alice, NULL,
        "{\"type\":\"react\",\"message\":%" G_GINT64_FORMAT ",\"emoji\":\"e5\",\"on\":true}", id);
  }
}

static void
test_reply_and_mentions (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (UTIL_RELAXED_LIMITS, NULL);
  g_autoptr(NatterTestClient) alice = actions_user (srv, "alice");
  g_autoptr(NatterTestClient) bob = actions_user (srv, "bob");
  g_autoptr(NatterTestClient) bobdot = actions_user (srv, "bob.x");
  g_autoptr(NatterTestClient) plain = natter_test_client_new_user (srv, "carol");
  g_autoptr(GString) long_body = g_string_new (NULL);
  g_autoptr(JsonObject) r = NULL;
  gint64 original, other, reply;

  util_room_create (alice, "#r");
  util_room_join (bob, "#r");
  util_room_join (plain, "#r");
  for (int i = 0; i < 150; i++)
    g_string_append (long_body, "\xc3\xa9");   /* 300 bytes of é */
  g_string_append (long_body, "\nsecond line");
  {
    g_autofree char *quoted = natter_test_json_quote (long_body->str);
    g_autoptr(JsonObject) s = natter_test_client_request_ok (bob,
        "{\"type\":\"send\",\"to\":\"#r\",\"body\":%s,\"client_msg_id\":\"o1\"}", quoted);
    original = natter_test_get_int (s, "message.id");
  }
  other = util_send (alice, "@bob", "elsewhere", "x1");

  r = natter_test_client_request_ok (alice,
      "{\"type\":\"send\",\"to\":\"#r\",\"body\":\"ok @Bob. see @nobody, mail a@bob, @bob.x too, @bob again\","
      "\"client_msg_id\":\"m1\",\"reply_to\":%" G_GINT64_FORMAT "}", original);
  reply = natter_test_get_int (r, "message.id");
  natter_assert_int (r, "message.reply_to.id", original);
  natter_assert_str (r, "message.reply_to.from", "bob");
  g_assert_false (natter_test_get_bool (r, "message.reply_to.deleted"));
  g_assert_cmpint (strlen (natter_test_get_str (r, "message.reply_to.body")), ==, 200);
  util_assert_strings (natter_test_get_array (r, "message.mentions"), "bob", "bob.x", NULL);
  {
    /* The protocol-1 member gets the plain form. */
    g_autoptr(JsonObject) ev = natter_test_client_wait_type (plain, "message");
    JsonObject *ev2 = util_wait_message (bob, reply);

    assert_protocol1_message (natter_test_get_object (ev, "message"));
    /* bob is on the other node of a cluster: the quote and the mentions
     * came with the message over the bus. */
    natter_assert_int (ev2, "message.reply_to.id", original);
    natter_assert_str (ev2, "message.reply_to.from", "bob");
    g_assert_cmpint (strlen (natter_test_get_str (ev2, "message.reply_to.body")), ==, 200);
    util_assert_strings (natter_test_get_array (ev2, "message.mentions"), "bob", "bob.x", NULL);
    json_object_unref (ev2);
  }

  /* reply_to errors. */
  {
    g_autoptr(JsonObject) e1 = natter_test_client_request_error (alice, "not_found",
        "{\"type\":\"send\",\"to\":\"#r\",\"body\":\"x\",\"client_msg_id\":\"m2\",\"reply_to\":%" G_GINT64_FORMAT "}",
        other);
    g_autoptr(JsonObject) e2 = natter_test_client_request_error (alice, "invalid_argument",
        "{\"type\":\"send\",\"to\":\"#r\",\"body\":\"x\",\"client_msg_id\":\"m3\",\"reply_to\":-4}");
    g_autoptr(JsonObject) e3 = natter_test_client_request_error (alice, "not_found",
        "{\"type\":\"send\",\"to\":\"#r\",\"body\":\"x\",\"client_msg_id\":\"m4\",\"reply_to\":%" G_GINT64_FORMAT "}",
        reply + 100000);
    /* A protocol-1 sender's reply_to is an unknown field: ignored. */
    g_autoptr(JsonObject) ok = natter_test_client_request_ok (plain,
        "{\"type\":\"send\",\"to\":\"#r\",\"body\":\"x\",\"client_msg_id\":\"m5\",\"reply_to\":\"junk\"}");
  }

  /* The quote follows the original: edited, then deleted. */
  {
    g_autoptr(JsonObject) e = act_ok (bob, NULL, "{\"type\":\"edit\",\"message\":%" G_GINT64_FORMAT ",\"body\":\"short now\"}", original);
    g_autoptr(JsonObject) h = natter_test_client_request_ok (alice,
        "{\"type\":\"history\",\"conversation\":\"#r\",\"before\":%" G_GINT64_FORMAT ",\"limit\":1}", reply + 1);
    g_autoptr(JsonObject) d = act_ok (bob, NULL, "{\"type\":\"delete\",\"message\":%" G_GINT64_FORMAT "}", original);
    g_autoptr(JsonObject) h2 = natter_test_client_request_ok (alice,
        "{\"type\":\"history\",\"conversation\":\"#r\",\"before\":%" G_GINT64_FORMAT ",\"limit\":1}", reply + 1);

    natter_assert_str (h, "messages.0.reply_to.body", "short now");
    natter_assert_str (h2, "messages.0.reply_to.body", "");
    g_assert_true (natter_test_get_bool (h2, "messages.0.reply_to.deleted"));
  }

  /* 50 mentions at most. */
  {
    g_autoptr(GString) body = g_string_new (NULL);
    g_autoptr(JsonObject) s = NULL;

    for (int i = 0; i < 55; i++)
      {
        g_autoptr(NatterTestClient) u = NULL;
        g_autofree char *name = g_strdup_printf ("user%02d", i);

        u = natter_test_client_new_user (srv, name);
        g_string_append_printf (body, "@%s ", name);
      }
    s = natter_test_client_request_ok (alice,
        "{\"type\":\"send\",\"to\":\"#r\",\"body\":\"%s\",\"client_msg_id\":\"many\"}", body->str);
    g_assert_cmpint (json_array_get_length (natter_test_get_array (s, "message.mentions")), ==, 50);
    natter_assert_str (s, "message.mentions.0", "user00");
  }
}

static void
test_notify_level (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) alice = actions_user (srv, "alice");
  g_autoptr(NatterTestClient) alice2 = actions_login (srv, "alice");
  g_autoptr(NatterTestClient) alice_plain = natter_test_client_new_login (srv, "alice");
  g_autoptr(NatterTestClient) bob = actions_user (srv, "bob");
  g_autoptr(JsonObject) r = NULL;
  g_autoptr(JsonObject) ev = NULL;

  util_room_create (bob, "#r");
  r = natter_test_client_request_ok (alice, "{\"type\":\"notify_level\",\"conversation\":\"@bob\",\"level\":\"mentions\"}");
  natter_assert_str (r, "conversation", "@bob");
  natter_assert_str (r, "level", "mentions");
  ev = natter_test_client_wait_type (alice2, "notify_level");
  natter_assert_str (ev, "conversation", "@bob");
  natter_assert_str (ev, "level", "mentions");
  natter_test_client_expect_no_frame_of_type (alice_plain, "notify_level");
  natter_test_client_expect_no_frame_of_type (alice, "notify_level");
  /* The same again: ok, nobody told. */
  g_clear_pointer (&r, json_object_unref);
  r = natter_test_client_request_ok (alice, "{\"type\":\"notify_level\",\"conversation\":\"@bob\",\"level\":\"mentions\"}");
  natter_test_client_expect_no_frame_of_type (alice2, "notify_level");
  {
    g_autoptr(JsonObject) e1 = natter_test_client_request_error (alice, "forbidden",
        "{\"type\":\"notify_level\",\"conversation\":\"#r\",\"level\":\"none\"}");
    g_autoptr(JsonObject) e2 = natter_test_client_request_error (alice, "not_found",
        "{\"type\":\"notify_level\",\"conversation\":\"#nope\",\"level\":\"none\"}");
    g_autoptr(JsonObject) e3 = natter_test_client_request_error (alice, "not_found",
        "{\"type\":\"notify_level\",\"conversation\":\"@nobody\",\"level\":\"none\"}");
    g_autoptr(JsonObject) e4 = natter_test_client_request_error (alice, "invalid_argument",
        "{\"type\":\"notify_level\",\"conversation\":\"@bob\",\"level\":\"some\"}");
  }
  util_room_join (alice, "#r");
  g_clear_pointer (&r, json_object_unref);
  r = natter_test_client_request_ok (alice, "{\"type\":\"notify_level\",\"conversation\":\"#r\",\"level\":\"none\"}");
  {
    g_autoptr(JsonObject) c = natter_test_client_request_ok (alice2, "{\"type\":\"conversations\"}");
    JsonArray *list = natter_test_get_array (c, "conversations");
    guint seen = 0;

    for (guint i = 0; i < json_array_get_length (list); i++)
      {
        JsonObject *entry = json_array_get_object_element (list, i);
        const char *conv = natter_test_get_str (entry, "conversation");

        if (g_str_equal (conv, "#r"))
          natter_assert_str (entry, "notify_level", "none"), seen++;
        if (g_str_equal (conv, "@bob"))
          natter_assert_str (entry, "notify_level", "mentions"), seen++;
      }
    g_assert_cmpuint (seen, ==, 2);
  }
}

static void
test_sync_with_changes (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) alice = actions_user (srv, "alice");
  g_autoptr(NatterTestClient) bob = actions_user (srv, "bob");
  g_autoptr(JsonObject) s = NULL;
  gint64 old, since, m2, c1 = 0, c2 = 0, c3 = 0;

  old = util_send (alice, "@bob", "old one", "s1");
  since = util_send (alice, "@bob", "mark", "s2");
  /* bob is away from here on. */
  {
    g_autoptr(JsonObject) a = act_ok (alice, &c1, "{\"type\":\"edit\",\"message\":%" G_GINT64_FORMAT ",\"body\":\"old, edited\"}", old);
  }
  m2 = util_send (alice, "@bob", "new one", "s3");
  {
    g_autoptr(JsonObject) a = act_ok (alice, &c2, "{\"type\":\"react\",\"message\":%" G_GINT64_FORMAT ",\"emoji\":\"+1\",\"on\":true}", m2);
    g_autoptr(JsonObject) b = act_ok (alice, &c3, "{\"type\":\"delete\",\"message\":%" G_GINT64_FORMAT "}", since);
  }
  g_assert_cmpint (c1, <, m2);
  g_assert_cmpint (m2, <, c2);
  g_assert_cmpint (c2, <, c3);

  s = natter_test_client_request_ok (bob, "{\"type\":\"sync\",\"since\":%" G_GINT64_FORMAT "}", since);
  g_assert_cmpint (json_array_get_length (natter_test_get_array (s, "messages")), ==, 1);
  natter_assert_int (s, "messages.0.id", m2);
  natter_assert_str (s, "messages.0.reactions.0.emoji", "+1");
  g_assert_cmpint (json_array_get_length (natter_test_get_array (s, "changes")), ==, 3);
  natter_assert_int (s, "changes.0.change", c1);
  natter_assert_str (s, "changes.0.kind", "edit");
  natter_assert_int (s, "changes.0.message.id", old);
  natter_assert_str (s, "changes.0.message.body", "old, edited");
  natter_assert_str (s, "changes.1.kind", "reaction");
  natter_assert_str (s, "changes.1.emoji", "+1");
  g_assert_true (natter_test_get_bool (s, "changes.1.on"));
  natter_assert_str (s, "changes.2.kind", "delete");
  g_assert_true (natter_test_get_bool (s, "changes.2.message.deleted"));
  natter_assert_int (s, "last_id", c3);
  g_assert_false (natter_test_get_bool (s, "has_more"));

  /* The limit counts both. */
  {
    g_autoptr(JsonObject) p1 = natter_test_client_request_ok (bob,
        "{\"type\":\"sync\",\"since\":%" G_GINT64_FORMAT ",\"limit\":2}", since);
    g_autoptr(JsonObject) p2 = NULL;

    g_assert_cmpint (json_array_get_length (natter_test_get_array (p1, "messages")), ==, 1);
    g_assert_cmpint (json_array_get_length (natter_test_get_array (p1, "changes")), ==, 1);
    natter_assert_int (p1, "last_id", m2);
    g_assert_true (natter_test_get_bool (p1, "has_more"));
    p2 = natter_test_client_request_ok (bob, "{\"type\":\"sync\",\"since\":%" G_GINT64_FORMAT ",\"limit\":2}", m2);
    g_assert_cmpint (json_array_get_length (natter_test_get_array (p2, "messages")), ==, 0);
    g_assert_cmpint (json_array_get_length (natter_test_get_array (p2, "changes")), ==, 2);
    natter_assert_int (p2, "last_id", c3);
    g_assert_false (natter_test_get_bool (p2, "has_more"));
  }
  /* A protocol-1 sync: no changes, last_id counts messages only; the
   * edited one has its new body, the deleted one is left out. */
  {
    g_autoptr(NatterTestClient) plain = natter_test_client_new_login (srv, "bob");
    g_autoptr(JsonObject) p = natter_test_client_request_ok (plain, "{\"type\":\"sync\"}");

    g_assert_false (json_object_has_member (p, "changes"));
    g_assert_cmpint (json_array_get_length (natter_test_get_array (p, "messages")), ==, 2);
    natter_assert_str (p, "messages.0.body", "old, edited");
    natter_assert_int (p, "last_id", m2);
  }
}

static void
test_search_erased (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) alice = actions_user (srv, "alice");
  g_autoptr(NatterTestClient) bob = actions_user (srv, "bob");
  gint64 edited, deleted, kept;

  edited = util_send (alice, "@bob", "pineapple pizza", "q1");
  deleted = util_send (alice, "@bob", "pineapple secret", "q2");
  kept = util_send (alice, "@bob", "pineapple kept", "q3");
  /* Indexed first, then changed: the index must forget the old words. */
  {
    g_autoptr(JsonObject) s = natter_test_client_request_ok (bob, "{\"type\":\"search\",\"query\":\"pineapple\"}");
    g_assert_cmpint (json_array_get_length (natter_test_get_array (s, "messages")), ==, 3);
  }
  {
    g_autoptr(JsonObject) a = act_ok (alice, NULL, "{\"type\":\"edit\",\"message\":%" G_GINT64_FORMAT ",\"body\":\"mango salad\"}", edited);
    g_autoptr(JsonObject) b = act_ok (alice, NULL, "{\"type\":\"delete\",\"message\":%" G_GINT64_FORMAT "}", deleted);
  }
  for (int round = 0; round < 2; round++)
    {
      g_autoptr(JsonObject) s1 = natter_test_client_request_ok (bob, "{\"type\":\"search\",\"query\":\"pineapple\"}");
      g_autoptr(JsonObject) s2 = natter_test_client_request_ok (bob, "{\"type\":\"search\",\"query\":\"pizza\"}");
      g_autoptr(JsonObject) s3 = natter_test_client_request_ok (bob, "{\"type\":\"search\",\"query\":\"mango\"}");
      g_autoptr(JsonObject) s4 = natter_test_client_request_ok (bob, "{\"type\":\"search\",\"query\":\"secret\"}");

      g_assert_cmpint (json_array_get_length (natter_test_get_array (s1, "messages")), ==, 1);
      natter_assert_int (s1, "messages.0.id", kept);
      g_assert_cmpint (json_array_get_length (natter_test_get_array (s2, "messages")), ==, 0);
      g_assert_cmpint (json_array_get_length (natter_test_get_array (s3, "messages")), ==, 1);
      g_assert_cmpint (json_array_get_length (natter_test_get_array (s4, "messages")), ==, 0);
      if (round == 0)
        {
          /* And after a restart. */
          natter_test_server_restart (srv);
          g_clear_pointer (&bob, natter_test_client_free);
          g_clear_pointer (&alice, natter_test_client_free);
          bob = actions_login (srv, "bob");
          alice = actions_login (srv, "alice");
        }
    }
  /* Edited twice, the second edit's words only. */
  {
    g_autoptr(JsonObject) a = act_ok (alice, NULL, "{\"type\":\"edit\",\"message\":%" G_GINT64_FORMAT ",\"body\":\"kiwi tart\"}", edited);
    g_autoptr(JsonObject) s = natter_test_client_request_ok (bob, "{\"type\":\"search\",\"query\":\"mango\"}");
    g_autoptr(JsonObject) k = natter_test_client_request_ok (bob, "{\"type\":\"search\",\"query\":\"kiwi\"}");

    g_assert_cmpint (json_array_get_length (natter_test_get_array (s, "messages")), ==, 0);
    g_assert_cmpint (json_array_get_length (natter_test_get_array (k, "messages")), ==, 1);
  }
}

static void
test_restart_durable (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) alice = actions_user (srv, "alice");
  g_autoptr(NatterTestClient) bob = actions_user (srv, "bob");
  g_autoptr(JsonObject) h = NULL;
  gint64 id, c = 0;

  id = util_send (alice, "@bob", "before", "d1");
  {
    g_autoptr(JsonObject) a = act_ok (alice, NULL, "{\"type\":\"edit\",\"message\":%" G_GINT64_FORMAT ",\"body\":\"after\"}", id);
    g_autoptr(JsonObject) b = act_ok (bob, &c, "{\"type\":\"react\",\"message\":%" G_GINT64_FORMAT ",\"emoji\":\"ok\",\"on\":true}", id);
  }
  natter_test_server_restart (srv);
  g_clear_pointer (&bob, natter_test_client_free);
  g_clear_pointer (&alice, natter_test_client_free);
  bob = actions_login (srv, "bob");
  alice = actions_login (srv, "alice");
  h = natter_test_client_request_ok (bob, "{\"type\":\"history\",\"conversation\":\"@alice\"}");
  natter_assert_str (h, "messages.0.body", "after");
  natter_assert_str (h, "messages.0.reactions.0.users.0", "bob");
  /* Ids go on above every message and change. */
  g_assert_cmpint (util_send (alice, "@bob", "next", "d2"), >, c);
}

static void
test_rate_limit (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start ("[limits]\nmessages_per_minute_per_user=3\n", NULL);
  g_autoptr(NatterTestClient) alice = actions_user (srv, "alice");
  gint64 id = util_send (alice, "@alice", "note", "n1");

  for (int i = 0; i < 2; i++)
    {
      g_autoptr(JsonObject) r = act_ok (alice, NULL,
          "{\"type\":\"edit\",\"message\":%" G_GINT64_FORMAT ",\"body\":\"note %d\"}", id, i);
    }
  {
    g_autoptr(JsonObject) e = natter_test_client_request_error (alice, "rate_limited",
        "{\"type\":\"edit\",\"message\":%" G_GINT64_FORMAT ",\"body\":\"one more\"}", id);
    g_assert_cmpint (natter_test_get_int (e, "retry_after"), >, 0);
  }
}

/* A resend of a reply pipelined right behind its original: on PostgreSQL
 * the two may land in one batch of the writer, and the resend is answered
 * with the original from that batch. Its quote must be there as in the
 * original's answer (it came back empty). A resend that names the reply
 * again makes the writer read the original, which writes the batch's
 * queued inserts first; one without reply_to (it answers the original
 * whatever its reply_to) does not, so the pairs here leave it out. Pairs
 * of sends in one write, so that some pairs share a batch whatever the
 * writer's timing. */
static void
test_resend_same_batch_quote (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (UTIL_RELAXED_LIMITS, NULL);
  g_autoptr(NatterTestClient) alice = actions_user (srv, "alice");
  g_autoptr(GString) frames = g_string_new (NULL);
  gint64 original = util_send (alice, "@alice", "the original line\nand more", "o1");

  for (int i = 0; i < 20; i++)
    {
      g_string_append_printf (frames, "{\"type\":\"send\",\"id\":\"p%d\",\"to\":\"@alice\",\"body\":\"re %d\","
                              "\"client_msg_id\":\"r%d\",\"reply_to\":%" G_GINT64_FORMAT "}\n",
                              i, i, i, original);
      g_string_append_printf (frames, "{\"type\":\"send\",\"id\":\"q%d\",\"to\":\"@alice\",\"body\":\"re %d\","
                              "\"client_msg_id\":\"r%d\"}\n", i, i, i);
    }
  g_string_truncate (frames, frames->len - 1);
  natter_test_client_send (alice, frames->str);
  for (int i = 0; i < 40; i++)
    {
      g_autoptr(JsonObject) r = natter_test_client_wait_type (alice, "ok");

      natter_assert_int (r, "message.reply_to.id", original);
      natter_assert_str (r, "message.reply_to.from", "alice");
      natter_assert_str (r, "message.reply_to.body", "the original line");
    }
}

int
main (int   argc,
      char *argv[])
{
  natter_test_init (&argc, &argv);
  natter_test_add ("/actions/features", test_features);
  natter_test_add ("/actions/features-login", test_features_login);
  natter_test_add ("/actions/edit", test_edit);
  natter_test_add ("/actions/delete", test_delete);
  natter_test_add ("/actions/react", test_react);
  natter_test_add ("/actions/reply-and-mentions", test_reply_and_mentions);
  natter_test_add ("/actions/notify-level", test_notify_level);
  natter_test_add ("/actions/sync-with-changes", test_sync_with_changes);
  natter_test_add_single_node ("/actions/search-erased", test_search_erased, "restarts its natterd");
  natter_test_add_single_node ("/actions/restart-durable", test_restart_durable, "restarts its natterd");
  natter_test_add ("/actions/rate-limit", test_rate_limit);
  natter_test_add ("/actions/resend-same-batch-quote", test_resend_same_batch_quote);
  return g_test_run ();
}
