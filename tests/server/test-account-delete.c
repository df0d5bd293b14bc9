/* test-account-delete.c: account_delete (feature accounts, docs/protocol.md
 * "account_delete"): the password checked, every connection of the account
 * closed, what its contacts and rooms see, its messages kept in the
 * others' history under a deleted user, its username never given again,
 * its login answered as an unknown name's, all of it across a restart.
 */
#define G_LOG_DOMAIN "natter-test"

#include <string.h>

#include "server-test-util.h"

#define NOT_ON_A_CLUSTER "a server of several nodes does not offer accounts yet"
#define DELETE_OK "{\"type\":\"account_delete\",\"password\":\"" NATTER_TEST_PASSWORD "\"}"

/* register or login with accounts and room_management. */
static NatterTestClient *
both_features (NatterTestServer *srv,
               const char       *type,
               const char       *username,
               char            **out_token)
{
  NatterTestClient *c = natter_test_client_new (srv);
  g_autoptr(JsonObject) r = natter_test_client_request_ok (c,
      "{\"type\":\"%s\",\"username\":\"%s\",\"password\":\"%s\","
      "\"features\":[\"accounts\",\"room_management\"]}",
      type, username, NATTER_TEST_PASSWORD);

  util_assert_strings (natter_test_get_array (r, "features"), "accounts", "room_management", NULL);
  if (out_token != NULL)
    *out_token = g_strdup (natter_test_get_str (r, "token"));
  return c;
}

static gboolean
has_string (JsonArray  *names,
            const char *name)
{
  for (guint i = 0; i < json_array_get_length (names); i++)
    if (g_strcmp0 (json_array_get_string_element (names, i), name) == 0)
      return TRUE;
  return FALSE;
}

static void
fails (NatterTestClient *c,
       const char       *code,
       const char       *json)
{
  g_autoptr(JsonObject) r = natter_test_client_request (c, json);

  natter_assert_error (r, code);
}

/* A login on a new connection: its reply. */
static JsonObject *
try_login (NatterTestServer *srv,
           const char       *username,
           const char       *password)
{
  g_autoptr(NatterTestClient) c = natter_test_client_new (srv);

  return natter_test_client_requestf (c, "{\"type\":\"login\",\"username\":\"%s\",\"password\":\"%s\"}",
                                      username, password);
}

/* A deleted account logs in as a name nobody has: the same error, the
 * same message. */
static void
assert_login_as_unknown (NatterTestServer *srv,
                         const char       *username)
{
  g_autoptr(JsonObject) deleted = try_login (srv, username, NATTER_TEST_PASSWORD);
  g_autoptr(JsonObject) unknown = try_login (srv, "nobody_at_all", NATTER_TEST_PASSWORD);

  natter_assert_error (deleted, "auth_failed");
  natter_assert_error (unknown, "auth_failed");
  g_assert_cmpstr (natter_test_get_str (deleted, "message"), ==, natter_test_get_str (unknown, "message"));
}

static void
assert_username_taken (NatterTestServer *srv,
                       const char       *username)
{
  g_autoptr(NatterTestClient) c = natter_test_client_new (srv);
  g_autoptr(JsonObject) r = natter_test_client_requestf (c,
      "{\"type\":\"register\",\"username\":\"%s\",\"password\":\"another password\"}", username);

  natter_assert_error (r, "username_taken");
}

/* @viewer's user_info of a deleted @username. */
static void
assert_deleted_user (NatterTestClient *viewer,
                     const char       *username)
{
  g_autoptr(JsonObject) info = natter_test_client_request_ok (viewer,
      "{\"type\":\"user_info\",\"username\":\"%s\"}", username);

  natter_assert_str (info, "user.username", username);
  natter_assert_str (info, "user.display_name", username);
  g_assert_true (natter_test_get_bool (info, "user.deleted"));
  natter_assert_str (info, "user.presence", "offline");
  g_assert_true (natter_test_is_null (info, "user.status_text"));
}

static void
test_arguments (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) alice = util_feature_user (srv, "alice", "accounts");
  g_autoptr(NatterTestClient) plain = natter_test_client_new_login (srv, "alice");

  fails (alice, "invalid_argument", "{\"type\":\"account_delete\"}");
  fails (alice, "invalid_argument", "{\"type\":\"account_delete\",\"password\":7}");
  fails (alice, "auth_failed", "{\"type\":\"account_delete\",\"password\":\"wrong wrong wrong\"}");
  /* Without the feature, no such request. */
  fails (plain, "unknown_type", DELETE_OK);
  /* Nothing happened: the account is as it was. */
  {
    g_autoptr(JsonObject) info = natter_test_client_request_ok (alice,
        "{\"type\":\"user_info\",\"username\":\"alice\"}");
    g_autoptr(JsonObject) login = try_login (srv, "alice", NATTER_TEST_PASSWORD);

    g_assert_false (json_object_has_member (natter_test_get_object (info, "user"), "deleted"));
    natter_assert_ok (login);
  }
}

/* A wrong password counts as a failed login, as password_change's does. */
static void
test_rate_limit (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (
      "[limits]\nfailed_logins_per_minute_per_user=2\n", NULL);
  g_autoptr(NatterTestClient) alice = util_feature_user (srv, "alice", "accounts");
  g_autoptr(JsonObject) limited = NULL;
  static const char wrong[] = "{\"type\":\"account_delete\",\"password\":\"wrong wrong wrong\"}";

  fails (alice, "auth_failed", wrong);
  fails (alice, "auth_failed", wrong);
  limited = natter_test_client_request (alice, DELETE_OK);
  natter_assert_error (limited, "rate_limited");
  g_assert_cmpint (natter_test_get_int (limited, "retry_after"), >, 0);
  natter_test_client_sync_ping (alice);
}

/* The asking connection has its ok, then it and every other connection
 * of the account are closed; no token logs in any more. */
static void
test_closes_connections (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autofree char *token = NULL, *laptop_token = NULL;
  g_autoptr(NatterTestClient) alice = both_features (srv, "register", "alice", &token);
  g_autoptr(NatterTestClient) laptop = both_features (srv, "login", "alice", &laptop_token);
  g_autoptr(NatterTestClient) plain = natter_test_client_new (srv);
  g_autoptr(JsonObject) r = NULL;

  natter_test_client_login_token (plain, token);
  r = natter_test_client_request_ok (alice, DELETE_OK);
  natter_assert_int (r, "sessions_revoked", 2);
  natter_test_client_assert_closed (alice);
  natter_test_client_assert_closed (laptop);
  natter_test_client_assert_closed (plain);
  {
    g_autoptr(NatterTestClient) c = natter_test_client_new (srv);
    g_autoptr(JsonObject) t = natter_test_client_requestf (c, "{\"type\":\"login\",\"token\":\"%s\"}",
                                                           laptop_token);

    natter_assert_error (t, "auth_failed");
  }
  assert_login_as_unknown (srv, "alice");
  assert_username_taken (srv, "alice");
  assert_username_taken (srv, "ALICE");
}

/* Contacts, rooms and invitations: who is told what. */
static void
test_others_told (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) bob = both_features (srv, "register", "bob", NULL);
  g_autoptr(NatterTestClient) carol = both_features (srv, "register", "carol", NULL);
  g_autoptr(NatterTestClient) dave = natter_test_client_new_user (srv, "dave");   /* protocol 1 */
  g_autoptr(NatterTestClient) erin = both_features (srv, "register", "erin", NULL);
  g_autoptr(NatterTestClient) alice = both_features (srv, "register", "alice", NULL);
  g_autoptr(JsonObject) r = NULL;

  /* (util_make_contacts needs the helpers' own logins.) */
  {
    g_autoptr(JsonObject) asked = natter_test_client_request_ok (alice,
        "{\"type\":\"contact_request\",\"username\":\"bob\"}");
    g_autoptr(JsonObject) accepted = natter_test_client_request_ok (bob,
        "{\"type\":\"contact_accept\",\"username\":\"alice\"}");
  }
  /* alice asked erin, who has not answered: erin's request goes too. */
  {
    g_autoptr(JsonObject) asked = natter_test_client_request_ok (alice,
        "{\"type\":\"contact_request\",\"username\":\"erin\"}");
    g_autoptr(JsonObject) told = natter_test_client_wait_type (erin, "contact_request");
  }
  /* #owned: alice's, with bob (the oldest account) and carol (an admin,
   * so the heir) and dave. */
  util_room_create (alice, "#owned");
  util_room_join (bob, "#owned");
  util_room_join (carol, "#owned");
  util_room_join (dave, "#owned");
  {
    g_autoptr(JsonObject) made = natter_test_client_request_ok (alice,
        "{\"type\":\"room_role\",\"room\":\"#owned\",\"username\":\"carol\",\"role\":\"admin\"}");
  }
  /* #plain: alice's, with bob only: he has it. */
  util_room_create (alice, "#plain");
  util_room_join (bob, "#plain");
  /* #solo: alice's alone: deleted. */
  util_room_create (alice, "#solo");
  /* #bobs: bob's, alice a member; a private room alice invited erin to,
   * and one erin invited alice to. */
  util_room_create (bob, "#bobs");
  util_room_join (alice, "#bobs");
  {
    g_autoptr(JsonObject) a = natter_test_client_request_ok (bob,
        "{\"type\":\"room_create\",\"room\":\"#hidden\",\"private\":true}");
    g_autoptr(JsonObject) b = natter_test_client_request_ok (bob,
        "{\"type\":\"room_invite\",\"room\":\"#hidden\",\"username\":\"alice\"}");
    g_autoptr(JsonObject) c = natter_test_client_request_ok (bob,
        "{\"type\":\"room_role\",\"room\":\"#bobs\",\"username\":\"alice\",\"role\":\"admin\"}");
  }
  natter_test_client_sync_ping (alice);
  natter_test_client_clear_queue (alice);
  natter_test_client_sync_ping (bob);
  natter_test_client_clear_queue (bob);
  natter_test_client_sync_ping (carol);
  natter_test_client_clear_queue (carol);
  natter_test_client_sync_ping (dave);
  natter_test_client_clear_queue (dave);
  natter_test_client_sync_ping (erin);
  natter_test_client_clear_queue (erin);

  r = natter_test_client_request_ok (alice, DELETE_OK);
  natter_test_client_assert_closed (alice);

  /* The contact, and the one alice had asked, are told as by contact_remove. */
  {
    g_autoptr(JsonObject) e = natter_test_client_wait_type (bob, "contact");
    g_autoptr(JsonObject) e2 = natter_test_client_wait_type (erin, "contact");

    natter_assert_str (e, "change", "removed");
    natter_assert_str (e, "user.username", "alice");
    g_assert_true (natter_test_get_bool (e, "user.deleted"));
    natter_assert_str (e2, "change", "removed");
  }
  {
    g_autoptr(JsonObject) contacts = natter_test_client_request_ok (bob, "{\"type\":\"contacts\"}");

    g_assert_null (util_find_user (natter_test_get_array (contacts, "contacts"), "alice"));
  }
  /* #owned: carol, the admin, owns it now; everyone saw alice leave. */
  {
    g_autoptr(JsonObject) left = natter_test_client_wait_type (dave, "room_member");
    g_autoptr(JsonObject) members = natter_test_client_request_ok (carol,
        "{\"type\":\"room_members\",\"room\":\"#owned\"}");
    g_autoptr(JsonObject) rooms = natter_test_client_request_ok (carol, "{\"type\":\"rooms\"}");
    JsonArray *list = natter_test_get_array (rooms, "rooms");
    gboolean seen = FALSE;

    natter_assert_str (left, "change", "left");
    natter_assert_str (left, "user.username", "alice");
    g_assert_null (util_find_user (natter_test_get_array (members, "members"), "alice"));
    for (guint i = 0; i < json_array_get_length (list); i++)
      {
        JsonObject *room = json_array_get_object_element (list, i);

        if (g_str_equal (natter_test_get_str (room, "room"), "#owned"))
          {
            natter_assert_str (room, "owner", "carol");
            g_assert_false (has_string (natter_test_get_array (room, "admins"), "carol"));
            seen = TRUE;
          }
        if (g_str_equal (natter_test_get_str (room, "room"), "#bobs"))
          g_assert_false (has_string (natter_test_get_array (room, "admins"), "alice"));
      }
    g_assert_true (seen);
  }
  {
    gboolean owned = FALSE, plain = FALSE;

    /* bob (with the feature) sees each room change hands, by null. */
    for (int i = 0; i < 2; i++)
      {
        g_autoptr(JsonObject) e = natter_test_client_wait_type (bob, "room_updated");

        g_assert_true (natter_test_is_null (e, "by"));
        if (g_str_equal (natter_test_get_str (e, "room.room"), "#owned"))
          {
            natter_assert_str (e, "room.owner", "carol");
            owned = TRUE;
          }
        else
          {
            natter_assert_str (e, "room.room", "#plain");
            natter_assert_str (e, "room.owner", "bob");
            plain = TRUE;
          }
      }
    g_assert_true (owned && plain);
  }
  /* #solo is gone; #bobs stays bob's, without alice; the invitation went. */
  fails (bob, "not_found", "{\"type\":\"room_join\",\"room\":\"#solo\"}");
  {
    g_autoptr(JsonObject) members = natter_test_client_request_ok (bob,
        "{\"type\":\"room_members\",\"room\":\"#bobs\"}");
    g_autoptr(JsonObject) invited = natter_test_client_request_ok (bob,
        "{\"type\":\"room_invited\",\"room\":\"#hidden\"}");

    util_assert_usernames (natter_test_get_array (members, "members"), "bob", NULL);
    g_assert_cmpuint (json_array_get_length (natter_test_get_array (invited, "invitations")), ==, 0);
  }
  /* A deleted account is not someone to ask or invite. */
  fails (bob, "not_found", "{\"type\":\"contact_request\",\"username\":\"alice\"}");
  fails (bob, "not_found", "{\"type\":\"room_invite\",\"room\":\"#hidden\",\"username\":\"alice\"}");
}

/* Their messages stay in the others' history, from a deleted account. */
static void
test_messages_kept (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) bob = natter_test_client_new_user (srv, "bob");
  g_autoptr(NatterTestClient) alice = util_feature_user (srv, "alice", "accounts");
  g_autoptr(JsonObject) r = NULL;
  gint64 direct, in_room;

  util_room_create (bob, "#general");
  util_room_join (alice, "#general");
  direct = util_send (alice, "@bob", "hello bob", "m1");
  in_room = util_send (alice, "#general", "hello room", "m2");
  r = natter_test_client_request_ok (alice, DELETE_OK);
  natter_test_client_assert_closed (alice);

  for (int round = 0; round < 2; round++)
    {
      g_autoptr(JsonObject) h1 = natter_test_client_request_ok (bob,
          "{\"type\":\"history\",\"conversation\":\"@alice\"}");
      g_autoptr(JsonObject) h2 = natter_test_client_request_ok (bob,
          "{\"type\":\"history\",\"conversation\":\"#general\"}");
      JsonArray *m1 = natter_test_get_array (h1, "messages");
      JsonArray *m2 = natter_test_get_array (h2, "messages");

      g_assert_cmpuint (json_array_get_length (m1), ==, 1);
      g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (m1, 0), "id"), ==, direct);
      g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (m1, 0), "from"), ==, "alice");
      g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (m2, 0), "id"), ==, in_room);
      assert_deleted_user (bob, "alice");
      /* Nobody writes to a deleted account. */
      fails (bob, "not_found", "{\"type\":\"send\",\"to\":\"@alice\",\"body\":\"hi?\",\"client_msg_id\":\"x\"}");
      if (round == 1)
        break;
      /* The same after a restart: it is all in the database. */
      g_clear_pointer (&bob, natter_test_client_free);
      natter_test_server_restart (srv);
      bob = natter_test_client_new_login (srv, "bob");
      assert_login_as_unknown (srv, "alice");
      assert_username_taken (srv, "alice");
    }
}

int
main (int   argc,
      char *argv[])
{
  natter_test_init (&argc, &argv);
  natter_test_add_single_node ("/account-delete/arguments", test_arguments, NOT_ON_A_CLUSTER);
  natter_test_add_single_node ("/account-delete/rate-limit", test_rate_limit, NOT_ON_A_CLUSTER);
  natter_test_add_single_node ("/account-delete/closes-connections", test_closes_connections, NOT_ON_A_CLUSTER);
  natter_test_add_single_node ("/account-delete/others-told", test_others_told, NOT_ON_A_CLUSTER);
  natter_test_add_single_node ("/account-delete/messages-kept", test_messages_kept, "restarts its natterd");
  return g_test_run ();
}
