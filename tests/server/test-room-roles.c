/* test-room-roles.c: the feature room_management (docs/protocol.md, "Room
 * management"): roles and who may do what, private rooms, invitations,
 * kicks, bans, ownership, deleting a room, what a protocol-1 connection
 * sees, and all of it across a restart.
 */
#define G_LOG_DOMAIN "natter-test"

#include <string.h>

#include "server-test-util.h"

#define FEATURES "\"features\":[\"room_management\"]"

static NatterTestClient *
rm_user (NatterTestServer *srv,
         const char       *username)
{
  return util_feature_user (srv, username, "room_management");
}

static NatterTestClient *
rm_login (NatterTestServer *srv,
          const char       *username)
{
  return util_feature_login (srv, username, "room_management");
}

/* Drops every frame the server sent @c so far. */
static void
drain (NatterTestClient *c)
{
  natter_test_client_sync_ping (c);
  natter_test_client_clear_queue (c);
}

static void
ok (NatterTestClient *c,
    const char       *json)
{
  g_autoptr(JsonObject) r = natter_test_client_request (c, json);

  natter_assert_ok (r);
}

static void
fails (NatterTestClient *c,
       const char       *code,
       const char       *json)
{
  g_autoptr(JsonObject) r = natter_test_client_request (c, json);

  natter_assert_error (r, code);
}

/* The role room_members gives @username in @room, as @c sees it. */
static char *
role_of (NatterTestClient *c,
         const char       *room,
         const char       *username)
{
  g_autoptr(JsonObject) r = natter_test_client_request_ok (c,
      "{\"type\":\"room_members\",\"room\":\"%s\"}", room);
  JsonObject *user = util_find_user (natter_test_get_array (r, "members"), username);

  return user != NULL ? g_strdup (natter_test_get_str (user, "role")) : NULL;
}

/* Whether the answer to @type ("rooms" or "room_directory") lists @room. */
static gboolean
lists_room (NatterTestClient *c,
            const char       *type,
            const char       *room)
{
  g_autoptr(JsonObject) r = natter_test_client_request_ok (c, "{\"type\":\"%s\"}", type);
  JsonArray *rooms = natter_test_get_array (r, "rooms");

  for (guint i = 0; i < json_array_get_length (rooms); i++)
    if (g_str_equal (natter_test_get_str (json_array_get_object_element (rooms, i), "room"), room))
      return TRUE;
  return FALSE;
}

static void
assert_management_room (JsonObject *room)
{
  g_assert_true (json_object_has_member (room, "display_name"));
  g_assert_true (json_object_has_member (room, "private"));
  g_assert_true (json_object_has_member (room, "admins"));
}

static void
assert_protocol1_room (JsonObject *room)
{
  g_assert_false (json_object_has_member (room, "display_name"));
  g_assert_false (json_object_has_member (room, "private"));
  g_assert_false (json_object_has_member (room, "admins"));
}

static void
test_features (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) plain = natter_test_client_new_user (srv, "alice");
  g_autoptr(NatterTestClient) bob = rm_user (srv, "bob");
  static const char *const requests[] = {
    "{\"type\":\"room_update\",\"room\":\"#x\",\"private\":true}",
    "{\"type\":\"room_role\",\"room\":\"#x\",\"username\":\"bob\",\"role\":\"admin\"}",
    "{\"type\":\"room_transfer\",\"room\":\"#x\",\"username\":\"bob\"}",
    "{\"type\":\"room_invite\",\"room\":\"#x\",\"username\":\"bob\"}",
    "{\"type\":\"room_uninvite\",\"room\":\"#x\",\"username\":\"bob\"}",
    "{\"type\":\"room_invitations\"}",
    "{\"type\":\"room_invited\",\"room\":\"#x\"}",
    "{\"type\":\"room_decline\",\"room\":\"#x\"}",
    "{\"type\":\"room_kick\",\"room\":\"#x\",\"username\":\"bob\"}",
    "{\"type\":\"room_ban\",\"room\":\"#x\",\"username\":\"bob\"}",
    "{\"type\":\"room_unban\",\"room\":\"#x\",\"username\":\"bob\"}",
    "{\"type\":\"room_bans\",\"room\":\"#x\"}",
    "{\"type\":\"room_delete\",\"room\":\"#x\"}",
  };

  /* A cluster does not offer accounts yet (test-accounts). */
  if (natter_test_cluster_size () > 1)
    util_assert_strings (natter_test_get_array (natter_test_client_get_welcome (plain), "features"),
                         "message_actions", "room_management", NULL);
  else
    util_assert_strings (natter_test_get_array (natter_test_client_get_welcome (plain), "features"),
                         "message_actions", "room_management", "accounts", NULL);
  for (guint i = 0; i < G_N_ELEMENTS (requests); i++)
    fails (plain, "unknown_type", requests[i]);

  /* The room object in its two forms; private is ignored in protocol 1. */
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (plain,
        "{\"type\":\"room_create\",\"room\":\"#old\",\"private\":true}");

    assert_protocol1_room (natter_test_get_object (r, "room"));
    g_assert_true (lists_room (bob, "room_directory", "#old"));
  }
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (bob,
        "{\"type\":\"room_create\",\"room\":\"#new\"}");
    JsonObject *room = natter_test_get_object (r, "room");

    assert_management_room (room);
    g_assert_false (natter_test_get_bool (room, "private"));
    g_assert_true (natter_test_is_null (room, "display_name"));
    util_assert_strings (natter_test_get_array (room, "admins"), NULL);
  }
  fails (bob, "invalid_argument", "{\"type\":\"room_create\",\"room\":\"#bad\",\"private\":1}");
  {
    g_autofree char *role = role_of (bob, "#new", "bob");
    g_autoptr(JsonObject) r = natter_test_client_request_ok (plain, "{\"type\":\"room_join\",\"room\":\"#new\"}");
    g_autoptr(JsonObject) m = natter_test_client_request_ok (plain,
        "{\"type\":\"room_members\",\"room\":\"#new\"}");

    g_assert_cmpstr (role, ==, "owner");
    assert_protocol1_room (natter_test_get_object (r, "room"));
    g_assert_false (json_object_has_member (util_find_user (natter_test_get_array (m, "members"), "bob"),
                                            "role"));
  }
}

/* Who may make admins, and what an admin may do. */
static void
test_roles (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) alice = rm_user (srv, "alice");
  g_autoptr(NatterTestClient) bob = rm_user (srv, "bob");
  g_autoptr(NatterTestClient) carol = rm_user (srv, "carol");
  g_autoptr(NatterTestClient) dave = rm_user (srv, "dave");

  util_room_create (alice, "#club");
  util_room_join (bob, "#club");
  util_room_join (carol, "#club");
  drain (alice);
  drain (bob);

  /* Only the owner makes admins. */
  fails (bob, "forbidden", "{\"type\":\"room_role\",\"room\":\"#club\",\"username\":\"carol\",\"role\":\"admin\"}");
  fails (dave, "forbidden", "{\"type\":\"room_role\",\"room\":\"#club\",\"username\":\"carol\",\"role\":\"admin\"}");
  fails (alice, "invalid_argument", "{\"type\":\"room_role\",\"room\":\"#club\",\"username\":\"bob\",\"role\":\"owner\"}");
  fails (alice, "invalid_argument", "{\"type\":\"room_role\",\"room\":\"#club\",\"username\":\"alice\",\"role\":\"member\"}");
  fails (alice, "not_found", "{\"type\":\"room_role\",\"room\":\"#club\",\"username\":\"dave\",\"role\":\"admin\"}");
  fails (alice, "not_found", "{\"type\":\"room_role\",\"room\":\"#club\",\"username\":\"nobody\",\"role\":\"admin\"}");
  fails (alice, "invalid_argument", "{\"type\":\"room_role\",\"room\":\"#club\",\"username\":\"B!\",\"role\":\"admin\"}");
  fails (alice, "not_found", "{\"type\":\"room_role\",\"room\":\"#nowhere\",\"username\":\"bob\",\"role\":\"admin\"}");

  ok (alice, "{\"type\":\"room_role\",\"room\":\"#club\",\"username\":\"bob\",\"role\":\"admin\"}");
  {
    g_autoptr(JsonObject) e = natter_test_client_wait_type (carol, "room_role");
    g_autofree char *role = role_of (carol, "#club", "bob");

    natter_assert_str (e, "room", "#club");
    natter_assert_str (e, "user", "bob");
    natter_assert_str (e, "role", "admin");
    natter_assert_str (e, "by", "alice");
    g_assert_cmpstr (role, ==, "admin");
  }
  natter_test_client_expect_no_frame_of_type (alice, "room_role");
  /* The same role again tells nobody. */
  ok (alice, "{\"type\":\"room_role\",\"room\":\"#club\",\"username\":\"bob\",\"role\":\"admin\"}");
  natter_test_client_expect_no_frame_of_type (carol, "room_role");
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (carol, "{\"type\":\"rooms\"}");

    util_assert_strings (natter_test_get_array (r, "rooms.0.admins"), "bob", NULL);
  }

  /* An admin: topic, name, privacy, lists; not roles, transfer or delete. */
  ok (bob, "{\"type\":\"room_topic\",\"room\":\"#club\",\"topic\":\"by an admin\"}");
  ok (bob, "{\"type\":\"room_update\",\"room\":\"#club\",\"display_name\":\"The Club\"}");
  ok (bob, "{\"type\":\"room_bans\",\"room\":\"#club\"}");
  ok (bob, "{\"type\":\"room_invited\",\"room\":\"#club\"}");
  fails (bob, "forbidden", "{\"type\":\"room_role\",\"room\":\"#club\",\"username\":\"carol\",\"role\":\"admin\"}");
  fails (bob, "forbidden", "{\"type\":\"room_transfer\",\"room\":\"#club\",\"username\":\"bob\"}");
  fails (bob, "forbidden", "{\"type\":\"room_delete\",\"room\":\"#club\"}");
  /* A member: nothing. */
  fails (carol, "forbidden", "{\"type\":\"room_topic\",\"room\":\"#club\",\"topic\":\"x\"}");
  fails (carol, "forbidden", "{\"type\":\"room_update\",\"room\":\"#club\",\"private\":true}");
  fails (carol, "forbidden", "{\"type\":\"room_bans\",\"room\":\"#club\"}");
  fails (carol, "forbidden", "{\"type\":\"room_invited\",\"room\":\"#club\"}");
  fails (carol, "forbidden", "{\"type\":\"room_invite\",\"room\":\"#club\",\"username\":\"dave\"}");
  fails (carol, "forbidden", "{\"type\":\"room_kick\",\"room\":\"#club\",\"username\":\"bob\"}");
  fails (carol, "forbidden", "{\"type\":\"room_ban\",\"room\":\"#club\",\"username\":\"dave\"}");

  /* room_update's arguments. */
  fails (bob, "invalid_argument", "{\"type\":\"room_update\",\"room\":\"#club\"}");
  fails (bob, "invalid_argument", "{\"type\":\"room_update\",\"room\":\"#club\",\"private\":\"yes\"}");
  {
    g_autofree char *long_name = util_repeat ('n', 65);
    g_autofree char *json = g_strdup_printf ("{\"type\":\"room_update\",\"room\":\"#club\",\"display_name\":\"%s\"}",
                                             long_name);

    fails (bob, "invalid_argument", json);
  }
  {
    g_autoptr(JsonObject) e = NULL;
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice,
        "{\"type\":\"room_update\",\"room\":\"#club\",\"display_name\":\"\"}");

    g_assert_true (natter_test_is_null (r, "room.display_name"));
    e = natter_test_client_wait_type (carol, "room_updated");
    drain (carol);
  }

  /* Leaving drops the role. */
  ok (bob, "{\"type\":\"room_leave\",\"room\":\"#club\"}");
  util_room_join (bob, "#club");
  {
    g_autofree char *role = role_of (carol, "#club", "bob");

    g_assert_cmpstr (role, ==, "member");
  }
  ok (alice, "{\"type\":\"room_role\",\"room\":\"#club\",\"username\":\"bob\",\"role\":\"admin\"}");
  ok (alice, "{\"type\":\"room_role\",\"room\":\"#club\",\"username\":\"bob\",\"role\":\"member\"}");
  {
    g_autofree char *role = role_of (carol, "#club", "bob");

    g_assert_cmpstr (role, ==, "member");
  }
}

/* Who may kick whom. */
static void
test_kick (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) alice = rm_user (srv, "alice");
  g_autoptr(NatterTestClient) bob = rm_user (srv, "bob");
  g_autoptr(NatterTestClient) carol = rm_user (srv, "carol");
  g_autoptr(NatterTestClient) dave = rm_user (srv, "dave");
  g_autoptr(NatterTestClient) dave_old = natter_test_client_new_login (srv, "dave");
  g_autoptr(NatterTestClient) erin = rm_user (srv, "erin");

  util_room_create (alice, "#club");
  util_room_join (bob, "#club");
  util_room_join (carol, "#club");
  util_room_join (dave, "#club");
  ok (alice, "{\"type\":\"room_role\",\"room\":\"#club\",\"username\":\"bob\",\"role\":\"admin\"}");
  ok (alice, "{\"type\":\"room_role\",\"room\":\"#club\",\"username\":\"carol\",\"role\":\"admin\"}");

  fails (bob, "forbidden", "{\"type\":\"room_kick\",\"room\":\"#club\",\"username\":\"alice\"}");
  fails (bob, "forbidden", "{\"type\":\"room_kick\",\"room\":\"#club\",\"username\":\"carol\"}");
  fails (bob, "invalid_argument", "{\"type\":\"room_kick\",\"room\":\"#club\",\"username\":\"bob\"}");
  fails (bob, "not_found", "{\"type\":\"room_kick\",\"room\":\"#club\",\"username\":\"erin\"}");
  fails (bob, "not_found", "{\"type\":\"room_kick\",\"room\":\"#club\",\"username\":\"nobody\"}");
  fails (dave, "forbidden", "{\"type\":\"room_kick\",\"room\":\"#club\",\"username\":\"carol\"}");
  fails (erin, "forbidden", "{\"type\":\"room_kick\",\"room\":\"#club\",\"username\":\"dave\"}");

  /* An admin kicks a member: out at once, everyone told. */
  drain (alice);
  drain (carol);
  drain (dave);
  drain (dave_old);
  drain (bob);
  ok (bob, "{\"type\":\"room_kick\",\"room\":\"#club\",\"username\":\"dave\"}");
  {
    g_autoptr(JsonObject) removed = natter_test_client_wait_type (dave, "room_removed");
    g_autoptr(JsonObject) left = natter_test_client_wait_type (dave_old, "room_member");
    g_autoptr(JsonObject) seen = natter_test_client_wait_type (carol, "room_member");

    natter_assert_str (removed, "room", "#club");
    natter_assert_str (removed, "reason", "kicked");
    natter_assert_str (removed, "by", "bob");
    g_assert_true (natter_test_is_null (removed, "ban_reason"));
    natter_assert_str (left, "change", "left");
    natter_assert_str (left, "user.username", "dave");
    g_assert_false (json_object_has_member (left, "by"));
    natter_assert_str (seen, "change", "kicked");
    natter_assert_str (seen, "user.username", "dave");
    natter_assert_str (seen, "by", "bob");
  }
  natter_test_client_expect_no_frame_of_type (dave_old, "room_removed");
  natter_test_client_expect_no_frame_of_type (bob, "room_member");
  g_assert_false (lists_room (dave, "rooms", "#club"));
  g_assert_false (lists_room (dave_old, "rooms", "#club"));
  fails (dave, "forbidden", "{\"type\":\"send\",\"to\":\"#club\",\"body\":\"hi\",\"client_msg_id\":\"k1\"}");
  /* A kick is not a ban: a public room may be joined again. */
  util_room_join (dave, "#club");

  /* The owner kicks an admin. */
  ok (alice, "{\"type\":\"room_kick\",\"room\":\"#club\",\"username\":\"carol\"}");
  {
    g_autoptr(JsonObject) removed = natter_test_client_wait_type (carol, "room_removed");
  }
  g_assert_false (lists_room (carol, "rooms", "#club"));

  /* Out at once on every node (server-cluster: alice and erin are on two):
   * the kick is answered once erin's node has it. Then banned: no way
   * back in through that node. */
  util_room_join (erin, "#club");
  ok (alice, "{\"type\":\"room_kick\",\"room\":\"#club\",\"username\":\"erin\"}");
  fails (erin, "forbidden", "{\"type\":\"send\",\"to\":\"#club\",\"body\":\"hi\",\"client_msg_id\":\"k2\"}");
  ok (alice, "{\"type\":\"room_ban\",\"room\":\"#club\",\"username\":\"erin\"}");
  fails (erin, "forbidden", "{\"type\":\"room_join\",\"room\":\"#club\"}");
}

/* Bans: cannot rejoin, cannot be invited; reasons; unban. */
static void
test_ban (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) alice = rm_user (srv, "alice");
  g_autoptr(NatterTestClient) bob = rm_user (srv, "bob");
  g_autoptr(NatterTestClient) mallory = rm_user (srv, "mallory");
  g_autoptr(NatterTestClient) mallory_old = natter_test_client_new_login (srv, "mallory");
  g_autoptr(NatterTestClient) trent = rm_user (srv, "trent");

  util_room_create (alice, "#club");
  util_room_join (bob, "#club");
  util_room_join (mallory, "#club");
  ok (alice, "{\"type\":\"room_role\",\"room\":\"#club\",\"username\":\"bob\",\"role\":\"admin\"}");

  fails (bob, "forbidden", "{\"type\":\"room_ban\",\"room\":\"#club\",\"username\":\"alice\"}");
  fails (bob, "invalid_argument", "{\"type\":\"room_ban\",\"room\":\"#club\",\"username\":\"bob\"}");
  fails (bob, "invalid_argument", "{\"type\":\"room_ban\",\"room\":\"#club\",\"username\":\"mallory\",\"reason\":\"a\\u0001b\"}");
  fails (bob, "not_found", "{\"type\":\"room_unban\",\"room\":\"#club\",\"username\":\"mallory\"}");

  drain (alice);
  drain (mallory);
  drain (mallory_old);
  ok (bob, "{\"type\":\"room_ban\",\"room\":\"#club\",\"username\":\"mallory\",\"reason\":\"spam\"}");
  {
    g_autoptr(JsonObject) removed = natter_test_client_wait_type (mallory, "room_removed");
    g_autoptr(JsonObject) left = natter_test_client_wait_type (mallory_old, "room_member");
    g_autoptr(JsonObject) seen = natter_test_client_wait_type (alice, "room_member");

    natter_assert_str (removed, "reason", "banned");
    natter_assert_str (removed, "ban_reason", "spam");
    natter_assert_str (left, "change", "left");
    natter_assert_str (seen, "change", "banned");
  }
  g_assert_false (lists_room (mallory, "rooms", "#club"));
  /* A banned user rejoining, from either kind of connection. */
  fails (mallory, "forbidden", "{\"type\":\"room_join\",\"room\":\"#club\"}");
  fails (mallory_old, "forbidden", "{\"type\":\"room_join\",\"room\":\"#club\"}");
  fails (bob, "forbidden", "{\"type\":\"room_invite\",\"room\":\"#club\",\"username\":\"mallory\"}");
  /* Banned again: ok, the first reason stays. A non-member may be banned. */
  ok (bob, "{\"type\":\"room_ban\",\"room\":\"#club\",\"username\":\"mallory\",\"reason\":\"other\"}");
  ok (alice, "{\"type\":\"room_ban\",\"room\":\"#club\",\"username\":\"trent\"}");
  natter_test_client_expect_no_frame_of_type (trent, "room_removed");
  fails (trent, "forbidden", "{\"type\":\"room_join\",\"room\":\"#club\"}");
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (bob, "{\"type\":\"room_bans\",\"room\":\"#club\"}");
    JsonArray *bans = natter_test_get_array (r, "bans");
    JsonObject *first, *second;

    g_assert_cmpuint (json_array_get_length (bans), ==, 2);
    first = json_array_get_object_element (bans, 0);
    second = json_array_get_object_element (bans, 1);
    natter_assert_str (first, "username", "mallory");
    natter_assert_str (first, "by", "bob");
    natter_assert_str (first, "reason", "spam");
    g_assert_cmpint (natter_test_get_int (first, "ts"), >, 0);
    natter_assert_str (second, "username", "trent");
    g_assert_true (natter_test_is_null (second, "reason"));
  }

  /* Unbanned: may join again. */
  ok (bob, "{\"type\":\"room_unban\",\"room\":\"#club\",\"username\":\"mallory\"}");
  natter_test_client_expect_no_frame (mallory_old);
  util_room_join (mallory, "#club");
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (bob, "{\"type\":\"room_bans\",\"room\":\"#club\"}");

    g_assert_cmpuint (json_array_get_length (natter_test_get_array (r, "bans")), ==, 1);
  }
}

/* Private rooms and invitations. */
static void
test_invitations (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) alice = rm_user (srv, "alice");
  g_autoptr(NatterTestClient) bob = rm_user (srv, "bob");
  g_autoptr(NatterTestClient) bob2 = rm_login (srv, "bob");
  g_autoptr(NatterTestClient) carol = natter_test_client_new_user (srv, "carol");
  g_autoptr(NatterTestClient) dave = rm_user (srv, "dave");

  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice,
        "{\"type\":\"room_create\",\"room\":\"#secret\",\"private\":true}");

    g_assert_true (natter_test_get_bool (r, "room.private"));
  }
  util_room_create (alice, "#open");
  /* Absent from everyone's directory, members' too, either protocol. */
  g_assert_false (lists_room (alice, "room_directory", "#secret"));
  g_assert_false (lists_room (bob, "room_directory", "#secret"));
  g_assert_false (lists_room (carol, "room_directory", "#secret"));
  g_assert_true (lists_room (carol, "room_directory", "#open"));
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (bob,
        "{\"type\":\"room_directory\",\"query\":\"secr\"}");

    g_assert_cmpuint (json_array_get_length (natter_test_get_array (r, "rooms")), ==, 0);
  }
  fails (bob, "forbidden", "{\"type\":\"room_join\",\"room\":\"#secret\"}");
  fails (carol, "forbidden", "{\"type\":\"room_join\",\"room\":\"#secret\"}");

  /* An invitation to a stranger: no such user; a malformed name. */
  fails (alice, "not_found", "{\"type\":\"room_invite\",\"room\":\"#secret\",\"username\":\"stranger\"}");
  fails (alice, "invalid_argument", "{\"type\":\"room_invite\",\"room\":\"#secret\",\"username\":\"no way\"}");
  fails (alice, "conflict", "{\"type\":\"room_invite\",\"room\":\"#secret\",\"username\":\"alice\"}");
  fails (bob, "forbidden", "{\"type\":\"room_invite\",\"room\":\"#secret\",\"username\":\"dave\"}");

  /* Invited: told on every connection with the feature. */
  ok (alice, "{\"type\":\"room_invite\",\"room\":\"#secret\",\"username\":\"bob\"}");
  {
    g_autoptr(JsonObject) e1 = natter_test_client_wait_type (bob, "room_invitation");
    g_autoptr(JsonObject) e2 = natter_test_client_wait_type (bob2, "room_invitation");

    natter_assert_str (e1, "change", "added");
    natter_assert_str (e1, "invitation.room.room", "#secret");
    natter_assert_str (e1, "invitation.by", "alice");
    g_assert_true (natter_test_get_bool (e1, "invitation.room.private"));
    natter_assert_str (e2, "invitation.room.room", "#secret");
  }
  /* Again: ok, nobody told. */
  ok (alice, "{\"type\":\"room_invite\",\"room\":\"#secret\",\"username\":\"bob\"}");
  natter_test_client_expect_no_frame_of_type (bob, "room_invitation");
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (bob, "{\"type\":\"room_invitations\"}");
    g_autoptr(JsonObject) l = natter_test_client_request_ok (alice,
        "{\"type\":\"room_invited\",\"room\":\"#secret\"}");

    g_assert_cmpuint (json_array_get_length (natter_test_get_array (r, "invitations")), ==, 1);
    natter_assert_str (r, "invitations.0.room.room", "#secret");
    natter_assert_str (r, "invitations.0.by", "alice");
    natter_assert_str (l, "invitations.0.username", "bob");
  }
  /* Accepting is joining; the other device drops the invitation. */
  util_room_join (bob, "#secret");
  {
    g_autoptr(JsonObject) gone = natter_test_client_wait_type (bob2, "room_invitation");
    g_autoptr(JsonObject) r = natter_test_client_request_ok (bob, "{\"type\":\"room_invitations\"}");

    natter_assert_str (gone, "change", "removed");
    natter_assert_str (gone, "room", "#secret");
    g_assert_cmpuint (json_array_get_length (natter_test_get_array (r, "invitations")), ==, 0);
  }
  g_assert_true (lists_room (bob2, "rooms", "#secret"));
  g_assert_false (lists_room (bob, "room_directory", "#secret"));

  /* Decline, and withdraw. */
  ok (alice, "{\"type\":\"room_invite\",\"room\":\"#secret\",\"username\":\"dave\"}");
  fails (dave, "not_found", "{\"type\":\"room_decline\",\"room\":\"#open\"}");
  ok (dave, "{\"type\":\"room_decline\",\"room\":\"#secret\"}");
  fails (dave, "not_found", "{\"type\":\"room_decline\",\"room\":\"#secret\"}");
  fails (dave, "forbidden", "{\"type\":\"room_join\",\"room\":\"#secret\"}");
  ok (alice, "{\"type\":\"room_invite\",\"room\":\"#secret\",\"username\":\"dave\"}");
  drain (dave);
  ok (alice, "{\"type\":\"room_uninvite\",\"room\":\"#secret\",\"username\":\"dave\"}");
  {
    g_autoptr(JsonObject) gone = natter_test_client_wait_type (dave, "room_invitation");

    natter_assert_str (gone, "change", "removed");
  }
  fails (alice, "not_found", "{\"type\":\"room_uninvite\",\"room\":\"#secret\",\"username\":\"dave\"}");
  fails (dave, "forbidden", "{\"type\":\"room_join\",\"room\":\"#secret\"}");

  /* A protocol-1 user joins with an invitation it cannot see. */
  ok (alice, "{\"type\":\"room_invite\",\"room\":\"#secret\",\"username\":\"carol\"}");
  natter_test_client_expect_no_frame_of_type (carol, "room_invitation");
  util_room_join (carol, "#secret");

  /* A ban withdraws a pending invitation. */
  ok (alice, "{\"type\":\"room_invite\",\"room\":\"#secret\",\"username\":\"dave\"}");
  drain (dave);
  ok (alice, "{\"type\":\"room_ban\",\"room\":\"#secret\",\"username\":\"dave\"}");
  {
    g_autoptr(JsonObject) gone = natter_test_client_wait_type (dave, "room_invitation");

    natter_assert_str (gone, "change", "removed");
  }

  /* Public again: listed, joined by anyone. */
  ok (alice, "{\"type\":\"room_update\",\"room\":\"#secret\",\"private\":false}");
  g_assert_true (lists_room (carol, "room_directory", "#secret"));
}

static void
test_transfer (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) alice = rm_user (srv, "alice");
  g_autoptr(NatterTestClient) bob = rm_user (srv, "bob");
  g_autoptr(NatterTestClient) carol = rm_user (srv, "carol");

  util_room_create (alice, "#club");
  util_room_join (bob, "#club");
  fails (alice, "invalid_argument", "{\"type\":\"room_transfer\",\"room\":\"#club\",\"username\":\"alice\"}");
  fails (alice, "not_found", "{\"type\":\"room_transfer\",\"room\":\"#club\",\"username\":\"carol\"}");
  fails (bob, "forbidden", "{\"type\":\"room_transfer\",\"room\":\"#club\",\"username\":\"bob\"}");
  drain (bob);
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice,
        "{\"type\":\"room_transfer\",\"room\":\"#club\",\"username\":\"bob\"}");
    g_autoptr(JsonObject) e = natter_test_client_wait_type (bob, "room_updated");

    natter_assert_str (r, "room.owner", "bob");
    util_assert_strings (natter_test_get_array (r, "room.admins"), "alice", NULL);
    natter_assert_str (e, "room.owner", "bob");
    natter_assert_str (e, "by", "alice");
  }
  /* The old owner is an admin now: the new owner may kick them. */
  fails (alice, "forbidden", "{\"type\":\"room_delete\",\"room\":\"#club\"}");
  fails (alice, "forbidden", "{\"type\":\"room_kick\",\"room\":\"#club\",\"username\":\"bob\"}");
  ok (bob, "{\"type\":\"room_kick\",\"room\":\"#club\",\"username\":\"alice\"}");
  fails (alice, "forbidden", "{\"type\":\"room_topic\",\"room\":\"#club\",\"topic\":\"x\"}");
}

/* Deleting a room: everyone told, its messages erased everywhere. */
static void
test_delete (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) alice = rm_user (srv, "alice");
  g_autoptr(NatterTestClient) bob = rm_user (srv, "bob");
  g_autoptr(NatterTestClient) carol = natter_test_client_new_user (srv, "carol");
  g_autoptr(NatterTestClient) dave = rm_user (srv, "dave");
  gint64 last, next;

  util_room_create (alice, "#doomed");
  util_room_join (bob, "#doomed");
  util_room_join (carol, "#doomed");
  ok (alice, "{\"type\":\"room_invite\",\"room\":\"#doomed\",\"username\":\"dave\"}");
  util_send (alice, "#doomed", "pineapple pizza", "d1");
  last = util_send (bob, "#doomed", "pineapple again", "d2");
  {
    g_autoptr(JsonObject) s = natter_test_client_request_ok (bob, "{\"type\":\"search\",\"query\":\"pineapple\"}");

    g_assert_cmpuint (json_array_get_length (natter_test_get_array (s, "messages")), ==, 2);
  }
  fails (bob, "forbidden", "{\"type\":\"room_delete\",\"room\":\"#doomed\"}");

  drain (bob);
  drain (carol);
  drain (dave);
  ok (alice, "{\"type\":\"room_delete\",\"room\":\"#doomed\"}");
  {
    g_autoptr(JsonObject) removed = natter_test_client_wait_type (bob, "room_removed");
    g_autoptr(JsonObject) left = natter_test_client_wait_type (carol, "room_member");
    g_autoptr(JsonObject) gone = natter_test_client_wait_type (dave, "room_invitation");

    natter_assert_str (removed, "reason", "deleted");
    natter_assert_str (removed, "by", "alice");
    natter_assert_str (left, "change", "left");
    natter_assert_str (left, "user.username", "carol");
    natter_assert_str (gone, "change", "removed");
  }
  natter_test_client_expect_no_frame_of_type (alice, "room_removed");
  g_assert_false (lists_room (bob, "rooms", "#doomed"));
  g_assert_false (lists_room (carol, "rooms", "#doomed"));
  fails (bob, "not_found", "{\"type\":\"history\",\"conversation\":\"#doomed\"}");
  fails (bob, "not_found", "{\"type\":\"room_join\",\"room\":\"#doomed\"}");
  {
    g_autoptr(JsonObject) s = natter_test_client_request_ok (bob, "{\"type\":\"search\",\"query\":\"pineapple\"}");
    g_autoptr(JsonObject) y = natter_test_client_request_ok (bob, "{\"type\":\"sync\",\"since\":0}");
    g_autoptr(JsonObject) c = natter_test_client_request_ok (bob, "{\"type\":\"conversations\"}");

    g_assert_cmpuint (json_array_get_length (natter_test_get_array (s, "messages")), ==, 0);
    g_assert_cmpuint (json_array_get_length (natter_test_get_array (y, "messages")), ==, 0);
    g_assert_cmpuint (json_array_get_length (natter_test_get_array (c, "conversations")), ==, 0);
  }
  /* Ids are never handed out again: a client synced past the room's. */
  next = util_send (alice, "@bob", "pineapple-free", "d3");
  g_assert_cmpint (next, >, last);

  /* The name is free; the new room shares nothing with the old one. */
  util_room_create (carol, "#doomed");
  {
    g_autoptr(JsonObject) h = natter_test_client_request_ok (carol, "{\"type\":\"history\",\"conversation\":\"#doomed\"}");
    g_autoptr(JsonObject) s = natter_test_client_request_ok (carol, "{\"type\":\"search\",\"query\":\"pineapple\"}");

    g_assert_cmpuint (json_array_get_length (natter_test_get_array (h, "messages")), ==, 0);
    g_assert_cmpuint (json_array_get_length (natter_test_get_array (s, "messages")), ==, 0);
  }
  /* And after a restart. */
  natter_test_server_restart (srv);
  g_clear_pointer (&bob, natter_test_client_free);
  bob = rm_login (srv, "bob");
  {
    g_autoptr(JsonObject) s = natter_test_client_request_ok (bob, "{\"type\":\"search\",\"query\":\"pineapple\"}");

    /* Only the direct message from alice is left. */
    g_assert_cmpuint (json_array_get_length (natter_test_get_array (s, "messages")), ==, 1);
    natter_assert_int (s, "messages.0.id", next);
  }
  g_assert_false (lists_room (bob, "rooms", "#doomed"));
}

/* A deleted room is freed once nothing holds it (not kept until natterd
 * stops): sends, read markers and notification levels checked just
 * before the delete are still in the writer or the delivery queue when
 * it commits, and must find their room whole (under ASan, a room freed
 * too soon fails here). Each is answered, ok or not, and natterd goes on. */
static void
test_delete_under_load (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) alice = rm_user (srv, "alice");
  g_autoptr(NatterTestClient) bob = rm_user (srv, "bob");
  gint64 first;

  for (int round = 0; round < 3; round++)
    {
      g_autofree char *room = g_strdup_printf ("#busy%d", round);

      util_room_create (alice, room);
      util_room_join (bob, room);
      first = util_send (bob, room, "first", "b0");
      /* Pipelined: none waits for the one before. */
      for (int i = 1; i <= 40; i++)
        {
          natter_test_client_sendf (bob, "{\"type\":\"send\",\"id\":%d,\"to\":\"%s\",\"body\":\"n%d\",\"client_msg_id\":\"r%d-%d\"}",
                                    1000 + i, room, i, round, i);
          natter_test_client_sendf (bob, "{\"type\":\"read\",\"id\":%d,\"conversation\":\"%s\",\"up_to\":%" G_GINT64_FORMAT "}",
                                    2000 + i, room, first);
          natter_test_client_sendf (bob, "{\"type\":\"notify_level\",\"id\":%d,\"conversation\":\"%s\",\"level\":\"none\"}",
                                    3000 + i, room);
          if (i == 20)
            natter_test_client_sendf (alice, "{\"type\":\"room_delete\",\"id\":9,\"room\":\"%s\"}", room);
        }
      {
        g_autoptr(JsonObject) deleted = natter_test_client_wait_re (alice, 9);

        natter_assert_ok (deleted);
      }
      for (int i = 1; i <= 40; i++)
        for (int kind = 1; kind <= 3; kind++)
          {
            g_autoptr(JsonObject) r = natter_test_client_wait_re (bob, kind * 1000 + i);
            const char *type = natter_test_get_str (r, "type");

            g_assert_true (g_str_equal (type, "ok") || g_str_equal (type, "error"));
          }
      g_assert_false (lists_room (bob, "rooms", room));
      natter_test_client_clear_queue (alice);
      natter_test_client_clear_queue (bob);
    }
  natter_test_client_sync_ping (alice);
}

/* Roles, privacy, bans and invitations are stored, not only in memory. */
static void
test_restart_durable (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) alice = rm_user (srv, "alice");
  g_autoptr(NatterTestClient) bob = rm_user (srv, "bob");
  g_autoptr(NatterTestClient) carol = rm_user (srv, "carol");
  g_autoptr(NatterTestClient) dave = rm_user (srv, "dave");

  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice,
        "{\"type\":\"room_create\",\"room\":\"#vault\",\"private\":true}");
  }
  ok (alice, "{\"type\":\"room_invite\",\"room\":\"#vault\",\"username\":\"bob\"}");
  util_room_join (bob, "#vault");
  ok (alice, "{\"type\":\"room_role\",\"room\":\"#vault\",\"username\":\"bob\",\"role\":\"admin\"}");
  ok (alice, "{\"type\":\"room_update\",\"room\":\"#vault\",\"display_name\":\"The Vault\"}");
  ok (bob, "{\"type\":\"room_invite\",\"room\":\"#vault\",\"username\":\"carol\"}");
  ok (bob, "{\"type\":\"room_ban\",\"room\":\"#vault\",\"username\":\"dave\",\"reason\":\"no\"}");

  natter_test_server_restart (srv);
  g_clear_pointer (&alice, natter_test_client_free);
  g_clear_pointer (&bob, natter_test_client_free);
  g_clear_pointer (&carol, natter_test_client_free);
  g_clear_pointer (&dave, natter_test_client_free);
  alice = rm_login (srv, "alice");
  carol = rm_login (srv, "carol");
  dave = rm_login (srv, "dave");
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice, "{\"type\":\"rooms\"}");
    g_autoptr(JsonObject) i = natter_test_client_request_ok (carol, "{\"type\":\"room_invitations\"}");
    g_autoptr(JsonObject) b = natter_test_client_request_ok (alice, "{\"type\":\"room_bans\",\"room\":\"#vault\"}");
    g_autofree char *role = role_of (alice, "#vault", "bob");

    g_assert_true (natter_test_get_bool (r, "rooms.0.private"));
    natter_assert_str (r, "rooms.0.display_name", "The Vault");
    util_assert_strings (natter_test_get_array (r, "rooms.0.admins"), "bob", NULL);
    g_assert_cmpstr (role, ==, "admin");
    natter_assert_str (i, "invitations.0.room.room", "#vault");
    natter_assert_str (i, "invitations.0.by", "bob");
    natter_assert_str (b, "bans.0.username", "dave");
    natter_assert_str (b, "bans.0.reason", "no");
  }
  g_assert_false (lists_room (carol, "room_directory", "#vault"));
  fails (dave, "forbidden", "{\"type\":\"room_join\",\"room\":\"#vault\"}");
  util_room_join (carol, "#vault");
}

/* A cluster withholds the feature (docs/cluster.md). */
int
main (int   argc,
      char *argv[])
{
  natter_test_init (&argc, &argv);
  natter_test_add ("/room-roles/features", test_features);
  natter_test_add ("/room-roles/roles", test_roles);
  natter_test_add ("/room-roles/kick", test_kick);
  natter_test_add ("/room-roles/ban", test_ban);
  natter_test_add ("/room-roles/invitations", test_invitations);
  natter_test_add ("/room-roles/transfer", test_transfer);
  natter_test_add_single_node ("/room-roles/delete", test_delete, "restarts its natterd");
  natter_test_add ("/room-roles/delete-under-load", test_delete_under_load);
  natter_test_add_single_node ("/room-roles/restart-durable", test_restart_durable, "restarts its natterd");
  return g_test_run ();
}
