/* test-directory-nodes.c: two natterd nodes on one PostgreSQL database,
 * started together, each learning what the other changed in the
 * directory (natterd-directory-refresh.h).
 *
 * A request that looks up a user, room or conversation its node does not
 * know yet waits for one refresh and is handled again: these tests make
 * something on one node and use it on the other at once. A change seen by
 * the clients of the other node without asking comes with its periodic
 * refresh, made short here ([cluster] directory_refresh_ms); the tests wait
 * for the event, never for time.
 *
 * Only meaningful on PostgreSQL (in the server-pg suite only; skipped on
 * SQLite, which one natterd owns).
 */
#define G_LOG_DOMAIN "natter-test"

#include "server-test-util.h"

#define PG_ONLY "two natterd share a database only on PostgreSQL"

/* The default period (30 s), far longer than these tests: what the nodes
 * learn, they learn because a request waited for it. */
#define NO_TIMER_CONFIG  UTIL_RELAXED_LIMITS
#define SHORT_CONFIG     UTIL_RELAXED_LIMITS "[cluster]\ndirectory_refresh_ms=100\n"

typedef struct {
  NatterTestServer *a;
  NatterTestServer *b;
} Nodes;

static void
nodes_start (Nodes      *nodes,
             const char *config)
{
  const char *args[] = { "--database", NULL, NULL };

  nodes->a = natter_test_server_start (config, NULL);
  args[1] = natter_test_server_get_database (nodes->a);
  g_assert_nonnull (args[1]);
  nodes->b = natter_test_server_start (config, args);
}

static void
nodes_stop (Nodes *nodes)
{
  natter_test_server_assert_alive (nodes->a);
  natter_test_server_assert_alive (nodes->b);
  g_clear_pointer (&nodes->b, natter_test_server_free);
  g_clear_pointer (&nodes->a, natter_test_server_free);
}

/* Registered on A, logged in on B straight after: B waits for its refresh
 * rather than answering auth_failed. A name nobody has is still refused
 * after it; a name taken on A cannot be registered on B. */
static void
test_register_then_login (void)
{
  Nodes nodes;

  nodes_start (&nodes, NO_TIMER_CONFIG);
  {
    g_autoptr(NatterTestClient) alice_a = natter_test_client_new_user (nodes.a, "alice");
    g_autoptr(NatterTestClient) alice_b = natter_test_client_new_login (nodes.b, "alice");
    g_autoptr(NatterTestClient) other = natter_test_client_new (nodes.b);
    g_autoptr(JsonObject) info = natter_test_client_request_ok (alice_b,
        "{\"type\":\"user_info\",\"username\":\"alice\"}");
    g_autoptr(JsonObject) nobody = natter_test_client_request_error (other, "auth_failed",
        "{\"type\":\"login\",\"username\":\"nobody\",\"password\":\"%s\"}", NATTER_TEST_PASSWORD);
    g_autoptr(JsonObject) taken = natter_test_client_request_error (other, "username_taken",
        "{\"type\":\"register\",\"username\":\"alice\",\"password\":\"%s\"}", NATTER_TEST_PASSWORD);

    natter_assert_str (info, "user.username", "alice");
  }
  nodes_stop (&nodes);
}

/* A room made on A is joined from B at once; B's member list holds both;
 * a room nobody made is still not_found. */
static void
test_room_across (void)
{
  Nodes nodes;

  nodes_start (&nodes, NO_TIMER_CONFIG);
  {
    g_autoptr(NatterTestClient) alice = natter_test_client_new_user (nodes.a, "alice");
    g_autoptr(NatterTestClient) bob = natter_test_client_new_user (nodes.b, "bob");
    g_autoptr(JsonObject) joined = NULL;
    g_autoptr(JsonObject) members = NULL;
    g_autoptr(JsonObject) missing = NULL;

    util_room_create (alice, "#across");
    joined = natter_test_client_request_ok (bob, "{\"type\":\"room_join\",\"room\":\"#across\"}");
    natter_assert_str (joined, "room.owner", "alice");
    members = natter_test_client_request_ok (bob, "{\"type\":\"room_members\",\"room\":\"#across\"}");
    util_assert_usernames (natter_test_get_array (members, "members"), "alice", "bob", NULL);
    missing = natter_test_client_request_error (bob, "not_found",
        "{\"type\":\"room_join\",\"room\":\"#nowhere\"}");
  }
  nodes_stop (&nodes);
}

/* A user on B asks a user registered on A; A accepts (it learns of the
 * request when the accept looks for its asker); B's client hears that it
 * is accepted once B refreshes, and B's list says so. */
static void
test_contacts_across (void)
{
  Nodes nodes;

  nodes_start (&nodes, SHORT_CONFIG);
  {
    g_autoptr(NatterTestClient) carol = natter_test_client_new_user (nodes.a, "carol");
    g_autoptr(NatterTestClient) dave = natter_test_client_new_user (nodes.b, "dave");
    g_autoptr(JsonObject) asked = natter_test_client_request_ok (dave,
        "{\"type\":\"contact_request\",\"username\":\"carol\"}");
    g_autoptr(JsonObject) accepted = natter_test_client_request_ok (carol,
        "{\"type\":\"contact_accept\",\"username\":\"dave\"}");
    g_autoptr(JsonObject) event = natter_test_client_wait_type (dave, "contact");
    g_autoptr(JsonObject) list = NULL;

    natter_assert_str (event, "change", "added");
    natter_assert_str (event, "user.username", "carol");
    list = natter_test_client_request_ok (dave, "{\"type\":\"contacts\"}");
    util_assert_usernames (natter_test_get_array (list, "contacts"), "carol", NULL);
    g_assert_cmpuint (json_array_get_length (natter_test_get_array (list, "outgoing")), ==, 0);
  }
  nodes_stop (&nodes);
}

/* A block made on A (feature accounts) is B's too once B refreshes: a
 * direct message sent through B is then stored hidden from the blocker.
 * The refresh is seen by a contact request made on A after the block. */
static void
test_block_across (void)
{
  Nodes nodes;

  nodes_start (&nodes, SHORT_CONFIG);
  {
    g_autoptr(NatterTestClient) bob = natter_test_client_new_user (nodes.b, "bob");
    g_autoptr(NatterTestClient) alice = util_feature_user (nodes.a, "alice", "accounts");
    g_autoptr(NatterTestClient) carol = natter_test_client_new_user (nodes.a, "carol");
    g_autoptr(NatterTestClient) dave = natter_test_client_new_user (nodes.b, "dave");
    g_autoptr(JsonObject) blocked = natter_test_client_request_ok (alice,
        "{\"type\":\"block\",\"username\":\"bob\"}");
    g_autoptr(JsonObject) asked = natter_test_client_request_ok (carol,
        "{\"type\":\"contact_request\",\"username\":\"dave\"}");
    g_autoptr(JsonObject) event = natter_test_client_wait_type (dave, "contact_request");
    g_autoptr(JsonObject) history = NULL;
    g_autoptr(JsonObject) own = NULL;

    util_send (bob, "@alice", "through b", "b1");
    history = natter_test_client_request_ok (alice, "{\"type\":\"history\",\"conversation\":\"@bob\"}");
    g_assert_cmpuint (json_array_get_length (natter_test_get_array (history, "messages")), ==, 0);
    own = natter_test_client_request_ok (bob, "{\"type\":\"history\",\"conversation\":\"@alice\"}");
    g_assert_cmpuint (json_array_get_length (natter_test_get_array (own, "messages")), ==, 1);
  }
  nodes_stop (&nodes);
}

/* A member of a room on B hears of a join made on A when B refreshes, with
 * the event a join on B sends; its own join, made on B, is not told again. */
static void
test_member_joined_elsewhere (void)
{
  Nodes nodes;

  nodes_start (&nodes, SHORT_CONFIG);
  {
    g_autoptr(NatterTestClient) alice = natter_test_client_new_user (nodes.a, "alice");
    g_autoptr(NatterTestClient) erin = natter_test_client_new_user (nodes.b, "erin");
    g_autoptr(NatterTestClient) frank = natter_test_client_new_user (nodes.a, "frank");
    g_autoptr(JsonObject) event = NULL;
    g_autoptr(JsonObject) members = NULL;

    util_room_create (alice, "#meet");
    util_room_join (erin, "#meet");
    util_room_join (frank, "#meet");

    event = natter_test_client_wait_type (erin, "room_member");
    natter_assert_str (event, "room", "#meet");
    natter_assert_str (event, "change", "joined");
    natter_assert_str (event, "user.username", "frank");
    members = natter_test_client_request_ok (erin, "{\"type\":\"room_members\",\"room\":\"#meet\"}");
    util_assert_usernames (natter_test_get_array (members, "members"), "alice", "erin", "frank", NULL);
  }
  nodes_stop (&nodes);
}

static guint
history_length (NatterTestClient *c,
                const char       *peer)
{
  g_autoptr(JsonObject) h = natter_test_client_request_ok (c,
      "{\"type\":\"history\",\"conversation\":\"%s\"}", peer);

  return json_array_get_length (natter_test_get_array (h, "messages"));
}

/* A direct message to a user registered on the other node, both ways:
 * each node finds the user, then the conversation the other made. */
static void
test_direct_both_ways (void)
{
  Nodes nodes;

  nodes_start (&nodes, NO_TIMER_CONFIG);
  {
    g_autoptr(NatterTestClient) gina = natter_test_client_new_user (nodes.a, "gina");
    g_autoptr(NatterTestClient) hank = natter_test_client_new_user (nodes.b, "hank");
    g_autoptr(GHashTable) synced = NULL;

    util_send (gina, "@hank", "hello from a", "g1");
    g_assert_cmpuint (history_length (hank, "@gina"), ==, 1);
    util_send (hank, "@gina", "hello from b", "h1");
    g_assert_cmpuint (history_length (gina, "@hank"), ==, 2);
    synced = util_sync_all (hank);
    g_assert_cmpuint (g_hash_table_size (synced), ==, 2);
  }
  nodes_stop (&nodes);
}

int
main (int   argc,
      char *argv[])
{
  natter_test_init (&argc, &argv);
  natter_test_add_pg_only ("/directory-nodes/register-then-login", test_register_then_login, PG_ONLY);
  natter_test_add_pg_only ("/directory-nodes/room-across", test_room_across, PG_ONLY);
  natter_test_add_pg_only ("/directory-nodes/contacts-across", test_contacts_across, PG_ONLY);
  /* Nodes of a cluster (suite server-cluster) withhold the feature. */
  if (natter_test_cluster_size () > 1)
    natter_test_add_single_node ("/directory-nodes/block-across", test_block_across,
                                 "a server of several nodes does not offer accounts yet (docs/cluster.md)");
  else
    natter_test_add_pg_only ("/directory-nodes/block-across", test_block_across, PG_ONLY);
  natter_test_add_pg_only ("/directory-nodes/member-joined-elsewhere", test_member_joined_elsewhere, PG_ONLY);
  natter_test_add_pg_only ("/directory-nodes/direct-both-ways", test_direct_both_ways, PG_ONLY);
  return g_test_run ();
}
