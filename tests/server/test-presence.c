/* test-presence.c: set_presence, who gets presence pushes (contacts, room
 * members, the user's own other connections; never a stranger), the
 * most-available rule across devices, and last_seen.
 */
#define G_LOG_DOMAIN "natter-test"

#include "server-test-util.h"

static void
test_set_presence_to_contact (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) alice = natter_test_client_new_user (srv, "alice");
  g_autoptr(NatterTestClient) bob = natter_test_client_new_user (srv, "bob");
  g_autoptr(NatterTestClient) bob2 = natter_test_client_new_login (srv, "bob");
  g_autoptr(NatterTestClient) stranger = natter_test_client_new_user (srv, "stranger");
  g_autoptr(JsonObject) reply = NULL;
  g_autoptr(JsonObject) ev = NULL;
  g_autoptr(JsonObject) ev_own = NULL;

  util_make_contacts (alice, bob);
  /* bob2 away first: bob is still online through his first connection. */
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (bob2,
        "{\"type\":\"set_presence\",\"presence\":\"away\"}");
  }
  natter_test_client_sync_ping (alice);
  natter_test_client_sync_ping (bob2);
  natter_test_client_clear_queue (alice);
  natter_test_client_clear_queue (bob2);

  reply = natter_test_client_request_ok (bob, "{\"type\":\"set_presence\",\"presence\":\"away\","
                                              "\"status_text\":\"lunch\"}");
  /* The contact sees it. */
  ev = util_wait_presence (alice, "bob");
  util_assert_user_object (natter_test_get_object (ev, "user"));
  natter_assert_str (ev, "user.presence", "away");
  natter_assert_str (ev, "user.status_text", "lunch");
  g_assert_false (json_object_has_member (ev, "re"));
  /* bob's other connection sees it. */
  ev_own = util_wait_presence (bob2, "bob");
  natter_assert_str (ev_own, "user.presence", "away");
  /* A stranger sees nothing, and user_info shows them nothing. */
  natter_test_client_expect_no_frame_of_type (stranger, "presence");
  {
    g_autoptr(JsonObject) info = natter_test_client_request_ok (stranger,
        "{\"type\":\"user_info\",\"username\":\"bob\"}");

    natter_assert_str (info, "user.username", "bob");
    natter_assert_str (info, "user.presence", "offline");
    natter_assert_str (info, "user.status_text", NULL);
    natter_assert_str (info, "user.last_seen", NULL);
  }
  /* The contact's user_info agrees with the push. */
  {
    g_autoptr(JsonObject) info = natter_test_client_request_ok (alice,
        "{\"type\":\"user_info\",\"username\":\"bob\"}");

    natter_assert_str (info, "user.presence", "away");
    natter_assert_str (info, "user.status_text", "lunch");
  }
  /* And the contacts list too. */
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice, "{\"type\":\"contacts\"}");
    JsonObject *u = util_find_user (natter_test_get_array (r, "contacts"), "bob");

    g_assert_nonnull (u);
    natter_assert_str (u, "presence", "away");
  }

  /* status_text is optional: without it, it is kept (the project's
   * choice); an empty one clears it. */
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (bob,
        "{\"type\":\"set_presence\",\"presence\":\"busy\"}");
    g_autoptr(JsonObject) e = util_wait_presence (alice, "bob");

    natter_assert_str (e, "user.presence", "busy");
    natter_assert_str (e, "user.status_text", "lunch");
  }
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (bob,
        "{\"type\":\"set_presence\",\"presence\":\"busy\",\"status_text\":\"\"}");
    g_autoptr(JsonObject) e = util_wait_presence (alice, "bob");

    natter_assert_str (e, "user.presence", "busy");
    natter_assert_str (e, "user.status_text", NULL);
  }
  /* Setting offline is not a thing: offline is having no connection. */
  {
    g_autoptr(JsonObject) r = natter_test_client_request_error (bob, "invalid_argument",
        "{\"type\":\"set_presence\",\"presence\":\"offline\"}");
  }
}

static void
test_set_presence_errors (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) alice = natter_test_client_new_user (srv, "alice");
  g_autofree char *long_status = util_repeat ('s', 129);
  g_autofree char *max_status = util_repeat ('s', 128);
  /* 128 characters of two bytes each is still 128 characters. */
  GString *wide = g_string_new (NULL);

  {
    g_autoptr(JsonObject) e1 = natter_test_client_request_error (alice, "invalid_argument",
        "{\"type\":\"set_presence\",\"presence\":\"sleeping\"}");
    g_autoptr(JsonObject) e2 = natter_test_client_request_error (alice, "invalid_argument",
        "{\"type\":\"set_presence\"}");
    g_autoptr(JsonObject) e3 = natter_test_client_request_error (alice, "invalid_argument",
        "{\"type\":\"set_presence\",\"presence\":1}");
    g_autoptr(JsonObject) e4 = natter_test_client_request_error (alice, "invalid_argument",
        "{\"type\":\"set_presence\",\"presence\":\"away\",\"status_text\":\"%s\"}", long_status);
    g_autoptr(JsonObject) e5 = natter_test_client_request_error (alice, "invalid_argument",
        "{\"type\":\"set_presence\",\"presence\":\"away\",\"status_text\":5}");
    g_autoptr(JsonObject) e6 = natter_test_client_request_error (alice, "invalid_argument",
        "{\"type\":\"set_presence\",\"presence\":\"away\",\"status_text\":\"a\\u0001b\"}");
    g_autoptr(JsonObject) ok1 = natter_test_client_request_ok (alice,
        "{\"type\":\"set_presence\",\"presence\":\"away\",\"status_text\":\"%s\"}", max_status);
  }
  for (guint i = 0; i < 128; i++)
    g_string_append (wide, "\xc3\xa9");
  {
    g_autoptr(JsonObject) ok2 = natter_test_client_request_ok (alice,
        "{\"type\":\"set_presence\",\"presence\":\"online\",\"status_text\":\"%s\"}", wide->str);
  }
  g_string_free (wide, TRUE);
}

/* After a request by one of @username's connections has been answered: the
 * presence events about @username that @watcher got for it. The server
 * queues them before it answers, so a ping round trip collects them all
 * (on one node; on several, a pushed one is waited for). With @must_push,
 * at least one must have come; the last one must say @expected. */
static void
expect_presence (NatterTestClient *watcher,
                 const char       *username,
                 const char       *expected,
                 gboolean          must_push)
{
  JsonObject *last = NULL;
  JsonObject *e;

  natter_test_client_sync_ping (watcher);
  while ((e = natter_test_client_take_queued (watcher, "presence")) != NULL)
    {
      if (g_strcmp0 (natter_test_get_str (e, "user.username"), username) == 0)
        {
          g_clear_pointer (&last, json_object_unref);
          last = e;
        }
      else
        json_object_unref (e);
    }
  /* On a server of several nodes the event may cross the bus after the
   * ping's answer (docs/protocol.md, "One server, several nodes"): wait
   * for the one that says @expected (the harness's deadline bounds it). */
  if (must_push && natter_test_cluster_size () > 1)
    while (last == NULL || g_strcmp0 (natter_test_get_str (last, "user.presence"), expected) != 0)
      {
        g_clear_pointer (&last, json_object_unref);
        last = util_wait_presence (watcher, username);
      }
  if (must_push)
    {
      if (last == NULL)
        g_error ("%s: expected a presence event saying %s is %s",
                 natter_test_client_who (watcher), username, expected);
    }
  if (last != NULL)
    natter_assert_str (last, "user.presence", expected);
  g_clear_pointer (&last, json_object_unref);

  {
    g_autofree char *uq = natter_test_json_quote (username);
    g_autoptr(JsonObject) info = natter_test_client_request_ok (watcher,
        "{\"type\":\"user_info\",\"username\":%s}", uq);

    natter_assert_str (info, "user.presence", expected);
  }
}

static void
set_presence (NatterTestClient *c,
              const char       *presence)
{
  g_autoptr(JsonObject) r = natter_test_client_request_ok (c,
      "{\"type\":\"set_presence\",\"presence\":\"%s\"}", presence);
}

static void
test_most_available (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) alice = natter_test_client_new_user (srv, "alice");
  g_autoptr(NatterTestClient) b1 = natter_test_client_new_user (srv, "bob");
  NatterTestClient *b2 = natter_test_client_new_login (srv, "bob");
  gint64 before_close;

  util_make_contacts (alice, b1);
  expect_presence (alice, "bob", "online", FALSE);

  /* b1 busy, b2 online: online wins (no change to push). */
  set_presence (b1, "busy");
  expect_presence (alice, "bob", "online", FALSE);
  /* b2 away: busy (b1) is more available than away. */
  set_presence (b2, "away");
  expect_presence (alice, "bob", "busy", TRUE);
  /* b1 away too: away. */
  set_presence (b1, "away");
  expect_presence (alice, "bob", "away", TRUE);
  /* b2 online: online. */
  set_presence (b2, "online");
  expect_presence (alice, "bob", "online", TRUE);

  /* The online device goes: back to b1's away. */
  natter_test_client_free (b2);
  {
    g_autoptr(JsonObject) e = util_wait_presence (alice, "bob");

    natter_assert_str (e, "user.presence", "away");
  }
  expect_presence (alice, "bob", "away", FALSE);

  /* The last one goes: offline with last_seen. */
  before_close = util_now_ms ();
  natter_test_client_free (g_steal_pointer (&b1));
  {
    g_autoptr(JsonObject) e = util_wait_presence (alice, "bob");
    gint64 last_seen;

    natter_assert_str (e, "user.presence", "offline");
    last_seen = natter_test_get_int (e, "user.last_seen");
    g_assert_cmpint (last_seen, >=, before_close - 2000);
    g_assert_cmpint (last_seen, <=, util_now_ms () + 2000);
  }
  expect_presence (alice, "bob", "offline", FALSE);
  {
    g_autoptr(JsonObject) info = natter_test_client_request_ok (alice,
        "{\"type\":\"user_info\",\"username\":\"bob\"}");

    g_assert_cmpint (natter_test_get_int (info, "user.last_seen"), >=, before_close - 2000);
  }

  /* bob comes back: alice sees online. */
  {
    g_autoptr(NatterTestClient) b3 = natter_test_client_new_login (srv, "bob");
    g_autoptr(JsonObject) e = util_wait_presence (alice, "bob");

    natter_assert_str (e, "user.presence", "online");
  }
}

static void
test_room_members_see_presence (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) alice = natter_test_client_new_user (srv, "alice");
  g_autoptr(NatterTestClient) carol = natter_test_client_new_user (srv, "carol");
  g_autoptr(NatterTestClient) stranger = natter_test_client_new_user (srv, "stranger");

  util_room_create (alice, "#lobby");
  util_room_join (carol, "#lobby");
  natter_test_client_sync_ping (alice);
  natter_test_client_sync_ping (carol);
  natter_test_client_clear_queue (alice);
  natter_test_client_clear_queue (carol);

  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (carol,
        "{\"type\":\"set_presence\",\"presence\":\"busy\",\"status_text\":\"meeting\"}");
    g_autoptr(JsonObject) e = util_wait_presence (alice, "carol");

    natter_assert_str (e, "user.presence", "busy");
    natter_assert_str (e, "user.status_text", "meeting");
  }
  natter_test_client_expect_no_frame_of_type (stranger, "presence");

  /* Room members see it in room_members too; the stranger (not a member)
   * may not list them. */
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice,
        "{\"type\":\"room_members\",\"room\":\"#lobby\"}");
    JsonObject *u = util_find_user (natter_test_get_array (r, "members"), "carol");

    g_assert_nonnull (u);
    natter_assert_str (u, "presence", "busy");
  }

  /* After carol leaves the room, alice no longer gets her presence. */
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (carol,
        "{\"type\":\"room_leave\",\"room\":\"#lobby\"}");
  }
  natter_test_client_sync_ping (alice);
  natter_test_client_clear_queue (alice);
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (carol,
        "{\"type\":\"set_presence\",\"presence\":\"away\"}");
  }
  natter_test_client_expect_no_frame_of_type (alice, "presence");
  {
    g_autoptr(JsonObject) info = natter_test_client_request_ok (alice,
        "{\"type\":\"user_info\",\"username\":\"carol\"}");

    natter_assert_str (info, "user.presence", "offline");
    natter_assert_str (info, "user.status_text", NULL);
  }
}

static void
test_login_logout_pushes (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) alice = natter_test_client_new_user (srv, "alice");
  g_autoptr(NatterTestClient) bob = natter_test_client_new_user (srv, "bob");
  g_autoptr(NatterTestClient) bob2 = NULL;

  util_make_contacts (alice, bob);

  /* Logging out the only connection is going offline. */
  natter_test_client_logout (bob);
  {
    g_autoptr(JsonObject) e = util_wait_presence (alice, "bob");

    natter_assert_str (e, "user.presence", "offline");
    g_assert_false (natter_test_is_null (e, "user.last_seen"));
  }
  /* Logging in is coming online, and is pushed to the contact. */
  natter_test_client_login (bob, "bob", NULL);
  {
    g_autoptr(JsonObject) e = util_wait_presence (alice, "bob");

    natter_assert_str (e, "user.presence", "online");
  }
  /* A second device that changes nothing pushes nothing to others (or at
   * most "online" again). */
  bob2 = natter_test_client_new_login (srv, "bob");
  natter_test_client_sync_ping (alice);
  {
    JsonObject *e;

    while ((e = natter_test_client_take_queued (alice, "presence")) != NULL)
      {
        natter_assert_str (e, "user.presence", "online");
        json_object_unref (e);
      }
  }
}

int
main (int   argc,
      char *argv[])
{
  natter_test_init (&argc, &argv);

  natter_test_add ("/presence/set-presence-to-contact", test_set_presence_to_contact);
  natter_test_add ("/presence/set-presence-errors", test_set_presence_errors);
  natter_test_add ("/presence/most-available", test_most_available);
  natter_test_add ("/presence/room-members-see-presence", test_room_members_see_presence);
  natter_test_add ("/presence/login-logout-pushes", test_login_logout_pushes);

  return g_test_run ();
}
