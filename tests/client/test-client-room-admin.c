/* test-client-room-admin.c: feature room_management in the client core
 * between two clients through a real natterd: the room's new fields and
 * roles, an invitation to a private room shown and accepted or declined
 * (also after a sign-in), a kick that takes the room out of the list with
 * the room-removed signal, and a deleted room; a room's bans and pending
 * invitations as an admin reads them, and the member count after our own
 * ban. */
#define G_LOG_DOMAIN "test-client-room-admin"

#include <string.h>

#include "client-test-util.h"
#include "natter-test-client.h"

static NatterTestServer *server;

typedef struct {
  char         *dir;
  NatterClient *client;
  char         *name;
} Peer;

typedef struct {
  Peer  alice;
  Peer  bob;
  char *room;
  char *removed_reason;  /* bob's last room-removed */
} Fixture;

static void
peer_start (Peer       *peer,
            const char *prefix)
{
  peer->dir = test_make_state_dir ();
  peer->name = test_username (prefix);
  peer->client = test_client_new (server, peer->dir);
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
  g_autofree char *suffix = test_username ("r");

  peer_start (&f->alice, "alice");
  peer_start (&f->bob, "bob");
  f->room = g_strconcat ("#", suffix, NULL);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  peer_stop (&f->alice);
  peer_stop (&f->bob);
  g_free (f->room);
  g_free (f->removed_reason);
}

static void
manage (NatterClient     *client,
        const char       *room,
        NatterRoomAction  action,
        const char       *username,
        const char       *text)
{
  GAsyncResult *result = NULL;
  g_autoptr(GError) error = NULL;

  natter_client_room_manage_async (client, room, action, username, text, NULL, test_result_cb, &result);
  g_assert_true (natter_client_room_manage_finish (client, test_wait_result (&result), &error));
  g_assert_no_error (error);
  g_clear_object (&result);
}

static void
create (NatterClient *client,
        const char   *room)
{
  GAsyncResult *result = NULL;
  g_autoptr(GError) error = NULL;

  natter_client_room_create_async (client, room, NULL, NULL, test_result_cb, &result);
  g_assert_true (natter_client_room_create_finish (client, test_wait_result (&result), &error));
  g_assert_no_error (error);
  g_clear_object (&result);
}

static void
join (NatterClient *client,
      const char   *room)
{
  GAsyncResult *result = NULL;
  g_autoptr(GError) error = NULL;

  natter_client_room_join_async (client, room, NULL, test_result_cb, &result);
  g_assert_true (natter_client_room_join_finish (client, test_wait_result (&result), &error));
  g_assert_no_error (error);
  g_clear_object (&result);
}

static NatterRoom *
find_room (GListModel *model,
           const char *name)
{
  for (guint i = 0, n = g_list_model_get_n_items (model); i < n; i++)
    {
      g_autoptr(NatterRoom) room = g_list_model_get_item (model, i);

      if (g_str_equal (natter_room_get_name (room), name))
        return room; /* the model keeps it */
    }
  return NULL;
}

static void
room_removed_cb (NatterClient *client,
                 NatterRoom   *room,
                 const char   *reason,
                 const char   *by,
                 const char   *ban_reason,
                 Fixture      *f)
{
  g_free (f->removed_reason);
  f->removed_reason = g_strdup (reason);
}

static void
test_invite_and_roles (Fixture       *f,
                       gconstpointer  data)
{
  GListModel *invitations = natter_client_get_invitations (f->bob.client);
  NatterRoom *room;

  g_assert_true (natter_client_get_room_management (f->alice.client));
  create (f->alice.client, f->room);
  manage (f->alice.client, f->room, NATTER_ROOM_ACTION_SET_PRIVATE, NULL, NULL);
  manage (f->alice.client, f->room, NATTER_ROOM_ACTION_SET_DISPLAY_NAME, NULL, "Plans");
  room = find_room (natter_client_get_rooms (f->alice.client), f->room);
  g_assert_nonnull (room);
  g_assert_true (natter_room_get_private (room));
  g_assert_cmpstr (natter_room_get_display_name (room), ==, "Plans");
  g_assert_cmpint (natter_room_get_role (room, f->alice.name), ==, NATTER_ROOM_ROLE_OWNER);

  /* Invited: shown with who invited; declined: gone. */
  manage (f->alice.client, f->room, NATTER_ROOM_ACTION_INVITE, f->bob.name, NULL);
  WAIT_FOR (find_room (invitations, f->room) != NULL);
  g_assert_cmpstr (natter_room_get_invited_by (find_room (invitations, f->room)), ==, f->alice.name);
  manage (f->bob.client, f->room, NATTER_ROOM_ACTION_DECLINE, NULL, NULL);
  g_assert_null (find_room (invitations, f->room));

  /* Invited again while signed out: there after the sign-in. */
  test_client_free (g_steal_pointer (&f->bob.client));
  manage (f->alice.client, f->room, NATTER_ROOM_ACTION_INVITE, f->bob.name, NULL);
  f->bob.client = test_client_new (server, f->bob.dir);
  test_client_sign_in (f->bob.client, server, f->bob.name);
  invitations = natter_client_get_invitations (f->bob.client);
  g_assert_nonnull (find_room (invitations, f->room));

  /* Accepted by joining. */
  join (f->bob.client, f->room);
  g_assert_null (find_room (invitations, f->room));
  room = find_room (natter_client_get_rooms (f->bob.client), f->room);
  g_assert_nonnull (room);
  g_assert_cmpstr (natter_room_get_display_name (room), ==, "Plans");

  /* Roles follow live. */
  manage (f->alice.client, f->room, NATTER_ROOM_ACTION_MAKE_ADMIN, f->bob.name, NULL);
  WAIT_FOR (natter_room_get_role (room, f->bob.name) == NATTER_ROOM_ROLE_ADMIN);
  manage (f->bob.client, f->room, NATTER_ROOM_ACTION_SET_PUBLIC, NULL, NULL);
  WAIT_FOR (!natter_room_get_private (find_room (natter_client_get_rooms (f->alice.client), f->room)));
}

static void
test_kick_and_delete (Fixture       *f,
                      gconstpointer  data)
{
  GListModel *rooms = natter_client_get_rooms (f->bob.client);

  g_signal_connect (f->bob.client, "room-removed", G_CALLBACK (room_removed_cb), f);
  create (f->alice.client, f->room);
  join (f->bob.client, f->room);
  g_assert_nonnull (find_room (rooms, f->room));

  manage (f->alice.client, f->room, NATTER_ROOM_ACTION_KICK, f->bob.name, NULL);
  WAIT_FOR (find_room (rooms, f->room) == NULL);
  WAIT_FOR (f->removed_reason != NULL);
  g_assert_cmpstr (f->removed_reason, ==, "kicked");
  g_assert_cmpuint (natter_room_get_member_count (find_room (natter_client_get_rooms (f->alice.client),
                                                             f->room)), ==, 1);

  join (f->bob.client, f->room);
  g_clear_pointer (&f->removed_reason, g_free);
  manage (f->alice.client, f->room, NATTER_ROOM_ACTION_DELETE, NULL, NULL);
  g_assert_null (find_room (natter_client_get_rooms (f->alice.client), f->room));
  WAIT_FOR (find_room (rooms, f->room) == NULL);
  WAIT_FOR (f->removed_reason != NULL);
  g_assert_cmpstr (f->removed_reason, ==, "deleted");
}

static GListModel *
fetch_list (NatterClient *client,
            const char   *room,
            gboolean      bans)
{
  GAsyncResult *result = NULL;
  g_autoptr(GError) error = NULL;
  GListModel *list;

  if (bans)
    natter_client_room_bans_async (client, room, NULL, test_result_cb, &result);
  else
    natter_client_room_invited_async (client, room, NULL, test_result_cb, &result);
  list = bans ? natter_client_room_bans_finish (client, test_wait_result (&result), &error)
              : natter_client_room_invited_finish (client, test_wait_result (&result), &error);
  g_assert_no_error (error);
  g_assert_nonnull (list);
  g_clear_object (&result);
  return list;
}

static NatterRoomEntry *
find_entry (GListModel *model,
            const char *username)
{
  for (guint i = 0, n = g_list_model_get_n_items (model); i < n; i++)
    {
      g_autoptr(NatterRoomEntry) entry = g_list_model_get_item (model, i);

      if (g_str_equal (natter_user_get_username (natter_room_entry_get_user (entry)), username))
        return entry; /* the model keeps it */
    }
  return NULL;
}

/* Bans and invitations as lists, with who, when and why; a ban of a
 * member lowers the count on the banning client (which gets no event of
 * it), a ban of a non-member does not. */
static void
test_bans_and_invited (Fixture       *f,
                       gconstpointer  data)
{
  Peer carol = { 0 };
  NatterRoom *room;
  NatterRoomEntry *entry;
  g_autoptr(GListModel) bans = NULL;
  g_autoptr(GListModel) invited = NULL;
  gint64 before = g_get_real_time () / 1000 - 1000;

  peer_start (&carol, "carol");
  create (f->alice.client, f->room);
  join (f->bob.client, f->room);
  room = find_room (natter_client_get_rooms (f->alice.client), f->room);
  WAIT_FOR (natter_room_get_member_count (room) == 2);

  manage (f->alice.client, f->room, NATTER_ROOM_ACTION_BAN, f->bob.name, "spam");
  WAIT_FOR (natter_room_get_member_count (room) == 1);
  manage (f->alice.client, f->room, NATTER_ROOM_ACTION_BAN, carol.name, NULL);

  bans = fetch_list (f->alice.client, f->room, TRUE);
  /* The recount of the second ban was answered before the list. */
  g_assert_cmpuint (natter_room_get_member_count (room), ==, 1);
  g_assert_cmpuint (g_list_model_get_n_items (bans), ==, 2);
  entry = find_entry (bans, f->bob.name);
  g_assert_nonnull (entry);
  g_assert_cmpstr (natter_room_entry_get_by (entry), ==, f->alice.name);
  g_assert_cmpstr (natter_room_entry_get_reason (entry), ==, "spam");
  g_assert_cmpint (natter_room_entry_get_ts (entry), >, before);
  entry = find_entry (bans, carol.name);
  g_assert_nonnull (entry);
  g_assert_null (natter_room_entry_get_reason (entry));
  g_assert_true (natter_room_entry_get_user (entry) == natter_client_lookup_user (f->alice.client, carol.name));

  manage (f->alice.client, f->room, NATTER_ROOM_ACTION_UNBAN, carol.name, NULL);
  manage (f->alice.client, f->room, NATTER_ROOM_ACTION_INVITE, carol.name, NULL);
  g_clear_object (&bans);
  bans = fetch_list (f->alice.client, f->room, TRUE);
  g_assert_cmpuint (g_list_model_get_n_items (bans), ==, 1);
  g_assert_null (find_entry (bans, carol.name));
  invited = fetch_list (f->alice.client, f->room, FALSE);
  g_assert_cmpuint (g_list_model_get_n_items (invited), ==, 1);
  entry = find_entry (invited, carol.name);
  g_assert_nonnull (entry);
  g_assert_cmpstr (natter_room_entry_get_by (entry), ==, f->alice.name);
  g_assert_null (natter_room_entry_get_reason (entry));
  g_assert_cmpint (natter_room_entry_get_ts (entry), >, before);

  /* Someone we share nothing with: their display name is asked for. */
  {
    g_autoptr(NatterTestClient) dave = natter_test_client_new (server);
    g_autofree char *dave_name = test_username ("dave");
    g_autoptr(JsonObject) r = natter_test_client_request_ok (dave,
      "{\"type\":\"register\",\"username\":\"%s\",\"password\":\"%s\",\"display_name\":\"Dave Okafor\"}",
      dave_name, NATTER_TEST_PASSWORD);
    NatterUser *user;

    manage (f->alice.client, f->room, NATTER_ROOM_ACTION_INVITE, dave_name, NULL);
    g_clear_object (&invited);
    invited = fetch_list (f->alice.client, f->room, FALSE);
    user = natter_room_entry_get_user (find_entry (invited, dave_name));
    WAIT_FOR (g_strcmp0 (natter_user_get_display_name (user), "Dave Okafor") == 0);
  }

  /* A member may not read them. */
  {
    GAsyncResult *result = NULL;
    g_autoptr(GError) error = NULL;
    g_autoptr(GListModel) none = NULL;

    join (carol.client, f->room);
    natter_client_room_bans_async (carol.client, f->room, NULL, test_result_cb, &result);
    none = natter_client_room_bans_finish (carol.client, test_wait_result (&result), &error);
    g_assert_error (error, NATTER_ERROR, NATTER_ERROR_FORBIDDEN);
    g_assert_null (none);
    g_clear_object (&result);
  }
  peer_stop (&carol);
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  test_init ();
  g_test_init (&argc, &argv, NULL);

  server = natter_test_server_start (TEST_SERVER_CONFIG, NULL);

  g_test_add ("/client/room-admin/invite-and-roles", Fixture, NULL, fixture_set_up,
              test_invite_and_roles, fixture_tear_down);
  g_test_add ("/client/room-admin/kick-and-delete", Fixture, NULL, fixture_set_up,
              test_kick_and_delete, fixture_tear_down);
  g_test_add ("/client/room-admin/bans-and-invited", Fixture, NULL, fixture_set_up,
              test_bans_and_invited, fixture_tear_down);

  ret = g_test_run ();
  natter_test_server_free (server);
  return ret;
}
