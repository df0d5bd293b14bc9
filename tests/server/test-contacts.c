/* test-contacts.c: contact requests, accept, decline, remove, crossed
 * requests, the contacts list, user_search and user_info.
 */
#define G_LOG_DOMAIN "natter-test"

#include "server-test-util.h"

static void
assert_contacts (NatterTestClient *c,
                 const char       *contact,   /* or NULL */
                 const char       *incoming,  /* or NULL */
                 const char       *outgoing)  /* or NULL */
{
  g_autoptr(JsonObject) r = natter_test_client_request_ok (c, "{\"type\":\"contacts\"}");
  JsonArray *contacts = natter_test_get_array (r, "contacts");

  if (contact != NULL)
    util_assert_usernames (contacts, contact, NULL);
  else
    util_assert_usernames (contacts, NULL);
  for (guint i = 0; i < json_array_get_length (contacts); i++)
    util_assert_user_object (json_array_get_object_element (contacts, i));
  if (incoming != NULL)
    util_assert_strings (natter_test_get_array (r, "incoming"), incoming, NULL);
  else
    util_assert_strings (natter_test_get_array (r, "incoming"), NULL);
  if (outgoing != NULL)
    util_assert_strings (natter_test_get_array (r, "outgoing"), outgoing, NULL);
  else
    util_assert_strings (natter_test_get_array (r, "outgoing"), NULL);
}

static void
test_request_accept_remove (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) alice = natter_test_client_new_user (srv, "alice");
  g_autoptr(NatterTestClient) alice2 = natter_test_client_new_login (srv, "alice");
  g_autoptr(NatterTestClient) bob = natter_test_client_new_user (srv, "bob");
  g_autoptr(NatterTestClient) bob2 = natter_test_client_new_login (srv, "bob");
  g_autoptr(NatterTestClient) stranger = natter_test_client_new_user (srv, "stranger");

  assert_contacts (alice, NULL, NULL, NULL);

  /* The request: both of bob's connections get it, with alice's user. */
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice,
        "{\"type\":\"contact_request\",\"username\":\"BOB\"}");
    g_autoptr(JsonObject) e1 = natter_test_client_wait_type (bob, "contact_request");
    g_autoptr(JsonObject) e2 = natter_test_client_wait_type (bob2, "contact_request");

    natter_assert_str (e1, "from.username", "alice");
    util_assert_user_object (natter_test_get_object (e1, "from"));
    /* Not a contact yet: bob may not see alice's presence. */
    natter_assert_str (e1, "from.presence", "offline");
    natter_assert_str (e1, "from.last_seen", NULL);
    natter_assert_str (e2, "from.username", "alice");
  }
  assert_contacts (alice, NULL, NULL, "bob");
  assert_contacts (bob, NULL, "alice", NULL);
  natter_test_client_expect_no_frame_of_type (stranger, "contact_request");

  /* Accept: all four connections hear of it. */
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (bob,
        "{\"type\":\"contact_accept\",\"username\":\"alice\"}");
    g_autoptr(JsonObject) ea = natter_test_client_wait_type (alice, "contact");
    g_autoptr(JsonObject) ea2 = natter_test_client_wait_type (alice2, "contact");
    g_autoptr(JsonObject) eb = natter_test_client_wait_type (bob, "contact");
    g_autoptr(JsonObject) eb2 = natter_test_client_wait_type (bob2, "contact");

    natter_assert_str (ea, "change", "added");
    natter_assert_str (ea, "user.username", "bob");
    natter_assert_str (ea2, "user.username", "bob");
    natter_assert_str (eb, "change", "added");
    natter_assert_str (eb, "user.username", "alice");
    natter_assert_str (eb2, "user.username", "alice");
    /* Contacts see each other's presence now. */
    natter_assert_str (ea, "user.presence", "online");
    natter_assert_str (eb, "user.presence", "online");
  }
  assert_contacts (alice, "bob", NULL, NULL);
  assert_contacts (bob, "alice", NULL, NULL);

  /* Remove: both sides. */
  natter_test_client_clear_queue (alice);
  natter_test_client_clear_queue (bob);
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice,
        "{\"type\":\"contact_remove\",\"username\":\"bob\"}");
    g_autoptr(JsonObject) ea = natter_test_client_wait_type (alice, "contact");
    g_autoptr(JsonObject) eb = natter_test_client_wait_type (bob, "contact");
    g_autoptr(JsonObject) eb2 = natter_test_client_wait_type (bob2, "contact");

    natter_assert_str (ea, "change", "removed");
    natter_assert_str (ea, "user.username", "bob");
    natter_assert_str (eb, "change", "removed");
    natter_assert_str (eb, "user.username", "alice");
    natter_assert_str (eb2, "change", "removed");
  }
  assert_contacts (alice, NULL, NULL, NULL);
  assert_contacts (bob, NULL, NULL, NULL);

  /* No longer contacts: presence is hidden again. */
  natter_test_client_sync_ping (alice);
  natter_test_client_clear_queue (alice);
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (bob,
        "{\"type\":\"set_presence\",\"presence\":\"busy\"}");
  }
  natter_test_client_expect_no_frame_of_type (alice, "presence");
  {
    g_autoptr(JsonObject) info = natter_test_client_request_ok (alice,
        "{\"type\":\"user_info\",\"username\":\"bob\"}");

    natter_assert_str (info, "user.presence", "offline");
  }
}

static void
test_crossed_requests (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) carol = natter_test_client_new_user (srv, "carol");
  g_autoptr(NatterTestClient) dave = natter_test_client_new_user (srv, "dave");

  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (carol,
        "{\"type\":\"contact_request\",\"username\":\"dave\"}");
    g_autoptr(JsonObject) e = natter_test_client_wait_type (dave, "contact_request");
  }
  /* dave asks carol back: that accepts. */
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (dave,
        "{\"type\":\"contact_request\",\"username\":\"carol\"}");
    g_autoptr(JsonObject) ec = natter_test_client_wait_type (carol, "contact");
    g_autoptr(JsonObject) ed = natter_test_client_wait_type (dave, "contact");

    natter_assert_str (ec, "change", "added");
    natter_assert_str (ec, "user.username", "dave");
    natter_assert_str (ed, "change", "added");
    natter_assert_str (ed, "user.username", "carol");
  }
  /* carol gets no contact_request for it: it was an accept. */
  natter_test_client_expect_no_frame_of_type (carol, "contact_request");
  assert_contacts (carol, "dave", NULL, NULL);
  assert_contacts (dave, "carol", NULL, NULL);
}

/* Both ask at the same moment: each request is written off the main loop,
 * and both could pass their check against "no contact yet" before either
 * committed. They are handled one after the other instead: the first asks,
 * the second accepts, and the database agrees after a restart. On two
 * nodes (suite server-cluster: carol on one, dave on the other) each node
 * checks against its own copy of the directory; the write decides on the
 * pair's rows, under a lock of the pair, so the second still accepts. */
static void
test_simultaneous_requests (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) carol = natter_test_client_new_user (srv, "carol");
  g_autoptr(NatterTestClient) dave = natter_test_client_new_user (srv, "dave");
  static const char ask_dave[] = "{\"type\":\"contact_request\",\"id\":1,\"username\":\"dave\"}\n";
  static const char ask_carol[] = "{\"type\":\"contact_request\",\"id\":1,\"username\":\"carol\"}\n";

  for (guint round = 0; round < 20; round++)
    {
      natter_test_client_send_raw (carol, ask_dave, strlen (ask_dave));
      natter_test_client_send_raw (dave, ask_carol, strlen (ask_carol));
      {
        g_autoptr(JsonObject) rc = natter_test_client_wait_re (carol, 1);
        g_autoptr(JsonObject) rd = natter_test_client_wait_re (dave, 1);

        natter_assert_ok (rc);
        natter_assert_ok (rd);
      }
      assert_contacts (carol, "dave", NULL, NULL);
      assert_contacts (dave, "carol", NULL, NULL);
      json_object_unref (natter_test_client_request_ok (carol,
          "{\"type\":\"contact_remove\",\"username\":\"dave\"}"));
      assert_contacts (dave, NULL, NULL, NULL);
      natter_test_client_clear_queue (carol);
      natter_test_client_clear_queue (dave);
    }

  natter_test_client_send_raw (carol, ask_dave, strlen (ask_dave));
  natter_test_client_send_raw (dave, ask_carol, strlen (ask_carol));
  json_object_unref (natter_test_client_wait_re (carol, 1));
  json_object_unref (natter_test_client_wait_re (dave, 1));
  g_clear_pointer (&carol, natter_test_client_free);
  g_clear_pointer (&dave, natter_test_client_free);
  natter_test_server_restart (srv);
  carol = natter_test_client_new_login (srv, "carol");
  dave = natter_test_client_new_login (srv, "dave");
  assert_contacts (carol, "dave", NULL, NULL);
  assert_contacts (dave, "carol", NULL, NULL);
}

static void
test_decline (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) eve = natter_test_client_new_user (srv, "eve");
  g_autoptr(NatterTestClient) frank = natter_test_client_new_user (srv, "frank");
  g_autoptr(NatterTestClient) frank2 = natter_test_client_new_login (srv, "frank");

  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (eve,
        "{\"type\":\"contact_request\",\"username\":\"frank\"}");
    g_autoptr(JsonObject) e = natter_test_client_wait_type (frank, "contact_request");
  }
  natter_test_client_sync_ping (frank2);
  natter_test_client_clear_queue (frank2);
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (frank,
        "{\"type\":\"contact_decline\",\"username\":\"eve\"}");
    g_autoptr(JsonObject) e1 = natter_test_client_wait_type (frank, "contact");
    g_autoptr(JsonObject) e2 = natter_test_client_wait_type (frank2, "contact");

    natter_assert_str (e1, "change", "removed");
    natter_assert_str (e1, "user.username", "eve");
    natter_assert_str (e2, "change", "removed");
  }
  /* Only the decliner's own connections are told. */
  natter_test_client_expect_no_frame_of_type (eve, "contact");
  assert_contacts (eve, NULL, NULL, NULL);
  assert_contacts (frank, NULL, NULL, NULL);

  /* eve may ask again. */
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (eve,
        "{\"type\":\"contact_request\",\"username\":\"frank\"}");
    g_autoptr(JsonObject) e = natter_test_client_wait_type (frank, "contact_request");
  }
}

static void
test_contact_edges (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) alice = natter_test_client_new_user (srv, "alice");
  g_autoptr(NatterTestClient) bob = natter_test_client_new_user (srv, "bob");
  g_autoptr(NatterTestClient) carol = natter_test_client_new_user (srv, "carol");

  /* Asking twice while pending: ok, and bob is told once. */
  {
    g_autoptr(JsonObject) r1 = natter_test_client_request_ok (alice,
        "{\"type\":\"contact_request\",\"username\":\"bob\"}");
    g_autoptr(JsonObject) r2 = natter_test_client_request_ok (alice,
        "{\"type\":\"contact_request\",\"username\":\"bob\"}");
    g_autoptr(JsonObject) e = natter_test_client_wait_type (bob, "contact_request");
  }
  natter_test_client_expect_no_frame_of_type (bob, "contact_request");

  /* Withdrawing one's own request (contact_remove): both sides hear of
   * it (bob's list of requests must lose it); the request is gone for
   * both. */
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice,
        "{\"type\":\"contact_remove\",\"username\":\"bob\"}");
    g_autoptr(JsonObject) e = natter_test_client_wait_type (alice, "contact");
    g_autoptr(JsonObject) eb = natter_test_client_wait_type (bob, "contact");

    natter_assert_str (e, "change", "removed");
    natter_assert_str (e, "user.username", "bob");
    natter_assert_str (eb, "change", "removed");
    natter_assert_str (eb, "user.username", "alice");
  }
  {
    g_autoptr(JsonObject) c = natter_test_client_request_ok (bob, "{\"type\":\"contacts\"}");

    util_assert_strings (natter_test_get_array (c, "incoming"), NULL);
  }

  /* Already contacts: conflict. */
  util_make_contacts (alice, carol);
  {
    g_autoptr(JsonObject) e1 = natter_test_client_request_error (alice, "conflict",
        "{\"type\":\"contact_request\",\"username\":\"carol\"}");
    g_autoptr(JsonObject) e2 = natter_test_client_request_error (carol, "conflict",
        "{\"type\":\"contact_request\",\"username\":\"alice\"}");
  }
  natter_test_client_expect_no_frame_of_type (carol, "contact_request");
}

static void
test_contact_errors (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) alice = natter_test_client_new_user (srv, "alice");
  g_autoptr(NatterTestClient) bob = natter_test_client_new_user (srv, "bob");

  {
    g_autoptr(JsonObject) e1 = natter_test_client_request_error (alice, "not_found",
        "{\"type\":\"contact_request\",\"username\":\"nobody\"}");
    g_autoptr(JsonObject) e2 = natter_test_client_request_error (alice, "invalid_argument",
        "{\"type\":\"contact_request\"}");
    g_autoptr(JsonObject) e3 = natter_test_client_request_error (alice, "invalid_argument",
        "{\"type\":\"contact_request\",\"username\":7}");
    /* Nothing to accept or decline. */
    g_autoptr(JsonObject) e4 = natter_test_client_request_error (alice, "not_found",
        "{\"type\":\"contact_accept\",\"username\":\"bob\"}");
    g_autoptr(JsonObject) e5 = natter_test_client_request_error (alice, "not_found",
        "{\"type\":\"contact_decline\",\"username\":\"bob\"}");
    g_autoptr(JsonObject) e6 = natter_test_client_request_error (alice, "not_found",
        "{\"type\":\"contact_remove\",\"username\":\"nobody\"}");
    g_autoptr(JsonObject) e7 = natter_test_client_request_error (alice, "invalid_argument",
        "{\"type\":\"contact_accept\"}");
    /* The project's choices: oneself is invalid_argument, a malformed
     * name invalid_argument (not invalid_username: this is no
     * registration). */
    g_autoptr(JsonObject) e8 = natter_test_client_request_error (alice, "invalid_argument",
        "{\"type\":\"contact_request\",\"username\":\"alice\"}");
    g_autoptr(JsonObject) e9 = natter_test_client_request_error (alice, "invalid_argument",
        "{\"type\":\"contact_request\",\"username\":\"no such name!\"}");
  }
  /* None of that reached bob. */
  natter_test_client_expect_no_frame (bob);
}

static void
test_user_search (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) alice = natter_test_client_new_user (srv, "alice");
  g_autoptr(NatterTestClient) bob = natter_test_client_new_user (srv, "bob");
  g_autoptr(NatterTestClient) bobby = natter_test_client_new (srv);
  g_autoptr(NatterTestClient) zed = natter_test_client_new (srv);

  {
    g_autoptr(JsonObject) r1 = natter_test_client_request_ok (bobby,
        "{\"type\":\"register\",\"username\":\"bobby\",\"password\":\"" NATTER_TEST_PASSWORD "\","
        "\"display_name\":\"Robert\"}");
    g_autoptr(JsonObject) r2 = natter_test_client_request_ok (zed,
        "{\"type\":\"register\",\"username\":\"zed\",\"password\":\"" NATTER_TEST_PASSWORD "\","
        "\"display_name\":\"Bonnie\"}");
  }

  /* Prefix of a username or of a display name. */
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice,
        "{\"type\":\"user_search\",\"query\":\"bo\",\"limit\":20}");
    JsonArray *users = natter_test_get_array (r, "users");

    util_assert_usernames (users, "bob", "bobby", "zed", NULL);
    for (guint i = 0; i < json_array_get_length (users); i++)
      util_assert_user_object (json_array_get_object_element (users, i));
  }
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice,
        "{\"type\":\"user_search\",\"query\":\"rob\"}");

    util_assert_usernames (natter_test_get_array (r, "users"), "bobby", NULL);
  }
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice,
        "{\"type\":\"user_search\",\"query\":\"BOBB\"}");

    util_assert_usernames (natter_test_get_array (r, "users"), "bobby", NULL);
  }
  /* Not a prefix: nothing. */
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice,
        "{\"type\":\"user_search\",\"query\":\"obb\"}");

    util_assert_usernames (natter_test_get_array (r, "users"), NULL);
  }
  /* limit */
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice,
        "{\"type\":\"user_search\",\"query\":\"bo\",\"limit\":2}");

    g_assert_cmpuint (json_array_get_length (natter_test_get_array (r, "users")), ==, 2);
  }
  /* A limit over the cap is capped, not refused. */
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice,
        "{\"type\":\"user_search\",\"query\":\"bo\",\"limit\":100000}");

    g_assert_cmpuint (json_array_get_length (natter_test_get_array (r, "users")), ==, 3);
  }
  /* Search shows presence only as the asker may see it. */
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice,
        "{\"type\":\"user_search\",\"query\":\"bob\"}");
    JsonObject *u = util_find_user (natter_test_get_array (r, "users"), "bob");

    g_assert_nonnull (u);
    natter_assert_str (u, "presence", "offline");
    natter_assert_str (u, "last_seen", NULL);
  }
  {
    g_autoptr(JsonObject) e1 = natter_test_client_request_error (alice, "invalid_argument",
        "{\"type\":\"user_search\"}");
    g_autoptr(JsonObject) e2 = natter_test_client_request_error (alice, "invalid_argument",
        "{\"type\":\"user_search\",\"query\":\"bo\",\"limit\":0}");
    g_autoptr(JsonObject) e3 = natter_test_client_request_error (alice, "invalid_argument",
        "{\"type\":\"user_search\",\"query\":[\"bo\"]}");
  }
}

static void
test_user_search_cap (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (UTIL_RELAXED_LIMITS, NULL);
  g_autoptr(NatterTestClient) alice = natter_test_client_new_user (srv, "alice");
  NatterTestClient *users[55];

  /* 55 registrations at once (each hashes a password on the pool). */
  for (guint i = 0; i < G_N_ELEMENTS (users); i++)
    {
      users[i] = natter_test_client_new (srv);
      natter_test_client_sendf (users[i], "{\"type\":\"register\",\"id\":1,\"username\":\"many%02u\","
                                "\"password\":\"" NATTER_TEST_PASSWORD "\"}", i);
    }
  for (guint i = 0; i < G_N_ELEMENTS (users); i++)
    {
      g_autoptr(JsonObject) r = natter_test_client_wait_re (users[i], 1);

      natter_assert_ok (r);
    }

  /* Default 20, cap 50 (the project's choice). */
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice,
        "{\"type\":\"user_search\",\"query\":\"many\"}");

    g_assert_cmpuint (json_array_get_length (natter_test_get_array (r, "users")), ==, 20);
  }
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice,
        "{\"type\":\"user_search\",\"query\":\"many\",\"limit\":1000}");

    g_assert_cmpuint (json_array_get_length (natter_test_get_array (r, "users")), ==, 50);
  }
  for (guint i = 0; i < G_N_ELEMENTS (users); i++)
    natter_test_client_free (users[i]);
}

static void
test_user_info (void)
{
  g_autoptr(NatterTestServer) srv = natter_test_server_start (NULL, NULL);
  g_autoptr(NatterTestClient) alice = natter_test_client_new_user (srv, "alice");
  g_autoptr(NatterTestClient) b = natter_test_client_new (srv);

  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (b,
        "{\"type\":\"register\",\"username\":\"bob\",\"password\":\"" NATTER_TEST_PASSWORD "\","
        "\"display_name\":\"Bob \xc3\x89tienne\"}");
  }
  {
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice,
        "{\"type\":\"user_info\",\"username\":\"Bob\"}");

    util_assert_user_object (natter_test_get_object (r, "user"));
    natter_assert_str (r, "user.username", "bob");
    natter_assert_str (r, "user.display_name", "Bob \xc3\x89tienne");
  }
  /* One's own info shows one's own presence. */
  {
    g_autoptr(JsonObject) s = natter_test_client_request_ok (alice,
        "{\"type\":\"set_presence\",\"presence\":\"busy\",\"status_text\":\"deep work\"}");
    g_autoptr(JsonObject) r = natter_test_client_request_ok (alice,
        "{\"type\":\"user_info\",\"username\":\"alice\"}");

    natter_assert_str (r, "user.presence", "busy");
    natter_assert_str (r, "user.status_text", "deep work");
  }
  {
    g_autoptr(JsonObject) e1 = natter_test_client_request_error (alice, "not_found",
        "{\"type\":\"user_info\",\"username\":\"nobody\"}");
    g_autoptr(JsonObject) e2 = natter_test_client_request_error (alice, "invalid_argument",
        "{\"type\":\"user_info\"}");
  }
}

int
main (int   argc,
      char *argv[])
{
  natter_test_init (&argc, &argv);

  natter_test_add ("/contacts/request-accept-remove", test_request_accept_remove);
  natter_test_add ("/contacts/crossed-requests", test_crossed_requests);
  natter_test_add ("/contacts/simultaneous-requests", test_simultaneous_requests);
  natter_test_add ("/contacts/decline", test_decline);
  natter_test_add ("/contacts/edges", test_contact_edges);
  natter_test_add ("/contacts/errors", test_contact_errors);
  natter_test_add ("/contacts/user-search", test_user_search);
  natter_test_add ("/contacts/user-search-cap", test_user_search_cap);
  natter_test_add ("/contacts/user-info", test_user_info);

  return g_test_run ();
}
